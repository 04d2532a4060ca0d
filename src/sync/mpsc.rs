//! `mpsc`: a queue of values from many senders to one receiver.
//!
//! Senders and the receiver share one `Rc`'d channel: a `VecDeque` in a
//! `RefCell`, borrowed only for a push or a pop (never while a value is
//! dropped or a waker runs), and `Cell`s for the rest. A bounded channel's
//! senders wait, in FIFO order, when it is full; as the receiver takes a
//! value, the room it frees is *reserved* for the first waiting sender,
//! which then cannot be overtaken. A send future dropped while it holds a
//! reservation gives the room back to the next sender.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::waiters::{Grant, WAITING, WaitList};

/// A waiting sender was given a reserved slot.
const SLOT: Grant = 1;
/// A waiting sender learned that the receiver is gone.
const CLOSED: Grant = 2;

struct Chan<T> {
    queue: RefCell<VecDeque<T>>,
    /// `usize::MAX` for an unbounded channel.
    cap: usize,
    /// Slots promised to senders that were waiting.
    reserved: Cell<usize>,
    senders: Cell<usize>,
    /// The receiver is gone or closed: sends fail.
    closed: Cell<bool>,
    rx_waker: Cell<Option<Waker>>,
    send_waiters: RefCell<WaitList>,
    /// Whether `send_waiters` has anyone waiting (saves a borrow per recv).
    senders_waiting: Cell<bool>,
}

impl<T> Chan<T> {
    fn new(cap: usize) -> Rc<Chan<T>> {
        Rc::new(Chan {
            queue: RefCell::new(VecDeque::with_capacity(cap.min(1024))),
            cap,
            reserved: Cell::new(0),
            senders: Cell::new(1),
            closed: Cell::new(false),
            rx_waker: Cell::new(None),
            send_waiters: RefCell::default(),
            senders_waiting: Cell::new(false),
        })
    }

    /// Room for one more value now, with nobody waiting ahead.
    #[inline]
    fn has_room(&self, len: usize) -> bool {
        len + self.reserved.get() < self.cap && !self.senders_waiting.get()
    }

    #[inline]
    fn wake_receiver(&self) {
        if let Some(waker) = self.rx_waker.take() {
            waker.wake();
        }
    }

    /// Gives a freed slot to the first waiting sender, if any.
    fn grant_slot(&self) {
        let waker = {
            let mut waiters = self.send_waiters.borrow_mut();
            let waker = waiters.grant_front(SLOT);
            self.senders_waiting.set(!waiters.is_empty());
            waker
        };
        if let Some(waker) = waker {
            self.reserved.set(self.reserved.get() + 1);
            waker.wake();
        }
    }

    /// The receiver is gone or closed: every waiting sender fails.
    fn close(&self) {
        self.closed.set(true);
        let mut wake = Vec::new();
        self.send_waiters.borrow_mut().grant_all(CLOSED, &mut wake);
        self.senders_waiting.set(false);
        for waker in wake {
            waker.wake();
        }
    }
}

/// A bounded channel: `send` waits while `capacity` values are queued.
/// This is Python's `asyncio.Queue(maxsize)`. Panics if `capacity` is 0.
///
/// ```
/// use eddy::sync::mpsc;
///
/// eddy::block_on(async {
///     let (tx, mut rx) = mpsc::channel(8);
///     let producer = eddy::spawn(async move {
///         for i in 0..100u32 {
///             tx.send(i).await.unwrap(); // waits while 8 are queued
///         }
///     });
///     let mut sum = 0;
///     while let Some(i) = rx.recv().await {
///         sum += i;
///     }
///     producer.await.unwrap();
///     assert_eq!(sum, 4950);
/// });
/// ```
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        capacity > 0,
        "eddy: mpsc::channel needs a capacity of at least 1 (use mpsc::unbounded for no limit)"
    );
    let chan = Chan::new(capacity);
    (
        Sender {
            chan: Rc::clone(&chan),
        },
        Receiver { chan },
    )
}

