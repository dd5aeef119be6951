//! The rule table: each filter rule is one entry, and parsing (JSON and
//! flags), serializing, explaining and matching all go through it.
//!
//! An entry, `Variant name { … }` (`name` is the field of the compiled
//! rules), says:
//!
//! - `key`: the rule's name in JSON, rejections and errors;
//! - `checked`: when matching asks it, lowest first (the first rule a
//!   record fails is the one `explain` names);
//! - `spec`: its fields in [`FilterSpec`], with their serde attributes, in
//!   the order they serialize;
//! - `spec_methods`: its `add_*_str` methods, one flag value each;
//! - `builder`: its [`FilterBuilder`](crate::FilterBuilder) setters;
//! - `flags`: its command-line flags and their help ([`Flag`]);
//! - `compiled`, `compile`, `to_spec`: the checked shape matching reads,
//!   made from the spec (an [`Error`] for a bad rule) and back;
//! - `keeps`: whether it keeps a record (true where it does not apply);
//! - `reads`, `allowed`, `says`: what a rejection quotes from the record
//!   and from the rule, and how `--explain` words it.
//!
//! Adding a rule is adding an entry here (and its tests): the `Rule`
//! variant, the spec field, the builder, the flag (the `pulse-monitor`
//! command builds its filter flags from [`Rule::flags`]) and the
//! explanation all come from it.

use std::collections::HashSet;

use pulse_translator::taskcluster::test_suite_tokens;
use pulse_translator::{BuildType, JobResult, Record};

use crate::filter::{owned, DEFAULT_TREE};
use crate::spec::{extend_from_flag, is_false, split_flag, BuildTags, NO_PRODUCT};
use crate::table::rule_table;
use crate::{Error, ErrorKind, Flag};

/// How a rejection names a platform, build type or result the record
/// does not have.
const NO_VALUE: &str = "none";

