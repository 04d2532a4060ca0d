//! The loop: the runtime's state on its own thread and the trip it makes.
//!
//! One trip: pop up to `event_interval` entries from the run queue and poll
//! each (a task, or the `block_on` future); then look outside: poll the
//! reactor (blocking only if nothing is ready, for as long as the next timer
//! allows), fire due timers, and drain the remote queue. Then again.
//!
//! Everything here is plain memory on one thread. Fields that change while
//! the loop runs sit in `Cell`s, and no borrow of them is held while user
//! code runs, so a task may spawn, wake, or abort from anywhere in its poll
//! or its destructor.

use std::cell::Cell;
use std::future::Future;
use std::panic::{AssertUnwindSafe, Location, catch_unwind, resume_unwind};
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use super::Config;
use super::context::Enter;
use super::dump::{TaskInfo, TaskState};
use super::metrics::{Counters, bump};
use super::run_queue::RunQueue;
use super::shared::{Remote, Shared};
use crate::reactor::Reactor;
use crate::task::blocking::BlockingPool;
use crate::task::harness;
use crate::task::list::TaskList;
use crate::task::raw::{COMPLETE, RUNNING, SCHEDULED, TaskRef};
use crate::task::{JoinHandle, TaskId};
use crate::time::TimerDriver;

/// How many rounds the runtime's drop cancels tasks spawned by the
/// destructors of the round before; past that, such futures are leaked.
const SHUTDOWN_ROUNDS: u32 = 16;

/// The most remote messages taken in one trip, so that other threads
/// flooding the queue cannot keep the loop from its own work.
const REMOTE_BATCH: usize = 1024;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Running,
    /// Dropping: new tasks are cancelled in the next round, never polled.
    Draining,
    /// Dropped: a future spawned now is leaked (see `spawn`).
    Closed,
}

pub(crate) struct Core {
    /// The same as `shared`, as a plain pointer for the wake fast path.
    shared_ptr: *const Shared,
    pub(crate) shared: Arc<Shared>,
    run_queue: RunQueue,
    pub(crate) tasks: TaskList,
    pub(crate) reactor: Rc<Reactor>,
    pub(crate) timers: Rc<TimerDriver>,
    pub(crate) blocking: BlockingPool,
    pub(crate) config: Config,
    next_id: Cell<u64>,
    /// The `block_on` future has an entry in the run queue.
    main_scheduled: Cell<bool>,
    /// The task being polled, if any: the one `run_ready` ends if the poll
    /// panics, and what `task::id` reads. Set only around a task's own
    /// poll (never around its completion), so a panic caught with it set
    /// is that poll's.
    polling: Cell<Option<TaskRef>>,
    phase: Cell<Phase>,
    /// A drive (`block_on` or `turn`) is running. Between drives, work
    /// put on the run queue signals the host (see `enqueue`).
    driven: Cell<bool>,
    /// The `Runtime` was dropped while an abort up the stack held the core;
    /// that abort shuts the runtime down when it is done (see `cancel_now`).
    drop_requested: Cell<bool>,
    /// `shutdown` has started: it runs once.
    shut_down: Cell<bool>,
    pub(crate) counters: Counters,
}

impl Core {
    pub(crate) fn new(config: Config) -> std::io::Result<Rc<Core>> {
        let (reactor, unpark) = Reactor::new()?;
        #[cfg(all(test, eddy_loom))]
        let unpark = {
            drop(unpark);
            super::shared::Unpark::new()
        };
        let shared = Arc::new(Shared::new(unpark));
        let core = Rc::new(Core {
            shared_ptr: Arc::as_ptr(&shared),
            shared,
            run_queue: RunQueue::new(),
            tasks: TaskList::new(config.debug),
            reactor: Rc::new(reactor),
            timers: Rc::new(TimerDriver::new()),
            blocking: BlockingPool::new(
                config.max_blocking_threads,
                config.blocking_keep_alive,
                match (&config.thread_name, &config.name) {
                    (Some(thread_name), _) => thread_name.clone(),
                    (None, Some(name)) => format!("{name}-blocking"),
                    (None, None) => "eddy-blocking".to_string(),
                },
            ),
            config,
            next_id: Cell::new(1),
            main_scheduled: Cell::new(false),
            polling: Cell::new(None),
            phase: Cell::new(Phase::Running),
            driven: Cell::new(false),
            drop_requested: Cell::new(false),
            shut_down: Cell::new(false),
            counters: Counters::default(),
        });
        core.shared.set_core(Rc::as_ptr(&core));
        Ok(core)
    }

