//! Talking to the local broker: connections, a ledger of everything the
//! bench declares (deleted at the end, even after an error), backlogs and
//! the bare-consumer baseline.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use amiquip::{
    AmqpProperties, AmqpValue, Auth, Channel, Connection, ConnectionOptions, ConnectionTuning,
    ConsumerMessage, ConsumerOptions, FieldTable, Publish, QueueDeleteOptions,
};
use pulse_wire::{
    ConnectionSettings, ExchangeDeclaration, Message, Publisher, QueueSpec, Topology,
};

use crate::corpus::Template;

/// Boxed errors: the bench reports and gives up.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Opens a plain AMQP connection on a socket with TCP_NODELAY, as the
/// monitor's own connections are, so the baseline is not throttled by
/// Nagle's algorithm on its acks.
pub fn connect(settings: &ConnectionSettings) -> Result<Connection, BoxError> {
    let addr = (settings.host.as_str(), settings.port)
        .to_socket_addrs()?
        .next()
        .ok_or("the broker host resolves to nothing")?;
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_nodelay(true)?;
    let stream = mio::net::TcpStream::from_stream(stream)?;
    let options = ConnectionOptions::<Auth>::default()
        .auth(Auth::Plain {
            username: settings.user.clone(),
            password: settings.password.expose().to_string(),
        })
        .virtual_host(settings.vhost.as_str())
        .information(Some("pulse-bench".to_string()));
    Ok(Connection::insecure_open_stream(
        stream,
        options,
        ConnectionTuning::default(),
    )?)
}

/// What the bench declared, kept in memory and in a file so that
/// `bench cleanup <file>` can delete it after a crash.
pub struct Ledger {
    settings: ConnectionSettings,
    path: PathBuf,
    entries: Mutex<Vec<Entry>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Entry {
    Queue(String),
    Exchange(String),
    /// A shared exchange (`exchange/build/`) that did not exist before the
    /// bench: deleted only if nobody else bound to it meanwhile.
    ExchangeIfUnused(String),
}

impl Entry {
    fn line(&self) -> String {
        match self {
            Entry::Queue(name) => format!("queue {name}"),
            Entry::Exchange(name) => format!("exchange {name}"),
            Entry::ExchangeIfUnused(name) => format!("exchange-if-unused {name}"),
        }
    }

    fn parse(line: &str) -> Option<Entry> {
        let (kind, name) = line.split_once(' ')?;
        let name = name.to_owned();
        match kind {
            "queue" => Some(Entry::Queue(name)),
            "exchange" => Some(Entry::Exchange(name)),
            "exchange-if-unused" => Some(Entry::ExchangeIfUnused(name)),
            _ => None,
        }
    }
}

impl Ledger {
    /// An empty ledger written to `path`.
    pub fn new(settings: ConnectionSettings, path: PathBuf) -> Ledger {
        Ledger {
            settings,
            path,
            entries: Mutex::new(Vec::new()),
        }
    }

    /// Reads a ledger file left behind.
    pub fn load(settings: ConnectionSettings, path: PathBuf) -> Result<Ledger, BoxError> {
        let text = std::fs::read_to_string(&path)?;
        let entries = text.lines().filter_map(Entry::parse).collect();
        Ok(Ledger {
            settings,
            path,
            entries: Mutex::new(entries),
        })
    }

    fn add(&self, entry: Entry) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.contains(&entry) {
            return;
        }
        let written = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .and_then(|mut file| writeln!(file, "{}", entry.line()));
        if let Err(e) = written {
            log::warn!("cannot write the ledger {}: {e}", self.path.display());
        }
        entries.push(entry);
    }

    /// Records a queue (before declaring it).
    pub fn queue(&self, name: &str) {
        self.add(Entry::Queue(name.to_owned()));
    }

    /// Records an exchange of the bench's own (before declaring it).
    pub fn exchange(&self, name: &str) {
        self.add(Entry::Exchange(name.to_owned()));
    }

    /// Records the shared exchanges the monitor declares, if missing now.
    pub fn shared_exchanges(&self, names: &[&str]) -> Result<(), BoxError> {
        let mut connection = connect(&self.settings)?;
        for name in names {
            // A missing exchange closes the channel: one channel per check.
            let channel = connection.open_channel(None)?;
            if channel.exchange_declare_passive(*name).is_err() {
                self.add(Entry::ExchangeIfUnused((*name).to_owned()));
            }
        }
        let _ = connection.close();
        Ok(())
    }

