//! The broker bindings each source asks for, without a broker.

use pulse_build_monitor::{Filter, Source};

#[test]
fn the_default_filter_binds_mozilla_central_only() {
    let filter = Filter::default();
    let normalized = Source::Normalized.bindings(&filter);
    assert_eq!(
        normalized,
        [
            (
                "exchange/build/normalized",
                "build.mozilla-central.*.#".to_string()
            ),
            (
                "exchange/build/normalized",
                "unittest.mozilla-central.*.#".to_string()
            ),
        ]
    );
    let taskcluster = Source::Taskcluster { progress: false }.bindings(&filter);
    let exchanges: Vec<&str> = taskcluster.iter().map(|(e, _)| *e).collect();
    assert_eq!(
        exchanges,
        [
            "exchange/taskcluster-queue/v1/task-completed",
            "exchange/taskcluster-queue/v1/task-failed",
            "exchange/taskcluster-queue/v1/task-exception",
        ],
        "without progress, the resolutions only"
    );
    for (_, pattern) in &taskcluster {
        assert_eq!(pattern, "route.tc-treeherder.v2.mozilla-central.#");
    }
}

#[test]
fn any_tree_binds_every_tree_and_named_trees_bind_each() {
    let any = Filter::builder().any_tree().talos(true).build().unwrap();
    let patterns: Vec<String> = Source::Normalized
        .bindings(&any)
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    assert_eq!(patterns, ["build.*.*.#", "unittest.*.*.#", "talos.*.*.#"]);
    let taskcluster = Source::Taskcluster { progress: true }.bindings(&any);
    assert_eq!(taskcluster.len(), 5);
    assert!(taskcluster
        .iter()
        .all(|(_, p)| p == "route.tc-treeherder.#"));

    let two = Filter::builder()
        .trees(["mozilla-central", "try"])
        .platforms(["linux64"])
        .build()
        .unwrap();
    let patterns: Vec<String> = Source::Normalized
        .bindings(&two)
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    assert_eq!(
        patterns,
        [
            "build.mozilla-central.linux64.#",
            "build.try.linux64.#",
            "unittest.mozilla-central.linux64.#",
            "unittest.try.linux64.#",
        ]
    );
    assert_eq!(
        Source::Buildbot.bindings(&two),
        [("exchange/build/", "#".to_string())]
    );
}
