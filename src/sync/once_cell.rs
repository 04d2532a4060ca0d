//! `OnceCell`: a value set once, by the first task that gets to it.
//!
//! The value sits in a `std::cell::OnceCell`, so reading it is a plain
//! check. Initialising is a turn that one task holds at a time: the
//! others wait in the FIFO waiter list. When the initialiser finishes, every
//! waiter is granted "set" and finds the value; when it fails or is
//! cancelled (its future dropped, or a panic), the turn goes to the first
//! waiter, which runs its own initialiser.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::waiters::{self, Grant, Wait, WaitList};

/// A waiter's turn to initialise.
const TURN: Grant = 1;
/// The value is set.
const SET: Grant = 2;

/// A cell that is set once, with async initialisation: this is a lazily
/// computed shared value (a connection, a configuration file read once).
///
/// [`get_or_init`](OnceCell::get_or_init) runs one initialiser at a time:
/// the first caller runs its closure's future, later callers wait for it
/// and then get the same value. If the initialiser is cancelled (or fails,
/// in [`get_or_try_init`](OnceCell::get_or_try_init)), the next waiter runs
/// its own.
///
/// ```
/// use std::rc::Rc;
/// use eddy::sync::OnceCell;
///
/// eddy::block_on(async {
///     let config = Rc::new(OnceCell::new());
///     let tasks: Vec<_> = (0..3)
///         .map(|i| {
///             let config = config.clone();
///             eddy::spawn(async move {
///                 let load = || async move {
///                     eddy::task::yield_now().await; // slow work: the others wait
///                     format!("loaded by task {i}")
///                 };
///                 config.get_or_init(load).await.clone()
///             })
///         })
///         .collect();
///     for t in tasks {
///         assert_eq!(t.await.unwrap(), "loaded by task 0"); // one initialiser ran
///     }
/// });
/// ```
pub struct OnceCell<T> {
    value: std::cell::OnceCell<T>,
    /// A task holds the turn to initialise (or was granted it and has not
    /// taken it yet).
    busy: Cell<bool>,
    waiters: RefCell<WaitList>,
    _not_send: PhantomData<Rc<()>>,
}

impl<T> OnceCell<T> {
    /// An empty cell.
    ///
    /// ```
    /// use eddy::sync::OnceCell;
    ///
    /// let cell = OnceCell::<u32>::new();
    /// assert!(!cell.initialized());
    /// ```
    pub fn new() -> OnceCell<T> {
        OnceCell {
            value: std::cell::OnceCell::new(),
            busy: Cell::new(false),
            waiters: RefCell::default(),
            _not_send: PhantomData,
        }
    }

    /// A cell holding `value`, or empty for `None`.
    ///
    /// ```
    /// use eddy::sync::OnceCell;
    ///
    /// assert_eq!(OnceCell::new_with(Some(1)).get(), Some(&1));
    /// assert_eq!(OnceCell::<u32>::new_with(None).get(), None);
    /// ```
    pub fn new_with(value: Option<T>) -> OnceCell<T> {
        let cell = OnceCell::new();
        if let Some(value) = value {
            let _ = cell.value.set(value);
        }
        cell
    }

    /// The value, if set. Never waits: while an initialiser runs, this is
    /// `None`.
    ///
    /// ```
    /// use eddy::sync::OnceCell;
    ///
    /// let cell = OnceCell::new();
    /// assert_eq!(cell.get(), None);
    /// cell.set("ready").unwrap();
    /// assert_eq!(cell.get(), Some(&"ready"));
    /// ```
    pub fn get(&self) -> Option<&T> {
        self.value.get()
    }

    /// The value, through a unique reference, if set.
    ///
    /// ```
    /// use eddy::sync::OnceCell;
    ///
    /// let mut cell = OnceCell::new_with(Some(1));
    /// *cell.get_mut().unwrap() += 1;
    /// assert_eq!(cell.get(), Some(&2));
    /// ```
    pub fn get_mut(&mut self) -> Option<&mut T> {
        self.value.get_mut()
    }

    /// True once the value is set.
    ///
    /// ```
    /// use eddy::sync::OnceCell;
    ///
    /// eddy::block_on(async {
    ///     let cell = OnceCell::new();
    ///     assert!(!cell.initialized());
    ///     cell.get_or_init(|| async { 1 }).await;
    ///     assert!(cell.initialized());
    /// });
    /// ```
    pub fn initialized(&self) -> bool {
        self.value.get().is_some()
    }

