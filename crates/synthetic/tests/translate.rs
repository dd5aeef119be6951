//! The translator reads every message of a generated push, of every kind,
//! into a record of the right push, kind and result: no errors, builds and
//! tests where Treeherder shows builds and tests, task records for the rest
//! and for every unfinished run.

use std::collections::{BTreeMap, HashMap};

use pulse_synthetic::{JobKind, Outcome, Push, SyntheticTask};
use pulse_translator::exchanges;
use pulse_translator::taskcluster::{platform_family, translate};
use pulse_translator::Options;
use pulse_translator::{JobResult, Message, Record, TaskState};

/// Treeherder's result for a run, written out from its handler and job
/// loader: failed is testfailed for tests and busted otherwise; a canceled
/// exception is usercancel; a run the queue reran is retry.
fn treeherder_result(task: &SyntheticTask, run_id: u32) -> JobResult {
    let run = &task.runs[run_id as usize];
    let rerun = task
        .runs
        .get(run_id as usize + 1)
        .is_some_and(|next| next.reason_created == "retry" || next.reason_created == "task-retry");
    match run.outcome {
        Outcome::Completed => JobResult::Success,
        Outcome::Failed if task.job_kind == JobKind::Test => JobResult::Testfailed,
        Outcome::Failed => JobResult::Busted,
        Outcome::Exception { .. } if rerun => JobResult::Retry,
        Outcome::Exception { .. } if run.reason_resolved() == "canceled" => JobResult::Usercancel,
        Outcome::Exception { .. } => JobResult::Exception,
    }
}

/// The push message, a task's definition and the group's resolution
/// translate into the records a push tracker reads.
fn push_lifecycle_record(push: &Push, message: &Message, options: &Options) {
    let records = pulse_translator::translate(message, options)
        .unwrap_or_else(|e| panic!("{} on {}: {e}", message.routing_key, message.exchange));
    match (message.exchange.as_str(), records.as_slice()) {
        (exchanges::HG_PUSHES, [Record::Push(hg)]) => {
            assert_eq!(
                (hg.tree.as_str(), hg.push_id),
                (push.tree.as_str(), push.push_id)
            );
            assert_eq!(hg.revision.as_deref(), Some(push.revision.as_str()));
            assert_eq!(hg.author, push.owner);
            assert_eq!(hg.pushed_at.timestamp(), push.pushed_at.timestamp());
        }
        (exchanges::TASK_DEFINED, [Record::Task(task)]) => {
            assert_eq!(task.state, TaskState::Defined);
            assert_eq!(task.task_group_id.as_deref(), Some(push.task_group_id()));
            assert_eq!(task.revision.as_deref(), Some(push.revision.as_str()));
        }
        (exchanges::TASK_GROUP_RESOLVED, [Record::TaskGroup(group)]) => {
            assert_eq!(group.task_group_id, push.task_group_id());
        }
        (exchange, records) => panic!("{exchange}: {records:?}"),
    }
}

#[test]
fn every_message_of_every_kind_translates_into_its_tasks_record() {
    let options = Options::default();
    for (tree, seed, tasks) in [
        ("autoland", 1, 3000),
        ("mozilla-central", 2, 1500),
        ("try", 3, 800),
        ("autoland", 4, 6000),
    ] {
        let push = Push::builder().tree(tree).seed(seed).tasks(tasks).build();
        let by_id: HashMap<&str, &SyntheticTask> =
            push.tasks.iter().map(|t| (t.task_id.as_str(), t)).collect();
        let mut errors = Vec::new();
        let mut types: BTreeMap<&str, usize> = BTreeMap::new();
        let mut results: BTreeMap<JobResult, usize> = BTreeMap::new();
        for message in push.messages() {
            if !exchanges::TASK_ALL.contains(&message.exchange.as_str()) {
                push_lifecycle_record(&push, &message, &options);
                continue;
            }
            let mut key = message.routing_key.split('.');
            let task_id = key.nth(1).expect("a task id in the key");
            let run_id: u32 = key.next().expect("a run id").parse().expect("a number");
            let task = by_id[task_id];
            let what = format!("{} run {run_id} on {}", task.label, message.exchange);
            let record = match translate(&message, &options) {
                Ok(record) => record,
                Err(e) => {
                    errors.push(format!("{what}: {e}"));
                    continue;
                }
            };
            assert_eq!(record.tree(), push.tree, "{what}");
            assert_eq!(record.revision(), Some(push.revision.as_str()), "{what}");
            assert_eq!(record.kind(), task.kind, "{what}");
            // The translator's kind table and the generator's facts agree.
            assert_eq!(
                pulse_translator::taskcluster::job_kind(&task.kind, &task.label),
                task.job_kind,
                "{what}"
            );
            let finished = exchanges::TASK_FINISHED.contains(&message.exchange.as_str());
            let expected = if finished {
                treeherder_result(task, run_id)
            } else {
                JobResult::Unknown
            };
            assert_eq!(record.result(), Some(expected), "{what}");
            *results.entry(expected).or_default() += 1;
            match &record {
                Record::Build(build) => {
                    assert!(finished, "{what}");
                    assert_eq!(task.job_kind, JobKind::Build, "{what}");
                    assert_eq!(build.job.run_id, Some(run_id));
                    types.entry("build").and_modify(|n| *n += 1).or_insert(1);
                }
                Record::Test(test) => {
                    assert!(finished, "{what}");
                    assert_eq!(task.job_kind, JobKind::Test, "{what}");
                    assert_eq!(Some(test.os.as_str()), task.platform.as_deref(), "{what}");
                    assert!(task.label.ends_with(&test.test), "{what}");
                    types.entry("test").and_modify(|n| *n += 1).or_insert(1);
                }
                Record::Task(record) => {
                    assert_eq!(record.task_id, task_id);
                    assert_eq!(record.run_id, run_id);
                    assert_eq!(record.label.as_ref(), task.tags.get("label"), "{what}");
                    assert_eq!(record.job_kind, task.job_kind, "{what}");
                    assert_eq!(record.state.is_finished(), finished, "{what}");
                    if !finished {
                        let state = message.exchange.rsplit('-').next().unwrap();
                        assert_eq!(record.state.as_str(), state, "{what}");
                    }
                    let label_platform = task.platform.as_deref().and_then(platform_family);
                    if label_platform.is_some() && record.platform.is_some() {
                        assert_eq!(record.platform.as_deref(), label_platform, "{what}");
                    }
                    let name = if finished { "task" } else { "unfinished" };
                    *types.entry(name).or_default() += 1;
                }
                other => panic!("{what}: a task message made {other:?}"),
            }
            if let Record::Build(_) | Record::Test(_) = &record {
                let platform = task.platform.as_deref().expect("builds and tests have one");
                assert_eq!(record.platform(), platform_family(platform), "{what}");
                assert_eq!(
                    record.buildtype().map(|b| b.as_str()),
                    task.build_type.as_deref(),
                    "{what}"
                );
            }
            if let Record::Task(t) = &record {
                assert!(
                    t.state != TaskState::Completed || t.result == JobResult::Success,
                    "{what}"
                );
            }
        }
        assert!(
            errors.is_empty(),
            "{tree}: {} errors: {errors:#?}",
            errors.len()
        );
        // Every type of record and the results that matter occur.
        for kind in ["build", "test", "task", "unfinished"] {
            assert!(types.get(kind).is_some_and(|&n| n > 0), "{tree}: {types:?}");
        }
        for result in [
            JobResult::Success,
            JobResult::Testfailed,
            JobResult::Unknown,
        ] {
            assert!(results.contains_key(&result), "{tree}: {results:?}");
        }
    }
}
