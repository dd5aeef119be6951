//! A blackholed network: the monitor talks to the broker through a TCP
//! proxy in this test, which stops forwarding bytes both ways without
//! closing either socket. The monitor must notice within two heartbeats,
//! reconnect once the link is back, and lose nothing; with heartbeats off
//! the stall watchdog alone must notice.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{snapshot, some};
use pulse_build_monitor::PoolConfig;
use pulse_build_monitor::{Backoff, ConsumeOptions, Monitor, Stats};
use pulse_faults::{print_result, record_id, BlackholeProxy, Stream, Tally};
use pulse_test_support::{wait_for, Vhost};
use std::sync::{Arc, Mutex};

const SENT: u64 = 3_000;
const HEARTBEAT: u16 = 2;

struct Outcome {
    tally: Tally,
    stats: Stats,
    noticed_after: Duration,
}

/// Streams [`SENT`] messages past a monitor behind the proxy, blackholes
/// the link once 500 arrived, waits for the monitor to notice
/// (`!connected`) within `notice_within`, keeps the link down until the
/// monitor has tried to reconnect through it, then brings it back.
fn blackhole_mid_stream(
    vhost: &Vhost,
    heartbeat: u16,
    stall_timeout: Option<Duration>,
    notice_within: Duration,
) -> Option<Outcome> {
    let proxy = BlackholeProxy::start(SocketAddr::from(([127, 0, 0, 1], 5672)));
    let mut settings = vhost.settings("stall-monitor");
    settings.port = proxy.port();
    settings.heartbeat = heartbeat;
    settings.connect_timeout = Duration::from_secs(2);
    let tally = Arc::new(Mutex::new(Tally::new(SENT)));
    let seen = Arc::clone(&tally);
    let monitor = Monitor::builder()
        .broker(settings)
        .label(pulse_test_support::unique("stall"))
        .durable(true)
        .declare_exchanges(true)
        .callback_pool(PoolConfig::default().with_workers(2))
        .consume_options({
            let mut options = ConsumeOptions::default()
                .with_prefetch(50)
                .with_reconnect(Backoff::new(
                    Duration::from_millis(50),
                    Duration::from_secs(1),
                ))
                .with_stop_timeout(Duration::from_secs(2));
            options.stall_timeout = stall_timeout;
            options
        })
        .on_build(move |build| {
            seen.lock()
                .unwrap()
                .record(record_id(&build).expect("an id"));
            std::thread::sleep(Duration::from_millis(1));
        })
        .start()
        .expect("monitor starts");
    let stream = Stream::start(
        vhost.settings("stall-publisher"),
        0..SENT,
        50,
        Duration::from_millis(50),
    );
    assert!(
        wait_for(Duration::from_secs(60), || snapshot(&tally).unique() >= 500),
        "the stream did not arrive"
    );
    let attempts_before = proxy.accepted();
    let started = Instant::now();
    proxy.blackhole();
    let noticed = wait_for(notice_within, || monitor.stats().connected == Some(false));
    let noticed_after = started.elapsed();
    assert!(
        noticed,
        "not noticed within {notice_within:?}: {:?}",
        monitor.stats()
    );
    // The link stays down until the monitor has tried to come back
    // through it (the attempt hangs in the handshake and times out).
    assert!(
        wait_for(Duration::from_secs(30), || proxy.accepted()
            > attempts_before),
        "no reconnection attempt during the outage"
    );
    proxy.restore();
    let published = stream.join();
    assert_eq!(published, SENT);
    let all = wait_for(Duration::from_secs(120), || {
        monitor.stats().connected == Some(true) && snapshot(&tally).unique() == SENT
    });
    let report = monitor.stop_timeout(Duration::from_secs(10));
    let tally = snapshot(&tally);
    assert!(all, "lost: {}", some(&tally.lost()));
    Some(Outcome {
        tally,
        stats: report.stats,
        noticed_after,
    })
}

#[test]
fn a_blackholed_link_is_noticed_within_two_heartbeats_and_loses_nothing() {
    let Some(vhost) = Vhost::create("faults") else {
        return;
    };
    let within = Duration::from_secs(2 * u64::from(HEARTBEAT));
    let Some(outcome) = blackhole_mid_stream(&vhost, HEARTBEAT, None, within) else {
        return;
    };
    let Outcome {
        tally,
        stats,
        noticed_after,
    } = outcome;
    print_result(
        "stall-blackhole",
        &tally,
        &format!(
            "heartbeat={HEARTBEAT}s noticed_after={:.2}s stalls={} reconnects={} \
             redeliveries_acknowledged_without_callback={}",
            noticed_after.as_secs_f64(),
            stats.stalls,
            stats.reconnects,
            stats.duplicates
        ),
    );
    assert!(tally.lost().is_empty());
    assert_eq!(tally.duplicates(), 0, "{}", some(&tally.duplicated_ids()));
    assert_eq!(tally.strangers(), 0);
    assert!(stats.reconnects >= 1, "{stats:?}");
}

#[test]
fn with_heartbeats_off_the_watchdog_alone_notices() {
    let Some(vhost) = Vhost::create("faults") else {
        return;
    };
    let stall = Duration::from_secs(1);
    let Some(outcome) = blackhole_mid_stream(&vhost, 0, Some(stall), Duration::from_secs(30))
    else {
        return;
    };
    let Outcome {
        tally,
        stats,
        noticed_after,
    } = outcome;
    print_result(
        "stall-no-heartbeat",
        &tally,
        &format!(
            "heartbeat=off stall_timeout={stall:?} noticed_after={:.2}s stalls={} reconnects={} \
             redeliveries_acknowledged_without_callback={}",
            noticed_after.as_secs_f64(),
            stats.stalls,
            stats.reconnects,
            stats.duplicates
        ),
    );
    assert!(stats.stalls >= 1, "the watchdog did not notice: {stats:?}");
    assert!(tally.lost().is_empty());
    assert_eq!(tally.duplicates(), 0, "{}", some(&tally.duplicated_ids()));
    assert!(stats.reconnects >= 1, "{stats:?}");
}
