//! Child processes (API.md: "Processes"): `Command`, `Child`, the pipes,
//! reaping, and the `SIGCHLD` path where pidfds are missing.
//!
//! Only standard programs run (sh, cat, sleep, echo, true, head). Whether
//! a pid is reaped is asked with `waitid(WNOWAIT)`, which looks without
//! reaping: `ECHILD` means it is no longer our child (reaped), a filled
//! `si_pid` means it is a zombie. The tests of the `SIGCHLD` path run the
//! same bodies in a child process started with `EDDY_NO_PIDFD=1`.

mod common;

use std::cell::Cell;
use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::rc::Rc;
use std::time::{Duration, Instant};

use common::*;
use eddy::Runtime;
use eddy::process::{ChildStdout, Command};
use eddy::task::JoinSet;
use eddy::time::{sleep, timeout};
use futures::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// What `waitid(WNOWAIT)` says of `pid`.
#[derive(Debug, PartialEq)]
enum PidState {
    Running,
    Zombie,
    /// Not our child (any more): reaped.
    Reaped,
}

fn pid_state(pid: u32) -> PidState {
    // SAFETY: waitid fills `info` (zeroed, valid); WNOWAIT leaves the
    // child as it is, so this never reaps anything.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        let r = libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        );
        if r == -1 {
            let e = std::io::Error::last_os_error();
            assert_eq!(e.raw_os_error(), Some(libc::ECHILD), "waitid: {e}");
            return PidState::Reaped;
        }
        if info.si_pid() == 0 {
            PidState::Running
        } else {
            PidState::Zombie
        }
    }
}

/// Blocks until `pid` has exited, leaving it to be reaped (`WNOWAIT`);
/// returns at once if it is no longer our child.
fn wait_exit_without_reaping(pid: u32) {
    // SAFETY: as in `pid_state`; without WNOHANG the call waits for the exit.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOWAIT,
        );
    }
}

/// Waits on eddy's timer (so the runtime's tasks run) until `pid` is in
/// `state`. There is no event for "another task reaped it"; the
/// watchdog bounds the wait.
async fn until_state(pid: u32, state: PidState) {
    while pid_state(pid) != state {
        sleep(Duration::from_millis(1)).await;
    }
}

fn sh(script: &str) -> Command {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", script]);
    cmd
}

