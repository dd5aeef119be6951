//! [`PoolSlot`]: the callback pool, shared by those who submit to it (the
//! intake, the push ticker) and the monitor's thread, which takes it out to
//! shut it down.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use pulse_dispatch::{Job, Pool};

use crate::shared::Shared;
use crate::stats::Counters;

/// How long the intake waits for room in a full pool before it looks
/// whether the monitor is stopping.
const FULL_POOL_RETRY: Duration = Duration::from_millis(2);

/// The pool, shared by the intake (which submits) and the monitor's thread
/// (which takes it out to shut it down when stopping).
pub(crate) struct PoolSlot(Mutex<Option<Pool>>);

impl PoolSlot {
    pub(crate) fn new(pool: Pool) -> PoolSlot {
        PoolSlot(Mutex::new(Some(pool)))
    }

    /// The pool, for its shutdown: nothing is submitted afterwards.
    pub(crate) fn take(&self) -> Option<Pool> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    /// Hands `job` to the pool, waiting while it is full; dropped unrun
    /// once the monitor stops (its key goes to the stop report).
    /// False when it was dropped (and named in the stop report).
    pub(crate) fn submit_waiting(&self, mut job: Job, shared: &Shared) -> bool {
        loop {
            let slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(pool) = slot.as_ref() else {
                // Taken out for its shutdown: the monitor is stopping.
                shared.abandon(std::iter::once(job.key().to_string()));
                return false;
            };
            match pool.submit_timeout(job, FULL_POOL_RETRY) {
                Ok(()) => {
                    Counters::add(&shared.counters.dispatched, 1);
                    return true;
                }
                Err(full) => job = full.into_job(),
            }
            drop(slot);
            if shared.is_stopping() {
                shared.abandon(std::iter::once(job.key().to_string()));
                return false;
            }
        }
    }

    /// Whether every job submitted so far has ended.
    pub(crate) fn is_idle(&self) -> bool {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .is_none_or(|pool| {
                let stats = pool.stats();
                stats.queued == 0 && stats.running == 0
            })
    }
}
