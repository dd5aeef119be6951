//! What the page shows, kept in one place: the latest pushes per tree, the
//! latest build per tree, platform and build type, and whether the monitor
//! is connected. Every change is also made into the server-sent event that
//! announces it, so the pages see the changes in the order the board made
//! them.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use pulse_push::{PushEvent, PushState, PushSummary};
use pulse_translator::{BuildRecord, JobInfo, JobResult, Record};
use serde::Serialize;

/// The latest build of one tree, platform and build type (the newest with
/// an installer URL, else the newest): the record as the monitor's
/// `on_build` received it, and its result.
///
/// It serializes as the record's own JSON (the fields of
/// [`BuildRecord`]: `buildurl`, `testsurl`, `logurl`, `task_id`,
/// `revision`, `builddate`…, null or absent where the message did not say)
/// with `result` added.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LatestBuild {
    /// The build record.
    #[serde(flatten)]
    pub build: BuildRecord,
    /// Its result in Treeherder's words.
    pub result: Option<JobResult>,
}

/// The latest builds: tree → platform → build type → build.
pub type Builds = BTreeMap<String, BTreeMap<String, BTreeMap<String, LatestBuild>>>;

/// One server-sent event, ready to write: `event: NAME\ndata: JSON\n\n`.
pub(crate) type Frame = std::sync::Arc<str>;

pub(crate) fn frame(name: &str, data: &impl Serialize) -> Frame {
    // serde_json never writes a raw newline, so the data is one `data:` line.
    let json = serde_json::to_string(data).expect("page data always serializes");
    format!("event: {name}\ndata: {json}\n\n").into()
}

/// The state of the page.
#[derive(Debug)]
pub(crate) struct Board {
    pushes: BTreeMap<(String, String), PushSummary>,
    builds: Builds,
    connected: Option<bool>,
    pushes_per_tree: usize,
}

/// `/api/status` and the `status` event.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Status {
    /// Whether the monitor's broker connection is up; null for a replay.
    pub connected: Option<bool>,
    /// Pushes and builds shown.
    pub pushes: usize,
    pub builds: usize,
    /// Open event streams (`/api/status` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pages: Option<usize>,
}

#[derive(Serialize)]
struct Snapshot<'a> {
    status: Status,
    pushes: Vec<&'a PushSummary>,
    builds: &'a Builds,
}

#[derive(Serialize)]
struct PushFrame<'a> {
    /// started, first-failure, finished, reopened; `update` for a change
    /// no event announced (counts moving).
    event: &'a str,
    push: &'a PushSummary,
}

#[derive(Serialize)]
struct BuildFrame<'a> {
    tree: &'a str,
    platform: &'a str,
    buildtype: &'a str,
    build: &'a LatestBuild,
}

/// Which of two summaries of one push is newer: the one with the later
/// activity, and at equal activity a finished one (finishing changes
/// nothing else).
fn recency(push: &PushSummary) -> (DateTime<Utc>, bool) {
    (push.last_activity, push.state == PushState::Finished)
}

/// When a push happened, for ordering: its push time, else when it was
/// first heard of.
pub(crate) fn pushed(push: &PushSummary) -> DateTime<Utc> {
    push.pushed_at.unwrap_or(push.first_seen)
}

impl Board {
    pub(crate) fn new(pushes_per_tree: usize) -> Board {
        Board {
            pushes: BTreeMap::new(),
            builds: Builds::new(),
            connected: None,
            pushes_per_tree: pushes_per_tree.max(1),
        }
    }

    /// Takes in a push event; the frame announcing it, unless the board
    /// already had a newer summary or the push is older than the ones
    /// shown.
    pub(crate) fn push_event(&mut self, event: &PushEvent) -> Option<Frame> {
        self.upsert(&event.push, true)
            .then(|| self.push_frame(&event.push, event.event.as_str()))
    }

    /// Takes in a summary as the monitor now has it; the frame announcing
    /// it if it changed anything.
    pub(crate) fn update(&mut self, push: &PushSummary) -> Option<Frame> {
        self.upsert(push, false)
            .then(|| self.push_frame(push, "update"))
    }

    fn push_frame(&self, push: &PushSummary, event: &str) -> Frame {
        frame("push", &PushFrame { event, push })
    }

