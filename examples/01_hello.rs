//! # 01 — hello: `block_on`, `spawn`, and awaiting a `JoinHandle`
//!
//! What it teaches: the three calls every eddy program starts with.
//! `eddy::block_on` builds a runtime and runs one future on this thread
//! until it finishes (Python's `asyncio.run`); `eddy::spawn` hands another
//! future to the same loop and returns a `JoinHandle`; awaiting the handle
//! gives the task's result.
//!
//! What to watch: the spawned tasks print *after* "main: spawned 3 tasks",
//! because spawning only puts a task on the run queue; it runs when the
//! main future stops to wait (at its first `.await` that is not ready).
//! They then run in the order they were spawned: the run queue is FIFO.
//!
//! Which part of eddy does the work: `src/task/mod.rs` (`spawn`),
//! `src/runtime/core.rs` (the loop that polls the run queue), and
//! `src/task/join.rs` (the `JoinHandle` that waits for a result).
//!
//! Run it: `cargo run --release --example 01_hello`

fn main() {
    let total = eddy::block_on(async {
        let mut handles = Vec::new();
        for n in 1..=3u64 {
            handles.push(eddy::spawn(async move {
                println!("task {n}: computing {n} squared");
                n * n
            }));
        }
        println!("main: spawned {} tasks, now awaiting them", handles.len());

        let mut total = 0;
        for handle in handles {
            total += handle
                .await
                .expect("the task neither panicked nor was cancelled");
        }
        total
    });
    println!("main: sum of squares = {total}");
}
