//! Fault injection: peers that reset, stall or half-close; running out of
//! file descriptors; destructors that panic while being cancelled; wakers
//! hammered from many threads, also while the runtime is being dropped
//! (API.md: "I/O", "Tasks", "Wakers are `Send + Sync`").
//!
//! Tests that measure the process (CPU time with `getrusage(RUSAGE_SELF)`,
//! `VmRSS`), that lower `RLIMIT_NOFILE`, or that restore the default
//! `SIGPIPE` disposition run in a child process of their own (see
//! `in_child_process`): the other tests of this file burn CPU, allocate and
//! open descriptors on other threads of this process meanwhile. The child
//! prints its measurements on lines starting with `faults:`; the parent
//! repeats them (visible with `--nocapture`).
//!
//! No test sleeps to wait for an event. A few sleep on eddy's timer to let
//! time pass while they check that nothing happens (the loop does not spin).

mod common;

use std::cell::{Cell, RefCell};
use std::fs::{self, File};
use std::future::poll_fn;
use std::io::{self, ErrorKind, Read, Write};
use std::net::Shutdown;
use std::os::fd::{AsRawFd, RawFd};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex, mpsc};
use std::task::{Poll, Waker};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use common::*;
use eddy::Runtime;
use eddy::net::{TcpListener, TcpStream, UnixStream};
use eddy::task::{AbortHandle, JoinSet, yield_now};
use eddy::time::{sleep, timeout};
use futures::channel::oneshot;
use futures::io::{AsyncReadExt, AsyncWriteExt};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// User plus system CPU time of `who` (`RUSAGE_SELF`, `RUSAGE_THREAD`).
fn cpu_time(who: libc::c_int) -> Duration {
    // SAFETY: an all-zero `rusage` is a valid value of the plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct we pass.
    let r = unsafe { libc::getrusage(who, &mut usage) };
    assert_eq!(r, 0, "getrusage: {}", io::Error::last_os_error());
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// The CPU time of the whole process (meaningful in a child process only,
/// where no other test runs).
fn process_cpu() -> Duration {
    cpu_time(libc::RUSAGE_SELF)
}

/// The resident set size of this process, in bytes.
fn vm_rss() -> usize {
    let status = fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("no VmRSS line in /proc/self/status");
    let kib: usize = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("VmRSS: a number of kB");
    kib * 1024
}

/// An `ioctl` that reports a byte count (`FIONREAD`: unread bytes in a
/// socket's receive queue; `TIOCOUTQ`: bytes in its send queue not yet
/// acknowledged). `None` if the kernel does not answer it.
fn socket_queue(fd: RawFd, request: libc::Ioctl) -> Option<usize> {
    let mut n: libc::c_int = 0;
    // SAFETY: both requests write one `int` through the pointer we pass.
    let r = unsafe { libc::ioctl(fd, request, &mut n) };
    (r == 0).then_some(n as usize)
}

/// Puts `SIGPIPE` back to its default action (kill the process), as a C
/// host program that embeds eddy may have it: Rust's own start-up code
/// ignores it, which would hide a write that raises it.
fn default_sigpipe() {
    // SAFETY: setting a signal's disposition to SIG_DFL installs no handler.
    let old = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    assert_ne!(old, libc::SIG_ERR, "signal: {}", io::Error::last_os_error());
}

/// The environment variable that tells a child process which test to run
/// for real.
const CHILD_ENV: &str = "EDDY_FAULTS_TEST_CHILD";

/// Runs `body` in a child process that runs only the test `name` (see
/// `common::in_child_process`), and repeats the child's `faults:` lines.
fn in_child_process(name: &str, limit: Duration, body: impl FnOnce() + Send + 'static) {
    if let Some(stdout) = common::in_child_process(CHILD_ENV, name, limit, body) {
        print_measurements(&stdout);
    }
}

/// Repeats a child's measurements: its lines from `faults:` on (the test
/// harness may have printed the test's name before, on the same line).
fn print_measurements(stdout: &str) {
    for line in stdout.lines() {
        if let Some(at) = line.find("faults:") {
            println!("{}", &line[at..]);
        }
    }
}

/// Runs the test `name` in a child process, told to do the work by `CHILD_ENV`.
fn run_child(name: &str, envs: &[(&str, &str)]) -> std::process::Output {
    let mut all = vec![(CHILD_ENV, name)];
    all.extend_from_slice(envs);
    run_test_in_child(name, &all, &[])
}

// ---------------------------------------------------------------------------
// 1. A peer that resets in the middle of a big write
// ---------------------------------------------------------------------------

#[test]
fn a_peer_reset_in_the_middle_of_write_all_is_an_error_not_a_hang_or_a_sigpipe() {
    in_child_process(
        "a_peer_reset_in_the_middle_of_write_all_is_an_error_not_a_hang_or_a_sigpipe",
        LIMIT,
        || {
            default_sigpipe();
            const LEN: usize = 64 << 20;
            const PEER_READS: usize = 64 << 10;
            let data = pattern(1 << 20, 1).repeat(LEN >> 20);
            let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = std_listener.local_addr().unwrap();
            // The peer reads a little, then closes with a reset.
            let peer = thread::spawn(move || {
                let (mut s, _) = std_listener.accept().unwrap();
                let mut got = vec![0; PEER_READS];
                s.read_exact(&mut got).unwrap();
                set_linger_zero(s.as_raw_fd());
                drop(s); // RST
                got
            });
            let rt = Runtime::new().unwrap();
            rt.block_on(async {
                let stream = TcpStream::connect(addr).await.unwrap();
                let start = Instant::now();
                let err = stream
                    .write_all(&data)
                    .await
                    .expect_err("write_all of 64 MiB to a peer that reset succeeded");
                println!(
                    "faults: reset mid-write: write_all of 64 MiB failed after {:?} with {:?} ({err})",
                    start.elapsed(),
                    err.kind()
                );
                assert!(
                    matches!(
                        err.kind(),
                        ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
                    ),
                    "{err}"
                );
                // The peer thread has closed its socket by now.
                let got = peer.join().expect("the peer thread panicked");
                assert_same(&got, &data[..PEER_READS], "what the peer read");

                // Afterwards every operation answers at once: writes fail,
                // reads fail or see end of stream.
                let prompt = Duration::from_secs(2);
                for _ in 0..3 {
                    let err = timeout(prompt, stream.write(b"anyone?"))
                        .await
                        .expect("a write after the reset waited")
                        .expect_err("a write after the reset succeeded");
                    assert!(is_reset_like(&err), "{err}");
                }
                for _ in 0..3 {
                    match timeout(prompt, stream.read(&mut [0; 64]))
                        .await
                        .expect("a read after the reset waited")
                    {
                        Ok(n) => assert_eq!(n, 0, "a read after the reset gave data"),
                        Err(e) => assert!(is_reset_like(&e), "{e}"),
                    }
                }
                let mut s = &stream;
                let err = timeout(prompt, AsyncWriteExt::write_all(&mut s, &data[..1 << 20]))
                    .await
                    .expect("AsyncWrite::write_all after the reset waited")
                    .expect_err("AsyncWrite::write_all after the reset succeeded");
                assert!(is_reset_like(&err), "{err}");
                let err = timeout(prompt, stream.write_all(&data))
                    .await
                    .expect("a second write_all after the reset waited")
                    .expect_err("a second write_all after the reset succeeded");
                assert!(is_reset_like(&err), "{err}");

                // The runtime goes on: a timer fires, a new task runs, and
                // the socket in error does not make the loop spin.
                let cpu0 = process_cpu();
                let m0 = rt.metrics();
                let timer = eddy::spawn(async {
                    sleep(Duration::from_millis(100)).await;
                    "timer fired"
                });
                assert_eq!(timer.await.unwrap(), "timer fired");
                let cpu = process_cpu() - cpu0;
                let m1 = rt.metrics();
                println!(
                    "faults: reset mid-write: afterwards 100 ms of waiting on a timer cost {cpu:?} CPU, {} polls",
                    m1.polls - m0.polls
                );
                assert!(m1.timers_fired > m0.timers_fired);
                assert!(m1.polls - m0.polls <= 3, "{} polls", m1.polls - m0.polls);
                assert!(cpu < Duration::from_millis(50), "{cpu:?} of CPU in 100 ms");
                drop(stream);
            });
        },
    );
}

/// The write paths of `writes_to_a_closed_peer_never_raise_sigpipe`, one
/// child process each (a death by `SIGPIPE` ends the process).
const SIGPIPE_CASES: [&str; 4] = [
    "TCP write",
    "TCP write_vectored",
    "Unix write",
    "Unix write_vectored",
];

/// Tells the child process which case of a test to run.
const CASE_ENV: &str = "EDDY_FAULTS_TEST_CASE";

/// Writes that meet a closed peer, on every path a stream write takes
/// (plain and vectored, TCP and Unix), with `SIGPIPE` at its default action:
/// each must come back as an `io::Error` (API.md: "Errors from the OS come
/// back as `io::Error`"; eddy is meant to be embedded in host programs,
/// which may not ignore `SIGPIPE`), not kill the process.
#[test]
fn writes_to_a_closed_peer_never_raise_sigpipe() {
    const NAME: &str = "writes_to_a_closed_peer_never_raise_sigpipe";
    if std::env::var(CHILD_ENV).is_ok_and(|v| v == NAME) {
        let case = std::env::var(CASE_ENV).expect("no case given to the child");
        return watchdog(LIMIT, move || sigpipe_case(&case));
    }
    watchdog(LIMIT + Duration::from_secs(10), || {
        let mut failed = Vec::new();
        for case in SIGPIPE_CASES {
            let out = run_child(NAME, &[(CASE_ENV, case)]);
            let stdout = String::from_utf8_lossy(&out.stdout);
            print_measurements(&stdout);
            if !(out.status.success() && stdout.contains("1 passed")) {
                println!(
                    "faults: SIGPIPE: {case}: the child process failed ({})",
                    out.status
                );
                failed.push(format!(
                    "{case}: {}\n--- stderr\n{}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
        assert!(
            failed.is_empty(),
            "writes to a closed peer killed the process or failed:\n{}",
            failed.join("\n")
        );
    });
}

fn sigpipe_case(case: &str) {
    default_sigpipe();
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let bufs = [io::IoSlice::new(b"vectored "), io::IoSlice::new(b"write")];
        let err = if case.starts_with("TCP") {
            // The peer closed with unread data (RST); the read reports the
            // reset, and from then on a write meets EPIPE.
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let (a, b) = futures::join!(TcpStream::connect(addr), listener.accept());
            let (mut a, (b, _)) = (a.unwrap(), b.unwrap());
            a.write_all(b"unread").await.unwrap();
            b.read_exact(&mut [0; 1]).await.unwrap();
            drop(b);
            let err = a.read(&mut [0; 8]).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
            if case.ends_with("vectored") {
                AsyncWriteExt::write_vectored(&mut a, &bufs).await
            } else {
                a.write(b"plain").await
            }
        } else {
            let (mut c, d) = UnixStream::pair().unwrap();
            drop(d);
            if case.ends_with("vectored") {
                AsyncWriteExt::write_vectored(&mut c, &bufs).await
            } else {
                c.write(b"plain").await
            }
        }
        .expect_err("a write to a closed peer succeeded");
        println!(
            "faults: SIGPIPE: {case}: survived, {:?} ({err})",
            err.kind()
        );
        assert!(is_reset_like(&err), "{case}: {err}");
    });
}

/// Bug 7 of issue 16: after the peer reset the connection, the write half
/// is gone anyway; `shutdown(Write)` and `poll_close` said `NotConnected`.
/// Now they say `Ok(())`, as tokio.
#[test]
fn shutdown_and_close_after_a_peer_reset_are_ok() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            for how in ["shutdown(Write)", "shutdown(Both)", "poll_close"] {
                let listener = TcpListener::bind("127.0.0.1:0").unwrap();
                let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
                let (mut stream, _) = listener.accept().await.unwrap();
                set_linger_zero(client.as_raw_fd());
                drop(client); // RST
                // The reset has arrived once the stream turns readable.
                stream.readable().await.unwrap();
                let result = match how {
                    "shutdown(Write)" => stream.shutdown(Shutdown::Write),
                    "shutdown(Both)" => stream.shutdown(Shutdown::Both),
                    _ => AsyncWriteExt::close(&mut stream).await,
                };
                result.unwrap_or_else(|e| panic!("{how} after a reset: {e}"));
                // The reset itself is still reported by the next read or write.
                let err = stream.write(b"x").await.unwrap_err();
                assert!(
                    is_reset_like(&err) || err.kind() == ErrorKind::NotConnected,
                    "{how}: {err}"
                );
            }
        });
    });
}

