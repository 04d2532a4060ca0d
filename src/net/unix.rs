//! Unix-domain stream sockets: `UnixListener` and `UnixStream`.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::task::{Context, Poll};

use crate::io::stream::Stream;
use crate::reactor::{Direction, Registration, current_reactor};

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
    /// listens. Needs a runtime.
    #[track_caller]
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        // Find the runtime first: outside one, panic before the socket file exists.
        let reactor = current_reactor();
        let mut io = mio::net::UnixListener::bind(path)?;
        let reg = Registration::new_in(reactor, &mut io, mio::Interest::READABLE)?;
        Ok(UnixListener { io, reg })
    }

    /// Takes a std listener over (making it non-blocking). Needs a runtime.
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

    /// Waits for a connection. Errors such as `EMFILE` are returned as is
    /// (see [`TcpListener::accept`](super::TcpListener::accept)).
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
    pub async fn readable(&self) -> io::Result<()> {
        self.reg.wait(Direction::Read).await
    }

    /// The address this listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.local_addr()
    }
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
    /// Connects to the socket at `path`. Needs a runtime. If the listener's
    /// queue is full, Linux refuses at once (`WouldBlock`), as with tokio.
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let inner = Stream::new(mio::net::UnixStream::connect(path)?)?;
        inner.reg.clear_ready(Direction::Write);
        inner.reg.wait(Direction::Write).await?;
        if let Some(e) = inner.io.take_error()? {
            return Err(e);
        }
        Ok(UnixStream { inner })
    }

    /// A pair of connected streams. Needs a runtime.
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
    #[track_caller]
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        Ok(UnixStream {
            inner: Stream::new(mio::net::UnixStream::from_std(stream))?,
        })
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.io.peer_addr()
    }

    /// The local address.
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
