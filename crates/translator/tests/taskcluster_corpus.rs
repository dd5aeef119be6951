//! Taskcluster translation checked against real messages and what
//! Treeherder made of them (`../shared/corpus/taskcluster/`), plus
//! truncated and mutated versions of them, which must never panic.
//!
//! Under `CI=true` a missing corpus fails; elsewhere these tests skip loudly.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, TimeZone, Utc};
use pulse_test_corpus::read_json;
use pulse_translator::taskcluster::{translate, translate_with_definition, TaskDefinition};
use pulse_translator::Options;
use pulse_translator::{
    primary_routing_key, BuildType, Clock, ErrorKind, JobKind, JobResult, Message, Record, Status,
};
use serde_json::Value;

fn corpus_dir(name: &str) -> Option<PathBuf> {
    pulse_test_corpus::corpus_dir(&format!("taskcluster/{name}"))
}

fn fixed_clock() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap()
}

/// The generic platform a Treeherder machine platform belongs to, written
/// out by hand for every platform in the corpus so the expectation does not
/// come from the code under test. A new platform must be added here.
fn generic_family(treeherder_platform: &str) -> &'static str {
    match treeherder_platform {
        "linux32" => "linux",
        "linux64" | "linux64-qr" | "linux64-shippable" | "linux64-shippable-qr" => "linux64",
        "windows7-32" | "windows7-32-shippable" => "win32",
        "windows10-64" | "windows10-64-qr" | "windows10-64-shippable" => "win64",
        "macosx1010-64" | "macosx1014-64" | "macosx1014-64-shippable" => "macosx64",
        "android-em-4-3-armv7-api16"
        | "android-em-7-0-x86_64"
        | "android-hw-p2-8-0-android-aarch64" => "android",
        other => panic!("add Treeherder platform {other:?} to the test's table"),
    }
}

/// Routes as the `CC` header carries them.
fn cc_of(definition: &Value) -> Vec<String> {
    definition["routes"]
        .as_array()
        .map(|routes| {
            routes
                .iter()
                .map(|r| format!("route.{}", r.as_str().unwrap()))
                .collect()
        })
        .unwrap_or_default()
}

fn buildtype_of(collection: &Value) -> Option<BuildType> {
    let keys: Vec<&str> = collection.as_object()?.keys().map(String::as_str).collect();
    match keys.as_slice() {
        ["opt"] | ["asan"] => Some(BuildType::Opt),
        ["debug"] => Some(BuildType::Debug),
        ["pgo"] => Some(BuildType::Pgo),
        _ => None,
    }
}

/// The record type a message became, in Treeherder's job-kind words.
fn kind_of(record: &Record) -> &'static str {
    match record {
        Record::Build(_) => "build",
        Record::Test(_) => "test",
        Record::Task(task) => task.job_kind.as_str(),
        other => panic!("not a task's record: {other:?}"),
    }
}

/// The push a task definition's routes name, read here so that the
/// expectation does not come from the code under test.
struct Push {
    project: String,
    revision: String,
}

/// The first `tc-treeherder.v2.<project>.<revision>[.<pushid>]` route.
fn treeherder_push(definition: &Value) -> Option<Push> {
    definition["routes"].as_array()?.iter().find_map(|route| {
        let rest = route.as_str()?.strip_prefix("tc-treeherder.v2.")?;
        let mut parts = rest.split('.');
        Some(Push {
            project: parts.next()?.to_string(),
            revision: parts.next()?.to_string(),
        })
    })
}

/// A tagged-2020 message: the pulse body and its task definition.
struct Tagged {
    name: String,
    body: Vec<u8>,
    body_json: Value,
    definition_json: Value,
}

fn tagged_corpus() -> Option<Vec<Tagged>> {
    let dir = corpus_dir("tagged-2020")?;
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with("_pulse.json"))
        .collect();
    names.sort();
    Some(
        names
            .into_iter()
            .map(|name| {
                let body = std::fs::read(dir.join(&name)).unwrap();
                let body_json: Value = serde_json::from_slice(&body).unwrap();
                let task_id = body_json["status"]["taskId"].as_str().unwrap();
                let definition_json = read_json(&dir.join(format!("task_{task_id}.json")));
                Tagged {
                    name,
                    body,
                    body_json,
                    definition_json,
                }
            })
            .collect(),
    )
}

