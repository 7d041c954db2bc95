//! The in-memory image of a file: a queue of segments, each holding index records, timestamps
//! and payload bytes, plus the retained-window bookkeeping. Disk files mirror segments 1:1.

use std::collections::VecDeque;

use super::disk::DiskSegment;
use super::record::{INLINE_LEN, IndexRecord};
use super::segbuf::SegBuf;

/// One segment: records with ascending seqs, their timestamps and the payload bytes.
pub(crate) struct MemSegment {
    /// The first seq this segment may hold (its file name on disk).
    pub base_seq: u64,
    pub recs: SegBuf<IndexRecord>,
    pub ts: SegBuf<u64>,
    pub data: SegBuf<u8>,
    pub disk: Option<DiskSegment>,
}

/// The emptied buffers of an evicted segment, kept so the next segment reuses memory that is
/// already faulted in instead of fresh pages (which cost a fault and a zeroing each).
pub(crate) struct Spare {
    recs: SegBuf<IndexRecord>,
    ts: SegBuf<u64>,
    data: SegBuf<u8>,
}

impl MemSegment {
    pub fn new(base_seq: u64, disk: Option<DiskSegment>) -> MemSegment {
        MemSegment {
            base_seq,
            recs: SegBuf::new(),
            ts: SegBuf::new(),
            data: SegBuf::new(),
            disk,
        }
    }

    /// A new empty segment following `prev`, built on `spare`'s buffers when there is one,
    /// else on buffers reserved up front when `prev`'s grew big (see [`SegBuf::sized_like`]).
    /// `max_entries` and `max_bytes` are the segment limits.
    pub fn following(
        prev: &MemSegment,
        base_seq: u64,
        disk: Option<DiskSegment>,
        spare: Option<Spare>,
        max_entries: usize,
        max_bytes: usize,
    ) -> MemSegment {
        match spare {
            None => MemSegment {
                base_seq,
                recs: SegBuf::sized_like(&prev.recs, max_entries),
                ts: SegBuf::sized_like(&prev.ts, max_entries),
                data: SegBuf::sized_like(&prev.data, max_bytes),
                disk,
            },
            Some(Spare { recs, ts, data }) => MemSegment {
                base_seq,
                recs,
                ts,
                data,
                disk,
            },
        }
    }

    /// Empties this (evicted) segment into reusable buffers; its disk handles are dropped.
    pub fn into_spare(self) -> Spare {
        let MemSegment {
            mut recs,
            mut ts,
            mut data,
            ..
        } = self;
        recs.clear();
        ts.clear();
        data.clear();
        Spare { recs, ts, data }
    }

    /// Calls `f` with the payload of entry `i`.
    #[inline]
    pub fn with_payload<R>(&self, i: usize, f: impl FnOnce(&[u8]) -> R) -> R {
        let r = &self.recs[i];
        if r.is_inline() {
            let b: [u8; INLINE_LEN] = r.inline_bytes();
            f(&b)
        } else {
            let start = r.offset as usize;
            f(&self.data[start..start + r.len as usize])
        }
    }
}

/// The retained window over a queue of segments. The last segment is the active one.
pub(crate) struct Store {
    pub segs: VecDeque<MemSegment>,
    /// Index of the first retained entry in `segs[0]`.
    pub start: usize,
    /// Retained entries.
    pub count: u64,
    /// Retained payload bytes.
    pub bytes: u64,
    /// Buffers of one evicted segment, for the next roll.
    pub spare: Option<Spare>,
}

impl Store {
    pub fn new(first: MemSegment) -> Store {
        let mut segs = VecDeque::new();
        segs.push_back(first);
        Store {
            segs,
            start: 0,
            count: 0,
            bytes: 0,
            spare: None,
        }
    }

    /// Recomputes `count` and `bytes` from the segments (after a load).
    pub fn recount(&mut self) {
        self.count = 0;
        self.bytes = 0;
        for (si, s) in self.segs.iter().enumerate() {
            let st = if si == 0 { self.start } else { 0 };
            for r in &s.recs[st..] {
                self.count += 1;
                self.bytes += u64::from(r.payload_len());
            }
        }
    }

    pub fn active(&mut self) -> &mut MemSegment {
        self.segs
            .back_mut()
            .expect("store always has an active segment")
    }

