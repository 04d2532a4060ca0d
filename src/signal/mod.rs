//! Signals: [`ctrl_c`], and listeners for any catchable Unix signal in
//! [`unix`]. This is asyncio's `loop.add_signal_handler`.
//!
//! How it works: a signal handler may run on any thread, between any two
//! instructions, so it must not touch the runtime. eddy's handler (one per
//! signal number, installed with `signal-hook-registry` by the first
//! listener for it) only adds one to the signal's delivery counter and
//! writes a byte to a self-pipe. Each listener keeps the counter value it
//! saw last and watches the pipe through [`io::Async`](crate::io::Async)
//! like any other descriptor; when the pipe turns readable, the loop wakes
//! the listener, which drains the pipe and compares counters. A listener
//! that finds the counter already moved returns at once, without waiting
//! for the loop.
//!
//! What it costs: nothing until the first listener (no handler, no
//! descriptor, no thread). Then two descriptors for the process's pipe,
//! one more per listener (its own duplicate of the read end, registered
//! with its runtime), and per delivery one counter increment, at most one
//! `write(2)`, and a wake of each listener. The runtime's loop knows
//! nothing of signals.
//!
//! A delivery is seen by every listener of its kind that exists when it
//! arrives, on any runtime and thread. Deliveries between two `recv`s
//! coalesce, as the OS coalesces pending signals anyway.

use std::future::{Future, poll_fn};
use std::io;

mod registry;
pub mod unix;

use self::unix::SignalKind;

/// Completes at the next `SIGINT` (ctrl-c in a terminal).
///
/// The listener is registered when `ctrl_c()` is *called*, not when the
/// future is first polled, so a ctrl-c that arrives in between is not lost.
/// From the first call on, `SIGINT` no longer ends the process: the program
/// decides what to do (for a graceful shutdown: stop accepting, let open
/// work finish, exit). It may be called outside a runtime (say, to pass
/// to `block_on`); the future must be polled inside one.
///
/// # Errors
///
/// The errors of [`unix::signal`] (the OS refused the handler or a
/// descriptor), or an error when the runtime the listener was registered
/// with is dropped before the signal comes.
///
/// # Panics
///
/// If the future is polled outside a runtime (having been made outside
/// one too), as [`Signal::poll_recv`](unix::Signal::poll_recv).
///
/// ```no_run
/// eddy::block_on(async {
///     let server = eddy::spawn(async { /* serve until told to stop */ });
///     eddy::signal::ctrl_c().await?;
///     println!("ctrl-c: shutting down");
///     server.abort();
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn ctrl_c() -> impl Future<Output = io::Result<()>> {
    let listener = unix::signal(SignalKind::interrupt());
    async move {
        let mut listener = listener?;
        poll_fn(|cx| listener.poll_deliveries(cx)).await
    }
}
