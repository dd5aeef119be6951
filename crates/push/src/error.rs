//! The push crate's error type.

use std::fmt;
use std::path::PathBuf;

/// An error of the push tracker: its state file.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
}

/// What went wrong.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The state file cannot be opened, read or written: a path that is
    /// not an SQLite file, a full disk, a read-only directory, a file of
    /// another schema version.
    State {
        /// The state file.
        path: PathBuf,
        /// What failed, in SQLite's words.
        reason: String,
    },
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Error {
        Error { kind }
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::State { path, reason } => {
                write!(
                    f,
                    "push state file {:?}: {reason}",
                    path.display().to_string()
                )
            }
        }
    }
}

impl std::error::Error for Error {}
