//! The joiner: who to wake when a task completes, in one word.
//!
//! Most often a `JoinHandle` is awaited by another task of the same
//! runtime, whose waker is an eddy task waker: for those, the word holds the
//! task pointer (with the reference the waker's clone would hold). Any other
//! waker (the `block_on` future's, another executor's) is boxed and the word
//! holds the box, tagged in its low bit. This keeps the task header at
//! 64 bytes; see `raw.rs`.

use std::cell::Cell;
use std::task::Waker;

use super::raw::TaskRef;
use super::waker::{as_task, owned_waker};

const EMPTY: usize = 0;
/// Set on a boxed foreign waker; task pointers and boxes are both aligned
/// to at least 8, so the low bit is free.
const BOXED: usize = 1;

pub(crate) struct Joiner(Cell<usize>);

impl Joiner {
    pub(crate) fn new() -> Joiner {
        Joiner(Cell::new(EMPTY))
    }

    /// Registers `waker`, unless it would wake the same task already registered.
    pub(crate) fn register(&self, waker: &Waker) {
        let word = self.0.get();
        if word != EMPTY && self.will_wake(word, waker) {
            return;
        }
        let new = match as_task(waker) {
            Some(task) => {
                task.ref_inc();
                task.as_ptr() as usize
            }
            None => Box::into_raw(Box::new(waker.clone())) as usize | BOXED,
        };
        // Take the old one out first: dropping a foreign waker runs its code.
        drop(self.replace(new));
    }

    /// True if no waker is registered.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.0.get() == EMPTY
    }

    /// Takes the registered waker out, leaving the slot empty.
    pub(crate) fn take(&self) -> Option<Waker> {
        self.replace(EMPTY)
    }

    fn replace(&self, new: usize) -> Option<Waker> {
        let word = self.0.replace(new);
        if word == EMPTY {
            None
        } else if word & BOXED != 0 {
            // SAFETY: a tagged word came from `Box::into_raw` in `register`,
            // and `replace` removed it from the slot, so it is owned here.
            Some(*unsafe { Box::from_raw((word & !BOXED) as *mut Waker) })
        } else {
            // SAFETY: an untagged word is a task pointer with the reference
            // taken in `register`; the new waker owns that reference.
            Some(unsafe { owned_waker(TaskRef::from_ptr(word as *const ())) })
        }
    }

    fn will_wake(&self, word: usize, waker: &Waker) -> bool {
        if word & BOXED != 0 {
            // SAFETY: a tagged word is a live box owned by this slot.
            unsafe { &*((word & !BOXED) as *const Waker) }.will_wake(waker)
        } else {
            as_task(waker).is_some_and(|t| t.as_ptr() as usize == word)
        }
    }
}

impl Drop for Joiner {
    fn drop(&mut self) {
        drop(self.take());
    }
}
