//! What to declare on the broker: [`Topology`], replayed on every (re)connect.

use crate::error::{Error, ErrorKind, Result};
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

/// The RabbitMQ queue type (`x-queue-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum QueueType {
    /// A classic queue: one copy on one node. The default, and what every
    /// RabbitMQ version accepts; no `x-queue-type` argument is sent.
    #[default]
    Classic,
    /// A quorum queue: replicated (Raft) and always durable; the broker
    /// counts how often each message was delivered, so a delivery limit
    /// ([`QueueSpec::delivery_limit`]) can stop a message that keeps
    /// killing its consumer. Taskcluster declares its queues this way.
    Quorum,
}

impl QueueType {
    /// The name RabbitMQ uses: `classic` or `quorum`.
    pub fn as_str(self) -> &'static str {
        match self {
            QueueType::Classic => "classic",
            QueueType::Quorum => "quorum",
        }
    }
}

impl std::fmt::Display for QueueType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for QueueType {
    type Err = Error;

    /// `classic` or `quorum`; anything else is an
    /// [`ErrorKind::InvalidConfig`] error quoting the input.
    fn from_str(s: &str) -> Result<QueueType> {
        match s {
            "classic" => Ok(QueueType::Classic),
            "quorum" => Ok(QueueType::Quorum),
            other => Err(Error::new(
                ErrorKind::InvalidConfig,
                format!("unknown queue type `{other}` (expected classic or quorum)"),
            )),
        }
    }
}

/// The queue to consume from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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
    /// Classic (default) or quorum (`x-queue-type`).
    pub queue_type: QueueType,
    /// `x-delivery-limit` (quorum queues only): a message delivered this
    /// many times more without an ack is dropped, or dead-lettered if the
    /// queue has a dead-letter exchange, instead of being delivered again.
    pub delivery_limit: Option<u32>,
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
            queue_type: QueueType::Classic,
            delivery_limit: None,
        }
    }

    /// A durable, shared queue that the broker deletes once it has had no
    /// consumer for `grace` (`x-expires`): for a monitor whose queue should
    /// not outlive it for long, yet should keep what arrives while it
    /// reconnects. RabbitMQ 4 deprecates non-durable queues that are not
    /// exclusive, and an exclusive queue dies with its connection (losing
    /// what is routed while reconnecting); a durable expiring queue is
    /// accepted by every version and loses neither.
    pub fn expiring(name: impl Into<String>, grace: Duration) -> QueueSpec {
        QueueSpec {
            expires: Some(grace),
            ..QueueSpec::durable(name)
        }
    }

    /// The same queue as a quorum queue with an optional delivery limit.
    pub fn quorum(mut self, delivery_limit: Option<u32>) -> QueueSpec {
        self.queue_type = QueueType::Quorum;
        self.delivery_limit = delivery_limit;
        self
    }

    /// Checks what the broker would refuse anyway, with a clearer message:
    /// a quorum queue must be durable, neither exclusive nor auto-deleted;
    /// a delivery limit needs a quorum queue and must be at least 1.
    pub fn validate(&self) -> Result<()> {
        let bad = |message: String| Err(Error::new(ErrorKind::InvalidConfig, message));
        if self.queue_type == QueueType::Quorum
            && (!self.durable || self.exclusive || self.auto_delete)
        {
            return bad(format!(
                "quorum queue `{}` must be durable, not exclusive and not auto-deleted",
                self.name
            ));
        }
        match self.delivery_limit {
            Some(_) if self.queue_type != QueueType::Quorum => bad(format!(
                "a delivery limit needs a quorum queue; queue `{}` is {}",
                self.name, self.queue_type
            )),
            Some(0) => bad(format!(
                "delivery limit 0 for queue `{}` would drop every message; give at least 1",
                self.name
            )),
            _ => Ok(()),
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
        if self.queue_type == QueueType::Quorum {
            args.insert(
                "x-queue-type".into(),
                AmqpValue::LongString("quorum".into()),
            );
        }
        if let Some(limit) = self.delivery_limit {
            args.insert(
                "x-delivery-limit".into(),
                AmqpValue::LongLongInt(limit.into()),
            );
        }
        args
    }
}

/// A binding of the queue to an exchange with a topic pattern (`#`, `*`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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
#[non_exhaustive]
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
        self.queue.validate()?;
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
        assert!(!args.contains_key("x-queue-type"));
    }

    #[test]
    fn expiring_queues_are_durable_and_expire() {
        let q = QueueSpec::expiring("q", Duration::from_secs(300));
        assert!(q.durable && !q.exclusive && !q.auto_delete);
        assert_eq!(q.arguments()["x-expires"], AmqpValue::LongLongInt(300_000));
        assert!(q.validate().is_ok());
    }

    #[test]
    fn quorum_queues_carry_type_and_limit() {
        let q = QueueSpec::durable("q").quorum(Some(3));
        let args = q.arguments();
        assert_eq!(args["x-queue-type"], AmqpValue::LongString("quorum".into()));
        assert_eq!(args["x-delivery-limit"], AmqpValue::LongLongInt(3));
        assert!(q.validate().is_ok());
        assert!(QueueSpec::expiring("q", Duration::from_secs(1))
            .quorum(None)
            .validate()
            .is_ok());
    }

    #[test]
    fn impossible_queues_are_refused_before_the_broker_sees_them() {
        let err = QueueSpec::transient("q")
            .quorum(None)
            .validate()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig);
        assert!(err.to_string().contains("`q`"), "{err}");
        let mut classic = QueueSpec::durable("q");
        classic.delivery_limit = Some(2);
        let err = classic.validate().unwrap_err();
        assert!(err.to_string().contains("needs a quorum queue"), "{err}");
        let err = QueueSpec::durable("q")
            .quorum(Some(0))
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("delivery limit 0"), "{err}");
        let err = "stream".parse::<QueueType>().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig);
        assert!(err.to_string().contains("`stream`"), "{err}");
        assert_eq!("quorum".parse::<QueueType>().unwrap(), QueueType::Quorum);
    }
}
