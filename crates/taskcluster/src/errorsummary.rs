//! What failed in a test run, from its errorsummary artifacts
//! (`public/test_info/<suite>_errorsummary.log`, [`is_errorsummary`]), read
//! as Treeherder reads them. No I/O: the caller downloads the artifact with
//! [`crate::Queue::artifact`] and hands the bytes to [`read`].
//!
//! The file is JSON lines written by mozlog's errorsummary formatter. What
//! counts:
//!
//! - `test_result` (and the raw `test_status`/`test_end`): a failure when
//!   it has an `expected` status, its `status` differs, and `status` is not
//!   among its `known_intermittent`. (mozlog drops `expected` from results
//!   that were expected, so a line without one passed.)
//! - `crash`: always a failure, with its `signature`.
//! - `log` at level `ERROR` or `CRITICAL`: a failure without a test.
//! - `group_result` with status `ERROR`, `FAIL` or `TIMEOUT`: a failing
//!   group (manifest).
//!
//! Other actions (`test_groups`, `truncated`…) are read and ignored; lines
//! that are not JSON objects with an `action` are skipped and counted.
//!
//! Treeherder stores every result, `log` and `crash` line it is given as a
//! failure line, and counts its cut-off in lines of the file; this module
//! keeps only the failures above and caps failures alone. On Treeherder's
//! own sample errorsummaries, whose result lines are all unexpected, both
//! give the same failure lines and failing groups
//! (`tests/treeherder_samples.rs`).

use serde::Deserialize;
use serde_json::Value;

/// Caps on what one errorsummary can cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Most failures, and most failing groups, kept; the rest are counted
    /// (default 150, Treeherder's cut-off for failure lines).
    pub max_failures: usize,
    /// Lines longer than this (bytes) are skipped and counted (default
    /// 64 KiB: a crash line with its stack fits).
    pub max_line_bytes: usize,
    /// Longer messages, tests and subtests are cut to this many
    /// characters, ending in `…` (default 1000).
    pub max_field_chars: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_failures: 150,
            max_line_bytes: 64 << 10,
            max_field_chars: 1000,
        }
    }
}

impl Limits {
    /// These limits with `max_failures` changed.
    #[must_use]
    pub fn with_max_failures(mut self, n: usize) -> Limits {
        self.max_failures = n;
        self
    }

    /// These limits with `max_line_bytes` changed.
    #[must_use]
    pub fn with_max_line_bytes(mut self, n: usize) -> Limits {
        self.max_line_bytes = n;
        self
    }

    /// These limits with `max_field_chars` changed.
    #[must_use]
    pub fn with_max_field_chars(mut self, n: usize) -> Limits {
        self.max_field_chars = n;
        self
    }
}

/// Which line a [`Failure`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureKind {
    /// An unexpected test or subtest result.
    TestResult,
    /// A crash.
    Crash,
    /// An error logged by the harness.
    Log,
}

/// One failure line.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Failure {
    /// Which line it came from.
    pub kind: FailureKind,
    /// The test (path or URL); `None` for a logged error.
    pub test: Option<String>,
    /// The subtest, for a subtest's result.
    pub subtest: Option<String>,
    /// `FAIL`, `TIMEOUT`, `CRASH`…; for a crash `CRASH`, for a log its level.
    pub status: Option<String>,
    /// What was expected (`PASS`, `OK`…), for a test result.
    pub expected: Option<String>,
    /// The message.
    pub message: Option<String>,
    /// A crash's signature.
    pub signature: Option<String>,
    /// The test's group (manifest), when the line names one.
    pub group: Option<String>,
}

impl Failure {
    /// The line as a TBPL log and Treeherder show it:
    /// `TEST-UNEXPECTED-FAIL | test | subtest - message`,
    /// `PROCESS-CRASH | signature | test`, or `ERROR - message`.
    pub fn line(&self) -> String {
        let field = |f: &Option<String>| f.clone().unwrap_or_default();
        match self.kind {
            FailureKind::TestResult => {
                let mut line = format!(
                    "TEST-UNEXPECTED-{} | {}",
                    field(&self.status),
                    field(&self.test)
                );
                if let Some(subtest) = &self.subtest {
                    line.push_str(" | ");
                    line.push_str(subtest);
                }
                match &self.message {
                    Some(message) if !message.is_empty() => {
                        line.push_str(" - ");
                        line.push_str(message);
                    }
                    _ => {
                        line.push_str(" - expected ");
                        line.push_str(&field(&self.expected));
                    }
                }
                line
            }
            FailureKind::Crash => format!(
                "PROCESS-CRASH | {} | {}",
                field(&self.signature),
                field(&self.test)
            ),
            FailureKind::Log => format!("{} - {}", field(&self.status), field(&self.message)),
        }
    }
}

