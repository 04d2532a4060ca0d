//! The FIFO list of waiting futures that every primitive here shares.
//!
//! A doubly linked list threaded through a slab: a future that must wait
//! enqueues itself (O(1), no allocation once the slab is warm) and keeps its
//! key. To wake the first waiter, the primitive *grants* it: unlinks it,
//! marks it with what it was given (a permit, a slot, a notification) and
//! takes its waker. The entry stays in the slab until its future comes to
//! look, so a future dropped after being granted sees that, and gives what
//! it got to the next waiter. A future dropped while still waiting just
//! unlinks itself: it never blocks the queue.
//!
//! A waiter may ask for more than one unit (`acquire_many`, `reserve_many`):
//! its `need` rides along, and the primitive grants the head only once it
//! can give all of it, so a large request at the head holds back smaller
//! ones behind it instead of starving.
//!
//! The list is plain data. The primitives keep it in a `RefCell` and never
//! hold the borrow while a waker is cloned or woken or a value is dropped
//! (all of which may run code that touches the same primitive).

use std::task::Waker;

use slab::Slab;

const NIL: usize = usize::MAX;

/// What a waiter was granted; `WAITING` while it is still in the list.
pub(crate) type Grant = u8;
pub(crate) const WAITING: Grant = 0;

struct Node {
    waker: Option<Waker>,
    grant: Grant,
    /// How many units (permits, slots) the waiter asks for.
    need: usize,
    prev: usize,
    next: usize,
}

pub(crate) struct WaitList {
    nodes: Slab<Node>,
    head: usize,
    tail: usize,
    /// Waiters still linked (not granted).
    waiting: usize,
}

impl Default for WaitList {
    fn default() -> WaitList {
        WaitList {
            nodes: Slab::new(),
            head: NIL,
            tail: NIL,
            waiting: 0,
        }
    }
}

impl WaitList {
    /// True if no waiter is linked (granted ones do not count).
    pub(crate) fn is_empty(&self) -> bool {
        self.waiting == 0
    }

    /// Enqueues a waiter at the back; returns its key.
    pub(crate) fn push(&mut self, waker: Waker) -> usize {
        self.push_needing(waker, 1)
    }

    /// Enqueues a waiter for `need` units at the back; returns its key.
    pub(crate) fn push_needing(&mut self, waker: Waker, need: usize) -> usize {
        let key = self.nodes.insert(Node {
            waker: Some(waker),
            grant: WAITING,
            need,
            prev: self.tail,
            next: NIL,
        });
        match self.tail {
            NIL => self.head = key,
            tail => self.nodes[tail].next = key,
        }
        self.tail = key;
        self.waiting += 1;
        key
    }

    /// What the waiter was granted (`WAITING` if nothing yet).
    pub(crate) fn grant(&self, key: usize) -> Grant {
        self.nodes[key].grant
    }

    /// True if the stored waker would wake the same task as `waker`.
    pub(crate) fn will_wake(&self, key: usize, waker: &Waker) -> bool {
        self.nodes[key]
            .waker
            .as_ref()
            .is_some_and(|w| w.will_wake(waker))
    }

    /// Replaces a waiting entry's waker; returns the old one, for the caller
    /// to drop with no borrow held.
    pub(crate) fn set_waker(&mut self, key: usize, waker: Waker) -> Option<Waker> {
        self.nodes[key].waker.replace(waker)
    }

    /// Removes an entry (waiting or granted) and returns its grant and waker.
    pub(crate) fn remove(&mut self, key: usize) -> (Grant, Option<Waker>) {
        if self.nodes[key].grant == WAITING {
            self.unlink(key);
        }
        let node = self.nodes.remove(key);
        (node.grant, node.waker)
    }

    /// Grants the first waiter `grant` and returns its waker, to be woken
    /// by the caller once no borrow is held. `None` if nobody waits.
    pub(crate) fn grant_front(&mut self, grant: Grant) -> Option<Waker> {
        self.grant_at(self.head, grant)
    }