    /// A strong reference to the core of `shared`'s runtime, if it is
    /// alive. Only on the runtime's own thread.
    pub(crate) fn upgrade(shared: &Shared) -> Option<Rc<Core>> {
        let ptr = shared.core();
        if ptr.is_null() {
            return None;
        }
        // The pointer is `Rc::as_ptr` of the runtime's core (set in `new`),
        // and it is cleared at the end of `shutdown`, which runs before the
        // last `Rc` of the core is dropped (`Runtime::drop` and `release`
        // run it while they hold one). It is read only on the runtime's
        // thread (callers hold `!Send` handles), so it cannot be cleared
        // under us.
        // SAFETY: as said above, non-null means a strong count is held.
        unsafe {
            Rc::increment_strong_count(ptr);
            Some(Rc::from_raw(ptr))
        }
    }

    /// Gives up a strong reference taken for an abort: if the `Runtime`
    /// was dropped meanwhile and this was the last user, shuts it down.
    pub(crate) fn release(core: Rc<Core>) {
        if core.drop_requested.get() && Rc::strong_count(&core) == 1 {
            core.shutdown();
        }
        drop(core);
    }

    /// The `Runtime` is dropped: shut down now, unless an abort up the
    /// stack holds the core, which then does it when it returns.
    pub(crate) fn drop_runtime(core: &Rc<Core>) {
        core.drop_requested.set(true);
        if Rc::strong_count(core) == 1 {
            core.shutdown();
        }
    }

    pub(crate) fn shared_ptr(&self) -> *const Shared {
        self.shared_ptr
    }

    pub(crate) fn ready_len(&self) -> usize {
        self.run_queue.len()
    }

    /// Spawns a task on this runtime; it is polled when the loop next runs.
    pub(crate) fn spawn<F>(
        &self,
        future: F,
        location: &'static Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
    {
        let id = TaskId(self.next_id.get());
        self.next_id.set(id.0 + 1);
        let task = TaskRef::allocate(future, &self.shared, id);
        self.tasks.push_back(task, location);
        bump(&self.counters.tasks_spawned);
        match self.phase.get() {
            Phase::Running => self.enqueue(task),
            // Cancelled by the next round of the runtime's drop.
            Phase::Draining => {}
            Phase::Closed => self.leak(task),
        }
        JoinHandle::new(task)
    }

    /// Puts a task on the run queue unless it is there already or done.
    #[inline]
    fn enqueue(&self, task: TaskRef) {
        let local = task.local();
        if local & (SCHEDULED | COMPLETE) == 0 {
            task.set_local(local | SCHEDULED);
            self.run_queue.push(Some(task));
            if !self.driven.get() {
                // Between drives (an abort, a destructor, `Runtime::enter`)
                // the runtime counts as parked: the host's fd must turn
                // readable, as for a wake from another thread.
                self.shared.signal();
            }
        }
    }

    /// A wake on the loop's thread: no atomic, no lock, no syscall.
    #[inline]
    pub(crate) fn schedule_local(&self, task: TaskRef) {
        bump(&self.counters.local_wakes);
        self.enqueue(task);
    }

    pub(crate) fn schedule_main(&self) {
        if !self.main_scheduled.replace(true) {
            self.run_queue.push(None);
        }
    }

    /// Drives the loop until `future` completes.
    #[track_caller]
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _enter = Enter::run(self, "block_on");
        let _drive = Drive::start(self);
        let mut future = pin!(future);
        let waker = Waker::from(Arc::clone(&self.shared));
        let mut cx = Context::from_waker(&waker);
        // What was woken or spawned since the last drive runs before the
        // future's first poll, so a wake between drives is never starved
        // by a `block_on` that is ready at once.
        self.drain_remote();
        self.schedule_main();
        loop {
            let mut budget = self.config.event_interval;
            if let Some(output) = self.run_ready(&mut budget, future.as_mut(), &mut cx) {
                return output;
            }
            self.look_outside(None, false);
        }
    }

