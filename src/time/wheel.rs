//! The timer wheel: a plain data structure that knows ticks, not clocks.
//!
//! A hierarchical timing wheel after Varghese and Lauck: six levels of 64
//! slots. A slot at level `L` spans `64^L` ticks, so level 0 holds the next
//! 64 ticks one per slot, level 1 the next 4096 in slots of 64, and so on up
//! to `64^6` ticks (at 1 ms a tick, about 2.2 years). A timer goes to the
//! lowest level whose slot still separates it from the present; when the
//! wheel reaches a higher-level slot, its timers move down ("cascade") to
//! finer levels, and level-0 slots expire.
//!
//! - Insert and cancel are O(1): each slot is an intrusive doubly linked list
//!   through the entries, which live in a `Slab`; removing an entry unlinks
//!   it and frees its slab slot, so cancelled timers leave nothing behind.
//! - The next expiration is O(levels): each level keeps a 64-bit mask of its
//!   occupied slots, and all occupied slots of a level lie ahead of the
//!   present in the current window, so the lowest set bit is the next one.
//! - The next deadline (what the loop sleeps until) is exact, not the start
//!   of a coarse slot: each slot keeps the earliest deadline in it, updated
//!   on insert, so a host waiting on eddy's fd is not woken for a cascade.
//!   When that very entry leaves, the slot's minimum is only marked stale
//!   (a lower bound), and walked again when the loop next asks for the
//!   next deadline, if this slot is the one that answers. Timeouts of one
//!   length cancelled in the order they were set (a server's request
//!   timeouts) remove the earliest entry each time: that costs one walk
//!   per sleep of the loop, not one per removal.
//! - A timer more than `64^6` ticks away waits in an overflow list, and is
//!   moved into the wheel when the present enters its top-level window, so
//!   it never fires early.
//!
//! An entry stays in the slab after it expires (marked expired) until its
//! owner removes it: the owner (a `Sleep`) learns that it fired by looking at
//! its own entry, and a key is never reused while its owner holds it.
//!
//! Time is passed in: `advance(now)` with `now` in ticks. The wheel has no
//! clock, does no I/O and knows nothing of tasks, so it is tested on its own
//! against a simple model.

use slab::Slab;

const LEVELS: usize = 6;
const SLOT_BITS: u32 = 6;
const SLOTS: usize = 1 << SLOT_BITS;
/// Ticks the levels cover; a timer further away waits in the overflow list.
const RANGE_BITS: u32 = SLOT_BITS * LEVELS as u32;

const NIL: usize = usize::MAX;

/// Where an entry is linked.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Place {
    Slot {
        level: u8,
        slot: u8,
    },
    /// Beyond the wheel's range.
    Overflow,
    /// Due already; handed out by the next `advance`.
    Due,
    /// Handed out by `advance`; linked nowhere.
    Expired,
}

struct Entry<T> {
    value: T,
    deadline: u64,
    place: Place,
    prev: usize,
    next: usize,
}

/// A list head: the first entry of a slot (or of the overflow/due lists).
#[derive(Clone, Copy)]
struct List {
    head: usize,
}

impl List {
    const EMPTY: List = List { head: NIL };
}

pub(crate) struct Wheel<T> {
    entries: Slab<Entry<T>>,
    slots: [[List; SLOTS]; LEVELS],
    /// Bit `s` of `occupied[l]` is set when slot `s` of level `l` is not empty.
    occupied: [u64; LEVELS],
    /// The earliest deadline in each slot (meaningful while it is occupied),
    /// or a lower bound of it where the slot's bit in `stale_min` is set.
    slot_min: [[u64; SLOTS]; LEVELS],
    /// Bit `s` of `stale_min[l]`: the earliest entry of that slot left, and
    /// `slot_min` has not been walked again since.
    stale_min: [u64; LEVELS],
    overflow: List,
    /// No overflow entry has a deadline below this (it may be lower than the
    /// true minimum after a removal; that only costs an early look).
    overflow_min: u64,
    due: List,
    /// The tick the wheel has advanced to.
    elapsed: u64,
}

