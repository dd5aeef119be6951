//! How a consumer consumes: [`ConsumeOptions`] and its [`Backoff`].

use std::time::Duration;

use crate::error::{Error, ErrorKind, Result};

/// Capped exponential backoff between connection attempts.
///
/// ```
/// use std::time::Duration;
/// use pulse_wire::Backoff;
///
/// let backoff = Backoff::new(Duration::from_millis(50), Duration::from_secs(2));
/// assert_eq!(backoff.next(Duration::from_secs(1)), Duration::from_secs(2));
/// assert_eq!(backoff.next(Duration::from_secs(2)), Duration::from_secs(2));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Backoff {
    /// Delay before the first retry.
    pub initial: Duration,
    /// The delay doubles up to this.
    pub cap: Duration,
}

impl Backoff {
    /// Retries after `initial`, doubling up to `cap`.
    pub fn new(initial: Duration, cap: Duration) -> Backoff {
        Backoff { initial, cap }
    }

    /// The delay after `delay`: twice as long, at most the cap.
    pub fn next(&self, delay: Duration) -> Duration {
        (delay * 2).min(self.cap)
    }
}

impl Default for Backoff {
    /// 100 ms doubling to 30 s.
    fn default() -> Backoff {
        Backoff::new(Duration::from_millis(100), Duration::from_secs(30))
    }
}

/// How [`Consumer::start`](crate::Consumer::start) consumes. Start from
/// [`ConsumeOptions::default`] and change what you need, with the `with_`
/// methods or by assigning the fields.
///
/// ```
/// use std::time::Duration;
/// use pulse_wire::{Backoff, ConsumeOptions};
///
/// let options = ConsumeOptions::default()
///     .with_prefetch(50)
///     .with_reconnect(Backoff::new(Duration::from_millis(20), Duration::from_secs(1)));
/// assert_eq!(options.prefetch, 50);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConsumeOptions {
    /// Most unacknowledged messages the broker sends us (AMQP `basic.qos`),
    /// and the capacity of [`Consumer::deliveries`](crate::Consumer::deliveries).
    /// At least 1.
    pub prefetch: u16,
    /// Delay between reconnection attempts.
    pub reconnect: Backoff,
    /// How often the queue depth is read.
    pub depth_check_interval: Duration,
    /// Queue depth above which a warning is logged each check: Pulse deletes
    /// queues that keep growing, so a consumer falling behind must be noticed.
    pub depth_warning_threshold: u32,
    /// How long [`Consumer::stop`](crate::Consumer::stop) waits for
    /// outstanding decisions.
    pub stop_timeout: Duration,
    /// The stall watchdog's timeout. After this long without a delivery
    /// the connection thread asks the broker about the queue, and
    /// reconnects if messages are waiting while the prefetch window has
    /// room (twice in a row), if the broker lists no consumer on the queue
    /// (ours vanished without a cancel), or if the broker does not answer
    /// within half of it (a silent link). Each is a warning and counts in
    /// [`ConsumerStats::stalls`](crate::ConsumerStats::stalls).
    ///
    /// `None` (the default) takes the connection's heartbeat
    /// ([`ConnectionSettings::heartbeat`](crate::ConnectionSettings::heartbeat),
    /// 60 s unless set), or 60 s when heartbeats are off. Heartbeats end a
    /// connection after two intervals without a frame from the broker; with
    /// this default the watchdog notices a silent link within 1.5 intervals
    /// of the last delivery, so either way a dead link is noticed within two
    /// heartbeats, and the watchdog alone notices one when heartbeats are
    /// off. A quiet queue costs one passive declare per timeout.
    pub stall_timeout: Option<Duration>,
}

impl Default for ConsumeOptions {
    fn default() -> ConsumeOptions {
        ConsumeOptions {
            prefetch: 256,
            reconnect: Backoff::default(),
            depth_check_interval: Duration::from_secs(60),
            depth_warning_threshold: 2000,
            stop_timeout: Duration::from_secs(10),
            stall_timeout: None,
        }
    }
}

impl ConsumeOptions {
    /// With [`prefetch`](Self::prefetch) set.
    #[must_use]
    pub fn with_prefetch(mut self, prefetch: u16) -> ConsumeOptions {
        self.prefetch = prefetch;
        self
    }

    /// With [`reconnect`](Self::reconnect) set.
    #[must_use]
    pub fn with_reconnect(mut self, reconnect: Backoff) -> ConsumeOptions {
        self.reconnect = reconnect;
        self
    }

    /// With [`depth_check_interval`](Self::depth_check_interval) set.
    #[must_use]
    pub fn with_depth_check_interval(mut self, interval: Duration) -> ConsumeOptions {
        self.depth_check_interval = interval;
        self
    }

    /// With [`depth_warning_threshold`](Self::depth_warning_threshold) set.
    #[must_use]
    pub fn with_depth_warning_threshold(mut self, threshold: u32) -> ConsumeOptions {
        self.depth_warning_threshold = threshold;
        self
    }

    /// With [`stop_timeout`](Self::stop_timeout) set.
    #[must_use]
    pub fn with_stop_timeout(mut self, timeout: Duration) -> ConsumeOptions {
        self.stop_timeout = timeout;
        self
    }

    /// With [`stall_timeout`](Self::stall_timeout) set.
    #[must_use]
    pub fn with_stall_timeout(mut self, timeout: Duration) -> ConsumeOptions {
        self.stall_timeout = Some(timeout);
        self
    }

    pub(super) fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::new(ErrorKind::InvalidConfig, msg));
        if self.prefetch == 0 {
            return bad("prefetch must be at least 1 (0 would mean unlimited)".into());
        }
        let Backoff { initial, cap } = self.reconnect;
        if initial.is_zero() || cap < initial {
            return bad(format!(
                "reconnect backoff needs 0 < initial <= cap, got {initial:?} and {cap:?}"
            ));
        }
        if self.depth_check_interval.is_zero() {
            return bad("depth_check_interval must be positive".into());
        }
        if let Some(timeout) = self.stall_timeout {
            if timeout < Duration::from_millis(100) {
                return bad(format!(
                    "stall_timeout must be at least 100 ms, got {timeout:?}"
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_checked() {
        let options = ConsumeOptions::default().with_prefetch(0);
        assert_eq!(
            options.validate().unwrap_err().kind(),
            ErrorKind::InvalidConfig
        );
        let options = ConsumeOptions::default().with_reconnect(Backoff::new(
            Duration::from_secs(1),
            Duration::from_millis(1),
        ));
        assert!(options.validate().is_err());
        let options = ConsumeOptions::default().with_stall_timeout(Duration::from_millis(10));
        assert!(options.validate().is_err());
        assert!(ConsumeOptions::default().validate().is_ok());
    }
}
