//! Integration tests for thread per core (API.md, "Thread per core"):
//! `eddy::net::TcpSocket` and `eddy::runtime::ThreadPerCore`.
//!
//! Workers wait for each other on channels (async-channel, which works
//! across runtimes), never on a sleep. The test that lowers
//! `RLIMIT_NOFILE` runs in a child process of its own.

mod common;

use std::cell::Cell;
use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use common::*;
use eddy::net::{TcpListener, TcpSocket, TcpStream};
use eddy::runtime::{ThreadPerCore, Worker};

fn localhost() -> SocketAddr {
    (Ipv4Addr::LOCALHOST, 0).into()
}

/// A reuseport socket bound to `addr`.
fn reuseport_socket(addr: SocketAddr) -> TcpSocket {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_reuseport(true).unwrap();
    socket.bind(addr).unwrap();
    socket
}

/// The CPUs this thread may run on, by `sched_getaffinity`.
fn affinity() -> Vec<usize> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set, filled by the call.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is writable for the size passed.
    let r = unsafe { libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set) };
    assert_eq!(
        r,
        0,
        "sched_getaffinity: {}",
        std::io::Error::last_os_error()
    );
    (0..libc::CPU_SETSIZE as usize)
        // SAFETY: `cpu` is below CPU_SETSIZE.
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .collect()
}

// ---------------------------------------------------------------------------
// TcpSocket
// ---------------------------------------------------------------------------

#[test]
fn socket_options_round_trip() {
    watchdog(LIMIT, || {
        // No runtime needed to make and configure a socket.
        let s = TcpSocket::new_v4().unwrap();
        assert!(!s.reuseport().unwrap());
        s.set_reuseport(true).unwrap();
        assert!(s.reuseport().unwrap());
        s.set_reuseport(false).unwrap();
        assert!(!s.reuseport().unwrap());

        s.set_reuseaddr(true).unwrap();
        assert!(s.reuseaddr().unwrap());
        s.set_reuseaddr(false).unwrap();
        assert!(!s.reuseaddr().unwrap());

        assert!(!s.nodelay().unwrap());
        s.set_nodelay(true).unwrap();
        assert!(s.nodelay().unwrap());

        // Linux doubles the value it is given (and caps it at wmem_max /
        // rmem_max, which are well above 16 KiB everywhere).
        s.set_send_buffer_size(16 * 1024).unwrap();
        assert!(s.send_buffer_size().unwrap() >= 16 * 1024);
        s.set_recv_buffer_size(16 * 1024).unwrap();
        assert!(s.recv_buffer_size().unwrap() >= 16 * 1024);
        // Huge sizes are capped, not an error.
        s.set_send_buffer_size(u32::MAX).unwrap();
        s.set_recv_buffer_size(u32::MAX).unwrap();

        assert!(!s.keepalive().unwrap());
        s.set_keepalive(true).unwrap();
        assert!(s.keepalive().unwrap());
        s.set_keepalive(false).unwrap();
        assert!(!s.keepalive().unwrap());

        assert_eq!(s.linger().unwrap(), None);
        s.set_linger(Some(Duration::from_secs(3))).unwrap();
        assert_eq!(s.linger().unwrap(), Some(Duration::from_secs(3)));
        // Whole seconds: rounded down.
        s.set_linger(Some(Duration::from_millis(2500))).unwrap();
        assert_eq!(s.linger().unwrap(), Some(Duration::from_secs(2)));
        s.set_linger(Some(Duration::ZERO)).unwrap();
        assert_eq!(s.linger().unwrap(), Some(Duration::ZERO));
        // Duration::MAX saturates instead of overflowing.
        s.set_linger(Some(Duration::MAX)).unwrap();
        assert_eq!(
            s.linger().unwrap(),
            Some(Duration::from_secs(i32::MAX as u64))
        );
        s.set_linger(None).unwrap();
        assert_eq!(s.linger().unwrap(), None);

        // Before bind, the unspecified address; after, the bound one.
        assert_eq!(s.local_addr().unwrap(), "0.0.0.0:0".parse().unwrap());
        s.bind(localhost()).unwrap();
        let addr = s.local_addr().unwrap();
        assert_eq!(addr.ip(), Ipv4Addr::LOCALHOST);
        assert_ne!(addr.port(), 0);
    });
}

