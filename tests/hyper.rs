//! HTTP on eddy (API.md: "HTTP on eddy"): `serve` against the real `curl`
//! binary, a slowloris client, graceful shutdown, `EMFILE`, HTTP/2 with a
//! `!Send` service, hyper's client over `Io`, upgrades (an HTTP/2 `CONNECT`
//! tunnel, an HTTP/1 101), and `Timer`'s sleeps on the wrong thread. HTTPS is tested in `tests/tls` (its own package, to keep
//! TLS crates out of the plain `cargo test`).
//!
//! Run with `cargo test --features hyper --test hyper`.
#![cfg(feature = "hyper")]

mod common;

use std::cell::Cell;
use std::convert::Infallible;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::pin::Pin;
use std::process::{Command, Output};
use std::rc::Rc;
use std::time::{Duration, Instant};

use common::*;
use eddy::hyper::{Executor, Io, Timer, serve};
use eddy::net::{TcpListener, TcpStream};
use eddy::sync::{Notify, oneshot};
use eddy::task::spawn_blocking;
use eddy::time::{sleep, timeout};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, Full, StreamBody};
use hyper::body::{Bytes, Frame, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};

type Body = UnsyncBoxBody<Bytes, Infallible>;
type BoxError = Box<dyn std::error::Error + Send + Sync>;

const BIG: usize = 4 * 1024 * 1024;

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed_unsync()
}

/// What the routes of `app` share (`!Send`, as a real app's state may be).
#[derive(Default)]
struct State {
    hits: Cell<usize>,
    /// Told when `/slow` starts.
    slow_started: Notify,
}

/// The test app:
/// `/` hello; `/echo` the request body back; `/count` the body's length
/// and byte sum; `/chunked` three chunks of unknown total length; `/big`
/// 4 MB; `/slow` an answer after 300 ms.
async fn app(state: Rc<State>, req: Request<Incoming>) -> Result<Response<Body>, BoxError> {
    state.hits.set(state.hits.get() + 1);
    let response = match req.uri().path() {
        "/" => Response::new(full("hello\n")),
        "/echo" => Response::new(full(req.into_body().collect().await?.to_bytes())),
        "/count" => {
            let body = req.into_body().collect().await?.to_bytes();
            let sum: u64 = body.iter().map(|&b| u64::from(b)).sum();
            Response::new(full(format!("{} {sum}", body.len())))
        }
        "/chunked" => {
            let chunks =
                ["one,", "two,", "three"].map(|c| Ok::<_, Infallible>(Frame::data(Bytes::from(c))));
            Response::new(StreamBody::new(futures::stream::iter(chunks)).boxed_unsync())
        }
        "/big" => Response::new(full(pattern(BIG, 7))),
        "/slow" => {
            state.slow_started.notify_one();
            sleep(Duration::from_millis(300)).await;
            Response::new(full("slow done\n"))
        }
        _ => {
            let mut not_found = Response::new(full("no such page\n"));
            *not_found.status_mut() = StatusCode::NOT_FOUND;
            not_found
        }
    };
    Ok(response)
}

/// `app` as a hyper service.
#[derive(Clone)]
struct App(Rc<State>);

impl hyper::service::Service<Request<Incoming>> for App {
    type Response = Response<Body>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, BoxError>>>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        Box::pin(app(Rc::clone(&self.0), req))
    }
}

/// A listener on a free loopback port, and the app.
fn listener_and_app() -> (TcpListener, SocketAddr, Rc<State>, App) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let state = Rc::new(State::default());
    (listener, addr, Rc::clone(&state), App(state))
}

/// Starts `serve` with the test app; returns its address and state.
fn start() -> (SocketAddr, Rc<State>) {
    let (listener, addr, state, service) = listener_and_app();
    eddy::spawn(serve(listener, service));
    (addr, state)
}

/// Runs curl with `args` on the blocking pool (the server runs on this
/// loop meanwhile) and returns what it printed; fails the test if it fails.
async fn curl(args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let out = spawn_blocking(move || Command::new("curl").arg("-S").args(&args).output())
        .await
        .unwrap()
        .expect("could not run curl (is /usr/bin/curl installed?)");
    assert!(
        out.status.success(),
        "curl failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn curl_get() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (addr, state) = start();
            let out = curl(&["-s", "-i", &format!("http://{addr}/")]).await;
            let out = text(&out);
            assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
            assert!(out.contains("\r\ncontent-length: 6\r\n"), "{out}");
            assert!(out.ends_with("\r\n\r\nhello\n"), "{out}");
            let out = curl(&["-s", "-w", "%{http_code}", &format!("http://{addr}/nope")]).await;
            assert_eq!(text(&out), "no such page\n404");
            assert_eq!(state.hits.get(), 2);
        })
    });
}

