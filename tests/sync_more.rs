//! Integration tests for API.md's "More sync": `broadcast`, `watch`,
//! `RwLock`, `Barrier`, `OnceCell`, the fused futures and streams
//! (`Sleep`, `JoinHandle`, `broadcast::Receiver`) and
//! `JoinSet::join_next_with_id`.
//!
//! As in `sync.rs`, order is controlled with `yield_now`, by awaiting
//! handles, and by polling futures by hand with wakers the test owns;
//! nothing sleeps to wait for something to happen.

mod common;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use common::*;
use eddy::sync::broadcast::{self, RecvError, TryRecvError};
use eddy::sync::{Barrier, OnceCell, RwLock, SetError, TryLockError, watch};
use eddy::task::{JoinSet, yield_now};
use futures::future::FusedFuture;
use futures::stream::FusedStream;
use futures::{FutureExt, StreamExt};

#[test]
fn the_new_primitives_are_not_send() {
    assert!(is_send!(u32));
    assert!(!is_send!(broadcast::Sender<u32>));
    assert!(!is_send!(broadcast::Receiver<u32>));
    assert!(!is_send!(watch::Sender<u32>));
    assert!(!is_send!(watch::Receiver<u32>));
    assert!(!is_send!(watch::Ref<'static, u32>));
    assert!(!is_send!(RwLock<u32>));
    assert!(!is_send!(eddy::sync::RwLockReadGuard<'static, u32>));
    assert!(!is_send!(eddy::sync::RwLockWriteGuard<'static, u32>));
    assert!(!is_send!(Barrier));
    assert!(!is_send!(OnceCell<u32>));
    // The errors carry no runtime state: they may cross threads.
    assert_send_sync::<RecvError>();
    assert_send_sync::<TryRecvError>();
    assert_send_sync::<broadcast::SendError<u32>>();
    assert_send_sync::<watch::SendError<u32>>();
    assert_send_sync::<watch::RecvError>();
    assert_send_sync::<TryLockError>();
    assert_send_sync::<SetError<u32>>();
}

#[test]
fn the_errors_are_errors() {
    assert_error(&broadcast::SendError(1));
    assert_error(&RecvError::Closed);
    assert_error(&RecvError::Lagged(3));
    assert!(RecvError::Lagged(3).to_string().contains('3'));
    assert_error(&TryRecvError::Empty);
    assert_error(&TryRecvError::Closed);
    assert_error(&TryRecvError::Lagged(2));
    assert_error(&watch::SendError(1));
    let (tx, rx) = watch::channel(0);
    drop(tx);
    assert_error(&rx.has_changed().unwrap_err());
    let lock = RwLock::new(0);
    let _w = lock.try_write().unwrap();
    assert_error(&lock.try_read().unwrap_err());
    assert_error(&SetError::AlreadyInitializedError(1));
    assert_error(&SetError::InitializingError(1));
}

// ---------------------------------------------------------------------------
// broadcast
// ---------------------------------------------------------------------------

#[test]
fn broadcast_every_receiver_gets_every_value_in_order() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (tx, rx) = broadcast::channel::<u32>(16);
            let mut listeners = vec![rx];
            listeners.extend((0..3).map(|_| tx.subscribe()));
            assert_eq!(tx.receiver_count(), 4);
            let tasks: Vec<_> = listeners
                .into_iter()
                .map(|mut rx| {
                    eddy::spawn(async move {
                        let mut got = Vec::new();
                        while let Ok(v) = rx.recv().await {
                            got.push(v);
                        }
                        got
                    })
                })
                .collect();
            yield_now().await; // all four wait now
            for i in 0..10 {
                // `send` gives the number of receivers.
                assert_eq!(tx.send(i), Ok(4));
                if i % 3 == 0 {
                    yield_now().await;
                }
            }
            drop(tx);
            for t in tasks {
                assert_eq!(t.await.unwrap(), (0..10).collect::<Vec<_>>());
            }
        });
    });
}

#[test]
fn broadcast_receiver_created_after_a_send_does_not_see_it() {
    watchdog(LIMIT, || {
        let (tx, mut rx) = broadcast::channel(8);
        tx.send(1).unwrap();
        let mut late = tx.subscribe();
        let mut resub = rx.resubscribe();
        assert_eq!(late.try_recv(), Err(TryRecvError::Empty));
        assert_eq!(resub.try_recv(), Err(TryRecvError::Empty));
        assert!(late.is_empty() && resub.is_empty());
        tx.send(2).unwrap();
        assert_eq!(late.try_recv(), Ok(2));
        assert_eq!(resub.try_recv(), Ok(2));
        // The original still has both.
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(rx.try_recv(), Ok(2));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    });
}

#[test]
fn broadcast_lagged_receiver_is_told_how_many_then_gets_the_oldest_kept() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            // A capacity of 3 is rounded up to 4, as in tokio.
            let (tx, mut rx) = broadcast::channel(3);
            let mut rx2 = tx.subscribe();
            for i in 0..10 {
                tx.send(i).unwrap();
            }
            assert_eq!(rx.len(), 10);
            assert_eq!(rx.recv().await, Err(RecvError::Lagged(6)));
            assert_eq!(rx.len(), 4);
            for i in 6..10 {
                assert_eq!(rx.recv().await, Ok(i));
            }
            // The same through try_recv.
            assert_eq!(rx2.try_recv(), Err(TryRecvError::Lagged(6)));
            assert_eq!(rx2.try_recv(), Ok(6));
            // Lagging again after reading some.
            for i in 10..15 {
                tx.send(i).unwrap();
            }
            assert_eq!(rx2.try_recv(), Err(TryRecvError::Lagged(4)));
            assert_eq!(rx2.try_recv(), Ok(11));
            // Lagged values are reported even after the senders are gone.
            let (tx, mut rx) = broadcast::channel(1);
            tx.send(1).unwrap();
            tx.send(2).unwrap();
            drop(tx);
            assert_eq!(rx.recv().await, Err(RecvError::Lagged(1)));
            assert_eq!(rx.recv().await, Ok(2));
            assert_eq!(rx.recv().await, Err(RecvError::Closed));
        });
    });
}

#[test]
fn broadcast_send_without_receivers_gives_the_value_back() {
    watchdog(LIMIT, || {
        let tx = broadcast::Sender::<String>::new(4);
        assert_eq!(tx.receiver_count(), 0);
        let err = tx.send("nobody".to_string()).unwrap_err();
        assert_eq!(err.0, "nobody");
        let rx = tx.subscribe();
        assert_eq!(tx.send("one".into()), Ok(1));
        drop(rx);
        assert_eq!(tx.send("gone".into()).unwrap_err().0, "gone");
        assert!(tx.is_empty(), "values of a dropped receiver are let go");
    });
}

#[test]
fn broadcast_closes_after_the_last_sender_and_the_kept_values() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (tx, mut rx) = broadcast::channel(4);
            let tx2 = tx.clone();
            tx.send(1).unwrap();
            drop(tx);
            assert!(!rx.is_closed(), "a clone of the sender is alive");
            tx2.send(2).unwrap();
            drop(tx2);
            assert!(rx.is_closed());
            assert_eq!(rx.recv().await, Ok(1));
            assert_eq!(rx.recv().await, Ok(2));
            assert_eq!(rx.recv().await, Err(RecvError::Closed));
            assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));

            // A receiver waiting when the last sender goes is woken.
            let (tx, mut rx) = broadcast::channel::<u32>(4);
            let waiting = eddy::spawn(async move { rx.recv().await });
            yield_now().await;
            drop(tx);
            assert_eq!(waiting.await.unwrap(), Err(RecvError::Closed));
        });
    });
}

