//! Integration tests for thread per core (API.md, "Thread per core"):
//! `eddy::net::TcpSocket`.

mod common;

use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

use common::*;
use eddy::net::{TcpListener, TcpSocket, TcpStream};

fn localhost() -> SocketAddr {
    (Ipv4Addr::LOCALHOST, 0).into()
}

/// A reuseport socket bound to `addr`.
fn reuseport_socket(addr: SocketAddr) -> TcpSocket {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_reuseport(true).unwrap();
    socket.bind(addr).unwrap();
    socket
}

// ---------------------------------------------------------------------------
// TcpSocket
// ---------------------------------------------------------------------------

#[test]
fn socket_options_round_trip() {
    watchdog(LIMIT, || {
        // No runtime needed to make and configure a socket.
        let s = TcpSocket::new_v4().unwrap();
        assert!(!s.reuseport().unwrap());
        s.set_reuseport(true).unwrap();
        assert!(s.reuseport().unwrap());
        s.set_reuseport(false).unwrap();
        assert!(!s.reuseport().unwrap());

        s.set_reuseaddr(true).unwrap();
        assert!(s.reuseaddr().unwrap());
        s.set_reuseaddr(false).unwrap();
        assert!(!s.reuseaddr().unwrap());

        assert!(!s.nodelay().unwrap());
        s.set_nodelay(true).unwrap();
        assert!(s.nodelay().unwrap());

        // Linux doubles the value it is given (and caps it at wmem_max /
        // rmem_max, which are well above 16 KiB everywhere).
        s.set_send_buffer_size(16 * 1024).unwrap();
        assert!(s.send_buffer_size().unwrap() >= 16 * 1024);
        s.set_recv_buffer_size(16 * 1024).unwrap();
        assert!(s.recv_buffer_size().unwrap() >= 16 * 1024);
        // Huge sizes are capped, not an error.
        s.set_send_buffer_size(u32::MAX).unwrap();
        s.set_recv_buffer_size(u32::MAX).unwrap();

        assert!(!s.keepalive().unwrap());
        s.set_keepalive(true).unwrap();
        assert!(s.keepalive().unwrap());
        s.set_keepalive(false).unwrap();
        assert!(!s.keepalive().unwrap());

        assert_eq!(s.linger().unwrap(), None);
        s.set_linger(Some(Duration::from_secs(3))).unwrap();
        assert_eq!(s.linger().unwrap(), Some(Duration::from_secs(3)));
        // Whole seconds: rounded down.
        s.set_linger(Some(Duration::from_millis(2500))).unwrap();
        assert_eq!(s.linger().unwrap(), Some(Duration::from_secs(2)));
        s.set_linger(Some(Duration::ZERO)).unwrap();
        assert_eq!(s.linger().unwrap(), Some(Duration::ZERO));
        // Duration::MAX saturates instead of overflowing.
        s.set_linger(Some(Duration::MAX)).unwrap();
        assert_eq!(
            s.linger().unwrap(),
            Some(Duration::from_secs(i32::MAX as u64))
        );
        s.set_linger(None).unwrap();
        assert_eq!(s.linger().unwrap(), None);

        // Before bind, the unspecified address; after, the bound one.
        assert_eq!(s.local_addr().unwrap(), "0.0.0.0:0".parse().unwrap());
        s.bind(localhost()).unwrap();
        let addr = s.local_addr().unwrap();
        assert_eq!(addr.ip(), Ipv4Addr::LOCALHOST);
        assert_ne!(addr.port(), 0);
    });
}

#[test]
fn socket_options_carry_over_to_listener_and_stream() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let s = reuseport_socket(localhost());
            s.set_nodelay(true).unwrap();
            let addr = s.local_addr().unwrap();
            let listener = s.listen(16).unwrap();
            assert_eq!(listener.local_addr().unwrap(), addr);

            let client = TcpSocket::new_v4().unwrap();
            client.set_nodelay(true).unwrap();
            client.set_keepalive(true).unwrap();
            let (stream, accepted) = futures::join!(client.connect(addr), listener.accept());
            let stream = stream.unwrap();
            let (server_side, peer) = accepted.unwrap();
            assert_eq!(peer, stream.local_addr().unwrap());
            assert!(stream.nodelay().unwrap());
            // Accepted sockets inherit TCP_NODELAY from the listener on Linux.
            assert!(server_side.nodelay().unwrap());
            stream.write_all(b"ping").await.unwrap();
            let mut buf = [0; 4];
            server_side.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"ping");
        });
    });
}

