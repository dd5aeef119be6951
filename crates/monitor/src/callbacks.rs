//! The user's callbacks, and the pool jobs that call them: each job waits
//! for its message's go-ahead, times the call for the metrics and writes a
//! panic to the log file before the pool catches it.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::Arc;

use std::sync::atomic::Ordering;

use pulse_dispatch::{Completion, Job};
use pulse_filter::Rejection;
use pulse_push::PushEvent;
use pulse_translator::{BuildRecord, Record, TaskRecord, TestRecord};

use crate::completion::MessageRun;
use crate::details::Deliver;
use crate::eventlog::LineFile;
use crate::message::RawMessage;
use crate::metrics::Metrics;
use crate::pool::PoolSlot;
use crate::pushes::{PushCallback, PushDesk};
use crate::shared::Shared;

pub(crate) type BuildCallback = Arc<dyn Fn(BuildRecord) + Send + Sync>;
pub(crate) type TestCallback = Arc<dyn Fn(TestRecord) + Send + Sync>;
pub(crate) type TaskCallback = Arc<dyn Fn(TaskRecord) + Send + Sync>;
pub(crate) type RawCallback = Arc<dyn Fn(&RawMessage) + Send + Sync>;
pub(crate) type FilteredOutCallback = Arc<dyn Fn(Record, Rejection) + Send + Sync>;

/// One callback call, ready to run on the pool.
pub(crate) type Call = Box<dyn FnOnce() + Send>;

/// What a monitor calls, and what wraps each call.
#[derive(Clone, Default)]
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
        if let Some((kind, call)) = self.callbacks.call_for(record) {
            self.push(kind, call);
        }
    }

    /// What delivers `record` once its details are fetched (or given up
    /// on): the push tracker's failure lines, and, for a record that
    /// `matched`, its callback call, handed to the pool. Until then the
    /// message is not acknowledged; if it is never delivered (the monitor
    /// stopped first), the broker delivers the message again.
    pub(crate) fn later(
        &self,
        matched: bool,
        pool: Arc<PoolSlot>,
        shared: Arc<Shared>,
        pushes: Option<Arc<PushDesk>>,
    ) -> Deliver {
        let callbacks = self.callbacks.clone();
        let key = self.message.routing_key.clone();
        let completion = self.completion.clone();
        let waiting = Undelivered::new(Arc::clone(self.run), Arc::clone(&shared));
        Box::new(move |record| {
            let waiting = waiting.delivered();
            if let Some(pushes) = &pushes {
                pushes.attach_details(&record);
            }
            if matched {
                if let Some((kind, call)) = callbacks.call_for(record) {
                    let job = callbacks.job(&key, kind, call, Arc::clone(&waiting.run), completion);
                    pool.submit_waiting(job, &shared);
                }
            }
        })
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
        let job = self.callbacks.job(
            &self.message.routing_key,
            kind,
            call,
            Arc::clone(self.run),
            self.completion.clone(),
        );
        self.jobs.push(job);
    }
}

impl Callbacks {
    /// The callback call a record makes, named by its kind, when its
    /// callback is set; pushes and task groups reach the push tracker,
    /// not a record callback.
    pub(crate) fn call_for(&self, record: Record) -> Option<(&'static str, Call)> {
        match record {
            Record::Build(build) => {
                let on_build = Arc::clone(self.on_build.as_ref()?);
                Some(("build", Box::new(move || on_build(build))))
            }
            Record::Test(test) => {
                let on_test = Arc::clone(self.on_test.as_ref()?);
                Some(("test", Box::new(move || on_test(test))))
            }
            Record::Task(task) => {
                let on_task = Arc::clone(self.on_task.as_ref()?);
                Some(("task", Box::new(move || on_task(task))))
            }
            _ => None,
        }
    }

    /// Whether `record` has a callback to call.
    pub(crate) fn calls(&self, record: &Record) -> bool {
        match record {
            Record::Build(_) => self.on_build.is_some(),
            Record::Test(_) => self.on_test.is_some(),
            Record::Task(_) => self.on_task.is_some(),
            _ => false,
        }
    }

    /// A pool job for the message `key`: it waits for the message's
    /// go-ahead, times the call for the metrics, logs a panic, and tells
    /// the message's completion when it ends.
    fn job(
        &self,
        key: &str,
        kind: &str,
        call: Box<dyn FnOnce() + Send>,
        gate: Arc<MessageRun>,
        completion: Completion,
    ) -> Job {
        let key = format!("{key} ({kind} callback)");
        let call = logging_panics(self.log_file.clone(), key.clone(), call);
        let metrics = self.metrics.clone();
        let job = move || {
            if gate.should_run() {
                let _timer = metrics.as_ref().map(Metrics::time_callback);
                call();
            }
        };
        Job::new(key, job).with_completion(completion)
    }
}

/// A message's record waiting for its details: counted while it waits,
/// and, if it is dropped undelivered, its message is left for the broker
/// to deliver again instead of being acknowledged with nothing called.
struct Undelivered {
    run: Arc<MessageRun>,
    shared: Arc<Shared>,
    delivered: bool,
}

impl Undelivered {
    fn new(run: Arc<MessageRun>, shared: Arc<Shared>) -> Undelivered {
        shared.details_in_flight.fetch_add(1, Ordering::AcqRel);
        Undelivered {
            run,
            shared,
            delivered: false,
        }
    }

    fn delivered(mut self) -> Undelivered {
        self.delivered = true;
        self
    }
}

impl Drop for Undelivered {
    fn drop(&mut self) {
        if !self.delivered {
            self.run.forget_acker();
        }
        self.shared.details_in_flight.fetch_sub(1, Ordering::AcqRel);
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
