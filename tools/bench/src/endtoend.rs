//! Through the broker in this process: the monitor against a bare
//! consumer draining the same backlog, and publish-to-callback latency.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use pulse_build_monitor::ConsumeOptions;
use pulse_build_monitor::{exchanges, DetailsSettings, Filter, Monitor, PushSettings, Source};
use pulse_wire::{ConnectionSettings, Message};

use crate::broker::{self, BoxError, Drain};
use crate::corpus::{seq_of, Template};
use crate::report::{Row, Target};
use crate::threads;
use crate::{Context, Kind};

/// The monitor's default prefetch; the baseline uses the same.
pub const PREFETCH: u16 = 256;

/// A filter that keeps every record: all trees, talos included.
pub fn keep_everything() -> Filter {
    Filter::builder()
        .any_tree()
        .talos(true)
        .build()
        .expect("an unrestricted filter is valid")
}

/// A filter that keeps every record of every kind: Taskcluster's other
/// tasks and unfinished ones too, so nothing is dropped before a callback.
pub fn keep_every_kind() -> Filter {
    Filter::builder()
        .any_tree()
        .any_kind()
        .talos(true)
        .build()
        .expect("an unrestricted filter is valid")
}

/// What a callback tells the bench about a record.
#[derive(Clone, Copy, Debug)]
pub struct Heard<'a> {
    /// The record's key (the routing key, for Taskcluster).
    pub key: &'a str,
    /// Its revision, when it names one.
    pub revision: Option<&'a str>,
}

