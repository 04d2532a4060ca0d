//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, ThreadId};
use std::time::Duration;

/// The limit every test body runs under.
pub const LIMIT: Duration = Duration::from_secs(10);

/// Runs `f` on a fresh thread and waits at most `limit` for it. A hang
/// fails the test (with a message saying so) instead of blocking the whole
/// run; a panic in `f` is resumed here, so assertions fail as usual.
pub fn watchdog<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let name = thread::current()
        .name()
        .map_or_else(|| "watchdog".to_string(), str::to_string);
    thread::Builder::new()
        .name(name)
        .spawn(move || {
            let result = panic::catch_unwind(AssertUnwindSafe(f));
            let _ = tx.send(result);
        })
        .expect("could not start the test thread");
    match rx.recv_timeout(limit) {
        Ok(Ok(value)) => value,
        Ok(Err(payload)) => panic::resume_unwind(payload),
        Err(RecvTimeoutError::Timeout) => {
            panic!("watchdog: the test hung for longer than {limit:?} (deadlock or lost wake-up?)")
        }
        Err(RecvTimeoutError::Disconnected) => {
            panic!("watchdog: the test thread ended without reporting a result")
        }
    }
}

/// The text of a panic payload (`&str` or `String`), or a placeholder.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_string()
    }
}

/// Runs `f`, catching a panic; `Err` holds the panic message.
pub fn catch<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|p| panic_message(&*p))
}

/// Compile-time check that `T: Send + Sync`.
pub fn assert_send_sync<T: Send + Sync>() {}

/// Compile-time check that `T: Send`.
pub fn assert_send<T: Send>() {}

/// Compile-time check that `f` is a future of `T` (`fut::<T, _>(f)`); it
/// is dropped unpolled.
pub fn fut<T, F: Future<Output = T>>(_: F) {}

