//! One Pulse message as it travels, and the names of Pulse's exchanges.
//!
//! [`Message`] is what the wire crate (pulse-wire) takes off the broker and
//! publishes, what recordings and dead-letter files store, and what the
//! translator (pulse-translator) reads. It lives here, below both, so the
//! wire crate needs no translator. [`exchanges`] writes every exchange name
//! once, with the family of messages each one carries ([`Family`]):
//! a new exchange is one line there.
//!
//! [`primary_routing_key`] rebuilds the routing key the Taskcluster queue
//! gives a task message from its body.
//!
//! Modules: `message` (the type and its recording line), `exchanges`, and
//! `routing`.
//!
//! ```
//! use pulse_message::{exchanges, Family, Message};
//!
//! let message = Message::new(exchanges::TASK_FAILED, "primary.abc.0", br#"{}"#.to_vec());
//! assert_eq!(exchanges::family(&message.exchange), Some(Family::Taskcluster));
//! assert_eq!(exchanges::family("org.mozilla.exchange.build"), Some(Family::Buildbot));
//! assert_eq!(exchanges::family("exchange/nobody"), None);
//! ```
#![deny(missing_docs)]

pub mod exchanges;
mod message;
mod routing;

pub use exchanges::Family;
pub use message::Message;
pub use routing::primary_routing_key;
