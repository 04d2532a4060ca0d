//! Time: sleeps, timeouts and intervals on a hierarchical timer wheel.
//!
//! Each runtime keeps its timers in a hierarchical timer wheel
//! (`wheel.rs`): six levels of 64 slots at 1 ms a tick, insert and cancel in
//! O(1), with an overflow list for deadlines more than about 2.2 years
//! away. The wheel is plain data: `driver.rs` ties it to the clock and to
//! wakers. The loop sleeps in `epoll_wait` exactly until the next timer is
//! due (rounded up to the millisecond), so timers cost no polling.
//!
//! A timer is registered lazily, when its [`Sleep`] is first polled, and
//! removed when the `Sleep` is dropped. A deadline is rounded up to the
//! next millisecond, so a sleep never completes early and completes at most
//! about a millisecond late, on an idle loop.
//!
//! `Instant` is `std::time::Instant`.

use std::time::Duration;

mod driver;
mod interval;
mod sleep;
mod timeout;
pub(crate) mod wheel;

pub(crate) use self::driver::TimerDriver;
pub use self::interval::{Interval, MissedTickBehavior, interval, interval_at};
pub use self::sleep::{Sleep, sleep, sleep_until};
pub use self::timeout::{Timeout, timeout, timeout_at};
pub use std::time::Instant;

/// How far ahead a deadline goes when `now + duration` overflows `Instant`.
pub(crate) const FAR_FUTURE: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// `now + duration`, saturated to [`FAR_FUTURE`] ahead.
fn deadline_after(duration: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(duration)
        .or_else(|| now.checked_add(FAR_FUTURE))
        .expect("eddy: the clock cannot represent an instant a hundred years ahead")
}

/// Errors of the time module.
pub mod error {
    use std::fmt;

    /// The time limit of a [`timeout`](super::timeout) ran out. Converts
    /// into an `io::Error` of kind `TimedOut`, so `?` works in I/O code.
    ///
    /// ```
    /// use std::time::Duration;
    /// use eddy::time::{error::Elapsed, sleep, timeout};
    ///
    /// eddy::block_on(async {
    ///     let err: Elapsed = timeout(Duration::ZERO, sleep(Duration::from_secs(1)))
    ///         .await
    ///         .unwrap_err();
    ///     assert_eq!(err.to_string(), "deadline has elapsed");
    ///     let io: std::io::Error = err.into();
    ///     assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
    /// });
    /// ```
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Elapsed(());

    impl Elapsed {
        pub(crate) fn new() -> Elapsed {
            Elapsed(())
        }
    }

    impl fmt::Display for Elapsed {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("deadline has elapsed")
        }
    }

    impl std::error::Error for Elapsed {}

    impl From<Elapsed> for std::io::Error {
        fn from(e: Elapsed) -> std::io::Error {
            std::io::Error::new(std::io::ErrorKind::TimedOut, e)
        }
    }
}
