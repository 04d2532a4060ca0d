//! Integration tests for the sync primitives: `oneshot`, `mpsc`, `Notify`,
//! `Semaphore`, `Mutex` (API.md, "Sync").
//!
//! Ordering is controlled with `yield_now` (every other ready task runs
//! first), by awaiting handles, and by polling futures by hand with wakers the
//! test owns; nothing sleeps.
//!
//! That the primitives are `!Send` is checked with method resolution (see
//! `is_send!`), which needs no compile-fail harness.

mod common;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use common::*;
use eddy::sync::mpsc::{self, SendError, TryRecvError, TrySendError};
use eddy::sync::{Mutex, Notify, Semaphore, TryAcquireError, oneshot};
use eddy::task::yield_now;
use futures::{FutureExt, StreamExt};
use futures_core::Stream;

// ---------------------------------------------------------------------------
// oneshot
// ---------------------------------------------------------------------------

#[test]
fn the_primitives_are_not_send() {
    // The probe itself works: these two are Send.
    assert!(is_send!(u32));
    assert!(is_send!(eddy::Handle));
    assert!(!is_send!(oneshot::Sender<u32>));
    assert!(!is_send!(oneshot::Receiver<u32>));
    assert!(!is_send!(mpsc::Sender<u32>));
    assert!(!is_send!(mpsc::Receiver<u32>));
    assert!(!is_send!(Notify));
    assert!(!is_send!(Semaphore));
    assert!(!is_send!(Mutex<u32>));
    assert!(!is_send!(eddy::sync::MutexGuard<'static, u32>));
    assert!(!is_send!(eddy::sync::Permit<'static>));
    assert!(!is_send!(eddy::sync::OwnedPermit));
}

#[test]
fn oneshot_send_then_receive() {
    fn assert_recv_future<T, F: Future<Output = Result<T, oneshot::RecvError>>>(f: F) -> F {
        f
    }
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (tx, rx): (oneshot::Sender<String>, oneshot::Receiver<String>) = oneshot::channel();
            let rx = assert_recv_future(rx);
            let sent: Result<(), String> = tx.send("hello".to_string());
            assert_eq!(sent, Ok(()));
            assert_eq!(rx.await, Ok("hello".to_string()));

            // Across tasks, with a non-Send value.
            let (tx, rx) = oneshot::channel::<Rc<u32>>();
            eddy::spawn(async move { tx.send(Rc::new(7)).unwrap() });
            assert_eq!(*rx.await.unwrap(), 7);
        });
    });
}

#[test]
fn oneshot_send_gives_the_value_back_when_the_receiver_is_gone() {
    watchdog(LIMIT, || {
        let (tx, rx) = oneshot::channel::<String>();
        assert!(!tx.is_closed());
        drop(rx);
        assert!(tx.is_closed());
        assert_eq!(tx.send("back".to_string()), Err("back".to_string()));

        // The value given back is the very value sent (not a copy, not dropped).
        let dropped = Rc::new(Cell::new(0));
        let (tx, rx) = oneshot::channel::<CountOnDrop>();
        drop(rx);
        let back = tx.send(CountOnDrop(dropped.clone())).err().unwrap();
        assert_eq!(dropped.get(), 0);
        drop(back);
        assert_eq!(dropped.get(), 1);
    });
}

#[test]
fn oneshot_dropped_sender_gives_recv_error() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            // Dropped before the receiver looks.
            let (tx, rx) = oneshot::channel::<u32>();
            drop(tx);
            assert_eq!(rx.await, Err(oneshot::RecvError));

            // Dropped while the receiver waits: it is woken with the error.
            let (tx, rx) = oneshot::channel::<u32>();
            let waiter = eddy::spawn(rx);
            yield_now().await;
            assert!(!waiter.is_finished());
            drop(tx);
            assert_eq!(waiter.await.unwrap(), Err(oneshot::RecvError));
        });
    });
}

#[test]
fn oneshot_receiver_waiting_before_the_send_is_woken() {
    watchdog(LIMIT, || {
        // By hand: the stored waker is woken exactly once by the send.
        let (tx, mut rx) = oneshot::channel::<u32>();
        let (count, waker) = counting_waker();
        assert!(poll_with(&mut rx, &waker).is_pending());
        assert!(poll_with(&mut rx, &waker).is_pending());
        assert_eq!(count.count(), 0);
        tx.send(5).unwrap();
        assert_eq!(count.count(), 1);
        assert_eq!(poll_with(&mut rx, &waker), Poll::Ready(Ok(5)));

        // With tasks.
        eddy::block_on(async {
            let (tx, rx) = oneshot::channel::<&'static str>();
            let waiter = eddy::spawn(rx);
            yields(3).await;
            assert!(!waiter.is_finished());
            tx.send("late").unwrap();
            assert_eq!(waiter.await.unwrap(), Ok("late"));
        });
    });
}

#[test]
fn oneshot_try_recv() {
    watchdog(LIMIT, || {
        let (tx, mut rx) = oneshot::channel::<u32>();
        assert_eq!(rx.try_recv(), Err(oneshot::TryRecvError::Empty));
        tx.send(3).unwrap();
        assert_eq!(rx.try_recv(), Ok(3));
        // Taken: nothing more will come.
        assert_eq!(rx.try_recv(), Err(oneshot::TryRecvError::Closed));

        let (tx, mut rx) = oneshot::channel::<u32>();
        drop(tx);
        assert_eq!(rx.try_recv(), Err(oneshot::TryRecvError::Closed));
        assert_error(&oneshot::TryRecvError::Empty);
        assert_error(&oneshot::TryRecvError::Closed);
    });
}

#[test]
fn oneshot_close_refuses_later_sends_and_keeps_a_sent_value() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            // close() before the send: the send gives the value back.
            let (tx, mut rx) = oneshot::channel::<u32>();
            rx.close();
            assert!(tx.is_closed());
            assert_eq!(tx.send(1), Err(1));
            assert_eq!(rx.try_recv(), Err(oneshot::TryRecvError::Closed));
            assert_eq!(rx.await, Err(oneshot::RecvError));

            // A value sent before close() can still be taken.
            let (tx, mut rx) = oneshot::channel::<u32>();
            tx.send(2).unwrap();
            rx.close();
            assert_eq!(rx.try_recv(), Ok(2));

            // close() wakes a sender waiting in closed().
            let (mut tx, mut rx) = oneshot::channel::<u32>();
            let watcher = eddy::spawn(async move {
                tx.closed().await;
                tx.is_closed()
            });
            yields(2).await;
            assert!(!watcher.is_finished());
            rx.close();
            assert!(watcher.await.unwrap());
        });
    });
}

#[test]
fn oneshot_receiver_waiting_after_close_is_woken_when_the_send_fails() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (tx, mut rx) = oneshot::channel::<u32>();
            rx.close();
            let waiter = eddy::spawn(rx);
            yield_now().await;
            // The send fails and consumes the sender: it is gone without
            // having sent, so the waiting receiver must resolve to RecvError.
            assert_eq!(tx.send(9), Err(9));
            yields(3).await;
            assert!(
                waiter.is_finished(),
                "a receiver awaited after close() was never woken when the sender \
                 went away through a failed send (lost wake-up)"
            );
            assert_eq!(waiter.await.unwrap(), Err(oneshot::RecvError));
        });
    });
}

#[test]
fn oneshot_sender_closed_completes_when_the_receiver_is_dropped() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (mut tx, rx) = oneshot::channel::<u32>();
            let stopped = Rc::new(Cell::new(false));
            let s = stopped.clone();
            let producer = eddy::spawn(async move {
                tx.closed().await;
                s.set(true);
                tx.send(1)
            });
            yields(3).await;
            assert!(!stopped.get());
            drop(rx);
            assert_eq!(producer.await.unwrap(), Err(1));
            assert!(stopped.get());

            // Already closed: completes at once.
            let (mut tx, rx) = oneshot::channel::<u32>();
            drop(rx);
            assert_eq!(tx.closed().now_or_never(), Some(()));
        });
    });
}

#[test]
fn oneshot_recv_error_is_an_error() {
    watchdog(LIMIT, || {
        fn is_error<E: std::error::Error + std::fmt::Display + std::fmt::Debug>(_: &E) {}
        let e = oneshot::RecvError;
        is_error(&e);
        assert_error(&e);
        assert!(format!("{e:?}").contains("RecvError"));
        let boxed: Box<dyn std::error::Error> = Box::new(e);
        assert_eq!(boxed.to_string(), e.to_string());
    });
}

#[test]
fn oneshot_close_while_the_sender_lives_ends_the_receiver_at_once() {
    watchdog(LIMIT, || {
        // Regression: awaiting a closed receiver used to wait until the
        // sender went away (tokio's `explicit_close_poll`).
        let (tx, mut rx) = oneshot::channel::<u32>();
        let (count, waker) = counting_waker();
        assert!(poll_with(&mut rx, &waker).is_pending());
        rx.close();
        assert_eq!(
            poll_with(&mut rx, &waker),
            Poll::Ready(Err(oneshot::RecvError))
        );
        assert_eq!(rx.try_recv(), Err(oneshot::TryRecvError::Closed));
        assert!(tx.is_closed());
        assert_eq!(tx.send(1), Err(1));
        assert_eq!(count.count(), 0);

        eddy::block_on(async {
            // Closed before the first poll, the sender still alive.
            let (tx, mut rx) = oneshot::channel::<u32>();
            rx.close();
            assert_eq!((&mut rx).await, Err(oneshot::RecvError));
            drop(tx);

            // A value sent before close() is still received, by await too.
            let (tx, mut rx) = oneshot::channel::<u32>();
            tx.send(7).unwrap();
            rx.close();
            assert_eq!(rx.await, Ok(7));
        });
    });
}

#[test]
fn oneshot_receiver_is_terminated_once_it_gave_its_outcome() {
    fn fused<F: futures::future::FusedFuture>(f: &F) -> bool {
        f.is_terminated()
    }
    watchdog(LIMIT, || {
        // tokio's examples: a value, and a dropped sender.
        let (tx, mut rx) = oneshot::channel::<u32>();
        let (count, waker) = counting_waker();
        assert!(!rx.is_terminated());
        assert!(poll_with(&mut rx, &waker).is_pending());
        assert!(!rx.is_terminated());
        tx.send(0).unwrap();
        assert!(!rx.is_terminated(), "sent is not received");
        assert_eq!(poll_with(&mut rx, &waker), Poll::Ready(Ok(0)));
        assert!(rx.is_terminated() && fused(&rx));
        // Polled again: an error (tokio panics), and no waker is kept.
        assert_eq!(
            poll_with(&mut rx, &waker),
            Poll::Ready(Err(oneshot::RecvError))
        );
        drop(waker);
        assert!(released(&count));

        let (tx, mut rx) = oneshot::channel::<u32>();
        drop(tx);
        assert!(!rx.is_terminated(), "not before it is polled");
        assert_eq!(
            poll_with(&mut rx, futures::task::noop_waker_ref()),
            Poll::Ready(Err(oneshot::RecvError))
        );
        assert!(rx.is_terminated());

        // try_recv: Empty leaves it live; the value, or Closed, ends it.
        let (tx, mut rx) = oneshot::channel::<u32>();
        assert_eq!(rx.try_recv(), Err(oneshot::TryRecvError::Empty));
        assert!(!rx.is_terminated());
        tx.send(1).unwrap();
        assert_eq!(rx.try_recv(), Ok(1));
        assert!(rx.is_terminated());
        let (tx, mut rx) = oneshot::channel::<u32>();
        drop(tx);
        assert_eq!(rx.try_recv(), Err(oneshot::TryRecvError::Closed));
        assert!(rx.is_terminated());

        // select! takes it without .fuse(), and skips it once done.
        eddy::block_on(async {
            let (tx, mut rx) = oneshot::channel::<u32>();
            let (_tx2, mut never) = oneshot::channel::<u32>();
            tx.send(5).unwrap();
            let mut got = Vec::new();
            for _ in 0..2 {
                futures::select! {
                    v = rx => got.push(v.unwrap()),
                    _ = never => unreachable!(),
                    default => got.push(0),
                }
            }
            assert_eq!(got, vec![5, 0]);
            assert!(rx.is_terminated() && !never.is_terminated());
        });
    });
}

#[test]
fn oneshot_receiver_is_empty_until_a_value_waits() {
    watchdog(LIMIT, || {
        let (tx, mut rx) = oneshot::channel::<u32>();
        assert!(rx.is_empty());
        tx.send(0).unwrap();
        assert!(!rx.is_empty());
        rx.close();
        assert!(!rx.is_empty(), "a value sent before close still waits");
        assert_eq!(
            poll_with(&mut rx, futures::task::noop_waker_ref()),
            Poll::Ready(Ok(0))
        );
        assert!(rx.is_empty());

        // The sender dropped: empty, though polling gives an error.
        let (tx, mut rx) = oneshot::channel::<u32>();
        drop(tx);
        assert!(rx.is_empty());
        assert!(rx.try_recv().is_err());
        assert!(rx.is_empty());

        // Closed before a value: empty.
        let (tx, mut rx) = oneshot::channel::<u32>();
        rx.close();
        assert!(tx.send(1).is_err());
        assert!(rx.is_empty());
    });
}

#[test]
fn oneshot_sender_poll_closed_and_is_closed_follow_tokio() {
    watchdog(LIMIT, || {
        let (mut tx, mut rx) = oneshot::channel::<u32>();
        let (old_count, old) = counting_waker();
        let (new_count, new) = counting_waker();
        assert!(!tx.is_closed());
        assert!(tx.poll_closed(&mut Context::from_waker(&old)).is_pending());
        assert!(tx.poll_closed(&mut Context::from_waker(&new)).is_pending());
        // close() counts as closed, as dropping does; only the latest
        // waker is woken.
        rx.close();
        assert_eq!((old_count.count(), new_count.count()), (0, 1));
        assert!(tx.is_closed());
        assert_eq!(
            tx.poll_closed(&mut Context::from_waker(&new)),
            Poll::Ready(())
        );
        assert_eq!(tx.closed().now_or_never(), Some(()));
        // A send after the close fails; the receiver ends with Closed.
        assert_eq!(tx.send(3), Err(3));
        assert_eq!(rx.try_recv(), Err(oneshot::TryRecvError::Closed));
    });
}

// ---------------------------------------------------------------------------
// mpsc
// ---------------------------------------------------------------------------

#[test]
fn mpsc_bounded_send_and_recv_in_order() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (tx, mut rx) = mpsc::channel::<u32>(4);
            let producer = eddy::spawn(async move {
                for i in 0..100 {
                    let r: Result<(), SendError<u32>> = tx.send(i).await;
                    r.unwrap();
                }
            });
            let mut got = Vec::new();
            while let Some(v) = rx.recv().await {
                got.push(v);
            }
            producer.await.unwrap();
            assert_eq!(got, (0..100).collect::<Vec<_>>());
        });
    });
}

#[test]
fn mpsc_bounded_send_waits_for_room() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (tx, mut rx) = mpsc::channel::<u32>(2);
            let sent = Rc::new(Cell::new(0));
            let s = sent.clone();
            let producer = eddy::spawn(async move {
                for i in 0..5 {
                    tx.send(i).await.unwrap();
                    s.set(s.get() + 1);
                }
            });
            yields(3).await;
            // Two fit; the third send waits.
            assert_eq!(sent.get(), 2);
            assert_eq!(rx.len(), 2);
            assert!(!producer.is_finished());
            yields(3).await;
            assert_eq!(
                sent.get(),
                2,
                "the third send must wait while the channel is full"
            );

            // Taking one lets exactly one more through.
            assert_eq!(rx.recv().await, Some(0));
            yields(3).await;
            assert_eq!(sent.get(), 3);
            assert_eq!(rx.len(), 2);

            assert_eq!(rx.try_recv(), Ok(1));
            yields(3).await;
            assert_eq!(sent.get(), 4);

            assert_eq!(rx.recv().await, Some(2));
            yields(3).await;
            assert_eq!(sent.get(), 5);
            producer.await.unwrap();
            assert_eq!(rx.recv().await, Some(3));
            assert_eq!(rx.recv().await, Some(4));
            assert_eq!(rx.recv().await, None);
        });
    });
}

#[test]
fn mpsc_sender_clone_many_producers() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (tx, mut rx) = mpsc::channel::<(u32, u32)>(3);
            let mut producers = Vec::new();
            for p in 0..4 {
                let tx = tx.clone();
                producers.push(eddy::spawn(async move {
                    for i in 0..50 {
                        tx.send((p, i)).await.unwrap();
                        if i % 7 == 0 {
                            yield_now().await;
                        }
                    }
                }));
            }
            drop(tx);
            let mut per_producer = vec![Vec::new(); 4];
            while let Some((p, i)) = rx.recv().await {
                per_producer[p as usize].push(i);
            }
            for p in producers {
                p.await.unwrap();
            }
            // Every value, and each producer's values in its order.
            for got in per_producer {
                assert_eq!(got, (0..50).collect::<Vec<_>>());
            }
        });
    });
}

