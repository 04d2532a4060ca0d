//! tcp_echo with the server on N threads, for N = 1 .. the CPUs: eddy's
//! `ThreadPerCore` with one `SO_REUSEPORT` listener per worker (not
//! pinned, the default, and pinned), beside tokio's multi-threaded runtime
//! with N workers on one listener, and beside N tokio current-thread
//! runtimes with `SO_REUSEPORT` listeners.
//!
//! The client is `benches/common/echo.rs`'s plain mio loop (as in
//! `net.rs`), on client threads of its own: by default as many as server
//! threads, 50 connections and 100_000 round trips of 64 bytes each.
//! Reported per N: round trips per second (client wall time), and the
//! server's CPU time per round trip: user + system of the server's threads
//! only (every worker thread, and the thread that started them), read from
//! each thread's CPU clock (`pthread_getcpuclockid`) just before the
//! client starts and once the server has seen every connection close.
//! The three servers run in turn, round after round (the order rotating),
//! and medians are reported; the ratios are medians of each round's ratio.
//!
//! Run: `cargo bench --bench scale` (N = 1 .. the CPUs this process may
//! use), or give the counts: `cargo bench --bench scale -- 1 2 4 8`.
//! Environment: `EDDY_SCALE_CLIENTS` (client threads; default N),
//! `EDDY_SCALE_ROUNDS` (default 7). It prints a markdown table and writes
//! `benches/scaling.svg`. On a machine with few CPUs the client shares them
//! with the server: the throughput then shows the machine, not the
//! servers, and the CPU per round trip is the number to compare.

mod common;

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use common::echo;
use common::median;

const CONNS_PER_CLIENT: usize = 50;
const ROUND_TRIPS_PER_CLIENT: usize = 100_000;

/// What a server's threads share with the bench's main thread.
struct Probe {
    /// The CPU clock of every server thread.
    clocks: Mutex<Vec<libc::clockid_t>>,
    /// Connections the server has seen end.
    closed: Mutex<usize>,
    changed: Condvar,
    conns: usize,
}

impl Probe {
    fn new(conns: usize) -> Probe {
        Probe {
            clocks: Mutex::new(Vec::new()),
            closed: Mutex::new(0),
            changed: Condvar::new(),
            conns,
        }
    }

    /// Counts the calling thread as one of the server's.
    fn register(&self) {
        self.clocks.lock().unwrap().push(common::thread_cpu_clock());
        self.changed.notify_all();
    }

    fn wait_registered(&self, threads: usize) {
        let mut clocks = self.clocks.lock().unwrap();
        while clocks.len() < threads {
            clocks = self.changed.wait(clocks).unwrap();
        }
    }

    /// CPU time of all the server's threads so far.
    fn cpu(&self) -> Duration {
        let clocks = self.clocks.lock().unwrap();
        clocks.iter().map(|&c| common::cpu_on(c)).sum()
    }

    fn connection_closed(&self) {
        let mut closed = self.closed.lock().unwrap();
        *closed += 1;
        if *closed == self.conns {
            self.changed.notify_all();
        }
    }

    fn wait_all_closed(&self) {
        let mut closed = self.closed.lock().unwrap();
        while *closed < self.conns {
            closed = self.changed.wait(closed).unwrap();
        }
    }
}

/// What a server is given: how many threads, where to listen, and how to
/// report. It calls `ready` once per listener, and returns once `stop`
/// closes.
struct Setup {
    n: usize,
    addr: SocketAddr,
    probe: Arc<Probe>,
    ready: mpsc::Sender<()>,
    stop: async_channel::Receiver<()>,
}

struct Server {
    name: &'static str,
    run: fn(Setup),
    /// How many listeners it makes for `n` threads.
    listeners: fn(usize) -> usize,
}

const SERVERS: [Server; 4] = [
    Server {
        name: "eddy ThreadPerCore + SO_REUSEPORT",
        run: |setup| eddy_thread_per_core(setup, false),
        listeners: |n| n,
    },
    Server {
        name: "eddy ThreadPerCore, pinned",
        run: |setup| eddy_thread_per_core(setup, true),
        listeners: |n| n,
    },
    Server {
        name: "tokio multi_thread, one listener",
        run: tokio_multi_thread,
        listeners: |_| 1,
    },
    Server {
        name: "N tokio current_thread + SO_REUSEPORT",
        run: tokio_current_threads,
        listeners: |n| n,
    },
];

/// The indexes in `SERVERS` of eddy's two servers and tokio's two.
const EDDY: [usize; 2] = [0, 1];
const TOKIO_MULTI: usize = 2;
const TOKIO_CURRENT: usize = 3;

