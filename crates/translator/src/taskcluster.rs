//! Taskcluster queue messages (`exchange/taskcluster-queue/v1/task-*`) read
//! into the same [`Record`]s as buildbot messages, so a filter such as
//! `--tree autoland --platform linux64 --buildtype debug --test
//! mochitest-browser-chrome` means the same thing in both eras.
//!
//! A message is its exchange, routing key, `CC` routes and JSON body
//! ([`TaskMessage`]). [`translate`] reads what the message itself says: the
//! tree and revision from the `tc-treeherder.v2.<project>.<revision>` route
//! (routing key or `CC`), and platform, build type, kind and test from the
//! task's `label` tag ([`parse_label`]). Messages without tags (before
//! 2019) or of kinds the tags cannot place (partials, signing…) need the
//! task definition: [`translate_with_definition`] merges a
//! [`TaskDefinition`] in. Fetching definitions is left to the caller.
//!
//! | record field | from |
//! |---|---|
//! | `tree`, `revision` | `tc-treeherder.v2.<project>.<revision>[.<pushid>]` route |
//! | `platform` | generic family of the label's platform ([`platform_family`]) |
//! | `os` (tests) | the label's platform, e.g. `linux1804-64-qr` |
//! | `buildtype` | the label's, or `extra.treeherder.collection` when it says opt, debug or pgo |
//! | `test` (tests) | the label after the build type, in full; see [`test_suite`] for matching |
//! | `talos` (tests) | talos, raptor and browsertime suites ([`is_performance_test`], `test-type` tag) |
//! | `tags` (builds) | the task kind unless `build`, then the platform's variants (`shippable`, `asan`…) |
//! | `status` | the run's state and `reasonResolved`; see [`run_status`] |
//! | `logurl` | `<root>/api/queue/v1/task/<taskId>/runs/<runId>/artifacts/public/logs/live_backing.log` |
//! | `builddate` | the run's `resolved` time, else its `scheduled` time, in seconds |
//! | `buildername` | the label |
//! | `product` | the app in a performance test's name, else `firefox` (`thunderbird` on `comm-*` trees) for desktop platforms, else none |
//! | `locale` | a locale between kind and platform (`partials-ach-…`), else `en-US` |
//! | `key` | the routing key |
//! | `task_id`, `run_id`, `worker_type`, `slave` | the status and run |
//! | `tier` | `extra.treeherder.tier` (definition only) |
//! | `timestamp` | [`TaskclusterOptions::clock`] |

mod kinds;
mod label;

use std::collections::BTreeMap;

use chrono::DateTime;
use serde::Deserialize;

use crate::record::{JobKind, JobResult, TaskRecord, TaskState};
use crate::{BuildRecord, BuildType, Clock, Error, ErrorKind, JobInfo, Record, TestRecord};

pub use kinds::job_kind;
pub use label::{
    is_performance_test, parse_label, platform_family, test_suite, test_suite_tokens, TaskLabel,
};

/// The Firefox CI deployment's root URL, the default for log URLs.
pub const DEFAULT_ROOT_URL: &str = "https://firefox-ci-tc.services.mozilla.com";

/// One Taskcluster queue message as it came off the wire.
#[derive(Clone, Copy, Debug)]
pub struct TaskMessage<'a> {
    /// e.g. `exchange/taskcluster-queue/v1/task-completed`.
    pub exchange: &'a str,
    /// `primary.<taskId>.<runId>.…` or `route.<route>`.
    pub routing_key: &'a str,
    /// The `CC` header: the task's routes as `route.<route>`.
    pub cc: &'a [String],
    /// The JSON body.
    pub body: &'a [u8],
}

/// How messages are translated.
#[derive(Clone, Debug)]
pub struct TaskclusterOptions {
    /// The deployment's root URL, without a trailing slash; log URLs start with it.
    pub root_url: String,
    /// Now, for the records' `timestamp`; injectable so tests are repeatable.
    pub clock: Clock,
}

impl Default for TaskclusterOptions {
    fn default() -> Self {
        TaskclusterOptions {
            root_url: DEFAULT_ROOT_URL.to_string(),
            clock: Clock::System,
        }
    }
}

