//! Soundness on the cancel and drop paths: user code (a future's destructor,
//! a waker, an output's destructor) that drops the runtime, panics or
//! re-enters while eddy is in the middle of cancelling or completing a task.
//!
//! Each reproducer that crashed, or read freed memory, runs in a child
//! process of its own (`in_child_process`), so a segfault fails that test
//! with the signal named instead of killing the test binary; `.ci/valgrind`
//! runs this file under memcheck too, where a use after free is an error
//! even when it happens not to crash.

mod common;

use std::cell::{Cell, RefCell};
use std::future::{Future, pending, poll_fn};
use std::os::fd::AsRawFd;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use common::*;
use eddy::Runtime;
use eddy::task::JoinSet;

const CHILD_ENV: &str = "EDDY_SOUNDNESS_TEST_CHILD";

/// Runs `body` in a fresh process that runs only the test `name`.
fn in_child(name: &str, body: impl FnOnce() + Send + 'static) {
    common::in_child_process(CHILD_ENV, name, LIMIT, body);
}

/// A waker that panics when woken.
struct PanicWaker;

impl Wake for PanicWaker {
    fn wake(self: Arc<Self>) {
        panic!("waker panics");
    }
}

/// Is the runtime's fd readable within `ms` milliseconds?
fn readable(rt: &Runtime, ms: i32) -> bool {
    let mut p = libc::pollfd {
        fd: rt.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, for the duration of the call.
    unsafe { libc::poll(&mut p, 1, ms) == 1 }
}

// 1. A task's future holds the last `Rc<Runtime>`: aborting it between
//    drives drops the runtime from inside the abort.

#[test]
fn abort_that_drops_the_last_runtime_reference() {
    in_child("abort_that_drops_the_last_runtime_reference", || {
        let rt = Rc::new(Runtime::new().unwrap());
        let rt2 = Rc::clone(&rt);
        let dropped = Rc::new(Cell::new(false));
        let flag = SetOnDrop(Rc::clone(&dropped));
        let jh = rt.spawn(async move {
            let _rt = rt2;
            let _flag = flag;
            pending::<()>().await
        });
        // A second task, alive when the runtime goes: its future must be
        // dropped by the runtime's drop, which happens inside the abort.
        let other_dropped = Rc::new(Cell::new(false));
        let other_flag = SetOnDrop(Rc::clone(&other_dropped));
        let other = rt.spawn(async move {
            let _flag = other_flag;
            pending::<()>().await
        });
        drop(rt); // the first task holds the last Rc<Runtime>
        assert!(!jh.is_finished());
        jh.abort(); // drops the future -> drops the Runtime
        assert!(dropped.get());
        assert!(other_dropped.get());
        assert!(jh.is_finished());
        assert!(other.is_finished());
        // Both handles outlive the runtime and report a cancel.
        let err = futures::executor::block_on(jh).unwrap_err();
        assert!(err.is_cancelled());
        assert!(
            futures::executor::block_on(other)
                .unwrap_err()
                .is_cancelled()
        );
    });
}

#[test]
fn abort_that_takes_the_runtime_out_of_a_refcell() {
    in_child("abort_that_takes_the_runtime_out_of_a_refcell", || {
        let cell: Rc<RefCell<Option<Runtime>>> =
            Rc::new(RefCell::new(Some(Runtime::new().unwrap())));
        struct TakeOnDrop(Rc<RefCell<Option<Runtime>>>);
        impl Drop for TakeOnDrop {
            fn drop(&mut self) {
                let rt = self.0.borrow_mut().take();
                drop(rt);
            }
        }
        let guard = TakeOnDrop(Rc::clone(&cell));
        let jh = cell.borrow().as_ref().unwrap().spawn(async move {
            let _guard = guard;
            pending::<()>().await
        });
        let abort = jh.abort_handle();
        abort.abort();
        assert!(cell.borrow().is_none());
        assert!(jh.is_finished());
        assert!(abort.is_finished());
        drop(jh);
        drop(abort);
    });
}

#[test]
fn dropping_a_join_set_whose_task_drops_the_runtime() {
    in_child("dropping_a_join_set_whose_task_drops_the_runtime", || {
        let rt = Rc::new(Runtime::new().unwrap());
        let rt2 = Rc::clone(&rt);
        let set = rt.block_on(async move {
            let mut set = JoinSet::new();
            set.spawn(async move {
                let _rt = rt2;
                pending::<()>().await
            });
            for _ in 0..3 {
                set.spawn(pending::<()>());
            }
            set
        });
        drop(rt);
        assert_eq!(set.len(), 4);
        drop(set); // aborts every member; the first drops the runtime
    });
}

/// The runtime dropped by an abort still cancels with the runtime current:
/// what the dropped futures' destructors spawn is dropped too, never run,
/// and the abort returns only after all of it.
#[test]
fn runtime_dropped_inside_an_abort_still_cancels_what_destructors_spawn() {
    in_child(
        "runtime_dropped_inside_an_abort_still_cancels_what_destructors_spawn",
        || {
            let rt = Rc::new(Runtime::new().unwrap());
            let rt2 = Rc::clone(&rt);
            let spawned_dropped = Rc::new(Cell::new(0));
            struct SpawnOnDrop(Rc<Cell<usize>>);
            impl Drop for SpawnOnDrop {
                fn drop(&mut self) {
                    let counter = CountOnDrop(Rc::clone(&self.0));
                    eddy::spawn(async move {
                        let _counter = counter;
                        unreachable!("spawned while the runtime drops: never polled");
                    });
                }
            }
            let jh = rt.spawn({
                let spawner = SpawnOnDrop(Rc::clone(&spawned_dropped));
                async move {
                    let _rt = rt2;
                    let _spawner = spawner;
                    pending::<()>().await
                }
            });
            let _other = rt.spawn({
                let spawner = SpawnOnDrop(Rc::clone(&spawned_dropped));
                async move {
                    let _spawner = spawner;
                    pending::<()>().await
                }
            });
            drop(rt);
            jh.abort();
            assert_eq!(spawned_dropped.get(), 2);
        },
    );
}

// 2. A panic out of the runtime's drop (here a `JoinHandle` polled with a
//    waker that panics on wake) must not leave the core pointer dangling.

#[test]
fn a_panicking_joiner_waker_does_not_escape_the_runtime_drop() {
    in_child(
        "a_panicking_joiner_waker_does_not_escape_the_runtime_drop",
        || {
            let rt = Runtime::new().unwrap();
            let mut jh1 = rt.spawn(pending::<()>());
            let jh2 = rt.spawn(pending::<()>());
            let w = Waker::from(Arc::new(PanicWaker));
            assert!(
                Pin::new(&mut jh1)
                    .poll(&mut Context::from_waker(&w))
                    .is_pending()
            );
            // Dropping the runtime completes jh1's task and wakes its joiner,
            // which panics: the panic is caught and the drop finishes.
            let r = catch_unwind(AssertUnwindSafe(|| drop(rt)));
            assert!(r.is_ok(), "the waker's panic escaped the runtime's drop");
            assert!(jh2.is_finished());
            jh2.abort(); // the runtime is gone: nothing to do
            assert!(futures::executor::block_on(jh2).unwrap_err().is_cancelled());
            assert!(futures::executor::block_on(jh1).unwrap_err().is_cancelled());
        },
    );
}

/// The same waker on a task that completes normally inside `block_on`: the
/// panic is the waker's, not the loop's; the loop goes on.
#[test]
fn a_panicking_joiner_waker_does_not_stop_the_loop() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let (tx, rx) = eddy::sync::oneshot::channel::<()>();
        let mut jh = rt.spawn(async move { rx.await.is_ok() });
        let w = Waker::from(Arc::new(PanicWaker));
        assert!(
            Pin::new(&mut jh)
                .poll(&mut Context::from_waker(&w))
                .is_pending()
        );
        tx.send(()).unwrap();
        // The task completes in this drive and its joiner's wake panics.
        let after = rt.block_on(async {
            eddy::task::yield_now().await;
            eddy::spawn(async { 5 }).await.unwrap()
        });
        assert_eq!(after, 5);
        assert!(jh.is_finished());
        assert!(rt.block_on(jh).unwrap());
    });
}

