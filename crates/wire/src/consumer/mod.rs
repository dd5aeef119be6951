//! The consuming side. [`Consumer::start`] runs one connection thread that
//! owns every amiquip object: it connects, declares the topology, consumes,
//! reconnects with backoff, and applies the decisions of each delivery's
//! [`Acker`] as they come back to it.
//!
//! One concern a file: `options` ([`ConsumeOptions`], [`Backoff`]),
//! `stats` ([`ConsumerStats`]), `delivery` ([`Delivery`], [`Acker`] and
//! the decisions they send back), `connection_thread` (the connection
//! thread's state, `ConnectionThread`), `connection` (its connect and
//! reconnect loop), `session` (one connection's event loop: deliveries,
//! decisions, the watchdog, stopping), `acks` (decisions applied on the
//! wire, acks coalesced) and `headers` (the `CC` header's routes).

mod acks;
mod connection;
mod connection_thread;
mod delivery;
mod headers;
mod options;
mod session;
mod stats;

use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};
use log::error;

use crate::error::{Error, ErrorKind, Result};
use crate::settings::ConnectionSettings;
use crate::topology::Topology;

pub use delivery::{Acker, Delivery};
pub use options::{Backoff, ConsumeOptions};
pub use stats::ConsumerStats;

use connection_thread::ConnectionThread;
use stats::SharedStats;

/// A running consumer: its connection thread, the deliveries it hands out
/// and its counters. Dropping it stops it.
#[derive(Debug)]
pub struct Consumer {
    deliveries: Receiver<Delivery>,
    control: Sender<()>,
    stats: SharedStats,
    thread: Mutex<Option<JoinHandle<()>>>,
    queue: String,
}

/// Where the connection thread puts deliveries.
enum Sink {
    /// [`Consumer::deliveries`]; the thread keeps a receiver to take back
    /// what was not taken when the connection is lost or stopped.
    Channel {
        tx: Sender<Delivery>,
        rx: Receiver<Delivery>,
    },
    /// [`Consumer::start_with`]'s handler. The sender only keeps
    /// [`Consumer::deliveries`] open, and empty, while the thread runs.
    Handler {
        handler: Box<dyn FnMut(Vec<Delivery>) + Send>,
        _open: Sender<Delivery>,
    },
}

impl Consumer {
    /// Spawns the connection thread, which connects, declares `topology`,
    /// consumes its queue and keeps doing so across disconnections until
    /// [`stop`](Self::stop). Deliveries arrive on
    /// [`deliveries`](Self::deliveries).
    ///
    /// Returns once the first connection attempt is decided: an error if it
    /// failed in a way retrying cannot fix (bad credentials or vhost,
    /// missing exchange, TLS verification, ...; see [`Error::is_recoverable`]),
    /// so a command line tool can print one clear line. A recoverable first
    /// failure (broker down) returns a consumer that keeps retrying in the
    /// background, with [`ConsumerStats::connected`] false until it succeeds.
    pub fn start(
        settings: ConnectionSettings,
        topology: Topology,
        options: ConsumeOptions,
    ) -> Result<Consumer> {
        let (tx, rx) = crossbeam_channel::bounded(usize::from(options.prefetch));
        Consumer::spawn(
            settings,
            topology,
            options,
            Sink::Channel { tx, rx: rx.clone() },
            rx,
        )
    }

    /// Like [`start`](Self::start), but the connection thread itself calls
    /// `handler` with every delivery ready when it looked (at least one,
    /// at most 16), oldest first; [`deliveries`](Self::deliveries) stays
    /// empty. No thread stands between the connection and the work, and
    /// deliveries come in batches.
    ///
    /// While `handler` runs, no decision reaches the broker and no further
    /// delivery is read (the prefetch window bounds what waits), so it
    /// should hand the work on rather than do it, and return promptly once
    /// its owner wants to stop.
    pub fn start_with(
        settings: ConnectionSettings,
        topology: Topology,
        options: ConsumeOptions,
        handler: impl FnMut(Vec<Delivery>) + Send + 'static,
    ) -> Result<Consumer> {
        let (open, rx) = crossbeam_channel::bounded(0);
        let sink = Sink::Handler {
            handler: Box::new(handler),
            _open: open,
        };
        Consumer::spawn(settings, topology, options, sink, rx)
    }

    fn spawn(
        settings: ConnectionSettings,
        topology: Topology,
        options: ConsumeOptions,
        sink: Sink,
        deliveries: Receiver<Delivery>,
    ) -> Result<Consumer> {
        settings.validate()?;
        options.validate()?;
        topology.queue.validate()?;
        let (control_tx, control_rx) = crossbeam_channel::bounded(1);
        let (ready_tx, ready_rx) = crossbeam_channel::bounded(1);
        let stats = SharedStats::default();
        let queue = topology.queue.name.clone();
        let connection_thread =
            ConnectionThread::new(settings, topology, options, sink, control_rx, stats.clone());
        let thread = std::thread::Builder::new()
            .name(format!("pulse-wire {queue}"))
            .spawn(move || connection_thread.run(ready_tx))
            .map_err(|e| Error::io("spawning the connection thread", e))?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Consumer {
                deliveries,
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

    /// Incoming messages (none for a consumer with a handler).
    /// Iterating ends after [`stop`](Self::stop).
    pub fn deliveries(&self) -> &Receiver<Delivery> {
        &self.deliveries
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> ConsumerStats {
        self.stats.snapshot()
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

impl Drop for Consumer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Shared by the connection loop and the session: which generation's
/// deliveries may still be decided.
type SharedGenerations = Arc<delivery::Generations>;
