//! Integration tests for the time module: `sleep`, `sleep_until`, `Sleep`,
//! `timeout`, `timeout_at`, `Elapsed`, `interval`, `interval_at`,
//! `MissedTickBehavior`, and the runtime's view of timers
//! (`Runtime::next_deadline`, `Metrics::timers_fired`) (API.md, "Time").
//!
//! Timing assertions are one-sided where the contract is one-sided: "never
//! early" is checked exactly (`elapsed >= requested`), "not too late" only
//! against generous bounds, so a noisy CI machine cannot make them flaky.
//! Where a property can be checked without the wall clock it is: on a single
//! poll (a ready future's timeout, a registration), or with the runtime's
//! counters ("at once" means the loop never blocked: `Metrics::parks` did not
//! move; a missed interval tick is returned without parking).
//!
//! `std::thread::sleep` appears only in the `MissedTickBehavior` tests, where
//! blocking the loop *is* the cause being simulated (a late tick), never to
//! wait for an event.
//!
//! Not tested here: `Sleep` is `!Send` (a negative trait bound needs a
//! compile-fail harness), and the O(1) cost of insert and cancel (only a
//! loose bound on many of them is checked), nor the re-insertion of deadlines
//! from the overflow list (that needs more than two years of real time; the
//! wheel's unit tests check it against a model).

mod common;

use std::cell::Cell;
use std::future::{Future, pending, poll_fn};
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

use common::*;
use eddy::Runtime;
use eddy::task::yield_now;
use eddy::time::error::Elapsed;
use eddy::time::{
    Instant, Interval, MissedTickBehavior, Sleep, Timeout, interval, interval_at, sleep,
    sleep_until, timeout, timeout_at,
};

const MS: Duration = Duration::from_millis(1);

/// How late a sleep may complete before a test calls it a failure. The
/// contract is "about a millisecond late on an idle loop"; this leaves room
/// for a loaded two-core CI machine.
const SLACK: Duration = Duration::from_millis(50);

/// At least thirty years, as API.md asks of a saturated deadline.
const THIRTY_YEARS: Duration = Duration::from_secs(30 * 365 * 24 * 60 * 60);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Polls `fut` once with the calling task's context.
async fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    poll_fn(|cx| Poll::Ready(Pin::new(&mut *fut).poll(cx))).await
}

/// Polls `fut` once on this thread with a no-op waker (no runtime needed
/// for the poll itself).
fn poll_with_noop_waker<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    let mut cx = Context::from_waker(Waker::noop());
    Pin::new(fut).poll(&mut cx)
}

/// Sleeps for `d`, first checking that the first poll returned `Pending`
/// (so a timer was registered and will be counted when it fires).
async fn registered_sleep(d: Duration) {
    let mut s = sleep(d);
    assert!(
        poll_once(&mut s).await.is_pending(),
        "a {d:?} sleep was ready at its first poll"
    );
    s.await;
}

/// Checks `requested <= elapsed < requested + SLACK`.
#[track_caller]
fn assert_on_time(elapsed: Duration, requested: Duration) {
    assert!(
        elapsed >= requested,
        "early: a {requested:?} wait completed after {elapsed:?}"
    );
    assert!(
        elapsed < requested + SLACK,
        "very late: a {requested:?} wait completed after {elapsed:?}"
    );
}

/// Checks `lo <= x <= hi`.
#[track_caller]
fn assert_between(x: Instant, lo: Instant, hi: Instant, what: &str) {
    assert!(
        x >= lo && x <= hi,
        "{what}: {x:?} is not within [{lo:?}, {hi:?}]"
    );
}

/// A small linear congruential generator, for reproducible "random" numbers.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

/// An instant `d` in the past (or now, on a machine that booted less than
/// `d` ago).
fn ago(d: Duration) -> Instant {
    let now = Instant::now();
    now.checked_sub(d).unwrap_or(now)
}

// ---------------------------------------------------------------------------
// Instant
// ---------------------------------------------------------------------------

#[test]
fn instant_is_std_instant() {
    watchdog(LIMIT, instant_is_std_instant_body);
}

fn instant_is_std_instant_body() {
    fn takes_std(i: std::time::Instant) -> std::time::Instant {
        i
    }
    fn takes_eddy(i: eddy::time::Instant) -> eddy::time::Instant {
        i
    }
    let e: eddy::time::Instant = eddy::time::Instant::now();
    let s: std::time::Instant = takes_std(e);
    let back: eddy::time::Instant = takes_eddy(s);
    assert_eq!(back, e);
    // The same type, not merely convertible: a `Sleep`'s deadline is a std
    // `Instant`, and `sleep_until` takes one.
    let deadline: std::time::Instant = sleep_until(s).deadline();
    assert!(deadline >= s);
    assert_eq!(
        std::any::TypeId::of::<eddy::time::Instant>(),
        std::any::TypeId::of::<std::time::Instant>()
    );
}

// ---------------------------------------------------------------------------
// sleep / sleep_until: never early
// ---------------------------------------------------------------------------

#[test]
fn sleep_is_a_future_of_unit() {
    fn assert_sleep_future<F: Future<Output = ()> + Unpin>(f: F) -> F {
        f
    }
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let s: Sleep = assert_sleep_future(sleep(ms(1)));
            s.await;
            let s: Sleep = assert_sleep_future(sleep_until(Instant::now() + ms(1)));
            s.await;
        });
    });
}

#[test]
fn sleep_is_never_early_one_at_a_time() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let durations = [
                Duration::ZERO,
                Duration::from_micros(300),
                ms(1),
                Duration::from_micros(1_500),
                ms(2),
                Duration::from_micros(2_999),
                ms(5),
                ms(17),
            ];
            for round in 0..3 {
                for &d in &durations {
                    let start = Instant::now();
                    sleep(d).await;
                    let elapsed = start.elapsed();
                    assert!(elapsed >= d, "round {round}: sleep({d:?}) took {elapsed:?}");
                    assert!(
                        elapsed < d + SLACK,
                        "round {round}: sleep({d:?}) took {elapsed:?}"
                    );
                }
            }
        });
    });
}

#[test]
fn sleep_is_never_early_many_at_once() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            // Durations on both sides of the wheel's first level (64 ticks).
            let durations = [0u64, 1, 2, 5, 17, 63, 64, 65, 130];
            let mut handles = Vec::new();
            for copy in 0..20u64 {
                for &d in &durations {
                    // Sub-millisecond offsets exercise the rounding.
                    let d = ms(d) + Duration::from_micros(copy * 37 % 1000);
                    handles.push(eddy::spawn(async move {
                        let start = Instant::now();
                        sleep(d).await;
                        (d, start.elapsed())
                    }));
                }
            }
            // The `block_on` future sleeps too, concurrently.
            let start = Instant::now();
            sleep(ms(17)).await;
            assert_on_time(start.elapsed(), ms(17));
            for h in handles {
                let (d, elapsed) = h.await.unwrap();
                assert_on_time(elapsed, d);
            }
        });
    });
}

