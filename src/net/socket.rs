//! `TcpSocket`: a TCP socket not yet listening or connected, to set options
//! (`SO_REUSEPORT` above all) before `listen` or `connect`.
//!
//! `TcpListener::bind` and `TcpStream::connect` make, configure and use a
//! socket in one call. Some options must be set before `bind` (reusing a
//! port) or before `connect` (binding a source address, sizing the
//! buffers), so this type exposes the steps: make it (`new_v4`,
//! `new_v6`), set options, `bind`, then `listen` or `connect`.
//!
//! The socket is a plain descriptor, made non-blocking and close-on-exec
//! by the `socket` call itself; options are `setsockopt`/`getsockopt`
//! calls on it. Nothing here touches the runtime until `listen` or
//! `connect`, which register the socket with the current one: a
//! `TcpSocket` can be made and configured on any thread.
//!
//! `SO_REUSEPORT` is what a server on every core uses (see
//! [`ThreadPerCore`](crate::runtime::ThreadPerCore)): several sockets, each
//! with the option set, bind the same address and listen, and the kernel
//! spreads incoming connections over them by a hash of the connection's
//! addresses and ports.

use std::fmt;
use std::io;
use std::mem::{self, MaybeUninit};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::time::Duration;

use super::sockopt;
use super::{TcpListener, TcpStream};
use crate::io::stream::Stream;

/// A TCP socket before it listens or connects: set options, bind, then
/// [`listen`](TcpSocket::listen) or [`connect`](TcpSocket::connect). As
/// tokio's `TcpSocket`.
///
/// Making, configuring and binding a socket needs no runtime; `listen` and
/// `connect` register it with the current one.
///
/// A listener that shares its port with others (one per core):
///
/// ```
/// use eddy::net::{TcpSocket, TcpStream};
///
/// eddy::block_on(async {
///     let first = TcpSocket::new_v4()?;
///     first.set_reuseport(true)?;
///     first.bind("127.0.0.1:0".parse().unwrap())?;
///     let addr = first.local_addr()?;
///     let first = first.listen(1024)?;
///
///     let second = TcpSocket::new_v4()?;
///     second.set_reuseport(true)?;
///     second.bind(addr)?; // the same port: allowed, both set SO_REUSEPORT
///     let _second = second.listen(1024)?;
///
///     // The kernel hands each connection to one of the two listeners.
///     let client = TcpSocket::new_v4()?.connect(addr).await?;
///     # drop((first, client));
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct TcpSocket {
    fd: OwnedFd,
}

impl TcpSocket {
    /// A new IPv4 TCP socket (non-blocking, close-on-exec).
    ///
    /// # Errors
    ///
    /// What `socket(2)` reports, such as `EMFILE` when the process is out
    /// of file descriptors.
    pub fn new_v4() -> io::Result<TcpSocket> {
        TcpSocket::new(libc::AF_INET)
    }

    /// A new IPv6 TCP socket (non-blocking, close-on-exec).
    ///
    /// # Errors
    ///
    /// As [`new_v4`](TcpSocket::new_v4); also `EAFNOSUPPORT` where the
    /// system has no IPv6.
    pub fn new_v6() -> io::Result<TcpSocket> {
        TcpSocket::new(libc::AF_INET6)
    }

