//! `--details`: a replay of a generated push goes online only when asked,
//! and then completes its records from the queue it is pointed at.

mod common;

use pulse_synthetic::{JobKind, Outcome, Push};
use pulse_test_support::{QueueServer, Reply, TempDir};
use serde_json::Value;

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
    let failed_tests: Vec<&str> = push
        .tasks
        .iter()
        .filter(|t| {
            t.job_kind == JobKind::Test && t.kind != "source-test" && t.outcome() == Outcome::Failed
        })
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
