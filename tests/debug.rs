//! Integration tests for debug mode, the task dump and the metrics (API.md,
//! "Debugging and embedding": `Builder::debug`, `EDDY_DEBUG`,
//! `Builder::slow_poll_threshold`, the slow-poll report, `Runtime::tasks`,
//! `TaskInfo`, `TaskId`, `Runtime::metrics` and `Metrics`).
//!
//! The slow-poll report goes to stderr, which a test cannot capture in its
//! own process: those tests re-run this test binary as a child process,
//! running only `child_scenario` with `EDDY_TEST_CHILD` naming what to do,
//! and read the child's stderr. Without that variable `child_scenario`
//! returns at once.
//!
//! The host-loop side of the same section (`turn`, the fd, `next_deadline`)
//! is in `tests/embedding.rs`.

mod common;

use std::collections::HashMap;
use std::fmt::{Debug, Display};
use std::fs::File;
use std::future::{Future, pending, poll_fn};
use std::hash::Hash;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::pin::pin;
use std::rc::Rc;
use std::sync::mpsc;
use std::task::Poll;
use std::thread;
use std::time::Duration;

use common::*;
use eddy::io::Async;
use eddy::runtime::{Metrics, TaskInfo, TaskState};
use eddy::sync::oneshot;
use eddy::task::{JoinSet, TaskId, yield_now};
use eddy::{Builder, Runtime};

/// The variable that makes `child_scenario` do its work.
const CHILD_ENV: &str = "EDDY_TEST_CHILD";
/// The helper test the child process runs.
const CHILD_TEST: &str = "child_scenario";
/// What a child prints on stdout before the ids of its tasks.
const IDS_TAG: &str = "eddy-test-child-ids:";
/// The start of a slow-poll report.
const REPORT_PREFIX: &str = "eddy: slow poll: task ";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The source of this file, to find where a call sits in it.
fn this_source() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/debug.rs");
    std::fs::read_to_string(path).expect("read tests/debug.rs")
}

/// `tests/debug.rs:<line>:<col>` of the call in line `line` of this file
/// whose text starts with `needle` (the column `#[track_caller]` reports: a
/// method call's method name, a path call's first segment).
fn site(line: u32, needle: &str) -> String {
    let source = this_source();
    let text = source
        .lines()
        .nth(line as usize - 1)
        .unwrap_or_else(|| panic!("no line {line} in {}", file!()));
    assert_eq!(
        text.matches(needle).count(),
        1,
        "`{needle}` must occur once in line {line}: {text:?}"
    );
    let col = text[..text.find(needle).unwrap()].chars().count() + 1;
    format!("{}:{line}:{col}", file!())
}

/// Like [`site`], for the line marked with the comment `// site:<marker>`
/// (the spawns in `child_scenario`, which the parent process cannot see).
fn marked_site(marker: &str, needle: &str) -> String {
    let tag = format!("// site:{marker}");
    let source = this_source();
    let lines: Vec<u32> = source
        .lines()
        .enumerate()
        .filter(|(_, text)| text.trim_end().ends_with(&tag))
        .map(|(i, _)| i as u32 + 1)
        .collect();
    assert_eq!(lines.len(), 1, "marker {tag:?} must mark exactly one line");
    site(lines[0], needle)
}

/// The location of the live task `id` in `rt`'s dump, as `file:line:col`.
fn location_of(rt: &Runtime, id: TaskId) -> Option<String> {
    let dump = rt.tasks();
    let info = dump
        .iter()
        .find(|t| t.id == id)
        .unwrap_or_else(|| panic!("task {id} is not in the dump {dump:?}"));
    info.location.map(|at| at.to_string())
}

fn ids(dump: &[TaskInfo]) -> Vec<TaskId> {
    dump.iter().map(|t| t.id).collect()
}

fn states(dump: &[TaskInfo]) -> Vec<TaskState> {
    dump.iter().map(|t| t.state).collect()
}

fn polls(dump: &[TaskInfo]) -> Vec<u64> {
    dump.iter().map(|t| t.polls).collect()
}

/// A task body that blocks its thread for `n` ms in one poll.
async fn block_for(n: u64) {
    thread::sleep(ms(n));
}

// ---------------------------------------------------------------------------
// The child process: slow-poll reports on stderr
// ---------------------------------------------------------------------------

