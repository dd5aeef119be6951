//! `pulse-monitor synthetic-push` and `publish --synthetic-push`, run as a
//! user would: JSON lines that `replay` reads, usage errors, and a
//! generated push published to the local RabbitMQ and seen by `watch`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

mod common;
use common::{broker_available, lines, run, unique, Running, BROKER_URL};

use pulse_synthetic::Push;
use pulse_translator::exchanges;
use serde_json::Value;

fn per_exchange<'a>(exchanges: impl Iterator<Item = &'a str>) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for exchange in exchanges {
        *counts.entry(exchange.to_string()).or_default() += 1;
    }
    counts
}

/// The (taskId, runId) of every finished run of every task: one record
/// each (a run the queue reran is a `retry` record, as on Treeherder).
fn finished_runs(push: &Push) -> BTreeSet<(String, u32)> {
    push.messages()
        .into_iter()
        .filter(|m| exchanges::TASK_FINISHED.contains(&m.exchange.as_str()))
        .filter_map(|m| {
            let mut key = m.routing_key.split('.').skip(1);
            let task_id = key.next()?.to_string();
            let run_id = key.next()?.parse().ok()?;
            Some((task_id, run_id))
        })
        .collect()
}

#[test]
fn synthetic_push_writes_the_generated_messages_as_recorded_json_lines() {
    let out = run(&["synthetic-push", "400", "--seed", "5"]);
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("synthetic-push: "), "{stderr}");
    let printed = lines(&out.stdout);
    let push = Push::builder().tasks(400).seed(5).build();
    let expected = push.messages();
    assert_eq!(printed.len(), expected.len());
    for (line, message) in printed.iter().zip(&expected) {
        let value: Value = serde_json::from_str(line).expect("a JSON line");
        let keys: BTreeSet<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        // Task messages carry their routes in CC; the push and group
        // messages have none, and leave `cc` out.
        let mut expected_keys = BTreeSet::from(["exchange", "routing_key", "body"]);
        if !message.cc.is_empty() {
            expected_keys.insert("cc");
        }
        assert_eq!(keys, expected_keys);
        assert_eq!(value["exchange"], message.exchange.as_str());
        assert_eq!(value["routing_key"], message.routing_key.as_str());
        let body: Value = serde_json::from_slice(&message.body).unwrap();
        assert_eq!(value["body"], body);
    }
    let exchanges: Vec<String> = printed
        .iter()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["exchange"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let counts = per_exchange(exchanges.iter().map(String::as_str));
    assert_eq!(
        counts,
        per_exchange(expected.iter().map(|m| m.exchange.as_str()))
    );
    assert_eq!(
        counts.len(),
        8,
        "hg push, defined, pending, running, completed, failed, exception, group resolved: {counts:?}"
    );

    let again = run(&["synthetic-push", "400", "--seed", "5"]);
    assert_eq!(again.stdout, out.stdout, "the same seed, the same lines");
    let other = run(&["synthetic-push", "400", "--seed", "6"]);
    assert!(other.status.success());
    assert_ne!(other.stdout, out.stdout);
    let tree = run(&["synthetic-push", "30", "--tree", "mozilla-central"]);
    let first: Value = serde_json::from_str(&lines(&tree.stdout)[1]).unwrap();
    assert!(first["cc"][0]
        .as_str()
        .unwrap()
        .starts_with("route.tc-treeherder.v2.mozilla-central."));
}

#[test]
fn replay_of_a_generated_push_prints_one_record_per_finished_run() {
    let out = run(&["synthetic-push", "600", "--seed", "9"]);
    assert!(out.status.success(), "{out:?}");
    let file = std::env::temp_dir().join(format!("{}.jsonl", unique("synthetic-push")));
    std::fs::write(&file, &out.stdout).unwrap();
    let replayed = run(&[
        "replay",
        "--json",
        "--any-tree",
        "--any-kind",
        "--talos",
        file.to_str().unwrap(),
    ]);
    std::fs::remove_file(&file).unwrap();
    assert!(replayed.status.success(), "{replayed:?}");
    let stderr = lines(&replayed.stderr);
    let total = lines(&out.stdout).len();
    let push = Push::builder().tasks(600).seed(9).build();
    let expected = finished_runs(&push);
    assert_eq!(
        stderr.last().map(String::as_str),
        Some(
            format!(
                "replay: received {total}, translated {n}, matched {n}, errors 0",
                n = expected.len()
            )
            .as_str()
        ),
        "{stderr:#?}"
    );

    let kinds: BTreeMap<&str, &str> = push
        .tasks
        .iter()
        .map(|t| (t.task_id.as_str(), t.kind.as_str()))
        .collect();
    let mut printed = Vec::new();
    for line in lines(&replayed.stdout) {
        let record: Value = serde_json::from_str(&line).expect("a record");
        assert_eq!(record["tree"], "autoland");
        assert_eq!(record["revision"], push.revision.as_str());
        let task_id = record["task_id"].as_str().unwrap().to_string();
        assert_eq!(record["kind"], kinds[task_id.as_str()], "{line}");
        let result = record["result"].as_str().unwrap_or_default();
        assert!(!result.is_empty() && result != "unknown", "{line}");
        printed.push((task_id, record["run_id"].as_u64().unwrap() as u32));
    }
    assert_eq!(printed.len(), expected.len(), "one record per finished run");
    let printed: BTreeSet<(String, u32)> = printed.into_iter().collect();
    assert_eq!(printed, expected);
    let kinds_seen: BTreeSet<&str> = kinds.values().copied().collect();
    assert!(kinds_seen.len() >= 15, "{kinds_seen:?}");
}