// ---------------------------------------------------------------------------
// 2. A peer that never reads
// ---------------------------------------------------------------------------

#[test]
fn a_writer_to_a_peer_that_never_reads_waits_without_spinning_or_buffering() {
    in_child_process(
        "a_writer_to_a_peer_that_never_reads_waits_without_spinning_or_buffering",
        LIMIT,
        || {
            const LEN: usize = 256 << 20;
            const WINDOW: Duration = Duration::from_millis(300);
            let rt = Runtime::new().unwrap();
            rt.block_on(async {
                let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                let client = TcpStream::connect(std_listener.local_addr().unwrap())
                    .await
                    .unwrap();
                // The connection is established: accept returns at once.
                let (peer, _) = std_listener.accept().unwrap();
                // Every page touched now, so that RSS growth during the
                // write would mean a copy of the data.
                let data = Rc::new(vec![0x5A_u8; LEN]);
                let client = Rc::new(client);
                let rss0 = vm_rss();
                let cpu0 = process_cpu();
                let m0 = rt.metrics();
                let start = Instant::now();
                let writer = eddy::spawn({
                    let (client, data) = (client.clone(), data.clone());
                    async move { timeout(WINDOW, client.write_all(&data)).await }
                });
                let result = writer.await.unwrap();
                let wall = start.elapsed();
                let cpu = process_cpu() - cpu0;
                let rss1 = vm_rss();
                let m1 = rt.metrics();
                assert!(
                    result.is_err(),
                    "write_all of 256 MiB to a peer that never reads completed: {result:?}"
                );
                let unread = socket_queue(peer.as_raw_fd(), libc::FIONREAD);
                let unsent = socket_queue(client.as_raw_fd(), libc::TIOCOUTQ);
                let written = unread.zip(unsent).map(|(a, b)| a + b);
                let growth = rss1.saturating_sub(rss0);
                println!(
                    "faults: never-reading peer: write_all timed out after {wall:?}; CPU {cpu:?}; \
                     VmRSS {} -> {} MiB (+{} KiB); {} task polls, {} I/O events, {} parks; \
                     bytes written before blocking: {} (peer's receive queue {:?} + our send queue {:?})",
                    rss0 >> 20,
                    rss1 >> 20,
                    growth >> 10,
                    m1.polls - m0.polls,
                    m1.io_events - m0.io_events,
                    m1.parks - m0.parks,
                    written.map_or_else(|| "unknown".into(), |n| n.to_string()),
                    unread,
                    unsent,
                );
                assert!(wall >= WINDOW);
                assert!(
                    cpu < Duration::from_millis(100),
                    "the blocked writer burnt {cpu:?} of CPU in {wall:?}: it spins"
                );
                assert!(
                    growth < 32 << 20,
                    "VmRSS grew by {} MiB while the writer was blocked: the data is being buffered",
                    growth >> 20
                );
                assert!(
                    m1.polls - m0.polls <= 20,
                    "the writer was polled {} times while blocked",
                    m1.polls - m0.polls
                );
                if let Some(n) = written {
                    assert!(n > 0, "nothing was written before blocking");
                    assert!(
                        n < LEN / 2,
                        "{n} bytes in the socket queues: more than the kernel buffers"
                    );
                }
                drop(peer);
            });
        },
    );
}

