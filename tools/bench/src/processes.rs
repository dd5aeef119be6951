//! Monitors in child processes: peak memory while draining a backlog, and
//! several processes sharing one queue. The cost and burst measurements
//! ([`crate::cost`], [`crate::burst`]) run their monitor and bare consumer
//! here too.
//!
//! A child (`bench child …`) runs one monitor (or, with `--bare-queue`, a
//! bare consumer) and speaks on stdout: `ready` once it consumes, then
//! `progress <records>` lines, then `done <json>` with its counts, first
//! and last callback times, the CPU time it used since `ready` and its
//! VmHWM. It stops after its count, or when its stdin closes.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pulse_build_monitor::{DetailsSettings, PushSettings, Source};
use pulse_wire::ConnectionSettings;
use serde::{Deserialize, Serialize};

use crate::broker::{self, BareHooks, BoxError, Drain};
use crate::corpus::seq_of;
use crate::endtoend::{start_monitor_tracking, Extras, Heard, PREFETCH};
use crate::report::{thousands, Row, Target};
use crate::{threads, Context, Kind};

/// A child's settings, from its command line.
#[derive(Debug, clap::Args)]
pub struct ChildArgs {
    /// The broker.
    #[arg(long, value_name = "URL")]
    broker: String,
    /// The monitor's queue label (shared by the children of one run).
    #[arg(long, required_unless_present = "bare_queue")]
    label: Option<String>,
    /// Drain this queue with a bare consumer instead of running a monitor
    /// (it stops after `count` messages).
    #[arg(long, value_name = "QUEUE", conflicts_with = "label")]
    bare_queue: Option<String>,
    /// Read Taskcluster messages (pending and running too); the bench's
    /// records are the ones of this revision.
    #[arg(long, value_name = "REVISION")]
    revision: Option<String>,
    /// The first sequence number of the backlog (raw messages).
    #[arg(long, default_value_t = 0)]
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
    /// Track pushes, with their state in this SQLite file.
    #[arg(long, value_name = "FILE")]
    push_state: Option<PathBuf>,
    /// Serve the live page (pulse-page) of what the monitor sees on a
    /// loopback port, said on stdout as `page <address>` before `ready`.
    #[arg(long, requires = "push_state")]
    page: bool,
    /// Fetch record details (build URLs, failure lines) from the
    /// Taskcluster queue at this root URL.
    #[arg(long, value_name = "URL")]
    details_root: Option<String>,
}

/// What a child reports when done.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ChildReport {
    /// The bench's messages handled.
    pub handled: u64,
    /// Records of others' messages, not counted.
    pub foreign: u64,
    /// When the first of the bench's messages was handled (ns since the epoch).
    pub first_unix_ns: u64,
    /// When the last one was.
    pub last_unix_ns: u64,
    /// Peak resident memory.
    pub vm_hwm_kib: u64,
    /// CPU time (user and system) from `ready` to the end.
    pub cpu_seconds: f64,
    /// Wall time from `ready` to the end.
    pub wall_seconds: f64,
    /// The monitor's translation errors.
    pub translation_errors: u64,
    /// Callbacks that panicked.
    pub callback_panics: u64,
}

impl ChildReport {
    /// Checks that the child handled `count` of the bench's messages without
    /// errors; `who` names it in the error.
    pub fn check(&self, who: &str, count: u64) -> Result<(), BoxError> {
        if self.handled != count || self.translation_errors > 0 || self.callback_panics > 0 {
            return Err(format!("{who} handled {} of {count}: {self:?}", self.handled).into());
        }
        Ok(())
    }
}

/// Now, in nanoseconds since the epoch: comparable across processes.
pub fn unix_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// An instant of this process in nanoseconds since the epoch.
fn instant_unix_ns(instant: Instant) -> u64 {
    unix_ns().saturating_sub(instant.elapsed().as_nanos() as u64)
}

