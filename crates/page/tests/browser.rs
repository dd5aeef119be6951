//! The page in a real browser: headless Chromium (Debian's `chromium`),
//! driven over the DevTools protocol on a pipe, opens the page of a
//! generated push published to the local RabbitMQ. The counts it shows
//! equal the generator's truth; a failure published to the broker later
//! appears without a reload; a failure whose
//! label is markup and script shows as text and runs nothing; the banner
//! says when the monitor is disconnected. It saves a screenshot
//! (`PULSE_PAGE_SCREENSHOT=path` saves it there too: README's
//! `docs/page.png`).
//!
//! Under `CI=true` a missing `chromium` or broker fails the test; elsewhere
//! it is skipped with a message.

use std::io::{BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use pulse_build_monitor::{Filter, Monitor, PushSettings};
use pulse_page::{Page, PageOptions};
use pulse_synthetic::Push;
use pulse_test_support::{find_program, publish_pulse_messages, require, unique, TempDir};
use pulse_translator::{exchanges, Message};
use serde_json::{json, Value};

const TIMEOUT: Duration = Duration::from_secs(60);

/// Chromium with the DevTools protocol on a pipe: it reads commands on fd 3
/// and answers on fd 4, each message JSON ended by a NUL. `sh` puts our
/// stdin and stdout there, so no socket and no websocket client are needed.
struct Browser {
    child: Child,
    commands: ChildStdin,
    answers: mpsc::Receiver<Value>,
    next_id: u64,
    session: Option<String>,
    _profile: TempDir,
}

impl Browser {
    fn launch(chromium: &std::path::Path) -> Browser {
        let profile = TempDir::new("pulse-page-chromium");
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#"exec "$0" "$@" 3<&0 4>&1 0</dev/null 1>&2"#)
            .arg(chromium)
            .args([
                "--headless",
                // The test may run as root, where the sandbox cannot start.
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--hide-scrollbars",
                "--window-size=1400,1000",
                "--remote-debugging-pipe",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromium starts");
        let commands = child.stdin.take().unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let (tx, answers) = mpsc::channel();
        std::thread::spawn(move || {
            let mut message = Vec::new();
            let mut byte = [0u8; 1];
            while out.read_exact(&mut byte).is_ok() {
                if byte[0] != 0 {
                    message.push(byte[0]);
                    continue;
                }
                let Ok(value) = serde_json::from_slice::<Value>(&message) else {
                    break;
                };
                message.clear();
                if tx.send(value).is_err() {
                    break;
                }
            }
        });
        let mut browser = Browser {
            child,
            commands,
            answers,
            next_id: 0,
            session: None,
            _profile: profile,
        };
        let target = browser.call("Target.createTarget", json!({ "url": "about:blank" }));
        let target_id = target["targetId"].as_str().unwrap().to_string();
        let attached = browser.call(
            "Target.attachToTarget",
            json!({ "targetId": target_id, "flatten": true }),
        );
        browser.session = Some(attached["sessionId"].as_str().unwrap().to_string());
        browser
    }

    /// Sends a command (to the page, once attached) and waits for its answer.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut command = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = &self.session {
            command["sessionId"] = json!(session);
        }
        let mut bytes = serde_json::to_vec(&command).unwrap();
        bytes.push(0);
        self.commands.write_all(&bytes).unwrap();
        self.commands.flush().unwrap();
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let answer = self
                .answers
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| panic!("no answer to {method} within {TIMEOUT:?}"));
            if answer["id"] == id {
                assert!(answer.get("error").is_none(), "{method}: {answer}");
                return answer["result"].clone();
            }
        }
    }

    /// The value of a JavaScript expression in the page.
    fn eval(&mut self, expression: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true }),
        );
        assert!(
            result.get("exceptionDetails").is_none(),
            "{expression}: {result}"
        );
        result["result"]["value"].clone()
    }

    /// Polls `expression` until it is true, failing the test after
    /// `TIMEOUT` with what the page showed.
    fn wait_until(&mut self, what: &str, expression: &str) {
        let deadline = Instant::now() + TIMEOUT;
        while self.eval(&format!("Boolean({expression})")) != json!(true) {
            if Instant::now() > deadline {
                let text = self.eval("document.body.innerText");
                panic!("timed out waiting for {what}; the page shows:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn navigate(&mut self, url: &str) {
        self.call("Page.navigate", json!({ "url": url }));
    }

    fn screenshot(&mut self) -> Vec<u8> {
        let shot = self.call("Page.captureScreenshot", json!({ "format": "png" }));
        base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `selector`'s text, as a JS string expression.
fn text_of(selector: &str) -> String {
    format!("(document.querySelector({selector:?}) || {{}}).textContent")
}

/// A failed test task of `tree`'s push `revision` whose label is markup and
/// script, as the queue publishes it on `task-failed`.
fn hostile_failure(tree: &str, revision: &str, label: &str) -> Message {
    let body = json!({
        "status": {"taskId": "fxnfF4hJRbq2uSO5DEAK1A", "taskGroupId": "G0ZzO1kfTWSZx0RbTcKfNA",
            "state": "failed", "runs": [{"runId": 0, "state": "failed", "reasonResolved": "failed",
            "scheduled": "2026-01-23T19:34:49.624Z", "resolved": "2026-01-23T20:00:16.794Z"}]},
        "runId": 0,
        "task": {"tags": {"kind": "test", "label": label}}
    });
    Message::new(
        exchanges::TASK_FAILED,
        "primary.fxnfF4hJRbq2uSO5DEAK1A.0",
        serde_json::to_vec(&body).unwrap(),
    )
    .with_cc(vec![format!("route.tc-treeherder.v2.{tree}.{revision}")])
}

#[test]
fn the_page_in_chromium_shows_the_truth_live_and_as_text() {
    let chromium = find_program("chromium");
    if require(chromium.is_some(), "chromium (apt-get install -y chromium)").is_err() {
        return;
    }
    let chromium = chromium.unwrap();

    let Some(settings) = pulse_test_support::broker_settings("page-browser") else {
        return;
    };

    // A generated push, through the broker and a monitor, onto the page.
    let tree = unique("page-browser");
    let later_tree = unique("page-browser-later");
    let push = Push::builder()
        .tree(tree.as_str())
        .tasks(600)
        .seed(5)
        .build();
    let truth = push.truth();
    let page = Page::new(PageOptions::default());
    let messages: Vec<Message> = push.messages().into_iter().map(|m| m.message).collect();
    let label_of_queue = unique("page-browser");
    let _queue = pulse_test_support::BrokerCleanup::for_label(&settings, &label_of_queue);
    let monitor = page
        .attach(
            Monitor::builder()
                .filter(
                    Filter::builder()
                        .trees([tree.as_str(), later_tree.as_str()])
                        .build()
                        .unwrap(),
                )
                .push_tracking(PushSettings::default().with_quiet_period(Duration::from_secs(1))),
        )
        .source(pulse_build_monitor::Source::Taskcluster { progress: false })
        .broker(settings.clone())
        .label(&label_of_queue)
        .declare_exchanges(true)
        .start()
        .unwrap();
    let monitor = Arc::new(monitor);
    let follower = page.follow(Arc::clone(&monitor)).unwrap();
    publish_pulse_messages(&settings, &messages);
    let server = page.serve("127.0.0.1:0".parse().unwrap()).unwrap();
    let url = server.url();

    let mut browser = Browser::launch(&chromium);
    let key = format!("{tree}/{}", push.revision);
    browser.navigate(&format!("{url}#/push/{key}"));
    let finished =
        format!("document.querySelector('section[data-push=\"{key}\"][data-state=\"finished\"]')");
    browser.wait_until("the push, finished", &finished);

    // The counts shown are the generator's.
    let shown = |browser: &mut Browser, name: &str| -> u32 {
        let selector = format!("section[data-push=\"{key}\"] td[data-count=\"{name}\"]");
        let text = browser.eval(&text_of(&selector));
        text.as_str()
            .unwrap_or_else(|| panic!("no {name} count: {text}"))
            .parse()
            .unwrap()
    };
    for (name, expected) in [
        ("tasks", truth.tasks),
        ("success", truth.success),
        ("testfailed", truth.testfailed),
        ("busted", truth.busted),
        ("exception", truth.exception),
        ("usercancel", truth.usercancel),
        ("pending", 0),
        ("running", 0),
    ] {
        assert_eq!(shown(&mut browser, name), expected, "{name}");
    }
    let failed_rows = browser.eval("document.querySelectorAll('tr[data-failed-task]').length");
    assert_eq!(failed_rows, json!(truth.failed()));
    let reruns = browser.eval(&text_of("dd[data-field=\"reruns\"]"));
    assert!(
        reruns
            .as_str()
            .unwrap()
            .starts_with(&format!("{} run(s) rerun", truth.reruns)),
        "{reruns}"
    );
    // Links: the task in the Taskcluster UI, its log, Treeherder's job view.
    let links = browser.eval(
        "[...document.querySelector('tr[data-failed-task] td.links').querySelectorAll('a')].map(a => a.href)",
    );
    let links: Vec<&str> = links
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(links[0].starts_with("https://firefox-ci-tc.services.mozilla.com/tasks/"));
    assert!(links.iter().any(|l| l.starts_with(&format!(
        "https://treeherder.mozilla.org/jobs?repo={tree}&revision="
    )) && l.contains("selectedTaskRun=")));

    // The tree view: the same counts, and the latest builds.
    browser.eval("window.location.hash = '#/'; window.__sameDocument = true");
    let row = format!("tr[data-push=\"{key}\"] td[data-count=\"success\"]");
    browser.wait_until("the tree view", &format!("document.querySelector('{row}')"));
    assert_eq!(
        browser.eval(&text_of(&row)),
        json!(truth.success.to_string())
    );
    let builds = browser.eval("document.querySelectorAll('tr[data-build]').length");
    assert!(builds.as_u64().unwrap() > 0, "no builds shown");
    let screenshot = browser.screenshot();
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("page.png");
    std::fs::write(&path, &screenshot).unwrap();
    if let Some(path) = std::env::var_os("PULSE_PAGE_SCREENSHOT") {
        std::fs::write(path, &screenshot).unwrap();
    }

    // A failure that comes later appears without a reload, as text.
    let revision = "7c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d";
    let label = format!(
        "test-linux1804-64/debug-{}<script>window.pwned = 1</script><img src=x onerror=\"window.pwned = 2\">",
        unique("mochitest")
    );
    publish_pulse_messages(&settings, &[hostile_failure(&later_tree, revision, &label)]);
    let other = format!("{later_tree}/{revision}");
    browser.wait_until(
        "the later push in the tree view",
        &format!("document.querySelector('tr[data-push=\"{other}\"]')"),
    );
    assert_eq!(
        browser.eval("window.__sameDocument"),
        json!(true),
        "reloaded"
    );
    browser.eval(&format!("window.location.hash = '#/push/{other}'"));
    browser.wait_until(
        "the failed task",
        "document.querySelector('tr[data-failed-task] td.label')",
    );
    assert_eq!(
        browser.eval(&text_of("tr[data-failed-task] td.label")),
        json!(label)
    );
    assert_eq!(browser.eval("typeof window.pwned"), json!("undefined"));
    assert_eq!(
        browser.eval("document.querySelectorAll('#main script, #main img').length"),
        json!(0)
    );

    // The banner says when the monitor is disconnected, and when it is back.
    // The follower would put the monitor's own state back within 0.5 s,
    // and a page gathers what changes within 0.2 s into one write: without
    // it, the states set here are the only ones.
    drop(follower);
    page.set_connected(Some(true));
    browser.wait_until(
        "connected",
        "document.querySelector('#status[data-connection=\"connected\"]')",
    );
    page.set_connected(Some(false));
    browser.wait_until(
        "disconnected",
        "document.querySelector('#status[data-connection=\"disconnected\"]')",
    );
    page.set_connected(Some(true));
    browser.wait_until(
        "connected again",
        "document.querySelector('#status[data-connection=\"connected\"]')",
    );
    assert_eq!(browser.eval("window.__sameDocument"), json!(true));
}
