//! The command line, declared with clap's derive.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Watch Mozilla CI builds and tests as they finish on Pulse.
#[derive(Debug, Parser)]
#[command(name = "pulse-monitor", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Connect to the broker and print matching builds and tests as they finish.
    Watch(WatchArgs),
    /// Run the same pipeline over recorded messages: no broker needed.
    Replay(ReplayArgs),
    /// Append every raw message received to a JSON lines file, for `replay`.
    Record(RecordArgs),
    /// Publish recorded or fixture messages to a broker (demos, tests).
    Publish(PublishArgs),
    /// Write a generated push of about N tasks as JSON lines (what `record`
    /// writes, `replay` and `publish` read): today's Taskcluster traffic.
    SyntheticPush(SyntheticPushArgs),
    /// Translate raw buildbot messages into normalized JSON lines.
    ///
    /// Reads each PATH (a JSON document or JSON lines), or stdin without
    /// PATH. Prints one `{"routing_key": …, "payload": …}` line per
    /// normalized message; errors go to stderr and processing goes on.
    /// Exits 0 when every message translated, 1 when any did not.
    Translate(TranslateArgs),
    /// Read buildernames from stdin, one a line, and print their parts as JSON lines.
    Buildername,
}

/// Where the broker is and how long to wait for it.
#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// Broker URL, amqp://user:password@host:port/vhost (amqps:// for TLS). Default: PULSE_URL,
    /// else PULSE_USER and PULSE_PASSWORD on pulse.mozilla.org.
    #[arg(long, value_name = "URL", conflicts_with = "config")]
    pub url: Option<String>,
    /// JSON connection settings (url, host, port, user, password, tls, ...).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Give up when the broker cannot be reached within this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 15)]
    pub connect_timeout: u64,
}

/// The queue a monitor reads.
#[derive(Debug, Args)]
pub struct QueueArgs {
    /// Which messages to read.
    #[arg(long, value_enum, default_value_t = SourceArg::Buildbot)]
    pub source: SourceArg,
    /// Name the queue queue/USER/LABEL; monitors with one label share its work.
    /// Default: a random label.
    #[arg(long)]
    pub label: Option<String>,
    /// Keep the queue after the monitor stops, so the next run gets what arrived meanwhile.
    #[arg(long, requires = "label")]
    pub durable: bool,
    /// Create the exchanges if missing (a local broker; never needed on Pulse).
    #[arg(long)]
    pub declare_exchanges: bool,
    /// Queue type: classic, or quorum (replicated, always durable; what Taskcluster declares).
    /// An existing queue keeps the type it was declared with.
    #[arg(long, value_enum, default_value_t = QueueTypeArg::Classic)]
    pub queue_type: QueueTypeArg,
    /// Quorum queues: after N more deliveries without an ack (a callback that kills the
    /// process each time) the broker drops the message, or dead-letters it, instead of
    /// delivering it again.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub delivery_limit: Option<u32>,
    /// Remember the last N handled messages, so that what the broker delivers again after a
    /// reconnect is acknowledged without running the callbacks twice (0: off). Default: 8 ×
    /// the prefetch.
    #[arg(long, value_name = "N")]
    pub dedupe_window: Option<usize>,
    /// Taskcluster: also read task-pending and task-running. Unfinished tasks are task
    /// records whose result column says pending or running, never finished builds or
    /// tests: add --any-kind (or --kind) to see them.
    #[arg(long)]
    pub progress: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QueueTypeArg {
    /// One copy on one node; every RabbitMQ version.
    Classic,
    /// Replicated and durable; needed for --delivery-limit.
    Quorum,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SourceArg {
    /// Raw buildbot messages on exchange/build/, translated in-process.
    Buildbot,
    /// Already normalized messages on exchange/build/normalized.
    Normalized,
    /// Today's Taskcluster queue messages: finished tasks (task-completed, task-failed,
    /// task-exception).
    Taskcluster,
}

/// The filter rules of the seed (the Python pulsebuildmonitor).
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Trees to keep (repeatable, or comma separated). Default: mozilla-central.
    #[arg(long = "tree", visible_alias = "trees", value_name = "TREE[,TREE…]")]
    pub trees: Vec<String>,
    /// Keep every tree.
    #[arg(long, conflicts_with = "trees")]
    pub any_tree: bool,
    /// Generic platforms to keep: linux, linux64, win32, win64, macosx64, android…
    #[arg(
        long = "platform",
        visible_alias = "platforms",
        value_name = "PLATFORM[,…]"
    )]
    pub platforms: Vec<String>,
    /// Products to keep; `none` keeps messages without one.
    #[arg(
        long = "product",
        visible_alias = "products",
        value_name = "PRODUCT[,…]"
    )]
    pub products: Vec<String>,
    /// Build types to keep: opt, debug, pgo.
    #[arg(
        long = "buildtype",
        visible_alias = "buildtypes",
        value_name = "TYPE[,…]"
    )]
    pub buildtypes: Vec<String>,
    /// Tests to keep (tests only), e.g. reftest, mochitest-3.
    #[arg(long = "test", visible_alias = "tests", value_name = "TEST[,…]")]
    pub tests: Vec<String>,
    /// Build tags a build must carry (builds only): `a+b` for all of a group,
    /// commas or repeated flags for alternatives.
    #[arg(
        long = "buildtag",
        visible_alias = "buildtags",
        value_name = "TAG[+TAG…][,…]"
    )]
    pub buildtags: Vec<String>,
    /// Keep talos runs too (dropped by default).
    #[arg(long)]
    pub talos: bool,
    /// Task kinds to keep, as Taskcluster names them: build, test, source-test, toolchain,
    /// docker-image, decision-task… (buildbot records are build or test). Default: builds
    /// and tests.
    #[arg(long = "kind", visible_alias = "kinds", value_name = "KIND[,…]")]
    pub kinds: Vec<String>,
    /// Keep records of every kind: lint, toolchains, signing, the decision task…
    #[arg(long, conflicts_with = "kinds")]
    pub any_kind: bool,
    /// Results to keep, in Treeherder's words: success, testfailed, busted, skipped,
    /// exception, retry, usercancel, superseded, unknown.
    #[arg(long = "result", visible_alias = "results", value_name = "RESULT[,…]")]
    pub results: Vec<String>,
    /// A JSON FilterSpec to start from; flags add to it.
    #[arg(long, value_name = "FILE")]
    pub filter_file: Option<PathBuf>,
}

