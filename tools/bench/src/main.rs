//! `bench`: how close the monitor runs to its limits, measured side by side
//! with those limits in one run, printed as a markdown table with ratios.
//!
//! 1. Translation ([`translation`]): raw buildbot messages translated per
//!    second against parsing the same bytes into `IgnoredAny`; normalized
//!    payloads and buildernames per second.
//!    SIMD JSON ([`simd`]): sonic-rs against serde_json on the same bodies.
//! 2. End to end ([`endtoend`]): the full monitor (translation, filter,
//!    dispatch, ack after the callback) against a bare amiquip consumer,
//!    both draining the same pre-published backlog.
//! 3. Latency: publish to callback at a steady 1,000 messages per second.
//! 4. Memory ([`processes`]): peak RSS of a monitor process draining 10k
//!    and 50k real-size messages with a slow callback.
//! 5. Scale-out: 1, 2 and 4 monitor processes on one durable queue, and a
//!    check that each message was handled exactly once.
//! 6. Taskcluster ([`taskcluster`]): today's queue messages translated
//!    against `IgnoredAny`, and a generated push ([`tc_messages`],
//!    `pulse-synthetic`) end to end against the bare consumer.
//! 7. Cost ([`cost`]): CPU seconds per 100,000 messages at a steady
//!    1,000 msg/s, the monitor process against a bare consumer process.
//!    Idle ([`cost::idle`]): an idle monitor process's CPU as a share of
//!    a core, and CPU per message at 10 and 100 msg/s. Page ([`page`]):
//!    the monitor with everything on (push tracking, details, the live
//!    page) with 100 open live pages, against none and against the bare
//!    consumer.
//! 8. Burst ([`burst`]): a push published as fast as the broker takes it;
//!    peak queue depth and time to drain, monitor against bare consumer.
//! 9. Replay ([`replay`]): recorded Taskcluster messages replayed with a
//!    filter keeping nothing against `IgnoredAny` over the same lines, and
//!    peak RSS of a replay of a file and of one ten times larger.
//!
//! Everything declared on the broker is written to a ledger file first and
//! deleted at the end, also after an error; `bench cleanup <ledger>`
//! deletes what a killed run left behind. Neighbours: every workspace
//! crate, used as a user would; [`corpus`] reads the shared corpus.
//!
//! ```text
//! bench [--quick]
//!       [--only translation,simd,throughput,latency,memory,scale,taskcluster,cost,page,idle,burst,replay]
//!       [--broker amqp://guest:guest@127.0.0.1:5672/] [--report FILE] [--ledger FILE]
//! ```
#![deny(missing_docs)]

mod broker;
mod burst;
mod corpus;
mod cost;
mod endtoend;
mod page;
mod processes;
mod replay;
mod report;
mod simd;
mod taskcluster;
mod tc_messages;
mod threads;
mod translation;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use clap::{Parser, Subcommand};

use pulse_build_monitor::Source;
use pulse_wire::ConnectionSettings;

use crate::broker::{BoxError, Ledger};
use crate::corpus::{Corpus, Template};
use crate::report::Row;

/// Which messages a broker measurement uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Normalized payloads (< 2 KB) from `exchange/build/normalized`.
    Small,
    /// Raw buildbot messages (~15–20 KB) from `exchange/build/`.
    Raw,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Small => "small",
            Kind::Raw => "raw",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Kind::Small => "small normalized msgs",
            Kind::Raw => "real-size raw msgs",
        }
    }

    fn source(self) -> Source {
        match self {
            Kind::Small => Source::Normalized,
            Kind::Raw => Source::Buildbot,
        }
    }
}

/// The command line: a full run by default, or one of the subcommands.
#[derive(Parser)]
#[command(
    name = "bench",
    about = "How close the monitor runs to its limits, as a markdown table",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    settings: Settings,
}

#[derive(Subcommand)]
enum Command {
    /// Deletes what a killed run left on the broker, as listed in its ledger.
    Cleanup {
        /// The ledger file of that run (`--ledger`).
        ledger: PathBuf,
    },
    /// Repeats one kind of in-process work, for a profiler.
    Profile {
        /// What to repeat.
        work: translation::Work,
        /// Passes over the corpus.
        rounds: usize,
    },
    /// One monitor or bare consumer in a child process (started by the
    /// memory, scale, cost and burst sections).
    #[command(hide = true)]
    Child(processes::ChildArgs),
    /// One replay in a child process (started by the replay section).
    #[command(hide = true)]
    ReplayChild {
        /// The recording to replay.
        file: PathBuf,
        /// With push tracking.
        #[arg(long)]
        pushes: bool,
        /// The push tracker's quiet period, in seconds.
        #[arg(long, value_name = "SECS", default_value_t = 60, requires = "pushes")]
        quiet_period: u64,
    },
}

