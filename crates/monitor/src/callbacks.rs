//! The user's callbacks, and the pool jobs that call them: each job waits
//! for its message's go-ahead, times the call for the metrics and writes a
//! panic to the log file before the pool catches it.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::Arc;

use pulse_dispatch::{Completion, Job};
use pulse_filter::Rejection;
use pulse_push::PushEvent;
use pulse_translator::{BuildRecord, Record, TaskRecord, TestRecord};

use crate::completion::MessageRun;
use crate::eventlog::LineFile;
use crate::message::RawMessage;
use crate::metrics::Metrics;
use crate::pushes::{PushCallback, PushDesk};

pub(crate) type BuildCallback = Arc<dyn Fn(BuildRecord) + Send + Sync>;
pub(crate) type TestCallback = Arc<dyn Fn(TestRecord) + Send + Sync>;
pub(crate) type TaskCallback = Arc<dyn Fn(TaskRecord) + Send + Sync>;
pub(crate) type RawCallback = Arc<dyn Fn(&RawMessage) + Send + Sync>;
pub(crate) type FilteredOutCallback = Arc<dyn Fn(Record, Rejection) + Send + Sync>;

/// What a monitor calls, and what wraps each call.
#[derive(Default)]
pub(crate) struct Callbacks {
    pub(crate) on_build: Option<BuildCallback>,
    pub(crate) on_test: Option<TestCallback>,
    pub(crate) on_task: Option<TaskCallback>,
    pub(crate) on_message: Option<RawCallback>,
    pub(crate) on_filtered_out: Option<FilteredOutCallback>,
    pub(crate) on_push: Option<PushCallback>,
    /// Where panics are written, besides `log`.
    pub(crate) log_file: Option<Arc<LineFile>>,
    /// Callback durations, when metrics are served.
    pub(crate) metrics: Option<Arc<Metrics>>,
}

/// The jobs of one message, as they are added.
pub(crate) struct MessageJobs<'a> {
    pub(crate) callbacks: &'a Callbacks,
    pub(crate) message: &'a Arc<RawMessage>,
    pub(crate) run: &'a Arc<MessageRun>,
    pub(crate) completion: &'a Completion,
    pub(crate) jobs: &'a mut Vec<Job>,
}

impl Callbacks {
    pub(crate) fn is_empty(&self) -> bool {
        self.on_build.is_none()
            && self.on_test.is_none()
            && self.on_task.is_none()
            && self.on_message.is_none()
            && self.on_filtered_out.is_none()
            && self.on_push.is_none()
    }
}

impl MessageJobs<'_> {
    /// The raw-message callback's call, if there is one.
    pub(crate) fn raw(&mut self) {
        if let Some(on_message) = &self.callbacks.on_message {
            let (on_message, message) = (Arc::clone(on_message), Arc::clone(self.message));
            self.push("message", Box::new(move || on_message(&message)));
        }
    }

    /// The call a record that passed the filter makes, if its callback is set.
    pub(crate) fn matched(&mut self, record: Record) {
        let callbacks = self.callbacks;
        match record {
            Record::Build(build) => {
                if let Some(on_build) = &callbacks.on_build {
                    let on_build = Arc::clone(on_build);
                    self.push("build", Box::new(move || on_build(build)));
                }
            }
            Record::Test(test) => {
                if let Some(on_test) = &callbacks.on_test {
                    let on_test = Arc::clone(on_test);
                    self.push("test", Box::new(move || on_test(test)));
                }
            }
            Record::Task(task) => {
                if let Some(on_task) = &callbacks.on_task {
                    let on_task = Arc::clone(on_task);
                    self.push("task", Box::new(move || on_task(task)));
                }
            }
            // Pushes and task groups reach the push tracker, not a
            // record callback.
            _ => {}
        }
    }

    /// The `on_push` call for a push event the message made, if set.
    pub(crate) fn push_event(&mut self, pushes: &PushDesk, event: PushEvent) {
        if let Some((_, call)) = pushes.call(event) {
            self.push("push", call);
        }
    }

    /// The filtered-out callback's call for a rejected record, if set.
    pub(crate) fn filtered_out(&mut self, record: Record, rejection: Rejection) {
        if let Some(on_filtered_out) = &self.callbacks.on_filtered_out {
            let on_filtered_out = Arc::clone(on_filtered_out);
            self.push(
                "filtered-out",
                Box::new(move || on_filtered_out(record, rejection)),
            );
        }
    }

    fn push(&mut self, kind: &str, call: Box<dyn FnOnce() + Send>) {
        let key = format!("{} ({kind} callback)", self.message.routing_key);
        let call = logging_panics(self.callbacks.log_file.clone(), key.clone(), call);
        let gate = Arc::clone(self.run);
        let metrics = self.callbacks.metrics.clone();
        let job = move || {
            if gate.should_run() {
                let _timer = metrics.as_ref().map(Metrics::time_callback);
                call();
            }
        };
        self.jobs
            .push(Job::new(key, job).with_completion(self.completion.clone()));
    }
}

/// Wraps a callback call so a panic is written to the log file with the
/// message key before the pool catches and counts it.
fn logging_panics(
    log_file: Option<Arc<LineFile>>,
    key: String,
    call: Box<dyn FnOnce() + Send>,
) -> Box<dyn FnOnce() + Send> {
    let Some(log_file) = log_file else {
        return call;
    };
    Box::new(move || {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(call)) {
            let reason = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a non-string panic".to_string());
            log_file.event("ERROR", &format!("{key} panicked: {reason}"));
            resume_unwind(panic);
        }
    })
}
