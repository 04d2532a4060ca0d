//! `Semaphore`: a count of permits, handed out in FIFO order.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::waiters::{Grant, WAITING, WaitList};

/// A waiter was handed one permit.
const PERMIT: Grant = 1;

/// A count of permits that tasks acquire and give back, for tasks of one
/// runtime (`!Send`; no atomics, no locks).
///
/// Waiters are served in FIFO order: a permit given back goes straight to
/// the task that has waited longest, so a late-comer cannot overtake it
/// (and `try_acquire` fails while anyone waits). A dropped `acquire` future
/// loses no permit: if it had been handed one, it passes it on.
///
/// ```
/// use std::rc::Rc;
/// use eddy::sync::Semaphore;
///
/// eddy::block_on(async {
///     let sem = Rc::new(Semaphore::new(2)); // at most two at a time
///     let mut tasks = Vec::new();
///     for i in 0..5 {
///         let sem = sem.clone();
///         tasks.push(eddy::spawn(async move {
///             let _permit = sem.acquire().await;
///             i // work while holding the permit
///         }));
///     }
///     for t in tasks {
///         t.await.unwrap();
///     }
///     assert_eq!(sem.available_permits(), 2);
/// });
/// ```
pub struct Semaphore {
    permits: Cell<usize>,
    waiters: RefCell<WaitList>,
    /// `!Send`: it belongs to its runtime's thread, as API.md says.
    _not_send: PhantomData<Rc<()>>,
}

/// [`Semaphore::try_acquire`] found no permit free.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryAcquireError {
    /// Every permit is taken (or promised to a task already waiting).
    NoPermits,
}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no permits available")
    }
}

impl std::error::Error for TryAcquireError {}

impl Semaphore {
    /// A semaphore with `permits` permits.
    pub fn new(permits: usize) -> Semaphore {
        Semaphore {
            permits: Cell::new(permits),
            waiters: RefCell::default(),
            _not_send: PhantomData,
        }
    }

    /// Permits free right now.
    pub fn available_permits(&self) -> usize {
        self.permits.get()
    }

    /// Adds `n` permits: waiting tasks get them first, in FIFO order.
    /// Panics if the count would overflow `usize`.
    ///
    /// ```
    /// use eddy::sync::Semaphore;
    ///
    /// let sem = Semaphore::new(0);
    /// assert!(sem.try_acquire().is_err());
    /// sem.add_permits(2);
    /// assert_eq!(sem.available_permits(), 2);
    /// ```
    pub fn add_permits(&self, n: usize) {
        let mut n = n;
        let mut wake = Vec::new();
        {
            let mut waiters = self.waiters.borrow_mut();
            while n > 0 {
                match waiters.grant_front(PERMIT) {
                    Some(waker) => {
                        wake.push(waker);
                        n -= 1;
                    }
                    None => break,
                }
            }
        }
        let permits = self.permits.get().checked_add(n);
        self.permits
            .set(permits.expect("eddy: Semaphore permit count overflow"));
        for waker in wake {
            waker.wake();
        }
    }

    /// Gives one permit back: to the first waiter, or to the count.
    fn release(&self) {
        let waker = self.waiters.borrow_mut().grant_front(PERMIT);
        match waker {
            Some(waker) => waker.wake(),
            // Saturating: this runs in a permit's drop, where a panic could
            // abort; a count at usize::MAX has nothing left to lose.
            None => self.permits.set(self.permits.get().saturating_add(1)),
        }
    }

    /// Takes a permit if one is free and nobody is waiting.
    ///
    /// ```
    /// use eddy::sync::{Semaphore, TryAcquireError};
    ///
    /// let sem = Semaphore::new(1);
    /// let permit = sem.try_acquire().unwrap();
    /// assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    /// drop(permit); // given back
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn try_acquire(&self) -> Result<Permit<'_>, TryAcquireError> {
        let permits = self.permits.get();
        if permits > 0 && self.waiters.borrow().is_empty() {
            self.permits.set(permits - 1);
            Ok(Permit { sem: self })
        } else {
            Err(TryAcquireError::NoPermits)
        }
    }

    /// Waits for a permit. The permit goes back when dropped.
    pub fn acquire(&self) -> Acquire<'_> {
        Acquire {
            sem: self,
            key: None,
        }
    }

    /// As [`acquire`](Semaphore::acquire), for a semaphore in an `Rc`: the
    /// permit keeps the semaphore alive, so it can move into a spawned task.
    ///
    /// ```
    /// use std::rc::Rc;
    /// use eddy::sync::Semaphore;
    ///
    /// eddy::block_on(async {
    ///     let sem = Rc::new(Semaphore::new(1));
    ///     let permit = sem.clone().acquire_owned().await;
    ///     let task = eddy::spawn(async move {
    ///         let _permit = permit; // held until this task ends
    ///     });
    ///     task.await.unwrap();
    ///     assert_eq!(sem.available_permits(), 1);
    /// });
    /// ```
    pub async fn acquire_owned(self: Rc<Self>) -> OwnedPermit {
        self.acquire().await.forget();
        OwnedPermit { sem: self }
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("permits", &self.permits.get())
            .finish()
    }
}

/// The future of [`Semaphore::acquire`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Acquire<'a> {
    sem: &'a Semaphore,
    /// Our place in the waiter list, once we wait.
    key: Option<usize>,
}

impl<'a> Future for Acquire<'a> {
    type Output = Permit<'a>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Permit<'a>> {
        let sem = self.sem;
        match self.key {
            None => {
                if let Ok(permit) = sem.try_acquire() {
                    return Poll::Ready(permit);
                }
                // Cloned before the borrow: a waker's clone is its owner's code.
                let waker = cx.waker().clone();
                self.key = Some(sem.waiters.borrow_mut().push(waker));
                Poll::Pending
            }
            Some(key) => {
                let waiters = sem.waiters.borrow();
                if waiters.grant(key) != WAITING {
                    drop(waiters);
                    self.key = None;
                    sem.waiters.borrow_mut().remove(key);
                    return Poll::Ready(Permit { sem });
                }
                if waiters.will_wake(key, cx.waker()) {
                    return Poll::Pending;
                }
                drop(waiters);
                let waker = cx.waker().clone();
                let old = sem.waiters.borrow_mut().set_waker(key, waker);
                drop(old);
                Poll::Pending
            }
        }
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let (grant, waker) = self.sem.waiters.borrow_mut().remove(key);
            drop(waker);
            if grant == PERMIT {
                // Handed a permit but gone before taking it: pass it on.
                self.sem.release();
            }
        }
    }
}

impl fmt::Debug for Acquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("waiting", &self.key.is_some())
            .finish()
    }
}

/// A permit from a [`Semaphore`]; given back when dropped.
#[must_use = "the permit is given back as soon as it is dropped"]
pub struct Permit<'a> {
    sem: &'a Semaphore,
}

impl Permit<'_> {
    /// Keeps the permit out of the semaphore for good (its count shrinks by one).
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.sem.release();
    }
}

impl fmt::Debug for Permit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Permit")
    }
}

/// A permit that owns an `Rc` of its [`Semaphore`]; given back when dropped.
#[must_use = "the permit is given back as soon as it is dropped"]
pub struct OwnedPermit {
    sem: Rc<Semaphore>,
}

impl Drop for OwnedPermit {
    fn drop(&mut self) {
        self.sem.release();
    }
}

impl fmt::Debug for OwnedPermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OwnedPermit")
    }
}