// ---------------------------------------------------------------------------
// 3. Half-open connections
// ---------------------------------------------------------------------------

/// Reads to end of stream with the inherent `read`.
async fn tcp_read_to_end(s: &TcpStream) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = vec![0; 8192];
    loop {
        match s.read(&mut buf).await? {
            0 => return Ok(out),
            n => out.extend_from_slice(&buf[..n]),
        }
    }
}

#[test]
fn half_open_connections_keep_the_other_direction() {
    watchdog(LIMIT, || {
        let prompt = Duration::from_secs(2);
        eddy::block_on(async {
            // The peer shuts down its write side and keeps reading.
            let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = std_listener.local_addr().unwrap();
            let peer = thread::spawn(move || {
                let (mut s, _) = std_listener.accept().unwrap();
                s.write_all(b"the peer's last words").unwrap();
                s.shutdown(Shutdown::Write).unwrap();
                let mut got = Vec::new();
                s.read_to_end(&mut got).unwrap();
                got
            });
            let stream = TcpStream::connect(addr).await.unwrap();
            let got = tcp_read_to_end(&stream).await.unwrap();
            assert_eq!(got, b"the peer's last words");
            // The end of stream stays, at once, however often asked.
            let mut buf = [0; 64];
            for i in 0..5 {
                let n = timeout(prompt, stream.read(&mut buf))
                    .await
                    .unwrap_or_else(|_| panic!("read {i} after end of stream waited"))
                    .unwrap();
                assert_eq!(n, 0, "read {i} after end of stream");
            }
            let mut r = &stream;
            assert_eq!(AsyncReadExt::read(&mut r, &mut buf).await.unwrap(), 0);
            // Writing still works, and the peer receives it all.
            let to_peer = pattern(1 << 20, 3);
            stream.write_all(&to_peer).await.unwrap();
            stream.shutdown(Shutdown::Write).unwrap();
            // The peer has everything once it reads our end of stream.
            let received = peer.join().expect("the peer thread panicked");
            assert_same(
                &received,
                &to_peer,
                "what the peer received after its shutdown",
            );
            assert_eq!(stream.read(&mut buf).await.unwrap(), 0);

            // The reverse: eddy shuts down its write side, by
            // `TcpStream::shutdown` and by `AsyncWrite::poll_close`.
            for use_close in [false, true] {
                let how = if use_close { "poll_close" } else { "shutdown" };
                let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                let addr = std_listener.local_addr().unwrap();
                let reply = pattern(1 << 20, 4);
                let peer = thread::spawn({
                    let reply = reply.clone();
                    move || {
                        let (mut s, _) = std_listener.accept().unwrap();
                        let mut got = Vec::new();
                        s.read_to_end(&mut got).unwrap(); // sees eddy's end of stream
                        assert_eq!(s.read(&mut [0; 8]).unwrap(), 0);
                        s.write_all(&reply).unwrap();
                        got
                    }
                });
                let mut stream = TcpStream::connect(addr).await.unwrap();
                stream.write_all(b"request").await.unwrap();
                if use_close {
                    AsyncWriteExt::close(&mut stream).await.unwrap();
                } else {
                    stream.shutdown(Shutdown::Write).unwrap();
                }
                // What the peer sends after it saw the end of stream arrives.
                let got = timeout(Duration::from_secs(5), tcp_read_to_end(&stream))
                    .await
                    .unwrap_or_else(|_| panic!("{how}: the peer's reply never ended"))
                    .unwrap();
                assert_same(&got, &reply, &format!("{how}: the reply"));
                assert_eq!(
                    peer.join().expect("the peer thread panicked"),
                    b"request",
                    "{how}"
                );
                // Writing on the shut half is an error, not a panic.
                let err = stream.write(b"more").await.unwrap_err();
                assert_eq!(err.kind(), ErrorKind::BrokenPipe, "{how}: {err}");
                assert_eq!(stream.read(&mut buf).await.unwrap(), 0, "{how}");
            }
        });
    });
}

