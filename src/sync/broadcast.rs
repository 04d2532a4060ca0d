//! `broadcast`: every value sent reaches every receiver.
//!
//! One ring of `cap` slots (`cap` rounded up to a power of two) is shared by
//! all receivers; a value is stored once, whatever the number of receivers.
//! Positions count up for ever: the value sent at position `p` sits in slot
//! `p % cap`, and each receiver keeps the position it reads next. The ring
//! keeps the last `cap` values, so a receiver more than `cap` behind has
//! lost some: it is told how many (`Lagged`) and goes on from the oldest
//! value kept. The sender never waits.
//!
//! Each slot counts the receivers that still have to read its value (those
//! alive when it was sent). Every receiver reading it gets a clone, as with
//! tokio, so a `Clone` that panics panics in every `recv`, the last one's
//! included, and the receiver has moved past the value; a value read by
//! everyone leaves the ring at once. Values sit in an `Rc`, so a read
//! clones the `Rc` under a short borrow and the value itself with no
//! borrow held: a `Clone` or `Drop` that uses the channel finds it
//! consistent. That costs one allocation per send, shared by all receivers.
//!
//! Receivers that find nothing new wait in one FIFO list; a send grants and
//! wakes them all. Each receiver keeps its entry in the list, and its waker,
//! for its whole life, so waiting again allocates nothing and clones no
//! waker. A `recv` future dropped while waiting leaves the line and has
//! taken nothing: no value is lost.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::ends::Ends;

struct Slot<T> {
    /// Receivers that have yet to read this value.
    rem: usize,
    value: Option<Rc<T>>,
}

struct Shared<T> {
    ring: RefCell<Box<[Slot<T>]>>,
    /// `cap - 1`; `cap` is a power of two.
    mask: u64,
    /// The position the next send writes.
    tail: Cell<u64>,
    ends: Ends,
}

impl<T> Shared<T> {
    fn cap(&self) -> u64 {
        self.mask + 1
    }

    /// The oldest position the ring still holds.
    fn oldest(&self) -> u64 {
        self.tail.get().saturating_sub(self.cap())
    }

    /// One receiver fewer to read `pos`, which it reads: an `Rc` of the
    /// value (the ring's own, taken out, if this was the last reader).
    fn release(&self, pos: u64) -> Rc<T> {
        let mut ring = self.ring.borrow_mut();
        let slot = &mut ring[(pos & self.mask) as usize];
        slot.rem -= 1;
        let value = if slot.rem == 0 {
            slot.value.take()
        } else {
            slot.value.clone()
        };
        value.expect("a kept value waits for every receiver alive at its send")
    }

    /// One receiver fewer to read `pos`, which it never will: the value,
    /// if that was the last one, to be dropped with no borrow held.
    fn skip(&self, pos: u64) -> Option<Rc<T>> {
        let mut ring = self.ring.borrow_mut();
        let slot = &mut ring[(pos & self.mask) as usize];
        slot.rem -= 1;
        if slot.rem == 0 {
            slot.value.take()
        } else {
            None
        }
    }

    fn new_receiver(self: &Rc<Self>) -> Receiver<T> {
        self.ends.add_receiver();
        Receiver {
            shared: Rc::clone(self),
            next: self.tail.get(),
            key: None,
            parked: false,
            terminated: false,
        }
    }
}

/// A broadcast channel keeping the last `capacity` values (rounded up to a
/// power of two, as tokio does): every value sent reaches every receiver
/// that exists when it is sent. This is a chat room's fan-out, or
/// Python's "publish to all subscribers".
///
/// # Panics
///
/// If `capacity` is 0, or larger than `usize::MAX / 2`.
///
/// ```
/// use eddy::sync::broadcast;
///
/// eddy::block_on(async {
///     let (tx, mut rx1) = broadcast::channel(16);
///     let mut rx2 = tx.subscribe();
///     tx.send("hello").unwrap();
///     assert_eq!(rx1.recv().await.unwrap(), "hello");
///     assert_eq!(rx2.recv().await.unwrap(), "hello");
/// });
/// ```
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let tx = Sender::new(capacity);
    let rx = tx.shared.new_receiver();
    (tx, rx)
}

