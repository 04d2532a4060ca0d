//! # 05 — echo server: one task per connection
//!
//! What it teaches: the shape of almost every network server on an event
//! loop. One task accepts connections; each connection gets a task of its
//! own that reads and writes back until the client hangs up. While a task
//! waits for its socket, the loop runs the others: with one thread, many
//! connections make progress at once.
//!
//! What to watch: the server and its clients share one thread, yet the
//! lines of different clients interleave, because each `.await` on a socket
//! that is not ready hands the thread back to the loop. At the end the
//! server sees every client leave (`read` returns 0) and the program exits.
//!
//! Which part of eddy does the work: `src/net/tcp.rs` (`TcpListener`,
//! `TcpStream`), `src/reactor/mod.rs` (the `epoll_wait` that says which
//! socket is ready, and wakes the task waiting for it), and
//! `src/runtime/core.rs` (the loop that runs woken tasks).
//!
//! Run it: `cargo run --example 05_echo_server`

use std::io;
use std::time::Duration;

use eddy::net::{TcpListener, TcpStream};

const CLIENTS: usize = 3;
const MESSAGES: usize = 3;

/// Echoes everything it reads until the client closes its side.
async fn serve(stream: TcpStream, id: usize) -> io::Result<usize> {
    let mut buf = [0u8; 1024];
    let mut echoed = 0;
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            println!("server: connection {id} closed by the client after {echoed} bytes");
            return Ok(echoed);
        }
        stream.write_all(&buf[..n]).await?;
        echoed += n;
    }
}

async fn client(addr: std::net::SocketAddr, id: usize) -> io::Result<()> {
    let stream = TcpStream::connect(addr).await?;
    for i in 0..MESSAGES {
        let msg = format!("hello {i} from client {id}");
        stream.write_all(msg.as_bytes()).await?;
        let mut reply = vec![0u8; msg.len()];
        stream.read_exact(&mut reply).await?;
        println!("client {id}: sent {msg:?}, got it back");
        // Let the other clients take a turn, as a real client would pause.
        eddy::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(()) // dropping the stream closes the connection
}

fn main() -> io::Result<()> {
    eddy::block_on(async {
        // Port 0: the OS picks a free port, so the example never clashes.
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        println!("server: listening on {addr}");

        // The server: accept CLIENTS connections, one task for each.
        let server = eddy::spawn(async move {
            let mut connections = Vec::new();
            while connections.len() < CLIENTS {
                let id = connections.len();
                match listener.accept().await {
                    Ok((stream, peer)) => {
                        println!("server: connection {id} from {peer}");
                        connections.push(eddy::spawn(serve(stream, id)));
                    }
                    // Out of file descriptors, say: retrying at once would
                    // spin, so give other tasks a moment to close some.
                    Err(e) => {
                        println!("server: accept failed: {e}; retrying in 10 ms");
                        eddy::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
            let mut total = 0;
            for connection in connections {
                total += connection.await.expect("a connection task failed")?;
            }
            Ok::<usize, io::Error>(total)
        });

        // The clients, as tasks on the same loop.
        let clients: Vec<_> = (0..CLIENTS)
            .map(|id| eddy::spawn(client(addr, id)))
            .collect();
        for c in clients {
            c.await.expect("a client task failed")?;
        }
        let total = server.await.expect("the server task failed")?;
        println!("done: the server echoed {total} bytes to {CLIENTS} clients");
        Ok(())
    })
}
