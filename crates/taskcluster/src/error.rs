//! [`Error`]: what failed, at which URL, and why.

use std::fmt;
use std::time::Duration;

/// A request to the queue (or an artifact download) that failed. Every kind
/// but [`ErrorKind::Tls`] and [`ErrorKind::BadId`] names the URL asked.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The system's TLS library could not be set up.
    Tls {
        /// Why.
        reason: String,
    },
    /// A task id, task group id or artifact name that would not make a safe
    /// URL; nothing was asked.
    BadId {
        /// What it should have been: "task id", "task group id", "artifact name".
        what: &'static str,
        /// The value given.
        value: String,
    },
    /// The server answered with a status other than 2xx (after the retries,
    /// for a 5xx). 404 is a task, group or artifact the queue does not know
    /// (or that has expired).
    Status {
        /// The URL asked.
        url: String,
        /// The HTTP status.
        status: u16,
        /// How many requests were made.
        attempts: u32,
    },
    /// No answer within the client's timeout. Not retried: the time the
    /// caller allowed is spent.
    Timeout {
        /// The URL asked.
        url: String,
        /// The timeout in force.
        after: Duration,
    },
    /// The connection failed or broke (after the retries): refused, reset,
    /// a name that does not resolve, too many redirects…
    Transport {
        /// The URL asked.
        url: String,
        /// Why, as the HTTP library says it.
        reason: String,
        /// How many requests were made.
        attempts: u32,
    },
    /// The body was larger than the cap, counted after decompression.
    TooLarge {
        /// The URL asked.
        url: String,
        /// The cap in bytes.
        limit: u64,
    },
    /// The body is not the JSON the API promises.
    BadBody {
        /// The URL asked.
        url: String,
        /// What the JSON parser said.
        reason: String,
    },
    /// A paged answer that never ends (a continuation token seen before, or
    /// more pages than the client allows).
    Paging {
        /// The URL of the first page.
        url: String,
        /// Why.
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

    /// The URL that failed, when a request was made.
    pub fn url(&self) -> Option<&str> {
        match &self.kind {
            ErrorKind::Tls { .. } | ErrorKind::BadId { .. } => None,
            ErrorKind::Status { url, .. }
            | ErrorKind::Timeout { url, .. }
            | ErrorKind::Transport { url, .. }
            | ErrorKind::TooLarge { url, .. }
            | ErrorKind::BadBody { url, .. }
            | ErrorKind::Paging { url, .. } => Some(url),
        }
    }

    /// The HTTP status, when the server answered with an error status.
    pub fn status(&self) -> Option<u16> {
        match &self.kind {
            ErrorKind::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the queue does not know the task, group or artifact (404):
    /// asking again will not help.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Tls { reason } => write!(f, "cannot set up tls: {reason}"),
            ErrorKind::BadId { what, value } => write!(f, "{value:?} is not a {what}"),
            ErrorKind::Status {
                url,
                status,
                attempts,
            } => {
                write!(f, "cannot fetch {url:?}: the server answered {status}")?;
                if *attempts > 1 {
                    write!(f, " ({attempts} attempts)")?;
                }
                Ok(())
            }
            ErrorKind::Timeout { url, after } => {
                write!(f, "cannot fetch {url:?}: no answer within {after:?}")
            }
            ErrorKind::Transport {
                url,
                reason,
                attempts,
            } => {
                write!(f, "cannot fetch {url:?}: {reason}")?;
                if *attempts > 1 {
                    write!(f, " ({attempts} attempts)")?;
                }
                Ok(())
            }
            ErrorKind::TooLarge { url, limit } => {
                write!(f, "cannot fetch {url:?}: the body is over {limit} bytes")
            }
            ErrorKind::BadBody { url, reason } => {
                write!(f, "cannot read {url:?}: {reason}")
            }
            ErrorKind::Paging { url, reason } => write!(f, "cannot page {url:?}: {reason}"),
        }
    }
}

impl std::error::Error for Error {}
