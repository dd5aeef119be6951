//! Typed build and test records: what callbacks receive.
//!
//! Serializing a [`Record`] yields exactly the payload the reference
//! translator (pulsetranslator) published on `exchange/build/normalized`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::status::{JobResult, Status, TaskState};

/// The build type: opt, debug or pgo.
///
/// The set is closed: buildbot knew no others, and Taskcluster's other
/// flavours (`asan`, `tsan`, `ccov`, `shippable`…) are platform variants,
/// not build types. A label names them in its platform and keeps its build
/// type after the slash (`build-linux64-asan/opt`), and that build type is
/// the record's, even where Treeherder's option collection puts `asan` or
/// `ccov` in the place of `opt`. The variants are kept in a build record's
/// `tags` and a test record's `os` (the label's platform). One variant does
/// read as a build type: an `opt` label on a `-pgo` platform is pgo, as
/// Treeherder's collection said. (Buildbot's asan builds had a platform of
/// their own, `linux64-asan`.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BuildType {
    /// An optimized build.
    Opt,
    /// A debug build.
    Debug,
    /// A profile-guided optimized build.
    Pgo,
}

impl BuildType {
    /// Every build type, in a stable order.
    pub const ALL: [BuildType; 3] = [BuildType::Opt, BuildType::Debug, BuildType::Pgo];

    /// The lowercase name used in routing keys and payloads.
    pub fn as_str(self) -> &'static str {
        match self {
            BuildType::Opt => "opt",
            BuildType::Debug => "debug",
            BuildType::Pgo => "pgo",
        }
    }
}

impl std::fmt::Display for BuildType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for BuildType {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "opt" => Ok(BuildType::Opt),
            "debug" => Ok(BuildType::Debug),
            "pgo" => Ok(BuildType::Pgo),
            other => Err(crate::Error::new(crate::ErrorKind::BadBuildType {
                buildtype: other.to_string(),
            })),
        }
    }
}

/// Fields shared by build and test records.
///
/// Field names are the reference payload's keys. `None` serializes as
/// `null`, except for the fields the reference only adds when it has them
/// (`blobber_files`, `completemarurl`, `completemarhash`, and the
/// Taskcluster fields), which are then left out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobInfo {
    /// The routing key of the original Pulse message.
    pub key: String,
    /// The repository name only: `mozilla-beta`, never `releases/mozilla-beta`.
    pub tree: String,
    /// The generic platform: linux, linux64, win32, win64, macosx64, android…
    pub platform: String,
    /// opt, debug or pgo.
    pub buildtype: BuildType,
    /// firefox, mobile, xulrunner… or `None` when the message names none.
    pub product: Option<String>,
    /// The hg revision the build was made from.
    pub revision: Option<String>,
    /// The buildid read as a UTC time, in seconds since the epoch.
    pub builddate: Option<i64>,
    /// The buildbot buildername in long form.
    pub buildername: Option<String>,
    /// The buildid, e.g. `20150813004005`.
    pub buildid: Option<String>,
    /// The buildbot job number (`buildnumber` property).
    pub job_number: Option<i64>,
    /// The release candidate build number.
    pub build_number: Option<i64>,
    /// The buildid of the previous build, for updates.
    pub previous_buildid: Option<String>,
    /// The buildbot result: 0 success, 1 warnings, 2 failure, 3 skipped,
    /// 4 exception, 5 retry, 6 cancelled.
    pub status: Option<Status>,
    /// The locale of this build; `en-US` when the message names none.
    pub locale: Option<String>,
    /// The locales of a release repack, `null` for jobs that name none,
    /// left out for nightly repacks: see [`Locales`].
    #[serde(default, skip_serializing_if = "Locales::is_omitted")]
    pub locales: Locales,
    /// The full URL of the build package.
    pub buildurl: Option<String>,
    /// The full URL of the test package for this build.
    pub testsurl: Option<String>,
    /// The URL of the JSON manifest of test packages.
    pub test_packages_url: Option<String>,
    /// The URL of the crash symbols.
    pub symbols_url: Option<String>,
    /// The full URL of the log file.
    pub logurl: Option<String>,
    /// For release builds, the name of the release.
    pub release: Option<String>,
    /// The buildbot slave (worker) that ran the job.
    pub slave: Option<String>,
    /// True for l10n repacks.
    pub repack: Option<bool>,
    /// The product version, e.g. `21.0b2`.
    pub version: Option<String>,
    /// When the message was translated, to the second; serialized as
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "timestamp")]
    pub timestamp: Option<DateTime<Utc>>,
    /// Files uploaded to blobber by a test job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blobber_files: Option<serde_json::Value>,
    /// The URL of the complete MAR update file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completemarurl: Option<String>,
    /// The hash of the complete MAR update file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completemarhash: Option<String>,
    /// The Taskcluster task id (Taskcluster messages only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    /// The Taskcluster run id (Taskcluster messages only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<u32>,
    /// The Taskcluster worker type (Taskcluster messages only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_type: Option<String>,
    /// The Taskcluster task group: the decision task's id for the tasks
    /// of a push (Taskcluster messages only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_group_id: Option<String>,
    /// The push's id in the repository's pushlog, from the
    /// `tc-treeherder` route (Taskcluster messages only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_id: Option<u64>,
    /// The Treeherder tier, 1 (sheriffed) to 3, when the task definition
    /// says (Taskcluster messages only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<u8>,
    /// The task kind exactly as Taskcluster names it (`tags.kind`: `build`,
    /// `test`, `spidermonkey`…); Taskcluster messages only, see
    /// [`Record::kind`] for every record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The result in Treeherder's words (Taskcluster messages only; see
    /// [`Record::result`] for every record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<JobResult>,
    /// What failed in a failed Taskcluster test run, from its errorsummary
    /// artifacts, when the monitor fetched its details; left out otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<FailureLine>,
    /// The failing groups (test manifests) of a failed Taskcluster test
    /// run, when fetched; left out otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failing_groups: Vec<String>,
    /// Why the details of a Taskcluster build or test (its URLs, its
    /// failure lines) could not be fetched, when they were asked for and
    /// could not: a 404, a timeout, a garbled errorsummary…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details_unavailable: Option<String>,
    /// True for a record the monitor made from the Taskcluster queue's
    /// listing of a task group, for a run whose message it missed (a
    /// deleted queue, a restart); left out otherwise.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reconciled: bool,
}

