//! `JoinHandle` and `AbortHandle`: awaiting and cancelling a task.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::harness::drop_quietly;
use super::raw::{ABORT, COMPLETE, JOIN_INTEREST, RUNNING, TaskRef};
use super::{JoinError, TaskId};

/// Awaits a spawned task's output; dropping it detaches the task, which
/// keeps running.
///
/// `JoinHandle<T>` is a `Future<Output = Result<T, JoinError>>`: `Ok` with
/// the output, or `Err` if the task panicked or was cancelled. It belongs to
/// the runtime's thread (`!Send`).
///
/// ```
/// eddy::block_on(async {
///     let task = eddy::spawn(async { "done" });
///     assert_eq!(task.await.unwrap(), "done");
/// });
/// ```
pub struct JoinHandle<T> {
    task: TaskRef,
    _marker: PhantomData<Rc<T>>,
}

impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    /// Takes over the reference `task` was allocated with.
    pub(crate) fn new(task: TaskRef) -> JoinHandle<T> {
        JoinHandle {
            task,
            _marker: PhantomData,
        }
    }

    /// Cancels the task. An idle task's future is dropped before `abort`
    /// returns; a task that aborts itself is dropped when its current poll
    /// returns. The handle then gives a cancelled [`JoinError`]. Aborting a
    /// finished task does nothing.
    ///
    /// ```
    /// eddy::block_on(async {
    ///     let task = eddy::spawn(std::future::pending::<()>());
    ///     task.abort();
    ///     assert!(task.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort(&self) {
        abort(self.task);
    }

    /// True once the task has finished: output ready, panicked, or cancelled.
    ///
    /// ```
    /// eddy::block_on(async {
    ///     let task = eddy::spawn(async { 1 });
    ///     assert!(!task.is_finished()); // it starts when this task yields
    ///     eddy::task::yield_now().await;
    ///     assert!(task.is_finished());
    ///     assert_eq!(task.await.unwrap(), 1);
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.task.local() & COMPLETE != 0
    }

    /// A handle that can abort the task without awaiting it; it can be
    /// cloned and given to other tasks, while this handle keeps the output.
    ///
    /// ```
    /// eddy::block_on(async {
    ///     let task = eddy::spawn(std::future::pending::<()>());
    ///     let stop = task.abort_handle();
    ///     eddy::spawn(async move { stop.abort() }); // another task stops it
    ///     assert!(task.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort_handle(&self) -> AbortHandle {
        self.task.ref_inc();
        AbortHandle {
            task: self.task,
            _marker: PhantomData,
        }
    }

    /// The task's id: the same as its [`AbortHandle::id`] and its
    /// [`JoinError::id`].
    ///
    /// ```
    /// eddy::block_on(async {
    ///     let task = eddy::spawn(std::future::pending::<()>());
    ///     let id = task.id();
    ///     assert_eq!(task.abort_handle().id(), id);
    ///     task.abort();
    ///     assert_eq!(task.await.unwrap_err().id(), id);
    /// });
    /// ```
    pub fn id(&self) -> TaskId {
        self.task.id()
    }

    /// The result of a finished task. Panics if taken before.
    pub(crate) fn take_finished(&self) -> Result<T, JoinError> {
        debug_assert!(self.is_finished());
        // SAFETY: on the runtime's thread (the handle is `!Send`), the task
        // is complete, and `T` is its output type (the handle's type parameter).
        unsafe { self.task.take_output::<T>() }
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.is_finished() {
            return Poll::Ready(self.take_finished());
        }
        self.task.header().joiner.register(cx.waker());
        Poll::Pending
    }
}

/// `futures::select!` takes a `JoinHandle` without `.fuse()`: once it has
/// given its result, it says it is terminated and is not polled again.
impl<T> futures_core::future::FusedFuture for JoinHandle<T> {
    fn is_terminated(&self) -> bool {
        self.task.output_taken()
    }
}

impl<T> Drop for JoinHandle<T> {
    #[inline]
    fn drop(&mut self) {
        let task = self.task;
        let local = task.local() & !JOIN_INTEREST;
        task.set_local(local);
        if local & COMPLETE == 0 && task.header().joiner.is_empty() {
            // Detaching a running task that nobody awaited: no user code to run.
            // SAFETY: the handle's reference; `task` is not used after.
            unsafe { task.ref_dec() };
            return;
        }
        drop_slow(task);
    }
}

