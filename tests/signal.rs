//! Signals (API.md: "Signals"): `ctrl_c`, `signal::unix::signal`,
//! `Signal::recv` / `poll_recv`, `SignalKind`.
//!
//! Every test that raises a signal, or that installs eddy's handler for
//! `SIGINT`, runs in a child process of its own (`isolated`): a handler
//! is process-wide and never removed, and listeners of other tests in the
//! same process would see the extra deliveries. Where "nothing arrives" is
//! the point, the test waits a short while on eddy's timer and checks.

mod common;

use std::future::poll_fn;
use std::io::ErrorKind;
use std::sync::mpsc;
use std::task::Poll;
use std::thread;
use std::time::Duration;

use common::*;
use eddy::Runtime;
use eddy::signal::ctrl_c;
use eddy::signal::unix::{Signal, SignalKind, signal};
use eddy::time::timeout;
use futures::StreamExt;

const CHILD_ENV: &str = "EDDY_SIGNAL_TEST_CHILD";

/// Runs `body` in a fresh process that runs only the test `name`.
fn isolated(name: &str, body: impl FnOnce() + Send + 'static) {
    in_child_process(CHILD_ENV, name, LIMIT, body);
}

/// Sends `sig` to the calling thread: the handler has run when this returns.
fn raise(sig: i32) {
    // SAFETY: raise(3) only sends a signal to this thread; the tests that
    // call it have installed eddy's handler for `sig` first.
    assert_eq!(unsafe { libc::raise(sig) }, 0);
}

/// Sends `sig` to the process: any thread may run the handler, later.
fn kill_self(sig: i32) {
    // SAFETY: kill(2) on our own pid with a signal eddy handles.
    assert_eq!(unsafe { libc::kill(libc::getpid(), sig) }, 0);
}

/// True if `recv` gives nothing within `wait`.
async fn quiet(sig: &mut Signal, wait: Duration) -> bool {
    timeout(wait, sig.recv()).await.is_err()
}

/// The disposition of `sig`: `SIG_DFL`, `SIG_IGN`, or a handler's address.
fn disposition(sig: i32) -> libc::sighandler_t {
    // SAFETY: sigaction with a null new action only reads the current one
    // into `old`, a zeroed (valid) struct.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        assert_eq!(libc::sigaction(sig, std::ptr::null(), &mut old), 0);
        old.sa_sigaction
    }
}

#[test]
fn signal_kind_numbers() {
    let kinds = [
        (SignalKind::interrupt(), libc::SIGINT),
        (SignalKind::terminate(), libc::SIGTERM),
        (SignalKind::hangup(), libc::SIGHUP),
        (SignalKind::quit(), libc::SIGQUIT),
        (SignalKind::user_defined1(), libc::SIGUSR1),
        (SignalKind::user_defined2(), libc::SIGUSR2),
        (SignalKind::child(), libc::SIGCHLD),
        (SignalKind::window_change(), libc::SIGWINCH),
        (SignalKind::alarm(), libc::SIGALRM),
        (SignalKind::pipe(), libc::SIGPIPE),
        (SignalKind::io(), libc::SIGIO),
    ];
    for (kind, raw) in kinds {
        assert_eq!(kind.as_raw_value(), raw);
        assert_eq!(SignalKind::from_raw(raw), kind);
        assert_eq!(SignalKind::from(raw), kind);
        assert_eq!(i32::from(kind), raw);
    }
    assert_eq!(
        format!("{:?}", SignalKind::terminate()),
        "SignalKind(SIGTERM)"
    );
    assert_eq!(format!("{:?}", SignalKind::from_raw(40)), "SignalKind(40)");
}

#[test]
fn forbidden_and_invalid_signals_are_errors() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            for sig in [
                libc::SIGKILL,
                libc::SIGSTOP,
                libc::SIGSEGV,
                libc::SIGBUS,
                libc::SIGILL,
                libc::SIGFPE,
            ] {
                let before = disposition(sig);
                let err = signal(SignalKind::from_raw(sig)).unwrap_err();
                assert_eq!(err.kind(), ErrorKind::InvalidInput, "{sig}: {err}");
                assert!(err.to_string().starts_with("eddy: refusing"), "{err}");
                // Nothing was installed (std keeps a SIGSEGV handler of its own).
                assert_eq!(disposition(sig), before, "{sig}");
            }
            for sig in [0, -1, 65, 1000, i32::MIN, i32::MAX] {
                let err = signal(SignalKind::from_raw(sig)).unwrap_err();
                assert_eq!(err.kind(), ErrorKind::InvalidInput, "{sig}: {err}");
            }
        });
    });
}

