//! `net psk`, `net recv`, `net send` and `net node` as real processes on 127.0.0.1 (free ports,
//! every wait bounded): lines typed into `send` come out of `recv`; `node` prints its identity
//! and counters and stops cleanly on SIGINT and SIGTERM; bad arguments and unreachable peers
//! are clear errors with a non-zero exit status.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, ChildStdout, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const NET: &str = env!("CARGO_BIN_EXE_net");

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("net-mesh-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn psk(dir: &Path) -> String {
    let path = dir.join("mesh.psk");
    let out = Command::new(NET)
        .args(["psk", "--out", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    path.to_str().unwrap().to_owned()
}

/// Kills the child when dropped (a failed assertion must not leave processes behind).
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Running {
    fn spawn(args: &[&str]) -> Running {
        Running(
            Command::new(NET)
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn net"),
        )
    }

    fn signal(&self, signal: libc::c_int) {
        let pid = libc::pid_t::try_from(self.0.id()).unwrap();
        // SAFETY: `kill` with the pid of a child this test spawned and has not reaped yet.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    }

    /// Waits at most `limit` for the exit status.
    fn wait(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "net did not exit within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Reads lines of a pipe on a thread; `until` waits (bounded) for a line with a prefix.
struct Lines {
    rx: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Lines {
    fn of(pipe: impl Read + Send + 'static) -> Lines {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Lines {
            rx,
            seen: Vec::new(),
        }
    }

    fn until(&mut self, prefix: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        if let Some(l) = self.seen.iter().find(|l| l.starts_with(prefix)) {
            return l.clone();
        }
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.starts_with(prefix) {
                        return line;
                    }
                }
                Err(_) => panic!("no line starting with {prefix:?}; got {:?}", self.seen),
            }
        }
    }

    fn rest(&mut self, limit: Duration) -> Vec<String> {
        let deadline = Instant::now() + limit;
        while let Ok(line) = self
            .rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.seen.push(line);
        }
        self.seen.clone()
    }
}

fn field(line: &str) -> String {
    line.split_whitespace().last().unwrap().to_owned()
}

fn pipes(child: &mut Running) -> (ChildStdout, ChildStderr) {
    (
        child.0.stdout.take().unwrap(),
        child.0.stderr.take().unwrap(),
    )
}

fn send(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(NET)
        .arg("send")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let mut child = Running(child);
    child.wait(Duration::from_secs(30));
    let mut out = Vec::new();
    let mut err = Vec::new();
    child
        .0
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut out)
        .unwrap();
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_end(&mut err)
        .unwrap();
    Output {
        status: child.0.wait().unwrap(),
        stdout: out,
        stderr: err,
    }
}

