//! Taskcluster translation of the project's hand-written fixtures
//! (`fixtures/taskcluster/`), field by field, and its typed errors.

use chrono::{DateTime, TimeZone, Utc};
use pulse_translator::taskcluster::{
    translate, translate_with_definition, TaskDefinition, TaskMessage, TaskclusterOptions,
};
use pulse_translator::{BuildRecord, BuildType, Clock, Error, ErrorKind, Record, TestRecord};
use serde_json::{json, Value};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/taskcluster");

fn fixed_clock() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2021, 3, 1, 11, 0, 0).unwrap()
}

fn options() -> TaskclusterOptions {
    TaskclusterOptions {
        clock: Clock::Fixed(fixed_clock()),
        ..TaskclusterOptions::default()
    }
}

/// A fixture message, owned, so tests can borrow a [`TaskMessage`] from it.
struct Owned {
    exchange: String,
    routing_key: String,
    cc: Vec<String>,
    body: Vec<u8>,
}

impl Owned {
    fn from_value(message: &Value) -> Owned {
        Owned {
            exchange: message["exchange"].as_str().unwrap().to_string(),
            routing_key: message["routing_key"].as_str().unwrap().to_string(),
            cc: message["cc"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap().to_string())
                .collect(),
            body: serde_json::to_vec(&message["body"]).unwrap(),
        }
    }

    fn message(&self) -> TaskMessage<'_> {
        TaskMessage {
            exchange: &self.exchange,
            routing_key: &self.routing_key,
            cc: &self.cc,
            body: &self.body,
        }
    }
}

fn fixture(name: &str) -> Owned {
    let path = format!("{FIXTURES}/{name}.message.json");
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    Owned::from_value(&serde_json::from_slice(&text).unwrap())
}

fn definition(name: &str) -> TaskDefinition {
    let path = format!("{FIXTURES}/{name}.definition.json");
    TaskDefinition::from_json(&std::fs::read(&path).unwrap()).unwrap()
}

fn test_record(record: Record) -> TestRecord {
    match record {
        Record::Test(test) => test,
        Record::Build(build) => panic!("expected a test record, got {build:?}"),
    }
}

fn build_record(record: Record) -> BuildRecord {
    match record {
        Record::Build(build) => build,
        Record::Test(test) => panic!("expected a build record, got {test:?}"),
    }
}

#[test]
fn failed_test_rerun_after_worker_shutdown() {
    let owned = fixture("test-failed");
    let test = test_record(translate(&owned.message(), &options()).unwrap());
    let job = &test.job;
    assert_eq!(job.key, owned.routing_key);
    assert_eq!(job.tree, "autoland");
    assert_eq!(
        job.revision.as_deref(),
        Some("0123456789abcdef0123456789abcdef01234567")
    );
    assert_eq!(job.platform, "linux64");
    assert_eq!(test.os, "linux1804-64-qr");
    assert_eq!(job.buildtype, BuildType::Debug);
    assert_eq!(test.test, "mochitest-browser-chrome-e10s-3");
    assert!(!test.talos);
    // Run 1 failed; run 0's worker shutdown is history.
    assert_eq!(job.status, Some(2));
    assert_eq!(job.run_id, Some(1));
    assert_eq!(job.task_id.as_deref(), Some("fxnfF4hJRbq2uSO5DEAK1A"));
    assert_eq!(job.worker_type.as_deref(), Some("t-linux-large"));
    assert_eq!(job.slave.as_deref(), Some("i-0a1b2c"));
    assert_eq!(
        job.logurl.as_deref(),
        Some("https://firefox-ci-tc.services.mozilla.com/api/queue/v1/task/fxnfF4hJRbq2uSO5DEAK1A/runs/1/artifacts/public/logs/live_backing.log")
    );
    assert_eq!(job.builddate, Some(1_614_594_600));
    assert_eq!(
        job.buildername.as_deref(),
        Some("test-linux1804-64-qr/debug-mochitest-browser-chrome-e10s-3")
    );
    assert_eq!(job.product.as_deref(), Some("firefox"));
    assert_eq!(job.locale.as_deref(), Some("en-US"));
    assert_eq!(job.timestamp.as_deref(), Some("2021-03-01T11:00:00Z"));
    assert_eq!(job.tier, None);

    let payload = serde_json::to_value(Record::Test(test.clone())).unwrap();
    assert_eq!(payload["task_id"], "fxnfF4hJRbq2uSO5DEAK1A");
    assert_eq!(payload["run_id"], 1);
    assert_eq!(payload["worker_type"], "t-linux-large");
    assert!(
        payload.get("tier").is_none(),
        "tier is left out when unknown"
    );
}

#[test]
fn build_from_routing_key_route_with_variant_tags() {
    let owned = fixture("build-completed");
    let build = build_record(translate(&owned.message(), &options()).unwrap());
    let job = &build.job;
    assert!(owned.routing_key.starts_with("route.tc-treeherder.v2."));
    assert_eq!(job.key, owned.routing_key);
    assert_eq!(job.tree, "mozilla-central");
    assert_eq!(
        job.revision.as_deref(),
        Some("89abcdef0123456789abcdef0123456789abcdef")
    );
    assert_eq!(job.platform, "win64");
    assert_eq!(
        job.buildtype,
        BuildType::Opt,
        "shippable builds are opt, as Treeherder's collection says"
    );
    assert_eq!(build.tags, ["asan", "shippable"]);
    assert_eq!(job.status, Some(0));
    assert_eq!(job.builddate, Some(1_614_560_400));
    assert_eq!(job.product.as_deref(), Some("firefox"));
}

