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
use std::panic::Location;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use slab::Slab;

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
}

/// Reports a member as done when dropped, i.e. when its future ends.
struct Report {
    key: usize,
    done: Rc<Done>,
}

impl Drop for Report {
    fn drop(&mut self) {
        self.done.keys.borrow_mut().push_back(self.key);
        if let Some(waiter) = self.done.waiter.take() {
            waiter.wake();
        }
    }
}

impl<T: 'static> JoinSet<T> {
    /// An empty set.
    pub fn new() -> JoinSet<T> {
        JoinSet {
            members: Slab::new(),
            done: Rc::default(),
        }
    }

    /// Spawns a task into the set on the current runtime. Panics outside a
    /// runtime, as [`spawn`](crate::spawn).
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        let location = Location::caller();
        let report = Report {
            key: self.members.vacant_key(),
            done: Rc::clone(&self.done),
        };
        let wrapped = async move {
            let output = future.await;
            drop(report);
            output
        };
        let handle =
            crate::runtime::with_current("JoinSet::spawn", |core| core.spawn(wrapped, location));
        let abort = handle.abort_handle();
        self.members.insert(handle);
        abort
    }

    /// Waits for the next task to finish and returns its result; `None` when
    /// the set is empty. Results come in the order the tasks finished.
    ///
    /// Cancel-safe: if this future is dropped, no result is lost.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// The polling form of [`join_next`](JoinSet::join_next).
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
    pub fn poll_join_next_with_id(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<(TaskId, T), JoinError>>> {
        let key = self.done.keys.borrow_mut().pop_front();
        match key {
            Some(key) => {
                let handle = self.members.remove(key);
                let id = handle.id();
                Poll::Ready(Some(handle.take_finished().map(|output| (id, output))))
            }
            None if self.members.is_empty() => Poll::Ready(None),
            None => {
                self.done.waiter.set(Some(cx.waker().clone()));
                Poll::Pending
            }
        }
    }

    /// Aborts every task and waits until all have finished.
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Waits for every task and returns their outputs in completion order;
    /// resumes the first panic, if any (use `join_next` to see each error).
    ///
    /// # Panics
    ///
    /// If a task panicked (with its payload), or was cancelled.
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
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// True if the set holds no task.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Aborts every task in the set; their results (cancelled, mostly) stay
    /// to be taken with `join_next`.
    pub fn abort_all(&mut self) {
        for (_, handle) in &self.members {
            handle.abort();
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
        for handle in self.members.drain() {
            handle.abort();
        }
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len()).finish()
    }
}
