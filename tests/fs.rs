//! Files (API.md: "Files"): the free functions, `ReadDir`, `DirBuilder`,
//! `File` and `OpenOptions`, all on the blocking pool.
//!
//! Errors are compared with what std gives for the same call: same kind,
//! same OS error. The tests run as root, which may read and write almost
//! anything, so `PermissionDenied` comes from /proc and /sys, where even
//! root may not remove or create files.

mod common;

use std::cell::Cell;
use std::io::{self, ErrorKind, IoSlice, SeekFrom};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};

use common::*;
use eddy::fs::{self, DirBuilder, File, OpenOptions};
use eddy::time::{interval, sleep, timeout};
use futures::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

/// A scratch directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let path = TempPath::new(tag).0.clone();
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Asserts eddy's error is std's: same kind, same OS error.
#[track_caller]
fn same_error<T: std::fmt::Debug, U: std::fmt::Debug>(
    eddy: io::Result<T>,
    std: io::Result<U>,
    kind: ErrorKind,
) {
    let (e, s) = (eddy.unwrap_err(), std.unwrap_err());
    assert_eq!(e.kind(), s.kind(), "eddy: {e}, std: {s}");
    assert_eq!(e.raw_os_error(), s.raw_os_error(), "eddy: {e}, std: {s}");
    assert_eq!(e.kind(), kind, "{e}");
}

fn run<F: std::future::Future>(f: F) -> F::Output {
    eddy::block_on(f)
}

/// Runs `f` on a runtime with one blocking thread (for `read_ahead`).
fn run_one_thread<F: std::future::Future>(f: F) -> F::Output {
    eddy::Runtime::builder()
        .max_blocking_threads(1)
        .build()
        .unwrap()
        .block_on(f)
}

/// Whether this process reads files through the pool only
/// (`EDDY_NO_FAST_READS=1`: see `every_test_again_on_the_pool_path`).
fn pool_path() -> bool {
    std::env::var("EDDY_NO_FAST_READS").is_ok_and(|v| v == "1")
}

/// Leaves bytes read ahead in `file`'s buffer: a read of `ahead` bytes is
/// started and its future dropped (a `File` reads at most what the
/// caller's buffer holds, so only a dropped read leaves bytes ahead); the
/// next read gets `first.len()` of them. The runtime's one blocking
/// thread is held busy meanwhile, so the read is still queued when its
/// future is dropped. On the fast path (a cached file read on the loop's
/// thread, which leaves nothing ahead) this is a plain `read_exact`.
async fn read_ahead(file: &mut File, ahead: usize, first: &mut [u8]) {
    if !pool_path() {
        file.read_exact(first).await.unwrap();
        return;
    }
    let (release, wait) = std::sync::mpsc::channel::<()>();
    let blocker = eddy::task::spawn_blocking(move || wait.recv().ok());
    let mut big = vec![0u8; ahead];
    let started = futures::poll!(file.read(&mut big));
    assert!(started.is_pending());
    release.send(()).unwrap();
    blocker.await.unwrap();
    file.read_exact(first).await.unwrap();
}

#[test]
fn read_write_and_copy() {
    watchdog(LIMIT, || {
        run(async {
            let dir = TempDir::new("rw");
            let a = dir.join("a");
            fs::write(&a, b"hello").await.unwrap();
            assert_eq!(fs::read(&a).await.unwrap(), b"hello");
            assert_eq!(fs::read_to_string(&a).await.unwrap(), "hello");
            fs::write(&a, String::from("replaced")).await.unwrap();
            assert_eq!(std::fs::read(&a).unwrap(), b"replaced");
            let b = dir.join("b");
            assert_eq!(fs::copy(&a, &b).await.unwrap(), 8);
            assert_eq!(std::fs::read(&b).unwrap(), b"replaced");
            // Errors are std's.
            let missing = dir.join("missing");
            same_error(
                fs::read(&missing).await,
                std::fs::read(&missing),
                ErrorKind::NotFound,
            );
            same_error(
                fs::read_to_string(&missing).await,
                std::fs::read_to_string(&missing),
                ErrorKind::NotFound,
            );
            same_error(
                fs::copy(&missing, &b).await,
                std::fs::copy(&missing, &b),
                ErrorKind::NotFound,
            );
            same_error(
                fs::read(&dir.0).await,
                std::fs::read(&dir.0),
                ErrorKind::IsADirectory,
            );
            std::fs::write(&a, [0xff, 0xfe]).unwrap();
            same_error(
                fs::read_to_string(&a).await,
                std::fs::read_to_string(&a),
                ErrorKind::InvalidData,
            );
            let under_file = a.join("x");
            same_error(
                fs::write(&under_file, b"x").await,
                std::fs::write(&under_file, b"x"),
                ErrorKind::NotADirectory,
            );
        });
    });
}

