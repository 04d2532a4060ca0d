//! The machinery every stream type shares (TCP and Unix streams): reads and
//! writes through the reactor, as `poll_*` methods and as futures.
//!
//! On top of `WouldBlock`, a stream read or write that comes back short
//! clears readiness: for a byte stream it means the kernel buffer was
//! drained (or filled), so trying again would only earn a `WouldBlock` and a
//! wasted syscall. The next edge from epoll sets readiness again. Once the
//! peer has closed its side, a short read keeps readiness: the end of
//! stream is there to read and no further edge will come. (A read of 0
//! bytes, end of stream, keeps readiness too: the next read says 0 at once.)
//! The `try_*` methods are the exception: their callers manage readiness by
//! hand and, as with tokio, only a `WouldBlock` clears it.

use std::future::Future;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use std::rc::Rc;

use crate::reactor::{Direction, Reactor, Registration, Slot, current_reactor};

/// A registered stream socket.
pub(crate) struct Stream<S: mio::event::Source> {
    pub(crate) io: S,
    pub(crate) reg: Registration,
}

impl<S> Stream<S>
where
    S: mio::event::Source + AsRawFd,
    for<'a> &'a S: Read + Write,
{
    /// Registers `io` with the current runtime. Panics outside one.
    #[track_caller]
    pub(crate) fn new(io: S) -> io::Result<Stream<S>> {
        Stream::new_in(current_reactor(), io)
    }

    /// Registers `io` with `reactor` (a listener's, for what it accepts).
    pub(crate) fn new_in(reactor: Rc<Reactor>, mut io: S) -> io::Result<Stream<S>> {
        let reg = Registration::new_in(
            reactor,
            &mut io,
            mio::Interest::READABLE | mio::Interest::WRITABLE,
        )?;
        Ok(Stream { io, reg })
    }

    fn read_now(&self, buf: &mut [u8]) -> io::Result<usize> {
        let n = (&self.io).read(buf)?;
        if n > 0 && n < buf.len() {
            self.reg.clear_ready_short(Direction::Read);
        }
        Ok(n)
    }

    fn write_now(&self, buf: &[u8]) -> io::Result<usize> {
        let n = (&self.io).write(buf)?;
        if n < buf.len() {
            self.reg.clear_ready_short(Direction::Write);
        }
        Ok(n)
    }

    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        self.reg.poll_io(Direction::Read, cx, || self.read_now(buf))
    }

    /// As [`poll_read`](Stream::poll_read), into memory that may be
    /// uninitialised (the kernel only writes to it): for a caller with a
    /// spare-capacity buffer, which need not zero it first. `Ok(n)` means
    /// `buf[..n]` is now initialised. The caller keeps a waiter `slot` of
    /// its own across reads (its waker is woken in place, not cloned per
    /// wait) and gives it back with [`release_read`](Stream::release_read).
    #[cfg(feature = "hyper")]
    pub(crate) fn poll_read_uninit(
        &self,
        slot: &mut Slot,
        cx: &mut Context<'_>,
        buf: &mut [std::mem::MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        self.reg.poll_io_in(Direction::Read, slot, cx, || {
            // `recv` never reads the buffer, so uninitialised memory is fine.
            // SAFETY: `fd` is this stream's open socket; `buf` is valid for
            // writes of `buf.len()` bytes for the call, and `recv` writes
            // only there.
            let n = unsafe {
                libc::recv(
                    self.io.as_raw_fd(),
                    buf.as_mut_ptr().cast::<libc::c_void>(),
                    buf.len(),
                    0,
                )
            };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            let n = n as usize;
            if n > 0 && n < buf.len() {
                self.reg.clear_ready_short(Direction::Read);
            }
            Ok(n)
        })
    }

    /// Frees the slot of [`poll_read_uninit`](Stream::poll_read_uninit).
    #[cfg(feature = "hyper")]
    pub(crate) fn release_read(&self, slot: &mut Slot) {
        self.reg.release(Direction::Read, slot);
    }

    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        self.reg
            .poll_io(Direction::Write, cx, || self.write_now(buf))
    }

    fn write_vectored_now(&self, bufs: &[IoSlice<'_>], len: usize) -> io::Result<usize> {
        let n = send_vectored(self.io.as_raw_fd(), bufs)?;
        if n < len {
            self.reg.clear_ready_short(Direction::Write);
        }
        Ok(n)
    }

    pub(crate) fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let len: usize = bufs.iter().map(|b| b.len()).sum();
        if len == 0 {
            return Poll::Ready(Ok(0));
        }
        self.reg
            .poll_io(Direction::Write, cx, || self.write_vectored_now(bufs, len))
    }

    /// One read now, or `WouldBlock` (clearing readiness) if none can be
    /// made. An empty `buf` reads nothing and leaves readiness alone.
    ///
    /// Unlike `poll_read`, a short read keeps readiness: a caller of the
    /// `try_*` methods drives readiness by hand and, as with tokio, sees
    /// `ready()` complete until a `WouldBlock` says otherwise.
    pub(crate) fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.reg.try_io(Direction::Read, || (&self.io).read(buf))
    }

    /// `try_read` into several buffers (`readv`).
    pub(crate) fn try_read_vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        let len: usize = bufs.iter().map(|b| b.len()).sum();
        if len == 0 {
            return Ok(0);
        }
        self.reg
            .try_io(Direction::Read, || (&self.io).read_vectored(bufs))
    }

    /// One write now, or `WouldBlock` (clearing readiness). A short write
    /// keeps readiness, as in `try_read`.
    pub(crate) fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.reg.try_io(Direction::Write, || (&self.io).write(buf))
    }

    /// `try_write` from several buffers (`sendmsg`, without `SIGPIPE`).
    pub(crate) fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let len: usize = bufs.iter().map(|b| b.len()).sum();
        if len == 0 {
            return Ok(0);
        }
        self.reg.try_io(Direction::Write, || {
            send_vectored(self.io.as_raw_fd(), bufs)
        })
    }

    /// After a successful `shutdown(how)` of this stream: the directions
    /// shut down become ready, so a task waiting in one retries at once and
    /// gets the error (`BrokenPipe`) or the end of stream. Linux sends no
    /// event for a full Unix socket that its own side shut down, and such a
    /// writer would otherwise wait for the peer to read, maybe forever.
    pub(crate) fn shut_down(&self, how: std::net::Shutdown) {
        use std::net::Shutdown;
        if matches!(how, Shutdown::Read | Shutdown::Both) {
            self.reg.set_ready(Direction::Read);
        }
        if matches!(how, Shutdown::Write | Shutdown::Both) {
            self.reg.set_ready(Direction::Write);
        }
    }

    pub(crate) fn read<'a>(&'a self, buf: &'a mut [u8]) -> Op<'a, S, &'a mut [u8]> {
        Op {
            stream: self,
            buf,
            dir: Direction::Read,
            slot: Slot::None,
        }
    }

    pub(crate) fn write<'a>(&'a self, buf: &'a [u8]) -> Op<'a, S, &'a [u8]> {
        Op {
            stream: self,
            buf,
            dir: Direction::Write,
            slot: Slot::None,
        }
    }

    pub(crate) fn read_exact<'a>(&'a self, buf: &'a mut [u8]) -> All<Op<'a, S, &'a mut [u8]>> {
        All(self.read(buf))
    }

    pub(crate) fn write_all<'a>(&'a self, buf: &'a [u8]) -> All<Op<'a, S, &'a [u8]>> {
        All(self.write(buf))
    }
}

