//! [`PushTruth`]: what a generated push amounts to, counted from the
//! generator's own tasks, so tests compare what a monitor reports with a
//! truth no translator computed.

use crate::{ExceptionReason, JobKind, Outcome, Push};

/// A push's tasks by the result of their last run, in Treeherder's words:
/// each task once, a run the queue reran replaced by its rerun.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct PushTruth {
    /// Every task, actions and retriggers included.
    pub tasks: u32,
    /// Last run completed.
    pub success: u32,
    /// A test task's last run failed.
    pub testfailed: u32,
    /// Any other task's last run failed.
    pub busted: u32,
    /// Last run ended by an exception that is not a cancel (deadline
    /// exceeded, internal error…, or a rerun reason with no retries left).
    pub exception: u32,
    /// Last run cancelled.
    pub usercancel: u32,
    /// Runs the queue reran, over all tasks.
    pub reruns: u32,
}

impl PushTruth {
    /// The tasks whose last run failed: testfailed, busted or exception.
    pub fn failed(&self) -> u32 {
        self.testfailed + self.busted + self.exception
    }
}

impl Push {
    /// The push's truth, counted from its tasks (see [`PushTruth`]).
    ///
    /// ```
    /// use pulse_synthetic::Push;
    ///
    /// let push = Push::builder().tasks(200).seed(3).build();
    /// let truth = push.truth();
    /// assert_eq!(truth.tasks as usize, push.tasks.len());
    /// assert_eq!(
    ///     truth.success + truth.failed() + truth.usercancel,
    ///     truth.tasks,
    /// );
    /// ```
    pub fn truth(&self) -> PushTruth {
        let mut truth = PushTruth::default();
        for task in &self.tasks {
            truth.tasks += 1;
            truth.reruns += task.runs.len() as u32 - 1;
            let slot = match task.outcome() {
                Outcome::Completed => &mut truth.success,
                Outcome::Failed if task.job_kind == JobKind::Test => &mut truth.testfailed,
                Outcome::Failed => &mut truth.busted,
                Outcome::Exception {
                    reason: ExceptionReason::Canceled,
                } => &mut truth.usercancel,
                Outcome::Exception { .. } => &mut truth.exception,
            };
            *slot += 1;
        }
        truth
    }

    /// The repository's path on hg.mozilla.org, the routing key of its
    /// push messages: `integration/autoland`, `mozilla-central`, `try`,
    /// `releases/mozilla-beta`.
    pub fn repo_path(&self) -> String {
        match self.tree.as_str() {
            "autoland" | "mozilla-inbound" => format!("integration/{}", self.tree),
            tree if tree.starts_with("mozilla-") && tree != "mozilla-central" => {
                format!("releases/{tree}")
            }
            tree => tree.to_string(),
        }
    }
}
