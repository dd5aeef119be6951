//! Reconciliation: what the monitor missed, read back from the Taskcluster
//! queue. After its queue was deleted (PulseGuardian deletes queues that
//! grow too long), after a reconnect of a queue that does not outlive its
//! connection, and when it starts again on a push state, the monitor lists
//! the task groups of the pushes in flight (`listTaskGroup`) and feeds each
//! task definition and latest run it did not know, as the queue would have
//! announced them, through an intake of its own: one record per missed
//! run, marked `reconciled`, none for what it had.
//!
//! On only with push tracking and details (the queue client): no state or
//! no network, no reconciliation. A listing that fails is logged, counted
//! and tried again later; the live path never waits for it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use pulse_taskcluster::{Queue, TaskGroupMember};
use pulse_translator::{exchanges, primary_routing_key, Message, TaskState};
use serde_json::{json, Value};

use crate::intake::Intake;
use crate::message::RawMessage;
use crate::pushes::PushDesk;
use crate::shared::Shared;
use crate::stats::Counters;

/// How long after a failed listing the reconciliation is tried again.
const RETRY_AFTER: Duration = Duration::from_secs(30);

/// What decides when to reconcile, and does it.
pub(crate) struct Reconciler {
    queue: Arc<Queue>,
    pushes: Arc<PushDesk>,
    intake: Mutex<Intake>,
    shared: Arc<Shared>,
    /// A queue that outlives its connection loses nothing on a reconnect.
    durable: bool,
    running: AtomicBool,
    state: Mutex<Watch>,
}

/// What the reconciler saw last.
struct Watch {
    /// The pushes in flight in the state it started on, reconciled at the
    /// first look (once a durable queue's backlog is drained); taken then.
    at_start: Option<Vec<(String, String, Vec<String>)>>,
    queue_deleted: u64,
    reconnects: u64,
    /// When the last reconciliation failed.
    failed_at: Option<Instant>,
}

impl Reconciler {
    pub(crate) fn new(
        queue: Arc<Queue>,
        pushes: Arc<PushDesk>,
        intake: Intake,
        shared: Arc<Shared>,
        durable: bool,
    ) -> Arc<Reconciler> {
        let in_flight = pushes.in_flight();
        Arc::new(Reconciler {
            queue,
            state: Mutex::new(Watch {
                at_start: (!in_flight.is_empty()).then_some(in_flight),
                queue_deleted: 0,
                reconnects: 0,
                failed_at: None,
            }),
            pushes,
            intake: Mutex::new(intake),
            shared,
            durable,
            running: AtomicBool::new(false),
        })
    }

    /// Looks whether something may have been missed since the last look,
    /// and if so reconciles on a thread of its own.
    pub(crate) fn look(self: &Arc<Self>) {
        let Some(consumer) = self.shared.consumer.get() else {
            return;
        };
        let stats = consumer.stats();
        if !stats.connected {
            return;
        }
        let reason = {
            let mut watch = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            // A durable queue's backlog comes first: what waits in it was
            // not missed.
            let backlog = self.durable && stats.queue_depth != Some(0);
            let reason = if watch.at_start.is_some() && !backlog {
                Some("started on a push state")
            } else if stats.queue_deleted > watch.queue_deleted {
                Some("the queue was deleted")
            } else if !self.durable && stats.reconnects > watch.reconnects {
                Some("the connection was lost")
            } else if watch
                .failed_at
                .is_some_and(|at| at.elapsed() >= RETRY_AFTER)
            {
                Some("the last reconciliation failed")
            } else {
                None
            };
            if reason.is_some() && !self.running.swap(true, Ordering::AcqRel) {
                // At start, only what the state had in flight: pushes begun
                // since arrive live.
                let pushes = watch.at_start.take();
                watch.queue_deleted = stats.queue_deleted;
                watch.reconnects = stats.reconnects;
                watch.failed_at = None;
                reason.map(|reason| (reason, pushes))
            } else {
                None
            }
        };
        let Some((reason, pushes)) = reason else {
            return;
        };
        let reconciler = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name("pulse-monitor-reconcile".into())
            .spawn(move || {
                reconciler.reconcile(reason, pushes);
                reconciler.running.store(false, Ordering::Release);
            });
        if let Err(e) = spawned {
            log::error!("cannot start the reconciliation thread: {e}");
            self.running.store(false, Ordering::Release);
        }
    }

