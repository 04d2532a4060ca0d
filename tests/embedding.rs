//! Integration tests for driving eddy from a host's own loop (API.md,
//! "Debugging and embedding": `Runtime::turn`, `AsRawFd for Runtime`,
//! `Runtime::next_deadline`, and the panics of `turn` and `block_on`
//! inside a runtime).
//!
//! Readiness of the runtime's fd is read with `poll(2)`. A timeout given to
//! it is only an upper bound on waiting for an event that must come; a
//! zero timeout asks "is it readable now?". Sleeping appears only where the
//! thing tested is time (how long `turn` waits).
//!
//! Debug mode, the task dump and the metrics are in `tests/debug.rs`.

mod common;

use std::cell::{Cell, RefCell};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::rc::Rc;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use eddy::net::{TcpListener, TcpStream};
use eddy::sync::oneshot;
use eddy::task::yield_now;
use eddy::time::sleep;
use eddy::{Builder, Runtime};

const ZERO: Option<Duration> = Some(Duration::ZERO);
/// The most any `poll(2)` here waits for an event that must come.
const UPPER_BOUND_MS: i32 = 2_000;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn runtime() -> Runtime {
    Builder::new().debug(false).build().unwrap()
}

/// Whether `fd` is readable within `timeout_ms` (0: right now).
fn readable(fd: RawFd, timeout_ms: i32) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    loop {
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut p, 1, timeout_ms) };
        if n >= 0 {
            return n == 1 && p.revents & libc::POLLIN != 0;
        }
        let e = io::Error::last_os_error();
        assert_eq!(e.kind(), io::ErrorKind::Interrupted, "poll: {e}");
    }
}

/// A pipe, as (read end, write end).
fn pipe() -> (File, File) {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(rc, 0, "pipe2: {}", io::Error::last_os_error());
    // SAFETY: both descriptors are fresh and owned by nobody else.
    unsafe {
        (
            File::from(OwnedFd::from_raw_fd(fds[0])),
            File::from(OwnedFd::from_raw_fd(fds[1])),
        )
    }
}

/// A task that never stops being ready; counts its polls.
async fn spinner(count: Rc<Cell<u32>>) {
    loop {
        count.set(count.get() + 1);
        yield_now().await;
    }
}

// ---------------------------------------------------------------------------
// Runtime::turn
// ---------------------------------------------------------------------------

#[test]
fn turn_returns_the_number_of_task_polls() {
    watchdog(LIMIT, || {
        let rt = runtime();
        assert_eq!(rt.turn(ZERO), 0);
        let a = rt.spawn(async {});
        let b = rt.spawn(async { yield_now().await });
        let c = rt.spawn(async {});
        assert_eq!(rt.turn(ZERO), 3);
        assert!(a.is_finished() && c.is_finished() && !b.is_finished());
        assert_eq!(rt.turn(ZERO), 1);
        assert!(b.is_finished());
        assert_eq!(rt.turn(ZERO), 0);

        // A spawn from another thread is taken in and run in one turn.
        let handle = rt.handle();
        let remote = thread::spawn(move || handle.spawn(async { 9 }))
            .join()
            .unwrap();
        assert_eq!(rt.turn(ZERO), 1);
        assert!(remote.is_finished());
        assert_eq!(rt.block_on(remote).unwrap(), 9);
    });
}

#[test]
fn turn_with_zero_max_wait_does_not_block() {
    watchdog(LIMIT, || {
        let rt = runtime();
        let start = Instant::now();
        for _ in 0..100 {
            assert_eq!(rt.turn(ZERO), 0);
        }
        // A timer far away does not make it wait either.
        let far = rt.spawn(sleep(Duration::from_secs(3600)));
        assert_eq!(rt.turn(ZERO), 1);
        for _ in 0..100 {
            assert_eq!(rt.turn(ZERO), 0);
        }
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "200 non-blocking turns took {:?}",
            start.elapsed()
        );
        assert!(!far.is_finished());
    });
}