/// The parts of a task definition (`queue/v1/task/<taskId>`) that complete
/// a message: all optional, unknown fields ignored.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct TaskDefinition {
    /// `metadata.name`: the label for tasks that have no `label` tag.
    pub metadata: TaskMetadata,
    /// The routes, e.g. `tc-treeherder.v2.autoland.<revision>.<pushid>`.
    pub routes: Vec<String>,
    /// The tags, e.g. `label`, `kind`, `os`, `test-type`.
    pub tags: BTreeMap<String, String>,
    /// `extra`: Treeherder's view of the task, and the test suite.
    pub extra: TaskExtra,
}

/// A task definition's `metadata`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct TaskMetadata {
    /// The task's name; for Gecko tasks since 2018, its label.
    pub name: Option<String>,
}

/// A task definition's `extra`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct TaskExtra {
    /// `extra.treeherder`.
    pub treeherder: Option<TreeherderExtra>,
    /// `extra.suite`: a name (`mochitest-a11y`) or, in older tasks,
    /// `{"name": …, "flavor": …}`.
    pub suite: Option<serde_json::Value>,
    /// `extra.chunks`: `{"current": n, "total": m}`.
    pub chunks: Option<TaskChunks>,
}

/// A test task's chunk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct TaskChunks {
    /// This chunk, from 1.
    pub current: u32,
    /// How many chunks the suite runs in.
    pub total: u32,
}

/// A task definition's `extra.treeherder`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TreeherderExtra {
    /// The option collection, e.g. `{"debug": true}`, `{"asan": true}`.
    pub collection: BTreeMap<String, bool>,
    /// The machine Treeherder shows the job on.
    pub machine: TreeherderMachine,
    /// The job symbol, e.g. `bc3`.
    pub symbol: Option<String>,
    /// The group symbol, e.g. `M-e10s`.
    pub group_symbol: Option<String>,
    /// `build`, `test` or `other`.
    pub job_kind: Option<String>,
    /// 1 (sheriffed) to 3.
    pub tier: Option<u8>,
}

/// `extra.treeherder.machine`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct TreeherderMachine {
    /// Treeherder's platform, e.g. `linux64-qr`, `android-em-7-0-x86_64`.
    pub platform: Option<String>,
}

impl TaskDefinition {
    /// Reads a definition as the queue serves it.
    pub fn from_json(json: &[u8]) -> Result<TaskDefinition, Error> {
        serde_json::from_slice(json).map_err(|e| malformed(format!("task definition: {e}")))
    }
}

/// What a `tc-treeherder` route says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeherderRoute {
    /// The project (tree), e.g. `autoland`.
    pub project: String,
    /// The hg revision, 12 to 40 hex digits.
    pub revision: String,
    /// The pushlog id, when the route has one.
    pub push_id: Option<u64>,
}

/// Reads `tc-treeherder.v2.<project>.<revision>[.<pushid>]`, with or
/// without a leading `route.`. `Ok(None)` for routes of other kinds
/// (`index.…`, `tc-treeherder-staging.…`, `primary.…`).
pub fn parse_treeherder_route(route: &str) -> Result<Option<TreeherderRoute>, Error> {
    let route = route.strip_prefix("route.").unwrap_or(route);
    let Some(rest) = route.strip_prefix("tc-treeherder.") else {
        return Ok(None);
    };
    let bad = || {
        Error::new(ErrorKind::BadTreeherderRoute {
            route: route.to_string(),
        })
    };
    let parts: Vec<&str> = rest.split('.').collect();
    let (project, revision, push_id) = match parts.as_slice() {
        ["v2", project, revision] => (*project, *revision, None),
        ["v2", project, revision, push_id] => (*project, *revision, Some(*push_id)),
        _ => return Err(bad()),
    };
    let project_ok = !project.is_empty()
        && project
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let revision_ok = (12..=40).contains(&revision.len())
        && revision
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !project_ok || !revision_ok {
        return Err(bad());
    }
    let push_id = match push_id {
        Some(id) => Some(id.parse().map_err(|_| bad())?),
        None => None,
    };
    Ok(Some(TreeherderRoute {
        project: project.to_string(),
        revision: revision.to_string(),
        push_id,
    }))
}

