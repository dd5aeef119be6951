//! The `kinds`, `any_kind` and `results` rules, on records of every type.

use pulse_filter::{ErrorKind, Filter, FilterSpec, Rule};
use pulse_translator::{BuildRecord, JobInfo, JobResult, Record, TaskRecord, TestRecord};
use serde_json::json;

fn task(kind: &str, result: &str, platform: Option<&str>) -> Record {
    Record::Task(
        serde_json::from_value::<TaskRecord>(json!({
            "kind": kind, "job_kind": "other", "label": format!("{kind}-x"),
            "tree": "autoland", "revision": "0123456789ab", "platform": platform,
            "buildtype": platform.map(|_| "opt"), "state": "failed", "result": result,
            "status": 2, "task_id": "T", "run_id": 0, "worker_type": null,
            "worker_id": null, "logurl": null, "builddate": null, "key": "k"
        }))
        .unwrap(),
    )
}

fn job(tree: &str, status: i64) -> JobInfo {
    let mut job: JobInfo = serde_json::from_value(json!({
        "key": "k", "tree": tree, "platform": "linux64", "buildtype": "opt",
        "product": "firefox", "revision": null, "builddate": null, "buildername": null,
        "buildid": null, "job_number": null, "build_number": null, "previous_buildid": null,
        "status": status, "locale": null, "buildurl": null, "testsurl": null,
        "test_packages_url": null, "symbols_url": null, "logurl": null, "release": null,
        "slave": null, "repack": null, "version": null
    }))
    .unwrap();
    job.tree = tree.into();
    job
}

fn buildbot_build(status: i64) -> Record {
    Record::Build(BuildRecord {
        job: job("autoland", status),
        tags: vec![],
    })
}

fn buildbot_test(status: i64) -> Record {
    Record::Test(TestRecord {
        job: job("autoland", status),
        os: "ubuntu64_vm".into(),
        test: "mochitest-1".into(),
        talos: false,
    })
}

#[test]
fn builds_and_tests_by_default_other_kinds_on_request() {
    let lint = task("source-test", "testfailed", None);
    let build = buildbot_build(0);
    let any_tree = Filter::builder().any_tree().build().unwrap();
    assert!(any_tree.matches(&build));
    assert!(any_tree.matches(&buildbot_test(0)));
    let why = any_tree.explain(&lint).unwrap_err();
    assert_eq!(why.rule(), Rule::Kinds);
    assert_eq!(why.value(), "source-test");
    assert!(why.to_string().contains("--any-kind"), "{why}");
    assert!(!any_tree.keeps_other_kinds());

    let lint_only = Filter::builder()
        .any_tree()
        .kinds(["source-test"])
        .build()
        .unwrap();
    assert!(lint_only.matches(&lint));
    assert!(!lint_only.matches(&build), "a buildbot build is kind build");
    assert!(!lint_only.matches(&task("toolchain", "busted", None)));
    assert!(lint_only.keeps_other_kinds());

    let builds = Filter::builder()
        .any_tree()
        .kinds(["build"])
        .build()
        .unwrap();
    assert!(builds.matches(&build));
    assert!(!builds.matches(&buildbot_test(0)));
    assert!(!builds.keeps_other_kinds());

    let everything = Filter::builder().any_tree().any_kind().build().unwrap();
    for record in [&lint, &build, &buildbot_test(2)] {
        assert!(everything.matches(record), "{record:?}");
    }
}

#[test]
fn tree_platform_and_buildtype_rules_apply_to_tasks() {
    let placed = task("spidermonkey-x", "busted", Some("linux64"));
    let unplaced = task("docker-image", "busted", None);
    let base = || Filter::builder().any_kind();
    assert!(!base().build().unwrap().matches(&placed), "default tree");
    assert!(base().trees(["autoland"]).build().unwrap().matches(&placed));
    let linux = base().any_tree().platforms(["linux64"]).build().unwrap();
    assert!(linux.matches(&placed));
    let why = linux.explain(&unplaced).unwrap_err();
    assert_eq!((why.rule(), why.value()), (Rule::Platforms, "none"));
    let opt = base().any_tree().buildtypes(["opt"]).build().unwrap();
    assert!(opt.matches(&placed));
    assert!(!opt.matches(&unplaced));
}

#[test]
fn results_in_treeherders_words_in_both_eras() {
    let broke = Filter::builder()
        .any_tree()
        .any_kind()
        .results(["testfailed", "busted", "exception"])
        .build()
        .unwrap();
    assert!(broke.matches(&task("source-test", "testfailed", None)));
    assert!(broke.matches(&task("toolchain", "busted", None)));
    assert!(!broke.matches(&task("toolchain", "success", None)));
    assert!(!broke.matches(&task("test", "usercancel", None)));
    // Buildbot codes read as Treeherder read them: 2 busted, 1 testfailed.
    assert!(broke.matches(&buildbot_build(2)));
    assert!(broke.matches(&buildbot_test(1)));
    let why = broke.explain(&buildbot_build(0)).unwrap_err();
    assert_eq!((why.rule(), why.value()), (Rule::Results, "success"));
    assert_eq!(buildbot_build(5).result(), Some(JobResult::Retry));
}

#[test]
fn bad_kind_and_result_rules_are_typed_errors() {
    let err = Filter::builder().results(["broken"]).build().unwrap_err();
    assert_eq!(
        err.kind(),
        &ErrorKind::UnknownResult {
            result: "broken".into()
        }
    );
    assert!(err.to_string().contains("\"broken\""), "{err}");
    let spec = FilterSpec::from_json_str(r#"{"kinds": ["test"], "any_kind": true}"#).unwrap();
    let err = Filter::from_spec(&spec).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::AnyKindWithKinds { .. }),
        "{err}"
    );
    let err = Filter::builder()
        .kinds(Vec::<String>::new())
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::EmptyList { field: "kinds" });
}

#[test]
fn kind_and_result_rules_round_trip_through_json() {
    let mut spec = FilterSpec::default();
    spec.add_kinds_str("source-test, toolchain");
    spec.add_results_str("testfailed,busted");
    let filter = Filter::from_spec(&spec).unwrap();
    let again = FilterSpec::from_json_str(&filter.to_spec().to_json_string()).unwrap();
    assert_eq!(Filter::from_spec(&again).unwrap(), filter);
    assert_eq!(again.kinds.unwrap(), ["source-test", "toolchain"]);
    assert_eq!(again.results.unwrap(), ["busted", "testfailed"]);
}
