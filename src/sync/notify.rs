//! `Notify`: wake one task, or all of them, without sending a value.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::waiters::{Grant, WAITING, WaitList};

/// Chosen by `notify_one`: if dropped unused, passed on to the first waiter.
const ONE: Grant = 1;
/// Woken by `notify_waiters`.
const ALL: Grant = 2;
/// Chosen by `notify_last`: if dropped unused, passed on to the last waiter.
const LAST: Grant = 3;

/// Wakes waiting tasks of one runtime, without a value (`!Send`, no atomics).
///
/// - [`notify_one`](Notify::notify_one) wakes the task that has waited
///   longest; if none waits, it stores one permit, which the next
///   [`notified`](Notify::notified) takes at once (permits do not add up).
///   [`notify_last`](Notify::notify_last) is the same for the task that
///   began waiting last.
/// - [`notify_waiters`](Notify::notify_waiters) wakes every task waiting now
///   (and every `Notified` future already created) and stores nothing.
///
/// A `notified()` future chosen by `notify_one` and then dropped before it
/// completed passes the notification on to the next waiter.
///
/// A `Notified` joins the line when first polled, or earlier with
/// [`Notified::enable`].
///
/// For a Python reader: `notify_waiters` is asyncio's
/// `Condition.notify_all()` (without the lock); `notify_one` differs from
/// `Condition.notify()` in that it stores a permit when nobody waits, so a
/// wake-up sent just before the other task starts waiting is not lost.
///
/// ```
/// use std::rc::Rc;
/// use eddy::sync::Notify;
///
/// eddy::block_on(async {
///     let notify = Rc::new(Notify::new());
///     let n = notify.clone();
///     let waiter = eddy::spawn(async move {
///         n.notified().await;
///         "woken"
///     });
///     eddy::task::yield_now().await; // the waiter is waiting now
///     notify.notify_one();
///     assert_eq!(waiter.await.unwrap(), "woken");
/// });
/// ```
#[derive(Default)]
pub struct Notify {
    permit: Cell<bool>,
    /// How many times `notify_waiters` was called.
    calls: Cell<u64>,
    waiters: RefCell<WaitList>,
    /// `!Send`: it belongs to its runtime's thread, as API.md says.
    _not_send: PhantomData<Rc<()>>,
}

impl Notify {
    /// A `Notify` with no permit stored.
    ///
    /// ```
    /// use eddy::sync::Notify;
    ///
    /// let notify = Notify::new();
    /// notify.notify_waiters(); // nobody waits: nothing happens
    /// ```
    pub fn new() -> Notify {
        Notify::default()
    }

    /// A future that completes when notified: by a stored permit, by a
    /// `notify_one` or `notify_last` that chooses it, or by any
    /// `notify_waiters` made after this call.
    ///
    /// ```
    /// use std::rc::Rc;
    /// use eddy::sync::Notify;
    ///
    /// eddy::block_on(async {
    ///     let ready = Rc::new(Notify::new());
    ///     let worker = eddy::spawn({
    ///         let ready = ready.clone();
    ///         async move {
    ///             ready.notified().await; // waits for the go
    ///             "went"
    ///         }
    ///     });
    ///     ready.notify_one(); // a permit if the worker does not wait yet
    ///     assert_eq!(worker.await.unwrap(), "went");
    /// });
    /// ```
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            calls: self.calls.get(),
            state: State::Init,
        }
    }

    /// Wakes the longest-waiting task, or stores a permit if none waits
    /// (one at most: permits do not add up).
    ///
    /// ```
    /// use std::time::Duration;
    /// use eddy::sync::Notify;
    ///
    /// eddy::block_on(async {
    ///     let notify = Notify::new();
    ///     notify.notify_one(); // nobody waits: a permit is stored
    ///     notify.notify_one(); // still one permit
    ///     notify.notified().await; // takes it at once
    ///     let again = eddy::time::timeout(Duration::from_millis(1), notify.notified()).await;
    ///     assert!(again.is_err()); // no permit left
    /// });
    /// ```
    pub fn notify_one(&self) {
        let waker = self.waiters.borrow_mut().grant_front(ONE);
        self.wake_or_store(waker);
    }

    /// Wakes the task that began waiting last (the most recent `Notified`
    /// to join the line), or stores a permit if none waits; otherwise as
    /// [`notify_one`](Notify::notify_one). If the chosen future is dropped
    /// before it completes, the notification goes to the task that is then
    /// last (as tokio).
    ///
    /// ```
    /// use std::rc::Rc;
    /// use eddy::sync::Notify;
    ///
    /// eddy::block_on(async {
    ///     let notify = Rc::new(Notify::new());
    ///     let first = eddy::spawn({
    ///         let n = notify.clone();
    ///         async move { n.notified().await }
    ///     });
    ///     let second = eddy::spawn({
    ///         let n = notify.clone();
    ///         async move { n.notified().await }
    ///     });
    ///     eddy::task::yield_now().await; // both wait now
    ///     notify.notify_last();
    ///     eddy::task::yield_now().await;
    ///     assert!(second.is_finished());
    ///     assert!(!first.is_finished());
    ///     notify.notify_last();
    ///     first.await.unwrap();
    /// });
    /// ```
    pub fn notify_last(&self) {
        let waker = self.waiters.borrow_mut().grant_back(LAST);
        self.wake_or_store(waker);
    }

    fn wake_or_store(&self, chosen: Option<Waker>) {
        // Every waiter in the line has a waker (a no-op one if enabled but
        // never polled), so `None` means nobody waited.
        match chosen {
            Some(waker) => waker.wake(),
            None => self.permit.set(true),
        }
    }

    /// Wakes every task waiting now, and every `Notified` already created;
    /// stores no permit.
    ///
    /// ```
    /// use std::rc::Rc;
    /// use eddy::sync::Notify;
    ///
    /// eddy::block_on(async {
    ///     let notify = Rc::new(Notify::new());
    ///     let waiters: Vec<_> = (0..3)
    ///         .map(|_| {
    ///             let n = notify.clone();
    ///             eddy::spawn(async move { n.notified().await })
    ///         })
    ///         .collect();
    ///     eddy::task::yield_now().await; // all three wait now
    ///     notify.notify_waiters();
    ///     for w in waiters {
    ///         w.await.unwrap();
    ///     }
    /// });
    /// ```
    pub fn notify_waiters(&self) {
        self.calls.set(self.calls.get() + 1);
        let mut wake = Vec::new();
        self.waiters.borrow_mut().grant_all(ALL, &mut wake);
        for waker in wake {
            waker.wake();
        }
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notify")
            .field("permit", &self.permit.get())
            .finish()
    }
}

