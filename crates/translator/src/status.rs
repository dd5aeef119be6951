//! How a job ended or stands: buildbot's result code ([`Status`]), the
//! result in Treeherder's words ([`JobResult`]) and a Taskcluster run's
//! state ([`TaskState`]).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Buildbot's result code for a job, which every build and test record
/// carries as `status` and serializes as the number the reference
/// translator published (the seed's callbacks received that number).
///
/// Taskcluster runs are given the code their state stands for (see
/// [`taskcluster::translate`](crate::taskcluster::translate)). A code
/// outside buildbot's seven is kept as the message gave it, as
/// [`Status::Other`]: the reference translator passed `results` through
/// unchecked, so a record says what the message said.
#[derive(Clone, Copy, Debug)]
pub enum Status {
    /// 0: the job did what it should.
    Success,
    /// 1: the job ran but with warnings; for tests, some failed.
    Warnings,
    /// 2: the job failed.
    Failure,
    /// 3: the job was skipped.
    Skipped,
    /// 4: infrastructure failed the job.
    Exception,
    /// 5: the job failed on infrastructure and runs again.
    Retry,
    /// 6: somebody cancelled the job, or a newer one superseded it.
    Cancelled,
    /// Any other code, as the message gave it. [`Status::from_code`]
    /// never makes it for 0 to 6, and equality compares codes, so
    /// `Other(0)` is `Success`.
    Other(i64),
}

impl Status {
    /// The status a result code stands for.
    pub fn from_code(code: i64) -> Status {
        match code {
            0 => Status::Success,
            1 => Status::Warnings,
            2 => Status::Failure,
            3 => Status::Skipped,
            4 => Status::Exception,
            5 => Status::Retry,
            6 => Status::Cancelled,
            other => Status::Other(other),
        }
    }

    /// The result code: 0 success … 6 cancelled, or the other code kept.
    pub fn code(self) -> i64 {
        match self {
            Status::Success => 0,
            Status::Warnings => 1,
            Status::Failure => 2,
            Status::Skipped => 3,
            Status::Exception => 4,
            Status::Retry => 5,
            Status::Cancelled => 6,
            Status::Other(code) => code,
        }
    }
}

// Equal codes are equal statuses, however the value was made.
impl PartialEq for Status {
    fn eq(&self, other: &Status) -> bool {
        self.code() == other.code()
    }
}

impl Eq for Status {}

impl std::hash::Hash for Status {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.code().hash(state);
    }
}

impl Serialize for Status {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(self.code())
    }
}

impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Status, D::Error> {
        i64::deserialize(deserializer).map(Status::from_code)
    }
}

/// A job's result in Treeherder's words: what people read.
///
/// Taskcluster runs are read the way Treeherder reads them: a completed run
/// is `success`; a failed one `testfailed` for tests and `busted` for
/// builds and other jobs; an exception is `usercancel` (reason `canceled`),
/// `superseded`, `retry` when the queue reran the task, else `exception`.
/// Buildbot result codes map as Treeherder's buildbot ETL mapped them
/// (0 success, 1 testfailed, 2 busted, 3 skipped, 4 exception, 5 retry,
/// 6 usercancel).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobResult {
    /// The job did what it should.
    Success,
    /// Tests ran and some failed.
    Testfailed,
    /// A build (or another job that is not a test) failed.
    Busted,
    /// The job was skipped (buildbot only).
    Skipped,
    /// Infrastructure failed the job.
    Exception,
    /// The job failed on infrastructure and runs again.
    Retry,
    /// Somebody cancelled the job.
    Usercancel,
    /// A newer job made this one unnecessary.
    Superseded,
    /// Not finished yet (or an unknown buildbot code).
    Unknown,
}

impl JobResult {
    /// Every result, in a stable order.
    pub const ALL: [JobResult; 9] = [
        JobResult::Success,
        JobResult::Testfailed,
        JobResult::Busted,
        JobResult::Skipped,
        JobResult::Exception,
        JobResult::Retry,
        JobResult::Usercancel,
        JobResult::Superseded,
        JobResult::Unknown,
    ];

    /// The lowercase name, e.g. `testfailed`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobResult::Success => "success",
            JobResult::Testfailed => "testfailed",
            JobResult::Busted => "busted",
            JobResult::Skipped => "skipped",
            JobResult::Exception => "exception",
            JobResult::Retry => "retry",
            JobResult::Usercancel => "usercancel",
            JobResult::Superseded => "superseded",
            JobResult::Unknown => "unknown",
        }
    }

    /// The result a buildbot status stands for, as Treeherder's buildbot
    /// ETL read it; `unknown` for codes outside buildbot's seven.
    pub fn from_buildbot_status(status: Status) -> JobResult {
        // By code, so that an `Other` holding 0 to 6 reads as its name.
        match Status::from_code(status.code()) {
            Status::Success => JobResult::Success,
            Status::Warnings => JobResult::Testfailed,
            Status::Failure => JobResult::Busted,
            Status::Skipped => JobResult::Skipped,
            Status::Exception => JobResult::Exception,
            Status::Retry => JobResult::Retry,
            Status::Cancelled => JobResult::Usercancel,
            Status::Other(_) => JobResult::Unknown,
        }
    }
}

impl std::fmt::Display for JobResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for JobResult {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobResult::ALL
            .into_iter()
            .find(|result| result.as_str() == s)
            .ok_or_else(|| {
                crate::Error::new(crate::ErrorKind::BadJobResult {
                    result: s.to_string(),
                })
            })
    }
}

/// Where a Taskcluster task's run stands: the exchange it was announced on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskState {
    /// Created, not yet run: waiting for its dependencies or its first run
    /// (`task-defined`).
    Defined,
    /// Waiting for a worker (`task-pending`).
    Pending,
    /// A worker runs it (`task-running`).
    Running,
    /// Finished and succeeded (`task-completed`).
    Completed,
    /// Finished and failed (`task-failed`).
    Failed,
    /// Ended by an exception: cancelled, superseded, lost worker…
    /// (`task-exception`).
    Exception,
}

impl TaskState {
    /// The lowercase name, as in the run's `state`.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Defined => "defined",
            TaskState::Pending => "pending",
            TaskState::Running => "running",
            TaskState::Completed => "completed",
            TaskState::Failed => "failed",
            TaskState::Exception => "exception",
        }
    }

    /// True once the run has ended: completed, failed or exception.
    pub fn is_finished(self) -> bool {
        !matches!(
            self,
            TaskState::Defined | TaskState::Pending | TaskState::Running
        )
    }
}

impl std::fmt::Display for TaskState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_back_as_they_came() {
        for code in [-1, 0, 1, 2, 3, 4, 5, 6, 7, 99, i64::MIN, i64::MAX] {
            let status = Status::from_code(code);
            assert_eq!(status.code(), code);
            assert_eq!(serde_json::to_string(&status).unwrap(), code.to_string());
            assert_eq!(
                serde_json::from_str::<Status>(&code.to_string()).unwrap(),
                status
            );
        }
        assert!(matches!(Status::from_code(6), Status::Cancelled));
        assert!(matches!(Status::from_code(7), Status::Other(7)));
        assert_eq!(Status::Other(2), Status::Failure);
    }
}
