//! The runtime's list of live tasks: an intrusive doubly linked list through
//! the task headers, so adding and removing a task costs no allocation.
//!
//! The runtime walks it to cancel every task when it is dropped and to list
//! the tasks for [`Runtime::tasks`](crate::Runtime::tasks). A task is in the
//! list from spawn until it completes. The list holds no reference count: a
//! live task is kept alive by the runtime's own reference.
//!
//! In debug mode the list also remembers where each task was spawned, in a
//! side table, so that the task header (and every task, with debug mode
//! off) stays as small as it was: off, the table stays empty and costs one
//! branch per spawn and per completion.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::panic::Location;

use super::TaskId;
use super::raw::TaskRef;

#[derive(Default)]
pub(crate) struct TaskList {
    head: Cell<Option<TaskRef>>,
    tail: Cell<Option<TaskRef>>,
    len: Cell<usize>,
    /// Debug mode: keep spawn locations.
    debug: bool,
    locations: RefCell<HashMap<TaskId, &'static Location<'static>>>,
}

impl TaskList {
    /// An empty list; `debug` keeps spawn locations.
    pub(crate) fn new(debug: bool) -> TaskList {
        TaskList {
            debug,
            ..TaskList::default()
        }
    }

    /// Where the task was spawned, in debug mode.
    pub(crate) fn location(&self, id: TaskId) -> Option<&'static Location<'static>> {
        if !self.debug {
            return None;
        }
        self.locations.borrow().get(&id).copied()
    }

    /// The tasks in the list, from the oldest.
    pub(crate) fn iter(&self) -> impl Iterator<Item = TaskRef> + '_ {
        std::iter::successors(self.head.get(), |task| task.header().next.get())
    }

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
    pub(crate) fn push_back(&self, task: TaskRef, location: &'static Location<'static>) {
        if self.debug {
            self.locations.borrow_mut().insert(task.id(), location);
        }
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
        if self.debug {
            self.locations.borrow_mut().remove(&task.id());
        }
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
