//! Files and directories, without blocking the loop: every operation runs
//! std's own function on the runtime's blocking pool (the threads of
//! [`spawn_blocking`](crate::task::spawn_blocking)) and the task awaits
//! the result. This is what asyncio's `to_thread` does for files, and
//! what tokio's `fs` does.
//!
//! Why threads: a regular file is always "ready" to epoll (Linux refuses
//! to watch one), yet reading it may wait for the disk, so the reactor
//! cannot help. What it costs: a hand-off to a pool thread and back per
//! call (some microseconds), so a [`File`] moves data in chunks of up to
//! [`set_max_buf_size`](File::set_max_buf_size) (2 MiB by default), with
//! one operation in flight at a time, and buffers writes (see [`File`]).
//! One shortcut: on Linux a `File` reads data already in the page cache
//! on the loop's thread, with `preadv2(RWF_NOWAIT)`, which the kernel
//! refuses (`EAGAIN`) rather than wait for a disk; the rest goes to the
//! pool. The errors are std's, unchanged: a missing file is `NotFound`
//! here as it is in `std::fs`.
//!
//! ```
//! eddy::block_on(async {
//!     let dir = std::env::temp_dir().join(format!("eddy-fs-doc-{}", std::process::id()));
//!     eddy::fs::create_dir_all(&dir).await?;
//!     let path = dir.join("hello.txt");
//!     eddy::fs::write(&path, "hello").await?;
//!     assert_eq!(eddy::fs::read_to_string(&path).await?, "hello");
//!     eddy::fs::remove_dir_all(&dir).await?;
//!     let err = eddy::fs::metadata(&path).await.unwrap_err();
//!     assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
//!     Ok::<(), std::io::Error>(())
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io;
use std::panic::resume_unwind;
use std::path::{Path, PathBuf};

use crate::task::blocking::{self, Failed};

mod dir;
mod file;
mod open_options;

pub use self::dir::{DirBuilder, DirEntry, ReadDir, read_dir};
pub use self::file::File;
pub use self::open_options::OpenOptions;

pub use std::fs::{FileType, Metadata, Permissions};

/// Runs a std file operation on the blocking pool.
#[track_caller]
pub(crate) fn asyncify<T, F>(f: F) -> impl Future<Output = io::Result<T>>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let done = blocking::run("eddy::fs", f);
    async move { outcome(done.await) }
}

/// What a std file operation sent to the pool gave.
pub(crate) fn outcome<T>(result: Result<io::Result<T>, Failed>) -> io::Result<T> {
    match result {
        Ok(result) => result,
        // std's file functions do not panic; should one, it goes on here.
        Err(Failed::Panicked(payload)) => resume_unwind(payload),
        Err(Failed::Lost) => Err(lost()),
    }
}

fn lost() -> io::Error {
    io::Error::other(
        "eddy: the file operation was dropped before it ran (no blocking thread could be \
         started, or the runtime is shutting down)",
    )
}

/// Reads a whole file, as [`std::fs::read`].
///
/// # Errors
///
/// std's: `NotFound`, `PermissionDenied`, `IsADirectory`...
///
/// # Panics
///
/// If polled outside a runtime (as every function here).
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::read(path)).await
}

/// Reads a whole file as UTF-8, as [`std::fs::read_to_string`].
///
/// # Errors
///
/// std's; `InvalidData` if the file is not UTF-8.
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::read_to_string(path)).await
}

/// Writes `contents` to a file, creating or truncating it, as
/// [`std::fs::write`]. The bytes are copied first (the pool's thread needs
/// its own).
///
/// # Errors
///
/// std's.
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    let contents = contents.as_ref().to_owned();
    asyncify(move || std::fs::write(path, contents)).await
}

/// Copies a file's contents and permissions, as [`std::fs::copy`];
/// returns the number of bytes copied.
///
/// # Errors
///
/// std's.
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    asyncify(move || std::fs::copy(from, to)).await
}

/// Renames a file or directory, replacing `to` if it exists, as
/// [`std::fs::rename`].
///
/// # Errors
///
/// std's.
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    asyncify(move || std::fs::rename(from, to)).await
}

/// Removes a file, as [`std::fs::remove_file`].
///
/// # Errors
///
/// std's.
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::remove_file(path)).await
}

/// Removes an empty directory, as [`std::fs::remove_dir`].
///
/// # Errors
///
/// std's.
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::remove_dir(path)).await
}

/// Removes a directory and everything in it, as
/// [`std::fs::remove_dir_all`].
///
/// # Errors
///
/// std's.
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::remove_dir_all(path)).await
}

/// Creates a directory, as [`std::fs::create_dir`].
///
/// # Errors
///
/// std's (`AlreadyExists`, `NotFound` for a missing parent...).
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::create_dir(path)).await
}

/// Creates a directory and its missing parents, as
/// [`std::fs::create_dir_all`].
///
/// # Errors
///
/// std's.
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::create_dir_all(path)).await
}

/// A path's metadata, following symbolic links, as [`std::fs::metadata`].
///
/// # Errors
///
/// std's.
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::metadata(path)).await
}

/// A path's metadata, not following a final symbolic link, as
/// [`std::fs::symlink_metadata`].
///
/// # Errors
///
/// std's.
pub async fn symlink_metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::symlink_metadata(path)).await
}

/// The absolute path with every link and `..` resolved, as
/// [`std::fs::canonicalize`].
///
/// # Errors
///
/// std's.
pub async fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::canonicalize(path)).await
}

/// Whether a path exists: `Ok(false)` for a missing one (or a broken
/// link), an error when that cannot be known, as [`Path::try_exists`].
///
/// # Errors
///
/// std's (`PermissionDenied` on a directory that may not be searched).
pub async fn try_exists(path: impl AsRef<Path>) -> io::Result<bool> {
    let path = path.as_ref().to_owned();
    asyncify(move || path.try_exists()).await
}

/// Changes a file's permissions, as [`std::fs::set_permissions`].
///
/// # Errors
///
/// std's.
pub async fn set_permissions(path: impl AsRef<Path>, perm: Permissions) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::set_permissions(path, perm)).await
}

/// Makes `link` a new name for `original`, as [`std::fs::hard_link`].
///
/// # Errors
///
/// std's.
pub async fn hard_link(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    let (original, link) = (original.as_ref().to_owned(), link.as_ref().to_owned());
    asyncify(move || std::fs::hard_link(original, link)).await
}

/// Makes `link` a symbolic link to `original`, as
/// [`std::os::unix::fs::symlink`].
///
/// # Errors
///
/// std's.
pub async fn symlink(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    let (original, link) = (original.as_ref().to_owned(), link.as_ref().to_owned());
    asyncify(move || std::os::unix::fs::symlink(original, link)).await
}

/// What a symbolic link points to, as [`std::fs::read_link`].
///
/// # Errors
///
/// std's (`InvalidInput` if `path` is not a link).
pub async fn read_link(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::read_link(path)).await
}
