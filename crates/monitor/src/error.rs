//! The monitor's error type.

use std::fmt;
use std::path::PathBuf;

/// An error starting or feeding a monitor.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
}

/// What went wrong.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The filter rules were invalid.
    Filter(pulse_filter::Error),
    /// Connecting to the broker failed in a way retrying will not mend
    /// (bad credentials, an unknown vhost, a certificate that does not verify).
    Wire(pulse_wire::Error),
    /// A file could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A recorded message could not be read.
    Replay {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The callback threads could not be started.
    Dispatch(pulse_dispatch::Error),
    /// The monitor's own thread could not be started.
    Spawn(std::io::Error),
    /// The monitor was configured with nothing to call.
    NoCallback,
    /// The push state file could not be opened or read.
    PushState(pulse_push::Error),
    /// The Taskcluster queue client for record details could not be made
    /// (a malformed root URL).
    Details(pulse_taskcluster::Error),
    /// The metrics endpoint could not listen on its address.
    Metrics {
        /// The address asked for.
        address: String,
        /// Why.
        reason: String,
    },
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Error {
        Error { kind }
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Error {
        Error::new(ErrorKind::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Filter(e) => write!(f, "invalid filter: {e}"),
            ErrorKind::Wire(e) => write!(f, "{e}"),
            ErrorKind::Io { path, source } => write!(f, "{}: {source}", path.display()),
            ErrorKind::Replay { path, reason } => {
                write!(f, "cannot replay {}: {reason}", path.display())
            }
            ErrorKind::Dispatch(e) => write!(f, "cannot start the callback threads: {e}"),
            ErrorKind::Spawn(e) => write!(f, "cannot start the monitor thread: {e}"),
            ErrorKind::NoCallback => f.write_str(
                "no callback given: set a build, test, task, push or raw-message callback",
            ),
            ErrorKind::PushState(e) => write!(f, "{e}"),
            ErrorKind::Details(e) => write!(f, "record details: {e}"),
            ErrorKind::Metrics { address, reason } => {
                write!(f, "cannot serve metrics on {address:?}: {reason}")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Filter(e) => Some(e),
            ErrorKind::Wire(e) => Some(e),
            ErrorKind::Io { source, .. } => Some(source),
            ErrorKind::Dispatch(e) => Some(e),
            ErrorKind::Spawn(e) => Some(e),
            ErrorKind::PushState(e) => Some(e),
            ErrorKind::Details(e) => Some(e),
            _ => None,
        }
    }
}

impl From<pulse_filter::Error> for Error {
    fn from(e: pulse_filter::Error) -> Error {
        Error::new(ErrorKind::Filter(e))
    }
}

impl From<pulse_wire::Error> for Error {
    fn from(e: pulse_wire::Error) -> Error {
        Error::new(ErrorKind::Wire(e))
    }
}
