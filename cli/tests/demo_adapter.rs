//! `net demo --adapter`: bad values are usage errors; an unreachable server is a clean failure.
//! (The demo against live Redis/NATS runs by hand: `net demo --adapter redis://127.0.0.1:6379`.)

use std::process::Command;

fn net(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_net"))
        .args(args)
        .output()
        .expect("run net")
}

#[test]
fn bad_adapter_values_are_usage_errors() {
    for bad in ["kafka://h", "redis://h:0", "nats://h/x", "tls://h", ""] {
        let out = net(&["demo", "--adapter", bad]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {stderr}");
        assert!(stderr.contains("--adapter"), "{bad}: {stderr}");
    }
}

#[test]
fn unreachable_adapter_fails_cleanly() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("redis://127.0.0.1:{port}");
    let out = net(&["demo", "--events", "10", "--adapter", &url]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("adapter"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
