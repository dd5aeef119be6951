//! The translator's error type.

use std::fmt;

/// An error translating a Pulse message.
///
/// The kinds that mirror the reference translator's exception classes say
/// so in their docs; [`ErrorKind::reference_class`] names the class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    routing_key: Option<String>,
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
    // Buildbot: the reference translator's exception classes
    /// `BadPulseMessageError`: no `branch`, no platform, an unknown message
    /// type, or a release repack without `locales`.
    BadPulseMessage {
        /// Why, in the reference's words.
        reason: String,
    },
    /// `NoLogUrlError`: a test message without `log_url`.
    NoLogUrl,
    /// `NoBuildUrlError`: a build that is not a repack and has no build URL.
    NoBuildUrl,
    /// `BadTagError`: a build tag outside the known vocabulary.
    BadTag {
        /// The rejected tag.
        tag: String,
        /// The build's platform.
        platform: String,
        /// The build's product.
        product: Option<String>,
    },
    /// `BadPlatformError`: a platform outside the known vocabulary.
    BadPlatform {
        /// The rejected platform; `None` when the message names none.
        platform: Option<String>,
    },
    /// `BadOSError`: an OS the platform does not run.
    BadOs {
        /// The platform.
        platform: String,
        /// The rejected OS.
        os: String,
        /// The buildername, for context.
        buildername: Option<String>,
    },
    /// `BadLocalesError`: an empty entry in a release repack's `locales`.
    BadLocales {
        /// The whole `locales` property.
        locales: String,
    },
    // Buildbot: malformed input the reference would have crashed on
    /// A body that is not JSON.
    NotJson {
        /// What the parser said.
        reason: String,
    },
    /// A body (or a part of it) that is JSON but not an object.
    NotAnObject {
        /// Where: `body`, `_meta`, `payload`, `payload.build`.
        field: &'static str,
    },
    /// A field the message must carry is missing.
    MissingField {
        /// The missing field, e.g. `payload.build.properties`.
        field: &'static str,
    },
    /// A field of the wrong JSON type.
    WrongFieldType {
        /// The field, e.g. `property buildnumber`.
        field: String,
        /// What was expected, e.g. `an integer`.
        expected: &'static str,
        /// The JSON type found, e.g. `a string`.
        found: &'static str,
    },
    /// A `buildid` that is neither a date nor an integer.
    BadBuildId {
        /// The rejected buildid.
        buildid: String,
    },
    /// A nightly repack whose `locales` is not a JSON object.
    BadLocalesJson {
        /// The rejected `locales` property.
        locales: String,
    },
    /// A routing key that does not have the expected shape.
    BadRoutingKey {
        /// The rejected key.
        routing_key: String,
        /// What shape was expected.
        expected: &'static str,
    },
    /// A normalized payload that does not read as a build or test record.
    BadPayload {
        /// What the parser said.
        reason: String,
    },
    /// An exchange no translator here reads (see `exchanges::EXCHANGES`).
    UnknownExchange {
        /// The exchange the message came from.
        exchange: String,
    },
    /// An hg push message (`exchange/hgpushes/v2`) that does not read as
    /// version-control-tools documents it.
    MalformedPushMessage {
        /// What was wrong, quoting the bad part.
        reason: String,
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
    /// A result name outside Treeherder's vocabulary.
    BadJobResult {
        /// The rejected name.
        result: String,
    },
}

// Made only here, as in every crate of the workspace: an error reports what
// this crate's own work found, with the context it attaches (the routing
// key), and callers read it with `kind()`.
impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Error {
        Error {
            kind,
            routing_key: None,
        }
    }

    /// The same error, for the message with this routing key.
    pub(crate) fn with_routing_key(mut self, routing_key: impl Into<String>) -> Error {
        self.routing_key = Some(routing_key.into());
        self
    }

    /// The routing key of the message, when known.
    pub fn routing_key(&self) -> Option<&str> {
        self.routing_key.as_deref()
    }

    /// The reference translator's exception class for this error, e.g.
    /// `"NoBuildUrlError"`; `None` for errors the reference had no class for.
    pub fn reference_class(&self) -> Option<&'static str> {
        self.kind.reference_class()
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.kind, f)?;
        match &self.routing_key {
            Some(key) => write!(f, " (routing key {key:?})"),
            None => Ok(()),
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::BadBuildType { buildtype } => {
                write!(f, "unknown build type {buildtype:?}: expected opt, debug or pgo")
            }
            // Buildbot
            ErrorKind::BadPulseMessage { reason } => write!(f, "bad pulse message: {reason}"),
            ErrorKind::NoLogUrl => f.write_str("test message has no \"log_url\" property"),
            ErrorKind::NoBuildUrl => f.write_str("build message has no build url and is no repack"),
            ErrorKind::BadTag { tag, platform, product } => write!(
                f,
                "unknown build tag {tag:?} (platform {platform:?}, product {product:?})"
            ),
            ErrorKind::BadPlatform { platform } => write!(f, "unknown platform {platform:?}"),
            ErrorKind::BadOs { platform, os, buildername } => write!(
                f,
                "unknown os {os:?} for platform {platform:?} (builder {buildername:?})"
            ),
            ErrorKind::BadLocales { locales } => write!(f, "empty locale in locales {locales:?}"),
            ErrorKind::NotJson { reason } => write!(f, "body is not json: {reason}"),
            ErrorKind::NotAnObject { field } => write!(f, "{field:?} is not a json object"),
            ErrorKind::MissingField { field } => write!(f, "message has no {field:?}"),
            ErrorKind::WrongFieldType { field, expected, found } => {
                write!(f, "{field:?} should be {expected} but is {found}")
            }
            ErrorKind::BadBuildId { buildid } => {
                write!(f, "buildid {buildid:?} is neither a date nor an integer")
            }
            ErrorKind::BadLocalesJson { locales } => {
                write!(f, "nightly repack locales {locales:?} is not a json object")
            }
            ErrorKind::BadRoutingKey { routing_key, expected } => {
                write!(f, "bad routing key {routing_key:?}: expected {expected}")
            }
            ErrorKind::BadPayload { reason } => write!(f, "bad normalized payload: {reason}"),
            // Taskcluster
            ErrorKind::UnknownExchange { exchange } => {
                write!(f, "unknown exchange {exchange:?}: no translator reads it")
            }
            ErrorKind::MalformedPushMessage { reason } => {
                write!(f, "malformed hg push message: {reason}")
            }
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
            ErrorKind::BadJobResult { result } => write!(
                f,
                "unknown result {result:?}: expected success, testfailed, busted, skipped, exception, retry, usercancel, superseded or unknown"
            ),
        }
    }
}

impl std::error::Error for Error {}

impl ErrorKind {
    /// The reference translator's exception class for this kind, e.g.
    /// `"NoBuildUrlError"`; `None` for kinds the reference had no class for.
    pub fn reference_class(&self) -> Option<&'static str> {
        match self {
            ErrorKind::BadPulseMessage { .. } => Some("BadPulseMessageError"),
            ErrorKind::NoLogUrl => Some("NoLogUrlError"),
            ErrorKind::NoBuildUrl => Some("NoBuildUrlError"),
            ErrorKind::BadTag { .. } => Some("BadTagError"),
            ErrorKind::BadPlatform { .. } => Some("BadPlatformError"),
            ErrorKind::BadOs { .. } => Some("BadOSError"),
            ErrorKind::BadLocales { .. } => Some("BadLocalesError"),
            _ => None,
        }
    }
}
