//! Integration tests for I/O (API.md, "I/O"): `eddy::net` (TCP, UDP and
//! Unix-domain sockets) and `eddy::io::Async`.
//!
//! Tests that count the process's file descriptors, that need an fd number
//! to be reused, or that lower `RLIMIT_NOFILE` run in a child process of
//! their own (see `in_child_process`): the other tests of this file open and
//! close descriptors on other threads of this process meanwhile.
//!
//! No test sleeps to wait for an event. A few sleep on eddy's timer to let
//! time pass while they check that nothing happens (the loop does not spin).
//!
//! Not tested here: that the I/O types are `!Send` (a negative bound needs a
//! compile-fail harness), and registering inside `Runtime::turn` (the crate
//! has no `turn` yet; `block_on`, tasks and `Runtime::spawn` are covered).

mod common;

use std::cell::{Cell, RefCell};
use std::fs::{self, File};
use std::future::{Future, poll_fn};
use std::io::{self, ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Shutdown, SocketAddr, SocketAddrV4};
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use common::*;
use eddy::Runtime;
use eddy::io::{Async, Interest};
use eddy::net::{TcpListener, TcpStream, UdpSocket, UnixListener, UnixStream};
use eddy::task::yield_now;
use futures::FutureExt;
use futures::channel::mpsc;
use futures::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use futures::stream::StreamExt;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// A connected pair of TCP streams on 127.0.0.1: (client, server side).
async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().unwrap();
    let (client, accepted) = futures::join!(TcpStream::connect(addr), listener.accept());
    let client = client.expect("connect");
    let (server, peer) = accepted.expect("accept");
    assert_eq!(peer, client.local_addr().unwrap());
    (client, server)
}

/// Reads to end of stream through `futures_io::AsyncRead`.
async fn read_to_end<R: AsyncRead + Unpin>(mut r: R) -> io::Result<Vec<u8>> {
    let mut v = Vec::new();
    r.read_to_end(&mut v).await?;
    Ok(v)
}

/// Writes everything, flushes and closes through `futures_io::AsyncWrite`.
async fn write_all_and_close<W: AsyncWrite + Unpin>(mut w: W, data: &[u8]) -> io::Result<()> {
    w.write_all(data).await?;
    w.flush().await?;
    w.close().await
}

/// Reads to end of stream with the inherent `read` of a TCP stream.
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

/// Whether `O_NONBLOCK` is set on `fd`.
fn is_nonblocking(fd: RawFd) -> bool {
    // SAFETY: F_GETFL only reads the descriptor's flags.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    assert!(flags >= 0, "fcntl: {}", io::Error::last_os_error());
    flags & libc::O_NONBLOCK != 0
}

/// A pipe (read end, write end), both close-on-exec and blocking.
fn pipe() -> (File, File) {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two descriptors into the array we pass.
    let r = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(r, 0, "pipe2: {}", io::Error::last_os_error());
    // SAFETY: both descriptors are fresh and owned by nobody else.
    unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) }
}

/// The environment variable that tells a child process which test to run
/// for real.
const CHILD_ENV: &str = "EDDY_NET_TEST_CHILD";

/// Runs `body` in a child process that runs only the test `name` (see
/// `common::in_child_process`).
fn in_child_process(name: &str, limit: Duration, body: impl FnOnce() + Send + 'static) {
    common::in_child_process(CHILD_ENV, name, limit, body);
}

#[track_caller]
fn assert_same_fds(now: &[(RawFd, String)], before: &[(RawFd, String)], when: &str) {
    let numbers = |v: &[(RawFd, String)]| v.iter().map(|(fd, _)| *fd).collect::<Vec<_>>();
    if numbers(now) != numbers(before) {
        let extra: Vec<_> = now.iter().filter(|e| !before.contains(e)).collect();
        let missing: Vec<_> = before.iter().filter(|e| !now.contains(e)).collect();
        panic!(
            "{when}: {} descriptors open, {} expected\n  still open: {extra:?}\n  gone: {missing:?}",
            now.len(),
            before.len()
        );
    }
}

/// Polls a future once with a no-op waker, outside any runtime.
fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    let mut cx = Context::from_waker(std::task::Waker::noop());
    Pin::new(f).poll(&mut cx)
}

// ---------------------------------------------------------------------------
// Constructors need a runtime
// ---------------------------------------------------------------------------

#[track_caller]
fn expect_outside_panic<T>(what: &str, result: Result<T, String>) {
    match result {
        Ok(_) => panic!("{what} did not panic outside a runtime"),
        Err(msg) => assert!(
            msg.contains("outside a runtime"),
            "{what}: the panic message does not say it was called outside a runtime: {msg:?}"
        ),
    }
}

#[test]
fn constructors_panic_outside_a_runtime() {
    watchdog(LIMIT, || {
        expect_outside_panic(
            "TcpListener::bind",
            catch(|| TcpListener::bind("127.0.0.1:0")),
        );
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = std_listener.local_addr().unwrap();
        let std_stream = std::net::TcpStream::connect(addr).unwrap();
        expect_outside_panic(
            "TcpStream::from_std",
            catch(|| TcpStream::from_std(std_stream)),
        );
        expect_outside_panic(
            "TcpListener::from_std",
            catch(|| TcpListener::from_std(std_listener)),
        );
        expect_outside_panic("UdpSocket::bind", catch(|| UdpSocket::bind("127.0.0.1:0")));
        let std_udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        expect_outside_panic(
            "UdpSocket::from_std",
            catch(|| UdpSocket::from_std(std_udp)),
        );
        expect_outside_panic("UnixStream::pair", catch(UnixStream::pair));
        let (x, _y) = std::os::unix::net::UnixStream::pair().unwrap();
        expect_outside_panic("UnixStream::from_std", catch(|| UnixStream::from_std(x)));
        let path = TempPath::new("outside");
        expect_outside_panic("UnixListener::bind", catch(|| UnixListener::bind(&path)));
        let (x, _y) = std::os::unix::net::UnixStream::pair().unwrap();
        expect_outside_panic("Async::new", catch(|| Async::new(x)));
        let (r, _w) = pipe();
        expect_outside_panic("Async::new (pipe)", catch(|| Async::new(r)));

        // `connect` is async: creating the future is fine anywhere, its
        // first poll registers and needs a runtime.
        let refused_later = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut connect = Box::pin(TcpStream::connect(refused_later.local_addr().unwrap()));
        expect_outside_panic(
            "TcpStream::connect (first poll)",
            catch(move || poll_once(&mut connect).is_ready()),
        );
        let unix_path = TempPath::new("outside-connect");
        let _unix_listener = std::os::unix::net::UnixListener::bind(&unix_path).unwrap();
        let mut connect = Box::pin(UnixStream::connect(unix_path.0.clone()));
        expect_outside_panic(
            "UnixStream::connect (first poll)",
            catch(move || poll_once(&mut connect).is_ready()),
        );
        // A future made outside works once awaited inside a runtime.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let connect = TcpStream::connect(addr);
        let stream = eddy::block_on(async move {
            let stream = connect.await.expect("connect made outside, awaited inside");
            stream.local_addr().unwrap()
        });
        assert_eq!(listener.accept().unwrap().1, stream);

        // Between two `block_on` calls a runtime is not current either.
        let rt = Runtime::new().unwrap();
        rt.block_on(async {});
        expect_outside_panic(
            "TcpListener::bind between block_on calls",
            catch(|| TcpListener::bind("127.0.0.1:0")),
        );
        // ... but a task spawned then registers fine when it runs.
        let task =
            rt.spawn(async { TcpListener::bind("127.0.0.1:0").map(|l| l.local_addr().unwrap()) });
        let local = rt.block_on(task).unwrap().unwrap();
        assert!(local.ip().is_loopback() && local.port() != 0);
    });
}

/// Code written for tokio turns std sockets into async ones with
/// `try_into()`; each conversion registers like `from_std` (and so needs a
/// runtime, as `from_std` does).
#[test]
fn std_sockets_convert_with_try_from() {
    watchdog(LIMIT, || {
        let (x, _y) = std::os::unix::net::UnixStream::pair().unwrap();
        expect_outside_panic("UnixStream::try_from", catch(|| UnixStream::try_from(x)));
        eddy::block_on(async {
            let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = std_listener.local_addr().unwrap();
            let listener: TcpListener = std_listener.try_into().unwrap();
            let client: TcpStream = std::net::TcpStream::connect(addr)
                .unwrap()
                .try_into()
                .unwrap();
            let (server, _) = listener.accept().await.unwrap();
            client.write_all(b"tcp").await.unwrap();
            let mut buf = [0; 3];
            server.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"tcp");

            let udp: UdpSocket = std::net::UdpSocket::bind("127.0.0.1:0")
                .unwrap()
                .try_into()
                .unwrap();
            udp.send_to(b"u", udp.local_addr().unwrap()).await.unwrap();
            assert_eq!(udp.recv_from(&mut buf).await.unwrap().0, 1);

            let path = TempPath::new("try-from");
            let unix_listener: UnixListener = std::os::unix::net::UnixListener::bind(&path)
                .unwrap()
                .try_into()
                .unwrap();
            let unix_client: UnixStream = std::os::unix::net::UnixStream::connect(&path)
                .unwrap()
                .try_into()
                .unwrap();
            let (unix_server, _) = unix_listener.accept().await.unwrap();
            unix_client.write_all(b"uds").await.unwrap();
            unix_server.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"uds");
        });
    });
}

#[test]
fn constructors_work_inside_a_runtime_and_its_tasks() {
    watchdog(LIMIT, || {
        async fn make_all() -> io::Result<usize> {
            let mut made = 0;
            let listener = TcpListener::bind("127.0.0.1:0")?;
            let addr = listener.local_addr()?;
            made += 1;
            let from_std = TcpListener::from_std(std::net::TcpListener::bind("127.0.0.1:0")?)?;
            assert!(from_std.local_addr()?.port() != 0);
            made += 1;
            let (client, accepted) = futures::join!(TcpStream::connect(addr), listener.accept());
            let (client, (server, _)) = (client?, accepted?);
            assert_eq!(client.peer_addr()?, server.local_addr()?);
            made += 2;
            let std_client = std::net::TcpStream::connect(addr)?;
            let from_std = TcpStream::from_std(std_client)?;
            let (accepted, _) = listener.accept().await?;
            assert_eq!(from_std.local_addr()?, accepted.peer_addr()?);
            made += 2;
            let udp = UdpSocket::bind("127.0.0.1:0")?;
            let udp2 = UdpSocket::from_std(std::net::UdpSocket::bind("127.0.0.1:0")?)?;
            udp.send_to(b"hi", udp2.local_addr()?).await?;
            let mut buf = [0; 4];
            assert_eq!(udp2.recv_from(&mut buf).await?, (2, udp.local_addr()?));
            made += 2;
            let (a, b) = UnixStream::pair()?;
            a.write_all(b"x").await?;
            b.read_exact(&mut buf[..1]).await?;
            made += 2;
            let path = TempPath::new("inside");
            let unix_listener = UnixListener::bind(&path)?;
            let (c, accepted) =
                futures::join!(UnixStream::connect(&path.0), unix_listener.accept());
            let (_c, _s) = (c?, accepted?);
            made += 3;
            let (x, _y) = std::os::unix::net::UnixStream::pair()?;
            let _x = Async::new(x)?;
            made += 1;
            Ok(made)
        }

        // Inside `block_on`.
        assert_eq!(eddy::block_on(make_all()).unwrap(), 14);
        // Inside a task.
        let made = eddy::block_on(async { eddy::spawn(make_all()).await.unwrap() });
        assert_eq!(made.unwrap(), 14);
        // Inside a task spawned with `Runtime::spawn` before the loop runs.
        let rt = Runtime::new().unwrap();
        let task = rt.spawn(make_all());
        assert_eq!(rt.block_on(task).unwrap().unwrap(), 14);
    });
}

// ---------------------------------------------------------------------------
// TCP: many clients, big transfers
// ---------------------------------------------------------------------------

#[test]
fn echo_server_with_1000_concurrent_clients() {
    watchdog(Duration::from_secs(30), || {
        const CLIENTS: usize = 1000;
        // At most this many connections wait in the listen queue at once:
        // some kernels cap the backlog near 128 (gVisor does) and drop or
        // reset what overflows, whatever `listen` asked for.
        const HANDSHAKES: usize = 64;
        let rt = Runtime::new().unwrap();
        let (accepted, server_errors) = rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let accepted = Rc::new(Cell::new(0usize));
            let server_errors: Rc<RefCell<Vec<io::Error>>> = Rc::default();
            // A counting semaphore: a client takes a permit before it
            // connects, the server gives one back per accepted connection.
            let (permit_tx, permit_rx) = async_channel::bounded::<()>(HANDSHAKES);
            let server = eddy::spawn({
                let (accepted, server_errors) = (accepted.clone(), server_errors.clone());
                async move {
                    loop {
                        let (stream, _) = match listener.accept().await {
                            Ok(conn) => conn,
                            Err(e) => {
                                server_errors.borrow_mut().push(e);
                                continue;
                            }
                        };
                        permit_rx.recv().await.unwrap();
                        accepted.set(accepted.get() + 1);
                        let server_errors = server_errors.clone();
                        // One task per connection: echo until end of stream.
                        eddy::spawn(async move {
                            let echo = async {
                                let mut buf = vec![0; 1500];
                                loop {
                                    match stream.read(&mut buf).await? {
                                        0 => break,
                                        n => stream.write_all(&buf[..n]).await?,
                                    }
                                }
                                stream.shutdown(Shutdown::Write)
                            };
                            if let Err(e) = echo.await {
                                server_errors.borrow_mut().push(e);
                            }
                        });
                    }
                }
            });
            // Every client holds its connection open until all have had
            // their echo: 1000 connections open at once.
            let (all_done_tx, all_done_rx) = futures::channel::oneshot::channel::<()>();
            let all_done = all_done_rx.shared();
            let (echoed_tx, mut echoed_rx) = mpsc::unbounded::<io::Result<()>>();
            let clients: Vec<_> = (0..CLIENTS)
                .map(|i| {
                    let (permit_tx, all_done, echoed_tx) =
                        (permit_tx.clone(), all_done.clone(), echoed_tx.clone());
                    eddy::spawn(async move {
                        // A distinct message of 2 to 6 KB per client.
                        let msg = pattern(2048 + (i * 37) % 4096, i as u64);
                        let echo = async {
                            permit_tx.send(()).await.unwrap();
                            let stream = TcpStream::connect(addr).await?;
                            stream.write_all(&msg).await?;
                            let mut back = vec![0; msg.len()];
                            stream.read_exact(&mut back).await?;
                            Ok::<_, io::Error>((stream, back))
                        };
                        let (stream, back) = match echo.await {
                            Ok(echoed) => echoed,
                            Err(e) => {
                                echoed_tx
                                    .unbounded_send(Err(io::Error::new(
                                        e.kind(),
                                        format!("client {i}: {e}"),
                                    )))
                                    .unwrap();
                                return Err(e);
                            }
                        };
                        echoed_tx.unbounded_send(Ok(())).unwrap();
                        let _ = all_done.await;
                        // Then end of stream both ways.
                        stream.shutdown(Shutdown::Write)?;
                        let rest = tcp_read_to_end(&stream).await?;
                        Ok::<_, io::Error>((back, rest, msg))
                    })
                })
                .collect();
            for _ in 0..CLIENTS {
                echoed_rx.next().await.unwrap().unwrap();
            }
            assert_eq!(accepted.get(), CLIENTS);
            all_done_tx.send(()).unwrap();
            for (i, client) in clients.into_iter().enumerate() {
                let (back, rest, msg) = client
                    .await
                    .expect("client task failed")
                    .unwrap_or_else(|e| panic!("client {i}: {e}"));
                assert_same(&back, &msg, &format!("echo to client {i}"));
                assert!(
                    rest.is_empty(),
                    "client {i}: {} bytes after the echo",
                    rest.len()
                );
            }
            // The connection tasks ended with their connections.
            assert_eq!(rt.metrics().tasks_alive, 1, "only the accept loop is left");
            server.abort();
            (accepted.get(), server_errors.take())
        });
        assert_eq!(accepted, CLIENTS);
        assert!(server_errors.is_empty(), "server errors: {server_errors:?}");
        assert_eq!(
            rt.metrics().tasks_alive,
            0,
            "every connection task finished"
        );
    });
}

