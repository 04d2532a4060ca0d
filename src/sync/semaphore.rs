//! `Semaphore`: a count of permits, handed out in FIFO order.
//!
//! The count is a `Cell`; tasks that cannot have what they ask for wait in
//! the shared FIFO list, each with the number of permits it wants. Permits
//! given back go to the head of the line as soon as the count covers what
//! the head asks for, then to the next, and so on; so a task asking for many
//! permits at the head holds back smaller requests behind it (as in tokio)
//! and is never starved by them. While anyone waits, the count is set aside
//! for the head, so [`Semaphore::available_permits`] says 0 and `try_acquire`
//! fails.
//!
//! Acquiring cannot fail: there is no `close` (tokio's `AcquireError` has no
//! counterpart). A task that must stop waiting drops its `acquire` future,
//! which is always safe.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::waiters::{Grant, WAITING, WaitList};

/// A waiter was handed all the permits it asked for.
const GRANTED: Grant = 1;

/// A count of permits that tasks acquire and give back, for tasks of one
/// runtime (`!Send`; no atomics, no locks).
///
/// Waiters are served in FIFO order: permits given back go straight to the
/// task that has waited longest, so a late-comer cannot overtake it (and
/// `try_acquire` fails while anyone waits). A dropped `acquire` future
/// loses no permit: if it had been handed some, it passes them on.
///
/// Unlike tokio's, eddy's semaphore cannot be closed, so acquiring returns
/// the permit itself rather than a `Result`. This is asyncio's
/// `Semaphore`, with the permit as a guard instead of `release()`.
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
    /// Permits not held by anyone (set aside for the head waiter, if any).
    permits: Cell<usize>,
    waiters: RefCell<WaitList>,
    /// `!Send`: it belongs to its runtime's thread, as API.md says.
    _not_send: PhantomData<Rc<()>>,
}

