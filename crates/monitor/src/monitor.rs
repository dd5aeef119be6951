//! [`Monitor`] and its builder: the seed's `start_pulse_monitor`.

use std::net::SocketAddr;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{select, Receiver, RecvTimeoutError, Sender, TryRecvError};
use pulse_dispatch::{Completion, Job, Outcome, Pool};
use pulse_filter::{Filter, Rejection};
use pulse_translator::{BuildRecord, Record, TaskRecord, TestRecord};
use pulse_wire::{
    Acker, ConnectionSettings, ConsumeOptions, Consumer, ConsumerHandle, ExchangeDeclaration,
    QueueSpec, QueueType, Topology,
};

use crate::dedupe::{Admission, Dedupe, Identity};
use crate::metrics::{Metrics, MetricsServer};

use crate::eventlog::{dead_letter_line, LineFile};
use crate::message::RawMessage;
use crate::source::{Source, Translators};
use crate::stats::{Counters, Stats};
use crate::{Error, ErrorKind};

type BuildCallback = Arc<dyn Fn(BuildRecord) + Send + Sync>;
type TestCallback = Arc<dyn Fn(TestRecord) + Send + Sync>;
type TaskCallback = Arc<dyn Fn(TaskRecord) + Send + Sync>;
type RawCallback = Arc<dyn Fn(&RawMessage) + Send + Sync>;
type FilteredOutCallback = Arc<dyn Fn(Record, Rejection) + Send + Sync>;

/// Where messages come from.
enum Input {
    Broker(Box<ConnectionSettings>),
    Messages(Box<dyn Iterator<Item = RawMessage> + Send>),
}

/// Configures and starts a [`Monitor`]; see [`Monitor::builder`].
///
/// Every setting has a default that follows the Python monitor: trees
/// `["mozilla-central"]`, talos off, a random label, a classic queue that
/// goes away with the monitor, and Pulse itself (`pulse.mozilla.org:5671`, TLS) as the
/// broker, with credentials from `PULSE_URL` or `PULSE_USER`/`PULSE_PASSWORD`
/// unless [`broker`](Self::broker) says otherwise.
#[must_use = "a builder does nothing until start() is called"]
pub struct MonitorBuilder {
    on_build: Option<BuildCallback>,
    on_test: Option<TestCallback>,
    on_task: Option<TaskCallback>,
    on_message: Option<RawCallback>,
    on_filtered_out: Option<FilteredOutCallback>,
    filter: Filter,
    source: Source,
    input: Option<Input>,
    label: Option<String>,
    durable: bool,
    queue_type: QueueType,
    delivery_limit: Option<u32>,
    dedupe_window: Option<usize>,
    metrics: Option<SocketAddr>,
    declare_exchanges: bool,
    log_file: Option<PathBuf>,
    dead_letter_file: Option<PathBuf>,
    workers: usize,
    queue_bound: usize,
    consume: ConsumeOptions,
    translators: Translators,
}

impl Default for MonitorBuilder {
    fn default() -> MonitorBuilder {
        MonitorBuilder {
            on_build: None,
            on_test: None,
            on_task: None,
            on_message: None,
            on_filtered_out: None,
            filter: Filter::default(),
            source: Source::default(),
            input: None,
            label: None,
            durable: false,
            queue_type: QueueType::Classic,
            delivery_limit: None,
            dedupe_window: None,
            metrics: None,
            declare_exchanges: false,
            log_file: None,
            dead_letter_file: None,
            workers: 0,
            queue_bound: 256,
            consume: ConsumeOptions {
                // Jobs still running when stop()'s deadline passes keep
                // their messages unacknowledged; waiting long for them
                // would only delay the close that requeues them.
                stop_timeout: Duration::from_secs(2),
                ..ConsumeOptions::default()
            },
            translators: Translators::default(),
        }
    }
}

impl MonitorBuilder {
    /// Calls `callback` with every finished build that passes the filter
    /// (the seed's `buildCallback`).
    pub fn on_build(mut self, callback: impl Fn(BuildRecord) + Send + Sync + 'static) -> Self {
        self.on_build = Some(Arc::new(callback));
        self
    }

    /// Calls `callback` with every finished test or talos run that passes
    /// the filter (the seed's `testCallback`).
    pub fn on_test(mut self, callback: impl Fn(TestRecord) + Send + Sync + 'static) -> Self {
        self.on_test = Some(Arc::new(callback));
        self
    }

