//! The ends of a channel with many senders and many receivers (`broadcast`,
//! `watch`): how many of each are alive, and the two kinds of waiting that
//! depend on them. Receivers wait for a send (or for the last sender to
//! leave, which closes the channel); senders may wait for the last receiver
//! to leave (`closed()`).

use std::cell::{Cell, RefCell};
use std::task::Waker;

use super::waiters::{self, Grant, Wait, WaitList};

/// Every waiter of either list is woken for the same reason: look again.
const WOKEN: Grant = 1;

pub(crate) struct Ends {
    senders: Cell<usize>,
    receivers: Cell<usize>,
    /// Receivers waiting for a send, or for the last sender to leave. Each
    /// receiver keeps its entry from one wait to the next (`waiters::park`).
    rx_waiters: RefCell<WaitList>,
    /// Senders in `closed()`, waiting for the last receiver to leave.
    closed_waiters: RefCell<WaitList>,
}

impl Ends {
    /// One sender, no receiver.
    pub(crate) fn new() -> Ends {
        Ends {
            senders: Cell::new(1),
            receivers: Cell::new(0),
            rx_waiters: RefCell::default(),
            closed_waiters: RefCell::default(),
        }
    }

    pub(crate) fn senders(&self) -> usize {
        self.senders.get()
    }

    pub(crate) fn receivers(&self) -> usize {
        self.receivers.get()
    }

    pub(crate) fn add_sender(&self) {
        self.senders.set(self.senders.get() + 1);
    }

    /// The last sender leaving closes the channel: waiting receivers look
    /// again (and find what is left, then the end).
    pub(crate) fn drop_sender(&self) {
        let left = self.senders.get() - 1;
        self.senders.set(left);
        if left == 0 {
            self.wake_receivers();
        }
    }

    pub(crate) fn add_receiver(&self) {
        self.receivers.set(self.receivers.get() + 1);
    }

    pub(crate) fn drop_receiver(&self) {
        let left = self.receivers.get() - 1;
        self.receivers.set(left);
        if left == 0 {
            waiters::wake_all(&self.closed_waiters, WOKEN);
        }
    }

    /// Wakes every receiver waiting now (a send happened).
    pub(crate) fn wake_receivers(&self) {
        waiters::wake_all_kept(&self.rx_waiters, WOKEN);
    }

    /// Waits (see `waiters::park`) as a receiver whose entry is `key`.
    #[inline]
    pub(crate) fn park_receiver(&self, key: &mut Option<usize>, waker: &Waker) {
        waiters::park(&self.rx_waiters, key, waker);
    }

    /// Stops waiting as a receiver, keeping the entry.
    pub(crate) fn unpark_receiver(&self, key: Option<usize>) {
        if let Some(key) = key {
            waiters::unpark(&self.rx_waiters, key);
        }
    }

    /// A receiver going away gives its entry up.
    pub(crate) fn forget_receiver(&self, key: Option<usize>) {
        if let Some(key) = key {
            waiters::leave(&self.rx_waiters, key);
        }
    }

    /// Completes once no receiver is alive.
    pub(crate) async fn closed(&self) {
        // A receiver may be subscribed again while we wait: check again.
        while self.receivers.get() > 0 {
            Wait::new(&self.closed_waiters, 0).await;
        }
    }
}
