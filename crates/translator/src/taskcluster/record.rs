//! A message and its facts put together into a record: a build or test
//! record when the label places a finished build or test, else a task
//! record.

use super::definition::{collection_buildtype, label_from_treeherder, TaskDefinition};
use super::kinds;
use super::label::{is_performance_test, parse_label, TaskLabel};
use super::message::{RunFacts, Text};
use super::route::find_treeherder_route;
use crate::{
    BuildRecord, Error, ErrorKind, JobInfo, JobKind, Message, Record, TaskRecord, TestRecord,
};

/// The record a message makes, completed by its task definition when given.
pub(super) fn translate(
    msg: &Message,
    definition: Option<&TaskDefinition>,
    options: &crate::Options,
) -> Result<Record, Error> {
    let run = RunFacts::read(msg)?;

    let definition_routes = definition.map(|d| d.routes.as_slice()).unwrap_or_default();
    let routes = std::iter::once(msg.routing_key.as_str())
        .chain(msg.cc.iter().map(String::as_str))
        .chain(definition_routes.iter().map(String::as_str));
    let route = find_treeherder_route(routes, &run.task_id)?;

    // The message's tags, completed by the definition's: only these three
    // are read, so they are looked up rather than merged into a map.
    let definition_tag = |name: &str| {
        definition
            .and_then(|d| d.tags.get(name))
            .map(String::as_str)
    };
    let tag = |tag: &Option<Text<'_>>, name: &str| -> Option<String> {
        match tag {
            Some(value) => Some(value.as_str().to_string()),
            None => definition_tag(name).map(str::to_string),
        }
    };
    let treeherder = definition.and_then(|d| d.extra.treeherder.as_ref());
    // The decision task and actions carry a kind but no label; a task
    // with neither cannot be told apart from any other.
    let label =
        tag(&run.tags.label, "label").or_else(|| definition.and_then(|d| d.metadata.name.clone()));
    let named_kind = tag(&run.tags.kind, "kind");
    if label.is_none() && named_kind.is_none() {
        return Err(Error::new(ErrorKind::MissingTaskLabel {
            task_id: run.task_id.clone(),
        }));
    }
    let label_text = label.as_deref().unwrap_or_default();
    // Tasks made before the `kind` tag (2018) have a label whose first
    // word is the kind, or only a name: then the definition's jobKind is
    // the best name there is.
    let named_kind = named_kind.or_else(|| {
        let first = label_text.split('-').next().unwrap_or_default();
        let is_word = !first.is_empty()
            && first
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        (is_word && label_text.len() > first.len()).then(|| first.to_string())
    });
    let job_kind = treeherder
        .and_then(|th| th.job_kind.as_deref())
        .map(kinds::parse_job_kind)
        .or_else(|| {
            named_kind
                .as_deref()
                .map(|kind| kinds::job_kind(kind, label_text))
        })
        .unwrap_or(JobKind::Other);
    let task_kind = named_kind.unwrap_or_else(|| job_kind.as_str().to_string());

    let label_read = label.as_deref().map(parse_label);
    let parsed = match (label_read, definition) {
        (Some(Ok(parsed)), _) => Some(parsed),
        (Some(Err(err)), _)
            if job_kind != JobKind::Other
                && matches!(err.kind(), ErrorKind::UnknownTaskPlatform { .. }) =>
        {
            // A build or test on a platform we do not know yet must be
            // heard, not filed away as some other task.
            return Err(err);
        }
        (_, Some(definition)) => label_from_treeherder(definition),
        (_, None) => None,
    };
    let buildtype = treeherder
        .and_then(|th| collection_buildtype(&th.collection))
        .or(parsed.as_ref().map(|p| p.buildtype));
    let logurl = log_url(&options.root_url, &run.task_id, run.run_id);
    let timestamp = options.clock.timestamp();
    // Treeherder shows a job whose definition names no tier as tier 1.
    let tier = treeherder.map(|th| th.tier.unwrap_or(1));
    let result = run.result(job_kind);

    let platform = parsed.as_ref().map(|p| p.family.to_string());
    // A finished build or test whose label places it is a build or test
    // record; everything else is a task record.
    let placed = match (parsed, buildtype, label) {
        (Some(parsed), Some(buildtype), Some(label)) if run.state.is_finished() => {
            let test = parsed.test.clone().unwrap_or_default();
            let is_build = job_kind == JobKind::Build;
            if is_build || (job_kind == JobKind::Test && !test.is_empty()) {
                Ok((parsed, buildtype, label, test))
            } else {
                Err(Some(label))
            }
        }
        (_, _, label) => Err(label),
    };
    let label = match placed {
        Err(label) => label,
        Ok((parsed, buildtype, label, test)) => {
            let performance = is_performance_test(&test)
                || matches!(
                    run.tags
                        .test_type
                        .as_ref()
                        .map(Text::as_str)
                        .or_else(|| definition_tag("test-type")),
                    Some("talos" | "raptor" | "browsertime")
                );
            let locale = parsed
                .qualifier(&task_kind)
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
            job.logurl = Some(logurl);
            job.slave = run.worker_id;
            job.timestamp = Some(timestamp);
            job.task_id = Some(run.task_id);
            job.run_id = Some(run.run_id);
            job.worker_type = run.worker_type;
            job.task_group_id = run.task_group_id;
            job.push_id = route.push_id;
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
        task_group_id: run.task_group_id,
        push_id: route.push_id,
        worker_type: run.worker_type,
        worker_id: run.worker_id,
        logurl: Some(logurl),
        builddate: run.builddate,
        tier,
        key: msg.routing_key.clone(),
        timestamp: Some(timestamp),
    }))
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