#[test]
fn broadcast_dropped_recv_future_loses_no_value() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (tx, mut rx) = broadcast::channel(4);
            let (count, waker) = counting_waker();
            {
                let mut recv = rx.recv();
                assert!(poll_with(&mut recv, &waker).is_pending());
            } // dropped while waiting
            tx.send(7).unwrap();
            assert_eq!(count.count(), 0, "a dropped recv is not woken");
            assert_eq!(rx.recv().await, Ok(7));

            // Woken, then dropped before it looked: the value stays.
            {
                let mut recv = rx.recv();
                assert!(poll_with(&mut recv, &waker).is_pending());
                tx.send(8).unwrap();
                assert_eq!(count.count(), 1);
            }
            assert_eq!(rx.try_recv(), Ok(8));

            // Under a timeout that fires: nothing taken.
            let timed = eddy::time::timeout(Duration::from_millis(1), rx.recv()).await;
            assert!(timed.is_err());
            tx.send(9).unwrap();
            assert_eq!(rx.recv().await, Ok(9));
        });
    });
}

/// Counts clones (and drops) of itself.
struct Counted {
    clones: Rc<Cell<usize>>,
    drops: Rc<Cell<usize>>,
}

impl Clone for Counted {
    fn clone(&self) -> Counted {
        self.clones.set(self.clones.get() + 1);
        Counted {
            clones: self.clones.clone(),
            drops: self.drops.clone(),
        }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.set(self.drops.get() + 1);
    }
}

#[test]
fn broadcast_value_is_stored_once_and_cloned_for_each_receiver_that_reads_it() {
    watchdog(LIMIT, || {
        let (clones, drops) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
        let value = || Counted {
            clones: clones.clone(),
            drops: drops.clone(),
        };
        let (tx, rx) = broadcast::channel(8);
        let mut rxs = vec![rx];
        rxs.extend((0..4).map(|_| tx.subscribe()));
        tx.send(value()).unwrap();
        assert_eq!(clones.get(), 0, "sending clones nothing");
        let got: Vec<Counted> = rxs.iter_mut().map(|rx| rx.try_recv().unwrap()).collect();
        // Each receiver gets a clone (as tokio's); the stored value is
        // dropped once the last one has read it.
        assert_eq!(clones.get(), 5);
        assert_eq!(drops.get(), 1);
        assert_eq!(tx.len(), 0, "read by everyone: no longer kept");
        drop(got);
        assert_eq!(drops.get(), 6);

        // A value nobody reads is dropped when pushed out, or when the
        // receivers that had yet to read it are gone.
        drops.set(0);
        let (tx, rx) = broadcast::channel(1);
        tx.send(value()).unwrap();
        tx.send(value()).unwrap();
        assert_eq!(drops.get(), 1, "pushed out of the ring");
        let rx2 = tx.subscribe();
        tx.send(value()).unwrap();
        assert_eq!(drops.get(), 2);
        drop(rx);
        assert_eq!(drops.get(), 2, "rx2 has yet to read it");
        drop(rx2);
        assert_eq!(drops.get(), 3);
        assert_eq!(tx.len(), 0);
    });
}

#[test]
fn broadcast_len_counts_values_kept_for_some_receiver() {
    watchdog(LIMIT, || {
        let (tx, mut a) = broadcast::channel(4);
        let mut b = tx.subscribe();
        assert!(tx.is_empty());
        for i in 0..3 {
            tx.send(i).unwrap();
        }
        assert_eq!((tx.len(), a.len(), b.len()), (3, 3, 3));
        a.try_recv().unwrap();
        a.try_recv().unwrap();
        assert_eq!((tx.len(), a.len(), b.len()), (3, 1, 3));
        b.try_recv().unwrap();
        assert_eq!(tx.len(), 2);
        for i in 3..9 {
            tx.send(i).unwrap();
        }
        assert_eq!(tx.len(), 4, "at most the capacity");
        assert_eq!(b.len(), 8, "more than the capacity: the next recv lags");
        assert!(!b.is_empty());
    });
}

#[test]
fn broadcast_sender_closed_waits_for_every_receiver() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let tx = broadcast::Sender::<u32>::new(2);
            tx.closed().await; // no receiver: at once
            let rx1 = tx.subscribe();
            let rx2 = rx1.resubscribe();
            let tx = Rc::new(tx);
            let t = tx.clone();
            let closed = eddy::spawn(async move { t.closed().await });
            yield_now().await;
            drop(rx1);
            yield_now().await;
            assert!(!closed.is_finished());
            drop(rx2);
            closed.await.unwrap();
            assert_eq!(tx.receiver_count(), 0);
        });
    });
}

#[test]
fn broadcast_capacity_zero_panics_clearly() {
    let err = catch(|| broadcast::channel::<u32>(0)).unwrap_err();
    assert!(
        err.starts_with("eddy: ") && err.contains("capacity"),
        "{err}"
    );
}

#[test]
fn broadcast_waiting_receivers_are_woken_in_fifo_order() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let tx = broadcast::Sender::<u32>::new(4);
            let order = Rc::new(RefCell::new(Vec::new()));
            let mut rxs: Vec<_> = (0..4).map(|_| tx.subscribe()).collect();
            // Receivers start waiting in the order 2, 0, 3, 1.
            let tasks: Vec<_> = [2usize, 0, 3, 1]
                .into_iter()
                .map(|i| {
                    let mut rx = std::mem::replace(&mut rxs[i], tx.subscribe());
                    let order = order.clone();
                    eddy::spawn(async move {
                        rx.recv().await.unwrap();
                        order.borrow_mut().push(i);
                    })
                })
                .collect();
            yield_now().await;
            tx.send(1).unwrap();
            for t in tasks {
                t.await.unwrap();
            }
            assert_eq!(*order.borrow(), [2, 0, 3, 1]);
        });
    });
}

/// A send wakes the waiting tasks in place (in line order) and other
/// wakers once the channel is settled: a foreign waker that sends from its
/// wake wakes nobody twice, and every waiter gets the value once.
#[test]
fn broadcast_send_wakes_tasks_and_foreign_wakers_once_each() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let tx = Rc::new(broadcast::Sender::<u32>::new(8));
            let order = Rc::new(RefCell::new(Vec::new()));
            let task = |name: &'static str| {
                let mut rx = tx.subscribe();
                let order = order.clone();
                eddy::spawn(async move {
                    let first = rx.recv().await.unwrap();
                    order.borrow_mut().push(name);
                    (first, rx.recv().await.unwrap())
                })
            };
            let first = task("first");
            yield_now().await;
            // Between two tasks in the line: a future polled by hand, whose
            // waker counts and sends from its wake.
            let (count, counting) = counting_waker();
            let (tx2, order2) = (tx.clone(), order.clone());
            let hook = hook_waker(
                move || {
                    order2.borrow_mut().push("hook");
                    tx2.send(2).unwrap();
                },
                || {},
            );
            let mut rx_hook = tx.subscribe();
            let mut rx_count = tx.subscribe();
            let mut recv_hook = rx_hook.recv();
            let mut recv_count = rx_count.recv();
            assert!(poll_with(&mut recv_hook, &hook).is_pending());
            assert!(poll_with(&mut recv_count, &counting).is_pending());
            let last = task("last");
            yield_now().await;
            tx.send(1).unwrap();
            // The foreign wakers ran in the send; the tasks are queued.
            assert_eq!(*order.borrow(), ["hook"]);
            assert_eq!(count.count(), 1, "woken once, not again by the send inside");
            assert_eq!(first.await.unwrap(), (1, 2));
            assert_eq!(last.await.unwrap(), (1, 2));
            assert_eq!(*order.borrow(), ["hook", "first", "last"]);
            let noop = futures::task::noop_waker();
            assert!(matches!(
                poll_with(&mut recv_hook, &noop),
                Poll::Ready(Ok(1))
            ));
            assert!(matches!(
                poll_with(&mut recv_count, &noop),
                Poll::Ready(Ok(1))
            ));
            drop((recv_hook, recv_count));
            assert_eq!(rx_hook.try_recv(), Ok(2));
            assert_eq!(rx_count.try_recv(), Ok(2));
            assert_eq!(count.count(), 1);
        });
    });
}