/// What an errorsummary says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Summary {
    /// The failures, in file order, at most [`Limits::max_failures`].
    pub failures: Vec<Failure>,
    /// Failures past the cap, counted.
    pub more_failures: usize,
    /// Failing groups (manifests), in file order, each once, at most
    /// [`Limits::max_failures`].
    pub failing_groups: Vec<String>,
    /// Failing groups past the cap, counted.
    pub more_failing_groups: usize,
    /// Lines read as errorsummary lines (whatever their action).
    pub read: usize,
    /// Lines skipped: not UTF-8, not a JSON object, or without an `action`.
    pub garbled: usize,
    /// Lines skipped for being over [`Limits::max_line_bytes`].
    pub too_long: usize,
    /// Whether the writer said it cut the file short (a `truncated` line).
    pub truncated: bool,
    /// How many errorsummary files this summary reads: 1 from [`read`],
    /// the sum after [`Summary::merge`], 0 for a run that uploaded none.
    pub files: usize,
}

impl Summary {
    /// Why nothing could be learnt, when nothing could: no errorsummary, an
    /// empty one, or one whose every line was skipped. `None` when at least one line was
    /// read (a summary without failures is an answer too: the task failed
    /// for another reason).
    pub fn unusable(&self) -> Option<String> {
        if self.files == 0 {
            return Some("the run uploaded no errorsummary".to_string());
        }
        if self.read > 0 {
            return None;
        }
        match (self.garbled, self.too_long) {
            (0, 0) => Some("the errorsummary is empty".to_string()),
            (garbled, 0) => Some(format!(
                "none of the errorsummary's {garbled} lines is an errorsummary line"
            )),
            (garbled, too_long) => Some(format!(
                "none of the errorsummary's {} lines could be read ({too_long} over the length cap)",
                garbled + too_long
            )),
        }
    }

    /// Folds `other` (another errorsummary of the same run) into this one,
    /// keeping the caps.
    pub fn merge(&mut self, other: Summary, limits: &Limits) {
        for failure in other.failures {
            self.add_failure(failure, limits);
        }
        self.more_failures += other.more_failures;
        for group in other.failing_groups {
            self.add_group(group, limits);
        }
        self.more_failing_groups += other.more_failing_groups;
        self.read += other.read;
        self.garbled += other.garbled;
        self.too_long += other.too_long;
        self.truncated |= other.truncated;
        self.files += other.files;
    }

    fn add_failure(&mut self, failure: Failure, limits: &Limits) {
        if self.failures.len() < limits.max_failures {
            self.failures.push(failure);
        } else {
            self.more_failures += 1;
        }
    }

    fn add_group(&mut self, group: String, limits: &Limits) {
        if self.failing_groups.contains(&group) {
            return;
        }
        if self.failing_groups.len() < limits.max_failures {
            self.failing_groups.push(group);
        } else {
            self.more_failing_groups += 1;
        }
    }
}

/// Whether an artifact is an errorsummary: `public/test_info/…_errorsummary.log`
/// (Treeherder takes any log whose name ends so).
pub fn is_errorsummary(artifact_name: &str) -> bool {
    artifact_name.ends_with("_errorsummary.log")
}

/// Reads an errorsummary (JSON lines), within `limits`.
///
/// ```
/// use pulse_taskcluster::errorsummary::{read, Limits};
///
/// let log = br#"{"action": "test_groups", "groups": ["dom/tests/mochitest.ini"], "line": 0}
/// {"action": "test_result", "test": "dom/tests/test_a.html", "subtest": "loads", "status": "FAIL", "expected": "PASS", "message": "got 1, expected 2", "known_intermittent": [], "line": 7}
/// {"action": "group_result", "group": "dom/tests/mochitest.ini", "status": "ERROR", "duration": 1200, "line": 9}
/// "#;
/// let summary = read(log, &Limits::default());
/// assert_eq!(summary.failing_groups, ["dom/tests/mochitest.ini"]);
/// assert_eq!(
///     summary.failures[0].line(),
///     "TEST-UNEXPECTED-FAIL | dom/tests/test_a.html | loads - got 1, expected 2"
/// );
/// ```
pub fn read(bytes: &[u8], limits: &Limits) -> Summary {
    let mut summary = Summary {
        files: 1,
        ..Summary::default()
    };
    for line in bytes.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if line.len() > limits.max_line_bytes {
            summary.too_long += 1;
            continue;
        }
        let Ok(entry) = serde_json::from_slice::<Line>(line) else {
            summary.garbled += 1;
            continue;
        };
        summary.read += 1;
        read_line(entry, limits, &mut summary);
    }
    summary
}

