//! RedEX on disk: persistence, recovery from torn and corrupt files, retention reclaiming
//! disk, fsync policies and group commit.

use std::path::{Path, PathBuf};
use std::time::Duration;

use net::redex::{FsyncPolicy, Redex, RedexFile, RedexFileConfig, Retention};

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!(
            "redex-disk-{tag}-{}-{}",
            std::process::id(),
            net::redex::now_ns()
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn payload(i: u64) -> Vec<u8> {
    // Mix inline (8-byte) and heap payloads of varied sizes.
    match i % 3 {
        0 => i.to_le_bytes().to_vec(),
        1 => format!("entry-{i}").into_bytes(),
        _ => vec![(i % 251) as u8; (i % 40) as usize],
    }
}

fn dir_bytes(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

#[test]
fn persists_across_reopen_including_timestamps() {
    let tmp = TempDir::new("persist");
    let cfg = RedexFileConfig::persistent(FsyncPolicy::Never).with_segments(256, 7);
    let ts_before;
    {
        let f = RedexFile::open("p", Some(&tmp.0), cfg.clone()).unwrap();
        for i in 0..100 {
            f.append(&payload(i)).unwrap();
        }
        f.append_batch(&[payload(100), payload(101)]).unwrap();
        ts_before = f.read_range(0, 1)[0].ts_ns;
        f.close().unwrap();
    }
    let f = RedexFile::open("p", Some(&tmp.0), cfg).unwrap();
    let s = f.stats();
    assert_eq!(s.recovery.recovered, 102);
    assert_eq!(s.recovery.dropped_corrupt, 0);
    assert_eq!(s.next_seq, 102);
    let all = f.read_range(0, u64::MAX);
    assert_eq!(all.len(), 102);
    for e in &all {
        assert_eq!(e.payload, payload(e.seq));
    }
    assert_eq!(all[0].ts_ns, ts_before);
    assert_eq!(f.append(b"after").unwrap(), 102);
}

/// Large segments (past the 2 MiB point where buffers reserve ahead) and payloads on both
/// sides of CRC32C's 384-byte three-lane block: batches write their payload bytes in one
/// copy, and a reopen verifies every checksum and reads back every byte.
#[test]
fn big_segments_and_long_payloads_persist_across_reopen() {
    let tmp = TempDir::new("big");
    let cfg = RedexFileConfig::persistent(FsyncPolicy::Never).with_segments(3 << 20, 1 << 16);
    let big = |i: u64| -> Vec<u8> {
        let len = (i * 37) % 2100;
        (0..len).map(|k| (i as u8).wrapping_add(k as u8)).collect()
    };
    let mut n = 0u64;
    {
        let f = RedexFile::open("b", Some(&tmp.0), cfg.clone()).unwrap();
        while n < 12_000 {
            if n.is_multiple_of(3) {
                let batch: Vec<Vec<u8>> = (n..n + 32).map(big).collect();
                assert_eq!(f.append_batch(&batch).unwrap(), Some(n));
                n += 32;
            } else {
                assert_eq!(f.append(&big(n)).unwrap(), n);
                n += 1;
            }
        }
        assert!(f.stats().segments >= 3, "{:?}", f.stats());
        f.close().unwrap();
    }
    let f = RedexFile::open("b", Some(&tmp.0), cfg).unwrap();
    let s = f.stats();
    assert_eq!((s.recovery.recovered, s.recovery.dropped_corrupt), (n, 0));
    let all = f.read_range(0, u64::MAX);
    assert_eq!(all.len() as u64, n);
    for e in &all {
        assert_eq!(e.payload, big(e.seq), "seq {}", e.seq);
    }
}

#[test]
fn drop_without_close_keeps_written_entries() {
    let tmp = TempDir::new("drop");
    let cfg = RedexFileConfig::persistent(FsyncPolicy::Never);
    {
        let f = RedexFile::open("d", Some(&tmp.0), cfg.clone()).unwrap();
        for i in 0..10 {
            f.append(&payload(i)).unwrap();
        }
    }
    let f = RedexFile::open("d", Some(&tmp.0), cfg).unwrap();
    assert_eq!(f.len(), 10);
}

/// Writes a small single-segment log and returns its three files' bytes.
fn small_log(dir: &Path, n: u64) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let f = RedexFile::open(
        "s",
        Some(dir),
        RedexFileConfig::persistent(FsyncPolicy::Never),
    )
    .unwrap();
    for i in 0..n {
        f.append(&payload(i)).unwrap();
    }
    f.close().unwrap();
    let seg = |ext: &str| std::fs::read(dir.join(format!("{:020}.{ext}", 0))).unwrap();
    (seg("idx"), seg("dat"), seg("ts"))
}

fn reopen_and_check(dir: &Path) -> net::redex::RedexStats {
    let f = RedexFile::open(
        "s",
        Some(dir),
        RedexFileConfig::persistent(FsyncPolicy::Never),
    )
    .unwrap();
    let mut prev = None;
    for e in f.read_range(0, u64::MAX) {
        assert_eq!(e.payload, payload(e.seq), "corrupt entry returned");
        assert!(prev.is_none_or(|p| e.seq > p));
        prev = Some(e.seq);
    }
    // The file stays appendable after recovery.
    let seq = f.append(b"post-recovery").unwrap();
    assert!(prev.is_none_or(|p| seq > p));
    f.close().unwrap();
    let g = RedexFile::open(
        "s",
        Some(dir),
        RedexFileConfig::persistent(FsyncPolicy::Never),
    )
    .unwrap();
    assert_eq!(g.read_range(seq, seq + 1)[0].payload, b"post-recovery");
    g.stats()
}

#[test]
fn truncation_at_every_offset_recovers_a_prefix() {
    let tmp = TempDir::new("trunc");
    let n = 12;
    let (idx, dat, ts) = small_log(&tmp.0, n);
    for (ext, bytes) in [("idx", &idx), ("dat", &dat), ("ts", &ts)] {
        for cut in 0..=bytes.len() {
            let case = tmp.0.join(format!("{ext}-{cut}"));
            std::fs::create_dir_all(&case).unwrap();
            for (e, b) in [("idx", &idx), ("dat", &dat), ("ts", &ts)] {
                let b = if e == ext { &b[..cut] } else { &b[..] };
                std::fs::write(case.join(format!("{:020}.{e}", 0)), b).unwrap();
            }
            let s = reopen_and_check(&case);
            if ext == "idx" {
                assert_eq!(s.recovery.dropped_corrupt, 0, "{ext} cut at {cut}");
            }
            std::fs::remove_dir_all(&case).unwrap();
        }
    }
}

#[test]
fn bit_flip_at_every_offset_never_returns_a_corrupt_entry() {
    let tmp = TempDir::new("flip");
    let n = 10;
    let (idx, dat, ts) = small_log(&tmp.0, n);
    let mut dropped_total = 0;
    for (ext, bytes) in [("idx", &idx), ("dat", &dat)] {
        for off in 0..bytes.len() {
            for bit in [0u8, 5] {
                let case = tmp.0.join(format!("{ext}-{off}-{bit}"));
                std::fs::create_dir_all(&case).unwrap();
                for (e, b) in [("idx", &idx), ("dat", &dat), ("ts", &ts)] {
                    let mut b = b.clone();
                    if e == ext {
                        b[off] ^= 1 << bit;
                    }
                    std::fs::write(case.join(format!("{:020}.{e}", 0)), &b).unwrap();
                }
                let s = reopen_and_check(&case);
                dropped_total += s.recovery.dropped_corrupt;
                std::fs::remove_dir_all(&case).unwrap();
            }
        }
    }
    assert!(dropped_total > 0, "mid-file corruption is counted");
}

#[test]
fn retention_reclaims_disk_by_count_bytes_and_age() {
    let tmp = TempDir::new("retain");
    let redex = Redex::with_dir(&tmp.0);
    let by_count = redex
        .open_file(
            "count",
            RedexFileConfig::persistent(FsyncPolicy::Never)
                .with_segments(1 << 20, 100)
                .with_retention(Retention {
                    max_events: Some(150),
                    ..Default::default()
                }),
        )
        .unwrap();
    let blob = vec![9u8; 200];
    let mut peak = 0;
    for i in 0..5000u64 {
        by_count.append(&blob).unwrap();
        if i % 500 == 0 {
            by_count.sync().unwrap();
            peak = peak.max(dir_bytes(&tmp.0.join("count")));
        }
    }
    by_count.sweep_retention().unwrap();
    by_count.sync().unwrap();
    let s = by_count.stats();
    assert_eq!(s.retained_events, 150);
    let on_disk = dir_bytes(&tmp.0.join("count"));
    // 5000 entries would be over 1.1 MB; retention keeps at most ~3 segments of 100.
    assert!(on_disk < 300 * 228, "disk not reclaimed: {on_disk} bytes");
    assert!(peak < 400 * 228, "disk grew to {peak} bytes");
    by_count.close().unwrap();
    let reopened = RedexFile::open(
        "count",
        Some(&tmp.0.join("count")),
        RedexFileConfig::persistent(FsyncPolicy::Never).with_retention(Retention {
            max_events: Some(150),
            ..Default::default()
        }),
    )
    .unwrap();
    assert_eq!(reopened.len(), 150);
    assert_eq!(reopened.stats().first_seq, Some(4850));

    let by_bytes = redex
        .open_file(
            "bytes",
            RedexFileConfig::persistent(FsyncPolicy::Never)
                .with_segments(4096, 1 << 20)
                .with_retention(Retention {
                    max_bytes: Some(10_000),
                    ..Default::default()
                }),
        )
        .unwrap();
    for _ in 0..2000 {
        by_bytes.append(&blob).unwrap();
    }
    by_bytes.sweep_retention().unwrap();
    by_bytes.sync().unwrap();
    assert!(by_bytes.stats().retained_bytes <= 10_000);
    assert!(dir_bytes(&tmp.0.join("bytes")) < 30_000);

    let by_age = redex
        .open_file(
            "age",
            RedexFileConfig::persistent(FsyncPolicy::Never)
                .with_segments(1 << 20, 50)
                .with_retention(Retention {
                    max_age: Some(Duration::from_millis(100)),
                    ..Default::default()
                }),
        )
        .unwrap();
    for _ in 0..500 {
        by_age.append(&blob).unwrap();
    }
    std::thread::sleep(Duration::from_millis(150));
    by_age.append(b"fresh").unwrap();
    by_age.sweep_retention().unwrap();
    assert_eq!(by_age.stats().evicted, 500);
    assert_eq!(by_age.len(), 1);
    by_age.sync().unwrap();
    assert!(dir_bytes(&tmp.0.join("age")) < 1000);
    redex.close_all().unwrap();
}

#[test]
fn every_n_group_commit_under_concurrency() {
    let tmp = TempDir::new("group");
    let f = RedexFile::open(
        "g",
        Some(&tmp.0),
        RedexFileConfig::persistent(FsyncPolicy::EveryN(1)),
    )
    .unwrap();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let f = f.clone();
            std::thread::spawn(move || {
                for i in 0..500u64 {
                    f.append(&payload(i)).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let last = f.next_seq() - 1;
    f.wait_synced(last, Duration::from_secs(10)).unwrap();
    let s = f.stats();
    assert!(s.synced_next >= 2000);
    assert!(s.fsyncs >= 1);
    assert!(
        s.fsyncs < 2000,
        "group commit should coalesce fsyncs: {}",
        s.fsyncs
    );
    f.close().unwrap();
}

#[test]
fn interval_and_bytes_policies_sync_in_background() {
    let tmp = TempDir::new("interval");
    for (name, policy) in [
        ("i", FsyncPolicy::Interval(Duration::from_millis(5))),
        (
            "b",
            FsyncPolicy::IntervalOrBytes {
                period: Duration::ZERO,
                max_bytes: 1000,
            },
        ),
        (
            "ib",
            FsyncPolicy::IntervalOrBytes {
                period: Duration::from_millis(5),
                max_bytes: 1 << 30,
            },
        ),
    ] {
        let f = RedexFile::open(
            name,
            Some(&tmp.0.join(name)),
            RedexFileConfig::persistent(policy),
        )
        .unwrap();
        for i in 0..200u64 {
            f.append(&payload(i)).unwrap();
        }
        let want = if name == "b" { 100 } else { 200 };
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while f.synced_next() < want {
            assert!(std::time::Instant::now() < deadline, "{name} never synced");
            std::thread::sleep(Duration::from_millis(2));
        }
        f.close().unwrap();
    }
}

/// Batches of every short length (empty, inline, the 16-64 byte inline-copy range and just
/// past it), several to a segment: read back in memory, then reopened with every checksum
/// verified, nothing dropped.
#[test]
fn short_payload_batches_survive_reopen_with_valid_checksums() {
    let tmp = TempDir::new("short-batches");
    let cfg = RedexFileConfig::persistent(FsyncPolicy::Never).with_segments(4096, 300);
    let body = |seq: u64, len: usize| -> Vec<u8> {
        (0..len)
            .map(|i| (seq as u8).wrapping_mul(31) ^ i as u8)
            .collect()
    };
    let mut want = Vec::new();
    {
        let f = RedexFile::open("s", Some(&tmp.0), cfg.clone()).unwrap();
        for round in 0..6usize {
            let first = f.next_seq();
            let batch: Vec<Vec<u8>> = (0..=70usize)
                .map(|len| body(first + len as u64, (len + round) % 71))
                .collect();
            assert_eq!(f.append_batch(&batch).unwrap(), Some(first));
            want.extend(batch);
        }
        let got: Vec<Vec<u8>> = f
            .read_range(0, u64::MAX)
            .into_iter()
            .map(|e| e.payload)
            .collect();
        assert_eq!(got, want);
        f.close().unwrap();
    }
    let f = RedexFile::open("s", Some(&tmp.0), cfg).unwrap();
    let r = f.stats().recovery;
    assert_eq!((r.dropped_corrupt, r.truncated_bytes), (0, 0), "{r:?}");
    let got: Vec<Vec<u8>> = f
        .read_range(0, u64::MAX)
        .into_iter()
        .map(|e| e.payload)
        .collect();
    assert_eq!(got, want);
}

/// The format-1 (XXH3) checksum of a record, written out from its documented formula, as
/// logs written before format 2 (CRC32C) stored it.
fn format_1_record(seq: u64, offset: u32, len: u32, flags: u32, payload: &[u8]) -> [u8; 20] {
    use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};
    let mut b = [0u8; 20];
    b[..8].copy_from_slice(&seq.to_le_bytes());
    b[8..12].copy_from_slice(&offset.to_le_bytes());
    b[12..16].copy_from_slice(&len.to_le_bytes());
    let seed = xxh3_64(&b[..16]) ^ u64::from(flags >> 28);
    let check = (xxh3_64_with_seed(payload, seed) as u32) & 0x0FFF_FFFF;
    b[16..].copy_from_slice(&(flags | check).to_le_bytes());
    b
}

/// A log whose segment was written with checksum format 1 reopens with every entry intact,
/// takes new (format-2) appends in the same segment, and reopens again with both kinds.
#[test]
fn logs_written_with_checksum_format_1_reopen_and_grow() {
    let t = TempDir::new("format1");
    let (mut idx, mut dat, mut ts) = (Vec::new(), Vec::new(), Vec::new());
    let mut want = Vec::new();
    for seq in 0..300u64 {
        let p = payload(seq);
        if p.len() == 8 {
            let off = u32::from_le_bytes(p[..4].try_into().unwrap());
            let len = u32::from_le_bytes(p[4..].try_into().unwrap());
            idx.extend_from_slice(&format_1_record(seq, off, len, 0x8000_0000, &[]));
        } else {
            let r = format_1_record(seq, dat.len() as u32, p.len() as u32, 0, &p);
            idx.extend_from_slice(&r);
            dat.extend_from_slice(&p);
        }
        ts.extend_from_slice(&(1_000 + seq).to_le_bytes());
        want.push((seq, 1_000 + seq, p));
    }
    let base = t.0.join(format!("{:020}", 0));
    std::fs::write(base.with_extension("idx"), &idx).unwrap();
    std::fs::write(base.with_extension("dat"), &dat).unwrap();
    std::fs::write(base.with_extension("ts"), &ts).unwrap();

    let cfg = || RedexFileConfig::persistent(FsyncPolicy::Never);
    let f = RedexFile::open("old", Some(&t.0), cfg()).unwrap();
    let rec = f.stats().recovery;
    assert_eq!(
        (rec.recovered, rec.dropped_corrupt, rec.truncated_bytes),
        (300, 0, 0)
    );
    let got: Vec<_> = f
        .read_range(0, u64::MAX)
        .into_iter()
        .map(|e| (e.seq, e.ts_ns, e.payload))
        .collect();
    assert_eq!(got, want);
    for seq in 300..400u64 {
        assert_eq!(f.append(&payload(seq)).unwrap(), seq);
    }
    f.close().unwrap();
    drop(f);

    let f = RedexFile::open("old", Some(&t.0), cfg()).unwrap();
    let rec = f.stats().recovery;
    assert_eq!((rec.recovered, rec.dropped_corrupt), (400, 0));
    let all = f.read_range(0, u64::MAX);
    assert_eq!(all.len(), 400);
    for (i, e) in all.iter().enumerate() {
        assert_eq!((e.seq, &e.payload), (i as u64, &payload(i as u64)));
    }
}

/// A record dropped as corrupt leaves a hole in the seqs of its segment: ranges starting at,
/// before and after the hole read exactly the surviving entries, tails do too, and appends
/// after the hole continue the segment and survive another reopen.
#[test]
fn ranges_and_tails_skip_a_hole_left_by_a_dropped_record() {
    let tmp = TempDir::new("hole");
    let n = 30u64;
    let (mut idx, dat, ts) = small_log(&tmp.0, n);
    // Break the checksum bits of record 13 (the 20-byte record's last 4 bytes).
    idx[13 * 20 + 16] ^= 0x01;
    std::fs::write(tmp.0.join(format!("{:020}.idx", 0)), &idx).unwrap();
    let _ = (dat, ts);
    let cfg = || RedexFileConfig::persistent(FsyncPolicy::Never);
    let f = RedexFile::open("s", Some(&tmp.0), cfg()).unwrap();
    assert_eq!(f.stats().recovery.dropped_corrupt, 1);
    let alive: Vec<u64> = (0..n).filter(|&s| s != 13).collect();
    for from in 0..n + 2 {
        for len in [1u64, 3, 40] {
            let got: Vec<u64> = f
                .read_range(from, from + len)
                .into_iter()
                .map(|e| {
                    assert_eq!(e.payload, payload(e.seq));
                    e.seq
                })
                .collect();
            let want: Vec<u64> = alive
                .iter()
                .copied()
                .filter(|&s| s >= from && s < from + len)
                .collect();
            assert_eq!(got, want, "range {from}..{}", from + len);
        }
        let want = alive.iter().copied().find(|&s| s >= from);
        let mut t = f.tail(from);
        let wait = if want.is_some() { 5_000 } else { 50 };
        let first = t.recv_timeout(Duration::from_millis(wait)).unwrap();
        assert_eq!(first.map(|e| e.seq), want, "tail from {from}");
        if want.is_none() {
            break;
        }
    }
    for i in n..n + 5 {
        assert_eq!(f.append(&payload(i)).unwrap(), i);
    }
    assert_eq!(
        f.read_range(12, 15)
            .iter()
            .map(|e| e.seq)
            .collect::<Vec<_>>(),
        [12, 14]
    );
    f.close().unwrap();
    drop(f);
    let g = RedexFile::open("s", Some(&tmp.0), cfg()).unwrap();
    let seqs: Vec<u64> = g.read_range(0, u64::MAX).iter().map(|e| e.seq).collect();
    let mut want = alive.clone();
    want.extend(n..n + 5);
    assert_eq!(seqs, want);
}