#[test]
fn socket_options_carry_over_to_listener_and_stream() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let s = reuseport_socket(localhost());
            s.set_nodelay(true).unwrap();
            let addr = s.local_addr().unwrap();
            let listener = s.listen(16).unwrap();
            assert_eq!(listener.local_addr().unwrap(), addr);

            let client = TcpSocket::new_v4().unwrap();
            client.set_nodelay(true).unwrap();
            client.set_keepalive(true).unwrap();
            let (stream, accepted) = futures::join!(client.connect(addr), listener.accept());
            let stream = stream.unwrap();
            let (server_side, peer) = accepted.unwrap();
            assert_eq!(peer, stream.local_addr().unwrap());
            assert!(stream.nodelay().unwrap());
            // Accepted sockets inherit TCP_NODELAY from the listener on Linux.
            assert!(server_side.nodelay().unwrap());
            stream.write_all(b"ping").await.unwrap();
            let mut buf = [0; 4];
            server_side.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"ping");
        });
    });
}

#[test]
fn socket_connect_from_a_bound_source_address() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let listener = TcpListener::bind(localhost()).unwrap();
            let source = TcpSocket::new_v4().unwrap();
            source.bind(localhost()).unwrap();
            let from = source.local_addr().unwrap();
            let stream = source
                .connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            assert_eq!(stream.local_addr().unwrap(), from);
            let (_, peer) = listener.accept().await.unwrap();
            assert_eq!(peer, from);
        });
    });
}

#[test]
fn socket_v6_binds_where_the_system_has_ipv6() {
    watchdog(LIMIT, || {
        let s = match TcpSocket::new_v6() {
            Ok(s) => s,
            Err(e) => return eprintln!("no IPv6 sockets here ({e}); skipped"),
        };
        s.set_reuseport(true).unwrap();
        match s.bind("[::1]:0".parse().unwrap()) {
            Ok(()) => {
                let addr = s.local_addr().unwrap();
                assert!(addr.is_ipv6() && addr.ip().is_loopback() && addr.port() != 0);
                eddy::block_on(async move {
                    let listener = s.listen(8).unwrap();
                    let (stream, accepted) =
                        futures::join!(TcpStream::connect(addr), listener.accept());
                    assert_eq!(accepted.unwrap().1, stream.unwrap().local_addr().unwrap());
                });
            }
            Err(e) if e.kind() == ErrorKind::AddrNotAvailable => {
                eprintln!("no IPv6 loopback here ({e}); skipped")
            }
            Err(e) => panic!("bind [::1]:0: {e}"),
        }
    });
}

#[test]
fn two_reuseport_listeners_share_a_port_and_both_accept() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let first = reuseport_socket(localhost());
            let addr = first.local_addr().unwrap();
            let second = reuseport_socket(addr);
            let listeners = [first.listen(64).unwrap(), second.listen(64).unwrap()];
            // Each accept says which listener took the connection.
            let (tx, rx) = async_channel::unbounded();
            let listeners = Rc::new(listeners);
            for which in 0..2 {
                let (listeners, tx) = (Rc::clone(&listeners), tx.clone());
                eddy::spawn(async move {
                    loop {
                        let (stream, _) = listeners[which].accept().await.unwrap();
                        tx.send((which, stream)).await.unwrap();
                    }
                });
            }
            // The kernel picks a listener by a hash of the connection's
            // ports: a new source port each time, so both come up soon
            // (all of 200 on one listener: odds of 2^-199).
            let mut seen = [0usize; 2];
            let mut open = Vec::new();
            for _ in 0..200 {
                open.push(TcpStream::connect(addr).await.unwrap());
                let (which, stream) = rx.recv().await.unwrap();
                seen[which] += 1;
                open.push(stream);
                if seen[0] > 0 && seen[1] > 0 {
                    break;
                }
            }
            assert!(
                seen[0] > 0 && seen[1] > 0,
                "one listener took all: {seen:?}"
            );
        });
    });
}

