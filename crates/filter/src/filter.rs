//! The compiled filter: validated rules in shapes that are cheap to match.
//! What each rule reads, keeps and says is in the rule table (`rules.rs`);
//! this file iterates it.

use std::fmt;

use pulse_translator::Record;

use crate::rules::{KindRule, Rules, CHECKED};
use crate::spec::FilterSpec;
use crate::{Error, Rule};

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
    rules: Rules,
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
        self.rule.says(f, &self.value, &self.allowed.join(", "))
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

    /// Checks a spec's rules and compiles them; the first bad rule, in the
    /// order of the spec's fields, is the error.
    pub fn from_spec(spec: &FilterSpec) -> Result<Filter, Error> {
        Ok(Filter {
            rules: Rules::compile(spec)?,
        })
    }

    /// The rules as a spec: `Filter::from_spec(&filter.to_spec())` gives the
    /// same filter. Lists come out sorted.
    pub fn to_spec(&self) -> FilterSpec {
        self.rules.to_spec()
    }

    /// True when records other than builds and tests can pass: the
    /// monitor then reads every kind of task.
    pub fn keeps_other_kinds(&self) -> bool {
        match &self.rules.kinds {
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
    /// order kinds, trees, platforms, products, buildtypes, results, then
    /// talos and tests for test records or buildtags for build records.
    pub fn explain(&self, record: &Record) -> Result<(), Rejection> {
        let Some(rule) = self.failed_rule(record) else {
            return Ok(());
        };
        let (value, allowed) = self.rules.rejection(rule, record);
        Err(Rejection {
            rule,
            value,
            allowed: allowed.expect("only a set rule rejects"),
        })
    }

    /// The one place the rules are applied, so `matches` and `explain`
    /// cannot disagree.
    fn failed_rule(&self, record: &Record) -> Option<Rule> {
        CHECKED
            .into_iter()
            .find(|&rule| !self.rules.keeps(rule, record))
    }
}

/// Builds a [`Filter`]; start with [`Filter::builder`].
///
/// Setters replace the rule they name; nothing is checked until
/// [`FilterBuilder::build`]. Each rule's setters are in the rule table.
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct FilterBuilder {
    pub(crate) spec: FilterSpec,
}

/// The builder's list arguments as owned strings.
pub(crate) fn owned<I>(values: I) -> Vec<String>
where
    I: IntoIterator,
    I::Item: Into<String>,
{
    values.into_iter().map(Into::into).collect()
}

impl FilterBuilder {
    /// Checks the rules and builds the filter.
    pub fn build(self) -> Result<Filter, Error> {
        Filter::from_spec(&self.spec)
    }
}
