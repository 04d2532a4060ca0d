//! The reactor: the mio `Poll` the loop parks in, and who waits on what.
//!
//! [`Reactor::poll`] is the only place the loop blocks: one `epoll_wait`
//! that returns when a socket is ready, the next timer is due, or another
//! thread writes the unpark waker (an eventfd registered here too).
//!
//! Every I/O object registers its file descriptor once, edge-triggered, and
//! gets a slot in a slab holding its `ScheduledIo` (`scheduled_io.rs`). The
//! slot's token carries the slot's generation, so an event for a freed slot,
//! or for a slot reused by a new descriptor, never wakes the wrong task. Per
//! direction the `ScheduledIo` keeps a readiness bit, set by events and
//! cleared by the I/O object when the OS says `WouldBlock` (or a stream read
//! or write comes back short, which means the buffer was drained or
//! filled), plus the tasks waiting for it. A fresh registration is only
//! *presumed* ready: operations try on that, readiness waits do not.
//! An edge is never lost: readiness is cleared only by an operation that
//! saw the socket not ready, after which the kernel will report the next
//! edge.
//!
//! For a host loop that waits on the poller's own fd, the reactor can also
//! keep a timerfd in the poller (`timerfd.rs`), armed for the earliest
//! deadline, so that the fd turns readable when a timer is due.
//!
//! The reactor knows wakers and tokens, never tasks.

use std::cell::{Cell, RefCell};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::rc::Rc;
use std::task::Waker;
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token};
use slab::Slab;

mod registration;
mod scheduled_io;
#[cfg(target_os = "linux")]
mod timerfd;

pub(crate) use registration::{Direction, Registration, current_reactor};
use scheduled_io::{CLOSED, ScheduledIo};
pub(crate) use scheduled_io::{READ_CLOSED, Slot, WRITE_CLOSED, bit};

/// The token of the unpark waker; never a registration's.
const UNPARK: Token = Token(usize::MAX);
/// The token of the timerfd; never a registration's.
const TIMER: Token = Token(usize::MAX - 1);

pub(crate) struct Reactor {
    /// `None` once the runtime is gone (the epoll fd is closed with it).
    poll: RefCell<Option<Poll>>,
    events: RefCell<Events>,
    sources: RefCell<Slab<Rc<ScheduledIo>>>,
    next_generation: Cell<u32>,
    /// Reused buffer for the wakers one poll must wake with no borrow held.
    wake_buf: RefCell<Vec<Waker>>,
    /// Host mode: made by the first `watch_timers`, armed by `arm_timer`.
    #[cfg(target_os = "linux")]
    timer: RefCell<Option<timerfd::TimerFd>>,
    /// The deadline the timerfd is armed for (`None`: disarmed).
    armed: Cell<Option<Instant>>,
}

