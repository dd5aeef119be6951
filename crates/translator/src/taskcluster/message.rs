//! What a queue message says about the run it announces: the task, the
//! run, its state and times, the worker, and the task's tags.

use std::borrow::Cow;
use std::fmt;

use chrono::DateTime;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use super::result::run_status;
use crate::{Error, ErrorKind, Message, Status, TaskState};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body<'a> {
    #[serde(borrow)]
    status: Option<StatusSection<'a>>,
    run_id: Option<u32>,
    #[serde(borrow)]
    worker_id: Option<Text<'a>>,
    #[serde(default, borrow)]
    task: TaskSection<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusSection<'a> {
    #[serde(borrow)]
    task_id: Option<Text<'a>>,
    #[serde(borrow)]
    task_group_id: Option<Text<'a>>,
    #[serde(borrow)]
    worker_type: Option<Text<'a>>,
    #[serde(default, borrow)]
    runs: Vec<Run<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    run_id: Option<u32>,
    #[serde(borrow)]
    state: Option<Text<'a>>,
    #[serde(borrow)]
    reason_created: Option<Text<'a>>,
    #[serde(borrow)]
    reason_resolved: Option<Text<'a>>,
    #[serde(borrow)]
    scheduled: Option<Text<'a>>,
    #[serde(borrow)]
    resolved: Option<Text<'a>>,
    #[serde(borrow)]
    worker_id: Option<Text<'a>>,
}

#[derive(Default, Deserialize)]
struct TaskSection<'a> {
    #[serde(default, borrow)]
    tags: MessageTags<'a>,
}

/// A JSON string, borrowed from the body unless it has escapes: a
/// message's strings are read by the dozen, most never kept.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Text<'a>(Cow<'a, str>);

impl<'a> Text<'a> {
    pub(super) fn as_str(&self) -> &str {
        &self.0
    }

    pub(super) fn into_string(self) -> String {
        self.0.into_owned()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for TextVisitor<'a> {
            type Value = Text<'a>;

            // String's own words, so errors read as they did.
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_string(TextVisitor(std::marker::PhantomData))
    }
}

/// The tags the translator reads out of `task.tags`. Every tag is still
/// read as a string, the last of a repeated name wins, as they did when
/// the whole map was kept.
#[derive(Debug, Default)]
pub(super) struct MessageTags<'a> {
    pub(super) label: Option<Text<'a>>,
    pub(super) kind: Option<Text<'a>>,
    pub(super) test_type: Option<Text<'a>>,
}

impl<'de: 'a, 'a> Deserialize<'de> for MessageTags<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TagsVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for TagsVisitor<'a> {
            type Value = MessageTags<'a>;

            // BTreeMap's own words, so errors read as they did.
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }

            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<MessageTags<'a>, M::Error> {
                let mut tags = MessageTags::default();
                while let Some((name, value)) = map.next_entry::<Text<'a>, Text<'a>>()? {
                    match name.as_str() {
                        "label" => tags.label = Some(value),
                        "kind" => tags.kind = Some(value),
                        "test-type" => tags.test_type = Some(value),
                        _ => {}
                    }
                }
                Ok(tags)
            }
        }
        deserializer.deserialize_map(TagsVisitor(std::marker::PhantomData))
    }
}

/// What a message says about the run it announces.
pub(super) struct RunFacts<'a> {
    pub(super) task_id: String,
    pub(super) run_id: u32,
    pub(super) state: TaskState,
    pub(super) status: Option<Status>,
    pub(super) reason_resolved: Option<Text<'a>>,
    /// The queue added a run after this one because it retries the task.
    pub(super) retried: bool,
    pub(super) builddate: Option<i64>,
    pub(super) worker_id: Option<String>,
    pub(super) worker_type: Option<String>,
    pub(super) task_group_id: Option<String>,
    pub(super) tags: MessageTags<'a>,
}

