//! AMQP wire client for Pulse, Mozilla's RabbitMQ broker, built on the
//! blocking [`amiquip`] client. This crate owns everything AMQP; the rest of
//! the workspace only sees owned [`Delivery`] values.
//!
//! - [`ConnectionSettings`] says where to connect (`from_url`, `from_env`,
//!   `from_config_file`, Pulse defaults); its [`Password`] never prints.
//! - [`Topology`] names the exchanges, the queue ([`QueueSpec`], named by
//!   [`queue_name`] as `queue/<user>/<label>`) and the [`Binding`]s, declared
//!   again on every reconnect.
//! - [`Consumer::start`] runs one connection thread and returns a
//!   [`ConsumerHandle`]: deliveries arrive on a channel, each with an
//!   [`Acker`] whose decision travels back to the connection thread. The
//!   thread reconnects with backoff on its own, watches the queue depth and
//!   counts everything in [`ConsumerStats`].
//! - [`Publisher`] publishes with confirms (tests, demos, replays) and
//!   purges or deletes queues.
//! - [`Error`] says whether retrying can help ([`Error::is_recoverable`]).
//! - [`HANDSHAKE_LOG_TARGET`]: amiquip logs the password there at `debug`;
//!   programs installing a logger must cap that target at `Info`.
//!
//! Neighbours: the `pulse-build-monitor` crate consumes [`Delivery`]s, hands
//! their bodies to `pulse-translator`, and calls [`Delivery::ack`] once the
//! user callbacks ran, so a crash loses nothing.
//!
//! Every connection is opened on a socket with TCP_NODELAY (amiquip leaves
//! Nagle on, which throttles synchronous round trips); TLS connections verify
//! the broker's certificate and never fall back to plain AMQP.
//!
//! ```
//! use pulse_wire::{ConnectionSettings, ErrorKind};
//!
//! let settings = ConnectionSettings::from_url("amqps://me:s%40cret@pulse.mozilla.org/")?;
//! assert_eq!(settings.password.expose(), "s@cret");
//! assert_eq!(settings.port, 5671);
//! assert_eq!(settings.to_string(), "amqps://me:***@pulse.mozilla.org:5671/");
//! assert!(!format!("{settings:?}").contains("s@cret"));
//!
//! let err = ConnectionSettings::from_url("amqp://me:secret@host:port/").unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::InvalidUrl);
//! assert!(!err.is_recoverable());
//! assert!(!err.to_string().contains("secret"));
//! # Ok::<(), pulse_wire::Error>(())
//! ```
#![deny(missing_docs)]

mod connect;
mod consumer;
mod error;
mod publisher;
mod pulse;
mod settings;
mod topology;
mod watchdog;

pub use connect::HANDSHAKE_LOG_TARGET;
pub use consumer::{
    Acker, Backoff, ConsumeOptions, Consumer, ConsumerHandle, ConsumerStats, Delivery,
};
pub use error::{Error, ErrorKind, Result};
pub use publisher::{OutgoingMessage, Publisher};
pub use pulse::{queue_name, random_label};
pub use settings::{ConnectionSettings, Password, AMQPS_PORT, AMQP_PORT, PULSE_HOST};
pub use topology::{Binding, ExchangeDeclaration, QueueSpec, QueueType, Topology};
