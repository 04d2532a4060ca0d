//! `oneshot`: send one value from one task to another.
//!
//! Both ends share one small `Rc`'d block of `Cell`s: no atomics, no
//! `RefCell` (so a value's destructor may touch the channel freely). Each
//! end keeps at most one waker there (the receiver's, and the sender's
//! `closed()`); an end lets go of its own waker as soon as it goes.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

const SENT: u8 = 1;
/// The sender is gone: sent, or dropped.
const TX_GONE: u8 = 2;
/// The receiver closed the channel, or is gone: no value can be sent.
const RX_CLOSED: u8 = 4;

struct Inner<T> {
    value: Cell<Option<T>>,
    state: Cell<u8>,
    rx_waker: Cell<Option<Waker>>,
    tx_waker: Cell<Option<Waker>>,
}

/// A channel for one value, between tasks of one runtime (`!Send`). This
/// is asyncio's `loop.create_future()`: [`Sender::send`] is
/// `set_result`, and the [`Receiver`] is the future to await.
///
/// ```
/// use eddy::sync::oneshot;
///
/// eddy::block_on(async {
///     let (tx, rx) = oneshot::channel();
///     eddy::spawn(async move { tx.send(42).unwrap() });
///     assert_eq!(rx.await, Ok(42));
///
///     let (tx, rx) = oneshot::channel::<u32>();
///     drop(tx); // no value will come
///     assert_eq!(rx.await, Err(oneshot::RecvError));
/// });
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Rc::new(Inner {
        value: Cell::new(None),
        state: Cell::new(0),
        rx_waker: Cell::new(None),
        tx_waker: Cell::new(None),
    });
    (
        Sender {
            inner: Some(Rc::clone(&inner)),
        },
        Receiver { inner: Some(inner) },
    )
}

/// Stores `waker` in `slot` unless it would wake the same task already.
fn store(slot: &Cell<Option<Waker>>, waker: &Waker) {
    match slot.take() {
        Some(old) if old.will_wake(waker) => slot.set(Some(old)),
        old => {
            slot.set(Some(waker.clone()));
            drop(old);
        }
    }
}

fn wake(slot: &Cell<Option<Waker>>) {
    if let Some(waker) = slot.take() {
        waker.wake();
    }
}

/// The sending end of a [`channel`]. [`send`](Sender::send) consumes it;
/// dropped without sending, it makes the receiver give [`RecvError`].
///
/// ```
/// use eddy::sync::oneshot;
///
/// eddy::block_on(async {
///     let (tx, rx) = oneshot::channel();
///     // Hand the sender to a task that answers later.
///     eddy::spawn(async move {
///         eddy::task::yield_now().await;
///         let _ = tx.send("answer"); // Err only if nobody waits any more
///     });
///     assert_eq!(rx.await, Ok("answer"));
/// });
/// ```
pub struct Sender<T> {
    // `None` once `send` consumed it (so `Drop` knows).
    inner: Option<Rc<Inner<T>>>,
}

impl<T> Sender<T> {
    /// Sends the value, without waiting (the channel holds it until it is
    /// received).
    ///
    /// # Errors
    ///
    /// Gives the value back if the receiver is gone or called
    /// [`close`](Receiver::close).
    ///
    /// ```
    /// use eddy::sync::oneshot;
    ///
    /// let (tx, rx) = oneshot::channel();
    /// drop(rx);
    /// assert_eq!(tx.send("nobody listens"), Err("nobody listens"));
    /// ```
    pub fn send(mut self, value: T) -> Result<(), T> {
        let inner = self.inner.take();
        // Emptied: nothing is left for `Drop` to do, so skip it.
        std::mem::forget(self);
        // Only `send` empties it, and `send` takes the sender by value.
        let Some(inner) = inner else {
            return Err(value);
        };
        let result = if inner.state.get() & RX_CLOSED != 0 {
            inner.state.set(inner.state.get() | TX_GONE);
            Err(value)
        } else {
            inner.value.set(Some(value));
            inner.state.set(inner.state.get() | SENT | TX_GONE);
            Ok(())
        };
        // No `closed()` can run any more: its waker goes now, not when the
        // receiver goes.
        drop(inner.tx_waker.take());
        wake(&inner.rx_waker);
        result
    }

