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

    /// The handle of the runtime running on this thread. Panics outside one.
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
        super::with_current("Handle::current", |core| {
            Handle::new(Arc::clone(&core.shared))
        })
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
