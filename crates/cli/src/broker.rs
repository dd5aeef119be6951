//! Finding the broker: settings from flags or the environment, waiting for
//! it with a deadline, one-line explanations of wire errors, and `publish`.

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use pulse_build_monitor::{replay, ConnectionSettings};
use pulse_local_queue::LocalQueue;
use pulse_wire::{ErrorKind, Publisher};

use crate::args::{ConnectArgs, PublishArgs};
use crate::error::CliError;
use crate::synthetic;

/// The settings the flags ask for: `--url`, else `--config`, else the
/// environment (`PULSE_URL`, or `PULSE_USER`/`PULSE_PASSWORD`).
pub fn settings(args: &ConnectArgs) -> Result<ConnectionSettings, CliError> {
    let settings = match (&args.url, &args.config) {
        (Some(url), _) => ConnectionSettings::from_url(url),
        (None, Some(path)) => ConnectionSettings::from_config_file(path),
        (None, None) => ConnectionSettings::from_env(),
    };
    settings.map_err(|e| match e.kind() {
        ErrorKind::InvalidUrl => CliError::usage(format!(
            "{e}; write it as amqp://user:password@host:port/vhost (amqps:// for TLS)"
        )),
        ErrorKind::InvalidConfig if args.config.is_none() => CliError::usage(format!(
            "{e}; or pass --url amqp://user:password@host:port/ or --config FILE"
        )),
        _ => CliError::failure(e.to_string()),
    })
}

/// Calls `connect` until it succeeds, fails in a way retrying cannot mend,
/// or `timeout` has passed; then the broker is unreachable.
///
/// The wire crate's consumer retries a refused first connection forever in
/// the background, which suits a service; a person at a terminal wants to
/// hear within seconds that nothing answers.
pub fn connect_within<T>(
    settings: &ConnectionSettings,
    timeout: Duration,
    mut connect: impl FnMut(&ConnectionSettings) -> pulse_wire::Result<T>,
) -> Result<T, CliError> {
    let deadline = Instant::now() + timeout;
    let mut delay = Duration::from_millis(200);
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let mut attempt = settings.clone();
        attempt.connect_timeout = settings
            .connect_timeout
            .min(remaining.max(Duration::from_millis(500)));
        match connect(&attempt) {
            Ok(connected) => return Ok(connected),
            Err(e) if !e.is_recoverable() => return Err(wire_error(&e)),
            Err(e) if remaining <= delay => {
                return Err(CliError::failure(format!(
                    "the broker at {settings} is unreachable: no connection within {} s \
                     (last attempt: {e}); check that RabbitMQ runs there, the host and port \
                     in --url or PULSE_URL, and any firewall, or raise --connect-timeout",
                    timeout.as_secs()
                )))
            }
            Err(e) => {
                log::info!("{e}; retrying in {delay:?}");
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_secs(2));
            }
        }
    }
}

/// Waits until the broker accepts a connection, then lets it go: the
/// monitor opens its own.
pub fn wait_for_broker(settings: &ConnectionSettings, timeout: Duration) -> Result<(), CliError> {
    let publisher = connect_within(settings, timeout, Publisher::connect)?;
    if let Err(e) = publisher.close() {
        log::debug!("closing the probe connection: {e}");
    }
    Ok(())
}

/// A wire error with what to do about it.
pub fn wire_error(e: &pulse_wire::Error) -> CliError {
    let hint = match e.kind() {
        ErrorKind::InvalidUrl => "write it as amqp://user:password@host:port/vhost",
        ErrorKind::InvalidConfig => {
            "set PULSE_URL, or PULSE_USER and PULSE_PASSWORD, or pass --url or --config FILE"
        }
        ErrorKind::AccessRefused => {
            "check the user and password (PULSE_USER and PULSE_PASSWORD, or the URL), \
             the vhost, and the user's permissions"
        }
        ErrorKind::NotFound => {
            "the exchange does not exist on this broker; on a local broker pass --declare-exchanges"
        }
        ErrorKind::PreconditionFailed => {
            "a queue or exchange of this name exists with other settings; \
             pick another --label or match the earlier --durable, --queue-type and \
             --delivery-limit"
        }
        ErrorKind::Tls => {
            "check the host name and the broker's certificate (cacertfile= in the URL)"
        }
        _ => "check the broker and its log",
    };
    CliError::failure(format!("{e}; {hint}"))
}

/// `pulse-monitor publish`.
pub fn publish(args: PublishArgs) -> Result<ExitCode, CliError> {
    let mut local_queue = None;
    let messages = match args.synthetic_push {
        Some(tasks) => {
            let tree = args.tree.as_deref().unwrap_or("autoland");
            let push = synthetic::generate(tasks, tree, args.seed.unwrap_or(1))?;
            // Up before the first message: a monitor asks as records arrive.
            if let Some(address) = args.serve_queue {
                let local = LocalQueue::serve_push(&push, address)
                    .map_err(|e| CliError::failure(format!("--serve-queue: {e}")))?;
                status!(
                    "pulse-monitor: serving the generated push's queue API at {} (watch --taskcluster-root-url {})",
                    local.root_url(),
                    local.root_url()
                );
                local_queue = Some(local);
            }
            synthetic::outgoing(&push)
        }
        None => replay::load_paths(&args.paths).map_err(|e| CliError::failure(format!("{e}")))?,
    };
    let settings = settings(&args.connect)?;
    let timeout = Duration::from_secs(args.connect.connect_timeout);
    let mut publisher = connect_within(&settings, timeout, Publisher::connect)?;
    if args.declare_exchanges {
        let exchanges: BTreeSet<&str> = messages.iter().map(|m| m.exchange.as_str()).collect();
        for exchange in exchanges {
            publisher
                .declare_exchange(exchange)
                .map_err(|e| wire_error(&e))?;
        }
    }
    let published = publisher.publish_batch(&messages).map_err(|e| {
        if args.declare_exchanges {
            wire_error(&e)
        } else {
            CliError::failure(format!(
                "{e}; if the exchanges do not exist on this broker, pass --declare-exchanges"
            ))
        }
    })?;
    if let Err(e) = publisher.close() {
        log::warn!("closing the connection: {e}");
    }
    println!("published {published} messages to {settings}");
    if local_queue.is_some() {
        // Nothing to finish: Ctrl-C's default ends the process, and the
        // queue with it.
        status!("pulse-monitor: still serving the queue API; Ctrl-C stops");
        loop {
            std::thread::park();
        }
    }
    Ok(ExitCode::SUCCESS)
}
