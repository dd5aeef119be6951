//! Monitors in child processes: peak memory while draining a backlog, and
//! several processes sharing one queue.
//!
//! A child (`bench child …`) runs one monitor and speaks on stdout:
//! `ready`, then `progress <records>` lines, then `done <json>` with its
//! counts, first and last callback times and its VmHWM. It stops after its
//! count, or when its stdin closes.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pulse_wire::ConnectionSettings;
use serde::{Deserialize, Serialize};

use crate::broker::{self, BoxError};
use crate::corpus::seq_of;
use crate::endtoend::start_monitor;
use crate::report::{thousands, Row, Target};
use crate::{Context, Kind};

/// A child's settings, from its command line.
#[derive(Debug, clap::Args)]
pub struct ChildArgs {
    /// The broker.
    #[arg(long, value_name = "URL")]
    broker: String,
    /// The monitor's queue label (shared by the children of one run).
    #[arg(long)]
    label: String,
    /// The first sequence number of the backlog.
    #[arg(long)]
    base: u64,
    /// How many messages of the backlog, from `base`.
    #[arg(long)]
    count: u64,
    /// Stop once `count` messages were handled.
    #[arg(long)]
    stop_at_count: bool,
    /// Sleep this long in each callback.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    sleep_ms: u64,
    /// Write the handled sequence numbers (less `base`) to FILE.
    #[arg(long, value_name = "FILE")]
    ids: Option<PathBuf>,
}

/// What a child reports when done.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ChildReport {
    handled: u64,
    foreign: u64,
    first_unix_ns: u64,
    last_unix_ns: u64,
    vm_hwm_kib: u64,
    translation_errors: u64,
    callback_panics: u64,
}

fn unix_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Peak resident memory of this process, from /proc/self/status.
fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

#[derive(Default)]
struct ChildState {
    handled: AtomicU64,
    foreign: AtomicU64,
    first: AtomicU64,
    last: AtomicU64,
    ids: Mutex<Vec<u64>>,
}

/// The child's main.
pub fn child_main(args: ChildArgs) -> Result<(), BoxError> {
    let settings = ConnectionSettings::from_url(&args.broker)?;
    let state = Arc::new(ChildState::default());
    let keep_ids = args.ids.is_some();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let done_tx = Mutex::new(Some(done_tx));
    let (base, count, stop_at_count) = (args.base, args.count, args.stop_at_count);
    let sleep = Duration::from_millis(args.sleep_ms);
    let seen = Arc::clone(&state);
    let monitor = start_monitor(&settings, Kind::Raw.source(), &args.label, move |heard| {
        if !sleep.is_zero() {
            std::thread::sleep(sleep);
        }
        let seq = match seq_of(heard.key) {
            Some(seq) if (base..base + count).contains(&seq) => seq,
            _ => {
                seen.foreign.fetch_add(1, Ordering::Relaxed);
                return;
            }
        };
        let now = unix_ns();
        let _ = seen
            .first
            .compare_exchange(0, now, Ordering::SeqCst, Ordering::SeqCst);
        seen.last.fetch_max(now, Ordering::SeqCst);
        if keep_ids {
            seen.ids
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(seq - base);
        }
        let handled = seen.handled.fetch_add(1, Ordering::SeqCst) + 1;
        if stop_at_count && handled >= count {
            if let Some(done) = done_tx.lock().unwrap_or_else(|e| e.into_inner()).take() {
                let _ = done.send(());
            }
        }
    })?;
    println!("ready");

    // Stdin closing is the other way to stop.
    let stdin_closed = {
        let (tx, rx) = mpsc::channel::<()>();
        std::thread::spawn(move || {
            let mut sink = String::new();
            while std::io::stdin().read_line(&mut sink).is_ok_and(|n| n > 0) {
                sink.clear();
            }
            let _ = tx.send(());
        });
        rx
    };
    loop {
        println!("progress {}", state.handled.load(Ordering::SeqCst));
        if done_rx.recv_timeout(Duration::from_millis(100)).is_ok()
            || stdin_closed.try_recv().is_ok()
        {
            break;
        }
    }
    let stats = monitor.stop().stats;
    if let Some(path) = &args.ids {
        let ids = state.ids.lock().unwrap_or_else(|e| e.into_inner());
        let mut text = String::with_capacity(ids.len() * 8);
        for id in ids.iter() {
            text.push_str(&id.to_string());
            text.push('\n');
        }
        std::fs::write(path, text)?;
    }
    let report = ChildReport {
        handled: state.handled.load(Ordering::SeqCst),
        foreign: state.foreign.load(Ordering::SeqCst),
        first_unix_ns: state.first.load(Ordering::SeqCst),
        last_unix_ns: state.last.load(Ordering::SeqCst),
        vm_hwm_kib: vm_hwm_kib(),
        translation_errors: stats.translation_errors,
        callback_panics: stats.callback_panics,
    };
    println!("done {}", serde_json::to_string(&report)?);
    std::io::stdout().flush()?;
    Ok(())
}