#[test]
fn turn_waits_at_most_max_wait() {
    watchdog(LIMIT, || {
        let rt = runtime();
        // Nothing to do: it waits for max_wait, then returns.
        let start = Instant::now();
        assert_eq!(rt.turn(Some(ms(30))), 0);
        let waited = start.elapsed();
        assert!(waited >= ms(25), "returned after {waited:?}");
        assert!(waited < Duration::from_secs(2), "returned after {waited:?}");

        // A timer due before max_wait ends the wait, and its task runs.
        let rt = runtime();
        let start = Instant::now();
        let task = rt.spawn(sleep(ms(20)));
        assert_eq!(rt.turn(ZERO), 1); // registers the timer
        assert_eq!(rt.turn(Some(Duration::from_secs(5))), 1);
        let waited = start.elapsed();
        assert!(task.is_finished());
        assert!(waited >= ms(20), "the timer fired early, after {waited:?}");
        assert!(waited < Duration::from_secs(2), "returned after {waited:?}");
    });
}

#[test]
fn turn_without_max_wait_blocks_until_a_wake_from_another_thread() {
    watchdog(LIMIT, || {
        let rt = runtime();
        let (tx, rx) = mpsc::channel();
        let task = rt.spawn(wait_for_outside_wake(tx));
        assert_eq!(rt.turn(ZERO), 1);
        let waker = rx.try_recv().unwrap();
        // What is tested is that turn(None) stays blocked while nothing
        // happens: the wake comes 100 ms late on purpose.
        let start = Instant::now();
        let waking = thread::spawn(move || {
            thread::sleep(ms(100));
            waker.wake();
        });
        assert_eq!(rt.turn(None), 1);
        assert!(
            start.elapsed() >= ms(100),
            "returned after {:?}",
            start.elapsed()
        );
        assert!(task.is_finished());
        waking.join().unwrap();

        // A Handle::spawn from another thread ends the wait too.
        let handle = rt.handle();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let spawner = thread::spawn(move || {
            go_rx.recv().unwrap();
            handle.spawn(async { "remote" })
        });
        go_tx.send(()).unwrap();
        assert_eq!(rt.turn(None), 1);
        let remote = spawner.join().unwrap();
        assert!(remote.is_finished());
        assert_eq!(rt.block_on(remote).unwrap(), "remote");
    });
}

#[test]
fn a_self_waking_task_gets_one_poll_per_turn() {
    watchdog(LIMIT, || {
        let rt = runtime();
        let count = Rc::new(Cell::new(0));
        let task = rt.spawn(spinner(Rc::clone(&count)));
        for turn in 1..=20 {
            assert_eq!(rt.turn(ZERO), 1);
            assert_eq!(count.get(), turn, "one poll per turn");
        }
        // Even a turn allowed to wait forever returns: the task is ready.
        assert_eq!(rt.turn(None), 1);
        assert_eq!(count.get(), 21);

        // Two of them: two polls per turn.
        let other = Rc::new(Cell::new(0));
        let second = rt.spawn(spinner(Rc::clone(&other)));
        for turn in 1..=10 {
            assert_eq!(rt.turn(None), 2);
            assert_eq!((count.get(), other.get()), (21 + turn, turn));
        }
        task.abort();
        second.abort();
        assert_eq!(rt.turn(ZERO), 0);
    });
}

