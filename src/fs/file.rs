//! [`File`]: a file whose reads, writes and seeks run on the blocking pool,
//! one at a time, through a buffer.
//!
//! The state machine, as tokio's: a `File` is *idle*, holding a buffer
//! (empty, or with bytes read ahead), or *busy* with one operation on a
//! pool thread, which owns the buffer until it is done. A read fills the
//! buffer with up to `max_buf_size` bytes in one `read(2)` and hands them
//! out; a write copies the caller's bytes into the buffer, returns at
//! once, and writes them on the pool (so a write error surfaces at the
//! next write, `flush` or `close`); a seek first takes back the bytes read
//! ahead. Every operation first waits for the one in flight.
//!
//! The fast path (Linux): before it goes to the pool, an idle read tries
//! `preadv2(RWF_NOWAIT)` on the loop's thread, straight into the caller's
//! buffer. The kernel serves it only from the page cache and says `EAGAIN`
//! rather than wait for a disk (or a page lock), so the loop still never
//! waits for one; data already cached costs one syscall and one copy
//! instead of two thread hand-offs and two copies. File systems that do
//! not support it say so once (`EOPNOTSUPP`) and the file stops trying;
//! `EDDY_NO_FAST_READS=1` turns it off (to test the pool path).
//! So that a task reading a cached file in a loop cannot keep the loop to
//! itself, after about 4 MiB read this way the next read takes the pool
//! path, where the task waits like any other.

use std::fmt;
use std::fs::File as StdFile;
use std::future::{Future, poll_fn};
use std::io::{self, IoSlice, Read, Seek, SeekFrom, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, RawFd};
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncSeek, AsyncWrite};

use super::{Metadata, OpenOptions, Permissions, asyncify, outcome};
use crate::sync::Mutex;
use crate::task::blocking::{self, Blocking};

/// The default most bytes one operation moves: 2 MiB, as tokio.
const DEFAULT_MAX_BUF_SIZE: usize = 2 * 1024 * 1024;

/// How much the fast path reads before a read goes to the pool; each
/// call also counts as `FAST_CALL_COST` bytes (a syscall's worth).
const FAST_BUDGET: usize = 4 * 1024 * 1024;
const FAST_CALL_COST: usize = 8 * 1024;

/// An open file, for async code: `futures_io`'s [`AsyncRead`],
/// [`AsyncWrite`] (vectored too) and [`AsyncSeek`], each operation run on
/// the blocking pool.
///
/// Reads come in chunks of up to [`set_max_buf_size`](File::set_max_buf_size)
/// bytes (2 MiB by default) and writes are buffered: `write` returns as
/// soon as the bytes are copied, and they reach the file from a pool
/// thread. Call `flush` (futures' `AsyncWriteExt::flush`, or `close`)
/// to wait for them and see their error: a `File` dropped with a write in
/// flight lets it finish, but nobody learns whether it failed. `flush`
/// does not ask the disk to persist anything; that is
/// [`sync_all`](File::sync_all).
///
/// ```
/// use eddy::fs::File;
/// use futures::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
/// use std::io::SeekFrom;
///
/// eddy::block_on(async {
///     let path = std::env::temp_dir().join(format!("eddy-file-doc-{}", std::process::id()));
///     let mut file = File::create(&path).await?;
///     file.write_all(b"hello, file").await?;
///     file.flush().await?; // the write ran, and succeeded
///
///     let mut file = File::open(&path).await?;
///     file.seek(SeekFrom::Start(7)).await?;
///     let mut rest = String::new();
///     file.read_to_string(&mut rest).await?;
///     assert_eq!(rest, "file");
///     eddy::fs::remove_file(&path).await?;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// A read asks the OS for at most as many bytes as the caller's buffer
/// holds (nothing is read ahead that a pipe or terminal would lose). On
/// Linux, data already in the page cache is read on the loop's thread,
/// straight into the caller's buffer, with `preadv2(RWF_NOWAIT)` (which
/// fails rather than wait for a disk); what is not cached goes to the
/// pool, and so does one read after every 4 MiB read that way, so that
/// the reading task waits like any other now and then.
///
/// Its reads, writes, seeks and async methods use the runtime's blocking
/// pool, so they panic if polled outside a runtime; making one with
/// [`from_std`](File::from_std) and dropping it need none.
pub struct File {
    std: Arc<StdFile>,
    /// Behind an (eddy, single-thread) lock for the `&self` methods that
    /// must wait for the operation in flight; the `&mut self` trait
    /// methods reach it without locking.
    inner: Mutex<Inner>,
    max_buf_size: usize,
}

