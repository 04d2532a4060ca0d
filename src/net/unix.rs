//! Unix-domain stream sockets: `UnixListener` and `UnixStream`.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::io::stream::Stream;
use crate::reactor::{Direction, Reactor, Registration, current_reactor};

/// A Unix-domain socket listening for connections.
///
/// ```
/// use eddy::net::{UnixListener, UnixStream};
///
/// eddy::block_on(async {
///     let path = std::env::temp_dir().join(format!("eddy-doc-{}.sock", std::process::id()));
///     let listener = UnixListener::bind(&path)?;
///     let client = eddy::spawn({
///         let path = path.clone();
///         async move { UnixStream::connect(path).await?.write_all(b"hi").await }
///     });
///     let (stream, _) = listener.accept().await?;
///     let mut buf = [0; 2];
///     stream.read_exact(&mut buf).await?;
///     client.await??;
///     std::fs::remove_file(&path)?;
///     assert_eq!(&buf, b"hi");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UnixListener {
    io: mio::net::UnixListener,
    reg: Registration,
}

impl UnixListener {
    /// Binds to the socket file at `path` (which must not exist) and
    /// listens. On Linux, a `path` that starts with a NUL byte names a
    /// socket in the abstract namespace (no file; the name is the bytes
    /// after the NUL), as tokio. Needs a runtime.
    ///
    /// # Errors
    ///
    /// What the OS says: `AddrInUse` if the file (or abstract name)
    /// exists, `NotFound` for a missing directory, `InvalidInput` for a
    /// path too long for a socket address (or with a NUL byte inside).
    ///
    /// # Panics
    ///
    /// Outside a runtime (before any socket file is made).
    ///
    /// # Examples
    ///
    /// ```
    /// eddy::block_on(async {
    ///     let path = std::env::temp_dir().join(format!("eddy-bind-{}.sock", std::process::id()));
    ///     let listener = eddy::net::UnixListener::bind(&path)?;
    ///     assert_eq!(listener.local_addr()?.as_pathname(), Some(path.as_path()));
    ///     drop(listener);
    ///     std::fs::remove_file(&path) // the socket file stays until removed
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        // Find the runtime first: outside one, panic before the socket file exists.
        let reactor = current_reactor();
        UnixListener::bind_in(reactor, &socket_addr(path.as_ref())?)
    }

    /// Binds to `addr` and listens: a path, or (Linux) an abstract name
    /// made with `SocketAddrExt::from_abstract_name`. Needs a runtime.
    ///
    /// # Errors
    ///
    /// As [`bind`](UnixListener::bind).
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(target_os = "linux")] {
    /// use std::os::linux::net::SocketAddrExt;
    /// use std::os::unix::net::SocketAddr;
    /// use eddy::net::{UnixListener, UnixStream};
    ///
    /// eddy::block_on(async {
    ///     let name = format!("eddy-doc-{}", std::process::id());
    ///     let addr = SocketAddr::from_abstract_name(name.as_bytes())?;
    ///     let listener = UnixListener::bind_addr(&addr)?;
    ///     let client = UnixStream::connect_addr(&addr).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     client.write_all(b"hi").await?;
    ///     let mut buf = [0; 2];
    ///     server.read_exact(&mut buf).await?;
    ///     assert_eq!(&buf, b"hi");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn bind_addr(addr: &SocketAddr) -> io::Result<UnixListener> {
        UnixListener::bind_in(current_reactor(), addr)
    }

    fn bind_in(reactor: Rc<Reactor>, addr: &SocketAddr) -> io::Result<UnixListener> {
        let mut io = mio::net::UnixListener::bind_addr(addr)?;
        let reg = Registration::new_in(reactor, &mut io, mio::Interest::READABLE)?;
        Ok(UnixListener { io, reg })
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
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        UnixListener::from_mio(mio::net::UnixListener::from_std(listener))
    }

    #[track_caller]
    fn from_mio(mut io: mio::net::UnixListener) -> io::Result<UnixListener> {
        let reg = Registration::new(&mut io, mio::Interest::READABLE)?;
        Ok(UnixListener { io, reg })
    }

    /// Waits for a connection.
    ///
    /// # Errors
    ///
    /// What the OS says; after `EMFILE`, back off before retrying (see
    /// [`TcpListener::accept`](super::TcpListener::accept)). An error if
    /// the runtime is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// use eddy::net::{UnixListener, UnixStream};
    ///
    /// eddy::block_on(async {
    ///     // A name in Linux's abstract namespace: no file to clean up.
    ///     let name = format!("\0eddy-accept-{}", std::process::id());
    ///     let listener = UnixListener::bind(&name)?;
    ///     let client = eddy::spawn(async move { UnixStream::connect(name).await });
    ///     let (stream, _peer) = listener.accept().await?;
    ///     let client = client.await??;
    ///     client.write_all(b"hi").await?;
    ///     let mut buf = [0; 2];
    ///     stream.read_exact(&mut buf).await?;
    ///     assert_eq!(&buf, b"hi");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (stream, peer) = self.reg.io(Direction::Read, || self.io.accept()).await?;
        // The new stream joins the listener's runtime, whichever polls this.
        Ok((
            UnixStream {
                inner: Stream::new_in(self.reg.reactor(), stream)?,
            },
            peer,
        ))
    }

    /// The polling form of [`accept`](UnixListener::accept).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        match self.reg.poll_io(Direction::Read, cx, || self.io.accept()) {
            Poll::Ready(Ok((stream, peer))) => Poll::Ready(
                Stream::new_in(self.reg.reactor(), stream)
                    .map(|inner| (UnixStream { inner }, peer)),
            ),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Waits until a connection is queued, as
    /// [`TcpListener::readable`](super::TcpListener::readable).
    ///
    /// # Errors
    ///
    /// Fails if the listener's runtime is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// use eddy::net::{UnixListener, UnixStream};
    ///
    /// eddy::block_on(async {
    ///     let name = format!("\0eddy-readable-{}", std::process::id());
    ///     let listener = UnixListener::bind(&name)?;
    ///     let client = eddy::spawn(async move { UnixStream::connect(name).await });
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

