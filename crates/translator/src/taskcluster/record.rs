//! A message and its facts put together into a record: a build or test
//! record when the label places a finished build or test, else a task
//! record.
//!
//! `translate` reads as its steps: the run, the push's route, the task's
//! names and kinds, its label read, then where the task lands
//! (`Placement`, a placed build or test or another task): `job_record` or
//! `task_record` fills the record.

use super::definition::{collection_buildtype, label_from_treeherder, TaskDefinition};
use super::kinds;
use super::label::{is_performance_test, parse_label, TaskLabel};
use super::message::{MessageTags, RunFacts, Text};
use super::route::{find_treeherder_route, TreeherderRoute};
use crate::{
    BuildRecord, BuildType, Error, ErrorKind, JobInfo, JobKind, JobResult, Message, Record,
    TaskRecord, TestRecord,
};

/// The record a message makes, completed by its task definition when given.
pub(super) fn translate(
    msg: &Message,
    definition: Option<&TaskDefinition>,
    options: &crate::Options,
) -> Result<Record, Error> {
    let run = RunFacts::read(msg)?;
    let route = find_route(msg, definition, &run.task_id)?;
    let tags = Tags {
        message: &run.tags,
        definition,
    };
    let Names { label, kinds } = name_task(&run.task_id, &tags)?;
    let parsed = read_label(label.as_deref(), kinds.job, definition)?;
    let treeherder = definition.and_then(|d| d.extra.treeherder.as_ref());
    let buildtype = treeherder
        .and_then(|th| collection_buildtype(&th.collection))
        .or(parsed.as_ref().map(|p| p.buildtype));
    let shared = Shared {
        logurl: log_url(&options.root_url, &run.task_id, run.run_id),
        timestamp: options.clock.timestamp(),
        // Treeherder shows a job whose definition names no tier as tier 1.
        tier: treeherder.map(|th| th.tier.unwrap_or(1)),
        result: run.result(kinds.job),
    };
    let placement = place(&run, &tags, kinds.job, parsed, buildtype, label);
    Ok(match placement {
        Placement::Job(job) => job_record(msg, run, route, kinds, job, shared),
        Placement::Task(task) => task_record(msg, run, route, kinds, task, shared),
    })
}

/// The push the task belongs to: the first `tc-treeherder` route among the
/// routing key, the `CC` routes and the definition's routes.
fn find_route(
    msg: &Message,
    definition: Option<&TaskDefinition>,
    task_id: &str,
) -> Result<TreeherderRoute, Error> {
    let definition_routes = definition.map(|d| d.routes.as_slice()).unwrap_or_default();
    let routes = std::iter::once(msg.routing_key.as_str())
        .chain(msg.cc.iter().map(String::as_str))
        .chain(definition_routes.iter().map(String::as_str));
    find_treeherder_route(routes, task_id)
}

/// The message's tags, completed by the definition's: only three are
/// read, so they are looked up rather than merged into a map.
struct Tags<'t> {
    message: &'t MessageTags<'t>,
    definition: Option<&'t TaskDefinition>,
}

impl Tags<'_> {
    fn definition_tag(&self, name: &str) -> Option<&str> {
        self.definition
            .and_then(|d| d.tags.get(name))
            .map(String::as_str)
    }

    fn owned(&self, tag: &Option<Text<'_>>, name: &str) -> Option<String> {
        match tag {
            Some(value) => Some(value.as_str().to_string()),
            None => self.definition_tag(name).map(str::to_string),
        }
    }

    fn label(&self) -> Option<String> {
        self.owned(&self.message.label, "label")
    }

    fn kind(&self) -> Option<String> {
        self.owned(&self.message.kind, "kind")
    }

    fn test_type(&self) -> Option<&str> {
        self.message
            .test_type
            .as_ref()
            .map(Text::as_str)
            .or_else(|| self.definition_tag("test-type"))
    }
}

/// What a task is called: its label, when it has one, and its kinds.
struct Names {
    label: Option<String>,
    kinds: Kinds,
}

/// The task's kind in its own words (`build`, `test`, `source-test`…) and
/// as Treeherder shows it.
struct Kinds {
    task: String,
    job: JobKind,
}