struct Inner {
    state: State,
    /// A buffered write failed: told by the next write, flush or sync.
    last_write_err: Option<io::Error>,
    /// The position asked of the seek in flight, if one is.
    seeking: Option<SeekFrom>,
    /// Reads try the page cache on the loop's thread first (see the
    /// module doc); off once the file's file system refused it.
    nowait: bool,
    /// What the fast path read since the task last waited for the pool.
    fast_spent: usize,
}

enum State {
    /// `None` only for a moment, while the buffer moves to the pool.
    Idle(Option<Buf>),
    Busy(Blocking<(Operation, Buf)>),
}

/// What the operation in flight gave.
enum Operation {
    Read(io::Result<usize>),
    Write(io::Result<()>),
    Seek(io::Result<u64>),
    /// It never ran (no pool thread could take it): every caller sees this.
    Lost(io::Error),
}

impl File {
    /// Opens a file for reading, as [`std::fs::File::open`].
    ///
    /// # Errors
    ///
    /// As std's: `NotFound`, `PermissionDenied`.
    ///
    /// # Panics
    ///
    /// If polled outside a runtime (it runs on the runtime's blocking pool).
    ///
    /// ```
    /// use eddy::fs::File;
    /// use futures::io::AsyncReadExt;
    ///
    /// eddy::block_on(async {
    /// #     let dir = std::env::temp_dir().join(format!("eddy-doc-file-open-{}", std::process::id()));
    /// #     eddy::fs::create_dir_all(&dir).await?;
    ///     let err = File::open(dir.join("missing.txt")).await.unwrap_err(); // dir: a scratch directory
    ///     assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    ///     eddy::fs::write(dir.join("present.txt"), "here").await?;
    ///     let mut text = String::new();
    ///     File::open(dir.join("present.txt")).await?.read_to_string(&mut text).await?;
    ///     assert_eq!(text, "here");
    /// #     eddy::fs::remove_dir_all(&dir).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        Ok(File::from_std(asyncify(move || StdFile::open(path)).await?))
    }

    /// Opens a file for writing, creating it or truncating it, as
    /// [`std::fs::File::create`].
    ///
    /// # Errors
    ///
    /// As std's: `NotFound` if the parent directory does not exist,
    /// `IsADirectory`, `PermissionDenied`.
    ///
    /// # Panics
    ///
    /// If polled outside a runtime (it runs on the runtime's blocking pool).
    ///
    /// ```
    /// use eddy::fs::File;
    /// use futures::io::AsyncWriteExt;
    ///
    /// eddy::block_on(async {
    /// #     let dir = std::env::temp_dir().join(format!("eddy-doc-file-create-{}", std::process::id()));
    /// #     eddy::fs::create_dir_all(&dir).await?;
    ///     let path = dir.join("new.txt"); // dir: a scratch directory
    ///     let mut file = File::create(&path).await?;
    ///     file.write_all(b"fresh").await?;
    ///     file.flush().await?; // wait for the write, and see its error
    ///     assert_eq!(eddy::fs::read_to_string(&path).await?, "fresh");
    /// #     eddy::fs::remove_dir_all(&dir).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        Ok(File::from_std(
            asyncify(move || StdFile::create(path)).await?,
        ))
    }

    /// Creates a new file for reading and writing, failing if it exists,
    /// as [`std::fs::File::create_new`]: the check and the creation are one
    /// step, so two tasks (or processes) cannot both create it.
    ///
    /// # Errors
    ///
    /// `AlreadyExists` if anything is at `path` (a dangling link included),
    /// and those of [`create`](File::create).
    ///
    /// # Panics
    ///
    /// If polled outside a runtime (it runs on the runtime's blocking pool).
    ///
    /// ```
    /// use eddy::fs::File;
    ///
    /// eddy::block_on(async {
    /// #     let dir = std::env::temp_dir().join(format!("eddy-doc-file-create-new-{}", std::process::id()));
    /// #     eddy::fs::create_dir_all(&dir).await?;
    ///     let lock = dir.join("job.lock"); // dir: a scratch directory
    ///     let _mine = File::create_new(&lock).await?;
    ///     let err = File::create_new(&lock).await.unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
    /// #     eddy::fs::remove_dir_all(&dir).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn create_new(path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        Ok(File::from_std(
            asyncify(move || StdFile::create_new(path)).await?,
        ))
    }

    /// An [`OpenOptions`], to open a file another way.
    ///
    /// ```
    /// use eddy::fs::File;
    /// use futures::io::AsyncWriteExt;
    ///
    /// eddy::block_on(async {
    /// #     let dir = std::env::temp_dir().join(format!("eddy-doc-file-options-{}", std::process::id()));
    /// #     eddy::fs::create_dir_all(&dir).await?;
    ///     let path = dir.join("log.txt"); // dir: a scratch directory
    ///     let mut log = File::options().append(true).create(true).open(&path).await?;
    ///     log.write_all(b"started\n").await?;
    ///     log.flush().await?;
    /// #     eddy::fs::remove_dir_all(&dir).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Wraps an open std file. Needs no runtime.
    ///
    /// ```
    /// use eddy::fs::File;
    /// use futures::io::AsyncReadExt;
    ///
    /// let std = std::fs::File::open("/dev/null")?; // opened elsewhere
    /// let mut file = File::from_std(std);
    /// eddy::block_on(async {
    ///     let mut rest = Vec::new();
    ///     assert_eq!(file.read_to_end(&mut rest).await?, 0);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_std(std: StdFile) -> File {
        File {
            std: Arc::new(std),
            inner: Mutex::new(Inner {
                state: State::Idle(Some(Buf::default())),
                last_write_err: None,
                seeking: None,
                nowait: fast_reads(),
                fast_spent: 0,
            }),
            max_buf_size: DEFAULT_MAX_BUF_SIZE,
        }
    }

    /// The most bytes one read or write moves through the pool (default
    /// 2 MiB): bigger chunks mean fewer hand-offs and more memory.
    ///
    /// # Panics
    ///
    /// If `max_buf_size` is 0 ("eddy: File::set_max_buf_size must be at least
    /// 1").
    ///
    /// ```
    /// use eddy::fs::File;
    /// use futures::io::AsyncReadExt;
    ///
    /// eddy::block_on(async {
    /// #     let dir = std::env::temp_dir().join(format!("eddy-doc-file-max-buf-{}", std::process::id()));
    /// #     eddy::fs::create_dir_all(&dir).await?;
    ///     let path = dir.join("big.bin"); // dir: a scratch directory
    ///     eddy::fs::write(&path, vec![7u8; 100_000]).await?;
    ///     let mut file = File::open(&path).await?;
    ///     file.set_max_buf_size(64 * 1024); // at most 64 KiB per trip to the pool
    ///     let mut all = Vec::new();
    ///     file.read_to_end(&mut all).await?;
    ///     assert_eq!(all.len(), 100_000);
    /// #     eddy::fs::remove_dir_all(&dir).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_max_buf_size(&mut self, max_buf_size: usize) {
        assert!(
            max_buf_size > 0,
            "eddy: File::set_max_buf_size must be at least 1"
        );
        self.max_buf_size = max_buf_size;
    }

    /// The most bytes one read or write moves through the pool: what
    /// [`set_max_buf_size`](File::set_max_buf_size) set, else 2 MiB. A
    /// [`try_clone`](File::try_clone) keeps it.
    ///
    /// ```
    /// let mut file = eddy::fs::File::from_std(std::fs::File::open("/dev/null")?);
    /// assert_eq!(file.max_buf_size(), 2 * 1024 * 1024);
    /// file.set_max_buf_size(4096);
    /// assert_eq!(file.max_buf_size(), 4096);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn max_buf_size(&self) -> usize {
        self.max_buf_size
    }

    /// Waits for the operation in flight, then flushes the file's data and
    /// metadata to the disk (`fsync`).
    ///
    /// # Errors
    ///
    /// The error of a buffered write that failed, if one did; else
    /// `fsync(2)`'s, as an OS error (`EIO`: the disk failed).
    ///
    /// # Panics
    ///
    /// If polled outside a runtime (it runs on the runtime's blocking pool).
    ///
    /// ```
    /// use eddy::fs::File;
    /// use futures::io::AsyncWriteExt;
    ///
    /// eddy::block_on(async {
    /// #     let dir = std::env::temp_dir().join(format!("eddy-doc-file-sync-all-{}", std::process::id()));
    /// #     eddy::fs::create_dir_all(&dir).await?;
    ///     let mut file = File::create(dir.join("durable.txt")).await?; // dir: a scratch directory
    ///     file.write_all(b"must survive a power cut").await?;
    ///     file.sync_all().await?; // written, and on the disk
    /// #     eddy::fs::remove_dir_all(&dir).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn sync_all(&self) -> io::Result<()> {
        self.settle_writes().await?;
        let std = Arc::clone(&self.std);
        asyncify(move || std.sync_all()).await
    }

    /// As [`sync_all`](File::sync_all), without metadata that reading the
    /// data back does not need (`fdatasync`).
    ///
    /// # Errors
    ///
    /// As `sync_all`.
    ///
    /// # Panics
    ///
    /// If polled outside a runtime (it runs on the runtime's blocking pool).
    ///
    /// ```
    /// use eddy::fs::File;
    /// use futures::io::AsyncWriteExt;
    ///
    /// eddy::block_on(async {
    /// #     let dir = std::env::temp_dir().join(format!("eddy-doc-file-sync-data-{}", std::process::id()));
    /// #     eddy::fs::create_dir_all(&dir).await?;
    ///     let mut file = File::create(dir.join("journal")).await?; // dir: a scratch directory
    ///     file.write_all(b"entry\n").await?;
    ///     file.sync_data().await?;
    /// #     eddy::fs::remove_dir_all(&dir).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn sync_data(&self) -> io::Result<()> {
        self.settle_writes().await?;
        let std = Arc::clone(&self.std);
        asyncify(move || std.sync_data()).await
    }

    /// Truncates or extends the file to `size` bytes, after the operation
    /// in flight. The position does not move (bytes read ahead are given
    /// back first).
    ///
    /// # Errors
    ///
    /// std's: `InvalidInput` for a file not open for writing, or the error of
    /// `ftruncate(2)`.
    ///
    /// # Panics
    ///
    /// If polled outside a runtime (it runs on the runtime's blocking pool).
    ///
    /// ```
    /// use eddy::fs::File;
    ///
    /// eddy::block_on(async {
    /// #     let dir = std::env::temp_dir().join(format!("eddy-doc-file-set-len-{}", std::process::id()));
    /// #     eddy::fs::create_dir_all(&dir).await?;
    ///     let path = dir.join("sized"); // dir: a scratch directory
    ///     let file = File::create(&path).await?;
    ///     file.set_len(1024).await?; // extended with zeros
    ///     assert_eq!(file.metadata().await?.len(), 1024);
    ///     let read_only = File::open(&path).await?;
    ///     assert_eq!(read_only.set_len(0).await.unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
    /// #     eddy::fs::remove_dir_all(&dir).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn set_len(&self, size: u64) -> io::Result<()> {
        let mut inner = self.inner.lock().await;
        inner.complete_inflight().await;
        let back = inner.take_read_ahead();
        let std = Arc::clone(&self.std);
        asyncify(move || {
            if back != 0 {
                (&*std).seek(SeekFrom::Current(back))?;
            }
            std.set_len(size)
        })
        .await
    }

    /// The file's metadata (`fstat`).
    ///
    /// # Errors
    ///
    /// std's: the error of `fstat(2)`, which a valid descriptor rarely gives.
    ///
    /// # Panics
    ///
    /// If polled outside a runtime (it runs on the runtime's blocking pool).
    ///
    /// ```
    /// use eddy::fs::File;
    ///
    /// eddy::block_on(async {
    /// #     let dir = std::env::temp_dir().join(format!("eddy-doc-file-metadata-{}", std::process::id()));
    /// #     eddy::fs::create_dir_all(&dir).await?;
    ///     eddy::fs::write(dir.join("f"), "abc").await?; // dir: a scratch directory
    ///     let file = File::open(dir.join("f")).await?;
    ///     assert_eq!(file.metadata().await?.len(), 3);
    /// #     eddy::fs::remove_dir_all(&dir).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let std = Arc::clone(&self.std);
        asyncify(move || std.metadata()).await
    }

    /// Changes the file's permissions.
    ///
    /// # Errors
    ///
    /// std's: `PermissionDenied` if this process does not own the file,
    /// `ReadOnlyFilesystem`.
    ///
    /// # Panics
    ///
    /// If polled outside a runtime (it runs on the runtime's blocking pool).
    ///
    /// ```
    /// use std::os::unix::fs::PermissionsExt;
    /// use eddy::fs::{File, Permissions};
    ///
    /// eddy::block_on(async {
    /// #     let dir = std::env::temp_dir().join(format!("eddy-doc-file-set-permissions-{}", std::process::id()));
    /// #     eddy::fs::create_dir_all(&dir).await?;
    ///     let file = File::create(dir.join("script.sh")).await?; // dir: a scratch directory
    ///     file.set_permissions(Permissions::from_mode(0o755)).await?;
    ///     assert_eq!(file.metadata().await?.permissions().mode() & 0o777, 0o755);
    /// #     eddy::fs::remove_dir_all(&dir).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn set_permissions(&self, perm: Permissions) -> io::Result<()> {
        let std = Arc::clone(&self.std);
        asyncify(move || std.set_permissions(perm)).await
    }

    /// A new `File` for the same open file (a `dup`): they share the
    /// position, not the buffers.
    ///
    /// # Errors
    ///
    /// The OS's error from `dup(2)`: `EMFILE` (`raw_os_error()` gives it)
    /// when the process has no descriptor left.
    ///
    /// # Panics
    ///
    /// If polled outside a runtime (it runs on the runtime's blocking pool).
    ///
    /// ```
    /// use eddy::fs::File;
    /// use futures::io::AsyncReadExt;
    ///
    /// eddy::block_on(async {
    /// #     let dir = std::env::temp_dir().join(format!("eddy-doc-file-try-clone-{}", std::process::id()));
    /// #     eddy::fs::create_dir_all(&dir).await?;
    ///     eddy::fs::write(dir.join("f"), "abcd").await?; // dir: a scratch directory
    ///     let mut file = File::open(dir.join("f")).await?;
    ///     let mut twin = file.try_clone().await?;
    ///     let mut two = [0; 2];
    ///     file.read_exact(&mut two).await?;
    ///     twin.read_exact(&mut two).await?; // goes on where `file` stopped
    ///     assert_eq!(&two, b"cd");
    /// #     eddy::fs::remove_dir_all(&dir).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn try_clone(&self) -> io::Result<File> {
        let std = Arc::clone(&self.std);
        let mut twin = File::from_std(asyncify(move || std.try_clone()).await?);
        // A clone is configured like its original, as tokio's.
        twin.max_buf_size = self.max_buf_size;
        Ok(twin)
    }

    /// Waits for the operation in flight and gives back the std file, its
    /// position where this `File`'s reader left it (bytes read ahead are
    /// given back). The error of a buffered write still in flight is lost:
    /// flush first to see it.
    ///
    /// # Panics
    ///
    /// If polled outside a runtime while an operation is in flight. Else never
    /// in practice: only if a pool thread still held the file after its
    /// operation completed, which the pool rules out (it drops the closure,
    /// and its reference, before it reports the result).
    ///
    /// ```
    /// use eddy::fs::File;
    /// use futures::io::AsyncWriteExt;
    ///
    /// eddy::block_on(async {
    /// #     let dir = std::env::temp_dir().join(format!("eddy-doc-file-into-std-{}", std::process::id()));
    /// #     eddy::fs::create_dir_all(&dir).await?;
    ///     let mut file = File::create(dir.join("f")).await?; // dir: a scratch directory
    ///     file.write_all(b"async, then sync").await?;
    ///     file.flush().await?;
    ///     let std_file: std::fs::File = file.into_std().await;
    ///     assert_eq!(std_file.metadata()?.len(), 16);
    /// #     eddy::fs::remove_dir_all(&dir).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn into_std(self) -> StdFile {
        let mut inner = self.inner.into_inner();
        inner.complete_inflight().await;
        let back = inner.take_read_ahead();
        if back != 0 {
            // lseek on a regular file moves a number; it never waits for the disk.
            let _ = (&*self.std).seek(SeekFrom::Current(back));
        }
        // The pool thread dropped its reference before the operation
        // completed (see `blocking::submit`): this one is the last.
        Arc::try_unwrap(self.std)
            .expect("eddy: no pool thread holds the file once its operation completed")
    }

    /// The std file now, if no operation is in flight and no bytes are
    /// read ahead; else the `File` back.
    ///
    /// # Errors
    ///
    /// `self`, when the std file cannot be given back at once.
    ///
    /// ```
    /// use eddy::fs::File;
    ///
    /// let file = File::from_std(std::fs::File::open("/dev/null")?);
    /// let std_file = file.try_into_std().expect("idle: nothing in flight");
    /// # drop(std_file);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[allow(clippy::result_large_err)] // the `File` itself comes back, as tokio's
    pub fn try_into_std(mut self) -> Result<StdFile, File> {
        let idle = matches!(&self.inner.get_mut().state, State::Idle(Some(buf)) if buf.is_empty());
        if !idle {
            return Err(self);
        }
        match Arc::try_unwrap(self.std) {
            Ok(std) => Ok(std),
            Err(std) => {
                self.std = std;
                Err(self)
            }
        }
    }

    /// Waits for the operation in flight; reports a buffered write's error.
    async fn settle_writes(&self) -> io::Result<()> {
        let mut inner = self.inner.lock().await;
        inner.complete_inflight().await;
        match inner.last_write_err.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Starts `op` on the pool with the buffer.
    fn start(
        std: &Arc<StdFile>,
        inner: &mut Inner,
        mut buf: Buf,
        op: impl FnOnce(&StdFile, &mut Buf) -> Operation + Send + 'static,
    ) {
        let std = Arc::clone(std);
        inner.state = State::Busy(blocking::run("eddy::fs::File", move || {
            let done = op(&std, &mut buf);
            (done, buf)
        }));
    }
}

