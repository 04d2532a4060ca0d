//! # 06 — chat server: one broadcast channel, a shutdown every task sees
//!
//! What it teaches: fan-out through a `broadcast` channel, waiting for
//! several things at once with `futures::select!`, and a graceful shutdown
//! signalled through a `watch` channel.
//!
//! Every line said in the room goes into one `broadcast` channel. Each
//! connection has one task, which subscribes to the room and then waits, with
//! `select!`, for whichever comes first: a line from its client (said to
//! the room), a line from the room (written to its client, unless it said
//! it), or the shutdown signal. A send into the room never waits: the ring
//! keeps the last `ROOM_BACKLOG` lines, and a client too slow to keep up is
//! told how many lines it missed (`Lagged`) instead of holding everyone up.
//! The room's receiver goes into `select!` as it is (it is a fused
//! stream); only fresh `async fn` futures need `.fuse()`.
//!
//! The table of who is online lives in an `Rc<RefCell<_>>`: one thread, so
//! no `Mutex` and no atomics. The one rule: never hold a `RefCell` borrow
//! across an `.await`. The borrow lives on while the task is suspended and
//! other tasks run; the first of them to call `borrow_mut()` (a client
//! joining or leaving) panics with `BorrowMutError`. So the borrows below
//! end before the next `.await`.
//!
//! What to watch: four clients join one after another, chat at the same
//! time (their lines interleave as the loop runs whoever is ready), then leave
//! one by one: the ones still there are told "<name> left". A fifth client,
//! mallory, sends a line longer than the limit; the server answers with an
//! error line and disconnects her; the others just get a notice and go
//! on. Each client counts and checks what it receives: nothing goes
//! missing, and each sender's lines arrive in order. Last, eve joins an
//! empty room and main sends `true` on the shutdown `watch`: the accept loop
//! stops, eve's connection task tells her the server is shutting down and
//! closes, and the server returns once every connection has finished.
//!
//! Which part of eddy does the work: `src/sync/broadcast.rs` (the room),
//! `src/sync/watch.rs` (the shutdown flag), `src/net/tcp.rs` (the sockets),
//! `src/reactor/mod.rs` (wakes the task whose socket is ready),
//! `src/time/timeout.rs` (a client gives up instead of hanging if a line
//! never comes), and `src/task/join_set.rs` (the server waits for its
//! connections before it returns).
//!
//! Run it: `cargo run --example 06_chat_server`

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

use eddy::net::{TcpListener, TcpStream};
use eddy::sync::broadcast::{self, RecvError};
use eddy::sync::watch;
use eddy::task::JoinSet;
use eddy::time::{sleep, timeout};
use futures::{FutureExt, StreamExt, select};

/// The longest line the server accepts, in bytes.
const MAX_LINE: usize = 256;
const NAMES: [&str; 4] = ["alice", "bob", "carol", "dave"];
const MESSAGES: usize = 3;
/// How long a client waits for a line it expects before calling it a bug.
const PATIENCE: Duration = Duration::from_secs(1);
/// Lines the room keeps for a client that is behind.
const ROOM_BACKLOG: usize = 64;

/// Who is online: connection id -> name (a `BTreeMap`, so names are listed
/// in the order the clients came).
type Table = Rc<RefCell<BTreeMap<usize, String>>>;

/// A line said in the room. Cloned once per listener: the text is shared.
#[derive(Clone)]
struct Said {
    from: usize,
    text: Rc<str>,
}

/// Splits a byte stream into lines of at most `max` bytes of UTF-8.
struct LineReader {
    buf: Vec<u8>,
    max: usize,
}

impl LineReader {
    fn new(max: usize) -> LineReader {
        LineReader {
            buf: Vec::new(),
            max,
        }
    }

    /// The next line without its `\n`; `None` at a clean end of stream.
    async fn next_line(&mut self, stream: &TcpStream) -> io::Result<Option<String>> {
        loop {
            if let Some(end) = self.buf.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.buf.drain(..=end).collect();
                line.pop();
                if line.len() > self.max {
                    return Err(too_long(self.max));
                }
                return String::from_utf8(line).map(Some).map_err(|_| {
                    io::Error::new(io::ErrorKind::InvalidData, "line is not valid UTF-8")
                });
            }
            // Checked before reading more, so a peer that never sends a
            // newline cannot make us buffer without limit.
            if self.buf.len() > self.max {
                return Err(too_long(self.max));
            }
            let mut chunk = [0u8; 512];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "connection closed in the middle of a line",
                    ))
                };
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

fn too_long(max: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("line longer than {max} bytes"),
    )
}

