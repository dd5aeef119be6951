//! [`PushTracker`]: records in, push events out, state kept in memory and,
//! when opened on a file, in SQLite.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use pulse_translator::{FailureLine, PushRecord, Record, TaskGroupRecord};

use crate::store::{PushRow, Store};
use crate::summary::{
    worst_result, Counts, FailedTask, PushEvent, PushEventKind, PushState, PushSummary,
    FAILURE_LINES_PER_TASK,
};
use crate::task::{Bucket, Observation, TaskEntry};
use crate::Error;

/// The default quiet period: how long a push whose tasks all have their
/// final run must stay unchanged before it counts as finished.
pub const DEFAULT_QUIET_PERIOD: Duration = Duration::from_secs(60);
/// The default retention: pushes unchanged for this long are forgotten.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

/// How a [`PushTracker`] decides: [`TrackerConfig::default`], changed with
/// the `with_` methods.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TrackerConfig {
    /// How long a push whose tasks all have their final run must stay
    /// unchanged before it is finished ([`DEFAULT_QUIET_PERIOD`]): tasks an
    /// action adds right after, or a `task-group-resolved` that is late,
    /// do not make it finish twice.
    pub quiet_period: Duration,
    /// Pushes unchanged for this long are removed, from memory and from
    /// the state file ([`DEFAULT_RETENTION`], 7 days).
    pub retention: Duration,
}

impl TrackerConfig {
    /// With this quiet period.
    #[must_use]
    pub fn with_quiet_period(mut self, quiet_period: Duration) -> TrackerConfig {
        self.quiet_period = quiet_period;
        self
    }

    /// With this retention.
    #[must_use]
    pub fn with_retention(mut self, retention: Duration) -> TrackerConfig {
        self.retention = retention;
        self
    }
}

impl Default for TrackerConfig {
    fn default() -> Self {
        TrackerConfig {
            quiet_period: DEFAULT_QUIET_PERIOD,
            retention: DEFAULT_RETENTION,
        }
    }
}

/// A push is its tree and tip revision: what both the hg push message and
/// its tasks' `tc-treeherder` routes name.
type PushKey = (String, String);

/// One push as the tracker holds it; counts are kept as tasks change, so
/// nothing is recounted per message.
#[derive(Debug)]
struct Push {
    row: PushRow,
    tasks: HashMap<String, TaskEntry>,
    counts: Counts,
    /// Failed tasks in the order they failed.
    failed: Vec<String>,
}

/// Groups Taskcluster records by push and says when a push starts, first
/// fails, finishes and reopens.
///
/// Feed it every record ([`apply`](Self::apply)); call
/// [`tick`](Self::tick) now and then, since a push finishes by staying
/// quiet; call [`flush`](Self::flush) before acknowledging what was
/// applied. Applying a record twice, or records in any order, gives the
/// same state.
#[derive(Debug)]
pub struct PushTracker {
    config: TrackerConfig,
    pushes: HashMap<PushKey, Push>,
    /// Which push each task group belongs to.
    groups: HashMap<String, PushKey>,
    /// Pushes known from their push message by id only (a message that
    /// carried several pushes names the tip of the last one alone).
    by_push_id: HashMap<(String, u64), PushRecord>,
    store: Option<Store>,
    dirty_pushes: HashSet<PushKey>,
    dirty_tasks: HashSet<(PushKey, String)>,
    removed: Vec<PushKey>,
}

impl PushTracker {
    /// A tracker that keeps its state in memory only.
    pub fn in_memory(config: TrackerConfig) -> PushTracker {
        PushTracker {
            config,
            pushes: HashMap::new(),
            groups: HashMap::new(),
            by_push_id: HashMap::new(),
            store: None,
            dirty_pushes: HashSet::new(),
            dirty_tasks: HashSet::new(),
            removed: Vec::new(),
        }
    }