#[test]
fn bind_to_an_address_in_use_is_an_error() {
    watchdog(LIMIT, || {
        let taken = std::net::TcpListener::bind(localhost()).unwrap();
        let addr = taken.local_addr().unwrap();
        // Without SO_REUSEPORT on both sides, the port is taken.
        let s = TcpSocket::new_v4().unwrap();
        s.set_reuseport(true).unwrap();
        assert_eq!(s.bind(addr).unwrap_err().kind(), ErrorKind::AddrInUse);
        let plain = reuseport_socket(localhost());
        let other = TcpSocket::new_v4().unwrap();
        let e = other.bind(plain.local_addr().unwrap()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AddrInUse);
        // An IPv6 address on an IPv4 socket: an error, not a panic.
        let v4 = TcpSocket::new_v4().unwrap();
        assert!(v4.bind("[::1]:0".parse().unwrap()).is_err());
        // A closed port refuses.
        let closed = closed_port();
        eddy::block_on(async move {
            let e = TcpSocket::new_v4()
                .unwrap()
                .connect(closed.addr)
                .await
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::ConnectionRefused);
        });
    });
}

#[test]
fn listen_outside_a_runtime_panics_with_a_clear_message() {
    watchdog(LIMIT, || {
        let s = TcpSocket::new_v4().unwrap();
        let msg = catch(move || s.listen(8)).unwrap_err();
        assert!(
            msg.starts_with("eddy: ") && msg.contains("outside a runtime"),
            "{msg}"
        );
    });
}

#[test]
fn socket_from_std_stream_keeps_the_connection() {
    watchdog(LIMIT, || {
        let listener = std::net::TcpListener::bind(localhost()).unwrap();
        let stream = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let local = stream.local_addr().unwrap();
        let socket = TcpSocket::from_std_stream(stream);
        assert_eq!(socket.local_addr().unwrap(), local);
        socket.set_nodelay(true).unwrap();
        assert!(socket.nodelay().unwrap());
    });
}

// ---------------------------------------------------------------------------
// ThreadPerCore
// ---------------------------------------------------------------------------

#[test]
fn results_come_in_worker_order() {
    watchdog(LIMIT, || {
        const N: usize = 4;
        // Worker i finishes only after worker i + 1: completion order is
        // the reverse of worker order.
        let chain: Vec<_> = (0..N).map(|_| async_channel::bounded::<()>(1)).collect();
        let results = ThreadPerCore::new().threads(N).run(|worker| {
            let i = worker.index();
            let (wait, next) = (
                chain[i].1.clone(),
                chain.get(i.wrapping_sub(1)).map(|c| c.0.clone()),
            );
            async move {
                if i + 1 < N {
                    wait.recv().await.unwrap();
                }
                if let Some(next) = next {
                    next.send(()).await.unwrap();
                }
                assert_eq!(worker.count(), N);
                assert_eq!(worker.cpu(), None);
                assert_eq!(worker.handles().len(), N);
                (i * i, thread::current().name().map(String::from))
            }
        });
        let results: Vec<_> = results.into_iter().map(Result::unwrap).collect();
        for (i, (square, name)) in results.into_iter().enumerate() {
            assert_eq!(square, i * i);
            assert_eq!(name, Some(format!("eddy-worker-{i}")));
        }
    });
}