/// The buildbot result code for a run, `None` while it has none
/// (`pending`, `running`, `unscheduled`).
///
/// | run state | `reasonResolved` | code |
/// |---|---|---|
/// | completed | any | 0 success |
/// | failed | any | 2 failure (testfailed) |
/// | exception | `canceled`, `superseded` | 6 cancelled |
/// | exception | `claim-expired`, `worker-shutdown`, `intermittent-task` | 5 retry (the queue reruns the task) |
/// | exception | `deadline-exceeded`, `malformed-payload`, `internal-error`, `resource-unavailable`, anything else | 4 exception |
///
/// An unknown state is [`ErrorKind::MalformedTaskMessage`].
pub fn run_status(state: &str, reason_resolved: Option<&str>) -> Result<Option<i64>, Error> {
    Ok(match state {
        "pending" | "running" | "unscheduled" => None,
        "completed" => Some(0),
        "failed" => Some(2),
        "exception" => Some(match reason_resolved {
            Some("canceled" | "superseded") => 6,
            Some("claim-expired" | "worker-shutdown" | "intermittent-task") => 5,
            _ => 4,
        }),
        other => return Err(malformed(format!("unknown run state {other:?}"))),
    })
}

/// Translates a message from what it carries: its routes and `task.tags`.
///
/// Fails with a typed error when the message does not say enough: no
/// `tc-treeherder` route ([`ErrorKind::MissingTreeherderRoute`]), no label
/// ([`ErrorKind::MissingTaskLabel`]), a label or platform outside the
/// vocabulary ([`ErrorKind::UnknownLabelShape`],
/// [`ErrorKind::UnknownTaskPlatform`]). Every task kind becomes a record.
///
/// ```
/// use pulse_translator::taskcluster::{translate, TaskMessage, TaskclusterOptions};
/// use pulse_translator::Record;
///
/// let body = br#"{"runId": 0, "status": {"taskId": "fxnfF4hJRbq2uSO5DEAK1A",
///   "workerType": "t-linux-large", "state": "failed", "runs": [{"runId": 0,
///   "state": "failed", "reasonResolved": "failed", "scheduled": "2020-01-23T19:34:49.624Z",
///   "resolved": "2020-01-23T20:00:16.794Z"}]}, "task": {"tags": {"kind": "test",
///   "label": "test-linux1804-64-qr/debug-mochitest-browser-chrome-e10s-3"}}}"#;
/// let cc = ["route.tc-treeherder.v2.autoland.fb6b61e49217d835b2d6e435560424aab10d5475.105840".to_string()];
/// let message = TaskMessage {
///     exchange: "exchange/taskcluster-queue/v1/task-failed",
///     routing_key: "primary.fxnfF4hJRbq2uSO5DEAK1A.0.aws.i-0323.gecko-t.t-linux-large.gecko-level-3.fyLj._",
///     cc: &cc,
///     body,
/// };
/// let Record::Test(test) = translate(&message, &TaskclusterOptions::default())? else {
///     panic!("a test task makes a test record");
/// };
/// assert_eq!(test.job.tree, "autoland");
/// assert_eq!(test.job.platform, "linux64");
/// assert_eq!(test.os, "linux1804-64-qr");
/// assert_eq!(test.test, "mochitest-browser-chrome-e10s-3");
/// assert_eq!(test.job.status, Some(2));
/// # Ok::<(), pulse_translator::Error>(())
/// ```
pub fn translate(msg: &TaskMessage<'_>, options: &TaskclusterOptions) -> Result<Record, Error> {
    translate_inner(msg, None, options)
}

/// Translates a message, completing it from its task's definition: routes
/// and tags the message lacks, the label from `metadata.name` when there is
/// no `label` tag, the kind from `extra.treeherder.jobKind`, the build type
/// from `extra.treeherder.collection` when it names opt, debug or pgo, and
/// the tier. What the message says about its run (state, times, worker)
/// always wins. A name that is not a label (tasks before 2018) falls back
/// on `extra.treeherder.machine.platform`, the collection and `extra.suite`.
pub fn translate_with_definition(
    msg: &TaskMessage<'_>,
    definition: &TaskDefinition,
    options: &TaskclusterOptions,
) -> Result<Record, Error> {
    translate_inner(msg, Some(definition), options)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    status: Option<Status>,
    run_id: Option<u32>,
    worker_id: Option<String>,
    #[serde(default)]
    task: TaskSection,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    task_id: Option<String>,
    worker_type: Option<String>,
    #[serde(default)]
    runs: Vec<Run>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    run_id: Option<u32>,
    state: Option<String>,
    reason_created: Option<String>,
    reason_resolved: Option<String>,
    scheduled: Option<String>,
    resolved: Option<String>,
    worker_id: Option<String>,
}