#[test]
fn sleep_until_is_never_early() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let mut handles = Vec::new();
            for i in 0..200u64 {
                let deadline = Instant::now() + Duration::from_micros(i * 97 % 20_000);
                handles.push(eddy::spawn(async move {
                    sleep_until(deadline).await;
                    let now = Instant::now();
                    assert!(
                        now >= deadline,
                        "sleep_until woke {:?} early",
                        deadline - now
                    );
                    now - deadline
                }));
            }
            for h in handles {
                let late = h.await.unwrap();
                assert!(late < SLACK, "sleep_until woke {late:?} late");
            }
        });
    });
}

#[test]
fn sleep_until_a_past_instant_completes_at_once() {
    // The contract (sleep_until's docs): "A deadline in the past completes at
    // once: at the first poll, or at the loop's next look at its timers." So
    // it may take one trip round the loop, but the loop never blocks for it.
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            for past in [ago(Duration::from_secs(1)), ago(ms(20)), ago(ms(2))] {
                let mut s = sleep_until(past);
                assert!(s.is_elapsed());
                let parks = rt.metrics().parks;
                let start = Instant::now();
                if poll_once(&mut s).await.is_pending() {
                    s.await;
                }
                assert_eq!(
                    rt.metrics().parks,
                    parks,
                    "the loop blocked for a past deadline"
                );
                assert!(start.elapsed() < SLACK, "took {:?}", start.elapsed());
            }
            // A deadline the loop has already seen go by (a later timer has
            // fired since) is done at the first poll.
            let earlier = Instant::now() + ms(1);
            sleep(ms(3)).await;
            let mut s = sleep_until(earlier);
            assert_eq!(poll_once(&mut s).await, Poll::Ready(()));
            // Nothing is left registered.
            assert_eq!(rt.next_deadline(), None);
        });
        // The same in a spawned task: polled at most twice.
        rt.block_on(async {
            let polls = Rc::new(Cell::new(0u32));
            let counted = {
                let polls = Rc::clone(&polls);
                let mut s = sleep_until(ago(ms(5)));
                poll_fn(move |cx| {
                    polls.set(polls.get() + 1);
                    Pin::new(&mut s).poll(cx)
                })
            };
            let parks = rt.metrics().parks;
            eddy::spawn(counted).await.unwrap();
            assert_eq!(rt.metrics().parks, parks);
            assert!(polls.get() <= 2, "polled {} times", polls.get());
        });
        assert_eq!(rt.next_deadline(), None);
    });
}

#[test]
fn sleep_zero_completes_quickly() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            assert!(sleep(Duration::ZERO).is_elapsed());
            for _ in 0..20 {
                let start = Instant::now();
                sleep(Duration::ZERO).await;
                sleep_until(Instant::now()).await;
                assert!(start.elapsed() < SLACK, "took {:?}", start.elapsed());
            }
        });
        assert_eq!(rt.next_deadline(), None);
    });
}

// ---------------------------------------------------------------------------
// Sleep: deadline, is_elapsed, reset
// ---------------------------------------------------------------------------

#[test]
fn sleep_deadline_is_the_requested_one() {
    watchdog(LIMIT, || {
        for d in [
            Duration::ZERO,
            Duration::from_nanos(1),
            Duration::from_micros(1_500),
            ms(5),
            Duration::from_secs(3600),
        ] {
            let before = Instant::now();
            let s = sleep(d);
            let after = Instant::now();
            // `deadline()` may be rounded up by at most 1 ms.
            assert_between(
                s.deadline(),
                before + d,
                after + d + MS,
                "sleep(d).deadline()",
            );
        }
        let target = Instant::now() + Duration::from_micros(12_345);
        let s = sleep_until(target);
        assert_between(
            s.deadline(),
            target,
            target + MS,
            "sleep_until(t).deadline()",
        );
        // Unchanged by registration.
        eddy::block_on(async move {
            let mut s = s;
            assert!(poll_once(&mut s).await.is_pending());
            assert_between(s.deadline(), target, target + MS, "deadline after a poll");
            let mut s = pin!(s);
            let target2 = Instant::now() + ms(3);
            s.as_mut().reset(target2);
            assert_between(s.deadline(), target2, target2 + MS, "deadline after reset");
            s.await;
            assert!(Instant::now() >= target2);
        });
    });
}

#[test]
fn sleep_is_elapsed_before_and_after() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let mut s = sleep(Duration::from_secs(3600));
            assert!(!s.is_elapsed(), "fresh sleep");
            assert!(poll_once(&mut s).await.is_pending());
            assert!(!s.is_elapsed(), "registered sleep");

            let mut s = sleep(ms(10));
            assert!(poll_once(&mut s).await.is_pending());
            (&mut s).await;
            assert!(s.is_elapsed(), "completed sleep");
            assert!(Instant::now() >= s.deadline());

            // Not yet polled, deadline in the past: elapsed too.
            assert!(sleep_until(ago(ms(1))).is_elapsed());
        });
        // Outside any runtime, `is_elapsed` reads the clock.
        assert!(sleep(Duration::ZERO).is_elapsed());
        assert!(!sleep(Duration::from_secs(3600)).is_elapsed());
    });
}

#[test]
fn reset_to_an_earlier_deadline() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            // Registered first, then moved.
            let start = Instant::now();
            let mut s = pin!(sleep(Duration::from_secs(3600)));
            assert!(poll_once(&mut s).await.is_pending());
            s.as_mut().reset(start + ms(5));
            assert!(!s.is_elapsed());
            s.as_mut().await;
            assert_on_time(start.elapsed(), ms(5));
            assert!(s.is_elapsed());

            // Moved before its first poll.
            let start = Instant::now();
            let mut s = pin!(sleep(Duration::from_secs(3600)));
            s.as_mut().reset(start + ms(5));
            s.await;
            assert_on_time(start.elapsed(), ms(5));

            // From the overflow list (beyond the wheel's range) to 5 ms.
            let start = Instant::now();
            let mut s = pin!(sleep(Duration::from_secs(4 * 365 * 24 * 3600)));
            assert!(poll_once(&mut s).await.is_pending());
            s.as_mut().reset(start + ms(5));
            s.await;
            assert_on_time(start.elapsed(), ms(5));
        });
        assert_eq!(rt.next_deadline(), None);
    });
}

