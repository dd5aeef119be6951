//! What the Taskcluster queue's API answers about a generated push: each
//! resolved run's artifact list, each test's task definition, and each
//! failed test run's errorsummary, so record details (build URLs, failure
//! lines) can be tried offline against a local server ([`Push::queue_api`]),
//! with the failures each run holds as the tests' truth
//! ([`Push::failures`]).
//!
//! Names follow Firefox CI (taskgraph's `build` and test transforms,
//! mozharness): a build uploads `public/build/target.<package>` (a
//! `.tar.xz` on Linux, `.dmg` on macOS, `.zip` and `.installer.exe` on
//! Windows, `.apk` on Android), `target.test_packages.json`,
//! `target.common.tests.tar.zst` and `target.crashreporter-symbols.zip`; a
//! test finds its installer through `MOZ_FETCHES` naming its build task;
//! a test harness writes `public/test_info/<suite>_errorsummary.log`, one
//! JSON object a line (`test_result` with `status` and `expected`,
//! `group_result`).

use serde_json::{json, Value};

use crate::{JobKind, Outcome, Push, SyntheticTask};

/// One answer of the queue's API.
#[derive(Clone, Debug, PartialEq)]
pub enum ApiAnswer {
    /// A JSON document (an artifact list, a task definition).
    Json(Value),
    /// An artifact's bytes.
    Bytes(Vec<u8>),
}

/// One unexpected result a generated failed test run reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntheticFailure {
    /// The test's path.
    pub test: String,
    /// Its subtest, for some.
    pub subtest: Option<String>,
    /// `FAIL` or `TIMEOUT`.
    pub status: &'static str,
    /// `PASS`.
    pub expected: &'static str,
    /// The assertion's message.
    pub message: String,
    /// The manifest the test is in.
    pub group: String,
}

impl Push {
    /// Every path the queue's API answers for this push (as
    /// `/api/queue/v1/…`, with nothing before it), with its answer: the
    /// artifact list of every resolved run, the definition of every test
    /// task, and the errorsummary of every failed test run.
    pub fn queue_api(&self) -> Vec<(String, ApiAnswer)> {
        let mut answers = vec![(
            format!("/api/queue/v1/task-group/{}/list", self.task_group_id()),
            ApiAnswer::Json(self.task_group_listing()),
        )];
        for task in &self.tasks {
            if task.job_kind == JobKind::Test {
                answers.push((
                    format!("/api/queue/v1/task/{}", task.task_id),
                    ApiAnswer::Json(self.test_definition(task)),
                ));
            }
            for run in &task.runs {
                let mut names = vec!["public/logs/live_backing.log".to_string()];
                names.extend(build_artifacts(task));
                // Lint and other source tests write no errorsummary.
                if task.job_kind == JobKind::Test
                    && task.kind != "source-test"
                    && run.outcome == Outcome::Failed
                {
                    let name = errorsummary_name(task);
                    answers.push((
                        format!(
                            "/api/queue/v1/task/{}/runs/{}/artifacts/{name}",
                            task.task_id, run.run_id
                        ),
                        ApiAnswer::Bytes(errorsummary(&self.failures(task))),
                    ));
                    names.push(name);
                }
                let artifacts: Vec<Value> = names
                    .iter()
                    .map(|name| {
                        json!({
                            "storageType": "s3",
                            "name": name,
                            "expires": "2027-01-01T00:00:00.000Z",
                            "contentType": "application/octet-stream",
                        })
                    })
                    .collect();
                answers.push((
                    format!(
                        "/api/queue/v1/task/{}/runs/{}/artifacts",
                        task.task_id, run.run_id
                    ),
                    ApiAnswer::Json(json!({ "artifacts": artifacts })),
                ));
            }
        }
        answers
    }

    /// The unexpected results a failed test task's runs report: one to
    /// three, named from its task id (the same every time).
    pub fn failures(&self, task: &SyntheticTask) -> Vec<SyntheticFailure> {
        let seed = task
            .task_id
            .bytes()
            .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
        let suite = suite_of(task);
        let group = format!("{suite}/manifest-{}.toml", seed % 7);
        (0..1 + seed % 3)
            .map(|i| SyntheticFailure {
                test: format!("{suite}/test_{}_{i}.html", seed % 1000),
                subtest: (i == 1).then(|| format!("subtest {}", seed % 13)),
                status: if (seed >> 8) % 5 == 0 {
                    "TIMEOUT"
                } else {
                    "FAIL"
                },
                expected: "PASS",
                message: format!("assertion {i} failed: got {} expected {}", seed % 97, i),
                group: group.clone(),
            })
            .collect()
    }

