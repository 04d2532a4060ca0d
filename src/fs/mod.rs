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
//! here as it is in `std::fs`. One more can come from the pool itself:
//! an error of kind `Other` if the operation could not be handed to a
//! thread (none could be started, or the runtime is shutting down).
//! Every future here must be polled inside a runtime, and panics if not.
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
/// As std's: `NotFound`, `PermissionDenied`, `IsADirectory` (for a
/// directory), or the error of the `read(2)` that failed.
///
/// # Panics
///
/// If polled outside a runtime (it runs on the runtime's blocking pool).
///
/// ```
/// eddy::block_on(async {
/// #     let dir = std::env::temp_dir().join(format!("eddy-doc-read-{}", std::process::id()));
/// #     eddy::fs::create_dir_all(&dir).await?;
///     let path = dir.join("data.bin"); // dir: a scratch directory
///     eddy::fs::write(&path, [1, 2, 3]).await?;
///     assert_eq!(eddy::fs::read(&path).await?, [1, 2, 3]);
/// #     eddy::fs::remove_dir_all(&dir).await?;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::read(path)).await
}

/// Reads a whole file as UTF-8, as [`std::fs::read_to_string`].
///
/// # Errors
///
/// As [`read`], and `InvalidData` if the file is not UTF-8.
///
/// # Panics
///
/// If polled outside a runtime (it runs on the runtime's blocking pool).
///
/// ```
/// eddy::block_on(async {
/// #     let dir = std::env::temp_dir().join(format!("eddy-doc-read-to-string-{}", std::process::id()));
/// #     eddy::fs::create_dir_all(&dir).await?;
///     let path = dir.join("notes.txt"); // dir: a scratch directory
///     eddy::fs::write(&path, "café").await?;
///     assert_eq!(eddy::fs::read_to_string(&path).await?, "café");
///     eddy::fs::write(&path, [0xff, 0xfe]).await?;
///     let err = eddy::fs::read_to_string(&path).await.unwrap_err();
///     assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
/// #     eddy::fs::remove_dir_all(&dir).await?;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
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
/// As std's: `NotFound` if the parent directory does not exist,
/// `PermissionDenied`, `IsADirectory`, or the error of the `write(2)` that
/// failed (`StorageFull` when the disk is).
///
/// # Panics
///
/// If polled outside a runtime (it runs on the runtime's blocking pool).
///
/// ```
/// eddy::block_on(async {
/// #     let dir = std::env::temp_dir().join(format!("eddy-doc-write-{}", std::process::id()));
/// #     eddy::fs::create_dir_all(&dir).await?;
///     let path = dir.join("out.txt"); // dir: a scratch directory
///     eddy::fs::write(&path, "first version").await?;
///     eddy::fs::write(&path, "second").await?; // truncates
///     assert_eq!(eddy::fs::read_to_string(&path).await?, "second");
///     let err = eddy::fs::write(dir.join("no/such/dir/f"), "x").await.unwrap_err();
///     assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
/// #     eddy::fs::remove_dir_all(&dir).await?;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
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
/// As std's: `NotFound` if `from` (or `to`'s directory) does not exist,
/// `InvalidInput` if `from` is not a regular file, `PermissionDenied`.
///
/// # Panics
///
/// If polled outside a runtime (it runs on the runtime's blocking pool).
///
/// ```
/// eddy::block_on(async {
/// #     let dir = std::env::temp_dir().join(format!("eddy-doc-copy-{}", std::process::id()));
/// #     eddy::fs::create_dir_all(&dir).await?;
///     let (from, to) = (dir.join("a.txt"), dir.join("b.txt")); // dir: a scratch directory
///     eddy::fs::write(&from, "copied").await?;
///     assert_eq!(eddy::fs::copy(&from, &to).await?, 6);
///     assert_eq!(eddy::fs::read_to_string(&to).await?, "copied");
/// #     eddy::fs::remove_dir_all(&dir).await?;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    asyncify(move || std::fs::copy(from, to)).await
}

/// Renames a file or directory, replacing `to` if it exists, as
/// [`std::fs::rename`].
///
/// # Errors
///
/// As std's: `NotFound` if `from` does not exist, `CrossesDevices` if
/// `to` is on another file system, `IsADirectory` or `NotADirectory` if
/// `to` exists and is not of `from`'s kind, `DirectoryNotEmpty` if it is
/// a directory with files in it, `PermissionDenied`.
///
/// # Panics
///
/// If polled outside a runtime (it runs on the runtime's blocking pool).
///
/// ```
/// eddy::block_on(async {
/// #     let dir = std::env::temp_dir().join(format!("eddy-doc-rename-{}", std::process::id()));
/// #     eddy::fs::create_dir_all(&dir).await?;
///     let (old, new) = (dir.join("draft.txt"), dir.join("final.txt")); // dir: a scratch directory
///     eddy::fs::write(&old, "text").await?;
///     eddy::fs::rename(&old, &new).await?;
///     assert!(!eddy::fs::try_exists(&old).await?);
///     assert_eq!(eddy::fs::read_to_string(&new).await?, "text");
/// #     eddy::fs::remove_dir_all(&dir).await?;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    asyncify(move || std::fs::rename(from, to)).await
}