#[test]
fn timers_fire_in_turn_once_due() {
    watchdog(LIMIT, || {
        // A timer not yet due: turns that may not wait leave it alone.
        let rt = runtime();
        let fired = Rc::new(Cell::new(false));
        let flag = Rc::clone(&fired);
        let start = Instant::now();
        rt.spawn(async move {
            sleep(ms(200)).await;
            flag.set(true);
        });
        assert_eq!(rt.turn(ZERO), 1);
        assert_eq!(rt.turn(ZERO), 0);
        assert!(!fired.get());
        // A turn that may wait fires it when due, never before.
        let mut polls = 0;
        while !fired.get() {
            polls += rt.turn(None);
        }
        assert_eq!(polls, 1);
        assert!(
            start.elapsed() >= ms(200),
            "fired after {:?}",
            start.elapsed()
        );

        // A timer that came due while nobody drove the runtime fires in
        // the next turn, without waiting. (The sleep here is the time that
        // passes between two turns of a host.)
        let rt = runtime();
        let task = rt.spawn(sleep(ms(20)));
        assert_eq!(rt.turn(ZERO), 1);
        thread::sleep(ms(40));
        assert_eq!(rt.turn(ZERO), 1);
        assert!(task.is_finished());
    });
}

#[test]
fn turn_without_max_wait_returns_when_a_short_timer_fires() {
    watchdog(LIMIT, || {
        let rt = runtime();
        let start = Instant::now();
        let task = rt.spawn(sleep(ms(20)));
        assert_eq!(rt.turn(ZERO), 1);
        assert_eq!(rt.turn(None), 1);
        assert!(task.is_finished());
        assert!(start.elapsed() >= ms(20));
        assert!(start.elapsed() < Duration::from_secs(2));
    });
}

// ---------------------------------------------------------------------------
// AsRawFd: readable when there is work, quiet when there is none
// ---------------------------------------------------------------------------

#[test]
fn fd_is_quiet_when_there_is_no_work() {
    watchdog(LIMIT, || {
        let rt = runtime();
        let fd = rt.as_raw_fd();
        assert!(fd >= 0);
        assert_eq!(rt.as_raw_fd(), fd, "the same fd every time");
        assert!(!readable(fd, 0));
        assert_eq!(rt.turn(ZERO), 0);
        assert!(!readable(fd, 0));
        // After a turn that ran everything there was, quiet again.
        let (tx, rx) = oneshot::channel::<()>();
        rt.spawn(rx);
        rt.spawn(async {});
        assert_eq!(rt.turn(ZERO), 2);
        assert!(!readable(fd, 0), "one task waits, nothing is ready");
        drop(tx); // a wake from the loop's thread outside a turn
        assert!(readable(fd, 0));
        assert_eq!(rt.turn(ZERO), 1);
        assert!(!readable(fd, 0));
        assert_eq!(rt.turn(ZERO), 0);
        assert!(!readable(fd, 0));
    });
}

#[test]
fn fd_is_readable_when_a_task_is_spawned_from_outside() {
    watchdog(LIMIT, || {
        let rt = runtime();
        let fd = rt.as_raw_fd();
        assert!(!readable(fd, 0));
        let task = rt.spawn(async { 1 });
        assert!(readable(fd, 0), "a task is ready");
        assert!(readable(fd, 0), "and stays readable until a turn");
        assert_eq!(rt.turn(ZERO), 1);
        assert!(task.is_finished());
        assert!(!readable(fd, 0));

        // Through a Handle, from another thread.
        let handle = rt.handle();
        let remote = thread::spawn(move || handle.spawn(async { 2 }))
            .join()
            .unwrap();
        assert!(readable(fd, 0));
        assert_eq!(rt.turn(ZERO), 1);
        assert!(remote.is_finished());
        assert!(!readable(fd, 0));
    });
}

#[test]
fn fd_is_readable_when_a_timer_is_due() {
    watchdog(LIMIT, || {
        let rt = runtime();
        let fd = rt.as_raw_fd();
        let start = Instant::now();
        let task = rt.spawn(sleep(ms(20)));
        assert_eq!(rt.turn(ZERO), 1); // the sleep registers
        assert!(!readable(fd, 0), "the timer is not due yet");
        assert!(readable(fd, UPPER_BOUND_MS), "the timer came due");
        let waited = start.elapsed();
        assert!(
            waited >= ms(20),
            "readable after {waited:?}, before the deadline"
        );
        assert_eq!(rt.turn(ZERO), 1);
        assert!(task.is_finished());
        assert!(!readable(fd, 0));
    });
}