#[test]
fn mpsc_send_error_gives_the_value_back() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (tx, rx) = mpsc::channel::<String>(2);
            assert!(!tx.is_closed());
            drop(rx);
            assert!(tx.is_closed());
            let err = tx.send("lost".to_string()).await.unwrap_err();
            let SendError(value) = &err;
            assert_eq!(value, "lost");
            assert_error(&err);
            assert_eq!(err.0, "lost");

            // Unbounded too.
            let (tx, rx) = mpsc::unbounded::<String>();
            drop(rx);
            assert_eq!(
                tx.send("x".to_string()).await,
                Err(SendError("x".to_string()))
            );
        });
    });
}

#[test]
fn mpsc_try_send_full_and_closed() {
    watchdog(LIMIT, || {
        let (tx, mut rx) = mpsc::channel::<u32>(2);
        assert!(tx.try_send(1).is_ok());
        assert!(tx.try_send(2).is_ok());
        match tx.try_send(3) {
            Err(TrySendError::Full(v)) => assert_eq!(v, 3),
            other => panic!("expected Full(3), got {other:?}"),
        }
        assert_eq!(rx.try_recv(), Ok(1));
        assert!(tx.try_send(3).is_ok());
        let full = tx.try_send(4).unwrap_err();
        assert_error(&full);
        assert_eq!(full.into_inner(), 4);

        drop(rx);
        match tx.try_send(5) {
            Err(TrySendError::Closed(v)) => assert_eq!(v, 5),
            other => panic!("expected Closed(5), got {other:?}"),
        }
        assert_error(&tx.try_send(6).unwrap_err());
    });
}

#[test]
fn mpsc_try_recv_empty_and_disconnected() {
    watchdog(LIMIT, || {
        let (tx, mut rx) = mpsc::channel::<u32>(2);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        tx.try_send(1).unwrap();
        let tx2 = tx.clone();
        drop(tx);
        assert_eq!(rx.try_recv(), Ok(1));
        // One sender left.
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        tx2.try_send(2).unwrap();
        drop(tx2);
        // Queued values come first, then Disconnected.
        assert_eq!(rx.try_recv(), Ok(2));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
        assert_error(&TryRecvError::Empty);
        assert_error(&TryRecvError::Disconnected);
    });
}

#[test]
fn mpsc_recv_gives_queued_values_then_none_when_every_sender_is_gone() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (tx, mut rx) = mpsc::channel::<u32>(8);
            let tx2 = tx.clone();
            for i in 0..3 {
                tx.try_send(i).unwrap();
            }
            tx2.try_send(3).unwrap();
            drop(tx);
            drop(tx2);
            for i in 0..4 {
                assert_eq!(rx.recv().await, Some(i));
            }
            assert_eq!(rx.recv().await, None);
            assert_eq!(rx.recv().await, None);

            // A receiver already waiting is woken by the last sender's drop.
            let (tx, mut rx) = mpsc::channel::<u32>(1);
            let tx2 = tx.clone();
            let receiver = eddy::spawn(async move {
                let mut got = Vec::new();
                while let Some(v) = rx.recv().await {
                    got.push(v);
                }
                got
            });
            yield_now().await;
            tx.send(10).await.unwrap();
            drop(tx);
            yields(3).await;
            assert!(!receiver.is_finished(), "a sender is still alive");
            drop(tx2);
            assert_eq!(receiver.await.unwrap(), vec![10]);
        });
    });
}

#[test]
fn mpsc_send_gives_the_value_back_when_the_receiver_is_gone_even_while_waiting() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (tx, rx) = mpsc::channel::<String>(1);
            tx.try_send("queued".to_string()).unwrap();
            let tx = Rc::new(tx);
            let mut waiting = Vec::new();
            for i in 0..3 {
                let tx = tx.clone();
                waiting.push(eddy::spawn(async move { tx.send(format!("v{i}")).await }));
            }
            yields(3).await;
            for w in &waiting {
                assert!(!w.is_finished(), "the channel is full: senders wait");
            }
            drop(rx);
            for (i, w) in waiting.into_iter().enumerate() {
                let SendError(v) = w.await.unwrap().unwrap_err();
                assert_eq!(v, format!("v{i}"));
            }
            assert_eq!(
                tx.send("after".to_string()).await,
                Err(SendError("after".to_string()))
            );
        });
    });
}

#[test]
fn mpsc_channel_with_capacity_zero_panics_clearly() {
    watchdog(LIMIT, || {
        let msg = catch(|| mpsc::channel::<u32>(0)).unwrap_err();
        assert!(
            msg.contains("capacity"),
            "the panic message should mention the capacity: {msg:?}"
        );
    });
}

/// `unbounded()` and `channel(cap)` give the very same types.
fn bounded_and_unbounded() -> [(mpsc::Sender<u32>, mpsc::Receiver<u32>); 2] {
    let bounded: (mpsc::Sender<u32>, mpsc::Receiver<u32>) = mpsc::channel(1);
    let unbounded: (mpsc::Sender<u32>, mpsc::Receiver<u32>) = mpsc::unbounded();
    [bounded, unbounded]
}

#[test]
fn mpsc_unbounded_has_the_same_types_and_never_waits() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let [(btx, mut brx), (utx, mut urx)] = bounded_and_unbounded();
            btx.try_send(1).unwrap();
            assert!(matches!(btx.try_send(2), Err(TrySendError::Full(2))));
            assert_eq!(brx.recv().await, Some(1));

            for i in 0..100_000u32 {
                assert!(
                    matches!(utx.send(i).now_or_never(), Some(Ok(()))),
                    "unbounded send #{i} did not complete at once"
                );
            }
            assert!(utx.try_send(100_000).is_ok());
            assert_eq!(urx.len(), 100_001);
            drop(utx);
            let mut expected = 0;
            while let Some(v) = urx.recv().await {
                assert_eq!(v, expected);
                expected += 1;
            }
            assert_eq!(expected, 100_001);
        });
    });
}

#[test]
fn mpsc_receiver_is_a_stream_polled_by_hand() {
    watchdog(LIMIT, || {
        let (tx, mut rx) = mpsc::channel::<u32>(2);
        let (count, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let mut tx = Some(tx);
        let mut next = 0;
        let mut got = Vec::new();
        let mut pendings = 0;
        loop {
            match Pin::new(&mut rx).poll_next(&mut cx) {
                Poll::Ready(Some(v)) => got.push(v),
                Poll::Ready(None) => break,
                Poll::Pending => {
                    pendings += 1;
                    let wakes = count.count();
                    if next < 10 {
                        // Two at a time fill the channel.
                        let sender = tx.as_ref().unwrap();
                        sender.try_send(next).unwrap();
                        sender.try_send(next + 1).unwrap();
                        assert!(matches!(sender.try_send(99), Err(TrySendError::Full(99))));
                        next += 2;
                    } else {
                        drop(tx.take());
                    }
                    assert!(
                        count.count() > wakes,
                        "the stream's waker was not woken by the send or the drop"
                    );
                }
            }
        }
        assert_eq!(got, (0..10).collect::<Vec<_>>());
        assert_eq!(pendings, 6);
        // Finished: stays finished.
        assert_eq!(Pin::new(&mut rx).poll_next(&mut cx), Poll::Ready(None));

        // With a noop waker, values already queued come out.
        let (tx, mut rx) = mpsc::unbounded::<u32>();
        tx.try_send(1).unwrap();
        let noop = futures::task::noop_waker();
        let mut cx = Context::from_waker(&noop);
        assert_eq!(Pin::new(&mut rx).poll_next(&mut cx), Poll::Ready(Some(1)));
        assert!(Pin::new(&mut rx).poll_next(&mut cx).is_pending());
    });
}

#[test]
fn mpsc_receiver_is_a_stream_for_stream_ext() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (tx, mut rx) = mpsc::channel::<u32>(4);
            let producer = eddy::spawn(async move {
                for i in 0..100 {
                    tx.send(i).await.unwrap();
                }
            });
            assert_eq!(rx.next().await, Some(0));
            assert_eq!(rx.next().await, Some(1));
            let rest: Vec<u32> = rx.collect().await;
            assert_eq!(rest, (2..100).collect::<Vec<_>>());
            producer.await.unwrap();

            let (tx, rx) = mpsc::unbounded::<u32>();
            for i in 0..5 {
                tx.try_send(i).unwrap();
            }
            drop(tx);
            let doubled: Vec<u32> = rx.map(|v| v * 2).collect().await;
            assert_eq!(doubled, vec![0, 2, 4, 6, 8]);
        });
    });
}

#[test]
fn mpsc_waiting_senders_get_through_in_fifo_order() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (tx, mut rx) = mpsc::channel::<usize>(1);
            tx.try_send(100).unwrap();
            let order = Rc::new(RefCell::new(Vec::new()));
            let mut senders = Vec::new();
            for i in 0..5 {
                let tx = tx.clone();
                let order = order.clone();
                senders.push(eddy::spawn(async move {
                    tx.send(i).await.unwrap();
                    order.borrow_mut().push(i);
                }));
                // Each one is waiting before the next is spawned.
                yield_now().await;
            }
            // The slot freed by this receive is reserved for sender 0: a
            // late try_send does not overtake the waiting senders.
            let mut got = vec![rx.recv().await.unwrap()];
            assert_eq!(rx.len(), 0);
            assert!(matches!(tx.try_send(200), Err(TrySendError::Full(200))));
            drop(tx);
            while let Some(v) = rx.recv().await {
                got.push(v);
            }
            for s in senders {
                s.await.unwrap();
            }
            assert_eq!(got, vec![100, 0, 1, 2, 3, 4]);
            assert_eq!(*order.borrow(), vec![0, 1, 2, 3, 4]);
        });
    });
}

#[test]
fn mpsc_receiver_close_fails_sends_and_keeps_queued_values() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (tx, mut rx) = mpsc::channel::<u32>(1);
            tx.try_send(1).unwrap();
            let tx = Rc::new(tx);
            let t = tx.clone();
            let waiting = eddy::spawn(async move { t.send(2).await });
            yield_now().await;
            rx.close();
            assert!(tx.is_closed());
            // The waiting sender gets its value back; new sends fail.
            assert_eq!(waiting.await.unwrap(), Err(SendError(2)));
            assert!(matches!(tx.try_send(3), Err(TrySendError::Closed(3))));
            assert_eq!(tx.send(4).await, Err(SendError(4)));
            // What was queued can still be received; then the channel is
            // over, although a sender is still alive.
            assert_eq!(rx.recv().await, Some(1));
            assert_eq!(rx.recv().await, None);
            assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
            drop(tx);
            assert_eq!(rx.recv().await, None);
        });
    });
}

/// Polls a boxed future once with `waker`.
fn poll_boxed<F: Future + ?Sized>(fut: &mut Pin<Box<F>>, waker: &Waker) -> Poll<F::Output> {
    fut.as_mut().poll(&mut Context::from_waker(waker))
}

#[test]
fn mpsc_reserve_holds_room_until_the_permit_sends_or_drops() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            // tokio's capacity example.
            let (tx, mut rx) = mpsc::channel::<()>(5);
            assert_eq!((tx.capacity(), rx.capacity()), (5, 5));
            let permit = tx.reserve().await.unwrap();
            assert_eq!(rx.capacity(), 4);
            assert_eq!(rx.len(), 0);
            permit.send(());
            assert_eq!(rx.len(), 1);
            rx.recv().await.unwrap();
            assert_eq!(rx.capacity(), 5);
            tx.send(()).await.unwrap();
            assert_eq!(rx.capacity(), 4);
            rx.recv().await.unwrap();
            assert_eq!(rx.max_capacity(), 5);

            // The held slot is nobody else's; dropped, it comes back.
            let (tx, mut rx) = mpsc::channel::<u32>(1);
            let permit = tx.try_reserve().unwrap();
            assert!(matches!(tx.try_send(1), Err(TrySendError::Full(1))));
            assert_eq!(tx.try_reserve().unwrap_err(), TrySendError::Full(()));
            assert!(tx.reserve().now_or_never().is_none());
            drop(permit);
            assert_eq!(tx.capacity(), 1);
            let permit = tx.reserve().await.unwrap();
            permit.send(7);
            assert_eq!(rx.recv().await, Some(7));

            // Closed: reservations fail.
            rx.close();
            assert_eq!(tx.try_reserve().unwrap_err(), TrySendError::Closed(()));
            assert_eq!(tx.reserve().await.unwrap_err(), SendError(()));
            drop(rx);
            assert_eq!(tx.reserve().await.unwrap_err(), SendError(()));

            // A reservation waits for room, and gets it from a receive.
            let (tx, mut rx) = mpsc::channel::<u32>(1);
            tx.try_send(0).unwrap();
            let tx = Rc::new(tx);
            let t = tx.clone();
            let reserver = eddy::spawn(async move {
                let permit = t.reserve().await.unwrap();
                permit.send(1);
            });
            yields(2).await;
            assert!(!reserver.is_finished());
            assert_eq!(rx.recv().await, Some(0));
            reserver.await.unwrap();
            assert_eq!(rx.recv().await, Some(1));
        });
    });
}

#[test]
fn mpsc_reservations_and_sends_share_one_fifo_line() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (tx, mut rx) = mpsc::channel::<&'static str>(2);
            tx.try_send("x0").unwrap();
            tx.try_send("x1").unwrap();
            let tx = Rc::new(tx);
            let mut tasks = Vec::new();
            let t = tx.clone();
            tasks.push(eddy::spawn(async move { t.send("a").await.unwrap() }));
            yield_now().await;
            let t = tx.clone();
            tasks.push(eddy::spawn(async move {
                let permit = t.reserve().await.unwrap();
                yield_now().await; // holds the room across an await
                permit.send("b");
            }));
            yield_now().await;
            let t = tx.clone();
            tasks.push(eddy::spawn(async move {
                let permits = t.reserve_many(2).await.unwrap();
                for (p, v) in permits.zip(["c1", "c2"]) {
                    p.send(v);
                }
            }));
            yield_now().await;
            let t = tx.clone();
            tasks.push(eddy::spawn(async move { t.send("d").await.unwrap() }));
            yield_now().await;
            // Late-comers do not barge in.
            assert!(matches!(tx.try_send("late"), Err(TrySendError::Full(_))));
            assert_eq!(tx.try_reserve().unwrap_err(), TrySendError::Full(()));
            assert_eq!(tx.capacity(), 0);

            let mut got = Vec::new();
            while got.len() < 7 {
                got.push(rx.recv().await.unwrap());
                // The two-slot request at the head holds `d` back while
                // only one slot is free.
                if got.len() == 4 {
                    assert_eq!(rx.len(), 0);
                }
            }
            for t in tasks {
                t.await.unwrap();
            }
            assert_eq!(got, ["x0", "x1", "a", "b", "c1", "c2", "d"]);
        });
    });
}

#[test]
fn mpsc_reserve_many_and_try_reserve_many() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (tx, mut rx) = mpsc::channel::<u32>(4);
            // More than the bound: refused at once (as tokio).
            assert_eq!(tx.reserve_many(5).await.unwrap_err(), SendError(()));
            assert_eq!(tx.try_reserve_many(5).unwrap_err(), TrySendError::Full(()));
            // None: an empty iterator, even while senders wait.
            let none = tx.try_reserve_many(0).unwrap();
            assert_eq!(none.len(), 0);
            drop(none);

            let mut permits = tx.reserve_many(3).await.unwrap();
            assert_eq!(permits.len(), 3);
            assert_eq!(permits.size_hint(), (3, Some(3)));
            assert_eq!(tx.capacity(), 1);
            assert_eq!(tx.try_reserve_many(2).unwrap_err(), TrySendError::Full(()));
            permits.next().unwrap().send(10);
            let held = permits.next().unwrap();
            assert_eq!(permits.len(), 1);
            // The iterator dropped with one left: that slot goes back; the
            // permit taken out of it still holds its own.
            drop(permits);
            assert_eq!(tx.capacity(), 2);
            drop(held);
            assert_eq!(tx.capacity(), 3);
            assert_eq!(rx.recv().await, Some(10));

            // Fused: once empty, always empty.
            let mut two = tx.try_reserve_many(2).unwrap();
            assert!(two.next().is_some() && two.next().is_some());
            assert!(two.next().is_none() && two.next().is_none());
            assert_eq!(tx.capacity(), 4, "spent permits dropped unused");

            // Waits until all its room is free at once.
            tx.try_send(1).unwrap();
            tx.try_send(2).unwrap();
            let mut many = Box::pin(tx.reserve_many(4));
            let (count, waker) = counting_waker();
            assert!(poll_boxed(&mut many, &waker).is_pending());
            assert_eq!(rx.recv().await, Some(1));
            assert_eq!(count.count(), 0, "woken with half its room");
            assert_eq!(rx.recv().await, Some(2));
            assert_eq!(count.count(), 1);
            match poll_boxed(&mut many, &waker) {
                Poll::Ready(Ok(p)) => assert_eq!(p.len(), 4),
                _ => panic!("reserve_many(4) did not get the 4 free slots"),
            }
            drop(many);
            assert_eq!(tx.capacity(), 4);

            rx.close();
            assert_eq!(
                tx.try_reserve_many(1).unwrap_err(),
                TrySendError::Closed(())
            );
            assert_eq!(tx.reserve_many(0).await.unwrap_err(), SendError(()));
        });
    });
}

