//! `net log append|read|tail`: entries appended from arguments and stdin survive the process,
//! read back by range and tailed by count; bad input is a usage or run error, not a panic.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn net(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_net"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run net");
    let mut pipe = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        pipe.write_all(text.as_bytes()).expect("write stdin");
    }
    drop(pipe);
    child.wait_with_output().expect("wait for net")
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).expect("utf-8")
}

/// `(seq, payload)` of each `seq<TAB>ts<TAB>payload` line, checking the timestamp is a number.
fn entries(text: &str) -> Vec<(u64, String)> {
    text.lines()
        .map(|l| {
            let mut f = l.splitn(3, '\t');
            let seq = f.next().unwrap().parse().expect("seq");
            let ts: u64 = f.next().expect("ts").parse().expect("ts is a number");
            assert!(ts > 0);
            (seq, f.next().expect("payload").to_owned())
        })
        .collect()
}

fn dir_arg(d: &Path) -> String {
    d.to_str().unwrap().to_owned()
}

#[test]
fn append_read_and_tail_across_processes() {
    let tmp = std::env::temp_dir().join(format!("net-log-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let dir = dir_arg(&tmp);
    let at = ["--dir", dir.as_str(), "--channel", "sensors/temp"];

    let a = net(
        &[
            &["log", "append"][..],
            &at,
            &["--data", "a", "--data", "{\"b\":2}"],
        ]
        .concat(),
        None,
    );
    assert_eq!(stdout(&a), "0\n1\n");
    let b = net(&[&["log", "append"][..], &at].concat(), Some("c\nd d\n"));
    assert_eq!(stdout(&b), "2\n3\n", "seqs continue in a new process");

    let all = entries(&stdout(&net(&[&["log", "read"][..], &at].concat(), None)));
    let want: Vec<(u64, String)> = [(0, "a"), (1, "{\"b\":2}"), (2, "c"), (3, "d d")]
        .iter()
        .map(|&(s, p)| (s, p.to_owned()))
        .collect();
    assert_eq!(all, want);

    let range = entries(&stdout(&net(
        &[&["log", "read"][..], &at, &["--from", "1", "--to", "3"]].concat(),
        None,
    )));
    assert_eq!(range, want[1..3].to_vec());

    let tail = entries(&stdout(&net(
        &[&["log", "tail"][..], &at, &["--from", "2", "--count", "2"]].concat(),
        None,
    )));
    assert_eq!(tail, want[2..4].to_vec());

    // Another channel in the same directory is a separate log.
    let other = ["--dir", dir.as_str(), "--channel", "sensors/other"];
    assert_eq!(
        stdout(&net(&[&["log", "read"][..], &other].concat(), None)),
        ""
    );
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let tmp = std::env::temp_dir().join(format!("net-log-cli-bad-{}", std::process::id()));
    let dir = dir_arg(&tmp);
    // A missing required flag and a non-numeric seq are usage errors (exit 2).
    let o = net(&["log", "read", "--dir", dir.as_str()], None);
    assert_eq!(o.status.code(), Some(2));
    let o = net(
        &[
            "log",
            "read",
            "--dir",
            dir.as_str(),
            "--channel",
            "c",
            "--from",
            "x",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    // A channel name that would leave the directory is refused before anything is created.
    let o = net(
        &[
            "log",
            "append",
            "--dir",
            dir.as_str(),
            "--channel",
            "../escape",
            "--data",
            "x",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("invalid channel name"));
    assert!(!tmp.exists(), "nothing created for a refused channel");
    // A directory that is a regular file cannot hold logs: a run error (exit 1) with a message.
    let file = std::env::temp_dir().join(format!("net-log-cli-file-{}", std::process::id()));
    std::fs::write(&file, b"not a directory").unwrap();
    let o = net(
        &[
            "log",
            "append",
            "--dir",
            file.to_str().unwrap(),
            "--channel",
            "c",
            "--data",
            "x",
        ],
        None,
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!o.stderr.is_empty());
    assert!(!String::from_utf8_lossy(&o.stderr).contains("panicked"));
    let _ = std::fs::remove_file(&file);
    let _ = std::fs::remove_dir_all(&tmp);
}
