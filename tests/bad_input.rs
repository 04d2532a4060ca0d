//! Bad input across the whole API: out-of-range durations, zero and huge
//! counts, addresses in use or closed, names that do not resolve, empty
//! buffers and datagrams, descriptors epoll refuses or that do not exist,
//! and the misuses the README lists ("Panics are for API misuse only").
//!
//! The rule checked everywhere: bad input gets a clear error or the
//! documented behaviour; a panic only for API misuse, with a message that
//! says what was wrong; never undefined behaviour, a hang or a spin. Some of
//! these cases are also in `time.rs`, `net.rs`, `sync.rs`, `runtime.rs` and
//! `task.rs`; this file is the one place that goes over all of them, so it
//! repeats a few briefly and adds the ones those files leave out.
//!
//! Every test runs under `common::watchdog`, and none sleeps to wait for an
//! event: "stays pending" is checked with a short eddy timeout around the
//! future (the loop parks on its timer meanwhile, it does not spin).

mod common;

use std::cell::{Cell, RefCell};
use std::fs::{self, File};
use std::future::{Future, pending, poll_fn};
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr};
use std::os::fd::{AsRawFd, RawFd};
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

use common::*;
use eddy::Runtime;
use eddy::io::Async;
use eddy::net::{TcpListener, TcpStream, UdpSocket, UnixListener, UnixStream};
use eddy::sync::{Semaphore, TryAcquireError, mpsc, oneshot};
use eddy::task::{spawn_blocking, yield_now};
use eddy::time::error::Elapsed;
use eddy::time::{
    Instant, MissedTickBehavior, interval, interval_at, sleep, sleep_until, timeout, timeout_at,
};
use futures::FutureExt;
use futures::io::AsyncReadExt;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

const MS: Duration = Duration::from_millis(1);

/// How long "stays pending" is watched, and how late "at once" may be on a
/// loaded machine.
const SHORT: Duration = Duration::from_millis(50);

/// At least thirty years, as API.md asks of a saturated deadline.
const THIRTY_YEARS: Duration = Duration::from_secs(30 * 365 * 24 * 60 * 60);

/// Polls `fut` once with a no-op waker.
fn poll_noop<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut Context::from_waker(Waker::noop()))
}

/// Polls `fut` once with the calling task's context.
async fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    poll_fn(|cx| Poll::Ready(Pin::new(&mut *fut).poll(cx))).await
}

/// The farthest instant this clock can represent (whole seconds from now).
fn farthest_instant() -> Instant {
    let now = Instant::now();
    let (mut lo, mut hi) = (0u64, u64::MAX);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if now.checked_add(Duration::from_secs(mid)).is_some() {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    now + Duration::from_secs(lo)
}

/// Asserts that `what` waits: a `SHORT` timeout around it elapses.
async fn assert_stays_pending<F: Future + Unpin>(fut: &mut F, what: &str) {
    assert!(
        timeout(SHORT, fut).await.is_err(),
        "{what} completed; it should still be pending"
    );
}

/// Asserts the runtime's next deadline is at least thirty years ahead.
#[track_caller]
fn assert_far_deadline(rt: &Runtime, what: &str) {
    let next = rt
        .next_deadline()
        .unwrap_or_else(|| panic!("{what}: no timer registered"));
    assert!(
        next >= Instant::now() + THIRTY_YEARS,
        "{what}: the next deadline is only {:?} ahead",
        next.saturating_duration_since(Instant::now())
    );
}

/// A connected pair of TCP streams on 127.0.0.1.
async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (client, accepted) = futures::join!(TcpStream::connect(addr), listener.accept());
    (client.unwrap(), accepted.unwrap().0)
}

/// A raw descriptor number, not owned: for `Async::new` on descriptors
/// that are invalid, or owned by someone else.
struct RawOnly(RawFd);

impl AsRawFd for RawOnly {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

/// A file that counts its drops.
struct Tracked {
    file: File,
    drops: Rc<Cell<u32>>,
}

impl AsRawFd for Tracked {
    fn as_raw_fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.set(self.drops.get() + 1);
    }
}

/// What epoll says to adding `fd`, on a fresh epoll instance: `Ok` or the errno.
fn epoll_verdict(fd: RawFd) -> Result<(), i32> {
    // SAFETY: a fresh epoll fd, closed at the end; the event is a live local.
    unsafe {
        let ep = libc::epoll_create1(libc::EPOLL_CLOEXEC);
        assert!(ep >= 0);
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: 0,
        };
        let r = libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, fd, &mut ev);
        let err = io::Error::last_os_error().raw_os_error().unwrap_or(0);
        libc::close(ep);
        if r == 0 { Ok(()) } else { Err(err) }
    }
}

/// True if `fd` is an open descriptor of this process.
fn is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD only reads the descriptor's flags.
    unsafe { libc::fcntl(fd, libc::F_GETFD) != -1 }
}

// ---------------------------------------------------------------------------
// Durations
// ---------------------------------------------------------------------------

#[test]
fn sleep_zero_completes_at_the_next_tick() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            for _ in 0..5 {
                let start = Instant::now();
                assert_eq!(timeout(SHORT, sleep(Duration::ZERO)).await, Ok(()));
                assert_eq!(timeout(SHORT, sleep(Duration::from_nanos(1))).await, Ok(()));
                assert!(start.elapsed() < SHORT * 2, "took {:?}", start.elapsed());
            }
        });
        assert_eq!(rt.next_deadline(), None, "a zero sleep left a timer behind");
        // Driven by a host with `turn`: done in a few turns, each waiting at
        // most for the next tick.
        let h = rt.spawn(sleep(Duration::ZERO));
        let mut turns = 0;
        while !h.is_finished() {
            rt.turn(Some(SHORT));
            turns += 1;
            assert!(turns <= 10, "sleep(ZERO) not done after {turns} turns");
        }
    });
}

