//! A generator of today's Taskcluster Pulse traffic: one push to a Firefox
//! tree, its task graph run to the end, as the queue's messages.
//!
//! [`Push::builder`] makes a [`Push`]: a decision task and the thousands of
//! tasks it creates (builds, signing, repackaging, lints, mochitests,
//! web-platform-tests…), each a [`SyntheticTask`] whose [`SyntheticRun`]s
//! went pending, ran and ended [`Outcome::Completed`], [`Outcome::Failed`]
//! or [`Outcome::Exception`] with an [`ExceptionReason`]; some exceptions
//! were rerun. [`Push::messages`] turns it into the [`SyntheticMessage`]s
//! the queue publishes (exchange, routing key, `CC` routes, JSON body), in
//! the order it publishes them. Everything comes from one seed: the same
//! settings make the same push, byte for byte. No I/O, no threads.
//!
//! Its neighbours: `pulse-translator` reads these messages
//! (`taskcluster::translate`) as it reads real ones; the `pulse-monitor`
//! command writes them as `record`'s JSON lines (`synthetic-push`) or
//! publishes them to a broker (`publish --synthetic-push`), for `watch` and
//! `replay` to read.
//!
//! ```
//! use pulse_synthetic::{Outcome, Push};
//! use pulse_translator::exchanges;
//!
//! let push = Push::builder().tree("autoland").tasks(300).seed(7).build();
//! let messages = push.messages();
//! // The push message comes first, then the decision task, whose group
//! // is the push's.
//! assert_eq!(messages[0].exchange, exchanges::HG_PUSHES);
//! assert_eq!(messages[1].exchange, exchanges::TASK_DEFINED);
//! assert!(messages[1].routing_key.starts_with(&format!("primary.{}._.", push.decision_task_id)));
//! // Each task is defined, then each run: pending, running, then
//! // completed, failed or exception; the group resolves at most twice.
//! let runs: usize = push.tasks.iter().map(|t| t.runs.len()).sum();
//! assert!(messages.len() <= 1 + push.tasks.len() + 3 * runs + 2);
//! let failed = push.tasks.iter().filter(|t| t.outcome() == Outcome::Failed).count();
//! let lints = push.tasks.iter().filter(|t| t.kind == "source-test").count();
//! assert!(failed < push.tasks.len() / 10 && lints > 0);
//! // Every message about a task carries the push's Treeherder route in CC.
//! let route = format!("route.{}", push.treeherder_route());
//! let about_tasks = messages.iter().filter(|m| m.routing_key.starts_with("primary.") && m.exchange != exchanges::TASK_GROUP_RESOLVED);
//! assert!(about_tasks.clone().count() > 300 && about_tasks.into_iter().all(|m| m.cc.contains(&route)));
//! ```
//!
//! # What the queue publishes
//!
//! From `taskcluster/taskcluster` (`services/queue/`, read at 9d59eb59,
//! August 2026):
//!
//! - Five exchanges, `exchange/taskcluster-queue/v1/task-{pending,running,
//!   completed,failed,exception}` (`src/exchanges.js`); routing key
//!   `primary.<taskId>.<runId>.<workerGroup>.<workerId>.<provisionerId>.<workerType>.<schedulerId>.<taskGroupId>._`,
//!   `_` for what the message does not name (a pending run has no worker);
//!   `CC`: each of the task's routes as `route.<route>`.
//! - Bodies as `schemas/v1/task-*-message.yml` allow: `version`, `status`
//!   (`task-status.yml`; as `src/data.js` `Task.status()` fills it, fields a
//!   run has not got yet left out), `runId`, `task.tags`; running adds
//!   `workerGroup`, `workerId`, `takenUntil`; the resolutions add
//!   `workerGroup` and `workerId`, except the deadline resolver's.
//! - Reruns. When a worker reports `worker-shutdown` or `intermittent-task`
//!   (`src/api.js`, `reportException`) or a claim expires (`claim-expired`,
//!   `src/claimresolver.js`), the database function (`resolve_task`,
//!   `check_task_claim` in `db/versions/0124.yml`) resolves the run *and*
//!   adds a pending run (`reasonCreated` `retry`, or `task-retry` after
//!   `intermittent-task`) while `retriesLeft > 0`, decrementing it. The
//!   queue then publishes `task-exception` for the old run, its status
//!   already showing the new pending run (task state `pending`), and right
//!   after it `task-pending` for the new run with the same status. Without
//!   retries left, only `task-exception`. Other reasons are never rerun.
//! - `deadline-exceeded`: the deadline resolver (`src/deadlineresolver.js`,
//!   `cancel_task`) resolves a pending or running run, or, for a task that
//!   never became pending, makes a run only to resolve it (`reasonCreated`
//!   `exception`); it publishes `task-exception` naming no worker, a minute
//!   after the deadline (`deadlineDelay`). `canceled` can likewise end a
//!   pending run. A claim lasts 20 minutes (`claimTimeout`) unless reclaimed.
//! - `task-defined` when each task is created (no run yet: `runId` left out
//!   and `_` in its place in the routing key, status `unscheduled`), and
//!   `task-group-resolved` (`taskGroupId`, `schedulerId`, `expires`;
//!   routing key `primary.<taskGroupId>.<schedulerId>._`) a few seconds
//!   after the group's last task resolved: once for most pushes, twice for
//!   some, never for others ([`Push::group_resolved_at`]).
//! - Before them all, hg.mozilla.org's push message (`exchange/hgpushes/v2`,
//!   `changegroup.1`, routing key the repository's path; format from
//!   mozilla/version-control-tools `docs/hgmo/notifications.rst`).
//! - [`Push::truth`] counts the push's tasks by final result, as tests'
//!   independent truth ([`PushTruth`]).
//! - [`Push::queue_api`] is what the queue's API answers about the push:
//!   artifact lists (builds' installers, test packages, symbols), test
//!   definitions (`MOZ_FETCHES` naming the build) and failed test runs'
//!   errorsummaries, whose failures [`Push::failures`] gives.
//!
//! # The tasks of a push
//!
//! From Firefox's in-tree configuration (the mirror `shtrom/firefox` of
//! `mozilla-firefox/firefox`, 2026, and `mozilla/gecko-dev`):
//!
//! - Kinds are the folders of `taskcluster/kinds/`; the `kind` tag is the
//!   folder's name (`transforms/task.py`). Tests are split between the
//!   `mochitest`, `reftest`, `web-platform-tests` and `browsertime` kinds
//!   and `test` (xpcshell, gtest, talos, marionette…).
//! - Labels: `build-<platform>/<type>`; `test-<test-platform>/<type>-<suite>[-<variant>][-<chunk>]`
//!   (`transforms/test/__init__.py`; Android tests add `geckoview-`; variant
//!   suffixes from `test_configs/variants.yml`); `<kind>-<platform>/<type>`
//!   for the kinds built from a build (`build-signing`, `repackage`,
//!   `upload-symbols`…); `source-test-mozlint-<lint>` and
//!   `source-test-python-<suite>[-<platform>/<type>]`;
//!   `spidermonkey-sm-<variant>-<platform>/<type>` (names from
//!   `config.yml`'s ridealong builds); `docker-image-<image>`,
//!   `toolchain-<name>`, `fetch-<name>`. The decision task (`.taskcluster.yml`)
//!   is `Gecko Decision Task`, kind `decision-task`, and actions are
//!   `Action: <title>`, kind `action-callback`; neither has a `label` tag.
//! - Tags (`transforms/task.py`): `createdForUser`, `kind`, `label`,
//!   `retrigger`, `project`, `trust-domain`, and `worker-implementation` and
//!   `os` when the worker type is an alias (not for docker-image or signing
//!   tasks, which name their implementation); tests add `test-suite`,
//!   `test-platform` and `test-variant`.
//! - Routes: `tc-treeherder.v2.<project>.<revision>` (no pushlog id any
//!   more) on every task Treeherder shows; builds add the
//!   `index.gecko.v2.<project>…firefox.<job>` routes (`V2_ROUTE_TEMPLATES`,
//!   `V2_SHIPPABLE_TEMPLATES`, trunk on autoland and mozilla-central);
//!   docker images, toolchains and fetches their
//!   `index.gecko.cache.level-<n>.<type>.<name>…` routes (taskgraph's
//!   `util/cached_tasks.py`); the decision task its `index…decision` and
//!   `notify.email…` routes. `jobKind` is `build` for builds, signing,
//!   repackaging, toolchains, fetches; `test` for tests and source-tests;
//!   `other` for docker images, the decision task and actions.
//! - Worker pools: `config.yml`'s `workers.aliases` (`gecko-3/b-linux-gcp`
//!   builds, `gecko-t/t-linux-docker` and `win11-64-25h2` tests,
//!   `releng-hardware/gecko-t-osx-1500-m4` Macs, `scriptworker-k8s`
//!   signing); `gecko-1` and `gecko-level-1` on try; priority from
//!   `task-priority` (`low` on autoland, `medium` on mozilla-central).
//! - Dependencies: every task waits for the decision task (taskgraph's
//!   `create.py`); builds' neighbours for their build; tests for their
//!   build; shippable profile-guided builds for `generate-profile`, which
//!   waits for `instrumented-build`. A task whose dependency did not
//!   complete never becomes pending and ends `deadline-exceeded` a day later.
//! - Not on pushes: release kinds (beetmover, partials, balrog…) have a
//!   promote or ship `shipping_phase`, which `target_tasks.py` filters out
//!   of push graphs; they run in release graphs only.
//!
//! # Proportions
//!
//! The full graph is the catalog of test platforms × suites × variants ×
//! chunks: 46 test platforms of `test-platforms.yml` (those that run on
//! integration trees), their `test-sets.yml` sets, the variants and chunk
//! counts of the kinds' `kind.yml` (`mochitest-browser-chrome` 16 chunks
//! on Linux debug, 8 elsewhere; `web-platform-tests` 10 to 32; `xpcshell` 2
//! to 16…), 37 build platforms and what hangs off them. That is a backstop
//! push, where nothing is optimized away: about 3050 tasks. The default
//! push (3000 tasks, seed 1) has:
//!
//! | kind | jobKind | tasks | share |
//! |---|---|---|---|
//! | `mochitest` | test | 1232 | 40.7% |
//! | `web-platform-tests` | test | 689 | 22.8% |
//! | `test` | test | 542 | 17.9% |
//! | `reftest` | test | 308 | 10.2% |
//! | `browsertime` | test | 74 | 2.4% |
//! | `source-test` | test | 42 | 1.4% |
//! | `build` | build | 37 | 1.2% |
//! | `spidermonkey` | build | 16 | 0.5% |
//! | `action-callback` | other | 14 | 0.5% |
//! | `build-signing` | build | 11 | 0.4% |
//! | `upload-symbols`, `repackage`, `toolchain` | build | 9, 8, 8 | 0.8% |
//! | `artifact-build`, `generate-profile`, `instrumented-build` | build | 6 each | 0.6% |
//! | `build-mac-signing`, `docker-image`, `fetch`, `repackage-signing` | build, other | 5, 4, 3, 3 | 0.5% |
//! | `hazard`, `repackage-signing-msix`, `decision-task` | build, other | 2, 2, 1 | 0.2% |
//!
//! Smaller pushes keep the builds and their neighbours and sample the
//! tests, each test kind in its share, as the optimizer leaves tests out
//! of most real pushes (an average autoland push ran about 590 tasks in
//! 2017, a mozilla-central push about 1900: Greg Arndt's Taskcluster
//! statistics of March 2017). Bigger pushes than the graph add retriggers:
//! `Action: Retrigger` tasks, each making 5 to 20 copies of a test under
//! the same label. Approximations, not facts: the chunks of suites whose
//! yml was not read (`mochitest-media` 2, `web-platform-tests-wdspec` and
//! `-canvas` 2, `geckoview-junit` 3, privatebrowsing wpt a third of the
//! main suite), the sample of browsertime pages, which docker images,
//! toolchains and fetches run (they run only when their inputs change,
//! so a push has a few), and the lints that run (each runs only when its
//! files change; all of them here).
//!
//! # Outcomes and times
//!
//! Approximations, chosen to look like a normal day, not measured: per run,
//! tests fail 2.5% of the time (intermittents), lints 2%, builds 1%,
//! signing 0.2%; cloud workers are shut down under 1.5% of test runs and 1%
//! of builds (preemption), claims expire under 0.2 to 0.6%, tasks ask for
//! a retry (`intermittent-task`) in 0.6% of test runs and 0.4% of signing
//! runs, and `canceled`, `resource-unavailable`, `internal-error`,
//! `malformed-payload` are rarer still; hardware pools (Android phones,
//! Macs) leave 0.3 to 1% of their runs pending until the deadline. A task
//! runs at most three times (the queue allows `retries`, 5 by default;
//! the decision task of a level-3 push has none). Sheriffs retrigger 30%
//! of failed tests. Waits for a worker, run lengths (builds 25 to 80
//! minutes, tests 5 to 70) and the push time (January 2026, from the seed)
//! are made up in plausible ranges, as are worker groups and ids (GCP
//! zones and instance ids, Azure `vm-…`, `macmini-…`) and the pushers'
//! addresses (`@example.com`).
//!
//! Modules: `catalog` (the tasks of one full push, as Firefox's taskgraph
//! defines them), `push` (choosing a push's tasks and running them through
//! the queue's states on a simulated clock), `message` (the queue's messages
//! about them) and `rng` (a small seeded generator).

