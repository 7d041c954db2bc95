//! Crash safety: a child process appends to a disk log and reports what is synced; the parent
//! kills it with SIGKILL at random points, reopens, and checks that every reopen succeeds,
//! every acknowledged-synced entry is present and no corrupt entry is ever returned.
//!
//! The child is this same test binary re-run with `REDEX_CRASH_CHILD` set (see
//! `crash_child_entry`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use net::redex::{FsyncPolicy, RedexFile, RedexFileConfig, Retention};

const RETAIN: u64 = 3000;
const ITERATIONS: u64 = 200;

fn payload(seq: u64) -> Vec<u8> {
    let len = [8usize, 3, 40, 0, 200, 8, 17][(seq % 7) as usize];
    let mut v = Vec::with_capacity(len);
    let mut x = seq.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for _ in 0..len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.push(x as u8);
    }
    v
}

fn config(policy: u64) -> RedexFileConfig {
    let fsync = match policy % 3 {
        0 => FsyncPolicy::EveryN(1),
        1 => FsyncPolicy::EveryN(16),
        _ => FsyncPolicy::Interval(Duration::from_millis(2)),
    };
    RedexFileConfig::persistent(fsync)
        .with_segments(16 * 1024, 400)
        .with_retention(Retention {
            max_events: Some(RETAIN),
            ..Default::default()
        })
}

/// The child's body: append forever from two threads, print the synced watermark.
#[test]
fn crash_child_entry() {
    let Ok(dir) = std::env::var("REDEX_CRASH_CHILD") else {
        return;
    };
    let policy: u64 = std::env::var("REDEX_CRASH_POLICY")
        .unwrap()
        .parse()
        .unwrap();
    let f = RedexFile::open("crash", Some(Path::new(&dir)), config(policy)).unwrap();
    println!("OPEN {}", f.next_seq());
    for _ in 0..2 {
        let f = f.clone();
        std::thread::spawn(move || {
            let mut k = 0u64;
            loop {
                let mut o = f.ordered();
                let s = o.next_seq();
                if k.is_multiple_of(5) {
                    let batch: Vec<Vec<u8>> = (s..s + 4).map(payload).collect();
                    o.append_batch(&batch).unwrap();
                } else {
                    o.append(&payload(s)).unwrap();
                }
                drop(o);
                k += 1;
                if k.is_multiple_of(64) {
                    f.sweep_retention().unwrap();
                }
            }
        });
    }
    let mut last = 0;
    loop {
        let s = f.synced_next();
        if s > last {
            println!("SYNCED {s}");
            last = s;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

fn run_child(dir: &Path, policy: u64, life: Duration) -> u64 {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "crash_child_entry",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("REDEX_CRASH_CHILD", dir)
        .env("REDEX_CRASH_POLICY", policy.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut acked = 0u64;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(n) = line.strip_prefix("SYNCED ") {
                acked = acked.max(n.parse().unwrap());
            }
        }
        acked
    });
    std::thread::sleep(life);
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    reader.join().unwrap()
}

/// Checks one reopen; returns how many acknowledged seqs were still retained (and present).
fn check(dir: &Path, acked: u64, policy: u64) -> u64 {
    let f = RedexFile::open("crash", Some(dir), config(policy)).expect("reopen must succeed");
    let next = f.next_seq();
    assert!(
        next >= acked,
        "synced entries lost: next {next} < acked {acked}"
    );
    let all = f.read_range(0, u64::MAX);
    for e in &all {
        assert_eq!(e.payload, payload(e.seq), "corrupt entry at seq {}", e.seq);
    }
    // Retention only ever removes the oldest entries, so the retained range has no hole, and
    // every acknowledged seq at or above the oldest retained one must be there.
    for w in all.windows(2) {
        assert_eq!(w[1].seq, w[0].seq + 1, "hole in the retained range");
    }
    let first = all.first().map_or(next, |e| e.seq);
    let checked = acked.saturating_sub(first);
    if acked > first {
        assert!(all.last().unwrap().seq + 1 >= acked, "acked tail missing");
    }
    assert_eq!(f.stats().recovery.dropped_corrupt, 0);
    f.close().unwrap();
    checked
}

#[test]
fn sigkill_at_random_points_never_loses_synced_or_returns_corrupt() {
    let base: PathBuf = std::env::temp_dir().join(format!(
        "redex-crash-{}-{}",
        std::process::id(),
        net::redex::now_ns()
    ));
    struct Cleanup(PathBuf);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let _cleanup = Cleanup(base.clone());
    let started = Instant::now();
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    let mut total_acked = 0;
    let mut total_checked = 0;
    for i in 0..ITERATIONS {
        // A fresh directory every 25 kills keeps each check small.
        let dir = base.join(format!("run{}", i / 25));
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let life = Duration::from_micros(3000 + rng % 20_000);
        let policy = i % 3;
        let acked = run_child(&dir, policy, life);
        total_acked += acked;
        total_checked += check(&dir, acked, policy);
        if started.elapsed() > Duration::from_secs(50) {
            eprintln!("stopping after {} kills to stay in budget", i + 1);
            break;
        }
    }
    assert!(total_acked > 0, "children never reported a sync");
    assert!(total_checked > 0, "no acknowledged entry was ever checked");
    eprintln!("acked watermark sum {total_acked}, acked entries checked {total_checked}");
}
