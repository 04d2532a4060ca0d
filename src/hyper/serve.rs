//! `serve`: an HTTP/1.1 server on a `TcpListener`, one task per connection.

use std::cell::{Cell, RefCell};
use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use hyper::body::{Body, Incoming};
use hyper::rt::ReadBufCursor;
use hyper::server::conn::http1;
use hyper::service::Service;
use hyper::{Request, Response};
use slab::Slab;

use super::Timer;
use crate::net::{TcpListener, TcpStream};
use crate::reactor::Slot;
use crate::time::Sleep;

/// The header read timeout `serve` starts with.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// The first and the longest pause after an accept error such as `EMFILE`.
const BACKOFF_MIN: Duration = Duration::from_millis(5);
const BACKOFF_MAX: Duration = Duration::from_secs(1);
/// Connections accepted in one poll before `Serve` lets other tasks run.
const ACCEPT_BATCH: usize = 64;

/// Serves HTTP/1.1 on `listener` with `service`, one task per connection.
///
/// Awaiting the returned [`Serve`] accepts connections for ever (or until
/// the signal given to [`with_graceful_shutdown`](Serve::with_graceful_shutdown)
/// completes). Each connection runs in a task of its own, on this thread,
/// with a clone of `service`: the service need not be `Send`, so state in
/// an `Rc<RefCell<_>>` is fine. Connections have `TCP_NODELAY` set and
/// are kept alive between
/// requests; a client that takes longer than the header read timeout (30 s;
/// [`header_read_timeout`](Serve::header_read_timeout)) to send a request's
/// head is disconnected, on eddy's timer wheel. An accept error such as
/// `EMFILE` (out of file descriptors) pauses accepting, 5 ms at first and
/// doubling up to a second while it lasts, instead of spinning; errors
/// that concern one connection only (`ECONNABORTED`) are skipped.
///
/// HTTP/2 is not spoken here: browsers speak it only over TLS, and
/// detecting a cleartext HTTP/2 preface would cost every connection an
/// extra read. For HTTP/2, use hyper's `server::conn::http2::Builder` with
/// [`Executor`](super::Executor), [`Timer`] and [`Io`](super::Io) (see
/// `Executor`). Upgrades (WebSocket) are not offered either: hyper needs a
/// `Send` stream for them.
///
/// Errors of one connection (a reset, a bad request, the timeout) end that
/// connection only.
///
/// ```no_run
/// use std::convert::Infallible;
/// use eddy::net::TcpListener;
/// use hyper::{Request, Response, body::Incoming, service::service_fn};
///
/// eddy::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:8080")?;
///     let hello = service_fn(|_req: Request<Incoming>| async {
///         Ok::<_, Infallible>(Response::new("hello\n".to_string()))
///     });
///     eddy::hyper::serve(listener, hello).await
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn serve<S, B>(listener: TcpListener, service: S) -> Serve<S>
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + 'static,
    S::Future: 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + 'static,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let mut http1 = http1::Builder::new();
    http1
        .timer(Timer)
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .keep_alive(true);
    Serve {
        listener: Some(listener),
        service,
        http1,
        signal: None,
        backoff: None,
        pause: BACKOFF_MIN,
        conns: Rc::new(Conns::default()),
    }
}

/// The future returned by [`serve`]: `Output = io::Result<()>`.
///
/// Dropping it stops accepting (the listener is closed); connections
/// already open go on in their tasks until they end.
///
/// # Errors
///
/// It resolves only after a graceful shutdown (`Ok(())`), or with the error
/// of a listener that cannot accept at all (`EBADF`, `EINVAL`, `ENOTSOCK`).
///
/// # Panics
///
/// Polled outside an eddy runtime: it spawns a task per connection.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use eddy::net::TcpListener;
/// use hyper::{Response, service::service_fn};
///
/// eddy::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0")?;
///     let hello = service_fn(|_req| async {
///         Ok::<_, std::convert::Infallible>(Response::new("hello\n".to_string()))
///     });
///     let serve: eddy::hyper::Serve<_> = eddy::hyper::serve(listener, hello)
///         .header_read_timeout(Duration::from_secs(5))
///         .with_graceful_shutdown(eddy::time::sleep(Duration::from_millis(1)));
///     serve.await
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Serve<S> {
    /// `None` once shutting down: dropping it refuses new connections.
    listener: Option<TcpListener>,
    service: S,
    http1: http1::Builder,
    signal: Option<Pin<Box<dyn Future<Output = ()>>>>,
    /// A pause after an accept error, and the length of the next one.
    backoff: Option<Sleep>,
    pause: Duration,
    conns: Rc<Conns>,
}

// No field is pinned: `S` is only cloned, the signal is boxed.
impl<S> Unpin for Serve<S> {}

