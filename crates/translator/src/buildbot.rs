//! Raw buildbot messages from `exchange/build/` into normalized messages.
//!
//! [`translate`] follows the reference translator (pulsetranslator's
//! `on_pulse_message`, `process_build`, `process_unittest` and the routing
//! keys of its `loghandler`), with these differences, all deliberate:
//!
//! - Nothing is fetched: the reference looked up the revision of release
//!   builds on archive.mozilla.org and kept the message's own value when
//!   that failed, which is what happens here, always.
//! - A build without `log_url` is returned: the reference's log handler
//!   would wait for the log before publishing, and the corpus of its
//!   published messages has them with `logurl: null`.
//! - Input the reference crashed on (not JSON, missing parts, values of the
//!   wrong type, a buildid that is no date) is a typed [`Error`] whose
//!   [`Error::reference_class`] is `None`.
//! - A fan-out over locales is checked before any record is made, so a bad
//!   locale list yields an error and no partial list of messages.
//! - The tree and platform are matched literally in the routing key where
//!   the reference pasted them into a regular expression.
//! - A malformed `blobber_files` property is left out, as the reference
//!   did (it logged it); this crate does not log.

use std::borrow::Cow;
use std::sync::OnceLock;

use chrono::{NaiveDate, NaiveDateTime, SecondsFormat};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use regex::Regex;

use crate::raw::{self, PropertyName, Scalar, Slot};
use crate::record::{BuildRecord, BuildType, JobInfo, NormalizedMessage, Record, TestRecord};
use crate::tables::{self, OsConversion};
use crate::{Clock, Error, ErrorKind};

/// Settings for [`translate`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// The clock for the `timestamp` field.
    pub clock: Clock,
}

impl Options {
    /// The same options with another clock.
    pub fn with_clock(mut self, clock: Clock) -> Options {
        self.clock = clock;
        self
    }
}

/// Translates a raw buildbot message, reading its routing key from
/// `_meta.routing_key` as the reference did.
///
/// Returns the normalized messages, in the reference's order; an empty list
/// for the messages the reference ignores (`finished` messages, `source`
/// and internal release jobs, jetpack, ignored platforms); or an error.
pub fn translate(body: &[u8], options: &Options) -> Result<Vec<NormalizedMessage>, Error> {
    translate_message(None, body, options)
}

/// Like [`translate`], with the routing key of the delivery for bodies
/// without `_meta.routing_key`; the body's own key wins when it has one.
pub fn translate_with_key(
    routing_key: &str,
    body: &[u8],
    options: &Options,
) -> Result<Vec<NormalizedMessage>, Error> {
    translate_message(Some(routing_key), body, options)
}

fn translate_message(
    delivery_key: Option<&str>,
    body: &[u8],
    options: &Options,
) -> Result<Vec<NormalizedMessage>, Error> {
    let with_key = |kind: ErrorKind| match delivery_key {
        Some(key) => Error::new(kind).with_routing_key(key),
        None => Error::new(kind),
    };
    let message = match raw::read(body) {
        Ok(Slot::Present(message)) => message,
        Ok(_) => return Err(with_key(ErrorKind::NotAnObject { field: "body" })),
        Err(error) => {
            return Err(with_key(ErrorKind::NotJson {
                reason: error.to_string(),
            }))
        }
    };
    let key = match message.meta {
        Slot::Present(raw::Meta {
            routing_key: Some(Scalar::Str(key)),
        }) => key,
        Slot::Present(raw::Meta {
            routing_key: Some(other),
        }) => {
            return Err(with_key(ErrorKind::WrongFieldType {
                field: "_meta.routing_key".into(),
                expected: "a string",
                found: other.json_type(),
            }))
        }
        Slot::Wrong(_) => return Err(with_key(ErrorKind::NotAnObject { field: "_meta" })),
        Slot::Present(raw::Meta { routing_key: None }) => match delivery_key {
            Some(key) => Cow::Borrowed(key),
            None => {
                return Err(Error::new(ErrorKind::MissingField {
                    field: "_meta.routing_key",
                }))
            }
        },
        Slot::Missing => match delivery_key {
            Some(key) => Cow::Borrowed(key),
            None => return Err(Error::new(ErrorKind::MissingField { field: "_meta" })),
        },
    };
    Translation { key: &key, options }
        .run(message.payload)
        .map_err(|kind| Error::new(kind).with_routing_key(&*key))
}

