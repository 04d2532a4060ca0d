//! Directories: [`read_dir`] and its entries, [`DirBuilder`].

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::{FileType, Metadata, asyncify, outcome};
use crate::task::blocking::{self, Blocking};

/// How many entries one trip to the pool reads.
const BATCH: usize = 32;

/// Starts listing a directory, as [`std::fs::read_dir`]; the entries
/// come from [`ReadDir::next_entry`].
///
/// # Errors
///
/// std's: `NotFound`, `NotADirectory`, `PermissionDenied`.
///
/// # Panics
///
/// If polled outside a runtime (it runs on the runtime's blocking pool).
///
/// ```
/// eddy::block_on(async {
///     let mut entries = eddy::fs::read_dir("/").await?;
///     let mut names = Vec::new();
///     while let Some(entry) = entries.next_entry().await? {
///         names.push(entry.file_name());
///     }
///     assert!(names.iter().any(|n| n == "proc"));
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let path = path.as_ref().to_owned();
    let std = asyncify(move || std::fs::read_dir(path)).await?;
    Ok(ReadDir {
        state: State::Idle(Some(Batch {
            entries: VecDeque::new(),
            std,
            more: true,
        })),
    })
}

/// The entries of a directory, from [`read_dir`], read from the pool
/// 32 at a time (with their file types, which Linux mostly gives
/// for free), in the order the OS lists them (not sorted; no `.` or `..`).
///
/// ```
/// eddy::block_on(async {
/// #     let dir = std::env::temp_dir().join(format!("eddy-doc-read-dir-type-{}", std::process::id()));
/// #     eddy::fs::create_dir_all(&dir).await?;
///     for name in ["b.txt", "a.txt"] {
///         eddy::fs::write(dir.join(name), "").await?; // dir: a scratch directory
///     }
///     let mut entries = eddy::fs::read_dir(&dir).await?;
///     let mut names = Vec::new();
///     while let Some(entry) = entries.next_entry().await? {
///         names.push(entry.file_name().into_string().unwrap());
///     }
///     names.sort(); // the OS's order is not sorted
///     assert_eq!(names, ["a.txt", "b.txt"]);
/// #     eddy::fs::remove_dir_all(&dir).await?;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct ReadDir {
    state: State,
}

enum State {
    /// `None` only while a batch is being read.
    Idle(Option<Batch>),
    Busy(Blocking<Batch>),
}

struct Batch {
    entries: VecDeque<io::Result<DirEntry>>,
    std: std::fs::ReadDir,
    /// The std iterator has not ended.
    more: bool,
}

impl ReadDir {
    /// The next entry, `None` at the end. Cancel-safe: an entry read by a
    /// dropped call is kept for the next.
    ///
    /// # Errors
    ///
    /// std's, for an entry that could not be read; the listing may go on.
    ///
    /// # Panics
    ///
    /// If polled outside a runtime (it runs on the runtime's blocking pool).
    ///
    /// ```
    /// eddy::block_on(async {
    /// #     let dir = std::env::temp_dir().join(format!("eddy-doc-next-entry-{}", std::process::id()));
    /// #     eddy::fs::create_dir_all(&dir).await?;
    ///     eddy::fs::write(dir.join("only"), "").await?; // dir: a scratch directory
    ///     let mut entries = eddy::fs::read_dir(&dir).await?;
    ///     let entry = entries.next_entry().await?.unwrap();
    ///     assert_eq!(entry.file_name(), "only");
    ///     assert!(entries.next_entry().await?.is_none()); // the end
    /// #     eddy::fs::remove_dir_all(&dir).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        poll_fn(|cx| self.poll_next_entry(cx)).await
    }

    /// The polling form of [`next_entry`](ReadDir::next_entry).
    ///
    /// # Errors
    ///
    /// As `next_entry`.
    ///
    /// # Panics
    ///
    /// If it must read more entries outside a runtime.
    ///
    /// ```
    /// use std::future::poll_fn;
    ///
    /// eddy::block_on(async {
    /// #     let dir = std::env::temp_dir().join(format!("eddy-doc-poll-next-entry-{}", std::process::id()));
    /// #     eddy::fs::create_dir_all(&dir).await?;
    ///     eddy::fs::write(dir.join("one"), "").await?; // dir: a scratch directory
    ///     let mut entries = eddy::fs::read_dir(&dir).await?;
    ///     let first = poll_fn(|cx| entries.poll_next_entry(cx)).await?;
    ///     assert_eq!(first.unwrap().file_name(), "one");
    /// #     eddy::fs::remove_dir_all(&dir).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll_next_entry(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<DirEntry>>> {
        loop {
            match &mut self.state {
                State::Idle(batch) => {
                    let mut b = batch.take().expect("a batch while idle");
                    if let Some(entry) = b.entries.pop_front() {
                        *batch = Some(b);
                        return Poll::Ready(entry.map(Some));
                    }
                    if !b.more {
                        *batch = Some(b);
                        return Poll::Ready(Ok(None));
                    }
                    self.state = State::Busy(blocking::run("eddy::fs::ReadDir", move || {
                        b.fill();
                        b
                    }));
                }
                State::Busy(done) => {
                    let batch = match Pin::new(done).poll(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(result) => outcome(result.map(Ok)),
                    };
                    match batch {
                        Ok(batch) => self.state = State::Idle(Some(batch)),
                        Err(e) => return Poll::Ready(Err(e)),
                    }
                }
            }
        }
    }
}

