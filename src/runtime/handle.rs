//! `Handle`: spawn onto a runtime from any thread.

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::sync::Arc;

use super::Shared;
use crate::task::RemoteJoinHandle;

/// A cheap, cloneable reference to a runtime that works from any thread.
///
/// [`Handle::spawn`] queues a `Send` future on the runtime's remote queue
/// and wakes the loop if it sleeps. This is the one spawn path that pays for
/// cross-thread synchronisation. The handle does not keep the runtime alive:
/// once the runtime is dropped, spawning through it gives an already
/// cancelled [`RemoteJoinHandle`].
///
/// ```
/// let rt = eddy::Runtime::new()?;
/// let handle = rt.handle();
/// let remote = std::thread::spawn(move || handle.spawn(async { 40 + 2 })).join().unwrap();
/// assert_eq!(rt.block_on(remote).unwrap(), 42);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
}

impl Handle {
    pub(crate) fn new(shared: Arc<Shared>) -> Handle {
        Handle { shared }
    }

    /// The handle of the runtime running on this thread, or of the runtime
    /// whose `spawn_blocking` closure runs on it (as tokio's). Panics
    /// elsewhere.
    ///
    /// ```
    /// eddy::block_on(async {
    ///     let handle = eddy::Handle::current();
    ///     let task = std::thread::spawn(move || handle.spawn(async { "hi" })).join().unwrap();
    ///     assert_eq!(task.await.unwrap(), "hi");
    /// });
    /// ```
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Ok(handle) => handle,
            // A `match`, not a closure: the panic names the caller's line.
            Err(_) => super::context::outside_runtime("Handle::current"),
        }
    }

    /// The handle of the runtime current on this thread (or whose
    /// `spawn_blocking` closure runs on it), or an error outside one: for
    /// code that may or may not run under eddy (a library that falls back
    /// to a thread of its own), as tokio's.
    ///
    /// # Errors
    ///
    /// [`TryCurrentError`] if no runtime is current on this thread.
    ///
    /// ```
    /// assert!(eddy::Handle::try_current().is_err());
    /// eddy::block_on(async {
    ///     assert!(eddy::Handle::try_current().is_ok());
    /// });
    /// ```
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        let core = super::context::current();
        if core.is_null() {
            // A `spawn_blocking` closure knows its runtime, as with tokio.
            return crate::task::blocking::current_handle().ok_or(TryCurrentError(()));
        }
        // SAFETY: non-null means a guard up the stack keeps the core alive
        // for this call (see `context::current`).
        Ok(Handle::new(Arc::clone(unsafe { &(*core).shared })))
    }

    /// Spawns `future` on the runtime from any thread. The task runs on the
    /// runtime's thread when its loop next runs; the returned handle can be
    /// awaited anywhere. If the runtime is gone, the future is dropped here
    /// and the handle is already cancelled.
    ///
    /// ```
    /// let rt = eddy::Runtime::new()?;
    /// let handle = rt.handle();
    /// let worker = std::thread::spawn(move || {
    ///     // A plain thread hands work to the loop and waits for the answer.
    ///     let task = handle.spawn(async { 6 * 7 });
    ///     futures::executor::block_on(task).unwrap()
    /// });
    /// // The loop runs until the thread has its answer.
    /// rt.block_on(async {
    ///     while !worker.is_finished() {
    ///         eddy::time::sleep(std::time::Duration::from_millis(1)).await;
    ///     }
    /// });
    /// assert_eq!(worker.join().unwrap(), 42);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> RemoteJoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        crate::task::remote::spawn(&self.shared, future, Location::caller())
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("closed", &self.shared.is_closed())
            .finish()
    }
}

/// [`Handle::try_current`] was called with no runtime current on this thread.
///
/// ```
/// let err = eddy::Handle::try_current().unwrap_err();
/// assert!(err.to_string().contains("no eddy runtime"));
/// ```
#[derive(Debug)]
pub struct TryCurrentError(());

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no eddy runtime is current on this thread")
    }
}

impl std::error::Error for TryCurrentError {}