/// The task's label and kinds, from its tags, its definition's name and
/// its definition's `jobKind`.
fn name_task(task_id: &str, tags: &Tags<'_>) -> Result<Names, Error> {
    let definition = tags.definition;
    // The decision task and actions carry a kind but no label; a task
    // with neither cannot be told apart from any other.
    let label = tags
        .label()
        .or_else(|| definition.and_then(|d| d.metadata.name.clone()));
    let named_kind = tags.kind();
    if label.is_none() && named_kind.is_none() {
        return Err(Error::new(ErrorKind::MissingTaskLabel {
            task_id: task_id.to_string(),
        }));
    }
    let label_text = label.as_deref().unwrap_or_default();
    let named_kind = named_kind.or_else(|| kind_from_label(label_text));
    let job = definition
        .and_then(|d| d.extra.treeherder.as_ref())
        .and_then(|th| th.job_kind.as_deref())
        .map(kinds::parse_job_kind)
        .or_else(|| {
            named_kind
                .as_deref()
                .map(|kind| kinds::job_kind(kind, label_text))
        })
        .unwrap_or(JobKind::Other);
    let task = named_kind.unwrap_or_else(|| job.as_str().to_string());
    Ok(Names {
        label,
        kinds: Kinds { task, job },
    })
}

/// Tasks made before the `kind` tag (2018) have a label whose first word
/// is the kind, or only a name: then the definition's jobKind is the best
/// name there is, and this gives none.
fn kind_from_label(label: &str) -> Option<String> {
    let first = label.split('-').next().unwrap_or_default();
    let is_word = !first.is_empty()
        && first
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    (is_word && label.len() > first.len()).then(|| first.to_string())
}

/// The label read for platform, build type and test; without a label that
/// reads, what the definition's `extra.treeherder` says.
fn read_label(
    label: Option<&str>,
    job_kind: JobKind,
    definition: Option<&TaskDefinition>,
) -> Result<Option<TaskLabel>, Error> {
    match (label.map(parse_label), definition) {
        (Some(Ok(parsed)), _) => Ok(Some(parsed)),
        (Some(Err(err)), _)
            if job_kind != JobKind::Other
                && matches!(err.kind(), ErrorKind::UnknownTaskPlatform { .. }) =>
        {
            // A build or test on a platform we do not know yet must be
            // heard, not filed away as some other task.
            Err(err)
        }
        (_, Some(definition)) => Ok(label_from_treeherder(definition)),
        (_, None) => Ok(None),
    }
}

/// What every record of a message carries, whichever it is.
struct Shared {
    logurl: String,
    timestamp: chrono::DateTime<chrono::Utc>,
    tier: Option<u8>,
    result: JobResult,
}

/// Where a task lands.
enum Placement {
    /// A finished build or test whose label places it: a build or test
    /// record.
    Job(PlacedJob),
    /// Every other task, and every task not finished yet: a task record.
    Task(OtherTask),
}

/// A finished build or test, placed by its label.
struct PlacedJob {
    parsed: TaskLabel,
    buildtype: BuildType,
    label: String,
    /// What follows the build type in the label; empty for builds.
    test: String,
    /// A talos, raptor or browsertime test.
    performance: bool,
}

/// What a task record says of a task that is no placed build or test.
struct OtherTask {
    label: Option<String>,
    platform: Option<String>,
    buildtype: Option<BuildType>,
}

/// A finished build, or a finished test whose label names the test, is a
/// placed job; everything else another task.
fn place(
    run: &RunFacts<'_>,
    tags: &Tags<'_>,
    job_kind: JobKind,
    parsed: Option<TaskLabel>,
    buildtype: Option<BuildType>,
    label: Option<String>,
) -> Placement {
    let names_job = |parsed: &TaskLabel| match job_kind {
        JobKind::Build => true,
        JobKind::Test => parsed.test.as_deref().is_some_and(|t| !t.is_empty()),
        _ => false,
    };
    match (parsed, buildtype, label) {
        (Some(parsed), Some(buildtype), Some(label))
            if run.state.is_finished() && names_job(&parsed) =>
        {
            let test = parsed.test.clone().unwrap_or_default();
            let performance = is_performance_test(&test)
                || matches!(tags.test_type(), Some("talos" | "raptor" | "browsertime"));
            Placement::Job(PlacedJob {
                parsed,
                buildtype,
                label,
                test,
                performance,
            })
        }
        (parsed, buildtype, label) => Placement::Task(OtherTask {
            label,
            platform: parsed.map(|p| p.family.to_string()),
            buildtype,
        }),
    }
}

