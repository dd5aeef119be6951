//! The translator's error type.

use std::fmt;

/// An error translating a Pulse message.
///
/// The kinds that mirror the reference translator's exception classes say
/// so in their docs; [`ErrorKind::reference_class`] names the class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
}

/// What went wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A build type other than opt, debug or pgo.
    BadBuildType {
        /// The rejected value.
        buildtype: String,
    },
}

impl Error {
    /// An error of the given kind.
    pub fn new(kind: ErrorKind) -> Error {
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
            ErrorKind::BadBuildType { buildtype } => {
                write!(f, "unknown build type {buildtype:?}: expected opt, debug or pgo")
            }
        }
    }
}

impl std::error::Error for Error {}
