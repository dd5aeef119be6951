//! One connection's event loop: deliveries read in batches and handed on,
//! decisions applied, the watchdog's questions and answers, and a stop
//! that waits for the decisions still to come.
//!
//! `session` reads as its steps: stop or stall checks, decisions applied
//! when due, then a wait for the next event, each event handled by a
//! function of its own (`on_deliveries`, `on_answer`, `begin_stop`…).

use std::collections::{BTreeSet, VecDeque};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use amiquip::{Channel, ConsumerMessage};
use crossbeam_channel::{RecvError, Select, TryRecvError, TrySendError};
use log::{debug, warn};

use super::acks::{self, Outstanding};
use super::connection_thread::ConnectionThread;
use super::delivery::{Acker, Decision, Delivery};
use super::headers::{cc_routes, describe};
use super::Sink;
use crate::error::ErrorKind;
use crate::watchdog::{Probe, QueueState, Verdict, Watchdog};
use pulse_message::Message;

/// The longest a decision waits before it is applied, unless the prefetch
/// window is half used: 5 ms keeps a message unacknowledged for at most
/// 5 ms more, and lets a steady 1,000 msg/s share an ack frame by 5.
const DECISION_DELAY: Duration = Duration::from_millis(5);

/// Most decisions applied in one go.
const MAX_DECISION_BATCH: usize = 4096;

/// Most deliveries handed on in one go.
const MAX_DELIVERY_BATCH: usize = 16;

/// The stall timeout when heartbeats are off.
const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a session ended, which decides what the connection thread does next.
pub(super) enum SessionEnd {
    Stopped,
    Lost(String),
    /// The broker cancelled the consumer and the queue is gone.
    QueueDeleted,
}

/// What one session keeps track of.
struct SessionState {
    /// Deliveries received and not yet acknowledged or rejected on the wire.
    outstanding: Outstanding,
    /// Deliveries waiting for room in the deliveries channel.
    pending: VecDeque<Delivery>,
    /// Outstanding deliveries whose acker released them: nothing more
    /// will be decided for them on this connection.
    released: BTreeSet<u64>,
    /// When the probe is next asked for the queue's depth.
    next_depth_check: Instant,
    watchdog: Watchdog,
    /// Set once asked to stop: how long decisions are still waited for.
    stop_deadline: Option<Instant>,
    /// When decisions were last applied.
    last_applied: Instant,
}

impl SessionState {
    fn new(stall_timeout: Duration) -> SessionState {
        let now = Instant::now();
        SessionState {
            outstanding: Outstanding::default(),
            pending: VecDeque::new(),
            released: BTreeSet::new(),
            next_depth_check: now,
            watchdog: Watchdog::new(now, stall_timeout),
            stop_deadline: None,
            last_applied: now,
        }
    }

    fn stopping(&self) -> bool {
        self.stop_deadline.is_some()
    }

    /// Deliveries received that may still be decided.
    fn undecided(&self) -> usize {
        self.outstanding.len() - self.released.len()
    }

    /// When to look again without an event: the stop deadline, or the
    /// watchdog's next question; sooner when decisions wait for company.
    fn wake_at(&self, now: Instant, urgent: bool, pending: bool) -> Instant {
        let wake_at = self
            .stop_deadline
            .unwrap_or_else(|| self.watchdog.wake_at(self.next_depth_check));
        if urgent || self.undecided() == 0 {
            return wake_at;
        }
        let poll = if pending {
            self.last_applied + DECISION_DELAY
        } else {
            now + DECISION_DELAY
        };
        wake_at.min(poll)
    }
}

/// The wire objects a session works with.
struct Wire<'s> {
    socket: &'s TcpStream,
    channel: &'s Channel,
    consumer: &'s amiquip::Consumer<'s>,
    probe: &'s Probe,
}

