//! A running child: how its exit is noticed, and who reaps it when its
//! `Child` is dropped first.
//!
//! On Linux 5.3 and later the exit comes through a pidfd (`pidfd_open`),
//! a descriptor that turns readable when the process exits, registered
//! with the reactor through [`Async`]: no thread, no signal handler, one
//! `waitpid(pid, WNOHANG)` once it fired. Where `pidfd_open` does not
//! exist (`ENOSYS`, or `EPERM` in some sandboxes), each child holds a
//! `SIGCHLD` listener instead and tries `waitpid(pid, WNOHANG)` on its
//! own pid at each delivery. Either way eddy only ever waits for the pids
//! it started, never `waitpid(-1)`, so children that other code started
//! are left to it.
//!
//! A `Child` dropped while its process runs is adopted: a small task on
//! the current runtime waits for the exit and reaps it. Dropped outside a
//! runtime (or while its runtime is dropped), it joins a process-wide list
//! that the next `Command::spawn` goes through.

use std::future::poll_fn;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

use crate::io::Async;
use crate::signal::unix::{Signal, SignalKind, signal};

/// A child that has not been reaped, and what tells of its exit.
pub(crate) struct Running {
    pub(crate) child: std::process::Child,
    exit: Exit,
}

enum Exit {
    Pidfd(Async<OwnedFd>),
    Sigchld(Signal),
}

impl Running {
    /// Starts watching `child` for its exit, registering with the current
    /// runtime. On failure the child is killed and reaped later.
    pub(crate) fn watch(mut child: std::process::Child) -> io::Result<Running> {
        match exit_watch(&child) {
            Ok(exit) => Ok(Running { child, exit }),
            Err(e) => {
                let _ = child.kill();
                adopt_later(child);
                Err(e)
            }
        }
    }

    pub(crate) fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.child.try_wait()
    }

    /// Waits for the exit and reaps the child. Cancel-safe.
    pub(crate) async fn wait(&mut self) -> io::Result<ExitStatus> {
        let Running { child, exit } = self;
        match exit {
            // Readiness is cleared only when `try_wait` says "still
            // running", so an exit between the two is never missed.
            Exit::Pidfd(pidfd) => {
                pidfd
                    .read_with(|_| {
                        child
                            .try_wait()?
                            .ok_or_else(|| io::ErrorKind::WouldBlock.into())
                    })
                    .await
            }
            // The listener exists since the spawn: a SIGCHLD after the
            // `try_wait` is counted and wakes us.
            Exit::Sigchld(sigchld) => loop {
                if let Some(status) = child.try_wait()? {
                    return Ok(status);
                }
                poll_fn(|cx| sigchld.poll_deliveries(cx)).await?;
            },
        }
    }
}

fn exit_watch(child: &std::process::Child) -> io::Result<Exit> {
    if use_pidfd() {
        match pidfd_open(child.id()) {
            Ok(fd) => return Ok(Exit::Pidfd(Async::new(fd)?)),
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOSYS | libc::EPERM)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Exit::Sigchld(signal(SignalKind::child())?))
}

/// Whether to try pidfds: on Linux, unless `EDDY_NO_PIDFD=1` asks for the
/// `SIGCHLD` path (to test it on a kernel that has pidfds).
fn use_pidfd() -> bool {
    static USE: OnceLock<bool> = OnceLock::new();
    *USE.get_or_init(|| {
        cfg!(target_os = "linux") && std::env::var_os("EDDY_NO_PIDFD").is_none_or(|v| v != "1")
    })
}

#[cfg(target_os = "linux")]
fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open(2) takes a pid and flags and returns a new
    // descriptor (close-on-exec) or -1; it touches no memory of ours. The
    // pid is our unreaped child, so it cannot name another process.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a descriptor the kernel just opened for us; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

#[cfg(not(target_os = "linux"))]
fn pidfd_open(_pid: u32) -> io::Result<OwnedFd> {
    Err(io::Error::from_raw_os_error(libc::ENOSYS))
}

/// Takes over a dropped child that still runs: a task of the current
/// runtime reaps it when it exits; outside a runtime it waits in the
/// process-wide list.
pub(crate) fn adopt(running: Running) {
    let orphan = Orphan(Some(running));
    if crate::runtime::in_runtime() {
        drop(crate::spawn(async move {
            let mut orphan = orphan;
            if let Some(running) = &mut orphan.0 {
                if running.wait().await.is_ok() {
                    orphan.0 = None;
                }
            }
        }));
    }
    // Else `orphan` is dropped here, which files it in the list.
}

/// A child nobody waits for any more. Dropped unreaped (its task was
/// cancelled, or its runtime is gone), it goes to the process-wide list.
struct Orphan(Option<Running>);

impl Drop for Orphan {
    fn drop(&mut self) {
        if let Some(mut running) = self.0.take() {
            if let Ok(None) = running.try_wait() {
                adopt_later(running.child);
            }
        }
    }
}

static ORPHANS: Mutex<Vec<std::process::Child>> = Mutex::new(Vec::new());
static HAS_ORPHANS: AtomicBool = AtomicBool::new(false);

fn orphans() -> std::sync::MutexGuard<'static, Vec<std::process::Child>> {
    ORPHANS.lock().unwrap_or_else(|poison| poison.into_inner())
}

/// Files a running child in the process-wide list.
fn adopt_later(child: std::process::Child) {
    orphans().push(child);
    HAS_ORPHANS.store(true, Ordering::Release);
}

/// Reaps the children of the process-wide list that have exited (one
/// `waitpid(pid, WNOHANG)` each); a load of one flag when it is empty.
pub(crate) fn reap_orphans() {
    if !HAS_ORPHANS.load(Ordering::Acquire) {
        return;
    }
    let mut list = orphans();
    // An error (ECHILD: someone else reaped it) also drops the entry.
    list.retain_mut(|child| matches!(child.try_wait(), Ok(None)));
    HAS_ORPHANS.store(!list.is_empty(), Ordering::Release);
}
