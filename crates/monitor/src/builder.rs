//! [`MonitorBuilder`]: the settings of a monitor, and
//! [`MonitorBuilder::start`], which wires the wire, translator, filter and
//! dispatch crates together and starts the monitor's threads.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use pulse_dispatch::{Config as PoolConfig, Pool};
use pulse_filter::{Filter, Rejection};
use pulse_push::PushEvent;
use pulse_translator::{BuildRecord, Message, Record, TaskRecord, TestRecord};
use pulse_wire::{
    ConnectionSettings, ConsumeOptions, Consumer, ExchangeDeclaration, QueueSpec, QueueType,
    Topology,
};

use crate::callbacks::Callbacks;
use crate::dedupe::Dedupe;
use crate::details::{DetailsDesk, DetailsSettings};
use crate::eventlog::LineFile;
use crate::handle::Monitor;
use crate::intake::Intake;
use crate::message::RawMessage;
use crate::metrics::{Metrics, MetricsServer};
use crate::pool::PoolSlot;
use crate::pushes::{start_ticker, PushDesk, PushSettings};
use crate::reconcile::Reconciler;
use crate::run::{Input, Run};
use crate::shared::Shared;
use crate::source::{Source, Translators};
use crate::state_writer::StateWriter;
use crate::{Error, ErrorKind};

/// How long a non-durable monitor's queue outlives its last consumer, so
/// that reconnecting loses nothing.
const TRANSIENT_QUEUE_GRACE: Duration = Duration::from_secs(300);

/// The default dedupe window, in multiples of the prefetch: the messages
/// redelivered after a connection loss are at most one prefetch window,
/// and they come back right after the reconnect.
const DEDUPE_PER_PREFETCH: usize = 8;

/// Configures and starts a [`Monitor`]; see [`Monitor::builder`].
///
/// Every setting has a default that follows the seed: trees
/// `["mozilla-central"]`, talos off, a random label, a classic queue that
/// goes away with the monitor, and Pulse itself (`pulse.mozilla.org:5671`, TLS) as the
/// broker, with credentials from `PULSE_URL` or `PULSE_USER`/`PULSE_PASSWORD`
/// unless [`broker`](Self::broker) says otherwise.
#[must_use = "a builder does nothing until start() is called"]
pub struct MonitorBuilder {
    callbacks: Callbacks,
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
    pool: PoolConfig,
    consume: ConsumeOptions,
    translators: Translators,
    pushes: Option<PushSettings>,
    details: Option<DetailsSettings>,
}

impl Default for MonitorBuilder {
    fn default() -> MonitorBuilder {
        MonitorBuilder {
            callbacks: Callbacks::default(),
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
            pool: PoolConfig::default(),
            // Jobs still running when stop()'s deadline passes keep their
            // messages unacknowledged; waiting long for them would only
            // delay the close that requeues them.
            consume: ConsumeOptions::default().with_stop_timeout(Duration::from_secs(2)),
            translators: Translators::default(),
            pushes: None,
            details: None,
        }
    }
}

impl Monitor {
    /// A builder with the seed's defaults.
    pub fn builder() -> MonitorBuilder {
        MonitorBuilder::default()
    }
}

impl MonitorBuilder {
    /// Calls `callback` with every finished build that passes the filter
    /// (the seed's `buildCallback`).
    pub fn on_build(mut self, callback: impl Fn(BuildRecord) + Send + Sync + 'static) -> Self {
        self.callbacks.on_build = Some(Arc::new(callback));
        self
    }

    /// Calls `callback` with every finished test or talos run that passes
    /// the filter (the seed's `testCallback`).
    pub fn on_test(mut self, callback: impl Fn(TestRecord) + Send + Sync + 'static) -> Self {
        self.callbacks.on_test = Some(Arc::new(callback));
        self
    }

    /// Calls `callback` with every other Taskcluster task that passes the
    /// filter: lint jobs, toolchains, docker images, signing, the decision
    /// task… and, with [`Source::Taskcluster`]'s `progress`, tasks still
    /// pending or running. The default filter keeps builds and tests only:
    /// add [`Filter`] kinds (or any kind) for these to arrive.
    pub fn on_task(mut self, callback: impl Fn(TaskRecord) + Send + Sync + 'static) -> Self {
        self.callbacks.on_task = Some(Arc::new(callback));
        self
    }

