//! Child processes: [`Command`] starts one, [`Child`] waits for it and
//! talks to it through non-blocking pipes. This is asyncio's
//! `create_subprocess_exec`.
//!
//! `Command` is std's `Command` underneath (the same builder methods, the
//! same `fork`/`exec` and the same errors: a missing program is
//! `NotFound` from [`spawn`](Command::spawn)). What eddy adds is the
//! waiting: the child's pipes are registered with the reactor like
//! sockets, through [`io::Async`](crate::io::Async), and its exit is
//! noticed through a pidfd on the reactor (Linux 5.3+), or else through
//! `SIGCHLD` and [`signal`](crate::signal); see `child.rs`. No thread per
//! child, no polling, and no zombie: a [`Child`] dropped while its process
//! runs is reaped when it exits (and killed first if
//! [`kill_on_drop`](Command::kill_on_drop) was set).
//!
//! Setting the environment variable `EDDY_NO_PIDFD=1` makes eddy use the
//! `SIGCHLD` path even where pidfds exist (for testing it).
//!
//! ```
//! use eddy::process::Command;
//!
//! eddy::block_on(async {
//!     let output = Command::new("echo").arg("hello").output().await?;
//!     assert!(output.status.success());
//!     assert_eq!(output.stdout, b"hello\n");
//!     Ok::<(), std::io::Error>(())
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::ffi::OsStr;
use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::path::Path;
use std::pin::pin;
use std::process::{ExitStatus, Output, Stdio};
use std::task::Poll;

mod child;
mod pipes;

use self::child::Running;
pub use self::pipes::{ChildStderr, ChildStdin, ChildStdout};

/// A builder for a child process: std's [`Command`](std::process::Command)
/// with async [`spawn`](Command::spawn), [`output`](Command::output) and
/// [`status`](Command::status), and [`kill_on_drop`](Command::kill_on_drop).
///
/// By default the child inherits stdin, stdout and stderr (for `spawn`
/// and `status`); `output` pipes stdout and stderr and gives the child a
/// null stdin, unless they were set. As with std's.
///
/// ```
/// use std::process::Stdio;
/// use eddy::process::Command;
/// use futures::io::{AsyncReadExt, AsyncWriteExt};
///
/// eddy::block_on(async {
///     let mut child = Command::new("cat")
///         .stdin(Stdio::piped())
///         .stdout(Stdio::piped())
///         .spawn()?;
///     let mut stdin = child.stdin.take().unwrap();
///     stdin.write_all(b"meow").await?;
///     drop(stdin); // cat sees the end of its input
///     let mut echoed = String::new();
///     child.stdout.as_mut().unwrap().read_to_string(&mut echoed).await?;
///     assert_eq!(echoed, "meow");
///     assert!(child.wait().await?.success());
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Command {
    std: std::process::Command,
    kill_on_drop: bool,
    /// Which of stdin, stdout, stderr were set through this builder
    /// (`output` only gives defaults to the others).
    stdio_set: [bool; 3],
}