fn eddy_thread_per_core(setup: Setup, pin: bool) {
    let Setup {
        n,
        addr,
        probe,
        ready,
        stop,
    } = setup;
    probe.register();
    let results = eddy::runtime::ThreadPerCore::new()
        .threads(n)
        .pin(pin)
        .run(|_worker| {
            let (probe, ready, stop) = (Arc::clone(&probe), ready.clone(), stop.clone());
            async move {
                probe.register();
                let socket = eddy::net::TcpSocket::new_v4().unwrap();
                socket.set_reuseport(true).unwrap();
                socket.bind(addr).unwrap();
                let listener = socket.listen(1024).unwrap();
                ready.send(()).unwrap();
                let acceptor = eddy::spawn(async move {
                    loop {
                        let (stream, _) = listener.accept().await.unwrap();
                        stream.set_nodelay(true).unwrap();
                        let probe = Arc::clone(&probe);
                        eddy::spawn(async move {
                            echo::eddy_echo(stream).await.unwrap();
                            probe.connection_closed();
                        });
                    }
                });
                let _ = stop.recv().await;
                acceptor.abort();
            }
        });
    for result in results {
        result.unwrap();
    }
}

/// A tokio listener with `SO_REUSEPORT` on `addr` (inside a runtime).
fn tokio_listener(addr: SocketAddr) -> tokio::net::TcpListener {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_reuseport(true).unwrap();
    socket.bind(addr).unwrap();
    socket.listen(1024).unwrap()
}

/// Accepts on `listener` and serves each connection in a task of its own
/// until `stop` closes.
async fn tokio_serve(
    listener: tokio::net::TcpListener,
    probe: Arc<Probe>,
    stop: async_channel::Receiver<()>,
) {
    let acceptor = tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            stream.set_nodelay(true).unwrap();
            let probe = Arc::clone(&probe);
            tokio::spawn(async move {
                echo::tokio_echo(stream).await.unwrap();
                probe.connection_closed();
            });
        }
    });
    let _ = stop.recv().await;
    acceptor.abort();
}

fn tokio_multi_thread(setup: Setup) {
    let Setup {
        n,
        addr,
        probe,
        ready,
        stop,
    } = setup;
    probe.register();
    let on_start = Arc::clone(&probe);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(n)
        .enable_all()
        .on_thread_start(move || on_start.register())
        .build()
        .unwrap();
    rt.block_on(async {
        let listener = tokio_listener(addr);
        ready.send(()).unwrap();
        tokio_serve(listener, probe, stop).await;
    });
}

fn tokio_current_threads(setup: Setup) {
    let Setup {
        n,
        addr,
        probe,
        ready,
        stop,
    } = setup;
    probe.register();
    thread::scope(|scope| {
        for i in 0..n {
            let (probe, ready, stop) = (Arc::clone(&probe), ready.clone(), stop.clone());
            // Named, so that a profile tells the servers' threads apart.
            let thread = thread::Builder::new().name(format!("tokio-current-{i}"));
            let serve = move || {
                probe.register();
                common::tokio_rt().block_on(async {
                    let listener = tokio_listener(addr);
                    ready.send(()).unwrap();
                    tokio_serve(listener, probe, stop).await;
                });
            };
            thread.spawn_scoped(scope, serve).unwrap();
        }
    });
}

/// One run's numbers.
#[derive(Clone, Copy)]
struct Sample {
    round_trips_per_sec: f64,
    /// Server CPU per round trip, in µs.
    cpu_us: f64,
}

/// Runs `server` on `n` threads against `clients` client threads.
fn run(server: &Server, n: usize, clients: usize) -> Sample {
    let conns = CONNS_PER_CLIENT * clients;
    let round_trips = ROUND_TRIPS_PER_CLIENT * clients;
    // A socket that never listens holds a free port until the server's
    // listeners share it.
    let placeholder = eddy::net::TcpSocket::new_v4().unwrap();
    placeholder.set_reuseport(true).unwrap();
    placeholder.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = placeholder.local_addr().unwrap();
    let probe = Arc::new(Probe::new(conns));
    let (ready_tx, ready_rx) = mpsc::channel();
    let (stop_tx, stop_rx) = async_channel::bounded(1);
    let setup = Setup {
        n,
        addr,
        probe: Arc::clone(&probe),
        ready: ready_tx,
        stop: stop_rx,
    };
    let run_server = server.run;
    let server_thread = thread::spawn(move || run_server(setup));
    for _ in 0..(server.listeners)(n) {
        ready_rx.recv().expect("the server failed to start");
    }
    // Every worker thread and the one that started them.
    probe.wait_registered(n + 1);
    drop(placeholder);

    let cpu0 = probe.cpu();
    let wall = echo::clients(addr, clients, conns, round_trips).unwrap();
    probe.wait_all_closed();
    let cpu = probe.cpu() - cpu0;
    stop_tx.close();
    server_thread.join().unwrap();
    Sample {
        round_trips_per_sec: round_trips as f64 / wall.as_secs_f64(),
        cpu_us: cpu.as_secs_f64() * 1e6 / round_trips as f64,
    }
}