    /// A tracker whose state lives in the SQLite file at `path` (created
    /// when missing), loaded now: a restarted monitor goes on where the
    /// last one stopped.
    pub fn open(path: &Path, config: TrackerConfig) -> Result<PushTracker, Error> {
        let store = Store::open(path)?;
        let (rows, tasks) = store.load()?;
        let mut tracker = PushTracker::in_memory(config);
        for row in rows {
            let key = (row.tree.clone(), row.revision.clone());
            tracker.pushes.insert(
                key,
                Push {
                    row,
                    tasks: HashMap::new(),
                    counts: Counts::default(),
                    failed: Vec::new(),
                },
            );
        }
        let mut failed_at: Vec<(PushKey, Option<DateTime<Utc>>, String)> = Vec::new();
        for (key, task) in tasks {
            let Some(push) = tracker.pushes.get_mut(&key) else {
                continue;
            };
            if let Some(group) = &task.task_group_id {
                tracker.groups.insert(group.clone(), key.clone());
            }
            count(&mut push.counts, &task, 1);
            if task.failed() {
                failed_at.push((key.clone(), task.at, task.task_id.clone()));
            }
            push.tasks.insert(task.task_id.clone(), task);
        }
        failed_at.sort();
        for (key, _, task_id) in failed_at {
            if let Some(push) = tracker.pushes.get_mut(&key) {
                push.failed.push(task_id);
            }
        }
        tracker.store = Some(store);
        Ok(tracker)
    }

    /// The configuration.
    pub fn config(&self) -> &TrackerConfig {
        &self.config
    }

    /// Takes in one record at `now`; returns what it made happen. Records
    /// of no push (buildbot jobs, tasks without a revision) change nothing.
    pub fn apply(&mut self, record: &Record, now: DateTime<Utc>) -> Vec<PushEvent> {
        let mut events = Vec::new();
        match record {
            Record::Push(push) => self.apply_push(push, now, &mut events),
            Record::TaskGroup(group) => self.apply_group(group),
            _ => {
                if let Some((tree, revision, observation)) = Observation::of(record) {
                    self.apply_task((tree, revision), &observation, now, &mut events);
                }
            }
        }
        events
    }

    /// Finishes the pushes that have been quiet for the quiet period with
    /// every task final, and forgets those older than the retention.
    pub fn tick(&mut self, now: DateTime<Utc>) -> Vec<PushEvent> {
        let quiet = chrono::Duration::from_std(self.config.quiet_period).unwrap_or_default();
        let retention = chrono::Duration::from_std(self.config.retention).unwrap_or_default();
        let mut events = Vec::new();
        let mut expired = Vec::new();
        for (key, push) in self.pushes.iter_mut() {
            if now - push.row.last_activity >= retention {
                expired.push(key.clone());
                continue;
            }
            let done = push.counts.tasks > 0 && push.counts.unfinished() == 0;
            if push.row.finished || !done || now - push.row.last_activity < quiet {
                continue;
            }
            push.row.finished = true;
            self.dirty_pushes.insert(key.clone());
            // An unchanged push never finishes twice: a reopen that
            // changed no count (a task defined again) ends silently.
            if push.row.announced != Some(push.counts) {
                push.row.announced = Some(push.counts);
                events.push(event(PushEventKind::Finished, push));
            }
        }
        for key in expired {
            self.pushes.remove(&key);
            self.groups.retain(|_, push| *push != key);
            self.dirty_pushes.remove(&key);
            self.dirty_tasks.retain(|(push, _)| *push != key);
            self.removed.push(key);
        }
        let oldest = now - retention;
        self.by_push_id.retain(|_, push| push.pushed_at >= oldest);
        events
    }

