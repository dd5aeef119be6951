//! What a push looks like from outside: [`PushSummary`] with its
//! [`Counts`] and [`FailedTask`]s, and the [`PushEvent`]s that announce
//! its changes. These are what callbacks receive and what serializes.

use chrono::{DateTime, Utc};
use pulse_translator::{FailureLine, JobResult};
use serde::{Deserialize, Serialize};

/// Where a push stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PushState {
    /// Tasks are still defined, pending or running, or the push has not
    /// been quiet for the quiet period yet.
    Running,
    /// Every task has its final run and nothing happened for the quiet
    /// period.
    Finished,
}

impl PushState {
    /// `running` or `finished`.
    pub fn as_str(self) -> &'static str {
        match self {
            PushState::Running => "running",
            PushState::Finished => "finished",
        }
    }
}

/// A push's tasks, counted by where each stands. Every task counts once,
/// by its latest run: a run the queue reran is replaced by the rerun, a
/// retrigger (another task of the same label) is a task of its own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Counts {
    /// Every task known, defined or only seen running.
    pub tasks: u32,
    /// Tasks announced by `task-defined`: the expected set.
    pub defined: u32,
    /// Defined and not run yet (waiting for their dependencies).
    pub unscheduled: u32,
    /// Waiting for a worker.
    pub pending: u32,
    /// Running.
    pub running: u32,
    /// Finished: success.
    pub success: u32,
    /// Finished: a test failed.
    pub testfailed: u32,
    /// Finished: a build or other task failed.
    pub busted: u32,
    /// Finished: an exception the queue did not rerun.
    pub exception: u32,
    /// Finished with an exception the queue reruns: waiting for the rerun.
    pub retry: u32,
    /// Cancelled by a person.
    pub usercancel: u32,
    /// Superseded by a later push.
    pub superseded: u32,
    /// Runs the queue reran (claim expired, worker shut down…): how many
    /// runs were replaced by a rerun, over all tasks.
    pub reruns: u32,
}

impl Counts {
    /// The tasks whose final run failed: testfailed, busted or exception.
    pub fn failed(&self) -> u32 {
        self.testfailed + self.busted + self.exception
    }

    /// Tasks not finished yet, a rerun to come included.
    pub fn unfinished(&self) -> u32 {
        self.unscheduled + self.pending + self.running + self.retry
    }

    /// The count of one Treeherder result; `None` for results a push does
    /// not count (`unknown`, `skipped`).
    pub fn of(&self, result: JobResult) -> Option<u32> {
        Some(match result {
            JobResult::Success => self.success,
            JobResult::Testfailed => self.testfailed,
            JobResult::Busted => self.busted,
            JobResult::Exception => self.exception,
            JobResult::Retry => self.retry,
            JobResult::Usercancel => self.usercancel,
            JobResult::Superseded => self.superseded,
            _ => return None,
        })
    }
}

/// A task whose final run failed (testfailed, busted or exception).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedTask {
    /// The task id.
    pub task_id: String,
    /// The run that failed.
    pub run_id: u32,
    /// The task's label, when its messages name one.
    pub label: Option<String>,
    /// The task kind (`test`, `build`, `source-test`…).
    pub kind: String,
    /// testfailed, busted or exception.
    pub result: JobResult,
    /// When the run resolved, as the queue said (else when it was
    /// handled).
    pub at: DateTime<Utc>,
    /// The run's log.
    pub logurl: Option<String>,
    /// Its first failure lines (at most [`FAILURE_LINES_PER_TASK`]), once
    /// the monitor fetched its details; empty before, and for a task whose
    /// details are not fetched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<FailureLine>,
    /// Why its details could not be fetched, when they could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details_unavailable: Option<String>,
}

/// How many failure lines a push keeps of each failed task: the first
/// ones, which say what broke first.
pub const FAILURE_LINES_PER_TASK: usize = 5;

/// One push: who pushed what, where its tasks stand, and what failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushSummary {
    /// The repository name, e.g. `autoland`.
    pub tree: String,
    /// The push's tip revision, as its tasks' `tc-treeherder` routes name it.
    pub revision: String,
    /// The pushlog id, when the push message or a route said.
    pub push_id: Option<u64>,
    /// Who pushed, when the push message was seen.
    pub author: Option<String>,
    /// When the push landed, when the push message was seen.
    pub pushed_at: Option<DateTime<Utc>>,
    /// The task groups its tasks belong to (the decision task's first).
    pub task_groups: Vec<String>,
    /// Running or finished.
    pub state: PushState,
    /// The worst final result so far ([`worst_result`]); `None` before
    /// any task finished.
    pub result: Option<JobResult>,
    /// Tasks by where they stand.
    pub counts: Counts,
    /// The failed tasks, first failure first.
    pub failed: Vec<FailedTask>,
    /// When the first task failed.
    pub first_failure_at: Option<DateTime<Utc>>,
    /// How many `task-group-resolved` messages named its groups.
    pub groups_resolved: u32,
    /// When the monitor first heard of it.
    pub first_seen: DateTime<Utc>,
    /// When the monitor last heard of it.
    pub last_activity: DateTime<Utc>,
}

/// The worst of the results a push counts, in the order a sheriff cares:
/// busted, testfailed, exception, usercancel, superseded, success. Retries
/// and unfinished tasks do not count; `None` when nothing finished.
///
/// ```
/// use pulse_push::{worst_result, Counts};
/// use pulse_translator::JobResult;
///
/// let counts = Counts { success: 40, testfailed: 2, usercancel: 1, ..Counts::default() };
/// assert_eq!(worst_result(&counts), Some(JobResult::Testfailed));
/// assert_eq!(worst_result(&Counts::default()), None);
/// ```
pub fn worst_result(counts: &Counts) -> Option<JobResult> {
    const ORDER: [JobResult; 6] = [
        JobResult::Busted,
        JobResult::Testfailed,
        JobResult::Exception,
        JobResult::Usercancel,
        JobResult::Superseded,
        JobResult::Success,
    ];
    ORDER
        .into_iter()
        .find(|result| counts.of(*result).unwrap_or(0) > 0)
}

/// What happened to a push.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PushEventKind {
    /// First heard of: its push message or its first task.
    Started,
    /// Its first task failed.
    FirstFailure,
    /// Every task has its final run, and it was quiet for the quiet period.
    Finished,
    /// A finished push changed: tasks added (retriggers, backfills,
    /// actions) or a task rerun. It finishes again with the new summary.
    Reopened,
}

impl PushEventKind {
    /// `started`, `first-failure`, `finished` or `reopened`.
    pub fn as_str(self) -> &'static str {
        match self {
            PushEventKind::Started => "started",
            PushEventKind::FirstFailure => "first-failure",
            PushEventKind::Finished => "finished",
            PushEventKind::Reopened => "reopened",
        }
    }
}

/// A push event: what happened, and the push as it then stood. It
/// serializes as one JSON object (one line): `{"event": "finished",
/// "push": {…}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushEvent {
    /// What happened.
    pub event: PushEventKind,
    /// The push after it happened.
    pub push: PushSummary,
}
