//! Where messages enter the monitor: the deduplication window, the
//! translators, the filter and the metrics, then the pool. For a broker it
//! runs on the wire crate's connection thread, as its handler
//! ([`Consumer::start_with`](pulse_wire::Consumer::start_with)), so a delivery reaches a pool worker
//! with no thread in between; for the in-process source, on the monitor's
//! own thread.

use std::sync::{Arc, PoisonError};
use std::time::Instant;

use pulse_dispatch::Job;
use pulse_filter::Filter;
use pulse_translator::Record;
use pulse_wire::{Acker, Delivery};

use crate::callbacks::{Callbacks, MessageJobs};
use crate::completion::{completion, MessageRun};
use crate::dedupe::{Admission, Dedupe};
use crate::details::{Deliver, DetailsDesk};
use crate::eventlog::{dead_letter_line, LineFile};
use crate::message::RawMessage;
use crate::metrics::Metrics;
use crate::pool::PoolSlot;
use crate::pushes::PushDesk;
use crate::shared::Shared;
use crate::source::Translators;
use crate::state_writer::{StateWriter, Unwritten};
use crate::stats::Counters;

/// Translates, filters and hands callback calls to the pool.
pub(crate) struct Intake {
    pub(crate) shared: Arc<Shared>,
    pub(crate) callbacks: Callbacks,
    pub(crate) filter: Filter,
    pub(crate) translators: Translators,
    pub(crate) dead_letters: Option<LineFile>,
    /// Handled messages, for the broker source.
    pub(crate) dedupe: Option<Arc<Dedupe>>,
    /// Records by kind, when metrics are served.
    pub(crate) metrics: Option<Arc<Metrics>>,
    pub(crate) pool: Arc<PoolSlot>,
    /// Push tracking, when asked for.
    pub(crate) pushes: Option<Arc<PushDesk>>,
    /// On a broker with a push state file: holds acknowledgements until
    /// the state is written.
    pub(crate) state_writer: Option<Arc<StateWriter>>,
    /// Record details (build URLs, failure lines), when asked for.
    pub(crate) details: Option<Arc<DetailsDesk>>,
    /// Unfinished tasks' records reach the record callbacks (progress).
    pub(crate) progress: bool,
    /// The intake of reconciliation: its records are marked `reconciled`.
    pub(crate) reconciling: bool,
}

impl Intake {
    /// A batch from the broker. Once the monitor is stopping, deliveries
    /// are released unhandled: the broker requeues them when the
    /// connection closes.
    pub(crate) fn take_deliveries(&mut self, deliveries: Vec<Delivery>) {
        self.arrived(deliveries.len());
        let mut jobs = Vec::new();
        // With a push state file, each message's acknowledgement waits
        // until its effect on the push state is written.
        let mut unwritten = Vec::new();
        let mut deliveries = deliveries.into_iter();
        for delivery in deliveries.by_ref() {
            if self.shared.is_stopping() {
                delivery.acker.release();
                break;
            }
            let message = RawMessage {
                message: delivery.message,
                redelivered: delivery.redelivered,
            };
            unwritten.extend(self.jobs_for(message, Some(delivery.acker), &mut jobs));
        }
        deliveries.for_each(|delivery| delivery.acker.release());
        // The batch's calls go together: a worker woken for the first
        // finds the rest queued, where a hand-over per message woke an idle
        // worker for each (most of the pool's cost at saturation). A batch
        // is what was ready at once, at most 16 messages.
        self.hand_over(jobs);
        if let Some(writer) = &self.state_writer {
            writer.hold(unwritten);
        }
    }

    /// One message of the in-process source.
    pub(crate) fn take_message(&mut self, message: RawMessage) {
        // A reconciled message was not received: `reconciled` counts it.
        if !self.reconciling {
            self.arrived(1);
        }
        let mut jobs = Vec::new();
        self.jobs_for(message, None, &mut jobs);
        self.hand_over(jobs);
        if let Some(pushes) = &self.pushes {
            pushes.flush_now_and_then();
        }
    }

    fn arrived(&self, count: usize) {
        Counters::add(&self.shared.counters.received, count as u64);
        *self
            .shared
            .last_received
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
    }

