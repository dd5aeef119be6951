//! [`MonitorProcess`]: the `fault-monitor` binary as a child process.

use std::io::Read;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// A running `fault-monitor` (or any program): stdout and stderr are
/// collected as they come; closing stdin asks it to stop. Killed (by its
/// own pid) and reaped on drop if still running.
#[derive(Debug)]
pub struct MonitorProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
}

/// How a [`MonitorProcess`] ended, and everything it printed.
#[derive(Debug)]
pub struct Ended {
    /// Its exit status (`None`: it had to be killed).
    pub status: Option<ExitStatus>,
    /// All of stdout.
    pub stdout: String,
    /// All of stderr.
    pub stderr: String,
}

impl MonitorProcess {
    /// Starts `program args` with extra environment `env`.
    pub fn spawn(program: &Path, args: &[&str], env: &[(&str, &str)]) -> MonitorProcess {
        let mut child = Command::new(program)
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", program.display()));
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let readers = vec![
            collect(child.stdout.take().expect("piped"), Arc::clone(&stdout)),
            collect(child.stderr.take().expect("piped"), Arc::clone(&stderr)),
        ];
        MonitorProcess {
            stdin: child.stdin.take(),
            child,
            stdout,
            stderr,
            readers,
        }
    }

    /// Its process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// What it printed to stdout so far.
    pub fn stdout(&self) -> String {
        self.stdout
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// What it printed to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Waits until stdout or stderr contains `needle`; false after
    /// `timeout` or if the process ended first.
    pub fn wait_for_output(&mut self, needle: &str, timeout: Duration) -> bool {
        pulse_test_support::wait_for(timeout, || {
            self.stdout().contains(needle)
                || self.stderr().contains(needle)
                || matches!(self.child.try_wait(), Ok(Some(_)))
        }) && (self.stdout().contains(needle) || self.stderr().contains(needle))
    }

    /// Whether it has ended on its own (exited, aborted, killed by a signal).
    pub fn has_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// SIGKILL: no cleanup, no last acknowledgement.
    pub fn kill(self) -> Ended {
        self.finish(Duration::ZERO)
    }

    /// Closes its stdin and waits up to `timeout` for it to exit (then kills it).
    pub fn stop(self, timeout: Duration) -> Ended {
        self.finish(timeout)
    }

    fn finish(mut self, timeout: Duration) -> Ended {
        drop(self.stdin.take());
        let exited = !timeout.is_zero()
            && pulse_test_support::wait_for(timeout, || {
                matches!(self.child.try_wait(), Ok(Some(_)))
            });
        let status = if exited {
            self.child.wait().ok()
        } else {
            let _ = self.child.kill();
            let _ = self.child.wait();
            None
        };
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        Ended {
            status,
            stdout: self.stdout(),
            stderr: self.stderr(),
        }
    }
}

impl Drop for MonitorProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn collect(mut pipe: impl Read + Send + 'static, into: Arc<Mutex<String>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buffer = [0u8; 8192];
        while let Ok(n) = pipe.read(&mut buffer) {
            if n == 0 {
                break;
            }
            into.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push_str(&String::from_utf8_lossy(&buffer[..n]));
        }
    })
}

/// The ids in a `fault-monitor --ids` file (a line cut short by a kill is
/// skipped).
pub fn read_ids(path: &Path) -> Vec<u64> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.trim().parse().ok())
        .collect()
}