#[test]
fn tagged_2020_messages_agree_with_their_task_definitions() {
    let Some(corpus) = tagged_corpus() else {
        return;
    };
    assert_eq!(corpus.len(), 15, "tagged-2020 holds 15 pulse messages");
    let options = Options::default().with_clock(Clock::Fixed(fixed_clock()));
    let (mut builds, mut tests, mut no_route, mut other_kind) = (0, 0, 0, 0);
    let mut tags_agree = 0;
    for tagged in &corpus {
        let name = &tagged.name;
        let cc = cc_of(&tagged.definition_json);
        let key = primary_routing_key(&tagged.body_json);
        let message = Message::new(
            "exchange/taskcluster-queue/v1/task-completed",
            key,
            tagged.body.clone(),
        )
        .with_cc(cc);
        let definition: TaskDefinition =
            serde_json::from_value(tagged.definition_json.clone()).unwrap();
        let with_definition = translate_with_definition(&message, &definition, &options);
        let tags_only = translate(&message, &options);

        let route = treeherder_push(&tagged.definition_json);
        let treeherder = &tagged.definition_json["extra"]["treeherder"];
        let job_kind = treeherder["jobKind"].as_str();
        let Some(route) = route else {
            let err = with_definition.unwrap_err();
            assert!(
                matches!(err.kind(), ErrorKind::MissingTreeherderRoute { .. }),
                "{name}: {err}"
            );
            assert_eq!(tags_only.unwrap_err(), err, "{name}");
            no_route += 1;
            continue;
        };
        let tag_kind = tagged.body_json["task"]["tags"]["kind"].as_str();
        if job_kind == Some("other") {
            // Treeherder shows it as "other": neither a build nor a test.
            let Ok(Record::Task(task)) = &with_definition else {
                panic!("{name}: {with_definition:?}");
            };
            assert_eq!(task.job_kind, JobKind::Other, "{name}");
            assert_eq!(Some(task.kind.as_str()), tag_kind, "{name}");
            assert_eq!(task.tree, route.project, "{name}");
            assert_eq!(task.result, JobResult::Success, "{name}");
            let Ok(Record::Task(from_tags)) = &tags_only else {
                panic!("{name}: {tags_only:?}");
            };
            let mut from_tags = from_tags.clone();
            from_tags.tier = task.tier;
            assert_eq!(&from_tags, task, "{name}: the tags alone say the same");
            other_kind += 1;
            continue;
        }

        let record = with_definition.unwrap_or_else(|e| panic!("{name}: {e}"));
        let job = record.job().unwrap_or_else(|| panic!("{name}: {record:?}"));
        assert_eq!(job.tree, route.project, "{name}");
        assert_eq!(Some(record.kind()), tag_kind, "{name}");
        assert_eq!(record.result(), Some(JobResult::Success), "{name}");
        assert_eq!(
            job.revision.as_deref(),
            Some(route.revision.as_str()),
            "{name}"
        );
        assert_eq!(
            Some(job.buildtype),
            buildtype_of(&treeherder["collection"]),
            "{name}"
        );
        assert_eq!(Some(kind_of(&record)), job_kind, "{name}");
        let machine = treeherder["machine"]["platform"].as_str().unwrap();
        assert_eq!(job.platform, generic_family(machine), "{name}");
        assert_eq!(
            job.tier.map(u64::from),
            treeherder["tier"].as_u64(),
            "{name}"
        );
        assert_eq!(
            job.status,
            Some(Status::Success),
            "{name}: every run here completed"
        );
        let run_id = tagged.body_json["runId"].as_u64().unwrap();
        let task_id = tagged.body_json["status"]["taskId"].as_str().unwrap();
        assert_eq!(job.run_id.map(u64::from), Some(run_id), "{name}");
        assert_eq!(
            job.logurl.as_deref(),
            Some(format!("https://firefox-ci-tc.services.mozilla.com/api/queue/v1/task/{task_id}/runs/{run_id}/artifacts/public/logs/live_backing.log").as_str()),
            "{name}"
        );
        assert_eq!(
            job.buildername.as_deref(),
            tagged.body_json["task"]["tags"]["label"].as_str(),
            "{name}"
        );
        if let Record::Test(test) = &record {
            let test_type = tagged.body_json["task"]["tags"]["test-type"].as_str();
            if matches!(test_type, Some("talos" | "raptor")) {
                assert!(test.talos, "{name}: {test_type:?} is a performance test");
            }
            assert!(!test.test.is_empty(), "{name}");
        }
        match kind_of(&record) {
            "build" => builds += 1,
            _ => tests += 1,
        }

        // The tags alone say the same, except what only the definition
        // knows (the tier): the kind table places partials and signing
        // tasks as the definitions' jobKind does.
        let mut from_tags = tags_only.unwrap_or_else(|e| panic!("{name}: {e}"));
        from_tags.job_mut().expect("a build or test").tier = job.tier;
        assert_eq!(from_tags, record, "{name}");
        tags_agree += 1;
    }
    assert_eq!((builds, tests, no_route, other_kind), (3, 9, 2, 1));
    assert_eq!(tags_agree, 12);
}

