//! tcp_echo: 50 connections doing 64-byte ping-pong over loopback, 200_000
//! round trips in all. The server runs, in turn, on eddy, on tokio's
//! current-thread runtime, and as a hand-written mio loop (the practical
//! limit); the client is the same plain mio loop on another thread for all
//! three.
//!
//! On two cores the client bounds the throughput, so besides wall time
//! (criterion group `tcp_echo`) the bench prints the server thread's CPU
//! time per round trip (`tcp_echo_server_cpu`: user + system from
//! `CLOCK_THREAD_CPUTIME_ID`, exact; median of per-round ratios to the raw loop) and its
//! syscalls per round trip (counted by the kernel's `raw_syscalls:sys_enter`
//! tracepoint through `perf_event_open`, when the machine allows it).
//!
//! Run: `cargo bench --bench net`.

use std::io::{self, Read, Write};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

mod common;
use common::*;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

const CONNS: usize = 50;
const ROUND_TRIPS: usize = 200_000;

/// What a server thread measured about itself.
#[derive(Default, Clone, Copy)]
struct ServerStats {
    cpu: Duration,
    syscalls: Option<u64>,
}

/// Runs `server` on its own thread and the mio client here; returns the
/// client's wall time and what the server measured.
fn run(server: Server) -> (Duration, ServerStats) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        pin_to_cpu(0);
        let mut syscalls = SyscallCounter::start();
        let (cpu0, sys0) = (thread_cpu(), syscalls.read());
        server(listener).unwrap();
        let (cpu1, sys1) = (thread_cpu(), syscalls.read());
        ServerStats {
            cpu: cpu1 - cpu0,
            syscalls: sys0.zip(sys1).map(|(a, b)| b - a),
        }
    });
    pin_to_cpu(1);
    let wall = common::echo::client(addr, CONNS, ROUND_TRIPS).unwrap();
    (wall, server.join().unwrap())
}

fn eddy_server(listener: std::net::TcpListener) -> io::Result<()> {
    let rt = eddy::Runtime::new()?;
    rt.block_on(async {
        let listener = eddy::net::TcpListener::from_std(listener)?;
        let mut conns = Vec::with_capacity(CONNS);
        for _ in 0..CONNS {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            conns.push(eddy::spawn(common::echo::eddy_echo(stream)));
        }
        for conn in conns {
            conn.await??;
        }
        Ok(())
    })
}

fn tokio_server(listener: std::net::TcpListener) -> io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let mut conns = Vec::with_capacity(CONNS);
        for _ in 0..CONNS {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            conns.push(tokio::spawn(common::echo::tokio_echo(stream)));
        }
        for conn in conns {
            conn.await.unwrap()?;
        }
        Ok(())
    })
}