/// The sending side of a broadcast channel. `Clone`: the channel closes
/// when the last sender is dropped.
///
/// ```
/// use eddy::sync::broadcast;
///
/// eddy::block_on(async {
///     let (tx, mut rx) = broadcast::channel(8);
///     let tx2 = tx.clone(); // two senders, one channel
///     tx.send("from one").unwrap();
///     tx2.send("from two").unwrap();
///     drop((tx, tx2));
///     assert_eq!(rx.recv().await.unwrap(), "from one");
///     assert_eq!(rx.recv().await.unwrap(), "from two");
///     assert!(rx.recv().await.is_err()); // closed
/// });
/// ```
pub struct Sender<T> {
    shared: Rc<Shared<T>>,
}

impl<T> Sender<T> {
    /// A sender with no receiver yet: [`subscribe`](Sender::subscribe) makes
    /// them. `capacity` is as for [`channel`].
    ///
    /// # Panics
    ///
    /// If `capacity` is 0, or larger than `usize::MAX / 2`.
    ///
    /// ```
    /// use eddy::sync::broadcast;
    ///
    /// let tx = broadcast::Sender::new(8);
    /// assert!(tx.send(1).is_err()); // nobody listens
    /// let mut rx = tx.subscribe();
    /// assert_eq!(tx.send(2), Ok(1));
    /// assert_eq!(rx.try_recv(), Ok(2));
    /// ```
    pub fn new(capacity: usize) -> Sender<T> {
        assert!(
            capacity > 0,
            "eddy: broadcast::channel needs a capacity of at least 1"
        );
        assert!(
            capacity <= usize::MAX >> 1,
            "eddy: broadcast::channel capacity {capacity} is larger than usize::MAX / 2"
        );
        let cap = capacity.next_power_of_two();
        let ring = (0..cap)
            .map(|_| Slot {
                rem: 0,
                value: None,
            })
            .collect();
        Sender {
            shared: Rc::new(Shared {
                ring: RefCell::new(ring),
                mask: cap as u64 - 1,
                tail: Cell::new(0),
                ends: Ends::new(),
            }),
        }
    }

    /// Sends `value` to every receiver alive now and returns how many there
    /// are. Never waits: if the ring is full, the oldest value is dropped,
    /// and receivers that had not read it will get `Lagged`.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if there is no receiver (a receiver
    /// made later would not see it anyway).
    ///
    /// ```
    /// use eddy::sync::broadcast;
    ///
    /// let (tx, rx) = broadcast::channel(4);
    /// let _rx2 = tx.subscribe();
    /// assert_eq!(tx.send("news"), Ok(2));
    /// drop((rx, _rx2));
    /// assert_eq!(tx.send("lost").unwrap_err().0, "lost");
    /// ```
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let sh = &*self.shared;
        let receivers = sh.ends.receivers();
        if receivers == 0 {
            return Err(SendError(value));
        }
        let value = Rc::new(value);
        let pos = sh.tail.get();
        let overwritten = {
            let mut ring = sh.ring.borrow_mut();
            let slot = &mut ring[(pos & sh.mask) as usize];
            slot.rem = receivers;
            slot.value.replace(value)
        };
        sh.tail.set(pos + 1);
        // The value pushed out of the ring, if nobody had taken it: dropped
        // with no borrow held, the channel already in its new state.
        drop(overwritten);
        sh.ends.wake_receivers();
        Ok(receivers)
    }

    /// A new receiver, which sees every value sent from now on.
    ///
    /// ```
    /// use eddy::sync::broadcast;
    ///
    /// let (tx, _rx) = broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// let mut late = tx.subscribe();
    /// tx.send(2).unwrap();
    /// assert_eq!(late.try_recv(), Ok(2)); // 1 was sent before it existed
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        self.shared.new_receiver()
    }

    /// Receivers alive now.
    ///
    /// ```
    /// use eddy::sync::broadcast;
    ///
    /// let (tx, rx) = broadcast::channel::<u32>(4);
    /// let rx2 = rx.resubscribe();
    /// assert_eq!(tx.receiver_count(), 2);
    /// drop((rx, rx2));
    /// assert_eq!(tx.receiver_count(), 0);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.ends.receivers()
    }

    /// Values still kept for some receiver: sent, within the last `cap`, and
    /// not yet read by every receiver that was alive when it was sent.
    ///
    /// ```
    /// use eddy::sync::broadcast;
    ///
    /// let (tx, mut rx1) = broadcast::channel(4);
    /// let mut rx2 = tx.subscribe();
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
    /// assert_eq!(tx.len(), 2);
    /// rx1.try_recv().unwrap();
    /// assert_eq!(tx.len(), 2); // rx2 has not read 1 yet
    /// rx2.try_recv().unwrap();
    /// assert_eq!(tx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        let sh = &*self.shared;
        let (oldest, tail) = (sh.oldest(), sh.tail.get());
        let ring = sh.ring.borrow();
        // Values read by everyone form a prefix of the kept ones (each
        // receiver reads in order), so a binary search finds where it ends.
        let (mut lo, mut hi) = (oldest, tail);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if ring[(mid & sh.mask) as usize].rem == 0 {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        (tail - lo) as usize
    }

    /// True if no value is kept for any receiver.
    ///
    /// ```
    /// use eddy::sync::broadcast;
    ///
    /// let (tx, mut rx) = broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// assert!(!tx.is_empty());
    /// rx.try_recv().unwrap(); // read by every receiver: gone from the ring
    /// assert!(tx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Completes once every receiver is gone (at once if none is there now).
    ///
    /// ```
    /// use eddy::sync::broadcast;
    ///
    /// eddy::block_on(async {
    ///     let (tx, rx) = broadcast::channel::<u32>(4);
    ///     eddy::spawn(async move { drop(rx) });
    ///     tx.closed().await;
    ///     assert_eq!(tx.receiver_count(), 0);
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
        // The last one wakes the receivers: they read what is kept, then
        // get `Closed`.
        self.shared.ends.drop_sender();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Sender")
            .field("receivers", &self.receiver_count())
            .finish()
    }
}

