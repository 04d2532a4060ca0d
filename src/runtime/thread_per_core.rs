//! `ThreadPerCore`: one runtime per CPU, each on its own thread, sharing
//! nothing.
//!
//! eddy's runtime is single-threaded by design. A program that needs more
//! than one core runs several of them, one per thread, the way seastar,
//! glommio and monoio do: every core serves its own connections with its
//! own run queue, reactor and timers, so no task is ever stolen, no queue
//! is shared, and the hot path takes no lock and touches no cache line
//! another core writes. A server on every core binds one
//! [`TcpSocket`](crate::net::TcpSocket) per worker with `SO_REUSEPORT` on
//! the same address, and the kernel spreads the connections over them.
//!
//! [`ThreadPerCore::run`] starts the threads, builds a runtime on each,
//! hands every worker the [`Handle`]s of all the others (so a task can
//! pass work to another core with [`Handle::spawn`]: a push on that
//! runtime's lock-free remote queue, and an eventfd write if its loop
//! sleeps), runs the worker's future, and collects the outputs.
//!
//! What it costs: a thread, an epoll instance and an eventfd per worker;
//! nothing per task or per wake beyond what a lone runtime pays. What it
//! does not do: balance load. A worker whose connections are busy stays
//! busy while another idles; moving work is the program's choice, through
//! the handles.
//!
//! Pinning ([`ThreadPerCore::pin`]) uses `sched_setaffinity` on the CPUs
//! of the calling thread's affinity set (the process's, unless the thread
//! changed its own), so it respects `taskset` and cgroup cpusets.

use std::any::Any;
use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Poll, Waker};
use std::thread;

use super::{Builder, Handle, Runtime, context};
use crate::task::{JoinError, TaskId};

/// The function that makes each worker's [`Builder`].
type MakeBuilder = dyn Fn() -> Builder + Send + Sync;

/// Runs one eddy runtime per CPU, each on a thread of its own, and a
/// future on each.
///
/// ```
/// use eddy::runtime::ThreadPerCore;
///
/// let results = ThreadPerCore::new().threads(2).run(|worker| async move {
///     // Runs on the worker's own thread and runtime: `eddy::spawn` and
///     // the I/O types work as usual, and nothing here needs to be `Send`.
///     let local = std::rc::Rc::new(worker.index());
///     let task = eddy::spawn(async move { *local * 10 });
///     task.await.unwrap()
/// });
/// let outputs: Vec<usize> = results.into_iter().map(Result::unwrap).collect();
/// assert_eq!(outputs, [0, 10]);
/// ```
///
/// A server on every core: each worker binds its own listener on the same
/// port with `SO_REUSEPORT`, and the kernel spreads the connections (see
/// `examples/15_thread_per_core.rs` for the whole program):
///
/// ```no_run
/// use eddy::net::TcpSocket;
/// use eddy::runtime::ThreadPerCore;
///
/// ThreadPerCore::new().run(|_worker| async {
///     let socket = TcpSocket::new_v4()?;
///     socket.set_reuseport(true)?;
///     socket.bind("0.0.0.0:8080".parse().unwrap())?;
///     let listener = socket.listen(1024)?;
///     loop {
///         let (stream, _) = listener.accept().await?;
///         eddy::spawn(async move {
///             let mut buf = [0; 1024];
///             while let Ok(n @ 1..) = stream.read(&mut buf).await {
///                 if stream.write_all(&buf[..n]).await.is_err() {
///                     break;
///                 }
///             }
///         });
///     }
///     #[allow(unreachable_code)]
///     Ok::<(), std::io::Error>(())
/// });
/// ```
pub struct ThreadPerCore {
    threads: usize,
    pin: bool,
    builder: Option<Box<MakeBuilder>>,
}

