//! Load tests for I/O (API.md, "I/O"): many TCP connections on one runtime.
//!
//! - `five_thousand_concurrent_echo_connections` (run by default): 5 000
//!   connections open at once on one runtime, each echoing a payload of its
//!   own; every byte is checked, every connection closed, and no file
//!   descriptor is left open afterwards.
//! - `soak_churn_with_resets_and_timers` (`#[ignore]`d; run it with
//!   `cargo test --test load -- --ignored soak`, and set `EDDY_SOAK_SECS` to
//!   change its length, 600 s by default): connections opened, echoed and
//!   closed for minutes, some reset mid-transfer, with timers set, fired and
//!   cancelled meanwhile; checks nothing is lost and nothing leaks.
//!
//! Both count the entries of `/proc/self/fd`, which is process-wide: so this
//! file has only one test that runs by default (the test harness runs the
//! tests of one binary in parallel), and the two tests take `SERIAL` so that
//! `--include-ignored` does not run them at once either.

mod common;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fs;
use std::future::pending;
use std::io::{self, ErrorKind};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::AsRawFd;
use std::panic;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::{is_reset_like, set_linger_zero, watchdog};
use eddy::net::{TcpListener, TcpStream};
use eddy::sync::{Notify, Semaphore};
use eddy::task::JoinSet;
use eddy::time::{sleep, sleep_until, timeout};
use eddy::{JoinError, Runtime};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Taken by each test of this file: they count the process's descriptors.
static SERIAL: Mutex<()> = Mutex::new(());

/// The largest payload a connection sends.
const MAX_PAYLOAD: usize = 256 * 1024;

/// The buffer each echo task (and each client reader) reads into.
const BUF: usize = 16 * 1024;

/// How many connections may be connecting or waiting in the listener's
/// queue at once. The accept queue is short next to 5 000 connections:
/// `TcpListener::bind` has listened with mio's backlog of 128 (std's value)
/// and at most 1024 (tokio's), and the kernel caps it at `somaxconn`. When
/// more handshakes complete than the queue holds, Linux drops SYNs (the
/// clients retransmit after 1 s, then 3 s: slow) and, once it answers with
/// SYN cookies, drops the final ACK: the client then believes it is
/// connected while the server never sees the connection (with the backlog
/// of 128, 5 000 connects fired at once hang that way). So a client takes a
/// permit before it connects and forgets it once connected, and the server
/// gives one back for each connection it accepts: at most this many are
/// ever connecting or queued, well below any of those backlogs.
const CONNECTS_IN_FLIGHT: usize = 64;

/// A tiny xorshift64* generator: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        // splitmix64 of the seed, so that nearby seeds give unrelated streams.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (the modulo bias is irrelevant here).
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A payload length, log-uniform in `1..=max`: every power of two is about
/// as likely as any other, so most payloads are small and a few are large.
/// (A uniform length would average 128 KiB: 5 000 connections would move
/// 640 MB each way, far too slow in a debug build. Log-uniform averages
/// `max / ln(max)`, about 21 KB, so about 105 MB each way, and it still
/// exercises both tiny writes and payloads much larger than the socket
/// buffers.)
fn log_uniform(rng: &mut Rng, max: usize) -> usize {
    let len = ((max as f64 + 1.0).powf(rng.unit())) as usize;
    len.clamp(1, max)
}

/// The payload of connection `id`: pseudo-random bytes seeded by `id`, with
/// the low 32 bits of `id` in its first (up to) four bytes, so that any two
/// payloads of four bytes or more differ, and a byte delivered to the wrong
/// connection is caught.
fn payload(id: u64, len: usize) -> Vec<u8> {
    let mut rng = Rng::new(id ^ 0x5EED_F0E4_4D00);
    let mut data = vec![0; len];
    for chunk in data.chunks_mut(8) {
        let word = rng.next_u64().to_le_bytes();
        chunk.copy_from_slice(&word[..chunk.len()]);
    }
    let tag = (id as u32).to_le_bytes();
    let t = len.min(tag.len());
    data[..t].copy_from_slice(&tag[..t]);
    data
}