#![deny(missing_docs)]

mod catalog;
mod message;
mod push;
mod queue_api;
mod rng;
mod truth;

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};

pub use message::SyntheticMessage;
pub use pulse_translator::JobKind;
pub use push::{InvalidPush, PushBuilder};
pub use queue_api::{ApiAnswer, SyntheticFailure};
pub use truth::PushTruth;

/// One push: its decision task and the task group it created, every task
/// run to its end. Built by [`Push::builder`]; [`Push::messages`] is what
/// the queue publishes about it.
#[derive(Clone, Debug)]
pub struct Push {
    /// The tree (Treeherder project), e.g. `autoland`.
    pub tree: String,
    /// The pushed revision: 40 lowercase hex digits.
    pub revision: String,
    /// The pushlog id of the push.
    pub push_id: u64,
    /// Who pushed: the `createdForUser` tag.
    pub owner: String,
    /// When hg.mozilla.org accepted the push.
    pub pushed_at: DateTime<Utc>,
    /// The decision task's id, which is also the `taskGroupId` of every
    /// task of the push (actions included).
    pub decision_task_id: String,
    /// Every task, the decision task first, then in the order the taskgraph
    /// lists them; retriggers and the actions that made them last.
    pub tasks: Vec<SyntheticTask>,
    /// When the queue announced `task-group-resolved` for the push's group:
    /// once for most pushes, twice for some (a group resolves again after
    /// tasks are added), never for others.
    pub group_resolved_at: Vec<DateTime<Utc>>,
}

