//! Taskcluster translation of the project's hand-written fixtures
//! (`fixtures/taskcluster/`), field by field, and its typed errors.

use chrono::{DateTime, TimeZone, Utc};
use pulse_translator::taskcluster::{translate, translate_with_definition, TaskDefinition};
use pulse_translator::Options;
use pulse_translator::{
    BuildRecord, BuildType, Clock, Error, ErrorKind, JobKind, JobResult, Message, Record, Status,
    TaskRecord, TaskState, TestRecord,
};
use serde_json::{json, Value};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/taskcluster");

fn fixed_clock() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2021, 3, 1, 11, 0, 0).unwrap()
}

fn options() -> Options {
    Options::default().with_clock(Clock::Fixed(fixed_clock()))
}

/// A fixture message: a file in the recording format ([`Message`]'s).
fn fixture(name: &str) -> Message {
    let path = format!("{FIXTURES}/{name}.message.json");
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn definition(name: &str) -> TaskDefinition {
    let path = format!("{FIXTURES}/{name}.definition.json");
    TaskDefinition::from_json(&std::fs::read(&path).unwrap()).unwrap()
}

fn test_record(record: Record) -> TestRecord {
    match record {
        Record::Test(test) => test,
        other => panic!("expected a test record, got {other:?}"),
    }
}

fn build_record(record: Record) -> BuildRecord {
    match record {
        Record::Build(build) => build,
        other => panic!("expected a build record, got {other:?}"),
    }
}

fn task_record(record: Record) -> TaskRecord {
    match record {
        Record::Task(task) => task,
        other => panic!("expected a task record, got {other:?}"),
    }
}

#[test]
fn failed_test_rerun_after_worker_shutdown() {
    let owned = fixture("test-failed");
    let test = test_record(translate(&owned, &options()).unwrap());
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
    assert_eq!(job.status, Some(Status::Failure));
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
    assert_eq!(job.timestamp, Some(fixed_clock()));
    assert_eq!(job.tier, None);

    let payload = serde_json::to_value(Record::Test(test.clone())).unwrap();
    assert_eq!(payload["task_id"], "fxnfF4hJRbq2uSO5DEAK1A");
    assert_eq!(payload["run_id"], 1);
    assert_eq!(payload["worker_type"], "t-linux-large");
    assert_eq!(payload["timestamp"], "2021-03-01T11:00:00Z");
    assert!(
        payload.get("tier").is_none(),
        "tier is left out when unknown"
    );
}

#[test]
fn build_from_routing_key_route_with_variant_tags() {
    let owned = fixture("build-completed");
    let build = build_record(translate(&owned, &options()).unwrap());
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
    assert_eq!(job.status, Some(Status::Success));
    assert_eq!(job.builddate, Some(1_614_560_400));
    assert_eq!(job.product.as_deref(), Some("firefox"));
}

#[test]
fn cancelled_talos_on_comm_central() {
    let owned = fixture("talos-canceled");
    let options = Options::default()
        .with_root_url("https://tc.example.com/")
        .with_clock(Clock::Fixed(fixed_clock()));
    let test = test_record(translate(&owned, &options).unwrap());
    assert_eq!(test.job.tree, "comm-central");
    assert_eq!(test.job.status, Some(Status::Cancelled));
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
    let err = translate(&owned, &options()).unwrap_err();
    assert_eq!(
        err.kind(),
        &ErrorKind::MissingTreeherderRoute {
            task_id: "OldOldOldOldOldOldOld0A".into()
        }
    );

    let task = task_record(
        translate_with_definition(&owned, &definition("untagged-running"), &options()).unwrap(),
    );
    assert_eq!(task.tree, "mozilla-inbound");
    assert_eq!(
        task.revision.as_deref(),
        Some("00112233445566778899aabbccddeeff00112233")
    );
    assert_eq!(task.platform.as_deref(), Some("linux64"));
    assert_eq!(task.buildtype, Some(BuildType::Debug));
    assert_eq!(
        (task.state, task.result, task.status),
        (TaskState::Running, JobResult::Unknown, None),
        "a running task is not finished: never a test record, no result yet"
    );
    assert_eq!(task.job_kind, JobKind::Test);
    assert_eq!(
        task.kind, "test",
        "no kind tag: the definition's jobKind names it"
    );
    assert_eq!(task.tier, Some(2));
    assert_eq!(
        task.label.as_deref(),
        Some("[TC] Linux64 mochitest-browser-chrome-e10s-7")
    );
    assert_eq!(task.builddate, Some(1_493_866_921));
    assert_eq!(task.worker_id.as_deref(), Some("i-0c0c0c"));
}

#[test]
fn partials_are_builds_by_the_kind_table_as_by_their_definition() {
    let owned = fixture("partials-completed");
    let from_tags = build_record(translate(&owned, &options()).unwrap());
    let build = build_record(
        translate_with_definition(&owned, &definition("partials-completed"), &options()).unwrap(),
    );
    assert_eq!(
        from_tags.job.tier, None,
        "only the definition knows the tier"
    );
    let mut with_tier = from_tags.clone();
    with_tier.job.tier = build.job.tier;
    assert_eq!(with_tier, build);
    assert_eq!(build.job.kind.as_deref(), Some("partials"));
    assert_eq!(build.job.result, Some(JobResult::Success));
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
        &Message::new(exchange, "primary.x", body).with_cc(cc),
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
        &Message::new(COMPLETED, "", &b"{\"status\": "[..]),
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
            &body("test-windows99-128/opt-x")
        )),
        ErrorKind::UnknownTaskPlatform {
            platform: "windows99-128".into()
        },
        "a test on a platform we do not know is heard, not filed as another task"
    );
    let err = translate_json(COMPLETED, &[ROUTE], &body("test-windows99-128/opt-x")).unwrap_err();
    assert!(err.to_string().contains("\"windows99-128\""), "{err}");
}

