//! `mpsc`: a queue of values from many senders to one receiver.
//!
//! Senders and the receiver share one `Rc`'d channel: a `VecDeque` in a
//! `RefCell`, borrowed only for a push or a pop (never while a value is
//! dropped or a waker runs), and `Cell`s for the rest. A bounded channel's
//! senders wait, in FIFO order, when it is full; as the receiver takes a
//! value, the room it frees is *reserved* for the first waiting sender,
//! which then cannot be overtaken. A send future dropped while it holds a
//! reservation gives the room back to the next sender.
//!
//! Room can also be reserved ahead of the value ([`Sender::reserve`] and
//! its kin, in `mpsc/reserve.rs`): a [`Permit`] holds one slot until it
//! sends into it or is dropped. Reservations wait in the same FIFO line as
//! sends, and a request for several slots at the head holds back the
//! requests behind it until all its room is free. After
//! [`Receiver::close`], permits already out can still send, and the
//! receiver waits for them before it ends.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use super::Notify;
use super::waiters::{Grant, WAITING, WaitList};

mod reserve;

pub use self::reserve::{OwnedPermit, Permit, PermitIterator};

/// A waiting sender was given the room it asked for.
const SLOT: Grant = 1;
/// A waiting sender learned that the receiver is gone.
const CLOSED: Grant = 2;

struct Chan<T> {
    queue: RefCell<VecDeque<T>>,
    /// `usize::MAX` for an unbounded channel.
    cap: usize,
    /// Room held off the queue: given to waiters that have not looked yet,
    /// and held by permits.
    reserved: Cell<usize>,
    /// The part of `reserved` that live permits hold: after `close`, the
    /// receiver waits for them.
    permits: Cell<usize>,
    senders: Cell<usize>,
    /// The receiver is gone or closed: sends fail.
    closed: Cell<bool>,
    /// The receiver is gone: a permit's value is dropped, not queued.
    rx_gone: Cell<bool>,
    rx_waker: Cell<Option<Waker>>,
    send_waiters: RefCell<WaitList>,
    /// Whether `send_waiters` has anyone waiting (saves a borrow per recv).
    senders_waiting: Cell<bool>,
    /// Wakes `Sender::closed` futures when the receiver closes or goes.
    rx_closed: Notify,
}

impl<T> Chan<T> {
    fn new(cap: usize) -> Rc<Chan<T>> {
        Rc::new(Chan {
            queue: RefCell::new(VecDeque::with_capacity(cap.min(1024))),
            cap,
            reserved: Cell::new(0),
            permits: Cell::new(0),
            senders: Cell::new(1),
            closed: Cell::new(false),
            rx_gone: Cell::new(false),
            rx_waker: Cell::new(None),
            send_waiters: RefCell::default(),
            senders_waiting: Cell::new(false),
            rx_closed: Notify::new(),
        })
    }

    /// Room for one more value now, with nobody waiting ahead.
    #[inline]
    fn has_room(&self, len: usize) -> bool {
        len + self.reserved.get() < self.cap && !self.senders_waiting.get()
    }

    /// Slots neither queued nor reserved. Never call with `queue` borrowed.
    fn free(&self) -> usize {
        self.cap - self.queue.borrow().len() - self.reserved.get()
    }

    #[inline]
    fn wake_receiver(&self) {
        if let Some(waker) = self.rx_waker.take() {
            waker.wake();
        }
    }