impl<S> Serve<S> {
    /// Sets how long a client may take to send a request's head (30 s by
    /// default), counted from when the server starts waiting for it: at
    /// the connection's start, or when a keep-alive connection goes idle.
    /// A client that takes longer is disconnected. `Duration::MAX` means
    /// (about) never.
    ///
    /// ```no_run
    /// # use std::time::Duration;
    /// # eddy::block_on(async {
    /// # let listener = eddy::net::TcpListener::bind("127.0.0.1:0")?;
    /// # let service = hyper::service::service_fn(|_req| async {
    /// #     Ok::<_, std::convert::Infallible>(hyper::Response::new(String::new()))
    /// # });
    /// eddy::hyper::serve(listener, service)
    ///     .header_read_timeout(Duration::from_secs(5))
    ///     .await
    /// # }).unwrap();
    /// ```
    pub fn header_read_timeout(mut self, timeout: Duration) -> Serve<S> {
        // hyper adds it to `Instant::now()`, which must not overflow.
        self.http1
            .header_read_timeout(timeout.min(crate::time::FAR_FUTURE));
        self
    }

    /// Shuts down gracefully when `signal` completes (its output is
    /// ignored, so `ctrl_c()` fits): the listener is closed at once (new
    /// connections are refused), each open connection finishes the request
    /// it is serving (idle keep-alive connections, and those that have not
    /// sent a byte yet, are closed), and when the last connection has ended
    /// the `Serve` future resolves with `Ok(())`. A request that never ends
    /// keeps it waiting: wrap the `Serve` in a
    /// [`timeout`](crate::time::timeout) to bound that.
    ///
    /// Shut down on ctrl-c, as aiohttp's `web.run_app` does:
    ///
    /// ```no_run
    /// use eddy::net::TcpListener;
    ///
    /// eddy::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:8080")?;
    ///     let service = hyper::service::service_fn(|_req| async {
    ///         Ok::<_, std::convert::Infallible>(hyper::Response::new("hi".to_string()))
    ///     });
    ///     eddy::hyper::serve(listener, service)
    ///         .with_graceful_shutdown(eddy::signal::ctrl_c())
    ///         .await
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// Any future will do, here a timer:
    ///
    /// ```
    /// use std::time::Duration;
    /// use eddy::net::TcpListener;
    ///
    /// eddy::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let service = hyper::service::service_fn(|_req| async {
    ///         Ok::<_, std::convert::Infallible>(hyper::Response::new("hi".to_string()))
    ///     });
    ///     let stop = eddy::time::sleep(Duration::from_millis(10));
    ///     eddy::hyper::serve(listener, service)
    ///         .with_graceful_shutdown(stop)
    ///         .await
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn with_graceful_shutdown<F>(mut self, signal: F) -> Serve<S>
    where
        F: Future + 'static,
    {
        self.signal = Some(Box::pin(async move {
            signal.await;
        }));
        self.conns.graceful.set(true);
        self
    }
}

impl<S, B> Future for Serve<S>
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + 'static,
    S::Future: 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + 'static,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(signal) = &mut this.signal {
            if signal.as_mut().poll(cx).is_ready() {
                this.signal = None;
                this.listener = None;
                this.backoff = None;
                this.conns.shut_down();
            }
        }
        let Some(listener) = &this.listener else {
            return this.conns.poll_all_closed(cx);
        };
        if let Some(pause) = &mut this.backoff {
            if Pin::new(pause).poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.backoff = None;
        }
        for _ in 0..ACCEPT_BATCH {
            match listener.poll_accept(cx) {
                Poll::Ready(Ok((stream, _peer))) => {
                    this.pause = BACKOFF_MIN;
                    this.spawn(stream);
                }
                Poll::Ready(Err(e)) => match accept_error(&e) {
                    AcceptError::Skip => {}
                    AcceptError::Pause => {
                        let mut pause = crate::time::sleep(this.pause);
                        this.pause = (this.pause * 2).min(BACKOFF_MAX);
                        if Pin::new(&mut pause).poll(cx).is_pending() {
                            this.backoff = Some(pause);
                            return Poll::Pending;
                        }
                    }
                    AcceptError::Fatal => return Poll::Ready(Err(e)),
                },
                Poll::Pending => return Poll::Pending,
            }
        }
        // Many connections at once: let them (and everyone else) run too.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl<S, B> Serve<S>
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + 'static,
    S::Future: 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + 'static,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    fn spawn(&self, stream: TcpStream) {
        // A response written in pieces (a streamed body) must not wait for
        // the client's delayed ACK. It fails only on a dead socket, which
        // the connection then finds out about by itself.
        let _ = stream.set_nodelay(true);
        let read_any = Rc::new(Cell::new(false));
        let io = ConnIo {
            stream,
            read_slot: Slot::None,
            read_any: Rc::clone(&read_any),
        };
        let conn = self.http1.serve_connection(io, self.service.clone());
        let member = Member {
            key: self.conns.join(),
            conns: Rc::clone(&self.conns),
        };
        crate::spawn(async move {
            let mut conn = std::pin::pin!(conn);
            let (mut closing, mut registered) = (false, false);
            std::future::poll_fn(|cx| {
                let conns = &member.conns;
                if conns.shutting_down.get() && !closing {
                    closing = true;
                    if !read_any.get() {
                        return Poll::Ready(()); // nothing asked yet: close
                    }
                    // Finish the request in flight, or close now if idle.
                    conn.as_mut().graceful_shutdown();
                }
                // This future is its task's whole body, so the task's waker
                // is the one it is always polled with: kept once.
                if !registered {
                    conns.register(member.key, cx.waker());
                    registered = true;
                }
                // A connection's own errors (a reset, a bad request, the
                // header read timeout) end it and nothing else.
                conn.as_mut().poll(cx).map(|_| ())
            })
            .await
        });
    }
}

