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