// ---------------------------------------------------------------------------
// 4. accept at the descriptor limit
// ---------------------------------------------------------------------------

#[test]
fn accept_under_emfile_errors_backs_off_without_spinning_and_recovers() {
    in_child_process(
        "accept_under_emfile_errors_backs_off_without_spinning_and_recovers",
        LIMIT,
        || {
            const BACKOFF: Duration = Duration::from_millis(50);
            let rt = Runtime::new().unwrap();
            rt.block_on(async {
                let listener = Rc::new(TcpListener::bind("127.0.0.1:0").unwrap());
                let addr = listener.local_addr().unwrap();
                // The client connects while a descriptor is still free for
                // its socket; the connection waits in the listen queue.
                let mut client = std::net::TcpStream::connect(addr).unwrap();
                let normal = get_nofile();
                let limit = libc::rlimit {
                    rlim_cur: (lowest_free_fd() + 4) as libc::rlim_t,
                    rlim_max: normal.rlim_max,
                };
                set_nofile(limit);
                let mut fillers = Vec::new();
                let fill_err = loop {
                    match File::open("/dev/null") {
                        Ok(f) => fillers.push(f),
                        Err(e) => break e,
                    }
                    assert!(fillers.len() < 100, "the fd limit did not apply");
                };
                assert_eq!(fill_err.raw_os_error(), Some(libc::EMFILE), "{fill_err}");
                assert!(!fillers.is_empty());
                println!(
                    "faults: EMFILE: RLIMIT_NOFILE lowered to {}, {} filler fds until EMFILE",
                    limit.rlim_cur,
                    fillers.len()
                );

                // accept gives EMFILE back, no panic.
                let err = listener
                    .accept()
                    .await
                    .expect_err("accept with no descriptor free succeeded");
                assert_eq!(err.raw_os_error(), Some(libc::EMFILE), "{err}");

                // A server that met EMFILE and waits on something else: the
                // listener is still readable, yet the loop stays asleep.
                let emfiles = Rc::new(Cell::new(0));
                let (go_tx, go_rx) = oneshot::channel::<()>();
                let server = eddy::spawn({
                    let (listener, emfiles) = (listener.clone(), emfiles.clone());
                    async move {
                        let first = listener.accept().await.map(drop);
                        let _ = go_rx.await;
                        // The documented back-off loop.
                        loop {
                            match listener.accept().await {
                                Ok(conn) => return (first, conn),
                                Err(e) if e.raw_os_error() == Some(libc::EMFILE) => {
                                    emfiles.set(emfiles.get() + 1);
                                    sleep(BACKOFF).await;
                                }
                                Err(e) => panic!("accept: {e}"),
                            }
                        }
                    }
                });
                yield_now().await; // the server meets EMFILE and waits
                let (cpu0, m0) = (process_cpu(), rt.metrics());
                sleep(Duration::from_millis(300)).await;
                let (idle_cpu, m1) = (process_cpu() - cpu0, rt.metrics());
                println!(
                    "faults: EMFILE: 300 ms waiting after the error: CPU {idle_cpu:?}, {} polls, \
                     {} I/O events, {} parks",
                    m1.polls - m0.polls,
                    m1.io_events - m0.io_events,
                    m1.parks - m0.parks
                );
                assert!(!server.is_finished());
                assert!(
                    idle_cpu < Duration::from_millis(30),
                    "{idle_cpu:?} of CPU in 300 ms idle: the loop spins on the readable listener"
                );
                assert!(m1.polls - m0.polls <= 2, "{} polls", m1.polls - m0.polls);
                assert!(m1.parks - m0.parks <= 10, "{} parks", m1.parks - m0.parks);

                // The back-off loop, for 500 ms: about one accept per 50 ms.
                go_tx.send(()).unwrap();
                let (cpu0, m0) = (process_cpu(), rt.metrics());
                sleep(Duration::from_millis(500)).await;
                let (backoff_cpu, m1) = (process_cpu() - cpu0, rt.metrics());
                let tries = emfiles.get();
                println!(
                    "faults: EMFILE: 500 ms of back-off (sleep {BACKOFF:?}): {tries} EMFILEs, \
                     CPU {backoff_cpu:?}, {} polls, {} parks",
                    m1.polls - m0.polls,
                    m1.parks - m0.parks
                );
                assert!(!server.is_finished());
                assert!(
                    (5..=12).contains(&tries),
                    "{tries} accept attempts in 500 ms of a 50 ms back-off"
                );
                assert!(
                    backoff_cpu < Duration::from_millis(100),
                    "{backoff_cpu:?} of CPU in 500 ms of back-off"
                );
                assert!(
                    m1.polls - m0.polls <= 2 * tries as u64 + 4,
                    "{} polls for {tries} tries",
                    m1.polls - m0.polls
                );

                // Descriptors free again: the queued connection is accepted.
                drop(fillers);
                let (first, (stream, peer)) = timeout(Duration::from_secs(2), server)
                    .await
                    .expect("the server did not accept once descriptors were free")
                    .unwrap();
                set_nofile(normal);
                assert_eq!(first.unwrap_err().raw_os_error(), Some(libc::EMFILE));
                assert_eq!(peer, client.local_addr().unwrap());
                client.write_all(b"finally").unwrap();
                let mut buf = [0; 7];
                stream.read_exact(&mut buf).await.unwrap();
                assert_eq!(&buf, b"finally");
                stream.write_all(b"welcome").await.unwrap();
                client.read_exact(&mut buf).unwrap();
                assert_eq!(&buf, b"welcome");
            });
        },
    );
}

