//! The state file: pushes and their tasks in SQLite, written a batch at a
//! time in one transaction, read back when a tracker opens it.
//!
//! WAL journal with `synchronous = NORMAL`: a committed batch survives the
//! process being killed at any point, which is what the monitor must
//! survive. A power loss or operating-system crash may lose the last
//! committed batches: the one case where acknowledged messages can be lost.
//!
//! A tracker without a state file keeps the tasks of its finished pushes
//! in a [`Store::temporary`] database of the same schema: SQLite's private
//! temporary file, whose page cache is bounded and which is deleted when
//! the tracker goes.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use pulse_translator::{FailureLine, JobResult, TaskState};
use rusqlite::{params, Connection};

use crate::summary::Counts;
use crate::task::TaskEntry;
use crate::{Error, ErrorKind};

/// The schema's version, in `PRAGMA user_version`: a file of another
/// version is refused rather than misread.
const SCHEMA_VERSION: i64 = 3;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS pushes (
    tree TEXT NOT NULL,
    revision TEXT NOT NULL,
    push_id INTEGER,
    author TEXT,
    pushed_at TEXT,
    task_groups TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_activity TEXT NOT NULL,
    first_failure_at TEXT,
    groups_resolved INTEGER NOT NULL,
    finished INTEGER NOT NULL,
    announced TEXT,
    PRIMARY KEY (tree, revision)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tasks (
    tree TEXT NOT NULL,
    revision TEXT NOT NULL,
    task_id TEXT NOT NULL,
    label TEXT,
    kind TEXT NOT NULL,
    task_group_id TEXT,
    defined INTEGER NOT NULL,
    run_id INTEGER,
    state TEXT NOT NULL,
    result TEXT NOT NULL,
    logurl TEXT,
    at TEXT,
    details TEXT,
    PRIMARY KEY (tree, revision, task_id)
) WITHOUT ROWID;
";

/// What the tracker keeps of a push besides its tasks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PushRow {
    pub(crate) tree: String,
    pub(crate) revision: String,
    pub(crate) push_id: Option<u64>,
    pub(crate) author: Option<String>,
    pub(crate) pushed_at: Option<DateTime<Utc>>,
    pub(crate) task_groups: Vec<String>,
    pub(crate) first_seen: DateTime<Utc>,
    pub(crate) last_activity: DateTime<Utc>,
    pub(crate) first_failure_at: Option<DateTime<Utc>>,
    pub(crate) groups_resolved: u32,
    /// Finished and announced (or silently finished, unchanged).
    pub(crate) finished: bool,
    /// The counts last announced as finished.
    pub(crate) announced: Option<Counts>,
}

impl PushRow {
    pub(crate) fn new(tree: String, revision: String, now: DateTime<Utc>) -> PushRow {
        PushRow {
            tree,
            revision,
            push_id: None,
            author: None,
            pushed_at: None,
            task_groups: Vec::new(),
            first_seen: now,
            last_activity: now,
            first_failure_at: None,
            groups_resolved: 0,
            finished: false,
            announced: None,
        }
    }
}

/// An open state file, or a tracker's temporary database.
#[derive(Debug)]
pub(crate) struct Store {
    path: PathBuf,
    connection: Connection,
}

/// The name errors give a temporary database, which has no path.
const TEMPORARY: &str = "(temporary database of finished pushes' tasks)";

/// The columns a task is read from, in the order [`task_of_row`] reads.
const TASK_COLUMNS: &str = "task_id, label, kind, task_group_id, defined, run_id, state, result,
                            logurl, at, details";

