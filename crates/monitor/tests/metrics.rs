//! `/metrics`: scraped over HTTP while the monitor runs, parsed with a
//! Prometheus text parser, and compared with `Monitor::stats()`.

mod common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use common::{publish_all, publisher, wait_until};
use prometheus_parse::{Sample, Scrape, Value};
use pulse_build_monitor::{replay, Filter, Message, Monitor, Stats};
use pulse_test_support::Vhost;

/// One HTTP/1.0 request; the status line and the body.
fn get(address: SocketAddr, request: &str) -> (String, String, String) {
    let mut stream = TcpStream::connect(address).expect("the metrics endpoint answers");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("headers end");
    let status = head.lines().next().unwrap_or_default().to_string();
    (status, head.to_string(), body.to_string())
}

/// GET /metrics, parsed.
fn scrape(address: SocketAddr) -> (String, Vec<Sample>) {
    let (status, head, body) = get(address, "GET /metrics HTTP/1.0\r\n\r\n");
    assert!(status.contains(" 200 "), "{status}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/plain; version=0.0.4"),
        "{head}"
    );
    let scrape = Scrape::parse(body.lines().map(|line| Ok(line.to_string()))).unwrap();
    (body, scrape.samples)
}

/// The value of the sample `name` whose labels include `labels`.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match &s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            other => panic!("{name} is not a number: {other:?}"),
        })
}

fn counter(samples: &[Sample], name: &str) -> u64 {
    let v = value(samples, &format!("pulse_monitor_{name}_total"), &[])
        .unwrap_or_else(|| panic!("no pulse_monitor_{name}_total"));
    assert!(v >= 0.0 && v.fract() == 0.0, "{name} = {v}");
    v as u64
}

/// Every counter the endpoint serves, against the same `Stats` fields.
fn assert_agrees(samples: &[Sample], stats: &Stats) {
    let pairs = [
        ("messages_received", stats.received),
        ("records_translated", stats.translated),
        ("records_matched", stats.matched),
        ("translation_errors", stats.translation_errors),
        ("callback_panics", stats.callback_panics),
        ("messages_acknowledged", stats.acknowledged),
        ("duplicates", stats.duplicates),
        ("dropped_requeued", stats.dropped_requeued),
        ("reconnects", stats.reconnects),
        ("queue_deleted", stats.queue_deleted),
        ("stalls", stats.stalls),
    ];
    for (name, expected) in pairs {
        assert_eq!(counter(samples, name), expected, "{name}: {stats:?}");
    }
    let connected = value(samples, "pulse_monitor_connected", &[]);
    assert_eq!(connected, stats.connected.map(|c| f64::from(u8::from(c))));
    let depth = value(samples, "pulse_monitor_queue_depth", &[]);
    assert_eq!(depth, stats.queue_depth.map(f64::from));
    // Records by kind add up to the translated and matched counts.
    let by_kind = |matched: &str| -> f64 {
        samples
            .iter()
            .filter(|s| s.metric == "pulse_monitor_records_total")
            .filter(|s| s.labels.get("matched") == Some(matched))
            .map(|s| match s.value {
                Value::Counter(v) => v,
                ref other => panic!("{other:?}"),
            })
            .sum()
    };
    assert_eq!(by_kind("true"), stats.matched as f64);
    assert_eq!(by_kind("true") + by_kind("false"), stats.translated as f64);
}

fn fixtures() -> Vec<Message> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/replay");
    replay::load_paths(&[dir]).unwrap()
}

