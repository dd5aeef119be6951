//! The consuming side: [`Consumer::start`] runs one connection thread that
//! owns every amiquip object, hands out owned [`Delivery`]s and applies the
//! [`Acker`] decisions that come back to it.

use crate::connect::open_connection_with_socket;
use crate::error::{Error, ErrorKind, Result};
use crate::settings::ConnectionSettings;
use crate::topology::Topology;
use crate::watchdog::{Probe, Verdict, Watchdog};
use amiquip::{AmqpProperties, AmqpValue, Channel, Connection, ConsumerMessage, ConsumerOptions};
use crossbeam_channel::{Receiver, Select, Sender, TryRecvError, TrySendError};
use log::{debug, error, info, warn};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Capped exponential backoff between connection attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Delay before the first retry.
    pub initial: Duration,
    /// The delay doubles up to this.
    pub cap: Duration,
}

impl Default for Backoff {
    /// 100 ms doubling to 30 s.
    fn default() -> Backoff {
        Backoff {
            initial: Duration::from_millis(100),
            cap: Duration::from_secs(30),
        }
    }
}

/// How [`Consumer::start`] consumes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumeOptions {
    /// Most unacknowledged messages the broker sends us (AMQP `basic.qos`),
    /// and the capacity of [`ConsumerHandle::deliveries`]. At least 1.
    pub prefetch: u16,
    /// Delay between reconnection attempts.
    pub reconnect: Backoff,
    /// How often the queue depth is read.
    pub depth_check_interval: Duration,
    /// Queue depth above which a warning is logged each check: Pulse deletes
    /// queues that keep growing, so a consumer falling behind must be noticed.
    pub depth_warning_threshold: u32,
    /// How long [`ConsumerHandle::stop`] waits for outstanding decisions.
    pub stop_timeout: Duration,
    /// The stall watchdog's timeout. After this long without a delivery
    /// the connection thread asks the broker about the queue, and
    /// reconnects if messages are waiting while the prefetch window has
    /// room (twice in a row), if the broker lists no consumer on the queue
    /// (ours vanished without a cancel), or if the broker does not answer
    /// within half of it (a silent link). Each is a warning and counts in
    /// [`ConsumerStats::stalls`].
    ///
    /// `None` (the default) takes the connection's heartbeat
    /// ([`ConnectionSettings::heartbeat`], 60 s unless set), or 60 s when
    /// heartbeats are off. Heartbeats end a connection after two intervals
    /// without a frame from the broker; with this default the watchdog
    /// notices a silent link within 1.5 intervals of the last delivery,
    /// so either way a dead link is noticed within two heartbeats, and the
    /// watchdog alone notices one when heartbeats are off. A quiet queue
    /// costs one passive declare per timeout.
    pub stall_timeout: Option<Duration>,
}

impl Default for ConsumeOptions {
    fn default() -> ConsumeOptions {
        ConsumeOptions {
            prefetch: 256,
            reconnect: Backoff::default(),
            depth_check_interval: Duration::from_secs(60),
            depth_warning_threshold: 2000,
            stop_timeout: Duration::from_secs(10),
            stall_timeout: None,
        }
    }
}

/// Counters of a consumer; see [`ConsumerHandle::stats`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConsumerStats {
    /// Messages received from the broker (redeliveries included).
    pub received: u64,
    /// Acks sent to the broker.
    pub acked: u64,
    /// Rejections sent to the broker (including dropped [`Acker`]s).
    pub rejected: u64,
    /// Decisions dropped because their connection had gone: the broker
    /// already requeued those messages and will deliver them again.
    pub stale_decisions: u64,
    /// Successful connections after the first one.
    pub reconnects: u64,
    /// Connection attempts that failed.
    pub connect_failures: u64,
    /// Whether a connection is up and consuming right now.
    pub connected: bool,
    /// Messages waiting in the queue at the last depth check.
    pub queue_depth: Option<u32>,
    /// Times the broker cancelled our consumer because the queue had been
    /// deleted (PulseGuardian deletes queues that grow too long). Each time
    /// the queue is declared again on a new connection; what it held, and
    /// what was routed to it while it was gone, is lost.
    pub queue_deleted: u64,
    /// When the last delivery arrived (`None`: none yet).
    pub last_delivery: Option<Instant>,
    /// Times the stall watchdog found the consumer connected but silent
    /// and reconnected (see [`ConsumeOptions::stall_timeout`]).
    pub stalls: u64,
}