/// A running child and what it said.
struct Running {
    child: Child,
    stdin: Option<ChildStdin>,
}

enum Said {
    Ready,
    Progress(u64),
    Done(ChildReport),
    Ended,
}

fn spawn(
    ctx: &Context,
    index: usize,
    extra: &[String],
    said: mpsc::Sender<(usize, Said)>,
) -> Result<Running, BoxError> {
    let mut child = Command::new(std::env::current_exe()?)
        .arg("child")
        .arg("--broker")
        .arg(&ctx.broker_url)
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("child stdout")?;
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let message = if line == "ready" {
                Said::Ready
            } else if let Some(n) = line.strip_prefix("progress ") {
                Said::Progress(n.parse().unwrap_or(0))
            } else if let Some(json) = line.strip_prefix("done ") {
                match serde_json::from_str(json) {
                    Ok(report) => Said::Done(report),
                    Err(_) => continue,
                }
            } else {
                continue;
            };
            let _ = said.send((index, message));
        }
        let _ = said.send((index, Said::Ended));
    });
    let stdin = child.stdin.take();
    Ok(Running { child, stdin })
}

/// Runs `processes` children on one queue holding `count` messages from
/// `base`; returns their reports. They stop by themselves with
/// `stop_at_count` (one child), else once all messages are handled.
fn run_children(
    ctx: &Context,
    processes: usize,
    args: &[String],
    ids_dir: Option<&Path>,
    count: u64,
) -> Result<Vec<ChildReport>, BoxError> {
    let (said_tx, said) = mpsc::channel();
    let mut children = Vec::new();
    for index in 0..processes {
        let mut extra = args.to_vec();
        if let Some(dir) = ids_dir {
            extra.push("--ids".into());
            extra.push(dir.join(format!("ids-{index}.txt")).display().to_string());
        }
        children.push(spawn(ctx, index, &extra, said_tx.clone())?);
    }
    drop(said_tx);
    let mut progress: HashMap<usize, u64> = HashMap::new();
    let mut reports: Vec<Option<ChildReport>> = (0..processes).map(|_| None).collect();
    let mut all_handled_at: Option<Instant> = None;
    let deadline = Instant::now() + Duration::from_secs(300);
    let outcome = loop {
        if reports.iter().all(Option::is_some) {
            break Ok(());
        }
        // Once all are in, wait a little for duplicates before stopping.
        if all_handled_at.is_some_and(|t| t.elapsed() > Duration::from_millis(500)) {
            for child in &mut children {
                child.stdin.take();
            }
        }
        if Instant::now() > deadline {
            break Err(format!("children stalled at {progress:?} of {count}"));
        }
        match said.recv_timeout(Duration::from_millis(100)) {
            Ok((index, Said::Progress(n))) => {
                progress.insert(index, n);
                if all_handled_at.is_none() && progress.values().sum::<u64>() >= count {
                    all_handled_at = Some(Instant::now());
                }
            }
            Ok((index, Said::Done(report))) => reports[index] = Some(report),
            Ok((index, Said::Ended)) if reports[index].is_none() => {
                break Err(format!("child {index} ended without a report"));
            }
            Ok(_) | Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                break Err("every child ended".to_string());
            }
        }
    };
    for mut child in children {
        child.stdin.take();
        if outcome.is_err() {
            let _ = child.child.kill();
        }
        let _ = child.child.wait();
    }
    outcome?;
    Ok(reports.into_iter().flatten().collect())
}

