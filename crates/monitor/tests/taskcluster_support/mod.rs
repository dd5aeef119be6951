//! What the Taskcluster monitor tests share: the corpus, the local broker,
//! expectations written by hand, and (from `pulse-test-support`) a local
//! queue serving task definitions.
#![allow(dead_code, unused_imports)]

use std::path::{Path, PathBuf};

use pulse_build_monitor::{BuildType, ConnectionSettings, Record};
use serde_json::Value;

pub use pulse_test_support::{read_json, DefinitionServer};

/// A folder of the Taskcluster corpus, or `None` after a loud skip; under
/// `CI=true` a missing corpus fails the test.
pub fn corpus_dir(name: &str) -> Option<PathBuf> {
    pulse_test_support::corpus_dir(&format!("taskcluster/{name}"))
}

/// The local broker with a connection name of its own (`<name>-<random>`),
/// or `None` after a loud skip; under `CI=true` an unreachable broker fails
/// the test.
pub fn broker_or_skip(name: &str) -> Option<ConnectionSettings> {
    pulse_test_support::broker_settings(name)
}

/// The generic platform of each Treeherder machine platform in the corpus,
/// written out by hand so the expectation does not come from the code
/// under test.
pub fn generic_family(treeherder_platform: &str) -> &'static str {
    match treeherder_platform {
        "linux32" => "linux",
        "linux64" | "linux64-qr" | "linux64-shippable" | "linux64-shippable-qr" => "linux64",
        "windows7-32" | "windows7-32-shippable" => "win32",
        "windows10-64" | "windows10-64-qr" | "windows10-64-shippable" => "win64",
        "macosx1010-64" | "macosx1014-64" | "macosx1014-64-shippable" => "macosx64",
        "android-em-4-3-armv7-api16"
        | "android-em-7-0-x86_64"
        | "android-hw-p2-8-0-android-aarch64" => "android",
        other => panic!("add Treeherder platform {other:?} to the test's table"),
    }
}

/// The build type an option collection names: its one key. `asan`
/// builds in the corpus are opt builds (their labels say `/opt`), as
/// buildbot's `linux64-asan` ones were.
pub fn collection_buildtype(collection: &Value) -> BuildType {
    let keys: Vec<&str> = collection
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    match keys.as_slice() {
        ["opt"] | ["asan"] => BuildType::Opt,
        ["debug"] => BuildType::Debug,
        ["pgo"] => BuildType::Pgo,
        other => panic!("add option collection {other:?} to the test's table"),
    }
}

/// The record type, in Treeherder's job-kind words.
pub fn kind_of(record: &Record) -> &'static str {
    match record {
        Record::Build(_) => "build",
        Record::Test(_) => "test",
        Record::Task(task) => task.job_kind.as_str(),
        other => panic!("not a task's record: {other:?}"),
    }
}

/// Project and revision of the first `tc-treeherder.v2.<project>.<revision>[.<push>]` route.
pub fn treeherder_route(routes: &[String]) -> Option<(String, String)> {
    routes.iter().find_map(|route| {
        let route = route.strip_prefix("route.").unwrap_or(route);
        let parts: Vec<&str> = route.split('.').collect();
        match parts.as_slice() {
            ["tc-treeherder", "v2", project, revision, ..] => {
                Some((project.to_string(), revision.to_string()))
            }
            _ => None,
        }
    })
}

/// The lines of a dead-letter file, as (routing key, error).
pub fn dead_letters(path: &Path) -> Vec<(String, String)> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .map(|line| {
            let letter: Value = serde_json::from_str(line).unwrap();
            (
                letter["routing_key"].as_str().unwrap().to_string(),
                letter["error"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}