#[test]
fn mpsc_owned_permits_carry_their_sender() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (tx, mut rx) = mpsc::channel::<u32>(1);
            let permit = tx.clone().reserve_owned().await.unwrap();
            let (again, _other_rx) = mpsc::channel::<u32>(1);
            // The permit travels to another task and gives the sender back.
            let task = eddy::spawn(async move {
                let tx = permit.send(1);
                tx.send(2).await.unwrap();
                tx
            });
            assert_eq!(rx.recv().await, Some(1));
            assert_eq!(rx.recv().await, Some(2));
            let back = task.await.unwrap();
            assert!(back.same_channel(&tx));
            assert!(!back.same_channel(&again));

            // try_reserve_owned: the sender comes back in the error.
            let permit = back.try_reserve_owned().unwrap();
            let back = match tx.clone().try_reserve_owned() {
                Err(TrySendError::Full(s)) => s,
                other => panic!("expected Full, got {other:?}"),
            };
            // release: the room goes back, the sender comes back.
            let released = permit.release();
            assert_eq!(released.capacity(), 1);
            // Dropped unused: the room goes back, and the sender is dropped.
            let permit = released.try_reserve_owned().unwrap();
            drop(back);
            drop(permit);
            assert_eq!(tx.capacity(), 1);

            // The last sender inside a permit: the receiver ends after it.
            let permit = tx.try_reserve_owned().unwrap();
            let waiting = eddy::spawn(async move { rx.recv().await });
            yield_now().await;
            assert!(!waiting.is_finished());
            drop(permit);
            assert_eq!(waiting.await.unwrap(), None);

            // Closed: the sender comes back in the error, or is dropped.
            let (tx, mut rx) = mpsc::channel::<u32>(1);
            rx.close();
            let tx = match tx.try_reserve_owned() {
                Err(TrySendError::Closed(s)) => s,
                other => panic!("expected Closed, got {other:?}"),
            };
            assert!(tx.clone().reserve_owned().await.is_err());
            assert!(format!("{:?}", tx.try_reserve_owned()).contains("Closed"));
            assert_eq!(rx.recv().await, None);
        });
    });
}

#[test]
fn mpsc_sender_closed_is_closed_and_same_channel() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (tx, mut rx) = mpsc::channel::<u32>(1);
            let tx = Rc::new(tx);
            let t = tx.clone();
            let watcher = eddy::spawn(async move {
                t.closed().await;
                t.is_closed()
            });
            yields(2).await;
            assert!(!watcher.is_finished());
            assert!(!tx.is_closed() && !rx.is_closed());
            rx.close();
            assert!(watcher.await.unwrap(), "closed() completes on close()");
            assert!(rx.is_closed());
            // Already closed: at once.
            assert_eq!(tx.closed().now_or_never(), Some(()));

            // On the receiver's drop, too, for every waiter.
            let (tx, rx) = mpsc::unbounded::<u32>();
            let tx = Rc::new(tx);
            let watchers: Vec<_> = (0..3)
                .map(|_| {
                    let t = tx.clone();
                    eddy::spawn(async move { t.closed().await })
                })
                .collect();
            yield_now().await;
            drop(rx);
            for w in watchers {
                w.await.unwrap();
            }
            assert!(tx.is_closed());

            // A closed() future dropped while waiting lets go of its waker.
            let (tx, _rx) = mpsc::channel::<u32>(1);
            let (count, waker) = counting_waker();
            let mut closed = Box::pin(tx.closed());
            assert!(poll_boxed(&mut closed, &waker).is_pending());
            drop(closed);
            drop(waker);
            assert!(released(&count));

            // Receiver::is_closed: every sender gone counts too.
            let (tx, rx) = mpsc::channel::<u32>(1);
            assert!(!rx.is_closed());
            drop(tx);
            assert!(rx.is_closed());

            // same_channel
            let (a, _ra) = mpsc::channel::<u32>(1);
            let (b, _rb) = mpsc::unbounded::<u32>();
            assert!(a.same_channel(&a.clone()));
            assert!(!a.same_channel(&b));
        });
    });
}

#[test]
fn mpsc_capacity_and_max_capacity() {
    watchdog(LIMIT, || {
        let (tx, mut rx) = mpsc::channel::<u32>(3);
        assert_eq!((tx.capacity(), tx.max_capacity()), (3, 3));
        tx.try_send(1).unwrap();
        let permit = tx.try_reserve().unwrap();
        assert_eq!((tx.capacity(), rx.capacity()), (1, 1));
        tx.try_send(2).unwrap();
        assert_eq!(tx.capacity(), 0);
        // A waiting sender: room freed is kept for it, never shown free.
        let mut waiting = tx.send(3);
        let (_c, waker) = counting_waker();
        assert!(poll_with(&mut waiting, &waker).is_pending());
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(tx.capacity(), 0);
        assert!(poll_with(&mut waiting, &waker).is_ready());
        drop(waiting);
        drop(permit);
        assert_eq!(tx.capacity(), 1);
        assert_eq!(rx.max_capacity(), 3);

        // Unbounded: usize::MAX both, whatever is queued or reserved.
        let (tx, rx) = mpsc::unbounded::<u32>();
        tx.try_send(1).unwrap();
        let _permits = tx.try_reserve_many(1000).unwrap();
        assert_eq!((tx.capacity(), tx.max_capacity()), (usize::MAX, usize::MAX));
        assert_eq!((rx.capacity(), rx.max_capacity()), (usize::MAX, usize::MAX));
    });
}

#[test]
fn mpsc_unbounded_reservations_never_wait() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (tx, mut rx) = mpsc::unbounded::<u32>();
            let mut permits = Vec::new();
            for _ in 0..1000 {
                permits.push(tx.reserve().now_or_never().unwrap().unwrap());
            }
            let many = tx.reserve_many(100_000).now_or_never().unwrap().unwrap();
            assert_eq!(many.len(), 100_000);
            let owned = tx.clone().reserve_owned().now_or_never().unwrap().unwrap();
            tx.try_send(0).unwrap();
            for (i, p) in permits.into_iter().enumerate() {
                p.send(i as u32 + 1);
            }
            drop(many);
            drop(owned.send(5000));
            assert_eq!(rx.len(), 1002);
            assert_eq!(rx.recv().await, Some(0));
        });
    });
}

#[test]
fn mpsc_send_timeout() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (tx, mut rx) = mpsc::channel::<String>(1);
            // Room: sent at once, even with a zero timeout.
            tx.send_timeout("a".into(), Duration::ZERO).await.unwrap();
            // Full: the value comes back after the timeout.
            let err = tx
                .send_timeout("b".into(), Duration::from_millis(5))
                .await
                .unwrap_err();
            assert_eq!(err, mpsc::SendTimeoutError::Timeout("b".to_string()));
            assert_error(&err);
            assert!(format!("{err:?}").contains("Timeout"));
            assert_eq!(err.into_inner(), "b");
            // It did not keep its place: a plain try_send still fits later.
            assert_eq!(rx.recv().await.as_deref(), Some("a"));
            tx.try_send("c".into()).unwrap();

            // Room that comes in time: sent.
            let tx = Rc::new(tx);
            let t = tx.clone();
            let sender =
                eddy::spawn(
                    async move { t.send_timeout("d".into(), Duration::from_secs(30)).await },
                );
            yields(2).await;
            assert_eq!(rx.recv().await.as_deref(), Some("c"));
            sender.await.unwrap().unwrap();
            assert_eq!(rx.recv().await.as_deref(), Some("d"));

            // A huge timeout is fine (saturates), and a close while waiting
            // gives Closed with the value.
            tx.try_send("e".into()).unwrap();
            let t = tx.clone();
            let sender =
                eddy::spawn(async move { t.send_timeout("f".into(), Duration::MAX).await });
            yield_now().await;
            rx.close();
            let err = sender.await.unwrap().unwrap_err();
            assert_eq!(err, mpsc::SendTimeoutError::Closed("f".to_string()));
            assert_error(&err);
            drop(rx);
            assert_eq!(
                tx.send_timeout("g".into(), Duration::ZERO).await,
                Err(mpsc::SendTimeoutError::Closed("g".to_string()))
            );
        });
    });
}

#[test]
fn mpsc_receiver_len_is_empty_is_closed() {
    watchdog(LIMIT, || {
        let (tx, mut rx) = mpsc::channel::<u32>(4);
        assert!(rx.is_empty());
        assert_eq!(rx.len(), 0);
        tx.try_send(1).unwrap();
        tx.try_send(2).unwrap();
        assert_eq!(rx.len(), 2);
        assert!(!rx.is_empty());
        rx.close();
        assert!(rx.is_closed());
        assert_eq!(rx.len(), 2, "closing keeps what is queued");
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(rx.try_recv(), Ok(2));
        assert!(rx.is_empty());
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    });
}

#[test]
fn mpsc_recv_many() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            // tokio's example.
            let mut buffer: Vec<&str> = Vec::with_capacity(2);
            let (tx, mut rx) = mpsc::channel(100);
            let tx2 = tx.clone();
            tx2.send("first").await.unwrap();
            tx2.send("second").await.unwrap();
            tx2.send("third").await.unwrap();
            assert_eq!(rx.recv_many(&mut buffer, 2).await, 2);
            assert_eq!(buffer, ["first", "second"]);
            assert_eq!(rx.recv_many(&mut buffer, 1).await, 1);
            eddy::spawn(async move { tx.send("fourth").await.unwrap() });
            assert_eq!(rx.recv_many(&mut buffer, 1).await, 1);
            assert_eq!(buffer, ["first", "second", "third", "fourth"]);
            drop(tx2);
            assert_eq!(rx.recv_many(&mut buffer, 2).await, 0);
            assert_eq!(buffer.len(), 4);

            // Limit 0: 0 at once, even with values queued.
            let (tx, mut rx) = mpsc::unbounded::<u32>();
            tx.try_send(1).unwrap();
            let mut buf = Vec::new();
            assert_eq!(rx.recv_many(&mut buf, 0).now_or_never(), Some(0));
            assert!(buf.is_empty());
            // Waits while empty, then takes all that came, up to the limit.
            let tx = Rc::new(tx);
            let t = tx.clone();
            assert_eq!(rx.recv_many(&mut buf, 10).await, 1);
            let filler = eddy::spawn(async move {
                for i in 2..5 {
                    t.try_send(i).unwrap();
                }
            });
            assert_eq!(rx.recv_many(&mut buf, 10).await, 3);
            filler.await.unwrap();
            assert_eq!(buf, [1, 2, 3, 4]);
            // After close, the rest comes, then 0.
            tx.try_send(5).unwrap();
            rx.close();
            assert_eq!(rx.recv_many(&mut buf, 10).await, 1);
            assert_eq!(rx.recv_many(&mut buf, 10).await, 0);
            assert_eq!(buf, [1, 2, 3, 4, 5]);

            // Freed room goes to every waiting sender it covers.
            let (tx, mut rx) = mpsc::channel::<u32>(3);
            let tx = Rc::new(tx);
            for i in 0..3 {
                tx.try_send(i).unwrap();
            }
            let senders: Vec<_> = (3..6)
                .map(|i| {
                    let t = tx.clone();
                    eddy::spawn(async move { t.send(i).await.unwrap() })
                })
                .collect();
            yield_now().await;
            let mut buf = Vec::new();
            assert_eq!(rx.recv_many(&mut buf, 3).await, 3);
            for s in senders {
                s.await.unwrap();
            }
            assert_eq!(rx.recv_many(&mut buf, 5).await, 3);
            assert_eq!(buf, [0, 1, 2, 3, 4, 5]);

            // Cancel-safe: a recv_many dropped while waiting took nothing.
            let (tx, mut rx) = mpsc::channel::<u32>(2);
            let mut buf = Vec::new();
            {
                let mut waiting = Box::pin(rx.recv_many(&mut buf, 5));
                assert!(poll_boxed(&mut waiting, futures::task::noop_waker_ref()).is_pending());
            }
            tx.try_send(9).unwrap();
            assert_eq!(rx.try_recv(), Ok(9));
        });
    });
}

#[test]
fn mpsc_receiver_is_a_fused_stream() {
    use futures::stream::FusedStream;
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (tx, mut rx) = mpsc::channel::<u32>(2);
            tx.try_send(1).unwrap();
            assert!(!rx.is_terminated());
            assert_eq!(rx.next().await, Some(1));
            drop(tx);
            assert!(!rx.is_terminated(), "only once it reported the end");
            assert_eq!(rx.next().await, None);
            assert!(rx.is_terminated());
            assert_eq!(rx.next().await, None);

            // recv_many's end counts too.
            let (tx, mut rx) = mpsc::unbounded::<u32>();
            drop(tx);
            assert_eq!(rx.recv_many(&mut Vec::new(), 1).await, 0);
            assert!(rx.is_terminated());

            // select! without .fuse(): an ended receiver is skipped.
            let (tx_a, mut a) = mpsc::unbounded::<u32>();
            let (tx_b, mut b) = mpsc::unbounded::<u32>();
            tx_a.try_send(1).unwrap();
            drop(tx_a);
            tx_b.try_send(10).unwrap();
            tx_b.try_send(20).unwrap();
            drop(tx_b);
            let mut got = Vec::new();
            loop {
                futures::select! {
                    v = a.next() => got.extend(v),
                    v = b.next() => got.extend(v),
                    complete => break,
                }
            }
            got.sort_unstable();
            assert_eq!(got, vec![1, 10, 20]);
            assert!(a.is_terminated() && b.is_terminated());
        });
    });
}

#[test]
fn mpsc_close_waits_for_the_permits_already_out() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (tx, mut rx) = mpsc::channel::<u32>(4);
            tx.try_send(1).unwrap();
            let p1 = tx.try_reserve().unwrap();
            let p2 = tx.try_reserve().unwrap();
            rx.close();
            // Queued first; then the receiver waits for the permits.
            assert_eq!(rx.recv().await, Some(1));
            assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
            let (count, waker) = counting_waker();
            assert!(poll_boxed(&mut Box::pin(rx.recv()), &waker).is_pending());
            // A permit taken before the close still sends, and is received.
            p1.send(2);
            assert_eq!(count.count(), 1);
            assert_eq!(rx.recv().await, Some(2));
            assert!(poll_boxed(&mut Box::pin(rx.recv()), &waker).is_pending());
            // The last one dropped unused: the receiver is woken and ends.
            drop(p2);
            assert_eq!(count.count(), 2);
            assert_eq!(rx.recv().await, None);
            assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));

            // A waiting reservation is refused by the close, and does not
            // hold the receiver back.
            let (tx, mut rx) = mpsc::channel::<u32>(1);
            tx.try_send(1).unwrap();
            let mut waiting = Box::pin(tx.reserve());
            assert!(poll_boxed(&mut waiting, &waker).is_pending());
            rx.close();
            assert!(matches!(
                poll_boxed(&mut waiting, &waker),
                Poll::Ready(Err(_))
            ));
            assert_eq!(rx.recv().await, Some(1));
            assert_eq!(rx.recv().await, None);

            // Granted (not yet looked) when the close comes: refused too.
            let (tx, mut rx) = mpsc::channel::<u32>(1);
            tx.try_send(1).unwrap();
            let mut granted = Box::pin(tx.reserve());
            assert!(poll_boxed(&mut granted, &waker).is_pending());
            assert_eq!(rx.try_recv(), Ok(1));
            rx.close();
            assert!(matches!(
                poll_boxed(&mut granted, &waker),
                Poll::Ready(Err(_))
            ));
            assert_eq!(rx.recv().await, None);
        });
    });
}

#[test]
fn mpsc_a_permit_sending_after_the_receiver_is_gone_drops_its_value() {
    watchdog(LIMIT, || {
        let dropped = Rc::new(Cell::new(0));
        let (tx, rx) = mpsc::channel::<CountOnDrop>(2);
        let permit = tx.try_reserve().unwrap();
        let owned = tx.clone().try_reserve_owned().unwrap();
        drop(rx);
        permit.send(CountOnDrop(dropped.clone()));
        assert_eq!(dropped.get(), 1, "the value was kept in a dead channel");
        let tx2 = owned.send(CountOnDrop(dropped.clone()));
        assert_eq!(dropped.get(), 2);
        assert!(tx2.is_closed());
    });
}

// ---------------------------------------------------------------------------
// Notify
// ---------------------------------------------------------------------------

#[test]
fn notify_notified_waits_for_notify_one() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let notify = Rc::new(Notify::new());
            let n = notify.clone();
            let waiter = eddy::spawn(async move {
                n.notified().await;
                "woken"
            });
            yields(3).await;
            assert!(!waiter.is_finished());
            notify.notify_one();
            assert_eq!(waiter.await.unwrap(), "woken");

            // The permit was used by the waiter: none is left.
            assert!(notify.notified().now_or_never().is_none());
        });
    });
}

