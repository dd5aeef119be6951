//! What a queue message says about the run it announces: the task, the
//! run, its state and times, the worker, and the task's tags.

use std::collections::BTreeMap;

use chrono::DateTime;
use serde::Deserialize;

use super::result::run_status;
use crate::{Error, ErrorKind, Message, Status, TaskState};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    status: Option<StatusSection>,
    run_id: Option<u32>,
    worker_id: Option<String>,
    #[serde(default)]
    task: TaskSection,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusSection {
    task_id: Option<String>,
    worker_type: Option<String>,
    #[serde(default)]
    runs: Vec<Run>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    run_id: Option<u32>,
    state: Option<String>,
    reason_created: Option<String>,
    reason_resolved: Option<String>,
    scheduled: Option<String>,
    resolved: Option<String>,
    worker_id: Option<String>,
}

#[derive(Default, Deserialize)]
struct TaskSection {
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

/// What a message says about the run it announces.
pub(super) struct RunFacts {
    pub(super) task_id: String,
    pub(super) run_id: u32,
    pub(super) state: TaskState,
    pub(super) status: Option<Status>,
    pub(super) reason_resolved: Option<String>,
    /// The queue added a run after this one because it retries the task.
    pub(super) retried: bool,
    pub(super) builddate: Option<i64>,
    pub(super) worker_id: Option<String>,
    pub(super) worker_type: Option<String>,
    pub(super) tags: BTreeMap<String, String>,
}

impl RunFacts {
    pub(super) fn read(msg: &Message) -> Result<RunFacts, Error> {
        if !crate::exchanges::TASK_ALL.contains(&msg.exchange.as_str()) {
            return Err(Error::new(ErrorKind::UnknownTaskExchange {
                exchange: msg.exchange.clone(),
            }));
        }
        let body: Body = serde_json::from_slice(&msg.body).map_err(|e| malformed(e.to_string()))?;
        let status = body.status.ok_or_else(|| missing("status"))?;
        let task_id = status.task_id.ok_or_else(|| missing("status.taskId"))?;
        let run_id = body.run_id.ok_or_else(|| missing("runId"))?;
        let position = status
            .runs
            .iter()
            .position(|run| run.run_id == Some(run_id))
            .ok_or_else(|| missing("status.runs[runId]"))?;
        let run = &status.runs[position];
        let state_name = run
            .state
            .as_deref()
            .ok_or_else(|| missing("status.runs[].state"))?;
        let status_code = run_status(state_name, run.reason_resolved.as_deref())?;
        let state = match state_name {
            "pending" | "unscheduled" => TaskState::Pending,
            "running" => TaskState::Running,
            "completed" => TaskState::Completed,
            "failed" => TaskState::Failed,
            // run_status has refused every other state.
            _ => TaskState::Exception,
        };
        let retried = status.runs.get(position + 1).is_some_and(|next| {
            matches!(next.reason_created.as_deref(), Some("retry" | "task-retry"))
        });
        let builddate = match run.resolved.as_deref().or(run.scheduled.as_deref()) {
            Some(time) => Some(
                DateTime::parse_from_rfc3339(time)
                    .map_err(|e| malformed(format!("run time {time:?}: {e}")))?
                    .timestamp(),
            ),
            None => None,
        };
        Ok(RunFacts {
            task_id,
            run_id,
            state,
            status: status_code,
            reason_resolved: run.reason_resolved.clone(),
            retried,
            builddate,
            worker_id: run.worker_id.clone().or(body.worker_id),
            worker_type: status.worker_type,
            tags: body.task.tags,
        })
    }
}

pub(super) fn malformed(reason: String) -> Error {
    Error::new(ErrorKind::MalformedTaskMessage { reason })
}

pub(super) fn missing(field: &'static str) -> Error {
    Error::new(ErrorKind::MissingTaskField { field })
}
