//! Publishing with publisher confirms, plus queue and exchange housekeeping:
//! for tests, demos and replays of recorded messages.

use crate::connect::open_connection;
use crate::error::{Error, ErrorKind, Result};
use crate::settings::ConnectionSettings;
use crate::topology::{declare_exchange, ExchangeDeclaration, Topology};
use amiquip::{
    AmqpProperties, AmqpValue, Channel, Confirm, Connection, FieldTable, Publish,
    QueueDeleteOptions,
};
use crossbeam_channel::Receiver;
use pulse_message::Message;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// A blocking publisher on its own connection (TCP_NODELAY set), with
/// publisher confirms: a publish returns once the broker has taken
/// responsibility for the message. Messages are persistent unless
/// [`set_persistent`](Self::set_persistent) says otherwise. An unroutable
/// message (no matching binding) is confirmed and dropped by the broker.
///
/// After a channel-level error (say, publishing to a missing exchange) the
/// next call opens a fresh channel; a lost connection needs a new `Publisher`.
pub struct Publisher {
    connection: Connection,
    publishing: Option<PublishChannel>,
    confirm_timeout: Duration,
    persistent: bool,
}

struct PublishChannel {
    channel: Channel,
    confirms: Receiver<Confirm>,
    next_tag: u64,
    unconfirmed: BTreeSet<u64>,
    nacked: usize,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher")
            .field("confirm_timeout", &self.confirm_timeout)
            .finish_non_exhaustive()
    }
}

impl Publisher {
    /// Connects (failing fast: no retries).
    pub fn connect(settings: &ConnectionSettings) -> Result<Publisher> {
        Ok(Publisher {
            connection: open_connection(settings)?,
            publishing: None,
            confirm_timeout: Duration::from_secs(30),
            persistent: true,
        })
    }

    /// How long to wait for confirms (default 30 s) before failing with
    /// [`ErrorKind::NotConfirmed`].
    pub fn set_confirm_timeout(&mut self, timeout: Duration) {
        self.confirm_timeout = timeout;
    }

    /// Whether messages are persistent (default true, like Pulse's
    /// publishers). The broker confirms a persistent message on a durable
    /// queue only once it is on disk, which costs most of the rate of
    /// confirm-each publishing (hundreds instead of thousands of msg/s on
    /// the local broker; see `cargo bench -p pulse-wire`).
    pub fn set_persistent(&mut self, persistent: bool) {
        self.persistent = persistent;
    }

    /// Declares a durable topic exchange (Pulse's kind).
    pub fn declare_exchange(&mut self, name: &str) -> Result<()> {
        self.with_scratch_channel(|channel| {
            declare_exchange(channel, name, ExchangeDeclaration::Declare)
        })
    }

    /// Declares a whole topology, as a consumer would on connecting.
    pub fn declare(&mut self, topology: &Topology) -> Result<()> {
        self.with_scratch_channel(|channel| topology.apply(channel))
    }

    /// Publishes one message and waits for its confirm.
    pub fn publish(
        &mut self,
        exchange: &str,
        routing_key: &str,
        body: &[u8],
        cc: Option<&[String]>,
    ) -> Result<()> {
        self.send(exchange, routing_key, body, cc.unwrap_or_default())?;
        self.wait_for_confirms()
    }

