//! `spawn_blocking`: run a closure on a helper thread and await its result.
//!
//! The pool starts threads on demand, up to `Builder::max_blocking_threads`;
//! a thread idle for `Builder::blocking_keep_alive` exits. The hand-off is a
//! mutex-protected queue and a condition variable: blocking work is the one
//! place (with `Handle`) where eddy pays for threads. The result comes back
//! through a small `Arc`'d slot, and the waiting task is woken through its
//! ordinary waker (the remote queue, then an unpark if the loop sleeps).

use std::any::Any;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::panic::{AssertUnwindSafe, Location, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

use super::{JoinHandle, TaskId};
use crate::runtime::Handle;

type Job = Box<dyn FnOnce() + Send>;

/// Runs `f` on a helper thread and returns a handle to await its result,
/// Python's `loop.run_in_executor(None, f)`.
///
/// The loop keeps running other tasks meanwhile. A panic in `f` comes back
/// as a panic [`JoinError`](super::JoinError). Aborting the handle does not
/// stop `f` (a thread cannot be interrupted); its result is then dropped. A
/// closure still running when the runtime is dropped finishes on its thread
/// and its result is dropped; closures not yet started are dropped unrun.
///
/// # Panics
///
/// Outside a runtime, with ``eddy: `spawn_blocking` was called outside a
/// runtime``.
///
/// ```
/// eddy::block_on(async {
///     let sum = eddy::task::spawn_blocking(|| (1..=100u64).sum::<u64>()).await.unwrap();
///     assert_eq!(sum, 5050);
/// });
/// ```
#[track_caller]
pub fn spawn_blocking<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let location = Location::caller();
    crate::runtime::with_current("spawn_blocking", |core| {
        // The task spawned just below gets this id (nothing runs between),
        // and the closure runs under it, for `task::id`.
        let id = core.next_task_id();
        let handle = Handle::new(Arc::clone(&core.shared));
        let done = submit(&core.blocking, f, Some((id, handle)));
        let join = core.spawn(
            async move {
                match done.await {
                    Ok(value) => value,
                    // A panic in `f` is resumed here, so the task ends with it.
                    Err(Failed::Panicked(payload)) => resume_unwind(payload),
                    Err(Failed::Lost) => resume_unwind(Box::new(LOST)),
                }
            },
            location,
        );
        debug_assert_eq!(join.id(), id);
        join
    })
}

thread_local! {
    /// The `spawn_blocking` task whose closure runs on this pool thread,
    /// and its runtime's handle (for `task::id` and `Handle::current`).
    static BLOCKING_TASK: RefCell<Option<(TaskId, Handle)>> = const { RefCell::new(None) };
}

/// The task whose `spawn_blocking` closure runs on this thread, if any.
pub(crate) fn current_id() -> Option<TaskId> {
    BLOCKING_TASK.with(|task| task.borrow().as_ref().map(|(id, _)| *id))
}

/// The handle of the runtime whose `spawn_blocking` closure runs on this
/// thread, if any: tokio's `Handle::current()` works there too.
pub(crate) fn current_handle() -> Option<Handle> {
    BLOCKING_TASK.with(|task| task.borrow().as_ref().map(|(_, handle)| handle.clone()))
}

const LOST: &str = "eddy: spawn_blocking: the closure was dropped before it ran (no helper \
                    thread could be started)";

/// Runs `f` on the current runtime's helper threads, without a task: the
/// returned future gives its result. For eddy's own modules (`fs`), which
/// await it inside their own futures. Panics outside a runtime, naming `what`.
#[track_caller]
pub(crate) fn run<F, T>(what: &str, f: F) -> Blocking<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    crate::runtime::with_current(what, |core| submit(&core.blocking, f, None))
}

fn submit<F, T>(pool: &BlockingPool, f: F, task: Option<(TaskId, Handle)>) -> Blocking<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let slot = Arc::new(Mutex::new(Slot {
        result: None,
        waker: None,
        lost: false,
    }));
    let job = Pending {
        f,
        task,
        slot: Fill(Arc::clone(&slot)),
    };
    pool.submit(Box::new(move || job.run()));
    Blocking { slot }
}

/// A closure and the slot for its result. Its fields drop in order, so a
/// job dropped unrun drops the closure (and what it captured) before the
/// slot says "lost": whoever then sees the slot holds the only references
/// left (`fs::File::into_std` counts on it). A job that runs consumes the
/// closure before it fills the slot, for the same reason.
struct Pending<F, T> {
    f: F,
    /// The `spawn_blocking` task's id and runtime, if it is one.
    task: Option<(TaskId, Handle)>,
    slot: Fill<T>,
}

impl<F: FnOnce() -> T, T> Pending<F, T> {
    fn run(self) {
        let Pending { f, task, slot } = self;
        BLOCKING_TASK.with(|current| *current.borrow_mut() = task);
        let result = catch_unwind(AssertUnwindSafe(f));
        // Dropped here, on the pool thread (a `Handle` is `Send`).
        drop(BLOCKING_TASK.with(|current| current.borrow_mut().take()));
        slot.fill(result);
    }
}

/// Why a closure sent to the pool gave no value.
pub(crate) enum Failed {
    /// It panicked; the payload.
    Panicked(Box<dyn Any + Send>),
    /// It was dropped unrun: no helper thread could be started, or the
    /// runtime was dropped first.
    Lost,
}