impl Push {
    /// A builder with the defaults: autoland, about 3000 tasks, seed 1.
    pub fn builder() -> PushBuilder {
        PushBuilder::new()
    }

    /// The task group every task of the push belongs to.
    pub fn task_group_id(&self) -> &str {
        &self.decision_task_id
    }

    /// The route that puts a task on Treeherder:
    /// `tc-treeherder.v2.<tree>.<revision>`.
    pub fn treeherder_route(&self) -> String {
        format!("tc-treeherder.v2.{}.{}", self.tree, self.revision)
    }

    /// Every message the queue publishes about the push, in the order it
    /// publishes them; see [`SyntheticMessage`].
    pub fn messages(&self) -> Vec<SyntheticMessage> {
        message::messages(self)
    }
}

/// One task of a push and how each of its runs ended.
#[derive(Clone, Debug, PartialEq)]
pub struct SyntheticTask {
    /// The task id (22 characters of slugid).
    pub task_id: String,
    /// The `label` tag, e.g. `test-linux2404-64/opt-mochitest-plain-3`; for
    /// the decision task and actions, which carry no `label` tag, their
    /// name (`Gecko Decision Task`, `Action: Retrigger`).
    pub label: String,
    /// The `kind` tag: the folder of `taskcluster/kinds/` that made the
    /// task (`build`, `mochitest`, `source-test`…), or `decision-task`
    /// and `action-callback`.
    pub kind: String,
    /// What Treeherder shows the task as (`extra.treeherder.jobKind`).
    pub job_kind: JobKind,
    /// The platform in the label: the test platform for tests
    /// (`linux2404-64`), the build platform for builds (`linux64-shippable`).
    pub platform: Option<String>,
    /// The build type in the label: `opt` or `debug`.
    pub build_type: Option<String>,
    /// The provisioner of its worker pool, e.g. `gecko-t`.
    pub provisioner_id: String,
    /// The worker type, e.g. `t-linux-docker`.
    pub worker_type: String,
    /// `schedulerId`: `gecko-level-3` (`gecko-level-1` on try).
    pub scheduler_id: String,
    /// The task's priority, e.g. `low` on autoland.
    pub priority: String,
    /// `task.tags`, as every message carries them.
    pub tags: BTreeMap<String, String>,
    /// `task.routes`; messages carry them in `CC` as `route.<route>`.
    pub routes: Vec<String>,
    /// The tasks this one waited for.
    pub dependencies: Vec<String>,
    /// When the task was created.
    pub created: DateTime<Utc>,
    /// When the queue gives up on it (a day after creation).
    pub deadline: DateTime<Utc>,
    /// When the queue forgets it.
    pub expires: DateTime<Utc>,
    /// `task.retries`: automatic reruns allowed (5, the queue's default; 0
    /// for the decision task of a push to a level-3 tree).
    pub retries: u32,
    /// Every run, in order; the last one is how the task ended.
    pub runs: Vec<SyntheticRun>,
}