#[test]
fn huge_durations_stay_pending_with_a_deadline_decades_ahead() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let far = farthest_instant();
        rt.block_on(async {
            // sleep(Duration::MAX) and its neighbours: no panic, no overflow,
            // pending, and the timer is at least thirty years away.
            for d in [
                Duration::MAX,
                Duration::from_secs(u64::MAX),
                Duration::MAX - MS,
                Duration::from_secs(200 * 365 * 24 * 3600),
            ] {
                let mut s = sleep(d);
                assert!(!s.is_elapsed());
                assert!(poll_once(&mut s).await.is_pending(), "sleep({d:?})");
                assert_far_deadline(&rt, &format!("sleep({d:?})"));
                assert_stays_pending(&mut s, &format!("sleep({d:?})")).await;
                drop(s);
                assert_eq!(rt.next_deadline(), None);
            }
            // sleep_until the farthest instant the clock can represent.
            let mut s = sleep_until(far);
            assert_eq!(s.deadline(), far);
            assert!(poll_once(&mut s).await.is_pending());
            assert_far_deadline(&rt, "sleep_until(farthest instant)");
            assert_stays_pending(&mut s, "sleep_until(farthest instant)").await;
            drop(s);
            // timeout(Duration::MAX, ..) and timeout_at(far, ..) on a
            // future that never completes.
            let mut t = timeout(Duration::MAX, pending::<()>());
            assert!(poll_once(&mut t).await.is_pending());
            assert_far_deadline(&rt, "timeout(Duration::MAX)");
            assert_stays_pending(&mut t, "timeout(Duration::MAX, pending)").await;
            drop(t);
            let mut t = timeout_at(far, pending::<()>());
            assert_stays_pending(&mut t, "timeout_at(farthest instant, pending)").await;
            drop(t);
            // ... and on one that completes.
            assert_eq!(timeout(Duration::MAX, async { 7 }).await, Ok(7));
            assert_eq!(timeout_at(far, async { 8 }).await, Ok(8));
            // interval(Duration::MAX): the first tick at once, the second
            // decades away.
            let mut iv = interval(Duration::MAX);
            assert_eq!(timeout(SHORT, iv.tick()).await.map(|_| ()), Ok(()));
            {
                let mut second = pin!(iv.tick());
                assert!(poll_once(&mut second.as_mut()).await.is_pending());
                assert_far_deadline(&rt, "interval(Duration::MAX) second tick");
                assert_stays_pending(&mut second, "interval(Duration::MAX) second tick").await;
            }
            iv.reset();
            let mut third = pin!(iv.tick());
            assert_stays_pending(&mut third, "interval(Duration::MAX) after reset").await;
        });
        assert_eq!(rt.next_deadline(), None);
        // A task sleeping forever does not make `turn` spin: a turn with a
        // short limit polls nothing and waits.
        let h = rt.spawn(sleep(Duration::MAX));
        assert_eq!(rt.turn(Some(Duration::ZERO)), 1);
        assert_far_deadline(&rt, "a task in sleep(Duration::MAX)");
        let parks = rt.metrics().parks;
        assert_eq!(rt.turn(Some(5 * MS)), 0);
        assert!(rt.metrics().parks > parks, "the turn did not wait");
        assert!(!h.is_finished());
        h.abort();
    });
}

#[test]
fn turn_with_a_huge_max_wait_returns_when_work_comes() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.spawn(sleep(Duration::MAX));
        assert_eq!(rt.turn(Some(Duration::ZERO)), 1);
        // The host fd stays quiet with only a far timer (the timerfd is
        // armed decades ahead, not at once).
        let fd = rt.as_raw_fd();
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        assert_eq!(unsafe { libc::poll(&mut p, 1, 0) }, 0, "fd readable");
        // turn(Some(Duration::MAX)) waits (mio clamps the timeout), and
        // returns when another thread gives the runtime work.
        let handle = rt.handle();
        let remote = thread::spawn(move || handle.spawn(async { 5 }));
        let mut polls = 0;
        while polls == 0 {
            polls = rt.turn(Some(Duration::MAX));
        }
        let remote = remote.join().unwrap();
        assert_eq!(rt.block_on(remote).unwrap(), 5);
        // Nothing else is ready: the far sleeper is not polled again.
        assert_eq!(rt.turn(Some(Duration::ZERO)), 0);
    });
}

#[test]
fn past_instants_complete_at_once() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            // Make sure the runtime's clock has started well before the
            // instants below, so they are past for its wheel too.
            sleep(25 * MS).await;
            let now = Instant::now();
            for d in [Duration::from_secs(1), 20 * MS, 2 * MS] {
                let Some(past) = now.checked_sub(d) else {
                    continue; // the machine booted less than `d` ago
                };
                let parks = rt.metrics().parks;
                let start = Instant::now();
                let mut s = sleep_until(past);
                assert!(s.is_elapsed());
                (&mut s).await;
                // timeout_at a past instant: a ready future still wins
                // (polled first); a pending one is cut at once.
                assert_eq!(timeout_at(past, async { 1 }).await, Ok(1));
                let cut: Result<(), Elapsed> = timeout_at(past, pending()).await;
                assert!(cut.is_err());
                // interval_at a past start: the first tick at once.
                let mut iv = interval_at(past, Duration::from_secs(3600));
                assert_eq!(iv.tick().await, past);
                assert_eq!(
                    rt.metrics().parks,
                    parks,
                    "the loop blocked for an instant {d:?} in the past"
                );
                assert!(start.elapsed() < SHORT, "took {:?}", start.elapsed());
            }
            // Less than a tick in the past: rounded up to the next tick, so
            // it may wait for that tick (as sleep(ZERO) does), no longer.
            let past = Instant::now() - Duration::from_nanos(1);
            let start = Instant::now();
            sleep_until(past).await;
            let cut: Result<(), Elapsed> = timeout_at(past, pending()).await;
            assert!(cut.is_err());
            assert!(start.elapsed() < SHORT, "took {:?}", start.elapsed());
        });
        assert_eq!(rt.next_deadline(), None);
    });
}

#[test]
fn sleep_reset_to_far_instants_and_back() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let far = farthest_instant();
        rt.block_on(async {
            let mut s = sleep(MS);
            assert!(poll_once(&mut s).await.is_pending());
            // Registered, then moved to the farthest instant: pending.
            Pin::new(&mut s).reset(far);
            assert_eq!(s.deadline(), far);
            assert_far_deadline(&rt, "a Sleep reset to the farthest instant");
            assert_stays_pending(&mut s, "a Sleep reset to the farthest instant").await;
            // And back near: completes.
            Pin::new(&mut s).reset(Instant::now() + 2 * MS);
            assert_eq!(timeout(SHORT * 10, &mut s).await, Ok(()));
            // Polled again after completing: still complete (no panic).
            assert_eq!(poll_once(&mut s).await, Poll::Ready(()));
            // Completed, then reset far: waits again.
            Pin::new(&mut s).reset(Instant::now() + Duration::from_secs(300 * 365 * 24 * 3600));
            assert!(!s.is_elapsed());
            assert_stays_pending(&mut s, "a completed Sleep reset far").await;
            // Reset to the past: done without the loop blocking.
            let parks = rt.metrics().parks;
            Pin::new(&mut s).reset(Instant::now() - 2 * MS);
            assert_eq!(timeout(SHORT, &mut s).await, Ok(()));
            assert_eq!(rt.metrics().parks, parks);
            drop(s);
            assert_eq!(rt.next_deadline(), None);
            // A Sleep never polled, reset far, then polled.
            let mut s = sleep(Duration::ZERO);
            Pin::new(&mut s).reset(far);
            assert_stays_pending(&mut s, "an unpolled Sleep reset far").await;
            // Intervals reset far.
            let mut iv = interval(MS);
            iv.tick().await;
            iv.reset_at(far);
            let mut tick = pin!(iv.tick());
            assert_stays_pending(&mut tick, "an interval reset to the farthest instant").await;
        });
        assert_eq!(rt.next_deadline(), None);
    });
}

#[test]
fn interval_with_a_zero_period_panics_with_a_message() {
    watchdog(LIMIT, || {
        let check = |msg: String| {
            assert!(
                msg.contains("interval") && msg.contains("period") && msg.contains("non-zero"),
                "unclear message: {msg}"
            );
        };
        check(catch(|| interval(Duration::ZERO)).unwrap_err());
        check(catch(|| interval_at(Instant::now(), Duration::ZERO)).unwrap_err());
        eddy::block_on(async {
            check(catch(|| interval(Duration::ZERO)).unwrap_err());
            // The runtime goes on.
            sleep(MS).await;
        });
    });
}

