//! The messages of a generated push against what the queue publishes:
//! the exchanges' schemas (`services/queue/schemas/v1/task-*-message.yml`,
//! `task-status.yml`), routing keys and `CC`, the order of a task's
//! messages, reruns after exceptions, and the shape of a push.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use pulse_synthetic::{ExceptionReason, JobKind, Outcome, Push, SyntheticMessage, SyntheticTask};
use pulse_translator::exchanges::{
    TASK_ALL, TASK_COMPLETED as EXCHANGE_TASK_COMPLETED, TASK_EXCEPTION as EXCHANGE_TASK_EXCEPTION,
    TASK_FAILED as EXCHANGE_TASK_FAILED, TASK_PENDING as EXCHANGE_TASK_PENDING,
    TASK_RUNNING as EXCHANGE_TASK_RUNNING,
};
use serde_json::Value;

/// The messages about tasks' runs: what the queue publishes on the five
/// run exchanges (the push, task-defined and group messages have tests of
/// their own below).
fn run_messages(push: &Push) -> Vec<SyntheticMessage> {
    push.messages()
        .into_iter()
        .filter(|m| TASK_ALL.contains(&m.exchange.as_str()))
        .collect()
}

fn body(message: &SyntheticMessage) -> Value {
    serde_json::from_slice(&message.body).expect("the body is JSON")
}

fn keys(value: &Value) -> BTreeSet<&str> {
    value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}

fn set<'a>(items: &[&'a str]) -> BTreeSet<&'a str> {
    items.iter().copied().collect()
}

fn identifier(value: &Value, what: &str) {
    let s = value
        .as_str()
        .unwrap_or_else(|| panic!("{what} is a string"));
    assert!(
        (1..=38).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{what} {s:?} is not an identifier"
    );
}

fn default_push() -> Push {
    Push::builder().seed(11).build()
}