    /// Writes what changed since the last flush to the state file, in one
    /// transaction; nothing to do in memory. Until it returns `Ok`, what
    /// was applied since must not be acknowledged.
    pub fn flush(&mut self) -> Result<(), Error> {
        let Some(store) = &mut self.store else {
            self.dirty_pushes.clear();
            self.dirty_tasks.clear();
            self.removed.clear();
            return Ok(());
        };
        if self.dirty_pushes.is_empty() && self.dirty_tasks.is_empty() && self.removed.is_empty() {
            return Ok(());
        }
        let pushes: Vec<&PushRow> = self
            .dirty_pushes
            .iter()
            .filter_map(|key| self.pushes.get(key).map(|push| &push.row))
            .collect();
        let tasks: Vec<(&PushKey, &TaskEntry)> = self
            .dirty_tasks
            .iter()
            .filter_map(|(key, task_id)| {
                let push = self.pushes.get(key)?;
                Some((key, push.tasks.get(task_id)?))
            })
            .collect();
        store.save(&pushes, &tasks, &self.removed)?;
        self.dirty_pushes.clear();
        self.dirty_tasks.clear();
        self.removed.clear();
        Ok(())
    }

    /// Gives a failed run of a push's task its failure lines (the first
    /// [`FAILURE_LINES_PER_TASK`]) or why they could not be fetched. Details
    /// of a run that is no longer the task's latest, or of a task or push
    /// the tracker does not know, are dropped: they describe nothing it
    /// shows. No event: the next one carries them.
    pub fn attach_details(
        &mut self,
        tree: &str,
        revision: &str,
        task_id: &str,
        run_id: u32,
        failures: &[FailureLine],
        unavailable: Option<&str>,
    ) {
        let key = (tree.to_string(), revision.to_string());
        let Some(task) = self
            .pushes
            .get_mut(&key)
            .and_then(|push| push.tasks.get_mut(task_id))
        else {
            return;
        };
        if task.run_id != Some(run_id) {
            return;
        }
        let kept = &failures[..failures.len().min(FAILURE_LINES_PER_TASK)];
        if task.failures == kept && task.details_unavailable.as_deref() == unavailable {
            return;
        }
        task.failures = kept.to_vec();
        task.details_unavailable = unavailable.map(str::to_string);
        self.dirty_tasks.insert((key, task_id.to_string()));
    }

    /// The pushes not finished yet, with their task groups: what a
    /// reconciliation lists from the queue after messages may have been
    /// lost.
    pub fn in_flight(&self) -> Vec<(String, String, Vec<String>)> {
        self.pushes
            .values()
            .filter(|push| !push.row.finished && !push.row.task_groups.is_empty())
            .map(|push| {
                (
                    push.row.tree.clone(),
                    push.row.revision.clone(),
                    push.row.task_groups.clone(),
                )
            })
            .collect()
    }

    /// Whether the tracker already knows a task's run this far: defined
    /// (`run_id` `None`), or the run in `state` or a later one.
    pub fn knows(
        &self,
        tree: &str,
        revision: &str,
        task_id: &str,
        run: Option<(u32, pulse_translator::TaskState)>,
    ) -> bool {
        let Some(task) = self
            .pushes
            .get(&(tree.to_string(), revision.to_string()))
            .and_then(|push| push.tasks.get(task_id))
        else {
            return false;
        };
        let Some((run_id, state)) = run else {
            return task.defined;
        };
        let observation = crate::task::Observation::probe(task_id, run_id, state);
        !task.clone().merge(&observation)
    }

    /// Whether [`flush`](Self::flush) has anything to write.
    pub fn has_unsaved_changes(&self) -> bool {
        !(self.dirty_pushes.is_empty() && self.dirty_tasks.is_empty() && self.removed.is_empty())
    }

    /// Every push known, most recently active first.
    pub fn pushes(&self) -> Vec<PushSummary> {
        let mut pushes: Vec<PushSummary> = self.pushes.values().map(summary).collect();
        pushes.sort_by(|a, b| {
            b.last_activity
                .cmp(&a.last_activity)
                .then_with(|| a.tree.cmp(&b.tree))
                .then_with(|| a.revision.cmp(&b.revision))
        });
        pushes
    }