#[test]
fn reset_to_a_later_deadline() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            // Registered first, then moved.
            let start = Instant::now();
            let mut s = pin!(sleep(ms(5)));
            assert!(poll_once(&mut s).await.is_pending());
            s.as_mut().reset(start + ms(50));
            s.await;
            assert_on_time(start.elapsed(), ms(50));

            // Moved before its first poll.
            let start = Instant::now();
            let mut s = pin!(sleep(ms(5)));
            s.as_mut().reset(start + ms(50));
            s.await;
            assert_on_time(start.elapsed(), ms(50));

            // Moved many times, from another task's point of view: a task
            // sleeping on it only wakes at the final deadline.
            let start = Instant::now();
            let mut s = pin!(sleep(ms(1)));
            assert!(poll_once(&mut s).await.is_pending());
            for i in 2..=30 {
                s.as_mut().reset(start + ms(i));
            }
            s.await;
            assert_on_time(start.elapsed(), ms(30));
        });
    });
}

#[test]
fn reset_after_completion_waits_again() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let mut s = pin!(sleep(ms(5)));
            s.as_mut().await;
            assert!(s.is_elapsed());

            let start = Instant::now();
            s.as_mut().reset(start + ms(20));
            assert!(!s.is_elapsed(), "a reset sleep is not elapsed");
            assert!(
                poll_once(&mut s.as_mut()).await.is_pending(),
                "a reset sleep must wait again"
            );
            s.as_mut().await;
            assert_on_time(start.elapsed(), ms(20));
            assert!(s.is_elapsed());

            // And once more, in a sleep that completed at once without a timer.
            let mut s = pin!(sleep(Duration::ZERO));
            s.as_mut().await;
            let start = Instant::now();
            s.as_mut().reset(start + ms(10));
            assert!(poll_once(&mut s.as_mut()).await.is_pending());
            s.as_mut().await;
            assert_on_time(start.elapsed(), ms(10));
        });
        assert_eq!(rt.next_deadline(), None);
    });
}

#[test]
fn reset_to_the_past_completes_without_waiting() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            // Registered, then moved into the past.
            let mut s = pin!(sleep(Duration::from_secs(3600)));
            assert!(poll_once(&mut s).await.is_pending());
            let past = ago(ms(10));
            s.as_mut().reset(past);
            assert!(s.is_elapsed());
            let start = Instant::now();
            s.as_mut().await;
            assert!(start.elapsed() < SLACK, "took {:?}", start.elapsed());

            // Completed, then moved into the past.
            let start = Instant::now();
            s.as_mut().reset(ago(ms(1)));
            s.as_mut().await;
            assert!(start.elapsed() < SLACK, "took {:?}", start.elapsed());
        });
        assert_eq!(rt.next_deadline(), None);
    });
}

/// A sleep reset to a deadline the wheel has passed is done at its next
/// poll, as `sleep_until` of that deadline is at its first, and the waker it
/// left is woken by the reset (tokio's `reset_sleep_to_past`).
#[test]
fn reset_to_the_past_is_ready_at_the_next_poll_and_wakes() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    struct Count(AtomicUsize);
    impl std::task::Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let start = Instant::now();
            let mut s = pin!(sleep_until(start + ms(100)));
            let count = Arc::new(Count(AtomicUsize::new(0)));
            let waker = Waker::from(count.clone());
            let mut cx = Context::from_waker(&waker);
            assert!(s.as_mut().poll(&mut cx).is_pending());
            // The wheel moves past start + 80 ms.
            sleep_until(start + ms(90)).await;
            s.as_mut().reset(start + ms(80));
            assert_eq!(count.0.load(Ordering::SeqCst), 1, "the reset woke nobody");
            assert!(s.as_mut().poll(&mut cx).is_ready());
            // As a new sleep with that deadline.
            assert!(
                poll_once(&mut pin!(sleep_until(start + ms(80))))
                    .await
                    .is_ready()
            );
        });
    });
}

// ---------------------------------------------------------------------------
// Many timers
// ---------------------------------------------------------------------------

#[test]
fn ten_thousand_concurrent_sleeps_all_fire_on_time() {
    const N: usize = 10_000;
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let start = Instant::now();
        let (done, early) = rt.block_on(async {
            let mut lcg = Lcg(0x5eed);
            let done = Rc::new(Cell::new(0usize));
            let early = Rc::new(Cell::new(0usize));
            let mut handles = Vec::with_capacity(N);
            for _ in 0..N {
                let d = ms(lcg.next() % 20 + 1);
                let done = Rc::clone(&done);
                let early = Rc::clone(&early);
                handles.push(eddy::spawn(async move {
                    let t0 = Instant::now();
                    sleep(d).await;
                    if t0.elapsed() < d {
                        early.set(early.get() + 1);
                    }
                    done.set(done.get() + 1);
                }));
            }
            for h in handles {
                h.await.unwrap();
            }
            (done.get(), early.get())
        });
        let total = start.elapsed();
        assert_eq!(done, N, "not every sleep fired");
        assert_eq!(early, 0, "{early} of {N} sleeps completed early");
        assert!(total < Duration::from_secs(5), "10k sleeps took {total:?}");
        let m = rt.metrics();
        assert_eq!(m.tasks_alive, 0);
        assert!(
            m.timers_fired <= N as u64,
            "more timers fired ({}) than sleeps",
            m.timers_fired
        );
        assert_eq!(rt.next_deadline(), None);
    });
}

#[test]
fn many_inserts_and_cancels_leave_nothing() {
    const N: u64 = 50_000;
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let mut lcg = Lcg(7);
            // Kept alive together, then dropped together.
            let mut sleeps = Vec::with_capacity(N as usize);
            for _ in 0..N {
                // Every level of the wheel and the overflow list.
                let d = Duration::from_millis(1 << (lcg.next() % 42));
                let mut s = sleep(d);
                assert!(poll_once(&mut s).await.is_pending());
                sleeps.push(s);
            }
            assert!(rt.next_deadline().is_some());
            drop(sleeps);
            assert_eq!(rt.next_deadline(), None);
            // One at a time.
            for i in 0..N {
                let mut s = sleep(ms(1 + i % 5_000));
                assert!(poll_once(&mut s).await.is_pending());
            }
            assert_eq!(rt.next_deadline(), None);
        });
        assert_eq!(rt.next_deadline(), None);
        assert_eq!(rt.metrics().timers_fired, 0);
    });
}

// ---------------------------------------------------------------------------
// timeout / timeout_at / Elapsed
// ---------------------------------------------------------------------------

