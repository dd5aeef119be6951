//! Push tracking inside the monitor: [`PushSettings`] say how, and the
//! `PushDesk` holds the tracker the intake feeds and the ticker
//! thread finishes pushes with, and hands push events to `on_push`.
//!
//! A broker message is acknowledged only once its effect on the push state
//! is written: with a state file, the `state_writer` flushes the tracker
//! once per write window before it lets go of the window's
//! acknowledgements.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::Utc;
use pulse_dispatch::Job;
use pulse_filter::Filter;
use pulse_push::{PushEvent, PushSummary, PushTracker, TrackerConfig};
use pulse_translator::{JobResult, Record};

use crate::pool::PoolSlot;
use crate::reconcile::Reconciler;
use crate::shared::Shared;
use crate::{Error, ErrorKind};

/// How often the ticker looks for pushes that became quiet.
const TICK: Duration = Duration::from_millis(200);

/// In-process sources write the state every this many messages (there is
/// no acknowledgement to wait for), and at the end.
const REPLAY_FLUSH_EVERY: u64 = 1000;

pub(crate) type PushCallback = Arc<dyn Fn(PushEvent) + Send + Sync>;

/// How a monitor tracks pushes: where the state lives and how the tracker
/// decides ([`TrackerConfig`]). [`PushSettings::default`] keeps the state
/// in memory with the default quiet period (60 s) and retention (7 days).
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct PushSettings {
    /// The SQLite state file; `None` keeps the state in memory, lost when
    /// the monitor stops.
    pub state_file: Option<PathBuf>,
    /// Quiet period and retention.
    pub tracker: TrackerConfig,
}

impl PushSettings {
    /// With the state in the SQLite file at `path` (created when missing):
    /// a monitor restarted on the same file and durable queue goes on
    /// where it stopped.
    #[must_use]
    pub fn with_state_file(mut self, path: impl Into<PathBuf>) -> PushSettings {
        self.state_file = Some(path.into());
        self
    }

    /// With this quiet period: how long a push whose tasks all have their
    /// final run stays unchanged before it is finished.
    #[must_use]
    pub fn with_quiet_period(mut self, quiet_period: Duration) -> PushSettings {
        self.tracker = self.tracker.with_quiet_period(quiet_period);
        self
    }

    /// With this retention.
    #[must_use]
    pub fn with_retention(mut self, retention: Duration) -> PushSettings {
        self.tracker = self.tracker.with_retention(retention);
        self
    }
}

/// The tracker and who hears of it, shared by the intake and the ticker.
pub(crate) struct PushDesk {
    tracker: Mutex<PushTracker>,
    on_push: Option<PushCallback>,
    /// The trees whose pushes are tracked; `None`: every tree.
    trees: Option<HashSet<String>>,
    /// The results a push event must have to be announced; `None`: any.
    results: Option<HashSet<JobResult>>,
    applied: std::sync::atomic::AtomicU64,
}