    /// True if the receiver is gone or called [`close`](Receiver::close):
    /// a `send` would fail.
    ///
    /// ```
    /// use eddy::sync::oneshot;
    ///
    /// let (tx, mut rx) = oneshot::channel::<u32>();
    /// assert!(!tx.is_closed());
    /// rx.close();
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.inner
            .as_ref()
            .is_some_and(|i| i.state.get() & RX_CLOSED != 0)
    }

    /// Waits until the receiver is gone or called
    /// [`close`](Receiver::close): lets a producer stop work nobody wants.
    /// Completes at once if that already happened.
    ///
    /// ```
    /// use eddy::sync::oneshot;
    ///
    /// eddy::block_on(async {
    ///     let (mut tx, rx) = oneshot::channel::<u32>();
    ///     eddy::spawn(async move { drop(rx) });
    ///     tx.closed().await; // the receiver went away
    ///     assert!(tx.is_closed());
    ///     assert_eq!(tx.send(1), Err(1));
    /// });
    /// ```
    pub async fn closed(&mut self) {
        std::future::poll_fn(|cx| self.poll_closed(cx)).await
    }

    /// The polling form of [`closed`](Sender::closed): `Ready` once the
    /// receiver is gone or closed; otherwise `Pending`, and the waker of the
    /// latest call is woken when that happens.
    ///
    /// ```
    /// use std::task::{Context, Poll, Waker};
    /// use eddy::sync::oneshot;
    ///
    /// let (mut tx, rx) = oneshot::channel::<u32>();
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert_eq!(tx.poll_closed(&mut cx), Poll::Pending);
    /// drop(rx);
    /// assert_eq!(tx.poll_closed(&mut cx), Poll::Ready(()));
    /// ```
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(inner) = self.inner.as_ref() else {
            return Poll::Ready(());
        };
        if inner.state.get() & RX_CLOSED != 0 {
            return Poll::Ready(());
        }
        store(&inner.tx_waker, cx.waker());
        Poll::Pending
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            let closed_waker = inner.tx_waker.take();
            inner.state.set(inner.state.get() | TX_GONE);
            wake(&inner.rx_waker);
            drop(closed_waker);
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Sender")
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// The receiving end of a [`channel`]: a future of the value, or
/// [`RecvError`] if the sender was dropped without sending (or the receiver
/// closed before a value came).
///
/// It is also a `futures_core::FusedFuture`: once it has completed,
/// [`is_terminated`](Receiver::is_terminated) says so, and `select!` skips
/// it. Polled again after it completed, it gives `Err(RecvError)` where
/// tokio's panics.
///
/// ```
/// use std::time::Duration;
/// use eddy::sync::oneshot;
///
/// eddy::block_on(async {
///     let (tx, mut rx) = oneshot::channel();
///     // Awaited by `&mut`, the receiver can be given up on and kept.
///     let early = eddy::time::timeout(Duration::from_millis(1), &mut rx).await;
///     assert!(early.is_err());
///     tx.send(3).unwrap();
///     assert_eq!(rx.await, Ok(3));
/// });
/// ```
pub struct Receiver<T> {
    /// `None` once it gave its outcome (it is terminated): it lets go of the
    /// channel then, so its drop has nothing left to do.
    inner: Option<Rc<Inner<T>>>,
}