#[test]
fn a_program_that_never_asks_has_no_handler() {
    isolated("a_program_that_never_asks_has_no_handler", || {
        let fds = open_fds().len();
        eddy::block_on(async {
            eddy::spawn(async {}).await.unwrap();
            eddy::time::sleep(Duration::from_millis(1)).await;
        });
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGCHLD, libc::SIGUSR1] {
            assert_eq!(disposition(sig), libc::SIG_DFL, "{sig}");
        }
        assert_eq!(open_fds().len(), fds, "{:?}", open_fds());
        // The first listener installs the handler, and its pipe.
        eddy::block_on(async {
            let _usr1 = signal(SignalKind::user_defined1()).unwrap();
            assert_ne!(disposition(libc::SIGUSR1), libc::SIG_DFL);
            assert_eq!(disposition(libc::SIGUSR2), libc::SIG_DFL);
        });
    });
}

#[test]
fn recv_sees_a_raised_signal() {
    isolated("recv_sees_a_raised_signal", || {
        eddy::block_on(async {
            let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
            assert_eq!(usr1.kind(), SignalKind::user_defined1());
            assert!(quiet(&mut usr1, Duration::from_millis(20)).await);
            raise(libc::SIGUSR1);
            assert_eq!(usr1.recv().await, Some(()));
            // Once: nothing more came.
            assert!(quiet(&mut usr1, Duration::from_millis(20)).await);
        });
    });
}

#[test]
fn poll_recv_and_stream() {
    isolated("poll_recv_and_stream", || {
        eddy::block_on(async {
            let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
            let mut polls = 0;
            let got = poll_fn(|cx| {
                polls += 1;
                if polls == 1 {
                    // Pending first; the raise below makes the pipe readable.
                    let first = usr2.poll_recv(cx);
                    assert_eq!(first, Poll::Pending);
                    raise(libc::SIGUSR2);
                    return Poll::Pending;
                }
                usr2.poll_recv(cx)
            })
            .await;
            assert_eq!(got, Some(()));
            raise(libc::SIGUSR2);
            assert_eq!(usr2.next().await, Some(()));
        });
    });
}

#[test]
fn a_delivery_from_another_thread_wakes_a_parked_loop() {
    isolated("a_delivery_from_another_thread_wakes_a_parked_loop", || {
        eddy::block_on(async {
            let mut term = signal(SignalKind::terminate()).unwrap();
            let (tx, rx) = mpsc::channel::<()>();
            let sender = thread::spawn(move || {
                rx.recv().unwrap();
                kill_self(libc::SIGTERM);
            });
            // Poll once (the loop will park), then let the thread send.
            let mut told = Some(tx);
            let got = poll_fn(|cx| {
                let r = term.poll_recv(cx);
                if let Some(tx) = told.take() {
                    tx.send(()).unwrap();
                }
                r
            })
            .await;
            assert_eq!(got, Some(()));
            sender.join().unwrap();
        });
    });
}

#[test]
fn deliveries_before_recv_coalesce() {
    isolated("deliveries_before_recv_coalesce", || {
        eddy::block_on(async {
            let mut hup = signal(SignalKind::hangup()).unwrap();
            raise(libc::SIGHUP);
            raise(libc::SIGHUP);
            raise(libc::SIGHUP);
            assert_eq!(hup.recv().await, Some(()));
            assert!(quiet(&mut hup, Duration::from_millis(20)).await);
            raise(libc::SIGHUP);
            assert_eq!(hup.recv().await, Some(()));
        });
    });
}

#[test]
fn every_listener_sees_every_delivery() {
    isolated("every_listener_sees_every_delivery", || {
        eddy::block_on(async {
            let mut a = signal(SignalKind::user_defined1()).unwrap();
            let mut b = signal(SignalKind::user_defined1()).unwrap();
            let mut c = signal(SignalKind::user_defined1()).unwrap();
            let waiter = eddy::spawn(async move { c.recv().await });
            eddy::task::yield_now().await; // the task waits now
            raise(libc::SIGUSR1);
            assert_eq!(a.recv().await, Some(()));
            assert_eq!(b.recv().await, Some(()));
            assert_eq!(waiter.await.unwrap(), Some(()));
            // A second delivery reaches both again.
            kill_self(libc::SIGUSR1);
            assert_eq!(a.recv().await, Some(()));
            assert_eq!(b.recv().await, Some(()));
        });
    });
}

