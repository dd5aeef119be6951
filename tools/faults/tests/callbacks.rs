//! Misbehaving callbacks: one that panics, one that blocks for a long
//! time, some that are slow. The others must keep being served, and
//! `stop_timeout` must return near its deadline naming what still runs.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pulse_build_monitor::PoolConfig;
use pulse_build_monitor::{ConsumeOptions, Monitor};
use pulse_faults::{print_result, record_id, Stream, Tally};
use pulse_test_support::{wait_for, TempDir, Vhost};

const SENT: u64 = 2_000;
const BLOCKER: u64 = 0;

fn panics(id: u64) -> bool {
    id % 100 == 1
}

fn slow(id: u64) -> bool {
    id % 10 == 2
}

#[test]
fn panicking_blocking_and_slow_callbacks_do_not_stop_the_others() {
    let Some(vhost) = Vhost::create("faults") else {
        return;
    };
    quiet_deliberate_panics();
    let files = TempDir::new("faults-callbacks");
    let tally = Arc::new(Mutex::new(Tally::new(SENT)));
    let (release, released) = std::sync::mpsc::channel::<()>();
    let released = Mutex::new(released);
    let seen = Arc::clone(&tally);
    let monitor = Monitor::builder()
        .broker(vhost.settings("callbacks-monitor"))
        .label(pulse_test_support::unique("callbacks"))
        .durable(true)
        .declare_exchanges(true)
        .callback_pool(PoolConfig::default().with_workers(4))
        .log_file(files.join("monitor.log"))
        .consume_options(
            ConsumeOptions::default()
                .with_prefetch(100)
                .with_stop_timeout(Duration::from_secs(2)),
        )
        .on_build(move |build| {
            let id = record_id(&build).unwrap();
            seen.lock().unwrap().record(id);
            if id == BLOCKER {
                // Holds a worker until the test ends (at most 5 minutes).
                let _ = released
                    .lock()
                    .unwrap()
                    .recv_timeout(Duration::from_secs(300));
            } else if panics(id) {
                panic!("callback for {id} panics on purpose");
            } else if slow(id) {
                std::thread::sleep(Duration::from_millis(20));
            }
        })
        .start()
        .expect("monitor starts");

    Stream::start(
        vhost.settings("callbacks-publisher"),
        0..SENT,
        500,
        Duration::ZERO,
    )
    .join();
    let all_seen = wait_for(Duration::from_secs(60), || {
        tally.lock().unwrap().unique() == SENT
    });
    let expected_panics = (0..SENT).filter(|&id| panics(id)).count() as u64;
    let panicked = wait_for(Duration::from_secs(10), || {
        monitor.stats().callback_panics == expected_panics
    });

    let started = Instant::now();
    let report = monitor.stop_timeout(Duration::from_secs(1));
    let took = started.elapsed();
    let _ = release.send(());
    let tally = tally.lock().unwrap().clone();
    print_result(
        "callbacks",
        &tally,
        &format!(
            "panics={} stop_timeout_1s_took_ms={} still_running={:?}",
            report.stats.callback_panics,
            took.as_millis(),
            report.still_running
        ),
    );
    assert!(
        all_seen,
        "callbacks stopped being served: {:?}",
        tally.lost()
    );
    assert!(panicked, "{:?}", report.stats);
    assert_eq!(report.stats.callback_panics, expected_panics);
    // Everything but the blocked message was acknowledged.
    assert_eq!(report.stats.acknowledged, SENT - 1, "{:?}", report.stats);
    // The deadline (1 s) plus the consumer's own stop_timeout (2 s) for the
    // blocked message's decision, plus closing: well under 10 s.
    assert!(took < Duration::from_secs(10), "stop took {took:?}");
    let blocked_key =
        format!("build.mozilla-central-linux64.{BLOCKER}.log_uploaded (build callback)");
    assert_eq!(report.still_running, vec![blocked_key], "{report:?}");
    assert!(!report.is_complete());
    let log = std::fs::read_to_string(files.join("monitor.log")).unwrap();
    let logged_panics = log.lines().filter(|l| l.contains("panicked")).count() as u64;
    assert_eq!(logged_panics, expected_panics, "{log}");
}

/// Keeps the deliberate panics' messages and backtraces out of the output.
fn quiet_deliberate_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let deliberate = info
            .payload()
            .downcast_ref::<String>()
            .is_some_and(|m| m.contains("on purpose"));
        if !deliberate {
            default(info);
        }
    }));
}