/// Removes a file, as [`std::fs::remove_file`].
///
/// # Errors
///
/// As std's: `NotFound`, `IsADirectory` (use [`remove_dir`]),
/// `PermissionDenied`.
///
/// # Panics
///
/// If polled outside a runtime (it runs on the runtime's blocking pool).
///
/// ```
/// eddy::block_on(async {
/// #     let dir = std::env::temp_dir().join(format!("eddy-doc-remove-file-{}", std::process::id()));
/// #     eddy::fs::create_dir_all(&dir).await?;
///     let path = dir.join("temp.txt"); // dir: a scratch directory
///     eddy::fs::write(&path, "").await?;
///     eddy::fs::remove_file(&path).await?;
///     let again = eddy::fs::remove_file(&path).await.unwrap_err();
///     assert_eq!(again.kind(), std::io::ErrorKind::NotFound);
/// #     eddy::fs::remove_dir_all(&dir).await?;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::remove_file(path)).await
}

/// Removes an empty directory, as [`std::fs::remove_dir`].
///
/// # Errors
///
/// As std's: `NotFound`, `DirectoryNotEmpty` (use [`remove_dir_all`]),
/// `NotADirectory`, `PermissionDenied`.
///
/// # Panics
///
/// If polled outside a runtime (it runs on the runtime's blocking pool).
///
/// ```
/// eddy::block_on(async {
/// #     let dir = std::env::temp_dir().join(format!("eddy-doc-remove-dir-{}", std::process::id()));
/// #     eddy::fs::create_dir_all(&dir).await?;
///     let sub = dir.join("sub"); // dir: a scratch directory
///     eddy::fs::create_dir(&sub).await?;
///     eddy::fs::write(sub.join("file"), "").await?;
///     let err = eddy::fs::remove_dir(&sub).await.unwrap_err();
///     assert_eq!(err.kind(), std::io::ErrorKind::DirectoryNotEmpty);
///     eddy::fs::remove_file(sub.join("file")).await?;
///     eddy::fs::remove_dir(&sub).await?;
/// #     eddy::fs::remove_dir_all(&dir).await?;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::remove_dir(path)).await
}

/// Removes a directory and everything in it, as
/// [`std::fs::remove_dir_all`]. Symbolic links in it are removed, not
/// followed.
///
/// # Errors
///
/// As std's: `NotFound` if `path` does not exist, `NotADirectory` if it
/// is a file, or the first error met while removing what is inside
/// (`PermissionDenied`...).
///
/// # Panics
///
/// If polled outside a runtime (it runs on the runtime's blocking pool).
///
/// ```
/// eddy::block_on(async {
/// #     let dir = std::env::temp_dir().join(format!("eddy-doc-remove-dir-all-{}", std::process::id()));
/// #     eddy::fs::create_dir_all(&dir).await?;
///     let tree = dir.join("tree"); // dir: a scratch directory
///     eddy::fs::create_dir_all(tree.join("a/b")).await?;
///     eddy::fs::write(tree.join("a/b/leaf"), "").await?;
///     eddy::fs::remove_dir_all(&tree).await?;
///     assert!(!eddy::fs::try_exists(&tree).await?);
/// #     eddy::fs::remove_dir_all(&dir).await?;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::remove_dir_all(path)).await
}

/// Creates a directory, as [`std::fs::create_dir`]. Its parent must
/// exist: see [`create_dir_all`].
///
/// # Errors
///
/// As std's: `AlreadyExists` (a directory or a file is there), `NotFound`
/// for a missing parent, `PermissionDenied`.
///
/// # Panics
///
/// If polled outside a runtime (it runs on the runtime's blocking pool).
///
/// ```
/// eddy::block_on(async {
/// #     let dir = std::env::temp_dir().join(format!("eddy-doc-create-dir-{}", std::process::id()));
/// #     eddy::fs::create_dir_all(&dir).await?;
///     let logs = dir.join("logs"); // dir: a scratch directory
///     eddy::fs::create_dir(&logs).await?;
///     let again = eddy::fs::create_dir(&logs).await.unwrap_err();
///     assert_eq!(again.kind(), std::io::ErrorKind::AlreadyExists);
/// #     eddy::fs::remove_dir_all(&dir).await?;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::create_dir(path)).await
}