/// A task woken in place waits again with the waker its entry kept, round
/// after round, on two channels in turn.
#[test]
fn broadcast_and_watch_receivers_woken_in_place_wait_again() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (tx, mut rx) = broadcast::channel::<u32>(4);
            let (wtx, mut wrx) = watch::channel(0u32);
            let reader = eddy::spawn(async move {
                let mut got = Vec::new();
                while let Ok(v) = rx.recv().await {
                    got.push(v);
                    wrx.changed().await.unwrap();
                    got.push(*wrx.borrow_and_update());
                }
                got
            });
            for i in 0..100 {
                yield_now().await;
                tx.send(i).unwrap();
                yield_now().await;
                wtx.send(i + 1000).unwrap();
            }
            drop(tx);
            let got = reader.await.unwrap();
            assert_eq!(got.len(), 200);
            assert!(
                got.chunks(2)
                    .enumerate()
                    .all(|(i, c)| c == [i as u32, i as u32 + 1000])
            );
        });
    });
}

#[test]
fn broadcast_receiver_is_a_fused_stream_of_values_and_lags() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (tx, mut rx) = broadcast::channel(2);
            for i in 0..4 {
                tx.send(i).unwrap();
            }
            assert!(!rx.is_terminated());
            assert_eq!(rx.next().await, Some(Err(RecvError::Lagged(2))));
            assert_eq!(rx.next().await, Some(Ok(2)));
            assert_eq!(rx.next().await, Some(Ok(3)));
            drop(tx);
            assert!(!rx.is_terminated(), "terminated only once it said so");
            // Closed ends the stream: it is never yielded as an item.
            assert_eq!(rx.next().await, None);
            assert!(rx.is_terminated());
            assert_eq!(rx.next().await, None);

            // Collecting a stream of a channel closed later.
            let (tx, rx) = broadcast::channel(8);
            let collector = eddy::spawn(rx.collect::<Vec<_>>());
            yield_now().await;
            tx.send('a').unwrap();
            tx.send('b').unwrap();
            drop(tx);
            assert_eq!(collector.await.unwrap(), [Ok('a'), Ok('b')]);
        });
    });
}

/// A value whose `Clone` and `Drop` use the channel it travels in.
struct Meddler {
    tx: broadcast::Sender<Meddler>,
    peer: Rc<RefCell<Option<broadcast::Receiver<Meddler>>>>,
    log: Rc<RefCell<Vec<String>>>,
    echo: bool,
}

impl Clone for Meddler {
    fn clone(&self) -> Meddler {
        // Read from another receiver of the same channel, and send on it.
        let mut peer = self.peer.borrow_mut().take();
        if let Some(rx) = &mut peer {
            let got = rx.try_recv().map(|m| m.echo);
            self.log.borrow_mut().push(format!("clone read {got:?}"));
        }
        *self.peer.borrow_mut() = peer;
        if self.echo {
            let sent = self.tx.send(self.quiet()).is_ok();
            self.log
                .borrow_mut()
                .push(format!("clone sent {sent} len {}", self.tx.len()));
        }
        self.quiet()
    }
}

impl Meddler {
    fn quiet(&self) -> Meddler {
        Meddler {
            tx: self.tx.clone(),
            peer: Rc::new(RefCell::new(None)),
            log: self.log.clone(),
            echo: false,
        }
    }
}

impl Drop for Meddler {
    fn drop(&mut self) {
        if self.echo {
            let sent = self.tx.send(self.quiet()).is_ok();
            self.log.borrow_mut().push(format!("drop sent {sent}"));
        }
    }
}

#[test]
fn broadcast_user_code_that_uses_the_same_channel() {
    watchdog(LIMIT, || {
        let log = Rc::new(RefCell::new(Vec::new()));
        // Capacity 1: every send from inside pushes the value being read
        // out of its slot.
        let (tx, mut rx1) = broadcast::channel::<Meddler>(1);
        let mut rx2 = tx.subscribe();
        let peer = Rc::new(RefCell::new(Some(tx.subscribe())));
        let m = Meddler {
            tx: tx.clone(),
            peer: peer.clone(),
            log: log.clone(),
            echo: true,
        };
        tx.send(m).unwrap();
        // rx1's read clones it. That clone reads the same value through
        // `peer` (a clone inside a clone: the inner one sends), then sends;
        // the original, pushed out of the ring, drops when rx1 lets go of
        // it, and its drop sends too.
        let a = rx1.try_recv().unwrap();
        assert!(!a.echo, "rx1 got a clone");
        assert_eq!(
            *log.borrow(),
            [
                "clone sent true len 1",
                "clone read Ok(false)",
                "clone sent true len 1",
                "drop sent true"
            ]
        );
        assert_eq!(rx1.try_recv().map(|m| m.echo), Err(TryRecvError::Lagged(2)));
        assert_eq!(rx1.try_recv().map(|m| m.echo), Ok(false));
        assert_eq!(rx2.try_recv().map(|m| m.echo), Err(TryRecvError::Lagged(3)));
        let mut peer_rx = peer.borrow_mut().take().unwrap();
        assert_eq!(
            peer_rx.try_recv().map(|m| m.echo),
            Err(TryRecvError::Lagged(2))
        );
        drop((a, rx1, rx2, peer_rx, tx));

        // Wakers: a receiver's waker sends and receives when woken by a
        // send, and its drop does too.
        let (tx, mut rx) = broadcast::channel::<u32>(4);
        let tx = Rc::new(tx);
        let other = Rc::new(RefCell::new(tx.subscribe()));
        let outcomes = Rc::new(RefCell::new(Vec::new()));
        let (t1, t2, o1, o2, r1) = (
            tx.clone(),
            tx.clone(),
            outcomes.clone(),
            outcomes.clone(),
            other.clone(),
        );
        let waker = hook_waker(
            move || {
                let sent = t1.send(10).is_ok();
                let got = r1.borrow_mut().try_recv().ok();
                o1.borrow_mut().push((sent, got));
            },
            move || o2.borrow_mut().push((t2.send(20).is_ok(), None)),
        );
        let mut recv = rx.recv();
        assert!(poll_with(&mut recv, &waker).is_pending());
        drop(waker);
        tx.send(1).unwrap();
        assert_eq!(*outcomes.borrow(), [(true, Some(1))]);
        let noop = futures::task::noop_waker();
        assert!(matches!(poll_with(&mut recv, &noop), Poll::Ready(Ok(1))));
        drop(recv);
        assert_eq!(rx.try_recv(), Ok(10));
        // The receiver kept the waker for its next wait; waiting with
        // another one drops it, and its drop sends.
        assert_eq!(outcomes.borrow().len(), 1);
        let mut recv = rx.recv();
        assert!(poll_with(&mut recv, &noop).is_pending());
        assert_eq!(*outcomes.borrow(), [(true, Some(1)), (true, None)]);
        assert!(matches!(poll_with(&mut recv, &noop), Poll::Ready(Ok(20))));
    });
}

#[test]
fn broadcast_receiver_dropped_from_a_value_drop_keeps_the_ring_consistent() {
    // A value whose drop drops another receiver and sends: runs while the
    // ring is being cleaned up.
    type Shared = Rc<DropsReceiver>;
    struct DropsReceiver {
        rx: RefCell<Option<broadcast::Receiver<Shared>>>,
        tx: broadcast::Sender<Shared>,
        /// Sends a quiet successor when dropped.
        echo: bool,
    }
    impl Drop for DropsReceiver {
        fn drop(&mut self) {
            drop(self.rx.borrow_mut().take());
            if self.echo {
                let _ = self.tx.send(Rc::new(DropsReceiver {
                    rx: RefCell::new(None),
                    tx: self.tx.clone(),
                    echo: false,
                }));
            }
        }
    }
    watchdog(LIMIT, || {
        let (tx, rx) = broadcast::channel::<Shared>(2);
        let keep = tx.subscribe();
        let inner = Rc::new(DropsReceiver {
            rx: RefCell::new(None),
            tx: tx.clone(),
            echo: true,
        });
        tx.send(inner.clone()).unwrap();
        // Made after the send: neither counts for the value.
        *inner.rx.borrow_mut() = Some(tx.subscribe());
        let mut late = tx.subscribe();
        drop(inner);
        drop(rx);
        // The last reader to let go: the value drops, which drops a
        // receiver and sends, all while `keep` is being dropped.
        drop(keep);
        assert_eq!(tx.receiver_count(), 1);
        assert_eq!(tx.len(), 1, "the value sent from the drop, kept for `late`");
        let got = late.try_recv().unwrap();
        assert!(got.rx.borrow().is_none());
        assert!(!got.echo);
        assert_eq!(late.try_recv().map(|_| ()), Err(TryRecvError::Empty));
    });
}