impl SyntheticTask {
    /// How the task ended: its last run's end.
    pub fn outcome(&self) -> Outcome {
        self.runs
            .last()
            .map(|run| run.outcome)
            .expect("a task has at least one run")
    }
}

/// One run of a task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntheticRun {
    /// 0 for the first run, then 1, 2 for automatic reruns.
    pub run_id: u32,
    /// `scheduled`, `retry` (after `worker-shutdown` or `claim-expired`),
    /// `task-retry` (after `intermittent-task`) or `exception` (a run made
    /// only to resolve a task that never became pending).
    pub reason_created: &'static str,
    /// How the run ended.
    pub outcome: Outcome,
    /// When the run became pending.
    pub scheduled: DateTime<Utc>,
    /// When a worker claimed it; `None` if it never ran.
    pub started: Option<DateTime<Utc>>,
    /// When it was resolved.
    pub resolved: DateTime<Utc>,
    /// The worker group that ran it.
    pub worker_group: Option<String>,
    /// The worker that ran it.
    pub worker_id: Option<String>,
    /// When the worker's last claim on the run would have expired.
    pub taken_until: Option<DateTime<Utc>>,
}

impl SyntheticRun {
    /// `reasonResolved`: `completed`, `failed` or the exception's reason.
    pub fn reason_resolved(&self) -> &'static str {
        self.outcome.reason_resolved()
    }
}

