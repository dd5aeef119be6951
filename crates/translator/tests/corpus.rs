//! The real buildbot messages of the shared corpus, translated and compared
//! with what the reference translator published for them.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use pulse_translator::buildbot;
use pulse_translator::Options;
use pulse_translator::{normalized, Error, NormalizedMessage};
use serde_json::Value;

/// The corpus directory, or `None` after a loud SKIP when it is absent
/// outside CI.
fn corpus() -> Option<PathBuf> {
    pulse_test_corpus::corpus_dir("")
}

#[derive(Default, Debug)]
struct Totals {
    messages: usize,
    errors: usize,
    ignored: usize,
}

fn our_messages(messages: &[NormalizedMessage]) -> Vec<Value> {
    messages
        .iter()
        .map(|message| {
            let mut payload = serde_json::to_value(&message.payload).unwrap();
            let timestamp = payload.as_object_mut().unwrap().remove("timestamp");
            assert_eq!(
                timestamp,
                Some(Value::String("2015-08-13T12:00:00Z".into()))
            );
            serde_json::json!({ "routing_key": message.routing_key, "payload": payload })
        })
        .collect()
}

/// Translates every file of a set and compares with its expected file.
fn check_set(corpus: &Path, set: &str, totals: &mut Totals) {
    let expected: BTreeMap<String, Value> =
        serde_json::from_slice(&fs::read(corpus.join(format!("{set}.expected.json"))).unwrap())
            .unwrap();
    let files = pulse_test_corpus::files_under(&corpus.join(set));
    assert_eq!(
        files.len(),
        expected.len(),
        "{set}: files and expectations differ in number"
    );
    let clock = chrono::DateTime::parse_from_rfc3339("2015-08-13T12:00:00Z")
        .unwrap()
        .to_utc();
    let options = Options::default().with_clock(pulse_translator::Clock::Fixed(clock));
    let mut failures = Vec::new();
    for file in files {
        let name = file
            .strip_prefix(corpus.join(set))
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let want = &expected[&name];
        let want_messages = want["normalized"].as_array().unwrap();
        let body = fs::read(&file).unwrap();
        match (buildbot::translate(&body, &options), want["error"].as_str()) {
            (Ok(messages), None) => {
                let ours = our_messages(&messages);
                if &ours != want_messages {
                    failures.push(format!(
                        "{name}: got\n{}\nwant\n{}",
                        serde_json::to_string_pretty(&ours).unwrap(),
                        serde_json::to_string_pretty(want_messages).unwrap()
                    ));
                }
                if messages.is_empty() {
                    totals.ignored += 1;
                }
                totals.messages += messages.len();
            }
            (Err(error), Some(class)) => {
                if error.reference_class() != Some(class) {
                    failures.push(format!(
                        "{name}: error {error} ({:?}), want {class}",
                        error.reference_class()
                    ));
                }
                assert!(
                    error.routing_key().is_some(),
                    "{name}: error without routing key: {error}"
                );
                assert!(want_messages.is_empty());
                totals.errors += 1;
            }
            (Ok(messages), Some(class)) => {
                failures.push(format!("{name}: {} messages, want {class}", messages.len()))
            }
            (Err(error), None) => failures.push(format!("{name}: error {error}, want messages")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures in {set}:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn buildbot_messages_translate_as_the_reference_did() {
    let Some(corpus) = corpus() else { return };
    let mut totals = Totals::default();
    check_set(&corpus, "buildbot-raw", &mut totals);
    check_set(&corpus, "buildbot-unittest-2013", &mut totals);
    assert_eq!(totals.messages, 281, "{totals:?}");
    assert_eq!(totals.errors, 15, "{totals:?}");
    assert_eq!(totals.ignored, 1, "{totals:?}");
}

#[test]
fn expected_messages_round_trip_through_normalized() {
    let Some(corpus) = corpus() else { return };
    let mut count = 0;
    for set in ["buildbot-raw", "buildbot-unittest-2013"] {
        let expected: BTreeMap<String, Value> =
            serde_json::from_slice(&fs::read(corpus.join(format!("{set}.expected.json"))).unwrap())
                .unwrap();
        for message in expected
            .values()
            .flat_map(|want| want["normalized"].as_array().unwrap())
        {
            let key = message["routing_key"].as_str().unwrap();
            let body = serde_json::to_vec(&message["payload"]).unwrap();
            let record = normalized::parse(key, &body).unwrap_or_else(|e| panic!("{key}: {e}"));
            assert_eq!(normalized::routing_key(&record).as_deref(), Some(key));
            assert_eq!(
                serde_json::to_value(&record).unwrap(),
                message["payload"],
                "{key}"
            );
            count += 1;
        }
    }
    assert_eq!(count, 281);
}

#[test]
fn mozmill_ci_payloads_parse() {
    let Some(corpus) = corpus() else { return };
    let mut files = pulse_test_corpus::files_under(&corpus.join("normalized-mozmill-ci"));
    files.retain(|f| f.extension().is_some_and(|e| e == "json" || e == "log"));
    assert_eq!(files.len(), 19);
    let mut parsed = 0;
    for file in files {
        let body = fs::read(&file).unwrap();
        let value: Value = serde_json::from_slice(&body).unwrap();
        // These files carry no routing key: make the one the reference
        // would have used from the payload itself.
        let key = format!(
            "build.{}.{}.{}.{}",
            value["tree"].as_str().unwrap_or("tree"),
            value["platform"].as_str().unwrap_or("platform"),
            value["buildtype"].as_str().unwrap_or("opt"),
            value["key"]
                .as_str()
                .map_or("builder", |k| k.split('.').nth(1).unwrap()),
        );
        let result: Result<_, Error> = normalized::parse(&key, &body);
        if file.file_name().unwrap() == "funsize_original_nightly_build.log" {
            // A Taskcluster message that reached the normalized exchange.
            let error = result.unwrap_err();
            assert!(
                error.to_string().contains("bad normalized payload"),
                "{error}"
            );
            continue;
        }
        let record = result.unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert_eq!(
            record.job().unwrap().tree,
            value["tree"],
            "{}",
            file.display()
        );
        assert_eq!(
            record
                .job()
                .unwrap()
                .timestamp
                .map(|time| time.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                .as_deref(),
            value["timestamp"].as_str()
        );
        // What the payload has survives the trip back.
        let back = serde_json::to_value(&record).unwrap();
        for (field, want) in value.as_object().unwrap() {
            assert_eq!(&back[field], want, "{}: {field}", file.display());
        }
        parsed += 1;
    }
    assert_eq!(parsed, 18);
}
