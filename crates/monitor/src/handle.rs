//! [`Monitor`], the handle of a running monitor: what its user holds to
//! ask for stats and pushes, and to stop it.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};
use pulse_wire::Consumer;

use crate::metrics::MetricsServer;
use crate::pushes::PushDesk;
use crate::shared::{Shared, StopReport, DEFAULT_STOP_DEADLINE};
use crate::stats::Stats;
use crate::{Error, ErrorKind};

/// A running monitor: the handle [`MonitorBuilder::start`](crate::MonitorBuilder::start) returns.
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

impl Monitor {
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
    /// empty unless pushes are tracked ([`MonitorBuilder::on_push`](crate::MonitorBuilder::on_push),
    /// [`MonitorBuilder::push_tracking`](crate::MonitorBuilder::push_tracking)). Still answers after a stop.
    pub fn pushes(&self) -> Vec<pulse_push::PushSummary> {
        self.pushes
            .as_ref()
            .map(|desk| desk.pushes())
            .unwrap_or_default()
    }

    /// The pushes changed since `version` (0: every push), as
    /// [`pushes`](Self::pushes) lists them, and the version to ask with
    /// next time: for a program that shows pushes and asks often, without
    /// a summary of every push of the retention each time. A push may
    /// come twice for one change.
    ///
    /// ```
    /// # use pulse_build_monitor::Monitor;
    /// # let none = Vec::<pulse_build_monitor::Message>::new();
    /// # let monitor = Monitor::builder().on_push(|_| {}).messages(none).start()?;
    /// let (all, version) = monitor.pushes_changed_since(0);
    /// // … later: only what changed meanwhile.
    /// let (changed, version) = monitor.pushes_changed_since(version);
    /// # let _ = (all, changed, version);
    /// # Ok::<(), pulse_build_monitor::Error>(())
    /// ```
    pub fn pushes_changed_since(&self, version: u64) -> (Vec<pulse_push::PushSummary>, u64) {
        self.pushes
            .as_ref()
            .map(|desk| desk.pushes_changed_since(version))
            .unwrap_or((Vec::new(), version))
    }

    /// Where [`MonitorBuilder::metrics`](crate::MonitorBuilder::metrics) serves `/metrics` (`None` when not
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
        run: impl FnOnce(&Receiver<Duration>) + Send + 'static,
        metrics: Option<MetricsServer>,
        pushes: Option<Arc<PushDesk>>,
    ) -> Result<Monitor, Error> {
        let (stop_tx, stop_rx) = crossbeam_channel::bounded::<Duration>(1);
        let (done_tx, done_rx) = crossbeam_channel::bounded::<()>(0);
        let thread = std::thread::Builder::new()
            .name("pulse-monitor".to_string())
            .spawn(move || {
                let _done = done_tx;
                run(&stop_rx);
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