impl Store {
    /// Opens (or creates) the state file at `path`.
    pub(crate) fn open(path: &Path) -> Result<Store, Error> {
        let fail = |e: rusqlite::Error| store_error(path, "cannot open", e);
        let connection = Connection::open(path).map_err(fail)?;
        let version: i64 = connection
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(fail)?;
        let tables: i64 = connection
            .query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get(0))
            .map_err(fail)?;
        if tables > 0 && version != SCHEMA_VERSION {
            return Err(Error::new(ErrorKind::State {
                path: path.to_path_buf(),
                reason: format!(
                    "schema version {version}, expected {SCHEMA_VERSION}: not a state file of this version"
                ),
            }));
        }
        Store::with_schema(
            path,
            connection,
            // Exclusive: one monitor owns a state file (a second one is
            // refused instead of double-counting), and SQLite then keeps
            // its cache and skips the shared-memory index between writes.
            "PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
        )
    }

    /// A private temporary database of the same schema (SQLite's file for
    /// the name ""): written only when a push's tasks leave memory, gone
    /// when dropped, so neither a crash nor durability matters.
    pub(crate) fn temporary() -> Result<Store, Error> {
        let path = Path::new(TEMPORARY);
        let connection = Connection::open("").map_err(|e| store_error(path, "cannot open", e))?;
        Store::with_schema(
            path,
            connection,
            "PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF;",
        )
    }

    fn with_schema(path: &Path, connection: Connection, pragmas: &str) -> Result<Store, Error> {
        connection
            .execute_batch(&format!(
                "{pragmas} {SCHEMA} PRAGMA user_version = {SCHEMA_VERSION};"
            ))
            .map_err(|e| store_error(path, "cannot open", e))?;
        Ok(Store {
            path: path.to_path_buf(),
            connection,
        })
    }

    /// Every push.
    pub(crate) fn pushes(&self) -> Result<Vec<PushRow>, Error> {
        let fail = |e: rusqlite::Error| store_error(&self.path, "cannot read", e);
        let mut statement = self
            .connection
            .prepare(
                "SELECT tree, revision, push_id, author, pushed_at, task_groups, first_seen,
                        last_activity, first_failure_at, groups_resolved, finished, announced
                 FROM pushes",
            )
            .map_err(fail)?;
        let pushes = statement
            .query_map([], |row| {
                Ok(PushRow {
                    tree: row.get(0)?,
                    revision: row.get(1)?,
                    push_id: row.get::<_, Option<i64>>(2)?.map(|id| id as u64),
                    author: row.get(3)?,
                    pushed_at: row.get(4)?,
                    task_groups: json_column(row, 5)?,
                    first_seen: row.get(6)?,
                    last_activity: row.get(7)?,
                    first_failure_at: row.get(8)?,
                    groups_resolved: row.get(9)?,
                    finished: row.get(10)?,
                    announced: row
                        .get::<_, Option<String>>(11)?
                        .map(|text| parse_json(11, &text))
                        .transpose()?,
                })
            })
            .map_err(fail)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(fail)?;
        Ok(pushes)
    }

    /// Every task, with the push it belongs to, one at a time: the caller
    /// keeps what it needs, not the whole file.
    pub(crate) fn tasks(
        &self,
        mut each: impl FnMut((String, String), TaskEntry),
    ) -> Result<(), Error> {
        let fail = |e: rusqlite::Error| store_error(&self.path, "cannot read", e);
        let mut statement = self
            .connection
            .prepare(&format!("SELECT tree, revision, {TASK_COLUMNS} FROM tasks"))
            .map_err(fail)?;
        let mut rows = statement.query([]).map_err(fail)?;
        while let Some(row) = rows.next().map_err(fail)? {
            let key = (row.get(0).map_err(fail)?, row.get(1).map_err(fail)?);
            each(key, task_of_row(row, 2).map_err(fail)?);
        }
        Ok(())
    }

    /// One task of a push, if it was written.
    pub(crate) fn task(
        &self,
        (tree, revision): &(String, String),
        task_id: &str,
    ) -> Result<Option<TaskEntry>, Error> {
        let fail = |e: rusqlite::Error| store_error(&self.path, "cannot read", e);
        let mut statement = self
            .connection
            .prepare_cached(&format!(
                "SELECT {TASK_COLUMNS} FROM tasks WHERE tree = ?1 AND revision = ?2 AND task_id = ?3"
            ))
            .map_err(fail)?;
        let mut rows = statement
            .query(params![tree, revision, task_id])
            .map_err(fail)?;
        match rows.next().map_err(fail)? {
            Some(row) => Ok(Some(task_of_row(row, 0).map_err(fail)?)),
            None => Ok(None),
        }
    }

    /// How many tasks it holds.
    #[cfg(test)]
    pub(crate) fn count_tasks(&self) -> i64 {
        self.connection
            .query_row("SELECT count(*) FROM tasks", [], |row| row.get(0))
            .expect("counting tasks")
    }

    /// Writes these pushes and tasks and removes these pushes, all or
    /// nothing.
    pub(crate) fn save(
        &mut self,
        pushes: &[&PushRow],
        tasks: &[(&(String, String), &TaskEntry)],
        removed: &[(String, String)],
    ) -> Result<(), Error> {
        let path = self.path.clone();
        let fail = |e: rusqlite::Error| store_error(&path, "cannot write", e);
        let transaction = self.connection.transaction().map_err(fail)?;
        {
            let mut upsert_push = transaction
                .prepare_cached(
                    "INSERT OR REPLACE INTO pushes (tree, revision, push_id, author, pushed_at,
                        task_groups, first_seen, last_activity, first_failure_at,
                        groups_resolved, finished, announced)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                )
                .map_err(fail)?;
            for push in pushes {
                let announced = push
                    .announced
                    .map(|counts| serde_json::to_string(&counts).expect("counts serialize"));
                upsert_push
                    .execute(params![
                        push.tree,
                        push.revision,
                        push.push_id.map(|id| id as i64),
                        push.author,
                        push.pushed_at,
                        serde_json::to_string(&push.task_groups).expect("strings serialize"),
                        push.first_seen,
                        push.last_activity,
                        push.first_failure_at,
                        push.groups_resolved,
                        push.finished,
                        announced,
                    ])
                    .map_err(fail)?;
            }
            let mut upsert_task = transaction
                .prepare_cached(
                    "INSERT OR REPLACE INTO tasks (tree, revision, task_id, label, kind,
                        task_group_id, defined, run_id, state, result, logurl, at, details)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                )
                .map_err(fail)?;
            for ((tree, revision), task) in tasks {
                upsert_task
                    .execute(params![
                        tree,
                        revision,
                        task.task_id,
                        task.label,
                        task.kind,
                        task.task_group_id,
                        task.defined,
                        task.run_id,
                        task.state.as_str(),
                        task.result.as_str(),
                        task.logurl,
                        task.at,
                        Details::of(task)
                            .map(|details| serde_json::to_string(&details)
                                .expect("details serialize")),
                    ])
                    .map_err(fail)?;
            }
            for (tree, revision) in removed {
                for table in ["pushes", "tasks"] {
                    transaction
                        .execute(
                            &format!("DELETE FROM {table} WHERE tree = ?1 AND revision = ?2"),
                            params![tree, revision],
                        )
                        .map_err(fail)?;
                }
            }
        }
        transaction.commit().map_err(fail)
    }
}