#[test]
fn notify_one_stores_one_permit_when_nobody_waits() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let notify = Notify::new();
            notify.notify_one();
            // A later notified() completes at once.
            assert_eq!(notify.notified().now_or_never(), Some(()));
            // The permit is used up.
            assert!(notify.notified().now_or_never().is_none());

            // Permits do not add up.
            notify.notify_one();
            notify.notify_one();
            assert_eq!(notify.notified().now_or_never(), Some(()));
            assert!(notify.notified().now_or_never().is_none());

            // Awaited for real, too.
            notify.notify_one();
            notify.notified().await;
        });
    });
}

#[test]
fn notify_waiters_wakes_everyone_waiting_and_stores_nothing() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let notify = Rc::new(Notify::new());
            let woken = Rc::new(Cell::new(0));
            let mut waiters = Vec::new();
            for _ in 0..4 {
                let (n, w) = (notify.clone(), woken.clone());
                waiters.push(eddy::spawn(async move {
                    n.notified().await;
                    w.set(w.get() + 1);
                }));
            }
            yields(2).await;
            assert_eq!(woken.get(), 0);
            notify.notify_waiters();
            for w in waiters {
                w.await.unwrap();
            }
            assert_eq!(woken.get(), 4);

            // Nothing stored: a later notified() waits.
            assert!(notify.notified().now_or_never().is_none());
            // Not even with nobody waiting at the time of the call.
            notify.notify_waiters();
            let n = notify.clone();
            let late = eddy::spawn(async move { n.notified().await });
            yields(3).await;
            assert!(
                !late.is_finished(),
                "notify_waiters must not store a permit"
            );
            notify.notify_one();
            late.await.unwrap();
        });
    });
}

/// `notify_waiters` wakes the waiting tasks in place and other wakers once
/// the list is settled; one that notifies again from its wake wakes
/// nobody twice.
#[test]
fn notify_waiters_wakes_tasks_and_foreign_wakers_once_each() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let notify = Rc::new(Notify::new());
            let done = Rc::new(Cell::new(0));
            let spawn_waiter = || {
                let (n, done) = (notify.clone(), done.clone());
                eddy::spawn(async move {
                    n.notified().await;
                    done.set(done.get() + 1);
                })
            };
            let a = spawn_waiter();
            yield_now().await;
            let (count, counting) = counting_waker();
            let n2 = notify.clone();
            let hook = hook_waker(move || n2.notify_waiters(), || {});
            let mut by_hook = std::pin::pin!(notify.notified());
            let mut by_count = std::pin::pin!(notify.notified());
            let mut cx = Context::from_waker(&hook);
            assert!(by_hook.as_mut().poll(&mut cx).is_pending());
            let mut cx = Context::from_waker(&counting);
            assert!(by_count.as_mut().poll(&mut cx).is_pending());
            let b = spawn_waiter();
            yield_now().await;
            notify.notify_waiters();
            assert_eq!(count.count(), 1);
            a.await.unwrap();
            b.await.unwrap();
            assert_eq!(done.get(), 2);
            let noop = futures::task::noop_waker();
            let mut cx = Context::from_waker(&noop);
            assert!(by_hook.as_mut().poll(&mut cx).is_ready());
            assert!(by_count.as_mut().poll(&mut cx).is_ready());
        });
    });
}

#[test]
fn notify_one_wakes_waiters_in_fifo_order() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let notify = Rc::new(Notify::new());
            let order = Rc::new(RefCell::new(Vec::new()));
            let mut waiters = Vec::new();
            for i in 0..5 {
                let (n, o) = (notify.clone(), order.clone());
                waiters.push(eddy::spawn(async move {
                    n.notified().await;
                    o.borrow_mut().push(i);
                }));
                yield_now().await;
            }
            for k in 0..5 {
                notify.notify_one();
                yields(2).await;
                assert_eq!(
                    order.borrow().len(),
                    k + 1,
                    "one notify_one wakes one waiter"
                );
            }
            for w in waiters {
                w.await.unwrap();
            }
            assert_eq!(*order.borrow(), vec![0, 1, 2, 3, 4]);

            // All at once, too: still in order.
            order.borrow_mut().clear();
            let mut waiters = Vec::new();
            for i in 0..5 {
                let (n, o) = (notify.clone(), order.clone());
                waiters.push(eddy::spawn(async move {
                    n.notified().await;
                    o.borrow_mut().push(i);
                }));
                yield_now().await;
            }
            for _ in 0..5 {
                notify.notify_one();
            }
            for w in waiters {
                w.await.unwrap();
            }
            assert_eq!(*order.borrow(), vec![0, 1, 2, 3, 4]);
        });
    });
}

#[test]
fn notify_last_wakes_the_latest_waiter_and_stores_a_permit_if_none() {
    watchdog(LIMIT, || {
        let notify = Notify::new();
        // Nobody waits: one permit, shared with notify_one (no adding up).
        notify.notify_last();
        notify.notify_one();
        notify.notify_last();
        assert_eq!(notify.notified().now_or_never(), Some(()));
        assert!(notify.notified().now_or_never().is_none());

        let counts: Vec<_> = (0..3).map(|_| counting_waker()).collect();
        let mut futs: Vec<_> = (0..3).map(|_| notify.notified()).collect();
        for (f, (_, w)) in futs.iter_mut().zip(&counts) {
            assert!(poll_with(f, w).is_pending());
        }
        let woken = || counts.iter().map(|(c, _)| c.count()).collect::<Vec<_>>();
        notify.notify_last();
        assert_eq!(woken(), [0, 0, 1]);
        notify.notify_one();
        assert_eq!(woken(), [1, 0, 1]);
        // Chosen by notify_last and dropped unused: the one now last gets it.
        let mut late = notify.notified();
        let (late_count, late_waker) = counting_waker();
        assert!(poll_with(&mut late, &late_waker).is_pending());
        notify.notify_last();
        assert_eq!(late_count.count(), 1);
        drop(late);
        assert_eq!(woken(), [1, 1, 1], "not passed on to the new last waiter");
        for (f, (_, w)) in futs.iter_mut().zip(&counts) {
            assert_eq!(poll_with(f, w), Poll::Ready(()));
        }
        drop(futs);
        // Passed on, not duplicated.
        assert!(notify.notified().now_or_never().is_none());

        // With tasks: LIFO order.
        eddy::block_on(async {
            let notify = Rc::new(Notify::new());
            let order = Rc::new(RefCell::new(Vec::new()));
            let mut tasks = Vec::new();
            for i in 0..4 {
                let (n, o) = (notify.clone(), order.clone());
                tasks.push(eddy::spawn(async move {
                    n.notified().await;
                    o.borrow_mut().push(i);
                }));
                yield_now().await;
            }
            for _ in 0..4 {
                notify.notify_last();
                yields(2).await;
            }
            for t in tasks {
                t.await.unwrap();
            }
            assert_eq!(*order.borrow(), vec![3, 2, 1, 0]);
        });
    });
}

#[test]
fn notified_enable_joins_the_line_without_a_poll() {
    watchdog(LIMIT, || {
        let notify = Notify::new();

        // Enabled, then notify_waiters: it counts, though never polled.
        let mut a = notify.notified();
        assert!(!a.enable());
        assert!(!a.enable(), "enable twice changes nothing");
        notify.notify_waiters();
        assert!(a.enable());
        assert_eq!(a.now_or_never(), Some(()));

        // Enabled, then notify_one: chosen (no permit is stored for later).
        let mut a = notify.notified();
        assert!(!a.enable());
        notify.notify_one();
        assert!(notify.notified().now_or_never().is_none());
        assert_eq!(a.now_or_never(), Some(()));

        // Without enable, the same notify_one becomes a permit instead.
        let b = notify.notified();
        notify.notify_one();
        let mut c = notify.notified();
        assert!(c.enable(), "a stored permit is taken by enable");
        assert!(b.now_or_never().is_none(), "the permit was taken by c");
        assert_eq!(c.now_or_never(), Some(()));

        // notify_waiters after notified() but before enable(): already done.
        let mut d = notify.notified();
        notify.notify_waiters();
        assert!(d.enable());

        // Enabled, then polled: the poll's waker is the one woken.
        let mut e = notify.notified();
        assert!(!e.enable());
        let (count, waker) = counting_waker();
        assert!(poll_with(&mut e, &waker).is_pending());
        assert!(!e.enable(), "enable keeps the poll's waker");
        notify.notify_one();
        assert_eq!(count.count(), 1);
        assert_eq!(poll_with(&mut e, &waker), Poll::Ready(()));
        // Completed: it stays completed and takes no permit.
        notify.notify_one();
        assert_eq!(poll_with(&mut e, &waker), Poll::Ready(()));
        assert!(e.enable());
        assert_eq!(notify.notified().now_or_never(), Some(()));

        // FIFO: an enabled future keeps its place ahead of later waiters.
        let mut first = notify.notified();
        first.enable();
        let mut second = notify.notified();
        assert!(poll_with(&mut second, &waker).is_pending());
        notify.notify_one();
        assert!(first.enable());
        assert!(poll_with(&mut second, &waker).is_pending());
        // Enabled, chosen, dropped unused: passed on to the next in line.
        let mut third = notify.notified();
        third.enable();
        drop(first);
        notify.notify_one(); // to `second`
        notify.notify_one(); // to `third`
        drop(third);
        assert!(poll_with(&mut second, &waker).is_ready());
        assert_eq!(
            notify.notified().now_or_never(),
            Some(()),
            "third's turn was lost"
        );

        // The check-then-wait pattern across tasks.
        eddy::block_on(async {
            let notify = Rc::new(Notify::new());
            let flag = Rc::new(Cell::new(false));
            let (n, f) = (notify.clone(), flag.clone());
            let waiter = eddy::spawn(async move {
                loop {
                    let mut notified = n.notified();
                    notified.enable();
                    if f.get() {
                        return;
                    }
                    notified.await;
                }
            });
            yield_now().await;
            flag.set(true);
            notify.notify_waiters();
            waiter.await.unwrap();
        });
    });
}

// ---------------------------------------------------------------------------
// Semaphore
// ---------------------------------------------------------------------------

#[test]
fn semaphore_acquire_try_acquire_and_release_on_drop() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let sem = Semaphore::new(2);
            assert_eq!(sem.available_permits(), 2);
            let a = sem.acquire().await;
            assert_eq!(sem.available_permits(), 1);
            let b = sem.try_acquire().unwrap();
            assert_eq!(sem.available_permits(), 0);
            let err = sem.try_acquire().unwrap_err();
            assert_eq!(err, TryAcquireError::NoPermits);
            assert_error(&err);
            assert!(sem.acquire().now_or_never().is_none());
            drop(a);
            assert_eq!(sem.available_permits(), 1);
            drop(b);
            assert_eq!(sem.available_permits(), 2);

            let none = Semaphore::new(0);
            assert!(none.try_acquire().is_err());
            none.add_permits(3);
            assert_eq!(none.available_permits(), 3);
            let p = none.try_acquire().unwrap();
            assert_eq!(none.available_permits(), 2);
            drop(p);
            assert_eq!(none.available_permits(), 3);
        });
    });
}

#[test]
fn semaphore_release_and_add_permits_wake_waiters() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let sem = Rc::new(Semaphore::new(0));
            let got = Rc::new(Cell::new(0));
            let mut waiters = Vec::new();
            for _ in 0..3 {
                let (s, g) = (sem.clone(), got.clone());
                waiters.push(eddy::spawn(async move {
                    let p = s.acquire().await;
                    g.set(g.get() + 1);
                    p.forget();
                }));
            }
            yields(2).await;
            assert_eq!(got.get(), 0);
            sem.add_permits(2);
            // The permits went to the waiters, not to the count.
            assert_eq!(sem.available_permits(), 0);
            yields(2).await;
            assert_eq!(got.get(), 2);
            sem.add_permits(5);
            for w in waiters {
                w.await.unwrap();
            }
            assert_eq!(got.get(), 3);
            assert_eq!(sem.available_permits(), 4);

            // A permit dropped by its holder wakes a waiter.
            let sem = Rc::new(Semaphore::new(1));
            let held = sem.try_acquire().unwrap();
            let s = sem.clone();
            let waiter = eddy::spawn(async move {
                let _p = s.acquire().await;
                "got it"
            });
            yields(2).await;
            assert!(!waiter.is_finished());
            drop(held);
            assert_eq!(waiter.await.unwrap(), "got it");
            assert_eq!(sem.available_permits(), 1);
        });
    });
}

#[test]
fn semaphore_waiters_are_served_in_fifo_order() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let sem = Rc::new(Semaphore::new(1));
            let held = sem.try_acquire().unwrap();
            let order = Rc::new(RefCell::new(Vec::new()));
            let mut waiters = Vec::new();
            for i in 0..5 {
                let (s, o) = (sem.clone(), order.clone());
                waiters.push(eddy::spawn(async move {
                    let _p = s.acquire().await;
                    o.borrow_mut().push(i);
                    yield_now().await;
                }));
                yield_now().await;
            }
            drop(held);
            // The permit is promised to the first waiter: no overtaking.
            assert_eq!(sem.available_permits(), 0);
            assert!(sem.try_acquire().is_err());
            for w in waiters {
                w.await.unwrap();
            }
            assert_eq!(*order.borrow(), vec![0, 1, 2, 3, 4]);
            assert_eq!(sem.available_permits(), 1);

            // add_permits hands permits out in FIFO order too.
            let sem = Rc::new(Semaphore::new(0));
            order.borrow_mut().clear();
            let mut waiters = Vec::new();
            for i in 0..5 {
                let (s, o) = (sem.clone(), order.clone());
                waiters.push(eddy::spawn(async move {
                    s.acquire().await.forget();
                    o.borrow_mut().push(i);
                }));
                yield_now().await;
            }
            for k in 0..5 {
                sem.add_permits(1);
                yields(2).await;
                assert_eq!(order.borrow().len(), k + 1);
            }
            for w in waiters {
                w.await.unwrap();
            }
            assert_eq!(*order.borrow(), vec![0, 1, 2, 3, 4]);
        });
    });
}

#[test]
fn semaphore_never_has_more_than_n_holders() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            const N: usize = 3;
            let sem = Rc::new(Semaphore::new(N));
            let current = Rc::new(Cell::new(0));
            let max = Rc::new(Cell::new(0));
            let done = Rc::new(Cell::new(0));
            let mut tasks = Vec::new();
            for i in 0..60 {
                let (s, c, m, d) = (sem.clone(), current.clone(), max.clone(), done.clone());
                tasks.push(eddy::spawn(async move {
                    let _p = s.acquire().await;
                    c.set(c.get() + 1);
                    m.set(m.get().max(c.get()));
                    yields(i % 4 + 1).await;
                    c.set(c.get() - 1);
                    d.set(d.get() + 1);
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
            assert_eq!(done.get(), 60);
            assert_eq!(
                max.get(),
                N,
                "at most (and, here, exactly) N holders at once"
            );
            assert_eq!(sem.available_permits(), N);
        });
    });
}

/// Polls an `Acquire` and gives its permit count if it completed.
fn acquired(a: &mut eddy::sync::Acquire<'_>, waker: &Waker) -> Option<usize> {
    match poll_with(a, waker) {
        Poll::Ready(p) => {
            let n = p.num_permits();
            p.forget();
            Some(n)
        }
        Poll::Pending => None,
    }
}

#[test]
fn semaphore_max_permits_bounds_new_and_add_permits() {
    watchdog(LIMIT, || {
        assert_eq!(Semaphore::MAX_PERMITS, usize::MAX >> 3);
        let full = Semaphore::new(Semaphore::MAX_PERMITS);
        assert_eq!(full.available_permits(), Semaphore::MAX_PERMITS);
        let sem = Semaphore::new(0);
        sem.add_permits(Semaphore::MAX_PERMITS);
        assert_eq!(sem.available_permits(), Semaphore::MAX_PERMITS);

        let msg = catch(|| Semaphore::new(Semaphore::MAX_PERMITS + 1)).unwrap_err();
        assert!(
            msg.starts_with("eddy: ") && msg.contains("MAX_PERMITS"),
            "{msg}"
        );
        let msg = catch(|| sem.add_permits(1)).unwrap_err();
        assert!(
            msg.starts_with("eddy: ") && msg.contains("MAX_PERMITS"),
            "{msg}"
        );
        let msg = catch(|| sem.add_permits(usize::MAX)).unwrap_err();
        assert!(msg.contains("MAX_PERMITS"), "{msg}");
        // A refused add changes nothing.
        assert_eq!(sem.available_permits(), Semaphore::MAX_PERMITS);
        let near = Semaphore::new(Semaphore::MAX_PERMITS - 1);
        near.add_permits(1);
        assert!(catch(|| near.add_permits(1)).is_err());
    });
}

