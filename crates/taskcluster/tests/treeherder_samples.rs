//! Treeherder's own errorsummary samples (vendored unchanged in
//! `tools/test-support/samples/treeherder`) give the failure lines and
//! failing groups Treeherder gives them (issue #21, item 3).
//!
//! The expectations are written out here from Treeherder's tests
//! (`tests/log_parser/test_store_failure_lines.py`,
//! `tests/log_parser/test_get_group_results_extended.py`, at commit
//! dc3080dd) and, where those only count, from what its parser
//! (`treeherder/log_parser/failureline.py`) stores for each line: every
//! `test_result`, `test_status`, `test_end`, `log` and `crash` line
//! becomes a failure line with the line's own `test`, `subtest`, `status`,
//! `expected` and `message`, and every `group_result` a group status (`OK`
//! or `ERROR`). Our reader keeps only the unexpected results; every result
//! line in these samples is unexpected (`FAIL` or `TIMEOUT` where `PASS`
//! was expected, no known intermittent), so the counts are the same.
//!
//! Two differences of representation, not of what is a failure:
//! an empty `message` (`""`) is `None` here where Treeherder stores `""`
//! (neither shows a message), and `group` is kept on each failure here
//! where Treeherder keeps groups only through `group_result` lines.

use std::collections::BTreeSet;

use pulse_taskcluster::errorsummary::{read, Failure, FailureKind, Limits, Summary};
use pulse_taskcluster::Queue;
use pulse_test_support::{
    treeherder_sample, treeherder_samples_dir, QueueServer, Reply, TREEHERDER_SAMPLES,
};

/// One failure as compared: test, subtest, status, expected, message, group.
type Line = (
    &'static str,
    Option<&'static str>,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
);

/// What Treeherder's tests and parser say of one sample.
struct Expected {
    name: &'static str,
    /// Its size in Treeherder's tree (`git ls-tree -l`): the copy is
    /// byte for byte, line endings included.
    bytes: usize,
    /// Its JSON lines, every one read (none garbled).
    lines: usize,
    /// Its failure lines, in file order.
    failures: Vec<Line>,
    /// Its `group_result` lines with status `ERROR`, in file order.
    failing_groups: Vec<&'static str>,
}

const PIP: &str = "toolkit/components/pictureinpicture/tests/browser.ini";
const PIP_FULLSCREEN: &str = "toolkit/components/pictureinpicture/tests/browser_fullscreen.js";
const PIP_VIDEO: &str = "toolkit/components/pictureinpicture/tests/browser_videoSelection.js";
const POPUPS: &str = "browser/base/content/test/popups/browser.ini";
const POPUPS_FULLSCREEN: &str = "browser/base/content/test/popups/browser_fullscreen.js";
const POPUPS_VIDEO: &str = "browser/base/content/test/popups/browser_videoSelection.js";
const PREFERENCES: &str = "browser/components/preferences/tests/browser.ini";
const WORKERS: &str = "dom/workers/test/browser.ini";
const REJECTION: &str = "A promise chain failed to handle a rejection: Video is being cloned visually. - timed out after 50 tries. - stack: (No stack available.)\nRejection date: Thu Oct 08 2020 20:47:46 GMT+0000 (Coordinated Universal Time) - false == true";
const REJECTION_STACK: &str = "JS frame :: resource://testing-common/PromiseTestUtils.jsm :: assertNoUncaughtRejections :: line 265\nStack trace:\nresource://testing-common/PromiseTestUtils.jsm:assertNoUncaughtRejections:265\nchrome://mochikit/content/browser-test.js:nextTest:615\nchrome://mochikit/content/browser-test.js:timeoutFn:1195";
const VIDEO_DIRECTION: &str =
    "toolkit/content/tests/widgets/test_videocontrols_video_direction.html";
const DEBUGGER: &str = "devtools/client/debugger/new/test/mochitest/browser.ini";

/// A mochitest's unexpected `FAIL` where `PASS` was expected.
fn fail(
    test: &'static str,
    subtest: &'static str,
    message: Option<&'static str>,
    group: &'static str,
) -> Line {
    (test, Some(subtest), "FAIL", "PASS", message, Some(group))
}

