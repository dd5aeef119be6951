//! The queue's messages about a push: exchange, routing key, `CC` and body,
//! as `services/queue/src/exchanges.js` builds them.

use chrono::{DateTime, Duration, Utc};
use pulse_translator::{exchanges, Message};
use serde_json::{json, Map, Value};
use std::ops::Deref;

use crate::{ExceptionReason, Outcome, Push, SyntheticRun, SyntheticTask};

/// One message as the queue publishes it, and when. It reads as its
/// [`Message`]:
/// - the exchange is one of the five Taskcluster queue exchanges
///   ([`exchanges::TASK_ALL`]);
/// - the routing key is
///   `primary.<taskId>.<runId>.<workerGroup>.<workerId>.<provisionerId>.<workerType>.<schedulerId>.<taskGroupId>._`,
///   with `_` for what the run does not have yet;
/// - `cc` holds each of the task's routes as `route.<route>`;
/// - the JSON body holds `status`, `runId`, `task.tags`, `version` and, as
///   the exchange's schema says, `workerGroup`, `workerId`, `takenUntil`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntheticMessage {
    /// The message.
    pub message: Message,
    /// When the queue publishes it.
    pub time: DateTime<Utc>,
}

impl Deref for SyntheticMessage {
    type Target = Message;

    fn deref(&self) -> &Message {
        &self.message
    }
}

/// What happened to a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Defined,
    Pending,
    Running,
    Resolved,
}

/// Every message about `push`, in publication order: by time, and for one
/// task always pending, running, then resolved, a rerun's pending right
/// after the exception that caused it.
pub(crate) fn messages(push: &Push) -> Vec<SyntheticMessage> {
    let mut events = Vec::new();
    for task in &push.tasks {
        // Created before anything else happens to it: a stable sort keeps
        // it ahead of a first run pending at the same instant.
        events.push((task.created, task, 0, Phase::Defined));
        for (index, run) in task.runs.iter().enumerate() {
            if run.reason_created != "exception" {
                events.push((run.scheduled, task, index, Phase::Pending));
            }
            if let Some(started) = run.started {
                events.push((started, task, index, Phase::Running));
            }
            events.push((run.resolved, task, index, Phase::Resolved));
        }
    }
    // A stable sort keeps each task's own order where times are equal.
    events.sort_by_key(|(time, ..)| *time);
    let tasks = events
        .into_iter()
        .map(|(time, task, index, phase)| message(push, task, index, phase, time));
    let mut all: Vec<SyntheticMessage> = std::iter::once(hg_push(push))
        .chain(tasks)
        .chain(
            push.group_resolved_at
                .iter()
                .map(|at| group_resolved(push, *at)),
        )
        .collect();
    all.sort_by_key(|message| message.time);
    all
}

/// hg.mozilla.org's `changegroup.1` for the push, as version-control-tools
/// documents it (`docs/hgmo/notifications.rst`), in mozillapulse's
/// envelope.
fn hg_push(push: &Push) -> SyntheticMessage {
    let path = push.repo_path();
    let repo_url = format!("https://hg.mozilla.org/{path}");
    let json_url = |full: &str| {
        format!(
            "{repo_url}/json-pushes?version=2{full}&startID={}&endID={}",
            push.push_id - 1,
            push.push_id
        )
    };
    let body = json!({
        "payload": {
            "type": "changegroup.1",
            "data": {
                "repo_url": repo_url,
                "heads": [push.revision],
                "source": "serve",
                "pushlog_pushes": [{
                    "pushid": push.push_id,
                    "user": push.owner,
                    "time": push.pushed_at.timestamp(),
                    "push_json_url": json_url(""),
                    "push_full_json_url": json_url("&full=1"),
                }],
            },
        },
        "_meta": {
            "exchange": exchanges::HG_PUSHES,
            "routing_key": path,
            "serializer": "json",
            "sent": timestamp(push.pushed_at),
        },
    });
    let body = serde_json::to_vec(&body).expect("JSON always serializes");
    SyntheticMessage {
        message: Message::new(exchanges::HG_PUSHES, path, body),
        time: push.pushed_at,
    }
}

/// `task-group-resolved` for the push's group: `taskGroupId`,
/// `schedulerId` and `expires`, routed by `primary.<group>.<scheduler>._`.
fn group_resolved(push: &Push, at: DateTime<Utc>) -> SyntheticMessage {
    let decision = &push.tasks[0];
    let body = json!({
        "taskGroupId": push.task_group_id(),
        "schedulerId": decision.scheduler_id,
        "expires": timestamp(decision.expires),
    });
    let routing_key = format!(
        "primary.{}.{}._",
        push.task_group_id(),
        decision.scheduler_id
    );
    let body = serde_json::to_vec(&body).expect("JSON always serializes");
    SyntheticMessage {
        message: Message::new(exchanges::TASK_GROUP_RESOLVED, routing_key, body),
        time: at,
    }
}