impl Reactor {
    pub(crate) fn new() -> io::Result<(Reactor, mio::Waker)> {
        let poll = Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), UNPARK)?;
        let reactor = Reactor {
            poll: RefCell::new(Some(poll)),
            events: RefCell::new(Events::with_capacity(1024)),
            sources: RefCell::new(Slab::new()),
            next_generation: Cell::new(0),
            wake_buf: RefCell::new(Vec::new()),
            #[cfg(target_os = "linux")]
            timer: RefCell::new(None),
            armed: Cell::new(None),
        };
        Ok((reactor, waker))
    }

    pub(crate) fn has_sources(&self) -> bool {
        !self.sources.borrow().is_empty()
    }

    /// The poller's fd, for a host loop to wait on; -1 once the runtime is gone.
    pub(crate) fn fd(&self) -> RawFd {
        self.poll
            .borrow()
            .as_ref()
            .map_or(-1, |poll| poll.as_raw_fd())
    }

    /// Host mode: from now on the poller's fd also turns readable when the
    /// deadline given to [`arm_timer`](Reactor::arm_timer) passes. True if
    /// it does (false off Linux, or if the OS refused a timerfd).
    pub(crate) fn watch_timers(&self) -> bool {
        #[cfg(target_os = "linux")]
        {
            if self.timer.borrow().is_some() {
                return true;
            }
            let poll = self.poll.borrow();
            let Some(poll) = poll.as_ref() else {
                return false;
            };
            let made = timerfd::TimerFd::new().and_then(|timer| {
                let fd = timer.raw();
                poll.registry().register(
                    &mut mio::unix::SourceFd(&fd),
                    TIMER,
                    Interest::READABLE,
                )?;
                Ok(timer)
            });
            match made {
                Ok(timer) => {
                    *self.timer.borrow_mut() = Some(timer);
                    self.armed.set(None);
                    true
                }
                Err(e) => {
                    eprintln!(
                        "eddy: could not make a timerfd ({e}): the runtime's fd will not turn \
                         readable when a timer is due; use Runtime::next_deadline"
                    );
                    false
                }
            }
        }
        #[cfg(not(target_os = "linux"))]
        false
    }

    /// In host mode, arms the timerfd for `deadline` unless it is armed for
    /// it already: one syscall per change of the earliest deadline.
    pub(crate) fn arm_timer(&self, deadline: Option<Instant>) {
        #[cfg(target_os = "linux")]
        if let Some(timer) = self.timer.borrow().as_ref() {
            if self.armed.get() != deadline {
                // Fails only on a broken fd; the host then learns of the
                // deadline from `next_deadline` or its next event.
                if timer.arm(deadline).is_ok() {
                    self.armed.set(deadline);
                }
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = deadline;
    }

    /// Waits for readiness for at most `timeout` (`None`: until something
    /// happens), wakes the tasks waiting for what became ready, and returns
    /// how many I/O events came in.
    pub(crate) fn poll(&self, timeout: Option<Duration>) -> usize {
        let mut events = self.events.borrow_mut();
        {
            let mut poll = self.poll.borrow_mut();
            let Some(poll) = poll.as_mut() else { return 0 };
            match poll.poll(&mut events, timeout) {
                Ok(()) => {}
                // A signal: the caller goes round the loop and comes back.
                Err(e) if e.kind() == io::ErrorKind::Interrupted => return 0,
                // Only a broken epoll fd fails here (EBADF, EINVAL: closed
                // by someone else through `as_raw_fd`). Retrying would spin.
                Err(e) => panic!(
                    "eddy: epoll_wait failed: {e}: the runtime's poller fd is no longer valid (closed by someone else?)"
                ),
            }
        }
        let mut defer = std::mem::take(&mut *self.wake_buf.borrow_mut());
        let mut count = 0;
        {
            let sources = self.sources.borrow();
            for event in events.iter() {
                let token = event.token();
                if token == UNPARK {
                    continue;
                }
                if token == TIMER {
                    self.timer_fired();
                    continue;
                }
                count += 1;
                let (key, generation) = split_token(token);
                let Some(source) = sources.get(key) else {
                    continue;
                };
                if source.generation as usize & KEY_MASK != generation {
                    continue; // a stale event for a slot now used by another fd
                }
                let mut ready = 0;
                if event.is_readable() || event.is_read_closed() || event.is_error() {
                    ready |= bit(Direction::Read);
                }
                if event.is_read_closed() {
                    ready |= READ_CLOSED;
                }
                if event.is_writable() || event.is_write_closed() || event.is_error() {
                    ready |= bit(Direction::Write);
                }
                if event.is_write_closed() {
                    ready |= WRITE_CLOSED;
                }
                source.set_ready(ready, &mut defer);
            }
        }
        drop(events);
        // Wake with no borrow held: these wakers may be anyone's code.
        for waker in defer.drain(..) {
            waker.wake();
        }
        *self.wake_buf.borrow_mut() = defer;
        count
    }

    /// The timerfd expired: it is one-shot, so it is disarmed now.
    fn timer_fired(&self) {
        #[cfg(target_os = "linux")]
        if let Some(timer) = self.timer.borrow().as_ref() {
            timer.drain();
        }
        self.armed.set(None);
    }

    /// Registers `source`, edge-triggered.
    fn register(
        &self,
        source: &mut impl mio::event::Source,
        interest: Interest,
    ) -> io::Result<(usize, Rc<ScheduledIo>)> {
        let poll = self.poll.borrow();
        let Some(poll) = poll.as_ref() else {
            return Err(gone());
        };
        let generation = self.next_generation.get();
        self.next_generation.set(generation.wrapping_add(1));
        let mut sources = self.sources.borrow_mut();
        let entry = sources.vacant_entry();
        let key = entry.key();
        assert!(key <= KEY_MASK, "eddy: too many I/O registrations");
        poll.registry()
            .register(source, join_token(key, generation), interest)?;
        let io = Rc::new(ScheduledIo::new(generation));
        entry.insert(Rc::clone(&io));
        Ok((key, io))
    }

    /// Deregisters `source` and frees its slot.
    fn deregister(&self, key: usize, source: &mut impl mio::event::Source) -> io::Result<()> {
        let result = match self.poll.borrow().as_ref() {
            Some(poll) => poll.registry().deregister(source),
            None => Ok(()), // the epoll fd is already closed
        };
        let removed = self.sources.borrow_mut().try_remove(key);
        drop(removed);
        result
    }

    /// The runtime is being dropped: close the epoll fd and end every wait
    /// with an error. I/O objects still alive then get an error from each
    /// operation that would have to wait.
    pub(crate) fn close(&self) {
        let poll = self.poll.borrow_mut().take();
        drop(poll);
        #[cfg(target_os = "linux")]
        drop(self.timer.borrow_mut().take());
        let sources = std::mem::take(&mut *self.sources.borrow_mut());
        let mut defer = Vec::new();
        for (_, source) in &sources {
            source.set_ready(CLOSED, &mut defer);
        }
        drop(sources);
        for waker in defer {
            waker.wake();
        }
    }
}

/// A token is the slot's key in the low half and its generation in the high half.
const KEY_BITS: u32 = usize::BITS / 2;
const KEY_MASK: usize = (1 << KEY_BITS) - 1;

fn join_token(key: usize, generation: u32) -> Token {
    Token(key | ((generation as usize) & KEY_MASK) << KEY_BITS)
}

fn split_token(token: Token) -> (usize, usize) {
    (token.0 & KEY_MASK, token.0 >> KEY_BITS)
}

/// The error of an I/O object whose runtime was dropped.
pub(crate) fn gone() -> io::Error {
    io::Error::other("eddy: the runtime this I/O object was registered with has been dropped")
}
