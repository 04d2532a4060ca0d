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
//! see (remote queue, park flag, unpark waker), `handle.rs` the `Handle`,
//! `metrics.rs` the counters and `dump.rs` the task dump;
//! `thread_per_core.rs` runs one runtime per CPU ([`ThreadPerCore`]).
//!
//! # Driving eddy from another loop
//!
//! A program with a loop of its own (a GUI toolkit, a game loop, another
//! epoll) does not call `block_on`: it waits on the runtime's fd
//! ([`AsRawFd`](std::os::fd::AsRawFd)) beside its own, and calls
//! [`Runtime::turn`] when the fd is readable. The fd is the poller's epoll
//! fd; it turns readable on a socket event, on a wake from another thread
//! (the unpark eventfd), when a turn ends with tasks still ready (the
//! eventfd again, written once), and when the next timer is due (a
//! timerfd, armed after each turn only if the earliest deadline changed).
//! Between turns the runtime counts as parked.
//!
//! # Where the loop holds `&Core` while user code runs
//!
//! User code (a future's poll or destructor, a waker, an output's
//! destructor) may spawn, wake, abort, panic, or drop the `Runtime`. The
//! core is an `Rc`, and each place that keeps a reference into it across
//! such code also keeps it alive:
//!
//! - **A drive** (`Core::block_on`, `Core::turn`, and the loop's calls into
//!   the reactor, the wheel and the tasks): reached through `&Runtime`,
//!   which the caller borrows for the whole drive, so the `Runtime` cannot
//!   be dropped under it in safe code.
//! - **An abort between drives** (`cancel_now`, from `abort` and
//!   `JoinSet`'s drop): nothing borrows the `Runtime` there, and the
//!   cancelled future may hold the last `Rc<Runtime>`. `cancel_now` holds
//!   its own strong count; a `Runtime` dropped meanwhile only marks the
//!   core, and the shutdown runs when the abort is done (`Core::release`).
//! - **The shutdown** (`Core::shutdown`, from the `Runtime`'s drop or from
//!   `Core::release`): its caller holds a strong count until it returns. It
//!   never unwinds: every call into user code in it is under
//!   `catch_unwind`, so the core pointer the tasks' handles use is always
//!   cleared before the core is freed.
//! - **`with_current`** (`spawn`, `spawn_blocking`, `Handle::current`, a
//!   `Sleep`'s first poll, I/O constructors): the current core is alive
//!   while the guard that made it current is on the stack, which is one of
//!   the three above, or an [`EnterGuard`], which borrows the `Runtime`.
//! - **Completing a task** (`harness::complete`) takes `&TaskList` across
//!   the output's destructor and the joiner's wake; it is always called
//!   from one of the places above.
//!
//! Wakes never hold it: a waker reaches the core only through `CURRENT`
//! (the same guards) or through the shared block's remote queue.

use std::future::Future;
use std::io;
use std::panic::Location;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Wake;
use std::time::Duration;

mod context;
mod core;
mod dump;
mod handle;
#[cfg(all(test, eddy_loom))]
mod loom_model;
mod metrics;
mod run_queue;
mod shared;
mod thread_per_core;

pub(crate) use self::context::{LocalWaker, schedule, wake_local, with_current, with_local_waker};
pub(crate) use self::core::Core;
pub use self::dump::{TaskInfo, TaskState};
pub use self::handle::{Handle, TryCurrentError};
pub use self::metrics::Metrics;
pub(crate) use self::shared::{Remote, RemoteSpawn, Shared};
pub use self::thread_per_core::{ThreadPerCore, Worker};

use crate::task::raw::TaskRef;
use crate::task::{JoinHandle, TaskId};

/// Runs `future` to completion on a new runtime on this thread, then drops
/// the runtime, which cancels every task still alive. This is Python's
/// `asyncio.run`.
///
/// # Panics
///
/// If the runtime cannot be built (the process is out of file
/// descriptors), or if called from inside a runtime (a task, another
/// `block_on`). A panic in `future` propagates out of `block_on`.
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
    // An `Rc` so that an abort can keep the core alive while a destructor
    // it runs drops the `Runtime` (see `cancel_now`).
    core: Rc<Core>,
}

