//! [`OpenOptions`]: std's, with an async `open`.

use std::io;
use std::path::Path;

use super::{File, asyncify};

/// How to open a file, as [`std::fs::OpenOptions`], whose setters it
/// repeats; [`open`](OpenOptions::open) runs on the blocking pool.
///
/// ```
/// use eddy::fs::OpenOptions;
/// use futures::io::AsyncWriteExt;
///
/// eddy::block_on(async {
///     let path = std::env::temp_dir().join(format!("eddy-openoptions-doc-{}", std::process::id()));
///     let mut log = OpenOptions::new().append(true).create(true).open(&path).await?;
///     log.write_all(b"one line\n").await?;
///     log.flush().await?;
///     eddy::fs::remove_file(&path).await?;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct OpenOptions(std::fs::OpenOptions);

impl OpenOptions {
    /// Every option off: set at least `read`, `write` or `append`.
    ///
    /// ```
    /// use eddy::fs::OpenOptions;
    ///
    /// eddy::block_on(async {
    /// #     let dir = std::env::temp_dir().join(format!("eddy-doc-oo-new-{}", std::process::id()));
    /// #     eddy::fs::create_dir_all(&dir).await?;
    ///     eddy::fs::write(dir.join("f"), "").await?; // dir: a scratch directory
    ///     let err = OpenOptions::new().open(dir.join("f")).await.unwrap_err(); // nothing asked
    ///     assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// #     eddy::fs::remove_dir_all(&dir).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new() -> OpenOptions {
        OpenOptions(std::fs::OpenOptions::new())
    }

    /// Open for reading.
    ///
    /// ```
    /// use eddy::fs::OpenOptions;
    /// use futures::io::AsyncReadExt;
    ///
    /// eddy::block_on(async {
    /// #     let dir = std::env::temp_dir().join(format!("eddy-doc-oo-read-{}", std::process::id()));
    /// #     eddy::fs::create_dir_all(&dir).await?;
    ///     eddy::fs::write(dir.join("f"), "data").await?; // dir: a scratch directory
    ///     let mut file = OpenOptions::new().read(true).open(dir.join("f")).await?;
    ///     let mut text = String::new();
    ///     file.read_to_string(&mut text).await?;
    ///     assert_eq!(text, "data");
    /// #     eddy::fs::remove_dir_all(&dir).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn read(&mut self, read: bool) -> &mut OpenOptions {
        self.0.read(read);
        self
    }

    /// Open for writing (from the start, over what is there, unless
    /// `append` or `truncate` is also set).
    ///
    /// ```
    /// use eddy::fs::OpenOptions;
    /// use futures::io::AsyncWriteExt;
    ///
    /// eddy::block_on(async {
    /// #     let dir = std::env::temp_dir().join(format!("eddy-doc-oo-write-{}", std::process::id()));
    /// #     eddy::fs::create_dir_all(&dir).await?;
    ///     let path = dir.join("f"); // dir: a scratch directory
    ///     eddy::fs::write(&path, "xxxxx").await?;
    ///     let mut file = OpenOptions::new().write(true).open(&path).await?;
    ///     file.write_all(b"ab").await?;
    ///     file.flush().await?;
    ///     assert_eq!(eddy::fs::read_to_string(&path).await?, "abxxx");
    /// #     eddy::fs::remove_dir_all(&dir).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn write(&mut self, write: bool) -> &mut OpenOptions {
        self.0.write(write);
        self
    }

    /// Open for appending: every write goes to the end.
    ///
    /// ```
    /// use eddy::fs::OpenOptions;
    /// use futures::io::AsyncWriteExt;
    ///
    /// eddy::block_on(async {
    /// #     let dir = std::env::temp_dir().join(format!("eddy-doc-oo-append-{}", std::process::id()));
    /// #     eddy::fs::create_dir_all(&dir).await?;
    ///     let path = dir.join("log"); // dir: a scratch directory
    ///     eddy::fs::write(&path, "one\n").await?;
    ///     let mut log = OpenOptions::new().append(true).open(&path).await?;
    ///     log.write_all(b"two\n").await?;
    ///     log.flush().await?;
    ///     assert_eq!(eddy::fs::read_to_string(&path).await?, "one\ntwo\n");
    /// #     eddy::fs::remove_dir_all(&dir).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn append(&mut self, append: bool) -> &mut OpenOptions {
        self.0.append(append);
        self
    }

    /// Truncate the file to 0 bytes when it is opened (needs `write`).
    ///
    /// ```
    /// use eddy::fs::OpenOptions;
    ///
    /// eddy::block_on(async {
    /// #     let dir = std::env::temp_dir().join(format!("eddy-doc-oo-truncate-{}", std::process::id()));
    /// #     eddy::fs::create_dir_all(&dir).await?;
    ///     let path = dir.join("f"); // dir: a scratch directory
    ///     eddy::fs::write(&path, "old contents").await?;
    ///     OpenOptions::new().write(true).truncate(true).open(&path).await?;
    ///     assert_eq!(eddy::fs::metadata(&path).await?.len(), 0);
    /// #     eddy::fs::remove_dir_all(&dir).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn truncate(&mut self, truncate: bool) -> &mut OpenOptions {
        self.0.truncate(truncate);
        self
    }

    /// Create the file if it does not exist (needs `write` or `append`).
    ///
    /// ```
    /// use eddy::fs::OpenOptions;
    ///
    /// eddy::block_on(async {
    /// #     let dir = std::env::temp_dir().join(format!("eddy-doc-oo-create-{}", std::process::id()));
    /// #     eddy::fs::create_dir_all(&dir).await?;
    ///     let path = dir.join("made"); // dir: a scratch directory
    ///     OpenOptions::new().write(true).create(true).open(&path).await?;
    ///     assert!(eddy::fs::try_exists(&path).await?);
    /// #     eddy::fs::remove_dir_all(&dir).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn create(&mut self, create: bool) -> &mut OpenOptions {
        self.0.create(create);
        self
    }

    /// Create the file, failing with `AlreadyExists` if it exists (needs
    /// `write` or `append`; `create` and `truncate` are then ignored).
    ///
    /// ```
    /// use eddy::fs::OpenOptions;
    ///
    /// eddy::block_on(async {
    /// #     let dir = std::env::temp_dir().join(format!("eddy-doc-oo-create-new-{}", std::process::id()));
    /// #     eddy::fs::create_dir_all(&dir).await?;
    ///     let path = dir.join("once"); // dir: a scratch directory
    ///     let mut options = OpenOptions::new();
    ///     options.write(true).create_new(true);
    ///     options.open(&path).await?;
    ///     let err = options.open(&path).await.unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
    /// #     eddy::fs::remove_dir_all(&dir).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn create_new(&mut self, create_new: bool) -> &mut OpenOptions {
        self.0.create_new(create_new);
        self
    }

    /// The permission bits of a created file (before the umask).
    ///
    /// ```
    /// use std::os::unix::fs::PermissionsExt;
    /// use eddy::fs::OpenOptions;
    ///
    /// eddy::block_on(async {
    /// #     let dir = std::env::temp_dir().join(format!("eddy-doc-oo-mode-{}", std::process::id()));
    /// #     eddy::fs::create_dir_all(&dir).await?;
    ///     let path = dir.join("private"); // dir: a scratch directory
    ///     OpenOptions::new().write(true).create(true).mode(0o600).open(&path).await?;
    ///     let mode = eddy::fs::metadata(&path).await?.permissions().mode();
    ///     assert_eq!(mode & 0o077, 0); // for the owner only
    /// #     eddy::fs::remove_dir_all(&dir).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn mode(&mut self, mode: u32) -> &mut OpenOptions {
        std::os::unix::fs::OpenOptionsExt::mode(&mut self.0, mode);
        self
    }

    /// Extra `open(2)` flags (`O_NOFOLLOW`, `O_DIRECT`...).
    ///
    /// ```
    /// use eddy::fs::OpenOptions;
    ///
    /// eddy::block_on(async {
    /// #     let dir = std::env::temp_dir().join(format!("eddy-doc-oo-custom-flags-{}", std::process::id()));
    /// #     eddy::fs::create_dir_all(&dir).await?;
    ///     eddy::fs::symlink("target", dir.join("link")).await?; // dir: a scratch directory
    ///     let refused = OpenOptions::new()
    ///         .read(true)
    ///         .custom_flags(libc::O_NOFOLLOW)
    ///         .open(dir.join("link"))
    ///         .await;
    ///     assert!(refused.is_err()); // ELOOP: a link, not followed
    /// #     eddy::fs::remove_dir_all(&dir).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn custom_flags(&mut self, flags: i32) -> &mut OpenOptions {
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut self.0, flags);
        self
    }

    /// Opens `path` with these options.
    ///
    /// # Errors
    ///
    /// std's: `NotFound` (without `create`), `PermissionDenied`,
    /// `AlreadyExists` (with `create_new`), `InvalidInput` for a set of
    /// options that asks for nothing or contradicts itself (`truncate`
    /// without `write`)...
    ///
    /// # Panics
    ///
    /// If polled outside a runtime (it runs on the runtime's blocking pool).
    ///
    /// ```
    /// use eddy::fs::OpenOptions;
    ///
    /// eddy::block_on(async {
    /// #     let dir = std::env::temp_dir().join(format!("eddy-doc-oo-open-{}", std::process::id()));
    /// #     eddy::fs::create_dir_all(&dir).await?;
    ///     let err = OpenOptions::new().read(true).open(dir.join("absent")).await.unwrap_err(); // dir: a scratch directory
    ///     assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    /// #     eddy::fs::remove_dir_all(&dir).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        let options = self.0.clone();
        let std = asyncify(move || options.open(path)).await?;
        Ok(File::from_std(std))
    }
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions::new()
    }
}

impl From<std::fs::OpenOptions> for OpenOptions {
    fn from(options: std::fs::OpenOptions) -> OpenOptions {
        OpenOptions(options)
    }
}