#[test]
fn permission_denied_as_root() {
    watchdog(LIMIT, || {
        run(async {
            same_error(
                fs::remove_file("/proc/version").await,
                std::fs::remove_file("/proc/version"),
                ErrorKind::PermissionDenied,
            );
            let sys = "/sys/kernel/eddy-no-such-file";
            same_error(
                fs::write(sys, b"x").await,
                std::fs::write(sys, b"x"),
                ErrorKind::PermissionDenied,
            );
            same_error(
                File::create(sys).await,
                std::fs::File::create(sys),
                ErrorKind::PermissionDenied,
            );
        });
    });
}

#[test]
fn rename_remove_and_create_dirs() {
    watchdog(LIMIT, || {
        run(async {
            let dir = TempDir::new("dirs");
            let (a, b) = (dir.join("a"), dir.join("b"));
            fs::write(&a, b"x").await.unwrap();
            fs::rename(&a, &b).await.unwrap();
            assert!(!a.exists() && b.exists());
            same_error(
                fs::rename(&a, &b).await,
                std::fs::rename(&a, &b),
                ErrorKind::NotFound,
            );
            fs::remove_file(&b).await.unwrap();
            same_error(
                fs::remove_file(&b).await,
                std::fs::remove_file(&b),
                ErrorKind::NotFound,
            );

            let sub = dir.join("sub");
            fs::create_dir(&sub).await.unwrap();
            same_error(
                fs::create_dir(&sub).await,
                std::fs::create_dir(&sub),
                ErrorKind::AlreadyExists,
            );
            let deep = dir.join("x/y/z");
            same_error(
                fs::create_dir(&deep).await,
                std::fs::create_dir(&deep),
                ErrorKind::NotFound,
            );
            fs::create_dir_all(&deep).await.unwrap();
            fs::create_dir_all(&deep).await.unwrap(); // existing: fine
            fs::write(deep.join("f"), b"f").await.unwrap();
            same_error(
                fs::remove_dir(dir.join("x")).await,
                std::fs::remove_dir(dir.join("x")),
                ErrorKind::DirectoryNotEmpty,
            );
            fs::remove_dir(&sub).await.unwrap();
            fs::remove_dir_all(dir.join("x")).await.unwrap();
            assert!(!dir.join("x").exists());
            same_error(
                fs::remove_dir_all(dir.join("x")).await,
                std::fs::remove_dir_all(dir.join("x")),
                ErrorKind::NotFound,
            );
        });
    });
}

#[test]
fn metadata_links_and_permissions() {
    watchdog(LIMIT, || {
        run(async {
            let dir = TempDir::new("meta");
            let file = dir.join("file");
            fs::write(&file, b"12345").await.unwrap();
            let meta = fs::metadata(&file).await.unwrap();
            assert!(meta.is_file());
            assert_eq!(meta.len(), 5);

            let link = dir.join("link");
            fs::symlink(&file, &link).await.unwrap();
            assert!(fs::metadata(&link).await.unwrap().is_file());
            assert!(
                fs::symlink_metadata(&link)
                    .await
                    .unwrap()
                    .file_type()
                    .is_symlink()
            );
            assert_eq!(fs::read_link(&link).await.unwrap(), file);
            same_error(
                fs::read_link(&file).await,
                std::fs::read_link(&file),
                ErrorKind::InvalidInput,
            );
            assert_eq!(
                fs::canonicalize(&link).await.unwrap(),
                std::fs::canonicalize(&file).unwrap()
            );
            let missing = dir.join("missing");
            same_error(
                fs::canonicalize(&missing).await,
                std::fs::canonicalize(&missing),
                ErrorKind::NotFound,
            );
            same_error(
                fs::metadata(&missing).await,
                std::fs::metadata(&missing),
                ErrorKind::NotFound,
            );
            same_error(
                fs::symlink_metadata(&missing).await,
                std::fs::symlink_metadata(&missing),
                ErrorKind::NotFound,
            );

            assert!(fs::try_exists(&file).await.unwrap());
            assert!(!fs::try_exists(&missing).await.unwrap());
            let dangling = dir.join("dangling");
            fs::symlink(&missing, &dangling).await.unwrap();
            assert!(!fs::try_exists(&dangling).await.unwrap());
            same_error(
                fs::try_exists(file.join("x")).await,
                file.join("x").try_exists(),
                ErrorKind::NotADirectory,
            );

            let hard = dir.join("hard");
            fs::hard_link(&file, &hard).await.unwrap();
            assert_eq!(std::fs::read(&hard).unwrap(), b"12345");
            same_error(
                fs::hard_link(&file, &hard).await,
                std::fs::hard_link(&file, &hard),
                ErrorKind::AlreadyExists,
            );
            same_error(
                fs::symlink(&file, &link).await,
                std::os::unix::fs::symlink(&file, &link),
                ErrorKind::AlreadyExists,
            );

            fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                .await
                .unwrap();
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            same_error(
                fs::set_permissions(&missing, std::fs::Permissions::from_mode(0o600)).await,
                std::fs::set_permissions(&missing, std::fs::Permissions::from_mode(0o600)),
                ErrorKind::NotFound,
            );
        });
    });
}