// ---------------------------------------------------------------------------
// watch
// ---------------------------------------------------------------------------

#[test]
fn watch_send_borrow_and_version_tracking() {
    watchdog(LIMIT, || {
        let (tx, mut rx) = watch::channel(1);
        assert_eq!(*rx.borrow(), 1);
        assert_eq!(*tx.borrow(), 1);
        assert!(!rx.has_changed().unwrap(), "the first value counts as seen");
        tx.send(2).unwrap();
        assert!(rx.has_changed().unwrap());
        {
            let r = rx.borrow();
            assert_eq!(*r, 2);
            assert!(r.has_changed());
        }
        assert!(rx.has_changed().unwrap(), "borrow() marks nothing seen");
        {
            let r = rx.borrow_and_update();
            assert!(r.has_changed());
        }
        assert!(!rx.has_changed().unwrap());
        assert!(!tx.borrow().has_changed());
        rx.mark_changed();
        assert!(rx.has_changed().unwrap());
        rx.mark_unchanged();
        assert!(!rx.has_changed().unwrap());
        // Equal values are changes too.
        tx.send(2).unwrap();
        assert!(rx.has_changed().unwrap());
        assert_eq!(format!("{:?}", rx.borrow()), "2");
    });
}

#[test]
fn watch_changed_wakes_each_receiver_once_per_version() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (tx, rx) = watch::channel(0u32);
            let wakeups = Rc::new(Cell::new(0));
            let tasks: Vec<_> = (0..3)
                .map(|_| {
                    let mut rx = rx.clone();
                    let wakeups = wakeups.clone();
                    eddy::spawn(async move {
                        let mut seen = Vec::new();
                        while rx.changed().await.is_ok() {
                            wakeups.set(wakeups.get() + 1);
                            seen.push(*rx.borrow_and_update());
                        }
                        seen
                    })
                })
                .collect();
            drop(rx);
            yield_now().await;
            // Five sends with no yield between: one version for the waiters.
            for i in 1..=5 {
                tx.send(i).unwrap();
            }
            yield_now().await;
            assert_eq!(wakeups.get(), 3, "each receiver woke once");
            tx.send(6).unwrap();
            yield_now().await;
            assert_eq!(wakeups.get(), 6);
            drop(tx);
            for t in tasks {
                assert_eq!(t.await.unwrap(), [5, 6]);
            }
        });
    });
}

#[test]
fn watch_changed_after_the_sender_drops() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            // An unseen value is still reported, then the error.
            let (tx, mut rx) = watch::channel("a");
            tx.send("b").unwrap();
            drop(tx);
            assert!(rx.has_changed().is_err(), "closed: has_changed errs");
            assert!(rx.changed().await.is_ok());
            assert_eq!(*rx.borrow(), "b");
            assert!(rx.changed().await.is_err());
            assert!(rx.changed().await.is_err());

            // A receiver waiting when the last sender goes is woken.
            let (tx, mut rx) = watch::channel(0);
            let tx2 = tx.clone();
            assert_eq!(tx.sender_count(), 2);
            let waiting = eddy::spawn(async move { rx.changed().await });
            yield_now().await;
            drop(tx);
            yield_now().await;
            assert!(!waiting.is_finished(), "a clone of the sender is alive");
            drop(tx2);
            assert!(waiting.await.unwrap().is_err());
        });
    });
}

#[test]
fn watch_send_needs_a_receiver_but_send_replace_and_send_modify_store() {
    watchdog(LIMIT, || {
        let tx = watch::Sender::new(String::from("a"));
        assert_eq!(tx.receiver_count(), 0);
        assert!(tx.is_closed());
        assert_eq!(tx.send("b".into()).unwrap_err().0, "b");
        assert_eq!(*tx.borrow(), "a", "a failed send stores nothing");
        assert_eq!(tx.send_replace("c".into()), "a");
        tx.send_modify(|s| s.push('!'));
        assert_eq!(*tx.borrow(), "c!");
        // A new receiver has seen the current value.
        let mut rx = tx.subscribe();
        assert!(!tx.is_closed());
        assert_eq!(*rx.borrow(), "c!");
        assert!(!rx.has_changed().unwrap());
        assert!(!tx.send_if_modified(|_| false));
        assert!(!rx.has_changed().unwrap(), "unmodified: nobody told");
        assert!(tx.send_if_modified(|s| {
            s.clear();
            true
        }));
        assert!(rx.has_changed().unwrap());
        assert_eq!(*rx.borrow_and_update(), "");
        // The closure's panic comes out; the version is not bumped.
        let r = catch(|| tx.send_modify(|_| panic!("in modify")));
        assert_eq!(r.unwrap_err(), "in modify");
        assert!(!rx.has_changed().unwrap());
        tx.send("d".into()).unwrap(); // the value is free again
    });
}

#[test]
fn watch_sender_closed_and_receiver_clones() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (tx, rx) = watch::channel(0);
            tx.send(1).unwrap();
            let rx2 = rx.clone();
            assert_eq!(tx.receiver_count(), 2);
            // The clone has seen what the original has.
            assert!(rx2.has_changed().unwrap());
            let tx = Rc::new(tx);
            let t = tx.clone();
            let closed = eddy::spawn(async move { t.closed().await });
            yield_now().await;
            drop(rx);
            yield_now().await;
            assert!(!closed.is_finished());
            drop(rx2);
            closed.await.unwrap();
            assert!(tx.is_closed());
            tx.closed().await; // at once
        });
    });
}

#[test]
fn watch_wait_for_checks_the_current_value_then_each_version() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (tx, mut rx) = watch::channel(5);
            // The current value already matches, seen or not.
            {
                let r = rx.wait_for(|&v| v == 5).await.unwrap();
                assert!(!r.has_changed());
            }
            let calls = Rc::new(Cell::new(0));
            let c = calls.clone();
            let waiter = eddy::spawn(async move {
                let found = *rx
                    .wait_for(|&v| {
                        c.set(c.get() + 1);
                        v > 10
                    })
                    .await
                    .unwrap();
                (found, rx.has_changed().unwrap())
            });
            yield_now().await;
            tx.send(7).unwrap();
            yield_now().await;
            tx.send(11).unwrap();
            tx.send(12).unwrap();
            let (found, unseen) = waiter.await.unwrap();
            assert_eq!(found, 12, "only the latest value is kept");
            assert!(!unseen, "the value found is marked seen");
            assert_eq!(calls.get(), 3, "current, 7, then 12");

            // Closed: the last value is checked, then the error.
            let (tx, mut rx) = watch::channel(1);
            tx.send(2).unwrap();
            drop(tx);
            assert_eq!(*rx.wait_for(|&v| v == 2).await.unwrap(), 2);
            assert!(rx.wait_for(|&v| v == 3).await.is_err());
        });
    });
}

#[test]
fn watch_dropped_changed_future_marks_nothing_seen() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (tx, mut rx) = watch::channel(0);
            let (count, waker) = counting_waker();
            {
                let mut changed = pin!(rx.changed());
                assert!(
                    changed
                        .as_mut()
                        .poll(&mut Context::from_waker(&waker))
                        .is_pending()
                );
                tx.send(1).unwrap();
                assert_eq!(count.count(), 1);
            } // woken, then dropped before it looked
            assert!(rx.has_changed().unwrap());
            assert!(rx.changed().now_or_never().unwrap().is_ok());
            let timed = eddy::time::timeout(Duration::from_millis(1), rx.changed()).await;
            assert!(timed.is_err());
            tx.send(2).unwrap();
            rx.changed().await.unwrap();
        });
    });
}

#[test]
fn watch_send_while_a_borrow_is_held_panics_clearly() {
    watchdog(LIMIT, || {
        let (tx, rx) = watch::channel(0);
        let held = rx.borrow();
        let err = catch(|| tx.send(1)).unwrap_err();
        assert!(
            err.starts_with("eddy: ") && err.contains("borrowed"),
            "{err}"
        );
        drop(held);
        tx.send(1).unwrap();
        // Borrowing from inside send_modify's closure.
        let err = catch(|| tx.send_modify(|_| drop(rx.borrow()))).unwrap_err();
        assert!(err.starts_with("eddy: "), "{err}");
        assert_eq!(*rx.borrow(), 1);
    });
}