#[test]
fn cancelled_talos_on_comm_central() {
    let owned = fixture("talos-canceled");
    let options = TaskclusterOptions {
        root_url: "https://tc.example.com/".into(),
        clock: Clock::Fixed(fixed_clock()),
    };
    let test = test_record(translate(&owned.message(), &options).unwrap());
    assert_eq!(test.job.tree, "comm-central");
    assert_eq!(test.job.status, Some(6));
    assert!(test.talos);
    assert_eq!(test.test, "talos-tp5o-e10s");
    assert_eq!(test.job.product.as_deref(), Some("thunderbird"));
    // No resolved time: the run was cancelled before it started.
    assert_eq!(test.job.builddate, Some(1_614_686_400));
    assert_eq!(test.job.slave, None);
    assert_eq!(
        test.job.logurl.as_deref(),
        Some("https://tc.example.com/api/queue/v1/task/TalosTalosTalosTalos0A/runs/0/artifacts/public/logs/live_backing.log")
    );
}

#[test]
fn untagged_task_needs_and_takes_its_definition() {
    let owned = fixture("untagged-running");
    let err = translate(&owned.message(), &options()).unwrap_err();
    assert_eq!(
        err.kind(),
        &ErrorKind::MissingTreeherderRoute {
            task_id: "OldOldOldOldOldOldOld0A".into()
        }
    );

    let test = test_record(
        translate_with_definition(
            &owned.message(),
            &definition("untagged-running"),
            &options(),
        )
        .unwrap(),
    );
    assert_eq!(test.job.tree, "mozilla-inbound");
    assert_eq!(
        test.job.revision.as_deref(),
        Some("00112233445566778899aabbccddeeff00112233")
    );
    assert_eq!(test.job.platform, "linux64");
    assert_eq!(test.os, "linux64");
    assert_eq!(test.job.buildtype, BuildType::Debug);
    assert_eq!(test.test, "mochitest-browser-chrome-7");
    assert_eq!(test.job.status, None, "a running task has no result yet");
    assert_eq!(test.job.tier, Some(2));
    assert_eq!(
        test.job.buildername.as_deref(),
        Some("[TC] Linux64 mochitest-browser-chrome-e10s-7")
    );
    assert_eq!(test.job.builddate, Some(1_493_866_921));
    assert_eq!(test.job.slave.as_deref(), Some("i-0c0c0c"));
}

#[test]
fn partials_are_builds_only_by_their_definition() {
    let owned = fixture("partials-completed");
    let label = "partials-ja-JP-mac-macosx64-shippable/opt";
    let err = translate(&owned.message(), &options()).unwrap_err();
    assert_eq!(
        err.kind(),
        &ErrorKind::UnsupportedTaskKind {
            label: label.into(),
            kind: "partials".into()
        }
    );

    let build = build_record(
        translate_with_definition(
            &owned.message(),
            &definition("partials-completed"),
            &options(),
        )
        .unwrap(),
    );
    assert_eq!(build.job.platform, "macosx64");
    assert_eq!(build.job.locale.as_deref(), Some("ja-JP-mac"));
    assert_eq!(build.tags, ["partials", "shippable"]);
    assert_eq!(build.job.tier, Some(1));
    assert_eq!(build.job.builddate, Some(1_614_564_240));
}

fn translate_json(exchange: &str, cc: &[&str], body: &Value) -> Result<Record, Error> {
    let cc: Vec<String> = cc.iter().map(|s| s.to_string()).collect();
    let body = serde_json::to_vec(body).unwrap();
    translate(
        &TaskMessage {
            exchange,
            routing_key: "primary.x",
            cc: &cc,
            body: &body,
        },
        &options(),
    )
}

const COMPLETED: &str = "exchange/taskcluster-queue/v1/task-completed";
const ROUTE: &str = "route.tc-treeherder.v2.try.0123456789ab.1";

fn body(label: &str) -> Value {
    json!({
        "status": {"taskId": "T", "runs": [{"runId": 0, "state": "completed",
                   "resolved": "2021-03-01T10:30:00.000Z"}]},
        "runId": 0,
        "task": {"tags": {"label": label}}
    })
}

