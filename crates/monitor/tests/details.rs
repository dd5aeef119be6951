//! Record details fetched from a local Taskcluster queue serving a
//! generated push: builds get their URLs, tests their build, failed tests
//! the failure lines the server holds (Treeherder's own samples among
//! them), and pushes their failed tasks' first lines; a queue that answers
//! 404, 500, garbage, too much or never leaves each record arriving on
//! time with its reason.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pulse_build_monitor::{
    DetailsSettings, Filter, Message, Monitor, MonitorBuilder, PushEvent, PushEventKind, Record,
    Source,
};
use pulse_synthetic::{JobKind, Outcome, Push};
use pulse_taskcluster::{Queue, Retry};
use pulse_test_support::{broker_settings, unique, wait_until, BrokerCleanup, QueueServer, Reply};

const WAIT: Duration = Duration::from_secs(120);

/// A push with failed tests (and builds), on a tree of its own.
fn failing_push(tasks: usize) -> Push {
    (1..200)
        .map(|seed| {
            Push::builder()
                .tree(unique("details").as_str())
                .tasks(tasks)
                .seed(seed)
                .build()
        })
        .find(|push| {
            push.tasks
                .iter()
                .filter(|t| is_test(t) && t.outcome() == Outcome::Failed)
                .count()
                >= 3
        })
        .expect("a seed under 200 fails some tests")
}

/// A test a harness runs (a test record); lint and other source tests
/// write no errorsummary and make task records.
fn is_test(task: &pulse_synthetic::SyntheticTask) -> bool {
    task.job_kind == JobKind::Test && task.kind != "source-test"
}

fn queue(server: &QueueServer, timeout: Duration) -> Queue {
    Queue::new(server.root_url.clone())
        .unwrap()
        .timeout(timeout)
        .retry(Retry {
            retries: 1,
            base: Duration::from_millis(10),
            cap: Duration::from_millis(50),
        })
}

#[derive(Default)]
struct Heard {
    records: Vec<Record>,
    pushes: Vec<PushEvent>,
}

fn listening(builder: MonitorBuilder, heard: &Arc<Mutex<Heard>>) -> MonitorBuilder {
    let (builds, tests, pushes) = (Arc::clone(heard), Arc::clone(heard), Arc::clone(heard));
    builder
        .on_build(move |b| builds.lock().unwrap().records.push(Record::Build(b)))
        .on_test(move |t| tests.lock().unwrap().records.push(Record::Test(t)))
        .on_push(move |e| pushes.lock().unwrap().pushes.push(e))
}

/// Replays `push` in process through a monitor of its tree (talos too)
/// fetching details so; what the callbacks heard, once every call ended.
fn replay_with_details(push: &Push, details: DetailsSettings) -> Arc<Mutex<Heard>> {
    let heard: Arc<Mutex<Heard>> = Arc::default();
    let monitor = listening(Monitor::builder(), &heard)
        .source(Source::Taskcluster { progress: false })
        .filter(
            Filter::builder()
                .trees([push.tree.as_str()])
                .talos(true)
                .build()
                .unwrap(),
        )
        .details(details)
        .messages(push.messages().into_iter().map(|m| m.message))
        .start()
        .unwrap();
    let report = monitor.join();
    assert!(report.is_complete(), "{report:?}");
    heard
}

/// The finished builds and tests of `push` (their last runs) by task id.
fn finished_jobs(push: &Push) -> BTreeMap<String, (JobKind, Outcome, u32)> {
    push.tasks
        .iter()
        .filter(|t| t.kind == "build" || is_test(t))
        .map(|t| {
            let run = t.runs.last().unwrap();
            (t.task_id.clone(), (t.job_kind, run.outcome, run.run_id))
        })
        .collect()
}

