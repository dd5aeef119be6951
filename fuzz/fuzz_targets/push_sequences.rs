//! Input: a sequence of task messages, 4 bytes each (push, task, run,
//! phase). The push tracker takes them in that order, ticking after every
//! 5th, and must keep its invariants: every task counted once, no count
//! below zero (the buckets add up to the tasks), finished announced once
//! per change and only with nothing left to run, and the same messages
//! applied again change nothing. A tracker that never pages out takes the
//! same messages and ticks: the events and summaries must be the same
//! after every step, late records of finished (paged-out) pushes included.
#![no_main]

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::DateTime;
use libfuzzer_sys::fuzz_target;
use pulse_push::{Counts, PushEventKind, PushTracker, TrackerConfig};
use pulse_translator::{JobKind, JobResult, Record, TaskRecord, TaskState};

fn record(bytes: &[u8]) -> Record {
    let (push, task, run) = (bytes[0] % 3, bytes[1] % 16, u32::from(bytes[2] % 4));
    // A run ends one way only, as on the queue.
    let ending = (u32::from(push) * 31 + u32::from(task) * 7 + run * 3) % 8;
    let (state, result) = match bytes[3] % 4 {
        0 => (TaskState::Defined, JobResult::Unknown),
        1 => (TaskState::Pending, JobResult::Unknown),
        2 => (TaskState::Running, JobResult::Unknown),
        _ => match ending {
            0 | 1 => (TaskState::Completed, JobResult::Success),
            2 => (TaskState::Failed, JobResult::Testfailed),
            3 => (TaskState::Failed, JobResult::Busted),
            4 => (TaskState::Exception, JobResult::Exception),
            5 => (TaskState::Exception, JobResult::Retry),
            6 => (TaskState::Exception, JobResult::Usercancel),
            _ => (TaskState::Exception, JobResult::Superseded),
        },
    };
    Record::Task(TaskRecord {
        kind: "test".into(),
        job_kind: JobKind::Test,
        label: Some(format!("t{task}")),
        tree: "autoland".into(),
        revision: Some(format!("{push:040x}")),
        platform: None,
        buildtype: None,
        state,
        result,
        status: None,
        task_id: format!("{push}-{task}"),
        run_id: if state == TaskState::Defined { 0 } else { run },
        task_group_id: Some(format!("g{push}")),
        push_id: None,
        worker_type: None,
        worker_id: None,
        logurl: None,
        builddate: Some(1_800_000_000),
        tier: None,
        key: "k".into(),
        timestamp: None,
        reconciled: false,
    })
}

fn buckets(c: &Counts) -> u32 {
    c.unscheduled + c.pending + c.running + c.success + c.testfailed + c.busted
        + c.exception + c.retry + c.usercancel + c.superseded
}

fuzz_target!(|input: &[u8]| {
    let records: Vec<Record> = input.chunks_exact(4).map(record).collect();
    let config = TrackerConfig::default().with_quiet_period(Duration::from_secs(1));
    let mut tracker = PushTracker::in_memory(config.clone());
    let mut reference = PushTracker::in_memory(config.with_page_out(false));
    let at = |s: i64| DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap();
    let mut finished: BTreeMap<String, Counts> = BTreeMap::new();
    for (i, record) in records.iter().enumerate() {
        let mut events = tracker.apply(record, at(i as i64 * 10));
        assert_eq!(events, reference.apply(record, at(i as i64 * 10)));
        if i % 5 == 4 {
            let mut ticked = tracker.tick(at(i as i64 * 10 + 5));
            let mut expected = reference.tick(at(i as i64 * 10 + 5));
            // A tick lists pushes in no particular order.
            ticked.sort_by_key(|e| format!("{e:?}"));
            expected.sort_by_key(|e| format!("{e:?}"));
            assert_eq!(ticked, expected, "paging out changes no event");
            events.extend(ticked);
        }
        assert_eq!(
            tracker.pushes(),
            reference.pushes(),
            "paging out changes no summary"
        );
        for event in events {
            let c = event.push.counts;
            assert_eq!(buckets(&c), c.tasks, "{c:?}");
            if event.event == PushEventKind::Finished {
                assert_eq!(c.unfinished(), 0);
                let before = finished.insert(event.push.revision.clone(), c);
                assert_ne!(before, Some(c), "finished twice unchanged");
            }
        }
    }
    let tasks: BTreeSet<(String, String)> = records
        .iter()
        .filter_map(|r| match r {
            Record::Task(t) => Some((t.revision.clone()?, t.task_id.clone())),
            _ => None,
        })
        .collect();
    for push in tracker.pushes() {
        let expected = tasks.iter().filter(|(r, _)| *r == push.revision).count();
        assert_eq!(push.counts.tasks as usize, expected, "each task once");
    }
    for record in &records {
        assert!(tracker.apply(record, at(1_000_000)).is_empty(), "applied twice");
    }
});
