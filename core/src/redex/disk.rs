//! On-disk segments: `<dir>/<base_seq:020>.{idx,dat,ts}` append-only files, and recovery.
//!
//! Promises: a segment reopened after a crash or corruption loads without panicking; a torn
//! tail (a partial record, or records whose payload never reached `dat`) is truncated; a
//! record whose checksum does not match is dropped and counted but stays in the file (its
//! bytes still occupy its slot); timestamps are paired with records by position and a `ts`
//! file shorter than `idx` is padded with the recovery time. Does not promise anything about
//! entries that were never synced.

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::error::RedexError;
use super::record::{ENTRY_LEN, IndexRecord};
use super::segbuf::SegBuf;
use super::segment::MemSegment;
use super::seqs::Seqs;

/// What recovery found, summed over a file's segments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Entries recovered intact.
    pub recovered: u64,
    /// Entries dropped because their checksum did not match (or their seq was out of order).
    pub dropped_corrupt: u64,
    /// Bytes cut from torn tails (idx + dat + ts).
    pub truncated_bytes: u64,
    /// Timestamps missing from `ts` and replaced by the recovery time.
    pub ts_repaired: u64,
}

/// The three open files of one segment (clones share the handles).
#[derive(Clone)]
pub(crate) struct DiskSegment {
    pub base_seq: u64,
    pub dir: PathBuf,
    pub dat: Arc<File>,
    pub idx: Arc<File>,
    pub ts: Arc<File>,
}

fn seg_path(dir: &Path, base: u64, ext: &str) -> PathBuf {
    dir.join(format!("{base:020}.{ext}"))
}

fn open(path: &Path) -> Result<File, RedexError> {
    OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| RedexError::io("open", path, e))
}

fn read_all(path: &Path) -> Result<Vec<u8>, RedexError> {
    match fs::read(path) {
        Ok(b) => Ok(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(RedexError::io("read", path, e)),
    }
}

/// Fsyncs a directory (so created or removed entries are durable).
pub(crate) fn sync_dir(dir: &Path) -> Result<(), RedexError> {
    File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| RedexError::io("fsync dir", dir, e))
}

/// Base seqs of the segments found in `dir`, ascending.
pub(crate) fn list_segments(dir: &Path) -> Result<Vec<u64>, RedexError> {
    let mut bases = Vec::new();
    let rd = fs::read_dir(dir).map_err(|e| RedexError::io("list", dir, e))?;
    for ent in rd {
        let ent = ent.map_err(|e| RedexError::io("list", dir, e))?;
        let name = ent.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some((stem, ext)) = name.split_once('.') else {
            continue;
        };
        if !matches!(ext, "idx" | "dat" | "ts") || stem.len() != 20 {
            continue;
        }
        if let Ok(b) = stem.parse::<u64>() {
            bases.push(b);
        }
    }
    bases.sort_unstable();
    bases.dedup();
    Ok(bases)
}

impl DiskSegment {
    /// Creates (or opens) the three files of segment `base` in `dir`.
    pub fn create(dir: &Path, base: u64) -> Result<DiskSegment, RedexError> {
        Ok(DiskSegment {
            base_seq: base,
            dir: dir.to_path_buf(),
            dat: Arc::new(open(&seg_path(dir, base, "dat"))?),
            idx: Arc::new(open(&seg_path(dir, base, "idx"))?),
            ts: Arc::new(open(&seg_path(dir, base, "ts"))?),
        })
    }