impl Inner {
    /// Waits for the operation in flight, if any, and goes idle; a failed
    /// write is kept for later.
    fn poll_complete(&mut self, cx: &mut Context<'_>) -> Poll<Option<Operation>> {
        let State::Busy(done) = &mut self.state else {
            return Poll::Ready(None);
        };
        let (op, buf) = match Pin::new(done).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Ok(result)) => result,
            // The closure never ran (the pool is gone): buffer and result lost.
            Poll::Ready(Err(failed)) => {
                self.state = State::Idle(Some(Buf::default()));
                let e = outcome::<()>(Err(failed)).unwrap_err();
                return Poll::Ready(Some(Operation::Lost(e)));
            }
        };
        self.state = State::Idle(Some(buf));
        Poll::Ready(Some(op))
    }

    async fn complete_inflight(&mut self) {
        if let Some(Operation::Write(Err(e)) | Operation::Lost(e)) =
            poll_fn(|cx| self.poll_complete(cx)).await
        {
            self.last_write_err = Some(e);
        }
    }

    /// Drops the bytes read ahead; returns how far the file's position
    /// must move back for them (0 or negative).
    fn take_read_ahead(&mut self) -> i64 {
        match &mut self.state {
            State::Idle(Some(buf)) => buf.discard_read(),
            _ => 0,
        }
    }

    fn idle_buf(&mut self) -> Buf {
        match &mut self.state {
            State::Idle(buf) => buf.take().expect("a buffer while idle"),
            State::Busy(_) => unreachable!("idle_buf while busy"),
        }
    }
}