/// An unbounded channel: `send` never waits (memory is the limit). The same
/// `Sender` and `Receiver` types as [`channel`].
///
/// ```
/// use eddy::sync::mpsc;
///
/// eddy::block_on(async {
///     let (tx, mut rx) = mpsc::unbounded();
///     tx.try_send("hello").unwrap();
///     drop(tx);
///     assert_eq!(rx.recv().await, Some("hello"));
///     assert_eq!(rx.recv().await, None); // every sender gone, queue drained
/// });
/// ```
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    let chan = Chan::new(usize::MAX);
    (
        Sender {
            chan: Rc::clone(&chan),
        },
        Receiver { chan },
    )
}

/// The sending side of a channel; clone it for more senders.
pub struct Sender<T> {
    chan: Rc<Chan<T>>,
}

impl<T> Sender<T> {
    /// Sends `value`, waiting (in FIFO order with other senders) while a
    /// bounded channel is full. Gives the value back in the error if the
    /// receiver is gone. Dropped before it completes, it sent nothing and
    /// gives back any room reserved for it.
    ///
    /// ```
    /// use eddy::sync::mpsc;
    ///
    /// eddy::block_on(async {
    ///     let (tx, rx) = mpsc::channel(1);
    ///     tx.send("queued").await.unwrap();
    ///     drop(rx);
    ///     let err = tx.send("refused").await.unwrap_err();
    ///     assert_eq!(err.0, "refused"); // the value comes back
    /// });
    /// ```
    pub fn send(&self, value: T) -> Send<'_, T> {
        Send {
            chan: &self.chan,
            value: Some(value),
            key: None,
        }
    }

    /// Sends `value` now, or says why not: `Full` or `Closed` (the
    /// receiver is gone), each giving the value back. A bounded channel is
    /// also full to `try_send` while other senders wait for room.
    ///
    /// ```
    /// use eddy::sync::mpsc::{self, TrySendError};
    ///
    /// eddy::block_on(async {
    ///     let (tx, mut rx) = mpsc::channel(1);
    ///     tx.try_send(1).unwrap();
    ///     assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    ///     rx.close();
    ///     assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
    /// });
    /// ```
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let chan = &*self.chan;
        if chan.closed.get() {
            return Err(TrySendError::Closed(value));
        }
        {
            let mut queue = chan.queue.borrow_mut();
            if !chan.has_room(queue.len()) {
                return Err(TrySendError::Full(value));
            }
            queue.push_back(value);
        }
        chan.wake_receiver();
        Ok(())
    }

    /// True if the receiver is gone (or closed): sends fail.
    pub fn is_closed(&self) -> bool {
        self.chan.closed.get()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        self.chan.senders.set(self.chan.senders.get() + 1);
        Sender {
            chan: Rc::clone(&self.chan),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let left = self.chan.senders.get() - 1;
        self.chan.senders.set(left);
        if left == 0 {
            // The receiver drains what is queued, then gets `None`.
            self.chan.wake_receiver();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Sender")
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// The future of [`Sender::send`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Send<'a, T> {
    chan: &'a Chan<T>,
    value: Option<T>,
    /// Our place among waiting senders.
    key: Option<usize>,
}

impl<T> Unpin for Send<'_, T> {}

impl<T> Future for Send<'_, T> {
    type Output = Result<(), SendError<T>>;

    // The fast path (room, nobody waiting) is small enough to inline into
    // the sender's loop; waiting is kept out of line.
    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let chan = self.chan;
        if self.key.is_none() && !chan.closed.get() {
            let mut queue = chan.queue.borrow_mut();
            if chan.has_room(queue.len()) {
                let value = self
                    .value
                    .take()
                    .expect("eddy: mpsc Send polled after completion");
                queue.push_back(value);
                drop(queue);
                chan.wake_receiver();
                return Poll::Ready(Ok(()));
            }
        }
        self.poll_slow(cx)
    }
}