rule_table! {
    /// `trees`.
    Trees trees {
        key: "trees",
        checked: 1,
        spec: {
            /// Trees (repository names) to keep; `None` means mozilla-central only.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub trees: Option<Vec<String>>,
            /// Keep every tree. Conflicts with `trees`.
            #[serde(default, skip_serializing_if = "is_false")]
            pub any_tree: bool,
        },
        spec_methods: {
            /// Adds the comma-separated trees of one `--trees` flag.
            pub fn add_trees_str(&mut self, value: &str) {
                extend_from_flag(&mut self.trees, value);
            }
        },
        builder: {
            /// Keeps only these trees (default: mozilla-central).
            pub fn trees<I>(mut self, trees: I) -> Self
            where
                I: IntoIterator,
                I::Item: Into<String>,
            {
                self.spec.trees = Some(owned(trees));
                self.spec.any_tree = false;
                self
            }

            /// Keeps every tree.
            pub fn any_tree(mut self) -> Self {
                self.spec.trees = None;
                self.spec.any_tree = true;
                self
            }
        },
        flags: [
            Flag::values(
                "tree",
                "trees",
                "TREE[,TREE…]",
                "Trees to keep (repeatable, or comma separated). Default: mozilla-central",
                FilterSpec::add_trees_str,
            ),
            Flag::switch("any-tree", "Keep every tree", |spec| spec.any_tree = true)
                .conflicts_with("tree"),
        ],
        compiled: Option<HashSet<String>>,
        compile: |spec| match (&spec.trees, spec.any_tree) {
            (Some(trees), true) => Err(Error::new(ErrorKind::AnyTreeWithTrees {
                trees: trees.clone(),
            })),
            (None, true) => Ok(None),
            (None, false) => Ok(Some(HashSet::from([DEFAULT_TREE.to_owned()]))),
            (Some(trees), false) => Ok(Some(value_set(Rule::Trees, trees)?)),
        },
        to_spec: |trees, spec| {
            let trees = trees.as_ref().map(sorted);
            spec.any_tree = trees.is_none();
            spec.trees = trees.filter(|trees| trees != &[DEFAULT_TREE]);
        },
        keeps: |trees, record| is_kept(trees, record.tree()),
        reads: |record| record.tree().to_owned(),
        allowed: |trees| trees.as_ref().map(sorted),
        says: |f, value, allowed| write!(f, "tree {value:?} is not one of {allowed}"),
    }

    /// `platforms`.
    Platforms platforms {
        key: "platforms",
        checked: 2,
        spec: {
            /// Generic platforms to keep: linux, linux64, win32, macosx64, android…
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub platforms: Option<Vec<String>>,
        },
        spec_methods: {
            /// Adds the comma-separated platforms of one `--platforms` flag.
            pub fn add_platforms_str(&mut self, value: &str) {
                extend_from_flag(&mut self.platforms, value);
            }
        },
        builder: {
            /// Keeps only these platforms.
            pub fn platforms<I>(mut self, platforms: I) -> Self
            where
                I: IntoIterator,
                I::Item: Into<String>,
            {
                self.spec.platforms = Some(owned(platforms));
                self
            }
        },
        flags: [
            Flag::values(
                "platform",
                "platforms",
                "PLATFORM[,…]",
                "Generic platforms to keep: linux, linux64, win32, win64, macosx64, android…",
                FilterSpec::add_platforms_str,
            ),
        ],
        compiled: Option<HashSet<String>>,
        compile: |spec| optional_value_set(Rule::Platforms, &spec.platforms),
        to_spec: |platforms, spec| spec.platforms = platforms.as_ref().map(sorted),
        keeps: |platforms, record| {
            platforms
                .as_ref()
                .is_none_or(|platforms| record.platform().is_some_and(|p| platforms.contains(p)))
        },
        reads: |record| record.platform().unwrap_or(NO_VALUE).to_owned(),
        allowed: |platforms| platforms.as_ref().map(sorted),
        says: |f, value, allowed| write!(f, "platform {value:?} is not one of {allowed}"),
    }

    /// `products`.
    Products products {
        key: "products",
        checked: 3,
        spec: {
            /// Products to keep; [`NO_PRODUCT`] (`"none"`) keeps records without one.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub products: Option<Vec<String>>,
        },
        spec_methods: {
            /// Adds the comma-separated products of one `--products` flag
            /// (`none` for records without a product).
            pub fn add_products_str(&mut self, value: &str) {
                extend_from_flag(&mut self.products, value);
            }
        },
        builder: {
            /// Keeps only these products; `"none"` ([`NO_PRODUCT`]) keeps records
            /// without a product.
            pub fn products<I>(mut self, products: I) -> Self
            where
                I: IntoIterator,
                I::Item: Into<String>,
            {
                self.spec.products = Some(owned(products));
                self
            }
        },
        flags: [
            Flag::values(
                "product",
                "products",
                "PRODUCT[,…]",
                "Products to keep; `none` keeps messages without one",
                FilterSpec::add_products_str,
            ),
        ],
        compiled: Option<ProductSet>,
        compile: |spec| {
            let Some(products) = &spec.products else {
                return Ok(None);
            };
            let mut named = value_set(Rule::Products, products)?;
            let keeps_missing = named.remove(NO_PRODUCT);
            Ok(Some(ProductSet {
                named,
                keeps_missing,
            }))
        },
        to_spec: |products, spec| spec.products = products.as_ref().map(ProductSet::sorted),
        keeps: |products, record| {
            products
                .as_ref()
                .is_none_or(|products| products.contains(record.product()))
        },
        reads: |record| record.product().unwrap_or(NO_PRODUCT).to_owned(),
        allowed: |products| products.as_ref().map(ProductSet::sorted),
        says: |f, value, allowed| write!(f, "product {value:?} is not one of {allowed}"),
    }

    /// `buildtypes`.
    BuildTypes buildtypes {
        key: "buildtypes",
        checked: 4,
        spec: {
            /// Build types to keep: opt, debug, pgo.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub buildtypes: Option<Vec<String>>,
        },
        spec_methods: {
            /// Adds the comma-separated build types of one `--buildtypes` flag.
            pub fn add_buildtypes_str(&mut self, value: &str) {
                extend_from_flag(&mut self.buildtypes, value);
            }
        },
        builder: {
            /// Keeps only these build types: opt, debug, pgo.
            pub fn buildtypes<I>(mut self, buildtypes: I) -> Self
            where
                I: IntoIterator,
                I::Item: Into<String>,
            {
                self.spec.buildtypes = Some(owned(buildtypes));
                self
            }
        },
        flags: [
            Flag::values(
                "buildtype",
                "buildtypes",
                "TYPE[,…]",
                "Build types to keep: opt, debug, pgo",
                FilterSpec::add_buildtypes_str,
            ),
        ],
        compiled: Option<BuildTypeSet>,
        compile: |spec| {
            let Some(names) = &spec.buildtypes else {
                return Ok(None);
            };
            let mut set = BuildTypeSet([false; BuildType::ALL.len()]);
            for name in checked_values(Rule::BuildTypes, names)? {
                let buildtype = BuildType::ALL
                    .into_iter()
                    .find(|known| known.as_str() == name)
                    .ok_or_else(|| {
                        Error::new(ErrorKind::UnknownBuildType {
                            buildtype: name.to_owned(),
                        })
                    })?;
                set.0[BuildTypeSet::index(buildtype)] = true;
            }
            Ok(Some(set))
        },
        to_spec: |buildtypes, spec| spec.buildtypes = buildtypes.map(BuildTypeSet::sorted),
        keeps: |buildtypes, record| {
            buildtypes
                .is_none_or(|buildtypes| record.buildtype().is_some_and(|b| buildtypes.contains(b)))
        },
        reads: |record| record.buildtype().map_or(NO_VALUE, BuildType::as_str).to_owned(),
        allowed: |buildtypes| buildtypes.map(BuildTypeSet::sorted),
        says: |f, value, allowed| write!(f, "build type {value:?} is not one of {allowed}"),
    }

    /// `tests` (test records only).
    Tests tests {
        key: "tests",
        checked: 7,
        spec: {
            /// Test names or suites to keep (test records only), e.g. reftest,
            /// mochitest-3; a suite keeps its chunks and e10s runs.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub tests: Option<Vec<String>>,
        },
        spec_methods: {
            /// Adds the comma-separated test names of one `--tests` flag.
            pub fn add_tests_str(&mut self, value: &str) {
                extend_from_flag(&mut self.tests, value);
            }
        },
        builder: {
            /// Keeps only test records with these test names, or of these suites:
            /// `mochitest` keeps `mochitest-3` and `mochitest-e10s-1`.
            pub fn tests<I>(mut self, tests: I) -> Self
            where
                I: IntoIterator,
                I::Item: Into<String>,
            {
                self.spec.tests = Some(owned(tests));
                self
            }
        },
        flags: [
            Flag::values(
                "test",
                "tests",
                "TEST[,…]",
                "Tests to keep (tests only), e.g. reftest, mochitest-3",
                FilterSpec::add_tests_str,
            ),
        ],
        compiled: Option<HashSet<String>>,
        compile: |spec| optional_value_set(Rule::Tests, &spec.tests),
        to_spec: |tests, spec| spec.tests = tests.as_ref().map(sorted),
        keeps: |tests, record| match (tests, record) {
            (Some(tests), Record::Test(test)) => keeps_test(tests, &test.test),
            _ => true,
        },
        reads: |record| test_name(record).to_owned(),
        allowed: |tests| tests.as_ref().map(sorted),
        says: |f, value, allowed| write!(f, "test {value:?} is not one of {allowed}"),
    }

    /// `buildtags` (build records only).
    BuildTags buildtags {
        key: "buildtags",
        checked: 8,
        spec: {
            /// Build tags a build record must carry (build records only).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub buildtags: Option<BuildTags>,
        },
        spec_methods: {
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
        },
        builder: {
            /// Keeps only build records carrying every one of these tags.
            pub fn buildtags<I>(mut self, tags: I) -> Self
            where
                I: IntoIterator,
                I::Item: Into<String>,
            {
                self.spec.buildtags = Some(BuildTags::AllOf(owned(tags)));
                self
            }

            /// Keeps only build records carrying every tag of at least one group.
            pub fn buildtag_groups<I, G>(mut self, groups: I) -> Self
            where
                I: IntoIterator<Item = G>,
                G: IntoIterator,
                G::Item: Into<String>,
            {
                self.spec.buildtags =
                    Some(BuildTags::AnyGroup(groups.into_iter().map(owned).collect()));
                self
            }
        },
        flags: [
            Flag::values(
                "buildtag",
                "buildtags",
                "TAG[+TAG…][,…]",
                "Build tags a build must carry (builds only): `a+b` for all of a group, commas or repeated flags for alternatives",
                FilterSpec::add_buildtag_groups_str,
            ),
        ],
        compiled: Option<BuildTags>,
        compile: |spec| {
            let Some(buildtags) = &spec.buildtags else {
                return Ok(None);
            };
            check_buildtags(buildtags)?;
            Ok(Some(buildtags.clone()))
        },
        to_spec: |buildtags, spec| spec.buildtags = buildtags.clone(),
        keeps: |buildtags, record| match (buildtags, record) {
            (Some(buildtags), Record::Build(build)) => {
                // A build carries a handful of tags, so scanning them
                // beats building a set per message.
                let has = |tag: &String| build.tags.contains(tag);
                buildtags.groups().iter().any(|group| group.iter().all(has))
            }
            _ => true,
        },
        reads: |record| match record {
            Record::Build(build) => build.tags.join(","),
            _ => unreachable!("buildtags rejects build records only"),
        },
        allowed: |buildtags| {
            buildtags.as_ref().map(|tags| {
                let mut groups: Vec<String> =
                    tags.groups().iter().map(|group| group.join("+")).collect();
                groups.sort();
                groups
            })
        },
        says: |f, value, allowed| {
            write!(f, "build tags {value:?} do not include any required group: {allowed}")
        },
    }

    /// `talos` (test records only).
    Talos talos {
        key: "talos",
        checked: 6,
        spec: {
            /// Keep talos runs as well as unit tests; off by default.
            #[serde(default, skip_serializing_if = "is_false")]
            pub talos: bool,
        },
        spec_methods: {},
        builder: {
            /// Passes talos runs as well as unit tests (default: false, unit tests only).
            pub fn talos(mut self, talos: bool) -> Self {
                self.spec.talos = talos;
                self
            }
        },
        flags: [
            Flag::switch("talos", "Keep talos runs too (dropped by default)", |spec| {
                spec.talos = true
            }),
        ],
        compiled: bool,
        compile: |spec| Ok(spec.talos),
        to_spec: |talos, spec| spec.talos = *talos,
        keeps: |talos, record| match record {
            Record::Test(test) => *talos || !test.talos,
            _ => true,
        },
        reads: |record| test_name(record).to_owned(),
        allowed: |_| Some(Vec::new()),
        says: |f, value, _| write!(f, "test {value:?} is a talos run and talos is off"),
    }

    /// `kinds`.
    Kinds kinds {
        key: "kinds",
        // First: a task that is neither build nor test is dropped for
        // that, whatever its tree, and its rejection says how to keep it.
        checked: 0,
        spec: {
            /// Task kinds to keep, as Taskcluster names them (`build`, `test`,
            /// `source-test`…; buildbot records are `build` or `test`). `None`
            /// keeps build and test records only, as the seed did.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub kinds: Option<Vec<String>>,
            /// Keep records of every kind. Conflicts with `kinds`.
            #[serde(default, skip_serializing_if = "is_false")]
            pub any_kind: bool,
        },
        spec_methods: {
            /// Adds the comma-separated task kinds of one `--kind` flag.
            pub fn add_kinds_str(&mut self, value: &str) {
                extend_from_flag(&mut self.kinds, value);
            }
        },
        builder: {
            /// Keeps records of these task kinds (`build`, `test`, `source-test`…)
            /// instead of builds and tests.
            pub fn kinds<I>(mut self, kinds: I) -> Self
            where
                I: IntoIterator,
                I::Item: Into<String>,
            {
                self.spec.kinds = Some(owned(kinds));
                self.spec.any_kind = false;
                self
            }

            /// Keeps records of every kind.
            pub fn any_kind(mut self) -> Self {
                self.spec.kinds = None;
                self.spec.any_kind = true;
                self
            }
        },
        flags: [
            Flag::values(
                "kind",
                "kinds",
                "KIND[,…]",
                "Task kinds to keep, as Taskcluster names them: build, test, source-test, toolchain, docker-image, decision-task… (buildbot records are build or test). Default: builds and tests",
                FilterSpec::add_kinds_str,
            ),
            Flag::switch(
                "any-kind",
                "Keep records of every kind: lint, toolchains, signing, the decision task…",
                |spec| spec.any_kind = true,
            )
            .conflicts_with("kind"),
        ],
        compiled: KindRule,
        compile: |spec| match (&spec.kinds, spec.any_kind) {
            (Some(kinds), true) => Err(Error::new(ErrorKind::AnyKindWithKinds {
                kinds: kinds.clone(),
            })),
            (None, true) => Ok(KindRule::Any),
            (None, false) => Ok(KindRule::BuildsAndTests),
            (Some(kinds), false) => Ok(KindRule::Named(value_set(Rule::Kinds, kinds)?)),
        },
        to_spec: |kinds, spec| {
            spec.kinds = match kinds {
                KindRule::Named(kinds) => Some(sorted(kinds)),
                _ => None,
            };
            spec.any_kind = *kinds == KindRule::Any;
        },
        keeps: |kinds, record| match kinds {
            KindRule::BuildsAndTests => matches!(record, Record::Build(_) | Record::Test(_)),
            KindRule::Named(kinds) => kinds.contains(record.kind()),
            KindRule::Any => true,
        },
        reads: |record| record.kind().to_owned(),
        allowed: |kinds| match kinds {
            KindRule::Named(kinds) => Some(sorted(kinds)),
            _ => Some(Vec::new()),
        },
        says: |f, value, allowed| {
            if allowed.is_empty() {
                write!(
                    f,
                    "kind {value:?} is neither a build nor a test (add --kind {value} or --any-kind)"
                )
            } else {
                write!(f, "kind {value:?} is not one of {allowed}")
            }
        },
    }

    /// `results`.
    Results results {
        key: "results",
        checked: 5,
        spec: {
            /// Results to keep, in Treeherder's words (`testfailed`, `busted`,
            /// `exception`…). `None` keeps every result.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub results: Option<Vec<String>>,
        },
        spec_methods: {
            /// Adds the comma-separated results of one `--result` flag.
            pub fn add_results_str(&mut self, value: &str) {
                extend_from_flag(&mut self.results, value);
            }
        },
        builder: {
            /// Keeps records with these results (`testfailed`, `busted`…).
            pub fn results<I>(mut self, results: I) -> Self
            where
                I: IntoIterator,
                I::Item: Into<String>,
            {
                self.spec.results = Some(owned(results));
                self
            }
        },
        flags: [
            Flag::values(
                "result",
                "results",
                "RESULT[,…]",
                "Results to keep, in Treeherder's words: success, testfailed, busted, skipped, exception, retry, usercancel, superseded, unknown",
                FilterSpec::add_results_str,
            ),
        ],
        compiled: Option<HashSet<JobResult>>,
        compile: |spec| {
            let Some(names) = &spec.results else {
                return Ok(None);
            };
            checked_values(Rule::Results, names)?
                .map(|name| {
                    name.parse::<JobResult>().map_err(|_| {
                        Error::new(ErrorKind::UnknownResult {
                            result: name.to_owned(),
                        })
                    })
                })
                .collect::<Result<HashSet<_>, _>>()
                .map(Some)
        },
        to_spec: |results, spec| spec.results = results.as_ref().map(result_names),
        keeps: |results, record| {
            results
                .as_ref()
                .is_none_or(|results| record.result().is_some_and(|r| results.contains(&r)))
        },
        reads: |record| record.result().map_or(NO_VALUE, JobResult::as_str).to_owned(),
        allowed: |results| results.as_ref().map(result_names),
        says: |f, value, allowed| write!(f, "result {value:?} is not one of {allowed}"),
    }
}

