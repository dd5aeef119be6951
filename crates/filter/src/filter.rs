//! The compiled filter: validated rules in shapes that are cheap to match.

use std::collections::HashSet;
use std::fmt;

use pulse_translator::taskcluster::test_suite_tokens;
use pulse_translator::{BuildType, JobResult, Record};

use crate::spec::{BuildTags, FilterSpec, NO_PRODUCT};
use crate::{Error, ErrorKind};

/// How a rejection names a platform or build type the record does not have.
const NO_VALUE: &str = "none";

/// The tree kept when no trees are given, as in the seed.
pub const DEFAULT_TREE: &str = "mozilla-central";

/// Decides which translated records reach the build and test callbacks.
///
/// Built with [`Filter::builder`] or from a [`FilterSpec`]; every rule is
/// checked then, so matching cannot fail. `tests` and `talos` apply to test
/// records, `buildtags` to build records, the other rules to both.
/// Matching does not allocate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    trees: Option<HashSet<String>>,
    platforms: Option<HashSet<String>>,
    products: Option<ProductSet>,
    buildtypes: Option<BuildTypeSet>,
    tests: Option<HashSet<String>>,
    buildtags: Option<BuildTags>,
    talos: bool,
    kinds: KindRule,
    results: Option<HashSet<JobResult>>,
}

/// Which task kinds are kept.
#[derive(Clone, Debug, PartialEq, Eq)]
enum KindRule {
    /// Build and test records, whatever their task kind: the seed's
    /// callbacks.
    BuildsAndTests,
    /// Records whose kind is named.
    Named(HashSet<String>),
    /// Every record.
    Any,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct ProductSet {
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
}

/// One flag per build type: three bools beat hashing an enum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct BuildTypeSet([bool; BuildType::ALL.len()]);

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
}

/// A filter rule, as named in rejections and in [`FilterSpec`]'s fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// `trees`.
    Trees,
    /// `platforms`.
    Platforms,
    /// `products`.
    Products,
    /// `buildtypes`.
    BuildTypes,
    /// `tests` (test records only).
    Tests,
    /// `talos` (test records only).
    Talos,
    /// `buildtags` (build records only).
    BuildTags,
    /// `kinds`.
    Kinds,
    /// `results`.
    Results,
}

impl Rule {
    /// The field name in [`FilterSpec`] and config files.
    pub fn field(self) -> &'static str {
        match self {
            Rule::Trees => "trees",
            Rule::Platforms => "platforms",
            Rule::Products => "products",
            Rule::BuildTypes => "buildtypes",
            Rule::Tests => "tests",
            Rule::Talos => "talos",
            Rule::BuildTags => "buildtags",
            Rule::Kinds => "kinds",
            Rule::Results => "results",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.field())
    }
}

/// Why a record did not match: the first rule it failed and the value it
/// failed with. Displays as, e.g., `tree "try" is not one of mozilla-central`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    rule: Rule,
    value: String,
    allowed: Vec<String>,
}

impl Rejection {
    /// The rule that rejected the record.
    pub fn rule(&self) -> Rule {
        self.rule
    }

    /// The record's value for that rule: a tree, platform, product (`none`
    /// when missing), build type, test name, or the build tags joined by
    /// commas.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// What the rule keeps, sorted: values, or for `buildtags` the groups
    /// written `a+b`. Empty for `talos`.
    pub fn allowed(&self) -> &[String] {
        &self.allowed
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = &self.value;
        let allowed = self.allowed.join(", ");
        match self.rule {
            Rule::Trees => write!(f, "tree {value:?} is not one of {allowed}"),
            Rule::Platforms => write!(f, "platform {value:?} is not one of {allowed}"),
            Rule::Products => write!(f, "product {value:?} is not one of {allowed}"),
            Rule::BuildTypes => write!(f, "build type {value:?} is not one of {allowed}"),
            Rule::Tests => write!(f, "test {value:?} is not one of {allowed}"),
            Rule::Talos => write!(f, "test {value:?} is a talos run and talos is off"),
            Rule::BuildTags => write!(
                f,
                "build tags {value:?} do not include any required group: {allowed}"
            ),
            Rule::Kinds if self.allowed.is_empty() => write!(
                f,
                "kind {value:?} is neither a build nor a test (add --kind {value} or --any-kind)"
            ),
            Rule::Kinds => write!(f, "kind {value:?} is not one of {allowed}"),
            Rule::Results => write!(f, "result {value:?} is not one of {allowed}"),
        }
    }
}

impl std::error::Error for Rejection {}

impl Default for Filter {
    /// The seed's defaults: mozilla-central, every platform, product,
    /// build type and test, no talos.
    fn default() -> Filter {
        Filter::from_spec(&FilterSpec::default()).expect("the default spec is valid")
    }
}

impl Filter {
    /// A builder starting from the defaults (mozilla-central, no talos).
    pub fn builder() -> FilterBuilder {
        FilterBuilder::default()
    }

