//! l10n repacks: one build message per locale, as the reference translator
//! fanned them out. A release repack lists its locales separated by
//! commas; a nightly repack maps each locale to its result.

use super::build::{build_message, check_build};
use super::job::{Job, Translation};
use super::raw;
use super::scalar::Scalar;
use crate::{ErrorKind, Locales, NormalizedMessage, Status};

impl Translation<'_> {
    /// A release repack: one message per comma-separated locale.
    pub(super) fn release_repack(
        &self,
        mut job: Job<'_>,
        platform: String,
        tags: Vec<String>,
        short_key: &str,
    ) -> Result<Vec<NormalizedMessage>, ErrorKind> {
        let locales = match job.props.locales.take().filter(|l| !l.is_empty()) {
            Some(locales) => locales.into_owned(),
            None => {
                return Err(ErrorKind::BadPulseMessage {
                    reason: "no \"locales\" property".into(),
                })
            }
        };
        let list: Vec<&str> = locales.split(',').collect();
        if list[0].is_empty() {
            return Err(ErrorKind::BadLocales { locales });
        }
        if !check_build(&platform, &tags, &job, true)? {
            return Ok(Vec::new());
        }
        if list.contains(&"") {
            return Err(ErrorKind::BadLocales { locales });
        }
        // Each message gets its own locale: the template needs none.
        job.props.locale = None;
        let template = self.job_info(job, platform, Locales::Listed(locales.clone()), Some(true));
        Ok(list
            .iter()
            .map(|locale| {
                let mut job = template.clone();
                job.locale = Some((*locale).to_owned());
                build_message(job, tags.clone(), short_key)
            })
            .collect())
    }

    /// A nightly repack: `locales` maps each locale to its result, and
    /// each locale's message says that result.
    pub(super) fn nightly_repack(
        &self,
        mut job: Job<'_>,
        platform: String,
        tags: Vec<String>,
        short_key: &str,
        locales: String,
    ) -> Result<Vec<NormalizedMessage>, ErrorKind> {
        let Some(results) = raw::read_locale_results(&locales) else {
            return Err(ErrorKind::BadLocalesJson { locales });
        };
        if results.is_empty() || !check_build(&platform, &tags, &job, true)? {
            return Ok(Vec::new());
        }
        job.props.locale = None;
        let template = self.job_info(job, platform, Locales::Omitted, Some(true));
        Ok(results
            .into_iter()
            .map(|(locale, result)| {
                let mut job = template.clone();
                job.status = Some(if locale_succeeded(&result) {
                    Status::Success
                } else {
                    Status::Failure
                });
                job.locale = Some(locale);
                build_message(job, tags.clone(), short_key)
            })
            .collect())
    }
}

fn locale_succeeded(result: &Scalar<'_>) -> bool {
    match result {
        Scalar::Str(text) => text.eq_ignore_ascii_case("success") || text == "0",
        Scalar::Int(number) => *number == 0,
        _ => false,
    }
}
