//! # 14 — subprocesses: several commands at once, on one thread
//!
//! What it teaches: how to run child processes from async code, the way
//! asyncio's `create_subprocess_exec` does: start them, talk to them
//! through pipes, wait for them, kill the ones that take too long. The
//! pipes are non-blocking and watched by the same loop as sockets and
//! timers, so one thread serves every child at once.
//!
//! What to watch: four commands run together while a ticker prints every
//! 40 ms. The lines of `streamer` come one by one, mixed with the ticks
//! (nothing waits for the child to finish); `shouter` gets its input
//! through its stdin and answers on its stdout; `sleeper` would sleep 10 s
//! but is killed after 200 ms; `failer` exits with code 3. The last line
//! sums up their exit statuses.
//!
//! Which part of eddy does the work: `src/process/mod.rs` (`Command`,
//! `Child`), `src/process/pipes.rs` (the pipes, registered through
//! `src/io/mod.rs`'s `Async`), `src/process/child.rs` (the exit noticed
//! through a pidfd on the reactor, `src/reactor/mod.rs`), and
//! `src/time/` for the ticker and the timeout.
//!
//! Run it: `cargo run --example 14_subprocesses`

use std::cell::Cell;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};
use std::rc::Rc;
use std::time::Duration;

use eddy::process::Command;
use eddy::time::{interval, timeout};
use futures::StreamExt;
use futures::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// Prints each line of a child's output as it comes.
async fn streamer() -> io::Result<ExitStatus> {
    let mut child = Command::new("sh")
        .args([
            "-c",
            "for i in 1 2 3 4 5; do echo \"line $i\"; sleep 0.05; done",
        ])
        .stdout(Stdio::piped())
        .spawn()?;
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    while let Some(line) = lines.next().await {
        println!("streamer: {}", line?);
    }
    child.wait().await
}

/// Feeds a child's stdin, then reads what it made of it.
async fn shouter() -> io::Result<ExitStatus> {
    let mut child = Command::new("sh")
        .args(["-c", "while read word; do echo \"$word!\"; done"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut stdin = child.stdin.take().expect("piped");
    for word in ["hello", "from", "the", "parent"] {
        stdin.write_all(format!("{word}\n").as_bytes()).await?;
    }
    // Closing stdin is the child's end of input: its loop ends.
    stdin.close().await?;
    let mut answer = String::new();
    child
        .stdout
        .as_mut()
        .expect("piped")
        .read_to_string(&mut answer)
        .await?;
    println!(
        "shouter: answered {:?}",
        answer.replace('\n', " ").trim_end()
    );
    child.wait().await
}

/// A command that would run too long: killed when its time is up.
async fn sleeper() -> io::Result<ExitStatus> {
    let mut child = Command::new("sleep").arg("10").spawn()?;
    match timeout(Duration::from_millis(200), child.wait()).await {
        Ok(status) => status,
        Err(_elapsed) => {
            println!("sleeper: still running after 200 ms; killing it");
            child.kill().await?; // SIGKILL, then wait: no zombie left
            child.wait().await // the same status again, at once
        }
    }
}

/// A command that fails: its exit code is data, not an `Err`.
async fn failer() -> io::Result<ExitStatus> {
    Command::new("sh").args(["-c", "exit 3"]).status().await
}

fn describe(status: &ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        _ => "unknown".into(),
    }
}

fn main() -> io::Result<()> {
    eddy::block_on(async {
        let ticks = Rc::new(Cell::new(0u32));
        let counter = ticks.clone();
        let ticker = eddy::spawn(async move {
            let mut every = interval(Duration::from_millis(40));
            loop {
                every.tick().await;
                counter.set(counter.get() + 1);
                println!("tick {}", counter.get());
            }
        });

        // All four start now and run side by side.
        let children = [
            ("streamer", eddy::spawn(streamer())),
            ("shouter", eddy::spawn(shouter())),
            ("sleeper", eddy::spawn(sleeper())),
            ("failer", eddy::spawn(failer())),
        ];
        let mut summary = Vec::new();
        for (name, task) in children {
            let status = task.await.expect("a child task panicked")?;
            println!("main: {name} ended: {}", describe(&status));
            summary.push(format!("{name} {}", describe(&status)));
        }
        ticker.abort();
        println!(
            "done: 4 commands ran at once ({}), {} ticks meanwhile",
            summary.join(", "),
            ticks.get()
        );
        Ok(())
    })
}