#[test]
fn a_panicking_worker_is_its_err_and_the_others_go_on() {
    watchdog(LIMIT, || {
        // Worker 1 holds the only sender; its panic drops it, which the
        // others wait for before they finish.
        let (tx, rx) = async_channel::bounded::<()>(1);
        let tx = Mutex::new(Some(tx));
        let results = ThreadPerCore::new().threads(3).run(|worker| {
            let (rx, tx) = (
                rx.clone(),
                tx.lock().unwrap().take_if(|_| worker.index() == 1),
            );
            async move {
                if let Some(_tx) = tx {
                    eddy::task::yield_now().await;
                    panic!("worker 1 fails");
                }
                assert!(rx.recv().await.is_err(), "the sender was dropped");
                // The runtime still works after another worker's panic.
                eddy::spawn(async move { worker.index() * 10 })
                    .await
                    .unwrap()
            }
        });
        assert_eq!(results.len(), 3);
        assert_eq!(*results[0].as_ref().unwrap(), 0);
        assert_eq!(*results[2].as_ref().unwrap(), 20);
        let mut results = results;
        let err = results.remove(1).unwrap_err();
        assert!(err.is_panic());
        // The id of a worker's JoinError is the worker's index.
        assert_eq!(err.id().as_u64(), 1);
        assert_eq!(panic_message(&*err.into_panic()), "worker 1 fails");
    });
}

#[test]
fn pin_leaves_each_worker_on_one_cpu() {
    watchdog(LIMIT, || {
        let allowed = affinity();
        let results = ThreadPerCore::new()
            .pin(true)
            .run(|worker| async move { (worker.cpu(), affinity()) });
        // One worker per allowed CPU, worker i on the i-th of them.
        assert_eq!(results.len(), allowed.len());
        for (i, result) in results.into_iter().enumerate() {
            let (cpu, set) = result.unwrap();
            assert_eq!(cpu, Some(allowed[i]));
            assert_eq!(set, vec![allowed[i]]);
        }
        // More workers than CPUs: they wrap around.
        let n = allowed.len() + 1;
        let results = ThreadPerCore::new()
            .threads(n)
            .pin(true)
            .run(|worker| async move { worker.cpu() });
        assert_eq!(results[n - 1].as_ref().unwrap(), &Some(allowed[0]));
        // The caller's own affinity is untouched.
        assert_eq!(affinity(), allowed);
    });
}

#[test]
fn a_task_handed_to_another_worker_runs_on_its_thread() {
    watchdog(LIMIT, || {
        let results = ThreadPerCore::new().threads(2).run(|worker| async move {
            let me = thread::current().id();
            if worker.index() == 0 {
                let there = worker.handles()[1].spawn(async { thread::current().id() });
                let local = worker.handles()[0].spawn(async { thread::current().id() });
                (me, Some(there.await.unwrap()), Some(local.await.unwrap()))
            } else {
                (me, None, None)
            }
        });
        let (t0, there, local) = results[0].as_ref().unwrap();
        let (t1, _, _) = results[1].as_ref().unwrap();
        assert_ne!(t0, t1);
        assert_eq!(there.as_ref(), Some(t1));
        assert_eq!(local.as_ref(), Some(t0));
    });
}

#[test]
fn a_worker_whose_future_returned_still_runs_handed_work() {
    watchdog(LIMIT, || {
        let (done_tx, done_rx) = mpsc::channel();
        let (done_tx, done_rx) = (Mutex::new(Some(done_tx)), Mutex::new(Some(done_rx)));
        let results = ThreadPerCore::new().threads(2).run(|worker| {
            let done_tx = done_tx.lock().unwrap().take_if(|_| worker.index() == 1);
            let done_rx = done_rx.lock().unwrap().take_if(|_| worker.index() == 0);
            async move {
                if let Some(done_tx) = done_tx {
                    done_tx.send(()).unwrap(); // worker 1 is done at once
                    return None;
                }
                // Block this worker's thread until worker 1's future has
                // ended (there is nothing else on this runtime).
                done_rx.unwrap().recv().unwrap();
                let task =
                    worker.handles()[1].spawn(async { thread::current().name().map(String::from) });
                Some(task.await.unwrap())
            }
        });
        assert_eq!(
            results[0].as_ref().unwrap(),
            &Some(Some("eddy-worker-1".to_string()))
        );
        assert_eq!(*results[1].as_ref().unwrap(), None);
    });
}

