//! The eddy/tokio ratio of every workload, as a bar chart: reads the
//! results the other benchmarks left in `target/criterion` and writes
//! `benches/ratios.svg` (the chart in the README).
//!
//! Run it after the benchmarks, in the same target directory (cargo runs
//! bench targets in name order, so it cannot simply come last):
//! `cargo bench --features hyper --bench executor --bench memory --bench time --bench net --bench sync --bench os --bench http && cargo bench --bench chart`.
//! It also prints each workload's two values (mean times in ns; bytes per
//! task; CPU per round trip against the raw loop) and their ratio.
//!
//! A criterion group gives the ratio of the mean times of its `eddy` and
//! `tokio` functions; `task_memory`, `tcp_echo_server_cpu`, the
//! `http_hello_*` rows and the `*_in_turn` workloads come from the pairs
//! those benchmarks record (bytes per task; CPU per round trip, each
//! against the raw mio loop; the median of eddy/tokio over rounds run in
//! turn, against 1). A workload with no result yet is left out.

mod common;

use std::fmt::Write;
use std::path::Path;

/// Workload, what is compared, and the goal (eddy/tokio at most this).
const WORKLOADS: &[(&str, &str, Option<f64>)] = &[
    ("spawn_many", "time", Some(0.4)),
    ("chained_spawn", "time", Some(0.4)),
    ("yield_many", "time", Some(0.4)),
    ("ping_pong", "time", Some(0.5)),
    ("ping_pong_two_tasks", "time", None),
    ("remote_wake", "time", Some(1.0)),
    ("remote_wake_in_turn", "time, in turn", Some(1.0)),
    ("channel", "time", Some(0.2)),
    ("semaphore", "time", Some(0.5)),
    ("broadcast", "time", Some(0.3)),
    ("watch", "time", Some(0.3)),
    ("rwlock", "time", Some(0.3)),
    ("timeout_churn", "time", Some(0.2)),
    ("sleep_reset", "time", None),
    ("timers_cpu", "CPU time", Some(0.5)),
    ("timers", "wall time", None),
    ("tcp_echo", "wall time", None),
    // eddy's goal is 1.02x the raw loop where tokio measures 1.03x.
    ("tcp_echo_server_cpu", "server CPU", Some(1.02 / 1.03)),
    ("task_memory", "heap per task", Some(96.0 / 328.0)),
    ("process_status", "wall time", Some(1.0)),
    ("process_status_in_turn", "time, in turn", Some(1.0)),
    ("file_read", "wall time", Some(1.0)),
    ("file_read_in_turn", "time, in turn", Some(1.0)),
    ("signal_round_trip", "time", Some(1.0)),
    ("signal_round_trip_in_turn", "time, in turn", Some(1.0)),
    ("http_hello_in_turn", "time per request, in turn", Some(1.0)),
    ("http_hello_server_cpu", "server CPU, in turn", Some(0.95)),
    (
        "http_hello_server_user_cpu",
        "server user CPU, in turn",
        None,
    ),
];

/// The point estimate of the mean in a criterion `estimates.json`.
fn mean_of(path: &Path) -> Option<f64> {
    let json = std::fs::read_to_string(path).ok()?;
    let rest = &json[json.find("\"mean\"")?..];
    let rest = &rest[rest.find("\"point_estimate\":")? + "\"point_estimate\":".len()..];
    let end = rest.find([',', '}'])?;
    rest[..end].trim().parse().ok()
}

/// eddy's and tokio's values for one workload (mean times in ns, or the
/// recorded pair), if its results are there.
fn pair(dir: &Path, name: &str) -> Option<(f64, f64)> {
    let group = dir.join(name);
    if let Ok(pair) = std::fs::read_to_string(group.join("eddy_tokio.txt")) {
        let mut it = pair.split_whitespace().map(|v| v.parse::<f64>().ok());
        return Some((it.next()??, it.next()??));
    }
    let eddy = mean_of(&group.join("eddy/new/estimates.json"))?;
    let tokio = mean_of(&group.join("tokio/new/estimates.json"))?;
    Some((eddy, tokio))
}

/// Escapes text for SVG.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;")
}

fn svg(rows: &[(&str, &str, Option<f64>, f64)]) -> String {
    const LABEL: f64 = 250.0; // width of the label column
    const PLOT: f64 = 420.0; // width of the bars' area
    const ROW: f64 = 26.0;
    const TOP: f64 = 50.0;
    const MAX: f64 = 1.25; // the ratio at the right edge
    let x = |r: f64| LABEL + PLOT * r.min(MAX) / MAX;
    let height = TOP + ROW * rows.len() as f64 + 40.0;
    let width = LABEL + PLOT + 80.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="13">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="10" y="22" font-size="15" font-weight="bold">eddy / tokio current-thread, per workload (lower is better)</text>"#
    );
    let _ = writeln!(
        s,
        r#"<text x="10" y="40" fill="dimgray">bar: measured ratio (time unless said); black tick: the goal; dashed: parity</text>"#
    );
    for (i, &(name, what, goal, r)) in rows.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        let met = goal.is_none_or(|g| r <= g);
        let fill = if met { "#3a8f5c" } else { "#d9822b" };
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end">{} ({})</text>"#,
            LABEL - 8.0,
            y + 16.0,
            esc(name),
            esc(what)
        );
        let _ = writeln!(
            s,
            r#"<rect x="{LABEL}" y="{}" width="{:.1}" height="{}" fill="{fill}"/>"#,
            y + 4.0,
            x(r) - LABEL,
            ROW - 8.0
        );
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{}">{r:.2}</text>"#,
            LABEL + PLOT + 12.0,
            y + 16.0
        );
        if let Some(g) = goal {
            let _ = writeln!(
                s,
                r#"<line x1="{0:.1}" x2="{0:.1}" y1="{1}" y2="{2}" stroke="black" stroke-width="2"/>"#,
                x(g),
                y + 1.0,
                y + ROW - 1.0
            );
        }
    }
    let bottom = TOP + ROW * rows.len() as f64;
    let _ = writeln!(
        s,
        r#"<line x1="{0:.1}" x2="{0:.1}" y1="{TOP}" y2="{bottom}" stroke="gray" stroke-dasharray="4 3"/>"#,
        x(1.0)
    );
    for tick in [0.0, 0.25, 0.5, 0.75, 1.0, 1.25] {
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{}" text-anchor="middle" fill="dimgray">{tick}</text>"#,
            x(tick),
            bottom + 18.0
        );
    }
    s.push_str("</svg>\n");
    s
}

fn main() {
    // `cargo bench` passes `--bench`; this target takes no options.
    let dir = common::criterion_dir();
    let mut rows = Vec::new();
    for &(name, what, goal) in WORKLOADS {
        let Some((eddy, tokio)) = pair(&dir, name) else {
            continue;
        };
        let r = eddy / tokio;
        let goal_text = goal.map_or(String::new(), |g| format!(" (goal {g:.2})"));
        println!("{name:<22} {what:<14} eddy {eddy:<16.3} tokio {tokio:<16.3} {r:.3}{goal_text}");
        rows.push((name, what, goal, r));
    }
    if rows.is_empty() {
        println!("no results in {}: run the benchmarks first", dir.display());
        return;
    }
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("ratios.svg");
    match std::fs::write(&out, svg(&rows)) {
        Ok(()) => println!("wrote {}", out.display()),
        Err(e) => eprintln!("could not write {}: {e}", out.display()),
    }
}
