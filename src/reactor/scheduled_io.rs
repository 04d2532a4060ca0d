//! What the reactor keeps per registered descriptor: readiness, and who
//! waits for it. Shared (`Rc`) by the reactor's slab, which finds it from an
//! event's token, and by the I/O object, which checks readiness through its
//! own pointer: one `Cell` read, no lookup.
//!
//! Per direction there are three kinds of waiters:
//!
//! - the *first* future waiting (`read`, `accept`, `readable`...) takes a
//!   built-in slot: no allocation. The slot lets go of its waker when the
//!   future is done or dropped, so a finished task (or another executor's
//!   waker) is not kept alive by an I/O object it once waited on; the next
//!   wait clones its waker again (a reference count, once per wait);
//! - further futures waiting at the same time (two tasks accepting on one
//!   listener) get slots in a slab, each freed when its future is dropped;
//! - the `poll_*` trait methods leave their wakers in a small set,
//!   de-duplicated with `will_wake` and emptied on each readiness edge.
//!
//! An edge wakes all three kinds. No waker is replaced by another's.
//!
//! Readiness per direction comes in two strengths. *Ready* means epoll
//! reported an edge (or an operation showed the socket ready) and nothing
//! has said `WouldBlock` since. *Presumed* is what a fresh registration
//! starts with: nothing is known yet. An operation (`read`, `accept`,
//! `read_with`, `try_read`...) tries on either, which saves a trip through
//! epoll for the data an accepted socket often already holds. A readiness
//! wait (`readable`, `poll_read_ready`, `ready`) completes only on *ready*:
//! it says what epoll said. Presumption never comes back once it is gone:
//! an operation that succeeds on it turns it into *ready* (and wakes the
//! readiness waiters), one that says `WouldBlock` (or comes back short)
//! clears it, and an edge sets *ready* beside it.
//!
//! No edge is lost by this: epoll reports a descriptor's state as of its
//! registration with a first event (an `EPOLLET` registration of a ready
//! descriptor queues an event at once), so a wait that starts on a fresh
//! registration hears of readiness that came before it.

use std::cell::{Cell, RefCell};
use std::task::{Context, Poll, Waker};

use slab::Slab;

use super::Direction;

/// Readiness bit of a direction.
pub(crate) const fn bit(dir: Direction) -> u8 {
    1 << dir as u8
}

/// The peer closed its writing side (or the pipe's writer is gone): every
/// read from now on returns at once, so a short read does not mean "wait
/// for the next edge" (there will be none).
pub(crate) const READ_CLOSED: u8 = 1 << 2;

/// The writing side is gone for good (hang-up, or an error on the socket).
pub(crate) const WRITE_CLOSED: u8 = 1 << 3;

/// The direction's operations may try although no edge was seen: set on a
/// fresh registration only (see the module docs).
const fn presumed(dir: Direction) -> u8 {
    1 << (4 + dir as u8)
}

/// The end-of-stream flag of a direction.
const fn closed_flag(dir: Direction) -> u8 {
    match dir {
        Direction::Read => READ_CLOSED,
        Direction::Write => WRITE_CLOSED,
    }
}

/// Set when the runtime is dropped: every wait ends with an error.
pub(super) const CLOSED: u8 = 1 << 7;

pub(crate) struct ScheduledIo {
    pub(super) generation: u32,
    pub(super) ready: Cell<u8>,
    dirs: [Waiters; 2],
}

#[derive(Default)]
struct Waiters {
    first: Cell<Option<Waker>>,
    /// The first slot belongs to a waiting future right now.
    first_taken: Cell<bool>,
    others: RefCell<Slab<Option<Waker>>>,
    polled: RefCell<Vec<Waker>>,
}

/// Which slot a waiting future holds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Slot {
    None,
    First,
    Other(usize),
}

impl ScheduledIo {
    pub(super) fn new(generation: u32) -> ScheduledIo {
        ScheduledIo {
            generation,
            ready: Cell::new(presumed(Direction::Read) | presumed(Direction::Write)),
            dirs: Default::default(),
        }
    }

    /// The raw readiness bits (see the constants above).
    #[inline]
    pub(crate) fn bits(&self) -> u8 {
        self.ready.get()
    }

    /// Whether a readiness *wait* in `dir` is over: an edge was seen (or an
    /// operation showed the direction ready), or the runtime is gone.
    #[inline]
    pub(crate) fn is_ready(&self, dir: Direction) -> bool {
        self.ready.get() & (bit(dir) | CLOSED) != 0
    }

    /// The mask an *operation* tries on: ready, presumed ready, or closed
    /// (so that it fails instead of waiting).
    #[inline]
    pub(crate) const fn may_try(dir: Direction) -> u8 {
        bit(dir) | presumed(dir) | CLOSED
    }

    #[inline]
    pub(crate) fn is_closed(&self) -> bool {
        self.ready.get() & CLOSED != 0
    }

    /// The OS said `WouldBlock`: not ready until the next edge.
    #[inline]
    pub(crate) fn clear_ready(&self, dir: Direction) {
        let clear = bit(dir) | presumed(dir) | closed_flag(dir);
        self.ready.set(self.ready.get() & !clear);
    }

