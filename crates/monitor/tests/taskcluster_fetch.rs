//! Taskcluster messages of 2019 (`shared/corpus/taskcluster/treeherder-2019/`)
//! carry no tags and their routing keys name no push: the monitor must fetch
//! each task's definition. A local queue serves the definitions Treeherder
//! saw, and what the callbacks get must agree with the jobs Treeherder made
//! of the same messages. Feature `fetch` only.
#![cfg(feature = "fetch")]

mod taskcluster_support;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pulse_build_monitor::{Filter, Message, Monitor, Record, Source, TaskDefinitionFetcher};
use pulse_translator::ErrorKind as TranslateErrorKind;
use serde_json::Value;
use taskcluster_support::{
    collection_buildtype, corpus_dir, dead_letters, generic_family, kind_of, read_json,
    DefinitionServer,
};

struct Corpus {
    messages: Vec<Message>,
    tasks: Value,
    jobs: Value,
}

fn corpus() -> Option<Corpus> {
    let dir = corpus_dir("treeherder-2019")?;
    let pulse = read_json(&dir.join("taskcluster_pulse_messages.json"));
    let messages = pulse
        .as_object()
        .unwrap()
        .values()
        .map(|entry| {
            Message::new(
                entry["exchange"].as_str().unwrap(),
                entry["routes"].as_str().unwrap(),
                serde_json::to_vec(&entry["payload"]).unwrap(),
            )
        })
        .collect();
    Some(Corpus {
        messages,
        tasks: read_json(&dir.join("taskcluster_tasks.json")),
        jobs: read_json(&dir.join("taskcluster_transformed_jobs.json")),
    })
}

fn definitions(tasks: &Value) -> HashMap<String, Vec<u8>> {
    tasks
        .as_object()
        .unwrap()
        .iter()
        .map(|(id, task)| (id.clone(), serde_json::to_vec(task).unwrap()))
        .collect()
}

/// Treeherder's result names as buildbot result codes.
fn result_code(result: &str) -> Option<i64> {
    match result {
        "unknown" => None,
        "success" => Some(0),
        "testfailed" | "busted" => Some(2),
        "exception" => Some(4),
        "retry" => Some(5),
        "usercancel" | "superseded" => Some(6),
        other => panic!("add Treeherder result {other:?} to the test's table"),
    }
}

/// Runs `messages` through a monitor for every tree with `fetcher`, and
/// returns the records its callbacks got, the stats, and the dead letters.
fn run(
    messages: Vec<Message>,
    fetcher: Option<TaskDefinitionFetcher>,
) -> (
    Vec<Record>,
    pulse_build_monitor::Stats,
    Vec<(String, String)>,
) {
    let records = Arc::new(Mutex::new(Vec::new()));
    let (builds, tests, tasks) = (records.clone(), records.clone(), records.clone());
    let dead = std::env::temp_dir().join(format!("tc-fetch-{}.jsonl", pulse_wire::random_label()));
    let mut builder = Monitor::builder()
        .source(Source::Taskcluster { progress: true })
        .filter(
            Filter::builder()
                .any_tree()
                .any_kind()
                .talos(true)
                .build()
                .unwrap(),
        )
        .taskcluster_root_url("https://taskcluster.net")
        .on_build(move |b| builds.lock().unwrap().push(Record::Build(b)))
        .on_test(move |t| tests.lock().unwrap().push(Record::Test(t)))
        .on_task(move |t| tasks.lock().unwrap().push(Record::Task(t)))
        .dead_letter_file(&dead)
        .messages(messages);
    if let Some(fetcher) = fetcher {
        builder = builder.task_definitions(fetcher);
    }
    let report = builder.start().unwrap().join();
    assert!(report.is_complete(), "{report:?}");
    let letters = dead_letters(&dead);
    let _ = std::fs::remove_file(&dead);
    let records = std::mem::take(&mut *records.lock().unwrap());
    (records, report.stats, letters)
}

fn task_id_of(routing_key: &str) -> &str {
    routing_key.split('.').nth(1).unwrap()
}