/// Creates a directory and its missing parents, as
/// [`std::fs::create_dir_all`]; a directory already there is not an
/// error.
///
/// # Errors
///
/// As std's: `AlreadyExists` if `path` is a file, `NotADirectory` if
/// one of its parents is, `PermissionDenied`.
///
/// # Panics
///
/// If polled outside a runtime (it runs on the runtime's blocking pool).
///
/// ```
/// eddy::block_on(async {
/// #     let dir = std::env::temp_dir().join(format!("eddy-doc-create-dir-all-{}", std::process::id()));
/// #     eddy::fs::create_dir_all(&dir).await?;
///     let deep = dir.join("a/b/c"); // dir: a scratch directory
///     eddy::fs::create_dir_all(&deep).await?;
///     eddy::fs::create_dir_all(&deep).await?; // there already: fine
///     assert!(eddy::fs::metadata(&deep).await?.is_dir());
/// #     eddy::fs::remove_dir_all(&dir).await?;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::create_dir_all(path)).await
}

/// A path's metadata, following symbolic links, as [`std::fs::metadata`].
///
/// # Errors
///
/// As std's: `NotFound` (also for a broken link), `PermissionDenied` on
/// a directory of the path that may not be searched.
///
/// # Panics
///
/// If polled outside a runtime (it runs on the runtime's blocking pool).
///
/// ```
/// eddy::block_on(async {
/// #     let dir = std::env::temp_dir().join(format!("eddy-doc-metadata-{}", std::process::id()));
/// #     eddy::fs::create_dir_all(&dir).await?;
///     let path = dir.join("sized.txt"); // dir: a scratch directory
///     eddy::fs::write(&path, "12345").await?;
///     let meta = eddy::fs::metadata(&path).await?;
///     assert!(meta.is_file());
///     assert_eq!(meta.len(), 5);
/// #     eddy::fs::remove_dir_all(&dir).await?;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::metadata(path)).await
}

/// A path's metadata, not following a final symbolic link, as
/// [`std::fs::symlink_metadata`].
///
/// # Errors
///
/// As [`metadata`]; a broken link is no error here.
///
/// # Panics
///
/// If polled outside a runtime (it runs on the runtime's blocking pool).
///
/// ```
/// eddy::block_on(async {
/// #     let dir = std::env::temp_dir().join(format!("eddy-doc-symlink-metadata-{}", std::process::id()));
/// #     eddy::fs::create_dir_all(&dir).await?;
///     let link = dir.join("link"); // dir: a scratch directory
///     eddy::fs::symlink("no-such-target", &link).await?;
///     assert!(eddy::fs::symlink_metadata(&link).await?.is_symlink());
///     assert!(eddy::fs::metadata(&link).await.is_err()); // followed: broken
/// #     eddy::fs::remove_dir_all(&dir).await?;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn symlink_metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::symlink_metadata(path)).await
}

/// The absolute path with every link and `..` resolved, as
/// [`std::fs::canonicalize`].
///
/// # Errors
///
/// As std's: `NotFound` if the path, or any part of it, does not exist
/// (a broken link included), `NotADirectory` if a middle part is a file.
///
/// # Panics
///
/// If polled outside a runtime (it runs on the runtime's blocking pool).
///
/// ```
/// eddy::block_on(async {
/// #     let dir = std::env::temp_dir().join(format!("eddy-doc-canonicalize-{}", std::process::id()));
/// #     eddy::fs::create_dir_all(&dir).await?;
///     let sub = dir.join("sub"); // dir: a scratch directory
///     eddy::fs::create_dir(&sub).await?;
///     let roundabout = sub.join("..").join("sub");
///     assert_eq!(
///         eddy::fs::canonicalize(&roundabout).await?,
///         eddy::fs::canonicalize(&sub).await?
///     );
/// #     eddy::fs::remove_dir_all(&dir).await?;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::canonicalize(path)).await
}

/// Whether a path exists: `Ok(false)` for a missing one (or a broken
/// link), an error when that cannot be known, as [`Path::try_exists`].
///
/// # Errors
///
/// As std's: `PermissionDenied` on a directory of the path that may not
/// be searched, and other errors of `stat(2)` but `NotFound`.
///
/// # Panics
///
/// If polled outside a runtime (it runs on the runtime's blocking pool).
///
/// ```
/// eddy::block_on(async {
/// #     let dir = std::env::temp_dir().join(format!("eddy-doc-try-exists-{}", std::process::id()));
/// #     eddy::fs::create_dir_all(&dir).await?;
///     let path = dir.join("maybe.txt"); // dir: a scratch directory
///     assert!(!eddy::fs::try_exists(&path).await?);
///     eddy::fs::write(&path, "").await?;
///     assert!(eddy::fs::try_exists(&path).await?);
/// #     eddy::fs::remove_dir_all(&dir).await?;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn try_exists(path: impl AsRef<Path>) -> io::Result<bool> {
    let path = path.as_ref().to_owned();
    asyncify(move || path.try_exists()).await
}

