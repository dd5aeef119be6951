//! The filter's error type: rules rejected when a filter is built or read.

use std::fmt;
use std::path::PathBuf;

/// A filter rule or filter file that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
}

/// What was wrong with the rules.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A rule was given as an empty list. Leave a rule unset to match
    /// everything; an empty list would match nothing, which is never meant.
    EmptyList {
        /// The rule's field name, e.g. `platforms`.
        field: &'static str,
    },
    /// A rule contains the empty string.
    EmptyValue {
        /// The rule's field name, e.g. `platforms`.
        field: &'static str,
    },
    /// A build tag group (an inner list of `buildtags`) is empty; it would
    /// match every build and make the other groups pointless.
    EmptyTagGroup {
        /// The group's zero-based position in the outer list.
        index: usize,
    },
    /// A build type other than opt, debug or pgo.
    UnknownBuildType {
        /// The rejected value.
        buildtype: String,
    },
    /// `any_tree` was set together with an explicit list of trees.
    AnyTreeWithTrees {
        /// The trees that were also given.
        trees: Vec<String>,
    },
    /// `any_kind` was set together with an explicit list of kinds.
    AnyKindWithKinds {
        /// The kinds that were also given.
        kinds: Vec<String>,
    },
    /// A result outside Treeherder's vocabulary.
    UnknownResult {
        /// The rejected value.
        result: String,
    },
    /// A filter file is not valid JSON or has unknown or mistyped fields.
    Json {
        /// serde_json's description, with line and column.
        message: String,
    },
    /// A filter file could not be read.
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's description.
        message: String,
    },
}

// Made only here, as in every crate of the workspace: an error reports what
// this crate's own work found, and callers read it with `kind()`.
impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Error {
        Error { kind }
    }

    /// What was wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::EmptyList { field } => write!(
                f,
                "empty list for {field}: leave {field} unset to match everything"
            ),
            ErrorKind::EmptyValue { field } => write!(f, "empty string \"\" in {field}"),
            ErrorKind::EmptyTagGroup { index } => write!(
                f,
                "empty build tag group [] at position {index} in buildtags: a group needs at least one tag"
            ),
            ErrorKind::UnknownBuildType { buildtype } => write!(
                f,
                "unknown build type {buildtype:?} in buildtypes: expected opt, debug or pgo"
            ),
            ErrorKind::AnyTreeWithTrees { trees } => {
                write!(f, "any_tree conflicts with trees {trees:?}: give one or the other")
            }
            ErrorKind::AnyKindWithKinds { kinds } => {
                write!(f, "any_kind conflicts with kinds {kinds:?}: give one or the other")
            }
            ErrorKind::UnknownResult { result } => write!(
                f,
                "unknown result {result:?}: expected one of success, testfailed, busted, skipped, exception, retry, usercancel, superseded, unknown"
            ),
            ErrorKind::Json { message } => write!(f, "invalid filter json: {message}"),
            ErrorKind::Io { path, message } => {
                write!(f, "cannot read filter file {:?}: {message}", path.display().to_string())
            }
        }
    }
}

impl std::error::Error for Error {}