/// [`Semaphore::try_acquire`] found no permit free.
///
/// ```
/// use eddy::sync::{Semaphore, TryAcquireError};
///
/// let sem = Semaphore::new(1);
/// let _held = sem.try_acquire().unwrap();
/// let err = sem.try_acquire().unwrap_err();
/// assert_eq!(err, TryAcquireError::NoPermits);
/// assert_eq!(err.to_string(), "no permits available");
/// ```
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
    /// The most permits a semaphore may hold: `usize::MAX >> 3`, the same
    /// value as tokio's, so that code written against one behaves the same on
    /// the other.
    pub const MAX_PERMITS: usize = usize::MAX >> 3;

    /// A semaphore with `permits` permits.
    ///
    /// # Panics
    ///
    /// If `permits` is more than [`Semaphore::MAX_PERMITS`].
    ///
    /// ```
    /// use eddy::sync::Semaphore;
    ///
    /// let sem = Semaphore::new(3);
    /// assert_eq!(sem.available_permits(), 3);
    /// ```
    pub fn new(permits: usize) -> Semaphore {
        assert!(
            permits <= Self::MAX_PERMITS,
            "eddy: Semaphore::new({permits}) asks for more than Semaphore::MAX_PERMITS ({})",
            Self::MAX_PERMITS
        );
        Semaphore {
            permits: Cell::new(permits),
            waiters: RefCell::default(),
            _not_send: PhantomData,
        }
    }

    /// Permits free right now. While a task waits, what the count holds is
    /// set aside for it, so this is 0 (as in tokio).
    ///
    /// ```
    /// use eddy::sync::Semaphore;
    ///
    /// let sem = Semaphore::new(3);
    /// let permit = sem.try_acquire().unwrap();
    /// assert_eq!(sem.available_permits(), 2);
    /// drop(permit);
    /// assert_eq!(sem.available_permits(), 3);
    /// ```
    pub fn available_permits(&self) -> usize {
        if self.waiters.borrow().is_empty() {
            self.permits.get()
        } else {
            0
        }
    }

    /// Adds `n` permits: waiting tasks get them first, in FIFO order.
    ///
    /// # Panics
    ///
    /// If the count of free permits would go above
    /// [`Semaphore::MAX_PERMITS`] (as tokio). Permits given back by a drop
    /// never panic: they may take the count past the limit, by as many as
    /// were held when `add_permits` filled it.
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
        if n == 0 {
            return;
        }
        let total = self.permits.get().checked_add(n);
        match total {
            Some(total) if total <= Self::MAX_PERMITS => self.permits.set(total),
            _ => panic!(
                "eddy: Semaphore::add_permits({n}) would raise the count ({}) above \
                 Semaphore::MAX_PERMITS ({})",
                self.permits.get(),
                Self::MAX_PERMITS
            ),
        }
        self.hand_out();
    }

    /// Takes up to `n` free permits out of the semaphore for good; returns
    /// how many it took. Held permits are not touched, and neither are those
    /// set aside for a waiting task (as tokio: it takes from what
    /// [`available_permits`](Semaphore::available_permits) shows).
    ///
    /// ```
    /// use eddy::sync::Semaphore;
    ///
    /// let sem = Semaphore::new(5);
    /// let held = sem.try_acquire_many(2).unwrap();
    /// assert_eq!(sem.forget_permits(4), 3); // only 3 were free
    /// assert_eq!(sem.available_permits(), 0);
    /// drop(held); // held permits come back
    /// assert_eq!(sem.available_permits(), 2);
    /// ```
    pub fn forget_permits(&self, n: usize) -> usize {
        let taken = n.min(self.available_permits());
        self.permits.set(self.permits.get() - taken);
        taken
    }

    /// Gives `n` permits back: to the waiters, or to the count. Runs in a
    /// permit's drop, so it never panics: the count saturates.
    #[inline(never)]
    fn release(&self, n: usize) {
        let available = self.permits.get().saturating_add(n);
        // The common case, one grant at most, is kept straight: a permit's
        // drop runs it.
        let granted = self
            .waiters
            .borrow_mut()
            .grant_front_within(GRANTED, available);
        match granted {
            None => self.permits.set(available),
            Some((need, waker)) => {
                self.permits.set(available - need);
                if let Some(waker) = waker {
                    waker.wake();
                }
                // Several given back, or one waiter asks for less: the next
                // in line may fit too.
                if self.permits.get() > 0 {
                    self.hand_out();
                }
            }
        }
    }

    /// Grants waiters at the head, in order, while the count covers what
    /// each asks for.
    #[inline(never)]
    fn hand_out(&self) {
        loop {
            let available = self.permits.get();
            // Waiters ask for at least one permit: with none, nobody can be
            // served.
            if available == 0 {
                return;
            }
            let granted = self
                .waiters
                .borrow_mut()
                .grant_front_within(GRANTED, available);
            let Some((need, waker)) = granted else {
                return;
            };
            self.permits.set(available - need);
            // No borrow held: the waker may use this semaphore.
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }

    /// Takes a permit if one is free and nobody is waiting.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::NoPermits`] if none is free, or tasks wait ahead.
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
        self.try_take(1)
    }

    /// Takes `n` permits at once if they are free and nobody is waiting
    /// (all or nothing). Zero permits are always free.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::NoPermits`] if fewer than `n` are free, or tasks
    /// wait ahead.
    ///
    /// ```
    /// use eddy::sync::Semaphore;
    ///
    /// let sem = Semaphore::new(3);
    /// let two = sem.try_acquire_many(2).unwrap();
    /// assert_eq!(two.num_permits(), 2);
    /// assert!(sem.try_acquire_many(2).is_err()); // only one left
    /// ```
    pub fn try_acquire_many(&self, n: u32) -> Result<Permit<'_>, TryAcquireError> {
        self.try_take(n as usize)
    }

    fn try_take(&self, n: usize) -> Result<Permit<'_>, TryAcquireError> {
        let permits = self.permits.get();
        if n == 0 || (permits >= n && self.waiters.borrow().is_empty()) {
            self.permits.set(permits - n);
            Ok(Permit { sem: self, n })
        } else {
            Err(TryAcquireError::NoPermits)
        }
    }

    /// Waits for a permit. The permit goes back when dropped.
    ///
    /// ```
    /// use eddy::sync::Semaphore;
    ///
    /// eddy::block_on(async {
    ///     let sem = Semaphore::new(1);
    ///     let permit = sem.acquire().await;
    ///     assert_eq!(sem.available_permits(), 0);
    ///     drop(permit);
    ///     assert_eq!(sem.available_permits(), 1);
    /// });
    /// ```
    pub fn acquire(&self) -> Acquire<'_> {
        Acquire {
            sem: self,
            state: State::Start(1),
        }
    }

    /// Waits until `n` permits can be had at once, and takes them together
    /// (never a few at a time). In line, it holds back later requests, even
    /// smaller ones that would fit (FIFO, as tokio). Dropped while waiting,
    /// it takes nothing and lets the next in line go ahead.
    ///
    /// `n` is a `u32`, as in tokio.
    ///
    /// ```
    /// use std::rc::Rc;
    /// use eddy::sync::Semaphore;
    ///
    /// eddy::block_on(async {
    ///     let sem = Rc::new(Semaphore::new(1));
    ///     let one = sem.acquire().await;
    ///     let s = sem.clone();
    ///     let big = eddy::spawn(async move { s.acquire_many(3).await.num_permits() });
    ///     eddy::task::yield_now().await; // `big` waits at the head
    ///     sem.add_permits(1);
    ///     drop(one); // 2 free: not yet enough
    ///     assert!(sem.try_acquire().is_err()); // set aside for `big`
    ///     sem.add_permits(1);
    ///     assert_eq!(big.await.unwrap(), 3);
    ///     assert_eq!(sem.available_permits(), 3);
    /// });
    /// ```
    pub fn acquire_many(&self, n: u32) -> Acquire<'_> {
        Acquire {
            sem: self,
            state: State::Start(n as usize),
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
        let n = self.acquire().await.into_count();
        OwnedPermit { sem: self, n }
    }

    /// As [`acquire_many`](Semaphore::acquire_many), giving an
    /// [`OwnedPermit`].
    ///
    /// ```
    /// use std::rc::Rc;
    /// use eddy::sync::Semaphore;
    ///
    /// eddy::block_on(async {
    ///     let sem = Rc::new(Semaphore::new(4));
    ///     let permit = sem.clone().acquire_many_owned(3).await;
    ///     assert_eq!(permit.num_permits(), 3);
    ///     assert_eq!(sem.available_permits(), 1);
    /// });
    /// ```
    pub async fn acquire_many_owned(self: Rc<Self>, n: u32) -> OwnedPermit {
        let n = self.acquire_many(n).await.into_count();
        OwnedPermit { sem: self, n }
    }

    /// As [`try_acquire`](Semaphore::try_acquire), giving an [`OwnedPermit`].
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::NoPermits`] if none is free, or tasks wait ahead.
    ///
    /// ```
    /// use std::rc::Rc;
    /// use eddy::sync::Semaphore;
    ///
    /// let sem = Rc::new(Semaphore::new(1));
    /// let permit = sem.clone().try_acquire_owned().unwrap();
    /// assert!(sem.clone().try_acquire_owned().is_err());
    /// drop(permit);
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn try_acquire_owned(self: Rc<Self>) -> Result<OwnedPermit, TryAcquireError> {
        self.try_acquire_many_owned(1)
    }

    /// As [`try_acquire_many`](Semaphore::try_acquire_many), giving an
    /// [`OwnedPermit`].
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::NoPermits`] if fewer than `n` are free, or tasks
    /// wait ahead.
    ///
    /// ```
    /// use std::rc::Rc;
    /// use eddy::sync::Semaphore;
    ///
    /// let sem = Rc::new(Semaphore::new(2));
    /// let permit = sem.clone().try_acquire_many_owned(2).unwrap();
    /// assert_eq!(permit.num_permits(), 2);
    /// ```
    pub fn try_acquire_many_owned(self: Rc<Self>, n: u32) -> Result<OwnedPermit, TryAcquireError> {
        let n = self.try_acquire_many(n)?.into_count();
        Ok(OwnedPermit { sem: self, n })
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("permits", &self.permits.get())
            .finish()
    }
}

