//! Remembering recently handled messages, so that what the broker delivers
//! again after a reconnect is acknowledged without calling the callbacks a
//! second time.
//!
//! Pulse messages carry no message id, and buildbot routing keys repeat
//! across sends, so a message is known by a 64-bit keyed hash (SipHash,
//! with keys drawn at random for each monitor) of its exchange, routing key
//! and body. Two messages published with the same exchange, routing key and
//! body count as one while the first is remembered. Memory is bounded: at
//! most `capacity` identities (8 bytes each, plus the set's overhead), the
//! oldest forgotten first.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::{Mutex, PoisonError};

use pulse_wire::Acker;

use pulse_translator::Message;

/// A message's identity: a keyed hash of its exchange, routing key and body.
pub(crate) type Identity = u64;

/// What [`Dedupe::admit`] found.
#[derive(Debug)]
pub(crate) enum Admission {
    /// Never seen (or forgotten): handle it, then call [`Dedupe::finish`].
    New(Option<Acker>),
    /// Already handled: acknowledge it without calling the callbacks.
    Handled(Option<Acker>),
    /// Being handled right now (a redelivery that overtook its first
    /// delivery's callbacks): its acker waits for that run to end.
    Parked,
}

/// The identities of handled messages, and of those being handled.
#[derive(Debug)]
pub(crate) struct Dedupe {
    capacity: usize,
    keys: RandomState,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    handled: HashSet<Identity>,
    /// `handled` in the order it was filled, for FIFO eviction.
    order: VecDeque<Identity>,
    /// Messages whose callbacks are queued or running, with the ackers of
    /// their redeliveries that arrived meanwhile.
    in_flight: HashMap<Identity, Vec<Acker>>,
}

impl Dedupe {
    /// Remembers up to `capacity` handled messages (at least 1).
    pub(crate) fn new(capacity: usize) -> Dedupe {
        Dedupe {
            capacity: capacity.max(1),
            keys: RandomState::new(),
            state: Mutex::default(),
        }
    }

    pub(crate) fn identity(&self, message: &Message) -> Identity {
        let mut hasher = self.keys.build_hasher();
        message.exchange.hash(&mut hasher);
        message.routing_key.hash(&mut hasher);
        message.body.hash(&mut hasher);
        hasher.finish()
    }

    pub(crate) fn admit(&self, id: Identity, acker: Option<Acker>) -> Admission {
        let mut state = self.lock();
        if state.handled.contains(&id) {
            return Admission::Handled(acker);
        }
        if let Some(parked) = state.in_flight.get_mut(&id) {
            if let Some(acker) = acker {
                parked.push(acker);
            }
            return Admission::Parked;
        }
        state.in_flight.insert(id, Vec::new());
        Admission::New(acker)
    }

    /// Ends a message [`admit`](Self::admit)ted as new: remembers it as
    /// handled if `handled`, and returns the ackers of the redeliveries that
    /// waited for it. The caller acknowledges those if it was handled, and
    /// drops them (the broker delivers them again) if not.
    pub(crate) fn finish(&self, id: Identity, handled: bool) -> Vec<Acker> {
        let mut state = self.lock();
        let parked = state.in_flight.remove(&id).unwrap_or_default();
        if handled && state.handled.insert(id) {
            state.order.push_back(id);
            while state.order.len() > self.capacity {
                if let Some(oldest) = state.order.pop_front() {
                    state.handled.remove(&oldest);
                }
            }
        }
        parked
    }

    #[cfg(test)]
    fn remembered(&self) -> usize {
        self.lock().handled.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(key: &str, body: &str) -> Message {
        Message::new("exchange/build/", key, body.as_bytes().to_vec())
    }

    #[test]
    fn identity_covers_exchange_key_and_body_only() {
        let dedupe = Dedupe::new(4);
        let a = message("build.a", "{}");
        let mut other_routes = a.clone();
        other_routes.cc.push("route.x".into());
        assert_eq!(dedupe.identity(&a), dedupe.identity(&other_routes));
        assert_ne!(
            dedupe.identity(&a),
            dedupe.identity(&message("build.b", "{}"))
        );
        assert_ne!(
            dedupe.identity(&a),
            dedupe.identity(&message("build.a", "{ }"))
        );
        let mut other_exchange = a.clone();
        other_exchange.exchange = "exchange/build/normalized".into();
        assert_ne!(dedupe.identity(&a), dedupe.identity(&other_exchange));
    }

    #[test]
    fn handled_messages_are_recognised_until_evicted() {
        let dedupe = Dedupe::new(2);
        for id in [1, 2, 3] {
            assert!(matches!(dedupe.admit(id, None), Admission::New(None)));
            assert!(dedupe.finish(id, true).is_empty());
        }
        assert_eq!(dedupe.remembered(), 2, "capacity bounds the memory");
        assert!(
            matches!(dedupe.admit(1, None), Admission::New(_)),
            "1 was evicted first"
        );
        assert!(matches!(dedupe.admit(3, None), Admission::Handled(_)));
        assert!(matches!(dedupe.admit(2, None), Admission::Handled(_)));
    }

    #[test]
    fn unhandled_messages_are_not_remembered() {
        let dedupe = Dedupe::new(2);
        assert!(matches!(dedupe.admit(7, None), Admission::New(_)));
        assert!(matches!(dedupe.admit(7, None), Admission::Parked));
        dedupe.finish(7, false);
        assert!(matches!(dedupe.admit(7, None), Admission::New(_)));
        assert_eq!(dedupe.remembered(), 0);
    }
}