/// `writev` for a socket, without `SIGPIPE`: std's `write_vectored` is
/// `writev(2)`, which raises `SIGPIPE` on a closed peer and kills a host
/// that has not ignored it, where the plain write path (std's `send` with
/// `MSG_NOSIGNAL`) returns `BrokenPipe`. `sendmsg` with `MSG_NOSIGNAL` does
/// what `writev` does on a stream socket, minus the signal.
fn send_vectored(fd: RawFd, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    // More than IOV_MAX slices is EMSGSIZE; a short write is allowed anyway.
    let len = bufs.len().min(1024);
    // SAFETY: `msghdr` is plain data, all-zero is a valid (empty) value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    // `IoSlice` is ABI-compatible with `iovec` on Unix (std guarantees it);
    // the kernel only reads through the pointer, for `len` entries.
    msg.msg_iov = bufs.as_ptr().cast_mut().cast::<libc::iovec>();
    msg.msg_iovlen = len as _;
    // SAFETY: `fd` is this stream's open socket; `msg` points to `len`
    // valid iovecs borrowed for the call and has no name or control data.
    let n = unsafe { libc::sendmsg(fd, &msg, libc::MSG_NOSIGNAL) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

impl<S: mio::event::Source> Drop for Stream<S> {
    fn drop(&mut self) {
        // Errors here (the epoll fd already gone) change nothing: the
        // descriptor is closed right after, which removes it anyway.
        let _ = self.reg.deregister(&mut self.io);
    }
}

/// One `read` (`B = &mut [u8]`) or one `write` (`B = &[u8]`): a flat
/// future holding its own waiter slot. Both are cancel-safe: dropped before
/// they complete, they have moved no bytes.
pub(crate) struct Op<'a, S: mio::event::Source, B> {
    stream: &'a Stream<S>,
    buf: B,
    dir: Direction,
    slot: Slot,
}

impl<S> Future for Op<'_, S, &mut [u8]>
where
    S: mio::event::Source + AsRawFd,
    for<'b> &'b S: Read + Write,
{
    type Output = io::Result<usize>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let (stream, buf) = (this.stream, &mut *this.buf);
        let result = stream
            .reg
            .poll_io_in(Direction::Read, &mut this.slot, cx, || stream.read_now(buf));
        if result.is_ready() {
            stream.reg.release(Direction::Read, &mut this.slot);
        }
        result
    }
}

