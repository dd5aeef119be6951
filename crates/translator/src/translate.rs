//! [`translate`]: the one entry point, choosing the translator by the
//! message's exchange ([`exchanges::family`]).

use crate::{buildbot, exchanges, normalized, taskcluster, Error, ErrorKind, Family, Message};
use crate::{Options, Record};

/// The records in `message`, read by the translator of its exchange's
/// [`Family`]: none for the messages the reference ignored, several for
/// l10n repacks, one for every other well-formed message. An exchange no
/// translator reads is [`ErrorKind::UnknownExchange`].
///
/// ```
/// use pulse_translator::{exchanges, translate, ErrorKind, Message, Options, Record};
///
/// let payload = br#"{"buildername": "Linux x86-64 mozilla-central build", "tree": "mozilla-central",
///   "platform": "linux64", "buildtype": "opt", "key": "k", "product": "firefox",
///   "revision": null, "builddate": null, "buildid": null, "job_number": null, "build_number": null,
///   "previous_buildid": null, "status": 0, "locale": "en-US", "buildurl": null, "testsurl": null,
///   "test_packages_url": null, "symbols_url": null, "logurl": null, "release": null,
///   "slave": null, "repack": null, "version": null, "tags": []}"#;
/// let message = Message::new(
///     exchanges::BUILD_NORMALIZED,
///     "build.mozilla-central.linux64.opt.firefox.k",
///     payload.to_vec(),
/// );
/// let records = translate(&message, &Options::default())?;
/// assert!(matches!(&records[..], [Record::Build(build)] if build.job.tree == "mozilla-central"));
///
/// let elsewhere = Message::new("exchange/nobody", "k", b"{}".to_vec());
/// let error = translate(&elsewhere, &Options::default()).unwrap_err();
/// assert!(matches!(error.kind(), ErrorKind::UnknownExchange { .. }));
/// # Ok::<(), pulse_translator::Error>(())
/// ```
pub fn translate(message: &Message, options: &Options) -> Result<Vec<Record>, Error> {
    match exchanges::family(&message.exchange) {
        Some(family) => translate_as(family, message, options),
        None => Err(Error::new(ErrorKind::UnknownExchange {
            exchange: message.exchange.clone(),
        })),
    }
}

/// The records in `message`, read as a message of `family` whatever its
/// exchange: for exchanges of one's own carrying Pulse's messages (a
/// mirror, a test's private exchange), where [`translate`] knows no family.
pub fn translate_as(
    family: Family,
    message: &Message,
    options: &Options,
) -> Result<Vec<Record>, Error> {
    match Some(family) {
        Some(Family::Buildbot) => {
            let normalized =
                buildbot::translate_with_key(&message.routing_key, &message.body, options)?;
            Ok(normalized.into_iter().map(|m| m.payload).collect())
        }
        Some(Family::Normalized) => Ok(vec![normalized::parse(
            &message.routing_key,
            &message.body,
        )?]),
        Some(Family::Taskcluster) => Ok(vec![taskcluster::translate(message, options)?]),
        Some(Family::HgPush) => crate::hgpush::translate(message),
        // A family added to the message crate before its translator here.
        _ => Err(Error::new(ErrorKind::UnknownExchange {
            exchange: message.exchange.clone(),
        })),
    }
}
