//! The tracker fed arbitrary message sequences: random tasks, runs, states
//! and results, in random order, repeated. Invariants that must hold for
//! any input (the fuzz target `push_sequences` checks the same with
//! libFuzzer's inputs): every task counted once, no count below zero,
//! the buckets add up, the same messages in any order give the same
//! counts, applying them again changes nothing, and a push is announced
//! finished once per change. And paging out changes nothing: ticks that
//! finish pushes, and so page their tasks out, interleaved with late
//! records and failure details (which touch the failed tasks a paged-out
//! push holds compact), give after every step the events, summaries and
//! answers of a tracker that never pages out, in memory and on a state
//! file opened again now and then.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use pulse_push::{Counts, PushEvent, PushEventKind, PushSummary, PushTracker, TrackerConfig};
use pulse_translator::{FailureLine, JobKind, JobResult, Record, TaskRecord, TaskState};

/// xorshift64*: repeatable inputs without a random-number crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const RESULTS: [JobResult; 6] = [
    JobResult::Testfailed,
    JobResult::Busted,
    JobResult::Exception,
    JobResult::Retry,
    JobResult::Usercancel,
    JobResult::Superseded,
];

/// One task message: which push (of two), task, run, and how far the run
/// got. A run ends one way only, as on the queue: its final state and
/// result follow from the push, task and run.
fn record(rng: &mut Rng) -> Record {
    let push = rng.below(2);
    let task = rng.below(12);
    let run = rng.below(3);
    let phase = rng.below(4);
    let ending = (push * 31 + task * 7 + run * 3) % 8;
    let (state, result) = match phase {
        0 => (TaskState::Defined, JobResult::Unknown),
        1 => (TaskState::Pending, JobResult::Unknown),
        2 => (TaskState::Running, JobResult::Unknown),
        _ => match ending {
            0..=1 => (TaskState::Completed, JobResult::Success),
            2 => (TaskState::Failed, RESULTS[0]),
            3 => (TaskState::Failed, RESULTS[1]),
            n => (TaskState::Exception, RESULTS[n as usize - 2]),
        },
    };
    Record::Task(TaskRecord {
        kind: "test".into(),
        job_kind: JobKind::Test,
        label: Some(format!("test-linux/opt-t{task}")),
        tree: "autoland".into(),
        revision: Some(format!("{push:040x}")),
        platform: None,
        buildtype: None,
        state,
        result,
        status: None,
        task_id: format!("task{push}-{task}"),
        run_id: if state == TaskState::Defined {
            0
        } else {
            run as u32
        },
        task_group_id: Some(format!("group{push}")),
        push_id: None,
        worker_type: None,
        worker_id: None,
        logurl: None,
        builddate: Some(1_800_000_000 + (run * 100 + task) as i64),
        tier: None,
        key: "k".into(),
        timestamp: None,
        reconciled: false,
    })
}

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
}

fn sum(counts: &Counts) -> u32 {
    counts.unscheduled
        + counts.pending
        + counts.running
        + counts.success
        + counts.testfailed
        + counts.busted
        + counts.exception
        + counts.retry
        + counts.usercancel
        + counts.superseded
}

fn config() -> TrackerConfig {
    TrackerConfig::default().with_quiet_period(Duration::from_secs(10))
}

fn tracker() -> PushTracker {
    PushTracker::in_memory(config())
}

/// Applies `records` one by one, ticking now and then; returns the counts
/// of each push and checks the invariants on the way.
fn run(tracker: &mut PushTracker, records: &[Record], rng: &mut Rng) -> BTreeMap<String, Counts> {
    let mut finished: BTreeMap<String, Vec<Counts>> = BTreeMap::new();
    let mut clock = 0;
    for record in records {
        let mut events = tracker.apply(record, at(clock));
        if rng.below(4) == 0 {
            clock += 20;
            events.extend(tracker.tick(at(clock)));
        }
        for event in events {
            let counts = event.push.counts;
            assert_eq!(sum(&counts), counts.tasks, "buckets add up: {counts:?}");
            assert!(
                counts.tasks <= 12 && counts.defined <= counts.tasks,
                "{counts:?}"
            );
            if event.event == PushEventKind::Finished {
                let announced = finished.entry(event.push.revision.clone()).or_default();
                assert_ne!(announced.last(), Some(&counts), "finished twice unchanged");
                assert_eq!(
                    counts.unfinished(),
                    0,
                    "finished with work left: {counts:?}"
                );
                announced.push(counts);
            }
        }
    }
    tracker
        .pushes()
        .into_iter()
        .map(|push| (push.revision, push.counts))
        .collect()
}