#[test]
fn fd_is_readable_on_a_socket_event() {
    watchdog(LIMIT, || {
        let rt = runtime();
        let fd = rt.as_raw_fd();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let waiting = Rc::new(Cell::new(false));
        let flag = Rc::clone(&waiting);
        let task = rt.spawn(async move {
            let stream = TcpStream::connect(addr).await.unwrap();
            stream.write_all(b"ping").await.unwrap();
            flag.set(true);
            let mut buf = [0; 4];
            stream.read_exact(&mut buf).await.unwrap();
            buf
        });
        // Drive the connect and the write until the task waits for the reply.
        while !waiting.get() {
            rt.turn(Some(Duration::from_secs(1)));
        }
        // Take in what is left over (say, a writable edge) until quiet.
        for _ in 0..10 {
            if !readable(fd, 0) {
                break;
            }
            rt.turn(ZERO);
        }
        assert!(!readable(fd, 0));
        assert!(!task.is_finished());

        // The peer echoes: a socket event makes the fd readable.
        let (mut peer, _) = listener.accept().unwrap();
        let mut buf = [0; 4];
        peer.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"ping");
        peer.write_all(b"pong").unwrap();
        assert!(readable(fd, UPPER_BOUND_MS), "the reply came in");
        assert_eq!(rt.turn(ZERO), 1);
        assert!(task.is_finished());
        assert_eq!(rt.block_on(task).unwrap(), *b"pong");
    });
}

#[test]
fn fd_is_readable_on_a_wake_from_another_thread() {
    watchdog(LIMIT, || {
        let rt = runtime();
        let fd = rt.as_raw_fd();
        let (tx, rx) = mpsc::channel();
        let task = rt.spawn(wait_for_outside_wake(tx));
        assert_eq!(rt.turn(ZERO), 1);
        let waker = rx.try_recv().unwrap();
        assert!(!readable(fd, 0));
        thread::spawn(move || waker.wake()).join().unwrap();
        // The wake is done (joined): the fd says so at once.
        assert!(readable(fd, 0));
        assert_eq!(rt.turn(ZERO), 1);
        assert!(task.is_finished());
        assert!(!readable(fd, 0));
    });
}

#[test]
fn fd_is_readable_at_once_after_a_turn_that_leaves_tasks_ready() {
    watchdog(LIMIT, || {
        let rt = runtime();
        let fd = rt.as_raw_fd();
        let count = Rc::new(Cell::new(0));
        let task = rt.spawn(spinner(Rc::clone(&count)));
        for _ in 0..5 {
            assert!(readable(fd, 0));
            assert_eq!(rt.turn(ZERO), 1);
        }
        assert!(readable(fd, 0), "the spinner is ready again");
        task.abort();
        assert_eq!(rt.turn(ZERO), 0);
        assert!(!readable(fd, 0));

        // A task woken by another in a turn runs in the next one; the fd says so.
        let (tx, rx) = oneshot::channel::<u8>();
        let waiter = rt.spawn(rx);
        assert_eq!(rt.turn(ZERO), 1);
        assert!(!readable(fd, 0));
        rt.spawn(async move { tx.send(3).unwrap() });
        assert_eq!(rt.turn(ZERO), 1); // the sender runs, the waiter is woken
        assert!(!waiter.is_finished());
        assert!(readable(fd, 0));
        assert_eq!(rt.turn(ZERO), 1);
        assert!(waiter.is_finished());
        assert!(!readable(fd, 0));
    });
}

// ---------------------------------------------------------------------------
// Runtime::next_deadline
// ---------------------------------------------------------------------------