impl AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        dst: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let me = self.get_mut();
        let inner = me.inner.get_mut();
        loop {
            match inner.poll_complete(cx) {
                Poll::Pending => return Poll::Pending,
                // A read done: hand out what it got (nothing at the end).
                Poll::Ready(Some(Operation::Read(Ok(_)))) => {
                    let mut buf = inner.idle_buf();
                    let n = buf.copy_to(dst);
                    inner.state = State::Idle(Some(buf));
                    return Poll::Ready(Ok(n));
                }
                Poll::Ready(Some(Operation::Read(Err(e)) | Operation::Lost(e))) => {
                    return Poll::Ready(Err(e));
                }
                Poll::Ready(Some(Operation::Write(Err(e)))) => inner.last_write_err = Some(e),
                Poll::Ready(_) => {}
            }
            let mut buf = inner.idle_buf();
            if !buf.is_empty() || dst.is_empty() {
                let n = buf.copy_to(dst);
                inner.state = State::Idle(Some(buf));
                return Poll::Ready(Ok(n));
            }
            let want = dst.len().min(me.max_buf_size);
            if inner.nowait && inner.fast_spent < FAST_BUDGET {
                match read_cached(&me.std, &mut dst[..want]) {
                    Ok(n) => {
                        inner.fast_spent += n + FAST_CALL_COST;
                        inner.state = State::Idle(Some(buf));
                        return Poll::Ready(Ok(n));
                    }
                    // Not all in the page cache: the pool reads it.
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    // Not supported here (or an error the pool's std read
                    // will report as std reports it).
                    Err(_) => inner.nowait = false,
                }
            }
            inner.fast_spent = 0;
            File::start(&me.std, inner, buf, move |std, buf| {
                Operation::Read(buf.read_from(std, want))
            });
        }
    }
}