impl<S> fmt::Debug for Serve<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Serve")
            .field("listener", &self.listener)
            .field("connections", &self.conns.wakers.borrow().len())
            .field("shutting_down", &self.conns.shutting_down.get())
            .finish_non_exhaustive()
    }
}

enum AcceptError {
    /// It concerned one connection, which is gone: accept the next.
    Skip,
    /// Out of a resource (descriptors, memory): the connection stays
    /// queued and the listener readable, so retrying now would spin.
    Pause,
    /// The listener itself is unusable.
    Fatal,
}

fn accept_error(e: &io::Error) -> AcceptError {
    match e.raw_os_error() {
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM) => AcceptError::Pause,
        Some(libc::EBADF | libc::EINVAL | libc::ENOTSOCK | libc::EOPNOTSUPP | libc::EFAULT) => {
            AcceptError::Fatal
        }
        // ECONNABORTED, EPROTO, EPERM (a firewall rule), network errors
        // passed on by Linux (ENETDOWN, EHOSTUNREACH, ...): that one
        // connection failed.
        _ => AcceptError::Skip,
    }
}

/// The open connections of one `Serve`, for a graceful shutdown.
#[derive(Default)]
struct Conns {
    /// A graceful shutdown was asked for: connections keep their wakers here.
    graceful: Cell<bool>,
    shutting_down: Cell<bool>,
    /// One entry per open connection: its task's waker, once it has one.
    wakers: RefCell<Slab<Option<Waker>>>,
    /// The `Serve` task, waiting for the last connection to end.
    serve: RefCell<Option<Waker>>,
}

impl Conns {
    fn join(&self) -> usize {
        self.wakers.borrow_mut().insert(None)
    }

    fn leave(&self, key: usize) {
        let last = {
            let mut wakers = self.wakers.borrow_mut();
            wakers.remove(key);
            wakers.is_empty()
        };
        if last && self.shutting_down.get() {
            let serve = self.serve.borrow_mut().take();
            if let Some(waker) = serve {
                waker.wake();
            }
        }
    }

    /// Keeps the connection task's waker (when shutdown is graceful), so
    /// `shut_down` can reach it.
    fn register(&self, key: usize, waker: &Waker) {
        if self.graceful.get() {
            self.wakers.borrow_mut()[key] = Some(waker.clone());
        }
    }

    fn shut_down(&self) {
        self.shutting_down.set(true);
        // Wake outside the borrow: a waker may run code that reaches here.
        let wakers: Vec<Waker> = self
            .wakers
            .borrow_mut()
            .iter_mut()
            .filter_map(|(_, w)| w.take())
            .collect();
        for waker in wakers {
            waker.wake();
        }
    }

    fn poll_all_closed(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.wakers.borrow().is_empty() {
            return Poll::Ready(Ok(()));
        }
        *self.serve.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// An open connection's place in `Conns`, given up when its task ends
/// (or is cancelled).
struct Member {
    key: usize,
    conns: Rc<Conns>,
}

impl Drop for Member {
    fn drop(&mut self) {
        self.conns.leave(self.key);
    }
}

/// The connection's stream, read without zeroing hyper's buffer first.
struct ConnIo {
    stream: TcpStream,
    /// Where the connection waits to read, kept from one request to the next.
    read_slot: Slot,
    read_any: Rc<Cell<bool>>,
}

impl Drop for ConnIo {
    fn drop(&mut self) {
        self.stream.release_read(&mut self.read_slot);
    }
}

impl hyper::rt::Read for ConnIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        // SAFETY: `poll_read_uninit` only writes to the slice (the kernel's
        // `recv` fills it), so no byte that was initialised is de-initialised.
        let dst: &mut [MaybeUninit<u8>] = unsafe { buf.as_mut() };
        let this = self.get_mut();
        let n = match this.stream.poll_read_uninit(&mut this.read_slot, cx, dst) {
            Poll::Ready(Ok(n)) => n,
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        };
        if n > 0 && !this.read_any.get() {
            this.read_any.set(true);
        }
        // SAFETY: `recv` initialised the first `n` bytes of the slice.
        unsafe { buf.advance(n) };
        Poll::Ready(Ok(()))
    }
}

impl hyper::rt::Write for ConnIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        futures_io::AsyncWrite::poll_write(Pin::new(&mut &self.stream), cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        futures_io::AsyncWrite::poll_write_vectored(Pin::new(&mut &self.stream), cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.stream.shutdown(std::net::Shutdown::Write))
    }
}