/// FNV-1a, 64 bits: the checksum computed on what is sent and on what comes
/// back.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xCBF2_9CE4_8422_2325)
    }

    /// Byte by byte as FNV-1a says, but eight bytes per iteration: a debug
    /// build spends most of its time in iterators otherwise.
    fn update(&mut self, bytes: &[u8]) {
        const PRIME: u64 = 0x0000_0100_0000_01B3;
        let mut h = self.0;
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let w = u64::from_le_bytes(word.try_into().unwrap());
            h = (h ^ (w & 0xFF)).wrapping_mul(PRIME);
            h = (h ^ ((w >> 8) & 0xFF)).wrapping_mul(PRIME);
            h = (h ^ ((w >> 16) & 0xFF)).wrapping_mul(PRIME);
            h = (h ^ ((w >> 24) & 0xFF)).wrapping_mul(PRIME);
            h = (h ^ ((w >> 32) & 0xFF)).wrapping_mul(PRIME);
            h = (h ^ ((w >> 40) & 0xFF)).wrapping_mul(PRIME);
            h = (h ^ ((w >> 48) & 0xFF)).wrapping_mul(PRIME);
            h = (h ^ (w >> 56)).wrapping_mul(PRIME);
        }
        for &b in words.remainder() {
            h = (h ^ u64::from(b)).wrapping_mul(PRIME);
        }
        self.0 = h;
    }

    fn of(bytes: &[u8]) -> Fnv {
        let mut h = Fnv::new();
        h.update(bytes);
        h
    }
}

/// Checks that `chunk`, received at offset `at` of an echo, is what was sent
/// there; names the first difference instead of printing the bytes.
#[track_caller]
fn check_chunk(what: &str, sent: &[u8], at: usize, chunk: &[u8]) {
    let end = at + chunk.len();
    assert!(
        end <= sent.len(),
        "{what}: the echo is longer than the payload ({end} bytes or more, sent {})",
        sent.len()
    );
    if chunk != &sent[at..end] {
        let i = chunk
            .iter()
            .zip(&sent[at..end])
            .position(|(a, b)| a != b)
            .unwrap();
        panic!(
            "{what}: echoed byte {} is {:#04x}, sent {:#04x}",
            at + i,
            chunk[i],
            sent[at + i]
        );
    }
}

/// Adds one to `open`, keeping `peak` at its highest.
fn open_one(open: &Cell<usize>, peak: &Cell<usize>) {
    open.set(open.get() + 1);
    peak.set(peak.get().max(open.get()));
}

fn add(c: &Cell<u64>, n: u64) {
    c.set(c.get() + n);
}

/// Writes `data`, shuts the write half, and reads the echo until end of
/// stream, checking each chunk against `data`; returns the length and
/// checksum of what came back. Writer and reader run at once (joined in the
/// caller's task): a payload larger than the socket buffers would otherwise
/// deadlock against the echo.
async fn send_and_read_echo(stream: &TcpStream, data: &[u8], what: &str) -> (usize, Fnv) {
    let writer = async {
        stream
            .write_all(data)
            .await
            .unwrap_or_else(|e| panic!("{what}: write: {e}"));
        stream
            .shutdown(Shutdown::Write)
            .unwrap_or_else(|e| panic!("{what}: shutdown: {e}"));
    };
    let reader = async {
        let mut buf = vec![0; BUF];
        let mut got = 0;
        let mut sum = Fnv::new();
        loop {
            let n = stream
                .read(&mut buf)
                .await
                .unwrap_or_else(|e| panic!("{what}: read: {e}"));
            if n == 0 {
                return (got, sum);
            }
            check_chunk(what, data, got, &buf[..n]);
            sum.update(&buf[..n]);
            got += n;
        }
    };
    let ((), echo) = futures::join!(writer, reader);
    echo
}

/// A task's output; a panic in the task is resumed here, with its message.
fn task_output<T>(result: Result<T, JoinError>) -> T {
    match result {
        Ok(v) => v,
        Err(e) if e.is_panic() => panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("a task ended without an output: {e}"),
    }
}

/// The open descriptors of this process, by number.
fn open_fds() -> BTreeMap<i32, String> {
    common::open_fds().into_iter().collect()
}

