//! The corpus's normalized messages (what the reference translator published on
//! `exchange/build/normalized`) through the real broker, with
//! `Source::Normalized`: the same records as parsing them in-process, and
//! bindings that leave other trees (and platforms, and talos when off) on
//! the broker.

mod common;

use pulse_test_support::BrokerCleanup;

use std::sync::{Arc, Mutex};

use common::{
    broker_or_skip, corpus_or_skip, expected_normalized, publish_all, publisher, unique, wait_until,
};
use pulse_build_monitor::{
    ConnectionSettings, Filter, Message, Monitor, MonitorBuilder, Record, Source,
};
use serde_json::Value;

const EXCHANGE: &str = pulse_build_monitor::exchanges::BUILD_NORMALIZED;

/// The corpus's normalized messages moved to `tree` (in the payload and in
/// the routing key's second part), with a timestamp as the reference added.
fn normalized_for(corpus: &std::path::Path, tree: &str) -> Vec<Message> {
    expected_normalized(corpus)
        .into_values()
        .flatten()
        .map(|(key, mut payload)| {
            payload["tree"] = Value::String(tree.to_string());
            payload["timestamp"] = Value::String("2015-08-13T12:00:00Z".to_string());
            let mut parts: Vec<&str> = key.split('.').collect();
            parts[1] = tree;
            Message::new(
                EXCHANGE,
                parts.join("."),
                serde_json::to_vec(&payload).unwrap(),
            )
        })
        .collect()
}

fn parse(message: &Message) -> Record {
    pulse_translator::normalized::parse(&message.routing_key, &message.body).unwrap()
}

fn sorted_json(records: &[Record]) -> Vec<String> {
    let mut out: Vec<String> = records
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    out.sort();
    out
}

#[derive(Default)]
struct Received {
    keys: Vec<String>,
    records: Vec<Record>,
}

/// A normalized-source monitor on the local broker that records what its
/// callbacks get.
fn start(
    settings: &ConnectionSettings,
    label: &str,
    filter: Filter,
) -> (Monitor, Arc<Mutex<Received>>) {
    let received = Arc::new(Mutex::new(Received::default()));
    let (on_message, on_build, on_test) = (received.clone(), received.clone(), received.clone());
    let mut settings = settings.clone();
    settings.connection_name.push_str(label);
    let builder: MonitorBuilder = Monitor::builder()
        .broker(settings)
        .source(Source::Normalized)
        .label(label)
        .declare_exchanges(true)
        // Once their timestamps are made equal, two of the corpus's 281
        // normalized messages are identical, and the monitor would count
        // them as one delivery (see `dedupe_window`): this test counts
        // every message, so it turns that off.
        .dedupe_window(0)
        .filter(filter)
        .on_message(move |m| on_message.lock().unwrap().keys.push(m.routing_key.clone()))
        .on_build(move |b| on_build.lock().unwrap().records.push(Record::Build(b)))
        .on_test(move |t| on_test.lock().unwrap().records.push(Record::Test(t)));
    (builder.start().unwrap(), received)
}

