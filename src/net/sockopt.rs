//! Socket options that neither std nor mio set (`SO_LINGER`, `IP_TOS`,
//! and all of `TcpSocket`'s): thin, typed wrappers over `setsockopt` and
//! `getsockopt`; and the range check of a time-to-live.

use std::io;
use std::mem::{MaybeUninit, size_of};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::Duration;

/// Sets an option whose value is the plain C value `value`.
pub(crate) fn set<T: Copy>(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
    value: T,
) -> io::Result<()> {
    // SAFETY: `fd` is a live descriptor (borrowed for the call); the kernel
    // reads `size_of::<T>()` bytes from `value`, a live local of that size.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&raw const value).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Reads an option whose value is a plain C type `T`, for which all zero
/// bytes are a valid value (`c_int`, `linger`): the only types callers use.
pub(crate) fn get<T: Copy>(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
) -> io::Result<T> {
    let mut value = MaybeUninit::<T>::zeroed();
    let mut len = size_of::<T>() as libc::socklen_t;
    // SAFETY: `fd` is a live descriptor; the kernel writes at most `len`
    // bytes into `value`, which has room for them, and updates `len`.
    let r = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            level,
            name,
            value.as_mut_ptr().cast(),
            &mut len,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: zeroed, then (partly) written by the kernel; the callers'
    // types are valid for any bytes.
    Ok(unsafe { value.assume_init() })
}

/// Reads an `int` option.
pub(crate) fn get_int(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
) -> io::Result<libc::c_int> {
    get(fd, level, name)
}

/// `SO_LINGER`: `None` turns it off; `Some(d)` makes `close` wait up to
/// `d` (whole seconds, the fraction dropped, as tokio and socket2) for unsent
/// data, and `Some(Duration::ZERO)` makes it reset the connection. A
/// duration beyond `c_int::MAX` seconds is capped there.
pub(crate) fn set_linger(fd: BorrowedFd<'_>, linger: Option<Duration>) -> io::Result<()> {
    let value = libc::linger {
        l_onoff: linger.is_some().into(),
        l_linger: linger.map_or(0, |d| {
            libc::c_int::try_from(d.as_secs()).unwrap_or(libc::c_int::MAX)
        }),
    };
    set(fd, libc::SOL_SOCKET, libc::SO_LINGER, value)
}

/// Reads `SO_LINGER`, as [`set_linger`] takes it.
pub(crate) fn linger(fd: BorrowedFd<'_>) -> io::Result<Option<Duration>> {
    let value: libc::linger = get(fd, libc::SOL_SOCKET, libc::SO_LINGER)?;
    Ok((value.l_onoff != 0).then(|| Duration::from_secs(value.l_linger.max(0) as u64)))
}

/// `IP_TOS` of an IPv4 socket (the kernel keeps the low byte).
pub(crate) fn set_tos(fd: BorrowedFd<'_>, tos: u32) -> io::Result<()> {
    let tos = libc::c_int::try_from(tos)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "IP_TOS value out of range"))?;
    set(fd, libc::IPPROTO_IP, libc::IP_TOS, tos)
}

/// Reads `IP_TOS`.
pub(crate) fn tos(fd: BorrowedFd<'_>) -> io::Result<u32> {
    get_int(fd, libc::IPPROTO_IP, libc::IP_TOS).map(|v| v as u32)
}

/// A TTL (or hop limit) goes in one byte. The kernel refuses most values
/// beyond it, but takes `u32::MAX` (the C `-1`) as "back to the default":
/// refused here, with the others, so that no value is taken silently.
pub(crate) fn check_ttl(ttl: u32, min: u32) -> io::Result<()> {
    if (min..=255).contains(&ttl) {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("eddy: a TTL must be between {min} and 255, not {ttl}"),
        ))
    }
}
