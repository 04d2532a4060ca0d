//! An I/O object's registration: its `ScheduledIo`, and the ways of waiting
//! on it.
//!
//! - [`poll_io`](Registration::poll_io) and
//!   [`poll_ready`](Registration::poll_ready) serve the `poll_*` trait
//!   methods (`AsyncRead::poll_read`...): the caller's waker joins the
//!   direction's set.
//! - [`io`](Registration::io) and [`ready`](Registration::ready) return small
//!   named futures for the inherent methods (`read`, `accept`,
//!   `readable`...): each holds a waiter slot of its own, freed when the
//!   future is done or dropped. They are plain structs, not `async fn`s, so
//!   the hot path of a server (`read` then `write_all`, over and over) is a
//!   couple of calls, not a stack of nested state machines.
//! - [`try_io`](Registration::try_io) runs an operation once, without
//!   waiting (`try_read`...).
//!
//! Operations try on presumed readiness; waits do not (`scheduled_io.rs`).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use mio::Interest;

use super::scheduled_io::{CLOSED, READ_CLOSED, ScheduledIo, Slot, WRITE_CLOSED, bit};
use super::{Reactor, gone};

/// One of the two ways data moves through a descriptor.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Direction {
    Read = 0,
    Write = 1,
}

/// A descriptor registered with a reactor. The owner must call
/// [`deregister`](Registration::deregister) before it closes the descriptor.
pub(crate) struct Registration {
    reactor: Rc<Reactor>,
    io: Rc<ScheduledIo>,
    key: usize,
}

impl Registration {
    /// Registers `source` with the current runtime's reactor. Panics outside
    /// a runtime. The source starts out presumed ready in both directions:
    /// the first operation simply tries, and a `WouldBlock` clears that;
    /// a readiness wait waits for epoll's first event.
    #[track_caller]
    pub(crate) fn new(
        source: &mut impl mio::event::Source,
        interest: Interest,
    ) -> io::Result<Registration> {
        Registration::new_in(current_reactor(), source, interest)
    }

    /// Registers `source` with a given reactor (the current one, taken
    /// before the socket was made, or a listener's for what it accepts).
    pub(crate) fn new_in(
        reactor: Rc<Reactor>,
        source: &mut impl mio::event::Source,
        interest: Interest,
    ) -> io::Result<Registration> {
        let (key, io) = reactor.register(source, interest)?;
        Ok(Registration { reactor, io, key })
    }

    /// The reactor this registration belongs to.
    pub(crate) fn reactor(&self) -> Rc<Reactor> {
        Rc::clone(&self.reactor)
    }

    /// Removes the descriptor from the reactor; the registration is not used after.
    pub(crate) fn deregister(&self, source: &mut impl mio::event::Source) -> io::Result<()> {
        self.reactor.deregister(self.key, source)
    }

    /// Marks a direction not ready: the OS said `WouldBlock`. The next edge
    /// sets it again.
    #[inline]
    pub(crate) fn clear_ready(&self, dir: Direction) {
        self.io.clear_ready(dir);
    }

    /// Marks a direction ready and wakes its waiters, as an edge from the
    /// poller would: for a change the OS reports no event for.
    pub(crate) fn set_ready(&self, dir: Direction) {
        let mut wake = Vec::new();
        self.io.set_ready(super::scheduled_io::bit(dir), &mut wake);
        wake_all(wake);
    }

    /// A stream read or write came back short; see `ScheduledIo::clear_ready_short`.
    #[inline]
    pub(crate) fn clear_ready_short(&self, dir: Direction) {
        self.io.clear_ready_short(dir);
    }

    /// Ready in `dir`, or the caller's waker joins the direction's set.
    pub(crate) fn poll_ready(&self, dir: Direction, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.io.poll_ready(dir, cx) {
            Poll::Ready(()) if self.io.is_closed() => Poll::Ready(Err(gone())),
            Poll::Ready(()) => Poll::Ready(Ok(())),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Runs `op` when `dir` is ready, until it does not say `WouldBlock`;
    /// waits in the direction's set (for the `poll_*` methods).
    #[inline]
    pub(crate) fn poll_io<R>(
        &self,
        dir: Direction,
        cx: &mut Context<'_>,
        op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        poll_op(&self.io, dir, None, cx, op)
    }

    /// As [`poll_io`](Registration::poll_io), waiting in `slot` (for futures
    /// that hold a slot of their own; release it with [`release`](Registration::release)).
    #[inline]
    pub(crate) fn poll_io_in(
        &self,
        dir: Direction,
        slot: &mut Slot,
        cx: &mut Context<'_>,
        op: impl FnMut() -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        poll_op(&self.io, dir, Some(slot), cx, op)
    }

    /// Frees a waiter slot taken by `poll_io_in`.
    #[inline]
    pub(crate) fn release(&self, dir: Direction, slot: &mut Slot) {
        if *slot != Slot::None {
            self.io.release(dir, std::mem::replace(slot, Slot::None));
        }
    }

    /// A future that runs `op` when `dir` is ready, until it does not say
    /// `WouldBlock`, waiting in a slot of its own.
    pub(crate) fn io<R, F: FnMut() -> io::Result<R> + Unpin>(
        &self,
        dir: Direction,
        op: F,
    ) -> Io<'_, F> {
        Io {
            io: &self.io,
            dir,
            slot: Slot::None,
            op,
        }
    }

    /// Runs `op` once if `dir` is ready or presumed ready, else says
    /// `WouldBlock` without trying; a `WouldBlock` from `op` clears
    /// readiness, so the next wait waits for an edge.
    #[inline]
    pub(crate) fn try_io<R>(
        &self,
        dir: Direction,
        op: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        let ready = self.io.bits();
        if ready & ScheduledIo::may_try(dir) == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        if ready & CLOSED != 0 {
            return Err(gone());
        }
        let result = op();
        match &result {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.io.clear_ready(dir),
            _ if ready & bit(dir) == 0 => confirm(&self.io, dir),
            _ => {}
        }
        result
    }

    /// Waits until `dir` is ready: an edge was seen, or an operation showed
    /// it ready (presumed readiness does not count).
    pub(crate) async fn wait(&self, dir: Direction) -> io::Result<()> {
        self.ready(bit(dir)).await.map(drop)
    }

    /// A future that completes when one of the directions in `dirs` (a mask
    /// of direction bits, [`bit`] of each) is ready, with the readiness
    /// bits of those directions. Readiness can be spurious: the next
    /// operation may still say `WouldBlock`.
    pub(crate) fn ready(&self, dirs: u8) -> Ready<'_> {
        debug_assert!(dirs != 0 && dirs & !(bit(Direction::Read) | bit(Direction::Write)) == 0);
        Ready {
            io: &self.io,
            dirs,
            slots: [Slot::None; 2],
        }
    }
}