impl<'a> RunFacts<'a> {
    pub(super) fn read(msg: &'a Message) -> Result<RunFacts<'a>, Error> {
        let defined = msg.exchange == crate::exchanges::TASK_DEFINED;
        if !defined && !crate::exchanges::TASK_ALL.contains(&msg.exchange.as_str()) {
            return Err(Error::new(ErrorKind::UnknownTaskExchange {
                exchange: msg.exchange.clone(),
            }));
        }
        // One check of the whole body instead of one per string read; a
        // body that fails it is read as before, for the same error.
        let body: Body<'a> = match std::str::from_utf8(&msg.body) {
            Ok(text) => serde_json::from_str(text),
            Err(_) => serde_json::from_slice(&msg.body),
        }
        .map_err(|e| malformed(e.to_string()))?;
        let status = body.status.ok_or_else(|| missing("status"))?;
        let task_id = status.task_id.ok_or_else(|| missing("status.taskId"))?;
        let task_group_id = status.task_group_id.map(Text::into_string);
        if defined {
            // A task as it is created: no run yet, or only its first,
            // which `task-pending` announces on its own.
            return Ok(RunFacts {
                task_id: task_id.into_string(),
                run_id: 0,
                state: TaskState::Defined,
                status: None,
                reason_resolved: None,
                retried: false,
                builddate: None,
                worker_id: None,
                worker_type: status.worker_type.map(Text::into_string),
                task_group_id,
                tags: body.task.tags,
            });
        }
        let run_id = body.run_id.ok_or_else(|| missing("runId"))?;
        let mut runs = status.runs;
        let position = runs
            .iter()
            .position(|run| run.run_id == Some(run_id))
            .ok_or_else(|| missing("status.runs[runId]"))?;
        let retried = runs.get(position + 1).is_some_and(|next| {
            matches!(
                next.reason_created.as_ref().map(Text::as_str),
                Some("retry" | "task-retry")
            )
        });
        let run = runs.swap_remove(position);
        let state_name = run
            .state
            .as_ref()
            .map(Text::as_str)
            .ok_or_else(|| missing("status.runs[].state"))?;
        let status_code = run_status(state_name, run.reason_resolved.as_ref().map(Text::as_str))?;
        let state = match state_name {
            "pending" | "unscheduled" => TaskState::Pending,
            "running" => TaskState::Running,
            "completed" => TaskState::Completed,
            "failed" => TaskState::Failed,
            // run_status has refused every other state.
            _ => TaskState::Exception,
        };
        let builddate = match run.resolved.as_ref().or(run.scheduled.as_ref()) {
            Some(time) => {
                let time = time.as_str();
                Some(
                    DateTime::parse_from_rfc3339(time)
                        .map_err(|e| malformed(format!("run time {time:?}: {e}")))?
                        .timestamp(),
                )
            }
            None => None,
        };
        Ok(RunFacts {
            task_id: task_id.into_string(),
            run_id,
            state,
            status: status_code,
            reason_resolved: run.reason_resolved,
            retried,
            builddate,
            worker_id: run.worker_id.or(body.worker_id).map(Text::into_string),
            worker_type: status.worker_type.map(Text::into_string),
            task_group_id,
            tags: body.task.tags,
        })
    }
}

pub(super) fn malformed(reason: String) -> Error {
    Error::new(ErrorKind::MalformedTaskMessage { reason })
}

pub(super) fn missing(field: &'static str) -> Error {
    Error::new(ErrorKind::MissingTaskField { field })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// The owned shapes the borrowed ones replaced, to check against.
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct OwnedBody {
        status: Option<OwnedStatus>,
        worker_id: Option<String>,
        #[serde(default)]
        task: OwnedTask,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct OwnedStatus {
        task_id: Option<String>,
        #[serde(default)]
        runs: Vec<OwnedRun>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct OwnedRun {
        state: Option<String>,
    }

    #[derive(Default, Deserialize)]
    struct OwnedTask {
        #[serde(default)]
        tags: BTreeMap<String, String>,
    }

    fn read(body: &[u8]) -> Result<[Option<String>; 6], String> {
        let body: Body<'_> = match std::str::from_utf8(body) {
            Ok(text) => serde_json::from_str(text),
            Err(_) => serde_json::from_slice(body),
        }
        .map_err(|e| e.to_string())?;
        let status = body.status;
        let tags = body.task.tags;
        Ok([
            status
                .as_ref()
                .and_then(|s| s.task_id.as_ref())
                .map(|t| t.as_str().into()),
            status
                .as_ref()
                .and_then(|s| s.runs.first()?.state.as_ref())
                .map(|t| t.as_str().into()),
            body.worker_id.map(Text::into_string),
            tags.label.map(Text::into_string),
            tags.kind.map(Text::into_string),
            tags.test_type.map(Text::into_string),
        ])
    }

    fn read_owned(body: &[u8]) -> Result<[Option<String>; 6], String> {
        let body: OwnedBody = serde_json::from_slice(body).map_err(|e| e.to_string())?;
        let status = body.status;
        let tags = body.task.tags;
        Ok([
            status.as_ref().and_then(|s| s.task_id.clone()),
            status.as_ref().and_then(|s| s.runs.first()?.state.clone()),
            body.worker_id,
            tags.get("label").cloned(),
            tags.get("kind").cloned(),
            tags.get("test-type").cloned(),
        ])
    }

    #[test]
    fn borrowed_reading_agrees_with_owned_reading() {
        let bodies: &[&[u8]] = &[
            br#"{"status": {"taskId": "a", "runs": [{"state": "completed"}]}, "workerId": "w", "task": {"tags": {"label": "l", "kind": "k", "test-type": "talos", "os": "linux"}}}"#,
            br#"{"status": {"taskId": "a\"b\u00e9", "runs": [{"state": "c\\d"}]}, "task": {"tags": {"la\u0062el": "x\ny", "kind": "k"}}}"#,
            br#"{"task": {"tags": {"label": "first", "label": "second"}}}"#,
            br#"{"task": {"tags": {"label": 1}}}"#,
            br#"{"task": {"tags": {"other": [1]}}}"#,
            br#"{"task": {"tags": null}}"#,
            br#"{"task": {"tags": []}}"#,
            br#"{"task": {}}"#,
            br#"{"status": {"taskId": 5}}"#,
            br#"{"status": {"taskId": null}, "workerId": null}"#,
            br#"{"status": {"taskId": "a"}"#,
            br#"{"status": {"taskId": "\ud800"}}"#,
            b"{\"status\": {\"taskId\": \"a\x01\"}}",
            b"{\"task\": {\"tags\": {\"os\": \"\xff\"}}}",
            b"{\"task\": {\"tags\": {\"label\": \"\xc3\xa9\"}}, \"other\": \"\xff\"}",
            b"{\"status\": {\"\xfe\": 1}}",
            br#""#,
        ];
        for body in bodies {
            assert_eq!(
                read(body),
                read_owned(body),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