/// Not a test of its own: the body a child process runs (see the module
/// docs). Without `EDDY_TEST_CHILD` it does nothing.
#[test]
fn child_scenario() {
    let Ok(scenario) = std::env::var(CHILD_ENV) else {
        return;
    };
    watchdog(LIMIT, move || run_scenario(&scenario));
}

fn run_scenario(scenario: &str) {
    match scenario {
        "slow_poll" => {
            let rt = Builder::new()
                .debug(true)
                .slow_poll_threshold(ms(50))
                .build()
                .unwrap();
            let slow = rt.spawn(block_for(120)); // site:slow
            let fast = rt.spawn(async {}); // site:fast
            println!("{IDS_TAG} {} {}", slow.id(), fast.id());
            rt.block_on(async {
                slow.await.unwrap();
                fast.await.unwrap();
            });
        }
        "twice" => {
            let rt = Builder::new()
                .debug(true)
                .slow_poll_threshold(ms(50))
                .build()
                .unwrap();
            let body = async {
                thread::sleep(ms(80));
                yield_now().await;
                thread::sleep(ms(80));
            };
            let task = rt.spawn(body); // site:twice
            println!("{IDS_TAG} {}", task.id());
            rt.block_on(task).unwrap();
        }
        "debug_off" => {
            // The parent removed EDDY_DEBUG (or set it to something not 1).
            let rt = Builder::new().build().unwrap();
            let task = rt.spawn(block_for(150)); // site:off
            assert_eq!(location_of(&rt, task.id()), None, "debug mode is off");
            println!("{IDS_TAG} {}", task.id());
            rt.block_on(task).unwrap();
        }
        "env_debug" => {
            // The parent set EDDY_DEBUG=1; the builder is left at its defaults.
            let rt = Builder::new().build().unwrap();
            let task = rt.spawn(block_for(150)); // site:env
            assert_eq!(
                location_of(&rt, task.id()),
                Some(marked_site("env", "spawn(")),
                "EDDY_DEBUG=1 turns debug mode on"
            );
            println!("{IDS_TAG} {}", task.id());
            rt.block_on(task).unwrap();
        }
        "default_threshold" => {
            let rt = Builder::new().debug(true).build().unwrap();
            let under = rt.spawn(block_for(30)); // site:under
            let over = rt.spawn(block_for(150)); // site:over
            println!("{IDS_TAG} {} {}", under.id(), over.id());
            rt.block_on(async {
                under.await.unwrap();
                over.await.unwrap();
            });
        }
        other => panic!("unknown child scenario {other:?}"),
    }
}

/// One parsed slow-poll line.
#[derive(Debug)]
struct Report {
    id: u64,
    site: String,
    ms: u64,
}

/// Parses `eddy: slow poll: task <id> spawned at <file>:<line>:<col> took <ms> ms`.
fn parse_report(line: &str) -> Report {
    try_parse_report(line)
        .unwrap_or_else(|| panic!("a slow-poll line not in the documented format: {line:?}"))
}

fn try_parse_report(line: &str) -> Option<Report> {
    let rest = line.strip_prefix(REPORT_PREFIX)?;
    let (id, rest) = rest.split_once(" spawned at ")?;
    let (site, rest) = rest.split_once(" took ")?;
    let took = rest.strip_suffix(" ms")?;
    let mut parts = site.rsplitn(3, ':');
    let _col: u32 = parts.next()?.parse().ok()?;
    let _line: u32 = parts.next()?.parse().ok()?;
    let file = parts.next()?;
    if file.is_empty() {
        return None;
    }
    Some(Report {
        id: id.parse().ok()?,
        site: site.to_string(),
        ms: took.parse().ok()?,
    })
}

/// What a child run printed: the task ids it announced and its reports.
struct ChildRun {
    ids: Vec<u64>,
    reports: Vec<Report>,
}

