//! Networking: TCP, UDP and Unix-domain sockets on the reactor.
//!
//! Every type here wraps a mio socket registered with the current runtime's
//! reactor (so constructing one needs a runtime: inside `block_on`, `turn`
//! or a task). Operations try the syscall first and wait for readiness only
//! when it says `WouldBlock`, even on a fresh socket (an accepted
//! connection's first data is read without a trip through epoll).
//! Readiness waits (`readable`, `ready`, `poll_read_ready`...) instead say
//! what epoll said: a fresh socket is not readable until the reactor's first
//! event for it (which reports the state as of registration) says so, or an
//! operation found it ready. Each operation also has a `try_` form that
//! never waits, to pair with those waits.
//!
//! The stream types implement `futures_io`'s `AsyncRead` and `AsyncWrite`,
//! both for `T` and for `&T`, so two tasks sharing an `Rc<TcpStream>` can
//! read and write at once; they also have inherent `read`, `write`,
//! `write_all` and `read_exact` futures.
//!
//! Errors from the OS come back as `io::Error`; none makes the runtime spin.
//! One caution for servers: when `accept` fails with `EMFILE` (no file
//! descriptors left), the connection stays queued and the listener stays
//! readable, so a server that retries at once would spin. Back off instead:
//!
//! ```no_run
//! use std::time::Duration;
//!
//! # eddy::block_on(async {
//! let listener = eddy::net::TcpListener::bind("127.0.0.1:0")?;
//! loop {
//!     match listener.accept().await {
//!         Ok((stream, _)) => drop(stream), // spawn a task for it
//!         Err(e) if e.raw_os_error() == Some(libc::EMFILE) => {
//!             eprintln!("out of file descriptors; waiting");
//!             eddy::time::sleep(Duration::from_millis(10)).await;
//!         }
//!         Err(e) => return Err(e),
//!     }
//! }
//! # Ok::<(), std::io::Error>(()) }).unwrap();
//! ```

mod addr;
mod socket;
mod sockopt;
mod tcp;
mod udp;
mod unix;

pub use self::addr::ToSocketAddrs;
pub use self::socket::TcpSocket;
pub use self::tcp::{TcpListener, TcpStream};
pub use self::udp::UdpSocket;
pub use self::unix::{UnixListener, UnixStream};

/// `TryFrom` of each std type, as tokio offers (`std_socket.try_into()`):
/// the same as that type's `from_std`, so it needs a runtime too.
macro_rules! try_from_std {
    ($($ty:ident <- $std:ty;)*) => {$(
        impl TryFrom<$std> for $ty {
            type Error = std::io::Error;

            /// As [`from_std`](Self::from_std); panics outside a runtime.
            #[track_caller]
            fn try_from(io: $std) -> std::io::Result<$ty> {
                $ty::from_std(io)
            }
        }
    )*};
}

try_from_std! {
    TcpListener <- std::net::TcpListener;
    TcpStream <- std::net::TcpStream;
    UdpSocket <- std::net::UdpSocket;
    UnixListener <- std::os::unix::net::UnixListener;
    UnixStream <- std::os::unix::net::UnixStream;
}

