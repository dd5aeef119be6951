//! One task of a push as its messages tell it, and the rule that merges a
//! new message in: the latest run decides, a run only moves forward, and
//! the same message twice changes nothing.

use chrono::{DateTime, Utc};
use pulse_translator::{FailureLine, JobResult, Record, TaskState};

/// What one record says about a task's run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Observation {
    pub(crate) task_id: String,
    pub(crate) run_id: u32,
    pub(crate) state: TaskState,
    pub(crate) result: JobResult,
    pub(crate) label: Option<String>,
    pub(crate) kind: String,
    pub(crate) task_group_id: Option<String>,
    pub(crate) push_id: Option<u64>,
    pub(crate) logurl: Option<String>,
    /// When the run resolved (or was scheduled), as the queue said.
    pub(crate) at: Option<DateTime<Utc>>,
}

impl Observation {
    /// The observation in a Taskcluster record, with the push it belongs
    /// to (tree, revision); `None` for records of no task (buildbot jobs,
    /// pushes, groups) or of no known revision.
    pub(crate) fn of(record: &Record) -> Option<(String, String, Observation)> {
        let at = |secs: Option<i64>| secs.and_then(|s| DateTime::from_timestamp(s, 0));
        match record {
            Record::Task(task) => Some((
                task.tree.clone(),
                task.revision.clone()?,
                Observation {
                    task_id: task.task_id.clone(),
                    run_id: task.run_id,
                    state: task.state,
                    result: task.result,
                    label: task.label.clone(),
                    kind: task.kind.clone(),
                    task_group_id: task.task_group_id.clone(),
                    push_id: task.push_id,
                    logurl: task.logurl.clone(),
                    at: at(task.builddate),
                },
            )),
            Record::Build(_) | Record::Test(_) => {
                let job = record.job()?;
                let result = record.result()?;
                Some((
                    job.tree.clone(),
                    job.revision.clone()?,
                    Observation {
                        task_id: job.task_id.clone()?,
                        run_id: job.run_id?,
                        state: finished_state(result),
                        result,
                        label: job.buildername.clone(),
                        kind: record.kind().to_string(),
                        task_group_id: job.task_group_id.clone(),
                        push_id: job.push_id,
                        logurl: job.logurl.clone(),
                        at: at(job.builddate),
                    },
                ))
            }
            _ => None,
        }
    }
}

impl Observation {
    /// A bare observation of a run reaching `state`, to ask whether it
    /// would change anything.
    pub(crate) fn probe(task_id: &str, run_id: u32, state: TaskState) -> Observation {
        Observation {
            task_id: task_id.to_string(),
            run_id,
            state,
            result: JobResult::Unknown,
            label: None,
            kind: String::new(),
            task_group_id: None,
            push_id: None,
            logurl: None,
            at: None,
        }
    }
}

/// The queue state a finished build or test record stands for.
fn finished_state(result: JobResult) -> TaskState {
    match result {
        JobResult::Success => TaskState::Completed,
        JobResult::Testfailed | JobResult::Busted => TaskState::Failed,
        _ => TaskState::Exception,
    }
}

/// Where a task stands, for counting: each task is in exactly one bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Bucket {
    Unscheduled,
    Pending,
    Running,
    Finished(JobResult),
}

/// A task as the tracker knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TaskEntry {
    pub(crate) task_id: String,
    pub(crate) label: Option<String>,
    pub(crate) kind: String,
    pub(crate) task_group_id: Option<String>,
    /// `task-defined` was seen.
    pub(crate) defined: bool,
    /// The latest run seen; `None` while only defined.
    pub(crate) run_id: Option<u32>,
    pub(crate) state: TaskState,
    pub(crate) result: JobResult,
    pub(crate) logurl: Option<String>,
    pub(crate) at: Option<DateTime<Utc>>,
    /// The failed run's first failure lines, once fetched.
    pub(crate) failures: Vec<FailureLine>,
    pub(crate) details_unavailable: Option<String>,
}