    fn first_index(&self, si: usize) -> usize {
        if si == 0 { self.start } else { 0 }
    }

    /// First retained `(seq, ts)`, if any.
    pub fn first(&self) -> Option<(u64, u64)> {
        for (si, s) in self.segs.iter().enumerate() {
            let st = self.first_index(si);
            if s.recs.len() > st {
                return Some((s.recs[st].seq, s.ts[st]));
            }
        }
        None
    }

    /// Last retained seq, if any.
    pub fn last_seq(&self) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        self.segs
            .iter()
            .rev()
            .find_map(|s| s.recs.last().map(|r| r.seq))
    }

    /// Position `(segment, entry)` of the first retained entry with `seq >= from`.
    pub fn locate(&self, from: u64) -> Option<(usize, usize)> {
        for (si, s) in self.segs.iter().enumerate() {
            let st = self.first_index(si);
            let Some(last) = s.recs.last() else { continue };
            if s.recs.len() <= st || last.seq < from {
                continue;
            }
            let first = s.recs[st].seq;
            if from <= first {
                return Some((si, st));
            }
            let guess = st + (from - first) as usize;
            if guess < s.recs.len() && s.recs[guess].seq == from {
                return Some((si, guess));
            }
            let i = st + s.recs[st..].partition_point(|r| r.seq < from);
            return Some((si, i));
        }
        None
    }

    /// Visits up to `max` retained entries with `from <= seq < end`, in order. Returns how many
    /// were visited.
    pub fn visit(
        &self,
        from: u64,
        end: u64,
        max: usize,
        mut f: impl FnMut(u64, u64, &[u8]),
    ) -> usize {
        let Some((mut si, mut i)) = self.locate(from) else {
            return 0;
        };
        let mut n = 0;
        while n < max && si < self.segs.len() {
            let s = &self.segs[si];
            while i < s.recs.len() && n < max {
                let seq = s.recs[i].seq;
                if seq >= end {
                    return n;
                }
                s.with_payload(i, |p| f(seq, s.ts[i], p));
                n += 1;
                i += 1;
            }
            si += 1;
            i = 0;
        }
        n
    }

    /// Number of oldest entries that must go so every limit holds.
    pub fn eviction_count(
        &self,
        max_events: Option<u64>,
        max_bytes: Option<u64>,
        min_ts: Option<u64>,
    ) -> u64 {
        let mut n = max_events.map_or(0, |m| self.count.saturating_sub(m));
        let need_walk = max_bytes.is_some_and(|m| self.bytes > m) || min_ts.is_some();
        if !need_walk {
            return n;
        }
        let mut walked = 0u64;
        let mut bytes = self.bytes;
        'outer: for (si, s) in self.segs.iter().enumerate() {
            for i in self.first_index(si)..s.recs.len() {
                let over_bytes = max_bytes.is_some_and(|m| bytes > m);
                let too_old = min_ts.is_some_and(|t| s.ts[i] < t);
                if !over_bytes && !too_old {
                    break 'outer;
                }
                bytes -= u64::from(s.recs[i].payload_len());
                walked += 1;
            }
        }
        n = n.max(walked);
        n
    }

    /// Evicts the `n` oldest entries; returns the segments that became empty (never the
    /// active one), so the caller can delete their files. Returns the seq just past the last
    /// evicted entry.
    pub fn evict(&mut self, mut n: u64, removed: &mut Vec<MemSegment>) -> Option<u64> {
        let mut past = None;
        while n > 0 {
            let last_index = self.segs.len() - 1;
            let s = &self.segs[0];
            let avail = (s.recs.len() - self.start) as u64;
            let take = avail.min(n);
            for r in &s.recs[self.start..self.start + take as usize] {
                self.bytes -= u64::from(r.payload_len());
                past = Some(r.seq + 1);
            }
            self.count -= take;
            self.start += take as usize;
            n -= take;
            if self.start == s.recs.len() && last_index > 0 {
                removed.push(self.segs.pop_front().expect("non-empty"));
                self.start = 0;
            } else if take == 0 {
                break;
            }
        }
        // Empty non-active segments left at the front (e.g. loaded empty) go too.
        while self.segs.len() > 1 && self.segs[0].recs.len() == self.start {
            removed.push(self.segs.pop_front().expect("non-empty"));
            self.start = 0;
        }
        past
    }
}