impl Batch {
    /// Reads up to `BATCH` entries (on a pool thread).
    fn fill(&mut self) {
        for _ in 0..BATCH {
            match self.std.next() {
                Some(entry) => self.entries.push_back(entry.map(|std| {
                    let file_type = std.file_type().ok();
                    DirEntry {
                        std: Arc::new(std),
                        file_type,
                    }
                })),
                None => {
                    self.more = false;
                    return;
                }
            }
        }
    }
}

impl fmt::Debug for ReadDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadDir").finish_non_exhaustive()
    }
}

/// One entry of a directory listing, from [`ReadDir::next_entry`]: its
/// name and path at once, its metadata from the pool.
///
/// ```
/// eddy::block_on(async {
/// #     let dir = std::env::temp_dir().join(format!("eddy-doc-dir-entry-type-{}", std::process::id()));
/// #     eddy::fs::create_dir_all(&dir).await?;
///     eddy::fs::create_dir(dir.join("sub")).await?; // dir: a scratch directory
///     eddy::fs::write(dir.join("file.txt"), "abc").await?;
///     let mut entries = eddy::fs::read_dir(&dir).await?;
///     while let Some(entry) = entries.next_entry().await? {
///         if entry.file_type().await?.is_dir() {
///             assert_eq!(entry.file_name(), "sub");
///         } else {
///             assert_eq!(entry.path(), dir.join("file.txt"));
///             assert_eq!(entry.metadata().await?.len(), 3);
///         }
///     }
/// #     eddy::fs::remove_dir_all(&dir).await?;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct DirEntry {
    std: Arc<std::fs::DirEntry>,
    /// Known when the listing gave it (`d_type`): no extra call.
    file_type: Option<FileType>,
}

