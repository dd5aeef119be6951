//! Where and how to connect: [`ConnectionSettings`] and the redacting [`Password`].

use crate::error::{Error, ErrorKind, Result};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use url::{Host, ParseError, Url};

/// The public Pulse broker.
pub const PULSE_HOST: &str = "pulse.mozilla.org";
/// The AMQP-over-TLS port (Pulse's only port).
pub const AMQPS_PORT: u16 = 5671;
/// The plain AMQP port (local brokers).
pub const AMQP_PORT: u16 = 5672;

/// What `Display` leaves as it is in the user and the vhost: RFC 3986's
/// unreserved characters (ASCII letters, digits and `-._~`).
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A password that prints as `***` in `Debug` and `Display`, so it cannot
/// leak through logs or error messages by accident.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Password(String);

impl Password {
    /// Wraps a password.
    pub fn new(password: impl Into<String>) -> Password {
        Password(password.into())
    }

    /// The secret itself, for the one place that needs it: the AMQP handshake.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Password {
    fn from(password: &str) -> Password {
        Password::new(password)
    }
}

impl From<String> for Password {
    fn from(password: String) -> Password {
        Password(password)
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Everything needed to open a connection to Pulse (or a local RabbitMQ).
///
/// `Debug` and `Display` never show the password; `Display` is the URL
/// with the password replaced: `amqps://user:***@pulse.mozilla.org:5671/`.
///
/// With `tls` on, the connection is TLS with certificate verification
/// against the system roots plus `ca_file`; it never falls back to plain AMQP.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionSettings {
    /// Broker host name (also the name the TLS certificate must match).
    pub host: String,
    /// Broker port.
    pub port: u16,
    /// AMQP virtual host; Pulse uses `/`.
    pub vhost: String,
    /// User name (the Pulse user, which also prefixes queue names).
    pub user: String,
    /// Password, redacted in all output.
    pub password: Password,
    /// Use TLS (`amqps`). Certificates are always verified.
    pub tls: bool,
    /// An extra PEM CA certificate to trust, e.g. for a test broker.
    pub ca_file: Option<PathBuf>,
    /// AMQP heartbeat in seconds (0 disables; the lower of ours and the broker's wins).
    pub heartbeat: u16,
    /// Name reported to the broker (client property `information`), visible
    /// in `rabbitmqctl list_connections client_properties`.
    pub connection_name: String,
    /// Limit for the TCP connect and for the AMQP/TLS handshake.
    pub connect_timeout: Duration,
}

impl Default for ConnectionSettings {
    /// Pulse: `pulse.mozilla.org:5671`, TLS on, vhost `/`, no credentials.
    fn default() -> ConnectionSettings {
        ConnectionSettings {
            host: PULSE_HOST.to_string(),
            port: AMQPS_PORT,
            vhost: "/".to_string(),
            user: String::new(),
            password: Password::default(),
            tls: true,
            ca_file: None,
            heartbeat: 60,
            connection_name: format!("pulse-wire/{}", std::process::id()),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

impl fmt::Display for ConnectionSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "amqps" } else { "amqp" };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let vhost = if self.vhost == "/" {
            String::new()
        } else {
            percent_encode(&self.vhost)
        };
        write!(
            f,
            "{scheme}://{}:***@{host}:{}/{vhost}",
            percent_encode(&self.user),
            self.port
        )
    }
}

impl ConnectionSettings {
    /// Parses `amqp://` or `amqps://user:password@host:port/vhost`.
    ///
    /// User and password are percent-decoded; an empty path means vhost `/`
    /// (write `%2f` for a `/` inside a vhost name). Missing credentials mean
    /// `guest`/`guest`. Query parameters: `heartbeat` (seconds),
    /// `connection_timeout` (milliseconds), `cacertfile` (path) and
    /// `connection_name`. Error messages show the URL with the password hidden.
    ///
    /// The URL is parsed by the `url` crate (WHATWG rules: `.` and `..`
    /// path segments are resolved, an empty port means the default one);
    /// a `#` is taken literally, since AMQP URIs have no fragment, and a
    /// `%` not followed by two hex digits is an error.
    pub fn from_url(url: &str) -> Result<ConnectionSettings> {
        let bad = |reason: &str| {
            Error::new(
                ErrorKind::InvalidUrl,
                format!("invalid url `{}`: {reason}", redact_url(url)),
            )
        };
        // Checked on the text, before the parser (which would also take
        // `AMQP://` or ` amqp://`), so the message names what we expect.
        let tls = if url.starts_with("amqps://") {
            true
        } else if url.starts_with("amqp://") {
            false
        } else {
            return Err(bad("expected amqp:// or amqps://"));
        };
        // AMQP URIs have no fragment: a `#` (say in a password pasted
        // without encoding) is taken literally, as it always was here.
        let literal_hashes = url.replace('#', "%23");
        // `url`'s messages ("invalid port number", ...) never quote the input.
        let parsed = Url::parse(&literal_hashes).map_err(|e| {
            bad(&match e {
                ParseError::InvalidPort | ParseError::InvalidIpv6Address => {
                    "bad host or port".to_string()
                }
                ParseError::EmptyHost => "missing host".to_string(),
                other => other.to_string(),
            })
        })?;
        let host = match parsed.host() {
            Some(Host::Domain(host)) => host.to_string(),
            Some(Host::Ipv4(addr)) => addr.to_string(),
            Some(Host::Ipv6(addr)) => addr.to_string(),
            None => String::new(),
        };
        if host.is_empty() {
            return Err(bad("missing host"));
        }
        if parsed.port() == Some(0) {
            return Err(bad("bad host or port"));
        }
        let (user, password) = match (parsed.username(), parsed.password()) {
            ("", None) => ("guest".to_string(), Password::new("guest")),
            (user, password) => {
                let user = strict_decode(user).ok_or_else(|| bad("bad %-encoding in user"))?;
                let password = strict_decode(password.unwrap_or(""))
                    .ok_or_else(|| bad("bad %-encoding in password"))?;
                (user, Password(password))
            }
        };
        let path = parsed.path();
        let path = path.strip_prefix('/').unwrap_or(path);
        if path.contains('/') {
            return Err(bad("vhost must be one path segment (write `/` as %2f)"));
        }
        let vhost = if path.is_empty() {
            "/".to_string()
        } else {
            strict_decode(path).ok_or_else(|| bad("bad %-encoding in vhost"))?
        };

        let mut settings = ConnectionSettings {
            host,
            port: parsed
                .port()
                .unwrap_or(if tls { AMQPS_PORT } else { AMQP_PORT }),
            vhost,
            user,
            password,
            tls,
            ..ConnectionSettings::default()
        };
        for pair in parsed.query().into_iter().flat_map(|q| q.split('&')) {
            if pair.is_empty() {
                continue;
            }
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = strict_decode(value)
                .ok_or_else(|| bad(&format!("bad %-encoding in parameter `{key}`")))?;
            match key {
                "heartbeat" => {
                    settings.heartbeat = value
                        .parse()
                        .map_err(|_| bad(&format!("heartbeat `{value}` is not 0..65535")))?;
                }
                "connection_timeout" => {
                    let millis: u64 = value.parse().map_err(|_| {
                        bad(&format!("connection_timeout `{value}` is not milliseconds"))
                    })?;
                    settings.connect_timeout = Duration::from_millis(millis);
                }
                "cacertfile" => settings.ca_file = Some(PathBuf::from(value)),
                "connection_name" => settings.connection_name = value,
                _ => return Err(bad(&format!("unsupported parameter `{key}`"))),
            }
        }
        settings.validate()?;
        Ok(settings)
    }