#[test]
fn ten_megabytes_each_way_with_write_all_and_read_exact() {
    watchdog(Duration::from_secs(30), || {
        const LEN: usize = 10 << 20;
        eddy::block_on(async {
            let (a, b) = tcp_pair().await;
            let (a, b) = (Rc::new(a), Rc::new(b));
            let a_to_b = Rc::new(pattern(LEN, 1));
            let b_to_a = Rc::new(pattern(LEN, 2));
            let writer = |s: Rc<TcpStream>, data: Rc<Vec<u8>>| {
                eddy::spawn(async move {
                    s.write_all(&data).await?;
                    s.shutdown(Shutdown::Write)
                })
            };
            let reader = |s: Rc<TcpStream>| {
                eddy::spawn(async move {
                    let mut buf = vec![0; LEN];
                    s.read_exact(&mut buf).await?;
                    // Then end of stream, for good.
                    let mut extra = [0; 16];
                    assert_eq!(s.read(&mut extra).await?, 0);
                    assert_eq!(s.read(&mut extra).await?, 0);
                    // `read_exact` past the end says UnexpectedEof.
                    let err = s.read_exact(&mut extra).await.unwrap_err();
                    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
                    Ok::<_, io::Error>(buf)
                })
            };
            let wa = writer(a.clone(), a_to_b.clone());
            let wb = writer(b.clone(), b_to_a.clone());
            let ra = reader(a.clone());
            let rb = reader(b.clone());
            wa.await.unwrap().unwrap();
            wb.await.unwrap().unwrap();
            assert_same(&rb.await.unwrap().unwrap(), &a_to_b, "a to b");
            assert_same(&ra.await.unwrap().unwrap(), &b_to_a, "b to a");
        });
    });
}

#[test]
fn ten_megabytes_each_way_through_the_futures_io_traits() {
    watchdog(Duration::from_secs(30), || {
        const LEN: usize = 10 << 20;
        eddy::block_on(async {
            let (a, b) = tcp_pair().await;
            let a = Rc::new(a);
            let a_to_b = Rc::new(pattern(LEN, 3));
            let b_to_a = Rc::new(pattern(LEN, 4));
            // Side a through `&TcpStream` from two tasks.
            let wa = eddy::spawn({
                let (a, data) = (a.clone(), a_to_b.clone());
                async move { write_all_and_close(&*a, &data).await }
            });
            let ra = eddy::spawn({
                let a = a.clone();
                async move { read_to_end(&*a).await }
            });
            // Side b owned, split in two halves (the impls for `TcpStream`).
            let (mut rb, wb) = b.split();
            let wb = eddy::spawn({
                let data = b_to_a.clone();
                async move { write_all_and_close(wb, &data).await }
            });
            let rb = eddy::spawn(async move {
                // Odd-sized reads, to cut the stream at odd places.
                let mut got = Vec::with_capacity(LEN);
                let mut buf = vec![0; 7919];
                loop {
                    match rb.read(&mut buf).await? {
                        0 => break,
                        n => got.extend_from_slice(&buf[..n]),
                    }
                }
                Ok::<_, io::Error>(got)
            });
            wa.await.unwrap().unwrap();
            wb.await.unwrap().unwrap();
            assert_same(&rb.await.unwrap().unwrap(), &a_to_b, "a to b");
            assert_same(&ra.await.unwrap().unwrap(), &b_to_a, "b to a");
        });
    });
}

#[test]
fn vectored_writes_and_reads_through_the_traits() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (mut a, mut b) = tcp_pair().await;
            let parts = [&b"alpha "[..], b"", b"beta ", b"gamma"];
            let slices: Vec<_> = parts.iter().map(|p| io::IoSlice::new(p)).collect();
            let n = a.write_vectored(&slices).await.unwrap();
            assert!(n > 0 && n <= 16);
            let rest = &b"alpha beta gamma"[n..];
            a.write_all(rest).await.unwrap();
            a.close().await.unwrap();
            let mut got = String::new();
            b.read_to_string(&mut got).await.unwrap();
            assert_eq!(got, "alpha beta gamma");
            // An empty read or write completes at once with 0.
            assert_eq!(AsyncReadExt::read(&mut b, &mut []).await.unwrap(), 0);
            assert_eq!(b.write(&[]).await.unwrap(), 0);
            assert_eq!(AsyncWriteExt::write(&mut b, &[]).await.unwrap(), 0);
        });
    });
}

// ---------------------------------------------------------------------------
// Half-close, resets, refused connections
// ---------------------------------------------------------------------------

#[test]
fn shutdown_write_gives_the_peer_eof_and_the_other_direction_still_works() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (a, b) = tcp_pair().await;
            let b = Rc::new(b);
            // A reader already waiting is woken by the end of stream.
            let waiting = eddy::spawn({
                let b = b.clone();
                async move {
                    let mut buf = vec![0; 64];
                    let mut got = Vec::new();
                    loop {
                        match b.read(&mut buf).await? {
                            0 => return Ok::<_, io::Error>(got),
                            n => got.extend_from_slice(&buf[..n]),
                        }
                    }
                }
            });
            yield_now().await;
            assert!(!waiting.is_finished());
            a.write_all(b"last words").await.unwrap();
            a.shutdown(Shutdown::Write).unwrap();
            assert_eq!(waiting.await.unwrap().unwrap(), b"last words");
            // The end of stream stays.
            let mut buf = [0; 8];
            assert_eq!(b.read(&mut buf).await.unwrap(), 0);
            assert_eq!(b.read(&mut buf).await.unwrap(), 0);
            // The other direction still works.
            b.write_all(b"reply").await.unwrap();
            a.read_exact(&mut buf[..5]).await.unwrap();
            assert_eq!(&buf[..5], b"reply");
            // Writing on the shut half is an error, not a panic.
            let err = a.write(b"more").await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::BrokenPipe, "{err}");
            // Now b shuts down too: a reads its end of stream.
            b.shutdown(Shutdown::Write).unwrap();
            assert_eq!(a.read(&mut buf).await.unwrap(), 0);
            // `Shutdown::Read` and `Both` are accepted as well.
            let (c, d) = tcp_pair().await;
            c.shutdown(Shutdown::Read).unwrap();
            c.write_all(b"still writable").await.unwrap();
            let mut buf = [0; 14];
            d.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"still writable");
            c.shutdown(Shutdown::Both).unwrap();
            assert_eq!(d.read(&mut buf).await.unwrap(), 0);
        });
    });
}

/// Reads the 3 bytes "abc" with a 64-byte buffer (a short read), then
/// reads again: that read must see the end of stream. A bound of 5 s turns
/// a lost wake-up into a clear failure instead of a hang.
async fn read_short_then_eof<S: AsyncRead + Unpin>(what: &'static str, mut s: S) {
    let mut buf = [0; 64];
    let n = s.read(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"abc", "{what}");
    let eof = eddy::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await;
    let n = eof.unwrap_or_else(|_| lost_eof(what));
    assert_eq!(n.unwrap(), 0, "{what}");
}

fn lost_eof(what: &str) -> ! {
    panic!(
        "{what}: the end of stream that came with the last data was never seen: \
         the read after a short read waited 5 s for a readiness edge"
    )
}

#[test]
fn end_of_stream_that_arrives_with_the_last_data_is_seen() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            // The reader waits first (its stream is known not readable);
            // then the data and the end of stream arrive together, before
            // the loop next polls the OS: one readiness event carries both.
            let (a, b) = tcp_pair().await;
            let reader = eddy::spawn(async move {
                let mut buf = [0; 64];
                assert_eq!(b.read(&mut buf).await.unwrap(), 3);
                let eof = eddy::time::timeout(Duration::from_secs(5), b.read(&mut buf)).await;
                let n = eof.unwrap_or_else(|_| lost_eof("TCP, inherent read"));
                assert_eq!(n.unwrap(), 0);
            });
            yield_now().await;
            a.write_all(b"abc").await.unwrap();
            a.shutdown(Shutdown::Write).unwrap();
            reader.await.unwrap();

            let (a, b) = tcp_pair().await;
            let reader = eddy::spawn(async move {
                read_short_then_eof("TCP, AsyncRead for &TcpStream", &b).await
            });
            yield_now().await;
            a.write_all(b"abc").await.unwrap();
            drop(a);
            reader.await.unwrap();

            let (a, b) = UnixStream::pair().unwrap();
            let reader = eddy::spawn(read_short_then_eof("Unix, AsyncRead for UnixStream", b));
            yield_now().await;
            a.write_all(b"abc").await.unwrap();
            a.shutdown(Shutdown::Write).unwrap();
            reader.await.unwrap();
        });
    });
}

#[test]
fn poll_close_shuts_down_the_write_half() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            // Through `TcpStream` itself.
            let (mut a, b) = tcp_pair().await;
            a.write_all(b"bye").await.unwrap();
            AsyncWriteExt::close(&mut a).await.unwrap();
            assert_eq!(tcp_read_to_end(&b).await.unwrap(), b"bye");
            b.write_all(b"still here").await.unwrap();
            let mut buf = [0; 10];
            AsyncReadExt::read_exact(&mut a, &mut buf).await.unwrap();
            assert_eq!(&buf, b"still here");

            // Through `&TcpStream`.
            let (c, d) = tcp_pair().await;
            let mut c_ref = &c;
            AsyncWriteExt::close(&mut c_ref).await.unwrap();
            assert_eq!(d.read(&mut buf).await.unwrap(), 0);
            d.write_all(b"ok").await.unwrap();
            c.read_exact(&mut buf[..2]).await.unwrap();
            assert_eq!(&buf[..2], b"ok");

            // Unix streams, both ways.
            let (mut e, f) = UnixStream::pair().unwrap();
            AsyncWriteExt::close(&mut e).await.unwrap();
            assert_eq!(f.read(&mut buf).await.unwrap(), 0);
            let mut f_ref = &f;
            f.write_all(b"hi").await.unwrap();
            AsyncWriteExt::close(&mut f_ref).await.unwrap();
            assert_eq!(read_to_end(&mut e).await.unwrap(), b"hi");
        });
    });
}

#[test]
fn a_peer_reset_wakes_a_waiting_reader_with_an_error() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            let (server, _) = listener.accept().await.unwrap();
            let server = Rc::new(server);
            let reader = eddy::spawn({
                let server = server.clone();
                async move { server.read(&mut [0; 64]).await }
            });
            yield_now().await;
            assert!(!reader.is_finished(), "nothing was sent yet");
            set_linger_zero(client.as_raw_fd());
            drop(client); // sends RST
            let err = reader.await.unwrap().expect_err("read after a reset");
            assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
            // Afterwards: writes fail, reads end; nothing panics or hangs.
            for _ in 0..3 {
                let err = server
                    .write(b"anyone?")
                    .await
                    .expect_err("write after a reset");
                assert!(is_reset_like(&err), "{err}");
            }
            match server.read(&mut [0; 64]).await {
                Ok(n) => assert_eq!(n, 0),
                Err(e) => assert!(is_reset_like(&e), "{e}"),
            }
            let err = server.write_all(&[7; 100_000]).await.unwrap_err();
            assert!(is_reset_like(&err), "{err}");
        });
    });
}

#[test]
fn writing_to_a_peer_that_closed_with_unread_data_errors() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (a, b) = tcp_pair().await;
            a.write_all(b"xy").await.unwrap();
            // b has the data (it read one byte of it), then closes with one
            // byte unread: the kernel answers with a reset.
            let mut one = [0; 1];
            b.read_exact(&mut one).await.unwrap();
            drop(b);
            // The reset arrives: a read says so.
            let err = a
                .read(&mut [0; 16])
                .await
                .expect_err("read after the peer reset");
            assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
            // Then every write fails, a big one too.
            let err = a.write_all(&pattern(1 << 20, 9)).await.unwrap_err();
            assert!(is_reset_like(&err), "{err}");
            let err = a.write(b"z").await.unwrap_err();
            assert!(is_reset_like(&err), "{err}");
            // And through the traits.
            let mut a_ref = &a;
            let err = AsyncWriteExt::write_all(&mut a_ref, b"z")
                .await
                .unwrap_err();
            assert!(is_reset_like(&err), "{err}");
        });
    });
}

#[test]
fn connecting_to_a_closed_port_is_refused() {
    watchdog(LIMIT, || {
        let closed = closed_port();
        let port = closed.addr.port();
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            // Another task keeps running while the names are resolved.
            let ticks = Rc::new(Cell::new(0u64));
            let ticker = eddy::spawn({
                let ticks = ticks.clone();
                async move {
                    loop {
                        ticks.set(ticks.get() + 1);
                        yield_now().await;
                    }
                }
            });
            let err = TcpStream::connect(closed.addr).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
            let err = TcpStream::connect(("127.0.0.1", port)).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
            let spawned = rt.metrics().tasks_spawned;
            let before = ticks.get();
            let err = TcpStream::connect(("localhost", port)).await.unwrap_err();
            assert_eq!(
                err.kind(),
                ErrorKind::ConnectionRefused,
                "(\"localhost\", port): {err}"
            );
            let err = TcpStream::connect(format!("localhost:{port}"))
                .await
                .unwrap_err();
            assert_eq!(
                err.kind(),
                ErrorKind::ConnectionRefused,
                "\"localhost:{port}\": {err}"
            );
            let name = format!("localhost:{port}");
            let err = TcpStream::connect(name.as_str()).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "&str: {err}");
            assert!(
                ticks.get() > before,
                "the loop ran other tasks while names were resolved"
            );
            assert!(
                rt.metrics().tasks_spawned >= spawned + 3,
                "each host name is resolved on the blocking pool"
            );
            ticker.abort();
        });
    });
}

#[test]
fn connect_resolves_host_names_off_the_loop_and_literals_at_once() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let port = addr.port();
            let acceptor = eddy::spawn(async move {
                let mut peers = Vec::new();
                loop {
                    let (s, peer) = listener.accept().await.unwrap();
                    s.write_all(b"!").await.unwrap();
                    peers.push(peer);
                }
            });
            // Literal addresses in every form: no blocking-pool task.
            let spawned = rt.metrics().tasks_spawned;
            let v4 = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
            let literal = [
                TcpStream::connect(addr).await,
                TcpStream::connect(v4).await,
                TcpStream::connect(&addr).await,
                TcpStream::connect((Ipv4Addr::LOCALHOST, port)).await,
                TcpStream::connect((IpAddr::from(Ipv4Addr::LOCALHOST), port)).await,
                TcpStream::connect(("127.0.0.1", port)).await,
                TcpStream::connect((String::from("127.0.0.1"), port)).await,
                TcpStream::connect(format!("127.0.0.1:{port}")).await,
                TcpStream::connect(format!("127.0.0.1:{port}").as_str()).await,
                TcpStream::connect(&[addr][..]).await,
            ];
            assert_eq!(
                rt.metrics().tasks_spawned,
                spawned,
                "literal addresses resolve on the loop"
            );
            for (i, s) in literal.into_iter().enumerate() {
                let s = s.unwrap_or_else(|e| panic!("literal form {i}: {e}"));
                assert_eq!(s.peer_addr().unwrap(), addr);
                let mut b = [0; 1];
                s.read_exact(&mut b).await.unwrap();
            }
            // Host names: resolved on the blocking pool, then connected.
            let named = [
                TcpStream::connect(("localhost", port)).await,
                TcpStream::connect((String::from("localhost"), port)).await,
                TcpStream::connect(format!("localhost:{port}")).await,
            ];
            assert!(rt.metrics().tasks_spawned >= spawned + 3);
            for s in named {
                let s = s.expect("connect through \"localhost\"");
                assert_eq!(s.peer_addr().unwrap(), addr);
                let mut b = [0; 1];
                s.read_exact(&mut b).await.unwrap();
                assert_eq!(&b, b"!");
            }
            // Errors in names come back as errors.
            let err = TcpStream::connect("no port here").await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
            let err = TcpStream::connect(&[] as &[SocketAddr]).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
            // `bind` takes a host name too (resolved on this thread).
            let named_listener = TcpListener::bind("localhost:0").unwrap();
            assert!(named_listener.local_addr().unwrap().ip().is_loopback());
            let named_udp = UdpSocket::bind(("localhost", 0)).unwrap();
            assert!(named_udp.local_addr().unwrap().ip().is_loopback());
            acceptor.abort();
        });
    });
}

