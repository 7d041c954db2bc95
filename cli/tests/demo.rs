//! `net demo` end to end: the built binary runs, exits 0 and prints the report.

use std::process::Command;

#[test]
fn demo_runs_and_prints_the_table() {
    let out = Command::new(env!("CARGO_BIN_EXE_net"))
        .args(["demo", "--events", "20000"])
        .output()
        .expect("run net demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "exit {:?}\n{stdout}\n{stderr}",
        out.status
    );
    for needle in [
        "emitted",
        "accepted",
        "delivered to the adapter",
        "read by the poller",
        "matched by the filter",
        "events/s",
        "p50",
        "p90",
        "p99",
        "max",
        "shutdown report",
        "undelivered",
        "OK:",
    ] {
        assert!(stdout.contains(needle), "missing `{needle}` in:\n{stdout}");
    }
    let emitted = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("emitted"))
        .expect("emitted row");
    assert!(emitted.contains("20,000"), "{emitted}");
}

#[test]
fn demo_sends_events_through_a_three_node_relay() {
    let out = Command::new(env!("CARGO_BIN_EXE_net"))
        .args(["demo", "--events", "1000", "--mesh-events", "5000"])
        .output()
        .expect("run net demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let row = |role: &str| {
        stdout
            .lines()
            .find(|l| l.split_whitespace().nth(2) == Some(role))
            .unwrap_or_else(|| panic!("no {role} row in:\n{stdout}"))
            .to_owned()
    };
    let count = |line: &str| -> u64 {
        line.split_whitespace()
            .nth(3)
            .unwrap()
            .replace(',', "")
            .parse()
            .unwrap()
    };
    assert!(row("sender").contains("(5,000 events"), "{stdout}");
    let relay = row("relay");
    assert!(count(&relay) > 0, "{relay}");
    assert!(relay.ends_with("events B's app got: 0"), "{relay}");
    assert!(
        row("receiver").contains("5,000 events delivered, 5,000 polled"),
        "{stdout}"
    );
    assert!(stdout.contains("in order at C: yes"), "{stdout}");
    assert!(
        stdout.contains("OK: every event reached bus C once"),
        "{stdout}"
    );

    // `--mesh-events 0` leaves the mesh part out.
    let out = Command::new(env!("CARGO_BIN_EXE_net"))
        .args(["demo", "--events", "1000", "--mesh-events", "0"])
        .output()
        .expect("run net demo");
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("mesh relay"));
}

#[test]
fn demo_splits_events_across_producers_and_shards() {
    let out = Command::new(env!("CARGO_BIN_EXE_net"))
        .args([
            "demo",
            "--events",
            "3001",
            "--producers",
            "3",
            "--shards",
            "4",
        ])
        .output()
        .expect("run net demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("3,001 events from 3 producers into 4 shards"),
        "{stdout}"
    );
}