#[test]
fn curl_post_with_a_body() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (addr, _) = start();
            let out = curl(&[
                "-s",
                "--data-binary",
                "a body",
                &format!("http://{addr}/echo"),
            ])
            .await;
            assert_eq!(text(&out), "a body");
        })
    });
}

#[test]
fn curl_keeps_the_connection_alive() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (addr, state) = start();
            let url = format!("http://{addr}/");
            // curl prints `num_connects` after each transfer: 1, then 0
            // for the second request on the same connection.
            let out = curl(&[
                "-s",
                "-o",
                "/dev/null",
                "-o",
                "/dev/null",
                "-w",
                "%{num_connects}\n",
                &url,
                &url,
            ])
            .await;
            assert_eq!(text(&out), "1\n0\n");
            assert_eq!(state.hits.get(), 2);
        })
    });
}

#[test]
fn curl_gets_a_chunked_response() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (addr, _) = start();
            let out = curl(&["-s", "-i", &format!("http://{addr}/chunked")]).await;
            let out = text(&out);
            assert!(out.contains("\r\ntransfer-encoding: chunked\r\n"), "{out}");
            assert!(out.ends_with("\r\n\r\none,two,three"), "{out}");
        })
    });
}

#[test]
fn curl_moves_4_mb_each_way() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (addr, _) = start();
            let out = curl(&["-s", &format!("http://{addr}/big")]).await;
            assert_same(&out.stdout, &pattern(BIG, 7), "GET /big");

            let upload = TempPath::new("upload");
            let data = pattern(BIG, 8);
            std::fs::write(&upload.0, &data).unwrap();
            let from = format!("@{}", upload.0.display());
            let out = curl(&[
                "-s",
                "--data-binary",
                &from,
                &format!("http://{addr}/count"),
            ])
            .await;
            let sum: u64 = data.iter().map(|&b| u64::from(b)).sum();
            assert_eq!(text(&out), format!("{BIG} {sum}"));
        })
    });
}

#[test]
fn a_slowloris_client_is_cut_off_after_the_header_read_timeout() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            const CUT: Duration = Duration::from_millis(200);
            let (listener, addr, _, service) = listener_and_app();
            eddy::spawn(serve(listener, service).header_read_timeout(CUT));
            let slow = TcpStream::connect(addr).await.unwrap();
            let start = Instant::now();
            slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
                .await
                .unwrap();

            // Meanwhile a polite client is served at once.
            let out = curl(&["-s", &format!("http://{addr}/")]).await;
            assert_eq!(text(&out), "hello\n");

            // The half-sent request gets no answer: the connection closes.
            let mut buf = [0; 256];
            let got = timeout(Duration::from_secs(3), slow.read(&mut buf))
                .await
                .expect("the slow client was not cut off");
            let waited = start.elapsed();
            match got {
                Ok(n) => assert_eq!(n, 0, "{:?}", String::from_utf8_lossy(&buf[..n])),
                Err(e) => assert!(is_reset_like(&e), "{e}"),
            }
            assert!(waited >= CUT, "cut off after {waited:?}");
            assert!(waited < CUT * 5, "cut off only after {waited:?}");
        })
    });
}

#[test]
fn header_read_timeout_of_duration_max_means_never() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (listener, addr, _, service) = listener_and_app();
            eddy::spawn(serve(listener, service).header_read_timeout(Duration::MAX));
            let out = curl(&["-s", &format!("http://{addr}/")]).await;
            assert_eq!(text(&out), "hello\n");
        })
    });
}

/// Reads a raw HTTP/1.1 exchange: sends `request`, reads until `until`.
async fn exchange(stream: &TcpStream, request: &str, until: &str) -> String {
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0; 1024];
    while !String::from_utf8_lossy(&got).contains(until) {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed early: {:?}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(got).unwrap()
}

/// The connection ends (end of stream, or a reset for one never accepted).
async fn assert_closed(stream: &TcpStream, what: &str) {
    let mut buf = [0; 64];
    match timeout(Duration::from_secs(3), stream.read(&mut buf)).await {
        Ok(Ok(0)) => {}
        Ok(Ok(n)) => panic!("{what}: got {:?}", String::from_utf8_lossy(&buf[..n])),
        Ok(Err(e)) => assert!(is_reset_like(&e), "{what}: {e}"),
        Err(_) => panic!("{what}: still open"),
    }
}