/// Runs `scenario` in a child process with `EDDY_DEBUG` removed, or set to
/// `eddy_debug`, and parses what it printed.
fn run_child(scenario: &str, eddy_debug: Option<&str>) -> ChildRun {
    let out = match eddy_debug {
        Some(value) => run_test_in_child(
            CHILD_TEST,
            &[(CHILD_ENV, scenario), ("EDDY_DEBUG", value)],
            &[],
        ),
        None => run_test_in_child(CHILD_TEST, &[(CHILD_ENV, scenario)], &["EDDY_DEBUG"]),
    };
    let (stdout, stderr) = child_passed(&out, &format!("{scenario:?}"));
    let ids = stdout
        .lines()
        .find_map(|l| l.split_once(IDS_TAG).map(|(_, ids)| ids))
        .unwrap_or_else(|| panic!("child {scenario:?} printed no ids:\n{stdout}"))
        .split_whitespace()
        .map(|id| id.parse().unwrap())
        .collect();
    let reports = stderr
        .lines()
        .filter(|l| l.contains("slow poll"))
        .map(parse_report)
        .collect();
    ChildRun { ids, reports }
}

#[test]
fn slow_poll_is_reported_once_with_its_spawn_site() {
    watchdog(LIMIT, || {
        let run = run_child("slow_poll", None);
        let [slow, fast] = run.ids[..] else {
            panic!("expected two ids, got {:?}", run.ids)
        };
        assert_eq!(
            run.reports.len(),
            1,
            "one slow poll, one line: {:?}",
            run.reports
        );
        let report = &run.reports[0];
        assert_eq!(report.id, slow);
        assert_ne!(report.id, fast, "the fast task is not reported");
        assert_eq!(report.site, marked_site("slow", "spawn("));
        assert!(
            report.ms >= 120,
            "the poll blocked 120 ms, reported {} ms",
            report.ms
        );
        assert!(report.ms < 5_000, "implausible duration {} ms", report.ms);
    });
}

#[test]
fn slow_poll_is_not_reported_with_debug_off() {
    watchdog(LIMIT, || {
        // EDDY_DEBUG unset, and set to a value other than 1.
        for env in [None, Some("0")] {
            let run = run_child("debug_off", env);
            assert_eq!(run.ids.len(), 1);
            assert!(
                run.reports.is_empty(),
                "EDDY_DEBUG={env:?}: debug mode is off, yet: {:?}",
                run.reports
            );
        }
    });
}

#[test]
fn eddy_debug_env_turns_the_report_on() {
    watchdog(LIMIT, || {
        let run = run_child("env_debug", Some("1"));
        assert_eq!(run.reports.len(), 1, "{:?}", run.reports);
        let report = &run.reports[0];
        assert_eq!(report.id, run.ids[0]);
        assert_eq!(report.site, marked_site("env", "spawn("));
        assert!(report.ms >= 150, "reported {} ms", report.ms);
    });
}

#[test]
fn every_slow_poll_is_reported() {
    watchdog(LIMIT, || {
        let run = run_child("twice", None);
        assert_eq!(
            run.reports.len(),
            2,
            "two slow polls, two lines: {:?}",
            run.reports
        );
        for report in &run.reports {
            assert_eq!(report.id, run.ids[0]);
            assert_eq!(report.site, marked_site("twice", "spawn("));
            assert!(report.ms >= 80, "reported {} ms", report.ms);
        }
    });
}

#[test]
fn default_threshold_is_100_ms() {
    watchdog(LIMIT, || {
        // The builder's settings, as its Debug shows them.
        let builder = format!("{:?}", Builder::new());
        assert!(
            builder.contains("slow_poll_threshold: 100ms"),
            "default threshold: {builder}"
        );
        // A 30 ms poll is under it, a 150 ms poll over it.
        let run = run_child("default_threshold", None);
        let [under, over] = run.ids[..] else {
            panic!("expected two ids, got {:?}", run.ids)
        };
        assert_eq!(run.reports.len(), 1, "{:?}", run.reports);
        assert_eq!(run.reports[0].id, over);
        assert_ne!(run.reports[0].id, under);
        assert_eq!(run.reports[0].site, marked_site("over", "spawn("));
    });
}

// ---------------------------------------------------------------------------
// Spawn locations (#[track_caller])
// ---------------------------------------------------------------------------