    /// Stores `push` if it is newer than what the board has (and, unless
    /// `always`, different); whether it was stored and is shown.
    fn upsert(&mut self, push: &PushSummary, always: bool) -> bool {
        let key = (push.tree.clone(), push.revision.clone());
        match self.pushes.get(&key) {
            Some(old) if recency(old) > recency(push) => return false,
            Some(old) if !always && old == push => return false,
            Some(_) => {}
            // The follower hands in every push tracked, a week of them:
            // one older than all a full tree shows would only be pruned.
            None if self.older_than_shown(push) => return false,
            None => {}
        }
        self.pushes.insert(key.clone(), push.clone());
        self.prune(&push.tree);
        self.pushes.contains_key(&key)
    }

    /// Whether `push` (not on the board) would be pruned at once: its tree
    /// shows as many pushes as it may, all newer (by [`Board::prune`]'s
    /// order).
    fn older_than_shown(&self, push: &PushSummary) -> bool {
        let rank = |at: DateTime<Utc>, revision: &str| (Reverse(at), revision.to_string());
        let shown: Vec<_> = self
            .pushes
            .range((push.tree.clone(), String::new())..)
            .take_while(|((t, _), _)| *t == push.tree)
            .map(|((_, revision), shown)| rank(pushed(shown), revision))
            .collect();
        shown.len() >= self.pushes_per_tree
            && shown
                .iter()
                .all(|shown| *shown < rank(pushed(push), &push.revision))
    }

    /// Keeps the tree's newest pushes only.
    fn prune(&mut self, tree: &str) {
        let mut of_tree: Vec<(DateTime<Utc>, String)> = self
            .pushes
            .range((tree.to_string(), String::new())..)
            .take_while(|((t, _), _)| t == tree)
            .map(|((_, revision), push)| (pushed(push), revision.clone()))
            .collect();
        if of_tree.len() <= self.pushes_per_tree {
            return;
        }
        of_tree.sort_by_key(|(at, revision)| (Reverse(*at), revision.clone()));
        for (_, revision) in of_tree.drain(self.pushes_per_tree..) {
            self.pushes.remove(&(tree.to_string(), revision));
        }
    }

    /// Takes in a build: kept when it is at least as recent (by build
    /// date) as the one the board has for its tree, platform and type,
    /// except that a build with an installer URL is never replaced by one
    /// without. Many tasks of a platform report as builds (signing,
    /// repackaging, symbol uploads, static analysis), and the newest of
    /// them is often not one to download: the board answers "where is the
    /// new build".
    pub(crate) fn build(&mut self, build: &BuildRecord) -> Option<Frame> {
        let job = &build.job;
        let buildtype = job.buildtype.to_string();
        let slot = self
            .builds
            .entry(job.tree.clone())
            .or_default()
            .entry(job.platform.clone())
            .or_default();
        let rank = |job: &JobInfo| (job.buildurl.is_some(), job.builddate);
        if let Some(old) = slot.get(&buildtype) {
            if rank(&old.build.job) > rank(job) {
                return None;
            }
        }
        let latest = LatestBuild {
            result: Record::Build(build.clone()).result(),
            build: build.clone(),
        };
        let frame = frame(
            "build",
            &BuildFrame {
                tree: &job.tree,
                platform: &job.platform,
                buildtype: &buildtype,
                build: &latest,
            },
        );
        slot.insert(buildtype, latest);
        Some(frame)
    }

    /// Records the connection state; true when it changed.
    pub(crate) fn set_connected(&mut self, connected: Option<bool>) -> bool {
        std::mem::replace(&mut self.connected, connected) != connected
    }

    pub(crate) fn connected(&self) -> Option<bool> {
        self.connected
    }

    pub(crate) fn status(&self) -> Status {
        Status {
            connected: self.connected,
            pushes: self.pushes.len(),
            builds: self
                .builds
                .values()
                .flat_map(|platforms| platforms.values())
                .map(BTreeMap::len)
                .sum(),
            pages: None,
        }
    }

    pub(crate) fn status_frame(&self) -> Frame {
        frame("status", &self.status())
    }

    /// Everything, for a page that just connected or must catch up.
    pub(crate) fn snapshot_frame(&self) -> Frame {
        frame(
            "snapshot",
            &Snapshot {
                status: self.status(),
                pushes: self.sorted(None),
                builds: &self.builds,
            },
        )
    }

    /// The pushes shown (of `tree`, or all), newest first.
    pub(crate) fn sorted(&self, tree: Option<&str>) -> Vec<&PushSummary> {
        let mut pushes: Vec<&PushSummary> = self
            .pushes
            .values()
            .filter(|push| tree.is_none_or(|tree| push.tree == tree))
            .collect();
        pushes.sort_by_key(|push| (Reverse(pushed(push)), push.tree.clone()));
        pushes
    }

