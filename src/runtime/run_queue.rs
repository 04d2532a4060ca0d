//! The run queue: the tasks that are ready to be polled, in FIFO order.
//!
//! It holds task pointers and no reference counts (the runtime's own
//! reference keeps a queued task alive), plus `None` as the place of the
//! `block_on` future, so that the main future waits its turn like any task.
//! A task is in the queue at most once: its `SCHEDULED` flag says so.
//!
//! Only the loop's thread touches it, and no method calls user code, so no
//! borrow of it is ever held while a task runs.

use std::cell::UnsafeCell;
use std::collections::VecDeque;

use crate::task::raw::TaskRef;

/// `None` stands for the `block_on` future.
pub(crate) type Entry = Option<TaskRef>;

pub(crate) struct RunQueue {
    queue: UnsafeCell<VecDeque<Entry>>,
}

impl RunQueue {
    pub(crate) fn new() -> RunQueue {
        RunQueue {
            queue: UnsafeCell::new(VecDeque::with_capacity(256)),
        }
    }

    #[inline]
    fn with<R>(&self, f: impl FnOnce(&mut VecDeque<Entry>) -> R) -> R {
        // SAFETY: `RunQueue` is `!Sync` (UnsafeCell), so only this thread
        // sees it; the closures passed here are the methods below, which do
        // not call user code or re-enter, so this `&mut` is the only one.
        f(unsafe { &mut *self.queue.get() })
    }

    #[inline]
    pub(crate) fn push(&self, entry: Entry) {
        self.with(|q| q.push_back(entry))
    }

    #[inline]
    pub(crate) fn pop(&self) -> Option<Entry> {
        self.with(|q| q.pop_front())
    }

    pub(crate) fn len(&self) -> usize {
        self.with(|q| q.len())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.with(|q| q.is_empty())
    }

    /// Gives memory back after a burst (100_000 tasks spawned at once leave
    /// 1 MiB of queue behind otherwise). Cheap when there is nothing to do.
    pub(crate) fn shrink(&self) {
        self.with(|q| {
            if q.capacity() > 4096 && q.len() < q.capacity() / 8 {
                q.shrink_to(q.len().max(256) * 2);
            }
        })
    }
}
