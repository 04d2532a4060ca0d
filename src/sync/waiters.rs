//! The FIFO list of waiting futures that every primitive here shares.
//!
//! A doubly linked list threaded through a vector of entries (a slab: a
//! free list links the vacant ones): a future that must wait
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
//! (all of which may run code that touches the same primitive). The free
//! functions below do that dance once for everyone: [`poll_entry`] and
//! [`leave`] for a waiting future, [`grant_and_wake`] for the primitive,
//! and [`Wait`] is a whole waiting future for the simple cases.
//!
//! Waking everyone (`grant_all`, [`wake_all_kept`]) takes a shortcut for
//! the common waiter, a task of the runtime running on this thread: its
//! wake runs no foreign code (it pushes the task on the run queue, see
//! `runtime::wake_local`), so it is woken in place, in the same walk down
//! the line, and keeps its waker in its entry. Only other wakers are taken
//! out, to be woken once the borrow is released. A single grant
//! (`grant_front`) hands the waker to the primitive as before: waking it
//! consumes it, which is as cheap as waking in place and dropping it later.
//!
//! A waiter that waits again and again (a channel's receiver) may instead
//! *keep* its entry: [`park`] links it back at the end of the line, and
//! [`wake_all_kept`] wakes such waiters and leaves each its waker (or gives
//! it back, if it had to be taken out). A steady stream of waits then
//! allocates nothing and clones no waker (a clone and a drop are an atomic
//! each, for eddy's wakers).
//!
//! A waiter may carry a small tag saying what it waits for (`RwLock` tells
//! readers from writers by it), so a primitive can decide by the front
//! waiter's kind whom to grant.

use std::cell::RefCell;
use std::future::Future;
use std::ops::{Index, IndexMut};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::runtime::{LocalWaker, with_local_waker};

const NIL: usize = usize::MAX;

/// What a waiter was granted; `WAITING` while it is still in the list.
pub(crate) type Grant = u8;
pub(crate) const WAITING: Grant = 0;
/// A kept entry out of the line between two waits.
const IDLE: Grant = Grant::MAX;
/// A vacant entry, in the free list.
const FREE: Grant = Grant::MAX - 1;

struct Node {
    /// Set while the waiter waits. Once granted: taken, to be woken by the
    /// primitive, unless the waiter was woken in place.
    waker: Option<Waker>,
    grant: Grant,
    /// What the waiter waits for, as its primitive defines it.
    tag: u8,
    /// How many units (permits, slots) the waiter asks for.
    need: usize,
    prev: usize,
    next: usize,
}

pub(crate) struct WaitList {
    nodes: Nodes,
    head: usize,
    tail: usize,
    /// Waiters still linked (not granted).
    waiting: usize,
    /// A buffer for the wakers of one `grant_and_wake`, kept between calls
    /// so that waking many waiters allocates nothing once warm.
    spare: Vec<Waker>,
    /// The same for `wake_all_kept`, with the entries' keys.
    spare_kept: Vec<(usize, Waker)>,
}

impl Default for WaitList {
    fn default() -> WaitList {
        WaitList {
            nodes: Nodes {
                v: Vec::new(),
                free: NIL,
                len: 0,
            },
            head: NIL,
            tail: NIL,
            waiting: 0,
            spare: Vec::new(),
            spare_kept: Vec::new(),
        }
    }
}

impl Node {
    /// Wakes the waiter of a node being granted, in place if its waker is
    /// a task waker of the runtime running here (the waker stays); else
    /// takes the waker out, for the caller to wake once no borrow is held.
    #[inline]
    fn wake_or_take(&mut self, local: &LocalWaker<'_>) -> Option<Waker> {
        match &self.waker {
            Some(waker) if local.wake(waker) => None,
            _ => self.waker.take(),
        }
    }
}

/// The entries: what the `slab` crate does, with one check less on each
/// access (a vacant entry is told by its grant, `FREE`, not by an enum
/// around every entry), on the hottest path of every primitive.
struct Nodes {
    v: Vec<Node>,
    /// The first vacant entry (`NIL` if none); each links the next by `next`.
    free: usize,
    len: usize,
}

impl Nodes {
    #[inline]
    fn insert(&mut self, node: Node) -> usize {
        debug_assert_ne!(node.grant, FREE);
        self.len += 1;
        match self.free {
            NIL => {
                self.v.push(node);
                self.v.len() - 1
            }
            key => {
                let slot = &mut self.v[key];
                self.free = slot.next;
                // A vacant entry holds no waker: there is nothing to drop
                // (forgetting it spares the check).
                let vacant = std::mem::replace(slot, node);
                debug_assert!(vacant.waker.is_none());
                std::mem::forget(vacant);
                key
            }
        }
    }

