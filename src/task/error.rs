//! `JoinError`: why a task gave no output, and `TaskId`.

use std::any::Any;
use std::fmt;
use std::sync::Mutex;

/// A task's id, unique among the tasks of one runtime (ids count up from 1).
///
/// ```
/// let id = eddy::block_on(async { eddy::spawn(async {}).id() });
/// println!("the task was {id}");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(pub(crate) u64);

impl TaskId {
    /// The id as a plain number.
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TaskId({})", self.0)
    }
}

/// The task did not produce its output: it was cancelled, or it panicked.
///
/// ```
/// eddy::block_on(async {
///     let handle = eddy::spawn(async { panic!("boom") });
///     let err = handle.await.unwrap_err();
///     assert!(err.is_panic());
///     assert_eq!(*err.into_panic().downcast::<&str>().unwrap(), "boom");
/// });
/// ```
pub struct JoinError {
    id: TaskId,
    // The payload is `Send` but not `Sync`; the mutex makes `JoinError: Sync`
    // without unsafe code. It is only locked to print the message.
    panic: Option<Mutex<Box<dyn Any + Send>>>,
}

impl JoinError {
    pub(crate) fn cancelled(id: TaskId) -> JoinError {
        JoinError { id, panic: None }
    }

    pub(crate) fn panic(id: TaskId, payload: Box<dyn Any + Send>) -> JoinError {
        JoinError {
            id,
            panic: Some(Mutex::new(payload)),
        }
    }

    /// True if the task was aborted, or cancelled because its runtime was dropped.
    ///
    /// ```
    /// eddy::block_on(async {
    ///     let task = eddy::spawn(std::future::pending::<()>());
    ///     task.abort();
    ///     assert!(task.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.panic.is_none()
    }

    /// True if the task panicked.
    pub fn is_panic(&self) -> bool {
        self.panic.is_some()
    }

    /// The id of the task that failed.
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// The panic payload. Resume the panic in the caller with
    /// `std::panic::resume_unwind(err.into_panic())`.
    ///
    /// # Panics
    ///
    /// If the task was cancelled instead; see
    /// [`try_into_panic`](Self::try_into_panic).
    ///
    /// ```
    /// eddy::block_on(async {
    ///     let err = eddy::spawn(async { panic!("boom") }).await.unwrap_err();
    ///     let payload = err.into_panic();
    ///     assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
    /// });
    /// ```
    pub fn into_panic(self) -> Box<dyn Any + Send> {
        self.try_into_panic().unwrap_or_else(|e| {
            panic!("eddy: JoinError::into_panic called on a cancelled task ({e})")
        })
    }

    /// The panic payload, or the error itself if the task was cancelled.
    ///
    /// # Errors
    ///
    /// The `JoinError` itself, unchanged, if the task was cancelled.
    ///
    /// ```
    /// eddy::block_on(async {
    ///     let task = eddy::spawn(std::future::pending::<()>());
    ///     task.abort();
    ///     let err = task.await.unwrap_err();
    ///     assert!(err.try_into_panic().unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send>, JoinError> {
        match self.panic {
            Some(m) => Ok(m.into_inner().unwrap_or_else(|poison| poison.into_inner())),
            None => Err(self),
        }
    }

    /// The panic's message, if the payload is a `&str` or a `String`.
    fn message(&self) -> Option<String> {
        let payload = self
            .panic
            .as_ref()?
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
    }
}

/// As tokio's: `task 1 was cancelled`, `task 1 panicked with message
/// "boom"` (a `&str` or `String` payload), or `task 1 panicked` (any other).
impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.panic, self.message()) {
            (None, _) => write!(f, "task {} was cancelled", self.id),
            (Some(_), Some(msg)) => write!(f, "task {} panicked with message {msg:?}", self.id),
            (Some(_), None) => write!(f, "task {} panicked", self.id),
        }
    }
}

/// Character for character tokio's text (`JoinError::Panic(Id(1), "boom",
/// ...)`), so that code and tests written against tokio's output still match.
impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self.id.0;
        match (&self.panic, self.message()) {
            (None, _) => write!(f, "JoinError::Cancelled(Id({id}))"),
            (Some(_), Some(msg)) => write!(f, "JoinError::Panic(Id({id}), {msg:?}, ...)"),
            (Some(_), None) => write!(f, "JoinError::Panic(Id({id}), ...)"),
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(e: JoinError) -> std::io::Error {
        std::io::Error::other(e)
    }
}