#[test]
fn timeout_types() {
    fn assert_timeout_future<T, F: Future<Output = Result<T, Elapsed>>>(f: F) -> F {
        f
    }
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let t: Timeout<_> = assert_timeout_future(timeout(ms(10), async { 'x' }));
            let r: Result<char, Elapsed> = t.await;
            assert_eq!(r, Ok('x'));
            let t: Timeout<_> = assert_timeout_future(timeout_at(Instant::now(), async { 1u8 }));
            assert_eq!(t.await, Ok(1));
        });
    });
}

#[test]
fn timeout_on_a_ready_future_is_ok_and_does_not_wait() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let start = Instant::now();
        rt.block_on(async {
            assert_eq!(timeout(Duration::from_secs(2), async { 7 }).await, Ok(7));
            assert_eq!(rt.next_deadline(), None, "a ready future needs no timer");
            // A future ready at its first poll, one that yields a few times
            // first, and a zero or past time limit.
            let mut t = pin!(timeout(Duration::from_secs(2), async { "now" }));
            assert_eq!(poll_once(&mut t.as_mut()).await, Poll::Ready(Ok("now")));
            assert_eq!(rt.next_deadline(), None);
            assert_eq!(timeout(Duration::ZERO, async { 5 }).await, Ok(5));
            assert_eq!(
                timeout_at(ago(Duration::from_secs(1)), async { 6 }).await,
                Ok(6)
            );
        });
        assert!(
            start.elapsed() < ms(500),
            "a ready future's timeout waited: {:?}",
            start.elapsed()
        );
        assert_eq!(rt.next_deadline(), None);
        assert_eq!(rt.metrics().timers_fired, 0);
    });
}

#[test]
fn timeout_on_a_pending_future_elapses_not_before_the_duration() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            for d in [ms(1), ms(5), ms(15)] {
                let start = Instant::now();
                let r = timeout(d, pending::<()>()).await;
                assert!(r.is_err());
                assert_on_time(start.elapsed(), d);
            }
            // Slower inner future: its timer goes with it.
            let start = Instant::now();
            let r = timeout(ms(10), sleep(Duration::from_secs(3600))).await;
            assert!(r.is_err());
            assert_on_time(start.elapsed(), ms(10));
            assert_eq!(
                rt.next_deadline(),
                None,
                "the inner sleep's timer was left behind"
            );
            // Faster inner future: the timeout's timer goes.
            let start = Instant::now();
            assert_eq!(
                timeout(Duration::from_secs(3600), sleep(ms(10))).await,
                Ok(())
            );
            assert_on_time(start.elapsed(), ms(10));
            assert_eq!(
                rt.next_deadline(),
                None,
                "the timeout's timer was left behind"
            );
        });
    });
}

/// An `Elapsed`, obtained the only public way.
async fn timeout_elapsed() -> Elapsed {
    timeout(Duration::ZERO, pending::<()>()).await.unwrap_err()
}

#[test]
fn timeout_at_elapses_at_the_instant() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let deadline = Instant::now() + ms(15);
            let r = timeout_at(deadline, pending::<u8>()).await;
            let now = Instant::now();
            assert!(r.is_err());
            assert!(
                now >= deadline,
                "timeout_at fired {:?} early",
                deadline - now
            );
            assert!(now - deadline < SLACK);

            let deadline = Instant::now() + ms(30);
            assert_eq!(
                timeout_at(deadline, async {
                    sleep(ms(5)).await;
                    3
                })
                .await,
                Ok(3)
            );
            assert!(Instant::now() < deadline + SLACK);

            // A past deadline and a pending future: elapsed at once.
            let start = Instant::now();
            assert!(timeout_at(ago(ms(5)), pending::<()>()).await.is_err());
            assert!(start.elapsed() < SLACK);
        });
    });
}

#[test]
fn timeout_polls_the_inner_future_first() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            assert_eq!(timeout(Duration::ZERO, async { 5 }).await, Ok(5));

            // Ready exactly when polled at or after the deadline, and never
            // asking to be woken: only the timeout's timer wakes the task,
            // and when it does, the inner future must win.
            let deadline = Instant::now() + ms(10);
            let polls = Rc::new(Cell::new(0u32));
            let inner = {
                let polls = Rc::clone(&polls);
                poll_fn(move |_| {
                    polls.set(polls.get() + 1);
                    if Instant::now() >= deadline {
                        Poll::Ready("inner")
                    } else {
                        Poll::Pending
                    }
                })
            };
            assert_eq!(timeout_at(deadline, inner).await, Ok("inner"));
            assert!(Instant::now() >= deadline);
            assert!(
                polls.get() >= 2,
                "the inner future was polled {} times",
                polls.get()
            );

            // The poll that ends in `Elapsed` polls the inner future too:
            // the inner future's last poll is after the deadline.
            let last_poll = Rc::new(Cell::new(None::<Instant>));
            let inner = {
                let last_poll = Rc::clone(&last_poll);
                poll_fn(move |_| -> Poll<()> {
                    last_poll.set(Some(Instant::now()));
                    Poll::Pending
                })
            };
            let t = timeout(ms(5), inner);
            let deadline = t.deadline();
            assert!(t.await.is_err());
            let last = last_poll.get().expect("the inner future was never polled");
            assert!(
                last >= deadline,
                "the inner future was not polled before `Elapsed`"
            );
        });
    });
}

#[test]
fn timeout_drops_the_inner_future_when_it_fires() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let dropped = Rc::new(Cell::new(false));
            let guard = SetOnDrop(Rc::clone(&dropped));
            let r = timeout(ms(5), async move {
                let _guard = guard;
                pending::<()>().await;
            })
            .await;
            assert!(r.is_err());
            assert!(dropped.get(), "the inner future outlived its timeout");

            // In a spawned task, the inner future is gone once it finishes.
            let dropped = Rc::new(Cell::new(false));
            let guard = SetOnDrop(Rc::clone(&dropped));
            let h = eddy::spawn(timeout(ms(5), async move {
                let _guard = guard;
                sleep(Duration::from_secs(3600)).await;
            }));
            assert!(h.await.unwrap().is_err());
            assert!(dropped.get());
            assert_eq!(rt.next_deadline(), None);
        });
    });
}

#[test]
fn elapsed_error_traits() {
    fn assert_traits<
        E: std::error::Error
            + std::fmt::Display
            + std::fmt::Debug
            + Clone
            + PartialEq
            + Send
            + Sync
            + 'static,
    >() {
    }
    watchdog(LIMIT, || {
        assert_traits::<Elapsed>();
        let e = eddy::block_on(timeout_elapsed());
        fn cloned<T: Clone>(t: &T) -> T {
            t.clone()
        }
        assert_eq!(cloned(&e), e);
        assert!(!e.to_string().is_empty(), "empty Display");
        assert!(!format!("{e:?}").is_empty(), "empty Debug");
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(e);
        assert_eq!(boxed.to_string(), e.to_string());
        // It converts to an io::Error, as tokio's does.
        let io: std::io::Error = e.into();
        assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
    });
}

