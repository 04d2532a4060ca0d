//! The cross-thread wake path under loom: every interleaving, every value a
//! relaxed load may return.
//!
//! Run with `RUSTFLAGS="--cfg eddy_loom" cargo test --release --lib loom`.
//!
//! The code under test is the real one: `Shared` (remote queue, `parked`,
//! `closed`, unpark) and the task's state word (`claim_remote_slot`,
//! `release_remote_slot`, the reference count). Only three things are
//! stand-ins, defined here: the lock-free queue becomes a `VecDeque` behind
//! a loom lock (a linearizable queue, as `SegQueue` is), the eventfd becomes
//! a loom `Notify` (a write that is remembered until read), and the task's
//! memory gets a loom cell that each use reads and the free writes, so a free
//! not ordered after every use is reported. The loop's side is written out
//! in each model as the loop does it: pop, release the slot, poll; park with
//! `begin_park`, wait, `end_park`.
//!
//! What the models check:
//! - no lost wake-up: a "message" written before a wake is seen by a poll
//!   after it, and the loop never sleeps through a wake (loom reports a
//!   deadlock if it waits on a `Notify` nobody writes);
//! - no double queueing: while the task sits in the queue, it is there once;
//! - no use after free, and no leak: the last reference frees the task once,
//!   after every other use, on whichever thread drops it.

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;

use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::sync::{Mutex, Notify};
use loom::thread;

use super::shared::{Remote, Shared};
use crate::task::TaskId;
use crate::task::raw::TaskRef;

/// Stand-in for `crossbeam_queue::SegQueue`.
pub(crate) struct Queue<T>(Mutex<VecDeque<T>>);

impl<T> Queue<T> {
    pub(crate) fn new() -> Queue<T> {
        Queue(Mutex::new(VecDeque::new()))
    }

    pub(crate) fn push(&self, value: T) {
        self.0.lock().unwrap().push_back(value);
    }

    pub(crate) fn pop(&self) -> Option<T> {
        self.0.lock().unwrap().pop_front()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.lock().unwrap().is_empty()
    }
}

/// Stand-in for the poller's `mio::Waker`.
pub(crate) struct Unpark(Arc<Notify>);

impl Unpark {
    pub(crate) fn new() -> Unpark {
        Unpark(Arc::new(Notify::new()))
    }

    pub(crate) fn wake(&self) -> io::Result<()> {
        self.0.notify();
        Ok(())
    }
}

/// Runs `f` under every interleaving with at most three preemptions, which
/// covers the races here (each involves two or three steps of one thread
/// between steps of another) and keeps the run in seconds.
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(f);
}

/// A task pointer to move into a model thread.
#[derive(Clone, Copy)]
struct Task(TaskRef);

/// A runtime's shared block whose loop is running, and the loop's end of
/// the eventfd.
fn running_shared() -> (Arc<Shared>, Arc<Notify>) {
    let notify = Arc::new(Notify::new());
    let shared = Arc::new(Shared::new(Unpark(Arc::clone(&notify))));
    shared.end_park();
    (shared, notify)
}

/// A task with `refs` references: the runtime's and `refs - 1` wakers'.
fn task_with_refs(shared: &Arc<Shared>, refs: usize) -> TaskRef {
    let task = TaskRef::allocate(async {}, shared, TaskId(1));
    for _ in 2..refs {
        task.ref_inc();
    }
    task
}

/// The end of a task on the loop's thread: its future goes, then the
/// runtime's reference.
fn finish(task: TaskRef) {
    // SAFETY: the model's loop thread is the task's loop thread; the future
    // is still there and not being polled.
    unsafe { task.drop_future() };
    // SAFETY: the runtime's reference, given up once.
    unsafe { task.ref_dec() };
}

/// A waker on another thread: writes a message, then wakes (by value, so
/// its reference goes with the wake).
fn wake_from_thread(task: Task, sent: &Arc<AtomicUsize>) -> thread::JoinHandle<()> {
    let sent = Arc::clone(sent);
    thread::spawn(move || {
        let task = task.0;
        sent.fetch_add(1, SeqCst);
        Shared::wake_remote(task);
        // SAFETY: the waker's own reference, given up once.
        unsafe { task.ref_dec() };
    })
}

