//! The latest build per tree, platform and build type, and the latest
//! pushes, served by `pulse-page` from a monitor: the page at `/`, JSON at
//! `/api/builds` (`/api/builds/<tree>` for one tree) and `/api/pushes`.
//!
//! Run: `cargo run -p pulse-page --example latest_builds -- [ADDR] [--replay PATH]`
//! (ADDR defaults to 127.0.0.1:8080, and only loopback addresses are
//! served; without `--replay` it connects with PULSE_URL or
//! PULSE_USER/PULSE_PASSWORD), then
//! `curl -s http://127.0.0.1:8080/api/builds/mozilla-central`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use pulse_build_monitor::{Filter, Monitor};
use pulse_page::{Page, PageOptions};

/// Serves the latest builds and pushes of every tree.
#[derive(Parser)]
struct Args {
    /// The address to serve on.
    #[arg(default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Replay this recording (file or directory) instead of connecting to Pulse.
    #[arg(long, value_name = "PATH")]
    replay: Option<PathBuf>,
}

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    // amiquip logs the AMQP handshake, password included, under this target.
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn"))
        .filter_module(pulse_wire::HANDSHAKE_LOG_TARGET, log::LevelFilter::Info)
        .init();
    let Args { addr, replay } = Args::parse();

    let page = Page::new(PageOptions::default());
    // The page's callbacks: every push event and every build.
    let builder = page.attach(Monitor::builder().filter(Filter::builder().any_tree().build()?));
    let monitor = Arc::new(match replay {
        Some(path) => builder.replay(&[path])?.start()?,
        None => builder.start()?,
    });
    // Counts move between push events: copy them, and the connection
    // state, into the page twice a second.
    let _follower = page.follow(Arc::clone(&monitor))?;
    let server = page.serve(addr)?;
    eprintln!("serving the latest builds at {}api/builds", server.url());
    // The server answers on its own threads until the process ends.
    loop {
        std::thread::park();
    }
}
