//! What the queue answers: [`Task`] definitions, [`Artifact`]s, and the
//! members of a task group ([`TaskGroupMember`] with its [`TaskStatus`]).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A task definition as the queue serves it (`GET task/<taskId>`), kept as
/// JSON: the translator reads its own fields from [`Task::json`]
/// (`pulse_translator::taskcluster::TaskDefinition` deserializes from it),
/// and [`crate::tested_build`] reads the payload's environment and the
/// dependencies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Task {
    json: Value,
}

impl Task {
    /// A task from its JSON definition.
    pub fn new(json: Value) -> Task {
        Task { json }
    }

    /// The whole definition.
    pub fn json(&self) -> &Value {
        &self.json
    }

    /// `taskGroupId`: the decision task's id for tasks of a push.
    pub fn task_group_id(&self) -> Option<&str> {
        self.json.get("taskGroupId")?.as_str()
    }

    /// `metadata.name`: the task's label in Firefox CI.
    pub fn name(&self) -> Option<&str> {
        self.json.get("metadata")?.get("name")?.as_str()
    }

    /// `dependencies`: the tasks this one waited for.
    pub fn dependencies(&self) -> Vec<&str> {
        self.json
            .get("dependencies")
            .and_then(Value::as_array)
            .map(|ids| ids.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    /// `payload.env.<name>`, when it is a string (docker-worker and
    /// generic-worker both keep the environment there).
    pub fn env(&self, name: &str) -> Option<&str> {
        self.json.get("payload")?.get("env")?.get(name)?.as_str()
    }

    /// `payload.image.taskId`: the docker image task a docker-worker task
    /// ran in, when it came from one.
    pub fn image_task_id(&self) -> Option<&str> {
        self.json
            .get("payload")?
            .get("image")?
            .get("taskId")?
            .as_str()
    }
}

/// One entry of a run's artifact list
/// (`GET task/<taskId>/runs/<runId>/artifacts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Artifact {
    /// e.g. `public/build/target.tar.xz`, `public/test_info/xpcshell_errorsummary.log`.
    pub name: String,
    /// `s3`, `object`, `reference`, `link` or `error`.
    #[serde(default)]
    pub storage_type: String,
    /// e.g. `application/x-xz`; empty when the queue gave none.
    #[serde(default)]
    pub content_type: String,
    /// When the queue deletes it (ISO 8601).
    #[serde(default)]
    pub expires: String,
}

impl Artifact {
    /// An artifact with just a name, as tests and callers that only know
    /// names build them.
    pub fn named(name: impl Into<String>) -> Artifact {
        Artifact {
            name: name.into(),
            storage_type: String::new(),
            content_type: String::new(),
            expires: String::new(),
        }
    }
}

/// A task's status: its state and runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TaskStatus {
    /// The task.
    pub task_id: String,
    /// Its group (the decision task, for a push's tasks).
    #[serde(default)]
    pub task_group_id: String,
    /// `unscheduled`, `pending`, `running`, `completed`, `failed` or `exception`.
    pub state: String,
    /// Its runs, `runs[i].run_id == i`.
    #[serde(default)]
    pub runs: Vec<RunStatus>,
}

/// One run of a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RunStatus {
    /// 0-based.
    pub run_id: u32,
    /// `pending`, `running`, `completed`, `failed` or `exception`.
    pub state: String,
    /// Why it ended (`completed`, `failed`, `deadline-exceeded`, `superseded`…).
    #[serde(default)]
    pub reason_resolved: Option<String>,
}

impl RunStatus {
    /// Whether the run has ended: its artifact list no longer changes.
    pub fn is_resolved(&self) -> bool {
        matches!(self.state.as_str(), "completed" | "failed" | "exception")
    }
}

/// One task of a group, as `listTaskGroup` gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaskGroupMember {
    /// Its status.
    pub status: TaskStatus,
    /// Its definition.
    pub task: Task,
}
