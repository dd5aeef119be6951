//! The in-process source (no broker): replays of the corpus, panicking
//! callbacks, the log file and the dead-letter file.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{corpus_or_skip, multiset, raw_corpus, translate_raw, unique, wait_until, WAIT};
use pulse_build_monitor::PoolConfig;
use pulse_build_monitor::{replay, Filter, Message, Monitor, Record};
use serde_json::Value;

#[derive(Default)]
struct Received {
    messages: Vec<Message>,
    records: Vec<Record>,
}

fn every_tree() -> Filter {
    Filter::builder().any_tree().talos(true).build().unwrap()
}

/// A file in the temporary directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str) -> TempFile {
        TempFile(std::env::temp_dir().join(unique(name)))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn replaying_the_corpus_gives_what_the_translator_gives() {
    let Some(corpus) = corpus_or_skip() else {
        return;
    };
    let received = Arc::new(Mutex::new(Received::default()));
    let (on_message, on_build, on_test) = (received.clone(), received.clone(), received.clone());
    let monitor = Monitor::builder()
        .filter(every_tree())
        .on_message(move |m| on_message.lock().unwrap().messages.push(m.message.clone()))
        .on_build(move |b| on_build.lock().unwrap().records.push(Record::Build(b)))
        .on_test(move |t| on_test.lock().unwrap().records.push(Record::Test(t)))
        .replay(&[
            corpus.join("buildbot-unittest-2013"),
            corpus.join("buildbot-raw"),
        ])
        .unwrap()
        .start()
        .unwrap();
    let report = monitor.join();
    assert!(!monitor.is_alive());
    assert!(report.is_complete(), "{report:?}");
    assert_eq!(monitor.queue_name(), None);

    let originals = raw_corpus(&corpus);
    let expected: Vec<Record> = originals
        .iter()
        .flat_map(|m| translate_raw(m).unwrap_or_default())
        .collect();
    let received = received.lock().unwrap();
    assert_eq!(multiset(&received.records), multiset(&expected));
    let mut keys: Vec<&str> = received
        .messages
        .iter()
        .map(|m| m.routing_key.as_str())
        .collect();
    let mut sent: Vec<&str> = originals.iter().map(|m| m.routing_key.as_str()).collect();
    keys.sort();
    sent.sort();
    assert_eq!(keys, sent);
    // The corpus README's counts.
    let stats = report.stats;
    assert_eq!(stats.received, 130, "{stats:?}");
    assert_eq!(stats.translated, 281, "{stats:?}");
    assert_eq!(stats.matched, 281, "{stats:?}");
    assert_eq!(stats.translation_errors, 15, "{stats:?}");
    assert_eq!(stats.dispatched, 130 + 281, "{stats:?}");
    assert_eq!(stats.acknowledged, 0, "{stats:?}");
}

