//! [`PushTracker`]: records in, push events out, state kept in memory and,
//! when opened on a file, in SQLite.
//!
//! A finished push is paged out: only its row, counts and failed tasks
//! stay in memory, the rest of its tasks live in SQLite (the state file,
//! or a private temporary database), so memory follows the pushes in
//! flight, not the pushes kept for the retention. A later record reads
//! back the one task it touches; nothing else needs the others. The
//! failed tasks it keeps are held compact (`kept`), and unpacked for a
//! record or details to change them.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use pulse_translator::{FailureLine, PushRecord, Record, TaskGroupRecord};

use crate::kept::{KeptTask, Words};
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
    /// Whether a finished push's tasks leave memory (true by default): all
    /// but its failed ones go to the state file or, in memory, to a
    /// private temporary database, and a later record reads back what it
    /// touches. False keeps every task in memory until the retention,
    /// which grows with the pushes kept; the events and summaries are the
    /// same either way.
    pub page_out: bool,
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

    /// Whether finished pushes' tasks leave memory.
    #[must_use]
    pub fn with_page_out(mut self, page_out: bool) -> TrackerConfig {
        self.page_out = page_out;
        self
    }
}

impl Default for TrackerConfig {
    fn default() -> Self {
        TrackerConfig {
            quiet_period: DEFAULT_QUIET_PERIOD,
            retention: DEFAULT_RETENTION,
            page_out: true,
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
    failed: Vec<Failed>,
    /// What its kept tasks share.
    words: Words,
    /// Its tasks missing from `tasks` are in the store, or kept in
    /// `failed`: set when it finished and its tasks but the failed ones
    /// left memory. A record of such a task reads it back (or unpacks
    /// it); a changed one stays in memory until the push finishes again.
    paged_out: bool,
    /// The tracker's [`PushTracker::version`] when a flush last found it
    /// changed.
    changed: u64,
}

/// One of a push's failed tasks.
#[derive(Debug)]
enum Failed {
    /// In the push's `tasks`.
    Id(String),
    /// Held here, compact: a paged-out push's failed task that no record
    /// or details are changing. The slot keeps its place in the order
    /// the tasks failed, so the id is not held twice.
    Kept(KeptTask),
}

impl Failed {
    fn task_id(&self) -> &str {
        match self {
            Failed::Id(id) => id,
            Failed::Kept(kept) => kept.task_id(),
        }
    }
}

impl Push {
    fn new(row: PushRow) -> Push {
        Push {
            row,
            tasks: HashMap::new(),
            counts: Counts::default(),
            failed: Vec::new(),
            words: Words::default(),
            paged_out: false,
            changed: 0,
        }
    }

    /// A task it holds in memory, kept or not.
    fn task(&self, task_id: &str) -> Option<Cow<'_, TaskEntry>> {
        if let Some(task) = self.tasks.get(task_id) {
            return Some(Cow::Borrowed(task));
        }
        self.failed.iter().find_map(|slot| match slot {
            Failed::Kept(kept) if kept.task_id() == task_id => {
                Some(Cow::Owned(kept.unpack(&self.words)))
            }
            _ => None,
        })
    }

    /// Unpacks a kept task into `tasks`, for a record or details to
    /// change it; false when it is not kept.
    fn unpack(&mut self, task_id: &str) -> bool {
        let Some(slot) = self
            .failed
            .iter_mut()
            .find(|slot| matches!(slot, Failed::Kept(kept) if kept.task_id() == task_id))
        else {
            return false;
        };
        let Failed::Kept(kept) = slot else {
            unreachable!("found kept");
        };
        let task = kept.unpack(&self.words);
        *slot = Failed::Id(task.task_id.clone());
        self.tasks.insert(task.task_id.clone(), task);
        true
    }

    /// Packs a failed task of `tasks` into its slot in `failed`; other
    /// tasks stay.
    fn pack(&mut self, task_id: &str) {
        let slot = self
            .failed
            .iter_mut()
            .find(|slot| matches!(slot, Failed::Id(id) if id == task_id));
        if let (Some(slot), Some(task)) = (slot, self.tasks.remove(task_id)) {
            *slot = Failed::Kept(KeptTask::pack(task, &mut self.words));
        }
    }

    /// A task read back (or unpacked) for a record that changed no count
    /// goes back: a failed one packed, another out of memory unless the
    /// record filled in its label or group (`unwritten`): that one stays
    /// until it is written.
    fn put_back(&mut self, task_id: &str, unwritten: bool) {
        match self.tasks.get(task_id) {
            Some(task) if task.failed() => self.pack(task_id),
            Some(_) if !unwritten => {
                self.tasks.remove(task_id);
            }
            _ => {}
        }
    }

    /// Drops the tasks the store holds, keeping those `keep` says are not
    /// written yet, and packs the failed ones (the summary lists them,
    /// details attach to them; written or not, a kept task is read for
    /// writing like any).
    fn drop_paged(&mut self, keep: impl Fn(&TaskEntry) -> bool) {
        for slot in &mut self.failed {
            if let Failed::Id(id) = slot {
                if let Some(task) = self.tasks.remove(id.as_str()) {
                    *slot = Failed::Kept(KeptTask::pack(task, &mut self.words));
                }
            }
        }
        self.tasks.retain(|_, task| keep(task));
        // A 3000-task map keeps its buckets when emptied.
        self.tasks.shrink_to_fit();
        self.failed.shrink_to_fit();
        self.paged_out = true;
    }
}

/// Where the tracker's state lives besides memory.
#[derive(Debug)]
enum Storage {
    /// Nothing but memory: nothing is paged out.
    Memory,
    /// The state file: every change is written at [`PushTracker::flush`],
    /// and paged-out tasks are read back from it.
    File(Store),
    /// A private temporary database holding only the tasks of paged-out
    /// pushes, written when they leave memory.
    Temporary(Store),
}

impl Storage {
    /// Where paged-out tasks are read from.
    fn pages(&self) -> Option<&Store> {
        match self {
            Storage::Memory => None,
            Storage::File(store) | Storage::Temporary(store) => Some(store),
        }
    }
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
    storage: Storage,
    /// A paged-out task that could not be read back: its record was not
    /// applied, so the next [`flush`](Self::flush) fails and the message
    /// is not acknowledged.
    unread: Option<Error>,
    dirty_pushes: HashSet<PushKey>,
    dirty_tasks: HashSet<(PushKey, String)>,
    removed: Vec<PushKey>,
    /// Grows at each flush that finds changes; each changed push is
    /// stamped with it ([`pushes_changed_since`](Self::pushes_changed_since)).
    version: u64,
}

impl PushTracker {
    /// A tracker that keeps its state in memory only: lost when it goes.
    /// Finished pushes' tasks (but the failed ones) go to a private
    /// temporary database, deleted with the tracker ([`TrackerConfig::page_out`]).
    pub fn in_memory(config: TrackerConfig) -> PushTracker {
        let storage = if config.page_out {
            match Store::temporary() {
                Ok(store) => Storage::Temporary(store),
                Err(error) => {
                    log::warn!("{error}; finished pushes stay in memory");
                    Storage::Memory
                }
            }
        } else {
            Storage::Memory
        };
        PushTracker::with_storage(config, storage)
    }