#[test]
fn every_exchange_is_read_and_run_states_map_to_results() {
    use JobResult::*;
    // (exchange and state, reasonResolved, retried, status, Treeherder's
    // result for a test, for a build)
    for (state, reason, retried, status, as_test, as_build) in [
        (
            "completed",
            Some("completed"),
            false,
            Some(0),
            Success,
            Success,
        ),
        ("failed", Some("failed"), false, Some(2), Testfailed, Busted),
        (
            "exception",
            Some("canceled"),
            false,
            Some(6),
            Usercancel,
            Usercancel,
        ),
        (
            "exception",
            Some("superseded"),
            false,
            Some(6),
            Superseded,
            Superseded,
        ),
        (
            "exception",
            Some("intermittent-task"),
            true,
            Some(5),
            Retry,
            Retry,
        ),
        (
            "exception",
            Some("worker-shutdown"),
            true,
            Some(5),
            Retry,
            Retry,
        ),
        (
            "exception",
            Some("worker-shutdown"),
            false,
            Some(5),
            Exception,
            Exception,
        ),
        (
            "exception",
            Some("deadline-exceeded"),
            false,
            Some(4),
            Exception,
            Exception,
        ),
        ("running", None, false, None, Unknown, Unknown),
        ("pending", None, false, None, Unknown, Unknown),
    ] {
        for (kind, label, expected) in [
            ("test", "test-linux64/opt-xpcshell-2", as_test),
            ("build", "build-linux64/opt", as_build),
            ("source-test", "source-test-mozlint-eslint", as_test),
            ("toolchain", "toolchain-linux64-clang-17", as_build),
        ] {
            let mut message = body(label);
            message["task"]["tags"]["kind"] = json!(kind);
            let run = &mut message["status"]["runs"][0];
            run["state"] = json!(state);
            if let Some(reason) = reason {
                run["reasonResolved"] = json!(reason);
            }
            if retried {
                let runs = message["status"]["runs"].as_array_mut().unwrap();
                runs.push(json!({"runId": 1, "state": "pending",
                    "reasonCreated": "retry", "scheduled": "2021-03-01T10:31:00.000Z"}));
            }
            let exchange = format!("exchange/taskcluster-queue/v1/task-{state}");
            let what = format!("{label} {state} {reason:?} retried={retried}");
            let record = translate_json(&exchange, &[ROUTE], &message).unwrap();
            assert_eq!(record.result(), Some(expected), "{what}");
            match &record {
                Record::Task(task) => {
                    assert_eq!(task.status.map(Status::code), status, "{what}");
                    let finished = state != "pending" && state != "running";
                    assert_eq!(task.state.is_finished(), finished, "{what}");
                    assert_eq!(task.state.as_str(), state, "{what}");
                }
                finished => {
                    assert!(
                        state != "pending" && state != "running",
                        "{what}: unfinished tasks are never builds or tests"
                    );
                    assert_eq!(
                        finished.job().unwrap().status.map(Status::code),
                        status,
                        "{what}"
                    );
                }
            }
        }
    }
}

