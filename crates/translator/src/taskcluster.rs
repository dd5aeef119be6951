//! Taskcluster queue messages (`exchange/taskcluster-queue/v1/task-*`) read
//! into the same [`Record`]s as buildbot messages, so a filter such as
//! `--tree autoland --platform linux64 --buildtype debug --test
//! mochitest-browser-chrome` means the same thing in both eras.
//!
//! A message is its exchange, routing key, `CC` routes and JSON body
//! (a [`Message`]). [`translate`] reads what the message itself says: the
//! tree and revision from the `tc-treeherder.v2.<project>.<revision>` route
//! (routing key or `CC`), and platform, build type, kind and test from the
//! task's `label` tag. The task's kind (`tags.kind`)
//! decides the record: [`job_kind`] is the one table that says which kinds
//! Treeherder shows as builds, tests or others. A finished build or test
//! whose label names its platform and build type becomes a
//! [`BuildRecord`](crate::BuildRecord) or [`TestRecord`](crate::TestRecord); every other task, and every task not
//! finished yet, a [`TaskRecord`](crate::TaskRecord) with a result in Treeherder's words
//! ([`JobResult`](crate::JobResult)). Messages without tags (before 2019) need the task
//! definition: [`translate_with_definition`] merges a [`TaskDefinition`]
//! in. Fetching definitions is left to the caller.
//!
//! | record field | from |
//! |---|---|
//! | `tree`, `revision` | `tc-treeherder.v2.<project>.<revision>[.<pushid>]` route |
//! | `platform` | generic family of the label's platform ([`platform_family`]) |
//! | `os` (tests) | the label's platform, e.g. `linux1804-64-qr` |
//! | `buildtype` | the label's, or `extra.treeherder.collection` when it says opt, debug or pgo |
//! | `test` (tests) | the label after the build type, in full; see [`test_suite`] for matching |
//! | `talos` (tests) | talos, raptor and browsertime suites (the test's first word, or the `test-type` tag) |
//! | `tags` (builds) | the task kind unless `build`, then the platform's variants (`shippable`, `asan`…) |
//! | `status` | the run's state and `reasonResolved`: see below |
//! | `logurl` | `<root>/api/queue/v1/task/<taskId>/runs/<runId>/artifacts/public/logs/live_backing.log` |
//! | `builddate` | the run's `resolved` time, else its `scheduled` time, in seconds |
//! | `buildername` | the label |
//! | `product` | the app in a performance test's name, else `firefox` (`thunderbird` on `comm-*` trees) for desktop platforms, else none |
//! | `locale` | a locale between kind and platform (`partials-ach-…`), else `en-US` |
//! | `key` | the routing key |
//! | `task_id`, `run_id`, `worker_type`, `slave` | the status and run |
//! | `tier` | `extra.treeherder.tier`, 1 when the definition names none (definition only) |
//! | `kind` | `tags.kind`, else the label's first word, else the definition's jobKind |
//! | `result` | the run's state, `reasonResolved` and a retry run, as Treeherder reads them |
//! | `timestamp` | [`Options::clock`](crate::Options::clock) |
//!
//! A run's [`Status`](crate::Status), the buildbot code it stands for
//! (none while pending or running):
//!
//! | run state | `reasonResolved` | status |
//! |---|---|---|
//! | completed | any | 0 success |
//! | failed | any | 2 failure (testfailed) |
//! | exception | `canceled`, `superseded` | 6 cancelled |
//! | exception | `claim-expired`, `worker-shutdown`, `intermittent-task` | 5 retry (the queue reruns the task) |
//! | exception | `deadline-exceeded`, `malformed-payload`, `internal-error`, `resource-unavailable`, anything else | 4 exception |
//!
//! Its files, one concern each: `message` reads what a queue message says
//! about its run; `route` finds the push in the `tc-treeherder` route;
//! `definition` reads a task definition; `label` reads task labels and
//! Taskcluster platforms; `kinds` is the table of task kinds; `result`
//! gives a run its status and its result in Treeherder's words; `record`
//! puts these together into a record.

mod definition;
mod group;
mod kinds;
mod label;
mod message;
mod record;
mod result;
mod route;

use crate::{Error, Message, Options, Record};

pub use definition::TaskDefinition;
pub use kinds::job_kind;
pub use label::{platform_family, test_suite, test_suite_tokens};

/// Translates a message from what it carries: its routes and `task.tags`.
///
/// Every well-formed message becomes a record. Fails with a typed error
/// only when the message is malformed (not JSON, missing fields, a bad
/// route) or does not say enough: no `tc-treeherder` route, so no push
/// ([`crate::ErrorKind::MissingTreeherderRoute`]), no label
/// ([`crate::ErrorKind::MissingTaskLabel`]), or a build or test on a platform
/// outside the vocabulary ([`crate::ErrorKind::UnknownTaskPlatform`]).
///
/// ```
/// use pulse_translator::taskcluster::translate;
/// use pulse_translator::Options;
/// use pulse_translator::{Message, Record, Status};
///
/// let body = br#"{"runId": 0, "status": {"taskId": "fxnfF4hJRbq2uSO5DEAK1A",
///   "workerType": "t-linux-large", "state": "failed", "runs": [{"runId": 0,
///   "state": "failed", "reasonResolved": "failed", "scheduled": "2020-01-23T19:34:49.624Z",
///   "resolved": "2020-01-23T20:00:16.794Z"}]}, "task": {"tags": {"kind": "test",
///   "label": "test-linux1804-64-qr/debug-mochitest-browser-chrome-e10s-3"}}}"#;
/// let cc = vec!["route.tc-treeherder.v2.autoland.fb6b61e49217d835b2d6e435560424aab10d5475.105840".to_string()];
/// let message = Message::new(
///     "exchange/taskcluster-queue/v1/task-failed",
///     "primary.fxnfF4hJRbq2uSO5DEAK1A.0.aws.i-0323.gecko-t.t-linux-large.gecko-level-3.fyLj._",
///     body.to_vec(),
/// )
/// .with_cc(cc);
/// let Record::Test(test) = translate(&message, &Options::default())? else {
///     panic!("a test task makes a test record");
/// };
/// assert_eq!(test.job.tree, "autoland");
/// assert_eq!(test.job.platform, "linux64");
/// assert_eq!(test.os, "linux1804-64-qr");
/// assert_eq!(test.test, "mochitest-browser-chrome-e10s-3");
/// assert_eq!(test.job.status, Some(Status::Failure));
/// # Ok::<(), pulse_translator::Error>(())
/// ```
pub fn translate(msg: &Message, options: &Options) -> Result<Record, Error> {
    if msg.exchange == crate::exchanges::TASK_GROUP_RESOLVED {
        return group::translate(msg);
    }
    record::translate(msg, None, options)
}

/// Translates a message, completing it from its task's definition: routes
/// and tags the message lacks, the label from `metadata.name` when there is
/// no `label` tag, the kind from `extra.treeherder.jobKind`, the build type
/// from `extra.treeherder.collection` when it names opt, debug or pgo, and
/// the tier. What the message says about its run (state, times, worker)
/// always wins. A name that is not a label (tasks before 2018) falls back
/// on `extra.treeherder.machine.platform`, the collection and `extra.suite`.
pub fn translate_with_definition(
    msg: &Message,
    definition: &TaskDefinition,
    options: &Options,
) -> Result<Record, Error> {
    record::translate(msg, Some(definition), options)
}
