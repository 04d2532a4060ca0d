//! Spawning from other threads: `Handle::spawn` and `RemoteJoinHandle`.
//!
//! The future travels to the loop boxed, through the remote queue, and
//! becomes an ordinary task there, wrapped so that its result goes into a
//! small `Arc`'d slot that the `RemoteJoinHandle` reads from any thread.
//! Only this path pays for cross-thread synchronisation (an `Arc`, a mutex).

use std::fmt;
use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, Location, catch_unwind};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use super::harness::drop_quietly;
use super::{JoinError, TaskId};
use crate::runtime::{Core, Remote, RemoteSpawn, Shared};

/// Awaits a task spawned with [`Handle::spawn`](crate::Handle::spawn), from
/// any thread or runtime. `Send + Sync`.
///
/// Resolves to the task's output, or a [`JoinError`]: panicked, aborted, or
/// cancelled because its runtime was dropped first. It gives its result
/// once: polled again after that, it panics ("eddy: RemoteJoinHandle
/// polled after it returned its result").
///
/// ```
/// let rt = eddy::Runtime::new()?;
/// let task = rt.handle().spawn(async { 7 });
/// // Await it on another thread (with another executor), while this thread
/// // runs the loop until that thread says it is done.
/// let (done_tx, done_rx) = futures::channel::oneshot::channel();
/// let waiter = std::thread::spawn(move || {
///     let value = futures::executor::block_on(task).unwrap();
///     done_tx.send(()).unwrap();
///     value
/// });
/// rt.block_on(done_rx).unwrap();
/// assert_eq!(waiter.join().unwrap(), 7);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct RemoteJoinHandle<T> {
    state: Arc<State<T>>,
}

struct State<T> {
    /// Set by the loop when it turns the request into a task (0 until then).
    id: AtomicU64,
    aborted: AtomicBool,
    finished: AtomicBool,
    slot: Mutex<Slot<T>>,
}

struct Slot<T> {
    result: Option<Result<T, JoinError>>,
    /// The awaiting side.
    joiner: Option<Waker>,
    /// The task, to schedule it on `abort`.
    task: Option<Waker>,
}

impl<T> State<T> {
    fn lock(&self) -> MutexGuard<'_, Slot<T>> {
        self.slot
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    fn id(&self) -> TaskId {
        TaskId(self.id.load(Ordering::Acquire))
    }

    /// Stores the result once and wakes the awaiting side. Wakers are
    /// dropped and woken with the lock released: they are anyone's code,
    /// and may come back to this handle.
    fn finish(&self, result: Result<T, JoinError>) {
        let (task, joiner) = {
            let mut slot = self.lock();
            if self.finished.load(Ordering::Relaxed) {
                return;
            }
            slot.result = Some(result);
            self.finished.store(true, Ordering::Release);
            (slot.task.take(), slot.joiner.take())
        };
        drop(task);
        if let Some(joiner) = joiner {
            joiner.wake();
        }
    }

    /// Stores `waker` in the slot `pick` chooses, unless it would wake the
    /// same task already. The clone and the old waker's drop run with the
    /// lock released.
    fn store_waker(&self, waker: &Waker, pick: fn(&mut Slot<T>) -> &mut Option<Waker>) {
        if pick(&mut self.lock())
            .as_ref()
            .is_some_and(|w| w.will_wake(waker))
        {
            return;
        }
        let new = waker.clone();
        let old = pick(&mut self.lock()).replace(new);
        drop(old);
    }
}

/// Cancels the handle if dropped before the task finished: when the future
/// is dropped unspawned (runtime gone) or cancelled (aborted, runtime dropped).
struct CancelOnDrop<T>(Arc<State<T>>);

impl<T> Drop for CancelOnDrop<T> {
    fn drop(&mut self) {
        self.0.finish(Err(JoinError::cancelled(self.0.id())));
    }
}

struct Job<F: Future> {
    future: F,
    guard: CancelOnDrop<F::Output>,
    location: &'static Location<'static>,
}

impl<F> RemoteSpawn for Job<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn spawn(self: Box<Self>, core: &Core) {
        let Job {
            future,
            guard,
            location,
        } = *self;
        let state = Arc::clone(&guard.0);
        let handle = core.spawn(run(future, guard), location);
        state.id.store(handle.id().0, Ordering::Release);
    }
}