fn message(
    push: &Push,
    task: &SyntheticTask,
    index: usize,
    phase: Phase,
    time: DateTime<Utc>,
) -> SyntheticMessage {
    let run = &task.runs[index];
    let exchange = match phase {
        Phase::Defined => exchanges::TASK_DEFINED,
        Phase::Pending => exchanges::TASK_PENDING,
        Phase::Running => exchanges::TASK_RUNNING,
        Phase::Resolved => match run.outcome {
            Outcome::Completed => exchanges::TASK_COMPLETED,
            Outcome::Failed => exchanges::TASK_FAILED,
            Outcome::Exception { .. } => exchanges::TASK_EXCEPTION,
        },
    };
    // The deadline resolver publishes no worker, even for a run that had
    // one; every other message of a claimed run names it.
    let names_worker = match (phase, run.outcome) {
        (Phase::Defined | Phase::Pending, _) => false,
        (
            Phase::Resolved,
            Outcome::Exception {
                reason: ExceptionReason::DeadlineExceeded,
            },
        ) => false,
        _ => run.worker_id.is_some(),
    };
    let mut body = Map::new();
    body.insert("version".into(), json!(1));
    body.insert("status".into(), status(push, task, index, phase));
    if phase != Phase::Defined {
        body.insert("runId".into(), json!(run.run_id));
    }
    body.insert("task".into(), json!({ "tags": task.tags }));
    if names_worker {
        body.insert("workerGroup".into(), json!(run.worker_group));
        body.insert("workerId".into(), json!(run.worker_id));
    }
    if phase == Phase::Running {
        let started = run.started.expect("a running run started");
        body.insert("takenUntil".into(), json!(timestamp(first_claim(started))));
    }
    let (group, id) = if names_worker {
        (
            run.worker_group.as_deref().unwrap_or("_"),
            run.worker_id.as_deref().unwrap_or("_"),
        )
    } else {
        ("_", "_")
    };
    // A defined task has no run: `_` where the run id goes.
    let run_id = match phase {
        Phase::Defined => "_".to_string(),
        _ => run.run_id.to_string(),
    };
    let routing_key = format!(
        "primary.{}.{run_id}.{group}.{id}.{}.{}.{}.{}._",
        task.task_id,
        task.provisioner_id,
        task.worker_type,
        task.scheduler_id,
        push.task_group_id(),
    );
    let body = serde_json::to_vec(&Value::Object(body)).expect("JSON always serializes");
    let cc = task.routes.iter().map(|r| format!("route.{r}")).collect();
    SyntheticMessage {
        message: Message::new(exchange, routing_key, body).with_cc(cc),
        time,
    }
}

/// The task's status as the queue knows it when it publishes the message:
/// the runs so far, this one as of `phase`, and, once an exception is
/// resolved with a rerun, the rerun's pending run.
/// A task's status once its last run resolved, as the queue lists it.
pub(crate) fn final_status(push: &Push, task: &SyntheticTask) -> Value {
    status(push, task, task.runs.len() - 1, Phase::Resolved)
}

fn status(push: &Push, task: &SyntheticTask, index: usize, phase: Phase) -> Value {
    if phase == Phase::Defined {
        return status_json(push, task, 0, json!("unscheduled"), Vec::new());
    }
    let mut runs: Vec<Value> = task.runs[..index]
        .iter()
        .map(|run| run_json(run, Phase::Resolved))
        .collect();
    runs.push(run_json(&task.runs[index], phase));
    let mut last = index;
    if phase == Phase::Resolved {
        if let Some(next) = task.runs.get(index + 1) {
            runs.push(run_json(next, Phase::Pending));
            last = index + 1;
        }
    }
    let reruns = task.runs[1..=last]
        .iter()
        .filter(|run| run.reason_created == "retry" || run.reason_created == "task-retry")
        .count() as u32;
    let state = runs
        .last()
        .and_then(|run| run.get("state"))
        .cloned()
        .unwrap_or_else(|| json!("unscheduled"));
    status_json(push, task, reruns, state, runs)
}

fn status_json(
    push: &Push,
    task: &SyntheticTask,
    reruns: u32,
    state: Value,
    runs: Vec<Value>,
) -> Value {
    json!({
        "taskId": task.task_id,
        "provisionerId": task.provisioner_id,
        "workerType": task.worker_type,
        "taskQueueId": format!("{}/{}", task.provisioner_id, task.worker_type),
        "schedulerId": task.scheduler_id,
        "projectId": "none",
        "taskGroupId": push.task_group_id(),
        "priority": task.priority,
        "deadline": timestamp(task.deadline),
        "expires": timestamp(task.expires),
        "retriesLeft": task.retries.saturating_sub(reruns),
        "state": state,
        "runs": runs,
    })
}

/// A run as `status.runs[]` shows it as of `phase`: fields appear as the
/// run gets them (the queue leaves out what is undefined).
fn run_json(run: &SyntheticRun, phase: Phase) -> Value {
    let mut out = Map::new();
    out.insert("runId".into(), json!(run.run_id));
    let state = match phase {
        Phase::Defined | Phase::Pending => "pending",
        Phase::Running => "running",
        Phase::Resolved => run.outcome.state(),
    };
    out.insert("state".into(), json!(state));
    out.insert("reasonCreated".into(), json!(run.reason_created));
    if phase == Phase::Resolved {
        out.insert("reasonResolved".into(), json!(run.reason_resolved()));
    }
    if phase != Phase::Pending {
        if let Some(started) = run.started {
            out.insert("workerGroup".into(), json!(run.worker_group));
            out.insert("workerId".into(), json!(run.worker_id));
            let taken_until = match phase {
                Phase::Running => first_claim(started),
                _ => run.taken_until.unwrap_or_else(|| first_claim(started)),
            };
            out.insert("takenUntil".into(), json!(timestamp(taken_until)));
            out.insert("started".into(), json!(timestamp(started)));
        }
    }
    out.insert("scheduled".into(), json!(timestamp(run.scheduled)));
    if phase == Phase::Resolved {
        out.insert("resolved".into(), json!(timestamp(run.resolved)));
    }
    Value::Object(out)
}

/// `takenUntil` when a worker claims a run: the queue's 20-minute claim.
fn first_claim(started: DateTime<Utc>) -> DateTime<Utc> {
    started + Duration::seconds(1200)
}

/// Times as the queue writes them (JavaScript's `Date.toJSON`).
fn timestamp(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}
