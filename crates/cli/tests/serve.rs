//! `pulse-monitor serve`, offline: a generated push served with no broker
//! and no network, its API's counts the generator's truth; a recording
//! replayed the same way; and the refusals (an address other machines
//! can reach without `--allow-remote`).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{run, Running};
use pulse_synthetic::Push;
use pulse_test_support::wait_until;
use serde_json::Value;

const TIMEOUT: Duration = Duration::from_secs(60);

fn get_json(url: &str, path: &str) -> Option<Value> {
    let address = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(address).ok()?;
    stream.set_read_timeout(Some(TIMEOUT)).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let (head, body) = answer.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 200")
        .then(|| serde_json::from_str(body).ok())
        .flatten()
}

/// Starts `serve` with `args` and returns it with its page's URL.
fn serve(args: &[&str]) -> (Running, String) {
    let mut all = vec!["serve", "--listen", "127.0.0.1:0"];
    all.extend(args);
    let mut running = Running::start(&all);
    running.wait_for_stderr("serving the page of", TIMEOUT);
    let line = running.stderr_seen.last().unwrap().clone();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line}"))
        .trim_end_matches(';')
        .to_string();
    (running, url)
}

#[test]
fn serve_synthetic_push_shows_the_generators_truth_offline() {
    let push = Push::builder().tree("autoland").tasks(400).seed(3).build();
    let truth = push.truth();
    let (running, url) = serve(&["--synthetic-push", "400", "--seed", "3"]);
    let path = format!("/api/pushes/autoland/{}", push.revision);
    let mut summary = Value::Null;
    wait_until(TIMEOUT, "the push, finished, on the page", || {
        summary = get_json(&url, &path).unwrap_or(Value::Null);
        summary["state"] == "finished"
    });
    let counts = &summary["counts"];
    for (name, expected) in [
        ("tasks", truth.tasks),
        ("success", truth.success),
        ("testfailed", truth.testfailed),
        ("busted", truth.busted),
        ("exception", truth.exception),
        ("usercancel", truth.usercancel),
        ("reruns", truth.reruns),
    ] {
        assert_eq!(counts[name], expected, "{name}: {summary}");
    }
    let builds = get_json(&url, "/api/builds").unwrap();
    assert!(builds["autoland"]
        .as_object()
        .is_some_and(|p| !p.is_empty()));
    // The page itself.
    let address = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut page = String::new();
    stream.read_to_string(&mut page).unwrap();
    assert!(
        page.contains("<title>pulse build monitor</title>"),
        "{page}"
    );
    let stderr = running.interrupt();
    assert!(
        stderr
            .iter()
            .any(|l| l.starts_with("pulse-monitor: stopped:")),
        "{stderr:#?}"
    );
}