/// The receiving side of a broadcast channel: each receiver gets every
/// value sent while it exists, in order.
///
/// It is also a `futures_core::Stream` of `Result<T, RecvError>`: values,
/// and `Err(Lagged(n))` when it fell behind; the stream ends when the
/// channel is closed and read to the end. It is a `FusedStream`, so
/// `futures::select!` takes `rx.next()` without `.fuse()`.
///
/// ```
/// use eddy::sync::broadcast::{self, RecvError};
///
/// eddy::block_on(async {
///     let (tx, mut rx) = broadcast::channel(2);
///     for i in 0..5 {
///         tx.send(i).unwrap(); // the ring keeps the last two
///     }
///     assert_eq!(rx.recv().await, Err(RecvError::Lagged(3)));
///     assert_eq!(rx.recv().await, Ok(3));
///     assert_eq!(rx.recv().await, Ok(4));
///     drop(tx);
///     assert_eq!(rx.recv().await, Err(RecvError::Closed));
/// });
/// ```
pub struct Receiver<T> {
    shared: Rc<Shared<T>>,
    /// The position this receiver reads next.
    next: u64,
    /// Our entry among waiting receivers, kept from one wait to the next.
    key: Option<usize>,
    /// A poll put the entry in the line, and no value came since.
    parked: bool,
    /// The stream has ended (it returned `None`).
    terminated: bool,
}

