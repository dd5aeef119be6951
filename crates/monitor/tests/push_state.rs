//! A broker monitor with a push state file: a message is acknowledged
//! once its effect on the state is on disk, within the write window, even
//! when nothing else arrives to push the window along.

use std::time::Duration;

use pulse_build_monitor::{Filter, Monitor, PushSettings, Source};
use pulse_push::{PushTracker, TrackerConfig};
use pulse_synthetic::Push;
use pulse_test_support::{broker_settings, unique, wait_until, BrokerCleanup, TempDir};

const WAIT: Duration = Duration::from_secs(60);

fn monitor_with_state(
    settings: &pulse_wire::ConnectionSettings,
    label: &str,
    tree: &str,
    state: &std::path::Path,
) -> Monitor {
    Monitor::builder()
        .broker(settings.clone())
        .label(label)
        .durable(true)
        .declare_exchanges(true)
        .source(Source::Taskcluster { progress: false })
        .filter(Filter::builder().trees([tree]).build().unwrap())
        .push_tracking(PushSettings::default().with_state_file(state))
        .on_push(|_| {})
        .start()
        .unwrap()
}

#[test]
fn a_lone_message_is_acknowledged_once_written_and_a_burst_once_each() {
    let Some(settings) = broker_settings("push-state") else {
        return;
    };
    let push = Push::builder()
        .tree(unique("push-state").as_str())
        .tasks(60)
        .seed(3)
        .build();
    let messages: Vec<_> = push.messages().into_iter().map(|m| m.message).collect();
    let dir = TempDir::new("push-state");
    let state = dir.join("pushes.sqlite");
    let label = unique("push-state");
    let _queue_guard = BrokerCleanup::for_label(&settings, &label);
    let monitor = monitor_with_state(&settings, &label, &push.tree, &state);

    // One message, then silence: only the writer's own window can let its
    // acknowledgement go.
    pulse_test_support::publish_pulse_messages(&settings, &messages[..1]);
    wait_until(WAIT, "the lone message acknowledged", || {
        monitor.stats().acknowledged == 1
    });

    // A burst larger than a quarter of the prefetch window: each message
    // acknowledged exactly once, none left held.
    pulse_test_support::publish_pulse_messages(&settings, &messages[1..]);
    let total = messages.len() as u64;
    wait_until(WAIT, "every message acknowledged", || {
        monitor.stats().acknowledged == total
    });
    let report = monitor.stop();
    assert_eq!(report.stats.received, total, "{:?}", report.stats);
    assert_eq!(report.stats.acknowledged, total, "{:?}", report.stats);
    assert_eq!(report.stats.state_write_errors, 0);

    // What was acknowledged is in the file: every task of the push, each
    // counted once.
    let tracker = PushTracker::open(&state, TrackerConfig::default()).unwrap();
    let summary = tracker
        .push(&push.tree, &push.revision)
        .expect("the push is in the state file");
    assert_eq!(summary.counts.tasks, push.truth().tasks, "{summary:?}");
}