#[test]
fn synthetic_usage_errors_are_one_line_and_exit_2() {
    for (args, says) in [
        (
            &["synthetic-push", "10", "--tree", "auto land"][..],
            "Treeherder project",
        ),
        (&["synthetic-push"][..], "not provided: <N>"),
        (&["replay"][..], "not provided: <PATH>..."),
        (&["synthetic-push", "many"][..], "invalid value"),
        (&["publish", "--seed", "3"][..], "--synthetic-push"),
        (
            &["publish", "fixtures", "--synthetic-push", "3"][..],
            "cannot be used with",
        ),
        (
            &["publish", "--synthetic-push", "3", "--tree", "a.b"][..],
            "Treeherder project",
        ),
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let stderr = lines(&out.stderr);
        assert_eq!(stderr.len(), 1, "{args:?}: {stderr:?}");
        assert!(stderr[0].starts_with("error: "), "{stderr:?}");
        assert!(stderr[0].contains(says), "{args:?}: {stderr:?}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn publish_synthetic_push_publishes_every_message() {
    if !broker_available() {
        return;
    }
    let tree = unique("synthetic-publish");
    let out = run(&[
        "publish",
        "--synthetic-push",
        "250",
        "--tree",
        &tree,
        "--seed",
        "4",
        "--url",
        BROKER_URL,
        "--declare-exchanges",
    ]);
    assert!(out.status.success(), "{out:?}");
    let expected = Push::builder()
        .tree(tree.as_str())
        .tasks(250)
        .seed(4)
        .build();
    assert_eq!(
        lines(&out.stdout),
        [format!(
            "published {} messages to amqp://guest:***@127.0.0.1:5672/",
            expected.messages().len()
        )]
    );
}

#[test]
fn watch_prints_every_finished_run_of_a_published_push_once() {
    if !broker_available() {
        return;
    }
    // A push whose tasks also failed and hit exceptions, so watch must bind
    // task-failed and task-exception too.
    let tree = unique("synthetic-watch");
    let (seed, push) = (1..100)
        .map(|seed| {
            (
                seed,
                Push::builder()
                    .tree(tree.as_str())
                    .tasks(300)
                    .seed(seed)
                    .build(),
            )
        })
        .find(|(_, push)| {
            let kinds = |outcome: fn(&pulse_synthetic::Outcome) -> bool| {
                push.tasks
                    .iter()
                    .any(|t| t.runs.iter().any(|r| outcome(&r.outcome)))
            };
            kinds(|o| *o == pulse_synthetic::Outcome::Failed)
                && kinds(|o| matches!(o, pulse_synthetic::Outcome::Exception { .. }))
        })
        .expect("a seed under 100 fails and excepts");
    let expected = finished_runs(&push);

    let label = unique("cli-synthetic");
    let mut watch = Running::start(&[
        "watch",
        "--url",
        BROKER_URL,
        "--declare-exchanges",
        "--source",
        "taskcluster",
        "--tree",
        &tree,
        "--talos",
        "--any-kind",
        "--json",
        "--label",
        &label,
        "--no-details",
    ]);
    watch.wait_for_stderr(
        "pulse-monitor: consuming queue/guest/",
        Duration::from_secs(60),
    );

    let seed = seed.to_string();
    let published = run(&[
        "publish",
        "--synthetic-push",
        "300",
        "--tree",
        &tree,
        "--seed",
        &seed,
        "--url",
        BROKER_URL,
        "--declare-exchanges",
    ]);
    assert!(published.status.success(), "{published:?}");

    let mut seen = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(90);
    while !expected.is_subset(&seen) {
        let Ok(line) = watch
            .stdout
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        else {
            let _ = watch.child.kill();
            panic!(
                "watch printed {} of {} records; missing {:?}",
                expected.intersection(&seen).count(),
                expected.len(),
                expected.difference(&seen).take(5).collect::<Vec<_>>()
            );
        };
        let record: Value = serde_json::from_str(&line).expect("a JSON record");
        assert_eq!(record["tree"], tree.as_str());
        let key = (
            record["task_id"].as_str().unwrap().to_string(),
            record["run_id"].as_u64().unwrap() as u32,
        );
        assert!(seen.insert(key.clone()), "printed twice: {key:?}");
    }
    let (rest, stopped) = watch.interrupt_with_output();
    // Whatever was printed after the last expected record: nothing else.
    for line in &rest {
        let record: Value = serde_json::from_str(line).expect("a JSON record");
        let key = (
            record["task_id"].as_str().unwrap().to_string(),
            record["run_id"].as_u64().unwrap() as u32,
        );
        assert!(seen.insert(key.clone()), "printed twice: {key:?}");
    }
    assert_eq!(seen, expected, "exactly the finished runs");
    let summary = stopped
        .iter()
        .find(|l| l.starts_with("pulse-monitor: stopped: "))
        .unwrap_or_else(|| panic!("{stopped:#?}"));
    assert!(summary.contains("translation errors 0"), "{summary}");
}