/// Asserts that the same descriptors are open as `before` (the descriptor
/// `read_dir` itself holds has the same number in both listings).
#[track_caller]
fn assert_same_fds(before: &BTreeMap<i32, String>, after: &BTreeMap<i32, String>) {
    if before.len() != after.len() {
        let extra: Vec<_> = after
            .iter()
            .filter(|(fd, _)| !before.contains_key(fd))
            .take(10)
            .collect();
        let gone: Vec<_> = before
            .iter()
            .filter(|(fd, _)| !after.contains_key(fd))
            .take(10)
            .collect();
        panic!(
            "{} descriptors open before, {} after the runtime was dropped; \
             new (up to 10): {extra:?}; gone (up to 10): {gone:?}",
            before.len(),
            after.len()
        );
    }
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit; fails, saying so, if
/// the hard limit is below `needed`.
fn raise_fd_limit(needed: u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one `rlimit` into the local we pass.
    let r = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    assert_eq!(r, 0, "getrlimit: {}", io::Error::last_os_error());
    assert!(
        lim.rlim_max >= needed,
        "this test needs {needed} file descriptors, but the hard RLIMIT_NOFILE \
         is {} (`ulimit -Hn`); raise it to run the test",
        lim.rlim_max
    );
    if lim.rlim_cur < lim.rlim_max {
        lim.rlim_cur = lim.rlim_max;
        // SAFETY: setrlimit reads one `rlimit` from the local we pass.
        let r = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
        assert_eq!(
            r,
            0,
            "setrlimit(RLIMIT_NOFILE, {}): {}",
            lim.rlim_max,
            io::Error::last_os_error()
        );
    }
}

/// A field of `/proc/self/status` in KiB (`VmRSS`, `VmHWM`).
fn status_kib(field: &str) -> u64 {
    let status = fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|line| {
            let rest = line.strip_prefix(field)?.strip_prefix(':')?;
            rest.trim().trim_end_matches("kB").trim().parse().ok()
        })
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

// ---------------------------------------------------------------------------
// 5 000 concurrent connections
// ---------------------------------------------------------------------------

const CONNS: usize = 5_000;

/// What the clients and the server of the load test share.
struct Load {
    n: usize,
    /// Taken around `connect`; see `CONNECTS_IN_FLIGHT`.
    connect_slots: Semaphore,
    connected: Cell<usize>,
    accepted: Cell<usize>,
    client_open: Cell<usize>,
    client_peak: Cell<usize>,
    server_open: Cell<usize>,
    server_peak: Cell<usize>,
    /// Set (and `go_signal` notified) once all `n` connections are open on
    /// both sides; the clients wait for it before they send anything.
    go: Cell<bool>,
    go_signal: Notify,
    /// Connections open on each side when `go` was set.
    open_at_go: Cell<(usize, usize)>,
    go_at: Cell<Option<Instant>>,
    client_eofs: Cell<usize>,
    server_eofs: Cell<usize>,
    server_closes: Cell<usize>,
}

impl Load {
    fn new(n: usize) -> Load {
        Load {
            n,
            connect_slots: Semaphore::new(CONNECTS_IN_FLIGHT),
            connected: Cell::new(0),
            accepted: Cell::new(0),
            client_open: Cell::new(0),
            client_peak: Cell::new(0),
            server_open: Cell::new(0),
            server_peak: Cell::new(0),
            go: Cell::new(false),
            go_signal: Notify::new(),
            open_at_go: Cell::new((0, 0)),
            go_at: Cell::new(None),
            client_eofs: Cell::new(0),
            server_eofs: Cell::new(0),
            server_closes: Cell::new(0),
        }
    }

    /// Sets `go` once every connection is connected and accepted.
    fn maybe_go(&self) {
        if !self.go.get() && self.connected.get() == self.n && self.accepted.get() == self.n {
            self.open_at_go
                .set((self.client_open.get(), self.server_open.get()));
            self.go_at.set(Some(Instant::now()));
            self.go.set(true);
            self.go_signal.notify_waiters();
        }
    }
}

/// What one client saw.
struct ClientReport {
    id: usize,
    sent_len: usize,
    sent_sum: Fnv,
    echo_len: usize,
    echo_sum: Fnv,
}

/// Connects, waits until every connection is open, then writes its payload
/// (and shuts down its write half) while reading the echo to end of stream,
/// checking every byte.
async fn load_client(id: usize, len: usize, addr: SocketAddr, load: Rc<Load>) -> ClientReport {
    let permit = load.connect_slots.acquire().await;
    let stream = TcpStream::connect(addr)
        .await
        .unwrap_or_else(|e| panic!("client {id}: connect: {e}"));
    permit.forget(); // the server gives it back when it accepts
    load.connected.set(load.connected.get() + 1);
    open_one(&load.client_open, &load.client_peak);
    load.maybe_go();
    while !load.go.get() {
        load.go_signal.notified().await;
    }

    let data = payload(id as u64, len);
    let sent_sum = Fnv::of(&data);
    let what = format!("client {id} ({len} bytes)");
    let (echo_len, echo_sum) = send_and_read_echo(&stream, &data, &what).await;
    load.client_eofs.set(load.client_eofs.get() + 1);
    drop(stream);
    load.client_open.set(load.client_open.get() - 1);
    ClientReport {
        id,
        sent_len: len,
        sent_sum,
        echo_len,
        echo_sum,
    }
}

/// Echoes until end of stream, then shuts down and closes; returns the
/// number of bytes echoed.
async fn load_echo(stream: TcpStream, load: Rc<Load>) -> u64 {
    let mut buf = vec![0; BUF];
    let mut total = 0;
    loop {
        let n = stream
            .read(&mut buf)
            .await
            .unwrap_or_else(|e| panic!("server: read: {e}"));
        if n == 0 {
            break;
        }
        stream
            .write_all(&buf[..n])
            .await
            .unwrap_or_else(|e| panic!("server: write: {e}"));
        total += n as u64;
    }
    load.server_eofs.set(load.server_eofs.get() + 1);
    stream
        .shutdown(Shutdown::Write)
        .unwrap_or_else(|e| panic!("server: shutdown: {e}"));
    drop(stream);
    load.server_open.set(load.server_open.get() - 1);
    load.server_closes.set(load.server_closes.get() + 1);
    total
}

/// Accepts `load.n` connections, an echo task for each, closes the
/// listener and waits for every echo; returns the bytes echoed.
async fn load_server(listener: TcpListener, load: Rc<Load>) -> u64 {
    let mut echoes = JoinSet::new();
    for _ in 0..load.n {
        let (stream, _) = listener.accept().await.unwrap_or_else(|e| {
            panic!(
                "server: accept (after {} connections): {e}",
                load.accepted.get()
            )
        });
        load.accepted.set(load.accepted.get() + 1);
        open_one(&load.server_open, &load.server_peak);
        load.connect_slots.add_permits(1);
        load.maybe_go();
        echoes.spawn(load_echo(stream, load.clone()));
    }
    drop(listener);
    let mut total = 0;
    while let Some(result) = echoes.join_next().await {
        total += task_output(result);
    }
    total
}

#[test]
fn five_thousand_concurrent_echo_connections() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // Both ends of every connection, the listener, the runtime's own
    // descriptors, and what the process had open already.
    raise_fd_limit(2 * CONNS as u64 + 64 + open_fds().len() as u64);

    // The checksum is FNV-1a (published test vectors; the word-at-a-time
    // loop matches the byte-at-a-time definition across word boundaries).
    assert_eq!(Fnv::of(b"").0, 0xCBF2_9CE4_8422_2325);
    assert_eq!(Fnv::of(b"a").0, 0xAF63_DC4C_8601_EC8C);
    assert_eq!(Fnv::of(b"foobar").0, 0x8594_4171_F739_67E8);
    let sample = payload(7, 1_000);
    let mut split = Fnv::new();
    split.update(&sample[..13]);
    split.update(&sample[13..]);
    let bytewise = sample.iter().fold(Fnv::new().0, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
    });
    assert_eq!((split.0, Fnv::of(&sample).0), (bytewise, bytewise));

    // Payload lengths: log-uniform (see `log_uniform`), from a fixed seed;
    // connection 0 sends the smallest payload and connection 1 the largest.
    let mut rng = Rng::new(5_000);
    let mut sizes: Vec<usize> = (0..CONNS)
        .map(|_| log_uniform(&mut rng, MAX_PAYLOAD))
        .collect();
    sizes[0] = 1;
    sizes[1] = MAX_PAYLOAD;
    let total_sent: u64 = sizes.iter().map(|&s| s as u64).sum();

    watchdog(Duration::from_secs(60), move || {
        let fds_before = open_fds();
        let start = Instant::now();
        let rt = Runtime::new().expect("runtime");
        let load = Rc::new(Load::new(CONNS));
        let (reports, server_total) = rt.block_on({
            let load = load.clone();
            let sizes = sizes.clone();
            async move {
                let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
                let addr = listener.local_addr().unwrap();
                let mut clients = JoinSet::new();
                for (id, &len) in sizes.iter().enumerate() {
                    clients.spawn(load_client(id, len, addr, load.clone()));
                }
                // Clients are collected in the order they finish, so a panic
                // in any of them (or in an echo task) fails the test at once
                // instead of leaving the others waiting.
                let collect = async {
                    let mut reports = Vec::with_capacity(sizes.len());
                    while let Some(result) = clients.join_next().await {
                        reports.push(task_output(result));
                    }
                    reports
                };
                let (server_total, reports) =
                    futures::join!(load_server(listener, load.clone()), collect);
                (reports, server_total)
            }
        });
        let metrics = rt.metrics();
        drop(rt);
        let elapsed = start.elapsed();
        let fds_after = open_fds();

        // Every connection was open at once, on both sides.
        assert_eq!(
            load.open_at_go.get(),
            (CONNS, CONNS),
            "open (client, server) when sending began"
        );
        assert_eq!(
            load.client_peak.get(),
            CONNS,
            "peak of client connections open"
        );
        assert_eq!(
            load.server_peak.get(),
            CONNS,
            "peak of server connections open"
        );
        // Each echo is exactly its own payload.
        assert_eq!(reports.len(), CONNS);
        let mut seen = vec![false; CONNS];
        let mut total_echoed = 0;
        for r in &reports {
            assert!(!seen[r.id], "client {} reported twice", r.id);
            seen[r.id] = true;
            assert_eq!(r.sent_len, sizes[r.id]);
            assert_eq!(r.echo_len, r.sent_len, "client {}: echo length", r.id);
            assert_eq!(r.echo_sum, r.sent_sum, "client {}: echo checksum", r.id);
            total_echoed += r.echo_len as u64;
        }
        assert_eq!(total_echoed, total_sent, "bytes echoed to the clients");
        assert_eq!(server_total, total_sent, "bytes the server echoed");
        // Every connection ended cleanly and was closed on both sides.
        assert_eq!(
            load.client_eofs.get(),
            CONNS,
            "clients that read end of stream"
        );
        assert_eq!(
            load.server_eofs.get(),
            CONNS,
            "server connections that read end of stream"
        );
        assert_eq!(load.server_closes.get(), CONNS, "server connections closed");
        assert_eq!(load.client_open.get(), 0, "client connections still open");
        assert_eq!(load.server_open.get(), 0, "server connections still open");
        assert_eq!(metrics.tasks_alive, 0, "tasks alive after block_on");
        assert_same_fds(&fds_before, &fds_after);

        let connect_phase = load.go_at.get().unwrap() - start;
        eprintln!(
            "load: {CONNS} connections, {total_sent} bytes each way \
             (payloads 1..={MAX_PAYLOAD} B), all open after {connect_phase:.2?}, \
             done in {elapsed:.2?}; fds {} before and after; {} polls, {} I/O events",
            fds_before.len(),
            metrics.polls,
            metrics.io_events
        );
    });
}

