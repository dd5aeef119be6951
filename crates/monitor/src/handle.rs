//! [`Monitor`], the handle of a running monitor, and what it shares with
//! the monitor's threads ([`Shared`]): the counters, the consumer, the
//! stop flag and the stop report.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use pulse_wire::Consumer;

use crate::builder::MonitorBuilder;
use crate::metrics::MetricsServer;
use crate::pushes::PushDesk;
use crate::run::Run;
use crate::stats::{Counters, Stats};
use crate::{Error, ErrorKind};

/// What the monitor's threads and its handle share.
pub(crate) struct Shared {
    pub(crate) counters: Counters,
    /// The broker's consumer, once started (never, for the in-process source).
    pub(crate) consumer: OnceLock<Consumer>,
    pub(crate) report: Mutex<Option<StopReport>>,
    started: Instant,
    /// When the last message arrived.
    pub(crate) last_received: Mutex<Option<Instant>>,
    /// Set once a stop is asked for: the intake then takes no more work.
    pub(crate) stopping: AtomicBool,
    /// Keys of callback calls never handed to the pool because of a stop.
    abandoned: Mutex<Vec<String>>,
}

impl Shared {
    pub(crate) fn new() -> Shared {
        Shared {
            counters: Counters::default(),
            consumer: OnceLock::new(),
            report: Mutex::new(None),
            started: Instant::now(),
            last_received: Mutex::new(None),
            stopping: AtomicBool::new(false),
            abandoned: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    pub(crate) fn abandon(&self, keys: impl Iterator<Item = String>) {
        self.abandoned
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(keys);
    }

    pub(crate) fn take_abandoned(&self) -> Vec<String> {
        std::mem::take(
            &mut *self
                .abandoned
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    pub(crate) fn stats(&self) -> Stats {
        let wire = self.consumer.get().map(Consumer::stats);
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

/// A running monitor: the handle [`MonitorBuilder::start`] returns.
///
/// Dropping it stops the monitor gracefully, as [`stop`](Self::stop) does.
///
/// ```
/// use std::time::Duration;
/// use pulse_build_monitor::{Monitor, Message};
///
/// let message = Message::new("exchange/build/", "build.x.1.finished", b"{}".to_vec());
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
    /// The push tracker, when pushes are tracked.
    pushes: Option<Arc<PushDesk>>,
}

/// How long [`Monitor::stop`] waits for callbacks in flight.
pub(crate) const DEFAULT_STOP_DEADLINE: Duration = Duration::from_secs(30);

impl Monitor {
    /// A builder with the seed's defaults.
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
        self.shared.stopping.store(true, Ordering::Release);
        let _ = self.stop.try_send(deadline);
        self.join()
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// Every push tracked (its tree kept by the filter's tree rule, its
    /// worst result so far by the result rule), most recently active first, as it stands now;
    /// empty unless pushes are tracked ([`MonitorBuilder::on_push`],
    /// [`MonitorBuilder::push_tracking`]). Still answers after a stop.
    pub fn pushes(&self) -> Vec<pulse_push::PushSummary> {
        self.pushes
            .as_ref()
            .map(|desk| desk.pushes())
            .unwrap_or_default()
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
        self.shared.consumer.get().map(Consumer::queue_name)
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

impl Monitor {
    /// Starts the monitor's own thread, which runs `run`.
    pub(crate) fn start(
        shared: Arc<Shared>,
        run: Run,
        metrics: Option<MetricsServer>,
        pushes: Option<Arc<PushDesk>>,
    ) -> Result<Monitor, Error> {
        let (stop_tx, stop_rx) = crossbeam_channel::bounded::<Duration>(1);
        let (done_tx, done_rx) = crossbeam_channel::bounded::<()>(0);
        let thread = std::thread::Builder::new()
            .name("pulse-monitor".to_string())
            .spawn(move || {
                let _done = done_tx;
                run.run(&stop_rx);
            })
            .map_err(|e| Error::new(ErrorKind::Spawn(e)))?;
        Ok(Monitor {
            shared,
            stop: stop_tx,
            done: done_rx,
            thread: Mutex::new(Some(thread)),
            metrics,
            pushes,
        })
    }
}