// ---------------------------------------------------------------- server

/// Says `text` to the room, as connection `from`. Never waits.
fn say(room: &broadcast::Sender<Said>, from: usize, text: String) {
    // An error only means nobody listens.
    let _ = room.send(Said {
        from,
        text: text.into(),
    });
}

/// How a connection ended well.
enum Ending {
    /// The client closed its side.
    Left,
    /// The server is shutting down.
    ShutDown,
}

/// Writes one line to the client.
async fn write_line(stream: &TcpStream, line: &str) -> io::Result<()> {
    stream.write_all(format!("{line}\n").as_bytes()).await
}

/// The task of one connection: reads its client, writes the room to it.
async fn serve(
    stream: TcpStream,
    id: usize,
    table: Table,
    room: broadcast::Sender<Said>,
    mut shutdown: watch::Receiver<bool>,
) -> io::Result<()> {
    let mut lines = LineReader::new(MAX_LINE);
    let Some(name) = lines.next_line(&stream).await? else {
        return Ok(()); // gone before saying who it is
    };
    // Subscribed before the welcome: once the client has it, it hears
    // everything said in the room.
    let mut heard = room.subscribe();
    let online = {
        let mut table = table.borrow_mut();
        table.insert(id, name.clone());
        let names: Vec<&str> = table.values().map(String::as_str).collect();
        names.join(", ")
    }; // the borrow ends here, before the awaits below
    println!("server: {name} joined; online: {online}");
    write_line(&stream, &format!("* welcome {name}")).await?;
    say(&room, id, format!("* {name} joined"));

    let result: io::Result<Ending> = loop {
        select! {
            // A fresh `async fn` future: it needs `.fuse()`. Dropped when
            // another branch wins, it loses nothing (reads are cancel-safe,
            // and what was read stays in `lines`).
            line = lines.next_line(&stream).fuse() => match line {
                Ok(Some(line)) => say(&room, id, format!("{name}: {line}")),
                Ok(None) => break Ok(Ending::Left),
                Err(e) => break Err(e),
            },
            // The room's receiver is a fused stream: no `.fuse()`.
            said = heard.next() => {
                let written = match said {
                    Some(Ok(said)) if said.from != id => write_line(&stream, &said.text).await,
                    Some(Ok(_)) => Ok(()), // our own line
                    Some(Err(RecvError::Lagged(n))) => {
                        write_line(&stream, &format!("* you missed {n} lines")).await
                    }
                    // The room outlives every connection: never here.
                    Some(Err(RecvError::Closed)) | None => break Ok(Ending::ShutDown),
                };
                if let Err(e) = written {
                    break Err(e);
                }
            },
            _ = shutdown.changed().fuse() => {
                break write_line(&stream, "* server shutting down")
                    .await
                    .map(|()| Ending::ShutDown);
            },
        }
    };

    table.borrow_mut().remove(&id);
    match &result {
        Ok(Ending::Left) => {
            println!("server: {name} left");
            say(&room, id, format!("* {name} left"));
        }
        Ok(Ending::ShutDown) => println!("server: closing {name}'s connection"),
        Err(e) => {
            println!("server: dropping {name}: {e}");
            let _ = write_line(&stream, &format!("* error: {e}; goodbye")).await;
            say(&room, id, format!("* {name} was dropped ({e})"));
        }
    }
    // The client reads end of stream.
    stream.shutdown(Shutdown::Write)?;
    if result.is_err() {
        // Read and discard what she still sends until she hangs up: closing
        // a socket with unread input makes the kernel send a reset, which
        // could destroy the error line before she reads it.
        let mut sink = [0u8; 1024];
        let drain = async {
            while stream.read(&mut sink).await? > 0 {}
            Ok::<(), io::Error>(())
        };
        let _ = timeout(PATIENCE, drain).await;
    }
    Ok(())
}

/// Accepts until the shutdown flag is raised, then waits for every
/// connection to finish; returns how many it served.
async fn server(listener: TcpListener, mut shutdown: watch::Receiver<bool>) -> usize {
    let table: Table = Rc::default();
    let room = broadcast::Sender::new(ROOM_BACKLOG);
    let mut connections = JoinSet::new();
    let mut served = 0;
    loop {
        select! {
            accepted = listener.accept().fuse() => match accepted {
                Ok((stream, _peer)) => {
                    let conn = serve(stream, served, table.clone(), room.clone(), shutdown.clone());
                    connections.spawn(conn);
                    served += 1;
                }
                Err(e) => {
                    // Out of file descriptors, say: retrying at once would spin.
                    println!("server: accept failed: {e}");
                    sleep(Duration::from_millis(10)).await;
                }
            },
            _ = shutdown.changed().fuse() => break,
        }
        // Collect the connections that have finished, without waiting.
        while let Some(Some(done)) = connections.join_next().now_or_never() {
            report(done);
        }
    }
    println!(
        "server: shutting down; waiting for {} connection(s)",
        connections.len()
    );
    while let Some(done) = connections.join_next().await {
        report(done);
    }
    served
}