    /// The callback calls `message` makes, added to `jobs`; with a state
    /// writer, what holds its acknowledgement until the state is written.
    fn jobs_for(
        &self,
        message: RawMessage,
        acker: Option<Acker>,
        jobs: &mut Vec<Job>,
    ) -> Option<Unwritten> {
        let counters = &self.shared.counters;
        let (identity, acker) = match &self.dedupe {
            None => (None, acker),
            Some(dedupe) => {
                let identity = dedupe.identity(&message);
                match dedupe.admit(identity, acker) {
                    Admission::New(acker) => (Some(identity), acker),
                    Admission::Handled(acker) => {
                        log::debug!(
                            "{}: handled already; acknowledged without calling the callbacks",
                            message.routing_key
                        );
                        Counters::add(&counters.duplicates, 1);
                        if let Some(acker) = acker {
                            acker.ack();
                            Counters::add(&counters.acknowledged, 1);
                        }
                        return None;
                    }
                    // Acknowledged (or requeued) when its first delivery ends.
                    Admission::Parked => return None,
                }
            }
        };
        let message = Arc::new(message);
        let run = Arc::new(MessageRun::new(acker));
        let completion = completion(
            &self.shared,
            self.dedupe.as_ref(),
            &message,
            Arc::clone(&run),
            identity,
        );
        let mut calls = MessageJobs {
            callbacks: &self.callbacks,
            message: &message,
            run: &run,
            completion: &completion,
            jobs,
        };
        calls.raw();
        let records = match self.translators.translate(&message) {
            Ok(records) => records,
            Err(error) => {
                self.translation_failed(&message, &error);
                Vec::new()
            }
        };
        let mut records = records;
        if self.reconciling {
            for record in &mut records {
                match record {
                    Record::Task(task) => task.reconciled = true,
                    other => {
                        if let Some(job) = other.job_mut() {
                            job.reconciled = true;
                        }
                    }
                }
            }
        }
        Counters::add(&counters.translated, records.len() as u64);
        if let Some(pushes) = &self.pushes {
            for event in pushes.apply(&records) {
                calls.push_event(pushes, event);
            }
        }
        let unwritten = self
            .state_writer
            .is_some()
            .then(|| (Arc::clone(&run), completion.clone()));
        for record in records {
            if !self.reaches_record_callbacks(&record) {
                continue;
            }
            let verdict = self.filter.explain(&record);
            if let Some(metrics) = &self.metrics {
                metrics.record(record.kind(), verdict.is_ok());
            }
            match verdict {
                Ok(()) => {
                    Counters::add(&counters.matched, 1);
                    let wants = self.callbacks.calls(&record) || self.pushes_want(&record);
                    // A Deliver is made only for a record the desk takes:
                    // one dropped unused would leave its message unacknowledged.
                    match self
                        .details
                        .as_ref()
                        .filter(|details| wants && details.wants(&record))
                    {
                        Some(details) => details.take(record, self.deliver_later(&calls, true)),
                        None => calls.matched(record),
                    }
                }
                Err(rejection) => {
                    // A push shows what broke whatever the record filter keeps.
                    if let Some(details) = self
                        .details
                        .as_ref()
                        .filter(|details| self.pushes_want(&record) && details.wants(&record))
                    {
                        details.take(record.clone(), self.deliver_later(&calls, false));
                    }
                    calls.filtered_out(record, rejection);
                }
            }
        }
        // With no call made (and nothing unwritten), dropping the last
        // clone acknowledges at once.
        unwritten
    }

    /// An intake for reconciliation: the same translation, filter,
    /// callbacks, pushes and details, its records marked `reconciled`, no
    /// dedupe window and no dead letters.
    pub(crate) fn for_reconciliation(&self) -> Intake {
        Intake {
            shared: Arc::clone(&self.shared),
            callbacks: self.callbacks.clone(),
            filter: self.filter.clone(),
            translators: self.translators.clone(),
            dead_letters: None,
            dedupe: None,
            metrics: self.metrics.clone(),
            pool: Arc::clone(&self.pool),
            pushes: self.pushes.clone(),
            state_writer: None,
            details: self.details.clone(),
            progress: self.progress,
            reconciling: true,
        }
    }

    /// Whether the push tracker wants this record's details: a failed test
    /// of a tracked push.
    fn pushes_want(&self, record: &Record) -> bool {
        self.pushes.is_some()
            && matches!(record, Record::Test(_))
            && record.result() == Some(pulse_translator::JobResult::Testfailed)
    }

    fn deliver_later(&self, calls: &MessageJobs<'_>, matched: bool) -> Deliver {
        calls.later(
            matched,
            Arc::clone(&self.pool),
            Arc::clone(&self.shared),
            self.pushes.clone(),
        )
    }

    /// Builds, tests and finished tasks reach the record callbacks and the
    /// filter; unfinished tasks only with progress; pushes and groups
    /// only the push tracker.
    fn reaches_record_callbacks(&self, record: &Record) -> bool {
        match record {
            Record::Build(_) | Record::Test(_) => true,
            Record::Task(task) => self.progress || task.state.is_finished(),
            _ => false,
        }
    }

    /// Hands the jobs to the pool, waiting while it is full. A stop ends
    /// the wait, or it would last as long as the slowest callback: the jobs
    /// not handed over are dropped unrun, which leaves their message
    /// unacknowledged for redelivery, and named in the stop report.
    fn hand_over(&self, jobs: Vec<Job>) {
        let mut jobs = jobs.into_iter();
        while let Some(job) = jobs.next() {
            if !self.pool.submit_waiting(job, &self.shared) {
                self.shared.abandon(jobs.map(|job| job.key().to_string()));
                return;
            }
        }
    }

    fn translation_failed(&self, message: &RawMessage, error: &pulse_translator::Error) {
        Counters::add(&self.shared.counters.translation_errors, 1);
        let text = format!(
            "cannot translate {:?} from {}: {error}",
            message.routing_key, message.exchange
        );
        log::warn!("{text}");
        if let Some(log_file) = &self.callbacks.log_file {
            log_file.event("ERROR", &text);
        }
        if let Some(dead_letters) = &self.dead_letters {
            dead_letters.write_line(&dead_letter_line(message, &error.to_string()));
        }
    }
}