/// The result of a closure running on the pool. Dropping it does not stop
/// the closure; its result is then dropped on the pool's thread.
pub(crate) struct Blocking<T> {
    slot: Arc<Mutex<Slot<T>>>,
}

impl<T> Future for Blocking<T> {
    type Output = Result<T, Failed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, Failed>> {
        let mut slot = lock(&self.slot);
        if let Some(result) = slot.result.take() {
            return Poll::Ready(result.map_err(Failed::Panicked));
        }
        if slot.lost {
            return Poll::Ready(Err(Failed::Lost));
        }
        if !slot.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            slot.waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }
}

struct Slot<T> {
    result: Option<thread::Result<T>>,
    waker: Option<Waker>,
    /// The job was dropped without running.
    lost: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poison| poison.into_inner())
}

/// The pool thread's side of the slot; marks the job lost if dropped unfilled.
struct Fill<T>(Arc<Mutex<Slot<T>>>);

impl<T> Fill<T> {
    fn fill(self, result: thread::Result<T>) {
        let waker = {
            let mut slot = lock(&self.0);
            slot.result = Some(result);
            slot.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Drop for Fill<T> {
    fn drop(&mut self) {
        let waker = {
            let mut slot = lock(&self.0);
            if slot.result.is_some() {
                return;
            }
            slot.lost = true;
            slot.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// The helper threads of one runtime.
#[derive(Clone)]
pub(crate) struct BlockingPool {
    inner: Arc<Pool>,
}

struct Pool {
    state: Mutex<PoolState>,
    work: Condvar,
    /// Signalled when the last thread exits (for `wait_for_threads`).
    gone: Condvar,
    max_threads: usize,
    keep_alive: Duration,
    thread_name: String,
}

struct PoolState {
    queue: VecDeque<Job>,
    threads: usize,
    idle: usize,
    /// Idle threads already signalled and not yet awake.
    notified: usize,
    shutdown: bool,
}

impl BlockingPool {
    pub(crate) fn new(
        max_threads: usize,
        keep_alive: Duration,
        thread_name: String,
    ) -> BlockingPool {
        BlockingPool {
            inner: Arc::new(Pool {
                state: Mutex::new(PoolState {
                    queue: VecDeque::new(),
                    threads: 0,
                    idle: 0,
                    notified: 0,
                    shutdown: false,
                }),
                work: Condvar::new(),
                gone: Condvar::new(),
                max_threads,
                keep_alive,
                thread_name,
            }),
        }
    }

    fn submit(&self, job: Job) {
        let mut state = lock(&self.inner.state);
        if state.shutdown {
            return; // dropping `job` marks its slot lost
        }
        state.queue.push_back(job);
        if state.idle > state.notified {
            state.notified += 1;
            self.inner.work.notify_one();
            return;
        }
        if state.threads == self.inner.max_threads {
            return; // a busy thread takes it when done
        }
        state.threads += 1;
        drop(state);
        let pool = Arc::clone(&self.inner);
        let started = thread::Builder::new()
            .name(self.inner.thread_name.clone())
            .spawn(move || pool.work());
        if started.is_err() {
            let mut state = lock(&self.inner.state);
            state.threads -= 1;
            if state.threads == 0 {
                self.inner.gone.notify_all();
                // Nobody will run the queue: drop it, which fails each job's handle.
                let lost = std::mem::take(&mut state.queue);
                drop(state);
                drop(lost);
            }
        }
    }

    /// Drops the jobs not started and lets idle threads exit; running jobs
    /// finish on their threads.
    pub(crate) fn shutdown(&self) {
        let queued = {
            let mut state = lock(&self.inner.state);
            state.shutdown = true;
            std::mem::take(&mut state.queue)
        };
        self.inner.work.notify_all();
        drop(queued);
    }

    /// After `shutdown`: waits until every thread has exited (closures
    /// still running finish first), for at most `timeout`. True if none is left.
    pub(crate) fn wait_for_threads(&self, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now().checked_add(timeout);
        let mut state = lock(&self.inner.state);
        while state.threads > 0 {
            let left = match deadline {
                Some(d) => d.saturating_duration_since(std::time::Instant::now()),
                None => Duration::MAX,
            };
            if left.is_zero() {
                return false;
            }
            // `wait_timeout` takes any duration; a huge one waits as long as needed.
            state = self
                .inner
                .gone
                .wait_timeout(state, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }
}

impl Pool {
    fn work(&self) {
        let mut state = lock(&self.state);
        loop {
            if let Some(job) = state.queue.pop_front() {
                drop(state);
                job();
                state = lock(&self.state);
                continue;
            }
            if state.shutdown {
                break;
            }
            state.idle += 1;
            let (guard, wait) = self
                .work
                .wait_timeout(state, self.keep_alive)
                .unwrap_or_else(|p| p.into_inner());
            state = guard;
            state.idle -= 1;
            state.notified = state.notified.saturating_sub(1);
            if wait.timed_out() && state.queue.is_empty() {
                break;
            }
        }
        state.threads -= 1;
        if state.threads == 0 {
            self.gone.notify_all();
        }
    }
}