#[test]
fn every_spawn_function_records_its_caller_in_debug_mode() {
    watchdog(LIMIT, || {
        let rt = Builder::new().debug(true).build().unwrap();

        // Runtime::spawn, from outside the loop.
        let (outside, outside_line) = (rt.spawn(pending::<()>()), line!());

        // eddy::spawn, JoinSet::spawn and spawn_blocking, from inside.
        let mut set = JoinSet::new();
        let (release, blocked) = mpsc::channel::<()>();
        let (local, local_line, joined, joined_line, blocking, blocking_line) =
            rt.block_on(async {
                let (local, local_line) = (eddy::spawn(pending::<()>()), line!());
                let (joined, joined_line) = (set.spawn(pending::<()>()), line!());
                let wait = move || blocked.recv().unwrap_err();
                let (blocking, blocking_line) = (eddy::task::spawn_blocking(wait), line!());
                (
                    local,
                    local_line,
                    joined,
                    joined_line,
                    blocking,
                    blocking_line,
                )
            });

        // Handle::spawn, from another thread: the task is made when the
        // loop takes the request in.
        let handle = rt.handle();
        let (remote, remote_line) = thread::spawn(move || {
            let (remote, line) = (handle.spawn(pending::<()>()), line!());
            (remote, line)
        })
        .join()
        .unwrap();
        rt.turn(Some(Duration::ZERO));

        assert_eq!(
            location_of(&rt, outside.id()),
            Some(site(outside_line, "spawn("))
        );
        assert_eq!(
            location_of(&rt, local.id()),
            Some(site(local_line, "eddy::spawn("))
        );
        assert_eq!(
            location_of(&rt, joined.id()),
            Some(site(joined_line, "spawn("))
        );
        assert_eq!(
            location_of(&rt, blocking.id()),
            Some(site(blocking_line, "eddy::task::spawn_blocking("))
        );
        // RemoteJoinHandle has no id: find the one task not accounted for.
        let known = [outside.id(), local.id(), joined.id(), blocking.id()];
        let dump = rt.tasks();
        let others: Vec<_> = dump.iter().filter(|t| !known.contains(&t.id)).collect();
        assert_eq!(others.len(), 1, "{dump:?}");
        assert_eq!(
            others[0].location.map(|at| at.to_string()),
            Some(site(remote_line, "spawn("))
        );
        // The location is the caller's, with file() naming this file.
        let at = others[0].location.unwrap();
        assert_eq!((at.file(), at.line()), (file!(), remote_line));

        drop(release); // lets the blocking closure return
        drop(remote);
        drop(set);
    });
}

#[test]
fn without_debug_mode_no_location_is_kept() {
    watchdog(LIMIT, || {
        let rt = Builder::new().debug(false).build().unwrap();
        let outside = rt.spawn(pending::<()>());
        let mut set = JoinSet::new();
        let local = rt.block_on(async {
            set.spawn(pending::<()>());
            let local = eddy::spawn(pending::<()>());
            local.id()
        });
        let handle = rt.handle();
        let remote = thread::spawn(move || handle.spawn(pending::<()>()))
            .join()
            .unwrap();
        rt.turn(Some(Duration::ZERO));
        let dump = rt.tasks();
        assert_eq!(dump.len(), 4);
        for info in &dump {
            assert_eq!(info.location, None, "{info:?}");
            let shown = format!("{info:?}");
            assert!(!shown.contains(file!()), "{shown}");
        }
        assert!(dump.iter().any(|t| t.id == local));
        drop((outside, remote, set));
    });
}

// ---------------------------------------------------------------------------
// Runtime::tasks
// ---------------------------------------------------------------------------

