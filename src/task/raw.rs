//! The raw task: one heap allocation holding a task's header, its future
//! and, once it finishes, its output.
//!
//! A task is a `RawTask<F>`: a [`Header`] that every part of the runtime can
//! read without knowing `F`, followed by a union that holds first the future,
//! then its output (or a panic payload). Code that does not know `F` reaches
//! the typed parts through the header's [`Vtable`], one table per future type.
//!
//! # Who may touch what
//!
//! The header is split by thread:
//!
//! - `state` is atomic: the reference count and the `REMOTE_QUEUED` bit. It
//!   is the only field a waker on another thread ever touches.
//! - Everything else (`local`, the list links, the joiner, the stage) is plain
//!   memory used only on the runtime's own thread: by the loop, by
//!   `JoinHandle`/`AbortHandle` (which are `!Send`), and by wakers that have
//!   checked they run on the loop's thread inside that runtime.
//!
//! # References
//!
//! The allocation is freed when the count drops to zero. References are held
//! by: the runtime, from spawn until the future is gone *and* the task is not
//! in the run queue (so a run-queue entry needs no count of its own, and a
//! local wake costs no atomic); a `JoinHandle` or `AbortHandle`; each `Waker`;
//! and the remote queue while the task sits in it. Since the runtime keeps a
//! reference while the future lives, and `JoinHandle` (on the loop's thread)
//! drops the output, the last reference dropped on another thread finds
//! nothing but memory to free.

use std::any::Any;
use std::cell::{Cell, UnsafeCell};
use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::Arc;
#[cfg(not(all(test, eddy_loom)))]
use std::sync::atomic::{AtomicUsize, Ordering, fence};

#[cfg(all(test, eddy_loom))]
use loom::sync::atomic::{AtomicUsize, Ordering, fence};
use std::task::{Context, Poll};

use super::harness::as_task;
use super::joiner::Joiner;
use super::{JoinError, TaskId};
use crate::runtime::Shared;

/// `state`: set while the task sits in the remote queue (that entry holds a reference).
pub(crate) const REMOTE_QUEUED: usize = 1;
/// `state`: one reference.
pub(crate) const REF_ONE: usize = 2;
const REF_MASK: usize = !REMOTE_QUEUED;

// `local`: flags in the low byte.
/// In the run queue.
pub(crate) const SCHEDULED: u64 = 1 << 0;
/// Being polled right now.
pub(crate) const RUNNING: u64 = 1 << 1;
/// The future is gone: finished, panicked or cancelled.
pub(crate) const COMPLETE: u64 = 1 << 2;
/// `abort` was called while the task was running.
pub(crate) const ABORT: u64 = 1 << 3;
/// A `JoinHandle` still wants the output.
pub(crate) const JOIN_INTEREST: u64 = 1 << 4;

// `local`, bits 8..11: what the stage union holds.
const STAGE_MASK: u64 = 7 << 8;
const STAGE_FUTURE: u64 = 0;
const STAGE_OUTPUT: u64 = 1 << 8;
const STAGE_PANIC: u64 = 2 << 8;
const STAGE_CANCELLED: u64 = 3 << 8;
const STAGE_EMPTY: u64 = 4 << 8;

// `local`, bits 16..64: how many times the task was polled.
const POLL_SHIFT: u32 = 16;
pub(crate) const POLL_ONE: u64 = 1 << POLL_SHIFT;

/// The part of a task that does not depend on its future's type.
pub(crate) struct Header {
    /// Reference count (in units of `REF_ONE`) and `REMOTE_QUEUED`.
    state: AtomicUsize,
    /// Loop-thread flags, the stage tag and the poll count.
    pub(crate) local: Cell<u64>,
    vtable: &'static Vtable,
    /// The runtime's shared block; the task holds one strong count on it, so
    /// a waker can always reach the remote queue, even after the runtime is gone.
    shared: NonNull<Shared>,
    /// Links in the runtime's list of live tasks.
    pub(crate) prev: Cell<Option<TaskRef>>,
    pub(crate) next: Cell<Option<TaskRef>>,
    /// Woken when the task completes (the `JoinHandle`'s waker).
    pub(crate) joiner: Joiner,
    pub(crate) id: TaskId,
    /// Under loom, stands for the whole allocation: each use of the task
    /// reads it and the free writes it, so loom reports a free that is not
    /// ordered after every use (a use after free).
    #[cfg(all(test, eddy_loom))]
    pub(crate) memory: loom::cell::UnsafeCell<()>,
}

