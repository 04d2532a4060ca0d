//! Integration tests for tasks: `JoinHandle`, `AbortHandle`, abort, panics,
//! `JoinError`, `JoinSet`, `yield_now`, `spawn_blocking`, fairness and wakers
//! (API.md, "Tasks").
//!
//! Not tested (a negative trait bound needs a compile-fail harness):
//! `JoinHandle`, `AbortHandle` and `JoinSet` are `!Send`.
//! Timers and I/O do not exist in the crate yet, so the fairness sentence
//! "starves neither timers, nor I/O" is checked only for other tasks and for
//! wakes from other threads (which go through the same look outside).

mod common;

use std::cell::{Cell, RefCell};
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

use common::*;
use eddy::task::{AbortHandle, JoinSet, spawn_blocking, yield_now};
use eddy::{JoinError, JoinHandle, Runtime};
use futures::FutureExt;
use futures::channel::oneshot;

async fn yields_then<T>(n: usize, value: T) -> T {
    for _ in 0..n {
        yield_now().await;
    }
    value
}

// ---------------------------------------------------------------------------
// JoinHandle
// ---------------------------------------------------------------------------

#[test]
fn join_handle_is_an_unpin_future_of_the_output() {
    fn assert_unpin<T: Unpin>() {}
    fn assert_join_future<T, F: Future<Output = Result<T, JoinError>> + Unpin>(f: F) -> F {
        f
    }
    assert_unpin::<JoinHandle<()>>();
    assert_unpin::<JoinHandle<std::marker::PhantomPinned>>();
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let mut h = assert_join_future(eddy::spawn(async { String::from("out") }));
            // Unpin: it can be polled through `Pin::new(&mut h)`.
            let out = poll_fn(|cx| Pin::new(&mut h).poll(cx)).await;
            assert_eq!(out.unwrap(), "out");
            // A non-Send output.
            let rc = eddy::spawn(async { Rc::new(5) }).await.unwrap();
            assert_eq!(*rc, 5);
            // The same items under `eddy::task`.
            let h: eddy::task::JoinHandle<u8> = eddy::task::spawn(async { 1 });
            let r: Result<u8, eddy::task::JoinError> = h.await;
            assert_eq!(r.unwrap(), 1);
        });
    });
}

#[test]
fn join_handle_is_finished() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let h = eddy::spawn(yields_then(3, 1));
            assert!(!h.is_finished());
            let mut spins = 0;
            while !h.is_finished() {
                yield_now().await;
                spins += 1;
                assert!(spins < 100, "the task never finished");
            }
            assert_eq!(h.await.unwrap(), 1);

            let pending = eddy::spawn(std::future::pending::<()>());
            yield_now().await;
            assert!(!pending.is_finished());
            pending.abort();
            assert!(pending.is_finished());

            let panics = eddy::spawn(async { panic!("finished by panicking") });
            yield_now().await;
            assert!(panics.is_finished());
        });
    });
}

#[test]
fn join_handle_abort_handle() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let dropped = Rc::new(Cell::new(false));
            let guard = SetOnDrop(dropped.clone());
            let h = eddy::spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            });
            let abort: AbortHandle = h.abort_handle();
            let abort2 = abort.clone();
            yield_now().await;
            assert!(!abort.is_finished());
            abort2.abort();
            assert!(dropped.get());
            assert!(abort.is_finished());
            assert!(abort2.is_finished());
            assert!(h.await.unwrap_err().is_cancelled());
            // An AbortHandle outliving the JoinHandle still works.
            assert!(abort.is_finished());
            abort.abort();
        });
    });
}

#[test]
fn dropping_a_join_handle_detaches_the_task() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let side_effect = Rc::new(Cell::new(0));
            let s = side_effect.clone();
            let (tx, rx) = oneshot::channel();
            drop(eddy::spawn(async move {
                for i in 1..=5 {
                    s.set(i);
                    yield_now().await;
                }
                tx.send("ran to completion").unwrap();
            }));
            assert_eq!(rx.await, Ok("ran to completion"));
            assert_eq!(side_effect.get(), 5);
        });
    });
}

#[test]
fn output_of_a_detached_task_is_dropped_when_it_ends() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let out_dropped = Rc::new(Cell::new(false));
            let d = out_dropped.clone();
            drop(eddy::spawn(async move { SetOnDrop(d) }));
            yield_now().await;
            assert!(out_dropped.get(), "a detached task's output was kept");

            // And an output not taken is dropped with its JoinHandle.
            let out_dropped = Rc::new(Cell::new(false));
            let d = out_dropped.clone();
            let h = eddy::spawn(async move { SetOnDrop(d) });
            yield_now().await;
            assert!(h.is_finished());
            assert!(!out_dropped.get());
            drop(h);
            assert!(out_dropped.get());
        });
    });
}

// ---------------------------------------------------------------------------
// Abort
// ---------------------------------------------------------------------------

#[test]
fn abort_before_the_first_poll() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let polled = Rc::new(Cell::new(false));
            let dropped = Rc::new(Cell::new(false));
            let (p, guard) = (polled.clone(), SetOnDrop(dropped.clone()));
            let h = eddy::spawn(async move {
                let _guard = guard;
                p.set(true);
            });
            h.abort();
            assert!(
                dropped.get(),
                "the future was not dropped before abort() returned"
            );
            assert!(h.is_finished());
            yield_now().await;
            assert!(!polled.get(), "an aborted task was polled");
            assert!(h.await.unwrap_err().is_cancelled());
        });
    });
}

#[test]
fn abort_while_pending() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let polls = Rc::new(Cell::new(0));
            let dropped = Rc::new(Cell::new(false));
            let (p, guard) = (polls.clone(), SetOnDrop(dropped.clone()));
            let h = eddy::spawn(async move {
                let _guard = guard;
                p.set(p.get() + 1);
                std::future::pending::<()>().await;
            });
            yield_now().await;
            assert_eq!(polls.get(), 1);
            assert!(!dropped.get());
            h.abort();
            assert!(
                dropped.get(),
                "the future was not dropped before abort() returned"
            );
            let err = h.await.unwrap_err();
            assert!(err.is_cancelled() && !err.is_panic(), "{err:?}");
            assert_eq!(polls.get(), 1);
        });
    });
}

#[test]
fn abort_after_a_wake_before_the_poll() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let got = Rc::new(Cell::new(None));
            let dropped = Rc::new(Cell::new(false));
            let (g, guard) = (got.clone(), SetOnDrop(dropped.clone()));
            let (tx, rx) = oneshot::channel::<u32>();
            let h = eddy::spawn(async move {
                let _guard = guard;
                g.set(Some(rx.await.unwrap()));
            });
            yield_now().await;
            tx.send(1).unwrap(); // the task is now queued
            h.abort();
            assert!(dropped.get());
            yield_now().await;
            assert_eq!(got.get(), None, "an aborted task was polled after its wake");
            assert!(h.await.unwrap_err().is_cancelled());
        });
    });
}

