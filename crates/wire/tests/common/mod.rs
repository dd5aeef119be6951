//! Shared helpers for tests against the local RabbitMQ.
#![allow(dead_code)]

use pulse_wire::{random_label, ConnectionSettings, Delivery, Publisher};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Settings for the local broker, or `None` (after a loud SKIP) when it is
/// unreachable; under `CI=true` an unreachable broker fails the test.
pub fn broker_or_skip() -> Option<ConnectionSettings> {
    let addr: SocketAddr = "127.0.0.1:5672".parse().unwrap();
    match TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
        Ok(_) => {
            let mut settings = ConnectionSettings::from_url("amqp://guest:guest@127.0.0.1:5672/")
                .expect("valid test url");
            settings.connection_name = format!("pulse-wire-test/{}", random_label());
            settings.heartbeat = 10;
            Some(settings)
        }
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but no RabbitMQ at {addr}: {e}")
        }
        Err(e) => {
            eprintln!("\n*** SKIP: no RabbitMQ at {addr} ({e}); broker test not run ***\n");
            None
        }
    }
}

/// A name unique to this test run.
pub fn unique(kind: &str) -> String {
    format!("{kind}/test-wire/{}", random_label())
}

/// Deletes the test's queues and exchanges when dropped, even after a panic.
pub struct Cleanup {
    settings: ConnectionSettings,
    pub queues: Vec<String>,
    pub exchanges: Vec<String>,
}

impl Cleanup {
    pub fn new(settings: &ConnectionSettings) -> Cleanup {
        let mut settings = settings.clone();
        settings.connection_name.push_str("-cleanup");
        Cleanup {
            settings,
            queues: Vec::new(),
            exchanges: Vec::new(),
        }
    }

    pub fn queue(&mut self, name: &str) -> String {
        self.queues.push(name.to_string());
        name.to_string()
    }

    pub fn exchange(&mut self, name: &str) -> String {
        self.exchanges.push(name.to_string());
        name.to_string()
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let Ok(mut publisher) = Publisher::connect(&self.settings) else {
            eprintln!(
                "cleanup: cannot connect to delete {:?} {:?}",
                self.queues, self.exchanges
            );
            return;
        };
        for queue in &self.queues {
            if let Err(e) = publisher.delete_queue(queue) {
                eprintln!("cleanup: {e}");
            }
        }
        for exchange in &self.exchanges {
            if let Err(e) = publisher.delete_exchange(exchange) {
                eprintln!("cleanup: {e}");
            }
        }
        let _ = publisher.close();
    }
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

/// Polls `condition` until it holds, failing after `timeout`.
pub fn wait_until(timeout: Duration, what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