/// `cat` with its stdin and stdout piped: it echoes until its stdin closes.
fn piped_cat() -> eddy::process::Child {
    Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

fn run<F: std::future::Future>(f: F) -> F::Output {
    eddy::block_on(f)
}

#[test]
fn output_collects_stdout_stderr_and_status() {
    watchdog(LIMIT, || {
        run(async {
            let out = sh("echo out; echo err >&2; exit 3").output().await.unwrap();
            assert_eq!(out.status.code(), Some(3));
            assert_eq!(out.stdout, b"out\n");
            assert_eq!(out.stderr, b"err\n");
            let out = Command::new("echo").arg("hello").output().await.unwrap();
            assert!(out.status.success());
            assert_eq!(out.stdout, b"hello\n");
        });
    });
}

#[test]
fn output_gives_a_null_stdin_and_keeps_explicit_settings() {
    watchdog(LIMIT, || {
        run(async {
            // stdin null: cat reads end of file at once.
            let out = Command::new("cat").output().await.unwrap();
            assert!(out.status.success());
            assert!(out.stdout.is_empty());
            // An explicit setting wins over output's default.
            let out = sh("echo gone; echo kept >&2")
                .stdout(Stdio::null())
                .output()
                .await
                .unwrap();
            assert!(out.stdout.is_empty());
            assert_eq!(out.stderr, b"kept\n");
            // ...and output's defaults are for that run only: spawn inherits.
            let mut cmd = Command::new("true");
            cmd.output().await.unwrap();
            let mut child = cmd.spawn().unwrap();
            assert!(child.stdin.is_none() && child.stdout.is_none() && child.stderr.is_none());
            assert!(child.wait().await.unwrap().success());
        });
    });
}

#[test]
fn status_gives_the_exit_code_and_closes_pipes() {
    watchdog(LIMIT, || {
        run(async {
            assert_eq!(sh("exit 7").status().await.unwrap().code(), Some(7));
            assert!(Command::new("true").status().await.unwrap().success());
            assert!(!Command::new("false").status().await.unwrap().success());
            // A piped stdin is closed at once: cat ends instead of waiting.
            let status = Command::new("cat")
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .status()
                .await
                .unwrap();
            assert!(status.success());
        });
    });
}

#[test]
fn builder_methods_reach_the_child() {
    watchdog(LIMIT, || {
        run(async {
            let dir = std::env::temp_dir().canonicalize().unwrap();
            let out = sh("echo \"$A,$B,$C,${HOME-unset}\"; pwd")
                .env("A", "1")
                .envs([("B", "2"), ("C", "3")])
                .env_remove("HOME")
                .current_dir(&dir)
                .output()
                .await
                .unwrap();
            let text = String::from_utf8(out.stdout).unwrap();
            assert_eq!(text, format!("1,2,3,unset\n{}\n", dir.display()));
            let out = Command::new("/usr/bin/env")
                .env_clear()
                .env("ONLY", "this")
                .output()
                .await
                .unwrap();
            assert_eq!(out.stdout, b"ONLY=this\n");
            let out = Command::new("echo")
                .args(["a", "b"])
                .arg("c")
                .output()
                .await
                .unwrap();
            assert_eq!(out.stdout, b"a b c\n");
            // tokio's process_arg0 test.
            let out = Command::new("sh")
                .arg0("test_string")
                .args(["-c", "echo $0"])
                .output()
                .await
                .unwrap();
            assert_eq!(out.stdout, b"test_string\n");
        });
    });
}

#[test]
fn from_std_command() {
    watchdog(LIMIT, || {
        run(async {
            let mut std_cmd = std::process::Command::new("echo");
            std_cmd.arg("from std");
            let mut cmd = Command::from(std_cmd);
            assert_eq!(cmd.as_std().get_program(), "echo");
            cmd.as_std_mut().arg("too");
            let out = cmd.output().await.unwrap();
            assert_eq!(out.stdout, b"from std too\n");
            assert!(format!("{cmd:?}").contains("echo"));
        });
    });
}

#[test]
fn a_program_that_cannot_start_is_an_error() {
    watchdog(LIMIT, || {
        run(async {
            let err = Command::new("eddy-no-such-program").spawn().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NotFound);
            let err = Command::new("/no/such/dir/prog")
                .status()
                .await
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NotFound);
            // Not executable (no x bit: refused even to root).
            let path = TempPath::new("not-executable");
            std::fs::write(&path, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let err = Command::new(&path.0).output().await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::PermissionDenied);
        });
    });
}

#[test]
fn spawn_outside_a_runtime_panics_with_a_message() {
    let msg = catch(|| Command::new("true").spawn()).unwrap_err();
    assert!(
        msg.starts_with("eddy: `Command::spawn` was called outside a runtime"),
        "{msg}"
    );
}

#[test]
fn id_wait_and_try_wait() {
    watchdog(LIMIT, || {
        run(async {
            let mut child = Command::new("cat").stdin(Stdio::piped()).spawn().unwrap();
            let pid = child.id().expect("an id while it runs");
            assert_eq!(child.try_wait().unwrap(), None);
            assert_eq!(pid_state(pid), PidState::Running);
            // wait closes stdin first: cat ends.
            let status = child.wait().await.unwrap();
            assert!(status.success());
            assert!(child.stdin.is_none());
            assert_eq!(child.id(), None);
            assert_eq!(pid_state(pid), PidState::Reaped);
            // The same status again, from both.
            assert_eq!(child.wait().await.unwrap(), status);
            assert_eq!(child.try_wait().unwrap(), Some(status));
            // try_wait reaps too.
            let mut child = Command::new("true").spawn().unwrap();
            let pid = child.id().unwrap();
            until_state(pid, PidState::Zombie).await;
            let status = child.try_wait().unwrap().expect("exited");
            assert!(status.success());
            assert_eq!(child.id(), None);
            assert_eq!(pid_state(pid), PidState::Reaped);
            assert_eq!(child.wait().await.unwrap(), status);
            assert!(format!("{child:?}").contains("status: Some("));
        });
    });
}