#[test]
fn task_that_aborts_itself() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let me: Rc<RefCell<Option<AbortHandle>>> = Rc::default();
            let dropped = Rc::new(Cell::new(false));
            let dropped_inside_poll = Rc::new(Cell::new(None));
            let resumed = Rc::new(Cell::new(false));
            let (m, d, dip, r) = (
                me.clone(),
                dropped.clone(),
                dropped_inside_poll.clone(),
                resumed.clone(),
            );
            let guard = SetOnDrop(dropped.clone());
            let h = eddy::spawn(async move {
                let _guard = guard;
                let me = m.borrow_mut().take().unwrap();
                me.abort();
                // Still inside the poll: the future is alive and goes on.
                dip.set(Some(d.get()));
                yield_now().await;
                r.set(true);
            });
            *me.borrow_mut() = Some(h.abort_handle());
            let err = h.await.unwrap_err();
            assert!(err.is_cancelled(), "{err:?}");
            assert_eq!(
                dropped_inside_poll.get(),
                Some(false),
                "the future was dropped during its own poll"
            );
            assert!(
                dropped.get(),
                "the future was not dropped when its poll returned"
            );
            assert!(!resumed.get(), "the task went on after aborting itself");
        });
    });
}

#[test]
fn abort_after_finish_does_nothing() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let h = eddy::spawn(async { 17 });
            let a = h.abort_handle();
            yield_now().await;
            assert!(h.is_finished());
            h.abort();
            a.abort();
            assert_eq!(h.await.unwrap(), 17);
        });
    });
}

#[test]
fn abort_handle_after_the_runtime_is_gone_is_harmless() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let (h, a) = rt.block_on(async {
            let h = eddy::spawn(std::future::pending::<()>());
            let a = h.abort_handle();
            (h, a)
        });
        drop(rt);
        assert!(a.is_finished());
        a.abort();
        h.abort();
        assert!(h.now_or_never().unwrap().unwrap_err().is_cancelled());
    });
}

// ---------------------------------------------------------------------------
// Panics and JoinError
// ---------------------------------------------------------------------------

#[test]
fn a_panicking_task_does_not_stop_the_others() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let progress = Rc::new(Cell::new(0));
        let p = progress.clone();
        let total = rt.block_on(async move {
            let before = eddy::spawn(yields_then(2, 1));
            let bad = eddy::spawn(async {
                yield_now().await;
                panic!("task boom");
            });
            let after = eddy::spawn(async move {
                for _ in 0..5 {
                    p.set(p.get() + 1);
                    yield_now().await;
                }
                2
            });
            let err = bad.await.unwrap_err();
            assert!(err.is_panic() && !err.is_cancelled());
            before.await.unwrap() + after.await.unwrap()
        });
        assert_eq!(total, 3);
        assert_eq!(progress.get(), 5);
        // The runtime goes on too.
        assert_eq!(
            rt.block_on(async { eddy::spawn(async { 4 }).await.unwrap() }),
            4
        );
    });
}

#[test]
fn join_error_into_panic_returns_the_payload() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let err = eddy::spawn(async { panic!("static str payload") })
                .await
                .unwrap_err();
            assert!(err.is_panic());
            let payload = err.into_panic();
            assert_eq!(*payload.downcast::<&str>().unwrap(), "static str payload");

            let n = 7;
            let err = eddy::spawn(async move { panic!("formatted {n}") })
                .await
                .unwrap_err();
            let payload = err.try_into_panic().unwrap();
            assert_eq!(*payload.downcast::<String>().unwrap(), "formatted 7");

            // A non-string payload comes back as is.
            let err = eddy::spawn(async { std::panic::panic_any(42u64) })
                .await
                .unwrap_err();
            assert!(!format!("{err}").is_empty());
            assert_eq!(*err.into_panic().downcast::<u64>().unwrap(), 42);
        });
    });
}

#[test]
fn join_error_try_into_panic_on_a_cancelled_task() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let h = eddy::spawn(std::future::pending::<()>());
            h.abort();
            let err = h.await.unwrap_err();
            assert!(err.is_cancelled() && !err.is_panic());
            let err = err.try_into_panic().unwrap_err();
            assert!(err.is_cancelled());
            // into_panic on a cancelled error panics (as documented in src).
            assert!(catch(move || err.into_panic()).is_err());
        });
    });
}

#[test]
fn join_error_traits() {
    fn assert_error<E: std::error::Error + std::fmt::Display + std::fmt::Debug + Send + Sync>() {}
    assert_error::<JoinError>();
    assert_send_sync::<JoinError>();
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let h = eddy::spawn(std::future::pending::<()>());
            h.abort();
            let cancelled = h.await.unwrap_err();
            let display = cancelled.to_string();
            assert!(display.contains("cancel"), "{display}");
            assert!(!format!("{cancelled:?}").is_empty());

            let panicked = eddy::spawn(async { panic!("oh no") }).await.unwrap_err();
            let display = panicked.to_string();
            assert!(display.contains("panic"), "{display}");
            assert!(format!("{panicked:?}").contains("oh no"));

            // Usable as a boxed error, across threads.
            let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(panicked);
            let text = thread::spawn(move || boxed.to_string()).join().unwrap();
            assert!(text.contains("oh no"), "{text}");
        });
    });
}

/// The loop catches panics once around a run of polls, not per poll: the
/// tasks queued after a panicking one in the same run still run, in order;
/// each panicking task ends with its own payload; one that panics on a
/// later poll too; and a panic of the `block_on` future right after a
/// task's is the one that comes out of `block_on`, with the runtime usable.
#[test]
fn panics_in_one_run_of_polls_each_end_their_own_task() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let log = Rc::new(RefCell::new(Vec::new()));
        let l = log.clone();
        rt.block_on(async move {
            let handles: Vec<_> = (0..6usize)
                .map(|i| {
                    let log = l.clone();
                    eddy::spawn(async move {
                        log.borrow_mut().push(i);
                        if i % 2 == 0 {
                            std::panic::panic_any(i);
                        }
                        yield_now().await;
                        log.borrow_mut().push(10 + i);
                        if i == 5 {
                            std::panic::panic_any(i);
                        }
                        i
                    })
                })
                .collect();
            for (i, h) in handles.into_iter().enumerate() {
                match h.await {
                    Ok(v) => assert!(v == i && i % 2 == 1 && i != 5),
                    Err(e) => {
                        assert!(i % 2 == 0 || i == 5, "{i}: {e:?}");
                        assert_eq!(*e.into_panic().downcast::<usize>().unwrap(), i);
                    }
                }
            }
        });
        assert_eq!(*log.borrow(), [0, 1, 2, 3, 4, 5, 11, 13, 15]);
        let msg = catch(|| {
            rt.block_on(async {
                let bad = eddy::spawn(async { panic!("task first") });
                yield_now().await;
                assert!(bad.is_finished());
                panic!("then the main future")
            })
        })
        .unwrap_err();
        assert_eq!(msg, "then the main future");
        assert_eq!(rt.metrics().tasks_alive, 0);
        assert_eq!(
            rt.block_on(async { eddy::spawn(async { 7 }).await.unwrap() }),
            7
        );
    });
}

