//! Reading recorded messages from files, for the in-process source.
//!
//! A path may be a directory (read recursively, in name order) or a file
//! holding one of:
//! - JSON lines of [`Message`]s, as `pulse-monitor record` writes;
//! - one raw buildbot message, with `_meta.exchange` and `_meta.routing_key`;
//! - one Taskcluster queue message body (`status.taskId`), whose `CC` routes
//!   come from a `task_<taskId>.json` task definition beside it, if any;
//! - one normalized build or test payload, whose routing key is rebuilt.
//!
//! Files that describe messages rather than hold one (`*.expected.json`,
//! `task_*.json`, `SOURCES.txt`, `README.md`) are passed over.

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;

use crate::{Error, ErrorKind};

use pulse_translator::{exchanges, Message};

/// Every message in `paths`, in order: each directory's files sorted by name.
/// The first file (or line) that cannot be read as messages fails the
/// whole load. For large recordings, [`stream`] reads as it goes instead.
pub fn load_paths<P: AsRef<Path>>(paths: &[P]) -> Result<Vec<Message>, Error> {
    let mut replay = stream(paths)?;
    let messages: Vec<Message> = replay.by_ref().collect();
    match replay.skipped().take().into_iter().next() {
        Some(error) => Err(error),
        None => Ok(messages),
    }
}

/// The messages of `paths`, read as they are asked for: memory stays flat
/// whatever the size of the recordings, and each body is parsed once (by
/// the translator), never into a `serde_json::Value` first.
///
/// A file, or a line of a JSON lines file, that is not a message is
/// skipped, logged as a warning and put on the [`Skipped`] list, naming
/// the file (and line) and why; the rest is read. A path that does not
/// exist fails at once.
///
/// ```
/// use pulse_build_monitor::replay;
///
/// let dir = std::env::temp_dir().join(format!("replay-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// std::fs::write(
///     dir.join("recorded.jsonl"),
///     concat!(
///         r#"{"exchange":"exchange/build/","routing_key":"build.a.1.finished","body":{"n":1}}"#, "\n",
///         "not a message\n",
///         r#"{"exchange":"exchange/build/","routing_key":"build.b.2.finished","body":{"n":2}}"#, "\n",
///     ),
/// )?;
/// let mut messages = replay::stream(&[&dir])?;
/// let skipped = messages.skipped();
/// let keys: Vec<String> = messages.by_ref().map(|m| m.routing_key).collect();
/// assert_eq!(keys, ["build.a.1.finished", "build.b.2.finished"]);
/// assert!(skipped.take()[0].to_string().contains("line 2"));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn stream<P: AsRef<Path>>(paths: &[P]) -> Result<Replay, Error> {
    let mut files = Vec::new();
    let mut total_bytes = 0;
    for path in paths {
        for file in message_files(path.as_ref())? {
            total_bytes += fs::metadata(&file).map_or(0, |m| m.len());
            files.push(file);
        }
    }
    Ok(Replay {
        files: files.into_iter(),
        lines: None,
        skipped: Skipped::default(),
        bytes_read: Arc::new(AtomicU64::new(0)),
        total_bytes,
    })
}

/// Messages read from files as they are asked for; see [`stream`].
#[derive(Debug)]
pub struct Replay {
    files: std::vec::IntoIter<PathBuf>,
    /// The JSON lines file being read, when it is one.
    lines: Option<JsonLines>,
    skipped: Skipped,
    bytes_read: Arc<AtomicU64>,
    total_bytes: u64,
}

impl Replay {
    /// The inputs skipped so far; the handle stays valid while the replay
    /// is read on another thread (a monitor's).
    pub fn skipped(&self) -> Skipped {
        self.skipped.clone()
    }

    /// How many bytes of the files have been read so far, shared the same
    /// way, for a progress line.
    pub fn bytes_read(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.bytes_read)
    }

    /// The size of every file to read, in bytes.
    pub fn total_bytes(&self) -> u64 {
        self.total_bytes
    }
}

impl Iterator for Replay {
    type Item = Message;

    fn next(&mut self) -> Option<Message> {
        loop {
            if let Some(lines) = &mut self.lines {
                match lines.next_message(&self.bytes_read) {
                    Some(Ok(message)) => return Some(message),
                    Some(Err(error)) => self.skipped.push(error),
                    None => self.lines = None,
                }
                continue;
            }
            let path = self.files.next()?;
            match open(&path) {
                Ok(Opened::Lines(lines)) => self.lines = Some(lines),
                Ok(Opened::Document(message, size)) => {
                    self.bytes_read.fetch_add(size, Ordering::Relaxed);
                    return Some(message);
                }
                Err(error) => self.skipped.push(error),
            }
        }
    }
}