#[test]
fn semaphore_acquire_polled_after_it_completed_panics_clearly() {
    watchdog(LIMIT, || {
        let sem = Semaphore::new(2);
        let mut a = sem.acquire();
        let noop = futures::task::noop_waker_ref();
        let permit = match poll_with(&mut a, noop) {
            Poll::Ready(p) => p,
            Poll::Pending => panic!("a free permit was not taken"),
        };
        // It used to take a second permit; now it is a bug, said plainly.
        let msg = catch(|| poll_with(&mut a, noop).is_ready()).unwrap_err();
        assert!(
            msg.starts_with("eddy: ") && msg.contains("after it completed"),
            "{msg}"
        );
        drop(permit);
        assert_eq!(sem.available_permits(), 2);
    });
}

#[test]
fn semaphore_forget_permits_takes_only_free_ones() {
    watchdog(LIMIT, || {
        // tokio's forget_open: every size against every amount.
        for size in 0..4 {
            for sub in 0..4 {
                let sem = Semaphore::new(size);
                let taken = sem.forget_permits(sub);
                assert_eq!(sem.available_permits(), size.saturating_sub(sub));
                assert_eq!(taken, size.min(sub), "case {size}-{sub}");
            }
        }
        // Held permits are not touched; they come back when dropped.
        let sem = Semaphore::new(4);
        let held = sem.try_acquire_many(3).unwrap();
        assert_eq!(sem.forget_permits(10), 1);
        drop(held);
        assert_eq!(sem.available_permits(), 3);

        // Permits set aside for a waiting acquire_many are not free either.
        let sem = Semaphore::new(2);
        let (_count, waker) = counting_waker();
        let mut big = sem.acquire_many(3);
        assert_eq!(acquired(&mut big, &waker), None);
        assert_eq!(sem.available_permits(), 0);
        assert_eq!(sem.forget_permits(1), 0);
        sem.add_permits(1);
        assert_eq!(acquired(&mut big, &waker), Some(3));
    });
}

#[test]
fn semaphore_acquire_many_and_try_acquire_many_take_all_or_nothing() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let sem = Rc::new(Semaphore::new(5));
            let three = sem.try_acquire_many(3).unwrap();
            assert_eq!(three.num_permits(), 3);
            assert_eq!(sem.available_permits(), 2);
            assert_eq!(
                sem.try_acquire_many(3).unwrap_err(),
                TryAcquireError::NoPermits
            );
            assert_eq!(sem.available_permits(), 2, "a failed try takes nothing");
            let zero = sem.try_acquire_many(0).unwrap();
            assert_eq!(zero.num_permits(), 0);
            drop(zero);
            assert_eq!(sem.available_permits(), 2);

            // acquire_many waits until all it asks for is there at once.
            let s = sem.clone();
            let waiter = eddy::spawn(async move {
                let p = s.acquire_many(4).await;
                p.num_permits()
            });
            yields(2).await;
            assert!(!waiter.is_finished());
            drop(three); // 5 free now
            assert_eq!(waiter.await.unwrap(), 4);
            assert_eq!(sem.available_permits(), 5);

            // Zero permits: at once, even with a task waiting ahead.
            let all = sem.acquire_many(5).await;
            let mut one = sem.acquire();
            let (_c, w) = counting_waker();
            assert!(poll_with(&mut one, &w).is_pending());
            assert_eq!(sem.acquire_many(0).now_or_never().unwrap().num_permits(), 0);
            assert!(sem.try_acquire_many(0).is_ok());
            drop(all);
            assert!(poll_with(&mut one, &w).is_ready());
        });
    });
}

#[test]
fn semaphore_a_large_request_at_the_head_holds_back_smaller_ones() {
    watchdog(LIMIT, || {
        let sem = Semaphore::new(1);
        let (big_count, big_waker) = counting_waker();
        let (small_count, small_waker) = counting_waker();
        let held = sem.try_acquire().unwrap();
        let mut big = sem.acquire_many(3);
        let mut small = sem.acquire();
        assert_eq!(acquired(&mut big, &big_waker), None);
        assert_eq!(acquired(&mut small, &small_waker), None);

        // One permit back: it would fit `small`, but `big` is ahead.
        drop(held);
        assert_eq!((big_count.count(), small_count.count()), (0, 0));
        assert_eq!(sem.available_permits(), 0, "set aside for the head");
        assert!(sem.try_acquire().is_err(), "try_acquire barged in");
        sem.add_permits(1);
        assert_eq!(acquired(&mut small, &small_waker), None);
        // The third one completes `big`; `small` still waits.
        sem.add_permits(1);
        assert_eq!((big_count.count(), small_count.count()), (1, 0));
        assert_eq!(acquired(&mut big, &big_waker), Some(3));
        sem.add_permits(2);
        assert_eq!(small_count.count(), 1);
        assert_eq!(acquired(&mut small, &small_waker), Some(1));
        assert_eq!(sem.available_permits(), 1);

        // With tasks: the order of completion is the order of arrival.
        eddy::block_on(async {
            let sem = Rc::new(Semaphore::new(0));
            let order = Rc::new(RefCell::new(Vec::new()));
            let mut tasks = Vec::new();
            for (i, n) in [(0, 2u32), (1, 1), (2, 3), (3, 1)] {
                let (s, o) = (sem.clone(), order.clone());
                tasks.push(eddy::spawn(async move {
                    let p = s.acquire_many(n).await;
                    o.borrow_mut().push(i);
                    p.forget();
                }));
                yield_now().await;
            }
            for _ in 0..7 {
                sem.add_permits(1);
                yields(2).await;
            }
            for t in tasks {
                t.await.unwrap();
            }
            assert_eq!(*order.borrow(), vec![0, 1, 2, 3]);
        });
    });
}

#[test]
fn semaphore_permit_merge_split_and_num_permits() {
    watchdog(LIMIT, || {
        // tokio's `merge` and `split` tests.
        let sem = Semaphore::new(3);
        {
            let mut p1 = sem.try_acquire().unwrap();
            assert_eq!(sem.available_permits(), 2);
            let p2 = sem.try_acquire_many(2).unwrap();
            assert_eq!(sem.available_permits(), 0);
            p1.merge(p2);
            assert_eq!(p1.num_permits(), 3);
            assert_eq!(sem.available_permits(), 0);
        }
        assert_eq!(sem.available_permits(), 3);

        let sem = Semaphore::new(5);
        let mut p1 = sem.try_acquire_many(3).unwrap();
        assert_eq!(sem.available_permits(), 2);
        let mut p2 = p1.split(1).unwrap();
        assert_eq!((p1.num_permits(), p2.num_permits()), (2, 1));
        assert_eq!(sem.available_permits(), 2);
        let p3 = p1.split(0).unwrap();
        assert_eq!(p3.num_permits(), 0);
        drop(p1);
        assert_eq!(sem.available_permits(), 4);
        let p4 = p2.split(1).unwrap();
        assert_eq!((p2.num_permits(), p4.num_permits()), (0, 1));
        assert!(p2.split(1).is_none());
        drop(p2);
        drop(p3);
        assert_eq!(sem.available_permits(), 4);
        drop(p4);
        assert_eq!(sem.available_permits(), 5);

        // forget takes every permit the Permit holds.
        let mut merged = sem.try_acquire_many(2).unwrap();
        merged.merge(sem.try_acquire().unwrap());
        merged.forget();
        assert_eq!(sem.available_permits(), 2);

        // Merging permits of two semaphores is a bug: a clear panic.
        let other = Semaphore::new(1);
        let mut a = sem.try_acquire().unwrap();
        let b = other.try_acquire().unwrap();
        let msg = catch(move || a.merge(b)).unwrap_err();
        assert!(
            msg.starts_with("eddy: ") && msg.contains("different semaphores"),
            "{msg}"
        );
        // Both permits went back as the panic unwound.
        assert_eq!((sem.available_permits(), other.available_permits()), (2, 1));
    });
}

#[test]
fn semaphore_owned_permits_many_merge_split_forget() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let sem = Rc::new(Semaphore::new(6));
            let mut p = sem.clone().acquire_many_owned(2).await;
            assert_eq!(p.num_permits(), 2);
            assert!(Rc::ptr_eq(p.semaphore(), &sem));
            p.merge(sem.clone().try_acquire_owned().unwrap());
            p.merge(sem.clone().try_acquire_many_owned(2).unwrap());
            assert_eq!(p.num_permits(), 5);
            assert_eq!(sem.available_permits(), 1);
            assert!(sem.clone().try_acquire_many_owned(2).is_err());
            let two = p.split(2).unwrap();
            assert!(p.split(4).is_none());
            assert_eq!((p.num_permits(), two.num_permits()), (3, 2));
            drop(two);
            assert_eq!(sem.available_permits(), 3);
            p.forget();
            assert_eq!(sem.available_permits(), 3);
            // The forgotten permit let go of its Rc.
            assert_eq!(Rc::strong_count(&sem), 1);

            // An owned permit waited for in one task, held by another.
            let s = sem.clone();
            let waiter = eddy::spawn(async move { s.acquire_many_owned(4).await });
            yield_now().await;
            sem.add_permits(1);
            let permit = waiter.await.unwrap();
            assert_eq!(permit.num_permits(), 4);
            let holder = eddy::spawn(async move {
                let _p = permit;
                yield_now().await;
            });
            holder.await.unwrap();
            assert_eq!(sem.available_permits(), 4);

            let other = Rc::new(Semaphore::new(1));
            let mut a = sem.clone().try_acquire_owned().unwrap();
            let b = other.clone().try_acquire_owned().unwrap();
            let msg = catch(move || a.merge(b)).unwrap_err();
            assert!(
                msg.starts_with("eddy: ") && msg.contains("different semaphores"),
                "{msg}"
            );
            assert_eq!((sem.available_permits(), other.available_permits()), (4, 1));
        });
    });
}

// ---------------------------------------------------------------------------
// Mutex
// ---------------------------------------------------------------------------

#[test]
fn mutex_lock_gives_a_guard_with_deref_and_deref_mut() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let m = Mutex::new(vec![1, 2]);
            {
                let mut g: eddy::sync::MutexGuard<'_, Vec<i32>> = m.lock().await;
                assert_eq!(g.len(), 2); // Deref
                g.push(3); // DerefMut
                assert!(m.try_lock().is_err());
                assert!(m.lock().now_or_never().is_none());
            }
            assert_eq!(*m.lock().await, vec![1, 2, 3]);
            assert_eq!(m.try_lock().unwrap().len(), 3);
        });
    });
}

#[test]
fn mutex_is_exclusive_across_await() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let m = Rc::new(Mutex::new(0u32));
            let log = Rc::new(RefCell::new(Vec::new()));
            let mut tasks = Vec::new();
            for i in 0..8 {
                let (m, log) = (m.clone(), log.clone());
                tasks.push(eddy::spawn(async move {
                    let mut g = m.lock().await;
                    log.borrow_mut().push((i, "in"));
                    // Read, yield (others run and try to lock), write back.
                    let v = *g;
                    yields(3).await;
                    *g = v + 1;
                    log.borrow_mut().push((i, "out"));
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
            // No lost update, no interleaving.
            assert_eq!(*m.lock().await, 8);
            let log = log.borrow();
            assert_eq!(log.len(), 16);
            for pair in log.chunks(2) {
                assert_eq!(pair[0].0, pair[1].0, "interleaved holders: {log:?}");
                assert_eq!((pair[0].1, pair[1].1), ("in", "out"));
            }
        });
    });
}

#[test]
fn mutex_waiters_get_the_lock_in_fifo_order() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let m = Rc::new(Mutex::new(Vec::new()));
            let held = m.lock().await;
            let order = Rc::new(RefCell::new(Vec::new()));
            let mut tasks = Vec::new();
            for i in 0..5 {
                let (m, o) = (m.clone(), order.clone());
                tasks.push(eddy::spawn(async move {
                    let mut g = m.lock().await;
                    o.borrow_mut().push(i);
                    yield_now().await;
                    g.push(i);
                }));
                yield_now().await;
            }
            drop(held);
            // Handed to the first waiter: a late try_lock cannot take it.
            assert!(m.try_lock().is_err());
            for t in tasks {
                t.await.unwrap();
            }
            assert_eq!(*order.borrow(), vec![0, 1, 2, 3, 4]);
            assert_eq!(*m.lock().await, vec![0, 1, 2, 3, 4]);
        });
    });
}

#[test]
fn mutex_try_lock_into_inner_get_mut() {
    watchdog(LIMIT, || {
        let mut m = Mutex::new(String::from("a"));
        m.get_mut().push('b');
        {
            let mut g = m.try_lock().expect("unlocked");
            g.push('c');
            assert!(m.try_lock().is_err());
        }
        assert!(m.try_lock().is_ok());
        assert_eq!(m.into_inner(), "abc");
    });
}

/// Mirrors tokio's `sync_mutex::try_lock`: `try_lock` is a `Result`, as
/// tokio's (and `RwLock::try_read`), so `assert_ok!`/`is_err()` code ports.
#[test]
fn mutex_try_lock_is_a_result() {
    watchdog(LIMIT, || {
        let m = Mutex::new(0);
        let g: Result<_, eddy::sync::TryLockError> = m.try_lock();
        let g = g.expect("free");
        assert!(m.try_lock().is_err());
        drop(g);
        assert!(m.try_lock().is_ok());
    });
}