impl Command {
    /// A command that runs `program` (looked up in `PATH` unless it holds
    /// a `/`), with no arguments, the parent's environment and directory.
    /// Nothing runs until [`spawn`](Command::spawn),
    /// [`output`](Command::output) or [`status`](Command::status).
    ///
    /// ```
    /// use eddy::process::Command;
    ///
    /// eddy::block_on(async {
    ///     let status = Command::new("true").status().await?;
    ///     assert!(status.success());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command::from(std::process::Command::new(program))
    }

    /// Adds an argument, passed to the program as it is (no shell splits
    /// or expands it).
    ///
    /// ```
    /// use eddy::process::Command;
    ///
    /// eddy::block_on(async {
    ///     let out = Command::new("echo").arg("-n").arg("two words").output().await?;
    ///     assert_eq!(out.stdout, b"two words");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds arguments, in order.
    ///
    /// ```
    /// use eddy::process::Command;
    ///
    /// eddy::block_on(async {
    ///     let out = Command::new("sh").args(["-c", "echo $1-$2", "sh", "a", "b"]).output().await?;
    ///     assert_eq!(out.stdout, b"a-b\n");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable for the child (the parent's own
    /// environment does not change).
    ///
    /// ```
    /// use eddy::process::Command;
    ///
    /// eddy::block_on(async {
    ///     let out = Command::new("printenv").arg("GREETING").env("GREETING", "hi").output().await?;
    ///     assert_eq!(out.stdout, b"hi\n");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn env(&mut self, key: impl AsRef<OsStr>, val: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, val);
        self
    }

    /// Sets environment variables for the child.
    ///
    /// ```
    /// use eddy::process::Command;
    ///
    /// eddy::block_on(async {
    ///     let out = Command::new("sh")
    ///         .args(["-c", "echo $A$B"])
    ///         .envs([("A", "1"), ("B", "2")])
    ///         .output()
    ///         .await?;
    ///     assert_eq!(out.stdout, b"12\n");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes an environment variable from the child's environment.
    ///
    /// ```
    /// use eddy::process::Command;
    ///
    /// eddy::block_on(async {
    ///     let status = Command::new("printenv")
    ///         .arg("GONE")
    ///         .env("GONE", "here")
    ///         .env_remove("GONE")
    ///         .status()
    ///         .await?;
    ///     assert_eq!(status.code(), Some(1)); // printenv: no such variable
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Gives the child an empty environment (before the `env` calls).
    ///
    /// ```
    /// use eddy::process::Command;
    ///
    /// eddy::block_on(async {
    ///     let out = Command::new("/usr/bin/env").env_clear().env("ONLY", "1").output().await?;
    ///     assert_eq!(out.stdout, b"ONLY=1\n");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// Sets the name the child sees as its `argv[0]` (by default, the
    /// program as given to [`new`](Command::new)), as std's and tokio's
    /// Unix `arg0`.
    ///
    /// ```
    /// use eddy::process::Command;
    ///
    /// eddy::block_on(async {
    ///     let out = Command::new("sh").arg0("renamed").args(["-c", "echo $0"]).output().await?;
    ///     assert_eq!(out.stdout, b"renamed\n");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn arg0(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        std::os::unix::process::CommandExt::arg0(&mut self.std, arg);
        self
    }

    /// Sets the child's working directory. A relative program path is
    /// looked up from the parent's directory, not this one.
    ///
    /// ```
    /// use eddy::process::Command;
    ///
    /// eddy::block_on(async {
    ///     let out = Command::new("pwd").current_dir("/").output().await?;
    ///     assert_eq!(out.stdout, b"/\n");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// Sets the child's stdin (`Stdio::piped()` gives
    /// [`Child::stdin`] a [`ChildStdin`]).
    ///
    /// ```
    /// use std::process::Stdio;
    /// use eddy::process::Command;
    ///
    /// eddy::block_on(async {
    ///     // Null: the child reads end of file at once.
    ///     let out = Command::new("cat").stdin(Stdio::null()).output().await?;
    ///     assert!(out.stdout.is_empty());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdin(cfg);
        self.stdio_set[0] = true;
        self
    }

    /// Sets the child's stdout (`Stdio::piped()` gives
    /// [`Child::stdout`] a [`ChildStdout`]).
    ///
    /// ```
    /// use std::process::Stdio;
    /// use eddy::process::Command;
    /// use futures::io::AsyncReadExt;
    ///
    /// eddy::block_on(async {
    ///     let mut child = Command::new("echo").arg("piped").stdout(Stdio::piped()).spawn()?;
    ///     let mut text = String::new();
    ///     child.stdout.take().unwrap().read_to_string(&mut text).await?;
    ///     assert_eq!(text, "piped\n");
    ///     child.wait().await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdout(cfg);
        self.stdio_set[1] = true;
        self
    }

    /// Sets the child's stderr (`Stdio::piped()` gives
    /// [`Child::stderr`] a [`ChildStderr`]).
    ///
    /// ```
    /// use std::process::Stdio;
    /// use eddy::process::Command;
    ///
    /// eddy::block_on(async {
    ///     // Set, so `output` leaves it as it is: here, thrown away.
    ///     let out = Command::new("sh")
    ///         .args(["-c", "echo noise >&2; echo data"])
    ///         .stderr(Stdio::null())
    ///         .output()
    ///         .await?;
    ///     assert!(out.stderr.is_empty());
    ///     assert_eq!(out.stdout, b"data\n");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stderr(cfg);
        self.stdio_set[2] = true;
        self
    }

    /// Whether a [`Child`] dropped while its process runs kills it
    /// (`SIGKILL`) before it is reaped. Off by default, as in tokio: the
    /// process then runs on, and is reaped when it exits.
    ///
    /// ```
    /// use eddy::process::Command;
    ///
    /// eddy::block_on(async {
    ///     let child = Command::new("sleep").arg("60").kill_on_drop(true).spawn()?;
    ///     drop(child); // killed now, not in a minute; the runtime reaps it
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn kill_on_drop(&mut self, kill_on_drop: bool) -> &mut Command {
        self.kill_on_drop = kill_on_drop;
        self
    }

    /// std's command underneath, for what this builder does not offer
    /// (`std::os::unix::process::CommandExt`: `uid`, `process_group`...).
    ///
    /// ```
    /// use eddy::process::Command;
    ///
    /// let mut cmd = Command::new("echo");
    /// cmd.arg("hi");
    /// assert_eq!(cmd.as_std().get_program(), "echo");
    /// assert_eq!(cmd.as_std().get_args().collect::<Vec<_>>(), ["hi"]);
    /// ```
    pub fn as_std(&self) -> &std::process::Command {
        &self.std
    }

    /// std's command underneath, to change. Stdio set through it counts
    /// as not set for [`output`](Command::output).
    ///
    /// ```
    /// use std::os::unix::process::CommandExt;
    /// use eddy::process::Command;
    ///
    /// eddy::block_on(async {
    ///     // The child leads a process group of its own, so a ctrl-c in the
    ///     // terminal does not reach it.
    ///     let mut cmd = Command::new("true");
    ///     cmd.as_std_mut().process_group(0);
    ///     assert!(cmd.status().await?.success());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// Starts the program and returns its [`Child`], with a pipe in
    /// `stdin`/`stdout`/`stderr` for each stream set to `Stdio::piped()`.
    ///
    /// # Errors
    ///
    /// std's, when the program cannot be started (`NotFound` for a
    /// missing program, `PermissionDenied` for one that is not
    /// executable); the OS's when its pipes or its exit cannot be watched
    /// (the child is then killed and reaped).
    ///
    /// # Panics
    ///
    /// Outside a runtime (the pipes and the exit register with it).
    ///
    /// ```
    /// use eddy::process::Command;
    ///
    /// eddy::block_on(async {
    ///     let err = Command::new("no-such-program-here").spawn().unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    ///     let mut child = Command::new("true").spawn()?;
    ///     assert!(child.wait().await?.success());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn spawn(&mut self) -> io::Result<Child> {
        assert!(
            crate::runtime::in_runtime(),
            "eddy: `Command::spawn` was called outside a runtime; call it from inside \
             `block_on`, `turn` or a task"
        );
        child::reap_orphans();
        let mut std_child = self.std.spawn()?;
        let (stdin, stdout, stderr) = (
            std_child.stdin.take(),
            std_child.stdout.take(),
            std_child.stderr.take(),
        );
        let mut child = Child {
            stdin: None,
            stdout: None,
            stderr: None,
            state: State::Running(Running::watch(std_child)?),
            kill_on_drop: self.kill_on_drop,
        };
        let pipes = (|| {
            child.stdin = stdin.map(ChildStdin::from_std).transpose()?;
            child.stdout = stdout.map(ChildStdout::from_std).transpose()?;
            child.stderr = stderr.map(ChildStderr::from_std).transpose()?;
            Ok(())
        })();
        if let Err(e) = pipes {
            child.kill_on_drop = true;
            return Err(e);
        }
        Ok(child)
    }

    /// Runs the program to its end and collects what it wrote: stdout and
    /// stderr are piped and stdin is null unless set otherwise, as std's
    /// `output`. Both pipes are read at once, so a child that writes a lot
    /// to both never blocks.
    ///
    /// Those defaults are for this run only: afterwards, a stream not set
    /// through this builder's [`stdin`](Command::stdin),
    /// [`stdout`](Command::stdout) or [`stderr`](Command::stderr) is back to
    /// `inherit`, which is `spawn`'s default. A stream set on the std
    /// command, before [`From`] or through [`as_std_mut`](Command::as_std_mut),
    /// is not known to this builder (std cannot tell): `output` replaces it,
    /// and it is `inherit` afterwards too.
    ///
    /// # Errors
    ///
    /// Those of [`spawn`](Command::spawn) and of reading the pipes.
    ///
    /// # Panics
    ///
    /// If polled outside a runtime.
    ///
    /// ```
    /// use eddy::process::Command;
    ///
    /// eddy::block_on(async {
    ///     let out = Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]).output().await?;
    ///     assert_eq!(out.status.code(), Some(3));
    ///     assert_eq!(out.stdout, b"out\n");
    ///     assert_eq!(out.stderr, b"err\n");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn output(&mut self) -> io::Result<Output> {
        let [stdin, stdout, stderr] = self.stdio_set;
        if !stdin {
            self.std.stdin(Stdio::null());
        }
        if !stdout {
            self.std.stdout(Stdio::piped());
        }
        if !stderr {
            self.std.stderr(Stdio::piped());
        }
        let child = self.spawn();
        // Back to `spawn`'s defaults for the streams the caller did not set.
        for (set, which) in [(stdin, 0), (stdout, 1), (stderr, 2)] {
            if !set {
                match which {
                    0 => self.std.stdin(Stdio::inherit()),
                    1 => self.std.stdout(Stdio::inherit()),
                    _ => self.std.stderr(Stdio::inherit()),
                };
            }
        }
        child?.wait_with_output().await
    }

    /// Runs the program to its end and returns its exit status. The child
    /// inherits stdin, stdout and stderr unless they were set; pipes set
    /// with `Stdio::piped()` are closed at once.
    ///
    /// # Errors
    ///
    /// Those of [`spawn`](Command::spawn) and [`Child::wait`].
    ///
    /// # Panics
    ///
    /// If polled outside a runtime.
    ///
    /// ```
    /// use eddy::process::Command;
    ///
    /// eddy::block_on(async {
    ///     let status = Command::new("sh").args(["-c", "exit 7"]).status().await?;
    ///     assert_eq!(status.code(), Some(7));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        let mut child = self.spawn()?;
        drop((child.stdin.take(), child.stdout.take(), child.stderr.take()));
        child.wait().await
    }
}