    /// Checks a spec's rules and compiles them.
    pub fn from_spec(spec: &FilterSpec) -> Result<Filter, Error> {
        let trees = match (&spec.trees, spec.any_tree) {
            (Some(trees), true) => {
                return Err(Error::new(ErrorKind::AnyTreeWithTrees {
                    trees: trees.clone(),
                }))
            }
            (None, true) => None,
            (None, false) => Some(HashSet::from([DEFAULT_TREE.to_owned()])),
            (Some(trees), false) => Some(value_set(Rule::Trees, trees)?),
        };
        let products = match &spec.products {
            None => None,
            Some(products) => {
                let mut named = value_set(Rule::Products, products)?;
                let keeps_missing = named.remove(NO_PRODUCT);
                Some(ProductSet {
                    named,
                    keeps_missing,
                })
            }
        };
        let buildtypes = match &spec.buildtypes {
            None => None,
            Some(names) => {
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
                Some(set)
            }
        };
        let buildtags = match &spec.buildtags {
            None => None,
            Some(buildtags) => {
                check_buildtags(buildtags)?;
                Some(buildtags.clone())
            }
        };
        let kinds = match (&spec.kinds, spec.any_kind) {
            (Some(kinds), true) => {
                return Err(Error::new(ErrorKind::AnyKindWithKinds {
                    kinds: kinds.clone(),
                }))
            }
            (None, true) => KindRule::Any,
            (None, false) => KindRule::BuildsAndTests,
            (Some(kinds), false) => KindRule::Named(value_set(Rule::Kinds, kinds)?),
        };
        let results = match &spec.results {
            None => None,
            Some(names) => Some(
                checked_values(Rule::Results, names)?
                    .map(|name| {
                        name.parse::<JobResult>().map_err(|_| {
                            Error::new(ErrorKind::UnknownResult {
                                result: name.to_owned(),
                            })
                        })
                    })
                    .collect::<Result<HashSet<_>, _>>()?,
            ),
        };
        Ok(Filter {
            kinds,
            results,
            trees,
            platforms: optional_value_set(Rule::Platforms, &spec.platforms)?,
            products,
            buildtypes,
            tests: optional_value_set(Rule::Tests, &spec.tests)?,
            buildtags,
            talos: spec.talos,
        })
    }

    /// The rules as a spec: `Filter::from_spec(&filter.to_spec())` gives the
    /// same filter. Lists come out sorted.
    pub fn to_spec(&self) -> FilterSpec {
        let trees = self.trees.as_ref().map(sorted);
        FilterSpec {
            any_tree: trees.is_none(),
            trees: trees.filter(|trees| trees != &[DEFAULT_TREE]),
            platforms: self.platforms.as_ref().map(sorted),
            products: self.products.as_ref().map(ProductSet::sorted),
            buildtypes: self.buildtypes.map(BuildTypeSet::sorted),
            tests: self.tests.as_ref().map(sorted),
            buildtags: self.buildtags.clone(),
            talos: self.talos,
            kinds: match &self.kinds {
                KindRule::Named(kinds) => Some(sorted(kinds)),
                _ => None,
            },
            any_kind: self.kinds == KindRule::Any,
            results: self.results.as_ref().map(|results| {
                let mut names: Vec<String> =
                    results.iter().map(|r| r.as_str().to_owned()).collect();
                names.sort();
                names
            }),
        }
    }

    /// True when records other than builds and tests can pass: the
    /// monitor then reads every kind of task.
    pub fn keeps_other_kinds(&self) -> bool {
        match &self.kinds {
            KindRule::BuildsAndTests => false,
            KindRule::Named(kinds) => kinds.iter().any(|k| k != "build" && k != "test"),
            KindRule::Any => true,
        }
    }

    /// Whether the record should reach its callback.
    pub fn matches(&self, record: &Record) -> bool {
        self.failed_rule(record).is_none()
    }

