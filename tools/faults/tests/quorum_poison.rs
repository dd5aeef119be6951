//! A poison message on a quorum queue with a delivery limit: the
//! `fault-monitor` process aborts (SIGABRT) in the callback of one message,
//! and is started again each time, as a supervisor would. The broker counts
//! the deliveries and drops the message after the limit, so the loop ends
//! and every other message is handled exactly once.
//!
//! Prefetch 1 and one worker: the abort then only ever finds the poison
//! message unacknowledged (a crash repeats whatever else is unacknowledged,
//! see RELIABILITY.md), so "exactly once" can be asserted for the others.

mod common;

use std::path::Path;
use std::time::Duration;

use common::start_fault_monitor;
use pulse_faults::{print_result, MonitorProcess, Stream, Tally};
use pulse_test_support::{wait_for, TempDir, Vhost};
use pulse_wire::Publisher;

const SENT: u64 = 200;
const POISON: u64 = 37;
const DELIVERY_LIMIT: u32 = 3;

fn start_monitor(url: &str, label: &str, ids: &Path) -> MonitorProcess {
    let limit = DELIVERY_LIMIT.to_string();
    let poison = POISON.to_string();
    start_fault_monitor(
        url,
        &[
            "--label",
            label,
            "--ids",
            ids.to_str().unwrap(),
            "--queue-type",
            "quorum",
            "--delivery-limit",
            &limit,
            "--abort-on",
            &poison,
            "--prefetch",
            "1",
            "--workers",
            "1",
        ],
    )
}

fn aborts(ids: &Path) -> usize {
    std::fs::read_to_string(ids)
        .unwrap_or_default()
        .lines()
        .filter(|line| *line == format!("abort {POISON}"))
        .count()
}

#[test]
fn a_poison_message_stops_after_the_delivery_limit() {
    let Some(vhost) = Vhost::create("faults") else {
        return;
    };
    let files = TempDir::new("faults-quorum");
    let ids = files.join("ids");
    let label = pulse_test_support::unique("quorum");
    let url = vhost.url();
    let queue = pulse_wire::queue_name("guest", Some(&label));
    let depth = || {
        Publisher::connect(&vhost.settings("quorum-check"))
            .and_then(|mut p| p.queue_depth(&queue))
            .unwrap()
    };
    let handled_others = || {
        let mut tally = Tally::new(SENT);
        pulse_faults::read_ids(&ids)
            .into_iter()
            .for_each(|id| tally.record(id));
        tally
    };

    let mut runs = 0;
    let mut exits = Vec::new();
    let last = loop {
        runs += 1;
        // The limit plus the first delivery, and one run that finishes.
        assert!(
            runs <= DELIVERY_LIMIT as usize + 3,
            "still crash-looping after {} runs: aborts {}",
            runs - 1,
            aborts(&ids)
        );
        let mut monitor = start_monitor(&url, &label, &ids);
        if runs == 1 {
            let listing = vhost.ctl().run_ok(&[
                "list_queues",
                "-q",
                "-p",
                vhost.name(),
                "name",
                "type",
                "durable",
                "arguments",
            ]);
            println!("declared: {}", listing.trim());
            assert!(
                listing.contains("quorum") && listing.contains("x-delivery-limit"),
                "not a quorum queue with a delivery limit: {listing}"
            );
            Stream::start(
                vhost.settings("quorum-publisher"),
                0..SENT,
                50,
                Duration::ZERO,
            )
            .join();
        }
        let settled = wait_for(Duration::from_secs(60), || {
            monitor.has_exited() || (handled_others().unique() == SENT - 1 && depth() == 0)
        });
        assert!(settled, "run {runs} neither aborted nor finished");
        if monitor.has_exited() {
            let ended = monitor.stop(Duration::from_secs(5));
            exits.push(format!("{:?}", ended.status));
            continue;
        }
        break monitor.stop(Duration::from_secs(30));
    };

    let tally = handled_others();
    let aborted = aborts(&ids);
    let depth_after = depth();
    print_result(
        "quorum-poison",
        &tally,
        &format!(
            "poison={POISON} delivery_limit={DELIVERY_LIMIT} poison_deliveries={aborted} \
             runs={runs} queue_depth_after={depth_after} exits={exits:?}"
        ),
    );
    println!("last run: {}", last.stdout.trim());
    assert!(last.status.is_some_and(|s| s.success()), "{last:?}");
    assert_eq!(
        tally.lost(),
        vec![POISON],
        "only the poison message is missing"
    );
    assert_eq!(tally.duplicates(), 0, "{:?}", tally.duplicated_ids());
    assert_eq!(tally.strangers(), 0);
    assert!(aborted >= 1, "the poison message never arrived");
    assert!(
        aborted <= DELIVERY_LIMIT as usize + 1,
        "the poison message was delivered {aborted} times, limit {DELIVERY_LIMIT}"
    );
    assert_eq!(depth_after, 0, "the poison message is still queued");
}