#[test]
fn next_deadline_follows_the_earliest_timer() {
    watchdog(LIMIT, || {
        // Short timers on a fresh runtime (the tests below cover timers
        // past the wheel's first 64 ms window and a wheel that sat idle).
        let rt = runtime();
        assert_eq!(rt.next_deadline(), None, "no timers");

        let before = Instant::now();
        let long = rt.spawn(sleep(ms(30)));
        assert_eq!(
            rt.next_deadline(),
            None,
            "not registered before its first poll"
        );
        assert_eq!(rt.turn(ZERO), 1);
        let after = Instant::now();
        let first = rt.next_deadline().expect("a timer is registered");
        // Rounded up to the millisecond, never early.
        assert!(
            first >= before + ms(30),
            "{:?} early",
            (before + ms(30)) - first
        );
        assert!(
            first <= after + ms(31),
            "{:?} late",
            first - (after + ms(31))
        );

        let before = Instant::now();
        let short = rt.spawn(sleep(ms(5)));
        assert_eq!(rt.turn(ZERO), 1);
        let after = Instant::now();
        let second = rt.next_deadline().unwrap();
        assert!(second < first, "the earlier timer is next");
        assert!(second >= before + ms(5));
        assert!(second <= after + ms(6));

        // The short one fires: the long one is next again.
        while !short.is_finished() {
            rt.turn(None);
        }
        assert_eq!(rt.next_deadline(), Some(first));

        // The long one is dropped (its task aborted): no timer left.
        long.abort();
        assert_eq!(rt.next_deadline(), None);
        assert_eq!(rt.turn(ZERO), 0);
        assert_eq!(rt.next_deadline(), None);
    });
}

#[test]
fn next_deadline_is_none_once_every_timer_fired() {
    watchdog(LIMIT, || {
        let rt = runtime();
        let tasks: Vec<_> = [5, 10, 15]
            .into_iter()
            .map(|n| rt.spawn(sleep(ms(n))))
            .collect();
        assert_eq!(rt.turn(ZERO), 3);
        assert!(rt.next_deadline().is_some());
        while !tasks.iter().all(|t| t.is_finished()) {
            rt.turn(None);
        }
        assert_eq!(rt.next_deadline(), None);
    });
}

/// A 100 ms timer on a fresh runtime: `next_deadline` should say "in 100
/// ms", and the fd stay quiet until then. It does not: the timer lies past
/// the wheel's first 64 ms window, so it sits in a level-1 slot, and
/// `next_deadline` reports that slot's start (64 ms after the runtime was
/// made), for which the timerfd is armed too; the turn made then polls
/// nothing.
#[test]
fn next_deadline_is_the_deadline_of_a_timer_past_the_first_wheel_window() {
    watchdog(LIMIT, || {
        let rt = runtime();
        let fd = rt.as_raw_fd();
        let before = Instant::now();
        let task = rt.spawn(sleep(ms(100)));
        assert_eq!(rt.turn(ZERO), 1);
        let deadline = rt.next_deadline().unwrap();
        assert!(
            deadline >= before + ms(100),
            "next_deadline is {:?} early",
            (before + ms(100)).saturating_duration_since(deadline)
        );
        assert!(
            !readable(fd, 90),
            "the fd turned readable before the timer was due"
        );
        drop(task);
    });
}

/// The same after the host sat idle (no timers) for a while: the wheel was
/// last advanced when the runtime was made, so a new 50 ms timer lands in a
/// coarse slot whose start is 20 ms away here, and in the past after about
/// 4 s idle (the fd is then readable at once, with no work).
#[test]
fn next_deadline_is_not_early_after_the_runtime_sat_idle() {
    watchdog(LIMIT, || {
        let rt = runtime();
        let fd = rt.as_raw_fd();
        thread::sleep(ms(300)); // the host's idle time is the point
        let before = Instant::now();
        let task = rt.spawn(sleep(ms(50)));
        assert_eq!(rt.turn(ZERO), 1);
        let deadline = rt.next_deadline().unwrap();
        assert!(
            deadline >= before + ms(50),
            "next_deadline is {:?} early",
            (before + ms(50)).saturating_duration_since(deadline)
        );
        assert!(
            !readable(fd, 40),
            "the fd turned readable before the timer was due"
        );
        drop(task);
    });
}

