//! Decisions applied on the wire: acks coalesced into `ack_multiple` where
//! the tags allow it, rejections one by one.

use std::collections::{BTreeMap, BTreeSet};

use amiquip::Channel;

use super::delivery::{Decision, Outcome};
use crate::error::{Error, Result};

/// The deliveries of one connection not yet acknowledged or rejected on the
/// wire, by tag: what amiquip needs to answer each.
pub(super) type Outstanding = BTreeMap<u64, amiquip::Delivery>;

/// What [`apply`] sent.
#[derive(Debug, Default)]
pub(super) struct Applied {
    pub(super) acked: u64,
    pub(super) rejected: u64,
    /// Decisions of an earlier connection, dropped.
    pub(super) stale: u64,
    /// Tags left to the broker; see [`Acker::release`](super::Acker::release).
    pub(super) released: Vec<u64>,
}

/// Applies a batch of decisions made on `generation`'s deliveries. Acks
/// whose tags form an unbroken run from the lowest unacknowledged tag go
/// out as one `ack_multiple`, which acknowledges every tag up to its own:
/// correct only because every lower tag still unacknowledged on the broker
/// is in `outstanding` (tags grow in delivery order and each is recorded
/// before it is handed out). Other acks go out one by one rather than
/// waiting, so one slow message never holds back the prefetch window.
pub(super) fn apply(
    outstanding: &mut Outstanding,
    channel: &Channel,
    generation: u64,
    batch: Vec<Decision>,
) -> (Applied, Result<()>) {
    let mut applied = Applied::default();
    let mut acks = BTreeSet::new();
    let mut result = Ok(());
    for decision in batch {
        if decision.generation != generation {
            applied.stale += 1;
            continue;
        }
        match decision.outcome {
            Outcome::Ack => {
                acks.insert(decision.tag);
            }
            // Kept outstanding: it is still unacknowledged on the broker,
            // so no ack_multiple may cover it.
            Outcome::Release => {
                if outstanding.contains_key(&decision.tag) {
                    applied.released.push(decision.tag);
                }
            }
            Outcome::Reject { requeue } => {
                if let Some(raw) = outstanding.remove(&decision.tag) {
                    if result.is_ok() {
                        result = raw
                            .reject(channel, requeue)
                            .map_err(|e| Error::amqp("rejecting a message", e));
                        applied.rejected += 1;
                    }
                }
            }
        }
    }
    if result.is_err() {
        return (applied, result);
    }

    let run_end = outstanding
        .keys()
        .take_while(|tag| acks.contains(tag))
        .last()
        .copied();
    if let Some(run_end) = run_end.filter(|_| acks.len() > 1) {
        let after = outstanding.split_off(&(run_end + 1));
        let run = std::mem::replace(outstanding, after);
        applied.acked += run.len() as u64;
        for tag in run.keys() {
            acks.remove(tag);
        }
        let (_, last) = run.into_iter().next_back().expect("run is not empty");
        result = last
            .ack_multiple(channel)
            .map_err(|e| Error::amqp("acknowledging messages", e));
    }
    for tag in acks {
        if result.is_err() {
            break;
        }
        if let Some(raw) = outstanding.remove(&tag) {
            result = raw
                .ack(channel)
                .map_err(|e| Error::amqp("acknowledging a message", e));
            applied.acked += 1;
        }
    }
    (applied, result)
}