#[test]
fn graceful_shutdown_finishes_the_request_in_flight_then_resolves() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (listener, addr, state, service) = listener_and_app();
            let (stop, stopped) = oneshot::channel::<()>();
            let server = eddy::spawn(serve(listener, service).with_graceful_shutdown(stopped));

            // An idle keep-alive connection, and one that never says a word.
            let idle = TcpStream::connect(addr).await.unwrap();
            let reply = exchange(&idle, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "hello\n").await;
            assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
            let silent = TcpStream::connect(addr).await.unwrap();

            // A slow request in flight when the signal comes.
            let url = format!("http://{addr}/slow");
            let slow = eddy::spawn(async move { curl(&["-s", "-w", " %{http_code}", &url]).await });
            state.slow_started.notified().await;
            stop.send(()).unwrap();

            assert_closed(&idle, "the idle keep-alive connection").await;
            assert_closed(&silent, "the silent connection").await;
            assert!(
                !server.is_finished(),
                "serve resolved with a request in flight"
            );
            let out = slow.await.unwrap();
            assert_eq!(text(&out), "slow done\n 200");
            timeout(Duration::from_secs(3), server)
                .await
                .expect("serve did not resolve after its last connection")
                .unwrap()
                .unwrap();
            let refused = TcpStream::connect(addr).await.unwrap_err();
            assert_eq!(
                refused.kind(),
                io::ErrorKind::ConnectionRefused,
                "{refused}"
            );
        })
    });
}

#[test]
fn graceful_shutdown_with_no_connection_resolves_at_once() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (listener, addr, _, service) = listener_and_app();
            let stop = sleep(Duration::from_millis(20));
            serve(listener, service)
                .with_graceful_shutdown(stop)
                .await
                .unwrap();
            assert!(TcpStream::connect(addr).await.is_err());
        })
    });
}

/// HTTP/2 connections from `listener`, each served by a `!Send` service
/// whose streams run through `Executor`.
async fn serve_h2(listener: TcpListener, hits: Rc<Cell<usize>>) {
    loop {
        let (stream, _) = listener.accept().await.unwrap();
        let hits = Rc::clone(&hits);
        let service = service_fn(move |req: Request<Incoming>| {
            let hits = Rc::clone(&hits);
            async move {
                hits.set(hits.get() + 1);
                let text = format!("h2 {} #{}\n", req.uri().path(), hits.get());
                Ok::<_, Infallible>(Response::new(text))
            }
        });
        eddy::spawn(
            hyper::server::conn::http2::Builder::new(Executor)
                .timer(Timer)
                .serve_connection(Io::new(stream), service),
        );
    }
}

#[test]
fn http2_with_prior_knowledge_and_a_not_send_service() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let hits = Rc::new(Cell::new(0));
            eddy::spawn(serve_h2(listener, Rc::clone(&hits)));
            // One URL per run: given two, this curl (7.88) reuses the
            // prior-knowledge connection for the second and stops with
            // "Error in the HTTP2 framing layer" before sending anything.
            for (path, n) in [("a", 1), ("b", 2)] {
                let url = format!("http://{addr}/{path}");
                let args = [
                    "-s",
                    "--http2-prior-knowledge",
                    "-w",
                    "%{http_version}\n",
                    &url,
                ];
                let out = curl(&args).await;
                assert_eq!(text(&out), format!("h2 /{path} #{n}\n2\n"));
            }
            assert_eq!(hits.get(), 2);

            // hyper's own HTTP/2 client, on eddy too: two requests at once
            // on one connection.
            let stream = TcpStream::connect(addr).await.unwrap();
            let (sender, conn) = hyper::client::conn::http2::handshake(Executor, Io::new(stream))
                .await
                .unwrap();
            eddy::spawn(conn);
            let get = |path: &'static str| {
                let mut sender = sender.clone();
                eddy::spawn(async move {
                    let req = Request::get(format!("http://{addr}{path}"))
                        .body(Empty::<Bytes>::new())
                        .unwrap();
                    let res = sender.send_request(req).await.unwrap();
                    assert_eq!(res.version(), hyper::Version::HTTP_2);
                    res.into_body().collect().await.unwrap().to_bytes()
                })
            };
            let (c, d) = (get("/c"), get("/d"));
            let (c, d) = (c.await.unwrap(), d.await.unwrap());
            assert_eq!((&c[..6], &d[..6]), (&b"h2 /c "[..], &b"h2 /d "[..]));
            assert_eq!(hits.get(), 4);
        })
    });
}

