//! The connection thread's outer loop: connect, consume until the session
//! ends, reconnect with capped exponential backoff, until stopped.

use std::time::{Duration, Instant};

use amiquip::{Channel, Connection, ConsumerOptions};
use crossbeam_channel::{Receiver, Sender};
use log::{debug, error, info, warn};

use super::delivery::Decision;
use super::session::SessionEnd;
use super::stats::SharedStats;
use super::{ConsumeOptions, SharedGenerations, Sink};
use crate::connect::open_connection_with_socket;
use crate::error::{Error, Result};
use crate::settings::ConnectionSettings;
use crate::topology::Topology;
use crate::watchdog::Probe;

/// Sessions shorter than this count as failed attempts for the backoff, so
/// a connection that dies right after opening is not retried in a hot loop.
const STABLE_SESSION: Duration = Duration::from_secs(5);

/// State owned by the connection thread.
pub(super) struct Worker {
    pub(super) settings: ConnectionSettings,
    pub(super) topology: Topology,
    pub(super) options: ConsumeOptions,
    pub(super) sink: Sink,
    pub(super) decisions_tx: Sender<Decision>,
    pub(super) decisions_rx: Receiver<Decision>,
    pub(super) control_rx: Receiver<()>,
    pub(super) stats: SharedStats,
    /// Counts successful connections; tags deliveries and their decisions.
    pub(super) generation: u64,
    pub(super) generations: SharedGenerations,
}

impl Worker {
    pub(super) fn new(
        settings: ConnectionSettings,
        topology: Topology,
        options: ConsumeOptions,
        sink: Sink,
        control_rx: Receiver<()>,
        stats: SharedStats,
    ) -> Worker {
        let (decisions_tx, decisions_rx) = crossbeam_channel::unbounded();
        Worker {
            settings,
            topology,
            options,
            sink,
            decisions_tx,
            decisions_rx,
            control_rx,
            stats,
            generation: 0,
            generations: SharedGenerations::default(),
        }
    }

    /// Runs until stopped. `ready` learns how the first attempt went: an
    /// error that retrying cannot mend ends the thread there.
    pub(super) fn run(mut self, ready: Sender<Result<()>>) {
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
                    let Some(e) = self.attempt_failed(&mut ready, e) else {
                        return;
                    };
                    if e.is_recoverable() {
                        warn!("{e}; retrying in {delay:?}");
                    } else {
                        error!("{e}; retrying in {delay:?}");
                    }
                    if self.wait_or_stop(delay) {
                        return;
                    }
                    delay = self.options.reconnect.next(delay);
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
                    self.stats.update(|s| {
                        s.connected = true;
                        if !first {
                            s.reconnects += 1;
                        }
                    });
                    self.generations.set_live(self.generation);
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
                    let Some(e) = self.attempt_failed(&mut ready, e) else {
                        return;
                    };
                    SessionEnd::Lost(e.to_string())
                }
            };
            if matches!(end, SessionEnd::QueueDeleted) {
                self.generations.orphan(self.generation);
            }
            self.generations.set_live(0);
            self.stats.update(|s| s.connected = false);
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
                    self.stats.update(|s| s.queue_deleted += 1);
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
                        delay = self.options.reconnect.next(delay);
                    }
                }
            }
        }
    }

    /// Counts a failed attempt. The first one decides what
    /// [`Consumer::start`](super::Consumer::start) returns: an error that
    /// retrying cannot mend is handed to it and ends the thread (`None`);
    /// anything else is returned to retry.
    fn attempt_failed(&self, ready: &mut Option<Sender<Result<()>>>, e: Error) -> Option<Error> {
        self.stats.update(|s| s.connect_failures += 1);
        if let Some(ready) = ready.take() {
            if !e.is_recoverable() {
                let _ = ready.send(Err(e));
                return None;
            }
            let _ = ready.send(Ok(()));
        }
        Some(e)
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

    /// Sleeps for `delay` unless asked to stop (returns true then). Decisions
    /// arriving meanwhile belong to a lost connection.
    fn wait_or_stop(&self, delay: Duration) -> bool {
        let deadline = Instant::now() + delay;
        loop {
            crossbeam_channel::select! {
                recv(self.control_rx) -> _ => return true,
                recv(self.decisions_rx) -> _ => self.stats.update(|s| s.stale_decisions += 1),
                default(deadline.saturating_duration_since(Instant::now())) => return false,
            }
        }
    }

    /// Takes undelivered messages back from the deliveries channel: they can
    /// no longer be acknowledged, and the broker requeues them.
    pub(super) fn take_back_deliveries(&self) {
        let Sink::Channel { rx, .. } = &self.sink else {
            return;
        };
        let mut taken = 0;
        while let Ok(delivery) = rx.try_recv() {
            delivery.acker.forget();
            taken += 1;
        }
        if taken > 0 {
            debug!("took back {taken} undelivered messages; the broker requeues them");
        }
    }
}