/// Sets its flag when dropped (single-thread).
pub struct SetOnDrop(pub Rc<Cell<bool>>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

/// Counts its drops in a shared counter (single-thread).
pub struct CountOnDrop(pub Rc<Cell<usize>>);

impl Drop for CountOnDrop {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

/// Sets its flag when dropped (any thread).
pub struct FlagOnDrop(pub Arc<AtomicBool>);

impl Drop for FlagOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Counts its drops (any thread).
pub struct AtomicCountOnDrop(pub Arc<AtomicUsize>);

impl Drop for AtomicCountOnDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Records the thread it is dropped on.
pub struct RecordDropThread(pub Arc<Mutex<Option<ThreadId>>>);

impl Drop for RecordDropThread {
    fn drop(&mut self) {
        *self.0.lock().unwrap() = Some(thread::current().id());
    }
}

/// Panics when dropped (unless the thread is already panicking).
pub struct PanicOnDrop(pub &'static str);

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        if !thread::panicking() {
            panic!("{}", self.0);
        }
    }
}

/// A future that is `Pending` once, handing its waker out on `tx`, and
/// `Ready` the next time it is polled.
pub fn wait_for_outside_wake(
    tx: mpsc::Sender<std::task::Waker>,
) -> impl std::future::Future<Output = ()> {
    let mut sent = false;
    std::future::poll_fn(move |cx| {
        if sent {
            std::task::Poll::Ready(())
        } else {
            sent = true;
            tx.send(cx.waker().clone()).unwrap();
            std::task::Poll::Pending
        }
    })
}

/// True when `.ci/valgrind` runs the tests (it sets `EDDY_VALGRIND=1`):
/// stress loops then take fewer rounds, since valgrind runs one thread at a
/// time at a fraction of the speed.
pub fn under_valgrind() -> bool {
    std::env::var_os("EDDY_VALGRIND").is_some_and(|v| v == "1")
}

// Sync tests: a `Send` probe, wakers that count or run code, small helpers.

/// `is_send!(T)` is true iff `T: Send`: a by-value method of `SendProbe<T>`
/// exists only when `T: Send`, and method lookup tries it before the
/// by-reference fallback that every type has.
pub struct SendProbe<T: ?Sized>(pub std::marker::PhantomData<T>);
pub trait NotSendFallback {
    fn is_send(&self) -> bool {
        false
    }
}
impl<T: ?Sized> NotSendFallback for &SendProbe<T> {}
pub trait SendImpl {
    fn is_send(&self) -> bool {
        true
    }
}
impl<T: ?Sized + Send> SendImpl for SendProbe<T> {}
#[macro_export]
macro_rules! is_send {
    ($t:ty) => {
        (&$crate::common::SendProbe::<$t>(std::marker::PhantomData)).is_send()
    };
}

/// A waker that counts its wakes.
pub struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl CountingWaker {
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

pub fn counting_waker() -> (Arc<CountingWaker>, Waker) {
    let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let waker = Waker::from(counter.clone());
    (counter, waker)
}

/// Polls `fut` once with `waker`.
pub fn poll_with<F: Future + Unpin>(fut: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut Context::from_waker(waker))
}

pub type Hook = Rc<dyn Fn()>;
/// What runs on wake, and on drop.
pub type Hooks = (Option<Hook>, Option<Hook>);

thread_local! {
    /// Per hook waker: what runs on `wake` and on the drop of its last clone.
    static HOOKS: RefCell<HashMap<usize, Hooks>> =
        RefCell::new(HashMap::new());
    static NEXT_HOOK: Cell<usize> = const { Cell::new(0) };
}

/// A waker whose wake and whose drop run user code (a closure kept in a
/// thread-local, so it may hold `Rc`s to the primitive under test). The
/// primitives store, wake and drop wakers: this is user code they run.
pub struct HookWaker(usize);

fn run_hook(id: usize, on_drop: bool) {
    let hook = HOOKS
        .try_with(|h| {
            h.borrow()
                .get(&id)
                .and_then(|(w, d)| if on_drop { d.clone() } else { w.clone() })
        })
        .ok()
        .flatten();
    if let Some(hook) = hook {
        hook();
    }
}

impl Wake for HookWaker {
    fn wake(self: Arc<Self>) {
        run_hook(self.0, false);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        run_hook(self.0, false);
    }
}

impl Drop for HookWaker {
    fn drop(&mut self) {
        run_hook(self.0, true);
    }
}

/// A waker running `on_wake` when woken and `on_drop` when its last clone
/// is dropped.
pub fn hook_waker(on_wake: impl Fn() + 'static, on_drop: impl Fn() + 'static) -> Waker {
    let id = NEXT_HOOK.with(|n| {
        let id = n.get();
        n.set(id + 1);
        id
    });
    HOOKS.with(|h| {
        h.borrow_mut().insert(
            id,
            (
                Some(Rc::new(on_wake) as Hook),
                Some(Rc::new(on_drop) as Hook),
            ),
        )
    });
    Waker::from(Arc::new(HookWaker(id)))
}

pub fn assert_error<E: std::error::Error>(e: &E) {
    assert!(!e.to_string().is_empty());
    assert!(!format!("{e:?}").is_empty());
}

/// Yields `n` times.
pub async fn yields(n: usize) {
    for _ in 0..n {
        eddy::task::yield_now().await;
    }
}

// Sockets: resets and refused connections.

/// What a read or write on a reset connection may say.
pub fn is_reset_like(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::BrokenPipe
            | std::io::ErrorKind::ConnectionAborted
    )
}

/// Makes the next `close` of a TCP socket send a reset (RST) instead of FIN.
pub fn set_linger_zero(fd: std::os::fd::RawFd) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt reads `std::mem::size_of::<linger>()` bytes from a live local.
    let r = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&raw const linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(
        r,
        0,
        "setsockopt(SO_LINGER): {}",
        std::io::Error::last_os_error()
    );
}

/// A port of 127.0.0.1 that refuses connections. A socket stays bound to it
/// without listening, so no other test can take the port meanwhile (which
/// "bind, read the port, close" could not promise).
pub struct ClosedPort {
    _holder: std::os::fd::OwnedFd,
    pub addr: std::net::SocketAddr,
}

pub fn closed_port() -> ClosedPort {
    // SAFETY: plain socket calls on a descriptor this function owns; the
    // address structures are initialised and their true sizes passed.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let holder = <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd);
        let mut sin: libc::sockaddr_in = std::mem::zeroed();
        sin.sin_family = libc::AF_INET as libc::sa_family_t;
        sin.sin_addr.s_addr = u32::from(std::net::Ipv4Addr::LOCALHOST).to_be();
        let mut len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        let r = libc::bind(fd, (&raw const sin).cast(), len);
        assert_eq!(r, 0, "bind: {}", std::io::Error::last_os_error());
        let r = libc::getsockname(fd, (&raw mut sin).cast(), &mut len);
        assert_eq!(r, 0, "getsockname: {}", std::io::Error::last_os_error());
        let addr =
            std::net::SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, u16::from_be(sin.sin_port)));
        ClosedPort {
            _holder: holder,
            addr,
        }
    }
}