#[test]
fn hyper_client_on_eddy_through_io() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (addr, state) = start();
            let stream = TcpStream::connect(addr).await.unwrap();
            let (mut sender, conn) = hyper::client::conn::http1::handshake(Io::new(stream))
                .await
                .unwrap();
            let conn = eddy::spawn(conn);
            // Two requests on the one connection: GET, then a 4 MB POST.
            let res = sender
                .send_request(Request::get("/").body(full("")).unwrap())
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            assert_eq!(
                res.into_body().collect().await.unwrap().to_bytes(),
                "hello\n"
            );
            let data = pattern(BIG, 9);
            sender.ready().await.unwrap();
            let res = sender
                .send_request(Request::post("/echo").body(full(data.clone())).unwrap())
                .await
                .unwrap();
            let body = res.into_body().collect().await.unwrap().to_bytes();
            assert_same(&body, &data, "POST /echo");
            assert_eq!(state.hits.get(), 2);
            drop(sender);
            conn.await.unwrap().unwrap(); // closes cleanly
        })
    });
}

/// An HTTP/2 `CONNECT` turns a stream into a tunnel (`hyper::upgrade::on`
/// on both ends); `Io` over the `Upgraded` halves makes them futures-io
/// streams, as hyper-util's `TokioIo` makes them tokio ones.
#[test]
fn an_http2_connect_tunnel_is_read_and_written_through_io() {
    use futures::{AsyncReadExt, AsyncWriteExt};
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            // The server's end of the tunnel says "ping?", wants "pong!"
            // and the end of the stream back, then closes.
            let tunnel_done = Rc::new(Notify::new());
            let done = Rc::clone(&tunnel_done);
            let service = service_fn(move |req: Request<Incoming>| {
                let upgrade = hyper::upgrade::on(req);
                let done = Rc::clone(&done);
                eddy::spawn(async move {
                    let mut tunnel = Io::new(upgrade.await.unwrap());
                    tunnel.write_all(b"ping?").await.unwrap();
                    let mut got = Vec::new();
                    tunnel.read_to_end(&mut got).await.unwrap();
                    assert_eq!(got, b"pong!");
                    tunnel.close().await.unwrap();
                    done.notify_one();
                });
                async { Ok::<_, Infallible>(Response::new(Empty::<Bytes>::new())) }
            });
            eddy::spawn(async move {
                let (stream, _) = listener.accept().await.unwrap();
                hyper::server::conn::http2::Builder::new(Executor::new())
                    .timer(Timer::new())
                    .serve_connection(Io::new(stream), service)
                    .await
            });

            let stream = TcpStream::connect(addr).await.unwrap();
            let (mut sender, conn) =
                hyper::client::conn::http2::handshake(Executor, Io::new(stream))
                    .await
                    .unwrap();
            eddy::spawn(conn);
            let req = Request::connect("example.com:443")
                .body(Empty::<Bytes>::new())
                .unwrap();
            let res = sender.send_request(req).await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            let mut tunnel = Io::new(hyper::upgrade::on(res).await.unwrap());
            let mut ping = [0; 5];
            tunnel.read_exact(&mut ping).await.unwrap();
            assert_eq!(&ping, b"ping?");
            tunnel.write_all(b"pong!").await.unwrap();
            tunnel.close().await.unwrap();
            let mut rest = Vec::new();
            tunnel.read_to_end(&mut rest).await.unwrap();
            assert!(rest.is_empty(), "the server closes its end");
            tunnel_done.notified().await;
        })
    });
}

