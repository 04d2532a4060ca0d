//! Every example builds, runs, exits with success within 20 s, and prints
//! the line that shows it did its job. The HTTP examples (12, 13) need the
//! `hyper` feature: they are built and run under `--features hyper`, and
//! skipped without it.
//!
//! The examples are built once with the same cargo and profile as this test
//! (a no-op when `cargo test` has already built them), then run as child
//! processes. A watchdog thread per child waits for its output to end; a
//! child still running after the limit is killed and the test fails.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{OnceLock, mpsc};
use std::thread;
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(20);

/// `target/<profile>`, found from this test's own executable
/// (`target/<profile>/deps/examples-<hash>`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its own path");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("the test runs from target/<profile>/deps")
        .to_path_buf()
}

/// Builds every example once per test run.
fn build_examples() {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "--examples", "--quiet"])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if profile_dir().file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        if cfg!(feature = "hyper") {
            cmd.args(["--features", "hyper"]);
        }
        match cmd.status() {
            Ok(status) if status.success() => Ok(()),
            Ok(status) => Err(format!("`cargo build --examples` failed: {status}")),
            Err(e) => Err(format!("could not run cargo: {e}")),
        }
    });
    if let Err(e) = built {
        panic!("{e}");
    }
}

/// What one run of an example printed.
struct Run {
    stdout: String,
    stderr: String,
}

/// Runs the example `name`; fails the test if it does not exit with
/// success within `LIMIT`.
fn run(name: &str) -> Run {
    run_signalled(name, None)
}

/// As `run`; with `Some((prefix, signal))`, sends `signal` to the example
/// with `kill -<signal> <pid>` as soon as it prints a line starting with
/// `prefix` (waiting on that line, not on a clock).
fn run_signalled(name: &str, trigger: Option<(&str, &str)>) -> Run {
    build_examples();
    let path = profile_dir().join("examples").join(name);
    let start = Instant::now();
    let mut child = Command::new(&path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("could not start {}: {e}", path.display()));
    // Both pipes are read on threads, so a chatty child never blocks on a
    // full pipe; the channel says when both have ended (the child exited).
    let (tx, rx) = mpsc::channel();
    let pid = child.id().to_string();
    let trigger = trigger.map(|(prefix, signal)| (prefix.to_string(), format!("-{signal}")));
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let out_tx = tx.clone();
    thread::spawn(move || {
        let mut text = String::new();
        let mut trigger = trigger;
        for line in stdout.lines() {
            let Ok(line) = line else { break };
            if trigger
                .as_ref()
                .is_some_and(|(prefix, _)| line.starts_with(prefix.as_str()))
            {
                let (_, signal) = trigger.take().unwrap();
                let sent = Command::new("kill")
                    .args([signal.as_str(), pid.as_str()])
                    .status();
                assert!(
                    sent.is_ok_and(|s| s.success()),
                    "kill {signal} {pid} failed"
                );
            }
            text.push_str(&line);
            text.push('\n');
        }
        let _ = out_tx.send((false, text));
    });
    let mut stderr = child.stderr.take().unwrap();
    thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        let _ = tx.send((true, text));
    });
    let (mut stdout, mut stderr) = (None, None);
    while stdout.is_none() || stderr.is_none() {
        let left = LIMIT.saturating_sub(start.elapsed());
        match rx.recv_timeout(left) {
            Ok((false, text)) => stdout = Some(text),
            Ok((true, text)) => stderr = Some(text),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("example {name} ran for more than {LIMIT:?} and was killed");
            }
        }
    }
    let status = child.wait().expect("wait for the example");
    let run = Run {
        stdout: stdout.unwrap(),
        stderr: stderr.unwrap(),
    };
    assert!(
        status.success(),
        "example {name} failed ({status}).\n--- stdout\n{}\n--- stderr\n{}",
        run.stdout,
        run.stderr
    );
    run
}

impl Run {
    /// Asserts that some line of stdout is exactly `line`.
    fn has_line(&self, line: &str) -> &Self {
        assert!(
            self.stdout.lines().any(|l| l == line),
            "expected the line {line:?} in:\n{}",
            self.stdout
        );
        self
    }

    /// The first stdout line that starts with `prefix`.
    fn line_starting(&self, prefix: &str) -> &str {
        self.stdout
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line starting {prefix:?} in:\n{}", self.stdout))
    }

    /// The last line of stdout.
    fn last_line(&self) -> &str {
        self.stdout.lines().last().unwrap_or("")
    }
}

/// The numbers in `line`, in order.
fn numbers(line: &str) -> Vec<u64> {
    line.split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect()
}