    /// Calls `callback` with every other Taskcluster task that passes the
    /// filter: lint jobs, toolchains, docker images, signing, the decision
    /// task… and, with [`Source::Taskcluster`]'s `progress`, tasks still
    /// pending or running. The default filter keeps builds and tests only:
    /// add [`Filter`] kinds (or any kind) for these to arrive.
    pub fn on_task(mut self, callback: impl Fn(TaskRecord) + Send + Sync + 'static) -> Self {
        self.on_task = Some(Arc::new(callback));
        self
    }

    /// Calls `callback` with every message received, unfiltered, even those
    /// the translator rejects (the seed's `pulseCallback`).
    pub fn on_message(mut self, callback: impl Fn(&RawMessage) + Send + Sync + 'static) -> Self {
        self.on_message = Some(Arc::new(callback));
        self
    }

    /// Calls `callback` with every translated record the filter rejects,
    /// and why: for `--explain`.
    pub fn on_filtered_out(
        mut self,
        callback: impl Fn(Record, Rejection) + Send + Sync + 'static,
    ) -> Self {
        self.on_filtered_out = Some(Arc::new(callback));
        self
    }

    /// The rules records must pass to reach the build and test callbacks.
    pub fn filter(mut self, filter: Filter) -> Self {
        self.filter = filter;
        self
    }

    /// Which exchanges to read on the broker (default: raw buildbot).
    /// Messages are translated by the exchange they came from, so replays
    /// may mix kinds.
    pub fn source(mut self, source: Source) -> Self {
        self.source = source;
        self.translators.default_source = source;
        self
    }

    /// Consume from this broker.
    pub fn broker(mut self, settings: ConnectionSettings) -> Self {
        self.input = Some(Input::Broker(Box::new(settings)));
        self
    }

    /// Read these messages instead of a broker: the in-process source, for
    /// replays, demos and tests. The monitor ends when they run out.
    pub fn messages<I>(mut self, messages: I) -> Self
    where
        I: IntoIterator<Item = RawMessage>,
        I::IntoIter: Send + 'static,
    {
        self.input = Some(Input::Messages(Box::new(messages.into_iter().fuse())));
        self
    }

    /// Replays the messages recorded in files and directories (see
    /// [`crate::replay`]).
    pub fn replay<P: AsRef<Path>>(self, paths: &[P]) -> Result<Self, Error> {
        let messages = crate::replay::load_paths(paths)?;
        Ok(self.messages(messages))
    }

    /// The label naming the queue `queue/<user>/<label>`. Monitors that
    /// share a label share the queue, and so the work. Default: random.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Keep the queue when the monitor stops, so a monitor started later
    /// with the same label gets what arrived meanwhile. Default: false.
    pub fn durable(mut self, durable: bool) -> Self {
        self.durable = durable;
        self
    }

    /// The queue type: [`QueueType::Classic`] (the default) or
    /// [`QueueType::Quorum`], replicated and durable, as Taskcluster
    /// declares its queues. A queue keeps the type it was declared with:
    /// changing it for an existing durable label fails with a
    /// precondition error until that queue is deleted.
    pub fn queue_type(mut self, queue_type: QueueType) -> Self {
        self.queue_type = queue_type;
        self
    }

    /// `x-delivery-limit` for a quorum queue: a message delivered this many
    /// times more without an acknowledgement (its callback crashed the
    /// process each time) is dropped by the broker, or dead-lettered if
    /// the queue has a dead-letter policy, instead of crash-looping the
    /// monitor forever. Needs [`queue_type`](Self::queue_type) quorum:
    /// [`start`](Self::start) refuses it on a classic queue.
    pub fn delivery_limit(mut self, limit: u32) -> Self {
        self.delivery_limit = Some(limit);
        self
    }

    /// How many handled messages the monitor remembers, so that a message
    /// the broker delivers again after a reconnect (its acknowledgement was
    /// lost with the connection) is acknowledged without calling the
    /// callbacks a second time. Default: 8 × the prefetch (2,048); 0 turns
    /// this off. Applies to the broker only, never to
    /// [`messages`](Self::messages) or [`replay`](Self::replay).
    ///
    /// A message is known by a hash of its exchange, routing key and body
    /// (Pulse messages carry no id): two messages published with the same
    /// three within the window count as one. What can still repeat: a
    /// message whose callbacks finished just before the process died,
    /// before its acknowledgement reached the broker, runs again in the
    /// next process, which remembers nothing.
    pub fn dedupe_window(mut self, messages: usize) -> Self {
        self.dedupe_window = Some(messages);
        self
    }