#[test]
fn interval_with_a_huge_period_and_each_missed_tick_behavior() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            for behavior in [
                MissedTickBehavior::Burst,
                MissedTickBehavior::Delay,
                MissedTickBehavior::Skip,
            ] {
                // A start long past, so the first tick counts as missed and
                // the behaviour computes the next one with a huge period.
                let start = Instant::now()
                    .checked_sub(Duration::from_secs(1))
                    .unwrap_or_else(Instant::now);
                for period in [
                    Duration::MAX,
                    Duration::from_secs(u64::MAX),
                    THIRTY_YEARS * 4,
                ] {
                    let mut iv = interval_at(start, period);
                    iv.set_missed_tick_behavior(behavior);
                    assert_eq!(iv.tick().await, start, "{behavior:?} {period:?}");
                    let mut next = pin!(iv.tick());
                    assert!(poll_once(&mut next.as_mut()).await.is_pending());
                    assert_far_deadline(&rt, &format!("{behavior:?} {period:?}"));
                }
            }
        });
    });
}

#[test]
fn timeout_zero_prefers_a_ready_future_and_cuts_a_pending_one() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            // API.md: the inner future is polled first, so a ready future
            // never times out, whatever the limit.
            assert_eq!(timeout(Duration::ZERO, async { 1 }).await, Ok(1));
            let mut ready = timeout(Duration::ZERO, std::future::ready(2));
            assert_eq!(poll_noop(&mut ready), Poll::Ready(Ok(2)));
            let (tx, rx) = oneshot::channel();
            tx.send(3).unwrap();
            assert_eq!(timeout(Duration::ZERO, rx).await, Ok(Ok(3)));
            // A pending future is cut at the next tick.
            let start = Instant::now();
            let cut: Result<(), Elapsed> = timeout(Duration::ZERO, pending()).await;
            assert!(cut.is_err());
            assert!(start.elapsed() < SHORT, "took {:?}", start.elapsed());
        });
        assert_eq!(rt.next_deadline(), None);
    });
}

#[test]
fn builder_durations_at_the_extremes() {
    watchdog(LIMIT, || {
        // A zero slow-poll threshold reports (nearly) every poll on stderr,
        // and a huge one none: neither panics.
        for threshold in [Duration::ZERO, Duration::MAX] {
            let rt = Runtime::builder()
                .debug(true)
                .slow_poll_threshold(threshold)
                .build()
                .unwrap();
            let sum = rt.block_on(async {
                let h = eddy::spawn(async {
                    yield_now().await;
                    sleep(MS).await;
                    2
                });
                h.await.unwrap() + 1
            });
            assert_eq!(sum, 3, "slow_poll_threshold({threshold:?})");
        }
        // Zero keep-alive: each helper thread exits as soon as it is idle;
        // closures submitted one after another and together all run.
        let rt = Runtime::builder()
            .blocking_keep_alive(Duration::ZERO)
            .max_blocking_threads(2)
            .build()
            .unwrap();
        rt.block_on(async {
            for i in 0..30u32 {
                assert_eq!(spawn_blocking(move || i * 2).await.unwrap(), i * 2);
            }
            let handles: Vec<_> = (0..20u32).map(|i| spawn_blocking(move || i)).collect();
            for (i, h) in handles.into_iter().enumerate() {
                assert_eq!(h.await.unwrap() as usize, i);
            }
        });
        drop(rt);
        // Huge keep-alive and thread count: work runs, and the runtime's
        // drop does not wait for the idle helper.
        let rt = Runtime::builder()
            .blocking_keep_alive(Duration::MAX)
            .max_blocking_threads(usize::MAX)
            .event_interval(u32::MAX)
            .build()
            .unwrap();
        rt.block_on(async {
            let handles: Vec<_> = (0..8u32).map(|i| spawn_blocking(move || i + 1)).collect();
            let mut total = 0;
            for h in handles {
                total += h.await.unwrap();
            }
            assert_eq!(total, 36);
            sleep(MS).await;
        });
        let start = Instant::now();
        drop(rt);
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "dropping the runtime took {:?}",
            start.elapsed()
        );
    });
}

#[test]
fn builder_zero_counts_panic_at_the_setter_with_a_message() {
    watchdog(LIMIT, || {
        let msg = catch(|| Runtime::builder().event_interval(0)).unwrap_err();
        assert!(
            msg.contains("event_interval") && msg.contains("at least 1"),
            "unclear message: {msg}"
        );
        let msg = catch(|| Runtime::builder().max_blocking_threads(0)).unwrap_err();
        assert!(
            msg.contains("max_blocking_threads") && msg.contains("at least 1"),
            "unclear message: {msg}"
        );
        // The smallest legal values work.
        let rt = Runtime::builder()
            .event_interval(1)
            .max_blocking_threads(1)
            .build()
            .unwrap();
        let got = rt.block_on(async {
            let a = spawn_blocking(|| 1);
            let b = spawn_blocking(|| 2);
            a.await.unwrap() + b.await.unwrap()
        });
        assert_eq!(got, 3);
    });
}

// ---------------------------------------------------------------------------
// Channels and the semaphore
// ---------------------------------------------------------------------------

#[test]
fn mpsc_channel_zero_panics_and_says_what_to_use() {
    watchdog(LIMIT, || {
        let msg = catch(|| mpsc::channel::<u8>(0)).unwrap_err();
        assert!(
            msg.contains("capacity") && msg.contains("at least 1") && msg.contains("unbounded"),
            "unclear message: {msg}"
        );
        // Capacity 1 and usize::MAX (no huge allocation up front) both work.
        eddy::block_on(async {
            let (tx, mut rx) = mpsc::channel(1);
            tx.send(1).await.unwrap();
            assert!(matches!(tx.try_send(2), Err(mpsc::TrySendError::Full(2))));
            assert_eq!(rx.recv().await, Some(1));
            let (tx, mut rx) = mpsc::channel(usize::MAX);
            for i in 0..10_000u32 {
                tx.try_send(i).unwrap();
            }
            tx.send(10_000).await.unwrap();
            drop(tx);
            let mut n = 0;
            while let Some(i) = rx.recv().await {
                assert_eq!(i, n);
                n += 1;
            }
            assert_eq!(n, 10_001);
        });
    });
}

#[test]
fn mpsc_after_the_other_side_is_gone() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            // Every sender gone: queued values first, then Disconnected/None,
            // again and again.
            let (tx, mut rx) = mpsc::channel(4);
            tx.try_send(1).unwrap();
            let tx2 = tx.clone();
            drop(tx);
            assert_eq!(rx.try_recv(), Ok(1));
            assert_eq!(rx.try_recv(), Err(mpsc::TryRecvError::Empty));
            tx2.try_send(2).unwrap();
            drop(tx2);
            assert_eq!(rx.recv().await, Some(2));
            for _ in 0..3 {
                assert_eq!(rx.try_recv(), Err(mpsc::TryRecvError::Disconnected));
                assert_eq!(rx.recv().await, None);
                assert_eq!(futures::StreamExt::next(&mut rx).await, None);
            }
            // The receiver gone: the value comes back, at once.
            let (tx, rx) = mpsc::unbounded::<String>();
            drop(rx);
            assert!(tx.is_closed());
            let err = tx.send("a".to_string()).await.unwrap_err();
            assert_eq!(err.0, "a");
            assert!(matches!(
                tx.try_send("b".to_string()),
                Err(mpsc::TrySendError::Closed(s)) if s == "b"
            ));
            // A sender waiting for room when the receiver goes: woken, value back.
            let (tx, rx) = mpsc::channel(1);
            tx.send(0u8).await.unwrap();
            let tx = Rc::new(tx);
            let waiting = eddy::spawn({
                let tx = tx.clone();
                async move { tx.send(9).await }
            });
            yield_now().await;
            assert!(!waiting.is_finished());
            drop(rx);
            assert_eq!(waiting.await.unwrap().unwrap_err().0, 9);
        });
    });
}

