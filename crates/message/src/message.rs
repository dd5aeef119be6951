//! [`Message`]: one Pulse message as it travels, from the wire to a
//! recording and back, and what every translator reads.

use std::borrow::Cow;

use serde::de::{self, Deserializer};
use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// One Pulse message: where it was published, how it was routed, and its
/// body, byte for byte. The wire crate hands these out and publishes them,
/// the translators read them, recordings and dead-letter files store them.
///
/// It serializes as one line of a recording (`pulse-monitor record`): a
/// JSON body is written as JSON, so recordings stay readable and
/// `jq`-able, and read back as the same bytes, never re-encoded; any other
/// body is kept byte for byte in `body_bytes`; no `cc` is written when
/// there are no routes.
///
/// ```
/// use pulse_message::Message;
///
/// let message = Message::new("exchange/build/", "build.x.1.log_uploaded", br#"{"a":1}"#.to_vec());
/// let line = serde_json::to_string(&message)?;
/// assert_eq!(line, r#"{"exchange":"exchange/build/","routing_key":"build.x.1.log_uploaded","body":{"a":1}}"#);
/// assert_eq!(serde_json::from_str::<Message>(&line)?, message);
///
/// let binary = Message::new("exchange/build/", "k", vec![0xff]).with_cc(vec!["route.a".into()]);
/// let line = serde_json::to_string(&binary)?;
/// assert_eq!(line, r#"{"exchange":"exchange/build/","routing_key":"k","cc":["route.a"],"body_bytes":[255]}"#);
/// assert_eq!(serde_json::from_str::<Message>(&line)?, binary);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message {
    /// The exchange it was published to, e.g. `exchange/build/` (see
    /// [`crate::exchanges`]).
    pub exchange: String,
    /// Its routing key.
    pub routing_key: String,
    /// The extra routes of its `CC` header: Taskcluster's queue puts each
    /// of a task's routes there as `route.<route>`.
    pub cc: Vec<String>,
    /// The body, as published (JSON on Pulse).
    pub body: Vec<u8>,
}

impl Message {
    /// A message with no `CC` routes.
    pub fn new(
        exchange: impl Into<String>,
        routing_key: impl Into<String>,
        body: impl Into<Vec<u8>>,
    ) -> Message {
        Message {
            exchange: exchange.into(),
            routing_key: routing_key.into(),
            cc: Vec::new(),
            body: body.into(),
        }
    }

    /// The same message with these `CC` routes.
    #[must_use]
    pub fn with_cc(mut self, cc: Vec<String>) -> Message {
        self.cc = cc;
        self
    }

    /// The body parsed as JSON: the "large dict" the seed's
    /// `pulseCallback` received.
    pub fn json(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    /// The body as JSON text fit for one line, or `None` when it is not
    /// JSON. `null` counts as not JSON: it would read back as no body.
    fn json_body(&self) -> Option<Cow<'_, str>> {
        let raw = serde_json::from_slice::<&RawValue>(&self.body).ok()?;
        let text = raw.get();
        if text == "null" {
            return None;
        }
        // JSON strings cannot hold a raw line break, so every one in valid
        // JSON is whitespace between tokens and can go.
        if text.contains(['\n', '\r']) {
            Some(Cow::Owned(text.replace(['\n', '\r'], "")))
        } else {
            Some(Cow::Borrowed(text))
        }
    }
}

impl Serialize for Message {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let json = self.json_body();
        let fields = 3 + usize::from(!self.cc.is_empty());
        let mut line = serializer.serialize_struct("Message", fields)?;
        line.serialize_field("exchange", &self.exchange)?;
        line.serialize_field("routing_key", &self.routing_key)?;
        if self.cc.is_empty() {
            line.skip_field("cc")?;
        } else {
            line.serialize_field("cc", &self.cc)?;
        }
        match json {
            Some(text) => {
                let raw =
                    RawValue::from_string(text.into_owned()).map_err(serde::ser::Error::custom)?;
                line.serialize_field("body", &raw)?;
                line.skip_field("body_bytes")?;
            }
            None => {
                line.skip_field("body")?;
                line.serialize_field("body_bytes", &self.body)?;
            }
        }
        line.end()
    }
}

/// A recording line as read: the body stays the JSON text it is, so the
/// translator is the only one to parse it.
#[derive(Deserialize)]
struct Line {
    exchange: String,
    routing_key: String,
    #[serde(default)]
    cc: Vec<String>,
    #[serde(default)]
    body: Option<Box<RawValue>>,
    #[serde(default)]
    body_bytes: Option<Vec<u8>>,
}

impl<'de> Deserialize<'de> for Message {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Message, D::Error> {
        let line = Line::deserialize(deserializer)?;
        let body = match (line.body, line.body_bytes) {
            (Some(_), Some(_)) => {
                return Err(de::Error::custom(
                    "a message has `body` or `body_bytes`, not both",
                ))
            }
            (Some(json), None) => Box::<str>::from(json).into_boxed_bytes().into_vec(),
            (None, Some(bytes)) => bytes,
            (None, None) => Vec::new(),
        };
        Ok(Message {
            exchange: line.exchange,
            routing_key: line.routing_key,
            cc: line.cc,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(message: &Message) -> Message {
        let line = serde_json::to_string(message).unwrap();
        assert!(!line.contains('\n'), "one line: {line}");
        serde_json::from_str(&line).unwrap()
    }

    #[test]
    fn json_bodies_keep_their_bytes_and_others_are_byte_arrays() {
        let compact = Message::new("e", "k", br#"{"b":2,"a":[1,"x\ny"]}"#.to_vec());
        assert_eq!(round_trip(&compact), compact, "key order and escapes kept");
        for body in [&b""[..], b"null", b"not json", &[0xff, 0xfe]] {
            let message = Message::new("e", "k", body.to_vec());
            assert_eq!(round_trip(&message), message, "{body:?}");
        }
    }

    #[test]
    fn a_pretty_printed_body_becomes_one_line_of_the_same_json() {
        let pretty = Message::new("e", "k", b"{\r\n  \"a\": [1,\n 2]\n}".to_vec());
        let back = round_trip(&pretty);
        assert_eq!(back.json().unwrap(), pretty.json().unwrap());
    }

    #[test]
    fn a_line_with_both_bodies_is_refused() {
        let line = r#"{"exchange":"e","routing_key":"k","body":1,"body_bytes":[1]}"#;
        let error = serde_json::from_str::<Message>(line).unwrap_err();
        assert!(error.to_string().contains("not both"), "{error}");
    }
}