/// HTTP/1 upgrades: hyper's `with_upgrades` (and so `hyper::upgrade::on`)
/// needs a `Send` stream, and eddy's are not. The route that needs no
/// `Send`: answer 101, then `without_shutdown()` gives the stream back on
/// both ends, with any bytes hyper had already read past the head.
#[test]
fn an_http1_upgrade_takes_the_stream_back_through_without_shutdown() {
    use futures::AsyncReadExt;
    fn switching(proto: &str) -> hyper::http::request::Builder {
        Request::get("/chat")
            .header("host", "test")
            .header("connection", "upgrade")
            .header("upgrade", proto)
    }
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let server = eddy::spawn(async move {
                let (stream, _) = listener.accept().await.unwrap();
                let agree = service_fn(|req: Request<Incoming>| async move {
                    let proto = req.headers()["upgrade"].clone();
                    let res = Response::builder()
                        .status(StatusCode::SWITCHING_PROTOCOLS)
                        .header("connection", "upgrade")
                        .header("upgrade", proto)
                        .body(Empty::<Bytes>::new());
                    Ok::<_, Infallible>(res.unwrap())
                });
                let parts = hyper::server::conn::http1::Builder::new()
                    .serve_connection(Io::new(stream), agree)
                    .without_shutdown()
                    .await
                    .unwrap();
                // The new protocol: what the client sent, upper-cased.
                let mut got = parts.read_buf.to_vec();
                let stream = parts.io.into_inner();
                let mut more = [0; 64];
                while got.len() < 5 {
                    let n = stream.read(&mut more).await.unwrap();
                    assert!(n > 0, "the client closed early");
                    got.extend_from_slice(&more[..n]);
                }
                stream.write_all(&got.to_ascii_uppercase()).await.unwrap();
            });

            let stream = TcpStream::connect(addr).await.unwrap();
            let (mut sender, conn) = hyper::client::conn::http1::handshake(Io::new(stream))
                .await
                .unwrap();
            let conn = eddy::spawn(conn.without_shutdown());
            let req = switching("shout").body(Empty::<Bytes>::new()).unwrap();
            let res = sender.send_request(req).await.unwrap();
            assert_eq!(res.status(), StatusCode::SWITCHING_PROTOCOLS);
            drop(sender); // lets the connection hand its parts back
            let mut stream = conn.await.unwrap().unwrap().io.into_inner();
            stream.write_all(b"hello").await.unwrap();
            let mut answer = Vec::new();
            stream.read_to_end(&mut answer).await.unwrap();
            assert_eq!(answer, b"HELLO");
            server.await.unwrap();
        })
    });
}

// ---------------------------------------------------------------------------
// Timer: sleeps that reach another thread
// ---------------------------------------------------------------------------

use hyper::rt::Timer as _;

#[test]
fn a_timer_sleep_dropped_on_another_thread_is_leaked_and_harmless() {
    watchdog(LIMIT, || {
        let rt = eddy::Runtime::new().unwrap();
        let mut sleep = Timer.sleep(Duration::from_secs(3600));
        // Registered in this runtime's wheel.
        rt.block_on(std::future::poll_fn(|cx| {
            assert!(sleep.as_mut().poll(cx).is_pending());
            std::task::Poll::Ready(())
        }));
        std::thread::spawn(move || drop(sleep)).join().unwrap();
        // The runtime goes on and its timers still work.
        rt.block_on(async {
            let mut short = Timer.sleep(Duration::from_millis(1));
            short.as_mut().await;
            let mut moved = Timer.sleep(Duration::from_secs(3600));
            Timer.reset(&mut moved, Instant::now());
            moved.await;
        });
        drop(rt);
    });
}

#[test]
fn a_timer_sleep_polled_on_another_thread_panics_with_a_message() {
    watchdog(LIMIT, || {
        let rt = eddy::Runtime::new().unwrap();
        let mut sleep = Timer.sleep(Duration::from_secs(3600));
        // Registered in this runtime's wheel.
        rt.block_on(std::future::poll_fn(|cx| {
            assert!(sleep.as_mut().poll(cx).is_pending());
            std::task::Poll::Ready(())
        }));
        let (message, sleep) = std::thread::spawn(move || {
            let mut sleep = sleep;
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            let message = catch(|| {
                let _ = sleep.as_mut().poll(&mut cx);
            })
            .expect_err("polling on another thread did not panic");
            let reset = catch(|| Timer.reset(&mut sleep, Instant::now()))
                .expect_err("resetting on another thread did not panic");
            assert!(reset.contains("was reset on another thread"), "{reset}");
            (message, sleep)
        })
        .join()
        .unwrap();
        assert!(
            message.starts_with(
                "eddy: a hyper sleep from eddy::hyper::Timer was polled on another thread"
            ),
            "{message}"
        );
        // Back on its own thread, it still works, and drops cleanly.
        rt.block_on(async move {
            let mut sleep = sleep;
            Timer.reset(&mut sleep, Instant::now());
            sleep.await;
        });
    });
}