/// Functions that know the future's type.
struct Vtable {
    /// Polls the future; on `Ready` drops it and stores the output.
    poll: unsafe fn(TaskRef, &mut Context<'_>) -> bool,
    /// Drops the future (the stage must hold it); the stage is then empty.
    drop_future: unsafe fn(TaskRef),
    /// Stores a panic payload in an empty stage.
    store_panic: unsafe fn(TaskRef, Box<dyn Any + Send>),
    /// Moves the result out into `*mut Option<Result<T, JoinError>>`.
    take_output: unsafe fn(TaskRef, *mut ()),
    /// Drops an output or panic payload, if any.
    drop_output: unsafe fn(TaskRef),
    /// Frees the allocation.
    dealloc: unsafe fn(TaskRef),
}

#[repr(C)]
struct RawTask<F: Future> {
    header: Header,
    stage: UnsafeCell<Stage<F>>,
}

/// What the task holds; which field is live is told by the stage tag in `local`.
union Stage<F: Future> {
    future: ManuallyDrop<F>,
    output: ManuallyDrop<F::Output>,
    // Boxed twice so the union stays one word wide for small outputs; a
    // panic is rare enough to pay an allocation.
    panic: ManuallyDrop<Box<Box<dyn Any + Send>>>,
}

/// A pointer to a task's header. Copying it does not count a reference.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct TaskRef(NonNull<Header>);

// SAFETY: a `TaskRef` crosses threads only inside the remote queue, and the
// only thing the other side does with it is atomic reference counting and
// pushing it to the queue; the loop-only fields are read on the loop's thread.
unsafe impl Send for TaskRef {}

impl TaskRef {
    /// Allocates a task holding `future`, with two references: the runtime's
    /// and the caller's (for the `JoinHandle`).
    pub(crate) fn allocate<F: Future + 'static>(
        future: F,
        shared: &Arc<Shared>,
        id: TaskId,
    ) -> TaskRef {
        let shared = NonNull::new(Arc::into_raw(Arc::clone(shared)).cast_mut())
            .expect("an Arc is never null");
        let task = Box::new(RawTask::<F> {
            header: Header {
                state: AtomicUsize::new(2 * REF_ONE),
                local: Cell::new(STAGE_FUTURE | JOIN_INTEREST),
                vtable: &RawTask::<F>::VTABLE,
                shared,
                prev: Cell::new(None),
                next: Cell::new(None),
                joiner: Joiner::new(),
                id,
                #[cfg(all(test, eddy_loom))]
                memory: loom::cell::UnsafeCell::new(()),
            },
            stage: UnsafeCell::new(Stage {
                future: ManuallyDrop::new(future),
            }),
        });
        // `RawTask` is `repr(C)` with the header first, so the pointers agree.
        TaskRef(NonNull::from(Box::leak(task)).cast())
    }

    pub(crate) fn header(&self) -> &Header {
        // SAFETY: a `TaskRef` is only used while some reference keeps the
        // allocation alive (the caller's, the runtime's or a queue's).
        unsafe { self.0.as_ref() }
    }

    pub(crate) fn as_ptr(self) -> *const () {
        self.0.as_ptr().cast()
    }

    /// # Safety
    /// `ptr` must come from [`TaskRef::as_ptr`] of a live task.
    pub(crate) unsafe fn from_ptr(ptr: *const ()) -> TaskRef {
        // SAFETY: the caller passes a pointer from `as_ptr`, which is non-null.
        TaskRef(unsafe { NonNull::new_unchecked(ptr as *mut Header) })
    }

    pub(crate) fn shared(&self) -> &Shared {
        // SAFETY: the task holds a strong count on the shared block until
        // `dealloc`, and `self` is only used while the task is alive.
        unsafe { self.header().shared.as_ref() }
    }

    pub(crate) fn shared_ptr(&self) -> *const Shared {
        self.header().shared.as_ptr()
    }

    pub(crate) fn id(&self) -> TaskId {
        self.header().id
    }

