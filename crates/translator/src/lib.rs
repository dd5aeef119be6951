//! Translate Pulse build messages into typed build and test records.
#![deny(missing_docs)]

mod error;
pub mod record;
pub mod taskcluster;

pub use error::{Error, ErrorKind};
pub use record::{BuildRecord, BuildType, JobInfo, NormalizedMessage, Record, TestRecord};
