//! The filter's rules as plain data, for config files and command lines.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{Error, ErrorKind};

/// The value in `products` that stands for "the message names no product"
/// (`None` in the seed's Python API, `product: None` in a record).
pub const NO_PRODUCT: &str = "none";

/// The rules of a [`Filter`](crate::Filter) as plain data, checked only
/// when turned into a filter by [`Filter::from_spec`](crate::Filter::from_spec).
///
/// Every list left `None` matches everything, except `trees`, which then
/// means `["mozilla-central"]` as in the seed; set `any_tree` to match
/// every tree. In JSON every field may be left out; unknown fields are an
/// error, so a misspelt rule cannot silently match everything:
///
/// ```json
/// {"trees": ["mozilla-central", "try"], "products": ["firefox", "none"],
///  "buildtypes": ["debug"], "buildtags": [["nightly", "l10n"], ["release"]],
///  "talos": true}
/// ```
///
/// `FilterSpec` is plain serde data, so other formats (TOML, YAML) need
/// only their own serde crate in the program that reads them.
///
/// For a command line, the `add_*` methods take one flag value each: items
/// separated by commas, whitespace around items ignored. Build tags use
/// `+` inside a group: `--buildtags nightly+l10n,release --buildtags pgo`
/// keeps builds tagged both nightly and l10n, or release, or pgo.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterSpec {
    /// Trees (repository names) to keep; `None` means mozilla-central only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trees: Option<Vec<String>>,
    /// Keep every tree. Conflicts with `trees`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub any_tree: bool,
    /// Generic platforms to keep: linux, linux64, win32, macosx64, android…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platforms: Option<Vec<String>>,
    /// Products to keep; [`NO_PRODUCT`] (`"none"`) keeps records without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub products: Option<Vec<String>>,
    /// Build types to keep: opt, debug, pgo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buildtypes: Option<Vec<String>>,
    /// Test names or suites to keep (test records only), e.g. reftest,
    /// mochitest-3; a suite keeps its chunks and e10s runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tests: Option<Vec<String>>,
    /// Build tags a build record must carry (build records only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buildtags: Option<BuildTags>,
    /// Keep talos runs as well as unit tests; off by default.
    #[serde(default, skip_serializing_if = "is_false")]
    pub talos: bool,
    /// Task kinds to keep, as Taskcluster names them (`build`, `test`,
    /// `source-test`…; buildbot records are `build` or `test`). `None`
    /// keeps build and test records only, as the seed did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kinds: Option<Vec<String>>,
    /// Keep records of every kind. Conflicts with `kinds`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub any_kind: bool,
    /// Results to keep, in Treeherder's words (`testfailed`, `busted`,
    /// `exception`…). `None` keeps every result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<Vec<String>>,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// The `buildtags` rule, in either of the seed's two shapes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    untagged,
    expecting = "buildtags as a list of tags or a list of lists of tags"
)]
pub enum BuildTags {
    /// Every tag must be present: `["nightly", "l10n"]`.
    AllOf(Vec<String>),
    /// Every tag of at least one group must be present:
    /// `[["nightly", "l10n"], ["release"]]`.
    AnyGroup(Vec<Vec<String>>),
}

impl BuildTags {
    /// The groups of which one must be fully present; `AllOf` is one group.
    pub fn groups(&self) -> &[Vec<String>] {
        match self {
            BuildTags::AllOf(tags) => std::slice::from_ref(tags),
            BuildTags::AnyGroup(groups) => groups,
        }
    }
}

impl FilterSpec {
    /// Reads a spec from JSON text.
    pub fn from_json_str(json: &str) -> Result<FilterSpec, Error> {
        serde_json::from_str(json).map_err(|err| {
            Error::new(ErrorKind::Json {
                message: err.to_string(),
            })
        })
    }

