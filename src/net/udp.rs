//! UDP: `UdpSocket`.
//!
//! Each datagram operation comes in four forms, as tokio's: a future
//! (`recv_from`), a `try_` form that never waits (`try_recv_from`), a
//! `poll_` form for hand-written futures (`poll_recv_from`), and the
//! readiness waits they pair with (`readable`, `ready`, `poll_recv_ready`).

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{Context, Poll};

use super::addr::{self, ToSocketAddrs};
use super::sockopt;
use crate::io::{Interest, Ready};
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
    /// name is resolved on this thread. Each resolved address is tried in
    /// turn. Needs a runtime.
    ///
    /// # Errors
    ///
    /// A name that does not resolve, or the OS's error for the last
    /// address tried (`AddrInUse`...).
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// eddy::block_on(async {
    ///     let socket = eddy::net::UdpSocket::bind("127.0.0.1:0")?;
    ///     assert!(socket.local_addr()?.port() != 0);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        let addrs = addr::resolve_now(&addr)?;
        UdpSocket::from_mio(addr::each(addrs, mio::net::UdpSocket::bind)?)
    }

    /// Takes a std socket over (making it non-blocking). Needs a runtime.
    ///
    /// # Errors
    ///
    /// The OS's error if it cannot be made non-blocking or registered.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
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
    ///
    /// # Errors
    ///
    /// A name that does not resolve, or the OS's error for each address.
    ///
    /// # Examples
    ///
    /// ```
    /// use eddy::net::UdpSocket;
    ///
    /// eddy::block_on(async {
    ///     let (a, b) = (UdpSocket::bind("127.0.0.1:0")?, UdpSocket::bind("127.0.0.1:0")?);
    ///     a.connect(b.local_addr()?)?;
    ///     b.connect(a.local_addr()?)?;
    ///     a.send(b"hi").await?;
    ///     let mut buf = [0; 8];
    ///     assert_eq!(b.recv(&mut buf).await?, 2);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        addr::each(addr::resolve_now(&addr)?, |a| self.io.connect(a))
    }

    /// Sends a datagram to `target` (a host name is resolved on the
    /// blocking pool; the first address is used).
    ///
    /// # Errors
    ///
    /// A name that does not resolve, or what the OS says (`EMSGSIZE` for a
    /// datagram too long...).
    ///
    /// # Examples
    ///
    /// ```
    /// use eddy::net::UdpSocket;
    ///
    /// eddy::block_on(async {
    ///     let (a, b) = (UdpSocket::bind("127.0.0.1:0")?, UdpSocket::bind("127.0.0.1:0")?);
    ///     assert_eq!(a.send_to(b"ping", b.local_addr()?).await?, 4);
    ///     let mut buf = [0; 16];
    ///     let (n, from) = b.recv_from(&mut buf).await?;
    ///     assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr()?));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn send_to(&self, buf: &[u8], target: impl ToSocketAddrs) -> io::Result<usize> {
        let target = addr::resolve(&target).await?[0];
        self.reg
            .io(Direction::Write, || self.io.send_to(buf, target))
            .await
    }

    /// Receives a datagram and its sender's address. A datagram longer than
    /// `buf` is cut to fit.
    ///
    /// # Errors
    ///
    /// What the OS says (`ConnectionRefused` on a connected socket whose
    /// peer has no listener, for instance).
    ///
    /// # Examples
    ///
    /// ```
    /// use eddy::net::UdpSocket;
    ///
    /// eddy::block_on(async {
    ///     let (a, b) = (UdpSocket::bind("127.0.0.1:0")?, UdpSocket::bind("127.0.0.1:0")?);
    ///     a.send_to(b"a long datagram", b.local_addr()?).await?;
    ///     let mut buf = [0; 6];
    ///     let (n, _from) = b.recv_from(&mut buf).await?;
    ///     assert_eq!(&buf[..n], b"a long"); // cut to fit
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.reg
            .io(Direction::Read, || self.io.recv_from(buf))
            .await
    }

    /// Sends a datagram to the connected peer.
    ///
    /// # Errors
    ///
    /// `NotConnected` if [`connect`](UdpSocket::connect) was not called;
    /// otherwise what the OS says.
    ///
    /// # Examples
    ///
    /// ```
    /// use eddy::net::UdpSocket;
    ///
    /// eddy::block_on(async {
    ///     let (a, b) = (UdpSocket::bind("127.0.0.1:0")?, UdpSocket::bind("127.0.0.1:0")?);
    ///     a.connect(b.local_addr()?)?;
    ///     assert_eq!(a.send(b"ping").await?, 4);
    ///     let mut buf = [0; 8];
    ///     assert_eq!(b.recv_from(&mut buf).await?.0, 4);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.reg.io(Direction::Write, || self.io.send(buf)).await
    }

    /// Receives a datagram from the connected peer.
    ///
    /// # Errors
    ///
    /// What the OS says (`ConnectionRefused` if an earlier datagram found
    /// no listener).
    ///
    /// # Examples
    ///
    /// ```
    /// use eddy::net::UdpSocket;
    ///
    /// eddy::block_on(async {
    ///     let (a, b) = (UdpSocket::bind("127.0.0.1:0")?, UdpSocket::bind("127.0.0.1:0")?);
    ///     b.connect(a.local_addr()?)?; // b receives from a only
    ///     a.send_to(b"pong", b.local_addr()?).await?;
    ///     let mut buf = [0; 8];
    ///     let n = b.recv(&mut buf).await?;
    ///     assert_eq!(&buf[..n], b"pong");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.reg.io(Direction::Read, || self.io.recv(buf)).await
    }

    /// Receives the next datagram from the connected peer without taking it
    /// from the queue: the next `recv` gets it again. Waits for one.
    ///
    /// # Errors
    ///
    /// As [`recv`](UdpSocket::recv).
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.reg.io(Direction::Read, || self.io.peek(buf)).await
    }

    /// Receives the next datagram and its sender's address without taking
    /// it from the queue. Waits for one.
    ///
    /// # Errors
    ///
    /// As [`recv_from`](UdpSocket::recv_from).
    ///
    /// # Examples
    ///
    /// ```
    /// use eddy::net::UdpSocket;
    ///
    /// eddy::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0")?;
    ///     let b = UdpSocket::bind("127.0.0.1:0")?;
    ///     a.send_to(b"hi", b.local_addr()?).await?;
    ///     let mut buf = [0; 8];
    ///     let (n, from) = b.peek_from(&mut buf).await?;
    ///     assert_eq!((&buf[..n], from), (&b"hi"[..], a.local_addr()?));
    ///     // Still queued: recv_from gets it.
    ///     assert_eq!(b.recv_from(&mut buf).await?, (2, from));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.reg
            .io(Direction::Read, || self.io.peek_from(buf))
            .await
    }

    /// The sender's address of the next datagram, which stays queued.
    /// Waits for one.
    ///
    /// # Errors
    ///
    /// As [`recv_from`](UdpSocket::recv_from).
    pub async fn peek_sender(&self) -> io::Result<SocketAddr> {
        // Linux fills in the address for an empty buffer, taking nothing.
        self.reg
            .io(Direction::Read, || {
                self.io.peek_from(&mut []).map(|(_, a)| a)
            })
            .await
    }

    /// Waits until a datagram may be received: until epoll reports the
    /// socket readable (on a fresh socket, its first event says whether
    /// one is queued), or a receive showed it was. Wake-ups can be
    /// spurious: the next `try_recv` may still say `WouldBlock`.
    ///
    /// # Errors
    ///
    /// Fails if the socket's runtime is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// use eddy::net::UdpSocket;
    ///
    /// eddy::block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0")?;
    ///     let b = UdpSocket::bind("127.0.0.1:0")?;
    ///     a.try_send_to(b"hi", b.local_addr()?)?;
    ///     let mut buf = [0; 8];
    ///     let (n, _) = loop {
    ///         b.readable().await?;
    ///         match b.try_recv_from(&mut buf) {
    ///             Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
    ///             result => break result?,
    ///         }
    ///     };
    ///     assert_eq!(&buf[..n], b"hi");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        self.reg.wait(Direction::Read).await
    }

    /// Waits until a datagram may be sent, as [`readable`](UdpSocket::readable).
    ///
    /// # Errors
    ///
    /// Fails if the socket's runtime is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// use eddy::net::UdpSocket;
    ///
    /// eddy::block_on(async {
    ///     let (a, b) = (UdpSocket::bind("127.0.0.1:0")?, UdpSocket::bind("127.0.0.1:0")?);
    ///     a.writable().await?;
    ///     assert_eq!(a.try_send_to(b"now", b.local_addr()?)?, 3);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        self.reg.wait(Direction::Write).await
    }

    /// Waits until the socket is ready in one of the directions of
    /// `interest` and returns what it is ready for, as
    /// [`TcpStream::ready`](super::TcpStream::ready).
    ///
    /// # Errors
    ///
    /// Fails if the socket's runtime is gone.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        crate::io::ready(&self.reg, interest).await
    }

    /// The polling form of [`readable`](UdpSocket::readable). Every task
    /// that polls it is woken by the next event (tokio keeps only the last
    /// waker).
    ///
    /// # Errors
    ///
    /// Fails if the socket's runtime is gone.
    pub fn poll_recv_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.reg.poll_ready(Direction::Read, cx)
    }

    /// The polling form of [`writable`](UdpSocket::writable).
    ///
    /// # Errors
    ///
    /// Fails if the socket's runtime is gone.
    pub fn poll_send_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.reg.poll_ready(Direction::Write, cx)
    }

    /// Sends a datagram to the connected peer now, or says `WouldBlock`
    /// (clearing write readiness) if the send buffer is full.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as [`send`](UdpSocket::send).
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.reg.try_io(Direction::Write, || self.io.send(buf))
    }

    /// Sends a datagram to `target` now, or says `WouldBlock`. Takes a
    /// `SocketAddr` (no name to resolve), as tokio's.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as [`send_to`](UdpSocket::send_to).
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.reg
            .try_io(Direction::Write, || self.io.send_to(buf, target))
    }

    /// Receives a datagram from the connected peer now, or says
    /// `WouldBlock` (clearing read readiness) if none is queued.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as [`recv`](UdpSocket::recv).
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.reg.try_io(Direction::Read, || self.io.recv(buf))
    }

    /// Receives a datagram and its sender's address now, or says
    /// `WouldBlock`.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as [`recv_from`](UdpSocket::recv_from).
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.reg.try_io(Direction::Read, || self.io.recv_from(buf))
    }

    /// [`peek_from`](UdpSocket::peek_from) now, or `WouldBlock`.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or as [`recv_from`](UdpSocket::recv_from).
    pub fn try_peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.reg.try_io(Direction::Read, || self.io.peek_from(buf))
    }

    /// The polling form of [`send`](UdpSocket::send).
    ///
    /// # Errors
    ///
    /// As [`send`](UdpSocket::send).
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.reg.poll_io(Direction::Write, cx, || self.io.send(buf))
    }

    /// The polling form of [`send_to`](UdpSocket::send_to), to a
    /// `SocketAddr`.
    ///
    /// # Errors
    ///
    /// As [`send_to`](UdpSocket::send_to).
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.reg
            .poll_io(Direction::Write, cx, || self.io.send_to(buf, target))
    }

    /// The polling form of [`recv`](UdpSocket::recv). tokio's fills a
    /// `ReadBuf`; eddy has none, so this takes a plain buffer and returns
    /// the datagram's length (cut to `buf.len()`).
    ///
    /// # Errors
    ///
    /// As [`recv`](UdpSocket::recv).
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.reg.poll_io(Direction::Read, cx, || self.io.recv(buf))
    }

    /// The polling form of [`recv_from`](UdpSocket::recv_from), with a
    /// plain buffer (see [`poll_recv`](UdpSocket::poll_recv)): the
    /// datagram's length and its sender.
    ///
    /// # Errors
    ///
    /// As [`recv_from`](UdpSocket::recv_from).
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.reg
            .poll_io(Direction::Read, cx, || self.io.recv_from(buf))
    }

    /// The polling form of [`peek_from`](UdpSocket::peek_from), with a
    /// plain buffer (see [`poll_recv`](UdpSocket::poll_recv)).
    ///
    /// # Errors
    ///
    /// As [`recv_from`](UdpSocket::recv_from).
    pub fn poll_peek_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.reg
            .poll_io(Direction::Read, cx, || self.io.peek_from(buf))
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// What the OS says.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.local_addr()
    }

    /// The connected peer's address.
    ///
    /// # Errors
    ///
    /// `NotConnected` if [`connect`](UdpSocket::connect) was not called.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.peer_addr()
    }

    /// Sets `SO_BROADCAST`: whether datagrams may go to a broadcast address.
    ///
    /// # Errors
    ///
    /// What the OS says.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.set_broadcast(on)
    }

    /// Whether `SO_BROADCAST` is set.
    ///
    /// # Errors
    ///
    /// What the OS says.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.broadcast()
    }

    /// Sets `IP_TTL`, the time-to-live of the datagrams sent (1 to 255).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for 0 or a value above 255 (std would take
    /// `u32::MAX` as "the default"; eddy refuses it); otherwise what the
    /// OS says.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        sockopt::check_ttl(ttl, 1)?;
        self.io.set_ttl(ttl)
    }

    /// The `IP_TTL` of the datagrams sent.
    ///
    /// # Errors
    ///
    /// What the OS says.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.ttl()
    }

    /// Joins the IPv4 multicast group `multiaddr` on the interface with
    /// address `interface` (`Ipv4Addr::UNSPECIFIED`: the system picks one).
    ///
    /// # Errors
    ///
    /// What the OS says (`InvalidInput` for an address that is not
    /// multicast, `AddrInUse` if already joined...).
    pub fn join_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.join_multicast_v4(&multiaddr, &interface)
    }

    /// Joins the IPv6 multicast group `multiaddr` on the interface with
    /// index `interface` (0: the system picks one).
    ///
    /// # Errors
    ///
    /// What the OS says.
    pub fn join_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.join_multicast_v6(multiaddr, interface)
    }

    /// Leaves a group joined with [`join_multicast_v4`](UdpSocket::join_multicast_v4).
    ///
    /// # Errors
    ///
    /// What the OS says (`AddrNotAvailable` if not joined).
    pub fn leave_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.leave_multicast_v4(&multiaddr, &interface)
    }

    /// Leaves a group joined with [`join_multicast_v6`](UdpSocket::join_multicast_v6).
    ///
    /// # Errors
    ///
    /// What the OS says (`AddrNotAvailable` if not joined).
    pub fn leave_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.leave_multicast_v6(multiaddr, interface)
    }

    /// Sets `IP_MULTICAST_LOOP`: whether IPv4 multicast datagrams sent come
    /// back to this host's own members of the group (on by default).
    ///
    /// # Errors
    ///
    /// What the OS says (an IPv6 socket may refuse).
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.io.set_multicast_loop_v4(on)
    }

    /// Whether `IP_MULTICAST_LOOP` is set.
    ///
    /// # Errors
    ///
    /// What the OS says.
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.io.multicast_loop_v4()
    }

    /// Sets `IPV6_MULTICAST_LOOP`, as [`set_multicast_loop_v4`](UdpSocket::set_multicast_loop_v4)
    /// for IPv6.
    ///
    /// # Errors
    ///
    /// What the OS says (an IPv4 socket refuses).
    pub fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        self.io.set_multicast_loop_v6(on)
    }

    /// Whether `IPV6_MULTICAST_LOOP` is set.
    ///
    /// # Errors
    ///
    /// What the OS says (an IPv4 socket refuses).
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.io.multicast_loop_v6()
    }

    /// Sets `IP_MULTICAST_TTL`, the time-to-live of IPv4 multicast datagrams
    /// sent (1 by default: they stay on the local network).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a value above 255; otherwise what the OS says.
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        sockopt::check_ttl(ttl, 0)?;
        self.io.set_multicast_ttl_v4(ttl)
    }

    /// The `IP_MULTICAST_TTL`.
    ///
    /// # Errors
    ///
    /// What the OS says.
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.io.multicast_ttl_v4()
    }

    /// Sets `IP_TOS`, the type-of-service byte of the IPv4 datagrams sent
    /// (DSCP and ECN bits; the kernel keeps the low byte). Linux.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a value above `i32::MAX`; otherwise what the OS
    /// says (an IPv6 socket may refuse).
    pub fn set_tos(&self, tos: u32) -> io::Result<()> {
        sockopt::set_tos(self.io.as_fd(), tos)
    }

    /// The `IP_TOS` byte.
    ///
    /// # Errors
    ///
    /// What the OS says.
    pub fn tos(&self) -> io::Result<u32> {
        sockopt::tos(self.io.as_fd())
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