/// Changes a file's permissions, as [`std::fs::set_permissions`].
///
/// # Errors
///
/// As std's: `NotFound`, `PermissionDenied` if this process does not own
/// the file, `ReadOnlyFilesystem`.
///
/// # Panics
///
/// If polled outside a runtime (it runs on the runtime's blocking pool).
///
/// ```
/// use eddy::fs::Permissions;
/// use std::os::unix::fs::PermissionsExt;
///
/// eddy::block_on(async {
/// #     let dir = std::env::temp_dir().join(format!("eddy-doc-set-permissions-{}", std::process::id()));
/// #     eddy::fs::create_dir_all(&dir).await?;
///     let path = dir.join("secret.txt"); // dir: a scratch directory
///     eddy::fs::write(&path, "").await?;
///     let owner_only = Permissions::from_mode(0o600);
///     eddy::fs::set_permissions(&path, owner_only).await?;
///     let mode = eddy::fs::metadata(&path).await?.permissions().mode();
///     assert_eq!(mode & 0o777, 0o600);
/// #     eddy::fs::remove_dir_all(&dir).await?;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn set_permissions(path: impl AsRef<Path>, perm: Permissions) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::set_permissions(path, perm)).await
}

/// Makes `link` a new name for `original`, as [`std::fs::hard_link`].
///
/// # Errors
///
/// As std's: `NotFound` if `original` does not exist, `AlreadyExists`
/// if `link` does, `CrossesDevices` across file systems,
/// `PermissionDenied`.
///
/// # Panics
///
/// If polled outside a runtime (it runs on the runtime's blocking pool).
///
/// ```
/// use std::os::unix::fs::MetadataExt;
///
/// eddy::block_on(async {
/// #     let dir = std::env::temp_dir().join(format!("eddy-doc-hard-link-{}", std::process::id()));
/// #     eddy::fs::create_dir_all(&dir).await?;
///     let (original, link) = (dir.join("a"), dir.join("b")); // dir: a scratch directory
///     eddy::fs::write(&original, "shared").await?;
///     eddy::fs::hard_link(&original, &link).await?;
///     assert_eq!(eddy::fs::metadata(&link).await?.nlink(), 2);
///     assert_eq!(eddy::fs::read_to_string(&link).await?, "shared");
/// #     eddy::fs::remove_dir_all(&dir).await?;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn hard_link(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    let (original, link) = (original.as_ref().to_owned(), link.as_ref().to_owned());
    asyncify(move || std::fs::hard_link(original, link)).await
}

/// Makes `link` a symbolic link to `original`, as
/// [`std::os::unix::fs::symlink`]. `original` need not exist; a relative
/// one is resolved from the link's directory when the link is followed.
///
/// # Errors
///
/// As std's: `AlreadyExists` if `link` exists, `NotFound` if its
/// directory does not, `PermissionDenied`.
///
/// # Panics
///
/// If polled outside a runtime (it runs on the runtime's blocking pool).
///
/// ```
/// eddy::block_on(async {
/// #     let dir = std::env::temp_dir().join(format!("eddy-doc-symlink-{}", std::process::id()));
/// #     eddy::fs::create_dir_all(&dir).await?;
///     let target = dir.join("target.txt"); // dir: a scratch directory
///     eddy::fs::write(&target, "through the link").await?;
///     eddy::fs::symlink("target.txt", dir.join("link")).await?;
///     assert_eq!(eddy::fs::read_to_string(dir.join("link")).await?, "through the link");
/// #     eddy::fs::remove_dir_all(&dir).await?;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn symlink(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    let (original, link) = (original.as_ref().to_owned(), link.as_ref().to_owned());
    asyncify(move || std::os::unix::fs::symlink(original, link)).await
}

/// What a symbolic link points to, as [`std::fs::read_link`]: its text,
/// not resolved.
///
/// # Errors
///
/// As std's: `NotFound`, and `InvalidInput` if `path` is not a link.
///
/// # Panics
///
/// If polled outside a runtime (it runs on the runtime's blocking pool).
///
/// ```
/// eddy::block_on(async {
/// #     let dir = std::env::temp_dir().join(format!("eddy-doc-read-link-{}", std::process::id()));
/// #     eddy::fs::create_dir_all(&dir).await?;
///     let link = dir.join("link"); // dir: a scratch directory
///     eddy::fs::symlink("somewhere/else", &link).await?;
///     assert_eq!(eddy::fs::read_link(&link).await?, std::path::Path::new("somewhere/else"));
///     eddy::fs::write(dir.join("plain"), "").await?;
///     let err = eddy::fs::read_link(dir.join("plain")).await.unwrap_err();
///     assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
/// #     eddy::fs::remove_dir_all(&dir).await?;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn read_link(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::read_link(path)).await
}
