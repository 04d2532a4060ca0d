//! Networking: TCP, UDP and Unix-domain sockets on the reactor.
//!
//! Every type here wraps a mio socket registered with the current runtime's
//! reactor (so constructing one needs a runtime: inside `block_on`, `turn`
//! or a task). Operations try the syscall first and wait for readiness only
//! when it says `WouldBlock`. The stream types implement `futures_io`'s
//! `AsyncRead` and `AsyncWrite`, both for `T` and for `&T`, so two tasks
//! sharing an `Rc<TcpStream>` can read and write at once; they also have
//! inherent `read`, `write`, `write_all` and `read_exact` futures.
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
mod tcp;
mod udp;
mod unix;

pub use self::addr::ToSocketAddrs;
pub use self::socket::TcpSocket;
pub use self::tcp::{TcpListener, TcpStream};
pub use self::udp::UdpSocket;
pub use self::unix::{UnixListener, UnixStream};

/// What TCP and Unix streams share, for a type `$ty` holding
/// `inner: Stream<_>`: the inherent read and write futures, `readable`,
/// `writable` and `shutdown`; `futures_io`'s `AsyncRead` and `AsyncWrite`
/// for `&$ty` (and for `$ty`, through it); `AsRawFd` and `AsFd`.
macro_rules! stream_common {
    ($ty:ty) => {
        impl $ty {
            /// Reads some bytes; `Ok(0)` at end of stream (or for an empty
            /// `buf`). Cancel-safe: dropped before it completes, it has read
            /// nothing.
            pub fn read<'a>(
                &'a self,
                buf: &'a mut [u8],
            ) -> impl std::future::Future<Output = std::io::Result<usize>> + 'a {
                self.inner.read(buf)
            }

            /// Writes some bytes and returns how many. Cancel-safe.
            pub fn write<'a>(
                &'a self,
                buf: &'a [u8],
            ) -> impl std::future::Future<Output = std::io::Result<usize>> + 'a {
                self.inner.write(buf)
            }

            /// Writes all of `buf`. Dropped before it completes, it may have
            /// written a part.
            pub fn write_all<'a>(
                &'a self,
                buf: &'a [u8],
            ) -> impl std::future::Future<Output = std::io::Result<()>> + 'a {
                self.inner.write_all(buf)
            }

            /// Reads exactly `buf.len()` bytes; `UnexpectedEof` if the stream
            /// ends first. Dropped before it completes, it may have read a part.
            pub fn read_exact<'a>(
                &'a self,
                buf: &'a mut [u8],
            ) -> impl std::future::Future<Output = std::io::Result<()>> + 'a {
                self.inner.read_exact(buf)
            }

            /// Waits until the stream may be read (spurious wake-ups possible).
            pub async fn readable(&self) -> std::io::Result<()> {
                self.inner.readable().await
            }

            /// Waits until the stream may be written (spurious wake-ups possible).
            pub async fn writable(&self) -> std::io::Result<()> {
                self.inner.writable().await
            }

            /// Shuts down the read half, the write half, or both. After
            /// `Shutdown::Write` the peer reads end of stream, and this side
            /// can still read what the peer sends.
            pub fn shutdown(&self, how: std::net::Shutdown) -> std::io::Result<()> {
                self.inner.io.shutdown(how)?;
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

            /// Shuts down the write half: the peer reads end of stream.
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