    /// Polls entries from the run queue (tasks, and the `block_on` future
    /// as `None`) while `budget` lasts and the queue has any; the future's
    /// output if it completed.
    ///
    /// One `catch_unwind` covers the whole run rather than one per poll
    /// (see `task/harness.rs`): a task whose poll panics was recorded in
    /// `polling`, so it ends as panicked and the run goes on; a panic of the
    /// `block_on` future (or of anything else) goes on up.
    fn run_ready<F: Future>(
        &self,
        budget: &mut u32,
        mut future: Pin<&mut F>,
        cx: &mut Context<'_>,
    ) -> Option<F::Output> {
        loop {
            let run = catch_unwind(AssertUnwindSafe(|| {
                while *budget != 0 {
                    let entry = self.run_queue.pop()?;
                    *budget -= 1;
                    match entry {
                        Some(task) => self.run_task_caught(task),
                        None => {
                            self.main_scheduled.set(false);
                            if let Poll::Ready(output) = future.as_mut().poll(cx) {
                                return Some(output);
                            }
                        }
                    }
                }
                None
            }));
            match run {
                Ok(output) => return output,
                Err(payload) => match self.polling.take() {
                    Some(task) => {
                        harness::panicked(task, &self.tasks, payload);
                        bump(&self.counters.polls);
                    }
                    None => resume_unwind(payload),
                },
            }
        }
    }

    /// `run_task` for `run_ready`, whose `catch_unwind` catches a panic of
    /// the poll: the task is in `polling` while it is polled.
    #[inline]
    fn run_task_caught(&self, task: TaskRef) {
        if self.config.debug {
            return self.run_task_timed(task);
        }
        if !harness::start(task) {
            return;
        }
        self.polling.set(Some(task));
        let ready = harness::poll(task);
        self.polling.set(None);
        harness::finish(task, &self.tasks, ready);
        bump(&self.counters.polls);
    }

    /// One turn for a host loop: look outside (blocking for at most
    /// `max_wait` if nothing is ready), then poll the tasks ready at that
    /// point. Returns the number of task polls.
    #[track_caller]
    pub(crate) fn turn(&self, max_wait: Option<Duration>) -> usize {
        let _enter = Enter::run(self, "turn");
        let _drive = Drive::start(self);
        let before = self.counters.polls.get();
        // Always ask the poller: it clears the fd a host waits on.
        self.look_outside(max_wait, true);
        // Tasks woken from here on run in the next turn, so a task that
        // keeps waking itself cannot hold the host's loop.
        for _ in 0..self.run_queue.len() {
            match self.run_queue.pop() {
                Some(Some(task)) => self.run_task(task),
                // A wake of a `block_on` future that has returned.
                Some(None) => self.main_scheduled.set(false),
                None => break,
            }
        }
        (self.counters.polls.get() - before) as usize
    }

    /// Host mode: the poller's fd, which from now on also turns readable
    /// when a timer is due.
    pub(crate) fn host_fd(&self) -> std::os::fd::RawFd {
        if self.reactor.watch_timers() {
            self.reactor.arm_timer(self.timers.next_deadline());
        }
        self.reactor.fd()
    }

    /// The live tasks, oldest first.
    pub(crate) fn tasks(&self) -> Vec<TaskInfo> {
        self.tasks
            .iter()
            .map(|task| {
                let local = task.local();
                let state = if local & RUNNING != 0 {
                    TaskState::Running
                } else if local & SCHEDULED != 0 || task.is_remote_queued() {
                    TaskState::Scheduled
                } else {
                    TaskState::Idle
                };
                TaskInfo {
                    id: task.id(),
                    location: self.tasks.location(task.id()),
                    state,
                    polls: task.polls(),
                }
            })
            .collect()
    }

    /// The id the next task spawned here will get.
    pub(crate) fn next_task_id(&self) -> TaskId {
        TaskId(self.next_id.get())
    }

    /// The id of the task being polled, if any (not the `block_on` future's
    /// poll, nor a completion or a drop).
    pub(crate) fn current_task_id(&self) -> Option<TaskId> {
        self.polling.get().map(|task| task.id())
    }