impl Runtime {
    /// Builds a runtime with the default settings (see [`Builder::new`]).
    ///
    /// # Errors
    ///
    /// The OS error if it refuses the epoll instance or the eventfd (for
    /// example `EMFILE`, out of file descriptors).
    ///
    /// ```
    /// let rt = eddy::Runtime::new()?;
    /// assert_eq!(rt.block_on(async { 2 + 2 }), 4);
    /// # Ok::<(), std::io::Error>(())
    /// ```
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
    /// # Panics
    ///
    /// If a runtime is already running on this thread (a `block_on` inside a
    /// task would stall the loop that runs it). A panic in `future`
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

    /// One turn of the loop, for a host program that drives eddy from its
    /// own loop: takes in what happened (socket events, wakes and spawns
    /// from other threads), fires due timers, then polls the tasks ready at
    /// that point, once each; returns how many task polls it made. If no
    /// task is ready, it first waits in the poller for at most `max_wait`
    /// (`None`: until something happens; `Some(Duration::ZERO)`: not at
    /// all). A task woken during the turn runs in the next one, so a task
    /// that never stops being ready cannot hold the host's loop.
    ///
    /// Typical use: wait on the runtime's fd ([`AsRawFd`](std::os::fd::AsRawFd))
    /// beside the host's own, and call `turn(Some(Duration::ZERO))` when it
    /// is readable.
    ///
    /// # Panics
    ///
    /// If called from inside a runtime (a task, or `block_on`).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = eddy::Runtime::new()?;
    /// let task = rt.spawn(async {
    ///     eddy::task::yield_now().await;
    ///     "done"
    /// });
    /// assert_eq!(rt.turn(Some(Duration::ZERO)), 1); // runs until the yield
    /// assert_eq!(rt.turn(Some(Duration::ZERO)), 1); // and to the end
    /// assert_eq!(rt.turn(Some(Duration::ZERO)), 0); // nothing left
    /// assert_eq!(rt.block_on(task).unwrap(), "done");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn turn(&self, max_wait: Option<Duration>) -> usize {
        self.core.turn(max_wait)
    }

    /// A dump of the live tasks (spawned, not yet finished), oldest first:
    /// id, spawn location (in debug mode), state and poll count. Callable
    /// from inside a task.
    ///
    /// ```
    /// use eddy::runtime::TaskState;
    ///
    /// let rt = eddy::Runtime::new()?;
    /// let (tx, rx) = eddy::sync::oneshot::channel::<()>();
    /// rt.spawn(async move { rx.await.ok() });
    /// rt.block_on(eddy::task::yield_now()); // the task runs and waits
    /// let dump = rt.tasks();
    /// assert_eq!(dump.len(), 1);
    /// assert_eq!(dump[0].state, TaskState::Idle);
    /// assert_eq!(dump[0].polls, 1);
    /// drop(tx);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn tasks(&self) -> Vec<TaskInfo> {
        self.core.tasks()
    }

    /// The name given with [`Builder::name`], if any.
    ///
    /// ```
    /// assert_eq!(eddy::Runtime::new()?.name(), None);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.core.config.name.as_deref()
    }

    /// Makes this runtime the current one on this thread until the guard is
    /// dropped, without driving it: what needs a current runtime
    /// ([`spawn`](crate::spawn), I/O constructors such as
    /// [`TcpListener::bind`](crate::net::TcpListener::bind), a first poll
    /// of a `Sleep`) works outside [`block_on`](Runtime::block_on). Tasks
    /// spawned meanwhile run when the loop next runs. `block_on` and `turn`
    /// may be called while the guard lives.
    ///
    /// # Panics
    ///
    /// Dropping guards out of the order they were made in panics (the
    /// runtime each one restores would be wrong).
    ///
    /// ```
    /// let rt = eddy::Runtime::new()?;
    /// let task = {
    ///     let _guard = rt.enter();
    ///     eddy::spawn(async { "spawned under enter" })
    /// };
    /// assert_eq!(rt.block_on(task).unwrap(), "spawned under enter");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn enter(&self) -> EnterGuard<'_> {
        EnterGuard {
            _enter: context::Enter::current(&self.core),
            core: Rc::as_ptr(&self.core),
            _runtime: std::marker::PhantomData,
        }
    }

    /// Drops the runtime (cancelling its tasks, as `drop` does), then waits
    /// at most `timeout` for its blocking threads to finish the closures
    /// they run and exit. Plain `drop` does not wait for them (see
    /// [`spawn_blocking`](crate::task::spawn_blocking)).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = eddy::Runtime::new()?;
    /// let two = rt.block_on(async { eddy::task::spawn_blocking(|| 1 + 1).await });
    /// assert_eq!(two.unwrap(), 2);
    /// rt.shutdown_timeout(Duration::from_secs(10)); // the idle helper exits at once
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn shutdown_timeout(self, timeout: Duration) {
        let pool = self.core.blocking.clone();
        drop(self);
        pool.wait_for_threads(timeout);
    }

    /// Drops the runtime without waiting for its blocking threads: the same
    /// as `drop`, named as in tokio. Closures still running finish on their
    /// threads and their results are dropped.
    ///
    /// ```
    /// let rt = eddy::Runtime::new()?;
    /// rt.spawn(std::future::pending::<()>());
    /// rt.shutdown_background(); // the task is cancelled, nothing waits
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn shutdown_background(self) {
        drop(self);
    }

    /// A handle that spawns onto this runtime from any thread.
    ///
    /// ```
    /// let rt = eddy::Runtime::new()?;
    /// let handle = rt.handle();
    /// let task = std::thread::spawn(move || handle.spawn(async { "from a thread" }))
    ///     .join()
    ///     .unwrap();
    /// assert_eq!(rt.block_on(task).unwrap(), "from a thread");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn handle(&self) -> Handle {
        Handle::new(Arc::clone(&self.core.shared))
    }

    /// When the next timer is due (its deadline rounded up to the
    /// millisecond), if any: for a host loop that keeps its
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

    /// A snapshot of the runtime's counters. They are plain counters kept
    /// anyway, so reading them costs nothing while the loop runs.
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

