//! `RwLock`: many readers or one writer, across `.await`s, in FIFO order.
//!
//! The state is two counters (readers holding the lock, a writer holding
//! it) and the shared FIFO waiter list, each waiter tagged as a reader or a
//! writer. The lock is handed over strictly in arrival order: when it is
//! released, the first waiter gets it; if that is a reader, every reader
//! queued right behind it comes along, up to the next writer. So a waiting
//! writer holds back every reader that comes after it (and `try_read`
//! fails while anyone waits): a stream of readers cannot starve a writer.
//!
//! The value sits in a `RefCell`; a guard holds a `Ref` or a `RefMut`,
//! which the lock's own rules keep from ever conflicting. Handing over the
//! lock grants one waiter, then wakes it with no borrow held, then looks at
//! the next: a waker that re-enters the lock finds it consistent (the
//! waiter it was granted for holds the lock; the others still wait).
//!
//! A wait costs one entry in the list and one waker clone; the entry goes
//! when the future sees its grant. The paths are kept flat (one call per
//! poll, the list's steps inlined into it), since with tasks that contend,
//! every `read()` or `write()` waits.

use std::cell::{Cell, Ref, RefCell, RefMut};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::waiters::{self, Grant, WAITING, WaitList};

/// Waiter tags.
const READ: u8 = 1;
const WRITE: u8 = 2;
/// The waiter was given the lock (as a reader or writer, by its tag).
const GRANTED: Grant = 1;
/// The key of a `read()` or `write()` future not in the queue: a plain
/// `usize` keeps the futures two words.
const NOT_QUEUED: usize = usize::MAX;

struct State {
    readers: Cell<usize>,
    writer: Cell<bool>,
    waiters: RefCell<WaitList>,
    /// `!Send`: it belongs to its runtime's thread.
    _not_send: PhantomData<Rc<()>>,
}

impl State {
    /// Takes the lock as `kind` if it is free for that and nobody waits.
    fn try_take(&self, kind: u8) -> bool {
        if self.writer.get() || !self.waiters.borrow().is_empty() {
            return false;
        }
        match kind {
            READ => self.readers.set(self.readers.get() + 1),
            _ if self.readers.get() > 0 => return false,
            _ => self.writer.set(true),
        }
        true
    }

    #[inline]
    fn release(&self, kind: u8) {
        if kind == READ {
            let left = self.readers.get() - 1;
            self.readers.set(left);
            if left != 0 {
                return;
            }
        } else {
            self.writer.set(false);
        }
        if !self.waiters.borrow().is_empty() {
            self.hand_over();
        }
    }