    /// Serves Prometheus metrics at `http://ADDRESS/metrics` (text format
    /// 0.0.4) while the monitor runs: the counters of [`Stats`], the queue
    /// depth, the seconds since the last delivery, a callback-duration
    /// histogram and records by kind. Port 0 picks a free port
    /// ([`Monitor::metrics_address`] says which). Nothing is served unless
    /// asked; [`metrics_port`](Self::metrics_port) listens on 127.0.0.1.
    pub fn metrics(mut self, address: SocketAddr) -> Self {
        self.metrics = Some(address);
        self
    }

    /// [`metrics`](Self::metrics) on `127.0.0.1:port`: only this machine
    /// can scrape it.
    pub fn metrics_port(self, port: u16) -> Self {
        self.metrics(SocketAddr::from(([127, 0, 0, 1], port)))
    }

    /// Create the exchanges if they are missing, instead of only checking
    /// that they exist: for a local broker. Never needed on Pulse.
    pub fn declare_exchanges(mut self, declare: bool) -> Self {
        self.declare_exchanges = declare;
        self
    }

    /// Append translation errors and callback panics to this file, as the
    /// seed's `logger` file name did.
    pub fn log_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.log_file = Some(path.into());
        self
    }

    /// Append every message the translator rejects to this file, as JSON
    /// lines that `replay` reads back.
    pub fn dead_letter_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.dead_letter_file = Some(path.into());
        self
    }

    /// Callback threads; 0 (the default) means one per core.
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = workers;
        self
    }

    /// Callback calls that may wait for a thread before the monitor stops
    /// taking messages (default 256).
    pub fn queue_bound(mut self, bound: usize) -> Self {
        self.queue_bound = bound;
        self
    }

    /// Most unacknowledged messages in flight from the broker (default 256).
    pub fn prefetch(mut self, prefetch: u16) -> Self {
        self.consume.prefetch = prefetch;
        self
    }

    /// All consumer settings: prefetch, reconnect backoff, queue depth
    /// warnings.
    pub fn consume_options(mut self, options: ConsumeOptions) -> Self {
        self.consume = options;
        self
    }

    /// The Taskcluster root URL log URLs start with (default
    /// `https://firefox-ci-tc.services.mozilla.com`).
    pub fn taskcluster_root_url(mut self, root_url: impl Into<String>) -> Self {
        self.translators.taskcluster.root_url = root_url.into();
        self
    }

    /// Completes Taskcluster messages that do not say enough on their own
    /// (no tags before 2019, no `tc-treeherder` route in the routing key,
    /// kinds only the definition's `extra.treeherder` places) with their
    /// task definitions, fetched from the queue and cached (feature
    /// `fetch`). Fetches run on the monitor's thread, one per task.
    #[cfg(feature = "fetch")]
    pub fn task_definitions(
        mut self,
        fetcher: impl Into<Arc<crate::TaskDefinitionFetcher>>,
    ) -> Self {
        self.translators.task_definitions = Some(fetcher.into());
        self
    }

    /// Starts the monitor and returns at once; the work runs on the
    /// monitor's own threads and callbacks on its pool.
    ///
    /// Fails when there is nothing to call, when files cannot be opened, or
    /// when the broker refuses us in a way retrying cannot mend (bad
    /// credentials, unknown vhost, certificate). A broker that is down is
    /// not an error: the monitor keeps trying to connect.
    pub fn start(mut self) -> Result<Monitor, Error> {
        if self.on_build.is_none()
            && self.on_test.is_none()
            && self.on_task.is_none()
            && self.on_message.is_none()
            && self.on_filtered_out.is_none()
        {
            return Err(Error::new(ErrorKind::NoCallback));
        }
        let log_file = self.log_file.as_deref().map(LineFile::open).transpose()?;
        let dead_letters = self
            .dead_letter_file
            .as_deref()
            .map(LineFile::open)
            .transpose()?;
        let pool = Pool::new(pulse_dispatch::Config {
            workers: self.workers,
            queue_bound: self.queue_bound,
        })
        .map_err(|e| Error::new(ErrorKind::Dispatch(e)))?;

        let input = match self.input.take() {
            Some(input) => input,
            None => Input::Broker(Box::new(ConnectionSettings::from_env()?)),
        };
        let mut queue_to_delete = None;
        let mut dedupe = None;
        let (consumer, messages) = match input {
            Input::Broker(settings) => {
                let topology = self.topology(&settings);
                if !self.durable {
                    queue_to_delete = Some(((*settings).clone(), topology.queue.name.clone()));
                }
                let consumer = Consumer::start(*settings, topology, self.consume.clone())?;
                let window = self
                    .dedupe_window
                    .unwrap_or(DEDUPE_PER_PREFETCH * usize::from(self.consume.prefetch));
                if window > 0 {
                    dedupe = Some(Arc::new(Dedupe::new(window)));
                }
                (Some(Arc::new(consumer)), None)
            }
            Input::Messages(messages) => (None, Some(messages)),
        };

        let shared = Arc::new(Shared {
            counters: Counters::default(),
            consumer,
            report: Mutex::new(None),
            started: Instant::now(),
            last_received: Mutex::new(None),
        });
        let (metrics, metrics_server) = match self.metrics {
            None => (None, None),
            Some(address) => {
                let metrics = Arc::new(Metrics::new());
                let source = Arc::clone(&shared);
                let server = MetricsServer::start(
                    address,
                    Arc::clone(&metrics),
                    Arc::new(move || source.stats()),
                )?;
                (Some(metrics), Some(server))
            }
        };
        let pump = Pump {
            shared: Arc::clone(&shared),
            on_build: self.on_build,
            on_test: self.on_test,
            on_task: self.on_task,
            on_message: self.on_message,
            on_filtered_out: self.on_filtered_out,
            filter: self.filter,
            translators: self.translators,
            log_file: log_file.map(Arc::new),
            dead_letters,
            queue_to_delete,
            dedupe,
            metrics,
        };
        let (stop_tx, stop_rx) = crossbeam_channel::bounded::<Duration>(1);
        let (done_tx, done_rx) = crossbeam_channel::bounded::<()>(0);
        let thread = std::thread::Builder::new()
            .name("pulse-monitor".to_string())
            .spawn(move || {
                let _done = done_tx;
                pump.run(pool, messages, stop_rx);
            })
            .map_err(|e| Error::new(ErrorKind::Spawn(e)))?;
        Ok(Monitor {
            shared,
            stop: stop_tx,
            done: done_rx,
            thread: Mutex::new(Some(thread)),
            metrics: metrics_server,
        })
    }

    fn topology(&self, settings: &ConnectionSettings) -> Topology {
        let label = self.label.clone().unwrap_or_else(pulse_wire::random_label);
        let name = pulse_wire::queue_name(&settings.user, Some(&label));
        let mut queue = if self.durable {
            QueueSpec::durable(name)
        } else {
            // Not exclusive: an exclusive queue dies with its connection, and
            // with it every message routed while we reconnect. Not
            // transient either: RabbitMQ 4 deprecates non-durable queues
            // that are not exclusive. So a durable queue the broker deletes
            // once unused for a while; stop() deletes it at once.
            QueueSpec::expiring(name, TRANSIENT_QUEUE_GRACE)
        };
        queue.queue_type = self.queue_type;
        queue.delivery_limit = self.delivery_limit;
        let declaration = if self.declare_exchanges {
            ExchangeDeclaration::Declare
        } else {
            ExchangeDeclaration::Passive
        };
        self.source
            .bindings(&self.filter)
            .into_iter()
            .fold(Topology::new(queue), |topology, (exchange, pattern)| {
                topology.bind(exchange, pattern)
            })
            .exchange_declaration(declaration)
    }
}

