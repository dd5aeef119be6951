//! Falling behind: a queue growing past `depth_warning_threshold` must be
//! reported in the log (Pulse deletes queues that keep growing).
//!
//! The warning comes from `pulse-wire`'s consumer through `log` (target
//! `pulse_wire::…`); the monitor's own log file only holds translation
//! errors and callback panics, so the test captures `log`.

mod common;

use std::time::Duration;

use pulse_build_monitor::PoolConfig;
use pulse_build_monitor::{ConsumeOptions, Monitor};
use pulse_faults::{CapturedLog, Stream};
use pulse_test_support::{wait_for, Vhost};

#[test]
fn a_growing_queue_produces_the_depth_warning() {
    let Some(vhost) = Vhost::create("faults") else {
        return;
    };
    let log = CapturedLog::install();
    let threshold = 100;
    let monitor = Monitor::builder()
        .broker(vhost.settings("behind-monitor"))
        .label(pulse_test_support::unique("behind"))
        .durable(true)
        .declare_exchanges(true)
        .callback_pool(PoolConfig::default().with_workers(1))
        .consume_options(
            ConsumeOptions::default()
                .with_prefetch(5)
                .with_depth_warning_threshold(threshold)
                .with_depth_check_interval(Duration::from_millis(200))
                .with_stop_timeout(Duration::from_secs(1)),
        )
        // 50 messages a second at most: far slower than the publisher.
        .on_build(|_| std::thread::sleep(Duration::from_millis(20)))
        .start()
        .expect("monitor starts");
    let queue = monitor.queue_name().unwrap().to_string();
    let needle = format!("queue {queue} holds");
    assert!(
        log.matching(log::Level::Warn, &needle).is_empty(),
        "warned before anything was published"
    );

    Stream::start(
        vhost.settings("behind-publisher"),
        0..1_000,
        250,
        Duration::ZERO,
    )
    .join();
    let warned = wait_for(Duration::from_secs(20), || {
        !log.matching(log::Level::Warn, &needle).is_empty()
    });
    let warnings = log.matching(log::Level::Warn, &needle);
    println!(
        "FAULT-RESULT fault=falling-behind threshold={threshold} warnings={} first={:?}",
        warnings.len(),
        warnings.first()
    );
    assert!(warned, "no depth warning for {queue}");
    let first = &warnings[0];
    assert!(
        first.contains(&format!("warning threshold {threshold}")),
        "{first}"
    );
    let depth: u32 = first
        .split(" holds ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no depth in {first}"));
    assert!(depth > threshold, "{first}");
    monitor.stop_timeout(Duration::from_secs(1));
}