impl ConnectionThread {
    pub(super) fn session(
        &mut self,
        socket: &TcpStream,
        channel: &Channel,
        consumer: &amiquip::Consumer<'_>,
        probe: &Probe,
    ) -> SessionEnd {
        let wire = Wire {
            socket,
            channel,
            consumer,
            probe,
        };
        let mut state = SessionState::new(self.stall_timeout());
        loop {
            let now = Instant::now();
            if let Some(end) = self.stop_or_stall(&mut state, &wire, now) {
                return end;
            }
            // Decisions wait up to DECISION_DELAY for company, so that at a
            // steady trickle of messages one ack frame (and one wake-up of
            // this thread) serves several; they go at once when the window
            // is half used, or when stopping.
            let stopping = state.stopping();
            let urgent = stopping || state.undecided() * 2 >= usize::from(self.options.prefetch);
            let pending = !self.decisions_rx.is_empty();
            if pending && (urgent || now >= state.last_applied + DECISION_DELAY) {
                state.last_applied = now;
                if let Some(end) = self.apply_decisions(&mut state, channel, None, stopping) {
                    return end;
                }
                continue;
            }
            let wake_at = state.wake_at(now, urgent, pending);
            if let Some(end) = self.wait_and_handle(&mut state, &wire, wake_at, urgent) {
                return end;
            }
        }
    }

    /// Once stopping: the end, when every delivery is decided or the stop
    /// timeout passed. Before: the end, when the watchdog finds the
    /// connection stalled; the probe is asked for the queue's depth when
    /// due.
    fn stop_or_stall(
        &self,
        state: &mut SessionState,
        wire: &Wire<'_>,
        now: Instant,
    ) -> Option<SessionEnd> {
        if let Some(deadline) = state.stop_deadline {
            let undecided = state.undecided();
            if undecided == 0 {
                return Some(SessionEnd::Stopped);
            }
            if now >= deadline {
                warn!("stopping with {undecided} messages undecided; the broker requeues them");
                return Some(SessionEnd::Stopped);
            }
            return None;
        }
        if let Some(reason) = state.watchdog.overdue(now) {
            return Some(self.stalled(wire.socket, &reason));
        }
        if state.watchdog.should_ask(now, state.next_depth_check) {
            wire.probe.ask();
        }
        None
    }

    /// Waits until `wake_at` for the first event and handles it:
    /// deliveries from the broker, the probe's answer, a stop, room in the
    /// deliveries channel, or (when urgent) a decision. The end of the
    /// session, if the event ends it. Once stopping, only decisions and
    /// handing out are waited for.
    fn wait_and_handle(
        &mut self,
        state: &mut SessionState,
        wire: &Wire<'_>,
        wake_at: Instant,
        urgent: bool,
    ) -> Option<SessionEnd> {
        let stopping = state.stopping();
        let mut select = Select::new();
        let from_broker = (!stopping).then(|| select.recv(wire.consumer.receiver()));
        let control = (!stopping).then(|| select.recv(&self.control_rx));
        let answers = (!stopping).then(|| select.recv(wire.probe.answers()));
        let decisions = urgent.then(|| select.recv(&self.decisions_rx));
        let hand_out = match &self.sink {
            Sink::Channel { tx, .. } if !state.pending.is_empty() => Some(select.send(tx)),
            _ => None,
        };
        let Ok(operation) = select.select_deadline(wake_at) else {
            return None;
        };
        let index = Some(operation.index());
        if index == from_broker {
            let first = operation.recv(wire.consumer.receiver());
            self.on_deliveries(state, wire, first)
        } else if index == answers {
            let answer = operation.recv(wire.probe.answers());
            self.on_answer(state, wire, answer)
        } else if index == control {
            // A message or a dropped handle both mean stop.
            let _ = operation.recv(&self.control_rx);
            self.begin_stop(state, wire.consumer)
        } else if index == hand_out {
            let Sink::Channel { tx, .. } = &self.sink else {
                unreachable!("selected only for a channel sink");
            };
            let delivery = state
                .pending
                .pop_front()
                .expect("selected only when pending");
            // We hold a receiver ourselves, so the channel cannot be disconnected.
            let _ = operation.send(tx, delivery);
            None
        } else if index == decisions {
            let first = operation.recv(&self.decisions_rx).ok()?;
            state.last_applied = Instant::now();
            self.apply_decisions(state, wire.channel, Some(first), stopping)
        } else {
            None
        }
    }