impl ThreadPerCore {
    /// One worker per CPU this thread may run on (the count of its
    /// `sched_getaffinity` set: the process's CPUs as `taskset` or a cgroup
    /// cpuset allow them), not pinned, each runtime with the default
    /// settings.
    pub fn new() -> ThreadPerCore {
        let threads = allowed_cpus().map_or_else(
            |_| thread::available_parallelism().map_or(1, usize::from),
            |cpus| cpus.len(),
        );
        ThreadPerCore {
            threads,
            pin: false,
            builder: None,
        }
    }

    /// Runs `n` workers instead.
    ///
    /// # Panics
    ///
    /// If `n` is 0: a program with no worker would run nothing.
    pub fn threads(mut self, n: usize) -> ThreadPerCore {
        assert!(n > 0, "eddy: ThreadPerCore::threads must be at least 1");
        self.threads = n;
        self
    }

    /// Pins worker `i` to the `i`-th CPU of the affinity set of the thread
    /// that calls `run` (wrapping around if there are more workers than
    /// CPUs). Off by default: the scheduler then moves the threads as it
    /// likes. Pinning keeps each worker's caches warm and its timing
    /// steady, but a pinned worker cannot move away from a core that
    /// something else keeps busy. Threads a pinned worker starts (its
    /// `spawn_blocking` pool) inherit its CPU.
    pub fn pin(mut self, pin: bool) -> ThreadPerCore {
        self.pin = pin;
        self
    }

    /// How each worker's runtime is built: `make` is called once per
    /// worker, on that worker's thread.
    ///
    /// ```
    /// use eddy::runtime::ThreadPerCore;
    ///
    /// let results = ThreadPerCore::new()
    ///     .threads(2)
    ///     .builder(|| eddy::Runtime::builder().event_interval(31).max_blocking_threads(2))
    ///     .run(|worker| async move { worker.count() });
    /// assert!(results.iter().all(|r| *r.as_ref().unwrap() == 2));
    /// ```
    pub fn builder(mut self, make: impl Fn() -> Builder + Send + Sync + 'static) -> ThreadPerCore {
        self.builder = Some(Box::new(make));
        self
    }

    /// Runs the workers: starts a thread per worker, builds its runtime
    /// (pinned first, if asked), and once every runtime is built (so that
    /// [`Worker::handles`] is complete) calls `f` on each worker's thread,
    /// inside its runtime, and runs the future it returns to completion.
    /// Blocks until every worker's future has returned; returns their
    /// outputs in worker order.
    ///
    /// A panic in one worker's future (or in `f`) is that worker's `Err`,
    /// a [`JoinError`] that [`is_panic`](JoinError::is_panic), with the
    /// payload, whose [`id`](JoinError::id) is the worker's index; the
    /// other workers go on.
    ///
    /// Every runtime lives until `run` returns: a worker whose future is
    /// done keeps running the tasks it spawned and those other workers
    /// hand it through its `Handle`, until the last worker's future is
    /// done. Then each runtime is dropped on its thread, which cancels the
    /// tasks still alive.
    ///
    /// # Panics
    ///
    /// If a worker cannot start (the OS refuses a thread, an epoll
    /// instance, an eventfd, or the CPU to pin to): no worker's `f` is
    /// called then, and the runtimes already built are dropped. This is
    /// what [`eddy::block_on`](crate::block_on) does when its runtime
    /// cannot be built; [`try_run`](ThreadPerCore::try_run) returns the
    /// error instead. Also if called inside a runtime (it would block that
    /// runtime's thread), and with the panic of `builder`'s function, if it
    /// panics.
    #[track_caller]
    pub fn run<F, Fut, T>(&self, f: F) -> Vec<Result<T, JoinError>>
    where
        F: Fn(Worker) -> Fut + Send + Sync,
        Fut: Future<Output = T> + 'static,
        T: Send,
    {
        self.start(f)
            .unwrap_or_else(|e| panic!("eddy: ThreadPerCore::run: {}: {}", e.what, e.error))
    }