/// Settings of a benchmark run.
#[derive(clap::Args)]
pub struct Settings {
    /// A short run (under 2 minutes), for CI-ish checks.
    #[arg(long)]
    quick: bool,
    /// Only these sections (comma-separated).
    #[arg(long, value_name = "SECTIONS", value_delimiter = ',', value_parser = SECTIONS)]
    only: Option<Vec<String>>,
    /// The broker (default: $PULSE_BENCH_BROKER, else amqp://guest:guest@127.0.0.1:5672/).
    #[arg(long = "broker", value_name = "URL")]
    broker: Option<String>,
    /// Also write the table to FILE.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Where to list what the run declares on the broker (default: a temporary file).
    #[arg(long, value_name = "FILE")]
    ledger: Option<PathBuf>,
}

impl Settings {
    fn broker_url(&self) -> String {
        self.broker.clone().unwrap_or_else(default_broker)
    }
}

/// `PULSE_BENCH_BROKER`, else the local RabbitMQ as guest.
fn default_broker() -> String {
    std::env::var("PULSE_BENCH_BROKER")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/".to_string())
}

/// What the broker measurements share.
pub struct Context {
    broker: ConnectionSettings,
    broker_url: String,
    /// Unique prefix of every name this run declares.
    run: String,
    ledger: Ledger,
    corpus: Corpus,
    next_base: AtomicU64,
}

impl Context {
    fn templates(&self, kind: Kind) -> &[Template] {
        match kind {
            Kind::Small => &self.corpus.small_templates,
            Kind::Raw => &self.corpus.raw_templates,
        }
    }

    /// A unique name: `<prefix>/<run>-<what>`.
    fn name(&self, prefix: &str, what: &str) -> String {
        format!("{prefix}/{}-{what}", self.run)
    }

    /// A fresh range of sequence numbers, so no backlog's keys collide with
    /// another's (or with anyone else's build numbers).
    fn next_base(&self) -> u64 {
        self.next_base.fetch_add(1_000_000_000, Ordering::SeqCst)
    }
}

const SECTIONS: [&str; 12] = [
    "translation",
    "simd",
    "throughput",
    "latency",
    "memory",
    "scale",
    "taskcluster",
    "cost",
    "page",
    "idle",
    "burst",
    "replay",
];

fn main() {
    env_logger::Builder::from_env(
        env_logger::Env::default().default_filter_or("warn,pulse_wire::consumer=error"),
    )
    .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Child(args)) => processes::child_main(args),
        Some(Command::ReplayChild {
            file,
            pushes,
            quiet_period,
        }) => replay::child_main(
            file,
            pushes.then(|| std::time::Duration::from_secs(quiet_period)),
        ),
        Some(Command::Cleanup { ledger }) => cleanup(ledger),
        Some(Command::Profile { work, rounds }) => translation::profile(work, rounds),
        None => run(&cli.settings),
    };
    if let Err(e) = result {
        eprintln!("bench: {e}");
        std::process::exit(1);
    }
}

fn cleanup(ledger: PathBuf) -> Result<(), BoxError> {
    let settings = ConnectionSettings::from_url(&default_broker())?;
    match Ledger::load(settings, ledger) {
        Ok(ledger) => {
            let left = ledger.clean_up();
            if left > 0 {
                return Err(format!("{left} entries could not be deleted").into());
            }
            Ok(())
        }
        Err(_) => Ok(()), // no ledger: nothing was left behind
    }
}