#[test]
fn a_panic_in_the_block_on_future_propagates() {
    watchdog(LIMIT, || {
        let msg = catch(|| eddy::block_on(async { panic!("main future boom") })).unwrap_err();
        assert_eq!(msg, "main future boom");

        let rt = Runtime::new().unwrap();
        let msg = catch(|| {
            rt.block_on(async {
                eddy::spawn(async {}).await.unwrap();
                panic!("after an await")
            })
        })
        .unwrap_err();
        assert_eq!(msg, "after an await");
        // The runtime is still usable.
        assert_eq!(
            rt.block_on(async { eddy::spawn(async { 1 }).await.unwrap() }),
            1
        );
    });
}

#[test]
fn a_destructor_panicking_during_abort() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            // Idle task.
            let guard = PanicOnDrop("destructor boom");
            let h = eddy::spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            });
            yield_now().await;
            h.abort(); // must not unwind into us
            let err = h.await.unwrap_err();
            assert!(err.is_panic(), "{err:?}");
            assert_eq!(panic_message(&*err.into_panic()), "destructor boom");

            // Before the first poll.
            let guard = PanicOnDrop("destructor boom 2");
            let h = eddy::spawn(async move {
                let _guard = guard;
            });
            h.abort();
            assert!(h.await.unwrap_err().is_panic());

            // A task that aborts itself.
            let me: Rc<RefCell<Option<AbortHandle>>> = Rc::default();
            let m = me.clone();
            let guard = PanicOnDrop("destructor boom 3");
            let h = eddy::spawn(async move {
                let _guard = guard;
                m.borrow_mut().take().unwrap().abort();
                std::future::pending::<()>().await;
            });
            *me.borrow_mut() = Some(h.abort_handle());
            assert!(h.await.unwrap_err().is_panic());
        });
        assert_eq!(rt.block_on(async { 5 }), 5);
    });
}

#[test]
fn a_destructor_panicking_during_runtime_drop() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let other_dropped = Rc::new(Cell::new(false));
        let o = SetOnDrop(other_dropped.clone());
        let (bad, good) = rt.block_on(async move {
            let guard = PanicOnDrop("drop boom");
            let bad = eddy::spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            });
            let good = eddy::spawn(async move {
                let _o = o;
                std::future::pending::<()>().await;
            });
            yield_now().await;
            (bad, good)
        });
        let result = catch(move || drop(rt));
        assert!(result.is_ok(), "the runtime's drop panicked: {result:?}");
        assert!(
            other_dropped.get(),
            "a panicking destructor stopped the cancellation"
        );
        assert!(bad.now_or_never().unwrap().unwrap_err().is_panic());
        assert!(good.now_or_never().unwrap().unwrap_err().is_cancelled());

        // The same through eddy::block_on.
        let result = catch(|| {
            eddy::block_on(async {
                let guard = PanicOnDrop("drop boom 2");
                drop(eddy::spawn(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await;
                }));
                yield_now().await;
                9
            })
        });
        assert_eq!(result, Ok(9));
    });
}

// ---------------------------------------------------------------------------
// JoinSet
// ---------------------------------------------------------------------------

#[test]
fn join_set_results_in_completion_order() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let mut set = JoinSet::new();
            assert!(set.is_empty());
            assert_eq!(set.len(), 0);
            let _: AbortHandle = set.spawn(yields_then(3, "a"));
            set.spawn(yields_then(0, "b"));
            set.spawn(yields_then(1, "c"));
            assert_eq!(set.len(), 3);
            assert!(!set.is_empty());
            let mut order = Vec::new();
            while let Some(result) = set.join_next().await {
                order.push(result.unwrap());
                assert_eq!(set.len(), 3 - order.len());
            }
            assert_eq!(order, ["b", "c", "a"]);
            assert!(set.is_empty());
            assert!(set.join_next().await.is_none());
        });
    });
}

#[test]
fn join_set_join_next_on_an_empty_set() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let mut set: JoinSet<()> = JoinSet::new();
            assert!(set.join_next().await.is_none());
            let mut set: JoinSet<u8> = JoinSet::default();
            set.spawn(async { 1 });
            assert_eq!(set.join_next().await.unwrap().unwrap(), 1);
            assert!(set.join_next().await.is_none());
        });
    });
}

#[test]
fn join_set_results_include_panics_and_cancellations() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let mut set = JoinSet::new();
            set.spawn(yields_then(2, 1));
            set.spawn(async {
                yield_now().await;
                panic!("member boom")
            });
            let abort = set.spawn(std::future::pending());
            yield_now().await;
            abort.abort();
            assert!(abort.is_finished());
            let (mut ok, mut panicked, mut cancelled) = (0, 0, 0);
            while let Some(result) = set.join_next().await {
                match result {
                    Ok(v) => ok += v,
                    Err(e) if e.is_panic() => {
                        assert_eq!(panic_message(&*e.into_panic()), "member boom");
                        panicked += 1;
                    }
                    Err(e) => {
                        assert!(e.is_cancelled());
                        cancelled += 1;
                    }
                }
            }
            assert_eq!((ok, panicked, cancelled), (1, 1, 1));
        });
    });
}

#[test]
fn join_set_abort_all() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let drops = Rc::new(Cell::new(0));
            let mut set = JoinSet::new();
            for _ in 0..4 {
                let guard = CountOnDrop(drops.clone());
                set.spawn(async move {
                    let _guard = guard;
                    std::future::pending::<u32>().await
                });
            }
            set.spawn(async { 5 }); // finishes before abort_all
            yield_now().await;
            set.abort_all();
            assert_eq!(drops.get(), 4);
            assert_eq!(set.len(), 5, "results are kept until taken");
            let mut cancelled = 0;
            let mut outputs = Vec::new();
            while let Some(r) = set.join_next().await {
                match r {
                    Ok(v) => outputs.push(v),
                    Err(e) => {
                        assert!(e.is_cancelled());
                        cancelled += 1;
                    }
                }
            }
            assert_eq!(cancelled, 4);
            assert_eq!(outputs, [5]);
        });
    });
}