/// Treeherder's result names as buildbot result codes.
fn result_code(result: &str) -> Option<i64> {
    match result {
        "unknown" => None,
        "success" => Some(0),
        "testfailed" | "busted" => Some(2),
        "exception" => Some(4),
        "retry" => Some(5),
        "usercancel" | "superseded" => Some(6),
        other => panic!("add Treeherder result {other:?} to the test's table"),
    }
}

#[test]
fn treeherder_2019_messages_agree_with_treeherders_jobs() {
    let Some(dir) = corpus_dir("treeherder-2019") else {
        return;
    };
    let messages = read_json(&dir.join("taskcluster_pulse_messages.json"));
    let tasks = read_json(&dir.join("taskcluster_tasks.json"));
    let jobs = read_json(&dir.join("taskcluster_transformed_jobs.json"));
    let messages = messages.as_object().unwrap();
    assert_eq!(messages.len(), 91);

    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for (task_id, entry) in messages {
        let body = serde_json::to_vec(&entry["payload"]).unwrap();
        let options = Options::default()
            .with_root_url(entry["root_url"].as_str().unwrap())
            .with_clock(Clock::Fixed(fixed_clock()));
        let message = Message::new(
            entry["exchange"].as_str().unwrap(),
            entry["routes"].as_str().unwrap(),
            body,
        );
        let definition_json = &tasks[task_id];
        let definition: TaskDefinition = serde_json::from_value(definition_json.clone()).unwrap();
        let expected = &jobs[task_id];
        let job_expected = &expected["job"];

        // The primary routing key names no push: the definition is needed.
        let err = translate(&message, &options).unwrap_err();
        assert_eq!(
            err.kind(),
            &ErrorKind::MissingTreeherderRoute {
                task_id: task_id.clone()
            },
            "{task_id}"
        );

        let record = translate_with_definition(&message, &definition, &options)
            .unwrap_or_else(|e| panic!("{task_id}: {e}"));
        let treeherder_result = job_expected["result"].as_str().unwrap();
        assert_eq!(
            record.result().map(JobResult::as_str),
            Some(treeherder_result),
            "{task_id}: the result Treeherder derived"
        );
        // Treeherder reads a definition without a jobKind as "other".
        assert_eq!(
            kind_of(&record),
            definition_json["extra"]["treeherder"]["jobKind"]
                .as_str()
                .unwrap_or("other"),
            "{task_id}"
        );
        if let Record::Task(task) = &record {
            assert_eq!(
                task.revision.as_ref(),
                expected["revision"].as_str().map(String::from).as_ref(),
                "{task_id}"
            );
            assert_eq!(
                task.status.map(Status::code),
                result_code(treeherder_result),
                "{task_id}"
            );
            assert_eq!(
                task.tier.map(u64::from),
                job_expected["tier"].as_u64(),
                "{task_id}"
            );
            if definition_json["tags"]["kind"] == "action-callback" {
                assert_eq!(task.kind, "action-callback", "{task_id}");
                assert_eq!(
                    task.label.as_deref(),
                    Some("Action: Retrigger"),
                    "{task_id}"
                );
                *counts.entry("action").or_default() += 1;
            } else {
                // Pending and running builds and tests are not finished
                // jobs: they never become build or test records.
                assert!(!task.state.is_finished(), "{task_id}: {task:?}");
                assert_eq!(treeherder_result, "unknown", "{task_id}");
                assert_eq!(
                    Some(task.kind.as_str()),
                    definition_json["tags"]["kind"].as_str(),
                    "{task_id}"
                );
                let machine = job_expected["machine_platform"]["platform"]
                    .as_str()
                    .unwrap();
                assert_eq!(
                    task.platform.as_deref(),
                    Some(generic_family(machine)),
                    "{task_id}"
                );
                assert_eq!(
                    task.buildtype,
                    buildtype_of(&job_expected["option_collection"]),
                    "{task_id}"
                );
                *counts.entry("unfinished").or_default() += 1;
            }
            continue;
        }
        let job = record.job().expect("a build or test");
        assert_eq!(
            job.revision.as_ref(),
            expected["revision"].as_str().map(String::from).as_ref(),
            "{task_id}"
        );
        let machine = job_expected["machine_platform"]["platform"]
            .as_str()
            .unwrap();
        assert_eq!(job.platform, generic_family(machine), "{task_id}");
        assert_eq!(
            Some(job.buildtype),
            buildtype_of(&job_expected["option_collection"]),
            "{task_id}"
        );
        assert_eq!(
            job.tier.map(u64::from),
            job_expected["tier"].as_u64(),
            "{task_id}"
        );
        assert_eq!(
            job.task_id.as_deref(),
            job_expected["taskcluster_task_id"].as_str()
        );
        assert_eq!(
            job.run_id.map(u64::from),
            job_expected["taskcluster_retry_id"].as_u64(),
            "{task_id}"
        );
        assert_eq!(
            job.buildername.as_deref(),
            job_expected["name"].as_str(),
            "{task_id}"
        );

        assert_eq!(
            job.status.map(Status::code),
            result_code(treeherder_result),
            "{task_id}"
        );
        if treeherder_result != "unknown" {
            *counts.entry("with result").or_default() += 1;
            assert_eq!(
                job.builddate,
                job_expected["end_timestamp"].as_i64(),
                "{task_id}: a finished run's builddate is its end"
            );
            let log = job_expected["log_references"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["name"] == "live_backing_log")
                .and_then(|l| l["url"].as_str());
            assert_eq!(job.logurl.as_deref(), log, "{task_id}");
        }
        *counts.entry(kind_of(&record)).or_default() += 1;
    }
    let expected: BTreeMap<&str, usize> = [
        ("action", 8),
        ("build", 1),
        ("test", 12),
        ("unfinished", 70),
        ("with result", 13),
    ]
    .into();
    assert_eq!(counts, expected);
}

