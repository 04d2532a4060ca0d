//! # 04 — producer/consumer: a pipeline of bounded channels
//!
//! What it teaches: how stages of work talk through queues, and how a
//! *bounded* queue gives backpressure (Python's `asyncio.Queue(maxsize=4)`).
//! Three tasks form a pipeline: a fast producer, a slow middle stage that
//! squares each number, and a consumer that adds them up. When the queue in
//! front of the slow stage is full, the producer does not pile up more
//! items in memory: `try_send` says `Full`, and `send().await` parks the
//! producer until the middle stage takes an item. Shutdown needs no extra
//! signal: when a stage drops its `Sender`, the next stage's `recv` returns
//! `None` once the queue is drained, and that stage ends in turn.
//!
//! What to watch: the producer sends 4 items at once, then prints
//! "producer: queue full, waiting"; from then on it moves at the middle
//! stage's pace, one item each time one is taken. The middle stage prints
//! how many items wait in its queue: never more than 4. At the end,
//! "input closed" travels down the pipeline, stage after stage.
//!
//! Which part of eddy does the work: `src/sync/mpsc.rs` (the bounded queue
//! and its waiting senders and receiver), `src/sync/waiters.rs` (the FIFO
//! list of parked senders), `src/time/wheel.rs` (the timer behind the slow
//! stage's simulated work), and `src/runtime/core.rs` (the loop that runs
//! whichever stage was woken).
//!
//! Run it: `cargo run --example 04_producer_consumer`

use std::time::Duration;

use eddy::sync::mpsc::{self, TrySendError};

/// Items the producer makes: 1..=N.
const N: u64 = 30;
/// Room in each queue.
const CAPACITY: usize = 4;

fn main() {
    let (sum, items, max_depth) = eddy::block_on(async {
        let (raw_tx, mut raw_rx) = mpsc::channel::<u64>(CAPACITY);
        let (squared_tx, mut squared_rx) = mpsc::channel::<u64>(CAPACITY);

        // Stage 1: makes numbers as fast as it can; only the queue slows it.
        let producer = eddy::spawn(async move {
            let mut waits = 0;
            for i in 1..=N {
                match raw_tx.try_send(i) {
                    Ok(()) => println!("producer: sent {i}"),
                    Err(TrySendError::Full(i)) => {
                        waits += 1;
                        println!("producer: queue full, waiting");
                        if raw_tx.send(i).await.is_err() {
                            break;
                        }
                        println!("producer: sent {i} after waiting");
                    }
                    Err(TrySendError::Closed(_)) => break,
                }
            }
            println!("producer: made {N} items, dropping its sender");
            waits
        });

        // Stage 2: slow work on each item.
        let middle = eddy::spawn(async move {
            let mut max_depth = 0;
            while let Some(i) = raw_rx.recv().await {
                // `len` counts what is still queued behind the item just taken.
                let depth = raw_rx.len() + 1;
                max_depth = max_depth.max(depth);
                println!("middle: took {i} ({depth}/{CAPACITY} were queued)");
                eddy::time::sleep(Duration::from_millis(5)).await; // simulated work
                if squared_tx.send(i * i).await.is_err() {
                    break;
                }
            }
            println!("middle: input closed, dropping its sender");
            max_depth
        });

        // Stage 3: adds up what arrives.
        let consumer = eddy::spawn(async move {
            let (mut sum, mut items) = (0, 0);
            while let Some(square) = squared_rx.recv().await {
                sum += square;
                items += 1;
                println!("consumer: got {square}, sum so far {sum}");
            }
            println!("consumer: input closed");
            (sum, items)
        });

        let waits = producer.await.expect("the producer task failed");
        let max_depth = middle.await.expect("the middle task failed");
        let (sum, items) = consumer.await.expect("the consumer task failed");
        println!(
            "main: the producer waited for room {waits} times; the queue held at most {max_depth} of {CAPACITY}"
        );
        (sum, items, max_depth)
    });
    assert!(max_depth <= CAPACITY, "a bounded queue overflowed");
    // 1² + 2² + ... + N² = N(N+1)(2N+1)/6
    assert_eq!(sum, N * (N + 1) * (2 * N + 1) / 6);
    println!("done: {items} items through 3 stages, sum = {sum}");
}