impl<T> Receiver<T> {
    /// Values sent that this receiver has not read yet (more than the
    /// capacity if it lagged: the next `recv` then says `Lagged`).
    ///
    /// ```
    /// use eddy::sync::broadcast;
    ///
    /// let (tx, mut rx) = broadcast::channel(2);
    /// for i in 0..3 {
    ///     tx.send(i).unwrap();
    /// }
    /// assert_eq!(rx.len(), 3); // one more than the ring keeps
    /// assert!(rx.try_recv().is_err()); // Lagged(1)
    /// assert_eq!(rx.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        (self.shared.tail.get() - self.next) as usize
    }

    /// True if every value sent so far was read (or skipped) by this receiver.
    ///
    /// ```
    /// use eddy::sync::broadcast;
    ///
    /// let (tx, mut rx) = broadcast::channel(4);
    /// assert!(rx.is_empty());
    /// tx.send("news").unwrap();
    /// assert!(!rx.is_empty());
    /// rx.try_recv().unwrap();
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True once every sender is gone (values may still be there to read).
    ///
    /// ```
    /// use eddy::sync::broadcast;
    ///
    /// let (tx, mut rx) = broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// assert_eq!(rx.try_recv(), Ok(1)); // still there to read
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.ends.senders() == 0
    }

    /// Takes the next value, with no waiting.
    fn take(&mut self) -> Result<T, TryRecvError>
    where
        T: Clone,
    {
        let sh = &*self.shared;
        let behind = sh.tail.get() - self.next;
        if behind == 0 {
            return Err(if sh.ends.senders() == 0 {
                TryRecvError::Closed
            } else {
                TryRecvError::Empty
            });
        }
        if behind > sh.cap() {
            let missed = behind - sh.cap();
            self.next += missed;
            return Err(TryRecvError::Lagged(missed));
        }
        let pos = self.next;
        self.next += 1;
        // Cloned with no borrow held; a panicking clone has still moved
        // this receiver past the value.
        let value = sh.release(pos);
        Ok(T::clone(&value))
    }

    /// Takes the next value if there is one now.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if nothing new was sent,
    /// [`TryRecvError::Lagged`] with the number of values missed (the next
    /// call gives the oldest value kept), [`TryRecvError::Closed`] once every
    /// sender is gone and everything was read.
    ///
    /// ```
    /// use eddy::sync::broadcast::{self, TryRecvError};
    ///
    /// let (tx, mut rx) = broadcast::channel(8);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError>
    where
        T: Clone,
    {
        self.take()
    }

    /// Waits for the next value. Cancel-safe: a `recv` future dropped
    /// before it completed took nothing.
    ///
    /// # Errors
    ///
    /// [`RecvError::Lagged`] with the number of values this receiver
    /// missed (it fell more than the capacity behind; the next call gives
    /// the oldest value kept), [`RecvError::Closed`] once every sender is
    /// gone and everything was read.
    ///
    /// ```
    /// use eddy::sync::broadcast;
    ///
    /// eddy::block_on(async {
    ///     let (tx, mut rx) = broadcast::channel(8);
    ///     let listener = eddy::spawn(async move {
    ///         let mut got = Vec::new();
    ///         while let Ok(v) = rx.recv().await {
    ///             got.push(v);
    ///         }
    ///         got
    ///     });
    ///     for i in 0..3 {
    ///         tx.send(i).unwrap();
    ///     }
    ///     drop(tx); // closes the channel: the listener's loop ends
    ///     assert_eq!(listener.await.unwrap(), [0, 1, 2]);
    /// });
    /// ```
    pub fn recv(&mut self) -> Recv<'_, T>
    where
        T: Clone,
    {
        Recv { rx: self }
    }

    /// The polling form of [`recv`](Receiver::recv).
    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>>
    where
        T: Clone,
    {
        let result = match self.take() {
            Ok(value) => Ok(value),
            Err(TryRecvError::Lagged(n)) => Err(RecvError::Lagged(n)),
            Err(TryRecvError::Closed) => Err(RecvError::Closed),
            Err(TryRecvError::Empty) => {
                self.shared.ends.park_receiver(&mut self.key, cx.waker());
                self.parked = true;
                return Poll::Pending;
            }
        };
        // Usually woken, so out of the line already; if not, the entry
        // stays linked and costs at most one spurious wake (cheaper than a
        // look at the list on every value).
        self.parked = false;
        Poll::Ready(result)
    }

    /// Out of the line of waiting receivers (the entry is kept for the
    /// next wait). Every waiter was woken: a grant needs no passing on.
    fn stop_waiting(&mut self) {
        if self.parked {
            self.parked = false;
            self.shared.ends.unpark_receiver(self.key);
        }
    }

    /// A new receiver of the same channel, which sees the values sent from
    /// now on (not those this one has yet to read).
    ///
    /// ```
    /// use eddy::sync::broadcast;
    ///
    /// let (tx, rx) = broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// let mut rx2 = rx.resubscribe();
    /// tx.send(2).unwrap();
    /// assert_eq!(rx2.try_recv(), Ok(2));
    /// ```
    pub fn resubscribe(&self) -> Receiver<T> {
        self.shared.new_receiver()
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let sh = &*self.shared;
        // Uncounted first, so that a send from a destructor below (the
        // waker's, a value's) does not count this receiver.
        sh.ends.drop_receiver();
        sh.ends.forget_receiver(self.key.take());
        // Values this receiver was counted for and never read: each read by
        // everyone else leaves the ring now, dropped with no borrow held.
        // Its drop may send, so the ring is looked at anew each time.
        let tail = sh.tail.get();
        for pos in self.next.max(sh.oldest())..tail {
            if pos >= sh.oldest() {
                drop(sh.skip(pos));
            }
        }
    }
}