// ---------------------------------------------------------------------------
// Soak: churn for minutes
// ---------------------------------------------------------------------------

/// Client workers, each with one connection at a time (connecting, idle
/// while it sets timers, or echoing).
const SOAK_WORKERS: usize = 300;

/// Connects in flight (or waiting in the listener's queue) at once in the
/// soak: more than `CONNECTS_IN_FLIGHT`, since a connect takes a few turns
/// of a loop kept busy by the echoes, yet below the smallest backlog (128).
const SOAK_CONNECTS_IN_FLIGHT: usize = 120;

/// One connection (connect, echo, close) must end within this.
const SOAK_CONN_LIMIT: Duration = Duration::from_secs(30);

#[derive(Default)]
struct Soak {
    connect_slots: Option<Semaphore>,
    next_id: Cell<u64>,
    // Clients.
    connects: Cell<u64>,
    completed: Cell<u64>,
    resets: Cell<u64>,
    bytes_sent: Cell<u64>,
    bytes_echoed: Cell<u64>,
    reset_bytes_verified: Cell<u64>,
    in_flight: Cell<usize>,
    peak_in_flight: Cell<usize>,
    /// `in_flight` sampled each second after the first tenth of the run.
    in_flight_samples: Cell<u64>,
    in_flight_sum: Cell<u64>,
    // Server.
    accepted: Cell<u64>,
    accept_aborted: Cell<u64>,
    server_open: Cell<usize>,
    server_eofs: Cell<u64>,
    server_resets: Cell<u64>,
    server_bytes: Cell<u64>,
    // Timers (created through `sleep` or `timeout`).
    timers_set: Cell<u64>,
    timers_fired: Cell<u64>,
    timers_cancelled: Cell<u64>,
    /// How late a 5 ms sleep of a probe task wakes: the loop's latency.
    lag_max: Cell<Duration>,
    lag_sum: Cell<Duration>,
    lag_samples: Cell<u32>,
    // Memory, KiB.
    rss_early: Cell<Option<u64>>,
    rss_late: Cell<Option<u64>>,
    /// Unexpected errors seen by tasks that cannot fail the test themselves.
    failures: RefCell<Vec<String>>,
}

