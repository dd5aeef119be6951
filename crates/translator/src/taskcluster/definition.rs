//! Task definitions (`queue/v1/task/<taskId>`): the parts that complete a
//! message, and what `extra.treeherder` says where the label cannot.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::label::{parse_label, TaskLabel};
use super::message::malformed;
use crate::{BuildType, Error};

/// The parts of a task definition (`queue/v1/task/<taskId>`) that complete
/// a message: all optional, unknown fields ignored. Read one with
/// [`TaskDefinition::from_json`] (or serde) and hand it to
/// [`translate_with_definition`](super::translate_with_definition); what
/// it holds is the translator's to read.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct TaskDefinition {
    /// `metadata.name`: the label for tasks that have no `label` tag.
    pub(super) metadata: TaskMetadata,
    /// The routes, e.g. `tc-treeherder.v2.autoland.<revision>.<pushid>`.
    pub(super) routes: Vec<String>,
    /// The tags, e.g. `label`, `kind`, `os`, `test-type`.
    pub(super) tags: BTreeMap<String, String>,
    /// `extra`: Treeherder's view of the task, and the test suite.
    pub(super) extra: TaskExtra,
}

/// A task definition's `metadata`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub(super) struct TaskMetadata {
    /// The task's name; for Gecko tasks since 2018, its label.
    pub(super) name: Option<String>,
}

/// A task definition's `extra`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub(super) struct TaskExtra {
    /// `extra.treeherder`.
    pub(super) treeherder: Option<TreeherderExtra>,
    /// `extra.suite`: a name (`mochitest-a11y`) or, in older tasks,
    /// `{"name": …, "flavor": …}`.
    pub(super) suite: Option<serde_json::Value>,
    /// `extra.chunks`: `{"current": n, "total": m}`.
    pub(super) chunks: Option<TaskChunks>,
}

/// A test task's chunk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub(super) struct TaskChunks {
    /// This chunk, from 1.
    pub(super) current: u32,
    /// How many chunks the suite runs in.
    pub(super) total: u32,
}

/// A task definition's `extra.treeherder`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct TreeherderExtra {
    /// The option collection, e.g. `{"debug": true}`, `{"asan": true}`.
    pub(super) collection: BTreeMap<String, bool>,
    /// The machine Treeherder shows the job on.
    pub(super) machine: TreeherderMachine,
    /// `build`, `test` or `other`.
    pub(super) job_kind: Option<String>,
    /// 1 (sheriffed) to 3.
    pub(super) tier: Option<u8>,
}

/// `extra.treeherder.machine`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub(super) struct TreeherderMachine {
    /// Treeherder's platform, e.g. `linux64-qr`, `android-em-7-0-x86_64`.
    pub(super) platform: Option<String>,
}

impl TaskDefinition {
    /// Reads a definition as the queue serves it.
    pub fn from_json(json: &[u8]) -> Result<TaskDefinition, Error> {
        serde_json::from_slice(json).map_err(|e| malformed(format!("task definition: {e}")))
    }
}

/// A label built from `extra.treeherder` for tasks whose name is not a label.
pub(super) fn label_from_treeherder(definition: &TaskDefinition) -> Option<TaskLabel> {
    let th = definition.extra.treeherder.as_ref()?;
    let platform = th.machine.platform.as_deref()?;
    let mut parsed = parse_label(&format!("x-{platform}/opt")).ok()?;
    if let Some(buildtype) = collection_buildtype(&th.collection) {
        parsed.buildtype = buildtype;
    }
    let suite = match &definition.extra.suite {
        Some(serde_json::Value::String(name)) => Some(name.clone()),
        Some(serde_json::Value::Object(suite)) => {
            let name = suite.get("name").and_then(|n| n.as_str());
            // "browser-chrome-chunked" is how chunked flavors were spelled.
            let flavor = suite
                .get("flavor")
                .and_then(|f| f.as_str())
                .map(|f| f.trim_end_matches("-chunked"));
            match (name, flavor) {
                (Some(name), Some(flavor)) if !flavor.starts_with(name) => {
                    Some(format!("{name}-{flavor}"))
                }
                (_, Some(flavor)) => Some(flavor.to_string()),
                (Some(name), None) => Some(name.to_string()),
                (None, None) => None,
            }
        }
        _ => None,
    };
    parsed.test = suite.map(|suite| match definition.extra.chunks {
        Some(chunks) if chunks.total > 1 => format!("{suite}-{}", chunks.current),
        _ => suite,
    });
    parsed.prefix = String::new();
    Some(parsed)
}

/// The build type an option collection names, when it names exactly one of
/// opt, debug and pgo (`asan`, `ccov`… leave the label's).
pub(super) fn collection_buildtype(collection: &BTreeMap<String, bool>) -> Option<BuildType> {
    let mut named = BuildType::ALL
        .into_iter()
        .filter(|bt| collection.get(bt.as_str()) == Some(&true));
    match (named.next(), named.next()) {
        (Some(buildtype), None) => Some(buildtype),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collections() {
        let c = |keys: &[&str]| keys.iter().map(|k| (k.to_string(), true)).collect();
        assert_eq!(collection_buildtype(&c(&["debug"])), Some(BuildType::Debug));
        assert_eq!(collection_buildtype(&c(&["pgo"])), Some(BuildType::Pgo));
        assert_eq!(collection_buildtype(&c(&["asan"])), None);
        assert_eq!(collection_buildtype(&c(&["opt", "debug"])), None);
        assert_eq!(collection_buildtype(&BTreeMap::new()), None);
    }
}
