//! The connection thread's outer loop: connect, consume until the session
//! ends, reconnect with capped exponential backoff, until stopped.

use std::net::TcpStream;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use amiquip::{Channel, Connection, ConsumerOptions};
use crossbeam_channel::Sender;
use log::{debug, error, info, warn};

use super::connection_thread::ConnectionThread;
use super::session::SessionEnd;
use super::Sink;
use crate::connect::open_connection_with_socket;
use crate::error::{Error, Result};
use crate::watchdog::Probe;

/// Sessions shorter than this count as failed attempts for the backoff, so
/// a connection that dies right after opening is not retried in a hot loop.
const STABLE_SESSION: Duration = Duration::from_secs(5);

/// Tells [`Consumer::start`](super::Consumer::start) how the first attempt
/// went; taken once told.
type Ready = Option<Sender<Result<()>>>;

impl ConnectionThread {
    /// Runs until stopped. `ready` learns how the first attempt went: an
    /// error that retrying cannot mend ends the thread there.
    pub(super) fn run(mut self, ready: Sender<Result<()>>) {
        let mut ready = Some(ready);
        let mut delay = self.options.reconnect.initial;
        loop {
            let (mut connection, socket, channel) = match self.open() {
                Ok(opened) => opened,
                Err(e) => {
                    let Some(e) = self.attempt_failed(&mut ready, e) else {
                        return;
                    };
                    if self.retry_after(&e, &mut delay).is_break() {
                        return;
                    }
                    continue;
                }
            };
            self.generation += 1;
            let started = Instant::now();
            let Some(end) = self.consume(&mut connection, &socket, &channel, &mut ready) else {
                return;
            };
            self.session_over(&end);
            if self
                .close(end, connection, channel, started, &mut delay)
                .is_break()
            {
                return;
            }
        }
    }

    /// A connection with its socket, and a channel on it with the topology
    /// declared and the prefetch set.
    fn open(&self) -> Result<(Connection, TcpStream, Channel)> {
        let (mut connection, socket) = open_connection_with_socket(&self.settings)?;
        let channel = self.setup_channel(&mut connection)?;
        Ok((connection, socket, channel))
    }

    /// Logs a failed attempt and waits `delay` before the next, which
    /// waits longer; breaks when asked to stop meanwhile.
    fn retry_after(&self, e: &Error, delay: &mut Duration) -> ControlFlow<()> {
        if e.is_recoverable() {
            warn!("{e}; retrying in {delay:?}");
        } else {
            error!("{e}; retrying in {delay:?}");
        }
        if self.wait_or_stop(*delay) {
            return ControlFlow::Break(());
        }
        *delay = self.options.reconnect.next(*delay);
        ControlFlow::Continue(())
    }

    /// Consumes the queue on a fresh connection until its session ends.
    /// `None` when consuming failed on the first attempt in a way retrying
    /// cannot mend (`ready` has been told): the thread ends.
    fn consume(
        &mut self,
        connection: &mut Connection,
        socket: &TcpStream,
        channel: &Channel,
        ready: &mut Ready,
    ) -> Option<SessionEnd> {
        let consumer = match channel.basic_consume(
            self.topology.queue.name.as_str(),
            ConsumerOptions::default(),
        ) {
            Ok(consumer) => consumer,
            Err(e) => {
                let e = Error::amqp(
                    format_args!("consuming from `{}`", self.topology.queue.name),
                    e,
                );
                let e = self.attempt_failed(ready, e)?;
                return Some(SessionEnd::Lost(e.to_string()));
            }
        };
        self.connected(ready);
        // Bound here so the probe goes before the consumer, as it always has.
        let end = match self.start_probe(connection) {
            Ok(probe) => self.session(socket, channel, &consumer, &probe),
            Err(e) => SessionEnd::Lost(e.to_string()),
        };
        Some(end)
    }

    /// Counts the connection and says it is live; a first one tells
    /// `ready` all went well.
    fn connected(&self, ready: &mut Ready) {
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
    }

    /// The stall watchdog's probe, on a channel of its own.
    fn start_probe(&self, connection: &mut Connection) -> Result<Probe> {
        connection
            .open_channel(None)
            .map_err(|e| Error::amqp("opening the watchdog's channel", e))
            .and_then(|probe| Probe::start(probe, self.topology.queue.name.clone()))
    }

    /// The connection is no longer live: its deliveries cannot be decided
    /// any more, and those not handed out are taken back, except from a
    /// deleted queue, which will not deliver them again.
    fn session_over(&self, end: &SessionEnd) {
        if matches!(end, SessionEnd::QueueDeleted) {
            self.generations.orphan(self.generation);
        }
        self.generations.set_live(0);
        self.stats.update(|s| s.connected = false);
        if !matches!(end, SessionEnd::QueueDeleted) {
            self.take_back_deliveries();
        }
    }

    /// Closes the connection as the session's end asks, and waits as the
    /// backoff asks before the next one; breaks when the thread is to end.
    fn close(
        &self,
        end: SessionEnd,
        connection: Connection,
        channel: Channel,
        started: Instant,
        delay: &mut Duration,
    ) -> ControlFlow<()> {
        match end {
            SessionEnd::Stopped => {
                // Closed, not dropped: the close waits for the broker's
                // answer, after the last acknowledgements on the channel,
                // and a failure here (dropping swallowed it) means they
                // may not have reached the broker.
                if let Err(e) = channel.close() {
                    warn!(
                        "closing the channel of {} after the last acknowledgements: {e}; \
                         the broker requeues what it did not get",
                        self.topology.queue.name
                    );
                }
                if let Err(e) = connection.close() {
                    debug!("closing connection to {}: {e}", self.settings);
                }
                info!("stopped consuming {}", self.topology.queue.name);
                ControlFlow::Break(())
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
                ControlFlow::Continue(())
            }
            SessionEnd::Lost(reason) => {
                // Closing a dead connection only reaps amiquip's I/O thread.
                drop(channel);
                drop(connection);
                if started.elapsed() >= STABLE_SESSION {
                    *delay = self.options.reconnect.initial;
                    warn!(
                        "lost connection to {}: {reason}; reconnecting",
                        self.settings
                    );
                    return ControlFlow::Continue(());
                }
                warn!(
                    "lost connection to {}: {reason}; reconnecting in {delay:?}",
                    self.settings
                );
                if self.wait_or_stop(*delay) {
                    return ControlFlow::Break(());
                }
                *delay = self.options.reconnect.next(*delay);
                ControlFlow::Continue(())
            }
        }
    }

    /// Counts a failed attempt. The first one decides what
    /// [`Consumer::start`](super::Consumer::start) returns: an error that
    /// retrying cannot mend is handed to it and ends the thread (`None`);
    /// anything else is returned to retry.
    fn attempt_failed(&self, ready: &mut Ready, e: Error) -> Option<Error> {
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
    fn take_back_deliveries(&self) {
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
