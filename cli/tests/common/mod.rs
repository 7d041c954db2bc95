//! Process helpers shared by the CLI tests that run `net pub` / `net sub` as real processes:
//! a child killed on drop, line readers on their own threads, and bounded waits for a line.
//! Each test crate uses a subset of these, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The `net` binary under test.
pub const NET: &str = env!("CARGO_BIN_EXE_net");
/// Bound on every wait of these tests.
pub const WAIT: Duration = Duration::from_secs(20);

/// Kills the child when dropped (a failed assertion must not leave processes behind).
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Running {
    /// Starts `net args...` with piped stdout and stderr, and a piped stdin if `stdin`.
    pub fn spawn(args: &[&str], stdin: bool) -> Running {
        Running(
            Command::new(NET)
                .args(args)
                .stdin(if stdin { Stdio::piped() } else { Stdio::null() })
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn net"),
        )
    }

    /// Waits at most [`WAIT`] for the exit status.
    pub fn wait(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "net did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The child's stdout, line by line.
    pub fn stdout(&mut self) -> mpsc::Receiver<String> {
        lines(self.0.stdout.take().unwrap())
    }

    /// The child's stderr, line by line.
    pub fn stderr(&mut self) -> mpsc::Receiver<String> {
        lines(self.0.stderr.take().unwrap())
    }
}

/// Reads `pipe` line by line on a thread of its own.
pub fn lines(pipe: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The first line starting with `prefix` (earlier lines are skipped); waits at most [`WAIT`].
pub fn until(rx: &mpsc::Receiver<String>, prefix: &str) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no line starting with {prefix:?}"));
        if line.starts_with(prefix) {
            return line;
        }
    }
}