/// The fields Treeherder keeps of a line; everything else is ignored.
#[derive(Deserialize)]
struct Line {
    action: String,
    #[serde(default)]
    test: Option<Value>,
    #[serde(default)]
    subtest: Option<Value>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    expected: Option<String>,
    #[serde(default)]
    known_intermittent: Option<Vec<String>>,
    #[serde(default)]
    message: Option<Value>,
    #[serde(default)]
    signature: Option<Value>,
    #[serde(default)]
    level: Option<String>,
    #[serde(default)]
    group: Option<Value>,
}

fn read_line(line: Line, limits: &Limits, summary: &mut Summary) {
    let cut = |value: Option<Value>| text(value, limits.max_field_chars);
    let failure = match line.action.as_str() {
        "test_result" | "test_status" | "test_end" => {
            let Some(expected) = line.expected else {
                return;
            };
            let status = line.status.unwrap_or_default();
            let known = line.known_intermittent.unwrap_or_default();
            if status == expected || known.contains(&status) {
                return;
            }
            Failure {
                kind: FailureKind::TestResult,
                test: cut(line.test),
                subtest: cut(line.subtest),
                status: Some(status),
                expected: Some(expected),
                message: cut(line.message),
                signature: None,
                group: cut(line.group),
            }
        }
        "crash" => Failure {
            kind: FailureKind::Crash,
            test: cut(line.test),
            subtest: None,
            status: Some("CRASH".to_string()),
            expected: None,
            message: cut(line.message),
            signature: cut(line.signature),
            group: cut(line.group),
        },
        "log" => {
            let level = line.level.unwrap_or_default().to_ascii_uppercase();
            if !matches!(level.as_str(), "ERROR" | "CRITICAL") {
                return;
            }
            Failure {
                kind: FailureKind::Log,
                test: cut(line.test),
                subtest: None,
                status: Some(level),
                expected: None,
                message: cut(line.message),
                signature: None,
                group: cut(line.group),
            }
        }
        "group_result" => {
            let failing = matches!(line.status.as_deref(), Some("ERROR" | "FAIL" | "TIMEOUT"));
            if let (true, Some(group)) = (failing, cut(line.group)) {
                summary.add_group(group, limits);
            }
            return;
        }
        "truncated" => {
            summary.truncated = true;
            return;
        }
        _ => return,
    };
    summary.add_failure(failure, limits);
}