/// One failure line of a failed test run, as Treeherder reads a test
/// harness's errorsummary: an unexpected test or subtest result, a crash,
/// or an error the harness logged.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureLine {
    /// The test (a path or URL); none for a logged error.
    pub test: Option<String>,
    /// The subtest, for a subtest's result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtest: Option<String>,
    /// `FAIL`, `TIMEOUT`, `CRASH`…; a logged error's level.
    pub status: Option<String>,
    /// What was expected (`PASS`, `OK`…), for a test result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// The message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// A crash's signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// The line as a log shows it: `TEST-UNEXPECTED-FAIL | test | subtest - message`,
    /// `PROCESS-CRASH | signature | test`, `ERROR - message`.
    pub line: String,
}

impl JobInfo {
    /// A job with the four fields every record has; every other field
    /// empty, for the translator to fill in.
    pub fn new(key: String, tree: String, platform: String, buildtype: BuildType) -> JobInfo {
        JobInfo {
            key,
            tree,
            platform,
            buildtype,
            product: None,
            revision: None,
            builddate: None,
            buildername: None,
            buildid: None,
            job_number: None,
            build_number: None,
            previous_buildid: None,
            status: None,
            locale: None,
            locales: Locales::Omitted,
            buildurl: None,
            testsurl: None,
            test_packages_url: None,
            symbols_url: None,
            logurl: None,
            release: None,
            slave: None,
            repack: None,
            version: None,
            timestamp: None,
            blobber_files: None,
            completemarurl: None,
            completemarhash: None,
            task_id: None,
            run_id: None,
            worker_type: None,
            task_group_id: None,
            push_id: None,
            tier: None,
            kind: None,
            result: None,
            failures: Vec::new(),
            failing_groups: Vec::new(),
            details_unavailable: None,
            reconciled: false,
        }
    }
}

/// A record's `locales` field, in the reference translator's three
/// shapes: a list, `null`, or no field at all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Locales {
    /// Not in the payload: the record is one locale of a nightly repack,
    /// which the reference translator fanned out per locale and published
    /// without the list; and every Taskcluster record.
    #[default]
    Omitted,
    /// `null`: the job names no locales (tests, and builds that are not
    /// repacks).
    Unnamed,
    /// The message's `locales` property as it was: for a release repack,
    /// the comma-separated locales it was fanned out over (`bn-BD,de,fr`),
    /// one record each.
    Listed(String),
}