/// The runtime's fd, for a host loop to wait on (see [`Runtime::turn`]): it
/// is readable whenever the runtime has work (a ready task, a due timer, a
/// socket event, a wake from another thread) and quiet when it has none.
/// The first call also makes the fd turn readable when a timer is due
/// (Linux: a timerfd in the poller); elsewhere, use
/// [`Runtime::next_deadline`] for the host's poll timeout.
///
/// ```
/// use std::os::fd::AsRawFd;
/// use std::time::Duration;
///
/// let rt = eddy::Runtime::new()?;
/// let fd = rt.as_raw_fd();
/// let readable = |timeout_ms| {
///     let mut p = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
///     // SAFETY: one valid pollfd.
///     unsafe { libc::poll(&mut p, 1, timeout_ms) == 1 }
/// };
/// assert!(!readable(0)); // nothing to do
/// rt.spawn(async {});
/// assert!(readable(1000)); // a task is ready
/// rt.turn(Some(Duration::ZERO));
/// assert!(!readable(0)); // quiet again
/// # Ok::<(), std::io::Error>(())
/// ```
impl std::os::fd::AsRawFd for Runtime {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.core.host_fd()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        Core::drop_runtime(&self.core);
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("name", &self.name())
            .field("metrics", &self.metrics())
            .finish_non_exhaustive()
    }
}

/// The guard of [`Runtime::enter`]: the runtime is current on this thread
/// until it is dropped. `!Send`.
///
/// ```
/// let rt = eddy::Runtime::new()?;
/// let guard = rt.enter();
/// let listener = eddy::net::TcpListener::bind("127.0.0.1:0")?; // needs a runtime
/// drop(guard);
/// # drop(listener);
/// # Ok::<(), std::io::Error>(())
/// ```
#[must_use = "the runtime stays current only while the guard lives"]
pub struct EnterGuard<'a> {
    _enter: context::Enter,
    core: *const Core,
    _runtime: std::marker::PhantomData<&'a Runtime>,
}

impl Drop for EnterGuard<'_> {
    fn drop(&mut self) {
        if context::current() != self.core && !std::thread::panicking() {
            panic!(
                "eddy: `EnterGuard`s were dropped out of order: drop the guard of the runtime \
                 entered last first"
            );
        }
    }
}

impl std::fmt::Debug for EnterGuard<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}

/// A hook the loop calls around parking.
pub(crate) type Hook = Arc<dyn Fn() + Send + Sync>;