#[test]
fn tasks_lists_exactly_the_live_tasks_oldest_first() {
    watchdog(LIMIT, || {
        let rt = Builder::new().debug(true).build().unwrap();
        assert!(rt.tasks().is_empty());

        let (tx1, rx1) = oneshot::channel::<()>();
        let (tx2, rx2) = oneshot::channel::<()>();
        let (tx3, rx3) = oneshot::channel::<()>();
        let h1 = rt.spawn(rx1);
        let h2 = rt.spawn(rx2);
        let h3 = rt.spawn(rx3);
        let (id1, id2, id3) = (h1.id(), h2.id(), h3.id());

        // Spawned, not yet run.
        let dump = rt.tasks();
        assert_eq!(ids(&dump), [id1, id2, id3]);
        assert_eq!(states(&dump), [TaskState::Scheduled; 3]);
        assert_eq!(polls(&dump), [0, 0, 0]);

        // Run once: each waits for its value.
        assert_eq!(rt.turn(Some(Duration::ZERO)), 3);
        let dump = rt.tasks();
        assert_eq!(ids(&dump), [id1, id2, id3]);
        assert_eq!(states(&dump), [TaskState::Idle; 3]);
        assert_eq!(polls(&dump), [1, 1, 1]);

        // Woken while the runtime is not running: queued, not yet run.
        tx2.send(()).unwrap();
        let dump = rt.tasks();
        assert_eq!(
            states(&dump),
            [TaskState::Idle, TaskState::Scheduled, TaskState::Idle]
        );
        assert_eq!(polls(&dump), [1, 1, 1]);

        // A finished task leaves the dump.
        assert_eq!(rt.turn(Some(Duration::ZERO)), 1);
        assert!(h2.is_finished());
        let dump = rt.tasks();
        assert_eq!(ids(&dump), [id1, id3]);
        assert_eq!(states(&dump), [TaskState::Idle; 2]);
        assert_eq!(polls(&dump), [1, 1]);

        // An aborted task leaves it at once.
        h3.abort();
        assert_eq!(ids(&rt.tasks()), [id1]);
        drop(tx3);

        // A detached task is still live.
        drop(h1);
        assert_eq!(ids(&rt.tasks()), [id1]);
        drop(tx1); // it finishes (with an error from the channel)
        assert_eq!(rt.turn(Some(Duration::ZERO)), 1);
        assert!(rt.tasks().is_empty());
    });
}

#[test]
fn tasks_shows_a_task_woken_on_the_loop_as_scheduled() {
    watchdog(LIMIT, || {
        let rt = Builder::new().debug(true).build().unwrap();
        let (tx, rx) = oneshot::channel::<u32>();
        let task = rt.spawn(rx);
        let id = task.id();
        let (before, after) = rt.block_on(async {
            yield_now().await; // the task runs and waits
            let before = rt.tasks();
            tx.send(7).unwrap(); // woken here, runs after this future yields
            let after = rt.tasks();
            (before, after)
        });
        assert_eq!(ids(&before), [id], "the block_on future is not a task");
        assert_eq!(states(&before), [TaskState::Idle]);
        assert_eq!(states(&after), [TaskState::Scheduled]);
        assert_eq!(polls(&after), [1]);
        assert_eq!(rt.block_on(task).unwrap(), Ok(7));
        assert!(rt.tasks().is_empty());
    });
}

#[test]
fn tasks_shows_a_task_woken_from_another_thread_as_scheduled() {
    watchdog(LIMIT, || {
        let rt = Builder::new().debug(true).build().unwrap();
        let (tx, rx) = mpsc::channel();
        let task = rt.spawn(wait_for_outside_wake(tx));
        assert_eq!(rt.turn(Some(Duration::ZERO)), 1);
        assert_eq!(states(&rt.tasks()), [TaskState::Idle]);
        let waker = rx.try_recv().expect("the task handed out its waker");
        thread::spawn(move || waker.wake()).join().unwrap();
        let dump = rt.tasks();
        assert_eq!(ids(&dump), [task.id()]);
        assert_eq!(states(&dump), [TaskState::Scheduled]);
        assert_eq!(polls(&dump), [1]);
        assert_eq!(rt.turn(Some(Duration::ZERO)), 1);
        assert!(task.is_finished());
        assert!(rt.tasks().is_empty());
    });
}

#[test]
fn tasks_called_from_inside_a_task_shows_it_running() {
    watchdog(LIMIT, || {
        let rt = Rc::new(Builder::new().debug(true).build().unwrap());
        let (other, other_line) = (rt.spawn(pending::<()>()), line!());
        let inner = Rc::clone(&rt);
        let body = async move {
            yield_now().await;
            let late = eddy::spawn(pending::<()>());
            (late.id(), inner.tasks())
        };
        let (inspector, inspector_line) = (rt.spawn(body), line!());
        let inspector_id = inspector.id();
        let (late, dump) = rt.block_on(inspector).unwrap();

        assert_eq!(ids(&dump), [other.id(), inspector_id, late]);
        assert_eq!(
            states(&dump),
            [TaskState::Idle, TaskState::Running, TaskState::Scheduled]
        );
        // The running task's count includes the poll it is in.
        assert_eq!(polls(&dump), [1, 2, 0]);
        assert_eq!(
            dump[0].location.map(|at| at.to_string()),
            Some(site(other_line, "spawn("))
        );
        assert_eq!(
            dump[1].location.map(|at| at.to_string()),
            Some(site(inspector_line, "spawn("))
        );
        // The inspector finished; the other two live on.
        assert_eq!(ids(&rt.tasks()), [other.id(), late]);
    });
}