#[derive(Default, Deserialize)]
struct TaskSection {
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

/// What a message says about the run it announces.
struct RunFacts {
    task_id: String,
    run_id: u32,
    state: TaskState,
    status: Option<i64>,
    reason_resolved: Option<String>,
    /// The queue added a run after this one because it retries the task.
    retried: bool,
    builddate: Option<i64>,
    worker_id: Option<String>,
    worker_type: Option<String>,
    tags: BTreeMap<String, String>,
}

impl RunFacts {
    fn read(msg: &TaskMessage<'_>) -> Result<RunFacts, Error> {
        if !crate::exchanges::TASK_ALL.contains(&msg.exchange) {
            return Err(Error::new(ErrorKind::UnknownTaskExchange {
                exchange: msg.exchange.to_string(),
            }));
        }
        let body: Body = serde_json::from_slice(msg.body).map_err(|e| malformed(e.to_string()))?;
        let status = body.status.ok_or_else(|| missing("status"))?;
        let task_id = status.task_id.ok_or_else(|| missing("status.taskId"))?;
        let run_id = body.run_id.ok_or_else(|| missing("runId"))?;
        let position = status
            .runs
            .iter()
            .position(|run| run.run_id == Some(run_id))
            .ok_or_else(|| missing("status.runs[runId]"))?;
        let run = &status.runs[position];
        let state_name = run
            .state
            .as_deref()
            .ok_or_else(|| missing("status.runs[].state"))?;
        let status_code = run_status(state_name, run.reason_resolved.as_deref())?;
        let state = match state_name {
            "pending" | "unscheduled" => TaskState::Pending,
            "running" => TaskState::Running,
            "completed" => TaskState::Completed,
            "failed" => TaskState::Failed,
            // run_status has refused every other state.
            _ => TaskState::Exception,
        };
        let retried = status.runs.get(position + 1).is_some_and(|next| {
            matches!(next.reason_created.as_deref(), Some("retry" | "task-retry"))
        });
        let builddate = match run.resolved.as_deref().or(run.scheduled.as_deref()) {
            Some(time) => Some(
                DateTime::parse_from_rfc3339(time)
                    .map_err(|e| malformed(format!("run time {time:?}: {e}")))?
                    .timestamp(),
            ),
            None => None,
        };
        Ok(RunFacts {
            task_id,
            run_id,
            state,
            status: status_code,
            reason_resolved: run.reason_resolved.clone(),
            retried,
            builddate,
            worker_id: run.worker_id.clone().or(body.worker_id),
            worker_type: status.worker_type,
            tags: body.task.tags,
        })
    }

