//! `fault-monitor`: a durable monitor that appends the id of every build
//! it handles to a file, for the process-crash and credential tests.
//!
//! ```text
//! PULSE_URL=amqp://user:pw@127.0.0.1:5672/vhost \
//!   fault-monitor --label L --ids FILE [--log-file F] [--dead-letters F]
//!                 [--prefetch N] [--connection-name NAME] [--work-ms MS]
//!                 [--workers N] [--queue-type classic|quorum]
//!                 [--delivery-limit N] [--abort-on ID]
//! ```
//!
//! The id is written (one line, straight to the file, no buffer) inside
//! the callback, before it returns; the monitor acknowledges a message only
//! after its callback returned, so every acknowledged message is in the
//! file, whenever the process dies. `--work-ms` makes each callback sleep
//! after writing, as real work would, so messages are in flight when the
//! process is killed. `--abort-on ID` makes the callback of that id write
//! `abort ID` to the ids file and abort the process (SIGABRT): a poison
//! message that kills its consumer. Runs until its stdin closes, then stops
//! gracefully and prints its counters. Exit code 2: the monitor could not
//! start (bad settings, credentials, certificate).

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::sync::Mutex;

use clap::builder::NonEmptyStringValueParser;
use clap::Parser;
use pulse_build_monitor::ConsumeOptions;
use pulse_build_monitor::PoolConfig;
use pulse_build_monitor::{ConnectionSettings, Monitor, QueueType};

/// A durable monitor that appends the id of every build it handles to a
/// file; runs until its stdin closes (PULSE_URL, or PULSE_USER and
/// PULSE_PASSWORD, say where).
#[derive(Parser)]
#[command(name = "fault-monitor")]
struct Args {
    /// The monitor's queue label.
    #[arg(long, value_parser = NonEmptyStringValueParser::new())]
    label: String,
    /// The file each handled build's id is appended to.
    #[arg(long, value_name = "FILE", value_parser = NonEmptyStringValueParser::new())]
    ids: String,
    /// The monitor's log file.
    #[arg(long, value_name = "FILE")]
    log_file: Option<String>,
    /// The monitor's dead-letter file.
    #[arg(long, value_name = "FILE")]
    dead_letters: Option<String>,
    /// Messages in flight at once.
    #[arg(long, value_name = "N", default_value_t = 100)]
    prefetch: u16,
    /// The connection name the broker shows.
    #[arg(long, value_name = "NAME")]
    connection_name: Option<String>,
    /// Sleep this long in each callback, after writing the id.
    #[arg(long = "work-ms", value_name = "MS", default_value_t = 0)]
    work_ms: u64,
    /// Callback threads; 0 keeps the monitor's default.
    #[arg(long, value_name = "N", default_value_t = 0)]
    workers: usize,
    /// classic or quorum.
    #[arg(long, value_name = "TYPE", default_value = "classic", value_parser = parse_queue_type)]
    queue_type: QueueType,
    /// x-delivery-limit of a quorum queue.
    #[arg(long, value_name = "N")]
    delivery_limit: Option<u32>,
    /// Abort the process in the callback of this id: a poison message.
    #[arg(long, value_name = "ID")]
    abort_on: Option<u64>,
}

fn parse_queue_type(text: &str) -> Result<QueueType, String> {
    text.parse().map_err(|e| format!("{e}"))
}

fn main() {
    // amiquip logs the AMQP credentials at debug under this target.
    env_logger::Builder::from_default_env()
        .filter_module(pulse_wire::HANDSHAKE_LOG_TARGET, log::LevelFilter::Info)
        .init();
    // A usage error exits with code 2, as a monitor that cannot start does.
    let args = Args::parse();
    if let Err(e) = run(args) {
        eprintln!("fault-monitor: {e}");
        std::process::exit(2);
    }
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let mut settings = ConnectionSettings::from_env()?;
    if let Some(name) = args.connection_name {
        settings.connection_name = name;
    }
    let ids = Mutex::new(
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&args.ids)?,
    );
    let work = std::time::Duration::from_millis(args.work_ms);
    let abort_on = args.abort_on;
    let mut builder = Monitor::builder()
        .broker(settings)
        .label(args.label)
        .durable(true)
        .declare_exchanges(true)
        .consume_options(ConsumeOptions::default().with_prefetch(args.prefetch))
        .callback_pool(PoolConfig::default().with_workers(args.workers))
        .queue_type(args.queue_type)
        .on_build(move |build| {
            let Some(id) = pulse_faults::record_id(&build) else {
                log::warn!("a build without a test id: {:?}", build.job.buildurl);
                return;
            };
            let mut file = ids.lock().unwrap_or_else(|e| e.into_inner());
            if abort_on == Some(id) {
                let _ = writeln!(file, "abort {id}");
                std::process::abort();
            }
            // The monitor acknowledges after a panicking callback too, so a
            // failed write aborts: the broker then redelivers the message.
            if let Err(e) = writeln!(file, "{id}") {
                eprintln!("fault-monitor: writing id {id}: {e}");
                std::process::abort();
            }
            drop(file);
            if !work.is_zero() {
                std::thread::sleep(work);
            }
        });
    if let Some(path) = args.log_file {
        builder = builder.log_file(path);
    }
    if let Some(path) = args.dead_letters {
        builder = builder.dead_letter_file(path);
    }
    if let Some(limit) = args.delivery_limit {
        builder = builder.delivery_limit(limit);
    }
    let monitor = builder.start()?;
    println!(
        "fault-monitor: consuming {}",
        monitor.queue_name().unwrap_or("?")
    );
    // Runs until the test closes our stdin.
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    let report = monitor.stop();
    println!(
        "fault-monitor: stopped received={} acknowledged={} reconnects={} complete={}",
        report.stats.received,
        report.stats.acknowledged,
        report.stats.reconnects,
        report.is_complete()
    );
    Ok(())
}