    pub(crate) fn local(&self) -> u64 {
        self.header().local.get()
    }

    pub(crate) fn set_local(&self, v: u64) {
        self.header().local.set(v)
    }

    /// How many times the task was polled.
    pub(crate) fn polls(&self) -> u64 {
        self.local() >> POLL_SHIFT
    }

    /// True while the task sits in the remote queue (woken from elsewhere,
    /// not yet moved to the run queue).
    pub(crate) fn is_remote_queued(&self) -> bool {
        self.header().state.load(Ordering::Relaxed) & REMOTE_QUEUED != 0
    }

    /// True while the stage still holds the future.
    pub(crate) fn has_future(&self) -> bool {
        self.local() & STAGE_MASK == STAGE_FUTURE
    }

    /// True once the task completed and its result was taken (by the
    /// `JoinHandle`): the stage is empty only then, after completion.
    pub(crate) fn output_taken(&self) -> bool {
        let local = self.local();
        local & COMPLETE != 0 && local & STAGE_MASK == STAGE_EMPTY
    }

    fn set_stage(&self, stage: u64) {
        self.set_local(self.local() & !STAGE_MASK | stage);
    }

    /// Under loom: records a use of the task's memory (see `Header::memory`).
    #[inline(always)]
    fn touch(&self) {
        #[cfg(all(test, eddy_loom))]
        self.header().memory.with(|_| ());
    }

    /// The reference count (for the loom model's checks).
    #[cfg(all(test, eddy_loom))]
    pub(crate) fn ref_count(&self) -> usize {
        (self.header().state.load(Ordering::Acquire) & REF_MASK) / REF_ONE
    }

    /// Counts one more reference.
    pub(crate) fn ref_inc(&self) {
        self.touch();
        let prev = self.header().state.fetch_add(REF_ONE, Ordering::Relaxed);
        if prev > isize::MAX as usize {
            // Billions of leaked wakers: stop before the count wraps.
            std::process::abort();
        }
    }

    /// Drops one reference; frees the task when it was the last.
    ///
    /// # Safety
    /// The caller owns the reference it drops and does not use `self` after.
    pub(crate) unsafe fn ref_dec(self) {
        self.touch();
        let prev = self.header().state.fetch_sub(REF_ONE, Ordering::Release);
        if prev & REF_MASK == REF_ONE {
            // Pairs with the `Release` above in the other droppers: their
            // uses of the task happen before the free.
            fence(Ordering::Acquire);
            // SAFETY: that was the last reference; no one else can reach the task.
            unsafe { (self.header().vtable.dealloc)(self) }
        }
    }

