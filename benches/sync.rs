//! Sync benchmarks: eddy's single-thread primitives beside tokio's
//! thread-safe ones, both on a current-thread runtime.
//!
//! - ping_pong: 1_000 rounds; in each, a spawned task spawns a second, and
//!   the two exchange a message each way over a fresh pair of oneshot
//!   channels (the shape of tokio's own `ping_pong` benchmark: spawn and
//!   oneshot together).
//! - ping_pong_two_tasks: the same 1_000 exchanges between two long-lived
//!   tasks, over oneshot pairs made up front (oneshot and wake alone).
//! - channel: one task sends 1_000_000 u64 through a bounded channel of
//!   capacity 1_024 to another that sums them.
//! - semaphore: 1_000 tasks contend for 10 permits, 100 acquisitions each
//!   (each holds its permit across a `yield_now`, so that tasks do contend:
//!   on one thread, acquire-then-drop with no await never waits).
//!
//! Run: `cargo bench --bench sync`.

use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use criterion::{Criterion, criterion_group, criterion_main};

mod common;
use common::*;

const ROUNDS: usize = 1_000;
const MESSAGES: u64 = 1_000_000;
const CAPACITY: usize = 1_024;
const TASKS: usize = 1_000;
const PERMITS: usize = 10;
const ACQUISITIONS: usize = 100;

/// Oneshot pairs for every round, both ways, made up front: `ping` sends
/// over `to_pong[i]` and waits on `to_ping[i]`; `pong` does the reverse.
macro_rules! ping_pong_body {
    ($oneshot:path, $spawn:path) => {{
        use $oneshot as oneshot;
        let (mut to_pong_tx, mut to_pong_rx, mut to_ping_tx, mut to_ping_rx) = (
            Vec::with_capacity(ROUNDS),
            Vec::with_capacity(ROUNDS),
            Vec::with_capacity(ROUNDS),
            Vec::with_capacity(ROUNDS),
        );
        for _ in 0..ROUNDS {
            let (tx, rx) = oneshot::channel::<u32>();
            to_pong_tx.push(tx);
            to_pong_rx.push(rx);
            let (tx, rx) = oneshot::channel::<u32>();
            to_ping_tx.push(tx);
            to_ping_rx.push(rx);
        }
        let pong = $spawn(async move {
            for (rx, tx) in to_pong_rx.into_iter().zip(to_ping_tx) {
                tx.send(rx.await.unwrap() + 1).unwrap();
            }
        });
        let ping = $spawn(async move {
            let mut n = 0;
            for (tx, rx) in to_pong_tx.into_iter().zip(to_ping_rx) {
                tx.send(n).unwrap();
                n = rx.await.unwrap();
            }
            n
        });
        assert_eq!(ping.await.unwrap(), ROUNDS as u32);
        pong.await.unwrap();
    }};
}

/// tokio's `ping_pong` shape: `ROUNDS` tasks, each spawning a partner and
/// exchanging one message each way with it; the last to finish says so.
/// The shared counter is an atomic and the done signal sits in a
/// `Mutex`, as in tokio's benchmark, so that `tokio::spawn` takes the code.
macro_rules! spawned_ping_pong_body {
    ($oneshot:path, $spawn:path) => {{
        use $oneshot as oneshot;
        let (done_tx, done_rx) = oneshot::channel::<()>();
        let done = Arc::new(Mutex::new(Some(done_tx)));
        let left = Arc::new(AtomicUsize::new(ROUNDS));
        for _ in 0..ROUNDS {
            let (done, left) = (done.clone(), left.clone());
            $spawn(async move {
                let (tx1, rx1) = oneshot::channel::<()>();
                let (tx2, rx2) = oneshot::channel::<()>();
                $spawn(async move {
                    rx1.await.unwrap();
                    tx2.send(()).unwrap();
                });
                tx1.send(()).unwrap();
                rx2.await.unwrap();
                if left.fetch_sub(1, Ordering::Relaxed) == 1 {
                    let tx = done.lock().unwrap().take().unwrap();
                    tx.send(()).unwrap();
                }
            });
        }
        done_rx.await.unwrap();
    }};
}

