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

use pulse_build_monitor::{ConnectionSettings, Monitor, QueueType};

struct Args {
    label: String,
    ids: String,
    log_file: Option<String>,
    dead_letters: Option<String>,
    prefetch: u16,
    connection_name: Option<String>,
    work: std::time::Duration,
    workers: usize,
    queue_type: QueueType,
    delivery_limit: Option<u32>,
    abort_on: Option<u64>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        label: String::new(),
        ids: String::new(),
        log_file: None,
        dead_letters: None,
        prefetch: 100,
        connection_name: None,
        work: std::time::Duration::ZERO,
        workers: 0,
        queue_type: QueueType::Classic,
        delivery_limit: None,
        abort_on: None,
    };
    let mut given = std::env::args().skip(1);
    while let Some(flag) = given.next() {
        let mut value = || given.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--label" => args.label = value()?,
            "--ids" => args.ids = value()?,
            "--log-file" => args.log_file = Some(value()?),
            "--dead-letters" => args.dead_letters = Some(value()?),
            "--connection-name" => args.connection_name = Some(value()?),
            "--prefetch" => {
                let text = value()?;
                args.prefetch = text
                    .parse()
                    .map_err(|_| format!("--prefetch `{text}` is not 1..65535"))?;
            }
            "--work-ms" => {
                let text = value()?;
                let millis = text
                    .parse()
                    .map_err(|_| format!("--work-ms `{text}` is not milliseconds"))?;
                args.work = std::time::Duration::from_millis(millis);
            }
            "--workers" => {
                let text = value()?;
                args.workers = text
                    .parse()
                    .map_err(|_| format!("--workers `{text}` is not a number"))?;
            }
            "--queue-type" => {
                let text = value()?;
                args.queue_type = text.parse().map_err(|e| format!("--queue-type: {e}"))?;
            }
            "--delivery-limit" => {
                let text = value()?;
                args.delivery_limit = Some(
                    text.parse()
                        .map_err(|_| format!("--delivery-limit `{text}` is not a number"))?,
                );
            }
            "--abort-on" => {
                let text = value()?;
                args.abort_on = Some(
                    text.parse()
                        .map_err(|_| format!("--abort-on `{text}` is not an id"))?,
                );
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if args.label.is_empty() || args.ids.is_empty() {
        return Err("--label and --ids are required".to_string());
    }
    Ok(args)
}

fn main() {
    // amiquip logs the AMQP credentials at debug under this target.
    env_logger::Builder::from_default_env()
        .filter_module(pulse_wire::HANDSHAKE_LOG_TARGET, log::LevelFilter::Info)
        .init();
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("fault-monitor: {e}");
            std::process::exit(2);
        }
    };
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
    let work = args.work;
    let abort_on = args.abort_on;
    let mut builder = Monitor::builder()
        .broker(settings)
        .label(args.label)
        .durable(true)
        .declare_exchanges(true)
        .prefetch(args.prefetch)
        .workers(args.workers)
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
    if let Some(limit) = args.delivery_limit {
        builder = builder.delivery_limit(limit);
    }
    if let Some(path) = args.log_file {
        builder = builder.log_file(path);
    }
    if let Some(path) = args.dead_letters {
        builder = builder.dead_letter_file(path);
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