#[test]
fn a_reuseport_echo_server_on_two_workers_answers_200_clients() {
    watchdog(LIMIT, || {
        const CLIENTS: usize = 200;
        // A placeholder holds the port until both workers listen on it.
        let placeholder = reuseport_socket(localhost());
        let addr = placeholder.local_addr().unwrap();
        let (listening_tx, listening_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = async_channel::bounded::<()>(1);
        let served = Arc::new(AtomicUsize::new(0));
        let server = {
            let served = Arc::clone(&served);
            thread::spawn(move || {
                ThreadPerCore::new().threads(2).run(|worker| {
                    let (listening, stop, stop_tx, served) = (
                        listening_tx.clone(),
                        stop_rx.clone(),
                        stop_tx.clone(),
                        Arc::clone(&served),
                    );
                    echo_worker(worker, addr, listening, stop, stop_tx, served)
                })
            })
        };
        listening_rx.recv().unwrap();
        listening_rx.recv().unwrap();
        drop(placeholder);
        eddy::block_on(async {
            let clients: Vec<_> = (0..CLIENTS)
                .map(|i| {
                    eddy::spawn(async move {
                        let stream = TcpStream::connect(addr).await.unwrap();
                        let msg = format!("hello from client {i}");
                        stream.write_all(msg.as_bytes()).await.unwrap();
                        let mut reply = vec![0; msg.len()];
                        stream.read_exact(&mut reply).await.unwrap();
                        assert_eq!(reply, msg.as_bytes());
                    })
                })
                .collect();
            for c in clients {
                c.await.unwrap();
            }
        });
        let per_worker: Vec<usize> = server
            .join()
            .unwrap()
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(per_worker.iter().sum::<usize>(), CLIENTS, "{per_worker:?}");
        assert_eq!(served.load(Ordering::SeqCst), CLIENTS);
    });
}

/// One worker of the echo server: listens on `addr` with SO_REUSEPORT,
/// echoes each connection until the client closes it, and stops once all
/// workers together have served every client; returns how many it served.
async fn echo_worker(
    worker: Worker,
    addr: SocketAddr,
    listening: mpsc::Sender<()>,
    stop: async_channel::Receiver<()>,
    stop_tx: async_channel::Sender<()>,
    served: Arc<AtomicUsize>,
) -> usize {
    let _ = worker;
    let listener = reuseport_socket(addr).listen(1024).unwrap();
    listening.send(()).unwrap();
    let mine = Rc::new(Cell::new(0));
    let accept_loop = {
        let mine = Rc::clone(&mine);
        async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let (mine, served, stop_tx) =
                    (Rc::clone(&mine), Arc::clone(&served), stop_tx.clone());
                eddy::spawn(async move {
                    let mut buf = [0; 256];
                    loop {
                        match stream.read(&mut buf).await.unwrap() {
                            0 => break,
                            n => stream.write_all(&buf[..n]).await.unwrap(),
                        }
                    }
                    mine.set(mine.get() + 1);
                    if served.fetch_add(1, Ordering::SeqCst) + 1 == 200 {
                        stop_tx.close();
                    }
                });
            }
        }
    };
    futures::future::select(Box::pin(accept_loop), Box::pin(stop.recv())).await;
    mine.get()
}

#[test]
fn bad_input_gets_a_clear_message() {
    watchdog(LIMIT, || {
        let msg = catch(|| ThreadPerCore::new().threads(0)).unwrap_err();
        assert_eq!(msg, "eddy: ThreadPerCore::threads must be at least 1");
        // `run` blocks: inside a runtime it would stall that runtime's loop.
        let msg =
            catch(|| eddy::block_on(async { ThreadPerCore::new().threads(1).run(|_| async {}) }))
                .unwrap_err();
        assert!(
            msg.starts_with("eddy: ThreadPerCore::run was called from inside a runtime"),
            "{msg}"
        );
    });
}

