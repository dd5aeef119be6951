//! Raw buildbot messages from the corpus through the real broker: what each
//! callback receives is what the translator gives in-process for the same
//! bodies, filtered by rules checked here independently of `pulse-filter`.
//!
//! Other tests publish to `exchange/build/` at the same time, and a raw
//! binding (`#`) receives all of it: every corpus message is renamed to a
//! tree of this test's own, and only what carries that tree is compared.

mod common;

use pulse_test_support::BrokerCleanup;

use std::sync::{Arc, Mutex};

use common::{
    broker_or_skip, corpus_or_skip, multiset, publish_all, publisher, raw_corpus, translate_raw,
    unique, wait_until, with_tree,
};
use pulse_build_monitor::{Filter, Message, Monitor, Record, StopReport};

/// One monitor's filter, and the same rules written out by hand.
struct Case {
    name: &'static str,
    platforms: Option<&'static [&'static str]>,
    buildtypes: Option<&'static [&'static str]>,
    tests: Option<&'static [&'static str]>,
    talos: bool,
}

impl Case {
    fn filter(&self, tree: &str) -> Filter {
        let mut builder = Filter::builder().trees([tree]).talos(self.talos);
        if let Some(platforms) = self.platforms {
            builder = builder.platforms(platforms.iter().copied());
        }
        if let Some(buildtypes) = self.buildtypes {
            builder = builder.buildtypes(buildtypes.iter().copied());
        }
        if let Some(tests) = self.tests {
            builder = builder.tests(tests.iter().copied());
        }
        builder.build().unwrap()
    }

    /// The seed's rules: tree, platform and build type for every record;
    /// talos and test names for test records only.
    fn wants(&self, tree: &str, record: &Record) -> bool {
        let job = record.job().expect("buildbot records are builds and tests");
        let listed = |list: Option<&[&str]>, value: &str| list.is_none_or(|l| l.contains(&value));
        job.tree == tree
            && listed(self.platforms, &job.platform)
            && listed(self.buildtypes, job.buildtype.as_str())
            && match record {
                Record::Build(_) => true,
                Record::Test(test) => (self.talos || !test.talos) && listed(self.tests, &test.test),
                _ => false,
            }
    }
}

const CASES: [Case; 4] = [
    Case {
        name: "tree only, talos off",
        platforms: None,
        buildtypes: None,
        tests: None,
        talos: false,
    },
    Case {
        name: "tree only, talos on",
        platforms: None,
        buildtypes: None,
        tests: None,
        talos: true,
    },
    Case {
        name: "platforms and build types",
        platforms: Some(&["win32", "linux64", "macosx64"]),
        buildtypes: Some(&["debug"]),
        tests: None,
        talos: true,
    },
    Case {
        name: "tests, talos on",
        platforms: None,
        buildtypes: None,
        tests: Some(&["mochitest-3", "reftest", "dromaeojs", "chromez"]),
        talos: true,
    },
];

#[derive(Default)]
struct Received {
    messages: Vec<Message>,
    records: Vec<Record>,
}

