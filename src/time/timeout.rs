//! `Timeout`: a future with a deadline (Python's `asyncio.wait_for`).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::error::Elapsed;
use super::{Sleep, sleep_until};

/// Runs `future` with a time limit: `Ok` with its output, or
/// `Err(Elapsed)` if `duration` passes first (the future is then dropped
/// with the `Timeout`). This is Python's `asyncio.wait_for`.
///
/// The inner future is polled first, so a future that is ready never times
/// out, and a timer is registered only if it has to wait. `Duration::MAX`
/// (or any duration too large for the clock) means a deadline about a
/// hundred years ahead, never a panic.
///
/// # A spawned task
///
/// Giving up on a [`JoinHandle`](crate::JoinHandle) does not stop its task:
/// dropping a handle only detaches the task, which runs on. Python's
/// `wait_for` cancels what it waited for; to do the same, wait on
/// `&mut handle` and abort it on `Err`:
///
/// ```
/// use std::time::Duration;
/// use eddy::time::{sleep, timeout};
///
/// eddy::block_on(async {
///     let mut task = eddy::spawn(sleep(Duration::from_secs(60)));
///     if timeout(Duration::from_millis(5), &mut task).await.is_err() {
///         task.abort(); // as asyncio.wait_for would
///     }
///     assert!(task.await.unwrap_err().is_cancelled());
/// });
/// ```
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use eddy::time::{sleep, timeout};
///
/// eddy::block_on(async {
///     let fast = timeout(Duration::from_secs(1), async { 5 }).await;
///     assert_eq!(fast, Ok(5));
///     let slow = timeout(Duration::from_millis(5), sleep(Duration::from_secs(60))).await;
///     assert!(slow.is_err());
/// });
/// ```
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    timeout_at(super::deadline_after(duration), future)
}

/// Runs `future` until `deadline` at the latest; see [`timeout`].
///
/// ```
/// use std::time::{Duration, Instant};
/// use eddy::time::{sleep, timeout_at};
///
/// eddy::block_on(async {
///     let deadline = Instant::now() + Duration::from_millis(5);
///     // Several steps share one deadline.
///     assert_eq!(timeout_at(deadline, async { 1 }).await, Ok(1));
///     assert!(timeout_at(deadline, sleep(Duration::from_secs(60))).await.is_err());
/// });
/// ```
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    Timeout {
        future,
        sleep: sleep_until(deadline),
    }
}

/// The future returned by [`timeout`] and [`timeout_at`]: the inner
/// future's output in `Ok`, or [`Elapsed`] once the deadline passed.
///
/// ```
/// use std::time::Duration;
/// use eddy::time::{Timeout, timeout};
///
/// eddy::block_on(async {
///     let limited: Timeout<_> = timeout(Duration::from_secs(1), async { "fast" });
///     assert!(limited.deadline() > std::time::Instant::now());
///     assert_eq!(limited.await, Ok("fast"));
/// });
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Timeout<F> {
    future: F,
    sleep: Sleep,
}

impl<F> Timeout<F> {
    /// The wrapped future.
    pub fn get_ref(&self) -> &F {
        &self.future
    }

    /// The wrapped future, mutably.
    pub fn get_mut(&mut self) -> &mut F {
        &mut self.future
    }

    /// Gives the wrapped future back.
    pub fn into_inner(self) -> F {
        self.future
    }

    /// When the time limit runs out.
    pub fn deadline(&self) -> Instant {
        self.sleep.deadline()
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Pin projection: `future` is pinned with `self` and never moved out
        // while pinned (no method hands it out by value or by `&mut` through
        // a `Pin`, and `Timeout` has no `Drop` impl); `sleep` is `Unpin` and
        // is not treated as pinned.
        // SAFETY: by that projection, `this` is only used to reach the fields.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: as above: `future` stays where it is.
        let future = unsafe { Pin::new_unchecked(&mut this.future) };
        if let Poll::Ready(output) = future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        match Pin::new(&mut this.sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed::new())),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<F: fmt::Debug> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("future", &self.future)
            .field("deadline", &self.deadline())
            .finish()
    }
}