impl<T> Send<'_, T> {
    #[inline(never)]
    fn poll_slow(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), SendError<T>>> {
        let chan = self.chan;
        let value = self
            .value
            .take()
            .expect("eddy: mpsc Send polled after completion");
        let Some(key) = self.key else {
            if chan.closed.get() {
                return Poll::Ready(Err(SendError(value)));
            }
            // Full, or senders wait ahead of us: join the back of the line.
            self.value = Some(value);
            let waker = cx.waker().clone();
            self.key = Some(chan.send_waiters.borrow_mut().push(waker));
            chan.senders_waiting.set(true);
            return Poll::Pending;
        };
        let grant = chan.send_waiters.borrow().grant(key);
        match grant {
            WAITING => {
                self.value = Some(value);
                if !chan.send_waiters.borrow().will_wake(key, cx.waker()) {
                    let waker = cx.waker().clone();
                    let old = chan.send_waiters.borrow_mut().set_waker(key, waker);
                    drop(old);
                }
                Poll::Pending
            }
            SLOT => {
                self.key = None;
                chan.send_waiters.borrow_mut().remove(key);
                chan.reserved.set(chan.reserved.get() - 1);
                if chan.closed.get() {
                    // Closed after the slot was kept for us.
                    return Poll::Ready(Err(SendError(value)));
                }
                chan.queue.borrow_mut().push_back(value);
                chan.wake_receiver();
                Poll::Ready(Ok(()))
            }
            _ => {
                self.key = None;
                chan.send_waiters.borrow_mut().remove(key);
                Poll::Ready(Err(SendError(value)))
            }
        }
    }
}

impl<T> Drop for Send<'_, T> {
    #[inline]
    fn drop(&mut self) {
        if self.key.is_some() {
            self.leave();
        }
        // `self.value`, if any, is dropped after this, with no borrow held.
    }
}

impl<T> Send<'_, T> {
    /// Leaves the line of waiting senders, passing on a slot kept for us.
    #[inline(never)]
    fn leave(&mut self) {
        if let Some(key) = self.key.take() {
            let (grant, waker) = {
                let mut waiters = self.chan.send_waiters.borrow_mut();
                let removed = waiters.remove(key);
                self.chan.senders_waiting.set(!waiters.is_empty());
                removed
            };
            drop(waker);
            if grant == SLOT {
                // A slot was kept for us: give it to the next sender.
                self.chan.reserved.set(self.chan.reserved.get() - 1);
                self.chan.grant_slot();
            }
        }
    }
}

impl<T> fmt::Debug for Send<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Send")
            .field("waiting", &self.key.is_some())
            .finish()
    }
}

/// The receiving side of a channel. Also a `futures_core::Stream`.
pub struct Receiver<T> {
    chan: Rc<Chan<T>>,
}

