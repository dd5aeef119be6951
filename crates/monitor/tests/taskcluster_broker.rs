//! The tagged Taskcluster messages of 2020 (`shared/corpus/taskcluster/
//! tagged-2020/`) through the real broker, and through the in-process
//! source: each callback's record agrees with the task's definition, and
//! every message the translator rejects is a counted translation error.
//!
//! Messages are published as the queue does: on the exchange of their
//! state, with a `primary.<taskId>.<runId>.…` routing key and the task's
//! routes in the `CC` header. Other tests may publish on the same exchanges
//! with the same routes, so the routing key's last (reserved) word carries
//! this run's own marker, and only records and dead letters with it count.
//!
//! With the feature `fetch`, the monitors also fetch task definitions from
//! a local queue, which places the partials builds that the tags alone
//! cannot.

mod taskcluster_support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pulse_build_monitor::{
    primary_routing_key, Filter, Message, Monitor, MonitorBuilder, Record, Source,
};
use pulse_translator::ErrorKind as TranslateErrorKind;
use serde_json::Value;
use taskcluster_support::{
    broker_or_skip, collection_buildtype, corpus_dir, dead_letters, generic_family, kind_of,
    read_json, treeherder_route,
};

/// True when the monitors complete messages with fetched definitions.
const FETCHES: bool = cfg!(feature = "fetch");

/// One corpus message, and what its task definition says about it.
struct Task {
    task_id: String,
    message: Message,
    label: Option<String>,
    tag_kind: Option<String>,
    #[cfg_attr(not(feature = "fetch"), allow(dead_code))]
    definition_bytes: Vec<u8>,
    routes: Vec<String>,
    job_kind: String,
    collection: Value,
    machine_platform: String,
}

impl Task {
    /// The record the definition describes: tree, revision, build type,
    /// kind and generic platform; `Err` with the kind of the translator's
    /// error (which says it as the error does) when the monitor must reject
    /// the message instead.
    fn expected(&self) -> Result<Expected, TranslateErrorKind> {
        let Some((tree, revision)) = treeherder_route(&self.routes) else {
            return Err(TranslateErrorKind::MissingTreeherderRoute {
                task_id: self.task_id.clone(),
            });
        };
        // The tags name a kind, which the kind table places; the
        // definition's jobKind, when fetched, says the same.
        let kind = if FETCHES {
            match self.job_kind.as_str() {
                "build" => "build",
                "test" => "test",
                _ => "other",
            }
        } else {
            pulse_translator::taskcluster::job_kind(
                self.tag_kind.as_deref().unwrap_or_default(),
                self.label.as_deref().unwrap_or_default(),
            )
            .as_str()
        };
        let placed = kind != "other";
        Ok(Expected {
            tree,
            revision,
            buildtype: placed.then(|| collection_buildtype(&self.collection).as_str()),
            kind,
            platform: placed.then(|| generic_family(&self.machine_platform).to_string()),
        })
    }
}

#[derive(Debug, PartialEq, Eq)]
struct Expected {
    tree: String,
    revision: String,
    /// For builds and tests only.
    buildtype: Option<&'static str>,
    kind: &'static str,
    /// For builds and tests only.
    platform: Option<String>,
}

fn got(record: &Record) -> Expected {
    let placed = !matches!(record, Record::Task(_));
    Expected {
        tree: record.tree().to_string(),
        revision: record.revision().unwrap_or_default().to_string(),
        buildtype: placed.then(|| record.buildtype().unwrap().as_str()),
        kind: kind_of(record),
        platform: placed.then(|| record.platform().unwrap().to_string()),
    }
}