fn expectations() -> Vec<Expected> {
    // The plain-chunked samples' one line: a subtest timed out, no message.
    let timed_out = fail(VIDEO_DIRECTION, "Test timed out.", None, DEBUGGER);
    vec![
        // test_store_error_summary_group_status and
        // test_group_status_duration: 5 failure lines; 3 ERROR groups
        // (the first dom/workers/test/browser.ini) and 26 OK, 29 in all.
        Expected {
            name: "mochitest-browser-chrome_errorsummary.log",
            bytes: 7778,
            lines: 35,
            failures: vec![
                fail(PIP_FULLSCREEN, "Uncaught exception", Some("undefined - timed out after 50 tries."), PIP),
                fail(PIP_FULLSCREEN, "Found an unexpected tab at the end of test run: http://example.com/browser/toolkit/components/pictureinpicture/tests/test-page.html", None, PIP),
                fail(PIP_VIDEO, "Test timed out", None, PIP),
                fail(PIP_VIDEO, REJECTION, Some(REJECTION_STACK), PIP),
                fail(PIP_VIDEO, "Found a tab after previous test timed out: http://example.com/browser/toolkit/components/pictureinpicture/tests/test-video-selection.html", None, PIP),
            ],
            failing_groups: vec![WORKERS, PREFERENCES, PIP],
        },
        // test_retrigger_intermittent, test_multiple_jobs_intermittent
        // (the retrigger failing elsewhere): its 5 result lines are 5
        // failure lines; 2 of its 29 groups are ERROR.
        Expected {
            name: "mochitest-browser-chrome_2_errorsummary.log",
            bytes: 7651,
            lines: 35,
            failures: vec![
                fail(POPUPS_FULLSCREEN, "Uncaught exception", Some("undefined - timed out after 50 tries."), POPUPS),
                fail(POPUPS_FULLSCREEN, "Found an unexpected tab at the end of test run: http://example.com/browser/base/content/test/popups/test-page.html", None, POPUPS),
                fail(POPUPS_VIDEO, "Test timed out", None, POPUPS),
                fail(POPUPS_VIDEO, REJECTION, Some(REJECTION_STACK), POPUPS),
                fail(POPUPS_VIDEO, "Found a tab after previous test timed out: http://example.com/browser/base/content/test/popups/test-video-selection.html", None, POPUPS),
            ],
            failing_groups: vec![POPUPS, "accessible/tests/browser/tree/browser.ini"],
        },
        // test_infra_no_intermittent, test_infra_intermittent: one failure
        // line (the harness timed out), outside any group, and no group
        // result at all.
        Expected {
            name: "mochitest-browser-chrome_infra_errorsummary.log",
            bytes: 1772,
            lines: 2,
            failures: vec![(
                "automation.py",
                None,
                "TIMEOUT",
                "PASS",
                Some("application timed out after 370 seconds with no output"),
                None,
            )],
            failing_groups: vec![],
        },
        // test_infra_intermittent, test_multiple_jobs_intermittent,
        // test_reclassify_infra_intermittent: the passing run, 29 OK groups.
        Expected {
            name: "mochitest-browser-chrome_pass_errorsummary.log",
            bytes: 5341,
            lines: 30,
            failures: vec![],
            failing_groups: vec![],
        },
        // test_confirm_failure_*: each confirm-failure run reruns one
        // group; the failing ones have it ERROR and no failure line.
        Expected {
            name: "mochitest-browser-chrome_cf1_errorsummary.log",
            bytes: 240,
            lines: 2,
            failures: vec![],
            failing_groups: vec![PREFERENCES],
        },
        Expected {
            name: "mochitest-browser-chrome_cf1_pass_errorsummary.log",
            bytes: 237,
            lines: 2,
            failures: vec![],
            failing_groups: vec![],
        },
        Expected {
            name: "mochitest-browser-chrome_cf2_errorsummary.log",
            bytes: 250,
            lines: 2,
            failures: vec![],
            failing_groups: vec![PIP],
        },
        Expected {
            name: "mochitest-browser-chrome_cf2_pass_errorsummary.log",
            bytes: 247,
            lines: 2,
            failures: vec![],
            failing_groups: vec![],
        },
        Expected {
            name: "mochitest-browser-chrome_cf3_errorsummary.log",
            bytes: 200,
            lines: 2,
            failures: vec![],
            failing_groups: vec![WORKERS],
        },
        Expected {
            name: "mochitest-browser-chrome_cf3_pass_errorsummary.log",
            bytes: 197,
            lines: 2,
            failures: vec![],
            failing_groups: vec![],
        },
        // test_store_error_summary (and _default_group): 1 failure line.
        Expected {
            name: "plain-chunked_errorsummary.log",
            bytes: 1515,
            lines: 1,
            failures: vec![timed_out],
            failing_groups: vec![],
        },
        // Uncut (Treeherder cuts at 150 lines): its 10 result lines, the
        // same timeout each. test_store_error_summary_truncated cuts it at
        // 5: see the_ten_line_sample_cut_at_five.
        Expected {
            name: "plain-chunked_errorsummary_10_lines.log",
            bytes: 15121,
            lines: 10,
            failures: vec![timed_out; 10],
            failing_groups: vec![],
        },
        // test_store_error_summary_astral: 1 failure line, characters
        // outside the Basic Multilingual Plane kept: U+1F346 (eggplant) in
        // the test, U+10081 (Linear B ideogram) in the subtest, U+F0151 (a
        // private-use character) as the whole message.
        Expected {
            name: "plain-chunked_errorsummary_astral.log",
            bytes: 1532,
            lines: 1,
            failures: vec![fail(
                "toolkit/content/tests/widgets/test_videocontrols_video_direction.html \u{1F346}",
                "Test timed out. \u{10081}",
                Some("\u{F0151}"),
                DEBUGGER,
            )],
            failing_groups: vec![],
        },
        // test_get_group_results_with_colon: its 5 groups are all OK, with
        // two names holding a colon; no failure line. (The names come out
        // whole: see groups_turned_error_come_out_whole.)
        Expected {
            name: "xpcshell-errorsummary-with-colon.log",
            bytes: 1281,
            lines: 6,
            failures: vec![],
            failing_groups: vec![],
        },
    ]
}