    /// One push, by tree and revision (the full revision, or at least 12
    /// of its first hex digits).
    pub fn push(&self, tree: &str, revision: &str) -> Option<PushSummary> {
        if let Some(push) = self.pushes.get(&(tree.to_string(), revision.to_string())) {
            return Some(summary(push));
        }
        if revision.len() < 12 {
            return None;
        }
        self.pushes
            .iter()
            .find(|((t, r), _)| t == tree && r.starts_with(revision))
            .map(|(_, push)| summary(push))
    }

    fn apply_push(&mut self, record: &PushRecord, now: DateTime<Utc>, events: &mut Vec<PushEvent>) {
        let Some(revision) = &record.revision else {
            let id = (record.tree.clone(), record.push_id);
            if let Some(key) = self.key_of_push_id(&record.tree, record.push_id) {
                self.describe(&key, record);
            }
            self.by_push_id.insert(id, record.clone());
            return;
        };
        let key = (record.tree.clone(), revision.clone());
        let new = self.entry(&key, now);
        self.describe(&key, record);
        if new {
            events.push(event(PushEventKind::Started, &self.pushes[&key]));
        }
    }

    fn apply_group(&mut self, group: &TaskGroupRecord) {
        let key = match (self.groups.get(&group.task_group_id), &group.revision) {
            (Some(key), _) => key.clone(),
            (None, Some(revision)) if !group.tree.is_empty() => {
                (group.tree.clone(), revision.clone())
            }
            _ => {
                log::debug!(
                    "task group {} resolved: no push of it known",
                    group.task_group_id
                );
                return;
            }
        };
        if let Some(push) = self.pushes.get_mut(&key) {
            push.row.groups_resolved += 1;
            self.dirty_pushes.insert(key);
        }
    }

    fn apply_task(
        &mut self,
        key: PushKey,
        observation: &Observation,
        now: DateTime<Utc>,
        events: &mut Vec<PushEvent>,
    ) {
        let new = self.entry(&key, now);
        if let Some(group) = &observation.task_group_id {
            if !self.groups.contains_key(group) {
                self.groups.insert(group.clone(), key.clone());
            }
        }
        if let Some(push_id) = observation.push_id {
            let push = self.pushes.get_mut(&key).expect("entry made it");
            if push.row.push_id.is_none() {
                push.row.push_id = Some(push_id);
                self.dirty_pushes.insert(key.clone());
            }
            if let Some(record) = self.by_push_id.get(&(key.0.clone(), push_id)).cloned() {
                self.describe(&key, &record);
            }
        }
        let push = self.pushes.get_mut(&key).expect("entry made it");
        let changed = match push.tasks.get_mut(&observation.task_id) {
            Some(task) => {
                let before = task.clone();
                if task.merge(observation) {
                    count(&mut push.counts, &before, -1);
                    count(&mut push.counts, task, 1);
                    if before.failed() && !task.failed() {
                        push.failed.retain(|id| *id != task.task_id);
                    }
                    if !before.failed() && task.failed() {
                        push.failed.push(task.task_id.clone());
                    }
                    true
                } else {
                    false
                }
            }
            None => {
                let task = TaskEntry::new(observation);
                count(&mut push.counts, &task, 1);
                if task.failed() {
                    push.failed.push(task.task_id.clone());
                }
                push.tasks.insert(task.task_id.clone(), task);
                true
            }
        };
        if new {
            // Announced with what made it known: its first task.
            events.push(event(PushEventKind::Started, push));
        }
        if !changed {
            return;
        }
        push.row.last_activity = now;
        if let Some(group) = &observation.task_group_id {
            if !push.row.task_groups.contains(group) {
                push.row.task_groups.push(group.clone());
            }
        }
        self.dirty_tasks
            .insert((key.clone(), observation.task_id.clone()));
        self.dirty_pushes.insert(key.clone());
        if push.row.finished {
            push.row.finished = false;
            events.push(event(PushEventKind::Reopened, push));
        }
        if push.row.first_failure_at.is_none() && !push.failed.is_empty() {
            push.row.first_failure_at = Some(observation.at.unwrap_or(now));
            events.push(event(PushEventKind::FirstFailure, push));
        }
    }

