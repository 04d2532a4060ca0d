//! `watch`: one value that changes, and receivers that wait for the change.
//!
//! The channel holds one value and a version number that every send bumps.
//! Each receiver remembers the version it has seen; `changed()` completes as
//! soon as the version differs, so a receiver that was busy while several
//! sends happened wakes once and reads the latest value: intermediate
//! values are not kept. This fits state (a configuration, a "shutting
//! down" flag, a progress counter), not a stream of events: use `broadcast`
//! or `mpsc` for those.
//!
//! Waiting receivers sit in one FIFO list; a send grants and wakes them
//! all, so a version wakes each of them once. As in `broadcast`, each
//! receiver keeps its entry and waker from one wait to the next. The value lives in a
//! `RefCell`: `borrow()` hands out a shared borrow, and a send needs the
//! value free. A [`Ref`] kept across an `.await` while the sender sends is
//! a bug that panics with a message saying so (tokio would block there).

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::ends::Ends;

struct Shared<T> {
    value: RefCell<T>,
    /// Bumped by every send.
    version: Cell<u64>,
    ends: Ends,
}

impl<T> Shared<T> {
    fn new_receiver(self: &Rc<Self>, seen: u64) -> Receiver<T> {
        self.ends.add_receiver();
        Receiver {
            shared: Rc::clone(self),
            seen,
            key: None,
        }
    }

    fn borrow_mut(&self) -> std::cell::RefMut<'_, T> {
        self.value.try_borrow_mut().unwrap_or_else(|_| {
            panic!(
                "eddy: watch send while the value is borrowed (a watch::Ref kept across an \
                 .await, or a send from inside a borrow)"
            )
        })
    }

    /// A new version: every waiting receiver is woken.
    fn bump(&self) {
        self.version.set(self.version.get().wrapping_add(1));
        self.ends.wake_receivers();
    }

    fn borrow(&self) -> std::cell::Ref<'_, T> {
        self.value.try_borrow().unwrap_or_else(|_| {
            panic!("eddy: watch value borrowed from inside the closure that is modifying it")
        })
    }
}

/// A watch channel holding `init`. The receiver starts having seen it.
///
/// ```
/// use eddy::sync::watch;
///
/// eddy::block_on(async {
///     let (tx, mut rx) = watch::channel("starting");
///     let observer = eddy::spawn(async move {
///         rx.changed().await.unwrap();
///         *rx.borrow_and_update()
///     });
///     tx.send("running").unwrap();
///     assert_eq!(observer.await.unwrap(), "running");
/// });
/// ```
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let tx = Sender::new(init);
    let rx = tx.shared.new_receiver(0);
    (tx, rx)
}

/// The sending side of a watch channel. `Clone`: the channel closes when
/// the last sender is dropped.
///
/// ```
/// use eddy::sync::watch;
///
/// eddy::block_on(async {
///     let (tx, mut rx) = watch::channel(0);
///     let counter = eddy::spawn(async move {
///         for _ in 0..3 {
///             tx.send_modify(|n| *n += 1);
///             eddy::task::yield_now().await;
///         }
///     }); // the sender drops with the task: the channel closes
///     let mut last = 0;
///     while rx.changed().await.is_ok() {
///         last = *rx.borrow_and_update();
///     }
///     counter.await.unwrap();
///     assert_eq!(last, 3);
/// });
/// ```
pub struct Sender<T> {
    shared: Rc<Shared<T>>,
}

impl<T> Sender<T> {
    /// A sender with no receiver yet: [`subscribe`](Sender::subscribe)
    /// makes them.
    ///
    /// ```
    /// use eddy::sync::watch;
    ///
    /// let tx = watch::Sender::new(0);
    /// assert!(tx.send(1).is_err()); // nobody watches
    /// tx.send_replace(2); // stored all the same
    /// assert_eq!(*tx.subscribe().borrow(), 2);
    /// ```
    pub fn new(init: T) -> Sender<T> {
        Sender {
            shared: Rc::new(Shared {
                value: RefCell::new(init),
                version: Cell::new(0),
                ends: Ends::new(),
            }),
        }
    }

