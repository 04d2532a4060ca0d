//! Integration tests for the entry points: `eddy::block_on`, `eddy::spawn`,
//! `Runtime`, `Builder`, `Handle` and `RemoteJoinHandle` (API.md, "Entry
//! points").
//!
//! Not tested here, because a negative trait bound cannot be checked without
//! a compile-fail harness: `Runtime`, `JoinHandle`, `AbortHandle` and
//! `JoinSet` are `!Send` (they hold `Rc`/raw pointers; see their definitions).

mod common;

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::task::Poll;
use std::thread;
use std::time::Duration;

use common::*;
use eddy::task::{RemoteJoinHandle, yield_now};
use eddy::{Builder, Handle, JoinHandle, Runtime};
use futures::FutureExt;
use futures::channel::oneshot;

// ---------------------------------------------------------------------------
// eddy::block_on
// ---------------------------------------------------------------------------

#[test]
fn block_on_returns_the_output() {
    watchdog(LIMIT, || {
        assert_eq!(eddy::block_on(async { 6 * 7 }), 42);
        // The output need not be Send.
        let rc = eddy::block_on(async { Rc::new(String::from("not Send")) });
        assert_eq!(*rc, "not Send");
        // Spawned tasks run meanwhile.
        let sum = eddy::block_on(async {
            let a = eddy::spawn(async { 1 });
            let b = eddy::spawn(async { 2 });
            a.await.unwrap() + b.await.unwrap()
        });
        assert_eq!(sum, 3);
        // Everything runs on the calling thread.
        let me = thread::current().id();
        let (main_on, task_on) = eddy::block_on(async {
            let task_on = eddy::spawn(async { thread::current().id() }).await.unwrap();
            (thread::current().id(), task_on)
        });
        assert_eq!((main_on, task_on), (me, me));
    });
}

#[test]
fn block_on_cancels_tasks_still_alive() {
    watchdog(LIMIT, || {
        let pending_dropped = Rc::new(Cell::new(false));
        let yielding_dropped = Rc::new(Cell::new(false));
        let never_polled_dropped = Rc::new(Cell::new(false));
        let never_polled_ran = Rc::new(Cell::new(false));
        let handles: Rc<RefCell<Vec<JoinHandle<()>>>> = Rc::default();
        let (p, y, n, nr, hs) = (
            pending_dropped.clone(),
            yielding_dropped.clone(),
            never_polled_dropped.clone(),
            never_polled_ran.clone(),
            handles.clone(),
        );
        eddy::block_on(async move {
            let guard = SetOnDrop(p);
            hs.borrow_mut().push(eddy::spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            }));
            let guard = SetOnDrop(y);
            hs.borrow_mut().push(eddy::spawn(async move {
                let _guard = guard;
                loop {
                    yield_now().await;
                }
            }));
            yield_now().await; // both tasks are now running (suspended)
            let guard = SetOnDrop(n);
            // Spawned last, never polled: block_on returns first.
            hs.borrow_mut().push(eddy::spawn(async move {
                let _guard = guard;
                nr.set(true);
            }));
        });
        assert!(pending_dropped.get(), "a pending task was not cancelled");
        assert!(yielding_dropped.get(), "a ready task was not cancelled");
        assert!(
            never_polled_dropped.get(),
            "an unpolled task was not dropped"
        );
        assert!(
            !never_polled_ran.get(),
            "a task ran after block_on's future completed"
        );
        for h in handles.borrow_mut().drain(..) {
            assert!(h.is_finished());
            let err = h.now_or_never().expect("finished").unwrap_err();
            assert!(err.is_cancelled(), "{err:?}");
        }
    });
}

/// A future whose destructor spawns another task (and records the outcome).
struct SpawnOnDrop {
    spawned: Rc<RefCell<Option<JoinHandle<()>>>>,
    inner_polled: Rc<Cell<bool>>,
    inner_dropped: Rc<Cell<bool>>,
    spawn_result: Rc<RefCell<Option<Result<(), String>>>>,
}

impl Drop for SpawnOnDrop {
    fn drop(&mut self) {
        let polled = self.inner_polled.clone();
        let guard = SetOnDrop(self.inner_dropped.clone());
        let result = catch(|| {
            eddy::spawn(async move {
                let _guard = guard;
                polled.set(true);
            })
        });
        *self.spawn_result.borrow_mut() = Some(result.as_ref().map(|_| ()).map_err(Clone::clone));
        if let Ok(handle) = result {
            *self.spawned.borrow_mut() = Some(handle);
        }
    }
}

#[derive(Default, Clone)]
struct SpawnOnDropProbe {
    spawned: Rc<RefCell<Option<JoinHandle<()>>>>,
    inner_polled: Rc<Cell<bool>>,
    inner_dropped: Rc<Cell<bool>>,
    spawn_result: Rc<RefCell<Option<Result<(), String>>>>,
}

impl SpawnOnDropProbe {
    fn guard(&self) -> SpawnOnDrop {
        SpawnOnDrop {
            spawned: self.spawned.clone(),
            inner_polled: self.inner_polled.clone(),
            inner_dropped: self.inner_dropped.clone(),
            spawn_result: self.spawn_result.clone(),
        }
    }

    /// The destructor ran, its `eddy::spawn` succeeded, and what it spawned
    /// was dropped without being polled; its handle says cancelled.
    fn check(&self) {
        let result = self.spawn_result.borrow_mut().take();
        assert_eq!(
            result,
            Some(Ok(())),
            "eddy::spawn in a destructor run by the runtime's cancellation failed"
        );
        assert!(
            self.inner_dropped.get(),
            "what a destructor spawned during cancellation was leaked"
        );
        assert!(
            !self.inner_polled.get(),
            "what a destructor spawned during cancellation was polled"
        );
        let handle = self.spawned.borrow_mut().take().unwrap();
        assert!(handle.is_finished());
        let err = handle.now_or_never().expect("finished").unwrap_err();
        assert!(err.is_cancelled(), "{err:?}");
    }
}