/// What [`Monitor::stop`] found when the monitor ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StopReport {
    /// The counters at the end.
    pub stats: Stats,
    /// Keys of callback calls still running when the deadline passed; their
    /// messages stay unacknowledged and will be delivered again.
    pub still_running: Vec<String>,
    /// Keys of callback calls never started because the deadline passed.
    pub abandoned: Vec<String>,
}

impl StopReport {
    /// Every callback call ended before the deadline.
    pub fn is_complete(&self) -> bool {
        self.still_running.is_empty() && self.abandoned.is_empty()
    }
}

struct Shared {
    counters: Counters,
    consumer: Option<Arc<ConsumerHandle>>,
    report: Mutex<Option<StopReport>>,
    started: Instant,
    /// When the pump took the last message.
    last_received: Mutex<Option<Instant>>,
}

impl Shared {
    fn stats(&self) -> Stats {
        let wire = self.consumer.as_ref().map(|c| c.stats());
        let mut stats = self
            .counters
            .snapshot(wire.as_ref().map_or(0, |w| w.reconnects));
        if let Some(wire) = &wire {
            stats.queue_deleted = wire.queue_deleted;
            stats.stalls = wire.stalls;
            stats.queue_depth = wire.queue_depth;
        }
        let last = *self
            .last_received
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        stats.since_last_delivery = last.unwrap_or(self.started).elapsed();
        stats.connected = wire.map(|w| w.connected);
        stats
    }
}