#[test]
fn connect_tries_each_address_in_turn() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let closed = closed_port();
            let closed2 = closed_port();
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let good = listener.local_addr().unwrap();
            let addrs = [closed.addr, good];
            let (stream, accepted) =
                futures::join!(TcpStream::connect(&addrs[..]), listener.accept());
            let stream = stream.expect("the second address works");
            assert_eq!(stream.peer_addr().unwrap(), good);
            assert_eq!(accepted.unwrap().1, stream.local_addr().unwrap());
            // None works: the last error.
            let err = TcpStream::connect(&[closed.addr, closed2.addr][..])
                .await
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
            // `bind` also tries each address: the first is taken.
            let taken = listener.local_addr().unwrap();
            let free = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
            let second = TcpListener::bind(&[taken, free][..])
                .expect("bind falls back to the second address");
            assert_ne!(second.local_addr().unwrap(), taken);
        });
    });
}

#[test]
fn os_errors_come_back_as_io_errors() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let err = TcpListener::bind(listener.local_addr().unwrap()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AddrInUse, "{err}");
            let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
            let err = UdpSocket::bind(udp.local_addr().unwrap()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AddrInUse, "{err}");
            let err = TcpListener::bind(&[] as &[SocketAddr]).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
            let err = UdpSocket::bind("not an address").unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
            let path = TempPath::new("in-use");
            let _unix = UnixListener::bind(&path).unwrap();
            let err = UnixListener::bind(&path).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AddrInUse, "{err}");
            // A UDP socket that is not connected has no peer.
            assert!(udp.peer_addr().is_err());
            let err = udp.send(b"nowhere").await.unwrap_err();
            assert!(
                matches!(
                    err.kind(),
                    ErrorKind::NotConnected | ErrorKind::InvalidInput
                ) || err.raw_os_error() == Some(libc::EDESTADDRREQ),
                "{err}"
            );
        });
    });
}

// ---------------------------------------------------------------------------
// TCP accessors and from_std
// ---------------------------------------------------------------------------

#[test]
fn tcp_addresses_nodelay_and_from_std() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (a, b) = tcp_pair().await;
            assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
            assert_eq!(a.local_addr().unwrap(), b.peer_addr().unwrap());
            assert!(a.local_addr().unwrap().ip().is_loopback());
            a.set_nodelay(true).unwrap();
            assert!(a.nodelay().unwrap());
            a.set_nodelay(false).unwrap();
            assert!(!a.nodelay().unwrap());
            assert!(is_nonblocking(a.as_raw_fd()) && is_nonblocking(b.as_raw_fd()));
            let _ = format!("{a:?} {b:?}");

            // TcpListener::from_std: non-blocking, same address, accepts.
            let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = std_listener.local_addr().unwrap();
            let listener = TcpListener::from_std(std_listener).unwrap();
            assert_eq!(listener.local_addr().unwrap(), addr);
            assert!(is_nonblocking(listener.as_raw_fd()));
            let _ = format!("{listener:?}");
            // An accept waits (the loop goes on) until a client comes.
            let acceptor = eddy::spawn(async move {
                let (s, peer) = listener.accept().await?;
                s.write_all(b"welcome").await?;
                Ok::<_, io::Error>((s, peer))
            });
            yield_now().await;
            assert!(!acceptor.is_finished());

            // TcpStream::from_std: a blocking std stream becomes non-blocking;
            // its reads wait in the loop, not in the kernel.
            let std_stream = std::net::TcpStream::connect(addr).unwrap();
            let stream = TcpStream::from_std(std_stream).unwrap();
            assert!(is_nonblocking(stream.as_raw_fd()));
            let (server_side, peer) = acceptor.await.unwrap().unwrap();
            assert_eq!(peer, stream.local_addr().unwrap());
            assert_eq!(stream.peer_addr().unwrap(), addr);
            let mut buf = [0; 7];
            stream.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"welcome");
            let stream = Rc::new(stream);
            let waiting = eddy::spawn({
                let stream = stream.clone();
                async move {
                    let mut buf = [0; 4];
                    stream.read_exact(&mut buf).await.map(|()| buf)
                }
            });
            yield_now().await;
            assert!(
                !waiting.is_finished(),
                "the read waits without blocking the loop"
            );
            server_side.write_all(b"ping").await.unwrap();
            assert_eq!(&waiting.await.unwrap().unwrap(), b"ping");
        });
    });
}

#[test]
fn tcp_linger_and_ttl() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (client, server) = tcp_pair().await;
            assert_eq!(client.linger().unwrap(), None, "off by default");
            for (set, get) in [
                (Some(Duration::from_secs(5)), Some(Duration::from_secs(5))),
                // Whole seconds, the fraction dropped (as tokio).
                (
                    Some(Duration::from_millis(2_900)),
                    Some(Duration::from_secs(2)),
                ),
                (Some(Duration::ZERO), Some(Duration::ZERO)),
                (None, None),
            ] {
                client.set_linger(set).unwrap();
                assert_eq!(client.linger().unwrap(), get, "set_linger({set:?})");
            }
            client.set_ttl(7).unwrap();
            assert_eq!(client.ttl().unwrap(), 7);
            // Linger zero: the close resets the connection.
            client.set_linger(Some(Duration::ZERO)).unwrap();
            drop(client);
            let err = server.read(&mut [0; 8]).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
        });
    });
}

// ---------------------------------------------------------------------------
// Several tasks on one object
// ---------------------------------------------------------------------------

#[test]
fn several_tasks_accept_on_one_listener() {
    watchdog(LIMIT, || {
        const ACCEPTORS: usize = 4;
        const EACH: usize = 5;
        eddy::block_on(async {
            let listener = Rc::new(TcpListener::bind("127.0.0.1:0").unwrap());
            let addr = listener.local_addr().unwrap();
            // Each acceptor takes exactly EACH connections, then ends. Were a
            // readiness edge to wake only one waiting acceptor, the others
            // would wait forever once it had its share (and the watchdog
            // would fail the test).
            let acceptors: Vec<_> = (0..ACCEPTORS)
                .map(|_| {
                    let listener = listener.clone();
                    eddy::spawn(async move {
                        let mut ids = Vec::new();
                        for _ in 0..EACH {
                            let (s, _) = listener.accept().await?;
                            let mut id = [0; 1];
                            s.read_exact(&mut id).await?;
                            ids.push(id[0]);
                            yield_now().await;
                        }
                        Ok::<_, io::Error>(ids)
                    })
                })
                .collect();
            // All of them wait before the first client comes.
            for _ in 0..3 {
                yield_now().await;
            }
            assert!(acceptors.iter().all(|a| !a.is_finished()));
            let clients = futures::future::join_all((0..ACCEPTORS * EACH).map(|i| async move {
                let s = TcpStream::connect(addr).await?;
                s.write_all(&[i as u8]).await?;
                Ok::<_, io::Error>(s)
            }))
            .await;
            let _clients: Vec<_> = clients.into_iter().map(Result::unwrap).collect();
            let mut all = Vec::new();
            for a in acceptors {
                let ids = a.await.unwrap().unwrap();
                assert_eq!(ids.len(), EACH);
                all.extend(ids);
            }
            all.sort_unstable();
            assert_eq!(all, (0..(ACCEPTORS * EACH) as u8).collect::<Vec<_>>());

            // The same through `poll_accept`, whose wakers are kept per task.
            let pollers: Vec<_> = (0..3)
                .map(|_| {
                    let listener = listener.clone();
                    eddy::spawn(async move {
                        let mut n = 0;
                        for _ in 0..2 {
                            let (s, _) = poll_fn(|cx| listener.poll_accept(cx)).await?;
                            drop(s);
                            n += 1;
                        }
                        Ok::<_, io::Error>(n)
                    })
                })
                .collect();
            for _ in 0..3 {
                yield_now().await;
            }
            assert!(pollers.iter().all(|p| !p.is_finished()));
            let clients = futures::future::join_all((0..6).map(|_| TcpStream::connect(addr))).await;
            assert!(clients.iter().all(Result::is_ok));
            for p in pollers {
                assert_eq!(p.await.unwrap().unwrap(), 2);
            }
        });
    });
}

#[test]
fn two_tasks_read_the_same_stream() {
    watchdog(LIMIT, || {
        const LEN: usize = 64 * 1024;
        eddy::block_on(async {
            let (a, b) = tcp_pair().await;
            let a = Rc::new(a);
            // Every read's bytes, in the order the reads completed: reads
            // run on one thread, so this is the order of the stream.
            let log: Rc<RefCell<Vec<u8>>> = Rc::default();
            let readers: Vec<_> = (0..2)
                .map(|_| {
                    let (a, log) = (a.clone(), log.clone());
                    eddy::spawn(async move {
                        let mut mine = 0;
                        let mut buf = [0; 100];
                        loop {
                            let n = a.read(&mut buf).await?;
                            if n == 0 {
                                return Ok::<_, io::Error>(mine);
                            }
                            log.borrow_mut().extend_from_slice(&buf[..n]);
                            mine += n;
                            yield_now().await;
                        }
                    })
                })
                .collect();
            yield_now().await;
            assert!(readers.iter().all(|r| !r.is_finished()));
            let data = pattern(LEN, 5);
            b.write_all(&data).await.unwrap();
            b.shutdown(Shutdown::Write).unwrap();
            let mut counts = Vec::new();
            for r in readers {
                counts.push(r.await.unwrap().unwrap());
            }
            assert_eq!(counts.iter().sum::<usize>(), LEN, "{counts:?}");
            assert!(
                counts.iter().all(|&n| n > 0),
                "each reader got some bytes: {counts:?}"
            );
            assert_same(&log.borrow(), &data, "the bytes both readers got, in order");
        });
    });
}

/// An echo task: copies what it reads back until end of stream, then shuts
/// down its write half.
fn spawn_echo(s: TcpStream) -> eddy::JoinHandle<io::Result<usize>> {
    eddy::spawn(async move {
        let mut total = 0;
        let mut buf = vec![0; 16 * 1024];
        loop {
            match s.read(&mut buf).await? {
                0 => break,
                n => {
                    s.write_all(&buf[..n]).await?;
                    total += n;
                }
            }
        }
        s.shutdown(Shutdown::Write)?;
        Ok(total)
    })
}

#[test]
fn one_stream_read_and_written_by_two_tasks_at_once() {
    watchdog(Duration::from_secs(20), || {
        const LEN: usize = 1 << 20;
        for through_traits in [false, true] {
            eddy::block_on(async {
                let (a, b) = tcp_pair().await;
                let echo = spawn_echo(b);
                let a = Rc::new(a);
                let data = Rc::new(pattern(LEN, 6));
                // 1 MB is far more than the socket buffers hold: the writer
                // and the reader must make progress at the same time.
                let writer = eddy::spawn({
                    let (a, data) = (a.clone(), data.clone());
                    async move {
                        if through_traits {
                            write_all_and_close(&*a, &data).await
                        } else {
                            a.write_all(&data).await?;
                            a.shutdown(Shutdown::Write)
                        }
                    }
                });
                let reader = eddy::spawn({
                    let a = a.clone();
                    async move {
                        if through_traits {
                            read_to_end(&*a).await
                        } else {
                            let mut buf = vec![0; LEN];
                            a.read_exact(&mut buf).await?;
                            assert_eq!(a.read(&mut [0; 8]).await?, 0);
                            Ok(buf)
                        }
                    }
                });
                writer.await.unwrap().unwrap();
                assert_same(&reader.await.unwrap().unwrap(), &data, "echoed");
                assert_eq!(echo.await.unwrap().unwrap(), LEN);
            });
        }
    });
}

#[test]
fn a_cancelled_wait_leaves_nothing_behind() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (a, b) = tcp_pair().await;
            let b = Rc::new(b);
            let mut buf = [0; 16];
            // Waits polled once and dropped (a no-op waker is left behind).
            assert!(b.read(&mut buf).now_or_never().is_none());
            assert!(b.readable().now_or_never().is_none());
            assert!(
                AsyncReadExt::read(&mut &*b, &mut buf)
                    .now_or_never()
                    .is_none()
            );
            // A task whose read waits is aborted; the next one to wait is
            // the one woken.
            let read_task = |b: Rc<TcpStream>| {
                eddy::spawn(async move {
                    let mut buf = [0; 16];
                    let n = b.read(&mut buf).await?;
                    Ok::<_, io::Error>(buf[..n].to_vec())
                })
            };
            let first = read_task(b.clone());
            let second = read_task(b.clone());
            let third = read_task(b.clone());
            yield_now().await;
            first.abort();
            third.abort();
            let fourth = read_task(b.clone());
            yield_now().await;
            a.write_all(b"data").await.unwrap();
            // Both live readers are woken; one gets the data, the other
            // finds nothing and waits again.
            let got = futures::future::select(second, fourth).await;
            let (winner, loser) = match got {
                futures::future::Either::Left((r, other)) => (r, other),
                futures::future::Either::Right((r, other)) => (r, other),
            };
            assert_eq!(winner.unwrap().unwrap(), b"data");
            a.write_all(b"more").await.unwrap();
            assert_eq!(loser.await.unwrap().unwrap(), b"more");

            // The same on a listener: three acceptors, one aborted.
            let listener = Rc::new(TcpListener::bind("127.0.0.1:0").unwrap());
            let addr = listener.local_addr().unwrap();
            let acceptors: Vec<_> = (0..3)
                .map(|_| {
                    let listener = listener.clone();
                    eddy::spawn(async move { listener.accept().await.map(|(_, peer)| peer) })
                })
                .collect();
            yield_now().await;
            acceptors[1].abort();
            let (c1, c2) = futures::join!(TcpStream::connect(addr), TcpStream::connect(addr));
            let mut peers = vec![
                c1.unwrap().local_addr().unwrap(),
                c2.unwrap().local_addr().unwrap(),
            ];
            let mut accepted = Vec::new();
            for (i, a) in acceptors.into_iter().enumerate() {
                match a.await {
                    Ok(peer) => accepted.push(peer.unwrap()),
                    Err(e) => assert!(i == 1 && e.is_cancelled()),
                }
            }
            peers.sort();
            accepted.sort();
            assert_eq!(accepted, peers);
        });
    });
}