    /// Reconciles `pushes`, or every push in flight.
    fn reconcile(&self, reason: &str, pushes: Option<Vec<(String, String, Vec<String>)>>) {
        let in_flight = pushes.unwrap_or_else(|| self.pushes.in_flight());
        if in_flight.is_empty() {
            return;
        }
        log::info!(
            "reconciling {} push(es) in flight with the Taskcluster queue: {reason}",
            in_flight.len()
        );
        let mut missed = 0;
        for (tree, revision, groups) in in_flight {
            for group in groups {
                if self.shared.is_stopping() {
                    return;
                }
                match self.queue.list_task_group(&group) {
                    Ok(members) => {
                        for message in members
                            .iter()
                            .flat_map(|member| self.missed(&tree, &revision, member))
                        {
                            missed += 1;
                            let mut intake =
                                self.intake.lock().unwrap_or_else(PoisonError::into_inner);
                            intake.take_message(RawMessage::from(message));
                        }
                    }
                    Err(e) => {
                        log::warn!(
                            "reconciliation: cannot list task group {group} of {tree} {revision}: {e}; trying again in {} s",
                            RETRY_AFTER.as_secs()
                        );
                        Counters::add(&self.shared.counters.reconcile_errors, 1);
                        self.state
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .failed_at = Some(Instant::now());
                    }
                }
            }
        }
        Counters::add(&self.shared.counters.reconciled, missed);
        log::info!("reconciliation: {missed} missed message(s) read back from the queue");
    }

    /// The messages the queue announced about `member` that the push does
    /// not reflect: its definition, and its latest run as it stands.
    fn missed(&self, tree: &str, revision: &str, member: &TaskGroupMember) -> Vec<Message> {
        let status = &member.status;
        let task = member.task.json();
        let cc: Vec<String> = task["routes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|route| format!("route.{route}"))
            .collect();
        let tags = task.get("tags").cloned().unwrap_or_else(|| json!({}));
        let status_json = serde_json::to_value(status).unwrap_or_default();
        let message = |exchange: &str, body: Value| {
            Message::new(
                exchange,
                primary_routing_key(&body),
                serde_json::to_vec(&body).expect("JSON always serializes"),
            )
            .with_cc(cc.clone())
        };
        let mut missed = Vec::new();
        if !self.pushes.knows(tree, revision, &status.task_id, None) {
            let mut defined = status_json.clone();
            defined["state"] = json!("unscheduled");
            defined["runs"] = json!([]);
            missed.push(message(
                exchanges::TASK_DEFINED,
                json!({"version": 1, "status": defined, "task": {"tags": tags}}),
            ));
        }
        if let Some(run) = status.runs.last() {
            let (exchange, state) = match run.state.as_str() {
                "pending" => (exchanges::TASK_PENDING, TaskState::Pending),
                "running" => (exchanges::TASK_RUNNING, TaskState::Running),
                "completed" => (exchanges::TASK_COMPLETED, TaskState::Completed),
                "failed" => (exchanges::TASK_FAILED, TaskState::Failed),
                _ => (exchanges::TASK_EXCEPTION, TaskState::Exception),
            };
            if !self
                .pushes
                .knows(tree, revision, &status.task_id, Some((run.run_id, state)))
            {
                missed.push(message(
                    exchange,
                    json!({"version": 1, "status": status_json, "runId": run.run_id, "task": {"tags": tags}}),
                ));
            }
        }
        missed
    }
}
