//! A deleted queue: PulseGuardian deletes queues that grow too long. The
//! queue is deleted with `rabbitmqctl delete_queue` in the middle of a
//! stream. The broker cancels the consumer; the monitor must say at error
//! level that messages are lost, count it, declare the queue again (with
//! its bindings) and go on: everything published once it is back arrives.

mod common;

use std::time::Duration;

use common::{snapshot, some, tallying_monitor};
use pulse_faults::{print_result, CapturedLog, Stream};
use pulse_test_support::{wait_for, Vhost};

/// The stream the queue is deleted in.
const STREAMED: u64 = 3_000;
/// Published once the queue is back: every one of these must arrive.
const AFTER: u64 = 500;

#[test]
fn a_deleted_queue_is_an_error_counted_and_declared_again() {
    let Some(vhost) = Vhost::create("faults") else {
        return;
    };
    let log = CapturedLog::install();
    let label = pulse_test_support::unique("deleted");
    let queue = pulse_wire::queue_name("guest", Some(&label));
    let (builder, tally) = tallying_monitor(
        vhost.settings("deleted-monitor"),
        &label,
        STREAMED + AFTER,
        50,
        Duration::from_secs(1),
        Duration::from_millis(1),
    );
    let monitor = builder.start().expect("monitor starts");

    // ~1,000 messages a second: the deletion lands mid-stream.
    let stream = Stream::start(
        vhost.settings("deleted-publisher"),
        0..STREAMED,
        50,
        Duration::from_millis(50),
    );
    assert!(
        wait_for(Duration::from_secs(60), || snapshot(&tally).unique() >= 500),
        "the stream did not start arriving"
    );
    vhost
        .ctl()
        .run_ok(&["delete_queue", "-p", vhost.name(), &queue]);
    let noticed = wait_for(Duration::from_secs(30), || {
        monitor.stats().queue_deleted == 1 && monitor.stats().connected == Some(true)
    });
    let stream_running = !stream.is_finished();
    assert!(noticed, "deletion not noticed: {:?}", monitor.stats());
    assert!(
        vhost.queues().contains(&queue),
        "queue not declared again: {}",
        vhost.queues()
    );
    let published = stream.join();

    // Declared again with its bindings: what is published now all arrives.
    Stream::start(
        vhost.settings("deleted-after"),
        STREAMED..STREAMED + AFTER,
        100,
        Duration::ZERO,
    )
    .join();
    let after_arrived = wait_for(Duration::from_secs(60), || {
        let tally = snapshot(&tally);
        tally.lost().iter().all(|&id| id < STREAMED)
    });
    let report = monitor.stop_timeout(Duration::from_secs(10));
    let tally = snapshot(&tally);
    let errors = log.matching(log::Level::Error, &format!("queue {queue} was deleted"));
    print_result(
        "queue-deleted",
        &tally,
        &format!(
            "streamed={STREAMED} then={AFTER} deleted_mid_stream={stream_running} \
             queue_deleted={} reconnects={} error_logs={}",
            report.stats.queue_deleted,
            report.stats.reconnects,
            errors.len()
        ),
    );
    println!("first error: {:?}", errors.first());
    assert_eq!(published, STREAMED);
    assert!(stream_running, "the stream ended before the deletion");
    assert!(
        after_arrived,
        "lost after the queue came back: {}",
        some(
            &tally
                .lost()
                .into_iter()
                .filter(|&id| id >= STREAMED)
                .collect::<Vec<_>>()
        )
    );
    assert_eq!(report.stats.queue_deleted, 1, "{:?}", report.stats);
    assert_eq!(errors.len(), 1, "{:?}", log.all());
    assert!(errors[0].contains("lost"), "{}", errors[0]);
    assert_eq!(tally.duplicates(), 0, "{}", some(&tally.duplicated_ids()));
    assert_eq!(tally.strangers(), 0);
}
