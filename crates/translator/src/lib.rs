//! Translate Pulse build messages into typed build and test records.
//!
//! Mozilla's CI announced each finished build and test on Pulse. This crate
//! turns those messages into [`Record`]s — a [`BuildRecord`] or a
//! [`TestRecord`], sharing a [`JobInfo`] — that serialize to exactly the
//! payload the reference translator (pulsetranslator) published on
//! `exchange/build/normalized`, under the same routing key
//! ([`NormalizedMessage`]).
//!
//! - [`translate`] is the one entry point: a [`Message`] in, its records
//!   out, read by the translator its exchange's [`Family`] names (one table,
//!   `pulse_message::exchanges::EXCHANGES`), with one set of [`Options`].
//!   The modules below are what it calls.
//! - [`buildbot::translate`] reads a raw buildbot message from
//!   `exchange/build/` and returns its normalized messages (none for the
//!   messages the reference ignored, several for l10n repacks), or an
//!   [`Error`] whose [`Error::reference_class`] names the reference's
//!   exception where it had one.
//! - [`normalized::parse`] reads a payload from `exchange/build/normalized`;
//!   [`normalized::routing_key`] gives its routing key back.
//! - [`buildername::parse`] reads a buildbot buildername
//!   (`Rev3 WINNT 6.1 mozilla-central debug test mochitest-3`,
//!   `release-mozilla-beta-firefox_bncr_sub`, `b2g_mozilla-inbound_unagi_dep`).
//! - [`taskcluster::translate`] reads today's Taskcluster queue messages into
//!   the same records, and every other task (lint, toolchains, signing,
//!   the decision task…, and unfinished tasks) into a [`TaskRecord`]; each
//!   record has a kind ([`Record::kind`]) and a result in Treeherder's
//!   words ([`Record::result`], [`JobResult`]).
//!   `task-defined` makes a [`TaskRecord`] in [`TaskState::Defined`];
//!   `task-group-resolved` a [`TaskGroupRecord`].
//! - hg.mozilla.org's push messages (`exchange/hgpushes/v2`) become
//!   [`PushRecord`]s: where a push starts, and who pushed it.
//! - [`Message`] is one Pulse message (exchange, routing key, `CC`
//!   routes, body), as every crate above this one passes it around;
//!   [`exchanges`] names Pulse's exchanges, once. Both live in the
//!   pulse-message crate and are re-exported here.
//!
//! Records and their parts: [`Record`] is a [`BuildRecord`], a
//! [`TestRecord`], a [`TaskRecord`], a [`PushRecord`] or a
//! [`TaskGroupRecord`]; builds and tests share a [`JobInfo`],
//! whose closed sets are types: [`BuildType`], [`Status`] (buildbot's result
//! code), [`Locales`]; [`JobResult`], [`JobKind`] and [`TaskState`] say how
//! Treeherder and the queue see a job. Translation fails with an [`Error`]
//! whose [`ErrorKind`] says what was wrong. [`Clock`] stamps the records.
//!
//! Inside, one concern a module: `translate` is the entry point; `record`
//! and `status` define the records; `options` the [`Options`];
//! `buildbot`, `taskcluster`, `normalized`, `hgpush` and `buildername` read each kind
//! of input, with a module root that holds the entry points and files
//! under it for the parts (see each module's overview); `tables` holds the
//! platform, OS, build tag and buildername vocabulary, as data; `clock`
//! and `error` are what their names say.
//!
//! Neighbours: the monitor crate (pulse-build-monitor) receives messages
//! through the wire crate and calls [`translate`]; the push crate
//! (pulse-push) groups the records by push; the filter
//! crate (pulse-filter) matches the resulting records against a user's
//! trees, platforms, tests and tags before the dispatcher runs callbacks.
//! This crate does no I/O and starts no threads.
//!
//! ```
//! use pulse_translator::buildbot::translate;
//! use pulse_translator::{Options, Record};
//!
//! let body = br#"{
//!   "_meta": {"routing_key": "build.mozilla-central_win7-debug_test-mochitest-3.0.log_uploaded"},
//!   "payload": {"build": {"results": 0, "properties": [
//!     ["branch", "mozilla-central", "Build"],
//!     ["buildername", "Rev3 WINNT 6.1 mozilla-central debug test mochitest-3", "Builder"],
//!     ["buildid", "20130411122104", "Build"],
//!     ["log_url", "http://example.org/log.txt.gz", "Build"],
//!     ["platform", "win32", "Build"],
//!     ["product", "firefox", "Build"]
//!   ]}}
//! }"#;
//! let messages = translate(body, &Options::default())?;
//! assert_eq!(
//!     messages[0].routing_key,
//!     "unittest.mozilla-central.win32.win7.debug.mochitest-3.firefox.mozilla-central_win7-debug_test-mochitest-3"
//! );
//! let Record::Test(test) = &messages[0].payload else { panic!("a test") };
//! assert_eq!((test.os.as_str(), test.job.builddate), ("win7", Some(1365682864)));
//! # Ok::<(), pulse_translator::Error>(())
//! ```
#![deny(missing_docs)]

pub mod buildbot;
pub mod buildername;
mod clock;
mod error;
mod hgpush;
pub mod normalized;
mod options;
mod record;
mod status;
mod tables;
pub mod taskcluster;
mod translate;

pub use clock::Clock;
pub use error::{Error, ErrorKind};
pub use options::{Options, DEFAULT_ROOT_URL};
pub use pulse_message::{exchanges, primary_routing_key, Family, Message};
pub use record::{
    BuildRecord, BuildType, FailureLine, JobInfo, JobKind, Locales, NormalizedMessage, PushRecord,
    Record, TaskGroupRecord, TaskRecord, TestRecord,
};
pub use status::{JobResult, Status, TaskState};
pub use translate::{translate, translate_as};
