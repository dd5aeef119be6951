//! [`Delivery`] and its [`Acker`]: a message taken off the queue, and the
//! token whose decision travels back to the connection thread.

use std::fmt;
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crossbeam_channel::Sender;
use pulse_message::Message;

/// A message taken off the queue. Owned and `Send`: it can travel to any
/// thread, and its [`Acker`] sends the decision back to the connection
/// thread. It reads as its [`Message`].
pub struct Delivery {
    /// The message, as published.
    pub message: Message,
    /// The broker delivered it before (to us or another consumer) without an ack.
    pub redelivered: bool,
    /// The token that acknowledges or rejects this message.
    pub acker: Acker,
}

impl Delivery {
    /// Acknowledges the message: the broker forgets it.
    pub fn ack(self) {
        self.acker.ack();
    }

    /// Rejects the message, putting it back in the queue if `requeue`.
    pub fn reject(self, requeue: bool) {
        self.acker.reject(requeue);
    }
}

impl Deref for Delivery {
    type Target = Message;

    fn deref(&self) -> &Message {
        &self.message
    }
}

impl fmt::Debug for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("exchange", &self.message.exchange)
            .field("routing_key", &self.message.routing_key)
            .field("body_len", &self.message.body.len())
            .field("cc", &self.message.cc)
            .field("redelivered", &self.redelivered)
            .finish_non_exhaustive()
    }
}

/// The decision token of one [`Delivery`].
///
/// Dropping it without deciding rejects the message with requeue, so an
/// undecided message never holds a prefetch slot forever; the broker
/// delivers it again (possibly to another consumer). A decision made after
/// the connection was lost is dropped and counted in
/// [`ConsumerStats::stale_decisions`](crate::ConsumerStats::stale_decisions):
/// the broker already requeued it.
pub struct Acker {
    generation: u64,
    pub(super) tag: u64,
    decisions: Sender<Decision>,
    decided: bool,
    generations: Arc<Generations>,
}

impl Acker {
    pub(super) fn new(
        generation: u64,
        tag: u64,
        decisions: Sender<Decision>,
        generations: Arc<Generations>,
    ) -> Acker {
        Acker {
            generation,
            tag,
            decisions,
            decided: false,
            generations,
        }
    }

    /// Acknowledges the message.
    pub fn ack(mut self) {
        self.decide(Outcome::Ack);
    }

    /// Rejects the message, putting it back in the queue if `requeue`.
    pub fn reject(mut self, requeue: bool) {
        self.decide(Outcome::Reject { requeue });
    }

    /// Leaves the message to the broker, unacknowledged and without a
    /// word on the wire: the broker requeues it when the connection
    /// closes, and until then it holds its prefetch slot. For a consumer
    /// that is about to stop: rejecting with requeue would have the broker
    /// deliver it straight back.
    pub fn release(mut self) {
        self.decide(Outcome::Release);
    }

    fn decide(&mut self, outcome: Outcome) {
        self.decided = true;
        // The connection thread may have ended (stopped); the broker then
        // requeues the message, which is all a decision could do anyway.
        let _ = self.decisions.send(Decision {
            generation: self.generation,
            tag: self.tag,
            outcome,
        });
    }

    /// Whether the broker has already put this message back in its queue
    /// because the connection it came on was lost: it will be delivered
    /// again, so work started on it now would be done twice, and its
    /// decision would be dropped as stale.
    ///
    /// False while its connection is up, and false for the messages of a
    /// queue the broker deleted: those are never delivered again, so they
    /// are worth handling even though their acknowledgement goes nowhere.
    pub fn is_requeued(&self) -> bool {
        self.generations.is_requeued(self.generation)
    }

    /// For deliveries the connection thread takes back itself.
    pub(super) fn forget(mut self) {
        self.decided = true;
    }
}

impl Drop for Acker {
    fn drop(&mut self) {
        if !self.decided {
            self.decide(Outcome::Reject { requeue: true });
        }
    }
}

impl fmt::Debug for Acker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acker")
            .field("generation", &self.generation)
            .field("tag", &self.tag)
            .finish()
    }
}

/// Which connection's deliveries can still be decided, shared by the
/// connection thread and every [`Acker`].
#[derive(Debug, Default)]
pub(super) struct Generations {
    /// The generation consuming now; 0 between connections.
    live: AtomicU64,
    /// Generations whose queue was deleted on the broker: their messages
    /// are not requeued, since there is no queue to requeue them to.
    orphaned: Mutex<Vec<u64>>,
}

impl Generations {
    fn is_requeued(&self, generation: u64) -> bool {
        generation != self.live.load(Ordering::Acquire)
            && !self
                .orphaned
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .contains(&generation)
    }

    /// `generation` is consuming now (0: none is).
    pub(super) fn set_live(&self, generation: u64) {
        self.live.store(generation, Ordering::Release);
    }

    /// `generation`'s queue was deleted: its messages are never requeued.
    /// Called before it stops being live, so no job ever sees them as
    /// requeued.
    pub(super) fn orphan(&self, generation: u64) {
        self.orphaned
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(generation);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    Ack,
    Reject { requeue: bool },
    Release,
}

#[derive(Debug)]
pub(super) struct Decision {
    /// Which connection the delivery came from: delivery tags are per channel.
    pub(super) generation: u64,
    pub(super) tag: u64,
    pub(super) outcome: Outcome,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_acker_requeues_and_decisions_carry_generation() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let generations = Arc::new(Generations::default());
        let acker = |tag| Acker::new(3, tag, tx.clone(), Arc::clone(&generations));
        acker(1).ack();
        acker(2).reject(false);
        drop(acker(3));
        acker(4).forget();
        acker(5).release();
        let got: Vec<_> = rx
            .try_iter()
            .map(|d| (d.generation, d.tag, d.outcome))
            .collect();
        assert_eq!(
            got,
            [
                (3, 1, Outcome::Ack),
                (3, 2, Outcome::Reject { requeue: false }),
                (3, 3, Outcome::Reject { requeue: true }),
                (3, 5, Outcome::Release),
            ]
        );
    }

    #[test]
    fn requeued_means_its_connection_is_gone_and_the_queue_is_not() {
        let (tx, _rx) = crossbeam_channel::unbounded();
        let generations = Arc::new(Generations::default());
        let acker = |generation| Acker::new(generation, 1, tx.clone(), Arc::clone(&generations));
        let (first, second) = (acker(1), acker(2));
        generations.set_live(1);
        assert!(!first.is_requeued());
        assert!(second.is_requeued());
        generations.orphan(1);
        generations.set_live(2);
        assert!(
            !first.is_requeued(),
            "its queue was deleted: never requeued"
        );
        assert!(!second.is_requeued());
        generations.set_live(0);
        assert!(second.is_requeued());
        first.forget();
        second.forget();
    }
}