impl<T> Receiver<T> {
    /// Takes the value if it is there.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if no value came yet (one may still come);
    /// [`TryRecvError::Closed`] if none will: the sender is gone without
    /// sending, the receiver closed first, or the value was already taken.
    ///
    /// ```
    /// use eddy::sync::oneshot::{self, TryRecvError};
    ///
    /// let (tx, mut rx) = oneshot::channel();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send("done").unwrap();
    /// assert_eq!(rx.try_recv(), Ok("done"));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let Some(inner) = &self.inner else {
            return Err(TryRecvError::Closed);
        };
        let result = match inner.value.take() {
            Some(value) => Ok(value),
            None if inner.state.get() & (TX_GONE | RX_CLOSED) != 0 => Err(TryRecvError::Closed),
            None => return Err(TryRecvError::Empty),
        };
        // The outcome is given: as tokio, the receiver is now terminated.
        self.finish();
        result
    }

    /// True once the receiver gave its outcome: it completed as a future, or
    /// `try_recv` returned the value or `Closed`. It should not be polled
    /// again (`select!` skips it).
    ///
    /// ```
    /// use eddy::sync::oneshot;
    ///
    /// eddy::block_on(async {
    ///     let (tx, mut rx) = oneshot::channel();
    ///     tx.send(1).unwrap();
    ///     assert!(!rx.is_terminated()); // sent, not yet received
    ///     assert_eq!((&mut rx).await, Ok(1));
    ///     assert!(rx.is_terminated());
    /// });
    /// ```
    pub fn is_terminated(&self) -> bool {
        self.inner.is_none()
    }

    /// Terminated: lets go of the channel. The sender is gone, or knows the
    /// receiver closed, and no waker of ours is left in it, so nothing else
    /// needs doing (the `Rc` may free the channel here).
    fn finish(&mut self) {
        self.inner = None;
    }

    /// True if no value waits to be received: none was sent yet, the
    /// sender is gone without sending, or the value was already received.
    /// An empty receiver is not necessarily safe to poll: see
    /// [`is_terminated`](Receiver::is_terminated).
    ///
    /// ```
    /// use eddy::sync::oneshot;
    ///
    /// let (tx, mut rx) = oneshot::channel();
    /// assert!(rx.is_empty());
    /// tx.send("here").unwrap();
    /// assert!(!rx.is_empty());
    /// assert_eq!(rx.try_recv(), Ok("here"));
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        // Only poll and try_recv take the value, and both terminate.
        self.inner
            .as_ref()
            .is_none_or(|inner| inner.state.get() & SENT == 0)
    }

    /// Refuses the value from now on: a later `send` gives it back. A value
    /// already sent can still be received (awaited or taken with
    /// `try_recv`); if none was, awaiting the receiver gives
    /// `Err(RecvError)` at once, even while the sender lives (as tokio).
    ///
    /// ```
    /// use eddy::sync::oneshot;
    ///
    /// eddy::block_on(async {
    ///     let (tx, mut rx) = oneshot::channel::<u32>();
    ///     rx.close();
    ///     assert!(tx.is_closed());
    ///     assert_eq!(tx.send(1), Err(1)); // refused
    ///     assert_eq!(rx.await, Err(oneshot::RecvError));
    ///
    ///     let (tx, mut rx) = oneshot::channel();
    ///     tx.send("sent before close").unwrap();
    ///     rx.close();
    ///     assert_eq!(rx.await, Ok("sent before close"));
    /// });
    /// ```
    pub fn close(&mut self) {
        // Terminated: nothing left to refuse (as tokio).
        let Some(inner) = &self.inner else {
            return;
        };
        inner.state.set(inner.state.get() | RX_CLOSED);
        // Nothing can wake the receiver from now on: what it gets is decided.
        let own_waker = inner.rx_waker.take();
        wake(&inner.tx_waker);
        drop(own_waker);
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        let this = self.get_mut();
        // Polled again after it completed: an error, as RecvError says.
        let Some(inner) = &this.inner else {
            return Poll::Ready(Err(RecvError));
        };
        if let Some(value) = inner.value.take() {
            this.finish();
            return Poll::Ready(Ok(value));
        }
        // The sender is gone, or `close()` refused any later value.
        if inner.state.get() & (TX_GONE | RX_CLOSED) != 0 {
            this.finish();
            return Poll::Ready(Err(RecvError));
        }
        store(&inner.rx_waker, cx.waker());
        Poll::Pending
    }
}

impl<T> futures_core::FusedFuture for Receiver<T> {
    fn is_terminated(&self) -> bool {
        Receiver::is_terminated(self)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let Some(inner) = &self.inner else {
            return;
        };
        inner.state.set(inner.state.get() | RX_CLOSED);
        // A value nobody will take is dropped here, on the receiver's side,
        // and the receiver's waker goes with it, not with the sender.
        let value = inner.value.take();
        let own_waker = inner.rx_waker.take();
        wake(&inner.tx_waker);
        drop(own_waker);
        drop(value);
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Receiver")
            .field("terminated", &self.is_terminated())
            .finish_non_exhaustive()
    }
}

/// No value: the sender was dropped without sending, the receiver was
/// [closed](Receiver::close) before a value came, or the value was already
/// received.
///
/// ```
/// use eddy::sync::oneshot;
///
/// eddy::block_on(async {
///     let (tx, rx) = oneshot::channel::<u32>();
///     eddy::spawn(async move {
///         drop(tx); // gives up without sending
///     });
///     let err = rx.await.unwrap_err();
///     assert_eq!(err, oneshot::RecvError);
///     println!("{err}"); // no value: the sender was dropped without sending one...
/// });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvError;

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "no value: the sender was dropped without sending one, or it was already received",
        )
    }
}

impl std::error::Error for RecvError {}

/// Why [`Receiver::try_recv`] returned no value.
///
/// ```
/// use eddy::sync::oneshot::{self, TryRecvError};
///
/// let (tx, mut rx) = oneshot::channel::<u32>();
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty)); // the sender lives
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryRecvError {
    /// No value yet; one may still come.
    Empty,
    /// No value, and none will come: the sender is gone, the receiver was
    /// closed first, or the value was already received.
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("no value yet"),
            TryRecvError::Closed => f.write_str(
                "no value: the sender was dropped without sending one, or it was already received",
            ),
        }
    }
}

impl std::error::Error for TryRecvError {}

/// The error types again, where tokio keeps them (`oneshot::error::RecvError`), so
/// that code written for tokio finds them.
///
/// ```
/// use eddy::sync::oneshot::error::RecvError;
/// ```
pub mod error {
    pub use super::{RecvError, TryRecvError};
}
