//! `Sleep`: a future that completes at a deadline.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::driver::TimerDriver;

/// Waits until `duration` has passed: asyncio's `sleep`.
///
/// A `Duration` too large to add to the clock (`Duration::MAX`) saturates to
/// a deadline about a hundred years ahead.
///
/// # Panics
///
/// The returned [`Sleep`] panics if it is polled outside a runtime, with
/// ``eddy: `Sleep::poll` was called outside a runtime``; making it needs
/// none.
///
/// ```
/// use std::time::{Duration, Instant};
///
/// eddy::block_on(async {
///     let start = Instant::now();
///     eddy::time::sleep(Duration::from_millis(10)).await;
///     assert!(start.elapsed() >= Duration::from_millis(10));
/// });
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(super::deadline_after(duration))
}

/// Waits until `deadline`.
///
/// The deadline is rounded up to the wheel's next millisecond tick, so a
/// sleep never completes early: `sleep(Duration::ZERO)` waits for the next
/// tick (under a millisecond). A deadline already in the past completes
/// without the loop blocking: at the first poll, or at the loop's next look
/// at its timers.
///
/// # Panics
///
/// As [`sleep`]: the returned [`Sleep`] panics if polled outside a runtime.
///
/// ```
/// use std::time::{Duration, Instant};
///
/// eddy::block_on(async {
///     let deadline = Instant::now() + Duration::from_millis(5);
///     eddy::time::sleep_until(deadline).await;
///     assert!(Instant::now() >= deadline);
/// });
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        timer: None,
        done: false,
    }
}

/// The future returned by [`sleep`] and [`sleep_until`].
///
/// It may be created anywhere; it registers a timer with the runtime that
/// first polls it (so polling it needs a runtime), keeps that timer while it
/// waits, and removes it when dropped. Re-polling it costs no new
/// registration, and [`reset`](Sleep::reset) moves the timer in place. It
/// never completes before its deadline; it completes at most one tick (1 ms)
/// plus one loop turn after it.
///
/// Pinned once (`Box::pin`, or `std::pin::pin!`), one `Sleep` can be
/// polled again and again and moved with [`reset`](Sleep::reset): an idle
/// timeout that each event pushes back costs no new timer.
///
/// ```
/// use std::time::{Duration, Instant};
/// use eddy::time::{Sleep, sleep};
///
/// // Made before any runtime exists: it registers at its first poll.
/// let nap: Sleep = sleep(Duration::from_millis(5));
/// let deadline = nap.deadline();
/// eddy::block_on(async {
///     let mut idle = Box::pin(sleep(Duration::from_secs(30)));
///     // An event came: push the idle deadline back, in place.
///     idle.as_mut().reset(Instant::now() + Duration::from_secs(30));
///     assert!(!idle.is_elapsed());
///
///     nap.await;
///     assert!(Instant::now() >= deadline);
/// });
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Sleep {
    deadline: Instant,
    timer: Option<Timer>,
    /// Returned `Ready` since the last `reset`: `FusedFuture` says terminated.
    done: bool,
}

/// A registration in a runtime's timer wheel.
struct Timer {
    driver: Rc<TimerDriver>,
    key: usize,
}

impl Sleep {
    /// The instant this sleep completes at: the one given to
    /// [`sleep_until`] or the last [`reset`](Sleep::reset), or now plus
    /// the duration given to [`sleep`]. The sleep completes at it or
    /// within a tick (1 ms) after it.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let at = Instant::now() + Duration::from_secs(5);
    /// assert_eq!(eddy::time::sleep_until(at).deadline(), at);
    /// ```
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// True if the deadline has passed.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let sleep = eddy::time::sleep(Duration::ZERO);
    /// assert!(sleep.is_elapsed());
    /// ```
    pub fn is_elapsed(&self) -> bool {
        match &self.timer {
            Some(t) if !t.driver.is_closed() && t.driver.is_expired(t.key) => true,
            _ => Instant::now() >= self.deadline,
        }
    }

    /// Moves the deadline, earlier or later, keeping the registration: no
    /// new allocation. A sleep that had completed waits again.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// eddy::block_on(async {
    ///     let mut sleep = std::pin::pin!(eddy::time::sleep(Duration::from_secs(3600)));
    ///     sleep.as_mut().reset(Instant::now() + Duration::from_millis(1));
    ///     sleep.await; // done in a millisecond, not an hour
    /// });
    /// ```
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        let this = self.get_mut();
        this.deadline = deadline;
        this.done = false;
        if let Some(t) = &this.timer {
            if !t.driver.is_closed() {
                t.driver.reset(t.key, t.driver.deadline_tick(deadline));
            }
        }
    }

    /// True once the sleep holds a timer in a live runtime.
    pub(crate) fn is_registered(&self) -> bool {
        self.timer.as_ref().is_some_and(|t| !t.driver.is_closed())
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let poll = this.poll_timer(cx);
        this.done = poll.is_ready();
        poll
    }
}

impl Sleep {
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(t) = &self.timer {
            let current = crate::runtime::current_timers();
            let here = current.is_null() || std::ptr::eq(current, Rc::as_ptr(&t.driver));
            if here && !t.driver.is_closed() {
                return if t.driver.poll(t.key, cx.waker()) {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                };
            }
            // Its runtime is gone, or another runtime polls it now (and would
            // wait for ever on a timer that only the first one fires): move
            // the registration to the one polling it.
            if let Some(t) = self.timer.take() {
                t.driver.remove(t.key);
            }
        }
        let driver = crate::runtime::with_current("Sleep::poll", |core| Rc::clone(&core.timers));
        // A deadline the wheel has already passed is done. One the clock has
        // passed but the wheel not yet (it is as fresh as the loop's last look
        // at the timers) is inserted and fires at that next look: no clock
        // read here.
        let tick = driver.deadline_tick(self.deadline);
        if tick <= driver.elapsed_tick() {
            return Poll::Ready(());
        }
        let key = driver.insert(tick, cx.waker());
        self.timer = Some(Timer { driver, key });
        Poll::Pending
    }
}

/// `futures::select!` takes a `Sleep` (by `&mut`, in a loop) without
/// `.fuse()`: once it has completed it says it is terminated, so a loop does
/// not see it fire again, until [`reset`](Sleep::reset) arms it anew.
impl futures_core::future::FusedFuture for Sleep {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(t) = self.timer.take() {
            t.driver.remove(t.key);
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("registered", &self.is_registered())
            .finish()
    }
}