/// The properties the translator reads, as the reference's `builddata`,
/// filled while the body is parsed and borrowed from it where possible.
///
/// The first bad property, in document order, is kept in `error` and
/// stops the reading of further values, as the reference stopped there.
#[derive(Debug, Default)]
pub(crate) struct Properties<'a> {
    job_number: Option<i64>,
    revision: Option<Cow<'a, str>>,
    product: Option<Cow<'a, str>>,
    version: Option<Cow<'a, str>>,
    tree: Option<Cow<'a, str>>,
    buildid: Option<Cow<'a, str>>,
    builddate: Option<i64>,
    build_number: Option<i64>,
    previous_buildid: Option<Cow<'a, str>>,
    platform: Option<Cow<'a, str>>,
    locale: Option<Cow<'a, str>>,
    locales: Option<Cow<'a, str>>,
    buildurl: Option<Cow<'a, str>>,
    logurl: Option<Cow<'a, str>>,
    release: Option<Cow<'a, str>>,
    symbols_url: Option<Cow<'a, str>>,
    testsurl: Option<Cow<'a, str>>,
    test_packages_url: Option<Cow<'a, str>>,
    buildername: Option<Cow<'a, str>>,
    slave: Option<Cow<'a, str>>,
    blobber_files: Option<serde_json::Value>,
    stage_platform: Option<Cow<'a, str>>,
    completemarurl: Option<Cow<'a, str>>,
    completemarhash: Option<Cow<'a, str>>,
    error: Option<ErrorKind>,
}

impl<'a> Properties<'a> {
    /// False once a bad property was seen: the rest are only skipped.
    pub(crate) fn wants_values(&self) -> bool {
        self.error.is_none()
    }

    /// Records that the property at `index` is no `[name, value, source]`
    /// array (the type found).
    pub(crate) fn malformed(&mut self, index: usize, found: &'static str) {
        if self.error.is_none() {
            self.error = Some(ErrorKind::WrongFieldType {
                field: format!("payload.build.properties[{index}]"),
                expected: "a [name, value, source] array",
                found,
            });
        }
    }

    /// Reads the value of one property the translator uses.
    pub(crate) fn read(&mut self, name: PropertyName, value: Scalar<'a>) {
        if self.error.is_none() {
            if let Err(error) = self.read_value(name, value) {
                self.error = Some(error);
            }
        }
    }

    fn read_value(&mut self, name: PropertyName, value: Scalar<'a>) -> Result<(), ErrorKind> {
        use PropertyName as P;
        match name {
            P::Buildnumber => self.job_number = int_or_null(name, value)?,
            P::Revision => self.revision = string_or_null(name, value)?,
            P::Product => self.product = Some(lowercase(string(name, value)?)),
            P::Version => self.version = string_or_null(name, value)?,
            P::Branch => {
                self.tree = string_or_null(name, value)?.map(|branch| match branch.rfind('/') {
                    Some(slash) => slice(branch, slash + 1..),
                    None => branch,
                })
            }
            P::Buildid => {
                let buildid = string(name, value)?;
                self.builddate = Some(buildid_to_date(&buildid)?);
                self.buildid = Some(buildid);
            }
            P::BuildNumber => self.build_number = int_or_null(name, value)?,
            P::PreviousBuildid => self.previous_buildid = string_or_null(name, value)?,
            P::Platform => {
                self.platform =
                    string_or_null(name, value)?.map(|platform| match platform.find("-debug") {
                        Some(at) => slice(platform, ..at),
                        None => platform,
                    })
            }
            P::Locale => self.locale = string_or_null(name, value)?,
            P::Locales => self.locales = string_or_null(name, value)?,
            P::PackageUrl | P::BuildUrl | P::FileUrl => self.buildurl = url(name, value)?,
            P::LogUrl => self.logurl = url(name, value)?,
            P::EnRevision | P::ScriptRepoRevision => self.release = string_or_null(name, value)?,
            P::SymbolsUrl => self.symbols_url = url(name, value)?,
            P::TestsUrl => self.testsurl = url(name, value)?,
            P::TestPackagesUrl => self.test_packages_url = url(name, value)?,
            P::Buildername => self.buildername = string_or_null(name, value)?,
            P::Slavename => self.slave = string_or_null(name, value)?,
            P::BlobberFiles => {
                if let Ok(files) = serde_json::from_str(&string(name, value)?) {
                    self.blobber_files = Some(files);
                }
            }
            P::StagePlatform => {
                let stage_platform = string(name, value)?;
                let end = strip_buildtypes(&stage_platform).len();
                self.stage_platform = Some(slice(stage_platform, ..end));
            }
            P::CompleteMarUrl => self.completemarurl = string_or_null(name, value)?,
            P::CompleteMarHash => self.completemarhash = string_or_null(name, value)?,
        }
        Ok(())
    }
}

