//! The crate's error type.

use std::fmt;

/// What went wrong, coarsely enough to decide what to do about it.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A connection URL could not be parsed.
    InvalidUrl,
    /// Settings (environment, config file, options) are missing or malformed.
    InvalidConfig,
    /// The broker refused the TCP connection (down or restarting).
    ConnectRefused,
    /// Connecting or the AMQP handshake did not finish in time.
    Timeout,
    /// Any other network or file I/O failure.
    Io,
    /// TLS could not be set up or the broker's certificate was not trusted.
    Tls,
    /// The broker rejected the credentials, the vhost or a permission
    /// (AMQP 403 ACCESS_REFUSED, 530 NOT_ALLOWED).
    AccessRefused,
    /// An exchange or queue does not exist (AMQP 404).
    NotFound,
    /// An entity exists with other options than the ones we declared (AMQP 406).
    PreconditionFailed,
    /// The connection or channel was closed (by the broker, an operator or us),
    /// or a heartbeat was missed.
    Closed,
    /// A publisher confirm was negative or did not arrive in time.
    NotConfirmed,
    /// Any other AMQP-level failure.
    Amqp,
}

impl ErrorKind {
    /// Whether retrying (with a new connection) can succeed without someone
    /// changing the configuration or the broker's setup.
    pub fn is_recoverable(self) -> bool {
        match self {
            ErrorKind::ConnectRefused
            | ErrorKind::Timeout
            | ErrorKind::Io
            | ErrorKind::Closed
            | ErrorKind::NotConfirmed
            | ErrorKind::Amqp => true,
            ErrorKind::InvalidUrl
            | ErrorKind::InvalidConfig
            | ErrorKind::Tls
            | ErrorKind::AccessRefused
            | ErrorKind::NotFound
            | ErrorKind::PreconditionFailed => false,
        }
    }
}

/// An error from the wire crate. Its message never contains a password.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    amqp_code: Option<u16>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// Shorthand for results in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            amqp_code: None,
            source: None,
        }
    }

    pub(crate) fn with_source(
        mut self,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Error {
        self.source = Some(Box::new(source));
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The AMQP reply code when the broker closed a channel or the connection.
    pub fn amqp_code(&self) -> Option<u16> {
        self.amqp_code
    }

    /// Whether retrying with a new connection can succeed; bad credentials,
    /// missing entities, TLS verification failures and bad settings cannot.
    pub fn is_recoverable(&self) -> bool {
        self.kind.is_recoverable()
    }

    /// Wraps an amiquip error, adding what we were doing.
    ///
    /// amiquip's messages never contain our password: we never hand it a
    /// URL, only a socket and `ConnectionOptions`.
    pub(crate) fn amqp(doing: impl fmt::Display, err: amiquip::Error) -> Error {
        use amiquip::Error as A;
        let (kind, code) = match &err {
            A::InvalidCredentials => (ErrorKind::AccessRefused, None),
            A::ServerClosedConnection { code, .. } | A::ServerClosedChannel { code, .. } => {
                (kind_for_reply_code(*code), Some(*code))
            }
            A::TlsHandshake { .. } | A::CreateTlsConnector { .. } => (ErrorKind::Tls, None),
            A::ConnectionTimeout | A::MissedServerHeartbeats => (ErrorKind::Timeout, None),
            A::UnexpectedSocketClose
            | A::ClientClosedConnection
            | A::ClientClosedChannel
            | A::EventLoopDropped
            | A::EventLoopClientDropped => (ErrorKind::Closed, None),
            A::IoErrorReadingSocket { source } | A::IoErrorWritingSocket { source } => {
                (io_kind(source), None)
            }
            A::UnsupportedAuthMechanism { .. } | A::UnsupportedLocale { .. } => {
                (ErrorKind::InvalidConfig, None)
            }
            _ => (ErrorKind::Amqp, None),
        };
        Error {
            kind,
            message: format!("{doing}: {err}"),
            amqp_code: code,
            source: Some(Box::new(err)),
        }
    }

    pub(crate) fn io(doing: impl fmt::Display, err: std::io::Error) -> Error {
        Error::new(io_kind(&err), format!("{doing}: {err}")).with_source(err)
    }
}

fn io_kind(err: &std::io::Error) -> ErrorKind {
    match err.kind() {
        std::io::ErrorKind::ConnectionRefused => ErrorKind::ConnectRefused,
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => ErrorKind::Timeout,
        _ => ErrorKind::Io,
    }
}

fn kind_for_reply_code(code: u16) -> ErrorKind {
    match code {
        403 | 530 => ErrorKind::AccessRefused,
        404 => ErrorKind::NotFound,
        406 => ErrorKind::PreconditionFailed,
        // 320 CONNECTION_FORCED: an operator or a broker shutdown closed us.
        320 => ErrorKind::Closed,
        _ => ErrorKind::Amqp,
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_cross_threads() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<Error>();
    }

    #[test]
    fn broker_reply_codes_map_to_kinds() {
        let closed = |code| amiquip::Error::ServerClosedConnection {
            code,
            message: "x".into(),
        };
        let e = Error::amqp("opening connection", closed(530));
        assert_eq!(e.kind(), ErrorKind::AccessRefused);
        assert_eq!(e.amqp_code(), Some(530));
        assert!(!e.is_recoverable());
        assert!(Error::amqp("x", closed(320)).is_recoverable());
        assert_eq!(Error::amqp("x", closed(404)).kind(), ErrorKind::NotFound);
        assert_eq!(
            Error::amqp("x", amiquip::Error::InvalidCredentials).kind(),
            ErrorKind::AccessRefused
        );
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let e = Error::io("connecting to 127.0.0.1:1", refused);
        assert_eq!(e.kind(), ErrorKind::ConnectRefused);
        assert!(e.is_recoverable());
        assert!(e.to_string().starts_with("connecting to 127.0.0.1:1: "));
    }
}
