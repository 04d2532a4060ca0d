//! The thread-local "current runtime": the only global state in eddy.
//!
//! It is set while a runtime runs on this thread (inside `block_on` or
//! `turn`) and while it drops its tasks, and it is how `eddy::spawn` and a
//! waker find the run queue without being handed a pointer. It is one
//! pointer with a constant initialiser and no destructor, so reading it is a
//! single load from thread-local storage, valid even while the thread exits.

use std::cell::Cell;
use std::ptr;

use super::core::Core;

thread_local! {
    static CURRENT: Cell<*const Core> = const { Cell::new(ptr::null()) };
}

/// The runtime running on this thread, if any.
///
/// The pointer is valid for as long as the caller does not return past the
/// `Enter` guard that set it (every setter is a guard on the stack above).
pub(crate) fn current() -> *const Core {
    CURRENT.with(Cell::get)
}

/// Runs `f` with the current runtime, or panics with a message naming `what`.
#[track_caller]
pub(crate) fn with_current<R>(what: &str, f: impl FnOnce(&Core) -> R) -> R {
    let core = current();
    if core.is_null() {
        panic!(
            "eddy: `{what}` was called outside a runtime; call it from inside `block_on`, `turn` \
             or a task, or use `Runtime::spawn` / `Handle::spawn`"
        );
    }
    // SAFETY: non-null means an `Enter` guard up the stack keeps the core alive.
    f(unsafe { &*core })
}

/// Makes a runtime current until dropped, restoring what was current before.
pub(crate) struct Enter {
    prev: *const Core,
}

impl Enter {
    /// Enters `core` to drive it. Panics if a runtime already runs on this
    /// thread: blocking inside it would stall all of its tasks.
    #[track_caller]
    pub(crate) fn run(core: &Core, what: &str) -> Enter {
        if !current().is_null() {
            panic!(
                "eddy: `{what}` was called from inside a runtime (in a task or in another \
                 `block_on`); that would block the thread that runs the outer loop. \
                 `.await` the future, or `spawn` it, instead"
            );
        }
        Enter::any(core)
    }

    /// Makes `core` current even if another runtime is (to drop a task's
    /// future inside its own runtime, so destructors can use eddy).
    pub(crate) fn any(core: &Core) -> Enter {
        Enter {
            prev: CURRENT.with(|c| c.replace(core)),
        }
    }
}

impl Drop for Enter {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.prev));
    }
}
