//! Heap per pending task: 100_000 tasks pending on a never-ready future,
//! their `JoinHandle`s dropped; growth of resident memory / 100_000.
//!
//! Each runtime is measured in a fresh child process, so that neither sees
//! memory the other freed. Run: `cargo bench --bench memory`.

mod common;

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

const TASKS: usize = 100_000;

static POLLED: AtomicUsize = AtomicUsize::new(0);

/// Never ready; counts its first poll so the parent knows every task ran.
async fn pending_task() {
    POLLED.fetch_add(1, Ordering::Relaxed);
    std::future::pending::<()>().await
}

fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    // SAFETY: sysconf has no preconditions.
    pages * unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize
}

fn measure_eddy() -> f64 {
    let rt = eddy::Runtime::new().unwrap();
    rt.block_on(async {
        let before = rss_bytes();
        for _ in 0..TASKS {
            drop(eddy::spawn(pending_task()));
        }
        while POLLED.load(Ordering::Relaxed) < TASKS {
            eddy::task::yield_now().await;
        }
        (rss_bytes() - before) as f64 / TASKS as f64
    })
}

fn measure_tokio() -> f64 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let before = rss_bytes();
        for _ in 0..TASKS {
            drop(tokio::spawn(pending_task()));
        }
        while POLLED.load(Ordering::Relaxed) < TASKS {
            tokio::task::yield_now().await;
        }
        (rss_bytes() - before) as f64 / TASKS as f64
    })
}

fn main() {
    match std::env::var("EDDY_MEMORY_CHILD").as_deref() {
        Ok("eddy") => println!("{:.1}", measure_eddy()),
        Ok("tokio") => println!("{:.1}", measure_tokio()),
        _ => {
            let exe = std::env::current_exe().unwrap();
            let run = |which: &str| -> f64 {
                let out = Command::new(&exe)
                    .env("EDDY_MEMORY_CHILD", which)
                    .output()
                    .unwrap();
                String::from_utf8(out.stdout)
                    .unwrap()
                    .trim()
                    .parse()
                    .unwrap()
            };
            let (eddy, tokio) = (run("eddy"), run("tokio"));
            println!("task_memory/eddy   {eddy:.1} B per pending task");
            println!("task_memory/tokio  {tokio:.1} B per pending task");
            println!("task_memory ratio  {:.2}", eddy / tokio);
            common::record_pair("task_memory", eddy, tokio);
        }
    }
}