#[test]
fn read_dir_lists_every_entry() {
    watchdog(LIMIT, || {
        run(async {
            let dir = TempDir::new("readdir");
            // More than one batch.
            for i in 0..100 {
                std::fs::write(dir.join(&format!("f{i:03}")), b"x").unwrap();
            }
            std::fs::create_dir(dir.join("sub")).unwrap();
            std::os::unix::fs::symlink("f000", dir.join("link")).unwrap();
            let mut entries = fs::read_dir(&dir.0).await.unwrap();
            assert!(format!("{entries:?}").starts_with("ReadDir"));
            let mut names = Vec::new();
            while let Some(entry) = entries.next_entry().await.unwrap() {
                let name = entry.file_name().into_string().unwrap();
                assert_eq!(entry.path(), dir.join(&name));
                let file_type = entry.file_type().await.unwrap();
                let meta = entry.metadata().await.unwrap();
                assert_eq!(meta.ino(), entry.ino());
                match name.as_str() {
                    "sub" => assert!(file_type.is_dir() && meta.is_dir()),
                    "link" => assert!(file_type.is_symlink() && meta.file_type().is_symlink()),
                    _ => assert!(file_type.is_file() && meta.len() == 1),
                }
                names.push(name);
            }
            // The end stays the end.
            assert!(entries.next_entry().await.unwrap().is_none());
            names.sort();
            let mut want: Vec<String> = (0..100).map(|i| format!("f{i:03}")).collect();
            want.extend(["link".into(), "sub".into()]);
            want.sort();
            assert_eq!(names, want);
        });
    });
}

#[test]
fn read_dir_errors_are_std_errors() {
    watchdog(LIMIT, || {
        run(async {
            let dir = TempDir::new("readdir-err");
            let missing = dir.join("missing");
            same_error(
                fs::read_dir(&missing).await,
                std::fs::read_dir(&missing),
                ErrorKind::NotFound,
            );
            let file = dir.join("file");
            std::fs::write(&file, b"").unwrap();
            same_error(
                fs::read_dir(&file).await,
                std::fs::read_dir(&file),
                ErrorKind::NotADirectory,
            );
            // An entry removed after it was listed: its metadata is gone.
            let mut entries = fs::read_dir(&dir.0).await.unwrap();
            let entry = entries.next_entry().await.unwrap().unwrap();
            std::fs::remove_file(&file).unwrap();
            let err = entry.metadata().await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NotFound);
            assert!(format!("{entry:?}").contains("file"));
        });
    });
}

#[test]
fn dir_builder() {
    watchdog(LIMIT, || {
        run(async {
            let dir = TempDir::new("dirbuilder");
            let deep = dir.join("a/b/c");
            let err = DirBuilder::new().create(&deep).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NotFound);
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&deep)
                .await
                .unwrap();
            let mode = std::fs::metadata(&deep).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
            DirBuilder::new()
                .recursive(true)
                .create(&deep)
                .await
                .unwrap();
            let err = DirBuilder::new().create(&deep).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::AlreadyExists);
        });
    });
}