/// A part of a string, borrowed when the string is.
fn slice<'a>(
    text: Cow<'a, str>,
    range: impl std::slice::SliceIndex<str, Output = str>,
) -> Cow<'a, str> {
    match text {
        Cow::Borrowed(text) => Cow::Borrowed(&text[range]),
        Cow::Owned(text) => Cow::Owned(text[range].to_owned()),
    }
}

fn lowercase(text: Cow<'_, str>) -> Cow<'_, str> {
    if text
        .bytes()
        .any(|b| !b.is_ascii() || b.is_ascii_uppercase())
    {
        Cow::Owned(text.to_lowercase())
    } else {
        text
    }
}

fn owned(text: Option<Cow<'_, str>>) -> Option<String> {
    text.map(Cow::into_owned)
}

struct Translation<'k> {
    key: &'k str,
    options: &'k Options,
}

impl Translation<'_> {
    fn run(&self, payload: Slot<raw::Payload<'_>>) -> Result<Vec<NormalizedMessage>, ErrorKind> {
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
            Some(Scalar::Int(status)) => Some(status),
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

    fn unittest(
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
            job: self.job_info(job, platform, Some(None), None),
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

    fn build(&self, mut job: Job<'_>) -> Result<Vec<NormalizedMessage>, ErrorKind> {
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
            // A release repack: one message per comma-separated locale.
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
            let template = self.job_info(job, platform, Some(Some(locales.clone())), Some(true));
            Ok(list
                .iter()
                .map(|locale| {
                    let mut job = template.clone();
                    job.locale = Some((*locale).to_owned());
                    build_message(job, tags.clone(), short_key)
                })
                .collect())
        } else if let Some(locales) = owned(job.props.locales.take().filter(|l| !l.is_empty())) {
            // A nightly repack: `locales` maps each locale to its result.
            let Some(results) = raw::read_locale_results(&locales) else {
                return Err(ErrorKind::BadLocalesJson { locales });
            };
            if results.is_empty() || !check_build(&platform, &tags, &job, true)? {
                return Ok(Vec::new());
            }
            job.props.locale = None;
            let template = self.job_info(job, platform, None, Some(true));
            Ok(results
                .into_iter()
                .map(|(locale, result)| {
                    let mut job = template.clone();
                    job.status = Some(if locale_succeeded(&result) { 0 } else { 2 });
                    job.locale = Some(locale);
                    build_message(job, tags.clone(), short_key)
                })
                .collect())
        } else {
            if !check_build(&platform, &tags, &job, false)? {
                return Ok(Vec::new());
            }
            let locales = owned(job.props.locales.take());
            let job = self.job_info(job, platform, Some(locales), None);
            Ok(vec![build_message(job, tags, short_key)])
        }
    }

    fn job_info(
        &self,
        job: Job<'_>,
        platform: String,
        locales: Option<Option<String>>,
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
            timestamp: Some(
                self.options
                    .clock
                    .now()
                    .to_rfc3339_opts(SecondsFormat::Secs, true),
            ),
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
struct Job<'a> {
    props: Box<Properties<'a>>,
    tree: String,
    status: Option<i64>,
    buildtype: BuildType,
}

fn required_buildername<'j>(job: &'j Job<'_>) -> Result<&'j str, ErrorKind> {
    job.props
        .buildername
        .as_deref()
        .ok_or(ErrorKind::MissingField {
            field: "property buildername",
        })
}

/// The reference's `process_build` checks: `Ok(false)` for an ignored
/// platform, an error for an unknown platform or tag or a missing build URL.
fn check_build(
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

fn build_message(job: JobInfo, tags: Vec<String>, short_key: &str) -> NormalizedMessage {
    let record = BuildRecord { job, tags };
    let routing_key = build_routing_key(&record, short_key);
    NormalizedMessage {
        routing_key,
        payload: Record::Build(record),
    }
}

/// `build.<tree>.<platform>.<buildtype>[.<tag>[.<locale> after l10n]…].<short key>`.
pub(crate) fn build_routing_key(record: &BuildRecord, short_key: &str) -> String {
    let job = &record.job;
    let locale = job.locale.as_deref().unwrap_or("None");
    let length = "build...".len()
        + job.tree.len()
        + job.platform.len()
        + job.buildtype.as_str().len()
        + record
            .tags
            .iter()
            .map(|tag| tag.len() + 2 + locale.len())
            .sum::<usize>()
        + 1
        + short_key.len();
    let mut key = String::with_capacity(length);
    for part in ["build", &job.tree, &job.platform, job.buildtype.as_str()] {
        if !key.is_empty() {
            key.push('.');
        }
        key.push_str(part);
    }
    for tag in &record.tags {
        if !tag.is_empty() {
            key.push('.');
            key.push_str(tag);
        }
        if tag == "l10n" {
            key.push('.');
            key.push_str(job.locale.as_deref().unwrap_or("None"));
        }
    }
    key.push('.');
    key.push_str(short_key);
    key
}

/// `talos|unittest.<tree>.<platform>.<os>.<buildtype>.<test>.<product>.<short key>`.
pub(crate) fn test_routing_key(record: &TestRecord, short_key: &str) -> String {
    let job = &record.job;
    let parts = [
        if record.talos { "talos" } else { "unittest" },
        &job.tree,
        &job.platform,
        &record.os,
        job.buildtype.as_str(),
        &record.test,
        job.product
            .as_deref()
            .filter(|p| !p.is_empty())
            .unwrap_or("unknown"),
        short_key,
    ];
    let mut key = String::with_capacity(parts.iter().map(|part| part.len() + 1).sum());
    for part in parts {
        if !key.is_empty() {
            key.push('.');
        }
        key.push_str(part);
    }
    key
}

/// The second dot-separated part of the original key: `build.<this>.12.log_uploaded`.
pub(crate) fn short_key(key: &str) -> &str {
    key.split('.').nth(1).unwrap_or("")
}

fn locale_succeeded(result: &Scalar<'_>) -> bool {
    match result {
        Scalar::Str(text) => text.eq_ignore_ascii_case("success") || text == "0",
        Scalar::Int(number) => *number == 0,
        _ => false,
    }
}

fn wrong_type(name: PropertyName, expected: &'static str, value: &Scalar<'_>) -> ErrorKind {
    ErrorKind::WrongFieldType {
        field: format!("property {}", name.as_str()),
        expected,
        found: value.json_type(),
    }
}

fn string(name: PropertyName, value: Scalar<'_>) -> Result<Cow<'_, str>, ErrorKind> {
    match value {
        Scalar::Str(text) => Ok(text),
        other => Err(wrong_type(name, "a string", &other)),
    }
}

fn string_or_null(
    name: PropertyName,
    value: Scalar<'_>,
) -> Result<Option<Cow<'_, str>>, ErrorKind> {
    match value {
        Scalar::Str(text) => Ok(Some(text)),
        Scalar::Null => Ok(None),
        other => Err(wrong_type(name, "a string or null", &other)),
    }
}

fn int_or_null(name: PropertyName, value: Scalar<'_>) -> Result<Option<i64>, ErrorKind> {
    match value {
        Scalar::Int(number) => Ok(Some(number)),
        Scalar::Null => Ok(None),
        other => Err(wrong_type(name, "an integer or null", &other)),
    }
}

fn url(name: PropertyName, value: Scalar<'_>) -> Result<Option<Cow<'_, str>>, ErrorKind> {
    match value {
        Scalar::Str(text) => {
            // Keeps `text` (borrowed or not) when quoting changes nothing.
            let changed = match quoted(&text) {
                Cow::Owned(changed) => Some(changed),
                Cow::Borrowed(_) => None,
            };
            Ok(Some(changed.map_or(text, Cow::Owned)))
        }
        Scalar::Null => Ok(None),
        other => Err(wrong_type(name, "a string or null", &other)),
    }
}

/// What the reference's `urllib.quote(url, safe=...)` left as it was:
/// ASCII letters and digits, Python's always-safe `_.-`, and its safe
/// argument `%/:=&?~#+!$,;'@()*[]|`. Every other byte, non-ASCII UTF-8
/// included, becomes `%XX`.
const URL_SAFE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'.')
    .remove(b'-')
    .remove(b'%')
    .remove(b'/')
    .remove(b':')
    .remove(b'=')
    .remove(b'&')
    .remove(b'?')
    .remove(b'~')
    .remove(b'#')
    .remove(b'+')
    .remove(b'!')
    .remove(b'$')
    .remove(b',')
    .remove(b';')
    .remove(b'\'')
    .remove(b'@')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'[')
    .remove(b']')
    .remove(b'|');

/// Percent-encodes a URL as the reference did (Python's `quote` with
/// `%/:=&?~#+!$,;'@()*[]|` safe): every other byte outside ASCII letters,
/// digits and `_.-` becomes `%XX`.
pub fn quote_url(url: &str) -> String {
    quoted(url).into_owned()
}

/// The quoted URL, borrowed when quoting changes nothing (most URLs).
fn quoted(url: &str) -> Cow<'_, str> {
    utf8_percent_encode(url, URL_SAFE).into()
}