// ---------------------------------------------------------------------------
// Huge durations
// ---------------------------------------------------------------------------

#[test]
fn huge_durations_saturate_without_panicking() {
    watchdog(LIMIT, || {
        // Creation, outside a runtime.
        for d in [
            Duration::MAX,
            Duration::from_secs(u64::MAX),
            Duration::MAX - ms(1),
        ] {
            let before = Instant::now();
            let s = sleep(d);
            assert!(
                s.deadline() >= before + THIRTY_YEARS,
                "sleep({d:?}).deadline() is less than 30 years ahead"
            );
            let t = timeout(d, async { 1 });
            assert!(t.deadline() >= before + THIRTY_YEARS);
        }
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            // Registered, then dropped.
            let mut s = sleep(Duration::MAX);
            assert!(poll_once(&mut s).await.is_pending());
            assert!(!s.is_elapsed());
            assert!(rt.next_deadline().is_some());
            drop(s);
            assert_eq!(rt.next_deadline(), None);

            // A far `sleep_until`, beyond the wheel's range.
            let mut s = sleep_until(Instant::now() + Duration::from_secs(200 * 365 * 24 * 3600));
            assert!(poll_once(&mut s).await.is_pending());
            drop(s);
            assert_eq!(rt.next_deadline(), None);

            // Timeouts.
            assert_eq!(timeout(Duration::MAX, async { 1 }).await, Ok(1));
            assert_eq!(
                timeout(Duration::MAX, async {
                    sleep(ms(2)).await;
                    2
                })
                .await,
                Ok(2)
            );
            let mut t = timeout(Duration::MAX, pending::<()>());
            assert!(poll_once(&mut t).await.is_pending());
            assert!(rt.next_deadline().is_some());
            drop(t);
            assert_eq!(rt.next_deadline(), None);

            // A task sleeping forever, aborted.
            let h = eddy::spawn(sleep(Duration::MAX));
            yield_now().await;
            assert!(rt.next_deadline().is_some());
            h.abort();
            assert!(h.await.unwrap_err().is_cancelled());
            assert_eq!(rt.next_deadline(), None);

            // Intervals.
            let mut iv = interval(Duration::MAX);
            let first = iv.tick().await;
            let mut second = pin!(iv.tick());
            assert!(poll_once(&mut second.as_mut()).await.is_pending());
            let _ = first;
        });
        assert_eq!(rt.next_deadline(), None);
    });
}

#[test]
fn far_deadlines_do_not_fire_early_or_spin_the_loop() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let fired = Rc::new(Cell::new(0u32));
        let mut handles = Vec::new();
        for d in [
            Duration::from_secs(3600),
            Duration::from_secs(3 * 365 * 24 * 3600), // beyond the wheel: overflow list
            Duration::MAX,
        ] {
            let fired = Rc::clone(&fired);
            handles.push(rt.spawn(async move {
                sleep(d).await;
                fired.set(fired.get() + 1);
            }));
        }
        rt.block_on(async {
            // Let time pass while the loop runs: 40 ms of short sleeps.
            for _ in 0..20 {
                sleep(ms(2)).await;
            }
            let next = rt
                .next_deadline()
                .expect("the far timers are still registered");
            assert!(
                next > Instant::now(),
                "the next deadline is in the past: the loop spins"
            );
        });
        assert_eq!(fired.get(), 0, "a far sleep fired early");
        let polls = rt.metrics().polls;
        assert_eq!(
            polls, 3,
            "the far sleeps' tasks were polled {polls} times, not once each"
        );
        for h in &handles {
            assert!(!h.is_finished());
            h.abort();
        }
        assert_eq!(rt.next_deadline(), None);
    });
}

// ---------------------------------------------------------------------------
// Where a Sleep registers
// ---------------------------------------------------------------------------

#[test]
fn sleep_created_outside_a_runtime_registers_with_the_one_that_polls_it() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        // Created outside any `block_on`.
        let start = Instant::now();
        let s = sleep(ms(20));
        let t = timeout(ms(20), pending::<()>());
        let mut iv = interval(ms(5));
        assert_eq!(
            rt.next_deadline(),
            None,
            "creating a sleep registers nothing"
        );
        rt.block_on(async {
            let mut s = s;
            assert!(poll_once(&mut s).await.is_pending());
            let next = rt.next_deadline().expect("registered on its first poll");
            assert!(next <= s.deadline() + MS);
            s.await;
            assert!(start.elapsed() >= ms(20));
            assert!(t.await.is_err());
            assert!(start.elapsed() >= ms(20));
            let first = iv.tick().await;
            let second = iv.tick().await;
            assert_eq!(second - first, ms(5));
        });

        // Created inside one runtime, first polled by another.
        let rt1 = Runtime::new().unwrap();
        let rt2 = Runtime::new().unwrap();
        // Made while rt1 is current, not polled there.
        #[allow(clippy::async_yields_async)]
        let s = rt1.block_on(async { sleep(ms(10)) });
        assert_eq!(rt1.next_deadline(), None);
        let deadline = s.deadline();
        rt2.block_on(async {
            let mut s = s;
            assert!(poll_once(&mut s).await.is_pending());
            assert!(
                rt2.next_deadline().is_some(),
                "not registered with the runtime polling it"
            );
            assert_eq!(
                rt1.next_deadline(),
                None,
                "registered with the runtime that made it"
            );
            s.await;
        });
        assert!(Instant::now() >= deadline);
        assert_eq!(rt1.metrics().timers_fired, 0);
        assert_eq!(rt2.metrics().timers_fired, 1);
    });
}

#[test]
fn sleeps_on_several_threads_each_with_its_runtime() {
    watchdog(LIMIT, || {
        let threads: Vec<_> = (0..4u64)
            .map(|i| {
                thread::spawn(move || {
                    let rt = Runtime::new().unwrap();
                    rt.block_on(async move {
                        for d in [1, 3, 7 + i] {
                            let start = Instant::now();
                            sleep(ms(d)).await;
                            assert_on_time(start.elapsed(), ms(d));
                        }
                    });
                    rt.metrics().timers_fired
                })
            })
            .collect();
        for t in threads {
            assert_eq!(t.join().unwrap(), 3);
        }
    });
}

