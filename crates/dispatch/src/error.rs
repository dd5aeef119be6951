//! The dispatcher's error type.

use std::fmt;

/// A pool that could not be started.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
}

/// What went wrong.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The operating system refused to start a worker thread. The workers
    /// already started have been shut down.
    Spawn {
        /// The name the thread would have had, e.g. `pulse-dispatch-3`.
        thread: String,
        /// The operating system's error.
        source: std::io::Error,
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
            ErrorKind::Spawn { thread, source } => {
                write!(f, "cannot start worker thread {thread:?}: {source}")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Spawn { source, .. } => Some(source),
        }
    }
}