#[test]
fn bodies_follow_the_exchange_schemas() {
    let push = default_push();
    let tasks: HashMap<&str, &SyntheticTask> =
        push.tasks.iter().map(|t| (t.task_id.as_str(), t)).collect();
    let status_keys = set(&[
        "taskId",
        "provisionerId",
        "workerType",
        "taskQueueId",
        "schedulerId",
        "projectId",
        "taskGroupId",
        "priority",
        "deadline",
        "expires",
        "retriesLeft",
        "state",
        "runs",
    ]);
    let run_keys = set(&[
        "runId",
        "state",
        "reasonCreated",
        "reasonResolved",
        "workerGroup",
        "workerId",
        "takenUntil",
        "scheduled",
        "started",
        "resolved",
    ]);
    for message in run_messages(&push) {
        let body = body(&message);
        let exchange = message.exchange.as_str();
        let top = keys(&body);
        let allowed = match exchange {
            EXCHANGE_TASK_PENDING => set(&["version", "status", "task", "runId"]),
            EXCHANGE_TASK_RUNNING => set(&[
                "version",
                "status",
                "task",
                "runId",
                "workerGroup",
                "workerId",
                "takenUntil",
            ]),
            EXCHANGE_TASK_COMPLETED | EXCHANGE_TASK_FAILED | EXCHANGE_TASK_EXCEPTION => set(&[
                "version",
                "status",
                "task",
                "runId",
                "workerGroup",
                "workerId",
            ]),
            other => panic!("unknown exchange {other}"),
        };
        assert!(top.is_subset(&allowed), "{exchange}: {top:?}");
        let required = match exchange {
            EXCHANGE_TASK_PENDING => set(&["version", "status", "runId"]),
            EXCHANGE_TASK_RUNNING => set(&[
                "version",
                "status",
                "runId",
                "workerGroup",
                "workerId",
                "takenUntil",
            ]),
            EXCHANGE_TASK_EXCEPTION => set(&["version", "status"]),
            _ => set(&["version", "status", "runId", "workerGroup", "workerId"]),
        };
        assert!(required.is_subset(&top), "{exchange}: {top:?}");
        assert_eq!(body["version"], 1);
        assert_eq!(keys(&body["task"]), set(&["tags"]));

        let status = &body["status"];
        assert_eq!(keys(status), status_keys, "{exchange}");
        for field in ["provisionerId", "workerType", "schedulerId"] {
            identifier(&status[field], field);
        }
        let task_id = status["taskId"].as_str().unwrap();
        assert_eq!(task_id.len(), 22);
        let task = tasks[task_id];
        assert_eq!(status["taskGroupId"], push.decision_task_id.as_str());
        assert_eq!(
            status["taskQueueId"],
            format!("{}/{}", task.provisioner_id, task.worker_type).as_str()
        );
        let runs = status["runs"].as_array().unwrap();
        for (i, run) in runs.iter().enumerate() {
            assert_eq!(run["runId"], i, "runs[i] has runId i");
            let k = keys(run);
            assert!(k.is_subset(&run_keys), "{k:?}");
            assert!(set(&["runId", "state", "reasonCreated", "scheduled"]).is_subset(&k));
            if let Some(group) = run.get("workerGroup") {
                identifier(group, "workerGroup");
                identifier(&run["workerId"], "workerId");
            }
        }
        assert_eq!(status["state"], runs.last().unwrap()["state"]);
        let run_id = body["runId"].as_u64().unwrap() as usize;
        let run = &runs[run_id];
        let expected_state = match exchange {
            EXCHANGE_TASK_PENDING => "pending",
            EXCHANGE_TASK_RUNNING => "running",
            EXCHANGE_TASK_COMPLETED => "completed",
            EXCHANGE_TASK_FAILED => "failed",
            _ => "exception",
        };
        assert_eq!(run["state"], expected_state);
        assert_eq!(body["task"]["tags"]["kind"], task.kind.as_str());
        if let Some(worker) = body.get("workerId") {
            assert_eq!(run["workerId"], *worker);
            assert_eq!(run["workerGroup"], body["workerGroup"]);
        }
        if exchange == EXCHANGE_TASK_RUNNING {
            assert_eq!(run["takenUntil"], body["takenUntil"]);
        }
        if exchange == EXCHANGE_TASK_EXCEPTION && run["reasonResolved"] == "deadline-exceeded" {
            assert!(
                body.get("workerId").is_none(),
                "the deadline resolver names no worker"
            );
        }

        // primary.<taskId>.<runId>.<workerGroup>.<workerId>.<provisionerId>.<workerType>.<schedulerId>.<taskGroupId>.<reserved>
        let parts: Vec<&str> = message.routing_key.split('.').collect();
        assert_eq!(parts.len(), 10, "{}", message.routing_key);
        assert_eq!(parts[0], "primary");
        assert_eq!(parts[1], task_id);
        assert_eq!(parts[2], run_id.to_string());
        assert_eq!(
            parts[3],
            body.get("workerGroup")
                .and_then(Value::as_str)
                .unwrap_or("_")
        );
        assert_eq!(
            parts[4],
            body.get("workerId").and_then(Value::as_str).unwrap_or("_")
        );
        assert_eq!(parts[5], task.provisioner_id);
        assert_eq!(parts[6], task.worker_type);
        assert_eq!(parts[7], task.scheduler_id);
        assert_eq!(parts[8], push.decision_task_id);
        assert_eq!(parts[9], "_");
        let cc: Vec<String> = task.routes.iter().map(|r| format!("route.{r}")).collect();
        assert_eq!(message.cc, cc);
    }
}

