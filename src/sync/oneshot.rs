//! `oneshot`: send one value from one task to another.
//!
//! Both ends share one small `Rc`'d block of `Cell`s: no atomics, no
//! `RefCell` (so a value's destructor may touch the channel freely).

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

const SENT: u8 = 1;
const TX_GONE: u8 = 2;
const RX_GONE: u8 = 4;

struct Inner<T> {
    value: Cell<Option<T>>,
    state: Cell<u8>,
    rx_waker: Cell<Option<Waker>>,
    tx_waker: Cell<Option<Waker>>,
}

/// A channel for one value, between tasks of one runtime (`!Send`).
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
        Receiver { inner },
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

/// The sending end of a [`channel`].
pub struct Sender<T> {
    // `None` once `send` consumed it (so `Drop` knows).
    inner: Option<Rc<Inner<T>>>,
}

impl<T> Sender<T> {
    /// Sends the value; gives it back if the receiver is gone.
    pub fn send(mut self, value: T) -> Result<(), T> {
        let inner = self.inner.take().expect("present until send");
        // No `closed()` can run any more: its waker goes now, not when the
        // receiver goes.
        let closed_waker = inner.tx_waker.take();
        let result = if inner.state.get() & RX_GONE != 0 {
            inner.state.set(inner.state.get() | TX_GONE);
            Err(value)
        } else {
            inner.value.set(Some(value));
            inner.state.set(inner.state.get() | SENT | TX_GONE);
            Ok(())
        };
        wake(&inner.rx_waker);
        drop(closed_waker);
        result
    }

    /// True if the receiver is gone (a `send` would fail).
    pub fn is_closed(&self) -> bool {
        self.inner
            .as_ref()
            .is_some_and(|i| i.state.get() & RX_GONE != 0)
    }

    /// Waits until the receiver is gone: lets a producer stop work nobody wants.
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
        let inner = self.inner.as_ref().expect("present until send");
        std::future::poll_fn(|cx| {
            if inner.state.get() & RX_GONE != 0 {
                return Poll::Ready(());
            }
            store(&inner.tx_waker, cx.waker());
            Poll::Pending
        })
        .await
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
/// [`RecvError`] if the sender was dropped without sending.
pub struct Receiver<T> {
    inner: Rc<Inner<T>>,
}

impl<T> Receiver<T> {
    /// Takes the value if it is there.
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
        match self.inner.value.take() {
            Some(value) => Ok(value),
            None if self.inner.state.get() & (TX_GONE | RX_GONE) != 0 => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        }
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
        let inner = &self.inner;
        inner.state.set(inner.state.get() | RX_GONE);
        // Nothing can wake the receiver from now on: what it gets is decided.
        let own_waker = inner.rx_waker.take();
        wake(&inner.tx_waker);
        drop(own_waker);
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        let inner = &self.inner;
        if let Some(value) = inner.value.take() {
            return Poll::Ready(Ok(value));
        }
        // The sender is gone, or `close()` refused any later value.
        if inner.state.get() & (TX_GONE | RX_GONE) != 0 {
            return Poll::Ready(Err(RecvError));
        }
        store(&inner.rx_waker, cx.waker());
        Poll::Pending
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let inner = &self.inner;
        inner.state.set(inner.state.get() | RX_GONE);
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
        f.debug_struct("oneshot::Receiver").finish_non_exhaustive()
    }
}

/// No value: the sender was dropped without sending, or the value was
/// already received.
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryRecvError {
    /// No value yet; one may still come.
    Empty,
    /// No value, and none will come: the sender is gone, or the value was
    /// already received.
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
