//! Typed build and test records: what callbacks receive.
//!
//! Serializing a [`Record`] yields exactly the payload the reference
//! translator (pulsetranslator) published on `exchange/build/normalized`.

use serde::{Deserialize, Serialize};

/// The build type. The set is closed: buildbot knew no others.
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
    pub status: Option<i64>,
    /// The locale of this build; `en-US` when the message names none.
    pub locale: Option<String>,
    /// For release repacks, the comma-separated locales. Left out entirely
    /// for nightly repacks, which the reference fans out per locale.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::record::double_option"
    )]
    pub locales: Option<Option<String>>,
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
    /// When the message was translated, `YYYY-MM-DDTHH:MM:SSZ` in UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
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
    /// The Treeherder tier, 1 (sheriffed) to 3, when the task definition
    /// says (Taskcluster messages only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<u8>,
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

/// A translated message: a build or a test.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Record {
    /// A finished build.
    Build(BuildRecord),
    /// A finished test or talos run.
    Test(TestRecord),
}

impl Record {
    /// The fields shared by both kinds.
    pub fn job(&self) -> &JobInfo {
        match self {
            Record::Build(b) => &b.job,
            Record::Test(t) => &t.job,
        }
    }

    /// Mutable access to the shared fields.
    pub fn job_mut(&mut self) -> &mut JobInfo {
        match self {
            Record::Build(b) => &mut b.job,
            Record::Test(t) => &mut t.job,
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

/// `Option<Option<T>>` that tells an absent field (`None`) from `null` (`Some(None)`).
pub(crate) mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(crate) fn serialize<T: Serialize, S: Serializer>(
        value: &Option<Option<T>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(inner) => inner.serialize(serializer),
            None => serializer.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(deserializer).map(Some)
    }
}
