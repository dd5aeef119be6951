//! What `watch` and `replay` do with each match: a table row or a JSON
//! line on stdout, and optionally a shell command fed the record.

use std::borrow::Cow;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Once};

use pulse_build_monitor::{JobResult, Record, Rejection};
use pulse_build_monitor::{PushEvent, PushSummary};

/// Set by Ctrl-C, SIGTERM or a closed stdout; the main thread polls it and
/// stops the monitor gracefully.
#[derive(Debug, Default)]
pub struct StopFlag(AtomicBool);

impl StopFlag {
    pub fn request(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_requested(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Prints matches; shared by the callback threads.
pub struct Printer {
    json: bool,
    exec: Option<String>,
    stop: Arc<StopFlag>,
    header: Once,
}

/// Column titles and widths of the table; the last column is not padded.
const COLUMNS: [(&str, usize); 8] = [
    ("TIME (UTC)", 16),
    ("KIND", 18),
    ("TREE", 16),
    ("PLATFORM", 10),
    ("TYPE", 5),
    ("TEST/TAGS/LABEL", 40),
    ("RESULT", 10),
    ("REVISION", 0),
];

impl Printer {
    pub fn new(json: bool, exec: Option<String>, stop: Arc<StopFlag>) -> Printer {
        Printer {
            json,
            exec,
            stop,
            header: Once::new(),
        }
    }

    /// Prints one match and runs `--exec` for it. Runs on a callback
    /// thread: a failing command is logged and the monitor goes on.
    pub fn print(&self, record: &Record) {
        let json = json_line(record);
        if self.json {
            self.write_line(&json);
        } else {
            // Once makes any other callback thread wait until the header is out.
            self.header.call_once(|| {
                self.write_line(&row(COLUMNS.map(|(title, _)| title.to_string())));
            });
            self.write_line(&table_row(record));
        }
        if let Some(command) = &self.exec {
            run_command(command, &json, record.key());
        }
    }

    /// Prints one push event (`--pushes`) and runs `--exec` for it, with
    /// the event as JSON on stdin.
    pub fn print_push(&self, event: &PushEvent) {
        let json = serde_json::to_string(event).expect("a push event always serializes");
        let line = if self.json {
            json.clone()
        } else {
            push_line(event.event.as_str(), &event.push)
        };
        self.write_line(&line);
        if let Some(command) = &self.exec {
            let key = format!("push {} {}", event.push.tree, event.push.revision);
            run_command(command, &json, &key);
        }
    }

    /// Prints one push's summary (`replay --pushes`) and runs `--exec` for
    /// it, with the summary as JSON on stdin.
    pub fn print_summary(&self, push: &PushSummary) {
        let json = serde_json::to_string(push).expect("a push always serializes");
        let line = if self.json {
            json.clone()
        } else {
            push_line("summary", push)
        };
        self.write_line(&line);
        if let Some(command) = &self.exec {
            let key = format!("push {} {}", push.tree, push.revision);
            run_command(command, &json, &key);
        }
    }

    /// Writes one whole line under the stdout lock, so lines from several
    /// callback threads never interleave. A closed stdout (`| head`) stops
    /// the monitor instead of failing every later callback.
    fn write_line(&self, line: &str) {
        let mut stdout = std::io::stdout().lock();
        if let Err(e) = writeln!(stdout, "{line}").and_then(|()| stdout.flush()) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                self.stop.request();
            } else {
                log::error!("cannot write to stdout: {e}");
            }
        }
    }
}

/// One push as a line: what happened, which push, who pushed, where it
/// stands, its counts, and what broke first (with its first failure line,
/// when details gave one).
///
/// `finished  autoland  fb6b61e49217  alice@example.org  finished  312 tasks: 300 success, 5 testfailed; first failure test-linux1804-64-qr/debug-mochitest-5 (testfailed): TEST-UNEXPECTED-FAIL | dom/base/test/test_x.html | got 3`
pub fn push_line(what: &str, push: &PushSummary) -> String {
    let counts = &push.counts;
    let by_result: Vec<String> = [
        ("success", counts.success),
        ("testfailed", counts.testfailed),
        ("busted", counts.busted),
        ("exception", counts.exception),
        ("retry", counts.retry),
        ("usercancel", counts.usercancel),
        ("superseded", counts.superseded),
        ("unscheduled", counts.unscheduled),
        ("pending", counts.pending),
        ("running", counts.running),
    ]
    .into_iter()
    .filter(|(_, n)| *n > 0)
    .map(|(name, n)| format!("{n} {name}"))
    .collect();
    let mut line = format!(
        "{what:<13} {:<16} {:<12}  {:<24} {:<8}  {} tasks: {}",
        push.tree,
        push.revision.chars().take(12).collect::<String>(),
        push.author.as_deref().unwrap_or("-"),
        push.state.as_str(),
        counts.tasks,
        if by_result.is_empty() {
            "none finished".to_string()
        } else {
            by_result.join(", ")
        },
    );
    if let Some(first) = push.failed.first() {
        let name = first.label.as_deref().unwrap_or(&first.task_id);
        line.push_str(&format!("; first failure {name} ({})", first.result));
        if let Some(failure) = first.failures.first() {
            line.push_str(": ");
            line.push_str(&shortened(&failure.line, FAILURE_LINE_CHARS));
        }
    }
    line
}

/// How much of a failure line a push line shows: the test and the start
/// of the message; the whole line is in `--json`.
const FAILURE_LINE_CHARS: usize = 160;

/// `text` on one line, cut to `max` characters with an ellipsis.
fn shortened(text: &str, max: usize) -> String {
    let one_line = crate::error::one_line(text);
    match one_line.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

fn row(cells: [String; 8]) -> String {
    let mut line = String::new();
    for (cell, (_, width)) in cells.iter().zip(COLUMNS) {
        if width == 0 {
            line.push_str(cell);
        } else {
            line.push_str(&format!("{cell:<width$}  "));
        }
    }
    line.trim_end().to_string()
}

/// A record as one JSON line: its fields, with `kind` and `result` on
/// every record (buildbot records carry neither on the wire).
pub fn json_line(record: &Record) -> String {
    let mut record = Cow::Borrowed(record);
    if record.job().is_some_and(|job| job.kind.is_none()) {
        let kind = record.kind().to_string();
        let result = record.result();
        let job = record.to_mut().job_mut().expect("a build or test");
        job.kind = Some(kind);
        job.result = result;
    }
    serde_json::to_string(&record).expect("a record always serializes")
}

/// One table row: when, what, where, and how it went.
pub fn table_row(record: &Record) -> String {
    let builddate = match record {
        Record::Task(task) => task.builddate,
        _ => record.job().and_then(|job| job.builddate),
    };
    let time = builddate
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
        .map_or_else(
            || "-".to_string(),
            |t| t.format("%Y-%m-%d %H:%M").to_string(),
        );
    let revision: String = record
        .revision()
        .map_or_else(|| "-".to_string(), |r| r.chars().take(12).collect());
    row([
        time,
        kind(record).to_string(),
        record.tree().to_string(),
        record.platform().unwrap_or("-").to_string(),
        record.buildtype().map_or("-", |b| b.as_str()).to_string(),
        detail(record),
        result_name(record).to_string(),
        revision,
    ])
}

/// The test, the build's tags, or the task's label.
fn detail(record: &Record) -> String {
    match record {
        // Buildbot's untagged builds carry one empty tag, as the reference's did.
        Record::Build(build) => {
            let tags: Vec<&str> = build
                .tags
                .iter()
                .map(String::as_str)
                .filter(|t| !t.is_empty())
                .collect();
            if tags.is_empty() {
                "-".to_string()
            } else {
                tags.join(",")
            }
        }
        Record::Test(test) => test.test.clone(),
        Record::Task(task) => task.label.clone().unwrap_or_else(|| task.kind.clone()),
        Record::Push(push) => format!("push {} by {}", push.push_id, push.author),
        Record::TaskGroup(group) => group.task_group_id.clone(),
        _ => "-".to_string(),
    }
}

/// The result in Treeherder's words; for a task not finished yet, where it
/// stands (`pending`, `running`), so nobody reads it as a result.
fn result_name(record: &Record) -> &str {
    match record {
        Record::Task(task) if !task.state.is_finished() => task.state.as_str(),
        _ => record.result().map_or("-", JobResult::as_str),
    }
}

/// The task kind (`build`, `test`, `source-test`…); talos runs show as
/// `talos`.
pub fn kind(record: &Record) -> &str {
    match record {
        Record::Test(test) if test.talos => "talos",
        _ => record.kind(),
    }
}

/// `--explain`: one stderr line per dropped record.
pub fn explain(record: &Record, rejection: &Rejection) {
    status!(
        "dropped {} {} {} {} {} ({}): {rejection}",
        kind(record),
        record.tree(),
        record.platform().unwrap_or("-"),
        record.buildtype().map_or("-", |b| b.as_str()),
        detail(record),
        record.key()
    );
}

/// Runs `sh -c command` with `json` on its stdin and waits for it; its
/// output goes where ours goes.
fn run_command(command: &str, json: &str, key: &str) {
    let child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => {
            log::error!("--exec: cannot start sh for {key}: {e}");
            return;
        }
    };
    if let Some(mut stdin) = child.stdin.take() {
        // A command that does not read its stdin closes the pipe early:
        // that is its business, not an error.
        let _ = writeln!(stdin, "{json}");
    }
    match child.wait() {
        Ok(status) if status.success() => {}
        Ok(status) => log::error!("--exec {command:?} failed for {key}: {status}"),
        Err(e) => log::error!("--exec {command:?}: waiting for it failed for {key}: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulse_build_monitor::{Counts, FailedTask, PushState, PushSummary};
    use pulse_translator::FailureLine;

    fn push_with_first_failure(failures: Vec<FailureLine>) -> PushSummary {
        let at = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        PushSummary {
            tree: "autoland".into(),
            revision: "fb6b61e49217aaaaaaaaaaaaaaaaaaaaaaaaaaaa".into(),
            push_id: None,
            author: Some("alice@example.org".into()),
            pushed_at: Some(at),
            task_groups: Vec::new(),
            state: PushState::Running,
            result: Some(JobResult::Testfailed),
            counts: Counts::default(),
            failed: vec![FailedTask {
                task_id: "Kz3U1-bnSbmOFom8vKMrfQ".into(),
                run_id: 0,
                label: Some("test-linux1804-64-qr/debug-mochitest-5".into()),
                kind: "test".into(),
                result: JobResult::Testfailed,
                at,
                logurl: None,
                failures,
                details_unavailable: None,
            }],
            first_failure_at: Some(at),
            groups_resolved: 0,
            first_seen: at,
            last_activity: at,
        }
    }

    #[test]
    fn a_push_line_says_what_broke_first_down_to_its_first_failure_line() {
        let line = |text: &str| FailureLine {
            line: text.into(),
            ..FailureLine::default()
        };
        let without = push_line("first-failure", &push_with_first_failure(Vec::new()));
        assert!(
            without
                .ends_with("; first failure test-linux1804-64-qr/debug-mochitest-5 (testfailed)"),
            "{without}"
        );
        let with = push_line(
            "first-failure",
            &push_with_first_failure(vec![
                line("TEST-UNEXPECTED-FAIL | dom/base/test/test_x.html | got 3\nexpected 0"),
                line("TEST-UNEXPECTED-TIMEOUT | dom/base/test/test_y.html"),
            ]),
        );
        assert!(
            with.ends_with(
                "(testfailed): TEST-UNEXPECTED-FAIL | dom/base/test/test_x.html | got 3 expected 0"
            ),
            "{with}"
        );
        let long = "TEST-UNEXPECTED-FAIL | ".to_string() + &"é".repeat(400);
        let cut = push_line("first-failure", &push_with_first_failure(vec![line(&long)]));
        let shown = cut.split("(testfailed): ").nth(1).unwrap();
        assert_eq!(shown.chars().count(), FAILURE_LINE_CHARS + 1, "{cut}");
        assert!(shown.ends_with('…') && !cut.contains('\n'));
    }
}