    fn new(domain: libc::c_int) -> io::Result<TcpSocket> {
        // SAFETY: a plain syscall with constant arguments; it touches no memory.
        let fd = unsafe {
            libc::socket(
                domain,
                libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                0,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just returned by `socket`, and nothing else owns it.
        Ok(TcpSocket {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// Takes a std stream's socket over, for its options (tokio has the
    /// same). The socket is made non-blocking. Few uses: a connected socket
    /// can neither bind nor connect again.
    ///
    /// ```
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let stream = std::net::TcpStream::connect(listener.local_addr()?)?;
    /// let socket = eddy::net::TcpSocket::from_std_stream(stream);
    /// socket.set_nodelay(true)?;
    /// assert!(socket.nodelay()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_std_stream(stream: std::net::TcpStream) -> TcpSocket {
        // Cannot fail on a valid socket (it is an fcntl); a socket that
        // refused would still be usable through `connect`'s wait.
        let _ = stream.set_nonblocking(true);
        TcpSocket {
            fd: OwnedFd::from(stream),
        }
    }

    /// Sets `SO_REUSEADDR`: bind a listening address again while old
    /// connections on it linger in `TIME_WAIT`. `TcpListener::bind` sets it;
    /// a new socket does not.
    ///
    /// # Errors
    ///
    /// What `setsockopt(2)` reports (only on a broken socket).
    pub fn set_reuseaddr(&self, reuseaddr: bool) -> io::Result<()> {
        self.set_int(libc::SOL_SOCKET, libc::SO_REUSEADDR, reuseaddr.into())
    }

    /// Whether `SO_REUSEADDR` is set.
    ///
    /// # Errors
    ///
    /// What `getsockopt(2)` reports (only on a broken socket).
    pub fn reuseaddr(&self) -> io::Result<bool> {
        Ok(self.int(libc::SOL_SOCKET, libc::SO_REUSEADDR)? != 0)
    }

    /// Sets `SO_REUSEPORT`: several sockets that all set it (in processes
    /// of the same user) may bind the same address and port; the kernel
    /// spreads incoming connections over those that listen. Set it before
    /// [`bind`](TcpSocket::bind).
    ///
    /// ```
    /// let socket = eddy::net::TcpSocket::new_v4()?;
    /// socket.set_reuseport(true)?;
    /// assert!(socket.reuseport()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// What `setsockopt(2)` reports: `ENOPROTOOPT` on a kernel without
    /// `SO_REUSEPORT` (Linux before 3.9).
    pub fn set_reuseport(&self, reuseport: bool) -> io::Result<()> {
        self.set_int(libc::SOL_SOCKET, libc::SO_REUSEPORT, reuseport.into())
    }

    /// Whether `SO_REUSEPORT` is set.
    ///
    /// # Errors
    ///
    /// What `getsockopt(2)` reports.
    pub fn reuseport(&self) -> io::Result<bool> {
        Ok(self.int(libc::SOL_SOCKET, libc::SO_REUSEPORT)? != 0)
    }

    /// Sets `TCP_NODELAY` (no Nagle delay for small writes). A stream from
    /// [`connect`](TcpSocket::connect) keeps it; accepted streams inherit it
    /// from the listening socket on Linux.
    ///
    /// # Errors
    ///
    /// What `setsockopt(2)` reports (only on a broken socket).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.set_int(libc::IPPROTO_TCP, libc::TCP_NODELAY, nodelay.into())
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Errors
    ///
    /// What `getsockopt(2)` reports (only on a broken socket).
    pub fn nodelay(&self) -> io::Result<bool> {
        Ok(self.int(libc::IPPROTO_TCP, libc::TCP_NODELAY)? != 0)
    }

    /// Sets `SO_SNDBUF`, the size of the kernel's send buffer. Linux
    /// doubles the value (for its bookkeeping), caps it at
    /// `net.core.wmem_max` and raises it to a minimum, so
    /// [`send_buffer_size`](TcpSocket::send_buffer_size) reads back a
    /// different number. Sizes beyond `i32::MAX` are capped there.
    ///
    /// # Errors
    ///
    /// What `setsockopt(2)` reports (only on a broken socket).
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        self.set_int(libc::SOL_SOCKET, libc::SO_SNDBUF, clamp_int(size))
    }

    /// The send buffer's size as the kernel keeps it (`SO_SNDBUF`).
    ///
    /// # Errors
    ///
    /// What `getsockopt(2)` reports (only on a broken socket).
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        Ok(self.int(libc::SOL_SOCKET, libc::SO_SNDBUF)? as u32)
    }

    /// Sets `SO_RCVBUF`, the size of the kernel's receive buffer (doubled
    /// and capped as for [`set_send_buffer_size`](TcpSocket::set_send_buffer_size),
    /// by `net.core.rmem_max`). Set it before `listen` or `connect`: the
    /// window scale is agreed in the handshake.
    ///
    /// # Errors
    ///
    /// What `setsockopt(2)` reports (only on a broken socket).
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        self.set_int(libc::SOL_SOCKET, libc::SO_RCVBUF, clamp_int(size))
    }

    /// The receive buffer's size as the kernel keeps it (`SO_RCVBUF`).
    ///
    /// # Errors
    ///
    /// What `getsockopt(2)` reports (only on a broken socket).
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        Ok(self.int(libc::SOL_SOCKET, libc::SO_RCVBUF)? as u32)
    }

