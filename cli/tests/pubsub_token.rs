//! `net pub` / `net sub` with tokens, queue groups and a relay, as real processes on
//! 127.0.0.1 (every wait bounded): a channel whose publisher trusts a root admits a subscriber
//! presenting a token file issued by `net token issue` and refuses one without a token with a
//! clear message naming the reason; a token for another key is refused locally; two
//! queue-group subscribers split the events (each event to exactly one); a subscriber reaches
//! the publisher through a `net node` relay; a publisher whose subscriber vanished without
//! acknowledging fails at the end (bounded ack wait) instead of claiming success.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod common;

use common::{NET, Running, WAIT, until};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("net-pubsub-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn net(args: &[&str]) -> Output {
    let out = Command::new(NET).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "net {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).to_str().unwrap().to_owned()
}

/// Writes a key file and returns its public key (hex).
fn keygen(dir: &Path, name: &str) -> (String, String) {
    let file = path(dir, name);
    let out = net(&["keygen", "--out", &file]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let public = text
        .lines()
        .find(|l| l.starts_with("public key"))
        .and_then(|l| l.split_whitespace().last())
        .expect("keygen prints the public key")
        .to_owned();
    (file, public)
}

/// Every line until the pipe closes (bounded).
fn rest(rx: &mpsc::Receiver<String>) -> Vec<String> {
    let deadline = Instant::now() + WAIT;
    let mut out = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => out.push(line),
            Err(mpsc::RecvTimeoutError::Disconnected) => return out,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("pipe still open: {out:?}"),
        }
    }
}

fn last_word(line: &str) -> String {
    line.split_whitespace().last().unwrap().to_owned()
}

/// Starts `net pub` with `extra` options; returns it, its stderr and its peer arg.
fn publisher(psk: &str, extra: &[&str]) -> (Running, mpsc::Receiver<String>, String) {
    let mut args = vec!["pub", "--psk-file", psk];
    args.extend_from_slice(extra);
    let mut p = Running::spawn(&args, true);
    let err = p.stderr();
    let arg = last_word(&until(&err, "peer arg"));
    (p, err, arg)
}

