//! I/O on any file descriptor: [`Async<T>`].
//!
//! `Async<T>` registers a descriptor with the current runtime's reactor
//! (edge-triggered, both directions) and makes it non-blocking. Then
//! [`read_with`](Async::read_with) and [`write_with`](Async::write_with) run
//! an ordinary non-blocking operation, waiting for readiness whenever it
//! says `WouldBlock`: the pattern under every socket type in [`net`](crate::net).
//!
//! [`Interest`] and [`Ready`] are the argument and result of the sockets'
//! `ready` methods. The `futures_io` traits `AsyncRead` and `AsyncWrite` are
//! re-exported here.

use std::fmt;
use std::io::{self, IoSlice, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use mio::unix::SourceFd;

use crate::reactor::{Direction, Registration};

mod ready;
pub(crate) mod stream;

pub use futures_io::{AsyncRead, AsyncWrite};
pub use ready::{Interest, Ready};

/// Waits until `reg` is ready in one of the directions of `interest`.
pub(crate) async fn ready(reg: &Registration, interest: Interest) -> io::Result<Ready> {
    reg.ready(interest.bits()).await.map(Ready::from_bits)
}

/// A file descriptor registered with the reactor: any `T: AsRawFd`
/// (a socket, a pipe, a terminal, a device) made non-blocking.
///
/// Construct it inside a runtime (it registers with the current one).
/// Several tasks may wait on it at once in either direction.
///
/// Which traits it implements, for which `T`:
///
/// - `futures_io::AsyncRead` for `Async<T>` when `T: Read` (std's
///   `ChildStdout`, `UnixStream`, `File` of a FIFO...), and for
///   `&Async<T>` when `&T: Read` (sockets, std's `File`), so two tasks can
///   share one object;
/// - `AsyncWrite` the same way, with `Write`;
/// - `AsRawFd` always, `AsFd` when `T: AsFd`, `Debug` when `T: Debug`.
///
/// For anything else, [`read_with`](Async::read_with) and
/// [`write_with`](Async::write_with) run any non-blocking call on `&T`.
/// A regular file cannot be registered (epoll refuses it): use
/// [`eddy::fs`](crate::fs) for files.
///
/// ```
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
/// use eddy::io::Async;
///
/// eddy::block_on(async {
///     let (a, b) = UnixStream::pair()?;
///     let (a, b) = (Async::new(a)?, Async::new(b)?);
///     b.write_with(|mut s| s.write(b"ping")).await?;
///     let mut buf = [0; 4];
///     let n = a.read_with(|mut s| s.read(&mut buf)).await?;
///     assert_eq!(&buf[..n], b"ping");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Async<T: AsRawFd> {
    // `None` only inside `into_inner`.
    io: Option<T>,
    reg: Registration,
}

impl<T: AsRawFd> Async<T> {
    /// Makes `io` non-blocking and registers it with the current runtime.
    ///
    /// # Errors
    ///
    /// The OS's error if the descriptor cannot be made non-blocking or
    /// watched (epoll refuses regular files, for instance: `EPERM`).
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    #[track_caller]
    pub fn new(io: T) -> io::Result<Async<T>> {
        let fd = io.as_raw_fd();
        set_nonblocking(fd)?;
        let reg = Registration::new(
            &mut SourceFd(&fd),
            mio::Interest::READABLE | mio::Interest::WRITABLE,
        )?;
        Ok(Async { io: Some(io), reg })
    }