    /// Reads a spec from a JSON file.
    pub fn from_json_file(path: impl AsRef<Path>) -> Result<FilterSpec, Error> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|err| {
            Error::new(ErrorKind::Io {
                path: path.to_owned(),
                message: err.to_string(),
            })
        })?;
        FilterSpec::from_json_str(&text)
    }

    /// The spec as pretty JSON, the format [`FilterSpec::from_json_str`] reads.
    pub fn to_json_string(&self) -> String {
        serde_json::to_string_pretty(self).expect("a filter spec always serializes")
    }

    /// Adds the comma-separated trees of one `--trees` flag.
    pub fn add_trees_str(&mut self, value: &str) {
        extend_from_flag(&mut self.trees, value);
    }

    /// Adds the comma-separated platforms of one `--platforms` flag.
    pub fn add_platforms_str(&mut self, value: &str) {
        extend_from_flag(&mut self.platforms, value);
    }

    /// Adds the comma-separated products of one `--products` flag
    /// (`none` for records without a product).
    pub fn add_products_str(&mut self, value: &str) {
        extend_from_flag(&mut self.products, value);
    }

    /// Adds the comma-separated build types of one `--buildtypes` flag.
    pub fn add_buildtypes_str(&mut self, value: &str) {
        extend_from_flag(&mut self.buildtypes, value);
    }

    /// Adds the comma-separated task kinds of one `--kind` flag.
    pub fn add_kinds_str(&mut self, value: &str) {
        extend_from_flag(&mut self.kinds, value);
    }

    /// Adds the comma-separated results of one `--result` flag.
    pub fn add_results_str(&mut self, value: &str) {
        extend_from_flag(&mut self.results, value);
    }

    /// Adds the comma-separated test names of one `--tests` flag.
    pub fn add_tests_str(&mut self, value: &str) {
        extend_from_flag(&mut self.tests, value);
    }

    /// Adds the build tag groups of one `--buildtags` flag: groups are
    /// separated by commas, tags inside a group by `+`. Every group added
    /// is an alternative: `nightly+l10n,release` keeps builds tagged both
    /// nightly and l10n, or tagged release. A flat [`BuildTags::AllOf`]
    /// already present (from a file) becomes the first group.
    ///
    /// Empty tags and groups are kept so that building the filter reports
    /// them instead of quietly widening the rule.
    pub fn add_buildtag_groups_str(&mut self, value: &str) {
        let added = split_flag(value).map(|group| {
            if group.is_empty() {
                Vec::new()
            } else {
                group.split('+').map(|tag| tag.trim().to_owned()).collect()
            }
        });
        let mut groups = match self.buildtags.take() {
            None => Vec::new(),
            Some(BuildTags::AllOf(tags)) => vec![tags],
            Some(BuildTags::AnyGroup(groups)) => groups,
        };
        groups.extend(added);
        self.buildtags = Some(BuildTags::AnyGroup(groups));
    }
}

fn split_flag(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim)
}

fn extend_from_flag(list: &mut Option<Vec<String>>, value: &str) {
    list.get_or_insert_with(Vec::new)
        .extend(split_flag(value).map(str::to_owned));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buildtags_read_in_both_shapes() {
        let flat = FilterSpec::from_json_str(r#"{"buildtags": ["a", "b"]}"#).unwrap();
        assert_eq!(
            flat.buildtags,
            Some(BuildTags::AllOf(vec!["a".into(), "b".into()]))
        );
        let nested = FilterSpec::from_json_str(r#"{"buildtags": [["a", "b"], ["c"]]}"#).unwrap();
        assert_eq!(
            nested.buildtags.unwrap().groups(),
            [vec!["a".to_owned(), "b".to_owned()], vec!["c".to_owned()]]
        );
    }

    #[test]
    fn mixed_buildtags_shape_is_an_error() {
        let err = FilterSpec::from_json_str(r#"{"buildtags": ["a", ["b"]]}"#).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("list of lists of tags"), "{message}");
    }

    #[test]
    fn unknown_field_is_an_error() {
        let err = FilterSpec::from_json_str(r#"{"tree": ["try"]}"#).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Json { .. }));
        assert!(err.to_string().contains("unknown field `tree`"), "{err}");
    }

    #[test]
    fn flags_split_on_commas_and_accumulate() {
        let mut spec = FilterSpec::default();
        spec.add_trees_str("mozilla-central, try");
        spec.add_trees_str("mozilla-beta");
        spec.add_products_str("firefox,none");
        assert_eq!(
            spec.trees.as_deref(),
            Some(
                &[
                    "mozilla-central".to_owned(),
                    "try".into(),
                    "mozilla-beta".into()
                ][..]
            )
        );
        assert_eq!(
            spec.products.as_deref(),
            Some(&["firefox".to_owned(), "none".into()][..])
        );
    }

    #[test]
    fn buildtag_flags_form_groups() {
        let mut spec = FilterSpec::default();
        spec.add_buildtag_groups_str("nightly+l10n,release");
        spec.add_buildtag_groups_str("pgo");
        let groups = spec.buildtags.as_ref().unwrap().groups();
        assert_eq!(
            groups,
            [
                vec!["nightly".to_owned(), "l10n".into()],
                vec!["release".to_owned()],
                vec!["pgo".to_owned()]
            ]
        );
    }

    #[test]
    fn buildtag_flag_after_file_keeps_file_group() {
        let mut spec = FilterSpec::from_json_str(r#"{"buildtags": ["a", "b"]}"#).unwrap();
        spec.add_buildtag_groups_str("c");
        assert_eq!(
            spec.buildtags,
            Some(BuildTags::AnyGroup(vec![
                vec!["a".into(), "b".into()],
                vec!["c".into()]
            ]))
        );
    }

    #[test]
    fn empty_pieces_survive_for_validation() {
        let mut spec = FilterSpec::default();
        spec.add_platforms_str("linux,");
        spec.add_buildtag_groups_str("a+,");
        assert_eq!(spec.platforms, Some(vec!["linux".into(), String::new()]));
        assert_eq!(
            spec.buildtags,
            Some(BuildTags::AnyGroup(vec![
                vec!["a".into(), String::new()],
                vec![]
            ]))
        );
    }

    #[test]
    fn json_round_trips() {
        let mut spec = FilterSpec {
            any_tree: true,
            talos: true,
            ..FilterSpec::default()
        };
        spec.add_buildtag_groups_str("a+b,c");
        spec.add_tests_str("reftest");
        let again = FilterSpec::from_json_str(&spec.to_json_string()).unwrap();
        assert_eq!(again, spec);
    }
}
