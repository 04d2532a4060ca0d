//! Tasks: spawning, awaiting, cancelling.
//!
//! A task is a future the runtime owns and polls until it finishes. It is
//! one heap allocation (`raw.rs`: header, future and output together), woken
//! by a `Waker` that points at that allocation (`waker.rs`), polled and
//! cancelled by `harness.rs`, and listed by the runtime in `list.rs`.
//! Handles: [`JoinHandle`] to await or abort, [`AbortHandle`] to abort,
//! [`JoinSet`] for groups; [`RemoteJoinHandle`] for tasks spawned from
//! other threads, and [`spawn_blocking`] for closures run on helper threads.

use std::future::Future;
use std::panic::Location;

pub(crate) mod blocking;
mod error;
pub(crate) mod harness;
mod join;
mod join_set;
mod joiner;
pub(crate) mod list;
pub(crate) mod raw;
pub(crate) mod remote;
mod waker;
mod yield_now;

pub use self::blocking::spawn_blocking;
pub use self::error::{JoinError, TaskId};
pub use self::join::{AbortHandle, JoinHandle};
pub use self::join_set::JoinSet;
pub use self::remote::RemoteJoinHandle;
pub(crate) use self::waker::as_task;
pub use self::yield_now::{YieldNow, yield_now};

/// Spawns a task on the runtime running on this thread and returns a handle
/// to await its output. The future needs `'static` but not `Send`: it never
/// leaves this thread. The task starts when the current task yields. This
/// is asyncio's `create_task`; dropping the handle detaches the task.
///
/// # Panics
///
/// If no runtime is running on this thread (outside `block_on`, `turn`
/// and tasks), with ``eddy: `eddy::spawn` was called outside a runtime``.
/// Use [`Runtime::spawn`](crate::Runtime::spawn) or
/// [`Handle::spawn`](crate::Handle::spawn) there.
///
/// ```
/// use std::rc::Rc;
///
/// eddy::block_on(async {
///     let shared = Rc::new(5); // not Send, and that is fine
///     let s = shared.clone();
///     let task = eddy::spawn(async move { *s * 2 });
///     assert_eq!(task.await.unwrap(), 10);
/// });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let location = Location::caller();
    crate::runtime::with_current("eddy::spawn", |core| core.spawn(future, location))
}

/// The [`TaskId`] of the task this is called from.
///
/// # Panics
///
/// Outside a task: in the `block_on` future itself, or with no runtime.
/// [`try_id`] says `None` there instead.
///
/// ```
/// eddy::block_on(async {
///     let task = eddy::spawn(async { eddy::task::id() });
///     let id = task.id();
///     assert_eq!(task.await.unwrap(), id);
/// });
/// ```
#[track_caller]
pub fn id() -> TaskId {
    try_id().expect("eddy: `eddy::task::id()` was called outside a task; use `try_id()` where there may be none")
}

/// The [`TaskId`] of the task this is called from, or `None` outside one
/// (in the `block_on` future itself, or with no runtime). As tokio's
/// `task::try_id`, a task's id is also known in its `spawn_blocking`
/// closure, and in the destructors of its future and of its output,
/// wherever they run (an abort, the runtime's drop, a dropped
/// `JoinHandle`).
///
/// ```
/// eddy::block_on(async {
///     assert_eq!(eddy::task::try_id(), None); // the block_on future is no task
///     let id = eddy::spawn(async { eddy::task::try_id() }).await.unwrap();
///     assert!(id.is_some());
/// });
/// ```
pub fn try_id() -> Option<TaskId> {
    harness::dropping_id()
        .or_else(crate::runtime::current_task_id)
        .or_else(blocking::current_id)
}