    /// Removes the segment's files (missing files are not an error).
    pub fn delete(&self) -> Result<(), RedexError> {
        for ext in ["idx", "ts", "dat"] {
            let p = seg_path(&self.dir, self.base_seq, ext);
            match fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(RedexError::io("remove", &p, e)),
            }
        }
        Ok(())
    }

    /// Fsyncs data of `dat`, then `idx`, then `ts`.
    pub fn sync(&self) -> Result<(), RedexError> {
        for (f, ext) in [(&self.dat, "dat"), (&self.idx, "idx"), (&self.ts, "ts")] {
            f.sync_data().map_err(|e| {
                RedexError::io("fsync", &seg_path(&self.dir, self.base_seq, ext), e)
            })?;
        }
        Ok(())
    }

    /// Loads and repairs segment `base`; the returned segment is ready for appends.
    pub fn load(
        dir: &Path,
        base: u64,
        now_ns: u64,
        report: &mut RecoveryReport,
    ) -> Result<MemSegment, RedexError> {
        let (pidx, pdat, pts) = (
            seg_path(dir, base, "idx"),
            seg_path(dir, base, "dat"),
            seg_path(dir, base, "ts"),
        );
        let idx = read_all(&pidx)?;
        let mut dat = read_all(&pdat)?;
        let ts = read_all(&pts)?;
        let disk = DiskSegment::create(dir, base)?;

        let n_full = idx.len() / ENTRY_LEN;
        let mut valid = vec![false; n_full];
        let mut prev: Option<u64> = None;
        let mut kept_positions = 0usize;
        let mut dat_end = 0usize;
        for (pos, chunk) in idx.chunks_exact(ENTRY_LEN).enumerate() {
            let mut b = [0u8; ENTRY_LEN];
            b.copy_from_slice(chunk);
            let r = IndexRecord::decode(&b);
            let ok_payload = if r.is_inline() {
                r.verify(&[])
            } else {
                let end = r.offset as usize + r.len as usize;
                end <= dat.len() && r.verify(&dat[r.offset as usize..end])
            };
            if ok_payload && r.seq >= base && prev.is_none_or(|p| r.seq > p) {
                valid[pos] = true;
                prev = Some(r.seq);
                kept_positions = pos + 1;
                if !r.is_inline() {
                    dat_end = dat_end.max(r.offset as usize + r.len as usize);
                }
            }
        }

        let mut seg = MemSegment::new(base, None);
        let mut seqs = Vec::new();
        let ts_n = ts.len() / 8;
        let mut pad = Vec::new();
        for (pos, chunk) in idx.chunks_exact(ENTRY_LEN).take(kept_positions).enumerate() {
            let t = if pos < ts_n {
                let mut b = [0u8; 8];
                b.copy_from_slice(&ts[pos * 8..pos * 8 + 8]);
                u64::from_le_bytes(b)
            } else {
                report.ts_repaired += 1;
                pad.extend_from_slice(&now_ns.to_le_bytes());
                now_ns
            };
            if !valid[pos] {
                report.dropped_corrupt += 1;
                continue;
            }
            let mut b = [0u8; ENTRY_LEN];
            b.copy_from_slice(chunk);
            let r = IndexRecord::decode(&b);
            seqs.push(r.seq);
            seg.recs.push(r.into());
            seg.ts.push(t);
            report.recovered += 1;
        }

        let idx_keep = (kept_positions * ENTRY_LEN) as u64;
        let ts_keep = (kept_positions.min(ts_n) * 8) as u64;
        let cut = |f: &File, path: &Path, len: u64, keep: u64, report: &mut RecoveryReport| {
            if len > keep {
                report.truncated_bytes += len - keep;
                f.set_len(keep)
                    .map_err(|e| RedexError::io("truncate", path, e))?;
            }
            Ok::<(), RedexError>(())
        };
        cut(&disk.idx, &pidx, idx.len() as u64, idx_keep, report)?;
        cut(&disk.dat, &pdat, dat.len() as u64, dat_end as u64, report)?;
        cut(&disk.ts, &pts, ts.len() as u64, ts_keep, report)?;
        if !pad.is_empty() {
            (&*disk.ts)
                .write_all(&pad)
                .map_err(|e| RedexError::io("write", &pts, e))?;
        }
        dat.truncate(dat_end);
        seg.seqs = Seqs::from_loaded(seqs);
        seg.data = SegBuf::from_vec(dat);
        seg.disk = Some(disk);
        Ok(seg)
    }
}