/// The future of [`Semaphore::acquire`] and [`Semaphore::acquire_many`]:
/// the [`Permit`], once it is this caller's turn and the permits are free.
/// Dropped while waiting, it leaves the line; dropped after permits were
/// handed to it, it passes them on. Polling it again after it completed
/// panics.
///
/// ```
/// use eddy::sync::Semaphore;
///
/// eddy::block_on(async {
///     let sem = Semaphore::new(1);
///     let first = sem.acquire().await;
///     let mut second = sem.acquire();
///     assert!(futures::poll!(&mut second).is_pending()); // in line
///     drop(first); // the permit goes straight to `second`
///     assert!(sem.try_acquire().is_err());
///     let _permit = second.await;
/// });
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Acquire<'a> {
    sem: &'a Semaphore,
    state: State,
}

#[derive(Clone, Copy)]
enum State {
    /// Not in line yet; asks for this many permits.
    Start(usize),
    /// In line under this key, asking for `need` permits.
    Waiting { key: usize, need: usize },
    /// Completed.
    Done,
}

impl<'a> Future for Acquire<'a> {
    type Output = Permit<'a>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Permit<'a>> {
        let sem = self.sem;
        match self.state {
            State::Start(need) => {
                if let Ok(permit) = sem.try_take(need) {
                    self.state = State::Done;
                    return Poll::Ready(permit);
                }
                // Cloned before the borrow: a waker's clone is its owner's code.
                let waker = cx.waker().clone();
                let key = sem.waiters.borrow_mut().push_needing(waker, need);
                self.state = State::Waiting { key, need };
                Poll::Pending
            }
            State::Waiting { key, need } => {
                let waiters = sem.waiters.borrow();
                if waiters.grant(key) != WAITING {
                    drop(waiters);
                    self.state = State::Done;
                    let removed = sem.waiters.borrow_mut().remove(key);
                    drop(removed);
                    return Poll::Ready(Permit { sem, n: need });
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
            State::Done => polled_after_completion(),
        }
    }
}

#[cold]
#[inline(never)]
fn polled_after_completion() -> ! {
    panic!("eddy: a Semaphore Acquire future was polled after it completed")
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        if let State::Waiting { key, need } = self.state {
            let (grant, waker) = self.sem.waiters.borrow_mut().remove(key);
            drop(waker);
            if grant == GRANTED {
                // Handed permits but gone before taking them: pass them on.
                self.sem.release(need);
            } else {
                // Gone from the line: if it was the head, the next in line
                // may fit in what the count holds.
                self.sem.hand_out();
            }
        }
    }
}

impl fmt::Debug for Acquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("waiting", &matches!(self.state, State::Waiting { .. }))
            .finish()
    }
}