#[test]
fn file_write_seek_read_round_trip() {
    watchdog(LIMIT, || {
        run_one_thread(async {
            let dir = TempDir::new("file-rt");
            let path = dir.join("f");
            let data = pattern(300_000, 1);
            let mut file = File::create(&path).await.unwrap();
            file.set_max_buf_size(64 * 1024); // several chunks each way
            file.write_all(&data).await.unwrap();
            file.flush().await.unwrap();
            assert_same(&std::fs::read(&path).unwrap(), &data, "written");

            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .await
                .unwrap();
            file.set_max_buf_size(10_000);
            let mut back = Vec::new();
            file.read_to_end(&mut back).await.unwrap();
            assert_same(&back, &data, "read back");

            // Seek, with bytes read ahead given back.
            assert_eq!(file.seek(SeekFrom::Start(100)).await.unwrap(), 100);
            let mut five = [0u8; 5];
            read_ahead(&mut file, 10_000, &mut five).await;
            assert_eq!(&five, &data[100..105]);
            assert_eq!(file.seek(SeekFrom::Current(0)).await.unwrap(), 105);
            file.read_exact(&mut five).await.unwrap(); // from the buffer
            assert_eq!(&five, &data[105..110]);
            assert_eq!(file.seek(SeekFrom::Current(-10)).await.unwrap(), 100);
            assert_eq!(
                file.seek(SeekFrom::End(-1)).await.unwrap(),
                data.len() as u64 - 1
            );
            let err = file.seek(SeekFrom::Current(-1_000_000)).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput);

            // A write after a partial read lands where the reader is.
            file.seek(SeekFrom::Start(0)).await.unwrap();
            read_ahead(&mut file, 10_000, &mut five).await;
            file.write_all(b"XYZ").await.unwrap();
            // One operation at a time: the read sees the write.
            file.seek(SeekFrom::Start(3)).await.unwrap();
            let mut got = [0u8; 7];
            file.read_exact(&mut got).await.unwrap();
            assert_eq!(&got[..2], &data[3..5]);
            assert_eq!(&got[2..5], b"XYZ");
            assert_eq!(&got[5..], &data[8..10]);
            file.flush().await.unwrap();

            // Vectored writes, empty slices included.
            let mut file = File::create(dir.join("v")).await.unwrap();
            let bufs = [IoSlice::new(b""), IoSlice::new(b"ab"), IoSlice::new(b"cd")];
            assert_eq!(file.write_vectored(&bufs).await.unwrap(), 4);
            assert_eq!(file.write(b"").await.unwrap(), 0);
            file.close().await.unwrap();
            assert_eq!(std::fs::read(dir.join("v")).unwrap(), b"abcd");

            // Reading at the end gives 0, and again after the file grew.
            let mut file = File::open(dir.join("v")).await.unwrap();
            let mut buf = [0u8; 16];
            assert_eq!(file.read(&mut buf).await.unwrap(), 4);
            assert_eq!(file.read(&mut buf).await.unwrap(), 0);
            std::fs::OpenOptions::new()
                .append(true)
                .open(dir.join("v"))
                .and_then(|mut f| std::io::Write::write_all(&mut f, b"e"))
                .unwrap();
            assert_eq!(file.read(&mut buf).await.unwrap(), 1);
            assert_eq!(file.read(&mut [][..]).await.unwrap(), 0);
        });
    });
}

#[test]
fn flush_and_close_report_a_failed_write() {
    watchdog(LIMIT, || {
        run(async {
            // /dev/full: every write fails with ENOSPC, on the pool.
            let mut full = OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .await
                .unwrap();
            full.write_all(b"lost").await.unwrap(); // buffered: fine so far
            let err = full.flush().await.unwrap_err();
            assert_eq!(err.raw_os_error(), Some(libc::ENOSPC), "{err}");
            // Reported once; the file is usable again.
            full.flush().await.unwrap();
            full.write_all(b"lost again").await.unwrap();
            let err = full.close().await.unwrap_err();
            assert_eq!(err.raw_os_error(), Some(libc::ENOSPC), "{err}");

            // The next write reports it too, when no flush came between.
            full.write_all(b"x").await.unwrap();
            let mut waited = 0;
            let err = loop {
                // The failed write is in flight or done; a later write
                // waits for it and refuses its bytes with the error.
                match full.write(b"y").await {
                    Ok(_) => waited += 1,
                    Err(e) => break e,
                }
                assert!(waited < 3, "no error reported");
            };
            assert_eq!(err.raw_os_error(), Some(libc::ENOSPC), "{err}");

            // Writing to a file opened read-only: EBADF, at flush.
            let dir = TempDir::new("ro");
            std::fs::write(dir.join("r"), b"r").unwrap();
            let mut ro = File::open(dir.join("r")).await.unwrap();
            ro.write_all(b"nope").await.unwrap();
            let err = ro.flush().await.unwrap_err();
            assert_eq!(err.raw_os_error(), Some(libc::EBADF), "{err}");

            // sync_all reports a failed buffered write too.
            let mut full = OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .await
                .unwrap();
            full.write_all(b"z").await.unwrap();
            let err = full.sync_all().await.unwrap_err();
            assert_eq!(err.raw_os_error(), Some(libc::ENOSPC), "{err}");
        });
    });
}