#[test]
fn wait_cancelled_by_a_timeout_then_called_again() {
    watchdog(LIMIT, || {
        run(async {
            let mut child = Command::new("sleep").arg("0.2").spawn().unwrap();
            let start = Instant::now();
            assert!(
                timeout(Duration::from_millis(10), child.wait())
                    .await
                    .is_err()
            );
            assert!(child.id().is_some());
            let status = child.wait().await.unwrap();
            assert!(status.success());
            assert!(start.elapsed() >= Duration::from_millis(150));
            // And once more, cancelled while running, then killed.
            let mut child = Command::new("sleep").arg("30").spawn().unwrap();
            assert!(
                timeout(Duration::from_millis(5), child.wait())
                    .await
                    .is_err()
            );
            child.start_kill().unwrap();
            let status = child.wait().await.unwrap();
            assert_eq!(status.signal(), Some(libc::SIGKILL));
        });
    });
}

#[test]
fn kill_and_start_kill() {
    watchdog(LIMIT, || {
        run(async {
            let mut child = Command::new("sleep").arg("30").spawn().unwrap();
            let pid = child.id().unwrap();
            child.kill().await.unwrap();
            assert_eq!(child.id(), None);
            assert_eq!(pid_state(pid), PidState::Reaped);
            assert_eq!(
                child.try_wait().unwrap().unwrap().signal(),
                Some(libc::SIGKILL)
            );
            // After reaping: nothing to do, and no error (as std).
            child.start_kill().unwrap();
            child.kill().await.unwrap();
        });
    });
}

#[test]
fn pipes_read_and_write_through_the_reactor() {
    watchdog(LIMIT, || {
        run(async {
            let mut child = piped_cat();
            let mut stdin = child.stdin.take().unwrap();
            let mut stdout = BufReader::new(child.stdout.take().unwrap());
            for i in 0..3 {
                let line = format!("line {i}\n");
                stdin.write_all(line.as_bytes()).await.unwrap();
                stdin.flush().await.unwrap();
                let mut got = String::new();
                stdout.read_line(&mut got).await.unwrap();
                assert_eq!(got, line);
            }
            // Vectored writes too.
            let bufs = [std::io::IoSlice::new(b"ab"), std::io::IoSlice::new(b"c\n")];
            let n = stdin.write_vectored(&bufs).await.unwrap();
            assert_eq!(n, 4);
            // close: cat sees the end of its input and exits.
            stdin.close().await.unwrap();
            let err = stdin.write_all(b"late").await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::BrokenPipe);
            let mut rest = String::new();
            stdout.read_to_string(&mut rest).await.unwrap();
            assert_eq!(rest, "abc\n");
            assert!(child.wait().await.unwrap().success());
        });
    });
}

#[test]
fn a_slow_child_does_not_block_the_loop() {
    watchdog(LIMIT, || {
        run(async {
            let mut child = sh("sleep 0.1; echo late")
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let ticks = Rc::new(Cell::new(0));
            let t = ticks.clone();
            let ticker = eddy::spawn(async move {
                loop {
                    sleep(Duration::from_millis(5)).await;
                    t.set(t.get() + 1);
                }
            });
            let mut out = String::new();
            child
                .stdout
                .as_mut()
                .unwrap()
                .read_to_string(&mut out)
                .await
                .unwrap();
            assert_eq!(out, "late\n");
            assert!(ticks.get() >= 5, "the timer stalled: {} ticks", ticks.get());
            ticker.abort();
            child.wait().await.unwrap();
        });
    });
}

#[test]
fn wait_with_output_reads_8_mb_from_both_pipes_at_once() {
    watchdog(LIMIT, || {
        run(async {
            let child = sh("head -c 8000000 /dev/zero >&2 & head -c 8000000 /dev/zero; wait")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let out = child.wait_with_output().await.unwrap();
            assert!(out.status.success());
            assert_eq!(out.stdout.len(), 8_000_000);
            assert_eq!(out.stderr.len(), 8_000_000);
            assert!(out.stdout.iter().all(|&b| b == 0));
            // Sequential writers too: all of stdout, then all of stderr.
            let out = sh("head -c 8000000 /dev/zero; head -c 8000000 /dev/zero >&2")
                .output()
                .await
                .unwrap();
            assert_eq!((out.stdout.len(), out.stderr.len()), (8_000_000, 8_000_000));
        });
    });
}