/// Starts a monitor on the durable queue `queue/<user>/<label>` calling
/// `callback` with each record (builds, tests and, for Taskcluster, every
/// other task), then removes its bindings to the shared exchanges so only
/// what the bench bound beforehand feeds the queue.
pub fn start_monitor(
    settings: &ConnectionSettings,
    source: Source,
    label: &str,
    callback: impl Fn(Heard<'_>) + Send + Sync + 'static,
) -> Result<Monitor, BoxError> {
    start_monitor_tracking(settings, source, label, Extras::default(), callback)
}

/// What a bench monitor does besides calling back with records.
#[derive(Default)]
pub struct Extras {
    /// Track pushes so.
    pub pushes: Option<PushSettings>,
    /// Fetch record details so.
    pub details: Option<DetailsSettings>,
    /// Feed this page with push events and builds (needs `pushes`).
    pub page: Option<pulse_page::Page>,
}

/// [`start_monitor`], with push tracking, details and a page as `extras`
/// say.
pub fn start_monitor_tracking(
    settings: &ConnectionSettings,
    source: Source,
    label: &str,
    extras: Extras,
    callback: impl Fn(Heard<'_>) + Send + Sync + 'static,
) -> Result<Monitor, BoxError> {
    let Extras {
        pushes,
        details,
        page,
    } = extras;
    let callback = Arc::new(callback);
    let (on_test, on_task) = (Arc::clone(&callback), Arc::clone(&callback));
    let filter = match source {
        Source::Taskcluster { .. } => keep_every_kind(),
        _ => keep_everything(),
    };
    let mut bindings = source.bindings(&filter);
    let mut builder = Monitor::builder();
    if let Some(pushes) = pushes {
        bindings.extend(source.push_bindings(&filter));
        builder = builder.push_tracking(pushes);
    }
    if let Some(details) = details {
        builder = builder.details(details);
    }
    let built = page.clone();
    if let Some(page) = page {
        builder = builder.on_push(move |event| page.push_event(&event));
    }
    let monitor = builder
        .broker(settings.clone())
        .source(source)
        .filter(filter)
        .label(label)
        .durable(true)
        .declare_exchanges(true)
        .consume_options(ConsumeOptions::default().with_prefetch(PREFETCH))
        .on_build(move |build| {
            if let Some(page) = &built {
                page.build(&build);
            }
            callback(Heard {
                key: &build.job.key,
                revision: build.job.revision.as_deref(),
            })
        })
        .on_test(move |test| {
            on_test(Heard {
                key: &test.job.key,
                revision: test.job.revision.as_deref(),
            })
        })
        .on_task(move |task| {
            on_task(Heard {
                key: &task.key,
                revision: task.revision.as_deref(),
            })
        })
        .start()?;
    let queue = monitor.queue_name().ok_or("a broker monitor has a queue")?;
    broker::unbind(settings, queue, &bindings)?;
    Ok(monitor)
}

/// Counts the bench's own records (keys tagged `base .. base + count`, or
/// records of one revision) as callbacks see them, and when.
pub struct Tracker {
    base: u64,
    count: u64,
    /// When set, the records of this revision are the bench's (no
    /// per-message times).
    revision: Option<String>,
    epoch: Instant,
    handled: AtomicU64,
    foreign: AtomicU64,
    first: OnceLock<Instant>,
    last: Mutex<Option<Instant>>,
    done: Mutex<Option<mpsc::Sender<()>>>,
    /// Per message: nanoseconds after `epoch` it was published (0: not yet).
    sent: Vec<AtomicU64>,
    /// Per message: publish-to-callback nanoseconds plus one (0: not seen).
    latency: Vec<AtomicU64>,
    /// The same for the bare consumer beside the monitor.
    bare_latency: Vec<AtomicU64>,
}

impl Tracker {
    /// A tracker; `with_latency` keeps per-message times.
    pub fn new(base: u64, count: u64, with_latency: bool) -> (Arc<Tracker>, mpsc::Receiver<()>) {
        Tracker::with(base, count, None, with_latency)
    }

    /// A tracker of `count` records of `revision`.
    pub fn for_revision(revision: &str, count: u64) -> (Arc<Tracker>, mpsc::Receiver<()>) {
        Tracker::with(0, count, Some(revision.to_owned()), false)
    }

    fn with(
        base: u64,
        count: u64,
        revision: Option<String>,
        with_latency: bool,
    ) -> (Arc<Tracker>, mpsc::Receiver<()>) {
        let (done_tx, done_rx) = mpsc::channel();
        let slots = if with_latency { count as usize } else { 0 };
        let tracker = Tracker {
            base,
            count,
            revision,
            epoch: Instant::now(),
            handled: AtomicU64::new(0),
            foreign: AtomicU64::new(0),
            first: OnceLock::new(),
            last: Mutex::new(None),
            done: Mutex::new(Some(done_tx)),
            sent: (0..slots).map(|_| AtomicU64::new(0)).collect(),
            latency: (0..slots).map(|_| AtomicU64::new(0)).collect(),
            bare_latency: (0..slots).map(|_| AtomicU64::new(0)).collect(),
        };
        (Arc::new(tracker), done_rx)
    }

    /// Which of the bench's messages a record is (its index), if it is one.
    fn index(&self, heard: Heard<'_>) -> Option<u64> {
        match &self.revision {
            Some(revision) => (heard.revision == Some(revision.as_str())).then_some(0),
            None => match seq_of(heard.key) {
                Some(seq) if (self.base..self.base + self.count).contains(&seq) => {
                    Some(seq - self.base)
                }
                _ => None,
            },
        }
    }

    /// Called from the record callbacks.
    pub fn handle(&self, heard: Heard<'_>) {
        let now = Instant::now();
        let Some(index) = self.index(heard) else {
            self.foreign.fetch_add(1, Ordering::Relaxed);
            return;
        };
        self.record_latency(&self.latency, index, now);
        self.first.get_or_init(|| now);
        let handled = self.handled.fetch_add(1, Ordering::SeqCst) + 1;
        if handled >= self.count {
            *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(now);
            if let Some(done) = self.done.lock().unwrap_or_else(|e| e.into_inner()).take() {
                let _ = done.send(());
            }
        }
    }

    fn record_latency(&self, slots: &[AtomicU64], index: u64, now: Instant) {
        if let Some(slot) = slots.get(index as usize) {
            let sent = self.sent[index as usize].load(Ordering::SeqCst);
            let since = now.duration_since(self.epoch).as_nanos() as u64;
            slot.store(since.saturating_sub(sent) + 1, Ordering::SeqCst);
        }
    }

    /// Called by the bare consumer with the sequence number it received.
    fn bare_arrived(&self, seq: u64) {
        let now = Instant::now();
        if let Some(index) = seq.checked_sub(self.base) {
            self.record_latency(&self.bare_latency, index, now);
        }
    }

    /// Records that message `index` is being published now.
    fn mark_sent(&self, index: usize) {
        let since = self.epoch.elapsed().as_nanos() as u64;
        self.sent[index].store(since, Ordering::SeqCst);
    }

    fn drain(&self) -> Drain {
        let last = *self.last.lock().unwrap_or_else(|e| e.into_inner());
        let elapsed = match (self.first.get(), last) {
            (Some(first), Some(last)) => last.duration_since(*first),
            _ => Duration::ZERO,
        };
        Drain {
            count: self.handled.load(Ordering::SeqCst),
            elapsed,
            last,
        }
    }
}

/// Drains the backlog in `queue/<user>/<label>` through a monitor reading
/// `source` until `tracker` has seen its count; also returns how busy each
/// of the monitor's threads was meanwhile.
pub fn monitor_drain(
    ctx: &Context,
    source: Source,
    label: &str,
    tracker: &Arc<Tracker>,
    done: mpsc::Receiver<()>,
) -> Result<(Drain, String), BoxError> {
    let seen = Arc::clone(tracker);
    let monitor = start_monitor(&ctx.broker, source, label, move |heard| seen.handle(heard))?;
    // From here on the monitor is consuming: connecting is not counted.
    let before = threads::cpu_by_name();
    let started = Instant::now();
    let finished = done.recv_timeout(Duration::from_secs(180));
    let busy = threads::busy_since(&before, started.elapsed());
    let report = monitor.stop();
    finished.map_err(|_| {
        format!(
            "monitor drained only {}/{} ({:?})",
            tracker.handled.load(Ordering::SeqCst),
            tracker.count,
            report.stats
        )
    })?;
    if report.stats.translation_errors > 0 || report.stats.callback_panics > 0 {
        return Err(format!("the monitor had errors: {:?}", report.stats).into());
    }
    let foreign = tracker.foreign.load(Ordering::SeqCst);
    if foreign > 0 {
        log::info!("{foreign} records from others' messages were not counted");
    }
    Ok((tracker.drain(), busy))
}

/// The queues of one round: two bare consumers' and the monitor's, each
/// holding its own copy of the same backlog.
pub struct Round {
    /// The bare consumer's queue.
    pub bare_queue: String,
    /// The queue of the bare consumer that parses.
    pub parse_queue: String,
    /// The monitor's label (its queue is `queue/<user>/<label>`).
    pub label: String,
}

impl Round {
    /// The names for round `round` of the `what` measurement.
    pub fn new(ctx: &Context, what: &str, round: usize) -> Round {
        let user = &ctx.broker.user;
        Round {
            bare_queue: format!("queue/{user}/{}-bare-{what}-{round}", ctx.run),
            parse_queue: format!("queue/{user}/{}-parse-{what}-{round}", ctx.run),
            label: format!("{}-monitor-{what}-{round}", ctx.run),
        }
    }

    /// The three queues.
    pub fn queues(&self, ctx: &Context) -> [String; 3] {
        [
            self.bare_queue.clone(),
            self.parse_queue.clone(),
            pulse_wire::queue_name(&ctx.broker.user, Some(&self.label)),
        ]
    }
}

/// The best rates over the rounds of one measurement.
#[derive(Default)]
pub struct Best {
    bare: f64,
    parse: f64,
    monitor: f64,
    busy: String,
    /// The least CPU per message over the rounds (µs): this process and
    /// the broker, (process, broker) for the bare consumer and the monitor.
    bare_cpu: Option<(f64, f64)>,
    monitor_cpu: Option<(f64, f64)>,
    /// Whether the broker's CPU could be read (it runs on this machine).
    broker_counted: bool,
}

/// Runs `drain` and returns its result with the CPU it cost per message
/// (µs): this process's (every thread: the consumer's, amiquip's, the
/// monitor's) and the broker's, read before and after.
fn with_cpu<T>(
    broker: Option<&str>,
    count: u64,
    drain: impl FnOnce() -> Result<T, BoxError>,
) -> Result<(T, (f64, f64)), BoxError> {
    let (process_before, broker_before) = threads::process_and_broker_cpu(broker);
    let result = drain()?;
    let (process_after, broker_after) = threads::process_and_broker_cpu(broker);
    let per_message = |seconds: f64| seconds / count as f64 * 1e6;
    Ok((
        result,
        (
            per_message(process_after - process_before),
            per_message(broker_after - broker_before),
        ),
    ))
}

/// Keeps the lower total of two (process, broker) costs.
fn least(kept: Option<(f64, f64)>, new: (f64, f64)) -> Option<(f64, f64)> {
    match kept {
        Some(old) if old.0 + old.1 <= new.0 + new.1 => Some(old),
        _ => Some(new),
    }
}

/// Drains the three copies of a backlog of `count` one after the other,
/// who goes first rotating with `round`, and keeps the best rates.
/// `monitor` drains the monitor's copy.
pub fn race(
    ctx: &Context,
    (what, round): (&str, usize),
    queues: &Round,
    count: u64,
    best: &mut Best,
    monitor: &dyn Fn() -> Result<(Drain, String), BoxError>,
) -> Result<(), BoxError> {
    let (mut bare, mut parse, mut drained) = (None, None, None);
    let broker_pid = threads::broker_pid();
    let broker_pid = broker_pid.as_deref();
    let (mut bare_cpu, mut monitor_cpu) = ((0.0, 0.0), (0.0, 0.0));
    for turn in 0..3 {
        match (turn + round) % 3 {
            0 => {
                let (drain, cpu) = with_cpu(broker_pid, count, || {
                    broker::bare_drain(&ctx.broker, &queues.bare_queue, PREFETCH, count, false)
                })?;
                bare = Some(drain);
                bare_cpu = cpu;
            }
            1 => {
                parse = Some(broker::bare_drain(
                    &ctx.broker,
                    &queues.parse_queue,
                    PREFETCH,
                    count,
                    true,
                )?)
            }
            _ => {
                let (drain, cpu) = with_cpu(broker_pid, count, monitor)?;
                drained = Some(drain);
                monitor_cpu = cpu;
            }
        }
    }
    best.bare_cpu = least(best.bare_cpu, bare_cpu);
    best.monitor_cpu = least(best.monitor_cpu, monitor_cpu);
    best.broker_counted = broker_pid.is_some();
    let (bare, parse) = (bare.expect("ran").rate(), parse.expect("ran").rate());
    let (monitor, busy) = drained.expect("ran");
    eprintln!(
        "  {what} round {round}: bare {bare:.0} msg/s, bare+parse {parse:.0} msg/s, monitor {:.0} msg/s; monitor threads busy: {busy}; CPU per msg (process + broker) bare {:.1} + {:.1} µs, monitor {:.1} + {:.1} µs",
        monitor.rate(),
        bare_cpu.0,
        bare_cpu.1,
        monitor_cpu.0,
        monitor_cpu.1,
    );
    best.bare = best.bare.max(bare);
    best.parse = best.parse.max(parse);
    if monitor.rate() > best.monitor {
        best.monitor = monitor.rate();
        best.busy = busy;
    }
    Ok(())
}

/// The two rows of an end-to-end measurement.
pub fn throughput_rows(title: &str, how: String, best: &Best) -> Vec<Row> {
    let cpu_title = format!("CPU per message at saturation, {title} → no-op callback");
    let title = format!("end to end, {title} → no-op callback");
    let (monitor_cpu, bare_cpu) = (
        best.monitor_cpu.unwrap_or((f64::NAN, f64::NAN)),
        best.bare_cpu.unwrap_or((f64::NAN, f64::NAN)),
    );
    vec![
        Row::compare(
            cpu_title,
            monitor_cpu.0 + monitor_cpu.1,
            bare_cpu.0 + bare_cpu.1,
            |us| format!("{us:.1} µs"),
        )
        .target(Target::RatioAtMost(1.5))
        .note(format!(
            "the drains below; CPU time of the bench process (`CLOCK_PROCESS_CPUTIME_ID`) (every thread of the consumer: the monitor's or the bare consumer's, amiquip's) plus {} (utime+stime, 10 ms ticks), from before the consumer connects to after it stopped, per message; monitor {:.1} + broker {:.1} µs, bare consumer {:.1} + broker {:.1} µs; the round with the least total; the broker also serves whatever else runs on it meanwhile",
            if best.broker_counted { "the local broker's (`beam.smp`)" } else { "nothing for the broker (not on this machine)" },
            monitor_cpu.0,
            monitor_cpu.1,
            bare_cpu.0,
            bare_cpu.1,
        )),
        Row::versus(title.clone(), best.monitor, best.bare, "msg/s")
            .note(format!(
                "{how}; baseline: bare amiquip consumer, prefetch {PREFETCH}, acks coalesced as the monitor's are, no work; monitor threads busy (share of one core): {}",
                best.busy
            )),
        Row::versus(
            format!("{title}, against a bare consumer that parses"),
            best.monitor,
            best.parse,
            "msg/s",
        )
        .note("baseline: the same bare consumer, parsing each body into IgnoredAny first"),
    ]
}

/// Monitor against bare consumers (one doing nothing, one parsing each
/// body), each draining its own copy of the same backlog; the best of
/// `rounds`, which rotate who goes first.
pub fn throughput(
    ctx: &Context,
    kind: Kind,
    count: u64,
    rounds: usize,
) -> Result<Vec<Row>, BoxError> {
    let templates = ctx.templates(kind);
    let exchange = ctx.name("exchange", &format!("throughput-{}", kind.name()));
    let mut best = Best::default();
    let mut publisher = pulse_wire::Publisher::connect(&ctx.broker)?;
    let mut bytes = 0;
    for round in 0..rounds {
        let names = Round::new(ctx, kind.name(), round);
        let queues = names.queues(ctx);
        for queue in &queues {
            broker::declare_queue(&ctx.ledger, &mut publisher, queue, &exchange)?;
        }
        let base = ctx.next_base();
        bytes = broker::publish_backlog(&mut publisher, &exchange, templates, base, count)?;
        // The broker goes on writing the persistent backlog for a moment;
        // whoever drained first would pay for it.
        std::thread::sleep(Duration::from_secs(1));
        race(ctx, (kind.name(), round), &names, count, &mut best, &|| {
            let (tracker, done) = Tracker::new(base, count, false);
            monitor_drain(ctx, kind.source(), &names.label, &tracker, done)
        })?;
        for queue in &queues {
            ctx.ledger.delete_queue(queue);
        }
    }
    let _ = publisher.close();
    Ok(throughput_rows(
        kind.title(),
        format!(
            "{count} msgs of {} B average, best of {rounds}",
            bytes / count
        ),
        &best,
    ))
}

/// Publishes real-size raw messages at `rate` per second for `seconds` and
/// measures publish-to-callback latency through the monitor, and, as the
/// baseline, publish-to-arrival latency of a bare consumer reading a copy
/// of every message at the same time.
pub fn latency(ctx: &Context, seconds: u64, rate: u64) -> Result<Vec<Row>, BoxError> {
    latency_with(ctx, seconds, rate, false)
}

/// The latency rows again while failed tests' details are fetched from a
/// Taskcluster queue that never answers: a failed test message every
/// 20 ms beside the raw stream, each holding a details thread until its
/// 30 s deadline. The raw messages' latency must not notice: the baseline
/// is a twin monitor reading the same traffic at the same time with no
/// details asked, so both share the machine's moment.
pub fn latency_slow_details(ctx: &Context, seconds: u64, rate: u64) -> Result<Vec<Row>, BoxError> {
    latency_with(ctx, seconds, rate, true)
}

const P99: &str = "latency publish → callback, p99";
const P99_DETAILS_HANG: &str = "latency publish → callback, p99, while details hang";
const P99_HANG_AGAINST_TWIN: &str =
    "latency publish → callback, p99, details hanging against a twin without details";

/// A Taskcluster queue on 127.0.0.1 that accepts every connection and
/// never answers; the connections are kept until the process ends.
fn silent_queue() -> Result<String, BoxError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}", listener.local_addr()?);
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    Ok(url)
}