    /// Gives free room to the waiting senders at the head, in order, while
    /// it covers what each asks for.
    #[inline(never)]
    fn grant_room(&self) {
        loop {
            let free = self.free();
            let waker = {
                let mut waiters = self.send_waiters.borrow_mut();
                let Some((need, waker)) = waiters.grant_front_within(SLOT, free) else {
                    return;
                };
                self.reserved.set(self.reserved.get() + need);
                self.senders_waiting.set(!waiters.is_empty());
                waker
            };
            // No borrow held: the waker may use the channel.
            if let Some(waker) = waker {
                waker.wake();
            }
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
        self.rx_closed.notify_waiters();
    }

    /// Waits in line for `need` slots; on `Ready(Ok)` they are counted in
    /// `reserved`, for the caller to fill or to hand to a permit.
    /// `Ready(Err)` if the receiver is gone or closed.
    fn poll_room(
        &self,
        key: &mut Option<usize>,
        need: usize,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), ()>> {
        let Some(k) = *key else {
            if self.closed.get() {
                return Poll::Ready(Err(()));
            }
            if need == 0 || (!self.senders_waiting.get() && self.free() >= need) {
                self.reserved.set(self.reserved.get() + need);
                return Poll::Ready(Ok(()));
            }
            // Full, or senders wait ahead of us: join the back of the line.
            let waker = cx.waker().clone();
            *key = Some(self.send_waiters.borrow_mut().push_needing(waker, need));
            self.senders_waiting.set(true);
            return Poll::Pending;
        };
        let grant = self.send_waiters.borrow().grant(k);
        if grant == WAITING {
            if !self.send_waiters.borrow().will_wake(k, cx.waker()) {
                let waker = cx.waker().clone();
                let old = self.send_waiters.borrow_mut().set_waker(k, waker);
                drop(old);
            }
            return Poll::Pending;
        }
        *key = None;
        let removed = self.send_waiters.borrow_mut().remove(k);
        drop(removed);
        if grant == SLOT && !self.closed.get() {
            return Poll::Ready(Ok(()));
        }
        if grant == SLOT {
            // Closed after the room was kept for us: nothing can use it.
            self.reserved.set(self.reserved.get() - need);
        }
        Poll::Ready(Err(()))
    }

    /// Leaves the line of waiting senders, passing on room kept for us.
    #[inline(never)]
    fn leave(&self, key: usize, need: usize) {
        let (grant, waker) = {
            let mut waiters = self.send_waiters.borrow_mut();
            let removed = waiters.remove(key);
            self.senders_waiting.set(!waiters.is_empty());
            removed
        };
        drop(waker);
        if grant == SLOT {
            self.reserved.set(self.reserved.get() - need);
        }
        // The room kept for us, or (if we were the head) room that was
        // too little for us, may serve the next in line.
        if grant != CLOSED && self.senders_waiting.get() {
            self.grant_room();
        }
    }

    /// Gives back `n` slots that permits held without sending.
    fn release_permits(&self, n: usize) {
        self.permits.set(self.permits.get() - n);
        self.reserved.set(self.reserved.get() - n);
        if self.senders_waiting.get() {
            self.grant_room();
        }
        // A closed channel ends for the receiver once no permit is out.
        if self.closed.get() && self.permits.get() == 0 {
            self.wake_receiver();
        }
    }

    /// Fills one slot a permit held.
    fn send_permitted(&self, value: T) {
        self.permits.set(self.permits.get() - 1);
        self.reserved.set(self.reserved.get() - 1);
        if self.rx_gone.get() {
            // Nobody will ever take it: dropped now, with no borrow held.
            drop(value);
            return;
        }
        self.queue.borrow_mut().push_back(value);
        self.wake_receiver();
    }

    /// True once nothing more can come to the receiver, besides what is
    /// queued: every sender is gone, or the channel was closed and no
    /// permit is out.
    fn is_over(&self) -> bool {
        self.senders.get() == 0 || (self.closed.get() && self.permits.get() == 0)
    }

    fn capacity(&self) -> usize {
        if self.cap == usize::MAX {
            return usize::MAX;
        }
        // While senders wait, free room is set aside for the head.
        if self.senders_waiting.get() {
            0
        } else {
            self.free()
        }
    }
}

/// A bounded channel: `send` waits while `capacity` values are queued (or
/// their room is reserved). This is Python's `asyncio.Queue(maxsize)`.
///
/// # Panics
///
/// If `capacity` is 0.
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
    pair(Chan::new(capacity))
}