// 3. Host mode: an abort between turns that makes work must make the
//    runtime's fd readable.

#[test]
fn abort_between_turns_makes_the_fd_readable() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let target = rt.spawn(pending::<()>());
        let abort = target.abort_handle();
        let waiter = rt.spawn(async move { target.await.unwrap_err().is_cancelled() });
        while rt.turn(Some(Duration::ZERO)) > 0 {}
        assert!(!readable(&rt, 0));
        abort.abort(); // wakes `waiter`, which awaits the aborted task
        assert!(readable(&rt, 1000), "a task is ready but the fd is quiet");
        assert_eq!(rt.turn(Some(Duration::ZERO)), 1);
        assert!(waiter.is_finished());
        assert!(rt.block_on(waiter).unwrap());
    });
}

/// An abort between drives wakes a task of the runtime; the next
/// `block_on`, even of a future that is ready at once, runs it.
#[test]
fn abort_between_drives_is_seen_by_the_next_block_on() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let target = rt.spawn(pending::<()>());
        let abort = target.abort_handle();
        let waiter = rt.spawn(async move { target.await.unwrap_err().is_cancelled() });
        rt.block_on(eddy::task::yield_now());
        abort.abort();
        rt.block_on(eddy::task::yield_now());
        assert!(waiter.is_finished());
    });
}

