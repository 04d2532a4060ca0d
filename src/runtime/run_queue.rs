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
    /// Capacity is a power of two; slots outside `head..tail` (mod
    /// capacity) hold stale values, never read.
    buf: UnsafeCell<Box<[Entry]>>,
    /// The capacity minus one.
    mask: Cell<usize>,
    /// Positions count up (wrapping) and are masked into the buffer: the
    /// entries are those from `head` to `tail`. A push and a pop are then
    /// a mask, a store or a load, and an increment.
    head: Cell<usize>,
    tail: Cell<usize>,
}

impl RunQueue {
    pub(crate) fn new() -> RunQueue {
        RunQueue {
            buf: UnsafeCell::new(vec![None; MIN_CAPACITY].into_boxed_slice()),
            mask: Cell::new(MIN_CAPACITY - 1),
            head: Cell::new(0),
            tail: Cell::new(0),
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
        let tail = self.tail.get();
        if tail.wrapping_sub(self.head.get()) > self.mask.get() {
            self.grow();
        }
        let tail = self.tail.get();
        let mask = self.mask.get();
        self.with(|buf| buf[tail & mask] = entry);
        self.tail.set(tail.wrapping_add(1));
    }

    #[inline]
    pub(crate) fn pop(&self) -> Option<Entry> {
        let head = self.head.get();
        if head == self.tail.get() {
            return None;
        }
        let mask = self.mask.get();
        let entry = self.with(|buf| buf[head & mask]);
        self.head.set(head.wrapping_add(1));
        Some(entry)
    }

    pub(crate) fn len(&self) -> usize {
        self.tail.get().wrapping_sub(self.head.get())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.head.get() == self.tail.get()
    }

    /// Doubles the buffer (it is full).
    #[cold]
    #[inline(never)]
    fn grow(&self) {
        let len = self.len();
        let cap = (self.mask.get() + 1) * 2;
        self.with(|buf| *buf = copy_out(buf, self.head.get(), len, cap));
        self.reset(len, cap);
    }

    /// After a copy to the start of a new buffer of `cap` slots.
    fn reset(&self, len: usize, cap: usize) {
        self.mask.set(cap - 1);
        self.head.set(0);
        self.tail.set(len);
    }

    /// Gives memory back after a burst (100_000 tasks spawned at once leave
    /// 1 MiB of queue behind otherwise). Cheap when there is nothing to do.
    pub(crate) fn shrink(&self) {
        let (head, len, cap) = (self.head.get(), self.len(), self.mask.get() + 1);
        if cap > 4096 && len < cap / 8 {
            let new_cap = (len.max(MIN_CAPACITY) * 2).next_power_of_two();
            self.with(|buf| *buf = copy_out(buf, head, len, new_cap));
            self.reset(len, new_cap);
        }
    }
}

/// A new buffer of `cap` slots with the `len` entries from position `head`
/// at its start.
fn copy_out(buf: &[Entry], head: usize, len: usize, cap: usize) -> Box<[Entry]> {
    let mask = buf.len() - 1;
    let mut new = vec![None; cap].into_boxed_slice();
    for (i, slot) in new.iter_mut().take(len).enumerate() {
        *slot = buf[head.wrapping_add(i) & mask];
    }
    new
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A FIFO through growth, wrap-around and shrinking, against a VecDeque.
    #[test]
    fn fifo_through_growth_and_shrink() {
        fifo_from(0);
        // Positions that wrap around usize::MAX on the way.
        fifo_from(usize::MAX - 100);
    }

    fn fifo_from(start: usize) {
        // Fake task pointers, only compared, never dereferenced; `None`
        // (the main future's entry) mixed in.
        let entry = |i: usize| {
            // SAFETY: these pointers are never dereferenced, only compared.
            (i % 7 != 0).then(|| unsafe { TaskRef::from_ptr((8 * i) as *const ()) })
        };
        let q = RunQueue::new();
        q.head.set(start);
        q.tail.set(start);
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