#[test]
fn mpsc_send_future_polled_after_completion_panics_with_a_message() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (tx, mut rx) = mpsc::channel(2);
            let mut send = tx.send(1);
            assert!(matches!(poll_noop(&mut send), Poll::Ready(Ok(()))));
            let msg = catch(|| poll_noop(&mut send)).unwrap_err();
            assert!(
                msg.contains("Send polled after completion"),
                "unclear message: {msg}"
            );
            drop(send);
            // The channel is intact: one value, and room for more.
            assert_eq!(rx.try_recv(), Ok(1));
            tx.try_send(2).unwrap();
            assert_eq!(rx.recv().await, Some(2));
        });
    });
}

#[test]
fn oneshot_after_use() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            // After the value: Err(RecvError) again and again (README), no panic.
            let (tx, mut rx) = oneshot::channel();
            tx.send(1).unwrap();
            assert_eq!((&mut rx).await, Ok(1));
            assert_eq!((&mut rx).await, Err(oneshot::RecvError));
            assert_eq!(poll_noop(&mut rx), Poll::Ready(Err(oneshot::RecvError)));
            assert_eq!(rx.try_recv(), Err(oneshot::TryRecvError::Closed));
            // The receiver gone or closed: the value comes back.
            let (tx, rx) = oneshot::channel();
            drop(rx);
            assert!(tx.is_closed());
            assert_eq!(tx.send("v"), Err("v"));
            let (mut tx, mut rx) = oneshot::channel::<u8>();
            rx.close();
            tx.closed().await;
            assert_eq!(tx.send(2), Err(2));
            assert_eq!(rx.await, Err(oneshot::RecvError));
            // The sender dropped unsent, while the receiver waits.
            let (tx, rx) = oneshot::channel::<u8>();
            let waiting = eddy::spawn(rx);
            yield_now().await;
            drop(tx);
            assert_eq!(waiting.await.unwrap(), Err(oneshot::RecvError));
        });
    });
}

#[test]
fn semaphore_zero_then_add_permits() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let sem = Rc::new(Semaphore::new(0));
            assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
            sem.add_permits(0);
            assert_eq!(sem.available_permits(), 0);
            let waiter = eddy::spawn({
                let sem = sem.clone();
                async move {
                    let _p = sem.acquire().await;
                }
            });
            yield_now().await;
            assert!(!waiter.is_finished());
            sem.add_permits(0);
            yield_now().await;
            assert!(!waiter.is_finished(), "add_permits(0) woke a waiter");
            sem.add_permits(1);
            assert_eq!(sem.available_permits(), 0, "the permit went to the waiter");
            waiter.await.unwrap();
            assert_eq!(sem.available_permits(), 1);
        });
    });
}

#[test]
fn semaphore_add_permits_overflow_panics_clearly() {
    watchdog(LIMIT, || {
        let sem = Semaphore::new(0);
        sem.add_permits(Semaphore::MAX_PERMITS);
        assert_eq!(sem.available_permits(), Semaphore::MAX_PERMITS);
        // Documented: panics above Semaphore::MAX_PERMITS (as tokio).
        let msg = catch(|| sem.add_permits(1)).unwrap_err();
        assert!(
            msg.contains("Semaphore") && msg.contains("MAX_PERMITS"),
            "unclear message: {msg}"
        );
        assert_eq!(
            sem.available_permits(),
            Semaphore::MAX_PERMITS,
            "the count changed"
        );
        // Adding nothing is never refused.
        sem.add_permits(0);
        let msg = catch(|| Semaphore::new(1).add_permits(usize::MAX)).unwrap_err();
        assert!(msg.contains("Semaphore"), "unclear message: {msg}");
    });
}

#[test]
fn semaphore_permit_given_back_at_the_limit_does_not_wrap() {
    // A permit given back to a semaphore whose count is already at the
    // limit (because `add_permits` filled it meanwhile) must not wrap the
    // count to 0 (release build) or panic with a bare "attempt to add with
    // overflow" (debug build), nor be lost: a permit's drop never panics,
    // so the count goes past the limit by the permits held, as they were
    // before.
    watchdog(LIMIT, || {
        let sem = Semaphore::new(1);
        let permit = sem.try_acquire().unwrap();
        sem.add_permits(Semaphore::MAX_PERMITS);
        assert_eq!(sem.available_permits(), Semaphore::MAX_PERMITS);
        match catch(move || drop(permit)) {
            Ok(()) => assert_eq!(
                sem.available_permits(),
                Semaphore::MAX_PERMITS + 1,
                "the permit given back was lost or the count wrapped"
            ),
            Err(msg) => panic!("giving a permit back panicked: {msg:?}"),
        }
    });
}

#[test]
fn semaphore_with_many_waiters_dropped() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let sem = Rc::new(Semaphore::new(0));
            let weak = Rc::downgrade(&sem);
            let holding = Rc::new(Cell::new(0u32));
            let release = Rc::new(eddy::sync::Notify::new());
            let mut tasks = Vec::new();
            for _ in 0..100 {
                let (sem, holding, release) = (sem.clone(), holding.clone(), release.clone());
                tasks.push(eddy::spawn(async move {
                    let _permit = sem.acquire().await;
                    holding.set(holding.get() + 1);
                    release.notified().await;
                }));
            }
            yield_now().await;
            // Ten permits: the first ten waiters hold them.
            sem.add_permits(10);
            yield_now().await;
            assert_eq!(holding.get(), 10);
            assert_eq!(sem.available_permits(), 0);
            // Five more permits granted to the next five waiters, which are
            // aborted before they run: the permits pass on, none is lost.
            sem.add_permits(5);
            for t in &tasks[10..15] {
                t.abort();
            }
            yield_now().await;
            assert_eq!(holding.get(), 15, "the aborted waiters' permits passed on");
            // Tasks 0..10 and 15..20 hold permits; 20..100 wait. Abort half
            // of the waiters, grant three permits, then abort every other
            // waiter, the three granted ones first: their permits pass from
            // one aborted waiter to the next and end up back in the count.
            for t in &tasks[20..60] {
                t.abort();
            }
            sem.add_permits(3);
            assert_eq!(sem.available_permits(), 0, "the permits went to waiters");
            for t in &tasks[60..] {
                t.abort();
            }
            yield_now().await;
            assert_eq!(holding.get(), 15);
            assert_eq!(
                sem.available_permits(),
                3,
                "permits of aborted waiters were lost"
            );
            // The holders finish: every permit comes back.
            release.notify_waiters();
            for t in tasks {
                let _ = t.await;
            }
            assert_eq!(sem.available_permits(), 18);
            drop(sem);
            assert!(weak.upgrade().is_none(), "a waiter leaked the semaphore");
        });
    });
}

