//! hyper's runtime hooks on eddy: `Executor` (spawning) and `Timer` (sleeping).

use std::cell::Cell;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// hyper's [`Executor`](hyper::rt::Executor) on eddy: spawns with
/// [`eddy::spawn`](crate::spawn), so the futures need not be `Send`, and an
/// HTTP/2 connection can serve a `!Send` service (one holding `Rc` state).
///
/// # Panics
///
/// `execute` panics outside a runtime, as `eddy::spawn` does; hyper calls
/// it from the connection it drives, which runs on eddy.
///
/// ```
/// use std::rc::Rc;
/// use eddy::hyper::{Executor, Io, Timer};
/// use eddy::net::TcpListener;
///
/// # eddy::block_on(async {
/// let listener = TcpListener::bind("127.0.0.1:0")?;
/// # let addr = listener.local_addr()?;
/// # eddy::spawn(async move { eddy::net::TcpStream::connect(addr).await });
/// let (stream, _) = listener.accept().await?;
/// let greeting = Rc::new("hello"); // !Send state
/// let service = hyper::service::service_fn(move |_req| {
///     let greeting = Rc::clone(&greeting);
///     async move { Ok::<_, std::convert::Infallible>(hyper::Response::new(greeting.to_string())) }
/// });
/// // HTTP/2 (with prior knowledge) on one connection; its streams are
/// // spawned through `Executor`.
/// let conn = hyper::server::conn::http2::Builder::new(Executor)
///     .timer(Timer)
///     .serve_connection(Io::new(stream), service);
/// # drop(conn);
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Executor;

impl Executor {
    /// The executor (the same as `Executor` or `Executor::default()`), for
    /// code written against hyper-util's `TokioExecutor::new()`.
    pub const fn new() -> Executor {
        Executor
    }
}

impl<F> hyper::rt::Executor<F> for Executor
where
    F: Future + 'static,
    F::Output: 'static,
{
    #[track_caller]
    fn execute(&self, future: F) {
        crate::spawn(future);
    }
}

/// hyper's [`Timer`](hyper::rt::Timer) on eddy's timer wheel.
///
/// hyper wants its sleeps to be `Send + Sync`, and eddy's
/// [`Sleep`](crate::time::Sleep) is neither (it points into its runtime).
/// So the sleep hyper gets remembers the thread that made it: polled or
/// reset on another thread it panics (a message says why); dropped on
/// another thread it is leaked, never touching the wheel. hyper drives its
/// timers from the connection that made them, so neither happens in use.
///
/// # Panics
///
/// A sleep from `Timer` panics if polled or reset on another thread than
/// the one that made it, and (as every eddy `Sleep`) if polled outside a
/// runtime.
///
/// ```
/// use std::time::Duration;
/// use hyper::rt::Timer as _;
///
/// eddy::block_on(async {
///     eddy::hyper::Timer.sleep(Duration::from_millis(1)).await;
/// });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Timer;

impl Timer {
    /// The timer (the same as `Timer` or `Timer::default()`), for code
    /// written against hyper-util's `TokioTimer::new()`.
    pub const fn new() -> Timer {
        Timer
    }
}

impl hyper::rt::Timer for Timer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(HyperSleep::new(crate::time::sleep(duration)))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(HyperSleep::new(crate::time::sleep_until(deadline)))
    }

    /// Moves the sleep in place (no new timer) when it is one of ours.
    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<HyperSleep>() {
            Some(ours) => ours.reset(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// The last number handed to a thread by [`this_thread`].
static THREADS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// This thread's number, 0 until it first asks. A plain constant-
    /// initialised cell without a destructor: reading it is one load, and
    /// it stays readable while the thread exits.
    static THREAD: Cell<u64> = const { Cell::new(0) };
}

/// A number for this thread, unique in the process for its whole life (a
/// 64-bit counter never wraps), so a thread that ended is never mistaken
/// for a new one. Cheaper than `thread::current().id()`, which clones an
/// `Arc`; hyper creates and drops a sleep per request.
fn this_thread() -> u64 {
    THREAD.with(|id| match id.get() {
        0 => {
            let fresh = THREADS.fetch_add(1, Ordering::Relaxed) + 1;
            id.set(fresh);
            fresh
        }
        known => known,
    })
}

/// An eddy `Sleep` that hyper may move between threads (see [`Timer`]).
struct HyperSleep {
    /// Touched only on `owner`.
    sleep: ManuallyDrop<crate::time::Sleep>,
    /// The [`this_thread`] number of the thread that made it.
    owner: u64,
}

// SAFETY: the one `!Send`/`!Sync` part of a `HyperSleep` is the eddy
// `Sleep` inside, whose registration holds an `Rc` to its runtime's timer
// driver (`Rc` counts and the wheel are plain, unsynchronised memory of
// the thread that runs that runtime). The `Sleep` is created on `owner`
// (`new`), and it registers with a runtime only when polled. Every path to
// it checks the thread first: `poll` and `reset` panic unless they run on
// `owner`, before they touch it; `drop` runs its destructor only on
// `owner`, and elsewhere leaks it (`ManuallyDrop`), so neither the `Rc`
// count nor the wheel is touched from another thread. Thread numbers
// (`this_thread`) are never reused, so a thread that ended can never be
// mistaken for `owner`. (The waker the wheel keeps is the poller's, `Send`
// and `Sync` as std requires; the deadline is a plain `Instant`.)
// Nothing is reachable through `&HyperSleep` (no `&self` method reads the
// `Sleep`), so sharing references across threads (`Sync`) reaches nothing
// either. Hence every access to the `!Send` state happens on one thread,
// as if the value had never moved.
unsafe impl Send for HyperSleep {}
// SAFETY: see `Send` above: `&HyperSleep` gives access to nothing.
unsafe impl Sync for HyperSleep {}

impl HyperSleep {
    fn new(sleep: crate::time::Sleep) -> HyperSleep {
        HyperSleep {
            sleep: ManuallyDrop::new(sleep),
            owner: this_thread(),
        }
    }

    /// The `Sleep`, after checking that this is its thread.
    #[track_caller]
    fn sleep(self: Pin<&mut Self>, what: &str) -> Pin<&mut crate::time::Sleep> {
        let this = self.get_mut();
        assert!(
            this.owner == this_thread(),
            "eddy: a hyper sleep from eddy::hyper::Timer was {what} on another thread than \
             the one that made it; eddy's timers belong to their runtime's thread"
        );
        Pin::new(&mut *this.sleep)
    }

    #[track_caller]
    fn reset(self: Pin<&mut Self>, deadline: Instant) {
        self.sleep("reset").reset(deadline);
    }
}

impl Future for HyperSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.sleep("polled").poll(cx)
    }
}

impl hyper::rt::Sleep for HyperSleep {}

impl Drop for HyperSleep {
    fn drop(&mut self) {
        if self.owner == this_thread() {
            // SAFETY: dropped once, here, on its own thread; never used again.
            unsafe { ManuallyDrop::drop(&mut self.sleep) };
        }
        // Elsewhere: leaked. Its timer (if any) fires one day and wakes a
        // waker nobody waits on; its runtime's driver stays allocated.
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::rt::Timer as _;

    #[test]
    fn sleep_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<HyperSleep>();
    }

    #[test]
    fn reset_moves_our_sleep_in_place() {
        crate::block_on(async {
            let mut sleep = Timer.sleep(Duration::from_secs(3600));
            Timer.reset(&mut sleep, Instant::now() + Duration::from_millis(1));
            assert!(sleep.as_mut().downcast_mut_pin::<HyperSleep>().is_some());
            sleep.await; // a millisecond, not an hour
        });
    }
}
