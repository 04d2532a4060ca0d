//! http_hello: hyper's HTTP/1.1 server answering "hello", on eddy (through
//! `eddy::hyper::serve`) and on tokio's current-thread runtime (hyper-util's
//! `TokioIo` and `TokioTimer`), with the same hyper settings: keep-alive,
//! a 30 s header read timeout on the runtime's timer, `TCP_NODELAY`.
//!
//! The load is the same plain mio client on another thread for both: 50
//! keep-alive connections, each sending its next request when the answer
//! to the last one has come, 40_000 requests a run. The server runs on CPU
//! 0 and the client on CPU 1, where allowed.
//!
//! Besides the criterion group (`http_hello`, the wall time of a run), the
//! two servers run in turn, round after round (the order alternating, as
//! `remote_wake_in_turn` in benches/executor.rs), and each round gives the
//! ratios eddy/tokio of: the server thread's CPU time per request (user +
//! system, `CLOCK_THREAD_CPUTIME_ID`), recorded as `http_hello_server_cpu`;
//! its user CPU alone (`getrusage(RUSAGE_THREAD)`), where the runtimes
//! differ (four fifths of the total is the kernel's socket work, the same
//! for both), recorded as `http_hello_server_user_cpu`; the wall time per
//! request (the inverse of requests per second), recorded as
//! `http_hello_in_turn`. It prints both servers' requests per second, CPU
//! per request and syscalls per request (medians; the syscalls are counted
//! in one more run each, since the counting tracepoint costs CPU).
//!
//! The user CPU ratio is the least precise of the three. Where the kernel
//! accounts CPU time at the tick (`CONFIG_TICK_CPU_ACCOUNTING`, the usual
//! build, 250 Hz here), only the total is exact: the user/system split is
//! sampled at each tick, and a run has some 15 user ticks, so a round's
//! ratio ranges over 0.3 to 1.2 and the median of 31 moves by about 0.1
//! from one `cargo bench` to the next. The quartiles of the rounds' ratios
//! are printed beside each median to show that spread. For user space, an
//! exact count of instructions is steadier: run `HTTP_ONLY=eddy` under
//! `valgrind --tool=callgrind --separate-threads=yes` (the server thread's
//! own file; tokio likewise) and compare per function.
//!
//! Run: `cargo bench --features hyper --bench http` (from the workspace
//! root: the feature is eddy's and this package's). `HTTP_ONLY=eddy` (or
//! `tokio`) runs only that server, 15 runs, for a profiler (the server
//! threads are named `eddy-server` and `tokio-server`).

use std::convert::Infallible;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

mod common;
use common::*;

const CONNS: usize = 50;
const REQUESTS: usize = 40_000;
const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n";

/// The service both servers run.
async fn hello(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(b"hello"))))
}

/// What a server thread measured about itself.
#[derive(Clone, Copy)]
struct ServerStats {
    /// User + system.
    cpu: Duration,
    /// User only: where the runtimes differ (the kernel's share, the
    /// sockets', is the same work for both).
    user: Duration,
    syscalls: Option<u64>,
}

/// The calling thread's user CPU time (`getrusage(RUSAGE_THREAD)`, in µs).
fn thread_user_cpu() -> Duration {
    // SAFETY: an all-zero `rusage` is a valid value of the plain C struct,
    // and getrusage only writes into it.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_THREAD, &mut usage);
        usage
    };
    Duration::new(
        usage.ru_utime.tv_sec as u64,
        usage.ru_utime.tv_usec as u32 * 1000,
    )
}

