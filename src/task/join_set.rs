//! `JoinSet`: a group of tasks whose results come back in completion order.
//!
//! Each member's future is wrapped with a small guard that, when the future
//! ends in any way (output, panic, abort, runtime drop), puts the member's
//! key on the set's `done` queue and wakes whoever waits in `join_next`. The
//! set keeps the members' `JoinHandle`s in a slab by key, so taking the next
//! result is a queue pop and a slab removal: no scan, no hashing.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, Location, catch_unwind, resume_unwind};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use slab::Slab;

use super::harness::drop_quietly;
use super::{AbortHandle, JoinError, JoinHandle, TaskId};

/// A set of tasks, awaited together: `asyncio.gather` and `TaskGroup`.
///
/// [`join_next`](JoinSet::join_next) gives each task's result in the order
/// the tasks finish, including panics and cancellations, so nothing is lost.
/// Dropping the set aborts every task still in it.
///
/// ```
/// use eddy::task::JoinSet;
///
/// eddy::block_on(async {
///     let mut set = JoinSet::new();
///     for i in 0..3u32 {
///         set.spawn(async move { i * 10 });
///     }
///     let mut total = 0;
///     while let Some(result) = set.join_next().await {
///         total += result.unwrap();
///     }
///     assert_eq!(total, 30);
/// });
/// ```
pub struct JoinSet<T> {
    members: Slab<JoinHandle<T>>,
    done: Rc<Done>,
}

#[derive(Default)]
struct Done {
    keys: RefCell<VecDeque<usize>>,
    waiter: Cell<Option<Waker>>,
    /// Bumped by `detach_all`: reports of members detached before it are
    /// ignored (their keys may be reused by new members).
    epoch: Cell<u64>,
}

/// Reports a member as done when dropped, i.e. when its future ends.
struct Report {
    key: usize,
    epoch: u64,
    done: Rc<Done>,
}

impl Drop for Report {
    fn drop(&mut self) {
        if self.done.epoch.get() != self.epoch {
            return; // detached
        }
        self.done.keys.borrow_mut().push_back(self.key);
        if let Some(waiter) = self.done.waiter.take() {
            waiter.wake();
        }
    }
}