/// The task's future: polls `future` until it finishes, panics or is
/// aborted, drops it, then publishes the result. A panic in the future's
/// destructor is the task's panic, as for a task spawned with `eddy::spawn`.
async fn run<F: Future>(future: F, guard: CancelOnDrop<F::Output>) {
    let state = &guard.0;
    let mut future = pin!(Some(future));
    let result = poll_fn(|cx| {
        if state.aborted.load(Ordering::Acquire) {
            return Poll::Ready(None);
        }
        state.store_waker(cx.waker(), |slot| &mut slot.task);
        let inner = future.as_mut().as_pin_mut().expect("polled until it ends");
        match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Some(Ok(output))),
            Err(payload) => Poll::Ready(Some(Err(JoinError::panic(state.id(), payload)))),
        }
    })
    .await;
    // Drop the future before the result is published.
    let dropped = catch_unwind(AssertUnwindSafe(|| future.as_mut().set(None)));
    let result = match (result, dropped) {
        (result, Ok(())) => result,
        // The first panic wins; an output nobody will see is dropped.
        (Some(Err(first)), Err(payload)) => {
            drop_quietly(payload);
            Some(Err(first))
        }
        (output, Err(payload)) => {
            drop_quietly(output);
            Some(Err(JoinError::panic(state.id(), payload)))
        }
    };
    if let Some(result) = result {
        state.finish(result);
    }
    // Aborted: `guard` publishes the cancellation as it drops.
}

pub(crate) fn spawn<F>(
    shared: &Arc<Shared>,
    future: F,
    location: &'static Location<'static>,
) -> RemoteJoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let state = Arc::new(State {
        id: AtomicU64::new(0),
        aborted: AtomicBool::new(false),
        finished: AtomicBool::new(false),
        slot: Mutex::new(Slot {
            result: None,
            joiner: None,
            task: None,
        }),
    });
    let job = Box::new(Job {
        future,
        guard: CancelOnDrop(Arc::clone(&state)),
        location,
    });
    if shared.is_closed() {
        drop(job); // cancels the handle, and drops the future on this thread
    } else {
        shared.push(Remote::Spawn(job));
    }
    RemoteJoinHandle { state }
}

impl<T> RemoteJoinHandle<T> {
    /// Asks the task to stop: it is marked and scheduled, and its future is
    /// dropped on the loop's thread when the loop next runs. Awaiting the
    /// handle then gives a cancelled [`JoinError`]. Does nothing if it finished.
    ///
    /// ```
    /// let rt = eddy::Runtime::new()?;
    /// let task = rt.handle().spawn(std::future::pending::<()>());
    /// task.abort(); // from any thread
    /// let err = rt.block_on(task).unwrap_err();
    /// assert!(err.is_cancelled());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn abort(&self) {
        self.state.aborted.store(true, Ordering::Release);
        // The task's own waker (an eddy waker: its clone runs no user code).
        let task = self.state.lock().task.clone();
        if let Some(task) = task {
            task.wake();
        }
    }

    /// True once the task has finished, one way or another.
    ///
    /// ```
    /// let rt = eddy::Runtime::new()?;
    /// let mut task = rt.handle().spawn(async { 1 });
    /// assert!(!task.is_finished()); // queued: the loop has not run yet
    /// assert_eq!(rt.block_on(&mut task).unwrap(), 1);
    /// assert!(task.is_finished());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_finished(&self) -> bool {
        self.state.finished.load(Ordering::Acquire)
    }
}

impl<T> Future for RemoteJoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let state = &self.state;
        {
            let mut slot = state.lock();
            if let Some(result) = slot.result.take() {
                return Poll::Ready(result);
            }
            // `finished` is written under the lock, with the result.
            if state.finished.load(Ordering::Relaxed) {
                drop(slot);
                panic!("eddy: RemoteJoinHandle polled after it returned its result");
            }
        }
        state.store_waker(cx.waker(), |slot| &mut slot.joiner);
        // The result may have come while the lock was released; `finish`
        // then woke the waker stored before ours.
        match state.lock().result.take() {
            Some(result) => Poll::Ready(result),
            None => Poll::Pending,
        }
    }
}

impl<T> fmt::Debug for RemoteJoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteJoinHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}
