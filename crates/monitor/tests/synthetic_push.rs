//! A generated push of today's traffic (`pulse-synthetic`: thousands of
//! tasks of every kind, failures, exceptions and retries) published on the
//! real broker, read by three monitors at once:
//!
//! - every kind, with progress: each message is a record (finished runs)
//!   or a progress record (pending, running), and none is an error;
//! - `results testfailed, busted, exception`: exactly the runs Treeherder
//!   shows with those results;
//! - `kinds source-test`: exactly the lint tasks' finished runs.
//!
//! The push goes to a tree no other test uses, so only its messages reach
//! these queues.

mod taskcluster_support;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pulse_build_monitor::{exchanges, Filter, JobKind, Monitor, Record, Source, StopReport};
use pulse_synthetic::{Outcome, Push, SyntheticTask};
use taskcluster_support::broker_or_skip;

/// A finished or unfinished run: (task id, run id).
type Run = (String, u32);

/// What one monitor heard.
#[derive(Default)]
struct Heard {
    received: usize,
    finished: Vec<Run>,
    progress: Vec<Run>,
}

fn run_of(record: &Record) -> (Run, bool) {
    match record {
        Record::Task(task) => (
            (task.task_id.clone(), task.run_id),
            task.state.is_finished(),
        ),
        other => {
            let job = other.job().unwrap();
            ((job.task_id.clone().unwrap(), job.run_id.unwrap()), true)
        }
    }
}

fn start(
    settings: &pulse_wire::ConnectionSettings,
    label: &str,
    progress: bool,
    filter: Filter,
) -> (Monitor, Arc<Mutex<Heard>>) {
    let heard = Arc::new(Mutex::new(Heard::default()));
    let keep = |heard: &Arc<Mutex<Heard>>| {
        let heard = Arc::clone(heard);
        move |record: Record| {
            let (run, finished) = run_of(&record);
            let mut heard = heard.lock().unwrap();
            if finished {
                heard.finished.push(run);
            } else {
                heard.progress.push(run);
            }
        }
    };
    let (on_build, on_test, on_task) = (keep(&heard), keep(&heard), keep(&heard));
    let on_message = Arc::clone(&heard);
    let mut settings = settings.clone();
    settings.connection_name.push_str(&format!("-{label}"));
    let monitor = Monitor::builder()
        .source(Source::Taskcluster { progress })
        .filter(filter)
        .broker(settings)
        .label(label.to_string())
        .declare_exchanges(true)
        .on_message(move |_| on_message.lock().unwrap().received += 1)
        .on_build(move |b| on_build(Record::Build(b)))
        .on_test(move |t| on_test(Record::Test(t)))
        .on_task(move |t| on_task(Record::Task(t)))
        .start()
        .unwrap();
    (monitor, heard)
}

/// Waits until `monitor` received `count` messages, then stops it: the
/// stop finishes every callback of what it received.
fn drain(monitor: Monitor, heard: &Arc<Mutex<Heard>>, count: usize) -> StopReport {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let received = heard.lock().unwrap().received;
        assert!(
            received <= count,
            "{received} of {count}: more than was sent"
        );
        if received == count {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {received} of {count} arrived"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let report = monitor.stop();
    assert!(report.is_complete(), "{report:?}");
    report
}

/// Treeherder's result for a run, written out independently of the
/// translator: testfailed or busted for failed runs, and for exceptions
/// `exception` unless cancelled (usercancel) or rerun by the queue (retry).
fn treeherder_result(task: &SyntheticTask, run_id: u32) -> &'static str {
    let run = &task.runs[run_id as usize];
    let rerun = task
        .runs
        .get(run_id as usize + 1)
        .is_some_and(|next| matches!(next.reason_created, "retry" | "task-retry"));
    match run.outcome {
        Outcome::Completed => "success",
        Outcome::Failed if task.job_kind == JobKind::Test => "testfailed",
        Outcome::Failed => "busted",
        Outcome::Exception { .. } if rerun => "retry",
        Outcome::Exception { .. } if run.reason_resolved() == "canceled" => "usercancel",
        Outcome::Exception { .. } => "exception",
    }
}

fn sorted(mut runs: Vec<Run>) -> Vec<Run> {
    runs.sort();
    runs
}

