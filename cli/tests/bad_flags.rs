//! Bad command lines get a clear message on stderr and a non-zero exit, never a panic.

use std::process::{Command, Output};

fn net(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_net"))
        .args(args)
        .output()
        .expect("run net")
}

fn assert_usage_error(args: &[&str], needle: &str) {
    let out = net(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(
        stderr.contains(needle),
        "{args:?}: expected `{needle}` in:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
}

#[test]
fn unknown_flags_and_commands_are_rejected() {
    assert_usage_error(&["bench", "--jsn"], "--jsn");
    assert_usage_error(&["demo", "--event", "5"], "--event");
    assert_usage_error(&["launch"], "launch");
    assert_usage_error(&[], "Usage");
}

#[test]
fn bad_values_are_rejected() {
    assert_usage_error(&["demo", "--events", "many"], "--events");
    assert_usage_error(&["demo", "--events", "0"], "--events");
    assert_usage_error(&["demo", "--producers", "0"], "--producers");
    assert_usage_error(&["demo", "--shards", "2000"], "--shards");
    assert_usage_error(&["demo", "--shards=-1"], "--shards");
}

#[test]
fn help_and_version_succeed() {
    let out = net(&["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("demo") && text.contains("bench"), "{text}");
    let out = net(&["bench", "--help"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("--json"));
    assert!(net(&["--version"]).status.success());
}
