//! `Barrier`: tasks wait for one another, then go on together.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::waiters::{self, Grant, WAITING, Wait, WaitList};

/// The waiter's group is complete.
const RELEASED: Grant = 1;

/// Makes `n` tasks wait until all `n` have called [`wait`](Barrier::wait),
/// then lets them all go on; the barrier is then ready for the next `n`.
/// One task of each group is told it is the leader (the last to arrive).
///
/// A `wait()` future dropped before its group was complete takes its
/// arrival back: the group still needs `n` tasks that really wait (tokio
/// counts the dropped one). `Barrier::new(0)` behaves as `new(1)`, as std's.
/// This is asyncio's `Barrier` (Python 3.11), which cannot be broken.
///
/// ```
/// use std::rc::Rc;
/// use eddy::sync::Barrier;
///
/// eddy::block_on(async {
///     let barrier = Rc::new(Barrier::new(3));
///     let tasks: Vec<_> = (0..3)
///         .map(|_| {
///             let barrier = barrier.clone();
///             eddy::spawn(async move { barrier.wait().await.is_leader() })
///         })
///         .collect();
///     let mut leaders = 0;
///     for t in tasks {
///         leaders += t.await.unwrap() as usize;
///     }
///     assert_eq!(leaders, 1);
/// });
/// ```
pub struct Barrier {
    n: usize,
    /// Tasks of the current group waiting now.
    arrived: Cell<usize>,
    waiters: RefCell<WaitList>,
    _not_send: PhantomData<Rc<()>>,
}

impl Barrier {
    /// A barrier for groups of `n` tasks.
    ///
    /// ```
    /// use eddy::sync::Barrier;
    ///
    /// eddy::block_on(async {
    ///     let barrier = Barrier::new(2);
    ///     let (a, b) = futures::join!(barrier.wait(), barrier.wait());
    ///     assert_eq!(a.is_leader() as u8 + b.is_leader() as u8, 1);
    /// });
    /// ```
    pub fn new(n: usize) -> Barrier {
        Barrier {
            n: n.max(1),
            arrived: Cell::new(0),
            waiters: RefCell::default(),
            _not_send: PhantomData,
        }
    }

    /// Waits until `n` tasks wait here, counting this one from its first
    /// poll. The last to arrive completes at once, as the leader; the
    /// others complete when it arrives.
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    /// use eddy::sync::Barrier;
    ///
    /// eddy::block_on(async {
    ///     let barrier = Rc::new(Barrier::new(2));
    ///     let step = Rc::new(Cell::new(0));
    ///     let other = eddy::spawn({
    ///         let (barrier, step) = (barrier.clone(), step.clone());
    ///         async move {
    ///             step.set(1); // first phase done
    ///             barrier.wait().await;
    ///         }
    ///     });
    ///     barrier.wait().await; // returns only once `other` arrived too
    ///     assert_eq!(step.get(), 1);
    ///     other.await.unwrap();
    /// });
    /// ```
    pub fn wait(&self) -> BarrierWait<'_> {
        BarrierWait {
            barrier: self,
            wait: Wait::new(&self.waiters, 0),
            arrived: false,
        }
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("n", &self.n)
            .field("arrived", &self.arrived.get())
            .finish()
    }
}

/// The future of [`Barrier::wait`]. Dropped before its group is
/// complete, it takes its arrival back.
///
/// ```
/// use std::time::Duration;
/// use eddy::sync::Barrier;
///
/// eddy::block_on(async {
///     let barrier = Barrier::new(2);
///     // Alone, the wait gives up; its arrival no longer counts.
///     let alone = eddy::time::timeout(Duration::from_millis(1), barrier.wait()).await;
///     assert!(alone.is_err());
///     let (a, b) = futures::join!(barrier.wait(), barrier.wait());
///     assert!(a.is_leader() != b.is_leader());
/// });
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct BarrierWait<'a> {
    barrier: &'a Barrier,
    wait: Wait<'a>,
    arrived: bool,
}

impl Future for BarrierWait<'_> {
    type Output = BarrierWaitResult;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<BarrierWaitResult> {
        let barrier = self.barrier;
        if !self.arrived {
            self.arrived = true;
            let arrived = barrier.arrived.get() + 1;
            if arrived == barrier.n {
                barrier.arrived.set(0);
                waiters::wake_all(&barrier.waiters, RELEASED);
                return Poll::Ready(BarrierWaitResult(true));
            }
            barrier.arrived.set(arrived);
        }
        Pin::new(&mut self.wait)
            .poll(cx)
            .map(|_| BarrierWaitResult(false))
    }
}

impl Drop for BarrierWait<'_> {
    fn drop(&mut self) {
        if self.wait.cancel() == Some(WAITING) {
            // Gone before the group was complete: it no longer counts.
            let barrier = self.barrier;
            barrier.arrived.set(barrier.arrived.get() - 1);
        }
    }
}

impl fmt::Debug for BarrierWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BarrierWait")
            .field("arrived", &self.arrived)
            .finish()
    }
}

/// What [`Barrier::wait`] gives each task of a group.
///
/// ```
/// use eddy::sync::Barrier;
///
/// eddy::block_on(async {
///     let barrier = Barrier::new(1);
///     assert!(barrier.wait().await.is_leader()); // a group of one leads itself
/// });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BarrierWaitResult(bool);

impl BarrierWaitResult {
    /// True for exactly one task of each group: the last to arrive.
    ///
    /// ```
    /// use eddy::sync::Barrier;
    ///
    /// eddy::block_on(async {
    ///     let barrier = Barrier::new(2);
    ///     let (first, last) = futures::join!(barrier.wait(), barrier.wait());
    ///     assert!(!first.is_leader()); // arrived first, waited
    ///     assert!(last.is_leader()); // completed the group
    /// });
    /// ```
    pub fn is_leader(&self) -> bool {
        self.0
    }
}
