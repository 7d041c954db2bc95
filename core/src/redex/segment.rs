//! The in-memory image of a file: a queue of segments, each holding index records (12 bytes
//! each, their seqs kept apart, see [`Seqs`]), timestamps (run-length encoded, see
//! [`TsRuns`]) and payload bytes, plus the retained-window bookkeeping. Disk files mirror
//! segments 1:1.

use std::collections::VecDeque;

use super::disk::DiskSegment;
use super::record::{INLINE_LEN, MemRecord};
use super::segbuf::SegBuf;
use super::seqs::Seqs;
use super::tsruns::TsRuns;

/// One segment: records with ascending seqs, their timestamps and the payload bytes.
pub(crate) struct MemSegment {
    /// The first seq this segment may hold (its file name on disk).
    pub base_seq: u64,
    pub recs: SegBuf<MemRecord>,
    /// The seq of each record.
    pub seqs: Seqs,
    pub ts: TsRuns,
    pub data: SegBuf<u8>,
    pub disk: Option<DiskSegment>,
    /// Payload bytes of all of `recs` (inline entries count 8), so retention can drop a
    /// whole segment without walking its records.
    pub bytes: u64,
}

/// The emptied buffers of an evicted segment, kept so the next segment reuses memory that is
/// already faulted in instead of fresh pages (which cost a fault and a zeroing each).
pub(crate) struct Spare {
    recs: SegBuf<MemRecord>,
    ts: TsRuns,
    data: SegBuf<u8>,
}

impl MemSegment {
    pub fn new(base_seq: u64, disk: Option<DiskSegment>) -> MemSegment {
        MemSegment {
            base_seq,
            recs: SegBuf::new(),
            seqs: Seqs::default(),
            ts: TsRuns::new(),
            data: SegBuf::new(),
            disk,
            bytes: 0,
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
                seqs: Seqs::default(),
                ts: TsRuns::new(),
                data: SegBuf::sized_like(&prev.data, max_bytes),
                disk,
                bytes: 0,
            },
            Some(Spare { recs, ts, data }) => MemSegment {
                base_seq,
                recs,
                seqs: Seqs::default(),
                ts,
                data,
                disk,
                bytes: 0,
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

    /// The seq of entry `i`.
    #[inline]
    pub fn seq(&self, i: usize) -> u64 {
        self.seqs.at(i)
    }

    /// The seq of the last entry, if any.
    pub fn last_seq(&self) -> Option<u64> {
        self.recs.len().checked_sub(1).map(|i| self.seq(i))
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
    /// Payload bytes of the evicted prefix `segs[0].recs[..start]`.
    pub start_bytes: u64,
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
            start_bytes: 0,
        }
    }

    /// Recomputes `count`, `bytes` and the per-segment byte totals from the records (after
    /// a load).
    pub fn recount(&mut self) {
        self.count = 0;
        self.bytes = 0;
        self.start_bytes = 0;
        let start = self.start;
        for (si, s) in self.segs.iter_mut().enumerate() {
            let st = if si == 0 { start } else { 0 };
            s.bytes = 0;
            for (i, r) in s.recs.iter().enumerate() {
                let len = u64::from(r.payload_len());
                s.bytes += len;
                if i < st {
                    self.start_bytes += len;
                } else {
                    self.count += 1;
                    self.bytes += len;
                }
            }
        }
    }

    /// Retained payload bytes of segment `si`.
    fn retained_bytes(&self, si: usize) -> u64 {
        let s = &self.segs[si];
        if si == 0 {
            s.bytes - self.start_bytes
        } else {
            s.bytes
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
                return Some((s.seq(st), s.ts.at(st)));
            }
        }
        None
    }