/// Every message of both corpora as (exchange, routing key, CC, body, definition).
fn all_messages() -> Vec<(String, String, Vec<String>, Value, Value)> {
    let mut all = Vec::new();
    if let Some(corpus) = tagged_corpus() {
        for tagged in corpus {
            all.push((
                "exchange/taskcluster-queue/v1/task-completed".to_string(),
                primary_routing_key(&tagged.body_json),
                cc_of(&tagged.definition_json),
                tagged.body_json,
                tagged.definition_json,
            ));
        }
    }
    if let Some(dir) = corpus_dir("treeherder-2019") {
        let messages = read_json(&dir.join("taskcluster_pulse_messages.json"));
        let tasks = read_json(&dir.join("taskcluster_tasks.json"));
        for (task_id, entry) in messages.as_object().unwrap() {
            let definition = tasks[task_id].clone();
            all.push((
                entry["exchange"].as_str().unwrap().to_string(),
                entry["routes"].as_str().unwrap().to_string(),
                cc_of(&definition),
                entry["payload"].clone(),
                definition,
            ));
        }
    }
    all
}

fn exercise(exchange: &str, key: &str, cc: &[String], body: &[u8], definition: &TaskDefinition) {
    let options = Options::default().with_clock(Clock::Fixed(fixed_clock()));
    let message = Message::new(exchange, key, body).with_cc(cc.to_vec());
    // Results do not matter here, only that every input comes back.
    let _ = translate(&message, &options);
    let _ = translate_with_definition(&message, definition, &options);
}