/// Permits from a [`Semaphore`] (one, or several with `acquire_many`);
/// given back when dropped. It borrows the semaphore: for a permit that
/// moves into a spawned task, see [`OwnedPermit`].
///
/// ```
/// use eddy::sync::Semaphore;
///
/// eddy::block_on(async {
///     let sem = Semaphore::new(4);
///     let permit = sem.acquire_many(3).await;
///     assert_eq!(permit.num_permits(), 3);
///     assert_eq!(sem.available_permits(), 1);
///     drop(permit); // given back
///     assert_eq!(sem.available_permits(), 4);
/// });
/// ```
#[must_use = "the permit is given back as soon as it is dropped"]
pub struct Permit<'a> {
    sem: &'a Semaphore,
    n: usize,
}

impl<'a> Permit<'a> {
    /// Keeps the permits out of the semaphore for good (its count shrinks
    /// by [`num_permits`](Permit::num_permits)).
    ///
    /// ```
    /// use eddy::sync::Semaphore;
    ///
    /// let sem = Semaphore::new(2);
    /// sem.try_acquire().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn forget(mut self) {
        self.n = 0;
    }

    /// How many permits this holds.
    ///
    /// ```
    /// use eddy::sync::Semaphore;
    ///
    /// let sem = Semaphore::new(2);
    /// assert_eq!(sem.try_acquire_many(2).unwrap().num_permits(), 2);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.n
    }

    /// Takes `other`'s permits into this one: they go back together.
    ///
    /// # Panics
    ///
    /// If the two come from different semaphores (as tokio).
    ///
    /// ```
    /// use eddy::sync::Semaphore;
    ///
    /// let sem = Semaphore::new(3);
    /// let mut permit = sem.try_acquire().unwrap();
    /// permit.merge(sem.try_acquire_many(2).unwrap());
    /// assert_eq!(permit.num_permits(), 3);
    /// drop(permit);
    /// assert_eq!(sem.available_permits(), 3);
    /// ```
    pub fn merge(&mut self, mut other: Permit<'a>) {
        assert!(
            std::ptr::eq(self.sem, other.sem),
            "eddy: Permit::merge: the two permits come from different semaphores"
        );
        self.n += std::mem::take(&mut other.n);
    }

    /// Moves `n` of the permits into a new `Permit` of the same semaphore;
    /// `None` (and nothing moved) if this one holds fewer than `n`.
    ///
    /// ```
    /// use eddy::sync::Semaphore;
    ///
    /// let sem = Semaphore::new(3);
    /// let mut permit = sem.try_acquire_many(3).unwrap();
    /// let one = permit.split(1).unwrap();
    /// assert_eq!((permit.num_permits(), one.num_permits()), (2, 1));
    /// assert!(permit.split(5).is_none());
    /// drop(one); // goes back on its own
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn split(&mut self, n: usize) -> Option<Permit<'a>> {
        self.n = self.n.checked_sub(n)?;
        Some(Permit { sem: self.sem, n })
    }

    /// Empties the permit without giving anything back; returns its count.
    fn into_count(mut self) -> usize {
        std::mem::take(&mut self.n)
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if self.n > 0 {
            self.sem.release(self.n);
        }
    }
}

