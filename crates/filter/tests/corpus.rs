//! The filter over the real records in the shared corpus: the reference
//! translator's expected payloads.

use std::path::PathBuf;

use pulse_filter::{Filter, Rule};
use pulse_translator::{BuildRecord, Record, TestRecord};

use pulse_test_corpus::CORPUS;
const EXPECTED: [&str; 2] = [
    "buildbot-raw.expected.json",
    "buildbot-unittest-2013.expected.json",
];

/// Each expected payload with its routing key, or `None` when the corpus is
/// absent outside CI.
fn corpus_records() -> Option<Vec<(String, Record)>> {
    let mut records = Vec::new();
    for name in EXPECTED {
        let path = PathBuf::from(CORPUS).join(name);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if std::env::var("CI").as_deref() == Ok("true") => {
                panic!("corpus file {} is missing under CI: {err}", path.display())
            }
            Err(err) => {
                eprintln!(
                    "SKIPPING corpus test: cannot read {}: {err}",
                    path.display()
                );
                return None;
            }
        };
        let expected: serde_json::Value = serde_json::from_str(&text).expect("corpus is JSON");
        for entry in expected
            .as_object()
            .expect("corpus maps files to results")
            .values()
        {
            for message in entry["normalized"]
                .as_array()
                .expect("normalized is a list")
            {
                let key = message["routing_key"]
                    .as_str()
                    .expect("routing key")
                    .to_owned();
                let payload = message["payload"].clone();
                let record = if key.starts_with("build.") {
                    Record::Build(serde_json::from_value::<BuildRecord>(payload).expect(&key))
                } else {
                    Record::Test(serde_json::from_value::<TestRecord>(payload).expect(&key))
                };
                records.push((key, record));
            }
        }
    }
    Some(records)
}

#[test]
fn corpus_records_filter_consistently() {
    let Some(records) = corpus_records() else {
        return;
    };
    assert_eq!(
        records.len(),
        281,
        "the corpus README counts 281 normalized messages"
    );

    // The routing key's first part says build, unittest or talos; the talos
    // rule must drop exactly the talos ones when every tree is kept.
    let every_tree = Filter::builder().any_tree().build().unwrap();
    let talos_keys = records
        .iter()
        .filter(|(key, _)| key.starts_with("talos."))
        .count();
    let dropped_as_talos = records
        .iter()
        .filter(|(_, record)| matches!(every_tree.explain(record), Err(why) if why.rule() == Rule::Talos))
        .count();
    assert!(talos_keys > 0, "the 2013 set has talos runs");
    assert_eq!(dropped_as_talos, talos_keys);
    let with_talos = Filter::builder().any_tree().talos(true).build().unwrap();
    assert!(records.iter().all(|(_, record)| with_talos.matches(record)));

    // The default filter keeps exactly the mozilla-central records that are
    // not talos runs.
    let default = Filter::default();
    for (key, record) in &records {
        let expected =
            record.job().unwrap().tree == "mozilla-central" && !key.starts_with("talos.");
        assert_eq!(default.matches(record), expected, "{key}");
        assert_eq!(default.explain(record).is_ok(), expected, "{key}");
    }

    // Nightly l10n repacks by tag; the routing key names the tags too.
    let nightly_l10n = Filter::builder()
        .any_tree()
        .buildtags(["nightly", "l10n"])
        .build()
        .unwrap();
    let mut repacks = 0;
    for (key, record) in &records {
        if let Record::Build(_) = record {
            let parts: Vec<&str> = key.split('.').collect();
            let expected = parts.contains(&"nightly") && parts.contains(&"l10n");
            assert_eq!(nightly_l10n.matches(record), expected, "{key}");
            repacks += usize::from(expected);
        }
    }
    assert!(repacks > 0, "the 2015 set has nightly l10n repacks");
}
