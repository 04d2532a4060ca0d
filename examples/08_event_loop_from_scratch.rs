//! # 08 — an event loop from scratch
//!
//! What it teaches: what an async runtime *is*, in one file of std and mio
//! (no eddy at all). A future is a state machine that returns `Pending`
//! after leaving its task's `Waker` somewhere; a runtime is the loop that
//! polls the tasks that are ready and, when none is, sleeps in `epoll_wait`
//! until a socket or a timer calls one of those wakers. Here two tasks, an
//! echo server and its client, share one thread: the client sleeps, sends a
//! message and waits for the echo, three times.
//!
//! What to watch: the trace. "loop: polling task 1" is the loop running a
//! task; "io: client read would block" is a future handing the thread back;
//! "loop: nothing ready; epoll_wait, timeout Some(20.0ms)" is the loop going
//! to sleep for no longer than the next timer allows (`None`: until an
//! event); "reactor: token 2 readable+writable" is mio waking it;
//! "timer: 20 ms sleep fired" is the timer heap. Early on, a *writable* edge
//! wakes the server while it waits to read: it tries again, gets
//! `WouldBlock`, and waits again. That is a spurious wake, and surviving it
//! is every future's job. An event that finds nobody waiting is dropped, and
//! nothing is lost, because a future tries its operation before it waits.
//!
//! Which part of eddy does the work (for real, fast, and for many tasks):
//! - run queue → `src/runtime/run_queue.rs` (a ring buffer of task pointers);
//! - waker → `src/task/waker.rs` and `src/task/raw.rs` (the waker *is* the
//!   task's one allocation: no lock and no allocation per wake);
//! - reactor poll → `src/reactor/mod.rs` (`Reactor::poll`, the one place the
//!   loop blocks);
//! - timers → `src/time/wheel.rs` (a hierarchical wheel instead of a heap:
//!   O(1) insert and cancel) and `src/time/driver.rs` (the wheel tied to the
//!   clock and to wakers);
//! - the loop → `src/runtime/core.rs` (`block_on` and `look_outside`);
//! - sockets → `src/net/tcp.rs` and `src/reactor/scheduled_io.rs` (readiness
//!   per direction, and who waits for it).
//!
//! Run it: `cargo run --example 08_event_loop_from_scratch`

use std::cell::{Cell, RefCell};
use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::future::poll_fn;
use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Registry, Token};

// ---- 1. The run queue: ids of the tasks that are ready to be polled, FIFO.
type RunQueue = Arc<Mutex<VecDeque<usize>>>;
type Task = Pin<Box<dyn Future<Output = io::Result<()>>>>;

// ---- 2. The waker: waking task `id` puts `id` back on the run queue.
// std's `Wake` needs `Send + Sync` (a waker may travel to another thread),
// so this toy takes a Mutex: on one thread it is never contended, and it
// keeps the file free of `unsafe`. eddy avoids locks on its own thread: its
// waker (a hand-made vtable) checks where it runs and, on the loop's thread,
// pushes onto a plain ring buffer; only a wake from another thread pays for
// atomics, and writes a mio `Waker` if the loop is parked. A task woken twice
// before it runs is queued twice here: the second poll is spurious, which
// every future must handle anyway (eddy's `SCHEDULED` flag queues it once).
struct TaskWaker(usize, RunQueue);

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.1.lock().unwrap().push_back(self.0);
    }
}

// ---- 3. The reactor: a mio `Poll` (owned by the loop, in `main`) and, per
// source, the waker of the task waiting on it. Each socket is registered
// once, edge-triggered (mio's only mode), for both directions, and never
// again. One waiter per source is enough for this toy; eddy keeps one per
// direction, and several. Futures find the reactor and the timers through
// thread-locals, as eddy's find the current runtime (src/runtime/context.rs).
const LISTENER: Token = Token(0);
const CLIENT: Token = Token(1);
const SERVER: Token = Token(2); // the server's end of the connection

thread_local! {
    static IO_WAITERS: RefCell<HashMap<Token, Waker>> = RefCell::default();
    static TIMERS: RefCell<BinaryHeap<Reverse<Timer>>> = RefCell::default(); // part 4
}