fn ping_pong(c: &mut Criterion) {
    let mut g = c.benchmark_group("ping_pong");
    let rt = eddy::Runtime::new().unwrap();
    g.bench_function("eddy", |b| {
        b.iter(|| rt.block_on(async { spawned_ping_pong_body!(eddy::sync::oneshot, eddy::spawn) }))
    });
    let rt = tokio_rt();
    g.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async { spawned_ping_pong_body!(tokio::sync::oneshot, tokio::spawn) })
        })
    });
    g.finish();
}

fn ping_pong_two_tasks(c: &mut Criterion) {
    let mut g = c.benchmark_group("ping_pong_two_tasks");
    let rt = eddy::Runtime::new().unwrap();
    g.bench_function("eddy", |b| {
        b.iter(|| rt.block_on(async { ping_pong_body!(eddy::sync::oneshot, eddy::spawn) }))
    });
    let rt = tokio_rt();
    g.bench_function("tokio", |b| {
        b.iter(|| rt.block_on(async { ping_pong_body!(tokio::sync::oneshot, tokio::spawn) }))
    });
    g.finish();
}

fn channel(c: &mut Criterion) {
    let mut g = c.benchmark_group("channel");
    let rt = eddy::Runtime::new().unwrap();
    g.bench_function("eddy", |b| {
        b.iter(|| {
            rt.block_on(async {
                let (tx, mut rx) = eddy::sync::mpsc::channel::<u64>(CAPACITY);
                eddy::spawn(async move {
                    for i in 0..MESSAGES {
                        tx.send(i).await.unwrap();
                    }
                });
                let sum = eddy::spawn(async move {
                    let mut sum = 0;
                    while let Some(i) = rx.recv().await {
                        sum += i;
                    }
                    sum
                });
                assert_eq!(sum.await.unwrap(), MESSAGES * (MESSAGES - 1) / 2);
            })
        })
    });
    let rt = tokio_rt();
    g.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                let (tx, mut rx) = tokio::sync::mpsc::channel::<u64>(CAPACITY);
                tokio::spawn(async move {
                    for i in 0..MESSAGES {
                        tx.send(i).await.unwrap();
                    }
                });
                let sum = tokio::spawn(async move {
                    let mut sum = 0;
                    while let Some(i) = rx.recv().await {
                        sum += i;
                    }
                    sum
                });
                assert_eq!(sum.await.unwrap(), MESSAGES * (MESSAGES - 1) / 2);
            })
        })
    });
    g.finish();
}

fn semaphore(c: &mut Criterion) {
    let mut g = c.benchmark_group("semaphore");
    let rt = eddy::Runtime::new().unwrap();
    g.bench_function("eddy", |b| {
        b.iter(|| {
            rt.block_on(async {
                let sem = Rc::new(eddy::sync::Semaphore::new(PERMITS));
                let tasks: Vec<_> = (0..TASKS)
                    .map(|_| {
                        let sem = sem.clone();
                        eddy::spawn(async move {
                            for _ in 0..ACQUISITIONS {
                                let _permit = sem.acquire().await;
                                eddy::task::yield_now().await;
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
            })
        })
    });
    let rt = tokio_rt();
    g.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                let sem = Arc::new(tokio::sync::Semaphore::new(PERMITS));
                let tasks: Vec<_> = (0..TASKS)
                    .map(|_| {
                        let sem = sem.clone();
                        tokio::spawn(async move {
                            for _ in 0..ACQUISITIONS {
                                let _permit = sem.acquire().await.unwrap();
                                tokio::task::yield_now().await;
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
            })
        })
    });
    g.finish();
}

criterion_group!(benches, ping_pong, ping_pong_two_tasks, channel, semaphore);
criterion_main!(benches);