/// One run: the server on its own thread, the client here, until the
/// client has made its requests and closed its connections. Returns the
/// client's wall time and what the server measured. Counting syscalls
/// (a tracepoint) costs the server CPU in each one, so the runs that
/// measure CPU do not count them.
fn run((name, server): (&str, Server), count_syscalls: bool) -> (Duration, ServerStats) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (done_tx, done_rx) = futures::channel::oneshot::channel::<()>();
    // Named for profilers: `perf report --comm eddy-server`.
    let thread = std::thread::Builder::new().name(format!("{name}-server"));
    let server = thread.spawn(move || {
        pin_to_cpu(0);
        let mut syscalls = count_syscalls.then(SyscallCounter::start);
        let mut count = || syscalls.as_mut().and_then(SyscallCounter::read);
        let (cpu0, user0, sys0) = (thread_cpu(), thread_user_cpu(), count());
        server(listener, done_rx).unwrap();
        let (cpu1, user1, sys1) = (thread_cpu(), thread_user_cpu(), count());
        ServerStats {
            cpu: cpu1 - cpu0,
            user: user1 - user0,
            syscalls: sys0.zip(sys1).map(|(a, b)| b - a),
        }
    });
    let server = server.unwrap();
    pin_to_cpu(1);
    let wall = client(addr).unwrap();
    let _ = done_tx.send(());
    (wall, server.join().unwrap())
}

/// The length of the first complete response in `buf`, if there is one
/// (a head, then `content-length` bytes of body).
fn response_len(buf: &[u8]) -> Option<usize> {
    let head = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let text = std::str::from_utf8(&buf[..head]).expect("a UTF-8 head");
    let length: usize = text
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .map(|(_, value)| value.trim().parse().expect("a content-length"))
        .expect("the hello response has a content-length");
    (buf.len() >= head + length).then_some(head + length)
}

/// The load generator: `CONNS` keep-alive connections, each sending its
/// next request when the last answer is in.
fn client(addr: SocketAddr) -> io::Result<Duration> {
    struct Conn {
        stream: TcpStream,
        left: usize,
        buf: Vec<u8>,
        started: bool,
    }
    let start = Instant::now();
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(256);
    let mut conns = Vec::with_capacity(CONNS);
    for i in 0..CONNS {
        let mut stream = TcpStream::connect(addr)?;
        poll.registry().register(
            &mut stream,
            Token(i),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        conns.push(Some(Conn {
            stream,
            left: REQUESTS / CONNS,
            buf: Vec::with_capacity(1024),
            started: false,
        }));
    }
    let mut chunk = [0u8; 4096];
    let mut open = CONNS;
    while open > 0 {
        poll.poll(&mut events, None)?;
        for event in events.iter() {
            let i = event.token().0;
            let Some(conn) = conns[i].as_mut() else {
                continue;
            };
            if event.is_writable() && !conn.started {
                conn.stream.set_nodelay(true)?;
                conn.stream.write_all(REQUEST)?;
                conn.started = true;
            }
            if !event.is_readable() {
                continue;
            }
            loop {
                match conn.stream.read(&mut chunk) {
                    Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                    Ok(n) => {
                        conn.buf.extend_from_slice(&chunk[..n]);
                        if n < chunk.len() {
                            break;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e),
                }
            }
            while let Some(len) = response_len(&conn.buf) {
                assert!(conn.buf.starts_with(b"HTTP/1.1 200 OK\r\n"));
                conn.buf.drain(..len);
                conn.left -= 1;
                if conn.left > 0 {
                    conn.stream.write_all(REQUEST)?;
                }
            }
            if conn.left == 0 {
                conns[i] = None; // closes it
                open -= 1;
            }
        }
    }
    Ok(start.elapsed())
}

/// eddy: `serve`, shut down gracefully when the client is done.
fn eddy_server(
    listener: std::net::TcpListener,
    done: futures::channel::oneshot::Receiver<()>,
) -> io::Result<()> {
    let rt = eddy::Runtime::new()?;
    rt.block_on(async {
        let listener = eddy::net::TcpListener::from_std(listener)?;
        let service = hyper::service::service_fn(hello);
        eddy::hyper::serve(listener, service)
            .with_graceful_shutdown(done)
            .await
    })
}

/// tokio: hyper's HTTP/1.1 builder with the settings `serve` uses, a task
/// per connection, until the client is done.
fn tokio_server(
    listener: std::net::TcpListener,
    done: futures::channel::oneshot::Receiver<()>,
) -> io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let rt = tokio_rt();
    rt.block_on(async {
        listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let mut http1 = hyper::server::conn::http1::Builder::new();
        http1
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_secs(30))
            .keep_alive(true);
        let mut done = done;
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let (stream, _) = accepted?;
                    stream.set_nodelay(true)?;
                    let conn = http1.serve_connection(
                        TokioIo::new(stream),
                        hyper::service::service_fn(hello),
                    );
                    tokio::spawn(async move {
                        let _ = conn.await;
                    });
                }
                _ = &mut done => return Ok(()),
            }
        }
    })
}