/// Peak resident memory of this process, from /proc/self/status.
pub fn vm_hwm_kib() -> u64 {
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

/// What the child runs.
enum Consumer {
    /// A monitor, and the page it feeds, if any.
    Monitor(Arc<pulse_build_monitor::Monitor>, Option<ServedPage>),
    Bare(std::thread::JoinHandle<Result<(), String>>),
}

/// A child's live page: the server and the thread copying the monitor's
/// pushes into it, both stopped when dropped.
struct ServedPage {
    _server: pulse_page::PageServer,
    _follower: pulse_page::Follower,
}

/// The child's main.
pub fn child_main(args: ChildArgs) -> Result<(), BoxError> {
    let settings = ConnectionSettings::from_url(&args.broker)?;
    let state = Arc::new(ChildState::default());
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let consumer = match (&args.bare_queue, &args.label) {
        (Some(queue), _) => start_bare(&settings, queue, args.count, &state, done_tx)?,
        (None, Some(label)) => {
            let page = args
                .page
                .then(|| pulse_page::Page::new(pulse_page::PageOptions::default()));
            let monitor = Arc::new(start_child_monitor(
                &settings,
                label,
                &args,
                page.clone(),
                Arc::clone(&state),
                done_tx,
            )?);
            let served = match page {
                Some(page) => {
                    let server = page.serve("127.0.0.1:0".parse()?)?;
                    println!("page {}", server.address());
                    let follower = page.follow(Arc::clone(&monitor))?;
                    Some(ServedPage {
                        _server: server,
                        _follower: follower,
                    })
                }
                None => None,
            };
            Consumer::Monitor(monitor, served)
        }
        (None, None) => return Err("a child needs --label or --bare-queue".into()),
    };
    let cpu_at_ready = threads::process_cpu_seconds();
    let ready_at = Instant::now();
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
    let reached_count = loop {
        println!("progress {}", state.handled.load(Ordering::SeqCst));
        if done_rx.recv_timeout(Duration::from_millis(100)).is_ok() {
            break true;
        }
        if stdin_closed.try_recv().is_ok() {
            break false;
        }
    };
    let cpu_seconds = threads::process_cpu_seconds() - cpu_at_ready;
    let wall_seconds = ready_at.elapsed().as_secs_f64();
    let (translation_errors, callback_panics) = match consumer {
        Consumer::Monitor(monitor, page) => {
            drop(page);
            let stats = monitor.stop().stats;
            (stats.translation_errors, stats.callback_panics)
        }
        Consumer::Bare(thread) => {
            // Done (or failed): it is ending. Stopped by stdin before its
            // count, it is left to the end of the process.
            if reached_count {
                thread.join().map_err(|_| "the bare consumer panicked")??;
            }
            (0, 0)
        }
    };
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
        cpu_seconds,
        wall_seconds,
        translation_errors,
        callback_panics,
    };
    println!("done {}", serde_json::to_string(&report)?);
    std::io::stdout().flush()?;
    Ok(())
}