/// A running monitor: the handle [`MonitorBuilder::start`] returns.
///
/// Dropping it stops the monitor gracefully, as [`stop`](Self::stop) does.
///
/// ```
/// use std::time::Duration;
/// use pulse_build_monitor::{Monitor, RawMessage};
///
/// let message = RawMessage::new("exchange/build/", "build.x.1.finished", b"{}".to_vec());
/// let monitor = Monitor::builder()
///     .on_message(|message| println!("{}", message.routing_key))
///     .messages(vec![message])
///     .start()?;
/// // A broker monitor runs until stopped; this one ends with its messages.
/// while monitor.is_alive() {
///     monitor.join_timeout(Duration::from_secs(1));
/// }
/// let report = monitor.stop_timeout(Duration::from_secs(5));
/// assert!(report.is_complete());
/// assert_eq!((report.stats.received, report.stats.translation_errors), (1, 1));
/// # Ok::<(), pulse_build_monitor::Error>(())
/// ```
#[must_use = "dropping the monitor stops it"]
pub struct Monitor {
    shared: Arc<Shared>,
    stop: Sender<Duration>,
    done: Receiver<()>,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// Answers scrapes until the monitor is dropped.
    metrics: Option<MetricsServer>,
}

/// How long a non-durable monitor's queue outlives its last consumer, so
/// that reconnecting loses nothing.
const TRANSIENT_QUEUE_GRACE: Duration = Duration::from_secs(300);

/// The default dedupe window, in multiples of the prefetch: the messages
/// redelivered after a connection loss are at most one prefetch window,
/// and they come back right after the reconnect.
const DEDUPE_PER_PREFETCH: usize = 8;

/// How long [`Monitor::stop`] waits for callbacks in flight.
const DEFAULT_STOP_DEADLINE: Duration = Duration::from_secs(30);

impl Monitor {
    /// A builder with the Python monitor's defaults.
    pub fn builder() -> MonitorBuilder {
        MonitorBuilder::default()
    }

    /// Whether the monitor is still running. A broker monitor runs until
    /// stopped; one reading messages ends when they run out and their
    /// callbacks have returned.
    pub fn is_alive(&self) -> bool {
        matches!(
            self.done.try_recv(),
            Err(crossbeam_channel::TryRecvError::Empty)
        )
    }

    /// Waits until the monitor has ended.
    pub fn join(&self) -> StopReport {
        let _ = self.done.recv();
        self.finish()
    }

    /// Waits until the monitor has ended or `timeout` passed; `None` if it
    /// is still running.
    pub fn join_timeout(&self, timeout: Duration) -> Option<StopReport> {
        match self.done.recv_timeout(timeout) {
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => None,
            _ => Some(self.finish()),
        }
    }

    /// Stops gracefully: stops taking messages, lets the callbacks in
    /// flight finish (for up to 30 seconds) and acknowledges their messages,
    /// then closes the connection; messages not yet handed to a callback go
    /// back to the queue.
    pub fn stop(&self) -> StopReport {
        self.stop_timeout(DEFAULT_STOP_DEADLINE)
    }

    /// Like [`stop`](Self::stop), waiting at most `deadline` for callbacks;
    /// the report names those still running.
    pub fn stop_timeout(&self, deadline: Duration) -> StopReport {
        let _ = self.stop.try_send(deadline);
        self.join()
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// Where [`MonitorBuilder::metrics`] serves `/metrics` (`None` when not
    /// asked); the port actually bound when port 0 was asked for. It
    /// answers until the monitor is dropped, so a final scrape after
    /// [`stop`](Self::stop) still works.
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(MetricsServer::address)
    }

    /// The queue the monitor consumes (`None` for the in-process source).
    pub fn queue_name(&self) -> Option<&str> {
        self.shared.consumer.as_ref().map(|c| c.queue_name())
    }

    fn finish(&self) -> StopReport {
        if let Some(thread) = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            if thread.join().is_err() {
                log::error!("the monitor's thread panicked");
            }
        }
        let mut report = self
            .shared
            .report
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .unwrap_or_default();
        report.stats = self.shared.stats();
        report
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        if self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
        {
            self.stop();
        }
    }
}