#[test]
fn block_on_cancellation_lets_destructors_spawn() {
    watchdog(LIMIT, || {
        let probe = SpawnOnDropProbe::default();
        let guard = probe.guard();
        let outer = Rc::new(RefCell::new(None));
        let o = outer.clone();
        eddy::block_on(async move {
            *o.borrow_mut() = Some(eddy::spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            }));
            yield_now().await;
        });
        probe.check();
        let outer: JoinHandle<()> = outer.borrow_mut().take().unwrap();
        assert!(outer.now_or_never().unwrap().unwrap_err().is_cancelled());
    });
}

// ---------------------------------------------------------------------------
// eddy::spawn and the "current" runtime
// ---------------------------------------------------------------------------

/// `Handle::try_current` answers instead of panicking; mirrors tokio's
/// `rt_basic::drop_tasks_in_context` (a task's future, dropped with its
/// runtime, still finds the runtime current).
#[test]
fn handle_try_current_says_whether_a_runtime_is_current() {
    watchdog(LIMIT, || {
        assert!(Handle::try_current().is_err());
        let rt = Runtime::new().unwrap();
        {
            let _guard = rt.enter();
            assert!(Handle::try_current().is_ok());
        }
        assert!(Handle::try_current().is_err());
        let got = rt.block_on(async {
            let remote = Handle::try_current()
                .expect("inside block_on")
                .spawn(async { 7 });
            remote.await.unwrap()
        });
        assert_eq!(got, 7);

        struct SeesRuntimeOnDrop(Rc<Cell<bool>>);
        impl Drop for SeesRuntimeOnDrop {
            fn drop(&mut self) {
                self.0.set(Handle::try_current().is_ok());
            }
        }
        let seen = Rc::new(Cell::new(false));
        let guard = SeesRuntimeOnDrop(seen.clone());
        drop(rt.spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await
        }));
        drop(rt);
        assert!(
            seen.get(),
            "the runtime was not current while the task was dropped"
        );
        assert!(Handle::try_current().is_err());
    });
}

#[test]
fn spawn_outside_a_runtime_panics() {
    watchdog(LIMIT, || {
        let msg = catch(|| drop(eddy::spawn(async {}))).unwrap_err();
        assert!(msg.contains("outside a runtime"), "unclear message: {msg}");
        // The same for the other spawners that need a current runtime.
        let msg = catch(Handle::current).unwrap_err();
        assert!(msg.contains("outside a runtime"), "unclear message: {msg}");
        let msg = catch(|| drop(eddy::task::spawn_blocking(|| ()))).unwrap_err();
        assert!(msg.contains("outside a runtime"), "unclear message: {msg}");
        let msg = catch(|| {
            let mut set = eddy::task::JoinSet::new();
            set.spawn(async {});
        })
        .unwrap_err();
        assert!(msg.contains("outside a runtime"), "unclear message: {msg}");
    });
}

#[test]
fn spawn_between_block_on_calls_panics() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            eddy::spawn(async {}).await.unwrap();
        });
        let msg = catch(|| drop(eddy::spawn(async {}))).unwrap_err();
        assert!(msg.contains("outside a runtime"), "unclear message: {msg}");
        // The runtime is still fine afterwards, and current again inside.
        assert_eq!(
            rt.block_on(async { eddy::spawn(async { 3 }).await.unwrap() }),
            3
        );
        let msg = catch(|| drop(eddy::spawn(async {}))).unwrap_err();
        assert!(msg.contains("outside a runtime"), "unclear message: {msg}");
    });
}

#[test]
fn runtime_spawn_works_outside_block_on() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let ran = Rc::new(Cell::new(0));
        let r = ran.clone();
        let a = rt.spawn(async move {
            r.set(r.get() + 1);
            "a"
        });
        let r = ran.clone();
        let b = rt.spawn(async move {
            r.set(r.get() + 1);
            eddy::spawn(async { "c" }).await.unwrap()
        });
        assert_eq!(ran.get(), 0, "a task ran before the loop did");
        assert!(!a.is_finished());
        // The tasks run when the loop next runs.
        rt.block_on(yield_now());
        assert_eq!(
            ran.get(),
            2,
            "tasks spawned with Runtime::spawn did not run"
        );
        assert_eq!(rt.block_on(a).unwrap(), "a");
        assert_eq!(rt.block_on(b).unwrap(), "c");
        // Runtime::spawn also works inside block_on.
        assert_eq!(
            rt.block_on(async { rt.spawn(async { 4 }).await.unwrap() }),
            4
        );
    });
}

#[test]
fn runtime_spawn_never_run_is_cancelled_on_drop() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let polled = Rc::new(Cell::new(false));
        let dropped = Rc::new(Cell::new(false));
        let (p, guard) = (polled.clone(), SetOnDrop(dropped.clone()));
        let h = rt.spawn(async move {
            let _guard = guard;
            p.set(true);
        });
        drop(rt);
        assert!(dropped.get());
        assert!(!polled.get());
        assert!(h.now_or_never().unwrap().unwrap_err().is_cancelled());
    });
}

// ---------------------------------------------------------------------------
// Runtime::new, Builder
// ---------------------------------------------------------------------------

#[test]
fn runtime_new_and_builder_chain() {
    watchdog(LIMIT, || {
        let rt: Runtime = Runtime::new().unwrap();
        assert_eq!(rt.block_on(async { 1 }), 1);

        let rt = Runtime::builder().debug(true).build().unwrap();
        assert_eq!(
            rt.block_on(async { eddy::spawn(async { 2 }).await })
                .unwrap(),
            2
        );

        let rt = Runtime::builder()
            .debug(false)
            .event_interval(7)
            .max_blocking_threads(2)
            .build()
            .unwrap();
        assert_eq!(
            rt.block_on(async { eddy::task::spawn_blocking(|| 3).await })
                .unwrap(),
            3,
            "a runtime from a chained builder does not work"
        );

        // A builder can build several runtimes, and Builder is at the root.
        let builder: Builder = Builder::default().event_interval(1);
        let r1 = builder.build().unwrap();
        let r2 = builder.build().unwrap();
        assert_eq!(r1.block_on(async { 4 }) + r2.block_on(async { 5 }), 9);
        assert!(!format!("{r1:?}").is_empty());
    });
}