fn report(done: Result<io::Result<()>, eddy::JoinError>) {
    match done {
        Ok(Ok(())) => {}
        Ok(Err(e)) => println!("server: a connection failed: {e}"),
        Err(e) => println!("server: a connection task failed: {e}"),
    }
}

// --------------------------------------------------------------- clients

/// What one well-behaved client received.
#[derive(Default)]
struct Received {
    chat: BTreeMap<String, Vec<String>>,
    joined: Vec<String>,
    left: Vec<String>,
    dropped: usize,
}

impl Received {
    fn total(&self) -> usize {
        self.chat.values().map(Vec::len).sum::<usize>()
            + self.joined.len()
            + self.left.len()
            + self.dropped
    }

    fn record(&mut self, me: &str, line: String) -> io::Result<()> {
        if let Some(notice) = line.strip_prefix("* ") {
            if let Some(who) = notice.strip_suffix(" joined") {
                self.joined.push(who.to_string());
            } else if let Some(who) = notice.strip_suffix(" left") {
                self.left.push(who.to_string());
            } else if notice.starts_with("mallory was dropped") {
                self.dropped += 1;
            } else {
                return Err(unexpected(me, &line));
            }
        } else if let Some((who, text)) = line.split_once(": ") {
            self.chat
                .entry(who.to_string())
                .or_default()
                .push(text.to_string());
        } else {
            return Err(unexpected(me, &line));
        }
        Ok(())
    }
}

fn unexpected(me: &str, line: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{me}: unexpected line {line:?}"),
    )
}

/// A line, or an error that says what was missing if none comes in time.
async fn expect_line(
    me: &str,
    lines: &mut LineReader,
    stream: &TcpStream,
) -> io::Result<Option<String>> {
    timeout(PATIENCE, lines.next_line(stream))
        .await
        .map_err(|_| {
            io::Error::new(
                io::ErrorKind::TimedOut,
                format!("{me}: no line from the server for {PATIENCE:?}"),
            )
        })?
}

/// Connects and waits for the welcome: once it comes, the server has put
/// this client in its table, so it will get every later broadcast.
async fn join(addr: SocketAddr, name: &str) -> io::Result<(TcpStream, LineReader)> {
    let stream = TcpStream::connect(addr).await?;
    stream.write_all(format!("{name}\n").as_bytes()).await?;
    let mut lines = LineReader::new(4096);
    let welcome = expect_line(name, &mut lines, &stream).await?;
    if welcome.as_deref() != Some(&format!("* welcome {name}")) {
        return Err(unexpected(name, &format!("{welcome:?}")));
    }
    Ok((stream, lines))
}

/// Client `k` of `NAMES`: says its lines, listens until it has heard
/// everything meant for it, then leaves. Clients leave last-joined first,
/// so client `k` has also heard the others after it leave.
async fn chatter(k: usize, stream: TcpStream, mut lines: LineReader) -> io::Result<usize> {
    let me = NAMES[k];
    for i in 1..=MESSAGES {
        let line = format!("message {i} of {MESSAGES} from {me}");
        stream.write_all(format!("{line}\n").as_bytes()).await?;
        // Simulated typing: the others get a turn between our lines.
        sleep(Duration::from_millis(5)).await;
    }
    println!("{me}: said {MESSAGES} lines");

    let later = NAMES.len() - 1 - k;
    let others = NAMES.len() - 1;
    // Joins after mine (and mallory's), everyone else's lines, mallory's
    // drop notice, and the leaving of those who joined after me.
    let expected = (later + 1) + others * MESSAGES + 1 + later;
    let mut got = Received::default();
    while got.total() < expected {
        match expect_line(me, &mut lines, &stream).await? {
            Some(line) => {
                // One client shows what it hears, to see the interleaving.
                if k == 0 {
                    println!("{me} hears: {line}");
                }
                got.record(me, line)?
            }
            None => return Err(unexpected(me, "end of stream")),
        }
    }

    // Check the content, not just the count: each sender's lines arrive
    // complete and in the order they were said.
    for (j, other) in NAMES.iter().enumerate().filter(|&(j, _)| j != k) {
        let want: Vec<String> = (1..=MESSAGES)
            .map(|i| format!("message {i} of {MESSAGES} from {other}"))
            .collect();
        if got.chat.get(*other) != Some(&want) {
            return Err(unexpected(me, &format!("lines from {other} (client {j})")));
        }
    }
    let mut want_joined: Vec<String> = NAMES[k + 1..].iter().map(|s| s.to_string()).collect();
    want_joined.push("mallory".to_string());
    let want_left: Vec<String> = NAMES[k + 1..].iter().rev().map(|s| s.to_string()).collect();
    if got.joined != want_joined || got.left != want_left || got.dropped != 1 {
        return Err(unexpected(me, "join/leave/drop notices"));
    }

    // Leave politely: say we are done writing, then read until the server
    // closes its side, which it does once our queue is flushed.
    stream.shutdown(Shutdown::Write)?;
    if let Some(line) = expect_line(me, &mut lines, &stream).await? {
        return Err(unexpected(me, &line));
    }
    println!(
        "{me}: heard all {expected} lines meant for me ({} chat, {} joined, {} left, 1 drop), leaving",
        others * MESSAGES,
        later + 1,
        later
    );
    Ok(expected)
}