    /// Sets `SO_KEEPALIVE`: probe an idle connection (after two hours by
    /// the system's default) and fail it if the peer is gone.
    ///
    /// # Errors
    ///
    /// What `setsockopt(2)` reports (only on a broken socket).
    pub fn set_keepalive(&self, keepalive: bool) -> io::Result<()> {
        self.set_int(libc::SOL_SOCKET, libc::SO_KEEPALIVE, keepalive.into())
    }

    /// Whether `SO_KEEPALIVE` is set.
    ///
    /// # Errors
    ///
    /// What `getsockopt(2)` reports (only on a broken socket).
    pub fn keepalive(&self) -> io::Result<bool> {
        Ok(self.int(libc::SOL_SOCKET, libc::SO_KEEPALIVE)? != 0)
    }

    /// Sets `SO_LINGER`. `None` (the default): closing returns at once and
    /// the kernel sends what is left in the background. `Some(d)`: closing
    /// a blocking socket waits up to `d` for the data to go; on a
    /// non-blocking one (as eddy's are) it does not wait; `Some(ZERO)`
    /// makes closing reset the connection (RST) and drop unsent data. The
    /// kernel counts whole seconds: `d` is rounded down, and capped at
    /// `i32::MAX` seconds (so `Duration::MAX` is fine).
    ///
    /// # Errors
    ///
    /// What `setsockopt(2)` reports (only on a broken socket).
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        sockopt::set_linger(self.fd.as_fd(), linger)
    }

    /// The `SO_LINGER` setting, in whole seconds.
    ///
    /// # Errors
    ///
    /// What `getsockopt(2)` reports (only on a broken socket).
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        sockopt::linger(self.fd.as_fd())
    }

    /// The address the socket is bound to (`0.0.0.0:0` or `[::]:0` before
    /// `bind`).
    ///
    /// # Errors
    ///
    /// What `getsockname(2)` reports (only on a broken socket).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        let mut storage = MaybeUninit::<libc::sockaddr_storage>::zeroed();
        let mut len = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        // SAFETY: `storage` is writable for `len` bytes, and `len` is a
        // live local the kernel updates.
        let r = unsafe { libc::getsockname(self.raw(), storage.as_mut_ptr().cast(), &mut len) };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: zeroed then filled by the kernel: every byte is initialised.
        from_sockaddr(&unsafe { storage.assume_init() })
    }

    /// Binds the socket to `addr` (port 0: the system picks one).
    ///
    /// # Errors
    ///
    /// What `bind(2)` reports: `AddrInUse` if another socket holds the
    /// address (and the two did not both set `SO_REUSEPORT`),
    /// `AddrNotAvailable` for an address of no local interface, and
    /// `EAFNOSUPPORT` or `EINVAL` for an address of the other family (an
    /// IPv6 address on a socket from `new_v4`, or the reverse).
    ///
    /// # Examples
    ///
    /// ```
    /// eddy::block_on(async {
    ///     let socket = eddy::net::TcpSocket::new_v4()?;
    ///     socket.set_reuseaddr(true)?;
    ///     socket.bind("127.0.0.1:0".parse().unwrap())?;
    ///     let listener = socket.listen(128)?;
    ///     assert!(listener.local_addr()?.port() != 0);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn bind(&self, addr: SocketAddr) -> io::Result<()> {
        let (storage, len) = to_sockaddr(addr);
        // SAFETY: `storage` holds a valid sockaddr of `len` bytes.
        let r = unsafe { libc::bind(self.raw(), (&raw const storage).cast(), len) };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Listens, with a queue of up to `backlog` connections not yet
    /// accepted (the kernel caps it at `net.core.somaxconn`), and registers
    /// the listener with the current runtime. An unbound socket listens on
    /// a port the system picks.
    ///
    /// # Errors
    ///
    /// What `listen(2)` reports (`AddrInUse` when the port is taken), or
    /// what registering with the reactor reports.
    ///
    /// # Panics
    ///
    /// Outside a runtime (not inside `block_on`, `turn` or a task), before
    /// anything is done; the socket is closed.
    #[track_caller]
    pub fn listen(self, backlog: u32) -> io::Result<TcpListener> {
        // Outside a runtime, panic before the socket listens.
        let reactor = crate::reactor::current_reactor();
        // SAFETY: a plain syscall on the socket `self` owns.
        if unsafe { libc::listen(self.raw(), clamp_int(backlog)) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let std = std::net::TcpListener::from(self.fd);
        TcpListener::from_mio_in(reactor, mio::net::TcpListener::from_std(std))
    }

    /// Connects to `addr` and registers the stream with the current
    /// runtime. The socket keeps what was set on it (a bound source
    /// address, buffer sizes, `TCP_NODELAY`).
    ///
    /// ```
    /// use eddy::net::{TcpListener, TcpSocket};
    ///
    /// eddy::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let socket = TcpSocket::new_v4()?;
    ///     socket.set_nodelay(true)?;
    ///     let stream = socket.connect(listener.local_addr()?).await?;
    ///     assert!(stream.nodelay()?);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// What the connection attempt reports: `ConnectionRefused` for a
    /// closed port, `TimedOut`, `NetworkUnreachable`...
    ///
    /// # Panics
    ///
    /// When first polled outside a runtime, before the connection is tried.
    pub async fn connect(self, addr: SocketAddr) -> io::Result<TcpStream> {
        let reactor = crate::reactor::current_reactor();
        let (storage, len) = to_sockaddr(addr);
        // SAFETY: `storage` holds a valid sockaddr of `len` bytes.
        let r = unsafe { libc::connect(self.raw(), (&raw const storage).cast(), len) };
        if r != 0 {
            let e = io::Error::last_os_error();
            // A non-blocking connect goes on in the background; the stream
            // turns writable when it is done (EINTR: the same).
            if !matches!(e.raw_os_error(), Some(libc::EINPROGRESS | libc::EINTR)) {
                return Err(e);
            }
        }
        let std = std::net::TcpStream::from(self.fd);
        let inner = Stream::new_in(reactor, mio::net::TcpStream::from_std(std))?;
        TcpStream::connected(inner).await
    }

    fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    fn set_int(&self, level: libc::c_int, name: libc::c_int, value: libc::c_int) -> io::Result<()> {
        sockopt::set(self.fd.as_fd(), level, name, value)
    }

    fn int(&self, level: libc::c_int, name: libc::c_int) -> io::Result<libc::c_int> {
        sockopt::get_int(self.fd.as_fd(), level, name)
    }
}

