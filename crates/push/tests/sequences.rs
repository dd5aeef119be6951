//! The tracker fed arbitrary message sequences: random tasks, runs, states
//! and results, in random order, repeated. Invariants that must hold for
//! any input (the fuzz target `push_sequences` checks the same with
//! libFuzzer's inputs): every task counted once, no count below zero,
//! the buckets add up, the same messages in any order give the same
//! counts, applying them again changes nothing, and a push is announced
//! finished once per change.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use pulse_push::{Counts, PushEventKind, PushTracker, TrackerConfig};
use pulse_translator::{JobKind, JobResult, Record, TaskRecord, TaskState};

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

fn tracker() -> PushTracker {
    PushTracker::in_memory(TrackerConfig::default().with_quiet_period(Duration::from_secs(10)))
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
