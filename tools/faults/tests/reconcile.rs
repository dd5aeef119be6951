//! Reconciliation: a monitor stops mid-push, its (non-durable) queue goes
//! with it, and the rest of the push is published to nobody. Started again
//! on the same push state, the monitor lists the push's task group from a
//! local Taskcluster queue and reads back what it missed: the push's
//! summary equals the generator's truth, each missed final run arrives as
//! one record marked `reconciled`, and nothing it had is delivered again.
//! A queue answering 500 is retried later while the live path goes on.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pulse_build_monitor::{
    ConnectionSettings, DetailsSettings, Filter, Message, Monitor, PushEvent, PushEventKind,
    PushSettings, Record, Source,
};
use pulse_synthetic::{JobKind, Push};
use pulse_taskcluster::Queue;
use pulse_test_support::{
    publish_pulse_messages, unique, wait_until, QueueServer, Reply, TempDir, Vhost,
};

#[derive(Default)]
struct Heard {
    /// (task, run) → how many records, and whether reconciled.
    runs: BTreeMap<(String, u32), Vec<bool>>,
    events: Vec<PushEvent>,
}

fn start(
    settings: ConnectionSettings,
    label: &str,
    tree: &str,
    state: &std::path::Path,
    server: &QueueServer,
    heard: &Arc<Mutex<Heard>>,
) -> Monitor {
    start_working(settings, label, tree, state, server, heard, Duration::ZERO)
}

/// [`start`], each build and test callback taking `work`, two workers: a
/// slow consumer whose queue backs up.
fn start_working(
    settings: ConnectionSettings,
    label: &str,
    tree: &str,
    state: &std::path::Path,
    server: &QueueServer,
    heard: &Arc<Mutex<Heard>>,
    work: Duration,
) -> Monitor {
    let (builds, tests, pushes) = (Arc::clone(heard), Arc::clone(heard), Arc::clone(heard));
    let note = move |heard: &Mutex<Heard>, record: &Record| {
        std::thread::sleep(work);
        let job = record.job().unwrap();
        let key = (job.task_id.clone().unwrap(), job.run_id.unwrap());
        heard
            .lock()
            .unwrap()
            .runs
            .entry(key)
            .or_default()
            .push(job.reconciled);
    };
    let queue = Queue::new(server.root_url.clone())
        .unwrap()
        .timeout(Duration::from_secs(2));
    Monitor::builder()
        .broker(settings)
        .label(label)
        .declare_exchanges(true)
        .source(Source::Taskcluster { progress: false })
        .filter(Filter::builder().trees([tree]).talos(true).build().unwrap())
        .push_tracking(
            PushSettings::default()
                .with_state_file(state)
                .with_quiet_period(Duration::from_secs(1)),
        )
        .details(DetailsSettings::new(queue).with_timeout(Duration::from_secs(10)))
        .callback_pool(pulse_build_monitor::PoolConfig::default().with_workers(2))
        .consume_options(pulse_build_monitor::ConsumeOptions::default().with_prefetch(20))
        .on_build(move |b| note(&builds, &Record::Build(b)))
        .on_test(move |t| note(&tests, &Record::Test(t)))
        .on_push(move |e| pushes.lock().unwrap().events.push(e))
        .start()
        .expect("the monitor starts")
}

/// The push finished, once, with the generator's counts.
fn assert_finished_with_truth(heard: &Heard, truth: &pulse_synthetic::PushTruth) {
    let finished: Vec<&PushEvent> = heard
        .events
        .iter()
        .filter(|e| e.event == PushEventKind::Finished)
        .collect();
    assert_eq!(finished.len(), 1, "finished once");
    let counts = finished[0].push.counts;
    let got = [
        counts.tasks,
        counts.success,
        counts.testfailed,
        counts.busted,
        counts.exception,
        counts.usercancel,
    ];
    let want = [
        truth.tasks,
        truth.success,
        truth.testfailed,
        truth.busted,
        truth.exception,
        truth.usercancel,
    ];
    assert_eq!(
        got, want,
        "tasks, success, testfailed, busted, exception, usercancel: {counts:?}"
    );
    assert_eq!(counts.unfinished(), 0);
}