/// A field as text: strings as they are, other JSON (a number, a list) as
/// JSON; empty and null are `None`. Cut to `max` characters.
fn text(value: Option<Value>, max: usize) -> Option<String> {
    let text = match value? {
        Value::Null => return None,
        Value::String(s) => s,
        other => other.to_string(),
    };
    if text.is_empty() {
        return None;
    }
    if text.chars().count() <= max {
        return Some(text);
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    Some(cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/../../fixtures/taskcluster-api/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn a_failing_browser_chrome_run() {
        let summary = read(
            &fixture("browser-chrome_errorsummary.log"),
            &Limits::default(),
        );
        let lines: Vec<String> = summary.failures.iter().map(Failure::line).collect();
        assert_eq!(
            lines,
            [
                "TEST-UNEXPECTED-FAIL | browser/base/content/test/tabs/browser_tab_close.js | Uncaught exception - TypeError: tab is null",
                "TEST-UNEXPECTED-TIMEOUT | browser/base/content/test/tabs/browser_tab_move.js | Test timed out - expected PASS",
                "PROCESS-CRASH | mozilla::dom::Element::GetAttr | browser/base/content/test/tabs/browser_tab_crash.js",
                "ERROR - Shutdown hang: leaked 2 windows",
            ]
        );
        let crash = &summary.failures[2];
        assert_eq!(
            crash.signature.as_deref(),
            Some("mozilla::dom::Element::GetAttr")
        );
        assert_eq!(
            crash.group.as_deref(),
            Some("browser/base/content/test/tabs/browser.toml")
        );
        assert_eq!(
            summary.failing_groups,
            [
                "browser/base/content/test/tabs/browser.toml",
                "dom/base/test/browser.toml"
            ]
        );
        assert_eq!(
            (summary.read, summary.garbled, summary.too_long),
            (12, 0, 0)
        );
        assert_eq!(summary.unusable(), None);
    }

    #[test]
    fn expected_and_known_intermittent_results_are_not_failures() {
        let summary = read(
            &fixture("intermittent_errorsummary.log"),
            &Limits::default(),
        );
        assert_eq!(summary.failures, []);
        assert_eq!(summary.failing_groups, Vec::<String>::new());
        assert_eq!(summary.read, 6);
        assert_eq!(
            summary.unusable(),
            None,
            "a summary without failures is an answer"
        );
    }

    #[test]
    fn an_infra_failure_outside_any_group() {
        let summary = read(&fixture("infra_errorsummary.log"), &Limits::default());
        assert_eq!(summary.failures.len(), 1);
        let failure = &summary.failures[0];
        assert_eq!(failure.test.as_deref(), Some("automation.py"));
        assert_eq!(failure.group, None, "an empty group is none");
        assert_eq!(
            failure.line(),
            "TEST-UNEXPECTED-TIMEOUT | automation.py - application timed out after 370 seconds with no output"
        );
        assert_eq!(summary.failing_groups, Vec::<String>::new());
    }

    #[test]
    fn garbled_lines_are_skipped_and_counted() {
        let summary = read(&fixture("garbled_errorsummary.log"), &Limits::default());
        assert_eq!(summary.garbled, 4, "{summary:?}");
        assert_eq!(summary.failures.len(), 1);
        assert_eq!(
            summary.failures[0].test.as_deref(),
            Some("xpcshell/test_ok_after_garbage.js")
        );
        assert_eq!(summary.unusable(), None);

        let nothing = read(
            b"not json\n[1, 2]\n{\"no\": \"action\"}\n\xff\xfe\n",
            &Limits::default(),
        );
        assert_eq!(nothing.garbled, 4);
        assert_eq!(
            nothing.unusable().as_deref(),
            Some("none of the errorsummary's 4 lines is an errorsummary line")
        );
        assert_eq!(
            read(b"\n\r\n  \n", &Limits::default())
                .unusable()
                .as_deref(),
            Some("the errorsummary is empty")
        );
    }

    #[test]
    fn caps_on_count_and_length() {
        let line = |n: usize| {
            format!(
                r#"{{"action":"test_result","test":"t{n}.js","status":"FAIL","expected":"PASS","message":"{}","group":"g{}.ini"}}"#,
                "x".repeat(n),
                n % 3
            )
        };
        let log: String = (1..=10).map(|n| line(n) + "\n").collect();
        let limits = Limits::default()
            .with_max_failures(4)
            .with_max_field_chars(3);
        let mut with_groups = log.clone();
        for g in 0..6 {
            with_groups.push_str(&format!(
                "{{\"action\":\"group_result\",\"group\":\"g{g}.ini\",\"status\":\"ERROR\"}}\n"
            ));
        }
        let summary = read(with_groups.as_bytes(), &limits);
        assert_eq!((summary.failures.len(), summary.more_failures), (4, 6));
        assert_eq!(
            (summary.failing_groups.len(), summary.more_failing_groups),
            (4, 2)
        );
        assert_eq!(summary.failures[2].message.as_deref(), Some("xxx"));
        assert_eq!(
            summary.failures[3].message.as_deref(),
            Some("xx…"),
            "cut to 3 characters"
        );

        let short = Limits::default().with_max_line_bytes(line(3).len());
        let summary = read(log.as_bytes(), &short);
        assert_eq!((summary.failures.len(), summary.too_long), (3, 7));

        let all_long = read(
            line(50).as_bytes(),
            &Limits::default().with_max_line_bytes(10),
        );
        assert_eq!(
            all_long.unusable().as_deref(),
            Some("none of the errorsummary's 1 lines could be read (1 over the length cap)")
        );
    }

    #[test]
    fn merging_keeps_the_caps_and_groups_once() {
        let limits = Limits::default().with_max_failures(2);
        let one = read(&fixture("browser-chrome_errorsummary.log"), &limits);
        let mut all = one.clone();
        all.merge(one, &limits);
        assert_eq!((all.failures.len(), all.more_failures), (2, 6));
        assert_eq!(all.failing_groups.len(), 2);
        assert_eq!((all.read, all.files), (24, 2));
        assert_eq!(
            Summary::default().unusable().as_deref(),
            Some("the run uploaded no errorsummary")
        );
    }

    #[test]
    fn errorsummary_names() {
        assert!(is_errorsummary(
            "public/test_info/xpcshell_errorsummary.log"
        ));
        assert!(is_errorsummary(
            "public/test_info/mochitest-browser-chrome_errorsummary.log"
        ));
        assert!(!is_errorsummary("public/logs/live_backing.log"));
        assert!(!is_errorsummary("public/test_info/errorsummary.json"));
    }
}
