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
    // Taskcluster
    /// An exchange other than `exchange/taskcluster-queue/v1/task-*`.
    UnknownTaskExchange {
        /// The rejected exchange.
        exchange: String,
    },
    /// A Taskcluster message body that is not JSON of the expected shape.
    MalformedTaskMessage {
        /// What the parser said.
        reason: String,
    },
    /// A Taskcluster message without a field every message carries.
    MissingTaskField {
        /// The missing field, e.g. `status.taskId`.
        field: &'static str,
    },
    /// A task with no `tc-treeherder.v2.<project>.<revision>` route.
    MissingTreeherderRoute {
        /// The task.
        task_id: String,
    },
    /// A `tc-treeherder` route that does not read as project and revision.
    BadTreeherderRoute {
        /// The rejected route.
        route: String,
    },
    /// A task with neither a `label` tag nor a task definition naming it.
    MissingTaskLabel {
        /// The task.
        task_id: String,
    },
    /// A task label not shaped `<kind>-<platform>/<buildtype>[-<test>]`.
    UnknownLabelShape {
        /// The rejected label.
        label: String,
    },
    /// A Taskcluster platform outside the generic platform vocabulary.
    UnknownTaskPlatform {
        /// The rejected platform, e.g. `gecko-decision`.
        platform: String,
    },
    /// A task that is neither a build nor a test (decision, action, lint…).
    UnsupportedTaskKind {
        /// The task label, or the task id when it has none.
        label: String,
        /// The kind that was not understood.
        kind: String,
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
            // Taskcluster
            ErrorKind::UnknownTaskExchange { exchange } => write!(
                f,
                "unknown exchange {exchange:?}: expected exchange/taskcluster-queue/v1/task-*"
            ),
            ErrorKind::MalformedTaskMessage { reason } => {
                write!(f, "malformed taskcluster message: {reason}")
            }
            ErrorKind::MissingTaskField { field } => {
                write!(f, "taskcluster message has no {field:?}")
            }
            ErrorKind::MissingTreeherderRoute { task_id } => {
                write!(f, "task {task_id:?} has no tc-treeherder.v2 route")
            }
            ErrorKind::BadTreeherderRoute { route } => write!(
                f,
                "bad treeherder route {route:?}: expected tc-treeherder.v2.<project>.<revision>[.<pushid>]"
            ),
            ErrorKind::MissingTaskLabel { task_id } => {
                write!(f, "task {task_id:?} has no label: no tags and no task definition")
            }
            ErrorKind::UnknownLabelShape { label } => write!(
                f,
                "unknown task label shape {label:?}: expected <kind>-<platform>/<buildtype>[-<test>]"
            ),
            ErrorKind::UnknownTaskPlatform { platform } => {
                write!(f, "unknown taskcluster platform {platform:?}")
            }
            ErrorKind::UnsupportedTaskKind { label, kind } => {
                write!(f, "task {label:?} of kind {kind:?} is neither a build nor a test")
            }
        }
    }
}

impl std::error::Error for Error {}