    #[inline]
    fn run_task(&self, task: TaskRef) {
        if self.config.debug {
            return self.run_task_timed(task);
        }
        if harness::run(task, &self.tasks, &self.polling) {
            bump(&self.counters.polls);
        }
    }

    /// `run_task` in debug mode: times the poll. Apart, so that the hot
    /// path keeps a small frame.
    #[cold]
    #[inline(never)]
    fn run_task_timed(&self, task: TaskRef) {
        // Looked up first: a task that finishes in this poll leaves the list.
        let id = task.id();
        let location = self.tasks.location(id);
        let start = Instant::now();
        let polled = harness::run(task, &self.tasks, &self.polling);
        let took = start.elapsed();
        if polled && took > self.config.slow_poll_threshold {
            report_slow_poll(id, location, took);
        }
        if polled {
            bump(&self.counters.polls);
        }
    }

    /// The second half of a trip: I/O, timers, other threads. If nothing is
    /// ready, blocks until one of them has something, the next timer is
    /// due, or `max_wait` passed (`None`: no limit). `must_poll` asks the
    /// poller even when no socket is registered.
    fn look_outside(&self, max_wait: Option<Duration>, must_poll: bool) {
        self.run_queue.shrink();
        // One clock read serves the park timeout and the firing below.
        let mut now = None;
        let next_timer = self.timers.next_deadline().map(|deadline| {
            let n = *now.insert(Instant::now());
            deadline.saturating_duration_since(n)
        });
        let timeout = match (next_timer, max_wait) {
            (Some(t), Some(m)) => Some(t.min(m)),
            (t, m) => t.or(m),
        };
        if self.run_queue.is_empty() && timeout != Some(Duration::ZERO) {
            // mio rounds a timeout up to the millisecond: never a busy
            // zero-timeout spin for a timer less than 1 ms away.
            self.park(timeout);
            now = None; // time passed while parked
        } else if must_poll || self.reactor.has_sources() {
            // Without registered sources nothing could be ready: skip the syscall.
            self.poll_reactor(Some(Duration::ZERO));
        }
        let fired = self.timers.fire(now);
        self.counters
            .timers_fired
            .set(self.counters.timers_fired.get() + fired as u64);
        self.drain_remote();
    }

