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
//! - broadcast: one sender, 100 receiver tasks, 10_000 messages; after each
//!   send the sender waits until every receiver has it (the last one to
//!   read notifies), as in tokio's own `sync_broadcast` benchmark: every
//!   message wakes 100 tasks.
//! - watch: the same shape with a watch channel: 10_000 sends, each
//!   awaited by 100 receivers in `changed()`.
//! - rwlock: 100 tasks, 1_000 operations each, one write for nine reads,
//!   each holding the lock across a `yield_now` (so that writers wait for
//!   readers and readers queue behind writers).
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
const FANOUT: usize = 100;
const FANOUT_MESSAGES: usize = 10_000;
const LOCK_TASKS: usize = 100;
const LOCK_OPS: usize = 1_000;

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

/// The fan-out workload on one runtime: `FANOUT` receiver tasks, each
/// counting down `left` for every message it gets (the one that brings it
/// to zero notifies the sender), and a sender that waits for that after
/// each of `FANOUT_MESSAGES` sends.
macro_rules! fanout {
    (eddy, $tx:expr, $next:ident) => {{
        let tx = $tx;
        let left = Rc::new(std::cell::Cell::new(0));
        let done = Rc::new(eddy::sync::Notify::new());
        let tasks: Vec<_> = (0..FANOUT)
            .map(|_| {
                let (left, done) = (left.clone(), done.clone());
                let mut rx = tx.subscribe();
                eddy::spawn(async move {
                    let mut sum = 0;
                    while let Some(v) = $next(&mut rx).await {
                        sum += v;
                        left.set(left.get() - 1);
                        if left.get() == 0 {
                            done.notify_one();
                        }
                    }
                    sum
                })
            })
            .collect();
        for i in 0..FANOUT_MESSAGES {
            left.set(FANOUT);
            tx.send(i).unwrap();
            done.notified().await;
        }
        drop(tx);
        for t in tasks {
            assert_eq!(t.await.unwrap(), FANOUT_SUM);
        }
    }};
    (tokio, $tx:expr, $next:ident) => {{
        let tx = $tx;
        let left = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(tokio::sync::Notify::new());
        let tasks: Vec<_> = (0..FANOUT)
            .map(|_| {
                let (left, done) = (left.clone(), done.clone());
                let mut rx = tx.subscribe();
                tokio::spawn(async move {
                    let mut sum = 0;
                    while let Some(v) = $next(&mut rx).await {
                        sum += v;
                        if left.fetch_sub(1, Ordering::Relaxed) == 1 {
                            done.notify_one();
                        }
                    }
                    sum
                })
            })
            .collect();
        for i in 0..FANOUT_MESSAGES {
            left.store(FANOUT, Ordering::Relaxed);
            tx.send(i).unwrap();
            done.notified().await;
        }
        drop(tx);
        for t in tasks {
            assert_eq!(t.await.unwrap(), FANOUT_SUM);
        }
    }};
}

/// A criterion group of the fan-out workload, eddy beside tokio.
macro_rules! fanout_group {
    ($c:expr, $name:literal, $eddy_tx:expr, $eddy_next:ident, $tokio_tx:expr, $tokio_next:ident) => {{
        let mut g = $c.benchmark_group($name);
        let rt = eddy::Runtime::new().unwrap();
        g.bench_function("eddy", |b| {
            b.iter(|| rt.block_on(async { fanout!(eddy, $eddy_tx, $eddy_next) }))
        });
        let rt = tokio_rt();
        g.bench_function("tokio", |b| {
            b.iter(|| rt.block_on(async { fanout!(tokio, $tokio_tx, $tokio_next) }))
        });
        g.finish();
    }};
}

const FANOUT_SUM: usize = FANOUT_MESSAGES * (FANOUT_MESSAGES - 1) / 2;

fn broadcast(c: &mut Criterion) {
    async fn next_eddy(rx: &mut eddy::sync::broadcast::Receiver<usize>) -> Option<usize> {
        rx.recv().await.ok()
    }
    async fn next_tokio(rx: &mut tokio::sync::broadcast::Receiver<usize>) -> Option<usize> {
        rx.recv().await.ok()
    }
    fanout_group!(
        c,
        "broadcast",
        eddy::sync::broadcast::Sender::new(128),
        next_eddy,
        tokio::sync::broadcast::Sender::new(128),
        next_tokio
    );
}

fn watch(c: &mut Criterion) {
    async fn next_eddy(rx: &mut eddy::sync::watch::Receiver<usize>) -> Option<usize> {
        rx.changed().await.ok()?;
        Some(*rx.borrow_and_update())
    }
    async fn next_tokio(rx: &mut tokio::sync::watch::Receiver<usize>) -> Option<usize> {
        rx.changed().await.ok()?;
        Some(*rx.borrow_and_update())
    }
    fanout_group!(
        c,
        "watch",
        eddy::sync::watch::Sender::new(0),
        next_eddy,
        tokio::sync::watch::Sender::new(0),
        next_tokio
    );
}

/// One write for nine reads, each held across a yield.
macro_rules! rwlock_body {
    ($lock:expr, $spawn:path, $yield_now:path) => {{
        let lock = $lock;
        let tasks: Vec<_> = (0..LOCK_TASKS)
            .map(|i| {
                let lock = lock.clone();
                $spawn(async move {
                    let mut seen = 0;
                    for k in 0..LOCK_OPS {
                        if (i + k) % 10 == 0 {
                            let mut value = lock.write().await;
                            *value += 1;
                            $yield_now().await;
                        } else {
                            let value = lock.read().await;
                            seen += std::hint::black_box(*value);
                            $yield_now().await;
                        }
                    }
                    seen
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*lock.read().await, LOCK_TASKS * LOCK_OPS / 10);
    }};
}

fn rwlock(c: &mut Criterion) {
    let mut g = c.benchmark_group("rwlock");
    let rt = eddy::Runtime::new().unwrap();
    g.bench_function("eddy", |b| {
        b.iter(|| {
            rt.block_on(async {
                rwlock_body!(
                    Rc::new(eddy::sync::RwLock::new(0)),
                    eddy::spawn,
                    eddy::task::yield_now
                )
            })
        })
    });
    let rt = tokio_rt();
    g.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                rwlock_body!(
                    Arc::new(tokio::sync::RwLock::new(0)),
                    tokio::spawn,
                    tokio::task::yield_now
                )
            })
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    ping_pong,
    ping_pong_two_tasks,
    channel,
    semaphore,
    broadcast,
    watch,
    rwlock
);
criterion_main!(benches);