#[test]
fn any_sequence_keeps_the_invariants() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..400 {
        let length = 1 + rng.below(120) as usize;
        let records: Vec<Record> = (0..length).map(|_| record(&mut rng)).collect();
        let tasks: BTreeSet<(String, String)> = records
            .iter()
            .map(|r| match r {
                Record::Task(t) => (t.revision.clone().unwrap(), t.task_id.clone()),
                _ => unreachable!(),
            })
            .collect();

        let mut first = tracker();
        let counts = run(&mut first, &records, &mut rng);
        for (revision, counts) in &counts {
            let expected = tasks.iter().filter(|(r, _)| r == revision).count() as u32;
            assert_eq!(counts.tasks, expected, "every task counted once");
        }

        // Again, in another order: the same counts.
        let mut shuffled = records.clone();
        for i in (1..shuffled.len()).rev() {
            shuffled.swap(i, rng.below(i as u64 + 1) as usize);
        }
        let mut second = tracker();
        assert_eq!(
            run(&mut second, &shuffled, &mut rng),
            counts,
            "order matters not"
        );

        // Applied twice: nothing changes, nothing is announced.
        for record in &records {
            assert!(first.apply(record, at(1_000_000)).is_empty(), "{record:?}");
        }
        let again: BTreeMap<String, Counts> = first
            .pushes()
            .into_iter()
            .map(|p| (p.revision, p.counts))
            .collect();
        assert_eq!(again, counts);
    }
}

/// What a page holds when it follows a tracker with
/// `pushes_changed_since`: the latest summary of each push it was handed.
#[derive(Default)]
struct Follower {
    pushes: BTreeMap<(String, String), PushSummary>,
    version: u64,
}

impl Follower {
    fn follow(&mut self, tracker: &PushTracker) {
        let (changed, version) = tracker.pushes_changed_since(self.version);
        for push in changed {
            self.pushes
                .insert((push.tree.clone(), push.revision.clone()), push);
        }
        self.version = version;
    }
}

/// Events in a stable order (a tick lists pushes in no particular order).
fn sorted(events: Vec<PushEvent>) -> Vec<String> {
    let mut lines: Vec<String> = events
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    lines.sort();
    lines
}

/// A state file read back lists failed tasks by when they failed, not in
/// the order the tracker saw them fail.
fn by_failure_time(mut pushes: Vec<PushSummary>) -> Vec<PushSummary> {
    for push in &mut pushes {
        push.failed
            .sort_by(|a, b| (a.at, &a.task_id).cmp(&(b.at, &b.task_id)));
    }
    pushes
}

fn by_failure_time_events(events: Vec<PushEvent>) -> Vec<String> {
    sorted(
        events
            .into_iter()
            .map(|mut e| {
                e.push = by_failure_time(vec![e.push]).remove(0);
                e
            })
            .collect(),
    )
}