/// Both directions, for iterating.
const DIRS: [Direction; 2] = [Direction::Read, Direction::Write];

/// The readiness bits a wait on the directions `dirs` reports: each
/// direction's bit and its end-of-stream flag.
const fn report_mask(dirs: u8) -> u8 {
    let mut mask = 0;
    if dirs & bit(Direction::Read) != 0 {
        mask |= bit(Direction::Read) | READ_CLOSED;
    }
    if dirs & bit(Direction::Write) != 0 {
        mask |= bit(Direction::Write) | WRITE_CLOSED;
    }
    mask
}

/// Wakes what `confirm` or `set_ready` collected, with no borrow held.
fn wake_all(wakers: Vec<Waker>) {
    for waker in wakers {
        waker.wake();
    }
}

/// An operation succeeded on presumed readiness: see `ScheduledIo::confirm`.
#[cold]
fn confirm(io: &ScheduledIo, dir: Direction) {
    let mut wake = Vec::new();
    io.confirm(dir, &mut wake);
    wake_all(wake);
}

/// The current runtime's reactor. Panics outside a runtime.
#[track_caller]
pub(crate) fn current_reactor() -> Rc<Reactor> {
    crate::runtime::with_current("registering an I/O object", |core| Rc::clone(&core.reactor))
}

/// The loop behind every wait: try `op` while `dir` is ready; on
/// `WouldBlock` clear readiness; when not ready, leave the waker (in `slot`,
/// or in the `poll_*` set if `None`) and return `Pending`.
#[inline]
fn poll_op<R>(
    io: &ScheduledIo,
    dir: Direction,
    mut slot: Option<&mut Slot>,
    cx: &mut Context<'_>,
    mut op: impl FnMut() -> io::Result<R>,
) -> Poll<io::Result<R>> {
    loop {
        let ready = io.bits();
        if ready & ScheduledIo::may_try(dir) == 0 {
            match slot.as_deref_mut() {
                Some(slot) => io.register(dir, slot, cx),
                None => io.register_polled(dir, cx),
            }
            return Poll::Pending;
        }
        if ready & CLOSED != 0 {
            return Poll::Ready(Err(gone()));
        }
        match op() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => io.clear_ready(dir),
            result => {
                if ready & bit(dir) == 0 {
                    confirm(io, dir); // tried on presumption only: once per object
                }
                return Poll::Ready(result);
            }
        }
    }
}

/// The future of [`Registration::io`].
pub(crate) struct Io<'a, F> {
    io: &'a ScheduledIo,
    dir: Direction,
    slot: Slot,
    op: F,
}

impl<R, F: FnMut() -> io::Result<R> + Unpin> Future for Io<'_, F> {
    type Output = io::Result<R>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<R>> {
        let this = &mut *self;
        let result = poll_op(this.io, this.dir, Some(&mut this.slot), cx, &mut this.op);
        if result.is_ready() {
            this.io
                .release(this.dir, std::mem::replace(&mut this.slot, Slot::None));
        }
        result
    }
}

impl<F> Drop for Io<'_, F> {
    fn drop(&mut self) {
        if self.slot != Slot::None {
            self.io.release(self.dir, self.slot);
        }
    }
}

/// The future of [`Registration::ready`]: a waiter slot per direction.
pub(crate) struct Ready<'a> {
    io: &'a ScheduledIo,
    dirs: u8,
    slots: [Slot; 2],
}

impl Ready<'_> {
    fn release(&mut self) {
        for dir in DIRS {
            let slot = std::mem::replace(&mut self.slots[dir as usize], Slot::None);
            if slot != Slot::None {
                self.io.release(dir, slot);
            }
        }
    }
}

impl Future for Ready<'_> {
    /// The readiness bits of the directions waited for.
    type Output = io::Result<u8>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u8>> {
        let this = &mut *self;
        let ready = this.io.bits();
        if ready & CLOSED != 0 {
            this.release();
            return Poll::Ready(Err(gone()));
        }
        if ready & this.dirs != 0 {
            this.release();
            return Poll::Ready(Ok(ready & report_mask(this.dirs)));
        }
        for dir in DIRS {
            if this.dirs & bit(dir) != 0 {
                this.io.register(dir, &mut this.slots[dir as usize], cx);
            }
        }
        Poll::Pending
    }
}

impl Drop for Ready<'_> {
    fn drop(&mut self) {
        self.release();
    }
}
