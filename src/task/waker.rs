//! The task waker: a `Waker` whose data pointer is the task itself.
//!
//! Waking asks the runtime to schedule the task ([`crate::runtime::schedule`]),
//! which takes one of two roads:
//!
//! - on the loop's own thread, inside the task's runtime: set a flag in the
//!   header and push the task on the run queue. No lock, no syscall, no
//!   allocation, no atomic (the runtime's own reference covers the queue entry);
//! - anywhere else: one compare-and-swap claims the task's remote-queue slot
//!   (so a task woken many times is queued once), then the task goes through
//!   the lock-free remote queue, and the loop is unparked only if it sleeps.
//!
//! Cloning and dropping a waker count references atomically, because a waker
//! may be dropped on any thread.

use std::mem::ManuallyDrop;
use std::task::{RawWaker, RawWakerVTable, Waker};

use super::raw::TaskRef;
use crate::runtime;

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

/// A waker for `task` that borrows the caller's reference (no count change).
/// It must not outlive that reference; the `ManuallyDrop` keeps it from
/// dropping a reference it does not own.
pub(crate) fn borrowed_waker(task: TaskRef) -> ManuallyDrop<Waker> {
    // SAFETY: as in `waker`; the reference is borrowed, and ManuallyDrop
    // ensures `drop_waker` never runs for this copy.
    ManuallyDrop::new(unsafe { Waker::from_raw(RawWaker::new(task.as_ptr(), &VTABLE)) })
}

/// A waker that takes over a reference the caller owns.
///
/// # Safety
/// The caller gives up one reference to `task`.
pub(crate) unsafe fn owned_waker(task: TaskRef) -> Waker {
    // SAFETY: the waker owns the reference handed over by the caller, which
    // is what the vtable's `drop_waker` and `wake` give back.
    unsafe { Waker::from_raw(RawWaker::new(task.as_ptr(), &VTABLE)) }
}

/// The task behind `waker`, if it is one of eddy's task wakers.
pub(crate) fn as_task(waker: &Waker) -> Option<TaskRef> {
    if std::ptr::eq(waker.vtable(), &VTABLE) {
        // SAFETY: our vtable means the data pointer is a live task (the
        // waker holds or borrows a reference to it).
        Some(unsafe { TaskRef::from_ptr(waker.data()) })
    } else {
        None
    }
}

unsafe fn clone(ptr: *const ()) -> RawWaker {
    // SAFETY: `ptr` is the data of one of our wakers, so a live task.
    unsafe { TaskRef::from_ptr(ptr) }.ref_inc();
    RawWaker::new(ptr, &VTABLE)
}

unsafe fn wake(ptr: *const ()) {
    // SAFETY: `ptr` is the data of one of our wakers, which owns a reference.
    let task = unsafe { TaskRef::from_ptr(ptr) };
    runtime::schedule(task);
    // SAFETY: `wake` consumes the waker's reference; the task is not used after.
    unsafe { task.ref_dec() };
}

unsafe fn wake_by_ref(ptr: *const ()) {
    // SAFETY: `ptr` is the data of one of our wakers, alive while borrowed.
    runtime::schedule(unsafe { TaskRef::from_ptr(ptr) });
}

unsafe fn drop_waker(ptr: *const ()) {
    // SAFETY: the waker owned one reference, which it gives up here.
    unsafe { TaskRef::from_ptr(ptr).ref_dec() };
}
