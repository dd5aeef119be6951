//! A forced close of the monitor's broker connection in the middle of a
//! stream: the monitor reconnects by itself and, on a durable queue as on a
//! non-durable one, every message published reaches the callbacks at least
//! once.

mod common;

use pulse_test_support::BrokerCleanup;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use common::{broker_or_skip, close_connection_named, publish_all, publisher, unique, wait_until};
use pulse_build_monitor::ConsumeOptions;
use pulse_build_monitor::{Filter, Message, Monitor, Source};

const TOTAL: usize = 3000;

fn build(tree: &str, id: usize) -> Message {
    let payload = serde_json::json!({
        "key": format!("build.{tree}-linux64.{id}.log_uploaded"),
        "tree": tree,
        "platform": "linux64",
        "buildtype": "opt",
        "revision": id.to_string(),
        "tags": [],
        "timestamp": "2015-08-13T12:00:00Z",
    });
    Message::new(
        pulse_build_monitor::exchanges::BUILD_NORMALIZED,
        format!("build.{tree}.linux64.opt.{id}"),
        serde_json::to_vec(&payload).unwrap(),
    )
}

#[test]
fn a_forced_close_mid_stream_loses_nothing_on_a_durable_queue() {
    forced_close_mid_stream(true);
}

#[test]
fn a_forced_close_mid_stream_loses_nothing_on_a_non_durable_queue() {
    forced_close_mid_stream(false);
}

fn forced_close_mid_stream(durable: bool) {
    let Some(settings) = broker_or_skip() else {
        return;
    };
    let tree = unique("test");
    let label = unique("monitor-test-reconnect");
    let _guard = BrokerCleanup::for_label(&settings, &label);
    let seen: Arc<Mutex<BTreeMap<usize, usize>>> = Arc::default();
    let on_build = seen.clone();
    let monitor = Monitor::builder()
        .broker(settings.clone())
        .source(Source::Normalized)
        .label(&label)
        .durable(durable)
        .declare_exchanges(true)
        .consume_options(ConsumeOptions::default().with_prefetch(100))
        .filter(Filter::builder().trees([tree.as_str()]).build().unwrap())
        .on_build(move |build| {
            let id: usize = build.job.revision.unwrap().parse().unwrap();
            *on_build.lock().unwrap().entry(id).or_default() += 1;
        })
        .start()
        .unwrap();

    let messages: Vec<Message> = (0..TOTAL).map(|id| build(&tree, id)).collect();
    let publishing = {
        let settings = settings.clone();
        std::thread::spawn(move || {
            let mut publisher = publisher(&settings);
            for batch in messages.chunks(100) {
                publish_all(&mut publisher, batch);
            }
        })
    };

    wait_until("300 messages received", || monitor.stats().received >= 300);
    close_connection_named(&settings.connection_name);
    wait_until("every message handled", || {
        seen.lock().unwrap().len() == TOTAL
    });
    publishing.join().unwrap();
    wait_until("a reconnect counted", || monitor.stats().reconnects >= 1);
    let queue = monitor.queue_name().unwrap().to_string();
    let report = monitor.stop();
    let after_stop = publisher(&settings).queue_depth(&queue);
    if durable {
        assert_eq!(after_stop.unwrap(), 0, "the durable queue stays, drained");
    } else {
        let error = after_stop.expect_err("stop() deletes a non-durable queue");
        assert_eq!(error.kind(), pulse_wire::ErrorKind::NotFound, "{error}");
    }

    let seen = seen.lock().unwrap();
    let duplicates: usize = seen.values().map(|n| n - 1).sum();
    eprintln!(
        "reconnect (durable: {durable}): {TOTAL} published, {} distinct handled, {duplicates} duplicates; {:?}",
        seen.len(),
        report.stats
    );
    assert!(seen.keys().copied().eq(0..TOTAL), "ids missing");
    assert!(report.stats.reconnects >= 1, "{:?}", report.stats);
    assert_eq!(
        report.stats.received,
        (TOTAL + duplicates) as u64,
        "{:?}",
        report.stats
    );
}