/// `JoinHandle`'s drop when there is a waker or an output to drop.
#[inline(never)]
fn drop_slow(task: TaskRef) {
    // The stored waker's drop and the output's destructor are user code: a
    // panic there must not skip giving up the handle's reference (the task
    // would leak), so it is caught and resumed afterwards.
    let joiner = task.header().joiner.take();
    let mut panic = catch_unwind(AssertUnwindSafe(move || drop(joiner))).err();
    // Complete, with a result nobody took (a handle awaited to the end has
    // taken it: nothing of the user's is left to drop).
    if task.local() & COMPLETE != 0 && !task.output_taken() {
        // SAFETY: on the runtime's thread, task complete: the output is ours
        // to drop, as nobody else will take it.
        if let Err(p) = catch_unwind(AssertUnwindSafe(|| unsafe { task.drop_output() })) {
            match panic {
                Some(_) => drop_quietly(p),
                None => panic = Some(p),
            }
        }
    }
    // SAFETY: the handle's reference; `task` is not used after.
    unsafe { task.ref_dec() };
    if let Some(p) = panic {
        if std::thread::panicking() {
            // A second panic while unwinding would abort the process.
            drop_quietly(p);
        } else {
            resume_unwind(p);
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// Cancels a task without awaiting it. `!Send`, like the task's `JoinHandle`.
///
/// ```
/// eddy::block_on(async {
///     let task = eddy::spawn(std::future::pending::<()>());
///     let abort = task.abort_handle();
///     abort.abort();
///     assert!(abort.is_finished());
/// });
/// ```
pub struct AbortHandle {
    task: TaskRef,
    _marker: PhantomData<Rc<()>>,
}

impl AbortHandle {
    /// Cancels the task, as [`JoinHandle::abort`]: an idle task's future
    /// is dropped before this returns. Aborting a finished task does
    /// nothing.
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    ///
    /// struct SetOnDrop(Rc<Cell<bool>>);
    /// impl Drop for SetOnDrop {
    ///     fn drop(&mut self) {
    ///         self.0.set(true);
    ///     }
    /// }
    ///
    /// eddy::block_on(async {
    ///     let dropped = Rc::new(Cell::new(false));
    ///     let guard = SetOnDrop(dropped.clone());
    ///     let task = eddy::spawn(async move {
    ///         let _guard = guard;
    ///         std::future::pending::<()>().await
    ///     });
    ///     eddy::task::yield_now().await; // the task runs, and waits
    ///     task.abort_handle().abort();
    ///     assert!(dropped.get()); // its future is gone already
    /// });
    /// ```
    pub fn abort(&self) {
        abort(self.task);
    }

    /// True once the task has finished (output ready, panicked, or
    /// cancelled).
    ///
    /// ```
    /// eddy::block_on(async {
    ///     let abort = eddy::spawn(async {}).abort_handle(); // detached
    ///     assert!(!abort.is_finished());
    ///     eddy::task::yield_now().await;
    ///     assert!(abort.is_finished());
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.task.local() & COMPLETE != 0
    }

    /// The task's id, as [`JoinHandle::id`].
    ///
    /// ```
    /// eddy::block_on(async {
    ///     let task = eddy::spawn(async {});
    ///     assert_eq!(task.abort_handle().id(), task.id());
    /// });
    /// ```
    pub fn id(&self) -> TaskId {
        self.task.id()
    }
}

impl Clone for AbortHandle {
    fn clone(&self) -> AbortHandle {
        self.task.ref_inc();
        AbortHandle {
            task: self.task,
            _marker: PhantomData,
        }
    }
}

impl Drop for AbortHandle {
    fn drop(&mut self) {
        // SAFETY: the handle's reference; `task` is not used after.
        unsafe { self.task.ref_dec() };
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("id", &self.id())
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// Cancels `task` from a handle on the runtime's thread.
fn abort(task: TaskRef) {
    let local = task.local();
    if local & COMPLETE != 0 || !task.has_future() {
        // Finished, or its future is being dropped right now.
        return;
    }
    if local & RUNNING != 0 {
        // Aborting itself (or from code its poll calls): the loop drops the
        // future when the poll returns.
        task.set_local(local | ABORT);
        return;
    }
    crate::runtime::cancel_now(task);
}
