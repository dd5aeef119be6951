//! A paged-out push's failed tasks, held compact: its summary lists them
//! and details attach to them, so they stay in memory while its other
//! tasks leave, and with a day of pushes kept they are most of what
//! memory holds.
//!
//! A [`KeptTask`] holds everything a [`TaskEntry`] does, in under half
//! the memory: each string once and no longer than it is, what a push's
//! tasks share (their kind, task group, and the log URL around the task
//! id) once per push in its [`Words`], and the rarely fetched details
//! behind one pointer. It is never changed: a record or details that
//! touch it unpack it into the same [`TaskEntry`], so the merge rule
//! stays in `task` alone, and the tracker packs it again afterwards.

use chrono::{DateTime, Utc};
use pulse_translator::{FailureLine, JobResult, TaskState};

use crate::task::TaskEntry;

/// The strings a push's kept tasks share, each once; a task names them
/// by index. A push has a handful (kinds, task groups, a log URL root and
/// a suffix per run number), so a search is as fast as a map and costs
/// nothing when empty.
#[derive(Debug, Default)]
pub(crate) struct Words(Vec<Box<str>>);

impl Words {
    fn index(&mut self, word: &str) -> u32 {
        if let Some(i) = self.0.iter().position(|w| **w == *word) {
            return i as u32;
        }
        self.0.push(word.into());
        (self.0.len() - 1) as u32
    }

    fn get(&self, index: u32) -> &str {
        &self.0[index as usize]
    }

    /// The bytes it holds on the heap (see [`KeptTask::heap_bytes`]).
    #[cfg(test)]
    pub(crate) fn heap_bytes(&self) -> usize {
        let strings: usize = self.0.iter().map(|word| chunk(word.len())).sum();
        chunk(self.0.capacity() * std::mem::size_of::<Box<str>>()) + strings
    }
}

/// A log URL held compact.
#[derive(Debug)]
enum LogUrl {
    None,
    /// `before`, the task id, `after` (indices in the push's [`Words`]):
    /// the queue's URL of a run's log names the task, and what is around
    /// the id is the same for the push's other tasks.
    AroundId {
        before: u32,
        after: u32,
    },
    /// One that does not name the task.
    Other(Box<str>),
}

/// A failed run's fetched details, which most tasks do not have.
#[derive(Debug)]
struct Details {
    failures: Vec<FailureLine>,
    unavailable: Option<String>,
}

/// A [`TaskEntry`] held compact; [`KeptTask::unpack`] gives it back
/// unchanged.
#[derive(Debug)]
pub(crate) struct KeptTask {
    task_id: Box<str>,
    label: Option<Box<str>>,
    logurl: LogUrl,
    at: Option<DateTime<Utc>>,
    details: Option<Box<Details>>,
    /// Index in [`Words`].
    kind: u32,
    /// Index in [`Words`].
    task_group_id: Option<u32>,
    run_id: Option<u32>,
    state: TaskState,
    result: JobResult,
    defined: bool,
}

impl KeptTask {
    /// `task` held compact, what it shares with its push's other tasks in
    /// `words`.
    pub(crate) fn pack(task: TaskEntry, words: &mut Words) -> KeptTask {
        // Every field by name: a field added to TaskEntry does not compile
        // here until it is kept too.
        let TaskEntry {
            task_id,
            label,
            kind,
            task_group_id,
            defined,
            run_id,
            state,
            result,
            logurl,
            at,
            failures,
            details_unavailable,
        } = task;
        let logurl = match logurl {
            None => LogUrl::None,
            Some(url) => match url.split_once(task_id.as_str()) {
                Some((before, after)) => LogUrl::AroundId {
                    before: words.index(before),
                    after: words.index(after),
                },
                None => LogUrl::Other(url.into_boxed_str()),
            },
        };
        let details = (!failures.is_empty() || details_unavailable.is_some()).then(|| {
            Box::new(Details {
                failures,
                unavailable: details_unavailable,
            })
        });
        KeptTask {
            task_id: task_id.into_boxed_str(),
            label: label.map(String::into_boxed_str),
            logurl,
            at,
            details,
            kind: words.index(&kind),
            task_group_id: task_group_id.map(|group| words.index(&group)),
            run_id,
            state,
            result,
            defined,
        }
    }

