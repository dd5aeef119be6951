//! One test task announced on each of the queue's five exchanges, through
//! the real broker: a Taskcluster monitor hears exactly the finished ones
//! (completed, failed, exception), as builds and tests with Treeherder's
//! results; with `progress` it also hears pending and running, as task
//! records that say they have not finished, never as tests.
//!
//! Each run marks its routing keys with its own word, and a last message
//! published after the five (one publisher, one queue: the broker keeps
//! their order) says when everything routed to us has arrived.

mod taskcluster_support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pulse_build_monitor::{exchanges, Filter, JobResult, Monitor, Record, Source, TaskState};
use serde_json::json;
use taskcluster_support::broker_or_skip;

const ROUTE: &str = "route.tc-treeherder.v2.autoland.0123456789abcdef0123456789abcdef01234567.4242";

/// A test task's message on `exchange`, its run in the state that
/// exchange announces; `task_id` names the exchange for the assertions.
fn message(exchange: &str, task_id: &str, marker: &str) -> (String, Vec<u8>) {
    let state = exchange.rsplit("task-").next().unwrap();
    let mut run = json!({"runId": 0, "state": state, "reasonCreated": "scheduled",
        "scheduled": "2026-11-29T10:00:00.000Z"});
    if state != "pending" {
        run["workerGroup"] = json!("us-east-1");
        run["workerId"] = json!("i-0abc");
        run["started"] = json!("2026-11-29T10:01:00.000Z");
    }
    match state {
        "completed" | "failed" => {
            run["reasonResolved"] = json!(state);
            run["resolved"] = json!("2026-11-29T10:20:00.000Z");
        }
        "exception" => {
            run["reasonResolved"] = json!("canceled");
            run["resolved"] = json!("2026-11-29T10:05:00.000Z");
        }
        _ => {}
    }
    let body = json!({
        "status": {"taskId": task_id, "provisionerId": "gecko-t", "workerType": "t-linux-large",
                   "schedulerId": "gecko-level-3", "taskGroupId": "G", "state": state,
                   "runs": [run]},
        "runId": 0,
        "task": {"tags": {"kind": "test", "label": "test-linux1804-64-qr/debug-xpcshell-2"}},
        "version": 1
    });
    let key = format!(
        "primary.{task_id}.0.us-east-1.i-0abc.gecko-t.t-linux-large.gecko-level-3.G.{marker}"
    );
    (key, serde_json::to_vec(&body).unwrap())
}

/// What one monitor heard: the task ids of raw messages, and records.
#[derive(Default)]
struct Heard {
    messages: Vec<String>,
    tests: Vec<Record>,
    tasks: Vec<Record>,
}

fn run(progress: bool) -> Option<Heard> {
    let settings = broker_or_skip("pulse-build-monitor-test/taskcluster-exchanges")?;
    let marker = format!("five-{}", pulse_wire::random_label());
    let heard = Arc::new(Mutex::new(Heard::default()));
    let (on_message, on_test, on_task) = (heard.clone(), heard.clone(), heard.clone());
    let ours = {
        let marker = marker.clone();
        move |key: &str| key.ends_with(&format!(".{marker}"))
    };
    let (ours_m, ours_t, ours_k) = (ours.clone(), ours.clone(), ours.clone());
    let monitor = Monitor::builder()
        .source(Source::Taskcluster { progress })
        .filter(Filter::builder().any_tree().any_kind().build().unwrap())
        .broker(settings.clone())
        .label(marker.clone())
        .declare_exchanges(true)
        .on_message(move |m| {
            if ours_m(&m.routing_key) {
                let task_id = m.routing_key.split('.').nth(1).unwrap().to_string();
                on_message.lock().unwrap().messages.push(task_id);
            }
        })
        .on_test(move |t| {
            if ours_t(&t.job.key) {
                on_test.lock().unwrap().tests.push(Record::Test(t));
            }
        })
        .on_task(move |t| {
            if ours_k(&t.key) {
                on_task.lock().unwrap().tasks.push(Record::Task(t));
            }
        })
        .start()
        .unwrap();

    let mut publisher = pulse_wire::Publisher::connect(&settings).unwrap();
    for exchange in exchanges::TASK_ALL {
        publisher.declare_exchange(exchange).unwrap();
    }
    let cc = vec![ROUTE.to_string()];
    for exchange in exchanges::TASK_ALL {
        let name = exchange.rsplit('-').next().unwrap();
        let (key, body) = message(exchange, name, &marker);
        publisher.publish(exchange, &key, &body, Some(&cc)).unwrap();
    }
    let (key, body) = message(exchanges::TASK_COMPLETED, "last", &marker);
    publisher
        .publish(exchanges::TASK_COMPLETED, &key, &body, Some(&cc))
        .unwrap();
    publisher.close().unwrap();

    // Wait for the last message's record: every message before it has
    // been handed out by then, and records come after their messages.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done = heard
            .lock()
            .unwrap()
            .tests
            .iter()
            .any(|r| r.key().split('.').nth(1) == Some("last"));
        if done {
            break;
        }
        assert!(Instant::now() < deadline, "the last message never came");
        std::thread::sleep(Duration::from_millis(20));
    }
    let report = monitor.stop();
    assert!(report.is_complete(), "{report:?}");
    assert_eq!(report.stats.translation_errors, 0);
    let heard = std::mem::take(&mut *heard.lock().unwrap());
    Some(heard)
}

fn task_ids(records: &[Record]) -> Vec<(String, String)> {
    let mut ids: Vec<(String, String)> = records
        .iter()
        .map(|r| {
            let id = r.key().split('.').nth(1).unwrap().to_string();
            (id, r.result().unwrap().as_str().to_string())
        })
        .filter(|(id, _)| id != "last")
        .collect();
    ids.sort();
    ids
}

#[test]
fn finished_exchanges_only_by_default() {
    let Some(heard) = run(false) else {
        return;
    };
    let mut messages = heard.messages.clone();
    messages.sort();
    assert_eq!(messages, ["completed", "exception", "failed", "last"]);
    let want = [
        ("completed", JobResult::Success),
        ("exception", JobResult::Usercancel),
        ("failed", JobResult::Testfailed),
    ]
    .map(|(id, r)| (id.to_string(), r.as_str().to_string()));
    assert_eq!(task_ids(&heard.tests), want);
    assert!(heard.tasks.is_empty(), "{:?}", heard.tasks);
}

#[test]
fn progress_adds_pending_and_running_as_unfinished_tasks() {
    let Some(heard) = run(true) else {
        return;
    };
    let mut messages = heard.messages.clone();
    messages.sort();
    assert_eq!(
        messages,
        [
            "completed",
            "exception",
            "failed",
            "last",
            "pending",
            "running"
        ]
    );
    assert_eq!(
        task_ids(&heard.tests).len(),
        3,
        "the finished ones are tests"
    );
    let mut unfinished: Vec<(String, TaskState, JobResult)> = heard
        .tasks
        .iter()
        .map(|r| match r {
            Record::Task(t) => (t.task_id.clone(), t.state, t.result),
            other => panic!("{other:?}"),
        })
        .collect();
    unfinished.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        unfinished,
        [
            (
                "pending".to_string(),
                TaskState::Pending,
                JobResult::Unknown
            ),
            (
                "running".to_string(),
                TaskState::Running,
                JobResult::Unknown
            ),
        ]
    );
    for record in &heard.tasks {
        assert_eq!(
            record.kind(),
            "test",
            "a test task, still running: not a test record"
        );
    }
}