/// The practical limit: one mio loop, no tasks, no wakers. It reads until
/// a short read (the buffer is drained) and writes back at once.
fn mio_server(listener: std::net::TcpListener) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    let mut listener = mio::net::TcpListener::from_std(listener);
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(1024);
    const LISTENER: Token = Token(usize::MAX);
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    // Each connection: its stream and the bytes it still owes the peer.
    let mut conns: slab::Slab<(TcpStream, Vec<u8>)> = slab::Slab::new();
    let (mut accepted, mut closed) = (0, 0);
    let mut buf = [0u8; 4096];
    while closed < CONNS {
        poll.poll(&mut events, None)?;
        for event in events.iter() {
            if event.token() == LISTENER {
                while accepted < CONNS {
                    match listener.accept() {
                        Ok((mut stream, _)) => {
                            stream.set_nodelay(true)?;
                            let entry = conns.vacant_entry();
                            poll.registry().register(
                                &mut stream,
                                Token(entry.key()),
                                Interest::READABLE | Interest::WRITABLE,
                            )?;
                            entry.insert((stream, Vec::new()));
                            accepted += 1;
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => return Err(e),
                    }
                }
                continue;
            }
            let key = event.token().0;
            let Some((stream, owed)) = conns.get_mut(key) else {
                continue;
            };
            let mut close = false;
            if event.is_writable() && !owed.is_empty() {
                match stream.write(owed) {
                    Ok(n) => drop(owed.drain(..n)),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
            }
            if event.is_readable() {
                loop {
                    match stream.read(&mut buf) {
                        Ok(0) => {
                            close = true;
                            break;
                        }
                        Ok(n) => {
                            if owed.is_empty() {
                                match stream.write(&buf[..n]) {
                                    Ok(w) => owed.extend_from_slice(&buf[w..n]),
                                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                                        owed.extend_from_slice(&buf[..n])
                                    }
                                    Err(e) => return Err(e),
                                }
                            } else {
                                owed.extend_from_slice(&buf[..n]);
                            }
                            if n < buf.len() && !event.is_read_closed() {
                                break; // short read: drained (unless EOF is next)
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => return Err(e),
                    }
                }
            }
            if close {
                let (mut stream, _) = conns.remove(key);
                poll.registry().deregister(&mut stream)?;
                closed += 1;
            }
        }
    }
    Ok(())
}

/// A server: runs until every client connection has closed.
type Server = fn(std::net::TcpListener) -> io::Result<()>;

const SERVERS: [(&str, Server); 3] = [
    ("eddy", eddy_server),
    ("tokio", tokio_server),
    ("mio", mio_server),
];

fn tcp_echo(c: &mut Criterion) {
    let mut g = c.benchmark_group("tcp_echo");
    g.sample_size(10);
    for (name, server) in SERVERS {
        g.bench_function(name, |b| {
            b.iter_custom(|iters| (0..iters).map(|_| run(server).0).sum())
        });
    }
    g.finish();
    server_cpu();
}

/// Server CPU and syscalls per round trip, compared with the raw mio loop.
///
/// Noise on a shared machine (frequency, the other core's load) drifts over
/// seconds and moves every server alike, so the three servers run in turn,
/// round after round (the order rotating), and each round gives a ratio to
/// the raw loop's run of that same round; the median ratio is reported.
fn server_cpu() {
    const ROUNDS: usize = 21;
    const MIO: usize = SERVERS.len() - 1;
    // cpu[round][server], syscalls[server][..]
    let mut cpu = vec![[0.0; SERVERS.len()]; ROUNDS];
    let mut syscalls: Vec<Vec<f64>> = vec![Vec::new(); SERVERS.len()];
    for (round, row) in cpu.iter_mut().enumerate() {
        for k in 0..SERVERS.len() {
            let i = (round + k) % SERVERS.len();
            let stats = run(SERVERS[i].1).1;
            row[i] = stats.cpu.as_nanos() as f64 / ROUND_TRIPS as f64;
            if let Some(s) = stats.syscalls {
                syscalls[i].push(s as f64 / ROUND_TRIPS as f64);
            }
        }
    }
    let ratios: Vec<f64> = (0..SERVERS.len())
        .map(|i| median(cpu.iter().map(|row| row[i] / row[MIO]).collect()))
        .collect();
    // eddy and tokio, each against the raw loop (SERVERS: eddy, tokio, mio).
    common::record_pair("tcp_echo_server_cpu", ratios[0], ratios[1]);
    for (i, (name, _)) in SERVERS.iter().enumerate() {
        let ratio = ratios[i];
        let sys = if syscalls[i].is_empty() {
            "n/a".to_string()
        } else {
            format!("{:.3}", median(syscalls[i].clone()))
        };
        println!(
            "tcp_echo_server_cpu/{name}: {:.3} µs per round trip, {ratio:.3}x the raw mio loop, \
             {sys} syscalls per round trip (medians of {ROUNDS} rounds)",
            median(cpu.iter().map(|row| row[i]).collect()) / 1000.0,
        );
    }
}

criterion_group!(benches, tcp_echo);
criterion_main!(benches);