/// The settings a runtime is built with.
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) event_interval: u32,
    pub(crate) debug: bool,
    pub(crate) slow_poll_threshold: Duration,
    pub(crate) max_blocking_threads: usize,
    pub(crate) blocking_keep_alive: Duration,
    pub(crate) name: Option<String>,
    pub(crate) thread_name: Option<String>,
    pub(crate) on_park: Option<Hook>,
    pub(crate) on_unpark: Option<Hook>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("name", &self.name)
            .field("thread_name", &self.thread_name)
            .field("event_interval", &self.event_interval)
            .field("debug", &self.debug)
            .field("slow_poll_threshold", &self.slow_poll_threshold)
            .field("max_blocking_threads", &self.max_blocking_threads)
            .field("blocking_keep_alive", &self.blocking_keep_alive)
            .field("on_thread_park", &self.on_park.is_some())
            .field("on_thread_unpark", &self.on_unpark.is_some())
            .finish()
    }
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
    /// threads, which exit after 10 s idle, no name, no park hooks.
    ///
    /// ```
    /// let rt = eddy::Builder::new().build()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new() -> Builder {
        Builder {
            config: Config {
                event_interval: 61,
                debug: std::env::var_os("EDDY_DEBUG").is_some_and(|v| v == "1"),
                slow_poll_threshold: Duration::from_millis(100),
                max_blocking_threads: 16,
                blocking_keep_alive: Duration::from_secs(10),
                name: None,
                thread_name: None,
                on_park: None,
                on_unpark: None,
            },
        }
    }

    /// Names the runtime: [`Runtime::name`] gives it back, the runtime's
    /// `Debug` output shows it, and its blocking threads are called
    /// `<name>-blocking` (`eddy-blocking` without a name).
    ///
    /// ```
    /// let rt = eddy::Runtime::builder().name("ingest").build()?;
    /// assert_eq!(rt.name(), Some("ingest"));
    /// assert!(format!("{rt:?}").contains("ingest"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.config.name = Some(name.into());
        self
    }

    /// Names the blocking threads exactly `name`, as tokio's
    /// `Builder::thread_name` does (the loop itself runs on the caller's
    /// thread, which keeps its own name). Overrides the `<name>-blocking`
    /// that [`Builder::name`] gives.
    ///
    /// ```
    /// let rt = eddy::Runtime::builder().thread_name("io-helper").build()?;
    /// let name = rt.block_on(async {
    ///     eddy::task::spawn_blocking(|| std::thread::current().name().map(str::to_string)).await
    /// });
    /// assert_eq!(name.unwrap().as_deref(), Some("io-helper"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn thread_name(mut self, name: impl Into<String>) -> Builder {
        self.config.thread_name = Some(name.into());
        self
    }

    /// Calls `hook` on the loop's thread each time the loop is about to
    /// sleep in the poller because nothing is ready (tokio's
    /// `on_thread_park`). It runs on the hot path of going idle: keep it
    /// short. A panic in it propagates out of `block_on` or `turn`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// let parks = Arc::new(AtomicUsize::new(0));
    /// let counter = parks.clone();
    /// let rt = eddy::Runtime::builder()
    ///     .on_thread_park(move || {
    ///         counter.fetch_add(1, Ordering::Relaxed);
    ///     })
    ///     .build()?;
    /// rt.block_on(eddy::time::sleep(std::time::Duration::from_millis(1)));
    /// assert!(parks.load(Ordering::Relaxed) >= 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn on_thread_park(mut self, hook: impl Fn() + Send + Sync + 'static) -> Builder {
        self.config.on_park = Some(Arc::new(hook));
        self
    }

    /// Calls `hook` on the loop's thread each time the loop wakes up from
    /// sleeping in the poller (after the park that
    /// [`on_thread_park`](Builder::on_thread_park) announced).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// let unparks = Arc::new(AtomicUsize::new(0));
    /// let counter = unparks.clone();
    /// let rt = eddy::Runtime::builder()
    ///     .on_thread_unpark(move || {
    ///         counter.fetch_add(1, Ordering::Relaxed);
    ///     })
    ///     .build()?;
    /// rt.block_on(eddy::time::sleep(std::time::Duration::from_millis(1)));
    /// assert!(unparks.load(Ordering::Relaxed) >= 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn on_thread_unpark(mut self, hook: impl Fn() + Send + Sync + 'static) -> Builder {
        self.config.on_unpark = Some(Arc::new(hook));
        self
    }

    /// After this many polls in a row the loop looks at I/O, timers and other
    /// threads even if tasks are still ready (default 61, as tokio). Lower is
    /// fairer to I/O; higher spends fewer syscalls when tasks keep busy.
    ///
    /// # Panics
    ///
    /// If `n` is 0.
    ///
    /// ```
    /// let rt = eddy::Runtime::builder().event_interval(31).build()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn event_interval(mut self, n: u32) -> Builder {
        assert!(n > 0, "eddy: Builder::event_interval must be at least 1");
        self.config.event_interval = n;
        self
    }

    /// Debug mode, as `asyncio.run(debug=True)`: tasks remember where they
    /// were spawned and slow polls are reported on stderr. Also turned on
    /// by the environment variable `EDDY_DEBUG=1`.
    ///
    /// ```
    /// let rt = eddy::Runtime::builder().debug(true).build()?;
    /// rt.spawn(std::future::pending::<()>());
    /// let dump = rt.tasks();
    /// assert!(dump[0].location.is_some()); // where it was spawned
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn debug(mut self, on: bool) -> Builder {
        self.config.debug = on;
        self
    }

    /// In debug mode, a poll longer than this is reported (default 100 ms),
    /// as `eddy: slow poll: task <id> spawned at <file>:<line>:<col> took
    /// <ms> ms` on stderr.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = eddy::Runtime::builder()
    ///     .debug(true)
    ///     .slow_poll_threshold(Duration::from_millis(20))
    ///     .build()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn slow_poll_threshold(mut self, threshold: Duration) -> Builder {
        self.config.slow_poll_threshold = threshold;
        self
    }

    /// The most threads [`spawn_blocking`](crate::task::spawn_blocking)
    /// starts (default 16); more closures wait in a queue.
    ///
    /// # Panics
    ///
    /// If `n` is 0.
    ///
    /// ```
    /// let rt = eddy::Runtime::builder().max_blocking_threads(2).build()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn max_blocking_threads(mut self, n: usize) -> Builder {
        assert!(
            n > 0,
            "eddy: Builder::max_blocking_threads must be at least 1"
        );
        self.config.max_blocking_threads = n;
        self
    }

    /// How long an idle blocking thread waits for work before it exits
    /// (default 10 s; `Duration::MAX` keeps idle threads until the runtime
    /// is dropped).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = eddy::Runtime::builder()
    ///     .blocking_keep_alive(Duration::from_secs(1))
    ///     .build()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn blocking_keep_alive(mut self, keep_alive: Duration) -> Builder {
        self.config.blocking_keep_alive = keep_alive;
        self
    }

    /// Builds the runtime: an epoll instance and an eventfd. The builder can
    /// build more than one.
    ///
    /// # Errors
    ///
    /// The OS error if it refuses those (for example `EMFILE`).
    ///
    /// ```
    /// let builder = eddy::Runtime::builder().name("worker");
    /// let (a, b) = (builder.build()?, builder.build()?);
    /// assert_eq!(a.name(), b.name());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn build(&self) -> io::Result<Runtime> {
        Ok(Runtime {
            core: Core::new(self.config.clone())?,
        })
    }
}