    /// Stores `value` and wakes every receiver waiting in `changed()`.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value, which is not stored, if there is no
    /// receiver ([`send_replace`](Sender::send_replace) stores it anyway).
    ///
    /// # Panics
    ///
    /// If a [`Ref`] to the value is alive (a borrow held across an `.await`).
    ///
    /// ```
    /// use eddy::sync::watch;
    ///
    /// let (tx, rx) = watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert_eq!(*rx.borrow(), 2);
    /// drop(rx);
    /// assert_eq!(tx.send(3).unwrap_err().0, 3);
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.shared.ends.receivers() == 0 {
            return Err(SendError(value));
        }
        self.send_replace(value);
        Ok(())
    }

    /// Stores `value` even with no receiver, wakes the waiting receivers,
    /// and returns the value it replaced.
    ///
    /// # Panics
    ///
    /// If a [`Ref`] to the value is alive.
    ///
    /// ```
    /// use eddy::sync::watch;
    ///
    /// let (tx, _rx) = watch::channel(1);
    /// assert_eq!(tx.send_replace(2), 1);
    /// ```
    pub fn send_replace(&self, value: T) -> T {
        let old = std::mem::replace(&mut *self.shared.borrow_mut(), value);
        self.shared.bump();
        old
    }

    /// Changes the value in place, even with no receiver, and wakes the
    /// waiting receivers.
    ///
    /// # Panics
    ///
    /// If a [`Ref`] to the value is alive, or if `modify` borrows the value
    /// of this channel itself (through a receiver or this sender); a panic
    /// in `modify` comes out here, and then the version is not bumped.
    ///
    /// ```
    /// use eddy::sync::watch;
    ///
    /// let (tx, rx) = watch::channel(vec![1]);
    /// tx.send_modify(|v| v.push(2));
    /// assert_eq!(*rx.borrow(), [1, 2]);
    /// ```
    pub fn send_modify(&self, modify: impl FnOnce(&mut T)) {
        self.send_if_modified(|v| {
            modify(v);
            true
        });
    }

    /// Lets `modify` change the value in place; only if it returns `true`
    /// are the receivers told (the version bumped, the waiting ones woken).
    /// Returns what `modify` returned.
    ///
    /// # Panics
    ///
    /// As [`send_modify`](Sender::send_modify).
    ///
    /// ```
    /// use eddy::sync::watch;
    ///
    /// let (tx, rx) = watch::channel(5);
    /// assert!(!tx.send_if_modified(|v| std::mem::replace(v, 5) != 5));
    /// assert!(!rx.has_changed().unwrap()); // same value: nobody told
    /// ```
    pub fn send_if_modified(&self, modify: impl FnOnce(&mut T) -> bool) -> bool {
        let modified = modify(&mut self.shared.borrow_mut());
        if modified {
            self.shared.bump();
        }
        modified
    }

    /// The current value. The borrow must end before the next send.
    ///
    /// # Panics
    ///
    /// If called from inside [`send_modify`](Sender::send_modify)'s closure.
    ///
    /// ```
    /// use eddy::sync::watch;
    ///
    /// let (tx, _rx) = watch::channel(1);
    /// tx.send_replace(2);
    /// assert_eq!(*tx.borrow(), 2);
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            inner: self.shared.borrow(),
            has_changed: false,
        }
    }

    /// A new receiver, having seen the current value: its `changed()`
    /// waits for the next send.
    ///
    /// ```
    /// use eddy::sync::watch;
    ///
    /// let tx = watch::Sender::new("idle");
    /// let rx = tx.subscribe();
    /// assert_eq!(*rx.borrow(), "idle");
    /// assert!(!rx.has_changed().unwrap());
    /// tx.send("busy").unwrap();
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        self.shared.new_receiver(self.shared.version.get())
    }

    /// Receivers alive now.
    ///
    /// ```
    /// use eddy::sync::watch;
    ///
    /// let (tx, rx) = watch::channel(());
    /// let rx2 = rx.clone();
    /// assert_eq!(tx.receiver_count(), 2);
    /// drop((rx, rx2));
    /// assert_eq!(tx.receiver_count(), 0);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.ends.receivers()
    }

    /// Senders alive now (this one included).
    ///
    /// ```
    /// use eddy::sync::watch;
    ///
    /// let (tx, _rx) = watch::channel(());
    /// let tx2 = tx.clone();
    /// assert_eq!(tx2.sender_count(), 2);
    /// ```
    pub fn sender_count(&self) -> usize {
        self.shared.ends.senders()
    }

    /// True if there is no receiver: [`send`](Sender::send) would fail.
    ///
    /// ```
    /// use eddy::sync::watch;
    ///
    /// let (tx, rx) = watch::channel(0);
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.ends.receivers() == 0
    }

    /// Completes once every receiver is gone (at once if none is there now).
    ///
    /// ```
    /// use eddy::sync::watch;
    ///
    /// eddy::block_on(async {
    ///     let (tx, rx) = watch::channel(());
    ///     eddy::spawn(async move { drop(rx) });
    ///     tx.closed().await;
    ///     assert!(tx.is_closed());
    /// });
    /// ```
    pub async fn closed(&self) {
        self.shared.ends.closed().await;
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        self.shared.ends.add_sender();
        Sender {
            shared: Rc::clone(&self.shared),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.shared.ends.drop_sender();
    }
}

