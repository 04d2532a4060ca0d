//! A Linux timerfd in the poller, so that the poller's own fd becomes
//! readable when the next timer is due.
//!
//! The loop never needs it for itself: when eddy drives its own loop it
//! gives `epoll_wait` a timeout. A host loop that waits on eddy's fd
//! (`AsRawFd for Runtime`) cannot see that timeout, so in that mode the
//! runtime arms this fd for its earliest deadline after each turn. It is
//! re-armed only when that deadline changed, never per timer insert: one
//! `timerfd_settime` per change of the earliest deadline.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

pub(crate) struct TimerFd {
    fd: OwnedFd,
}

impl TimerFd {
    pub(crate) fn new() -> io::Result<TimerFd> {
        // SAFETY: plain syscall with constant flags; the result is checked.
        let fd = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just created and is owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(TimerFd { fd })
    }

    pub(crate) fn raw(&self) -> i32 {
        self.fd.as_raw_fd()
    }

    /// Makes the fd readable at `deadline` (at once if it has passed), or
    /// disarms it (`None`).
    pub(crate) fn arm(&self, deadline: Option<Instant>) -> io::Result<()> {
        let value = match deadline {
            // Zero would disarm: a deadline already due fires in 1 ns.
            Some(d) => d
                .saturating_duration_since(Instant::now())
                .max(Duration::from_nanos(1)),
            None => Duration::ZERO,
        };
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                // Saturates: eddy's far-future deadlines are about a century out.
                tv_sec: value.as_secs().min(libc::time_t::MAX as u64) as libc::time_t,
                tv_nsec: value.subsec_nanos() as libc::c_long,
            },
        };
        // SAFETY: `spec` is a valid itimerspec; the old value is not asked for.
        let rc = unsafe { libc::timerfd_settime(self.raw(), 0, &spec, std::ptr::null_mut()) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Reads the expiry count, so a level-triggered watcher of the poller
    /// (a host's `poll(2)`) sees it quiet again.
    pub(crate) fn drain(&self) {
        let mut count = 0u64;
        // SAFETY: reads 8 bytes into `count`; EAGAIN (nothing expired) is fine.
        unsafe {
            libc::read(
                self.raw(),
                (&mut count as *mut u64).cast(),
                std::mem::size_of::<u64>(),
            )
        };
    }
}