/// The child's monitor: raw messages tagged `base .. base + count`, or
/// Taskcluster messages of one revision.
fn start_child_monitor(
    settings: &ConnectionSettings,
    label: &str,
    args: &ChildArgs,
    page: Option<pulse_page::Page>,
    state: Arc<ChildState>,
    done_tx: mpsc::Sender<()>,
) -> Result<pulse_build_monitor::Monitor, BoxError> {
    let keep_ids = args.ids.is_some();
    let done_tx = Mutex::new(Some(done_tx));
    let (base, count, stop_at_count) = (args.base, args.count, args.stop_at_count);
    let sleep = Duration::from_millis(args.sleep_ms);
    let revision = args.revision.clone();
    let source = match revision {
        Some(_) => Source::Taskcluster { progress: true },
        None => Kind::Raw.source(),
    };
    let ours = move |heard: Heard<'_>| match &revision {
        Some(revision) => (heard.revision == Some(revision.as_str())).then_some(0),
        None => seq_of(heard.key)
            .filter(|seq| (base..base + count).contains(seq))
            .map(|seq| seq - base),
    };
    let pushes = args
        .push_state
        .as_ref()
        .map(|file| PushSettings::default().with_state_file(file));
    let details = args
        .details_root
        .as_deref()
        .map(|root| -> Result<DetailsSettings, BoxError> {
            Ok(DetailsSettings::new(pulse_taskcluster::Queue::new(root)?))
        })
        .transpose()?;
    let extras = Extras {
        pushes,
        details,
        page,
    };
    let monitor = start_monitor_tracking(settings, source, label, extras, move |heard| {
        if !sleep.is_zero() {
            std::thread::sleep(sleep);
        }
        let Some(id) = ours(heard) else {
            state.foreign.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let now = unix_ns();
        let _ = state
            .first
            .compare_exchange(0, now, Ordering::SeqCst, Ordering::SeqCst);
        state.last.fetch_max(now, Ordering::SeqCst);
        if keep_ids {
            state.ids.lock().unwrap_or_else(|e| e.into_inner()).push(id);
        }
        let handled = state.handled.fetch_add(1, Ordering::SeqCst) + 1;
        if stop_at_count && handled >= count {
            if let Some(done) = done_tx.lock().unwrap_or_else(|e| e.into_inner()).take() {
                let _ = done.send(());
            }
        }
    })?;
    Ok(monitor)
}

/// The child's bare consumer, on a thread; returns once it consumes.
fn start_bare(
    settings: &ConnectionSettings,
    queue: &str,
    count: u64,
    state: &Arc<ChildState>,
    done_tx: mpsc::Sender<()>,
) -> Result<Consumer, BoxError> {
    let (ready_tx, ready_rx) = mpsc::channel::<()>();
    let (settings, queue, state) = (settings.clone(), queue.to_owned(), Arc::clone(state));
    let thread = std::thread::spawn(move || -> Result<(), String> {
        let ready = || {
            let _ = ready_tx.send(());
        };
        let hooks = BareHooks {
            ready: Some(&ready),
            handled: Some(&state.handled),
        };
        let drained = broker::bare_drain_with(&settings, &queue, PREFETCH, count, false, &hooks)
            .map_err(|e| e.to_string());
        if let Ok(Drain {
            last: Some(last),
            elapsed,
            ..
        }) = drained
        {
            let last_ns = instant_unix_ns(last);
            state.last.store(last_ns, Ordering::SeqCst);
            let first_ns = last_ns.saturating_sub(elapsed.as_nanos() as u64);
            state.first.store(first_ns, Ordering::SeqCst);
        }
        // Done or failed: either way the child reports now.
        let _ = done_tx.send(());
        drained.map(drop)
    });
    if ready_rx.recv_timeout(Duration::from_secs(30)).is_err() {
        return Err(match thread.join() {
            Ok(Err(e)) => e.into(),
            _ => "the bare consumer did not start".into(),
        });
    }
    Ok(Consumer::Bare(thread))
}

/// A running child and what it said.
struct Running {
    child: Child,
    stdin: Option<ChildStdin>,
}

enum Said {
    Page(std::net::SocketAddr),
    Ready,
    Progress(u64),
    Done(ChildReport),
    Ended,
}

/// Child processes started together, and what they said so far. Dropping
/// it closes their stdin (which stops them) and waits for them, killing
/// them first unless they all reported.
pub struct Children {
    running: Vec<Running>,
    said: mpsc::Receiver<(usize, Said)>,
    ready: Vec<bool>,
    pages: HashMap<usize, std::net::SocketAddr>,
    progress: HashMap<usize, u64>,
    reports: Vec<Option<ChildReport>>,
    /// Every child reported: they end by themselves.
    finished: bool,
}