    fn with_storage(config: TrackerConfig, storage: Storage) -> PushTracker {
        PushTracker {
            config,
            pushes: HashMap::new(),
            groups: HashMap::new(),
            by_push_id: HashMap::new(),
            storage,
            unread: None,
            dirty_pushes: HashSet::new(),
            dirty_tasks: HashSet::new(),
            removed: Vec::new(),
            version: 0,
        }
    }

    /// A tracker whose state lives in the SQLite file at `path` (created
    /// when missing), loaded now: a restarted monitor goes on where the
    /// last one stopped. Finished pushes stay paged out: their tasks are
    /// counted as they are read, and only the failed ones kept.
    pub fn open(path: &Path, config: TrackerConfig) -> Result<PushTracker, Error> {
        let store = Store::open(path)?;
        let rows = store.pushes()?;
        let mut tracker = PushTracker::with_storage(config, Storage::Memory);
        let page_out = tracker.config.page_out;
        for row in rows {
            let key = (row.tree.clone(), row.revision.clone());
            let mut push = Push::new(row);
            push.paged_out = page_out && push.row.finished;
            tracker.pushes.insert(key, push);
        }
        let mut failed_at: Vec<(PushKey, Option<DateTime<Utc>>, String)> = Vec::new();
        store.tasks(|key, task| {
            let Some(push) = tracker.pushes.get_mut(&key) else {
                return;
            };
            if let Some(group) = &task.task_group_id {
                tracker.groups.insert(group.clone(), key.clone());
            }
            count(&mut push.counts, &task, 1);
            if task.failed() {
                failed_at.push((key, task.at, task.task_id.clone()));
            }
            if !push.paged_out || task.failed() {
                push.tasks.insert(task.task_id.clone(), task);
            }
        })?;
        failed_at.sort();
        for (key, _, task_id) in failed_at {
            if let Some(push) = tracker.pushes.get_mut(&key) {
                push.failed.push(Failed::Id(task_id));
            }
        }
        for push in tracker.pushes.values_mut().filter(|push| push.paged_out) {
            // Only its failed tasks were read into memory: packed now.
            push.drop_paged(|_| false);
        }
        tracker.storage = Storage::File(store);
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
    /// every task final, and pages them out ([`TrackerConfig::page_out`]);
    /// forgets those older than the retention.
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
            if self.config.page_out {
                page_out(key, push, &mut self.storage, &self.dirty_tasks);
            }
        }
        let paged: Vec<PushKey> = expired
            .iter()
            .filter(|key| self.pushes[*key].paged_out)
            .cloned()
            .collect();
        if let (Storage::Temporary(store), false) = (&mut self.storage, paged.is_empty()) {
            // The state file forgets them at the next flush; the temporary
            // database has nothing to wait for.
            if let Err(error) = store.save(&[], &[], &paged) {
                log::warn!("{error}; expired pushes' tasks stay in it");
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

    /// Writes what is left and lets go of the state file, so that another
    /// tracker (a restarted monitor) can open it; the pushes stay
    /// readable ([`pushes`](Self::pushes), [`push`](Self::push)). Call it
    /// once nothing more will be applied: the file is let go even when
    /// the last write fails (that error is returned), and later records
    /// would not see the tasks paged out to it.
    pub fn close(&mut self) -> Result<(), Error> {
        let written = self.flush();
        if matches!(self.storage, Storage::File(_)) {
            self.storage = Storage::Memory;
        }
        written
    }

    /// Writes what changed since the last flush to the state file, in one
    /// transaction; nothing to do in memory. Until it returns `Ok`, what
    /// was applied since must not be acknowledged. It also fails once
    /// after a record could not be applied because the task it touches,
    /// paged out, could not be read back.
    pub fn flush(&mut self) -> Result<(), Error> {
        self.stamp_changes();
        if let Some(error) = self.unread.take() {
            return Err(error);
        }
        let Storage::File(store) = &mut self.storage else {
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
        let held: Vec<(&PushKey, Cow<'_, TaskEntry>)> = self
            .dirty_tasks
            .iter()
            .filter_map(|(key, task_id)| {
                let push = self.pushes.get(key)?;
                Some((key, push.task(task_id)?))
            })
            .collect();
        let tasks: Vec<(&PushKey, &TaskEntry)> = held
            .iter()
            .map(|(key, task)| (*key, task.as_ref()))
            .collect();
        store.save(&pushes, &tasks, &self.removed)?;
        // What a paged-out push kept in memory only until it was written
        // (a task changed after its finish, before the flush) goes now.
        for (key, task_id) in self.dirty_tasks.drain() {
            if let Some(push) = self.pushes.get_mut(&key) {
                if push.paged_out && push.row.finished {
                    if let Some(task) = push.tasks.get(&task_id) {
                        if !task.failed() {
                            push.tasks.remove(&task_id);
                        }
                    }
                }
            }
        }
        self.dirty_pushes.clear();
        self.removed.clear();
        Ok(())
    }

    /// Gives a failed run of a push's task its failure lines (the first
    /// [`FAILURE_LINES_PER_TASK`]) or why they could not be fetched. Details
    /// of a run that is no longer the task's latest, or of a task or push
    /// the tracker does not know, are dropped: they describe nothing it
    /// shows. No event: the next one carries them. (A paged-out push keeps
    /// its failed tasks in memory; details of its other tasks would be
    /// cleared by the run that makes them fail, so they are dropped too.)
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
        let Some(push) = self.pushes.get_mut(&key) else {
            return;
        };
        // A kept task is changed unpacked, and packed again.
        let unpacked = push.unpack(task_id);
        let kept = &failures[..failures.len().min(FAILURE_LINES_PER_TASK)];
        let attached = push.tasks.get_mut(task_id).is_some_and(|task| {
            let new = task.failures != kept || task.details_unavailable.as_deref() != unavailable;
            if task.run_id == Some(run_id) && new {
                task.failures = kept.to_vec();
                task.details_unavailable = unavailable.map(str::to_string);
                return true;
            }
            false
        });
        if unpacked {
            push.pack(task_id);
        }
        if attached {
            self.dirty_tasks.insert((key, task_id.to_string()));
        }
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
        let key = (tree.to_string(), revision.to_string());
        let Some(push) = self.pushes.get(&key) else {
            return false;
        };
        let task = match push.task(task_id) {
            Some(task) => task,
            None if push.paged_out => {
                match self.storage.pages().map(|store| store.task(&key, task_id)) {
                    Some(Ok(Some(task))) => Cow::Owned(task),
                    Some(Err(error)) => {
                        // Not known: the record is applied again, which
                        // changes nothing when it was.
                        log::warn!("{error}");
                        return false;
                    }
                    _ => return false,
                }
            }
            None => return false,
        };
        let Some((run_id, state)) = run else {
            return task.defined;
        };
        let observation = crate::task::Observation::probe(task_id, run_id, state);
        !task.into_owned().merge(&observation)
    }

    /// Whether [`flush`](Self::flush) has anything to write.
    pub fn has_unsaved_changes(&self) -> bool {
        !(self.dirty_pushes.is_empty()
            && self.dirty_tasks.is_empty()
            && self.removed.is_empty()
            && self.unread.is_none())
    }

    /// Every push known, most recently active first.
    pub fn pushes(&self) -> Vec<PushSummary> {
        let mut pushes: Vec<PushSummary> = self.pushes.values().map(summary).collect();
        sort_by_activity(&mut pushes);
        pushes
    }

    /// The pushes changed since `version` (0: every push), most recently
    /// active first, and the version to ask with next time: what a page
    /// that shows pushes needs twice a second, without a summary of every
    /// push of the week each time. A push may come twice for one change;
    /// a push removed after its retention does not come.
    pub fn pushes_changed_since(&self, version: u64) -> (Vec<PushSummary>, u64) {
        // Changes not flushed yet are stamped at the next flush, so they
        // come now and again then.
        let dirty: HashSet<&PushKey> = self
            .dirty_pushes
            .iter()
            .chain(self.dirty_tasks.iter().map(|(key, _)| key))
            .collect();
        let mut pushes: Vec<PushSummary> = self
            .pushes
            .iter()
            .filter(|(key, push)| push.changed > version || dirty.contains(key))
            .map(|(_, push)| summary(push))
            .collect();
        sort_by_activity(&mut pushes);
        (pushes, self.version)
    }

    /// Stamps the pushes changed since the last flush with a new version.
    fn stamp_changes(&mut self) {
        if self.dirty_pushes.is_empty() && self.dirty_tasks.is_empty() {
            return;
        }
        self.version += 1;
        let keys = self
            .dirty_pushes
            .iter()
            .chain(self.dirty_tasks.iter().map(|(key, _)| key));
        for key in keys {
            if let Some(push) = self.pushes.get_mut(key) {
                push.changed = self.version;
            }
        }
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
        let mut read_back = false;
        let paged = push.paged_out && !push.tasks.contains_key(&observation.task_id);
        if paged && push.unpack(&observation.task_id) {
            read_back = true;
        } else if paged {
            let pages = self.storage.pages().expect("a paged-out push has a store");
            match pages.task(&key, &observation.task_id) {
                Ok(Some(task)) => {
                    push.tasks.insert(task.task_id.clone(), task);
                    read_back = true;
                }
                Ok(None) => {}
                Err(error) => {
                    log::error!(
                        "{error}: a record of task {} not applied",
                        observation.task_id
                    );
                    self.unread.get_or_insert(error);
                    return;
                }
            }
        }
        let mut touched = false;
        let changed = match push.tasks.get_mut(&observation.task_id) {
            Some(task) => {
                let before = task.clone();
                let changed = task.merge(observation);
                // A label or group filled in changes no count, but is kept.
                touched = *task != before;
                if changed {
                    count(&mut push.counts, &before, -1);
                    count(&mut push.counts, task, 1);
                    if before.failed() && !task.failed() {
                        push.failed.retain(|slot| slot.task_id() != task.task_id);
                    }
                    if !before.failed() && task.failed() {
                        push.failed.push(Failed::Id(task.task_id.clone()));
                    }
                }
                changed
            }
            None => {
                let task = TaskEntry::new(observation);
                count(&mut push.counts, &task, 1);
                if task.failed() {
                    push.failed.push(Failed::Id(task.task_id.clone()));
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
            if read_back {
                push.put_back(&observation.task_id, touched);
            }
            if touched {
                self.dirty_tasks.insert((key, observation.task_id.clone()));
            }
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
        let push = Push::new(PushRow::new(key.0.clone(), key.1.clone(), now));
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

/// Pages out a push that just finished: its tasks but the failed ones
/// leave memory. The state file holds them once written, so those not
/// flushed yet stay until [`PushTracker::flush`] writes them; a temporary
/// database is written now, and when it cannot be, they all stay.
fn page_out(
    key: &PushKey,
    push: &mut Push,
    storage: &mut Storage,
    dirty_tasks: &HashSet<(PushKey, String)>,
) {
    match storage {
        Storage::Memory => {}
        Storage::File(_) => {
            push.drop_paged(|task| dirty_tasks.contains(&(key.clone(), task.task_id.clone())))
        }
        Storage::Temporary(store) => {
            let tasks: Vec<(&PushKey, &TaskEntry)> = push
                .tasks
                .values()
                .filter(|task| !task.failed())
                .map(|task| (key, task))
                .collect();
            match store.save(&[], &tasks, &[]) {
                Ok(()) => push.drop_paged(|_| false),
                Err(error) => log::warn!("{error}; push {} {} stays in memory", key.0, key.1),
            }
        }
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

/// Most recently active first; then by tree and revision.
fn sort_by_activity(pushes: &mut [PushSummary]) {
    pushes.sort_by(|a, b| {
        b.last_activity
            .cmp(&a.last_activity)
            .then_with(|| a.tree.cmp(&b.tree))
            .then_with(|| a.revision.cmp(&b.revision))
    });
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
        .filter_map(|slot| match slot {
            Failed::Id(id) => push.tasks.get(id).map(Cow::Borrowed),
            Failed::Kept(kept) => Some(Cow::Owned(kept.unpack(&push.words))),
        })
        .map(|task| {
            // An unpacked kept task is moved, not copied again.
            let task = task.into_owned();
            FailedTask {
                task_id: task.task_id,
                run_id: task.run_id.unwrap_or(0),
                label: task.label,
                kind: task.kind,
                result: task.result,
                at: task.at.unwrap_or(row.last_activity),
                logurl: task.logurl,
                failures: task.failures,
                details_unavailable: task.details_unavailable,
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use pulse_translator::{translate, JobKind, JobResult, Options, TaskRecord, TaskState};

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    fn quiet() -> TrackerConfig {
        TrackerConfig::default().with_quiet_period(Duration::from_secs(60))
    }

    /// A generated push's records, and its key.
    fn generated(seed: u64, tasks: usize) -> (PushKey, Vec<Record>) {
        let push = pulse_synthetic::Push::builder()
            .tree("autoland")
            .tasks(tasks)
            .seed(seed)
            .build();
        let records = push
            .messages()
            .iter()
            .flat_map(|m| translate(&m.message, &Options::default()).unwrap())
            .collect();
        ((push.tree.clone(), push.revision.clone()), records)
    }

    fn feed(tracker: &mut PushTracker, records: &[Record], now: DateTime<Utc>) -> Vec<PushEvent> {
        records
            .iter()
            .flat_map(|record| tracker.apply(record, now))
            .collect()
    }

    /// A run of `task` in `state`, as the queue reports it.
    fn run(key: &PushKey, task: &TaskEntry, run_id: u32, state: TaskState) -> Record {
        let result = match state {
            TaskState::Completed => JobResult::Success,
            _ => JobResult::Unknown,
        };
        Record::Task(TaskRecord {
            kind: task.kind.clone(),
            job_kind: JobKind::Test,
            label: task.label.clone(),
            tree: key.0.clone(),
            revision: Some(key.1.clone()),
            platform: None,
            buildtype: None,
            state,
            result,
            status: None,
            task_id: task.task_id.clone(),
            run_id,
            task_group_id: task.task_group_id.clone(),
            push_id: None,
            worker_type: None,
            worker_id: None,
            logurl: None,
            builddate: Some(1_800_000_500),
            tier: None,
            key: "k".into(),
            timestamp: None,
            reconciled: false,
        })
    }

    /// How many of the push's tasks are in memory, kept or not.
    fn in_memory(tracker: &PushTracker, key: &PushKey) -> usize {
        let push = &tracker.pushes[key];
        push.tasks.len() + kept(push)
    }

    /// How many of the push's failed tasks are kept compact.
    fn kept(push: &Push) -> usize {
        let kept = |slot: &&Failed| matches!(slot, Failed::Kept(_));
        push.failed.iter().filter(kept).count()
    }

    /// A push of 300 tasks, finished; a tracker that never pages out got
    /// the same.
    fn finished(tracker: &mut PushTracker) -> (PushKey, Vec<Record>, PushTracker) {
        let (key, records) = generated(61, 300);
        let mut reference = PushTracker::in_memory(quiet().with_page_out(false));
        assert_eq!(
            feed(tracker, &records, at(0)),
            feed(&mut reference, &records, at(0))
        );
        let events = tracker.tick(at(100));
        assert_eq!(events, reference.tick(at(100)));
        assert_eq!(events.len(), 1, "finished: {events:?}");
        (key, records, reference)
    }

    #[test]
    fn a_finished_push_keeps_only_its_failed_tasks_in_memory() {
        let dir = pulse_test_support::TempDir::new("push-page-out");
        let path = dir.path().join("state.sqlite");
        for on_file in [false, true] {
            let mut tracker = if on_file {
                PushTracker::open(&path, quiet()).unwrap()
            } else {
                PushTracker::in_memory(quiet())
            };
            let (key, _, reference) = finished(&mut tracker);
            let counts = tracker.pushes[&key].counts;
            assert!(counts.tasks >= 300 && counts.failed() > 0, "{counts:?}");
            if on_file {
                assert_eq!(
                    in_memory(&tracker, &key),
                    counts.tasks as usize,
                    "not in the file yet: kept"
                );
                tracker.flush().unwrap();
            }
            let push = &tracker.pushes[&key];
            assert!(push.paged_out);
            assert!(push.tasks.is_empty(), "on file: {on_file}");
            assert_eq!(kept(push), counts.failed() as usize, "on file: {on_file}");
            assert_eq!(
                tracker.push(&key.0, &key.1),
                reference.push(&key.0, &key.1),
                "the summary is the same"
            );
        }
        // Opened again, the finished push is read paged out, counted whole.
        let reopened = PushTracker::open(&path, quiet()).unwrap();
        let (key, _) = generated(61, 300);
        let push = &reopened.pushes[&key];
        assert!(push.paged_out);
        assert!(push.tasks.is_empty());
        assert_eq!(kept(push), push.counts.failed() as usize);
    }

    #[test]
    fn a_finished_push_holds_its_failed_tasks_compact() {
        let (key, records) = generated(7, 3000);
        let mut tracker = PushTracker::in_memory(quiet());
        let mut reference = PushTracker::in_memory(quiet().with_page_out(false));
        feed(&mut tracker, &records, at(0));
        feed(&mut reference, &records, at(0));
        assert_eq!(tracker.tick(at(100)), reference.tick(at(100)));
        let push = &tracker.pushes[&key];
        let n = push.counts.failed() as usize;
        assert!(push.paged_out && n > 50, "{:?}", push.counts);
        assert!(push.tasks.is_empty(), "no failed task unpacked");
        assert_eq!(kept(push), n, "every failed task kept compact");
        assert_eq!(tracker.push(&key.0, &key.1), reference.push(&key.0, &key.1));

        // What a failed task costs, its share of the containers included.
        use crate::kept::chunk;
        use std::mem::size_of;
        let heap: usize = push
            .failed
            .iter()
            .map(|slot| match slot {
                Failed::Kept(kept) => kept.heap_bytes(),
                Failed::Id(_) => unreachable!("all kept"),
            })
            .sum();
        let compact =
            (push.failed.capacity() * size_of::<Failed>() + heap + push.words.heap_bytes()) / n;
        // As they were held before, in a map (of the buckets hashbrown
        // takes for `n` after shrink_to_fit, a control byte each) by a
        // copy of their id, and by id again in the failed list.
        let full: Vec<&TaskEntry> = reference.pushes[&key]
            .tasks
            .values()
            .filter(|task| task.failed())
            .collect();
        let buckets = (n * 8 / 7).next_power_of_two();
        let strings: usize = full
            .iter()
            .map(|task| {
                let text = |s: &Option<String>| s.as_ref().map_or(0, |s| chunk(s.len()));
                3 * chunk(task.task_id.len())
                    + chunk(task.kind.len())
                    + text(&task.label)
                    + text(&task.task_group_id)
                    + text(&task.logurl)
            })
            .sum();
        let before =
            (buckets * (size_of::<(String, TaskEntry)>() + 1) + n * size_of::<String>() + strings)
                / n;
        eprintln!("bytes per kept failed task: {before} in a map, {compact} compact");
        assert!(compact <= 300, "{compact} bytes per failed task");
        assert!(compact * 2 < before, "{compact} vs {before}");
    }

    #[test]
    fn a_late_rerun_reopens_a_paged_out_push_with_the_right_counts() {
        let dir = pulse_test_support::TempDir::new("push-page-in");
        for (case, what) in ["in memory", "state file", "state file reopened"]
            .iter()
            .enumerate()
        {
            let path = dir.path().join(format!("state-{case}.sqlite"));
            let mut tracker = if case == 0 {
                PushTracker::in_memory(quiet())
            } else {
                PushTracker::open(&path, quiet()).unwrap()
            };
            let (key, records, mut reference) = finished(&mut tracker);
            tracker.flush().unwrap();
            if case == 2 {
                drop(tracker);
                tracker = PushTracker::open(&path, quiet()).unwrap();
            }
            let failed = tracker.pushes[&key].counts.failed() as usize;
            assert_eq!(in_memory(&tracker, &key), failed, "{what}: paged out");

            // A task that succeeded, rerun: only the reference has it in memory.
            let mut succeeded: Vec<&TaskEntry> = reference.pushes[&key]
                .tasks
                .values()
                .filter(|t| t.result == JobResult::Success)
                .collect();
            succeeded.sort_by(|a, b| a.task_id.cmp(&b.task_id));
            let task = succeeded[0].clone();
            let last = task.run_id.unwrap();
            for probe in [
                None,
                Some((last, TaskState::Running)),
                Some((last, TaskState::Completed)),
                Some((last + 1, TaskState::Pending)),
            ] {
                assert_eq!(
                    tracker.knows(&key.0, &key.1, &task.task_id, probe),
                    reference.knows(&key.0, &key.1, &task.task_id, probe),
                    "{what}: knows {probe:?}"
                );
            }
            assert!(tracker.knows(
                &key.0,
                &key.1,
                &task.task_id,
                Some((last, TaskState::Completed))
            ));
            let before = reference.pushes[&key].counts;

            let rerun = run(&key, &task, last + 1, TaskState::Pending);
            let events = tracker.apply(&rerun, at(200));
            assert_eq!(events, reference.apply(&rerun, at(200)), "{what}");
            let kinds: Vec<PushEventKind> = events.iter().map(|e| e.event).collect();
            assert_eq!(kinds, [PushEventKind::Reopened], "{what}");
            let counts = events[0].push.counts;
            assert_eq!(
                counts.tasks, before.tasks,
                "{what}: the same task, not a new one"
            );
            assert_eq!(
                (counts.pending, counts.success, counts.reruns),
                (1, before.success - 1, before.reruns + 1),
                "{what}"
            );
            assert_eq!(
                in_memory(&tracker, &key),
                failed + 1,
                "{what}: the one read back"
            );
            tracker.flush().unwrap();

            // It finishes again with the rerun's result, and pages out again.
            let done = run(&key, &task, last + 1, TaskState::Completed);
            assert_eq!(
                tracker.apply(&done, at(210)),
                reference.apply(&done, at(210))
            );
            let events = tracker.tick(at(300));
            assert_eq!(events, reference.tick(at(300)), "{what}");
            assert_eq!(events.len(), 1, "{what}: finished again");
            assert_eq!(
                events[0].push.counts,
                Counts {
                    reruns: before.reruns + 1,
                    ..before
                }
            );
            tracker.flush().unwrap();
            assert_eq!(in_memory(&tracker, &key), failed, "{what}: paged out again");

            // Nothing new: nothing happens, nothing is read back for good.
            assert!(feed(&mut tracker, &records, at(400)).is_empty(), "{what}");
            feed(&mut reference, &records, at(400));
            assert!(tracker.apply(&done, at(400)).is_empty(), "{what}");
            assert!(
                tracker.tick(at(500)).is_empty(),
                "{what}: not finished twice"
            );
            tracker.flush().unwrap();
            assert_eq!(in_memory(&tracker, &key), failed, "{what}");
            if case > 0 {
                drop(tracker);
                let tracker = PushTracker::open(&path, quiet()).unwrap();
                assert_eq!(
                    tracker.push(&key.0, &key.1),
                    reference.push(&key.0, &key.1).map(|mut push| {
                        // Read back, failed tasks come in the order they failed at.
                        push.failed.sort_by_key(|t| (t.at, t.task_id.clone()));
                        push
                    }),
                    "{what}: across a restart"
                );
            }
        }
    }

    #[test]
    fn expired_paged_out_pushes_leave_the_temporary_database() {
        let mut tracker = PushTracker::in_memory(quiet().with_retention(Duration::from_secs(3600)));
        let (key, _, _) = finished(&mut tracker);
        let pages = |tracker: &PushTracker| -> i64 {
            let Storage::Temporary(store) = &tracker.storage else {
                panic!("a temporary database");
            };
            store.count_tasks()
        };
        assert!(pages(&tracker) > 0);
        tracker.tick(at(3700));
        assert!(tracker.push(&key.0, &key.1).is_none());
        assert_eq!(pages(&tracker), 0, "its tasks are gone too");
    }
}
