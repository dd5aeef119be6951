//! Messages as they come off the wire or out of a recording.

use serde::{Deserialize, Serialize};

/// One Pulse message before translation: where it was published, how it was
/// routed, and its body. This is what the raw-message callback receives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawMessage {
    /// The exchange it was published to, e.g. `exchange/build/`.
    pub exchange: String,
    /// Its routing key.
    pub routing_key: String,
    /// The extra routes from the `CC` header (Taskcluster puts
    /// `route.tc-treeherder.v2.…` there).
    pub cc: Vec<String>,
    /// The body, as published.
    pub body: Vec<u8>,
    /// True when the broker delivered it before and it was not acknowledged.
    pub redelivered: bool,
}

impl RawMessage {
    /// A message with no `CC` routes that was never delivered before.
    pub fn new(
        exchange: impl Into<String>,
        routing_key: impl Into<String>,
        body: impl Into<Vec<u8>>,
    ) -> RawMessage {
        RawMessage {
            exchange: exchange.into(),
            routing_key: routing_key.into(),
            cc: Vec::new(),
            body: body.into(),
            redelivered: false,
        }
    }

    /// The body parsed as JSON: the "large dict" the Python monitor's
    /// `pulseCallback` received.
    pub fn json(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }
}

/// One line of a recording (`pulse-monitor record`), in JSON lines.
///
/// A JSON body is kept as JSON so recordings stay readable and `jq`-able;
/// any other body is kept byte for byte in `body_bytes`.
///
/// ```
/// use pulse_build_monitor::{RawMessage, RecordedMessage};
///
/// let message = RawMessage::new("exchange/build/", "build.x.1.log_uploaded", br#"{"a":1}"#.to_vec());
/// let line = serde_json::to_string(&RecordedMessage::from(&message))?;
/// assert_eq!(line, r#"{"exchange":"exchange/build/","routing_key":"build.x.1.log_uploaded","body":{"a":1}}"#);
/// let back: RecordedMessage = serde_json::from_str(&line)?;
/// assert_eq!(RawMessage::from(back), message);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordedMessage {
    /// The exchange the message was published to.
    pub exchange: String,
    /// Its routing key.
    pub routing_key: String,
    /// Its `CC` routes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cc: Vec<String>,
    /// The body, when it is JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
    /// The body, when it is not JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_bytes: Option<Vec<u8>>,
}

impl From<&RawMessage> for RecordedMessage {
    fn from(message: &RawMessage) -> RecordedMessage {
        // A `null` body would read back as no body at all: keep its bytes.
        let body = serde_json::from_slice::<serde_json::Value>(&message.body)
            .ok()
            .filter(|json| !json.is_null());
        RecordedMessage {
            exchange: message.exchange.clone(),
            routing_key: message.routing_key.clone(),
            cc: message.cc.clone(),
            body_bytes: if body.is_none() {
                Some(message.body.clone())
            } else {
                None
            },
            body,
        }
    }
}

impl From<RecordedMessage> for RawMessage {
    fn from(recorded: RecordedMessage) -> RawMessage {
        let body = match (recorded.body, recorded.body_bytes) {
            (Some(json), _) => serde_json::to_vec(&json).expect("a JSON value always serializes"),
            (None, Some(bytes)) => bytes,
            (None, None) => Vec::new(),
        };
        RawMessage {
            exchange: recorded.exchange,
            routing_key: recorded.routing_key,
            cc: recorded.cc,
            body,
            redelivered: false,
        }
    }
}