// ---------------------------------------------------------------------------
// Net: addresses in use, closed, unresolvable, invalid
// ---------------------------------------------------------------------------

#[test]
fn binding_an_address_in_use_or_not_ours() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let std_tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let err = TcpListener::bind(std_tcp.local_addr().unwrap()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AddrInUse, "{err}");
            let std_udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            let err = UdpSocket::bind(std_udp.local_addr().unwrap()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AddrInUse, "{err}");
            // An address that is not this host's (TEST-NET-1).
            let err = TcpListener::bind("192.0.2.1:0").unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AddrNotAvailable, "{err}");
            let err = UdpSocket::bind("192.0.2.1:0").unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AddrNotAvailable, "{err}");
            // An empty list of addresses.
            let err = UdpSocket::bind(&[] as &[SocketAddr]).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        });
    });
}

#[test]
fn unix_listener_bind_to_bad_paths() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            // A path a std listener holds.
            let path = TempPath::new("held.sock");
            let _std = std::os::unix::net::UnixListener::bind(&path.0).unwrap();
            let err = UnixListener::bind(&path.0).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AddrInUse, "{err}");
            // A regular file: not replaced, not removed.
            let file = TempPath::new("regular.txt");
            fs::write(&file.0, b"keep me").unwrap();
            let err = UnixListener::bind(&file.0).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AddrInUse, "{err}");
            assert_eq!(fs::read(&file.0).unwrap(), b"keep me");
            // A directory that does not exist.
            let missing = std::env::temp_dir()
                .join(format!("eddy-bad-input-{}-no-such-dir", std::process::id()))
                .join("x.sock");
            let err = UnixListener::bind(&missing).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
            // Too long for sun_path, and with an interior NUL.
            let long = std::env::temp_dir().join("x".repeat(200));
            let err = UnixListener::bind(&long).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
            let err = UnixListener::bind("/tmp/eddy\0nul.sock").unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
            // The same for connect.
            let err = UnixStream::connect(&long).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
            let err = UnixStream::connect(&missing).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
            let err = UnixStream::connect(&file.0).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
            // An empty path: connect refuses it (EINVAL); bind, as Linux
            // does, auto-binds to a fresh abstract address and makes no file.
            let err = UnixStream::connect("").await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
            let unnamed = UnixListener::bind("").unwrap();
            assert_eq!(unnamed.local_addr().unwrap().as_pathname(), None);
        });
    });
}

#[cfg(target_os = "linux")]
#[test]
fn unix_abstract_names_in_use_or_unbound() {
    use std::os::linux::net::SocketAddrExt;
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let name = format!("\0eddy-bad-input-{}-abstract", std::process::id());
            let _held = UnixListener::bind(&name).unwrap();
            let err = UnixListener::bind(&name).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AddrInUse, "{err}");
            let nobody = format!("\0eddy-bad-input-{}-nobody", std::process::id());
            let err = UnixStream::connect(&nobody).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(&nobody[1..]).unwrap();
            let err = UnixStream::connect_addr(&addr).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
            // A name too long for sun_path.
            let long = format!("\0{}", "x".repeat(200));
            let err = UnixListener::bind(&long).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        });
    });
}

#[test]
fn connecting_to_a_closed_port_is_refused_promptly() {
    watchdog(LIMIT, || {
        let closed = closed_port();
        eddy::block_on(async {
            let start = Instant::now();
            let err = TcpStream::connect(closed.addr).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
            // Port 0 is refused too.
            let err = TcpStream::connect("127.0.0.1:0").await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
            assert!(
                start.elapsed() < Duration::from_secs(2),
                "refusal took {:?}",
                start.elapsed()
            );
            // A Unix socket file whose listener is gone.
            let path = TempPath::new("gone.sock");
            drop(UnixListener::bind(&path.0).unwrap());
            assert!(path.0.exists());
            let err = UnixStream::connect(&path.0).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
        });
    });
}

#[test]
fn unresolvable_host_names_fail_without_blocking_the_loop() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let ticks = Rc::new(Cell::new(0u64));
            let ticker = eddy::spawn({
                let ticks = ticks.clone();
                async move {
                    loop {
                        ticks.set(ticks.get() + 1);
                        sleep(MS).await;
                    }
                }
            });
            yield_now().await;
            // `.invalid` never resolves (RFC 6761). Without a network the
            // resolver should fail fast; if it is slow, the bound below
            // cancels the attempt, which must not hang either.
            let bound = Duration::from_secs(3);
            let start = Instant::now();
            match timeout(bound, TcpStream::connect("nonexistent.invalid:80")).await {
                Ok(result) => {
                    let err = result.expect_err("nonexistent.invalid resolved and connected");
                    assert!(
                        !matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted),
                        "{err:?}"
                    );
                    // The name form with a separate port, and send_to.
                    let err = TcpStream::connect(("nonexistent.invalid", 80))
                        .await
                        .unwrap_err();
                    assert!(!err.to_string().is_empty());
                    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
                    let err = udp
                        .send_to(b"x", "nonexistent.invalid:80")
                        .await
                        .unwrap_err();
                    assert!(!err.to_string().is_empty());
                    // Resolved on this thread (documented for connect on UDP).
                    assert!(udp.connect("nonexistent.invalid:80").is_err());
                }
                Err(_) => eprintln!(
                    "note: resolving nonexistent.invalid took longer than {bound:?} here; \
                     the attempt was cancelled"
                ),
            }
            // The loop kept running timers while the name was looked up.
            let ms = start.elapsed().as_millis() as u64;
            if ms >= 20 {
                assert!(ticks.get() >= 2, "the loop was blocked for {ms} ms");
            }
            ticker.abort();
            // A name with no port, and garbage.
            let err = TcpStream::connect("nonexistent.invalid").await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
            let err = TcpStream::connect("").await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        });
    });
}

// ---------------------------------------------------------------------------
// Net: empty buffers and datagrams, sizes, use after shutdown
// ---------------------------------------------------------------------------

/// Empty reads and writes on one stream pair (`a` writes to `b`).
async fn check_empty_buffers<S>(
    a: &S,
    b: &S,
    read: impl for<'x> Fn(&'x S, &'x mut [u8]) -> futures::future::LocalBoxFuture<'x, io::Result<usize>>,
    write: impl for<'x> Fn(&'x S, &'x [u8]) -> futures::future::LocalBoxFuture<'x, io::Result<usize>>,
    what: &str,
) {
    // Nothing sent yet: an empty read completes at once with 0, and is
    // not an end of stream.
    let mut empty = [0u8; 0];
    assert_eq!(
        read(b, &mut empty).now_or_never().map(|r| r.unwrap()),
        Some(0),
        "{what}: an empty read waited"
    );
    assert_eq!(
        write(a, &[]).now_or_never().map(|r| r.unwrap()),
        Some(0),
        "{what}: an empty write waited"
    );
    // A real read with nothing there waits.
    let mut buf = [0u8; 8];
    assert!(
        read(b, &mut buf).now_or_never().is_none(),
        "{what}: a read with no data did not wait"
    );
    // Data comes; empty reads still say 0 and take nothing.
    assert_eq!(write(a, b"hi").await.unwrap(), 2);
    assert_eq!(read(b, &mut empty).await.unwrap(), 0);
    let n = read(b, &mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"hi", "{what}");
    assert_eq!(read(b, &mut empty).await.unwrap(), 0);
    assert_eq!(write(a, b"more").await.unwrap(), 4);
    let n = read(b, &mut buf).await.unwrap();
    assert_eq!(
        &buf[..n],
        b"more",
        "{what}: data after an empty read was lost"
    );
}

