//! The translator reads every resolved message of the generator's build
//! and test tasks (kinds `build` and `test`) into a record of the right
//! push and platform.

use std::collections::HashMap;

use pulse_synthetic::{
    Push, SyntheticTask, EXCHANGE_TASK_COMPLETED, EXCHANGE_TASK_EXCEPTION, EXCHANGE_TASK_FAILED,
};
use pulse_translator::taskcluster::{
    platform_family, run_status, translate, TaskMessage, TaskclusterOptions,
};
use pulse_translator::Record;

#[test]
fn build_and_test_messages_translate_into_records_of_their_task() {
    let options = TaskclusterOptions::default();
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
        let (mut builds, mut tests) = (0, 0);
        for message in push.messages() {
            if ![
                EXCHANGE_TASK_COMPLETED,
                EXCHANGE_TASK_FAILED,
                EXCHANGE_TASK_EXCEPTION,
            ]
            .contains(&message.exchange.as_str())
            {
                continue;
            }
            let mut key = message.routing_key.split('.');
            let task_id = key.nth(1).expect("a task id in the key");
            let run_id: u32 = key.next().expect("a run id").parse().expect("a number");
            let task = by_id[task_id];
            if task.kind != "build" && task.kind != "test" {
                continue;
            }
            let record = translate(
                &TaskMessage {
                    exchange: &message.exchange,
                    routing_key: &message.routing_key,
                    cc: &message.cc,
                    body: &message.body,
                },
                &options,
            );
            let record = match record {
                Ok(record) => record,
                Err(e) => {
                    errors.push(format!("{}: {e}", task.label));
                    continue;
                }
            };
            let job = record.job();
            let platform = task.platform.as_deref().expect("builds and tests have one");
            let run = &task.runs[run_id as usize];
            assert_eq!(job.tree, push.tree, "{}", task.label);
            assert_eq!(job.revision.as_deref(), Some(push.revision.as_str()));
            assert_eq!(
                Some(job.platform.as_str()),
                platform_family(platform),
                "{}",
                task.label
            );
            assert_eq!(
                Some(job.buildtype.as_str()),
                task.build_type.as_deref(),
                "{}",
                task.label
            );
            assert_eq!(job.task_id.as_deref(), Some(task_id));
            assert_eq!(job.run_id, Some(run_id));
            assert_eq!(
                job.status,
                run_status(run.outcome.state(), Some(run.reason_resolved())).unwrap(),
                "{}",
                task.label
            );
            assert_eq!(job.buildername.as_deref(), Some(task.label.as_str()));
            match record {
                Record::Build(_) => {
                    assert_eq!(task.kind, "build");
                    builds += 1;
                }
                Record::Test(test) => {
                    assert_eq!(task.kind, "test");
                    assert_eq!(test.os, platform, "{}", task.label);
                    assert!(task.label.ends_with(&test.test), "{}", task.label);
                    tests += 1;
                }
            }
        }
        assert!(
            errors.is_empty(),
            "{tree}: {} errors: {errors:#?}",
            errors.len()
        );
        assert!(builds >= 30, "{tree}: {builds} build records");
        assert!(tests >= 100, "{tree}: {tests} test records");
    }
}
