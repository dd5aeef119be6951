//! What the command's tests share: running the binary, reading its lines,
//! the local broker, and a `watch` or `record` left running.
#![allow(dead_code, unused_imports)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_pulse-monitor");
pub use pulse_test_support::BROKER_URL;

pub fn run(args: &[&str]) -> Output {
    run_with_stdin(args, None)
}

pub fn run_with_stdin(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("PULSE_URL")
        .env_remove("PULSE_USER")
        .env_remove("PULSE_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the pulse-monitor binary runs");
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

pub fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8(bytes.to_vec())
        .expect("utf-8 output")
        .lines()
        .map(str::to_string)
        .collect()
}

// `unique`: a name for queues and files, so parallel runs do not meet;
// `broker_available`: whether the local broker answers (under CI=true it must).
pub use pulse_test_support::{broker_available, unique};

/// A running `watch` or `record`, its output lines arriving on channels.
pub struct Running {
    pub child: Child,
    pub stdout: mpsc::Receiver<String>,
    pub stderr: mpsc::Receiver<String>,
    pub stderr_seen: Vec<String>,
}

impl Running {
    pub fn start(args: &[&str]) -> Running {
        Running::start_with_env(args, &[])
    }

    /// [`start`](Self::start) with these environment variables set.
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Running {
        let mut child = Command::new(BIN)
            .args(args)
            .env_remove("RUST_LOG")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let follow = |pipe: Box<dyn std::io::Read + Send>| {
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
            rx
        };
        let stdout = follow(Box::new(child.stdout.take().unwrap()));
        let stderr = follow(Box::new(child.stderr.take().unwrap()));
        Running {
            child,
            stdout,
            stderr,
            stderr_seen: Vec::new(),
        }
    }

    /// Waits for a stderr line containing `text`, and returns it.
    pub fn wait_for_stderr(&mut self, text: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        while let Ok(line) = self
            .stderr
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            let found = line.contains(text);
            self.stderr_seen.push(line.clone());
            if found {
                return line;
            }
        }
        let _ = self.child.kill();
        panic!(
            "no {text:?} on stderr within {timeout:?}: {:#?}",
            self.stderr_seen
        );
    }

    /// Ctrl-C, then the rest of its stdout and stderr.
    pub fn interrupt_with_output(mut self) -> (Vec<String>, Vec<String>) {
        let stdout = std::mem::replace(&mut self.stdout, mpsc::channel().1);
        let stderr = self.interrupt();
        (stdout.iter().collect(), stderr)
    }

    /// Ctrl-C, then the rest of its stderr.
    pub fn interrupt(mut self) -> Vec<String> {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        assert!(exit.success(), "{exit:?}: {:#?}", self.stderr_seen);
        let rest: Vec<String> = self.stderr.iter().collect();
        self.stderr_seen.extend(rest);
        std::mem::take(&mut self.stderr_seen)
    }
}

/// A test that ends (or fails) with the command still running does not
/// leave it behind.
impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