#[test]
fn join_set_shutdown() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let drops = Rc::new(Cell::new(0));
            let mut set = JoinSet::new();
            for i in 0..5 {
                let guard = CountOnDrop(drops.clone());
                set.spawn(async move {
                    let _guard = guard;
                    if i % 2 == 0 {
                        std::future::pending::<()>().await;
                    } else {
                        loop {
                            yield_now().await;
                        }
                    }
                });
            }
            yield_now().await;
            set.shutdown().await;
            assert_eq!(drops.get(), 5);
            assert!(set.is_empty());
            assert!(set.join_next().await.is_none());
            // The set can be reused.
            set.spawn(async {});
            assert!(set.join_next().await.unwrap().is_ok());
        });
    });
}

#[test]
fn dropping_a_join_set_aborts_every_task() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let drops = Rc::new(Cell::new(0));
            let polled_after = Rc::new(Cell::new(false));
            let mut set = JoinSet::new();
            for _ in 0..3 {
                let guard = CountOnDrop(drops.clone());
                set.spawn(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await;
                });
            }
            yield_now().await; // those three are idle now
            let (guard, p) = (CountOnDrop(drops.clone()), polled_after.clone());
            set.spawn(async move {
                let _guard = guard;
                p.set(true); // never polled: the set is dropped first
            });
            drop(set);
            assert_eq!(
                drops.get(),
                4,
                "dropping the JoinSet did not abort every task"
            );
            yield_now().await;
            assert!(!polled_after.get());
        });
    });
}

// ---------------------------------------------------------------------------
// yield_now
// ---------------------------------------------------------------------------

#[test]
fn yield_now_lets_every_other_ready_task_run() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let log = Rc::new(RefCell::new(Vec::new()));
            for name in ["t1", "t2", "t3"] {
                let l = log.clone();
                drop(eddy::spawn(async move { l.borrow_mut().push(name) }));
            }
            yield_now().await;
            assert_eq!(*log.borrow(), ["t1", "t2", "t3"]);

            // A task that yields goes behind the tasks that are ready.
            log.borrow_mut().clear();
            let l = log.clone();
            let a = eddy::spawn(async move {
                l.borrow_mut().push("a1");
                yield_now().await;
                l.borrow_mut().push("a2");
            });
            let l = log.clone();
            let b = eddy::spawn(async move { l.borrow_mut().push("b") });
            let l = log.clone();
            let c = eddy::spawn(async move { l.borrow_mut().push("c") });
            a.await.unwrap();
            b.await.unwrap();
            c.await.unwrap();
            assert_eq!(*log.borrow(), ["a1", "b", "c", "a2"]);
        });
    });
}

// ---------------------------------------------------------------------------
// spawn_blocking
// ---------------------------------------------------------------------------

#[test]
fn spawn_blocking_returns_the_value_from_another_thread() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let loop_thread = thread::current().id();
            let (v, id) = spawn_blocking(|| ((1..=100u64).sum::<u64>(), thread::current().id()))
                .await
                .unwrap();
            assert_eq!(v, 5050);
            assert_ne!(id, loop_thread, "spawn_blocking ran on the loop's thread");
        });
    });
}

#[test]
fn other_tasks_run_while_a_blocking_closure_waits() {
    watchdog(LIMIT, || {
        let (tx, rx) = mpsc::channel::<u32>();
        eddy::block_on(async move {
            // The closure can only finish after another eddy task has run.
            let blocking = spawn_blocking(move || rx.recv().unwrap() * 2);
            let sender = eddy::spawn(async move {
                for _ in 0..10 {
                    yield_now().await;
                }
                tx.send(21).unwrap();
            });
            assert_eq!(blocking.await.unwrap(), 42);
            sender.await.unwrap();
        });
    });
}

#[test]
fn spawn_blocking_panic_is_a_join_error() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let err = spawn_blocking(|| {
                if true {
                    panic!("blocking boom");
                }
            })
            .await
            .unwrap_err();
            assert!(err.is_panic());
            assert_eq!(panic_message(&*err.into_panic()), "blocking boom");
            // The pool still works.
            assert_eq!(spawn_blocking(|| 1).await.unwrap(), 1);
        });
    });
}

#[test]
fn max_blocking_threads_one_runs_closures_one_at_a_time() {
    watchdog(LIMIT, || {
        let rt = Runtime::builder().max_blocking_threads(1).build().unwrap();
        let active = Arc::new(AtomicUsize::new(0));
        let max = Arc::new(AtomicUsize::new(0));
        let results = rt.block_on(async {
            let handles: Vec<_> = (0..5)
                .map(|i| {
                    let (active, max) = (active.clone(), max.clone());
                    spawn_blocking(move || {
                        let now = active.fetch_add(1, Ordering::SeqCst) + 1;
                        max.fetch_max(now, Ordering::SeqCst);
                        thread::sleep(Duration::from_millis(5)); // simulated work
                        active.fetch_sub(1, Ordering::SeqCst);
                        i
                    })
                })
                .collect();
            let mut results = Vec::new();
            for h in handles {
                results.push(h.await.unwrap());
            }
            results
        });
        assert_eq!(results, [0, 1, 2, 3, 4]);
        assert_eq!(max.load(Ordering::SeqCst), 1, "closures ran concurrently");
    });
}

#[test]
fn several_blocking_closures_run_at_once_by_default() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            // Four closures that wait for each other need four threads.
            let barrier = Arc::new(Barrier::new(4));
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    let b = barrier.clone();
                    spawn_blocking(move || b.wait().is_leader())
                })
                .collect();
            let mut leaders = 0;
            for h in handles {
                leaders += usize::from(h.await.unwrap());
            }
            assert_eq!(leaders, 1);
        });
    });
}

thread_local! {
    static ON_EXIT: RefCell<Option<SendOnDrop>> = const { RefCell::new(None) };
}

#[test]
fn idle_blocking_threads_exit() {
    watchdog(LIMIT, || {
        let rt = Runtime::builder()
            .blocking_keep_alive(Duration::from_millis(20))
            .build()
            .unwrap();
        let (exit_tx, exit_rx) = mpsc::channel();
        let first = rt.block_on(async move {
            spawn_blocking(move || {
                ON_EXIT.with(|s| *s.borrow_mut() = Some(SendOnDrop(Some(exit_tx))));
                thread::current().id()
            })
            .await
            .unwrap()
        });
        // The runtime is alive; the idle helper thread exits by itself.
        let exited = exit_rx.recv().unwrap();
        assert_eq!(exited, first);
        // A new one is started on demand.
        let second =
            rt.block_on(async { spawn_blocking(|| thread::current().id()).await.unwrap() });
        assert_ne!(second, first);
    });
}