/// Whether reads try the page cache first: on Linux, unless
/// `EDDY_NO_FAST_READS=1` asks for the pool path alone (to test it).
fn fast_reads() -> bool {
    static FAST: OnceLock<bool> = OnceLock::new();
    *FAST.get_or_init(|| {
        cfg!(target_os = "linux") && std::env::var_os("EDDY_NO_FAST_READS").is_none_or(|v| v != "1")
    })
}

/// One read from the page cache only, at the file's position, straight
/// into `dst`: `EAGAIN` where the data would have to come from a disk.
#[cfg(target_os = "linux")]
fn read_cached(file: &StdFile, dst: &mut [u8]) -> io::Result<usize> {
    let iov = libc::iovec {
        iov_base: dst.as_mut_ptr().cast(),
        iov_len: dst.len(),
    };
    // Offset -1 means the file's position, which the call moves as read(2)
    // would. The descriptor is the live file's own.
    // SAFETY: one iovec, pointing into `dst`, valid for writes of
    // `dst.len()` bytes for the whole call; the kernel writes at most that.
    let n = unsafe { libc::preadv2(file.as_raw_fd(), &iov, 1, -1, libc::RWF_NOWAIT) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

#[cfg(not(target_os = "linux"))]
fn read_cached(_file: &StdFile, _dst: &mut [u8]) -> io::Result<usize> {
    Err(io::Error::from_raw_os_error(libc::EOPNOTSUPP))
}

impl File {
    fn poll_write_with(
        &mut self,
        cx: &mut Context<'_>,
        len: usize,
        copy: impl FnOnce(&mut Buf, usize) -> usize,
    ) -> Poll<io::Result<usize>> {
        let inner = self.inner.get_mut();
        if let Some(e) = inner.last_write_err.take() {
            return Poll::Ready(Err(e));
        }
        match inner.poll_complete(cx) {
            Poll::Pending => return Poll::Pending,
            // This write's bytes are refused: the caller learns now.
            Poll::Ready(Some(Operation::Write(Err(e)) | Operation::Lost(e))) => {
                return Poll::Ready(Err(e));
            }
            Poll::Ready(_) => {}
        }
        if len == 0 {
            return Poll::Ready(Ok(0));
        }
        // Bytes read ahead are given back: the write goes where the reader is.
        let back = inner.take_read_ahead();
        let mut buf = inner.idle_buf();
        let n = copy(&mut buf, self.max_buf_size);
        File::start(&self.std, inner, buf, move |std, buf| {
            let mut std = std;
            let written = if back != 0 {
                std.seek(SeekFrom::Current(back)).map(drop)
            } else {
                Ok(())
            };
            Operation::Write(written.and_then(|()| buf.write_to(&mut std)))
        });
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        src: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .poll_write_with(cx, src.len(), |buf, max| buf.copy_from(src, max))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let len = bufs.iter().map(|b| b.len()).sum();
        self.get_mut().poll_write_with(cx, len, |buf, max| {
            bufs.iter()
                .filter(|src| !src.is_empty())
                .map(|src| buf.copy_from(src, max))
                .take_while(|&n| n > 0)
                .sum()
        })
    }

    /// Waits for the buffered write in flight and gives its error.
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let inner = self.get_mut().inner.get_mut();
        if let Some(e) = inner.last_write_err.take() {
            return Poll::Ready(Err(e));
        }
        match inner.poll_complete(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Operation::Write(Err(e)) | Operation::Lost(e))) => Poll::Ready(Err(e)),
            Poll::Ready(_) => Poll::Ready(Ok(())),
        }
    }

    /// As `poll_flush`: a file has nothing to shut down.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl AsyncSeek for File {
    /// Waits for the operation in flight, then seeks on the pool. A seek
    /// dropped before it completes may still happen; called again with
    /// the same position, it completes that seek rather than starting one.
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let me = self.get_mut();
        let inner = me.inner.get_mut();
        loop {
            let seeking = inner.seeking;
            match inner.poll_complete(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Operation::Seek(result))) => {
                    inner.seeking = None;
                    if seeking == Some(pos) {
                        return Poll::Ready(result);
                    }
                    continue; // another seek's: start ours
                }
                Poll::Ready(Some(Operation::Lost(e))) => return Poll::Ready(Err(e)),
                Poll::Ready(Some(Operation::Write(Err(e)))) => inner.last_write_err = Some(e),
                Poll::Ready(_) => {}
            }
            let back = inner.take_read_ahead();
            let target = match pos {
                SeekFrom::Current(n) => match n.checked_add(back) {
                    Some(n) => SeekFrom::Current(n),
                    None => {
                        return Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::InvalidInput,
                            "eddy: seek offset overflows",
                        )));
                    }
                },
                other => other,
            };
            inner.seeking = Some(pos);
            let buf = inner.idle_buf();
            File::start(&me.std, inner, buf, move |mut std, _| {
                Operation::Seek(std.seek(target))
            });
        }
    }
}

