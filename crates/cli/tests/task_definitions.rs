//! `--task-definitions` (feature `fetch`): a 2019 Taskcluster message, which
//! carries no task tags, is placed only once its definition is fetched from
//! the queue, here a local HTTP server standing in for it.
#![cfg(feature = "fetch")]

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use pulse_test_support::{corpus_dir, read_json, DefinitionServer};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_pulse-monitor");
const TASK_ID: &str = "B3EheQ-IQ5aPzw34KS_a6g";

/// Serves `definition` for its task, 404 for anything else, while the
/// test holds the server.
fn serve_definition(definition: Value) -> DefinitionServer {
    let definitions = HashMap::from([(TASK_ID.to_string(), definition.to_string().into_bytes())]);
    DefinitionServer::start(definitions)
}

fn replay(recording: &PathBuf, extra: &[&str]) -> (Vec<Value>, String) {
    let out = Command::new(BIN)
        .args(["replay", "--any-tree", "--talos", "--json"])
        .arg(recording)
        .args(extra)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let records = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    (records, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_message_without_tags_is_placed_from_its_fetched_definition() {
    let Some(corpus) = corpus_dir("taskcluster/treeherder-2019") else {
        return;
    };
    let message = &read_json(&corpus.join("taskcluster_pulse_messages.json"))[TASK_ID];
    let definition = read_json(&corpus.join("taskcluster_tasks.json"))[TASK_ID].clone();
    let recorded = json!({
        "exchange": message["exchange"],
        "routing_key": message["routes"],
        "body": message["payload"],
    });
    let recording =
        std::env::temp_dir().join(format!("task-definitions-{}.jsonl", std::process::id()));
    std::fs::write(&recording, format!("{recorded}\n")).unwrap();

    let (records, stderr) = replay(&recording, &[]);
    assert!(
        records.is_empty(),
        "nothing to place it by without the definition: {records:?}"
    );
    assert!(stderr.contains("errors 1"), "{stderr}");

    let server = serve_definition(definition);
    let root = server.root_url.clone();
    let (records, stderr) = replay(&recording, &["--task-definitions", &root]);
    std::fs::remove_file(&recording).unwrap();
    assert_eq!(records.len(), 1, "{stderr}");
    let record = &records[0];
    assert_eq!(record["task_id"], TASK_ID);
    assert_eq!(record["platform"], "macosx64");
    assert_eq!(record["os"], "macosx1014-64-shippable");
    assert_eq!(record["buildtype"], "opt");
    assert_eq!(record["talos"], true, "raptor is a performance test");
    assert_eq!(record["status"], 0);
    assert!(
        record["logurl"].as_str().unwrap().starts_with(&root),
        "log URLs follow the root URL: {record}"
    );
}
