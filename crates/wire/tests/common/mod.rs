//! The wire tests' helpers against the local RabbitMQ; what every crate's
//! tests share is in `pulse-test-support`.
#![allow(dead_code, unused_imports)]

use pulse_wire::{ConnectionSettings, Delivery, Publisher};
use std::time::{Duration, Instant};

/// Settings for the local broker with a connection name of its own, or
/// `None` (after a loud SKIP) when it is unreachable; under `CI=true` an
/// unreachable broker fails the test.
pub fn broker_or_skip() -> Option<ConnectionSettings> {
    pulse_test_support::broker_settings("pulse-wire-test")
}

/// A name unique to this test run: `<kind>/test-wire-<random>`.
pub fn unique(kind: &str) -> String {
    pulse_test_support::unique(&format!("{kind}/test-wire"))
}

/// A publisher on its own named connection.
pub fn publisher(settings: &ConnectionSettings) -> Publisher {
    let mut settings = settings.clone();
    settings.connection_name.push_str("-publisher");
    Publisher::connect(&settings).expect("publisher connects")
}

/// Receives exactly `n` deliveries, failing after `timeout`.
pub fn receive(
    deliveries: &crossbeam_channel::Receiver<Delivery>,
    n: usize,
    timeout: Duration,
) -> Vec<Delivery> {
    let deadline = Instant::now() + timeout;
    let mut got = Vec::with_capacity(n);
    while got.len() < n {
        match deliveries.recv_deadline(deadline) {
            Ok(delivery) => got.push(delivery),
            Err(e) => panic!("got {} of {n} deliveries: {e}", got.len()),
        }
    }
    got
}

pub use pulse_test_support::wait_until;
