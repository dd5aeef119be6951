//! Translate Pulse build messages into typed build and test records.
//!
//! Mozilla's CI announced each finished build and test on Pulse. This crate
//! turns those messages into [`Record`]s — a [`BuildRecord`] or a
//! [`TestRecord`], sharing a [`JobInfo`] — that serialize to exactly the
//! payload the reference translator (pulsetranslator) published on
//! `exchange/build/normalized`, under the same routing key
//! ([`NormalizedMessage`]).
//!
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
//! - [`Message`] is one Pulse message (exchange, routing key, `CC`
//!   routes, body), as every crate above this one passes it around;
//!   [`exchanges`] names Pulse's exchanges, once.
//!
//! Records and their parts: [`Record`] is a [`BuildRecord`], a
//! [`TestRecord`] or a [`TaskRecord`]; builds and tests share a [`JobInfo`],
//! whose closed sets are types: [`BuildType`], [`Status`] (buildbot's result
//! code), [`Locales`]; [`JobResult`], [`JobKind`] and [`TaskState`] say how
//! Treeherder and the queue see a job. Translation fails with an [`Error`]
//! whose [`ErrorKind`] says what was wrong. [`Clock`] stamps the records.
//!
//! Inside, one concern a module: `record` and `status` define the records;
//! `buildbot`, `taskcluster`, `normalized` and `buildername` read each kind
//! of input, with a module root that holds the entry points and files
//! under it for the parts (see each module's overview); `tables` holds the
//! platform, OS, build tag and buildername vocabulary, as data; `clock`
//! and `error` are what their names say.
//!
//! Neighbours: the monitor crate (pulse-build-monitor) receives messages
//! through the wire crate and calls [`buildbot::translate`]; the filter
//! crate (pulse-filter) matches the resulting records against a user's
//! trees, platforms, tests and tags before the dispatcher runs callbacks.
//! This crate does no I/O and starts no threads.
//!
//! ```
//! use pulse_translator::buildbot::{translate, Options};
//! use pulse_translator::Record;
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
pub mod exchanges;
mod message;
pub mod normalized;
mod record;
mod status;
mod tables;
pub mod taskcluster;

pub use clock::Clock;
pub use error::{Error, ErrorKind};
pub use message::Message;
pub use record::{
    BuildRecord, BuildType, JobInfo, JobKind, Locales, NormalizedMessage, Record, TaskRecord,
    TestRecord,
};
pub use status::{JobResult, Status, TaskState};