    /// When the next timer is due, if any.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.timers.next_deadline()
    }

    /// Sleeps in the poller unless a remote message arrived meanwhile.
    ///
    /// The park hooks bracket each sleep that really happens (one pair per
    /// counted park). A park hook that makes work (a spawn, a wake) turns
    /// the sleep into a look without waiting.
    fn park(&self, timeout: Option<Duration>) {
        if !self.shared.begin_park() {
            return;
        }
        bump(&self.counters.parks);
        let mut timeout = timeout;
        if let Some(hook) = &self.config.on_park {
            hook();
            if !self.run_queue.is_empty() {
                timeout = Some(Duration::ZERO);
            }
        }
        self.poll_reactor(timeout);
        self.shared.end_park();
        if let Some(hook) = &self.config.on_unpark {
            hook();
        }
    }

    fn poll_reactor(&self, timeout: Option<Duration>) {
        let events = self.reactor.poll(timeout);
        self.counters
            .io_events
            .set(self.counters.io_events.get() + events as u64);
    }

    /// Moves what other threads sent into the run queue.
    fn drain_remote(&self) {
        if self.shared.take_main_woken() {
            self.schedule_main();
        }
        for _ in 0..REMOTE_BATCH {
            let Some(msg) = self.shared.pop() else { break };
            match msg {
                Remote::Wake(task) => {
                    bump(&self.counters.remote_wakes);
                    self.enqueue(task);
                    // SAFETY: just popped from the remote queue; the task is
                    // not used after (if queued, the runtime's reference keeps it).
                    unsafe { task.release_remote_slot() };
                }
                Remote::Spawn(job) => job.spawn(self),
            }
        }
    }

    /// Completes a task as cancelled without running its destructor: only
    /// for futures spawned after the runtime finished dropping.
    fn leak(&self, task: TaskRef) {
        eprintln!(
            "eddy: task {} was spawned while its runtime was being dropped, after {SHUTDOWN_ROUNDS} \
             rounds of cancellation; its future is leaked, neither polled nor dropped",
            task.id()
        );
        // SAFETY: the future is forgotten: its stage is marked empty without
        // dropping it, which is sound (a leak) since it is never touched again.
        unsafe { task.forget_future() };
        harness::complete(task, &self.tasks);
    }

    /// The runtime's drop: cancel every task (with the runtime current, so
    /// destructors may spawn or use timers), then close the shared block.
    ///
    /// It must not unwind: other tasks' handles, I/O objects and sleeps
    /// outlive the runtime and must find it closed. Every step that runs
    /// user code is contained: cancelling drops futures under
    /// `catch_unwind` and completing wakes joiners under it
    /// (`task/harness.rs`); closing the remote queue, the wheel, the reactor
    /// and the blocking pool drops or wakes foreign wakers and queued
    /// closures, each step under `quietly`.
    pub(crate) fn shutdown(&self) {
        if self.shut_down.replace(true) {
            return;
        }
        let _enter = Enter::busy(self);
        self.phase.set(Phase::Draining);
        // Close the remote queue first: spawns still queued by other threads
        // are dropped here (their handles report a cancel), however many
        // there are, and from now on a late wake or spawn is dropped by the
        // thread that sends it. No remote message can then reach the rounds
        // below, which only count destructors that spawn.
        quietly(|| self.shared.close());
        let mut rounds = 0;
        loop {
            if self.tasks.is_empty() {
                break;
            }
            if rounds == SHUTDOWN_ROUNDS {
                self.phase.set(Phase::Closed);
                while let Some(task) = self.tasks.head() {
                    self.leak(task);
                }
                break;
            }
            // Cancel the tasks alive at the start of the round; what their
            // destructors spawn goes to the tail, for the next round.
            for _ in 0..self.tasks.len() {
                let Some(task) = self.tasks.head() else { break };
                harness::cancel(task, &self.tasks);
            }
            rounds += 1;
        }
        self.phase.set(Phase::Closed);
        // What is left in the run queue is complete; each entry held the
        // runtime's reference to its task.
        while let Some(entry) = self.run_queue.pop() {
            if let Some(task) = entry {
                harness::discard(task);
            }
        }
        self.main_scheduled.set(false);
        quietly(|| self.timers.close());
        quietly(|| self.reactor.close());
        self.shared.set_core(std::ptr::null());
        quietly(|| self.blocking.shutdown());
    }
}

/// Runs `f`, swallowing a panic: for the steps of `shutdown`, which must
/// not unwind, where the code that panics (a foreign waker, a closure's
/// destructor) has nobody to report to.
fn quietly(f: impl FnOnce()) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(f)) {
        harness::drop_quietly(payload);
    }
}

/// Debug mode's report of a poll slower than `Builder::slow_poll_threshold`.
fn report_slow_poll(id: TaskId, location: Option<&Location<'static>>, took: Duration) {
    match location {
        Some(at) => eprintln!(
            "eddy: slow poll: task {id} spawned at {}:{}:{} took {} ms",
            at.file(),
            at.line(),
            at.column(),
            took.as_millis()
        ),
        None => eprintln!(
            "eddy: slow poll: task {id} spawned at <unknown> took {} ms",
            took.as_millis()
        ),
    }
}

/// Marks a drive (`block_on` or `turn`) of the loop. Between drives the
/// runtime counts as parked, so that a wake from another thread writes the
/// unpark eventfd and a host waiting on the poller's fd sees it; when a
/// drive ends with work left (tasks still ready), the eventfd is written at
/// once, and in host mode the timerfd is armed for the next deadline.
struct Drive<'a> {
    core: &'a Core,
}

impl<'a> Drive<'a> {
    fn start(core: &'a Core) -> Drive<'a> {
        core.shared.end_park();
        core.driven.set(true);
        Drive { core }
    }
}

impl Drop for Drive<'_> {
    fn drop(&mut self) {
        let core = self.core;
        core.driven.set(false);
        core.shared.park_outside(!core.run_queue.is_empty());
        core.reactor.arm_timer(core.timers.next_deadline());
    }
}