/// Once the input has run out, waits for the callbacks still queued or
/// running, still heeding a stop: a replay interrupted after its last
/// message was handed out must not wait for every callback.
fn wait_until_idle(pool: &Pool, stop: &Receiver<Duration>) -> Option<Stopped> {
    loop {
        let stats = pool.stats();
        if stats.queued == 0 && stats.running == 0 {
            return None;
        }
        match stop.recv_timeout(FULL_POOL_RETRY) {
            Ok(deadline) => return Some(Stopped::at(deadline, Vec::new())),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                return Some(Stopped::at(DEFAULT_STOP_DEADLINE, Vec::new()))
            }
        }
    }
}

/// How often the monitor's thread, waiting for room in a full pool, looks
/// for a stop.
const FULL_POOL_RETRY: Duration = Duration::from_millis(2);

/// A stop that ended the monitor's thread before its messages ran out.
struct Stopped {
    deadline: Instant,
    /// Keys of callback calls never handed to the pool.
    abandoned: Vec<String>,
}

impl Stopped {
    fn at(deadline: Duration, abandoned: Vec<String>) -> Stopped {
        Stopped {
            deadline: Instant::now() + deadline,
            abandoned,
        }
    }
}

/// The monitor's own thread: takes messages, translates, filters and hands
/// callback calls to the pool.
struct Pump {
    shared: Arc<Shared>,
    on_build: Option<BuildCallback>,
    on_test: Option<TestCallback>,
    on_task: Option<TaskCallback>,
    on_message: Option<RawCallback>,
    on_filtered_out: Option<FilteredOutCallback>,
    filter: Filter,
    translators: Translators,
    log_file: Option<Arc<LineFile>>,
    dead_letters: Option<LineFile>,
    /// A non-durable monitor's queue, deleted when it stops.
    queue_to_delete: Option<(ConnectionSettings, String)>,
    /// Handled messages, for the broker source.
    dedupe: Option<Arc<Dedupe>>,
    /// Callback durations and records by kind, when metrics are served.
    metrics: Option<Arc<Metrics>>,
}

/// One message on its way through the callbacks. Whether they run at all
/// is decided once, when the first of them starts: not if the message's
/// connection was lost meanwhile, since the broker then delivers it again.
struct MessageRun {
    acker: Mutex<Option<Acker>>,
    run: OnceLock<bool>,
}

impl MessageRun {
    fn new(acker: Option<Acker>) -> MessageRun {
        MessageRun {
            acker: Mutex::new(acker),
            run: OnceLock::new(),
        }
    }

    fn should_run(&self) -> bool {
        *self.run.get_or_init(|| {
            let acker = self.acker.lock().unwrap_or_else(PoisonError::into_inner);
            !acker.as_ref().is_some_and(Acker::is_requeued)
        })
    }
}

impl Pump {
    fn run(
        self,
        pool: Pool,
        messages: Option<Box<dyn Iterator<Item = RawMessage> + Send>>,
        stop: Receiver<Duration>,
    ) {
        let stopped = match (messages, self.shared.consumer.clone()) {
            (Some(messages), _) => self.run_messages(&pool, messages, &stop),
            (None, Some(consumer)) => self.run_broker(&pool, &consumer, &stop),
            (None, None) => unreachable!("start() sets a consumer or messages"),
        }
        .err()
        .or_else(|| wait_until_idle(&pool, &stop));
        let mut pool_report = match &stopped {
            Some(stopped) => {
                pool.shutdown_timeout(stopped.deadline.saturating_duration_since(Instant::now()))
            }
            None => pool.shutdown(),
        };
        if let Some(stopped) = stopped {
            pool_report.abandoned.extend(stopped.abandoned);
        }
        // Every decision is in (or abandoned): closing now returns only
        // what no callback finished with to the queue.
        if let Some(consumer) = &self.shared.consumer {
            consumer.stop();
        }
        if let Some((settings, queue)) = &self.queue_to_delete {
            delete_queue(settings, queue);
        }
        *self
            .shared
            .report
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(StopReport {
            stats: Stats::default(),
            still_running: pool_report.still_running,
            abandoned: pool_report.abandoned,
        });
    }

    /// Returns `Err` if stopped early.
    fn run_messages(
        &self,
        pool: &Pool,
        messages: Box<dyn Iterator<Item = RawMessage> + Send>,
        stop: &Receiver<Duration>,
    ) -> Result<(), Stopped> {
        for message in messages {
            if let Ok(deadline) = stop.try_recv() {
                return Err(Stopped::at(deadline, Vec::new()));
            }
            self.handle(pool, message, None, stop)?;
        }
        Ok(())
    }