impl fmt::Debug for Permit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").field("permits", &self.n).finish()
    }
}

/// Permits that own an `Rc` of their [`Semaphore`]; given back when
/// dropped. Made by [`Semaphore::acquire_owned`] and its kin, it can move
/// into a spawned task, which then holds it for as long as it runs.
///
/// ```
/// use std::rc::Rc;
/// use eddy::sync::Semaphore;
///
/// eddy::block_on(async {
///     let limit = Rc::new(Semaphore::new(2)); // two jobs at a time
///     let mut jobs = Vec::new();
///     for i in 0..4 {
///         let permit = limit.clone().acquire_owned().await; // waits for a slot
///         jobs.push(eddy::spawn(async move {
///             let _permit = permit; // given back when the job ends
///             eddy::task::yield_now().await;
///             i
///         }));
///     }
///     for job in jobs {
///         job.await.unwrap();
///     }
///     assert_eq!(limit.available_permits(), 2);
/// });
/// ```
#[must_use = "the permit is given back as soon as it is dropped"]
pub struct OwnedPermit {
    sem: Rc<Semaphore>,
    n: usize,
}

impl OwnedPermit {
    /// Keeps the permits out of the semaphore for good (its count shrinks
    /// by [`num_permits`](OwnedPermit::num_permits)).
    ///
    /// ```
    /// use std::rc::Rc;
    /// use eddy::sync::Semaphore;
    ///
    /// let sem = Rc::new(Semaphore::new(2));
    /// sem.clone().try_acquire_owned().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn forget(mut self) {
        self.n = 0;
    }

    /// How many permits this holds.
    ///
    /// ```
    /// use std::rc::Rc;
    /// use eddy::sync::Semaphore;
    ///
    /// let sem = Rc::new(Semaphore::new(3));
    /// assert_eq!(sem.try_acquire_many_owned(3).unwrap().num_permits(), 3);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.n
    }

    /// The semaphore the permits belong to.
    ///
    /// ```
    /// use std::rc::Rc;
    /// use eddy::sync::Semaphore;
    ///
    /// let sem = Rc::new(Semaphore::new(1));
    /// let permit = sem.clone().try_acquire_owned().unwrap();
    /// assert!(Rc::ptr_eq(permit.semaphore(), &sem));
    /// ```
    pub fn semaphore(&self) -> &Rc<Semaphore> {
        &self.sem
    }

    /// Takes `other`'s permits into this one: they go back together.
    ///
    /// # Panics
    ///
    /// If the two come from different semaphores (as tokio).
    ///
    /// ```
    /// use std::rc::Rc;
    /// use eddy::sync::Semaphore;
    ///
    /// let sem = Rc::new(Semaphore::new(2));
    /// let mut permit = sem.clone().try_acquire_owned().unwrap();
    /// permit.merge(sem.clone().try_acquire_owned().unwrap());
    /// assert_eq!(permit.num_permits(), 2);
    /// ```
    pub fn merge(&mut self, mut other: OwnedPermit) {
        assert!(
            Rc::ptr_eq(&self.sem, &other.sem),
            "eddy: OwnedPermit::merge: the two permits come from different semaphores"
        );
        self.n += std::mem::take(&mut other.n);
    }

    /// Moves `n` of the permits into a new `OwnedPermit` of the same
    /// semaphore; `None` (and nothing moved) if this one holds fewer than `n`.
    ///
    /// ```
    /// use std::rc::Rc;
    /// use eddy::sync::Semaphore;
    ///
    /// let sem = Rc::new(Semaphore::new(3));
    /// let mut permit = sem.clone().try_acquire_many_owned(3).unwrap();
    /// let two = permit.split(2).unwrap();
    /// assert_eq!((permit.num_permits(), two.num_permits()), (1, 2));
    /// ```
    pub fn split(&mut self, n: usize) -> Option<OwnedPermit> {
        self.n = self.n.checked_sub(n)?;
        Some(OwnedPermit {
            sem: Rc::clone(&self.sem),
            n,
        })
    }
}

impl Drop for OwnedPermit {
    fn drop(&mut self) {
        if self.n > 0 {
            self.sem.release(self.n);
        }
    }
}

impl fmt::Debug for OwnedPermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedPermit")
            .field("permits", &self.n)
            .finish()
    }
}