#[test]
fn stream_types_are_unpin_and_implement_the_io_traits_for_t_and_ref_t() {
    watchdog(LIMIT, checks);
    // Compile-time checks: this compiles only if the bounds hold.
    fn checks() {
        io_traits::<TcpStream>();
        io_traits::<&TcpStream>();
        io_traits::<UnixStream>();
        io_traits::<&UnixStream>();
        io_traits::<Async<std::os::unix::net::UnixStream>>();
        io_traits::<&Async<std::os::unix::net::UnixStream>>();
        io_traits::<Async<File>>();
        io_traits::<&Async<File>>();
        eddy_io_traits::<TcpStream>();
        eddy_io_traits::<&UnixStream>();
        unpin::<TcpListener>();
        unpin::<UnixListener>();
        unpin::<UdpSocket>();
    }
    fn io_traits<T: AsyncRead + AsyncWrite + Unpin>() {}
    fn eddy_io_traits<T: eddy::io::AsyncRead + eddy::io::AsyncWrite>() {}
    fn unpin<T: Unpin>() {}
}

// ---------------------------------------------------------------------------
// UDP
// ---------------------------------------------------------------------------

#[test]
fn udp_send_to_and_recv_from() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let a = Rc::new(UdpSocket::bind("127.0.0.1:0").unwrap());
            let b = Rc::new(UdpSocket::bind("127.0.0.1:0").unwrap());
            let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
            // The receiver waits first.
            let receiver = eddy::spawn({
                let b = b.clone();
                async move {
                    let mut buf = [0; 64];
                    let (n, from) = b.recv_from(&mut buf).await?;
                    Ok::<_, io::Error>((buf[..n].to_vec(), from))
                }
            });
            yield_now().await;
            assert!(!receiver.is_finished());
            assert_eq!(a.send_to(b"hello", b_addr).await.unwrap(), 5);
            let (msg, from) = receiver.await.unwrap().unwrap();
            assert_eq!((msg.as_slice(), from), (&b"hello"[..], a_addr));
            // And back, by the address it came from.
            b.send_to(b"world", from).await.unwrap();
            let mut buf = [0; 64];
            let (n, from) = a.recv_from(&mut buf).await.unwrap();
            assert_eq!((&buf[..n], from), (&b"world"[..], b_addr));
            // Many datagrams keep their boundaries and their order.
            for i in 0..50u8 {
                a.send_to(&vec![i; i as usize + 1], b_addr).await.unwrap();
            }
            for i in 0..50u8 {
                let (n, from) = b.recv_from(&mut buf).await.unwrap();
                assert_eq!((&buf[..n], from), (&vec![i; i as usize + 1][..], a_addr));
            }
            // UdpSocket::from_std.
            let c = UdpSocket::from_std(std::net::UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap();
            assert!(is_nonblocking(c.as_raw_fd()));
            c.send_to(b"from std", a_addr).await.unwrap();
            let (n, from) = a.recv_from(&mut buf).await.unwrap();
            assert_eq!(
                (&buf[..n], from),
                (&b"from std"[..], c.local_addr().unwrap())
            );
            let _ = format!("{c:?}");
        });
    });
}

#[test]
fn udp_connect_send_and_recv() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let a = UdpSocket::bind("127.0.0.1:0").unwrap();
            let b = UdpSocket::bind("127.0.0.1:0").unwrap();
            let stranger = UdpSocket::bind("127.0.0.1:0").unwrap();
            let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
            a.connect(b_addr).unwrap();
            b.connect(a_addr).unwrap();
            assert_eq!(a.peer_addr().unwrap(), b_addr);
            assert_eq!(b.peer_addr().unwrap(), a_addr);
            // A connected socket hears only from its peer.
            stranger.send_to(b"not for you", b_addr).await.unwrap();
            assert_eq!(a.send(b"for b").await.unwrap(), 5);
            let mut buf = [0; 32];
            let n = b.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"for b");
            b.send(b"for a").await.unwrap();
            let n = a.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"for a");
            // `connect` with a host name.
            let c = UdpSocket::bind("127.0.0.1:0").unwrap();
            c.connect(format!("localhost:{}", a_addr.port())).unwrap();
            assert_eq!(c.peer_addr().unwrap().port(), a_addr.port());
        });
    });
}

#[test]
fn udp_datagram_longer_than_the_buffer_is_truncated() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let a = UdpSocket::bind("127.0.0.1:0").unwrap();
            let b = UdpSocket::bind("127.0.0.1:0").unwrap();
            let b_addr = b.local_addr().unwrap();
            let long = pattern(100, 7);
            a.send_to(&long, b_addr).await.unwrap();
            a.send_to(b"next", b_addr).await.unwrap();
            let mut small = [0; 10];
            let (n, from) = b
                .recv_from(&mut small)
                .await
                .expect("truncation is not an error");
            assert_eq!((n, from), (10, a.local_addr().unwrap()));
            assert_eq!(&small[..], &long[..10]);
            // The rest of that datagram is gone; the next one is whole.
            let mut buf = [0; 100];
            let (n, _) = b.recv_from(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"next");
            // Same for connected sockets.
            a.connect(b_addr).unwrap();
            b.connect(a.local_addr().unwrap()).unwrap();
            a.send(&long).await.unwrap();
            assert_eq!(b.recv(&mut small).await.unwrap(), 10);
            assert_eq!(&small[..], &long[..10]);
        });
    });
}

#[test]
fn udp_send_to_a_host_name() {
    watchdog(LIMIT, || {
        // `send_to` sends to the first address the name resolves to (as
        // std and tokio do): bind to that one's family ("localhost" may be
        // ::1 first on some hosts, 127.0.0.1 on others).
        let first = std::net::ToSocketAddrs::to_socket_addrs(&("localhost", 0))
            .unwrap()
            .next()
            .expect("localhost resolves");
        let here = SocketAddr::new(first.ip(), 0);
        eddy::block_on(async move {
            let a = UdpSocket::bind(here).unwrap();
            let b = UdpSocket::bind(here).unwrap();
            let port = b.local_addr().unwrap().port();
            let mut buf = [0; 16];
            a.send_to(b"by name", format!("localhost:{port}"))
                .await
                .unwrap();
            let (n, from) = b.recv_from(&mut buf).await.unwrap();
            assert_eq!(
                (&buf[..n], from),
                (&b"by name"[..], a.local_addr().unwrap())
            );
            a.send_to(b"by pair", ("localhost", port)).await.unwrap();
            let (n, _) = b.recv_from(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"by pair");
        });
    });
}

#[test]
fn udp_readiness_and_try_methods() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let a = UdpSocket::bind("127.0.0.1:0").unwrap();
            let b = Rc::new(UdpSocket::bind("127.0.0.1:0").unwrap());
            let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
            let mut buf = [0; 16];
            for e in [
                b.try_recv_from(&mut buf).unwrap_err(),
                b.try_peek_from(&mut buf).unwrap_err(),
            ] {
                assert_eq!(e.kind(), ErrorKind::WouldBlock);
            }
            // readable() waits for a datagram; writable() for the first event.
            let waiter = eddy::spawn({
                let b = b.clone();
                async move { b.readable().await.unwrap() }
            });
            a.writable().await.unwrap();
            reactor_round_trip().await;
            assert!(!waiter.is_finished(), "readable() with nothing queued");
            assert_eq!(a.try_send_to(b"one", b_addr).unwrap(), 3);
            waiter.await.unwrap();
            let ready = b
                .ready(Interest::READABLE | Interest::WRITABLE)
                .await
                .unwrap();
            assert!(ready.is_readable() && ready.is_writable(), "{ready:?}");
            assert_eq!(b.try_peek_from(&mut buf).unwrap(), (3, a_addr));
            assert_eq!(b.try_recv_from(&mut buf).unwrap(), (3, a_addr));
            assert_eq!(&buf[..3], b"one");
            assert_eq!(
                b.try_recv_from(&mut buf).unwrap_err().kind(),
                ErrorKind::WouldBlock
            );
            // Connected: try_send and try_recv.
            a.connect(b_addr).unwrap();
            b.connect(a_addr).unwrap();
            assert_eq!(
                b.try_recv(&mut buf).unwrap_err().kind(),
                ErrorKind::WouldBlock
            );
            assert_eq!(a.try_send(b"two").unwrap(), 3);
            b.readable().await.unwrap();
            assert_eq!(b.try_recv(&mut buf).unwrap(), 3);
            assert_eq!(&buf[..3], b"two");
        });
    });
}

#[test]
fn udp_peek_peek_from_and_peek_sender_leave_the_datagram() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let a = UdpSocket::bind("127.0.0.1:0").unwrap();
            let b = Rc::new(UdpSocket::bind("127.0.0.1:0").unwrap());
            let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
            // Each waits for a datagram.
            let peekers = eddy::spawn({
                let b = b.clone();
                async move {
                    let sender = b.peek_sender().await.unwrap();
                    let mut buf = [0; 16];
                    let (n, from) = b.peek_from(&mut buf).await.unwrap();
                    (sender, buf[..n].to_vec(), from)
                }
            });
            reactor_round_trip().await;
            assert!(!peekers.is_finished());
            a.send_to(b"datagram", b_addr).await.unwrap();
            let (sender, data, from) = peekers.await.unwrap();
            assert_eq!(
                (sender, data.as_slice(), from),
                (a_addr, &b"datagram"[..], a_addr)
            );
            // Still queued, whole: a short peek cuts only what it returns.
            let mut small = [0; 4];
            assert_eq!(b.peek_from(&mut small).await.unwrap(), (4, a_addr));
            let mut buf = [0; 16];
            assert_eq!(b.recv_from(&mut buf).await.unwrap(), (8, a_addr));
            assert_eq!(&buf[..8], b"datagram");
            // peek on a connected socket.
            b.connect(a_addr).unwrap();
            a.send_to(b"again", b_addr).await.unwrap();
            assert_eq!(b.peek(&mut buf).await.unwrap(), 5);
            assert_eq!(b.recv(&mut buf).await.unwrap(), 5);
            assert_eq!(&buf[..5], b"again");
        });
    });
}

#[test]
fn udp_poll_methods() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let a = UdpSocket::bind("127.0.0.1:0").unwrap();
            let b = Rc::new(UdpSocket::bind("127.0.0.1:0").unwrap());
            let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
            // poll_recv_from waits, and its task is woken by the datagram.
            let receiver = eddy::spawn({
                let b = b.clone();
                async move {
                    let mut buf = [0; 16];
                    let (n, from) = poll_fn(|cx| b.poll_recv_from(cx, &mut buf)).await.unwrap();
                    (buf[..n].to_vec(), from)
                }
            });
            reactor_round_trip().await;
            assert!(!receiver.is_finished());
            poll_fn(|cx| a.poll_send_ready(cx)).await.unwrap();
            let n = poll_fn(|cx| a.poll_send_to(cx, b"first", b_addr))
                .await
                .unwrap();
            assert_eq!(n, 5);
            assert_eq!(receiver.await.unwrap(), (b"first".to_vec(), a_addr));
            // poll_peek_from leaves it; poll_recv_ready says it is there.
            a.send_to(b"second", b_addr).await.unwrap();
            poll_fn(|cx| b.poll_recv_ready(cx)).await.unwrap();
            let mut buf = [0; 16];
            let got = poll_fn(|cx| b.poll_peek_from(cx, &mut buf)).await.unwrap();
            assert_eq!(got, (6, a_addr));
            let got = poll_fn(|cx| b.poll_recv_from(cx, &mut buf)).await.unwrap();
            assert_eq!((&buf[..got.0], got.1), (&b"second"[..], a_addr));
            // Connected: poll_send and poll_recv (cut to the buffer, as recv).
            a.connect(b_addr).unwrap();
            b.connect(a_addr).unwrap();
            let n = poll_fn(|cx| a.poll_send(cx, b"third!")).await.unwrap();
            assert_eq!(n, 6);
            let mut small = [0; 5];
            let n = poll_fn(|cx| b.poll_recv(cx, &mut small)).await.unwrap();
            assert_eq!((n, &small), (5, b"third"));
        });
    });
}

#[test]
fn udp_socket_options() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let v4 = UdpSocket::bind("127.0.0.1:0").unwrap();
            assert!(!v4.broadcast().unwrap());
            v4.set_broadcast(true).unwrap();
            assert!(v4.broadcast().unwrap());
            v4.set_ttl(42).unwrap();
            assert_eq!(v4.ttl().unwrap(), 42);
            assert!(v4.multicast_loop_v4().unwrap(), "on by default");
            v4.set_multicast_loop_v4(false).unwrap();
            assert!(!v4.multicast_loop_v4().unwrap());
            assert_eq!(v4.multicast_ttl_v4().unwrap(), 1, "1 by default");
            v4.set_multicast_ttl_v4(9).unwrap();
            assert_eq!(v4.multicast_ttl_v4().unwrap(), 9);
            assert_eq!(v4.tos().unwrap(), 0);
            v4.set_tos(0x10).unwrap(); // IPTOS_LOWDELAY
            assert_eq!(v4.tos().unwrap(), 0x10);
            // The TOS byte travels with the datagrams; they still arrive.
            let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
            v4.send_to(b"tos", peer.local_addr().unwrap())
                .await
                .unwrap();
            let mut buf = [0; 8];
            assert_eq!(peer.recv_from(&mut buf).await.unwrap().0, 3);
            match UdpSocket::bind("[::1]:0") {
                Ok(v6) => {
                    assert!(v6.multicast_loop_v6().unwrap());
                    v6.set_multicast_loop_v6(false).unwrap();
                    assert!(!v6.multicast_loop_v6().unwrap());
                    // IPv6 options on an IPv4 socket are the OS's error.
                    assert!(v4.set_multicast_loop_v6(true).is_err());
                }
                Err(e) => println!("note: no IPv6 loopback ({e}); IPv6 options not tested"),
            }
        });
    });
}

/// The interface index of the loopback device.
fn loopback_index() -> u32 {
    // SAFETY: if_nametoindex reads the NUL-terminated name we pass.
    unsafe { libc::if_nametoindex(c"lo".as_ptr()) }
}

/// Sends `msg` from `sender` to `group` and returns what `receiver` got,
/// or `None` (with a note) if the machine does not deliver it.
async fn multicast_round(
    sender: &UdpSocket,
    receiver: &UdpSocket,
    group: SocketAddr,
    msg: &[u8],
) -> Option<Vec<u8>> {
    if let Err(e) = sender.send_to(msg, group).await {
        println!("note: multicast send to {group} refused ({e}); skipped");
        return None;
    }
    let mut buf = [0; 64];
    match eddy::time::timeout(Duration::from_secs(2), receiver.recv_from(&mut buf)).await {
        Ok(got) => {
            let (n, from) = got.unwrap();
            assert_eq!(from, sender.local_addr().unwrap());
            Some(buf[..n].to_vec())
        }
        Err(_) => {
            println!("note: multicast to {group} not delivered on loopback; skipped");
            None
        }
    }
}

#[test]
fn udp_multicast_on_loopback_v4_and_v6() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            // IPv4: a group joined on 127.0.0.1; the sender, bound to
            // 127.0.0.1, sends through the loopback device.
            let group = Ipv4Addr::new(239, 255, 42, 99);
            let receiver = UdpSocket::bind("0.0.0.0:0").unwrap();
            let port = receiver.local_addr().unwrap().port();
            match receiver.join_multicast_v4(group, Ipv4Addr::LOCALHOST) {
                Err(e) => println!("note: the machine refuses multicast ({e}); IPv4 skipped"),
                Ok(()) => {
                    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
                    let to = SocketAddr::from((group, port));
                    if let Some(got) = multicast_round(&sender, &receiver, to, b"v4 group").await {
                        assert_eq!(got, b"v4 group");
                        receiver
                            .leave_multicast_v4(group, Ipv4Addr::LOCALHOST)
                            .unwrap();
                        // Left: leaving again is an error; nothing more comes.
                        assert!(
                            receiver
                                .leave_multicast_v4(group, Ipv4Addr::LOCALHOST)
                                .is_err()
                        );
                        sender.send_to(b"after", to).await.unwrap();
                        let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
                        probe.send_to(b"probe", ("127.0.0.1", port)).await.unwrap();
                        let mut buf = [0; 16];
                        let (n, _) = receiver.recv_from(&mut buf).await.unwrap();
                        assert_eq!(&buf[..n], b"probe", "a datagram to a group left");
                    }
                }
            }
            // IPv6: a link-local group on the loopback device.
            let Ok(receiver) = UdpSocket::bind("[::]:0") else {
                println!("note: no IPv6; IPv6 multicast skipped");
                return;
            };
            let port = receiver.local_addr().unwrap().port();
            let group: std::net::Ipv6Addr = "ff02::4242".parse().unwrap();
            let lo = loopback_index();
            match receiver.join_multicast_v6(&group, lo) {
                Err(e) => println!("note: the machine refuses IPv6 multicast ({e}); skipped"),
                Ok(()) => {
                    let sender = UdpSocket::bind("[::1]:0").unwrap();
                    let to = SocketAddr::V6(std::net::SocketAddrV6::new(group, port, 0, lo));
                    if let Some(got) = multicast_round(&sender, &receiver, to, b"v6 group").await {
                        assert_eq!(got, b"v6 group");
                    }
                    receiver.leave_multicast_v6(&group, lo).unwrap();
                    assert!(receiver.leave_multicast_v6(&group, lo).is_err());
                }
            }
        });
    });
}

