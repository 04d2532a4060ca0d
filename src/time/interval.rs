//! `Interval`: ticks at a fixed period.

use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::{Sleep, sleep_until};

/// A tick later than this after its scheduled time counts as missed.
const MISSED_SLACK: Duration = Duration::from_millis(5);

/// Ticks every `period`, the first tick at once.
///
/// # Panics
///
/// If `period` is zero, with ``eddy: interval: `period` must be non-zero.``
///
/// ```
/// use std::time::Duration;
///
/// eddy::block_on(async {
///     let mut ticks = eddy::time::interval(Duration::from_millis(2));
///     let first = ticks.tick().await; // at once
///     let second = ticks.tick().await;
///     assert_eq!(second - first, Duration::from_millis(2));
/// });
/// ```
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Ticks every `period`, the first tick at `start`.
///
/// # Panics
///
/// If `period` is zero, with ``eddy: interval: `period` must be non-zero.``
///
/// ```
/// use std::time::{Duration, Instant};
///
/// eddy::block_on(async {
///     let start = Instant::now() + Duration::from_millis(5);
///     let mut ticks = eddy::time::interval_at(start, Duration::from_millis(2));
///     assert_eq!(ticks.tick().await, start); // not before `start`
///     assert_eq!(ticks.tick().await, start + Duration::from_millis(2));
/// });
/// ```
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    // Worded as tokio's, so tests written against tokio match it.
    assert!(
        !period.is_zero(),
        "eddy: interval: `period` must be non-zero."
    );
    Interval {
        sleep: sleep_until(start),
        period,
        missed: MissedTickBehavior::Burst,
    }
}

/// What an [`Interval`] does when a tick comes late (more than 5 ms after
/// it was scheduled, because the loop or the task was busy). As tokio's.
///
/// ```
/// use std::time::{Duration, Instant};
/// use eddy::time::{MissedTickBehavior, interval};
///
/// eddy::block_on(async {
///     let mut ticks = interval(Duration::from_millis(10));
///     ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
///     ticks.tick().await;
///     std::thread::sleep(Duration::from_millis(25)); // the loop is blocked: ticks are missed
///     let late = ticks.tick().await; // comes at once, 15 ms late
///     let next = ticks.tick().await; // one period after it was taken, not 10 ms after `late`
///     assert!(next >= late + Duration::from_millis(25));
/// });
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MissedTickBehavior {
    /// Catch up: the missed ticks come at once, one after another, then the
    /// schedule goes on as if nothing happened (the default).
    #[default]
    Burst,
    /// Start over: the next tick is one period after the late one.
    Delay,
    /// Drop the missed ticks: the next tick is the next one on the original
    /// schedule that is still ahead.
    Skip,
}

impl MissedTickBehavior {
    /// When the tick after a late one (scheduled at `scheduled`, taken at `now`) is due.
    fn next(self, scheduled: Instant, now: Instant, period: Duration) -> Instant {
        match self {
            MissedTickBehavior::Burst => after(scheduled, period),
            MissedTickBehavior::Delay => after(now, period),
            MissedTickBehavior::Skip => {
                let late = (now - scheduled).as_nanos() % period.as_nanos();
                // `late < period`, which is a `Duration`, so this fits.
                after(now, period - Duration::from_nanos(late as u64))
            }
        }
    }
}

fn after(instant: Instant, period: Duration) -> Instant {
    instant
        .checked_add(period)
        .unwrap_or_else(|| super::deadline_after(Duration::MAX))
}

/// The ticker returned by [`interval`] and [`interval_at`]: a [`Sleep`]
/// reset after each tick, so ticking allocates nothing.
///
/// ```
/// use std::time::Duration;
///
/// eddy::block_on(async {
///     let mut heartbeat = eddy::time::interval(Duration::from_millis(1));
///     for _ in 0..3 {
///         heartbeat.tick().await; // the first at once, then every millisecond
///     }
///     assert_eq!(heartbeat.period(), Duration::from_millis(1));
/// });
/// ```
#[derive(Debug)]
pub struct Interval {
    sleep: Sleep,
    period: Duration,
    missed: MissedTickBehavior,
}

impl Interval {
    /// Waits for the next tick and returns the instant it was scheduled for.
    /// Cancel-safe: dropped before it completes, it took no tick.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// eddy::block_on(async {
    ///     let mut ticks = eddy::time::interval(Duration::from_millis(2));
    ///     let first = ticks.tick().await;
    ///     let second = ticks.tick().await;
    ///     assert_eq!(second - first, Duration::from_millis(2));
    /// });
    /// ```
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// The polling form of [`tick`](Interval::tick).
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        // The first tick (of `interval`, or after `reset_immediately`) is
        // already due: take it without a round through the timer wheel.
        let due = !self.sleep.is_registered() && self.sleep.deadline() <= Instant::now();
        if !due && Pin::new(&mut self.sleep).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let scheduled = self.sleep.deadline();
        let now = Instant::now();
        let next = if now > scheduled + MISSED_SLACK {
            self.missed.next(scheduled, now, self.period)
        } else {
            after(scheduled, self.period)
        };
        Pin::new(&mut self.sleep).reset(next);
        Poll::Ready(scheduled)
    }

    /// Starts the schedule over: the next tick is one period from now.
    pub fn reset(&mut self) {
        Pin::new(&mut self.sleep).reset(after(Instant::now(), self.period));
    }

    /// Starts the schedule over with a tick at once.
    pub fn reset_immediately(&mut self) {
        Pin::new(&mut self.sleep).reset(Instant::now());
    }

    /// Starts the schedule over with the next tick at `deadline`.
    pub fn reset_at(&mut self, deadline: Instant) {
        Pin::new(&mut self.sleep).reset(deadline);
    }

    /// The period between ticks.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// What happens to late ticks.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed
    }

    /// Chooses what happens to late ticks (`Burst` by default).
    ///
    /// ```
    /// use std::time::Duration;
    /// use eddy::time::{MissedTickBehavior, interval};
    ///
    /// let mut ticks = interval(Duration::from_secs(1));
    /// ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
    /// assert_eq!(ticks.missed_tick_behavior(), MissedTickBehavior::Skip);
    /// ```
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed = behavior;
    }
}