/// Whether a runtime is running on this thread (inside `block_on`, `turn`
/// or a task): lets a module do at once what it would otherwise do at the
/// first poll, or hand work to a task instead of panicking in a destructor.
pub(crate) fn in_runtime() -> bool {
    !context::current().is_null()
}

/// The id of the task the runtime on this thread is polling, if any.
pub(crate) fn current_task_id() -> Option<TaskId> {
    let core = context::current();
    // SAFETY: non-null means an `Enter` guard up the stack keeps the core
    // alive for as long as this call lasts.
    unsafe { core.as_ref() }?.current_task_id()
}

/// The timer driver of the runtime current on this thread (null if none):
/// lets a `Sleep` see that a runtime other than its own polls it.
#[inline]
pub(crate) fn current_timers() -> *const crate::time::TimerDriver {
    let core = context::current();
    if core.is_null() {
        return std::ptr::null();
    }
    // SAFETY: a non-null current core is alive (a guard up the stack).
    Rc::as_ptr(unsafe { &(*core).timers })
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

/// Drops a task's future now, inside its runtime. Used by `abort` on a task
/// that is not running, which may be called between drives.
///
/// The destructor is user code and may drop the `Runtime` itself (a task
/// holding the last `Rc<Runtime>`): the strong reference taken here keeps
/// the core alive until the task is completed, and the runtime's shutdown
/// then runs in `Core::release`, after it.
pub(crate) fn cancel_now(task: TaskRef) {
    // `abort` runs on the runtime's thread (handles are `!Send`). A task
    // with a future belongs to a live runtime: its shutdown cancels every
    // task before the core goes.
    let Some(core) = Core::upgrade(task.shared()) else {
        debug_assert!(false, "a task with a future outlived its runtime");
        return;
    };
    {
        let _enter = context::Enter::busy(&core);
        crate::task::harness::cancel(task, &core.tasks);
    }
    Core::release(core);
}