    /// Publishes all messages, then waits once for all confirms.
    /// Returns how many were published.
    pub fn publish_batch<'a>(
        &mut self,
        messages: impl IntoIterator<Item = &'a Message>,
    ) -> Result<usize> {
        let mut count = 0;
        for message in messages {
            self.send(
                &message.exchange,
                &message.routing_key,
                &message.body,
                &message.cc,
            )?;
            count += 1;
        }
        self.wait_for_confirms()?;
        Ok(count)
    }

    /// Messages waiting in `queue`; `NotFound` if it does not exist.
    pub fn queue_depth(&mut self, queue: &str) -> Result<u32> {
        self.with_scratch_channel(|channel| {
            channel
                .queue_declare_passive(queue)
                .map(|q| q.declared_message_count().unwrap_or(0))
                .map_err(|e| Error::amqp(format_args!("reading the depth of `{queue}`"), e))
        })
    }

    /// Drops every waiting message of `queue`; returns how many.
    pub fn purge_queue(&mut self, queue: &str) -> Result<u32> {
        self.with_scratch_channel(|channel| {
            channel
                .queue_purge(queue)
                .map_err(|e| Error::amqp(format_args!("purging `{queue}`"), e))
        })
    }

    /// Deletes `queue` with its messages; returns how many messages it held.
    pub fn delete_queue(&mut self, queue: &str) -> Result<u32> {
        self.with_scratch_channel(|channel| {
            channel
                .queue_delete(queue, QueueDeleteOptions::default())
                .map_err(|e| Error::amqp(format_args!("deleting queue `{queue}`"), e))
        })
    }

    /// Deletes an exchange.
    pub fn delete_exchange(&mut self, exchange: &str) -> Result<()> {
        self.with_scratch_channel(|channel| {
            channel
                .exchange_delete(exchange, false)
                .map_err(|e| Error::amqp(format_args!("deleting exchange `{exchange}`"), e))
        })
    }

    /// Closes the connection cleanly.
    pub fn close(self) -> Result<()> {
        drop(self.publishing);
        self.connection
            .close()
            .map_err(|e| Error::amqp("closing the connection", e))
    }

    /// Runs `f` on a channel of its own: a failing declare or delete closes
    /// its channel, and must not take the publishing channel with it.
    fn with_scratch_channel<T>(&mut self, f: impl FnOnce(&Channel) -> Result<T>) -> Result<T> {
        let channel = self
            .connection
            .open_channel(None)
            .map_err(|e| Error::amqp("opening a channel", e))?;
        let result = f(&channel);
        if result.is_ok() {
            let _ = channel.close();
        }
        result
    }

    fn publishing_channel(&mut self) -> Result<&mut PublishChannel> {
        if self.publishing.is_none() {
            let channel = self
                .connection
                .open_channel(None)
                .map_err(|e| Error::amqp("opening a channel", e))?;
            let confirms = channel
                .listen_for_publisher_confirms()
                .map_err(|e| Error::amqp("listening for confirms", e))?;
            channel
                .enable_publisher_confirms()
                .map_err(|e| Error::amqp("enabling publisher confirms", e))?;
            self.publishing = Some(PublishChannel {
                channel,
                confirms,
                next_tag: 1,
                unconfirmed: BTreeSet::new(),
                nacked: 0,
            });
        }
        Ok(self.publishing.as_mut().expect("just opened"))
    }

    fn send(
        &mut self,
        exchange: &str,
        routing_key: &str,
        body: &[u8],
        cc: &[String],
    ) -> Result<()> {
        let delivery_mode = if self.persistent { 2 } else { 1 };
        let mut properties = AmqpProperties::default().with_delivery_mode(delivery_mode);
        if !cc.is_empty() {
            let routes = cc.iter().cloned().map(AmqpValue::LongString).collect();
            let mut headers = FieldTable::new();
            headers.insert("CC".into(), AmqpValue::FieldArray(routes));
            properties = properties.with_headers(headers);
        }
        let publishing = self.publishing_channel()?;
        let result = publishing.channel.basic_publish(
            exchange,
            Publish::with_properties(body, routing_key, properties),
        );
        match result {
            Ok(()) => {
                publishing.unconfirmed.insert(publishing.next_tag);
                publishing.next_tag += 1;
                Ok(())
            }
            Err(e) => {
                self.publishing = None;
                Err(Error::amqp(
                    format_args!("publishing to `{exchange}` with `{routing_key}`"),
                    e,
                ))
            }
        }
    }

    fn wait_for_confirms(&mut self) -> Result<()> {
        let deadline = Instant::now() + self.confirm_timeout;
        let Some(publishing) = self.publishing.as_mut() else {
            return Ok(());
        };
        while !publishing.unconfirmed.is_empty() {
            let confirm = match publishing.confirms.recv_deadline(deadline) {
                Ok(confirm) => confirm,
                Err(e) => {
                    let waiting = publishing.unconfirmed.len();
                    // The channel is either dead or too slow; start afresh.
                    self.publishing = None;
                    return Err(if e.is_timeout() {
                        Error::new(
                            ErrorKind::NotConfirmed,
                            format!(
                                "{waiting} messages not confirmed within {:?}",
                                self.confirm_timeout
                            ),
                        )
                    } else {
                        Error::new(
                            ErrorKind::Closed,
                            format!("channel closed with {waiting} messages unconfirmed"),
                        )
                    });
                }
            };
            let (payload, nack) = match confirm {
                Confirm::Ack(payload) => (payload, false),
                Confirm::Nack(payload) => (payload, true),
            };
            let settled = if payload.multiple {
                let rest = publishing
                    .unconfirmed
                    .split_off(&(payload.delivery_tag + 1));
                std::mem::replace(&mut publishing.unconfirmed, rest).len()
            } else {
                usize::from(publishing.unconfirmed.remove(&payload.delivery_tag))
            };
            if nack {
                publishing.nacked += settled;
            }
        }
        let nacked = std::mem::take(&mut publishing.nacked);
        if nacked > 0 {
            return Err(Error::new(
                ErrorKind::NotConfirmed,
                format!("the broker refused {nacked} messages (nack)"),
            ));
        }
        Ok(())
    }
}
