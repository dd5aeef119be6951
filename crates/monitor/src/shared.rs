//! [`Shared`]: what the monitor's threads and its handle share (counters,
//! the consumer, the stop flag), and the [`StopReport`] they leave.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use pulse_wire::Consumer;

use crate::stats::{Counters, Stats};

/// How long [`Monitor::stop`](crate::Monitor::stop) waits for callbacks in flight.
pub(crate) const DEFAULT_STOP_DEADLINE: Duration = Duration::from_secs(30);

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
    /// Records waiting for their details (their messages unacknowledged).
    pub(crate) details_in_flight: AtomicUsize,
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
            details_in_flight: AtomicUsize::new(0),
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

/// What [`Monitor::stop`](crate::Monitor::stop) found when the monitor ended.
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
