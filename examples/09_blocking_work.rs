//! # 09 — blocking work: `spawn_blocking` keeps the loop free
//!
//! What it teaches: the loop runs every task on one thread, so a task that
//! computes for a long time, or calls a function that blocks (a library
//! without async support, `std::fs`, `std::thread::sleep`), stops *every*
//! task until it returns: no timer fires, no socket is served.
//! `eddy::task::spawn_blocking` moves such work to a helper thread and
//! gives back a `JoinHandle` to await (Python's `loop.run_in_executor`).
//!
//! What to watch: a ticker task prints a tick every 50 ms. First, counting
//! primes and a 300 ms blocking call run on helper threads, and the ticks
//! keep coming on time meanwhile. Then a task calls
//! `std::thread::sleep(150 ms)` directly on the loop's thread, the mistake
//! to avoid: for those 150 ms nothing runs, and the next tick comes about
//! 100 ms late.
//!
//! Which part of eddy does the work: `src/task/blocking.rs` (the pool of
//! helper threads, and the wake that brings the result back to the loop),
//! `src/runtime/shared.rs` (the queue through which other threads wake
//! tasks), `src/time/interval.rs` and `src/time/wheel.rs` (the ticks), and
//! `src/runtime/core.rs` (the loop that cannot run while a task blocks it).
//!
//! Run it: `cargo run --example 09_blocking_work`

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use eddy::sync::Notify;
use eddy::task::{spawn_blocking, yield_now};
use eddy::time::interval;

/// Big enough that counting takes a few hundred ms in a debug build.
const BOUND: u64 = 1_500_000;

/// Trial division: slow on purpose, it stands for any CPU-heavy work.
fn count_primes_below(bound: u64) -> u64 {
    (2..bound).filter(|&n| is_prime(n)).count() as u64
}

fn is_prime(n: u64) -> bool {
    let mut d = 2;
    while d * d <= n {
        if n % d == 0 {
            return false;
        }
        d += 1;
    }
    true
}

/// What the ticker shares with `main`.
#[derive(Default)]
struct Ticks {
    count: Cell<u64>,
    /// Each tick's lateness, in ms, in order.
    late_ms: RefCell<Vec<u128>>,
    /// The worst lateness since `main` last reset it, in ms.
    max_late_ms: Cell<u128>,
    notify: Notify,
}

impl Ticks {
    /// Waits until the ticker has ticked `n` times in all. Checking the count
    /// first makes this race-free: nothing else runs between the check and
    /// the moment `notified()` starts waiting.
    async fn reach(&self, n: u64) {
        while self.count.get() < n {
            self.notify.notified().await;
        }
    }
}

fn main() {
    let (primes, during) = eddy::block_on(async {
        let start = Instant::now();
        let ticks = Rc::new(Ticks::default());

        let shared = Rc::clone(&ticks);
        eddy::spawn(async move {
            let mut ticker = interval(Duration::from_millis(50));
            loop {
                let scheduled = ticker.tick().await;
                let late = scheduled.elapsed().as_millis();
                let n = shared.count.get() + 1;
                shared.count.set(n);
                shared.late_ms.borrow_mut().push(late);
                shared.max_late_ms.set(shared.max_late_ms.get().max(late));
                println!(
                    "tick {n} at {} ms ({late} ms late)",
                    start.elapsed().as_millis()
                );
                shared.notify.notify_waiters();
            }
        });
        // Let the ticker take its first tick, so every later one is counted
        // against the work below.
        yield_now().await;
        let ticks_before = ticks.count.get();
        ticks.max_late_ms.set(0);

        // The right way: both pieces of work leave the loop's thread.
        println!("main: counting primes below {BOUND} on a helper thread");
        let primes = spawn_blocking(|| {
            let began = Instant::now();
            let primes = count_primes_below(BOUND);
            println!(
                "helper: counted {primes} primes in {} ms",
                began.elapsed().as_millis()
            );
            primes
        });
        println!("main: making a 300 ms blocking call on a helper thread");
        let call = spawn_blocking(|| {
            // Stands for a blocking library call (a C client, a DNS lookup).
            std::thread::sleep(Duration::from_millis(300));
            println!("helper: the blocking call returned");
        });
        let primes = primes.await.expect("counting primes panicked");
        call.await.expect("the blocking call panicked");
        let during = ticks.count.get() - ticks_before;
        println!(
            "main: blocking work done at {} ms; {during} ticks meanwhile, at most {} ms late",
            start.elapsed().as_millis(),
            ticks.max_late_ms.get()
        );

        // The wrong way, briefly: the same kind of call made on the loop's
        // thread. Start it right after a tick, so the delay is easy to read.
        let next = ticks.count.get() + 1;
        ticks.reach(next).await;
        let bad = eddy::spawn(async {
            println!("bad task: calling std::thread::sleep(150 ms) on the loop's thread");
            std::thread::sleep(Duration::from_millis(150));
            println!("bad task: returned; the loop can run again");
        });
        bad.await.expect("the bad task panicked");
        ticks.reach(next + 1).await;
        // Ticks missed while the loop was blocked come in a burst (the
        // interval's default); the first of them is the one that waited.
        println!(
            "main: the tick after the blocking call came {} ms late",
            ticks.late_ms.borrow()[next as usize]
        );
        (primes, during)
    });
    assert!(
        during >= 2,
        "the ticker should have kept ticking while the work ran on helper threads"
    );
    println!("done: primes below {BOUND} = {primes}, {during} ticks while the blocking work ran");
}