impl<T: 'static> JoinSet<T> {
    /// An empty set.
    ///
    /// ```
    /// use eddy::task::JoinSet;
    ///
    /// let set = JoinSet::<u32>::new();
    /// assert!(set.is_empty());
    /// ```
    pub fn new() -> JoinSet<T> {
        JoinSet {
            members: Slab::new(),
            done: Rc::default(),
        }
    }

    /// Spawns a task into the set on the current runtime, and returns a
    /// handle that can abort it (its result stays in the set). This is
    /// asyncio's `TaskGroup.create_task`.
    ///
    /// # Panics
    ///
    /// Outside a runtime, as [`spawn`](crate::spawn), with
    /// ``eddy: `JoinSet::spawn` was called outside a runtime``.
    ///
    /// ```
    /// use eddy::task::JoinSet;
    ///
    /// eddy::block_on(async {
    ///     let mut set = JoinSet::new();
    ///     set.spawn(async { "kept" });
    ///     let stuck = set.spawn(std::future::pending());
    ///     stuck.abort();
    ///     let mut kept = 0;
    ///     let mut cancelled = 0;
    ///     while let Some(result) = set.join_next().await {
    ///         match result {
    ///             Ok(_) => kept += 1,
    ///             Err(e) if e.is_cancelled() => cancelled += 1,
    ///             Err(e) => panic!("{e}"),
    ///         }
    ///     }
    ///     assert_eq!((kept, cancelled), (1, 1));
    /// });
    /// ```
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        let location = Location::caller();
        // The runtime is looked up before anything is built: outside one, the
        // panic must leave no `Report` behind to queue a key never used.
        let handle = crate::runtime::with_current("JoinSet::spawn", |core| {
            let report = Report {
                key: self.members.vacant_key(),
                epoch: self.done.epoch.get(),
                done: Rc::clone(&self.done),
            };
            let wrapped = async move {
                let output = future.await;
                drop(report);
                output
            };
            core.spawn(wrapped, location)
        });
        let abort = handle.abort_handle();
        self.members.insert(handle);
        abort
    }

    /// Waits for the next task to finish and returns its result; `None` when
    /// the set is empty. Results come in the order the tasks finished.
    ///
    /// Cancel-safe: if this future is dropped, no result is lost.
    ///
    /// ```
    /// use eddy::task::JoinSet;
    ///
    /// eddy::block_on(async {
    ///     let mut set = JoinSet::new();
    ///     set.spawn(async {
    ///         eddy::task::yield_now().await; // finishes second
    ///         "slow"
    ///     });
    ///     set.spawn(async { "fast" });
    ///     assert_eq!(set.join_next().await.unwrap().unwrap(), "fast");
    ///     assert_eq!(set.join_next().await.unwrap().unwrap(), "slow");
    ///     assert!(set.join_next().await.is_none()); // empty
    /// });
    /// ```
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// The polling form of [`join_next`](JoinSet::join_next): `Pending`
    /// keeps the waker of the latest call.
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use eddy::task::JoinSet;
    ///
    /// eddy::block_on(async {
    ///     let mut set = JoinSet::new();
    ///     set.spawn(async { 5 });
    ///     let first = poll_fn(|cx| set.poll_join_next(cx)).await;
    ///     assert_eq!(first.unwrap().unwrap(), 5);
    ///     assert!(poll_fn(|cx| set.poll_join_next(cx)).await.is_none());
    /// });
    /// ```
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        self.poll_join_next_with_id(cx)
            .map(|next| next.map(|result| result.map(|(_, output)| output)))
    }

    /// As [`join_next`](JoinSet::join_next), with the id of the task that
    /// finished: the id of the [`AbortHandle`] that [`spawn`](JoinSet::spawn)
    /// returned for it (and of the `JoinError`, if it failed). So results
    /// can be put back in the order the tasks were spawned, as
    /// `asyncio.gather` does.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use eddy::task::JoinSet;
    ///
    /// eddy::block_on(async {
    ///     let mut set = JoinSet::new();
    ///     let mut index = HashMap::new();
    ///     for (i, word) in ["slow", "fast"].into_iter().enumerate() {
    ///         let id = set.spawn(async move { word.len() }).id();
    ///         index.insert(id, i);
    ///     }
    ///     let mut in_order = [0; 2];
    ///     while let Some(result) = set.join_next_with_id().await {
    ///         let (id, len) = result.unwrap();
    ///         in_order[index[&id]] = len;
    ///     }
    ///     assert_eq!(in_order, [4, 4]);
    /// });
    /// ```
    pub async fn join_next_with_id(&mut self) -> Option<Result<(TaskId, T), JoinError>> {
        poll_fn(|cx| self.poll_join_next_with_id(cx)).await
    }

    /// The polling form of [`join_next_with_id`](JoinSet::join_next_with_id).
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use eddy::task::JoinSet;
    ///
    /// eddy::block_on(async {
    ///     let mut set = JoinSet::new();
    ///     let id = set.spawn(async { 'x' }).id();
    ///     let next = poll_fn(|cx| set.poll_join_next_with_id(cx)).await;
    ///     assert_eq!(next.unwrap().unwrap(), (id, 'x'));
    /// });
    /// ```
    pub fn poll_join_next_with_id(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<(TaskId, T), JoinError>>> {
        if let Some(result) = self.try_join_next_with_id() {
            return Poll::Ready(Some(result));
        }
        if self.members.is_empty() {
            return Poll::Ready(None);
        }
        self.done.waiter.set(Some(cx.waker().clone()));
        Poll::Pending
    }

    /// Takes the result of a task that has finished, without waiting:
    /// `None` if none has (or the set is empty).
    ///
    /// ```
    /// use eddy::task::JoinSet;
    ///
    /// eddy::block_on(async {
    ///     let mut set = JoinSet::new();
    ///     set.spawn(async { 1 });
    ///     assert!(set.try_join_next().is_none()); // not run yet
    ///     eddy::task::yield_now().await;
    ///     assert_eq!(set.try_join_next().unwrap().unwrap(), 1);
    ///     assert!(set.is_empty());
    /// });
    /// ```
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        self.try_join_next_with_id()
            .map(|result| result.map(|(_, output)| output))
    }

    /// As [`try_join_next`](JoinSet::try_join_next), with the id of the
    /// task, as [`join_next_with_id`](JoinSet::join_next_with_id) gives it.
    ///
    /// ```
    /// use eddy::task::JoinSet;
    ///
    /// eddy::block_on(async {
    ///     let mut set = JoinSet::new();
    ///     let id = set.spawn(async { 'a' }).id();
    ///     eddy::task::yield_now().await;
    ///     assert_eq!(set.try_join_next_with_id().unwrap().unwrap(), (id, 'a'));
    /// });
    /// ```
    pub fn try_join_next_with_id(&mut self) -> Option<Result<(TaskId, T), JoinError>> {
        let key = self.done.keys.borrow_mut().pop_front()?;
        let handle = self.members.remove(key);
        let id = handle.id();
        Some(handle.take_finished().map(|output| (id, output)))
    }

    /// Aborts every task and waits until all have finished; their results
    /// are dropped, and the set is empty after.
    ///
    /// ```
    /// use eddy::task::JoinSet;
    ///
    /// eddy::block_on(async {
    ///     let mut set = JoinSet::new();
    ///     for _ in 0..3 {
    ///         set.spawn(std::future::pending::<()>());
    ///     }
    ///     set.shutdown().await;
    ///     assert!(set.is_empty());
    /// });
    /// ```
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Waits for every task and returns their outputs in completion order;
    /// resumes the first panic, if any (use `join_next` to see each error).
    ///
    /// # Panics
    ///
    /// If a task panicked (resumed with its payload), or was cancelled
    /// (``eddy: JoinSet::join_all: `` and the [`JoinError`]).
    ///
    /// ```
    /// use eddy::task::JoinSet;
    ///
    /// eddy::block_on(async {
    ///     let mut set = JoinSet::new();
    ///     set.spawn(async {
    ///         eddy::task::yield_now().await;
    ///         1
    ///     });
    ///     set.spawn(async { 2 });
    ///     assert_eq!(set.join_all().await, [2, 1]); // completion order
    /// });
    /// ```
    pub async fn join_all(mut self) -> Vec<T> {
        let mut outputs = Vec::with_capacity(self.len());
        while let Some(result) = self.join_next().await {
            match result {
                Ok(output) => outputs.push(output),
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => panic!("eddy: JoinSet::join_all: {e}"),
            }
        }
        outputs
    }
}

