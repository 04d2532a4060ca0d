//! Polling, cancelling and completing a task: the state changes around the
//! user's future, all on the loop's thread.
//!
//! Every call into user code (a poll, a destructor) is wrapped in
//! `catch_unwind`: a panicking task becomes a panic [`JoinError`](super::JoinError)
//! and never unwinds into the loop. No borrow of runtime state is held while
//! user code runs; the only state touched around it is the task's own header.
//!
//! [`run`] is a whole poll with its own `catch_unwind`. The hottest loop,
//! `Core::block_on`'s, catches once around many polls instead (a
//! `catch_unwind` costs a call frame per poll, a tenth of a yield): it runs
//! the same steps apart, [`start`], [`poll`] and [`finish`], and if a poll
//! unwinds, it catches the panic and calls [`panicked`] for that task.

use std::any::Any;
use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::task::Context;

use super::TaskId;
use super::list::TaskList;
use super::raw::{ABORT, COMPLETE, JOIN_INTEREST, POLL_ONE, RUNNING, SCHEDULED, TaskRef};
use super::waker::borrowed_waker;

/// Runs a task popped from the run queue: polls it once, then completes it
/// if it finished, panicked, or aborted itself. Returns false, without
/// polling, for a task that was cancelled while it waited in the queue.
/// `polling` holds the task while its poll runs (what `task::id` reads).
pub(crate) fn run(task: TaskRef, list: &TaskList, polling: &Cell<Option<TaskRef>>) -> bool {
    if !start(task) {
        return false;
    }
    polling.set(Some(task));
    let result = catch_unwind(AssertUnwindSafe(|| poll(task)));
    polling.set(None);
    match result {
        Ok(ready) => finish(task, list, ready),
        Err(payload) => panicked(task, list, payload),
    }
    true
}

/// The first step of a run: marks a task popped from the run queue as
/// running, and returns true if it is to be polled; false for a task that
/// was cancelled while it waited in the queue (its entry is dropped).
#[inline(always)]
pub(crate) fn start(task: TaskRef) -> bool {
    let local = task.local() & !SCHEDULED;
    if local & COMPLETE != 0 {
        discard(task);
        return false;
    }
    task.set_local((local | RUNNING) + POLL_ONE);
    true
}

/// Polls a task that [`start`] marked running; true if it finished. A panic
/// unwinds out of here: the caller catches it and calls [`panicked`].
#[inline(always)]
pub(crate) fn poll(task: TaskRef) -> bool {
    debug_assert!(task.local() & RUNNING != 0);
    let waker = borrowed_waker(task);
    let mut cx = Context::from_waker(&waker);
    // A panic unwinds through nothing of ours: the waker is borrowed (never
    // dropped), and the caller's `panicked` finishes the task.
    // SAFETY: on the loop's thread (only the loop runs tasks); the stage
    // holds the future (`start` saw the task not complete, and nothing ran
    // since), and RUNNING keeps `abort` from dropping it under us.
    unsafe { task.poll(&mut cx) }
}

/// The last step of a run whose poll returned: completes the task if it
/// finished, or if it aborted itself while running.
#[inline(always)]
pub(crate) fn finish(task: TaskRef, list: &TaskList, ready: bool) {
    let local = task.local() & !RUNNING;
    task.set_local(local);
    if ready {
        complete(task, list);
    } else if local & ABORT != 0 {
        cancel(task, list);
    }
}

/// The last step of a run whose poll panicked: the task ends with the
/// panic (its future dropped, its `JoinHandle` told).
#[cold]
pub(crate) fn panicked(task: TaskRef, list: &TaskList, payload: Box<dyn Any + Send>) {
    task.set_local(task.local() & !RUNNING);
    end(task, list, Some(payload));
}