    /// Deletes one queue now (and forgets it).
    pub fn delete_queue(&self, name: &str) {
        let entry = Entry::Queue(name.to_owned());
        if delete(&self.settings, std::slice::from_ref(&entry)) {
            self.entries
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|e| *e != entry);
        }
    }

    /// Deletes everything recorded, queues first; removes the file when all
    /// went. Returns what could not be deleted.
    pub fn clean_up(&self) -> usize {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        entries.sort_by_key(|e| !matches!(e, Entry::Queue(_)));
        let mut left = 0;
        for entry in &entries {
            if !delete(&self.settings, std::slice::from_ref(entry)) {
                left += 1;
            }
        }
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        if left == 0 {
            let _ = std::fs::remove_file(&self.path);
        }
        left
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        let left = self.clean_up();
        if left > 0 {
            eprintln!(
                "!!! {left} things the bench declared could not be deleted; see {}",
                self.path.display()
            );
        }
    }
}

/// Deletes entries; true if all went (or were gone already).
fn delete(settings: &ConnectionSettings, entries: &[Entry]) -> bool {
    let mut connection = match connect(settings) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("!!! cannot connect to delete {entries:?}: {e}");
            return false;
        }
    };
    let mut all = true;
    for entry in entries {
        let Ok(channel) = connection.open_channel(None) else {
            all = false;
            continue;
        };
        let result = match entry {
            Entry::Queue(name) => channel
                .queue_delete(name.as_str(), QueueDeleteOptions::default())
                .map(drop),
            Entry::Exchange(name) => channel.exchange_delete(name.as_str(), false),
            Entry::ExchangeIfUnused(name) => {
                if let Err(e) = channel.exchange_delete(name.as_str(), true) {
                    log::info!("left {name} in place (in use by others?): {e}");
                }
                Ok(())
            }
        };
        match result {
            Ok(()) => {
                let _ = channel.close();
            }
            // Already gone is as good as deleted.
            Err(amiquip::Error::ServerClosedChannel { code: 404, .. }) => {}
            Err(e) => {
                eprintln!("!!! deleting {}: {e}", entry.line());
                all = false;
            }
        }
    }
    let _ = connection.close();
    all
}

/// Declares a durable queue bound to `exchange` with `#` (declaring the
/// exchange too), recording both.
pub fn declare_queue(
    ledger: &Ledger,
    publisher: &mut Publisher,
    queue: &str,
    exchange: &str,
) -> Result<(), BoxError> {
    ledger.exchange(exchange);
    ledger.queue(queue);
    let topology = Topology::new(QueueSpec::durable(queue))
        .bind(exchange, "#")
        .exchange_declaration(ExchangeDeclaration::Declare);
    publisher.declare(&topology)?;
    Ok(())
}

/// Publishes messages `base .. base + count` of the templates (in turn) to
/// `exchange`, in confirmed batches. Returns the bytes published.
pub fn publish_backlog(
    publisher: &mut Publisher,
    exchange: &str,
    templates: &[Template],
    base: u64,
    count: u64,
) -> Result<u64, BoxError> {
    const BATCH: u64 = 500;
    let mut bytes = 0;
    let mut i = 0;
    while i < count {
        let end = (i + BATCH).min(count);
        let batch: Vec<Message> = (i..end)
            .map(|i| {
                let template = &templates[(i % templates.len() as u64) as usize];
                let seq = base + i;
                Message {
                    exchange: exchange.to_owned(),
                    routing_key: template.routing_key(seq),
                    body: template.body(seq),
                    cc: Vec::new(),
                }
            })
            .collect();
        bytes += batch.iter().map(|m| m.body.len() as u64).sum::<u64>();
        publisher.publish_batch(&batch)?;
        i = end;
    }
    Ok(bytes)
}