    fn run_broker(
        &self,
        pool: &Pool,
        consumer: &ConsumerHandle,
        stop: &Receiver<Duration>,
    ) -> Result<(), Stopped> {
        let deliveries = consumer.deliveries();
        loop {
            select! {
                recv(deliveries) -> delivery => match delivery {
                    Ok(delivery) => {
                        let message = RawMessage {
                            exchange: delivery.exchange,
                            routing_key: delivery.routing_key,
                            cc: delivery.cc,
                            body: delivery.body,
                            redelivered: delivery.redelivered,
                        };
                        self.handle(pool, message, Some(delivery.acker), stop)?;
                    }
                    Err(_) => return Ok(()),
                },
                recv(stop) -> deadline => {
                    // A dropped handle stops like stop() does.
                    let deadline = deadline.unwrap_or(DEFAULT_STOP_DEADLINE);
                    return Err(Stopped::at(deadline, Vec::new()));
                }
            }
        }
    }

    fn handle(
        &self,
        pool: &Pool,
        message: RawMessage,
        acker: Option<Acker>,
        stop: &Receiver<Duration>,
    ) -> Result<(), Stopped> {
        let counters = &self.shared.counters;
        Counters::add(&counters.received, 1);
        *self
            .shared
            .last_received
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
        let (identity, acker) = match &self.dedupe {
            None => (None, acker),
            Some(dedupe) => {
                let identity = dedupe.identity(&message);
                match dedupe.admit(identity, acker) {
                    Admission::New(acker) => (Some(identity), acker),
                    Admission::Handled(acker) => {
                        log::debug!(
                            "{}: handled already; acknowledged without calling the callbacks",
                            message.routing_key
                        );
                        Counters::add(&counters.duplicates, 1);
                        if let Some(acker) = acker {
                            acker.ack();
                            Counters::add(&counters.acknowledged, 1);
                        }
                        return Ok(());
                    }
                    // Acknowledged (or requeued) when its first delivery ends.
                    Admission::Parked => return Ok(()),
                }
            }
        };
        let message = Arc::new(message);
        let run = Arc::new(MessageRun::new(acker));
        let completion = self.completion(&message, Arc::clone(&run), identity);
        let mut jobs = Vec::new();
        let mut submit = |kind: &str, job: Box<dyn FnOnce() + Send>| {
            let key = format!("{} ({kind} callback)", message.routing_key);
            let job = self.logging_panics(key.clone(), job);
            let gate = Arc::clone(&run);
            let metrics = self.metrics.clone();
            let job = move || {
                if gate.should_run() {
                    let _timer = metrics.as_ref().map(Metrics::time_callback);
                    job();
                }
            };
            jobs.push(Job::new(key, job).with_completion(completion.clone()));
        };

        if let Some(on_message) = &self.on_message {
            let (on_message, message) = (Arc::clone(on_message), Arc::clone(&message));
            submit("message", Box::new(move || on_message(&message)));
        }
        let records = match self.translators.translate(&message) {
            Ok(records) => records,
            Err(error) => {
                self.translation_failed(&message, &error);
                Vec::new()
            }
        };
        Counters::add(&counters.translated, records.len() as u64);
        for record in records {
            let verdict = self.filter.explain(&record);
            if let Some(metrics) = &self.metrics {
                metrics.record(record.kind(), verdict.is_ok());
            }
            if let Err(rejection) = verdict {
                if let Some(on_filtered_out) = &self.on_filtered_out {
                    let on_filtered_out = Arc::clone(on_filtered_out);
                    submit(
                        "filtered-out",
                        Box::new(move || on_filtered_out(record, rejection)),
                    );
                }
                continue;
            }
            Counters::add(&counters.matched, 1);
            match record {
                Record::Build(build) => {
                    if let Some(on_build) = &self.on_build {
                        let on_build = Arc::clone(on_build);
                        submit("build", Box::new(move || on_build(build)));
                    }
                }
                Record::Test(test) => {
                    if let Some(on_test) = &self.on_test {
                        let on_test = Arc::clone(on_test);
                        submit("test", Box::new(move || on_test(test)));
                    }
                }
                Record::Task(task) => {
                    if let Some(on_task) = &self.on_task {
                        let on_task = Arc::clone(on_task);
                        submit("task", Box::new(move || on_task(task)));
                    }
                }
            }
        }
        self.hand_over(pool, jobs, stop)
    }