#[test]
fn paging_out_changes_nothing_whatever_the_sequence() {
    let dir = pulse_test_support::TempDir::new("push-sequences");
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut paged_out_and_touched = 0;
    let mut details_of_kept = 0;
    for round in 0..150 {
        let path = dir.path().join(format!("state-{round}.sqlite"));
        let mut reference = PushTracker::in_memory(config().with_page_out(false));
        let mut paged = tracker();
        let mut file = PushTracker::open(&path, config()).unwrap();
        let length = 1 + rng.below(150) as usize;
        let records: Vec<Record> = (0..length).map(|_| record(&mut rng)).collect();
        let mut clock = 0;
        let mut finished = BTreeSet::new();
        let mut follower = Follower::default();
        for record in &records {
            let now = at(clock);
            let expected = reference.apply(record, now);
            // Late records of finished (paged-out) pushes are what is tested.
            if let Record::Task(task) = record {
                if finished.contains(task.revision.as_ref().unwrap()) {
                    paged_out_and_touched += 1;
                }
            }
            assert_eq!(paged.apply(record, now), expected, "{record:?}");
            assert_eq!(
                by_failure_time_events(file.apply(record, now)),
                by_failure_time_events(expected.clone())
            );
            if rng.below(3) == 0 {
                clock += 20;
                let expected = reference.tick(at(clock));
                for event in &expected {
                    if event.event == PushEventKind::Finished {
                        finished.insert(event.push.revision.clone());
                    }
                }
                assert_eq!(sorted(paged.tick(at(clock))), sorted(expected.clone()));
                assert_eq!(
                    by_failure_time_events(file.tick(at(clock))),
                    by_failure_time_events(expected)
                );
            }
            if rng.below(3) == 0 {
                let pushes = reference.pushes();
                let (tree, revision, task_id, run_id, failures, unavailable) =
                    details(&mut rng, &pushes, &finished);
                // A push that finished was paged out: its failed tasks are
                // held compact until a record or details touch them.
                let kept = finished.contains(&revision)
                    && pushes.iter().any(|push| {
                        push.revision == revision
                            && push
                                .failed
                                .iter()
                                .any(|t| t.task_id == task_id && t.run_id == run_id)
                    });
                if kept {
                    details_of_kept += 1;
                }
                for tracker in [&mut reference, &mut paged, &mut file] {
                    tracker.attach_details(
                        &tree,
                        &revision,
                        &task_id,
                        run_id,
                        &failures,
                        unavailable.as_deref(),
                    );
                }
            }
            file.flush().unwrap();
            if rng.below(25) == 0 {
                drop(file);
                file = PushTracker::open(&path, config()).unwrap();
            }
            assert_eq!(paged.pushes(), reference.pushes(), "after {record:?}");
            // A page following only what changed sees what the tracker has.
            let flushed = rng.below(2) == 0;
            if flushed {
                paged.flush().unwrap();
            }
            follower.follow(&paged);
            if flushed {
                let (again, _) = paged.pushes_changed_since(follower.version);
                assert!(again.is_empty(), "nothing changed since: {again:?}");
            }
            for push in reference.pushes() {
                let key = (push.tree.clone(), push.revision.clone());
                assert_eq!(follower.pushes.get(&key), Some(&push), "after {record:?}");
            }
            assert_eq!(
                by_failure_time(file.pushes()),
                by_failure_time(reference.pushes())
            );
            // What reconciliation asks, of any task, paged out or not.
            let probe = record_probe(&mut rng);
            let known = reference.knows(&probe.0, &probe.1, &probe.2, probe.3);
            assert_eq!(
                paged.knows(&probe.0, &probe.1, &probe.2, probe.3),
                known,
                "{probe:?}"
            );
            assert_eq!(
                file.knows(&probe.0, &probe.1, &probe.2, probe.3),
                known,
                "{probe:?}"
            );
        }
        // Applied again: nothing happens in any of them.
        for record in &records {
            assert!(paged.apply(record, at(1_000_000)).is_empty());
            assert!(file.apply(record, at(1_000_000)).is_empty());
        }
    }
    assert!(
        paged_out_and_touched > 500,
        "too few late records of finished pushes: {paged_out_and_touched}"
    );
    assert!(
        details_of_kept > 300,
        "too few details of paged-out pushes' failed runs: {details_of_kept}"
    );
}

/// Details a monitor may attach: push, task, run (mostly of a task that
/// failed, in a push that finished when there is one, of its failed run
/// or not; else of any task), failure lines
/// (some the same as before, some more than are kept) or why there are
/// none.
fn details(
    rng: &mut Rng,
    pushes: &[PushSummary],
    finished: &BTreeSet<String>,
) -> (
    String,
    String,
    String,
    u32,
    Vec<FailureLine>,
    Option<String>,
) {
    let paged = |push: &PushSummary| finished.contains(&push.revision);
    let any_paged = pushes
        .iter()
        .any(|push| paged(push) && !push.failed.is_empty());
    let failed: Vec<(&PushSummary, &pulse_push::FailedTask)> = pushes
        .iter()
        .filter(|push| !any_paged || paged(push))
        .flat_map(|push| push.failed.iter().map(move |task| (push, task)))
        .collect();
    let (tree, revision, task_id, run_id) = if !failed.is_empty() && rng.below(4) != 0 {
        let (push, task) = failed[rng.below(failed.len() as u64) as usize];
        let run_id = task.run_id + u32::from(rng.below(4) == 0);
        (
            push.tree.clone(),
            push.revision.clone(),
            task.task_id.clone(),
            run_id,
        )
    } else {
        let Record::Task(task) = record(rng) else {
            unreachable!()
        };
        let run_id = rng.below(3) as u32;
        (task.tree, task.revision.unwrap(), task.task_id, run_id)
    };
    let lines = rng.below(8);
    let failures = (0..lines)
        .map(|line| FailureLine {
            test: Some(format!("test_{line}.js")),
            status: Some("FAIL".into()),
            ..FailureLine::default()
        })
        .collect();
    let unavailable = (lines == 0 && rng.below(2) == 0).then(|| "no log".to_string());
    (tree, revision, task_id, run_id, failures, unavailable)
}

/// A question `knows` may be asked: push, task, and a run in a state or
/// the definition.
fn record_probe(rng: &mut Rng) -> (String, String, String, Option<(u32, TaskState)>) {
    let Record::Task(task) = record(rng) else {
        unreachable!()
    };
    let run = (task.state != TaskState::Defined).then_some((task.run_id, task.state));
    (task.tree, task.revision.unwrap(), task.task_id, run)
}
