//! # 12 — an HTTP server: routes, shared state, background jobs, graceful shutdown
//!
//! What it teaches: what aiohttp's `web.Application` and `web.run_app` do,
//! on eddy with hyper. A handler is an `async fn` from a request to a
//! response; `eddy::hyper::serve` accepts connections and runs each in a
//! task of its own, with keep-alive and a header read timeout. Because all
//! of it runs on one thread, the app's state is a plain
//! `Rc<RefCell<_>>`: no `Arc`, no `Mutex`, no `Send` anywhere. Routes: a
//! text page, a JSON document built by hand, one that sleeps (a slow
//! database, say), and one that spawns a background job and answers at
//! once.
//!
//! What to watch: the self-client (the default mode) makes its requests
//! over one keep-alive connection and checks every answer; the background
//! job finishes after its request has been answered. Then, with a slow
//! request still in flight on a second connection, the client asks the
//! server to shut down, as Ctrl-C would: the server stops accepting at
//! once, answers the slow request, and only then does `serve` return.
//!
//! Which part of eddy does the work: `src/hyper/serve.rs` (accepting, the
//! task per connection, the graceful shutdown), `src/hyper/rt.rs` (hyper's
//! timers on eddy's wheel), `src/hyper/io.rs` (hyper's I/O over eddy's
//! sockets), `src/task/` (the background job), `src/time/` (the slow route).
//!
//! Run it: `cargo run --features hyper --example 12_http_server` (the
//! self-client), or `... -- --serve` to serve on http://127.0.0.1:8080
//! until stopped (try `curl localhost:8080/api/stats`).

use std::cell::RefCell;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::rc::Rc;
use std::time::{Duration, Instant};

use eddy::hyper::Io;
use eddy::net::{TcpListener, TcpStream};
use eddy::sync::{Notify, oneshot};
use eddy::time::sleep;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};

/// What every handler shares: plain cells, one thread.
#[derive(Default)]
struct State {
    requests: u64,
    jobs_started: u64,
    jobs_done: u64,
    /// Told when the next slow request starts (the self-client waits for it).
    on_slow: Option<oneshot::Sender<()>>,
}

type Shared = Rc<RefCell<State>>;

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
}

/// The router: one `match` on method and path.
async fn handle(
    state: Shared,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    state.borrow_mut().requests += 1; // the borrow ends here, before any await
    let response = match (req.method(), req.uri().path()) {
        (&Method::GET, "/") => text(StatusCode::OK, "hello from eddy\n"),
        (&Method::GET, "/api/stats") => {
            let s = state.borrow();
            let json = format!(
                "{{\"requests\": {}, \"jobs_started\": {}, \"jobs_done\": {}}}\n",
                s.requests, s.jobs_started, s.jobs_done
            );
            let mut response = text(StatusCode::OK, json);
            response.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("application/json"),
            );
            response
        }
        (&Method::GET, "/slow") => {
            let ms = req
                .uri()
                .query()
                .and_then(|q| q.strip_prefix("ms="))
                .and_then(|ms| ms.parse().ok())
                .unwrap_or(100u64)
                .min(5_000);
            if let Some(tell) = state.borrow_mut().on_slow.take() {
                let _ = tell.send(());
            }
            sleep(Duration::from_millis(ms)).await; // other requests run meanwhile
            text(StatusCode::OK, format!("slept {ms} ms\n"))
        }
        (&Method::POST, "/jobs") => {
            let id = {
                let mut s = state.borrow_mut();
                s.jobs_started += 1;
                s.jobs_started
            };
            // Answer now; the job runs on in a task of its own.
            let state = Rc::clone(&state);
            eddy::spawn(async move {
                sleep(Duration::from_millis(10)).await;
                state.borrow_mut().jobs_done += 1;
                println!("server: background job {id} done");
            });
            text(StatusCode::ACCEPTED, format!("job {id} queued\n"))
        }
        _ => text(StatusCode::NOT_FOUND, "no such page\n"),
    };
    Ok(response)
}

/// Resolves when the server should stop: at Ctrl-C, or when the self-client
/// says so. `ctrl_c()` starts listening when it is called, here, before the
/// server runs: from then on Ctrl-C no longer kills the process, it asks
/// for this graceful shutdown.
async fn shutdown_signal(stop: Rc<Notify>) {
    let ctrl_c = pin!(eddy::signal::ctrl_c());
    let asked = pin!(stop.notified());
    futures::future::select(ctrl_c, asked).await;
}

// ---------------------------------------------------------------- client

/// One hyper connection, kept alive for several requests.
struct Client {
    sender: hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
}

impl Client {
    async fn connect(addr: SocketAddr) -> io::Result<Client> {
        let stream = TcpStream::connect(addr).await?;
        let (sender, conn) = hyper::client::conn::http1::handshake(Io::new(stream))
            .await
            .map_err(io::Error::other)?;
        eddy::spawn(conn); // drives the connection
        Ok(Client { sender })
    }