#[test]
fn a_failing_push_through_the_broker_gets_its_urls_and_failure_lines() {
    let Some(settings) = broker_settings("details") else {
        return;
    };
    let push = failing_push(400);
    let server = QueueServer::serving_push(&push, Vec::<(String, Reply)>::new());
    let label = unique("details");
    let _queue_guard = BrokerCleanup::for_label(&settings, &label);
    let heard: Arc<Mutex<Heard>> = Arc::default();
    let monitor = listening(Monitor::builder(), &heard)
        .broker(settings.clone())
        .label(&label)
        .declare_exchanges(true)
        .source(Source::Taskcluster { progress: false })
        .filter(
            Filter::builder()
                .trees([push.tree.as_str()])
                .talos(true)
                .build()
                .unwrap(),
        )
        .push_tracking(
            pulse_build_monitor::PushSettings::default().with_quiet_period(Duration::from_secs(1)),
        )
        .details(
            DetailsSettings::new(queue(&server, Duration::from_secs(5)))
                .with_timeout(Duration::from_secs(20)),
        )
        .start()
        .unwrap();
    let messages: Vec<Message> = push.messages().into_iter().map(|m| m.message).collect();
    pulse_test_support::publish_pulse_messages(&settings, &messages);

    let finished = push.truth().tasks as usize;
    wait_until(WAIT, "the push finished", || {
        let heard = heard.lock().unwrap();
        heard
            .pushes
            .iter()
            .any(|e| e.event == PushEventKind::Finished)
            && heard.pushes.last().unwrap().push.counts.tasks as usize == finished
    });
    let report = monitor.stop();
    assert_eq!(report.stats.translation_errors, 0);
    let heard = heard.lock().unwrap();
    let expected = finished_jobs(&push);
    let mut failed_tests = 0;
    let mut builds_with_urls = 0;
    for record in &heard.records {
        let job = record.job().unwrap();
        let task_id = job.task_id.as_deref().unwrap();
        let Some(&(kind, outcome, run_id)) = expected.get(task_id) else {
            continue;
        };
        if job.run_id != Some(run_id) {
            continue; // an earlier run of a rerun task
        }
        assert_eq!(job.details_unavailable, None, "{task_id}: {job:?}");
        match record {
            Record::Build(_) => {
                let installer = job.buildurl.as_deref().expect("a build's installer URL");
                assert!(
                    installer.starts_with(&format!(
                        "{}/api/queue/v1/task/{task_id}/runs/{run_id}/artifacts/public/build/target.",
                        server.root_url
                    )),
                    "{installer}"
                );
                assert!(job
                    .symbols_url
                    .as_deref()
                    .unwrap()
                    .ends_with("target.crashreporter-symbols.zip"));
                assert!(job
                    .test_packages_url
                    .as_deref()
                    .unwrap()
                    .ends_with("target.test_packages.json"));
                assert!(job
                    .testsurl
                    .as_deref()
                    .unwrap()
                    .contains("target.common.tests."));
                builds_with_urls += 1;
            }
            Record::Test(_) => {
                assert_eq!(kind, JobKind::Test);
                let task = push.tasks.iter().find(|t| t.task_id == task_id).unwrap();
                if outcome == Outcome::Failed {
                    let lines: Vec<(&str, &str)> = job
                        .failures
                        .iter()
                        .map(|f| (f.test.as_deref().unwrap(), f.message.as_deref().unwrap()))
                        .collect();
                    let truth = push.failures(task);
                    let held: Vec<(&str, &str)> = truth
                        .iter()
                        .map(|f| (f.test.as_str(), f.message.as_str()))
                        .collect();
                    assert_eq!(lines, held, "{task_id}: the lines the server holds");
                    assert_eq!(job.failing_groups, vec![truth[0].group.clone()]);
                    assert!(job.failures[0].line.starts_with("TEST-UNEXPECTED-"));
                    failed_tests += 1;
                } else {
                    assert!(job.failures.is_empty(), "{task_id}");
                }
                // Its build's installer, when the build is in the push.
                if task.dependencies.iter().any(|d| expected.contains_key(d)) {
                    assert!(
                        job.buildurl
                            .as_deref()
                            .is_some_and(|u| u.contains("public/build/target.")),
                        "{job:?}"
                    );
                }
            }
            _ => unreachable!(),
        }
    }
    assert!(
        failed_tests >= 3 && builds_with_urls > 0,
        "{failed_tests} failed tests, {builds_with_urls} builds"
    );

    // The push's failed tests carry their first lines.
    let finished = heard
        .pushes
        .iter()
        .rev()
        .find(|e| e.event == PushEventKind::Finished)
        .unwrap();
    let with_lines: Vec<_> = finished
        .push
        .failed
        .iter()
        .filter(|t| {
            t.result == pulse_build_monitor::JobResult::Testfailed && t.kind != "source-test"
        })
        .collect();
    assert!(!with_lines.is_empty());
    for task in with_lines {
        let truth = push.failures(
            push.tasks
                .iter()
                .find(|t| t.task_id == task.task_id)
                .unwrap(),
        );
        assert_eq!(task.failures.len(), truth.len().min(5), "{task:?}");
        assert_eq!(
            task.failures[0].test.as_deref(),
            Some(truth[0].test.as_str())
        );
    }
}