#[test]
fn watch_user_code_that_uses_the_same_channel() {
    watchdog(LIMIT, || {
        // A value whose drop sends on the channel it lived in.
        struct SendsOnDrop(Rc<RefCell<Option<watch::Sender<SendsOnDrop>>>>, u32);
        impl Drop for SendsOnDrop {
            fn drop(&mut self) {
                if self.1 == 1 {
                    if let Some(tx) = &*self.0.borrow() {
                        tx.send_replace(SendsOnDrop(self.0.clone(), 2));
                    }
                }
            }
        }
        let slot = Rc::new(RefCell::new(None));
        let (tx, mut rx) = watch::channel(SendsOnDrop(slot.clone(), 1));
        *slot.borrow_mut() = Some(tx.clone());
        tx.send(SendsOnDrop(slot.clone(), 3)).unwrap(); // drops value 1, which sends 2
        assert_eq!(rx.borrow_and_update().1, 2);
        slot.borrow_mut().take();

        // A waker that sends, borrows and subscribes when woken and dropped.
        let (tx, mut rx) = watch::channel(0u32);
        let tx = Rc::new(tx);
        let log = Rc::new(RefCell::new(Vec::new()));
        let (t1, t2, l1, l2) = (tx.clone(), tx.clone(), log.clone(), log.clone());
        let waker = hook_waker(
            move || {
                let v = *t1.borrow();
                let _sub = t1.subscribe();
                l1.borrow_mut().push((v, t1.send(v + 10).is_ok()));
            },
            move || {
                let v = *t2.borrow();
                let sent = t2.send(99).is_ok();
                l2.borrow_mut().push((v, sent));
            },
        );
        let mut changed = Box::pin(rx.changed());
        assert!(
            changed
                .as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_pending()
        );
        drop(waker);
        // Woken by this send, the waker sends again.
        tx.send(1).unwrap();
        assert_eq!(*log.borrow(), [(1, true)]);
        assert!(changed.as_mut().now_or_never().unwrap().is_ok());
        drop(changed);
        assert_eq!(*rx.borrow_and_update(), 11);
        // The receiver kept the waker for its next wait; dropping the
        // receiver drops it, and its drop sends.
        drop(rx);
        assert_eq!(*log.borrow(), [(1, true), (11, false)]);
        assert_eq!(*tx.borrow(), 11, "no receiver any more: the send failed");
        tx.send_replace(99);
        assert_eq!(*tx.subscribe().borrow(), 99);
    });
}

// ---------------------------------------------------------------------------
// RwLock
// ---------------------------------------------------------------------------

#[test]
fn rwlock_readers_share_writers_are_alone() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let lock = RwLock::new(vec![1]);
            {
                let r1 = lock.read().await;
                let r2 = lock.try_read().unwrap();
                assert_eq!((r1.len(), r2.len()), (1, 1));
                assert!(lock.try_write().is_err());
                assert_eq!(format!("{r1:?}"), "[1]");
            }
            {
                let mut w = lock.write().await;
                w.push(2);
                assert!(lock.try_read().is_err());
                assert!(lock.try_write().is_err());
                assert_eq!(format!("{lock:?}"), "RwLock { <write-locked> }");
                assert_eq!(format!("{w:?}"), "[1, 2]");
            }
            assert_eq!(*lock.read().await, [1, 2]);
            assert_eq!(format!("{lock:?}"), "RwLock { value: [1, 2] }");
            let mut lock = lock;
            lock.get_mut().push(3);
            assert_eq!(lock.into_inner(), [1, 2, 3]);
            assert_eq!(*RwLock::<u8>::default().try_read().unwrap(), 0);
        });
    });
}

#[test]
fn rwlock_a_waiting_writer_holds_back_later_readers() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let lock = Rc::new(RwLock::new(0));
            let log = Rc::new(RefCell::new(Vec::new()));
            let first = lock.read().await;
            let spawn_reader = |name: &'static str| {
                let (lock, log) = (lock.clone(), log.clone());
                eddy::spawn(async move {
                    let v = lock.read().await;
                    log.borrow_mut().push(format!("{name} read {}", *v));
                    yield_now().await; // hold it a little
                })
            };
            let writer = {
                let (lock, log) = (lock.clone(), log.clone());
                eddy::spawn(async move {
                    let mut w = lock.write().await;
                    *w += 1;
                    log.borrow_mut().push("writer".to_string());
                    yield_now().await;
                })
            };
            yield_now().await; // the writer waits for `first`
            let r1 = spawn_reader("r1");
            let r2 = spawn_reader("r2");
            yield_now().await; // the readers wait behind the writer
            assert!(log.borrow().is_empty(), "{:?}", log.borrow());
            assert!(lock.try_read().is_err(), "try_read is held back too");
            assert!(lock.try_write().is_err());
            drop(first);
            writer.await.unwrap();
            r1.await.unwrap();
            r2.await.unwrap();
            assert_eq!(*log.borrow(), ["writer", "r1 read 1", "r2 read 1"]);
        });
    });
}

#[test]
fn rwlock_hands_over_in_fifo_order_and_readers_in_a_batch() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let lock = Rc::new(RwLock::new(()));
            let holders = Rc::new(Cell::new((0usize, 0usize))); // readers, writers
            let log = Rc::new(RefCell::new(Vec::new()));
            let w0 = lock.try_write().unwrap();
            let kinds = ["r", "r", "w", "r", "w", "w", "r", "r"];
            let tasks: Vec<_> = kinds
                .iter()
                .enumerate()
                .map(|(i, &kind)| {
                    let (lock, holders, log) = (lock.clone(), holders.clone(), log.clone());
                    eddy::spawn(async move {
                        if kind == "r" {
                            let _g = lock.read().await;
                            let (r, w) = holders.get();
                            assert_eq!(w, 0);
                            holders.set((r + 1, w));
                            log.borrow_mut().push((i, r + 1));
                            yield_now().await;
                            let (r, w) = holders.get();
                            holders.set((r - 1, w));
                        } else {
                            let _g = lock.write().await;
                            assert_eq!(holders.get(), (0, 0));
                            holders.set((0, 1));
                            log.borrow_mut().push((i, 1));
                            yield_now().await;
                            holders.set((0, 0));
                        }
                    })
                })
                .collect();
            yield_now().await;
            drop(w0);
            for t in tasks {
                t.await.unwrap();
            }
            // In arrival order; readers 0 and 1 together, 6 and 7 together.
            assert_eq!(
                *log.borrow(),
                [
                    (0, 1),
                    (1, 2),
                    (2, 1),
                    (3, 1),
                    (4, 1),
                    (5, 1),
                    (6, 1),
                    (7, 2)
                ]
            );
        });
    });
}

#[test]
fn rwlock_dropped_waiters_do_not_block_the_queue() {
    watchdog(LIMIT, || {
        let lock = RwLock::new(0);
        let (_c, waker) = counting_waker();
        let reader = lock.try_read().unwrap();
        // A writer waits, a reader waits behind it; the writer gives up.
        let mut w = lock.write();
        assert!(poll_with(&mut w, &waker).is_pending());
        let (count, rwaker) = counting_waker();
        let mut r = lock.read();
        assert!(poll_with(&mut r, &rwaker).is_pending());
        drop(w);
        assert_eq!(count.count(), 1, "the reader behind the writer goes in");
        let r = match poll_with(&mut r, &rwaker) {
            Poll::Ready(g) => g,
            Poll::Pending => panic!("the reader should hold the lock"),
        };
        drop((r, reader));

        // A writer handed the lock but dropped before it looked gives it back.
        let reader = lock.try_read().unwrap();
        let mut w = lock.write();
        assert!(poll_with(&mut w, &waker).is_pending());
        let mut r = lock.read();
        assert!(poll_with(&mut r, &rwaker).is_pending());
        drop(reader); // the writer is handed the lock
        assert!(lock.try_read().is_err());
        drop(w); // ...and gives it back: the reader gets it
        assert!(matches!(poll_with(&mut r, &rwaker), Poll::Ready(_)));
        drop(r);
        assert!(lock.try_write().is_ok());

        // An aborted task waiting for the lock.
        eddy::block_on(async {
            let lock = Rc::new(RwLock::new(0));
            let guard = lock.try_write().unwrap();
            let l = lock.clone();
            let waiting = eddy::spawn(async move { *l.write().await += 1 });
            yield_now().await;
            waiting.abort();
            drop(guard);
            assert_eq!(*lock.try_read().unwrap(), 0);
        });
    });
}

