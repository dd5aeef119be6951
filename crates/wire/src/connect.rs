//! Opening a connection ourselves, so the socket gets TCP_NODELAY.

use crate::error::{Error, ErrorKind, Result};
use crate::settings::ConnectionSettings;
use amiquip::{Auth, Connection, ConnectionOptions, ConnectionTuning};
use std::net::{TcpStream, ToSocketAddrs};

/// The `log` target under which amiquip logs, at `debug`, every handshake
/// frame it sends, including `Connection.Start-Ok`, whose `response` field
/// is the PLAIN credentials: `\0user\0password`, in clear.
///
/// A library cannot filter another crate's log records, so every program
/// that installs a logger must cap this target at `Info`, e.g. with
/// env_logger: `.filter_module(pulse_wire::HANDSHAKE_LOG_TARGET,
/// log::LevelFilter::Info)` after reading `RUST_LOG`. Otherwise
/// `RUST_LOG=debug` prints the password.
pub const HANDSHAKE_LOG_TARGET: &str = "amiquip::io_loop::handshake_state";

/// Connects, sets TCP_NODELAY and runs the AMQP (and TLS) handshake.
///
/// amiquip's own URL openers leave Nagle's algorithm on, which stalls every
/// synchronous round trip (a confirm-waiting publisher drops to ~40 msg/s),
/// so we connect the socket and hand it over.
pub(crate) fn open_connection(settings: &ConnectionSettings) -> Result<Connection> {
    open_connection_with_socket(settings).map(|(connection, _)| connection)
}

/// [`open_connection`], plus a handle on its socket: shutting that down
/// ends the connection at once, even on a link that has gone silent
/// (amiquip's own close would wait for the broker's answer).
pub(crate) fn open_connection_with_socket(
    settings: &ConnectionSettings,
) -> Result<(Connection, TcpStream)> {
    settings.validate()?;
    // We open the stream and hand it to amiquip's `*_open_stream`, never a
    // URL to its `Connection::open`/`insecure_open`: amiquip parses URLs
    // with url 1.7 and idna 0.1.5 (advisory RUSTSEC-2024-0421: Punycode
    // labels that decode to plain ASCII let two different host names parse
    // alike), so amiquip's URL parser must never be given user input.
    // `ConnectionSettings::from_url` (url 2.5) is the only parser of broker
    // URLs. See .cargo/audit.toml and the README's "Security" section.
    let stream = connect_tcp(settings)?;
    stream
        .set_nodelay(true)
        .map_err(|e| Error::io("setting TCP_NODELAY", e))?;
    let socket = stream
        .try_clone()
        .map_err(|e| Error::io("keeping a handle on the socket", e))?;
    let stream = mio::net::TcpStream::from_stream(stream)
        .map_err(|e| Error::io("making the socket non-blocking", e))?;
    let options = ConnectionOptions::<Auth>::default()
        .auth(Auth::Plain {
            username: settings.user.clone(),
            password: settings.password.expose().to_string(),
        })
        .virtual_host(settings.vhost.as_str())
        .heartbeat(settings.heartbeat)
        .connection_timeout(Some(settings.connect_timeout))
        .information(Some(settings.connection_name.clone()));
    let doing = format!("opening {settings}");
    let connection = if settings.tls {
        let connector = tls_connector(settings)?;
        Connection::open_tls_stream(
            connector,
            &settings.host,
            stream,
            options,
            ConnectionTuning::default(),
        )
        .map_err(|e| Error::amqp(&doing, e))
    } else {
        Connection::insecure_open_stream(stream, options, ConnectionTuning::default())
            .map_err(|e| Error::amqp(doing, e))
    }?;
    Ok((connection, socket))
}

fn connect_tcp(settings: &ConnectionSettings) -> Result<TcpStream> {
    let target = format!("{}:{}", settings.host, settings.port);
    let addrs = (settings.host.as_str(), settings.port)
        .to_socket_addrs()
        .map_err(|e| Error::io(format_args!("resolving {target}"), e))?;
    let mut last_error = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, settings.connect_timeout) {
            Ok(stream) => return Ok(stream),
            Err(e) => last_error = Some(e),
        }
    }
    Err(match last_error {
        Some(e) => Error::io(format_args!("connecting to {target}"), e),
        None => Error::new(
            ErrorKind::Io,
            format!("resolving {target}: no addresses found"),
        ),
    })
}

/// System roots plus the optional CA file; verification is never disabled.
fn tls_connector(settings: &ConnectionSettings) -> Result<native_tls::TlsConnector> {
    let mut builder = native_tls::TlsConnector::builder();
    if let Some(path) = &settings.ca_file {
        let pem = std::fs::read(path).map_err(|e| {
            Error::new(
                ErrorKind::Tls,
                format!("reading ca_file {}: {e}", path.display()),
            )
            .with_source(e)
        })?;
        let certificate = native_tls::Certificate::from_pem(&pem).map_err(|e| {
            Error::new(
                ErrorKind::Tls,
                format!("ca_file {} is not a PEM certificate: {e}", path.display()),
            )
            .with_source(e)
        })?;
        builder.add_root_certificate(certificate);
    }
    builder
        .build()
        .map_err(|e| Error::new(ErrorKind::Tls, format!("setting up tls: {e}")).with_source(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_ca_file_is_a_tls_error_before_connecting() {
        let settings = ConnectionSettings {
            ca_file: Some("/nonexistent/ca.pem".into()),
            ..ConnectionSettings::default()
        };
        let err = tls_connector(&settings).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Tls);
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
    }

    #[test]
    fn garbage_ca_file_is_rejected() {
        let path = std::env::temp_dir().join(format!("pulse-wire-ca-{}.pem", std::process::id()));
        std::fs::write(&path, "not a certificate").unwrap();
        let settings = ConnectionSettings {
            ca_file: Some(path.clone()),
            ..ConnectionSettings::default()
        };
        let err = tls_connector(&settings).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(err.kind(), ErrorKind::Tls);
        assert!(!err.is_recoverable());
    }
}