    /// Sets the value if the cell is empty and nobody is initialising it.
    ///
    /// # Errors
    ///
    /// [`SetError::AlreadyInitializedError`] if the value is set,
    /// [`SetError::InitializingError`] if an initialiser is running; either
    /// gives `value` back.
    ///
    /// ```
    /// use eddy::sync::{OnceCell, SetError};
    ///
    /// let cell = OnceCell::new();
    /// assert!(cell.set(1).is_ok());
    /// assert_eq!(cell.set(2), Err(SetError::AlreadyInitializedError(2)));
    /// assert_eq!(cell.get(), Some(&1));
    /// ```
    pub fn set(&self, value: T) -> Result<(), SetError<T>> {
        if self.initialized() {
            return Err(SetError::AlreadyInitializedError(value));
        }
        if self.busy.get() {
            return Err(SetError::InitializingError(value));
        }
        // Empty and nobody initialising: nobody waits either.
        if let Err(value) = self.value.set(value) {
            return Err(SetError::AlreadyInitializedError(value));
        }
        Ok(())
    }

    /// The value, initialised first by `f()`'s future if the cell is empty.
    /// If another call is initialising it, waits for that one; if that one
    /// is cancelled, the first waiter runs its own `f`.
    ///
    /// Cancel-safe: dropped while waiting, this call leaves the line; dropped
    /// while its initialiser runs, it drops that future and passes the turn
    /// on. An initialiser that awaits `get_or_init` on the same cell waits
    /// for itself for ever.
    ///
    /// # Panics
    ///
    /// If `f` or its future panics; the turn then passes to the next waiter.
    ///
    /// ```
    /// use eddy::sync::OnceCell;
    ///
    /// eddy::block_on(async {
    ///     let cell = OnceCell::new();
    ///     assert_eq!(*cell.get_or_init(|| async { 7 }).await, 7);
    ///     assert_eq!(*cell.get_or_init(|| async { 8 }).await, 7); // set already
    /// });
    /// ```
    pub async fn get_or_init<F, Fut>(&self, f: F) -> &T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        let result = self
            .get_or_try_init(|| async { Ok::<T, std::convert::Infallible>(f().await) })
            .await;
        match result {
            Ok(value) => value,
            Err(never) => match never {},
        }
    }

    /// As [`get_or_init`](OnceCell::get_or_init), with an initialiser that
    /// may fail: on `Err` the cell stays empty and the next waiter tries.
    ///
    /// # Errors
    ///
    /// The error of this call's own initialiser (a waiter whose
    /// turn comes runs its own `f`; it never sees another's error).
    ///
    /// # Panics
    ///
    /// If `f` or its future panics; the turn then passes to the next waiter.
    ///
    /// ```
    /// use eddy::sync::OnceCell;
    ///
    /// eddy::block_on(async {
    ///     let cell = OnceCell::new();
    ///     let failed = cell.get_or_try_init(|| async { Err::<u32, _>("not yet") }).await;
    ///     assert_eq!(failed, Err("not yet"));
    ///     assert!(!cell.initialized());
    ///     let ok = cell.get_or_try_init(|| async { Ok::<_, &str>(3) }).await;
    ///     assert_eq!(ok, Ok(&3));
    /// });
    /// ```
    pub async fn get_or_try_init<E, F, Fut>(&self, f: F) -> Result<&T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if let Some(value) = self.value.get() {
            return Ok(value);
        }
        if self.busy.get() {
            let grant = TurnWait {
                cell: self,
                wait: Wait::new(&self.waiters, 0),
            }
            .await;
            if grant == SET {
                return Ok(self.value.get().expect("granted SET once the value is set"));
            }
            // Our turn: `busy` stays set for us.
        } else {
            self.busy.set(true);
        }
        let turn = Turn { cell: self };
        let value = f().await?;
        std::mem::forget(turn);
        if self.value.set(value).is_err() {
            unreachable!("only the task holding the turn sets the value");
        }
        self.busy.set(false);
        waiters::wake_all(&self.waiters, SET);
        Ok(self.value.get().expect("just set"))
    }

    /// The value, if set.
    ///
    /// ```
    /// use eddy::sync::OnceCell;
    ///
    /// let cell = OnceCell::from(String::from("owned"));
    /// assert_eq!(cell.into_inner().as_deref(), Some("owned"));
    /// ```
    pub fn into_inner(self) -> Option<T> {
        self.value.into_inner()
    }

    /// Takes the value out, leaving the cell empty (ready to be set again).
    ///
    /// ```
    /// use eddy::sync::OnceCell;
    ///
    /// let mut cell = OnceCell::new_with(Some(1));
    /// assert_eq!(cell.take(), Some(1));
    /// assert!(cell.set(2).is_ok());
    /// ```
    pub fn take(&mut self) -> Option<T> {
        std::mem::take(self).into_inner()
    }

    /// Gives the turn to the first waiter, or frees it.
    fn pass_turn(&self) {
        let waker = self.waiters.borrow_mut().grant_front(TURN);
        match waker {
            Some(waker) => waker.wake(),
            None => self.busy.set(false),
        }
    }
}

