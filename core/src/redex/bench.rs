//! Workload W4 of `BENCHMARKS.md` (RedEX append throughput), one repetition per call, for
//! `net bench`. The caller does warm-ups, repetitions and medians.

use std::path::Path;
use std::time::Instant;

use super::config::{FsyncPolicy, RedexFileConfig};
use super::error::RedexError;
use super::file::RedexFile;

/// The four W4 figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum W4Case {
    /// Heap append of 32-byte payloads (1,000,000 appends).
    Heap32,
    /// Heap append of 1 KiB payloads (200,000 appends).
    Heap1k,
    /// Disk append, fsync `never`, 32-byte payloads (200,000 appends, closed inside the timer).
    Disk32,
    /// Disk append, fsync `never`, 1 KiB payloads (200,000 appends, closed inside the timer).
    Disk1k,
}

impl W4Case {
    /// Every case, in report order.
    pub const ALL: [W4Case; 4] = [
        W4Case::Heap32,
        W4Case::Heap1k,
        W4Case::Disk32,
        W4Case::Disk1k,
    ];

    /// The BENCHMARKS.md key.
    pub const fn key(self) -> &'static str {
        match self {
            W4Case::Heap32 => "w4.heap_append_32b_ops",
            W4Case::Heap1k => "w4.heap_append_1k_ops",
            W4Case::Disk32 => "w4.disk_append_32b_ops",
            W4Case::Disk1k => "w4.disk_append_1k_ops",
        }
    }

    /// The standard number of appends.
    pub const fn standard_appends(self) -> u64 {
        match self {
            W4Case::Heap32 => 1_000_000,
            _ => 200_000,
        }
    }

    const fn payload_len(self) -> usize {
        match self {
            W4Case::Heap32 | W4Case::Disk32 => 32,
            _ => 1024,
        }
    }
}

/// One measured repetition.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct W4Run {
    /// The BENCHMARKS.md key.
    pub key: &'static str,
    /// Appends made.
    pub appends: u64,
    /// Entries read back after the timer (must equal `appends`).
    pub read_back: u64,
    /// The figure: appends per second.
    pub appends_per_sec: f64,
}

/// Runs one repetition of `case` with `appends` appends. Disk cases use a fresh directory
/// under `scratch_dir` (removed afterwards); the timer includes `close()` (a full sync).
/// After the timer the log is read back (disk: reopened) and counted; a count other than
/// `appends` is an error.
pub fn w4_run(case: W4Case, appends: u64, scratch_dir: &Path) -> Result<W4Run, RedexError> {
    let payload = vec![0xA5u8; case.payload_len()];
    let disk = matches!(case, W4Case::Disk32 | W4Case::Disk1k);
    let dir = scratch_dir.join(format!(
        "w4-{}-{}-{}",
        std::process::id(),
        case.payload_len(),
        super::now_ns()
    ));
    let config = if disk {
        RedexFileConfig::persistent(FsyncPolicy::Never)
    } else {
        RedexFileConfig::heap()
    };
    let file = RedexFile::open("w4", disk.then_some(dir.as_path()), config.clone())?;
    let t0 = Instant::now();
    for _ in 0..appends {
        file.append(&payload)?;
    }
    file.close()?;
    let secs = t0.elapsed().as_secs_f64();
    let read_back = if disk {
        drop(file);
        let f = RedexFile::open("w4", Some(&dir), config)?;
        let n = f.len();
        drop(f);
        std::fs::remove_dir_all(&dir).map_err(|e| RedexError::io("remove", &dir, e))?;
        n
    } else {
        file.len()
    };
    if read_back != appends {
        return Err(RedexError::Io(format!(
            "w4 {}: appended {appends}, read back {read_back}",
            case.key()
        )));
    }
    Ok(W4Run {
        key: case.key(),
        appends,
        read_back,
        appends_per_sec: appends as f64 / secs,
    })
}