/// The misbehaving client: one line far over the limit.
async fn mallory(stream: TcpStream, mut lines: LineReader) -> io::Result<()> {
    let line = "x".repeat(4 * MAX_LINE);
    println!(
        "mallory: sending a {}-byte line (the limit is {MAX_LINE})",
        line.len()
    );
    stream.write_all(format!("{line}\n").as_bytes()).await?;
    // She may hear some chat first; she waits for the server's verdict.
    loop {
        match expect_line("mallory", &mut lines, &stream).await? {
            Some(line) if line.starts_with("* error:") => {
                println!("mallory: the server said {line:?}");
                break;
            }
            Some(_) => {}
            None => return Err(unexpected("mallory", "end of stream before the error")),
        }
    }
    if expect_line("mallory", &mut lines, &stream).await?.is_some() {
        return Err(unexpected("mallory", "a line after the error"));
    }
    println!("mallory: disconnected by the server");
    Ok(())
}

/// The last client: joins an empty room and stays until the server shuts down.
async fn eve(stream: TcpStream, mut lines: LineReader) -> io::Result<()> {
    match expect_line("eve", &mut lines, &stream).await? {
        Some(line) if line == "* server shutting down" => println!("eve: the server said {line:?}"),
        other => return Err(unexpected("eve", &format!("{other:?}"))),
    }
    if expect_line("eve", &mut lines, &stream).await?.is_some() {
        return Err(unexpected("eve", "a line after the shutdown notice"));
    }
    println!("eve: disconnected by the shutdown");
    Ok(())
}

fn main() -> io::Result<()> {
    eddy::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        println!("server: listening on {addr}");
        let (shutdown, shutdown_rx) = watch::channel(false);
        let server = eddy::spawn(server(listener, shutdown_rx));

        // Join one at a time, so who hears which "joined" is fixed.
        let mut joined = Vec::new();
        for name in NAMES {
            joined.push(join(addr, name).await?);
        }
        let (m_stream, m_lines) = join(addr, "mallory").await?;

        let bad = eddy::spawn(mallory(m_stream, m_lines));
        let clients: Vec<_> = joined
            .into_iter()
            .enumerate()
            .map(|(k, (stream, lines))| eddy::spawn(chatter(k, stream, lines)))
            .collect();

        bad.await.map_err(io::Error::other)??;
        let mut delivered = 0;
        for client in clients {
            delivered += client.await.map_err(io::Error::other)??;
        }

        // Every client k hears (4 - k) joins, 9 chat lines, 1 drop and
        // (3 - k) leaves: 17 + 15 + 13 + 11.
        let n = NAMES.len();
        let expected: usize = (0..n)
            .map(|k| (n - k) + (n - 1) * MESSAGES + 1 + (n - 1 - k))
            .sum();
        assert_eq!(delivered, expected);

        // A graceful shutdown, seen by the task of a connection still open.
        let (e_stream, e_lines) = join(addr, "eve").await?;
        let eve = eddy::spawn(eve(e_stream, e_lines));
        shutdown.send_replace(true);
        eve.await.map_err(io::Error::other)??;
        let served = server.await.map_err(io::Error::other)?;
        println!("server: shut down after serving {served} connections");
        println!(
            "done: {n} clients chatted, 1 misbehaving client dropped, every message delivered ({delivered} lines)"
        );
        Ok(())
    })
}