    /// Reads `PULSE_URL`, or else `PULSE_USER` and `PULSE_PASSWORD` on top of
    /// the Pulse defaults.
    pub fn from_env() -> Result<ConnectionSettings> {
        from_vars(|name| std::env::var(name).ok())
    }

    /// Reads a JSON file. Every field is optional and overrides, in order,
    /// the Pulse defaults and then `url`:
    ///
    /// ```json
    /// { "url": "amqps://pulse.mozilla.org/", "user": "me", "password": "secret",
    ///   "host": "...", "port": 5671, "vhost": "/", "tls": true, "ca_file": "ca.pem",
    ///   "heartbeat": 60, "connection_name": "...", "connect_timeout_secs": 10 }
    /// ```
    ///
    /// When `tls` is given without `port`, the port follows it (5671 or 5672).
    pub fn from_config_file(path: impl AsRef<Path>) -> Result<ConnectionSettings> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::io(format!("reading config file {}", path.display()), e))?;
        from_json(&text)
            .map_err(|e| Error::new(e.kind(), format!("config file {}: {}", path.display(), e)))
    }

    /// Checks combinations that can never work, before any connection attempt.
    pub fn validate(&self) -> Result<()> {
        let bad = |reason: String| Error::new(ErrorKind::InvalidConfig, reason);
        if self.host.is_empty() {
            return Err(bad("empty broker host".to_string()));
        }
        if self.port == 0 {
            return Err(bad(format!("port 0 for host `{}`", self.host)));
        }
        if self.vhost.is_empty() {
            return Err(bad("empty vhost (Pulse uses `/`)".to_string()));
        }
        if let (false, Some(ca)) = (self.tls, &self.ca_file) {
            return Err(bad(format!(
                "ca_file `{}` given but tls is off",
                ca.display()
            )));
        }
        Ok(())
    }
}

fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<ConnectionSettings> {
    if let Some(url) = var("PULSE_URL").filter(|u| !u.is_empty()) {
        return ConnectionSettings::from_url(&url)
            .map_err(|e| Error::new(e.kind(), format!("PULSE_URL: {}", e)));
    }
    match (var("PULSE_USER"), var("PULSE_PASSWORD")) {
        (Some(user), Some(password)) if !user.is_empty() => Ok(ConnectionSettings {
            user,
            password: Password(password),
            ..ConnectionSettings::default()
        }),
        _ => Err(Error::new(
            ErrorKind::InvalidConfig,
            "no pulse credentials: set PULSE_URL, or PULSE_USER and PULSE_PASSWORD",
        )),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    url: Option<String>,
    host: Option<String>,
    port: Option<u16>,
    vhost: Option<String>,
    user: Option<String>,
    tls: Option<bool>,
    ca_file: Option<PathBuf>,
    heartbeat: Option<u16>,
    connection_name: Option<String>,
    connect_timeout_secs: Option<u64>,
}

fn from_json(text: &str) -> Result<ConnectionSettings> {
    let invalid = |msg: String| Error::new(ErrorKind::InvalidConfig, msg);
    // Syntax errors from serde_json name positions, never values.
    let mut value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| invalid(format!("invalid json: {e}")))?;
    let object = value
        .as_object_mut()
        .ok_or_else(|| invalid("expected a json object".to_string()))?;
    // The password is taken out before typed decoding, whose messages can
    // quote a wrongly typed value.
    let password = match object.remove("password") {
        None => None,
        Some(serde_json::Value::String(p)) => Some(Password(p)),
        Some(_) => return Err(invalid("`password` must be a string".to_string())),
    };
    let file: ConfigFile =
        serde_json::from_value(value).map_err(|e| invalid(format!("invalid settings: {e}")))?;

    let mut settings = match &file.url {
        Some(url) => ConnectionSettings::from_url(url)?,
        None => ConnectionSettings::default(),
    };
    if let Some(tls) = file.tls {
        settings.tls = tls;
        settings.port = if tls { AMQPS_PORT } else { AMQP_PORT };
    }
    if let Some(port) = file.port {
        settings.port = port;
    }
    if let Some(host) = file.host {
        settings.host = host;
    }
    if let Some(vhost) = file.vhost {
        settings.vhost = vhost;
    }
    if let Some(user) = file.user {
        settings.user = user;
    }
    if let Some(password) = password {
        settings.password = password;
    }
    if file.ca_file.is_some() {
        settings.ca_file = file.ca_file;
    }
    if let Some(heartbeat) = file.heartbeat {
        settings.heartbeat = heartbeat;
    }
    if let Some(name) = file.connection_name {
        settings.connection_name = name;
    }
    if let Some(secs) = file.connect_timeout_secs {
        settings.connect_timeout = Duration::from_secs(secs);
    }
    settings.validate()?;
    Ok(settings)
}

/// Replaces the password in a URL by `***`, for messages about the URL.
pub(crate) fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        // Not a URL we understand; it may be anything, including a secret.
        return "<unparsable>".to_string();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rsplit_once('@') {
        Some((userinfo, hostport)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            format!(
                "{}{user}:***@{hostport}{}",
                &url[..scheme_end],
                &rest[authority_end..]
            )
        }
        None => url.to_string(),
    }
}

