//! Filter rules of pulsebuildmonitor over translated build and test records.
//!
//! In the seed (the Python pulsebuildmonitor),
//! `start_pulse_monitor(trees=…, platforms=…, products=…, buildtypes=…,
//! tests=…, buildtags=…, talos=…)` decided which messages reach
//! `buildCallback` and `testCallback`. A [`Filter`] holds those rules
//! and answers [`Filter::matches`] for each [`Record`](pulse_translator::Record)
//! from the translator (`pulse-translator`); the monitor
//! (`pulse-build-monitor`) then hands matching records to the dispatcher
//! (`pulse-dispatch`). Buildbot and Taskcluster records are filtered alike.
//!
//! - Build a filter with [`Filter::builder`], or read a [`FilterSpec`] from
//!   JSON ([`FilterSpec::from_json_str`]) or fill one from command-line
//!   flags (`add_*_str`), then [`Filter::from_spec`].
//! - Bad rules (empty lists or strings, empty build tag groups, unknown
//!   build types) are an [`Error`] when the filter is built, never a
//!   surprise when matching.
//! - [`Filter::explain`] says which rule rejected a record, as a [`Rejection`].
//!
//! The rules, as the seed documented them:
//!
//! | rule | applies to | unset means |
//! |---|---|---|
//! | `trees` | builds, tests | mozilla-central only (`any_tree` for all) |
//! | `platforms`, `products`, `buildtypes` | builds, tests | everything |
//! | `tests` | tests | every test |
//! | `talos` | tests | `false`: talos runs are dropped |
//! | `buildtags` | builds | every build |
//!
//! `products` may contain `"none"` to keep records without a product.
//! `tests` keeps a test whose name is listed, as the seed did, and
//! also every test of a listed suite: the name without its chunk number
//! and `e10s` token
//! ([`test_suite`](pulse_translator::taskcluster::test_suite)). The rule is
//! the same in both eras, so `mochitest-browser-chrome` keeps buildbot's
//! `mochitest-browser-chrome-3` and Taskcluster's
//! `mochitest-browser-chrome-e10s-3`, and `mochitest` keeps buildbot's
//! `mochitest-1` (before, only a test named exactly `mochitest`); a chunk
//! name such as `mochitest-3` still keeps only that chunk. Other variants
//! stay apart: `mochitest-browser-chrome-1proc` is its own suite.
//! `buildtags` is a list of tags that must all be present, or a list of
//! groups of which one must be fully present.
//!
//! ```
//! use pulse_filter::{Filter, Rule};
//! use pulse_translator::{BuildRecord, BuildType, JobInfo, Record};
//!
//! let filter = Filter::builder()
//!     .trees(["mozilla-central", "mozilla-aurora"])
//!     .buildtypes(["opt"])
//!     .buildtag_groups([vec!["nightly", "l10n"], vec!["release"]])
//!     .build()?;
//!
//! // Fields the test leaves out are `None`.
//! let job: JobInfo = serde_json::from_value(serde_json::json!({
//!     "key": "build.try-linux.1.finished", "tree": "try",
//!     "platform": "linux", "buildtype": "opt", "product": "firefox"
//! }))?;
//! let mut record = Record::Build(BuildRecord { job, tags: vec!["nightly".into()] });
//!
//! let why = filter.explain(&record).unwrap_err();
//! assert_eq!(why.rule(), Rule::Trees);
//! assert_eq!(why.to_string(), r#"tree "try" is not one of mozilla-aurora, mozilla-central"#);
//!
//! record.job_mut().unwrap().tree = "mozilla-aurora".into();
//! assert!(!filter.matches(&record)); // nightly alone is not a full group
//! if let Record::Build(build) = &mut record {
//!     build.tags.push("l10n".into());
//! }
//! assert!(filter.matches(&record));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Modules: `rules` is the rule table, one entry per rule (its JSON key,
//! spec fields, builder setters, command-line [`Flag`]s, what it reads from
//! a record, how it matches and how a rejection reads), written out by the
//! `rule_table!` macro of `table`; `spec` reads and writes the rules as
//! plain data ([`FilterSpec`], for config files and command lines),
//! `filter` compiles them into the [`Filter`] that matches records and
//! explains a rejection ([`Rejection`]) by iterating the table, `flag`
//! describes a rule's flags, `error` says what is wrong with a rule.
#![deny(missing_docs)]

mod error;
mod filter;
mod flag;
mod rules;
mod spec;
mod table;

pub use error::{Error, ErrorKind};
pub use filter::{Filter, FilterBuilder, Rejection, DEFAULT_TREE};
pub use flag::Flag;
pub use rules::Rule;
pub use spec::{BuildTags, FilterSpec, NO_PRODUCT};
