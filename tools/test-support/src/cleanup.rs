//! [`BrokerCleanup`]: the one guard that deletes what a test declared on
//! the broker, even when the test panics.

use pulse_wire::{ConnectionSettings, Publisher};

/// Deletes the test's queues and exchanges when dropped, on a connection
/// of its own. Declare it before the monitor or consumer that uses them:
/// locals drop in reverse order, so they have stopped by the time their
/// queue goes. A queue already gone (a transient one) is fine.
///
/// ```no_run
/// use pulse_test_support::{broker_settings, BrokerCleanup};
///
/// let settings = broker_settings("doc").unwrap();
/// let guard = BrokerCleanup::for_label(&settings, "my-label");
/// assert_eq!(guard.queue_name(), "queue/guest/my-label");
/// ```
#[derive(Debug)]
pub struct BrokerCleanup {
    settings: ConnectionSettings,
    queues: Vec<String>,
    exchanges: Vec<String>,
}

impl BrokerCleanup {
    /// Nothing to delete yet; add with [`queue`](Self::queue) and
    /// [`exchange`](Self::exchange).
    pub fn new(settings: &ConnectionSettings) -> BrokerCleanup {
        let mut settings = settings.clone();
        settings.connection_name.push_str("-cleanup");
        BrokerCleanup {
            settings,
            queues: Vec::new(),
            exchanges: Vec::new(),
        }
    }

    /// The guard of a monitor's queue, `queue/<user>/<label>`.
    pub fn for_label(settings: &ConnectionSettings, label: &str) -> BrokerCleanup {
        let mut cleanup = BrokerCleanup::new(settings);
        cleanup.queue(&pulse_wire::queue_name(&settings.user, Some(label)));
        cleanup
    }

    /// Deletes the queue `name` too; returns the name.
    pub fn queue(&mut self, name: &str) -> String {
        self.queues.push(name.to_string());
        name.to_string()
    }

    /// Deletes the exchange `name` too; returns the name.
    pub fn exchange(&mut self, name: &str) -> String {
        self.exchanges.push(name.to_string());
        name.to_string()
    }

    /// The first queue it deletes.
    ///
    /// # Panics
    ///
    /// When it deletes no queue.
    pub fn queue_name(&self) -> &str {
        self.queues.first().expect("a guard of a queue")
    }
}

impl Drop for BrokerCleanup {
    fn drop(&mut self) {
        let Ok(mut publisher) = Publisher::connect(&self.settings) else {
            eprintln!(
                "cleanup: cannot connect to delete {:?} {:?}",
                self.queues, self.exchanges
            );
            return;
        };
        // Either may be gone already (a transient queue): not an error.
        for queue in &self.queues {
            let _ = publisher.delete_queue(queue);
        }
        for exchange in &self.exchanges {
            let _ = publisher.delete_exchange(exchange);
        }
        let _ = publisher.close();
    }
}
