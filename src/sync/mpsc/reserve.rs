//! Room reserved before the value exists: [`Sender::reserve`] and its kin,
//! and the permits they give.
//!
//! A reservation is room counted in the channel's `reserved` (so no send
//! can take it) and `permits` (so a closed channel's receiver waits for
//! it). It waits in the same FIFO line as `send`, through the same
//! `poll_room`; a permit that sends moves its slot from `reserved` to the
//! queue, and one dropped unused gives it to the next in line.
//!
//! Unbounded channels have reservations too (tokio's `UnboundedSender` has
//! none, but eddy has one `Sender` type): they never wait.

use std::fmt;
use std::future::Future;
use std::iter::FusedIterator;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{Chan, SendError, Sender, TrySendError};

impl<T> Sender<T> {
    /// Waits for room for one value (in FIFO order with other senders) and
    /// holds it: [`Permit::send`] then sends at once, without waiting or
    /// failing, and dropping the permit gives the room back. Useful to
    /// wait for room before making the value, or to send into several
    /// channels only if all have room. Dropped while waiting, it takes
    /// nothing and lets the next sender go.
    ///
    /// # Errors
    ///
    /// `SendError(())` if the receiver is gone or closed.
    ///
    /// ```
    /// use eddy::sync::mpsc;
    ///
    /// eddy::block_on(async {
    ///     let (tx, mut rx) = mpsc::channel(1);
    ///     let permit = tx.reserve().await.unwrap();
    ///     assert!(tx.try_send(1).is_err()); // the slot is ours
    ///     permit.send(2);
    ///     assert_eq!(rx.recv().await, Some(2));
    /// });
    /// ```
    pub async fn reserve(&self) -> Result<Permit<'_, T>, SendError<()>> {
        Reserve::new(&self.chan, 1).await?;
        Ok(Permit { chan: &self.chan })
    }

    /// Reserves room for one value if there is some now (and nobody waits
    /// ahead).
    ///
    /// # Errors
    ///
    /// `TrySendError::Full(())` if there is no room, or senders wait;
    /// `TrySendError::Closed(())` if the receiver is gone or closed.
    ///
    /// ```
    /// use eddy::sync::mpsc::{self, TrySendError};
    ///
    /// let (tx, _rx) = mpsc::channel::<u32>(1);
    /// let permit = tx.try_reserve().unwrap();
    /// assert_eq!(tx.try_reserve().unwrap_err(), TrySendError::Full(()));
    /// drop(permit); // the room comes back
    /// assert!(tx.try_reserve().is_ok());
    /// ```
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        self.chan.try_reserve(1)?;
        Ok(Permit { chan: &self.chan })
    }

    /// Waits until room for `n` values is free at once, and holds it all
    /// (never a few slots at a time): the permits come as an iterator. In
    /// line, it holds back the senders behind it, even those that would
    /// fit, until its room is free (FIFO). `n == 0` gives no permits at
    /// once.
    ///
    /// # Errors
    ///
    /// `SendError(())` if the receiver is gone or closed, and also at once
    /// if `n` is more than [`max_capacity`](Sender::max_capacity) (as
    /// tokio: that much room never comes).
    ///
    /// ```
    /// use eddy::sync::mpsc;
    ///
    /// eddy::block_on(async {
    ///     let (tx, mut rx) = mpsc::channel(4);
    ///     let permits = tx.reserve_many(3).await.unwrap();
    ///     assert_eq!(tx.capacity(), 1);
    ///     for (permit, word) in permits.zip(["a", "b", "c"]) {
    ///         permit.send(word);
    ///     }
    ///     assert_eq!(rx.len(), 3);
    ///     assert!(tx.reserve_many(5).await.is_err()); // more than the bound
    /// });
    /// ```
    pub async fn reserve_many(&self, n: usize) -> Result<PermitIterator<'_, T>, SendError<()>> {
        if n > self.chan.cap {
            return Err(SendError(()));
        }
        Reserve::new(&self.chan, n).await?;
        Ok(PermitIterator {
            chan: &self.chan,
            n,
        })
    }

    /// Reserves room for `n` values if it is all free now (and nobody waits
    /// ahead); all or nothing.
    ///
    /// # Errors
    ///
    /// `TrySendError::Full(())` if there is not room for all `n` (always, if
    /// `n` is more than [`max_capacity`](Sender::max_capacity)), or senders
    /// wait; `TrySendError::Closed(())` if the receiver is gone or closed.
    ///
    /// ```
    /// use eddy::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<u32>(3);
    /// let two = tx.try_reserve_many(2).unwrap();
    /// assert_eq!(two.len(), 2);
    /// assert!(tx.try_reserve_many(2).is_err()); // only one slot left
    /// ```
    pub fn try_reserve_many(&self, n: usize) -> Result<PermitIterator<'_, T>, TrySendError<()>> {
        if n > self.chan.cap {
            return Err(TrySendError::Full(()));
        }
        self.chan.try_reserve(n)?;
        Ok(PermitIterator {
            chan: &self.chan,
            n,
        })
    }

    /// As [`reserve`](Sender::reserve), but the permit owns this sender, so
    /// it can move into another task; [`OwnedPermit::send`] gives the
    /// sender back.
    ///
    /// # Errors
    ///
    /// `SendError(())` if the receiver is gone or closed; this sender is
    /// then dropped (as tokio). Clone it first to keep it.
    ///
    /// ```
    /// use eddy::sync::mpsc;
    ///
    /// eddy::block_on(async {
    ///     let (tx, mut rx) = mpsc::channel(1);
    ///     let permit = tx.clone().reserve_owned().await.unwrap();
    ///     eddy::spawn(async move {
    ///         let _tx = permit.send("from a task");
    ///     });
    ///     assert_eq!(rx.recv().await, Some("from a task"));
    ///     drop(tx);
    /// });
    /// ```
    pub async fn reserve_owned(self) -> Result<OwnedPermit<T>, SendError<()>> {
        Reserve::new(&self.chan, 1).await?;
        Ok(OwnedPermit { sender: Some(self) })
    }

    /// As [`try_reserve`](Sender::try_reserve), but the permit owns this
    /// sender.
    ///
    /// # Errors
    ///
    /// `TrySendError::Full(sender)` if there is no room, or senders wait;
    /// `TrySendError::Closed(sender)` if the receiver is gone or closed.
    /// Either way the sender comes back.
    ///
    /// ```
    /// use eddy::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// let permit = tx.try_reserve_owned().unwrap();
    /// let tx = permit.send(5);
    /// assert_eq!(rx.try_recv(), Ok(5));
    /// let tx = match tx.try_reserve_owned() {
    ///     Ok(permit) => permit.release(), // unused: the room goes back
    ///     Err(e) => e.into_inner(),
    /// };
    /// assert_eq!(tx.capacity(), 1);
    /// ```
    pub fn try_reserve_owned(self) -> Result<OwnedPermit<T>, TrySendError<Sender<T>>> {
        match self.chan.try_reserve(1) {
            Ok(()) => Ok(OwnedPermit { sender: Some(self) }),
            Err(TrySendError::Full(())) => Err(TrySendError::Full(self)),
            Err(TrySendError::Closed(())) => Err(TrySendError::Closed(self)),
        }
    }
}

