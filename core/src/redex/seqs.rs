//! [`Seqs`]: the seqs of a segment's records, kept apart from the records themselves.
//!
//! Promises: [`Seqs::at`] returns the seq of record `i` as it was appended or loaded. While a
//! segment's seqs are contiguous (always, for appends: a segment takes consecutive seqs from
//! the file's counter) they are implicit, `first + i`, and cost no memory per record, so a
//! segment keeps 12 bytes per record in memory instead of the 20 wire bytes. A segment loaded
//! from disk with holes (records dropped as corrupt) lists its seqs explicitly.
//!
//! Does not promise: anything about the order of seqs it is given (callers append ascending
//! seqs; [`Seqs::position`] assumes they are).

/// The seqs of a segment's records; see the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seqs {
    /// Record `i` has seq `first + i` (`first` is meaningless while there are no records).
    Run {
        /// Seq of record 0.
        first: u64,
    },
    /// Record `i` has seq `list[i]` (ascending).
    Listed(Vec<u64>),
}

impl Default for Seqs {
    fn default() -> Seqs {
        Seqs::Run { first: 0 }
    }
}

impl Seqs {
    /// The seqs of records loaded in this order: implicit when contiguous, else listed.
    pub fn from_loaded(seqs: Vec<u64>) -> Seqs {
        let contiguous = seqs.windows(2).all(|w| w[0].checked_add(1) == Some(w[1]));
        match seqs.first() {
            Some(&first) if contiguous => Seqs::Run { first },
            Some(_) => Seqs::Listed(seqs),
            None => Seqs::default(),
        }
    }

    /// The seq of record `i` (one of the `len` records the owner holds).
    #[inline]
    pub fn at(&self, i: usize) -> u64 {
        match self {
            Seqs::Run { first } => first + i as u64,
            Seqs::Listed(v) => v[i],
        }
    }

    /// Records `len..len + n` (the segment held `len` before) get seqs `first..first + n`.
    /// Stays implicit when they continue the run (the append case, inlined).
    #[inline(always)]
    pub fn extend(&mut self, len: usize, first: u64, n: usize) {
        if let Seqs::Run { first: f } = self {
            if len == 0 {
                *f = first;
                return;
            }
            if f.checked_add(len as u64) == Some(first) {
                return;
            }
        }
        self.extend_listed(len, first, n);
    }

    /// [`Self::extend`] when the seqs are (or become) listed.
    #[cold]
    fn extend_listed(&mut self, len: usize, first: u64, n: usize) {
        if let Seqs::Run { first: f } = *self {
            *self = Seqs::Listed((0..len as u64).map(|i| f + i).collect());
        }
        if let Seqs::Listed(v) = self {
            v.truncate(len);
            v.extend((0..n as u64).map(|k| first + k));
        }
    }

    /// Keeps the seqs of the first `len` records.
    pub fn truncate(&mut self, len: usize) {
        if let Seqs::Listed(v) = self {
            v.truncate(len);
        }
    }

    /// Index of the first of the records `lo..len` whose seq is `>= from` (`len` if none).
    pub fn position(&self, lo: usize, len: usize, from: u64) -> usize {
        match self {
            Seqs::Run { first } => {
                let i = from.saturating_sub(*first);
                usize::try_from(i).map_or(len, |i| i.clamp(lo, len))
            }
            Seqs::Listed(v) => lo + v[lo..len].partition_point(|&s| s < from),
        }
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
    fn behaves_like_a_list_and_stays_implicit_for_appends() {
        let mut rng = 0x853C_49E6_748F_EA9Bu64;
        for case in 0..3_000 {
            let mut s = Seqs::default();
            let mut plain: Vec<u64> = Vec::new();
            let mut next = xorshift(&mut rng) % 1000;
            let gaps = case % 3 == 0;
            for _ in 0..(xorshift(&mut rng) % 8) {
                if gaps && xorshift(&mut rng).is_multiple_of(3) {
                    next += 1 + xorshift(&mut rng) % 5;
                }
                let n = (xorshift(&mut rng) % 6) as usize;
                s.extend(plain.len(), next, n);
                plain.extend((0..n as u64).map(|k| next + k));
                next += n as u64;
                if xorshift(&mut rng).is_multiple_of(6) {
                    let cut = (xorshift(&mut rng) as usize) % (plain.len() + 1);
                    s.truncate(cut);
                    plain.truncate(cut);
                    next = plain.last().map_or(next, |l| l + 1);
                }
            }
            if !gaps {
                assert!(matches!(s, Seqs::Run { .. }), "case {case}: {s:?}");
            }
            for (i, &q) in plain.iter().enumerate() {
                assert_eq!(s.at(i), q, "case {case} record {i}");
            }
            let top = plain.last().map_or(5, |l| l + 3);
            for lo in 0..=plain.len() {
                for from in 0..top {
                    let want = lo + plain[lo..].partition_point(|&q| q < from);
                    assert_eq!(s.position(lo, plain.len(), from), want, "case {case}");
                }
            }
            let loaded = Seqs::from_loaded(plain.clone());
            for (i, &q) in plain.iter().enumerate() {
                assert_eq!(loaded.at(i), q, "case {case} loaded {i}");
            }
        }
    }

    #[test]
    fn loaded_seqs_with_holes_are_listed() {
        assert_eq!(Seqs::from_loaded(vec![4, 5, 6]), Seqs::Run { first: 4 });
        assert_eq!(Seqs::from_loaded(vec![4, 6]), Seqs::Listed(vec![4, 6]));
        assert_eq!(Seqs::from_loaded(vec![]), Seqs::default());
        assert_eq!(
            Seqs::from_loaded(vec![u64::MAX - 1, u64::MAX]),
            Seqs::Run {
                first: u64::MAX - 1
            }
        );
    }
}
