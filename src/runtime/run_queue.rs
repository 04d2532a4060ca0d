//! The run queue: the tasks that are ready to be polled, in FIFO order.
//!
//! It holds task pointers and no reference counts (the runtime's own
//! reference keeps a queued task alive), plus `None` as the place of the
//! `block_on` future, so that the main future waits its turn like any task.
//! A task is in the queue at most once: its `SCHEDULED` flag says so.
//!
//! It is a ring buffer whose capacity is a power of two, so that a push or
//! a pop is an add and a mask (a `VecDeque` spends several times that on
//! its general bookkeeping, on the hottest path of the loop). Only the
//! loop's thread touches it, and no method calls user code, so no borrow of
//! it is ever held while a task runs.

use std::cell::{Cell, UnsafeCell};

use crate::task::raw::TaskRef;

/// `None` stands for the `block_on` future.
pub(crate) type Entry = Option<TaskRef>;

const MIN_CAPACITY: usize = 256;

pub(crate) struct RunQueue {
    /// Capacity is a power of two; slots outside `head..head+len` (mod
    /// capacity) hold stale values, never read.
    buf: UnsafeCell<Box<[Entry]>>,
    head: Cell<usize>,
    len: Cell<usize>,
}

impl RunQueue {
    pub(crate) fn new() -> RunQueue {
        RunQueue {
            buf: UnsafeCell::new(vec![None; MIN_CAPACITY].into_boxed_slice()),
            head: Cell::new(0),
            len: Cell::new(0),
        }
    }

    #[inline]
    fn with<R>(&self, f: impl FnOnce(&mut Box<[Entry]>) -> R) -> R {
        // SAFETY: `RunQueue` is `!Sync` (UnsafeCell), so only this thread
        // sees it; the closures passed here are the methods below, which do
        // not call user code or re-enter, so this `&mut` is the only one.
        f(unsafe { &mut *self.buf.get() })
    }

    #[inline]
    pub(crate) fn push(&self, entry: Entry) {
        let (head, len) = (self.head.get(), self.len.get());
        self.with(|buf| {
            if len == buf.len() {
                grow(buf, head, len);
                self.head.set(0);
            }
            let mask = buf.len() - 1;
            buf[(self.head.get() + len) & mask] = entry;
        });
        self.len.set(len + 1);
    }

    #[inline]
    pub(crate) fn pop(&self) -> Option<Entry> {
        let len = self.len.get();
        if len == 0 {
            return None;
        }
        let head = self.head.get();
        let entry = self.with(|buf| buf[head & (buf.len() - 1)]);
        self.head.set((head + 1) & self.with(|buf| buf.len() - 1));
        self.len.set(len - 1);
        Some(entry)
    }

    pub(crate) fn len(&self) -> usize {
        self.len.get()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len.get() == 0
    }

    /// Gives memory back after a burst (100_000 tasks spawned at once leave
    /// 1 MiB of queue behind otherwise). Cheap when there is nothing to do.
    pub(crate) fn shrink(&self) {
        let (head, len) = (self.head.get(), self.len.get());
        let shrunk = self.with(|buf| {
            let shrink = buf.len() > 4096 && len < buf.len() / 8;
            if shrink {
                let cap = (len.max(MIN_CAPACITY) * 2).next_power_of_two();
                *buf = copy_out(buf, head, len, cap);
            }
            shrink
        });
        if shrunk {
            self.head.set(0);
        }
    }
}

/// Doubles the buffer, moving the entries to its start.
fn grow(buf: &mut Box<[Entry]>, head: usize, len: usize) {
    *buf = copy_out(buf, head, len, buf.len() * 2);
}

/// A new buffer of `cap` slots with the `len` entries from `head` at its start.
fn copy_out(buf: &[Entry], head: usize, len: usize, cap: usize) -> Box<[Entry]> {
    let mask = buf.len() - 1;
    let mut new = vec![None; cap].into_boxed_slice();
    for (i, slot) in new.iter_mut().take(len).enumerate() {
        *slot = buf[(head + i) & mask];
    }
    new
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A FIFO through growth, wrap-around and shrinking, against a VecDeque.
    #[test]
    fn fifo_through_growth_and_shrink() {
        // Fake task pointers, only compared, never dereferenced; `None`
        // (the main future's entry) mixed in.
        let entry = |i: usize| {
            // SAFETY: these pointers are never dereferenced, only compared.
            (i % 7 != 0).then(|| unsafe { TaskRef::from_ptr((8 * i) as *const ()) })
        };
        let q = RunQueue::new();
        let mut model = std::collections::VecDeque::new();
        let mut next = 1usize;
        for (pushes, pops) in [
            (300, 100),
            (5000, 5100),
            (10, 9),
            (20000, 19000),
            (1, 900),
            (700, 700),
        ] {
            for _ in 0..pushes {
                q.push(entry(next));
                model.push_back(entry(next));
                next += 1;
            }
            for _ in 0..pops {
                assert_eq!(q.pop(), model.pop_front());
            }
            assert_eq!(q.len(), model.len());
            q.shrink();
        }
        while let Some(e) = model.pop_front() {
            assert_eq!(q.pop(), Some(e));
        }
        assert!(q.is_empty() && q.pop().is_none());
    }
}
