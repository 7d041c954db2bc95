//! The guard's 4 KiB bloom filter (32768 bits, 3 probes taken from three 15-bit slices of one
//! 64-bit key hash). Promises: no false negatives for keys inserted since the last `clear`; a
//! false-positive rate of about (1 - e^(-3n/32768))^3 for n keys (0.07% at 1000, 7% at 5000).
//! Not here: deletion (the guard rebuilds the filter from its exact set instead).

/// Number of 64-bit words (4 KiB).
const WORDS: usize = 512;
/// Index mask of a bit position (32768 bits).
const BIT_MASK: u64 = (WORDS as u64 * 64) - 1;

/// A fixed-size bloom filter over pre-hashed keys.
#[derive(Clone)]
pub(crate) struct Bloom {
    words: [u64; WORDS],
}

impl Bloom {
    /// An empty filter.
    pub(crate) fn new() -> Bloom {
        Bloom { words: [0; WORDS] }
    }

    #[inline(always)]
    fn probes(h: u64) -> [u64; 3] {
        [h & BIT_MASK, (h >> 15) & BIT_MASK, (h >> 30) & BIT_MASK]
    }

    /// Adds a key hash.
    pub(crate) fn insert(&mut self, h: u64) {
        for bit in Bloom::probes(h) {
            self.words[(bit >> 6) as usize] |= 1 << (bit & 63);
        }
    }

    /// Whether the key hash may have been inserted (false: certainly not).
    #[inline(always)]
    pub(crate) fn may_contain(&self, h: u64) -> bool {
        let [a, b, c] = Bloom::probes(h);
        let w = &self.words;
        (w[(a >> 6) as usize] >> (a & 63))
            & (w[(b >> 6) as usize] >> (b & 63))
            & (w[(c >> 6) as usize] >> (c & 63))
            & 1
            == 1
    }

    /// Removes every key.
    pub(crate) fn clear(&mut self) {
        self.words.fill(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::auth_guard::mix::fold_mul;

    #[test]
    fn no_false_negatives_and_few_false_positives() {
        let mut b = Bloom::new();
        let key = |i: u64| fold_mul(i, 0xD6E8_FEB8_6659_FD93);
        for i in 0..1000 {
            b.insert(key(i));
        }
        assert!((0..1000).all(|i| b.may_contain(key(i))));
        let fp = (1000..101_000).filter(|&i| b.may_contain(key(i))).count();
        // Expected about 0.07% of 100000 = 70; allow a wide margin, but far below 1%.
        assert!(fp < 400, "false positives: {fp}");
        b.clear();
        assert!(!(0..1000).any(|i| b.may_contain(key(i))));
    }
}