/// A tiny I/O future: tries the non-blocking `op`; on `WouldBlock` leaves the
/// task's waker for the reactor and returns `Pending`. Polled again (woken,
/// or spuriously) it just tries again: only the OS knows what is ready.
fn io<T, F>(token: Token, what: &str, mut op: F) -> impl Future<Output = io::Result<T>>
where
    F: FnMut() -> io::Result<T>,
{
    poll_fn(move |cx| match op() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {
            println!("  io: {what} would block, waits on token {}", token.0);
            IO_WAITERS.with_borrow_mut(|w| w.insert(token, cx.waker().clone()));
            Poll::Pending
        }
        result => Poll::Ready(result), // done, or failed
    })
}

/// Writes all of `data`, waiting on each `WouldBlock`; the progress made so
/// far lives in `data`, which the op shortens.
async fn write_all(token: Token, mut stream: &TcpStream, mut data: &[u8]) -> io::Result<()> {
    let mut op = || {
        while !data.is_empty() {
            match stream.write(data)? {
                0 => return Err(ErrorKind::WriteZero.into()),
                n => data = &data[n..],
            }
        }
        Ok(())
    };
    io(token, "write", &mut op).await
}

// ---- 4. The timer heap: (deadline, ms for the trace, waker), earliest on top.
struct Timer(Instant, u64, Waker);

impl Ord for Timer {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.cmp(&other.0) // by deadline only: a Waker has no order
    }
}
impl PartialOrd for Timer {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl PartialEq for Timer {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl Eq for Timer {}

/// A tiny `Sleep`: (deadline, ms, registered). Ready once its deadline has
/// passed; until then it leaves its waker in the heap, once (a toy's task
/// keeps one waker all its life; a real `Sleep` swaps in a new one).
struct Sleep(Instant, u64, bool);

fn sleep(ms: u64) -> Sleep {
    Sleep(Instant::now() + Duration::from_millis(ms), ms, false)
}

impl Future for Sleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.0 {
            return Poll::Ready(()); // checked on every poll: a spurious one is harmless
        }
        if !std::mem::replace(&mut self.2, true) {
            let timer = Timer(self.0, self.1, cx.waker().clone()); // the first poll only
            TIMERS.with_borrow_mut(|heap| heap.push(Reverse(timer)));
        }
        Poll::Pending
    }
}

// ---- 5. One echo connection: a server task and a client task, both futures.
async fn server(listener: TcpListener, registry: Registry) -> io::Result<()> {
    let (mut stream, peer) = io(LISTENER, "server accept", || listener.accept()).await?;
    registry.register(&mut stream, SERVER, Interest::READABLE | Interest::WRITABLE)?;
    println!("server: accepted {peer}, token {}", SERVER.0);
    let mut buf = [0u8; 1024];
    // Edge-triggered: read until WouldBlock (only then is a new edge due),
    // and until a read of 0 bytes says that the client hung up.
    while let n @ 1.. = io(SERVER, "server read", || (&stream).read(&mut buf)).await? {
        println!("server: read {n} bytes, echoing them");
        write_all(SERVER, &stream, &buf[..n]).await?;
    }
    Ok(())
}

async fn client(addr: SocketAddr, registry: Registry, echoed: Rc<Cell<usize>>) -> io::Result<()> {
    let mut stream = TcpStream::connect(addr)?; // non-blocking: still in progress
    registry.register(&mut stream, CLIENT, Interest::READABLE | Interest::WRITABLE)?;
    // Connected once `peer_addr` works; a failed connect shows in `take_error`.
    io(CLIENT, "client connect", || match stream.take_error()? {
        Some(e) => Err(e),
        None => stream.peer_addr().map_err(|_| ErrorKind::WouldBlock.into()),
    })
    .await?;
    println!("client: connected to {addr}, token {}", CLIENT.0);
    for (i, msg) in ["hello", "event", "loop"].into_iter().enumerate() {
        let ms = 10 * (i as u64 + 1);
        println!("client: sleeping {ms} ms");
        sleep(ms).await;
        write_all(CLIENT, &stream, msg.as_bytes()).await?;
        println!("client: sent {msg:?}");
        let (mut buf, mut got) = (vec![0u8; msg.len()], 0);
        while got < buf.len() {
            match io(CLIENT, "client read", || (&stream).read(&mut buf[got..])).await? {
                0 => return Err(ErrorKind::UnexpectedEof.into()),
                n => got += n,
            }
        }
        assert_eq!(buf, msg.as_bytes(), "the echo must match what was sent");
        println!("client: echo {:?} matches", String::from_utf8_lossy(&buf));
        echoed.set(echoed.get() + 1);
    }
    Ok(())
}