/// Which task kinds are kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum KindRule {
    /// Build and test records, whatever their task kind: the seed's
    /// callbacks.
    BuildsAndTests,
    /// Records whose kind is named.
    Named(HashSet<String>),
    /// Every record.
    Any,
}

/// The `products` rule: named products, and whether records without one
/// are kept ([`NO_PRODUCT`] listed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ProductSet {
    named: HashSet<String>,
    keeps_missing: bool,
}

impl ProductSet {
    fn contains(&self, product: Option<&str>) -> bool {
        match product {
            Some(name) => self.named.contains(name),
            None => self.keeps_missing,
        }
    }

    fn sorted(&self) -> Vec<String> {
        let mut values = sorted(&self.named);
        if self.keeps_missing {
            values.push(NO_PRODUCT.to_owned());
            values.sort();
        }
        values
    }
}

/// One flag per build type: three bools beat hashing an enum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BuildTypeSet([bool; BuildType::ALL.len()]);

impl BuildTypeSet {
    fn index(buildtype: BuildType) -> usize {
        BuildType::ALL
            .iter()
            .position(|&known| known == buildtype)
            .expect("BuildType::ALL lists every build type")
    }

    fn contains(&self, buildtype: BuildType) -> bool {
        self.0[Self::index(buildtype)]
    }