// ---------------------------------------------------------------------------
// Unix-domain sockets
// ---------------------------------------------------------------------------

#[test]
fn unix_listener_accept_and_connect() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let path = TempPath::new("listen");
            let listener = Rc::new(UnixListener::bind(&path).unwrap());
            assert_eq!(
                listener.local_addr().unwrap().as_pathname(),
                Some(path.0.as_path())
            );
            let _ = format!("{listener:?}");
            // The server waits for connections; each echoes one message.
            let server = eddy::spawn({
                let listener = listener.clone();
                async move {
                    for _ in 0..3 {
                        let (s, _) = listener.accept().await?;
                        let mut buf = [0; 5];
                        s.read_exact(&mut buf).await?;
                        s.write_all(&buf).await?;
                    }
                    Ok::<_, io::Error>(())
                }
            });
            yield_now().await;
            assert!(!server.is_finished());
            for msg in [b"one..", b"two..", b"three"] {
                let s = UnixStream::connect(&path.0).await.unwrap();
                assert_eq!(s.peer_addr().unwrap().as_pathname(), Some(path.0.as_path()));
                assert!(s.local_addr().unwrap().is_unnamed());
                s.write_all(msg).await.unwrap();
                let mut buf = [0; 5];
                s.read_exact(&mut buf).await.unwrap();
                assert_eq!(&buf, msg);
            }
            server.await.unwrap().unwrap();

            // poll_accept and from_std.
            let std_path = TempPath::new("from-std");
            let from_std =
                UnixListener::from_std(std::os::unix::net::UnixListener::bind(&std_path).unwrap())
                    .unwrap();
            assert!(is_nonblocking(from_std.as_raw_fd()));
            let std_client = std::os::unix::net::UnixStream::connect(&std_path).unwrap();
            let client = UnixStream::from_std(std_client).unwrap();
            assert!(is_nonblocking(client.as_raw_fd()));
            let (s, _) = poll_fn(|cx| from_std.poll_accept(cx)).await.unwrap();
            client.write_all(b"via std").await.unwrap();
            let mut buf = [0; 7];
            s.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"via std");
        });
    });
}

#[test]
fn unix_pair_half_close_and_big_transfer() {
    watchdog(Duration::from_secs(20), || {
        eddy::block_on(async {
            let (a, b) = UnixStream::pair().unwrap();
            a.write_all(b"from a").await.unwrap();
            a.shutdown(Shutdown::Write).unwrap();
            let mut buf = [0; 6];
            b.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"from a");
            assert_eq!(
                b.read(&mut buf).await.unwrap(),
                0,
                "end of stream after shutdown(Write)"
            );
            b.write_all(b"from b").await.unwrap();
            a.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"from b");
            let err = a.write(b"x").await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::BrokenPipe, "{err}");

            // 4 MB each way at once, two tasks per stream.
            const LEN: usize = 4 << 20;
            let (c, d) = UnixStream::pair().unwrap();
            let (c, d) = (Rc::new(c), Rc::new(d));
            let (c_to_d, d_to_c) = (Rc::new(pattern(LEN, 10)), Rc::new(pattern(LEN, 11)));
            let mut tasks = Vec::new();
            for (s, data) in [(c.clone(), c_to_d.clone()), (d.clone(), d_to_c.clone())] {
                tasks.push(eddy::spawn(async move {
                    s.write_all(&data).await?;
                    s.shutdown(Shutdown::Write)?;
                    Ok::<_, io::Error>(Vec::new())
                }));
            }
            for s in [c.clone(), d.clone()] {
                tasks.push(eddy::spawn(async move { read_to_end(&*s).await }));
            }
            let mut results = Vec::new();
            for t in tasks {
                results.push(t.await.unwrap().unwrap());
            }
            assert_same(&results[2], &d_to_c, "d to c");
            assert_same(&results[3], &c_to_d, "c to d");
        });
    });
}

#[test]
fn unix_connect_errors() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let missing = TempPath::new("missing");
            let err = UnixStream::connect(&missing.0).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
            // A socket file with nobody listening.
            let stale = TempPath::new("stale");
            drop(UnixListener::bind(&stale).unwrap());
            assert!(stale.0.exists());
            let err = UnixStream::connect(&stale.0).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
        });
    });
}

/// Bug 6 of issue 16: a path that starts with NUL (an abstract name) was
/// refused with "paths must not contain interior null bytes".
#[cfg(target_os = "linux")]
#[test]
fn unix_abstract_names_by_path_and_by_address() {
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::net::SocketAddr as UnixAddr;
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let name = format!("eddy-test-{}-abstract", std::process::id());
            // bind and connect with "\0name".
            let path = format!("\0{name}-path");
            let listener = UnixListener::bind(&path).unwrap();
            let local = listener.local_addr().unwrap();
            assert_eq!(
                local.as_abstract_name(),
                Some(format!("{name}-path").as_bytes())
            );
            assert_eq!(local.as_pathname(), None, "no file");
            let (client, accepted) = futures::join!(UnixStream::connect(&path), listener.accept());
            let (client, (server, _)) = (client.unwrap(), accepted.unwrap());
            client.write_all(b"abstract").await.unwrap();
            let mut buf = [0; 8];
            server.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"abstract");
            // bind_addr and connect_addr with a std SocketAddr.
            let addr = UnixAddr::from_abstract_name(format!("{name}-addr")).unwrap();
            let listener = UnixListener::bind_addr(&addr).unwrap();
            let client = UnixStream::connect_addr(&addr).await.unwrap();
            let (server, _) = listener.accept().await.unwrap();
            server.write_all(b"back").await.unwrap();
            client.read_exact(&mut buf[..4]).await.unwrap();
            assert_eq!(&buf[..4], b"back");
            assert_eq!(
                client.peer_addr().unwrap().as_abstract_name(),
                Some(format!("{name}-addr").as_bytes())
            );
            // And with a path address.
            let file = TempPath::new("by-addr.sock");
            let addr = UnixAddr::from_pathname(&file).unwrap();
            let listener = UnixListener::bind_addr(&addr).unwrap();
            assert!(file.0.exists());
            let _client = UnixStream::connect_addr(&addr).await.unwrap();
            listener.accept().await.unwrap();
        });
    });
}

// ---------------------------------------------------------------------------
// eddy::io::Async
// ---------------------------------------------------------------------------

#[test]
fn async_wraps_a_std_unix_stream() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (x, y) = std::os::unix::net::UnixStream::pair().unwrap();
            assert!(!is_nonblocking(x.as_raw_fd()));
            let (x, y) = (Rc::new(Async::new(x).unwrap()), Async::new(y).unwrap());
            assert!(is_nonblocking(x.as_raw_fd()) && is_nonblocking(y.get_ref().as_raw_fd()));
            assert_eq!(x.as_raw_fd(), x.get_ref().as_raw_fd());
            assert!(x.get_ref().peer_addr().unwrap().is_unnamed());
            // `as_ref` is `get_ref`, as in async-io.
            assert!(std::ptr::eq((*x).as_ref(), x.get_ref()));
            let _ = format!("{y:?}");
            // A read waits until data comes.
            let reader = eddy::spawn({
                let x = x.clone();
                async move {
                    let mut buf = [0; 16];
                    let n = x.read_with(|mut s| s.read(&mut buf)).await?;
                    Ok::<_, io::Error>(buf[..n].to_vec())
                }
            });
            yield_now().await;
            assert!(!reader.is_finished());
            y.writable().await.unwrap();
            assert_eq!(y.write_with(|mut s| s.write(b"ping")).await.unwrap(), 4);
            assert_eq!(reader.await.unwrap().unwrap(), b"ping");
            // readable() then a read.
            y.write_with(|mut s| s.write(b"pong")).await.unwrap();
            x.readable().await.unwrap();
            let mut buf = [0; 16];
            let n = x.read_with(|mut s| s.read(&mut buf)).await.unwrap();
            assert_eq!(&buf[..n], b"pong");
            // The futures_io traits through `&Async`.
            let mut y_ref = &y;
            AsyncWriteExt::write_all(&mut y_ref, b"traits")
                .await
                .unwrap();
            let mut x_ref = &*x;
            AsyncReadExt::read_exact(&mut x_ref, &mut buf[..6])
                .await
                .unwrap();
            assert_eq!(&buf[..6], b"traits");
            // poll_readable / poll_writable.
            poll_fn(|cx| y.poll_writable(cx)).await.unwrap();
            y.write_with(|mut s| s.write(b"!")).await.unwrap();
            poll_fn(|cx| x.poll_readable(cx)).await.unwrap();
            let n = x.read_with(|mut s| s.read(&mut buf)).await.unwrap();
            assert_eq!(&buf[..n], b"!");
            // Errors of the operation come back as they are.
            let err = x
                .read_with(|_| Err::<(), _>(io::Error::other("mine")))
                .await
                .unwrap_err();
            assert_eq!(err.to_string(), "mine");
            // End of stream.
            drop(y);
            assert_eq!(x.read_with(|mut s| s.read(&mut buf)).await.unwrap(), 0);
        });
    });
}

#[test]
fn async_pipe_write_with_read_with_and_eof() {
    watchdog(Duration::from_secs(20), || {
        const LEN: usize = 1 << 20;
        eddy::block_on(async {
            let (r, w) = pipe();
            assert!(!is_nonblocking(r.as_raw_fd()) && !is_nonblocking(w.as_raw_fd()));
            let (r, w) = (Async::new(r).unwrap(), Async::new(w).unwrap());
            assert!(
                is_nonblocking(r.as_raw_fd()),
                "Async::new makes the fd non-blocking"
            );
            assert!(
                is_nonblocking(w.as_raw_fd()),
                "Async::new makes the fd non-blocking"
            );
            let data = Rc::new(pattern(LEN, 12));
            // 1 MB through a pipe of 64 KB: the writer waits for the reader.
            let writer = eddy::spawn({
                let data = data.clone();
                async move {
                    let mut off = 0;
                    while off < data.len() {
                        off += w.write_with(|mut f| f.write(&data[off..])).await?;
                    }
                    drop(w); // closes the write end
                    Ok::<_, io::Error>(())
                }
            });
            let mut got = Vec::with_capacity(LEN);
            let mut buf = vec![0; 10_000];
            loop {
                match r.read_with(|mut f| f.read(&mut buf)).await.unwrap() {
                    0 => break,
                    n => got.extend_from_slice(&buf[..n]),
                }
            }
            writer.await.unwrap().unwrap();
            assert_same(&got, &data, "through the pipe");
            // End of stream stays.
            assert_eq!(r.read_with(|mut f| f.read(&mut buf)).await.unwrap(), 0);
        });
    });
}

/// `Async<T>` reads and writes through `&mut T`, so types that are `Read`
/// or `Write` only by value (std's child pipes) are `AsyncRead` /
/// `AsyncWrite` too, not only those that read through `&T`.
#[test]
fn async_of_a_std_child_pipe_is_async_read_and_write() {
    fn is_async_read<T: AsyncRead>() {}
    fn is_async_write<T: AsyncWrite>() {}
    is_async_read::<Async<std::process::ChildStdout>>();
    is_async_read::<Async<std::process::ChildStderr>>();
    is_async_write::<Async<std::process::ChildStdin>>();
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let mut child = std::process::Command::new("cat")
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdin = Async::new(child.stdin.take().unwrap()).unwrap();
            let mut stdout = Async::new(child.stdout.take().unwrap()).unwrap();
            stdin.write_all(b"through cat\n").await.unwrap();
            stdin.close().await.unwrap();
            drop(stdin); // end of input for cat
            let mut out = String::new();
            stdout.read_to_string(&mut out).await.unwrap();
            assert_eq!(out, "through cat\n");
            assert!(child.wait().unwrap().success());
        });
    });
}

#[test]
fn async_into_inner_deregisters_and_returns_the_object() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (x, mut y) = std::os::unix::net::UnixStream::pair().unwrap();
            let x = Async::new(x).unwrap();
            let fd = x.as_raw_fd();
            let mut x = x.into_inner().unwrap();
            assert_eq!(x.as_raw_fd(), fd);
            // Still a working std object (and still non-blocking).
            assert!(is_nonblocking(fd));
            assert_eq!(
                x.read(&mut [0; 4]).unwrap_err().kind(),
                ErrorKind::WouldBlock
            );
            y.write_all(b"std").unwrap();
            let mut buf = [0; 3];
            x.read_exact(&mut buf).unwrap();
            assert_eq!(&buf, b"std");
            // Deregistered: the same fd registers again (epoll would say
            // EEXIST were it still registered), and works.
            let x = Async::new(x).expect("registering the same fd again after into_inner");
            y.write_all(b"again").unwrap();
            let mut buf = [0; 5];
            let n = x.read_with(|mut s| s.read(&mut buf)).await.unwrap();
            assert_eq!(&buf[..n], &b"again"[..n]);
            // into_inner on a pipe end too, then plain blocking use.
            let (r, w) = pipe();
            let w = Async::new(w).unwrap();
            w.write_with(|mut f| f.write(b"end")).await.unwrap();
            let mut w = w.into_inner().unwrap();
            w.write_all(b"!").unwrap();
            drop(w);
            let mut r = r;
            let mut all = String::new();
            r.read_to_string(&mut all).unwrap();
            assert_eq!(all, "end!");
        });
    });
}

/// Whether epoll here accepts a regular file (Linux refuses with EPERM).
fn epoll_accepts_regular_file(file: &File) -> Result<(), i32> {
    // SAFETY: a fresh epoll fd, closed at the end; the event struct is a live local.
    unsafe {
        let ep = libc::epoll_create1(libc::EPOLL_CLOEXEC);
        assert!(ep >= 0);
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: 0,
        };
        let r = libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, file.as_raw_fd(), &mut ev);
        let err = io::Error::last_os_error().raw_os_error().unwrap_or(0);
        libc::close(ep);
        if r == 0 { Ok(()) } else { Err(err) }
    }
}

#[test]
fn async_new_on_a_regular_file_is_an_error() {
    watchdog(LIMIT, || {
        let path =
            std::env::temp_dir().join(format!("eddy-net-{}-regular.txt", std::process::id()));
        fs::write(&path, b"plain file").unwrap();
        let oracle = epoll_accepts_regular_file(&File::open(&path).unwrap());
        eddy::block_on(async {
            let result = Async::new(File::open(&path).unwrap());
            match oracle {
                Err(errno) => {
                    let err = result.expect_err("epoll refuses regular files");
                    assert_eq!(err.raw_os_error(), Some(errno), "{err}");
                    assert_eq!(errno, libc::EPERM);
                }
                // Some kernels (gVisor, for one) accept regular files: then
                // the file works as an always-ready descriptor.
                Ok(()) => {
                    let file = result.expect("epoll accepts regular files here");
                    let mut buf = [0; 16];
                    let n = file.read_with(|mut f| f.read(&mut buf)).await.unwrap();
                    assert_eq!(&buf[..n], b"plain file");
                }
            }
            // The runtime goes on.
            let (a, b) = UnixStream::pair().unwrap();
            a.write_all(b"ok").await.unwrap();
            let mut buf = [0; 2];
            b.read_exact(&mut buf).await.unwrap();
        });
        fs::remove_file(&path).unwrap();
    });
}

