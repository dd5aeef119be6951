//! What to declare on the broker: [`Topology`], replayed on every (re)connect.

use crate::error::{Error, Result};
use amiquip::{AmqpValue, Channel, ExchangeDeclareOptions, ExchangeType, FieldTable};
use std::time::Duration;

/// How the exchanges named in a [`Topology`] are declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExchangeDeclaration {
    /// Only check that each exchange exists (a clear `NotFound` error if not).
    /// The default: on the real Pulse the exchanges belong to their
    /// publishers, and declaring them with other options would fail (406).
    #[default]
    Passive,
    /// Create each exchange as a durable topic exchange if missing: for a
    /// local broker (tests, demos).
    Declare,
}

/// The queue to consume from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSpec {
    /// Queue name; Pulse only allows `queue/<user>/...` (see [`crate::queue_name`]).
    pub name: String,
    /// Survives broker restarts; with acks after the work, nothing is lost
    /// while the consumer is away.
    pub durable: bool,
    /// Only this connection may use it; deleted when the connection closes
    /// (so it is recreated empty after a reconnect).
    pub exclusive: bool,
    /// Deleted when its last consumer goes away.
    pub auto_delete: bool,
    /// `x-max-length`: the broker drops the oldest messages beyond this.
    pub max_length: Option<u32>,
    /// `x-message-ttl`: messages older than this are dropped.
    pub message_ttl: Option<Duration>,
    /// `x-expires`: the queue is deleted after being unused this long.
    pub expires: Option<Duration>,
}

impl QueueSpec {
    /// A durable, shared queue: messages wait for us across restarts.
    pub fn durable(name: impl Into<String>) -> QueueSpec {
        QueueSpec {
            name: name.into(),
            durable: true,
            exclusive: false,
            auto_delete: false,
            max_length: None,
            message_ttl: None,
            expires: None,
        }
    }

    /// A private, auto-deleted queue that lives as long as one connection.
    pub fn transient(name: impl Into<String>) -> QueueSpec {
        QueueSpec {
            durable: false,
            exclusive: true,
            auto_delete: true,
            ..QueueSpec::durable(name)
        }
    }

    fn arguments(&self) -> FieldTable {
        let mut args = FieldTable::new();
        let millis =
            |d: Duration| AmqpValue::LongLongInt(d.as_millis().min(i64::MAX as u128) as i64);
        if let Some(max) = self.max_length {
            args.insert("x-max-length".into(), AmqpValue::LongLongInt(max.into()));
        }
        if let Some(ttl) = self.message_ttl {
            args.insert("x-message-ttl".into(), millis(ttl));
        }
        if let Some(expires) = self.expires {
            args.insert("x-expires".into(), millis(expires));
        }
        args
    }
}

/// A binding of the queue to an exchange with a topic pattern (`#`, `*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// Exchange name, e.g. `exchange/build/normalized`.
    pub exchange: String,
    /// Topic pattern, e.g. `build.mozilla-central.#`.
    pub routing_key: String,
}

/// Exchanges, one queue and its bindings; declared in that order on each
/// connect, so a reconnect restores everything (a queue deleted by Pulse in
/// the meantime is recreated).
///
/// Redeclaring an existing queue with other options or arguments fails with
/// [`crate::ErrorKind::PreconditionFailed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    /// Exchanges to check or declare (see [`ExchangeDeclaration`]).
    pub exchanges: Vec<String>,
    /// Check existence (default) or create the exchanges.
    pub exchange_declaration: ExchangeDeclaration,
    /// The queue to declare and consume from.
    pub queue: QueueSpec,
    /// Bindings from exchanges to the queue.
    pub bindings: Vec<Binding>,
}

impl Topology {
    /// A queue with no bindings yet; exchanges are checked passively.
    pub fn new(queue: QueueSpec) -> Topology {
        Topology {
            exchanges: Vec::new(),
            exchange_declaration: ExchangeDeclaration::Passive,
            queue,
            bindings: Vec::new(),
        }
    }

    /// Adds a binding, and its exchange to the ones to declare.
    pub fn bind(mut self, exchange: impl Into<String>, routing_key: impl Into<String>) -> Topology {
        let exchange = exchange.into();
        if !self.exchanges.contains(&exchange) {
            self.exchanges.push(exchange.clone());
        }
        self.bindings.push(Binding {
            exchange,
            routing_key: routing_key.into(),
        });
        self
    }

    /// Chooses how exchanges are declared.
    pub fn exchange_declaration(mut self, declaration: ExchangeDeclaration) -> Topology {
        self.exchange_declaration = declaration;
        self
    }

    /// Declares everything on `channel`. A failure closes that channel.
    pub(crate) fn apply(&self, channel: &Channel) -> Result<()> {
        for exchange in &self.exchanges {
            declare_exchange(channel, exchange, self.exchange_declaration)?;
        }
        let queue = &self.queue;
        let options = amiquip::QueueDeclareOptions {
            durable: queue.durable,
            exclusive: queue.exclusive,
            auto_delete: queue.auto_delete,
            arguments: queue.arguments(),
        };
        channel
            .queue_declare(queue.name.as_str(), options)
            .map_err(|e| Error::amqp(format_args!("declaring queue `{}`", queue.name), e))?;
        for binding in &self.bindings {
            channel
                .queue_bind(
                    queue.name.as_str(),
                    binding.exchange.as_str(),
                    binding.routing_key.as_str(),
                    FieldTable::new(),
                )
                .map_err(|e| {
                    Error::amqp(
                        format_args!(
                            "binding queue `{}` to `{}` with `{}`",
                            queue.name, binding.exchange, binding.routing_key
                        ),
                        e,
                    )
                })?;
        }
        Ok(())
    }
}

pub(crate) fn declare_exchange(
    channel: &Channel,
    name: &str,
    declaration: ExchangeDeclaration,
) -> Result<()> {
    let result = match declaration {
        ExchangeDeclaration::Passive => channel.exchange_declare_passive(name),
        ExchangeDeclaration::Declare => channel.exchange_declare(
            ExchangeType::Topic,
            name,
            ExchangeDeclareOptions {
                durable: true,
                ..ExchangeDeclareOptions::default()
            },
        ),
    };
    result
        .map(drop)
        .map_err(|e| Error::amqp(format_args!("declaring exchange `{name}`"), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_collects_exchanges_once() {
        let t = Topology::new(QueueSpec::durable("queue/me/x"))
            .bind("exchange/a", "#")
            .bind("exchange/a", "b.*")
            .bind("exchange/c", "#");
        assert_eq!(t.exchanges, ["exchange/a", "exchange/c"]);
        assert_eq!(t.bindings.len(), 3);
        assert_eq!(t.exchange_declaration, ExchangeDeclaration::Passive);
    }

    #[test]
    fn queue_arguments_only_when_asked() {
        let mut q = QueueSpec::transient("q");
        assert!(q.arguments().is_empty());
        q.max_length = Some(10);
        q.message_ttl = Some(Duration::from_secs(2));
        let args = q.arguments();
        assert_eq!(args["x-max-length"], AmqpValue::LongLongInt(10));
        assert_eq!(args["x-message-ttl"], AmqpValue::LongLongInt(2000));
        assert!(!args.contains_key("x-expires"));
    }
}