impl<T> Chan<T> {
    /// Takes `n` slots for permits now, or says why not.
    fn try_reserve(&self, n: usize) -> Result<(), TrySendError<()>> {
        if self.closed.get() {
            return Err(TrySendError::Closed(()));
        }
        if n > 0 && (self.senders_waiting.get() || self.free() < n) {
            return Err(TrySendError::Full(()));
        }
        self.reserved.set(self.reserved.get() + n);
        self.permits.set(self.permits.get() + n);
        Ok(())
    }
}

/// Waits in the senders' line for `need` slots, and turns them into
/// permits' room.
struct Reserve<'a, T> {
    chan: &'a Chan<T>,
    need: usize,
    /// Our place among waiting senders.
    key: Option<usize>,
}

impl<'a, T> Reserve<'a, T> {
    fn new(chan: &'a Chan<T>, need: usize) -> Reserve<'a, T> {
        Reserve {
            chan,
            need,
            key: None,
        }
    }
}

impl<T> Future for Reserve<'_, T> {
    type Output = Result<(), SendError<()>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let (chan, need) = (self.chan, self.need);
        match chan.poll_room(&mut self.key, need, cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(())) => {
                // Held by the permits the caller makes now, with no await
                // in between.
                chan.permits.set(chan.permits.get() + need);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(())) => Poll::Ready(Err(SendError(()))),
        }
    }
}

impl<T> Drop for Reserve<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.chan.leave(key, self.need);
        }
    }
}

/// Room for one value in a channel, held by [`Sender::reserve`] or
/// [`Sender::try_reserve`]: [`send`](Permit::send) fills it; dropped
/// unused, it gives the room back (to the first waiting sender, if any).
///
/// ```
/// use eddy::sync::mpsc;
///
/// eddy::block_on(async {
///     let (a, mut rx_a) = mpsc::channel(1);
///     let (b, mut rx_b) = mpsc::channel(1);
///     // Send to both or to neither: reserve both first.
///     let (pa, pb) = (a.reserve().await.unwrap(), b.reserve().await.unwrap());
///     pa.send("to a");
///     pb.send("to b");
///     assert_eq!((rx_a.recv().await, rx_b.recv().await), (Some("to a"), Some("to b")));
/// });
/// ```
#[must_use = "the reserved room is given back as soon as the permit is dropped"]
pub struct Permit<'a, T> {
    chan: &'a Chan<T>,
}