// 4. A `JoinHandle` dropped with an output whose destructor panics: the
//    panic reaches the dropper, and the task is freed all the same.

#[test]
fn join_handle_drop_with_a_panicking_output_frees_the_task() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let freed = Rc::new(Cell::new(false));
        let flag = SetOnDrop(Rc::clone(&freed));
        let jh = rt.spawn(async move {
            // The output: panics when dropped; the flag is dropped with it.
            (PanicOnDrop("output"), flag)
        });
        rt.block_on(eddy::task::yield_now());
        assert!(jh.is_finished());
        let r = catch_unwind(AssertUnwindSafe(|| drop(jh)));
        assert_eq!(panic_message(&*r.unwrap_err()), "output");
        assert!(freed.get());
        // No leak: the task's allocation and its hold on the runtime are
        // gone (valgrind checks the allocation; the count checks the list).
        assert_eq!(rt.metrics().tasks_alive, 0);
    });
}

// 5. A remote task whose future panics in its destructor, after `Ready`.

#[test]
fn remote_task_with_a_panicking_destructor_reports_a_panic() {
    watchdog(LIMIT, || {
        struct ReadyThenPanic;
        impl Future for ReadyThenPanic {
            type Output = u32;
            fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<u32> {
                Poll::Ready(7)
            }
        }
        impl Drop for ReadyThenPanic {
            fn drop(&mut self) {
                panic!("destructor");
            }
        }
        let rt = Runtime::new().unwrap();
        let local = rt.spawn(ReadyThenPanic);
        let remote = rt.handle().spawn(ReadyThenPanic);
        let (local, remote) = rt.block_on(async { (local.await, remote.await) });
        let (local, remote) = (local.unwrap_err(), remote.unwrap_err());
        assert!(local.is_panic(), "{local}");
        assert!(remote.is_panic(), "{remote}");
        assert_eq!(panic_message(&*remote.into_panic()), "destructor");
    });
}

// 6. `JoinSet::spawn` outside a runtime panics before it builds anything.

#[test]
fn join_set_spawn_outside_a_runtime_leaves_no_phantom_member() {
    watchdog(LIMIT, || {
        let mut set = JoinSet::new();
        let r = catch(|| {
            set.spawn(async { 1 });
        });
        assert!(r.unwrap_err().contains("outside a runtime"));
        assert!(set.is_empty());
        eddy::block_on(async move {
            set.spawn(async { 2 });
            set.spawn(async { 3 });
            let mut got = Vec::new();
            while let Some(r) = set.join_next().await {
                got.push(r.unwrap());
            }
            got.sort();
            assert_eq!(got, [2, 3]);
        });
    });
}

// The smells of the same review.

/// A waker whose clone touches the timer wheel again (it polls another
/// sleep): cloning it while the wheel is borrowed would panic.
#[test]
fn a_waker_whose_clone_re_enters_the_timers() {
    watchdog(LIMIT, || {
        struct Inner {
            real: Waker,
        }
        thread_local! {
            static SIDE: RefCell<Option<Pin<Box<eddy::time::Sleep>>>> = const { RefCell::new(None) };
        }
        static VTABLE: std::task::RawWakerVTable =
            std::task::RawWakerVTable::new(clone, wake, wake_by_ref, drop_raw);
        fn poke() {
            // Polling a sleep of the same runtime from inside the clone.
            SIDE.with(|s| {
                if let Some(sleep) = s.borrow_mut().as_mut() {
                    let _ = sleep.as_mut().poll(&mut Context::from_waker(Waker::noop()));
                }
            });
        }
        unsafe fn clone(p: *const ()) -> std::task::RawWaker {
            poke();
            // SAFETY: `p` is a live `Inner` box from `make`.
            let inner = unsafe { &*(p as *const Inner) };
            make(inner.real.clone())
        }
        unsafe fn wake(p: *const ()) {
            // SAFETY: as in `clone`; the box is owned by this waker.
            let inner = unsafe { Box::from_raw(p as *mut Inner) };
            inner.real.wake_by_ref();
        }
        unsafe fn wake_by_ref(p: *const ()) {
            // SAFETY: as in `clone`.
            unsafe { &*(p as *const Inner) }.real.wake_by_ref();
        }
        unsafe fn drop_raw(p: *const ()) {
            // SAFETY: as in `wake`.
            drop(unsafe { Box::from_raw(p as *mut Inner) });
        }
        fn make(real: Waker) -> std::task::RawWaker {
            std::task::RawWaker::new(
                Box::into_raw(Box::new(Inner { real })) as *const (),
                &VTABLE,
            )
        }
        eddy::block_on(async {
            SIDE.with(|s| {
                *s.borrow_mut() = Some(Box::pin(eddy::time::sleep(Duration::from_secs(60))))
            });
            let mut sleep = pin!(eddy::time::sleep(Duration::from_millis(2)));
            poll_fn(|cx| {
                // SAFETY: `make` builds a waker with the vtable above, whose
                // functions keep its contract.
                let w = unsafe { Waker::from_raw(make(cx.waker().clone())) };
                sleep.as_mut().poll(&mut Context::from_waker(&w))
            })
            .await;
            SIDE.with(|s| s.borrow_mut().take());
        });
    });
}

