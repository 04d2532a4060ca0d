//! # 02 — timeouts and cancellation: `timeout` and `JoinHandle::abort`
//!
//! What it teaches: how to stop waiting for something. `eddy::time::timeout`
//! races a future against a deadline (Python's `asyncio.wait_for`): the
//! caller gets `Ok(output)` or `Err(Elapsed)`. `JoinHandle::abort` stops a
//! running task (Python's `Task.cancel`). In both cases cancelling a future
//! in Rust means *dropping* it: it is never polled again, and its
//! destructors run, so a guard with a `Drop` impl is where cleanup goes.
//!
//! What to watch: the "cleanup" lines. The slow operation prints its
//! cleanup *before* the caller sees `Err(Elapsed)`: the timeout drops the
//! inner future as it gives up. A timeout around a spawned task's
//! `JoinHandle` is different: giving up on the handle leaves the task
//! running, so the example aborts it on `Err`, which is what `wait_for`
//! does for you in Python. The aborted worker prints its cleanup
//! *before* `abort()` returns, because a task that is idle (waiting on a
//! timer) is dropped on the spot; awaiting its handle afterwards gives a
//! `JoinError` whose `is_cancelled()` is true. The fast operation finishes
//! and disarms its guard, so it prints no cleanup.
//!
//! Which part of eddy does the work: `src/time/timeout.rs` (polls the inner
//! future, then the deadline), `src/time/sleep.rs` and `src/time/wheel.rs`
//! (the timer that fires the deadline), `src/task/join.rs` (`abort`) and
//! `src/task/harness.rs` (drops an aborted task's future), and
//! `src/task/error.rs` (`JoinError`).
//!
//! Run it: `cargo run --example 02_timeouts_and_cancellation`

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use eddy::sync::mpsc;
use eddy::time::{sleep, timeout};

/// Prints a cleanup line if dropped while still armed, i.e. if the future
/// holding it was cancelled instead of finishing.
struct Guard {
    name: &'static str,
    armed: bool,
    cleanups: Rc<Cell<u32>>,
}

impl Guard {
    fn new(name: &'static str, cleanups: &Rc<Cell<u32>>) -> Guard {
        Guard {
            name,
            armed: true,
            cleanups: Rc::clone(cleanups),
        }
    }

    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if self.armed {
            self.cleanups.set(self.cleanups.get() + 1);
            println!("cleanup {}: dropped before it finished", self.name);
        }
    }
}

/// A slow operation, e.g. a query to a server that may not answer.
async fn slow_operation(
    name: &'static str,
    takes: Duration,
    cleanups: Rc<Cell<u32>>,
) -> &'static str {
    let guard = Guard::new(name, &cleanups);
    println!("{name}: started, needs {} ms", takes.as_millis());
    sleep(takes).await;
    guard.disarm();
    println!("{name}: finished");
    name
}

fn main() {
    let cleanups = Rc::new(Cell::new(0));
    let (in_time, timed_out, aborted) = eddy::block_on(async move {
        let limit = Duration::from_millis(100);
        let mut in_time = 0;
        let mut timed_out = 0;

        // 1. Finishes well inside the limit: the caller gets Ok(output).
        let fast = slow_operation("fast op", Duration::from_millis(10), cleanups.clone());
        match timeout(limit, fast).await {
            Ok(output) => {
                println!("main: timeout gave Ok({output:?})");
                in_time += 1;
            }
            Err(elapsed) => println!("main: unexpected Err({elapsed:?})"),
        }

        // 2. Would take 10 s: after 100 ms the caller gets Err(Elapsed), and
        //    the operation is dropped mid-sleep (its guard prints first).
        let before = cleanups.get();
        let slow = slow_operation("slow op", Duration::from_secs(10), cleanups.clone());
        match timeout(limit, slow).await {
            Ok(output) => println!("main: unexpected Ok({output:?})"),
            Err(elapsed) => {
                let dropped = cleanups.get() > before;
                println!(
                    "main: timeout gave Err({elapsed:?}): \"{elapsed}\"; inner future dropped: {dropped}"
                );
                if dropped {
                    timed_out += 1;
                }
            }
        }

        // 3. A time limit on a *task*. `timeout(limit, handle)` gives up
        //    waiting, but dropping a `JoinHandle` only detaches the task:
        //    it would run on. `asyncio.wait_for` cancels what it waited
        //    for; to do the same, wait on `&mut handle` and abort on `Err`.
        let before = cleanups.get();
        let mut task = eddy::spawn(slow_operation(
            "task op",
            Duration::from_secs(10),
            cleanups.clone(),
        ));
        match timeout(limit, &mut task).await {
            Ok(result) => println!("main: unexpected Ok({result:?})"),
            Err(_) => {
                task.abort();
                let dropped = cleanups.get() > before;
                println!("main: the task timed out; aborted it, cleaned up: {dropped}");
                if dropped {
                    timed_out += 1;
                }
            }
        }

        // 4. A worker task that would run forever. It reports each step, so
        //    main aborts it after three steps without guessing at timings.
        let (steps_tx, mut steps_rx) = mpsc::unbounded();
        let worker_cleanups = cleanups.clone();
        let worker = eddy::spawn(async move {
            let _guard = Guard::new("worker", &worker_cleanups);
            for step in 1.. {
                sleep(Duration::from_millis(20)).await;
                println!("worker: step {step} done");
                if steps_tx.send(step).await.is_err() {
                    break;
                }
            }
        });
        while let Some(step) = steps_rx.recv().await {
            if step == 3 {
                break;
            }
        }
        let before = cleanups.get();
        println!("main: calling abort() on the worker");
        worker.abort();
        let cleaned_up = cleanups.get() > before;
        println!("main: abort() returned; worker cleaned up already: {cleaned_up}");
        let mut aborted = 0;
        match worker.await {
            Err(e) if e.is_cancelled() => {
                println!("main: awaiting the worker gave Err({e:?}), is_cancelled() = true");
                if cleaned_up {
                    aborted += 1;
                }
            }
            other => println!("main: unexpected result from the worker: {other:?}"),
        }
        (in_time, timed_out, aborted)
    });
    println!(
        "done: {in_time} finished in time, {timed_out} timed out, {aborted} aborted and cleaned up"
    );
}