#[test]
fn a_listener_made_later_misses_what_was_taken_in_before() {
    isolated(
        "a_listener_made_later_misses_what_was_taken_in_before",
        || {
            eddy::block_on(async {
                let mut first = signal(SignalKind::user_defined2()).unwrap();
                raise(libc::SIGUSR2);
                assert_eq!(first.recv().await, Some(()));
                let mut late = signal(SignalKind::user_defined2()).unwrap();
                assert!(quiet(&mut late, Duration::from_millis(30)).await);
                raise(libc::SIGUSR2);
                assert_eq!(late.recv().await, Some(()));
                assert_eq!(first.recv().await, Some(()));
            });
        },
    );
}

#[test]
fn listeners_on_two_runtimes_on_two_threads_each_see_a_delivery() {
    isolated(
        "listeners_on_two_runtimes_on_two_threads_each_see_a_delivery",
        || {
            let (ready_tx, ready_rx) = mpsc::channel();
            let (done_tx, done_rx) = mpsc::channel();
            let threads: Vec<_> = (0..2)
                .map(|i| {
                    let (ready_tx, done_tx) = (ready_tx.clone(), done_tx.clone());
                    thread::spawn(move || {
                        let rt = Runtime::new().unwrap();
                        rt.block_on(async {
                            let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
                            ready_tx.send(()).unwrap();
                            // Both runtimes wait in their pollers.
                            let got = usr1.recv().await;
                            done_tx.send((i, got)).unwrap();
                        });
                    })
                })
                .collect();
            ready_rx.recv().unwrap();
            ready_rx.recv().unwrap();
            // From this thread (no runtime here): any thread may take it.
            kill_self(libc::SIGUSR1);
            let mut seen = [false; 2];
            for _ in 0..2 {
                let (i, got) = done_rx.recv().unwrap();
                assert_eq!(got, Some(()));
                seen[i] = true;
            }
            assert_eq!(seen, [true, true]);
            for t in threads {
                t.join().unwrap();
            }
        },
    );
}

#[test]
fn many_rounds_across_two_runtimes_lose_no_wake() {
    isolated("many_rounds_across_two_runtimes_lose_no_wake", || {
        // Each round: both threads wait, the main thread sends one signal,
        // both must see it. A drain by one runtime must not hide the byte
        // from the other.
        let rounds = if under_valgrind() { 20 } else { 300 };
        let (ready_tx, ready_rx) = mpsc::channel();
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let ready_tx = ready_tx.clone();
                thread::spawn(move || {
                    eddy::block_on(async {
                        let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
                        for _ in 0..rounds {
                            ready_tx.send(()).unwrap();
                            assert_eq!(usr2.recv().await, Some(()));
                        }
                    });
                })
            })
            .collect();
        for _ in 0..rounds {
            ready_rx.recv().unwrap();
            ready_rx.recv().unwrap();
            kill_self(libc::SIGUSR2);
        }
        for t in threads {
            t.join().unwrap();
        }
    });
}

#[test]
fn recv_is_cancel_safe() {
    isolated("recv_is_cancel_safe", || {
        eddy::block_on(async {
            let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
            assert!(
                timeout(Duration::from_millis(10), usr1.recv())
                    .await
                    .is_err()
            );
            raise(libc::SIGUSR1);
            assert_eq!(usr1.recv().await, Some(()));
        });
    });
}

#[test]
fn recv_gives_none_once_the_runtime_is_gone() {
    isolated("recv_gives_none_once_the_runtime_is_gone", || {
        let rt = Runtime::new().unwrap();
        let mut usr1 = rt.block_on(async { signal(SignalKind::user_defined1()).unwrap() });
        drop(rt);
        let other = Runtime::new().unwrap();
        assert_eq!(other.block_on(usr1.recv()), None);
        // A delivery that already happened still counts, though.
        raise(libc::SIGUSR1);
        assert_eq!(other.block_on(usr1.recv()), Some(()));
    });
}

