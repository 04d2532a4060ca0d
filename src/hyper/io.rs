//! `Io<T>`: hyper's I/O traits over any `futures_io` stream.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use hyper::rt::ReadBufCursor;

/// The least a read offers (and so zeroes) of hyper's buffer.
const MIN_READ: usize = 2 * 1024;

/// hyper's [`Read`](hyper::rt::Read) and [`Write`](hyper::rt::Write) over
/// any [`AsyncRead`] + [`AsyncWrite`] + `Unpin` stream: eddy's
/// [`TcpStream`](crate::net::TcpStream) and
/// [`UnixStream`](crate::net::UnixStream), a TLS stream from
/// futures-rustls, a `&TcpStream`.
///
/// What it costs: nothing is copied. hyper hands out the spare capacity of
/// its read buffer, which may be uninitialised, while `AsyncRead` wants
/// initialised bytes, so `Io` zeroes the part it offers once and reads into
/// it in place. It offers a window that follows the sizes of recent reads
/// (2 KiB at least, doubling while reads fill it), so a small request costs
/// a small zeroing, not hyper's whole buffer. ([`serve`](super::serve) reads
/// its `TcpStream`s without even that.) Writes go straight through; hyper's
/// vectored writes (a head and a body in one call) reach `writev` on eddy's
/// streams, and a stream that keeps futures-io's default
/// `poll_write_vectored` still works, one buffer a call.
///
/// ```
/// use eddy::hyper::Io;
/// use eddy::net::{TcpListener, TcpStream};
/// use http_body_util::{BodyExt, Empty};
/// use hyper::body::Bytes;
///
/// eddy::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0")?;
///     let addr = listener.local_addr()?;
///     // A server that says hello (see `serve` for the real thing).
///     eddy::spawn(async move {
///         let (stream, _) = listener.accept().await?;
///         let hello = hyper::service::service_fn(|_req| async {
///             Ok::<_, std::convert::Infallible>(hyper::Response::new("hello".to_string()))
///         });
///         hyper::server::conn::http1::Builder::new()
///             .serve_connection(Io::new(stream), hello)
///             .await
///             .map_err(std::io::Error::other)
///     });
///
///     // A client on the same loop.
///     let stream = TcpStream::connect(addr).await?;
///     let (mut sender, conn) = hyper::client::conn::http1::handshake(Io::new(stream))
///         .await
///         .map_err(std::io::Error::other)?;
///     eddy::spawn(conn); // drives the connection
///     let request = hyper::Request::get("/").body(Empty::<Bytes>::new()).unwrap();
///     let response = sender.send_request(request).await.map_err(std::io::Error::other)?;
///     let body = response.into_body().collect().await.map_err(std::io::Error::other)?;
///     assert_eq!(body.to_bytes(), "hello");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// It also works the other way round, as hyper-util's `TokioIo` does: over
/// a hyper stream (`T: hyper::rt::Read + hyper::rt::Write`), such as the
/// [`Upgraded`](hyper::upgrade::Upgraded) connection that
/// `hyper::upgrade::on` gives after an HTTP/2 `CONNECT`, `Io<T>` is a
/// futures-io `AsyncRead + AsyncWrite`, for `futures::io::AsyncReadExt`
/// and the like (`poll_close` is hyper's `poll_shutdown`).
///
/// HTTP/1 upgrades (WebSocket): hyper's `with_upgrades`, which
/// `hyper::upgrade::on` needs, wants a `Send` stream, and eddy's streams
/// are not `Send`. Without it, answer `101 Switching Protocols` and take
/// the stream back with the connection's `without_shutdown()` (server and
/// client alike): its `Parts` hold the `Io` and the bytes hyper read past
/// the head.
#[derive(Debug)]
pub struct Io<T> {
    inner: T,
    /// How much of hyper's buffer the next read offers.
    window: usize,
}

impl<T> Io<T> {
    /// Wraps a stream.
    pub fn new(inner: T) -> Io<T> {
        Io {
            inner,
            window: MIN_READ,
        }
    }

    /// The stream inside.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The stream inside, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Gives the stream back.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: AsyncRead + Unpin> hyper::rt::Read for Io<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let offer = this.window.min(buf.remaining());
        let dst = buf.initialize_unfilled_to(offer);
        let n = match Pin::new(&mut this.inner).poll_read(cx, dst) {
            Poll::Ready(Ok(n)) => n.min(offer),
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        };
        // A full window: more was probably waiting. A read under a quarter
        // of it: the window was too big.
        if n == offer {
            this.window = (this.window * 2).min(1 << 20);
        } else if n < this.window / 4 {
            this.window = (this.window / 2).max(MIN_READ);
        }
        // SAFETY: `initialize_unfilled_to(offer)` initialised the first
        // `offer` bytes of the cursor, and `n <= offer`.
        unsafe { buf.advance(n) };
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> hyper::rt::Write for Io<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    /// True: futures-io has no way to ask, and every `AsyncWrite` has a
    /// correct `poll_write_vectored` (at worst one buffer a call), while
    /// eddy's streams turn it into one `writev`.
    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_close(cx)
    }
}

// The other way round, as hyper-util's `TokioIo` does: a hyper stream
// (an `Upgraded` connection after `hyper::upgrade::on`) read and written
// through futures-io, so `futures::io::AsyncReadExt` and friends work on it.

impl<T: hyper::rt::Read + Unpin> AsyncRead for Io<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut dst = hyper::rt::ReadBuf::new(buf);
        match Pin::new(&mut self.get_mut().inner).poll_read(cx, dst.unfilled()) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(dst.filled().len())),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: hyper::rt::Write + Unpin> AsyncWrite for Io<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        hyper::rt::Write::poll_write(Pin::new(&mut self.get_mut().inner), cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        hyper::rt::Write::poll_write_vectored(Pin::new(&mut self.get_mut().inner), cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        hyper::rt::Write::poll_flush(Pin::new(&mut self.get_mut().inner), cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        hyper::rt::Write::poll_shutdown(Pin::new(&mut self.get_mut().inner), cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn into_inner_gives_the_stream_back() {
        crate::block_on(async {
            let (a, _b) = crate::net::UnixStream::pair().unwrap();
            let fd = std::os::fd::AsRawFd::as_raw_fd(&a);
            let io = Io::new(a);
            assert_eq!(std::os::fd::AsRawFd::as_raw_fd(io.get_ref()), fd);
            let a = io.into_inner();
            assert_eq!(std::os::fd::AsRawFd::as_raw_fd(&a), fd);
        });
    }

    #[test]
    fn eddy_streams_are_written_vectored() {
        crate::block_on(async {
            let (a, _b) = crate::net::UnixStream::pair().unwrap();
            assert!(hyper::rt::Write::is_write_vectored(&Io::new(a)));
        });
    }
}
