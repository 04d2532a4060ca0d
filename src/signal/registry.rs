//! The process-wide half of signal handling: one handler per signal
//! number, a delivery counter per signal, one self-pipe, and the list of
//! listeners waiting. Made on the first listener's request; before that a
//! program has no handler, no descriptor and no thread for signals.
//!
//! The handler (installed once per signal through `signal-hook-registry`,
//! never removed) does only async-signal-safe things: it adds one to the
//! signal's counter and, unless a byte is already waiting in the pipe,
//! writes one byte to it (non-blocking; a full pipe or any error is
//! ignored: the counter carries the news, the byte only wakes pollers).
//!
//! Every listener registers its own duplicate of the pipe's read end with
//! its runtime's reactor, so a write makes every runtime with a listener
//! wake up. All the duplicates share one pipe, though, and the first
//! listener to drain it may take the byte before another runtime's
//! `epoll_wait` has looked: the kernel then drops that runtime's event. So
//! a listener that drained bytes also wakes every listener waiting
//! anywhere (the `waiters` list, behind a mutex: the one lock, taken only
//! when a listener starts or stops waiting, or after a drain). Each
//! listener then compares the signal's counter with the value it saw last.

use std::io::{self, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::task::Waker;

use slab::Slab;

/// The highest signal number (Linux: `SIGRTMAX` is 64).
pub(crate) const MAX_SIGNAL: i32 = 64;

const SLOTS: usize = MAX_SIGNAL as usize + 1;

pub(crate) struct Globals {
    /// The pipe's write end (a socket pair, both ends non-blocking).
    sender: UnixStream,
    /// The read end; each listener registers a duplicate of it.
    receiver: UnixStream,
    /// A byte was written and no listener has drained since: the handler
    /// skips its write, so a burst of signals costs one `write`.
    byte_pending: AtomicBool,
    /// Deliveries per signal number since the handler was installed.
    deliveries: [AtomicU64; SLOTS],
    installed: [AtomicBool; SLOTS],
    install_lock: Mutex<()>,
    /// Listeners waiting, on any runtime and thread.
    waiters: Mutex<Slab<Waker>>,
}

static GLOBALS: OnceLock<Globals> = OnceLock::new();
static INIT: Mutex<()> = Mutex::new(());

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poison| poison.into_inner())
}

/// The process-wide state, made on first use (it fails only if the OS
/// refuses a socket pair, and is tried again on the next call).
pub(crate) fn globals() -> io::Result<&'static Globals> {
    if let Some(g) = GLOBALS.get() {
        return Ok(g);
    }
    let _init = lock(&INIT);
    if let Some(g) = GLOBALS.get() {
        return Ok(g);
    }
    let (receiver, sender) = UnixStream::pair()?;
    receiver.set_nonblocking(true)?;
    sender.set_nonblocking(true)?;
    let made = Globals {
        sender,
        receiver,
        byte_pending: AtomicBool::new(false),
        deliveries: [const { AtomicU64::new(0) }; SLOTS],
        installed: [const { AtomicBool::new(false) }; SLOTS],
        install_lock: Mutex::new(()),
        waiters: Mutex::new(Slab::new()),
    };
    Ok(GLOBALS.get_or_init(|| made))
}

impl Globals {
    /// Installs the handler for `signal` (a number in `1..=MAX_SIGNAL`,
    /// checked by the caller), once per process.
    pub(crate) fn install(&'static self, signal: i32) -> io::Result<()> {
        let installed = &self.installed[signal as usize];
        if installed.load(Ordering::Acquire) {
            return Ok(());
        }
        let _guard = lock(&self.install_lock);
        if installed.load(Ordering::Relaxed) {
            return Ok(());
        }
        // `register` runs the action inside the signal handler, so it must
        // be async-signal-safe. `deliver` is: two atomic operations and one
        // `write(2)` to a non-blocking socket whose error is dropped; it
        // does not allocate, lock or panic (the index is checked with
        // `get`), and signal-hook-registry saves and restores `errno`.
        // SAFETY: the action is async-signal-safe (above), and `signal` is
        // not one of those `register` refuses: the caller rejected them.
        unsafe { signal_hook_registry::register(signal, move || self.deliver(signal)) }?;
        installed.store(true, Ordering::Release);
        Ok(())
    }

    /// The signal handler's action.
    fn deliver(&self, signal: i32) {
        if let Some(count) = self.deliveries.get(signal as usize) {
            count.fetch_add(1, Ordering::SeqCst);
        }
        if !self.byte_pending.swap(true, Ordering::SeqCst) {
            let _ = (&self.sender).write(&[1]);
        }
    }

    /// How many times `signal` was delivered so far.
    pub(crate) fn deliveries(&self, signal: i32) -> u64 {
        self.deliveries[signal as usize].load(Ordering::Acquire)
    }

    /// A new descriptor on the pipe's read end, for one listener.
    pub(crate) fn pipe(&self) -> io::Result<UnixStream> {
        self.receiver.try_clone()
    }

    /// Reads what the pipe holds (through a listener's duplicate), after
    /// telling handlers that the next signal must write again. Sets
    /// `drained` if bytes came; a read shorter than the buffer emptied the
    /// pipe, and is reported as `WouldBlock` so that the reactor clears
    /// readiness now instead of after one more `read` (the next write is
    /// a new edge).
    pub(crate) fn read_pipe(&self, mut pipe: &UnixStream, drained: &mut bool) -> io::Result<()> {
        // Acquire: a handler that skipped its write because of the flag has
        // counted its delivery before; the caller reads the counters after.
        self.byte_pending.swap(false, Ordering::AcqRel);
        let mut buf = [0u8; 64];
        match io::Read::read(&mut pipe, &mut buf)? {
            0 => Err(io::Error::other("eddy: the signal pipe was closed")),
            n if n < buf.len() => {
                *drained = true;
                Err(io::ErrorKind::WouldBlock.into())
            }
            _ => {
                *drained = true;
                Ok(())
            }
        }
    }

    /// Adds a waiting listener; returns its key.
    pub(crate) fn add_waiter(&self, waker: Waker) -> usize {
        lock(&self.waiters).insert(waker)
    }

    /// Changes the waker of a waiting listener.
    pub(crate) fn set_waiter(&self, key: usize, waker: Waker) {
        if let Some(w) = lock(&self.waiters).get_mut(key) {
            *w = waker;
        }
    }

    pub(crate) fn remove_waiter(&self, key: usize) {
        let removed = lock(&self.waiters).try_remove(key);
        drop(removed); // a waker's drop may be anyone's code: not under the lock
    }

    /// Wakes every waiting listener but `except` (the caller): bytes were
    /// drained, and their other runtimes may not have seen them.
    pub(crate) fn wake_all(&self, except: Option<usize>) {
        let wakers: Vec<Waker> = lock(&self.waiters)
            .iter()
            .filter(|(key, _)| Some(*key) != except)
            .map(|(_, w)| w.clone())
            .collect();
        for waker in wakers {
            waker.wake();
        }
    }
}