/// What a failed test record says when its errorsummary is answered with
/// `reply`; every other record of the push still arrives.
fn failed_test_details_with(reply: Reply, timeout: Duration) -> Vec<Option<String>> {
    let push = failing_push(300);
    let failed: Vec<(String, u32)> = push
        .tasks
        .iter()
        .filter(|t| is_test(t) && t.outcome() == Outcome::Failed)
        .map(|t| (t.task_id.clone(), t.runs.last().unwrap().run_id))
        .collect();
    let overrides: Vec<(String, Reply)> = push
        .queue_api()
        .into_iter()
        .filter(|(path, _)| path.ends_with("_errorsummary.log"))
        .map(|(path, _)| (path, reply.clone()))
        .collect();
    assert!(!overrides.is_empty());
    let server = QueueServer::serving_push(&push, overrides);
    let queue = queue(&server, Duration::from_secs(1)).max_artifact_bytes(64 * 1024);
    let heard = replay_with_details(&push, DetailsSettings::new(queue).with_timeout(timeout));
    let heard = heard.lock().unwrap();
    let expected = finished_jobs(&push);
    let received: Vec<&Record> = heard
        .records
        .iter()
        .filter(|r| expected.contains_key(r.job().unwrap().task_id.as_deref().unwrap()))
        .collect();
    assert!(
        received.len() >= expected.len(),
        "every finished job arrived"
    );
    failed
        .iter()
        .map(|(task_id, run_id)| {
            let record = received
                .iter()
                .find(|r| {
                    let job = r.job().unwrap();
                    job.task_id.as_deref() == Some(task_id) && job.run_id == Some(*run_id)
                })
                .unwrap_or_else(|| panic!("the failed test {task_id} arrived"));
            record.job().unwrap().details_unavailable.clone()
        })
        .collect()
}

#[test]
fn a_queue_that_fails_leaves_each_record_with_its_reason() {
    let cases: [(&str, Reply, &str); 4] = [
        ("404", Reply::Status(404), "404"),
        ("500", Reply::Status(500), "500"),
        (
            "garbage",
            Reply::Bytes(b"\x00\xff not json at all\n{{{\n".to_vec()),
            "errorsummary",
        ),
        ("oversize", Reply::Bytes(vec![b'x'; 200 * 1024]), "bytes"),
    ];
    for (what, reply, says) in cases {
        let reasons = failed_test_details_with(reply, Duration::from_secs(20));
        for reason in reasons {
            let reason = reason.unwrap_or_else(|| panic!("{what}: no reason given"));
            assert!(reason.contains(says), "{what}: {reason}");
        }
    }
}

#[test]
fn a_queue_that_never_answers_delays_records_by_the_timeout_only() {
    // The hung requests never end: the records arrive all the same (the
    // replay would never join otherwise).
    let reasons = failed_test_details_with(Reply::Hang, Duration::from_secs(2));
    for reason in reasons {
        let reason = reason.expect("a reason");
        // The request's own timeout (1 s) or the record's deadline (2 s),
        // whichever came first; or, with half the prefetch window already
        // waiting for details, at once.
        assert!(
            reason.contains("timed out")
                || reason.contains("no answer")
                || reason.contains("too many records are waiting"),
            "{reason}"
        );
    }
}

