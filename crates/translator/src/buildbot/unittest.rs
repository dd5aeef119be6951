//! Unit test and talos messages: one test record each.

use std::sync::OnceLock;

use regex::Regex;

use super::job::{required_buildername, Job, Translation};
use super::properties::owned;
use crate::normalized::{short_key, test_routing_key};
use crate::tables::{self, OsConversion};
use crate::{ErrorKind, Locales, NormalizedMessage, Record, TestRecord};

impl Translation<'_> {
    /// The reference translator's `process_unittest`.
    pub(super) fn unittest(
        &self,
        mut job: Job<'_>,
        os: &str,
        test: &str,
    ) -> Result<Vec<NormalizedMessage>, ErrorKind> {
        let os = match tables::os_conversion(os) {
            Some(OsConversion::Fixed(os)) => os.to_owned(),
            Some(OsConversion::FromBuildername) => {
                os_from_buildername(required_buildername(&job)?).to_owned()
            }
            None => os.to_owned(),
        };
        let talos = required_buildername(&job)?.contains("talos");
        if let Some(stage_platform) = job.props.stage_platform.take().filter(|p| !p.is_empty()) {
            job.props.platform = Some(stage_platform);
        }
        let platform = owned(job.props.platform.take());
        if platform.as_deref().is_some_and(tables::is_ignored_platform) {
            return Ok(Vec::new());
        }
        if job.props.logurl.as_deref().is_none_or(str::is_empty) {
            return Err(ErrorKind::NoLogUrl);
        }
        let oses = match platform.as_deref().and_then(tables::platform_oses) {
            Some(oses) => oses,
            None => return Err(ErrorKind::BadPlatform { platform }),
        };
        let platform = platform.unwrap_or_default();
        if !oses.contains(&os.as_str()) {
            return Err(ErrorKind::BadOs {
                platform,
                os,
                buildername: owned(job.props.buildername),
            });
        }
        let record = TestRecord {
            job: self.job_info(job, platform, Locales::Unnamed, None),
            os,
            test: test.to_owned(),
            talos,
        };
        let routing_key = test_routing_key(&record, short_key(self.key));
        Ok(vec![NormalizedMessage {
            routing_key,
            payload: Record::Test(record),
        }])
    }
}

fn os_from_buildername(buildername: &str) -> &'static str {
    static PATTERNS: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    let patterns = PATTERNS.get_or_init(|| {
        tables::OS_BY_BUILDERNAME
            .iter()
            .map(|(pattern, os)| {
                (
                    Regex::new(&format!("(?i){pattern}")).expect("valid os pattern"),
                    *os,
                )
            })
            .collect()
    });
    patterns
        .iter()
        .find(|(pattern, _)| pattern.is_match(buildername))
        .map_or("unknown", |(_, os)| os)
}
