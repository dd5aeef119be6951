//! [`RawMessage`]: a message as the raw-message callback sees it.

use std::ops::Deref;

use pulse_translator::Message;

/// One Pulse message before translation, as the raw-message callback
/// ([`MonitorBuilder::on_message`](crate::MonitorBuilder::on_message), the
/// seed's `pulseCallback`) receives it: the [`Message`] (it reads as one),
/// and whether the broker delivered it before.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawMessage {
    /// The message: exchange, routing key, `CC` routes and body.
    pub message: Message,
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
        RawMessage::from(Message::new(exchange, routing_key, body))
    }
}

impl From<Message> for RawMessage {
    /// A message never delivered before.
    fn from(message: Message) -> RawMessage {
        RawMessage {
            message,
            redelivered: false,
        }
    }
}

impl Deref for RawMessage {
    type Target = Message;

    fn deref(&self) -> &Message {
        &self.message
    }
}