impl DirEntry {
    /// The entry's full path: the directory given to `read_dir` joined
    /// with [`file_name`](DirEntry::file_name).
    ///
    /// ```
    /// eddy::block_on(async {
    /// #     let dir = std::env::temp_dir().join(format!("eddy-doc-entry-path-{}", std::process::id()));
    /// #     eddy::fs::create_dir_all(&dir).await?;
    ///     eddy::fs::write(dir.join("f"), "").await?; // dir: a scratch directory
    ///     let entry = eddy::fs::read_dir(&dir).await?.next_entry().await?.unwrap();
    ///     assert_eq!(entry.path(), dir.join("f"));
    /// #     eddy::fs::remove_dir_all(&dir).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn path(&self) -> PathBuf {
        self.std.path()
    }

    /// The entry's name in its directory.
    ///
    /// ```
    /// eddy::block_on(async {
    /// #     let dir = std::env::temp_dir().join(format!("eddy-doc-entry-file-name-{}", std::process::id()));
    /// #     eddy::fs::create_dir_all(&dir).await?;
    ///     eddy::fs::write(dir.join("name.txt"), "").await?; // dir: a scratch directory
    ///     let entry = eddy::fs::read_dir(&dir).await?.next_entry().await?.unwrap();
    ///     assert_eq!(entry.file_name(), "name.txt");
    /// #     eddy::fs::remove_dir_all(&dir).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn file_name(&self) -> OsString {
        self.std.file_name()
    }

    /// The entry's inode number (from the listing: no extra call).
    ///
    /// ```
    /// use std::os::unix::fs::MetadataExt;
    ///
    /// eddy::block_on(async {
    /// #     let dir = std::env::temp_dir().join(format!("eddy-doc-entry-ino-{}", std::process::id()));
    /// #     eddy::fs::create_dir_all(&dir).await?;
    ///     eddy::fs::write(dir.join("f"), "").await?; // dir: a scratch directory
    ///     let entry = eddy::fs::read_dir(&dir).await?.next_entry().await?.unwrap();
    ///     assert_eq!(entry.ino(), eddy::fs::metadata(dir.join("f")).await?.ino());
    /// #     eddy::fs::remove_dir_all(&dir).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn ino(&self) -> u64 {
        std::os::unix::fs::DirEntryExt::ino(&*self.std)
    }

    /// The entry's metadata, not following a symbolic link, as std's
    /// `DirEntry::metadata`.
    ///
    /// # Errors
    ///
    /// std's (`NotFound` if the entry was removed since it was listed).
    ///
    /// # Panics
    ///
    /// If polled outside a runtime (it runs on the runtime's blocking pool).
    ///
    /// ```
    /// eddy::block_on(async {
    /// #     let dir = std::env::temp_dir().join(format!("eddy-doc-entry-metadata-{}", std::process::id()));
    /// #     eddy::fs::create_dir_all(&dir).await?;
    ///     eddy::fs::write(dir.join("f"), "12").await?; // dir: a scratch directory
    ///     let entry = eddy::fs::read_dir(&dir).await?.next_entry().await?.unwrap();
    ///     assert_eq!(entry.metadata().await?.len(), 2);
    /// #     eddy::fs::remove_dir_all(&dir).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let std = Arc::clone(&self.std);
        asyncify(move || std.metadata()).await
    }

    /// The entry's type, not following a symbolic link: at once when the
    /// listing gave it (most Linux file systems do), else from the pool.
    ///
    /// # Errors
    ///
    /// std's (`NotFound` if the entry was removed since it was listed, and the
    /// listing had not given the type).
    ///
    /// # Panics
    ///
    /// If polled outside a runtime (it runs on the runtime's blocking pool).
    ///
    /// ```
    /// eddy::block_on(async {
    /// #     let dir = std::env::temp_dir().join(format!("eddy-doc-entry-file-type-{}", std::process::id()));
    /// #     eddy::fs::create_dir_all(&dir).await?;
    ///     eddy::fs::symlink("elsewhere", dir.join("link")).await?; // dir: a scratch directory
    ///     let entry = eddy::fs::read_dir(&dir).await?.next_entry().await?.unwrap();
    ///     assert!(entry.file_type().await?.is_symlink()); // not followed
    /// #     eddy::fs::remove_dir_all(&dir).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn file_type(&self) -> io::Result<FileType> {
        if let Some(file_type) = self.file_type {
            return Ok(file_type);
        }
        let std = Arc::clone(&self.std);
        asyncify(move || std.file_type()).await
    }
}

impl fmt::Debug for DirEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DirEntry").field(&self.path()).finish()
    }
}