#[test]
fn lines_sent_come_out_of_recv_in_order() {
    let dir = scratch("pair");
    let psk = psk(&dir);
    let mut recv = Running::spawn(&["recv", "--psk-file", &psk, "--count", "203"]);
    let (out, err) = pipes(&mut recv);
    let mut err = Lines::of(err);
    let mut out = Lines::of(out);
    let peer = field(&err.until("peer arg", Duration::from_secs(20)));
    assert!(peer.contains('@'), "{peer}");
    let mut input = String::from("hello world\n{\"kind\":\"click\",\"n\":1}\n\n42\n");
    for i in 0..200 {
        input.push_str(&format!("{{\"i\":{i}}}\n"));
    }
    let sent = send(&["--to", &peer, "--psk-file", &psk], &input);
    let sent_err = String::from_utf8_lossy(&sent.stderr);
    assert!(sent.status.success(), "{sent_err}");
    assert!(
        sent_err.contains(
            "sent         203 events to 1 peer(s): 203 handed over, 0 failed, all acknowledged"
        ),
        "{sent_err}"
    );
    assert!(recv.wait(Duration::from_secs(20)).success());
    let lines = out.rest(Duration::from_secs(2));
    let mut want = vec![
        "\"hello world\"".to_owned(),
        "{\"kind\":\"click\",\"n\":1}".to_owned(),
        "42".to_owned(),
    ];
    want.extend((0..200).map(|i| format!("{{\"i\":{i}}}")));
    assert_eq!(lines, want);
    assert!(
        err.until("printed", Duration::from_secs(5))
            .contains("203 events")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn node_reports_and_stops_cleanly_on_sigint_and_sigterm() {
    let dir = scratch("node");
    let psk = psk(&dir);
    let key = dir.join("b.key");
    let made = Command::new(NET)
        .args(["keygen", "--out", key.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(made.status.success());
    let card = field(
        String::from_utf8(made.stdout)
            .unwrap()
            .lines()
            .find(|l| l.starts_with("card"))
            .unwrap(),
    );
    // B: a node with a fixed identity; A: a node that dials B.
    let mut b = Running::spawn(&[
        "node",
        "--listen",
        "127.0.0.1:0",
        "--psk-file",
        &psk,
        "--key-file",
        key.to_str().unwrap(),
        "--stats-every",
        "1",
    ]);
    let (b_out, _b_err) = pipes(&mut b);
    let mut b_out = Lines::of(b_out);
    assert_eq!(field(&b_out.until("card", Duration::from_secs(20))), card);
    let b_addr = field(&b_out.until("listening", Duration::from_secs(5)));
    let mut a = Running::spawn(&[
        "node",
        "--listen",
        "127.0.0.1:0",
        "--psk-file",
        &psk,
        "--peer",
        &format!("{b_addr}@{card}"),
        "--stats-every",
        "1",
    ]);
    let (a_out, _a_err) = pipes(&mut a);
    let mut a_out = Lines::of(a_out);
    let peer = a_out.until("peer    ", Duration::from_secs(20));
    assert!(peer.contains("(connected"), "{peer}");
    let counters = a_out.until("[", Duration::from_secs(10));
    assert!(counters.contains("sessions 1"), "{counters}");
    a.signal(libc::SIGINT);
    assert!(a.wait(Duration::from_secs(15)).success());
    assert!(
        a_out
            .until("stopped", Duration::from_secs(5))
            .contains("forwarded 0 failed 0")
    );
    b.signal(libc::SIGTERM);
    assert!(b.wait(Duration::from_secs(15)).success());
    b_out.until("stopped", Duration::from_secs(5));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn send_reaches_recv_through_a_relay_node() {
    let dir = scratch("relay");
    let psk = psk(&dir);
    // C: the receiver.
    let mut c = Running::spawn(&["recv", "--psk-file", &psk, "--count", "50"]);
    let (c_out, c_err) = pipes(&mut c);
    let (mut c_out, mut c_err) = (Lines::of(c_out), Lines::of(c_err));
    let c_peer = field(&c_err.until("peer arg", Duration::from_secs(20)));
    let c_card = field(&c_err.until("card", Duration::from_secs(5)));
    // B: a node with a session to C, the relay.
    let mut b = Running::spawn(&[
        "node",
        "--listen",
        "127.0.0.1:0",
        "--psk-file",
        &psk,
        "--peer",
        &c_peer,
        "--stats-every",
        "0",
    ]);
    let (b_out, _b_err) = pipes(&mut b);
    let mut b_out = Lines::of(b_out);
    let b_peer = field(&b_out.until("peer arg", Duration::from_secs(20)));
    assert!(
        b_out
            .until("peer    ", Duration::from_secs(5))
            .contains("(connected")
    );
    // A: sends to C's card through B.
    let input: String = (0..50).map(|i| format!("{{\"i\":{i}}}\n")).collect();
    let sent = send(
        &["--to", &c_card, "--via", &b_peer, "--psk-file", &psk],
        &input,
    );
    let sent_err = String::from_utf8_lossy(&sent.stderr);
    assert!(sent.status.success(), "{sent_err}");
    assert!(
        sent_err.contains(&format!("via {}", b_peer.split('@').next().unwrap())),
        "{sent_err}"
    );
    assert!(c.wait(Duration::from_secs(20)).success());
    let got = c_out.rest(Duration::from_secs(2));
    assert_eq!(
        got,
        (0..50)
            .map(|i| format!("{{\"i\":{i}}}"))
            .collect::<Vec<_>>()
    );
    // B relayed without receiving anything itself.
    b.signal(libc::SIGTERM);
    assert!(b.wait(Duration::from_secs(15)).success());
    let stopped = b_out.until("stopped", Duration::from_secs(5));
    assert!(stopped.contains("received 0 ingested 0"), "{stopped}");
    let relayed: u64 = stopped
        .split("relayed ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(relayed > 0, "{stopped}");
    // A bare card without --via is refused.
    let refused = send(&["--to", &c_card, "--psk-file", &psk], "x\n");
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--via"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn recv_stops_cleanly_on_sigint() {
    let dir = scratch("recvint");
    let psk = psk(&dir);
    let mut recv = Running::spawn(&["recv", "--psk-file", &psk]);
    let (_out, err) = pipes(&mut recv);
    let mut err = Lines::of(err);
    err.until("receiving", Duration::from_secs(20));
    recv.signal(libc::SIGINT);
    assert!(recv.wait(Duration::from_secs(15)).success());
    assert!(
        err.until("printed", Duration::from_secs(5))
            .contains(" 0 events")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_arguments_and_unreachable_peers_are_clear_errors() {
    let dir = scratch("bad");
    let psk = psk(&dir);
    let run = |args: &[&str]| {
        let out = Command::new(NET)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // Usage errors: exit 2, the option named.
    let (code, err) = run(&["node", "--psk-file", &psk]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--listen"), "{err}");
    let (code, err) = run(&["node", "--listen", "localhost", "--psk-file", &psk]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("not an IP:port address"), "{err}");
    let (code, err) = run(&[
        "node",
        "--listen",
        "127.0.0.1:0",
        "--psk-file",
        &psk,
        "--peer",
        "127.0.0.1:1",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("ADDR@CARD"), "{err}");
    let (code, err) = run(&[
        "node",
        "--listen",
        "127.0.0.1:0",
        "--psk-file",
        &psk,
        "--peer",
        &format!("127.0.0.1:1@{}", "ab".repeat(128)),
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("card"), "{err}");
    let (code, err) = run(&["send", "--psk-file", &psk]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--to"), "{err}");
    // Run failures: exit 1, the file or the peer named, no panic.
    let missing = dir.join("missing.psk");
    let (code, err) = run(&["recv", "--psk-file", missing.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("psk_file") && err.contains("missing.psk"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    let (code, err) = run(&["psk", "--out", &psk]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("already exists"), "{err}");

    // A receiver with another PSK: the sender cannot reach it and says so.
    let other = dir.join("other");
    std::fs::create_dir_all(&other).unwrap();
    let other_psk = self::psk(&other);
    let mut recv = Running::spawn(&["recv", "--psk-file", &other_psk]);
    let (_out, err) = pipes(&mut recv);
    let peer = field(&Lines::of(err).until("peer arg", Duration::from_secs(20)));
    let started = Instant::now();
    let sent = send(
        &[
            "--to",
            &peer,
            "--psk-file",
            &psk,
            "--connect-timeout-ms",
            "500",
        ],
        "hello\n",
    );
    let sent_err = String::from_utf8_lossy(&sent.stderr);
    assert_eq!(sent.status.code(), Some(1), "{sent_err}");
    assert!(sent_err.contains("cannot reach"), "{sent_err}");
    assert!(started.elapsed() < Duration::from_secs(10));
    std::fs::remove_dir_all(&dir).unwrap();
}
