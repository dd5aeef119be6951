//! `pulse-monitor serve`: a monitor that tracks pushes, under the live page
//! of `pulse-page`; on the broker, or offline over a recording or a
//! generated push.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use pulse_build_monitor::{replay, Monitor, PushSettings};
use pulse_local_queue::LocalQueue;
use pulse_page::{Page, PageOptions, PageServer};

use crate::args::{ServeArgs, SourceArg};
use crate::broker;
use crate::error::CliError;
use crate::pipeline::{
    check_queue_args, details_from, details_settings, filter_from_spec, filter_spec,
    install_stop_handler, monitor_error, queue_options, source, stats_line,
};
use crate::synthetic;

/// Where the page is served when `--listen` does not say.
const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 8080);

/// `pulse-monitor serve`.
pub fn serve(args: ServeArgs) -> Result<ExitCode, CliError> {
    let offline = args.synthetic_push.is_some() || !args.replay.is_empty();
    let mut spec = filter_spec(&args.filter)?;
    // Offline, a newcomer's recording or generated push is on whatever
    // tree it is: show every tree unless told otherwise.
    if offline && spec.trees.is_none() {
        spec.any_tree = true;
    }
    let filter = filter_from_spec(&spec)?;
    let page = Page::new(
        PageOptions::default()
            .with_pushes_per_tree(args.pushes_per_tree)
            .with_allow_remote(args.allow_remote),
    );
    let server = listen(&page, args.listen)?;
    let stop = install_stop_handler()?;

    let mut settings =
        PushSettings::default().with_quiet_period(Duration::from_secs(args.state.quiet_period));
    if let Some(path) = &args.state.state {
        settings = settings.with_state_file(path.clone());
    }
    let mut builder = page
        .attach(Monitor::builder().filter(filter))
        .push_tracking(settings);
    if let Some(path) = &args.log_file {
        builder = builder.log_file(path.clone());
    }
    // A generated push's details come from a local queue serving it (the
    // real queue does not know its tasks): held until the page stops.
    let mut local_queue = None;
    if args.synthetic_push.is_none() {
        if let Some(details) = details_settings(&args.details, !offline)? {
            builder = builder.details(details);
        }
    }
    let progress = args.queue.progress;
    let what = if let Some(tasks) = args.synthetic_push {
        let tree = spec
            .trees
            .as_ref()
            .and_then(|trees| trees.first())
            .map_or("autoland", String::as_str)
            .to_string();
        let push = synthetic::generate(tasks, &tree, args.seed.unwrap_or(1))?;
        let what = format!(
            "a generated push to {} ({} tasks, revision {})",
            push.tree,
            push.tasks.len(),
            push.revision
        );
        if !args.details.no_details {
            let local =
                LocalQueue::serve_push(&push, SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 0))
                    .map_err(|e| CliError::failure(e.to_string()))?;
            builder = builder.details(details_from(&args.details, local.root_url())?);
            status!(
                "pulse-monitor: the generated push's details (build URLs, failure lines) come from a local queue at {}",
                local.root_url()
            );
            local_queue = Some(local);
        }
        builder = builder
            .source(source(SourceArg::Taskcluster, progress)?)
            .messages(synthetic::outgoing(&push));
        what
    } else if !args.replay.is_empty() {
        let messages =
            replay::stream(&args.replay).map_err(|e| CliError::failure(e.to_string()))?;
        builder = builder
            .source(source(
                args.queue.source.unwrap_or(SourceArg::Taskcluster),
                progress,
            )?)
            .messages(messages);
        format!("{} recorded path(s)", args.replay.len())
    } else {
        check_queue_args(&args.queue)?;
        let settings = broker::settings(&args.connect)?;
        broker::wait_for_broker(&settings, Duration::from_secs(args.connect.connect_timeout))?;
        builder = builder
            .source(source(
                args.queue.source.unwrap_or(SourceArg::Taskcluster),
                progress,
            )?)
            .broker(settings.clone());
        builder = queue_options(builder, &args.queue)?;
        format!("{settings}")
    };
    let monitor = Arc::new(builder.start().map_err(monitor_error)?);
    let follower = page
        .follow(Arc::clone(&monitor))
        .map_err(|e| CliError::failure(e.to_string()))?;
    status!(
        "pulse-monitor: serving the page of {what} at {}; Ctrl-C stops",
        server.url()
    );

    // The page stays up after a replay ended, until Ctrl-C.
    let mut ended = false;
    while !stop.is_requested() {
        if ended {
            std::thread::sleep(Duration::from_millis(100));
        } else if let Some(report) = monitor.join_timeout(Duration::from_millis(100)) {
            ended = true;
            status!(
                "pulse-monitor: read everything ({}); still serving",
                stats_line(&report.stats)
            );
        }
    }
    drop(follower);
    let report = monitor.stop();
    drop(server);
    drop(local_queue);
    status!("pulse-monitor: stopped: {}", stats_line(&report.stats));
    Ok(ExitCode::SUCCESS)
}

/// Serves `page` at `address`; without one at 127.0.0.1:8080, or a free
/// port when that one is taken.
fn listen(page: &Page, address: Option<SocketAddr>) -> Result<PageServer, CliError> {
    use pulse_page::ErrorKind;
    let serve = |address| page.serve(address);
    let result = match address {
        Some(address) => serve(address),
        None => match serve(DEFAULT_LISTEN) {
            Err(e) if matches!(e.kind(), ErrorKind::Bind(_, io) if io.kind() == std::io::ErrorKind::AddrInUse) =>
            {
                log::info!("{e}; taking a free port");
                serve(SocketAddr::new(DEFAULT_LISTEN.ip(), 0))
            }
            other => other,
        },
    };
    result.map_err(|e| match e.kind() {
        ErrorKind::NotLoopback(_) => {
            CliError::usage(format!("--listen: {e}: add --allow-remote to mean it"))
        }
        _ => CliError::failure(e.to_string()),
    })
}