/// What TCP and Unix streams share, for a type `$ty` holding
/// `inner: Stream<_>`: the inherent read and write futures, the readiness
/// methods (`readable`, `ready`, `try_read`...) and `shutdown`;
/// `futures_io`'s `AsyncRead` and `AsyncWrite` for `&$ty` (and for `$ty`,
/// through it); `AsRawFd` and `AsFd`. `$pair` is the hidden setup of the
/// doc examples: lines that make a connected pair `(a, b)`.
macro_rules! stream_common {
    ($ty:ty, $pair:literal) => {
        impl $ty {
            /// Reads some bytes; `Ok(0)` at end of stream (or for an empty
            /// `buf`). Cancel-safe: dropped before it completes, it has read
            /// nothing.
            ///
            /// # Errors
            ///
            /// What the OS says (`ConnectionReset`...), or an error if the
            /// stream's runtime is gone.
            ///
            /// # Examples
            ///
            /// ```
            /// # eddy::block_on(async {
            #[doc = $pair]
            /// b.write_all(b"hello").await?;
            /// let mut buf = [0; 1024];
            /// let n = a.read(&mut buf).await?;
            /// assert_eq!(&buf[..n], b"hello");
            /// drop(b);
            /// assert_eq!(a.read(&mut buf).await?, 0); // end of stream
            /// # Ok::<(), std::io::Error>(()) })?;
            /// # Ok::<(), std::io::Error>(())
            /// ```
            pub fn read<'a>(
                &'a self,
                buf: &'a mut [u8],
            ) -> impl std::future::Future<Output = std::io::Result<usize>> + 'a {
                self.inner.read(buf)
            }

            /// Writes some bytes and returns how many (fewer than `buf.len()`
            /// when the kernel's buffer fills). Cancel-safe.
            ///
            /// # Errors
            ///
            /// What the OS says (`BrokenPipe` or `ConnectionReset` once the
            /// peer is gone: never a `SIGPIPE`), or an error if the stream's
            /// runtime is gone.
            ///
            /// # Examples
            ///
            /// ```
            /// # eddy::block_on(async {
            #[doc = $pair]
            /// let n = a.write(b"hello").await?;
            /// assert_eq!(n, 5);
            /// # Ok::<(), std::io::Error>(()) })?;
            /// # Ok::<(), std::io::Error>(())
            /// ```
            pub fn write<'a>(
                &'a self,
                buf: &'a [u8],
            ) -> impl std::future::Future<Output = std::io::Result<usize>> + 'a {
                self.inner.write(buf)
            }

            /// Writes all of `buf`, waiting for room as often as needed.
            /// Dropped before it completes, it may have written a part.
            ///
            /// # Errors
            ///
            /// As [`write`](Self::write); `WriteZero` if the OS accepts no
            /// byte.
            ///
            /// # Examples
            ///
            /// ```
            /// # eddy::block_on(async {
            #[doc = $pair]
            /// let big = vec![7u8; 1 << 20]; // more than a socket buffer
            /// let reader = eddy::spawn(async move {
            ///     let mut got = vec![0u8; 1 << 20];
            ///     b.read_exact(&mut got).await.map(|()| got)
            /// });
            /// a.write_all(&big).await?;
            /// assert_eq!(reader.await??, big);
            /// # Ok::<(), std::io::Error>(()) })?;
            /// # Ok::<(), std::io::Error>(())
            /// ```
            pub fn write_all<'a>(
                &'a self,
                buf: &'a [u8],
            ) -> impl std::future::Future<Output = std::io::Result<()>> + 'a {
                self.inner.write_all(buf)
            }

            /// Reads exactly `buf.len()` bytes. Dropped before it completes,
            /// it may have read a part.
            ///
            /// # Errors
            ///
            /// `UnexpectedEof` if the stream ends first; otherwise as
            /// [`read`](Self::read).
            ///
            /// # Examples
            ///
            /// ```
            /// # eddy::block_on(async {
            #[doc = $pair]
            /// b.write_all(b"head").await?;
            /// b.write_all(b"er").await?;
            /// let mut header = [0; 6];
            /// a.read_exact(&mut header).await?;
            /// assert_eq!(&header, b"header");
            /// drop(b);
            /// let err = a.read_exact(&mut header).await.unwrap_err();
            /// assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
            /// # Ok::<(), std::io::Error>(()) })?;
            /// # Ok::<(), std::io::Error>(())
            /// ```
            pub fn read_exact<'a>(
                &'a self,
                buf: &'a mut [u8],
            ) -> impl std::future::Future<Output = std::io::Result<()>> + 'a {
                self.inner.read_exact(buf)
            }

            /// Waits until the stream may be read: until epoll reports it
            /// readable (data, end of stream or an error), or a read showed
            /// it was. On a fresh stream this waits for the reactor's first
            /// event, which tells whether data is already there.
            /// Wake-ups can be spurious: the next [`try_read`](Self::try_read)
            /// may still say `WouldBlock`. Cancel-safe.
            ///
            /// # Errors
            ///
            /// Fails if the stream's runtime is gone.
            ///
            /// # Examples
            ///
            /// ```
            /// # eddy::block_on(async {
            #[doc = $pair]
            /// b.write_all(b"hi").await?;
            /// a.readable().await?;
            /// let mut buf = [0; 8];
            /// assert_eq!(a.try_read(&mut buf)?, 2);
            /// # Ok::<(), std::io::Error>(()) })?;
            /// # Ok::<(), std::io::Error>(())
            /// ```
            pub async fn readable(&self) -> std::io::Result<()> {
                self.inner.reg.wait(crate::reactor::Direction::Read).await
            }

            /// Waits until the stream may be written, as
            /// [`readable`](Self::readable) waits for reading. Cancel-safe.
            ///
            /// # Errors
            ///
            /// Fails if the stream's runtime is gone.
            ///
            /// # Examples
            ///
            /// ```
            /// # eddy::block_on(async {
            #[doc = $pair]
            /// a.writable().await?; // a new connection has room
            /// assert_eq!(a.try_write(b"hi")?, 2);
            /// # drop(b);
            /// # Ok::<(), std::io::Error>(()) })?;
            /// # Ok::<(), std::io::Error>(())
            /// ```
            pub async fn writable(&self) -> std::io::Result<()> {
                self.inner.reg.wait(crate::reactor::Direction::Write).await
            }

            /// Waits until the stream is ready in one of the directions of
            /// `interest` and returns what it is ready for (only flags of
            /// those directions; [`Ready::is_read_closed`] at end of stream).
            /// Like [`readable`](Self::readable), it says what epoll said:
            /// a fresh stream is not ready until the reactor's first event.
            /// Pair it with the `try_*` methods, which clear readiness when
            /// they hear `WouldBlock`. Cancel-safe.
            ///
            /// [`Ready::is_read_closed`]: crate::io::Ready::is_read_closed
            ///
            /// # Errors
            ///
            /// Fails if the stream's runtime is gone.
            ///
            /// # Examples
            ///
            /// ```
            /// use eddy::io::Interest;
            ///
            /// # eddy::block_on(async {
            #[doc = $pair]
            /// let ready = a.ready(Interest::READABLE | Interest::WRITABLE).await?;
            /// assert!(ready.is_writable());
            /// if ready.is_readable() {
            ///     let mut buf = [0; 8];
            ///     match a.try_read(&mut buf) {
            ///         Ok(_) => {}
            ///         Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            ///         Err(e) => return Err(e),
            ///     }
            /// }
            /// # drop(b);
            /// # Ok::<(), std::io::Error>(()) })?;
            /// # Ok::<(), std::io::Error>(())
            /// ```
            pub async fn ready(
                &self,
                interest: crate::io::Interest,
            ) -> std::io::Result<crate::io::Ready> {
                crate::io::ready(&self.inner.reg, interest).await
            }

            /// The polling form of [`readable`](Self::readable): `Ready`
            /// once epoll reported the stream readable, else `Pending`, and
            /// `cx`'s task is woken by the next read readiness. Every task
            /// that polls it is woken (tokio keeps only the last waker).
            ///
            /// # Errors
            ///
            /// Fails if the stream's runtime is gone.
            pub fn poll_read_ready(
                &self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                self.inner
                    .reg
                    .poll_ready(crate::reactor::Direction::Read, cx)
            }

            /// The polling form of [`writable`](Self::writable), as
            /// [`poll_read_ready`](Self::poll_read_ready).
            ///
            /// # Errors
            ///
            /// Fails if the stream's runtime is gone.
            pub fn poll_write_ready(
                &self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                self.inner
                    .reg
                    .poll_ready(crate::reactor::Direction::Write, cx)
            }

            /// Reads what is there now, without waiting: `Ok(n)` with
            /// `n > 0` bytes read, `Ok(0)` at end of stream (or for an empty
            /// `buf`), or `WouldBlock` if nothing can be read yet. A
            /// `WouldBlock` clears the stream's read readiness, so the next
            /// [`readable`](Self::readable) or [`ready`](Self::ready) waits
            /// for new data; nothing else does (a short read keeps the
            /// stream ready, as tokio's). Like `read`, it tries at once on a
            /// fresh stream.
            ///
            /// # Errors
            ///
            /// `WouldBlock` when no data is there; otherwise what the OS
            /// says (`ConnectionReset`...); an error if the runtime is gone.
            ///
            /// # Examples
            ///
            /// ```
            /// # eddy::block_on(async {
            #[doc = $pair]
            /// let mut buf = [0; 8];
            /// let e = a.try_read(&mut buf).unwrap_err();
            /// assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock);
            /// b.write_all(b"hi").await?;
            /// loop {
            ///     a.readable().await?;
            ///     match a.try_read(&mut buf) {
            ///         Ok(n) => break assert_eq!(&buf[..n], b"hi"),
            ///         Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            ///         Err(e) => return Err(e),
            ///     }
            /// }
            /// # Ok::<(), std::io::Error>(()) })?;
            /// # Ok::<(), std::io::Error>(())
            /// ```
            pub fn try_read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.inner.try_read(buf)
            }

            /// [`try_read`](Self::try_read) into several buffers, filled in
            /// order (one `readv`).
            ///
            /// # Errors
            ///
            /// As [`try_read`](Self::try_read).
            pub fn try_read_vectored(
                &self,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::io::Result<usize> {
                self.inner.try_read_vectored(bufs)
            }

            /// Writes what fits now, without waiting: `Ok(n)` bytes written,
            /// or `WouldBlock` (clearing write readiness) if the send buffer
            /// is full; a short write keeps the stream writable. Like
            /// `write`, it tries at once on a fresh stream.
            ///
            /// # Errors
            ///
            /// `WouldBlock` when the send buffer is full; otherwise what the
            /// OS says (`BrokenPipe`, `ConnectionReset`...); an error if the
            /// runtime is gone.
            pub fn try_write(&self, buf: &[u8]) -> std::io::Result<usize> {
                self.inner.try_write(buf)
            }

            /// [`try_write`](Self::try_write) from several buffers, in order
            /// (one `sendmsg`, which raises no `SIGPIPE`).
            ///
            /// # Errors
            ///
            /// As [`try_write`](Self::try_write).
            pub fn try_write_vectored(
                &self,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::io::Result<usize> {
                self.inner.try_write_vectored(bufs)
            }

            /// Shuts down the read half, the write half, or both. After
            /// `Shutdown::Write` the peer reads end of stream, and this side
            /// can still read what the peer sends.
            ///
            /// A connection the peer has already reset (or that is gone for
            /// another reason) has no halves left to shut: the OS says
            /// `NotConnected`, and this returns `Ok(())`, as tokio does (so
            /// closing a stream after a reset is not an error).
            ///
            /// # Errors
            ///
            /// What the OS says, except `NotConnected`.
            pub fn shutdown(&self, how: std::net::Shutdown) -> std::io::Result<()> {
                match self.inner.io.shutdown(how) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotConnected => {}
                    Err(e) => return Err(e),
                }
                self.inner.shut_down(how);
                Ok(())
            }
        }

        impl futures_io::AsyncRead for &$ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.inner.poll_read(cx, buf)
            }
        }

        impl futures_io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                std::pin::Pin::new(&mut &*self).poll_read(cx, buf)
            }
        }

        impl futures_io::AsyncWrite for &$ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.inner.poll_write(cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.inner.poll_write_vectored(cx, bufs)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }

            /// Shuts down the write half: the peer reads end of stream. After
            /// a reset by the peer this is `Ok(())` (see `shutdown`).
            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(self.shutdown(std::net::Shutdown::Write))
            }
        }

        impl futures_io::AsyncWrite for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                std::pin::Pin::new(&mut &*self).poll_write(cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                std::pin::Pin::new(&mut &*self).poll_write_vectored(cx, bufs)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::pin::Pin::new(&mut &*self).poll_flush(cx)
            }

            /// Shuts down the write half: the peer reads end of stream.
            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::pin::Pin::new(&mut &*self).poll_close(cx)
            }
        }

        impl std::os::fd::AsRawFd for $ty {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                self.inner.io.as_raw_fd()
            }
        }

        impl std::os::fd::AsFd for $ty {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                self.inner.io.as_fd()
            }
        }
    };
}

pub(crate) use stream_common;