    /// [`run`](ThreadPerCore::run), with a worker that cannot start
    /// reported as an error rather than a panic.
    ///
    /// # Errors
    ///
    /// If a worker cannot start: the OS refused a thread (`EAGAIN`), an
    /// epoll instance or an eventfd (`EMFILE`), or the CPU to pin to
    /// (`EINVAL`). The OS error comes back unchanged (so
    /// `raw_os_error()` tells `EMFILE`); `run`'s panic message also names
    /// the worker and the step. No worker's `f` was called.
    ///
    /// # Panics
    ///
    /// If called inside a runtime, or if `builder`'s function panics.
    pub fn try_run<F, Fut, T>(&self, f: F) -> io::Result<Vec<Result<T, JoinError>>>
    where
        F: Fn(Worker) -> Fut + Send + Sync,
        Fut: Future<Output = T> + 'static,
        T: Send,
    {
        self.start(f).map_err(|e| e.error)
    }

    /// `run` and `try_run`.
    fn start<F, Fut, T>(&self, f: F) -> Result<Vec<Result<T, JoinError>>, StartError>
    where
        F: Fn(Worker) -> Fut + Send + Sync,
        Fut: Future<Output = T> + 'static,
        T: Send,
    {
        if !context::current().is_null() {
            panic!(
                "eddy: ThreadPerCore::run was called from inside a runtime; it blocks until \
                 every worker is done, which would stall this runtime's loop. Call it from \
                 `main` or a plain thread"
            );
        }
        let cpus = if self.pin {
            Some(allowed_cpus().map_err(|e| StartError::new("could not read the CPU set", e))?)
        } else {
            None
        };
        let count = self.threads;
        let done = AllDone::new(count);
        let (ready_tx, ready_rx) = channel();
        let (f, done, builder) = (&f, &done, self.builder.as_deref());
        thread::scope(|scope| {
            let mut workers = Vec::with_capacity(count);
            let mut failure = None;
            for index in 0..count {
                let (go_tx, go_rx) = channel();
                let start = Start {
                    index,
                    count,
                    cpu: cpus.as_ref().map(|cpus| cpus[index % cpus.len()]),
                    ready: ready_tx.clone(),
                    go: go_rx,
                };
                let spawned = thread::Builder::new()
                    .name(format!("eddy-worker-{index}"))
                    .spawn_scoped(scope, move || start.run(builder, f, done));
                match spawned {
                    Ok(thread) => workers.push((thread, go_tx)),
                    Err(e) => {
                        let what = format!("could not start the thread of worker {index}");
                        failure = Some(Failure::Io(StartError::new(what, e)));
                        break;
                    }
                }
            }
            drop(ready_tx);
            // Each started worker reports once, built or not.
            let mut handles = vec![None; workers.len()];
            for (index, built) in ready_rx.iter().take(workers.len()) {
                match built {
                    Built::Ok(handle) => handles[index] = Some(handle),
                    Built::Failed(e) => {
                        failure.get_or_insert(e);
                    }
                }
            }
            let handles: Option<Arc<[Handle]>> = match failure {
                None => handles.into_iter().collect(),
                Some(_) => None,
            };
            for (_, go) in &workers {
                // A worker that cannot be told has ended already.
                let _ = go.send(handles.clone());
            }
            let results = workers.into_iter().enumerate().map(|(index, (thread, _))| {
                match thread.join() {
                    Ok(result) => result,
                    // Only eddy's own code runs outside the worker's catch.
                    Err(payload) => Some(Err(JoinError::panic(TaskId(index as u64), payload))),
                }
            });
            let results: Vec<_> = results.collect();
            match failure {
                None => Ok(results.into_iter().map(Option::unwrap).collect()),
                Some(Failure::Io(e)) => Err(e),
                Some(Failure::Panic(payload)) => resume_unwind(payload),
            }
        })
    }
}

