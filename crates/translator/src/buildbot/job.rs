//! One message's translation: what every job has (tree, locale, result,
//! build type), which kind of job the routing key says it is, and the
//! [`JobInfo`] every record carries.

use super::key::match_unittest;
use super::properties::{owned, Properties};
use super::raw::{self, Slot};
use super::scalar::Scalar;
use crate::Options;
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

    /// What every record of this job carries; `locales` and `repack` as
    /// the kind of build says.
    pub(super) fn job_info(
        &self,
        job: Job<'_>,
        platform: String,
        locales: Locales,
        repack: Option<bool>,
    ) -> JobInfo {
        let props = job.props;
        let mut info = JobInfo::new(self.key.to_owned(), job.tree, platform, job.buildtype);
        info.product = owned(props.product);
        info.revision = owned(props.revision);
        info.builddate = props.builddate;
        info.buildername = owned(props.buildername);
        info.buildid = owned(props.buildid);
        info.job_number = props.job_number;
        info.build_number = props.build_number;
        info.previous_buildid = owned(props.previous_buildid);
        info.status = job.status;
        info.locale = owned(props.locale);
        info.locales = locales;
        info.buildurl = owned(props.buildurl);
        info.testsurl = owned(props.testsurl);
        info.test_packages_url = owned(props.test_packages_url);
        info.symbols_url = owned(props.symbols_url);
        info.logurl = owned(props.logurl);
        info.release = owned(props.release);
        info.slave = owned(props.slave);
        info.repack = repack;
        info.version = owned(props.version);
        info.timestamp = Some(self.options.clock.timestamp());
        info.blobber_files = props.blobber_files;
        info.completemarurl = owned(props.completemarurl);
        info.completemarhash = owned(props.completemarhash);
        info
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
