//! `--details`: a replay of a generated push goes online only when asked,
//! and then completes its records from the queue it is pointed at; and
//! through the broker, `watch --pushes` completes a published push's
//! failed tests from the queue `publish --serve-queue` serves.

mod common;

use std::time::{Duration, Instant};

use common::{broker_available, unique, Running, BROKER_URL};
use pulse_synthetic::{JobKind, Outcome, Push, SyntheticTask};
use pulse_test_support::{QueueServer, Reply, TempDir};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(90);

/// The push's failed tests that write an errorsummary.
fn failed_tests(push: &Push) -> Vec<&SyntheticTask> {
    push.tasks
        .iter()
        .filter(|t| {
            t.job_kind == JobKind::Test && t.kind != "source-test" && t.outcome() == Outcome::Failed
        })
        .collect()
}

fn records(args: &[&str]) -> Vec<Value> {
    let out = common::run(args);
    assert!(out.status.success(), "{out:?}");
    common::lines(&out.stdout)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn replays_fetch_details_only_when_asked() {
    let push = Push::builder().tasks(400).seed(7).build();
    let dir = TempDir::new("cli-details");
    let file = dir.join("push.jsonl");
    let lines: Vec<String> = push
        .messages()
        .iter()
        .map(|m| serde_json::to_string(&m.message).unwrap())
        .collect();
    std::fs::write(&file, lines.join("\n")).unwrap();
    let file = file.to_str().unwrap();
    let server = QueueServer::serving_push(&push, Vec::<(String, Reply)>::new());

    // Without --details nothing is asked of any queue.
    let offline = records(&[
        "replay",
        file,
        "--any-tree",
        "--json",
        "--taskcluster-root-url",
        &server.root_url,
    ]);
    assert!(!offline.is_empty());
    assert!(
        server.requests().is_empty(),
        "asked: {:?}",
        server.requests()
    );
    for record in &offline {
        assert!(
            record["buildurl"].is_null() && record.get("details_unavailable").is_none(),
            "{record}"
        );
    }

    let online = records(&[
        "replay",
        file,
        "--any-tree",
        "--json",
        "--details",
        "--taskcluster-root-url",
        &server.root_url,
    ]);
    assert_eq!(online.len(), offline.len(), "the same records");
    let builds: Vec<&Value> = online.iter().filter(|r| r["kind"] == "build").collect();
    assert!(!builds.is_empty());
    for build in builds {
        let url = build["buildurl"]
            .as_str()
            .unwrap_or_else(|| panic!("{build}"));
        assert!(
            url.starts_with(&format!("{}/api/queue/v1/task/", server.root_url)),
            "{url}"
        );
    }
    let failed_tests: Vec<&str> = failed_tests(&push)
        .iter()
        .map(|t| t.task_id.as_str())
        .collect();
    let mut checked = 0;
    for record in &online {
        let Some(task_id) = record["task_id"].as_str() else {
            continue;
        };
        if !failed_tests.contains(&task_id) || record["result"] != "testfailed" {
            continue;
        }
        let task = push.tasks.iter().find(|t| t.task_id == task_id).unwrap();
        let tests: Vec<&str> = record["failures"]
            .as_array()
            .unwrap_or_else(|| panic!("{record}"))
            .iter()
            .map(|f| f["test"].as_str().unwrap())
            .collect();
        let held: Vec<String> = push.failures(task).into_iter().map(|f| f.test).collect();
        assert_eq!(tests, held, "{task_id}");
        checked += 1;
    }
    assert!(
        checked > 0,
        "the push has failed tests whose lines were compared"
    );
}

#[test]
fn watch_pushes_gets_failure_lines_through_the_broker_from_publish_serve_queue() {
    if !broker_available() {
        return;
    }
    let tree = unique("details");
    let push = Push::builder()
        .tree(tree.as_str())
        .tasks(400)
        .seed(7)
        .build();
    assert!(!failed_tests(&push).is_empty());
    // A port for the queue, known before the watcher starts.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let queue = format!("127.0.0.1:{port}");
    let root = format!("http://{queue}");
    let label = unique("cli-details");
    let mut watch = Running::start(&[
        "watch",
        "--url",
        BROKER_URL,
        "--declare-exchanges",
        "--source",
        "taskcluster",
        "--tree",
        &tree,
        "--pushes",
        "--json",
        "--quiet-period",
        "3",
        "--label",
        &label,
        "--taskcluster-root-url",
        &root,
    ]);
    watch.wait_for_stderr("pulse-monitor: consuming queue/guest/", WAIT);
    let mut publish = Running::start(&[
        "publish",
        "--synthetic-push",
        "400",
        "--tree",
        &tree,
        "--seed",
        "7",
        "--url",
        BROKER_URL,
        "--declare-exchanges",
        "--serve-queue",
        &queue,
    ]);
    publish.wait_for_stderr("still serving the queue API", WAIT);

    let deadline = Instant::now() + WAIT;
    let finished = loop {
        let line = watch
            .stdout
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|_| panic!("no finished push within {WAIT:?}"));
        let event: Value = serde_json::from_str(&line).unwrap();
        if event["event"] == "finished" {
            break event["push"].clone();
        }
    };
    // "Ctrl-C stops" the queue publish serves.
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &publish.child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    assert!(
        pulse_test_support::wait_for(WAIT, || publish.child.try_wait().unwrap().is_some()),
        "publish --serve-queue still running after Ctrl-C"
    );
    watch.interrupt();

    let failed = finished["failed"].as_array().expect("failed tasks");
    for task in failed_tests(&push) {
        let shown = failed
            .iter()
            .find(|f| f["task_id"] == task.task_id.as_str())
            .unwrap_or_else(|| panic!("{} not among the failed: {finished}", task.label));
        let tests: Vec<&str> = shown["failures"]
            .as_array()
            .unwrap_or_else(|| panic!("no failure lines for {}: {shown}", task.label))
            .iter()
            .map(|f| f["test"].as_str().unwrap())
            .collect();
        let held: Vec<String> = push
            .failures(task)
            .into_iter()
            .take(5)
            .map(|f| f.test)
            .collect();
        assert_eq!(tests, held, "{}", task.label);
    }
}