impl<T: fmt::Debug> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("watch::Sender");
        match self.shared.value.try_borrow() {
            Ok(v) => d.field("value", &*v),
            Err(_) => d.field("value", &"<being modified>"),
        };
        d.field("version", &self.shared.version.get()).finish()
    }
}

/// The receiving side of a watch channel: sees the latest value, and waits
/// for the next change. `Clone`: the clone has seen what this one has.
///
/// ```
/// use eddy::sync::watch;
///
/// eddy::block_on(async {
///     let (tx, mut rx) = watch::channel(0);
///     let waiter = eddy::spawn(async move {
///         // Completes at once if the value is already >= 3.
///         *rx.wait_for(|&n| n >= 3).await.unwrap()
///     });
///     for n in 1..=3 {
///         tx.send(n).unwrap();
///         eddy::task::yield_now().await; // the waiter looks at each value
///     }
///     assert_eq!(waiter.await.unwrap(), 3);
/// });
/// ```
pub struct Receiver<T> {
    shared: Rc<Shared<T>>,
    /// The version this receiver has seen.
    seen: u64,
    /// Our entry among waiting receivers, kept from one wait to the next.
    key: Option<usize>,
}

impl<T> Receiver<T> {
    /// The current value, without marking it seen. The borrow must end
    /// before the next send.
    ///
    /// # Panics
    ///
    /// If called from inside [`Sender::send_modify`]'s closure.
    ///
    /// ```
    /// use eddy::sync::watch;
    ///
    /// let (tx, rx) = watch::channel(String::from("v1"));
    /// tx.send(String::from("v2")).unwrap();
    /// assert_eq!(*rx.borrow(), "v2");
    /// assert!(rx.has_changed().unwrap()); // still unseen
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            inner: self.shared.borrow(),
            has_changed: self.seen != self.shared.version.get(),
        }
    }

    /// The current value, marked seen: `changed()` waits for the next send.
    ///
    /// # Panics
    ///
    /// If called from inside [`Sender::send_modify`]'s closure.
    ///
    /// ```
    /// use eddy::sync::watch;
    ///
    /// let (tx, mut rx) = watch::channel(0);
    /// tx.send(1).unwrap();
    /// assert_eq!(*rx.borrow_and_update(), 1);
    /// assert!(!rx.has_changed().unwrap()); // seen now
    /// ```
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let version = self.shared.version.get();
        let has_changed = self.seen != version;
        self.seen = version;
        Ref {
            inner: self.shared.borrow(),
            has_changed,
        }
    }

    /// True if a value was sent that this receiver has not marked seen
    /// (equal values count: any send is a change).
    ///
    /// # Errors
    ///
    /// [`RecvError`] if every sender is gone.
    ///
    /// ```
    /// use eddy::sync::watch;
    ///
    /// let (tx, mut rx) = watch::channel(1);
    /// assert!(!rx.has_changed().unwrap());
    /// tx.send(1).unwrap();
    /// assert!(rx.has_changed().unwrap());
    /// rx.mark_unchanged();
    /// assert!(!rx.has_changed().unwrap());
    /// drop(tx);
    /// assert!(rx.has_changed().is_err());
    /// ```
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        if self.shared.ends.senders() == 0 {
            return Err(RecvError(()));
        }
        Ok(self.seen != self.shared.version.get())
    }

    /// Counts the current value as not seen: `changed()` completes at once.
    ///
    /// ```
    /// use eddy::sync::watch;
    ///
    /// eddy::block_on(async {
    ///     let (_tx, mut rx) = watch::channel("config");
    ///     rx.mark_changed(); // handle the current value like a new one
    ///     rx.changed().await.unwrap(); // at once
    ///     assert_eq!(*rx.borrow(), "config");
    /// });
    /// ```
    pub fn mark_changed(&mut self) {
        self.seen = self.shared.version.get().wrapping_sub(1);
    }

    /// Counts the current value as seen.
    ///
    /// ```
    /// use eddy::sync::watch;
    ///
    /// let (tx, mut rx) = watch::channel(0);
    /// tx.send(1).unwrap();
    /// rx.mark_unchanged(); // skip it
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn mark_unchanged(&mut self) {
        self.seen = self.shared.version.get();
    }

    /// Waits until a value this receiver has not seen is there, and marks
    /// it seen. However many sends came between, it completes once, for the
    /// latest. Cancel-safe: dropped early, it marks nothing seen.
    ///
    /// # Errors
    ///
    /// [`RecvError`] once every sender is gone and the last value was seen.
    ///
    /// ```
    /// use eddy::sync::watch;
    ///
    /// eddy::block_on(async {
    ///     let (tx, mut rx) = watch::channel(0);
    ///     tx.send(1).unwrap();
    ///     tx.send(2).unwrap();
    ///     rx.changed().await.unwrap(); // once for both sends
    ///     assert_eq!(*rx.borrow(), 2);
    ///     drop(tx);
    ///     assert!(rx.changed().await.is_err());
    /// });
    /// ```
    pub async fn changed(&mut self) -> Result<(), RecvError> {
        Changed::new(&self.shared, &mut self.seen, &mut self.key).await
    }

    /// Waits until `f` returns true for the current value, and returns that
    /// value borrowed, marked seen. `f` sees the current value first (seen
    /// or not), then each new version (not every value sent: only the
    /// latest is kept).
    ///
    /// # Errors
    ///
    /// [`RecvError`] once every sender is gone and `f` returned false for
    /// the last value.
    ///
    /// # Panics
    ///
    /// If `f` panics, or sends on this channel (the value is borrowed while
    /// `f` looks at it).
    ///
    /// ```
    /// use eddy::sync::watch;
    ///
    /// eddy::block_on(async {
    ///     let (tx, mut rx) = watch::channel(0);
    ///     eddy::spawn(async move {
    ///         for percent in [10, 50, 100] {
    ///             tx.send(percent).unwrap();
    ///             eddy::task::yield_now().await;
    ///         }
    ///     });
    ///     let done = rx.wait_for(|&percent| percent == 100).await.unwrap();
    ///     assert_eq!(*done, 100);
    /// });
    /// ```
    pub async fn wait_for(
        &mut self,
        mut f: impl FnMut(&T) -> bool,
    ) -> Result<Ref<'_, T>, RecvError> {
        let shared = &*self.shared;
        let (seen, key) = (&mut self.seen, &mut self.key);
        let mut closed = false;
        loop {
            let version = shared.version.get();
            let has_changed = *seen != version;
            *seen = version;
            if !closed || has_changed {
                let inner = shared.borrow();
                if f(&inner) {
                    return Ok(Ref { inner, has_changed });
                }
            }
            if closed {
                return Err(RecvError(()));
            }
            closed = Changed::new(shared, seen, key).await.is_err();
        }
    }
}