/// Percent-decodes `s` into UTF-8 text. Unlike `percent_decode_str`, which
/// keeps a stray `%` as it is, a `%` not followed by two hex digits is an
/// error: in a URL it is a typo, or a secret pasted without encoding.
fn strict_decode(s: &str) -> Option<String> {
    let well_formed = s.split('%').skip(1).all(|after| {
        after
            .get(..2)
            .is_some_and(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
    });
    if !well_formed {
        return None;
    }
    percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(|text| text.into_owned())
}

fn percent_encode(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pulse_url_with_defaults() {
        let s = ConnectionSettings::from_url("amqps://me:secret@pulse.mozilla.org:5671/").unwrap();
        assert_eq!(s.host, "pulse.mozilla.org");
        assert_eq!(s.port, 5671);
        assert!(s.tls);
        assert_eq!(s.vhost, "/");
        assert_eq!(s.user, "me");
        assert_eq!(s.password.expose(), "secret");
        assert_eq!(s.ca_file, None);
    }

    #[test]
    fn plain_url_defaults_port_vhost_and_guest() {
        let s = ConnectionSettings::from_url("amqp://localhost").unwrap();
        assert!(!s.tls);
        assert_eq!(s.port, 5672);
        assert_eq!(s.vhost, "/");
        assert_eq!(s.user, "guest");
        assert_eq!(s.password.expose(), "guest");
        let s = ConnectionSettings::from_url("amqps://u:p@h").unwrap();
        assert_eq!(s.port, 5671);
    }

    #[test]
    fn percent_decoding_of_credentials_and_vhost() {
        let s =
            ConnectionSettings::from_url("amqp://a%40b:p%3Aw%2Fd%25@h:1234/%2fstaging").unwrap();
        assert_eq!(s.user, "a@b");
        assert_eq!(s.password.expose(), "p:w/d%");
        assert_eq!(s.port, 1234);
        assert_eq!(s.vhost, "/staging");
        let s = ConnectionSettings::from_url("amqp://h/%2F").unwrap();
        assert_eq!(s.vhost, "/");
        let s = ConnectionSettings::from_url("amqp://h/test").unwrap();
        assert_eq!(s.vhost, "test");
    }

    #[test]
    fn at_sign_in_raw_password_splits_at_last_at() {
        let s = ConnectionSettings::from_url("amqp://u:p@ss@h/").unwrap();
        assert_eq!(s.password.expose(), "p@ss");
        assert_eq!(s.host, "h");
    }

    #[test]
    fn a_hash_is_part_of_the_name_not_a_fragment() {
        let s = ConnectionSettings::from_url("amqp://u:pa#ss@h/v#x").unwrap();
        assert_eq!((s.password.expose(), s.host.as_str()), ("pa#ss", "h"));
        assert_eq!(s.vhost, "v#x");
    }

    #[test]
    fn ipv6_hosts() {
        let s = ConnectionSettings::from_url("amqp://[::1]:5673/").unwrap();
        assert_eq!((s.host.as_str(), s.port), ("::1", 5673));
        assert_eq!(s.to_string(), "amqp://guest:***@[::1]:5673/");
    }

    #[test]
    fn query_parameters() {
        let s = ConnectionSettings::from_url(
            "amqps://u:p@h/?heartbeat=5&connection_timeout=1500&cacertfile=%2Fetc%2Fca.pem&connection_name=mon",
        )
        .unwrap();
        assert_eq!(s.heartbeat, 5);
        assert_eq!(s.connect_timeout, Duration::from_millis(1500));
        assert_eq!(s.ca_file, Some(PathBuf::from("/etc/ca.pem")));
        assert_eq!(s.connection_name, "mon");
    }

    #[test]
    fn bad_urls_are_typed_errors_without_the_password() {
        for url in [
            "http://u:hunter2@h/",
            "amqp://u:hunter2@h:99999/",
            "amqp://u:hunter2@h:x/",
            "amqp://u:hunter2@/",
            "amqp://u:hunter2@h/a/b",
            "amqp://u:hunter2@h/?verify=verify_none",
            "amqp://u:hunter2@h/?heartbeat=-1",
            "amqp://u:hunter2%zz@h/",
            "amqps://u:hunter2@h/?cacertfile=/ca.pem&cacertfile=%",
        ] {
            let err = ConnectionSettings::from_url(url).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidUrl, "{url}");
            assert!(!err.is_recoverable());
            let msg = err.to_string();
            assert!(!msg.contains("hunter2"), "{msg}");
            assert!(msg.starts_with("invalid url"), "{msg}");
        }
        let msg = ConnectionSettings::from_url("amqp://u:hunter2@h:x/")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("`amqp://u:***@h:x/`"), "{msg}");
    }

    #[test]
    fn ca_file_without_tls_is_rejected() {
        let err = ConnectionSettings::from_url("amqp://h/?cacertfile=ca.pem").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    }

    #[test]
    fn debug_and_display_hide_the_password() {
        let s = ConnectionSettings::from_url("amqps://me:hunter2@pulse.mozilla.org/").unwrap();
        let debug = format!("{s:?}");
        let pretty = format!("{s:#?}");
        let display = s.to_string();
        for text in [&debug, &pretty, &display] {
            assert!(!text.contains("hunter2"), "{text}");
        }
        assert!(debug.contains("password: ***"), "{debug}");
        assert_eq!(display, "amqps://me:***@pulse.mozilla.org:5671/");
        assert_eq!(format!("{:?}", s.password), "***");
        assert_eq!(s.password.to_string(), "***");
    }

    #[test]
    fn display_round_trips_except_the_password() {
        let s = ConnectionSettings::from_url("amqp://a%40b:x@h:5673/%2fv%20x").unwrap();
        assert_eq!(s.to_string(), "amqp://a%40b:***@h:5673/%2Fv%20x");
        let back = ConnectionSettings::from_url(&s.to_string()).unwrap();
        assert_eq!(
            (back.user, back.host, back.port, back.vhost),
            (s.user, s.host, s.port, s.vhost)
        );
    }

    #[test]
    fn defaults_follow_pulse() {
        let s = ConnectionSettings::default();
        assert_eq!(
            (s.host.as_str(), s.port, s.tls, s.vhost.as_str()),
            ("pulse.mozilla.org", 5671, true, "/")
        );
        assert_eq!(s.ca_file, None);
    }

    #[test]
    fn env_prefers_url_then_user_and_password() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let s = from_vars(vars(&[
            ("PULSE_URL", "amqp://u:p@localhost/"),
            ("PULSE_USER", "other"),
        ]))
        .unwrap();
        assert_eq!((s.user.as_str(), s.host.as_str()), ("u", "localhost"));

        let s = from_vars(vars(&[("PULSE_USER", "me"), ("PULSE_PASSWORD", "pw")])).unwrap();
        assert_eq!((s.user.as_str(), s.password.expose()), ("me", "pw"));
        assert_eq!((s.host.as_str(), s.port, s.tls), (PULSE_HOST, 5671, true));

        let err = from_vars(vars(&[("PULSE_USER", "me")])).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig);
        let err = from_vars(vars(&[("PULSE_URL", "amqp://u:sekrit@h:bad/")])).unwrap_err();
        assert!(err.to_string().starts_with("PULSE_URL: invalid url"));
        assert!(!err.to_string().contains("sekrit"));
    }

    #[test]
    fn json_config_overrides_defaults_and_url() {
        let s = from_json(r#"{"user": "me", "password": "pw"}"#).unwrap();
        assert_eq!((s.host.as_str(), s.port, s.tls), (PULSE_HOST, 5671, true));
        assert_eq!(s.password.expose(), "pw");

        let s = from_json(
            r#"{"url": "amqp://a:b@localhost/", "user": "c", "heartbeat": 7,
                "connection_name": "n", "connect_timeout_secs": 3}"#,
        )
        .unwrap();
        assert_eq!((s.user.as_str(), s.password.expose()), ("c", "b"));
        assert_eq!((s.heartbeat, s.connection_name.as_str()), (7, "n"));
        assert_eq!(s.connect_timeout, Duration::from_secs(3));

        let s = from_json(r#"{"host": "localhost", "tls": false}"#).unwrap();
        assert_eq!((s.port, s.tls), (5672, false));
        let s = from_json(r#"{"tls": true, "port": 1, "ca_file": "/ca.pem"}"#).unwrap();
        assert_eq!(s.port, 1);
        assert_eq!(s.ca_file, Some(PathBuf::from("/ca.pem")));
    }

    #[test]
    fn json_config_errors_never_quote_the_password() {
        for text in [
            r#"{"password": 424242}"#,
            r#"{"password": ["424242"]}"#,
            r#"{"password": "424242", "port": "x"}"#,
            r#"{"password": "424242", "colour": 1}"#,
            r#"{"password": "424242""#,
            r#"["424242"]"#,
        ] {
            let err = from_json(text).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidConfig, "{text}");
            assert!(!err.to_string().contains("424242"), "{err}");
        }
    }

    #[test]
    fn config_file_errors_name_the_file() {
        let dir = std::env::temp_dir().join(format!("pulse-wire-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("pulse.json");
        std::fs::write(&path, r#"{"user": "me", "password": "pw", "port": 0}"#).unwrap();
        let err = ConnectionSettings::from_config_file(&path).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig);
        assert!(err.to_string().contains("pulse.json"), "{err}");
        std::fs::write(&path, r#"{"user": "me", "password": "pw"}"#).unwrap();
        let s = ConnectionSettings::from_config_file(&path).unwrap();
        assert_eq!(s.user, "me");
        std::fs::remove_dir_all(&dir).unwrap();

        let err = ConnectionSettings::from_config_file(dir.join("missing.json")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io);
    }
}
