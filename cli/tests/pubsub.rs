//! `net pub --channel` and `net sub --channel` as real processes on 127.0.0.1: lines written to
//! `pub`'s stdin come out of `sub`'s stdout in order once it subscribed; a bad channel name is
//! a usage error. Every wait is bounded.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{NET, Running, WAIT, lines, until};

fn psk() -> (PathBuf, String) {
    let dir = std::env::temp_dir().join(format!("net-pubsub-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("mesh.psk");
    let out = Command::new(NET)
        .args(["psk", "--out", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let s = path.to_str().unwrap().to_owned();
    (dir, s)
}

#[test]
fn published_lines_reach_the_subscriber() {
    let (dir, psk) = psk();
    let mut publisher = Running(
        Command::new(NET)
            .args(["pub", "--channel", "sensors/temp", "--psk-file", &psk])
            .args(["--subscribers", "1", "--wait-ms", "20000"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let pub_err = lines(publisher.0.stderr.take().unwrap());
    let arg = until(&pub_err, "peer arg");
    let arg = arg.split_whitespace().last().unwrap().to_owned();
    let mut subscriber = Running(
        Command::new(NET)
            .args(["sub", "--channel", "sensors/temp", "--from", &arg])
            .args(["--psk-file", &psk, "--count", "3"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let sub_out = lines(subscriber.0.stdout.take().unwrap());
    until(&pub_err, "publishing");
    {
        let mut stdin = publisher.0.stdin.take().unwrap();
        stdin.write_all(b"one\n\ntwo\nthree\n").unwrap();
    }
    let got: Vec<String> = (0..3)
        .map(|_| sub_out.recv_timeout(WAIT).expect("an event line"))
        .collect();
    assert_eq!(got, ["one", "two", "three"]);
    let summary = until(&pub_err, "published");
    assert!(summary.contains("3 events, 0 failed"), "{summary}");
    let deadline = Instant::now() + WAIT;
    for child in [&mut publisher, &mut subscriber] {
        loop {
            if let Some(status) = child.0.try_wait().unwrap() {
                assert!(status.success(), "{status}");
                break;
            }
            assert!(Instant::now() < deadline, "net did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_channel_name_is_a_usage_error() {
    let out = Command::new(NET)
        .args([
            "pub",
            "--channel",
            "bad//name",
            "--psk-file",
            "/nonexistent",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a channel name"));
}