/// A `RemoteJoinHandle` polled with a new waker drops the old one; that
/// drop may run anything, here a turn of the runtime that finishes the
/// task, which publishes its result under the handle's lock: the old waker
/// must be dropped with no lock held (else a deadlock, or a panic).
#[test]
fn remote_join_handle_drops_a_replaced_waker_outside_its_lock() {
    watchdog(LIMIT, || {
        thread_local! {
            static RT: RefCell<Option<Runtime>> = const { RefCell::new(None) };
        }
        struct TurnOnDrop;
        impl Wake for TurnOnDrop {
            fn wake(self: Arc<Self>) {}
        }
        impl Drop for TurnOnDrop {
            fn drop(&mut self) {
                RT.with(|rt| {
                    if let Some(rt) = rt.borrow().as_ref() {
                        rt.turn(Some(Duration::ZERO));
                    }
                });
            }
        }
        RT.with(|rt| *rt.borrow_mut() = Some(Runtime::new().unwrap()));
        let (tx, rx) = futures::channel::oneshot::channel::<u32>();
        let mut remote = RT.with(|rt| {
            let rt = rt.borrow();
            let rt = rt.as_ref().unwrap();
            let remote = rt.handle().spawn(async move { rx.await.unwrap() });
            rt.turn(Some(Duration::ZERO)); // the task starts and waits
            remote
        });
        let first = Waker::from(Arc::new(TurnOnDrop));
        let poll = |remote: &mut eddy::task::RemoteJoinHandle<u32>, w: &Waker| {
            Pin::new(remote).poll(&mut Context::from_waker(w))
        };
        assert!(poll(&mut remote, &first).is_pending());
        drop(first); // the handle holds the only reference now
        tx.send(5).unwrap(); // the task is ready to finish
        // Replaces (and drops) the first waker, whose drop finishes the
        // task: the result is there when the poll looks again.
        assert!(matches!(
            poll(&mut remote, Waker::noop()),
            Poll::Ready(Ok(5))
        ));
        assert!(remote.is_finished());
        RT.with(|rt| rt.borrow_mut().take());
    });
}

/// A `Sleep` first polled in runtime A, then in runtime B while A lives,
/// fires when B is driven, not only when A is.
#[test]
fn a_sleep_moved_to_another_runtime_fires_there() {
    watchdog(LIMIT, || {
        let a = Runtime::new().unwrap();
        let b = Runtime::new().unwrap();
        let mut sleep = Box::pin(eddy::time::sleep(Duration::from_millis(20)));
        a.block_on(poll_fn(|cx| {
            assert!(sleep.as_mut().poll(cx).is_pending());
            Poll::Ready(())
        }));
        let start = Instant::now();
        b.block_on(sleep.as_mut());
        assert!(start.elapsed() < Duration::from_secs(5));
        assert_eq!(a.next_deadline(), None, "the timer left A's wheel");
    });
}

/// An I/O object does not keep the waker of a wait that is over: a read
/// future dropped (or done) lets go of it, so a finished task's memory, or
/// another executor's waker, is not kept alive by a socket it once read.
#[test]
fn an_io_object_lets_go_of_the_waker_of_a_finished_wait() {
    struct Flag;
    impl Wake for Flag {
        fn wake(self: Arc<Self>) {}
    }
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (a, b) = eddy::net::UnixStream::pair().unwrap();
            let waker = Arc::new(Flag);
            let foreign = Waker::from(Arc::clone(&waker));
            let mut buf = [0u8; 4];
            {
                let mut read = pin!(a.read(&mut buf));
                // Nothing to read: the future waits, holding a clone.
                assert!(
                    read.as_mut()
                        .poll(&mut Context::from_waker(&foreign))
                        .is_pending()
                );
                assert_eq!(Arc::strong_count(&waker), 3);
            }
            assert_eq!(Arc::strong_count(&waker), 2, "the socket kept the waker");
            // The same after a wait that completes.
            b.write_all(b"ping").await.unwrap();
            let n = a.read(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"ping");
            drop(foreign);
            assert_eq!(Arc::strong_count(&waker), 1);
        });
    });
}