impl<T> Receiver<T> {
    /// Waits for the next value; `None` once every sender is gone and the
    /// queue is drained. Cancel-safe: dropped, it took nothing.
    ///
    /// ```
    /// use eddy::sync::mpsc;
    ///
    /// eddy::block_on(async {
    ///     let (tx, mut rx) = mpsc::unbounded();
    ///     eddy::spawn(async move {
    ///         for word in ["a", "b"] {
    ///             tx.send(word).await.unwrap();
    ///         }
    ///     }); // the task ends: its sender is dropped
    ///     assert_eq!(rx.recv().await, Some("a"));
    ///     assert_eq!(rx.recv().await, Some("b"));
    ///     assert_eq!(rx.recv().await, None);
    /// });
    /// ```
    pub fn recv(&mut self) -> Recv<'_, T> {
        Recv { rx: self }
    }

    /// The polling form of [`recv`](Receiver::recv).
    #[inline]
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let chan = &*self.chan;
        let value = chan.queue.borrow_mut().pop_front();
        match value {
            Some(value) => {
                if chan.senders_waiting.get() {
                    chan.grant_slot();
                }
                Poll::Ready(Some(value))
            }
            None => self.poll_empty(cx),
        }
    }

    #[inline(never)]
    fn poll_empty(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let chan = &*self.chan;
        // Closed by `close()`: no value can come, even with senders alive.
        if chan.senders.get() == 0 || chan.closed.get() {
            return Poll::Ready(None);
        }
        match chan.rx_waker.take() {
            Some(old) if old.will_wake(cx.waker()) => chan.rx_waker.set(Some(old)),
            old => {
                chan.rx_waker.set(Some(cx.waker().clone()));
                drop(old);
            }
        }
        Poll::Pending
    }

    /// Takes a value if one is queued.
    ///
    /// ```
    /// use eddy::sync::mpsc::{self, TryRecvError};
    ///
    /// let (tx, mut rx) = mpsc::unbounded();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.try_send(7).unwrap();
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Ok(7));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let chan = &*self.chan;
        let value = chan.queue.borrow_mut().pop_front();
        match value {
            Some(value) => {
                if chan.senders_waiting.get() {
                    chan.grant_slot();
                }
                Ok(value)
            }
            None if chan.senders.get() == 0 || chan.closed.get() => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }

    /// Stops the channel: sends fail from now on (waiting senders get their
    /// values back), while what is queued can still be received; then
    /// `recv` gives `None`, even if senders are still alive.
    ///
    /// ```
    /// use eddy::sync::mpsc;
    ///
    /// eddy::block_on(async {
    ///     let (tx, mut rx) = mpsc::channel(4);
    ///     tx.send(1).await.unwrap();
    ///     rx.close();
    ///     assert!(tx.send(2).await.is_err());
    ///     assert_eq!(rx.recv().await, Some(1)); // still there
    ///     assert_eq!(rx.recv().await, None);
    /// });
    /// ```
    pub fn close(&mut self) {
        self.chan.close();
    }

    /// Values queued now.
    pub fn len(&self) -> usize {
        self.chan.queue.borrow().len()
    }

    /// True if no value is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.chan.close();
        // Nothing will poll this receiver again: let its task's waker go now,
        // not when the last sender goes.
        drop(self.chan.rx_waker.take());
        // Values nobody will receive are dropped with no borrow held: their
        // destructors may use the channel.
        let queued = std::mem::take(&mut *self.chan.queue.borrow_mut());
        drop(queued);
    }
}

impl<T> futures_core::Stream for Receiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut().poll_recv(cx)
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Receiver")
            .field("len", &self.len())
            .finish()
    }
}

/// The future of [`Receiver::recv`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Recv<'a, T> {
    rx: &'a mut Receiver<T>,
}

impl<T> Future for Recv<'_, T> {
    type Output = Option<T>;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.rx.poll_recv(cx)
    }
}

/// The receiver is gone: the value comes back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the receiver is gone")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// Why [`Sender::try_send`] did not send; the value comes back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TrySendError<T> {
    /// The channel is full (or senders are waiting ahead).
    Full(T),
    /// The receiver is gone.
    Closed(T),
}

impl<T> TrySendError<T> {
    /// The value that was not sent.
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(v) | TrySendError::Closed(v) => v,
        }
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("the channel is full"),
            TrySendError::Closed(_) => f.write_str("the receiver is gone"),
        }
    }
}

impl<T> std::error::Error for TrySendError<T> {}

/// Why [`Receiver::try_recv`] returned no value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing queued; senders remain.
    Empty,
    /// Nothing queued, and every sender is gone.
    Disconnected,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("the channel is empty"),
            TryRecvError::Disconnected => {
                f.write_str("the channel is empty and every sender is gone")
            }
        }
    }
}

impl std::error::Error for TryRecvError {}