#[test]
fn fifty_concurrent_children_are_all_reaped() {
    watchdog(LIMIT, || {
        run(async {
            let mut set = JoinSet::new();
            let mut pids = Vec::new();
            for i in 0..50 {
                let mut child = sh(&format!("exit {i}")).spawn().unwrap();
                pids.push(child.id().unwrap());
                set.spawn(async move { (i, child.wait().await.unwrap()) });
            }
            let mut codes = Vec::new();
            while let Some(done) = set.join_next().await {
                let (i, status) = done.unwrap();
                assert_eq!(status.code(), Some(i));
                codes.push(i);
            }
            codes.sort();
            assert_eq!(codes, (0..50).collect::<Vec<_>>());
            for pid in pids {
                assert_eq!(pid_state(pid), PidState::Reaped, "pid {pid}");
            }
        });
    });
}

/// The threads of this process.
fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

#[test]
fn no_thread_per_child() {
    const ENV: &str = "EDDY_PROCESS_TEST_CHILD";
    in_child_process(ENV, "no_thread_per_child", LIMIT, || {
        run(async {
            let before = thread_count();
            let mut children: Vec<_> = (0..20)
                .map(|_| {
                    Command::new("sleep")
                        .arg("30")
                        .kill_on_drop(true)
                        .spawn()
                        .unwrap()
                })
                .collect();
            // All waited for at once, with no thread of their own.
            let waits = futures::future::join_all(children.iter_mut().map(|c| c.wait()));
            assert!(timeout(Duration::from_millis(20), waits).await.is_err());
            assert_eq!(thread_count(), before);
            for c in &mut children {
                c.kill().await.unwrap();
            }
        });
    });
}

#[test]
fn a_dropped_running_child_with_kill_on_drop_is_killed_and_reaped() {
    watchdog(LIMIT, || {
        run(async {
            let child = Command::new("sleep")
                .arg("30")
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            let pid = child.id().unwrap();
            drop(child);
            // Killed at once, reaped by the runtime: well before 30 s.
            until_state(pid, PidState::Reaped).await;
        });
    });
}

#[test]
fn a_dropped_running_child_runs_on_and_is_reaped_when_it_exits() {
    watchdog(LIMIT, || {
        run(async {
            let mut child = piped_cat();
            let pid = child.id().unwrap();
            let mut stdin = child.stdin.take().unwrap();
            let mut stdout = child.stdout.take().unwrap();
            drop(child);
            // Still running, and still answering.
            stdin.write_all(b"alive\n").await.unwrap();
            let mut buf = [0u8; 6];
            stdout.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"alive\n");
            assert_eq!(pid_state(pid), PidState::Running);
            drop(stdin); // now it exits
            until_state(pid, PidState::Reaped).await;
        });
    });
}

#[test]
fn a_child_dropped_outside_a_runtime_is_reaped_by_the_next_spawn() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let (child, stdin) = rt.block_on(async {
            let mut child = Command::new("cat").stdin(Stdio::piped()).spawn().unwrap();
            let stdin = child.stdin.take().unwrap();
            (child, stdin)
        });
        let pid = child.id().unwrap();
        drop(child); // no runtime current: filed in the process-wide list
        drop(stdin);
        // Until it exits (or another test's spawn already reaped it).
        wait_exit_without_reaping(pid);
        rt.block_on(async {
            Command::new("true").status().await.unwrap();
        });
        assert_eq!(pid_state(pid), PidState::Reaped);
    });
}

#[test]
fn an_orphan_left_when_its_runtime_is_dropped_is_reaped_later() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let (pid, stdin) = rt.block_on(async {
            let mut child = Command::new("cat").stdin(Stdio::piped()).spawn().unwrap();
            let stdin = child.stdin.take().unwrap();
            let pid = child.id().unwrap();
            drop(child); // adopted by a task of `rt`
            (pid, stdin)
        });
        drop(rt); // the task is cancelled: the child goes to the list
        drop(stdin);
        // Until it exits (or another test's spawn already reaped it).
        wait_exit_without_reaping(pid);
        eddy::block_on(async {
            Command::new("true").status().await.unwrap();
        });
        assert_eq!(pid_state(pid), PidState::Reaped);
    });
}