/// The socket address of `path`. On Linux, a leading NUL byte makes it a
/// name in the abstract namespace (std's `from_pathname` refuses NULs).
fn socket_addr(path: &Path) -> io::Result<SocketAddr> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use std::os::unix::ffi::OsStrExt;
        if let Some(name) = path.as_os_str().as_bytes().strip_prefix(b"\0") {
            #[cfg(target_os = "android")]
            use std::os::android::net::SocketAddrExt;
            #[cfg(target_os = "linux")]
            use std::os::linux::net::SocketAddrExt;
            return SocketAddr::from_abstract_name(name);
        }
    }
    SocketAddr::from_pathname(path)
}

impl Drop for UnixListener {
    fn drop(&mut self) {
        let _ = self.reg.deregister(&mut self.io);
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl AsFd for UnixListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}

/// A Unix-domain stream connection; reads and writes as [`TcpStream`](super::TcpStream).
///
/// ```
/// eddy::block_on(async {
///     let (a, b) = eddy::net::UnixStream::pair()?;
///     a.write_all(b"ping").await?;
///     let mut buf = [0; 4];
///     b.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"ping");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UnixStream {
    inner: Stream<mio::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket at `path` (on Linux, a `path` that starts
    /// with a NUL byte names an abstract socket, as in
    /// [`UnixListener::bind`]). Needs a runtime. If the listener's queue is
    /// full, Linux refuses at once (`WouldBlock`), as with tokio.
    ///
    /// # Errors
    ///
    /// What the OS says: `NotFound` for no socket file, `ConnectionRefused`
    /// for a socket nobody listens on, `WouldBlock` for a full queue,
    /// `InvalidInput` for a path too long (or with a NUL byte inside).
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use eddy::net::{UnixListener, UnixStream};
    ///
    /// eddy::block_on(async {
    ///     let name = format!("\0eddy-connect-{}", std::process::id());
    ///     let _listener = UnixListener::bind(&name)?;
    ///     let stream = UnixStream::connect(&name).await?;
    ///     assert!(stream.peer_addr().is_ok());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        UnixStream::connect_addr(&socket_addr(path.as_ref())?).await
    }

    /// Connects to `addr`: a path, or (Linux) an abstract name (see
    /// [`UnixListener::bind_addr`]). Needs a runtime.
    ///
    /// # Errors
    ///
    /// As [`connect`](UnixStream::connect).
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    pub async fn connect_addr(addr: &SocketAddr) -> io::Result<UnixStream> {
        let inner = Stream::new(mio::net::UnixStream::connect_addr(addr)?)?;
        inner.reg.clear_ready(Direction::Write);
        inner.reg.wait(Direction::Write).await?;
        if let Some(e) = inner.io.take_error()? {
            return Err(e);
        }
        Ok(UnixStream { inner })
    }

    /// A pair of connected streams. Needs a runtime.
    ///
    /// # Errors
    ///
    /// What the OS says (`EMFILE`...).
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// eddy::block_on(async {
    ///     let (a, b) = eddy::net::UnixStream::pair()?;
    ///     a.write_all(b"ping").await?;
    ///     let mut buf = [0; 4];
    ///     b.read_exact(&mut buf).await?;
    ///     assert_eq!(&buf, b"ping");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = mio::net::UnixStream::pair()?;
        Ok((
            UnixStream {
                inner: Stream::new(a)?,
            },
            UnixStream {
                inner: Stream::new(b)?,
            },
        ))
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
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        Ok(UnixStream {
            inner: Stream::new(mio::net::UnixStream::from_std(stream))?,
        })
    }

    /// The peer's address.
    ///
    /// # Errors
    ///
    /// What the OS says.
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
}

super::stream_common!(
    UnixStream,
    " # let (a, b) = eddy::net::UnixStream::pair()?;"
);

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.io.fmt(f)
    }
}
