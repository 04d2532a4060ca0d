//! `yield_now`: let every other ready task run before this one goes on.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Lets every other task that is ready run before this one goes on
/// (Python's `await asyncio.sleep(0)`).
///
/// The task wakes itself and returns `Pending` once: it goes to the back of
/// the run queue, behind everything ready now. It costs no syscall.
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
///
/// eddy::block_on(async {
///     let ran = Rc::new(Cell::new(false));
///     let r = ran.clone();
///     eddy::spawn(async move { r.set(true) });
///     eddy::task::yield_now().await;
///     assert!(ran.get());
/// });
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future returned by [`yield_now`]: `Pending` once (after waking
/// itself), then `Ready`.
///
/// ```
/// use std::future::Future;
/// use std::pin::pin;
/// use std::task::{Context, Waker};
///
/// let mut y = pin!(eddy::task::yield_now());
/// let mut cx = Context::from_waker(Waker::noop());
/// assert!(y.as_mut().poll(&mut cx).is_pending());
/// assert!(y.as_mut().poll(&mut cx).is_ready());
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