impl Children {
    /// Starts one child per argument list (`bench child --broker … <args>`).
    pub fn spawn(ctx: &Context, args: &[Vec<String>]) -> Result<Children, BoxError> {
        let (said_tx, said) = mpsc::channel();
        let mut children = Children {
            running: Vec::new(),
            said,
            ready: vec![false; args.len()],
            pages: HashMap::new(),
            progress: HashMap::new(),
            reports: args.iter().map(|_| None).collect(),
            finished: false,
        };
        for (index, extra) in args.iter().enumerate() {
            let running = spawn(ctx, index, extra, said_tx.clone())?;
            children.running.push(running);
        }
        Ok(children)
    }

    /// Reads what one child said, waiting at most 100 ms.
    fn listen(&mut self) -> Result<(), String> {
        match self.said.recv_timeout(Duration::from_millis(100)) {
            Ok((index, Said::Page(address))) => {
                self.pages.insert(index, address);
            }
            Ok((index, Said::Ready)) => self.ready[index] = true,
            Ok((index, Said::Progress(n))) => {
                self.progress.insert(index, n);
            }
            Ok((index, Said::Done(report))) => self.reports[index] = Some(report),
            Ok((index, Said::Ended)) if self.reports[index].is_none() => {
                return Err(format!("child {index} ended without a report"));
            }
            Ok((_, Said::Ended)) | Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err("every child ended".to_string());
            }
        }
        Ok(())
    }

    /// Waits until every child consumes.
    pub fn wait_ready(&mut self, timeout: Duration) -> Result<(), BoxError> {
        let deadline = Instant::now() + timeout;
        while !self.ready.iter().all(|&r| r) {
            if Instant::now() > deadline {
                return Err(format!("children not ready after {timeout:?}").into());
            }
            self.listen()?;
        }
        Ok(())
    }

    /// Where child `index` serves its page (known once it is ready).
    pub fn page(&self, index: usize) -> Option<std::net::SocketAddr> {
        self.pages.get(&index).copied()
    }

    /// Closes every child's stdin, which stops it.
    pub fn stop(&mut self) {
        for child in &mut self.running {
            child.stdin.take();
        }
    }

    /// Waits for every child's report. With `shared_count`, the children
    /// share one queue: once their progress adds up to it, and half a
    /// second more for duplicates, their stdin is closed to stop them.
    pub fn finish(
        mut self,
        shared_count: Option<u64>,
        timeout: Duration,
    ) -> Result<Vec<ChildReport>, BoxError> {
        let mut all_handled_at: Option<Instant> = None;
        let deadline = Instant::now() + timeout;
        while !self.reports.iter().all(Option::is_some) {
            if all_handled_at.is_some_and(|t| t.elapsed() > Duration::from_millis(500)) {
                for child in &mut self.running {
                    child.stdin.take();
                }
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "children stalled at {:?} of {shared_count:?}",
                    self.progress
                )
                .into());
            }
            self.listen()?;
            if let Some(count) = shared_count {
                if all_handled_at.is_none() && self.progress.values().sum::<u64>() >= count {
                    all_handled_at = Some(Instant::now());
                }
            }
        }
        self.finished = true;
        Ok(self.reports.iter_mut().filter_map(Option::take).collect())
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.running {
            child.stdin.take();
            if !self.finished {
                let _ = child.child.kill();
            }
        }
        for child in &mut self.running {
            let _ = child.child.wait();
        }
    }
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
            let message = if let Some(address) = line.strip_prefix("page ") {
                match address.parse() {
                    Ok(address) => Said::Page(address),
                    Err(_) => continue,
                }
            } else if line == "ready" {
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
    let all_args: Vec<Vec<String>> = (0..processes)
        .map(|index| {
            let mut extra = args.to_vec();
            if let Some(dir) = ids_dir {
                extra.push("--ids".into());
                extra.push(dir.join(format!("ids-{index}.txt")).display().to_string());
            }
            extra
        })
        .collect();
    Children::spawn(ctx, &all_args)?.finish(Some(count), Duration::from_secs(300))
}

/// Command-line arguments from string slices.
pub fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
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