impl<T> JoinSet<T> {
    /// Tasks in the set, finished or not, whose results were not taken yet.
    ///
    /// ```
    /// use eddy::task::JoinSet;
    ///
    /// eddy::block_on(async {
    ///     let mut set = JoinSet::new();
    ///     set.spawn(async {});
    ///     eddy::task::yield_now().await; // it finished...
    ///     assert_eq!(set.len(), 1); // ...and counts until its result is taken
    ///     set.join_next().await;
    ///     assert_eq!(set.len(), 0);
    /// });
    /// ```
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// True if the set holds no task.
    ///
    /// ```
    /// use eddy::task::JoinSet;
    ///
    /// eddy::block_on(async {
    ///     let mut set = JoinSet::new();
    ///     assert!(set.is_empty());
    ///     set.spawn(async {});
    ///     assert!(!set.is_empty());
    /// });
    /// ```
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Aborts every task in the set; their results (cancelled, mostly) stay
    /// to be taken with `join_next`.
    ///
    /// ```
    /// use eddy::task::JoinSet;
    ///
    /// eddy::block_on(async {
    ///     let mut set = JoinSet::new();
    ///     set.spawn(std::future::pending::<()>());
    ///     set.abort_all();
    ///     assert!(set.join_next().await.unwrap().unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort_all(&mut self) {
        for (_, handle) in &self.members {
            handle.abort();
        }
    }

    /// Removes every task from the set without aborting it: they run on,
    /// detached, as if their `JoinHandle`s were dropped. The set is then
    /// empty.
    ///
    /// ```
    /// use std::rc::Rc;
    /// use std::cell::Cell;
    /// use eddy::task::JoinSet;
    ///
    /// eddy::block_on(async {
    ///     let ran = Rc::new(Cell::new(false));
    ///     let mut set = JoinSet::new();
    ///     let flag = ran.clone();
    ///     set.spawn(async move { flag.set(true) });
    ///     set.detach_all();
    ///     drop(set); // would abort the task, had it not been detached
    ///     eddy::task::yield_now().await;
    ///     assert!(ran.get());
    /// });
    /// ```
    pub fn detach_all(&mut self) {
        self.done.epoch.set(self.done.epoch.get() + 1);
        let detached = std::mem::take(&mut self.members);
        self.done.keys.borrow_mut().clear();
        // Dropping the handles detaches the tasks (and drops the outputs of
        // those already finished), with no borrow of the set held.
        drop(detached);
    }
}

/// Spawns every future of the iterator into a new set, on the current
/// runtime. Panics outside a runtime, as [`JoinSet::spawn`].
///
/// ```
/// use eddy::task::JoinSet;
///
/// eddy::block_on(async {
///     let set: JoinSet<u32> = (1..=3u32).map(|i| async move { i * i }).collect();
///     let mut squares = set.join_all().await;
///     squares.sort();
///     assert_eq!(squares, [1, 4, 9]);
/// });
/// ```
impl<T: 'static, F> FromIterator<F> for JoinSet<T>
where
    F: Future<Output = T> + 'static,
{
    #[track_caller]
    fn from_iter<I: IntoIterator<Item = F>>(iter: I) -> JoinSet<T> {
        let mut set = JoinSet::new();
        set.extend(iter);
        set
    }
}

/// Spawns every future of the iterator into the set, on the current
/// runtime. Panics outside a runtime, as [`JoinSet::spawn`].
impl<T: 'static, F> Extend<F> for JoinSet<T>
where
    F: Future<Output = T> + 'static,
{
    #[track_caller]
    fn extend<I: IntoIterator<Item = F>>(&mut self, iter: I) {
        for future in iter {
            self.spawn(future);
        }
    }
}

impl<T: 'static> Default for JoinSet<T> {
    fn default() -> JoinSet<T> {
        JoinSet::new()
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        // A destructor run by an abort, or an output's, may panic: the other
        // members are still aborted and released, and the first panic is
        // resumed at the end.
        let mut panic = None;
        for handle in self.members.drain() {
            if let Err(p) = catch_unwind(AssertUnwindSafe(move || {
                handle.abort();
                drop(handle);
            })) {
                match panic {
                    Some(_) => drop_quietly(p),
                    None => panic = Some(p),
                }
            }
        }
        if let Some(p) = panic {
            if std::thread::panicking() {
                drop_quietly(p);
            } else {
                resume_unwind(p);
            }
        }
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len()).finish()
    }
}