/// What to do with each match.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Print each record as one JSON line instead of a table row.
    #[arg(long)]
    pub json: bool,
    /// Run this shell command (sh -c) for each match, with the record as JSON on stdin.
    #[arg(long, value_name = "CMD")]
    pub exec: Option<String>,
    /// Say on stderr why each record the filter dropped was dropped.
    #[arg(long)]
    pub explain: bool,
    /// Append translation errors and callback failures to this file.
    #[arg(long, value_name = "FILE")]
    pub log_file: Option<PathBuf>,
    /// Append messages that cannot be translated to this file (JSON lines, replayable).
    #[arg(long, value_name = "FILE")]
    pub dead_letter: Option<PathBuf>,
    /// Callback threads (0: one per core).
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
    /// Complete Taskcluster messages without tags from their task
    /// definitions, fetched from this Taskcluster root URL (e.g.
    /// https://firefox-ci-tc.services.mozilla.com). Needs the `fetch` feature.
    #[cfg(feature = "fetch")]
    #[arg(long, value_name = "ROOT_URL")]
    pub task_definitions: Option<String>,
}

/// Pushes instead of records.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// Print pushes instead of records: with `watch`, a line per push event (started,
    /// first-failure, finished, reopened: tree, revision, author, state, counts by
    /// result, first failure); with `replay`, each push's summary at the end. Tree and
    /// result rules apply; --exec gets each event (or summary) as JSON.
    #[arg(long)]
    pub pushes: bool,
    /// Keep the push state in this SQLite file (created when missing), so a monitor
    /// restarted with the same --label --durable goes on where it stopped.
    #[arg(long, value_name = "FILE", requires = "pushes")]
    pub state: Option<PathBuf>,
    /// Seconds a push whose tasks all finished must stay unchanged before it counts as
    /// finished.
    #[arg(long, value_name = "SECS", default_value_t = 60, requires = "pushes")]
    pub quiet_period: u64,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Serve Prometheus metrics at http://ADDR/metrics: PORT (on 127.0.0.1) or HOST:PORT.
    #[arg(long, value_name = "ADDR", value_parser = parse_metrics_address)]
    pub metrics: Option<std::net::SocketAddr>,
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten)]
    pub queue: QueueArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub pushes: PushArgs,
}

/// `PORT` (127.0.0.1, only this machine) or `HOST:PORT`.
fn parse_metrics_address(text: &str) -> Result<std::net::SocketAddr, String> {
    use std::net::ToSocketAddrs;
    if let Ok(port) = text.parse::<u16>() {
        return Ok(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    }
    text.to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .ok_or_else(|| format!("`{text}` is not PORT or HOST:PORT"))
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Files or directories of recorded messages (raw buildbot or Taskcluster
    /// messages, normalized payloads, or JSON lines from `record`).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// How to read messages from exchanges the files do not name.
    #[arg(long, value_enum, default_value_t = SourceArg::Buildbot)]
    pub source: SourceArg,
    /// Also translate task-pending and task-running messages (skipped by default, as
    /// `watch` does not read them): add --any-kind (or --kind) to see them.
    #[arg(long)]
    pub progress: bool,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub pushes: PushArgs,
}

#[derive(Debug, Args)]
pub struct RecordArgs {
    /// The JSON lines file to append to.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// When FILE would grow past N bytes, rename it to FILE.1 (replacing an
    /// older FILE.1) and start a new FILE: at most about 2×N bytes on disk.
    #[arg(long, value_name = "N")]
    pub max_bytes: Option<u64>,
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten)]
    pub queue: QueueArgs,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// Files or directories of messages, as `replay` reads them.
    #[arg(required_unless_present = "synthetic_push", value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Publish a generated push of about N tasks instead (see `synthetic-push`).
    #[arg(long, value_name = "N", conflicts_with = "paths")]
    pub synthetic_push: Option<usize>,
    /// The generated push's tree [default: autoland].
    #[arg(long, value_name = "TREE", requires = "synthetic_push")]
    pub tree: Option<String>,
    /// The generated push's seed: the same seed, the same messages [default: 1].
    #[arg(long, value_name = "S", requires = "synthetic_push")]
    pub seed: Option<u64>,
    /// Create the messages' exchanges if missing (a local broker).
    #[arg(long)]
    pub declare_exchanges: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

#[derive(Debug, Args)]
pub struct TranslateArgs {
    /// Files of raw buildbot messages; stdin when none.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SyntheticPushArgs {
    /// About how many tasks: fewer than the full graph (about 3050) leaves
    /// tests out, more adds retriggers.
    #[arg(value_name = "N")]
    pub tasks: usize,
    /// The tree (Treeherder project) pushed to.
    #[arg(long, value_name = "TREE", default_value = "autoland")]
    pub tree: String,
    /// The seed every choice comes from: the same seed, the same messages.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
}