// ---------------------------------------------------------------------------
// EMFILE
// ---------------------------------------------------------------------------

const CHILD_ENV: &str = "EDDY_HYPER_TEST_CHILD";

#[test]
fn serve_backs_off_on_emfile_and_recovers() {
    let name = "serve_backs_off_on_emfile_and_recovers";
    let stdout = in_child_process(CHILD_ENV, name, LIMIT, || {
        let rt = eddy::Runtime::new().unwrap();
        rt.block_on(async {
            let (listener, addr, state, service) = listener_and_app();
            // Connected (and queued) while a descriptor is still free.
            let mut client = std::net::TcpStream::connect(addr).unwrap();
            let normal = get_nofile();
            set_nofile(libc::rlimit {
                rlim_cur: (lowest_free_fd() + 4) as libc::rlim_t,
                rlim_max: normal.rlim_max,
            });
            let mut fillers = Vec::new();
            while let Ok(f) = std::fs::File::open("/dev/null") {
                fillers.push(f);
                assert!(fillers.len() < 100, "the fd limit did not apply");
            }

            eddy::spawn(serve(listener, service));
            let m0 = rt.metrics();
            sleep(Duration::from_millis(300)).await;
            let m1 = rt.metrics();
            let polls = m1.polls - m0.polls;
            println!(
                "hyper: 300 ms of EMFILE: {polls} polls, {} parks",
                m1.parks - m0.parks
            );
            // Pauses of 5, 10, 20, 40, 80, 160 ms: a few polls, no spin.
            assert!(polls <= 20, "{polls} polls in 300 ms of EMFILE");
            assert_eq!(state.hits.get(), 0);

            // Descriptors again: the queued connection is served.
            drop(fillers);
            let reply = spawn_blocking(move || {
                client.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
                let mut reply = String::new();
                client.read_to_string(&mut reply)?;
                Ok::<_, io::Error>(reply)
            });
            let reply = timeout(Duration::from_secs(3), reply)
                .await
                .expect("not served once descriptors were free")
                .unwrap()
                .unwrap();
            set_nofile(normal);
            assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
            assert!(reply.ends_with("hello\n"), "{reply}");
        });
    });
    if let Some(stdout) = stdout {
        for line in stdout
            .lines()
            .filter_map(|l| l.find("hyper:").map(|at| &l[at..]))
        {
            println!("{line}");
        }
    }
}

/// Every name of API.md's "HTTP on eddy" with the exact trait and argument
/// types it writes (a compile-time check; nothing runs).
#[test]
fn signatures_as_api_md_writes_them() {
    use std::future::Future;
    fn clone_copy_default<T: Clone + Copy + Default>() {}
    fn executor<F: Future<Output = ()> + 'static>(_: F)
    where
        eddy::hyper::Executor: hyper::rt::Executor<F>,
    {
    }
    fn timer<T: hyper::rt::Timer>() {}
    fn read_write<T: hyper::rt::Read + hyper::rt::Write>() {}
    fn serve_future<S: Future<Output = io::Result<()>>>(_: S) {}

    clone_copy_default::<eddy::hyper::Executor>();
    clone_copy_default::<eddy::hyper::Timer>();
    let (_, _) = (eddy::hyper::Executor, eddy::hyper::Timer);
    // hyper-util's `TokioExecutor::new()` and `TokioTimer::new()` port as is.
    let (_, _) = (eddy::hyper::Executor::new(), eddy::hyper::Timer::new());
    // `!Send` futures too: an `Rc` held across an await.
    executor(async {
        let rc = Rc::new(());
        std::future::ready(()).await;
        drop(rc);
    });
    timer::<eddy::hyper::Timer>();
    read_write::<eddy::hyper::Io<eddy::net::TcpStream>>();
    let _: fn(TcpStream) -> eddy::hyper::Io<TcpStream> = eddy::hyper::Io::new;
    let _: fn(eddy::hyper::Io<TcpStream>) -> TcpStream = eddy::hyper::Io::into_inner;
    let _ = |listener: TcpListener| {
        let state = Rc::new(()); // `Rc` state is fine: no `Send` needed
        let service = service_fn(move |_: Request<Incoming>| {
            let _ = &state;
            async { Ok::<_, Infallible>(Response::new(String::new())) }
        });
        let serve =
            eddy::hyper::serve(listener, service).header_read_timeout(Duration::from_secs(1));
        serve_future(serve.with_graceful_shutdown(async {}));
    };
}
