//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::any::Any;
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::{self, ThreadId};
use std::time::Duration;

/// The limit every test body runs under.
pub const LIMIT: Duration = Duration::from_secs(10);

/// Runs `f` on a fresh thread and waits at most `limit` for it. A hang
/// fails the test (with a message saying so) instead of blocking the whole
/// run; a panic in `f` is resumed here, so assertions fail as usual.
pub fn watchdog<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let name = thread::current()
        .name()
        .map_or_else(|| "watchdog".to_string(), str::to_string);
    thread::Builder::new()
        .name(name)
        .spawn(move || {
            let result = panic::catch_unwind(AssertUnwindSafe(f));
            let _ = tx.send(result);
        })
        .expect("could not start the test thread");
    match rx.recv_timeout(limit) {
        Ok(Ok(value)) => value,
        Ok(Err(payload)) => panic::resume_unwind(payload),
        Err(RecvTimeoutError::Timeout) => {
            panic!("watchdog: the test hung for longer than {limit:?} (deadlock or lost wake-up?)")
        }
        Err(RecvTimeoutError::Disconnected) => {
            panic!("watchdog: the test thread ended without reporting a result")
        }
    }
}

/// The text of a panic payload (`&str` or `String`), or a placeholder.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_string()
    }
}

/// Runs `f`, catching a panic; `Err` holds the panic message.
pub fn catch<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|p| panic_message(&*p))
}

/// Compile-time check that `T: Send + Sync`.
pub fn assert_send_sync<T: Send + Sync>() {}

/// Compile-time check that `T: Send`.
pub fn assert_send<T: Send>() {}

/// Sets its flag when dropped (single-thread).
pub struct SetOnDrop(pub Rc<Cell<bool>>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

/// Counts its drops in a shared counter (single-thread).
pub struct CountOnDrop(pub Rc<Cell<usize>>);

impl Drop for CountOnDrop {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

/// Sets its flag when dropped (any thread).
pub struct FlagOnDrop(pub Arc<AtomicBool>);

impl Drop for FlagOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Counts its drops (any thread).
pub struct AtomicCountOnDrop(pub Arc<AtomicUsize>);

impl Drop for AtomicCountOnDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Records the thread it is dropped on.
pub struct RecordDropThread(pub Arc<Mutex<Option<ThreadId>>>);

impl Drop for RecordDropThread {
    fn drop(&mut self) {
        *self.0.lock().unwrap() = Some(thread::current().id());
    }
}

/// Panics when dropped (unless the thread is already panicking).
pub struct PanicOnDrop(pub &'static str);

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        if !thread::panicking() {
            panic!("{}", self.0);
        }
    }
}

/// A future that is `Pending` once, handing its waker out on `tx`, and
/// `Ready` the next time it is polled.
pub fn wait_for_outside_wake(
    tx: mpsc::Sender<std::task::Waker>,
) -> impl std::future::Future<Output = ()> {
    let mut sent = false;
    std::future::poll_fn(move |cx| {
        if sent {
            std::task::Poll::Ready(())
        } else {
            sent = true;
            tx.send(cx.waker().clone()).unwrap();
            std::task::Poll::Pending
        }
    })
}
