//! Unix signals: [`signal`] makes a [`Signal`] listener for a [`SignalKind`].

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::registry::{self, Globals, MAX_SIGNAL};
use crate::io::Async;

/// A kind of signal: a signal number, with constructors for the common ones.
///
/// ```
/// use eddy::signal::unix::SignalKind;
///
/// assert_eq!(SignalKind::interrupt().as_raw_value(), libc::SIGINT);
/// assert_eq!(SignalKind::from_raw(libc::SIGTERM), SignalKind::terminate());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignalKind(i32);

impl SignalKind {
    /// The signal `signum`, whatever its number. An invalid or forbidden
    /// one is refused later, by [`signal`].
    ///
    /// ```
    /// use eddy::signal::unix::{SignalKind, signal};
    ///
    /// // A signal that has no named constructor.
    /// let urgent = SignalKind::from_raw(libc::SIGURG);
    /// assert_eq!(urgent.as_raw_value(), libc::SIGURG);
    /// // Refused when listened for, not here:
    /// let bad = signal(SignalKind::from_raw(1000)).unwrap_err();
    /// assert_eq!(bad.kind(), std::io::ErrorKind::InvalidInput);
    /// ```
    pub const fn from_raw(signum: i32) -> SignalKind {
        SignalKind(signum)
    }

    /// The signal's number.
    ///
    /// ```
    /// use eddy::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::terminate().as_raw_value(), 15);
    /// ```
    pub const fn as_raw_value(&self) -> i32 {
        self.0
    }

    /// `SIGINT`: ctrl-c in a terminal.
    ///
    /// ```
    /// use eddy::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::interrupt().as_raw_value(), libc::SIGINT);
    /// ```
    pub const fn interrupt() -> SignalKind {
        SignalKind(libc::SIGINT)
    }

    /// `SIGTERM`: a polite request to stop (what `kill` and service
    /// managers send).
    ///
    /// ```
    /// use eddy::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::terminate().as_raw_value(), libc::SIGTERM);
    /// ```
    pub const fn terminate() -> SignalKind {
        SignalKind(libc::SIGTERM)
    }

    /// `SIGHUP`: the terminal went away; daemons often take it as "reload".
    ///
    /// ```
    /// use eddy::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::hangup().as_raw_value(), libc::SIGHUP);
    /// ```
    pub const fn hangup() -> SignalKind {
        SignalKind(libc::SIGHUP)
    }

    /// `SIGQUIT`: ctrl-\ in a terminal.
    ///
    /// ```
    /// use eddy::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::quit().as_raw_value(), libc::SIGQUIT);
    /// ```
    pub const fn quit() -> SignalKind {
        SignalKind(libc::SIGQUIT)
    }

    /// `SIGUSR1`, for the program's own use.
    ///
    /// ```
    /// use eddy::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::user_defined1().as_raw_value(), libc::SIGUSR1);
    /// ```
    pub const fn user_defined1() -> SignalKind {
        SignalKind(libc::SIGUSR1)
    }

    /// `SIGUSR2`, for the program's own use.
    ///
    /// ```
    /// use eddy::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::user_defined2().as_raw_value(), libc::SIGUSR2);
    /// ```
    pub const fn user_defined2() -> SignalKind {
        SignalKind(libc::SIGUSR2)
    }

    /// `SIGCHLD`: a child process stopped or exited.
    ///
    /// ```
    /// use eddy::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::child().as_raw_value(), libc::SIGCHLD);
    /// ```
    pub const fn child() -> SignalKind {
        SignalKind(libc::SIGCHLD)
    }

    /// `SIGWINCH`: the terminal changed size.
    ///
    /// ```
    /// use eddy::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::window_change().as_raw_value(), libc::SIGWINCH);
    /// ```
    pub const fn window_change() -> SignalKind {
        SignalKind(libc::SIGWINCH)
    }

    /// `SIGALRM`: a timer set with `alarm(2)` expired.
    ///
    /// ```
    /// use eddy::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::alarm().as_raw_value(), libc::SIGALRM);
    /// ```
    pub const fn alarm() -> SignalKind {
        SignalKind(libc::SIGALRM)
    }

    /// `SIGPIPE`: a write to a pipe with no reader.
    ///
    /// ```
    /// use eddy::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::pipe().as_raw_value(), libc::SIGPIPE);
    /// ```
    pub const fn pipe() -> SignalKind {
        SignalKind(libc::SIGPIPE)
    }

    /// `SIGIO`: I/O is possible on a descriptor set up for it.
    ///
    /// ```
    /// use eddy::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::io().as_raw_value(), libc::SIGIO);
    /// ```
    pub const fn io() -> SignalKind {
        SignalKind(libc::SIGIO)
    }
}

impl From<i32> for SignalKind {
    fn from(signum: i32) -> SignalKind {
        SignalKind(signum)
    }
}