    /// The push of `tree` whose revision is `revision`, or starts with it
    /// (12 characters at least, as Treeherder shortens them) and no other
    /// does.
    pub(crate) fn find(&self, tree: &str, revision: &str) -> Option<&PushSummary> {
        if let Some(push) = self.pushes.get(&(tree.to_string(), revision.to_string())) {
            return Some(push);
        }
        if revision.len() < 12 {
            return None;
        }
        let mut matches = self
            .pushes
            .range((tree.to_string(), revision.to_string())..)
            .take_while(|((t, r), _)| t == tree && r.starts_with(revision))
            .map(|(_, push)| push);
        match (matches.next(), matches.next()) {
            (Some(push), None) => Some(push),
            _ => None,
        }
    }

    pub(crate) fn builds(&self) -> &Builds {
        &self.builds
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(revision: &str, pushed_minute: u32) -> PushSummary {
        let at = DateTime::from_timestamp(1_800_000_000 + i64::from(pushed_minute) * 60, 0)
            .expect("a valid time");
        PushSummary {
            tree: "autoland".into(),
            revision: revision.into(),
            push_id: None,
            author: None,
            pushed_at: Some(at),
            task_groups: Vec::new(),
            state: PushState::Running,
            result: None,
            counts: Default::default(),
            failed: Vec::new(),
            first_failure_at: None,
            groups_resolved: 0,
            first_seen: at,
            last_activity: at,
        }
    }

    fn shown(board: &Board) -> Vec<String> {
        board
            .sorted(None)
            .into_iter()
            .map(|p| p.revision.clone())
            .collect()
    }

    #[test]
    fn a_full_tree_shows_its_newest_pushes_whatever_the_order() {
        // Two at the same minute: the revision breaks the tie, as in prune.
        let pushes = [push("a", 1), push("b", 2), push("c", 3), push("d", 3)];
        let orders: [[usize; 4]; 6] = [
            [0, 1, 2, 3],
            [3, 2, 1, 0],
            [1, 3, 0, 2],
            [2, 0, 3, 1],
            [0, 3, 1, 2],
            [3, 0, 2, 1],
        ];
        for order in orders {
            let mut board = Board::new(2);
            for &i in &order {
                board.update(&pushes[i]);
            }
            assert_eq!(shown(&board), ["c", "d"], "order {order:?}");
            // An older push handed in again is no change, and no frame.
            assert!(board.update(&pushes[0]).is_none());
            assert!(board.update(&pushes[1]).is_none());
            assert_eq!(shown(&board), ["c", "d"], "order {order:?}");
        }
    }

    /// A build record of a generated push, at `minute`, with an installer
    /// URL or without.
    fn build_at(minute: i64, installer: bool) -> BuildRecord {
        let push = pulse_synthetic::Push::builder().tasks(300).seed(2).build();
        let mut build = push
            .messages()
            .iter()
            .flat_map(|m| pulse_translator::translate(&m.message, &Default::default()).unwrap())
            .find_map(|record| match record {
                Record::Build(build) => Some(build),
                _ => None,
            })
            .expect("a generated push has builds");
        build.job.builddate = Some(1_800_000_000 + minute * 60);
        build.job.buildurl =
            installer.then(|| format!("https://example.test/{minute}/target.tar.xz"));
        build
    }

    #[test]
    fn the_latest_build_is_the_newest_one_to_download_whatever_the_order() {
        let builds = [
            build_at(1, true),
            build_at(2, true),
            build_at(3, false),
            build_at(4, false),
        ];
        let orders: [[usize; 4]; 4] = [[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1], [1, 3, 0, 2]];
        for order in orders {
            let mut board = Board::new(2);
            for &i in &order {
                board.build(&builds[i]);
            }
            let job = &builds[0].job;
            let shown = &board.builds()[&job.tree][&job.platform][&job.buildtype.to_string()];
            assert_eq!(shown.build, builds[1], "order {order:?}");
        }
        // With no installer URL anywhere, the newest.
        let mut board = Board::new(2);
        for i in [3, 2] {
            board.build(&builds[i]);
        }
        let job = &builds[3].job;
        let shown = &board.builds()[&job.tree][&job.platform][&job.buildtype.to_string()];
        assert_eq!(shown.build, builds[3]);
    }
}