/// The 15 messages, with `marker` as the routing key's last word.
fn tagged_tasks(dir: &Path, marker: &str) -> Vec<Task> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with("_pulse.json"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|name| {
            let body = std::fs::read(dir.join(name)).unwrap();
            let json: Value = serde_json::from_slice(&body).unwrap();
            let status = &json["status"];
            let task_id = status["taskId"].as_str().unwrap().to_string();
            let definition_path = dir.join(format!("task_{task_id}.json"));
            let definition = read_json(&definition_path);
            let routes: Vec<String> = definition["routes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| format!("route.{}", r.as_str().unwrap()))
                .collect();
            let run_id = json["runId"].as_u64().unwrap();
            let run = &status["runs"][run_id as usize];
            // The queue's key, its reserved last word replaced by the test's marker.
            let routing_key = primary_routing_key(&json);
            let routing_key = format!("{}{marker}", routing_key.strip_suffix('_').unwrap());
            let state = run["state"].as_str().unwrap();
            let mut message = Message::new(
                format!("exchange/taskcluster-queue/v1/task-{state}"),
                routing_key,
                body,
            );
            message.cc = routes.clone();
            let treeherder = &definition["extra"]["treeherder"];
            let tags = &json["task"]["tags"];
            Task {
                task_id,
                message,
                label: tags["label"].as_str().map(String::from),
                tag_kind: tags["kind"].as_str().map(String::from),
                definition_bytes: std::fs::read(&definition_path).unwrap(),
                routes,
                job_kind: treeherder["jobKind"].as_str().unwrap_or("none").into(),
                collection: treeherder["collection"].clone(),
                machine_platform: treeherder["machine"]["platform"]
                    .as_str()
                    .unwrap_or("none")
                    .into(),
            }
        })
        .collect()
}

/// What one monitor's callbacks got.
#[derive(Default)]
struct Received {
    messages: Vec<String>,
    records: Vec<Record>,
}

/// A monitor for every tree (or `trees`), talos on, that keeps what its
/// callbacks get.
fn monitor_builder(trees: Option<&[&str]>, received: &Arc<Mutex<Received>>) -> MonitorBuilder {
    let filter = match trees {
        Some(trees) => Filter::builder().trees(trees.iter().copied()),
        None => Filter::builder().any_tree(),
    };
    let (on_message, on_build, on_test, on_task) = (
        received.clone(),
        received.clone(),
        received.clone(),
        received.clone(),
    );
    Monitor::builder()
        .source(Source::Taskcluster { progress: false })
        .filter(filter.any_kind().talos(true).build().unwrap())
        .on_task(move |t| on_task.lock().unwrap().records.push(Record::Task(t)))
        .on_message(move |m| {
            on_message
                .lock()
                .unwrap()
                .messages
                .push(m.routing_key.clone())
        })
        .on_build(move |b| on_build.lock().unwrap().records.push(Record::Build(b)))
        .on_test(move |t| on_test.lock().unwrap().records.push(Record::Test(t)))
}

/// The tasks' definitions, served for monitors that fetch them (feature
/// `fetch`), as long as the test holds the server.
fn definitions_server(tasks: &[Task]) -> taskcluster_support::DefinitionServer {
    let definitions: HashMap<String, Vec<u8>> = tasks
        .iter()
        .map(|t| (t.task_id.clone(), t.definition_bytes.clone()))
        .collect();
    taskcluster_support::DefinitionServer::start(definitions)
}

#[cfg(feature = "fetch")]
fn with_definitions(
    builder: MonitorBuilder,
    server: &taskcluster_support::DefinitionServer,
) -> MonitorBuilder {
    let fetcher = pulse_build_monitor::TaskDefinitionFetcher::new(&server.root_url).unwrap();
    builder.task_definitions(fetcher)
}

#[cfg(not(feature = "fetch"))]
fn with_definitions(
    builder: MonitorBuilder,
    _server: &taskcluster_support::DefinitionServer,
) -> MonitorBuilder {
    builder
}