#[test]
fn file_open_options_and_create() {
    watchdog(LIMIT, || {
        run(async {
            let dir = TempDir::new("open");
            let path = dir.join("f");
            same_error(
                File::open(&path).await,
                std::fs::File::open(&path),
                ErrorKind::NotFound,
            );
            let mut f = File::create_new(&path).await.unwrap();
            f.write_all(b"first").await.unwrap();
            f.flush().await.unwrap();
            same_error(
                File::create_new(&path).await,
                std::fs::File::create_new(&path),
                ErrorKind::AlreadyExists,
            );
            same_error(
                OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&path)
                    .await,
                std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&path),
                ErrorKind::AlreadyExists,
            );
            // Append.
            let mut f = File::options().append(true).open(&path).await.unwrap();
            f.write_all(b"+more").await.unwrap();
            f.flush().await.unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), b"first+more");
            // Truncate, mode, custom flags.
            let mut f = OpenOptions::new()
                .write(true)
                .truncate(true)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&path)
                .await
                .unwrap();
            f.write_all(b"t").await.unwrap();
            f.flush().await.unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), b"t");
            let created = dir.join("mode");
            OpenOptions::new()
                .write(true)
                .create(true)
                .mode(0o640)
                .open(&created)
                .await
                .unwrap();
            let mode = std::fs::metadata(&created).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o640);
            // No access mode at all: std's InvalidInput.
            same_error(
                OpenOptions::new().open(&path).await,
                std::fs::OpenOptions::new().open(&path),
                ErrorKind::InvalidInput,
            );
            let from_std: OpenOptions = std::fs::OpenOptions::new().read(true).clone().into();
            from_std.open(&path).await.unwrap();
            // File::create truncates.
            File::create(&path).await.unwrap();
            assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
        });
    });
}

#[test]
fn file_sync_set_len_metadata_clone_and_std() {
    watchdog(LIMIT, || {
        run_one_thread(async {
            let dir = TempDir::new("file-misc");
            let path = dir.join("f");
            std::fs::write(&path, b"0123456789").unwrap();
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .await
                .unwrap();
            let mut two = [0u8; 2];
            read_ahead(&mut file, 10, &mut two).await;
            file.set_len(5).await.unwrap();
            assert_eq!(file.metadata().await.unwrap().len(), 5);
            // The position is where the reader was.
            assert_eq!(file.seek(SeekFrom::Current(0)).await.unwrap(), 2);
            file.set_len(8).await.unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), b"01234\0\0\0");
            file.write_all(b"ab").await.unwrap();
            file.sync_all().await.unwrap();
            file.sync_data().await.unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), b"01ab4\0\0\0");

            file.set_permissions(std::fs::Permissions::from_mode(0o604))
                .await
                .unwrap();
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o604);

            // A clone shares the position.
            let mut clone = file.try_clone().await.unwrap();
            clone.seek(SeekFrom::Start(1)).await.unwrap();
            let mut one = [0u8; 1];
            read_ahead(&mut file, 10, &mut one).await;
            assert_eq!(&one, b"1");

            // into_std: the position the reader left (read-ahead given back).
            let mut std_file = file.into_std().await;
            assert_eq!(std::io::Seek::stream_position(&mut std_file).unwrap(), 2);
            let file = File::from_std(std_file);
            assert!(format!("{file:?}").starts_with("File"));
            let std_file = file.try_into_std().unwrap();
            let mut file = File::from(std_file);
            file.read_exact(&mut one).await.unwrap();
            assert_eq!(&one, b"a");
            // Reads take what the caller's buffer holds: nothing ahead.
            let mut file = File::from(file.try_into_std().unwrap());
            read_ahead(&mut file, 10, &mut one).await;
            // Bytes read ahead (on the pool path): not given back at once.
            let file = match file.try_into_std() {
                Ok(_) if pool_path() => panic!("bytes read ahead, yet given back at once"),
                Ok(std_file) => File::from_std(std_file),
                Err(file) => file,
            };
            let mut std_file = file.into_std().await;
            assert_eq!(std::io::Seek::stream_position(&mut std_file).unwrap(), 4);
        });
    });
}

#[test]
fn try_clone_keeps_max_buf_size_and_from_raw_fd_takes_a_descriptor() {
    use std::os::fd::{FromRawFd, IntoRawFd};
    watchdog(LIMIT, || {
        run(async {
            let dir = TempDir::new("clone-buf");
            let path = dir.join("f");
            std::fs::write(&path, b"hello").unwrap();
            let mut file = File::open(&path).await.unwrap();
            assert_eq!(file.max_buf_size(), 2 * 1024 * 1024);
            file.set_max_buf_size(128);
            // As tokio's: a clone is configured like its original.
            assert_eq!(file.try_clone().await.unwrap().max_buf_size(), 128);

            let fd = file.into_std().await.into_raw_fd();
            // SAFETY: `fd` is open and owned by nothing else (into_raw_fd
            // gave it up).
            let mut file = unsafe { File::from_raw_fd(fd) };
            let mut got = String::new();
            file.read_to_string(&mut got).await.unwrap();
            assert_eq!(got, "hello");
        });
    });
}