impl Default for ThreadPerCore {
    fn default() -> ThreadPerCore {
        ThreadPerCore::new()
    }
}

impl fmt::Debug for ThreadPerCore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadPerCore")
            .field("threads", &self.threads)
            .field("pin", &self.pin)
            .field("builder", &self.builder.as_ref().map(|_| "Fn() -> Builder"))
            .finish()
    }
}

/// What `run` tells a worker's future: which worker it is, and the handles
/// of every runtime.
///
/// ```
/// use eddy::runtime::ThreadPerCore;
///
/// // Worker 0 hands a job to worker 1, which runs it on its own thread.
/// let results = ThreadPerCore::new().threads(2).run(|worker| async move {
///     if worker.index() == 0 {
///         let job = worker.handles()[1].spawn(async { std::thread::current().name().map(String::from) });
///         job.await.unwrap()
///     } else {
///         None
///     }
/// });
/// assert_eq!(results[0].as_ref().unwrap().as_deref(), Some("eddy-worker-1"));
/// ```
#[derive(Clone)]
pub struct Worker {
    index: usize,
    count: usize,
    cpu: Option<usize>,
    handles: Arc<[Handle]>,
}

impl Worker {
    /// This worker's index, from 0 to `count() - 1`; its thread is named
    /// `eddy-worker-<index>`.
    pub fn index(&self) -> usize {
        self.index
    }

    /// How many workers `run` started.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The CPU this worker is pinned to, or `None` when not pinned.
    pub fn cpu(&self) -> Option<usize> {
        self.cpu
    }

    /// The handle of every worker's runtime, in worker order (this one's
    /// is `handles()[index()]`). [`Handle::spawn`] on one of them runs a
    /// `Send` future on that worker's thread: the way to hand work (an
    /// accepted connection, a request) to another core. The handles stay
    /// valid until `run` returns.
    pub fn handles(&self) -> &[Handle] {
        &self.handles
    }
}

impl fmt::Debug for Worker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker")
            .field("index", &self.index)
            .field("count", &self.count)
            .field("cpu", &self.cpu)
            .finish_non_exhaustive()
    }
}

/// Why the workers could not all start.
enum Failure {
    Io(StartError),
    Panic(Box<dyn Any + Send>),
}

/// What a worker reports once it tried to build its runtime.
enum Built {
    Ok(Handle),
    Failed(Failure),
}

/// What a worker thread starts with.
struct Start {
    index: usize,
    count: usize,
    cpu: Option<usize>,
    /// Where it reports its handle (or why it has none).
    ready: Sender<(usize, Built)>,
    /// Every worker's handles once all are built; `None`: give up.
    go: Receiver<Option<Arc<[Handle]>>>,
}

impl Start {
    /// The worker thread: build, report, wait for the go, run `f`'s
    /// future, then keep the runtime going until every worker is done.
    /// `None` if told to give up before `f` ran.
    fn run<F, Fut, T>(
        self,
        builder: Option<&MakeBuilder>,
        f: &F,
        done: &AllDone,
    ) -> Option<Result<T, JoinError>>
    where
        F: Fn(Worker) -> Fut,
        Fut: Future<Output = T>,
    {
        let Start {
            index,
            count,
            cpu,
            ready,
            go,
        } = self;
        let built = catch_unwind(AssertUnwindSafe(|| build(index, cpu, builder)));
        let rt = match built {
            Ok(Ok(rt)) => rt,
            Ok(Err(e)) => {
                let _ = ready.send((index, Built::Failed(Failure::Io(e))));
                return None;
            }
            Err(payload) => {
                let _ = ready.send((index, Built::Failed(Failure::Panic(payload))));
                return None;
            }
        };
        let _ = ready.send((index, Built::Ok(rt.handle())));
        drop(ready);
        // An error: `run` is gone, which it never is before joining us.
        let handles = go.recv().ok().flatten()?;
        let worker = Worker {
            index,
            count,
            cpu,
            handles,
        };
        let output = catch_unwind(AssertUnwindSafe(|| rt.block_on(async { f(worker).await })));
        done.arrive();
        rt.block_on(done.wait(index));
        // The runtime's drop catches its tasks' panics; only a foreign
        // waker woken there could still unwind.
        let dropped = catch_unwind(AssertUnwindSafe(move || drop(rt)));
        let id = TaskId(index as u64);
        Some(match (output, dropped) {
            (Ok(output), Ok(())) => Ok(output),
            (Err(payload), _) | (Ok(_), Err(payload)) => Err(JoinError::panic(id, payload)),
        })
    }
}