    /// Hands on the deliveries ready, starting with `first`; the end of
    /// the session if the broker's side of the consumer ended.
    fn on_deliveries(
        &mut self,
        state: &mut SessionState,
        wire: &Wire<'_>,
        first: Result<ConsumerMessage, RecvError>,
    ) -> Option<SessionEnd> {
        let (batch, next) = self.read_batch(state, wire.consumer, first);
        if !batch.is_empty() {
            state.watchdog.delivered(Instant::now());
            self.hand_on(state, batch);
        }
        next.map(|event| self.broker_ended(state, event, wire.probe))
    }

    /// Records the queue's depth the probe read, and lets the watchdog
    /// judge the answer; the end of the session if the queue is gone, the
    /// probe's channel ended or the watchdog finds the connection stalled.
    fn on_answer(
        &self,
        state: &mut SessionState,
        wire: &Wire<'_>,
        answer: Result<crate::error::Result<QueueState>, RecvError>,
    ) -> Option<SessionEnd> {
        let Ok(answer) = answer else {
            return Some(SessionEnd::Lost("the watchdog's channel ended".into()));
        };
        match answer {
            Ok(queue) => {
                self.record_depth(queue.messages);
                state.next_depth_check = Instant::now() + self.options.depth_check_interval;
                let room = state.outstanding.len() < usize::from(self.options.prefetch);
                match state.watchdog.answered(Instant::now(), queue, room) {
                    Verdict::Stalled(reason) => Some(self.stalled(wire.socket, &reason)),
                    _ => None,
                }
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Some(self.queue_deleted(state)),
            Err(e) => Some(SessionEnd::Lost(e.to_string())),
        }
    }

    /// Asked to stop: cancels the consumer, forgets the deliveries not
    /// handed out (the broker requeues them) and gives those handed out
    /// until the stop timeout to be decided.
    fn begin_stop(
        &self,
        state: &mut SessionState,
        consumer: &amiquip::Consumer<'_>,
    ) -> Option<SessionEnd> {
        if let Err(e) = consumer.cancel() {
            debug!("cancelling the consumer while stopping: {e}");
            return Some(SessionEnd::Stopped);
        }
        for delivery in state.pending.drain(..) {
            state.outstanding.remove(&delivery.acker.tag);
            delivery.acker.forget();
        }
        if let Sink::Channel { rx, .. } = &self.sink {
            while let Ok(delivery) = rx.try_recv() {
                state.outstanding.remove(&delivery.acker.tag);
                delivery.acker.forget();
            }
        }
        state.stop_deadline = Some(Instant::now() + self.options.stop_timeout);
        None
    }

    /// Applies the decisions waiting (after `first`, if given); the end of
    /// the session if the wire failed.
    fn apply_decisions(
        &self,
        state: &mut SessionState,
        channel: &Channel,
        first: Option<Decision>,
        stopping: bool,
    ) -> Option<SessionEnd> {
        let mut batch: Vec<Decision> = first.into_iter().collect();
        while batch.len() < MAX_DECISION_BATCH {
            match self.decisions_rx.try_recv() {
                Ok(decision) => batch.push(decision),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        let (applied, result) =
            acks::apply(&mut state.outstanding, channel, self.generation, batch);
        state.released.extend(&applied.released);
        self.stats.update(|s| {
            s.stale_decisions += applied.stale;
            s.rejected += applied.rejected;
            s.acked += applied.acked;
        });
        let e = result.err()?;
        if stopping {
            warn!("{e} while stopping; the broker requeues what is unacknowledged");
            return Some(SessionEnd::Stopped);
        }
        Some(SessionEnd::Lost(e.to_string()))
    }

    /// The deliveries ready now, starting with `first`, and what ended the
    /// batch if it was not a delivery (the consumer's end).
    fn read_batch(
        &self,
        state: &mut SessionState,
        consumer: &amiquip::Consumer<'_>,
        first: Result<ConsumerMessage, RecvError>,
    ) -> (Vec<Delivery>, Option<Result<ConsumerMessage, RecvError>>) {
        let mut batch = Vec::new();
        let mut next = Some(first);
        let end = loop {
            match next.take() {
                Some(Ok(ConsumerMessage::Delivery(raw))) => batch.push(self.take(state, raw)),
                Some(other) => break Some(other),
                None => break None,
            }
            if batch.len() >= MAX_DELIVERY_BATCH {
                break None;
            }
            next = match consumer.receiver().try_recv() {
                Ok(message) => Some(Ok(message)),
                Err(TryRecvError::Empty) => None,
                Err(TryRecvError::Disconnected) => Some(Err(RecvError)),
            };
        };
        if !batch.is_empty() {
            let received = batch.len() as u64;
            self.stats.update(|s| {
                s.received += received;
                s.last_delivery = Some(Instant::now());
            });
        }
        (batch, end)
    }

    /// An owned [`Delivery`] of `raw`, whose remains (tag and channel id,
    /// what amiquip needs to answer it) wait in `outstanding`.
    fn take(&self, state: &mut SessionState, mut raw: amiquip::Delivery) -> Delivery {
        let tag = raw.delivery_tag();
        let message = Message {
            exchange: std::mem::take(&mut raw.exchange),
            routing_key: std::mem::take(&mut raw.routing_key),
            cc: cc_routes(&raw.properties),
            body: std::mem::take(&mut raw.body),
        };
        let delivery = Delivery {
            message,
            redelivered: raw.redelivered,
            acker: Acker::new(
                self.generation,
                tag,
                self.decisions_tx.clone(),
                Arc::clone(&self.generations),
            ),
        };
        state.outstanding.insert(tag, raw);
        delivery
    }

    /// Gives a batch to the handler, or queues it for the channel.
    fn hand_on(&mut self, state: &mut SessionState, batch: Vec<Delivery>) {
        match &mut self.sink {
            Sink::Handler { handler, .. } => handler(batch),
            Sink::Channel { tx, .. } => {
                for delivery in batch {
                    if !state.pending.is_empty() {
                        state.pending.push_back(delivery);
                        continue;
                    }
                    match tx.try_send(delivery) {
                        Ok(()) => {}
                        Err(TrySendError::Full(d) | TrySendError::Disconnected(d)) => {
                            state.pending.push_back(d);
                        }
                    }
                }
            }
        }
    }

    /// The broker's side of the consumer ended: a deleted queue, or a lost
    /// connection or channel.
    fn broker_ended(
        &self,
        state: &mut SessionState,
        event: Result<ConsumerMessage, RecvError>,
        probe: &Probe,
    ) -> SessionEnd {
        match event {
            Ok(ConsumerMessage::ServerCancelled) => {
                // The probe asks on its own channel: a 404 closes only that
                // one. An answer may be one asked before the cancel: only a
                // second one surely comes after it.
                let deadline = Instant::now() + state.watchdog.answer_timeout();
                for _ in 0..2 {
                    probe.ask();
                    match probe.answers().recv_deadline(deadline) {
                        Ok(Err(e)) if e.kind() == ErrorKind::NotFound => {
                            return self.queue_deleted(state)
                        }
                        Ok(Ok(_)) => continue,
                        _ => break,
                    }
                }
                SessionEnd::Lost(describe(ConsumerMessage::ServerCancelled))
            }
            Ok(other) => SessionEnd::Lost(describe(other)),
            Err(RecvError) => {
                SessionEnd::Lost("the connection ended (socket closed or heartbeat missed)".into())
            }
        }
    }

    /// The queue is gone: the deliveries already taken are handed out (no
    /// queue will deliver them again) and the session ends.
    fn queue_deleted(&self, state: &mut SessionState) -> SessionEnd {
        if let Sink::Channel { tx, .. } = &self.sink {
            for delivery in state.pending.drain(..) {
                if let Err(e) = tx.try_send(delivery) {
                    warn!("no room to hand out {:?}", e.into_inner());
                }
            }
        }
        self.stats.update(|s| s.queue_depth = None);
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
        self.stats.update(|s| s.stalls += 1);
        if let Err(e) = socket.shutdown(Shutdown::Both) {
            debug!("shutting down the stalled connection's socket: {e}");
        }
        SessionEnd::Lost(format!("the stall watchdog closed it ({reason})"))
    }

    /// [`ConsumeOptions::stall_timeout`](super::ConsumeOptions::stall_timeout),
    /// or its default.
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
        self.stats.update(|s| s.queue_depth = Some(depth));
    }
}