    /// Gives the lock to the waiters at the front that can have it now: a
    /// writer alone, or a run of readers. Each is granted, then woken with
    /// no borrow held; the next is looked at afresh, so a waker that uses
    /// the lock meanwhile finds it consistent, and is accounted for.
    #[inline(never)]
    fn hand_over(&self) {
        loop {
            let waker = {
                let mut list = self.waiters.borrow_mut();
                match list.front_tag() {
                    Some(READ) if !self.writer.get() => self.readers.set(self.readers.get() + 1),
                    Some(WRITE) if !self.writer.get() && self.readers.get() == 0 => {
                        self.writer.set(true)
                    }
                    _ => return,
                }
                list.grant_front(GRANTED)
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }

    /// Polls a `read()` or `write()` future, whose entry in the queue is
    /// `*key` (`NOT_QUEUED` before it waits, and once it holds the lock):
    /// ready once the lock is held as `kind`. The first poll takes the lock
    /// if it can, else joins the queue; later ones look at the entry. One
    /// function, the wait list's steps inlined into it: with tasks that
    /// contend, every acquisition goes through here.
    #[inline(never)]
    fn poll_acquire(&self, kind: u8, key: &mut usize, cx: &mut Context<'_>) -> Poll<()> {
        if *key == NOT_QUEUED {
            if self.try_take(kind) {
                return Poll::Ready(());
            }
            *key = waiters::enqueue(&self.waiters, cx, kind);
            return Poll::Pending;
        }
        if waiters::poll_entry(&self.waiters, *key, cx.waker()) == WAITING {
            return Poll::Pending;
        }
        *key = NOT_QUEUED;
        Poll::Ready(())
    }

    /// A `read()` or `write()` future is dropped.
    #[inline]
    fn drop_acquire(&self, kind: u8, key: usize) {
        if key != NOT_QUEUED {
            self.cancel(key, kind);
        }
    }

    /// A waiting `read()` or `write()` future is dropped: it leaves the
    /// queue, giving back the lock if it had been handed it.
    #[cold]
    #[inline(never)]
    fn cancel(&self, key: usize, kind: u8) {
        match waiters::leave(&self.waiters, key) {
            // The waiters behind may be able to go now (a writer leaving
            // from the front lets the readers after it in).
            WAITING => self.hand_over(),
            // Handed the lock but gone before taking it: give it back.
            _ => self.release(kind),
        }
    }
}

/// A reader-writer lock for tasks of one runtime (`!Send`, no atomics),
/// held across `.await`s: many readers at once, or one writer.
///
/// Fair: tasks get the lock in the order they asked. A writer waiting for
/// the readers to leave holds back every reader that asks after it,
/// [`try_read`](RwLock::try_read) included, so it is never starved. A
/// `read()` or `write()` future dropped while waiting leaves the queue; one
/// dropped after it was handed the lock gives it back at once.
///
/// asyncio has no reader-writer lock; its `Lock` is eddy's
/// [`Mutex`](super::Mutex).
///
/// ```
/// use std::rc::Rc;
/// use eddy::sync::RwLock;
///
/// eddy::block_on(async {
///     let lock = Rc::new(RwLock::new(0));
///     let r1 = lock.read().await;
///     let r2 = lock.read().await; // readers share the lock
///     let writer = {
///         let lock = lock.clone();
///         eddy::spawn(async move { *lock.write().await += 1 })
///     };
///     eddy::task::yield_now().await; // the writer now waits for the readers...
///     assert!(lock.try_read().is_err()); // ...and holds back later ones
///     drop((r1, r2));
///     writer.await.unwrap();
///     assert_eq!(*lock.read().await, 1);
/// });
/// ```
pub struct RwLock<T> {
    state: State,
    value: RefCell<T>,
}

impl<T> RwLock<T> {
    /// An unlocked lock holding `value`.
    ///
    /// ```
    /// use eddy::sync::RwLock;
    ///
    /// let lock = RwLock::new(5);
    /// assert_eq!(*lock.try_read().unwrap(), 5);
    /// ```
    pub fn new(value: T) -> RwLock<T> {
        RwLock {
            state: State {
                readers: Cell::new(0),
                writer: Cell::new(false),
                waiters: RefCell::default(),
                _not_send: PhantomData,
            },
            value: RefCell::new(value),
        }
    }

    /// Waits for shared access: until no writer holds the lock or waits
    /// ahead of this call.
    ///
    /// ```
    /// use std::rc::Rc;
    /// use eddy::sync::RwLock;
    ///
    /// eddy::block_on(async {
    ///     let config = Rc::new(RwLock::new(String::from("v1")));
    ///     let reader = {
    ///         let config = config.clone();
    ///         eddy::spawn(async move { config.read().await.clone() })
    ///     };
    ///     let held = config.read().await; // readers share the lock
    ///     assert_eq!(reader.await.unwrap(), "v1");
    ///     assert_eq!(*held, "v1");
    /// });
    /// ```
    pub fn read(&self) -> ReadLock<'_, T> {
        ReadLock {
            lock: self,
            key: NOT_QUEUED,
        }
    }

    /// Waits for exclusive access: until nobody holds the lock and every
    /// task that asked before has had its turn.
    ///
    /// ```
    /// use eddy::sync::RwLock;
    ///
    /// eddy::block_on(async {
    ///     let lock = RwLock::new(1);
    ///     *lock.write().await += 1;
    ///     assert_eq!(*lock.read().await, 2);
    /// });
    /// ```
    pub fn write(&self) -> WriteLock<'_, T> {
        WriteLock {
            lock: self,
            key: NOT_QUEUED,
        }
    }

    /// Shared access now, if no writer holds the lock and nobody waits.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if a writer holds the lock, or any task waits for it.
    ///
    /// ```
    /// use eddy::sync::RwLock;
    ///
    /// let lock = RwLock::new(0);
    /// let r1 = lock.try_read().unwrap();
    /// let r2 = lock.try_read().unwrap(); // readers share
    /// assert!(lock.try_write().is_err());
    /// drop((r1, r2));
    /// assert!(lock.try_write().is_ok());
    /// ```
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        if self.state.try_take(READ) {
            Ok(self.read_guard())
        } else {
            Err(TryLockError::new())
        }
    }

    /// Exclusive access now, if nobody holds the lock or waits for it.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if anyone holds the lock, or any task waits for it.
    ///
    /// ```
    /// use eddy::sync::RwLock;
    ///
    /// let lock = RwLock::new(0);
    /// let reader = lock.try_read().unwrap();
    /// assert!(lock.try_write().is_err()); // a reader holds it
    /// drop(reader);
    /// *lock.try_write().unwrap() += 1;
    /// assert_eq!(lock.into_inner(), 1);
    /// ```
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        if self.state.try_take(WRITE) {
            Ok(self.write_guard())
        } else {
            Err(TryLockError::new())
        }
    }

    fn read_guard(&self) -> RwLockReadGuard<'_, T> {
        RwLockReadGuard {
            value: self.value.borrow(),
            _held: Held(&self.state),
        }
    }

    fn write_guard(&self) -> RwLockWriteGuard<'_, T> {
        RwLockWriteGuard {
            value: self.value.borrow_mut(),
            _held: Held(&self.state),
        }
    }

    /// The value, through a unique reference (no locking needed).
    ///
    /// ```
    /// use eddy::sync::RwLock;
    ///
    /// let mut lock = RwLock::new(vec![1]);
    /// lock.get_mut().push(2);
    /// assert_eq!(*lock.try_read().unwrap(), [1, 2]);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }

    /// The value, taken out of the lock.
    ///
    /// ```
    /// use eddy::sync::RwLock;
    ///
    /// let lock = RwLock::new(String::from("inside"));
    /// assert_eq!(lock.into_inner(), "inside");
    /// ```
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> RwLock<T> {
        RwLock::new(T::default())
    }
}

