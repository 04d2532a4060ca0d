//! The shared block: the small part of a runtime that other threads reach.
//!
//! Wakers on other threads, `Handle`s and `spawn_blocking` threads hold an
//! `Arc<Shared>`; nothing else of the runtime is visible to them. It holds:
//!
//! - the remote queue (lock-free, `crossbeam-queue`): tasks woken and
//!   futures spawned from other threads, drained by the loop;
//! - the `parked` flag, so a remote wake writes to the mio `Waker` (a
//!   syscall) only when the loop sleeps, and at most once per sleep;
//! - the `closed` flag, so that once the runtime is gone a late wake or spawn
//!   only drops what it pushed.
//!
//! Parking without lost wake-ups is the classic store-buffer pattern: the
//! loop stores `parked = true` then checks the queue; a waker pushes to the
//! queue then checks `parked`. A `SeqCst` fence between the store and the
//! load on each side guarantees that at least one of them sees the other.
//! Every write to `parked` is a swap, never a plain store: loom mis-orders
//! plain stores against other threads' swaps (tokio-rs/loom#389) and would
//! report lost wake-ups that cannot happen; a swap costs the same as the
//! `SeqCst` store it replaces, once per park.
//! `loom_model.rs` checks the protocol under every interleaving
//! (`RUSTFLAGS="--cfg eddy_loom" cargo test --release --lib loom`): there the
//! atomics and the lock are loom's, the queue a loom-locked `VecDeque` and
//! the eventfd a loom `Notify`; the code below is the same.

#[cfg(not(all(test, eddy_loom)))]
use std::sync::Mutex;
#[cfg(not(all(test, eddy_loom)))]
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering, fence};

#[cfg(not(all(test, eddy_loom)))]
use crossbeam_queue::SegQueue as Queue;
#[cfg(all(test, eddy_loom))]
use loom::sync::Mutex;
#[cfg(all(test, eddy_loom))]
use loom::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering, fence};

#[cfg(all(test, eddy_loom))]
pub(crate) use super::loom_model::{Queue, Unpark};
/// What makes the loop's poll return: the poller's eventfd.
#[cfg(not(all(test, eddy_loom)))]
pub(crate) type Unpark = mio::Waker;

use super::core::Core;
use crate::task::raw::TaskRef;

/// A message from another thread to the loop.
pub(crate) enum Remote {
    /// A task was woken.
    Wake(TaskRef),
    /// A future was spawned through a `Handle`.
    Spawn(Box<dyn RemoteSpawn>),
}

/// A spawn request from another thread; the loop turns it into a task.
pub(crate) trait RemoteSpawn: Send {
    fn spawn(self: Box<Self>, core: &Core);
}

pub(crate) struct Shared {
    remote: Queue<Remote>,
    parked: AtomicBool,
    closed: AtomicBool,
    /// The `block_on` future was woken from another thread.
    main_woken: AtomicBool,
    /// Writes to the poller; `None` once the runtime is gone (the eventfd is
    /// closed with the runtime, whatever wakers still point here).
    unpark: Mutex<Option<Unpark>>,
    /// How many times a remote wake had to write to `unpark`.
    pub(crate) unparks: AtomicU64,
    /// The runtime's core while it lives; read only on the runtime's thread
    /// (by `abort`, which is only called there).
    core: AtomicPtr<Core>,
}

impl Shared {
    pub(crate) fn new(unpark: Unpark) -> Shared {
        Shared {
            remote: Queue::new(),
            // Not driven yet: counts as parked (see `park_outside`).
            parked: AtomicBool::new(true),
            closed: AtomicBool::new(false),
            main_woken: AtomicBool::new(false),
            unpark: Mutex::new(Some(unpark)),
            unparks: AtomicU64::new(0),
            core: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    pub(crate) fn set_core(&self, core: *const Core) {
        self.core.store(core as *mut Core, Ordering::Relaxed);
    }

    pub(crate) fn core(&self) -> *const Core {
        self.core.load(Ordering::Relaxed)
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Queues a woken task for the loop. The caller keeps the task (and so
    /// this block) alive until this returns.
    pub(crate) fn wake_remote(task: TaskRef) {
        if task.claim_remote_slot() {
            task.shared().push(Remote::Wake(task));
        }
    }

    /// The `block_on` future was woken away from the loop.
    pub(crate) fn wake_main(&self) {
        self.main_woken.store(true, Ordering::Release);
        self.notify();
    }

    pub(crate) fn push(&self, msg: Remote) {
        self.remote.push(msg);
        self.notify();
    }

    /// After a push: unpark the loop if it sleeps, or clean up if it is gone.
    fn notify(&self) {
        fence(Ordering::SeqCst);
        if self.closed.load(Ordering::Relaxed) {
            self.drain_closed();
        } else {
            self.signal();
        }
    }

    /// Writes the unpark eventfd if the loop is parked (sleeping in the
    /// poller, or not driven at all), once per park.
    pub(crate) fn signal(&self) {
        if self.parked.load(Ordering::Relaxed) && self.parked.swap(false, Ordering::AcqRel) {
            self.unpark();
        }
    }

    /// A drive of the loop ends: the runtime counts as parked until the
    /// next one. If work is left (`work_left`, or messages from other
    /// threads), the eventfd is written now, so a host sees its fd readable.
    pub(crate) fn park_outside(&self, work_left: bool) {
        self.parked.swap(true, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        if work_left || self.has_remote_work() {
            self.signal();
        }
    }

    /// Writes to the poller's waker, making the loop's poll (or a host
    /// watching its fd) return.
    pub(crate) fn unpark(&self) {
        let unpark = self
            .unpark
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(waker) = unpark.as_ref() {
            self.unparks.fetch_add(1, Ordering::Relaxed);
            // Fails only if the eventfd is broken; the loop then wakes on its
            // next timeout, so there is nothing better to do with the error.
            let _ = waker.wake();
        }
    }

    /// The loop is about to block: marks it parked and tells whether it may
    /// (false if a message arrived meanwhile; it then stays unparked).
    pub(crate) fn begin_park(&self) -> bool {
        self.parked.swap(true, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        if self.has_remote_work() {
            self.parked.swap(false, Ordering::Relaxed);
            return false;
        }
        true
    }

    pub(crate) fn end_park(&self) {
        self.parked.swap(false, Ordering::Relaxed);
    }

    pub(crate) fn has_remote_work(&self) -> bool {
        !self.remote.is_empty() || self.main_woken.load(Ordering::Relaxed)
    }

    pub(crate) fn take_main_woken(&self) -> bool {
        self.main_woken.load(Ordering::Relaxed) && self.main_woken.swap(false, Ordering::Acquire)
    }

    pub(crate) fn pop(&self) -> Option<Remote> {
        self.remote.pop()
    }

    /// Marks the runtime gone and drops whatever was queued. Called once,
    /// by the runtime's drop, before it cancels the tasks.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        self.drain_closed();
        let waker = self
            .unpark
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .take();
        drop(waker);
    }

    /// Drops queued messages once the runtime is going: a woken task gives
    /// up the queue's reference (never the last while its future lives: the
    /// runtime holds one until then, so at most memory is freed here); a
    /// spawned future is dropped, which cancels its handle. Any thread may
    /// call it; the caller keeps this block alive meanwhile.
    fn drain_closed(&self) {
        while let Some(msg) = self.remote.pop() {
            match msg {
                // SAFETY: just popped from the remote queue.
                Remote::Wake(task) => unsafe { task.release_remote_slot() },
                // The future's destructor may panic; there is nobody to tell.
                Remote::Spawn(job) => crate::task::harness::drop_quietly(job),
            }
        }
    }
}
