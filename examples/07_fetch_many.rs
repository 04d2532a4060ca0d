//! # 07 — fetch many: timeouts, a limit on concurrency, and gathering results
//!
//! What it teaches: the web-scraper pattern. A client wants 100 pages; it
//! spawns one task per page and gathers the results with a `JoinSet`
//! (`asyncio.gather`). Two things keep it well-behaved: a `Semaphore` with
//! 10 permits, so at most 10 requests are in flight however many tasks
//! exist, and `timeout`, so a slow page costs 200 ms and a slot, never the
//! whole run (`asyncio.wait_for`). The server is a tiny HTTP/1.1 server on
//! loopback, one task per connection, where every 20th page is slow.
//!
//! What to watch: the fast pages stream in while the slow ones hold their
//! slots; each slow page times out on the client while its server handler
//! is still asleep. The peak of requests in flight never passes 10. When
//! the results are in, `block_on` returns and cancels whatever is still
//! running (the server and its sleeping handlers), so the program exits
//! at once instead of waiting out their 500 ms.
//!
//! Which part of eddy does the work: `src/sync/semaphore.rs` (the permits,
//! handed out in FIFO order), `src/time/timeout.rs` and `src/time/wheel.rs`
//! (the deadlines), `src/task/join_set.rs` (results in completion order),
//! `src/net/tcp.rs` and `src/reactor/mod.rs` (the sockets), and
//! `src/runtime/core.rs` (cancels the leftover tasks as `block_on` ends).
//!
//! Run it: `cargo run --example 07_fetch_many`

use std::cell::Cell;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

use eddy::net::{TcpListener, TcpStream};
use eddy::sync::Semaphore;
use eddy::task::JoinSet;
use eddy::time::{sleep, timeout};

const PAGES: usize = 100;
const MAX_IN_FLIGHT: usize = 10;
/// Every page whose number is a multiple of this is slow.
const SLOW_EVERY: usize = 20;
const SLOW_DELAY: Duration = Duration::from_millis(500);
const DEADLINE: Duration = Duration::from_millis(200);
/// The most a request or response head may take, in bytes.
const MAX_HEAD: usize = 8 * 1024;

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// Reads up to the blank line that ends an HTTP head. Returns the head and
/// whatever came after it (the start of the body).
async fn read_head(stream: &TcpStream) -> io::Result<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            buf.truncate(end);
            let head = String::from_utf8(buf).map_err(|_| invalid("head is not UTF-8"))?;
            return Ok((head, rest));
        }
        if buf.len() > MAX_HEAD {
            return Err(invalid(format!("head longer than {MAX_HEAD} bytes")));
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed before the end of the head",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn page_body(n: usize) -> String {
    format!("this is page {n}\n")
}

// ---------------------------------------------------------------- server

/// Picks the answer for a request line: status, body, and the page number.
fn route(request_line: &str) -> (&'static str, String, Option<usize>) {
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return ("400 Bad Request", "bad request line\n".into(), None);
    };
    if !version.starts_with("HTTP/1.") {
        return (
            "505 HTTP Version Not Supported",
            "HTTP/1.x only\n".into(),
            None,
        );
    }
    if method != "GET" {
        return ("405 Method Not Allowed", "GET only\n".into(), None);
    }
    match target.strip_prefix("/page/").map(str::parse::<usize>) {
        Some(Ok(n)) if (1..=PAGES).contains(&n) => ("200 OK", page_body(n), Some(n)),
        _ => ("404 Not Found", "no such page\n".into(), None),
    }
}

async fn handle(stream: TcpStream, asleep: Rc<Cell<usize>>) -> io::Result<()> {
    // A client that never finishes its request must not hold a task forever.
    let (head, _body) = timeout(Duration::from_secs(1), read_head(&stream))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "request head too slow"))??;
    let request_line = head.lines().next().unwrap_or("");
    let (status, body, page) = route(request_line);

    if let Some(n) = page.filter(|n| n % SLOW_EVERY == 0) {
        println!("server: page {n} is slow, answering in {SLOW_DELAY:?}");
        asleep.set(asleep.get() + 1);
        sleep(SLOW_DELAY).await; // simulated slowness
        asleep.set(asleep.get() - 1);
    }
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown(Shutdown::Write)
}