impl AsRawFd for File {
    fn as_raw_fd(&self) -> RawFd {
        self.std.as_raw_fd()
    }
}

impl AsFd for File {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.std.as_fd()
    }
}

/// Takes ownership of an open descriptor, as tokio's `File` does.
impl FromRawFd for File {
    unsafe fn from_raw_fd(fd: RawFd) -> File {
        // SAFETY: the caller promises what `StdFile::from_raw_fd` needs (an
        // open descriptor that nothing else owns or closes).
        File::from_std(unsafe { StdFile::from_raw_fd(fd) })
    }
}

impl From<StdFile> for File {
    fn from(std: StdFile) -> File {
        File::from_std(std)
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File")
            .field("std", &self.std)
            .field("max_buf_size", &self.max_buf_size)
            .finish_non_exhaustive()
    }
}

/// A file's buffer: bytes read ahead (`data[pos..end]`) or waiting to be
/// written (`data[..end]`). `data` only grows, so each byte of it is
/// zeroed once, not before every read.
#[derive(Default)]
struct Buf {
    data: Vec<u8>,
    pos: usize,
    end: usize,
}

impl Buf {
    fn is_empty(&self) -> bool {
        self.pos == self.end
    }

    fn clear(&mut self) {
        self.pos = 0;
        self.end = 0;
    }