    /// Grants the first waiter `grant` if it asks for at most `available`
    /// units; returns what it asked for and its waker (to be woken once no
    /// borrow is held). `None` if nobody waits or the first asks for more.
    pub(crate) fn grant_front_within(
        &mut self,
        grant: Grant,
        available: usize,
    ) -> Option<(usize, Option<Waker>)> {
        debug_assert_ne!(grant, WAITING);
        // `NIL` is never a key: `get_mut` finds nothing when nobody waits.
        // One lookup for the head (this runs in every permit's drop).
        let node = self.nodes.get_mut(self.head)?;
        let need = node.need;
        if need > available {
            return None;
        }
        node.grant = grant;
        let waker = node.waker.take();
        let next = node.next;
        self.head = next;
        match next {
            NIL => self.tail = NIL,
            n => self.nodes[n].prev = NIL,
        }
        self.waiting -= 1;
        Some((need, waker))
    }

    /// As [`grant_front`](Self::grant_front), for the waiter that came last.
    pub(crate) fn grant_back(&mut self, grant: Grant) -> Option<Waker> {
        self.grant_at(self.tail, grant)
    }

    fn grant_at(&mut self, key: usize, grant: Grant) -> Option<Waker> {
        debug_assert_ne!(grant, WAITING);
        if key == NIL {
            return None;
        }
        self.unlink(key);
        let node = &mut self.nodes[key];
        node.grant = grant;
        // A node's waker is always set while it waits.
        node.waker.take()
    }

    /// Grants every waiter `grant`; their wakers go to `out`.
    pub(crate) fn grant_all(&mut self, grant: Grant, out: &mut Vec<Waker>) {
        while let Some(waker) = self.grant_front(grant) {
            out.push(waker);
        }
    }

    fn unlink(&mut self, key: usize) {
        let (prev, next) = (self.nodes[key].prev, self.nodes[key].next);
        match prev {
            NIL => self.head = next,
            p => self.nodes[p].next = next,
        }
        match next {
            NIL => self.tail = prev,
            n => self.nodes[n].prev = prev,
        }
        self.waiting -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noop() -> Waker {
        Waker::noop().clone()
    }

    #[test]
    fn fifo_grants_and_removal_from_the_middle() {
        let mut list = WaitList::default();
        let keys: Vec<usize> = (0..5).map(|_| list.push(noop())).collect();
        // A waiter leaving from the middle does not block the others.
        assert_eq!(list.remove(keys[2]).0, WAITING);
        assert!(list.grant_front(1).is_some());
        assert_eq!(list.grant(keys[0]), 1);
        assert_eq!(list.grant(keys[1]), WAITING);
        let mut out = Vec::new();
        list.grant_all(2, &mut out);
        assert_eq!(out.len(), 3);
        assert!(list.is_empty());
        assert_eq!(
            [keys[1], keys[3], keys[4]].map(|k| list.grant(k)),
            [2, 2, 2]
        );
        for k in [keys[0], keys[1], keys[3], keys[4]] {
            assert_ne!(list.remove(k).0, WAITING);
        }
        assert!(list.nodes.is_empty());
    }

    #[test]
    fn needs_ride_along() {
        let mut list = WaitList::default();
        assert!(list.grant_front_within(1, usize::MAX).is_none());
        let a = list.push_needing(noop(), 5);
        let b = list.push(noop());
        let c = list.push_needing(noop(), 2);
        // The head asks for more than there is: nobody is granted.
        assert!(list.grant_front_within(1, 4).is_none());
        assert_eq!(list.grant(a), WAITING);
        assert_eq!(list.grant_front_within(1, 5).map(|(n, _)| n), Some(5));
        assert_eq!(list.grant_front_within(2, 1).map(|(n, _)| n), Some(1));
        assert_eq!([a, b, c].map(|k| list.grant(k)), [1, 2, WAITING]);
        assert_eq!(list.remove(c).0, WAITING);
        assert!(list.grant_front_within(1, 100).is_none());
        assert_eq!(list.remove(a).0, 1);
    }

    #[test]
    fn the_back_can_be_granted() {
        let mut list = WaitList::default();
        assert!(list.grant_back(1).is_none());
        let keys: Vec<usize> = (0..3).map(|_| list.push(noop())).collect();
        assert!(list.grant_back(2).is_some());
        assert!(list.grant_back(3).is_some());
        assert!(list.grant_front(1).is_some());
        assert!(list.is_empty());
        assert_eq!(
            keys.iter().map(|&k| list.grant(k)).collect::<Vec<_>>(),
            [1, 3, 2]
        );
    }
}