/// The future of [`Notify::notified`]. It counts every
/// [`notify_waiters`](Notify::notify_waiters) made after it was created,
/// polled or not; a [`notify_one`](Notify::notify_one) chooses it only
/// once it is in the line (polled, or [enabled](Notified::enable)).
///
/// ```
/// use eddy::sync::Notify;
///
/// eddy::block_on(async {
///     let notify = Notify::new();
///     let notified = notify.notified(); // made before the notification...
///     notify.notify_waiters();
///     notified.await; // ...so it counts for it
/// });
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Notified<'a> {
    notify: &'a Notify,
    /// `notify_waiters` calls when this future was made.
    calls: u64,
    state: State,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Not in the line yet.
    Init,
    /// In the line, under this key.
    Waiting(usize),
    /// Notified: completes at every poll from now on.
    Done,
}

impl Notified<'_> {
    /// Joins the line of waiters now, without waiting to be polled, so a
    /// `notify_one`, `notify_last` or `notify_waiters` from here on counts
    /// for this future (a permit already stored is taken at once). Returns
    /// `true` if it is already notified: the next poll completes. Calling
    /// it again, or polling, changes nothing but the waker.
    ///
    /// This is how to check a condition and wait for it without missing a
    /// notification in between: enable, check, then await (as tokio's
    /// `Notified::enable`). eddy's `Notified` is `Unpin`, so this takes
    /// `&mut self`; tokio's `future.as_mut().enable()` works the same.
    ///
    /// ```
    /// use std::cell::RefCell;
    /// use std::collections::VecDeque;
    /// use eddy::sync::Notify;
    ///
    /// struct Queue {
    ///     items: RefCell<VecDeque<u32>>,
    ///     sent: Notify,
    /// }
    ///
    /// impl Queue {
    ///     async fn pop(&self) -> u32 {
    ///         loop {
    ///             let mut notified = self.sent.notified();
    ///             notified.enable(); // from here on, no notify is missed
    ///             if let Some(item) = self.items.borrow_mut().pop_front() {
    ///                 return item;
    ///             }
    ///             notified.await;
    ///         }
    ///     }
    /// }
    ///
    /// let q = Queue { items: RefCell::new(VecDeque::new()), sent: Notify::new() };
    /// eddy::block_on(async {
    ///     let mut pop = std::pin::pin!(q.pop());
    ///     assert!(futures::poll!(pop.as_mut()).is_pending());
    ///     q.items.borrow_mut().push_back(7);
    ///     q.sent.notify_waiters(); // counts: the waiting pop was enabled
    ///     assert_eq!(pop.await, 7);
    /// });
    /// ```
    pub fn enable(&mut self) -> bool {
        self.poll_notified(None).is_ready()
    }

    /// Polls with `waker`, or only joins the line if `None`.
    fn poll_notified(&mut self, waker: Option<&Waker>) -> Poll<()> {
        let notify = self.notify;
        match self.state {
            State::Init => {
                if notify.calls.get() != self.calls || notify.permit.replace(false) {
                    self.state = State::Done;
                    return Poll::Ready(());
                }
                // Cloned before the borrow: a waker's clone is its owner's
                // code. Enabled, not polled: a no-op waker holds the place.
                let waker = waker.unwrap_or(Waker::noop()).clone();
                self.state = State::Waiting(notify.waiters.borrow_mut().push(waker));
                Poll::Pending
            }
            State::Waiting(key) => {
                let waiters = notify.waiters.borrow();
                if waiters.grant(key) != WAITING {
                    drop(waiters);
                    self.state = State::Done;
                    let removed = notify.waiters.borrow_mut().remove(key);
                    drop(removed);
                    return Poll::Ready(());
                }
                let Some(waker) = waker else {
                    return Poll::Pending;
                };
                if waiters.will_wake(key, waker) {
                    return Poll::Pending;
                }
                drop(waiters);
                let waker = waker.clone();
                let old = notify.waiters.borrow_mut().set_waker(key, waker);
                drop(old);
                Poll::Pending
            }
            State::Done => Poll::Ready(()),
        }
    }
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.get_mut().poll_notified(Some(cx.waker()))
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        if let State::Waiting(key) = self.state {
            let (grant, waker) = self.notify.waiters.borrow_mut().remove(key);
            drop(waker);
            // Chosen by notify_one or notify_last but gone: the waiter that
            // is now first (or last) gets it.
            match grant {
                ONE => self.notify.notify_one(),
                LAST => self.notify.notify_last(),
                _ => {}
            }
        }
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified")
            .field("waiting", &matches!(self.state, State::Waiting(_)))
            .finish()
    }
}