// ---------------------------------------------------------------------------
// A host loop on poll(2)
// ---------------------------------------------------------------------------

#[test]
fn a_host_poll_loop_with_no_timeout_drives_eddy() {
    watchdog(LIMIT, || {
        let rt = runtime();
        let eddy_fd = rt.as_raw_fd();
        let (host_rx, host_tx) = pipe();
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = std_listener.local_addr().unwrap();

        // A TCP echo between two tasks.
        let server = rt.spawn(async move {
            let listener = TcpListener::from_std(std_listener)?;
            let (stream, _) = listener.accept().await?;
            let mut buf = [0; 11];
            stream.read_exact(&mut buf).await?;
            stream.write_all(&buf).await?;
            io::Result::Ok(())
        });
        let echoed = Rc::new(RefCell::new(None));
        let out = Rc::clone(&echoed);
        rt.spawn(async move {
            let stream = TcpStream::connect(addr).await.unwrap();
            stream.write_all(b"hello, eddy").await.unwrap();
            let mut buf = [0; 11];
            stream.read_exact(&mut buf).await.unwrap();
            *out.borrow_mut() = Some(buf.to_vec());
        });
        // A timer.
        let slept = Rc::new(Cell::new(None));
        let out = Rc::clone(&slept);
        rt.spawn(async move {
            let start = Instant::now();
            sleep(ms(20)).await;
            out.set(Some(start.elapsed()));
        });
        // A wake from another thread.
        let (wake_tx, wake_rx) = futures::channel::oneshot::channel::<u32>();
        let woken = Rc::new(Cell::new(None));
        let out = Rc::clone(&woken);
        rt.spawn(async move { out.set(Some(wake_rx.await.unwrap())) });

        // The host's own events: messages on its pipe from a thread, which
        // then completes the eddy task's channel and closes the pipe.
        let messenger = thread::spawn(move || {
            let mut host_tx = host_tx;
            for i in 0..3 {
                host_tx
                    .write_all(format!("message {i}\n").as_bytes())
                    .unwrap();
            }
            wake_tx.send(42).unwrap();
        });

        let mut messages = String::new();
        let mut pipe_open = true;
        let (mut turns, mut polls) = (0, 0);
        let all_in = |pipe_open: bool| {
            !pipe_open
                && echoed.borrow().is_some()
                && slept.get().is_some()
                && woken.get().is_some()
        };
        while !all_in(pipe_open) {
            let mut fds = [
                libc::pollfd {
                    fd: eddy_fd,
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: if pipe_open { host_rx.as_raw_fd() } else { -1 },
                    events: libc::POLLIN,
                    revents: 0,
                },
            ];
            // SAFETY: two valid pollfds. No timeout: the host relies on
            // the fds alone (the watchdog bounds a hang).
            let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
            if n < 0 {
                let e = io::Error::last_os_error();
                assert_eq!(e.kind(), io::ErrorKind::Interrupted, "poll: {e}");
                continue;
            }
            assert!(n > 0, "poll(-1) returned with nothing ready");
            if fds[0].revents & libc::POLLIN != 0 {
                polls += rt.turn(ZERO);
                turns += 1;
            }
            if fds[1].revents & (libc::POLLIN | libc::POLLHUP) != 0 {
                let mut buf = [0; 256];
                let n = (&host_rx).read(&mut buf).unwrap();
                if n == 0 {
                    pipe_open = false;
                } else {
                    messages.push_str(std::str::from_utf8(&buf[..n]).unwrap());
                }
            }
        }
        messenger.join().unwrap();

        assert_eq!(messages, "message 0\nmessage 1\nmessage 2\n");
        assert_eq!(echoed.borrow().as_deref(), Some(&b"hello, eddy"[..]));
        assert!(slept.get().unwrap() >= ms(20));
        assert_eq!(woken.get(), Some(42));
        assert!(turns >= 2 && polls >= 8, "{turns} turns, {polls} polls");
        assert!(server.is_finished());
        rt.block_on(server).unwrap().unwrap();
        assert_eq!(rt.tasks().len(), 0);
    });
}