#[test]
fn builder_configures_each_worker_on_its_thread() {
    watchdog(LIMIT, || {
        let names = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&names);
        let results = ThreadPerCore::new()
            .threads(3)
            .builder(move || {
                recorded
                    .lock()
                    .unwrap()
                    .push(thread::current().name().map(String::from));
                eddy::Runtime::builder().event_interval(7)
            })
            .run(|worker| async move { worker.index() });
        assert_eq!(results.len(), 3);
        let mut names = names.lock().unwrap().clone();
        names.sort();
        let want: Vec<_> = (0..3).map(|i| Some(format!("eddy-worker-{i}"))).collect();
        assert_eq!(names, want);
    });
}

const CHILD_ENV: &str = "EDDY_TPC_TEST_CHILD";

#[test]
fn a_runtime_that_cannot_be_built_is_reported_before_any_worker_runs() {
    in_child_process(
        CHILD_ENV,
        "a_runtime_that_cannot_be_built_is_reported_before_any_worker_runs",
        LIMIT,
        || {
            let called = AtomicUsize::new(0);
            let normal = get_nofile();
            // No descriptor can be made: the first runtime's epoll fails.
            set_nofile(libc::rlimit {
                rlim_cur: 0,
                rlim_max: normal.rlim_max,
            });
            let tpc = ThreadPerCore::new().threads(2);
            let tried = tpc.try_run(|_| {
                called.fetch_add(1, Ordering::SeqCst);
                async {}
            });
            let panicked = catch(|| {
                tpc.run(|_| {
                    called.fetch_add(1, Ordering::SeqCst);
                    async {}
                })
            });
            set_nofile(normal);
            let e = tried.unwrap_err();
            assert_eq!(e.raw_os_error(), Some(libc::EMFILE), "{e}");
            let msg = panicked.unwrap_err();
            assert!(
                msg.starts_with("eddy: ThreadPerCore::run: could not build the runtime of worker "),
                "{msg}"
            );
            assert_eq!(called.load(Ordering::SeqCst), 0);
        },
    );
}

/// Every name of API.md's "Thread per core" with the exact argument, return and
/// trait types it writes: it compiles only if they hold, and runs nothing.
#[test]
#[allow(
    unused_must_use,
    clippy::let_underscore_future,
    clippy::redundant_closure
)]
fn signatures_as_api_md_writes_them() {
    use eddy::net::TcpSocket;
    use std::io;
    use std::time::Duration;
    let _ = |s: &TcpSocket| -> io::Result<()> {
        s.set_reuseaddr(true)?;
        s.set_reuseport(true)?;
        s.set_nodelay(true)?;
        s.set_send_buffer_size(1u32)?;
        s.set_recv_buffer_size(1u32)?;
        s.set_keepalive(true)?;
        s.set_linger(Some(Duration::ZERO))?;
        let _: bool = s.reuseaddr()?;
        let _: bool = s.reuseport()?;
        let _: bool = s.nodelay()?;
        let _: u32 = s.send_buffer_size()?;
        let _: u32 = s.recv_buffer_size()?;
        let _: bool = s.keepalive()?;
        let _: Option<Duration> = s.linger()?;
        let _: std::net::SocketAddr = s.local_addr()?;
        s.bind("127.0.0.1:0".parse().unwrap())?;
        Ok(())
    };
    let _ = |s: TcpSocket| -> io::Result<eddy::net::TcpListener> { s.listen(5u32) };
    let _ = |s: TcpSocket| {
        fut::<io::Result<eddy::net::TcpStream>, _>(s.connect("127.0.0.1:1".parse().unwrap()))
    };
    let _: fn() -> io::Result<TcpSocket> = TcpSocket::new_v4;
    let _: fn() -> io::Result<TcpSocket> = TcpSocket::new_v6;
    use eddy::runtime::{ThreadPerCore, Worker};
    let _ = || {
        let _r: Vec<Result<u32, eddy::JoinError>> = ThreadPerCore::new()
            .threads(2)
            .pin(false)
            .builder(|| eddy::Builder::new())
            .run(|w: Worker| async move {
                let _: usize = w.index();
                let _: usize = w.count();
                let _: Option<usize> = w.cpu();
                let _: &[eddy::Handle] = w.handles();
                1u32
            });
    };
}