/// The medians for one N: per server, and the CPU ratios of each eddy
/// server to tokio's two (medians of the per-round ratios).
struct Row {
    n: usize,
    clients: usize,
    samples: [Sample; 4],
    /// `[eddy server][0: tokio multi_thread, 1: tokio current_thread]`.
    ratios: [[f64; 2]; 2],
}

fn measure(n: usize, clients: usize, rounds: usize) -> Row {
    let mut per_round = vec![
        [Sample {
            round_trips_per_sec: 0.0,
            cpu_us: 0.0,
        }; 4];
        rounds
    ];
    for (round, row) in per_round.iter_mut().enumerate() {
        for k in 0..SERVERS.len() {
            let i = (round + k) % SERVERS.len();
            row[i] = run(&SERVERS[i], n, clients);
        }
    }
    let col =
        |i: usize, f: fn(&Sample) -> f64| median(per_round.iter().map(|r| f(&r[i])).collect());
    let samples = [0, 1, 2, 3].map(|i| Sample {
        round_trips_per_sec: col(i, |s| s.round_trips_per_sec),
        cpu_us: col(i, |s| s.cpu_us),
    });
    let ratio = |e: usize, t: usize| {
        median(
            per_round
                .iter()
                .map(|r| r[e].cpu_us / r[t].cpu_us)
                .collect(),
        )
    };
    Row {
        n,
        clients,
        samples,
        ratios: EDDY.map(|e| [ratio(e, TOKIO_MULTI), ratio(e, TOKIO_CURRENT)]),
    }
}

/// The server thread counts: the numbers among the arguments (`cargo
/// bench` adds `--bench`), else 1 .. the CPUs this process may use.
fn thread_counts() -> Vec<usize> {
    let given: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .filter(|&n| n > 0)
        .collect();
    if !given.is_empty() {
        return given;
    }
    let cpus = thread::available_parallelism().map_or(1, usize::from);
    (1..=cpus).collect()
}

fn env_number(name: &str) -> Option<usize> {
    std::env::var(name).ok()?.parse().ok().filter(|&n| n > 0)
}

fn main() {
    let counts = thread_counts();
    let rounds = env_number("EDDY_SCALE_ROUNDS").unwrap_or(7);
    let cpus = thread::available_parallelism().map_or(1, usize::from);
    println!(
        "tcp_echo over N server threads; {cpus} CPUs here, shared by the client threads \
         ({CONNS_PER_CLIENT} connections and {ROUND_TRIPS_PER_CLIENT} round trips of {} B \
         per client thread); medians of {rounds} rounds",
        echo::MSG
    );
    let mut rows = Vec::new();
    for &n in &counts {
        let clients = env_number("EDDY_SCALE_CLIENTS").unwrap_or(n);
        let row = measure(n, clients, rounds);
        print_row(&row);
        rows.push(row);
    }
    println!();
    println!("| N | client threads | server | round trips/s | server CPU per round trip |");
    println!("|---|---|---|---|---|");
    for row in &rows {
        for (server, s) in SERVERS.iter().zip(&row.samples) {
            println!(
                "| {} | {} | {} | {:.0} | {:.2} µs |",
                row.n, row.clients, server.name, s.round_trips_per_sec, s.cpu_us
            );
        }
        for (e, [multi, current]) in EDDY.into_iter().zip(row.ratios) {
            println!(
                "| {} | | {} / tokio multi_thread, CPU | | **{multi:.2}** (goal ≤ 0.85) |",
                row.n, SERVERS[e].name
            );
            println!(
                "| {} | | {} / N tokio current_thread, CPU | | **{current:.2}** (goal ≤ 1.0) |",
                row.n, SERVERS[e].name
            );
        }
    }
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("scaling.svg");
    match std::fs::write(&out, svg(&rows, cpus)) {
        Ok(()) => println!("wrote {}", out.display()),
        Err(e) => eprintln!("could not write {}: {e}", out.display()),
    }
}

fn print_row(row: &Row) {
    for (server, s) in SERVERS.iter().zip(&row.samples) {
        println!(
            "N = {}: {:<40} {:>9.0} round trips/s, {:.3} µs server CPU per round trip",
            row.n, server.name, s.round_trips_per_sec, s.cpu_us
        );
    }
    for (e, [multi, current]) in EDDY.into_iter().zip(row.ratios) {
        println!(
            "N = {}: {}: server CPU per round trip {multi:.3}x tokio multi_thread's, \
             {current:.3}x N tokio current_thread's",
            row.n, SERVERS[e].name
        );
    }
}

