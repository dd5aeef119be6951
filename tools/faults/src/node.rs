//! [`SecondNode`]: a throw-away RabbitMQ node beside the shared one.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use pulse_wire::ConnectionSettings;

use pulse_test_support::{find_program, require, Ctl, TempDir};

use crate::{free_port, TestCa};

/// A RabbitMQ node of our own: its own name, ports and data directory, so
/// stopping it or giving it a TLS listener disturbs no other test. Started
/// with `rabbitmq-server -detached`; `rabbitmqctl stop` and, if that fails,
/// a kill of its own pid on drop, then its directory is removed.
#[derive(Debug)]
pub struct SecondNode {
    name: String,
    /// Plain AMQP port.
    pub amqp_port: u16,
    /// AMQPS port, when started with a certificate.
    pub tls_port: Option<u16>,
    ctl: Ctl,
    pid_file: PathBuf,
    dir: TempDir,
}

/// Where the server scripts live: the Debian package's own directory
/// (the `/usr/sbin` wrappers re-run everything as the `rabbitmq` user,
/// dropping our environment's `HOME`), else `PATH`.
fn scripts() -> Option<(PathBuf, PathBuf)> {
    let packaged = Path::new("/usr/lib/rabbitmq/bin");
    if packaged.join("rabbitmq-server").is_file() {
        return Some((
            packaged.join("rabbitmq-server"),
            packaged.join("rabbitmqctl"),
        ));
    }
    Some((
        find_program("rabbitmq-server")?,
        find_program("rabbitmqctl")?,
    ))
}

impl SecondNode {
    /// Starts a node and waits until it serves; with `ca`, it also listens
    /// for AMQPS with the CA's server certificate. `None` (after a loud
    /// SKIP) when RabbitMQ is not installed; a failure under `CI=true`.
    pub fn start(ca: Option<&TestCa>) -> Option<SecondNode> {
        let found = scripts();
        require(found.is_some(), "rabbitmq-server").ok()?;
        let (server, ctl_program) = found?;
        let dir = TempDir::new("faults-node");
        let name = format!("{}@localhost", pulse_test_support::unique("faults"));
        let amqp_port = free_port();
        let dist_port = free_port();
        let tls_port = ca.map(|_| free_port());

        let mut config =
            format!("listeners.tcp.local = 127.0.0.1:{amqp_port}\nloopback_users.guest = true\n");
        if let (Some(ca), Some(port)) = (ca, tls_port) {
            config.push_str(&format!(
                "listeners.ssl.default = 127.0.0.1:{port}\n\
                 ssl_options.cacertfile = {}\n\
                 ssl_options.certfile = {}\n\
                 ssl_options.keyfile = {}\n\
                 ssl_options.verify = verify_none\n\
                 ssl_options.fail_if_no_peer_cert = false\n",
                ca.ca_file().display(),
                ca.server_cert().display(),
                ca.server_key().display(),
            ));
        }
        let write = |file: &str, text: &str| {
            std::fs::write(dir.join(file), text).unwrap_or_else(|e| panic!("writing {file}: {e}"))
        };
        write("rabbitmq.conf", &config);
        write("enabled_plugins", "[].\n");
        // Our own env file, so the system one (which names the shared node)
        // is not read; epmd stays on loopback as the shared node's does.
        write("rabbitmq-env.conf", "ERL_EPMD_ADDRESS=127.0.0.1\n");
        let pid_file = dir.join("node.pid");
        let env = vec![
            ("HOME".to_string(), dir.path().to_path_buf()),
            (
                "RABBITMQ_CONF_ENV_FILE".to_string(),
                dir.join("rabbitmq-env.conf"),
            ),
        ];
        let status = Command::new(&server)
            .arg("-detached")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("RABBITMQ_NODENAME", &name)
            .env("RABBITMQ_DIST_PORT", dist_port.to_string())
            .env("RABBITMQ_MNESIA_BASE", dir.join("mnesia"))
            .env("RABBITMQ_LOG_BASE", dir.join("log"))
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", dir.join("enabled_plugins"))
            .env("RABBITMQ_CONFIG_FILE", dir.join("rabbitmq.conf"))
            .env("RABBITMQ_PID_FILE", &pid_file)
            .status()
            .unwrap_or_else(|e| panic!("running {}: {e}", server.display()));
        assert!(status.success(), "rabbitmq-server -detached: {status}");
        let node = SecondNode {
            ctl: Ctl::for_node(ctl_program, &name, env),
            name,
            amqp_port,
            tls_port,
            pid_file,
            dir,
        };
        let pid_file = node.pid_file.display().to_string();
        if let Err(e) = node.ctl.run(&["wait", &pid_file, "--timeout", "90"]) {
            let log = std::fs::read_to_string(node.dir.join(&format!("log/{}.log", node.name)))
                .unwrap_or_default();
            panic!("second RabbitMQ node did not start: {e}\n{log}");
        }
        Some(node)
    }

    /// The node's name (`faults-…@localhost`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `rabbitmqctl -n <this node>`.
    pub fn ctl(&self) -> &Ctl {
        &self.ctl
    }

    /// guest/guest over plain AMQP, with a connection name of its own.
    pub fn settings(&self, prefix: &str) -> ConnectionSettings {
        pulse_test_support::guest_settings(
            &format!("amqp://guest:guest@127.0.0.1:{}/", self.amqp_port),
            prefix,
        )
    }

    /// Stops the RabbitMQ application, keeping the Erlang node: every
    /// connection drops and the ports close, as in a broker restart.
    pub fn stop_app(&self) {
        self.ctl.run_ok(&["stop_app"]);
    }

    /// Starts the application again (durable queues come back).
    pub fn start_app(&self) {
        self.ctl.run_ok(&["start_app"]);
    }

    fn os_pid(&self) -> Option<u32> {
        std::fs::read_to_string(&self.pid_file)
            .ok()?
            .trim()
            .parse()
            .ok()
    }
}

impl Drop for SecondNode {
    fn drop(&mut self) {
        let pid = self.os_pid();
        let pid_file = self.pid_file.display().to_string();
        if let Err(e) = self.ctl.run(&["stop", &pid_file]) {
            eprintln!("cleanup: {e}");
        }
        if let Some(pid) = pid {
            let alive = || Path::new(&format!("/proc/{pid}")).exists();
            if !pulse_test_support::wait_for(Duration::from_secs(10), || !alive()) {
                eprintln!(
                    "cleanup: node {} still running; killing pid {pid}",
                    self.name
                );
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            }
        }
    }
}
