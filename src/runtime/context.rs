//! The thread-local "current runtime": the only global state in eddy.
//!
//! Two cells per thread:
//!
//! - `CURRENT`, the runtime `eddy::spawn` and a waker find without being
//!   handed a pointer. It is set while a runtime is driven (`block_on`,
//!   `turn`), while it cancels a task or drops its tasks (so destructors may
//!   use eddy), and while a [`Runtime::enter`](super::Runtime::enter) guard
//!   lives.
//! - `BUSY`, set while the loop's own code is on the stack (a drive, a
//!   cancel, a shutdown): starting a drive then would poll tasks in the
//!   middle of that code, so `block_on` and `turn` refuse.
//!
//! Both are plain `Cell`s with constant initialisers and no destructor, so
//! reading one is a single load from thread-local storage, valid even while
//! the thread exits.

use std::cell::Cell;
use std::ptr;
use std::task::Waker;

use super::core::Core;
use super::shared::Shared;
use crate::task::raw::TaskRef;

thread_local! {
    static CURRENT: Cell<*const Core> = const { Cell::new(ptr::null()) };
    static BUSY: Cell<bool> = const { Cell::new(false) };
}

/// The runtime current on this thread, if any.
///
/// The pointer is valid for as long as the caller does not return past the
/// guard that set it (every setter is a guard on the stack above, and each
/// keeps its runtime alive: see the module docs of `runtime`).
pub(crate) fn current() -> *const Core {
    CURRENT.with(Cell::get)
}

/// Schedules a woken task: the one hook from `task` into the runtime.
///
/// It sits here, beside `CURRENT`, and is not `#[inline]`, on purpose: in
/// the codegen unit of the thread-local, reading it is one load, while
/// code in other units reaches it through a call (the thread-local's
/// accessor is not inlined across units). Every wake comes through here.
pub(crate) fn schedule(task: TaskRef) {
    let core = current();
    // SAFETY: a non-null current core is alive (an `Enter` guard up the
    // stack), and it is this task's runtime only if the shared blocks match.
    if !core.is_null() && unsafe { (*core).shared_ptr() } == task.shared_ptr() {
        // SAFETY: as above.
        unsafe { (*core).schedule_local(task) }
    } else {
        wake_remote(task);
    }
}

/// The other road of `schedule`, kept out of its body so that the local
/// wake stays small.
#[cold]
#[inline(never)]
fn wake_remote(task: TaskRef) {
    Shared::wake_remote(task);
}

/// Wakes `waker` now if that takes no foreign code: it is a task waker of
/// the runtime running on this thread, so waking only pushes to the run
/// queue. Returns false (nothing done) for any other waker. Lets the reactor
/// wake such a task in place, keeping the waker where it is.
pub(crate) fn wake_local(waker: &Waker) -> bool {
    let Some(task) = crate::task::as_task(waker) else {
        return false;
    };
    let core = current();
    // SAFETY: as in `schedule`.
    if !core.is_null() && unsafe { (*core).shared_ptr() } == task.shared_ptr() {
        // SAFETY: as in `schedule`.
        unsafe { (*core).schedule_local(task) };
        return true;
    }
    false
}

/// The runtime running on this thread, looked up once to wake many task
/// wakers in place (as [`wake_local`] does for one), from
/// [`with_local_waker`].
pub(crate) struct LocalWaker<'a> {
    core: Option<&'a Core>,
}

impl LocalWaker<'_> {
    /// As [`wake_local`]: wakes `waker` now and returns true if it is a task
    /// waker of this runtime (waking it only queues the task); else does
    /// nothing and returns false.
    #[inline]
    pub(crate) fn wake(&self, waker: &Waker) -> bool {
        let Some(core) = self.core else {
            return false;
        };
        match crate::task::as_task(waker) {
            Some(task) if core.shared_ptr() == task.shared_ptr() => {
                core.schedule_local(task);
                true
            }
            _ => false,
        }
    }
}

/// Runs `f` with a [`LocalWaker`] for the runtime running on this thread
/// (one that wakes nothing in place if there is none).
pub(crate) fn with_local_waker<R>(f: impl FnOnce(&LocalWaker<'_>) -> R) -> R {
    let core = current();
    // SAFETY: non-null means a guard up the stack keeps the core alive for
    // as long as this call lasts (as in `with_current`).
    f(&LocalWaker {
        core: unsafe { core.as_ref() },
    })
}

/// Runs `f` with the current runtime, or panics with a message naming `what`.
#[track_caller]
pub(crate) fn with_current<R>(what: &str, f: impl FnOnce(&Core) -> R) -> R {
    let core = current();
    if core.is_null() {
        outside_runtime(what);
    }
    // SAFETY: non-null means a guard up the stack keeps the core alive.
    f(unsafe { &*core })
}

/// The panic of an API that needs a runtime, called outside one.
#[cold]
#[track_caller]
pub(crate) fn outside_runtime(what: &str) -> ! {
    panic!(
        "eddy: `{what}` was called outside a runtime; call it from inside `block_on`, `turn` \
         or a task (or under `Runtime::enter`), or use `Runtime::spawn` / `Handle::spawn`"
    )
}

/// Makes a runtime current until dropped, restoring what was before.
pub(crate) struct Enter {
    prev: *const Core,
    prev_busy: bool,
}

impl Enter {
    /// Enters `core` to drive it. Panics if the loop's code of any runtime
    /// is running on this thread: a drive inside it would stall the outer
    /// loop, or poll tasks in the middle of cancelling one.
    #[track_caller]
    pub(crate) fn run(core: &Core, what: &str) -> Enter {
        if BUSY.with(Cell::get) {
            panic!(
                "eddy: `{what}` was called from inside a runtime (in a task, in another \
                 `block_on`, or in a destructor the runtime runs); that would block the thread \
                 that runs the outer loop. `.await` the future, or `spawn` it, instead"
            );
        }
        Enter::busy(core)
    }

    /// Makes `core` current for the loop's own work (a cancel, a shutdown),
    /// even inside another runtime, so that destructors can use eddy.
    pub(crate) fn busy(core: &Core) -> Enter {
        Enter {
            prev: CURRENT.with(|c| c.replace(core)),
            prev_busy: BUSY.with(|b| b.replace(true)),
        }
    }

    /// Makes `core` current without running any of its code (`Runtime::enter`).
    pub(crate) fn current(core: &Core) -> Enter {
        Enter {
            prev: CURRENT.with(|c| c.replace(core)),
            prev_busy: BUSY.with(Cell::get),
        }
    }
}

impl Drop for Enter {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.prev));
        BUSY.with(|b| b.set(self.prev_busy));
    }
}