    /// A stream read or write came back short, so the kernel buffer was
    /// drained (or filled): not ready until the next edge, unless the peer
    /// closed its side, after which reads never block (and no edge comes).
    #[inline]
    pub(crate) fn clear_ready_short(&self, dir: Direction) {
        let ready = self.ready.get();
        if dir == Direction::Read && ready & READ_CLOSED != 0 {
            return;
        }
        self.ready.set(ready & !(bit(dir) | presumed(dir)));
    }

    /// An operation tried on presumed readiness and did not hear
    /// `WouldBlock`: the direction is ready, as if epoll had said so, and
    /// the readiness waiters learn it. Nothing to do if the operation
    /// itself cleared the presumption (a short read).
    #[cold]
    pub(crate) fn confirm(&self, dir: Direction, defer: &mut Vec<Waker>) {
        let ready = self.ready.get();
        if ready & presumed(dir) != 0 {
            self.ready.set(ready & !presumed(dir));
            self.set_ready(bit(dir), defer);
        }
    }

    /// Sets readiness bits and wakes the waiters of each direction that got
    /// one. Tasks of the running runtime are woken in place; other wakers
    /// go to `defer`, to be woken with no borrow held.
    pub(super) fn set_ready(&self, ready: u8, defer: &mut Vec<Waker>) {
        let old = self.ready.get();
        self.ready.set(old | ready);
        // Waiters register only while their direction is not ready (an
        // operation's, also not presumed ready), so only a direction that
        // just became ready can have anyone to wake.
        let rising = ready & !old;
        if rising & (bit(Direction::Read) | CLOSED) != 0 {
            self.dirs[Direction::Read as usize].wake_all(defer);
        }
        if rising & (bit(Direction::Write) | CLOSED) != 0 {
            self.dirs[Direction::Write as usize].wake_all(defer);
        }
    }

    /// The waiting future holding `slot` stores `cx`'s waker there (taking a
    /// slot if it has none). Call only when not ready.
    pub(crate) fn register(&self, dir: Direction, slot: &mut Slot, cx: &Context<'_>) {
        let w = &self.dirs[dir as usize];
        match *slot {
            Slot::None if !w.first_taken.get() => {
                w.first_taken.set(true);
                *slot = Slot::First;
                w.store_first(cx.waker());
            }
            Slot::First => w.store_first(cx.waker()),
            Slot::None => {
                let waker = cx.waker().clone();
                *slot = Slot::Other(w.others.borrow_mut().insert(Some(waker)));
            }
            Slot::Other(key) => {
                let stale = {
                    let others = w.others.borrow();
                    !others[key]
                        .as_ref()
                        .is_some_and(|old| old.will_wake(cx.waker()))
                };
                if stale {
                    let waker = cx.waker().clone();
                    let old = w.others.borrow_mut()[key].replace(waker);
                    drop(old);
                }
            }
        }
    }

    /// A waiting future is done (or dropped): its slot is freed.
    pub(crate) fn release(&self, dir: Direction, slot: Slot) {
        let w = &self.dirs[dir as usize];
        match slot {
            Slot::None => {}
            Slot::First => {
                w.first_taken.set(false);
                // Dropped here, with no borrow held: its drop is its owner's code.
                drop(w.first.take());
            }
            Slot::Other(key) => {
                let old = w.others.borrow_mut().try_remove(key);
                drop(old);
            }
        }
    }

    /// A `poll_*` method: the caller's waker joins the direction's set.
    pub(crate) fn register_polled(&self, dir: Direction, cx: &Context<'_>) {
        let w = &self.dirs[dir as usize];
        if w.polled
            .borrow()
            .iter()
            .any(|old| old.will_wake(cx.waker()))
        {
            return;
        }
        let waker = cx.waker().clone();
        w.polled.borrow_mut().push(waker);
    }

    /// Ready in `dir` (or closed), or `cx` waits in the direction's set.
    pub(crate) fn poll_ready(&self, dir: Direction, cx: &mut Context<'_>) -> Poll<()> {
        if self.is_ready(dir) {
            return Poll::Ready(());
        }
        self.register_polled(dir, cx);
        Poll::Pending
    }
}

impl Waiters {
    fn store_first(&self, waker: &Waker) {
        match self.first.take() {
            Some(old) if old.will_wake(waker) => self.first.set(Some(old)),
            old => {
                self.first.set(Some(waker.clone()));
                drop(old);
            }
        }
    }

    fn wake_all(&self, defer: &mut Vec<Waker>) {
        if self.first_taken.get() {
            if let Some(waker) = self.first.take() {
                if crate::runtime::wake_local(&waker) {
                    self.first.set(Some(waker));
                } else {
                    defer.push(waker);
                }
            }
        }
        let mut others = self.others.borrow_mut();
        if !others.is_empty() {
            for (_, slot) in others.iter_mut() {
                if let Some(waker) = slot {
                    if !crate::runtime::wake_local(waker) {
                        defer.extend(slot.take());
                    }
                }
            }
        }
        defer.append(&mut self.polled.borrow_mut());
    }
}