#[test]
fn empty_buffers_on_streams() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (a, b) = tcp_pair().await;
            check_empty_buffers(
                &a,
                &b,
                |s, buf| Box::pin(s.read(buf)),
                |s, buf| Box::pin(s.write(buf)),
                "tcp inherent",
            )
            .await;
            check_empty_buffers(
                &a,
                &b,
                |mut s, buf| Box::pin(async move { AsyncReadExt::read(&mut s, buf).await }),
                |mut s, buf| {
                    Box::pin(async move { futures::AsyncWriteExt::write(&mut s, buf).await })
                },
                "tcp futures-io",
            )
            .await;
            // read_exact and write_all of nothing: done at once.
            let mut empty = [0u8; 0];
            assert!(matches!(
                b.read_exact(&mut empty).now_or_never(),
                Some(Ok(()))
            ));
            assert!(matches!(a.write_all(&[]).now_or_never(), Some(Ok(()))));
            // After the end of stream, empty and real reads both say 0.
            drop(a);
            let mut buf = [0u8; 4];
            assert_eq!(b.read(&mut buf).await.unwrap(), 0);
            assert_eq!(b.read(&mut empty).await.unwrap(), 0);
            assert_eq!(b.read(&mut buf).await.unwrap(), 0);

            let (a, b) = UnixStream::pair().unwrap();
            check_empty_buffers(
                &a,
                &b,
                |s, buf| Box::pin(s.read(buf)),
                |s, buf| Box::pin(s.write(buf)),
                "unix inherent",
            )
            .await;
            assert!(matches!(
                b.read_exact(&mut empty).now_or_never(),
                Some(Ok(()))
            ));
        });
    });
}

#[test]
fn empty_datagrams_and_empty_receive_buffers() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let a = UdpSocket::bind("127.0.0.1:0").unwrap();
            let b = UdpSocket::bind("127.0.0.1:0").unwrap();
            let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
            // An empty datagram is sent, and received as a datagram of 0 bytes.
            assert_eq!(a.send_to(&[], b_addr).await.unwrap(), 0);
            let mut buf = [0u8; 16];
            assert_eq!(b.recv_from(&mut buf).await.unwrap(), (0, a_addr));
            // An empty receive buffer with nothing queued waits (unlike a
            // stream's empty read: a datagram socket has no "nothing to do").
            let mut empty = [0u8; 0];
            assert!(b.recv_from(&mut empty).now_or_never().is_none());
            // With a datagram queued it takes that datagram, cut to 0 bytes.
            a.send_to(b"dropped", b_addr).await.unwrap();
            a.send_to(b"kept", b_addr).await.unwrap();
            assert_eq!(b.recv_from(&mut empty).await.unwrap(), (0, a_addr));
            let (n, from) = b.recv_from(&mut buf).await.unwrap();
            assert_eq!((&buf[..n], from), (&b"kept"[..], a_addr));
            // Connected: send and recv of nothing.
            a.connect(b_addr).unwrap();
            b.connect(a_addr).unwrap();
            assert_eq!(a.send(&[]).await.unwrap(), 0);
            assert_eq!(b.recv(&mut buf).await.unwrap(), 0);
        });
    });
}

#[test]
fn oversized_datagrams_and_port_zero_are_errors() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let a = UdpSocket::bind("127.0.0.1:0").unwrap();
            let b = UdpSocket::bind("127.0.0.1:0").unwrap();
            let big = vec![0u8; 70_000];
            let err = a.send_to(&big, b.local_addr().unwrap()).await.unwrap_err();
            assert_eq!(err.raw_os_error(), Some(libc::EMSGSIZE), "{err}");
            let err = a.send_to(b"x", "127.0.0.1:0").await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
            // The socket still works.
            a.send_to(b"ok", b.local_addr().unwrap()).await.unwrap();
            let mut buf = [0u8; 4];
            assert_eq!(b.recv_from(&mut buf).await.unwrap().0, 2);
        });
    });
}

#[test]
fn socket_options_out_of_range_are_errors() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let tcp = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            for ttl in [0, 256, u32::MAX] {
                let err = tcp.set_ttl(ttl).unwrap_err();
                assert_eq!(err.kind(), ErrorKind::InvalidInput, "set_ttl({ttl}): {err}");
            }
            // Duration::MAX is capped at the largest count the kernel takes.
            tcp.set_linger(Some(Duration::MAX)).unwrap();
            let max = Duration::from_secs(libc::c_int::MAX as u64);
            assert_eq!(tcp.linger().unwrap(), Some(max));
            let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
            for (what, result) in [
                ("set_ttl(0)", udp.set_ttl(0)),
                ("set_ttl(256)", udp.set_ttl(256)),
                ("set_multicast_ttl_v4(256)", udp.set_multicast_ttl_v4(256)),
                ("set_tos(u32::MAX)", udp.set_tos(u32::MAX)),
                (
                    "join_multicast_v4 of a unicast address",
                    udp.join_multicast_v4(Ipv4Addr::LOCALHOST, Ipv4Addr::UNSPECIFIED),
                ),
                (
                    "leave_multicast_v4 of a group never joined",
                    udp.leave_multicast_v4(Ipv4Addr::new(239, 1, 2, 3), Ipv4Addr::LOCALHOST),
                ),
                (
                    "join_multicast_v6 on an IPv4 socket",
                    udp.join_multicast_v6(&"ff02::1".parse().unwrap(), 0),
                ),
            ] {
                let err = result.expect_err(what);
                assert!(
                    matches!(
                        err.kind(),
                        ErrorKind::InvalidInput | ErrorKind::AddrNotAvailable
                    ) || err.raw_os_error() == Some(libc::ENOPROTOOPT),
                    "{what}: {err}"
                );
            }
            // The options that were refused left the old values.
            assert_eq!(udp.ttl().unwrap(), 64);
            assert_eq!(udp.multicast_ttl_v4().unwrap(), 1);
            assert_eq!(udp.tos().unwrap(), 0);
        });
    });
}

