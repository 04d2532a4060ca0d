//! # 16 — graceful shutdown: stop on ctrl-c or SIGTERM, finish what is open
//!
//! What it teaches: how a server stops well. It listens for `SIGINT`
//! (ctrl-c) and `SIGTERM` (what `kill` and service managers send) from
//! the start; when one comes it stops accepting (new clients are refused),
//! lets every open connection finish its conversation, and exits with
//! success. Killing the process instead would cut those conversations
//! short. The same shape as asyncio's `loop.add_signal_handler` plus
//! `server.close()` and `await server.wait_closed()`.
//!
//! What to watch: three demo clients talk to the server slowly (half a
//! second each). Press ctrl-c while they talk: the server says it stopped
//! accepting and how many connections it waits for, the clients finish
//! anyway, then the program ends. Press ctrl-c after they are done: it
//! ends at once. The signal is only *counted* by eddy's handler; the
//! accept loop learns of it like of any other event, at its next wake-up.
//!
//! Which part of eddy does the work: `src/signal/registry.rs` (the
//! handler, which only counts and writes a byte to a pipe),
//! `src/signal/unix.rs` (the listeners, which watch that pipe through
//! `src/io/mod.rs`'s `Async`), `src/net/tcp.rs` and the loop in
//! `src/runtime/core.rs`.
//!
//! Run it: `cargo run --example 16_graceful_shutdown`, then press ctrl-c
//! (or run `kill -TERM <pid>` in another terminal).

use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use eddy::net::{TcpListener, TcpStream};
use eddy::signal::unix::{Signal, SignalKind, signal};
use eddy::time::sleep;

const CLIENTS: usize = 3;
const MESSAGES: usize = 10;
const PAUSE: Duration = Duration::from_millis(50);

/// Echoes until the client closes its side; returns the bytes echoed.
async fn serve(stream: TcpStream, id: usize) -> io::Result<usize> {
    let mut buf = [0u8; 1024];
    let mut echoed = 0;
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            println!("server: connection {id} finished ({echoed} bytes)");
            return Ok(echoed);
        }
        stream.write_all(&buf[..n]).await?;
        echoed += n;
    }
}

/// A slow client: a message every `PAUSE`, then it hangs up. If the server
/// stopped before serving it, it says so (that is not an error here).
async fn client(addr: SocketAddr, id: usize) {
    let talk = async {
        let stream = TcpStream::connect(addr).await?;
        for i in 0..MESSAGES {
            let msg = format!("message {i} from client {id}");
            stream.write_all(msg.as_bytes()).await?;
            let mut reply = vec![0u8; msg.len()];
            stream.read_exact(&mut reply).await?;
            sleep(PAUSE).await;
        }
        Ok::<(), io::Error>(())
    };
    match talk.await {
        Ok(()) => println!("client {id}: all {MESSAGES} messages echoed"),
        Err(e) => println!("client {id}: the server was gone before serving me ({e})"),
    }
}

/// Completes with the name of the first of the two signals to arrive.
async fn stop_requested(interrupt: &mut Signal, terminate: &mut Signal) -> &'static str {
    poll_fn(|cx| {
        if interrupt.poll_recv(cx).is_ready() {
            return Poll::Ready("ctrl-c (SIGINT)");
        }
        if terminate.poll_recv(cx).is_ready() {
            return Poll::Ready("SIGTERM");
        }
        Poll::Pending
    })
    .await
}

enum Event {
    Stop(&'static str),
    Accepted(io::Result<(TcpStream, SocketAddr)>),
}

fn main() -> io::Result<()> {
    eddy::block_on(async {
        // Listen first: from here on the signals no longer end the process,
        // and one that arrives before the accept loop waits is not lost.
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let pid = std::process::id();
        println!("server: listening on {addr}; stop it with ctrl-c or `kill -TERM {pid}`");

        let clients: Vec<_> = (0..CLIENTS)
            .map(|id| eddy::spawn(client(addr, id)))
            .collect();

        // Accept until a signal comes: each turn waits for whichever of
        // the two futures is ready first.
        let mut stop = pin!(stop_requested(&mut interrupt, &mut terminate));
        let mut connections = Vec::new();
        let reason = loop {
            let mut accept = pin!(listener.accept());
            let event = poll_fn(|cx| {
                if let Poll::Ready(reason) = stop.as_mut().poll(cx) {
                    return Poll::Ready(Event::Stop(reason));
                }
                accept.as_mut().poll(cx).map(Event::Accepted)
            })
            .await;
            match event {
                Event::Stop(reason) => break reason,
                Event::Accepted(Ok((stream, peer))) => {
                    let id = connections.len();
                    println!("server: connection {id} from {peer}");
                    connections.push(eddy::spawn(serve(stream, id)));
                }
                // Out of descriptors, say: back off instead of spinning.
                Event::Accepted(Err(e)) => {
                    println!("server: accept failed: {e}; retrying in 10 ms");
                    sleep(Duration::from_millis(10)).await;
                }
            }
        };

        // Stop accepting: with the listener closed, new clients are refused.
        drop(listener);
        let open = connections.iter().filter(|c| !c.is_finished()).count();
        println!("server: {reason}: stopped accepting; waiting for {open} open connection(s)");
        let mut echoed = 0;
        for connection in &mut connections {
            echoed += connection.await.expect("a connection task panicked")?;
        }
        for c in clients {
            c.await.expect("a client task panicked");
        }
        println!(
            "done: shut down gracefully after {reason}: {} connection(s) served to the end, \
             {echoed} bytes echoed",
            connections.len()
        );
        Ok(())
    })
}