#[test]
fn example_01_hello() {
    let run = run("01_hello");
    run.has_line("main: spawned 3 tasks, now awaiting them")
        .has_line("main: sum of squares = 14");
    // Spawned tasks run only once main waits, and in spawn order.
    let pos = |s: &str| run.stdout.find(s).unwrap();
    assert!(pos("main: spawned") < pos("task 1:"));
    assert!(pos("task 1:") < pos("task 2:") && pos("task 2:") < pos("task 3:"));
}

#[test]
fn example_02_timeouts_and_cancellation() {
    let run = run("02_timeouts_and_cancellation");
    assert_eq!(
        run.last_line(),
        "done: 1 finished in time, 2 timed out, 1 aborted and cleaned up"
    );
    // The timed-out operation, the timed-out task (aborted on `Err`) and the
    // aborted worker all ran their destructors, and the worker's ran before
    // `abort()` returned.
    run.has_line("cleanup slow op: dropped before it finished")
        .has_line("cleanup task op: dropped before it finished")
        .has_line("main: the task timed out; aborted it, cleaned up: true")
        .has_line("main: abort() returned; worker cleaned up already: true");
}

#[test]
fn example_03_gather() {
    let run = run("03_gather");
    assert_eq!(
        run.last_line(),
        "done: 10 jobs, 7 ok, 2 failed, 1 panicked, 0 lost"
    );
    assert!(
        run.stdout
            .contains("panicked: payload \"job 6: index out of bounds (a bug)\""),
        "{}",
        run.stdout
    );
    // Completion order first (the shortest job, 9, comes first), then the
    // same outcomes in input order.
    run.line_starting("ok:       job 9 gave 900");
    let pos = |s: &str| run.stdout.find(s).unwrap_or_else(|| panic!("no {s:?}"));
    assert!(pos("ok:       job 9") < pos("ok:       job 0"));
    run.has_line("  job 0: ok, 0")
        .has_line("  job 3: failed, job 3: the server said no")
        .has_line("  job 6: panicked, job 6: index out of bounds (a bug)")
        .has_line("  job 9: ok, 900");
    let listed: Vec<usize> = run
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("  job ")?.split(':').next()?.parse().ok())
        .collect();
    assert_eq!(listed, (0..10).collect::<Vec<_>>(), "{}", run.stdout);
}

#[test]
fn example_04_producer_consumer() {
    let run = run("04_producer_consumer");
    let done = run.line_starting("done: ");
    let n = numbers(done);
    // "done: N items through 3 stages, sum = S"
    assert_eq!(n.len(), 3, "{done}");
    assert_eq!(n[1], 3);
    assert!(n[0] > 0);
    assert!(
        run.stdout.contains("queue full"),
        "backpressure was never shown:\n{}",
        run.stdout
    );
}

#[test]
fn example_05_echo_server() {
    let run = run("05_echo_server");
    let done = run.line_starting("done: the server echoed ");
    assert!(done.ends_with("bytes to 3 clients"), "{done}");
    for id in 0..3 {
        assert!(
            run.stdout
                .contains(&format!("server: connection {id} closed by the client")),
            "{}",
            run.stdout
        );
    }
}

#[test]
fn example_06_chat_server() {
    let run = run("06_chat_server");
    let done = run.last_line();
    assert!(
        done.starts_with(
            "done: 4 clients chatted, 1 misbehaving client dropped, every message delivered ("
        ),
        "{done}"
    );
    run.has_line("server: dropping mallory: line longer than 256 bytes")
        .has_line("mallory: disconnected by the server")
        // The shutdown, through a watch channel, reached eve's connection.
        .has_line("eve: the server said \"* server shutting down\"")
        .has_line("server: shut down after serving 6 connections");
    for name in ["alice", "bob", "carol", "dave"] {
        run.line_starting(&format!("{name}: heard all "));
    }
}

#[test]
fn example_07_fetch_many() {
    let run = run("07_fetch_many");
    let done = run.last_line();
    let n = numbers(done);
    // "done: 100 pages, OK ok, T timed out, at most P in flight"
    assert!(done.starts_with("done: 100 pages, "), "{done}");
    assert_eq!(n.len(), 4, "{done}");
    assert_eq!(n[1] + n[2], 100, "{done}");
    assert!(n[2] > 0, "no request timed out: {done}");
    assert!(n[3] <= 10, "{done}");
    run.has_line("client: 100 fetches spawned, at most 10 at a time");
}

#[test]
fn example_08_event_loop_from_scratch() {
    let run = run("08_event_loop_from_scratch");
    let done = run.last_line();
    assert!(
        done.starts_with("done: echoed 3 messages over one connection, 3 timers fired, "),
        "{done}"
    );
}