#[test]
fn a_listener_made_outside_a_runtime_registers_at_its_first_poll() {
    isolated(
        "a_listener_made_outside_a_runtime_registers_at_its_first_poll",
        || {
            let mut hup = signal(SignalKind::hangup()).unwrap();
            // Raised before any runtime exists: counted, not lost.
            raise(libc::SIGHUP);
            eddy::block_on(async {
                assert_eq!(hup.recv().await, Some(()));
                assert!(quiet(&mut hup, Duration::from_millis(20)).await);
                raise(libc::SIGHUP);
                assert_eq!(hup.recv().await, Some(()));
            });
        },
    );
}

#[test]
fn ctrl_c_completes_at_the_next_sigint() {
    isolated("ctrl_c_completes_at_the_next_sigint", || {
        eddy::block_on(async {
            let waiter = eddy::spawn(ctrl_c());
            eddy::task::yield_now().await;
            assert!(!waiter.is_finished());
            raise(libc::SIGINT);
            waiter.await.unwrap().unwrap();
        });
    });
}

#[test]
fn ctrl_c_registers_when_called_not_when_polled() {
    isolated("ctrl_c_registers_when_called_not_when_polled", || {
        eddy::block_on(async {
            let ctrl_c = ctrl_c();
            // Between the call and the first poll: not lost, and not fatal.
            raise(libc::SIGINT);
            timeout(Duration::from_secs(5), ctrl_c)
                .await
                .expect("the SIGINT raised before the first poll was lost")
                .unwrap();
        });
        // Called outside a runtime, polled inside one.
        let ctrl_c = ctrl_c();
        raise(libc::SIGINT);
        eddy::block_on(ctrl_c).unwrap();
    });
}

#[test]
fn after_the_first_registration_sigint_no_longer_ends_the_process() {
    isolated(
        "after_the_first_registration_sigint_no_longer_ends_the_process",
        || {
            eddy::block_on(async {
                drop(ctrl_c());
            });
            // No listener at all now; the process lives on.
            raise(libc::SIGINT);
            kill_self(libc::SIGINT);
            assert_ne!(disposition(libc::SIGINT), libc::SIG_DFL);
        },
    );
}

#[test]
fn ctrl_c_reports_a_dropped_runtime() {
    isolated("ctrl_c_reports_a_dropped_runtime", || {
        let rt = Runtime::new().unwrap();
        // Made inside `rt` (the call registers there).
        let mut fut = rt.block_on(async { Some(Box::pin(ctrl_c())) }).unwrap();
        // Polled once inside, so it is registered with `rt`.
        rt.block_on(async {
            assert!(timeout(Duration::from_millis(5), &mut fut).await.is_err());
        });
        drop(rt);
        let err = eddy::block_on(fut).unwrap_err();
        assert!(err.to_string().contains("dropped"), "{err}");
    });
}

#[test]
fn listeners_do_not_leak_descriptors() {
    isolated("listeners_do_not_leak_descriptors", || {
        eddy::block_on(async {
            // The process-wide pair is made by the first listener.
            drop(signal(SignalKind::user_defined1()).unwrap());
            let before = open_fds().len();
            for _ in 0..100 {
                let mut s = signal(SignalKind::user_defined1()).unwrap();
                assert!(timeout(Duration::ZERO, s.recv()).await.is_err());
            }
            assert_eq!(open_fds().len(), before);
        });
    });
}

/// Every name of API.md's "Signals" with the exact argument, return and
/// trait types it writes: it compiles only if they hold, and runs nothing.
#[test]
#[allow(
    unused_must_use,
    clippy::let_underscore_future,
    clippy::redundant_closure
)]
fn signatures_as_api_md_writes_them() {
    use std::io;
    let _: fn() -> _ = eddy::signal::ctrl_c;
    use eddy::signal::unix::{Signal, SignalKind, signal};
    let _: fn(SignalKind) -> io::Result<Signal> = signal;
    let _: fn(i32) -> SignalKind = SignalKind::from_raw;
    let k = SignalKind::interrupt();
    let _: i32 = k.as_raw_value();
    for _k in [
        SignalKind::terminate(),
        SignalKind::hangup(),
        SignalKind::quit(),
        SignalKind::user_defined1(),
        SignalKind::user_defined2(),
        SignalKind::child(),
        SignalKind::window_change(),
    ] {}
    let _ = |s: &mut Signal, cx: &mut std::task::Context<'_>| -> std::task::Poll<Option<()>> {
        s.poll_recv(cx)
    };
    let _ = |s: &mut Signal| fut::<Option<()>, _>(s.recv());
}
