//! `watch`, `replay` and `record`: a monitor, its callbacks, and the main
//! thread waiting for it to end or for Ctrl-C.

use std::fs::{File, OpenOptions};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pulse_build_monitor::PoolConfig;
use pulse_build_monitor::{
    replay, DetailsSettings, Filter, FilterSpec, Monitor, MonitorBuilder, PushSettings, QueueType,
    RawMessage, Record, Source, Stats, StopReport,
};

use crate::args::{
    DetailsArgs, FilterArgs, OutputArgs, PushArgs, QueueArgs, QueueTypeArg, RecordArgs, ReplayArgs,
    SourceArg, WatchArgs,
};
use crate::broker;
use crate::error::CliError;
use crate::output::{self, Printer, StopFlag};

/// Replays show a progress line on a terminal when the files hold more
/// than this (about a thousand messages).
const PROGRESS_THRESHOLD_BYTES: u64 = 1 << 20;

/// `pulse-monitor watch`.
pub fn watch(args: WatchArgs) -> Result<ExitCode, CliError> {
    let filter = build_filter(&args.filter)?;
    check_queue_args(&args.queue)?;
    let settings = broker::settings(&args.connect)?;
    let stop = install_stop_handler()?;
    broker::wait_for_broker(&settings, Duration::from_secs(args.connect.connect_timeout))?;

    let printer = Arc::new(Printer::new(
        args.output.json,
        args.output.exec.clone(),
        Arc::clone(&stop),
    ));
    let builder = printing_monitor(filter, &args.output, &printer, &args.pushes, true)?
        .source(source(
            args.queue.source.unwrap_or(SourceArg::Buildbot),
            args.queue.progress,
        )?)
        .broker(settings.clone());
    let mut builder = queue_options(builder, &args.queue)?;
    let live_taskcluster = args.queue.source == Some(SourceArg::Taskcluster);
    if let Some(details) = details_settings(&args.details, live_taskcluster)? {
        builder = builder.details(details);
    }
    if let Some(workers) = args.output.workers {
        builder = builder.callback_pool(PoolConfig::default().with_workers(workers));
    }
    if let Some(address) = args.metrics {
        builder = builder.metrics(address);
    }
    let monitor = builder.start().map_err(monitor_error)?;
    if let Some(address) = monitor.metrics_address() {
        status!("pulse-monitor: metrics at http://{address}/metrics");
    }
    status!(
        "pulse-monitor: consuming {} on {settings}; Ctrl-C stops",
        monitor.queue_name().unwrap_or("the queue")
    );
    let (report, _) = run_until_done(&monitor, &stop, None);
    status!("pulse-monitor: stopped: {}", stats_line(&report.stats));
    warn_if_incomplete(&report);
    Ok(ExitCode::SUCCESS)
}

/// `pulse-monitor replay`.
pub fn replay(args: ReplayArgs) -> Result<ExitCode, CliError> {
    let filter = build_filter(&args.filter)?;
    let messages = replay::stream(&args.paths).map_err(|e| CliError::failure(e.to_string()))?;
    let skipped = messages.skipped();
    let (bytes_read, total_bytes) = (messages.bytes_read(), messages.total_bytes());
    let stop = install_stop_handler()?;
    let printer = Arc::new(Printer::new(
        args.output.json,
        args.output.exec.clone(),
        Arc::clone(&stop),
    ));
    // One callback thread by default, so rows come out in the files' order.
    let mut builder = printing_monitor(filter, &args.output, &printer, &args.pushes, false)?;
    if let Some(details) = details_settings(&args.details, false)? {
        builder = builder.details(details);
    }
    let builder = builder
        .source(source(args.source, args.progress)?)
        .callback_pool(PoolConfig::default().with_workers(args.output.workers.unwrap_or(1)))
        .messages(messages);
    let monitor = builder.start().map_err(monitor_error)?;
    let progress = (std::io::stderr().is_terminal() && total_bytes > PROGRESS_THRESHOLD_BYTES)
        .then(|| Progress::new(total_bytes, bytes_read));
    let (report, interrupted) = run_until_done(&monitor, &stop, progress);
    if args.pushes.pushes {
        let mut pushes = monitor.pushes();
        pushes.sort_by(|a, b| a.first_seen.cmp(&b.first_seen).then(a.tree.cmp(&b.tree)));
        for push in &pushes {
            printer.print_summary(push);
        }
    }
    let stats = &report.stats;
    status!(
        "{}: received {}, translated {}, matched {}, errors {}{}",
        if interrupted {
            "replay interrupted"
        } else {
            "replay"
        },
        stats.received,
        stats.translated,
        stats.matched,
        stats.translation_errors,
        if stats.callback_panics > 0 {
            format!(", callback panics {}", stats.callback_panics)
        } else {
            String::new()
        }
    );
    warn_if_incomplete(&report);
    // Each skipped input was logged as a warning when it was met.
    let skipped = skipped.take();
    if !skipped.is_empty() {
        return Err(CliError::failure(format!(
            "{} input(s) skipped: they are not messages (see the warnings above)",
            skipped.len()
        )));
    }
    Ok(ExitCode::SUCCESS)
}