#[test]
fn rwlock_user_code_that_uses_the_same_lock() {
    watchdog(LIMIT, || {
        let lock = Rc::new(RwLock::new(0));
        let log = Rc::new(RefCell::new(Vec::new()));
        let (l1, l2, g1, g2) = (lock.clone(), lock.clone(), log.clone(), log.clone());
        let waker = hook_waker(
            move || {
                // Woken as the lock is handed to us: it is ours already.
                g1.borrow_mut()
                    .push(("woken", l1.try_read().is_ok(), l1.try_write().is_ok()));
            },
            move || {
                g2.borrow_mut()
                    .push(("dropped", l2.try_read().is_ok(), l2.try_write().is_ok()))
            },
        );
        let w = lock.try_write().unwrap();
        let mut r = lock.read();
        assert!(poll_with(&mut r, &waker).is_pending());
        drop(waker);
        drop(w);
        let g = match poll_with(&mut r, &futures::task::noop_waker()) {
            Poll::Ready(g) => g,
            Poll::Pending => panic!("the reader should hold the lock"),
        };
        drop(g);
        drop(r);
        // Woken (and the waker dropped) once the lock is the reader's:
        // other readers share it, a writer cannot have it.
        assert_eq!(
            *log.borrow(),
            [("woken", true, false), ("dropped", true, false)]
        );
        assert!(lock.try_write().is_ok());
    });
}

/// The lock goes to a batch of readers one at a time, each woken before
/// the next is looked at: a waker that uses the lock meanwhile (the reader
/// behind it leaves the line) finds it consistent, and the batch goes on.
#[test]
fn rwlock_hand_over_goes_on_past_a_waker_that_uses_the_lock() {
    watchdog(LIMIT, || {
        let lock: &'static RwLock<u32> = Box::leak(Box::new(RwLock::new(0)));
        let log = Rc::new(RefCell::new(Vec::new()));
        let second = Rc::new(RefCell::new(Some(lock.read())));
        let (log2, second2) = (log.clone(), second.clone());
        let hook = hook_waker(
            move || {
                log2.borrow_mut()
                    .push((lock.try_read().is_ok(), lock.try_write().is_ok()));
                drop(second2.borrow_mut().take());
            },
            || {},
        );
        let w = lock.try_write().unwrap();
        let mut r1 = lock.read();
        assert!(poll_with(&mut r1, &hook).is_pending());
        let (c2, waker2) = counting_waker();
        assert!(poll_with(second.borrow_mut().as_mut().unwrap(), &waker2).is_pending());
        let (c3, waker3) = counting_waker();
        let mut r3 = lock.read();
        assert!(poll_with(&mut r3, &waker3).is_pending());
        let (c4, waker4) = counting_waker();
        let mut w4 = lock.write();
        assert!(poll_with(&mut w4, &waker4).is_pending());
        drop(w);
        // r1 was woken holding the lock, with others still in line; the
        // reader it dropped left, and the one behind joined the batch.
        assert_eq!(*log.borrow(), [(false, false)]);
        assert!(second.borrow().is_none());
        assert_eq!((c2.count(), c3.count(), c4.count()), (0, 1, 0));
        let noop = futures::task::noop_waker();
        let (Poll::Ready(g1), Poll::Ready(g3)) =
            (poll_with(&mut r1, &noop), poll_with(&mut r3, &noop))
        else {
            panic!("both readers should hold the lock");
        };
        assert!(poll_with(&mut w4, &waker4).is_pending());
        drop(g1);
        assert_eq!(c4.count(), 0);
        drop(g3);
        assert_eq!(c4.count(), 1, "the writer goes once the last reader leaves");
        let Poll::Ready(mut g4) = poll_with(&mut w4, &noop) else {
            panic!("the writer should hold the lock");
        };
        *g4 += 1;
        drop((g4, r1, r3, w4));
        assert_eq!(*lock.try_read().unwrap(), 1);
    });
}

// ---------------------------------------------------------------------------
// Barrier
// ---------------------------------------------------------------------------

#[test]
fn barrier_of_one_never_waits_and_leads() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let barrier = Barrier::new(1);
            for _ in 0..3 {
                assert!(barrier.wait().await.is_leader());
            }
            // Zero behaves as one.
            assert!(Barrier::new(0).wait().await.is_leader());
        });
    });
}

#[test]
fn barrier_releases_groups_of_n_with_one_leader_each() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let barrier = Rc::new(Barrier::new(3));
            let passed = Rc::new(Cell::new(0));
            let spawn_waiter = || {
                let (barrier, passed) = (barrier.clone(), passed.clone());
                eddy::spawn(async move {
                    let leader = barrier.wait().await.is_leader();
                    passed.set(passed.get() + 1);
                    leader
                })
            };
            let first: Vec<_> = (0..2).map(|_| spawn_waiter()).collect();
            yield_now().await;
            assert_eq!(passed.get(), 0, "two of three wait");
            let rest: Vec<_> = (0..4).map(|_| spawn_waiter()).collect();
            let mut leaders = 0;
            for t in first.into_iter().chain(rest) {
                leaders += t.await.unwrap() as usize;
            }
            assert_eq!(passed.get(), 6);
            assert_eq!(leaders, 2, "one leader per group");
            assert!(format!("{barrier:?}").contains("arrived: 0"));
        });
    });
}

#[test]
fn barrier_dropped_wait_takes_its_arrival_back() {
    watchdog(LIMIT, || {
        let barrier = Barrier::new(2);
        let (_c, waker) = counting_waker();
        let mut w = barrier.wait();
        assert!(poll_with(&mut w, &waker).is_pending());
        drop(w);
        // One more is not enough now: the dropped one no longer counts.
        let mut w1 = barrier.wait();
        assert!(poll_with(&mut w1, &waker).is_pending());
        let mut w2 = barrier.wait();
        match poll_with(&mut w2, &waker) {
            Poll::Ready(r) => assert!(r.is_leader()),
            Poll::Pending => panic!("the second arrival completes the group"),
        }
        match poll_with(&mut w1, &waker) {
            Poll::Ready(r) => assert!(!r.is_leader()),
            Poll::Pending => panic!("released"),
        }
    });
}

#[test]
fn barrier_user_code_that_uses_the_same_barrier() {
    watchdog(LIMIT, || {
        let barrier = Rc::new(Barrier::new(2));
        let log = Rc::new(RefCell::new(Vec::new()));
        let (b, l) = (barrier.clone(), log.clone());
        // Woken as its group completes, the waker starts the next group.
        let waker = hook_waker(
            move || {
                let mut next = b.wait();
                let r = poll_with(&mut next, &futures::task::noop_waker());
                l.borrow_mut().push(r.is_pending());
            },
            || {},
        );
        let mut w1 = barrier.wait();
        assert!(poll_with(&mut w1, &waker).is_pending());
        drop(waker);
        let mut w2 = barrier.wait();
        assert!(poll_with(&mut w2, &futures::task::noop_waker()).is_ready());
        assert_eq!(*log.borrow(), [true]);
        assert!(poll_with(&mut w1, &futures::task::noop_waker()).is_ready());
    });
}

// ---------------------------------------------------------------------------
// OnceCell
// ---------------------------------------------------------------------------

