//! `watch --pushes` end to end: generated pushes published to the local
//! RabbitMQ, out of order and interleaved, read by the real binary; each
//! push's finished event compared with the generator's own truth; and a
//! monitor killed with SIGKILL mid-push, restarted on the same durable
//! queue and state file.

mod common;

use std::time::{Duration, Instant};

use common::{broker_available, unique, Running, BROKER_URL};
use pulse_synthetic::{Push, PushTruth};
use pulse_test_support::publish_pulse_messages;
use pulse_translator::{exchanges, Message};
use pulse_wire::{ConnectionSettings, Publisher};
use serde_json::Value;

/// A push's messages, made awkward the way real traffic is: some tasks'
/// runs before their `task-defined`, and (`push_message_last`) the hg
/// push message after every task.
fn broker() -> ConnectionSettings {
    ConnectionSettings::from_url(BROKER_URL).unwrap()
}

fn awkward_messages(push: &Push, push_message_last: bool) -> Vec<Message> {
    let mut messages: Vec<Message> = push.messages().into_iter().map(|m| m.message).collect();
    // Every fifth task's definition moves behind its next message.
    let mut index = 0;
    let mut moved = 0;
    while index + 1 < messages.len() {
        if messages[index].exchange == exchanges::TASK_DEFINED && moved % 5 == 0 {
            messages.swap(index, index + 1);
            index += 1;
        }
        if messages[index].exchange == exchanges::TASK_DEFINED {
            moved += 1;
        }
        index += 1;
    }
    if push_message_last {
        let hg = messages.remove(0);
        assert_eq!(hg.exchange, exchanges::HG_PUSHES);
        messages.push(hg);
    }
    messages
}

fn watch_pushes(tree_list: &str, label: &str, state: Option<&str>) -> Running {
    let mut args = vec![
        "watch",
        "--url",
        BROKER_URL,
        "--declare-exchanges",
        "--source",
        "taskcluster",
        "--tree",
        tree_list,
        "--pushes",
        "--json",
        "--no-details",
        // Long enough that a loaded machine pausing between two messages
        // of one push does not finish it early.
        "--quiet-period",
        "3",
        "--label",
        label,
    ];
    if let Some(state) = state {
        args.extend(["--durable", "--state", state]);
    }
    let mut watch = Running::start(&args);
    watch.wait_for_stderr(
        "pulse-monitor: consuming queue/guest/",
        Duration::from_secs(60),
    );
    watch
}

/// Reads push events until `done` says so, or fails after `timeout`.
fn events_until(
    watch: &mut Running,
    timeout: Duration,
    mut done: impl FnMut(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + timeout;
    let mut events = Vec::new();
    while !done(&events) {
        let Ok(line) = watch
            .stdout
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        else {
            let _ = watch.child.kill();
            panic!("no end within {timeout:?}; events so far: {events:#?}");
        };
        events.push(serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line}: {e}")));
    }
    events
}

fn finished<'a>(events: &'a [Value], push: &Push) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["event"] == "finished" && e["push"]["revision"] == push.revision.as_str())
        .collect()
}

fn assert_equals_truth(summary: &Value, truth: &PushTruth, push: &Push) {
    let counts = &summary["counts"];
    let count = |name: &str| {
        counts[name]
            .as_u64()
            .unwrap_or_else(|| panic!("{name}: {summary}")) as u32
    };
    let what = format!("{} {}", push.tree, push.revision);
    assert_eq!(count("tasks"), truth.tasks, "{what}: tasks");
    assert_eq!(count("defined"), truth.tasks, "{what}: defined");
    assert_eq!(count("success"), truth.success, "{what}: success");
    assert_eq!(count("testfailed"), truth.testfailed, "{what}: testfailed");
    assert_eq!(count("busted"), truth.busted, "{what}: busted");
    assert_eq!(count("exception"), truth.exception, "{what}: exception");
    assert_eq!(count("usercancel"), truth.usercancel, "{what}: usercancel");
    assert_eq!(count("reruns"), truth.reruns, "{what}: reruns");
    for unfinished in ["unscheduled", "pending", "running", "retry"] {
        assert_eq!(count(unfinished), 0, "{what}: {unfinished}");
    }
    assert_eq!(summary["author"], push.owner.as_str(), "{what}");
    assert_eq!(summary["push_id"], push.push_id, "{what}");
    assert_eq!(
        summary["failed"].as_array().unwrap().len() as u32,
        truth.failed(),
        "{what}"
    );
}

