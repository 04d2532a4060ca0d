//! The runtime: `Runtime`, its `Builder`, its `Handle`, and the loop.
//!
//! A [`Runtime`] owns everything that makes a loop: the run queue, the
//! reactor, the timer wheel, the list of live tasks, and a small shared block
//! that other threads may reach. It runs only on the thread that made it
//! (it is `!Send`), and only while something drives it: [`Runtime::block_on`]
//! or [`Runtime::turn`]. Between those calls nothing runs; spawned tasks wait.
//!
//! Files: `core.rs` is the loop, `run_queue.rs` the run queue, `context.rs`
//! the thread-local "current runtime", `shared.rs` the block other threads
//! see (remote queue, park flag, unpark waker), `handle.rs` the `Handle`.

use std::future::Future;
use std::io;
use std::panic::Location;
use std::sync::Arc;
use std::task::{Wake, Waker};
use std::time::Duration;

mod context;
mod core;
mod handle;
mod metrics;
mod run_queue;
mod shared;

pub(crate) use self::context::with_current;
pub(crate) use self::core::Core;
pub use self::handle::Handle;
pub use self::metrics::Metrics;
pub(crate) use self::shared::{Remote, RemoteSpawn, Shared};

use crate::task::JoinHandle;
use crate::task::raw::TaskRef;

/// Runs `future` to completion on a new runtime on this thread, then drops
/// the runtime, which cancels every task still alive. This is Python's
/// `asyncio.run`.
///
/// Panics if the runtime cannot be built (the process is out of file
/// descriptors), or if called from inside a runtime. A panic in `future`
/// propagates out of `block_on`.
///
/// ```
/// let answer = eddy::block_on(async {
///     let task = eddy::spawn(async { 6 * 7 });
///     task.await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
#[track_caller]
pub fn block_on<F: Future>(future: F) -> F::Output {
    let rt =
        Runtime::new().unwrap_or_else(|e| panic!("eddy::block_on: could not build a runtime: {e}"));
    rt.block_on(future)
}

/// A single-threaded async runtime: an executor, a reactor and a timer wheel
/// driven by one thread.
///
/// Build one with [`Runtime::new`] or [`Runtime::builder`], then drive it with
/// [`block_on`](Runtime::block_on) (or [`turn`](Runtime::turn) from a host
/// loop). Dropping it cancels every task still alive: each future is dropped
/// on this thread with the runtime current, so destructors may spawn or use
/// timers; what they spawn is dropped too.
///
/// ```
/// let rt = eddy::Runtime::new()?;
/// let task = rt.spawn(async { "spawned before block_on" });
/// let msg = rt.block_on(async { task.await.unwrap() });
/// assert_eq!(msg, "spawned before block_on");
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Runtime {
    core: Box<Core>,
}

impl Runtime {
    /// Builds a runtime with the default settings.
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }

    /// A builder, to change the settings.
    ///
    /// ```
    /// let rt = eddy::Runtime::builder().event_interval(31).build()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// Runs the loop on this thread until `future` completes, and returns its
    /// output. Spawned tasks run meanwhile; those still alive at the end wait
    /// for the next call (or are cancelled when the runtime is dropped).
    ///
    /// Panics if a runtime is already running on this thread (a `block_on`
    /// inside a task would stall the loop that runs it). A panic in `future`
    /// propagates; panics in spawned tasks do not.
    ///
    /// ```
    /// let rt = eddy::Runtime::new()?;
    /// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.core.block_on(future)
    }

    /// Spawns a task on this runtime from outside it; the task runs when the
    /// loop next runs. Works whether or not the runtime is running.
    ///
    /// ```
    /// let rt = eddy::Runtime::new()?;
    /// let task = rt.spawn(async { 5 });
    /// assert_eq!(rt.block_on(task).unwrap(), 5);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.core.spawn(future, Location::caller())
    }

    /// A handle that spawns onto this runtime from any thread.
    pub fn handle(&self) -> Handle {
        Handle::new(Arc::clone(&self.core.shared))
    }

    /// When the next timer is due, if any: for a host loop that keeps its
    /// own clock and calls [`turn`](Runtime::turn) itself.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = eddy::Runtime::new()?;
    /// assert_eq!(rt.next_deadline(), None);
    /// rt.spawn(eddy::time::sleep(Duration::from_secs(1)));
    /// rt.block_on(eddy::task::yield_now()); // the sleep registers on its first poll
    /// assert!(rt.next_deadline().is_some());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn next_deadline(&self) -> Option<std::time::Instant> {
        self.core.next_deadline()
    }

    /// A snapshot of the runtime's counters.
    pub fn metrics(&self) -> Metrics {
        let c = &self.core.counters;
        Metrics {
            tasks_spawned: c.tasks_spawned.get(),
            tasks_alive: self.core.tasks.len() as u64,
            polls: c.polls.get(),
            local_wakes: c.local_wakes.get(),
            remote_wakes: c.remote_wakes.get(),
            io_events: c.io_events.get(),
            timers_fired: c.timers_fired.get(),
            parks: c.parks.get(),
            ready_queue_depth: self.core.ready_len() as u64,
            unparks: self
                .core
                .shared
                .unparks
                .load(std::sync::atomic::Ordering::Relaxed),
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.core.shutdown();
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("metrics", &self.metrics())
            .finish_non_exhaustive()
    }
}

