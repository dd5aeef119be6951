//! Prometheus metrics: [`MonitorBuilder::metrics`](crate::MonitorBuilder::metrics)
//! serves the monitor's counters at `http://ADDR/metrics` in the Prometheus
//! text format (version 0.0.4).
//!
//! The counters and gauges are read from the same snapshot as
//! [`Monitor::stats`](crate::Monitor::stats) at each scrape, so the two
//! always agree; the callback-duration histogram and the per-kind record
//! counts are kept here. Exposition by `prometheus-client` (the Prometheus
//! project's Rust client), serving by `tiny_http` on one thread of its own.
//!
//! | metric | type | meaning |
//! |---|---|---|
//! | `pulse_monitor_messages_received_total` | counter | [`Stats::received`] |
//! | `pulse_monitor_records_translated_total` | counter | [`Stats::translated`] |
//! | `pulse_monitor_records_matched_total` | counter | [`Stats::matched`] |
//! | `pulse_monitor_translation_errors_total` | counter | [`Stats::translation_errors`] |
//! | `pulse_monitor_callback_panics_total` | counter | [`Stats::callback_panics`] |
//! | `pulse_monitor_messages_acknowledged_total` | counter | [`Stats::acknowledged`] |
//! | `pulse_monitor_duplicates_total` | counter | [`Stats::duplicates`] |
//! | `pulse_monitor_dropped_requeued_total` | counter | [`Stats::dropped_requeued`] |
//! | `pulse_monitor_reconnects_total` | counter | [`Stats::reconnects`] |
//! | `pulse_monitor_queue_deleted_total` | counter | [`Stats::queue_deleted`] |
//! | `pulse_monitor_stalls_total` | counter | [`Stats::stalls`] |
//! | `pulse_monitor_connected` | gauge | [`Stats::connected`]: 1 or 0 (absent for the in-process source) |
//! | `pulse_monitor_queue_depth` | gauge | [`Stats::queue_depth`] (absent until the first depth check) |
//! | `pulse_monitor_seconds_since_last_delivery` | gauge | [`Stats::since_last_delivery`]; since the start while nothing arrived |
//! | `pulse_monitor_callback_duration_seconds` | histogram | how long each callback call ran (panicking ones included) |
//! | `pulse_monitor_records_total{kind, matched}` | counter | translated records by [`Record::kind`](crate::Record::kind), `matched` `true` or `false`; past 100 kinds the rest count as kind `other` |

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Instant;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::stats::Stats;
use crate::{Error, ErrorKind};

/// Distinct record kinds counted by name; later ones count as `other`, so
/// a stream of odd kinds cannot grow the scrape without bound.
const MAX_KINDS: usize = 100;

type RecordLabels = Vec<(String, String)>;

/// What the pump and the callbacks record beyond [`Stats`].
#[derive(Debug)]
pub(crate) struct Metrics {
    callback_duration: Histogram,
    records: Family<RecordLabels, Counter>,
    kinds: Mutex<HashSet<String>>,
}

impl Metrics {
    pub(crate) fn new() -> Metrics {
        Metrics {
            // 1 ms to ~65 s, ×4 each bucket.
            callback_duration: Histogram::new(exponential_buckets(0.001, 4.0, 9)),
            records: Family::default(),
            kinds: Mutex::default(),
        }
    }

    /// Counts one translated record of `kind`.
    pub(crate) fn record(&self, kind: &str, matched: bool) {
        let kind = {
            let mut kinds = self.kinds.lock().unwrap_or_else(PoisonError::into_inner);
            if kinds.contains(kind) {
                kind.to_string()
            } else if kinds.len() < MAX_KINDS {
                kinds.insert(kind.to_string());
                kind.to_string()
            } else {
                "other".to_string()
            }
        };
        let labels = vec![
            ("kind".to_string(), kind),
            ("matched".to_string(), matched.to_string()),
        ];
        self.records.get_or_create(&labels).inc();
    }

    /// Times a callback call: observed when the guard drops, so a
    /// panicking call is counted too.
    pub(crate) fn time_callback(self: &Arc<Self>) -> CallbackTimer {
        CallbackTimer {
            metrics: Arc::clone(self),
            started: Instant::now(),
        }
    }
}

pub(crate) struct CallbackTimer {
    metrics: Arc<Metrics>,
    started: Instant,
}

impl Drop for CallbackTimer {
    fn drop(&mut self) {
        self.metrics
            .callback_duration
            .observe(self.started.elapsed().as_secs_f64());
    }
}

type StatsSource = Arc<dyn Fn() -> Stats + Send + Sync>;

/// Encodes a fresh [`Stats`] snapshot at each scrape.
struct StatsCollector {
    stats: StatsSource,
}

impl std::fmt::Debug for StatsCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatsCollector").finish_non_exhaustive()
    }
}