impl<T: Clone> futures_core::Stream for Receiver<T> {
    type Item = Result<T, RecvError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.terminated {
            return Poll::Ready(None);
        }
        match this.poll_recv(cx) {
            Poll::Ready(Err(RecvError::Closed)) => {
                this.terminated = true;
                Poll::Ready(None)
            }
            Poll::Ready(item) => Poll::Ready(Some(item)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: Clone> futures_core::stream::FusedStream for Receiver<T> {
    /// True once the stream has ended (it returned `None`).
    fn is_terminated(&self) -> bool {
        self.terminated
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Receiver")
            .field("len", &self.len())
            .finish()
    }
}

/// The future of [`Receiver::recv`]. Dropped while waiting, it took
/// nothing: the next `recv` gets the value it would have.
///
/// ```
/// use std::time::Duration;
/// use eddy::sync::broadcast;
///
/// eddy::block_on(async {
///     let (tx, mut rx) = broadcast::channel(4);
///     let timed_out = eddy::time::timeout(Duration::from_millis(1), rx.recv()).await;
///     assert!(timed_out.is_err()); // the recv future was dropped
///     tx.send(1).unwrap();
///     assert_eq!(rx.recv().await, Ok(1));
/// });
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Recv<'a, T> {
    rx: &'a mut Receiver<T>,
}

impl<T: Clone> Future for Recv<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.rx.poll_recv(cx)
    }
}

impl<T> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        self.rx.stop_waiting();
    }
}

impl<T> fmt::Debug for Recv<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Recv")
            .field("waiting", &self.rx.parked)
            .finish()
    }
}

/// [`Sender::send`] found no receiver: the value comes back.
///
/// ```
/// let tx = eddy::sync::broadcast::Sender::new(1);
/// let err = tx.send(String::from("hello")).unwrap_err();
/// assert_eq!(err.0, "hello");
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
        f.write_str("no receiver is listening")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// Why [`Receiver::recv`] gave no value.
///
/// ```
/// use eddy::sync::broadcast::{self, RecvError};
///
/// eddy::block_on(async {
///     let (tx, mut rx) = broadcast::channel(1);
///     tx.send(1).unwrap();
///     tx.send(2).unwrap(); // pushes 1 out
///     drop(tx);
///     loop {
///         match rx.recv().await {
///             Ok(v) => assert_eq!(v, 2),
///             Err(RecvError::Lagged(n)) => assert_eq!(n, 1),
///             Err(RecvError::Closed) => break,
///         }
///     }
/// });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecvError {
    /// Every sender is gone and every value was read.
    Closed,
    /// The receiver fell behind and missed this many values; it goes on
    /// from the oldest value kept.
    Lagged(u64),
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Closed => f.write_str("the channel is closed"),
            RecvError::Lagged(n) => write!(f, "the receiver lagged behind and missed {n} values"),
        }
    }
}

impl std::error::Error for RecvError {}

/// Why [`Receiver::try_recv`] gave no value.
///
/// ```
/// use eddy::sync::broadcast::{self, TryRecvError};
///
/// let (tx, mut rx) = broadcast::channel::<u8>(4);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing new; senders remain.
    Empty,
    /// Every sender is gone and every value was read.
    Closed,
    /// The receiver fell behind and missed this many values; it goes on
    /// from the oldest value kept.
    Lagged(u64),
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("no new value"),
            TryRecvError::Closed => f.write_str("the channel is closed"),
            TryRecvError::Lagged(n) => {
                write!(f, "the receiver lagged behind and missed {n} values")
            }
        }
    }
}

impl std::error::Error for TryRecvError {}

/// The error types again, where tokio keeps them (`broadcast::error::RecvError`), so
/// that code written for tokio finds them.
///
/// ```
/// use eddy::sync::broadcast::error::RecvError;
/// ```
pub mod error {
    pub use super::{RecvError, SendError, TryRecvError};
}
