//! TCP: `TcpListener` and `TcpStream`.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{Context, Poll};
use std::time::Duration;

use super::addr::{self, ToSocketAddrs};
use super::sockopt;
use crate::io::stream::Stream;
use crate::reactor::{Direction, Registration};

/// The listen backlog `bind` asks for (tokio's).
const BACKLOG: libc::c_int = 1024;

/// A TCP socket listening for connections.
///
/// ```
/// use eddy::net::{TcpListener, TcpStream};
///
/// eddy::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0")?;
///     let addr = listener.local_addr()?;
///     let client = eddy::spawn(async move { TcpStream::connect(addr).await });
///     let (server_side, peer) = listener.accept().await?;
///     let client_side = client.await??;
///     assert_eq!(peer, client_side.local_addr()?);
///     # drop(server_side);
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct TcpListener {
    io: mio::net::TcpListener,
    reg: Registration,
}

impl TcpListener {
    /// Binds to `addr` and listens (with `SO_REUSEADDR`, and a backlog of
    /// 1024 as tokio's, capped by the system's `somaxconn`). Not async: a
    /// literal address never blocks; a host name is resolved on this thread
    /// and may block. Each resolved address is tried in turn. Needs a
    /// runtime (it registers with the current one).
    ///
    /// # Errors
    ///
    /// A name that does not resolve, or the OS's error for the last
    /// address tried (`AddrInUse`, `AddrNotAvailable`, `PermissionDenied`...).
    ///
    /// # Panics
    ///
    /// Outside a runtime, before any socket is made.
    ///
    /// # Examples
    ///
    /// ```
    /// eddy::block_on(async {
    ///     // Port 0: the OS picks a free one.
    ///     let listener = eddy::net::TcpListener::bind("127.0.0.1:0")?;
    ///     println!("listening on {}", listener.local_addr()?);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        let reactor = crate::reactor::current_reactor();
        let addrs = addr::resolve_now(&addr)?;
        let mut io = addr::each(addrs, |addr| {
            let io = mio::net::TcpListener::bind(addr)?;
            // mio listens with std's backlog of 128: a burst of connects
            // beyond it is dropped (SYN retries of 1 s, then 3 s). Listening
            // again only raises the queue's length.
            // SAFETY: a plain syscall on the socket `io` owns.
            if unsafe { libc::listen(io.as_raw_fd(), BACKLOG) } != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(io)
        })?;
        let reg = Registration::new_in(reactor, &mut io, mio::Interest::READABLE)?;
        Ok(TcpListener { io, reg })
    }

    /// Takes a std listener over (making it non-blocking). Needs a runtime.
    ///
    /// # Errors
    ///
    /// The OS's error if it cannot be made non-blocking or registered.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    #[track_caller]
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        TcpListener::from_mio(mio::net::TcpListener::from_std(listener))
    }

    #[track_caller]
    fn from_mio(io: mio::net::TcpListener) -> io::Result<TcpListener> {
        TcpListener::from_mio_in(crate::reactor::current_reactor(), io)
    }

    /// Registers a listening socket with `reactor` (`TcpSocket::listen`).
    pub(crate) fn from_mio_in(
        reactor: std::rc::Rc<crate::reactor::Reactor>,
        mut io: mio::net::TcpListener,
    ) -> io::Result<TcpListener> {
        let reg = Registration::new_in(reactor, &mut io, mio::Interest::READABLE)?;
        Ok(TcpListener { io, reg })
    }

    /// Waits for a connection and returns it with the peer's address.
    ///
    /// Several tasks may accept on one listener at once. On a fresh
    /// listener the first try is at once.
    ///
    /// # Errors
    ///
    /// What the OS says. After `EMFILE` (no descriptor left) the queued
    /// connection stays queued: a server should back off before it retries
    /// (see the [module docs](super)). An error if the runtime is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// use eddy::net::{TcpListener, TcpStream};
    ///
    /// eddy::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let addr = listener.local_addr()?;
    ///     eddy::spawn(async move { TcpStream::connect(addr).await?.write_all(b"hi").await });
    ///     // A server accepts in a loop and spawns a task per connection.
    ///     let (stream, peer) = listener.accept().await?;
    ///     let mut buf = [0; 2];
    ///     stream.read_exact(&mut buf).await?;
    ///     assert_eq!(&buf, b"hi");
    ///     assert!(peer.ip().is_loopback());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, peer) = self.reg.io(Direction::Read, || self.io.accept()).await?;
        // The new stream joins the listener's runtime, whichever polls this.
        Ok((
            TcpStream {
                inner: Stream::new_in(self.reg.reactor(), stream)?,
            },
            peer,
        ))
    }

    /// The polling form of [`accept`](TcpListener::accept).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        match self.reg.poll_io(Direction::Read, cx, || self.io.accept()) {
            Poll::Ready(Ok((stream, peer))) => Poll::Ready(
                Stream::new_in(self.reg.reactor(), stream).map(|inner| (TcpStream { inner }, peer)),
            ),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Waits until a connection is queued: until epoll reports the
    /// listener readable (on a fresh listener, its first event says whether
    /// one is), or an `accept` showed it was. It may complete spuriously
    /// (another task took the connection first). Cancel-safe.
    ///
    /// # Errors
    ///
    /// Fails if the listener's runtime is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// use eddy::net::{TcpListener, TcpStream};
    ///
    /// eddy::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let client = eddy::spawn(TcpStream::connect(listener.local_addr()?));
    ///     listener.readable().await?; // a connection is waiting
    ///     let (_stream, _) = listener.accept().await?;
    ///     client.await??;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        self.reg.wait(Direction::Read).await
    }

    /// The address this listener is bound to.
    ///
    /// # Errors
    ///
    /// What the OS says.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.local_addr()
    }
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        let _ = self.reg.deregister(&mut self.io);
    }
}