#[test]
fn raw_corpus_through_the_broker_matches_in_process_translation() {
    let (Some(settings), Some(corpus)) = (broker_or_skip(), corpus_or_skip()) else {
        return;
    };
    let tree = unique("test");
    let originals = raw_corpus(&corpus);
    let ours: Vec<Message> = originals.iter().map(|m| with_tree(m, &tree)).collect();

    // Renaming the tree must not change what the translator makes of a
    // message, or this test would compare the wrong thing.
    let mut translation_errors = 0;
    for (original, renamed) in originals.iter().zip(&ours) {
        assert!(
            renamed.routing_key.contains(&tree),
            "{}",
            original.routing_key
        );
        match (translate_raw(original), translate_raw(renamed)) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a.len(), b.len(), "{}", original.routing_key);
                assert!(b.iter().all(|r| r.job().unwrap().tree == tree));
            }
            (Err(_), Err(_)) => translation_errors += 1,
            (a, b) => panic!("{}: {a:?} became {b:?}", original.routing_key),
        }
    }
    assert_eq!(translation_errors, 15, "the corpus README counts 15 errors");
    let all_records: Vec<Record> = ours
        .iter()
        .flat_map(|m| translate_raw(m).unwrap_or_default())
        .collect();
    assert_eq!(
        all_records.len(),
        281,
        "the corpus README counts 281 records"
    );

    let mut guards = Vec::new();
    let mut monitors = Vec::new();
    for (index, case) in CASES.iter().enumerate() {
        let label = unique(&format!("monitor-test-raw-{index}"));
        guards.push(BrokerCleanup::for_label(&settings, &label));
        let received = Arc::new(Mutex::new(Received::default()));
        let (on_message, on_build, on_test) =
            (received.clone(), received.clone(), received.clone());
        let mut settings = settings.clone();
        settings.connection_name.push_str(&format!("-{index}"));
        let monitor = Monitor::builder()
            .broker(settings)
            .label(label)
            .declare_exchanges(true)
            .filter(case.filter(&tree))
            .on_message(move |m| on_message.lock().unwrap().messages.push(m.message.clone()))
            .on_build(move |b| on_build.lock().unwrap().records.push(Record::Build(b)))
            .on_test(move |t| on_test.lock().unwrap().records.push(Record::Test(t)))
            .start()
            .unwrap();
        monitors.push((case, monitor, received));
    }

    let mut publisher = publisher(&settings);
    publish_all(&mut publisher, &ours);
    let is_ours = |m: &Message| {
        ours.iter()
            .any(|o| o.routing_key == m.routing_key && o.body == m.body)
    };

    let mut reports: Vec<StopReport> = Vec::new();
    for (case, monitor, received) in &monitors {
        wait_until(case.name, || {
            received
                .lock()
                .unwrap()
                .messages
                .iter()
                .filter(|m| is_ours(m))
                .count()
                >= ours.len()
        });
        reports.push(monitor.stop());
    }

    let mut talos_seen = Vec::new();
    for ((case, _, received), report) in monitors.iter().zip(&reports) {
        let received = received.lock().unwrap();
        assert!(report.is_complete(), "{}: {report:?}", case.name);

        // The raw callback got every message of ours, once, unfiltered, even
        // those the translator rejects.
        let mut got: Vec<&str> = received
            .messages
            .iter()
            .filter(|m| is_ours(m))
            .map(|m| m.routing_key.as_str())
            .collect();
        got.sort();
        let mut sent: Vec<&str> = ours.iter().map(|m| m.routing_key.as_str()).collect();
        sent.sort();
        assert_eq!(got, sent, "{}: raw callback", case.name);

        // The build and test callbacks got what in-process translation and
        // the hand-written rules give.
        let expected: Vec<Record> = all_records
            .iter()
            .filter(|r| case.wants(&tree, r))
            .cloned()
            .collect();
        assert!(
            !expected.is_empty(),
            "{}: a case that keeps nothing proves nothing",
            case.name
        );
        assert_eq!(
            multiset(&received.records),
            multiset(&expected),
            "{}: records",
            case.name
        );
        let talos = received
            .records
            .iter()
            .filter(|r| matches!(r, Record::Test(t) if t.talos))
            .count();
        if !case.talos {
            assert_eq!(talos, 0, "{}: talos with talos off", case.name);
        }
        talos_seen.push(talos);
        eprintln!(
            "{}: {} raw messages of ours, {} records ({talos} talos) of {} translated",
            case.name,
            sent.len(),
            received.records.len(),
            all_records.len()
        );

        // The in-process source, fed the same messages, gives the same.
        let in_process = Arc::new(Mutex::new(Vec::new()));
        let (on_build, on_test) = (in_process.clone(), in_process.clone());
        let local = Monitor::builder()
            .filter(case.filter(&tree))
            .on_build(move |b| on_build.lock().unwrap().push(Record::Build(b)))
            .on_test(move |t| on_test.lock().unwrap().push(Record::Test(t)))
            .messages(ours.clone())
            .start()
            .unwrap();
        assert!(local.join().is_complete());
        assert_eq!(
            multiset(in_process.lock().unwrap().iter()),
            multiset(&received.records),
            "{}: in-process and broker runs differ",
            case.name
        );

        // The counters agree with what the callbacks saw; other tests'
        // messages count too, so they are translated here as well.
        let stats = report.stats;
        let (mut translated, mut errors) = (0, 0);
        for message in &received.messages {
            match translate_raw(message) {
                Ok(records) => translated += records.len() as u64,
                Err(_) => errors += 1,
            }
        }
        let name = case.name;
        assert_eq!(
            stats.received,
            received.messages.len() as u64,
            "{name}: {stats:?}"
        );
        assert_eq!(stats.translated, translated, "{name}: {stats:?}");
        assert_eq!(stats.translation_errors, errors, "{name}: {stats:?}");
        assert!(errors >= 15, "{name}: {stats:?}");
        assert_eq!(
            stats.matched,
            received.records.len() as u64,
            "{name}: {stats:?}"
        );
        assert_eq!(
            stats.dispatched,
            (received.messages.len() + received.records.len()) as u64,
            "{name}: {stats:?}"
        );
        assert_eq!(stats.acknowledged, stats.received, "{name}: {stats:?}");
        assert_eq!(stats.callback_panics, 0, "{name}: {stats:?}");
    }
    // Talos on lets the corpus's talos runs through.
    assert_eq!(talos_seen[0], 0);
    assert!(talos_seen[1] > 0, "talos on: {talos_seen:?}");
    drop(monitors);
    drop(guards);
}