#[test]
fn once_cell_set_get_take_and_errors() {
    watchdog(LIMIT, || {
        let cell = OnceCell::new();
        assert!(!cell.initialized());
        assert_eq!(cell.get(), None);
        assert_eq!(cell.set(1), Ok(()));
        assert!(cell.initialized());
        let err = cell.set(2).unwrap_err();
        assert!(err.is_already_init_err() && !err.is_initializing_err());
        assert_eq!(err.into_inner(), 2);
        let mut cell = cell;
        *cell.get_mut().unwrap() += 10;
        assert_eq!(cell.get(), Some(&11));
        assert_eq!(cell.take(), Some(11));
        assert!(!cell.initialized());
        assert_eq!(cell.take(), None);
        assert_eq!(OnceCell::new_with(Some(5)).into_inner(), Some(5));
        assert_eq!(OnceCell::<u8>::new_with(None).into_inner(), None);
        let c = OnceCell::from(3);
        assert_eq!(c.clone(), c);
        assert_eq!(format!("{c:?}"), "OnceCell { value: Some(3) }");
    });
}

#[test]
fn once_cell_ten_concurrent_initialisers_run_one() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let cell = Rc::new(OnceCell::new());
            let runs = Rc::new(Cell::new(0));
            let tasks: Vec<_> = (0..10)
                .map(|i| {
                    let (cell, runs) = (cell.clone(), runs.clone());
                    eddy::spawn(async move {
                        *cell
                            .get_or_init(|| async move {
                                runs.set(runs.get() + 1);
                                yields(3).await;
                                i
                            })
                            .await
                    })
                })
                .collect();
            yield_now().await;
            // While it runs, `set` says so.
            let err = cell.set(99).unwrap_err();
            assert!(err.is_initializing_err());
            for t in tasks {
                assert_eq!(t.await.unwrap(), 0);
            }
            assert_eq!(runs.get(), 1);
        });
    });
}

#[test]
fn once_cell_cancelled_initialiser_lets_the_next_waiter_try() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let cell = Rc::new(OnceCell::new());
            let started = Rc::new(RefCell::new(Vec::new()));
            let spawn_init = |i: u32| {
                let (cell, started) = (cell.clone(), started.clone());
                eddy::spawn(async move {
                    *cell
                        .get_or_init(|| async move {
                            started.borrow_mut().push(i);
                            yields(2).await;
                            i
                        })
                        .await
                })
            };
            let first = spawn_init(1);
            yield_now().await; // the first runs its initialiser
            let second = spawn_init(2);
            let third = spawn_init(3);
            yield_now().await; // both wait
            first.abort();
            assert_eq!(second.await.unwrap(), 2, "the first waiter tried next");
            assert_eq!(third.await.unwrap(), 2);
            assert_eq!(*started.borrow(), [1, 2]);

            // A failing initialiser, and a panicking one, also pass the turn.
            let cell = Rc::new(OnceCell::<u32>::new());
            let c = cell.clone();
            let failing = eddy::spawn(async move {
                c.get_or_try_init(|| async {
                    yield_now().await;
                    Err("no")
                })
                .await
                .copied()
            });
            let c = cell.clone();
            let panicking =
                eddy::spawn(
                    async move { *c.get_or_init(|| async { panic!("init panicked") }).await },
                );
            let c = cell.clone();
            let last = eddy::spawn(async move { *c.get_or_init(|| async { 7 }).await });
            assert_eq!(failing.await.unwrap(), Err("no"));
            assert!(panicking.await.unwrap_err().is_panic());
            assert_eq!(last.await.unwrap(), 7);
            assert_eq!(cell.get(), Some(&7));
        });
    });
}

#[test]
fn once_cell_dropped_waiter_granted_the_turn_passes_it_on() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let cell = OnceCell::new();
            let (_c, waker) = counting_waker();
            let mut first = Box::pin(cell.get_or_init(std::future::pending::<u32>));
            assert!(
                first
                    .as_mut()
                    .poll(&mut Context::from_waker(&waker))
                    .is_pending()
            );
            let mut second = Box::pin(cell.get_or_init(|| async { 2 }));
            assert!(
                second
                    .as_mut()
                    .poll(&mut Context::from_waker(&waker))
                    .is_pending()
            );
            let mut third = Box::pin(cell.get_or_init(|| async { 3 }));
            assert!(
                third
                    .as_mut()
                    .poll(&mut Context::from_waker(&waker))
                    .is_pending()
            );
            drop(first); // the turn goes to `second`...
            drop(second); // ...which leaves before taking it: on to `third`
            assert_eq!(*third.await, 3);
            // Nobody initialising any more: `set` and `get_or_init` work.
            assert!(cell.set(4).unwrap_err().is_already_init_err());
        });
    });
}

#[test]
fn once_cell_user_code_that_uses_the_same_cell() {
    watchdog(LIMIT, || {
        // A waiter's waker reads and sets the cell when woken (the value is
        // set by then), and reads it again when dropped.
        let cell = Rc::new(OnceCell::<u32>::new());
        let log = Rc::new(RefCell::new(Vec::new()));
        let (c1, c2, l1, l2) = (cell.clone(), cell.clone(), log.clone(), log.clone());
        let waker = hook_waker(
            move || {
                l1.borrow_mut()
                    .push(format!("woken {:?} {:?}", c1.get(), c1.set(9)))
            },
            move || l2.borrow_mut().push(format!("dropped {:?}", c2.get())),
        );
        let (tx, rx) = eddy::sync::oneshot::channel::<u32>();
        let noop = futures::task::noop_waker();
        let mut init = Box::pin(cell.get_or_init(|| async { rx.await.unwrap() }));
        assert!(
            init.as_mut()
                .poll(&mut Context::from_waker(&noop))
                .is_pending()
        );
        let mut wait = Box::pin(cell.get_or_init(|| async { 2 }));
        assert!(
            wait.as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_pending()
        );
        drop(waker);
        tx.send(1).unwrap();
        assert!(matches!(
            init.as_mut().poll(&mut Context::from_waker(&noop)),
            Poll::Ready(&1)
        ));
        assert_eq!(
            *log.borrow(),
            [
                "woken Some(1) Err(AlreadyInitializedError(..))",
                "dropped Some(1)"
            ]
        );
        assert!(matches!(
            wait.as_mut().poll(&mut Context::from_waker(&noop)),
            Poll::Ready(&1)
        ));
    });
}

// ---------------------------------------------------------------------------
// select! without .fuse()
// ---------------------------------------------------------------------------

#[test]
fn select_loops_over_sleep_join_handle_and_broadcast_without_fuse() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let (tx, mut rx) = broadcast::channel::<u32>(8);
            let mut task = eddy::spawn(async move {
                for i in 0..3 {
                    tx.send(i).unwrap();
                    yield_now().await;
                }
                "sender done"
            });
            let mut sleep = eddy::time::sleep(Duration::from_millis(5));
            let (mut values, mut task_out, mut slept) = (Vec::new(), None, 0);
            loop {
                futures::select! {
                    v = rx.next() => match v {
                        Some(v) => values.push(v.unwrap()),
                        None => values.push(u32::MAX), // closed: said once
                    },
                    out = task => task_out = Some(out.unwrap()),
                    () = sleep => slept += 1,
                    complete => break,
                }
            }
            assert_eq!(values, [0, 1, 2, u32::MAX]);
            assert_eq!(task_out, Some("sender done"));
            assert_eq!(slept, 1, "a completed sleep does not fire again");
            assert!(task.is_terminated() && rx.is_terminated() && sleep.is_terminated());
        });
    });
}

#[test]
fn sleep_and_join_handle_say_when_they_are_terminated() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let mut sleep = eddy::time::sleep(Duration::ZERO);
            assert!(!sleep.is_terminated());
            (&mut sleep).await;
            assert!(sleep.is_terminated());
            Pin::new(&mut sleep).reset(eddy::time::Instant::now() + Duration::from_millis(1));
            assert!(!sleep.is_terminated(), "reset arms it again");
            (&mut sleep).await;
            assert!(sleep.is_terminated());

            let mut handle = eddy::spawn(async { 5 });
            yield_now().await;
            assert!(handle.is_finished());
            assert!(!handle.is_terminated(), "finished, result not taken yet");
            assert_eq!((&mut handle).await.unwrap(), 5);
            assert!(handle.is_terminated());

            let mut aborted = eddy::spawn(std::future::pending::<()>());
            aborted.abort();
            assert!(!aborted.is_terminated());
            assert!((&mut aborted).await.unwrap_err().is_cancelled());
            assert!(aborted.is_terminated());
        });
    });
}