    /// Hands out bytes read ahead.
    fn copy_to(&mut self, dst: &mut [u8]) -> usize {
        let n = dst.len().min(self.end - self.pos);
        dst[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        if self.is_empty() {
            self.clear();
        }
        n
    }

    /// Takes bytes to write, up to `max` in the buffer.
    fn copy_from(&mut self, src: &[u8], max: usize) -> usize {
        let n = src.len().min(max - self.end);
        self.reserve(self.end + n);
        self.data[self.end..self.end + n].copy_from_slice(&src[..n]);
        self.end += n;
        n
    }

    fn reserve(&mut self, len: usize) {
        if self.data.len() < len {
            self.data.resize(len, 0);
        }
    }

    fn discard_read(&mut self) -> i64 {
        let back = -((self.end - self.pos) as i64);
        self.clear();
        back
    }

    /// One read of up to `want` bytes (on a pool thread).
    fn read_from(&mut self, mut std: &StdFile, want: usize) -> io::Result<usize> {
        self.clear();
        self.reserve(want);
        let result = loop {
            match std.read(&mut self.data[..want]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                result => break result,
            }
        };
        if let Ok(n) = result {
            self.end = n;
        }
        result
    }

    /// Writes everything buffered (on a pool thread).
    fn write_to(&mut self, std: &mut &StdFile) -> io::Result<()> {
        let result = std.write_all(&self.data[self.pos..self.end]);
        self.clear();
        result
    }
}