// ---------------------------------------------------------------------------
// 5. Destructors that panic while their task is cancelled
// ---------------------------------------------------------------------------

/// Keeps the panic hook from printing the panics these tests provoke on
/// purpose (their messages start with "destructor boom"); any other panic
/// is reported as usual.
fn quiet_expected_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !panic_message(info.payload()).starts_with("destructor boom") {
                default(info);
            }
        }));
    });
}

/// A pending-forever task holding a `CountOnDrop` and perhaps a
/// `PanicOnDrop` (both live in the future before its first poll, too).
async fn hold_until_cancelled(count: CountOnDrop, boom: Option<PanicOnDrop>) {
    let _count = count;
    let _boom = boom;
    std::future::pending::<()>().await;
}

#[test]
fn a_destructor_that_panics_during_abort_is_a_panic_join_error() {
    quiet_expected_panics();
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            const MSG: &str = "destructor boom during abort";
            let drops = Rc::new(Cell::new(0));
            let (tx, rx) = oneshot::channel::<u32>();
            let sibling = eddy::spawn(async move { rx.await.unwrap() + 1 });
            let doomed = eddy::spawn(hold_until_cancelled(
                CountOnDrop(drops.clone()),
                Some(PanicOnDrop(MSG)),
            ));
            yield_now().await;
            assert_eq!(drops.get(), 0);
            let aborted = catch(|| doomed.abort());
            assert!(
                aborted.is_ok(),
                "abort() let the destructor's panic out: {aborted:?}"
            );
            assert!(doomed.is_finished());
            assert_eq!(
                drops.get(),
                1,
                "the rest of the future was not dropped after a destructor panicked"
            );
            let err = doomed.await.unwrap_err();
            assert!(err.is_panic() && !err.is_cancelled(), "{err:?}");
            assert_eq!(panic_message(&*err.into_panic()), MSG);

            // Through an AbortHandle, on a task never polled.
            let doomed = eddy::spawn({
                let boom = PanicOnDrop(MSG);
                async move {
                    let _boom = boom;
                }
            });
            let abort: AbortHandle = doomed.abort_handle();
            assert!(catch(|| abort.abort()).is_ok());
            let err = doomed.await.unwrap_err();
            assert!(err.is_panic(), "{err:?}");
            assert_eq!(panic_message(&*err.into_panic()), MSG);

            // A task that aborts itself: dropped when its poll returns.
            let slot: Rc<RefCell<Option<AbortHandle>>> = Rc::default();
            let me = eddy::spawn({
                let slot = slot.clone();
                let count = CountOnDrop(drops.clone());
                async move {
                    let _count = count;
                    let _boom = PanicOnDrop(MSG);
                    yield_now().await;
                    slot.borrow().as_ref().unwrap().abort();
                    yield_now().await;
                    unreachable!("polled after aborting itself");
                }
            });
            *slot.borrow_mut() = Some(me.abort_handle());
            let err = me.await.unwrap_err();
            assert!(err.is_panic(), "{err:?}");
            assert_eq!(drops.get(), 2);

            // A JoinSet dropped with such a task in it: no panic out of the
            // drop, and every member's destructor runs.
            let mut set = JoinSet::new();
            for i in 0..3 {
                let boom = (i == 1).then(|| PanicOnDrop(MSG));
                set.spawn(hold_until_cancelled(CountOnDrop(drops.clone()), boom));
            }
            yield_now().await;
            let dropped = catch(move || drop(set));
            assert!(dropped.is_ok(), "JoinSet's drop panicked: {dropped:?}");
            assert_eq!(drops.get(), 5);

            // The runtime and the other tasks go on.
            tx.send(41).unwrap();
            assert_eq!(sibling.await.unwrap(), 42);
            sleep(Duration::from_millis(5)).await;
            assert_eq!(
                eddy::spawn(async { "still spawning" }).await.unwrap(),
                "still spawning"
            );
        });
        assert_eq!(rt.metrics().tasks_alive, 0);
    });
}