#[test]
fn interleaved_pushes_on_two_trees_finish_once_with_their_truth() {
    if !broker_available() {
        return;
    }
    let (tree_a, tree_b) = (unique("pushes-a"), unique("pushes-b"));
    let pushes = [
        Push::builder()
            .tree(tree_a.as_str())
            .tasks(250)
            .seed(11)
            .build(),
        Push::builder()
            .tree(tree_b.as_str())
            .tasks(200)
            .seed(12)
            .build(),
        Push::builder()
            .tree(tree_a.as_str())
            .tasks(150)
            .seed(13)
            .build(),
    ];
    // The seeds' groups resolve never (11), twice (12) and once (13).
    let resolutions: Vec<usize> = pushes.iter().map(|p| p.group_resolved_at.len()).collect();
    assert_eq!(
        resolutions,
        [0, 2, 1],
        "a missing and a doubled resolution are covered"
    );
    let label = unique("cli-pushes");
    let mut watch = watch_pushes(&format!("{tree_a},{tree_b}"), &label, None);

    let mut streams: Vec<std::vec::IntoIter<Message>> = pushes
        .iter()
        .enumerate()
        .map(|(i, push)| awkward_messages(push, i == 1).into_iter())
        .collect();
    let mut interleaved = Vec::new();
    while streams.iter().any(|s| s.len() > 0) {
        for stream in &mut streams {
            interleaved.extend(stream.next());
        }
    }
    publish_pulse_messages(&broker(), &interleaved);

    let events = events_until(&mut watch, Duration::from_secs(120), |events| {
        pushes.iter().all(|push| !finished(events, push).is_empty())
    });
    let (rest, stopped) = watch.interrupt_with_output();
    let rest: Vec<Value> = rest
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let all: Vec<Value> = events.into_iter().chain(rest).collect();

    for push in &pushes {
        let truth = push.truth();
        let done = finished(&all, push);
        assert_eq!(
            done.len(),
            1,
            "one finished event for {}: {done:#?}",
            push.revision
        );
        assert_equals_truth(&done[0]["push"], &truth, push);
        // Finished whether its group resolved never, once or twice; two
        // resolutions the queue sends byte for byte alike count once here,
        // as the dedupe window takes the second for a redelivery.
        let resolved = done[0]["push"]["groups_resolved"].as_u64().unwrap() as usize;
        let sent = push.group_resolved_at.len();
        assert!(
            resolved.min(1) == sent.min(1) && resolved <= sent,
            "{resolved} of {sent}"
        );
        let kinds: Vec<&str> = all
            .iter()
            .filter(|e| e["push"]["revision"] == push.revision.as_str())
            .map(|e| e["event"].as_str().unwrap())
            .collect();
        assert_eq!(kinds.first(), Some(&"started"), "{kinds:?}");
        let first_failures = kinds.iter().filter(|k| **k == "first-failure").count();
        assert_eq!(first_failures, usize::from(truth.failed() > 0), "{kinds:?}");
        // Published at once, nothing finishes before its last message.
        assert!(kinds.iter().all(|k| *k != "reopened"), "{kinds:?}");
    }
    let summary = stopped
        .iter()
        .find(|l| l.starts_with("pulse-monitor: stopped: "))
        .unwrap_or_else(|| panic!("{stopped:#?}"));
    assert!(summary.contains("translation errors 0"), "{summary}");
}

#[test]
fn a_monitor_killed_mid_push_resumes_from_its_state_and_durable_queue() {
    if !broker_available() {
        return;
    }
    let tree = unique("pushes-kill");
    let push = Push::builder()
        .tree(tree.as_str())
        .tasks(300)
        .seed(71)
        .build();
    let messages = awkward_messages(&push, false);
    let (first, rest) = messages.split_at(messages.len() / 2);
    let label = unique("cli-pushes-kill");
    let dir = pulse_test_support::TempDir::new("cli-pushes-state");
    let state = dir.join("pushes.sqlite");
    let state = state.to_str().unwrap();

    let mut watch = watch_pushes(&tree, &label, Some(state));
    publish_pulse_messages(&broker(), first);
    // Mid-push: the push has started, and the first half is still being
    // worked through when the process dies.
    events_until(&mut watch, Duration::from_secs(60), |events| {
        events.iter().any(|e| e["event"] == "started")
    });
    watch.child.kill().unwrap();
    watch.child.wait().unwrap();

    publish_pulse_messages(&broker(), rest);
    let mut restarted = watch_pushes(&tree, &label, Some(state));
    let events = events_until(&mut restarted, Duration::from_secs(120), |events| {
        !finished(events, &push).is_empty()
    });
    let (later, _) = restarted.interrupt_with_output();
    let later: Vec<Value> = later
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let all: Vec<Value> = events.into_iter().chain(later).collect();
    let done = finished(&all, &push);
    assert_eq!(done.len(), 1, "{all:#?}");
    assert_equals_truth(&done[0]["push"], &push.truth(), &push);
    // The restarted monitor knew the push from its state file; only a
    // kill between the first batch's callbacks and its write could make
    // it announce the start again.
    let started = all.iter().filter(|e| e["event"] == "started").count();
    assert!(started <= 1, "{all:#?}");

    // The queue was durable: delete it, as a test should.
    let settings = ConnectionSettings::from_url(BROKER_URL).unwrap();
    let mut publisher = Publisher::connect(&settings).unwrap();
    let _ = publisher.delete_queue(&format!("queue/guest/{label}"));
}