#[test]
fn polling_a_sleep_outside_a_runtime_panics_clearly() {
    watchdog(LIMIT, || {
        let mut s = sleep(Duration::from_secs(1));
        let err = catch(|| poll_with_noop_waker(&mut s)).unwrap_err();
        assert!(
            err.contains("outside a runtime"),
            "unclear panic message: {err}"
        );

        // Between two `block_on` calls the runtime is not current either.
        let rt = Runtime::new().unwrap();
        rt.block_on(async {});
        let mut s = sleep(Duration::from_secs(1));
        let err = catch(|| poll_with_noop_waker(&mut s)).unwrap_err();
        assert!(
            err.contains("outside a runtime"),
            "unclear panic message: {err}"
        );

        // The same for a timeout whose future is pending, and an interval.
        let mut t = timeout(Duration::from_secs(1), pending::<()>());
        let err = catch(|| poll_with_noop_waker(&mut t)).unwrap_err();
        assert!(
            err.contains("outside a runtime"),
            "unclear panic message: {err}"
        );
        let mut iv = interval_at(Instant::now() + Duration::from_secs(3600), ms(1));
        let err = catch(|| {
            let mut cx = Context::from_waker(Waker::noop());
            iv.poll_tick(&mut cx)
        })
        .unwrap_err();
        assert!(
            err.contains("outside a runtime"),
            "unclear panic message: {err}"
        );
    });
}

#[test]
fn a_registered_sleep_may_outlive_its_runtime() {
    watchdog(LIMIT, || {
        let rt1 = Runtime::new().unwrap();
        let mut s = sleep(ms(10));
        rt1.block_on(async {
            assert!(poll_once(&mut s).await.is_pending());
        });
        drop(rt1);
        // Dropped later, or polled by another runtime, it neither panics nor hangs.
        let rt2 = Runtime::new().unwrap();
        rt2.block_on(async {
            (&mut s).await;
        });
        assert!(Instant::now() >= s.deadline());
        drop(s);

        let rt3 = Runtime::new().unwrap();
        let mut s = sleep(Duration::from_secs(3600));
        rt3.block_on(async {
            assert!(poll_once(&mut s).await.is_pending());
        });
        drop(rt3);
        drop(s);
    });
}

// ---------------------------------------------------------------------------
// Dropping and aborting leave nothing behind
// ---------------------------------------------------------------------------

#[test]
fn dropping_sleeps_early_leaves_no_timer() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let durations = [
                ms(1),
                ms(70),
                Duration::from_secs(5),
                Duration::from_secs(3600),
            ];
            let mut sleeps = Vec::new();
            for &d in &durations {
                for _ in 0..10 {
                    let mut s = sleep(d);
                    assert!(poll_once(&mut s).await.is_pending());
                    sleeps.push(s);
                }
            }
            assert!(rt.next_deadline().is_some());
            // Drop in an interleaved order: half, then the rest.
            let mut odd = Vec::new();
            for (i, s) in sleeps.into_iter().enumerate() {
                if i % 2 == 1 {
                    odd.push(s);
                }
            }
            assert!(rt.next_deadline().is_some());
            drop(odd);
            assert_eq!(rt.next_deadline(), None);
        });
        // Nothing fired, and the loop has nothing left to wait for.
        assert_eq!(rt.metrics().timers_fired, 0);
        assert_eq!(rt.next_deadline(), None);

        // Dropped outside `block_on` (on the same thread).
        let mut s = sleep(Duration::from_secs(3600));
        rt.block_on(async {
            assert!(poll_once(&mut s).await.is_pending());
        });
        assert!(rt.next_deadline().is_some());
        drop(s);
        assert_eq!(rt.next_deadline(), None);
    });
}

#[test]
fn aborting_a_sleeping_task_removes_its_timer() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        // From outside `block_on`.
        let h = rt.spawn(sleep(Duration::from_secs(3600)));
        rt.block_on(yield_now());
        assert!(rt.next_deadline().is_some());
        h.abort();
        assert_eq!(
            rt.next_deadline(),
            None,
            "the aborted task's timer is still there"
        );

        // From inside, via an AbortHandle, with several sleepers.
        rt.block_on(async {
            let keep = eddy::spawn(sleep(ms(30)));
            let handles: Vec<_> = (0..10)
                .map(|_| eddy::spawn(sleep(Duration::from_secs(3600))))
                .collect();
            yield_now().await;
            assert!(rt.next_deadline().is_some());
            for h in &handles {
                h.abort_handle().abort();
            }
            for h in handles {
                assert!(h.await.unwrap_err().is_cancelled());
            }
            let next = rt.next_deadline().expect("the 30 ms sleep is still there");
            assert!(
                next < Instant::now() + Duration::from_secs(1),
                "an aborted task's hour-long timer is what the loop waits for"
            );
            keep.await.unwrap();
            assert_eq!(rt.next_deadline(), None);
        });
        assert_eq!(rt.metrics().timers_fired, 1);
    });
}

// ---------------------------------------------------------------------------
// Fairness: busy tasks do not starve timers
// ---------------------------------------------------------------------------

#[test]
fn timers_are_not_starved_by_a_yield_now_loop() {
    watchdog(LIMIT, || {
        let spins = Rc::new(Cell::new(0u64));
        eddy::block_on({
            let spins = Rc::clone(&spins);
            async move {
                let _spinner = eddy::spawn({
                    let spins = Rc::clone(&spins);
                    async move {
                        loop {
                            spins.set(spins.get() + 1);
                            yield_now().await;
                        }
                    }
                });
                // The block_on future sleeping.
                let start = Instant::now();
                sleep(ms(10)).await;
                assert!(start.elapsed() >= ms(10));
                // A spawned task sleeping.
                let start = Instant::now();
                eddy::spawn(sleep(ms(10))).await.unwrap();
                assert!(start.elapsed() >= ms(10));
                // A timeout firing.
                assert!(timeout(ms(10), pending::<()>()).await.is_err());
            }
        });
        assert!(spins.get() > 0, "the spinner never ran");
    });
}

#[test]
fn timers_are_not_starved_by_a_self_waking_future() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            for _ in 0..3 {
                eddy::spawn(poll_fn(|cx| -> Poll<()> {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }));
            }
            let start = Instant::now();
            let sleeper = eddy::spawn(async {
                let start = Instant::now();
                sleep(ms(10)).await;
                start.elapsed()
            });
            assert!(sleeper.await.unwrap() >= ms(10));
            assert!(start.elapsed() >= ms(10));
        });
    });
}

// ---------------------------------------------------------------------------
// interval / interval_at
// ---------------------------------------------------------------------------