/// Removes bindings the monitor made to the shared exchanges, so only the
/// bench's own exchange feeds its queue (other helpers publish there too).
pub fn unbind(
    settings: &ConnectionSettings,
    queue: &str,
    bindings: &[(&'static str, String)],
) -> Result<(), BoxError> {
    let mut connection = connect(settings)?;
    let channel = connection.open_channel(None)?;
    for (exchange, pattern) in bindings {
        channel.queue_unbind(queue, *exchange, pattern.as_str(), FieldTable::new())?;
    }
    let _ = channel.close();
    let _ = connection.close();
    Ok(())
}

/// What a drain measured: messages between the first and the last one.
#[derive(Clone, Copy, Debug)]
pub struct Drain {
    /// Messages handled.
    pub count: u64,
    /// From the first message handled to the last.
    pub elapsed: Duration,
    /// When the last one was handled.
    pub last: Option<Instant>,
}

impl Drain {
    /// Messages per second after the first.
    pub fn rate(&self) -> f64 {
        (self.count.saturating_sub(1)) as f64 / self.elapsed.as_secs_f64()
    }
}

/// The baseline: drains `count` messages from `queue` with manual acks and
/// `prefetch` in flight, doing nothing else. It acknowledges as the
/// monitor's wire layer does: whatever has arrived by the time one message
/// is done goes out as one `ack_multiple` (one `basic.ack` per message when
/// they trickle in). With `parse`, each body is first parsed into
/// `IgnoredAny`: the least work any consumer of JSON must do.
pub fn bare_drain(
    settings: &ConnectionSettings,
    queue: &str,
    prefetch: u16,
    count: u64,
    parse: bool,
) -> Result<Drain, BoxError> {
    bare_drain_with(
        settings,
        queue,
        prefetch,
        count,
        parse,
        &BareHooks::default(),
    )
}

/// What a bare consumer reports while it drains.
#[derive(Default)]
pub struct BareHooks<'a> {
    /// Called once it is consuming, before the first message.
    pub ready: Option<&'a dyn Fn()>,
    /// Messages handled so far.
    pub handled: Option<&'a AtomicU64>,
}

/// [`bare_drain`], telling `hooks` when it is consuming and how far it got.
pub fn bare_drain_with(
    settings: &ConnectionSettings,
    queue: &str,
    prefetch: u16,
    count: u64,
    parse: bool,
    hooks: &BareHooks<'_>,
) -> Result<Drain, BoxError> {
    let mut connection = connect(settings)?;
    let channel: Channel = connection.open_channel(None)?;
    channel.qos(0, prefetch, false)?;
    let consumer = channel.basic_consume(queue, ConsumerOptions::default())?;
    if let Some(ready) = hooks.ready {
        ready();
    }
    let mut first = None;
    let mut handled = 0;
    let deadline = Duration::from_secs(120);
    let delivery = |message: ConsumerMessage| match message {
        ConsumerMessage::Delivery(delivery) => {
            if parse {
                serde_json::from_slice::<serde::de::IgnoredAny>(&delivery.body)
                    .map_err(|e| format!("bare consumer: a body is not JSON: {e}"))?;
            }
            Ok(delivery)
        }
        other => Err(format!("bare consumer: {other:?}")),
    };
    while handled < count {
        let Ok(message) = consumer.receiver().recv_timeout(deadline) else {
            return Err(format!("bare consumer: stalled at {handled}/{count}").into());
        };
        first.get_or_insert_with(Instant::now);
        let mut last = delivery(message)?;
        let mut batch = 1;
        while handled + batch < count {
            match consumer.receiver().try_recv() {
                Ok(message) => {
                    last = delivery(message)?;
                    batch += 1;
                }
                Err(_) => break,
            }
        }
        handled += batch;
        if let Some(progress) = hooks.handled {
            progress.store(handled, Ordering::SeqCst);
        }
        if batch == 1 {
            consumer.ack(last)?;
        } else {
            consumer.ack_multiple(last)?;
        }
    }
    let finished = Instant::now();
    let elapsed = first.map_or(Duration::ZERO, |f| finished.duration_since(f));
    let _ = consumer.cancel();
    drop(consumer);
    let _ = channel.close();
    let _ = connection.close();
    Ok(Drain {
        count: handled,
        elapsed,
        last: Some(finished),
    })
}

/// A bare consumer for the latency baseline: on its own thread, it records
/// when each message tagged `base .. base + count` (in its routing key)
/// arrives, acking each, until all came or `stop` is set.
pub fn bare_arrivals(
    settings: &ConnectionSettings,
    queue: &str,
    prefetch: u16,
    arrived: &dyn Fn(u64),
    stop: &AtomicBool,
    count: u64,
) -> Result<(), BoxError> {
    let mut connection = connect(settings)?;
    let channel: Channel = connection.open_channel(None)?;
    channel.qos(0, prefetch, false)?;
    let consumer = channel.basic_consume(queue, ConsumerOptions::default())?;
    let mut seen = 0;
    while seen < count && !stop.load(Ordering::SeqCst) {
        match consumer.receiver().recv_timeout(Duration::from_millis(100)) {
            Ok(ConsumerMessage::Delivery(delivery)) => {
                if let Some(seq) = crate::corpus::seq_of(&delivery.routing_key) {
                    arrived(seq);
                }
                consumer.ack(delivery)?;
                seen += 1;
            }
            Ok(other) => return Err(format!("bare consumer: {other:?}").into()),
            Err(_) => {}
        }
    }
    let _ = consumer.cancel();
    drop(consumer);
    let _ = channel.close();
    let _ = connection.close();
    Ok(())
}

/// Publishes message `i` (made by `message`) at `i / rate` seconds after
/// the start, persistent and without confirms, as a steady publisher
/// does; `before_send(i)` runs just before each goes. Returns how long it
/// took and how far behind schedule it fell at worst.
pub fn publish_paced(
    settings: &ConnectionSettings,
    count: u64,
    rate: u64,
    message: &dyn Fn(u64) -> Message,
    before_send: &dyn Fn(u64),
) -> Result<(Duration, Duration), BoxError> {
    let mut connection = connect(settings)?;
    let channel = connection.open_channel(None)?;
    let interval = Duration::from_nanos(1_000_000_000 / rate);
    let start = Instant::now();
    let mut worst_lag = Duration::ZERO;
    for i in 0..count {
        let due = start + interval * i as u32;
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        } else {
            worst_lag = worst_lag.max(now - due);
        }
        let outgoing = message(i);
        let mut properties = AmqpProperties::default().with_delivery_mode(2);
        if !outgoing.cc.is_empty() {
            // The `CC` header as the Taskcluster queue (and pulse-wire) sends it.
            let routes = outgoing
                .cc
                .iter()
                .cloned()
                .map(AmqpValue::LongString)
                .collect();
            let mut headers = FieldTable::new();
            headers.insert("CC".into(), AmqpValue::FieldArray(routes));
            properties = properties.with_headers(headers);
        }
        before_send(i);
        channel.basic_publish(
            outgoing.exchange.as_str(),
            Publish::with_properties(&outgoing.body, outgoing.routing_key, properties),
        )?;
    }
    let took = start.elapsed();
    let _ = channel.close();
    let _ = connection.close();
    Ok((took, worst_lag))
}