/// `pulse-monitor record`.
pub fn record(args: RecordArgs) -> Result<ExitCode, CliError> {
    check_queue_args(&args.queue)?;
    let settings = broker::settings(&args.connect)?;
    let recorder = Arc::new(Mutex::new(Recorder::open(&args.out, args.max_bytes)?));
    let stop = install_stop_handler()?;
    broker::wait_for_broker(&settings, Duration::from_secs(args.connect.connect_timeout))?;

    let every_tree = Filter::builder()
        .any_tree()
        .build()
        .expect("any_tree is a valid filter");
    let (writer, failed) = (Arc::clone(&recorder), Arc::clone(&stop));
    let builder = Monitor::builder()
        .filter(every_tree)
        .source(source(
            args.queue.source.unwrap_or(SourceArg::Buildbot),
            args.queue.progress,
        )?)
        // One thread keeps the file in the order messages arrived.
        .callback_pool(PoolConfig::default().with_workers(1))
        .on_message(move |message| {
            let mut recorder = writer.lock().unwrap_or_else(PoisonError::into_inner);
            if let Err(e) = recorder.append(message) {
                // Carrying on would acknowledge messages we never wrote.
                log::error!("cannot write to {}: {e}; stopping", recorder.path.display());
                recorder.failed = true;
                failed.request();
            }
        })
        .broker(settings.clone());
    let builder = queue_options(builder, &args.queue)?;
    let monitor = builder.start().map_err(monitor_error)?;
    status!(
        "pulse-monitor: recording {} on {settings} to {}; Ctrl-C stops",
        monitor.queue_name().unwrap_or("the queue"),
        args.out.display()
    );
    let (report, _) = run_until_done(&monitor, &stop, None);
    let recorder = recorder.lock().unwrap_or_else(PoisonError::into_inner);
    status!(
        "pulse-monitor: recorded {} messages to {}: {}",
        recorder.written,
        args.out.display(),
        stats_line(&report.stats)
    );
    if recorder.failed {
        return Err(CliError::failure(format!(
            "recording to {} failed; see the log above",
            args.out.display()
        )));
    }
    Ok(ExitCode::SUCCESS)
}

/// The filter rules: `--filter-file` first, the flags added to it.
pub(crate) fn build_filter(args: &FilterArgs) -> Result<Filter, CliError> {
    filter_from_spec(&filter_spec(args)?)
}

/// The rules as given: `--filter-file` first, the flags added to it.
pub(crate) fn filter_spec(args: &FilterArgs) -> Result<FilterSpec, CliError> {
    let mut spec = match &args.filter_file {
        Some(path) => FilterSpec::from_json_file(path)
            .map_err(|e| CliError::usage(format!("--filter-file {}: {e}", path.display())))?,
        None => FilterSpec::default(),
    };
    args.rules.apply(&mut spec);
    Ok(spec)
}

pub(crate) fn filter_from_spec(spec: &FilterSpec) -> Result<Filter, CliError> {
    Filter::from_spec(spec).map_err(|e| CliError::usage(format!("invalid filter: {e}")))
}

/// The queue flags `watch` and `record` share: label, durability, type,
/// delivery limit, dedupe window, exchange declaration.
pub(crate) fn queue_options(
    mut builder: MonitorBuilder,
    args: &QueueArgs,
) -> Result<MonitorBuilder, CliError> {
    builder = builder
        .durable(args.durable)
        .declare_exchanges(args.declare_exchanges);
    if let Some(label) = &args.label {
        builder = builder.label(label.clone());
    }
    builder = builder.queue_type(match args.queue_type {
        QueueTypeArg::Classic => QueueType::Classic,
        QueueTypeArg::Quorum => QueueType::Quorum,
    });
    check_queue_args(args)?;
    if let Some(limit) = args.delivery_limit {
        builder = builder.delivery_limit(limit);
    }
    if let Some(window) = args.dedupe_window {
        builder = builder.dedupe_window(window);
    }
    Ok(builder)
}