#[test]
fn replay_metrics_agree_with_stats_and_only_metrics_is_served() {
    let messages = fixtures();
    let monitor = Monitor::builder()
        .on_build(|_| std::thread::sleep(Duration::from_millis(2)))
        .on_test(|_| panic!("a test callback that panics"))
        .metrics(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .messages(messages.clone())
        .start()
        .unwrap();
    let address = monitor.metrics_address().expect("metrics asked for");
    assert!(address.ip().is_loopback(), "{address}");
    let report = monitor.join();
    let stats = report.stats;
    assert_eq!(stats.received, messages.len() as u64);
    assert!(stats.callback_panics > 0 && stats.matched > stats.callback_panics);

    // Still served after the end, until the monitor is dropped.
    let (body, samples) = scrape(address);
    assert_agrees(&samples, &stats);
    assert!(!body.contains("pulse_monitor_connected"), "no broker here");
    assert_eq!(
        value(
            &samples,
            "pulse_monitor_records_total",
            &[("kind", "test"), ("matched", "true")]
        ),
        Some(stats.callback_panics as f64),
        "{body}"
    );
    // Each callback call is timed, panicking or not.
    let timed = value(
        &samples,
        "pulse_monitor_callback_duration_seconds_count",
        &[],
    );
    assert_eq!(timed, Some(stats.dispatched as f64), "{body}");
    assert!(body.contains("pulse_monitor_callback_duration_seconds_bucket{le=\"0.001\"}"));
    let silence = value(&samples, "pulse_monitor_seconds_since_last_delivery", &[]).unwrap();
    assert!(silence >= 0.0);

    let (status, _, _) = get(address, "GET / HTTP/1.0\r\n\r\n");
    assert!(status.contains(" 404 "), "{status}");
    let (status, _, _) = get(
        address,
        "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n",
    );
    assert!(status.contains(" 405 "), "{status}");

    drop(monitor);
    wait_until(
        "the endpoint to close after the monitor was dropped",
        || TcpStream::connect_timeout(&address, Duration::from_secs(2)).is_err(),
    );
}

#[test]
fn a_taken_port_is_an_error_naming_it() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap();
    let err = Monitor::builder()
        .on_build(|_| {})
        .metrics(address)
        .messages(Vec::new())
        .start()
        .err()
        .expect("the port is taken");
    assert!(
        matches!(err.kind(), pulse_build_monitor::ErrorKind::Metrics { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains(&address.to_string()), "{err}");
}

#[test]
fn broker_metrics_scraped_mid_run_agree_with_stats() {
    // A vhost of the test's own, so nothing else arrives and the counters
    // hold still between the scrape and `stats()`.
    let Some(vhost) = Vhost::create("metrics") else {
        return;
    };
    let settings = vhost.settings("pulse-build-monitor-test");
    let messages: Vec<Message> = fixtures()
        .into_iter()
        .filter(|m| m.exchange == pulse_build_monitor::exchanges::BUILD)
        .collect();
    let mut publisher = publisher(&settings);
    let monitor = Monitor::builder()
        .broker(settings.clone())
        .declare_exchanges(true)
        .filter(
            Filter::builder()
                .trees(["mozilla-central"])
                .build()
                .unwrap(),
        )
        .on_build(|_| std::thread::sleep(Duration::from_millis(5)))
        .on_test(|_| std::thread::sleep(Duration::from_millis(5)))
        .metrics(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .start()
        .unwrap();
    let address = monitor.metrics_address().unwrap();
    wait_until("connected and a depth check", || {
        let stats = monitor.stats();
        stats.connected == Some(true) && stats.queue_depth.is_some()
    });
    let rounds = 20;
    for _ in 0..rounds {
        publish_all(&mut publisher, &messages);
    }
    let total = (messages.len() * rounds) as u64;

    // Mid-stream: it answers, and nothing it says exceeds what comes later.
    let (_, early) = scrape(address);
    wait_until("every message acknowledged", || {
        monitor.stats().acknowledged == total
    });
    let (body, samples) = scrape(address);
    let stats = monitor.stats();
    println!("{body}");
    assert!(counter(&early, "messages_received") <= stats.received);
    assert_eq!(stats.received, total);
    assert_agrees(&samples, &stats);
    assert_eq!(value(&samples, "pulse_monitor_connected", &[]), Some(1.0));
    let kinds: HashMap<&str, f64> = samples
        .iter()
        .filter(|s| s.metric == "pulse_monitor_records_total")
        .filter_map(|s| match s.value {
            Value::Counter(v) => Some((s.labels.get("kind")?, v)),
            _ => None,
        })
        .fold(HashMap::new(), |mut sum, (kind, v)| {
            *sum.entry(kind).or_default() += v;
            sum
        });
    assert!(
        kinds.contains_key("build") && kinds.contains_key("test"),
        "{kinds:?}"
    );
    let silence = value(&samples, "pulse_monitor_seconds_since_last_delivery", &[]).unwrap();
    assert!(
        silence <= stats.since_last_delivery.as_secs_f64(),
        "{silence}"
    );

    let report = monitor.stop();
    assert!(report.is_complete(), "{report:?}");
    // A last scrape after stop() still answers, with the end's counters.
    let (_, last) = scrape(address);
    assert_eq!(value(&last, "pulse_monitor_connected", &[]), Some(0.0));
    assert_eq!(counter(&last, "messages_acknowledged"), total);
}