#[derive(Debug)]
struct SendOnDrop(Option<mpsc::Sender<thread::ThreadId>>);

impl Drop for SendOnDrop {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(thread::current().id());
        }
    }
}

#[test]
#[allow(clippy::async_yields_async)] // a JoinHandle is carried out of block_on on purpose
fn blocking_closure_running_at_runtime_drop_finishes_on_its_thread() {
    watchdog(LIMIT, || {
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let (started_tx, started_rx) = mpsc::channel();
        let (result_dropped_tx, result_dropped_rx) = mpsc::channel();
        let finished = Arc::new(AtomicBool::new(false));
        let f = finished.clone();
        let rt = Runtime::new().unwrap();
        let handle = rt.block_on(async move {
            spawn_blocking(move || {
                started_tx.send(thread::current().id()).unwrap();
                go_rx.recv().unwrap();
                f.store(true, Ordering::SeqCst);
                SendOnDrop(Some(result_dropped_tx))
            })
        });
        let blocking_thread = started_rx.recv().unwrap();
        drop(rt); // returns although the closure is blocked
        assert!(!finished.load(Ordering::SeqCst));
        assert!(handle.is_finished());
        assert!(handle.now_or_never().unwrap().unwrap_err().is_cancelled());
        go_tx.send(()).unwrap();
        let dropped_on = result_dropped_rx.recv().unwrap();
        assert!(finished.load(Ordering::SeqCst));
        assert_eq!(
            dropped_on, blocking_thread,
            "the result was not dropped on its thread"
        );
    });
}

#[test]
fn blocking_closure_may_run_its_own_runtime() {
    watchdog(LIMIT, || {
        let v = eddy::block_on(async {
            spawn_blocking(|| eddy::block_on(async { eddy::spawn(async { 3 }).await.unwrap() }))
                .await
                .unwrap()
        });
        assert_eq!(v, 3);
    });
}

// ---------------------------------------------------------------------------
// Fairness
// ---------------------------------------------------------------------------

#[test]
fn a_yield_now_loop_does_not_starve_other_tasks() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let spins = Rc::new(Cell::new(0u64));
            let s = spins.clone();
            let spinner = eddy::spawn(async move {
                loop {
                    s.set(s.get() + 1);
                    yield_now().await;
                }
            });
            let other = eddy::spawn(yields_then(50, "done"));
            assert_eq!(other.await.unwrap(), "done");
            assert!(spins.get() > 0);
            assert!(!spinner.is_finished());
        });
    });
}

/// Wakes itself and returns `Pending`, forever.
struct SelfWaking(Rc<Cell<u64>>);

impl Future for SelfWaking {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.0.set(self.0.get() + 1);
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[test]
fn a_self_waking_future_does_not_starve_block_on() {
    watchdog(LIMIT, || {
        let polls = Rc::new(Cell::new(0));
        let p = polls.clone();
        let v = eddy::block_on(async move {
            drop(eddy::spawn(SelfWaking(p.clone())));
            drop(eddy::spawn(SelfWaking(p)));
            for _ in 0..100 {
                yield_now().await;
            }
            // A wake from another thread is seen too.
            let (tx, rx) = oneshot::channel();
            thread::spawn(move || tx.send(7).unwrap());
            rx.await.unwrap()
        });
        assert_eq!(v, 7);
        assert!(polls.get() >= 100);
    });
}

#[test]
fn a_spinning_task_does_not_block_messages_from_another_thread() {
    watchdog(LIMIT, || {
        let (tx, rx) = async_channel::bounded::<u32>(4);
        let producer = thread::spawn(move || {
            for i in 0..200 {
                tx.send_blocking(i).unwrap();
            }
        });
        let sum = eddy::block_on(async move {
            drop(eddy::spawn(async {
                loop {
                    yield_now().await;
                }
            }));
            let polls = Rc::new(Cell::new(0));
            drop(eddy::spawn(SelfWaking(polls)));
            // Received in a task, while the spinners keep the run queue full.
            eddy::spawn(async move {
                let mut sum = 0;
                while let Ok(v) = rx.recv().await {
                    sum += v;
                }
                sum
            })
            .await
            .unwrap()
        });
        producer.join().unwrap();
        assert_eq!(sum, (0..200).sum::<u32>());
    });
}

// ---------------------------------------------------------------------------
// Wakers
// ---------------------------------------------------------------------------

/// Takes a clone of the current task's waker.
async fn current_waker() -> Waker {
    poll_fn(|cx| Poll::Ready(cx.waker().clone())).await
}

#[test]
fn wakers_are_send_and_sync() {
    assert_send_sync::<Waker>();
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let waker = eddy::spawn(current_waker()).await.unwrap();
            let main_waker = current_waker().await;
            thread::spawn(move || {
                let w: &Waker = &waker;
                let shared = Arc::new(w.clone());
                let s2 = shared.clone();
                thread::spawn(move || s2.wake_by_ref()).join().unwrap();
                drop(main_waker);
            })
            .join()
            .unwrap();
        });
    });
}

#[test]
fn a_wake_from_another_thread_reaches_the_loop() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let flag = Arc::new(AtomicBool::new(false));
            let f = flag.clone();
            let (waker_tx, waker_rx) = mpsc::channel::<Waker>();
            let waker_thread = thread::spawn(move || {
                let waker = waker_rx.recv().unwrap();
                f.store(true, Ordering::SeqCst);
                waker.wake();
            });
            let mut waker_tx = Some(waker_tx);
            let task = eddy::spawn(poll_fn(move |cx| {
                if flag.load(Ordering::SeqCst) {
                    return Poll::Ready("woken");
                }
                if let Some(tx) = waker_tx.take() {
                    tx.send(cx.waker().clone()).unwrap();
                }
                Poll::Pending
            }));
            assert_eq!(task.await.unwrap(), "woken");
            waker_thread.join().unwrap();
        });
    });
}