#[test]
fn replaying_normalized_payloads_gives_them_back() {
    let Some(corpus) = corpus_or_skip() else {
        return;
    };
    let dir = corpus.join("normalized-mozmill-ci");
    let records = Arc::new(Mutex::new(Vec::new()));
    let on_build = records.clone();
    let monitor = Monitor::builder()
        .filter(every_tree())
        .on_build(move |b| on_build.lock().unwrap().push(b))
        .replay(&[&dir])
        .unwrap()
        .start()
        .unwrap();
    let report = monitor.join();
    // 18 normalized build payloads, and one Taskcluster message (funsize,
    // 2016) that has no Treeherder route and so translates to nothing.
    let (mut expected, mut taskcluster) = (Vec::new(), Vec::new());
    for path in common::files_under(&dir) {
        if path.file_name().unwrap() == "SOURCES.txt" {
            continue;
        }
        let payload: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        if payload.get("buildtype").is_some() {
            expected.push(payload);
        } else {
            assert!(
                payload.pointer("/status/taskId").is_some(),
                "{}",
                path.display()
            );
            taskcluster.push(payload);
        }
    }
    assert_eq!((expected.len(), taskcluster.len()), (18, 1));
    let stats = report.stats;
    assert_eq!(stats.received, 19, "{stats:?}");
    assert_eq!(stats.translated, 18, "{stats:?}");
    assert_eq!(stats.translation_errors, 1, "{stats:?}");
    let got: Vec<Value> = records
        .lock()
        .unwrap()
        .iter()
        .map(|b| serde_json::to_value(Record::Build(b.clone())).unwrap())
        .collect();
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    // Each payload comes back as the build record it describes.
    let parsed: Vec<String> = expected
        .iter()
        .map(|p| {
            let record: pulse_build_monitor::BuildRecord =
                serde_json::from_value(p.clone()).unwrap();
            serde_json::to_value(Record::Build(record))
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        sorted(got.iter().map(Value::to_string).collect()),
        sorted(parsed)
    );
}

#[test]
fn panics_are_counted_and_logged_and_dead_letters_replay() {
    let Some(corpus) = corpus_or_skip() else {
        return;
    };
    let log = TempFile::new("monitor-test-log");
    let dead = TempFile::new("monitor-test-dead-letters");
    let originals = raw_corpus(&corpus);

    // Every mochitest-3 test callback panics; everything else must still be
    // served.
    let panicking = |r: &Record| matches!(r, Record::Test(t) if t.test == "mochitest-3");
    let expected: Vec<Record> = originals
        .iter()
        .flat_map(|m| translate_raw(m).unwrap_or_default())
        .collect();
    let expected_panics = expected.iter().filter(|r| panicking(r)).count();
    assert!(expected_panics > 1);

    let served = Arc::new(Mutex::new(Vec::new()));
    let raw_count = Arc::new(Mutex::new(0usize));
    let (on_build, on_test, on_message) = (served.clone(), served.clone(), raw_count.clone());
    let monitor = Monitor::builder()
        .filter(every_tree())
        .callback_pool(PoolConfig::default().with_workers(2))
        .log_file(&log.0)
        .dead_letter_file(&dead.0)
        .on_message(move |_| *on_message.lock().unwrap() += 1)
        .on_build(move |b| on_build.lock().unwrap().push(Record::Build(b)))
        .on_test(move |t| {
            if t.test == "mochitest-3" {
                panic!("boom in {}", t.job.key);
            }
            on_test.lock().unwrap().push(Record::Test(t));
        })
        .messages(originals.clone())
        .start()
        .unwrap();
    let report = monitor.join();
    assert!(report.is_complete(), "{report:?}");
    assert_eq!(report.stats.callback_panics, expected_panics as u64);
    assert_eq!(*raw_count.lock().unwrap(), originals.len());
    let served: Vec<Record> = served.lock().unwrap().clone();
    let unpanicked: Vec<Record> = expected.iter().filter(|r| !panicking(r)).cloned().collect();
    assert_eq!(multiset(&served), multiset(&unpanicked));

    // The log file names each panic (with its message) and each message the
    // translator rejected.
    let text = std::fs::read_to_string(&log.0).unwrap();
    let panics: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(" panicked: boom in "))
        .collect();
    assert_eq!(panics.len(), expected_panics, "{text}");
    assert!(
        panics.iter().all(|l| l.contains("(test callback)")),
        "{text}"
    );
    let failing: Vec<&Message> = originals
        .iter()
        .filter(|m| translate_raw(m).is_err())
        .collect();
    assert_eq!(failing.len(), 15);
    let errors: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("cannot translate"))
        .collect();
    assert_eq!(errors.len(), failing.len(), "{text}");
    for message in &failing {
        assert!(
            errors
                .iter()
                .any(|l| l.contains(&format!("{:?}", message.routing_key))),
            "{} not in the log:\n{text}",
            message.routing_key
        );
    }

    // Each dead letter replays as the message that failed.
    let letters = std::fs::read_to_string(&dead.0).unwrap();
    assert_eq!(letters.lines().count(), failing.len());
    for line in letters.lines() {
        let letter: Value = serde_json::from_str(line).unwrap();
        assert!(!letter["error"].as_str().unwrap().is_empty(), "{line}");
    }
    let replayed = replay::load_file(&dead.0).unwrap();
    let as_json = |m: &Message| {
        (
            m.exchange.clone(),
            m.routing_key.clone(),
            serde_json::from_slice::<Value>(&m.body).unwrap(),
        )
    };
    let mut got: Vec<String> = replayed
        .iter()
        .map(|m| format!("{:?}", as_json(m)))
        .collect();
    let mut want: Vec<String> = failing
        .iter()
        .map(|m| format!("{:?}", as_json(m)))
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);

    // And fails the same way again.
    let errors = Arc::new(Mutex::new(BTreeMap::<String, usize>::new()));
    let on_message = errors.clone();
    let monitor = Monitor::builder()
        .on_message(move |m| {
            *on_message
                .lock()
                .unwrap()
                .entry(m.routing_key.clone())
                .or_default() += 1
        })
        .replay(&[&dead.0])
        .unwrap()
        .start()
        .unwrap();
    let report = monitor.join();
    assert_eq!(report.stats.translation_errors, 15, "{:?}", report.stats);
    assert_eq!(report.stats.translated, 0, "{:?}", report.stats);
    assert_eq!(errors.lock().unwrap().values().sum::<usize>(), 15);
}

