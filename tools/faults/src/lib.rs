//! Fault-injection helpers for the pulse build monitor's reliability tests.
//!
//! The tests in `tools/faults/tests/` break things on purpose — they close
//! the monitor's connection, restart a broker, SIGKILL a monitor process,
//! feed it poison messages, point it at a TLS endpoint it must not trust —
//! and check that nothing published is lost. This library holds what they
//! share:
//!
//! - [`Vhost`]: a private virtual host on the shared broker at
//!   127.0.0.1:5672, so a test's exchanges, queues and connections never
//!   meet another test's; deleted on drop, even after a panic.
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
//! - [`Ctl`]: `rabbitmqctl` for either node, and
//!   [`Ctl::close_connections_named`] to force-close only our own
//!   connections.
//!
//! The `fault-monitor` binary runs a durable monitor that writes each
//! handled id to a file; the crash and credential tests run it as a
//! [`MonitorProcess`].
//!
//! Neighbours: `pulse-build-monitor` (the monitor under test) and
//! `pulse-wire` (its connection settings and the test publisher).
//!
//! Under `CI=true` a missing broker or tool fails the test
//! ([`require`]); elsewhere it is skipped with a loud message.
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

mod ctl;
mod logcapture;
mod messages;
mod node;
mod process;
mod proxy;
mod stream;
mod tls;

pub use ctl::{Ctl, Vhost};
pub use logcapture::CapturedLog;
pub use messages::{build_message, print_result, record_id, Tally, XorShift};
pub use node::SecondNode;
pub use process::{read_ids, Ended, MonitorProcess};
pub use proxy::BlackholeProxy;
pub use stream::Stream;
pub use tls::TestCa;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pulse_wire::ConnectionSettings;

/// Whether this run is CI (`CI=true`), where nothing may be skipped.
pub fn under_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// `Ok(())` if `what` is available; otherwise fails under CI and, elsewhere,
/// prints a loud SKIP and returns `Err(())` so the test can return early.
#[allow(clippy::result_unit_err)]
pub fn require(available: bool, what: &str) -> Result<(), ()> {
    if available {
        return Ok(());
    }
    if under_ci() {
        panic!("CI=true but {what} is not available: the fault tests need it");
    }
    eprintln!("\n*** SKIP: {what} is not available; fault test not run ***\n");
    Err(())
}

/// Whether something accepts TCP connections at `127.0.0.1:port`.
pub fn port_open(port: u16) -> bool {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok()
}

/// Whether `program` can be found on `PATH` (or is an existing path).
pub fn have_program(program: &str) -> bool {
    find_program(program).is_some()
}

pub(crate) fn find_program(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return Path::new(program).exists().then(|| PathBuf::from(program));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// A port nothing listens on right now (the OS picks it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("binding 127.0.0.1:0")
}

/// A short random name part, unique enough for parallel tests.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", pulse_wire::random_label())
}

/// guest/guest at `url`, with a connection name of its own
/// (`<prefix>-<random>`) so [`Ctl::close_connections_named`] finds it.
pub fn guest_settings(url: &str, prefix: &str) -> ConnectionSettings {
    let mut settings = ConnectionSettings::from_url(url).expect("a valid test url");
    settings.connection_name = unique(prefix);
    settings.heartbeat = 10;
    settings
}

/// Polls `condition` every 20 ms until it holds; false after `timeout`.
pub fn wait_for(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A directory under the system temp dir, removed (with its contents) on drop.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates a fresh directory named after `prefix`.
    pub fn new(prefix: &str) -> TempDir {
        let path = std::env::temp_dir().join(unique(prefix));
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("creating {}: {e}", path.display()));
        TempDir { path }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A path inside the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
