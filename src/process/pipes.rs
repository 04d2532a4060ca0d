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
///
/// ```
/// use std::process::Stdio;
/// use eddy::process::Command;
/// use futures::io::AsyncWriteExt;
///
/// eddy::block_on(async {
///     let mut child = Command::new("wc")
///         .arg("-l")
///         .stdin(Stdio::piped())
///         .stdout(Stdio::piped())
///         .spawn()?;
///     let mut stdin = child.stdin.take().unwrap();
///     stdin.write_all(b"one\ntwo\n").await?;
///     stdin.close().await?; // end of input: wc counts and exits
///     let out = child.wait_with_output().await?;
///     assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "2");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct ChildStdin {
    /// `None` once closed.
    pipe: Option<Async<File>>,
}

/// The two read ends, stdout and stderr, are the same but for their names
/// (and their docs, given whole at each use).
macro_rules! read_end {
    (
        $(#[$doc:meta])*
        pub struct $name:ident;
        $(#[$from_std_doc:meta])*
        pub fn from_std;
    ) => {
        $(#[$doc])*
        pub struct $name {
            pipe: Async<File>,
        }

        impl $name {
            $(#[$from_std_doc])*
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

read_end! {
    /// A child's standard output, from [`Child::stdout`](super::Child::stdout):
    /// [`AsyncRead`], ending when the child closes it (usually as it exits).
    ///
    /// ```
    /// use std::process::Stdio;
    /// use eddy::process::Command;
    /// use futures::io::{AsyncBufReadExt, BufReader};
    /// use futures::StreamExt;
    ///
    /// eddy::block_on(async {
    ///     let mut child = Command::new("sh")
    ///         .args(["-c", "echo first; echo second"])
    ///         .stdout(Stdio::piped())
    ///         .spawn()?;
    ///     let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    ///     let mut got = Vec::new();
    ///     while let Some(line) = lines.next().await {
    ///         got.push(line?); // each line as the child writes it
    ///     }
    ///     assert_eq!(got, ["first", "second"]);
    ///     child.wait().await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub struct ChildStdout;

    /// Takes over the stdout pipe of a child started with
    /// `std::process::Command`, registering it with the current runtime.
    ///
    /// # Errors
    ///
    /// The OS's error if the pipe cannot be made non-blocking or watched.
    ///
    /// # Panics
    ///
    /// Outside a runtime (the pipe registers with it).
    ///
    /// ```
    /// use std::process::Stdio;
    /// use eddy::process::ChildStdout;
    /// use futures::io::AsyncReadExt;
    ///
    /// eddy::block_on(async {
    ///     let mut child = std::process::Command::new("echo")
    ///         .arg("from std")
    ///         .stdout(Stdio::piped())
    ///         .spawn()?;
    ///     let mut stdout = ChildStdout::from_std(child.stdout.take().unwrap())?;
    ///     let mut text = String::new();
    ///     stdout.read_to_string(&mut text).await?;
    ///     assert_eq!(text, "from std\n");
    ///     // std's `wait` blocks: off the loop's thread with it.
    ///     eddy::task::spawn_blocking(move || child.wait()).await.unwrap()?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_std;
}

read_end! {
    /// A child's standard error, from [`Child::stderr`](super::Child::stderr):
    /// [`AsyncRead`], ending when the child closes it (usually as it exits).
    ///
    /// ```
    /// use std::process::Stdio;
    /// use eddy::process::Command;
    /// use futures::io::AsyncReadExt;
    ///
    /// eddy::block_on(async {
    ///     let mut child = Command::new("sh")
    ///         .args(["-c", "echo oops >&2"])
    ///         .stderr(Stdio::piped())
    ///         .spawn()?;
    ///     let mut errors = String::new();
    ///     child.stderr.take().unwrap().read_to_string(&mut errors).await?;
    ///     assert_eq!(errors, "oops\n");
    ///     child.wait().await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub struct ChildStderr;

    /// Takes over the stderr pipe of a child started with
    /// `std::process::Command`, registering it with the current runtime.
    ///
    /// # Errors
    ///
    /// The OS's error if the pipe cannot be made non-blocking or watched.
    ///
    /// # Panics
    ///
    /// Outside a runtime (the pipe registers with it).
    ///
    /// ```
    /// use std::process::Stdio;
    /// use eddy::process::ChildStderr;
    /// use futures::io::AsyncReadExt;
    ///
    /// eddy::block_on(async {
    ///     let mut child = std::process::Command::new("sh")
    ///         .args(["-c", "echo warning >&2"])
    ///         .stderr(Stdio::piped())
    ///         .spawn()?;
    ///     let mut stderr = ChildStderr::from_std(child.stderr.take().unwrap())?;
    ///     let mut text = String::new();
    ///     stderr.read_to_string(&mut text).await?;
    ///     assert_eq!(text, "warning\n");
    ///     eddy::task::spawn_blocking(move || child.wait()).await.unwrap()?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_std;
}

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
    /// Outside a runtime (the pipe registers with it).
    ///
    /// ```
    /// use std::process::Stdio;
    /// use eddy::process::ChildStdin;
    /// use futures::io::AsyncWriteExt;
    ///
    /// eddy::block_on(async {
    ///     let mut child = std::process::Command::new("cat")
    ///         .stdin(Stdio::piped())
    ///         .stdout(Stdio::null())
    ///         .spawn()?;
    ///     let mut stdin = ChildStdin::from_std(child.stdin.take().unwrap())?;
    ///     stdin.write_all(b"fed from eddy").await?;
    ///     drop(stdin); // cat reads end of file and exits
    ///     let status = eddy::task::spawn_blocking(move || child.wait()).await.unwrap()?;
    ///     assert!(status.success());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
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