    /// Makes the push under `key` when it is new; true when it was.
    fn entry(&mut self, key: &PushKey, now: DateTime<Utc>) -> bool {
        if self.pushes.contains_key(key) {
            return false;
        }
        let push = Push {
            row: PushRow::new(key.0.clone(), key.1.clone(), now),
            tasks: HashMap::new(),
            counts: Counts::default(),
            failed: Vec::new(),
        };
        self.pushes.insert(key.clone(), push);
        self.dirty_pushes.insert(key.clone());
        true
    }

    /// Fills in who pushed, and when, from the push message.
    fn describe(&mut self, key: &PushKey, record: &PushRecord) {
        let Some(push) = self.pushes.get_mut(key) else {
            return;
        };
        let row = &mut push.row;
        let described = (
            Some(record.push_id),
            Some(&record.author),
            Some(record.pushed_at),
        );
        if (row.push_id, row.author.as_ref(), row.pushed_at) != described {
            row.push_id = Some(record.push_id);
            row.author = Some(record.author.clone());
            row.pushed_at = Some(record.pushed_at);
            self.dirty_pushes.insert(key.clone());
        }
    }

    fn key_of_push_id(&self, tree: &str, push_id: u64) -> Option<PushKey> {
        self.pushes
            .iter()
            .find(|((t, _), push)| t == tree && push.row.push_id == Some(push_id))
            .map(|(key, _)| key.clone())
    }
}

/// Adds (`sign` 1) or removes (-1) a task from the counts.
fn count(counts: &mut Counts, task: &TaskEntry, sign: i32) {
    let add = |n: &mut u32| *n = n.saturating_add_signed(sign);
    add(&mut counts.tasks);
    if task.defined {
        add(&mut counts.defined);
    }
    for _ in 0..task.reruns() {
        add(&mut counts.reruns);
    }
    use pulse_translator::JobResult as R;
    match task.bucket() {
        Bucket::Unscheduled => add(&mut counts.unscheduled),
        Bucket::Pending => add(&mut counts.pending),
        Bucket::Running => add(&mut counts.running),
        Bucket::Finished(R::Success) => add(&mut counts.success),
        Bucket::Finished(R::Testfailed) => add(&mut counts.testfailed),
        Bucket::Finished(R::Busted) => add(&mut counts.busted),
        Bucket::Finished(R::Retry) => add(&mut counts.retry),
        Bucket::Finished(R::Usercancel) => add(&mut counts.usercancel),
        Bucket::Finished(R::Superseded) => add(&mut counts.superseded),
        // Exception, and what a queue message never says (skipped,
        // unknown on a finished run): an exception, never lost.
        Bucket::Finished(_) => add(&mut counts.exception),
    }
}

fn event(kind: PushEventKind, push: &Push) -> PushEvent {
    PushEvent {
        event: kind,
        push: summary(push),
    }
}

fn summary(push: &Push) -> PushSummary {
    let row = &push.row;
    let failed = push
        .failed
        .iter()
        .filter_map(|id| push.tasks.get(id))
        .map(|task| FailedTask {
            task_id: task.task_id.clone(),
            run_id: task.run_id.unwrap_or(0),
            label: task.label.clone(),
            kind: task.kind.clone(),
            result: task.result,
            at: task.at.unwrap_or(row.last_activity),
            logurl: task.logurl.clone(),
            failures: task.failures.clone(),
            details_unavailable: task.details_unavailable.clone(),
        })
        .collect();
    PushSummary {
        tree: row.tree.clone(),
        revision: row.revision.clone(),
        push_id: row.push_id,
        author: row.author.clone(),
        pushed_at: row.pushed_at,
        task_groups: row.task_groups.clone(),
        state: if row.finished {
            PushState::Finished
        } else {
            PushState::Running
        },
        result: worst_result(&push.counts),
        counts: push.counts,
        failed,
        first_failure_at: row.first_failure_at,
        groups_resolved: row.groups_resolved,
        first_seen: row.first_seen,
        last_activity: row.last_activity,
    }
}