impl<T: fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.value.try_borrow() {
            Ok(v) if !self.state.writer.get() => {
                f.debug_struct("RwLock").field("value", &*v).finish()
            }
            _ => f.write_str("RwLock { <write-locked> }"),
        }
    }
}

/// The future of [`RwLock::read`]. Dropped while waiting, it leaves the
/// queue; dropped after it was handed the lock, it gives it back.
///
/// ```
/// use std::time::Duration;
/// use eddy::sync::RwLock;
///
/// eddy::block_on(async {
///     let lock = RwLock::new(0);
///     let writer = lock.write().await;
///     let gave_up = eddy::time::timeout(Duration::from_millis(1), lock.read()).await;
///     assert!(gave_up.is_err());
///     drop(writer);
///     assert_eq!(*lock.try_read().unwrap(), 0); // nobody left in the queue
/// });
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ReadLock<'a, T> {
    lock: &'a RwLock<T>,
    /// Our entry in the queue, while we wait.
    key: usize,
}

impl<'a, T> Future for ReadLock<'a, T> {
    type Output = RwLockReadGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let lock = this.lock;
        lock.state
            .poll_acquire(READ, &mut this.key, cx)
            .map(|()| lock.read_guard())
    }
}

impl<T> Drop for ReadLock<'_, T> {
    fn drop(&mut self) {
        self.lock.state.drop_acquire(READ, self.key);
    }
}

impl<T> fmt::Debug for ReadLock<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReadLock")
    }
}

/// The future of [`RwLock::write`]. Dropped while waiting, it leaves the
/// queue (readers queued behind it go in); dropped after it was handed the
/// lock, it gives it back.
///
/// ```
/// use std::time::Duration;
/// use eddy::sync::RwLock;
///
/// eddy::block_on(async {
///     let lock = RwLock::new(0);
///     let reader = lock.read().await;
///     let gave_up = eddy::time::timeout(Duration::from_millis(1), lock.write()).await;
///     assert!(gave_up.is_err());
///     assert!(lock.try_read().is_ok()); // no writer waits any more
///     drop(reader);
/// });
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct WriteLock<'a, T> {
    lock: &'a RwLock<T>,
    /// Our entry in the queue, while we wait.
    key: usize,
}

impl<'a, T> Future for WriteLock<'a, T> {
    type Output = RwLockWriteGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let lock = this.lock;
        lock.state
            .poll_acquire(WRITE, &mut this.key, cx)
            .map(|()| lock.write_guard())
    }
}

impl<T> Drop for WriteLock<'_, T> {
    fn drop(&mut self) {
        self.lock.state.drop_acquire(WRITE, self.key);
    }
}

impl<T> fmt::Debug for WriteLock<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WriteLock")
    }
}

/// The lock, held as a reader or a writer (`KIND`); released when dropped.
struct Held<'a, const KIND: u8>(&'a State);

impl<const KIND: u8> Drop for Held<'_, KIND> {
    fn drop(&mut self) {
        self.0.release(KIND);
    }
}

/// Shared access to an [`RwLock`]'s value; released when dropped.
///
/// ```
/// use eddy::sync::RwLock;
///
/// let lock = RwLock::new(vec![1, 2]);
/// let guard = lock.try_read().unwrap();
/// assert_eq!(guard.len(), 2);
/// drop(guard);
/// assert!(lock.try_write().is_ok());
/// ```
pub struct RwLockReadGuard<'a, T> {
    // Dropped first: the value is free before the lock is handed over.
    value: Ref<'a, T>,
    _held: Held<'a, READ>,
}

impl<T> Deref for RwLockReadGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (*self.value).fmt(f)
    }
}

/// Exclusive access to an [`RwLock`]'s value; released when dropped.
///
/// ```
/// use eddy::sync::RwLock;
///
/// let lock = RwLock::new(vec![1]);
/// lock.try_write().unwrap().push(2);
/// assert_eq!(*lock.try_read().unwrap(), [1, 2]);
/// ```
pub struct RwLockWriteGuard<'a, T> {
    // Dropped first: the value is free before the lock is handed over.
    value: RefMut<'a, T>,
    _held: Held<'a, WRITE>,
}

impl<T> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T: fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (*self.value).fmt(f)
    }
}

/// [`Mutex::try_lock`](super::Mutex::try_lock), [`RwLock::try_read`] or
/// [`RwLock::try_write`] could not take the lock now: it is held (the other
/// way, for an `RwLock`), or tasks wait for it.
///
/// ```
/// use eddy::sync::RwLock;
///
/// let lock = RwLock::new(());
/// let _w = lock.try_write().unwrap();
/// let err = lock.try_read().unwrap_err();
/// println!("{err}");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TryLockError(());

impl TryLockError {
    pub(crate) fn new() -> TryLockError {
        TryLockError(())
    }
}

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the lock is held, or tasks are waiting for it")
    }
}

impl std::error::Error for TryLockError {}