#[test]
fn a_push_missed_while_stopped_is_read_back_from_the_queue() {
    let Some(vhost) = Vhost::create("faults") else {
        return;
    };
    let tree = unique("reconcile");
    let push = Push::builder()
        .tree(tree.as_str())
        .tasks(300)
        .seed(17)
        .build();
    let truth = push.truth();
    let server = QueueServer::serving_push(&push, Vec::<(String, Reply)>::new());
    let dir = TempDir::new("reconcile");
    let state = dir.join("pushes.sqlite");
    let label = unique("reconcile");
    let messages: Vec<Message> = push.messages().into_iter().map(|m| m.message).collect();
    let (first, rest) = messages.split_at(messages.len() * 2 / 5);

    let heard: Arc<Mutex<Heard>> = Arc::default();
    let monitor = start(
        vhost.settings("reconcile-a"),
        &label,
        &tree,
        &state,
        &server,
        &heard,
    );
    publish_pulse_messages(&vhost.settings("reconcile-pub"), first);
    wait_until(Duration::from_secs(60), "the first part handled", || {
        let stats = monitor.stats();
        stats.received >= first.len() as u64 && stats.acknowledged >= stats.received
    });
    let report = monitor.stop();
    assert!(report.is_complete(), "{report:?}");
    // The queue went with the monitor: the rest reaches nobody.
    publish_pulse_messages(&vhost.settings("reconcile-pub"), rest);

    let monitor = start(
        vhost.settings("reconcile-b"),
        &label,
        &tree,
        &state,
        &server,
        &heard,
    );
    wait_until(
        Duration::from_secs(90),
        "the push finished after reconciling",
        || {
            heard
                .lock()
                .unwrap()
                .events
                .iter()
                .any(|e| e.event == PushEventKind::Finished)
        },
    );
    let stats = monitor.stop().stats;
    println!(
        "RESULT reconcile reconciled={} reconcile_errors={} listings={}",
        stats.reconciled,
        stats.reconcile_errors,
        server.requests_to(&format!(
            "/api/queue/v1/task-group/{}/list",
            push.task_group_id()
        ))
    );
    assert!(stats.reconciled > 0, "{stats:?}");
    assert_eq!(stats.reconcile_errors, 0);

    let heard = heard.lock().unwrap();
    assert_finished_with_truth(&heard, &truth);

    // Each final run of a build or test arrived once: live, or reconciled.
    let mut reconciled = 0;
    for task in push
        .tasks
        .iter()
        .filter(|t| t.kind == "build" || (t.job_kind == JobKind::Test && t.kind != "source-test"))
    {
        let run = task.runs.last().unwrap().run_id;
        let Some(records) = heard.runs.get(&(task.task_id.clone(), run)) else {
            continue; // a test the filter leaves out (a kind it does not place)
        };
        assert_eq!(records.len(), 1, "{} run {run}: {records:?}", task.label);
        reconciled += usize::from(records[0]);
    }
    assert!(reconciled > 0, "some final runs came from the queue");
}