    /// The inner object.
    #[allow(
        clippy::missing_panics_doc,
        reason = "`io` is `None` only inside `into_inner`, which consumes `self`"
    )]
    pub fn get_ref(&self) -> &T {
        self.io.as_ref().expect("present until into_inner")
    }

    /// Deregisters the descriptor and gives the object back (still non-blocking).
    ///
    /// # Errors
    ///
    /// The OS's error if epoll refuses to let go of the descriptor (the
    /// object is lost then: it is dropped, which closes it).
    #[allow(
        clippy::missing_panics_doc,
        reason = "`io` is `None` only inside `into_inner`, which consumes `self`"
    )]
    pub fn into_inner(mut self) -> io::Result<T> {
        let io = self.io.take().expect("present until into_inner");
        self.reg.deregister(&mut SourceFd(&io.as_raw_fd()))?;
        Ok(io)
    }

    /// Waits until the descriptor may be read: until epoll reports it
    /// readable (on a fresh `Async`, its first event says whether it is),
    /// or a read through [`read_with`](Async::read_with) succeeded. This may
    /// complete spuriously: the next read can still say `WouldBlock` (which
    /// `read_with` retries).
    ///
    /// # Errors
    ///
    /// Fails if the runtime the descriptor was registered with is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use eddy::io::Async;
    ///
    /// eddy::block_on(async {
    ///     let (a, mut b) = std::os::unix::net::UnixStream::pair()?;
    ///     let a = Async::new(a)?;
    ///     b.write_all(b"x")?;
    ///     a.readable().await?;
    ///     let mut buf = [0; 1];
    ///     assert_eq!((&*a.get_ref()).read(&mut buf)?, 1);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        self.reg.wait(Direction::Read).await
    }

    /// Waits until the descriptor may be written (as
    /// [`readable`](Async::readable)); may complete spuriously.
    ///
    /// # Errors
    ///
    /// Fails if the runtime the descriptor was registered with is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Write;
    /// use eddy::io::Async;
    ///
    /// eddy::block_on(async {
    ///     let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    ///     let a = Async::new(a)?;
    ///     a.writable().await?;
    ///     assert_eq!((&*a.get_ref()).write(b"hi")?, 2);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        self.reg.wait(Direction::Write).await
    }

    /// The polling form of [`readable`](Async::readable). Every task that
    /// polls it is woken by the next readiness event.
    ///
    /// # Errors
    ///
    /// Fails if the runtime the descriptor was registered with is gone.
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.reg.poll_ready(Direction::Read, cx)
    }

    /// The polling form of [`writable`](Async::writable).
    ///
    /// # Errors
    ///
    /// Fails if the runtime the descriptor was registered with is gone.
    pub fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.reg.poll_ready(Direction::Write, cx)
    }

    /// Runs a non-blocking read `op` until it does not say `WouldBlock`,
    /// waiting for readiness in between. On a fresh `Async` the first try
    /// is at once (nothing waits for epoll first).
    ///
    /// # Errors
    ///
    /// What `op` returns, other than `WouldBlock`; an error if the runtime
    /// is gone.
    pub async fn read_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        let io = self.get_ref();
        self.reg.io(Direction::Read, || op(io)).await
    }

    /// Runs a non-blocking write `op` until it does not say `WouldBlock`,
    /// waiting for readiness in between (the first try is at once).
    ///
    /// # Errors
    ///
    /// What `op` returns, other than `WouldBlock`; an error if the runtime
    /// is gone.
    pub async fn write_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        let io = self.get_ref();
        self.reg.io(Direction::Write, || op(io)).await
    }
}

impl<T: AsRawFd> Async<T> {
    /// The polling form of [`read_with`](Async::read_with), for hand-written
    /// futures and `poll_*` methods: runs `op` while the descriptor is
    /// readable; on `WouldBlock` it clears readiness and leaves the waker
    /// for the next edge.
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::io::{Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use eddy::io::Async;
    ///
    /// eddy::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     let a = Async::new(a)?;
    ///     b.write_all(b"hi")?;
    ///     let mut buf = [0; 2];
    ///     let n = poll_fn(|cx| a.poll_read_with(cx, |mut s| s.read(&mut buf))).await?;
    ///     assert_eq!(&buf[..n], b"hi");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll_read_with<R>(
        &self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let io = self.get_ref();
        self.reg.poll_io(Direction::Read, cx, || op(io))
    }

