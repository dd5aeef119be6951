//! Filter decisions per second over the corpus's records.
//!
//! `cargo bench -p pulse-filter`. Records come from the reference
//! translator's expected payloads in the shared corpus; without the corpus
//! (or if the record types no longer read them) hand-built records are
//! used and the table says so.

use std::hint::black_box;
use std::time::{Duration, Instant};

use pulse_filter::Filter;
use pulse_translator::{BuildRecord, Record, TestRecord};

use pulse_test_corpus::CORPUS;

fn corpus_records() -> Result<Vec<Record>, String> {
    let mut records = Vec::new();
    for name in [
        "buildbot-raw.expected.json",
        "buildbot-unittest-2013.expected.json",
    ] {
        let path = format!("{CORPUS}/{name}");
        let text = std::fs::read_to_string(&path).map_err(|err| format!("{path}: {err}"))?;
        let expected: serde_json::Value =
            serde_json::from_str(&text).map_err(|err| format!("{path}: {err}"))?;
        let files = expected.as_object().ok_or("corpus is not an object")?;
        for entry in files.values() {
            for message in entry["normalized"]
                .as_array()
                .ok_or("normalized is not a list")?
            {
                let key = message["routing_key"].as_str().unwrap_or_default();
                let payload = message["payload"].clone();
                let record = if key.starts_with("build.") {
                    serde_json::from_value::<BuildRecord>(payload).map(Record::Build)
                } else {
                    serde_json::from_value::<TestRecord>(payload).map(Record::Test)
                };
                records.push(record.map_err(|err| format!("{key}: {err}"))?);
            }
        }
    }
    Ok(records)
}

fn hand_built_records() -> Vec<Record> {
    let mut records = Vec::new();
    for (i, tree) in ["mozilla-central", "try", "mozilla-aurora", "mozilla-beta"]
        .iter()
        .enumerate()
    {
        for platform in ["linux", "linux64", "win32", "macosx64", "android"] {
            let buildtype = ["opt", "debug", "pgo"][i % 3];
            let job = serde_json::from_value(serde_json::json!({
                "key": "build.bench", "tree": tree, "platform": platform,
                "buildtype": buildtype,
                "product": if i % 2 == 0 { Some("firefox") } else { None },
            }))
            .expect("a minimal job deserializes");
            records.push(Record::Build(BuildRecord {
                job: Clone::clone(&job),
                tags: vec!["nightly".into(), "l10n".into()],
            }));
            records.push(Record::Test(TestRecord {
                job,
                os: "fedora64".into(),
                test: "mochitest-1".into(),
                talos: i % 2 == 1,
            }));
        }
    }
    records
}

/// Decisions per second, running the filter over the records for at least
/// `budget`.
fn decisions_per_second(filter: &Filter, records: &[Record], budget: Duration) -> (f64, usize) {
    let start = Instant::now();
    let (mut decisions, mut kept) = (0u64, 0usize);
    while start.elapsed() < budget {
        for _ in 0..100 {
            for record in records {
                kept += usize::from(filter.matches(black_box(record)));
            }
        }
        decisions += 100 * records.len() as u64;
    }
    (decisions as f64 / start.elapsed().as_secs_f64(), kept)
}

fn main() {
    let (records, source) = match corpus_records() {
        Ok(records) => {
            let source = format!("{} corpus records", records.len());
            (records, source)
        }
        Err(err) => {
            eprintln!("corpus unusable ({err}); falling back to hand-built records");
            let records = hand_built_records();
            let source = format!("{} hand-built records (corpus unusable)", records.len());
            (records, source)
        }
    };
    let filters = [
        ("default (mozilla-central, no talos)", Filter::default()),
        (
            "any tree, talos",
            Filter::builder().any_tree().talos(true).build().unwrap(),
        ),
        (
            "every rule set",
            Filter::builder()
                .trees([
                    "mozilla-central",
                    "mozilla-aurora",
                    "try",
                    "mozilla-beta",
                    "mozilla-release",
                ])
                .platforms(["linux", "linux64", "win32", "win64", "macosx64", "android"])
                .products(["firefox", "mobile", "b2g", "none"])
                .buildtypes(["opt", "debug", "pgo"])
                .tests([
                    "mochitest-1",
                    "mochitest-2",
                    "mochitest-3",
                    "reftest",
                    "xpcshell",
                    "tp5",
                ])
                .buildtag_groups([vec!["nightly", "l10n"], vec!["release"], vec!["pgo"]])
                .talos(true)
                .build()
                .unwrap(),
        ),
        (
            "explain: mozilla-central linux64 (rejections allocate)",
            Filter::builder().platforms(["linux64"]).build().unwrap(),
        ),
    ];
    println!("Filter decisions over {source} (release build, one thread)\n");
    println!("| filter | kept per pass | decisions/s | ns/decision |");
    println!("|---|---:|---:|---:|");
    let budget = Duration::from_millis(500);
    for (name, filter) in &filters[..3] {
        let (rate, _) = decisions_per_second(filter, &records, budget);
        let kept = records
            .iter()
            .filter(|record| filter.matches(record))
            .count();
        println!(
            "| {name} | {kept}/{} | {rate:.3e} | {:.1} |",
            records.len(),
            1e9 / rate
        );
    }
    let (name, filter) = &filters[3];
    let start = Instant::now();
    let mut explained = 0u64;
    while start.elapsed() < budget {
        for record in &records {
            black_box(filter.explain(black_box(record)).is_ok());
        }
        explained += records.len() as u64;
    }
    let rate = explained as f64 / start.elapsed().as_secs_f64();
    let kept = records
        .iter()
        .filter(|record| filter.matches(record))
        .count();
    println!(
        "| {name} | {kept}/{} | {rate:.3e} | {:.1} |",
        records.len(),
        1e9 / rate
    );
}