#[test]
fn example_09_blocking_work() {
    let run = run("09_blocking_work");
    let done = run.last_line();
    let n = numbers(done);
    // "done: primes below B = P, K ticks while the blocking work ran"
    assert!(done.starts_with("done: primes below "), "{done}");
    assert_eq!(n.len(), 3, "{done}");
    assert!(n[2] >= 2, "the timer did not keep ticking: {done}");
    // Blocking the loop's thread itself does delay the ticks.
    let late = numbers(run.line_starting("main: the tick after the blocking call came "));
    assert!(late[0] >= 50, "{late:?}");
}

#[test]
fn example_10_debug_mode() {
    let run = run("10_debug_mode");
    // The spawn the report must name is marked in the example's source.
    let source = include_str!("../examples/10_debug_mode.rs");
    let line = 1 + source
        .lines()
        .position(|l| l.trim_end().ends_with("// <- reported"))
        .expect("the example marks the spawn that is reported");
    let reports: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("eddy: slow poll: task "))
        .collect();
    assert_eq!(reports.len(), 1, "one slow poll expected:\n{}", run.stderr);
    let at = format!(" spawned at examples/10_debug_mode.rs:{line}:");
    assert!(reports[0].contains(&at), "not line {line}: {}", reports[0]);
    let took = *numbers(reports[0]).last().unwrap();
    assert!(took >= 200, "{}", reports[0]);
    // The blocked loop made the sleeper late.
    let late = numbers(run.line_starting("sleeper: asked for 50 ms, woke after "));
    assert!(late[1] >= 200, "{late:?}");
    // "done: 1 slow poll reported, dump listed N live tasks", N as dumped.
    let done = run.last_line();
    let n = numbers(done);
    assert_eq!(
        done,
        format!(
            "done: 1 slow poll reported, dump listed {} live tasks",
            n[1]
        )
    );
    assert_eq!(n[1], 2, "{done}");
    let dumped: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("  task "))
        .collect();
    assert_eq!(dumped.len() as u64, n[1], "{}", run.stdout);
    for l in dumped {
        assert!(
            l.contains(" spawned at examples/10_debug_mode.rs:") && l.contains(": Idle, "),
            "{l}"
        );
    }
    run.has_line("  tasks_alive        2")
        .has_line("idler: cancelled = true")
        .has_line("tasks alive at the end: 0");
}

#[test]
fn example_11_embedding() {
    let run = run("11_embedding");
    let done = run.last_line();
    let n = numbers(done);
    // "done: host loop ran T turns; echo ok, 3 timers fired, remote wake
    // seen, 3 host messages"
    assert_eq!(
        done,
        format!(
            "done: host loop ran {} turns; echo ok, 3 timers fired, remote wake seen, 3 host messages",
            n[0]
        )
    );
    let turn_lines = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("host: eddy's fd was readable; turn "))
        .count() as u64;
    assert_eq!(turn_lines, n[0], "{}", run.stdout);
    // The host sleeps in poll between events: a spinning loop would make
    // thousands of turns.
    assert!(n[0] > 0 && n[0] < 100, "{done}");
    run.has_line("echo client: the bytes came back unchanged: Ok(true)")
        .has_line("remote: task spawned from another thread runs on the loop's thread: true");
    let pos = |s: &str| {
        run.stdout
            .find(s)
            .unwrap_or_else(|| panic!("no {s:?} in:\n{}", run.stdout))
    };
    assert!(pos("timer: 20 ms sleep fired") < pos("timer: 50 ms sleep fired"));
    assert!(pos("timer: 50 ms sleep fired") < pos("timer: 80 ms sleep fired"));
    for i in 1..=3 {
        run.has_line(&format!("host: got \"host message {i}\" on its own pipe"));
    }
}

#[test]
fn example_15_thread_per_core() {
    let run = run("15_thread_per_core");
    run.has_line("done: 32 clients, 32 answers");
    let listening = numbers(run.line_starting("server: "));
    // "server: W of W workers listening on 127.0.0.1:PORT"
    assert_eq!(listening[0], listening[1], "{}", run.stdout);
    assert!(listening[0] >= 2, "{}", run.stdout);
    // Every client got its own line back, upper-cased by the worker after
    // the one that accepted it (a hand-off through `handles()`).
    let workers = listening[0];
    for id in 0..32 {
        let line = run.line_starting(&format!("client {id}: "));
        let prefix = format!("client {id}: HELLO FROM CLIENT {id} (accepted by worker ");
        assert!(line.starts_with(&prefix), "{line}");
        let n = numbers(&line[prefix.len()..]);
        assert_eq!(n[1], (n[0] + 1) % workers, "{line}");
    }
    // "connections per worker: worker 0: A, worker 1: B, ..." adds up.
    let spread = numbers(run.line_starting("connections per worker: "));
    assert_eq!(spread.len() as u64, 2 * workers, "{}", run.stdout);
    let total: u64 = spread.iter().skip(1).step_by(2).sum();
    assert_eq!(total, 32, "{}", run.stdout);
}