#[test]
#[allow(clippy::waker_clone_wake)] // `clone().wake()` exercises the consuming wake
fn wakes_from_eight_threads_many_times() {
    const THREADS: usize = 8;
    const WAKES: usize = 10_000;
    watchdog(LIMIT, || {
        let done = Arc::new(AtomicUsize::new(0));
        let polls = Rc::new(Cell::new(0u64));
        let p = polls.clone();
        let d = done.clone();
        let mut threads = Vec::new();
        eddy::block_on(async move {
            let task = eddy::spawn(async move {
                let waker = current_waker().await;
                for _ in 0..THREADS {
                    let (waker, done) = (waker.clone(), d.clone());
                    threads.push(thread::spawn(move || {
                        for i in 0..WAKES {
                            if i % 3 == 0 {
                                waker.clone().wake();
                            } else {
                                waker.wake_by_ref();
                            }
                        }
                        done.fetch_add(1, Ordering::SeqCst);
                        waker.wake();
                    }));
                }
                drop(waker);
                poll_fn(|_| {
                    p.set(p.get() + 1);
                    if d.load(Ordering::SeqCst) == THREADS {
                        Poll::Ready(())
                    } else {
                        Poll::Pending
                    }
                })
                .await;
                threads
            });
            for t in task.await.unwrap() {
                t.join().unwrap();
            }
        });
        assert_eq!(done.load(Ordering::SeqCst), THREADS);
        assert!(polls.get() >= 1);
    });
}

#[test]
fn a_wake_during_the_tasks_own_poll_is_not_lost() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let polls = Rc::new(Cell::new(0));
            let p = polls.clone();
            let task = eddy::spawn(poll_fn(move |cx| {
                p.set(p.get() + 1);
                if p.get() == 1 {
                    // Woken from another thread while this poll runs.
                    let waker = cx.waker().clone();
                    thread::spawn(move || waker.wake()).join().unwrap();
                    Poll::Pending
                } else {
                    Poll::Ready(())
                }
            }));
            task.await.unwrap();
            assert_eq!(polls.get(), 2);
        });
    });
}

/// Counts its polls; on the first, wakes itself `wakes` times through
/// `wake`, then is pending forever.
struct CountPolls {
    polls: Rc<Cell<u32>>,
    wake: fn(&Waker),
}

impl Future for CountPolls {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.polls.set(self.polls.get() + 1);
        if self.polls.get() == 1 {
            (self.wake)(cx.waker());
        }
        Poll::Pending
    }
}

#[test]
#[allow(clippy::waker_clone_wake)] // `clone().wake()` exercises the consuming wake
fn a_task_woken_twice_is_polled_once() {
    watchdog(LIMIT, || {
        let wakes: [fn(&Waker); 3] = [
            |w| {
                w.wake_by_ref();
                w.wake_by_ref();
            },
            |w| {
                w.clone().wake();
                w.wake_by_ref();
            },
            // Both wakes from another thread, queued before the loop goes on.
            |w| {
                let w = w.clone();
                thread::spawn(move || {
                    w.wake_by_ref();
                    w.wake();
                })
                .join()
                .unwrap();
            },
        ];
        for (i, wake) in wakes.into_iter().enumerate() {
            // Remote wakes are picked up when the loop looks outside, at
            // least every `event_interval` polls: the yields below span several.
            let rt = Runtime::builder().event_interval(2).build().unwrap();
            rt.block_on(async move {
                let polls = Rc::new(Cell::new(0));
                let task = eddy::spawn(CountPolls {
                    polls: polls.clone(),
                    wake,
                });
                for _ in 0..10 {
                    yield_now().await;
                }
                assert_eq!(
                    polls.get(),
                    2,
                    "variant {i}: two wakes must give exactly one more poll"
                );
                task.abort();
            });
        }
        // And with a task that finishes on its second poll.
        eddy::block_on(async {
            let polls = Rc::new(Cell::new(0));
            let p = polls.clone();
            let task = eddy::spawn(poll_fn(move |cx| {
                p.set(p.get() + 1);
                if p.get() == 1 {
                    cx.waker().wake_by_ref();
                    cx.waker().wake_by_ref();
                    Poll::Pending
                } else {
                    Poll::Ready(())
                }
            }));
            task.await.unwrap();
            for _ in 0..5 {
                yield_now().await;
            }
            assert_eq!(polls.get(), 2);
        });
    });
}

#[test]
fn a_wake_after_the_task_ended_is_harmless() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let (task_waker, main_waker) = rt.block_on(async {
            let waker = eddy::spawn(current_waker()).await.unwrap();
            // The task has ended: wake it here and from another thread.
            waker.wake_by_ref();
            let w = waker.clone();
            thread::spawn(move || w.wake()).join().unwrap();
            for _ in 0..5 {
                yield_now().await;
            }
            assert_eq!(eddy::spawn(async { 1 }).await.unwrap(), 1);
            (waker, current_waker().await)
        });
        // Between block_on calls.
        task_waker.wake_by_ref();
        main_waker.wake_by_ref();
        assert_eq!(rt.block_on(async { 2 }), 2);
        drop((task_waker, main_waker));
    });
}

#[test]
#[allow(clippy::waker_clone_wake)] // `clone().wake()` exercises the consuming wake
fn a_wake_after_the_runtime_is_gone_is_harmless() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let (done, pending, main) = rt.block_on(async {
            let done = eddy::spawn(current_waker()).await.unwrap();
            let (tx, rx) = oneshot::channel();
            drop(eddy::spawn(async move {
                tx.send(current_waker().await).unwrap();
                std::future::pending::<()>().await;
            }));
            (done, rx.await.unwrap(), current_waker().await)
        });
        drop(rt);
        // On this thread.
        done.wake_by_ref();
        pending.wake_by_ref();
        main.wake_by_ref();
        // While another runtime is current on this thread.
        eddy::block_on(async {
            done.wake_by_ref();
            pending.wake_by_ref();
            main.wake_by_ref();
            yield_now().await;
        });
        // From another thread, which also drops them there.
        thread::spawn(move || {
            done.wake_by_ref();
            pending.clone().wake();
            main.wake_by_ref();
            drop((done, pending, main));
        })
        .join()
        .unwrap();
    });
}

#[test]
fn a_wake_between_block_on_calls_runs_the_task_next_time() {
    watchdog(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let flag = Arc::new(AtomicBool::new(false));
        let f = flag.clone();
        let (task, waker) = rt.block_on(async move {
            let (tx, rx) = oneshot::channel();
            let mut tx = Some(tx);
            let task = eddy::spawn(poll_fn(move |cx| {
                if let Some(tx) = tx.take() {
                    tx.send(cx.waker().clone()).unwrap();
                }
                if f.load(Ordering::SeqCst) {
                    Poll::Ready(3)
                } else {
                    Poll::Pending
                }
            }));
            (task, rx.await.unwrap())
        });
        flag.store(true, Ordering::SeqCst);
        waker.wake(); // on the loop's thread, but no runtime is running
        assert_eq!(rt.block_on(task).unwrap(), 3);
    });
}

thread_local! {
    static WAKE_ON_EXIT: RefCell<Option<WakeOnDrop>> = const { RefCell::new(None) };
}

struct WakeOnDrop(Arc<AtomicBool>, Waker);