impl<S> Future for Op<'_, S, &[u8]>
where
    S: mio::event::Source + AsRawFd,
    for<'b> &'b S: Read + Write,
{
    type Output = io::Result<usize>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let (stream, buf) = (this.stream, this.buf);
        let result = stream
            .reg
            .poll_io_in(Direction::Write, &mut this.slot, cx, || {
                stream.write_now(buf)
            });
        if result.is_ready() {
            stream.reg.release(Direction::Write, &mut this.slot);
        }
        result
    }
}

impl<S: mio::event::Source, B> Drop for Op<'_, S, B> {
    fn drop(&mut self) {
        self.stream.reg.release(self.dir, &mut self.slot);
    }
}

/// `read_exact` or `write_all`: repeats one [`Op`] until its buffer is done.
/// Dropped before it completes, it may have moved a part.
pub(crate) struct All<O>(O);

impl<S> Future for All<Op<'_, S, &mut [u8]>>
where
    S: mio::event::Source + AsRawFd,
    for<'b> &'b S: Read + Write,
{
    type Output = io::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let op = &mut self.0;
        while !op.buf.is_empty() {
            match Pin::new(&mut *op).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::UnexpectedEof.into())),
                Poll::Ready(Ok(n)) => op.buf = &mut std::mem::take(&mut op.buf)[n..],
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<S> Future for All<Op<'_, S, &[u8]>>
where
    S: mio::event::Source + AsRawFd,
    for<'b> &'b S: Read + Write,
{
    type Output = io::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let op = &mut self.0;
        while !op.buf.is_empty() {
            match Pin::new(&mut *op).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => op.buf = &op.buf[n..],
            }
        }
        Poll::Ready(Ok(()))
    }
}
