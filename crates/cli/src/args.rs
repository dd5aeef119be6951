//! The command line, declared with clap's derive.

use std::path::PathBuf;

use clap::{Arg, ArgAction, ArgMatches, Args, Parser, Subcommand, ValueEnum};
use pulse_filter::{FilterSpec, Flag, Rule};

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
    /// Watch (as `watch --source taskcluster`) and serve a live page of the
    /// latest pushes, their failures and the latest builds, with a JSON API.
    ///
    /// The page is at http://ADDR/ (`--listen`), the API at /api/pushes,
    /// /api/pushes/TREE/REVISION and /api/builds, live updates at /events.
    /// `--replay FILE` or `--synthetic-push N` serve a full page with no
    /// broker and no network.
    Serve(ServeArgs),
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
    /// Which messages to read [default: buildbot; for `serve`: taskcluster].
    #[arg(long, value_enum)]
    pub source: Option<SourceArg>,
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
    /// One flag or two per rule, from the rule table (`Rule::flags`).
    #[command(flatten)]
    pub rules: RuleFlags,
    /// A JSON FilterSpec to start from; flags add to it.
    #[arg(long, value_name = "FILE")]
    pub filter_file: Option<PathBuf>,
}

/// The filter rules' flags as given: declared from the rule table
/// ([`Rule::flags`]), so a new rule needs no code here.
#[derive(Debug, Default)]
pub struct RuleFlags {
    /// Each flag given, with its values (none for a switch), in table order.
    pub given: Vec<(&'static Flag, Vec<String>)>,
}

impl RuleFlags {
    fn all() -> impl Iterator<Item = &'static Flag> {
        Rule::ALL.iter().flat_map(|rule| rule.flags())
    }

    /// Adds the flags given to `spec`.
    pub fn apply(&self, spec: &mut FilterSpec) {
        for (flag, values) in &self.given {
            flag.apply(spec, values);
        }
    }
}

impl clap::FromArgMatches for RuleFlags {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let given = Self::all()
            .filter_map(|flag| {
                if flag.value_name().is_some() {
                    let values: Vec<String> = matches
                        .get_many::<String>(flag.long())
                        .map(|values| values.cloned().collect())
                        .unwrap_or_default();
                    (!values.is_empty()).then_some((flag, values))
                } else {
                    matches.get_flag(flag.long()).then_some((flag, Vec::new()))
                }
            })
            .collect();
        Ok(RuleFlags { given })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Args for RuleFlags {
    fn augment_args(command: clap::Command) -> clap::Command {
        Self::all().fold(command, |command, flag| {
            let mut arg = Arg::new(flag.long()).long(flag.long()).help(flag.help());
            arg = match flag.value_name() {
                Some(value_name) => arg.value_name(value_name).action(ArgAction::Append),
                None => arg.action(ArgAction::SetTrue),
            };
            if let Some(alias) = flag.alias() {
                arg = arg.visible_alias(alias);
            }
            if let Some(other) = flag.conflicts() {
                arg = arg.conflicts_with(other);
            }
            command.arg(arg)
        })
    }

    fn augment_args_for_update(command: clap::Command) -> clap::Command {
        Self::augment_args(command)
    }
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

/// Details of Taskcluster records, fetched from the Taskcluster queue.
#[derive(Debug, Args)]
pub struct DetailsArgs {
    /// Fetch Taskcluster records' details from the queue: builds' URLs
    /// (buildurl, testsurl, test_packages_url, symbols_url), tests' build,
    /// failed tests' failure lines. On by default when watching or serving
    /// Taskcluster messages from a broker, and for `serve --synthetic-push`
    /// (from a local queue serving the generated push); off for files
    /// unless given.
    #[arg(long, conflicts_with = "no_details")]
    pub details: bool,
    /// Do not fetch details: nothing goes online but the broker.
    #[arg(long)]
    pub no_details: bool,
    /// Seconds a record waits for its details before it goes on without
    /// them, saying why (`details_unavailable`).
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub details_timeout: u64,
    /// The Taskcluster deployment details come from.
    #[arg(
        long,
        value_name = "URL",
        default_value = "https://firefox-ci-tc.services.mozilla.com"
    )]
    pub taskcluster_root_url: String,
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
    #[command(flatten)]
    pub details: DetailsArgs,
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
    #[command(flatten)]
    pub details: DetailsArgs,
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
    /// Serve the generated push's Taskcluster queue API (artifact lists,
    /// definitions, errorsummaries) at this address from before the first
    /// message until Ctrl-C, for a monitor's details: `watch
    /// --taskcluster-root-url http://ADDR`.
    #[arg(long, value_name = "ADDR", requires = "synthetic_push")]
    pub serve_queue: Option<std::net::SocketAddr>,
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

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Serve the page on this address [default: 127.0.0.1:8080, or a free
    /// port on 127.0.0.1 when that one is taken]. Only loopback addresses
    /// unless --allow-remote.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
    /// Allow a --listen address other machines can reach. The page has no
    /// authentication: everyone who reaches it sees what the monitor sees.
    #[arg(long, requires = "listen")]
    pub allow_remote: bool,
    /// Show these recorded messages (files or directories, as `replay`
    /// reads them) instead of connecting to a broker. Every tree unless
    /// --tree says otherwise.
    #[arg(long, value_name = "PATH", conflicts_with = "synthetic_push")]
    pub replay: Vec<PathBuf>,
    /// Show a generated push of about N tasks (see `synthetic-push`)
    /// instead of connecting to a broker: its tree is the first --tree
    /// [default: autoland]. Its details (build URLs, failure lines) come
    /// from a local queue on 127.0.0.1 serving the push: nothing goes
    /// online (--no-details: no details).
    #[arg(long, value_name = "N")]
    pub synthetic_push: Option<usize>,
    /// The generated push's seed [default: 1].
    #[arg(long, value_name = "S", requires = "synthetic_push")]
    pub seed: Option<u64>,
    /// How many pushes of each tree the page shows (the newest).
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub pushes_per_tree: usize,
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten)]
    pub queue: QueueArgs,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub state: PushStateArgs,
    #[command(flatten)]
    pub details: DetailsArgs,
    /// Append translation errors and callback failures to this file.
    #[arg(long, value_name = "FILE")]
    pub log_file: Option<PathBuf>,
}

