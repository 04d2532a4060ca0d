//! # 13 — an HTTP client: 100 pages, 10 at a time, each with a deadline
//!
//! What it teaches: the scraper of example 07, with a real HTTP client
//! (hyper's, on eddy through `eddy::hyper::Io`) instead of hand-written
//! HTTP. One task per page; a `Semaphore` with 10 permits keeps at most 10
//! requests in flight (`asyncio.Semaphore`); `timeout` gives each page
//! 200 ms (`asyncio.wait_for`), and a page that takes longer is cancelled:
//! its future is dropped, which closes its connection. The results are
//! gathered in input order (`asyncio.gather`), whatever order they finish
//! in. The pages come from a local server (`eddy::hyper::serve`) on which
//! every 20th page is slow.
//!
//! What to watch: the fast pages finish while the slow ones hold their
//! slots; each slow page is cancelled at 200 ms, while its handler on the
//! server still sleeps. The results print in page order. When they are
//! in, `block_on` returns and cancels what is left (the server and its
//! sleeping handlers), so the program exits at once.
//!
//! Which part of eddy does the work: `src/hyper/io.rs` (hyper's reads and
//! writes over `TcpStream`), `src/sync/semaphore.rs` (the permits, in FIFO
//! order), `src/time/timeout.rs` (the deadlines), `src/hyper/serve.rs` (the
//! server).
//!
//! Run it: `cargo run --features hyper --example 13_http_client`

use std::cell::Cell;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use eddy::hyper::Io;
use eddy::net::{TcpListener, TcpStream};
use eddy::sync::Semaphore;
use eddy::time::{sleep, timeout};
use http_body_util::{BodyExt, Empty};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};

const PAGES: usize = 100;
const MAX_IN_FLIGHT: usize = 10;
/// Every page whose number is a multiple of this is slow.
const SLOW_EVERY: usize = 20;
const SLOW_DELAY: Duration = Duration::from_millis(500);
const DEADLINE: Duration = Duration::from_millis(200);

fn page_body(n: usize) -> String {
    format!("this is page {n}\n")
}

// ---------------------------------------------------------------- server

async fn page(req: Request<Incoming>) -> Result<Response<String>, Infallible> {
    let n = req
        .uri()
        .path()
        .strip_prefix("/page/")
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|n| (1..=PAGES).contains(n));
    let Some(n) = n else {
        let mut not_found = Response::new("no such page\n".to_string());
        *not_found.status_mut() = StatusCode::NOT_FOUND;
        return Ok(not_found);
    };
    if n % SLOW_EVERY == 0 {
        sleep(SLOW_DELAY).await; // a slow page
    }
    Ok(Response::new(page_body(n)))
}

// ---------------------------------------------------------------- client

/// Fetches one page over a connection of its own; the body of a `200 OK`.
async fn fetch(addr: SocketAddr, n: usize) -> io::Result<String> {
    let stream = TcpStream::connect(addr).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(Io::new(stream))
        .await
        .map_err(io::Error::other)?;
    // The connection's own task; it ends when `sender` is dropped.
    eddy::spawn(conn);
    let req = Request::get(format!("/page/{n}"))
        .header(hyper::header::HOST, addr.to_string())
        .body(Empty::<Bytes>::new())
        .map_err(io::Error::other)?;
    let response = sender.send_request(req).await.map_err(io::Error::other)?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(io::Error::other)?;
    if status != StatusCode::OK {
        return Err(io::Error::other(format!("page {n}: {status}")));
    }
    String::from_utf8(body.to_bytes().to_vec()).map_err(io::Error::other)
}

fn main() -> io::Result<()> {
    eddy::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        println!("server: http://{addr}/page/1 .. /page/{PAGES}, every {SLOW_EVERY}th slow");
        // Never awaited: it is cancelled when `block_on` returns.
        eddy::spawn(eddy::hyper::serve(
            listener,
            hyper::service::service_fn(page),
        ));

        let permits = Rc::new(Semaphore::new(MAX_IN_FLIGHT));
        let in_flight = Rc::new(Cell::new(0usize));
        let peak = Rc::new(Cell::new(0usize));
        // One task per page; the handles stay in input order.
        let tasks: Vec<_> = (1..=PAGES)
            .map(|n| {
                let (permits, in_flight, peak) =
                    (Rc::clone(&permits), Rc::clone(&in_flight), Rc::clone(&peak));
                eddy::spawn(async move {
                    let _permit = permits.acquire().await; // at most 10 past here
                    in_flight.set(in_flight.get() + 1);
                    peak.set(peak.get().max(in_flight.get()));
                    // Past the deadline the fetch is dropped: cancelled.
                    let result = timeout(DEADLINE, fetch(addr, n)).await;
                    in_flight.set(in_flight.get() - 1);
                    result
                })
            })
            .collect();
        println!("client: {PAGES} fetches spawned, at most {MAX_IN_FLIGHT} at a time");

        // Gathered in input order: awaiting handle 1, then 2, ...
        let (mut ok, mut timed_out, mut in_order) = (0, 0, true);
        for (i, task) in tasks.into_iter().enumerate() {
            let n = i + 1;
            match task.await.map_err(io::Error::other)? {
                Ok(Ok(body)) => {
                    in_order &= body == page_body(n);
                    ok += 1;
                }
                Ok(Err(e)) => return Err(io::Error::other(format!("page {n} failed: {e}"))),
                Err(_elapsed) => {
                    println!("client: page {n} cancelled after {DEADLINE:?}");
                    timed_out += 1;
                }
            }
            if n % 25 == 0 {
                println!("client: pages 1..={n} gathered ({ok} ok, {timed_out} cancelled)");
            }
        }
        let peak = peak.get();
        assert!(peak <= MAX_IN_FLIGHT, "{peak} requests were in flight");
        println!(
            "done: {PAGES} pages, {ok} ok, {timed_out} timed out, at most {peak} in flight, \
             in input order: {in_order}"
        );
        Ok(())
    })
}