#[test]
fn readable_may_complete_spuriously_and_read_with_retries() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (x, y) = std::os::unix::net::UnixStream::pair().unwrap();
            let (x, y) = (Rc::new(Async::new(x).unwrap()), Async::new(y).unwrap());
            y.write_with(|mut s| s.write(b"a")).await.unwrap();
            x.readable().await.unwrap();
            // Someone else takes the data behind the reactor's back: the
            // readiness seen is now stale (a spurious wake-up, in effect).
            let mut buf = [0; 8];
            assert_eq!(x.get_ref().read(&mut buf).unwrap(), 1);
            assert_eq!(
                x.get_ref().read(&mut buf).unwrap_err().kind(),
                ErrorKind::WouldBlock
            );
            // readable() still completes at once: that is allowed.
            x.readable()
                .now_or_never()
                .expect("stale readiness")
                .unwrap();
            // read_with sees WouldBlock, waits, and retries when data comes.
            let attempts = Rc::new(Cell::new(0));
            let reader = eddy::spawn({
                let (x, attempts) = (x.clone(), attempts.clone());
                async move {
                    let mut buf = [0; 8];
                    let n = x
                        .read_with(|mut s| {
                            attempts.set(attempts.get() + 1);
                            s.read(&mut buf)
                        })
                        .await?;
                    Ok::<_, io::Error>(buf[..n].to_vec())
                }
            });
            for _ in 0..3 {
                yield_now().await;
            }
            assert!(
                !reader.is_finished(),
                "WouldBlock is not returned, it is waited on"
            );
            assert_eq!(attempts.get(), 1, "no busy retrying while nothing is ready");
            y.write_with(|mut s| s.write(b"b")).await.unwrap();
            assert_eq!(reader.await.unwrap().unwrap(), b"b");
            assert_eq!(attempts.get(), 2);
        });
    });
}

#[test]
fn several_tasks_wait_on_one_async_in_each_direction() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (x, y) = std::os::unix::net::UnixStream::pair().unwrap();
            let (x, y) = (Rc::new(Async::new(x).unwrap()), Async::new(y).unwrap());
            // Make x not readable as far as the reactor knows.
            assert!(
                x.read_with(|mut s| s.read(&mut [0; 8]))
                    .now_or_never()
                    .is_none()
            );
            let readers: Vec<_> = (0..3)
                .map(|_| {
                    let x = x.clone();
                    eddy::spawn(async move { x.readable().await })
                })
                .collect();
            yield_now().await;
            assert!(readers.iter().all(|r| !r.is_finished()));
            y.write_with(|mut s| s.write(b"wake")).await.unwrap();
            for r in readers {
                r.await.unwrap().unwrap();
            }
            // Fill x's send buffer until the OS says WouldBlock.
            let chunk = vec![0u8; 64 * 1024];
            let mut sent = 0;
            while let Some(n) = x.write_with(|mut s| s.write(&chunk)).now_or_never() {
                sent += n.unwrap();
            }
            assert!(sent > 0);
            let writers: Vec<_> = (0..3)
                .map(|_| {
                    let x = x.clone();
                    eddy::spawn(async move { x.writable().await })
                })
                .collect();
            yield_now().await;
            assert!(writers.iter().all(|w| !w.is_finished()));
            // Drain y: x becomes writable, every writer wakes.
            let mut drained = 0;
            let mut buf = vec![0u8; 64 * 1024];
            while drained < sent {
                drained += y.read_with(|mut s| s.read(&mut buf)).await.unwrap();
            }
            for w in writers {
                w.await.unwrap().unwrap();
            }
        });
    });
}

// ---------------------------------------------------------------------------
// Readiness: waits say what epoll said, operations try first
// ---------------------------------------------------------------------------

/// Completes once the reactor has delivered an event made after the call:
/// by then, every event pending at the call has been taken in too.
async fn reactor_round_trip() {
    let (x, y) = UnixStream::pair().unwrap();
    // A read that says WouldBlock: x now waits for a real edge.
    assert!(x.read(&mut [0; 1]).now_or_never().is_none());
    y.write_all(b"!").await.unwrap();
    x.read_exact(&mut [0; 1]).await.unwrap();
}

/// A waker that counts its wakes.
struct WakeCount(std::sync::atomic::AtomicUsize);

impl std::task::Wake for WakeCount {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

fn wake_count() -> (std::sync::Arc<WakeCount>, std::task::Waker) {
    let count = std::sync::Arc::new(WakeCount(0.into()));
    (count.clone(), std::task::Waker::from(count))
}

/// Bug 1 of issue 16: on a fresh socket, `readable()` completed at once.
#[test]
fn readable_on_a_fresh_socket_waits_until_the_peer_writes() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (client, server) = tcp_pair().await;
            let peer_wrote = Rc::new(Cell::new(false));
            let reader = eddy::spawn({
                let peer_wrote = peer_wrote.clone();
                async move {
                    server.readable().await.unwrap();
                    assert!(
                        peer_wrote.get(),
                        "readable() completed before the peer wrote"
                    );
                    server
                }
            });
            // The reader's first poll and the server socket's first event
            // (writable only) both come and go.
            for _ in 0..3 {
                reactor_round_trip().await;
            }
            assert!(!reader.is_finished(), "readable() completed with no data");
            peer_wrote.set(true);
            client.write_all(b"data").await.unwrap();
            let server = reader.await.unwrap();
            let mut buf = [0; 4];
            assert_eq!(server.try_read(&mut buf).unwrap(), 4);
            assert_eq!(&buf, b"data");
        });
    });
}

#[test]
fn poll_readable_on_a_fresh_object_is_pending_after_its_first_event() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let noop = &mut Context::from_waker(std::task::Waker::noop());
            let (client, server) = tcp_pair().await;
            let (ux, _uy) = UnixStream::pair().unwrap();
            let (pr, _pw) = pipe();
            let pr = Async::new(pr).unwrap();
            let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
            reactor_round_trip().await;
            assert!(server.poll_read_ready(noop).is_pending(), "tcp");
            assert!(client.poll_read_ready(noop).is_pending(), "tcp client");
            assert!(ux.poll_read_ready(noop).is_pending(), "unix");
            assert!(pr.poll_readable(noop).is_pending(), "Async pipe");
            assert!(udp.poll_recv_ready(noop).is_pending(), "udp");
            for ready in [
                server.readable().now_or_never(),
                ux.readable().now_or_never(),
                pr.readable().now_or_never(),
                udp.readable().now_or_never(),
            ] {
                assert!(ready.is_none(), "a readable() completed with no data");
            }
            // They are all writable: the first event said so.
            assert!(server.poll_write_ready(noop).is_ready());
            assert!(ux.poll_write_ready(noop).is_ready());
            assert!(udp.poll_send_ready(noop).is_ready());
            let ready = server
                .ready(Interest::READABLE | Interest::WRITABLE)
                .now_or_never()
                .unwrap()
                .unwrap();
            assert!(ready.is_writable() && !ready.is_readable());
        });
    });
}

#[test]
fn writable_on_a_fresh_object_waits_for_the_first_event() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let noop = &mut Context::from_waker(std::task::Waker::noop());
            let (a, _b) = UnixStream::pair().unwrap();
            let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
            let (_pr, pw) = pipe();
            let pw = Async::new(pw).unwrap();
            // Nothing from epoll yet: a wait does not presume.
            assert!(a.poll_write_ready(noop).is_pending());
            assert!(udp.poll_send_ready(noop).is_pending());
            assert!(pw.poll_writable(noop).is_pending());
            // The first event says they are writable.
            a.writable().await.unwrap();
            udp.writable().await.unwrap();
            pw.writable().await.unwrap();
        });
    });
}

/// Data that came before the registration is reported by epoll's first
/// event: a wait on a fresh object never misses it.
#[test]
fn readable_on_a_fresh_accepted_socket_sees_data_that_came_before() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let mut client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            client.write_all(b"early").unwrap();
            let (server, _) = listener.accept().await.unwrap();
            wait_readable_outside(&server);
            let noop = &mut Context::from_waker(std::task::Waker::noop());
            assert!(
                server.poll_read_ready(noop).is_pending(),
                "no event seen yet"
            );
            server.readable().await.unwrap();
            let ready = server.ready(Interest::READABLE).await.unwrap();
            assert!(ready.is_readable() && !ready.is_writable() && !ready.is_read_closed());
            let mut buf = [0; 5];
            server.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"early");
        });
    });
}

/// Blocks (poll(2), outside the reactor) until `fd` has data to read.
fn wait_readable_outside(fd: &impl AsRawFd) {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: poll reads and writes the one pollfd we pass.
    let r = unsafe { libc::poll(&mut pfd, 1, 5_000) };
    assert_eq!(r, 1, "poll: {}", io::Error::last_os_error());
}

/// Operations still try first: no trip through epoll for data that is
/// already there.
#[test]
fn read_on_a_fresh_accepted_socket_with_data_queued_reads_at_once() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let mut clients = Vec::new();
            for _ in 0..3 {
                let mut client = std::net::TcpStream::connect(addr).unwrap();
                client.write_all(b"hello").unwrap();
                clients.push(client);
            }
            let mut buf = [0; 5];
            // read, try_read and the AsyncRead trait, each on a fresh socket.
            let (s1, _) = listener.accept().await.unwrap();
            let (s2, _) = listener.accept().await.unwrap();
            let (s3, _) = listener.accept().await.unwrap();
            for s in [&s1, &s2, &s3] {
                wait_readable_outside(s);
            }
            // Each completes at its first poll: nothing waits for epoll.
            let n = s1
                .read(&mut buf)
                .now_or_never()
                .expect("read waited")
                .unwrap();
            assert_eq!(&buf[..n], b"hello");
            assert_eq!(s2.try_read(&mut buf).unwrap(), 5);
            let n = AsyncReadExt::read(&mut &s3, &mut buf)
                .now_or_never()
                .expect("poll_read waited")
                .unwrap();
            assert_eq!(n, 5);
        });
    });
}

/// A read that succeeds on a fresh object shows it readable: a task
/// already waiting in `readable()` is woken, with no event from epoll.
#[test]
fn an_operation_that_finds_a_fresh_object_ready_wakes_the_readiness_waiters() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (a, b) = UnixStream::pair().unwrap();
            b.write_all(b"0123456789").await.unwrap();
            let (count, waker) = wake_count();
            let mut cx = Context::from_waker(&waker);
            let mut readable = Box::pin(a.readable());
            assert!(readable.as_mut().poll(&mut cx).is_pending());
            // A full read on presumed readiness: the socket was ready.
            let mut buf = [0; 4];
            assert_eq!(a.try_read(&mut buf).unwrap(), 4);
            assert_eq!(count.0.load(std::sync::atomic::Ordering::SeqCst), 1);
            assert!(readable.as_mut().poll(&mut cx).is_ready());
            // A short `read` drains the buffer: a new wait waits again.
            // (`try_read` keeps readiness until `WouldBlock`, as tokio's.)
            let mut buf = [0; 64];
            assert_eq!(a.read(&mut buf).now_or_never().unwrap().unwrap(), 6);
            assert!(a.readable().now_or_never().is_none());
            // Same for an Async and read_with.
            let (x, y) = std::os::unix::net::UnixStream::pair().unwrap();
            let x = Async::new(x).unwrap();
            (&y).write_all(b"xy").unwrap();
            let (count, waker) = wake_count();
            let mut cx = Context::from_waker(&waker);
            let mut readable = Box::pin(x.readable());
            assert!(readable.as_mut().poll(&mut cx).is_pending());
            let n = x
                .read_with(|mut s| s.read(&mut [0; 1]))
                .now_or_never()
                .unwrap()
                .unwrap();
            assert_eq!(n, 1);
            assert_eq!(count.0.load(std::sync::atomic::Ordering::SeqCst), 1);
            assert!(readable.as_mut().poll(&mut cx).is_ready());
        });
    });
}

/// An operation that says `WouldBlock` on a fresh object clears the
/// presumption: waits and operations then wait for a real edge, which comes.
#[test]
fn would_block_on_a_fresh_object_then_the_edge_comes() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (client, server) = tcp_pair().await;
            let e = server.try_read(&mut [0; 8]).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::WouldBlock);
            // Not even tried now: it says WouldBlock without a syscall.
            let e = server.try_read(&mut [0; 8]).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::WouldBlock);
            let server = Rc::new(server);
            let waiter = eddy::spawn({
                let server = server.clone();
                async move { server.readable().await.unwrap() }
            });
            reactor_round_trip().await;
            assert!(!waiter.is_finished());
            client.write_all(b"edge").await.unwrap();
            waiter.await.unwrap();
            let mut buf = [0; 8];
            let n = server.read(&mut buf).now_or_never().unwrap().unwrap();
            assert_eq!(&buf[..n], b"edge");
            // That short read drained the socket: a read waits for the next edge.
            let reader = eddy::spawn({
                let server = server.clone();
                async move {
                    let mut buf = [0; 8];
                    let n = server.read(&mut buf).await.unwrap();
                    buf[..n].to_vec()
                }
            });
            reactor_round_trip().await;
            assert!(!reader.is_finished());
            client.write_all(b"more").await.unwrap();
            assert_eq!(reader.await.unwrap(), b"more");
        });
    });
}

// ---------------------------------------------------------------------------
// Streams: readiness without a future (try_read, ready, peek...)
// ---------------------------------------------------------------------------

/// Calls `try_write` with 64 KiB chunks until it says `WouldBlock` (the
/// send buffer and the peer's receive buffer are full); returns how much went.
fn fill_with(try_write: impl Fn(&[u8]) -> io::Result<usize>) -> usize {
    let chunk = vec![7u8; 64 * 1024];
    let mut sent = 0;
    loop {
        match try_write(&chunk) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return sent,
            Err(e) => panic!("try_write: {e}"),
        }
    }
}

