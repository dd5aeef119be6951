//! The filter's rules as plain data, for config files and command lines:
//! [`FilterSpec`]'s fields and flag methods come from the rule table
//! (`rules.rs`); reading and writing JSON and the shapes of `buildtags`
//! are here.

use std::path::Path;

use serde::{Deserialize, Serialize};

pub use crate::rules::FilterSpec;
use crate::{Error, ErrorKind};

/// The value in `products` that stands for "the message names no product"
/// (`None` in the seed's Python API, `product: None` in a record).
pub const NO_PRODUCT: &str = "none";

/// For serde: switches are written only when on.
pub(crate) fn is_false(value: &bool) -> bool {
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
}

/// The items of one flag value: comma separated, trimmed.
pub(crate) fn split_flag(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim)
}

/// Adds the items of one flag value to a list rule.
pub(crate) fn extend_from_flag(list: &mut Option<Vec<String>>, value: &str) {
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