#[test]
fn socket_connect_from_a_bound_source_address() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let listener = TcpListener::bind(localhost()).unwrap();
            let source = TcpSocket::new_v4().unwrap();
            source.bind(localhost()).unwrap();
            let from = source.local_addr().unwrap();
            let stream = source
                .connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            assert_eq!(stream.local_addr().unwrap(), from);
            let (_, peer) = listener.accept().await.unwrap();
            assert_eq!(peer, from);
        });
    });
}

#[test]
fn socket_v6_binds_where_the_system_has_ipv6() {
    watchdog(LIMIT, || {
        let s = match TcpSocket::new_v6() {
            Ok(s) => s,
            Err(e) => return eprintln!("no IPv6 sockets here ({e}); skipped"),
        };
        s.set_reuseport(true).unwrap();
        match s.bind("[::1]:0".parse().unwrap()) {
            Ok(()) => {
                let addr = s.local_addr().unwrap();
                assert!(addr.is_ipv6() && addr.ip().is_loopback() && addr.port() != 0);
                eddy::block_on(async move {
                    let listener = s.listen(8).unwrap();
                    let (stream, accepted) =
                        futures::join!(TcpStream::connect(addr), listener.accept());
                    assert_eq!(accepted.unwrap().1, stream.unwrap().local_addr().unwrap());
                });
            }
            Err(e) if e.kind() == ErrorKind::AddrNotAvailable => {
                eprintln!("no IPv6 loopback here ({e}); skipped")
            }
            Err(e) => panic!("bind [::1]:0: {e}"),
        }
    });
}

#[test]
fn two_reuseport_listeners_share_a_port_and_both_accept() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let first = reuseport_socket(localhost());
            let addr = first.local_addr().unwrap();
            let second = reuseport_socket(addr);
            let listeners = [first.listen(64).unwrap(), second.listen(64).unwrap()];
            // Each accept says which listener took the connection.
            let (tx, rx) = async_channel::unbounded();
            let listeners = Rc::new(listeners);
            for which in 0..2 {
                let (listeners, tx) = (Rc::clone(&listeners), tx.clone());
                eddy::spawn(async move {
                    loop {
                        let (stream, _) = listeners[which].accept().await.unwrap();
                        tx.send((which, stream)).await.unwrap();
                    }
                });
            }
            // The kernel picks a listener by a hash of the connection's
            // ports: a new source port each time, so both come up soon
            // (all of 200 on one listener: odds of 2^-199).
            let mut seen = [0usize; 2];
            let mut open = Vec::new();
            for _ in 0..200 {
                open.push(TcpStream::connect(addr).await.unwrap());
                let (which, stream) = rx.recv().await.unwrap();
                seen[which] += 1;
                open.push(stream);
                if seen[0] > 0 && seen[1] > 0 {
                    break;
                }
            }
            assert!(
                seen[0] > 0 && seen[1] > 0,
                "one listener took all: {seen:?}"
            );
        });
    });
}

#[test]
fn bind_to_an_address_in_use_is_an_error() {
    watchdog(LIMIT, || {
        let taken = std::net::TcpListener::bind(localhost()).unwrap();
        let addr = taken.local_addr().unwrap();
        // Without SO_REUSEPORT on both sides, the port is taken.
        let s = TcpSocket::new_v4().unwrap();
        s.set_reuseport(true).unwrap();
        assert_eq!(s.bind(addr).unwrap_err().kind(), ErrorKind::AddrInUse);
        let plain = reuseport_socket(localhost());
        let other = TcpSocket::new_v4().unwrap();
        let e = other.bind(plain.local_addr().unwrap()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AddrInUse);
        // An IPv6 address on an IPv4 socket: an error, not a panic.
        let v4 = TcpSocket::new_v4().unwrap();
        assert!(v4.bind("[::1]:0".parse().unwrap()).is_err());
        // A closed port refuses.
        let closed = closed_port();
        eddy::block_on(async move {
            let e = TcpSocket::new_v4()
                .unwrap()
                .connect(closed.addr)
                .await
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::ConnectionRefused);
        });
    });
}

#[test]
fn listen_outside_a_runtime_panics_with_a_clear_message() {
    watchdog(LIMIT, || {
        let s = TcpSocket::new_v4().unwrap();
        let msg = catch(move || s.listen(8)).unwrap_err();
        assert!(
            msg.starts_with("eddy: ") && msg.contains("outside a runtime"),
            "{msg}"
        );
    });
}

#[test]
fn socket_from_std_stream_keeps_the_connection() {
    watchdog(LIMIT, || {
        let listener = std::net::TcpListener::bind(localhost()).unwrap();
        let stream = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let local = stream.local_addr().unwrap();
        let socket = TcpSocket::from_std_stream(stream);
        assert_eq!(socket.local_addr().unwrap(), local);
        socket.set_nodelay(true).unwrap();
        assert!(socket.nodelay().unwrap());
    });
}