impl From<std::process::Command> for Command {
    /// Wraps a std command; its stdio settings, which std does not let
    /// anyone read, count as not set for [`output`](Command::output).
    fn from(std: std::process::Command) -> Command {
        Command {
            std,
            kill_on_drop: false,
            stdio_set: [false; 3],
        }
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Command")
            .field("std", &self.std)
            .field("kill_on_drop", &self.kill_on_drop)
            .finish()
    }
}

/// A child process started by [`Command::spawn`].
///
/// Await [`wait`](Child::wait) for its exit, or talk to it through the
/// pipes in its public fields (each `Some` when that stream was set to
/// `Stdio::piped()`; `take()` them to use them apart from the `Child`).
/// Dropping a `Child` whose process still runs does not wait for it: the
/// runtime reaps it when it exits, after killing it if
/// [`kill_on_drop`](Command::kill_on_drop) was set.
///
/// ```
/// use std::process::Stdio;
/// use eddy::process::Command;
/// use futures::io::AsyncReadExt;
///
/// eddy::block_on(async {
///     let mut child = Command::new("sh")
///         .args(["-c", "echo started; exec sleep 10"])
///         .stdout(Stdio::piped())
///         .spawn()?;
///     let mut line = [0u8; 8];
///     child.stdout.as_mut().unwrap().read_exact(&mut line).await?;
///     assert_eq!(&line, b"started\n");
///     child.kill().await?; // no need to wait 10 s
///     assert_eq!(child.id(), None); // reaped
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Child {
    /// The child's stdin, if it was set to `Stdio::piped()`.
    pub stdin: Option<ChildStdin>,
    /// The child's stdout, if it was set to `Stdio::piped()`.
    pub stdout: Option<ChildStdout>,
    /// The child's stderr, if it was set to `Stdio::piped()`.
    pub stderr: Option<ChildStderr>,
    state: State,
    kill_on_drop: bool,
}