#[test]
fn tasks_of_every_kind_become_records() {
    // (tags.kind, label, record type, platform, build type): labels of real
    // Firefox pushes.
    type Case<'a> = (
        &'a str,
        &'a str,
        &'a str,
        Option<&'a str>,
        Option<BuildType>,
    );
    let cases: [Case<'_>; 12] = [
        (
            "source-test",
            "source-test-mozlint-eslint",
            "task",
            None,
            None,
        ),
        (
            "toolchain",
            "toolchain-linux64-clang-17",
            "task",
            None,
            None,
        ),
        (
            "docker-image",
            "docker-image-debian12-amd64-build",
            "task",
            None,
            None,
        ),
        ("fetch", "fetch-gcc-9", "task", None, None),
        ("decision-task", "Gecko Decision Task", "task", None, None),
        ("action-callback", "Action: Retrigger", "task", None, None),
        (
            "build-signing",
            "build-signing-linux64-shippable/opt",
            "build",
            Some("linux64"),
            Some(BuildType::Opt),
        ),
        (
            "spidermonkey",
            "spidermonkey-sm-plain-linux64/debug",
            "build",
            Some("linux64"),
            Some(BuildType::Debug),
        ),
        (
            "l10n",
            "l10n-linux64-shippable-1/opt",
            "build",
            Some("linux64"),
            Some(BuildType::Opt),
        ),
        (
            "beetmover-repackage",
            "beetmover-repackage-linux64-shippable/opt",
            "build",
            Some("linux64"),
            Some(BuildType::Opt),
        ),
        (
            "upload-symbols",
            "upload-symbols-linux64-shippable/opt",
            "build",
            Some("linux64"),
            Some(BuildType::Opt),
        ),
        (
            "test",
            "test-linux1804-64-qr/debug-mochitest-browser-chrome-e10s-3",
            "test",
            Some("linux64"),
            Some(BuildType::Debug),
        ),
    ];
    for (kind, label, record_type, platform, buildtype) in cases {
        let mut message = body(label);
        message["task"]["tags"]["kind"] = json!(kind);
        message["status"]["runs"][0]["state"] = json!("failed");
        // The decision task and actions carry a kind tag but no label.
        let labelled = !matches!(kind, "decision-task" | "action-callback");
        if !labelled {
            message["task"]["tags"]
                .as_object_mut()
                .unwrap()
                .remove("label");
        }
        let record = translate_json(
            "exchange/taskcluster-queue/v1/task-failed",
            &[ROUTE],
            &message,
        )
        .unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(record.kind(), kind, "{label}");
        assert_eq!(record.tree(), "try", "{label}");
        assert_eq!(record.platform(), platform, "{label}");
        assert_eq!(record.buildtype(), buildtype, "{label}");
        let failed = if kind == "test" || kind == "source-test" {
            JobResult::Testfailed
        } else {
            JobResult::Busted
        };
        assert_eq!(record.result(), Some(failed), "{label}");
        let json = serde_json::to_value(&record).unwrap();
        assert_eq!(json["kind"], kind, "{label}: JSON carries the kind");
        assert_eq!(json["result"], failed.as_str(), "{label}");
        match (record_type, record) {
            ("task", Record::Task(task)) => {
                assert_eq!(task.label.as_deref(), labelled.then_some(label));
                assert_eq!(task.state, TaskState::Failed);
                assert_eq!(task.task_id, "T");
                assert_eq!(task.run_id, 0);
                assert!(task
                    .logurl
                    .as_deref()
                    .unwrap()
                    .ends_with("/task/T/runs/0/artifacts/public/logs/live_backing.log"));
                let expected = pulse_translator::taskcluster::job_kind(kind, label);
                assert_eq!(task.job_kind, expected, "{label}");
            }
            ("build", Record::Build(build)) => {
                assert_eq!(build.job.buildername.as_deref(), Some(label));
                assert_eq!(
                    build.tags.first().map(String::as_str),
                    (kind != "build").then_some(kind)
                );
            }
            ("test", Record::Test(test)) => {
                assert_eq!(test.test, "mochitest-browser-chrome-e10s-3")
            }
            (expected, record) => panic!("{label}: expected a {expected} record, got {record:?}"),
        }
    }
}
