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
//!
//! Its files, one concern each: `raw` reads the body without building a
//! tree, handing over `scalar` values; `properties` names the build
//! properties read and converts their values (`buildid` for dates, `quote`
//! for URLs); `key` reads the routing key; `job` makes what every record
//! shares; `unittest`, `build` and `repack` make the records of each kind
//! of job. [`crate::normalized`] writes the normalized routing keys.

mod build;
mod buildid;
mod job;
mod key;
mod properties;
mod quote;
mod raw;
mod repack;
mod scalar;
mod unittest;

use std::borrow::Cow;

use crate::record::NormalizedMessage;
use crate::{Error, ErrorKind, Options};
use job::Translation;
use raw::Slot;
use scalar::Scalar;

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
