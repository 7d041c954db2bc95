//! Support for the tests that talk to real Redis and NATS servers.
//!
//! `make test-adapters` starts both servers and exports `NET_TEST_REDIS_URL` and
//! `NET_TEST_NATS_URL`. When a variable is absent (a plain `cargo test`), the tests that need
//! that server print a note and return early; when it is set, the server must answer or the test
//! fails. Tests that restart a server start their own private instance (same binaries, found on
//! `PATH`) so the shared one keeps running.
#![allow(dead_code)]

pub mod scenarios;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The URL in `var`, or `None` after printing why the test is skipped.
pub fn server_url(var: &str, test: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("note: {test} skipped: {var} is not set (run `make test-adapters`)");
            None
        }
    }
}

/// A key/stream prefix no other test (or earlier run) uses.
pub fn unique_prefix(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "t{}_{}_{}",
        std::process::id(),
        name,
        nanos % 1_000_000_000_000
    )
}

/// A TCP port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_listening(port: u16, within: Duration) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < within,
            "server on port {port} did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Which server a [`PrivateServer`] runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// `redis-server` with an fsync-always append-only file (acknowledged writes survive kill -9).
    Redis,
    /// `nats-server -js` with file storage.
    Nats,
}

/// A server process owned by one test, killable and restartable on the same port and data dir.
pub struct PrivateServer {
    kind: Kind,
    pub port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl PrivateServer {
    pub fn start(kind: Kind) -> PrivateServer {
        let port = free_port();
        let dir = std::env::temp_dir().join(unique_prefix(&format!("{kind:?}").to_lowercase()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut s = PrivateServer {
            kind,
            port,
            dir,
            child: None,
        };
        s.restart();
        s
    }

    pub fn url(&self) -> String {
        match self.kind {
            Kind::Redis => format!("redis://127.0.0.1:{}", self.port),
            Kind::Nats => format!("nats://127.0.0.1:{}", self.port),
        }
    }

    /// Starts the process (again) and waits until it accepts connections.
    pub fn restart(&mut self) {
        assert!(self.child.is_none());
        let port = self.port.to_string();
        let mut cmd = match self.kind {
            Kind::Redis => {
                let mut c = Command::new("redis-server");
                c.args(["--bind", "127.0.0.1", "--port", &port, "--save", ""])
                    .args(["--appendonly", "yes", "--appendfsync", "always"])
                    .arg("--dir")
                    .arg(&self.dir);
                c
            }
            Kind::Nats => {
                let mut c = Command::new("nats-server");
                c.args(["-a", "127.0.0.1", "-p", &port, "-js", "-sd"])
                    .arg(&self.dir);
                c
            }
        };
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {:?} (is it installed?): {e}", self.kind));
        self.child = Some(child);
        wait_listening(self.port, Duration::from_secs(20));
        if self.kind == Kind::Nats {
            // JetStream needs a moment after the port opens.
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// Kills the process with SIGKILL and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// True when `NET_TEST_REDIS_URL` / `NET_TEST_NATS_URL` says the harness runs (private-server
/// tests run only then, so a plain `cargo test` needs no server binaries).
pub fn harness(var: &str, test: &str) -> bool {
    server_url(var, test).is_some()
}

/// `{"i":N}`.
pub fn ev(i: u64) -> net::Event {
    net::Event::from_str(&format!(r#"{{"i":{i}}}"#)).unwrap()
}