/// A `u32` setting as the C int the kernel takes, capped at `i32::MAX`.
fn clamp_int(value: u32) -> libc::c_int {
    libc::c_int::try_from(value).unwrap_or(libc::c_int::MAX)
}

/// `addr` as a C socket address and its length.
fn to_sockaddr(addr: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: all-zero bytes are a valid `sockaddr_storage` (a plain C struct).
    let mut storage: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from(*a.ip()).to_be(),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: `sockaddr_storage` is larger than and aligned for any
            // socket address, `sockaddr_in` included.
            unsafe { (&raw mut storage).cast::<libc::sockaddr_in>().write(sin) };
            mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: as above, for `sockaddr_in6`.
            unsafe { (&raw mut storage).cast::<libc::sockaddr_in6>().write(sin6) };
            mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

/// The socket address in `storage`, as the kernel filled it.
fn from_sockaddr(storage: &libc::sockaddr_storage) -> io::Result<SocketAddr> {
    match storage.ss_family as libc::c_int {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a `sockaddr_in`;
            // the storage is aligned for it.
            let sin =
                unsafe { &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            let ip = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
            Ok(SocketAddrV4::new(ip, u16::from_be(sin.sin_port)).into())
        }
        libc::AF_INET6 => {
            // SAFETY: as above, for `sockaddr_in6`.
            let sin6 = unsafe {
                &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>()
            };
            let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            Ok(SocketAddrV6::new(
                ip,
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )
            .into())
        }
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "eddy: the socket has an address of an unexpected family",
        )),
    }
}

impl AsRawFd for TcpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.raw()
    }
}

impl AsFd for TcpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl IntoRawFd for TcpSocket {
    fn into_raw_fd(self) -> RawFd {
        self.fd.into_raw_fd()
    }
}

impl FromRawFd for TcpSocket {
    /// Takes a TCP socket descriptor over. It should be non-blocking
    /// (`connect` would block the loop otherwise).
    ///
    /// # Safety
    ///
    /// `fd` is an open TCP socket that nothing else owns or closes.
    unsafe fn from_raw_fd(fd: RawFd) -> TcpSocket {
        TcpSocket {
            // SAFETY: the caller promises `fd` is open and owned by no one else.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        }
    }
}

impl fmt::Debug for TcpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("TcpSocket");
        d.field("fd", &self.raw());
        if let Ok(addr) = self.local_addr() {
            d.field("addr", &addr);
        }
        d.finish()
    }
}