impl Collector for StatsCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let stats = (self.stats)();
        let counters: [(&str, &str, u64); 11] = [
            (
                "messages_received",
                "Messages received from the broker (redeliveries included)",
                stats.received,
            ),
            (
                "records_translated",
                "Records the translator produced",
                stats.translated,
            ),
            (
                "records_matched",
                "Records that passed the filter",
                stats.matched,
            ),
            (
                "translation_errors",
                "Messages the translator rejected",
                stats.translation_errors,
            ),
            (
                "callback_panics",
                "Callback calls that panicked",
                stats.callback_panics,
            ),
            (
                "messages_acknowledged",
                "Acknowledgements sent",
                stats.acknowledged,
            ),
            (
                "duplicates",
                "Redeliveries of handled messages, acknowledged without calling the callbacks",
                stats.duplicates,
            ),
            (
                "dropped_requeued",
                "Messages whose callbacks never started because their connection was lost first",
                stats.dropped_requeued,
            ),
            (
                "reconnects",
                "Times the broker connection was re-established",
                stats.reconnects,
            ),
            (
                "queue_deleted",
                "Times the queue was found deleted on the broker and declared again",
                stats.queue_deleted,
            ),
            (
                "stalls",
                "Times the stall watchdog found the consumer silent and reconnected",
                stats.stalls,
            ),
        ];
        for (name, help, value) in counters {
            let counter = ConstCounter::new(value);
            counter.encode(encoder.encode_descriptor(
                &format!("pulse_monitor_{name}"),
                help,
                None,
                counter.metric_type(),
            )?)?;
        }
        if let Some(connected) = stats.connected {
            gauge(
                &mut encoder,
                "connected",
                "Whether the broker connection is up (1) or not (0)",
                i64::from(connected),
            )?;
        }
        if let Some(depth) = stats.queue_depth {
            gauge(
                &mut encoder,
                "queue_depth",
                "Messages waiting in the queue at the last depth check",
                i64::from(depth),
            )?;
        }
        let silence = ConstGauge::new(stats.since_last_delivery.as_secs_f64());
        silence.encode(encoder.encode_descriptor(
            "pulse_monitor_seconds_since_last_delivery",
            "Seconds since the last message arrived (since the start while none has)",
            None,
            silence.metric_type(),
        )?)
    }
}

fn gauge(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    value: i64,
) -> Result<(), std::fmt::Error> {
    let gauge = ConstGauge::new(value);
    gauge.encode(encoder.encode_descriptor(
        &format!("pulse_monitor_{name}"),
        help,
        None,
        gauge.metric_type(),
    )?)
}

/// The `/metrics` endpoint: one thread answering scrapes until dropped.
pub(crate) struct MetricsServer {
    server: Arc<tiny_http::Server>,
    address: SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl MetricsServer {
    /// Binds `address` and starts answering.
    pub(crate) fn start(
        address: SocketAddr,
        metrics: Arc<Metrics>,
        stats: StatsSource,
    ) -> Result<MetricsServer, Error> {
        let bind_error = |reason: String| {
            Error::new(ErrorKind::Metrics {
                address: address.to_string(),
                reason,
            })
        };
        let server = tiny_http::Server::http(address).map_err(|e| bind_error(e.to_string()))?;
        let bound = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| bind_error("not an IP address".to_string()))?;
        let mut registry = Registry::default();
        registry.register_collector(Box::new(StatsCollector { stats }));
        registry.register(
            "pulse_monitor_callback_duration_seconds",
            "How long each callback call ran, panicking ones included",
            metrics.callback_duration.clone(),
        );
        registry.register(
            "pulse_monitor_records",
            "Translated records by kind, and whether they passed the filter",
            metrics.records.clone(),
        );
        let server = Arc::new(server);
        let serving = Arc::clone(&server);
        let thread = std::thread::Builder::new()
            .name("pulse-metrics".to_string())
            .spawn(move || serve(&serving, &registry))
            .map_err(|e| Error::new(ErrorKind::Spawn(e)))?;
        log::info!("serving metrics on http://{bound}/metrics");
        Ok(MetricsServer {
            server,
            address: bound,
            thread: Some(thread),
        })
    }

    /// Where it listens (the real port when asked for port 0).
    pub(crate) fn address(&self) -> SocketAddr {
        self.address
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(server: &tiny_http::Server, registry: &Registry) {
    use tiny_http::{Header, Method, Response};
    let header =
        |value: &str| Header::from_bytes("Content-Type", value).expect("a valid static header");
    for request in server.incoming_requests() {
        let path = request.url().split('?').next().unwrap_or_default();
        let response = match (request.method(), path) {
            (Method::Get | Method::Head, "/metrics") => {
                let mut body = String::new();
                match prometheus_client::encoding::prometheus_text::encode(&mut body, registry) {
                    Ok(()) => Response::from_string(body).with_header(header(
                        prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
                    )),
                    Err(e) => {
                        log::error!("encoding metrics: {e}");
                        Response::from_string("cannot encode metrics\n").with_status_code(500)
                    }
                }
            }
            (_, "/metrics") => Response::from_string("only GET\n")
                .with_status_code(405)
                .with_header(header("text/plain; charset=utf-8")),
            _ => Response::from_string("not found: metrics are at /metrics\n")
                .with_status_code(404)
                .with_header(header("text/plain; charset=utf-8")),
        };
        if let Err(e) = request.respond(response) {
            log::debug!("answering a metrics scrape: {e}");
        }
    }
}