    /// Hands the jobs to the pool, waiting while it is full. A stop ends
    /// the wait, or it would last as long as the slowest callback: the jobs
    /// not handed over are dropped unrun, which leaves their message
    /// unacknowledged for redelivery.
    fn hand_over(
        &self,
        pool: &Pool,
        jobs: Vec<Job>,
        stop: &Receiver<Duration>,
    ) -> Result<(), Stopped> {
        let mut jobs = jobs.into_iter();
        while let Some(mut job) = jobs.next() {
            loop {
                match pool.submit_timeout(job, FULL_POOL_RETRY) {
                    Ok(()) => break,
                    Err(full) => job = full.into_job(),
                }
                let deadline = match stop.try_recv() {
                    Err(TryRecvError::Empty) => continue,
                    Ok(deadline) => deadline,
                    Err(TryRecvError::Disconnected) => DEFAULT_STOP_DEADLINE,
                };
                let abandoned = std::iter::once(job)
                    .chain(jobs)
                    .map(|job| job.key().to_string())
                    .collect();
                return Err(Stopped::at(deadline, abandoned));
            }
            Counters::add(&self.shared.counters.dispatched, 1);
        }
        Ok(())
    }

    /// The token that acknowledges `message` once all its callback calls
    /// have ended, panicked or not: a panicking callback would panic again
    /// on a redelivery. Calls a deadline abandoned, and calls skipped
    /// because the connection was lost before they started, leave the
    /// message for redelivery instead. Redeliveries that arrived while it
    /// ran are acknowledged with it.
    fn completion(
        &self,
        message: &RawMessage,
        run: Arc<MessageRun>,
        identity: Option<Identity>,
    ) -> Completion {
        let shared = Arc::clone(&self.shared);
        let dedupe = self.dedupe.clone();
        let key = message.routing_key.clone();
        Completion::new(move |outcome: Outcome| {
            let counters = &shared.counters;
            Counters::add(&counters.callback_panics, outcome.panicked as u64);
            let acker = run
                .acker
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            let started = run.run.get().copied();
            let handled = started == Some(true) && outcome.abandoned == 0;
            let waiting = match (&dedupe, identity) {
                (Some(dedupe), Some(identity)) => dedupe.finish(identity, handled),
                _ => Vec::new(),
            };
            if started == Some(false) {
                Counters::add(&counters.dropped_requeued, 1);
                log::debug!(
                    "{key}: its connection was lost before its callbacks started; \
                     they run when the broker delivers it again"
                );
                return; // dropping the ackers requeues what is still live
            }
            if outcome.abandoned > 0 {
                log::warn!(
                    "{key}: left unacknowledged, {} callback(s) never ran",
                    outcome.abandoned
                );
                return; // dropping the acker requeues the message
            }
            if let Some(acker) = acker {
                acker.ack();
                Counters::add(&counters.acknowledged, 1);
            }
            for acker in waiting {
                acker.ack();
                Counters::add(&counters.acknowledged, 1);
                Counters::add(&counters.duplicates, 1);
            }
        })
    }

    fn translation_failed(&self, message: &RawMessage, error: &pulse_translator::Error) {
        Counters::add(&self.shared.counters.translation_errors, 1);
        let text = format!(
            "cannot translate {:?} from {}: {error}",
            message.routing_key, message.exchange
        );
        log::warn!("{text}");
        if let Some(log_file) = &self.log_file {
            log_file.event("ERROR", &text);
        }
        if let Some(dead_letters) = &self.dead_letters {
            dead_letters.write_line(&dead_letter_line(message, &error.to_string()));
        }
    }

    /// Wraps a callback call so a panic is written to the log file with the
    /// message key before the pool catches and counts it.
    fn logging_panics(
        &self,
        key: String,
        run: Box<dyn FnOnce() + Send>,
    ) -> Box<dyn FnOnce() + Send> {
        let Some(log_file) = self.log_file.clone() else {
            return run;
        };
        Box::new(move || {
            if let Err(panic) = catch_unwind(AssertUnwindSafe(run)) {
                let reason = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a non-string panic".to_string());
                log_file.event("ERROR", &format!("{key} panicked: {reason}"));
                resume_unwind(panic);
            }
        })
    }
}

/// Best effort: the broker deletes an unused non-durable queue after
/// [`TRANSIENT_QUEUE_GRACE`] anyway.
fn delete_queue(settings: &ConnectionSettings, queue: &str) {
    let deleted = pulse_wire::Publisher::connect(settings)
        .and_then(|mut publisher| publisher.delete_queue(queue));
    match deleted {
        Ok(left) => log::debug!("deleted queue {queue} ({left} messages left in it)"),
        Err(e) => log::warn!("cannot delete queue {queue}, the broker will expire it: {e}"),
    }
}