    /// The result in Treeherder's words, as its Taskcluster handler and job
    /// loader derive it.
    fn result(&self, job_kind: JobKind) -> JobResult {
        match self.state {
            TaskState::Pending | TaskState::Running => JobResult::Unknown,
            TaskState::Completed => JobResult::Success,
            TaskState::Failed if job_kind == JobKind::Test => JobResult::Testfailed,
            TaskState::Failed => JobResult::Busted,
            TaskState::Exception if self.retried => JobResult::Retry,
            TaskState::Exception => match self.reason_resolved.as_deref() {
                Some("canceled") => JobResult::Usercancel,
                Some("superseded") => JobResult::Superseded,
                _ => JobResult::Exception,
            },
        }
    }
}

fn translate_inner(
    msg: &TaskMessage<'_>,
    definition: Option<&TaskDefinition>,
    options: &TaskclusterOptions,
) -> Result<Record, Error> {
    let mut run = RunFacts::read(msg)?;

    let definition_routes = definition.map(|d| d.routes.as_slice()).unwrap_or_default();
    let routes = std::iter::once(msg.routing_key)
        .chain(msg.cc.iter().map(String::as_str))
        .chain(definition_routes.iter().map(String::as_str));
    let route = find_treeherder_route(routes, &run.task_id)?;

    let mut tags = std::mem::take(&mut run.tags);
    if let Some(definition) = definition {
        for (key, value) in &definition.tags {
            tags.entry(key.clone()).or_insert_with(|| value.clone());
        }
    }
    let treeherder = definition.and_then(|d| d.extra.treeherder.as_ref());
    let label = tags
        .get("label")
        .cloned()
        .or_else(|| definition.and_then(|d| d.metadata.name.clone()))
        .ok_or_else(|| {
            Error::new(ErrorKind::MissingTaskLabel {
                task_id: run.task_id.clone(),
            })
        })?;
    // Tasks made before the `kind` tag (2018) have a label whose first
    // word is the kind, or only a name: then the definition's jobKind is
    // the best name there is.
    let named_kind = tags.get("kind").cloned().or_else(|| {
        let first = label.split('-').next().unwrap_or_default();
        let is_word = !first.is_empty()
            && first
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        (is_word && label.len() > first.len()).then(|| first.to_string())
    });
    let job_kind = treeherder
        .and_then(|th| th.job_kind.as_deref())
        .map(kinds::parse_job_kind)
        .or_else(|| named_kind.as_deref().map(kinds::job_kind))
        .unwrap_or(JobKind::Other);
    let task_kind = named_kind.unwrap_or_else(|| job_kind.as_str().to_string());

    let parsed = match (parse_label(&label), definition) {
        (Ok(parsed), _) => Some(parsed),
        (Err(err), _)
            if job_kind != JobKind::Other
                && matches!(err.kind(), ErrorKind::UnknownTaskPlatform { .. }) =>
        {
            // A build or test on a platform we do not know yet must be
            // heard, not filed away as some other task.
            return Err(err);
        }
        (Err(_), Some(definition)) => label_from_treeherder(definition),
        (Err(_), None) => None,
    };
    let buildtype = treeherder
        .and_then(|th| collection_buildtype(&th.collection))
        .or(parsed.as_ref().map(|p| p.buildtype));
    let logurl = format!(
        "{}/api/queue/v1/task/{}/runs/{}/artifacts/public/logs/live_backing.log",
        options.root_url.trim_end_matches('/'),
        run.task_id,
        run.run_id,
    );
    let timestamp = options.clock.now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    // Treeherder shows a job whose definition names no tier as tier 1.
    let tier = treeherder.map(|th| th.tier.unwrap_or(1));
    let result = run.result(job_kind);

    let placed = match (parsed, buildtype) {
        (Some(parsed), Some(buildtype)) if run.state.is_finished() => Some((parsed, buildtype)),
        _ => None,
    };
    if let Some((parsed, buildtype)) = placed {
        let test = parsed.test.clone().unwrap_or_default();
        if job_kind == JobKind::Build || (job_kind == JobKind::Test && !test.is_empty()) {
            let performance = is_performance_test(&test)
                || matches!(
                    tags.get("test-type").map(String::as_str),
                    Some("talos" | "raptor" | "browsertime")
                );
            let locale = parsed
                .qualifier(&task_kind)
                .filter(|q| looks_like_locale(q))
                .unwrap_or("en-US")
                .to_string();
            let mut job = JobInfo::new(
                msg.routing_key.to_string(),
                route.project,
                parsed.family.to_string(),
                buildtype,
            );
            job.product = product(&parsed, &test, performance, &job.tree);
            job.revision = Some(route.revision);
            job.builddate = run.builddate;
            job.buildername = Some(label);
            job.status = run.status;
            job.locale = Some(locale);
            job.logurl = Some(logurl);
            job.slave = run.worker_id;
            job.timestamp = Some(timestamp);
            job.task_id = Some(run.task_id);
            job.run_id = Some(run.run_id);
            job.worker_type = run.worker_type;
            job.tier = tier;
            job.result = Some(result);
            return Ok(if job_kind == JobKind::Build {
                let tags = (task_kind != "build")
                    .then(|| task_kind.clone())
                    .into_iter()
                    .chain(parsed.variants)
                    .collect();
                job.kind = Some(task_kind);
                Record::Build(BuildRecord { job, tags })
            } else {
                job.kind = Some(task_kind);
                Record::Test(TestRecord {
                    job,
                    os: parsed.platform,
                    test,
                    talos: performance,
                })
            });
        }
    }

    let platform = match parse_label(&label) {
        Ok(parsed) => Some(parsed.family.to_string()),
        Err(_) => treeherder
            .and_then(|th| th.machine.platform.as_deref())
            .and_then(platform_family)
            .map(str::to_string),
    };
    Ok(Record::Task(TaskRecord {
        kind: task_kind,
        job_kind,
        label,
        tree: route.project,
        revision: Some(route.revision),
        platform,
        buildtype,
        state: run.state,
        result,
        status: run.status,
        task_id: run.task_id,
        run_id: run.run_id,
        worker_type: run.worker_type,
        worker_id: run.worker_id,
        logurl: Some(logurl),
        builddate: run.builddate,
        tier,
        key: msg.routing_key.to_string(),
        timestamp: Some(timestamp),
    }))
}

/// The first well-formed `tc-treeherder` route; a malformed one is an
/// error only when no other route names the push.
fn find_treeherder_route<'r>(
    routes: impl Iterator<Item = &'r str>,
    task_id: &str,
) -> Result<TreeherderRoute, Error> {
    let mut first_error = None;
    for route in routes {
        match parse_treeherder_route(route) {
            Ok(Some(found)) => return Ok(found),
            Ok(None) => {}
            Err(err) => {
                first_error.get_or_insert(err);
            }
        }
    }
    Err(first_error.unwrap_or_else(|| {
        Error::new(ErrorKind::MissingTreeherderRoute {
            task_id: task_id.to_string(),
        })
    }))
}