#[test]
fn destructors_that_panic_during_runtime_drop_do_not_escape_it() {
    quiet_expected_panics();
    watchdog(LIMIT, || {
        const MSG: &str = "destructor boom during runtime drop";
        let rt = Runtime::new().unwrap();
        let drops = Rc::new(Cell::new(0));
        let mut handles = Vec::new();
        // Six tasks that run and wait, every other one panicking when dropped.
        for i in 0..6 {
            let boom = (i % 2 == 0).then(|| PanicOnDrop(MSG));
            handles.push((
                boom.is_some(),
                rt.spawn(hold_until_cancelled(CountOnDrop(drops.clone()), boom)),
            ));
        }
        rt.block_on(yield_now());
        assert_eq!(rt.metrics().polls, 6);
        // Two never polled.
        for i in 0..2 {
            let boom = (i == 0).then(|| PanicOnDrop(MSG));
            handles.push((
                boom.is_some(),
                rt.spawn(hold_until_cancelled(CountOnDrop(drops.clone()), boom)),
            ));
        }
        let dropped = catch(move || drop(rt));
        assert!(
            dropped.is_ok(),
            "the runtime's drop let a destructor's panic out: {dropped:?}"
        );
        assert_eq!(drops.get(), 8, "every task's destructor ran");
        // The handles outlive the runtime and tell how each task ended.
        for (i, (boom, handle)) in handles.into_iter().enumerate() {
            assert!(handle.is_finished());
            let err = futures::executor::block_on(handle).unwrap_err();
            if boom {
                assert!(err.is_panic(), "task {i}: {err:?}");
                assert_eq!(panic_message(&*err.into_panic()), MSG);
            } else {
                assert!(err.is_cancelled(), "task {i}: {err:?}");
            }
        }

        // The same at the end of `eddy::block_on`.
        let drops = Rc::new(Cell::new(0));
        let out = catch(|| {
            eddy::block_on(async {
                for i in 0..4 {
                    let boom = (i % 2 == 1).then(|| PanicOnDrop(MSG));
                    eddy::spawn(hold_until_cancelled(CountOnDrop(drops.clone()), boom));
                }
                yield_now().await;
                "returned"
            })
        });
        assert_eq!(out, Ok("returned"));
        assert_eq!(drops.get(), 4);
    });
}

// ---------------------------------------------------------------------------
// 6. One waker, 8 threads, 8 x 100_000 wakes
// ---------------------------------------------------------------------------