impl PushDesk {
    pub(crate) fn open(
        settings: &PushSettings,
        filter: &Filter,
        on_push: Option<PushCallback>,
    ) -> Result<PushDesk, Error> {
        let tracker = match &settings.state_file {
            Some(path) => PushTracker::open(path, settings.tracker.clone())
                .map_err(|e| Error::new(ErrorKind::PushState(e)))?,
            None => PushTracker::in_memory(settings.tracker.clone()),
        };
        // Only the tree and result rules apply to pushes: a push has no
        // platform, build type or test of its own.
        let spec = filter.to_spec();
        let trees = (!spec.any_tree).then(|| {
            spec.trees
                .unwrap_or_else(|| vec![pulse_filter::DEFAULT_TREE.to_string()])
                .into_iter()
                .collect()
        });
        let results = spec.results.map(|results| {
            results
                .iter()
                .filter_map(|r| serde_json::from_value(serde_json::Value::String(r.clone())).ok())
                .collect()
        });
        Ok(PushDesk {
            tracker: Mutex::new(tracker),
            on_push,
            trees,
            results,
            applied: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Takes in a message's records; returns the push events they made
    /// that the filter lets through.
    pub(crate) fn apply(&self, records: &[Record]) -> Vec<PushEvent> {
        let now = Utc::now();
        let mut tracker = self.lock();
        let mut events = Vec::new();
        for record in records {
            // A resolved group names no tree unless its routes do: the
            // tracker knows its push from the push's tasks.
            let tracked = match record {
                Record::TaskGroup(group) if group.tree.is_empty() => true,
                _ => self
                    .trees
                    .as_ref()
                    .is_none_or(|t| t.contains(record.tree())),
            };
            if tracked {
                events.extend(tracker.apply(record, now));
            }
        }
        self.applied
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        events.retain(|e| self.announces(e));
        events
    }

    /// Gives a failed test's push its failure lines, once its details
    /// came (or why they could not).
    pub(crate) fn attach_details(&self, record: &Record) {
        let Some(job) = record.job() else { return };
        if job.result != Some(JobResult::Testfailed) {
            return;
        }
        let (Some(revision), Some(task_id), Some(run_id)) =
            (&job.revision, &job.task_id, job.run_id)
        else {
            return;
        };
        self.lock().attach_details(
            &job.tree,
            revision,
            task_id,
            run_id,
            &job.failures,
            job.details_unavailable.as_deref(),
        );
    }

    /// The pushes not finished yet, with their task groups.
    pub(crate) fn in_flight(&self) -> Vec<(String, String, Vec<String>)> {
        self.lock().in_flight()
    }

    /// Whether the push already reflects a task's definition (`run`
    /// `None`) or its run in that state.
    pub(crate) fn knows(
        &self,
        tree: &str,
        revision: &str,
        task_id: &str,
        run: Option<(u32, pulse_translator::TaskState)>,
    ) -> bool {
        self.lock().knows(tree, revision, task_id, run)
    }

    /// Writes what changed. Until it succeeds, what was applied must not
    /// be acknowledged.
    pub(crate) fn flush(&self) -> Result<(), pulse_push::Error> {
        self.lock().flush()
    }

    /// Writes what is left and lets go of the state file, for a monitor
    /// started next on the same file; the pushes stay readable.
    pub(crate) fn close(&self) {
        if let Err(error) = self.lock().close() {
            log::error!("{error}");
        }
    }

    /// For in-process sources: writes now and then, not per message.
    pub(crate) fn flush_now_and_then(&self) {
        let applied = self.applied.load(std::sync::atomic::Ordering::Relaxed);
        if applied.is_multiple_of(REPLAY_FLUSH_EVERY) {
            self.flush_logging();
        }
    }

    fn flush_logging(&self) {
        if let Err(error) = self.flush() {
            log::error!("{error}");
        }
    }

    /// The pushes that became quiet, finished; `end_of_input` finishes
    /// every complete push at once (a replay has nothing more to wait for).
    fn tick(&self, end_of_input: bool) -> Vec<PushEvent> {
        let mut tracker = self.lock();
        let now = if end_of_input {
            Utc::now()
                + chrono::Duration::from_std(tracker.config().quiet_period).unwrap_or_default()
        } else {
            Utc::now()
        };
        let mut events = tracker.tick(now);
        if let Err(error) = tracker.flush() {
            log::error!("{error}");
        }
        events.retain(|e| self.announces(e));
        events
    }

    /// Every push tracked whose worst result so far the result rule
    /// keeps, most recently active first.
    pub(crate) fn pushes(&self) -> Vec<PushSummary> {
        let mut pushes = self.lock().pushes();
        pushes.retain(|push| self.keeps(push));
        pushes
    }

    /// The pushes changed since `version` that the result rule keeps,
    /// and the version to ask with next.
    pub(crate) fn pushes_changed_since(&self, version: u64) -> (Vec<PushSummary>, u64) {
        let (mut pushes, version) = self.lock().pushes_changed_since(version);
        pushes.retain(|push| self.keeps(push));
        (pushes, version)
    }

    fn announces(&self, event: &PushEvent) -> bool {
        self.keeps(&event.push)
    }

    /// The result rule, read for a push: its worst result so far.
    fn keeps(&self, push: &PushSummary) -> bool {
        self.results
            .as_ref()
            .is_none_or(|results| push.result.is_some_and(|result| results.contains(&result)))
    }

    /// The `on_push` call for `event`, if there is a callback.
    pub(crate) fn call(&self, event: PushEvent) -> Option<(String, Box<dyn FnOnce() + Send>)> {
        let on_push = Arc::clone(self.on_push.as_ref()?);
        let key = format!(
            "push {} {} {}",
            event.push.tree,
            event.push.revision,
            event.event.as_str()
        );
        Some((key, Box::new(move || on_push(event))))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PushTracker> {
        self.tracker.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Finishes the complete pushes of an input that ended, and hands their
    /// events to the pool.
    pub(crate) fn end_of_input(&self, pool: &PoolSlot, shared: &Shared) {
        for event in self.tick(true) {
            self.submit(event, pool, shared);
        }
    }

    fn submit(&self, event: PushEvent, pool: &PoolSlot, shared: &Shared) {
        let Some((key, call)) = self.call(event) else {
            return;
        };
        pool.submit_waiting(Job::new(key, call), shared);
    }
}

/// Starts the thread that finishes quiet pushes, until the monitor stops.
pub(crate) fn start_ticker(
    desk: Arc<PushDesk>,
    pool: Arc<PoolSlot>,
    shared: Arc<Shared>,
    reconciler: Option<Arc<Reconciler>>,
) -> Result<JoinHandle<()>, Error> {
    std::thread::Builder::new()
        .name("pulse-monitor-pushes".into())
        .spawn(move || {
            while !shared.is_stopping() {
                for event in desk.tick(false) {
                    desk.submit(event, &pool, &shared);
                }
                if let Some(reconciler) = &reconciler {
                    reconciler.look();
                }
                std::thread::park_timeout(TICK);
            }
        })
        .map_err(|e| Error::new(ErrorKind::Spawn(e)))
}