#[test]
fn serve_synthetic_push_shows_build_urls_and_failure_lines_from_a_local_queue() {
    use pulse_synthetic::{JobKind, Outcome};
    let push = Push::builder().tree("autoland").tasks(400).seed(3).build();
    let (running, url) = serve(&["--synthetic-push", "400", "--seed", "3"]);
    let root = running
        .stderr_seen
        .iter()
        .find_map(|l| l.split(" come from a local queue at ").nth(1))
        .unwrap_or_else(|| panic!("no local queue named: {:#?}", running.stderr_seen))
        .to_string();
    assert!(root.starts_with("http://127.0.0.1:"), "{root}");

    // The truth, from the generator: each failed test's failure lines.
    let failed_tests: Vec<_> = push
        .tasks
        .iter()
        .filter(|t| {
            t.job_kind == JobKind::Test && t.kind != "source-test" && t.outcome() == Outcome::Failed
        })
        .collect();
    assert!(!failed_tests.is_empty());
    let path = format!("/api/pushes/autoland/{}", push.revision);
    let mut summary = Value::Null;
    wait_until(TIMEOUT, "the push, finished, on the page", || {
        summary = get_json(&url, &path).unwrap_or(Value::Null);
        summary["state"] == "finished"
    });
    let failed = summary["failed"].as_array().expect("failed tasks");
    for task in &failed_tests {
        let shown = failed
            .iter()
            .find(|f| f["task_id"] == task.task_id.as_str())
            .unwrap_or_else(|| panic!("{} not among the failed: {summary}", task.label));
        let lines: Vec<(String, String)> = shown["failures"]
            .as_array()
            .unwrap_or_else(|| panic!("no failure lines for {}: {shown}", task.label))
            .iter()
            .map(|l| (l["test"].to_string(), l["status"].to_string()))
            .collect();
        let expected: Vec<(String, String)> = push
            .failures(task)
            .into_iter()
            .take(5)
            .map(|f| {
                (
                    Value::from(f.test).to_string(),
                    Value::from(f.status).to_string(),
                )
            })
            .collect();
        assert_eq!(lines, expected, "{}", task.label);
    }

    // Each latest build that is a build task has its installer's URL on
    // the local queue; the generator names the package by platform.
    let builds = get_json(&url, "/api/builds").unwrap();
    let mut checked = 0;
    for (platform, types) in builds["autoland"].as_object().expect("autoland builds") {
        for (build_type, build) in types.as_object().unwrap() {
            let task_id = build["task_id"].as_str().unwrap();
            let task = push.tasks.iter().find(|t| t.task_id == task_id).unwrap();
            if task.kind != "build" {
                continue;
            }
            let package = match task.platform.as_deref().unwrap_or_default() {
                p if p.starts_with("android") => "target.apk",
                p if p.starts_with("macosx") => "target.dmg",
                p if p.starts_with("win") => "target.zip",
                _ => "target.tar.xz",
            };
            let run = task.runs.len() - 1;
            assert_eq!(
                build["buildurl"],
                format!("{root}/api/queue/v1/task/{task_id}/runs/{run}/artifacts/public/build/{package}"),
                "{platform} {build_type}: {build}"
            );
            checked += 1;
        }
    }
    assert!(
        checked > 0,
        "no build task among the latest builds: {builds}"
    );
    running.interrupt();
}

#[test]
fn serve_stops_on_sigterm_even_when_nobody_reads_its_stderr() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut child = Command::new(common::BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--synthetic-push", "10"])
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read until the page is up, then close the pipe, as a log reader
    // that went away does.
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    assert!(
        stderr.any(|l| l.is_ok_and(|l| l.contains("serving the page of"))),
        "serve never served"
    );
    drop(stderr);
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let mut exit = None;
    let stopped = pulse_test_support::wait_for(TIMEOUT, || {
        exit = child.try_wait().unwrap();
        exit.is_some()
    });
    if !stopped {
        let _ = child.kill();
        panic!("serve still running {TIMEOUT:?} after SIGTERM");
    }
    assert!(exit.unwrap().success(), "{exit:?}");
}

#[test]
fn serve_replay_shows_a_recording_offline() {
    let push = Push::builder()
        .tree("mozilla-central")
        .tasks(200)
        .seed(9)
        .build();
    let dir = pulse_test_support::TempDir::new("serve-replay");
    let file = dir.join("push.jsonl");
    let lines: Vec<String> = push
        .messages()
        .iter()
        .map(|m| serde_json::to_string(&m.message).unwrap())
        .collect();
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let (running, url) = serve(&["--replay", file.to_str().unwrap()]);
    wait_until(TIMEOUT, "the recorded push, finished", || {
        get_json(&url, "/api/pushes/mozilla-central").is_some_and(|pushes| {
            pushes[0]["revision"] == push.revision.as_str()
                && pushes[0]["state"] == "finished"
                && pushes[0]["counts"]["tasks"] == push.truth().tasks
        })
    });
    running.interrupt();
}

#[test]
fn serve_refuses_an_address_other_machines_reach_unless_allowed() {
    let output = run(&["serve", "--synthetic-push", "10", "--listen", "0.0.0.0:0"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: --listen: refusing to serve the page on \"0.0.0.0:0\""),
        "{stderr}"
    );
    assert!(stderr.contains("--allow-remote"), "{stderr}");
}

#[test]
fn serve_takes_a_free_port_when_8080_is_taken() {
    // Held by us, or by someone else: taken either way.
    let _held = std::net::TcpListener::bind("127.0.0.1:8080");
    let mut running = Running::start(&["serve", "--synthetic-push", "10"]);
    running.wait_for_stderr("serving the page of", TIMEOUT);
    let line = running.stderr_seen.last().unwrap().clone();
    assert!(line.contains(" at http://127.0.0.1:"), "{line}");
    assert!(!line.contains("127.0.0.1:8080"), "{line}");
    running.interrupt();
}
