//! A small blocking client of the Taskcluster queue, and pure readers of
//! what it fetches.
//!
//! - [`Queue`] (in `queue`): task definitions ([`Queue::task`], cached), a
//!   run's artifact list ([`Queue::artifacts`], all pages;
//!   [`Queue::resolved_run_artifacts`], cached), artifacts
//!   ([`Queue::artifact`], [`Queue::download`]: redirects followed, gzip
//!   decoded, size-capped) and a task group's members
//!   ([`Queue::task_group_pages`], [`Queue::list_task_group`]). Root URL of
//!   your choice ([`FIREFOX_CI_ROOT_URL`] or [`COMMUNITY_ROOT_URL`]…); a
//!   timeout per request, retries with capped exponential backoff ([`Retry`])
//!   on 5xx and broken connections only, a bound on requests in flight, caps
//!   on bodies. Failures are [`Error`]s whose [`ErrorKind`] names the URL
//!   and why.
//! - [`Task`], [`Artifact`], [`TaskGroupMember`], [`TaskStatus`],
//!   [`RunStatus`] (in `types`): what the queue answers.
//! - [`build_urls()`](build_urls()) and [`tested_build`] (module
//!   [`build_urls`](mod@build_urls)): the installer, test packages and
//!   symbols of a build run from its artifact list; the build a test task
//!   ran against from its definition. No I/O.
//! - [`errorsummary`]: failure lines and failing groups from a test run's
//!   `*_errorsummary.log`, read as Treeherder reads it. No I/O.
//!
//! Neighbours: `pulse-translator` turns Pulse messages into records and
//! reads a definition's Treeherder fields
//! (`pulse_translator::taskcluster::TaskDefinition` deserializes from
//! [`Task::json`]); `pulse-build-monitor` (feature `fetch`) hands a [`Queue`]
//! to `MonitorBuilder::task_definitions` to complete messages that do not
//! say enough on their own.
//!
//! # How the monitor is expected to call it
//!
//! Off the message path, on a pool of its own (a [`Queue`] is `Sync`; its
//! `concurrency` bounds the requests however many threads share it), for a
//! record whose run has resolved:
//!
//! 1. a build: [`Queue::build_urls`]`(task_id, run_id)` (the run's artifact
//!    list through [`build_urls()`](build_urls())) for `buildurl`,
//!    `testsurl`, `test_packages_url`, `symbols_url`;
//! 2. a test: [`Queue::task`]`(task_id)` and [`tested_build`] for the build;
//!    if it failed, [`Queue::failure_summary`]`(task_id, run_id, &limits)`
//!    (every `*_errorsummary.log` of the run, read and merged): its
//!    failures, each with its [`errorsummary::Failure::line`], and failing
//!    groups. Any [`Error`], or [`errorsummary::Summary::unusable`], becomes
//!    the record's `details unavailable: <reason>`, never a monitor error.
//!
//! Every call blocks for at most about `(retries + 1) ×` the timeout plus
//! the backoff; the caller decides how long a record waits for it.
//!
//! ```
//! use pulse_taskcluster::{build_urls, errorsummary, Artifact, Queue};
//!
//! // No request is made until a call asks for one.
//! let queue = Queue::new("https://community-tc.services.mozilla.com/")?;
//! assert_eq!(queue.root_url(), pulse_taskcluster::COMMUNITY_ROOT_URL);
//!
//! // What the client would fetch for a failed test run, read offline.
//! let list = [
//!     Artifact::named("public/logs/live_backing.log"),
//!     Artifact::named("public/test_info/xpcshell_errorsummary.log"),
//! ];
//! let summaries: Vec<_> = list.iter().filter(|a| errorsummary::is_errorsummary(&a.name)).collect();
//! assert_eq!(summaries.len(), 1);
//! let body = br#"{"action": "crash", "test": "test_a.js", "signature": "abort", "line": 3}"#;
//! let summary = errorsummary::read(body, &errorsummary::Limits::default());
//! assert_eq!(summary.failures[0].line(), "PROCESS-CRASH | abort | test_a.js");
//!
//! assert_eq!(build_urls(queue.root_url(), "Cd8bq3YfS6ifUeBcwnmuPg", 0, &list).installer, None);
//! # Ok::<(), pulse_taskcluster::Error>(())
//! ```
#![deny(missing_docs)]

pub mod build_urls;
mod error;
pub mod errorsummary;
mod queue;
mod types;

pub use build_urls::{build_urls, tested_build, BuildUrls, FoundIn, TestedBuild};
pub use error::{Error, ErrorKind};
pub use queue::{
    artifact_url, Pages, Queue, Retry, COMMUNITY_ROOT_URL, DEFAULT_CACHE_CAPACITY,
    DEFAULT_CONCURRENCY, DEFAULT_MAX_ARTIFACT_BYTES, DEFAULT_MAX_JSON_BYTES, DEFAULT_RETRIES,
    DEFAULT_TIMEOUT, FIREFOX_CI_ROOT_URL, MAX_PAGES,
};
pub use types::{Artifact, RunStatus, Task, TaskGroupMember, TaskStatus};
