//! The page's HTTP side without a browser: the JSON API against a
//! generated push (its counts are the generator's truth), the answers'
//! headers, and the event streams: a page that never reads blocks neither
//! the others nor whoever feeds the page, and a hundred and more pages are
//! served at once.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use pulse_build_monitor::{Filter, Monitor, PushSettings, Source};
use pulse_page::{ErrorKind, Page, PageOptions};
use pulse_push::{Counts, FailedTask, PushEvent, PushEventKind, PushState, PushSummary};
use pulse_synthetic::Push;
use pulse_test_support::wait_until;
use pulse_translator::{JobResult, Message};
use serde_json::Value;

const TIMEOUT: Duration = Duration::from_secs(30);

/// One request, the whole answer: (status line and headers, body).
fn get(address: SocketAddr, method: &str, path: &str) -> (String, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    (head.to_string(), body.to_string())
}

fn get_json(address: SocketAddr, path: &str) -> Value {
    let (head, body) = get(address, "GET", path);
    assert!(head.starts_with("HTTP/1.1 200"), "{path}: {head}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
}

/// A page fed by a monitor that read a generated push.
fn page_of(push: &Push) -> Page {
    let page = Page::new(PageOptions::default());
    let messages: Vec<Message> = push.messages().into_iter().map(|m| m.message).collect();
    let monitor = page
        .attach(
            Monitor::builder()
                .filter(Filter::builder().any_tree().build().unwrap())
                .push_tracking(PushSettings::default()),
        )
        .source(Source::Taskcluster { progress: false })
        .messages(messages)
        .start()
        .unwrap();
    let monitor = Arc::new(monitor);
    let follower = page.follow(Arc::clone(&monitor)).unwrap();
    monitor.join();
    drop(follower);
    // What the monitor has at the end, whatever the follower last copied.
    page.update_pushes(&monitor.pushes());
    page
}

#[test]
fn the_api_answers_the_generated_push_as_the_generator_counts_it() {
    let push = Push::builder().tree("autoland").tasks(700).seed(11).build();
    let truth = push.truth();
    let page = page_of(&push);
    let server = page.serve("127.0.0.1:0".parse().unwrap()).unwrap();
    let address = server.address();

    let pushes = get_json(address, "/api/pushes");
    assert_eq!(pushes.as_array().unwrap().len(), 1);
    let summary = &pushes[0];
    assert_eq!(summary["revision"], push.revision.as_str());
    assert_eq!(summary["author"], push.owner.as_str());
    assert_eq!(summary["state"], "finished");
    let counts = &summary["counts"];
    for (name, expected) in [
        ("tasks", truth.tasks),
        ("defined", truth.tasks),
        ("success", truth.success),
        ("testfailed", truth.testfailed),
        ("busted", truth.busted),
        ("exception", truth.exception),
        ("usercancel", truth.usercancel),
        ("reruns", truth.reruns),
        ("pending", 0),
        ("running", 0),
        ("unscheduled", 0),
    ] {
        assert_eq!(counts[name], expected, "{name}");
    }
    assert_eq!(
        summary["failed"].as_array().unwrap().len() as u32,
        truth.failed()
    );

    // One push: by its revision, by a 12-character prefix, by tree.
    let one = get_json(address, &format!("/api/pushes/autoland/{}", push.revision));
    assert_eq!(&one, summary);
    let short = get_json(
        address,
        &format!("/api/pushes/autoland/{}", &push.revision[..12]),
    );
    assert_eq!(&short, summary);
    assert_eq!(get_json(address, "/api/pushes/autoland"), pushes);
    assert_eq!(get_json(address, "/api/pushes/try"), Value::Array(vec![]));

    // Builds: tree → platform → build type → the record, with its result.
    let builds = get_json(address, "/api/builds");
    let linux64 = &builds["autoland"]["linux64"];
    let opt = linux64
        .get("opt")
        .or_else(|| linux64.get("debug"))
        .expect("a linux64 build");
    assert_eq!(opt["tree"], "autoland");
    assert_eq!(opt["revision"], push.revision.as_str());
    assert!(opt["task_id"].is_string() && opt["result"].is_string());
    assert_eq!(
        get_json(address, "/api/builds/autoland"),
        builds["autoland"]
    );

    let status = get_json(address, "/api/status");
    assert_eq!(status["pushes"], 1);
    assert_eq!(status["connected"], Value::Null);
}

#[test]
fn errors_are_json_and_quote_what_was_asked() {
    let page = Page::default();
    let server = page.serve("127.0.0.1:0".parse().unwrap()).unwrap();
    let address = server.address();
    for (method, path, status, message) in [
        (
            "GET",
            "/api/pushes/autoland/abc",
            "404",
            "no push \"abc\" on \"autoland\" is shown",
        ),
        (
            "GET",
            "/api/builds/try",
            "404",
            "no build of \"try\" is shown",
        ),
        ("GET", "/nowhere", "404", "nothing at \"/nowhere\""),
        ("POST", "/api/pushes", "405", "only GET and HEAD are served"),
    ] {
        let (head, body) = get(address, method, path);
        assert!(
            head.starts_with(&format!("HTTP/1.1 {status}")),
            "{path}: {head}"
        );
        assert!(head.contains("Content-Type: application/json"), "{head}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["error"], message);
    }
}

#[test]
fn answers_say_what_they_are_and_the_page_runs_only_its_own_script() {
    let page = Page::default();
    let server = page.serve("127.0.0.1:0".parse().unwrap()).unwrap();
    let address = server.address();
    let (head, body) = get(address, "GET", "/");
    assert!(
        head.contains("Content-Type: text/html; charset=utf-8"),
        "{head}"
    );
    assert!(
        head.contains("Content-Security-Policy: default-src 'none'; script-src 'self';"),
        "{head}"
    );
    assert!(body.contains("<script src=\"/app.js\" defer></script>"));
    for (path, kind) in [("/app.js", "text/javascript"), ("/style.css", "text/css")] {
        let (head, _) = get(address, "GET", path);
        assert!(head.contains(&format!("Content-Type: {kind}")), "{head}");
        assert!(head.contains("X-Content-Type-Options: nosniff"), "{head}");
    }
}

#[test]
fn only_loopback_addresses_unless_allowed() {
    let page = Page::default();
    let error = page.serve("0.0.0.0:0".parse().unwrap()).unwrap_err();
    assert!(matches!(error.kind(), ErrorKind::NotLoopback(_)));
    assert!(
        error.to_string().starts_with(
            "refusing to serve the page on \"0.0.0.0:0\": it is not a loopback address"
        ),
        "{error}"
    );
    let open = Page::new(PageOptions::default().with_allow_remote(true));
    let server = open.serve("0.0.0.0:0".parse().unwrap()).unwrap();
    assert!(server.address().ip().is_unspecified());
}

/// A push whose summary carries `failures` failed tasks, each with a long
/// label: big events, so a page that does not read fills its socket soon.
fn big_event(n: u32, failures: u32) -> PushEvent {
    let now = Utc::now();
    let failed = (0..failures)
        .map(|i| FailedTask {
            task_id: format!("task{i:018}"),
            run_id: 0,
            label: Some(format!(
                "test-linux1804-64/debug-mochitest-{i}-{}",
                "x".repeat(200)
            )),
            kind: "test".into(),
            result: JobResult::Testfailed,
            at: now,
            logurl: None,
            failures: Vec::new(),
            details_unavailable: None,
        })
        .collect();
    PushEvent {
        event: PushEventKind::FirstFailure,
        push: PushSummary {
            tree: "autoland".into(),
            revision: format!("{n:040x}"),
            push_id: Some(u64::from(n)),
            author: Some("someone@example.com".into()),
            pushed_at: Some(now),
            task_groups: vec![],
            state: PushState::Running,
            result: Some(JobResult::Testfailed),
            counts: Counts {
                tasks: failures,
                testfailed: failures,
                ..Counts::default()
            },
            failed,
            first_failure_at: Some(now),
            groups_resolved: 0,
            first_seen: now,
            last_activity: now,
        },
    }
}

/// Opens `/events` and returns the stream, its headers read.
fn open_events(address: SocketAddr) -> BufReader<TcpStream> {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream
        .write_all(b"GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.starts_with("HTTP/1.1 200"), "{line}");
    reader
}

/// Reads events until one whose data contains `needle`.
fn read_until(reader: &mut BufReader<TcpStream>, needle: &str) {
    let deadline = Instant::now() + TIMEOUT;
    let mut line = String::new();
    loop {
        assert!(Instant::now() < deadline, "{needle} never came");
        line.clear();
        let n = reader.read_line(&mut line).expect("the stream goes on");
        assert!(n > 0, "the stream ended before {needle}");
        if line.starts_with("data:") && line.contains(needle) {
            return;
        }
    }
}

#[test]
fn a_page_that_never_reads_blocks_neither_the_others_nor_the_feeder() {
    let page = Page::new(
        PageOptions::default()
            .with_queue_capacity(8)
            .with_stalled_after(Duration::from_secs(3600)),
    );
    let server = page.serve("127.0.0.1:0".parse().unwrap()).unwrap();
    let address = server.address();
    // Never read: its headers, snapshot and every event pile up.
    let mut stuck = TcpStream::connect(address).unwrap();
    stuck
        .write_all(b"GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut reader = open_events(address);
    wait_until(TIMEOUT, "two open pages", || page.stream_stats().open == 2);

    // 400 events of about 60 kB: 24 MB, far more than the socket buffers
    // of the page that does not read.
    let started = Instant::now();
    for n in 0..400 {
        page.push_event(&big_event(n, 250));
        if n % 20 == 0 {
            // The reading page keeps up (skipping what it missed, if
            // anything, by a snapshot).
            read_until(&mut reader, &format!("{n:040x}"));
        }
    }
    let feeding = started.elapsed();
    read_until(&mut reader, &format!("{:040x}", 399));
    assert!(
        feeding < Duration::from_secs(20),
        "feeding the page took {feeding:?}"
    );
    let stats = page.stream_stats();
    assert!(
        stats.skipped > 0,
        "the page that never reads never skipped: {stats:?}"
    );
    drop(stuck);
}

#[test]
fn a_hundred_and_twenty_pages_at_once_all_see_an_event() {
    let page = Page::default();
    let server = page.serve("127.0.0.1:0".parse().unwrap()).unwrap();
    let address = server.address();
    let mut readers: Vec<_> = (0..120).map(|_| open_events(address)).collect();
    wait_until(TIMEOUT, "120 open pages", || {
        page.stream_stats().open == 120
    });
    page.push_event(&big_event(7, 3));
    for reader in &mut readers {
        read_until(reader, &format!("{:040x}", 7));
    }
    // Another page is still served while they are open.
    assert!(get(address, "GET", "/api/status")
        .0
        .starts_with("HTTP/1.1 200"));
}

#[test]
fn a_page_whose_queue_stays_full_is_dropped() {
    let page = Page::new(
        PageOptions::default()
            .with_queue_capacity(1)
            .with_stalled_after(Duration::ZERO),
    );
    let server = page.serve("127.0.0.1:0".parse().unwrap()).unwrap();
    let mut stuck = TcpStream::connect(server.address()).unwrap();
    stuck
        .write_all(b"GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    wait_until(TIMEOUT, "an open page", || page.stream_stats().open == 1);
    let mut n = 0;
    wait_until(TIMEOUT, "the page dropped", || {
        n += 1;
        page.push_event(&big_event(n, 250));
        page.stream_stats().dropped == 1
    });
    assert_eq!(page.stream_stats().open, 0);
}

#[test]
fn a_reconnected_monitor_sends_every_page_a_fresh_snapshot() {
    let page = Page::default();
    page.set_connected(Some(true));
    let server = page.serve("127.0.0.1:0".parse().unwrap()).unwrap();
    let mut reader = open_events(server.address());
    read_until(&mut reader, "\"connected\":true");
    page.set_connected(Some(false));
    read_until(&mut reader, "{\"connected\":false");
    page.push_event(&big_event(3, 1));
    page.set_connected(Some(true));
    // The status, then everything the page shows.
    read_until(&mut reader, "{\"connected\":true");
    read_until(
        &mut reader,
        &format!(
            "\"pushes\":[{{\"tree\":\"autoland\",\"revision\":\"{:040x}\"",
            3
        ),
    );
}

#[test]
fn each_tree_shows_its_newest_pushes_only() {
    let page = Page::new(PageOptions::default().with_pushes_per_tree(2));
    let server = page.serve("127.0.0.1:0".parse().unwrap()).unwrap();
    for n in 1..=3 {
        let mut event = big_event(n, 1);
        event.push.pushed_at = Some(Utc::now() + chrono::Duration::minutes(i64::from(n)));
        page.push_event(&event);
    }
    // An older summary of a push shown changes nothing.
    let mut stale = big_event(3, 1);
    stale.push.last_activity -= chrono::Duration::hours(1);
    stale.push.author = Some("stale@example.com".into());
    page.push_event(&stale);
    let pushes = get_json(server.address(), "/api/pushes");
    let revisions: Vec<&str> = pushes
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["revision"].as_str().unwrap())
        .collect();
    assert_eq!(revisions, [format!("{:040x}", 3), format!("{:040x}", 2)]);
    assert_eq!(pushes[0]["author"], "someone@example.com");
}