/// Usage errors in the queue flags, found before connecting.
pub(crate) fn check_queue_args(args: &QueueArgs) -> Result<(), CliError> {
    match args.delivery_limit {
        Some(limit) if args.queue_type != QueueTypeArg::Quorum => Err(CliError::usage(format!(
            "--delivery-limit {limit} needs --queue-type quorum: classic queues do not count \
             deliveries"
        ))),
        _ => Ok(()),
    }
}

/// The source to read; `--progress` only means something for Taskcluster.
pub(crate) fn source(source: SourceArg, progress: bool) -> Result<Source, CliError> {
    Ok(match source {
        SourceArg::Taskcluster => Source::Taskcluster { progress },
        _ if progress => {
            return Err(CliError::usage(
                "--progress reads Taskcluster's task-pending and task-running: add --source taskcluster",
            ))
        }
        SourceArg::Buildbot => Source::Buildbot,
        SourceArg::Normalized => Source::Normalized,
    })
}

/// A monitor whose build and test callbacks print, with the output flags
/// that do not depend on where messages come from.
///
/// With `--pushes`, pushes are printed instead of records: each event as
/// it happens (`live`, for `watch`), or each summary once the input ends
/// (replays, printed by the caller).
fn printing_monitor(
    filter: Filter,
    output: &OutputArgs,
    printer: &Arc<Printer>,
    pushes: &PushArgs,
    live: bool,
) -> Result<MonitorBuilder, CliError> {
    let mut builder = Monitor::builder().filter(filter);
    if pushes.pushes {
        let mut settings =
            PushSettings::default().with_quiet_period(Duration::from_secs(pushes.quiet_period));
        if let Some(path) = &pushes.state {
            settings = settings.with_state_file(path.clone());
        }
        builder = builder.push_tracking(settings);
        if live {
            let events = Arc::clone(printer);
            builder = builder.on_push(move |event| events.print_push(&event));
        }
    } else {
        let (builds, tests, tasks) = (
            Arc::clone(printer),
            Arc::clone(printer),
            Arc::clone(printer),
        );
        builder = builder
            .on_build(move |build| builds.print(&Record::Build(build)))
            .on_test(move |test| tests.print(&Record::Test(test)))
            .on_task(move |task| tasks.print(&Record::Task(task)));
    }
    if output.explain {
        builder = builder.on_filtered_out(|record, rejection| output::explain(&record, &rejection));
    }
    if let Some(path) = &output.log_file {
        builder = builder.log_file(path.clone());
    }
    if let Some(path) = &output.dead_letter {
        builder = builder.dead_letter_file(path.clone());
    }
    #[cfg(feature = "fetch")]
    if let Some(root_url) = &output.task_definitions {
        let fetcher = pulse_build_monitor::TaskDefinitionFetcher::new(root_url.clone())
            .map_err(|e| CliError::usage(format!("--task-definitions: {e}")))?;
        builder = builder
            .taskcluster_root_url(root_url.clone())
            .task_definitions(fetcher);
    }
    Ok(builder)
}

/// The details to fetch: with `--details`, or by default when `live` (a
/// broker's Taskcluster messages), unless `--no-details`.
pub(crate) fn details_settings(
    args: &DetailsArgs,
    live: bool,
) -> Result<Option<DetailsSettings>, CliError> {
    if args.no_details || !(args.details || live) {
        return Ok(None);
    }
    details_from(args, &args.taskcluster_root_url).map(Some)
}

/// Details from the queue at `root_url`, waited for as `args` say.
pub(crate) fn details_from(
    args: &DetailsArgs,
    root_url: &str,
) -> Result<DetailsSettings, CliError> {
    let queue = pulse_taskcluster::Queue::new(root_url)
        .map_err(|e| CliError::usage(format!("--taskcluster-root-url: {e}")))?;
    Ok(DetailsSettings::new(queue).with_timeout(Duration::from_secs(args.details_timeout)))
}

pub(crate) fn monitor_error(e: pulse_build_monitor::Error) -> CliError {
    use pulse_build_monitor::ErrorKind;
    match e.kind() {
        ErrorKind::Wire(wire) => broker::wire_error(wire),
        ErrorKind::Filter(_) => CliError::usage(e.to_string()),
        _ => CliError::failure(e.to_string()),
    }
}

