//! The one error type of the crate: [`Error`], whose [`ErrorKind`] says
//! what went wrong.

use std::fmt;
use std::io;
use std::net::SocketAddr;

/// Why the page could not be served.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
}

/// What went wrong.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The address is not a loopback address and
    /// [`PageOptions::allow_remote`](crate::PageOptions::allow_remote) was
    /// not set: the page has no authentication.
    NotLoopback(SocketAddr),
    /// The address could not be bound (in use, not ours, no permission).
    Bind(SocketAddr, io::Error),
    /// A thread of the server could not be started.
    Spawn(io::Error),
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
            ErrorKind::NotLoopback(address) => write!(
                f,
                "refusing to serve the page on \"{address}\": it is not a loopback address and \
                 the page has no authentication (allow it explicitly to serve other machines)"
            ),
            ErrorKind::Bind(address, e) => write!(f, "cannot listen on \"{address}\": {e}"),
            ErrorKind::Spawn(e) => write!(f, "cannot start a thread of the page's server: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Bind(_, e) | ErrorKind::Spawn(e) => Some(e),
            ErrorKind::NotLoopback(_) => None,
        }
    }
}