/// A message taken off the queue. Owned and `Send`: it can travel to any
/// thread, and its [`Acker`] sends the decision back to the connection thread.
pub struct Delivery {
    /// Exchange it was published to.
    pub exchange: String,
    /// Routing key it was published with.
    pub routing_key: String,
    /// Message body (JSON on Pulse).
    pub body: Vec<u8>,
    /// Extra routes from the `CC` header (Taskcluster puts task routes there).
    pub cc: Vec<String>,
    /// The broker delivered it before (to us or another consumer) without an ack.
    pub redelivered: bool,
    /// The token that acknowledges or rejects this message.
    pub acker: Acker,
}

impl Delivery {
    /// Acknowledges the message: the broker forgets it.
    pub fn ack(self) {
        self.acker.ack();
    }

    /// Rejects the message, putting it back in the queue if `requeue`.
    pub fn reject(self, requeue: bool) {
        self.acker.reject(requeue);
    }
}

impl fmt::Debug for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("exchange", &self.exchange)
            .field("routing_key", &self.routing_key)
            .field("body_len", &self.body.len())
            .field("cc", &self.cc)
            .field("redelivered", &self.redelivered)
            .finish_non_exhaustive()
    }
}

/// The decision token of one [`Delivery`].
///
/// Dropping it without deciding rejects the message with requeue, so an
/// undecided message never holds a prefetch slot forever; the broker
/// delivers it again (possibly to another consumer). A decision made after
/// the connection was lost is dropped and counted in
/// [`ConsumerStats::stale_decisions`]: the broker already requeued it.
pub struct Acker {
    generation: u64,
    tag: u64,
    decisions: Sender<Decision>,
    decided: bool,
    generations: Arc<Generations>,
}

impl Acker {
    /// Acknowledges the message.
    pub fn ack(mut self) {
        self.decide(Outcome::Ack);
    }

    /// Rejects the message, putting it back in the queue if `requeue`.
    pub fn reject(mut self, requeue: bool) {
        self.decide(Outcome::Reject { requeue });
    }

    fn decide(&mut self, outcome: Outcome) {
        self.decided = true;
        // The connection thread may have ended (stopped); the broker then
        // requeues the message, which is all a decision could do anyway.
        let _ = self.decisions.send(Decision {
            generation: self.generation,
            tag: self.tag,
            outcome,
        });
    }

    /// Whether the broker has already put this message back in its queue
    /// because the connection it came on was lost: it will be delivered
    /// again, so work started on it now would be done twice, and its
    /// decision would be dropped as stale.
    ///
    /// False while its connection is up, and false for the messages of a
    /// queue the broker deleted: those are never delivered again, so they
    /// are worth handling even though their acknowledgement goes nowhere.
    pub fn is_requeued(&self) -> bool {
        self.generations.is_requeued(self.generation)
    }

    /// For deliveries the connection thread takes back itself.
    fn forget(mut self) {
        self.decided = true;
    }
}

/// Which connection's deliveries can still be decided, shared by the
/// connection thread and every [`Acker`].
#[derive(Debug, Default)]
struct Generations {
    /// The generation consuming now; 0 between connections.
    live: AtomicU64,
    /// Generations whose queue was deleted on the broker: their messages
    /// are not requeued, since there is no queue to requeue them to.
    orphaned: Mutex<Vec<u64>>,
}

impl Generations {
    fn is_requeued(&self, generation: u64) -> bool {
        generation != self.live.load(Ordering::Acquire)
            && !self
                .orphaned
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .contains(&generation)
    }
}

impl Drop for Acker {
    fn drop(&mut self) {
        if !self.decided {
            self.decide(Outcome::Reject { requeue: true });
        }
    }
}

impl fmt::Debug for Acker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acker")
            .field("generation", &self.generation)
            .field("tag", &self.tag)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ack,
    Reject { requeue: bool },
}

#[derive(Debug)]
struct Decision {
    /// Which connection the delivery came from: delivery tags are per channel.
    generation: u64,
    tag: u64,
    outcome: Outcome,
}

/// Starts consumers; see [`Consumer::start`].
#[derive(Debug)]
pub struct Consumer;

