//! Which addresses `connect`, `bind` and `send_to` take, and how host names
//! are resolved: literal addresses at once, names on the blocking pool.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// The types std's `ToSocketAddrs` takes: `SocketAddr` (and its V4/V6
/// forms), `(IpAddr, u16)` (and its V4/V6 forms), `"host:port"` strings,
/// `(host, port)` pairs, slices of `SocketAddr`, and references to these.
///
/// Sealed: eddy needs to tell a literal address (used at once) from a host
/// name, which [`TcpStream::connect`](super::TcpStream::connect) resolves
/// off the loop's thread, on the blocking pool.
///
/// # Examples
///
/// ```
/// use std::net::{Ipv4Addr, SocketAddr};
/// use eddy::net::{TcpListener, TcpStream};
///
/// eddy::block_on(async {
///     let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
///     let addr: SocketAddr = listener.local_addr()?;
///     let port = addr.port();
///     let _a = TcpStream::connect(addr).await?; // a SocketAddr
///     let _b = TcpStream::connect(format!("127.0.0.1:{port}")).await?; // "ip:port"
///     let _c = TcpStream::connect(("localhost", port)).await?; // (host, port): looked up off the loop
///     let _d = TcpStream::connect(&[addr][..]).await?; // each address in turn
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub trait ToSocketAddrs: sealed::Resolve {}

impl<T: sealed::Resolve + ?Sized> ToSocketAddrs for T {}

pub(crate) mod sealed {
    use super::*;

    /// What an address argument turns into (sealed: not nameable outside
    /// eddy).
    pub enum Addrs {
        Ready(Vec<SocketAddr>),
        /// A host name to look up, with its port if given separately.
        Lookup(String, Option<u16>),
    }

    /// How an address argument says what it is (sealed).
    pub trait Resolve {
        /// The addresses, or the host name to look up.
        fn addrs(&self) -> Addrs;
    }

    fn one(addr: impl Into<SocketAddr>) -> Addrs {
        Addrs::Ready(vec![addr.into()])
    }

    impl Resolve for SocketAddr {
        fn addrs(&self) -> Addrs {
            one(*self)
        }
    }

    impl Resolve for SocketAddrV4 {
        fn addrs(&self) -> Addrs {
            one(*self)
        }
    }

    impl Resolve for SocketAddrV6 {
        fn addrs(&self) -> Addrs {
            one(*self)
        }
    }

    impl Resolve for (IpAddr, u16) {
        fn addrs(&self) -> Addrs {
            one(*self)
        }
    }

    impl Resolve for (Ipv4Addr, u16) {
        fn addrs(&self) -> Addrs {
            one(*self)
        }
    }

    impl Resolve for (Ipv6Addr, u16) {
        fn addrs(&self) -> Addrs {
            one(*self)
        }
    }

    impl Resolve for [SocketAddr] {
        fn addrs(&self) -> Addrs {
            Addrs::Ready(self.to_vec())
        }
    }

    impl Resolve for str {
        fn addrs(&self) -> Addrs {
            match self.parse::<SocketAddr>() {
                Ok(addr) => one(addr),
                Err(_) => Addrs::Lookup(self.to_owned(), None),
            }
        }
    }

    impl Resolve for String {
        fn addrs(&self) -> Addrs {
            self.as_str().addrs()
        }
    }

    impl Resolve for (&str, u16) {
        fn addrs(&self) -> Addrs {
            match self.0.parse::<IpAddr>() {
                Ok(ip) => one((ip, self.1)),
                Err(_) => Addrs::Lookup(self.0.to_owned(), Some(self.1)),
            }
        }
    }

    impl Resolve for (String, u16) {
        fn addrs(&self) -> Addrs {
            (self.0.as_str(), self.1).addrs()
        }
    }

    impl<T: Resolve + ?Sized> Resolve for &T {
        fn addrs(&self) -> Addrs {
            (**self).addrs()
        }
    }
}

use sealed::Addrs;

fn lookup(host: &str, port: Option<u16>) -> io::Result<Vec<SocketAddr>> {
    use std::net::ToSocketAddrs as _;
    Ok(match port {
        Some(port) => (host, port).to_socket_addrs()?.collect(),
        None => host.to_socket_addrs()?.collect(),
    })
}

fn nonempty(addrs: Vec<SocketAddr>) -> io::Result<Vec<SocketAddr>> {
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any addresses",
        ));
    }
    Ok(addrs)
}

/// Resolves on this thread: literal addresses never block, a host name may.
pub(crate) fn resolve_now(addr: &(impl ToSocketAddrs + ?Sized)) -> io::Result<Vec<SocketAddr>> {
    nonempty(match addr.addrs() {
        Addrs::Ready(addrs) => addrs,
        Addrs::Lookup(host, port) => lookup(&host, port)?,
    })
}

/// Resolves without blocking the loop: a host name is looked up on the
/// blocking pool.
pub(crate) async fn resolve(addr: &(impl ToSocketAddrs + ?Sized)) -> io::Result<Vec<SocketAddr>> {
    nonempty(match addr.addrs() {
        Addrs::Ready(addrs) => addrs,
        Addrs::Lookup(host, port) => {
            crate::task::spawn_blocking(move || lookup(&host, port)).await??
        }
    })
}

/// Runs `op` on each address in turn; the first success wins, else the last error.
pub(crate) fn each<T>(
    addrs: Vec<SocketAddr>,
    mut op: impl FnMut(SocketAddr) -> io::Result<T>,
) -> io::Result<T> {
    let mut last = None;
    for addr in addrs {
        match op(addr) {
            Ok(t) => return Ok(t),
            Err(e) => last = Some(e),
        }
    }
    Err(last.expect("resolve gives at least one address"))
}