#[test]
fn a_queue_that_fails_is_retried_later_and_the_live_path_goes_on() {
    let Some(vhost) = Vhost::create("faults") else {
        return;
    };
    let log = pulse_faults::CapturedLog::install();
    let tree = unique("reconcile-down");
    let push = Push::builder()
        .tree(tree.as_str())
        .tasks(200)
        .seed(18)
        .build();
    let listing = format!("/api/queue/v1/task-group/{}/list", push.task_group_id());
    let server = QueueServer::serving_push(&push, [(listing.clone(), Reply::Status(500))]);
    let dir = TempDir::new("reconcile-down");
    let state = dir.join("pushes.sqlite");
    let label = unique("reconcile-down");
    let messages: Vec<Message> = push.messages().into_iter().map(|m| m.message).collect();
    let (first, rest) = messages.split_at(messages.len() / 3);

    let heard: Arc<Mutex<Heard>> = Arc::default();
    let monitor = start(
        vhost.settings("down-a"),
        &label,
        &tree,
        &state,
        &server,
        &heard,
    );
    publish_pulse_messages(&vhost.settings("down-pub"), first);
    wait_until(Duration::from_secs(60), "the first part handled", || {
        let stats = monitor.stats();
        stats.received >= first.len() as u64 && stats.acknowledged >= stats.received
    });
    drop(monitor);

    let monitor = start(
        vhost.settings("down-b"),
        &label,
        &tree,
        &state,
        &server,
        &heard,
    );
    wait_until(
        Duration::from_secs(60),
        "the failed listing counted",
        || monitor.stats().reconcile_errors >= 1,
    );
    // The live path goes on: what is published now is handled.
    let before = monitor.stats().received;
    publish_pulse_messages(&vhost.settings("down-pub"), rest);
    wait_until(Duration::from_secs(60), "the rest handled live", || {
        monitor.stats().received >= before + rest.len() as u64
    });
    assert!(monitor.is_alive());
    let warnings = log.matching(log::Level::Warn, "cannot list task group");
    assert!(!warnings.is_empty(), "{:?}", log.all());
    assert!(warnings[0].contains("trying again"), "{}", warnings[0]);
}

/// PulseGuardian's case: a queue that grew is deleted mid-push, with what
/// it held. The monitor declares it again, lists the push's task group and
/// reads back what the deleted backlog held.
#[test]
fn a_queue_deleted_mid_push_is_reconciled_from_the_listing() {
    let Some(vhost) = Vhost::create("faults") else {
        return;
    };
    let tree = unique("reconcile-deleted");
    let push = Push::builder()
        .tree(tree.as_str())
        .tasks(300)
        .seed(19)
        .build();
    let truth = push.truth();
    let server = QueueServer::serving_push(&push, Vec::<(String, Reply)>::new());
    let dir = TempDir::new("reconcile-deleted");
    let state = dir.join("pushes.sqlite");
    let label = unique("reconcile-deleted");
    let queue = pulse_wire::queue_name("guest", Some(&label));
    let messages: Vec<Message> = push.messages().into_iter().map(|m| m.message).collect();

    let heard: Arc<Mutex<Heard>> = Arc::default();
    // Slow callbacks: the queue backs up behind them.
    let monitor = start_working(
        vhost.settings("deleted-monitor"),
        &label,
        &tree,
        &state,
        &server,
        &heard,
        Duration::from_millis(15),
    );
    publish_pulse_messages(&vhost.settings("deleted-pub"), &messages);
    wait_until(
        Duration::from_secs(60),
        "a backlog behind the slow callbacks",
        || {
            let stats = monitor.stats();
            stats.received >= messages.len() as u64 / 5
                && stats.received < messages.len() as u64 / 2
        },
    );
    vhost
        .ctl()
        .run_ok(&["delete_queue", "-p", vhost.name(), &queue]);
    wait_until(
        Duration::from_secs(120),
        "the push finished after the deletion",
        || {
            heard
                .lock()
                .unwrap()
                .events
                .iter()
                .any(|e| e.event == PushEventKind::Finished)
        },
    );
    let stats = monitor.stop().stats;
    println!(
        "RESULT reconcile-deleted received={} of {} reconciled={} queue_deleted={}",
        stats.received,
        messages.len(),
        stats.reconciled,
        stats.queue_deleted
    );
    assert_eq!(stats.queue_deleted, 1, "{stats:?}");
    assert!(
        stats.received < messages.len() as u64,
        "the deletion took messages with it"
    );
    assert!(stats.reconciled > 0, "{stats:?}");
    let heard = heard.lock().unwrap();
    assert_finished_with_truth(&heard, &truth);
}
