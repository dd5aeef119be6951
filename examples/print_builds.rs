//! Prints mozilla-central builds and tests as they finish: the seed's (the
//! Python pulsebuildmonitor's) `start_pulse_monitor(buildCallback=…,
//! testCallback=…)` usage in Rust.
//!
//! On Pulse: `PULSE_USER=me PULSE_PASSWORD=secret cargo run -p pulse-build-monitor --example print_builds`
//! (or `PULSE_URL=amqp://guest:guest@127.0.0.1:5672/` for a local broker).
//! Without a broker: `cargo run -p pulse-build-monitor --example print_builds -- --replay fixtures/replay`.

use std::time::Duration;

use clap::Parser;
use pulse_build_monitor::{Filter, Monitor};

/// Prints mozilla-central builds and tests as they finish.
#[derive(Parser)]
struct Args {
    /// Replay this recording (file or directory) instead of connecting to Pulse.
    #[arg(long, value_name = "PATH")]
    replay: Option<String>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // amiquip logs the AMQP handshake, password included, under this target.
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn"))
        .filter_module(pulse_wire::HANDSHAKE_LOG_TARGET, log::LevelFilter::Info)
        .init();
    let Args { replay } = Args::parse();

    let builder = Monitor::builder()
        // trees=['mozilla-central'] is the default; said here to show where it goes.
        .filter(Filter::builder().trees(["mozilla-central"]).build()?)
        .on_build(|build| {
            println!(
                "build {} {} {}: {}",
                build.job.tree,
                build.job.platform,
                build.job.buildtype,
                build.job.buildurl.as_deref().unwrap_or("(no build url)")
            )
        })
        .on_test(|test| {
            println!(
                "test  {} {} {} {} on {}: status {:?}, log {}",
                test.job.tree,
                test.job.platform,
                test.job.buildtype,
                test.test,
                test.os,
                test.job.status.map(|status| status.code()),
                test.job.logurl.as_deref().unwrap_or("-")
            )
        });

    // Without a broker, the in-process source reads recorded messages;
    // with none given, the monitor connects with PULSE_URL or
    // PULSE_USER/PULSE_PASSWORD.
    let monitor = match replay {
        Some(path) => builder.replay(&[path])?.start()?,
        None => builder.start()?,
    };

    // The seed's `while monitor.is_alive(): monitor.join(1.0)`; a replay
    // ends when its messages run out, a broker monitor runs until killed.
    while monitor.is_alive() {
        if let Some(report) = monitor.join_timeout(Duration::from_secs(1)) {
            eprintln!(
                "done: {} messages, {} matched",
                report.stats.received, report.stats.matched
            );
        }
    }
    Ok(())
}