/// A generated push written as `synthetic-push` writes it, in a directory
/// removed when dropped.
fn recorded_push(tasks: &str, seed: &str) -> (pulse_test_support::TempDir, String, Push) {
    let out = common::run(&["synthetic-push", tasks, "--seed", seed]);
    assert!(out.status.success(), "{out:?}");
    let dir = pulse_test_support::TempDir::new("cli-pushes-replay");
    let path = dir.join("push.jsonl");
    std::fs::write(&path, &out.stdout).unwrap();
    let push = Push::builder()
        .tasks(tasks.parse().unwrap())
        .seed(seed.parse().unwrap())
        .build();
    (dir, path.to_str().unwrap().to_string(), push)
}

#[test]
fn replay_pushes_prints_each_push_summary_and_exec_gets_it_as_json() {
    let (_dir, file, push) = recorded_push("300", "81");
    let dir = pulse_test_support::TempDir::new("cli-pushes-exec");
    let exec_out = dir.join("exec.jsonl");
    let exec = format!("cat >> {}", exec_out.display());
    let out = common::run(&[
        "replay",
        file.as_str(),
        "--pushes",
        "--any-tree",
        "--json",
        "--exec",
        &exec,
    ]);
    assert!(out.status.success(), "{out:?}");
    let printed = common::lines(&out.stdout);
    assert_eq!(printed.len(), 1, "one push, one summary: {printed:#?}");
    let summary: Value = serde_json::from_str(&printed[0]).unwrap();
    assert_eq!(summary["state"], "finished");
    assert_equals_truth(&summary, &push.truth(), &push);
    let executed = std::fs::read_to_string(&exec_out).unwrap();
    let executed: Vec<Value> = executed
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        executed,
        vec![summary],
        "--exec got the summary as JSON on stdin"
    );

    // The table: one line naming the push, its author and the first failure.
    let out = common::run(&["replay", file.as_str(), "--pushes", "--tree", "autoland"]);
    let printed = common::lines(&out.stdout);
    assert_eq!(printed.len(), 1, "{printed:#?}");
    let line = &printed[0];
    assert!(line.starts_with("summary       autoland "), "{line}");
    assert!(
        line.contains(&push.revision[..12]) && line.contains(&push.owner),
        "{line}"
    );
    assert!(
        line.contains(&format!("{} tasks: ", push.truth().tasks)),
        "{line}"
    );
}

#[test]
fn replay_pushes_applies_the_tree_and_result_rules() {
    let (_dir, file, push) = recorded_push("300", "82");
    let truth = push.truth();
    let worst = if truth.busted > 0 {
        "busted"
    } else if truth.testfailed > 0 {
        "testfailed"
    } else {
        "exception"
    };
    let summaries = |args: &[&str]| {
        let mut all = vec!["replay", file.as_str(), "--pushes", "--json"];
        all.extend_from_slice(args);
        let out = common::run(&all);
        assert!(out.status.success(), "{out:?}");
        common::lines(&out.stdout).len()
    };
    assert_eq!(summaries(&["--tree", "autoland"]), 1);
    assert_eq!(
        summaries(&["--tree", "mozilla-central"]),
        0,
        "another tree's pushes are not tracked"
    );
    assert_eq!(
        summaries(&["--any-tree", "--result", worst]),
        1,
        "its worst result is {worst}"
    );
    assert_eq!(
        summaries(&["--any-tree", "--result", "success"]),
        0,
        "not a green push"
    );
}

#[test]
fn pushes_flags_need_pushes() {
    let out = common::run(&["replay", "x.jsonl", "--state", "s.sqlite"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--pushes"), "{stderr}");
}
