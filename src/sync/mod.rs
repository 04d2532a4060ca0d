//! Sync primitives for the tasks of one runtime: channels ([`oneshot`],
//! [`mpsc`], [`broadcast`], [`watch`]), [`Notify`], [`Semaphore`],
//! [`Mutex`], [`RwLock`], [`Barrier`] and [`OnceCell`].
//!
//! They are `!Send`: every task that uses one runs on the same thread, so
//! their paths use plain memory (`Cell`, short `RefCell` borrows), with no
//! atomics and no locks; the thread-safe versions pay for what a
//! single-threaded program never needs. Waiters are served in FIFO order
//! through one shared list (`waiters.rs`), and every wait is
//! cancellation-safe: a future dropped while waiting leaves the queue, and
//! one dropped after it was chosen passes its turn on.
//!
//! To talk to other threads, use a runtime-agnostic channel instead
//! (`futures::channel`, `async-channel`): eddy's wakers work with them.

mod barrier;
mod ends;
mod mutex;
mod notify;
mod once_cell;
mod rwlock;
mod semaphore;
mod waiters;

pub mod broadcast;
pub mod mpsc;
pub mod oneshot;
pub mod watch;

pub use self::barrier::{Barrier, BarrierWait, BarrierWaitResult};
pub use self::mutex::{Lock, Mutex, MutexGuard};
pub use self::notify::{Notified, Notify};
pub use self::once_cell::{OnceCell, SetError};
pub use self::rwlock::{
    ReadLock, RwLock, RwLockReadGuard, RwLockWriteGuard, TryLockError, WriteLock,
};
pub use self::semaphore::{Acquire, OwnedPermit, Permit, Semaphore, TryAcquireError};
