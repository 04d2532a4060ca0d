//! Counters the loop keeps as it runs: plain `Cell<u64>`s on the loop's
//! thread, so keeping them costs an add each, no atomic.

use std::cell::Cell;

/// A snapshot of a runtime's counters, from [`Runtime::metrics`](crate::Runtime::metrics).
///
/// Counters (`tasks_spawned`, `polls`, the wakes, `io_events`,
/// `timers_fired`, `parks`) only grow; `tasks_alive` and `ready_queue_depth`
/// are the values at the time of the snapshot.
///
/// ```
/// let rt = eddy::Runtime::new()?;
/// rt.block_on(async {
///     eddy::spawn(async {}).await.unwrap();
/// });
/// let m = rt.metrics();
/// assert_eq!(m.tasks_spawned, 1);
/// assert_eq!(m.tasks_alive, 0);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Metrics {
    /// Tasks spawned since the runtime was built (local, remote and blocking).
    pub tasks_spawned: u64,
    /// Tasks spawned and not yet complete.
    pub tasks_alive: u64,
    /// Task polls (the `block_on` future is not counted).
    pub polls: u64,
    /// Wakes that came from the loop's own thread while it ran.
    pub local_wakes: u64,
    /// Wakes that came through the remote queue (other threads, or the loop's
    /// thread while this runtime was not running).
    pub remote_wakes: u64,
    /// Readiness events taken from the poller.
    pub io_events: u64,
    /// Timers that fired.
    pub timers_fired: u64,
    /// Times the loop blocked in the poller with nothing ready.
    pub parks: u64,
    /// Entries in the run queue now.
    pub ready_queue_depth: u64,
    /// Times a remote wake had to write to the poller's waker (a syscall)
    /// because the loop was parked. While the loop is busy this stays still.
    pub unparks: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) tasks_spawned: Cell<u64>,
    pub(crate) polls: Cell<u64>,
    pub(crate) local_wakes: Cell<u64>,
    pub(crate) remote_wakes: Cell<u64>,
    pub(crate) io_events: Cell<u64>,
    pub(crate) timers_fired: Cell<u64>,
    pub(crate) parks: Cell<u64>,
}

#[inline]
pub(crate) fn bump(counter: &Cell<u64>) {
    counter.set(counter.get() + 1);
}