/// How a run, or a task, ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// `completed`: the task succeeded.
    Completed,
    /// `failed`: the task ran and failed (a test failure, a build error).
    Failed,
    /// `exception`: the task could not run to its end.
    Exception {
        /// The run's `reasonResolved`.
        reason: ExceptionReason,
    },
}

impl Outcome {
    /// The run state: `completed`, `failed` or `exception`.
    pub fn state(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::Failed => "failed",
            Outcome::Exception { .. } => "exception",
        }
    }

    /// `reasonResolved`: `completed`, `failed` or the exception's reason.
    pub fn reason_resolved(self) -> &'static str {
        match self {
            Outcome::Exception { reason } => reason.as_str(),
            other => other.state(),
        }
    }
}

/// Why the queue resolved a run as `exception` (`reasonResolved` in the
/// queue's `task-status` schema, less `superseded`, which the queue keeps
/// only for compatibility).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ExceptionReason {
    /// Someone (or an action) canceled the task, pending or running.
    Canceled,
    /// The task's deadline passed before it resolved; the deadline
    /// resolver resolves it, whether it ran or not.
    DeadlineExceeded,
    /// The worker stopped reclaiming the run; the queue reruns the task
    /// while retries are left.
    ClaimExpired,
    /// The worker was shut down (a preempted cloud instance); rerun.
    WorkerShutdown,
    /// The task asked to be rerun (a retry exit status); rerun.
    IntermittentTask,
    /// The worker could not understand the payload.
    MalformedPayload,
    /// A resource the task needs was missing.
    ResourceUnavailable,
    /// The worker failed on its side.
    InternalError,
}

impl ExceptionReason {
    /// Every reason, in the schema's order.
    pub const ALL: [ExceptionReason; 8] = [
        ExceptionReason::DeadlineExceeded,
        ExceptionReason::Canceled,
        ExceptionReason::ClaimExpired,
        ExceptionReason::WorkerShutdown,
        ExceptionReason::MalformedPayload,
        ExceptionReason::ResourceUnavailable,
        ExceptionReason::InternalError,
        ExceptionReason::IntermittentTask,
    ];

    /// The reason as the queue spells it, e.g. `worker-shutdown`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExceptionReason::Canceled => "canceled",
            ExceptionReason::DeadlineExceeded => "deadline-exceeded",
            ExceptionReason::ClaimExpired => "claim-expired",
            ExceptionReason::WorkerShutdown => "worker-shutdown",
            ExceptionReason::IntermittentTask => "intermittent-task",
            ExceptionReason::MalformedPayload => "malformed-payload",
            ExceptionReason::ResourceUnavailable => "resource-unavailable",
            ExceptionReason::InternalError => "internal-error",
        }
    }

    /// True for the reasons after which the queue reruns the task while it
    /// has retries left: `claim-expired`, `worker-shutdown`,
    /// `intermittent-task`.
    pub fn is_retried(self) -> bool {
        matches!(
            self,
            ExceptionReason::ClaimExpired
                | ExceptionReason::WorkerShutdown
                | ExceptionReason::IntermittentTask
        )
    }
}

impl fmt::Display for ExceptionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