const COLORS: [&str; 4] = ["#3a8f5c", "#7fc79a", "#d9822b", "#4a6fb5"];

/// Two panels side by side (round trips per second; server CPU per round
/// trip), N on the x axis, a line per server, the values in a table below.
fn svg(rows: &[Row], cpus: usize) -> String {
    const W: f64 = 360.0; // a panel's plot area
    const H: f64 = 220.0;
    const LEFT: f64 = 70.0;
    const TOP: f64 = 125.0;
    const GAP: f64 = 90.0;
    let width = LEFT + 2.0 * W + GAP + 30.0;
    let height = TOP + H + 105.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="10" y="22" font-size="15" font-weight="bold">tcp_echo with the server on N threads</text>"#
    );
    let _ = writeln!(
        s,
        r#"<text x="10" y="40" fill="dimgray">{cpus} CPUs, shared with the client's threads; medians of the rounds</text>"#
    );
    for (i, server) in SERVERS.iter().enumerate() {
        // Two columns of two.
        let (x, y) = (10.0 + 380.0 * (i / 2) as f64, 56.0 + 18.0 * (i % 2) as f64);
        let _ = writeln!(
            s,
            r#"<rect x="{x}" y="{y}" width="12" height="12" fill="{}"/><text x="{}" y="{}">{}</text>"#,
            COLORS[i],
            x + 18.0,
            y + 10.0,
            server.name
        );
    }
    panel(
        &mut s,
        rows,
        (LEFT, TOP, W, H),
        "round trips per second (higher is better)",
        |sample| sample.round_trips_per_sec,
        |v| format!("{:.0}k", v / 1000.0),
    );
    panel(
        &mut s,
        rows,
        (LEFT + W + GAP, TOP, W, H),
        "server CPU per round trip, µs (lower is better)",
        |sample| sample.cpu_us,
        |v| format!("{v:.2}"),
    );
    s.push_str("</svg>\n");
    s
}

/// The smallest of 1, 2, 2.5, 5 times a power of ten that is at least `v`.
fn nice_ceiling(v: f64) -> f64 {
    let scale = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * scale)
        .find(|&c| c >= v)
        .unwrap_or(10.0 * scale)
}

/// One panel at `(left, top, width, height)`: axes, ticks, a line per
/// server, and a row of values per server under the N labels.
fn panel(
    s: &mut String,
    rows: &[Row],
    (left, top, w, h): (f64, f64, f64, f64),
    title: &str,
    value: fn(&Sample) -> f64,
    label: fn(f64) -> String,
) {
    let max = nice_ceiling(
        rows.iter()
            .flat_map(|r| r.samples.iter().map(value))
            .fold(f64::MIN_POSITIVE, f64::max)
            * 1.05,
    );
    let x = |k: usize| left + w * (k as f64 + 0.5) / rows.len() as f64;
    let y = |v: f64| top + h - h * v / max;
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle" font-weight="bold">{title}</text>"#,
        left + w / 2.0,
        top - 12.0
    );
    for t in 0..=4 {
        let v = max * t as f64 / 4.0;
        let (right, at, text_x) = (left + w, y(v), left - 6.0);
        let _ = writeln!(
            s,
            r##"<line x1="{left}" x2="{right}" y1="{at:.1}" y2="{at:.1}" stroke="#e4e4e4"/><text x="{text_x}" y="{:.1}" text-anchor="end" fill="dimgray">{}</text>"##,
            at + 4.0,
            label(v)
        );
    }
    let _ = writeln!(
        s,
        r#"<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="gray"/>"#
    );
    for (k, row) in rows.iter().enumerate() {
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{}" text-anchor="middle" font-weight="bold">N = {}</text>"#,
            x(k),
            top + h + 18.0,
            row.n
        );
    }
    for (i, color) in COLORS.iter().enumerate() {
        let points: Vec<String> = rows
            .iter()
            .enumerate()
            .map(|(k, r)| format!("{:.1},{:.1}", x(k), y(value(&r.samples[i]))))
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"/>"#,
            points.join(" ")
        );
        for (k, row) in rows.iter().enumerate() {
            let v = value(&row.samples[i]);
            let _ = writeln!(
                s,
                r#"<circle cx="{0:.1}" cy="{1:.1}" r="4" fill="{color}"/><text x="{0:.1}" y="{2:.1}" text-anchor="middle" fill="{color}">{3}</text>"#,
                x(k),
                y(v),
                top + h + 36.0 + 15.0 * i as f64,
                label(v)
            );
        }
    }
}