/// The loop: drain the remote queue, "poll" (read the messages), and park
/// when there is nothing to do, until it has seen `expect` messages.
/// Returns how many times it polled.
fn run_loop(shared: &Shared, notify: &Notify, sent: &AtomicUsize, expect: usize) -> usize {
    let mut seen = 0;
    let mut polls = 0;
    while seen < expect {
        while let Some(msg) = shared.pop() {
            let Remote::Wake(task) = msg else {
                unreachable!("the models only wake")
            };
            assert!(shared.pop().is_none(), "a task was queued twice");
            // SAFETY: just popped from the remote queue.
            unsafe { task.release_remote_slot() };
            polls += 1;
            seen = sent.load(SeqCst);
        }
        if seen < expect {
            if shared.begin_park() {
                notify.wait();
            }
            shared.end_park();
        }
    }
    polls
}

/// Gives back the queue entries left when a model's threads are done.
fn drain(shared: &Shared) {
    while let Some(Remote::Wake(task)) = shared.pop() {
        // SAFETY: just popped from the remote queue.
        unsafe { task.release_remote_slot() };
    }
}

#[test]
fn loom_two_remote_wakes_are_never_lost() {
    model(|| {
        let (shared, notify) = running_shared();
        let task = task_with_refs(&shared, 3);
        let sent = Arc::new(AtomicUsize::new(0));
        let wakers = [
            wake_from_thread(Task(task), &sent),
            wake_from_thread(Task(task), &sent),
        ];
        let polls = run_loop(&shared, &notify, &sent, 2);
        assert!((1..=2).contains(&polls), "{polls} polls for two wakes");
        for w in wakers {
            w.join().unwrap();
        }
        // A wake after the poll that saw both messages may have queued the
        // task again (a spurious poll, harmless): give that entry back.
        drain(&shared);
        assert!(!task.is_remote_queued());
        assert_eq!(
            task.ref_count(),
            1,
            "a reference leaked or was dropped twice"
        );
        finish(task);
    });
}

#[test]
fn loom_wake_while_the_loop_parks_and_unparks() {
    // The loop starts parked (not driven yet) and is woken by the first
    // wake; the second lands while it runs or after it parked again.
    model(|| {
        let notify = Arc::new(Notify::new());
        let shared = Arc::new(Shared::new(Unpark(Arc::clone(&notify))));
        let task = task_with_refs(&shared, 2);
        let sent = Arc::new(AtomicUsize::new(0));
        let waker = wake_from_thread(Task(task), &sent);
        // A wake before the loop runs left the eventfd written.
        notify.wait();
        shared.end_park();
        let polls = run_loop(&shared, &notify, &sent, 1);
        assert_eq!(polls, 1);
        waker.join().unwrap();
        drain(&shared);
        assert_eq!(task.ref_count(), 1);
        finish(task);
    });
}

#[test]
fn loom_block_on_future_woken_from_another_thread() {
    model(|| {
        let (shared, notify) = running_shared();
        let sent = Arc::new(AtomicUsize::new(0));
        let waker = {
            let (shared, sent) = (Arc::clone(&shared), Arc::clone(&sent));
            thread::spawn(move || {
                sent.fetch_add(1, SeqCst);
                shared.wake_main();
            })
        };
        let mut seen = 0;
        while seen < 1 {
            if shared.take_main_woken() {
                seen = sent.load(SeqCst);
            } else {
                if shared.begin_park() {
                    notify.wait();
                }
                shared.end_park();
            }
        }
        waker.join().unwrap();
    });
}

#[test]
fn loom_wake_racing_with_runtime_drop() {
    // The runtime is dropped (the queue is closed, then its task's future
    // goes) while another thread wakes the task and drops the last waker:
    // the queue entry's reference is given back exactly once, by whichever
    // side sees it, and the task is freed once, after every use.
    model(|| {
        let (shared, _notify) = running_shared();
        let task = task_with_refs(&shared, 2);
        let sent = Arc::new(AtomicUsize::new(0));
        let waker = wake_from_thread(Task(task), &sent);
        shared.close();
        finish(task);
        waker.join().unwrap();
        assert!(shared.pop().is_none(), "a message outlived the runtime");
    });
}