/// Values a mutation puts in place of a JSON node.
fn replacements() -> Vec<Value> {
    serde_json::from_str(
        r#"[null, true, -1, 4294967296, 1.5, "", "x", "test-/opt-", "tc-treeherder.v2..", [], {}, [null], {"runId": 0}]"#,
    )
    .unwrap()
}

/// Every variant of `value` with one node replaced or removed.
fn mutations(value: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    for replacement in replacements() {
        out.push(replacement);
    }
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let mut removed = map.clone();
                removed.remove(key);
                out.push(Value::Object(removed));
                for mutated in mutations(child) {
                    let mut changed = map.clone();
                    changed.insert(key.clone(), mutated);
                    out.push(Value::Object(changed));
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let mut removed = items.clone();
                removed.remove(i);
                out.push(Value::Array(removed));
                for mutated in mutations(child) {
                    let mut changed = items.clone();
                    changed[i] = mutated;
                    out.push(Value::Array(changed));
                }
            }
        }
        Value::String(s) => {
            out.push(Value::String(s.chars().rev().collect()));
            out.push(Value::String(s.replace('-', ".").replace('/', "")));
        }
        _ => {}
    }
    out
}

/// The parts of a definition the translator reads; mutating the rest
/// (payloads, scopes) would only cost time.
fn parts_read(definition: &Value) -> Value {
    let mut parts = serde_json::Map::new();
    for key in ["metadata", "routes", "tags"] {
        if let Some(value) = definition.get(key) {
            parts.insert(key.to_string(), value.clone());
        }
    }
    let mut extra = serde_json::Map::new();
    for key in ["treeherder", "suite", "chunks"] {
        if let Some(value) = definition["extra"].get(key) {
            extra.insert(key.to_string(), value.clone());
        }
    }
    parts.insert("extra".to_string(), Value::Object(extra));
    Value::Object(parts)
}

#[test]
fn truncated_and_mutated_messages_never_panic() {
    let all = all_messages();
    if all.is_empty() {
        return;
    }
    assert_eq!(all.len(), 15 + 91);
    let mut inputs = 0usize;
    for (exchange, key, cc, body, definition_json) in &all {
        let definition: TaskDefinition = serde_json::from_value(definition_json.clone()).unwrap();
        let bytes = serde_json::to_vec(body).unwrap();
        // Truncations, at every 7th byte and the last 16.
        for end in (0..bytes.len())
            .step_by(7)
            .chain(bytes.len().saturating_sub(16)..bytes.len())
        {
            exercise(exchange, key, cc, &bytes[..end], &definition);
            inputs += 1;
        }
        // Byte flips, spread over the body.
        let mut state = 0x9e37_79b9_u32;
        for _ in 0..64 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let mut flipped = bytes.clone();
            let at = state as usize % flipped.len();
            flipped[at] ^= (state >> 8) as u8 | 1;
            exercise(exchange, key, cc, &flipped, &definition);
            inputs += 1;
        }
        // Structural mutations of the body, each against the real definition.
        for mutated in mutations(body) {
            exercise(
                exchange,
                key,
                cc,
                &serde_json::to_vec(&mutated).unwrap(),
                &definition,
            );
            inputs += 1;
        }
        // Mutated definitions (those that still deserialize) against the real body.
        for mutated in mutations(&parts_read(definition_json)) {
            if let Ok(mutated) = TaskDefinition::from_json(&serde_json::to_vec(&mutated).unwrap()) {
                exercise(exchange, key, cc, &bytes, &mutated);
                inputs += 1;
            }
        }
        // Routes cut short and exchanges renamed.
        for route in cc {
            for end in 0..route.len() {
                if route.is_char_boundary(end) {
                    let cut = vec![route[..end].to_string()];
                    exercise(
                        exchange,
                        &route[..end],
                        &cut,
                        &bytes,
                        &TaskDefinition::default(),
                    );
                    inputs += 1;
                }
            }
        }
        exercise(
            "exchange/taskcluster-queue/v1/task-defined",
            key,
            cc,
            &bytes,
            &definition,
        );
    }
    eprintln!("{inputs} mutated inputs translated without a panic");
    assert!(inputs > 10_000, "only {inputs} inputs");
}