// ---------------------------------------------------------------------------
// turn and block_on inside a runtime panic
// ---------------------------------------------------------------------------

const TURN_INSIDE: &str = "`turn` was called from inside a runtime";
const BLOCK_ON_INSIDE: &str = "`block_on` was called from inside a runtime";

/// The panic message of a task that panicked.
fn panic_of<T: std::fmt::Debug>(result: Result<T, eddy::JoinError>) -> String {
    let err = result.expect_err("the task should have panicked");
    assert!(err.is_panic(), "{err:?}");
    panic_message(&*err.into_panic())
}

#[test]
fn turn_inside_a_task_panics() {
    watchdog(LIMIT, || {
        let rt = Rc::new(runtime());
        let inner = Rc::clone(&rt);
        let task = rt.spawn(async move { inner.turn(ZERO) });
        // Driven by turn...
        assert_eq!(rt.turn(ZERO), 1);
        let msg = panic_of(rt.block_on(task));
        assert!(msg.contains(TURN_INSIDE), "{msg}");
        // ...and by block_on.
        let inner = Rc::clone(&rt);
        let task = rt.spawn(async move { inner.turn(None) });
        let msg = panic_of(rt.block_on(task));
        assert!(msg.contains(TURN_INSIDE), "{msg}");
        // The runtime is fine afterwards.
        assert_eq!(rt.turn(ZERO), 0);
        assert_eq!(rt.block_on(async { 5 }), 5);
    });
}

#[test]
fn turn_on_another_runtime_inside_a_task_panics() {
    watchdog(LIMIT, || {
        let rt = runtime();
        let other = Rc::new(runtime());
        let inner = Rc::clone(&other);
        let task = rt.spawn(async move { inner.turn(ZERO) });
        let msg = panic_of(rt.block_on(task));
        assert!(msg.contains(TURN_INSIDE), "{msg}");
        assert_eq!(other.turn(ZERO), 0);
    });
}

#[test]
fn block_on_inside_a_task_panics() {
    watchdog(LIMIT, || {
        let rt = Rc::new(runtime());
        let task = rt.spawn(async { eddy::block_on(async {}) });
        let msg = panic_of(rt.block_on(task));
        assert!(msg.contains(BLOCK_ON_INSIDE), "{msg}");

        let inner = Rc::clone(&rt);
        let task = rt.spawn(async move { inner.block_on(async {}) });
        assert_eq!(rt.turn(ZERO), 1);
        let msg = panic_of(rt.block_on(task));
        assert!(msg.contains(BLOCK_ON_INSIDE), "{msg}");
        assert_eq!(rt.block_on(async { 6 }), 6);
    });
}

#[test]
fn turn_inside_block_on_panics() {
    watchdog(LIMIT, || {
        let rt = runtime();
        let caught = rt.block_on(async { catch(|| rt.turn(ZERO)) });
        let msg = caught.expect_err("turn inside block_on should panic");
        assert!(msg.contains(TURN_INSIDE), "{msg}");
        // Neither is left broken.
        assert_eq!(rt.block_on(async { 7 }), 7);
        let task = rt.spawn(async {});
        assert_eq!(rt.turn(ZERO), 1);
        assert!(task.is_finished());
    });
}

/// The "embedding" half of API.md's "Debugging and embedding" section, as
/// it writes the signatures (the debugging half is in tests/debug.rs): this
/// test only has to compile.
#[test]
fn signatures_as_api_md_writes_them() {
    let _: fn(&Runtime, Option<Duration>) -> usize = Runtime::turn;
    fn as_raw_fd<T: AsRawFd>() {}
    as_raw_fd::<Runtime>();
    let _: fn(&Runtime) -> Option<Instant> = Runtime::next_deadline;
    let _: fn(&Runtime) -> Option<eddy::time::Instant> = Runtime::next_deadline;
}
