//! Poison messages: bodies the translator cannot read, among good ones.
//!
//! Each poison message must be counted (`translation_errors`), logged with
//! its routing key (the `log` output and the monitor's log file), written
//! to the dead-letter file and acknowledged — never redelivered forever —
//! while every good message still reaches its callback.

mod common;

use std::time::Duration;

use common::{snapshot, some, tallying_monitor};
use pulse_build_monitor::exchanges::BUILD as EXCHANGE_BUILD;
use pulse_build_monitor::{Message, Monitor};
use pulse_faults::{build_message, print_result, CapturedLog};
use pulse_test_support::{wait_for, TempDir, Vhost};
use pulse_wire::Publisher;

const GOOD: u64 = 10_000;
const POISON: u64 = 1_000;

/// The kinds of poison, by name: routing key and body for the `n`th one.
fn poison(kind: usize, n: u64) -> (&'static str, String, Vec<u8>) {
    let key = |name: &str| format!("build.poison-{name}.{n}.log_uploaded");
    let meta = |key: &str| serde_json::json!({ "routing_key": key });
    match kind {
        0 => ("not-json", key("not-json"), b"this is { not json".to_vec()),
        1 => ("json-array", key("json-array"), b"[1, 2, 3]".to_vec()),
        2 => ("json-string", key("json-string"), b"\"a string\"".to_vec()),
        3 => {
            let k = key("properties-not-array");
            let body = serde_json::json!({"_meta": meta(&k),
                "payload": {"build": {"results": 0, "properties": "linux64"}}});
            ("properties-not-array", k, body.to_string().into_bytes())
        }
        4 => {
            let k = key("results-not-int");
            let body = serde_json::json!({"_meta": meta(&k),
                "payload": {"build": {"results": "green", "properties": [
                    ["branch", "mozilla-central", "x"], ["platform", "linux64", "x"]]}}});
            ("results-not-int", k, body.to_string().into_bytes())
        }
        5 => {
            let k = key("missing-payload");
            let body = serde_json::json!({ "_meta": meta(&k) });
            ("missing-payload", k, body.to_string().into_bytes())
        }
        6 => {
            // Without `_meta` the delivery's key is read, as the reference
            // does; this one has a shape no rule knows.
            let k = format!("poison-unknown-shape-{n}");
            let (_, good) = build_message(n);
            let mut body: serde_json::Value = serde_json::from_slice(&good).unwrap();
            body.as_object_mut().unwrap().remove("_meta");
            (
                "no-meta-unknown-key-shape",
                k,
                body.to_string().into_bytes(),
            )
        }
        7 => {
            let k = key("non-utf8");
            let mut body = br#"{"_meta": {"routing_key": ""#.to_vec();
            body.extend_from_slice(&[0xff, 0xfe, 0xfd]);
            body.extend_from_slice(br#""}, "payload": {}}"#);
            ("non-utf8", k, body)
        }
        _ => {
            let k = key("meta-not-object");
            let body = serde_json::json!({"_meta": [k], "payload": {"build": {}}});
            ("meta-not-object", k, body.to_string().into_bytes())
        }
    }
}

const KINDS: usize = 9;

/// A 10 MB body: valid JSON whose properties are one long string.
fn huge(n: u64) -> (String, Vec<u8>) {
    let key = format!("build.poison-10mb.{n}.log_uploaded");
    let body = serde_json::json!({"_meta": {"routing_key": key},
        "payload": {"build": {"results": 0, "properties": "x".repeat(10 * 1024 * 1024)}}});
    (key, body.to_string().into_bytes())
}

#[test]
fn every_poison_kind_is_a_translation_error_in_process() {
    for kind in 0..KINDS {
        let (name, key, body) = poison(kind, 1);
        let monitor = Monitor::builder()
            .on_build(|_| panic!("poison reached the build callback"))
            .messages(vec![Message::new(EXCHANGE_BUILD, key, body)])
            .start()
            .unwrap();
        let stats = monitor.join().stats;
        assert_eq!(stats.translation_errors, 1, "{name}: {stats:?}");
    }
    let (key, body) = huge(1);
    let monitor = Monitor::builder()
        .on_build(|_| panic!("poison reached the build callback"))
        .messages(vec![Message::new(EXCHANGE_BUILD, key, body)])
        .start()
        .unwrap();
    assert_eq!(monitor.join().stats.translation_errors, 1);
}

#[test]
fn poison_among_good_messages_is_counted_logged_dead_lettered_and_acknowledged() {
    let Some(vhost) = Vhost::create("faults") else {
        return;
    };
    let log = CapturedLog::install();
    let files = TempDir::new("faults-poison");
    let label = pulse_test_support::unique("poison");
    let (builder, tally) = tallying_monitor(
        vhost.settings("poison-monitor"),
        &label,
        GOOD,
        200,
        Duration::from_secs(1),
        Duration::ZERO,
    );
    let monitor = builder
        .log_file(files.join("monitor.log"))
        .dead_letter_file(files.join("dead-letters.jsonl"))
        .start()
        .expect("monitor starts");
    let queue = monitor.queue_name().unwrap().to_string();

    // One poison message after every tenth good one; the 10 MB one first.
    let mut messages = Vec::new();
    let mut poison_keys = Vec::new();
    let (key, body) = huge(0);
    poison_keys.push(key.clone());
    messages.push((key, body));
    let mut next_poison = 1;
    for id in 0..GOOD {
        messages.push(build_message(id));
        if id % 10 == 9 && next_poison < POISON {
            let (_, key, body) = poison(next_poison as usize % KINDS, next_poison);
            poison_keys.push(key.clone());
            messages.push((key, body));
            next_poison += 1;
        }
    }
    assert_eq!(poison_keys.len() as u64, POISON);
    let mut publisher = Publisher::connect(&vhost.settings("poison-publisher")).unwrap();
    for chunk in messages.chunks(500) {
        let batch: Vec<Message> = chunk
            .iter()
            .map(|(routing_key, body)| Message {
                exchange: EXCHANGE_BUILD.to_string(),
                routing_key: routing_key.clone(),
                body: body.clone(),
                cc: Vec::new(),
            })
            .collect();
        publisher.publish_batch(&batch).unwrap();
    }

    let total = GOOD + POISON;
    let drained = wait_for(Duration::from_secs(120), || {
        monitor.stats().acknowledged >= total && publisher.queue_depth(&queue).unwrap() == 0
    });
    let tally = snapshot(&tally);
    let stats = monitor.stats();
    print_result(
        "poison-messages",
        &tally,
        &format!(
            "poison={POISON} translation_errors={} acknowledged={}",
            stats.translation_errors, stats.acknowledged
        ),
    );
    assert!(drained, "queue did not drain: {stats:?}");
    assert!(
        tally.lost().is_empty(),
        "good messages lost: {}",
        some(&tally.lost())
    );
    assert_eq!(tally.strangers(), 0);
    assert_eq!(stats.translation_errors, POISON, "{stats:?}");
    assert!(monitor.is_alive(), "the monitor stopped on poison");

    // Logged with its routing key, in the log and in the monitor's log file.
    let warnings = log.matching(log::Level::Warn, "cannot translate");
    let log_file = std::fs::read_to_string(files.join("monitor.log")).unwrap();
    for key in &poison_keys {
        let quoted = format!("{key:?}");
        assert!(
            warnings.iter().any(|w| w.contains(&quoted)),
            "no warning names {quoted}"
        );
        assert!(
            log_file.contains(&quoted),
            "log file does not name {quoted}"
        );
    }
    // Dead letters: one JSON line each, which replay can read back.
    let dead = std::fs::read_to_string(files.join("dead-letters.jsonl")).unwrap();
    let mut dead_keys: Vec<String> = dead
        .lines()
        .map(|line| {
            serde_json::from_str::<Message>(line)
                .expect("a dead letter is a recorded message")
                .routing_key
        })
        .collect();
    dead_keys.sort();
    let mut expected = poison_keys.clone();
    expected.sort();
    assert_eq!(dead_keys, expected);

    let report = monitor.stop_timeout(Duration::from_secs(5));
    assert!(report.is_complete(), "{report:?}");
    assert_eq!(report.stats.callback_panics, 0);
}