#[test]
fn builder_rejects_zero_settings() {
    watchdog(LIMIT, || {
        let msg = catch(|| Runtime::builder().event_interval(0)).unwrap_err();
        assert!(msg.contains("event_interval"), "{msg}");
        let msg = catch(|| Runtime::builder().max_blocking_threads(0)).unwrap_err();
        assert!(msg.contains("max_blocking_threads"), "{msg}");
    });
}

/// Spins a task on `yield_now`, wakes the `block_on` future from another
/// thread (while the loop thread is held inside that future's poll, so the
/// wake is queued before the loop goes on), and returns how many times the
/// spinner was polled before the loop noticed the wake.
fn spinner_polls_before_remote_wake_is_seen(rt: &Runtime) -> u64 {
    let spins = Rc::new(Cell::new(0u64));
    let s = spins.clone();
    let spinner = rt.spawn(async move {
        loop {
            s.set(s.get() + 1);
            yield_now().await;
        }
    });
    let gap = rt.block_on(async {
        for _ in 0..3 {
            yield_now().await;
        }
        assert!(spins.get() >= 2, "the spinner did not run");
        let mut at_wake = None;
        poll_fn(|cx| {
            if at_wake.is_some() {
                return Poll::Ready(());
            }
            let waker = cx.waker().clone();
            thread::spawn(move || waker.wake()).join().unwrap();
            at_wake = Some(spins.get());
            Poll::Pending
        })
        .await;
        spins.get() - at_wake.unwrap()
    });
    spinner.abort();
    gap
}

#[test]
fn event_interval_bounds_the_polls_between_looks_outside() {
    watchdog(LIMIT, || {
        for n in [1u32, 4, 16] {
            let rt = Runtime::builder().event_interval(n).build().unwrap();
            let gap = spinner_polls_before_remote_wake_is_seen(&rt);
            assert!(
                gap <= u64::from(n) + 1,
                "event_interval({n}): the loop polled a ready task {gap} times before \
                 noticing a wake from another thread"
            );
        }
        // The documented default is 61.
        let rt = Runtime::new().unwrap();
        let gap = spinner_polls_before_remote_wake_is_seen(&rt);
        assert!(gap <= 62, "default event_interval: {gap} polls");
    });
}

#[test]
fn max_blocking_threads_bounds_the_pool() {
    watchdog(LIMIT, || {
        let rt = Runtime::builder().max_blocking_threads(2).build().unwrap();
        let active = Arc::new(AtomicUsize::new(0));
        let max = Arc::new(AtomicUsize::new(0));
        let ids = rt.block_on(async {
            // Two closures that each wait for the other: they need two threads.
            let barrier = Arc::new(std::sync::Barrier::new(2));
            let b1 = barrier.clone();
            let h1 = eddy::task::spawn_blocking(move || b1.wait().is_leader());
            let h2 = eddy::task::spawn_blocking(move || barrier.wait().is_leader());
            let leaders = [h1.await.unwrap(), h2.await.unwrap()];
            assert_eq!(leaders.iter().filter(|l| **l).count(), 1);

            let mut handles = Vec::new();
            for _ in 0..6 {
                let (active, max) = (active.clone(), max.clone());
                handles.push(eddy::task::spawn_blocking(move || {
                    let now = active.fetch_add(1, Ordering::SeqCst) + 1;
                    max.fetch_max(now, Ordering::SeqCst);
                    thread::sleep(Duration::from_millis(5));
                    active.fetch_sub(1, Ordering::SeqCst);
                    thread::current().id()
                }));
            }
            let mut ids = Vec::new();
            for h in handles {
                ids.push(h.await.unwrap());
            }
            ids
        });
        assert!(
            max.load(Ordering::SeqCst) <= 2,
            "more than 2 closures ran at once"
        );
        let mut distinct = ids.clone();
        distinct.sort_by_key(|id| format!("{id:?}"));
        distinct.dedup();
        assert!(distinct.len() <= 2, "{} blocking threads", distinct.len());
    });
}

// ---------------------------------------------------------------------------
// Nested block_on
// ---------------------------------------------------------------------------

#[test]
fn block_on_inside_a_task_panics() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let nested = eddy::spawn(async { eddy::block_on(async { 1 }) });
            let err = nested.await.unwrap_err();
            assert!(err.is_panic());
            let msg = panic_message(&*err.into_panic());
            assert!(msg.contains("inside a runtime"), "unclear message: {msg}");

            // The same with a second runtime built inside the task.
            let nested = eddy::spawn(async {
                let other = Runtime::new().unwrap();
                other.block_on(async { 1 })
            });
            let msg = panic_message(&*nested.await.unwrap_err().into_panic());
            assert!(msg.contains("inside a runtime"), "unclear message: {msg}");

            // The outer runtime goes on.
            assert_eq!(eddy::spawn(async { 5 }).await.unwrap(), 5);
        });
        // And nothing is left current.
        assert!(catch(|| drop(eddy::spawn(async {}))).is_err());
    });
}

#[test]
fn block_on_inside_the_block_on_future_panics() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let msg = catch(|| rt.block_on(async { rt.block_on(async { 1 }) })).unwrap_err();
        assert!(msg.contains("inside a runtime"), "unclear message: {msg}");

        let msg = catch(|| eddy::block_on(async { eddy::block_on(async { 1 }) })).unwrap_err();
        assert!(msg.contains("inside a runtime"), "unclear message: {msg}");

        // The runtime is usable afterwards, and not current outside.
        assert_eq!(
            rt.block_on(async { eddy::spawn(async { 2 }).await.unwrap() }),
            2
        );
        assert!(catch(|| drop(eddy::spawn(async {}))).is_err());
    });
}

#[test]
fn second_runtime_block_on_inside_the_first_panics() {
    watchdog(LIMIT, || {
        let rt1 = Runtime::new().unwrap();
        let rt2 = Runtime::new().unwrap();
        let msg = catch(|| rt1.block_on(async { rt2.block_on(async { 1 }) })).unwrap_err();
        assert!(msg.contains("inside a runtime"), "unclear message: {msg}");
        assert_eq!(rt1.block_on(async { 1 }) + rt2.block_on(async { 2 }), 3);
    });
}

// ---------------------------------------------------------------------------
// Tasks across block_on calls; dropping the Runtime
// ---------------------------------------------------------------------------

