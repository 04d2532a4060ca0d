//! Timer benchmarks: eddy beside tokio's current-thread runtime.
//!
//! - timers: 10_000 tasks each sleeping a pseudo-random 1..=20 ms, until all
//!   are done. Wall time is bounded below by the 20 ms sleeps, so the group
//!   `timers_cpu` also reports the loop thread's CPU time
//!   (`CLOCK_THREAD_CPUTIME_ID`; both runtimes are single-threaded).
//! - timeout_churn: 100_000 × `timeout(1 s, yield_now())`: each registers a
//!   timer and cancels it.
//! - sleep_reset: one registered `Sleep` reset 100_000 times.
//!
//! Run: `cargo bench --bench time`.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};

mod common;
use common::*;

const TIMERS: u64 = 10_000;
const CHURN: usize = 100_000;
const RESETS: u64 = 100_000;

/// 1..=20 ms, from a small LCG so both runtimes see the same durations.
fn durations() -> impl Iterator<Item = Duration> {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    (0..TIMERS).map(move |_| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        Duration::from_millis(1 + (x >> 33) % 20)
    })
}

fn eddy_timers(rt: &eddy::Runtime) {
    rt.block_on(async {
        let handles: Vec<_> = durations()
            .map(|d| eddy::spawn(eddy::time::sleep(d)))
            .collect();
        for h in handles {
            h.await.unwrap();
        }
    })
}

fn tokio_timers(rt: &tokio::runtime::Runtime) {
    rt.block_on(async {
        let handles: Vec<_> = durations()
            .map(|d| tokio::spawn(tokio::time::sleep(d)))
            .collect();
        for h in handles {
            h.await.unwrap();
        }
    })
}

fn timers(c: &mut Criterion) {
    let mut g = c.benchmark_group("timers");
    g.sample_size(20);
    let rt = eddy::Runtime::new().unwrap();
    g.bench_function("eddy", |b| b.iter(|| eddy_timers(&rt)));
    let rt = tokio_rt();
    g.bench_function("tokio", |b| b.iter(|| tokio_timers(&rt)));
    g.finish();

    let mut g = c.benchmark_group("timers_cpu");
    g.sample_size(20);
    let rt = eddy::Runtime::new().unwrap();
    g.bench_function("eddy", |b| {
        b.iter_custom(|iters| {
            let start = thread_cpu();
            for _ in 0..iters {
                eddy_timers(&rt);
            }
            thread_cpu() - start
        })
    });
    let rt = tokio_rt();
    g.bench_function("tokio", |b| {
        b.iter_custom(|iters| {
            let start = thread_cpu();
            for _ in 0..iters {
                tokio_timers(&rt);
            }
            thread_cpu() - start
        })
    });
    g.finish();
}

fn timeout_churn(c: &mut Criterion) {
    let mut g = c.benchmark_group("timeout_churn");
    let rt = eddy::Runtime::new().unwrap();
    g.bench_function("eddy", |b| {
        b.iter(|| {
            rt.block_on(async {
                for _ in 0..CHURN {
                    eddy::time::timeout(Duration::from_secs(1), eddy::task::yield_now())
                        .await
                        .unwrap();
                }
            })
        })
    });
    let rt = tokio_rt();
    g.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                for _ in 0..CHURN {
                    tokio::time::timeout(Duration::from_secs(1), tokio::task::yield_now())
                        .await
                        .unwrap();
                }
            })
        })
    });
    g.finish();
}

/// Polls a sleep once (registering it), then resets it `RESETS` times,
/// polling after each reset as a task would.
async fn reset_many<S: Future<Output = ()>>(
    sleep: S,
    reset: impl Fn(std::pin::Pin<&mut S>, Instant),
) {
    let mut sleep = pin!(sleep);
    let base = Instant::now() + Duration::from_secs(60);
    poll_fn(|cx| {
        assert!(sleep.as_mut().poll(cx).is_pending());
        for i in 0..RESETS {
            reset(sleep.as_mut(), base + Duration::from_millis(i % 1000));
            assert!(sleep.as_mut().poll(cx).is_pending());
        }
        Poll::Ready(())
    })
    .await
}

fn sleep_reset(c: &mut Criterion) {
    let mut g = c.benchmark_group("sleep_reset");
    let rt = eddy::Runtime::new().unwrap();
    g.bench_function("eddy", |b| {
        b.iter(|| {
            rt.block_on(async {
                reset_many(eddy::time::sleep(Duration::from_secs(60)), |s, at| {
                    s.reset(at)
                })
                .await
            })
        })
    });
    let rt = tokio_rt();
    g.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                reset_many(tokio::time::sleep(Duration::from_secs(60)), |s, at| {
                    s.reset(at.into())
                })
                .await
            })
        })
    });
    g.finish();
}

criterion_group!(benches, timers, timeout_churn, sleep_reset);
criterion_main!(benches);
