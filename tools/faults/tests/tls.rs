//! TLS: a second RabbitMQ node with a TLS listener and a certificate from a
//! CA made for this run. The monitor connects when given the CA
//! (`ca_file`), refuses a certificate from another CA (a TLS error, not
//! recoverable), and never falls back to plain AMQP.

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::time::Duration;

use common::{snapshot, tallying_monitor};
use pulse_build_monitor::{ConnectionSettings, ErrorKind as MonitorErrorKind, Monitor};
use pulse_faults::{print_result, SecondNode, Stream, TestCa};
use pulse_test_support::wait_for;
use pulse_wire::{ErrorKind, Publisher};

fn tls_settings(port: u16, ca: Option<&TestCa>, name: &str) -> ConnectionSettings {
    let mut settings =
        ConnectionSettings::from_url(&format!("amqps://guest:guest@localhost:{port}/")).unwrap();
    settings.ca_file = ca.map(TestCa::ca_file);
    settings.connection_name = pulse_test_support::unique(name);
    settings.connect_timeout = Duration::from_secs(5);
    settings
}

/// Why a monitor refused to start: the wire error's kind, whether it is
/// recoverable, and its message.
fn start_error(settings: ConnectionSettings) -> (ErrorKind, bool, String) {
    let error = Monitor::builder()
        .broker(settings)
        .on_build(|_| {})
        .start()
        .err()
        .expect("the monitor must not start");
    match error.kind() {
        MonitorErrorKind::Wire(e) => (e.kind(), e.is_recoverable(), e.to_string()),
        other => panic!("not a wire error: {other:?}"),
    }
}

#[test]
fn tls_endpoint_with_the_right_ca_only() {
    let Some(ca) = TestCa::generate("pulse-faults") else {
        return;
    };
    let Some(other_ca) = TestCa::generate("another") else {
        return;
    };
    let Some(node) = SecondNode::start(Some(&ca)) else {
        return;
    };
    let port = node.tls_port.unwrap();

    // The right CA: messages flow, over a connection the broker sees as TLS.
    let settings = tls_settings(port, Some(&ca), "tls-monitor");
    let name = settings.connection_name.clone();
    let (builder, tally) = tallying_monitor(
        settings,
        &pulse_test_support::unique("tls"),
        500,
        50,
        Duration::from_secs(1),
        Duration::ZERO,
    );
    let monitor = builder.start().expect("monitor connects over TLS");
    let published = Stream::start(
        tls_settings(port, Some(&ca), "tls-publisher"),
        0..500,
        100,
        Duration::ZERO,
    )
    .join();
    let all = wait_for(Duration::from_secs(30), || snapshot(&tally).unique() == 500);
    let listing = node
        .ctl()
        .run_ok(&["list_connections", "-q", "ssl", "client_properties"]);
    let ours = listing
        .lines()
        .find(|line| line.contains(&format!("\"{name}\"")))
        .unwrap_or_else(|| panic!("no connection {name} in {listing}"));
    let report = monitor.stop_timeout(Duration::from_secs(5));
    print_result("tls", &snapshot(&tally), "transport=amqps ca_file=test-ca");
    assert_eq!(published, 500);
    assert!(all);
    assert!(ours.starts_with("true"), "not TLS: {ours}");
    assert!(report.is_complete());

    // Another CA, or only the system roots: a TLS error, not retried.
    for (what, ca) in [("another CA", Some(&other_ca)), ("system roots", None)] {
        let (kind, recoverable, message) = start_error(tls_settings(port, ca, "tls-refused"));
        println!("refused with {what}: {message}");
        assert_eq!(kind, ErrorKind::Tls, "{what}: {message}");
        assert!(!recoverable, "{what}");
    }

    // TLS asked for, plain AMQP port given: an error, not a clear-text session.
    let (kind, recoverable, message) =
        start_error(tls_settings(node.amqp_port, Some(&ca), "tls-at-plain"));
    println!("TLS at the plain port: {message}");
    assert_eq!(kind, ErrorKind::Tls, "{message}");
    assert!(!recoverable);
}

#[test]
fn tls_settings_never_send_plain_amqp() {
    // A listener that records what the client sends first.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let first_bytes = std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut buffer = [0u8; 8];
        let n = socket.read(&mut buffer).unwrap_or(0);
        buffer[..n].to_vec()
    });
    let mut settings =
        ConnectionSettings::from_url(&format!("amqps://guest:guest@127.0.0.1:{port}/")).unwrap();
    settings.connect_timeout = Duration::from_secs(5);
    let error = Publisher::connect(&settings).unwrap_err();
    let sent = first_bytes.join().unwrap();
    println!(
        "FAULT-RESULT fault=tls-no-fallback first_bytes={sent:02x?} error_kind={:?}",
        error.kind()
    );
    assert!(!sent.starts_with(b"AMQP"), "plain AMQP sent: {sent:?}");
    assert_eq!(
        sent.first(),
        Some(&0x16),
        "not a TLS handshake record: {sent:?}"
    );

    // And against a real plain-AMQP port (the shared broker), if there is one.
    if pulse_test_support::port_open(5672) {
        let mut settings =
            ConnectionSettings::from_url("amqps://guest:guest@127.0.0.1:5672/").unwrap();
        settings.connect_timeout = Duration::from_secs(5);
        let error = Publisher::connect(&settings).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Tls, "{error}");
        assert!(!error.is_recoverable());
    }
}