impl TaskEntry {
    /// A task first heard of through `observation`.
    pub(crate) fn new(observation: &Observation) -> TaskEntry {
        let mut entry = TaskEntry {
            task_id: observation.task_id.clone(),
            label: None,
            kind: observation.kind.clone(),
            task_group_id: None,
            defined: false,
            run_id: None,
            state: TaskState::Defined,
            result: JobResult::Unknown,
            logurl: None,
            at: None,
            failures: Vec::new(),
            details_unavailable: None,
        };
        entry.merge(observation);
        entry
    }

    /// Merges what `observation` says; true when anything counted changed.
    /// A later run replaces an earlier one; within a run the state only
    /// moves forward (defined, pending, running, finished), so messages
    /// may come in any order and twice.
    pub(crate) fn merge(&mut self, observation: &Observation) -> bool {
        if self.label.is_none() {
            self.label.clone_from(&observation.label);
        }
        if self.task_group_id.is_none() {
            self.task_group_id.clone_from(&observation.task_group_id);
        }
        if observation.state == TaskState::Defined {
            let newly = !self.defined;
            self.defined = true;
            return newly;
        }
        let newer = match self.run_id {
            None => true,
            Some(run) if observation.run_id > run => true,
            Some(run) if observation.run_id == run => rank(observation.state) > rank(self.state),
            Some(_) => false,
        };
        if newer {
            self.run_id = Some(observation.run_id);
            self.state = observation.state;
            self.result = observation.result;
            self.logurl.clone_from(&observation.logurl);
            self.at = observation.at;
            // A later run's details are its own.
            self.failures.clear();
            self.details_unavailable = None;
        }
        newer
    }

    pub(crate) fn bucket(&self) -> Bucket {
        match self.state {
            _ if self.run_id.is_none() => Bucket::Unscheduled,
            TaskState::Defined => Bucket::Unscheduled,
            TaskState::Pending => Bucket::Pending,
            TaskState::Running => Bucket::Running,
            _ => Bucket::Finished(self.result),
        }
    }

    /// Runs the queue replaced by a rerun before the latest.
    pub(crate) fn reruns(&self) -> u32 {
        self.run_id.unwrap_or(0)
    }

    /// The final run failed.
    pub(crate) fn failed(&self) -> bool {
        matches!(
            self.bucket(),
            Bucket::Finished(JobResult::Testfailed | JobResult::Busted | JobResult::Exception)
        )
    }
}

fn rank(state: TaskState) -> u8 {
    match state {
        TaskState::Defined => 0,
        TaskState::Pending => 1,
        TaskState::Running => 2,
        _ => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observation(run_id: u32, state: TaskState, result: JobResult) -> Observation {
        Observation {
            task_id: "T".into(),
            run_id,
            state,
            result,
            label: Some("test-linux/opt-x".into()),
            kind: "test".into(),
            task_group_id: Some("G".into()),
            push_id: None,
            logurl: None,
            at: None,
        }
    }

    #[test]
    fn any_order_and_twice_end_the_same() {
        let messages = [
            observation(0, TaskState::Defined, JobResult::Unknown),
            observation(0, TaskState::Pending, JobResult::Unknown),
            observation(0, TaskState::Running, JobResult::Unknown),
            observation(0, TaskState::Exception, JobResult::Retry),
            observation(1, TaskState::Pending, JobResult::Unknown),
            observation(1, TaskState::Running, JobResult::Unknown),
            observation(1, TaskState::Failed, JobResult::Testfailed),
        ];
        let in_order = messages
            .iter()
            .skip(1)
            .fold(TaskEntry::new(&messages[0]), |mut t, m| {
                t.merge(m);
                t
            });
        assert_eq!(in_order.bucket(), Bucket::Finished(JobResult::Testfailed));
        assert_eq!((in_order.reruns(), in_order.defined), (1, true));
        let mut reversed = TaskEntry::new(&messages[6]);
        for message in messages.iter().rev().chain(messages.iter()) {
            reversed.merge(message);
        }
        assert_eq!(reversed, in_order);
        assert!(!reversed.merge(&messages[3]), "an old run changes nothing");
    }
}