/// The settings a runtime is built with.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) event_interval: u32,
    pub(crate) debug: bool,
    pub(crate) slow_poll_threshold: Duration,
    pub(crate) max_blocking_threads: usize,
    pub(crate) blocking_keep_alive: Duration,
}

/// Builds a [`Runtime`] with chosen settings. Setters chain.
///
/// ```
/// use std::time::Duration;
///
/// let rt = eddy::Runtime::builder()
///     .event_interval(61)
///     .max_blocking_threads(4)
///     .build()?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Builder {
    config: Config,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}

impl Builder {
    /// The default settings: `event_interval` 61, debug mode off unless
    /// `EDDY_DEBUG=1`, slow-poll threshold 100 ms, at most 16 blocking
    /// threads, which exit after 10 s idle.
    pub fn new() -> Builder {
        Builder {
            config: Config {
                event_interval: 61,
                debug: std::env::var_os("EDDY_DEBUG").is_some_and(|v| v == "1"),
                slow_poll_threshold: Duration::from_millis(100),
                max_blocking_threads: 16,
                blocking_keep_alive: Duration::from_secs(10),
            },
        }
    }

    /// After this many polls in a row the loop looks at I/O, timers and other
    /// threads even if tasks are still ready (default 61, as tokio). Lower is
    /// fairer to I/O; higher spends fewer syscalls when tasks keep busy.
    /// Panics if `n` is 0.
    pub fn event_interval(mut self, n: u32) -> Builder {
        assert!(n > 0, "eddy: Builder::event_interval must be at least 1");
        self.config.event_interval = n;
        self
    }

    /// Debug mode, as `asyncio.run(debug=True)`: tasks remember where they
    /// were spawned and slow polls are reported on stderr. Also turned on
    /// by the environment variable `EDDY_DEBUG=1`.
    pub fn debug(mut self, on: bool) -> Builder {
        self.config.debug = on;
        self
    }

    /// In debug mode, a poll longer than this is reported (default 100 ms).
    pub fn slow_poll_threshold(mut self, threshold: Duration) -> Builder {
        self.config.slow_poll_threshold = threshold;
        self
    }

    /// The most threads `spawn_blocking` starts (default 16). Panics if 0.
    pub fn max_blocking_threads(mut self, n: usize) -> Builder {
        assert!(
            n > 0,
            "eddy: Builder::max_blocking_threads must be at least 1"
        );
        self.config.max_blocking_threads = n;
        self
    }

    /// How long an idle blocking thread waits for work before it exits
    /// (default 10 s).
    pub fn blocking_keep_alive(mut self, keep_alive: Duration) -> Builder {
        self.config.blocking_keep_alive = keep_alive;
        self
    }

    /// Builds the runtime: an epoll instance and an eventfd. Fails only if
    /// the OS refuses those (for example EMFILE).
    pub fn build(&self) -> io::Result<Runtime> {
        Ok(Runtime {
            core: Core::new(self.config.clone())?,
        })
    }
}

/// Schedules a woken task: the one hook from `task` into the runtime.
#[inline]
pub(crate) fn schedule(task: TaskRef) {
    let core = context::current();
    // SAFETY: a non-null current core is alive (an `Enter` guard up the
    // stack), and it is this task's runtime only if the shared blocks match.
    if !core.is_null() && unsafe { (*core).shared_ptr() } == task.shared_ptr() {
        // SAFETY: as above.
        unsafe { (*core).schedule_local(task) }
    } else {
        Shared::wake_remote(task);
    }
}

/// Wakes `waker` now if that takes no foreign code: it is a task waker of
/// the runtime running on this thread, so waking only pushes to the run
/// queue. Returns false (nothing done) for any other waker. Lets the reactor
/// wake such a task in place, keeping the waker where it is.
#[inline]
pub(crate) fn wake_local(waker: &Waker) -> bool {
    let Some(task) = crate::task::as_task(waker) else {
        return false;
    };
    let core = context::current();
    // SAFETY: as in `schedule`.
    if !core.is_null() && unsafe { (*core).shared_ptr() } == task.shared_ptr() {
        // SAFETY: as in `schedule`.
        unsafe { (*core).schedule_local(task) };
        return true;
    }
    false
}

/// The `block_on` future's waker is the shared block itself.
impl Wake for Shared {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let core = context::current();
        // SAFETY: as in `schedule`.
        if !core.is_null() && unsafe { (*core).shared_ptr() } == Arc::as_ptr(self) {
            // SAFETY: as in `schedule`.
            unsafe { (*core).schedule_main() }
        } else {
            self.wake_main();
        }
    }
}

/// Drops a task's future now, inside its runtime (which is alive: the
/// future is). Used by `abort` on a task that is not running.
pub(crate) fn cancel_now(task: TaskRef) {
    let core = task.shared().core();
    debug_assert!(!core.is_null(), "a task with a future outlived its runtime");
    // SAFETY: a task whose future is alive belongs to a live runtime (its
    // drop cancels every task before clearing this pointer), and `abort` runs
    // on that runtime's thread (handles are `!Send`).
    let core = unsafe { &*core };
    let _enter = context::Enter::any(core);
    crate::task::harness::cancel(task, &core.tasks);
}