fn compared(
    failure: &Failure,
) -> (
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
) {
    assert_eq!(failure.kind, FailureKind::TestResult, "{failure:?}");
    (
        failure.test.clone().unwrap_or_default(),
        failure.subtest.clone(),
        failure.status.clone().unwrap_or_default(),
        failure.expected.clone().unwrap_or_default(),
        failure.message.clone(),
        failure.group.clone(),
    )
}

fn owned(
    line: &Line,
) -> (
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
) {
    (
        line.0.to_string(),
        line.1.map(str::to_string),
        line.2.to_string(),
        line.3.to_string(),
        line.4.map(str::to_string),
        line.5.map(str::to_string),
    )
}

/// `summary` is what Treeherder says of the sample, uncut.
fn check(expected: &Expected, summary: &Summary) {
    let name = expected.name;
    let got: Vec<_> = summary.failures.iter().map(compared).collect();
    let want: Vec<_> = expected.failures.iter().map(owned).collect();
    assert_eq!(got, want, "{name}: failure lines");
    assert_eq!(
        summary.failing_groups, expected.failing_groups,
        "{name}: failing groups"
    );
    assert_eq!(
        (summary.read, summary.garbled, summary.too_long),
        (expected.lines, 0, 0),
        "{name}: every line read"
    );
    assert_eq!(
        (summary.more_failures, summary.more_failing_groups),
        (0, 0),
        "{name}"
    );
    assert!(!summary.truncated, "{name}: the writer cut nothing");
    assert_eq!(summary.unusable(), None, "{name}");
}

#[test]
fn every_sample_is_here_unchanged_and_expected() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(treeherder_samples_dir())
        .expect("the samples directory")
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".log"))
        .collect();
    let listed: BTreeSet<String> = TREEHERDER_SAMPLES.iter().map(|s| s.to_string()).collect();
    let expected: BTreeSet<String> = expectations().iter().map(|e| e.name.to_string()).collect();
    assert_eq!(listed.len(), 14);
    assert_eq!(
        on_disk, listed,
        "the directory holds the listed samples, no more, no less"
    );
    assert_eq!(expected, listed, "each sample has its expectations");
    for e in expectations() {
        assert_eq!(
            treeherder_sample(e.name).len(),
            e.bytes,
            "{}: as in Treeherder",
            e.name
        );
    }
}

#[test]
fn each_sample_gives_treeherders_failure_lines_and_failing_groups() {
    for expected in expectations() {
        check(
            &expected,
            &read(&treeherder_sample(expected.name), &Limits::default()),
        );
    }
}