enum State {
    Running(Running),
    /// Reaped; the status is kept for later calls.
    Exited(ExitStatus),
}

impl Child {
    /// The child's process id, or `None` once it has been reaped (after
    /// `wait` or `try_wait` saw its exit; the number may then belong to
    /// another process).
    ///
    /// ```
    /// use eddy::process::Command;
    ///
    /// eddy::block_on(async {
    ///     let mut child = Command::new("true").spawn()?;
    ///     assert!(child.id().is_some());
    ///     child.wait().await?;
    ///     assert_eq!(child.id(), None); // reaped
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn id(&self) -> Option<u32> {
        match &self.state {
            State::Running(running) => Some(running.child.id()),
            State::Exited(_) => None,
        }
    }

    /// Waits for the child to exit and reaps it. Closes the child's stdin
    /// first (drops [`stdin`](Child::stdin)), so a child that reads its
    /// input to the end cannot make this wait for ever.
    ///
    /// Cancel-safe: dropped before it completes, it can be called again.
    /// Once the child is reaped, every call gives the same status.
    ///
    /// # Errors
    ///
    /// The OS's error from `waitpid` (`ECHILD` if other code reaped this
    /// child), or an error if the runtime the child was spawned on has
    /// been dropped.
    ///
    /// ```
    /// use eddy::process::Command;
    ///
    /// eddy::block_on(async {
    ///     let mut child = Command::new("sh").args(["-c", "exit 3"]).spawn()?;
    ///     let status = child.wait().await?;
    ///     assert_eq!(status.code(), Some(3));
    ///     assert_eq!(child.wait().await?, status); // the same status again
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        let status = match &mut self.state {
            State::Exited(status) => return Ok(*status),
            State::Running(running) => running.wait().await?,
        };
        // Deregisters the pidfd or the SIGCHLD listener.
        self.state = State::Exited(status);
        Ok(status)
    }

    /// The exit status if the child has exited (reaping it), `None` if it
    /// still runs. Never waits.
    ///
    /// # Errors
    ///
    /// The OS's error from `waitpid`.
    ///
    /// ```
    /// use eddy::process::Command;
    ///
    /// eddy::block_on(async {
    ///     let mut child = Command::new("sleep").arg("10").spawn()?;
    ///     assert_eq!(child.try_wait()?, None);
    ///     child.kill().await?;
    ///     assert!(child.try_wait()?.is_some());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        let status = match &mut self.state {
            State::Exited(status) => return Ok(Some(*status)),
            State::Running(running) => running.try_wait()?,
        };
        if let Some(status) = status {
            self.state = State::Exited(status);
        }
        Ok(status)
    }

    /// Sends `SIGKILL` to the child, without waiting for it to exit
    /// (then [`wait`](Child::wait) reaps it). After the child was reaped
    /// this does nothing and returns `Ok`, as std's `Child::kill`.
    ///
    /// # Errors
    ///
    /// The OS's error from `kill(2)`.
    ///
    /// ```
    /// use std::os::unix::process::ExitStatusExt;
    /// use eddy::process::Command;
    ///
    /// eddy::block_on(async {
    ///     let mut child = Command::new("sleep").arg("60").spawn()?;
    ///     child.start_kill()?;
    ///     let status = child.wait().await?;
    ///     assert_eq!(status.signal(), Some(libc::SIGKILL));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn start_kill(&mut self) -> io::Result<()> {
        match &mut self.state {
            State::Running(running) => running.child.kill(),
            State::Exited(_) => Ok(()),
        }
    }

    /// Kills the child (`SIGKILL`) and waits for it to exit.
    ///
    /// # Errors
    ///
    /// Those of [`start_kill`](Child::start_kill) and
    /// [`wait`](Child::wait).
    ///
    /// ```
    /// use eddy::process::Command;
    ///
    /// eddy::block_on(async {
    ///     let mut child = Command::new("sleep").arg("60").spawn()?;
    ///     child.kill().await?; // killed and reaped
    ///     assert!(!child.try_wait()?.unwrap().success());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn kill(&mut self) -> io::Result<()> {
        self.start_kill()?;
        self.wait().await?;
        Ok(())
    }

    /// Waits for the child to exit while reading all of its stdout and
    /// stderr (those that are piped and not taken), both at once: a child
    /// that fills one pipe while the parent reads the other never
    /// deadlocks. Closes stdin first, as [`wait`](Child::wait).
    ///
    /// # Errors
    ///
    /// Those of [`wait`](Child::wait), and of reading the pipes; on an
    /// error the `Child` is dropped (killed if `kill_on_drop`).
    ///
    /// ```
    /// use std::process::Stdio;
    /// use eddy::process::Command;
    ///
    /// eddy::block_on(async {
    ///     let child = Command::new("sh")
    ///         .args(["-c", "head -c 1000000 /dev/zero; head -c 1000000 /dev/zero >&2"])
    ///         .stdout(Stdio::piped())
    ///         .stderr(Stdio::piped())
    ///         .spawn()?;
    ///     let out = child.wait_with_output().await?;
    ///     assert_eq!((out.stdout.len(), out.stderr.len()), (1_000_000, 1_000_000));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn wait_with_output(mut self) -> io::Result<Output> {
        let (mut stdout_pipe, mut stderr_pipe) = (self.stdout.take(), self.stderr.take());
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let status = {
            let mut wait = pin!(self.wait());
            let mut out = pin!(pipes::read_to_end(stdout_pipe.as_mut(), &mut stdout));
            let mut err = pin!(pipes::read_to_end(stderr_pipe.as_mut(), &mut stderr));
            let (mut status, mut out_done, mut err_done) = (None, false, false);
            poll_fn(|cx| {
                if status.is_none() {
                    if let Poll::Ready(s) = wait.as_mut().poll(cx) {
                        status = Some(s?);
                    }
                }
                if !out_done {
                    if let Poll::Ready(r) = out.as_mut().poll(cx) {
                        r?;
                        out_done = true;
                    }
                }
                if !err_done {
                    if let Poll::Ready(r) = err.as_mut().poll(cx) {
                        r?;
                        err_done = true;
                    }
                }
                match status {
                    Some(s) if out_done && err_done => Poll::Ready(Ok::<_, io::Error>(s)),
                    _ => Poll::Pending,
                }
            })
            .await?
        };
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }
}

impl Child {
    fn status(&self) -> Option<ExitStatus> {
        match self.state {
            State::Exited(status) => Some(status),
            State::Running(_) => None,
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let placeholder = State::Exited(ExitStatus::default());
        let State::Running(mut running) = std::mem::replace(&mut self.state, placeholder) else {
            return;
        };
        if self.kill_on_drop {
            let _ = running.child.kill();
        }
        // Exited already: reaped here. Still running (or an error we
        // cannot act on now): adopted, reaped when it exits.
        if !matches!(running.try_wait(), Ok(Some(_))) {
            child::adopt(running);
        }
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("id", &self.id())
            .field("status", &self.status())
            .field("stdin", &self.stdin)
            .field("stdout", &self.stdout)
            .field("stderr", &self.stderr)
            .finish()
    }
}