/// A label built from `extra.treeherder` for tasks whose name is not a label.
fn label_from_treeherder(definition: &TaskDefinition) -> Option<TaskLabel> {
    let th = definition.extra.treeherder.as_ref()?;
    let platform = th.machine.platform.as_deref()?;
    let mut parsed = parse_label(&format!("x-{platform}/opt")).ok()?;
    if let Some(buildtype) = collection_buildtype(&th.collection) {
        parsed.buildtype = buildtype;
    }
    let suite = match &definition.extra.suite {
        Some(serde_json::Value::String(name)) => Some(name.clone()),
        Some(serde_json::Value::Object(suite)) => {
            let name = suite.get("name").and_then(|n| n.as_str());
            // "browser-chrome-chunked" is how chunked flavors were spelled.
            let flavor = suite
                .get("flavor")
                .and_then(|f| f.as_str())
                .map(|f| f.trim_end_matches("-chunked"));
            match (name, flavor) {
                (Some(name), Some(flavor)) if !flavor.starts_with(name) => {
                    Some(format!("{name}-{flavor}"))
                }
                (_, Some(flavor)) => Some(flavor.to_string()),
                (Some(name), None) => Some(name.to_string()),
                (None, None) => None,
            }
        }
        _ => None,
    };
    parsed.test = suite.map(|suite| match definition.extra.chunks {
        Some(chunks) if chunks.total > 1 => format!("{suite}-{}", chunks.current),
        _ => suite,
    });
    parsed.prefix = String::new();
    Some(parsed)
}

/// The build type an option collection names, when it names exactly one of
/// opt, debug and pgo (`asan`, `ccov`… leave the label's).
fn collection_buildtype(collection: &BTreeMap<String, bool>) -> Option<BuildType> {
    let mut named = BuildType::ALL
        .into_iter()
        .filter(|bt| collection.get(bt.as_str()) == Some(&true));
    match (named.next(), named.next()) {
        (Some(buildtype), None) => Some(buildtype),
        _ => None,
    }
}

fn product(parsed: &TaskLabel, test: &str, performance: bool, tree: &str) -> Option<String> {
    const APPS: [(&str, &str); 7] = [
        ("firefox", "firefox"),
        ("geckoview", "geckoview"),
        ("fenix", "fenix"),
        ("fennec", "fennec"),
        ("refbrow", "reference-browser"),
        ("chrome", "chrome"),
        ("chromium", "chromium"),
    ];
    if performance {
        let app = test
            .split('-')
            .find_map(|token| APPS.iter().find(|(t, _)| *t == token).map(|(_, app)| *app));
        if let Some(app) = app {
            return Some(app.to_string());
        }
    }
    if parsed.family == "android" {
        // fennec, geckoview, fenix and the reference browser all test here.
        return None;
    }
    Some(
        if tree.starts_with("comm-") {
            "thunderbird"
        } else {
            "firefox"
        }
        .to_string(),
    )
}