// ---- The loop: poll ready tasks; when none is ready, wait in the reactor
// until an event or the next timer; wake tasks for events and due timers.
fn main() -> io::Result<()> {
    let mut poll = mio::Poll::new()?;
    let mut listener = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
    let (addr, reg) = (listener.local_addr()?, poll.registry());
    reg.register(&mut listener, LISTENER, Interest::READABLE)?;
    println!("server: listening on {addr}, token {}", LISTENER.0);

    let echoed = Rc::new(Cell::new(0));
    let mut tasks: Vec<Option<Task>> = vec![
        Some(Box::pin(server(listener, reg.try_clone()?))),
        Some(Box::pin(client(addr, reg.try_clone()?, echoed.clone()))),
    ];
    const MAIN: usize = 1; // the client: the loop ends when it does
    let run_queue = RunQueue::default();
    let wakers: Vec<Waker> = (0..tasks.len())
        .map(|id| Waker::from(Arc::new(TaskWaker(id, run_queue.clone()))))
        .collect();
    wakers.iter().for_each(Waker::wake_by_ref); // "spawning" is queueing

    let mut events = Events::with_capacity(64);
    let (mut polls, mut fired) = (0, 0);
    'run: loop {
        // Pop and poll ready tasks (the queue's lock is released before each poll).
        while let Some(id) = run_queue.lock().unwrap().pop_front() {
            let Some(task) = &mut tasks[id] else { continue }; // woken after it ended
            println!("loop: polling task {id}");
            polls += 1;
            if let Poll::Ready(result) = task.as_mut().poll(&mut Context::from_waker(&wakers[id])) {
                println!("loop: task {id} finished");
                result?;
                tasks[id] = None;
                if id == MAIN {
                    break 'run;
                }
            }
        }
        // -- 3. (cont.) The reactor poll: nothing is ready, so sleep in
        // epoll_wait until an event, or until the earliest timer is due.
        let next_deadline = TIMERS.with_borrow(|heap| heap.peek().map(|Reverse(t)| t.0));
        let timeout = next_deadline.map(|d| d.saturating_duration_since(Instant::now()));
        println!("loop: nothing ready; epoll_wait, timeout {timeout:.1?}");
        match poll.poll(&mut events, timeout) {
            Err(e) if e.kind() == ErrorKind::Interrupted => continue, // a signal
            other => other?,
        }
        for event in &events {
            let dir = match (event.is_readable(), event.is_writable()) {
                (true, true) => "readable+writable",
                (true, false) => "readable",
                _ => "writable",
            };
            println!("reactor: token {} {dir}", event.token().0);
            match IO_WAITERS.with_borrow_mut(|w| w.remove(&event.token())) {
                Some(waker) => waker.wake(),
                // Nothing is lost: a future tries its operation before it waits.
                None => println!("reactor:   nobody waits on it; the event is dropped"),
            }
        }
        // -- 4. (cont.) Fire every timer that is due.
        let now = Instant::now();
        while TIMERS.with_borrow(|heap| heap.peek().is_some_and(|Reverse(t)| t.0 <= now)) {
            let Reverse(Timer(_, ms, waker)) = TIMERS.with_borrow_mut(|heap| heap.pop().unwrap());
            println!("timer: {ms} ms sleep fired");
            fired += 1;
            waker.wake();
        }
    }
    // As eddy's block_on does: drop the tasks still alive (the server, reading).
    drop(tasks);
    let n = echoed.get();
    assert_eq!((n, fired), (3, 3));
    println!("done: echoed {n} messages over one connection, {fired} timers fired, {polls} polls");
    Ok(())
}