#[test]
fn a_read_takes_what_was_asked_and_no_more() {
    watchdog(LIMIT, || {
        let dir = TempDir::new("ahead");
        let path = dir.join("f");
        let data = pattern(3 << 20, 3);
        std::fs::write(&path, &data).unwrap();
        let fifo = dir.join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: mkfifo reads a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let writer_path = fifo.clone();
        let writer = std::thread::spawn(move || {
            let mut w = std::fs::OpenOptions::new()
                .write(true)
                .open(&writer_path)
                .unwrap();
            std::io::Write::write_all(&mut w, b"abcdefgh").unwrap();
        });
        run(async {
            // A regular file: the position is where the reader is.
            let mut file = File::open(&path).await.unwrap();
            let mut chunk = vec![0u8; 1 << 20];
            file.read_exact(&mut chunk).await.unwrap();
            assert_same(&chunk, &data[..1 << 20], "first MiB");
            assert_eq!(file.seek(SeekFrom::Current(0)).await.unwrap(), 1 << 20);
            file.read_exact(&mut chunk).await.unwrap();
            assert_same(&chunk, &data[1 << 20..2 << 20], "second MiB");
            let mut std_file = file.into_std().await;
            assert_eq!(
                std::io::Seek::stream_position(&mut std_file).unwrap(),
                2 << 20
            );
            // A FIFO: what a read did not ask for stays in the pipe.
            let mut file = File::open(&fifo).await.unwrap();
            let mut four = [0u8; 4];
            file.read_exact(&mut four).await.unwrap();
            assert_eq!(&four, b"abcd");
            let mut std_file = file.into_std().await;
            let mut rest = String::new();
            std::io::Read::read_to_string(&mut std_file, &mut rest).unwrap();
            assert_eq!(rest, "efgh");
        });
        writer.join().unwrap();
    });
}

#[test]
fn set_max_buf_size_caps_each_read_and_write() {
    watchdog(LIMIT, || {
        run(async {
            let dir = TempDir::new("maxbuf");
            let path = dir.join("f");
            let mut file = File::create(&path).await.unwrap();
            file.set_max_buf_size(10);
            // A write takes at most 10 bytes at a time.
            assert_eq!(file.write(&[1u8; 100]).await.unwrap(), 10);
            file.write_all(&[2u8; 90]).await.unwrap();
            file.flush().await.unwrap();
            let mut file = File::open(&path).await.unwrap();
            file.set_max_buf_size(10);
            let mut buf = [0u8; 100];
            assert_eq!(file.read(&mut buf).await.unwrap(), 10);
            assert_eq!(&buf[..10], &[1u8; 10]);
        });
    });
}

