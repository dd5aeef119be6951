//! Counters a running monitor keeps.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A snapshot of a monitor's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Messages received from the broker or the in-process source.
    pub received: u64,
    /// Records the translator produced (one message may give several).
    pub translated: u64,
    /// Records that passed the filter.
    pub matched: u64,
    /// Callback calls handed to the thread pool (raw callbacks included).
    pub dispatched: u64,
    /// Callback calls that panicked.
    pub callback_panics: u64,
    /// Messages the translator rejected.
    pub translation_errors: u64,
    /// Acknowledgements sent after all of a message's callbacks ended,
    /// and for [`duplicates`](Self::duplicates). One sent after its
    /// connection dropped never reaches the broker, which delivers the
    /// message again: at-least-once, never at-most-once.
    pub acknowledged: u64,
    /// Deliveries of a message the monitor had already handled (a
    /// redelivery after a reconnect), acknowledged without calling the
    /// callbacks again; see [`MonitorBuilder::dedupe_window`](crate::MonitorBuilder::dedupe_window).
    pub duplicates: u64,
    /// Messages whose callbacks never started because their connection was
    /// lost first: the broker had already put them back in the queue, and
    /// they run when it delivers them again.
    pub dropped_requeued: u64,
    /// Batches whose push state could not be written (a full disk, a
    /// read-only state file): their messages were left unacknowledged, for
    /// the broker to deliver again.
    pub state_write_errors: u64,
    /// Messages the monitor missed (a deleted queue, a lost connection, a
    /// restart) and read back from the Taskcluster queue's listing of the
    /// task groups of the pushes in flight.
    pub reconciled: u64,
    /// Listings of task groups that failed; reconciliation is tried again
    /// 30 s later.
    pub reconcile_errors: u64,
    /// Times the broker cancelled the consumer because the queue had been
    /// deleted (PulseGuardian deletes queues that grow too long); the
    /// monitor declared it again, and what was routed meanwhile is lost.
    pub queue_deleted: u64,
    /// Times the stall watchdog found the consumer connected but silent
    /// and reconnected (see
    /// [`ConsumeOptions::stall_timeout`](crate::ConsumeOptions::stall_timeout)).
    pub stalls: u64,
    /// Times the connection was re-established.
    pub reconnects: u64,
    /// Whether the broker connection is up right now; `None` for the
    /// in-process source.
    pub connected: Option<bool>,
    /// Messages waiting in the queue at the last depth check (see
    /// [`ConsumeOptions::depth_check_interval`](crate::ConsumeOptions::depth_check_interval));
    /// `None` before the first one, and for the in-process source.
    pub queue_depth: Option<u32>,
    /// Time since the last message arrived, or since the monitor started
    /// while none has.
    pub since_last_delivery: Duration,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) received: AtomicU64,
    pub(crate) translated: AtomicU64,
    pub(crate) matched: AtomicU64,
    pub(crate) dispatched: AtomicU64,
    pub(crate) callback_panics: AtomicU64,
    pub(crate) translation_errors: AtomicU64,
    pub(crate) acknowledged: AtomicU64,
    pub(crate) duplicates: AtomicU64,
    pub(crate) dropped_requeued: AtomicU64,
    pub(crate) state_write_errors: AtomicU64,
    pub(crate) reconciled: AtomicU64,
    pub(crate) reconcile_errors: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self, reconnects: u64) -> Stats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Stats {
            received: get(&self.received),
            translated: get(&self.translated),
            matched: get(&self.matched),
            dispatched: get(&self.dispatched),
            callback_panics: get(&self.callback_panics),
            translation_errors: get(&self.translation_errors),
            acknowledged: get(&self.acknowledged),
            duplicates: get(&self.duplicates),
            dropped_requeued: get(&self.dropped_requeued),
            state_write_errors: get(&self.state_write_errors),
            reconciled: get(&self.reconciled),
            reconcile_errors: get(&self.reconcile_errors),
            queue_deleted: 0,
            stalls: 0,
            reconnects,
            connected: None,
            queue_depth: None,
            since_last_delivery: Duration::ZERO,
        }
    }
}
