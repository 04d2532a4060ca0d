//! What a service asks of the OS, eddy beside tokio's current-thread
//! runtime:
//!
//! - process_status: 200 × `Command::new("true").status()`, 8 at a time
//!   (8 tasks of 25 in a row). fork/exec dominates; what differs is how
//!   each runtime learns of the exit (both: a pidfd on the reactor).
//! - file_read: a 64 MiB file read through `fs::File` in 1 MiB reads,
//!   each a trip to the blocking pool (the file is in the page cache).
//! - signal_round_trip: 10_000 × (raise a signal, a waiting listener task
//!   wakes and acknowledges). eddy listens for SIGUSR1 and tokio for
//!   SIGUSR2, so neither runtime's handler runs in the other's
//!   measurement.
//!
//! Each workload is a criterion group (eddy's runs, then tokio's), and is
//! also run in turn (`*_in_turn`: each round runs both, the order
//! alternating; the median of the rounds' eddy/tokio ratios is printed
//! and recorded for the chart). On a shared two-core machine the time of
//! a fork or a pool hand-off drifts by tens of percent over seconds, and
//! the in-turn ratio is the steadier number.
//!
//! Run: `cargo bench --bench os`.

use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};

mod common;
use common::*;

const CHILDREN: usize = 200;
const AT_ONCE: usize = 8;
const FILE_SIZE: usize = 64 << 20;
const READ_SIZE: usize = 1 << 20;
const SIGNALS: usize = 10_000;

fn eddy_status(rt: &eddy::Runtime) {
    rt.block_on(async {
        let workers: Vec<_> = (0..AT_ONCE)
            .map(|_| {
                eddy::spawn(async {
                    for _ in 0..CHILDREN / AT_ONCE {
                        let status = eddy::process::Command::new("true").status().await.unwrap();
                        assert!(status.success());
                    }
                })
            })
            .collect();
        for w in workers {
            w.await.unwrap();
        }
    })
}

fn tokio_status(rt: &tokio::runtime::Runtime) {
    rt.block_on(async {
        let workers: Vec<_> = (0..AT_ONCE)
            .map(|_| {
                tokio::spawn(async {
                    for _ in 0..CHILDREN / AT_ONCE {
                        let status = tokio::process::Command::new("true").status().await.unwrap();
                        assert!(status.success());
                    }
                })
            })
            .collect();
        for w in workers {
            w.await.unwrap();
        }
    })
}

fn process_status(c: &mut Criterion) {
    let mut g = c.benchmark_group("process_status");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(6));
    let rt = eddy::Runtime::new().unwrap();
    g.bench_function("eddy", |b| b.iter(|| eddy_status(&rt)));
    let rt = tokio_rt();
    g.bench_function("tokio", |b| b.iter(|| tokio_status(&rt)));
    g.finish();
    let (eddy_rt, tokio_rt) = (eddy::Runtime::new().unwrap(), tokio_rt());
    in_turn(
        "process_status_in_turn",
        21,
        || eddy_status(&eddy_rt),
        || tokio_status(&tokio_rt),
    );
}

/// A 64 MiB file in the temporary directory, removed when dropped.
struct BigFile(std::path::PathBuf);

impl BigFile {
    fn new() -> BigFile {
        let path = std::env::temp_dir().join(format!("eddy-bench-os-{}", std::process::id()));
        let data: Vec<u8> = (0..FILE_SIZE).map(|i| (i * 7 + i / 4096) as u8).collect();
        std::fs::write(&path, data).unwrap();
        BigFile(path)
    }
}

impl Drop for BigFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn eddy_read(rt: &eddy::Runtime, path: &Path) {
    rt.block_on(async {
        use futures::io::AsyncReadExt;
        let mut f = eddy::fs::File::open(path).await.unwrap();
        let mut buf = vec![0u8; READ_SIZE];
        let mut total = 0;
        loop {
            let n = f.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            total += n;
        }
        assert_eq!(total, FILE_SIZE);
    })
}