impl Locales {
    /// True when the field is left out of the payload.
    pub(crate) fn is_omitted(&self) -> bool {
        matches!(self, Locales::Omitted)
    }
}

impl Serialize for Locales {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Locales::Listed(locales) => serializer.serialize_str(locales),
            // A left-out field is skipped by `JobInfo`; alone, it is null.
            Locales::Omitted | Locales::Unnamed => serializer.serialize_none(),
        }
    }
}

impl<'de> Deserialize<'de> for Locales {
    // A missing field never gets here: `JobInfo` defaults it to `Omitted`.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Locales, D::Error> {
        Ok(match Option::<String>::deserialize(deserializer)? {
            Some(locales) => Locales::Listed(locales),
            None => Locales::Unnamed,
        })
    }
}

/// A finished build: what the seed's `buildCallback` receives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BuildRecord {
    /// The fields shared with test records.
    #[serde(flatten)]
    pub job: JobInfo,
    /// Build tags from the builder name, e.g. `["l10n", "nightly"]`.
    pub tags: Vec<String>,
}

/// A finished unit test or talos run: what the seed's `testCallback` receives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestRecord {
    /// The fields shared with build records.
    #[serde(flatten)]
    pub job: JobInfo,
    /// The specific OS, e.g. win7, xp, fedora64, snowleopard.
    pub os: String,
    /// The test name, e.g. reftest, mochitest-other.
    pub test: String,
    /// True for talos (performance) runs.
    pub talos: bool,
}

impl TestRecord {
    /// The buildbot build number of the test job (the seed's `buildnumber`).
    pub fn buildnumber(&self) -> Option<i64> {
        self.job.job_number
    }
}

/// Treeherder's three kinds of job, which decide how a task is shown and
/// which word names its failure (`testfailed` for tests, `busted` for the
/// others).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    /// Builds, and the tasks Treeherder counts with them (signing,
    /// repackaging, toolchains…).
    Build,
    /// Tests, talos runs and lint jobs.
    Test,
    /// Everything else: the decision task, actions, docker images…
    Other,
}

impl JobKind {
    /// `build`, `test` or `other`, as in `extra.treeherder.jobKind`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Build => "build",
            JobKind::Test => "test",
            JobKind::Other => "other",
        }
    }
}

/// A Taskcluster task that is not a finished build or test: a lint job, a
/// toolchain, a docker image, signing, the decision task… and, when
/// progress is read, any task still pending or running.
///
/// What the seed's build and test callbacks never received; the monitor
/// hands it to `on_task`. Fields the label does not say are `None`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    /// The task kind exactly as Taskcluster names it (`tags.kind`, else the
    /// label's first word): `source-test`, `toolchain`, `decision-task`…
    pub kind: String,
    /// How Treeherder shows the task: build, test or other.
    pub job_kind: JobKind,
    /// The task label, e.g. `source-test-mozlint-eslint`; `None` for tasks
    /// whose messages name none (the decision task, actions).
    pub label: Option<String>,
    /// The repository name, e.g. `autoland`.
    pub tree: String,
    /// The hg revision of the push.
    pub revision: Option<String>,
    /// The generic platform, when the label names one.
    pub platform: Option<String>,
    /// The build type, when the label names one.
    pub buildtype: Option<BuildType>,
    /// Where the run stands.
    pub state: TaskState,
    /// The result in Treeherder's words; `unknown` while not finished.
    pub result: JobResult,
    /// The buildbot-era result code, as on build and test records.
    pub status: Option<Status>,
    /// The task id.
    pub task_id: String,
    /// The run id; 0 for a task only defined so far.
    pub run_id: u32,
    /// The task group: the decision task's id for the tasks of a push.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_group_id: Option<String>,
    /// The push's id in the repository's pushlog, when the route says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_id: Option<u64>,
    /// The worker type, e.g. `t-linux-xlarge-source`.
    pub worker_type: Option<String>,
    /// The worker that ran it.
    pub worker_id: Option<String>,
    /// The run's log URL.
    pub logurl: Option<String>,
    /// When the run resolved (else when it was scheduled), in seconds since
    /// the epoch.
    pub builddate: Option<i64>,
    /// The Treeherder tier, when the task definition says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<u8>,
    /// The routing key of the original message.
    pub key: String,
    /// When the message was translated, to the second; serialized as
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "timestamp")]
    pub timestamp: Option<DateTime<Utc>>,
    /// True for a record made from the queue's listing of a task group,
    /// for a run whose message the monitor missed; left out otherwise.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reconciled: bool,
}