#[test]
#[allow(clippy::async_yields_async)] // a JoinHandle is carried out of block_on on purpose
fn tasks_live_on_across_block_on_calls() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let progress = Rc::new(Cell::new(0));
        let (tx, rx) = oneshot::channel::<u32>();
        let p = progress.clone();
        let task = rt.block_on(async move {
            let task = eddy::spawn(async move {
                p.set(1);
                let v = rx.await.unwrap();
                p.set(2);
                v * 2
            });
            yield_now().await;
            task
        });
        assert_eq!(progress.get(), 1);
        assert!(!task.is_finished());
        tx.send(21).unwrap();
        // Between calls, nothing runs.
        assert_eq!(progress.get(), 1);
        assert_eq!(rt.block_on(task).unwrap(), 42);
        assert_eq!(progress.get(), 2);
    });
}

#[test]
#[allow(clippy::async_yields_async)] // a JoinHandle is carried out of block_on on purpose
fn dropping_the_runtime_cancels_tasks_with_the_runtime_current() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let probe = SpawnOnDropProbe::default();
        let guard = probe.guard();
        let handle_current_ok = Rc::new(Cell::new(false));
        struct CheckCurrent(Rc<Cell<bool>>);
        impl Drop for CheckCurrent {
            fn drop(&mut self) {
                self.0.set(catch(Handle::current).is_ok());
            }
        }
        let check = CheckCurrent(handle_current_ok.clone());
        let dropped = Rc::new(Cell::new(false));
        let flag = SetOnDrop(dropped.clone());
        let task = rt.block_on(async move {
            let task = eddy::spawn(async move {
                let _guards = (guard, check, flag);
                std::future::pending::<()>().await;
            });
            yield_now().await;
            task
        });
        assert!(
            !dropped.get(),
            "a task was cancelled when block_on returned"
        );
        assert!(!task.is_finished());
        drop(rt);
        assert!(
            dropped.get(),
            "dropping the runtime did not cancel its task"
        );
        assert!(
            handle_current_ok.get(),
            "the runtime was not current during its drop"
        );
        probe.check();
        assert!(task.is_finished());
        // Aborting after the runtime is gone is harmless.
        task.abort();
        assert!(task.now_or_never().unwrap().unwrap_err().is_cancelled());
        // And nothing is left current.
        assert!(catch(|| drop(eddy::spawn(async {}))).is_err());
    });
}

#[test]
fn destructors_spawning_chains_are_all_dropped() {
    watchdog(LIMIT, || {
        // Each destructor spawns the next link; all of them are dropped.
        struct Link(u32, Rc<Cell<u32>>);
        impl Drop for Link {
            fn drop(&mut self) {
                self.1.set(self.1.get() + 1);
                if self.0 > 0 {
                    let next = Link(self.0 - 1, self.1.clone());
                    drop(eddy::spawn(async move {
                        let _next = next;
                        std::future::pending::<()>().await;
                    }));
                }
            }
        }
        let count = Rc::new(Cell::new(0));
        let rt = Runtime::new().unwrap();
        let link = Link(5, count.clone());
        drop(rt.spawn(async move {
            let _link = link;
            std::future::pending::<()>().await;
        }));
        rt.block_on(yield_now());
        drop(rt);
        assert_eq!(
            count.get(),
            6,
            "not every spawned-while-dropping future was dropped"
        );
    });
}

#[test]
fn runtime_dropped_inside_another_runtime() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let inner = Runtime::new().unwrap();
            let probe = SpawnOnDropProbe::default();
            let guard = probe.guard();
            drop(inner.spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            }));
            drop(inner);
            probe.check();
            // The outer runtime is current again.
            assert_eq!(eddy::spawn(async { 7 }).await.unwrap(), 7);
        });
    });
}

// ---------------------------------------------------------------------------
// Handle and RemoteJoinHandle
// ---------------------------------------------------------------------------

#[test]
fn handle_and_remote_handle_are_send_sync() {
    fn assert_clone_send_sync<T: Clone + Send + Sync + 'static>() {}
    assert_clone_send_sync::<Handle>();
    assert_send_sync::<RemoteJoinHandle<u32>>();
    assert_send_sync::<RemoteJoinHandle<String>>();
    fn assert_future<F: std::future::Future<Output = Result<u8, eddy::JoinError>>>() {}
    assert_future::<RemoteJoinHandle<u8>>();
}

#[test]
fn handle_current_inside_a_runtime() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.block_on(async { Handle::current() });
        let remote = thread::spawn(move || handle.spawn(async { 11 }))
            .join()
            .unwrap();
        assert_eq!(rt.block_on(remote).unwrap(), 11);
    });
}

#[test]
fn handle_spawn_from_another_thread_awaited_on_the_runtime() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let loop_thread = thread::current().id();
        let h2 = handle.clone();
        let remotes = thread::spawn(move || {
            let a = handle.spawn(async move { (thread::current().id(), 1) });
            let b = h2.spawn(async { (thread::current().id(), 2) });
            (a, b)
        })
        .join()
        .unwrap();
        let (a, b) = rt.block_on(async move {
            let (a, b) = remotes;
            (a.await.unwrap(), b.await.unwrap())
        });
        assert_eq!(
            a,
            (loop_thread, 1),
            "the remote task did not run on the loop's thread"
        );
        assert_eq!(b, (loop_thread, 2));
    });
}

#[test]
fn handle_spawn_from_the_loop_thread() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let v = rt.block_on(async move { handle.spawn(async { 5 }).await.unwrap() });
        assert_eq!(v, 5);
    });
}