impl Consumer {
    /// Spawns the connection thread, which connects, declares `topology`,
    /// consumes its queue and keeps doing so across disconnections until
    /// [`ConsumerHandle::stop`].
    ///
    /// Returns once the first connection attempt is decided: an error if it
    /// failed in a way retrying cannot fix (bad credentials or vhost,
    /// missing exchange, TLS verification, ...; see [`Error::is_recoverable`]),
    /// so a command line tool can print one clear line. A recoverable first
    /// failure (broker down) returns a handle that keeps retrying in the
    /// background, with [`ConsumerStats::connected`] false until it succeeds.
    pub fn start(
        settings: ConnectionSettings,
        topology: Topology,
        options: ConsumeOptions,
    ) -> Result<ConsumerHandle> {
        settings.validate()?;
        validate_options(&options)?;
        topology.queue.validate()?;
        let (deliveries_tx, deliveries_rx) =
            crossbeam_channel::bounded(usize::from(options.prefetch));
        let (decisions_tx, decisions_rx) = crossbeam_channel::unbounded();
        let (control_tx, control_rx) = crossbeam_channel::bounded(1);
        let (ready_tx, ready_rx) = crossbeam_channel::bounded(1);
        let stats = Arc::new(Mutex::new(ConsumerStats::default()));
        let queue = topology.queue.name.clone();
        let worker = Worker {
            settings,
            topology,
            options,
            deliveries_tx,
            deliveries_rx: deliveries_rx.clone(),
            decisions_tx,
            decisions_rx,
            control_rx,
            stats: Arc::clone(&stats),
            generation: 0,
            generations: Arc::default(),
        };
        let thread = std::thread::Builder::new()
            .name(format!("pulse-wire {queue}"))
            .spawn(move || worker.run(ready_tx))
            .map_err(|e| Error::io("spawning the connection thread", e))?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(ConsumerHandle {
                deliveries: deliveries_rx,
                control: control_tx,
                stats,
                thread: Mutex::new(Some(thread)),
                queue,
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => {
                let _ = thread.join();
                Err(Error::new(
                    ErrorKind::Closed,
                    "connection thread ended before connecting",
                ))
            }
        }
    }
}

fn validate_options(options: &ConsumeOptions) -> Result<()> {
    let bad = |msg: String| Err(Error::new(ErrorKind::InvalidConfig, msg));
    if options.prefetch == 0 {
        return bad("prefetch must be at least 1 (0 would mean unlimited)".into());
    }
    let Backoff { initial, cap } = options.reconnect;
    if initial.is_zero() || cap < initial {
        return bad(format!(
            "reconnect backoff needs 0 < initial <= cap, got {initial:?} and {cap:?}"
        ));
    }
    if options.depth_check_interval.is_zero() {
        return bad("depth_check_interval must be positive".into());
    }
    if let Some(timeout) = options.stall_timeout {
        if timeout < Duration::from_millis(100) {
            return bad(format!(
                "stall_timeout must be at least 100 ms, got {timeout:?}"
            ));
        }
    }
    Ok(())
}

/// Controls a running consumer. Dropping it stops the consumer.
#[derive(Debug)]
pub struct ConsumerHandle {
    deliveries: Receiver<Delivery>,
    control: Sender<()>,
    stats: Arc<Mutex<ConsumerStats>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    queue: String,
}

impl ConsumerHandle {
    /// Incoming messages. Iterating ends after [`stop`](Self::stop).
    pub fn deliveries(&self) -> &Receiver<Delivery> {
        &self.deliveries
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> ConsumerStats {
        self.stats
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The queue being consumed.
    pub fn queue_name(&self) -> &str {
        &self.queue
    }

    /// Whether the connection thread is still running (it ends only after
    /// [`stop`](Self::stop), or if it panicked).
    pub fn is_alive(&self) -> bool {
        self.thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .is_some_and(|t| !t.is_finished())
    }

    /// Stops consuming, waits up to [`ConsumeOptions::stop_timeout`] for
    /// decisions on the deliveries already handed out, then closes the
    /// connection (the broker requeues anything unacknowledged). Messages
    /// still waiting in [`deliveries`](Self::deliveries) are taken back.
    /// Blocks until the thread ended; calling it again does nothing.
    pub fn stop(&self) -> ConsumerStats {
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(thread) = thread {
            let _ = self.control.try_send(());
            if thread.join().is_err() {
                error!("pulse-wire connection thread for {} panicked", self.queue);
            }
        }
        self.stats()
    }
}

impl Drop for ConsumerHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// State owned by the connection thread.
struct Worker {
    settings: ConnectionSettings,
    topology: Topology,
    options: ConsumeOptions,
    deliveries_tx: Sender<Delivery>,
    /// Our own end of the deliveries channel, to take back messages that can
    /// no longer be acknowledged (after a disconnection, or when stopping).
    deliveries_rx: Receiver<Delivery>,
    decisions_tx: Sender<Decision>,
    decisions_rx: Receiver<Decision>,
    control_rx: Receiver<()>,
    stats: Arc<Mutex<ConsumerStats>>,
    /// Counts successful connections; tags deliveries and their decisions.
    generation: u64,
    generations: Arc<Generations>,
}

enum SessionEnd {
    Stopped,
    Lost(String),
    /// The broker cancelled the consumer and the queue is gone.
    QueueDeleted,
}

/// Sessions shorter than this count as failed attempts for the backoff, so
/// a connection that dies right after opening is not retried in a hot loop.
const STABLE_SESSION: Duration = Duration::from_secs(5);

impl Worker {
    fn run(mut self, ready: Sender<Result<()>>) {
        let mut ready = Some(ready);
        let mut delay = self.options.reconnect.initial;
        loop {
            let attempt =
                open_connection_with_socket(&self.settings).and_then(|(mut connection, socket)| {
                    let channel = self.setup_channel(&mut connection)?;
                    Ok((connection, socket, channel))
                });
            let (mut connection, socket, channel) = match attempt {
                Ok(opened) => opened,
                Err(e) => {
                    self.update(|s| s.connect_failures += 1);
                    if let Some(ready) = ready.take() {
                        if !e.is_recoverable() {
                            let _ = ready.send(Err(e));
                            return;
                        }
                        let _ = ready.send(Ok(()));
                    }
                    if e.is_recoverable() {
                        warn!("{e}; retrying in {delay:?}");
                    } else {
                        error!("{e}; retrying in {delay:?}");
                    }
                    if self.wait_or_stop(delay) {
                        return;
                    }
                    delay = (delay * 2).min(self.options.reconnect.cap);
                    continue;
                }
            };
            self.generation += 1;
            let started = Instant::now();
            let end = match channel.basic_consume(
                self.topology.queue.name.as_str(),
                ConsumerOptions::default(),
            ) {
                Ok(consumer) => {
                    let first = self.generation == 1;
                    self.update(|s| {
                        s.connected = true;
                        if !first {
                            s.reconnects += 1;
                        }
                    });
                    self.generations
                        .live
                        .store(self.generation, Ordering::Release);
                    // After the stats, so a successful start reports `connected`.
                    if let Some(ready) = ready.take() {
                        let _ = ready.send(Ok(()));
                    }
                    info!(
                        "connected to {}, consuming {}",
                        self.settings, self.topology.queue.name
                    );
                    match connection
                        .open_channel(None)
                        .map_err(|e| Error::amqp("opening the watchdog's channel", e))
                        .and_then(|probe| Probe::start(probe, self.topology.queue.name.clone()))
                    {
                        Ok(probe) => self.session(&socket, &channel, &consumer, &probe),
                        Err(e) => SessionEnd::Lost(e.to_string()),
                    }
                }
                Err(e) => {
                    let e = Error::amqp(
                        format_args!("consuming from `{}`", self.topology.queue.name),
                        e,
                    );
                    self.update(|s| s.connect_failures += 1);
                    if let Some(ready) = ready.take() {
                        if !e.is_recoverable() {
                            let _ = ready.send(Err(e));
                            return;
                        }
                        let _ = ready.send(Ok(()));
                    }
                    SessionEnd::Lost(e.to_string())
                }
            };
            if matches!(end, SessionEnd::QueueDeleted) {
                // Orphaned before the generation stops being live, so no
                // job ever sees these messages as requeued.
                self.generations
                    .orphaned
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(self.generation);
            }
            self.generations.live.store(0, Ordering::Release);
            self.update(|s| s.connected = false);
            if !matches!(end, SessionEnd::QueueDeleted) {
                self.take_back_deliveries();
            }
            match end {
                SessionEnd::Stopped => {
                    drop(channel);
                    if let Err(e) = connection.close() {
                        debug!("closing connection to {}: {e}", self.settings);
                    }
                    info!("stopped consuming {}", self.topology.queue.name);
                    return;
                }
                SessionEnd::QueueDeleted => {
                    drop(channel);
                    drop(connection);
                    self.update(|s| s.queue_deleted += 1);
                    error!(
                        "queue {} was deleted on the broker (PulseGuardian deletes queues that \
                         grow too long): the messages it held and those routed to it until it \
                         is declared again are lost; declaring it again",
                        self.topology.queue.name
                    );
                }
                SessionEnd::Lost(reason) => {
                    // Closing a dead connection only reaps amiquip's I/O thread.
                    drop(channel);
                    drop(connection);
                    if started.elapsed() >= STABLE_SESSION {
                        delay = self.options.reconnect.initial;
                        warn!(
                            "lost connection to {}: {reason}; reconnecting",
                            self.settings
                        );
                    } else {
                        warn!(
                            "lost connection to {}: {reason}; reconnecting in {delay:?}",
                            self.settings
                        );
                        if self.wait_or_stop(delay) {
                            return;
                        }
                        delay = (delay * 2).min(self.options.reconnect.cap);
                    }
                }
            }
        }
    }

    fn setup_channel(&self, connection: &mut Connection) -> Result<Channel> {
        let channel = connection
            .open_channel(None)
            .map_err(|e| Error::amqp("opening a channel", e))?;
        self.topology.apply(&channel)?;
        channel
            .qos(0, self.options.prefetch, false)
            .map_err(|e| Error::amqp("setting prefetch", e))?;
        Ok(channel)
    }

    fn update(&self, change: impl FnOnce(&mut ConsumerStats)) {
        change(&mut self.stats.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// Sleeps for `delay` unless asked to stop (returns true then). Decisions
    /// arriving meanwhile belong to a lost connection.
    fn wait_or_stop(&self, delay: Duration) -> bool {
        let deadline = Instant::now() + delay;
        loop {
            crossbeam_channel::select! {
                recv(self.control_rx) -> _ => return true,
                recv(self.decisions_rx) -> _ => self.update(|s| s.stale_decisions += 1),
                default(deadline.saturating_duration_since(Instant::now())) => return false,
            }
        }
    }

    /// Takes undelivered messages back from the deliveries channel: they can
    /// no longer be acknowledged, and the broker requeues them.
    fn take_back_deliveries(&self) {
        let mut taken = 0;
        while let Ok(delivery) = self.deliveries_rx.try_recv() {
            delivery.acker.forget();
            taken += 1;
        }
        if taken > 0 {
            debug!("took back {taken} undelivered messages; the broker requeues them");
        }
    }

    fn session(
        &self,
        socket: &TcpStream,
        channel: &Channel,
        consumer: &amiquip::Consumer<'_>,
        probe: &Probe,
    ) -> SessionEnd {
        let mut state = SessionState::default();
        let mut next_depth_check = Instant::now();
        let mut watchdog = Watchdog::new(Instant::now(), self.stall_timeout());
        let mut stop_deadline: Option<Instant> = None;
        loop {
            let now = Instant::now();
            if let Some(deadline) = stop_deadline {
                if state.outstanding.is_empty() {
                    return SessionEnd::Stopped;
                }
                if now >= deadline {
                    warn!(
                        "stopping with {} messages unacknowledged; the broker requeues them",
                        state.outstanding.len()
                    );
                    return SessionEnd::Stopped;
                }
            } else {
                if let Some(reason) = watchdog.overdue(now) {
                    return self.stalled(socket, &reason);
                }
                if watchdog.should_ask(now, next_depth_check) {
                    probe.ask();
                }
            }
            let wake_at = stop_deadline.unwrap_or_else(|| watchdog.wake_at(next_depth_check));

            let mut select = Select::new();
            let stopping = stop_deadline.is_some();
            let from_broker = (!stopping).then(|| select.recv(consumer.receiver()));
            let control = (!stopping).then(|| select.recv(&self.control_rx));
            let answers = (!stopping).then(|| select.recv(probe.answers()));
            let decisions = select.recv(&self.decisions_rx);
            let hand_out = (!state.pending.is_empty()).then(|| select.send(&self.deliveries_tx));
            let Ok(operation) = select.select_deadline(wake_at) else {
                continue;
            };
            let index = Some(operation.index());
            if index == from_broker {
                match operation.recv(consumer.receiver()) {
                    Ok(ConsumerMessage::Delivery(delivery)) => {
                        watchdog.delivered(Instant::now());
                        self.on_delivery(&mut state, delivery);
                    }
                    Ok(ConsumerMessage::ServerCancelled) => {
                        // The probe asks on its own channel: a 404 closes
                        // only that one.
                        // An answer may be one asked before the cancel:
                        // only a second one surely comes after it.
                        let deadline = Instant::now() + watchdog.answer_timeout();
                        for _ in 0..2 {
                            probe.ask();
                            match probe.answers().recv_deadline(deadline) {
                                Ok(Err(e)) if e.kind() == ErrorKind::NotFound => {
                                    return self.queue_deleted(&mut state)
                                }
                                Ok(Ok(_)) => continue,
                                _ => break,
                            }
                        }
                        return SessionEnd::Lost(describe(ConsumerMessage::ServerCancelled));
                    }
                    Ok(other) => return SessionEnd::Lost(describe(other)),
                    Err(_) => {
                        return SessionEnd::Lost(
                            "the connection ended (socket closed or heartbeat missed)".into(),
                        )
                    }
                }
            } else if index == answers {
                let Ok(answer) = operation.recv(probe.answers()) else {
                    return SessionEnd::Lost("the watchdog's channel ended".into());
                };
                match answer {
                    Ok(queue) => {
                        self.record_depth(queue.messages);
                        next_depth_check = Instant::now() + self.options.depth_check_interval;
                        let room = state.outstanding.len() < usize::from(self.options.prefetch);
                        if let Verdict::Stalled(reason) =
                            watchdog.answered(Instant::now(), queue, room)
                        {
                            return self.stalled(socket, &reason);
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::NotFound => {
                        return self.queue_deleted(&mut state)
                    }
                    Err(e) => return SessionEnd::Lost(e.to_string()),
                }
            } else if index == control {
                // A message or a dropped handle both mean stop.
                let _ = operation.recv(&self.control_rx);
                if let Err(e) = consumer.cancel() {
                    debug!("cancelling the consumer while stopping: {e}");
                    return SessionEnd::Stopped;
                }
                for delivery in state.pending.drain(..) {
                    state.outstanding.remove(&delivery.acker.tag);
                    delivery.acker.forget();
                }
                while let Ok(delivery) = self.deliveries_rx.try_recv() {
                    state.outstanding.remove(&delivery.acker.tag);
                    delivery.acker.forget();
                }
                stop_deadline = Some(Instant::now() + self.options.stop_timeout);
            } else if index == hand_out {
                let delivery = state
                    .pending
                    .pop_front()
                    .expect("selected only when pending");
                // We hold a receiver ourselves, so the channel cannot be disconnected.
                let _ = operation.send(&self.deliveries_tx, delivery);
            } else if index == Some(decisions) {
                let Ok(first) = operation.recv(&self.decisions_rx) else {
                    continue;
                };
                let mut batch = vec![first];
                while batch.len() < MAX_DECISION_BATCH {
                    match self.decisions_rx.try_recv() {
                        Ok(decision) => batch.push(decision),
                        Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                    }
                }
                if let Err(e) = self.apply_decisions(&mut state, channel, batch) {
                    if stopping {
                        warn!("{e} while stopping; the broker requeues what is unacknowledged");
                        return SessionEnd::Stopped;
                    }
                    return SessionEnd::Lost(e.to_string());
                }
            }
        }
    }

    fn on_delivery(&self, state: &mut SessionState, mut raw: amiquip::Delivery) {
        let tag = raw.delivery_tag();
        let delivery = Delivery {
            exchange: std::mem::take(&mut raw.exchange),
            routing_key: std::mem::take(&mut raw.routing_key),
            body: std::mem::take(&mut raw.body),
            cc: cc_routes(&raw.properties),
            redelivered: raw.redelivered,
            acker: Acker {
                generation: self.generation,
                tag,
                decisions: self.decisions_tx.clone(),
                decided: false,
                generations: Arc::clone(&self.generations),
            },
        };
        // What remains of `raw` (tag and channel id) is what amiquip needs to ack.
        state.outstanding.insert(tag, raw);
        self.update(|s| {
            s.received += 1;
            s.last_delivery = Some(Instant::now());
        });
        if state.pending.is_empty() {
            match self.deliveries_tx.try_send(delivery) {
                Ok(()) => {}
                Err(TrySendError::Full(delivery) | TrySendError::Disconnected(delivery)) => {
                    state.pending.push_back(delivery);
                }
            }
        } else {
            state.pending.push_back(delivery);
        }
    }

    /// Applies a batch of decisions. Acks whose tags form an unbroken run
    /// from the lowest unacknowledged tag go out as one `ack_multiple`, which
    /// acknowledges every tag up to its own: correct only because every lower
    /// tag still unacknowledged on the broker is in `outstanding` (tags grow
    /// in delivery order and we record each before handing it out). Other
    /// acks go out one by one rather than waiting, so one slow message never
    /// holds back the prefetch window.
    fn apply_decisions(
        &self,
        state: &mut SessionState,
        channel: &Channel,
        batch: Vec<Decision>,
    ) -> Result<()> {
        let mut acks = BTreeSet::new();
        let (mut stale, mut rejected) = (0, 0);
        let mut result = Ok(());
        for decision in batch {
            if decision.generation != self.generation {
                stale += 1;
                continue;
            }
            match decision.outcome {
                Outcome::Ack => {
                    acks.insert(decision.tag);
                }
                Outcome::Reject { requeue } => {
                    if let Some(raw) = state.outstanding.remove(&decision.tag) {
                        if result.is_ok() {
                            result = raw
                                .reject(channel, requeue)
                                .map_err(|e| Error::amqp("rejecting a message", e));
                            rejected += 1;
                        }
                    }
                }
            }
        }

        let mut acked = 0;
        if result.is_ok() {
            let run_end = state
                .outstanding
                .keys()
                .take_while(|tag| acks.contains(tag))
                .last()
                .copied();
            if let Some(run_end) = run_end.filter(|_| acks.len() > 1) {
                let after = state.outstanding.split_off(&(run_end + 1));
                let run = std::mem::replace(&mut state.outstanding, after);
                acked += run.len() as u64;
                for tag in run.keys() {
                    acks.remove(tag);
                }
                let (_, last) = run.into_iter().next_back().expect("run is not empty");
                result = last
                    .ack_multiple(channel)
                    .map_err(|e| Error::amqp("acknowledging messages", e));
            }
            for tag in acks {
                if result.is_err() {
                    break;
                }
                if let Some(raw) = state.outstanding.remove(&tag) {
                    result = raw
                        .ack(channel)
                        .map_err(|e| Error::amqp("acknowledging a message", e));
                    acked += 1;
                }
            }
        }
        self.update(|s| {
            s.stale_decisions += stale;
            s.rejected += rejected;
            s.acked += acked;
        });
        result
    }

    /// The queue is gone: the deliveries already taken are handed out (no
    /// queue will deliver them again) and the session ends.
    fn queue_deleted(&self, state: &mut SessionState) -> SessionEnd {
        for delivery in state.pending.drain(..) {
            if let Err(e) = self.deliveries_tx.try_send(delivery) {
                warn!("no room to hand out {:?}", e.into_inner());
            }
        }
        self.update(|s| s.queue_depth = None);
        SessionEnd::QueueDeleted
    }

    /// The watchdog found us connected but silent: count it, and shut the
    /// socket down so that the connection ends now, even on a link that no
    /// longer answers.
    fn stalled(&self, socket: &TcpStream, reason: &str) -> SessionEnd {
        warn!(
            "the consumer of {} stalled: {reason}; reconnecting",
            self.topology.queue.name
        );
        self.update(|s| s.stalls += 1);
        if let Err(e) = socket.shutdown(Shutdown::Both) {
            debug!("shutting down the stalled connection's socket: {e}");
        }
        SessionEnd::Lost(format!("the stall watchdog closed it ({reason})"))
    }

    /// [`ConsumeOptions::stall_timeout`], or its default.
    fn stall_timeout(&self) -> Duration {
        self.options
            .stall_timeout
            .unwrap_or(match self.settings.heartbeat {
                0 => DEFAULT_STALL_TIMEOUT,
                seconds => Duration::from_secs(seconds.into()),
            })
    }

    /// Records the depth the probe read, warning above the threshold.
    fn record_depth(&self, depth: u32) {
        let name = self.topology.queue.name.as_str();
        if depth > self.options.depth_warning_threshold {
            warn!(
                "queue {name} holds {depth} messages (warning threshold {}); \
                 Pulse deletes queues that keep growing",
                self.options.depth_warning_threshold
            );
        } else {
            debug!("queue {name} holds {depth} messages");
        }
        self.update(|s| s.queue_depth = Some(depth));
    }
}

const MAX_DECISION_BATCH: usize = 4096;

/// The stall timeout when heartbeats are off.
const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Default)]
struct SessionState {
    /// Deliveries received and not yet acknowledged or rejected on the wire.
    outstanding: BTreeMap<u64, amiquip::Delivery>,
    /// Deliveries waiting for room in the deliveries channel.
    pending: VecDeque<Delivery>,
}

fn describe(message: ConsumerMessage) -> String {
    match message {
        ConsumerMessage::Delivery(_) => "unexpected delivery".into(),
        ConsumerMessage::ClientCancelled => "the consumer was cancelled".into(),
        ConsumerMessage::ServerCancelled => {
            "the broker cancelled the consumer (queue deleted?)".into()
        }
        ConsumerMessage::ClientClosedChannel => "the channel was closed".into(),
        ConsumerMessage::ClientClosedConnection => "the connection was closed".into(),
        ConsumerMessage::ServerClosedChannel(e) | ConsumerMessage::ServerClosedConnection(e) => {
            e.to_string()
        }
    }
}

/// Routes from the `CC` header (RabbitMQ's sender-selected distribution).
fn cc_routes(properties: &AmqpProperties) -> Vec<String> {
    let Some(value) = properties.headers().as_ref().and_then(|h| h.get("CC")) else {
        return Vec::new();
    };
    let items = match value {
        AmqpValue::FieldArray(items) => items.as_slice(),
        single => std::slice::from_ref(single),
    };
    items
        .iter()
        .filter_map(|item| match item {
            AmqpValue::LongString(route) => Some(route.clone()),
            AmqpValue::ByteArray(bytes) => match String::from_utf8(bytes.clone()) {
                Ok(route) => Some(route),
                Err(_) => {
                    warn!("ignoring a CC route that is not utf-8");
                    None
                }
            },
            other => {
                warn!("ignoring a CC route that is not a string: {other:?}");
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use amiquip::FieldTable;

    fn with_cc(value: AmqpValue) -> AmqpProperties {
        let mut headers = FieldTable::new();
        headers.insert("CC".into(), value);
        AmqpProperties::default().with_headers(headers)
    }

    #[test]
    fn cc_header_forms() {
        assert!(cc_routes(&AmqpProperties::default()).is_empty());
        let list = with_cc(AmqpValue::FieldArray(vec![
            AmqpValue::LongString("route.a".into()),
            AmqpValue::LongString("route.b".into()),
        ]));
        assert_eq!(cc_routes(&list), ["route.a", "route.b"]);
        let single = with_cc(AmqpValue::LongString("route.c".into()));
        assert_eq!(cc_routes(&single), ["route.c"]);
    }

    #[test]
    fn options_are_checked() {
        let mut options = ConsumeOptions {
            prefetch: 0,
            ..ConsumeOptions::default()
        };
        assert_eq!(
            validate_options(&options).unwrap_err().kind(),
            ErrorKind::InvalidConfig
        );
        options.prefetch = 1;
        options.reconnect.cap = Duration::from_millis(1);
        assert!(validate_options(&options).is_err());
        assert!(validate_options(&ConsumeOptions::default()).is_ok());
    }

    #[test]
    fn dropped_acker_requeues_and_decisions_carry_generation() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let generations = Arc::new(Generations::default());
        let acker = |tag| Acker {
            generation: 3,
            tag,
            decisions: tx.clone(),
            decided: false,
            generations: Arc::clone(&generations),
        };
        acker(1).ack();
        acker(2).reject(false);
        drop(acker(3));
        acker(4).forget();
        let got: Vec<_> = rx
            .try_iter()
            .map(|d| (d.generation, d.tag, d.outcome))
            .collect();
        assert_eq!(
            got,
            [
                (3, 1, Outcome::Ack),
                (3, 2, Outcome::Reject { requeue: false }),
                (3, 3, Outcome::Reject { requeue: true }),
            ]
        );
    }

    #[test]
    fn requeued_means_its_connection_is_gone_and_the_queue_is_not() {
        let (tx, _rx) = crossbeam_channel::unbounded();
        let generations = Arc::new(Generations::default());
        let acker = |generation| Acker {
            generation,
            tag: 1,
            decisions: tx.clone(),
            decided: false,
            generations: Arc::clone(&generations),
        };
        let (first, second) = (acker(1), acker(2));
        generations.live.store(1, Ordering::Release);
        assert!(!first.is_requeued());
        assert!(second.is_requeued());
        generations.orphaned.lock().unwrap().push(1);
        generations.live.store(2, Ordering::Release);
        assert!(
            !first.is_requeued(),
            "its queue was deleted: never requeued"
        );
        assert!(!second.is_requeued());
        generations.live.store(0, Ordering::Release);
        assert!(second.is_requeued());
        first.forget();
        second.forget();
    }
}