    /// Calls `callback` with every push event: a push
    /// [started](crate::PushEventKind::Started), [first
    /// failed](crate::PushEventKind::FirstFailure),
    /// [finished](crate::PushEventKind::Finished) or
    /// [reopened](crate::PushEventKind::Reopened), with its summary. Turns push
    /// tracking on ([`push_tracking`](Self::push_tracking) says how; in
    /// memory by default). Only the filter's tree and result rules apply:
    /// pushes of other trees are not tracked, and an event is announced
    /// when the push's worst result so far is one the rule names.
    pub fn on_push(mut self, callback: impl Fn(PushEvent) + Send + Sync + 'static) -> Self {
        self.callbacks.on_push = Some(Arc::new(callback));
        self.pushes.get_or_insert_with(PushSettings::default);
        self
    }

    /// Tracks pushes as `settings` say: the state file, the quiet period
    /// and the retention. With a [`Source::Taskcluster`], the queue is also
    /// bound to `task-defined`, every run exchange, `task-group-resolved`
    /// and hg.mozilla.org's pushes ([`Source::push_bindings`]).
    /// [`Monitor::pushes`] then answers at any time.
    pub fn push_tracking(mut self, settings: PushSettings) -> Self {
        self.pushes = Some(settings);
        self
    }

    /// Completes Taskcluster build and test records with their details,
    /// fetched from the Taskcluster queue off the message path: a build's
    /// `buildurl`, `testsurl`, `test_packages_url` and `symbols_url` from
    /// its artifact list; a test's `buildurl` (the build it ran against)
    /// from its definition; a failed test's `failures` and
    /// `failing_groups` from its errorsummary artifacts. A record waits at
    /// most [`DetailsSettings::timeout`] and then goes on without them,
    /// `details_unavailable` saying why (as when the queue answers 404,
    /// 500 or garbage); its message is still acknowledged only after its
    /// callbacks. With push tracking, failed tests' first failure lines
    /// reach their push. Off unless asked: it goes online.
    pub fn details(mut self, settings: DetailsSettings) -> Self {
        self.details = Some(settings);
        self
    }

    /// Calls `callback` with every message received, unfiltered, even those
    /// the translator rejects (the seed's `pulseCallback`).
    pub fn on_message(mut self, callback: impl Fn(&RawMessage) + Send + Sync + 'static) -> Self {
        self.callbacks.on_message = Some(Arc::new(callback));
        self
    }