/// Rules over the in-process source give what the translator gives,
/// filtered by the same rules written out by hand.
#[test]
fn in_process_messages_match_the_filter() {
    let Some(corpus) = corpus_or_skip() else {
        return;
    };
    let originals = raw_corpus(&corpus);
    let filter = Filter::builder()
        .trees(["mozilla-inbound", "try"])
        .buildtypes(["debug"])
        .build()
        .unwrap();
    let records = Arc::new(Mutex::new(Vec::new()));
    let (on_build, on_test) = (records.clone(), records.clone());
    let monitor = Monitor::builder()
        .filter(filter.clone())
        .on_build(move |b| on_build.lock().unwrap().push(Record::Build(b)))
        .on_test(move |t| on_test.lock().unwrap().push(Record::Test(t)))
        .messages(originals.clone())
        .start()
        .unwrap();
    let report = monitor.join();
    let expected: Vec<Record> = originals
        .iter()
        .flat_map(|m| translate_raw(m).unwrap_or_default())
        .filter(|r| {
            let job = r.job().expect("buildbot records are builds and tests");
            ["mozilla-inbound", "try"].contains(&job.tree.as_str())
                && job.buildtype.as_str() == "debug"
                && !matches!(r, Record::Test(t) if t.talos)
        })
        .collect();
    assert!(!expected.is_empty());
    let got = records.lock().unwrap();
    assert_eq!(multiset(got.iter()), multiset(&expected));
    // The seed's `timestamp`: when the message was received.
    assert!(got.iter().all(|r| r.job().unwrap().timestamp.is_some()));
    assert_eq!(report.stats.matched, expected.len() as u64);
}

/// A stop that comes after the last message was handed to the pool still
/// ends at its deadline, leaving the queued calls unrun and reported.
#[test]
fn stop_ends_a_replay_whose_messages_are_all_handed_out() {
    let messages: Vec<Message> = (0..50)
        .map(|n| {
            Message::new(
                "exchange/build/",
                format!("build.slow.{n}.finished"),
                b"{}".to_vec(),
            )
        })
        .collect();
    let (started_tx, started) = crossbeam_channel::unbounded();
    // The first call holds the only worker until the test lets go, so no
    // other call can run (or finish) before the stop, however the threads
    // are scheduled.
    let (release, gate) = crossbeam_channel::bounded::<()>(0);
    let monitor = Monitor::builder()
        .callback_pool(PoolConfig::default().with_workers(1).with_queue_bound(100))
        .on_message(move |_| {
            let _ = started_tx.send(());
            let _ = gate.recv_timeout(WAIT);
        })
        .messages(messages)
        .start()
        .unwrap();
    started.recv_timeout(WAIT).expect("the first call started");
    // The monitor's thread hands the other 49 calls over while the first
    // runs; wait for that instead of assuming it already happened.
    wait_until("all 50 calls handed to the pool", || {
        monitor.stats().dispatched == 50
    });
    let report = monitor.stop_timeout(Duration::from_millis(50));
    drop(release);
    assert_eq!(report.stats.received, 50, "every message was handed out");
    assert_eq!(report.stats.dispatched, 50, "{report:?}");
    assert_eq!(report.stats.connected, None, "no broker here");
    assert_eq!(
        report.still_running.len(),
        1,
        "the blocked call is reported, not waited for: {report:?}"
    );
    assert_eq!(
        report.abandoned.len(),
        49,
        "the queued calls are abandoned, not waited for: {report:?}"
    );
}
