//! # 03 — gather: fan out with `JoinSet`, collect every outcome, in both orders
//!
//! What it teaches: running many jobs at once and collecting *all* their
//! outcomes, good or bad, as Python's
//! `asyncio.gather(..., return_exceptions=True)` does, and in which order
//! they come. Each job goes into a `JoinSet`; `join_next_with_id` hands
//! back each result as its job finishes, with the id of the task, which is
//! the id of the `AbortHandle` that `spawn` returned. So the same loop
//! gives both orders: completion order as the results arrive (this is
//! `asyncio.as_completed`), and input order by putting each result at the
//! index its id maps to (this is `asyncio.gather`). (Awaiting the
//! `JoinHandle`s of plain `eddy::spawn`s one after the other also gives
//! input order, but then an early slow job holds back looking at the
//! others.)
//!
//! There are three kinds of outcome: `Ok(Ok(v))` (the job succeeded),
//! `Ok(Err(e))` (the job ran and returned an error, the normal way to fail),
//! and `Err(join_error)` with `is_panic()` (the job panicked; the runtime
//! caught it, `join_error.id()` says which task it was, and `into_panic()`
//! gives back the payload). A panic in one job stops neither the loop nor
//! the other jobs.
//!
//! What to watch: the results arrive sorted by how long each job sleeps,
//! not in the order the jobs were spawned: all ten wait at once, so the
//! whole run takes about as long as the slowest job (90 ms), not the sum
//! (450 ms). Then the same results are listed in input order. On stderr
//! there is one line, `panic hook: job 6: ...`: the
//! panic hook runs the moment a panic starts, before eddy catches the
//! unwind. Rust's default hook would print the usual "thread 'main'
//! panicked at ..." there (expected, and harmless: the program still exits
//! with success), plus a backtrace under `RUST_BACKTRACE=1`, which in a
//! debug build is slow enough to hold up the whole loop, since the hook
//! runs on the loop's thread. So the example installs a quiet hook for its
//! deliberate panics and leaves any other panic to the default hook.
//!
//! Which part of eddy does the work: `src/task/join_set.rs` (the set and
//! its completion queue), `src/task/harness.rs` (catches the panic),
//! `src/task/error.rs` (`JoinError`), and `src/time/wheel.rs` (the timers
//! that end the simulated work).
//!
//! Run it: `cargo run --example 03_gather`

use std::any::Any;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use eddy::task::JoinSet;
use eddy::time::sleep;

/// How long each job works, in ms: spawn order differs from finish order.
const DURATIONS_MS: [u64; 10] = [70, 20, 50, 10, 90, 30, 60, 40, 80, 0];

/// A job: "fetches" a value, or fails in one of the two ways a job can.
async fn job(id: usize, ms: u64) -> Result<(usize, u64), String> {
    sleep(Duration::from_millis(ms)).await;
    match id {
        3 | 7 => Err(format!("job {id}: the server said no")),
        6 => panic!("job {id}: index out of bounds (a bug)"),
        _ => Ok((id, id as u64 * 100)),
    }
}

/// The message inside a panic payload (`panic!` gives `&str` or `String`).
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a non-string payload")
}

/// Prints one line for the jobs' deliberate panics; anything else is a real
/// bug and gets the default hook's full report.
fn install_quiet_panic_hook() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = panic_message(info.payload());
        if message.starts_with("job ") {
            eprintln!("panic hook: {message}");
        } else {
            default_hook(info);
        }
    }));
}

/// What became of one job, kept for the listing in input order.
enum Outcome {
    Ok(u64),
    Failed(String),
    Panicked(String),
    Lost,
}

fn main() {
    install_quiet_panic_hook();
    eddy::block_on(async {
        let start = Instant::now();
        let mut set = JoinSet::new();
        // Task id -> position in the input, from the handle `spawn` returns.
        let mut input_index = HashMap::new();
        for (id, &ms) in DURATIONS_MS.iter().enumerate() {
            let handle = set.spawn(job(id, ms));
            input_index.insert(handle.id(), id);
        }
        let spawned = set.len();
        println!("main: spawned {spawned} jobs, collecting results as they finish");

        let mut in_input_order: Vec<Outcome> = (0..spawned).map(|_| Outcome::Lost).collect();
        let (mut ok, mut failed, mut panicked, mut collected) = (0, 0, 0, 0);
        while let Some(result) = set.join_next_with_id().await {
            collected += 1;
            let at = start.elapsed().as_millis();
            match result {
                Ok((task, Ok((id, value)))) => {
                    ok += 1;
                    println!("ok:       job {id} gave {value} (at {at} ms)");
                    in_input_order[input_index[&task]] = Outcome::Ok(value);
                }
                Ok((task, Err(e))) => {
                    failed += 1;
                    println!("failed:   {e} (at {at} ms)");
                    in_input_order[input_index[&task]] = Outcome::Failed(e);
                }
                Err(e) if e.is_panic() => {
                    panicked += 1;
                    let index = input_index[&e.id()];
                    let message = panic_message(&*e.into_panic()).to_string();
                    println!("panicked: payload {message:?} (at {at} ms)");
                    in_input_order[index] = Outcome::Panicked(message);
                }
                Err(e) => println!("lost:     {e} (at {at} ms)"),
            }
        }
        let lost = spawned - collected;
        println!(
            "main: all collected after {} ms (the slowest job alone takes 90 ms)",
            start.elapsed().as_millis()
        );

        println!("main: the same results in input order, as asyncio.gather gives them:");
        for (i, outcome) in in_input_order.iter().enumerate() {
            match outcome {
                Outcome::Ok(value) => println!("  job {i}: ok, {value}"),
                Outcome::Failed(e) => println!("  job {i}: failed, {e}"),
                Outcome::Panicked(message) => println!("  job {i}: panicked, {message}"),
                Outcome::Lost => println!("  job {i}: lost"),
            }
        }
        println!(
            "done: {spawned} jobs, {ok} ok, {failed} failed, {panicked} panicked, {lost} lost"
        );
    });
}