#[test]
fn try_read_and_try_write_never_wait() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (client, server) = tcp_pair().await;
            let mut buf = [0; 16];
            // Empty buffers: Ok(0), whatever the readiness.
            assert_eq!(server.try_read(&mut []).unwrap(), 0);
            assert_eq!(server.try_write(&[]).unwrap(), 0);
            assert_eq!(server.try_read_vectored(&mut []).unwrap(), 0);
            assert_eq!(server.try_write_vectored(&[]).unwrap(), 0);
            assert_eq!(
                server.try_read(&mut buf).unwrap_err().kind(),
                ErrorKind::WouldBlock
            );
            assert_eq!(client.try_write(b"abc").unwrap(), 3);
            server.readable().await.unwrap();
            assert_eq!(server.try_read(&mut buf).unwrap(), 3);
            assert_eq!(&buf[..3], b"abc");
            // Vectored: gathered on the way out, scattered on the way in.
            let out = [io::IoSlice::new(b"hello "), io::IoSlice::new(b"world")];
            assert_eq!(client.try_write_vectored(&out).unwrap(), 11);
            server.readable().await.unwrap();
            let (mut x, mut y) = ([0; 4], [0; 16]);
            let n = server
                .try_read_vectored(&mut [io::IoSliceMut::new(&mut x), io::IoSliceMut::new(&mut y)])
                .unwrap();
            assert_eq!(n, 11);
            assert_eq!((&x, &y[..7]), (b"hell", &b"o world"[..]));
            assert_eq!(
                server
                    .try_read_vectored(&mut [io::IoSliceMut::new(&mut x)])
                    .unwrap_err()
                    .kind(),
                ErrorKind::WouldBlock
            );
            // try_write until the buffers are full; writable() then waits
            // until the peer reads.
            let sent = fill_with(|b| client.try_write(b));
            assert!(sent > 0);
            let client = Rc::new(client);
            let writer = eddy::spawn({
                let client = client.clone();
                async move { client.writable().await.unwrap() }
            });
            reactor_round_trip().await;
            assert!(!writer.is_finished(), "writable() with full buffers");
            let mut drained = 0;
            let mut big = vec![0; 64 * 1024];
            while drained < sent {
                drained += server.read(&mut big).await.unwrap();
            }
            writer.await.unwrap();
            assert!(client.try_write(b"room").unwrap() > 0);
            // End of stream: try_read says Ok(0), at once and every time.
            drop(client);
            let mut rest = Vec::new();
            loop {
                server.readable().await.unwrap();
                match server.try_read(&mut big) {
                    Ok(0) => break,
                    Ok(n) => rest.extend_from_slice(&big[..n]),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                    Err(e) => panic!("try_read: {e}"),
                }
            }
            assert_eq!(rest, b"room");
            assert_eq!(server.try_read(&mut buf).unwrap(), 0);
            assert_eq!(server.try_read(&mut buf).unwrap(), 0);
        });
    });
}

/// The `try_*` methods leave readiness alone unless the OS says
/// `WouldBlock`: after a write that fit only in part, `writable()` still
/// completes at once and the next `try_write` is what finds the buffer
/// full (tokio's contract, on which hand-written readiness loops rely).
#[test]
fn a_short_try_write_or_try_read_keeps_readiness_until_would_block() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (client, server) = tcp_pair().await;
            let chunk = vec![1u8; 64 * 1024];
            let mut sent = 0;
            loop {
                assert!(
                    client.writable().now_or_never().is_some(),
                    "writable() waited although no try_write said WouldBlock"
                );
                match client.try_write(&chunk) {
                    Ok(n) => sent += n,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => panic!("try_write: {e}"),
                }
            }
            assert!(client.writable().now_or_never().is_none());
            // Reading side: a short try_read keeps `readable()` ready too.
            let mut big = vec![0; 4 * sent];
            server.readable().await.unwrap();
            let mut got = 0;
            loop {
                assert!(
                    server.readable().now_or_never().is_some(),
                    "readable() waited although no try_read said WouldBlock"
                );
                match server.try_read(&mut big) {
                    Ok(n) => got += n,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => panic!("try_read: {e}"),
                }
            }
            assert!(got > 0);
        });
    });
}

#[test]
fn unix_try_read_try_write_and_ready() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (a, b) = UnixStream::pair().unwrap();
            let sent = fill_with(|b| a.try_write(b));
            let ready = a.ready(Interest::WRITABLE).now_or_never();
            assert!(ready.is_none(), "ready(WRITABLE) with a full buffer");
            let mut buf = vec![0; sent];
            b.read_exact(&mut buf).await.unwrap();
            let ready = a.ready(Interest::WRITABLE).await.unwrap();
            assert!(ready.is_writable() && !ready.is_readable());
            let out = [io::IoSlice::new(b"ab"), io::IoSlice::new(b"cd")];
            assert_eq!(a.try_write_vectored(&out).unwrap(), 4);
            let ready = b.ready(Interest::READABLE).await.unwrap();
            assert!(ready.is_readable() && !ready.is_read_closed());
            let mut x = [0; 4];
            assert_eq!(
                b.try_read_vectored(&mut [io::IoSliceMut::new(&mut x)])
                    .unwrap(),
                4
            );
            assert_eq!(&x, b"abcd");
        });
    });
}

#[test]
fn ready_reports_read_closed_and_write_closed() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            // The peer shuts down its writing side: read-closed.
            let (client, server) = tcp_pair().await;
            client.shutdown(Shutdown::Write).unwrap();
            let ready = server.ready(Interest::READABLE).await.unwrap();
            assert!(ready.is_readable() && ready.is_read_closed(), "{ready:?}");
            assert!(!ready.is_writable(), "only the directions asked for");
            assert_eq!(server.try_read(&mut [0; 8]).unwrap(), 0);
            // The peer resets: both sides closed.
            let (client, server) = tcp_pair().await;
            set_linger_zero(client.as_raw_fd());
            drop(client);
            server.readable().await.unwrap();
            let ready = server
                .ready(Interest::READABLE | Interest::WRITABLE)
                .await
                .unwrap();
            assert!(
                ready.is_read_closed() && ready.is_write_closed(),
                "{ready:?}"
            );
            assert!(ready.is_readable() && ready.is_writable());
            let err = server.try_read(&mut [0; 8]).unwrap_err();
            assert!(is_reset_like(&err), "{err}");
        });
    });
}

#[test]
fn poll_read_ready_and_poll_write_ready_wake_their_task() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (a, b) = UnixStream::pair().unwrap();
            let a = Rc::new(a);
            let reader = eddy::spawn({
                let a = a.clone();
                async move {
                    poll_fn(|cx| a.poll_read_ready(cx)).await.unwrap();
                    let mut buf = [0; 8];
                    let n = a.try_read(&mut buf).unwrap();
                    buf[..n].to_vec()
                }
            });
            reactor_round_trip().await;
            assert!(!reader.is_finished());
            b.write_all(b"woken").await.unwrap();
            assert_eq!(reader.await.unwrap(), b"woken");
            poll_fn(|cx| a.poll_write_ready(cx)).await.unwrap();
        });
    });
}

#[test]
fn tcp_peek_waits_for_data_and_takes_nothing() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (client, server) = tcp_pair().await;
            let server = Rc::new(server);
            assert_eq!(server.peek(&mut []).await.unwrap(), 0);
            let peeker = eddy::spawn({
                let server = server.clone();
                async move {
                    let mut buf = [0; 16];
                    let n = server.peek(&mut buf).await.unwrap();
                    buf[..n].to_vec()
                }
            });
            reactor_round_trip().await;
            assert!(!peeker.is_finished(), "peek with nothing to peek at");
            client.write_all(b"look").await.unwrap();
            assert_eq!(peeker.await.unwrap(), b"look");
            // Still there, as often as asked.
            let mut buf = [0; 16];
            assert_eq!(server.peek(&mut buf).await.unwrap(), 4);
            assert_eq!(server.peek(&mut buf[..2]).await.unwrap(), 2);
            server.read_exact(&mut buf[..4]).await.unwrap();
            assert_eq!(&buf[..4], b"look");
            // End of stream: 0.
            drop(client);
            assert_eq!(server.peek(&mut buf).await.unwrap(), 0);
        });
    });
}

#[test]
fn listener_readable_waits_for_a_connection() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let tcp = Rc::new(TcpListener::bind("127.0.0.1:0").unwrap());
            let path = TempPath::new("readable.sock");
            let unix = Rc::new(UnixListener::bind(&path).unwrap());
            let tcp_waiter = eddy::spawn({
                let tcp = tcp.clone();
                async move { tcp.readable().await.unwrap() }
            });
            let unix_waiter = eddy::spawn({
                let unix = unix.clone();
                async move { unix.readable().await.unwrap() }
            });
            reactor_round_trip().await;
            assert!(!tcp_waiter.is_finished() && !unix_waiter.is_finished());
            let _c1 = std::net::TcpStream::connect(tcp.local_addr().unwrap()).unwrap();
            let _c2 = std::os::unix::net::UnixStream::connect(&path).unwrap();
            tcp_waiter.await.unwrap();
            unix_waiter.await.unwrap();
            tcp.accept().now_or_never().expect("queued").unwrap();
            unix.accept().now_or_never().expect("queued").unwrap();
        });
    });
}

// ---------------------------------------------------------------------------
// Errors do not make the runtime spin
// ---------------------------------------------------------------------------

#[test]
fn errors_do_not_make_the_runtime_spin() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let (a, b) = tcp_pair().await;
            let (idle, _idle_peer) = tcp_pair().await;
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let a = Rc::new(a);
            let (tx, mut rx) = mpsc::unbounded();
            // After the reset, each task waits on another socket.
            let reader = eddy::spawn({
                let (a, tx) = (a.clone(), tx.clone());
                async move {
                    let r = a.read(&mut [0; 16]).await;
                    tx.unbounded_send(("read", r)).unwrap();
                    let _ = idle.read(&mut [0; 16]).await;
                }
            });
            let writer = eddy::spawn({
                let a = a.clone();
                async move {
                    // Writes until the reset shows (the first may still go out).
                    let mut r = Ok(0);
                    for _ in 0..1000 {
                        r = a.write(b"x").await;
                        if r.is_err() {
                            break;
                        }
                        yield_now().await;
                    }
                    tx.unbounded_send(("write", r)).unwrap();
                    let _ = listener.accept().await;
                }
            });
            yield_now().await;
            set_linger_zero(b.as_raw_fd());
            drop(b);
            // The reset is reported once (to whichever operation comes
            // first); a read after that sees end of stream.
            for _ in 0..2 {
                match rx.next().await.unwrap() {
                    ("read", Ok(0)) => {}
                    (what, Ok(n)) => panic!("{what} gave {n} bytes after the reset"),
                    (what, Err(e)) => assert!(is_reset_like(&e), "{what}: {e}"),
                }
            }
            // The sockets in error stay in error; nobody polls them.
            let before = rt.metrics();
            eddy::time::sleep(Duration::from_millis(100)).await;
            let after = rt.metrics();
            assert!(
                after.polls - before.polls <= 5,
                "tasks polled {} times while waiting",
                after.polls - before.polls
            );
            assert!(
                after.io_events - before.io_events <= 5,
                "{} I/O events while idle",
                after.io_events - before.io_events
            );
            assert!(
                after.parks - before.parks <= 20,
                "{} parks while idle",
                after.parks - before.parks
            );
            assert!(!reader.is_finished() && !writer.is_finished());
            reader.abort();
            writer.abort();
        });
    });
}

#[test]
fn accept_at_the_fd_limit_is_an_error_not_a_panic_or_a_spin() {
    in_child_process(
        "accept_at_the_fd_limit_is_an_error_not_a_panic_or_a_spin",
        LIMIT,
        || {
            let rt = Runtime::new().unwrap();
            rt.block_on(async {
                let listener = Rc::new(TcpListener::bind("127.0.0.1:0").unwrap());
                let addr = listener.local_addr().unwrap();
                let _client = std::net::TcpStream::connect(addr).unwrap(); // queued
                let normal = get_nofile();
                let at_limit = libc::rlimit {
                    rlim_cur: lowest_free_fd() as libc::rlim_t,
                    rlim_max: normal.rlim_max,
                };
                set_nofile(at_limit);
                let accepted = listener.accept().await;
                let bind = TcpListener::bind("127.0.0.1:0");
                let pair = UnixStream::pair();
                let udp = UdpSocket::bind("127.0.0.1:0");
                let runtime = Runtime::new();
                set_nofile(normal);
                for (what, errno) in [
                    ("accept", accepted.err().and_then(|e| e.raw_os_error())),
                    (
                        "TcpListener::bind",
                        bind.err().and_then(|e| e.raw_os_error()),
                    ),
                    (
                        "UnixStream::pair",
                        pair.err().and_then(|e| e.raw_os_error()),
                    ),
                    ("UdpSocket::bind", udp.err().and_then(|e| e.raw_os_error())),
                    ("Runtime::new", runtime.err().and_then(|e| e.raw_os_error())),
                ] {
                    assert_eq!(errno, Some(libc::EMFILE), "{what} at the fd limit");
                }

                // After EMFILE, a task that waits on something else costs nothing.
                set_nofile(at_limit);
                let (go_tx, go_rx) = futures::channel::oneshot::channel::<()>();
                let server = eddy::spawn({
                    let listener = listener.clone();
                    async move {
                        let first = listener.accept().await.map(drop);
                        let _ = go_rx.await;
                        // The documented back-off loop.
                        let mut emfiles = 0;
                        loop {
                            match listener.accept().await {
                                Ok((s, _)) => return (first, emfiles, s.peer_addr().is_ok()),
                                Err(e) if e.raw_os_error() == Some(libc::EMFILE) => {
                                    emfiles += 1;
                                    eddy::time::sleep(Duration::from_millis(5)).await;
                                }
                                Err(e) => panic!("accept: {e}"),
                            }
                        }
                    }
                });
                yield_now().await;
                let before = rt.metrics();
                eddy::time::sleep(Duration::from_millis(50)).await;
                let after = rt.metrics();
                assert!(
                    after.polls - before.polls <= 3,
                    "{} polls while the server waited",
                    after.polls - before.polls
                );
                assert!(
                    after.parks - before.parks <= 20,
                    "{} parks while idle",
                    after.parks - before.parks
                );
                // The back-off loop: accepts once the limit is lifted.
                go_tx.send(()).unwrap();
                eddy::time::sleep(Duration::from_millis(20)).await;
                set_nofile(normal);
                let (first, emfiles, ok) = server.await.unwrap();
                assert_eq!(first.unwrap_err().raw_os_error(), Some(libc::EMFILE));
                assert!(emfiles >= 1, "the server met EMFILE while backing off");
                assert!(
                    ok,
                    "the queued connection was accepted once descriptors were free"
                );
            });
        },
    );
}

// ---------------------------------------------------------------------------
// Dropping I/O objects: deregistration, fds, fd reuse
// ---------------------------------------------------------------------------