    fn sorted(self) -> Vec<String> {
        let mut values: Vec<String> = BuildType::ALL
            .into_iter()
            .filter(|&buildtype| self.contains(buildtype))
            .map(|buildtype| buildtype.as_str().to_owned())
            .collect();
        values.sort();
        values
    }
}

/// The test name of a test record; only test rules read it, and only
/// test records can fail them.
fn test_name(record: &Record) -> &str {
    match record {
        Record::Test(test) => &test.test,
        _ => unreachable!("test rules reject test records only"),
    }
}

fn is_kept(set: &Option<HashSet<String>>, value: &str) -> bool {
    set.as_ref().is_none_or(|set| set.contains(value))
}

/// A listed name keeps a test of that exact name, as in the seed, or
/// any test of that suite: its chunks and its e10s runs
/// ([`test_suite_tokens`]). So `mochitest-browser-chrome` keeps buildbot's
/// `mochitest-browser-chrome-3` and Taskcluster's
/// `mochitest-browser-chrome-e10s-3` alike, while `mochitest-3` keeps only
/// that chunk. Lists are short, so scanning them beats building the suite.
fn keeps_test(tests: &HashSet<String>, test: &str) -> bool {
    tests.contains(test)
        || tests
            .iter()
            .any(|listed| test_suite_tokens(test).eq(listed.split('-')))
}