    /// The task as it was packed, its shared strings read from the push's
    /// `words`.
    pub(crate) fn unpack(&self, words: &Words) -> TaskEntry {
        let logurl = match &self.logurl {
            LogUrl::None => None,
            LogUrl::AroundId { before, after } => {
                Some([words.get(*before), &self.task_id, words.get(*after)].concat())
            }
            LogUrl::Other(url) => Some(url.to_string()),
        };
        let (failures, details_unavailable) = match &self.details {
            Some(details) => (details.failures.clone(), details.unavailable.clone()),
            None => (Vec::new(), None),
        };
        TaskEntry {
            task_id: self.task_id.to_string(),
            label: self.label.as_deref().map(str::to_string),
            kind: words.get(self.kind).to_string(),
            task_group_id: self.task_group_id.map(|i| words.get(i).to_string()),
            defined: self.defined,
            run_id: self.run_id,
            state: self.state,
            result: self.result,
            logurl,
            at: self.at,
            failures,
            details_unavailable,
        }
    }

    pub(crate) fn task_id(&self) -> &str {
        &self.task_id
    }

    /// The bytes it holds on the heap, as glibc's malloc counts them (a
    /// chunk is the size asked plus 8, rounded up to 16, at least 32):
    /// what a test weighs. Failure lines' own strings are left out: both
    /// forms hold them the same.
    #[cfg(test)]
    pub(crate) fn heap_bytes(&self) -> usize {
        let string = |s: &str| chunk(s.len());
        let mut bytes = string(&self.task_id) + self.label.as_deref().map_or(0, string);
        if let LogUrl::Other(url) = &self.logurl {
            bytes += string(url);
        }
        if let Some(details) = &self.details {
            bytes += chunk(std::mem::size_of::<Details>())
                + chunk(details.failures.capacity() * std::mem::size_of::<FailureLine>())
                + details
                    .unavailable
                    .as_ref()
                    .map_or(0, |s| chunk(s.capacity()));
        }
        bytes
    }
}

/// What glibc's malloc takes for `size` bytes (none for none).
#[cfg(test)]
pub(crate) fn chunk(size: usize) -> usize {
    if size == 0 {
        0
    } else {
        ((size + 8).div_ceil(16) * 16).max(32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(task_id: &str, logurl: Option<String>) -> TaskEntry {
        TaskEntry {
            task_id: task_id.into(),
            label: Some("test-linux1804-64-qr/debug-mochitest-browser-chrome-5".into()),
            kind: "test".into(),
            task_group_id: Some("G0ZzO1kfTWSZx0RbTcKfNA".into()),
            defined: true,
            run_id: Some(1),
            state: TaskState::Failed,
            result: JobResult::Testfailed,
            logurl,
            at: DateTime::from_timestamp(1_800_000_000, 0),
            failures: Vec::new(),
            details_unavailable: None,
        }
    }

    #[test]
    fn unpacked_it_is_the_task_packed() {
        let id = "fxnfF4hJRbq2uSO5DEAK1A";
        let standard = format!(
            "https://firefox-ci-tc.services.mozilla.com/api/queue/v1/task/{id}/runs/1/artifacts/public/logs/live_backing.log"
        );
        let mut detailed = task(id, Some(standard.clone()));
        detailed.failures = vec![FailureLine {
            test: Some("a.js".into()),
            status: Some("FAIL".into()),
            ..FailureLine::default()
        }];
        detailed.details_unavailable = Some("no log".into());
        let bare = TaskEntry {
            label: None,
            task_group_id: None,
            run_id: None,
            at: None,
            defined: false,
            ..task("other", None)
        };
        let cases = [
            task(id, Some(standard)),
            task(id, Some("https://example.org/log-without-the-id".into())),
            // The id at both ends, or all of it.
            task(id, Some(format!("{id}/{id}"))),
            task(id, Some(id.into())),
            task(id, Some(String::new())),
            detailed,
            bare,
        ];
        let mut words = Words::default();
        let kept: Vec<KeptTask> = cases
            .iter()
            .map(|t| KeptTask::pack(t.clone(), &mut words))
            .collect();
        for (task, kept) in cases.iter().zip(&kept) {
            assert_eq!(&kept.unpack(&words), task);
            assert_eq!(kept.task_id(), task.task_id);
        }
        assert!(
            words.0.len() <= 8,
            "shared strings once each: {:?}",
            words.0
        );
    }
}