/// Peak RSS of a monitor draining backlogs of each size, with a callback
/// that sleeps 1 ms.
pub fn memory(ctx: &Context, sizes: &[u64]) -> Result<Vec<Row>, BoxError> {
    let exchange = ctx.name("exchange", "memory");
    let mut publisher = pulse_wire::Publisher::connect(&ctx.broker)?;
    let mut peaks = Vec::new();
    for &size in sizes {
        let label = format!("{}-memory-{size}", ctx.run);
        let queue = pulse_wire::queue_name(&ctx.broker.user, Some(&label));
        broker::declare_queue(&ctx.ledger, &mut publisher, &queue, &exchange)?;
        let base = ctx.next_base();
        let bytes = broker::publish_backlog(
            &mut publisher,
            &exchange,
            ctx.templates(Kind::Raw),
            base,
            size,
        )?;
        let started = Instant::now();
        let args: Vec<String> = [
            "--label",
            &label,
            "--base",
            &base.to_string(),
            "--count",
            &size.to_string(),
            "--sleep-ms",
            "1",
            "--stop-at-count",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let reports = run_children(ctx, 1, &args, None, size)?;
        let report = &reports[0];
        ctx.ledger.delete_queue(&queue);
        if report.handled != size {
            return Err(format!("memory child handled {} of {size}", report.handled).into());
        }
        let mib = report.vm_hwm_kib as f64 / 1024.0;
        eprintln!(
            "  memory {size}: VmHWM {mib:.1} MiB in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        peaks.push((size, mib, bytes));
    }
    let _ = publisher.close();

    let mut rows = Vec::new();
    for &(size, mib, bytes) in &peaks {
        let mut row = Row::info(
            format!(
                "peak RSS draining {} raw msgs, 1 ms callback",
                thousands(size as f64)
            ),
            format!("{mib:.1} MiB"),
        )
        .target(Target::Below(64.0))
        .unit("MiB")
        .note(format!(
            "monitor in a child process (VmHWM); backlog {:.0} MB",
            bytes as f64 / 1e6
        ));
        row.value = mib;
        rows.push(row);
    }
    if let (Some(small), Some(large)) = (peaks.first(), peaks.last()) {
        if peaks.len() > 1 {
            let mut row = Row::info(
                format!(
                    "peak RSS growth, {} vs {} backlog",
                    thousands(large.0 as f64),
                    thousands(small.0 as f64)
                ),
                format!("{:.1} MiB", large.1),
            )
            .target(Target::RatioAtMost(1.25))
            .note(format!(
                "flat means the larger backlog costs at most 25% more; backlog ×{}",
                large.0 / small.0
            ));
            row.baseline = format!("{:.1} MiB", small.1);
            row.ratio = Some(large.1 / small.1);
            rows.push(row);
        }
    }
    Ok(rows)
}

/// Total throughput of 1, 2 and 4 processes sharing one durable queue, and
/// whether each message was handled exactly once.
pub fn scale_out(
    ctx: &Context,
    count: u64,
    process_counts: &[usize],
) -> Result<Vec<Row>, BoxError> {
    let exchange = ctx.name("exchange", "scale");
    let mut publisher = pulse_wire::Publisher::connect(&ctx.broker)?;
    let dir = std::env::temp_dir().join(&ctx.run);
    std::fs::create_dir_all(&dir)?;
    let mut rates = Vec::new();
    let mut problems = Vec::new();
    let mut shares = Vec::new();
    for &processes in process_counts {
        let label = format!("{}-scale-{processes}", ctx.run);
        let queue = pulse_wire::queue_name(&ctx.broker.user, Some(&label));
        broker::declare_queue(&ctx.ledger, &mut publisher, &queue, &exchange)?;
        let base = ctx.next_base();
        broker::publish_backlog(
            &mut publisher,
            &exchange,
            ctx.templates(Kind::Raw),
            base,
            count,
        )?;
        let ids_dir = dir.join(format!("p{processes}"));
        std::fs::create_dir_all(&ids_dir)?;
        let args: Vec<String> = [
            "--label",
            &label,
            "--base",
            &base.to_string(),
            "--count",
            &count.to_string(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let reports = run_children(ctx, processes, &args, Some(&ids_dir), count)?;
        ctx.ledger.delete_queue(&queue);

        let first = reports
            .iter()
            .map(|r| r.first_unix_ns)
            .filter(|&t| t > 0)
            .min()
            .unwrap_or(0);
        let last = reports.iter().map(|r| r.last_unix_ns).max().unwrap_or(0);
        let rate = (count - 1) as f64 / ((last.saturating_sub(first)) as f64 / 1e9);
        let check = check_exactly_once(&ids_dir, processes, count)?;
        if let Some(problem) = check {
            problems.push(format!("{processes} processes: {problem}"));
        }
        for report in &reports {
            if report.translation_errors > 0 || report.callback_panics > 0 {
                problems.push(format!("{processes} processes: errors {report:?}"));
            }
        }
        let share: Vec<String> = reports.iter().map(|r| r.handled.to_string()).collect();
        eprintln!(
            "  scale {processes}: {rate:.0} msg/s, per process {}",
            share.join("/")
        );
        shares.push(share.join("/"));
        rates.push((processes, rate));
        let _ = std::fs::remove_dir_all(&ids_dir);
    }
    let _ = publisher.close();
    let _ = std::fs::remove_dir_all(&dir);

    let single = rates.first().map_or(f64::NAN, |r| r.1);
    let mut rows = Vec::new();
    for (i, &(processes, rate)) in rates.iter().enumerate() {
        let name = format!("scale-out: {processes} monitor process(es), one queue, raw msgs");
        let row = if i == 0 {
            Row::info(name, format!("{} msg/s", thousands(rate)))
        } else {
            Row::versus(name, rate, single, "msg/s")
        };
        rows.push(row.note(format!("{count} msgs; handled per process {}", shares[i])));
    }
    let mut row = Row::info(
        "scale-out: each message handled exactly once",
        if problems.is_empty() {
            "yes".to_string()
        } else {
            "no".to_string()
        },
    )
    .target(Target::Holds)
    .note(if problems.is_empty() {
        format!("ids merged from every process's file, for each run of {count}")
    } else {
        problems.join("; ")
    });
    row.value = if problems.is_empty() { 1.0 } else { 0.0 };
    rows.push(row);
    Ok(rows)
}

/// Merges the children's id files: every id in `0..count` exactly once.
fn check_exactly_once(
    dir: &Path,
    processes: usize,
    count: u64,
) -> Result<Option<String>, BoxError> {
    let mut seen = vec![0u32; count as usize];
    let mut out_of_range = 0;
    for index in 0..processes {
        let text = std::fs::read_to_string(dir.join(format!("ids-{index}.txt")))?;
        for line in text.lines() {
            match line.parse::<u64>() {
                Ok(id) if id < count => seen[id as usize] += 1,
                _ => out_of_range += 1,
            }
        }
    }
    let missing = seen.iter().filter(|&&n| n == 0).count();
    let duplicated = seen.iter().filter(|&&n| n > 1).count();
    Ok((missing + duplicated + out_of_range > 0).then(|| {
        format!("{missing} missing, {duplicated} handled more than once, {out_of_range} unknown")
    }))
}