    /// Calls `callback` with every translated record the filter rejects,
    /// and why: for `--explain`.
    pub fn on_filtered_out(
        mut self,
        callback: impl Fn(Record, Rejection) + Send + Sync + 'static,
    ) -> Self {
        self.callbacks.on_filtered_out = Some(Arc::new(callback));
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
        self.translators.unfinished = matches!(source, Source::Taskcluster { progress: true });
        self.translators.default_family = Some(source.family());
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
        I: IntoIterator<Item = Message>,
        I::IntoIter: Send + 'static,
    {
        let messages = messages.into_iter().fuse().map(RawMessage::from);
        self.input = Some(Input::Messages(Box::new(messages)));
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
    /// 0.0.4) while the monitor runs: the counters of [`Stats`](crate::Stats), the queue
    /// depth, the seconds since the last delivery, a callback-duration
    /// histogram and records by kind. Port 0 picks a free port
    /// ([`Monitor::metrics_address`] says which). Nothing is served unless
    /// asked; pass a 127.0.0.1 address so that only this machine can scrape it.
    pub fn metrics(mut self, address: SocketAddr) -> Self {
        self.metrics = Some(address);
        self
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

    /// The callback pool: its threads (default 0: one per core) and how
    /// many callback calls may wait for a thread before the monitor stops
    /// taking messages (default 256).
    pub fn callback_pool(mut self, pool: PoolConfig) -> Self {
        self.pool = pool;
        self
    }

    /// All consumer settings: the prefetch (most unacknowledged messages
    /// in flight, default 256), reconnect backoff, queue depth warnings,
    /// stall watchdog, stop timeout.
    pub fn consume_options(mut self, options: ConsumeOptions) -> Self {
        self.consume = options;
        self
    }

    /// The Taskcluster root URL log URLs start with (default
    /// `https://firefox-ci-tc.services.mozilla.com`).
    pub fn taskcluster_root_url(mut self, root_url: impl Into<String>) -> Self {
        self.translators.options.root_url = root_url.into();
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
        if self.callbacks.is_empty() && self.pushes.is_none() {
            return Err(Error::new(ErrorKind::NoCallback));
        }
        let pushes = self
            .pushes
            .as_ref()
            .map(|settings| {
                PushDesk::open(settings, &self.filter, self.callbacks.on_push.clone()).map(Arc::new)
            })
            .transpose()?;
        self.translators.unfinished |= pushes.is_some();
        self.translators.default_family = Some(self.source.family());
        self.translators.pushes = pushes.is_some();
        let log_file = self.log_file.as_deref().map(LineFile::open).transpose()?;
        let dead_letters = self
            .dead_letter_file
            .as_deref()
            .map(LineFile::open)
            .transpose()?;
        let pool = Pool::new(self.pool).map_err(|e| Error::new(ErrorKind::Dispatch(e)))?;
        let input = match self.input.take() {
            Some(input) => input,
            None => Input::Broker(Box::new(ConnectionSettings::from_env()?)),
        };

        let topology = match &input {
            Input::Broker(settings) => Some(self.topology(settings)),
            Input::Messages(_) => None,
        };
        let shared = Arc::new(Shared::new());
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
        self.callbacks.log_file = log_file.map(Arc::new);
        self.callbacks.metrics = metrics.clone();
        let pool = Arc::new(PoolSlot::new(pool));
        let details_queue = self.details.as_ref().map(|d| Arc::clone(&d.queue));
        // On a broker, a record waiting for its details holds its message's
        // acknowledgement, and so a slot of the prefetch window: at most
        // half the window may wait, or a queue that hangs would stop every
        // other message (the bench's "while details hang" row). In
        // process there is no window to fill.
        let window = matches!(input, Input::Broker(_))
            .then(|| usize::from(self.consume.prefetch).div_ceil(2).max(1));
        let details = self
            .details
            .take()
            .map(|mut settings| {
                if let Some(window) = window {
                    settings.waiting = settings.waiting.min(window);
                }
                DetailsDesk::start(settings)
            })
            .transpose()?;
        // A broker's acknowledgements wait for the state file; memory and
        // in-process sources have nothing to wait for.
        let state_writer = match (&pushes, &self.pushes, &input) {
            (Some(desk), Some(settings), Input::Broker(_)) if settings.state_file.is_some() => {
                Some(Arc::new(StateWriter::new(
                    Arc::clone(desk),
                    Arc::clone(&shared),
                    self.consume.prefetch,
                )))
            }
            _ => None,
        };
        let mut intake = Intake {
            reconciling: false,
            details,
            pushes: pushes.clone(),
            state_writer: state_writer.clone(),
            progress: matches!(self.source, Source::Taskcluster { progress: true }),
            shared: Arc::clone(&shared),
            callbacks: self.callbacks,
            filter: self.filter,
            translators: self.translators,
            dead_letters,
            dedupe: None,
            metrics,
            pool: Arc::clone(&pool),
        };

        // Reconciliation needs a push state to fill and the queue to ask.
        let reconciler = match (&pushes, details_queue, &input) {
            (Some(desk), Some(queue), Input::Broker(_)) => Some(Reconciler::new(
                queue,
                Arc::clone(desk),
                intake.for_reconciliation(),
                Arc::clone(&shared),
                self.durable,
            )),
            _ => None,
        };
        let ticker = pushes
            .as_ref()
            .map(|desk| {
                start_ticker(
                    Arc::clone(desk),
                    Arc::clone(&pool),
                    Arc::clone(&shared),
                    reconciler,
                )
            })
            .transpose()?;
        let mut queue_to_delete = None;
        let run = match input {
            Input::Broker(settings) => {
                let topology = topology.expect("computed for a broker");
                if !self.durable {
                    queue_to_delete = Some(((*settings).clone(), topology.queue.name.clone()));
                }
                let window = self
                    .dedupe_window
                    .unwrap_or(DEDUPE_PER_PREFETCH * usize::from(self.consume.prefetch));
                if window > 0 {
                    intake.dedupe = Some(Arc::new(Dedupe::new(window)));
                }
                // Translation and filtering run where deliveries arrive: no
                // thread between the connection and the pool.
                let consumer =
                    Consumer::start_with(*settings, topology, self.consume, move |deliveries| {
                        intake.take_deliveries(deliveries)
                    })?;
                let _ = shared.consumer.set(consumer);
                Run::broker(Arc::clone(&shared), pool, queue_to_delete)
            }
            Input::Messages(messages) => Run::messages(Arc::clone(&shared), pool, intake, messages),
        };
        let run = match (&pushes, ticker) {
            (Some(desk), Some(ticker)) => run.with_pushes(Arc::clone(desk), ticker),
            _ => run,
        };
        let run = match state_writer {
            Some(writer) => {
                let thread = writer.start()?;
                run.with_state_writer(writer, thread)
            }
            None => run,
        };
        Monitor::start(shared, move |stop| run.run(stop), metrics_server, pushes)
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
        let mut bindings = self.source.bindings(&self.filter);
        if self.pushes.is_some() {
            for binding in self.source.push_bindings(&self.filter) {
                if !bindings.contains(&binding) {
                    bindings.push(binding);
                }
            }
        }
        bindings
            .into_iter()
            .fold(Topology::new(queue), |topology, (exchange, pattern)| {
                topology.bind(exchange, pattern)
            })
            .exchange_declaration(declaration)
    }
}