fn run(settings: &Settings) -> Result<(), BoxError> {
    let wants = |section: &str| {
        settings
            .only
            .as_ref()
            .is_none_or(|only| only.iter().any(|s| s == section))
    };
    let corpus = Corpus::load(&endtoend::keep_everything())?;
    let quick = settings.quick;
    eprintln!(
        "corpus: {} raw messages, {} normalized, {} buildernames; templates: {} raw, {} small",
        corpus.raw_bodies.len(),
        corpus.normalized.len(),
        corpus.buildernames.len(),
        corpus.raw_templates.len(),
        corpus.small_templates.len()
    );

    let mut rows: Vec<Row> = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    if wants("translation") {
        eprintln!("translation ...");
        rows.extend(translation::run(&corpus, settings));
        print_rows(&rows);
    }
    if wants("simd") {
        eprintln!("simd ...");
        match simd::run(&corpus, quick) {
            Ok(new) => rows.extend(new),
            Err(e) => {
                eprintln!("!!! simd failed: {e}");
                failures.push(format!("simd: {e}"));
            }
        }
        print_rows(&rows);
    }

    let broker_sections = [
        "throughput",
        "latency",
        "memory",
        "scale",
        "taskcluster",
        "cost",
        "page",
        "idle",
        "burst",
    ];
    if broker_sections.iter().any(|s| wants(s)) {
        let broker_url = settings.broker_url();
        let broker = ConnectionSettings::from_url(&broker_url)?;
        let run = format!("pulse-bench-{}", &pulse_wire::random_label()[..8]);
        let ledger_path = settings
            .ledger
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join(format!("{run}.ledger")));
        let ctx = Context {
            ledger: Ledger::new(broker.clone(), ledger_path),
            broker,
            broker_url,
            run,
            corpus,
            next_base: AtomicU64::new(1_000_000_000),
        };
        // The monitor declares the shared exchanges; remember which were new.
        let mut shared = vec![
            pulse_build_monitor::exchanges::BUILD,
            pulse_build_monitor::exchanges::BUILD_NORMALIZED,
        ];
        shared.extend(pulse_build_monitor::exchanges::TASK_ALL);
        ctx.ledger.shared_exchanges(&shared)?;
        let mut section =
            |name: &str, rows: &mut Vec<Row>, f: &dyn Fn() -> Result<Vec<Row>, BoxError>| {
                if !wants(name) {
                    return;
                }
                eprintln!("{name} ...");
                match f() {
                    Ok(new) => rows.extend(new),
                    Err(e) => {
                        eprintln!("!!! {name} failed: {e}");
                        failures.push(format!("{name}: {e}"));
                    }
                }
                print_rows(rows);
            };
        section("throughput", &mut rows, &|| {
            let (small, raw, rounds) = if quick {
                (10_000, 3_000, 1)
            } else {
                (50_000, 20_000, 2)
            };
            let mut rows = endtoend::throughput(&ctx, Kind::Small, small, rounds)?;
            rows.extend(endtoend::throughput(&ctx, Kind::Raw, raw, rounds)?);
            Ok(rows)
        });
        section("latency", &mut rows, &|| {
            let seconds = if quick { 5 } else { 30 };
            let mut rows = endtoend::latency(&ctx, seconds, 1_000)?;
            rows.extend(endtoend::latency_slow_details(&ctx, seconds, 1_000)?);
            Ok(rows)
        });
        section("memory", &mut rows, &|| {
            let sizes: &[u64] = if quick {
                &[2_000, 10_000]
            } else {
                &[10_000, 50_000]
            };
            processes::memory(&ctx, sizes)
        });
        section("scale", &mut rows, &|| {
            processes::scale_out(&ctx, if quick { 3_000 } else { 20_000 }, &[1, 2, 4])
        });
        // In process, but beside the Taskcluster end-to-end row.
        section("taskcluster", &mut rows, &|| {
            taskcluster::translation(quick)
        });
        section("taskcluster", &mut rows, &|| {
            let (count, rounds) = if quick { (5_000, 1) } else { (20_000, 2) };
            taskcluster::throughput(&ctx, count, rounds)
        });
        section("cost", &mut rows, &|| {
            cost::cpu(&ctx, if quick { 5 } else { 30 }, 1_000, true)
        });
        section("page", &mut rows, &|| {
            page::cpu(&ctx, if quick { 5 } else { 30 }, 1_000, 100)
        });
        section("idle", &mut rows, &|| {
            let mut rows = cost::idle(&ctx, if quick { 10 } else { 60 })?;
            rows.extend(cost::cpu(&ctx, if quick { 10 } else { 60 }, 10, false)?);
            rows.extend(cost::cpu(&ctx, if quick { 5 } else { 30 }, 100, false)?);
            Ok(rows)
        });
        section("burst", &mut rows, &|| {
            let (count, rounds) = if quick { (5_000, 1) } else { (20_000, 2) };
            burst::burst(&ctx, count, rounds)
        });
        let left = ctx.ledger.clean_up();
        if left > 0 {
            failures.push(format!("{left} broker objects could not be deleted"));
        }
    }

    if wants("replay") {
        eprintln!("replay ...");
        let (tasks, passes) = if quick { (1_000, 3) } else { (3_000, 5) };
        match replay::run(tasks, passes) {
            Ok(new) => rows.extend(new),
            Err(e) => {
                eprintln!("!!! replay failed: {e}");
                failures.push(format!("replay: {e}"));
            }
        }
        print_rows(&rows);
        eprintln!("replay (a day) ...");
        let (tasks, small, large) = if quick {
            (1_000, 10_000, 100_000)
        } else {
            (3_000, 100_000, 1_000_000)
        };
        match replay::day(tasks, small, large) {
            Ok(new) => rows.extend(new),
            Err(e) => {
                eprintln!("!!! replay (a day) failed: {e}");
                failures.push(format!("replay (a day): {e}"));
            }
        }
        print_rows(&rows);
    }

    let mut table = report::markdown(&rows);
    if !failures.is_empty() {
        table.push_str("\nFailed sections:\n\n");
        for failure in &failures {
            table.push_str(&format!("- {failure}\n"));
        }
    }
    println!("{table}");
    if let Some(path) = &settings.report {
        std::fs::write(path, &table)?;
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("{} section(s) failed", failures.len()).into())
    }
}

fn print_rows(rows: &[Row]) {
    eprintln!("{}", report::markdown(rows));
}