    /// Last retained seq, if any.
    pub fn last_seq(&self) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        self.segs.iter().rev().find_map(|s| s.last_seq())
    }

    /// Position `(segment, entry)` of the first retained entry with `seq >= from`.
    pub fn locate(&self, from: u64) -> Option<(usize, usize)> {
        for (si, s) in self.segs.iter().enumerate() {
            let st = self.first_index(si);
            let Some(last) = s.last_seq() else { continue };
            if s.recs.len() <= st || last < from {
                continue;
            }
            return Some((si, s.seqs.position(st, s.recs.len(), from)));
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
            let mut ts = s.ts.cursor(i);
            while i < s.recs.len() && n < max {
                let seq = s.seq(i);
                if seq >= end {
                    return n;
                }
                let t = ts.at(&s.ts, i);
                s.with_payload(i, |p| f(seq, t, p));
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
            let first = self.first_index(si);
            let Some(last) = s.recs.last().filter(|_| s.recs.len() > first) else {
                continue;
            };
            // Whole segment at once when even its last entry is over the byte limit: every
            // earlier entry is then over it too (more bytes remain before it), whatever its
            // age.
            let seg_bytes = self.retained_bytes(si);
            if max_bytes.is_some_and(|m| bytes - seg_bytes + u64::from(last.payload_len()) > m) {
                bytes -= seg_bytes;
                walked += (s.recs.len() - first) as u64;
                continue;
            }
            let mut ts = s.ts.cursor(first);
            for i in first..s.recs.len() {
                let over_bytes = max_bytes.is_some_and(|m| bytes > m);
                let too_old = min_ts.is_some_and(|t| ts.at(&s.ts, i) < t);
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
            if take == avail && take > 0 {
                // The whole rest of the segment: its byte total, no walk.
                self.bytes -= s.bytes - self.start_bytes;
                self.start_bytes = s.bytes;
                past = s.last_seq().map(|q| q + 1);
            } else {
                for r in &s.recs[self.start..self.start + take as usize] {
                    self.bytes -= u64::from(r.payload_len());
                    self.start_bytes += u64::from(r.payload_len());
                }
                if take > 0 {
                    past = Some(s.seq(self.start + take as usize - 1) + 1);
                }
            }
            self.count -= take;
            self.start += take as usize;
            n -= take;
            if self.start == s.recs.len() && last_index > 0 {
                removed.push(self.segs.pop_front().expect("non-empty"));
                self.start = 0;
                self.start_bytes = 0;
            } else if take == 0 {
                break;
            }
        }
        // Empty non-active segments left at the front (e.g. loaded empty) go too.
        while self.segs.len() > 1 && self.segs[0].recs.len() == self.start {
            removed.push(self.segs.pop_front().expect("non-empty"));
            self.start = 0;
            self.start_bytes = 0;
        }
        past
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redex::record::IndexRecord;

    fn xorshift(x: &mut u64) -> u64 {
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        *x
    }

    /// A store of `sizes.len()` segments with random payload lengths and timestamps that
    /// mostly rise but sometimes step back (the clock is wall time).
    fn random_store(rng: &mut u64) -> Store {
        let nsegs = 1 + (xorshift(rng) % 5) as usize;
        let mut seq = 0u64;
        let mut ts = 1_000u64;
        let mut segs = VecDeque::new();
        for _ in 0..nsegs {
            let mut s = MemSegment::new(seq, None);
            for _ in 0..(xorshift(rng) % 20) {
                let len = (xorshift(rng) % 50) as usize;
                if xorshift(rng).is_multiple_of(9) {
                    // A hole, as recovery leaves after dropping a corrupt record.
                    seq += 2;
                }
                let r = if len == 8 {
                    IndexRecord::inline(seq, [1; 8])
                } else {
                    IndexRecord::heap(seq, 0, &vec![0; len])
                };
                s.seqs.extend(s.recs.len(), seq, 1);
                s.recs.push(r.into());
                ts = if xorshift(rng).is_multiple_of(7) {
                    ts.saturating_sub(30)
                } else {
                    ts + xorshift(rng) % 20
                };
                s.ts.push(ts);
                seq += 1;
            }
            segs.push_back(s);
        }
        let mut store = Store::new(segs.pop_front().unwrap());
        store.segs.extend(segs);
        store.start = (xorshift(rng) as usize) % (store.segs[0].recs.len() + 1);
        store.recount();
        store
    }

    /// The definition: walk entries oldest first while one limit is violated.
    fn reference_count(
        st: &Store,
        max_events: Option<u64>,
        max_bytes: Option<u64>,
        min_ts: Option<u64>,
    ) -> u64 {
        let n = max_events.map_or(0, |m| st.count.saturating_sub(m));
        let mut bytes = st.bytes;
        let mut walked = 0;
        'outer: for (si, s) in st.segs.iter().enumerate() {
            let first = if si == 0 { st.start } else { 0 };
            for i in first..s.recs.len() {
                let over = max_bytes.is_some_and(|m| bytes > m);
                let old = min_ts.is_some_and(|t| s.ts.at(i) < t);
                if !over && !old {
                    break 'outer;
                }
                bytes -= u64::from(s.recs[i].payload_len());
                walked += 1;
            }
        }
        n.max(walked)
    }

    #[test]
    fn eviction_by_whole_segments_matches_the_entry_walk() {
        let mut rng = 0x5DEE_CE66_D1CE_4E5Bu64;
        for case in 0..20_000 {
            let mut st = random_store(&mut rng);
            let max_events = xorshift(&mut rng)
                .is_multiple_of(3)
                .then(|| xorshift(&mut rng) % 60);
            let max_bytes = xorshift(&mut rng)
                .is_multiple_of(2)
                .then(|| xorshift(&mut rng) % 1500);
            let min_ts = xorshift(&mut rng)
                .is_multiple_of(3)
                .then(|| 1_000 + xorshift(&mut rng) % 600);
            let want = reference_count(&st, max_events, max_bytes, min_ts);
            assert_eq!(
                st.eviction_count(max_events, max_bytes, min_ts),
                want,
                "case {case}"
            );
            let retained: Vec<u64> = st
                .segs
                .iter()
                .enumerate()
                .flat_map(|(si, s)| {
                    let first = if si == 0 { st.start } else { 0 };
                    (first..s.recs.len()).map(move |i| s.seq(i))
                })
                .collect();
            let mut removed = Vec::new();
            let past = st.evict(want, &mut removed);
            let want_past = (want > 0).then(|| retained[want as usize - 1] + 1);
            assert_eq!(past, want_past, "case {case}");
            let (count, bytes, start_bytes) = (st.count, st.bytes, st.start_bytes);
            st.recount();
            assert_eq!(
                (count, bytes, start_bytes),
                (st.count, st.bytes, st.start_bytes),
                "case {case}"
            );
            if max_bytes.is_some() || max_events.is_some() || min_ts.is_some() {
                assert!(max_bytes.is_none_or(|m| st.bytes <= m), "case {case}");
                assert!(max_events.is_none_or(|m| st.count <= m), "case {case}");
            }
        }
    }
}