#[test]
fn fetched_definitions_give_the_jobs_treeherder_made() {
    let Some(corpus) = corpus() else {
        return;
    };
    assert_eq!(corpus.messages.len(), 91);
    let server = DefinitionServer::start(definitions(&corpus.tasks));
    let fetcher = TaskDefinitionFetcher::new(&server.root_url).unwrap();

    // Every message twice: the second time the definitions come from the cache.
    let mut messages = corpus.messages.clone();
    messages.extend(corpus.messages.clone());
    let (records, stats, letters) = run(messages, Some(fetcher));

    let requests = server.requests();
    assert_eq!(requests.len(), 91, "one task, one definition");
    assert!(requests.values().all(|&n| n == 1), "{requests:?}");

    assert_eq!(letters, [], "every message of the corpus is well formed");

    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut seen: BTreeMap<String, &Record> = BTreeMap::new();
    for record in &records {
        let task_id = match record {
            Record::Task(task) => task.task_id.clone(),
            _ => record.job().unwrap().task_id.clone().unwrap(),
        };
        if let Some(first) = seen.insert(task_id.clone(), record) {
            let mut first = first.clone();
            match (&mut first, record) {
                (Record::Task(first), Record::Task(task)) => first.timestamp = task.timestamp,
                (first, record) => {
                    first.job_mut().unwrap().timestamp = record.job().unwrap().timestamp
                }
            }
            assert_eq!(
                &first, record,
                "{task_id}: the cached definition says the same"
            );
            continue;
        }
        let expected = &corpus.jobs[&task_id];
        let th = &expected["job"];
        let result = th["result"].as_str().unwrap();
        assert_eq!(
            record.result().map(|r| r.as_str()),
            Some(result),
            "{task_id}: Treeherder's result"
        );
        let Some(job) = record.job() else {
            *counts.entry("task").or_default() += 1;
            continue;
        };
        assert!(th.is_object(), "{task_id}: not in Treeherder's jobs");
        assert_eq!(
            job.revision.as_deref(),
            expected["revision"].as_str(),
            "{task_id}"
        );
        assert_eq!(
            job.platform,
            generic_family(th["machine_platform"]["platform"].as_str().unwrap()),
            "{task_id}"
        );
        assert_eq!(
            job.buildtype,
            collection_buildtype(&th["option_collection"]),
            "{task_id}"
        );
        assert_eq!(job.tier.map(u64::from), th["tier"].as_u64(), "{task_id}");
        assert_eq!(
            Some(kind_of(record)),
            corpus.tasks[&task_id]["extra"]["treeherder"]["jobKind"].as_str(),
            "{task_id}"
        );
        assert_eq!(
            job.run_id.map(u64::from),
            th["taskcluster_retry_id"].as_u64()
        );
        assert_eq!(
            job.status.map(|status| status.code()),
            result_code(result),
            "{task_id}: {result}"
        );
        if result != "unknown" {
            *counts.entry("with result").or_default() += 1;
            let log = th["log_references"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["name"] == "live_backing_log")
                .and_then(|l| l["url"].as_str());
            assert_eq!(job.logurl.as_deref(), log, "{task_id}");
        }
        *counts.entry(kind_of(record)).or_default() += 1;
    }
    // Actions and unfinished builds and tests are task records.
    let want: BTreeMap<&str, usize> = [
        ("build", 1),
        ("task", 78),
        ("test", 12),
        ("with result", 13),
    ]
    .into();
    assert_eq!(counts, want);
    assert_eq!(records.len(), 2 * 91);
    assert_eq!(stats.received, 182);
    assert_eq!(stats.translated, 182);
    assert_eq!(stats.matched, 182);
    assert_eq!(stats.translation_errors, 0);
}

#[test]
fn without_definitions_every_message_is_a_counted_error() {
    let Some(corpus) = corpus() else {
        return;
    };
    // Taskcluster errors carry no routing key: they read as their kind.
    let missing_route = |key: &str| {
        TranslateErrorKind::MissingTreeherderRoute {
            task_id: task_id_of(key).to_string(),
        }
        .to_string()
    };
    let check = |what: &str, (records, stats, letters): (Vec<Record>, _, Vec<(String, String)>)| {
        let stats: pulse_build_monitor::Stats = stats;
        assert!(records.is_empty(), "{what}");
        assert_eq!(
            (stats.received, stats.translation_errors),
            (91, 91),
            "{what}"
        );
        assert_eq!(letters.len(), 91, "{what}");
        for (key, error) in &letters {
            assert_eq!(error, &missing_route(key), "{what}: {key}");
        }
    };

    // No fetcher: the messages do not say enough.
    check("no fetcher", run(corpus.messages.clone(), None));

    // A queue that knows none of the tasks: 404s are not cached, and the
    // message fails with what the translator said.
    let server = DefinitionServer::start(HashMap::new());
    let fetcher = TaskDefinitionFetcher::new(&server.root_url).unwrap();
    check("unknown tasks", run(corpus.messages.clone(), Some(fetcher)));
    assert_eq!(server.requests().len(), 91);

    // A queue that is down: each message fails after the client's retries
    // (three refused connections, 150 ms of backoff).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let root = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let fetcher = TaskDefinitionFetcher::new(root)
        .unwrap()
        .timeout(Duration::from_secs(2));
    check("queue down", run(corpus.messages, Some(fetcher)));
}