/// A push to a repository, as hg.mozilla.org announced it
/// (`exchange/hgpushes/v2`): where a push starts, with who pushed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushRecord {
    /// The repository name, e.g. `autoland`.
    pub tree: String,
    /// The repository, e.g. `https://hg.mozilla.org/integration/autoland`.
    pub repo_url: String,
    /// The push's id in the repository's pushlog.
    pub push_id: u64,
    /// Who pushed, as the pushlog names them (an e-mail address).
    pub author: String,
    /// When the push landed, to the second; serialized as RFC 3339.
    pub pushed_at: DateTime<Utc>,
    /// The push's tip, the revision its tasks name; `None` for all but
    /// the last push of a message that carried several.
    pub revision: Option<String>,
    /// The repository's heads after the push.
    pub heads: Vec<String>,
    /// The routing key of the original message (the repository's path).
    pub key: String,
}

/// A Taskcluster task group whose tasks have all resolved, for now
/// (`task-group-resolved`): a hint that a push may be done, never proof
/// (a group resolves again when tasks are added, and the message may not
/// come at all).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskGroupRecord {
    /// The task group id: the decision task's id for a push's graph.
    pub task_group_id: String,
    /// The scheduler, e.g. `gecko-level-3`.
    pub scheduler_id: Option<String>,
    /// The repository name, when the message's routes name the push;
    /// empty otherwise.
    pub tree: String,
    /// The push's revision, when the routes name it.
    pub revision: Option<String>,
    /// The routing key of the original message.
    pub key: String,
}

/// A translated message: a build, a test, another Taskcluster task, a push
/// or a resolved task group.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum Record {
    /// A finished build.
    Build(BuildRecord),
    /// A finished test or talos run.
    Test(TestRecord),
    /// Any other Taskcluster task, or one not finished yet.
    Task(TaskRecord),
    /// A push to a repository.
    Push(PushRecord),
    /// A Taskcluster task group that resolved.
    TaskGroup(TaskGroupRecord),
}

impl Record {
    /// The fields builds and tests share; `None` for a [`TaskRecord`].
    pub fn job(&self) -> Option<&JobInfo> {
        match self {
            Record::Build(b) => Some(&b.job),
            Record::Test(t) => Some(&t.job),
            _ => None,
        }
    }

    /// Mutable access to the fields builds and tests share.
    pub fn job_mut(&mut self) -> Option<&mut JobInfo> {
        match self {
            Record::Build(b) => Some(&mut b.job),
            Record::Test(t) => Some(&mut t.job),
            _ => None,
        }
    }

    /// The task kind: for Taskcluster records `tags.kind` exactly
    /// (`build`, `test`, `source-test`, `spidermonkey`…), for buildbot
    /// records `build` or `test`; `push` and `task-group` for the others.
    pub fn kind(&self) -> &str {
        match self {
            Record::Build(b) => b.job.kind.as_deref().unwrap_or("build"),
            Record::Test(t) => t.job.kind.as_deref().unwrap_or("test"),
            Record::Task(t) => &t.kind,
            Record::Push(_) => "push",
            Record::TaskGroup(_) => "task-group",
        }
    }

    /// The result in Treeherder's words; for buildbot records, read from
    /// the result code. `None` only for a build or test without one.
    pub fn result(&self) -> Option<JobResult> {
        match self {
            Record::Task(t) => Some(t.result),
            Record::Push(_) | Record::TaskGroup(_) => None,
            _ => {
                let job = self.job()?;
                job.result
                    .or_else(|| job.status.map(JobResult::from_buildbot_status))
            }
        }
    }

    /// The repository name.
    pub fn tree(&self) -> &str {
        match self {
            Record::Build(b) => &b.job.tree,
            Record::Test(t) => &t.job.tree,
            Record::Task(t) => &t.tree,
            Record::Push(p) => &p.tree,
            Record::TaskGroup(g) => &g.tree,
        }
    }

