//! # 10 — debug mode: catch the task that blocks the loop
//!
//! What it teaches: the mistake every event-loop program makes sooner or
//! later is a blocking call inside async code (`std::thread::sleep`, a
//! synchronous library, heavy computation): while it runs, no other task,
//! timer or socket gets the thread. Debug mode (Python's
//! `asyncio.run(main(), debug=True)`) finds it for you. Turn it on with
//! `eddy::Builder::new().debug(true)`, or for any program, without touching
//! its code, with the environment variable `EDDY_DEBUG=1`. Every task then
//! remembers where it was spawned, and every poll that takes longer than
//! the slow-poll threshold (100 ms by default) is reported on stderr. Two
//! more tools help to see what a runtime is doing: `Runtime::metrics` (a
//! few counters that cost nothing to keep) and `Runtime::tasks` (a dump of
//! the live tasks).
//!
//! What to watch: on stderr, one line
//! `eddy: slow poll: task <id> spawned at examples/10_debug_mode.rs:<line>:<col> took <ms> ms`
//! whose line is the `eddy::spawn` marked `// <- reported` below: the well
//! behaved tasks are never reported. On stdout, the sleeper asks for 50 ms
//! and wakes some 200 ms later, because the loop was stuck. Then the
//! counters, and a dump of the two tasks still alive (they wait on a
//! oneshot and on a long sleep), each with the place it was spawned.
//!
//! Which part of eddy does the work: `src/runtime/core.rs` (`run_task`
//! times each poll in debug mode, `report_slow_poll` prints the line),
//! `src/task/mod.rs` (`spawn` is `#[track_caller]`: that is how the task
//! knows its spawn site), `src/runtime/metrics.rs` (the counters) and
//! `src/runtime/dump.rs` (the task dump).
//!
//! Run it: `cargo run --example 10_debug_mode`
//! (or `EDDY_DEBUG=1 cargo run --example 09_blocking_work` to see debug
//! mode catch the deliberate mistake in example 09)

use std::io;
use std::time::{Duration, Instant};

use eddy::sync::{mpsc, oneshot};
use eddy::time::sleep;

/// Set explicitly (it is the default) to show how the blocking call below
/// relates to it.
const THRESHOLD: Duration = Duration::from_millis(100);

/// A blocking call in async code. The task's first poll only starts the
/// timer (quick); its second blocks for twice the threshold, so exactly that
/// poll is reported. Returns how many of its polls were slow.
async fn blocks_the_loop() -> u32 {
    sleep(Duration::from_millis(20)).await;
    println!("blocker: calling std::thread::sleep(200 ms) on the loop's thread");
    let start = Instant::now();
    std::thread::sleep(2 * THRESHOLD); // use spawn_blocking instead (example 09)
    u32::from(start.elapsed() > THRESHOLD)
}

fn main() -> io::Result<()> {
    let rt = eddy::Builder::new()
        .debug(true)
        .slow_poll_threshold(THRESHOLD)
        .build()?;

    // Two tasks that outlive the first `block_on`: they are what the dump
    // will show, idle, each waiting for something.
    let (go_tx, go_rx) = oneshot::channel::<&'static str>();
    let waiter = rt.spawn(async move {
        let word = go_rx.await.expect("main keeps the sender");
        println!("waiter: got {word:?}, finishing");
    });
    let idler = rt.spawn(sleep(Duration::from_secs(3600)));

    let slow_polls = rt.block_on(async {
        // Well behaved: a producer and a consumer over a channel; each
        // `.await` hands the thread back to the loop.
        let (tx, mut rx) = mpsc::channel::<u32>(2);
        let producer = eddy::spawn(async move {
            for i in 1..=3 {
                sleep(Duration::from_millis(10)).await;
                tx.send(i).await.expect("the consumer is alive");
            }
        });
        let consumer = eddy::spawn(async move {
            let mut sum = 0;
            while let Some(v) = rx.recv().await {
                sum += v;
            }
            println!("consumer: channel closed, sum = {sum}");
        });
        // Well behaved, but a victim: its timer cannot fire while the loop
        // is stuck in the blocker's poll.
        let sleeper = eddy::spawn(async {
            let start = Instant::now();
            sleep(Duration::from_millis(50)).await;
            let took = start.elapsed().as_millis();
            println!("sleeper: asked for 50 ms, woke after {took} ms");
        });
        // The mistake, in a function of its own (below): the report names
        // this line, where the task was spawned.
        let blocker = eddy::spawn(blocks_the_loop()); // <- reported
        producer.await.expect("producer");
        consumer.await.expect("consumer");
        sleeper.await.expect("sleeper");
        blocker.await.expect("blocker")
    });

    let m = rt.metrics();
    println!("metrics:");
    for (name, value) in [
        ("tasks_spawned", m.tasks_spawned),
        ("tasks_alive", m.tasks_alive),
        ("polls", m.polls),
        ("local_wakes", m.local_wakes),
        ("remote_wakes", m.remote_wakes),
        ("io_events", m.io_events),
        ("timers_fired", m.timers_fired),
        ("parks", m.parks),
        ("ready_queue_depth", m.ready_queue_depth),
    ] {
        println!("  {name:<18} {value}");
    }

    // Between two `block_on`s nothing runs, so every live task is idle.
    let dump = rt.tasks();
    println!("task dump: {} live tasks", dump.len());
    for t in &dump {
        let at = t
            .location
            .map_or("<debug mode off>".to_string(), |l| l.to_string());
        let times = if t.polls == 1 { "time" } else { "times" };
        println!(
            "  task {} spawned at {at}: {:?}, polled {} {times}",
            t.id, t.state, t.polls
        );
    }

    // Let the waiter finish, and cancel the idler: nothing should be left
    // waiting when a program ends.
    go_tx.send("go").expect("the waiter is alive");
    idler.abort();
    rt.block_on(async {
        waiter.await.expect("waiter");
        let cancelled = idler.await.expect_err("it was aborted").is_cancelled();
        println!("idler: cancelled = {cancelled}");
    });
    println!("tasks alive at the end: {}", rt.metrics().tasks_alive);
    println!(
        "done: {slow_polls} slow poll reported, dump listed {} live tasks",
        dump.len()
    );
    Ok(())
}