/// The inputs a [`Replay`] skipped, each an error naming the file (and the
/// line) and why. Cloning shares the list.
#[derive(Clone, Debug, Default)]
pub struct Skipped(Arc<Mutex<Vec<Error>>>);

impl Skipped {
    fn push(&self, error: Error) {
        log::warn!("skipped: {error}");
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(error);
    }

    /// Takes the errors gathered so far.
    pub fn take(&self) -> Vec<Error> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// What opening a file found: a JSON lines recording, read line by line,
/// or one message.
enum Opened {
    Lines(JsonLines),
    Document(Message, u64),
}

/// A recording's first line decides: a recorded message there means JSON
/// lines; anything else means the file is one JSON document, read whole
/// (such files are single fixtures and corpus messages, small).
fn open(path: &Path) -> Result<Opened, Error> {
    let file = fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = BufReader::new(file);
    let mut first = Vec::new();
    loop {
        first.clear();
        if reader
            .read_until(b'\n', &mut first)
            .map_err(|e| Error::io(path, e))?
            == 0
        {
            return Err(replay_error(path, "the file holds no message".to_string()));
        }
        if !first.iter().all(u8::is_ascii_whitespace) {
            break;
        }
    }
    if serde_json::from_slice::<Message>(&first).is_ok() {
        return Ok(Opened::Lines(JsonLines {
            path: path.to_path_buf(),
            reader,
            line: Vec::new(),
            first: Some(first),
            number: 0,
        }));
    }
    let mut text = first;
    reader
        .read_to_end(&mut text)
        .map_err(|e| Error::io(path, e))?;
    let size = text.len() as u64;
    let document = serde_json::from_slice::<Value>(&text)
        .map_err(|e| replay_error(path, format!("neither a JSON document nor JSON lines: {e}")))?;
    Ok(Opened::Document(from_document(path, document)?, size))
}

/// A JSON lines recording, one [`Message`] a line.
struct JsonLines {
    path: PathBuf,
    reader: BufReader<fs::File>,
    line: Vec<u8>,
    /// The first line, already read by [`open`].
    first: Option<Vec<u8>>,
    number: usize,
}

impl std::fmt::Debug for JsonLines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonLines")
            .field("path", &self.path)
            .field("line", &self.number)
            .finish()
    }
}

impl JsonLines {
    /// The next message, an error for a line that is not one, `None` at
    /// the end of the file.
    fn next_message(&mut self, bytes_read: &AtomicU64) -> Option<Result<Message, Error>> {
        loop {
            if let Some(first) = self.first.take() {
                self.line = first;
            } else {
                self.line.clear();
                match self.reader.read_until(b'\n', &mut self.line) {
                    Ok(0) => return None,
                    Ok(_) => {}
                    Err(e) => return Some(Err(Error::io(&self.path, e))),
                }
            }
            self.number += 1;
            bytes_read.fetch_add(self.line.len() as u64, Ordering::Relaxed);
            if self.line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Some(
                serde_json::from_slice::<Message>(&self.line)
                    .map_err(|e| replay_error(&self.path, format!("line {}: {e}", self.number))),
            );
        }
    }
}

fn replay_error(path: &Path, reason: String) -> Error {
    Error::new(ErrorKind::Replay {
        path: path.to_path_buf(),
        reason,
    })
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

/// The messages in one file; the first line that is not a message fails it.
pub fn load_file(path: &Path) -> Result<Vec<Message>, Error> {
    load_paths(&[path])
}

fn from_document(path: &Path, document: Value) -> Result<Message, Error> {
    let unknown = || {
        Error::new(ErrorKind::Replay {
            path: path.to_path_buf(),
            reason: "cannot tell what kind of Pulse message this is".to_string(),
        })
    };
    if document.get("routing_key").is_some() && document.get("exchange").is_some() {
        return serde_json::from_value(document).map_err(|e| {
            Error::new(ErrorKind::Replay {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })
        });
    }
    if let Some(meta) = document.get("_meta") {
        let routing_key = meta
            .get("routing_key")
            .and_then(Value::as_str)
            .ok_or_else(unknown)?;
        return Ok(Message::new(
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
        return Ok(Message::new(
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
fn taskcluster_message(path: &Path, task_id: &str, body: &Value) -> Message {
    let exchange = match body["status"]["state"].as_str() {
        Some("pending") => exchanges::TASK_PENDING,
        Some("running") => exchanges::TASK_RUNNING,
        Some("failed") => exchanges::TASK_FAILED,
        Some("exception") => exchanges::TASK_EXCEPTION,
        _ => exchanges::TASK_COMPLETED,
    };
    let routing_key = pulse_translator::primary_routing_key(body);
    let mut message = Message::new(exchange, routing_key, to_bytes(body));
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