/// Ctrl-C (or SIGTERM) asks for a graceful stop; a second one quits at once.
pub(crate) fn install_stop_handler() -> Result<Arc<StopFlag>, CliError> {
    let stop = Arc::new(StopFlag::default());
    let flag = Arc::clone(&stop);
    ctrlc::set_handler(move || {
        if flag.is_requested() {
            status!("pulse-monitor: stopping at once");
            std::process::exit(130);
        }
        status!("pulse-monitor: stopping; waiting for callbacks in flight (Ctrl-C again quits)");
        flag.request();
    })
    .map_err(|e| CliError::failure(format!("cannot install the Ctrl-C handler: {e}")))?;
    Ok(stop)
}

/// Waits until the monitor ends (a replay ran out) or a stop is requested;
/// returns its report and whether it was stopped early.
fn run_until_done(
    monitor: &Monitor,
    stop: &StopFlag,
    progress: Option<Progress>,
) -> (StopReport, bool) {
    let done = |report: StopReport, interrupted: bool| {
        if let Some(progress) = &progress {
            progress.bar.finish_and_clear();
        }
        (report, interrupted)
    };
    loop {
        if let Some(report) = monitor.join_timeout(Duration::from_millis(100)) {
            return done(report, false);
        }
        if let Some(progress) = &progress {
            progress.show(monitor.stats().received);
        }
        if stop.is_requested() {
            return done(monitor.stop(), true);
        }
    }
}

/// The one-line replay counter on stderr: `replaying N/TOTAL messages (P%)`.
/// A replay's progress line: how much of the files is read, and how many
/// messages.
struct Progress {
    bar: ProgressBar,
    bytes_read: Arc<AtomicU64>,
}

impl Progress {
    fn new(total_bytes: u64, bytes_read: Arc<AtomicU64>) -> Progress {
        let style = ProgressStyle::with_template(
            "replaying {bytes}/{total_bytes} ({percent}%), {msg} messages",
        )
        .expect("a valid progress template");
        let bar = ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr())
            .with_style(style);
        Progress { bar, bytes_read }
    }

    fn show(&self, received: u64) {
        self.bar
            .set_position(self.bytes_read.load(Ordering::Relaxed));
        self.bar.set_message(received.to_string());
    }
}

pub(crate) fn stats_line(stats: &Stats) -> String {
    format!(
        "received {}, translated {}, matched {}, translation errors {}, callback panics {}, \
         acknowledged {}, duplicates {}, reconnects {}, queue deleted {}",
        stats.received,
        stats.translated,
        stats.matched,
        stats.translation_errors,
        stats.callback_panics,
        stats.acknowledged,
        stats.duplicates,
        stats.reconnects,
        stats.queue_deleted
    )
}

pub(crate) fn warn_if_incomplete(report: &StopReport) {
    if !report.is_complete() {
        log::warn!(
            "{} callback calls were still running and {} never started; \
             their messages go back to the queue",
            report.still_running.len(),
            report.abandoned.len()
        );
    }
}

/// The `record` file: JSON lines of recorded [`Message`](pulse_build_monitor::Message)s, rotated to
/// `FILE.1` at `--max-bytes`.
struct Recorder {
    path: PathBuf,
    file: File,
    size: u64,
    max_bytes: Option<u64>,
    written: u64,
    failed: bool,
}

impl Recorder {
    fn open(path: &Path, max_bytes: Option<u64>) -> Result<Recorder, CliError> {
        let file = open_append(path)
            .map_err(|e| CliError::failure(format!("cannot open {}: {e}", path.display())))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        Ok(Recorder {
            path: path.to_path_buf(),
            file,
            size,
            max_bytes,
            written: 0,
            failed: false,
        })
    }

    fn append(&mut self, message: &RawMessage) -> std::io::Result<()> {
        let mut line =
            serde_json::to_string(&message.message).expect("a message always serializes");
        line.push('\n');
        let len = line.len() as u64;
        if let Some(max) = self.max_bytes {
            if self.size > 0 && self.size + len > max {
                self.rotate()?;
            }
        }
        self.file.write_all(line.as_bytes())?;
        self.size += len;
        self.written += 1;
        Ok(())
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        let mut rotated = self.path.clone().into_os_string();
        rotated.push(".1");
        std::fs::rename(&self.path, &rotated)?;
        self.file = open_append(&self.path)?;
        self.size = 0;
        log::info!(
            "{} reached --max-bytes; the older lines are in .1",
            self.path.display()
        );
        Ok(())
    }
}

fn open_append(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}