/// A placed job's build or test record.
fn job_record(
    msg: &Message,
    run: RunFacts<'_>,
    route: TreeherderRoute,
    kinds: Kinds,
    placed: PlacedJob,
    shared: Shared,
) -> Record {
    let PlacedJob {
        parsed,
        buildtype,
        label,
        test,
        performance,
    } = placed;
    let locale = parsed
        .qualifier(&kinds.task)
        .filter(|q| looks_like_locale(q))
        .unwrap_or("en-US")
        .to_string();
    let mut job = JobInfo::new(
        msg.routing_key.clone(),
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
    job.logurl = Some(shared.logurl);
    job.slave = run.worker_id;
    job.timestamp = Some(shared.timestamp);
    job.task_id = Some(run.task_id);
    job.run_id = Some(run.run_id);
    job.worker_type = run.worker_type;
    job.task_group_id = run.task_group_id;
    job.push_id = route.push_id;
    job.tier = shared.tier;
    job.result = Some(shared.result);
    if kinds.job == JobKind::Build {
        let tags = (kinds.task != "build")
            .then(|| kinds.task.clone())
            .into_iter()
            .chain(parsed.variants)
            .collect();
        job.kind = Some(kinds.task);
        Record::Build(BuildRecord { job, tags })
    } else {
        job.kind = Some(kinds.task);
        Record::Test(TestRecord {
            job,
            os: parsed.platform,
            test,
            talos: performance,
        })
    }
}

/// Any other task's task record.
fn task_record(
    msg: &Message,
    run: RunFacts<'_>,
    route: TreeherderRoute,
    kinds: Kinds,
    task: OtherTask,
    shared: Shared,
) -> Record {
    Record::Task(TaskRecord {
        kind: kinds.task,
        job_kind: kinds.job,
        label: task.label,
        tree: route.project,
        revision: Some(route.revision),
        platform: task.platform,
        buildtype: task.buildtype,
        state: run.state,
        result: shared.result,
        status: run.status,
        task_id: run.task_id,
        run_id: run.run_id,
        task_group_id: run.task_group_id,
        push_id: route.push_id,
        worker_type: run.worker_type,
        worker_id: run.worker_id,
        logurl: Some(shared.logurl),
        builddate: run.builddate,
        tier: shared.tier,
        key: msg.routing_key.clone(),
        timestamp: Some(shared.timestamp),
        reconciled: false,
    })
}

/// `<root>/api/queue/v1/task/<taskId>/runs/<runId>/artifacts/public/logs/live_backing.log`,
/// built without the formatting machinery, in one allocation: it is made
/// for every message.
fn log_url(root_url: &str, task_id: &str, run_id: u32) -> String {
    const TASK: &str = "/api/queue/v1/task/";
    const RUNS: &str = "/runs/";
    const LOG: &str = "/artifacts/public/logs/live_backing.log";
    let root = root_url.trim_end_matches('/');
    let mut digits = [0u8; 10];
    let mut start = digits.len();
    let mut n = run_id;
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let run = std::str::from_utf8(&digits[start..]).expect("digits are ASCII");
    let parts = [root, TASK, task_id, RUNS, run, LOG];
    let mut url = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for part in parts {
        url.push_str(part);
    }
    url
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_urls() {
        for (root, run_id) in [
            ("https://firefox-ci-tc.services.mozilla.com", 0),
            ("https://tc.example.org//", 7),
            ("", 10),
            ("x", u32::MAX),
        ] {
            assert_eq!(
                log_url(root, "fxnfF4hJRbq2uSO5DEAK1A", run_id),
                format!(
                    "{}/api/queue/v1/task/fxnfF4hJRbq2uSO5DEAK1A/runs/{run_id}/artifacts/public/logs/live_backing.log",
                    root.trim_end_matches('/')
                )
            );
        }
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
}