// Data and files.

/// `len` pseudo-random bytes (xorshift64*), a different sequence per seed.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Asserts two byte strings are equal, naming the first difference rather
/// than printing megabytes.
#[track_caller]
pub fn assert_same(got: &[u8], want: &[u8], what: &str) {
    if got != want {
        let at = got
            .iter()
            .zip(want)
            .position(|(a, b)| a != b)
            .unwrap_or(got.len().min(want.len()));
        panic!(
            "{what}: got {} bytes, expected {}; first difference at byte {at}",
            got.len(),
            want.len()
        );
    }
}

/// A path in the temporary directory, unique to this process and call (a
/// socket or a scratch file); the file is removed when this is dropped.
pub struct TempPath(pub std::path::PathBuf);

impl TempPath {
    pub fn new(tag: &str) -> TempPath {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("eddy-test-{}-{n}-{tag}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        TempPath(path)
    }
}

impl AsRef<std::path::Path> for TempPath {
    fn as_ref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The process's `RLIMIT_NOFILE`.
pub fn get_nofile() -> libc::rlimit {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we pass.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    lim
}

/// Sets the process's `RLIMIT_NOFILE`.
pub fn set_nofile(lim: libc::rlimit) {
    // SAFETY: setrlimit reads the struct we pass.
    let r = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
    assert_eq!(r, 0, "setrlimit: {}", std::io::Error::last_os_error());
}

// Child processes: a test that changes process-wide state (rlimits, signal
// dispositions) or reads its own stderr runs in a fresh copy of the binary.

/// Runs the test `name` of this test binary in a child process (the binary
/// re-executed with `--exact`), with `envs` set and `remove` unset.
pub fn run_test_in_child(
    name: &str,
    envs: &[(&str, &str)],
    remove: &[&str],
) -> std::process::Output {
    let exe = std::env::current_exe().expect("current_exe");
    let mut cmd = std::process::Command::new(exe);
    cmd.args(["--exact", name, "--nocapture", "--test-threads=1"])
        .envs(envs.iter().copied());
    for var in remove {
        cmd.env_remove(var);
    }
    cmd.output()
        .expect("could not run the test binary as a child process")
}

/// Runs `body` (under a watchdog of `limit`) in a fresh process that runs
/// only the test `name`: the test binary re-executed with `--exact`, told by
/// the variable `child_env` that it is the child. The parent checks that the
/// child ran the test and passed (a death by signal fails, with the signal
/// named; the child's output is shown) and returns the child's stdout; in
/// the child this returns `None` once `body` has run.
pub fn in_child_process(
    child_env: &'static str,
    name: &str,
    limit: Duration,
    body: impl FnOnce() + Send + 'static,
) -> Option<String> {
    if std::env::var(child_env).is_ok_and(|v| v == name) {
        watchdog(limit, body);
        return None;
    }
    let name = name.to_string();
    let stdout = watchdog(limit + Duration::from_secs(10), move || {
        let out = run_test_in_child(&name, &[(child_env, &name)], &[]);
        child_passed(&out, &format!("`{name}`")).0
    });
    Some(stdout)
}

/// The child's stdout and stderr, after checking that it ran one test and
/// passed (a death by signal fails here, with the signal named); `what`
/// names the child in the failure message, which shows its output.
#[track_caller]
pub fn child_passed(out: &std::process::Output, what: &str) -> (String, String) {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "the child process running {what} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
    (stdout, stderr)
}

/// The lowest descriptor number not in use.
pub fn lowest_free_fd() -> std::os::fd::RawFd {
    use std::os::fd::AsRawFd;
    // A new descriptor always takes the lowest free number.
    std::fs::File::open("/dev/null")
        .expect("/dev/null")
        .as_raw_fd()
}

/// The open descriptors of this process: (number, what it points to).
pub fn open_fds() -> Vec<(std::os::fd::RawFd, String)> {
    let mut fds: Vec<_> = std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let fd = entry.file_name().to_str()?.parse().ok()?;
            let target = std::fs::read_link(entry.path())
                .map_or_else(|_| "?".into(), |p| p.display().to_string());
            Some((fd, target))
        })
        .collect();
    fds.sort();
    fds
}
