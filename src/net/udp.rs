//! UDP: `UdpSocket`.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use super::addr::{self, ToSocketAddrs};
use crate::reactor::{Direction, Registration};

/// A UDP socket.
///
/// ```
/// use eddy::net::UdpSocket;
///
/// eddy::block_on(async {
///     let a = UdpSocket::bind("127.0.0.1:0")?;
///     let b = UdpSocket::bind("127.0.0.1:0")?;
///     a.send_to(b"hi", b.local_addr()?).await?;
///     let mut buf = [0; 16];
///     let (n, from) = b.recv_from(&mut buf).await?;
///     assert_eq!((&buf[..n], from), (&b"hi"[..], a.local_addr()?));
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UdpSocket {
    io: mio::net::UdpSocket,
    reg: Registration,
}

impl UdpSocket {
    /// Binds to `addr`. Not async: a literal address never blocks; a host
    /// name is resolved on this thread. Needs a runtime.
    #[track_caller]
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        let addrs = addr::resolve_now(&addr)?;
        UdpSocket::from_mio(addr::each(addrs, mio::net::UdpSocket::bind)?)
    }

    /// Takes a std socket over (making it non-blocking). Needs a runtime.
    #[track_caller]
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        UdpSocket::from_mio(mio::net::UdpSocket::from_std(socket))
    }

    #[track_caller]
    fn from_mio(mut io: mio::net::UdpSocket) -> io::Result<UdpSocket> {
        let reg = Registration::new(&mut io, mio::Interest::READABLE | mio::Interest::WRITABLE)?;
        Ok(UdpSocket { io, reg })
    }

    /// Sets the default peer, for `send` and `recv` (and filters what
    /// `recv` gets). Not async: a host name is resolved on this thread.
    pub fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        addr::each(addr::resolve_now(&addr)?, |a| self.io.connect(a))
    }

    /// Sends a datagram to `target` (a host name is resolved on the
    /// blocking pool; the first address is used).
    pub async fn send_to(&self, buf: &[u8], target: impl ToSocketAddrs) -> io::Result<usize> {
        let target = addr::resolve(&target).await?[0];
        self.reg
            .io(Direction::Write, || self.io.send_to(buf, target))
            .await
    }

    /// Receives a datagram and its sender's address. A datagram longer than
    /// `buf` is cut to fit.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.reg
            .io(Direction::Read, || self.io.recv_from(buf))
            .await
    }

    /// Sends a datagram to the connected peer.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.reg.io(Direction::Write, || self.io.send(buf)).await
    }

    /// Receives a datagram from the connected peer.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.reg.io(Direction::Read, || self.io.recv(buf)).await
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.local_addr()
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.peer_addr()
    }
}

impl Drop for UdpSocket {
    fn drop(&mut self) {
        let _ = self.reg.deregister(&mut self.io);
    }
}

impl AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.io.as_raw_fd()
    }
}

impl AsFd for UdpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}