#[test]
fn a_generated_push_through_the_broker_every_message_accounted_for() {
    let Some(settings) = broker_or_skip("pulse-build-monitor-test/synthetic-push") else {
        return;
    };
    let tree = format!("synthetic-{}", pulse_wire::random_label());
    let push = Push::builder()
        .tree(tree.as_str())
        .tasks(2500)
        .seed(11)
        .build();
    // The queue's run messages: this test is about records (the push
    // tracker's own messages have tests of their own).
    let messages: Vec<_> = push
        .messages()
        .into_iter()
        .filter(|m| exchanges::TASK_ALL.contains(&m.exchange.as_str()))
        .collect();
    let finished_messages = messages
        .iter()
        .filter(|m| exchanges::TASK_FINISHED.contains(&m.exchange.as_str()))
        .count();
    let run_key = |routing_key: &str| -> Run {
        let mut key = routing_key.split('.').skip(1);
        let task = key.next().unwrap().to_string();
        (task, key.next().unwrap().parse().unwrap())
    };
    let finished: Vec<Run> = messages
        .iter()
        .filter(|m| exchanges::TASK_FINISHED.contains(&m.exchange.as_str()))
        .map(|m| run_key(&m.routing_key))
        .collect();
    let progress: Vec<Run> = messages
        .iter()
        .filter(|m| exchanges::TASK_PROGRESS.contains(&m.exchange.as_str()))
        .map(|m| run_key(&m.routing_key))
        .collect();
    let task = |id: &str| push.tasks.iter().find(|t| t.task_id == id).unwrap();
    let broke: Vec<Run> = finished
        .iter()
        .filter(|(id, run)| {
            matches!(
                treeherder_result(task(id), *run),
                "testfailed" | "busted" | "exception"
            )
        })
        .cloned()
        .collect();
    let lint: Vec<Run> = finished
        .iter()
        .filter(|(id, _)| task(id).kind == "source-test")
        .cloned()
        .collect();
    // The push has what the filters are about.
    assert!(broke.len() >= 10, "{} broken runs", broke.len());
    assert!(lint.len() >= 10, "{} lint runs", lint.len());
    let kinds: BTreeSet<&str> = push.tasks.iter().map(|t| t.kind.as_str()).collect();
    assert!(kinds.len() >= 15, "{kinds:?}");

    let label = format!("synthetic-{}", pulse_wire::random_label());
    let on_tree = || Filter::builder().trees([tree.as_str()]);
    let (everything, all_heard) = start(
        &settings,
        &format!("{label}-all"),
        true,
        on_tree().any_kind().talos(true).build().unwrap(),
    );
    let (failures, broke_heard) = start(
        &settings,
        &format!("{label}-broke"),
        false,
        on_tree()
            .any_kind()
            .talos(true)
            .results(["testfailed", "busted", "exception"])
            .build()
            .unwrap(),
    );
    let (lints, lint_heard) = start(
        &settings,
        &format!("{label}-lint"),
        false,
        on_tree().kinds(["source-test"]).build().unwrap(),
    );

    let mut publisher = pulse_wire::Publisher::connect(&settings).unwrap();
    for exchange in exchanges::TASK_ALL {
        publisher.declare_exchange(exchange).unwrap();
    }
    for m in &messages {
        publisher
            .publish(&m.exchange, &m.routing_key, &m.body, Some(&m.cc))
            .unwrap();
    }
    publisher.close().unwrap();

    let report = drain(everything, &all_heard, messages.len());
    assert_eq!(report.stats.translation_errors, 0);
    let heard = all_heard.lock().unwrap();
    assert_eq!(
        heard.finished.len() + heard.progress.len(),
        heard.received,
        "records + progress records = received"
    );
    assert_eq!(sorted(heard.finished.clone()), sorted(finished.clone()));
    assert_eq!(sorted(heard.progress.clone()), sorted(progress));

    // The results rule binds only task-failed and task-exception.
    let failed_or_exception = messages
        .iter()
        .filter(|m| m.exchange == exchanges::TASK_FAILED || m.exchange == exchanges::TASK_EXCEPTION)
        .count();
    assert!(failed_or_exception < finished_messages);
    let report = drain(failures, &broke_heard, failed_or_exception);
    assert_eq!(report.stats.translation_errors, 0);
    let heard = broke_heard.lock().unwrap();
    assert!(heard.progress.is_empty());
    assert_eq!(sorted(heard.finished.clone()), sorted(broke));

    let report = drain(lints, &lint_heard, finished_messages);
    assert_eq!(report.stats.translation_errors, 0);
    let heard = lint_heard.lock().unwrap();
    assert_eq!(sorted(heard.finished.clone()), sorted(lint));
}