    /// The generic platform, when known.
    pub fn platform(&self) -> Option<&str> {
        match self {
            Record::Build(b) => Some(&b.job.platform),
            Record::Test(t) => Some(&t.job.platform),
            Record::Task(t) => t.platform.as_deref(),
            Record::Push(_) | Record::TaskGroup(_) => None,
        }
    }

    /// The build type, when known.
    pub fn buildtype(&self) -> Option<BuildType> {
        match self {
            Record::Build(b) => Some(b.job.buildtype),
            Record::Test(t) => Some(t.job.buildtype),
            Record::Task(t) => t.buildtype,
            Record::Push(_) | Record::TaskGroup(_) => None,
        }
    }

    /// The product, when the record names one (never for a [`TaskRecord`]).
    pub fn product(&self) -> Option<&str> {
        self.job().and_then(|job| job.product.as_deref())
    }

    /// The routing key of the original message.
    pub fn key(&self) -> &str {
        match self {
            Record::Build(b) => &b.job.key,
            Record::Test(t) => &t.job.key,
            Record::Task(t) => &t.key,
            Record::Push(p) => &p.key,
            Record::TaskGroup(g) => &g.key,
        }
    }

    /// The revision, when known.
    pub fn revision(&self) -> Option<&str> {
        match self {
            Record::Build(b) => b.job.revision.as_deref(),
            Record::Test(t) => t.job.revision.as_deref(),
            Record::Task(t) => t.revision.as_deref(),
            Record::Push(p) => p.revision.as_deref(),
            Record::TaskGroup(g) => g.revision.as_deref(),
        }
    }
}

/// A normalized Pulse message: its routing key and the record it carries.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NormalizedMessage {
    /// The routing key on `exchange/build/normalized`.
    pub routing_key: String,
    /// The payload.
    pub payload: Record,
}

/// Record timestamps as the reference translator wrote them,
/// `YYYY-MM-DDTHH:MM:SSZ`; read back from any RFC 3339 time.
mod timestamp {
    use chrono::{DateTime, Utc};
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    const FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

    pub(super) fn serialize<S: Serializer>(
        time: &Option<DateTime<Utc>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match time {
            Some(time) => serializer.collect_str(&time.format(FORMAT)),
            None => serializer.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        // Owned: a `serde_json::Value` lends no strings.
        let Some(text) = Option::<String>::deserialize(deserializer)? else {
            return Ok(None);
        };
        DateTime::parse_from_rfc3339(&text)
            .map(|time| Some(time.to_utc()))
            .map_err(|e| D::Error::custom(format!("timestamp {text:?}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    fn job_with(timestamp: serde_json::Value) -> Result<JobInfo, serde_json::Error> {
        let mut fields = serde_json::to_value(JobInfo::new(
            "k".into(),
            "t".into(),
            "linux".into(),
            BuildType::Opt,
        ))
        .unwrap();
        fields["timestamp"] = timestamp;
        serde_json::from_value(fields)
    }

    #[test]
    fn timestamps_are_written_as_the_reference_wrote_them() {
        let job = job_with(json!("2015-08-13T12:00:07Z")).unwrap();
        assert_eq!(
            job.timestamp,
            Some(Utc.with_ymd_and_hms(2015, 8, 13, 12, 0, 7).unwrap())
        );
        assert_eq!(
            serde_json::to_value(&job).unwrap()["timestamp"],
            "2015-08-13T12:00:07Z"
        );
        // Another RFC 3339 spelling reads as the same time.
        let offset = job_with(json!("2015-08-13T14:00:07+02:00")).unwrap();
        assert_eq!(offset.timestamp, job.timestamp);
        assert_eq!(job_with(json!(null)).unwrap().timestamp, None);
        assert!(job_with(json!("yesterday")).is_err());
    }

    #[test]
    fn locales_keep_their_three_shapes() {
        let mut job = JobInfo::new("k".into(), "t".into(), "linux".into(), BuildType::Opt);
        for (locales, json) in [
            (Locales::Omitted, None),
            (Locales::Unnamed, Some(json!(null))),
            (Locales::Listed("de,fr".into()), Some(json!("de,fr"))),
        ] {
            job.locales = locales.clone();
            let written = serde_json::to_value(&job).unwrap();
            assert_eq!(written.get("locales"), json.as_ref(), "{locales:?}");
            let read: JobInfo = serde_json::from_value(written).unwrap();
            assert_eq!(read.locales, locales);
        }
    }
}