#[test]
fn a_waker_hammered_from_8_threads_loses_no_wake_up() {
    watchdog(LIMIT, || {
        const THREADS: usize = 8;
        const WAKES_PER_THREAD: usize = 100_000;
        let rt = Runtime::new().unwrap();
        let finished = Arc::new(AtomicUsize::new(0));
        let wakes = Arc::new(AtomicUsize::new(0));
        let future_drops = Arc::new(AtomicUsize::new(0));
        let barrier = Arc::new(Barrier::new(THREADS));
        let mut waker_txs = Vec::new();
        let mut threads = Vec::new();
        for t in 0..THREADS {
            let (tx, rx) = mpsc::channel::<Waker>();
            waker_txs.push(tx);
            let (finished, wakes, barrier) = (finished.clone(), wakes.clone(), barrier.clone());
            threads.push(thread::spawn(move || {
                let waker = rx.recv().unwrap();
                barrier.wait();
                for i in 0..WAKES_PER_THREAD - 1 {
                    if i % 8 == t {
                        // By value: the path that gives a reference up.
                        let owned = waker.clone();
                        owned.wake();
                    } else {
                        waker.wake_by_ref();
                    }
                }
                wakes.fetch_add(WAKES_PER_THREAD - 1, Ordering::SeqCst);
                finished.fetch_add(1, Ordering::SeqCst);
                // The last wake comes after the count: the task must see it.
                waker.wake_by_ref();
                wakes.fetch_add(1, Ordering::SeqCst);
                // Dropped here, on this thread: perhaps the last reference.
                drop(waker);
            }));
        }
        let polls = Rc::new(Cell::new(0usize));
        let task = rt.spawn({
            let (polls, finished) = (polls.clone(), finished.clone());
            let guard = AtomicCountOnDrop(future_drops.clone());
            let mut waker_txs = Some(waker_txs);
            async move {
                let _guard = guard;
                poll_fn(|cx| {
                    polls.set(polls.get() + 1);
                    if let Some(txs) = waker_txs.take() {
                        for tx in txs {
                            tx.send(cx.waker().clone()).unwrap();
                        }
                    }
                    if finished.load(Ordering::SeqCst) == THREADS {
                        Poll::Ready("done")
                    } else {
                        Poll::Pending
                    }
                })
                .await
            }
        });
        let start = Instant::now();
        let out = rt.block_on(task);
        let took = start.elapsed();
        assert_eq!(out.unwrap(), "done");
        assert_eq!(
            future_drops.load(Ordering::SeqCst),
            1,
            "the future was not dropped exactly once when it finished"
        );
        for th in threads {
            th.join().expect("a waking thread panicked");
        }
        let total = wakes.load(Ordering::SeqCst);
        let m = rt.metrics();
        println!(
            "faults: waker hammer: {total} wakes from {THREADS} threads in {took:?}: \
             {} polls, {} remote wakes, {} unparks",
            polls.get(),
            m.remote_wakes,
            m.unparks
        );
        assert_eq!(total, THREADS * WAKES_PER_THREAD);
        assert!(polls.get() >= 1);
        assert!(
            polls.get() <= total + 1,
            "{} polls for {total} wakes",
            polls.get()
        );
        assert!(
            m.remote_wakes <= total as u64,
            "{} remote wakes for {total} wakes",
            m.remote_wakes
        );
        assert_eq!(m.tasks_alive, 0);
        assert_eq!(future_drops.load(Ordering::SeqCst), 1);
        // Every waker is gone (dropped on the other threads), and the
        // runtime can still be used and dropped.
        assert_eq!(
            rt.block_on(async { eddy::spawn(async { 1 }).await })
                .unwrap(),
            1
        );
        drop(rt);
        assert_eq!(future_drops.load(Ordering::SeqCst), 1);
    });
}

// ---------------------------------------------------------------------------
// 7. Wakes and remote spawns racing the runtime's drop
// ---------------------------------------------------------------------------

/// Counts its drops and records the threads they happen on.
struct DropRecord {
    count: Arc<AtomicUsize>,
    threads: Arc<Mutex<Vec<ThreadId>>>,
}

impl Drop for DropRecord {
    fn drop(&mut self) {
        self.count.fetch_add(1, Ordering::SeqCst);
        self.threads.lock().unwrap().push(thread::current().id());
    }
}

