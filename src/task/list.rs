//! The runtime's list of live tasks: an intrusive doubly linked list through
//! the task headers, so adding and removing a task costs no allocation.
//!
//! The runtime walks it to cancel every task when it is dropped and to list
//! the tasks for [`Runtime::tasks`](crate::Runtime::tasks). A task is in the
//! list from spawn until it completes. The list holds no reference count: a
//! live task is kept alive by the runtime's own reference.

use std::cell::Cell;

use super::raw::TaskRef;

#[derive(Default)]
pub(crate) struct TaskList {
    head: Cell<Option<TaskRef>>,
    tail: Cell<Option<TaskRef>>,
    len: Cell<usize>,
}

impl TaskList {
    pub(crate) fn len(&self) -> usize {
        self.len.get()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len.get() == 0
    }

    pub(crate) fn head(&self) -> Option<TaskRef> {
        self.head.get()
    }

    /// Adds a task at the tail (so tasks spawned while the runtime shuts down
    /// come after the ones it is cancelling).
    pub(crate) fn push_back(&self, task: TaskRef) {
        let h = task.header();
        h.prev.set(self.tail.get());
        h.next.set(None);
        match self.tail.get() {
            Some(tail) => tail.header().next.set(Some(task)),
            None => self.head.set(Some(task)),
        }
        self.tail.set(Some(task));
        self.len.set(self.len.get() + 1);
    }

    /// Removes a task that is in this list.
    pub(crate) fn remove(&self, task: TaskRef) {
        let h = task.header();
        let (prev, next) = (h.prev.take(), h.next.take());
        match prev {
            Some(p) => p.header().next.set(next),
            None => self.head.set(next),
        }
        match next {
            Some(n) => n.header().prev.set(prev),
            None => self.tail.set(prev),
        }
        self.len.set(self.len.get() - 1);
    }
}
