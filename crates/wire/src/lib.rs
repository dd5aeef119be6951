//! AMQP wire client for Pulse, Mozilla's RabbitMQ broker, built on the
//! blocking [`amiquip`] client. This crate owns everything AMQP; the rest of
//! the workspace only sees owned [`Delivery`] values, each carrying a
//! [`Message`] (pulse-message's, re-exported here).
//!
//! - [`ConnectionSettings`] says where to connect (`from_url`, `from_env`,
//!   `from_config_file`, Pulse defaults); its [`Password`] never prints.
//! - [`Topology`] names the exchanges, the queue ([`QueueSpec`], named by
//!   [`queue_name`] as `queue/<user>/<label>`) and the [`Binding`]s, declared
//!   again on every reconnect.
//! - [`Consumer::start`] runs one connection thread and returns the
//!   [`Consumer`]: deliveries arrive on a channel (or, with
//!   [`Consumer::start_with`], in batches to a handler on the connection
//!   thread itself), each with an [`Acker`] whose decision
//!   travels back to the connection thread. The thread reconnects with
//!   [`Backoff`] on its own, watches the queue depth and counts everything
//!   in [`ConsumerStats`]; [`ConsumeOptions`] says how.
//! - [`Publisher`] publishes with confirms (tests, demos, replays) and
//!   purges or deletes queues.
//! - [`Error`] says whether retrying can help ([`Error::is_recoverable`]).
//! - [`HANDSHAKE_LOG_TARGET`]: amiquip logs the password there at `debug`;
//!   programs installing a logger must cap that target at `Info`.
//!
//! Modules: `settings` and `connect` (where and how to connect), `topology`
//! (what is declared), `consumer` (split by concern, see its overview),
//! `watchdog` (the stall watchdog's probe), `publisher`, `pulse` (Pulse's
//! queue names) and `error`.
//!
//! Neighbours: the `pulse-build-monitor` crate consumes [`Delivery`]s with
//! a handler, hands their messages to `pulse-translator`, and
//! acknowledges each once the user callbacks ran, so a crash loses nothing.
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
pub use consumer::{Acker, Backoff, ConsumeOptions, Consumer, ConsumerStats, Delivery};
pub use error::{Error, ErrorKind, Result};
pub use publisher::Publisher;
pub use pulse::{queue_name, random_label};
pub use pulse_message::Message;
pub use settings::{ConnectionSettings, Password, AMQPS_PORT, AMQP_PORT, PULSE_HOST};
pub use topology::{Binding, ExchangeDeclaration, QueueSpec, QueueType, Topology};