/// Checks each of our records against its task, and our dead letters
/// against the errors expected; returns (records, errors) counted.
fn check(
    what: &str,
    tasks: &[Task],
    delivered: &BTreeSet<&str>,
    received: &Received,
    dead_letter_file: &Path,
    marker: &str,
) -> (usize, usize) {
    let ours = |key: &str| key.ends_with(&format!(".{marker}"));
    let by_id: HashMap<&str, &Task> = tasks.iter().map(|t| (t.task_id.as_str(), t)).collect();

    let mut messages: Vec<&str> = received
        .messages
        .iter()
        .filter(|k| ours(k))
        .map(|k| k.split('.').nth(1).unwrap())
        .collect();
    messages.sort();
    let expected_messages: Vec<&str> = delivered.iter().copied().collect();
    assert_eq!(messages, expected_messages, "{what}: raw callback");

    let mut records: BTreeMap<String, Expected> = BTreeMap::new();
    for record in &received.records {
        if !ours(record.key()) {
            continue;
        }
        let task_id = record.key().split('.').nth(1).unwrap().to_string();
        assert!(
            records.insert(task_id.clone(), got(record)).is_none(),
            "{what}: {task_id} twice"
        );
    }
    let mut errors: BTreeMap<String, String> = BTreeMap::new();
    for (key, error) in dead_letters(dead_letter_file) {
        if ours(&key) {
            let task_id = key.split('.').nth(1).unwrap().to_string();
            assert!(
                errors.insert(task_id, error).is_none(),
                "{what}: {key} twice"
            );
        }
    }

    for task_id in delivered {
        let task = by_id[task_id];
        match task.expected() {
            Ok(expected) => {
                assert_eq!(records.get(*task_id), Some(&expected), "{what}: {task_id}");
                assert!(!errors.contains_key(*task_id), "{what}: {task_id}");
            }
            Err(error) => {
                assert_eq!(
                    errors.get(*task_id),
                    Some(&error.to_string()),
                    "{what}: {task_id}"
                );
                assert!(!records.contains_key(*task_id), "{what}: {task_id}");
            }
        }
    }
    assert_eq!(
        records.len() + errors.len(),
        delivered.len(),
        "{what}: nothing but what was delivered"
    );
    (records.len(), errors.len())
}

fn temp_file(name: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(name);
    let _ = std::fs::remove_file(&path);
    path
}

/// What the translator must reject, and with which error, for this run.
fn expected_errors(tasks: &[Task]) -> BTreeMap<&str, String> {
    tasks
        .iter()
        .filter_map(|t| Some((t.task_id.as_str(), t.expected().err()?.to_string())))
        .collect()
}

