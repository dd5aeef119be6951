//! `rabbitmqctl` for the shared node or another one (the fault tests'
//! `SecondNode`), and [`Vhost`]: a test's private corner of the shared
//! broker.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use pulse_wire::ConnectionSettings;

use crate::{find_program, port_open, require};

/// Runs `rabbitmqctl args` on the shared node and returns its stdout;
/// panics when it is missing or fails.
pub fn rabbitmqctl(args: &[&str]) -> String {
    Ctl::shared()
        .expect("rabbitmqctl is on PATH (the broker tests need it)")
        .run_ok(args)
}

/// Closes the one broker connection on the shared node whose client
/// properties carry exactly `name` (other tests share this broker, and a
/// publisher's name may extend the consumer's). Waits up to 60 s for it to
/// appear, since a connect or reconnect may be under way; fails when none
/// does, or when more than one carries the name.
pub fn close_connection_named(name: &str, reason: &str) {
    let ctl = Ctl::shared().expect("rabbitmqctl is on PATH (needed to close a connection)");
    let deadline = Instant::now() + Duration::from_secs(60);
    let pid = loop {
        let listing = ctl.run_ok(&["list_connections", "-q", "pid", "client_properties"]);
        let pids = named_in(&listing, name);
        match pids.len() {
            1 => break pids.into_iter().next().unwrap(),
            0 => {
                assert!(
                    Instant::now() < deadline,
                    "no broker connection named {name}"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
            n => panic!("{n} broker connections named {name}: {pids:?}"),
        }
    };
    ctl.run_ok(&["close_connection", &pid, reason]);
}

/// Runs `rabbitmqctl` against one node.
#[derive(Clone, Debug)]
pub struct Ctl {
    program: PathBuf,
    node: Option<String>,
    env: Vec<(String, PathBuf)>,
}

impl Ctl {
    /// `rabbitmqctl` from `PATH`, for the shared node; `None` if missing.
    pub fn shared() -> Option<Ctl> {
        Some(Ctl {
            program: find_program("rabbitmqctl")?,
            node: None,
            env: Vec::new(),
        })
    }

    /// `rabbitmqctl -n node`, run as `program` with extra environment
    /// (a second node's `HOME`, which holds its Erlang cookie).
    pub fn for_node(program: PathBuf, node: &str, env: Vec<(String, PathBuf)>) -> Ctl {
        Ctl {
            program,
            node: Some(node.to_string()),
            env,
        }
    }

    /// Runs `rabbitmqctl args`; its stdout, or why it failed.
    pub fn run(&self, args: &[&str]) -> Result<String, String> {
        let mut command = Command::new(&self.program);
        if let Some(node) = &self.node {
            command.args(["-n", node]);
        }
        for (name, value) in &self.env {
            command.env(name, value);
        }
        let output = command
            .args(args)
            .output()
            .map_err(|e| format!("running {}: {e}", self.program.display()))?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(format!(
                "rabbitmqctl {args:?} failed ({}): {}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }

    /// Like [`run`](Self::run), panicking on failure.
    pub fn run_ok(&self, args: &[&str]) -> String {
        self.run(args).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Force-closes every connection whose client properties carry `name`
    /// (our `connection_name`), and only those; returns how many. Waits up
    /// to 10 s for one to appear, since a reconnect may be under way.
    pub fn close_connections_named(&self, name: &str, reason: &str) -> usize {
        let mut pids = Vec::new();
        let found = crate::wait_for(Duration::from_secs(10), || {
            pids = self.connections_named(name);
            !pids.is_empty()
        });
        if !found {
            return 0;
        }
        let mut closed = 0;
        for pid in pids {
            // A connection that went away meanwhile is not an error.
            if self.run(&["close_connection", &pid, reason]).is_ok() {
                closed += 1;
            }
        }
        closed
    }

    /// The Erlang pids of the connections whose client properties carry `name`.
    pub fn connections_named(&self, name: &str) -> Vec<String> {
        let listing = self
            .run(&["list_connections", "-q", "pid", "client_properties"])
            .unwrap_or_default();
        named_in(&listing, name)
    }
}

/// The pids in a `list_connections pid client_properties` listing whose
/// properties carry exactly `name`: the listing shows
/// `{"information","<name>"}`.
fn named_in(listing: &str, name: &str) -> Vec<String> {
    let quoted = format!("\"{name}\"");
    listing
        .lines()
        .filter(|line| line.contains(&quoted))
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// A virtual host of its own on the shared broker (127.0.0.1:5672,
/// guest/guest): the monitor always binds `exchange/build/`, and other
/// tests publish there too. Deleted on drop with everything in it
/// (exchanges, queues, connections), together with the users added here.
#[derive(Debug)]
pub struct Vhost {
    name: String,
    ctl: Ctl,
    users: Vec<String>,
}

impl Vhost {
    /// Creates the vhost, named `<prefix>-<random>`; `None` (after a loud
    /// SKIP) without a broker or `rabbitmqctl`, a failure under `CI=true`.
    pub fn create(prefix: &str) -> Option<Vhost> {
        require(port_open(5672), "RabbitMQ at 127.0.0.1:5672").ok()?;
        let ctl = Ctl::shared();
        require(ctl.is_some(), "rabbitmqctl").ok()?;
        let ctl = ctl?;
        let vhost = Vhost {
            name: crate::unique(prefix),
            ctl,
            users: Vec::new(),
        };
        vhost.ctl.run_ok(&["add_vhost", &vhost.name]);
        vhost.ctl.run_ok(&[
            "set_permissions",
            "-p",
            &vhost.name,
            "guest",
            ".*",
            ".*",
            ".*",
        ]);
        Some(vhost)
    }

    /// The vhost's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `rabbitmqctl` for the shared node.
    pub fn ctl(&self) -> &Ctl {
        &self.ctl
    }

    /// guest/guest on this vhost as a URL (for a `PULSE_URL`).
    pub fn url(&self) -> String {
        format!("{}{}", crate::BROKER_URL, self.name)
    }

    /// guest/guest on this vhost, with a connection name of its own
    /// (`<prefix>-<random>`) so [`Ctl::close_connections_named`] finds it.
    pub fn settings(&self, prefix: &str) -> ConnectionSettings {
        crate::guest_settings(&self.url(), prefix)
    }

    /// Adds a user with full rights on this vhost only; deleted on drop.
    pub fn add_user(&mut self, user: &str, password: &str) {
        self.ctl.run_ok(&["add_user", user, password]);
        self.users.push(user.to_string());
        self.ctl
            .run_ok(&["set_permissions", "-p", &self.name, user, ".*", ".*", ".*"]);
    }

    /// `list_queues` on this vhost: name, durable, messages.
    pub fn queues(&self) -> String {
        self.ctl.run_ok(&[
            "list_queues",
            "-q",
            "-p",
            &self.name,
            "name",
            "durable",
            "messages",
        ])
    }
}

impl Drop for Vhost {
    fn drop(&mut self) {
        for user in &self.users {
            if let Err(e) = self.ctl.run(&["delete_user", user]) {
                eprintln!("cleanup: {e}");
            }
        }
        if let Err(e) = self.ctl.run(&["delete_vhost", &self.name]) {
            eprintln!("cleanup: {e}");
        }
    }
}