/// Cuts `stage_platform` before each build type it names, as the
/// reference did, including its slice of `[0:-1]` when the build type
/// starts the string.
fn strip_buildtypes(mut stage_platform: &str) -> &str {
    for buildtype in tables::BUILDTYPES {
        if let Some(at) = stage_platform.find(buildtype) {
            // Python slices characters: drop the one before the build type,
            // or, for `[0:-1]`, the last one.
            let before = if at == 0 {
                stage_platform
            } else {
                &stage_platform[..at]
            };
            let end = before.char_indices().last().map_or(0, |(last, _)| last);
            stage_platform = &stage_platform[..end];
        }
    }
    stage_platform
}

/// The buildid read as a UTC date in seconds since the epoch; a buildid
/// that is no date, read as an integer.
pub fn buildid_to_date(buildid: &str) -> Result<i64, ErrorKind> {
    let digits = buildid.bytes().all(|b| b.is_ascii_digit());
    if digits && buildid.len() == 14 {
        // The usual case, without a strftime parse; anything chrono's parse
        // might read differently (a leap second) takes the general path.
        let number = |range: std::ops::Range<usize>| {
            buildid.as_bytes()[range]
                .iter()
                .fold(0, |n, digit| n * 10 + u32::from(digit - b'0'))
        };
        let (hour, minute, second) = (number(8..10), number(10..12), number(12..14));
        if second < 60 {
            let year = i32::try_from(number(0..4)).unwrap_or(i32::MAX);
            if let Some(date) = NaiveDate::from_ymd_opt(year, number(4..6), number(6..8))
                .and_then(|date| date.and_hms_opt(hour, minute, second))
            {
                return Ok(date.and_utc().timestamp());
            }
        }
    }
    let date = match buildid.len() {
        14 if digits => NaiveDateTime::parse_from_str(buildid, "%Y%m%d%H%M%S").ok(),
        8 if digits => NaiveDate::parse_from_str(buildid, "%Y%m%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0)),
        _ => None,
    };
    match date {
        Some(date) => Ok(date.and_utc().timestamp()),
        None => buildid.trim().parse().map_err(|_| ErrorKind::BadBuildId {
            buildid: buildid.to_owned(),
        }),
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

/// The reference's guess of a platform from a routing key: the greatest
/// platform name in it, else the first OS name in it.
fn guess_platform(key: &str) -> Option<&'static str> {
    let platform = tables::PLATFORMS
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| key.contains(name))
        .max();
    platform.or_else(|| {
        tables::PLATFORMS
            .iter()
            .flat_map(|(_, oses)| oses.iter())
            .copied()
            .find(|os| key.contains(os))
    })
}

struct UnittestMatch<'k> {
    os: &'k str,
    test: &'k str,
    finished: bool,
}

