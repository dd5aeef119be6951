//! The `pulse-monitor` binary, run as a user would: replay, translate and
//! buildername over the demo fixtures, usage and connection errors, and
//! watch, record and publish against the local RabbitMQ.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use pulse_build_monitor::{BuildRecord, TestRecord};

mod common;
use common::{broker_available, lines, run, run_with_stdin, unique, Running, BIN, BROKER_URL};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/replay")
}

fn fixture(name: &str) -> PathBuf {
    fixtures().join(name)
}

const HEADER: &str = "TIME (UTC)        KIND                TREE              PLATFORM    TYPE   TEST/TAGS/LABEL                           RESULT      REVISION";

#[test]
fn replay_prints_the_mozilla_central_rows_in_file_order() {
    let out = run(&["replay", fixtures().to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let rows = lines(&out.stdout);
    assert_eq!(rows.len(), 8, "header and 7 rows: {rows:#?}");
    assert_eq!(rows[0], HEADER);
    assert_eq!(
        rows[1],
        "2015-08-13 03:02  build               mozilla-central   linux64     opt    -                                         success     5f2e7b1c9a0d"
    );
    assert_eq!(
        rows[3],
        "2015-08-13 03:02  build               mozilla-central   macosx64    opt    nightly                                   success     5f2e7b1c9a0d"
    );
    assert_eq!(
        rows[5],
        "2015-08-13 03:02  test                mozilla-central   win32       opt    reftest                                   busted      5f2e7b1c9a0d"
    );
    assert_eq!(
        rows[7],
        "2021-03-01 12:31  test                mozilla-central   win64       opt    xpcshell-1                                success     7c1d0e9f8a7b"
    );
    let stderr = lines(&out.stderr);
    assert_eq!(
        stderr.last().map(String::as_str),
        Some("replay: received 12, translated 11, matched 7, errors 1"),
        "{stderr:#?}"
    );
    assert!(
        stderr.iter().any(|l| l.starts_with(
            "warning: cannot translate \"build.mozilla-central-linux64-pgo.77.log_uploaded\""
        )),
        "{stderr:#?}"
    );
}

#[test]
fn replay_with_every_tree_and_talos_adds_inbound_autoland_and_talos() {
    let out = run(&[
        "replay",
        "--any-tree",
        "--talos",
        fixtures().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{out:?}");
    let rows = lines(&out.stdout);
    assert_eq!(rows.len(), 12, "{rows:#?}");
    assert!(rows.contains(&"2015-08-13 03:02  talos               mozilla-central   macosx64    opt    tp5o                                      success     5f2e7b1c9a0d".to_string()), "{rows:#?}");
    assert!(rows.contains(&"2021-03-01 12:20  test                autoland          linux64     debug  mochitest-browser-chrome-e10s-3           testfailed  0a9b8c7d6e5f".to_string()), "{rows:#?}");
    assert!(rows.contains(&"2015-08-13 04:15  test                mozilla-inbound   win32       debug  xpcshell                                  testfailed  e3a4b5c6d7e8".to_string()), "{rows:#?}");
}

/// A record printed by `--json`.
#[derive(Debug)]
enum Printed {
    Build(Box<BuildRecord>),
    Test(Box<TestRecord>),
}

impl Printed {
    fn job(&self) -> &pulse_build_monitor::JobInfo {
        match self {
            Printed::Build(b) => &b.job,
            Printed::Test(t) => &t.job,
        }
    }

    fn key(&self) -> String {
        self.job().key.clone()
    }
}

/// A record line: a test when it names its test.
fn parse_record(line: &str) -> Printed {
    let value: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
    if value.get("test").is_some() {
        Printed::Test(serde_json::from_value(value).expect("a test record"))
    } else {
        Printed::Build(serde_json::from_value(value).expect("a build record"))
    }
}

fn builds(records: &[Printed]) -> Vec<&BuildRecord> {
    records
        .iter()
        .filter_map(|r| match r {
            Printed::Build(b) => Some(&**b),
            Printed::Test(_) => None,
        })
        .collect()
}

fn tests(records: &[Printed]) -> Vec<&TestRecord> {
    records
        .iter()
        .filter_map(|r| match r {
            Printed::Test(t) => Some(&**t),
            Printed::Build(_) => None,
        })
        .collect()
}

#[test]
fn replay_json_lines_parse_as_records() {
    let out = run(&[
        "replay",
        "--json",
        "--any-tree",
        fixtures().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{out:?}");
    let records: Vec<_> = lines(&out.stdout).iter().map(|l| parse_record(l)).collect();
    assert_eq!(records.len(), 10, "no header, no talos: {records:#?}");
    let (builds, tests) = (builds(&records), tests(&records));
    assert_eq!((builds.len(), tests.len()), (5, 5));
    let mochitest = tests.iter().find(|t| t.test == "mochitest-1").unwrap();
    assert_eq!(mochitest.os, "ubuntu64_vm");
    assert_eq!(mochitest.job.builddate, Some(1439434924));
    assert_eq!(
        mochitest.job.buildername.as_deref(),
        Some("Ubuntu VM 12.04 x64 mozilla-central debug test mochitest-1")
    );
    let shippable = builds.iter().find(|b| b.tags == ["shippable"]).unwrap();
    assert_eq!(
        shippable.job.task_id.as_deref(),
        Some("Bq3mZp0aTcWfXyZ1nPq2Ow")
    );
    let trees: BTreeSet<&str> = records.iter().map(|r| r.job().tree.as_str()).collect();
    assert_eq!(
        trees,
        BTreeSet::from(["autoland", "mozilla-central", "mozilla-inbound"])
    );
}

#[test]
fn replay_filter_flags_and_filter_file_combine() {
    let dir = fixtures();
    let out = run(&[
        "replay",
        "--json",
        "--tree",
        "mozilla-inbound,autoland",
        "--buildtype",
        "debug",
        dir.to_str().unwrap(),
    ]);
    let keys: Vec<String> = lines(&out.stdout)
        .iter()
        .map(|l| parse_record(l).key())
        .collect();
    assert_eq!(keys.len(), 2, "{keys:#?}");
    assert!(keys.contains(&"build.mozilla-inbound_xp-ix-debug_test-xpcshell.8.log_uploaded".into()));

    let spec = std::env::temp_dir().join(format!("{}.json", unique("filter")));
    std::fs::write(&spec, r#"{"any_tree": true, "buildtags": [["nightly"]]}"#).unwrap();
    let out = run(&[
        "replay",
        "--json",
        "--filter-file",
        spec.to_str().unwrap(),
        "--buildtag",
        "shippable",
        "--platform",
        "macosx64,linux64",
        dir.to_str().unwrap(),
    ]);
    std::fs::remove_file(&spec).unwrap();
    let records: Vec<_> = lines(&out.stdout).iter().map(|l| parse_record(l)).collect();
    let build_tags: Vec<Vec<String>> = builds(&records).iter().map(|b| b.tags.clone()).collect();
    assert_eq!(
        build_tags,
        [vec!["nightly".to_string()], vec!["shippable".to_string()]]
    );
    let test_names: Vec<&str> = tests(&records).iter().map(|t| t.test.as_str()).collect();
    assert_eq!(
        test_names,
        ["mochitest-1", "mochitest-browser-chrome-e10s-3"]
    );
}

#[test]
fn explain_says_why_records_were_dropped() {
    let out = run(&["replay", "--explain", fixtures().to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let stderr = lines(&out.stderr);
    assert!(
        stderr.contains(
            &"dropped test mozilla-inbound win32 debug xpcshell (build.mozilla-inbound_xp-ix-debug_test-xpcshell.8.log_uploaded): tree \"mozilla-inbound\" is not one of mozilla-central"
                .to_string()
        ),
        "{stderr:#?}"
    );
    let dropped = stderr.iter().filter(|l| l.starts_with("dropped ")).count();
    assert_eq!(
        dropped, 4,
        "inbound build and test, talos, autoland: {stderr:#?}"
    );
}

#[test]
fn exec_gets_each_record_on_stdin_and_a_failing_command_does_not_stop_the_replay() {
    let file = std::env::temp_dir().join(unique("exec"));
    let command = format!("cat >> '{}'", file.display());
    let out = run(&["replay", "--exec", &command, fixtures().to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let written = lines(&std::fs::read(&file).unwrap());
    std::fs::remove_file(&file).unwrap();
    assert_eq!(written.len(), 7, "{written:#?}");
    for line in &written {
        assert!(!parse_record(line).key().is_empty());
    }

    let out = run(&["replay", "--exec", "exit 3", fixtures().to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(lines(&out.stdout).len(), 8);
    let failures = lines(&out.stderr)
        .iter()
        .filter(|l| l.starts_with("error: --exec \"exit 3\" failed for "))
        .count();
    assert_eq!(failures, 7, "{:#?}", lines(&out.stderr));
}

#[test]
fn dead_letters_and_log_file_keep_the_untranslatable_message() {
    let dead = std::env::temp_dir().join(unique("dead"));
    let log = std::env::temp_dir().join(unique("log"));
    let out = run(&[
        "replay",
        "--dead-letter",
        dead.to_str().unwrap(),
        "--log-file",
        log.to_str().unwrap(),
        fixtures().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{out:?}");
    let letters = lines(&std::fs::read(&dead).unwrap());
    assert_eq!(letters.len(), 1, "{letters:#?}");
    assert!(letters[0]
        .contains("\"routing_key\":\"build.mozilla-central-linux64-pgo.77.log_uploaded\""));
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(log_text.contains("no build url"), "{log_text}");

    // A dead-letter file replays: the same message fails the same way.
    let again = run(&["replay", dead.to_str().unwrap()]);
    std::fs::remove_file(&dead).unwrap();
    std::fs::remove_file(&log).unwrap();
    assert_eq!(
        lines(&again.stderr).last().map(String::as_str),
        Some("replay: received 1, translated 0, matched 0, errors 1")
    );
}

#[test]
fn translate_prints_normalized_json_lines() {
    let out = run(&[
        "translate",
        fixture("04-mozilla-central-linux64-debug-mochitest.json")
            .to_str()
            .unwrap(),
    ]);
    assert!(out.status.success(), "{out:?}");
    let rows = lines(&out.stdout);
    assert_eq!(rows.len(), 1);
    let message: serde_json::Value = serde_json::from_str(&rows[0]).unwrap();
    assert_eq!(
        message["routing_key"],
        "unittest.mozilla-central.linux64.ubuntu64_vm.debug.mochitest-1.firefox.mozilla-central_ubuntu64_vm-debug_test-mochitest-1"
    );
    assert_eq!(message["payload"]["test"], "mochitest-1");
    assert_eq!(message["payload"]["buildtype"], "debug");
    assert_eq!(message["payload"]["builddate"], 1439434924);
}

#[test]
fn translate_reads_json_lines_on_stdin_and_goes_on_after_errors() {
    let compact = |name: &str| {
        let value: serde_json::Value =
            serde_json::from_slice(&std::fs::read(fixture(name)).unwrap()).unwrap();
        value.to_string()
    };
    let input = [
        compact("01-mozilla-central-linux64-opt-build.json"),
        compact("09-mozilla-central-linux64-pgo-no-build-url.json"),
        "{not json".to_string(),
        compact("07-mozilla-inbound-linux64-opt-build.json"),
    ]
    .join("\n");
    let out = run_with_stdin(&["translate"], Some(&input));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let keys: Vec<String> = lines(&out.stdout)
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["routing_key"].to_string())
        .collect();
    assert_eq!(
        keys,
        [
            "\"build.mozilla-central.linux64.opt.mozilla-central-linux64\"",
            "\"build.mozilla-inbound.linux64.opt.mozilla-inbound-linux64\""
        ]
    );
    let stderr = lines(&out.stderr);
    assert_eq!(stderr.len(), 2, "{stderr:#?}");
    assert!(stderr[0].starts_with(
        "error: stdin line 2: routing key \"build.mozilla-central-linux64-pgo.77.log_uploaded\": NoBuildUrlError: "
    ), "{stderr:#?}");
    assert!(
        stderr[1].starts_with("error: stdin line 3: not JSON: "),
        "{stderr:#?}"
    );
}

#[test]
fn buildername_prints_parts_as_json_lines() {
    let input = "Rev3 WINNT 6.1 mozilla-central debug test mochitest-3\n\nnot a builder\nOS X 10.6 mozilla-central talos tp5o\n";
    let out = run_with_stdin(&["buildername"], Some(input));
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        lines(&out.stdout),
        [
            r#"{"buildername":"Rev3 WINNT 6.1 mozilla-central debug test mochitest-3","tree":"mozilla-central","platform":"win32","os":"win7","buildtype":"debug","kind":"test","test":"mochitest-3"}"#,
            r#"{"buildername":"not a builder","tree":null,"platform":null,"os":null,"buildtype":null,"kind":null,"test":null}"#,
            r#"{"buildername":"OS X 10.6 mozilla-central talos tp5o","tree":"mozilla-central","platform":"macosx64","os":"snowleopard","buildtype":"opt","kind":"talos","test":"tp5o"}"#,
        ]
    );
}

/// Exactly one stderr line, starting with `error:`, and the exit code.
fn assert_one_error(out: &Output, code: i32, contains: &str) {
    let stderr = lines(&out.stderr);
    assert_eq!(stderr.len(), 1, "{stderr:#?}");
    assert!(stderr[0].starts_with("error: "), "{stderr:#?}");
    assert!(stderr[0].contains(contains), "{stderr:#?}");
    assert_eq!(out.status.code(), Some(code), "{stderr:#?}");
    assert!(out.stdout.is_empty());
}

#[test]
fn usage_errors_are_one_line_and_exit_2() {
    assert_one_error(
        &run(&["watch", "--no-such-flag"]),
        2,
        "unexpected argument '--no-such-flag'",
    );
    assert_one_error(
        &run(&["watch", "--source", "carrier-pigeon"]),
        2,
        "possible values: buildbot, normalized, taskcluster",
    );
    assert_one_error(
        &run(&[
            "replay",
            "--buildtype",
            "fast",
            fixtures().to_str().unwrap(),
        ]),
        2,
        "invalid filter",
    );
    assert_one_error(
        &run(&["replay", "--tree", "try", "--any-tree", "x"]),
        2,
        "cannot be used with",
    );
    assert_one_error(&run(&["watch"]), 2, "no pulse credentials");
}

#[test]
fn malformed_url_is_one_line_without_the_password() {
    let out = run(&["watch", "--url", "amqp://me:hunter2@host:port/"]);
    assert_one_error(&out, 2, "invalid url `amqp://me:***@host:port/`");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("hunter2"));
}

#[test]
fn unreachable_broker_is_one_line_after_the_connect_timeout() {
    let started = Instant::now();
    let out = run(&[
        "watch",
        "--url",
        "amqp://me:hunter2@127.0.0.1:1/",
        "--connect-timeout",
        "2",
    ]);
    assert_one_error(
        &out,
        1,
        "the broker at amqp://me:***@127.0.0.1:1/ is unreachable",
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("hunter2"));
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn bad_credentials_are_one_line() {
    if !broker_available() {
        return;
    }
    let out = run(&[
        "watch",
        "--url",
        "amqp://guest:not-the-password@127.0.0.1:5672/",
    ]);
    assert_one_error(&out, 1, "invalid credentials");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("not-the-password"));
}

/// amiquip logs the handshake, credentials included, at debug level; the
/// command must not pass that on even when asked for every log line.
#[test]
fn trace_logging_never_shows_the_password() {
    if !broker_available() {
        return;
    }
    let password = "pw-7d1f3c-never-printed";
    let out = Command::new(BIN)
        .args(["watch", "--connect-timeout", "3", "--url"])
        .arg(format!("amqp://guest:{password}@127.0.0.1:5672/"))
        .env("RUST_LOG", "trace")
        .env_remove("PULSE_URL")
        .stdin(Stdio::null())
        .output()
        .expect("the pulse-monitor binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("handshake") || stderr.lines().count() > 5,
        "trace logging was on: {stderr}"
    );
    for output in [&out.stdout, &out.stderr] {
        let text = String::from_utf8_lossy(output);
        assert!(!text.contains(password), "the password leaked:\n{text}");
    }
}

fn publish_fixtures() {
    let out = run(&[
        "publish",
        "--url",
        BROKER_URL,
        "--declare-exchanges",
        fixtures().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        lines(&out.stdout),
        ["published 12 messages to amqp://guest:***@127.0.0.1:5672/"]
    );
}

#[test]
fn watch_prints_what_publish_sent() {
    if !broker_available() {
        return;
    }
    let label = unique("cli-watch");
    let mut watch = Running::start(&[
        "watch",
        "--url",
        BROKER_URL,
        "--declare-exchanges",
        "--label",
        &label,
        "--any-tree",
        "--json",
    ]);
    watch.wait_for_stderr(
        "pulse-monitor: consuming queue/guest/",
        Duration::from_secs(60),
    );
    publish_fixtures();

    // Other tests may publish on exchange/build/ meanwhile: wait for ours.
    let expected: BTreeSet<&str> = [
        "build.mozilla-central-linux64.412.log_uploaded",
        "build.mozilla-central-win32-debug.233.log_uploaded",
        "build.mozilla-central-macosx64-nightly.88.log_uploaded",
        "build.mozilla-central_ubuntu64_vm-debug_test-mochitest-1.97.log_uploaded",
        "build.mozilla-central_win7-ix_test-reftest.51.log_uploaded",
        "build.mozilla-inbound-linux64.1022.log_uploaded",
        "build.mozilla-inbound_xp-ix-debug_test-xpcshell.8.log_uploaded",
    ]
    .into();
    let mut seen = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !expected.iter().all(|k| seen.contains(*k)) {
        let line = watch
            .stdout
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|_| panic!("watch printed only {seen:#?}"));
        seen.insert(parse_record(&line).key());
    }
    let stderr = watch.interrupt();
    let stopped = stderr
        .iter()
        .find(|l| l.starts_with("pulse-monitor: stopped: received "))
        .unwrap_or_else(|| panic!("{stderr:#?}"));
    assert!(stopped.contains("translation errors "), "{stopped}");
}

#[test]
fn watch_serves_metrics_on_the_loopback_address() {
    if !broker_available() {
        return;
    }
    let mut watch = Running::start(&[
        "watch",
        "--url",
        BROKER_URL,
        "--declare-exchanges",
        "--metrics",
        "0",
    ]);
    watch.wait_for_stderr("pulse-monitor: metrics at http://", Duration::from_secs(60));
    let line = watch.stderr_seen.last().unwrap().clone();
    let address = line
        .strip_prefix("pulse-monitor: metrics at http://")
        .and_then(|rest| rest.strip_suffix("/metrics"))
        .unwrap_or_else(|| panic!("{line}"));
    assert!(address.starts_with("127.0.0.1:"), "{address}");
    watch.wait_for_stderr("pulse-monitor: consuming", Duration::from_secs(60));
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(
        response.starts_with("HTTP/1.0 200") || response.starts_with("HTTP/1.1 200"),
        "{response}"
    );
    assert!(
        response.contains("\npulse_monitor_connected 1\n"),
        "{response}"
    );
    watch.interrupt();
}

#[test]
fn metrics_and_delivery_limit_flags_are_checked() {
    assert_one_error(
        &run(&["watch", "--metrics", "nowhere"]),
        2,
        "`nowhere` is not PORT or HOST:PORT",
    );
    assert_one_error(
        &run(&["watch", "--url", BROKER_URL, "--delivery-limit", "3"]),
        2,
        "--delivery-limit 3 needs --queue-type quorum",
    );
    assert_one_error(
        &run(&["watch", "--queue-type", "stream"]),
        2,
        "possible values: classic, quorum",
    );
}

#[test]
fn record_appends_raw_messages_that_replay_reads_back_and_rotates() {
    if !broker_available() {
        return;
    }
    let out = std::env::temp_dir().join(unique("record"));
    let label = unique("cli-record");
    let mut record = Running::start(&[
        "record",
        "--out",
        out.to_str().unwrap(),
        "--max-bytes",
        "8000",
        "--url",
        BROKER_URL,
        "--declare-exchanges",
        "--label",
        &label,
    ]);
    record.wait_for_stderr(
        "pulse-monitor: recording queue/guest/",
        Duration::from_secs(60),
    );
    publish_fixtures();

    let rotated = PathBuf::from(format!("{}.1", out.display()));
    let ours = "build.mozilla-central-linux64-pgo.77.log_uploaded";
    let deadline = Instant::now() + Duration::from_secs(60);
    let both = || {
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        format!("{}{}", read(&rotated), read(&out))
    };
    while !both().contains(ours) {
        assert!(Instant::now() < deadline, "not recorded: {}", both());
        std::thread::sleep(Duration::from_millis(100));
    }
    let stderr = record.interrupt();
    assert!(
        stderr
            .iter()
            .any(|l| l.starts_with("pulse-monitor: recorded ")),
        "{stderr:#?}"
    );
    assert!(rotated.exists(), "nine raw messages pass 8000 bytes");
    assert!(std::fs::metadata(&out).unwrap().len() <= 8000);

    let replayed = run(&[
        "replay",
        "--json",
        "--any-tree",
        rotated.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    std::fs::remove_file(&out).unwrap();
    std::fs::remove_file(&rotated).unwrap();
    assert!(replayed.status.success(), "{replayed:?}");
    let keys: BTreeSet<String> = lines(&replayed.stdout)
        .iter()
        .map(|l| parse_record(l).key())
        .collect();
    assert!(
        keys.contains("build.mozilla-inbound_xp-ix-debug_test-xpcshell.8.log_uploaded"),
        "{keys:#?}"
    );
}

/// One test task per Taskcluster queue exchange, as `record` writes them,
/// plus a last completed one that says everything before it was routed;
/// the routing keys end in `marker`.
fn five_exchange_recording(marker: &str) -> PathBuf {
    let route = "route.tc-treeherder.v2.autoland.0123456789abcdef0123456789abcdef01234567.7";
    let states = [
        "pending",
        "running",
        "completed",
        "failed",
        "exception",
        "last",
    ];
    let mut text = String::new();
    for name in states {
        let state = if name == "last" { "completed" } else { name };
        let mut run = serde_json::json!({"runId": 0, "state": state,
            "scheduled": "2026-11-29T10:00:00.000Z"});
        if !matches!(state, "pending" | "running") {
            run["resolved"] = serde_json::json!("2026-11-29T10:20:00.000Z");
            run["reasonResolved"] = serde_json::json!(if state == "exception" {
                "canceled"
            } else {
                state
            });
        }
        let line = serde_json::json!({
            "exchange": format!("exchange/taskcluster-queue/v1/task-{state}"),
            "routing_key": format!("primary.{name}.0._._.gecko-t.t-linux-large.gecko-level-3.G.{marker}"),
            "cc": [route],
            "body": {"status": {"taskId": name, "workerType": "t-linux-large", "state": state,
                                "runs": [run]},
                     "runId": 0,
                     "task": {"tags": {"kind": "test",
                                       "label": "test-linux1804-64-qr/debug-xpcshell-2"}}}
        });
        text.push_str(&line.to_string());
        text.push('\n');
    }
    let path = std::env::temp_dir().join(format!("{marker}.jsonl"));
    std::fs::write(&path, text).unwrap();
    path
}

/// `watch --source taskcluster` with `extra` flags: publishes the five
/// exchanges' messages and returns the task ids and `result`s it printed.
fn watch_five_exchanges(extra: &[&str]) -> Option<BTreeSet<(String, String)>> {
    if !broker_available() {
        return None;
    }
    let label = unique("cli-watch-tc");
    let mut args = vec![
        "watch",
        "--url",
        BROKER_URL,
        "--declare-exchanges",
        "--source",
        "taskcluster",
        "--tree",
        "autoland",
        "--label",
        &label,
        "--json",
        // Tests never go online.
        "--no-details",
    ];
    args.extend_from_slice(extra);
    let mut watch = Running::start(&args);
    watch.wait_for_stderr(
        "pulse-monitor: consuming queue/guest/",
        Duration::from_secs(60),
    );
    let recording = five_exchange_recording(&label);
    let out = run(&[
        "publish",
        "--url",
        BROKER_URL,
        "--declare-exchanges",
        recording.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{out:?}");
    let _ = std::fs::remove_file(&recording);

    let task_of = |line: &str| {
        let record: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        let key = record["key"].as_str().unwrap_or_default();
        key.ends_with(&label).then(|| {
            let task = key.split('.').nth(1).unwrap().to_string();
            let result = match record["state"].as_str() {
                // A task record: its state says whether it finished.
                Some(state @ ("pending" | "running")) => state.to_string(),
                _ => record["result"].as_str().unwrap().to_string(),
            };
            assert_eq!(record["kind"], "test", "{line}");
            (task, result)
        })
    };
    // The last message comes after the others: once it is printed, a
    // graceful stop finishes every callback before it.
    let mut printed = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !printed.iter().any(|(task, _)| task == "last") {
        let line = watch
            .stdout
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|_| panic!("watch printed only {printed:#?}"));
        printed.extend(task_of(&line));
    }
    let (rest, _) = watch.interrupt_with_output();
    printed.extend(rest.iter().filter_map(|line| task_of(line)));
    printed.retain(|(task, _)| task != "last");
    Some(printed)
}

fn pairs(expected: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn watch_taskcluster_prints_finished_tasks_only() {
    let Some(printed) = watch_five_exchanges(&[]) else {
        return;
    };
    assert_eq!(
        printed,
        pairs(&[
            ("completed", "success"),
            ("exception", "usercancel"),
            ("failed", "testfailed"),
        ])
    );
}

#[test]
fn watch_taskcluster_progress_adds_unfinished_tasks_that_say_so() {
    let Some(printed) = watch_five_exchanges(&["--progress", "--any-kind"]) else {
        return;
    };
    assert_eq!(
        printed,
        pairs(&[
            ("completed", "success"),
            ("exception", "usercancel"),
            ("failed", "testfailed"),
            ("pending", "pending"),
            ("running", "running"),
        ])
    );
}

#[test]
fn replay_goes_on_past_files_that_are_not_messages_and_exits_1() {
    // fixtures/ holds task definitions beside the Taskcluster messages, and
    // the errorsummaries a local Taskcluster queue serves.
    let all = fixtures().parent().unwrap().to_path_buf();
    let not_messages = 2 + std::fs::read_dir(all.join("taskcluster-api"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "log")
        })
        .count();
    let out = run(&[
        "replay",
        "--any-tree",
        "--any-kind",
        "--talos",
        "--json",
        all.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = lines(&out.stderr);
    let skipped: Vec<&String> = stderr
        .iter()
        .filter(|l| l.starts_with("warning: skipped: cannot replay "))
        .collect();
    assert_eq!(skipped.len(), not_messages, "{stderr:#?}");
    assert!(
        skipped
            .iter()
            .any(|l| l.contains("fixtures/taskcluster/partials-completed.definition.json")),
        "{skipped:#?}"
    );
    assert_eq!(
        stderr.last().cloned(),
        Some(format!(
            "error: {not_messages} input(s) skipped: they are not messages (see the warnings above)"
        )),
        "{stderr:#?}"
    );
    // The good messages around them were replayed.
    let printed = lines(&out.stdout);
    assert!(printed.len() > 20, "{printed:#?}");
    let keys: BTreeSet<String> = printed
        .iter()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["key"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(
        keys.iter().any(|k| k.starts_with("primary.")),
        "Taskcluster records too"
    );
}
