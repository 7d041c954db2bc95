//! The sliding replay window of one receive direction.
//!
//! Promises: a counter is accepted at most once; a counter more than [`REPLAY_WINDOW`] - 1
//! below the highest accepted one is rejected as too old; any counter above the highest is
//! accepted (the window slides). `check` never changes state, so a packet that later fails
//! authentication cannot poison the window; call `commit` only after the tag verified.
//! Constant time per packet (a 2048-bit ring of 32 words, RFC 6479 style).

/// Words in the bitmap (64 bits each): 2048 bits.
const WORDS: u64 = 32;
/// How far behind the newest accepted counter a packet may arrive and still be accepted.
/// One word of the ring is the partly used current word, hence `(32 - 1) * 64`.
pub const REPLAY_WINDOW: u64 = (WORDS - 1) * 64;

/// Why a counter was refused by the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayError {
    /// The counter was already accepted.
    Replayed,
    /// The counter is too far behind the newest accepted one to be tracked.
    TooOld,
}

/// The window: which of the last [`REPLAY_WINDOW`] counters were accepted.
#[derive(Debug, Clone)]
pub struct ReplayWindow {
    /// Highest accepted counter (meaningless while `empty`).
    max: u64,
    empty: bool,
    bits: [u64; WORDS as usize],
}

impl Default for ReplayWindow {
    fn default() -> Self {
        Self::new()
    }
}

impl ReplayWindow {
    /// An empty window: every counter is fresh.
    pub const fn new() -> Self {
        ReplayWindow {
            max: 0,
            empty: true,
            bits: [0; WORDS as usize],
        }
    }

    /// Highest accepted counter, if any.
    pub fn highest(&self) -> Option<u64> {
        (!self.empty).then_some(self.max)
    }

    /// Whether `counter` would be accepted. Does not change the window.
    #[inline]
    pub fn check(&self, counter: u64) -> Result<(), ReplayError> {
        if self.empty || counter > self.max {
            return Ok(());
        }
        if self.max - counter >= REPLAY_WINDOW {
            return Err(ReplayError::TooOld);
        }
        let (word, bit) = slot(counter);
        if self.bits[word] & bit != 0 {
            return Err(ReplayError::Replayed);
        }
        Ok(())
    }

    /// Records `counter` as accepted. Call only after [`check`](Self::check) passed and the
    /// packet authenticated; committing a rejected counter is harmless but pointless.
    #[inline]
    pub fn commit(&mut self, counter: u64) {
        if self.empty || counter > self.max {
            let new_word = counter / 64;
            if self.empty {
                self.bits = [0; WORDS as usize];
            } else {
                let old_word = self.max / 64;
                // Clear the words the window slides over (at most the whole ring).
                let advance = (new_word - old_word).min(WORDS);
                for i in 1..=advance {
                    self.bits[((old_word + i) % WORDS) as usize] = 0;
                }
            }
            self.max = counter;
            self.empty = false;
        } else if self.max - counter >= REPLAY_WINDOW {
            return;
        }
        let (word, bit) = slot(counter);
        self.bits[word] |= bit;
    }

    /// `check` then `commit`: for callers that authenticate first.
    pub fn check_and_commit(&mut self, counter: u64) -> Result<(), ReplayError> {
        self.check(counter)?;
        self.commit(counter);
        Ok(())
    }
}

#[inline(always)]
fn slot(counter: u64) -> (usize, u64) {
    (((counter / 64) % WORDS) as usize, 1u64 << (counter % 64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_replay_and_old() {
        let mut w = ReplayWindow::new();
        assert_eq!(w.check_and_commit(0), Ok(()));
        assert_eq!(w.check_and_commit(0), Err(ReplayError::Replayed));
        assert_eq!(w.check_and_commit(5), Ok(()));
        assert_eq!(w.check_and_commit(3), Ok(()));
        assert_eq!(w.check_and_commit(3), Err(ReplayError::Replayed));
        assert_eq!(w.check_and_commit(5 + REPLAY_WINDOW), Ok(()));
        assert_eq!(w.check(5), Err(ReplayError::TooOld));
        assert_eq!(w.check(6), Ok(()));
        assert_eq!(w.highest(), Some(5 + REPLAY_WINDOW));
    }

    #[test]
    fn large_jump_clears_everything() {
        let mut w = ReplayWindow::new();
        for c in 0..100 {
            w.commit(c);
        }
        w.commit(1_000_000);
        for c in (1_000_000 - REPLAY_WINDOW + 1)..1_000_000 {
            assert_eq!(w.check(c), Ok(()), "{c}");
        }
        assert_eq!(w.check(1_000_000), Err(ReplayError::Replayed));
    }

    #[test]
    fn matches_a_naive_model() {
        // A deterministic pseudo-random walk of counters, checked against a set-based model.
        let mut w = ReplayWindow::new();
        let mut seen = std::collections::HashSet::new();
        let mut max: Option<u64> = None;
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let base = max.unwrap_or(0);
            let c = match x % 4 {
                0 => base + 1 + (x >> 8) % 3000,
                _ => base.saturating_sub((x >> 8) % 2200),
            };
            let expect = match max {
                Some(m) if c <= m && m - c >= REPLAY_WINDOW => Err(ReplayError::TooOld),
                _ if seen.contains(&c) => Err(ReplayError::Replayed),
                _ => Ok(()),
            };
            assert_eq!(w.check_and_commit(c), expect, "counter {c}");
            if expect.is_ok() {
                seen.insert(c);
                max = Some(max.map_or(c, |m| m.max(c)));
            }
        }
    }
}
