//! [`Error`]: why a local queue could not start.

use std::fmt;
use std::net::SocketAddr;

/// A local queue that could not start.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The address could not be listened on (taken, not this machine's).
    Bind {
        /// The address asked for.
        address: SocketAddr,
        /// Why, as the system says it.
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
            ErrorKind::Bind { address, reason } => {
                write!(f, "cannot serve a local queue at {address}: {reason}")
            }
        }
    }
}

impl std::error::Error for Error {}