impl Soak {
    fn slots(&self) -> &Semaphore {
        self.connect_slots.as_ref().unwrap()
    }

    fn fail(&self, msg: String) {
        self.failures.borrow_mut().push(msg);
    }
}

/// Sets a few timers: some fire, some are cancelled.
async fn soak_timers(rng: &mut Rng, soak: &Soak) {
    match rng.below(4) {
        0 => {
            // A sleep that fires, never early.
            let d = Duration::from_micros(rng.below(20_000));
            let t0 = Instant::now();
            sleep(d).await;
            assert!(t0.elapsed() >= d, "a sleep of {d:?} ended early");
            add(&soak.timers_set, 1);
            add(&soak.timers_fired, 1);
        }
        1 => {
            // A timeout racing a sleep: one fires, the other is cancelled.
            let a = Duration::from_millis(1 + rng.below(20));
            let b = Duration::from_millis(1 + rng.below(20));
            let t0 = Instant::now();
            let waited = match timeout(a, sleep(b)).await {
                Ok(()) => b,
                Err(_) => a,
            };
            assert!(t0.elapsed() >= waited, "a timer of {waited:?} fired early");
            add(&soak.timers_set, 2);
            add(&soak.timers_fired, 1);
            add(&soak.timers_cancelled, 1);
        }
        2 => {
            // A long sleep, registered, then dropped.
            let mut s = pin!(sleep(Duration::from_secs(3_600)));
            assert!(futures::poll!(s.as_mut()).is_pending());
            add(&soak.timers_set, 1);
            add(&soak.timers_cancelled, 1);
        }
        _ => {}
    }
}