impl From<SignalKind> for i32 {
    fn from(kind: SignalKind) -> i32 {
        kind.0
    }
}

impl fmt::Debug for SignalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match name(self.0) {
            Some(name) => write!(f, "SignalKind({name})"),
            None => write!(f, "SignalKind({})", self.0),
        }
    }
}

fn name(signum: i32) -> Option<&'static str> {
    Some(match signum {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGCHLD => "SIGCHLD",
        libc::SIGCONT => "SIGCONT",
        libc::SIGSTOP => "SIGSTOP",
        libc::SIGTSTP => "SIGTSTP",
        libc::SIGWINCH => "SIGWINCH",
        libc::SIGIO => "SIGIO",
        _ => return None,
    })
}

/// Signals that cannot be caught (`SIGKILL`, `SIGSTOP`), or that report a
/// fault in the running code, where returning from a handler re-runs the
/// faulting instruction.
const FORBIDDEN: [i32; 6] = [
    libc::SIGKILL,
    libc::SIGSTOP,
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGILL,
    libc::SIGFPE,
];

/// A listener for one kind of signal, made by [`signal`]: it sees every
/// delivery made after it was created.
///
/// Deliveries that arrive before a [`recv`](Signal::recv) coalesce into one
/// (signals are not queued: five quick `SIGHUP`s may be one `recv`). Every
/// listener of a kind sees each delivery, on any runtime and thread. A
/// delivery still in flight when the listener is made may reach it, as in
/// tokio. Dropping the listener does not restore the signal's default
/// action: once a kind has had a listener, eddy's handler stays.
///
/// ```
/// use eddy::signal::unix::{SignalKind, signal};
///
/// eddy::block_on(async {
///     let mut hangups = signal(SignalKind::hangup())?;
///     // SAFETY: raise only sends a signal to this thread.
///     unsafe { libc::raise(libc::SIGHUP) };
///     assert_eq!(hangups.recv().await, Some(()));
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Signal {
    kind: SignalKind,
    globals: &'static Globals,
    /// The signal's delivery count when this listener last returned (or
    /// was made).
    seen: u64,
    pipe: Pipe,
    /// The key in the global list of waiting listeners, and the waker left
    /// there (to skip the lock while it stays the same).
    waiter: Option<(usize, Waker)>,
}

/// The listener's view of the self-pipe.
enum Pipe {
    /// Made outside a runtime: registered at the first poll.
    Later,
    Registered(Async<UnixStream>),
    /// The late registration failed; the error is reported once.
    Failed(Option<io::Error>),
}

/// Listens for signals of `kind`: installs eddy's handler for it (once per
/// process; from then on the signal no longer has its default effect, so
/// a `SIGINT` no longer ends the program) and returns a listener.
///
/// Inside a runtime the listener registers with it at once; made outside
/// one (say, before `block_on`), it starts counting deliveries at once and
/// registers at its first poll, so no signal is lost either way.
///
/// # Errors
///
/// `InvalidInput` for a number that is not a signal, or for a signal that
/// cannot be caught or must not be: `SIGKILL`, `SIGSTOP`, `SIGSEGV`,
/// `SIGBUS`, `SIGILL`, `SIGFPE` (never a panic). The OS's error if it
/// refuses the handler (`EINVAL` for the signals the C library keeps for
/// itself) or a descriptor (`EMFILE`).
///
/// ```
/// use eddy::signal::unix::{SignalKind, signal};
///
/// eddy::block_on(async {
///     assert!(signal(SignalKind::from_raw(libc::SIGKILL)).is_err());
///     let mut usr1 = signal(SignalKind::user_defined1())?;
///     // SAFETY: kill only sends a signal to this process, which handles it now.
///     unsafe { libc::kill(libc::getpid(), libc::SIGUSR1) };
///     usr1.recv().await;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    let signum = kind.0;
    if !(1..=MAX_SIGNAL).contains(&signum) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("eddy: {signum} is not a signal number"),
        ));
    }
    if FORBIDDEN.contains(&signum) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "eddy: refusing to listen for {kind:?}: it cannot be caught, or reports a fault \
                 that a handler must not return from"
            ),
        ));
    }
    let globals = registry::globals()?;
    // Counted from before the handler is in place: a delivery racing with
    // this call is seen rather than lost.
    let seen = globals.deliveries(signum);
    globals.install(signum)?;
    let pipe = if crate::runtime::in_runtime() {
        Pipe::Registered(Async::new(globals.pipe()?)?)
    } else {
        Pipe::Later
    };
    Ok(Signal {
        kind,
        globals,
        seen,
        pipe,
        waiter: None,
    })
}