#[test]
fn interval_first_tick_is_at_once() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let before = Instant::now();
            let mut iv: Interval = interval(ms(20));
            let after = Instant::now();
            assert_eq!(iv.period(), ms(20));
            let t0 = Instant::now();
            let first = tick_at_once(&rt, &mut iv, "the first tick").await;
            assert!(
                t0.elapsed() < ms(5),
                "the first tick took {:?}",
                t0.elapsed()
            );
            assert_between(first, before, after, "the first tick's instant");
            // The second is one period later, not at once.
            let mut second = pin!(iv.tick());
            assert!(poll_once(&mut second.as_mut()).await.is_pending());
            assert_eq!(second.await, first + ms(20));
            assert!(Instant::now() >= first + ms(20));
        });
    });
}

#[test]
fn interval_ticks_return_their_scheduled_instants() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let period = ms(2);
            let mut iv = interval(period);
            let start = iv.tick().await;
            for n in 1..=15u32 {
                let t = iv.tick().await;
                assert_eq!(t, start + period * n, "tick {n}");
                assert!(Instant::now() >= t, "tick {n} came early");
            }

            // `interval_at` with a start in the future: the first tick
            // waits for it.
            let start = Instant::now() + ms(15);
            let mut iv = interval_at(start, ms(3));
            assert_eq!(iv.tick().await, start);
            assert!(
                Instant::now() >= start,
                "interval_at's first tick came early"
            );
            for n in 1..=5u32 {
                assert_eq!(iv.tick().await, start + ms(3) * n);
                assert!(Instant::now() >= start + ms(3) * n);
            }

            // `interval_at` with a start in the past (Burst): the first
            // ticks are the past scheduled ones, at once.
            let start = ago(ms(10));
            let mut iv = interval_at(start, ms(4));
            assert_eq!(iv.missed_tick_behavior(), MissedTickBehavior::Burst);
            for n in 0..3u32 {
                let what = format!("past tick {n}");
                assert_eq!(tick_at_once(&rt, &mut iv, &what).await, start + ms(4) * n);
            }
        });
    });
}

#[test]
fn interval_panics_on_a_zero_period() {
    watchdog(LIMIT, || {
        // tokio's wording, so a ported `should_panic(expected = ...)` matches.
        let msg = "eddy: interval: `period` must be non-zero.";
        assert_eq!(catch(|| interval(Duration::ZERO)).unwrap_err(), msg);
        let at = Instant::now();
        assert_eq!(catch(|| interval_at(at, Duration::ZERO)).unwrap_err(), msg);
        // Inside a runtime too.
        eddy::block_on(async {
            assert_eq!(catch(|| interval(Duration::ZERO)).unwrap_err(), msg);
        });
    });
}

#[test]
fn missed_tick_behavior_defaults_to_burst() {
    watchdog(LIMIT, || {
        assert_eq!(MissedTickBehavior::default(), MissedTickBehavior::Burst);
        let iv = interval(ms(1));
        assert_eq!(iv.missed_tick_behavior(), MissedTickBehavior::Burst);
        let mut iv = interval_at(Instant::now(), ms(1));
        assert_eq!(iv.missed_tick_behavior(), MissedTickBehavior::Burst);
        for b in [
            MissedTickBehavior::Delay,
            MissedTickBehavior::Skip,
            MissedTickBehavior::Burst,
        ] {
            iv.set_missed_tick_behavior(b);
            assert_eq!(iv.missed_tick_behavior(), b);
        }
    });
}

/// Takes an interval's next tick, checking that the loop did not block
/// for it (it may take a trip round the loop, but never waits for time).
async fn tick_at_once(rt: &Runtime, iv: &mut Interval, what: &str) -> Instant {
    let parks = rt.metrics().parks;
    let t = iv.tick().await;
    assert_eq!(
        rt.metrics().parks,
        parks,
        "{what}: the loop blocked for a tick that was already due"
    );
    t
}

const P: Duration = Duration::from_millis(20);

/// Blocks the thread (and so the loop) until `until`: the late tick being
/// simulated.
fn block_until(until: Instant) {
    let now = Instant::now();
    if until > now {
        thread::sleep(until - now);
    }
}

#[test]
fn missed_ticks_burst() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            // Late right after the first tick (its timer not yet registered).
            let mut iv = interval(P);
            let start = iv.tick().await;
            // Miss 3.5 periods.
            block_until(start + P * 7 / 2);
            // The missed ticks come back to back, each one its scheduled instant.
            for n in 1..=3u32 {
                let what = format!("burst tick {n}");
                assert_eq!(tick_at_once(&rt, &mut iv, &what).await, start + P * n);
            }
            // Then the schedule goes on as if nothing happened.
            assert_eq!(iv.tick().await, start + P * 4);
            assert!(Instant::now() >= start + P * 4);
            assert_eq!(iv.tick().await, start + P * 5);
            assert!(Instant::now() >= start + P * 5);

            // Late after a tick that waited on its timer.
            let mut iv = interval(P);
            let start = iv.tick().await;
            assert_eq!(iv.tick().await, start + P);
            block_until(start + P * 9 / 2);
            for n in 2..=4u32 {
                let what = format!("burst tick {n} (registered)");
                assert_eq!(tick_at_once(&rt, &mut iv, &what).await, start + P * n);
            }
            assert_eq!(iv.tick().await, start + P * 5);
            assert!(Instant::now() >= start + P * 5);
        });
    });
}

#[test]
fn missed_ticks_delay() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let mut iv = interval(P);
            iv.set_missed_tick_behavior(MissedTickBehavior::Delay);
            let start = iv.tick().await;
            let first = iv.tick().await;
            assert!(first >= start + P);
            block_until(first + P * 7 / 2);
            let late_before = Instant::now();
            let late = tick_at_once(&rt, &mut iv, "delay").await;
            let late_after = Instant::now();
            // The late tick returns the instant it was scheduled for.
            assert!(
                late >= first + P && late < late_before,
                "late tick {late:?}"
            );
            // The next one is one period after the late one was taken.
            let next = iv.tick().await;
            assert_between(
                next,
                late_before + P,
                late_after + P,
                "the tick after the late one",
            );
            assert!(Instant::now() >= next);
            // And the schedule goes on from there.
            let after = iv.tick().await;
            assert!(after >= next + P, "{:?} after {:?}", after - next, next);
            assert!(Instant::now() >= after);
        });
    });
}