    /// `Ok` if the record matches, else the first rule it failed, in the
    /// order trees, platforms, products, buildtypes, then talos and tests
    /// for test records or buildtags for build records.
    pub fn explain(&self, record: &Record) -> Result<(), Rejection> {
        let Some(rule) = self.failed_rule(record) else {
            return Ok(());
        };
        let (value, allowed) = match (rule, record) {
            (Rule::Kinds, _) => (
                record.kind().to_owned(),
                match &self.kinds {
                    KindRule::Named(kinds) => Some(sorted(kinds)),
                    _ => Some(Vec::new()),
                },
            ),
            (Rule::Results, _) => (
                record.result().map_or("none", JobResult::as_str).to_owned(),
                self.results.as_ref().map(|results| {
                    let mut names: Vec<String> =
                        results.iter().map(|r| r.as_str().to_owned()).collect();
                    names.sort();
                    names
                }),
            ),
            (Rule::Trees, _) => (record.tree().to_owned(), self.trees.as_ref().map(sorted)),
            (Rule::Platforms, _) => (
                record.platform().unwrap_or(NO_VALUE).to_owned(),
                self.platforms.as_ref().map(sorted),
            ),
            (Rule::Products, _) => (
                record.product().unwrap_or(NO_PRODUCT).to_owned(),
                self.products.as_ref().map(ProductSet::sorted),
            ),
            (Rule::BuildTypes, _) => (
                record
                    .buildtype()
                    .map_or(NO_VALUE, BuildType::as_str)
                    .to_owned(),
                self.buildtypes.map(BuildTypeSet::sorted),
            ),
            (Rule::Tests, Record::Test(test)) => {
                (test.test.clone(), self.tests.as_ref().map(sorted))
            }
            (Rule::Talos, Record::Test(test)) => (test.test.clone(), Some(Vec::new())),
            (Rule::BuildTags, Record::Build(build)) => (
                build.tags.join(","),
                self.buildtags.as_ref().map(|tags| {
                    let mut groups: Vec<String> =
                        tags.groups().iter().map(|group| group.join("+")).collect();
                    groups.sort();
                    groups
                }),
            ),
            (rule, _) => unreachable!("rule {rule} does not apply to this kind of record"),
        };
        Err(Rejection {
            rule,
            value,
            allowed: allowed.expect("only a set rule rejects"),
        })
    }

    /// The one place the rules are applied, so `matches` and `explain`
    /// cannot disagree.
    fn failed_rule(&self, record: &Record) -> Option<Rule> {
        let kept_kind = match &self.kinds {
            KindRule::BuildsAndTests => matches!(record, Record::Build(_) | Record::Test(_)),
            KindRule::Named(kinds) => kinds.contains(record.kind()),
            KindRule::Any => true,
        };
        if !kept_kind {
            return Some(Rule::Kinds);
        }
        if !is_kept(&self.trees, record.tree()) {
            return Some(Rule::Trees);
        }
        if let Some(platforms) = &self.platforms {
            if !record.platform().is_some_and(|p| platforms.contains(p)) {
                return Some(Rule::Platforms);
            }
        }
        if let Some(products) = &self.products {
            if !products.contains(record.product()) {
                return Some(Rule::Products);
            }
        }
        if let Some(buildtypes) = &self.buildtypes {
            if !record.buildtype().is_some_and(|b| buildtypes.contains(b)) {
                return Some(Rule::BuildTypes);
            }
        }
        if let Some(results) = &self.results {
            if !record.result().is_some_and(|r| results.contains(&r)) {
                return Some(Rule::Results);
            }
        }
        match record {
            Record::Test(test) => {
                if test.talos && !self.talos {
                    return Some(Rule::Talos);
                }
                if !self
                    .tests
                    .as_ref()
                    .is_none_or(|tests| keeps_test(tests, &test.test))
                {
                    return Some(Rule::Tests);
                }
            }
            Record::Build(build) => {
                if let Some(buildtags) = &self.buildtags {
                    // A build carries a handful of tags, so scanning them
                    // beats building a set per message.
                    let has = |tag: &String| build.tags.contains(tag);
                    if !buildtags.groups().iter().any(|group| group.iter().all(has)) {
                        return Some(Rule::BuildTags);
                    }
                }
            }
            _ => {}
        }
        None
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

impl ProductSet {
    fn sorted(&self) -> Vec<String> {
        let mut values = sorted(&self.named);
        if self.keeps_missing {
            values.push(NO_PRODUCT.to_owned());
            values.sort();
        }
        values
    }
}

impl BuildTypeSet {
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

/// Builds a [`Filter`]; start with [`Filter::builder`].
///
/// Setters replace the rule they name; nothing is checked until
/// [`FilterBuilder::build`].
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct FilterBuilder {
    spec: FilterSpec,
}

fn owned<I>(values: I) -> Vec<String>
where
    I: IntoIterator,
    I::Item: Into<String>,
{
    values.into_iter().map(Into::into).collect()
}

impl FilterBuilder {
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

    /// Keeps only these platforms.
    pub fn platforms<I>(mut self, platforms: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.spec.platforms = Some(owned(platforms));
        self
    }

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

    /// Keeps only these build types: opt, debug, pgo.
    pub fn buildtypes<I>(mut self, buildtypes: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.spec.buildtypes = Some(owned(buildtypes));
        self
    }

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
        self.spec.buildtags = Some(BuildTags::AnyGroup(groups.into_iter().map(owned).collect()));
        self
    }

    /// Passes talos runs as well as unit tests (default: false, unit tests only).
    pub fn talos(mut self, talos: bool) -> Self {
        self.spec.talos = talos;
        self
    }

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

    /// Keeps records with these results (`testfailed`, `busted`…).
    pub fn results<I>(mut self, results: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.spec.results = Some(owned(results));
        self
    }

    /// Checks the rules and builds the filter.
    pub fn build(self) -> Result<Filter, Error> {
        Filter::from_spec(&self.spec)
    }
}
