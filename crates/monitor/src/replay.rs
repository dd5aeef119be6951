//! Reading recorded messages from files, for the in-process source.
//!
//! A path may be a directory (read recursively, in name order) or a file
//! holding one of:
//! - JSON lines of [`RecordedMessage`]s, as `pulse-monitor record` writes;
//! - one raw buildbot message, with `_meta.exchange` and `_meta.routing_key`;
//! - one Taskcluster queue message body (`status.taskId`), whose `CC` routes
//!   come from a `task_<taskId>.json` task definition beside it, if any;
//! - one normalized build or test payload, whose routing key is rebuilt.
//!
//! Files that describe messages rather than hold one (`*.expected.json`,
//! `task_*.json`, `SOURCES.txt`, `README.md`) are passed over.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::message::{RawMessage, RecordedMessage};
use crate::{Error, ErrorKind};

use pulse_translator::exchanges;

/// Every message in `paths`, in order: each directory's files sorted by name.
/// The first file that cannot be read as messages fails the whole load.
pub fn load_paths<P: AsRef<Path>>(paths: &[P]) -> Result<Vec<RawMessage>, Error> {
    let loaded = load_paths_skipping(paths)?;
    match loaded.skipped.into_iter().next() {
        Some(error) => Err(error),
        None => Ok(loaded.messages),
    }
}

/// What [`load_paths_skipping`] read, and the files it could not read.
#[derive(Debug)]
pub struct Loaded {
    /// The messages of every readable file, in order.
    pub messages: Vec<RawMessage>,
    /// One error for each file that is not messages, naming the file and why.
    pub skipped: Vec<Error>,
}

/// Every message in `paths`, going on past files that are not messages (a
/// task definition beside a message, a stray note): those are listed in
/// [`Loaded::skipped`]. A path that does not exist still fails.
pub fn load_paths_skipping<P: AsRef<Path>>(paths: &[P]) -> Result<Loaded, Error> {
    let mut loaded = Loaded {
        messages: Vec::new(),
        skipped: Vec::new(),
    };
    for path in paths {
        for file in message_files(path.as_ref())? {
            match load_file(&file) {
                Ok(messages) => loaded.messages.extend(messages),
                Err(error) => loaded.skipped.push(error),
            }
        }
    }
    Ok(loaded)
}

fn message_files(path: &Path) -> Result<Vec<PathBuf>, Error> {
    let meta = fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut entries = fs::read_dir(path)
        .map_err(|e| Error::io(path, e))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::io(path, e))?;
    entries.sort();
    let mut files = Vec::new();
    for entry in entries {
        if entry.is_dir() {
            files.extend(message_files(&entry)?);
        } else if !describes_messages(&entry) {
            files.push(entry);
        }
    }
    Ok(files)
}

fn describes_messages(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.ends_with(".expected.json")
        || (name.starts_with("task_") && name.ends_with(".json"))
        || name == "SOURCES.txt"
        || name.eq_ignore_ascii_case("README.md")
}

/// The messages in one file.
pub fn load_file(path: &Path) -> Result<Vec<RawMessage>, Error> {
    let text = fs::read(path).map_err(|e| Error::io(path, e))?;
    match serde_json::from_slice::<Value>(&text) {
        Ok(document) => Ok(vec![from_document(path, document)?]),
        Err(_) => from_json_lines(path, &text),
    }
}

fn from_json_lines(path: &Path, text: &[u8]) -> Result<Vec<RawMessage>, Error> {
    let mut messages = Vec::new();
    for (index, line) in text.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let recorded: RecordedMessage = serde_json::from_slice(line).map_err(|e| {
            Error::new(ErrorKind::Replay {
                path: path.to_path_buf(),
                reason: format!("line {}: {e}", index + 1),
            })
        })?;
        messages.push(recorded.into());
    }
    Ok(messages)
}

fn from_document(path: &Path, document: Value) -> Result<RawMessage, Error> {
    let unknown = || {
        Error::new(ErrorKind::Replay {
            path: path.to_path_buf(),
            reason: "cannot tell what kind of Pulse message this is".to_string(),
        })
    };
    if document.get("routing_key").is_some() && document.get("exchange").is_some() {
        let recorded: RecordedMessage = serde_json::from_value(document).map_err(|e| {
            Error::new(ErrorKind::Replay {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })
        })?;
        return Ok(recorded.into());
    }
    if let Some(meta) = document.get("_meta") {
        let routing_key = meta
            .get("routing_key")
            .and_then(Value::as_str)
            .ok_or_else(unknown)?;
        return Ok(RawMessage::new(
            exchanges::BUILD,
            routing_key,
            to_bytes(&document),
        ));
    }
    if let Some(task_id) = document.pointer("/status/taskId").and_then(Value::as_str) {
        return Ok(taskcluster_message(path, task_id, &document));
    }
    if document.get("key").is_some() && document.get("buildtype").is_some() {
        let routing_key = normalized_routing_key(&document).ok_or_else(unknown)?;
        return Ok(RawMessage::new(
            exchanges::BUILD_NORMALIZED,
            routing_key,
            to_bytes(&document),
        ));
    }
    Err(unknown())
}

fn to_bytes(document: &Value) -> Vec<u8> {
    serde_json::to_vec(document).expect("a JSON value always serializes")
}

/// A Taskcluster body recorded without its envelope: the exchange follows
/// from the task's state and the routing key from its status, as the queue
/// builds them.
fn taskcluster_message(path: &Path, task_id: &str, body: &Value) -> RawMessage {
    let status = &body["status"];
    let text = |v: &Value| v.as_str().unwrap_or("_").to_string();
    let exchange = match status["state"].as_str() {
        Some("pending") => exchanges::TASK_PENDING,
        Some("running") => exchanges::TASK_RUNNING,
        Some("failed") => exchanges::TASK_FAILED,
        Some("exception") => exchanges::TASK_EXCEPTION,
        _ => exchanges::TASK_COMPLETED,
    };
    let run_id = body["runId"].as_u64().unwrap_or(0);
    let run = status["runs"].get(run_id as usize).unwrap_or(&Value::Null);
    let routing_key = [
        "primary".to_string(),
        task_id.to_string(),
        run_id.to_string(),
        text(&run["workerGroup"]),
        text(&run["workerId"]),
        text(&status["provisionerId"]),
        text(&status["workerType"]),
        text(&status["schedulerId"]),
        text(&status["taskGroupId"]),
        "_".to_string(),
    ]
    .join(".");
    let mut message = RawMessage::new(exchange, routing_key, to_bytes(body));
    message.cc = definition_routes(path, task_id);
    message
}

fn definition_routes(path: &Path, task_id: &str) -> Vec<String> {
    let definition = path.with_file_name(format!("task_{task_id}.json"));
    let Ok(text) = fs::read(&definition) else {
        return Vec::new();
    };
    let Ok(definition) = serde_json::from_slice::<Value>(&text) else {
        return Vec::new();
    };
    definition["routes"]
        .as_array()
        .map(|routes| {
            routes
                .iter()
                .filter_map(Value::as_str)
                .map(|r| format!("route.{r}"))
                .collect()
        })
        .unwrap_or_default()
}

/// Test payloads name their test; build payloads do not.
fn normalized_routing_key(payload: &Value) -> Option<String> {
    use pulse_translator::Record;
    let record = if payload.get("test").is_some() {
        Record::Test(serde_json::from_value(payload.clone()).ok()?)
    } else {
        Record::Build(serde_json::from_value(payload.clone()).ok()?)
    };
    pulse_translator::normalized::routing_key(&record)
}