    /// Sends one request and returns the status and the body as text.
    async fn send(&mut self, method: Method, path: &str) -> io::Result<(StatusCode, String)> {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, "localhost")
            .body(Empty::new())
            .map_err(io::Error::other)?;
        self.sender.ready().await.map_err(io::Error::other)?;
        let response = self
            .sender
            .send_request(req)
            .await
            .map_err(io::Error::other)?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(io::Error::other)?;
        Ok((
            status,
            String::from_utf8_lossy(&body.to_bytes()).into_owned(),
        ))
    }
}

/// Makes a request, prints it, and checks the answer.
async fn check(
    client: &mut Client,
    method: Method,
    path: &str,
    want: (StatusCode, &str),
) -> io::Result<()> {
    let (status, body) = client.send(method.clone(), path).await?;
    println!(
        "client: {method} {path} -> {} {:?}",
        status.as_u16(),
        body.trim_end()
    );
    if (status, body.as_str()) != want {
        return Err(io::Error::other(format!(
            "{method} {path}: expected {want:?}"
        )));
    }
    Ok(())
}

async fn self_client(addr: SocketAddr, state: Shared, stop: Rc<Notify>) -> io::Result<()> {
    let mut client = Client::connect(addr).await?;
    check(
        &mut client,
        Method::GET,
        "/",
        (StatusCode::OK, "hello from eddy\n"),
    )
    .await?;
    check(
        &mut client,
        Method::POST,
        "/jobs",
        (StatusCode::ACCEPTED, "job 1 queued\n"),
    )
    .await?;
    // The job (10 ms) finishes while this request (50 ms) sleeps.
    check(
        &mut client,
        Method::GET,
        "/slow?ms=50",
        (StatusCode::OK, "slept 50 ms\n"),
    )
    .await?;
    let stats = "{\"requests\": 4, \"jobs_started\": 1, \"jobs_done\": 1}\n";
    check(
        &mut client,
        Method::GET,
        "/api/stats",
        (StatusCode::OK, stats),
    )
    .await?;
    check(
        &mut client,
        Method::GET,
        "/nope",
        (StatusCode::NOT_FOUND, "no such page\n"),
    )
    .await?;

    // A slow request on a second connection, in flight during the shutdown.
    // (A shortcut only this demo has: the server's state tells the client
    // when its slow request has arrived.)
    let (tell, slow_started) = oneshot::channel();
    state.borrow_mut().on_slow = Some(tell);
    let slow = eddy::spawn(async move {
        let start = Instant::now();
        let mut second = Client::connect(addr).await?;
        let answer = second.send(Method::GET, "/slow?ms=300").await?;
        Ok::<_, io::Error>((answer, start.elapsed()))
    });
    slow_started.await.map_err(io::Error::other)?;
    println!("client: the slow request is in flight; asking the server to shut down (as Ctrl-C)");
    stop.notify_one();
    let ((status, body), took) = slow.await.map_err(io::Error::other)??;
    println!(
        "client: GET /slow?ms=300 -> {} {:?} after {} ms, during the shutdown",
        status.as_u16(),
        body.trim_end(),
        took.as_millis()
    );
    if (status, body.as_str()) != (StatusCode::OK, "slept 300 ms\n") {
        return Err(io::Error::other("the request in flight was not answered"));
    }
    Ok(())
}

fn main() -> io::Result<()> {
    let serve_mode = std::env::args().any(|a| a == "--serve");
    eddy::block_on(async {
        let listener = TcpListener::bind(if serve_mode {
            "127.0.0.1:8080"
        } else {
            "127.0.0.1:0"
        })?;
        let addr = listener.local_addr()?;
        println!("server: listening on http://{addr}/");

        let state = Shared::default();
        let stop = Rc::new(Notify::new());
        let service = {
            let state = Rc::clone(&state);
            hyper::service::service_fn(move |req| handle(Rc::clone(&state), req))
        };
        let server = eddy::spawn(
            eddy::hyper::serve(listener, service)
                .with_graceful_shutdown(shutdown_signal(Rc::clone(&stop))),
        );
        if !serve_mode {
            self_client(addr, Rc::clone(&state), stop).await?;
        }
        server.await.map_err(io::Error::other)??;
        let requests = state.borrow().requests;
        println!("server: shut down gracefully after {requests} requests");
        if !serve_mode {
            // The listener is closed: new connections are refused.
            let refused = TcpStream::connect(addr).await.is_err();
            println!("client: a new connection is refused: {refused}");
            let s = state.borrow();
            println!(
                "done: {} requests answered, {} background job run, graceful shutdown with 1 request in flight",
                s.requests, s.jobs_done
            );
        }
        Ok(())
    })
}