/// Drops the run-queue entry of a complete task (cancelled while queued):
/// the entry held the runtime's reference.
pub(crate) fn discard(task: TaskRef) {
    debug_assert!(task.local() & COMPLETE != 0);
    task.set_local(task.local() & !SCHEDULED);
    // SAFETY: the runtime's reference is ours to drop; `task` is not used after.
    unsafe { task.ref_dec() };
}

/// Drops the future of a task that is not running and completes it as
/// cancelled (or as panicked, if the destructor panics). Does nothing if the
/// future is already gone or going.
pub(crate) fn cancel(task: TaskRef, list: &TaskList) {
    if task.has_future() {
        end(task, list, None);
    }
}

/// Drops the future, if still there, records how the task ended, completes it.
fn end(task: TaskRef, list: &TaskList, panic: Option<Box<dyn Any + Send>>) {
    let mut panic = panic;
    if task.has_future() {
        let dropped = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: on the loop's thread, not being polled, stage holds the future.
            as_task(task, || unsafe { task.drop_future() })
        }));
        if let Err(p) = dropped {
            // Report the first panic; a second one from the destructor is dropped.
            match panic {
                Some(_) => drop_quietly(p),
                None => panic = Some(p),
            }
        }
    }
    // SAFETY: on the loop's thread; the stage is empty now.
    unsafe { task.store_end(panic) };
    complete(task, list);
}

/// Marks a task complete: unlinks it, drops an output nobody wants, wakes the
/// joiner, and gives up the runtime's reference unless the run queue still
/// holds the task.
///
/// It never unwinds: the output's destructor and the joiner's waker are
/// user code, and a panic there is swallowed (as tokio does), since the
/// task's state must be complete whatever they do, and the runtime's drop
/// calls this for every task.
pub(crate) fn complete(task: TaskRef, list: &TaskList) {
    task.set_local(task.local() | COMPLETE);
    list.remove(task);
    if task.local() & JOIN_INTEREST == 0 {
        // SAFETY: on the loop's thread, the task is complete.
        if let Err(p) = catch_unwind(AssertUnwindSafe(|| unsafe { task.drop_output() })) {
            drop_quietly(p);
        }
    }
    let joiner = task.header().joiner.take();
    if task.local() & SCHEDULED == 0 {
        // SAFETY: the runtime's reference, given up once: the task is
        // complete and not queued, so nothing else will drop it.
        unsafe { task.ref_dec() };
    }
    if let Some(joiner) = joiner {
        if let Err(p) = catch_unwind(AssertUnwindSafe(move || joiner.wake())) {
            drop_quietly(p);
        }
    }
}

thread_local! {
    /// The task whose future or output is being dropped outside its poll
    /// (an abort, an output nobody joins, a dropped handle's output).
    static DROPPING: Cell<Option<TaskId>> = const { Cell::new(None) };
}

/// Runs `drop`, a drop of `task`'s future or output outside its poll, with
/// [`task::id`](super::id) saying `task`'s id, as tokio's does there. The
/// previous id comes back even if `drop` panics (a drop may drop another
/// task's handle, and so nest).
pub(crate) fn as_task<R>(task: TaskRef, drop: impl FnOnce() -> R) -> R {
    struct Restore(Option<TaskId>);
    impl Drop for Restore {
        fn drop(&mut self) {
            DROPPING.with(|current| current.set(self.0));
        }
    }
    let _restore = Restore(DROPPING.with(|current| current.replace(Some(task.id()))));
    drop()
}

/// The task whose future or output is being dropped on this thread, if any.
pub(crate) fn dropping_id() -> Option<TaskId> {
    DROPPING.with(Cell::get)
}

/// Drops a value whose destructor may panic, and the panic's payload too:
/// used for panic payloads and unwanted outputs, where there is nobody to
/// report to. Only a payload whose own destructor panics is forgotten (a
/// leak of a few bytes, rather than a chain of panics).
pub(crate) fn drop_quietly<T>(value: T) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(value))) {
        if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
            std::mem::forget(again);
        }
    }
}
