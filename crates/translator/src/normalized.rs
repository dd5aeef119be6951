//! Normalized messages, as published on `exchange/build/normalized`.
//!
//! [`parse`] reads one back into a [`Record`]; [`routing_key`] is its
//! inverse and gives exactly the key the reference translator used. The
//! buildbot translator writes its messages' keys with the same functions.

use crate::{BuildRecord, Error, ErrorKind, Record, TestRecord};

const BUILD_KEY: &str = "build.<tree>.<platform>.<buildtype>[.<tag>…].<builder>";
const TEST_KEY: &str =
    "unittest|talos.<tree>.<platform>.<os>.<buildtype>.<test>.<product>.<builder>";

/// Parses a normalized payload; the routing key's first part says whether
/// it is a build (`build.…`) or a test (`unittest.…`, `talos.…`).
///
/// The payload is trusted for the record's fields: the key is checked for
/// its shape only.
pub fn parse(routing_key: &str, body: &[u8]) -> Result<Record, Error> {
    let error = |kind| Error::new(kind).with_routing_key(routing_key);
    let parts = routing_key.split('.').count();
    let record = match routing_key.split('.').next() {
        Some("build") if parts >= 5 => {
            serde_json::from_slice::<BuildRecord>(body).map(Record::Build)
        }
        Some("unittest" | "talos") if parts >= 8 => {
            serde_json::from_slice::<TestRecord>(body).map(Record::Test)
        }
        Some("build") => {
            return Err(error(ErrorKind::BadRoutingKey {
                routing_key: routing_key.to_owned(),
                expected: BUILD_KEY,
            }))
        }
        _ => {
            return Err(error(ErrorKind::BadRoutingKey {
                routing_key: routing_key.to_owned(),
                expected: if routing_key.starts_with("build") {
                    BUILD_KEY
                } else {
                    TEST_KEY
                },
            }))
        }
    };
    record.map_err(|e| {
        error(if e.is_syntax() || e.is_eof() {
            ErrorKind::NotJson {
                reason: e.to_string(),
            }
        } else {
            ErrorKind::BadPayload {
                reason: e.to_string(),
            }
        })
    })
}

/// The routing key the reference translator published this record under;
/// `None` for a [`TaskRecord`](crate::TaskRecord), which has no place on
/// the normalized exchange.
///
/// The last part is the builder part of the original key
/// (`build.<builder>.<n>.log_uploaded`), read from the record's `key`.
pub fn routing_key(record: &Record) -> Option<String> {
    match record {
        Record::Build(build) => Some(build_routing_key(build, short_key(&build.job.key))),
        Record::Test(test) => Some(test_routing_key(test, short_key(&test.job.key))),
        _ => None,
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
