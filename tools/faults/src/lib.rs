//! Fault-injection helpers for the pulse build monitor's reliability tests.
//!
//! The tests in `tools/faults/tests/` break things on purpose — they close
//! the monitor's connection, restart a broker, SIGKILL a monitor process,
//! feed it poison messages, point it at a TLS endpoint it must not trust —
//! and check that nothing published is lost. This library holds what they
//! share:
//!
//! - [`SecondNode`]: a RabbitMQ node of our own (own ports, own data
//!   directory) for faults that would disturb everyone on the shared node:
//!   `stop_app`/`start_app`, and a TLS listener with a [`TestCa`]'s
//!   certificate. Stopped and removed on drop.
//! - [`build_message`] / [`record_id`]: raw buildbot messages that carry a
//!   number the callbacks can read back, and [`Tally`] to count arrivals,
//!   duplicates and losses; [`print_result`] prints the line
//!   `RELIABILITY.md` is filled from; [`Stream`] publishes them at a steady
//!   pace, across broker restarts.
//! - [`CapturedLog`]: a `log::Log` that keeps records for assertions.
//! - [`BlackholeProxy`]: a TCP proxy to the broker that can stop forwarding
//!   without closing a socket, as a network that drops packets does.
//! - [`free_port`]: a port for a node or a proxy of our own.
//!
//! The `fault-monitor` binary runs a durable monitor that writes each
//! handled id to a file; the crash and credential tests run it as a
//! [`MonitorProcess`].
//!
//! Neighbours: `pulse-build-monitor` (the monitor under test),
//! `pulse-wire` (its connection settings and the test publisher) and
//! `pulse-test-support` (what every crate's tests share: a private `Vhost`
//! on the shared broker, `Ctl` for `rabbitmqctl` on either node, unique
//! names, `TempDir`, `wait_for`).
//!
//! Under `CI=true` a missing broker or tool fails the test
//! (`pulse_test_support::require`); elsewhere it is skipped with a loud
//! message.
//!
//! ```
//! use pulse_faults::{build_message, Tally};
//!
//! let (routing_key, body) = build_message(42);
//! assert!(routing_key.starts_with("build."));
//! let body: serde_json::Value = serde_json::from_slice(&body)?;
//! assert!(body["payload"]["build"]["properties"].is_array());
//!
//! let mut tally = Tally::new(3);
//! for id in [0, 1, 1, 2] {
//!     tally.record(id);
//! }
//! assert_eq!((tally.unique(), tally.duplicates(), tally.lost().len()), (3, 1, 0));
//! # Ok::<(), serde_json::Error>(())
//! ```
#![deny(missing_docs)]

mod logcapture;
mod messages;
mod node;
mod process;
mod proxy;
mod stream;
mod tls;

pub use logcapture::CapturedLog;
pub use messages::{build_message, print_result, record_id, Tally, XorShift};
pub use node::SecondNode;
pub use process::{read_ids, Ended, MonitorProcess};
pub use proxy::BlackholeProxy;
pub use stream::Stream;
pub use tls::TestCa;

/// A port nothing listens on right now (the OS picks it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("binding 127.0.0.1:0")
}