/// Reads exactly `want` bytes of echo, checking them against `sent[..want]`.
async fn read_echo_prefix(stream: &TcpStream, sent: &[u8], want: usize, what: &str) {
    let mut buf = vec![0; BUF.min(want.max(1))];
    let mut got = 0;
    while got < want {
        let room = buf.len().min(want - got);
        let n = stream
            .read(&mut buf[..room])
            .await
            .unwrap_or_else(|e| panic!("{what}: read: {e}"));
        assert!(n > 0, "{what}: end of stream after {got} of {want} bytes");
        check_chunk(what, sent, got, &buf[..n]);
        got += n;
    }
}

/// One connection: a full echo, checked, or (`reset`) a partial one cut by
/// a reset.
async fn soak_conn(rng: &mut Rng, addr: SocketAddr, soak: &Soak) {
    let id = soak.next_id.get();
    soak.next_id.set(id + 1);
    let len = log_uniform(rng, MAX_PAYLOAD);
    let reset = rng.below(8) == 0;
    let what = format!("connection {id} ({len} bytes, reset {reset})");

    let permit = soak.slots().acquire().await;
    let stream = TcpStream::connect(addr)
        .await
        .unwrap_or_else(|e| panic!("{what}: connect: {e}"));
    permit.forget(); // the server gives it back when it accepts
    add(&soak.connects, 1);
    open_one(&soak.in_flight, &soak.peak_in_flight);
    // Timers, while the connection is open and idle.
    soak_timers(rng, soak).await;
    let data = payload(id, len);

    if reset {
        // Write `k` bytes, read back the first `m` (checked), then reset,
        // whether the writer is done or not.
        let k = 1 + rng.below(len as u64) as usize;
        let m = rng.below(k as u64 + 1) as usize;
        {
            let writer = pin!(async {
                stream
                    .write_all(&data[..k])
                    .await
                    .unwrap_or_else(|e| panic!("{what}: write: {e}"));
                pending::<()>().await
            });
            let reader = pin!(read_echo_prefix(&stream, &data, m, &what));
            futures::future::select(writer, reader).await;
        }
        set_linger_zero(stream.as_raw_fd());
        drop(stream);
        add(&soak.resets, 1);
        add(&soak.reset_bytes_verified, m as u64);
    } else {
        let sent_sum = Fnv::of(&data);
        let (got, sum) = send_and_read_echo(&stream, &data, &what).await;
        assert_eq!(got, len, "{what}: echo length");
        assert_eq!(sum, sent_sum, "{what}: echo checksum");
        drop(stream);
        add(&soak.completed, 1);
        add(&soak.bytes_sent, len as u64);
        add(&soak.bytes_echoed, got as u64);
    }
    soak.in_flight.set(soak.in_flight.get() - 1);
}