#[test]
fn remote_handle_awaited_on_another_runtime() {
    watchdog(LIMIT, || {
        // rt1 runs on its own thread; the handle is awaited on rt2, here.
        let (handle_tx, handle_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let loop_thread = thread::spawn(move || {
            let rt1 = Runtime::new().unwrap();
            handle_tx.send(rt1.handle()).unwrap();
            rt1.block_on(stop_rx).unwrap();
        });
        let handle = handle_rx.recv().unwrap();
        let rt2 = Runtime::new().unwrap();
        let remote = handle.spawn(async { String::from("from rt1") });
        assert_eq!(rt2.block_on(remote).unwrap(), "from rt1");
        // And from inside a task of rt2.
        let remote = handle.spawn(async { 8 });
        let v = rt2.block_on(async move { eddy::spawn(remote).await.unwrap().unwrap() });
        assert_eq!(v, 8);
        stop_tx.send(()).unwrap();
        loop_thread.join().unwrap();
    });
}

#[test]
fn remote_handle_awaited_on_another_thread() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let (done_tx, done_rx) = oneshot::channel::<u64>();
        let waiter = thread::spawn(move || {
            let remote = handle.spawn(async { 40u64 + 2 });
            let v = futures::executor::block_on(remote).unwrap();
            done_tx.send(v).unwrap();
            v
        });
        // The loop runs until the other thread has seen the result.
        assert_eq!(rt.block_on(done_rx).unwrap(), 42);
        assert_eq!(waiter.join().unwrap(), 42);
    });
}

#[test]
fn handle_spawn_wakes_a_parked_loop() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        // Repeat, so both orders (loop already asleep, or not yet) are likely seen.
        for i in 0..30u32 {
            let handle = rt.handle();
            let (ready_tx, ready_rx) = mpsc::channel::<()>();
            let (tx, rx) = oneshot::channel::<u32>();
            let spawner = thread::spawn(move || {
                ready_rx.recv().unwrap();
                // Only this remote task can complete the block_on future.
                handle.spawn(async move { tx.send(i).unwrap() })
            });
            let mut ready_tx = Some(ready_tx);
            let v = rt.block_on(async {
                poll_fn(|_| {
                    if let Some(tx) = ready_tx.take() {
                        tx.send(()).unwrap();
                    }
                    Poll::Ready(())
                })
                .await;
                rx.await.unwrap()
            });
            assert_eq!(v, i);
            let remote = spawner.join().unwrap();
            rt.block_on(remote).unwrap();
        }
    });
}

#[test]
fn remote_abort_cancels_and_drops_on_the_loop_thread() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let dropped_on = Arc::new(Mutex::new(None));
        let d = dropped_on.clone();
        let (result_tx, result_rx) = oneshot::channel();
        let other = thread::spawn(move || {
            let (started_tx, started_rx) = mpsc::channel::<()>();
            let guard = RecordDropThread(d);
            let remote = handle.spawn(async move {
                let _guard = guard;
                started_tx.send(()).unwrap();
                std::future::pending::<()>().await;
            });
            started_rx.recv().unwrap();
            assert!(!remote.is_finished());
            remote.abort();
            let result = futures::executor::block_on(remote);
            result_tx
                .send(result.map_err(|e| (e.is_cancelled(), e.is_panic())))
                .unwrap();
        });
        let result = rt.block_on(result_rx).unwrap();
        assert_eq!(
            result,
            Err((true, false)),
            "abort did not give a cancelled JoinError"
        );
        other.join().unwrap();
        assert_eq!(
            *dropped_on.lock().unwrap(),
            Some(thread::current().id()),
            "the aborted remote future was not dropped on the loop's thread"
        );
    });
}

#[test]
fn remote_abort_before_the_task_starts() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let polled = Arc::new(AtomicBool::new(false));
        let dropped_on = Arc::new(Mutex::new(None));
        let (p, guard) = (polled.clone(), RecordDropThread(dropped_on.clone()));
        let remote = thread::spawn(move || {
            let remote = handle.spawn(async move {
                let _guard = guard;
                p.store(true, Ordering::SeqCst);
            });
            remote.abort();
            remote
        })
        .join()
        .unwrap();
        let err = rt.block_on(remote).unwrap_err();
        assert!(err.is_cancelled(), "{err:?}");
        assert!(
            !polled.load(Ordering::SeqCst),
            "an aborted remote future was polled"
        );
        assert_eq!(*dropped_on.lock().unwrap(), Some(thread::current().id()));
    });
}

#[test]
fn remote_is_finished_and_abort_after_finish() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let remote = thread::spawn(move || handle.spawn(async { 9 }))
            .join()
            .unwrap();
        assert!(!remote.is_finished(), "finished before the loop ran");
        rt.block_on(async {
            // Other threads' spawns are picked up while this future spins.
            while !remote.is_finished() {
                yield_now().await;
            }
        });
        assert!(remote.is_finished());
        remote.abort(); // does nothing: it finished
        assert!(remote.is_finished());
        assert_eq!(rt.block_on(remote).unwrap(), 9);
    });
}

#[test]
fn remote_task_panic_is_a_panic_join_error() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let remote = handle.spawn(async {
            if true {
                panic!("remote boom");
            }
        });
        let err = rt.block_on(remote).unwrap_err();
        assert!(err.is_panic());
        assert_eq!(panic_message(&*err.into_panic()), "remote boom");
        // The runtime goes on.
        assert_eq!(rt.block_on(handle.spawn(async { 1 })).unwrap(), 1);
    });
}

#[test]
fn remote_handle_resolves_cancelled_when_the_runtime_is_dropped_first() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let started = Arc::new(AtomicBool::new(false));
        let drops = Arc::new(AtomicUsize::new(0));

        // (a) A remote task that is running (pending) on the loop.
        let (s, guard) = (started.clone(), AtomicCountOnDrop(drops.clone()));
        let running = handle.spawn(async move {
            let _guard = guard;
            s.store(true, Ordering::SeqCst);
            std::future::pending::<()>().await;
        });
        rt.block_on(async {
            while !started.load(Ordering::SeqCst) {
                yield_now().await;
            }
        });
        // Another thread waits on it meanwhile.
        let waiter = thread::spawn(move || futures::executor::block_on(running));

        // (b) A remote spawn still queued: the loop never picks it up.
        let guard = AtomicCountOnDrop(drops.clone());
        let queued = handle.spawn(async move {
            let _guard = guard;
        });
        assert!(!queued.is_finished());

        drop(rt);
        assert_eq!(
            drops.load(Ordering::SeqCst),
            2,
            "remote futures were not dropped"
        );
        assert!(queued.is_finished());
        let err = futures::executor::block_on(queued).unwrap_err();
        assert!(err.is_cancelled(), "{err:?}");
        let err = waiter.join().unwrap().unwrap_err();
        assert!(err.is_cancelled(), "{err:?}");
    });
}

