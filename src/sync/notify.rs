//! `Notify`: wake one task, or all of them, without sending a value.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::waiters::{Grant, WAITING, WaitList};

/// Chosen by `notify_one`: if dropped unused, passed on.
const ONE: Grant = 1;
/// Woken by `notify_waiters`.
const ALL: Grant = 2;

/// Wakes waiting tasks of one runtime, without a value (`!Send`, no atomics).
///
/// - [`notify_one`](Notify::notify_one) wakes the task that has waited
///   longest; if none waits, it stores one permit, which the next
///   [`notified`](Notify::notified) takes at once (permits do not add up).
/// - [`notify_waiters`](Notify::notify_waiters) wakes every task waiting now
///   (and every `Notified` future already created) and stores nothing.
///
/// A `notified()` future chosen by `notify_one` and then dropped before it
/// completed passes the notification on to the next waiter.
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
    pub fn new() -> Notify {
        Notify::default()
    }

    /// A future that completes when notified.
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            calls: self.calls.get(),
            key: None,
        }
    }

    /// Wakes the longest-waiting task, or stores a permit if none waits.
    pub fn notify_one(&self) {
        let waker = self.waiters.borrow_mut().grant_front(ONE);
        match waker {
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

/// The future of [`Notify::notified`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Notified<'a> {
    notify: &'a Notify,
    /// `notify_waiters` calls when this future was made.
    calls: u64,
    key: Option<usize>,
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let notify = self.notify;
        match self.key {
            None => {
                if notify.calls.get() != self.calls || notify.permit.replace(false) {
                    return Poll::Ready(());
                }
                let waker = cx.waker().clone();
                self.key = Some(notify.waiters.borrow_mut().push(waker));
                Poll::Pending
            }
            Some(key) => {
                let waiters = notify.waiters.borrow();
                if waiters.grant(key) != WAITING {
                    drop(waiters);
                    self.key = None;
                    notify.waiters.borrow_mut().remove(key);
                    return Poll::Ready(());
                }
                if waiters.will_wake(key, cx.waker()) {
                    return Poll::Pending;
                }
                drop(waiters);
                let waker = cx.waker().clone();
                let old = notify.waiters.borrow_mut().set_waker(key, waker);
                drop(old);
                Poll::Pending
            }
        }
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let (grant, waker) = self.notify.waiters.borrow_mut().remove(key);
            drop(waker);
            if grant == ONE {
                // Chosen by notify_one but gone: the next waiter gets it.
                self.notify.notify_one();
            }
        }
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified")
            .field("waiting", &self.key.is_some())
            .finish()
    }
}
