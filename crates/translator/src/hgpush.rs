//! hg.mozilla.org push notifications (`exchange/hgpushes/v2`) read into
//! [`PushRecord`]s: where a push starts, before any of its tasks.
//!
//! The format is version-control-tools' (`docs/hgmo/notifications.rst`):
//! mozillapulse's envelope (`payload`, `_meta`) around `{"type", "data"}`.
//! A `changegroup.1` names the repository (`repo_url`), the heads it left
//! and each pushlog push it carried (`pushlog_pushes`: `pushid`, `user`,
//! `time`); each of those becomes a record. `newrepo.1` and `obsolete.1`
//! announce no push and make none. Anything else is
//! [`ErrorKind::MalformedPushMessage`](crate::ErrorKind::MalformedPushMessage).

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::{Error, ErrorKind, Message, PushRecord, Record};

#[derive(Deserialize)]
struct Envelope {
    payload: Option<Notification>,
    #[serde(rename = "type")]
    kind: Option<String>,
    data: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Notification {
    #[serde(rename = "type")]
    kind: String,
    data: serde_json::Value,
}

#[derive(Deserialize)]
struct Changegroup {
    repo_url: String,
    #[serde(default)]
    heads: Vec<String>,
    pushlog_pushes: Vec<PushlogPush>,
}

#[derive(Deserialize)]
struct PushlogPush {
    pushid: u64,
    user: String,
    time: i64,
}

/// The pushes an hg push message announces: one record per pushlog push of
/// a `changegroup.1`, none for `newrepo.1` and `obsolete.1`.
pub(crate) fn translate(message: &Message) -> Result<Vec<Record>, Error> {
    let envelope: Envelope =
        serde_json::from_slice(&message.body).map_err(|e| malformed(e.to_string()))?;
    let notification = match envelope {
        Envelope {
            payload: Some(notification),
            ..
        } => notification,
        // Without mozillapulse's envelope, as the notification itself.
        Envelope {
            kind: Some(kind),
            data: Some(data),
            ..
        } => Notification { kind, data },
        _ => return Err(malformed("no `payload` with `type` and `data`".into())),
    };
    match notification.kind.as_str() {
        "changegroup.1" => changegroup(message, notification.data),
        "newrepo.1" | "obsolete.1" => Ok(Vec::new()),
        other => Err(malformed(format!("unknown message type {other:?}"))),
    }
}

fn changegroup(message: &Message, data: serde_json::Value) -> Result<Vec<Record>, Error> {
    let group: Changegroup =
        serde_json::from_value(data).map_err(|e| malformed(format!("changegroup.1: {e}")))?;
    let tree = tree_of(&group.repo_url)?;
    if let Some(bad) = group.heads.iter().find(|head| !is_revision(head)) {
        return Err(malformed(format!("head {bad:?} is not a revision")));
    }
    let last = group.pushlog_pushes.len().saturating_sub(1);
    group
        .pushlog_pushes
        .into_iter()
        .enumerate()
        .map(|(index, push)| {
            let pushed_at = DateTime::<Utc>::from_timestamp(push.time, 0)
                .ok_or_else(|| malformed(format!("push time {} is out of range", push.time)))?;
            Ok(Record::Push(PushRecord {
                tree: tree.clone(),
                repo_url: group.repo_url.clone(),
                push_id: push.pushid,
                author: push.user,
                pushed_at,
                // The heads are where the whole message left the
                // repository: the last push's tip. Earlier pushes of the
                // same message are known by their push id only.
                revision: (index == last)
                    .then(|| group.heads.last().cloned())
                    .flatten(),
                heads: if index == last {
                    group.heads.clone()
                } else {
                    Vec::new()
                },
                key: message.routing_key.clone(),
            }))
        })
        .collect()
}

/// The tree (Treeherder's repository name) of `https://hg.mozilla.org/<path>`:
/// its last path segment, so `integration/autoland` is `autoland` and
/// `releases/mozilla-beta` is `mozilla-beta`.
fn tree_of(repo_url: &str) -> Result<String, Error> {
    let path = repo_url
        .split_once("://")
        .map(|(_, rest)| rest.split_once('/').map_or("", |(_, path)| path))
        .unwrap_or_default();
    let tree = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    let valid = !tree.is_empty()
        && tree
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if valid {
        Ok(tree.to_string())
    } else {
        Err(malformed(format!(
            "repo_url {repo_url:?} names no repository"
        )))
    }
}

fn is_revision(text: &str) -> bool {
    (12..=40).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn malformed(reason: String) -> Error {
    Error::new(ErrorKind::MalformedPushMessage { reason })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchanges;

    fn message(body: &str) -> Message {
        Message::new(
            exchanges::HG_PUSHES,
            "integration/autoland",
            body.as_bytes().to_vec(),
        )
    }

    const TIP: &str = "eb15e3f893453d6a4472f8905271aba33f8b58d0";

    #[test]
    fn a_changegroup_makes_one_record_per_pushlog_push() {
        let body = format!(
            r#"{{"payload": {{"type": "changegroup.1", "data": {{
                "repo_url": "https://hg.mozilla.org/integration/autoland",
                "heads": ["{TIP}"], "source": "serve",
                "pushlog_pushes": [
                  {{"pushid": 41, "user": "a@example.org", "time": 1700000000,
                    "push_json_url": "u", "push_full_json_url": "v"}},
                  {{"pushid": 42, "user": "b@example.org", "time": 1700000060}}]}}}},
               "_meta": {{"routing_key": "integration/autoland"}}}}"#
        );
        let records = translate(&message(&body)).unwrap();
        let pushes: Vec<&PushRecord> = records
            .iter()
            .map(|r| match r {
                Record::Push(p) => p,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(pushes.len(), 2);
        assert_eq!(pushes[0].tree, "autoland");
        assert_eq!(
            (pushes[0].push_id, pushes[0].revision.as_deref()),
            (41, None)
        );
        assert_eq!(pushes[1].revision.as_deref(), Some(TIP));
        assert_eq!(pushes[1].author, "b@example.org");
        assert_eq!(pushes[1].pushed_at.timestamp(), 1700000060);
    }

    #[test]
    fn other_types_announce_no_push_and_bad_ones_say_why() {
        let newrepo = r#"{"payload": {"type": "newrepo.1", "data": {"repo_url": "https://hg.mozilla.org/x"}}}"#;
        assert_eq!(translate(&message(newrepo)).unwrap(), Vec::new());
        let obsolete = r#"{"type": "obsolete.1", "data": {"repo_url": "https://hg.mozilla.org/x", "markers": []}}"#;
        assert_eq!(translate(&message(obsolete)).unwrap(), Vec::new());
        for (body, says) in [
            ("not json", "expected"),
            (
                r#"{"payload": {"type": "push.9", "data": {}}}"#,
                "\"push.9\"",
            ),
            (
                r#"{"payload": {"type": "changegroup.1", "data": {"repo_url": "https://hg.mozilla.org/", "heads": [], "pushlog_pushes": []}}}"#,
                "names no repository",
            ),
            (
                r#"{"payload": {"type": "changegroup.1", "data": {"repo_url": "https://hg.mozilla.org/try", "heads": ["zz"], "pushlog_pushes": []}}}"#,
                "head \"zz\"",
            ),
            (
                r#"{"payload": {"type": "changegroup.1", "data": {"repo_url": "https://hg.mozilla.org/try"}}}"#,
                "pushlog_pushes",
            ),
        ] {
            let error = translate(&message(body)).unwrap_err();
            assert!(
                matches!(error.kind(), ErrorKind::MalformedPushMessage { .. }),
                "{body}: {error}"
            );
            assert!(error.to_string().contains(says), "{body}: {error}");
        }
    }

    #[test]
    fn trees_are_the_last_path_segment() {
        for (url, tree) in [
            ("https://hg.mozilla.org/integration/autoland", "autoland"),
            ("https://hg.mozilla.org/mozilla-central/", "mozilla-central"),
            (
                "https://hg.mozilla.org/releases/mozilla-beta",
                "mozilla-beta",
            ),
            ("https://hg.mozilla.org/try", "try"),
        ] {
            assert_eq!(tree_of(url).unwrap(), tree);
        }
    }
}
