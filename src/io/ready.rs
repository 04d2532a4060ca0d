//! [`Interest`] (which directions to wait for) and [`Ready`] (what a wait
//! found): the arguments and results of the `ready` methods, as tokio's.
//!
//! Both are a byte of flags. Their bits are the reactor's own readiness
//! bits, so turning one into the other costs nothing.

use std::fmt;
use std::ops;

use crate::reactor::{Direction, READ_CLOSED, WRITE_CLOSED, bit};

const READABLE: u8 = bit(Direction::Read);
const WRITABLE: u8 = bit(Direction::Write);

/// The directions a [`ready`](crate::net::TcpStream::ready) call waits for:
/// [`READABLE`](Interest::READABLE), [`WRITABLE`](Interest::WRITABLE), or
/// both (`Interest::READABLE | Interest::WRITABLE`).
///
/// ```
/// use eddy::io::Interest;
///
/// let both = Interest::READABLE | Interest::WRITABLE;
/// assert!(both.is_readable() && both.is_writable());
/// assert!(!Interest::READABLE.is_writable());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interest(u8);

impl Interest {
    /// Wait until the object may be read (or its reading side is closed).
    pub const READABLE: Interest = Interest(READABLE);

    /// Wait until the object may be written (or its writing side is closed).
    pub const WRITABLE: Interest = Interest(WRITABLE);

    /// Whether this includes [`READABLE`](Interest::READABLE).
    pub const fn is_readable(self) -> bool {
        self.0 & READABLE != 0
    }

    /// Whether this includes [`WRITABLE`](Interest::WRITABLE).
    pub const fn is_writable(self) -> bool {
        self.0 & WRITABLE != 0
    }

    /// Both interests; `const` form of `|`.
    #[must_use]
    pub const fn add(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }

    /// The reactor's direction bits.
    pub(crate) const fn bits(self) -> u8 {
        self.0
    }
}

impl ops::BitOr for Interest {
    type Output = Interest;

    fn bitor(self, other: Interest) -> Interest {
        self.add(other)
    }
}

impl ops::BitOrAssign for Interest {
    fn bitor_assign(&mut self, other: Interest) {
        *self = self.add(other);
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.is_readable(), self.is_writable()) {
            (true, true) => f.write_str("READABLE | WRITABLE"),
            (true, false) => f.write_str("READABLE"),
            _ => f.write_str("WRITABLE"),
        }
    }
}

/// What a [`ready`](crate::net::TcpStream::ready) call found: a set of
/// readiness flags, limited to the directions asked for.
///
/// Readiness can be stale by the time it is used: the next operation may
/// still say `WouldBlock` (then the `try_*` methods clear it, and the next
/// `ready` waits for a new event).
///
/// ```
/// use eddy::io::Ready;
///
/// let r = Ready::READABLE | Ready::READ_CLOSED;
/// assert!(r.is_readable() && r.is_read_closed() && !r.is_writable());
/// assert!(Ready::READ_CLOSED.is_readable()); // end of stream is readable
/// assert!(Ready::EMPTY.is_empty());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ready(u8);

impl Ready {
    /// No readiness.
    pub const EMPTY: Ready = Ready(0);

    /// Readable.
    pub const READABLE: Ready = Ready(READABLE);

    /// Writable.
    pub const WRITABLE: Ready = Ready(WRITABLE);

    /// The reading side is closed: the peer shut down its writing side (or
    /// hung up). Reads return at once (end of stream, or an error).
    pub const READ_CLOSED: Ready = Ready(READ_CLOSED);

    /// The writing side is closed (the peer hung up, or the socket has an
    /// error): writes return at once, with an error.
    pub const WRITE_CLOSED: Ready = Ready(WRITE_CLOSED);

    /// Every flag.
    pub const ALL: Ready = Ready(READABLE | WRITABLE | READ_CLOSED | WRITE_CLOSED);

    /// No flag is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Readable, or read-closed (a read returns at once either way).
    pub const fn is_readable(self) -> bool {
        self.0 & (READABLE | READ_CLOSED) != 0
    }

    /// Writable, or write-closed (a write returns at once either way).
    pub const fn is_writable(self) -> bool {
        self.0 & (WRITABLE | WRITE_CLOSED) != 0
    }

    /// The reading side is closed.
    pub const fn is_read_closed(self) -> bool {
        self.0 & READ_CLOSED != 0
    }

    /// The writing side is closed.
    pub const fn is_write_closed(self) -> bool {
        self.0 & WRITE_CLOSED != 0
    }

    /// From the reactor's readiness bits.
    pub(crate) const fn from_bits(bits: u8) -> Ready {
        Ready(bits & Ready::ALL.0)
    }
}

impl ops::BitOr for Ready {
    type Output = Ready;

    fn bitor(self, other: Ready) -> Ready {
        Ready(self.0 | other.0)
    }
}

impl ops::BitOrAssign for Ready {
    fn bitor_assign(&mut self, other: Ready) {
        self.0 |= other.0;
    }
}

impl fmt::Debug for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ready")
            .field("is_readable", &self.is_readable())
            .field("is_writable", &self.is_writable())
            .field("is_read_closed", &self.is_read_closed())
            .field("is_write_closed", &self.is_write_closed())
            .finish()
    }
}