impl Signal {
    /// Waits for the next delivery. `None` means no more can come: the
    /// runtime this listener registered with was dropped (or, for a
    /// listener made outside a runtime, registering at its first poll
    /// failed). Cancel-safe: a `recv` dropped before it completes consumes
    /// nothing.
    ///
    /// # Panics
    ///
    /// As [`poll_recv`](Signal::poll_recv): if a listener made outside a
    /// runtime is first polled outside one too.
    ///
    /// ```no_run
    /// use eddy::signal::unix::{SignalKind, signal};
    ///
    /// eddy::block_on(async {
    ///     let mut reload = signal(SignalKind::hangup())?;
    ///     while reload.recv().await.is_some() {
    ///         println!("reloading the configuration");
    ///     }
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn recv(&mut self) -> Option<()> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// The polling form of [`recv`](Signal::recv): `Ready(Some(()))` if the
    /// signal was delivered since the last `Ready`, else `Pending` with the
    /// waker kept.
    ///
    /// # Panics
    ///
    /// If a listener made outside a runtime is first polled outside one
    /// too: it has no reactor to wait on ("eddy: a signal listener made
    /// outside a runtime was polled outside one too").
    ///
    /// ```
    /// use std::task::{Context, Poll, Waker};
    /// use eddy::signal::unix::{SignalKind, signal};
    ///
    /// eddy::block_on(async {
    ///     let mut usr2 = signal(SignalKind::user_defined2())?;
    ///     let mut cx = Context::from_waker(Waker::noop());
    ///     assert!(usr2.poll_recv(&mut cx).is_pending());
    ///     // SAFETY: raise only sends a signal to this thread, which handles
    ///     // it before raise returns.
    ///     unsafe { libc::raise(libc::SIGUSR2) };
    ///     assert_eq!(usr2.poll_recv(&mut cx), Poll::Ready(Some(())));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        self.poll_deliveries(cx).map(Result::ok)
    }

    /// The kind this listener listens for.
    ///
    /// ```
    /// use eddy::signal::unix::{SignalKind, signal};
    ///
    /// let winch = signal(SignalKind::window_change())?;
    /// assert_eq!(winch.kind(), SignalKind::window_change());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn kind(&self) -> SignalKind {
        self.kind
    }

    /// As `poll_recv`, with the reason when no more can come.
    pub(crate) fn poll_deliveries(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let globals = self.globals;
        let signum = self.kind.0;
        loop {
            let now = globals.deliveries(signum);
            if now != self.seen {
                self.seen = now;
                return Poll::Ready(Ok(()));
            }
            // Nothing new: drain what this runtime's reactor saw of the pipe.
            let me = self.waiter.as_ref().map(|(key, _)| *key);
            let pipe = self.pipe()?;
            let mut drained = false;
            let read = pipe.poll_read_with(cx, |p| globals.read_pipe(p, &mut drained));
            if drained {
                // Bytes taken here may be the only news another runtime gets.
                globals.wake_all(me);
            }
            match read {
                Poll::Ready(Ok(())) => continue, // maybe more in the pipe
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                // Drained, or empty: the reactor keeps our waker for the next byte.
                Poll::Pending if drained => continue,
                Poll::Pending => {}
            }
            // Another runtime may drain a byte before this one's poller
            // looks: wait in the global list too, then look again.
            self.wait_globally(cx.waker());
            if globals.deliveries(signum) == self.seen {
                return Poll::Pending;
            }
        }
    }

    /// The registered pipe, registering it now if it was made outside a runtime.
    fn pipe(&mut self) -> io::Result<&Async<UnixStream>> {
        if let Pipe::Later = self.pipe {
            assert!(
                crate::runtime::in_runtime(),
                "eddy: a signal listener made outside a runtime was polled outside one too; \
                 poll it inside `block_on` or a task"
            );
            self.pipe = match self.globals.pipe().and_then(Async::new) {
                Ok(pipe) => Pipe::Registered(pipe),
                Err(e) => Pipe::Failed(Some(e)),
            };
        }
        match &mut self.pipe {
            Pipe::Registered(pipe) => Ok(pipe),
            Pipe::Failed(e) => Err(e.take().unwrap_or_else(|| {
                io::Error::other("eddy: this signal listener could not register with its runtime")
            })),
            Pipe::Later => unreachable!(),
        }
    }

    fn wait_globally(&mut self, waker: &Waker) {
        match &mut self.waiter {
            Some((_, kept)) if kept.will_wake(waker) => {}
            Some((key, kept)) => {
                *kept = waker.clone();
                self.globals.set_waiter(*key, waker.clone());
            }
            None => {
                let key = self.globals.add_waiter(waker.clone());
                self.waiter = Some((key, waker.clone()));
            }
        }
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        if let Some((key, _)) = self.waiter.take() {
            self.globals.remove_waiter(key);
        }
    }
}

/// A stream of deliveries; it ends when [`recv`](Signal::recv) would give `None`.
impl futures_core::Stream for Signal {
    type Item = ();

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
        self.get_mut().poll_recv(cx)
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal").field("kind", &self.kind).finish()
    }
}