/// Every test of this file again, in a child process that reads files
/// through the pool only (`EDDY_NO_FAST_READS=1`), as a system without
/// `RWF_NOWAIT` would.
#[test]
fn every_test_again_on_the_pool_path() {
    if pool_path() {
        return;
    }
    watchdog(LIMIT * 3, || {
        let exe = std::env::current_exe().unwrap();
        // The 64 MiB one is left out: it reads through the pool here too
        // (one read in five), and two copies of it at once only load the
        // machine.
        let out = std::process::Command::new(exe)
            .args([
                "--test-threads=2",
                "--skip",
                "a_timer_keeps_firing_while_a_64_mib_file_is_read",
            ])
            .env("EDDY_NO_FAST_READS", "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("test result: ok"),
            "the pool-path run failed ({}):\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    });
}

/// Whether the file system under `path` serves `preadv2(RWF_NOWAIT)`.
fn supports_nowait(path: &std::path::Path) -> bool {
    use std::os::fd::AsRawFd;
    let file = std::fs::File::open(path).unwrap();
    let mut byte = [0u8; 1];
    let iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    // SAFETY: one iovec pointing to a live 1-byte buffer.
    let n = unsafe { libc::preadv2(file.as_raw_fd(), &iov, 1, 0, libc::RWF_NOWAIT) };
    n >= 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EAGAIN)
}

#[test]
fn cached_reads_skip_the_pool_but_not_for_ever() {
    if pool_path() {
        return;
    }
    watchdog(LIMIT, || {
        let dir = TempDir::new("fast");
        let path = dir.join("f");
        let data = pattern(6 << 20, 5);
        std::fs::write(&path, &data).unwrap(); // in the page cache now
        if !supports_nowait(&path) {
            println!("skipped: no RWF_NOWAIT on this file system");
            return;
        }
        run_one_thread(async {
            let mut file = File::open(&path).await.unwrap();
            // The only pool thread is busy from here on.
            let (release, wait) = std::sync::mpsc::channel::<()>();
            let blocker = eddy::task::spawn_blocking(move || wait.recv().ok());
            let mut chunk = vec![0u8; 1 << 20];
            // About 4 MiB come from the page cache, on this thread.
            for i in 0..4 {
                let n = timeout(Duration::from_secs(5), file.read(&mut chunk))
                    .await
                    .expect("a cached read waited for the pool")
                    .unwrap();
                assert_eq!(n, 1 << 20);
                assert_same(&chunk, &data[i << 20..(i + 1) << 20], "a cached MiB");
            }
            // Then one read goes to the pool: it waits for the thread.
            let mut read = Box::pin(file.read(&mut chunk));
            assert!(futures::poll!(read.as_mut()).is_pending());
            release.send(()).unwrap();
            blocker.await.unwrap();
            assert_eq!(read.await.unwrap(), 1 << 20);
            assert_same(&chunk, &data[4 << 20..5 << 20], "the MiB read on the pool");
            // And the page cache again after that.
            let (release, wait) = std::sync::mpsc::channel::<()>();
            let blocker = eddy::task::spawn_blocking(move || wait.recv().ok());
            let n = timeout(Duration::from_secs(5), file.read(&mut chunk))
                .await
                .expect("a cached read waited for the pool")
                .unwrap();
            assert_eq!(n, 1 << 20);
            release.send(()).unwrap();
            blocker.await.unwrap();
        });
    });
}

#[test]
fn set_max_buf_size_zero_panics() {
    let msg = catch(|| {
        let mut file = File::from_std(std::fs::File::open("/dev/null").unwrap());
        file.set_max_buf_size(0);
    })
    .unwrap_err();
    assert_eq!(msg, "eddy: File::set_max_buf_size must be at least 1");
}

#[test]
fn fs_outside_a_runtime_panics_with_a_message() {
    let msg = catch(|| futures::executor::block_on(fs::read("/dev/null"))).unwrap_err();
    assert!(
        msg.starts_with("eddy: `eddy::fs` was called outside a runtime"),
        "{msg}"
    );
}

#[test]
fn a_timer_keeps_firing_while_a_64_mib_file_is_read() {
    watchdog(LIMIT * 2, || {
        let dir = TempDir::new("big");
        let path = dir.join("big");
        let data = pattern(64 << 20, 7);
        std::fs::write(&path, &data).unwrap();
        run(async {
            let ticks = Rc::new(Cell::new(0u32));
            let worst = Rc::new(Cell::new(Duration::ZERO));
            let (t, w) = (ticks.clone(), worst.clone());
            let ticker = eddy::spawn(async move {
                let mut every = interval(Duration::from_millis(2));
                every.tick().await;
                loop {
                    // How long after its scheduled instant each tick ran.
                    let late = every.tick().await.elapsed();
                    w.set(w.get().max(late));
                    t.set(t.get() + 1);
                }
            });
            let start = Instant::now();
            let mut file = File::open(&path).await.unwrap();
            let mut chunk = vec![0u8; 1 << 20];
            let mut got = Vec::with_capacity(data.len());
            loop {
                let n = file.read(&mut chunk).await.unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&chunk[..n]);
            }
            let took = start.elapsed();
            ticker.abort();
            assert_same(&got, &data, "the 64 MiB file");
            // Ticks kept coming during the read, never far behind. (A loop
            // held for the whole read would show no tick at all; the bound
            // on lateness is generous because this machine is shared, and
            // a descheduled test thread is late whatever the runtime does.)
            assert!(ticks.get() >= 2, "{} ticks in {took:?}", ticks.get());
            assert!(
                worst.get() < Duration::from_millis(250),
                "a tick came {:?} late",
                worst.get()
            );
        });
    });
}

#[test]
fn a_read_that_waits_does_not_block_the_loop() {
    watchdog(LIMIT, || {
        // A FIFO: the read waits for a writer, as a slow disk would.
        let dir = TempDir::new("fifo");
        let fifo = dir.join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: mkfifo reads a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let writer_path = fifo.clone();
        let writer = std::thread::spawn(move || {
            let mut w = std::fs::OpenOptions::new()
                .write(true)
                .open(&writer_path)
                .unwrap();
            rx.recv().unwrap();
            std::io::Write::write_all(&mut w, b"late").unwrap();
        });
        run(async move {
            let ticks = Rc::new(Cell::new(0u32));
            let t = ticks.clone();
            let ticker = eddy::spawn(async move {
                loop {
                    sleep(Duration::from_millis(1)).await;
                    t.set(t.get() + 1);
                }
            });
            let reader = eddy::spawn(async move {
                let mut file = File::open(&fifo).await.unwrap();
                let mut buf = Vec::new();
                file.read_to_end(&mut buf).await.unwrap();
                buf
            });
            // The loop runs on while the read waits in the pool.
            while ticks.get() < 20 {
                sleep(Duration::from_millis(1)).await;
            }
            assert!(!reader.is_finished());
            tx.send(()).unwrap();
            let got = timeout(Duration::from_secs(5), reader)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(got, b"late");
            ticker.abort();
        });
        writer.join().unwrap();
    });
}

/// Every name of API.md's "Files" with the exact argument, return and
/// trait types it writes: it compiles only if they hold, and runs nothing.
#[test]
#[allow(
    unused_must_use,
    clippy::let_underscore_future,
    clippy::redundant_closure
)]
fn signatures_as_api_md_writes_them() {
    use std::io;
    fn aw<T: futures_io::AsyncWrite>() {}
    fn ar<T: futures_io::AsyncRead>() {}
    use eddy::fs;
    let _ = || {
        fut::<io::Result<Vec<u8>>, _>(fs::read("a"));
        fut::<io::Result<String>, _>(fs::read_to_string("a"));
        fut::<io::Result<()>, _>(fs::write("a", b"x"));
        fut::<io::Result<u64>, _>(fs::copy("a", "b"));
        fut::<io::Result<()>, _>(fs::rename("a", "b"));
        fut::<io::Result<()>, _>(fs::remove_file("a"));
        fut::<io::Result<()>, _>(fs::remove_dir("a"));
        fut::<io::Result<()>, _>(fs::remove_dir_all("a"));
        fut::<io::Result<()>, _>(fs::create_dir("a"));
        fut::<io::Result<()>, _>(fs::create_dir_all("a"));
        fut::<io::Result<std::fs::Metadata>, _>(fs::metadata("a"));
        fut::<io::Result<std::fs::Metadata>, _>(fs::symlink_metadata("a"));
        fut::<io::Result<std::path::PathBuf>, _>(fs::canonicalize("a"));
        fut::<io::Result<bool>, _>(fs::try_exists("a"));
        fut::<io::Result<()>, _>(fs::set_permissions(
            "a",
            <std::fs::Permissions as PermissionsExt>::from_mode(0o644),
        ));
        fut::<io::Result<()>, _>(fs::hard_link("a", "b"));
        fut::<io::Result<()>, _>(fs::symlink("a", "b"));
        fut::<io::Result<std::path::PathBuf>, _>(fs::read_link("a"));
        fut::<io::Result<fs::ReadDir>, _>(fs::read_dir("a"));
        let _ = fs::DirBuilder::new();
    };
    let _ = |r: &mut fs::ReadDir| fut::<io::Result<Option<fs::DirEntry>>, _>(r.next_entry());
    let _ = |e: &fs::DirEntry| {
        let _: std::path::PathBuf = e.path();
        let _: std::ffi::OsString = e.file_name();
        fut::<io::Result<std::fs::Metadata>, _>(e.metadata());
        fut::<io::Result<std::fs::FileType>, _>(e.file_type());
    };
    use fs::File;
    fn seek<T: futures_io::AsyncSeek>() {}
    ar::<File>();
    aw::<File>();
    seek::<File>();
    let _ = || {
        fut::<io::Result<File>, _>(File::open("a"));
        fut::<io::Result<File>, _>(File::create("a"));
        fut::<io::Result<File>, _>(
            fs::OpenOptions::new()
                .read(true)
                .write(true)
                .append(true)
                .truncate(true)
                .create(true)
                .create_new(true)
                .open("a"),
        );
    };
    let _ = |f: &mut File| {
        fut::<io::Result<()>, _>(f.sync_all());
        fut::<io::Result<()>, _>(f.sync_data());
        fut::<io::Result<()>, _>(f.set_len(3u64));
        fut::<io::Result<std::fs::Metadata>, _>(f.metadata());
        fut::<io::Result<File>, _>(f.try_clone());
        f.set_max_buf_size(3usize);
    };
    let _: fn(std::fs::File) -> File = File::from_std;
    let _ = |f: File| fut::<std::fs::File, _>(f.into_std());
}