/// Mirrors tokio's `sync_mutex::mutex_debug`: the field is `data`, shown as
/// `<locked>` while a guard is out.
#[test]
fn mutex_debug_shows_the_data_or_locked() {
    watchdog(LIMIT, || {
        let m = Mutex::new(String::from("data"));
        assert_eq!(format!("{m:?}"), r#"Mutex { data: "data" }"#);
        let guard = m.try_lock().expect("unlocked");
        assert_eq!(format!("{m:?}"), "Mutex { data: <locked> }");
        drop(guard);
        assert_eq!(format!("{m:?}"), r#"Mutex { data: "data" }"#);
    });
}

/// A future polled again with another waker (it moved to another task, or a
/// `select!` re-polls it) must be woken through the latest one.
#[test]
fn waiters_are_woken_through_their_latest_waker() {
    fn wakers() -> (Arc<CountingWaker>, Waker, Arc<CountingWaker>, Waker) {
        let (old_count, old) = counting_waker();
        let (new_count, new) = counting_waker();
        (old_count, old, new_count, new)
    }
    watchdog(LIMIT, || {
        // Notify
        let notify = Notify::new();
        let (oc, ow, nc, nw) = wakers();
        let mut n = notify.notified();
        assert!(poll_with(&mut n, &ow).is_pending());
        assert!(poll_with(&mut n, &nw).is_pending());
        notify.notify_one();
        assert_eq!((oc.count(), nc.count()), (0, 1));
        assert_eq!(poll_with(&mut n, &nw), Poll::Ready(()));

        // Semaphore
        let sem = Semaphore::new(1);
        let held = sem.try_acquire().unwrap();
        let (oc, ow, nc, nw) = wakers();
        let mut a = sem.acquire();
        assert!(poll_with(&mut a, &ow).is_pending());
        assert!(poll_with(&mut a, &nw).is_pending());
        drop(held);
        assert_eq!((oc.count(), nc.count()), (0, 1));
        assert!(poll_with(&mut a, &nw).is_ready());

        // Mutex
        let m = Mutex::new(());
        let held = m.try_lock().unwrap();
        let (oc, ow, nc, nw) = wakers();
        let mut l = m.lock();
        assert!(poll_with(&mut l, &ow).is_pending());
        assert!(poll_with(&mut l, &nw).is_pending());
        drop(held);
        assert_eq!((oc.count(), nc.count()), (0, 1));
        assert!(poll_with(&mut l, &nw).is_ready());
        drop(l);

        // mpsc: a waiting sender, and the receiver.
        let (tx, mut rx) = mpsc::channel::<u32>(1);
        tx.try_send(0).unwrap();
        let (oc, ow, nc, nw) = wakers();
        let mut s = tx.send(1);
        assert!(poll_with(&mut s, &ow).is_pending());
        assert!(poll_with(&mut s, &nw).is_pending());
        assert_eq!(rx.try_recv(), Ok(0));
        assert_eq!((oc.count(), nc.count()), (0, 1));
        assert!(matches!(poll_with(&mut s, &nw), Poll::Ready(Ok(()))));
        drop(s);
        assert_eq!(rx.try_recv(), Ok(1));
        let (oc, ow, nc, nw) = wakers();
        assert!(
            Pin::new(&mut rx)
                .poll_next(&mut Context::from_waker(&ow))
                .is_pending()
        );
        assert!(
            Pin::new(&mut rx)
                .poll_next(&mut Context::from_waker(&nw))
                .is_pending()
        );
        tx.try_send(2).unwrap();
        assert_eq!((oc.count(), nc.count()), (0, 1));

        // oneshot: the receiver, and a sender in closed().
        let (tx, mut rx) = oneshot::channel::<u32>();
        let (oc, ow, nc, nw) = wakers();
        assert!(poll_with(&mut rx, &ow).is_pending());
        assert!(poll_with(&mut rx, &nw).is_pending());
        tx.send(3).unwrap();
        assert_eq!((oc.count(), nc.count()), (0, 1));
        assert_eq!(poll_with(&mut rx, &nw), Poll::Ready(Ok(3)));
        let (mut tx, rx) = oneshot::channel::<u32>();
        let (oc, ow, nc, nw) = wakers();
        {
            let mut closed = Box::pin(tx.closed());
            assert!(
                closed
                    .as_mut()
                    .poll(&mut Context::from_waker(&ow))
                    .is_pending()
            );
            assert!(
                closed
                    .as_mut()
                    .poll(&mut Context::from_waker(&nw))
                    .is_pending()
            );
            drop(rx);
            assert_eq!((oc.count(), nc.count()), (0, 1));
            assert!(
                closed
                    .as_mut()
                    .poll(&mut Context::from_waker(&nw))
                    .is_ready()
            );
        }
    });
}

// ---------------------------------------------------------------------------
// Stored wakers are let go when their owner goes away
// ---------------------------------------------------------------------------

/// True once every clone of the counting waker but the test's own handle
/// is gone (nothing holds the waiting task's waker any more).
fn released(count: &Arc<CountingWaker>) -> bool {
    Arc::strong_count(count) == 1
}

#[test]
fn a_dropped_receiver_lets_go_of_its_waker() {
    watchdog(LIMIT, || {
        // Regression: the mpsc receiver's waker stayed in the channel until
        // every sender was gone, keeping a dead receiving task alive.
        let (tx, mut rx) = mpsc::channel::<u32>(1);
        let (count, waker) = counting_waker();
        assert!(poll_with(&mut Box::pin(rx.recv()), &waker).is_pending());
        drop(waker);
        assert!(!released(&count));
        drop(rx);
        assert!(
            released(&count),
            "the dropped receiver's waker is still held"
        );
        assert!(tx.is_closed());
        assert_eq!(count.count(), 0);

        // oneshot: the receiver dropped while the sender lives.
        let (tx, mut rx) = oneshot::channel::<u32>();
        let (count, waker) = counting_waker();
        assert!(poll_with(&mut rx, &waker).is_pending());
        drop(waker);
        drop(rx);
        assert!(
            released(&count),
            "the dropped oneshot receiver's waker is still held"
        );
        assert_eq!(tx.send(1), Err(1));

        // oneshot: close() means no wake can come; the waker goes too.
        let (_tx, mut rx) = oneshot::channel::<u32>();
        let (count, waker) = counting_waker();
        assert!(poll_with(&mut rx, &waker).is_pending());
        drop(waker);
        rx.close();
        assert!(released(&count));
    });
}

#[test]
fn a_gone_oneshot_sender_lets_go_of_its_closed_waker() {
    watchdog(LIMIT, || {
        // Dropped, and consumed by send, while the receiver lives.
        for send in [false, true] {
            let (mut tx, rx) = oneshot::channel::<u32>();
            let (count, waker) = counting_waker();
            assert!(
                Box::pin(tx.closed())
                    .as_mut()
                    .poll(&mut Context::from_waker(&waker))
                    .is_pending()
            );
            drop(waker);
            if send {
                tx.send(1).unwrap();
            } else {
                drop(tx);
            }
            assert!(
                released(&count),
                "the sender's closed() waker outlived the sender (send: {send})"
            );
            drop(rx);
            assert_eq!(count.count(), 0);
        }
    });
}

#[test]
fn dropped_waiting_futures_let_go_of_their_wakers() {
    watchdog(LIMIT, || {
        let (count, waker) = counting_waker();

        let (tx, _rx) = mpsc::channel::<u32>(1);
        tx.try_send(0).unwrap();
        let mut send = tx.send(1);
        assert!(poll_with(&mut send, &waker).is_pending());
        drop(send);

        let notify = Notify::new();
        let mut notified = notify.notified();
        assert!(poll_with(&mut notified, &waker).is_pending());
        drop(notified);

        let sem = Semaphore::new(0);
        let mut acquire = sem.acquire();
        assert!(poll_with(&mut acquire, &waker).is_pending());
        drop(acquire);

        drop(waker);
        assert!(released(&count));
        assert_eq!(count.count(), 0);
    });
}

// ---------------------------------------------------------------------------
// Cancellation
// ---------------------------------------------------------------------------

#[test]
fn mpsc_dropped_send_gives_its_reserved_room_back() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (tx, mut rx) = mpsc::channel::<u32>(1);
            tx.try_send(0).unwrap();
            let (a_count, a_waker) = counting_waker();
            let (b_count, b_waker) = counting_waker();
            let mut a = tx.send(1);
            let mut b = tx.send(2);
            assert!(poll_with(&mut a, &a_waker).is_pending());
            assert!(poll_with(&mut b, &b_waker).is_pending());

            // The freed slot is granted to A.
            assert_eq!(rx.try_recv(), Ok(0));
            assert_eq!(a_count.count(), 1);
            assert_eq!(b_count.count(), 0);
            // Reserved for A: nobody else can take it.
            assert!(matches!(tx.try_send(9), Err(TrySendError::Full(9))));

            // A is dropped before it is polled again: B gets the slot.
            drop(a);
            assert_eq!(
                b_count.count(),
                1,
                "the reserved slot was not passed on to B"
            );
            assert!(matches!(poll_with(&mut b, &b_waker), Poll::Ready(Ok(()))));
            drop(b);
            assert_eq!(rx.try_recv(), Ok(2));
            assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));

            // Capacity is exactly 1 again: not lost, not grown.
            tx.try_send(3).unwrap();
            assert!(matches!(tx.try_send(4), Err(TrySendError::Full(4))));
            assert_eq!(rx.recv().await, Some(3));
            tx.send(5).await.unwrap();
            assert!(matches!(tx.try_send(6), Err(TrySendError::Full(6))));
            assert_eq!(rx.recv().await, Some(5));

            // A granted send dropped with nobody behind it gives the slot
            // back to the channel.
            tx.try_send(7).unwrap();
            let (c_count, c_waker) = counting_waker();
            let mut c = tx.send(8);
            assert!(poll_with(&mut c, &c_waker).is_pending());
            assert_eq!(rx.try_recv(), Ok(7));
            assert_eq!(c_count.count(), 1);
            // The slot is reserved for C, though nobody else waits.
            assert!(matches!(tx.try_send(9), Err(TrySendError::Full(9))));
            drop(c);
            tx.try_send(10).unwrap();
            assert!(matches!(tx.try_send(11), Err(TrySendError::Full(11))));
            assert_eq!(rx.try_recv(), Ok(10));

            // A send dropped while still waiting leaves the queue.
            tx.try_send(12).unwrap();
            let mut d = tx.send(13);
            let mut e = tx.send(14);
            assert!(poll_with(&mut d, &c_waker).is_pending());
            assert!(poll_with(&mut e, &b_waker).is_pending());
            drop(d);
            assert_eq!(rx.try_recv(), Ok(12));
            assert!(matches!(poll_with(&mut e, &b_waker), Poll::Ready(Ok(()))));
            drop(e);
            assert_eq!(rx.try_recv(), Ok(14));
            tx.try_send(15).unwrap();
            assert!(matches!(tx.try_send(16), Err(TrySendError::Full(16))));
        });
    });
}

#[test]
fn mpsc_aborted_sender_task_gives_its_reserved_room_back() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (tx, mut rx) = mpsc::channel::<u32>(1);
            tx.try_send(0).unwrap();
            let tx = Rc::new(tx);
            let (t1, t2) = (tx.clone(), tx.clone());
            let a = eddy::spawn(async move { t1.send(1).await });
            yield_now().await;
            let b = eddy::spawn(async move { t2.send(2).await });
            yield_now().await;
            // Grant the slot to A, then abort A before it runs again.
            assert_eq!(rx.try_recv(), Ok(0));
            a.abort();
            assert!(a.await.unwrap_err().is_cancelled());
            b.await.unwrap().unwrap();
            assert_eq!(rx.recv().await, Some(2));
            tx.try_send(3).unwrap();
            assert!(tx.try_send(4).is_err());
        });
    });
}

#[test]
fn mpsc_dropped_reservation_passes_its_turn_on() {
    watchdog(LIMIT, || {
        let (a_count, a_waker) = counting_waker();
        let (b_count, b_waker) = counting_waker();
        let (tx, mut rx) = mpsc::channel::<u32>(1);

        // Dropped while waiting: gone from the line.
        tx.try_send(0).unwrap();
        let mut a = Box::pin(tx.reserve());
        let mut b = tx.send(1);
        assert!(poll_boxed(&mut a, &a_waker).is_pending());
        assert!(poll_with(&mut b, &b_waker).is_pending());
        drop(a);
        assert_eq!(rx.try_recv(), Ok(0));
        assert_eq!(b_count.count(), 1);
        assert!(matches!(poll_with(&mut b, &b_waker), Poll::Ready(Ok(()))));
        drop(b);
        assert_eq!(rx.try_recv(), Ok(1));

        // Granted, then dropped before it looked: the slot goes to the next
        // sender in line.
        tx.try_send(2).unwrap();
        let mut a = Box::pin(tx.reserve());
        let mut b = tx.send(3);
        assert!(poll_boxed(&mut a, &a_waker).is_pending());
        assert!(poll_with(&mut b, &b_waker).is_pending());
        assert_eq!(rx.try_recv(), Ok(2));
        assert_eq!((a_count.count(), b_count.count()), (1, 1));
        drop(a);
        assert_eq!(b_count.count(), 2, "the granted slot was not passed on");
        assert!(matches!(poll_with(&mut b, &b_waker), Poll::Ready(Ok(()))));
        drop(b);
        assert_eq!(rx.try_recv(), Ok(3));
        assert_eq!(tx.capacity(), 1, "room lost or grown");

        // A permit obtained and dropped: its room goes to the next in line.
        let permit = tx.try_reserve().unwrap();
        let mut b = tx.send(4);
        assert!(poll_with(&mut b, &b_waker).is_pending());
        drop(permit);
        assert_eq!(b_count.count(), 3);
        assert!(matches!(poll_with(&mut b, &b_waker), Poll::Ready(Ok(()))));
        drop(b);
        assert_eq!(rx.try_recv(), Ok(4));

        // A two-slot request at the head, dropped while one slot is free
        // (set aside for it): the single sends behind go at once.
        let (tx, mut rx) = mpsc::channel::<u32>(2);
        tx.try_send(0).unwrap();
        tx.try_send(1).unwrap();
        let mut many = Box::pin(tx.reserve_many(2));
        let mut b = tx.send(5);
        assert!(poll_boxed(&mut many, &a_waker).is_pending());
        assert!(poll_with(&mut b, &b_waker).is_pending());
        assert_eq!(rx.try_recv(), Ok(0));
        let before = b_count.count();
        drop(many);
        assert_eq!(
            b_count.count(),
            before + 1,
            "the send behind was not served"
        );
        assert!(matches!(poll_with(&mut b, &b_waker), Poll::Ready(Ok(()))));
        drop(b);

        // Granted many, dropped before it looked: both slots go on.
        let (tx, mut rx) = mpsc::channel::<u32>(2);
        tx.try_send(0).unwrap();
        tx.try_send(1).unwrap();
        let mut many = Box::pin(tx.reserve_many(2));
        let mut b = tx.send(6);
        let mut c = tx.send(7);
        let (c_count, c_waker) = counting_waker();
        assert!(poll_boxed(&mut many, &a_waker).is_pending());
        assert!(poll_with(&mut b, &b_waker).is_pending());
        assert!(poll_with(&mut c, &c_waker).is_pending());
        let mut buf = Vec::new();
        assert_eq!(rx.recv_many(&mut buf, 2).now_or_never(), Some(2));
        assert_eq!(c_count.count(), 0);
        drop(many);
        assert_eq!(c_count.count(), 1);
        assert!(poll_with(&mut b, &b_waker).is_ready());
        assert!(poll_with(&mut c, &c_waker).is_ready());
        drop((b, c));
        assert_eq!(rx.len(), 2);

        // With tasks: a reserving task aborted after it was granted.
        eddy::block_on(async {
            let (tx, mut rx) = mpsc::channel::<u32>(1);
            tx.try_send(0).unwrap();
            let tx = Rc::new(tx);
            let t = tx.clone();
            let a = eddy::spawn(async move { t.reserve().await.map(|p| p.send(1)) });
            yield_now().await;
            let t = tx.clone();
            let b = eddy::spawn(async move { t.send(2).await });
            yield_now().await;
            assert_eq!(rx.try_recv(), Ok(0));
            a.abort();
            assert!(a.await.unwrap_err().is_cancelled());
            b.await.unwrap().unwrap();
            assert_eq!(rx.recv().await, Some(2));
            assert_eq!(tx.capacity(), 1);
        });
    });
}

#[test]
fn semaphore_dropped_acquire_loses_no_permit() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let sem = Semaphore::new(2);
            let (a_count, a_waker) = counting_waker();
            let (b_count, b_waker) = counting_waker();

            // Dropped while waiting.
            let p1 = sem.try_acquire().unwrap();
            let p2 = sem.try_acquire().unwrap();
            let mut a = sem.acquire();
            assert!(poll_with(&mut a, &a_waker).is_pending());
            drop(a);
            drop(p1);
            assert_eq!(sem.available_permits(), 1);
            drop(p2);
            assert_eq!(sem.available_permits(), 2);
            assert_eq!(a_count.count(), 0);

            // Dropped after being granted, before being polled, with another
            // waiter behind: the permit passes on.
            let p1 = sem.try_acquire().unwrap();
            let p2 = sem.try_acquire().unwrap();
            let mut a = sem.acquire();
            let mut b = sem.acquire();
            assert!(poll_with(&mut a, &a_waker).is_pending());
            assert!(poll_with(&mut b, &b_waker).is_pending());
            drop(p1);
            assert_eq!(a_count.count(), 1, "the released permit goes to A");
            assert_eq!(sem.available_permits(), 0);
            drop(a);
            assert_eq!(b_count.count(), 1, "A's permit was not passed on to B");
            let pb = match poll_with(&mut b, &b_waker) {
                Poll::Ready(p) => p,
                Poll::Pending => panic!("B was handed A's permit but is still pending"),
            };
            drop(b);
            drop(pb);
            drop(p2);
            assert_eq!(sem.available_permits(), 2);

            // Granted and dropped with nobody behind: back to the count.
            let p1 = sem.try_acquire().unwrap();
            let p2 = sem.try_acquire().unwrap();
            let mut a = sem.acquire();
            assert!(poll_with(&mut a, &a_waker).is_pending());
            drop(p1);
            assert_eq!(sem.available_permits(), 0);
            drop(a);
            assert_eq!(sem.available_permits(), 1);
            drop(p2);
            assert_eq!(sem.available_permits(), 2);

            // Granted by add_permits, then dropped.
            let none = Semaphore::new(0);
            let mut a = none.acquire();
            assert!(poll_with(&mut a, &a_waker).is_pending());
            none.add_permits(1);
            drop(a);
            assert_eq!(none.available_permits(), 1);
            assert!(none.try_acquire().is_ok());
        });
    });
}

#[test]
fn semaphore_dropped_acquire_many_passes_its_turn_on() {
    watchdog(LIMIT, || {
        let (big_count, big_waker) = counting_waker();
        let (small_count, small_waker) = counting_waker();

        // Dropped while waiting at the head, with permits set aside for
        // it: the request behind, which fits, is served at once.
        let sem = Semaphore::new(2);
        let mut big = sem.acquire_many(3);
        let mut small = sem.acquire_many(2);
        assert_eq!(acquired(&mut big, &big_waker), None);
        assert_eq!(acquired(&mut small, &small_waker), None);
        drop(big);
        assert_eq!(small_count.count(), 1, "the next in line was not served");
        assert_eq!(acquired(&mut small, &small_waker), Some(2));
        assert_eq!(sem.available_permits(), 0);

        // Granted, then dropped before it looked: its permits go to the
        // waiters behind, in order, and the rest to the count.
        let sem = Semaphore::new(0);
        let mut big = sem.acquire_many(3);
        let mut a = sem.acquire();
        let mut b = sem.acquire();
        let (a_count, a_waker) = counting_waker();
        assert_eq!(acquired(&mut big, &big_waker), None);
        assert_eq!(acquired(&mut a, &a_waker), None);
        assert_eq!(acquired(&mut b, &small_waker), None);
        sem.add_permits(3);
        assert_eq!(big_count.count(), 1);
        assert_eq!(a_count.count(), 0);
        drop(big);
        assert_eq!(a_count.count(), 1);
        assert_eq!(small_count.count(), 2);
        assert_eq!(sem.available_permits(), 1);
        assert_eq!(acquired(&mut a, &a_waker), Some(1));
        assert_eq!(acquired(&mut b, &small_waker), Some(1));

        // Granted and dropped with nobody behind: back to the count, whole.
        let sem = Semaphore::new(1);
        let held = sem.try_acquire().unwrap();
        let mut big = sem.acquire_many(4);
        assert_eq!(acquired(&mut big, &big_waker), None);
        sem.add_permits(3);
        drop(held);
        drop(big);
        assert_eq!(sem.available_permits(), 4);

        // With tasks: the head task is aborted while it waits.
        eddy::block_on(async {
            let sem = Rc::new(Semaphore::new(1));
            let s = sem.clone();
            let big = eddy::spawn(async move { s.acquire_many(5).await.num_permits() });
            yield_now().await;
            let s = sem.clone();
            let small = eddy::spawn(async move { s.acquire().await.num_permits() });
            yield_now().await;
            assert!(!small.is_finished());
            big.abort();
            assert_eq!(small.await.unwrap(), 1);
            assert_eq!(sem.available_permits(), 1);
        });
    });
}

