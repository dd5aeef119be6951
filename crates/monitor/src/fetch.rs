//! Task definitions fetched from the Taskcluster queue, for messages that do
//! not say enough to translate (feature `fetch`).
//!
//! Messages from before 2019 carry no `task.tags`, and their routing key
//! names no push; messages of kinds the tags cannot place (partials,
//! signing…) need the definition's `extra.treeherder.jobKind`. The monitor
//! first translates from the message alone and only when that fails with an
//! error a definition can mend (no `tc-treeherder` route, no label, or a
//! kind, label or platform only `extra.treeherder` can place) asks the
//! [`TaskDefinitionFetcher`] (a `pulse_taskcluster::Queue`) for
//! `<root_url>/api/queue/v1/task/<taskId>`.
//!
//! Requests are blocking and made on the monitor's intake thread, so a slow
//! queue slows the monitor down (never more than the client's timeout and
//! retries per message) rather than reordering messages. Definitions never
//! change once a task is created, so the client caches them: a task's
//! pending, running and completed messages cost one request. Failures are
//! not cached; the message counts as a translation error and goes to the
//! dead-letter file, to be replayed.

use pulse_translator::taskcluster::{self, TaskDefinition};
use pulse_translator::Message;
use pulse_translator::Options;
use pulse_translator::{ErrorKind as TranslateErrorKind, Record};
use serde::Deserialize;

/// Fetches task definitions from a Taskcluster queue and keeps the most
/// recent ones: the `pulse-taskcluster` client, under the name the monitor
/// gave it before that crate existed. Shared by reference; every method
/// takes `&self`.
///
/// ```no_run
/// use pulse_build_monitor::{Monitor, Source, TaskDefinitionFetcher};
///
/// let fetcher = TaskDefinitionFetcher::new("https://firefox-ci-tc.services.mozilla.com")?
///     .cache_capacity(10_000);
/// let monitor = Monitor::builder()
///     .source(Source::Taskcluster { progress: false })
///     .task_definitions(fetcher)
///     .on_test(|test| println!("{} {}", test.job.tree, test.test))
///     .start()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type TaskDefinitionFetcher = pulse_taskcluster::Queue;

/// Whether a task definition may mend this translation error: the message
/// names no push or no label, or a label or platform that only the
/// definition's `extra.treeherder` can place. Malformed messages, unknown
/// exchanges and malformed routes cannot be mended.
pub(crate) fn needs_definition(error: &pulse_translator::Error) -> bool {
    can_mend(error.kind())
}

fn can_mend(kind: &TranslateErrorKind) -> bool {
    matches!(
        kind,
        TranslateErrorKind::MissingTreeherderRoute { .. }
            | TranslateErrorKind::MissingTaskLabel { .. }
            | TranslateErrorKind::UnknownLabelShape { .. }
            | TranslateErrorKind::UnknownTaskPlatform { .. }
    )
}

/// Translates `task` with its fetched definition, after translating it
/// alone failed with `error`. When the definition cannot be had, the
/// message fails with `error`, and the reason is logged.
pub(crate) fn translate_with_fetched(
    fetcher: &TaskDefinitionFetcher,
    task: &Message,
    error: pulse_translator::Error,
    options: &Options,
) -> Result<Record, pulse_translator::Error> {
    #[derive(Deserialize)]
    struct Body {
        status: Status,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Status {
        task_id: String,
    }
    let Ok(body) = serde_json::from_slice::<Body>(&task.body) else {
        return Err(error);
    };
    let definition = fetcher
        .task(&body.status.task_id)
        .map_err(|e| e.to_string())
        .and_then(|task| {
            // The queue answered JSON that is no task definition.
            TaskDefinition::deserialize(task.json())
                .map_err(|e| format!("cannot read task definition {:?}: {e}", body.status.task_id))
        });
    match definition {
        Ok(definition) => taskcluster::translate_with_definition(task, &definition, options),
        Err(reason) => {
            log::warn!("{reason}; so: {error}");
            Err(error)
        }
    }
}

// The fetching itself is pulse-taskcluster's, tested there against a local
// queue; the monitor's tests (`tests/taskcluster_fetch.rs`) run it end to end.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_errors_a_definition_can_mend_ask_for_one() {
        let mendable = [
            TranslateErrorKind::MissingTreeherderRoute {
                task_id: "x".into(),
            },
            TranslateErrorKind::MissingTaskLabel {
                task_id: "x".into(),
            },
            TranslateErrorKind::UnknownLabelShape { label: "x".into() },
            TranslateErrorKind::UnknownTaskPlatform {
                platform: "x".into(),
            },
        ];
        for kind in mendable {
            assert!(can_mend(&kind), "{kind:?}");
        }
        let hopeless = [
            TranslateErrorKind::MalformedTaskMessage { reason: "x".into() },
            TranslateErrorKind::MissingTaskField { field: "status" },
            TranslateErrorKind::UnknownTaskExchange {
                exchange: "x".into(),
            },
            TranslateErrorKind::BadTreeherderRoute { route: "x".into() },
            TranslateErrorKind::NoLogUrl,
        ];
        for kind in hopeless {
            assert!(!can_mend(&kind), "{kind:?}");
        }
    }
}