impl AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl AsFd for TcpListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}

/// A TCP connection.
///
/// Read and write it with the inherent futures (`read`, `write`,
/// `write_all`, `read_exact`) or through `futures_io`'s `AsyncRead` and
/// `AsyncWrite`, implemented for `TcpStream` and `&TcpStream`: a reader and
/// a writer may use one stream at once.
///
/// ```
/// use eddy::net::{TcpListener, TcpStream};
///
/// eddy::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0")?;
///     let addr = listener.local_addr()?;
///     eddy::spawn(async move {
///         let (stream, _) = listener.accept().await?;
///         let mut buf = [0; 5];
///         stream.read_exact(&mut buf).await?;
///         stream.write_all(&buf).await // echo
///     });
///     let stream = TcpStream::connect(addr).await?;
///     stream.write_all(b"hello").await?;
///     let mut buf = [0; 5];
///     stream.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"hello");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct TcpStream {
    inner: Stream<mio::net::TcpStream>,
}

impl TcpStream {
    /// Connects to `addr`: a `SocketAddr`, `"host:port"`, `(host, port)`, a
    /// slice of addresses (what std's `ToSocketAddrs` takes). A host name is
    /// resolved on the blocking pool, never on the loop's thread, and each
    /// address is tried in turn. Needs a runtime.
    ///
    /// # Errors
    ///
    /// A name that does not resolve, or the last address's error if none
    /// works (`ConnectionRefused` for a closed port).
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use eddy::net::{TcpListener, TcpStream};
    ///
    /// eddy::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let port = listener.local_addr()?.port();
    ///     // A literal address, or a host name (looked up off the loop's thread).
    ///     let stream = TcpStream::connect(("localhost", port)).await?;
    ///     assert_eq!(stream.peer_addr()?.port(), port);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        let mut last = None;
        for addr in addr::resolve(&addr).await? {
            match TcpStream::connect_one(addr).await {
                Ok(stream) => return Ok(stream),
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("resolve gives at least one address"))
    }

    async fn connect_one(addr: SocketAddr) -> io::Result<TcpStream> {
        TcpStream::connected(Stream::new(mio::net::TcpStream::connect(addr)?)?).await
    }

    /// Finishes a non-blocking connect (also `TcpSocket::connect`'s): wait
    /// until writable, ask `SO_ERROR`.
    pub(crate) async fn connected(inner: Stream<mio::net::TcpStream>) -> io::Result<TcpStream> {
        loop {
            inner.reg.clear_ready(Direction::Write);
            inner.reg.wait(Direction::Write).await?;
            if let Some(e) = inner.io.take_error()? {
                return Err(e);
            }
            match inner.io.peer_addr() {
                Ok(_) => return Ok(TcpStream { inner }),
                // Not connected yet: the wake-up was early.
                Err(e) if e.kind() == io::ErrorKind::NotConnected => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Takes a std stream over (making it non-blocking). Needs a runtime.
    ///
    /// # Errors
    ///
    /// The OS's error if it cannot be made non-blocking or registered.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    #[track_caller]
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::from_mio(mio::net::TcpStream::from_std(stream))
    }

    #[track_caller]
    fn from_mio(stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            inner: Stream::new(stream)?,
        })
    }

