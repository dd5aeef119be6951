//! Shared helpers for the monitor's tests: the local RabbitMQ, the shared
//! corpus, queue cleanup, the corpus as raw messages and record comparison.
//! What every crate's tests share (broker, corpus, names, rabbitmqctl,
//! waiting) is in `pulse-test-support`.
#![allow(dead_code, unused_imports)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use pulse_build_monitor::{ConnectionSettings, Message, Record};
use pulse_wire::Publisher;
use serde_json::Value;

pub use pulse_test_support::{files_under, rabbitmqctl, unique, BROKER_URL};

/// Long enough that only a hang trips it; never a speed assertion.
pub const WAIT: Duration = Duration::from_secs(60);

/// Settings for the local broker with a connection name unique to this
/// test, or `None` (after a loud SKIP) when the broker is unreachable;
/// under `CI=true` an unreachable broker fails the test.
pub fn broker_or_skip() -> Option<ConnectionSettings> {
    pulse_test_support::broker_settings("pulse-build-monitor-test")
}

/// The shared corpus, or `None` (after a loud SKIP) when it is missing;
/// under `CI=true` a missing corpus fails the test.
pub fn corpus_or_skip() -> Option<PathBuf> {
    pulse_test_support::corpus_dir("")
}

/// A publisher on its own named connection, with the Pulse exchanges
/// declared (other tests may have declared them already).
pub fn publisher(settings: &ConnectionSettings) -> Publisher {
    let mut settings = settings.clone();
    settings.connection_name.push_str("-publisher");
    let mut publisher = Publisher::connect(&settings).expect("publisher connects");
    for exchange in [
        pulse_build_monitor::exchanges::BUILD,
        pulse_build_monitor::exchanges::BUILD_NORMALIZED,
    ] {
        publisher
            .declare_exchange(exchange)
            .expect("declare exchange");
    }
    publisher
}

/// Publishes raw messages on their own exchanges with their routing keys.
pub fn publish_all(publisher: &mut Publisher, messages: &[Message]) {
    for chunk in messages.chunks(200) {
        publisher.publish_batch(chunk).expect("publish");
    }
}

/// Polls `condition` until it holds, failing after [`WAIT`].
pub fn wait_until(what: &str, condition: impl FnMut() -> bool) {
    pulse_test_support::wait_until(WAIT, what, condition)
}

/// The 130 raw buildbot messages of the corpus, as Pulse carried them on
/// `exchange/build/` (routing key from `_meta.routing_key`).
pub fn raw_corpus(corpus: &Path) -> Vec<Message> {
    let mut files = files_under(&corpus.join("buildbot-unittest-2013"));
    files.extend(files_under(&corpus.join("buildbot-raw")));
    let messages: Vec<Message> = files
        .iter()
        .map(|path| {
            let body = fs::read(path).unwrap();
            let json: Value = serde_json::from_slice(&body).unwrap();
            let key = json["_meta"]["routing_key"].as_str().unwrap().to_string();
            Message::new(pulse_build_monitor::exchanges::BUILD, key, body)
        })
        .collect();
    assert_eq!(
        messages.len(),
        130,
        "the corpus README promises 130 raw messages"
    );
    messages
}

/// The same raw message with its tree renamed to `tree`: in the `branch`
/// property (whose last path part is the tree) and in the routing key (where
/// the tree follows `build.` and an optional `release-`/`jetpack-`/`b2g_`).
/// Messages without a tree come back unchanged.
pub fn with_tree(message: &Message, tree: &str) -> Message {
    let mut json: Value = serde_json::from_slice(&message.body).unwrap();
    let Some(properties) = json
        .pointer_mut("/payload/build/properties")
        .and_then(Value::as_array_mut)
    else {
        return message.clone();
    };
    let mut old_tree = None;
    for property in properties.iter_mut() {
        if property[0] == "branch" {
            if let Some(branch) = property[1].as_str() {
                old_tree = Some(branch.rsplit('/').next().unwrap().to_string());
                property[1] = Value::String(tree.to_string());
            }
        }
    }
    let Some(old_tree) = old_tree.filter(|t| !t.is_empty()) else {
        return message.clone();
    };
    let key = message.routing_key.replacen(&old_tree, tree, 1);
    json["_meta"]["routing_key"] = Value::String(key.clone());
    Message::new(
        message.exchange.clone(),
        key,
        serde_json::to_vec(&json).unwrap(),
    )
}

/// A record as comparable JSON: the `timestamp` (the time of translation)
/// left out.
pub fn comparable(record: &Record) -> Value {
    let mut value = serde_json::to_value(record).unwrap();
    value.as_object_mut().unwrap().remove("timestamp");
    value
}

/// Records as a sorted list of comparable JSON strings: a multiset.
pub fn multiset<'a>(records: impl IntoIterator<Item = &'a Record>) -> Vec<String> {
    let mut out: Vec<String> = records
        .into_iter()
        .map(|r| comparable(r).to_string())
        .collect();
    out.sort();
    out
}

/// What the translator gives in-process for each raw buildbot message.
pub fn translate_raw(message: &Message) -> Result<Vec<Record>, pulse_translator::Error> {
    pulse_translator::buildbot::translate_with_key(
        &message.routing_key,
        &message.body,
        &pulse_translator::Options::default(),
    )
    .map(|normalized| normalized.into_iter().map(|m| m.payload).collect())
}

/// The corpus's normalized messages for both buildbot sets: routing key and
/// payload from `*.expected.json`, keyed by the raw file they came from.
pub fn expected_normalized(corpus: &Path) -> BTreeMap<String, Vec<(String, Value)>> {
    let mut out = BTreeMap::new();
    for set in ["buildbot-unittest-2013", "buildbot-raw"] {
        let text = fs::read(corpus.join(format!("{set}.expected.json"))).unwrap();
        let expected: BTreeMap<String, Value> = serde_json::from_slice(&text).unwrap();
        for (file, entry) in expected {
            let messages = entry["normalized"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| {
                    (
                        m["routing_key"].as_str().unwrap().to_string(),
                        m["payload"].clone(),
                    )
                })
                .collect();
            out.insert(format!("{set}/{file}"), messages);
        }
    }
    out
}

/// Closes only the broker connection whose client properties carry `name`
/// (other tests share this broker).
pub fn close_connection_named(name: &str) {
    pulse_test_support::close_connection_named(name, "pulse-build-monitor reconnect test")
}