#[test]
fn the_ten_line_sample_cut_at_five() {
    // test_store_error_summary_truncated: with FAILURE_LINES_CUTOFF = 5,
    // Treeherder stores 5 failure lines and a sixth marked `truncated`.
    // With a cap of 5 we keep the same 5 and count the 5 cut.
    let summary = read(
        &treeherder_sample("plain-chunked_errorsummary_10_lines.log"),
        &Limits::default().with_max_failures(5),
    );
    assert_eq!((summary.failures.len(), summary.more_failures), (5, 5));
    assert!(summary.failures.iter().all(|f| {
        f.test.as_deref() == Some(VIDEO_DIRECTION)
            && f.subtest.as_deref() == Some("Test timed out.")
            && f.status.as_deref() == Some("FAIL")
    }));
    // `truncated` is the writer's own marker: this file has none.
    assert!(!summary.truncated);
}

#[test]
fn the_astral_sample_as_a_log_shows_it() {
    // test_store_error_summary_astral keeps the characters; so does the
    // line we print.
    let summary = read(
        &treeherder_sample("plain-chunked_errorsummary_astral.log"),
        &Limits::default(),
    );
    assert_eq!(
        summary.failures[0].line(),
        "TEST-UNEXPECTED-FAIL | toolkit/content/tests/widgets/test_videocontrols_video_direction.html \u{1F346} | Test timed out. \u{10081} - \u{F0151}"
    );
}

#[test]
fn groups_turned_error_come_out_whole() {
    // test_get_group_results_only_error_status turns every group of
    // mochitest-browser-chrome_errorsummary.log ERROR: all 29 fail. Done
    // here to the colon sample too: test_get_group_results_with_colon
    // wants its names whole, not split at the colon.
    let all_error = |name: &str| {
        let text = String::from_utf8(treeherder_sample(name)).unwrap();
        read(
            text.replace(r#""status": "OK""#, r#""status": "ERROR""#)
                .as_bytes(),
            &Limits::default(),
        )
    };
    let mochitest = all_error("mochitest-browser-chrome_errorsummary.log");
    assert_eq!(mochitest.failing_groups.len(), 29);
    assert_eq!(mochitest.failing_groups[0], "dom/base/test/browser.ini");
    assert_eq!(
        mochitest.failures.len(),
        5,
        "the failure lines are unchanged"
    );
    assert_eq!(
        all_error("xpcshell-errorsummary-with-colon.log").failing_groups,
        [
            "toolkit/components/extensions/test/xpcshell/xpcshell-e10s.ini:toolkit/components/extensions/test/xpcshell/xpcshell-content.ini",
            "toolkit/components/places/tests/unit/xpcshell.ini",
            "toolkit/components/extensions/test/xpcshell/xpcshell-e10s.ini:toolkit/components/extensions/test/xpcshell/xpcshell-common-e10s.ini",
            "toolkit/components/normandy/test/unit/xpcshell.ini",
            "docshell/test/unit/xpcshell.ini",
        ]
    );
}

#[test]
fn served_by_the_local_queue_they_read_the_same() {
    // Each sample as a run's errorsummary artifact, half of them gzipped
    // as the queue's storage serves logs; fetched with the client.
    const TASK: &str = "Cd8bq3YfS6ifUeBcwnmuPg";
    let path = |run: usize| {
        format!("/api/queue/v1/task/{TASK}/runs/{run}/artifacts/public/test_info/mochitest-browser-chrome_errorsummary.log")
    };
    let expectations = expectations();
    let server = QueueServer::start(expectations.iter().enumerate().map(|(run, e)| {
        let bytes = treeherder_sample(e.name);
        let reply = if run % 2 == 0 {
            Reply::Gzip(bytes)
        } else {
            Reply::Bytes(bytes)
        };
        (path(run), reply)
    }));
    let queue = Queue::new(&server.root_url).unwrap();
    for (run, expected) in expectations.iter().enumerate() {
        let bytes = queue
            .artifact(
                TASK,
                run as u32,
                "public/test_info/mochitest-browser-chrome_errorsummary.log",
            )
            .unwrap_or_else(|e| panic!("{}: {e}", expected.name));
        check(expected, &read(&bytes, &Limits::default()));
        assert_eq!(server.requests_to(&path(run)), 1);
    }
}