fn sorted(set: &HashSet<String>) -> Vec<String> {
    let mut values: Vec<String> = set.iter().cloned().collect();
    values.sort();
    values
}

fn result_names(results: &HashSet<JobResult>) -> Vec<String> {
    let mut names: Vec<String> = results.iter().map(|r| r.as_str().to_owned()).collect();
    names.sort();
    names
}

/// A rule's values, refused when the list or a value is empty.
fn checked_values(rule: Rule, values: &[String]) -> Result<impl Iterator<Item = &str>, Error> {
    if values.is_empty() {
        return Err(Error::new(ErrorKind::EmptyList {
            field: rule.field(),
        }));
    }
    if values.iter().any(String::is_empty) {
        return Err(Error::new(ErrorKind::EmptyValue {
            field: rule.field(),
        }));
    }
    Ok(values.iter().map(String::as_str))
}

fn value_set(rule: Rule, values: &[String]) -> Result<HashSet<String>, Error> {
    Ok(checked_values(rule, values)?.map(str::to_owned).collect())
}

fn optional_value_set(
    rule: Rule,
    values: &Option<Vec<String>>,
) -> Result<Option<HashSet<String>>, Error> {
    values
        .as_deref()
        .map(|values| value_set(rule, values))
        .transpose()
}

fn check_buildtags(buildtags: &BuildTags) -> Result<(), Error> {
    let field = Rule::BuildTags.field();
    match buildtags {
        BuildTags::AllOf(tags) if tags.is_empty() => {
            return Err(Error::new(ErrorKind::EmptyList { field }))
        }
        BuildTags::AnyGroup(groups) if groups.is_empty() => {
            return Err(Error::new(ErrorKind::EmptyList { field }))
        }
        _ => {}
    }
    if let BuildTags::AnyGroup(groups) = buildtags {
        if let Some(index) = groups.iter().position(Vec::is_empty) {
            return Err(Error::new(ErrorKind::EmptyTagGroup { index }));
        }
    }
    if buildtags.groups().iter().flatten().any(String::is_empty) {
        return Err(Error::new(ErrorKind::EmptyValue { field }));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_checked_in_a_distinct_order() {
        let mut numbers = CHECKED_NUMBERS.to_vec();
        numbers.sort();
        numbers.dedup();
        assert_eq!(
            numbers.len(),
            Rule::ALL.len(),
            "two rules share a checked number"
        );
        assert_eq!(
            CHECKED,
            [
                Rule::Kinds,
                Rule::Trees,
                Rule::Platforms,
                Rule::Products,
                Rule::BuildTypes,
                Rule::Results,
                Rule::Talos,
                Rule::Tests,
                Rule::BuildTags,
            ]
        );
    }

    #[test]
    fn flags_are_unique_and_conflict_with_flags_that_exist() {
        let flags: Vec<&Flag> = Rule::ALL.iter().flat_map(|rule| rule.flags()).collect();
        let mut names: Vec<&str> = flags
            .iter()
            .flat_map(|flag| std::iter::once(flag.long()).chain(flag.alias()))
            .collect();
        let count = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), count, "a flag name is used twice: {names:?}");
        for flag in &flags {
            if let Some(other) = flag.conflicts() {
                assert!(
                    flags.iter().any(|f| f.long() == other),
                    "--{} conflicts with unknown --{other}",
                    flag.long()
                );
            }
        }
    }

    #[test]
    fn each_values_flag_adds_to_its_own_rule() {
        for rule in Rule::ALL {
            for flag in rule.flags() {
                let mut spec = FilterSpec::default();
                let values = if flag.value_name().is_some() {
                    vec!["a,b".to_owned()]
                } else {
                    Vec::new()
                };
                flag.apply(&mut spec, &values);
                let json: serde_json::Value =
                    serde_json::from_str(&spec.to_json_string()).expect("a spec is JSON");
                let keys: Vec<&String> = json.as_object().expect("an object").keys().collect();
                assert_eq!(keys.len(), 1, "--{}: {json}", flag.long());
                assert!(
                    keys[0].starts_with(rule.field())
                        || keys[0].starts_with("any_") && rule.field().starts_with(&keys[0][4..]),
                    "--{} sets {} for rule {}",
                    flag.long(),
                    keys[0],
                    rule.field()
                );
            }
        }
    }
}