/// An OS error that kept a worker from starting, and at which step.
struct StartError {
    what: String,
    error: io::Error,
}

impl StartError {
    fn new(what: impl Into<String>, error: io::Error) -> StartError {
        StartError {
            what: what.into(),
            error,
        }
    }
}

/// Pins this thread (if asked) and builds its runtime.
fn build(
    index: usize,
    cpu: Option<usize>,
    builder: Option<&MakeBuilder>,
) -> Result<Runtime, StartError> {
    if let Some(cpu) = cpu {
        pin_to(cpu).map_err(|e| {
            StartError::new(format!("could not pin worker {index} to CPU {cpu}"), e)
        })?;
    }
    let builder = builder.map_or_else(Builder::new, |make| make());
    builder
        .build()
        .map_err(|e| StartError::new(format!("could not build the runtime of worker {index}"), e))
}

/// Counts the workers whose future is still running, and wakes every
/// worker's loop when none is.
struct AllDone {
    /// Workers still running; the waker of each one waiting.
    state: Mutex<(usize, Vec<Option<Waker>>)>,
}

impl AllDone {
    fn new(count: usize) -> AllDone {
        AllDone {
            state: Mutex::new((count, vec![None; count])),
        }
    }

    fn arrive(&self) {
        let wakers: Vec<Waker> = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.0 -= 1;
            if state.0 > 0 {
                return;
            }
            state.1.iter_mut().filter_map(Option::take).collect()
        };
        wakers.into_iter().for_each(Waker::wake);
    }

    fn wait(&self, index: usize) -> impl Future<Output = ()> + '_ {
        poll_fn(move |cx| {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            if state.0 == 0 {
                return Poll::Ready(());
            }
            state.1[index] = Some(cx.waker().clone());
            Poll::Pending
        })
    }
}

/// The CPUs this thread may run on, in increasing order.
fn allowed_cpus() -> io::Result<Vec<usize>> {
    // 1024 CPUs first (glibc's `cpu_set_t`); the kernel says EINVAL if its
    // mask is larger, and the buffer doubles.
    let mut words = 16;
    loop {
        let mut set = vec![0u64; words];
        // SAFETY: `set` is writable for `words * 8` bytes, the size passed;
        // `cpu_set_t` is an array of words like it, so the cast is only a
        // name for the same memory.
        let r = unsafe {
            libc::sched_getaffinity(0, words * 8, set.as_mut_ptr().cast::<libc::cpu_set_t>())
        };
        if r == 0 {
            let cpus = (0..words * 64)
                .filter(|&cpu| set[cpu / 64] & (1 << (cpu % 64)) != 0)
                .collect();
            return Ok(cpus);
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINVAL) || words >= 1 << 16 {
            return Err(e);
        }
        words *= 2;
    }
}

/// Pins this thread to `cpu`.
fn pin_to(cpu: usize) -> io::Result<()> {
    let mut set = vec![0u64; (cpu / 64 + 1).max(16)];
    set[cpu / 64] |= 1 << (cpu % 64);
    // SAFETY: `set` is readable for the size passed; see `allowed_cpus`.
    let r = unsafe {
        libc::sched_setaffinity(0, set.len() * 8, set.as_ptr().cast::<libc::cpu_set_t>())
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