/// The reference's unittest key pattern,
/// `build.<tree>[-|_]<os>[-debug…][-|_](test|unittest|pgo)-<test>.<n>.<event>`.
fn match_unittest<'k>(key: &'k str, tree: &str) -> Option<UnittestMatch<'k>> {
    // The pattern's parts after `<tree>[-|_]`, tried in the order its
    // lazy groups and alternatives were: the shortest OS first, with the
    // build type suffix before without it. At most one alternative of each
    // list can match at a given place.
    const BUILDTYPE_SUFFIXES: [&str; 5] = ["-debug", "-o-debug", "-pgo", "_pgo", "_test"];
    const KINDS: [&str; 3] = ["test", "unittest", "pgo"];
    let rest = key.strip_prefix("build.")?.strip_prefix(tree)?;
    let after_separator = rest.strip_prefix(['-', '|', '_'])?;
    for (os_end, byte) in after_separator.bytes().enumerate() {
        if !matches!(byte, b'-' | b'_' | b'|') {
            if byte == b'\n' {
                // The OS is `.*?`, which stops at a line end.
                return None;
            }
            // Every part after the OS starts with one of these.
            continue;
        }
        let after_os = &after_separator[os_end..];
        let with_buildtype = BUILDTYPE_SUFFIXES
            .iter()
            .find_map(|suffix| after_os.strip_prefix(suffix));
        for after_buildtype in with_buildtype.into_iter().chain([after_os]) {
            let Some(test) = after_buildtype
                .strip_prefix(['-', '|', '_'])
                .and_then(|text| KINDS.iter().find_map(|kind| text.strip_prefix(kind)))
                .and_then(|text| text.strip_prefix('-'))
            else {
                continue;
            };
            if let Some((test_end, finished)) = shortest_before_event(test) {
                return Some(UnittestMatch {
                    os: &after_separator[..os_end],
                    test: &test[..test_end],
                    finished,
                });
            }
        }
    }
    None
}