    /// `listTaskGroup` once every task resolved: each task's status with
    /// all its runs, and its definition's tags and routes (one page).
    fn task_group_listing(&self) -> Value {
        let tasks: Vec<Value> = self
            .tasks
            .iter()
            .map(|task| {
                json!({
                    "status": crate::message::final_status(self, task),
                    "task": {
                        "taskGroupId": self.task_group_id(),
                        "schedulerId": task.scheduler_id,
                        "routes": task.routes,
                        "tags": task.tags,
                        "metadata": {"name": task.label},
                    },
                })
            })
            .collect();
        json!({"taskGroupId": self.task_group_id(), "tasks": tasks})
    }

    /// A test's definition as the queue serves it: what the record's build
    /// comes from (`MOZ_FETCHES` naming its build task).
    fn test_definition(&self, task: &SyntheticTask) -> Value {
        let build = task.dependencies.iter().find_map(|id| {
            self.tasks
                .iter()
                .find(|t| t.task_id == *id && t.job_kind == JobKind::Build)
        });
        let fetches: Vec<Value> = build
            .and_then(|build| {
                let installer = build_artifacts(build).into_iter().next()?;
                Some(json!({"artifact": installer, "task": build.task_id, "extract": true}))
            })
            .into_iter()
            .collect();
        json!({
            "taskGroupId": self.task_group_id(),
            "schedulerId": task.scheduler_id,
            "dependencies": task.dependencies,
            "routes": task.routes,
            "tags": task.tags,
            "metadata": {"name": task.label},
            "payload": {"env": {
                "MOZ_FETCHES": serde_json::to_string(&fetches).expect("JSON always serializes"),
            }},
        })
    }
}

/// What a build task uploads, its installer first; nothing for other tasks.
fn build_artifacts(task: &SyntheticTask) -> Vec<String> {
    if task.kind != "build" {
        return Vec::new();
    }
    let platform = task.platform.as_deref().unwrap_or_default();
    let packages: &[&str] = if platform.starts_with("android") {
        &["target.apk"]
    } else if platform.starts_with("macosx") {
        &["target.dmg"]
    } else if platform.starts_with("win") {
        &["target.zip", "target.installer.exe"]
    } else {
        &["target.tar.xz"]
    };
    packages
        .iter()
        .chain(&[
            "target.test_packages.json",
            "target.common.tests.tar.zst",
            "target.crashreporter-symbols.zip",
        ])
        .map(|name| format!("public/build/{name}"))
        .collect()
}

/// The suite a test's label names after its platform and build type
/// (`test-linux2404-64/opt-mochitest-plain-3` → `mochitest-plain-3`).
fn suite_of(task: &SyntheticTask) -> String {
    task.label
        .split_once('/')
        .and_then(|(_, rest)| rest.split_once('-'))
        .map_or_else(|| task.kind.clone(), |(_, suite)| suite.to_string())
}

fn errorsummary_name(task: &SyntheticTask) -> String {
    format!("public/test_info/{}_errorsummary.log", suite_of(task))
}

/// An errorsummary as a harness writes it: the failures' test results,
/// then their group's result.
fn errorsummary(failures: &[SyntheticFailure]) -> Vec<u8> {
    let mut lines: Vec<Value> = failures
        .iter()
        .map(|f| {
            json!({
                "action": "test_result",
                "test": f.test,
                "subtest": f.subtest,
                "status": f.status,
                "expected": f.expected,
                "message": f.message,
                "group": f.group,
                "known_intermittent": [],
            })
        })
        .collect();
    if let Some(first) = failures.first() {
        lines.push(json!({"action": "group_result", "group": first.group, "status": "ERROR", "duration": 1234}));
    }
    let mut out = Vec::new();
    for line in lines {
        out.extend_from_slice(line.to_string().as_bytes());
        out.push(b'\n');
    }
    out
}