impl Drop for WakeOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
        self.1.wake_by_ref();
    }
}

#[test]
fn a_wake_from_a_thread_local_destructor_reaches_the_loop() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let flag = Arc::new(AtomicBool::new(false));
            let f = flag.clone();
            let mut started = false;
            let task = eddy::spawn(poll_fn(move |cx| {
                if f.load(Ordering::SeqCst) {
                    return Poll::Ready(());
                }
                if !started {
                    started = true;
                    let (f, waker) = (f.clone(), cx.waker().clone());
                    // The wake happens while that thread is exiting.
                    thread::spawn(move || {
                        WAKE_ON_EXIT.with(|s| *s.borrow_mut() = Some(WakeOnDrop(f, waker)));
                    });
                }
                Poll::Pending
            }));
            task.await.unwrap();
            assert!(flag.load(Ordering::SeqCst));
        });
    });
}

// ---------------------------------------------------------------------------
// Runtime-agnostic libraries
// ---------------------------------------------------------------------------

#[test]
fn futures_oneshot_between_threads_and_tasks() {
    watchdog(LIMIT, || {
        let (to_task_tx, to_task_rx) = oneshot::channel::<u32>();
        let (to_thread_tx, to_thread_rx) = oneshot::channel::<u32>();
        let other = thread::spawn(move || {
            to_task_tx.send(20).unwrap();
            futures::executor::block_on(to_thread_rx).unwrap()
        });
        let v = eddy::block_on(async move {
            let task = eddy::spawn(async move {
                let v = to_task_rx.await.unwrap();
                to_thread_tx.send(v + 1).unwrap();
                v
            });
            task.await.unwrap()
        });
        assert_eq!(v, 20);
        assert_eq!(other.join().unwrap(), 21);
    });
}

#[test]
fn async_channel_between_threads_and_tasks() {
    watchdog(LIMIT, || {
        let (req_tx, req_rx) = async_channel::bounded::<u32>(1);
        let (resp_tx, resp_rx) = async_channel::bounded::<u32>(1);
        // A thread that echoes doubled values, with blocking calls.
        let echo = thread::spawn(move || {
            while let Ok(v) = req_rx.recv_blocking() {
                resp_tx.send_blocking(v * 2).unwrap();
            }
        });
        let total = eddy::block_on(async move {
            let sender = eddy::spawn(async move {
                for i in 0..100 {
                    req_tx.send(i).await.unwrap();
                }
            });
            let receiver = eddy::spawn(async move {
                let mut total = 0;
                for _ in 0..100 {
                    total += resp_rx.recv().await.unwrap();
                }
                total
            });
            sender.await.unwrap();
            receiver.await.unwrap()
        });
        echo.join().unwrap();
        assert_eq!(total, 2 * (0..100).sum::<u32>());
    });
}

// ---------------------------------------------------------------------------
// JoinError's text, JoinSet's extras
// ---------------------------------------------------------------------------

#[test]
fn join_error_display_names_the_panic_message_as_tokio_does() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let h = eddy::spawn(async { panic!("boom") });
            let id = h.id();
            let err = h.await.unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("task {id} panicked with message \"boom\"")
            );
            let n = 3;
            let err = eddy::spawn(async move { panic!("boom {n}") })
                .await
                .unwrap_err();
            assert!(
                err.to_string()
                    .ends_with("panicked with message \"boom 3\""),
                "{err}"
            );
            let err = eddy::spawn(async { std::panic::panic_any(17u32) })
                .await
                .unwrap_err();
            assert!(err.to_string().ends_with("panicked"), "{err}");
            let h = eddy::spawn(std::future::pending::<()>());
            let id = h.id();
            h.abort();
            assert_eq!(
                h.await.unwrap_err().to_string(),
                format!("task {id} was cancelled")
            );
        });
    });
}

/// Mirrors tokio's `task_abort::test_join_error_debug`: the `Debug` text is
/// tokio's own, so log matching written for tokio keeps working.
#[test]
fn join_error_debug_reads_as_tokio_s() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let h = eddy::spawn(async { panic!("boom") });
            let id = h.id();
            let err = h.await.unwrap_err();
            assert_eq!(
                format!("{err:?}"),
                format!("JoinError::Panic(Id({id}), \"boom\", ...)")
            );
            let h = eddy::spawn(async { std::panic::panic_any(17u32) });
            let id = h.id();
            let err = h.await.unwrap_err();
            assert_eq!(
                format!("{err:?}"),
                format!("JoinError::Panic(Id({id}), ...)")
            );
            let h = eddy::spawn(std::future::pending::<()>());
            let id = h.id();
            h.abort();
            let err = h.await.unwrap_err();
            assert_eq!(
                format!("{err:?}"),
                format!("JoinError::Cancelled(Id({id}))")
            );
        });
    });
}

#[test]
fn join_set_try_join_next_takes_only_what_finished() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let mut set = JoinSet::new();
            assert!(set.try_join_next().is_none());
            let (tx, rx) = eddy::sync::oneshot::channel::<u32>();
            set.spawn(async { 1 });
            set.spawn(async move { rx.await.unwrap() });
            assert!(set.try_join_next().is_none(), "nothing ran yet");
            yield_now().await;
            assert_eq!(set.try_join_next().unwrap().unwrap(), 1);
            assert!(set.try_join_next().is_none());
            assert_eq!(set.len(), 1);
            tx.send(2).unwrap();
            yield_now().await;
            assert_eq!(set.try_join_next().unwrap().unwrap(), 2);
            assert!(set.is_empty());
        });
    });
}

#[test]
fn join_set_detach_all_lets_tasks_run_on() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let ran = Rc::new(Cell::new(0));
            let mut set = JoinSet::new();
            let (tx, rx) = eddy::sync::oneshot::channel::<()>();
            let r = ran.clone();
            set.spawn(async move {
                rx.await.unwrap();
                r.set(r.get() + 1);
                0
            });
            let r = ran.clone();
            set.spawn(async move {
                r.set(r.get() + 1);
                0
            });
            set.detach_all();
            assert!(set.is_empty());
            // A new member may reuse a detached one's key: only its own
            // result comes back.
            set.spawn(async { 10 });
            yield_now().await;
            tx.send(()).unwrap();
            yield_now().await;
            assert_eq!(ran.get(), 2);
            assert_eq!(set.join_next().await.unwrap().unwrap(), 10);
            assert!(set.join_next().await.is_none());
            drop(set);
        });
    });
}