#[test]
fn notify_dropped_chosen_notified_passes_the_notification_on() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let notify = Notify::new();
            let (a_count, a_waker) = counting_waker();
            let (b_count, b_waker) = counting_waker();
            let mut a = notify.notified();
            let mut b = notify.notified();
            assert!(poll_with(&mut a, &a_waker).is_pending());
            assert!(poll_with(&mut b, &b_waker).is_pending());
            notify.notify_one();
            assert_eq!(a_count.count(), 1);
            assert_eq!(b_count.count(), 0);
            drop(a);
            assert_eq!(b_count.count(), 1, "the notification was not passed on");
            assert_eq!(poll_with(&mut b, &b_waker), Poll::Ready(()));
            drop(b);
            // Passed on, not duplicated: no permit stored.
            assert!(notify.notified().now_or_never().is_none());

            // Chosen and dropped with nobody behind: it becomes the permit.
            let mut a = notify.notified();
            assert!(poll_with(&mut a, &a_waker).is_pending());
            notify.notify_one();
            drop(a);
            assert_eq!(notify.notified().now_or_never(), Some(()));
            assert!(notify.notified().now_or_never().is_none());

            // A waiter dropped while waiting is simply gone.
            let mut a = notify.notified();
            let mut b = notify.notified();
            assert!(poll_with(&mut a, &a_waker).is_pending());
            assert!(poll_with(&mut b, &b_waker).is_pending());
            drop(a);
            notify.notify_one();
            assert_eq!(poll_with(&mut b, &b_waker), Poll::Ready(()));

            // With tasks: the chosen one is aborted before it runs.
            let notify = Rc::new(Notify::new());
            let (n1, n2) = (notify.clone(), notify.clone());
            let first = eddy::spawn(async move { n1.notified().await });
            yield_now().await;
            let second = eddy::spawn(async move { n2.notified().await });
            yield_now().await;
            notify.notify_one();
            first.abort();
            second.await.unwrap();
        });
    });
}

#[test]
fn mutex_dropped_lock_waiter_does_not_block_the_queue() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            // Tasks: one waiter in the middle is aborted while waiting.
            let m = Rc::new(Mutex::new(Vec::new()));
            let held = m.lock().await;
            let mut tasks = Vec::new();
            for i in 0..3 {
                let m = m.clone();
                tasks.push(eddy::spawn(async move {
                    m.lock().await.push(i);
                }));
                yield_now().await;
            }
            tasks[1].abort();
            drop(held);
            for (i, t) in tasks.into_iter().enumerate() {
                assert_eq!(t.await.is_ok(), i != 1);
            }
            assert_eq!(*m.lock().await, vec![0, 2]);

            // By hand: dropped while waiting, and dropped after being granted.
            let m = Mutex::new(0);
            let (count, waker) = counting_waker();
            let held = m.try_lock().unwrap();
            let mut a = m.lock();
            let mut b = m.lock();
            let mut c = m.lock();
            assert!(poll_with(&mut a, &waker).is_pending());
            assert!(poll_with(&mut b, &waker).is_pending());
            assert!(poll_with(&mut c, &waker).is_pending());
            drop(a); // waiting
            drop(held); // grants B
            assert_eq!(count.count(), 1);
            drop(b); // granted, never polled: passes the lock on to C
            assert_eq!(count.count(), 2);
            match poll_with(&mut c, &waker) {
                Poll::Ready(mut g) => *g += 1,
                Poll::Pending => panic!("C never got the lock"),
            }
            drop(c);
            assert_eq!(*m.try_lock().expect("the lock is free at the end"), 1);
        });
    });
}

// ---------------------------------------------------------------------------
// User code run from inside the primitives (no RefCell borrow panics)
// ---------------------------------------------------------------------------

enum Item {
    Num(u32),
    /// Kept for its `Drop`.
    Echo {
        _echo: EchoOnDrop,
    },
}

/// Holds a sender of the channel it is queued in; its Drop sends on it.
struct EchoOnDrop {
    tx: mpsc::Sender<Item>,
    log: Rc<RefCell<Vec<&'static str>>>,
}

impl Drop for EchoOnDrop {
    fn drop(&mut self) {
        let outcome = match self.tx.try_send(Item::Num(99)) {
            Ok(()) => "ok",
            Err(TrySendError::Full(_)) => "full",
            Err(TrySendError::Closed(_)) => "closed",
        };
        let _ = self.tx.is_closed();
        self.log.borrow_mut().push(outcome);
    }
}

#[test]
fn mpsc_values_whose_drop_uses_the_same_channel() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let log = Rc::new(RefCell::new(Vec::new()));
            let echo = |tx: &mpsc::Sender<Item>| Item::Echo {
                _echo: EchoOnDrop {
                    tx: tx.clone(),
                    log: log.clone(),
                },
            };

            // Queued values dropped when the receiver drops.
            let (tx, rx) = mpsc::unbounded::<Item>();
            tx.try_send(Item::Num(1)).unwrap();
            tx.try_send(echo(&tx)).unwrap();
            tx.try_send(echo(&tx)).unwrap();
            drop(tx);
            drop(rx);
            assert_eq!(*log.borrow(), vec!["closed", "closed"]);
            log.borrow_mut().clear();

            // Bounded, with a waiting sender, receiver dropped.
            let (tx, rx) = mpsc::channel::<Item>(1);
            tx.try_send(echo(&tx)).unwrap();
            let t = tx.clone();
            let waiting = eddy::spawn(async move {
                let e = Item::Echo {
                    _echo: EchoOnDrop {
                        tx: t.clone(),
                        log: Rc::new(RefCell::new(Vec::new())),
                    },
                };
                // The value comes back in the error and is dropped here.
                t.send(e).await.is_err()
            });
            yield_now().await;
            drop(rx);
            assert!(waiting.await.unwrap());
            assert_eq!(*log.borrow(), vec!["closed"]);
            log.borrow_mut().clear();

            // A received value dropped while the channel is live.
            let (tx, mut rx) = mpsc::unbounded::<Item>();
            tx.try_send(echo(&tx)).unwrap();
            let v = rx.recv().await.unwrap();
            drop(v);
            assert_eq!(*log.borrow(), vec!["ok"]);
            assert!(matches!(rx.try_recv(), Ok(Item::Num(99))));
            log.borrow_mut().clear();

            // A waiting send future dropped with its value.
            let (tx, mut rx) = mpsc::channel::<Item>(1);
            tx.try_send(Item::Num(0)).unwrap();
            let (_count, waker) = counting_waker();
            let mut s = tx.send(echo(&tx));
            assert!(poll_with(&mut s, &waker).is_pending());
            drop(s);
            assert_eq!(*log.borrow(), vec!["full"]);
            log.borrow_mut().clear();

            // A granted send future dropped with its value: the slot goes
            // back first, so the value's own try_send gets through.
            let mut s = tx.send(echo(&tx));
            assert!(poll_with(&mut s, &waker).is_pending());
            assert!(matches!(rx.try_recv(), Ok(Item::Num(0))));
            drop(s);
            assert_eq!(*log.borrow(), vec!["ok"]);
            assert!(matches!(rx.try_recv(), Ok(Item::Num(99))));
        });
    });
}

#[test]
fn mpsc_wakers_that_use_the_same_channel() {
    watchdog(LIMIT, || {
        let (tx, mut rx) = mpsc::channel::<u32>(1);
        let tx = Rc::new(tx);
        let outcomes = Rc::new(RefCell::new(Vec::new()));

        // The receiver's waker sends from inside the send that wakes it.
        let (t, o) = (tx.clone(), outcomes.clone());
        let rx_waker = hook_waker(
            move || o.borrow_mut().push(("rx woken", t.try_send(50).is_ok())),
            || {},
        );
        assert!(
            Pin::new(&mut rx)
                .poll_next(&mut Context::from_waker(&rx_waker))
                .is_pending()
        );
        drop(rx_waker);
        tx.try_send(1).unwrap();
        assert_eq!(*outcomes.borrow(), vec![("rx woken", false)]);
        outcomes.borrow_mut().clear();

        // A waiting sender's waker, woken from inside recv, sends too (the
        // slot is reserved for the waiter, so that fails); its drop too.
        let (t1, t2, o1, o2) = (tx.clone(), tx.clone(), outcomes.clone(), outcomes.clone());
        let s_waker = hook_waker(
            move || {
                o1.borrow_mut()
                    .push(("sender woken", t1.try_send(60).is_ok()))
            },
            move || {
                o2.borrow_mut()
                    .push(("sender waker dropped", t2.try_send(70).is_ok()))
            },
        );
        let mut s = tx.send(2);
        assert!(poll_with(&mut s, &s_waker).is_pending());
        drop(s_waker);
        assert_eq!(rx.try_recv(), Ok(1));
        assert!(matches!(
            poll_with(&mut s, futures::task::noop_waker_ref()),
            Poll::Ready(Ok(()))
        ));
        drop(s);
        assert_eq!(
            *outcomes.borrow(),
            vec![("sender woken", false), ("sender waker dropped", false)]
        );
        assert_eq!(rx.try_recv(), Ok(2));
        outcomes.borrow_mut().clear();

        // The waker of a waiting sender, dropped when the receiver drops
        // (the sender learns the channel is closed).
        tx.try_send(3).unwrap();
        let (t1, t2, o1, o2) = (tx.clone(), tx.clone(), outcomes.clone(), outcomes.clone());
        let s_waker = hook_waker(
            move || {
                o1.borrow_mut()
                    .push(("closed woken", t1.try_send(80).is_ok()))
            },
            move || {
                o2.borrow_mut()
                    .push(("closed dropped", t2.try_send(90).is_ok()))
            },
        );
        let mut s = tx.send(4);
        assert!(poll_with(&mut s, &s_waker).is_pending());
        drop(s_waker);
        drop(rx);
        assert!(matches!(
            poll_with(&mut s, futures::task::noop_waker_ref()),
            Poll::Ready(Err(SendError(4)))
        ));
        assert_eq!(
            *outcomes.borrow(),
            vec![("closed woken", false), ("closed dropped", false)]
        );
    });
}

#[test]
fn mpsc_reservations_with_user_code_that_uses_the_same_channel() {
    watchdog(LIMIT, || {
        let (tx, mut rx) = mpsc::channel::<u32>(1);
        let tx = Rc::new(tx);
        let outcomes = Rc::new(RefCell::new(Vec::new()));

        // A waiting reservation's waker, woken from inside recv, tries to
        // reserve and send (the slot is kept for the waiter: both fail); its
        // drop does the same.
        let (t1, t2, o1, o2) = (tx.clone(), tx.clone(), outcomes.clone(), outcomes.clone());
        let waker = hook_waker(
            move || {
                let r = t1.try_reserve().is_ok();
                let s = t1.try_send(60).is_ok();
                o1.borrow_mut().push(("woken", r || s, t1.capacity()));
            },
            move || {
                let r = t2.try_reserve().is_ok();
                o2.borrow_mut().push(("dropped", r, t2.capacity()));
            },
        );
        tx.try_send(0).unwrap();
        let mut reserve = Box::pin(tx.reserve());
        assert!(poll_boxed(&mut reserve, &waker).is_pending());
        drop(waker);
        assert_eq!(rx.try_recv(), Ok(0));
        assert_eq!(
            *outcomes.borrow(),
            vec![("woken", false, 0), ("dropped", false, 0)]
        );
        match poll_boxed(&mut reserve, futures::task::noop_waker_ref()) {
            Poll::Ready(Ok(p)) => p.send(1),
            _ => panic!("the reservation was granted"),
        }
        drop(reserve);
        assert_eq!(rx.try_recv(), Ok(1));
        outcomes.borrow_mut().clear();

        // A waker whose drop gives a permit back, dropped while its
        // reservation leaves the line: the room goes to the next waiter.
        let owned = mpsc::Sender::clone(&tx).try_reserve_owned().unwrap();
        let stash = Rc::new(RefCell::new(Some(owned)));
        let st = stash.clone();
        let waker = hook_waker(|| {}, move || drop(st.borrow_mut().take()));
        let mut leaving = Box::pin(tx.reserve());
        let (count, next_waker) = counting_waker();
        let mut next = tx.send(2);
        assert!(poll_boxed(&mut leaving, &waker).is_pending());
        assert!(poll_with(&mut next, &next_waker).is_pending());
        drop(waker);
        drop(leaving);
        assert!(stash.borrow().is_none());
        assert_eq!(count.count(), 1, "the permit's room skipped the waiter");
        assert!(matches!(
            poll_with(&mut next, &next_waker),
            Poll::Ready(Ok(()))
        ));
        drop(next);
        assert_eq!(rx.try_recv(), Ok(2));

        // Values holding a permit of their own channel, dropped by the
        // receiver's drop: the permits give their room back mid-drain.
        struct HoldsPermit(#[allow(dead_code)] Option<mpsc::OwnedPermit<HoldsPermit>>);
        let (tx, rx) = mpsc::channel::<HoldsPermit>(3);
        let permit = tx.clone().try_reserve_owned().unwrap();
        tx.try_send(HoldsPermit(Some(permit))).unwrap();
        let (count, waker) = counting_waker();
        let mut closed = Box::pin(tx.closed());
        assert!(poll_boxed(&mut closed, &waker).is_pending());
        drop(rx);
        assert_eq!(count.count(), 1);
        assert!(poll_boxed(&mut closed, &waker).is_ready());
        drop(closed);
        assert_eq!(tx.capacity(), 3);

        // A permit's value sent after the receiver is gone: its drop uses
        // the channel (and finds it closed).
        let log = Rc::new(RefCell::new(Vec::new()));
        let (tx, rx) = mpsc::channel::<Item>(2);
        let permit = tx.try_reserve().unwrap();
        drop(rx);
        permit.send(Item::Echo {
            _echo: EchoOnDrop {
                tx: tx.clone(),
                log: log.clone(),
            },
        });
        assert_eq!(*log.borrow(), vec!["closed"]);
    });
}

#[test]
fn notify_user_code_that_uses_the_same_notify() {
    watchdog(LIMIT, || {
        let notify = Rc::new(Notify::new());
        let calls = Rc::new(Cell::new(0));

        // A waker that calls notify_one when woken by notify_one.
        let (n, c) = (notify.clone(), calls.clone());
        let waker = hook_waker(
            move || {
                c.set(c.get() + 1);
                n.notify_one();
            },
            || {},
        );
        let mut a = notify.notified();
        assert!(poll_with(&mut a, &waker).is_pending());
        notify.notify_one();
        assert_eq!(calls.get(), 1);
        assert_eq!(poll_with(&mut a, &waker), Poll::Ready(()));
        drop(a);
        // The hook's notify_one found nobody waiting: a permit.
        assert_eq!(notify.notified().now_or_never(), Some(()));

        // ...and when woken by notify_waiters, with several waiters.
        let mut a = notify.notified();
        let mut b = notify.notified();
        assert!(poll_with(&mut a, &waker).is_pending());
        assert!(poll_with(&mut b, &waker).is_pending());
        notify.notify_waiters();
        assert_eq!(calls.get(), 3);
        assert_eq!(poll_with(&mut a, &waker), Poll::Ready(()));
        assert_eq!(poll_with(&mut b, &waker), Poll::Ready(()));
        drop((a, b));
        assert_eq!(notify.notified().now_or_never(), Some(()));
        drop(waker);

        // A waker whose drop calls notify_one and notify_waiters, dropped
        // by the Notify (the future is dropped while waiting, and a waker
        // is replaced).
        let (n, c) = (notify.clone(), calls.clone());
        let dropping = hook_waker(
            || {},
            move || {
                c.set(c.get() + 10);
                n.notify_waiters();
                n.notify_one();
            },
        );
        let mut a = notify.notified();
        assert!(poll_with(&mut a, &dropping).is_pending());
        drop(dropping);
        drop(a);
        assert_eq!(calls.get(), 13);
        assert_eq!(notify.notified().now_or_never(), Some(()));

        let (n, c) = (notify.clone(), calls.clone());
        let dropping = hook_waker(
            || {},
            move || {
                c.set(c.get() + 100);
                n.notify_one();
            },
        );
        let (count, other) = counting_waker();
        let mut a = notify.notified();
        assert!(poll_with(&mut a, &dropping).is_pending());
        drop(dropping);
        // Re-polled with another waker: the old one is dropped, its hook
        // notifies, and the new waker is woken.
        assert!(poll_with(&mut a, &other).is_pending());
        assert_eq!(calls.get(), 113);
        assert_eq!(count.count(), 1);
        assert_eq!(poll_with(&mut a, &other), Poll::Ready(()));

        // A value whose Drop calls notify_one, dropped by a waking task.
        struct NotifyOnDrop(Rc<Notify>);
        impl Drop for NotifyOnDrop {
            fn drop(&mut self) {
                self.0.notify_one();
            }
        }
        eddy::block_on(async {
            let notify = Rc::new(Notify::new());
            let n = notify.clone();
            let waiter = eddy::spawn(async move {
                let guard = NotifyOnDrop(n.clone());
                n.notified().await;
                drop(guard); // stores a permit: nobody else waits
                n.notified().await;
            });
            yield_now().await;
            notify.notify_one();
            waiter.await.unwrap();
        });
    });
}

#[test]
fn notify_last_and_enable_with_user_code_that_uses_the_same_notify() {
    watchdog(LIMIT, || {
        let notify = Rc::new(Notify::new());
        // The latest waiter's waker, woken by notify_last, passes a
        // notify_last on (to the waiter before it) and enables a new future.
        let enabled = Rc::new(RefCell::new(Vec::new()));
        let (n, e) = (notify.clone(), enabled.clone());
        let chain = hook_waker(
            move || {
                n.notify_last();
                let mut fresh = n.notified();
                e.borrow_mut().push(fresh.enable());
            },
            || {},
        );
        let (count, plain) = counting_waker();
        let mut early = notify.notified();
        let mut late = notify.notified();
        assert!(poll_with(&mut early, &plain).is_pending());
        assert!(poll_with(&mut late, &chain).is_pending());
        notify.notify_last();
        assert_eq!(count.count(), 1, "the hook's notify_last reached `early`");
        // The fresh future found no permit, joined, and left when dropped.
        assert_eq!(*enabled.borrow(), vec![false]);
        assert_eq!(poll_with(&mut late, &plain), Poll::Ready(()));
        assert_eq!(poll_with(&mut early, &plain), Poll::Ready(()));
        drop((early, late));
        assert!(notify.notified().now_or_never().is_none());

        // An enabled future's placeholder waker is never user code; one
        // polled later with a waker whose drop notifies: replaced and
        // dropped with no borrow held.
        let n = notify.clone();
        let dropping = hook_waker(|| {}, move || n.notify_last());
        let mut f = notify.notified();
        f.enable();
        assert!(poll_with(&mut f, &dropping).is_pending());
        drop(dropping);
        assert!(poll_with(&mut f, &plain).is_pending());
        // The dropped waker's notify_last chose `f` itself.
        assert_eq!(poll_with(&mut f, &plain), Poll::Ready(()));
    });
}

#[test]
fn semaphore_user_code_that_uses_the_same_semaphore() {
    watchdog(LIMIT, || {
        let sem = Rc::new(Semaphore::new(1));
        let seen = Rc::new(RefCell::new(Vec::new()));

        // A waiter's waker that looks at and uses the semaphore when woken
        // (from inside a permit's drop) and when dropped.
        let (s1, s2, v1, v2) = (sem.clone(), sem.clone(), seen.clone(), seen.clone());
        let waker = hook_waker(
            move || {
                let p = s1.try_acquire();
                v1.borrow_mut()
                    .push(("woken", s1.available_permits(), p.is_ok()));
            },
            move || {
                s2.add_permits(1);
                v2.borrow_mut()
                    .push(("dropped", s2.available_permits(), true));
            },
        );
        let held = sem.try_acquire().unwrap();
        let mut a = sem.acquire();
        assert!(poll_with(&mut a, &waker).is_pending());
        drop(waker);
        drop(held);
        // The permit was promised to the waiter: the hook's try_acquire failed.
        // The waker's last clone went with the wake: add_permits ran.
        assert_eq!(
            *seen.borrow(),
            vec![("woken", 0, false), ("dropped", 1, true)]
        );
        let p = match poll_with(&mut a, futures::task::noop_waker_ref()) {
            Poll::Ready(p) => p,
            Poll::Pending => panic!("the waiter was handed a permit"),
        };
        drop(a);
        drop(p);
        assert_eq!(sem.available_permits(), 2);
        seen.borrow_mut().clear();

        // Waker dropped from inside the Acquire's drop (still waiting).
        let sem = Rc::new(Semaphore::new(0));
        let s = sem.clone();
        let waker = hook_waker(|| {}, move || s.add_permits(2));
        let mut a = sem.acquire();
        assert!(poll_with(&mut a, &waker).is_pending());
        drop(waker);
        drop(a);
        assert_eq!(sem.available_permits(), 2);

        // A value whose Drop calls add_permits and try_acquire.
        struct AddOnDrop<'a>(&'a Semaphore, Option<eddy::sync::Permit<'a>>);
        impl Drop for AddOnDrop<'_> {
            fn drop(&mut self) {
                drop(self.1.take());
                self.0.add_permits(1);
                let _ = self.0.try_acquire();
            }
        }
        eddy::block_on(async {
            let sem = Rc::new(Semaphore::new(1));
            let s = sem.clone();
            let waiter = eddy::spawn(async move { s.acquire().await.forget() });
            {
                let _v = AddOnDrop(&sem, Some(sem.acquire().await));
                yield_now().await;
            }
            waiter.await.unwrap();
            assert_eq!(sem.available_permits(), 1);
        });
    });
}

