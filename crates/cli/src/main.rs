//! `pulse-monitor`: watch Mozilla CI builds and tests on Pulse from a shell.
//!
//! The subcommands wrap the workspace's crates: `watch`, `replay` and
//! `record` run a `pulse-build-monitor` Monitor (on the broker, or over
//! recorded files); `publish` uses `pulse-wire`'s Publisher; `translate`
//! and `buildername` use `pulse-translator` alone; `synthetic-push` (and
//! `publish --synthetic-push`) generate a push with `pulse-synthetic`.
//! Errors print as one `error:` line on stderr; exit codes are 0 (done), 1
//! (failure) and 2 (usage: a bad flag, flag value or filter).
//!
//! `serve` runs a monitor under the live page of `pulse-page`.
//!
//! Modules: `args` (the command line, clap's derive), `pipeline` (`watch`,
//! `replay`, `record`), `serve`, `output` (table rows, JSON lines, `--exec`),
//! `broker` (finding the broker, `publish`), `synthetic`, `translate`
//! (`translate`, `buildername`) and `error` (one-line errors, exit codes).

#![deny(missing_docs)]

/// A line on stderr for the person at the terminal. A stderr nobody reads
/// any more (a pipe whose reader left) must not stop a command, least of
/// all its Ctrl-C or SIGTERM handler: `eprintln!` panics there.
macro_rules! status {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod args;
mod broker;
mod error;
mod output;
mod pipeline;
mod serve;
mod synthetic;
mod translate;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};

fn main() -> ExitCode {
    init_logging();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return error::clap_exit(e),
    };
    let result = match cli.command {
        Command::Watch(args) => pipeline::watch(args),
        Command::Replay(args) => pipeline::replay(args),
        Command::Record(args) => pipeline::record(args),
        Command::Serve(args) => serve::serve(args),
        Command::Publish(args) => broker::publish(args),
        Command::SyntheticPush(args) => synthetic::synthetic_push(args),
        Command::Translate(args) => translate::translate(args),
        Command::Buildername => translate::buildername(),
    };
    match result {
        Ok(code) => code,
        Err(e) => e.exit(),
    }
}

/// `RUST_LOG` chooses what is logged (default: warnings and errors), on
/// stderr, as `warning: …` lines that read like the command's own. The
/// target where amiquip logs the AMQP handshake, password included, stays
/// capped at `info` whatever `RUST_LOG` says.
fn init_logging() {
    use std::io::Write;
    env_logger::Builder::from_env(
        env_logger::Env::default().default_filter_or("warn,amiquip=error"),
    )
    .filter_module(pulse_wire::HANDSHAKE_LOG_TARGET, log::LevelFilter::Info)
    .format(|buf, record| match record.level() {
        log::Level::Error => writeln!(buf, "error: {}", record.args()),
        log::Level::Warn => writeln!(buf, "warning: {}", record.args()),
        level => writeln!(
            buf,
            "{}: {}: {}",
            level.as_str().to_lowercase(),
            record.target(),
            record.args()
        ),
    })
    .init();
}
