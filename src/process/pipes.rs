//! The parent's ends of a child's standard streams: non-blocking pipes on
//! the reactor, through [`Async`].

use std::fmt;
use std::fs::File;
use std::io::{self, IoSlice};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use crate::io::Async;

/// Registers the parent's end of a pipe. It is held as a `File` only
/// because `&File` is `Read + Write` with plain `read(2)` and `write(2)`,
/// which is what a pipe needs (`Async<T>`'s traits want `&T: Read`).
fn register(fd: impl Into<OwnedFd>) -> io::Result<Async<File>> {
    Async::new(File::from(fd.into()))
}

/// A child's standard input, from [`Child::stdin`](super::Child::stdin):
/// [`AsyncWrite`].
///
/// Dropping it, or closing it (`poll_close`, which futures'
/// `AsyncWriteExt::close` calls), closes the pipe: the child reads end of
/// file. [`Child::wait`] closes it too, first, so a child waiting for its
/// input cannot hang the wait.
///
/// [`Child::wait`]: super::Child::wait
pub struct ChildStdin {
    /// `None` once closed.
    pipe: Option<Async<File>>,
}

/// The two read ends, stdout and stderr, are the same but for their names.
macro_rules! read_end {
    ($name:ident, $stream:literal, $field:literal) => {
        #[doc = concat!(
                            "A child's standard ", $stream, ", from [`Child::", $field,
                            "`](super::Child::", $field, "): [`AsyncRead`], ending when the child ",
                            "closes it (usually as it exits)."
                        )]
        pub struct $name {
            pipe: Async<File>,
        }

        impl $name {
            #[doc = concat!("Takes over the ", $stream, " pipe of a child started with ")]
            /// `std::process::Command`, registering it with the current runtime.
            ///
            /// # Errors
            ///
            /// The OS's error if the pipe cannot be made non-blocking or watched.
            ///
            /// # Panics
            ///
            /// Outside a runtime.
            #[track_caller]
            pub fn from_std(pipe: std::process::$name) -> io::Result<$name> {
                Ok($name {
                    pipe: register(pipe)?,
                })
            }
        }

        impl AsyncRead for $name {
            fn poll_read(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                Pin::new(&mut self.pipe).poll_read(cx, buf)
            }
        }

        impl AsRawFd for $name {
            fn as_raw_fd(&self) -> RawFd {
                self.pipe.as_raw_fd()
            }
        }

        impl AsFd for $name {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.pipe.as_fd()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("fd", &self.pipe.as_raw_fd())
                    .finish()
            }
        }
    };
}

read_end!(ChildStdout, "output", "stdout");
read_end!(ChildStderr, "error", "stderr");

impl ChildStdin {
    /// Takes over the stdin pipe of a child started with
    /// `std::process::Command`, registering it with the current runtime.
    ///
    /// # Errors
    ///
    /// The OS's error if the pipe cannot be made non-blocking or watched.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    #[track_caller]
    pub fn from_std(stdin: std::process::ChildStdin) -> io::Result<ChildStdin> {
        Ok(ChildStdin {
            pipe: Some(register(stdin)?),
        })
    }
}

fn closed() -> io::Error {
    io::Error::new(
        io::ErrorKind::BrokenPipe,
        "eddy: this ChildStdin was closed",
    )
}

impl AsyncWrite for ChildStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &self.pipe {
            Some(pipe) => Pin::new(&mut &*pipe).poll_write(cx, buf),
            None => Poll::Ready(Err(closed())),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match &self.pipe {
            Some(pipe) => Pin::new(&mut &*pipe).poll_write_vectored(cx, bufs),
            None => Poll::Ready(Err(closed())),
        }
    }

    /// A pipe has nothing to flush: done at once.
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Closes the pipe (the child reads end of file); later writes fail
    /// with `BrokenPipe`.
    fn poll_close(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        drop(self.pipe.take());
        Poll::Ready(Ok(()))
    }
}

impl fmt::Debug for ChildStdin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fd = self.pipe.as_ref().map(|p| p.as_raw_fd());
        f.debug_struct("ChildStdin").field("fd", &fd).finish()
    }
}

/// Reads `pipe` to its end into `buf` (for `wait_with_output`). The
/// buffer grows by doubling and each byte is zeroed once before a read
/// fills it, so this is linear in what the child writes.
pub(crate) async fn read_to_end(
    pipe: Option<&mut (impl AsyncRead + Unpin)>,
    buf: &mut Vec<u8>,
) -> io::Result<()> {
    let Some(pipe) = pipe else { return Ok(()) };
    let mut filled = buf.len();
    let result = loop {
        if filled == buf.len() {
            // A pipe holds 64 KiB by default: room for at least one full read.
            buf.resize(filled + filled.max(64 * 1024), 0);
        }
        let read =
            std::future::poll_fn(|cx| Pin::new(&mut *pipe).poll_read(cx, &mut buf[filled..])).await;
        match read {
            Ok(0) => break Ok(()),
            Ok(n) => filled += n,
            Err(e) => break Err(e),
        }
    };
    buf.truncate(filled);
    result
}