/// Creates directories with options, as [`std::fs::DirBuilder`].
///
/// ```
/// use eddy::fs::DirBuilder;
///
/// eddy::block_on(async {
///     let base = std::env::temp_dir().join(format!("eddy-dirbuilder-doc-{}", std::process::id()));
///     DirBuilder::new().recursive(true).create(base.join("a/b/c")).await?;
///     assert!(eddy::fs::metadata(base.join("a/b/c")).await?.is_dir());
///     eddy::fs::remove_dir_all(&base).await?;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct DirBuilder {
    recursive: bool,
    mode: Option<u32>,
}

impl DirBuilder {
    /// A builder that creates one directory (not its parents), with the
    /// default mode (0o777, less the umask).
    ///
    /// ```
    /// use eddy::fs::DirBuilder;
    ///
    /// eddy::block_on(async {
    /// #     let dir = std::env::temp_dir().join(format!("eddy-doc-dirbuilder-new-{}", std::process::id()));
    /// #     eddy::fs::create_dir_all(&dir).await?;
    ///     DirBuilder::new().create(dir.join("one")).await?; // dir: a scratch directory
    ///     assert!(eddy::fs::metadata(dir.join("one")).await?.is_dir());
    /// #     eddy::fs::remove_dir_all(&dir).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new() -> DirBuilder {
        DirBuilder::default()
    }

    /// Whether missing parents are created too (and an existing directory
    /// is not an error).
    ///
    /// ```
    /// use eddy::fs::DirBuilder;
    ///
    /// eddy::block_on(async {
    /// #     let dir = std::env::temp_dir().join(format!("eddy-doc-dirbuilder-recursive-{}", std::process::id()));
    /// #     eddy::fs::create_dir_all(&dir).await?;
    ///     let mut builder = DirBuilder::new();
    ///     builder.recursive(true);
    ///     builder.create(dir.join("x/y/z")).await?; // dir: a scratch directory
    ///     builder.create(dir.join("x/y/z")).await?; // there already: fine
    /// #     eddy::fs::remove_dir_all(&dir).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn recursive(&mut self, recursive: bool) -> &mut DirBuilder {
        self.recursive = recursive;
        self
    }

    /// The permission bits of new directories (before the umask).
    ///
    /// ```
    /// use std::os::unix::fs::PermissionsExt;
    /// use eddy::fs::DirBuilder;
    ///
    /// eddy::block_on(async {
    /// #     let dir = std::env::temp_dir().join(format!("eddy-doc-dirbuilder-mode-{}", std::process::id()));
    /// #     eddy::fs::create_dir_all(&dir).await?;
    ///     DirBuilder::new().mode(0o700).create(dir.join("private")).await?; // dir: a scratch directory
    ///     let mode = eddy::fs::metadata(dir.join("private")).await?.permissions().mode();
    ///     assert_eq!(mode & 0o077, 0); // nobody else may enter
    /// #     eddy::fs::remove_dir_all(&dir).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn mode(&mut self, mode: u32) -> &mut DirBuilder {
        self.mode = Some(mode);
        self
    }

    /// Creates the directory `path`.
    ///
    /// # Errors
    ///
    /// std's: `AlreadyExists` when not recursive (or, recursive, when `path`
    /// is a file), `NotFound` for a missing parent when not recursive,
    /// `PermissionDenied`.
    ///
    /// # Panics
    ///
    /// If polled outside a runtime (it runs on the runtime's blocking pool).
    ///
    /// ```
    /// use eddy::fs::DirBuilder;
    ///
    /// eddy::block_on(async {
    /// #     let dir = std::env::temp_dir().join(format!("eddy-doc-dirbuilder-create-{}", std::process::id()));
    /// #     eddy::fs::create_dir_all(&dir).await?;
    ///     let builder = DirBuilder::new();
    ///     let err = builder.create(dir.join("missing/parent")).await.unwrap_err(); // dir: a scratch directory
    ///     assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    /// #     eddy::fs::remove_dir_all(&dir).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn create(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref().to_owned();
        let mut std = std::fs::DirBuilder::new();
        std.recursive(self.recursive);
        if let Some(mode) = self.mode {
            std::os::unix::fs::DirBuilderExt::mode(&mut std, mode);
        }
        asyncify(move || std.create(path)).await
    }
}