/// An unbounded channel: `send` never waits (memory is the limit). The same
/// `Sender` and `Receiver` types as [`channel`], so it also has what
/// tokio's `UnboundedSender` lacks: [`Sender::reserve`] and its kin work
/// and never wait, and [`Sender::capacity`] and
/// [`Sender::max_capacity`] are `usize::MAX`.
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
    pair(Chan::new(usize::MAX))
}

fn pair<T>(chan: Rc<Chan<T>>) -> (Sender<T>, Receiver<T>) {
    (
        Sender {
            chan: Rc::clone(&chan),
        },
        Receiver {
            chan,
            terminated: false,
        },
    )
}

/// The sending side of a channel; clone it for more senders. When the
/// last sender is dropped, the receiver gets what is queued, then `None`.
///
/// ```
/// use eddy::sync::mpsc;
///
/// eddy::block_on(async {
///     let (tx, mut rx) = mpsc::channel(4);
///     for id in 0..3 {
///         let tx = tx.clone();
///         eddy::spawn(async move { tx.send(id).await.unwrap() });
///     }
///     drop(tx); // only the tasks' clones are left
///     let mut got = Vec::new();
///     while let Some(id) = rx.recv().await {
///         got.push(id);
///     }
///     got.sort();
///     assert_eq!(got, [0, 1, 2]);
/// });
/// ```
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

    /// Sends `value` now, or says why not.
    ///
    /// # Errors
    ///
    /// `Full` (a bounded channel is also full to `try_send` while other
    /// senders wait for room) or `Closed` (the receiver is gone or closed),
    /// each giving the value back.
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

    /// Sends `value`, waiting at most `timeout` for room (the value is
    /// queued only if room comes in time). A channel with room sends at
    /// once, whatever the timeout.
    ///
    /// # Errors
    ///
    /// [`SendTimeoutError::Timeout`] if no room came in time,
    /// [`SendTimeoutError::Closed`] if the receiver is gone or closed; each
    /// gives the value back.
    ///
    /// # Panics
    ///
    /// If it has to wait outside a runtime (its timer needs one, as
    /// [`crate::time::timeout`]).
    ///
    /// ```
    /// use std::time::Duration;
    /// use eddy::sync::mpsc::{self, SendTimeoutError};
    ///
    /// eddy::block_on(async {
    ///     let (tx, _rx) = mpsc::channel(1);
    ///     tx.send_timeout(1, Duration::from_millis(10)).await.unwrap();
    ///     let full = tx.send_timeout(2, Duration::from_millis(10)).await;
    ///     assert_eq!(full, Err(SendTimeoutError::Timeout(2)));
    /// });
    /// ```
    pub async fn send_timeout(
        &self,
        value: T,
        timeout: Duration,
    ) -> Result<(), SendTimeoutError<T>> {
        match crate::time::timeout(timeout, self.reserve()).await {
            Ok(Ok(permit)) => {
                permit.send(value);
                Ok(())
            }
            Ok(Err(_)) => Err(SendTimeoutError::Closed(value)),
            Err(_) => Err(SendTimeoutError::Timeout(value)),
        }
    }

    /// True if the receiver is gone or called [`Receiver::close`]: sends
    /// fail.
    ///
    /// ```
    /// use eddy::sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::channel::<u32>(1);
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.closed.get()
    }

    /// Waits until the receiver is gone or closed (completes at once if it
    /// is): lets a producer stop work nobody will receive.
    ///
    /// ```
    /// use eddy::sync::mpsc;
    ///
    /// eddy::block_on(async {
    ///     let (tx, rx) = mpsc::channel::<u32>(1);
    ///     eddy::spawn(async move { drop(rx) });
    ///     tx.closed().await;
    ///     assert!(tx.is_closed());
    /// });
    /// ```
    pub async fn closed(&self) {
        let chan = &*self.chan;
        // Made before the check: a close from here on completes it.
        let notified = chan.rx_closed.notified();
        if !chan.closed.get() {
            notified.await;
        }
    }

    /// Slots free right now: the bound, less values queued, less room
    /// reserved (by permits, or for waiting senders); 0 while senders wait
    /// (free room is set aside for the first). `usize::MAX` for an
    /// unbounded channel.
    ///
    /// ```
    /// use eddy::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<u32>(4);
    /// assert_eq!(tx.capacity(), 4);
    /// tx.try_send(1).unwrap();
    /// let permit = tx.try_reserve().unwrap();
    /// assert_eq!(tx.capacity(), 2);
    /// drop(permit);
    /// assert_eq!(tx.capacity(), 3);
    /// assert_eq!(tx.max_capacity(), 4);
    /// ```
    pub fn capacity(&self) -> usize {
        self.chan.capacity()
    }

    /// The bound given to [`channel`]; `usize::MAX` for an unbounded channel.
    ///
    /// ```
    /// use eddy::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<u32>(16);
    /// assert_eq!(tx.max_capacity(), 16);
    /// let (tx, _rx) = mpsc::unbounded::<u32>();
    /// assert_eq!(tx.max_capacity(), usize::MAX);
    /// ```
    pub fn max_capacity(&self) -> usize {
        self.chan.cap
    }

    /// True if both senders feed the same channel.
    ///
    /// ```
    /// use eddy::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<u32>(1);
    /// let (other, _other_rx) = mpsc::channel::<u32>(1);
    /// assert!(tx.same_channel(&tx.clone()));
    /// assert!(!tx.same_channel(&other));
    /// ```
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Rc::ptr_eq(&self.chan, &other.chan)
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