/// `\.[0-9]+\.(log_uploaded|finished)` at the start of `text`: whether
/// the event is `finished`.
fn event_at(text: &str) -> Option<bool> {
    let after_dot = text.strip_prefix('.')?;
    let digits = after_dot.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let event = after_dot[digits..].strip_prefix('.')?;
    if event.starts_with("log_uploaded") {
        Some(false)
    } else if event.starts_with("finished") {
        Some(true)
    } else {
        None
    }
}

/// `(.*?)\.[0-9]+\.(log_uploaded|finished)` at the start of `text`: the
/// end of the shortest group, and whether the event is `finished`.
fn shortest_before_event(text: &str) -> Option<(usize, bool)> {
    for (at, byte) in text.bytes().enumerate() {
        if byte == b'.' {
            if let Some(finished) = event_at(&text[at..]) {
                return Some((at, finished));
            }
        } else if byte == b'\n' {
            return None;
        }
    }
    None
}

struct BuildMatch<'k> {
    prefix: Option<&'static str>,
    xulrunner: bool,
    tags: &'k str,
    finished: bool,
}

/// The reference's build key pattern,
/// `build.[release-|jetpack-|b2g_]<tree>[-|_][xulrunner[-|_]]<platform>[-|_]<tags>.<n>.<event>`,
/// trying the optional parts present first, as its regular expression did.
fn match_build<'k>(key: &'k str, tree: &str, platform: &str) -> Option<BuildMatch<'k>> {
    fn separator(text: &str) -> Option<&str> {
        text.strip_prefix(['-', '|', '_'])
    }
    let rest = key.strip_prefix("build.")?;
    let prefix = ["release-", "jetpack-", "b2g_"]
        .into_iter()
        .find(|prefix| rest.starts_with(prefix));
    let prefixes = prefix.map(Some).into_iter().chain([None]);
    for prefix in prefixes {
        let after_prefix = &rest[prefix.map_or(0, str::len)..];
        let Some(after_tree) = after_prefix.strip_prefix(tree).and_then(separator) else {
            continue;
        };
        let with_xulrunner = after_tree.strip_prefix("xulrunner").and_then(separator);
        for (xulrunner, before_platform) in [(true, with_xulrunner), (false, Some(after_tree))] {
            let Some(after_platform) = before_platform.and_then(|text| text.strip_prefix(platform))
            else {
                continue;
            };
            // `[-|_]?(.*?)\.[0-9]+\.(log_uploaded|finished)`.
            let tags = separator(after_platform)
                .into_iter()
                .chain([after_platform]);
            for tags in tags {
                if let Some((end, finished)) = shortest_before_event(tags) {
                    return Some(BuildMatch {
                        prefix,
                        xulrunner,
                        tags: &tags[..end],
                        finished,
                    });
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_python() {
        assert_eq!(
            quote_url("http://x/a b?c=d&e=~f#g"),
            "http://x/a%20b?c=d&e=~f#g"
        );
        assert_eq!(
            quote_url("http://x/é\"<>{}^`\\"),
            "http://x/%C3%A9%22%3C%3E%7B%7D%5E%60%5C"
        );
        assert_eq!(quote_url("a%20b"), "a%20b");
    }

    #[test]
    fn every_ascii_byte_quotes_as_python_did() {
        // Python 2's always-safe characters plus the reference's `safe`.
        let safe = |c: char| c.is_ascii_alphanumeric() || "_.-%/:=&?~#+!$,;'@()*[]|".contains(c);
        for c in (0..128u8).map(char::from) {
            let want = if safe(c) {
                c.to_string()
            } else {
                format!("%{:02X}", c as u8)
            };
            assert_eq!(quote_url(&c.to_string()), want, "{c:?}");
        }
    }

    #[test]
    fn strips_buildtypes_from_stage_platform() {
        assert_eq!(strip_buildtypes("win32-pgo"), "win32");
        assert_eq!(strip_buildtypes("linux64-debug"), "linux64");
        assert_eq!(strip_buildtypes("macosx64"), "macosx64");
        // The reference's slice [0:find - 1] drops the last character when
        // the build type starts the string.
        assert_eq!(strip_buildtypes("optimus"), "optimu");
    }

    #[test]
    fn buildids_read_as_utc() {
        assert_eq!(buildid_to_date("20150813004005"), Ok(1_439_426_405));
        assert_eq!(buildid_to_date("20130411"), Ok(1_365_638_400));
        assert_eq!(buildid_to_date("1234"), Ok(1234));
        assert_eq!(buildid_to_date("20131341000000"), Ok(20_131_341_000_000));
        assert!(matches!(
            buildid_to_date("soon"),
            Err(ErrorKind::BadBuildId { .. })
        ));
    }

    #[test]
    fn guesses_platform_from_key() {
        assert_eq!(
            guess_platform("build.mozilla-central-linux64-asan.1.finished"),
            Some("linux64-asan")
        );
        assert_eq!(guess_platform("build.try-win64.1.finished"), Some("win64"));
        assert_eq!(
            guess_platform("build.try-fedora.1.finished"),
            Some("fedora")
        );
        assert_eq!(guess_platform("build.try-solaris.1.finished"), None);
    }

    #[test]
    fn matches_build_keys_like_the_reference() {
        let m = match_build(
            "build.release-mozilla-beta-win32_repack_2.16.log_uploaded",
            "release-mozilla-beta",
            "win32",
        )
        .unwrap();
        assert_eq!(
            (m.prefix, m.xulrunner, m.tags, m.finished),
            (None, false, "repack_2", false)
        );
        let m = match_build(
            "build.release-mozilla-beta-xulrunner_linux_build.3.finished",
            "mozilla-beta",
            "linux",
        )
        .unwrap();
        assert_eq!(
            (m.prefix, m.xulrunner, m.tags, m.finished),
            (Some("release-"), true, "build", true)
        );
        let m = match_build(
            "build.mozilla-central-linux.98.log_uploaded",
            "mozilla-central",
            "linux",
        )
        .unwrap();
        assert_eq!(m.tags, "");
        assert!(match_build(
            "build.mozilla-central-linux.98.log_uploaded",
            "mozilla-central",
            "win32"
        )
        .is_none());
    }

    /// Keys made of the pieces the patterns care about, in many orders.
    fn tricky_keys() -> Vec<String> {
        // Each slot of a key the patterns accept, with near misses.
        let slots: [&[&str]; 9] = [
            &["-", "_", "|", "", "x"],
            &["linux", "win-7", "a.b", "é", "", "\n", "-x-"],
            &["-debug", "-o-debug", "-pgo", "_pgo", "_test", "", "-o"],
            &["-", "_", "|", "", "."],
            &["test", "unittest", "pgo", "", "tes"],
            &["-", "", "_"],
            &["mochitest", "a.1", "b-2.x", "", "\n", "é"],
            &[".12.", ".7.", ".", "..", ".x.", "1."],
            &["log_uploaded", "finished", "finish", ".log_uploaded", ""],
        ];
        let mut keys = Vec::new();
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            let mut key = String::from("build.tree");
            for options in slots {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                key.push_str(options[(state % options.len() as u64) as usize]);
            }
            keys.push(key);
        }
        keys.extend(
            [
                "build.tree-linux-debug-test-mochitest.12.log_uploaded",
                "build.tree_xp_test_pgo-xpcshell.0.finished",
                "build.tree-a-o-debug_unittest-b.c.1.finished.2.log_uploaded",
                "build.tree-linux\n-test-x.1.finished",
                "build.tree-linux-test-x\n.1.finished",
                "build.tree-linux-test-.1.finished",
                "build.tree-linux_repack_2.16.log_uploaded",
                "build.tree-linux-.1.log_uploadedx",
                "build.tree-linux.1.finished",
                "build.tree-linux|x.1..2.finished",
            ]
            .map(String::from),
        );
        keys
    }

    #[test]
    fn unittest_matching_agrees_with_the_reference_pattern() {
        let pattern = Regex::new(
            r"^[-|_](.*?)(?:-debug|-o-debug|-pgo|_pgo|_test)?[-|_](?:test|unittest|pgo)-(.*?)\.[0-9]+\.(log_uploaded|finished)",
        )
        .unwrap();
        let mut matched = 0;
        for key in tricky_keys() {
            let expected = pattern
                .captures(key.strip_prefix("build.tree").unwrap())
                .map(|c| (c[1].to_owned(), c[2].to_owned(), &c[3] == "finished"));
            let found = match_unittest(&key, "tree")
                .map(|m| (m.os.to_owned(), m.test.to_owned(), m.finished));
            assert_eq!(found, expected, "{key:?}");
            matched += usize::from(found.is_some());
        }
        assert!(
            matched > 100,
            "only {matched} keys matched: the test proves little"
        );
    }

    #[test]
    fn build_matching_agrees_with_the_reference_pattern() {
        let pattern = Regex::new(r"^[-|_]?(.*?)\.[0-9]+\.(log_uploaded|finished)").unwrap();
        let mut matched = 0;
        for key in tricky_keys() {
            let after_platform = key
                .strip_prefix("build.tree")
                .and_then(|rest| rest.strip_prefix(['-', '|', '_']))
                .and_then(|rest| rest.strip_prefix("linux"));
            let expected = after_platform
                .and_then(|rest| pattern.captures(rest))
                .map(|c| (c[1].to_owned(), &c[2] == "finished"));
            let found = match_build(&key, "tree", "linux")
                .filter(|m| m.prefix.is_none() && !m.xulrunner)
                .map(|m| (m.tags.to_owned(), m.finished));
            assert_eq!(found, expected, "{key:?}");
            matched += usize::from(found.is_some());
        }
        assert!(
            matched > 100,
            "only {matched} keys matched: the test proves little"
        );
    }

    #[test]
    fn matches_unittest_keys_like_the_reference() {
        let m = match_unittest(
            "build.mozilla-beta_xp_test_pgo-xpcshell.0.log_uploaded",
            "mozilla-beta",
        )
        .unwrap();
        assert_eq!((m.os, m.test), ("xp", "xpcshell"));
        let m = match_unittest(
            "build.comm-release-macosx64-debug-unittest-mochitests-4.89.finished",
            "comm-release",
        )
        .unwrap();
        assert_eq!(
            (m.os, m.test, m.finished),
            ("macosx64", "mochitests-4", true)
        );
        assert!(match_unittest(
            "build.mozilla-central-linux.98.log_uploaded",
            "mozilla-central"
        )
        .is_none());
    }
}
