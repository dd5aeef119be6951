//! The tracker against generated pushes, whose truth the generator counts
//! itself: in order, shuffled, twice over, and across a reopened state file.

use std::time::Duration;

use chrono::{DateTime, Utc};
use pulse_push::{Counts, PushEvent, PushEventKind, PushState, PushTracker, TrackerConfig};
use pulse_synthetic::{Push, PushTruth};
use pulse_translator::{translate, Message, Options, Record};

fn records(messages: &[Message]) -> Vec<Record> {
    let options = Options::default();
    messages
        .iter()
        .flat_map(|m| translate(m, &options).unwrap_or_else(|e| panic!("{}: {e}", m.routing_key)))
        .collect()
}

fn generated(tree: &str, seed: u64, tasks: usize) -> (Push, Vec<Message>) {
    let push = Push::builder().tree(tree).tasks(tasks).seed(seed).build();
    let messages = push.messages().into_iter().map(|m| m.message).collect();
    (push, messages)
}

/// The counts a finished push must show, from the generator's truth.
fn assert_counts_equal_truth(counts: &Counts, truth: &PushTruth, what: &str) {
    assert_eq!(counts.tasks, truth.tasks, "{what}: tasks");
    assert_eq!(
        counts.defined, truth.tasks,
        "{what}: every task was defined"
    );
    assert_eq!(counts.success, truth.success, "{what}: success");
    assert_eq!(counts.testfailed, truth.testfailed, "{what}: testfailed");
    assert_eq!(counts.busted, truth.busted, "{what}: busted");
    assert_eq!(counts.exception, truth.exception, "{what}: exception");
    assert_eq!(counts.usercancel, truth.usercancel, "{what}: usercancel");
    assert_eq!(counts.reruns, truth.reruns, "{what}: reruns");
    assert_eq!(counts.unfinished(), 0, "{what}: nothing left to run");
}

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
}

fn feed(tracker: &mut PushTracker, records: &[Record], now: DateTime<Utc>) -> Vec<PushEvent> {
    let mut events = Vec::new();
    for record in records {
        events.extend(tracker.apply(record, now));
    }
    events
}

fn quiet() -> TrackerConfig {
    TrackerConfig::default().with_quiet_period(Duration::from_secs(60))
}

#[test]
fn interleaved_pushes_on_two_trees_finish_once_with_their_truth() {
    let pushes = [
        generated("autoland", 11, 400),
        generated("mozilla-central", 12, 300),
        generated("autoland", 13, 250),
    ];
    // Round-robin, so every push is open while the others progress.
    let mut streams: Vec<std::vec::IntoIter<Message>> =
        pushes.iter().map(|(_, m)| m.clone().into_iter()).collect();
    let mut interleaved = Vec::new();
    while streams.iter().any(|s| s.len() > 0) {
        for stream in &mut streams {
            interleaved.extend(stream.next());
        }
    }
    let mut tracker = PushTracker::in_memory(quiet());
    let mut events = feed(&mut tracker, &records(&interleaved), at(0));
    assert!(tracker.tick(at(59)).is_empty(), "not quiet long enough yet");
    events.extend(tracker.tick(at(60)));
    events.extend(tracker.tick(at(600)));

    for (push, _) in &pushes {
        let of_push: Vec<&PushEvent> = events
            .iter()
            .filter(|e| e.push.revision == push.revision)
            .collect();
        let kinds: Vec<PushEventKind> = of_push.iter().map(|e| e.event).collect();
        let truth = push.truth();
        let mut expected = vec![PushEventKind::Started];
        if truth.failed() > 0 {
            expected.push(PushEventKind::FirstFailure);
        }
        expected.push(PushEventKind::Finished);
        assert_eq!(kinds, expected, "{} {}", push.tree, push.revision);
        // The push message came first: its start says who pushed.
        assert_eq!(of_push[0].push.author.as_deref(), Some(push.owner.as_str()));
        let finished = &of_push.last().unwrap().push;
        assert_eq!(finished.state, PushState::Finished);
        assert_eq!(finished.tree, push.tree);
        assert_eq!(finished.author.as_deref(), Some(push.owner.as_str()));
        assert_eq!(finished.push_id, Some(push.push_id));
        assert_eq!(
            finished.groups_resolved as usize,
            push.group_resolved_at.len()
        );
        assert_eq!(finished.failed.len() as u32, truth.failed());
        assert_counts_equal_truth(&finished.counts, &truth, &push.revision);
    }
}

