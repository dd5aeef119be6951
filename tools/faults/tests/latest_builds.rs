//! The `latest_builds` example (`examples/latest_builds.rs`, served by
//! `pulse-page`) must bind 127.0.0.1 by default, and its API must answer
//! JSON only, errors included.
//!
//! The source check always runs; the live check runs the example binary
//! that `cargo test --workspace` builds (skipped loudly when it has not
//! been built, e.g. under `cargo test -p pulse-faults`).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::Duration;

use pulse_faults::{free_port, MonitorProcess};
use pulse_test_support::wait_for;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

#[test]
fn the_default_address_is_loopback() {
    let path = format!("{ROOT}/examples/latest_builds.rs");
    let Ok(source) = std::fs::read_to_string(&path) else {
        panic!("{path} is missing");
    };
    assert!(
        source.contains("\"127.0.0.1:8080\""),
        "the default address is not 127.0.0.1:8080"
    );
    assert!(!source.contains("0.0.0.0"), "binds every interface");
    assert!(!source.contains("[::]"), "binds every interface");
    assert!(
        !source.contains("allow_remote"),
        "serves other machines without being asked"
    );
}

fn get(port: u16, request: &str) -> (String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (head.to_string(), body.to_string())
}

#[test]
fn every_response_is_json() {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(ROOT).join("target"));
    let binary = target.join("debug/examples/latest_builds");
    let what = format!(
        "the latest_builds example at {} (cargo test --workspace builds it)",
        binary.display()
    );
    if pulse_test_support::require(binary.is_file(), &what).is_err() {
        return;
    }
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let replay = format!("{ROOT}/fixtures/replay");
    let mut server = MonitorProcess::spawn(
        &binary,
        &[&addr, "--replay", &replay],
        &[("RUST_LOG", "warn")],
    );
    assert!(
        server.wait_for_output("serving", Duration::from_secs(30)),
        "{}",
        server.stderr()
    );
    assert!(wait_for(Duration::from_secs(10), || {
        pulse_test_support::port_open(port)
    }));
    // The server answers while the replay still runs: a tree is known once
    // its first build has been handled, not when "serving" is printed.
    let tree =
        "GET /api/builds/mozilla-central HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    assert!(
        wait_for(Duration::from_secs(30), || get(port, tree)
            .0
            .starts_with("HTTP/1.1 200")),
        "mozilla-central never appeared: {:?}",
        get(port, tree)
    );
    // HTTP/1.1 requests: the server (tiny_http) answers in the request's
    // version, and `Connection: close` ends each exchange at the response.
    for (request, status) in [
        ("GET /api/builds HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", "200"),
        (
            "GET /api/builds/mozilla-central HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            "200",
        ),
        ("GET /api/no/such/path HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", "404"),
        (
            "POST /api/builds HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
            "405",
        ),
    ] {
        let (head, body) = get(port, request);
        assert!(
            head.starts_with(&format!("HTTP/1.1 {status}")),
            "{request:?}: {head}"
        );
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: application/json"),
            "{request:?}: {head}"
        );
        serde_json::from_str::<serde_json::Value>(&body)
            .unwrap_or_else(|e| panic!("{request:?}: not JSON ({e}): {body}"));
    }
    server.kill();
}