fn latency_with(
    ctx: &Context,
    seconds: u64,
    rate: u64,
    slow_details: bool,
) -> Result<Vec<Row>, BoxError> {
    let kind = Kind::Raw;
    let templates = ctx.templates(kind);
    let exchange = ctx.name("exchange", "latency");
    let label = format!("{}-latency", ctx.run);
    let queue = pulse_wire::queue_name(&ctx.broker.user, Some(&label));
    // With slow details, a twin monitor reads the same traffic with no
    // details asked: the baseline of the same moment on the same machine.
    let twin_label = format!("{}-latency-twin", ctx.run);
    let twin_queue = pulse_wire::queue_name(&ctx.broker.user, Some(&twin_label));
    let bare_queue = format!("queue/{}/{}-latency-bare", ctx.broker.user, ctx.run);
    let monitor_queues: &[&str] = if slow_details {
        &[&queue, &twin_queue]
    } else {
        &[&queue]
    };
    let mut publisher = pulse_wire::Publisher::connect(&ctx.broker)?;
    for queue in monitor_queues.iter().chain([&bare_queue.as_str()]) {
        broker::declare_queue(&ctx.ledger, &mut publisher, queue, &exchange)?;
    }
    let _ = publisher.close();

    let count = seconds * rate;
    let base = ctx.next_base();
    let (tracker, done) = Tracker::new(base, count, true);
    let seen = Arc::clone(&tracker);
    // With slow details: failed tests of a generated push of its own tree,
    // routed to the monitors' queues, whose details never come.
    let failed_tests: Vec<Message> = if slow_details {
        let tree = format!("{}-details", ctx.run);
        let push = pulse_synthetic::Push::builder()
            .tree(tree.as_str())
            .tasks(3000)
            .seed(3)
            .build();
        let mut publisher = pulse_wire::Publisher::connect(&ctx.broker)?;
        for queue in monitor_queues {
            publisher.declare(
                &pulse_wire::Topology::new(pulse_wire::QueueSpec::durable(*queue))
                    .bind(
                        exchanges::TASK_FAILED,
                        format!("route.tc-treeherder.v2.{tree}.#"),
                    )
                    .exchange_declaration(pulse_wire::ExchangeDeclaration::Declare),
            )?;
        }
        let _ = publisher.close();
        push.messages()
            .into_iter()
            .filter(|m| m.exchange == exchanges::TASK_FAILED)
            .map(|m| m.message)
            .collect()
    } else {
        Vec::new()
    };
    let details = if slow_details {
        let queue =
            pulse_taskcluster::Queue::new(silent_queue()?)?.timeout(Duration::from_secs(30));
        Some(DetailsSettings::new(queue).with_timeout(Duration::from_secs(30)))
    } else {
        None
    };
    let extras = Extras {
        details,
        ..Extras::default()
    };
    let monitor =
        start_monitor_tracking(&ctx.broker, kind.source(), &label, extras, move |heard| {
            seen.handle(heard)
        })?;
    let twin = if slow_details {
        let (twin_tracker, twin_done) = Tracker::new(base, count, true);
        let seen = Arc::clone(&twin_tracker);
        let twin = start_monitor(&ctx.broker, kind.source(), &twin_label, move |heard| {
            seen.handle(heard)
        })?;
        Some((twin, twin_tracker, twin_done))
    } else {
        None
    };
    let stop_failing = Arc::new(AtomicBool::new(false));
    let failing = {
        let (settings, stop) = (ctx.broker.clone(), Arc::clone(&stop_failing));
        std::thread::spawn(move || -> usize {
            let Ok(mut publisher) = pulse_wire::Publisher::connect(&settings) else {
                return 0;
            };
            let mut sent = 0;
            // Round and round until stopped (an empty list sends nothing).
            for message in failed_tests.iter().cycle() {
                // A message of its own each time (its routing key's last,
                // reserved word): the same bytes again would be a
                // redelivery to the dedupe window, parked behind the first.
                let mut message = message.clone();
                message.routing_key =
                    format!("{}{sent}", message.routing_key.trim_end_matches('_'));
                let message = &message;
                if stop.load(Ordering::SeqCst)
                    || publisher
                        .publish_batch(std::slice::from_ref(message))
                        .is_err()
                {
                    break;
                }
                sent += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = publisher.close();
            sent
        })
    };
    let stop_bare = Arc::new(AtomicBool::new(false));
    let bare = {
        let (settings, tracker, stop) = (
            ctx.broker.clone(),
            Arc::clone(&tracker),
            Arc::clone(&stop_bare),
        );
        let queue = bare_queue.clone();
        std::thread::spawn(move || {
            broker::bare_arrivals(
                &settings,
                &queue,
                PREFETCH,
                &|seq| tracker.bare_arrived(seq),
                &stop,
                count,
            )
            .map_err(|e| e.to_string())
        })
    };

    let message = |i: u64| {
        let template = &templates[(i % templates.len() as u64) as usize];
        let seq = base + i;
        Message {
            exchange: exchange.clone(),
            routing_key: template.routing_key(seq),
            body: template.body(seq),
            cc: Vec::new(),
        }
    };
    let published = broker::publish_paced(&ctx.broker, count, rate, &message, &|i| {
        tracker.mark_sent(i as usize);
        if let Some((_, twin_tracker, _)) = &twin {
            twin_tracker.mark_sent(i as usize);
        }
    });
    let drained_by = Instant::now() + Duration::from_secs(10);
    let _ = done.recv_timeout(drained_by.saturating_duration_since(Instant::now()));
    let twin = twin.map(|(twin, twin_tracker, twin_done)| {
        let _ = twin_done.recv_timeout(drained_by.saturating_duration_since(Instant::now()));
        twin.stop();
        Percentiles::of(&twin_tracker.latency)
    });
    stop_bare.store(true, Ordering::SeqCst);
    stop_failing.store(true, Ordering::SeqCst);
    let failing_sent = failing
        .join()
        .map_err(|_| "the failing publisher panicked")?;
    let bare_result = bare.join().map_err(|_| "the bare consumer panicked")?;
    let report = monitor.stop();
    for queue in monitor_queues.iter().chain([&bare_queue.as_str()]) {
        ctx.ledger.delete_queue(queue);
    }
    let (publishing, worst_lag) = published?;
    bare_result?;

    let monitor = Percentiles::of(&tracker.latency);
    let bare = Percentiles::of(&tracker.bare_latency);
    if monitor.received == 0 {
        return Err(format!("no message reached a callback ({:?})", report.stats).into());
    }
    let size = templates.iter().map(Template::size).sum::<usize>() / templates.len();
    let how = format!(
        "{count} raw msgs ({size} B average) at {rate}/s for {seconds} s ({:.1} s actual), publisher at most {:.1} ms behind schedule; reached the callback: {}, the bare consumer: {}; baseline: a bare amiquip consumer reading a copy of each message at the same time",
        publishing.as_secs_f64(),
        worst_lag.as_secs_f64() * 1e3,
        monitor.received,
        bare.received,
    );
    let row = |name: &str, q: f64| {
        let (ms, bare_ms) = (monitor.at(q), bare.at(q));
        let mut row = Row::info(name, format!("{ms:.2} ms"));
        row.value = ms;
        row.baseline = format!("{bare_ms:.2} ms");
        row.ratio = Some(ms / bare_ms);
        row
    };
    if let Some(twin) = twin {
        let how = format!(
            "{how}; meanwhile {failing_sent} failed-test messages (one every 20 ms) whose details (artifact list, errorsummary) were asked of a Taskcluster queue that accepts connections and never answers: each holds one of the 8 details threads until its 30 s deadline, the rest wait in the details queue or go without"
        );
        let mut paired = Row::compare(
            P99_HANG_AGAINST_TWIN,
            monitor.at(0.99),
            twin.at(0.99),
            |ms| format!("{ms:.2} ms"),
        )
        .target(Target::RatioAtMost(1.2))
        .note(format!(
            "the row above against a twin monitor reading the same raw and failed-test messages at the same time with no details asked; reached the twin's callback: {}",
            twin.received
        ));
        if monitor.received < count || twin.received < count {
            paired.ratio = Some(f64::INFINITY);
        }
        return Ok(vec![row(P99_DETAILS_HANG, 0.99).note(how), paired]);
    }
    let mut rows = vec![
        row("latency publish → callback, p50", 0.50).note(how),
        row(P99, 0.99).target(Target::RatioAtMost(1.2)),
        row("latency publish → callback, max", 1.0),
    ];
    if monitor.received < count {
        rows[2].note = format!(
            "{} messages never reached the callback",
            count - monitor.received
        );
        rows[1].ratio = Some(f64::INFINITY);
    }
    Ok(rows)
}

/// Sorted latencies of the messages that arrived.
struct Percentiles {
    sorted_ns: Vec<u64>,
    received: u64,
}

impl Percentiles {
    fn of(slots: &[AtomicU64]) -> Percentiles {
        let mut sorted_ns: Vec<u64> = slots
            .iter()
            .map(|l| l.load(Ordering::SeqCst))
            .filter(|&l| l > 0)
            .map(|l| l - 1)
            .collect();
        sorted_ns.sort_unstable();
        Percentiles {
            received: sorted_ns.len() as u64,
            sorted_ns,
        }
    }

    /// The `q` quantile in milliseconds (nearest rank).
    fn at(&self, q: f64) -> f64 {
        if self.sorted_ns.is_empty() {
            return f64::NAN;
        }
        let rank = (self.sorted_ns.len() as f64 * q).ceil() as usize;
        self.sorted_ns[rank.clamp(1, self.sorted_ns.len()) - 1] as f64 / 1e6
    }
}
