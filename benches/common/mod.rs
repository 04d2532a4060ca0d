//! Helpers the benchmarks share.
#![allow(dead_code)]

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
