//! # 15 — thread per core: an echo server on every CPU
//!
//! What it teaches: how a single-threaded runtime uses more than one core.
//! `ThreadPerCore` starts one eddy runtime per CPU, each on a thread of its
//! own. Every worker binds its own listening socket on the same port with
//! `SO_REUSEPORT`, and the kernel hands each new connection to one of them.
//! Nothing is shared: a worker's tasks, sockets and timers stay on its
//! thread, so nothing needs a lock. When one core wants another to do
//! something, it sends it a future through that worker's `Handle`
//! (`worker.handles()[i].spawn(...)`), and can await the result.
//!
//! What to watch: the line "connections per worker": the kernel's hash of
//! each connection's ports decided the spread, not eddy, and it is rarely
//! even. Each answer names the worker that accepted the connection and the
//! thread that did the work: the next worker's, through its handle. At the
//! end the main thread stops the workers the same way.
//!
//! Which part of eddy does the work: `src/runtime/thread_per_core.rs`
//! (the threads, their runtimes, the handles), `src/net/socket.rs`
//! (`TcpSocket`, `set_reuseport`), and `src/runtime/shared.rs` (the queue a
//! `Handle::spawn` from another thread lands in, and the wake-up of a
//! sleeping loop).
//!
//! Run it: `cargo run --example 15_thread_per_core`

use std::cell::Cell;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::mpsc;
use std::time::Duration;

use eddy::Handle;
use eddy::net::{TcpSocket, TcpStream};
use eddy::runtime::{ThreadPerCore, Worker};
use eddy::sync::Notify;

const CLIENTS: usize = 32;

thread_local! {
    /// Each worker's stop signal. It lives on the worker's thread, so only
    /// a task running there (one sent through its handle) can reach it.
    static STOP: Rc<Notify> = Rc::new(Notify::new());
}

/// A socket on `addr` that shares the port with the other workers'.
fn reuseport_socket(addr: SocketAddr) -> io::Result<TcpSocket> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseport(true)?;
    socket.bind(addr)?;
    Ok(socket)
}

/// One worker: listen on the shared port, serve until told to stop, and
/// return how many connections this worker accepted.
async fn worker_main(
    worker: Worker,
    addr: SocketAddr,
    ready: mpsc::Sender<Option<Handle>>,
) -> io::Result<usize> {
    let listening = reuseport_socket(addr).and_then(|socket| socket.listen(1024));
    // Tell the main thread whether we listen, and give it our handle.
    let me = worker.handles()[worker.index()].clone();
    let _ = ready.send(listening.is_ok().then_some(me));
    let listener = listening?;

    let accepted = Rc::new(Cell::new(0));
    let acceptor = eddy::spawn({
        let accepted = Rc::clone(&accepted);
        async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        accepted.set(accepted.get() + 1);
                        eddy::spawn(answer(stream, worker.clone()));
                    }
                    // Out of file descriptors, say: back off, never spin.
                    Err(e) => {
                        println!("worker {}: accept failed: {e}", worker.index());
                        eddy::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
        }
    });
    STOP.with(Rc::clone).notified().await;
    acceptor.abort();
    Ok(accepted.get())
}

/// Reads one line, has the next worker upper-case it, and answers.
async fn answer(stream: TcpStream, worker: Worker) -> io::Result<()> {
    let line = read_line(&stream).await?;
    // The hand-off: a `Send` future runs on the next worker's thread; the
    // handle it returns can be awaited here, on this worker's runtime.
    let next = (worker.index() + 1) % worker.count();
    let work = worker.handles()[next].spawn(async move {
        let thread = std::thread::current().name().unwrap_or("?").to_string();
        (line.to_uppercase(), thread)
    });
    let (upper, thread) = work.await?;
    let reply = format!(
        "{upper} (accepted by worker {}, upper-cased on {thread})\n",
        worker.index()
    );
    stream.write_all(reply.as_bytes()).await
}

/// Reads up to a newline (which is left out); the peer sends one line.
async fn read_line(stream: &TcpStream) -> io::Result<String> {
    let mut line = Vec::new();
    let mut buf = [0u8; 256];
    while !line.ends_with(b"\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        line.extend_from_slice(&buf[..n]);
    }
    line.pop();
    String::from_utf8(line).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

async fn client(addr: SocketAddr, id: usize) -> io::Result<String> {
    let stream = TcpStream::connect(addr).await?;
    stream
        .write_all(format!("hello from client {id}\n").as_bytes())
        .await?;
    read_line(&stream).await
}

fn main() -> io::Result<()> {
    // Port 0 lets the system pick a free port. This socket holds it (it
    // never listens, so it gets no connections) until the workers bind it.
    let placeholder = reuseport_socket("127.0.0.1:0".parse().unwrap())?;
    let addr = placeholder.local_addr()?;

    // One worker per CPU, and at least two, so that the hand-off between
    // workers shows on any machine. (`ThreadPerCore::new()` alone counts
    // the CPUs this process may use.)
    let workers = std::thread::available_parallelism()
        .map_or(2, usize::from)
        .max(2);
    let (ready_tx, ready_rx) = mpsc::channel();
    let server = std::thread::spawn(move || {
        ThreadPerCore::new()
            .threads(workers)
            .run(|worker| worker_main(worker, addr, ready_tx.clone()))
    });
    // Each worker reports once: its handle if it listens, else `None`.
    let handles: Vec<Handle> = ready_rx.iter().take(workers).flatten().collect();
    drop(placeholder);
    println!(
        "server: {} of {workers} workers listening on {addr}",
        handles.len()
    );

    // The clients: tasks on a runtime of the main thread, all at once.
    let answers = eddy::block_on(async {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|id| eddy::spawn(client(addr, id)))
            .collect();
        let mut answers = 0;
        for (id, c) in clients.into_iter().enumerate() {
            match c.await? {
                Ok(reply) => {
                    println!("client {id}: {reply}");
                    answers += 1;
                }
                Err(e) => println!("client {id}: failed: {e}"),
            }
        }
        Ok::<usize, io::Error>(answers)
    })?;

    // Stop every worker: a task sent to its thread wakes its STOP.
    for handle in &handles {
        drop(handle.spawn(async { STOP.with(|stop| stop.notify_one()) }));
    }
    let results = server.join().expect("the server thread panicked");
    let mut spread = Vec::new();
    for (index, result) in results.into_iter().enumerate() {
        let accepted = result.expect("a worker panicked")?;
        spread.push(format!("worker {index}: {accepted}"));
    }
    println!("connections per worker: {}", spread.join(", "));
    println!("done: {CLIENTS} clients, {answers} answers");
    Ok(())
}