    /// Sets `REMOTE_QUEUED` and counts a reference for the queue entry, in one
    /// atomic step. False if the task was already queued.
    ///
    /// Even then it writes the state (the same value back), so the wake is a
    /// release on the state word: the loop's `release_remote_slot` comes
    /// later in that word's order and acquires it, so the poll that follows
    /// sees what the waker wrote before waking. A plain load would let both
    /// sides miss each other (the waker sees "queued", the loop, already
    /// past that entry, does not see the new data): a lost wake-up that the
    /// loom model finds.
    pub(crate) fn claim_remote_slot(&self) -> bool {
        self.touch();
        let state = &self.header().state;
        let mut cur = state.load(Ordering::Relaxed);
        loop {
            let queued = cur & REMOTE_QUEUED != 0;
            let next = if queued {
                cur
            } else {
                (cur | REMOTE_QUEUED) + REF_ONE
            };
            match state.compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return !queued,
                Err(actual) => cur = actual,
            }
        }
    }

    /// Clears `REMOTE_QUEUED` and drops the queue entry's reference, in one step.
    ///
    /// # Safety
    /// The caller has just popped this task from the remote queue.
    pub(crate) unsafe fn release_remote_slot(self) {
        self.touch();
        let prev = self
            .header()
            .state
            .fetch_sub(REMOTE_QUEUED + REF_ONE, Ordering::AcqRel);
        debug_assert!(prev & REMOTE_QUEUED != 0);
        if prev & REF_MASK == REF_ONE {
            // SAFETY: that was the last reference (`AcqRel` ordered the other uses before us).
            unsafe { (self.header().vtable.dealloc)(self) }
        }
    }

    /// Polls the future once and returns true if it finished (its output is
    /// then stored). The caller catches panics.
    ///
    /// # Safety
    /// On the loop's thread, with the stage holding the future, not re-entrantly.
    #[inline]
    pub(crate) unsafe fn poll(self, cx: &mut Context<'_>) -> bool {
        // SAFETY: forwarded from the caller.
        unsafe { (self.header().vtable.poll)(self, cx) }
    }

    /// Drops the future; the stage is empty afterwards (and stays empty if
    /// the destructor panics: the caller catches it).
    ///
    /// # Safety
    /// On the loop's thread, with the stage holding the future, not being polled.
    pub(crate) unsafe fn drop_future(self) {
        // SAFETY: forwarded from the caller.
        unsafe { (self.header().vtable.drop_future)(self) }
    }

    /// Marks the future gone without dropping it (a deliberate leak).
    ///
    /// # Safety
    /// On the loop's thread, with the stage holding the future, not being polled.
    pub(crate) unsafe fn forget_future(self) {
        debug_assert!(self.has_future());
        // The union never drops its fields itself, so marking the stage
        // empty is all it takes to forget the future.
        self.set_stage(STAGE_EMPTY);
    }

    /// Records how the future ended when it did not return an output.
    ///
    /// # Safety
    /// On the loop's thread, with an empty stage.
    pub(crate) unsafe fn store_end(self, panic: Option<Box<dyn Any + Send>>) {
        debug_assert_eq!(self.local() & STAGE_MASK, STAGE_EMPTY);
        match panic {
            // SAFETY: forwarded from the caller.
            Some(payload) => unsafe { (self.header().vtable.store_panic)(self, payload) },
            None => self.set_stage(STAGE_CANCELLED),
        }
    }

    /// Drops the output or panic payload the task holds, if any.
    ///
    /// # Safety
    /// On the loop's thread, after the task completed.
    pub(crate) unsafe fn drop_output(self) {
        // SAFETY: forwarded from the caller.
        unsafe { (self.header().vtable.drop_output)(self) }
    }

    /// Moves the result out. Panics if it was taken before.
    ///
    /// # Safety
    /// On the loop's thread, after the task completed; `T` is the future's output type.
    pub(crate) unsafe fn take_output<T>(self) -> Result<T, JoinError> {
        let mut out: Option<Result<T, JoinError>> = None;
        // SAFETY: the caller promises `T` is the output type, which is what
        // `take_output` writes through the pointer.
        unsafe {
            (self.header().vtable.take_output)(
                self,
                (&mut out as *mut Option<Result<T, JoinError>>).cast(),
            )
        };
        out.expect("eddy: JoinHandle polled after it returned its result")
    }
}