#[test]
fn each_task_goes_pending_running_resolved_and_reruns_after_its_exceptions() {
    let push = default_push();
    let messages = run_messages(&push);
    assert_eq!(messages[0].exchange, EXCHANGE_TASK_PENDING);
    assert!(messages[0]
        .routing_key
        .starts_with(&format!("primary.{}.0.", push.decision_task_id)));
    for pair in messages.windows(2) {
        assert!(pair[0].time <= pair[1].time, "published in time order");
    }
    let mut per_task: HashMap<String, Vec<(String, u64, Value)>> = HashMap::new();
    for m in &messages {
        let b = body(m);
        let task_id = b["status"]["taskId"].as_str().unwrap().to_string();
        per_task.entry(task_id).or_default().push((
            m.exchange.clone(),
            b["runId"].as_u64().unwrap(),
            b,
        ));
    }
    let mut reruns = 0;
    for task in &push.tasks {
        let seen = &per_task[&task.task_id];
        let mut expected = Vec::new();
        for run in &task.runs {
            let id = u64::from(run.run_id);
            if run.reason_created != "exception" {
                expected.push((EXCHANGE_TASK_PENDING, id));
            }
            if run.started.is_some() {
                expected.push((EXCHANGE_TASK_RUNNING, id));
            }
            let resolved = match run.outcome {
                Outcome::Completed => EXCHANGE_TASK_COMPLETED,
                Outcome::Failed => EXCHANGE_TASK_FAILED,
                Outcome::Exception { .. } => EXCHANGE_TASK_EXCEPTION,
            };
            expected.push((resolved, id));
        }
        let got: Vec<(&str, u64)> = seen.iter().map(|(e, r, _)| (e.as_str(), *r)).collect();
        assert_eq!(got, expected, "{}", task.label);
        for (k, run) in task.runs.iter().enumerate().skip(1) {
            reruns += 1;
            let previous = &task.runs[k - 1];
            let Outcome::Exception { reason } = previous.outcome else {
                panic!("{}: a rerun follows an exception", task.label);
            };
            assert!(
                reason.is_retried(),
                "{}: {reason} is not retried",
                task.label
            );
            assert_eq!(
                run.reason_created,
                if reason == ExceptionReason::IntermittentTask {
                    "task-retry"
                } else {
                    "retry"
                }
            );
            assert_eq!(run.scheduled, previous.resolved);
            // The exception message already shows the new pending run.
            let (_, _, exception) = seen
                .iter()
                .find(|(e, r, _)| e == EXCHANGE_TASK_EXCEPTION && *r == previous.run_id as u64)
                .unwrap();
            let runs = exception["status"]["runs"].as_array().unwrap();
            assert_eq!(runs.len(), k + 1);
            assert_eq!(runs[k]["state"], "pending");
            assert_eq!(exception["status"]["state"], "pending");
            assert_eq!(
                exception["status"]["retriesLeft"].as_u64().unwrap(),
                u64::from(task.retries) - k as u64
            );
        }
    }
    assert!(reruns >= 5, "{reruns} reruns");
}

#[test]
fn a_push_has_thousands_of_tasks_of_many_kinds_tests_first() {
    let push = default_push();
    assert!(
        (2900..=3300).contains(&push.tasks.len()),
        "{}",
        push.tasks.len()
    );
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for task in &push.tasks {
        *kinds.entry(task.kind.as_str()).or_default() += 1;
    }
    assert!(kinds.len() >= 15, "{kinds:?}");
    let tests = push
        .tasks
        .iter()
        .filter(|t| t.job_kind == JobKind::Test)
        .count();
    assert!(
        tests * 10 > push.tasks.len() * 8,
        "tests dominate: {kinds:?}"
    );
    assert!(kinds["mochitest"] > kinds["build"] * 10);
    let ids: BTreeSet<&str> = push.tasks.iter().map(|t| t.task_id.as_str()).collect();
    assert_eq!(ids.len(), push.tasks.len(), "task ids are unique");
    assert_eq!(push.revision.len(), 40);
    assert_eq!(push.tasks[0].kind, "decision-task");
    assert_eq!(push.tasks[0].label, "Gecko Decision Task");
    assert!(!push.tasks[0].tags.contains_key("label"));

    // Failures are few, of tests mostly; exceptions have reasons.
    let failed: Vec<&SyntheticTask> = push
        .tasks
        .iter()
        .filter(|t| t.outcome() == Outcome::Failed)
        .collect();
    assert!(!failed.is_empty() && failed.len() * 20 < push.tasks.len());
    let exceptions = push
        .tasks
        .iter()
        .filter(|t| matches!(t.outcome(), Outcome::Exception { .. }))
        .count();
    assert!(
        exceptions * 50 < push.tasks.len(),
        "{exceptions} exceptions"
    );
    // Every resolved run published exactly one resolution.
    let messages = push.messages();
    let count = |exchange: &str| messages.iter().filter(|m| m.exchange == exchange).count();
    let runs = |f: &dyn Fn(Outcome) -> bool| {
        push.tasks
            .iter()
            .flat_map(|t| &t.runs)
            .filter(|r| f(r.outcome))
            .count()
    };
    assert_eq!(count(EXCHANGE_TASK_FAILED), runs(&|o| o == Outcome::Failed));
    assert_eq!(
        count(EXCHANGE_TASK_COMPLETED),
        runs(&|o| o == Outcome::Completed)
    );
    assert_eq!(
        count(EXCHANGE_TASK_EXCEPTION),
        runs(&|o| matches!(o, Outcome::Exception { .. }))
    );
}