#[test]
fn handle_spawn_after_the_runtime_is_gone() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        drop(rt);
        let dropped_on = Arc::new(Mutex::new(None));
        let polled = Arc::new(AtomicBool::new(false));
        let (d, p) = (dropped_on.clone(), polled.clone());
        let (remote, caller) = thread::spawn(move || {
            let guard = RecordDropThread(d);
            let remote = handle.spawn(async move {
                let _guard = guard;
                p.store(true, Ordering::SeqCst);
            });
            (remote, thread::current().id())
        })
        .join()
        .unwrap();
        assert!(remote.is_finished(), "the handle was not already cancelled");
        assert_eq!(
            *dropped_on.lock().unwrap(),
            Some(caller),
            "the future was not dropped on the caller's thread"
        );
        assert!(!polled.load(Ordering::SeqCst));
        let err = futures::executor::block_on(remote).unwrap_err();
        assert!(err.is_cancelled(), "{err:?}");
    });
}

#[test]
fn handle_spawn_racing_the_runtime_drop() {
    watchdog(LIMIT, || {
        const N: usize = 2000;
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        let (half_tx, half_rx) = oneshot::channel::<()>();
        let spawner = thread::spawn(move || {
            let mut half_tx = Some(half_tx);
            let mut remotes = Vec::with_capacity(N);
            for i in 0..N {
                let guard = AtomicCountOnDrop(d.clone());
                remotes.push(handle.spawn(async move {
                    let _guard = guard;
                    i
                }));
                if i == N / 2 {
                    half_tx.take().unwrap().send(()).unwrap();
                }
            }
            remotes
        });
        rt.block_on(half_rx).unwrap();
        drop(rt); // while the other thread keeps spawning
        let remotes = spawner.join().unwrap();
        let (mut ok, mut cancelled) = (0, 0);
        for (i, remote) in remotes.into_iter().enumerate() {
            match futures::executor::block_on(remote) {
                Ok(v) => {
                    assert_eq!(v, i);
                    ok += 1;
                }
                Err(e) => {
                    assert!(e.is_cancelled(), "{e:?}");
                    cancelled += 1;
                }
            }
        }
        assert_eq!(ok + cancelled, N);
        assert_eq!(drops.load(Ordering::SeqCst), N, "remote futures leaked");
    });
}

#[test]
fn queued_remote_future_destructor_may_spawn_during_runtime_drop() {
    // A future sent with Handle::spawn that the loop never picked up is
    // dropped by the runtime's drop. Its destructor may use eddy, and what it
    // spawns is dropped too (never leaked).
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let spawned_dropped = Arc::new(AtomicBool::new(false));
        let spawn_ok = Arc::new(AtomicBool::new(false));
        struct SpawnOnDropSend(Arc<AtomicBool>, Arc<AtomicBool>);
        impl Drop for SpawnOnDropSend {
            fn drop(&mut self) {
                let guard = FlagOnDrop(self.0.clone());
                let spawned = catch(|| {
                    drop(eddy::spawn(async move {
                        let _guard = guard;
                    }))
                });
                self.1.store(spawned.is_ok(), Ordering::SeqCst);
            }
        }
        let probe = SpawnOnDropSend(spawned_dropped.clone(), spawn_ok.clone());
        let remote = handle.spawn(async move {
            let _probe = probe;
        });
        drop(rt);
        assert!(
            spawn_ok.load(Ordering::SeqCst),
            "eddy::spawn failed in the destructor"
        );
        assert!(
            spawned_dropped.load(Ordering::SeqCst),
            "what the destructor spawned was leaked"
        );
        assert!(
            futures::executor::block_on(remote)
                .unwrap_err()
                .is_cancelled()
        );
    });
}

#[test]
fn queued_remote_future_destructor_panic_does_not_escape_runtime_drop() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let guard = PanicOnDrop("remote destructor boom");
        let remote = handle.spawn(async move {
            let _guard = guard;
        });
        let dropped = catch(move || drop(rt));
        assert!(dropped.is_ok(), "the runtime's drop panicked: {dropped:?}");
        let err = futures::executor::block_on(remote).unwrap_err();
        assert!(err.is_cancelled() || err.is_panic());
    });
}

// ---------------------------------------------------------------------------
// Several runtimes
// ---------------------------------------------------------------------------

#[test]
fn two_runtimes_on_two_threads_at_once() {
    watchdog(LIMIT, || {
        // Each thread's runtime waits on the other's: they must run at once.
        let (a_tx, a_rx) = async_channel::unbounded::<u32>();
        let (b_tx, b_rx) = async_channel::unbounded::<u32>();
        let t1 = thread::spawn(move || {
            eddy::block_on(async move {
                let mut sum = 0;
                for i in 0..100 {
                    a_tx.send(i).await.unwrap();
                    sum += eddy::spawn({
                        let b_rx = b_rx.clone();
                        async move { b_rx.recv().await.unwrap() }
                    })
                    .await
                    .unwrap();
                }
                sum
            })
        });
        let t2 = thread::spawn(move || {
            eddy::block_on(async move {
                let mut sum = 0;
                while let Ok(i) = a_rx.recv().await {
                    sum += i;
                    b_tx.send(i * 2).await.unwrap();
                }
                sum
            })
        });
        assert_eq!(t1.join().unwrap(), 2 * 4950);
        assert_eq!(t2.join().unwrap(), 4950);
    });
}