/// `changed()`, on the parts of a receiver, so that `wait_for` can keep a
/// borrow of the value while it marks versions seen.
struct Changed<'a, T> {
    shared: &'a Shared<T>,
    seen: &'a mut u64,
    key: &'a mut Option<usize>,
    /// This future put the receiver's entry in the line and has not
    /// completed: dropped, it takes the entry out.
    parked: bool,
}

impl<'a, T> Changed<'a, T> {
    fn new(shared: &'a Shared<T>, seen: &'a mut u64, key: &'a mut Option<usize>) -> Self {
        Changed {
            shared,
            seen,
            key,
            parked: false,
        }
    }

    fn stop_waiting(&mut self) {
        if self.parked {
            self.parked = false;
            self.shared.ends.unpark_receiver(*self.key);
        }
    }
}

impl<T> Future for Changed<'_, T> {
    type Output = Result<(), RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let version = this.shared.version.get();
        let result = if *this.seen != version {
            *this.seen = version;
            Ok(())
        } else if this.shared.ends.senders() == 0 {
            Err(RecvError(()))
        } else {
            this.shared.ends.park_receiver(this.key, cx.waker());
            this.parked = true;
            return Poll::Pending;
        };
        // Usually woken, so out of the line already; if not, the entry
        // stays linked and costs at most one spurious wake.
        this.parked = false;
        Poll::Ready(result)
    }
}

