//! eddy: an embeddable, single-threaded async runtime, written on mio.
//!
//! One thread runs a loop that polls futures from a run queue. A future that
//! cannot go on returns `Pending` after handing out a [`Waker`]; something
//! later uses the waker (a socket became ready, a timer expired, a value
//! arrived, another thread called `wake`) and the task goes back on the run
//! queue. When nothing is ready the loop sleeps in `epoll_wait`.
//!
//! ```
//! let total = eddy::block_on(async {
//!     let a = eddy::spawn(async { 1 });
//!     let b = eddy::spawn(async { 2 });
//!     a.await.unwrap() + b.await.unwrap()
//! });
//! assert_eq!(total, 3);
//! ```
//!
//! Where things are:
//!
//! - [`runtime`]: [`Runtime`], [`Builder`], [`Handle`], and the loop itself
//!   (`runtime/core.rs`, with the run queue in `runtime/run_queue.rs`);
//! - [`task`]: spawning, [`JoinHandle`], [`task::JoinSet`], the raw task and
//!   its waker (`task/raw.rs`, `task/waker.rs`);
//! - [`time`]: sleeps, timeouts and intervals, on the timer wheel in
//!   `time/wheel.rs`;
//! - [`net`] and [`io`]: sockets and [`io::Async`], woken by the reactor
//!   (`reactor/`, whose `mio::Poll` call is in `reactor/mod.rs`);
//! - [`sync`]: oneshot, mpsc, broadcast and watch channels, `Notify`,
//!   `Semaphore`, `Mutex`, `RwLock`, `Barrier`, `OnceCell`, sharing one FIFO
//!   waiter list (`sync/waiters.rs`);
//! - [`signal`], [`process`] and [`fs`]: signals, child processes and
//!   files, built on the pieces above like any user code would be (a
//!   self-pipe and pidfds through [`io::Async`], files on the blocking
//!   pool of [`task::spawn_blocking`]);
//! - `hyper` (feature `hyper`): HTTP with hyper 1.x, and `serve`.
//!
//! [`Waker`]: std::task::Waker

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod fs;
#[cfg(feature = "hyper")]
pub mod hyper;
pub mod io;
pub mod net;
pub mod process;
mod reactor;
pub mod runtime;
pub mod signal;
pub mod sync;
pub mod task;
pub mod time;

pub use runtime::{Builder, Handle, Runtime, block_on};
pub use task::{JoinError, JoinHandle, spawn};