/// The future of [`Sender::send`]: `Ok(())` once the value is queued, or
/// [`SendError`] with the value if the receiver is gone or closed.
///
/// It waits in FIFO order with the other senders while a bounded channel
/// is full. Dropped before it completes, it sent nothing (its value is
/// dropped with it), and room kept for it goes to the next sender.
///
/// ```
/// use eddy::sync::mpsc;
///
/// eddy::block_on(async {
///     let (tx, mut rx) = mpsc::channel(1);
///     tx.send(1).await.unwrap(); // the channel is full now
///     let mut send = tx.send(2);
///     assert!(futures::poll!(&mut send).is_pending()); // waits for room
///     assert_eq!(rx.recv().await, Some(1)); // room, kept for the waiting send
///     send.await.unwrap();
///     assert_eq!(rx.recv().await, Some(2));
/// });
/// ```
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
        match chan.poll_room(&mut self.key, 1, cx) {
            Poll::Pending => {
                self.value = Some(value);
                Poll::Pending
            }
            Poll::Ready(Ok(())) => {
                // The slot kept for us is filled.
                chan.reserved.set(chan.reserved.get() - 1);
                chan.queue.borrow_mut().push_back(value);
                chan.wake_receiver();
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(())) => Poll::Ready(Err(SendError(value))),
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
    #[inline(never)]
    fn leave(&mut self) {
        if let Some(key) = self.key.take() {
            self.chan.leave(key, 1);
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

/// The receiving side of a channel. Also a `futures_core::Stream`, and a
/// `FusedStream`: [`is_terminated`](futures_core::FusedStream::is_terminated)
/// is true once it reported the end (so `select!` needs no `.fuse()`).
///
/// As a stream it is Python's `async for item in queue` loop, ending when
/// every sender is gone:
///
/// ```
/// use eddy::sync::mpsc;
/// use futures::StreamExt;
///
/// eddy::block_on(async {
///     let (tx, rx) = mpsc::unbounded();
///     for i in 1..=3 {
///         tx.send(i).await.unwrap();
///     }
///     drop(tx);
///     let doubled: Vec<i32> = rx.map(|i| i * 2).collect().await;
///     assert_eq!(doubled, [2, 4, 6]);
/// });
/// ```
pub struct Receiver<T> {
    chan: Rc<Chan<T>>,
    /// `recv` (or `recv_many`, or the stream) reported the end.
    terminated: bool,
}

impl<T> Receiver<T> {
    /// Waits for the next value; `None` once every sender is gone (or
    /// [`close`](Receiver::close) was called and no permit is left) and
    /// the queue is drained. Cancel-safe: dropped, it took nothing.
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

    /// The polling form of [`recv`](Receiver::recv), for a hand-written
    /// `Future` or `Stream`: `Pending` keeps the waker of the latest call.
    ///
    /// ```
    /// use std::task::{Context, Poll, Waker};
    /// use eddy::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::unbounded();
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert_eq!(rx.poll_recv(&mut cx), Poll::Pending);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(1)));
    /// drop(tx);
    /// assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(None));
    /// ```
    #[inline]
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let chan = &*self.chan;
        let value = chan.queue.borrow_mut().pop_front();
        match value {
            Some(value) => {
                if chan.senders_waiting.get() {
                    chan.grant_room();
                }
                Poll::Ready(Some(value))
            }
            None => self.poll_empty(cx),
        }
    }

    /// Nothing queued: `Ready(None)` if nothing more can come, else waits.
    #[inline(never)]
    fn poll_empty(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let chan = &*self.chan;
        if chan.is_over() {
            self.terminated = true;
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

    /// Waits for values and moves up to `limit` of them (all those queued,
    /// up to `limit`) to the end of `buffer`, growing it as needed; returns
    /// how many. It returns 0 only if `limit` is 0, or once nothing more
    /// can come (as `recv` gives `None`). Cancel-safe: dropped, it took
    /// nothing.
    ///
    /// ```
    /// use eddy::sync::mpsc;
    ///
    /// eddy::block_on(async {
    ///     let (tx, mut rx) = mpsc::channel(8);
    ///     for word in ["a", "b", "c"] {
    ///         tx.send(word).await.unwrap();
    ///     }
    ///     let mut batch = Vec::new();
    ///     assert_eq!(rx.recv_many(&mut batch, 2).await, 2);
    ///     assert_eq!(rx.recv_many(&mut batch, 2).await, 1);
    ///     assert_eq!(batch, ["a", "b", "c"]);
    ///     drop(tx);
    ///     assert_eq!(rx.recv_many(&mut batch, 2).await, 0); // the end
    /// });
    /// ```
    pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        std::future::poll_fn(|cx| self.poll_recv_many(cx, buffer, limit)).await
    }

    /// The polling form of [`recv_many`](Receiver::recv_many).
    ///
    /// ```
    /// use std::task::{Context, Poll, Waker};
    /// use eddy::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::unbounded();
    /// let mut cx = Context::from_waker(Waker::noop());
    /// let mut buffer = Vec::new();
    /// assert_eq!(rx.poll_recv_many(&mut cx, &mut buffer, 8), Poll::Pending);
    /// tx.try_send('a').unwrap();
    /// tx.try_send('b').unwrap();
    /// assert_eq!(rx.poll_recv_many(&mut cx, &mut buffer, 8), Poll::Ready(2));
    /// assert_eq!(buffer, ['a', 'b']);
    /// ```
    pub fn poll_recv_many(
        &mut self,
        cx: &mut Context<'_>,
        buffer: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        if limit == 0 {
            return Poll::Ready(0);
        }
        let chan = &*self.chan;
        let moved = {
            let mut queue = chan.queue.borrow_mut();
            let n = queue.len().min(limit);
            // Grown first: moving the values then runs no user code.
            buffer.reserve(n);
            buffer.extend(queue.drain(..n));
            n
        };
        if moved > 0 {
            if chan.senders_waiting.get() {
                chan.grant_room();
            }
            return Poll::Ready(moved);
        }
        self.poll_empty(cx).map(|_| 0)
    }

    /// Takes a value if one is queued.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if nothing is queued but more may come;
    /// [`TryRecvError::Disconnected`] if nothing is queued and nothing more
    /// can come (every sender is gone, or the channel was closed and no
    /// permit is left).
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
                    chan.grant_room();
                }
                Ok(value)
            }
            None if chan.is_over() => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }

    /// Stops the channel: sends and reservations fail from now on (waiting
    /// senders get their values back), while what is queued can still be
    /// received; then `recv` gives `None`, even if senders are still alive.
    /// Permits taken before the close can still send (as tokio): `recv`
    /// waits for them to send or be dropped before it gives `None`.
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

    /// True if nothing more can be sent: every sender is gone, or
    /// [`close`](Receiver::close) was called. Values may still be queued.
    ///
    /// ```
    /// use eddy::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel::<u32>(1);
    /// assert!(!rx.is_closed());
    /// rx.close();
    /// assert!(rx.is_closed());
    /// drop(tx);
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.closed.get() || self.chan.senders.get() == 0
    }

    /// Values queued now.
    ///
    /// ```
    /// use eddy::sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::channel(4);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// assert!(!rx.is_empty());
    /// ```
    pub fn len(&self) -> usize {
        self.chan.queue.borrow().len()
    }

    /// True if no value is queued.
    ///
    /// ```
    /// use eddy::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(4);
    /// assert!(rx.is_empty());
    /// tx.try_send(1).unwrap();
    /// assert!(!rx.is_empty());
    /// rx.try_recv().unwrap();
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// As [`Sender::capacity`]: slots free right now.
    ///
    /// ```
    /// use eddy::sync::mpsc;
    ///
    /// let (tx, rx) = mpsc::channel(4);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(rx.capacity(), 3);
    /// assert_eq!(rx.max_capacity(), 4);
    /// ```
    pub fn capacity(&self) -> usize {
        self.chan.capacity()
    }

    /// As [`Sender::max_capacity`]: the channel's bound.
    ///
    /// ```
    /// use eddy::sync::mpsc;
    ///
    /// let (_tx, rx) = mpsc::channel::<u32>(4);
    /// assert_eq!(rx.max_capacity(), 4);
    /// ```
    pub fn max_capacity(&self) -> usize {
        self.chan.cap
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.chan.rx_gone.set(true);
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

impl<T> futures_core::FusedStream for Receiver<T> {
    fn is_terminated(&self) -> bool {
        self.terminated
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Receiver")
            .field("len", &self.len())
            .finish()
    }
}

/// The future of [`Receiver::recv`]: the next value, or `None` once
/// nothing more can come. Cancel-safe: dropped before it completes, it
/// took nothing, so it fits in a `select!` or a [`timeout`](crate::time::timeout).
///
/// ```
/// use std::time::Duration;
/// use eddy::sync::mpsc;
///
/// eddy::block_on(async {
///     let (tx, mut rx) = mpsc::channel::<u32>(1);
///     // Nothing comes in time: the dropped `Recv` took nothing.
///     let waited = eddy::time::timeout(Duration::from_millis(1), rx.recv()).await;
///     assert!(waited.is_err());
///     tx.send(5).await.unwrap();
///     assert_eq!(rx.recv().await, Some(5));
/// });
/// ```
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

/// The receiver is gone or closed: the value comes back in the public
/// field (`SendError(())` from a reservation, which holds no value).
///
/// ```
/// use eddy::sync::mpsc;
///
/// eddy::block_on(async {
///     let (tx, rx) = mpsc::channel(1);
///     drop(rx);
///     let mpsc::SendError(value) = tx.send(String::from("unsent")).await.unwrap_err();
///     assert_eq!(value, "unsent");
///     assert!(tx.reserve().await.is_err()); // SendError(())
/// });
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
        f.write_str("the receiver is gone")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// Why [`Sender::try_send`] did not send; the value comes back.
///
/// ```
/// use eddy::sync::mpsc::{self, TrySendError};
///
/// let (tx, rx) = mpsc::channel(1);
/// tx.try_send(1).unwrap();
/// match tx.try_send(2) {
///     Err(TrySendError::Full(v)) => assert_eq!(v, 2), // try later, or drop it
///     other => panic!("{other:?}"),
/// }
/// drop(rx);
/// let err = tx.try_send(3).unwrap_err();
/// assert!(matches!(err, TrySendError::Closed(_)));
/// assert_eq!(err.into_inner(), 3);
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TrySendError<T> {
    /// The channel is full (or senders are waiting ahead).
    Full(T),
    /// The receiver is gone or closed.
    Closed(T),
}

impl<T> TrySendError<T> {
    /// The value that was not sent.
    ///
    /// ```
    /// use eddy::sync::mpsc::{self, TrySendError};
    ///
    /// let (tx, _rx) = mpsc::channel(1);
    /// tx.try_send("first").unwrap();
    /// assert_eq!(tx.try_send("second").unwrap_err().into_inner(), "second");
    /// ```
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

/// Why [`Sender::send_timeout`] did not send; the value comes back.
///
/// ```
/// use std::time::Duration;
/// use eddy::sync::mpsc::{self, SendTimeoutError};
///
/// eddy::block_on(async {
///     let (tx, rx) = mpsc::channel(1);
///     tx.send(1).await.unwrap(); // full
///     let late = tx.send_timeout(2, Duration::from_millis(1)).await;
///     assert_eq!(late, Err(SendTimeoutError::Timeout(2)));
///     drop(rx);
///     let closed = tx.send_timeout(3, Duration::from_millis(1)).await;
///     assert_eq!(closed, Err(SendTimeoutError::Closed(3)));
/// });
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SendTimeoutError<T> {
    /// No room came before the timeout.
    Timeout(T),
    /// The receiver is gone or closed.
    Closed(T),
}

impl<T> SendTimeoutError<T> {
    /// The value that was not sent.
    ///
    /// ```
    /// use std::time::Duration;
    /// use eddy::sync::mpsc;
    ///
    /// eddy::block_on(async {
    ///     let (tx, rx) = mpsc::channel(1);
    ///     drop(rx);
    ///     let err = tx.send_timeout("kept", Duration::from_secs(1)).await.unwrap_err();
    ///     assert_eq!(err.into_inner(), "kept");
    /// });
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            SendTimeoutError::Timeout(v) | SendTimeoutError::Closed(v) => v,
        }
    }
}

impl<T> fmt::Debug for SendTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendTimeoutError::Timeout(_) => f.write_str("Timeout(..)"),
            SendTimeoutError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for SendTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendTimeoutError::Timeout(_) => {
                f.write_str("timed out waiting for room in the channel")
            }
            SendTimeoutError::Closed(_) => f.write_str("the receiver is gone"),
        }
    }
}

impl<T> std::error::Error for SendTimeoutError<T> {}

/// Why [`Receiver::try_recv`] returned no value.
///
/// ```
/// use eddy::sync::mpsc::{self, TryRecvError};
///
/// let (tx, mut rx) = mpsc::channel::<u32>(1);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty)); // a sender lives
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing queued; more may come.
    Empty,
    /// Nothing queued, and nothing more can come: every sender is gone, or
    /// the channel was closed and no permit is left.
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

/// The error types again, where tokio keeps them (`mpsc::error::SendError`), so
/// that code written for tokio finds them.
///
/// ```
/// use eddy::sync::mpsc::error::SendError;
/// ```
pub mod error {
    pub use super::{SendError, SendTimeoutError, TryRecvError, TrySendError};
}