#[test]
fn the_treeherder_route_is_on_every_task() {
    let push = Push::builder()
        .tree("mozilla-central")
        .tasks(1500)
        .seed(3)
        .build();
    let route = push.treeherder_route();
    assert_eq!(
        route,
        format!("tc-treeherder.v2.mozilla-central.{}", push.revision)
    );
    for task in &push.tasks {
        assert!(task.routes.contains(&route), "{}", task.label);
    }
    let build = push
        .tasks
        .iter()
        .find(|t| t.label == "build-linux64/debug")
        .unwrap();
    assert!(build.routes.contains(&format!(
        "index.gecko.v2.mozilla-central.revision.{}.firefox.linux64-debug",
        push.revision
    )));
    assert!(build.routes.contains(&format!(
        "index.gecko.v2.trunk.revision.{}.firefox.linux64-debug",
        push.revision
    )));
    // Production signing on mozilla-central, level 1 on try.
    let signing = push
        .tasks
        .iter()
        .find(|t| t.kind == "build-signing")
        .unwrap();
    assert_eq!(signing.worker_type, "gecko-3-signing");
    assert!(!signing.tags.contains_key("worker-implementation"));
    let try_push = Push::builder().tree("try").tasks(100).build();
    assert!(try_push
        .tasks
        .iter()
        .all(|t| t.scheduler_id == "gecko-level-1"));
    assert_eq!(try_push.tasks[1].priority, "very-low");
}

#[test]
fn the_same_seed_makes_the_same_push() {
    let a = Push::builder().tasks(300).seed(42).build();
    let b = Push::builder().tasks(300).seed(42).build();
    let c = Push::builder().tasks(300).seed(43).build();
    assert_eq!(a.messages(), b.messages());
    assert_ne!(a.revision, c.revision);
    assert_ne!(a.messages(), c.messages());
    let revision = "0123456789abcdef0123456789abcdef01234567";
    let d = Push::builder()
        .tasks(50)
        .revision(revision)
        .push_id(12345)
        .build();
    assert_eq!(d.revision, revision);
    assert!(d.tasks[0]
        .routes
        .iter()
        .any(|r| r.ends_with(".pushlog-id.12345.decision")));
}

#[test]
fn bad_settings_are_errors() {
    let err = Push::builder().tree("auto land").try_build().unwrap_err();
    assert!(err.to_string().contains("Treeherder project"), "{err}");
    let err = Push::builder().revision("abc").try_build().unwrap_err();
    assert!(err.to_string().contains("40 lowercase hex"), "{err}");
}

#[test]
fn bigger_pushes_get_retriggers_and_smaller_ones_fewer_tests() {
    let big = Push::builder().tasks(5000).seed(9).build();
    assert!(
        (4900..=5200).contains(&big.tasks.len()),
        "{}",
        big.tasks.len()
    );
    let actions = big
        .tasks
        .iter()
        .filter(|t| t.kind == "action-callback")
        .count();
    assert!(actions > 100, "{actions}");
    assert!(big
        .tasks
        .iter()
        .filter(|t| t.kind == "action-callback")
        .all(|t| t.label == "Action: Retrigger"));
    let small = Push::builder().tasks(200).seed(9).build();
    assert!(
        (180..=260).contains(&small.tasks.len()),
        "{}",
        small.tasks.len()
    );
    assert!(small.tasks.iter().any(|t| t.kind == "build"));
}