impl<T> Drop for Changed<'_, T> {
    fn drop(&mut self) {
        self.stop_waiting();
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Receiver<T> {
        self.shared.new_receiver(self.seen)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // Uncounted first: the waker dropped next may send, and this
        // receiver no longer listens.
        self.shared.ends.drop_receiver();
        self.shared.ends.forget_receiver(self.key.take());
    }
}

impl<T: fmt::Debug> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Receiver")
            .field("seen", &self.seen)
            .field("version", &self.shared.version.get())
            .finish()
    }
}

/// A borrow of a watch channel's value. Keep it short: a send while it is
/// alive panics.
///
/// ```
/// use eddy::sync::watch;
///
/// let (tx, rx) = watch::channel(String::from("v1"));
/// let len = rx.borrow().len(); // borrowed and released in one go
/// tx.send(String::from("v2")).unwrap();
/// assert_eq!(len, 2);
/// ```
pub struct Ref<'a, T> {
    inner: std::cell::Ref<'a, T>,
    has_changed: bool,
}

impl<T> Ref<'_, T> {
    /// True if this value had not been seen by the receiver when borrowed
    /// (always false for [`Sender::borrow`]).
    ///
    /// ```
    /// use eddy::sync::watch;
    ///
    /// let (tx, mut rx) = watch::channel(0);
    /// tx.send(1).unwrap();
    /// assert!(rx.borrow_and_update().has_changed());
    /// assert!(!rx.borrow_and_update().has_changed());
    /// ```
    pub fn has_changed(&self) -> bool {
        self.has_changed
    }
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

/// [`Sender::send`] found no receiver: the value comes back, not stored.
///
/// ```
/// let tx = eddy::sync::watch::Sender::new(0);
/// assert_eq!(tx.send(1).unwrap_err().0, 1);
/// assert_eq!(*tx.borrow(), 0);
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no receiver is watching")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// Every sender is gone (and, for `changed`, the last value was seen).
///
/// ```
/// eddy::block_on(async {
///     let (tx, mut rx) = eddy::sync::watch::channel(0);
///     drop(tx);
///     let err = rx.changed().await.unwrap_err();
///     assert_eq!(err.to_string(), "every sender is gone");
/// });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvError(());

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("every sender is gone")
    }
}

impl std::error::Error for RecvError {}

/// The error types again, where tokio keeps them (`watch::error::RecvError`), so
/// that code written for tokio finds them.
///
/// ```
/// use eddy::sync::watch::error::RecvError;
/// ```
pub mod error {
    pub use super::{RecvError, SendError};
}