    /// Frees an entry; returns its grant and its waker.
    #[inline]
    fn remove(&mut self, key: usize) -> (Grant, Option<Waker>) {
        let node = &mut self.v[key];
        debug_assert_ne!(node.grant, FREE);
        let grant = std::mem::replace(&mut node.grant, FREE);
        node.next = self.free;
        self.free = key;
        self.len -= 1;
        (grant, node.waker.take())
    }

    /// The entry under `key`, if there is one (`NIL` or a vacant key: none).
    fn get_mut(&mut self, key: usize) -> Option<&mut Node> {
        self.v.get_mut(key).filter(|node| node.grant != FREE)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.len
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Index<usize> for Nodes {
    type Output = Node;

    #[inline]
    fn index(&self, key: usize) -> &Node {
        let node = &self.v[key];
        debug_assert_ne!(node.grant, FREE);
        node
    }
}

impl IndexMut<usize> for Nodes {
    #[inline]
    fn index_mut(&mut self, key: usize) -> &mut Node {
        let node = &mut self.v[key];
        debug_assert_ne!(node.grant, FREE);
        node
    }
}

impl WaitList {
    /// True if no waiter is linked (granted ones do not count).
    pub(crate) fn is_empty(&self) -> bool {
        self.waiting == 0
    }

    /// Enqueues a waiter at the back; returns its key.
    pub(crate) fn push(&mut self, waker: Waker) -> usize {
        self.push_with(waker, 1, 0)
    }

    /// Enqueues a waiter for `need` units at the back; returns its key.
    pub(crate) fn push_needing(&mut self, waker: Waker, need: usize) -> usize {
        self.push_with(waker, need, 0)
    }

    /// Enqueues a waiter carrying `tag` at the back; returns its key.
    pub(crate) fn push_tagged(&mut self, waker: Waker, tag: u8) -> usize {
        self.push_with(waker, 1, tag)
    }

    #[inline(always)]
    fn push_with(&mut self, waker: Waker, need: usize, tag: u8) -> usize {
        let tail = self.tail;
        let key = self.nodes.insert(Node {
            waker: Some(waker),
            grant: WAITING,
            tag,
            need,
            prev: tail,
            next: NIL,
        });
        match tail {
            NIL => self.head = key,
            tail => self.nodes[tail].next = key,
        }
        self.tail = key;
        self.waiting += 1;
        key
    }

    /// Links an entry that is out of the line (granted or idle) at the back.
    #[inline]
    fn link(&mut self, key: usize) {
        let node = &mut self.nodes[key];
        debug_assert_ne!(node.grant, WAITING);
        node.grant = WAITING;
        node.prev = self.tail;
        node.next = NIL;
        match self.tail {
            NIL => self.head = key,
            tail => self.nodes[tail].next = key,
        }
        self.tail = key;
        self.waiting += 1;
    }

    /// The tag of the first waiter still linked, if any.
    #[inline]
    pub(crate) fn front_tag(&self) -> Option<u8> {
        match self.head {
            NIL => None,
            key => Some(self.nodes[key].tag),
        }
    }

    /// What the waiter was granted (`WAITING` if nothing yet).
    #[inline]
    pub(crate) fn grant(&self, key: usize) -> Grant {
        self.nodes[key].grant
    }

    /// True if the stored waker would wake the same task as `waker`.
    #[inline]
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
    #[inline]
    pub(crate) fn remove(&mut self, key: usize) -> (Grant, Option<Waker>) {
        if self.nodes[key].grant == WAITING {
            self.unlink(key);
        }
        self.nodes.remove(key)
    }

    /// Grants the first waiter `grant` and returns its waker, to be woken
    /// by the caller once no borrow is held. `None` if nobody waits.
    #[inline]
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

    #[inline]
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

    /// Grants every waiter `grant` in one walk down the line, waking those
    /// it can in place; the key and waker of each other one go to `rest`.
    fn grant_all_with(&mut self, grant: Grant, mut rest: impl FnMut(usize, Waker)) {
        debug_assert_ne!(grant, WAITING);
        with_local_waker(|local| {
            let mut key = self.head;
            while key != NIL {
                let node = &mut self.nodes[key];
                node.grant = grant;
                let next = node.next;
                if let Some(waker) = node.wake_or_take(local) {
                    rest(key, waker);
                }
                key = next;
            }
        });
        self.head = NIL;
        self.tail = NIL;
        self.waiting = 0;
    }

    /// Grants every waiter `grant` in one walk down the line, waking those
    /// it can in place; the wakers of the others go to `out`.
    pub(crate) fn grant_all(&mut self, grant: Grant, out: &mut Vec<Waker>) {
        self.grant_all_with(grant, |_, waker| out.push(waker));
    }

    #[inline]
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

/// For a future polled again while it has an entry: if the entry was
/// granted, removes it and returns the grant; otherwise makes sure the entry
/// holds the waker of this poll and returns `WAITING`. The waker is cloned
/// and the old one dropped with no borrow held.
#[inline(always)]
pub(crate) fn poll_entry(list: &RefCell<WaitList>, key: usize, waker: &Waker) -> Grant {
    let mut l = list.borrow_mut();
    let grant = l.grant(key);
    if grant != WAITING {
        // A granted entry's waker was taken when it was granted, but drop
        // whatever is left with no borrow held.
        let (_, waker) = l.remove(key);
        drop(l);
        drop(waker);
        return grant;
    }
    if l.will_wake(key, waker) {
        return WAITING;
    }
    drop(l);
    let waker = waker.clone();
    let old = list.borrow_mut().set_waker(key, waker);
    drop(old);
    WAITING
}

/// Enqueues a waiter for `cx`'s task, carrying `tag`; returns its key.
#[inline]
pub(crate) fn enqueue(list: &RefCell<WaitList>, cx: &Context<'_>, tag: u8) -> usize {
    // Cloned before the borrow: a waker's clone is its owner's code.
    let waker = cx.waker().clone();
    list.borrow_mut().push_tagged(waker, tag)
}

/// Removes the entry of a future that gives up (dropped, or done another
/// way) and returns what it had been granted: `WAITING` if nothing, in which
/// case it simply left the line. The caller passes on anything else.
pub(crate) fn leave(list: &RefCell<WaitList>, key: usize) -> Grant {
    let (grant, waker) = list.borrow_mut().remove(key);
    drop(waker);
    grant
}

/// Lets `choose` grant waiters (it pushes their wakers onto the vector it
/// is given), then wakes them once the list is no longer borrowed: every
/// waker runs with the state already settled, and one that re-enters the
/// primitive finds it consistent. Waiters that join while the wakers run
/// are not granted by this call.
pub(crate) fn grant_and_wake(
    list: &RefCell<WaitList>,
    choose: impl FnOnce(&mut WaitList, &mut Vec<Waker>),
) {
    let mut wakers = {
        let mut l = list.borrow_mut();
        let mut wakers = std::mem::take(&mut l.spare);
        choose(&mut l, &mut wakers);
        if wakers.is_empty() {
            l.spare = wakers;
            return;
        }
        wakers
    };
    for waker in wakers.drain(..) {
        waker.wake();
    }
    let mut l = list.borrow_mut();
    if l.spare.capacity() < wakers.capacity() {
        l.spare = wakers;
    }
}

/// Grants every waiter linked now `grant` and wakes them.
pub(crate) fn wake_all(list: &RefCell<WaitList>, grant: Grant) {
    if list.borrow().is_empty() {
        return;
    }
    grant_and_wake(list, |l, out| l.grant_all(grant, out));
}

/// Waits in `list` through an entry the caller keeps from one wait to the
/// next in `key` (made on the first wait): links it back at the end of the
/// line if it is out of it, and gives it this poll's waker unless the one
/// it holds wakes the same task. The caller checks for a grant itself (it
/// looks at its own state: a value, a version) and calls [`unpark`] when it
/// stops waiting, and [`leave`] when it goes for good.
#[inline]
pub(crate) fn park(list: &RefCell<WaitList>, key: &mut Option<usize>, waker: &Waker) {
    // The common case, kept small enough to inline into a receiver's poll:
    // an entry that holds this task's waker already.
    if let Some(k) = *key {
        let mut l = list.borrow_mut();
        if l.nodes[k].grant != WAITING {
            l.link(k);
        }
        if l.will_wake(k, waker) {
            return;
        }
    }
    park_anew(list, key, waker);
}

/// The rest of [`park`]: a first wait, or a new waker for the entry (which
/// is linked already).
#[inline(never)]
fn park_anew(list: &RefCell<WaitList>, key: &mut Option<usize>, waker: &Waker) {
    let waker = waker.clone();
    match *key {
        None => *key = Some(list.borrow_mut().push(waker)),
        Some(k) => {
            let old = list.borrow_mut().set_waker(k, waker);
            drop(old);
        }
    }
}

/// Takes a kept entry out of the line if it is in it; it stays, with its
/// waker, for the next [`park`]. A waiter that stops waiting because it
/// found what it waited for may skip this: left in the line, its entry
/// costs at most one spurious wake.
pub(crate) fn unpark(list: &RefCell<WaitList>, key: usize) {
    let mut l = list.borrow_mut();
    if l.nodes[key].grant == WAITING {
        l.unlink(key);
    }
    l.nodes[key].grant = IDLE;
}

/// Grants every waiter linked now, all of them kept entries (see [`park`]),
/// and wakes each: in place where it can (the waker stays in the entry),
/// else by reference with no borrow held, after which the entry gets its
/// waker back. Either way its next wait need not clone one.
pub(crate) fn wake_all_kept(list: &RefCell<WaitList>, grant: Grant) {
    let mut woken = {
        let mut l = list.borrow_mut();
        if l.is_empty() {
            return;
        }
        let mut woken = std::mem::take(&mut l.spare_kept);
        l.grant_all_with(grant, |key, waker| woken.push((key, waker)));
        if woken.is_empty() {
            l.spare_kept = woken;
            return;
        }
        woken
    };
    for (_, waker) in &woken {
        waker.wake_by_ref();
    }
    // A waker whose entry went away meanwhile (its receiver was dropped, or
    // waits anew with another waker) is dropped after the borrow.
    let mut unwanted = Vec::new();
    let mut l = list.borrow_mut();
    for (key, waker) in woken.drain(..) {
        match l.nodes.get_mut(key) {
            Some(node) if node.grant != WAITING && node.waker.is_none() => node.waker = Some(waker),
            _ => unwanted.push(waker),
        }
    }
    if l.spare_kept.capacity() < woken.capacity() {
        l.spare_kept = woken;
    }
    drop(l);
    drop(unwanted);
}

/// A future that waits in `list` until granted, and gives the grant.
/// Dropped while waiting it leaves the line; dropped after a grant it
/// drops the grant, so it suits grants nobody needs to pass on (a wake of
/// everyone). A primitive whose grants must be passed on calls
/// [`Wait::cancel`] in its own drop first.
pub(crate) struct Wait<'a> {
    list: &'a RefCell<WaitList>,
    tag: u8,
    key: Option<usize>,
}

impl<'a> Wait<'a> {
    pub(crate) fn new(list: &'a RefCell<WaitList>, tag: u8) -> Wait<'a> {
        Wait {
            list,
            tag,
            key: None,
        }
    }

    /// Leaves the line if still in it. Returns what had been granted
    /// (`WAITING` if nothing yet), or `None` if the future held no entry.
    pub(crate) fn cancel(&mut self) -> Option<Grant> {
        let key = self.key.take()?;
        Some(leave(self.list, key))
    }
}

impl Future for Wait<'_> {
    type Output = Grant;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Grant> {
        match self.key {
            None => {
                self.key = Some(enqueue(self.list, cx, self.tag));
                Poll::Pending
            }
            Some(key) => match poll_entry(self.list, key, cx.waker()) {
                WAITING => Poll::Pending,
                grant => {
                    self.key = None;
                    Poll::Ready(grant)
                }
            },
        }
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        self.cancel();
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
    fn kept_entries_are_reused_with_their_wakers() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::task::Wake;

        struct Count(AtomicUsize);
        impl Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let list = RefCell::new(WaitList::default());
        let (mut a, mut b) = (None, None);
        park(&list, &mut a, &waker);
        park(&list, &mut b, &noop());
        park(&list, &mut a, &waker); // still waiting: nothing changes
        assert_eq!(list.borrow().waiting, 2);
        wake_all_kept(&list, 1);
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert!(list.borrow().is_empty());
        // Woken by reference: the entry got its waker back, no clone left.
        assert_eq!(Arc::strong_count(&count), 3);
        // Waiting again reuses the entry and keeps the waker.
        park(&list, &mut a, &waker);
        assert_eq!(list.borrow().nodes.len(), 2);
        assert_eq!(Arc::strong_count(&count), 3);
        assert_eq!(list.borrow().front_tag(), Some(0));
        unpark(&list, a.unwrap());
        assert!(list.borrow().is_empty());
        unpark(&list, a.unwrap()); // idle already: harmless
        assert_eq!(leave(&list, a.unwrap()), IDLE);
        assert_eq!(Arc::strong_count(&count), 2, "leaving drops the kept waker");
        leave(&list, b.unwrap());
        assert!(list.borrow().nodes.is_empty());
    }

    #[test]
    fn vacant_entries_are_reused_last_freed_first() {
        let mut list = WaitList::default();
        let keys: Vec<usize> = (0..4).map(|_| list.push(noop())).collect();
        assert_eq!(keys, [0, 1, 2, 3]);
        list.remove(1);
        list.remove(3);
        assert!(list.nodes.get_mut(1).is_none() && list.nodes.get_mut(3).is_none());
        assert!(list.nodes.get_mut(NIL).is_none() && list.nodes.get_mut(4).is_none());
        assert_eq!(list.nodes.len(), 2);
        assert_eq!(list.push(noop()), 3);
        assert_eq!(list.push(noop()), 1);
        assert_eq!(list.push(noop()), 4);
        // The line is still in arrival order, over reused keys.
        for grant in 1..=5 {
            assert!(list.grant_front(grant).is_some());
        }
        for (k, grant) in [0, 2, 3, 1, 4].into_iter().zip(1..) {
            assert_eq!(list.remove(k).0, grant);
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
