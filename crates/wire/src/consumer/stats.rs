//! [`ConsumerStats`]: what a consumer counts.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

/// Counters of a consumer; see [`Consumer::stats`](crate::Consumer::stats).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConsumerStats {
    /// Messages received from the broker (redeliveries included).
    pub received: u64,
    /// Acks sent to the broker.
    pub acked: u64,
    /// Rejections sent to the broker (including dropped
    /// [`Acker`](crate::Acker)s).
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
    /// and reconnected (see
    /// [`ConsumeOptions::stall_timeout`](crate::ConsumeOptions::stall_timeout)).
    pub stalls: u64,
}

/// The counters, written by the connection thread and read by the handle.
#[derive(Debug, Clone, Default)]
pub(super) struct SharedStats(Arc<Mutex<ConsumerStats>>);

impl SharedStats {
    pub(super) fn update(&self, change: impl FnOnce(&mut ConsumerStats)) {
        change(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner));
    }

    pub(super) fn snapshot(&self) -> ConsumerStats {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
