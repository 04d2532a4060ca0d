//! The timer driver: the wheel, tied to a clock and to wakers.
//!
//! Each runtime has one, shared (`Rc`) by the `Sleep`s registered with it so
//! that a `Sleep` can be dropped anywhere on the thread, even after its
//! runtime is gone. Ticks are milliseconds since the driver was made. A
//! deadline rounds *up* to a tick, and the present rounds *down*, so a timer
//! never fires before its deadline.
//!
//! The loop asks [`next_deadline`](TimerDriver::next_deadline) how long it
//! may sleep and calls [`fire`](TimerDriver::fire) after each look outside.

use std::cell::{Cell, RefCell};
use std::task::Waker;
use std::time::{Duration, Instant};

use super::wheel::Wheel;

pub(crate) struct TimerDriver {
    start: Instant,
    wheel: RefCell<Wheel<Option<Waker>>>,
    /// Reused buffers for `fire`, so a loop turn allocates nothing.
    expired: RefCell<Vec<usize>>,
    wakers: RefCell<Vec<Waker>>,
    closed: Cell<bool>,
}

impl TimerDriver {
    pub(crate) fn new() -> TimerDriver {
        TimerDriver {
            start: Instant::now(),
            wheel: RefCell::new(Wheel::new()),
            expired: RefCell::new(Vec::new()),
            wakers: RefCell::new(Vec::new()),
            closed: Cell::new(false),
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.get()
    }

    /// The first tick at or after `deadline`.
    pub(crate) fn deadline_tick(&self, deadline: Instant) -> u64 {
        let since = deadline.saturating_duration_since(self.start);
        // Plain u64 arithmetic (a u128 division was a visible cost here).
        let ms = since.as_secs().saturating_mul(1000);
        ms.saturating_add(u64::from(since.subsec_nanos()).div_ceil(1_000_000))
    }

    fn now_tick(&self, now: Instant) -> u64 {
        let since = now.saturating_duration_since(self.start);
        since
            .as_secs()
            .saturating_mul(1000)
            .saturating_add(u64::from(since.subsec_millis()))
    }

    fn tick_instant(&self, tick: u64) -> Instant {
        self.start
            .checked_add(Duration::from_millis(tick))
            .unwrap_or(self.start + super::FAR_FUTURE)
    }

    /// The tick the driver last fired up to: a deadline at or before it is
    /// in the past, without reading the clock.
    pub(crate) fn elapsed_tick(&self) -> u64 {
        self.wheel.borrow().elapsed()
    }

    // A waker's clone and drop are foreign code that may poll or drop
    // another sleep of this runtime: none runs while the wheel is borrowed.

    /// Adds a timer for `tick`, waking `waker` when it fires.
    #[inline]
    pub(crate) fn insert(&self, tick: u64, waker: &Waker) -> usize {
        let waker = waker.clone();
        self.wheel.borrow_mut().insert(tick, Some(waker))
    }

    /// True if the timer fired; otherwise makes sure `waker` is the one woken.
    pub(crate) fn poll(&self, key: usize, waker: &Waker) -> bool {
        {
            let mut wheel = self.wheel.borrow_mut();
            if wheel.is_expired(key) {
                return true;
            }
            if wheel
                .get_mut(key)
                .as_ref()
                .is_some_and(|w| w.will_wake(waker))
            {
                return false;
            }
        }
        let new = waker.clone();
        let old = {
            let mut wheel = self.wheel.borrow_mut();
            // The clone may have driven this runtime's timers (a waker can
            // do anything): look again.
            if wheel.is_expired(key) {
                None
            } else {
                wheel.get_mut(key).replace(new)
            }
        };
        drop(old);
        self.is_expired(key)
    }

    pub(crate) fn is_expired(&self, key: usize) -> bool {
        self.wheel.borrow().is_expired(key)
    }

    /// Moves a timer to a new tick, without a new allocation. A tick the
    /// wheel has already passed fires the timer now (its waker is woken), as
    /// a new sleep with that deadline would be done at its first poll.
    pub(crate) fn reset(&self, key: usize, tick: u64) {
        let fired = {
            let mut wheel = self.wheel.borrow_mut();
            if tick <= wheel.elapsed() {
                wheel.expire(key, tick);
                wheel.get_mut(key).take()
            } else {
                wheel.reset(key, tick);
                None
            }
        };
        if let Some(waker) = fired {
            waker.wake();
        }
    }

    pub(crate) fn remove(&self, key: usize) {
        if self.closed.get() {
            return; // the wheel was emptied with the runtime
        }
        let waker = self.wheel.borrow_mut().remove(key);
        drop(waker);
    }

    /// When the next timer is due, if any (exact to the tick). The loop
    /// sleeps until then; `fire` catches up with any cascade on the way.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let tick = self.wheel.borrow_mut().next_deadline()?;
        Some(self.tick_instant(tick))
    }

    /// Fires every timer due by `now` (read from the clock if `None`), wakes
    /// their tasks, and returns how many fired. With no timer pending it does
    /// nothing, not even read the clock.
    pub(crate) fn fire(&self, now: Option<Instant>) -> usize {
        if self.wheel.borrow().next_expiration().is_none() {
            return 0;
        }
        let now = self.now_tick(now.unwrap_or_else(Instant::now));
        // Waking runs foreign code (a waker may be anyone's), so the wakers
        // are collected first and woken with no borrow held; the buffers
        // are reused, so firing allocates nothing once warm.
        let mut batch = std::mem::take(&mut *self.wakers.borrow_mut());
        {
            let mut expired = self.expired.borrow_mut();
            let mut wheel = self.wheel.borrow_mut();
            wheel.advance(now, &mut expired);
            batch.extend(
                expired
                    .drain(..)
                    .filter_map(|key| wheel.get_mut(key).take()),
            );
        }
        let fired = batch.len();
        for waker in batch.drain(..) {
            waker.wake();
        }
        *self.wakers.borrow_mut() = batch;
        fired
    }

    /// The runtime is being dropped: forget every timer. Sleeps still
    /// registered here re-register with the runtime that polls them next.
    pub(crate) fn close(&self) {
        self.closed.set(true);
        let wheel = std::mem::replace(&mut *self.wheel.borrow_mut(), Wheel::new());
        drop(wheel);
    }
}
