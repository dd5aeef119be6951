//! What amiquip hands us besides the body: the `CC` header's routes, and
//! how a consumer's end reads in a log line.

use amiquip::{AmqpProperties, AmqpValue, ConsumerMessage};
use log::warn;

/// Why the broker's side of a consumer ended, for a log line.
pub(super) fn describe(message: ConsumerMessage) -> String {
    match message {
        ConsumerMessage::Delivery(_) => "unexpected delivery".into(),
        ConsumerMessage::ClientCancelled => "the consumer was cancelled".into(),
        ConsumerMessage::ServerCancelled => {
            "the broker cancelled the consumer (queue deleted?)".into()
        }
        ConsumerMessage::ClientClosedChannel => "the channel was closed".into(),
        ConsumerMessage::ClientClosedConnection => "the connection was closed".into(),
        ConsumerMessage::ServerClosedChannel(e) | ConsumerMessage::ServerClosedConnection(e) => {
            e.to_string()
        }
    }
}

/// Routes from the `CC` header (RabbitMQ's sender-selected distribution).
pub(super) fn cc_routes(properties: &AmqpProperties) -> Vec<String> {
    let Some(value) = properties.headers().as_ref().and_then(|h| h.get("CC")) else {
        return Vec::new();
    };
    let items = match value {
        AmqpValue::FieldArray(items) => items.as_slice(),
        single => std::slice::from_ref(single),
    };
    items
        .iter()
        .filter_map(|item| match item {
            AmqpValue::LongString(route) => Some(route.clone()),
            AmqpValue::ByteArray(bytes) => match String::from_utf8(bytes.clone()) {
                Ok(route) => Some(route),
                Err(_) => {
                    warn!("ignoring a CC route that is not utf-8");
                    None
                }
            },
            other => {
                warn!("ignoring a CC route that is not a string: {other:?}");
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use amiquip::FieldTable;

    fn with_cc(value: AmqpValue) -> AmqpProperties {
        let mut headers = FieldTable::new();
        headers.insert("CC".into(), value);
        AmqpProperties::default().with_headers(headers)
    }

    #[test]
    fn cc_header_forms() {
        assert!(cc_routes(&AmqpProperties::default()).is_empty());
        let list = with_cc(AmqpValue::FieldArray(vec![
            AmqpValue::LongString("route.a".into()),
            AmqpValue::LongString("route.b".into()),
        ]));
        assert_eq!(cc_routes(&list), ["route.a", "route.b"]);
        let single = with_cc(AmqpValue::LongString("route.c".into()));
        assert_eq!(cc_routes(&single), ["route.c"]);
    }
}
