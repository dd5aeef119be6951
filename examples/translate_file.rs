//! The translator alone, no broker and no threads: reads one raw buildbot
//! message from a file and prints its normalized messages, as the reference
//! translator (pulsetranslator) published them on `exchange/build/normalized`.
//!
//! Run: `cargo run -p pulse-build-monitor --example translate_file -- fixtures/replay/04-mozilla-central-linux64-debug-mochitest.json`

use clap::Parser;
use pulse_translator::buildbot::translate;
use pulse_translator::Options;

/// Prints the normalized messages of one raw buildbot message.
#[derive(Parser)]
struct Args {
    /// The file holding the raw buildbot message (JSON).
    #[arg(value_name = "FILE")]
    path: String,
}

fn main() {
    env_logger::init();
    let Args { path } = Args::parse();
    let body = match std::fs::read(&path) {
        Ok(body) => body,
        Err(e) => {
            eprintln!("error: cannot read {path}: {e}");
            std::process::exit(1);
        }
    };
    match translate(&body, &Options::default()) {
        Ok(messages) if messages.is_empty() => {
            println!("{path}: a message the reference translator ignores (no output)");
        }
        Ok(messages) => {
            for message in messages {
                println!("routing key: {}", message.routing_key);
                let payload = serde_json::to_string_pretty(&message.payload)
                    .expect("a record always serializes");
                println!("{payload}");
            }
        }
        Err(e) => {
            // The reference translator's exception class, where it had one,
            // helps when comparing with its logs.
            let class = e.reference_class().unwrap_or("no reference class");
            eprintln!("error: {path}: {e} ({class})");
            std::process::exit(1);
        }
    }
}
