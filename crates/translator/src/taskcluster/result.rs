//! A run's status code and its result in Treeherder's words.

use super::message::{malformed, RunFacts};
use crate::{Error, JobKind, JobResult, Status, TaskState};

/// The buildbot status a run stands for, `None` while it has none
/// (`pending`, `running`, `unscheduled`).
///
/// | run state | `reasonResolved` | status |
/// |---|---|---|
/// | completed | any | 0 success |
/// | failed | any | 2 failure (testfailed) |
/// | exception | `canceled`, `superseded` | 6 cancelled |
/// | exception | `claim-expired`, `worker-shutdown`, `intermittent-task` | 5 retry (the queue reruns the task) |
/// | exception | `deadline-exceeded`, `malformed-payload`, `internal-error`, `resource-unavailable`, anything else | 4 exception |
///
/// An unknown state is [`ErrorKind::MalformedTaskMessage`](crate::ErrorKind::MalformedTaskMessage).
pub(super) fn run_status(
    state: &str,
    reason_resolved: Option<&str>,
) -> Result<Option<Status>, Error> {
    Ok(match state {
        "pending" | "running" | "unscheduled" => None,
        "completed" => Some(Status::Success),
        "failed" => Some(Status::Failure),
        "exception" => Some(match reason_resolved {
            Some("canceled" | "superseded") => Status::Cancelled,
            Some("claim-expired" | "worker-shutdown" | "intermittent-task") => Status::Retry,
            _ => Status::Exception,
        }),
        other => return Err(malformed(format!("unknown run state {other:?}"))),
    })
}

impl RunFacts<'_> {
    /// The result in Treeherder's words, as its Taskcluster handler and job
    /// loader derive it.
    pub(super) fn result(&self, job_kind: JobKind) -> JobResult {
        match self.state {
            TaskState::Defined | TaskState::Pending | TaskState::Running => JobResult::Unknown,
            TaskState::Completed => JobResult::Success,
            TaskState::Failed if job_kind == JobKind::Test => JobResult::Testfailed,
            TaskState::Failed => JobResult::Busted,
            TaskState::Exception if self.retried => JobResult::Retry,
            TaskState::Exception => match self.reason_resolved.as_ref().map(|r| r.as_str()) {
                Some("canceled") => JobResult::Usercancel,
                Some("superseded") => JobResult::Superseded,
                _ => JobResult::Exception,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn status_table() {
        let cases = [
            ("completed", Some("completed"), Some(0)),
            ("failed", Some("failed"), Some(2)),
            ("exception", Some("canceled"), Some(6)),
            ("exception", Some("superseded"), Some(6)),
            ("exception", Some("claim-expired"), Some(5)),
            ("exception", Some("worker-shutdown"), Some(5)),
            ("exception", Some("intermittent-task"), Some(5)),
            ("exception", Some("deadline-exceeded"), Some(4)),
            ("exception", Some("malformed-payload"), Some(4)),
            ("exception", Some("internal-error"), Some(4)),
            ("exception", None, Some(4)),
            ("pending", None, None),
            ("running", None, None),
            ("unscheduled", None, None),
        ];
        for (state, reason, code) in cases {
            assert_eq!(
                run_status(state, reason).unwrap().map(Status::code),
                code,
                "{state} {reason:?}"
            );
        }
        assert!(matches!(
            run_status("exploded", None).unwrap_err().kind(),
            ErrorKind::MalformedTaskMessage { .. }
        ));
    }
}
