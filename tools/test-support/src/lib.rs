//! What the workspace's tests share (`publish = false`).
//!
//! The wire, monitor, cli and fault tests all talk to the local RabbitMQ,
//! read the shared corpus beside the checkout and name their queues so
//! parallel tests never meet. This crate holds that once:
//!
//! - Everything of `pulse-test-corpus` (skip or fail, the shared corpus,
//!   unique names, temporary directories, waiting for a condition),
//!   re-exported: the broker-free part, which crates below the wire crate
//!   use alone.
//! - The local broker (guest/guest at [`BROKER_ADDR`]): [`broker_available`],
//!   [`broker_settings`], [`guest_settings`], [`port_open`].
//! - Broker administration with `rabbitmqctl` (root on this machine):
//!   [`Ctl`], [`rabbitmqctl`], [`close_connection_named`], and [`Vhost`], a
//!   private virtual host deleted on drop.
//! - [`BrokerCleanup`]: deletes a test's queues and exchanges on drop;
//!   [`publish_pulse_messages`] publishes to Pulse's exchanges.
//! - [`DefinitionServer`]: a Taskcluster queue on 127.0.0.1 serving task
//!   definitions, for the `fetch` tests; [`QueueServer`]: one serving any
//!   path with a [`Reply`] (pages, gzip, redirects, errors, 500-then-200,
//!   a hang), for the `pulse-taskcluster` client's tests. Both are
//!   `pulse-local-queue`'s `LocalQueue`, serving while the test holds
//!   them.
//! - Treeherder's own errorsummary samples, unchanged
//!   ([`TREEHERDER_SAMPLES`], [`treeherder_sample`]): real files for the
//!   errorsummary reader and for [`QueueServer`] to serve.
//!
//! Helpers only one test file needs stay in that file; helpers one crate's
//! tests share stay in its `tests/common/mod.rs`.
//!
//! ```
//! use std::time::Duration;
//!
//! let name = pulse_test_support::unique("doc");
//! assert!(name.starts_with("doc-") && name.len() == "doc-".len() + 16);
//! let mut polls = 0;
//! assert!(pulse_test_support::wait_for(Duration::from_secs(5), || {
//!     polls += 1;
//!     polls == 3
//! }));
//! ```
#![deny(missing_docs)]

mod cleanup;
mod ctl;
mod queue;
mod samples;

pub use cleanup::BrokerCleanup;
pub use ctl::{close_connection_named, rabbitmqctl, Ctl, Vhost};
pub use pulse_test_corpus::*;
pub use queue::{DefinitionServer, QueueServer, Reply};
pub use samples::{treeherder_sample, treeherder_samples_dir, TREEHERDER_SAMPLES};

use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use pulse_wire::ConnectionSettings;

/// The local broker every broker test uses.
pub const BROKER_ADDR: &str = "127.0.0.1:5672";

/// guest/guest on the local broker's default vhost.
pub const BROKER_URL: &str = "amqp://guest:guest@127.0.0.1:5672/";

/// Publishes `messages` with confirms, on a connection of its own, after
/// declaring every Pulse exchange they may be published to (Taskcluster's
/// and hg.mozilla.org's; other tests may have declared them already).
pub fn publish_pulse_messages(settings: &ConnectionSettings, messages: &[pulse_wire::Message]) {
    let mut settings = settings.clone();
    settings.connection_name.push_str("-publisher");
    let mut publisher = pulse_wire::Publisher::connect(&settings).expect("publisher connects");
    for exchange in pulse_message::exchanges::TASK_ALL
        .iter()
        .chain(&pulse_message::exchanges::PUSH_LIFECYCLE)
    {
        publisher
            .declare_exchange(exchange)
            .expect("exchange declared");
    }
    publisher
        .publish_batch(messages)
        .expect("messages published");
    let _ = publisher.close();
}

/// Whether something accepts TCP connections at `127.0.0.1:port`.
pub fn port_open(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok()
}

/// Whether the local broker answers at [`BROKER_ADDR`]; when it does not,
/// a failure under `CI=true` and a loud SKIP elsewhere.
pub fn broker_available() -> bool {
    let addr: SocketAddr = BROKER_ADDR.parse().expect("a socket address");
    match TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
        Ok(_) => true,
        Err(e) => require(false, &format!("RabbitMQ at {addr} ({e})")).is_ok(),
    }
}

/// guest/guest at the local broker with a connection name of its own
/// (`<prefix>-<random>`), or `None` after [`broker_available`] skipped.
pub fn broker_settings(prefix: &str) -> Option<ConnectionSettings> {
    broker_available().then(|| guest_settings(BROKER_URL, prefix))
}

/// The settings of `url` with a connection name of its own
/// (`<prefix>-<random>`, so [`Ctl::close_connections_named`] finds it) and
/// 10 s heartbeats.
pub fn guest_settings(url: &str, prefix: &str) -> ConnectionSettings {
    let mut settings = ConnectionSettings::from_url(url).expect("a valid test url");
    settings.connection_name = unique(prefix);
    settings.heartbeat = 10;
    settings
}