/// Where the push state lives and when a push is finished (`serve`
/// always tracks pushes).
#[derive(Debug, Args)]
pub struct PushStateArgs {
    /// Keep the push state in this SQLite file (created when missing), so a
    /// monitor restarted with the same --label --durable goes on where it stopped.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Seconds a push whose tasks all finished must stay unchanged before it counts as
    /// finished.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub quiet_period: u64,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// The filter part of `pulse-monitor replay x ARGS…`, as the command
    /// builds it before `--filter-file`.
    fn spec_of(args: &[&str]) -> FilterSpec {
        let argv = ["pulse-monitor", "replay", "x"].iter().chain(args);
        let cli = Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{args:?}: {e}"));
        let Command::Replay(replay) = cli.command else {
            unreachable!("a replay command line")
        };
        let mut spec = FilterSpec::default();
        replay.filter.rules.apply(&mut spec);
        spec
    }

    #[test]
    fn every_rule_flag_is_declared_for_watch_and_replay() {
        let command = Cli::command();
        for name in ["watch", "replay"] {
            let sub = command.find_subcommand(name).expect("the subcommand");
            for flag in Rule::ALL.iter().flat_map(|rule| rule.flags()) {
                let arg = sub
                    .get_arguments()
                    .find(|arg| arg.get_id() == flag.long())
                    .unwrap_or_else(|| panic!("{name} lacks --{}", flag.long()));
                assert_eq!(arg.get_long(), Some(flag.long()));
            }
        }
    }

    #[test]
    fn rule_flags_fill_the_spec_as_the_flag_methods_do() {
        assert_eq!(spec_of(&[]), FilterSpec::default());
        let spec = spec_of(&[
            "--tree",
            "a, b",
            "--trees",
            "c",
            "--platform",
            "linux64",
            "--buildtag",
            "x+y,z",
            "--talos",
            "--any-kind",
            "--result",
            "busted",
        ]);
        let mut expected = FilterSpec::default();
        expected.add_trees_str("a, b");
        expected.add_trees_str("c");
        expected.add_platforms_str("linux64");
        expected.add_buildtag_groups_str("x+y,z");
        expected.talos = true;
        expected.any_kind = true;
        expected.add_results_str("busted");
        assert_eq!(spec, expected);
    }
}