#[test]
#[allow(clippy::async_yields_async)] // a JoinHandle is carried out of block_on on purpose
fn two_runtimes_on_one_thread_used_in_turn() {
    watchdog(LIMIT, || {
        let rt1 = Runtime::new().unwrap();
        let rt2 = Runtime::new().unwrap();
        let log = Rc::new(RefCell::new(Vec::new()));

        let (l1, l2) = (log.clone(), log.clone());
        let (tx1, rx1) = oneshot::channel::<&'static str>();
        let t1 = rt1.block_on(async move {
            eddy::spawn(async move {
                let v = rx1.await.unwrap();
                l1.borrow_mut().push(format!("rt1 {v}"));
            })
        });
        let (tx2, rx2) = oneshot::channel::<&'static str>();
        let t2 = rt2.block_on(async move {
            eddy::spawn(async move {
                let v = rx2.await.unwrap();
                l2.borrow_mut().push(format!("rt2 {v}"));
            })
        });
        // rt1's task is woken while rt2 runs on this thread: the wake must
        // reach rt1, not rt2.
        rt2.block_on(async move {
            tx1.send("woken from rt2").unwrap();
            tx2.send("woken from rt2").unwrap();
            t2.await.unwrap();
        });
        assert_eq!(*log.borrow(), ["rt2 woken from rt2"]);
        rt1.block_on(t1).unwrap();
        assert_eq!(*log.borrow(), ["rt2 woken from rt2", "rt1 woken from rt2"]);

        // Spawning inside each block_on goes to that runtime.
        assert_eq!(
            rt1.block_on(async { eddy::spawn(async { 1 }).await.unwrap() }),
            1
        );
        assert_eq!(
            rt2.block_on(async { eddy::spawn(async { 2 }).await.unwrap() }),
            2
        );
        drop(rt1);
        assert_eq!(
            rt2.block_on(async { eddy::spawn(async { 3 }).await.unwrap() }),
            3
        );
    });
}

// ---------------------------------------------------------------------------
// Work made between drives (tokio's `no_extra_poll`)
// ---------------------------------------------------------------------------

/// A task woken between two drives (here through the remote queue: no
/// runtime is current then) is polled by the next drive, even a `block_on`
/// whose future is ready after one yield; and no drive polls it for nothing.
#[test]
fn a_wake_between_drives_is_taken_in_by_the_next_block_on() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let polls = Rc::new(Cell::new(0));
        let (tx, mut rx) = futures::channel::mpsc::unbounded::<()>();
        let counter = polls.clone();
        rt.spawn(async move {
            use futures::StreamExt;
            loop {
                counter.set(counter.get() + 1);
                if rx.next().await.is_none() {
                    return;
                }
            }
        });
        rt.block_on(yield_now());
        assert_eq!(polls.get(), 1);
        tx.unbounded_send(()).unwrap(); // between drives
        rt.block_on(yield_now());
        assert_eq!(polls.get(), 2, "the woken task was not polled");
        rt.block_on(yield_now());
        rt.block_on(async {});
        assert_eq!(polls.get(), 2, "a drive polled a task nobody woke");
        // The same with eddy's own channel and a `block_on` of a ready future.
        let (etx, erx) = eddy::sync::oneshot::channel::<u32>();
        let got = rt.spawn(erx);
        rt.block_on(yield_now());
        etx.send(9).unwrap();
        rt.block_on(async {});
        assert!(got.is_finished());
    });
}

// ---------------------------------------------------------------------------
// Runtime::enter, name, shutdown_timeout, shutdown_background, park hooks
// ---------------------------------------------------------------------------

#[test]
fn enter_makes_the_runtime_current_without_driving_it() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let (task, listener) = {
            let _guard = rt.enter();
            // What needs a current runtime works...
            let listener = eddy::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let task = eddy::spawn(async { "ran" });
            // ...but nothing runs until the loop does.
            assert!(!task.is_finished());
            (task, listener)
        };
        assert!(
            catch(|| eddy::spawn(async {})).is_err(),
            "current after the guard"
        );
        // block_on works inside the guard; tasks spawned under it run there.
        let _guard = rt.enter();
        assert_eq!(rt.block_on(task).unwrap(), "ran");
        let addr = listener.local_addr().unwrap();
        let accepted = rt.block_on(async move {
            let client = eddy::spawn(async move { eddy::net::TcpStream::connect(addr).await });
            let (_s, _) = listener.accept().await.unwrap();
            client.await.unwrap().is_ok()
        });
        assert!(accepted);
    });
}

#[test]
fn enter_guards_nest_and_out_of_order_drop_panics() {
    watchdog(LIMIT, || {
        let a = Runtime::new().unwrap();
        let b = Runtime::new().unwrap();
        let ga = a.enter();
        let on_b = {
            let _gb = b.enter();
            eddy::spawn(async { 2 })
        };
        let on_a = eddy::spawn(async { 1 }); // a is current again
        drop(ga);
        assert_eq!(a.block_on(on_a).unwrap(), 1);
        assert_eq!(b.block_on(on_b).unwrap(), 2);
        let ga = a.enter();
        let gb = b.enter();
        let err = catch(move || drop(ga)).unwrap_err();
        assert!(err.contains("out of order"), "{err}");
        // What each guard would restore is wrong now; `ga` restored
        // "no runtime" as it went, which `gb` must not undo.
        std::mem::forget(gb);
        assert!(catch(|| eddy::spawn(async {})).is_err());
    });
}

/// A task spawned under `enter` between turns makes a host's fd readable.
#[test]
fn spawn_under_enter_between_turns_makes_the_fd_readable() {
    use std::os::fd::AsRawFd;
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let fd = rt.as_raw_fd();
        let readable = |ms| {
            let mut p = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd for the call.
            unsafe { libc::poll(&mut p, 1, ms) == 1 }
        };
        rt.turn(Some(Duration::ZERO));
        assert!(!readable(0));
        let task = {
            let _guard = rt.enter();
            eddy::spawn(async { 3 })
        };
        assert!(readable(1000), "a task is ready but the fd is quiet");
        assert_eq!(rt.turn(Some(Duration::ZERO)), 1);
        assert_eq!(rt.block_on(task).unwrap(), 3);
    });
}

#[test]
fn builder_name_is_given_back_and_shown() {
    watchdog(LIMIT, || {
        let rt = Builder::new().name("ingest").build().unwrap();
        assert_eq!(rt.name(), Some("ingest"));
        assert!(format!("{rt:?}").contains("ingest"));
        // Its blocking threads carry the name.
        let name = rt.block_on(async {
            eddy::task::spawn_blocking(|| thread::current().name().map(str::to_string))
                .await
                .unwrap()
        });
        assert_eq!(name.as_deref(), Some("ingest-blocking"));
        assert_eq!(Runtime::new().unwrap().name(), None);
        // `thread_name`, as tokio's, names them exactly.
        let rt = Builder::new()
            .name("ingest")
            .thread_name("helper")
            .build()
            .unwrap();
        let name = rt.block_on(async {
            eddy::task::spawn_blocking(|| thread::current().name().map(str::to_string))
                .await
                .unwrap()
        });
        assert_eq!(name.as_deref(), Some("helper"));
        assert_eq!(rt.name(), Some("ingest"));
    });
}

