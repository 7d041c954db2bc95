//! [`TsRuns`]: a segment's record timestamps, run-length encoded in memory.
//!
//! Promises: it behaves like a vector of one timestamp per record for the operations segments
//! need (append `n` records sharing one stamp, read the stamp of record `i`, truncate, clear),
//! while storing only one `(first record, stamp)` run per change of stamp. An append call
//! stamps all its entries with one read of the coarse clock, and consecutive calls within one
//! clock tick share that stamp, so on Linux a run covers a whole batch or thousands of single
//! appends: a growing log writes (and the kernel zeroes) no memory per entry for timestamps.
//! Only memory is encoded; disk `ts` files keep one u64 per record.
//!
//! Does not promise: constant-time random access ([`TsRuns::at`] is a binary search over the
//! runs; sequential readers use a [`TsCursor`]) or compactness when every append gets a new
//! stamp (platforms without a coarse clock): then a run costs 16 bytes per append call, where
//! a plain vector cost 8 bytes per entry.

/// One run: the index of its first record and the stamp of every record up to the next run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    start: usize,
    ts: u64,
}

/// Timestamps of a segment's records, run-length encoded; see the module docs.
#[derive(Debug, Default)]
pub(crate) struct TsRuns {
    /// Starts strictly ascending, the first (if any) at 0; neighbouring runs differ in stamp.
    runs: Vec<Run>,
    /// Records stamped.
    len: usize,
}

impl TsRuns {
    /// No records.
    pub fn new() -> TsRuns {
        TsRuns::default()
    }

    /// Records stamped.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Runs stored (tests and diagnostics).
    #[cfg(test)]
    pub fn runs(&self) -> usize {
        self.runs.len()
    }

    /// Stamps `n` more records with `ts`. Extends the last run when its stamp is `ts`, so
    /// this writes memory only when the stamp changes.
    #[inline]
    pub fn push_n(&mut self, ts: u64, n: usize) {
        if n == 0 {
            return;
        }
        if self.runs.last().is_none_or(|r| r.ts != ts) {
            self.runs.push(Run {
                start: self.len,
                ts,
            });
        }
        self.len += n;
    }

    /// Stamps one more record with `ts`.
    #[inline]
    pub fn push(&mut self, ts: u64) {
        self.push_n(ts, 1);
    }

    /// Index of the run holding record `i` (`i < len`).
    fn run_of(&self, i: usize) -> usize {
        debug_assert!(i < self.len, "record {i} of {}", self.len);
        // The first run starts at 0, so at least one run satisfies `start <= i`.
        self.runs
            .partition_point(|r| r.start <= i)
            .saturating_sub(1)
    }

    /// The stamp of record `i`. `i` must be below [`Self::len`] (like slice indexing, an
    /// index past the end is a bug and panics).
    pub fn at(&self, i: usize) -> u64 {
        assert!(i < self.len, "timestamp {i} of {}", self.len);
        self.runs[self.run_of(i)].ts
    }

    /// A cursor positioned for reading stamps from record `i` on (`i < len`, or any `i` of an
    /// empty sequence, whose cursor is never read).
    pub fn cursor(&self, i: usize) -> TsCursor {
        TsCursor {
            run: if i < self.len { self.run_of(i) } else { 0 },
        }
    }

    /// Keeps the first `len` stamps (no-op if there are fewer).
    pub fn truncate(&mut self, len: usize) {
        if len >= self.len {
            return;
        }
        let keep = self.runs.partition_point(|r| r.start < len);
        self.runs.truncate(keep);
        self.len = len;
    }

    /// Removes every stamp; the run buffer's capacity is kept.
    pub fn clear(&mut self) {
        self.runs.clear();
        self.len = 0;
    }
}

/// Reads stamps of ascending records without a search per record.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TsCursor {
    run: usize,
}

impl TsCursor {
    /// The stamp of record `i` of `ts`. `i` must be below `ts.len()` and not below the index
    /// of any earlier call (or the cursor's start).
    #[inline]
    pub fn at(&mut self, ts: &TsRuns, i: usize) -> u64 {
        while ts.runs.get(self.run + 1).is_some_and(|r| r.start <= i) {
            self.run += 1;
        }
        ts.runs[self.run].ts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xorshift(x: &mut u64) -> u64 {
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        *x
    }

    #[test]
    fn behaves_like_a_vector_of_stamps() {
        let mut rng = 0x2545_F491_4F6C_DD1Du64;
        for case in 0..2_000 {
            let mut runs = TsRuns::new();
            let mut plain: Vec<u64> = Vec::new();
            for _ in 0..(xorshift(&mut rng) % 12) {
                // Few distinct stamps, so runs merge often; some steps back (wall clock).
                let ts = 100 + xorshift(&mut rng) % 4;
                let n = (xorshift(&mut rng) % 5) as usize;
                runs.push_n(ts, n);
                plain.extend(std::iter::repeat_n(ts, n));
                if xorshift(&mut rng).is_multiple_of(5) {
                    let cut = (xorshift(&mut rng) as usize) % (plain.len() + 2);
                    runs.truncate(cut);
                    plain.truncate(cut);
                }
            }
            assert_eq!(runs.len(), plain.len(), "case {case}");
            let changes = plain.windows(2).filter(|w| w[0] != w[1]).count();
            assert_eq!(
                runs.runs(),
                if plain.is_empty() { 0 } else { changes + 1 },
                "case {case}: one run per change of stamp"
            );
            for (i, &t) in plain.iter().enumerate() {
                assert_eq!(runs.at(i), t, "case {case} record {i}");
            }
            for from in 0..plain.len() {
                let mut c = runs.cursor(from);
                for (i, &t) in plain.iter().enumerate().skip(from) {
                    assert_eq!(c.at(&runs, i), t, "case {case} cursor from {from} at {i}");
                }
            }
        }
    }

    #[test]
    fn a_batch_or_a_tick_is_one_run_and_clear_empties() {
        let mut r = TsRuns::new();
        r.push_n(7, 64);
        for _ in 0..1000 {
            r.push(7);
        }
        r.push_n(9, 0);
        assert_eq!((r.len(), r.runs()), (1064, 1));
        r.push(8);
        assert_eq!((r.len(), r.runs(), r.at(1063), r.at(1064)), (1065, 2, 7, 8));
        r.clear();
        assert_eq!((r.len(), r.runs()), (0, 0));
        r.push(3);
        assert_eq!(r.at(0), 3);
    }

    #[test]
    #[should_panic(expected = "timestamp 1 of 1")]
    fn reading_past_the_end_panics_like_indexing() {
        let mut r = TsRuns::new();
        r.push(1);
        r.at(1);
    }
}
