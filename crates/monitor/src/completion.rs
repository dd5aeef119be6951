//! Ack after the callbacks: a message's [`MessageRun`] decides once whether
//! its callbacks run, and its completion token acknowledges it when the
//! last of them has ended.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use pulse_dispatch::{Completion, Outcome};
use pulse_wire::Acker;

use crate::dedupe::{Dedupe, Identity};
use crate::message::RawMessage;
use crate::shared::Shared;
use crate::stats::Counters;

/// One message on its way through the callbacks. Whether they run at all
/// is decided once, when the first of them starts: not if the message's
/// connection was lost meanwhile, since the broker then delivers it again.
pub(crate) struct MessageRun {
    acker: Mutex<Option<Acker>>,
    run: OnceLock<bool>,
    /// Its effect on the push state could not be written: it is not
    /// handled, whatever its callbacks did.
    unwritten: AtomicBool,
}

impl MessageRun {
    pub(crate) fn new(acker: Option<Acker>) -> MessageRun {
        MessageRun {
            acker: Mutex::new(acker),
            run: OnceLock::new(),
            unwritten: AtomicBool::new(false),
        }
    }

    /// Lets go of the acker unused, so the broker delivers the message
    /// again, and keeps the dedupe window from taking that redelivery for
    /// a duplicate.
    pub(crate) fn forget_acker(&self) {
        self.unwritten.store(true, Ordering::Release);
        drop(
            self.acker
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
    }

    pub(crate) fn should_run(&self) -> bool {
        *self.run.get_or_init(|| {
            let acker = self.acker.lock().unwrap_or_else(PoisonError::into_inner);
            !acker.as_ref().is_some_and(Acker::is_requeued)
        })
    }
}

/// The token that acknowledges a message once all its callback calls have
/// ended, panicked or not: a panicking callback would panic again on a
/// redelivery. Calls a deadline abandoned, and calls skipped because the
/// connection was lost before they started, leave the message for
/// redelivery instead. Redeliveries that arrived while it ran are
/// acknowledged with it.
pub(crate) fn completion(
    shared: &Arc<Shared>,
    dedupe: Option<&Arc<Dedupe>>,
    message: &Arc<RawMessage>,
    run: Arc<MessageRun>,
    identity: Option<Identity>,
) -> Completion {
    let shared = Arc::clone(shared);
    let dedupe = dedupe.cloned();
    let message = Arc::clone(message);
    Completion::new(move |outcome: Outcome| {
        let key = &message.routing_key;
        let counters = &shared.counters;
        Counters::add(&counters.callback_panics, outcome.panicked as u64);
        let acker = run
            .acker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let started = run.run.get().copied();
        let handled = started == Some(true)
            && outcome.abandoned == 0
            && !run.unwritten.load(Ordering::Acquire);
        let waiting = match (&dedupe, identity) {
            (Some(dedupe), Some(identity)) => dedupe.finish(identity, handled),
            _ => Vec::new(),
        };
        if started == Some(false) {
            Counters::add(&counters.dropped_requeued, 1);
            log::debug!(
                "{key}: its connection was lost before its callbacks started; \
                 they run when the broker delivers it again"
            );
            return; // dropping the ackers requeues what is still live
        }
        if outcome.abandoned > 0 {
            log::warn!(
                "{key}: left unacknowledged, {} callback(s) never ran",
                outcome.abandoned
            );
            return; // dropping the acker requeues the message
        }
        if let Some(acker) = acker {
            acker.ack();
            Counters::add(&counters.acknowledged, 1);
        }
        for acker in waiting {
            acker.ack();
            Counters::add(&counters.acknowledged, 1);
            Counters::add(&counters.duplicates, 1);
        }
    })
}
