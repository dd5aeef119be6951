//! The page and its API never show the broker's password, nor does the
//! command's stderr at `RUST_LOG=trace` (#24: no credential in a page, an
//! API answer or a log at any level).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::Running;
use pulse_test_support::{unique, Vhost};

/// One GET, the whole answer (headers and body) as text; `/events` is
/// read for a moment only, as it never ends.
fn get(address: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 65536];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buffer[..n]),
            // /events streams on: what came in two seconds is enough.
            Err(_) => break,
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn the_page_the_api_and_a_trace_log_never_show_the_password() {
    let Some(mut vhost) = Vhost::create("cli-page") else {
        return;
    };
    let password = "Pw-Page-4b1d7e-never-shown";
    let user = unique("cli-page-user");
    vhost.add_user(&user, password);
    let url = format!("amqp://{user}:{password}@127.0.0.1:5672/{}", vhost.name());
    let mut serve = Running::start_with_env(
        &[
            "serve",
            "--url",
            &url,
            "--declare-exchanges",
            "--no-details",
            "--listen",
            "127.0.0.1:0",
        ],
        &[("RUST_LOG", "trace")],
    );
    let line = serve.wait_for_stderr("serving the page of", Duration::from_secs(60));
    let address = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split(['/', ';', ' ']).next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    let mut shown = String::new();
    for path in [
        "/",
        "/app.js",
        "/api/pushes",
        "/api/builds",
        "/api/status",
        "/events",
    ] {
        let answer = get(&address, path);
        assert!(answer.starts_with("HTTP/1.1 200"), "{path}: {answer}");
        shown.push_str(&answer);
    }
    let stderr = serve.interrupt();
    let everything = format!("{shown}\n{}", stderr.join("\n"));
    assert!(stderr.len() > 20, "a trace log says a lot: {stderr:#?}");
    for secret in [password.to_string(), password.replace('-', "%2D")] {
        assert!(!everything.contains(&secret), "the password is shown");
    }
    assert!(
        everything.contains(&user),
        "the user name may be shown, and is"
    );
}