/// Opens connection after connection until `deadline`.
async fn soak_worker(worker: usize, addr: SocketAddr, soak: Rc<Soak>, deadline: Instant) {
    let mut rng = Rng::new(0x50A4 ^ ((worker as u64) << 20));
    while Instant::now() < deadline && soak.failures.borrow().is_empty() {
        // Every connection runs under a timeout, cancelled when it is done.
        add(&soak.timers_set, 1);
        match timeout(SOAK_CONN_LIMIT, soak_conn(&mut rng, addr, &soak)).await {
            Ok(()) => add(&soak.timers_cancelled, 1),
            Err(_) => panic!("a connection took longer than {SOAK_CONN_LIMIT:?}"),
        }
    }
}

/// Echoes until end of stream or a reset.
async fn soak_echo(stream: TcpStream, soak: Rc<Soak>) {
    let echo = async {
        let mut buf = vec![0; BUF];
        let mut total = 0;
        loop {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                stream.shutdown(Shutdown::Write)?;
                return Ok::<u64, io::Error>(total);
            }
            stream.write_all(&buf[..n]).await?;
            total += n as u64;
        }
    };
    add(&soak.timers_set, 1);
    match timeout(SOAK_CONN_LIMIT, echo).await {
        Ok(Ok(bytes)) => {
            add(&soak.timers_cancelled, 1);
            add(&soak.server_eofs, 1);
            add(&soak.server_bytes, bytes);
        }
        Ok(Err(e)) if is_reset_like(&e) => {
            add(&soak.timers_cancelled, 1);
            add(&soak.server_resets, 1);
        }
        Ok(Err(e)) => soak.fail(format!("server: echo: {e}")),
        Err(_) => soak.fail(format!(
            "server: an echo took longer than {SOAK_CONN_LIMIT:?}"
        )),
    }
    drop(stream);
    soak.server_open.set(soak.server_open.get() - 1);
}