#[test]
fn token_channel_admits_a_token_file_and_refuses_without_one() {
    let dir = scratch("token");
    let psk = path(&dir, "mesh.psk");
    net(&["psk", "--out", &psk]);
    let (root_key, _root_pub) = keygen(&dir, "root.key");
    let (sub_key, sub_pub) = keygen(&dir, "sub.key");
    let token = path(&dir, "sub.token");
    net(&[
        "token",
        "issue",
        "--key",
        &root_key,
        "--subject",
        &sub_pub,
        "--scope",
        "subscribe",
        "--channel",
        "secure/temp",
        "--ttl",
        "3600",
        "--out",
        &token,
    ]);
    let (mut p, p_err, arg) = publisher(
        &psk,
        &[
            "--channel",
            "secure/temp",
            "--trust-root",
            &root_key,
            "--subscribers",
            "1",
        ],
    );
    until(&p_err, "requiring");

    // No token: refused by the publisher, with the reason and what to do.
    let refused = Command::new(NET)
        .args(["sub", "--channel", "secure/temp", "--from", &arg])
        .args(["--psk-file", &psk, "--key-file", &sub_key, "--count", "1"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let msg = String::from_utf8_lossy(&refused.stderr);
    assert!(
        msg.contains("subscribe refused by the publisher: no_token")
            && msg.contains("--token-file"),
        "{msg}"
    );
    // A token for another key (the sub's token under a fresh identity): refused locally.
    let wrong = Command::new(NET)
        .args(["sub", "--channel", "secure/temp", "--from", &arg])
        .args(["--psk-file", &psk, "--token-file", &token, "--count", "1"])
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(1));
    let msg = String::from_utf8_lossy(&wrong.stderr);
    assert!(msg.contains(&format!("is for key {sub_pub}")), "{msg}");

    // The right key and its token: admitted, gets the events.
    let mut s = Running::spawn(
        &[
            "sub",
            "--channel",
            "secure/temp",
            "--from",
            &arg,
            "--psk-file",
            &psk,
            "--key-file",
            &sub_key,
            "--token-file",
            &token,
            "--count",
            "2",
        ],
        false,
    );
    let s_out = s.stdout();
    until(&p_err, "publishing");
    p.0.stdin.take().unwrap().write_all(b"a=1\nb=2\n").unwrap();
    assert_eq!(rest(&s_out), ["a=1", "b=2"]);
    assert!(s.wait().success());
    let summary = until(&p_err, "published");
    assert!(
        summary.contains("2 events, 0 failed deliveries, 0 subscribers dropped, all acknowledged"),
        "{summary}"
    );
    assert!(p.wait().success());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn queue_group_subscribers_split_the_events() {
    let dir = scratch("group");
    let psk = path(&dir, "mesh.psk");
    net(&["psk", "--out", &psk]);
    let (mut p, p_err, arg) = publisher(&psk, &["--channel", "jobs/render", "--subscribers", "2"]);
    let mut subs: Vec<(Running, mpsc::Receiver<String>)> = (0..2)
        .map(|_| {
            let mut s = Running::spawn(
                &[
                    "sub",
                    "--channel",
                    "jobs/render",
                    "--from",
                    &arg,
                    "--psk-file",
                    &psk,
                    "--queue-group",
                    "workers",
                    "--idle-exit",
                    "2",
                ],
                false,
            );
            let out = s.stdout();
            (s, out)
        })
        .collect();
    until(&p_err, "publishing");
    let input: String = (0..20).map(|i| format!("job-{i}\n")).collect();
    p.0.stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let got: Vec<Vec<String>> = subs.iter().map(|(_, out)| rest(out)).collect();
    for (s, _) in &mut subs {
        assert!(s.wait().success());
    }
    assert!(
        got.iter().all(|g| !g.is_empty()),
        "both members get work: {got:?}"
    );
    let all: Vec<&String> = got.iter().flatten().collect();
    let distinct: BTreeSet<&String> = all.iter().copied().collect();
    assert_eq!(all.len(), 20, "each event exactly once in total: {got:?}");
    assert_eq!(
        distinct,
        (0..20)
            .map(|i| format!("job-{i}"))
            .collect::<Vec<_>>()
            .iter()
            .collect(),
    );
    assert!(p.wait().success());
    let summary = until(&p_err, "published");
    assert!(summary.contains("20 events, 0 failed"), "{summary}");
    // A bad group name is a usage error.
    let bad = Command::new(NET)
        .args(["sub", "--channel", "jobs/render", "--from", &arg])
        .args(["--psk-file", &psk, "--queue-group", "no spaces"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("queue-group name"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn subscriber_reaches_the_publisher_through_a_relay() {
    let dir = scratch("relay");
    let psk = path(&dir, "mesh.psk");
    net(&["psk", "--out", &psk]);
    let (mut p, p_err, arg) = publisher(&psk, &["--channel", "far/away", "--subscribers", "1"]);
    let card = arg.split('@').nth(1).unwrap().to_owned();
    // The relay: a node with a session to the publisher.
    let mut relay = Running::spawn(
        &[
            "node",
            "--listen",
            "127.0.0.1:0",
            "--psk-file",
            &psk,
            "--peer",
            &arg,
            "--stats-every",
            "0",
        ],
        false,
    );
    let relay_out = relay.stdout();
    let relay_arg = last_word(&until(&relay_out, "peer arg"));
    assert!(until(&relay_out, "peer    ").contains("(connected"));
    let mut s = Running::spawn(
        &[
            "sub",
            "--channel",
            "far/away",
            "--from",
            &card,
            "--via",
            &relay_arg,
            "--psk-file",
            &psk,
            "--count",
            "3",
        ],
        false,
    );
    let s_out = s.stdout();
    until(&p_err, "publishing");
    p.0.stdin.take().unwrap().write_all(b"x\ny\nz\n").unwrap();
    assert_eq!(rest(&s_out), ["x", "y", "z"]);
    assert!(s.wait().success());
    assert!(p.wait().success());
    // The events went through the relay: it forwarded packets and received none itself.
    let pid = libc::pid_t::try_from(relay.0.id()).unwrap();
    // SAFETY: `kill` with the pid of a child this test spawned and has not reaped yet.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    assert!(relay.wait().success());
    let stopped = until(&relay_out, "stopped");
    let relayed: u64 = stopped
        .split("relayed ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(relayed > 0 && stopped.contains("received 0 "), "{stopped}");
    // A bare card without --via is refused.
    let refused = Command::new(NET)
        .args([
            "sub",
            "--channel",
            "far/away",
            "--from",
            &card,
            "--psk-file",
            &psk,
        ])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--via"));
    drop(relay);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn publisher_fails_when_a_subscriber_never_acknowledges() {
    let dir = scratch("noack");
    let psk = path(&dir, "mesh.psk");
    net(&["psk", "--out", &psk]);
    let (mut p, p_err, arg) = publisher(
        &psk,
        &[
            "--channel",
            "lost/events",
            "--subscribers",
            "1",
            "--ack-timeout-ms",
            "1500",
        ],
    );
    let mut s = Running::spawn(
        &[
            "sub",
            "--channel",
            "lost/events",
            "--from",
            &arg,
            "--psk-file",
            &psk,
        ],
        false,
    );
    let s_err = s.stderr();
    until(&s_err, "subscribed");
    until(&p_err, "publishing");
    // The subscriber dies without a word; its session lives on at the publisher for a while.
    s.0.kill().unwrap();
    let _ = s.0.wait();
    let started = Instant::now();
    p.0.stdin.take().unwrap().write_all(b"1\n2\n").unwrap();
    let status = p.wait();
    assert_eq!(status.code(), Some(1));
    let summary = until(&p_err, "published");
    assert!(
        summary.contains("1 of 1 subscribers NOT all acknowledged"),
        "{summary}"
    );
    let error = until(&p_err, "error:");
    assert!(
        error.contains("did not acknowledge every event within 1500 ms"),
        "{error}"
    );
    assert!(started.elapsed() >= Duration::from_millis(1500));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn publisher_token_file_is_checked_at_start() {
    let dir = scratch("pubtoken");
    let psk = path(&dir, "mesh.psk");
    net(&["psk", "--out", &psk]);
    let (root_key, root_pub) = keygen(&dir, "root.key");
    let (pub_key, pub_pub) = keygen(&dir, "pub.key");
    let issue = |scope: &str, out: &str| {
        let file = path(&dir, out);
        net(&[
            "token",
            "issue",
            "--key",
            &root_key,
            "--subject",
            &pub_pub,
            "--scope",
            scope,
            "--channel",
            "secure/out",
            "--out",
            &file,
        ]);
        file
    };
    let subscribe_only = issue("subscribe", "sub-only.token");
    let can_publish = issue("publish", "publish.token");
    let run = |token: &str| {
        Command::new(NET)
            .args(["pub", "--channel", "secure/out", "--psk-file", &psk])
            .args(["--key-file", &pub_key, "--trust-root", &root_pub])
            .args(["--token-file", token, "--wait-ms", "1"])
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let refused = run(&subscribe_only);
    assert_eq!(refused.status.code(), Some(1));
    let msg = String::from_utf8_lossy(&refused.stderr);
    assert!(
        msg.contains("--token-file does not let this node publish on secure/out (wrong_scope)"),
        "{msg}"
    );
    // A publish token passes the check; with no subscribers and empty stdin the run succeeds.
    let ok = run(&can_publish);
    let msg = String::from_utf8_lossy(&ok.stderr);
    assert!(ok.status.success(), "{msg}");
    assert!(msg.contains("requiring"), "{msg}");
    // --token-file without --trust-root is a usage error.
    let usage = Command::new(NET)
        .args(["pub", "--channel", "secure/out", "--psk-file", &psk])
        .args(["--token-file", &can_publish])
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(dir);
}