/// Our completed message has every field of a real one (2020 corpus).
#[test]
fn completed_messages_have_the_fields_of_real_ones() {
    let Some(dir) = pulse_test_corpus::corpus_dir("taskcluster/tagged-2020") else {
        return;
    };
    let text = std::fs::read_to_string(dir.join("linux_B_Bpgo_pulse.json")).unwrap();
    let real: Value = serde_json::from_str(&text).unwrap();
    let push = Push::builder().tasks(100).build();
    let ours = push
        .messages()
        .into_iter()
        .find(|m| m.exchange == EXCHANGE_TASK_COMPLETED)
        .map(|m| body(&m))
        .unwrap();
    assert_eq!(keys(&ours), keys(&real));
    assert!(keys(&real["status"]).is_subset(&keys(&ours["status"])));
    let real_run = &real["status"]["runs"][0];
    let our_run = &ours["status"]["runs"][ours["runId"].as_u64().unwrap() as usize];
    assert_eq!(keys(real_run), keys(our_run));
    let real_tags = keys(&real["task"]["tags"]);
    let our_build = push.tasks.iter().find(|t| t.kind == "build").unwrap();
    let our_tags: BTreeSet<&str> = our_build.tags.keys().map(String::as_str).collect();
    assert!(
        real_tags.is_subset(&our_tags),
        "{real_tags:?} ⊄ {our_tags:?}"
    );
}

#[test]
fn a_push_begins_with_its_push_message_defines_every_task_and_resolves_its_group() {
    use pulse_translator::exchanges::{HG_PUSHES, TASK_DEFINED, TASK_GROUP_RESOLVED};
    let mut resolutions = BTreeSet::new();
    for seed in 1..=12 {
        let push = Push::builder().tasks(300).seed(seed).build();
        let messages = push.messages();
        assert_eq!(messages[0].exchange, HG_PUSHES, "the push comes first");
        assert_eq!(messages[0].routing_key, "integration/autoland");
        let hg = body(&messages[0]);
        let data = &hg["payload"]["data"];
        assert_eq!(hg["payload"]["type"], "changegroup.1");
        assert_eq!(data["heads"][0], push.revision.as_str());
        assert_eq!(data["pushlog_pushes"][0]["pushid"], push.push_id);
        assert_eq!(data["pushlog_pushes"][0]["user"], push.owner.as_str());

        // Each task is defined once, before any other message about it.
        let mut defined = BTreeSet::new();
        for message in &messages[1..] {
            if message.exchange == TASK_GROUP_RESOLVED || message.exchange == HG_PUSHES {
                continue;
            }
            let b = body(message);
            let task_id = b["status"]["taskId"].as_str().unwrap().to_string();
            if message.exchange == TASK_DEFINED {
                assert!(b.get("runId").is_none(), "a defined task has no run");
                assert_eq!(b["status"]["runs"], Value::Array(Vec::new()));
                assert!(defined.insert(task_id), "defined once");
            } else {
                assert!(
                    defined.contains(&task_id),
                    "{task_id} defined before its runs"
                );
            }
        }
        assert_eq!(defined.len(), push.tasks.len());

        let groups: Vec<&SyntheticMessage> = messages
            .iter()
            .filter(|m| m.exchange == TASK_GROUP_RESOLVED)
            .collect();
        assert_eq!(groups.len(), push.group_resolved_at.len());
        for group in &groups {
            assert_eq!(body(group)["taskGroupId"], push.decision_task_id.as_str());
        }
        resolutions.insert(groups.len());
    }
    assert_eq!(
        resolutions,
        BTreeSet::from([0, 1, 2]),
        "some groups resolve never, some once, some twice"
    );
}