#[test]
fn wakes_and_remote_spawns_racing_the_runtime_drop() {
    watchdog(LIMIT, || {
        let rounds = if under_valgrind() { 3 } else { 50 };
        const TASKS: usize = 4;
        /// Wakes each thread makes after it has seen the runtime gone.
        const AFTER_DROP: usize = 10_000;
        /// Spawns the spawning thread makes after it has seen the runtime gone.
        const SPAWNS_AFTER_DROP: usize = 100;
        /// Remote futures that wait forever (the first ones spawned).
        const PENDING_REMOTES: usize = 8;
        /// Remote futures in flight at most, before the drop.
        const WINDOW: usize = 256;
        let main_thread = thread::current().id();
        let mut most_spawned = 0;
        let mut total_wakes = 0;
        for round in 0..rounds {
            let rt = Runtime::new().unwrap();
            let handle = rt.handle();
            let drops = Arc::new(AtomicUsize::new(0));
            let drop_threads: Arc<Mutex<Vec<ThreadId>>> = Arc::default();
            let dropped = Arc::new(AtomicBool::new(false));
            let (started_tx, started_rx) = async_channel::unbounded::<()>();

            // Tasks that hand their waker to a thread which wakes it as fast
            // as it can, before, during and after the runtime's drop.
            let mut wakers = Vec::new();
            for t in 0..TASKS {
                let (tx, rx) = mpsc::channel::<Waker>();
                let (dropped, started_tx) = (dropped.clone(), started_tx.clone());
                wakers.push(thread::spawn(move || {
                    let waker = rx.recv().unwrap();
                    let mut n = 0usize;
                    let wake = |n: usize| {
                        if n % 4 == t % 4 {
                            // By value: the path that gives a reference up.
                            let owned = waker.clone();
                            owned.wake();
                        } else {
                            waker.wake_by_ref();
                        }
                    };
                    while !dropped.load(Ordering::Acquire) {
                        wake(n);
                        n += 1;
                        if n == 1000 {
                            started_tx.send_blocking(()).unwrap();
                        }
                    }
                    for i in 0..AFTER_DROP {
                        wake(n + i);
                    }
                    drop(waker);
                    n + AFTER_DROP
                }));
                let record = DropRecord {
                    count: drops.clone(),
                    threads: drop_threads.clone(),
                };
                let mut tx = Some(tx);
                drop(rt.spawn(async move {
                    let _record = record;
                    poll_fn(|cx| {
                        if let Some(tx) = tx.take() {
                            tx.send(cx.waker().clone()).unwrap();
                        }
                        Poll::<()>::Pending
                    })
                    .await
                }));
            }

            // And a thread spawning through a Handle all along: the first
            // few futures wait forever (cancelled by the drop), the others
            // finish at once. Until the runtime is gone, the spawner keeps
            // at most WINDOW of those in flight, so that it races the drop
            // instead of burying the loop.
            let remote_drops = Arc::new(AtomicUsize::new(0));
            let spawner = thread::spawn({
                let (dropped, started_tx, remote_drops) =
                    (dropped.clone(), started_tx.clone(), remote_drops.clone());
                move || {
                    let mut remotes = Vec::new();
                    let mut after = 0;
                    while after < SPAWNS_AFTER_DROP {
                        if dropped.load(Ordering::Acquire) {
                            after += 1;
                        } else if remotes.len() - remote_drops.load(Ordering::SeqCst)
                            > PENDING_REMOTES + WINDOW
                        {
                            thread::yield_now();
                            continue;
                        }
                        let i = remotes.len();
                        let guard = AtomicCountOnDrop(remote_drops.clone());
                        remotes.push(handle.spawn(async move {
                            let _guard = guard;
                            if i < PENDING_REMOTES {
                                std::future::pending::<()>().await;
                            }
                            i
                        }));
                        if remotes.len() == 2 * WINDOW {
                            started_tx.send_blocking(()).unwrap();
                        }
                    }
                    remotes
                }
            });
            drop(started_tx);

            rt.block_on(async {
                for _ in 0..=TASKS {
                    started_rx.recv().await.unwrap();
                }
            });
            drop(rt); // while the threads hammer
            let drops_at_drop = drops.load(Ordering::SeqCst);
            dropped.store(true, Ordering::Release);
            assert_eq!(
                drops_at_drop, TASKS,
                "round {round}: not every task's future was dropped by the runtime's drop"
            );
            for th in wakers {
                total_wakes += th.join().expect("a waking thread panicked");
            }
            let remotes = spawner.join().expect("the spawning thread panicked");
            assert_eq!(drops.load(Ordering::SeqCst), TASKS, "round {round}");
            assert!(
                drop_threads
                    .lock()
                    .unwrap()
                    .iter()
                    .all(|&id| id == main_thread),
                "round {round}: a future was dropped off the runtime's thread"
            );

            // Every remotely spawned future was dropped (never leaked), and
            // every handle has resolved: Ok for those that finished on the
            // loop, cancelled for the others.
            most_spawned = most_spawned.max(remotes.len());
            let unresolved = remotes.iter().filter(|r| !r.is_finished()).count();
            assert_eq!(
                remote_drops.load(Ordering::SeqCst),
                remotes.len(),
                "round {round}: {} of {} remotely spawned futures were never dropped \
                 ({unresolved} handles unresolved)",
                remotes.len() - remote_drops.load(Ordering::SeqCst),
                remotes.len()
            );
            assert_eq!(unresolved, 0, "round {round}: handles never resolved");
            for (i, remote) in remotes.into_iter().enumerate() {
                match futures::executor::block_on(remote) {
                    Ok(v) => {
                        assert_eq!(v, i);
                        assert!(i >= PENDING_REMOTES, "a pending-forever future returned");
                    }
                    Err(e) => assert!(e.is_cancelled(), "round {round}, remote {i}: {e:?}"),
                }
            }
        }
        println!(
            "faults: drop race: {rounds} rounds, {total_wakes} wakes in all, \
             at most {most_spawned} remote spawns in a round"
        );
    });
}

/// Remote spawns still queued when the runtime is dropped (it was never
/// driven, or another thread spawned faster than the loop took them in):
/// every future is dropped, none leaked, and every handle resolves to a
/// cancelled error (API.md: "If the runtime is dropped first, the handle
/// resolves to a cancelled `JoinError`"). No destructor here spawns
/// anything, so the 16-round limit on destructors that keep spawning has
/// no reason to leak.
#[test]
fn many_queued_remote_spawns_are_all_dropped_with_the_runtime() {
    watchdog(LIMIT, || {
        const N: usize = 20_000;
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let drops = Arc::new(AtomicUsize::new(0));
        let remotes: Vec<_> = (0..N)
            .map(|i| {
                let guard = AtomicCountOnDrop(drops.clone());
                handle.spawn(async move {
                    let _guard = guard;
                    i
                })
            })
            .collect();
        drop(rt);
        let unresolved = remotes.iter().filter(|r| !r.is_finished()).count();
        println!(
            "faults: queued remote spawns: {N} queued, {} dropped by the runtime's drop, \
             {unresolved} handles unresolved",
            drops.load(Ordering::SeqCst)
        );
        assert_eq!(
            drops.load(Ordering::SeqCst),
            N,
            "remotely spawned futures leaked by the runtime's drop"
        );
        assert_eq!(unresolved, 0, "handles that will never resolve");
        for remote in remotes {
            let err = futures::executor::block_on(remote).unwrap_err();
            assert!(err.is_cancelled(), "{err:?}");
        }
    });
}