#[test]
fn task_info_debug_shows_the_location() {
    watchdog(LIMIT, || {
        let rt = Builder::new().debug(true).build().unwrap();
        let (task, line) = (rt.spawn(pending::<()>()), line!());
        let dump = rt.tasks();
        assert_eq!(dump.len(), 1);
        let info = dump[0];
        let shown = format!("{info:?}");
        assert!(shown.contains(&site(line, "spawn(")), "{shown}");
        assert!(shown.contains(&task.id().to_string()), "{shown}");
        assert!(shown.contains("Scheduled"), "{shown}");
        // The public fields.
        let TaskInfo {
            id,
            location,
            state,
            polls,
            ..
        } = info;
        assert_eq!(id, task.id());
        assert_eq!(location.unwrap().line(), line);
        assert_eq!(state, TaskState::Scheduled);
        assert_eq!(polls, 0u64);
    });
}

fn assert_task_id_traits<T: Copy + Eq + Hash + Debug + Display>() {}

#[test]
fn task_id_is_copy_eq_hash_debug_display() {
    assert_task_id_traits::<TaskId>();
    watchdog(LIMIT, || {
        let rt = Builder::new().debug(false).build().unwrap();
        let a = rt.spawn(async {});
        let b = rt.spawn(async {});
        let (id_a, id_b) = (a.id(), b.id());
        let copy = id_a;
        assert_eq!(copy, id_a);
        assert_ne!(id_a, id_b);
        let mut names = HashMap::new();
        names.insert(id_a, "a");
        names.insert(id_b, "b");
        for info in rt.tasks() {
            assert!(names.contains_key(&info.id));
        }
        assert_eq!(id_a.to_string(), id_a.as_u64().to_string());
        assert!(format!("{id_a:?}").contains(&id_a.to_string()));
        rt.block_on(async {
            a.await.unwrap();
            b.await.unwrap();
        });
    });
}

// ---------------------------------------------------------------------------
// Runtime::metrics
// ---------------------------------------------------------------------------

#[test]
fn metrics_start_at_zero() {
    watchdog(LIMIT, || {
        let rt = Builder::new().debug(false).build().unwrap();
        let m = rt.metrics();
        assert_eq!(
            (
                m.tasks_spawned,
                m.tasks_alive,
                m.polls,
                m.local_wakes,
                m.remote_wakes
            ),
            (0, 0, 0, 0, 0)
        );
        assert_eq!(
            (m.io_events, m.timers_fired, m.parks, m.ready_queue_depth),
            (0, 0, 0, 0)
        );
    });
}

#[test]
fn metrics_count_spawns_polls_local_wakes_and_the_queue() {
    watchdog(LIMIT, || {
        let rt = Builder::new().debug(false).build().unwrap();
        let mut senders = Vec::new();
        let mut waiters = Vec::new();
        for _ in 0..3 {
            let (tx, rx) = oneshot::channel::<()>();
            senders.push(tx);
            waiters.push(rt.spawn(rx));
        }
        // Spawned from outside before anything ran: three in the queue.
        let m = rt.metrics();
        assert_eq!((m.tasks_spawned, m.tasks_alive), (3, 3));
        assert_eq!(m.ready_queue_depth, 3);
        assert_eq!(m.polls, 0);

        // A fourth task wakes the three from the loop's thread.
        rt.spawn(async move {
            for tx in senders {
                tx.send(()).unwrap();
            }
        });
        assert_eq!(rt.metrics().ready_queue_depth, 4);
        assert_eq!(rt.turn(Some(Duration::ZERO)), 4);
        let m = rt.metrics();
        assert_eq!(m.tasks_spawned, 4);
        assert_eq!(m.tasks_alive, 3, "the waker task finished");
        assert_eq!(m.polls, 4);
        assert_eq!(m.local_wakes, 3);
        assert_eq!(m.remote_wakes, 0);
        assert_eq!(
            m.ready_queue_depth, 3,
            "the woken tasks wait for the next turn"
        );

        assert_eq!(rt.turn(Some(Duration::ZERO)), 3);
        let m = rt.metrics();
        assert_eq!((m.tasks_spawned, m.tasks_alive), (4, 0));
        assert_eq!(m.polls, 7);
        assert_eq!(m.local_wakes, 3);
        assert_eq!(m.ready_queue_depth, 0);
        // Nothing waited, no socket, no timer.
        assert_eq!(
            (m.remote_wakes, m.io_events, m.timers_fired, m.parks),
            (0, 0, 0, 0)
        );
        assert!(waiters.iter().all(|w| w.is_finished()));
    });
}

