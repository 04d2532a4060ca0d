//! The task dump: what [`Runtime::tasks`](crate::Runtime::tasks) returns.
//!
//! A walk over the runtime's list of live tasks, reading each header's
//! flags and poll count: no bookkeeping is kept for it, so it costs nothing
//! until it is called. Spawn locations come from debug mode.

use std::fmt;
use std::panic::Location;

use crate::task::TaskId;

/// One live task in a [`Runtime::tasks`](crate::Runtime::tasks) dump.
///
/// ```
/// use eddy::runtime::TaskState;
///
/// let rt = eddy::Runtime::builder().debug(true).build()?;
/// let task = rt.spawn(std::future::pending::<()>());
/// let dump = rt.tasks();
/// assert_eq!(dump.len(), 1);
/// assert_eq!(dump[0].state, TaskState::Scheduled); // spawned, not yet run
/// assert_eq!(dump[0].location.unwrap().file(), file!());
/// println!("{:?}", dump[0]); // TaskInfo { id: 1, state: Scheduled, polls: 0, at: src/...:7:16 }
/// # drop(task);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TaskInfo {
    /// The task's id, as in its `JoinError`s.
    pub id: TaskId,
    /// Where the task was spawned; `None` unless the runtime is in debug mode.
    pub location: Option<&'static Location<'static>>,
    /// What the task is doing now.
    pub state: TaskState,
    /// How many times the task was polled.
    pub polls: u64,
}

impl fmt::Debug for TaskInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("TaskInfo");
        d.field("id", &format_args!("{}", self.id))
            .field("state", &self.state)
            .field("polls", &self.polls);
        match self.location {
            Some(at) => d.field("at", &format_args!("{at}")),
            None => d.field("at", &format_args!("<unknown: debug mode is off>")),
        };
        d.finish()
    }
}

/// What a task is doing, in a [`TaskInfo`].
///
/// ```
/// use eddy::runtime::TaskState;
///
/// let rt = eddy::Runtime::new()?;
/// rt.spawn(std::future::pending::<()>());
/// assert_eq!(rt.tasks()[0].state, TaskState::Scheduled);
/// rt.block_on(eddy::task::yield_now()); // it runs once and waits
/// assert_eq!(rt.tasks()[0].state, TaskState::Idle);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TaskState {
    /// Waiting to be woken (its future returned `Pending`).
    Idle,
    /// Woken, waiting in the run queue (or, woken from another thread, in
    /// the remote queue) for its turn.
    Scheduled,
    /// Being polled right now: the task that asked for the dump.
    Running,
}