#[test]
fn tagged_2020_messages_reach_the_callbacks_their_definitions_describe() {
    let Some(dir) = corpus_dir("tagged-2020") else {
        return;
    };
    let Some(settings) = broker_or_skip("pulse-build-monitor-test/taskcluster-broker") else {
        return;
    };
    let marker = format!("tc-broker-{}", pulse_wire::random_label());
    let tasks = tagged_tasks(&dir, &marker);
    assert_eq!(tasks.len(), 15, "tagged-2020 holds 15 messages");

    // Only tasks on no push are rejected: written out, so a change in the
    // translator's rules shows here.
    let rejected: Vec<(&str, &str)> = expected_errors(&tasks)
        .into_keys()
        .map(|id| {
            let task = tasks.iter().find(|t| t.task_id == id).unwrap();
            (id, task.label.as_deref().unwrap_or("(no label)"))
        })
        .collect();
    let want = vec![
        ("C0PGASalTF6MZNoTg0eLGQ", "complete-pr-2"),
        ("ZYFKUNR5RhmrBAq4Z4KB9g", "(no label)"),
    ];
    assert_eq!(rejected, want);

    // The monitors bind to tc-treeherder routes: one for every tree, one
    // for autoland only.
    let all_trees = Arc::new(Mutex::new(Received::default()));
    let autoland = Arc::new(Mutex::new(Received::default()));
    let all_dead = temp_file(&format!("{marker}-all.jsonl"));
    let autoland_dead = temp_file(&format!("{marker}-autoland.jsonl"));
    let definitions = definitions_server(&tasks);
    let start = |trees: Option<&[&str]>, received: &Arc<Mutex<Received>>, dead: &Path, n: u8| {
        let mut settings = settings.clone();
        settings.connection_name.push_str(&format!("-{n}"));
        with_definitions(monitor_builder(trees, received), &definitions)
            .broker(settings)
            .label(format!("{marker}-{n}"))
            .declare_exchanges(true)
            .dead_letter_file(dead)
            .start()
            .unwrap()
    };
    let all_monitor = start(None, &all_trees, &all_dead, 0);
    let autoland_monitor = start(Some(&["autoland"]), &autoland, &autoland_dead, 1);

    let mut publisher_settings = settings.clone();
    publisher_settings.connection_name.push_str("-publisher");
    let mut publisher = pulse_wire::Publisher::connect(&publisher_settings).unwrap();
    for exchange in pulse_build_monitor::exchanges::TASK_ALL {
        publisher.declare_exchange(exchange).unwrap();
    }
    for task in &tasks {
        let m = &task.message;
        publisher
            .publish(&m.exchange, &m.routing_key, &m.body, Some(&m.cc))
            .unwrap();
    }
    publisher.close().unwrap();

    // The broker routes only messages with a tc-treeherder route to us:
    // the two without one are dropped by the bindings, as on Pulse.
    let routed: BTreeSet<&str> = tasks
        .iter()
        .filter(|t| treeherder_route(&t.routes).is_some())
        .map(|t| t.task_id.as_str())
        .collect();
    let on_autoland: BTreeSet<&str> = tasks
        .iter()
        .filter(|t| treeherder_route(&t.routes).is_some_and(|(tree, _)| tree == "autoland"))
        .map(|t| t.task_id.as_str())
        .collect();
    assert_eq!((routed.len(), on_autoland.len()), (13, 4));

    for (received, monitor, want) in [
        (&all_trees, &all_monitor, routed.len()),
        (&autoland, &autoland_monitor, on_autoland.len()),
    ] {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ours = received
                .lock()
                .unwrap()
                .messages
                .iter()
                .filter(|k| k.ends_with(&marker))
                .count();
            if ours >= want {
                break;
            }
            assert!(Instant::now() < deadline, "only {ours} of {want} arrived");
            std::thread::sleep(Duration::from_millis(20));
        }
        let report = monitor.stop();
        assert!(report.is_complete(), "{report:?}");
    }

    let counts = check(
        "every tree",
        &tasks,
        &routed,
        &all_trees.lock().unwrap(),
        &all_dead,
        &marker,
    );
    let autoland_counts = check(
        "autoland",
        &tasks,
        &on_autoland,
        &autoland.lock().unwrap(),
        &autoland_dead,
        &marker,
    );
    // Every routed message is a record: builds, tests and the one task of
    // jobKind other, with or without definitions.
    assert_eq!(counts, (13, 0));
    assert_eq!(autoland_counts, (4, 0));
    let _ = std::fs::remove_file(&all_dead);
    let _ = std::fs::remove_file(&autoland_dead);
}

#[test]
fn tagged_2020_messages_in_process_count_every_rejection() {
    let Some(dir) = corpus_dir("tagged-2020") else {
        return;
    };
    let tasks = tagged_tasks(&dir, "_");
    let received = Arc::new(Mutex::new(Received::default()));
    let dead = temp_file(&format!(
        "tc-in-process-{}.jsonl",
        pulse_wire::random_label()
    ));
    // The replay loader builds the same messages from the folder: state's
    // exchange, primary routing key, routes from task_<taskId>.json.
    let definitions = definitions_server(&tasks);
    let monitor = with_definitions(monitor_builder(None, &received), &definitions)
        .replay(&[&dir])
        .unwrap()
        .dead_letter_file(&dead)
        .start()
        .unwrap();
    let report = monitor.join();

    let all: BTreeSet<&str> = tasks.iter().map(|t| t.task_id.as_str()).collect();
    let (records, errors) = check(
        "in process",
        &tasks,
        &all,
        &received.lock().unwrap(),
        &dead,
        "_",
    );
    let errors_expected = expected_errors(&tasks);
    // Two tasks without a tc-treeherder route are on no push.
    assert_eq!((records, errors), (13, 2));
    assert_eq!(errors, errors_expected.len());
    assert_eq!(report.stats.received, 15);
    assert_eq!(report.stats.translated, records as u64);
    assert_eq!(report.stats.matched, records as u64);
    assert_eq!(report.stats.translation_errors, errors as u64);
    let _ = std::fs::remove_file(&dead);
}