    /// The remote address.
    ///
    /// # Errors
    ///
    /// `NotConnected` once the connection is gone (after a reset).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.io.peer_addr()
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// What the OS says.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.io.local_addr()
    }

    /// Sets `TCP_NODELAY` (no Nagle delay for small writes).
    ///
    /// # Errors
    ///
    /// What the OS says.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.io.set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Errors
    ///
    /// What the OS says.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.io.nodelay()
    }

    /// A read into spare capacity, without zeroing it first (`hyper` reads
    /// into its own buffer's uninitialised tail this way), waiting in the
    /// caller's own `slot` (freed with `release_read`).
    #[cfg(feature = "hyper")]
    pub(crate) fn poll_read_uninit(
        &self,
        slot: &mut crate::reactor::Slot,
        cx: &mut Context<'_>,
        buf: &mut [std::mem::MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        self.inner.poll_read_uninit(slot, cx, buf)
    }

    #[cfg(feature = "hyper")]
    pub(crate) fn release_read(&self, slot: &mut crate::reactor::Slot) {
        self.inner.release_read(slot);
    }

    /// Sets `SO_LINGER`, what closing the socket does with data not yet
    /// sent. `None` (the default): the close returns at once and the
    /// kernel sends the data in the background. `Some(d)`: the kernel waits
    /// up to `d` for it to be sent (eddy's drop is still non-blocking, so
    /// the wait happens out of sight) and then resets the connection.
    /// `Some(Duration::ZERO)`: the close resets the connection at once
    /// (RST instead of FIN), dropping unsent data. The kernel counts whole
    /// seconds: a fraction is dropped, as tokio does (so 500 ms means 0,
    /// a reset); a duration beyond `i32::MAX` seconds is capped there.
    ///
    /// # Errors
    ///
    /// What the OS says.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use eddy::net::{TcpListener, TcpStream};
    ///
    /// eddy::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let stream = TcpStream::connect(listener.local_addr()?).await?;
    ///     assert_eq!(stream.linger()?, None);
    ///     stream.set_linger(Some(Duration::ZERO))?; // reset on close
    ///     assert_eq!(stream.linger()?, Some(Duration::ZERO));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        sockopt::set_linger(self.inner.io.as_fd(), linger)
    }

    /// The `SO_LINGER` setting, as [`set_linger`](TcpStream::set_linger)
    /// takes it.
    ///
    /// # Errors
    ///
    /// What the OS says.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        sockopt::linger(self.inner.io.as_fd())
    }

    /// Sets `IP_TTL`, the time-to-live of the packets sent (1 to 255;
    /// IPv4 sockets).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for 0 or a value above 255 (std would take
    /// `u32::MAX` as "the default"; eddy refuses it); otherwise what the
    /// OS says.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        sockopt::check_ttl(ttl, 1)?;
        self.inner.io.set_ttl(ttl)
    }

    /// The `IP_TTL` of the packets sent.
    ///
    /// # Errors
    ///
    /// What the OS says.
    pub fn ttl(&self) -> io::Result<u32> {
        self.inner.io.ttl()
    }

    /// Reads what has come without taking it: the next read gets the same
    /// bytes again. Waits until there is something (`Ok(0)` at end of
    /// stream, or for an empty `buf`). Cancel-safe.
    ///
    /// # Errors
    ///
    /// What the OS says (`ConnectionReset`...); an error if the runtime is
    /// gone.
    ///
    /// # Examples
    ///
    /// ```
    /// use eddy::net::{TcpListener, TcpStream};
    ///
    /// eddy::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     client.write_all(b"hello").await?;
    ///     let mut buf = [0; 5];
    ///     let n = server.peek(&mut buf).await?;
    ///     assert_eq!(&buf[..n], &b"hello"[..n]);
    ///     server.read_exact(&mut buf).await?; // the same bytes
    ///     assert_eq!(&buf, b"hello");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let io = &self.inner.io;
        self.inner.reg.io(Direction::Read, || io.peek(buf)).await
    }
}

super::stream_common!(
    TcpStream,
    " # let listener = eddy::net::TcpListener::bind(\"127.0.0.1:0\")?;
 # let a = eddy::net::TcpStream::connect(listener.local_addr()?).await?;
 # let (b, _) = listener.accept().await?;"
);

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.io.fmt(f)
    }
}
