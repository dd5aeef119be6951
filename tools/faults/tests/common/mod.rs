//! What the fault tests share: a monitor that tallies the ids it is given,
//! and the `fault-monitor` binary started and consuming.
#![allow(dead_code)]

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pulse_build_monitor::{
    Backoff, ConnectionSettings, ConsumeOptions, Monitor, MonitorBuilder, PoolConfig,
};
use pulse_faults::{record_id, MonitorProcess, Tally};

/// A durable monitor on `settings` whose build callback records each id in
/// the returned tally, then sleeps `work` (a callback's work, which keeps
/// messages in flight); reconnects quickly (50 ms doubling to `cap`).
pub fn tallying_monitor(
    settings: ConnectionSettings,
    label: &str,
    sent: u64,
    prefetch: u16,
    cap: Duration,
    work: Duration,
) -> (MonitorBuilder, Arc<Mutex<Tally>>) {
    let tally = Arc::new(Mutex::new(Tally::new(sent)));
    let seen = Arc::clone(&tally);
    let builder = Monitor::builder()
        .broker(settings)
        .label(label)
        .durable(true)
        .declare_exchanges(true)
        .callback_pool(PoolConfig::default().with_workers(4))
        .consume_options(
            ConsumeOptions::default()
                .with_prefetch(prefetch)
                .with_reconnect(Backoff::new(Duration::from_millis(50), cap))
                .with_stop_timeout(Duration::from_secs(2)),
        )
        .on_build(move |build| {
            let id = record_id(&build).expect("every test build carries an id");
            seen.lock().unwrap().record(id);
            if !work.is_zero() {
                std::thread::sleep(work);
            }
        });
    (builder, tally)
}

/// Locks and copies the tally.
pub fn snapshot(tally: &Mutex<Tally>) -> Tally {
    tally.lock().unwrap().clone()
}

/// Lists up to 50 ids, for failure and duplicate reports.
pub fn some(ids: &[u64]) -> String {
    let shown: Vec<String> = ids.iter().take(50).map(u64::to_string).collect();
    let more = if ids.len() > 50 { " ..." } else { "" };
    format!("[{}{more}] ({} in all)", shown.join(", "), ids.len())
}

/// Runs `fault-monitor args` against `url` (`RUST_LOG=warn`) and waits up
/// to 30 s until it says it is consuming; fails with its output otherwise.
pub fn start_fault_monitor(url: &str, args: &[&str]) -> MonitorProcess {
    let mut process = MonitorProcess::spawn(
        Path::new(env!("CARGO_BIN_EXE_fault-monitor")),
        args,
        &[("PULSE_URL", url), ("RUST_LOG", "warn")],
    );
    assert!(
        process.wait_for_output("consuming", Duration::from_secs(30)),
        "fault-monitor did not start: {}{}",
        process.stdout(),
        process.stderr()
    );
    process
}
