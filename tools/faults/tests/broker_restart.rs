//! Broker restart: `rabbitmqctl stop_app` then `start_app` on a second
//! RabbitMQ node of our own (the shared node serves other tests) during a
//! stream. The monitor must reconnect by itself within its backoff cap and
//! resume; the durable queue, its bindings and its label are the same
//! afterwards.

mod common;

use std::time::{Duration, Instant};

use common::{snapshot, some, tallying_monitor};
use pulse_faults::{print_result, SecondNode, Stream};
use pulse_test_support::wait_for;

const SENT: u64 = 5_000;
const CAP: Duration = Duration::from_secs(2);

#[test]
fn stop_app_and_start_app_during_a_stream() {
    let Some(node) = SecondNode::start(None) else {
        return;
    };
    let label = pulse_test_support::unique("restart");
    let (builder, tally) = tallying_monitor(
        node.settings("restart-monitor"),
        &label,
        SENT,
        100,
        CAP,
        Duration::ZERO,
    );
    let monitor = builder.start().expect("monitor starts");
    let queue = monitor.queue_name().unwrap().to_string();
    assert_eq!(queue, pulse_wire::queue_name("guest", Some(&label)));
    let topology = || {
        let queues = node.ctl().run_ok(&["list_queues", "-q", "name", "durable"]);
        let bindings = node.ctl().run_ok(&[
            "list_bindings",
            "-q",
            "source_name",
            "destination_name",
            "routing_key",
        ]);
        (sorted_lines(&queues), sorted_lines(&bindings))
    };
    let before = topology();
    assert!(
        before
            .0
            .iter()
            .any(|q| q.starts_with(&queue) && q.ends_with("true")),
        "{before:?}"
    );

    // 50 every 100 ms: the stream lasts ~10 s, and the broker goes down
    // once the publisher (not the monitor, which a loaded machine may slow
    // down) is a tenth of the way through, so most of the stream is still
    // to come when it does. A restart after the stream ended would test
    // nothing: that is checked below.
    let stream = Stream::start(
        node.settings("restart-publisher"),
        0..SENT,
        50,
        Duration::from_millis(100),
    );
    assert!(wait_for(Duration::from_secs(30), || stream.confirmed() >= 500));
    node.stop_app();
    let confirmed_at_stop = stream.confirmed();
    assert!(
        confirmed_at_stop < SENT,
        "the stream ended before the broker stopped: nothing to test"
    );
    // Down long enough for the backoff to reach its cap.
    std::thread::sleep(Duration::from_secs(4));
    let during = snapshot(&tally).unique();
    node.start_app();
    let restarted = Instant::now();
    let reconnected = wait_for(CAP + Duration::from_secs(10), || {
        monitor.stats().reconnects >= 1
    });
    let reconnect_after = restarted.elapsed();
    let resumed = wait_for(Duration::from_secs(30), || {
        snapshot(&tally).unique() > during
    });
    // What the monitor and the publisher had done by then, for a failure.
    let at_resume = format!(
        "{:?}; publisher confirmed {} ids, retried {} batches",
        monitor.stats(),
        stream.confirmed(),
        stream.retries()
    );
    let published = stream.join();
    let all = wait_for(Duration::from_secs(60), || {
        tally.lock().unwrap().unique() == SENT
    });
    let after = topology();
    let report = monitor.stop_timeout(Duration::from_secs(5));
    let tally = snapshot(&tally);
    print_result(
        "broker-restart",
        &tally,
        &format!(
            "reconnect_after_start_app_ms={} backoff_cap_ms={} reconnects={}",
            reconnect_after.as_millis(),
            CAP.as_millis(),
            report.stats.reconnects
        ),
    );
    println!("duplicated ids: {}", some(&tally.duplicated_ids()));
    assert!(reconnected, "no reconnect within {reconnect_after:?}");
    // A failed attempt waits at most the cap; the attempt itself is quick.
    assert!(
        reconnect_after <= CAP + Duration::from_secs(3),
        "reconnected {reconnect_after:?} after start_app (cap {CAP:?})"
    );
    assert!(resumed, "no message handled after the restart: {at_resume}");
    assert_eq!(published, SENT);
    assert!(all, "lost: {}", some(&tally.lost()));
    assert_eq!(tally.strangers(), 0);
    assert_eq!(before, after, "queue or bindings changed by the restart");
}

fn sorted_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    lines.sort();
    lines
}