async fn serve(listener: TcpListener, asleep: Rc<Cell<usize>>) {
    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => {
                let asleep = Rc::clone(&asleep);
                eddy::spawn(async move {
                    // A client that timed out has hung up: the write fails.
                    if let Err(e) = handle(stream, asleep).await {
                        println!("server: could not answer: {e}");
                    }
                });
            }
            Err(e) => {
                // Out of file descriptors, say: retrying at once would spin.
                println!("server: accept failed: {e}");
                sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

// ---------------------------------------------------------------- client

/// One HTTP/1.1 GET; the body of a `200 OK`, or an error.
async fn fetch(addr: SocketAddr, n: usize) -> io::Result<String> {
    let stream = TcpStream::connect(addr).await?;
    let request = format!("GET /page/{n} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;

    let (head, mut body) = read_head(&stream).await?;
    let mut lines = head.lines();
    let status_line = lines.next().unwrap_or("");
    let status = match status_line.split(' ').collect::<Vec<_>>()[..] {
        [version, code, ..] if version.starts_with("HTTP/1.") => code,
        _ => return Err(invalid(format!("bad status line {status_line:?}"))),
    };
    let length: usize = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .ok_or_else(|| invalid("no valid Content-Length"))?;
    if length > MAX_HEAD {
        return Err(invalid(format!("body of {length} bytes is too big")));
    }

    let mut chunk = [0u8; 1024];
    while body.len() < length {
        let got = stream.read(&mut chunk).await?;
        if got == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("body cut short at {} of {length} bytes", body.len()),
            ));
        }
        body.extend_from_slice(&chunk[..got]);
    }
    body.truncate(length);
    if status != "200" {
        return Err(invalid(format!("server said {status_line:?}")));
    }
    String::from_utf8(body).map_err(|_| invalid("body is not UTF-8"))
}

fn main() -> io::Result<()> {
    eddy::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        println!("server: listening on http://{addr}/page/1 .. /page/{PAGES}");
        let asleep = Rc::new(Cell::new(0));
        // Never awaited: it is cancelled when `block_on` returns.
        eddy::spawn(serve(listener, Rc::clone(&asleep)));

        let permits = Rc::new(Semaphore::new(MAX_IN_FLIGHT));
        let in_flight = Rc::new(Cell::new(0usize));
        let peak = Rc::new(Cell::new(0usize));
        let mut set = JoinSet::new();
        for n in 1..=PAGES {
            let (permits, in_flight, peak) =
                (Rc::clone(&permits), Rc::clone(&in_flight), Rc::clone(&peak));
            set.spawn(async move {
                // All 100 tasks exist at once; only 10 get past this line.
                let _permit = permits.acquire().await;
                in_flight.set(in_flight.get() + 1);
                peak.set(peak.get().max(in_flight.get()));
                // The clock starts once we have a slot, not while we queue.
                let result = timeout(DEADLINE, fetch(addr, n)).await;
                in_flight.set(in_flight.get() - 1);
                (n, result)
            }); // the permit goes back here, and the next task in line runs
        }
        println!("client: {PAGES} fetches spawned, at most {MAX_IN_FLIGHT} at a time");

        let (mut ok, mut timed_out, mut failed) = (0, 0, 0);
        let mut done = 0;
        while let Some(joined) = set.join_next().await {
            let (n, result) = joined.map_err(io::Error::other)?;
            match result {
                Ok(Ok(body)) if body == page_body(n) => ok += 1,
                Ok(Ok(body)) => {
                    println!("client: page {n} has the wrong body {body:?}");
                    failed += 1;
                }
                Ok(Err(e)) => {
                    println!("client: page {n} failed: {e}");
                    failed += 1;
                }
                Err(_elapsed) => {
                    // Dropping the fetch closed its connection.
                    println!("client: page {n} timed out after {DEADLINE:?}");
                    timed_out += 1;
                }
            }
            done += 1;
            if done % 25 == 0 {
                println!("client: {done}/{PAGES} done ({ok} ok, {timed_out} timed out)");
            }
        }

        if failed > 0 {
            return Err(io::Error::other(format!("{failed} pages failed")));
        }
        let peak = peak.get();
        assert_eq!(ok + timed_out, PAGES);
        assert!(peak <= MAX_IN_FLIGHT, "{peak} requests were in flight");
        println!(
            "main: {} slow handlers still asleep on the server; block_on cancels them",
            asleep.get()
        );
        println!("done: {PAGES} pages, {ok} ok, {timed_out} timed out, at most {peak} in flight");
        Ok(())
    })
}