    /// The polling form of [`write_with`](Async::write_with).
    pub fn poll_write_with<R>(
        &self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let io = self.get_ref();
        self.reg.poll_io(Direction::Write, cx, || op(io))
    }
}

impl<T: AsRawFd> Drop for Async<T> {
    fn drop(&mut self) {
        if let Some(io) = &self.io {
            // An error (the runtime's epoll fd already gone) changes nothing.
            let _ = self.reg.deregister(&mut SourceFd(&io.as_raw_fd()));
        }
    }
}

impl<T: AsRawFd> AsRawFd for Async<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.get_ref().as_raw_fd()
    }
}

/// So that `Async::new(&registered)` compiles, as with async-io (whose
/// bound is `AsFd`, which std gives every `&T`): the second registration
/// of one descriptor is refused with `AlreadyExists`.
impl<T: AsRawFd> AsRawFd for &Async<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.get_ref().as_raw_fd()
    }
}

impl<T: AsRawFd + AsFd> AsFd for Async<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.get_ref().as_fd()
    }
}

/// As async-io's: `async_socket.as_ref().local_addr()`, like `get_ref`.
impl<T: AsRawFd> AsRef<T> for Async<T> {
    fn as_ref(&self) -> &T {
        self.get_ref()
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for Async<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Async").field("io", &self.io).finish()
    }
}

/// For any `T: Read` (a pipe end such as std's `ChildStdout`, a socket, a
/// terminal): through `&mut T`, so no `&T: Read` is needed.
impl<T: AsRawFd + Read + Unpin> AsyncRead for Async<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let io = this.io.as_mut().expect("present until into_inner");
        this.reg.poll_io(Direction::Read, cx, || io.read(buf))
    }
}

/// For a `T` that reads through a shared reference (`&T: Read`: sockets,
/// std's `File`), so that two tasks can share one `Async<T>`.
impl<T: AsRawFd> AsyncRead for &Async<T>
where
    for<'a> &'a T: Read,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let io = self.get_ref();
        self.reg.poll_io(Direction::Read, cx, || {
            let mut io = io;
            io.read(buf)
        })
    }
}

/// For any `T: Write` (a pipe end such as std's `ChildStdin`, a socket):
/// through `&mut T`. `poll_close` flushes; it does not close the
/// descriptor (drop the `Async`, or `into_inner`, for that).
impl<T: AsRawFd + Write + Unpin> AsyncWrite for Async<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let io = this.io.as_mut().expect("present until into_inner");
        this.reg.poll_io(Direction::Write, cx, || io.write(buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let io = this.io.as_mut().expect("present until into_inner");
        this.reg
            .poll_io(Direction::Write, cx, || io.write_vectored(bufs))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let io = this.io.as_mut().expect("present until into_inner");
        this.reg.poll_io(Direction::Write, cx, || io.flush())
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

/// For a `T` that writes through a shared reference (`&T: Write`).
impl<T: AsRawFd> AsyncWrite for &Async<T>
where
    for<'a> &'a T: Write,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let io = self.get_ref();
        self.reg.poll_io(Direction::Write, cx, || {
            let mut io = io;
            io.write(buf)
        })
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let io = self.get_ref();
        self.reg.poll_io(Direction::Write, cx, || {
            let mut io = io;
            io.write_vectored(bufs)
        })
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let io = self.get_ref();
        self.reg.poll_io(Direction::Write, cx, || {
            let mut io = io;
            io.flush()
        })
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

/// Sets `O_NONBLOCK` on a descriptor.
pub(crate) fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl with F_GETFL/F_SETFL reads and writes the flags of a
    // descriptor the caller owns (borrowed from a live `T: AsRawFd`); it
    // touches no memory of ours. An invalid fd gives EBADF, not UB.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    if flags & libc::O_NONBLOCK == 0 {
        // SAFETY: as above.
        if unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}
