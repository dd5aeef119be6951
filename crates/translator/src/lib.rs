//! Translate Pulse build messages into typed build and test records.
#![deny(missing_docs)]

pub mod buildbot;
pub mod buildername;
mod error;
pub mod normalized;
mod raw;
pub mod record;
pub mod tables;
pub mod taskcluster;

pub use error::{Error, ErrorKind};
pub use record::{BuildRecord, BuildType, JobInfo, NormalizedMessage, Record, TestRecord};