#[test]
fn typed_errors_name_what_is_wrong() {
    let kind = |result: Result<Record, Error>| result.unwrap_err().kind().clone();
    assert_eq!(
        kind(translate_json(
            "exchange/build/",
            &[ROUTE],
            &body("test-linux64/opt-x")
        )),
        ErrorKind::UnknownTaskExchange {
            exchange: "exchange/build/".into()
        }
    );
    let not_json = translate(
        &TaskMessage {
            exchange: COMPLETED,
            routing_key: "",
            cc: &[],
            body: b"{\"status\": ",
        },
        &options(),
    );
    assert!(matches!(
        kind(not_json),
        ErrorKind::MalformedTaskMessage { .. }
    ));
    assert!(matches!(
        kind(translate_json(
            COMPLETED,
            &[ROUTE],
            &json!({"status": [], "runId": 0})
        )),
        ErrorKind::MalformedTaskMessage { .. }
    ));

    let mut no_task_id = body("test-linux64/opt-x");
    no_task_id["status"]
        .as_object_mut()
        .unwrap()
        .remove("taskId");
    assert_eq!(
        kind(translate_json(COMPLETED, &[ROUTE], &no_task_id)),
        ErrorKind::MissingTaskField {
            field: "status.taskId"
        }
    );
    let mut no_run_id = body("test-linux64/opt-x");
    no_run_id.as_object_mut().unwrap().remove("runId");
    assert_eq!(
        kind(translate_json(COMPLETED, &[ROUTE], &no_run_id)),
        ErrorKind::MissingTaskField { field: "runId" }
    );
    let mut other_run = body("test-linux64/opt-x");
    other_run["runId"] = json!(3);
    assert_eq!(
        kind(translate_json(COMPLETED, &[ROUTE], &other_run)),
        ErrorKind::MissingTaskField {
            field: "status.runs[runId]"
        }
    );
    let mut bad_time = body("test-linux64/opt-x");
    bad_time["status"]["runs"][0]["resolved"] = json!("yesterday");
    assert!(matches!(
        kind(translate_json(COMPLETED, &[ROUTE], &bad_time)),
        ErrorKind::MalformedTaskMessage { reason } if reason.contains("yesterday")
    ));

    assert_eq!(
        kind(translate_json(
            COMPLETED,
            &["route.index.x"],
            &body("test-linux64/opt-x")
        )),
        ErrorKind::MissingTreeherderRoute {
            task_id: "T".into()
        }
    );
    assert_eq!(
        kind(translate_json(
            COMPLETED,
            &["route.tc-treeherder.v2.try.nothex"],
            &body("test-linux64/opt-x")
        )),
        ErrorKind::BadTreeherderRoute {
            route: "tc-treeherder.v2.try.nothex".into()
        }
    );
    // A malformed route does not hide a good one.
    assert!(translate_json(
        COMPLETED,
        &["route.tc-treeherder.v2.try.nothex", ROUTE],
        &body("test-linux64/opt-x")
    )
    .is_ok());

    let mut untagged = body("");
    untagged["task"] = json!({"tags": {}});
    assert_eq!(
        kind(translate_json(COMPLETED, &[ROUTE], &untagged)),
        ErrorKind::MissingTaskLabel {
            task_id: "T".into()
        }
    );
    assert_eq!(
        kind(translate_json(
            COMPLETED,
            &[ROUTE],
            &body("test-linux64/opt")
        )),
        ErrorKind::UnknownLabelShape {
            label: "test-linux64/opt".into()
        },
        "a test label must name its test"
    );
    assert_eq!(
        kind(translate_json(
            COMPLETED,
            &[ROUTE],
            &body("test-plan9-64/opt-x")
        )),
        ErrorKind::UnknownLabelShape {
            label: "test-plan9-64/opt-x".into()
        }
    );
    assert_eq!(
        kind(translate_json(
            COMPLETED,
            &[ROUTE],
            &body("test-windows99-128/opt-x")
        )),
        ErrorKind::UnknownTaskPlatform {
            platform: "windows99-128".into()
        }
    );
    assert_eq!(
        kind(translate_json(
            COMPLETED,
            &[ROUTE],
            &body("toolchain-linux64-clang/opt")
        )),
        ErrorKind::UnsupportedTaskKind {
            label: "toolchain-linux64-clang/opt".into(),
            kind: "toolchain".into()
        }
    );
    let err = translate_json(COMPLETED, &[ROUTE], &body("test-windows99-128/opt-x")).unwrap_err();
    assert!(err.to_string().contains("\"windows99-128\""), "{err}");
}

#[test]
fn every_exchange_is_read_and_run_states_map_to_results() {
    for (exchange, state, reason, status) in [
        ("task-completed", "completed", Some("completed"), Some(0)),
        ("task-failed", "failed", Some("failed"), Some(2)),
        ("task-exception", "exception", Some("superseded"), Some(6)),
        (
            "task-exception",
            "exception",
            Some("intermittent-task"),
            Some(5),
        ),
        (
            "task-exception",
            "exception",
            Some("deadline-exceeded"),
            Some(4),
        ),
        ("task-running", "running", None, None),
        ("task-pending", "pending", None, None),
    ] {
        let mut message = body("test-linux64/opt-x");
        message["status"]["runs"][0]["state"] = json!(state);
        if let Some(reason) = reason {
            message["status"]["runs"][0]["reasonResolved"] = json!(reason);
        }
        let exchange = format!("exchange/taskcluster-queue/v1/{exchange}");
        let record = translate_json(&exchange, &[ROUTE], &message).unwrap();
        assert_eq!(record.job().status, status, "{exchange} {state} {reason:?}");
    }
}