#[test]
fn metrics_count_remote_wakes_and_remote_spawns() {
    watchdog(LIMIT, || {
        let rt = Builder::new().debug(false).build().unwrap();
        let (tx, rx) = mpsc::channel();
        let from_thread = rt.spawn(wait_for_outside_wake(tx.clone()));
        let from_outside = rt.spawn(wait_for_outside_wake(tx));
        assert_eq!(rt.turn(Some(Duration::ZERO)), 2);
        let (w1, w2) = (rx.try_recv().unwrap(), rx.try_recv().unwrap());

        // Woken on another thread: counted when the loop takes the wake in.
        thread::spawn(move || w1.wake()).join().unwrap();
        assert_eq!(rt.metrics().remote_wakes, 0);
        assert_eq!(rt.turn(Some(Duration::ZERO)), 1);
        assert!(from_thread.is_finished());
        let m = rt.metrics();
        assert_eq!((m.remote_wakes, m.local_wakes, m.polls), (1, 0, 3));

        // Woken on the loop's thread while the runtime is not running: the
        // remote queue too.
        w2.wake();
        assert_eq!(rt.turn(Some(Duration::ZERO)), 1);
        assert!(from_outside.is_finished());
        let m = rt.metrics();
        assert_eq!((m.remote_wakes, m.local_wakes, m.polls), (2, 0, 4));

        // A Handle::spawn from another thread is a spawn once taken in;
        // spawn_blocking is a spawn too.
        let handle = rt.handle();
        let remote = thread::spawn(move || handle.spawn(async { 5 }))
            .join()
            .unwrap();
        assert_eq!(rt.metrics().tasks_spawned, 2);
        assert_eq!(rt.turn(Some(Duration::ZERO)), 1);
        assert_eq!(rt.metrics().tasks_spawned, 3);
        assert_eq!(rt.block_on(remote).unwrap(), 5);
        let sum = rt.block_on(async { eddy::task::spawn_blocking(|| 2 + 2).await.unwrap() });
        assert_eq!(sum, 4);
        let m = rt.metrics();
        assert_eq!((m.tasks_spawned, m.tasks_alive), (4, 0));
    });
}

