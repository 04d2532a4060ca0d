//! tcp_echo's two sides: the load generator (plain mio loops on their own
//! threads) and the echo loop of one connection on eddy and on tokio,
//! shared by `net.rs` (one server thread) and `scale.rs` (servers on N
//! threads), so that every server meets the same client.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

/// The size of each message (and of its echo).
pub const MSG: usize = 64;

/// `conns` connections to `addr` on this thread, each doing its share of
/// `round_trips` ping-pongs of `MSG` bytes; returns the wall time.
pub fn client(addr: SocketAddr, conns: usize, round_trips: usize) -> io::Result<Duration> {
    struct Conn {
        stream: TcpStream,
        left: usize,
        got: usize,
        started: bool,
    }
    let start = Instant::now();
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(256);
    let mut conns_left = Vec::with_capacity(conns);
    for i in 0..conns {
        let mut stream = TcpStream::connect(addr)?;
        poll.registry().register(
            &mut stream,
            Token(i),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        conns_left.push(Some(Conn {
            stream,
            left: round_trips / conns,
            got: 0,
            started: false,
        }));
    }
    let conns = &mut conns_left;
    let msg = [7u8; MSG];
    let mut buf = [0u8; 4096];
    let mut open = conns.len();
    while open > 0 {
        poll.poll(&mut events, None)?;
        for event in events.iter() {
            let i = event.token().0;
            let Some(conn) = conns[i].as_mut() else {
                continue;
            };
            if event.is_writable() && !conn.started {
                conn.stream.set_nodelay(true)?;
                conn.stream.write_all(&msg)?;
                conn.started = true;
            }
            if event.is_readable() {
                loop {
                    match conn.stream.read(&mut buf) {
                        Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                        Ok(n) => {
                            conn.got += n;
                            if conn.got == MSG {
                                conn.got = 0;
                                conn.left -= 1;
                                if conn.left == 0 {
                                    break;
                                }
                                conn.stream.write_all(&msg)?;
                            }
                            if n < buf.len() {
                                break;
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => return Err(e),
                    }
                }
                if conn.left == 0 {
                    conns[i] = None; // closes it
                    open -= 1;
                }
            }
        }
    }
    Ok(start.elapsed())
}

/// [`client`] on `threads` threads at once, `conns` connections and
/// `round_trips` in all (split evenly); returns the wall time until the
/// last one is done.
pub fn clients(
    addr: SocketAddr,
    threads: usize,
    conns: usize,
    round_trips: usize,
) -> io::Result<Duration> {
    let start = Instant::now();
    let threads: Vec<_> = (0..threads)
        .map(|i| {
            std::thread::Builder::new()
                .name(format!("echo-client-{i}"))
                .spawn(move || client(addr, conns / threads, round_trips / threads))
                .unwrap()
        })
        .collect();
    for t in threads {
        t.join().expect("a client thread panicked")?;
    }
    Ok(start.elapsed())
}

/// One connection of an eddy echo server: reads and writes back until
/// the peer closes.
pub async fn eddy_echo(stream: eddy::net::TcpStream) -> io::Result<()> {
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        stream.write_all(&buf[..n]).await?;
    }
}

/// [`eddy_echo`] on tokio.
pub async fn tokio_echo(mut stream: tokio::net::TcpStream) -> io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        stream.write_all(&buf[..n]).await?;
    }
}
