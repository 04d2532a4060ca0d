//! `Mutex`: exclusive access across `.await`s, in FIFO order.

use std::cell::{RefCell, RefMut};
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::semaphore::{Acquire, Permit, Semaphore};

/// A lock for tasks of one runtime, held across `.await`s: a
/// one-permit [`Semaphore`] guarding a `RefCell`. Waiters get the lock in
/// FIFO order; a dropped `lock()` future leaves the queue without blocking it.
///
/// Needed only when the value must stay locked while the holder awaits;
/// otherwise a plain `RefCell` is cheaper.
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
    pub fn new(value: T) -> Mutex<T> {
        Mutex {
            sem: Semaphore::new(1),
            value: RefCell::new(value),
        }
    }

    /// Waits for the lock.
    pub fn lock(&self) -> Lock<'_, T> {
        Lock {
            mutex: self,
            acquire: self.sem.acquire(),
        }
    }

    /// Takes the lock if it is free and nobody waits for it.
    ///
    /// ```
    /// use eddy::sync::Mutex;
    ///
    /// let m = Mutex::new(1);
    /// let guard = m.try_lock().unwrap();
    /// assert!(m.try_lock().is_none()); // held
    /// drop(guard);
    /// assert_eq!(*m.try_lock().unwrap(), 1);
    /// ```
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        let permit = self.sem.try_acquire().ok()?;
        Some(self.guard(permit))
    }

    fn guard<'a>(&'a self, permit: Permit<'a>) -> MutexGuard<'a, T> {
        // The permit makes us the only holder, so the RefCell is free.
        MutexGuard {
            value: self.value.borrow_mut(),
            _permit: permit,
        }
    }

    /// The value, through a unique reference (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }

    /// The value.
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
        match self.value.try_borrow() {
            Ok(v) if self.sem.available_permits() == 1 => {
                f.debug_struct("Mutex").field("value", &*v).finish()
            }
            _ => f.write_str("Mutex { <locked> }"),
        }
    }
}

/// The future of [`Mutex::lock`].
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

/// The lock, held; released when dropped.
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