/// Watches how many messages wait in a queue, on a thread and connection
/// of its own, until stopped: the depth PulseGuardian looks at.
pub struct DepthWatch {
    stop: std::sync::Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Result<(u32, usize), String>>,
}

impl DepthWatch {
    /// Starts reading the depth of `queue` (`queue.declare` passive) every
    /// `every`.
    pub fn start(
        settings: &ConnectionSettings,
        queue: &str,
        every: Duration,
    ) -> Result<DepthWatch, BoxError> {
        let mut connection = connect(settings)?;
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let stopped = std::sync::Arc::clone(&stop);
        let queue = queue.to_owned();
        let thread = std::thread::spawn(move || {
            let result = (|| {
                let channel = connection.open_channel(None).map_err(|e| e.to_string())?;
                let (mut peak, mut samples) = (0u32, 0usize);
                while !stopped.load(Ordering::SeqCst) {
                    let depth = channel
                        .queue_declare_passive(queue.as_str())
                        .map_err(|e| format!("reading the depth of {queue}: {e}"))?
                        .declared_message_count()
                        .unwrap_or(0);
                    peak = peak.max(depth);
                    samples += 1;
                    std::thread::sleep(every);
                }
                let _ = channel.close();
                Ok((peak, samples))
            })();
            let _ = connection.close();
            result
        });
        Ok(DepthWatch { stop, thread })
    }

    /// Stops; returns the deepest the queue was and how many reads it took.
    pub fn stop(self) -> Result<(u32, usize), BoxError> {
        self.stop.store(true, Ordering::SeqCst);
        let result = self.thread.join().map_err(|_| "the depth watch panicked")?;
        Ok(result?)
    }
}