#[test]
fn normalized_messages_give_the_same_records_and_bindings_narrow_by_tree() {
    let (Some(settings), Some(corpus)) = (broker_or_skip(), corpus_or_skip()) else {
        return;
    };
    let tree = unique("test");
    let other_tree = unique("test");
    let ours = normalized_for(&corpus, &tree);
    let others = normalized_for(&corpus, &other_tree);
    assert_eq!(
        ours.len(),
        281,
        "the corpus README counts 281 normalized messages"
    );

    let (label_a, label_b) = (unique("monitor-test-norm-a"), unique("monitor-test-norm-b"));
    let _guards = (
        BrokerCleanup::for_label(&settings, &label_a),
        BrokerCleanup::for_label(&settings, &label_b),
    );
    // A: the tree, talos off. B: the tree, talos on, one platform.
    let (a, received_a) = start(
        &settings,
        &label_a,
        Filter::builder().trees([tree.as_str()]).build().unwrap(),
    );
    let (b, received_b) = start(
        &settings,
        &label_b,
        Filter::builder()
            .trees([tree.as_str()])
            .platforms(["win32"])
            .talos(true)
            .build()
            .unwrap(),
    );

    let mut publisher = publisher(&settings);
    publish_all(&mut publisher, &others);
    publish_all(&mut publisher, &ours);

    let messages_a: Vec<&Message> = ours
        .iter()
        .filter(|m| !m.routing_key.starts_with("talos."))
        .collect();
    let messages_b: Vec<&Message> = ours
        .iter()
        .filter(|m| parse(m).job().unwrap().platform == "win32")
        .collect();
    let expected_a: Vec<Record> = messages_a.iter().map(|m| parse(m)).collect();
    let expected_b: Vec<Record> = messages_b.iter().map(|m| parse(m)).collect();
    assert!(expected_a.len() < ours.len(), "the corpus has talos runs");
    assert!(!expected_b.is_empty() && expected_b.len() < expected_a.len());

    for (monitor, received, expected, messages, name) in [
        (&a, &received_a, &expected_a, &messages_a, "A"),
        (&b, &received_b, &expected_b, &messages_b, "B"),
    ] {
        wait_until(name, || {
            received.lock().unwrap().records.len() >= expected.len()
        });
        let report = monitor.stop();
        let received = received.lock().unwrap();
        assert!(report.is_complete(), "{name}: {report:?}");
        assert_eq!(
            sorted_json(&received.records),
            sorted_json(expected),
            "{name}"
        );
        // Only what the bindings let through was received: nothing of the
        // other tree, no talos for A, only win32 for B. Nobody else
        // publishes for these trees, so the counts are exact.
        let stats = report.stats;
        assert_eq!(stats.received, expected.len() as u64, "{name}: {stats:?}");
        assert_eq!(received.keys.len(), expected.len(), "{name}");
        assert!(
            received
                .keys
                .iter()
                .all(|k| k.split('.').nth(1) == Some(tree.as_str())),
            "{name}: {:?}",
            received.keys
        );
        assert_eq!(stats.translated, stats.received, "{name}: {stats:?}");
        assert_eq!(stats.matched, stats.received, "{name}: {stats:?}");
        assert_eq!(stats.translation_errors, 0, "{name}: {stats:?}");
        assert_eq!(stats.acknowledged, stats.received, "{name}: {stats:?}");
        // Each message once (l10n repacks share keys, hence a multiset).
        let mut keys = received.keys.clone();
        keys.sort();
        let mut sent: Vec<String> = messages.iter().map(|m| m.routing_key.clone()).collect();
        sent.sort();
        assert_eq!(keys, sent, "{name}");
    }
}

/// The default filter keeps mozilla-central only, so the broker should only
/// send mozilla-central: a normalized monitor with the default rules must
/// not even receive another tree's messages.
#[test]
fn default_filter_binds_only_mozilla_central() {
    let (Some(settings), Some(corpus)) = (broker_or_skip(), corpus_or_skip()) else {
        return;
    };
    let tree = unique("test");
    let ours = normalized_for(&corpus, &tree);
    // Published last: once its callback ran, everything routed to the
    // queue before it has been received (one queue, one consumer, in order).
    let sentinel_key = format!("build.mozilla-central.linux64.opt.{}", unique("sentinel"));
    let sentinel = {
        let mut payload = expected_normalized(&corpus)
            .into_values()
            .flatten()
            .find(|(key, _)| key.starts_with("build.mozilla-central.linux64.opt."))
            .expect("the corpus has a mozilla-central linux64 opt build")
            .1;
        payload["timestamp"] = Value::String("2015-08-13T12:00:00Z".to_string());
        Message::new(
            EXCHANGE,
            &sentinel_key,
            serde_json::to_vec(&payload).unwrap(),
        )
    };

    let label = unique("monitor-test-norm-default");
    let _guard = BrokerCleanup::for_label(&settings, &label);
    let (monitor, received) = start(&settings, &label, Filter::default());
    let mut publisher = publisher(&settings);
    publish_all(&mut publisher, &ours);
    publish_all(&mut publisher, &[sentinel]);

    wait_until("the sentinel", || {
        received.lock().unwrap().keys.contains(&sentinel_key)
    });
    let report = monitor.stop();
    let received = received.lock().unwrap();
    let leaked: Vec<&String> = received
        .keys
        .iter()
        .filter(|k| k.split('.').nth(1) == Some(tree.as_str()))
        .collect();
    assert!(
        leaked.is_empty(),
        "{} messages of tree {tree} reached a mozilla-central monitor, e.g. {:?}; {:?}",
        leaked.len(),
        leaked.first(),
        report.stats
    );
    assert!(received
        .records
        .iter()
        .all(|r| r.job().unwrap().tree == "mozilla-central"));
}
