//! Helpers the benchmarks share.
#![allow(dead_code)]

use std::io::Read;
use std::time::Duration;

pub mod echo;

/// tokio's current-thread runtime, the one eddy is compared with.
pub fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// CPU time (user + system) of the calling thread, exact.
pub fn thread_cpu() -> Duration {
    cpu_on(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// The CPU-time clock of the calling thread, which other threads can read
/// (with [`cpu_on`]) for as long as this thread lives.
pub fn thread_cpu_clock() -> libc::clockid_t {
    let mut clock: libc::clockid_t = 0;
    // SAFETY: `pthread_self()` is the calling thread, alive; `clock` is a
    // valid place for the id.
    let r = unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut clock) };
    assert_eq!(r, 0, "pthread_getcpuclockid failed: {r}");
    clock
}

/// The time on a CPU-time clock (user + system), exact.
pub fn cpu_on(clock: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for clock_gettime to fill.
    let r = unsafe { libc::clock_gettime(clock, &mut ts) };
    assert_eq!(r, 0, "clock_gettime: {}", std::io::Error::last_os_error());
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// The middle value (the upper one of the two middles for an even count).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Where criterion keeps its results: `$CARGO_TARGET_DIR/criterion`, else
/// `target/criterion` in the package (as criterion itself decides).
pub fn criterion_dir() -> std::path::PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("criterion")
}

/// Records a measurement made outside criterion (bytes per task, CPU per
/// round trip) beside criterion's results, for `benches/chart.rs`:
/// `<criterion dir>/<name>/eddy_tokio.txt` holds "<eddy> <tokio>".
pub fn record_pair(name: &str, eddy: f64, tokio: f64) {
    let dir = criterion_dir().join(name);
    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(dir.join("eddy_tokio.txt"), format!("{eddy} {tokio}\n")));
    if let Err(e) = written {
        eprintln!("could not record {name} for the chart: {e}");
    }
}

/// Counts this thread's syscalls with the `raw_syscalls:sys_enter`
/// tracepoint, through `perf_event_open` (`None` where the machine does not
/// allow it).
pub struct SyscallCounter(Option<std::fs::File>);

impl SyscallCounter {
    pub fn start() -> SyscallCounter {
        use std::os::fd::FromRawFd;
        let id = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]
            .iter()
            .find_map(|dir| {
                std::fs::read_to_string(format!("{dir}/events/raw_syscalls/sys_enter/id")).ok()
            })
            .and_then(|s| s.trim().parse::<u64>().ok());
        let Some(id) = id else {
            return SyscallCounter(None);
        };
        // The first 64 bytes of `struct perf_event_attr` (PERF_ATTR_SIZE_VER0).
        #[repr(C)]
        struct Attr {
            kind: u32,
            size: u32,
            config: u64,
            sample_period: u64,
            sample_type: u64,
            read_format: u64,
            flags: u64,
            wakeup_events: u32,
            bp_type: u32,
            config1: u64,
        }
        const PERF_TYPE_TRACEPOINT: u32 = 2;
        let attr = Attr {
            kind: PERF_TYPE_TRACEPOINT,
            size: std::mem::size_of::<Attr>() as u32,
            config: id,
            sample_period: 0,
            sample_type: 0,
            read_format: 0,
            flags: 0,
            wakeup_events: 0,
            bp_type: 0,
            config1: 0,
        };
        // SAFETY: perf_event_open reads `attr` (a valid, fully initialised
        // struct of the declared size); pid 0 / cpu -1 = this thread on any CPU.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_perf_event_open,
                &attr as *const Attr,
                0,
                -1,
                -1,
                0,
            )
        };
        if fd < 0 {
            return SyscallCounter(None);
        }
        // SAFETY: a fresh descriptor from perf_event_open, owned from here on.
        SyscallCounter(Some(unsafe { std::fs::File::from_raw_fd(fd as i32) }))
    }

    pub fn read(&mut self) -> Option<u64> {
        let file = self.0.as_mut()?;
        let mut buf = [0u8; 8];
        file.read_exact(&mut buf).ok()?;
        Some(u64::from_ne_bytes(buf))
    }
}

/// Keeps the calling thread on one CPU (the network benchmarks put servers
/// on 0 and clients on 1): thread migrations between the two cores were
/// most of their run-to-run noise.
/// Does nothing where that is not allowed or the CPU does not exist.
pub fn pin_to_cpu(cpu: usize) {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET writes
    // within it (cpu < CPU_SETSIZE); sched_setaffinity only reads it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}