#[test]
fn streams_used_after_shutdown() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (a, b) = tcp_pair().await;
            a.shutdown(Shutdown::Write).unwrap();
            // Twice is fine.
            a.shutdown(Shutdown::Write).unwrap();
            let err = a.write(b"x").await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::BrokenPipe, "{err}");
            let err = a.write_all(b"xyz").await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::BrokenPipe, "{err}");
            let mut buf = [0u8; 4];
            assert_eq!(b.read(&mut buf).await.unwrap(), 0);
            // A reader already waiting (its readiness cleared by a
            // WouldBlock) is woken by our own shutdown of the read half.
            let (c, _d) = tcp_pair().await;
            let c = Rc::new(c);
            let reader = eddy::spawn({
                let c = c.clone();
                async move {
                    let mut buf = [0u8; 4];
                    c.read(&mut buf).await
                }
            });
            yield_now().await;
            assert!(!reader.is_finished(), "a read with no data did not wait");
            c.shutdown(Shutdown::Read).unwrap();
            match timeout(Duration::from_secs(2), reader).await {
                Ok(result) => assert_eq!(result.unwrap().unwrap(), 0),
                Err(_) => {
                    panic!("a reader waiting on a TCP stream was not woken by shutdown(Read)")
                }
            }
            assert_eq!(c.read(&mut buf).await.unwrap(), 0);
            // Unix: the peer gone, writes fail (no SIGPIPE), reads end.
            let (x, y) = UnixStream::pair().unwrap();
            drop(y);
            let err = x.write_all(b"x").await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::BrokenPipe, "{err}");
            assert_eq!(x.read(&mut buf).await.unwrap(), 0);
            // Unix: a reader already waiting is woken by our shutdown(Read).
            let (x, _y) = UnixStream::pair().unwrap();
            let x = Rc::new(x);
            let reader = eddy::spawn({
                let x = x.clone();
                async move {
                    let mut buf = [0u8; 4];
                    x.read(&mut buf).await
                }
            });
            yield_now().await;
            assert!(!reader.is_finished());
            x.shutdown(Shutdown::Read).unwrap();
            match timeout(Duration::from_secs(2), reader).await {
                Ok(result) => assert_eq!(result.unwrap().unwrap(), 0),
                Err(_) => {
                    panic!("a reader waiting on a Unix stream was not woken by shutdown(Read)")
                }
            }
        });
    });
}

/// Starts a task writing far more than the kernel buffers to `s` (whose
/// peer never reads), and returns once that task waits for room.
async fn waiting_writer<S: 'static>(
    s: &Rc<S>,
    write_all: fn(Rc<S>) -> futures::future::LocalBoxFuture<'static, io::Result<()>>,
) -> eddy::JoinHandle<io::Result<()>> {
    let writer = eddy::spawn(write_all(s.clone()));
    yield_now().await;
    assert!(
        !writer.is_finished(),
        "the kernel took everything; the writer does not wait"
    );
    writer
}

#[test]
fn a_writer_waiting_for_room_is_woken_by_its_own_shutdown() {
    // A task waits in `write_all` on a full stream; another task shuts the
    // write half down (through a shared `Rc`, as API.md allows). Every
    // later write fails with EPIPE, so the waiting writer must be woken and
    // get `BrokenPipe`, not wait for an edge that never comes.
    watchdog(LIMIT, || {
        eddy::block_on(async {
            const BIG: usize = 64 << 20;
            let (a, _peer) = tcp_pair().await;
            let a = Rc::new(a);
            let writer = waiting_writer(&a, |s| {
                Box::pin(async move { s.write_all(&vec![0u8; BIG]).await })
            })
            .await;
            a.shutdown(Shutdown::Write).unwrap();
            match timeout(Duration::from_secs(1), writer).await {
                Ok(result) => {
                    let err = result.unwrap().unwrap_err();
                    assert_eq!(err.kind(), ErrorKind::BrokenPipe, "tcp: {err}");
                }
                Err(_) => panic!("tcp: a waiting writer was not woken by shutdown(Write)"),
            }

            let (x, _peer) = UnixStream::pair().unwrap();
            let x = Rc::new(x);
            let writer = waiting_writer(&x, |s| {
                Box::pin(async move { s.write_all(&vec![0u8; BIG]).await })
            })
            .await;
            x.shutdown(Shutdown::Write).unwrap();
            match timeout(Duration::from_secs(1), writer).await {
                Ok(result) => {
                    let err = result.unwrap().unwrap_err();
                    assert_eq!(err.kind(), ErrorKind::BrokenPipe, "unix: {err}");
                }
                Err(_) => panic!(
                    "unix: a writer waiting for room was not woken by shutdown(Write) on its \
                     own stream (Linux reports no edge for it): it would wait until the peer reads"
                ),
            }
        });
    });
}

// ---------------------------------------------------------------------------
// io::Async on descriptors epoll refuses, and on invalid ones
// ---------------------------------------------------------------------------

#[test]
fn async_new_on_files_epoll_refuses() {
    watchdog(LIMIT, || {
        let path = TempPath::new("regular.txt");
        fs::write(&path.0, b"plain").unwrap();
        eddy::block_on(async {
            // An owned file: Err(EPERM), and the value is dropped exactly once
            // (its fd closed by its own destructor, not by eddy).
            let candidates: [(&str, File); 3] = [
                ("a regular file", File::open(&path.0).unwrap()),
                ("a directory", File::open(std::env::temp_dir()).unwrap()),
                ("/dev/null", File::open("/dev/null").unwrap()),
            ];
            for (what, file) in candidates {
                let verdict = epoll_verdict(file.as_raw_fd());
                let drops = Rc::new(Cell::new(0));
                let tracked = Tracked {
                    file,
                    drops: drops.clone(),
                };
                match (verdict, Async::new(tracked)) {
                    (Err(errno), Err(err)) => {
                        assert_eq!(err.raw_os_error(), Some(errno), "{what}: {err}");
                        assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{what}: {err}");
                        assert_eq!(drops.get(), 1, "{what}: dropped {} times", drops.get());
                    }
                    // A kernel that watches such files (gVisor does).
                    (Ok(()), Ok(a)) => drop(a),
                    (verdict, result) => panic!(
                        "{what}: epoll says {verdict:?} but Async::new gave {:?}",
                        result.map(|_| ())
                    ),
                }
            }
            // A descriptor owned by someone else: left open and usable.
            let file = File::open(&path.0).unwrap();
            let fd = file.as_raw_fd();
            if epoll_verdict(fd).is_err() {
                let err = Async::new(RawOnly(fd)).map(|_| ()).unwrap_err();
                assert_eq!(err.raw_os_error(), Some(libc::EPERM), "{err}");
                assert!(is_open(fd), "Async::new closed a descriptor it did not own");
                let mut got = String::new();
                (&file).read_to_string(&mut got).unwrap();
                assert_eq!(got, "plain");
            }
            // The runtime goes on.
            let (a, b) = UnixStream::pair().unwrap();
            a.write_all(b"ok").await.unwrap();
            let mut buf = [0u8; 2];
            b.read_exact(&mut buf).await.unwrap();
        });
    });
}