impl<T> Wheel<T> {
    pub(crate) fn new() -> Wheel<T> {
        Wheel {
            entries: Slab::new(),
            slots: [[List::EMPTY; SLOTS]; LEVELS],
            occupied: [0; LEVELS],
            slot_min: [[u64::MAX; SLOTS]; LEVELS],
            stale_min: [0; LEVELS],
            overflow: List::EMPTY,
            overflow_min: u64::MAX,
            due: List::EMPTY,
            elapsed: 0,
        }
    }

    /// The tick the wheel has advanced to.
    pub(crate) fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// How many entries the wheel holds, expired ones included.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Adds a timer due at tick `deadline` and returns its key. A deadline
    /// not after `elapsed` is due at once: the next `advance` hands it out.
    pub(crate) fn insert(&mut self, deadline: u64, value: T) -> usize {
        let key = self.entries.insert(Entry {
            value,
            deadline,
            place: Place::Expired,
            prev: NIL,
            next: NIL,
        });
        self.place(key);
        key
    }

    /// Removes an entry (pending or expired) and returns its value.
    /// Panics if `key` is not in the wheel.
    pub(crate) fn remove(&mut self, key: usize) -> T {
        self.unlink(key);
        self.entries.remove(key).value
    }

    /// Moves an entry (pending or expired) to a new deadline, in place.
    ///
    /// A deadline that falls in the slot the entry is in already (an idle
    /// timeout pushed back by a few milliseconds: slots above level 0 span
    /// 64 ticks and more) only updates the entry and the slot's minimum.
    pub(crate) fn reset(&mut self, key: usize, deadline: u64) {
        let entry = &mut self.entries[key];
        if let Place::Slot { level, slot } = entry.place {
            let (level, slot) = (level as usize, slot as usize);
            // Same slot: the same bits above the slot's span. The slot lies
            // ahead of the present (it would have moved down otherwise), so
            // the new deadline does too.
            if (entry.deadline ^ deadline) >> (SLOT_BITS * level as u32) == 0 {
                let old = std::mem::replace(&mut entry.deadline, deadline);
                let min = &mut self.slot_min[level][slot];
                if deadline <= *min {
                    // The earliest now (a stale minimum is a lower bound).
                    *min = deadline;
                } else if old == *min {
                    // The earliest moved later: as if it had left.
                    self.stale_min[level] |= 1 << slot;
                }
                return;
            }
        }
        self.unlink(key);
        self.entries[key].deadline = deadline;
        self.place(key);
    }

    /// Marks an entry (pending or expired) as handed out now, with a new
    /// deadline that the wheel has already passed: what `advance` would have
    /// done, without waiting for it.
    pub(crate) fn expire(&mut self, key: usize, deadline: u64) {
        debug_assert!(deadline <= self.elapsed);
        self.unlink(key);
        self.entries[key].deadline = deadline;
    }

    /// The entry's value.
    pub(crate) fn get_mut(&mut self, key: usize) -> &mut T {
        &mut self.entries[key].value
    }

    /// True once `advance` has handed the entry out (and no `reset` since).
    pub(crate) fn is_expired(&self, key: usize) -> bool {
        self.entries[key].place == Place::Expired
    }