/// Accepts forever, an echo task for each connection.
async fn soak_server(listener: TcpListener, soak: Rc<Soak>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                add(&soak.accepted, 1);
                soak.server_open.set(soak.server_open.get() + 1);
                soak.slots().add_permits(1);
                eddy::spawn(soak_echo(stream, soak.clone()));
            }
            // A connection reset while it waited in the queue.
            Err(e) if e.kind() == ErrorKind::ConnectionAborted => {
                add(&soak.accept_aborted, 1);
                soak.slots().add_permits(1);
            }
            Err(e) => {
                soak.fail(format!("server: accept: {e}"));
                sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// Samples the resident set size once after a tenth of the run and last
/// just before its end, and the connections in flight each second between.
async fn soak_monitor(soak: Rc<Soak>, start: Instant, run: Duration) {
    let deadline = start + run;
    sleep_until(start + run / 10).await;
    soak.rss_early.set(Some(status_kib("VmRSS")));
    loop {
        let next = Instant::now() + Duration::from_secs(1);
        if next + Duration::from_millis(500) >= deadline {
            break;
        }
        sleep_until(next).await;
        add(&soak.in_flight_samples, 1);
        add(&soak.in_flight_sum, soak.in_flight.get() as u64);
    }
    soak.rss_late.set(Some(status_kib("VmRSS")));
}

/// Measures how late the loop wakes a sleeping task, until `deadline`.
async fn soak_lag_probe(soak: Rc<Soak>, deadline: Instant) {
    const NAP: Duration = Duration::from_millis(5);
    while Instant::now() < deadline {
        let t0 = Instant::now();
        sleep(NAP).await;
        let late = t0.elapsed().saturating_sub(NAP);
        soak.lag_max.set(soak.lag_max.get().max(late));
        soak.lag_sum.set(soak.lag_sum.get() + late);
        soak.lag_samples.set(soak.lag_samples.get() + 1);
    }
}

#[test]
#[ignore = "soak test, 10 minutes by default (EDDY_SOAK_SECS); run with `-- --ignored soak`"]
fn soak_churn_with_resets_and_timers() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let secs: u64 = match std::env::var("EDDY_SOAK_SECS") {
        Ok(s) => s
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("EDDY_SOAK_SECS={s:?} is not a number of seconds")),
        Err(_) => 600,
    };
    assert!(secs >= 1, "EDDY_SOAK_SECS must be at least 1");
    let run = Duration::from_secs(secs);
    raise_fd_limit(2 * SOAK_WORKERS as u64 + 2 * SOAK_CONNECTS_IN_FLIGHT as u64 + 256);

    let limit = run + Duration::from_secs(60);
    watchdog(limit, move || {
        let fds_before = open_fds();
        let start = Instant::now();
        let rt = Runtime::new().expect("runtime");
        let soak = Rc::new(Soak {
            connect_slots: Some(Semaphore::new(SOAK_CONNECTS_IN_FLIGHT)),
            ..Soak::default()
        });
        rt.block_on({
            let soak = soak.clone();
            async move {
                let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
                let addr = listener.local_addr().unwrap();
                let server = eddy::spawn(soak_server(listener, soak.clone()));
                let monitor = eddy::spawn(soak_monitor(soak.clone(), start, run));
                let deadline = start + run;
                let probe = eddy::spawn(soak_lag_probe(soak.clone(), deadline));
                let mut workers = JoinSet::new();
                for w in 0..SOAK_WORKERS {
                    workers.spawn(soak_worker(w, addr, soak.clone(), deadline));
                }
                while let Some(result) = workers.join_next().await {
                    task_output(result);
                }
                task_output(monitor.await);
                task_output(probe.await);
                // Let the server finish what is left, then close it.
                let settled = timeout(Duration::from_secs(10), async {
                    while soak.server_open.get() > 0
                        || soak.accepted.get() + soak.accept_aborted.get() < soak.connects.get()
                    {
                        sleep(Duration::from_millis(5)).await;
                    }
                })
                .await;
                assert!(
                    settled.is_ok(),
                    "the server did not finish: {} connections open, {} accepted of {}",
                    soak.server_open.get(),
                    soak.accepted.get() + soak.accept_aborted.get(),
                    soak.connects.get()
                );
                server.abort();
                assert!(server.await.unwrap_err().is_cancelled());
            }
        });
        let metrics = rt.metrics();
        drop(rt);
        let elapsed = start.elapsed();
        let fds_after = open_fds();
        let hwm = status_kib("VmHWM");
        let (early, late) = (soak.rss_early.get().unwrap(), soak.rss_late.get().unwrap());

        eprintln!(
            "soak: {elapsed:.1?}: {} connections ({} completed, {} reset mid-transfer, \
             {} reset in the accept queue), {} in flight on average, {} at the peak; {} bytes echoed \
             (+{} verified before resets); timers: {} set, {} fired, {} cancelled \
             (runtime counted {} fired); loop lag {:.1?} on average, {:.1?} at most; RSS {early} KiB at 10%, {late} KiB at the end, \
             peak (VmHWM) {hwm} KiB; fds {} before, {} after",
            soak.connects.get(),
            soak.completed.get(),
            soak.resets.get(),
            soak.accept_aborted.get(),
            soak.in_flight_sum.get() / soak.in_flight_samples.get().max(1),
            soak.peak_in_flight.get(),
            soak.bytes_echoed.get(),
            soak.reset_bytes_verified.get(),
            soak.timers_set.get(),
            soak.timers_fired.get(),
            soak.timers_cancelled.get(),
            metrics.timers_fired,
            soak.lag_sum.get() / soak.lag_samples.get().max(1),
            soak.lag_max.get(),
            fds_before.len(),
            fds_after.len(),
        );

        let failures = soak.failures.borrow();
        assert!(failures.is_empty(), "failures: {failures:?}");
        // Nothing lost: every connection either completed with its echo
        // verified, or was reset; the server saw the same.
        assert_eq!(
            soak.completed.get() + soak.resets.get(),
            soak.connects.get(),
            "connections completed or reset"
        );
        assert_eq!(
            soak.server_eofs.get(),
            soak.completed.get(),
            "server: ends of stream"
        );
        assert_eq!(
            soak.server_resets.get() + soak.accept_aborted.get(),
            soak.resets.get(),
            "server: resets"
        );
        assert_eq!(
            soak.bytes_echoed.get(),
            soak.bytes_sent.get(),
            "bytes echoed to clients"
        );
        assert_eq!(
            soak.server_bytes.get(),
            soak.bytes_sent.get(),
            "bytes the server echoed"
        );
        assert_eq!(soak.in_flight.get(), 0);
        assert!(soak.completed.get() > 0 && soak.resets.get() > 0);
        assert!(soak.timers_fired.get() > 0 && soak.timers_cancelled.get() > 0);
        assert_eq!(metrics.tasks_alive, 0, "tasks alive after block_on");
        assert_same_fds(&fds_before, &fds_after);
        assert!(
            late < 2 * early,
            "RSS grew from {early} KiB (after 10% of the run) to {late} KiB (at its end)"
        );
    });
}