#[test]
fn missed_ticks_skip() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let mut iv = interval(P);
            iv.set_missed_tick_behavior(MissedTickBehavior::Skip);
            let start = iv.tick().await;
            let on_schedule = |i: Instant| (i - start).as_nanos() % P.as_nanos() == 0;
            let first = iv.tick().await;
            assert!(on_schedule(first));
            block_until(first + P * 7 / 2);
            let late_before = Instant::now();
            let late = tick_at_once(&rt, &mut iv, "skip").await;
            let late_after = Instant::now();
            assert!(
                late >= first + P && late < late_before,
                "late tick {late:?}"
            );
            assert!(on_schedule(late));
            // The missed ticks are dropped: the next one is the next on the
            // original schedule that is still ahead.
            let next = iv.tick().await;
            assert!(on_schedule(next), "{:?} is off the schedule", next - start);
            assert!(next > late_before, "a missed tick was not skipped");
            assert!(
                next <= late_after + P,
                "skipped too far: {:?}",
                next - start
            );
            assert!(Instant::now() >= next);
            let after = iv.tick().await;
            assert!(on_schedule(after));
            assert!(after > next);
        });
    });
}

#[test]
fn a_slightly_late_tick_is_not_a_missed_one() {
    // Ticks taken a little late keep the original schedule whatever the
    // behaviour (the loop's ordinary lateness must not drift a schedule).
    watchdog(LIMIT, || {
        eddy::block_on(async {
            for b in [
                MissedTickBehavior::Burst,
                MissedTickBehavior::Delay,
                MissedTickBehavior::Skip,
            ] {
                let start = Instant::now() + ms(2);
                let mut iv = interval_at(start, ms(3));
                iv.set_missed_tick_behavior(b);
                for n in 0..5u32 {
                    let t = iv.tick().await;
                    let late = Instant::now() - t;
                    if late > ms(4) {
                        return; // the machine is too busy for this check
                    }
                    assert_eq!(t, start + ms(3) * n, "{b:?}, tick {n}");
                }
            }
        });
    });
}

// ---------------------------------------------------------------------------
// Metrics and next_deadline
// ---------------------------------------------------------------------------

#[test]
fn timers_fired_counts_the_sleeps_that_fired() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        assert_eq!(rt.metrics().timers_fired, 0);

        // 100 sleeps of different lengths, concurrently.
        rt.block_on(async {
            let handles: Vec<_> = (0..100u64)
                .map(|i| eddy::spawn(registered_sleep(ms(1 + i * 7 % 40))))
                .collect();
            for h in handles {
                h.await.unwrap();
            }
        });
        assert_eq!(rt.metrics().timers_fired, 100);

        // Timeouts whose inner future finished first fire nothing: neither
        // the ready ones nor those that had to wait (then only the inner
        // sleep fires).
        let before = rt.metrics().timers_fired;
        rt.block_on(async {
            for i in 0..50 {
                assert_eq!(
                    timeout(Duration::from_secs(1), async move { i }).await,
                    Ok(i)
                );
            }
            for _ in 0..20 {
                assert_eq!(
                    timeout(Duration::from_secs(1), registered_sleep(ms(2))).await,
                    Ok(())
                );
            }
        });
        assert_eq!(rt.metrics().timers_fired - before, 20);

        // Timeouts that elapse fire one timer each.
        let before = rt.metrics().timers_fired;
        rt.block_on(async {
            let handles: Vec<_> = (0..10u64)
                .map(|i| {
                    eddy::spawn(async move {
                        let mut t = timeout(ms(2 + i), pending::<()>());
                        assert!(poll_once(&mut t).await.is_pending());
                        t.await
                    })
                })
                .collect();
            for h in handles {
                assert!(h.await.unwrap().is_err());
            }
        });
        assert_eq!(rt.metrics().timers_fired - before, 10);

        // Sleeps dropped before their deadline fire nothing.
        let before = rt.metrics().timers_fired;
        rt.block_on(async {
            for _ in 0..10 {
                let mut s = sleep(Duration::from_secs(3600));
                assert!(poll_once(&mut s).await.is_pending());
            }
            registered_sleep(ms(2)).await; // one that fires, so the loop looks at the timers
        });
        assert_eq!(rt.metrics().timers_fired - before, 1);
        assert_eq!(rt.next_deadline(), None);
    });
}

#[test]
fn next_deadline_is_not_later_than_the_earliest_timer() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        assert_eq!(rt.next_deadline(), None);
        rt.block_on(async {
            let mut lcg = Lcg(99);
            let mut sleeps = Vec::new();
            let mut earliest: Option<Instant> = None;
            for _ in 0..200 {
                let d = ms(5 + lcg.next() % 100_000);
                let mut s = sleep(d);
                assert!(poll_once(&mut s).await.is_pending());
                earliest = Some(earliest.map_or(s.deadline(), |e| e.min(s.deadline())));
                sleeps.push(s);
                let next = rt.next_deadline().expect("a timer is registered");
                // Rounded up to the millisecond at most.
                assert!(
                    next <= earliest.unwrap() + MS,
                    "next_deadline is {:?} after the earliest timer",
                    next - earliest.unwrap()
                );
            }
        });
    });
}

/// The "Time" section of API.md, as it writes the signatures: this test
/// only has to compile.
#[test]
fn signatures_as_api_md_writes_them() {
    use eddy::time::{
        Instant, Interval, MissedTickBehavior, Sleep, Timeout, error::Elapsed, interval,
        interval_at, sleep, sleep_until, timeout, timeout_at,
    };
    let _: std::time::Instant = Instant::now();
    let _: fn(Duration) -> Sleep = sleep;
    let _: fn(Instant) -> Sleep = sleep_until;
    let _ = |s: Sleep| fut::<(), _>(s);
    let _ = |s: &Sleep| -> (Instant, bool) { (s.deadline(), s.is_elapsed()) };
    let _ = |s: Pin<&mut Sleep>, at: Instant| s.reset(at);
    let _: fn(Duration, std::future::Ready<u8>) -> Timeout<std::future::Ready<u8>> = timeout;
    let _: fn(Instant, std::future::Ready<u8>) -> Timeout<std::future::Ready<u8>> = timeout_at;
    let _ = |t: Timeout<std::future::Ready<u8>>| fut::<Result<u8, Elapsed>, _>(t);
    let _: fn(Duration) -> Interval = interval;
    let _: fn(Instant, Duration) -> Interval = interval_at;
    let _ = |i: &mut Interval| fut::<Instant, _>(i.tick());
    let _ = |i: &mut Interval| {
        for b in [
            MissedTickBehavior::Burst,
            MissedTickBehavior::Delay,
            MissedTickBehavior::Skip,
        ] {
            i.set_missed_tick_behavior(b);
        }
    };
    assert_eq!(MissedTickBehavior::default(), MissedTickBehavior::Burst);
    fn error<E: std::error::Error + Send + Sync + 'static>() {}
    error::<Elapsed>();
}
