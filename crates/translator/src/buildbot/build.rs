//! Build messages: the platform, the build tags the routing key names,
//! and the reference translator's checks; repacks are in `repack`.

use std::borrow::Cow;

use super::job::{Job, Translation};
use super::key::{guess_platform, match_build};
use super::properties::owned;
use crate::normalized::{build_routing_key, short_key};
use crate::tables;
use crate::{BuildRecord, ErrorKind, JobInfo, Locales, NormalizedMessage, Record};

impl Translation<'_> {
    /// The reference translator's `process_build`.
    pub(super) fn build(&self, mut job: Job<'_>) -> Result<Vec<NormalizedMessage>, ErrorKind> {
        let platform = match job.props.platform.take().filter(|p| !p.is_empty()) {
            Some(platform) => platform.into_owned(),
            None => match job.props.stage_platform.take().filter(|p| !p.is_empty()) {
                Some(stage_platform) => stage_platform.into_owned(),
                None => match guess_platform(self.key) {
                    Some(guess) => guess.to_owned(),
                    None => {
                        return Err(ErrorKind::BadPulseMessage {
                            reason: "no \"platform\" property".into(),
                        })
                    }
                },
            },
        };
        let Some(matched) = match_build(self.key, &job.tree, &platform) else {
            return Err(ErrorKind::BadPulseMessage {
                reason: format!("unknown message type, platform: {platform}"),
            });
        };
        if matched.finished {
            return Ok(Vec::new());
        }
        let mut tags: Vec<String> = matched
            .tags
            .split(['_', '-'])
            .filter(|tag| !tables::REDUNDANT_TAGS.contains(tag))
            .filter(|tag| tag.is_empty() || !tag.bytes().all(|b| b.is_ascii_digit()))
            .map(str::to_owned)
            .collect();
        if let Some(prefix) = matched.prefix {
            if prefix.contains("release") {
                tags.push("release".into());
            }
            if prefix.contains("jetpack") {
                tags.push("jetpack".into());
            }
        }
        if matched.xulrunner || tags.iter().any(|tag| tag == "xulrunner") {
            job.props.product = Some("xulrunner".into());
        }
        if platform.contains("emulator") && !self.key.contains("try") {
            if let Some(buildid) = job.props.buildid.as_deref().filter(|id| !id.is_empty()) {
                job.props.buildurl = Some(Cow::Owned(format!(
                    "https://pvtbuilds.mozilla.org/pub/mozilla.org/b2g/tinderbox-builds/{}-{}/{}/emulator.tar.gz",
                    job.tree, platform, buildid
                )));
            }
        }

        let short_key = short_key(self.key);
        if self.key.contains("repack") {
            return self.release_repack(job, platform, tags, short_key);
        }
        if let Some(locales) = owned(job.props.locales.take().filter(|l| !l.is_empty())) {
            return self.nightly_repack(job, platform, tags, short_key, locales);
        }
        if !check_build(&platform, &tags, &job, false)? {
            return Ok(Vec::new());
        }
        // The nightly check above took `locales`, empty if there was one:
        // the record says null, as for a build without the property.
        let job = self.job_info(job, platform, Locales::Unnamed, None);
        Ok(vec![build_message(job, tags, short_key)])
    }
}

/// The reference's `process_build` checks: `Ok(false)` for an ignored
/// platform, an error for an unknown platform or tag or a missing build URL.
pub(super) fn check_build(
    platform: &str,
    tags: &[String],
    job: &Job<'_>,
    repack: bool,
) -> Result<bool, ErrorKind> {
    if tables::is_ignored_platform(platform) {
        return Ok(false);
    }
    if !tables::is_known_platform(platform) {
        return Err(ErrorKind::BadPlatform {
            platform: Some(platform.to_owned()),
        });
    }
    if let Some(tag) = tags.iter().find(|tag| !tables::is_known_tag(tag)) {
        return Err(ErrorKind::BadTag {
            tag: tag.clone(),
            platform: platform.to_owned(),
            product: job.props.product.as_deref().map(str::to_owned),
        });
    }
    if job.props.buildurl.as_deref().is_none_or(str::is_empty) && !repack {
        return Err(ErrorKind::NoBuildUrl);
    }
    Ok(true)
}

pub(super) fn build_message(job: JobInfo, tags: Vec<String>, short_key: &str) -> NormalizedMessage {
    let record = BuildRecord { job, tags };
    let routing_key = build_routing_key(&record, short_key);
    NormalizedMessage {
        routing_key,
        payload: Record::Build(record),
    }
}