#[test]
fn async_new_on_invalid_descriptors() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let epoll_fd = rt.as_raw_fd();
        rt.block_on(async {
            // No such descriptor: EBADF, no panic, no UB.
            for fd in [-1, -5, i32::MIN, i32::MAX, 1 << 30] {
                let err = Async::new(RawOnly(fd)).map(|_| ()).unwrap_err();
                assert_eq!(err.raw_os_error(), Some(libc::EBADF), "fd {fd}: {err}");
            }
            // The runtime's own epoll fd: epoll cannot watch itself (EINVAL).
            let err = Async::new(RawOnly(epoll_fd)).map(|_| ()).unwrap_err();
            assert_eq!(err.raw_os_error(), Some(libc::EINVAL), "{err}");
            // The same descriptor registered twice: the second is refused
            // (EEXIST) and the first keeps working.
            let (x, y) = std::os::unix::net::UnixStream::pair().unwrap();
            let first = Async::new(RawOnly(x.as_raw_fd())).unwrap();
            let err = Async::new(RawOnly(x.as_raw_fd())).map(|_| ()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{err}");
            // Also when the second is a borrow of the first (async-io's idiom).
            let err = Async::new(&first).map(|_| ()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{err}");
            let reader = eddy::spawn(async move {
                let mut buf = [0u8; 4];
                let n = first.read_with(|_| (&x).read(&mut buf)).await.unwrap();
                (buf[..n].to_vec(), first.into_inner().is_ok(), x)
            });
            yield_now().await;
            (&y).write_all(b"ping").unwrap();
            let (got, deregistered, x) = reader.await.unwrap();
            assert_eq!(got, b"ping");
            assert!(deregistered);
            // Deregistered by into_inner: it can be registered again.
            let again = Async::new(RawOnly(x.as_raw_fd())).unwrap();
            drop(again);
            drop(x);
        });
    });
}

// ---------------------------------------------------------------------------
// Runtime misuse
// ---------------------------------------------------------------------------

#[test]
fn using_a_runtime_outside_one_panics_clearly() {
    watchdog(LIMIT, || {
        let msg = catch(|| drop(eddy::spawn(async {}))).unwrap_err();
        assert!(
            msg.contains("eddy::spawn") && msg.contains("outside a runtime"),
            "unclear message: {msg}"
        );
        let msg = catch(|| poll_noop(&mut sleep(MS))).unwrap_err();
        assert!(
            msg.contains("Sleep") && msg.contains("outside a runtime"),
            "unclear message: {msg}"
        );
        let msg = catch(|| TcpListener::bind("127.0.0.1:0").map(|_| ())).unwrap_err();
        assert!(msg.contains("outside a runtime"), "unclear message: {msg}");
        let (x, _y) = std::os::unix::net::UnixStream::pair().unwrap();
        let msg = catch(move || Async::new(x).map(|_| ())).unwrap_err();
        assert!(msg.contains("outside a runtime"), "unclear message: {msg}");
        // UnixListener::bind panics before it makes the socket file.
        let path = TempPath::new("outside.sock");
        let msg = catch(|| UnixListener::bind(&path.0).map(|_| ())).unwrap_err();
        assert!(msg.contains("outside a runtime"), "unclear message: {msg}");
        assert!(
            !path.0.exists(),
            "the socket file was made before the panic"
        );
        // spawn_blocking and Handle::current too.
        let msg = catch(|| drop(spawn_blocking(|| ()))).unwrap_err();
        assert!(msg.contains("outside a runtime"), "unclear message: {msg}");
        let msg = catch(eddy::Handle::current).unwrap_err();
        assert!(msg.contains("outside a runtime"), "unclear message: {msg}");
    });
}

#[test]
fn nested_block_on_and_turn_panic_clearly_and_the_outer_loop_goes_on() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let other = Runtime::new().unwrap();
        let check = |msg: String, what: &str| {
            assert!(
                msg.contains(&format!("`{what}`")) && msg.contains("from inside a runtime"),
                "unclear message for {what}: {msg}"
            );
        };
        rt.block_on(async {
            check(catch(|| rt.block_on(async {})).unwrap_err(), "block_on");
            check(catch(|| other.block_on(async {})).unwrap_err(), "block_on");
            check(catch(|| eddy::block_on(async {})).unwrap_err(), "block_on");
            check(catch(|| rt.turn(Some(Duration::ZERO))).unwrap_err(), "turn");
            check(catch(|| other.turn(None)).unwrap_err(), "turn");
            // The outer runtime is still current and works.
            assert_eq!(eddy::spawn(async { 1 }).await.unwrap(), 1);
            sleep(MS).await;
            // The same from a task: the panic is caught as the task's.
            let err = eddy::spawn(async { eddy::block_on(async { 2 }) })
                .await
                .unwrap_err();
            assert!(err.is_panic());
            check(panic_message(&*err.into_panic()), "block_on");
            assert_eq!(eddy::spawn(async { 3 }).await.unwrap(), 3);
        });
        // Both runtimes still work afterwards.
        assert_eq!(
            other.block_on(async { eddy::spawn(async { 4 }).await.unwrap() }),
            4
        );
        assert_eq!(rt.block_on(async { 5 }), 5);
    });
}

#[test]
fn join_handles_polled_after_their_result_panic_clearly() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let mut h = eddy::spawn(async { 1 });
            assert_eq!((&mut h).await.unwrap(), 1);
            let msg = catch(|| poll_noop(&mut h)).unwrap_err();
            assert!(
                msg.contains("JoinHandle polled after it returned its result"),
                "unclear message: {msg}"
            );
            drop(h);
            // After a cancelled result too.
            let mut h = eddy::spawn(pending::<()>());
            h.abort();
            assert!((&mut h).await.unwrap_err().is_cancelled());
            let msg = catch(|| poll_noop(&mut h)).unwrap_err();
            assert!(
                msg.contains("JoinHandle polled after"),
                "unclear message: {msg}"
            );
            drop(h);
            // into_panic on a cancelled error.
            let h = eddy::spawn(pending::<()>());
            h.abort();
            let err = h.await.unwrap_err();
            let msg = catch(move || err.into_panic()).unwrap_err();
            assert!(
                msg.contains("into_panic") && msg.contains("cancelled"),
                "unclear message: {msg}"
            );
            // The runtime goes on.
            assert_eq!(eddy::spawn(async { 2 }).await.unwrap(), 2);
        });
        let mut remote = rt.handle().spawn(async { 3 });
        assert_eq!(rt.block_on(&mut remote).unwrap(), 3);
        let msg = catch(|| poll_noop(&mut remote)).unwrap_err();
        assert!(
            msg.contains("RemoteJoinHandle polled after it returned its result"),
            "unclear message: {msg}"
        );
    });
}

#[test]
#[allow(clippy::waker_clone_wake)] // `clone().wake()` exercises the consuming wake
fn wakers_outliving_their_task_and_runtime_are_harmless() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let kept: Rc<RefCell<Vec<Waker>>> = Rc::default();
        rt.block_on(async {
            let kept = kept.clone();
            eddy::spawn(poll_fn(move |cx| {
                kept.borrow_mut().push(cx.waker().clone());
                Poll::Ready(())
            }))
            .await
            .unwrap();
        });
        let wakers = kept.borrow().clone();
        assert_eq!(wakers.len(), 1);
        let waker = wakers[0].clone();
        // The task is gone; the runtime still lives.
        waker.wake_by_ref();
        assert_eq!(rt.block_on(async { 1 }), 1);
        drop(rt);
        // The runtime is gone: wake on this thread, in another runtime, and
        // on another thread (which drops the last clones).
        waker.wake_by_ref();
        waker.clone().wake();
        eddy::block_on(async {
            waker.wake_by_ref();
            yield_now().await;
        });
        let moved = waker.clone();
        thread::spawn(move || {
            moved.wake_by_ref();
            moved.clone().wake();
            drop(moved);
        })
        .join()
        .unwrap();
        drop((waker, wakers));
        kept.borrow_mut().clear();
    });
}