fn tokio_read(rt: &tokio::runtime::Runtime, path: &Path) {
    rt.block_on(async {
        use tokio::io::AsyncReadExt;
        let mut f = tokio::fs::File::open(path).await.unwrap();
        let mut buf = vec![0u8; READ_SIZE];
        let mut total = 0;
        loop {
            let n = f.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            total += n;
        }
        assert_eq!(total, FILE_SIZE);
    })
}

fn file_read(c: &mut Criterion) {
    let file = BigFile::new();
    let mut g = c.benchmark_group("file_read");
    g.sample_size(20);
    let rt = eddy::Runtime::new().unwrap();
    g.bench_function("eddy", |b| b.iter(|| eddy_read(&rt, &file.0)));
    let rt = tokio_rt();
    g.bench_function("tokio", |b| b.iter(|| tokio_read(&rt, &file.0)));
    g.finish();
    let (eddy_rt, tokio_rt) = (eddy::Runtime::new().unwrap(), tokio_rt());
    in_turn(
        "file_read_in_turn",
        61,
        || eddy_read(&eddy_rt, &file.0),
        || tokio_read(&tokio_rt, &file.0),
    );
}

fn raise(signal: i32) {
    // SAFETY: raise(3) sends a signal to this thread; each runtime has
    // installed its handler for the signal before the first raise.
    unsafe { libc::raise(signal) };
}

fn eddy_signals(rt: &eddy::Runtime) {
    rt.block_on(async {
        use eddy::signal::unix::{SignalKind, signal};
        let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
        let ack = Rc::new(eddy::sync::Notify::new());
        let heard = ack.clone();
        let listener = eddy::spawn(async move {
            while usr1.recv().await.is_some() {
                heard.notify_one();
            }
        });
        for _ in 0..SIGNALS {
            raise(libc::SIGUSR1);
            ack.notified().await;
        }
        listener.abort();
    })
}

fn tokio_signals(rt: &tokio::runtime::Runtime) {
    rt.block_on(async {
        use tokio::signal::unix::{SignalKind, signal};
        let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
        let ack = Arc::new(tokio::sync::Notify::new());
        let heard = ack.clone();
        let listener = tokio::spawn(async move {
            while usr2.recv().await.is_some() {
                heard.notify_one();
            }
        });
        for _ in 0..SIGNALS {
            raise(libc::SIGUSR2);
            ack.notified().await;
        }
        listener.abort();
    })
}

fn signal_round_trip(c: &mut Criterion) {
    let mut g = c.benchmark_group("signal_round_trip");
    g.sample_size(20);
    let rt = eddy::Runtime::new().unwrap();
    g.bench_function("eddy", |b| b.iter(|| eddy_signals(&rt)));
    let rt = tokio_rt();
    g.bench_function("tokio", |b| b.iter(|| tokio_signals(&rt)));
    g.finish();
    let (eddy_rt, tokio_rt) = (eddy::Runtime::new().unwrap(), tokio_rt());
    in_turn(
        "signal_round_trip_in_turn",
        21,
        || eddy_signals(&eddy_rt),
        || tokio_signals(&tokio_rt),
    );
}

/// Runs `eddy` and `tokio` in turn for `rounds` rounds (the order
/// alternating), prints the medians and the median of the per-round
/// ratios, and records that ratio for the chart as `name`.
fn in_turn(name: &str, rounds: usize, eddy: impl Fn(), tokio: impl Fn()) {
    let time = |f: &dyn Fn()| {
        let start = Instant::now();
        f();
        start.elapsed().as_secs_f64()
    };
    let (mut ratios, mut eddy_times, mut tokio_times) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let (e, t) = if round % 2 == 0 {
            let e = time(&eddy);
            (e, time(&tokio))
        } else {
            let t = time(&tokio);
            (time(&eddy), t)
        };
        ratios.push(e / t);
        eddy_times.push(e);
        tokio_times.push(t);
    }
    let ratio = median(ratios);
    record_pair(name, ratio, 1.0);
    println!(
        "{name}: eddy {:.2} ms, tokio {:.2} ms (medians), eddy/tokio {ratio:.3} (median of {rounds} rounds)",
        median(eddy_times) * 1e3,
        median(tokio_times) * 1e3
    );
}

criterion_group!(benches, process_status, file_read, signal_round_trip);
criterion_main!(benches);
