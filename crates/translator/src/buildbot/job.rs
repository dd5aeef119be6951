//! One message's translation: what every job has (tree, locale, result,
//! build type), which kind of job the routing key says it is, and the
//! [`JobInfo`] every record carries.

use super::key::match_unittest;
use super::properties::{owned, Properties};
use super::raw::{self, Slot};
use super::scalar::Scalar;
use super::Options;
use crate::{BuildType, ErrorKind, JobInfo, Locales, NormalizedMessage, Status};

/// The message being translated: its routing key and the options.
pub(super) struct Translation<'k> {
    pub(super) key: &'k str,
    pub(super) options: &'k Options,
}

impl Translation<'_> {
    /// The normalized messages of a message's payload.
    pub(super) fn run(
        &self,
        payload: Slot<raw::Payload<'_>>,
    ) -> Result<Vec<NormalizedMessage>, ErrorKind> {
        let build = match payload {
            Slot::Present(raw::Payload {
                build: Slot::Present(build),
            }) => build,
            Slot::Present(raw::Payload {
                build: Slot::Missing,
            }) => {
                return Err(ErrorKind::MissingField {
                    field: "payload.build",
                })
            }
            Slot::Present(raw::Payload {
                build: Slot::Wrong(_),
            }) => {
                return Err(ErrorKind::NotAnObject {
                    field: "payload.build",
                })
            }
            Slot::Missing => return Err(ErrorKind::MissingField { field: "payload" }),
            Slot::Wrong(_) => return Err(ErrorKind::NotAnObject { field: "payload" }),
        };
        let properties = match build.properties {
            Slot::Present(properties) => properties,
            Slot::Missing => {
                return Err(ErrorKind::MissingField {
                    field: "payload.build.properties",
                })
            }
            Slot::Wrong(found) => {
                return Err(ErrorKind::WrongFieldType {
                    field: "payload.build.properties".into(),
                    expected: "an array",
                    found,
                })
            }
        };
        let mut props = properties;
        if let Some(error) = props.error.take() {
            return Err(error);
        }

        let tree = match props.tree.take() {
            Some(tree) if !tree.is_empty() => tree.into_owned(),
            _ => {
                return Err(ErrorKind::BadPulseMessage {
                    reason: "no 'branch' property".into(),
                })
            }
        };
        if props.locale.as_deref().is_none_or(str::is_empty) {
            props.locale = Some("en-US".into());
        }
        let status = match build.results {
            Some(Scalar::Int(code)) => Some(Status::from_code(code)),
            Some(Scalar::Null) => None,
            Some(other) => {
                return Err(ErrorKind::WrongFieldType {
                    field: "payload.build.results".into(),
                    expected: "an integer or null",
                    found: other.json_type(),
                })
            }
            None => {
                return Err(ErrorKind::MissingField {
                    field: "payload.build.results",
                })
            }
        };
        let buildtype = if self.key.contains("debug") {
            BuildType::Debug
        } else if self.key.contains("pgo") {
            BuildType::Pgo
        } else {
            BuildType::Opt
        };
        let job = Job {
            props,
            tree,
            status,
            buildtype,
        };

        if let Some(unittest) = match_unittest(self.key, &job.tree) {
            if unittest.finished {
                return Ok(Vec::new());
            }
            return self.unittest(job, unittest.os, unittest.test);
        }
        const INTERNAL_JOBS: [&str; 5] = [
            "schedulers",
            "tag",
            "submitter",
            "final_verification",
            "fuzzer",
        ];
        if self.key.contains("source")
            || INTERNAL_JOBS.iter().any(|job| self.key.contains(job))
            || self.key.contains("jetpack")
        {
            return Ok(Vec::new());
        }
        self.build(job)
    }

    pub(super) fn job_info(
        &self,
        job: Job<'_>,
        platform: String,
        locales: Locales,
        repack: Option<bool>,
    ) -> JobInfo {
        let props = job.props;
        JobInfo {
            key: self.key.to_owned(),
            tree: job.tree,
            platform,
            buildtype: job.buildtype,
            product: owned(props.product),
            revision: owned(props.revision),
            builddate: props.builddate,
            buildername: owned(props.buildername),
            buildid: owned(props.buildid),
            job_number: props.job_number,
            build_number: props.build_number,
            previous_buildid: owned(props.previous_buildid),
            status: job.status,
            locale: owned(props.locale),
            locales,
            buildurl: owned(props.buildurl),
            testsurl: owned(props.testsurl),
            test_packages_url: owned(props.test_packages_url),
            symbols_url: owned(props.symbols_url),
            logurl: owned(props.logurl),
            release: owned(props.release),
            slave: owned(props.slave),
            repack,
            version: owned(props.version),
            timestamp: Some(self.options.clock.timestamp()),
            blobber_files: props.blobber_files,
            completemarurl: owned(props.completemarurl),
            completemarhash: owned(props.completemarhash),
            task_id: None,
            run_id: None,
            worker_type: None,
            tier: None,
            kind: None,
            result: None,
        }
    }
}

/// What every message has once its properties are read.
pub(super) struct Job<'a> {
    pub(super) props: Box<Properties<'a>>,
    pub(super) tree: String,
    pub(super) status: Option<Status>,
    pub(super) buildtype: BuildType,
}

pub(super) fn required_buildername<'j>(job: &'j Job<'_>) -> Result<&'j str, ErrorKind> {
    job.props
        .buildername
        .as_deref()
        .ok_or(ErrorKind::MissingField {
            field: "property buildername",
        })
}
