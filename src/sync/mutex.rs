//! `Mutex`: exclusive access across `.await`s, in FIFO order.

use std::cell::{RefCell, RefMut};
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::rwlock::TryLockError;
use super::semaphore::{Acquire, Permit, Semaphore};

/// A lock for tasks of one runtime, held across `.await`s: a
/// one-permit [`Semaphore`] guarding a `RefCell`. Waiters get the lock in
/// FIFO order; a dropped `lock()` future leaves the queue without blocking it.
///
/// This is asyncio's `Lock`, with the value it guards inside. Needed only
/// when the value must stay locked while the holder awaits; otherwise a
/// plain `RefCell` is cheaper.
///
/// ```
/// use std::rc::Rc;
/// use eddy::sync::Mutex;
///
/// eddy::block_on(async {
///     let count = Rc::new(Mutex::new(0));
///     let tasks: Vec<_> = (0..10)
///         .map(|_| {
///             let count = count.clone();
///             eddy::spawn(async move {
///                 let mut n = count.lock().await;
///                 eddy::task::yield_now().await; // still ours
///                 *n += 1;
///             })
///         })
///         .collect();
///     for t in tasks {
///         t.await.unwrap();
///     }
///     assert_eq!(*count.lock().await, 10);
/// });
/// ```
pub struct Mutex<T> {
    sem: Semaphore,
    value: RefCell<T>,
}

impl<T> Mutex<T> {
    /// An unlocked mutex holding `value`.
    ///
    /// ```
    /// use eddy::sync::Mutex;
    ///
    /// let m = Mutex::new(String::from("guarded"));
    /// assert_eq!(*m.try_lock().unwrap(), "guarded");
    /// ```
    pub fn new(value: T) -> Mutex<T> {
        Mutex {
            sem: Semaphore::new(1),
            value: RefCell::new(value),
        }
    }

    /// Waits for the lock, behind the tasks that asked before (FIFO), and
    /// gives a guard that releases it when dropped. Cancel-safe: dropped
    /// while waiting, the future leaves the queue; dropped after it was
    /// handed the lock, it releases it.
    ///
    /// ```
    /// use eddy::sync::Mutex;
    ///
    /// eddy::block_on(async {
    ///     let m = Mutex::new(Vec::new());
    ///     m.lock().await.push(1); // locked for this statement only
    ///     let mut guard = m.lock().await;
    ///     guard.push(2);
    ///     eddy::task::yield_now().await; // still held across the await
    ///     assert_eq!(*guard, [1, 2]);
    /// });
    /// ```
    pub fn lock(&self) -> Lock<'_, T> {
        Lock {
            mutex: self,
            acquire: self.sem.acquire(),
        }
    }

    /// Takes the lock if it is free and nobody waits for it.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if the lock is held or tasks wait for it (a
    /// `Result`, as tokio's and [`RwLock::try_read`](super::RwLock::try_read)).
    ///
    /// ```
    /// use eddy::sync::Mutex;
    ///
    /// let m = Mutex::new(1);
    /// let guard = m.try_lock().unwrap();
    /// assert!(m.try_lock().is_err()); // held
    /// drop(guard);
    /// assert_eq!(*m.try_lock().unwrap(), 1);
    /// ```
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        match self.sem.try_acquire() {
            Ok(permit) => Ok(self.guard(permit)),
            Err(_) => Err(TryLockError::new()),
        }
    }

    fn guard<'a>(&'a self, permit: Permit<'a>) -> MutexGuard<'a, T> {
        // The permit makes us the only holder, so the RefCell is free.
        MutexGuard {
            value: self.value.borrow_mut(),
            _permit: permit,
        }
    }

    /// The value, through a unique reference (no locking needed).
    ///
    /// ```
    /// use eddy::sync::Mutex;
    ///
    /// let mut m = Mutex::new(1);
    /// *m.get_mut() += 1;
    /// assert_eq!(m.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }

    /// The value, taken out of the mutex.
    ///
    /// ```
    /// use eddy::sync::Mutex;
    ///
    /// let m = Mutex::new(vec![1, 2]);
    /// assert_eq!(m.into_inner(), [1, 2]);
    /// ```
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Mutex<T> {
        Mutex::new(T::default())
    }
}

impl<T: fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // tokio's shape: `Mutex { data: .. }`, `Mutex { data: <locked> }`.
        let mut d = f.debug_struct("Mutex");
        match self.value.try_borrow() {
            Ok(v) if self.sem.available_permits() == 1 => d.field("data", &*v),
            _ => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// The future of [`Mutex::lock`]: a [`MutexGuard`] once the lock is this
/// caller's. Dropped while waiting, it leaves the queue without holding
/// back the tasks behind it.
///
/// ```
/// use std::time::Duration;
/// use eddy::sync::Mutex;
///
/// eddy::block_on(async {
///     let m = Mutex::new(0);
///     let guard = m.lock().await;
///     // Held: a second `lock()` waits; given up on, it leaves the queue.
///     let gave_up = eddy::time::timeout(Duration::from_millis(1), m.lock()).await;
///     assert!(gave_up.is_err());
///     drop(guard);
///     assert_eq!(*m.lock().await, 0);
/// });
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Lock<'a, T> {
    mutex: &'a Mutex<T>,
    acquire: Acquire<'a>,
}

impl<'a, T> Future for Lock<'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        let mutex = self.mutex;
        match Pin::new(&mut self.acquire).poll(cx) {
            Poll::Ready(permit) => Poll::Ready(mutex.guard(permit)),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The lock, held; released when dropped. It derefs to the value.
///
/// ```
/// use std::rc::Rc;
/// use eddy::sync::Mutex;
///
/// eddy::block_on(async {
///     let m = Rc::new(Mutex::new(0));
///     let mut guard = m.lock().await;
///     let other = eddy::spawn({
///         let m = m.clone();
///         async move { *m.lock().await * 10 } // waits for the guard
///     });
///     *guard = 4;
///     eddy::task::yield_now().await; // `other` runs, and waits
///     assert!(!other.is_finished());
///     drop(guard); // the lock goes to `other`
///     assert_eq!(other.await.unwrap(), 40);
/// });
/// ```
pub struct MutexGuard<'a, T> {
    // Dropped first: the value is free before the next holder gets the permit.
    value: RefMut<'a, T>,
    _permit: Permit<'a>,
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T: fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (*self.value).fmt(f)
    }
}