#[test]
fn any_order_and_every_message_twice_change_nothing() {
    let (push, messages) = generated("autoland", 21, 500);
    let records = records(&messages);
    let mut in_order = PushTracker::in_memory(quiet());
    feed(&mut in_order, &records, at(0));

    let mut shuffled: Vec<Record> = records.iter().rev().cloned().collect();
    shuffled.extend(records.iter().step_by(3).cloned());
    shuffled.extend(records.iter().cloned());
    let mut twice = PushTracker::in_memory(quiet());
    let events = feed(&mut twice, &shuffled, at(0));
    let started = events
        .iter()
        .filter(|e| e.event == PushEventKind::Started)
        .count();
    assert_eq!(started, 1, "one push, started once");

    let truth = push.truth();
    for tracker in [&in_order, &twice] {
        let summary = tracker.push(&push.tree, &push.revision).unwrap();
        assert_counts_equal_truth(&summary.counts, &truth, "shuffled");
    }
    // The push message after its tasks still names the author.
    let summary = twice.push(&push.tree, &push.revision[..12]).unwrap();
    assert_eq!(summary.author.as_deref(), Some(push.owner.as_str()));
}

#[test]
fn tasks_added_after_the_finish_reopen_and_finish_again() {
    let (push, messages) = generated("autoland", 31, 300);
    let records = records(&messages);
    // Split the recording at a task that is not the decision task: what
    // comes after it reopens the push once it has finished.
    let (first, later) = records.split_at(records.len() - 3);
    let mut tracker = PushTracker::in_memory(quiet());
    feed(&mut tracker, first, at(0));
    // Whether the first part is complete depends on the seed; force a
    // finish only when it is.
    let finished_first = tracker.tick(at(120));
    let reopened = feed(&mut tracker, later, at(200));
    let finished_again = tracker.tick(at(300));
    if finished_first
        .iter()
        .any(|e| e.event == PushEventKind::Finished)
    {
        assert!(
            reopened.iter().any(|e| e.event == PushEventKind::Reopened)
                || later.iter().all(|r| matches!(r, Record::TaskGroup(_))),
            "new runs reopen a finished push"
        );
    }
    let last = finished_again
        .iter()
        .chain(&finished_first)
        .find(|e| e.event == PushEventKind::Finished)
        .expect("finished");
    assert_counts_equal_truth(
        &tracker.push(&push.tree, &push.revision).unwrap().counts,
        &push.truth(),
        "end",
    );
    assert_eq!(last.push.state, PushState::Finished);
    // Nothing new: no second finish.
    feed(&mut tracker, &records, at(400));
    assert!(
        tracker.tick(at(1000)).is_empty(),
        "an unchanged push never finishes twice"
    );
}

#[test]
fn the_state_file_carries_a_push_across_a_restart() {
    let dir = pulse_test_support::TempDir::new("push-state");
    let path = dir.path().join("state.sqlite");
    let (push, messages) = generated("autoland", 41, 400);
    let records = records(&messages);
    let (first, rest) = records.split_at(records.len() / 2);

    let mut before = PushTracker::open(&path, quiet()).unwrap();
    let events = feed(&mut before, first, at(0));
    assert!(events.iter().any(|e| e.event == PushEventKind::Started));
    before.flush().unwrap();
    drop(before);

    // The restarted tracker gets the second half, and part of the first
    // again (what was written but not acknowledged is redelivered).
    let mut after = PushTracker::open(&path, quiet()).unwrap();
    let redelivered = &first[first.len() - 50..];
    let events = feed(&mut after, redelivered, at(10));
    assert!(
        events.is_empty(),
        "redelivered messages change nothing: {events:?}"
    );
    feed(&mut after, rest, at(20));
    let finished = after.tick(at(100));
    after.flush().unwrap();
    let finished = finished
        .iter()
        .find(|e| e.event == PushEventKind::Finished)
        .expect("finished after the restart");
    assert_counts_equal_truth(&finished.push.counts, &push.truth(), "restarted");

    // Announced once: a third tracker on the same file does not finish it again.
    drop(after);
    let mut third = PushTracker::open(&path, quiet()).unwrap();
    assert!(third.tick(at(200)).is_empty());
    assert_eq!(
        third.push(&push.tree, &push.revision).unwrap().state,
        PushState::Finished
    );
}