    /// The earliest tick at which `advance` has something to do: an entry to
    /// hand out, or entries to move down a level. `None` when no entry waits.
    pub(crate) fn next_expiration(&self) -> Option<u64> {
        if self.due.head != NIL {
            return Some(self.elapsed);
        }
        // Lower levels always come first: a level's slots all lie before the
        // next level's first slot.
        let wheel = (0..LEVELS)
            .find(|&l| self.occupied[l] != 0)
            .map(|level| self.wheel_slot_time(level));
        let overflow = (self.overflow.head != NIL).then(|| {
            // The overflow entries can move in when the present reaches the
            // top-level window of the earliest of them.
            (self.overflow_min >> RANGE_BITS << RANGE_BITS).max(self.elapsed + 1)
        });
        match (wheel, overflow) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The earliest deadline of the entries not yet handed out (`elapsed` if
    /// some are due already); `None` when no entry waits. Never later than
    /// the true earliest deadline, and equal to it unless that entry is in
    /// the overflow list (more than `64^6` ticks away) where an entry
    /// removed may leave a lower bound.
    pub(crate) fn next_deadline(&mut self) -> Option<u64> {
        if self.due.head != NIL {
            return Some(self.elapsed);
        }
        // The earliest entry is in the first occupied slot of the lowest
        // occupied level (see `next_expiration`).
        if let Some(level) = (0..LEVELS).find(|&l| self.occupied[l] != 0) {
            let slot = self.occupied[level].trailing_zeros() as usize;
            if self.stale_min[level] & (1 << slot) != 0 {
                self.stale_min[level] &= !(1 << slot);
                let mut min = u64::MAX;
                let mut k = self.slots[level][slot].head;
                while k != NIL {
                    min = min.min(self.entries[k].deadline);
                    k = self.entries[k].next;
                }
                self.slot_min[level][slot] = min;
            }
            return Some(self.slot_min[level][slot]);
        }
        (self.overflow.head != NIL).then_some(self.overflow_min.max(self.elapsed + 1))
    }

    /// Advances the wheel to tick `now` and pushes the key of every entry
    /// due by then (deadline `<= now`) onto `expired`. Their values stay in
    /// the wheel until removed. A `now` in the past is treated as `elapsed`.
    pub(crate) fn advance(&mut self, now: u64, expired: &mut Vec<usize>) {
        self.take_due(expired);
        while let Some(at) = self.next_expiration() {
            if at > now {
                break;
            }
            self.elapsed = at;
            match (0..LEVELS).find(|&l| self.occupied[l] != 0) {
                Some(level) if self.wheel_slot_time(level) == at => {
                    let slot = self.occupied[level].trailing_zeros() as usize;
                    let mut key = self.slots[level][slot].head;
                    self.slots[level][slot] = List::EMPTY;
                    self.occupied[level] &= !(1 << slot);
                    self.stale_min[level] &= !(1 << slot);
                    while key != NIL {
                        let next = self.entries[key].next;
                        // Level 0 expires; higher levels move down (or are
                        // due, if the deadline is this very tick).
                        self.entries[key].place = Place::Expired;
                        self.place(key);
                        key = next;
                    }
                }
                _ => self.refill_from_overflow(),
            }
            self.take_due(expired);
        }
        self.elapsed = self.elapsed.max(now);
    }

    /// The start tick of a level's next occupied slot. Every occupied slot of
    /// a level lies ahead of the present, within the present's window at that
    /// level, so the lowest set bit is the next one.
    fn wheel_slot_time(&self, level: usize) -> u64 {
        let slot = self.occupied[level].trailing_zeros() as u64;
        let shift = SLOT_BITS * level as u32;
        (self.elapsed >> (shift + SLOT_BITS) << (shift + SLOT_BITS)) + (slot << shift)
    }

    /// Moves the overflow entries whose deadline is now within range into the wheel.
    fn refill_from_overflow(&mut self) {
        let mut key = self.overflow.head;
        self.overflow = List::EMPTY;
        self.overflow_min = u64::MAX;
        while key != NIL {
            let next = self.entries[key].next;
            self.entries[key].place = Place::Expired;
            self.place(key);
            key = next;
        }
    }

    fn take_due(&mut self, expired: &mut Vec<usize>) {
        let mut key = self.due.head;
        self.due = List::EMPTY;
        while key != NIL {
            let entry = &mut self.entries[key];
            let next = entry.next;
            entry.place = Place::Expired;
            entry.prev = NIL;
            entry.next = NIL;
            expired.push(key);
            key = next;
        }
    }

    /// Where an entry due at `deadline` belongs, relative to `elapsed`.
    #[inline]
    fn place_of(&self, deadline: u64) -> Place {
        if deadline <= self.elapsed {
            return Place::Due;
        }
        // The highest bit in which the deadline and the present differ
        // picks the level: the lowest one whose window holds both.
        let significant = 63 - ((deadline ^ self.elapsed) | (SLOTS as u64 - 1)).leading_zeros();
        let level = (significant / SLOT_BITS) as usize;
        if level >= LEVELS {
            Place::Overflow
        } else {
            let slot = (deadline >> (SLOT_BITS * level as u32)) as usize & (SLOTS - 1);
            Place::Slot {
                level: level as u8,
                slot: slot as u8,
            }
        }
    }

    /// Links an unlinked entry where its deadline says, relative to `elapsed`.
    fn place(&mut self, key: usize) {
        let deadline = self.entries[key].deadline;
        let place = self.place_of(deadline);
        let list = match place {
            Place::Slot { level, slot } => {
                let (level, slot) = (level as usize, slot as usize);
                let min = &mut self.slot_min[level][slot];
                *min = if self.occupied[level] & (1 << slot) == 0 {
                    self.stale_min[level] &= !(1 << slot);
                    deadline
                } else {
                    (*min).min(deadline)
                };
                self.occupied[level] |= 1 << slot;
                &mut self.slots[level][slot]
            }
            Place::Overflow => {
                self.overflow_min = self.overflow_min.min(deadline);
                &mut self.overflow
            }
            Place::Due => &mut self.due,
            Place::Expired => unreachable!(),
        };
        let head = list.head;
        list.head = key;
        let entry = &mut self.entries[key];
        entry.place = place;
        entry.prev = NIL;
        entry.next = head;
        if head != NIL {
            self.entries[head].prev = key;
        }
    }

    /// Takes an entry out of whatever list holds it.
    fn unlink(&mut self, key: usize) {
        let Entry {
            place, prev, next, ..
        } = self.entries[key];
        if place == Place::Expired {
            return;
        }
        if next != NIL {
            self.entries[next].prev = prev;
        }
        if prev != NIL {
            self.entries[prev].next = next;
        } else {
            let list = match place {
                Place::Slot { level, slot } => {
                    if next == NIL {
                        self.occupied[level as usize] &= !(1 << slot);
                    }
                    &mut self.slots[level as usize][slot as usize]
                }
                Place::Overflow => &mut self.overflow,
                Place::Due => &mut self.due,
                Place::Expired => unreachable!(),
            };
            list.head = next;
        }
        let entry = &mut self.entries[key];
        entry.place = Place::Expired;
        entry.prev = NIL;
        entry.next = NIL;
        if let Place::Slot { level, slot } = place {
            let (level, slot) = (level as usize, slot as usize);
            // Only the slot's earliest entry leaving changes its minimum:
            // the walk waits for `next_deadline` to need it.
            if self.occupied[level] & (1 << slot) != 0
                && self.entries[key].deadline == self.slot_min[level][slot]
            {
                self.stale_min[level] |= 1 << slot;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

    #[derive(Clone, Debug)]
    enum Op {
        Insert(u64),
        Remove(usize),
        Reset(usize, u64),
        /// Moves an entry's deadline by a little (often within its slot).
        Nudge(usize, i64),
        Advance(u64),
    }

    /// A small deterministic generator (xorshift64*): the model test needs
    /// varied operations, not a statistics-grade source, and a seed that
    /// replays a failure exactly.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        /// Uniform enough in `0..n` for `n > 0`.
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        /// Picks an index by weight.
        fn weighted(&mut self, weights: &[u64]) -> usize {
            let mut r = self.below(weights.iter().sum());
            for (i, &w) in weights.iter().enumerate() {
                if r < w {
                    return i;
                }
                r -= w;
            }
            unreachable!()
        }

        /// Distances from the present: mostly near, some in every level,
        /// some beyond the wheel's range, and zero (due at once).
        fn distance(&mut self) -> u64 {
            match self.weighted(&[4, 3, 2, 1, 1, 1]) {
                0 => self.below(70),
                1 => self.below(5_000),
                2 => self.below(1 << 24),
                3 => self.below(1 << 38),
                4 => 0,
                _ => (1 << 36) + self.below(1 << 36),
            }
        }

        fn op(&mut self) -> Op {
            match self.weighted(&[4, 2, 1, 2, 3]) {
                0 => Op::Insert(self.distance()),
                1 => Op::Remove(self.next() as usize),
                2 => Op::Reset(self.next() as usize, self.distance()),
                3 => Op::Nudge(self.next() as usize, self.below(200) as i64 - 100),
                _ => Op::Advance(self.distance()),
            }
        }
    }

    /// The wheel hands out exactly the entries a sorted map of deadlines
    /// says are due: none before its deadline, none after the advance that
    /// reaches it. 512 random sequences of up to 200 operations; a failure
    /// names its seed and the operations so far.
    #[test]
    fn matches_a_model() {
        for seed in 1..=512u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let len = 1 + rng.below(199) as usize;
            let ops: Vec<Op> = (0..len).map(|_| rng.op()).collect();
            let result = std::panic::catch_unwind(|| check_against_model(&ops));
            if let Err(payload) = result {
                eprintln!("wheel model test failed with seed {seed}: ops {ops:?}");
                std::panic::resume_unwind(payload);
            }
        }
    }

    fn check_against_model(ops: &[Op]) {
        let mut wheel = Wheel::new();
        // key -> deadline, for entries not yet handed out
        let mut pending: BTreeMap<usize, u64> = BTreeMap::new();
        let mut expired: BTreeSet<usize> = BTreeSet::new();
        let mut out = Vec::new();
        for op in ops.iter().cloned() {
            let now = wheel.elapsed();
            match op {
                Op::Insert(d) => {
                    let key = wheel.insert(now + d, now + d);
                    assert!(!pending.contains_key(&key) && !expired.contains(&key));
                    pending.insert(key, now + d);
                }
                Op::Remove(i) => {
                    let keys: Vec<usize> = pending.keys().chain(expired.iter()).copied().collect();
                    if !keys.is_empty() {
                        let key = keys[i % keys.len()];
                        let value = wheel.remove(key);
                        assert_eq!(
                            Some(value),
                            pending.remove(&key).or(expired.take(&key).map(|_| value))
                        );
                    }
                }
                Op::Reset(i, d) => {
                    let keys: Vec<usize> = pending.keys().chain(expired.iter()).copied().collect();
                    if !keys.is_empty() {
                        let key = keys[i % keys.len()];
                        wheel.reset(key, now + d);
                        *wheel.get_mut(key) = now + d;
                        expired.remove(&key);
                        pending.insert(key, now + d);
                    }
                }
                Op::Nudge(i, delta) => {
                    let keys: Vec<usize> = pending.keys().copied().collect();
                    if !keys.is_empty() {
                        let key = keys[i % keys.len()];
                        let at = pending[&key].saturating_add_signed(delta).max(now);
                        wheel.reset(key, at);
                        *wheel.get_mut(key) = at;
                        pending.insert(key, at);
                    }
                }
                Op::Advance(d) => {
                    let to = now + d;
                    out.clear();
                    wheel.advance(to, &mut out);
                    let due: BTreeSet<usize> = pending
                        .iter()
                        .filter(|(_, dl)| **dl <= to)
                        .map(|(k, _)| *k)
                        .collect();
                    let got: BTreeSet<usize> = out.iter().copied().collect();
                    assert_eq!(got.len(), out.len(), "an entry was handed out twice");
                    assert_eq!(&got, &due);
                    for key in got {
                        assert!(wheel.is_expired(key));
                        assert!(*wheel.get_mut(key) <= to, "fired early");
                        pending.remove(&key);
                        expired.insert(key);
                    }
                    assert_eq!(wheel.elapsed(), to);
                }
            }
            assert_eq!(wheel.len(), pending.len() + expired.len());
            // The wheel never asks to be woken later than the earliest deadline.
            let earliest = pending.values().min().copied();
            match (wheel.next_expiration(), earliest) {
                (None, None) => {}
                (Some(next), Some(earliest)) => {
                    assert!(next <= earliest.max(wheel.elapsed()));
                    assert!(next >= wheel.elapsed());
                }
                (next, earliest) => panic!("next {next:?} but earliest {earliest:?}"),
            }
            // The next deadline is exact (a lower bound only in the overflow list).
            let first = pending.iter().min_by_key(|(_, dl)| **dl);
            match (wheel.next_deadline(), first) {
                (None, None) => {}
                (Some(next), Some((&key, &earliest))) => {
                    let exact = earliest.max(wheel.elapsed());
                    if wheel.entries[key].place == Place::Overflow {
                        assert!(next <= exact && next > wheel.elapsed());
                    } else {
                        assert_eq!(next, exact);
                    }
                }
                (next, first) => panic!("next deadline {next:?} but first {first:?}"),
            }
        }
    }

    #[test]
    fn far_deadlines_wait_in_overflow_and_never_fire_early() {
        let mut wheel = Wheel::new();
        let far = (1u64 << 36) * 3 + 12345;
        let key = wheel.insert(far, ());
        let mut out = Vec::new();
        // Walk there in big steps, following next_expiration like the loop does.
        while let Some(next) = wheel.next_expiration() {
            assert!(next <= far);
            wheel.advance(next, &mut out);
            if !out.is_empty() {
                break;
            }
            assert!(!wheel.is_expired(key));
        }
        assert_eq!(out, vec![key]);
        assert_eq!(wheel.elapsed(), far);
    }

    #[test]
    fn expire_hands_an_entry_out_at_once() {
        let mut wheel = Wheel::new();
        let mut out = Vec::new();
        wheel.advance(100, &mut out);
        let key = wheel.insert(5_000, ());
        let other = wheel.insert(150, ());
        wheel.expire(key, 90);
        assert!(wheel.is_expired(key));
        assert_eq!(wheel.next_deadline(), Some(150));
        wheel.advance(10_000, &mut out);
        assert_eq!(out, vec![other], "an expired entry is not handed out again");
        wheel.remove(key);
        wheel.remove(other);
        assert_eq!(wheel.len(), 0);
    }

    #[test]
    fn cancelled_entries_leave_nothing_behind() {
        let mut wheel = Wheel::new();
        for round in 0..1_000u64 {
            let keys: Vec<usize> = (0..100)
                .map(|i| wheel.insert(round * 7 + i * 997, ()))
                .collect();
            for key in keys {
                wheel.remove(key);
            }
            assert_eq!(wheel.len(), 0);
            assert_eq!(wheel.next_expiration(), None);
        }
        assert!(wheel.entries.capacity() <= 128);
    }

    #[test]
    fn earliest_entries_removed_in_turn_leave_an_exact_next_deadline() {
        // Request timeouts of one length: set in order, cancelled in order,
        // all in one coarse slot. The minimum is walked only when asked.
        let mut wheel = Wheel::new();
        let keys: Vec<usize> = (0..50).map(|i| wheel.insert(30_000 + i, ())).collect();
        assert_eq!(wheel.next_deadline(), Some(30_000));
        for (i, &key) in keys.iter().enumerate().take(10) {
            wheel.remove(key);
            if i % 3 == 0 {
                assert_eq!(wheel.next_deadline(), Some(30_001 + i as u64));
            }
        }
        assert_eq!(wheel.next_deadline(), Some(30_010));
        // An insert into a slot whose minimum is stale keeps it a lower bound.
        wheel.remove(keys[10]);
        let late = wheel.insert(30_040, ());
        assert_eq!(wheel.next_deadline(), Some(30_011));
        let early = wheel.insert(30_005, ());
        assert_eq!(wheel.next_deadline(), Some(30_005));
        wheel.remove(early);
        wheel.remove(late);
        assert_eq!(wheel.next_deadline(), Some(30_011));
        for &key in &keys[11..] {
            wheel.remove(key);
        }
        assert_eq!(wheel.next_deadline(), None);
    }
}
