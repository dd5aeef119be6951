//! Process crash: the `fault-monitor` process (durable queue, fixed label)
//! is SIGKILLed mid-stream and started again with the same label.
//!
//! The binary writes each id to its file inside the callback, and the
//! monitor acknowledges only after the callback returned: if anything were
//! acknowledged before being handled, a kill between the two would lose it,
//! and the union of both runs' ids would miss it.

mod common;

use std::path::Path;
use std::time::Duration;

use common::start_fault_monitor;
use pulse_faults::{print_result, read_ids, MonitorProcess, Stream, Tally};
use pulse_test_support::{wait_for, TempDir, Vhost};
use pulse_wire::Publisher;

const SENT: u64 = 10_000;
const PREFETCH: u64 = 100;

fn start_monitor(url: &str, label: &str, ids: &Path, connection_name: &str) -> MonitorProcess {
    let prefetch = PREFETCH.to_string();
    start_fault_monitor(
        url,
        &[
            "--label",
            label,
            "--ids",
            ids.to_str().unwrap(),
            "--prefetch",
            &prefetch,
            "--connection-name",
            connection_name,
            // Slower than the publisher: the queue backs up and the kill
            // finds a full prefetch window in flight.
            "--work-ms",
            "4",
        ],
    )
}

#[test]
fn sigkill_mid_stream_loses_nothing() {
    let Some(vhost) = Vhost::create("faults") else {
        return;
    };
    let files = TempDir::new("faults-crash");
    let ids = files.join("ids");
    let label = pulse_test_support::unique("crash");
    let url = vhost.url();
    let queue = pulse_wire::queue_name("guest", Some(&label));

    let first_name = pulse_test_support::unique("crash-first");
    let first = start_monitor(&url, &label, &ids, &first_name);
    let stream = Stream::start(
        vhost.settings("crash-publisher"),
        0..SENT,
        100,
        Duration::from_millis(40),
    );
    assert!(
        wait_for(Duration::from_secs(60), || read_ids(&ids).len() >= 3_000),
        "the first run handled only {} messages",
        read_ids(&ids).len()
    );
    let first_pid = first.id();
    let killed = first.kill();
    let handled_before_kill = read_ids(&ids).len();
    assert!(killed.status.is_none(), "it was killed, not stopped");

    // While no monitor runs, the durable queue keeps what arrives: checked
    // once the broker has seen the killed process's connection go (when a
    // queue tied to it would be deleted), not after a guessed pause.
    assert!(
        wait_for(Duration::from_secs(30), || vhost
            .ctl()
            .connections_named(&first_name)
            .is_empty()),
        "the broker still lists the killed monitor's connection"
    );
    let queues = vhost.queues();
    assert!(
        queues.contains(&queue),
        "queue gone after the kill: {queues}"
    );

    let second = start_monitor(
        &url,
        &label,
        &ids,
        &pulse_test_support::unique("crash-second"),
    );
    let published = stream.join();
    let all = wait_for(Duration::from_secs(90), || {
        let mut tally = Tally::new(SENT);
        read_ids(&ids).into_iter().for_each(|id| tally.record(id));
        tally.unique() == SENT
    });
    let ended = second.stop(Duration::from_secs(30));
    let mut tally = Tally::new(SENT);
    read_ids(&ids).into_iter().for_each(|id| tally.record(id));
    let depth = Publisher::connect(&vhost.settings("crash-check"))
        .and_then(|mut p| p.queue_depth(&queue))
        .unwrap();
    print_result(
        "process-crash",
        &tally,
        &format!(
            "killed_pid={first_pid} handled_before_kill={handled_before_kill} \
             prefetch={PREFETCH} queue_depth_after={depth}"
        ),
    );
    println!("second run: {}", ended.stdout.trim());
    assert_eq!(published, SENT);
    assert!(
        all,
        "lost after SIGKILL: {:?}",
        &tally.lost()[..tally.lost().len().min(50)]
    );
    assert_eq!(tally.strangers(), 0);
    assert!(ended.status.is_some_and(|s| s.success()), "{ended:?}");
    assert_eq!(depth, 0, "messages left in the queue");
    // Only what was unacknowledged at the kill comes again.
    assert!(
        tally.duplicates() <= PREFETCH,
        "{} duplicates exceed the prefetch window",
        tally.duplicates()
    );
}
