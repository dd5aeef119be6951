//! Pushes, the unit people watch: Taskcluster records grouped by push,
//! and the moments that matter, live and across restarts.
//!
//! A [`PushTracker`] takes every translated record
//! ([`PushTracker::apply`]): tasks are grouped by the push their
//! `tc-treeherder.v2.<tree>.<revision>` route names; hg.mozilla.org's push
//! message ([`pulse_translator::PushRecord`]) says who pushed and when;
//! `task-defined` makes the expected set of tasks and
//! `task-group-resolved` is counted as a hint. Each task counts once, by
//! its latest run: a run the queue reran is replaced by its rerun, a
//! retrigger is a task of its own, and messages may come in any order and
//! twice without changing the result.
//!
//! It answers with [`PushEvent`]s: [`PushEventKind::Started`], the
//! first failure, [`PushEventKind::Finished`] once every task has its final
//! run and the push stayed quiet for [`TrackerConfig::quiet_period`]
//! (found by [`PushTracker::tick`]), and [`PushEventKind::Reopened`] when a
//! finished push gets new tasks or runs; it finishes again with the new
//! summary, never twice unchanged. A [`PushSummary`] carries the
//! [`Counts`] by Treeherder result, the [`FailedTask`]s, and the times.
//!
//! State lives in memory ([`PushTracker::in_memory`]) or in an SQLite file
//! ([`PushTracker::open`]) written a batch at a time
//! ([`PushTracker::flush`]): a monitor acknowledges a message only after
//! its effect is written, so a crash loses nothing and counts nothing
//! twice. Pushes unchanged for [`TrackerConfig::retention`] are removed.
//! A finished push is paged out ([`TrackerConfig::page_out`]): its row,
//! counts and failed tasks stay in memory (the failed tasks held
//! compact), its other tasks only in SQLite (the state file, or in memory
//! a private temporary database), read back one at a time by the records
//! that touch them. Memory follows the
//! pushes in flight, not the days of pushes kept.
//!
//! Modules: `task` (one task and the merge rule), `kept` (a paged-out
//! push's failed tasks held compact), `tracker`, `summary`
//! (what callbacks receive), `store` (the SQLite file, and the temporary
//! database of the same schema), `error`.
//! Neighbours: `pulse-translator` makes the records; the monitor
//! (`pulse-build-monitor`) feeds a tracker from the broker and calls its
//! users' `on_push`. No threads, no network.
//!
//! ```
//! use chrono::Utc;
//! use pulse_push::{PushEventKind, PushTracker, TrackerConfig};
//! use pulse_translator::{translate, exchanges, Message, Options};
//! use std::time::Duration;
//!
//! let body = br#"{"status": {"taskId": "fxnfF4hJRbq2uSO5DEAK1A", "taskGroupId": "G0ZzO1kfTWSZx0RbTcKfNA",
//!   "state": "failed", "runs": [{"runId": 0, "state": "failed", "reasonResolved": "failed",
//!   "scheduled": "2026-01-23T19:34:49.624Z", "resolved": "2026-01-23T20:00:16.794Z"}]},
//!   "runId": 0, "task": {"tags": {"kind": "test", "label": "test-linux1804-64-qr/debug-mochitest-5"}}}"#;
//! let message = Message::new(exchanges::TASK_FAILED, "primary.fxnfF4hJRbq2uSO5DEAK1A.0", body.to_vec())
//!     .with_cc(vec!["route.tc-treeherder.v2.autoland.fb6b61e49217d835b2d6e435560424aab10d5475".into()]);
//!
//! let mut tracker = PushTracker::in_memory(TrackerConfig::default().with_quiet_period(Duration::ZERO));
//! let now = Utc::now();
//! let mut events = Vec::new();
//! for record in translate(&message, &Options::default())? {
//!     events.extend(tracker.apply(&record, now));
//! }
//! events.extend(tracker.tick(now));
//! let kinds: Vec<PushEventKind> = events.iter().map(|e| e.event).collect();
//! assert_eq!(kinds, [PushEventKind::Started, PushEventKind::FirstFailure, PushEventKind::Finished]);
//! let push = &events[2].push;
//! assert_eq!((push.tree.as_str(), push.counts.testfailed), ("autoland", 1));
//! assert_eq!(push.failed[0].label.as_deref(), Some("test-linux1804-64-qr/debug-mochitest-5"));
//! # Ok::<(), pulse_translator::Error>(())
//! ```
#![deny(missing_docs)]

mod error;
mod kept;
mod store;
mod summary;
mod task;
mod tracker;

pub use error::{Error, ErrorKind};
pub use summary::{
    worst_result, Counts, FailedTask, PushEvent, PushEventKind, PushState, PushSummary,
    FAILURE_LINES_PER_TASK,
};
pub use tracker::{PushTracker, TrackerConfig, DEFAULT_QUIET_PERIOD, DEFAULT_RETENTION};