#[test]
fn failed_runs_serving_treeherders_samples_get_treeherders_failure_lines() {
    // Three failed test runs whose errorsummary is one of Treeherder's own
    // samples (tools/test-support/samples/treeherder), gzipped as the
    // queue's storage serves logs; what the records carry is what
    // Treeherder's tests expect of those files.
    let push = failing_push(300);
    let failed: Vec<(String, u32)> = push
        .tasks
        .iter()
        .filter(|t| is_test(t) && t.outcome() == Outcome::Failed)
        .map(|t| (t.task_id.clone(), t.runs.last().unwrap().run_id))
        .take(3)
        .collect();
    assert_eq!(failed.len(), 3, "failing_push fails at least 3 tests");
    let samples = [
        "mochitest-browser-chrome_errorsummary.log",
        "plain-chunked_errorsummary_astral.log",
        "mochitest-browser-chrome_cf1_errorsummary.log",
    ];
    let overrides: Vec<(String, Reply)> = failed
        .iter()
        .zip(samples)
        .map(|((task_id, run_id), sample)| {
            let run = format!("/task/{task_id}/runs/{run_id}/artifacts/");
            let (path, _) = push
                .queue_api()
                .into_iter()
                .find(|(path, _)| path.contains(&run) && path.ends_with("_errorsummary.log"))
                .expect("a failed test run's errorsummary");
            (
                path,
                Reply::Gzip(pulse_test_support::treeherder_sample(sample)),
            )
        })
        .collect();
    let server = QueueServer::serving_push(&push, overrides);
    let details = DetailsSettings::new(queue(&server, Duration::from_secs(5)))
        .with_timeout(Duration::from_secs(20));
    let heard = replay_with_details(&push, details);
    let heard = heard.lock().unwrap();
    let job = |(task_id, run_id): &(String, u32)| {
        heard
            .records
            .iter()
            .map(|r| r.job().unwrap())
            .find(|j| j.task_id.as_deref() == Some(task_id) && j.run_id == Some(*run_id))
            .unwrap_or_else(|| panic!("the failed test {task_id} arrived"))
            .clone()
    };

    // test_store_error_summary_group_status: 5 failure lines; ERROR
    // groups dom/workers (first), preferences and pictureinpicture.
    let mochitest = job(&failed[0]);
    assert_eq!(mochitest.details_unavailable, None);
    let tests: Vec<(&str, &str, &str)> = mochitest
        .failures
        .iter()
        .map(|f| {
            (
                f.test.as_deref().unwrap(),
                f.status.as_deref().unwrap(),
                f.expected.as_deref().unwrap(),
            )
        })
        .collect();
    let pip = "toolkit/components/pictureinpicture/tests/";
    assert_eq!(
        tests,
        [
            (&*format!("{pip}browser_fullscreen.js"), "FAIL", "PASS"),
            (&*format!("{pip}browser_fullscreen.js"), "FAIL", "PASS"),
            (&*format!("{pip}browser_videoSelection.js"), "FAIL", "PASS"),
            (&*format!("{pip}browser_videoSelection.js"), "FAIL", "PASS"),
            (&*format!("{pip}browser_videoSelection.js"), "FAIL", "PASS"),
        ]
    );
    assert_eq!(
        mochitest.failures[0].line,
        format!("TEST-UNEXPECTED-FAIL | {pip}browser_fullscreen.js | Uncaught exception - undefined - timed out after 50 tries.")
    );
    assert_eq!(
        mochitest.failing_groups,
        [
            "dom/workers/test/browser.ini",
            "browser/components/preferences/tests/browser.ini",
            &*format!("{pip}browser.ini"),
        ]
    );

    // test_store_error_summary_astral: the characters outside the Basic
    // Multilingual Plane arrive as they were.
    let astral = job(&failed[1]);
    assert_eq!(astral.details_unavailable, None);
    assert_eq!(astral.failures.len(), 1);
    let line = &astral.failures[0];
    assert_eq!(
        line.test.as_deref(),
        Some("toolkit/content/tests/widgets/test_videocontrols_video_direction.html \u{1F346}")
    );
    assert_eq!(line.subtest.as_deref(), Some("Test timed out. \u{10081}"));
    assert_eq!(line.message.as_deref(), Some("\u{F0151}"));
    assert!(astral.failing_groups.is_empty());

    // test_confirm_failure_*: a confirm-failure run with no failure line,
    // its one group ERROR.
    let confirm = job(&failed[2]);
    assert_eq!(confirm.details_unavailable, None);
    assert!(confirm.failures.is_empty());
    assert_eq!(
        confirm.failing_groups,
        ["browser/components/preferences/tests/browser.ini"]
    );
}
