//! The reactor: the mio `Poll` the loop parks in.
//!
//! `poll` is the only place the loop blocks. The poller also carries the mio
//! `Waker` (an eventfd) that other threads write to when they wake a task
//! while the loop sleeps.

use std::cell::{Cell, RefCell};
use std::io;
use std::time::Duration;

use mio::{Events, Poll, Token};

/// The token of the unpark waker; never a registration's.
const UNPARK: Token = Token(usize::MAX);

pub(crate) struct Reactor {
    poll: RefCell<Poll>,
    events: RefCell<Events>,
    /// How many I/O sources are registered (with none, a zero-timeout poll
    /// can be skipped).
    sources: Cell<usize>,
}

impl Reactor {
    pub(crate) fn new() -> io::Result<(Reactor, mio::Waker)> {
        let poll = Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), UNPARK)?;
        let reactor = Reactor {
            poll: RefCell::new(poll),
            events: RefCell::new(Events::with_capacity(1024)),
            sources: Cell::new(0),
        };
        Ok((reactor, waker))
    }

    pub(crate) fn has_sources(&self) -> bool {
        self.sources.get() != 0
    }

    /// Waits for readiness for at most `timeout` (`None`: until something
    /// happens) and returns how many I/O events came in.
    pub(crate) fn poll(&self, timeout: Option<Duration>) -> usize {
        let mut events = self.events.borrow_mut();
        match self.poll.borrow_mut().poll(&mut events, timeout) {
            Ok(()) => {}
            // A signal: the caller goes round the loop and comes back.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return 0,
            Err(e) => panic!("eddy: epoll_wait failed: {e}"),
        }
        events.iter().filter(|e| e.token() != UNPARK).count()
    }
}