/// A pipe, as (read end, write end).
fn pipe() -> (File, File) {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(rc, 0, "pipe2: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors are fresh and owned by nobody else.
    unsafe {
        (
            File::from(OwnedFd::from_raw_fd(fds[0])),
            File::from(OwnedFd::from_raw_fd(fds[1])),
        )
    }
}

#[test]
fn metrics_count_io_events() {
    watchdog(LIMIT, || {
        let rt = Builder::new().debug(false).build().unwrap();
        let (reader, mut writer) = pipe();
        let task = rt.spawn(async move {
            let reader = Async::new(reader).unwrap();
            let mut buf = [0u8; 8];
            let n = reader.read_with(|mut f| f.read(&mut buf)).await.unwrap();
            buf[..n].to_vec()
        });
        // The task registers the (empty) pipe and waits: no event yet.
        assert_eq!(rt.turn(Some(Duration::ZERO)), 1);
        assert_eq!(rt.metrics().io_events, 0);

        // One write, one readiness event, which wakes the task on the loop.
        writer.write_all(b"x").unwrap();
        assert_eq!(rt.turn(Some(Duration::ZERO)), 1);
        assert!(task.is_finished());
        let m = rt.metrics();
        assert_eq!(m.io_events, 1);
        assert_eq!(m.local_wakes, 1);
        assert_eq!(m.polls, 2);
        assert_eq!(rt.block_on(task).unwrap(), b"x");
    });
}

#[test]
fn metrics_count_timers_fired() {
    watchdog(LIMIT, || {
        let rt = Builder::new().debug(false).build().unwrap();
        rt.block_on(async {
            let sleepers: Vec<_> = [5, 10, 15]
                .into_iter()
                .map(|n| eddy::spawn(eddy::time::sleep(ms(n))))
                .collect();
            // A timer that is registered, then dropped: it never fires.
            let cancelled = eddy::spawn(async {
                let mut sleep = pin!(eddy::time::sleep(Duration::from_secs(3600)));
                poll_fn(|cx| {
                    assert!(sleep.as_mut().poll(cx).is_pending());
                    Poll::Ready(())
                })
                .await;
            });
            for s in sleepers {
                s.await.unwrap();
            }
            cancelled.await.unwrap();
        });
        let m = rt.metrics();
        assert_eq!(m.timers_fired, 3);
        assert_eq!(m.tasks_spawned, 4);
        // Each sleeper: one poll to register, one after it fired.
        assert_eq!(m.polls, 3 * 2 + 1);
        // The block_on waited for the timers at least once (more if the
        // poller returned before the next one was due).
        assert!(m.parks >= 1, "{m:?}");
    });
}

#[test]
fn metrics_count_parks() {
    watchdog(LIMIT, || {
        // A loop that always has something to run never parks.
        let rt = Builder::new().debug(false).build().unwrap();
        rt.block_on(async {
            let tasks: Vec<_> = (0..5)
                .map(|_| {
                    eddy::spawn(async {
                        for _ in 0..100 {
                            yield_now().await;
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        let m = rt.metrics();
        assert_eq!(m.parks, 0, "{m:?}");
        assert_eq!(m.polls, 5 * 101);

        // Waiting for a timer parks (at least once: the poller may return
        // before the deadline, and the loop parks again).
        rt.block_on(eddy::time::sleep(ms(20)));
        let after_sleep = rt.metrics().parks;
        assert!(after_sleep >= 1);

        // A turn with nothing to do and time to wait parks once; a turn that
        // may not wait never parks.
        rt.turn(Some(Duration::ZERO));
        assert_eq!(rt.metrics().parks, after_sleep);
        rt.turn(Some(ms(10)));
        assert_eq!(rt.metrics().parks, after_sleep + 1);
    });
}

#[test]
fn metrics_has_public_fields_and_debug() {
    watchdog(LIMIT, || {
        let rt = Builder::new().debug(false).build().unwrap();
        rt.block_on(async { eddy::spawn(async {}).await.unwrap() });
        let m: Metrics = rt.metrics();
        let shown = format!("{m:?}");
        for field in [
            "tasks_spawned",
            "tasks_alive",
            "polls",
            "local_wakes",
            "remote_wakes",
            "io_events",
            "timers_fired",
            "parks",
            "ready_queue_depth",
        ] {
            assert!(shown.contains(field), "{field} missing from {shown}");
        }
        let fields: [u64; 9] = [
            m.tasks_spawned,
            m.tasks_alive,
            m.polls,
            m.local_wakes,
            m.remote_wakes,
            m.io_events,
            m.timers_fired,
            m.parks,
            m.ready_queue_depth,
        ];
        assert_eq!(fields[..3], [1, 0, 1]);
        assert!(shown.contains("tasks_spawned: 1"), "{shown}");
    });
}

/// The "Debugging" half of API.md's "Debugging and embedding" section, as
/// it writes the signatures (the embedding half is in tests/embedding.rs):
/// this test only has to compile.
#[test]
fn signatures_as_api_md_writes_them() {
    use std::panic::Location;
    let _: fn(Builder, bool) -> Builder = Builder::debug;
    let _: fn(Builder, Duration) -> Builder = Builder::slow_poll_threshold;
    let _: fn(&Runtime) -> Metrics = Runtime::metrics;
    // Its fields, as integers: `metrics_has_public_fields_and_debug`.
    fn debug<T: Debug>() {}
    debug::<Metrics>();
    debug::<TaskInfo>();
    let _: fn(&Runtime) -> Vec<TaskInfo> = Runtime::tasks;
    let _ = |t: TaskInfo| -> (TaskId, Option<&'static Location<'static>>, TaskState, u64) {
        (t.id, t.location, t.state, t.polls)
    };
    fn task_id<T: Copy + Eq + Hash + Debug + Display>() {}
    task_id::<TaskId>();
    for _s in [TaskState::Idle, TaskState::Scheduled, TaskState::Running] {}
}