/// A server: serves until the receiver completes (the client is done).
type Server = fn(std::net::TcpListener, futures::channel::oneshot::Receiver<()>) -> io::Result<()>;

const SERVERS: [(&str, Server); 2] = [("eddy", eddy_server), ("tokio", tokio_server)];

fn http_hello(c: &mut Criterion) {
    // For a profiler: `HTTP_ONLY=eddy` (or `tokio`) runs one server only.
    if let Ok(only) = std::env::var("HTTP_ONLY") {
        let server = SERVERS.into_iter().find(|s| s.0 == only);
        let server = server.expect("HTTP_ONLY is `eddy` or `tokio`");
        for _ in 0..15 {
            run(server, false);
        }
        return;
    }
    let mut g = c.benchmark_group("http_hello");
    g.sample_size(10);
    for server in SERVERS {
        g.bench_function(server.0, |b| {
            b.iter_custom(|iters| (0..iters).map(|_| run(server, false).0).sum())
        });
    }
    g.finish();
    in_turn();
}

/// eddy and tokio in turn, round after round; medians of per-round ratios.
fn in_turn() {
    const ROUNDS: usize = 31;
    let per_request = |d: Duration| d.as_nanos() as f64 / REQUESTS as f64;
    // [server] -> per round: (wall, cpu, user cpu), in ns per request
    let mut rows: [Vec<[f64; 3]>; 2] = [Vec::new(), Vec::new()];
    for round in 0..ROUNDS {
        for k in 0..2 {
            let i = (round + k) % 2;
            let (wall, stats) = run(SERVERS[i], false);
            rows[i].push([wall, stats.cpu, stats.user].map(per_request));
        }
    }
    // Per measure: the rounds' ratios, sorted, to give medians and quartiles.
    let ratios = |m: usize| {
        let mut v: Vec<f64> = (0..ROUNDS).map(|r| rows[0][r][m] / rows[1][r][m]).collect();
        v.sort_by(|a, b| a.total_cmp(b));
        v
    };
    let (wall, cpu, user) = (ratios(0), ratios(1), ratios(2));
    let (wall_ratio, cpu_ratio, user_ratio) = (
        median(wall.clone()),
        median(cpu.clone()),
        median(user.clone()),
    );
    let quartiles = |v: &[f64]| format!("{:.2}..{:.2}", v[v.len() / 4], v[v.len() * 3 / 4]);
    common::record_pair("http_hello_server_cpu", cpu_ratio, 1.0);
    common::record_pair("http_hello_server_user_cpu", user_ratio, 1.0);
    common::record_pair("http_hello_in_turn", wall_ratio, 1.0);
    for (i, server) in SERVERS.iter().enumerate() {
        let m = |k: usize| median(rows[i].iter().map(|r| r[k]).collect());
        let syscalls = match run(*server, true).1.syscalls {
            Some(n) => format!("{:.2}", n as f64 / REQUESTS as f64),
            None => "n/a".to_string(),
        };
        println!(
            "http_hello/{}: {:.0} requests/s, server CPU {:.2} µs per request ({:.2} µs user), \
             {syscalls} syscalls per request (medians of {ROUNDS} rounds; syscalls from one \
             more)",
            server.0,
            1e9 / m(0),
            m(1) / 1000.0,
            m(2) / 1000.0,
        );
    }
    println!(
        "http_hello: eddy/tokio server CPU per request {cpu_ratio:.3} [{}] (user CPU \
         {user_ratio:.3} [{}], sampled at the tick), wall time per request {wall_ratio:.3} [{}] \
         (medians of {ROUNDS} rounds' ratios [quartiles])",
        quartiles(&cpu),
        quartiles(&user),
        quartiles(&wall),
    );
}

criterion_group!(benches, http_hello);
criterion_main!(benches);