#[test]
fn semaphore_many_user_code_that_uses_the_same_semaphore() {
    watchdog(LIMIT, || {
        // The head's waker, woken from inside add_permits, takes and forgets
        // permits, and adds some back: the waiters behind see a consistent
        // count.
        let sem = Rc::new(Semaphore::new(0));
        let seen = Rc::new(RefCell::new(Vec::new()));
        let (s, v) = (sem.clone(), seen.clone());
        let waker = hook_waker(
            move || {
                v.borrow_mut().push(("woken", s.available_permits()));
                let forgot = s.forget_permits(1);
                v.borrow_mut().push(("forgot", forgot));
                s.add_permits(2);
                let p = s.try_acquire_many(5);
                v.borrow_mut().push(("try 5", usize::from(p.is_ok())));
            },
            || {},
        );
        let (count, plain) = counting_waker();
        let mut big = sem.acquire_many(2);
        let mut next = sem.acquire_many(2);
        assert_eq!(acquired(&mut big, &waker), None);
        assert_eq!(acquired(&mut next, &plain), None);
        drop(waker);
        sem.add_permits(3);
        // `big` got 2 of the 3. The 1 left is set aside for `next`, so the
        // hook sees none free and forgets none; its 2 more complete `next`,
        // and its try for 5 finds too few.
        assert_eq!(
            *seen.borrow(),
            vec![("woken", 0), ("forgot", 0), ("try 5", 0)]
        );
        assert_eq!(count.count(), 1);
        assert_eq!(acquired(&mut big, &plain), Some(2));
        assert_eq!(acquired(&mut next, &plain), Some(2));
        assert_eq!(sem.available_permits(), 1);

        // A permit whose drop is run from inside a waker (a permit kept in
        // the hook's state), releasing into the same semaphore.
        let sem = Rc::new(Semaphore::new(2));
        let stash: Rc<RefCell<Option<eddy::sync::OwnedPermit>>> = Rc::new(RefCell::new(None));
        *stash.borrow_mut() = Some(sem.clone().try_acquire_many_owned(2).unwrap());
        let st = stash.clone();
        let waker = hook_waker(|| {}, move || drop(st.borrow_mut().take()));
        let mut a = sem.acquire_many(2);
        assert_eq!(acquired(&mut a, &waker), None);
        drop(waker);
        // Dropping the waiting future drops its waker, whose drop gives the
        // two permits back while the future is leaving the line.
        drop(a);
        assert_eq!(sem.available_permits(), 2);
        assert!(stash.borrow().is_none());
    });
}

#[test]
fn mutex_user_code_that_uses_the_same_mutex() {
    /// Its Drop tries to lock the mutex it lives in.
    struct TryLockOnDrop {
        mutex: Weak<Mutex<Vec<TryLockOnDrop>>>,
        got: Rc<RefCell<Vec<bool>>>,
    }
    impl Drop for TryLockOnDrop {
        fn drop(&mut self) {
            if let Some(m) = self.mutex.upgrade() {
                let got = m.try_lock().is_ok();
                self.got.borrow_mut().push(got);
            }
        }
    }
    watchdog(LIMIT, || {
        let got = Rc::new(RefCell::new(Vec::new()));
        let m = Rc::new(Mutex::new(Vec::new()));
        let item = || TryLockOnDrop {
            mutex: Rc::downgrade(&m),
            got: got.clone(),
        };
        {
            let mut g = m.try_lock().unwrap();
            g.push(item());
            g.push(item());
            g.clear(); // dropped while the lock is held
        }
        assert_eq!(*got.borrow(), vec![false, false]);
        // Taken out and dropped after the guard: the lock is free.
        let outside = {
            let mut g = m.try_lock().unwrap();
            g.push(item());
            g.pop().unwrap()
        };
        drop(outside);
        assert_eq!(*got.borrow(), vec![false, false, true]);
        got.borrow_mut().clear();

        // A waiter's waker that tries the lock when woken by the guard's
        // drop (the lock is handed over, so it fails) and when dropped.
        let (m1, m2, g1, g2) = (m.clone(), m.clone(), got.clone(), got.clone());
        let waker = hook_waker(
            move || g1.borrow_mut().push(m1.try_lock().is_ok()),
            move || g2.borrow_mut().push(m2.try_lock().is_ok()),
        );
        let guard = m.try_lock().unwrap();
        let mut lock = m.lock();
        assert!(poll_with(&mut lock, &waker).is_pending());
        drop(waker);
        drop(guard);
        assert_eq!(*got.borrow(), vec![false, false]);
        match poll_with(&mut lock, futures::task::noop_waker_ref()) {
            Poll::Ready(mut g) => g.push(item()),
            Poll::Pending => panic!("the lock was handed to the waiter"),
        }
        drop(lock);
        // Free again: the item's drop (out of the lock) gets it.
        let taken = m.try_lock().unwrap().pop().unwrap();
        drop(taken);
        assert_eq!(*got.borrow(), vec![false, false, true]);

        // A waker that polls the waiting lock() at once, inside the guard's
        // drop that wakes it (as an executor running tasks inline would):
        // the value must already be free for the new guard.
        let m: &'static Mutex<u32> = Box::leak(Box::new(Mutex::new(0)));
        let slot: Rc<RefCell<Option<eddy::sync::Lock<'static, u32>>>> = Rc::new(RefCell::new(None));
        let seen = Rc::new(Cell::new(None));
        let (sl, se) = (slot.clone(), seen.clone());
        let inline = hook_waker(
            move || {
                let mut lock = sl.borrow_mut().take().expect("woken once");
                if let Poll::Ready(mut g) = poll_with(&mut lock, futures::task::noop_waker_ref()) {
                    *g += 1;
                    se.set(Some(*g));
                }
            },
            || {},
        );
        let mut guard = m.try_lock().unwrap();
        *guard = 41;
        let mut lock = m.lock();
        assert!(poll_with(&mut lock, &inline).is_pending());
        *slot.borrow_mut() = Some(lock);
        drop(guard);
        assert_eq!(seen.get(), Some(42));
        assert_eq!(*m.try_lock().expect("the inline holder released it"), 42);
    });
}

#[test]
fn oneshot_values_whose_drop_uses_a_oneshot() {
    /// A reply sender: dropping the request drops it, waking the requester.
    struct Request(oneshot::Sender<u32>);

    /// Its Drop uses the receiver of its own channel, kept in a slot.
    struct PokeOwnReceiver {
        slot: Rc<RefCell<Option<oneshot::Receiver<PokeOwnReceiver>>>>,
        seen: Rc<RefCell<Vec<oneshot::TryRecvError>>>,
    }
    impl Drop for PokeOwnReceiver {
        fn drop(&mut self) {
            if let Some(rx) = self.slot.borrow_mut().as_mut() {
                if let Err(e) = rx.try_recv() {
                    self.seen.borrow_mut().push(e);
                }
                rx.close();
            }
        }
    }

    watchdog(LIMIT, || {
        eddy::block_on(async {
            // A queued request dropped with the receiver drops its reply
            // sender: the requester is woken with RecvError.
            let (req_tx, req_rx) = oneshot::channel::<Request>();
            let (reply_tx, reply_rx) = oneshot::channel::<u32>();
            let requester = eddy::spawn(reply_rx);
            yield_now().await;
            req_tx.send(Request(reply_tx)).ok().unwrap();
            drop(req_rx);
            assert_eq!(requester.await.unwrap(), Err(oneshot::RecvError));

            // A request refused (receiver gone) comes back; dropping it
            // wakes the requester as well.
            let (req_tx, req_rx) = oneshot::channel::<Request>();
            let (reply_tx, reply_rx) = oneshot::channel::<u32>();
            let requester = eddy::spawn(reply_rx);
            yield_now().await;
            drop(req_rx);
            let back = req_tx.send(Request(reply_tx)).err().unwrap();
            assert!(!back.0.is_closed());
            drop(back);
            assert_eq!(requester.await.unwrap(), Err(oneshot::RecvError));

            // A value that uses its own channel's receiver when dropped.
            let slot = Rc::new(RefCell::new(None));
            let seen = Rc::new(RefCell::new(Vec::new()));
            let (tx, rx) = oneshot::channel::<PokeOwnReceiver>();
            *slot.borrow_mut() = Some(rx);
            tx.send(PokeOwnReceiver {
                slot: slot.clone(),
                seen: seen.clone(),
            })
            .ok()
            .unwrap();
            let value = slot.borrow_mut().as_mut().unwrap().try_recv().ok().unwrap();
            drop(value);
            assert_eq!(*seen.borrow(), vec![oneshot::TryRecvError::Closed]);
            let rx = slot.borrow_mut().take();
            drop(rx);
        });
    });
}

#[test]
fn oneshot_wakers_dropped_by_the_channel_may_use_it() {
    watchdog(LIMIT, || {
        // The receiver's waker, dropped by close(), sends on the channel:
        // refused (the close came first), without a borrow panic.
        let (tx, mut rx) = oneshot::channel::<u32>();
        let stash = Rc::new(RefCell::new(Some(tx)));
        let refused = Rc::new(Cell::new(None));
        let (st, r) = (stash.clone(), refused.clone());
        let waker = hook_waker(
            || {},
            move || {
                if let Some(tx) = st.borrow_mut().take() {
                    r.set(Some(tx.send(5).is_err()));
                }
            },
        );
        assert!(poll_with(&mut rx, &waker).is_pending());
        drop(waker);
        rx.close();
        assert_eq!(refused.get(), Some(true));
        assert_eq!(rx.try_recv(), Err(oneshot::TryRecvError::Closed));

        // The sender's closed() waker, dropped by send(), looks at the
        // receiver's side through is_closed on a second channel it holds,
        // and drops that sender: the second receiver ends.
        let (tx, mut rx) = oneshot::channel::<u32>();
        let (tx2, mut rx2) = oneshot::channel::<u32>();
        let held = Rc::new(RefCell::new(Some(tx2)));
        let h = held.clone();
        let waker = hook_waker(
            || {},
            move || {
                if let Some(tx2) = h.borrow_mut().take() {
                    assert!(!tx2.is_closed());
                }
            },
        );
        let mut tx = tx;
        assert!(
            tx.poll_closed(&mut Context::from_waker(&waker))
                .is_pending()
        );
        drop(waker);
        tx.send(1).unwrap();
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(rx2.try_recv(), Err(oneshot::TryRecvError::Closed));
    });
}

// ---------------------------------------------------------------------------
// A pipeline
// ---------------------------------------------------------------------------

#[test]
fn three_stage_pipeline_with_bounded_queues() {
    watchdog(LIMIT, || {
        const N: u64 = 10_000;
        let sum = eddy::block_on(async {
            let (tx1, mut rx1) = mpsc::channel::<u64>(16);
            let (tx2, mut rx2) = mpsc::channel::<u64>(16);
            let produce = eddy::spawn(async move {
                for i in 0..N {
                    tx1.send(i).await.unwrap();
                }
            });
            let square = eddy::spawn(async move {
                while let Some(i) = rx1.recv().await {
                    tx2.send(i * i).await.unwrap();
                }
            });
            let mut sum = 0u64;
            let mut count = 0u64;
            let mut max_queued = 0;
            while let Some(sq) = rx2.recv().await {
                max_queued = max_queued.max(rx2.len() + 1);
                sum += sq;
                count += 1;
            }
            produce.await.unwrap();
            square.await.unwrap();
            assert_eq!(count, N);
            assert!(max_queued <= 16);
            sum
        });
        // Sum of squares 0..N.
        assert_eq!(sum, (N - 1) * N * (2 * N - 1) / 6);
    });
}