impl<T> Permit<'_, T> {
    /// Sends `value` into the reserved room, at once; it cannot fail. If
    /// the receiver called [`close`](super::Receiver::close) after the
    /// reservation, the value is still queued and received (as tokio); if
    /// the receiver is gone, the value is dropped here.
    ///
    /// ```
    /// use eddy::sync::mpsc;
    ///
    /// eddy::block_on(async {
    ///     let (tx, mut rx) = mpsc::channel(1);
    ///     let permit = tx.reserve().await.unwrap();
    ///     rx.close();
    ///     permit.send("reserved before the close");
    ///     assert_eq!(rx.recv().await, Some("reserved before the close"));
    ///     assert_eq!(rx.recv().await, None);
    /// });
    /// ```
    pub fn send(self, value: T) {
        let chan = self.chan;
        // The slot is filled, not given back: no drop.
        std::mem::forget(self);
        chan.send_permitted(value);
    }
}

impl<T> Drop for Permit<'_, T> {
    fn drop(&mut self) {
        self.chan.release_permits(1);
    }
}

impl<T> fmt::Debug for Permit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("mpsc::Permit")
    }
}

/// Room for several values, held by [`Sender::reserve_many`] or
/// [`Sender::try_reserve_many`]: an iterator of [`Permit`]s, one per slot.
/// Slots not taken out of it go back when it is dropped.
///
/// ```
/// use eddy::sync::mpsc;
///
/// let (tx, mut rx) = mpsc::channel(4);
/// let mut permits = tx.try_reserve_many(3).unwrap();
/// permits.next().unwrap().send("only one used");
/// drop(permits); // the other two slots go back
/// assert_eq!(tx.capacity(), 3);
/// assert_eq!(rx.try_recv(), Ok("only one used"));
/// ```
#[must_use = "the reserved room is given back as soon as the iterator is dropped"]
pub struct PermitIterator<'a, T> {
    chan: &'a Chan<T>,
    /// Slots not yet handed out as permits.
    n: usize,
}

impl<'a, T> Iterator for PermitIterator<'a, T> {
    type Item = Permit<'a, T>;

    fn next(&mut self) -> Option<Permit<'a, T>> {
        self.n = self.n.checked_sub(1)?;
        Some(Permit { chan: self.chan })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.n, Some(self.n))
    }
}

impl<T> ExactSizeIterator for PermitIterator<'_, T> {}

impl<T> FusedIterator for PermitIterator<'_, T> {}

impl<T> Drop for PermitIterator<'_, T> {
    fn drop(&mut self) {
        if self.n > 0 {
            self.chan.release_permits(self.n);
        }
    }
}

impl<T> fmt::Debug for PermitIterator<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::PermitIterator")
            .field("permits", &self.n)
            .finish()
    }
}

/// Room for one value, held with a [`Sender`] it owns (from
/// [`Sender::reserve_owned`] or [`Sender::try_reserve_owned`]), so it can
/// move into another task. [`send`](OwnedPermit::send) fills the room and
/// gives the sender back; dropped unused, it gives the room back and drops
/// the sender.
///
/// ```
/// use eddy::sync::mpsc;
///
/// eddy::block_on(async {
///     let (tx, mut rx) = mpsc::channel(1);
///     let permit = tx.reserve_owned().await.unwrap();
///     let task = eddy::spawn(async move {
///         let tx = permit.send(1); // the room was ours: no wait
///         tx.send(2).await.unwrap();
///     });
///     assert_eq!(rx.recv().await, Some(1));
///     assert_eq!(rx.recv().await, Some(2));
///     task.await.unwrap();
/// });
/// ```
#[must_use = "the reserved room is given back as soon as the permit is dropped"]
pub struct OwnedPermit<T> {
    /// `None` only once `send` or `release` took it.
    sender: Option<Sender<T>>,
}

impl<T> OwnedPermit<T> {
    /// Sends `value` into the reserved room, at once (as [`Permit::send`]),
    /// and gives the sender back.
    ///
    /// ```
    /// use eddy::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// let tx = tx.try_reserve_owned().unwrap().send(1);
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert!(tx.try_send(2).is_ok());
    /// ```
    pub fn send(mut self, value: T) -> Sender<T> {
        let sender = self.take_sender();
        sender.chan.send_permitted(value);
        sender
    }

    /// Gives the room back unused, and the sender to the caller.
    ///
    /// ```
    /// use eddy::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<u32>(1);
    /// let permit = tx.try_reserve_owned().unwrap();
    /// let tx = permit.release();
    /// assert_eq!(tx.capacity(), 1);
    /// ```
    pub fn release(mut self) -> Sender<T> {
        let sender = self.take_sender();
        sender.chan.release_permits(1);
        sender
    }

    fn take_sender(&mut self) -> Sender<T> {
        self.sender
            .take()
            .expect("an OwnedPermit holds its sender until send or release")
    }
}

impl<T> Drop for OwnedPermit<T> {
    fn drop(&mut self) {
        if let Some(sender) = self.sender.take() {
            // The room first; then the sender, which may be the last.
            sender.chan.release_permits(1);
            drop(sender);
        }
    }
}

impl<T> fmt::Debug for OwnedPermit<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("mpsc::OwnedPermit")
    }
}