/// Held by the task whose turn it is; dropped without being forgotten (the
/// initialiser failed, panicked or was cancelled), it passes the turn on.
struct Turn<'a, T> {
    cell: &'a OnceCell<T>,
}

impl<T> Drop for Turn<'_, T> {
    fn drop(&mut self) {
        self.cell.pass_turn();
    }
}

/// Waits for the turn or the value; dropped after being granted the turn,
/// passes it on.
struct TurnWait<'a, T> {
    cell: &'a OnceCell<T>,
    wait: Wait<'a>,
}

impl<T> Future for TurnWait<'_, T> {
    type Output = Grant;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Grant> {
        Pin::new(&mut self.wait).poll(cx)
    }
}

impl<T> Drop for TurnWait<'_, T> {
    fn drop(&mut self) {
        if self.wait.cancel() == Some(TURN) {
            self.cell.pass_turn();
        }
    }
}

impl<T> Default for OnceCell<T> {
    fn default() -> OnceCell<T> {
        OnceCell::new()
    }
}

impl<T> From<T> for OnceCell<T> {
    fn from(value: T) -> OnceCell<T> {
        OnceCell::new_with(Some(value))
    }
}

impl<T: Clone> Clone for OnceCell<T> {
    fn clone(&self) -> OnceCell<T> {
        OnceCell::new_with(self.get().cloned())
    }
}

impl<T: PartialEq> PartialEq for OnceCell<T> {
    fn eq(&self, other: &OnceCell<T>) -> bool {
        self.get() == other.get()
    }
}

impl<T: Eq> Eq for OnceCell<T> {}

impl<T: fmt::Debug> fmt::Debug for OnceCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnceCell")
            .field("value", &self.get())
            .finish()
    }
}

/// Why [`OnceCell::set`] did not set the value; the value comes back.
///
/// ```
/// use eddy::sync::{OnceCell, SetError};
///
/// let cell = OnceCell::new_with(Some(1));
/// match cell.set(2) {
///     Err(SetError::AlreadyInitializedError(v)) => assert_eq!(v, 2),
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SetError<T> {
    /// The cell already holds a value.
    AlreadyInitializedError(T),
    /// An initialiser is running (`get_or_init`).
    InitializingError(T),
}

impl<T> SetError<T> {
    /// True for [`SetError::AlreadyInitializedError`].
    ///
    /// ```
    /// use eddy::sync::OnceCell;
    ///
    /// let cell = OnceCell::new_with(Some(1));
    /// assert!(cell.set(2).unwrap_err().is_already_init_err());
    /// ```
    pub fn is_already_init_err(&self) -> bool {
        matches!(self, SetError::AlreadyInitializedError(_))
    }

    /// True for [`SetError::InitializingError`].
    ///
    /// ```
    /// use eddy::sync::OnceCell;
    ///
    /// eddy::block_on(async {
    ///     let cell = OnceCell::new();
    ///     let mut init = std::pin::pin!(cell.get_or_init(|| std::future::pending()));
    ///     assert!(futures::poll!(init.as_mut()).is_pending()); // initialising
    ///     assert!(cell.set(1).unwrap_err().is_initializing_err());
    /// });
    /// ```
    pub fn is_initializing_err(&self) -> bool {
        matches!(self, SetError::InitializingError(_))
    }

    /// The value that was not set.
    ///
    /// ```
    /// use eddy::sync::OnceCell;
    ///
    /// let cell = OnceCell::new_with(Some("first"));
    /// assert_eq!(cell.set("second").unwrap_err().into_inner(), "second");
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            SetError::AlreadyInitializedError(v) | SetError::InitializingError(v) => v,
        }
    }
}

impl<T> fmt::Debug for SetError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetError::AlreadyInitializedError(_) => f.write_str("AlreadyInitializedError(..)"),
            SetError::InitializingError(_) => f.write_str("InitializingError(..)"),
        }
    }
}

impl<T> fmt::Display for SetError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetError::AlreadyInitializedError(_) => f.write_str("the cell is already set"),
            SetError::InitializingError(_) => f.write_str("the cell is being initialised"),
        }
    }
}

impl<T> std::error::Error for SetError<T> {}