#[test]
fn join_set_from_iterator_and_extend() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let mut set: JoinSet<u32> = (1..=3u32).map(|i| async move { i }).collect();
            assert_eq!(set.len(), 3);
            set.extend((4..=5u32).map(|i| async move { i }));
            assert_eq!(set.len(), 5);
            let mut all = set.join_all().await;
            all.sort();
            assert_eq!(all, [1, 2, 3, 4, 5]);
        });
        // Outside a runtime, collecting panics like spawn does.
        let err = catch(|| (0..1).map(|_| async {}).collect::<JoinSet<()>>()).unwrap_err();
        assert!(err.contains("outside a runtime"), "{err}");
    });
}

/// `task::id()` inside a task is its handle's id, in every way a task is
/// polled (a drive's run, `turn`, debug mode) and in its `spawn_blocking`
/// closure; `try_id()` is `None` in the `block_on` future and outside a
/// runtime.
#[test]
fn task_id_is_the_polled_task_s_own() {
    watchdog(LIMIT, || {
        assert_eq!(eddy::task::try_id(), None, "no runtime");
        for debug in [false, true] {
            let rt = eddy::Builder::new().debug(debug).build().unwrap();
            rt.block_on(async {
                assert_eq!(eddy::task::try_id(), None, "the block_on future is no task");
                let a = eddy::spawn(async {
                    yield_now().await; // the id holds on a later poll too
                    eddy::task::id()
                });
                let b = eddy::spawn(async { eddy::task::try_id() });
                let (a_id, b_id) = (a.id(), b.id());
                assert_ne!(a_id, b_id);
                assert_eq!(a.await.unwrap(), a_id);
                assert_eq!(b.await.unwrap(), Some(b_id));
                let blocking = spawn_blocking(eddy::task::try_id);
                let blocking_id = blocking.id();
                assert_eq!(blocking.await.unwrap(), Some(blocking_id));
                assert_eq!(eddy::task::try_id(), None);
            });
            // Polled by a host's `turn`.
            let task = rt.spawn(async { eddy::task::id() });
            let id = task.id();
            while !task.is_finished() {
                rt.turn(Some(Duration::from_secs(1)));
            }
            assert_eq!(rt.block_on(task).unwrap(), id);
        }
    });
}

#[test]
fn task_id_outside_a_task_panics_saying_so() {
    watchdog(LIMIT, || {
        let panic =
            std::panic::catch_unwind(|| eddy::block_on(async { eddy::task::id() })).unwrap_err();
        let message = (panic.downcast_ref::<String>().cloned())
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        assert!(message.contains("outside a task"), "{message}");
    });
}

/// The "Tasks" section of API.md, as it writes the signatures: this test
/// only has to compile.
#[test]
fn signatures_as_api_md_writes_them() {
    use std::any::Any;
    let _ = |h: JoinHandle<u8>| fut::<Result<u8, JoinError>, _>(h);
    fn unpin<T: Unpin>() {}
    unpin::<JoinHandle<Rc<u8>>>();
    let _ = |h: &JoinHandle<u8>| -> AbortHandle {
        h.abort();
        let _: bool = h.is_finished();
        h.abort_handle()
    };
    let _ = |a: &AbortHandle| -> bool {
        a.abort();
        a.is_finished()
    };
    let _: fn(&JoinError) -> bool = JoinError::is_cancelled;
    let _: fn(&JoinError) -> bool = JoinError::is_panic;
    let _: fn(JoinError) -> Box<dyn Any + Send> = JoinError::into_panic;
    let _: fn(JoinError) -> Result<Box<dyn Any + Send>, JoinError> = JoinError::try_into_panic;
    fn error<E: std::error::Error + std::fmt::Display + std::fmt::Debug + Send + Sync>() {}
    error::<JoinError>();
    let _: fn() -> JoinSet<u8> = JoinSet::new;
    let _ = |s: &mut JoinSet<Rc<u8>>| -> AbortHandle { s.spawn(async { Rc::new(1u8) }) };
    let _ = |s: &mut JoinSet<u8>| fut::<Option<Result<u8, JoinError>>, _>(s.join_next());
    let _ = |s: &JoinSet<u8>| -> (usize, bool) { (s.len(), s.is_empty()) };
    let _ = |s: &mut JoinSet<u8>| s.abort_all();
    let _ = |s: &mut JoinSet<u8>| fut::<(), _>(s.shutdown());
    let _ = || fut::<(), _>(yield_now());
    let _: fn(fn() -> u8) -> JoinHandle<u8> = spawn_blocking;
    // The same names at the crate root.
    let _: fn(std::future::Ready<u8>) -> eddy::JoinHandle<u8> = eddy::spawn;
    let _: fn(std::future::Ready<u8>) -> eddy::task::JoinHandle<u8> = eddy::task::spawn;
    let _ = |e: eddy::task::JoinError| -> eddy::JoinError { e };
}

/// The destructors of a task's future and of its output see the task's id,
/// wherever they run: an abort, completion with nobody to take the output,
/// a `JoinHandle` dropped after completion, the runtime's drop.
#[test]
fn task_id_is_known_in_the_task_s_destructors() {
    struct Reports(Rc<RefCell<Vec<Option<eddy::task::TaskId>>>>);
    impl Drop for Reports {
        fn drop(&mut self) {
            self.0.borrow_mut().push(eddy::task::try_id());
        }
    }
    watchdog(LIMIT, || {
        let seen = Rc::new(RefCell::new(Vec::new()));
        let rt = Runtime::new().unwrap();
        let (aborted, unjoined, dropped_late, at_shutdown) = rt.block_on(async {
            // Aborted while waiting: the future's destructor.
            let r = Reports(seen.clone());
            let aborted = eddy::spawn(async move {
                let _r = r;
                std::future::pending::<()>().await
            });
            yield_now().await;
            aborted.abort();
            let aborted_id = aborted.id();
            assert!(aborted.await.unwrap_err().is_cancelled());
            // Its handle dropped first: the output is dropped at completion.
            let r = Reports(seen.clone());
            let unjoined = eddy::spawn(async move { r });
            let unjoined_id = unjoined.id();
            drop(unjoined);
            yield_now().await;
            // Finished, then its handle dropped here, in the block_on future.
            let r = Reports(seen.clone());
            let late = eddy::spawn(async move { r });
            let late_id = late.id();
            while !late.is_finished() {
                yield_now().await;
            }
            drop(late);
            // Left pending for the runtime's drop.
            let r = Reports(seen.clone());
            let left = eddy::spawn(async move {
                let _r = r;
                std::future::pending::<()>().await
            });
            (aborted_id, unjoined_id, late_id, left.id())
        });
        drop(rt);
        let expected = [aborted, unjoined, dropped_late, at_shutdown].map(Some);
        assert_eq!(*seen.borrow(), expected);
        assert_eq!(eddy::task::try_id(), None, "nothing left set");
    });
}