#[test]
fn example_14_subprocesses() {
    let run = run("14_subprocesses");
    assert_eq!(
        run.last_line(),
        format!(
            "done: 4 commands ran at once (streamer exit 0, shouter exit 0, sleeper killed by \
             signal 9, failer exit 3), {} ticks meanwhile",
            numbers(run.last_line())[5]
        )
    );
    for i in 1..=5 {
        run.has_line(&format!("streamer: line {i}"));
    }
    run.has_line("shouter: answered \"hello! from! the! parent!\"")
        .has_line("sleeper: still running after 200 ms; killing it");
    // The ticks came while the streamer's lines did, not all after them.
    let pos = |s: &str| run.stdout.find(s).unwrap();
    assert!(pos("tick 2") < pos("streamer: line 5"), "{}", run.stdout);
}

/// The server is stopped by a signal sent right after it says it listens;
/// every connection it accepted is served to the end, and it exits 0.
fn graceful_shutdown(signal: &str, reason: &str) {
    let run = run_signalled(
        "16_graceful_shutdown",
        Some(("server: listening on ", signal)),
    );
    let stopped = run.line_starting(&format!(
        "server: {reason}: stopped accepting; waiting for "
    ));
    assert!(stopped.ends_with(" open connection(s)"), "{stopped}");
    let accepted = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("server: connection ") && l.contains(" from "))
        .count();
    let finished = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("server: connection ") && l.ends_with(" bytes)"))
        .count();
    assert_eq!(accepted, finished, "{}", run.stdout);
    let done = run.last_line();
    assert!(
        done.starts_with(&format!(
            "done: shut down gracefully after {reason}: {accepted} connection(s) served to the end, "
        )),
        "{done}"
    );
    // Each client either talked to the end or was refused, never cut off.
    for id in 0..3 {
        let line = run.line_starting(&format!("client {id}: "));
        assert!(
            line.ends_with("all 10 messages echoed") || line.contains("was gone before serving me"),
            "{line}"
        );
    }
}

#[test]
fn example_16_graceful_shutdown_on_sigterm() {
    graceful_shutdown("TERM", "SIGTERM");
}

#[test]
fn example_16_graceful_shutdown_on_ctrl_c() {
    graceful_shutdown("INT", "ctrl-c (SIGINT)");
}

#[cfg(feature = "hyper")]
#[test]
fn example_12_http_server() {
    let run = run("12_http_server");
    assert_eq!(
        run.last_line(),
        "done: 6 requests answered, 1 background job run, graceful shutdown with 1 request in flight"
    );
    run.has_line("client: GET / -> 200 \"hello from eddy\"")
        .has_line("client: POST /jobs -> 202 \"job 1 queued\"")
        .has_line(
            "client: GET /api/stats -> 200 \"{\\\"requests\\\": 4, \\\"jobs_started\\\": 1, \\\"jobs_done\\\": 1}\"",
        )
        .has_line("client: GET /nope -> 404 \"no such page\"")
        .has_line("server: shut down gracefully after 6 requests")
        .has_line("client: a new connection is refused: true");
    // The request in flight was answered after the shutdown was asked for,
    // and the server stopped only after it.
    let pos = |s: &str| {
        run.stdout
            .find(s)
            .unwrap_or_else(|| panic!("no {s:?} in:\n{}", run.stdout))
    };
    let slow = run.line_starting("client: GET /slow?ms=300 -> 200 \"slept 300 ms\" after ");
    assert!(numbers(slow)[3] >= 300, "{slow}");
    assert!(pos("asking the server to shut down") < pos("client: GET /slow?ms=300"));
    assert!(pos("client: GET /slow?ms=300") < pos("server: shut down gracefully"));
    // The background job finished after its request was answered.
    assert!(pos("client: POST /jobs") < pos("server: background job 1 done"));
}

#[cfg(feature = "hyper")]
#[test]
fn example_13_http_client() {
    let run = run("13_http_client");
    let done = run.last_line();
    let n = numbers(done);
    // "done: 100 pages, OK ok, T timed out, at most P in flight, in input order: true"
    assert!(done.starts_with("done: 100 pages, "), "{done}");
    assert!(done.ends_with(", in input order: true"), "{done}");
    assert_eq!(n.len(), 4, "{done}");
    assert_eq!(n[1] + n[2], 100, "{done}");
    assert!(n[2] >= 5, "the 5 slow pages were not all cancelled: {done}");
    assert!(n[3] <= 10, "{done}");
    for page in [20, 40, 60, 80, 100] {
        run.has_line(&format!("client: page {page} cancelled after 200ms"));
    }
}
