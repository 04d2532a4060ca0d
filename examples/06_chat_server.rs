//! # 06 — chat server: shared state, a reader and a writer per connection
//!
//! What it teaches: how tasks on one thread share state, and why each
//! connection wants two tasks. The table of connected clients lives in an
//! `Rc<RefCell<_>>`: one thread, so no `Mutex` and no atomics. Each client
//! has an `mpsc` channel of outgoing lines: its reader task broadcasts what
//! the client says by pushing into the others' channels, and its writer task
//! drains its own channel into its socket. A slow socket then holds up only
//! its own writer, never the client who is talking.
//!
//! The one rule: never hold a `RefCell` borrow across an `.await`. The
//! borrow lives on while the task is suspended and other tasks run; the
//! first of them to call `borrow_mut()` (a client joining or leaving)
//! panics with `BorrowMutError`. So `broadcast` clones the senders out of
//! the table and lets the borrow go before its first `send().await`.
//!
//! What to watch: four clients join one after another, chat at the same
//! time (their lines interleave as the loop runs whoever is ready), then leave
//! one by one: the ones still there are told "<name> left". A fifth client,
//! mallory, sends a line longer than the limit; the server answers with an
//! error line and disconnects her; the others just get a notice and go
//! on. Each client counts and checks what it receives: nothing goes
//! missing, and each sender's lines arrive in order.
//!
//! Which part of eddy does the work: `src/net/tcp.rs` (the sockets),
//! `src/sync/mpsc.rs` (the per-client queues of outgoing lines),
//! `src/reactor/mod.rs` (wakes the reader or writer whose socket is ready),
//! `src/time/timeout.rs` (a client gives up instead of hanging if a line
//! never comes), and `src/runtime/core.rs` (runs the tasks, and cancels the
//! server when `block_on` returns).
//!
//! Run it: `cargo run --example 06_chat_server`

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

use eddy::net::{TcpListener, TcpStream};
use eddy::sync::mpsc;
use eddy::time::{sleep, timeout};

/// The longest line the server accepts, in bytes.
const MAX_LINE: usize = 256;
const NAMES: [&str; 4] = ["alice", "bob", "carol", "dave"];
const MESSAGES: usize = 3;
/// How long a client waits for a line it expects before calling it a bug.
const PATIENCE: Duration = Duration::from_secs(1);

/// Who is connected: connection id -> name and the queue of lines to send.
/// A `BTreeMap`, so a broadcast visits clients in the order they came.
type Table = Rc<RefCell<BTreeMap<usize, Peer>>>;

struct Peer {
    name: String,
    tx: mpsc::Sender<String>,
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

/// Sends `line` to every client but `from`.
async fn broadcast(table: &Table, from: usize, line: &str) {
    // Clone the senders and drop the borrow *before* awaiting: a `send`
    // on a full queue suspends this task, and a borrow still held then
    // would make the next `borrow_mut()` elsewhere panic.
    let targets: Vec<mpsc::Sender<String>> = table
        .borrow()
        .iter()
        .filter(|(id, _)| **id != from)
        .map(|(_, peer)| peer.tx.clone())
        .collect();
    for tx in targets {
        // An error means that client's writer is gone: it is leaving too.
        let _ = tx.send(format!("{line}\n")).await;
    }
}

/// The writer task: the only one that writes to this socket.
async fn write_lines(stream: Rc<TcpStream>, mut rx: mpsc::Receiver<String>) -> io::Result<()> {
    // `recv` gives `None` once every sender is gone (the table's and the
    // reader's) and the queue is drained: nothing is cut off.
    while let Some(line) = rx.recv().await {
        stream.write_all(line.as_bytes()).await?;
    }
    stream.shutdown(Shutdown::Write)
}

/// The reader task of one connection; it also spawns the writer.
async fn serve(stream: TcpStream, id: usize, table: Table) -> io::Result<()> {
    let stream = Rc::new(stream);
    let (tx, rx) = mpsc::channel(32);
    let writer = eddy::spawn(write_lines(Rc::clone(&stream), rx));
    let mut lines = LineReader::new(MAX_LINE);

    let Some(name) = lines.next_line(&stream).await? else {
        return Ok(()); // gone before saying who it is
    };
    let online = {
        let mut table = table.borrow_mut();
        table.insert(
            id,
            Peer {
                name: name.clone(),
                tx: tx.clone(),
            },
        );
        let names: Vec<&str> = table.values().map(|peer| peer.name.as_str()).collect();
        names.join(", ")
    }; // the borrow ends here, before the awaits below
    println!("server: {name} joined; online: {online}");
    // Cannot fail: the writer holds the receiver until we drop `tx`.
    let _ = tx.send(format!("* welcome {name}\n")).await;
    broadcast(&table, id, &format!("* {name} joined")).await;

    let result = loop {
        match lines.next_line(&stream).await {
            Ok(Some(line)) => broadcast(&table, id, &format!("{name}: {line}")).await,
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };

    table.borrow_mut().remove(&id);
    match &result {
        Ok(()) => {
            println!("server: {name} left");
            broadcast(&table, id, &format!("* {name} left")).await;
        }
        Err(e) => {
            println!("server: dropping {name}: {e}");
            let _ = tx.send(format!("* error: {e}; goodbye\n")).await;
            broadcast(&table, id, &format!("* {name} was dropped ({e})")).await;
        }
    }
    drop(tx);
    // The writer sends what is queued (the error line, for mallory), then
    // shuts down our write half: the client reads end of stream.
    if let Err(e) = writer.await.map_err(io::Error::other)? {
        println!("server: could not finish writing to {name}: {e}");
    }
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

async fn accept_loop(listener: TcpListener) {
    let table: Table = Rc::default();
    for id in 0.. {
        match listener.accept().await {
            Ok((stream, _peer)) => {
                let table = Rc::clone(&table);
                eddy::spawn(async move {
                    if let Err(e) = serve(stream, id, table).await {
                        println!("server: connection {id}: {e}");
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

fn main() -> io::Result<()> {
    eddy::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        println!("server: listening on {addr}");
        // Never awaited: it is cancelled when `block_on` returns.
        eddy::spawn(accept_loop(listener));

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
        println!(
            "done: {n} clients chatted, 1 misbehaving client dropped, every message delivered ({delivered} lines)"
        );
        Ok(())
    })
}
