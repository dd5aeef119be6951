//! Connection kills: the monitor's broker connection is force-closed 10
//! times at random moments (`rabbitmqctl close_connection`, only ours)
//! during a 20,000-message stream into a durable queue.
//!
//! Every message reaches the callback, and exactly once: the broker
//! redelivers what was unacknowledged at each kill, and the monitor
//! acknowledges the redeliveries of messages it had handled without
//! calling the callback again, and drops the queued callbacks of a dead
//! connection instead of running them.

mod common;

use std::time::{Duration, Instant};

use common::{snapshot, some, tallying_monitor};
use pulse_faults::{print_result, Stream, XorShift};
use pulse_test_support::{wait_for, Vhost};

const SENT: u64 = 20_000;
const KILLS: u64 = 10;
const PREFETCH: u16 = 50;

#[test]
fn forced_connection_closes_lose_nothing() {
    let Some(vhost) = Vhost::create("faults") else {
        return;
    };
    let monitor_settings = vhost.settings("kills-monitor");
    let name = monitor_settings.connection_name.clone();
    let (builder, tally) = tallying_monitor(
        monitor_settings,
        &pulse_test_support::unique("kills"),
        SENT,
        PREFETCH,
        Duration::from_secs(1),
        // Four workers at 8 ms a message take ~500 a second, fewer than
        // published: the queue backs up and every kill finds a full
        // prefetch window in flight.
        Duration::from_millis(8),
    );
    let monitor = builder.start().expect("monitor starts");

    // ~600 messages a second, so the stream outlasts the ten kills
    // (each `rabbitmqctl` call takes a second or two).
    let stream = Stream::start(
        vhost.settings("kills-publisher"),
        0..SENT,
        60,
        Duration::from_millis(100),
    );
    let mut random = XorShift::from_time();
    println!("kill timing seed {}", random.state());
    let mut in_flight_at_kills = Vec::new();
    let mut during_stream = 0;
    for kill in 0..KILLS {
        std::thread::sleep(Duration::from_millis(random.range(200, 1500)));
        let stats = monitor.stats();
        let closed = vhost
            .ctl()
            .close_connections_named(&name, &format!("pulse-faults kill {kill}"));
        assert_eq!(closed, 1, "kill {kill}: the monitor's connection not found");
        in_flight_at_kills.push(
            stats
                .received
                .saturating_sub(stats.acknowledged + stats.dropped_requeued),
        );
        if !stream.is_finished() {
            during_stream += 1;
        }
        // The next kill must hit the next connection, not this dying one.
        assert!(
            wait_for(Duration::from_secs(20), || monitor.stats().reconnects
                > kill),
            "no reconnect after kill {kill}"
        );
    }
    let published = stream.join();
    let started = Instant::now();
    let all = wait_for(Duration::from_secs(120), || {
        tally.lock().unwrap().unique() == SENT
    });
    println!(
        "last message {:?} after the stream ended",
        started.elapsed()
    );
    let report = monitor.stop_timeout(Duration::from_secs(10));
    let tally = snapshot(&tally);
    print_result(
        "connection-kills",
        &tally,
        &format!(
            "kills={KILLS} during_stream={during_stream} prefetch={PREFETCH} \
             reconnects={} in_flight_at_kills={in_flight_at_kills:?} \
             redeliveries_acknowledged_without_callback={} dropped_requeued={}",
            report.stats.reconnects, report.stats.duplicates, report.stats.dropped_requeued
        ),
    );
    println!("duplicated ids: {}", some(&tally.duplicated_ids()));
    assert_eq!(published, SENT);
    assert!(all, "lost: {}", some(&tally.lost()));
    assert!(tally.lost().is_empty());
    assert_eq!(tally.strangers(), 0);
    assert!(report.stats.reconnects >= KILLS, "{:?}", report.stats);
    assert_eq!(
        tally.duplicates(),
        0,
        "duplicate callbacks: {}",
        some(&tally.duplicated_ids())
    );
    assert!(
        report.stats.duplicates > 0,
        "no redelivery was recognised: {:?}",
        report.stats
    );
    assert!(
        during_stream >= KILLS / 2,
        "only {during_stream} kills hit the stream"
    );
}