#[test]
fn old_pushes_are_removed_from_memory_and_file() {
    let dir = pulse_test_support::TempDir::new("push-retention");
    let path = dir.path().join("state.sqlite");
    let (push, messages) = generated("try", 51, 100);
    let config = quiet().with_retention(Duration::from_secs(3600));
    let mut tracker = PushTracker::open(&path, config.clone()).unwrap();
    feed(&mut tracker, &records(&messages), at(0));
    tracker.tick(at(100));
    tracker.flush().unwrap();
    tracker.tick(at(3600));
    tracker.flush().unwrap();
    assert!(tracker.push(&push.tree, &push.revision).is_none());
    drop(tracker);
    let reopened = PushTracker::open(&path, config).unwrap();
    assert!(reopened.pushes().is_empty(), "the file forgot it too");
}

#[test]
fn a_state_file_in_use_is_refused_with_a_clear_error() {
    let dir = pulse_test_support::TempDir::new("push-in-use");
    let path = dir.path().join("state.sqlite");
    let (_, messages) = generated("autoland", 43, 50);
    let mut owner = PushTracker::open(&path, quiet()).unwrap();
    feed(&mut owner, &records(&messages), at(0));
    owner.flush().unwrap();

    // Two monitors on one file would each count the same tasks.
    let error = PushTracker::open(&path, quiet()).unwrap_err();
    let text = error.to_string();
    assert!(text.contains("state.sqlite"), "{text}");
    assert!(text.contains("another monitor"), "{text}");

    // Closed, the owner lets go of the file and still answers.
    owner.close().unwrap();
    let next = PushTracker::open(&path, quiet()).expect("free once its owner closed it");
    assert_eq!(next.pushes(), owner.pushes());
    assert_eq!(next.pushes().len(), 1);
    drop(next);

    // Dropped, too.
    let second = PushTracker::open(&path, quiet()).unwrap();
    drop(second);
    PushTracker::open(&path, quiet()).expect("free once its owner is gone");
}

#[test]
fn a_file_that_is_not_a_state_file_is_a_clear_error() {
    let dir = pulse_test_support::TempDir::new("push-garbage");
    let path = dir.path().join("state.sqlite");
    std::fs::write(
        &path,
        b"this is not a database, just some text\n".repeat(200),
    )
    .unwrap();
    let error = PushTracker::open(&path, quiet()).unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("state.sqlite") && text.contains("not a database"),
        "{text}"
    );
}

#[test]
fn failure_lines_reach_the_failed_task_and_the_state_file() {
    let dir = pulse_test_support::TempDir::new("push-details");
    let path = dir.path().join("state.sqlite");
    let (push, messages) = generated("autoland", 12, 300);
    let mut tracker = PushTracker::open(&path, quiet()).unwrap();
    feed(&mut tracker, &records(&messages), at(0));
    let summary = tracker.push(&push.tree, &push.revision).unwrap();
    let failed = summary.failed.first().expect("a failed task").clone();
    let lines: Vec<pulse_translator::FailureLine> = (0..8)
        .map(|i| pulse_translator::FailureLine {
            test: Some(format!("dom/test_{i}.html")),
            status: Some("FAIL".into()),
            expected: Some("PASS".into()),
            line: format!("TEST-UNEXPECTED-FAIL | dom/test_{i}.html | expected PASS"),
            ..Default::default()
        })
        .collect();
    // Details of another run describe nothing shown: dropped.
    let other_run = failed.run_id + 1;
    tracker.attach_details(
        &push.tree,
        &push.revision,
        &failed.task_id,
        other_run,
        &lines,
        None,
    );
    tracker.attach_details(
        &push.tree,
        &push.revision,
        &failed.task_id,
        failed.run_id,
        &lines,
        None,
    );
    tracker.flush().unwrap();
    drop(tracker);

    let reopened = PushTracker::open(&path, quiet()).unwrap();
    let summary = reopened.push(&push.tree, &push.revision).unwrap();
    let task = summary
        .failed
        .iter()
        .find(|t| t.task_id == failed.task_id)
        .unwrap();
    assert_eq!(
        task.failures.len(),
        pulse_push::FAILURE_LINES_PER_TASK,
        "the first ones"
    );
    assert_eq!(task.failures[0].test.as_deref(), Some("dom/test_0.html"));
    assert_eq!(task.details_unavailable, None);
}
