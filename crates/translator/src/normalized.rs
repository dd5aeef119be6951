//! Normalized messages, as published on `exchange/build/normalized`.
//!
//! [`parse`] reads one back into a [`Record`]; [`routing_key`] is its
//! inverse and gives exactly the key the reference translator used.

use crate::buildbot::{build_routing_key, short_key, test_routing_key};
use crate::record::{BuildRecord, Record, TestRecord};
use crate::{Error, ErrorKind};

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
        Record::Task(_) => None,
    }
}