// ---------------------------------------------------------------------------
// JoinSet::join_next_with_id and task ids
// ---------------------------------------------------------------------------

#[test]
fn join_next_with_id_gives_the_ids_of_the_abort_handles() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let mut set = JoinSet::new();
            let mut index = HashMap::new();
            // Finish in the reverse of spawn order.
            for i in 0..5usize {
                let abort = set.spawn(async move {
                    yields(10 - 2 * i).await;
                    if i == 3 {
                        panic!("task 3 fails");
                    }
                    i * 10
                });
                index.insert(abort.id(), (i, abort));
            }
            let pending = set.spawn(std::future::pending());
            let pending_id = pending.id();
            pending.abort();
            let mut in_order = vec![None; 5];
            let mut completion = Vec::new();
            let mut cancelled = None;
            while let Some(result) = set.join_next_with_id().await {
                match result {
                    Ok((id, v)) => {
                        let (i, abort) = &index[&id];
                        assert_eq!(abort.id(), id);
                        completion.push(*i);
                        in_order[*i] = Some(v);
                    }
                    Err(e) if e.is_panic() => {
                        let (i, _) = &index[&e.id()];
                        assert_eq!(*i, 3);
                        completion.push(3);
                    }
                    Err(e) => cancelled = Some(e.id()),
                }
            }
            assert_eq!(cancelled, Some(pending_id));
            assert_eq!(completion, [4, 3, 2, 1, 0]);
            assert_eq!(in_order, [Some(0), Some(10), Some(20), None, Some(40)]);

            // The poll form.
            let mut set = JoinSet::new();
            let id = set.spawn(async { 'x' }).id();
            let got = std::future::poll_fn(|cx| set.poll_join_next_with_id(cx)).await;
            assert_eq!(got.unwrap().unwrap(), (id, 'x'));
            assert!(
                std::future::poll_fn(|cx| set.poll_join_next_with_id(cx))
                    .await
                    .is_none()
            );
        });
    });
}

#[test]
fn task_ids_agree_across_handles_and_errors() {
    watchdog(LIMIT, || {
        eddy::block_on(async {
            let handle = eddy::spawn(async { panic!("boom") });
            let id = handle.id();
            assert_eq!(handle.abort_handle().id(), id);
            assert_eq!(handle.await.unwrap_err().id(), id);
            let handle = eddy::spawn(std::future::pending::<()>());
            let abort = handle.abort_handle();
            abort.abort();
            assert_eq!(handle.await.unwrap_err().id(), abort.id());
        });
    });
}

/// Every name of API.md's "More sync" with the exact argument, return and
/// trait types it writes: it compiles only if they hold, and runs nothing.
#[test]
#[allow(
    unused_must_use,
    clippy::let_underscore_future,
    clippy::redundant_closure
)]
fn signatures_as_api_md_writes_them() {
    fn fused_stream<T: futures_core::stream::FusedStream>() {}
    fn fused_future<T: futures_core::future::FusedFuture>() {}
    use eddy::sync::broadcast::{self, RecvError, SendError, TryRecvError};
    let (tx, mut rx) = broadcast::channel::<u32>(4);
    let _: Result<usize, SendError<u32>> = tx.send(1);
    let _: broadcast::Receiver<u32> = tx.subscribe();
    let _: usize = tx.receiver_count();
    let _: usize = tx.len();
    fut::<(), _>(tx.closed());
    let _: broadcast::Sender<u32> = broadcast::Sender::new(3);
    fut::<Result<u32, RecvError>, _>(rx.recv());
    let _: Result<u32, TryRecvError> = rx.try_recv();
    let _: usize = rx.len();
    let _: bool = rx.is_empty();
    let _: broadcast::Receiver<u32> = rx.resubscribe();
    match RecvError::Closed {
        RecvError::Closed => {}
        RecvError::Lagged(n) => {
            let _: u64 = n;
        }
    }
    fused_stream::<broadcast::Receiver<u32>>();
    fused_stream::<eddy::sync::mpsc::Receiver<u32>>();
    fused_future::<eddy::sync::oneshot::Receiver<u32>>();
    fused_future::<eddy::time::Sleep>();
    fused_future::<eddy::JoinHandle<u32>>();
    use eddy::sync::watch;
    let (wtx, mut wrx) = watch::channel(1u32);
    let _: Result<(), watch::SendError<u32>> = wtx.send(2);
    let _: u32 = wtx.send_replace(3);
    wtx.send_modify(|v| *v += 1);
    {
        let _: u32 = *wtx.borrow();
    }
    let _: watch::Receiver<u32> = wtx.subscribe();
    fut::<(), _>(wtx.closed());
    let _: bool = wtx.is_closed();
    let _: usize = wtx.receiver_count();
    let _ = wtx.clone();
    let _ = wrx.clone();
    {
        let _: u32 = *wrx.borrow();
    }
    {
        let _: u32 = *wrx.borrow_and_update();
    }
    fut::<Result<(), watch::RecvError>, _>(wrx.changed());
    let _: Result<bool, watch::RecvError> = wrx.has_changed();
    wrx.mark_changed();
    wrx.mark_unchanged();
    let _ = wrx.wait_for(|v| *v > 1);
    use eddy::sync::{Barrier, OnceCell, RwLock, SetError};
    let mut l = RwLock::new(1);
    let _ = l.try_read();
    let _ = l.try_write();
    let _: &mut i32 = l.get_mut();
    let _: i32 = l.into_inner();
    let _ = Barrier::new(2);
    let _ = |b: &Barrier| fut::<eddy::sync::BarrierWaitResult, _>(b.wait());
    let _ = |r: eddy::sync::BarrierWaitResult| -> bool { r.is_leader() };
    let mut o: OnceCell<u32> = OnceCell::new();
    let _ = OnceCell::new_with(Some(1u32));
    let _: Option<&u32> = o.get();
    let _: Option<&mut u32> = o.get_mut();
    let _: Result<(), SetError<u32>> = o.set(1);
    match o.set(2) {
        Err(SetError::AlreadyInitializedError(_)) => {}
        Err(SetError::InitializingError(_)) => {}
        Ok(()) => {}
    }
    let _: bool = o.initialized();
    let _: Option<u32> = o.take();
    let _: Option<u32> = OnceCell::<u32>::new().into_inner();
    let _ = async {
        let o = OnceCell::<u32>::new();
        let _: &u32 = o.get_or_init(|| async { 1 }).await;
        let _: Result<&u32, ()> = o.get_or_try_init(|| async { Ok(1) }).await;
    };
    use eddy::task::{AbortHandle, JoinSet, TaskId};
    let _ = |s: &mut JoinSet<u32>| {
        fut::<Option<Result<(TaskId, u32), eddy::JoinError>>, _>(s.join_next_with_id())
    };
    let _ = |e: &eddy::JoinError| -> TaskId { e.id() };
    let _ = |h: &eddy::JoinHandle<u32>| -> TaskId { h.id() };
    let _ = |h: &AbortHandle| -> TaskId { h.id() };
    let _ = |s: &mut JoinSet<u32>| -> AbortHandle { s.spawn(async { 1 }) };
}

/// A `Clone` that panics panics in the reader's `try_recv`, even for the
/// only receiver, and that receiver has moved past the value: the next read
/// gets the value after it (tokio's behaviour).
#[test]
fn broadcast_a_panicking_clone_panics_in_recv_and_skips_the_value() {
    #[derive(Debug, PartialEq)]
    struct Fragile(u32);
    impl Clone for Fragile {
        fn clone(&self) -> Fragile {
            assert!(self.0 != 0, "this value does not clone");
            Fragile(self.0)
        }
    }
    watchdog(LIMIT, || {
        let (tx, mut rx) = broadcast::channel(4);
        tx.send(Fragile(0)).unwrap();
        tx.send(Fragile(7)).unwrap();
        let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rx.try_recv()));
        assert!(read.is_err(), "the clone's panic reaches the reader");
        assert_eq!(rx.try_recv(), Ok(Fragile(7)));
        assert_eq!(tx.len(), 0);
    });
}