#[test]
fn park_hooks_run_around_each_park() {
    watchdog(LIMIT, || {
        let log = Arc::new(Mutex::new(Vec::new()));
        let (l1, l2) = (log.clone(), log.clone());
        let (parked_tx, parked_rx) = mpsc::channel::<()>();
        let rt = Builder::new()
            .on_thread_park(move || {
                l1.lock().unwrap().push("park");
                let _ = parked_tx.send(());
            })
            .on_thread_unpark(move || l2.lock().unwrap().push("unpark"))
            .build()
            .unwrap();
        // Busy work does not park.
        rt.block_on(async {
            for _ in 0..100 {
                yield_now().await;
            }
        });
        assert!(log.lock().unwrap().is_empty(), "{:?}", log.lock().unwrap());
        // A future that another thread completes once the loop has parked.
        let (tx, rx) = oneshot::channel::<()>();
        let waker = thread::spawn(move || {
            parked_rx.recv().unwrap();
            tx.send(()).unwrap();
        });
        rt.block_on(rx).unwrap();
        waker.join().unwrap();
        let log = log.lock().unwrap();
        assert!(!log.is_empty());
        assert_eq!(log.len() % 2, 0);
        for pair in log.chunks(2) {
            assert_eq!(pair, ["park", "unpark"]);
        }
        assert_eq!(rt.metrics().parks as usize, log.len() / 2);
    });
}

#[test]
fn shutdown_timeout_waits_for_blocking_threads_and_background_does_not() {
    watchdog(LIMIT, || {
        // A closure still running: shutdown_timeout waits for it.
        let rt = Runtime::new().unwrap();
        let done = Arc::new(AtomicBool::new(false));
        let (started_tx, started_rx) = mpsc::channel();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let flag = done.clone();
        rt.block_on(async move {
            drop(eddy::task::spawn_blocking(move || {
                started_tx.send(()).unwrap();
                go_rx.recv().unwrap();
                flag.store(true, Ordering::SeqCst);
            }));
        });
        started_rx.recv().unwrap();
        let releaser = thread::spawn(move || {
            // Let the closure finish a little after shutdown began waiting.
            thread::sleep(Duration::from_millis(20));
            go_tx.send(()).unwrap();
        });
        rt.shutdown_timeout(Duration::from_secs(5));
        assert!(
            done.load(Ordering::SeqCst),
            "returned before the closure finished"
        );
        releaser.join().unwrap();

        // A closure that never finishes in time: the wait ends at the timeout.
        let rt = Runtime::new().unwrap();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let (started_tx, started_rx) = mpsc::channel();
        rt.block_on(async move {
            drop(eddy::task::spawn_blocking(move || {
                started_tx.send(()).unwrap();
                let _ = go_rx.recv();
            }));
        });
        started_rx.recv().unwrap();
        let start = std::time::Instant::now();
        rt.shutdown_timeout(Duration::from_millis(50));
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(50) && waited < Duration::from_secs(5));

        // shutdown_background returns at once, cancelling tasks.
        let rt = Runtime::new().unwrap();
        let dropped = Rc::new(Cell::new(false));
        let flag = SetOnDrop(dropped.clone());
        rt.spawn(async move {
            let _flag = flag;
            std::future::pending::<()>().await
        });
        rt.shutdown_background();
        assert!(dropped.get());
        drop(go_tx); // lets the second closure end
    });
}

/// The "Entry points" section of API.md, as it writes the signatures: this
/// test only has to compile.
#[test]
fn signatures_as_api_md_writes_them() {
    use std::io;
    fn spawn_sig<F: std::future::Future<Output = u8> + 'static>(f: F) -> JoinHandle<u8> {
        eddy::spawn(f)
    }
    let _ = spawn_sig::<std::future::Ready<u8>>;
    let _: fn(std::future::Ready<u8>) -> u8 = eddy::block_on;
    let _: fn() -> io::Result<Runtime> = Runtime::new;
    let _: fn() -> Builder = Runtime::builder;
    let _: fn(&Builder) -> io::Result<Runtime> = Builder::build;
    let _ = || -> io::Result<Runtime> { Runtime::builder().debug(true).build() };
    let _ = |rt: &Runtime| -> u8 { rt.block_on(async { 1u8 }) };
    let _ = |rt: &Runtime| -> JoinHandle<Rc<u8>> { rt.spawn(async { Rc::new(1u8) }) };
    let _: fn(&Runtime) -> Handle = Runtime::handle;
    assert_send_sync::<Handle>();
    let _ = |h: Handle| -> Handle { h.clone() };
    let _ = |h: &Handle| -> RemoteJoinHandle<u8> { h.spawn(async { 1u8 }) };
    assert_send_sync::<RemoteJoinHandle<u8>>();
    let _ = |r: RemoteJoinHandle<u8>| fut::<Result<u8, eddy::JoinError>, _>(r);
    let _ = |r: &RemoteJoinHandle<u8>| -> bool {
        r.abort();
        r.is_finished()
    };
    assert!(!is_send!(Runtime));
    assert!(!is_send!(JoinHandle<u8>));
    assert!(!is_send!(eddy::task::AbortHandle));
    assert!(!is_send!(eddy::task::JoinSet<u8>));
    assert!(!is_send!(eddy::time::Sleep));
}

/// In a `spawn_blocking` closure, `Handle::current()` is the runtime that
/// started it (as tokio's): work spawned through it runs on the loop. A
/// plain thread still has none.
#[test]
fn handle_current_in_a_blocking_closure_is_its_runtime_s() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let remote = eddy::task::spawn_blocking(|| {
                let handle = eddy::Handle::current();
                assert!(eddy::Handle::try_current().is_ok());
                handle.spawn(async { std::thread::current().name().map(str::to_owned) })
            })
            .await
            .unwrap();
            let ran_on = remote.await.unwrap();
            assert_eq!(ran_on, std::thread::current().name().map(str::to_owned));
            let plain = std::thread::spawn(|| eddy::Handle::try_current().is_err());
            assert!(plain.join().unwrap());
        });
    });
}