/// A task's fetched details, one JSON column.
#[derive(serde::Serialize, serde::Deserialize)]
struct Details {
    #[serde(default)]
    failures: Vec<FailureLine>,
    #[serde(default)]
    unavailable: Option<String>,
}

impl Details {
    fn of(task: &TaskEntry) -> Option<Details> {
        (!task.failures.is_empty() || task.details_unavailable.is_some()).then(|| Details {
            failures: task.failures.clone(),
            unavailable: task.details_unavailable.clone(),
        })
    }
}

impl TaskEntry {
    fn with_details(mut self, details: Option<Details>) -> TaskEntry {
        if let Some(details) = details {
            self.failures = details.failures;
            self.details_unavailable = details.unavailable;
        }
        self
    }
}

/// The task in [`TASK_COLUMNS`], starting at column `first`.
fn task_of_row(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<TaskEntry> {
    let column = |i: usize| first + i;
    let text = |i: usize| -> rusqlite::Result<String> {
        Ok(format!("\"{}\"", row.get::<_, String>(column(i))?))
    };
    Ok(TaskEntry {
        task_id: row.get(column(0))?,
        label: row.get(column(1))?,
        kind: row.get(column(2))?,
        task_group_id: row.get(column(3))?,
        defined: row.get(column(4))?,
        run_id: row.get(column(5))?,
        state: parse_json::<TaskState>(column(6), &text(6)?)?,
        result: parse_json::<JobResult>(column(7), &text(7)?)?,
        logurl: row.get(column(8))?,
        at: row.get(column(9))?,
        failures: Vec::new(),
        details_unavailable: None,
    }
    .with_details(
        row.get::<_, Option<String>>(column(10))?
            .map(|text| parse_json::<Details>(column(10), &text))
            .transpose()?,
    ))
}

fn json_column<T: serde::de::DeserializeOwned>(
    row: &rusqlite::Row<'_>,
    index: usize,
) -> rusqlite::Result<T> {
    let text: String = row.get(index)?;
    parse_json(index, &text)
}

fn parse_json<T: serde::de::DeserializeOwned>(index: usize, text: &str) -> rusqlite::Result<T> {
    serde_json::from_str(text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn store_error(path: &Path, doing: &str, error: rusqlite::Error) -> Error {
    let busy = error.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy);
    let reason = if busy {
        format!("{doing} it: {error}: another monitor (or program) has it open")
    } else {
        format!("{doing} it: {error}")
    };
    Error::new(ErrorKind::State {
        path: path.to_path_buf(),
        reason,
    })
}