#[test]
fn pipes_from_a_std_child() {
    watchdog(LIMIT, || {
        run(async {
            let mut std_child = std::process::Command::new("echo")
                .arg("std")
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdout = ChildStdout::from_std(std_child.stdout.take().unwrap()).unwrap();
            let mut text = String::new();
            stdout.read_to_string(&mut text).await.unwrap();
            assert_eq!(text, "std\n");
            assert!(format!("{stdout:?}").starts_with("ChildStdout"));
            std_child.wait().unwrap();
        });
    });
}

/// The bodies above that wait for exits, run again on the `SIGCHLD` path.
#[test]
fn sigchld_path_when_pidfds_are_missing() {
    const NAME: &str = "sigchld_path_when_pidfds_are_missing";
    if std::env::var("EDDY_NO_PIDFD").is_ok_and(|v| v == "1") {
        fifty_concurrent_children_are_all_reaped();
        wait_cancelled_by_a_timeout_then_called_again();
        kill_and_start_kill();
        id_wait_and_try_wait();
        wait_with_output_reads_8_mb_from_both_pipes_at_once();
        a_dropped_running_child_with_kill_on_drop_is_killed_and_reaped();
        a_dropped_running_child_runs_on_and_is_reaped_when_it_exits();
        // This path does install a SIGCHLD handler.
        assert_ne!(sigchld_disposition(), libc::SIG_DFL);
        return;
    }
    watchdog(LIMIT + Duration::from_secs(20), || {
        let out = run_test_in_child(NAME, &[("EDDY_NO_PIDFD", "1")], &[]);
        child_passed(&out, NAME);
    });
}

/// With pidfds, spawning and reaping installs no signal handler at all.
#[test]
fn the_pidfd_path_installs_no_handler() {
    const ENV: &str = "EDDY_PROCESS_TEST_CHILD";
    in_child_process(ENV, "the_pidfd_path_installs_no_handler", LIMIT, || {
        run(async {
            Command::new("true").status().await.unwrap();
            drop(
                Command::new("sleep")
                    .arg("30")
                    .kill_on_drop(true)
                    .spawn()
                    .unwrap(),
            );
        });
        assert_eq!(sigchld_disposition(), libc::SIG_DFL);
    });
}

fn sigchld_disposition() -> libc::sighandler_t {
    // SAFETY: a null new action only reads the current one into `old`.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        assert_eq!(
            libc::sigaction(libc::SIGCHLD, std::ptr::null(), &mut old),
            0
        );
        old.sa_sigaction
    }
}

/// Every name of API.md's "Processes" with the exact argument, return and
/// trait types it writes: it compiles only if they hold, and runs nothing.
#[test]
#[allow(
    unused_must_use,
    clippy::let_underscore_future,
    clippy::redundant_closure
)]
fn signatures_as_api_md_writes_them() {
    use std::io;
    use std::process::{ExitStatus, Output, Stdio};
    fn aw<T: futures_io::AsyncWrite>() {}
    fn ar<T: futures_io::AsyncRead>() {}
    use eddy::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command};
    let mut c = Command::new("x");
    c.arg("a")
        .args(["b"])
        .env("k", "v")
        .envs([("a", "b")])
        .env_remove("k")
        .env_clear()
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    let _: Command = Command::from(std::process::Command::new("x"));
    let _: fn(&mut Command) -> io::Result<Child> = Command::spawn;
    let _ = |c: &mut Command| fut::<io::Result<Output>, _>(c.output());
    let _ = |c: &mut Command| fut::<io::Result<ExitStatus>, _>(c.status());
    let _ = |c: &mut Child| {
        let _: Option<u32> = c.id();
        let _: &Option<ChildStdin> = &c.stdin;
        let _: &Option<ChildStdout> = &c.stdout;
        let _: &Option<ChildStderr> = &c.stderr;
    };
    aw::<ChildStdin>();
    ar::<ChildStdout>();
    ar::<ChildStderr>();
    let _ = |c: &mut Child| fut::<io::Result<ExitStatus>, _>(c.wait());
    let _: fn(&mut Child) -> io::Result<Option<ExitStatus>> = Child::try_wait;
    let _: fn(&mut Child) -> io::Result<()> = Child::start_kill;
    let _ = |c: &mut Child| fut::<io::Result<()>, _>(c.kill());
    let _ = |c: Child| fut::<io::Result<Output>, _>(c.wait_with_output());
}