/// Makes many I/O objects of every kind (and a few failed ones) in the
/// current runtime.
async fn make_many_objects() -> Vec<Box<dyn std::any::Any>> {
    let mut keep: Vec<Box<dyn std::any::Any>> = Vec::new();
    for _ in 0..20 {
        keep.push(Box::new(TcpListener::bind("127.0.0.1:0").unwrap()));
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    for _ in 0..20 {
        let (c, s) = futures::join!(TcpStream::connect(addr), listener.accept());
        keep.push(Box::new(c.unwrap()));
        keep.push(Box::new(s.unwrap().0));
    }
    keep.push(Box::new(listener));
    keep.push(Box::new(
        TcpListener::from_std(std::net::TcpListener::bind("127.0.0.1:0").unwrap()).unwrap(),
    ));
    for _ in 0..20 {
        keep.push(Box::new(UdpSocket::bind("127.0.0.1:0").unwrap()));
    }
    keep.push(Box::new(
        UdpSocket::from_std(std::net::UdpSocket::bind("127.0.0.1:0").unwrap()).unwrap(),
    ));
    for _ in 0..20 {
        keep.push(Box::new(UnixStream::pair().unwrap()));
    }
    for _ in 0..5 {
        let path = TempPath::new("fds");
        let listener = UnixListener::bind(&path).unwrap();
        let (c, s) = futures::join!(UnixStream::connect(&path.0), listener.accept());
        keep.push(Box::new((c.unwrap(), s.unwrap().0, listener, path)));
    }
    for _ in 0..10 {
        let (r, w) = pipe();
        keep.push(Box::new((Async::new(r).unwrap(), Async::new(w).unwrap())));
    }
    for _ in 0..5 {
        let (x, y) = std::os::unix::net::UnixStream::pair().unwrap();
        keep.push(Box::new((Async::new(x).unwrap(), Async::new(y).unwrap())));
    }
    // Failures close what they opened.
    let closed = closed_port();
    for _ in 0..5 {
        assert!(TcpStream::connect(closed.addr).await.is_err());
    }
    for _ in 0..5 {
        assert!(TcpListener::bind(addr).is_err());
    }
    // A cancelled connect and a cancelled accept.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    assert!(listener.accept().now_or_never().is_none());
    let _ = TcpStream::connect(listener.local_addr().unwrap()).now_or_never();
    keep
}

#[test]
fn dropping_io_objects_closes_their_fds() {
    in_child_process("dropping_io_objects_closes_their_fds", LIMIT, || {
        let base = open_fds();
        let rt = Runtime::new().unwrap();
        let with_rt = open_fds();
        assert!(
            with_rt.len() > base.len(),
            "the runtime holds an epoll fd (and an eventfd)"
        );
        rt.block_on(async {
            for round in 0..3 {
                let objects = make_many_objects().await;
                let during = open_fds().len();
                assert!(
                    during >= with_rt.len() + 150,
                    "{during} fds open with the objects alive"
                );
                drop(objects);
                assert_same_fds(
                    &open_fds(),
                    &with_rt,
                    &format!("after dropping the objects (round {round})"),
                );
            }
            // Objects dropped by tasks, and by aborted tasks.
            let (a, b) = tcp_pair().await;
            let t1 = eddy::spawn(async move { a.read(&mut [0; 8]).await.map(drop) });
            let t2 = eddy::spawn(async move { drop(b) });
            t2.await.unwrap();
            t1.await.unwrap().unwrap(); // end of stream: b was dropped
            let (c, _d) = UnixStream::pair().unwrap();
            let t3 = eddy::spawn(async move { c.read(&mut [0; 8]).await.map(drop) });
            yield_now().await;
            t3.abort();
            drop(_d);
        });
        assert_same_fds(&open_fds(), &with_rt, "after block_on");
        drop(rt);
        assert_same_fds(&open_fds(), &base, "after the runtime was dropped");

        // Tasks still waiting on I/O when the runtime is dropped: their
        // objects close as they are cancelled, and a destructor may even
        // register new I/O then (the runtime is current while it cancels).
        let made_in_drop: Rc<Cell<Option<bool>>> = Rc::default();
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let (a, b) = UnixStream::pair().unwrap();
            let guard = MakesIoOnDrop(made_in_drop.clone());
            eddy::spawn(async move {
                let _guard = guard;
                a.read(&mut [0; 8]).await
            });
            eddy::spawn(async move { b.read(&mut [0; 8]).await });
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            eddy::spawn(async move { listener.accept().await.map(drop) });
            let (r, w) = pipe();
            let (r, w) = (Async::new(r).unwrap(), Async::new(w).unwrap());
            eddy::spawn(async move { r.read_with(|mut f| f.read(&mut [0; 8])).await });
            eddy::spawn(async move { w.writable().await.map(|()| drop(w)) });
            yield_now().await;
        });
        assert!(open_fds().len() > with_rt.len());
        drop(rt);
        assert_eq!(
            made_in_drop.get(),
            Some(true),
            "a destructor run by the runtime's drop could register I/O"
        );
        assert_same_fds(
            &open_fds(),
            &base,
            "after dropping a runtime whose tasks waited on I/O",
        );

        // Objects that outlive their runtime: the runtime's own fds close
        // with it, the objects' when they are dropped.
        let rt = Runtime::new().unwrap();
        let runtime_fds = open_fds().len() - base.len();
        let objects = rt.block_on(make_many_objects());
        let with_objects = open_fds().len();
        drop(rt);
        assert_eq!(
            open_fds().len(),
            with_objects - runtime_fds,
            "the runtime's fds closed with it"
        );
        drop(objects);
        assert_same_fds(
            &open_fds(),
            &base,
            "after dropping the objects that outlived their runtime",
        );
    });
}

/// Makes a Unix stream pair when dropped, and records whether that worked.
struct MakesIoOnDrop(Rc<Cell<Option<bool>>>);

impl Drop for MakesIoOnDrop {
    fn drop(&mut self) {
        let made = catch(UnixStream::pair).is_ok_and(|pair| pair.is_ok());
        self.0.set(Some(made));
    }
}

/// Reads through `poll_read` with a waker left in the object's reactor
/// slot, while the object itself lives in a shared cell that others may
/// empty (dropping it). Counts its polls.
struct PolledRead {
    stream: Rc<RefCell<Option<UnixStream>>>,
    polls: Rc<Cell<u32>>,
}

impl Future for PolledRead {
    type Output = io::Result<Vec<u8>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.polls.set(self.polls.get() + 1);
        let stream = self.stream.borrow();
        let Some(stream) = stream.as_ref() else {
            return Poll::Pending; // dropped under us: nobody should wake us
        };
        let mut buf = [0; 64];
        match Pin::new(&mut &*stream).poll_read(cx, &mut buf) {
            Poll::Ready(r) => Poll::Ready(r.map(|n| buf[..n].to_vec())),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Makes Unix stream pairs until one end gets descriptor `fd` (all others
/// are kept open meanwhile, so each new one takes a new number).
fn pair_reusing(fd: RawFd) -> (UnixStream, UnixStream) {
    let mut spare = Vec::new();
    for _ in 0..64 {
        let (s, p) = UnixStream::pair().unwrap();
        if s.as_raw_fd() == fd {
            return (s, p);
        }
        if p.as_raw_fd() == fd {
            return (p, s);
        }
        spare.push((s, p));
    }
    panic!("fd {fd} was not reused");
}

#[test]
fn a_waiter_is_never_woken_by_a_registration_that_reuses_its_fd() {
    in_child_process(
        "a_waiter_is_never_woken_by_a_registration_that_reuses_its_fd",
        LIMIT,
        || {
            eddy::block_on(async {
                // 1. A `poll_read` waker left in a dropped stream's slot.
                let (s1, p1) = UnixStream::pair().unwrap();
                let fd = s1.as_raw_fd();
                let cell = Rc::new(RefCell::new(Some(s1)));
                let polls = Rc::new(Cell::new(0));
                let old = eddy::spawn(PolledRead {
                    stream: cell.clone(),
                    polls: polls.clone(),
                });
                yield_now().await;
                assert_eq!(polls.get(), 1);
                drop(cell.borrow_mut().take()); // deregisters and closes fd
                let (s2, p2) = pair_reusing(fd);
                let new = eddy::spawn(async move {
                    let mut buf = [0; 16];
                    let n = s2.read(&mut buf).await?;
                    Ok::<_, io::Error>(buf[..n].to_vec())
                });
                yield_now().await;
                let _ = p1.write(b"old").await; // to a closed peer: an error, or lost
                p2.write_all(b"new").await.unwrap();
                assert_eq!(new.await.unwrap().unwrap(), b"new");
                for _ in 0..5 {
                    yield_now().await;
                }
                assert_eq!(
                    polls.get(),
                    1,
                    "the old waiter was woken by the new registration"
                );
                assert!(!old.is_finished());
                old.abort();

                // 2. A task waiting in `read` is aborted, which drops its stream.
                let (s3, p3) = UnixStream::pair().unwrap();
                let fd = s3.as_raw_fd();
                let aborted_polls = Rc::new(Cell::new(0));
                let aborted = eddy::spawn({
                    let aborted_polls = aborted_polls.clone();
                    async move {
                        aborted_polls.set(aborted_polls.get() + 1);
                        let mut buf = [0; 16];
                        let n = s3.read(&mut buf).await;
                        aborted_polls.set(aborted_polls.get() + 1);
                        n
                    }
                });
                yield_now().await;
                assert_eq!(aborted_polls.get(), 1);
                aborted.abort();
                let (s4, p4) = pair_reusing(fd);
                let fresh = eddy::spawn(async move {
                    let mut buf = [0; 16];
                    let n = s4.read(&mut buf).await?;
                    Ok::<_, io::Error>(buf[..n].to_vec())
                });
                yield_now().await;
                let _ = p3.write(b"stale").await;
                p4.write_all(b"fresh").await.unwrap();
                assert_eq!(fresh.await.unwrap().unwrap(), b"fresh");
                assert_eq!(aborted_polls.get(), 1);
                assert!(aborted.await.unwrap_err().is_cancelled());

                // 3. The same fd registered again after `into_inner`: the old
                //    registration's waiter stays asleep.
                let (x, mut y) = std::os::unix::net::UnixStream::pair().unwrap();
                let x = Async::new(x).unwrap();
                assert!(
                    x.read_with(|mut s| s.read(&mut [0; 8]))
                        .now_or_never()
                        .is_none()
                );
                let slot = Rc::new(RefCell::new(Some(x)));
                let polls = Rc::new(Cell::new(0));
                let stale = eddy::spawn({
                    let (slot, polls) = (slot.clone(), polls.clone());
                    poll_fn(move |cx| {
                        polls.set(polls.get() + 1);
                        match slot.borrow().as_ref() {
                            Some(x) => x.poll_readable(cx),
                            None => Poll::Pending,
                        }
                    })
                });
                yield_now().await;
                assert_eq!(polls.get(), 1);
                let x = slot.borrow_mut().take().unwrap().into_inner().unwrap();
                let x = Async::new(x).unwrap();
                y.write_all(b"for the new one").unwrap();
                x.readable().await.unwrap();
                let mut buf = [0; 32];
                let n = x.read_with(|mut s| s.read(&mut buf)).await.unwrap();
                assert_eq!(&buf[..n], b"for the new one");
                for _ in 0..5 {
                    yield_now().await;
                }
                assert_eq!(polls.get(), 1, "the old registration's waiter was woken");
                stale.abort();
            });
        },
    );
}

// ---------------------------------------------------------------------------
// Objects and runtimes: several runtimes on a thread, objects outliving theirs
// ---------------------------------------------------------------------------

#[test]
fn several_runtimes_share_a_thread_and_objects_drop_anywhere() {
    watchdog(LIMIT, || {
        let rt1 = Runtime::new().unwrap();
        let rt2 = Runtime::new().unwrap();
        // One pair in each runtime: likely the same slot key in each reactor.
        let (a1, b1) = rt1.block_on(async { UnixStream::pair().unwrap() });
        let (a2, b2) = rt2.block_on(async { UnixStream::pair().unwrap() });
        // Dropping rt1's objects inside rt2 deregisters them from rt1, and
        // leaves rt2's own registrations alone.
        rt2.block_on(async {
            drop(a1);
            b2.write_all(b"rt2").await.unwrap();
            let mut buf = [0; 3];
            a2.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"rt2");
        });
        // b1 still works in rt1: its peer was dropped, so end of stream.
        rt1.block_on(async {
            assert_eq!(b1.read(&mut [0; 8]).await.unwrap(), 0);
            let (c, d) = tcp_pair().await;
            c.write_all(b"rt1").await.unwrap();
            let mut buf = [0; 3];
            d.read_exact(&mut buf).await.unwrap();
        });
        // Dropped inside a task of the other runtime, and outside any runtime.
        let task = rt1.spawn(async move {
            drop(b2);
        });
        rt1.block_on(task).unwrap();
        rt2.block_on(async {
            assert_eq!(a2.read(&mut [0; 8]).await.unwrap(), 0, "b2 was dropped");
        });
        drop(a2);
        drop(b1);
        drop(rt1);
        drop(rt2);
    });
}

#[test]
fn io_objects_outliving_their_runtime_give_errors_and_drop_cleanly() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let (x, mut y) = std::os::unix::net::UnixStream::pair().unwrap();
        let wrapped = rt.block_on(async { Async::new(x).unwrap() });
        let (stream, mut std_peer, listener, udp, pipe_r, pipe_w, unix) = rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let std_peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            let (stream, _) = listener.accept().await.unwrap();
            let (r, w) = pipe();
            let unix = UnixStream::pair().unwrap();
            (
                stream,
                std_peer,
                listener,
                UdpSocket::bind("127.0.0.1:0").unwrap(),
                Async::new(r).unwrap(),
                Async::new(w).unwrap(),
                unix,
            )
        });
        drop(rt);
        std_peer.write_all(b"data waiting").unwrap();
        // Every operation now fails at once (no runtime will ever wake it).
        let mut buf = [0; 16];
        use futures::executor::block_on;
        assert!(block_on(stream.read(&mut buf)).is_err());
        assert!(block_on(stream.write(b"x")).is_err());
        assert!(block_on(stream.readable()).is_err());
        assert!(block_on(listener.accept()).is_err());
        assert!(block_on(udp.recv_from(&mut buf)).is_err());
        assert!(block_on(udp.send_to(b"x", "127.0.0.1:9")).is_err());
        assert!(block_on(pipe_r.readable()).is_err());
        assert!(block_on(pipe_r.read_with(|mut f| f.read(&mut buf))).is_err());
        assert!(block_on(pipe_w.write_with(|mut f| f.write(b"x"))).is_err());
        assert!(block_on(unix.0.write_all(b"x")).is_err());
        let mut s = &stream;
        assert!(block_on(AsyncReadExt::read(&mut s, &mut buf)).is_err());
        // Addresses and the like still answer.
        assert!(stream.peer_addr().is_ok() && listener.local_addr().is_ok());
        // Dropping after the runtime is gone: no panic, and the fd closes:
        // the peer reads end of stream, or a reset (data was left unread).
        drop(stream);
        let mut rest = Vec::new();
        match std_peer.read_to_end(&mut rest) {
            Ok(_) => assert!(rest.is_empty()),
            Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}"),
        }
        drop((listener, udp, pipe_r, pipe_w, unix));
        // into_inner still gives the object back, working.
        assert!(block_on(wrapped.readable()).is_err());
        let mut x = wrapped
            .into_inner()
            .expect("into_inner after the runtime is gone");
        y.write_all(b"std again").unwrap();
        let mut buf = [0; 9];
        x.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"std again");
        // Same inside another runtime.
        let rt2 = Runtime::new().unwrap();
        let rt = Runtime::new().unwrap();
        let (x, y) = rt.block_on(async { UnixStream::pair().unwrap() });
        drop(rt);
        rt2.block_on(async move {
            assert!(x.read(&mut [0; 4]).await.is_err());
            drop(x);
            drop(y);
        });
    });
}

/// An accepted stream belongs to its listener's runtime, whichever runtime
/// polls `accept`: its wake-ups come from the listener's reactor.
#[test]
fn accepted_streams_join_the_listeners_runtime() {
    watchdog(LIMIT, || {
        let a = Runtime::new().unwrap();
        let b = Runtime::new().unwrap();
        let listener = a
            .block_on(async { TcpListener::bind("127.0.0.1:0") })
            .unwrap();
        let mut client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        // The connection is queued, so runtime `b` completes the accept at once.
        let (stream, _) = b.block_on(listener.accept()).unwrap();
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let writer = std::thread::spawn(move || {
            go_rx.recv().unwrap();
            client.write_all(b"late").unwrap();
            client
        });
        let got = a.block_on(async {
            let mut buf = [0; 4];
            {
                // Nothing to read yet: this read must wait for `a`'s reactor.
                let mut read = Box::pin(stream.read_exact(&mut buf));
                let first = poll_fn(|cx| Poll::Ready(read.as_mut().poll(cx))).await;
                assert!(first.is_pending());
                go_tx.send(()).unwrap();
                read.await.unwrap();
            }
            buf
        });
        assert_eq!(&got, b"late");
        drop(writer.join().unwrap());
    });
}

#[test]
fn bind_listens_with_a_backlog_of_1024() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let listener = rt.block_on(async { TcpListener::bind("127.0.0.1:0").unwrap() });
        let addr = listener.local_addr().unwrap();
        // Nobody accepts: each connect completes only while the accept queue
        // has room. std's backlog of 128 would stall the 130th for a second.
        let clients = std::thread::spawn(move || {
            (0..600)
                .map(|i| {
                    std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500))
                        .unwrap_or_else(|e| panic!("connect {i} with 600 queued: {e}"))
                })
                .collect::<Vec<_>>()
        });
        let clients = clients.join().unwrap();
        assert_eq!(clients.len(), 600);
        drop(listener);
    });
}