impl<F: Future + 'static> RawTask<F> {
    const VTABLE: Vtable = Vtable {
        poll: Self::poll,
        drop_future: Self::drop_future,
        store_panic: Self::store_panic,
        take_output: Self::take_output,
        drop_output: Self::drop_output,
        dealloc: Self::dealloc,
    };

    /// # Safety
    /// `task` was allocated as a `RawTask<F>`.
    unsafe fn stage(task: TaskRef) -> *mut Stage<F> {
        // SAFETY: by the caller, the header is the first field of a `RawTask<F>`.
        unsafe { (*task.0.cast::<RawTask<F>>().as_ptr()).stage.get() }
    }

    unsafe fn poll(task: TaskRef, cx: &mut Context<'_>) -> bool {
        // SAFETY: the stage holds the future (caller's contract), which never
        // moves: it lives in the heap allocation until dropped in place.
        let future = unsafe { Pin::new_unchecked(&mut *(*Self::stage(task)).future) };
        match future.poll(cx) {
            Poll::Pending => false,
            Poll::Ready(output) => {
                // Mark the stage empty first: if the destructor panics, nobody
                // drops the future twice.
                task.set_stage(STAGE_EMPTY);
                // SAFETY: the future is live and is not used again.
                unsafe { ManuallyDrop::drop(&mut (*Self::stage(task)).future) };
                // SAFETY: the stage is empty; writing a union field drops nothing.
                unsafe { (*Self::stage(task)).output = ManuallyDrop::new(output) };
                task.set_stage(STAGE_OUTPUT);
                true
            }
        }
    }

    unsafe fn drop_future(task: TaskRef) {
        debug_assert!(task.has_future());
        task.set_stage(STAGE_EMPTY);
        // SAFETY: the stage held the future (caller's contract) and is now marked empty.
        unsafe { ManuallyDrop::drop(&mut (*Self::stage(task)).future) };
    }

    unsafe fn store_panic(task: TaskRef, payload: Box<dyn Any + Send>) {
        // SAFETY: the stage is empty (caller's contract); writing drops nothing.
        unsafe { (*Self::stage(task)).panic = ManuallyDrop::new(Box::new(payload)) };
        task.set_stage(STAGE_PANIC);
    }

    unsafe fn take_output(task: TaskRef, out: *mut ()) {
        let out = out.cast::<Option<Result<F::Output, JoinError>>>();
        // SAFETY: this vtable belongs to a `RawTask<F>`.
        let stage = unsafe { Self::stage(task) };
        let result = match task.local() & STAGE_MASK {
            // SAFETY: the tag says the output is live; it is marked empty below.
            STAGE_OUTPUT => Ok(unsafe { ManuallyDrop::take(&mut (*stage).output) }),
            // SAFETY: as above, for the panic payload.
            STAGE_PANIC => Err(JoinError::panic(task.id(), *unsafe {
                ManuallyDrop::take(&mut (*stage).panic)
            })),
            STAGE_CANCELLED => Err(JoinError::cancelled(task.id())),
            _ => return,
        };
        task.set_stage(STAGE_EMPTY);
        // SAFETY: `out` points to an `Option<Result<F::Output, JoinError>>` (caller's contract).
        unsafe { *out = Some(result) };
    }

    unsafe fn drop_output(task: TaskRef) {
        // SAFETY: this vtable belongs to a `RawTask<F>`.
        let stage = unsafe { Self::stage(task) };
        let tag = task.local() & STAGE_MASK;
        if tag == STAGE_OUTPUT || tag == STAGE_PANIC {
            task.set_stage(STAGE_EMPTY);
        }
        // The destructor runs with `task::id` saying this task's id (as
        // tokio's); an output with none (`()`, numbers) skips even that.
        match tag {
            STAGE_OUTPUT if std::mem::needs_drop::<F::Output>() => as_task(task, || {
                // SAFETY: the tag said the output was live; it is marked empty already.
                unsafe { ManuallyDrop::drop(&mut (*stage).output) }
            }),
            STAGE_PANIC => as_task(task, || {
                // SAFETY: as above, for the panic payload.
                unsafe { ManuallyDrop::drop(&mut (*stage).panic) }
            }),
            _ => {}
        }
    }

    unsafe fn dealloc(task: TaskRef) {
        // By the reference rules the stage is empty or cancelled here (the
        // future went with the runtime's reference, the output with the
        // `JoinHandle`), so freeing drops no user value, on whatever thread.
        debug_assert!(matches!(
            task.local() & STAGE_MASK,
            STAGE_EMPTY | STAGE_CANCELLED
        ));
        let shared = task.header().shared;
        #[cfg(all(test, eddy_loom))]
        task.header().memory.with_mut(|_| ());
        // SAFETY: the allocation came from `Box<RawTask<F>>` in `allocate`,
        // and this was the last reference. `Stage` is a union: freeing it
        // drops no field.
        drop(unsafe { Box::from_raw(task.0.cast::<RawTask<F>>().as_ptr()) });
        // SAFETY: the task held one strong count, taken in `allocate`.
        drop(unsafe { Arc::from_raw(shared.as_ptr()) });
    }
}

#[cfg(all(test, not(eddy_loom)))]
mod tests {
    use super::*;

    /// The memory budget: a task pending on a small future fits in 72
    /// bytes, an 80-byte malloc chunk.
    #[test]
    fn task_layout() {
        assert_eq!(std::mem::size_of::<Header>(), 64);
        assert_eq!(std::mem::size_of::<RawTask<std::future::Pending<()>>>(), 72);
        assert_eq!(
            std::mem::size_of::<RawTask<std::future::Pending<u64>>>(),
            72
        );
    }
}
