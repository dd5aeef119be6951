//! Keeps the latest build URL per tree, platform and build type, and serves
//! it as JSON over HTTP: `GET /` (or `/builds`) for all, `/builds/<tree>`
//! for one tree.
//!
//! Run: `cargo run -p pulse-build-monitor --example latest_builds -- [ADDR] [--replay PATH]`
//! (ADDR defaults to 127.0.0.1:8080; without `--replay` it connects with
//! PULSE_URL or PULSE_USER/PULSE_PASSWORD), then
//! `curl -s http://127.0.0.1:8080/builds/mozilla-central`.
//!
//! The server is `tiny_http`: blocking, one small crate, HTTP parsing and
//! slow clients handled for us; this file only routes GETs to JSON.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use clap::Parser;
use pulse_build_monitor::{BuildRecord, Filter, Monitor};
use serde::Serialize;
use tiny_http::{Header, Method, Request, Response, Server};

/// Serves the latest build URL per tree, platform and build type as JSON.
#[derive(Parser)]
struct Args {
    /// The address to serve on (loopback unless you mean otherwise).
    #[arg(default_value = "127.0.0.1:8080")]
    addr: String,
    /// Replay this recording (file or directory) instead of connecting to Pulse.
    #[arg(long, value_name = "PATH")]
    replay: Option<String>,
}

/// The latest build of one tree, platform and build type.
#[derive(Clone, Serialize)]
struct Latest {
    buildurl: String,
    revision: Option<String>,
    builddate: Option<i64>,
    buildername: Option<String>,
}

/// tree → platform → build type → latest build.
type Table = BTreeMap<String, BTreeMap<String, BTreeMap<String, Latest>>>;

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    // amiquip logs the AMQP handshake, password included, under this target.
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn"))
        .filter_module(pulse_wire::HANDSHAKE_LOG_TARGET, log::LevelFilter::Info)
        .init();
    let Args { addr, replay } = Args::parse();

    let table = Arc::new(Mutex::new(Table::new()));
    let seen = Arc::clone(&table);
    let builder = Monitor::builder()
        .filter(Filter::builder().any_tree().build()?)
        .on_build(move |build| remember(&seen, build));
    // The monitor must live as long as the server: dropping it stops it.
    let _monitor = match replay {
        Some(path) => builder.replay(&[path])?.start()?,
        None => builder.start()?,
    };

    let server = Server::http(&addr)?;
    eprintln!("serving the latest builds as JSON on http://{addr}/builds");
    for request in server.incoming_requests() {
        if let Err(e) = serve(request, &table) {
            log::warn!("request failed: {e}");
        }
    }
    Ok(())
}

/// Keeps `build` if it is newer (by build date) than the one we have.
fn remember(table: &Mutex<Table>, build: BuildRecord) {
    let job = build.job;
    let Some(buildurl) = job.buildurl else {
        return; // Taskcluster builds and repacks name no package
    };
    let mut table = table.lock().unwrap_or_else(PoisonError::into_inner);
    let slot = table
        .entry(job.tree)
        .or_default()
        .entry(job.platform)
        .or_default()
        .entry(job.buildtype.to_string());
    let latest = Latest {
        buildurl,
        revision: job.revision,
        builddate: job.builddate,
        buildername: job.buildername,
    };
    match slot {
        std::collections::btree_map::Entry::Vacant(slot) => {
            slot.insert(latest);
        }
        std::collections::btree_map::Entry::Occupied(mut slot) => {
            if latest.builddate >= slot.get().builddate {
                slot.insert(latest);
            }
        }
    }
}

/// Answers one request: GET only, JSON only.
fn serve(request: Request, table: &Mutex<Table>) -> std::io::Result<()> {
    let path = request.url().split('?').next().unwrap_or("");
    let (status, body) = if *request.method() != Method::Get {
        (405, error_json("only GET is served"))
    } else {
        let table = table.lock().unwrap_or_else(PoisonError::into_inner);
        match path.trim_end_matches('/') {
            "" | "/builds" => (200, to_json(&*table)),
            tree_path => match tree_path
                .strip_prefix("/builds/")
                .and_then(|t| table.get(t))
            {
                Some(tree) => (200, to_json(tree)),
                None => (404, error_json("no such tree or path")),
            },
        }
    };
    let json = Header::from_bytes("Content-Type", "application/json").expect("a valid header");
    request.respond(
        Response::from_string(body)
            .with_status_code(status)
            .with_header(json),
    )
}

fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).expect("the table always serializes") + "\n"
}

fn error_json(message: &str) -> String {
    to_json(&serde_json::json!({ "error": message }))
}