fn looks_like_locale(qualifier: &str) -> bool {
    let mut parts = qualifier.split('-');
    let language = parts.next().unwrap_or_default();
    (2..=3).contains(&language.len())
        && language.bytes().all(|b| b.is_ascii_lowercase())
        && parts.all(|p| (p.len() == 2 && p.bytes().all(|b| b.is_ascii_uppercase())) || p == "mac")
}

fn malformed(reason: String) -> Error {
    Error::new(ErrorKind::MalformedTaskMessage { reason })
}

fn missing(field: &'static str) -> Error {
    Error::new(ErrorKind::MissingTaskField { field })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn treeherder_routes() {
        let route = parse_treeherder_route(
            "route.tc-treeherder.v2.autoland.fb6b61e49217d835b2d6e435560424aab10d5475.105840",
        )
        .unwrap()
        .unwrap();
        assert_eq!(route.project, "autoland");
        assert_eq!(route.revision, "fb6b61e49217d835b2d6e435560424aab10d5475");
        assert_eq!(route.push_id, Some(105840));
        let short = parse_treeherder_route("tc-treeherder.v2.try.52eb0cec7ba8")
            .unwrap()
            .unwrap();
        assert_eq!((short.project.as_str(), short.push_id), ("try", None));
        for other in [
            "index.gecko.v2.autoland.latest.firefox.linux64-opt",
            "tc-treeherder-staging.v2.try.52eb0cec7ba8e7306b2ce7f04e389a483b011170.1",
            "primary.A35mWTRuQmyj88yMnIF0fA.0._._.aws.gecko-t-linux-large.gecko-level-3.X._",
            "checks",
            "",
        ] {
            assert_eq!(parse_treeherder_route(other).unwrap(), None, "{other}");
        }
        for bad in [
            "tc-treeherder.v2",
            "tc-treeherder.v2.autoland",
            "tc-treeherder.try.52eb0cec7ba8e7306b2ce7f04e389a483b011170",
            "tc-treeherder.v2.autoland.NOTAREVISION",
            "tc-treeherder.v2.autoland.52eb0cec7ba8.notanumber",
            "tc-treeherder.v2..52eb0cec7ba8.1",
            "tc-treeherder.v2.autoland.52eb0cec7ba8.1.extra",
        ] {
            let err = parse_treeherder_route(bad).unwrap_err();
            assert_eq!(
                err.kind(),
                &ErrorKind::BadTreeherderRoute { route: bad.into() },
                "{bad}"
            );
        }
    }

    #[test]
    fn status_table() {
        let cases = [
            ("completed", Some("completed"), Some(0)),
            ("failed", Some("failed"), Some(2)),
            ("exception", Some("canceled"), Some(6)),
            ("exception", Some("superseded"), Some(6)),
            ("exception", Some("claim-expired"), Some(5)),
            ("exception", Some("worker-shutdown"), Some(5)),
            ("exception", Some("intermittent-task"), Some(5)),
            ("exception", Some("deadline-exceeded"), Some(4)),
            ("exception", Some("malformed-payload"), Some(4)),
            ("exception", Some("internal-error"), Some(4)),
            ("exception", None, Some(4)),
            ("pending", None, None),
            ("running", None, None),
            ("unscheduled", None, None),
        ];
        for (state, reason, code) in cases {
            assert_eq!(
                run_status(state, reason).unwrap(),
                code,
                "{state} {reason:?}"
            );
        }
        assert!(matches!(
            run_status("exploded", None).unwrap_err().kind(),
            ErrorKind::MalformedTaskMessage { .. }
        ));
    }

    #[test]
    fn locales() {
        for yes in ["ach", "en-GB", "ja-JP-mac", "zh-TW"] {
            assert!(looks_like_locale(yes), "{yes}");
        }
        for no in ["vismet", "signing", "", "EN", "en-gb"] {
            assert!(!looks_like_locale(no), "{no}");
        }
    }

    #[test]
    fn collections() {
        let c = |keys: &[&str]| keys.iter().map(|k| (k.to_string(), true)).collect();
        assert_eq!(collection_buildtype(&c(&["debug"])), Some(BuildType::Debug));
        assert_eq!(collection_buildtype(&c(&["pgo"])), Some(BuildType::Pgo));
        assert_eq!(collection_buildtype(&c(&["asan"])), None);
        assert_eq!(collection_buildtype(&c(&["opt", "debug"])), None);
        assert_eq!(collection_buildtype(&BTreeMap::new()), None);
    }
}
