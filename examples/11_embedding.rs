//! # 11 — embedding: a host program's own loop drives eddy
//!
//! What it teaches: a GUI toolkit, a game loop or a C library often owns the
//! thread and its own wait (`poll`, epoll, a GLib main loop), so nobody can
//! call `block_on`. eddy fits in anyway: the runtime has a file descriptor
//! (`AsRawFd for Runtime`) that is readable whenever eddy has work (a ready
//! task, a due timer, a socket event, a wake from another thread) and quiet
//! otherwise. The host waits on it beside its own fds and, when it turns
//! readable, calls `rt.turn(Some(Duration::ZERO))`, which runs what is ready
//! and returns without waiting. Here the host loop is plain `libc::poll`
//! over two fds: a pipe on which a host thread sends three messages, and
//! eddy's fd. Its timeout is infinite: the host sleeps until something
//! happens, and needs no clock of its own for eddy's timers.
//!
//! What to watch: host lines and eddy lines interleave on one thread; each
//! `turn` line is the host seeing eddy's fd readable (what the tasks print
//! during a turn comes just above its line). The echo, the three timers and
//! a task spawned from another thread all get done, and between them the
//! host is asleep in `poll`, not spinning: the number of turns stays small.
//! A turn could run 0 task polls (a socket event no task waits for), which
//! is harmless; a timer makes the fd readable only when it is due.
//!
//! Which part of eddy does the work: `src/runtime/mod.rs` (`turn` and
//! `AsRawFd`), `src/runtime/core.rs` (`Core::turn`, `host_fd`, and `Drive`,
//! which leaves the fd readable when a turn ends with work left),
//! `src/reactor/mod.rs` and `src/reactor/timerfd.rs` (the epoll fd itself,
//! and the timerfd in it that makes due timers readable), and
//! `src/runtime/shared.rs` (the remote queue and its eventfd).
//!
//! Run it: `cargo run --example 11_embedding`

use std::cell::Cell;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use eddy::net::{TcpListener, TcpStream};
use eddy::time::sleep;

/// What the eddy side has done; the host loop runs until all of it is.
#[derive(Default)]
struct Progress {
    /// `Some(ok)` once the echo is over, whichever way it went.
    echo: Cell<Option<bool>>,
    timers_fired: Cell<u32>,
}

/// A TCP echo over loopback: a server task, and this task as its client.
/// `Ok(true)` if the bytes came back unchanged.
async fn echo() -> io::Result<bool> {
    // Sockets register with the current runtime: inside a task (or a turn).
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    eddy::spawn(async move {
        let (stream, peer) = listener.accept().await?;
        println!("echo server: connection from {peer}");
        let mut buf = [0u8; 64];
        loop {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                return Ok::<(), io::Error>(());
            }
            stream.write_all(&buf[..n]).await?;
        }
    });
    let stream = TcpStream::connect(addr).await?;
    let msg = b"hello through the host's loop";
    stream.write_all(msg).await?;
    let mut reply = vec![0u8; msg.len()];
    stream.read_exact(&mut reply).await?;
    Ok(reply == msg)
}

fn main() -> io::Result<()> {
    let rt = eddy::Runtime::new()?;
    // Asked first: from now on a due timer also makes the fd readable.
    let eddy_fd = rt.as_raw_fd();
    let progress = Rc::new(Progress::default());

    // The eddy side. `rt.spawn` works outside `block_on`, and makes the fd
    // readable so the host knows there is work.
    let p = Rc::clone(&progress);
    rt.spawn(async move {
        let result = echo().await;
        println!("echo client: the bytes came back unchanged: {result:?}");
        p.echo.set(Some(matches!(result, Ok(true))));
    });
    for ms in [20, 50, 80] {
        let progress = Rc::clone(&progress);
        rt.spawn(async move {
            sleep(Duration::from_millis(ms)).await;
            println!("timer: {ms} ms sleep fired");
            progress.timers_fired.set(progress.timers_fired.get() + 1);
        });
    }
    // A wake from another thread: `Handle` is `Send`, so a thread can
    // spawn onto the loop, which wakes the host's `poll` through eddy's fd.
    let remote_seen = Arc::new(AtomicBool::new(false));
    let (handle, seen) = (rt.handle(), Arc::clone(&remote_seen));
    let loop_thread = thread::current().id();
    let remote = thread::spawn(move || {
        thread::sleep(Duration::from_millis(35));
        handle.spawn(async move {
            let here = thread::current().id() == loop_thread;
            println!("remote: task spawned from another thread runs on the loop's thread: {here}");
            seen.store(here, Ordering::Relaxed);
        });
    });

    // The host side: its own pipe, fed by its own thread.
    let mut fds = [0; 2];
    // SAFETY: `fds` is an array of two c_ints, which is what pipe(2) writes.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe(2) succeeded, so both fds are open, and nothing else owns
    // them: each goes into exactly one `File`, which closes it on drop.
    let (mut pipe_rx, mut pipe_tx) = unsafe {
        (
            File::from(OwnedFd::from_raw_fd(fds[0])),
            File::from(OwnedFd::from_raw_fd(fds[1])),
        )
    };
    let writer = thread::spawn(move || {
        for i in 1..=3 {
            thread::sleep(Duration::from_millis(30));
            // One write per message: a pipe delivers a write of under
            // PIPE_BUF bytes whole (`writeln!` would write it in pieces, and
            // the host could read half a line).
            let line = format!("host message {i}\n");
            pipe_tx
                .write_all(line.as_bytes())
                .expect("the host reads the pipe");
        }
        // `pipe_tx` drops here: the host sees end-of-file.
    });

    let mut polls = [
        libc::pollfd {
            fd: pipe_rx.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        },
        libc::pollfd {
            fd: eddy_fd,
            events: libc::POLLIN,
            revents: 0,
        },
    ];
    let (mut turns, mut messages) = (0, 0);
    let remote_done = || remote_seen.load(Ordering::Relaxed);
    let eddy_done =
        || progress.echo.get().is_some() && progress.timers_fired.get() == 3 && remote_done();
    while !eddy_done() || messages < 3 {
        // Timeout -1: sleep until one of the fds is readable. (On Linux
        // eddy's fd covers its timers; elsewhere use `rt.next_deadline()`.)
        // SAFETY: `polls` is a live array of `polls.len()` pollfds.
        let n = unsafe { libc::poll(polls.as_mut_ptr(), polls.len() as libc::nfds_t, -1) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if polls[0].revents != 0 {
            let mut buf = [0u8; 256];
            let len = pipe_rx.read(&mut buf)?; // poll said it will not block
            if len == 0 {
                // End-of-file stays "readable" forever: stop watching it
                // (poll skips negative fds) or the loop would spin.
                polls[0].fd = -1;
            }
            for line in String::from_utf8_lossy(&buf[..len]).lines() {
                messages += 1;
                println!("host: got {line:?} on its own pipe");
            }
        }
        if polls[1].revents != 0 {
            turns += 1;
            let ran = rt.turn(Some(Duration::ZERO));
            println!("host: eddy's fd was readable; turn {turns} ran {ran} task polls");
        }
    }
    writer.join().expect("writer thread");
    remote.join().expect("remote thread");
    drop(rt);
    let echo = if progress.echo.get() == Some(true) {
        "ok"
    } else {
        "FAILED"
    };
    let remote = if remote_done() {
        "remote wake seen"
    } else {
        "no remote wake"
    };
    println!(
        "done: host loop ran {turns} turns; echo {echo}, {} timers fired, {remote}, {messages} host messages",
        progress.timers_fired.get(),
    );
    Ok(())
}
