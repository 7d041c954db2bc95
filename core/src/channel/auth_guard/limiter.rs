//! Per-peer auth-failure limiter: a token bucket of failures per peer. Each failed full check
//! takes one token; a peer whose bucket runs dry is throttled (its full checks are refused
//! without running the verifier) for at least `throttle_secs` and until one token has refilled.
//! The bucket holds `burst` tokens and refills `burst` per `window_secs`.
//!
//! Promises: integer arithmetic only (no float drift), time only from the `now` arguments, a
//! peer that never fails costs nothing here. Not here: counting successes (they never consume).

use std::collections::HashMap;

use super::mix::MixState;

/// One peer's bucket. Credit is in units of 1/`window_secs` of a failure token.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    credit: u64,
    last: u64,
    throttled_until: u64,
}

/// The failure limiter of one guard.
#[derive(Debug, Clone)]
pub(crate) struct FailureLimiter {
    burst: u64,
    window: u64,
    throttle: u64,
    peers: HashMap<u64, Bucket, MixState>,
}

impl FailureLimiter {
    /// `burst` and `window_secs` must be at least 1 (the guard config checks this).
    pub(crate) fn new(burst: u32, window_secs: u32, throttle_secs: u32, state: MixState) -> Self {
        FailureLimiter {
            burst: u64::from(burst.max(1)),
            window: u64::from(window_secs.max(1)),
            throttle: u64::from(throttle_secs),
            peers: HashMap::with_hasher(state),
        }
    }

    fn full(&self) -> u64 {
        self.burst * self.window
    }

    fn refill(&self, b: &mut Bucket, now: u64) {
        let elapsed = now.saturating_sub(b.last);
        b.credit = b
            .credit
            .saturating_add(elapsed.saturating_mul(self.burst))
            .min(self.full());
        b.last = b.last.max(now);
    }

    /// When the peer is throttled at `now`: `Some(until)` (exclusive), else `None`.
    #[inline]
    pub(crate) fn throttled_until(&self, peer: u64, now: u64) -> Option<u64> {
        if self.peers.is_empty() {
            return None;
        }
        match self.peers.get(&peer) {
            Some(b) if now < b.throttled_until => Some(b.throttled_until),
            _ => None,
        }
    }

    /// Records one failed full check; returns `Some(until)` if the peer is now throttled.
    pub(crate) fn record_failure(&mut self, peer: u64, now: u64) -> Option<u64> {
        let full = self.full();
        let mut b = self.peers.get(&peer).copied().unwrap_or(Bucket {
            credit: full,
            last: now,
            throttled_until: 0,
        });
        self.refill(&mut b, now);
        b.credit = b.credit.saturating_sub(self.window);
        let result = if b.credit < self.window {
            // Seconds until one whole token is back, rounded up.
            let refill = (self.window - b.credit).div_ceil(self.burst);
            b.throttled_until = now.saturating_add(self.throttle.max(refill));
            Some(b.throttled_until)
        } else {
            None
        };
        self.peers.insert(peer, b);
        result
    }

    /// Forgets peers that are not throttled and whose bucket is full again; returns how many.
    pub(crate) fn prune(&mut self, now: u64) -> usize {
        let before = self.peers.len();
        let (full, burst) = (self.full(), self.burst);
        self.peers.retain(|_, b| {
            let credit = b
                .credit
                .saturating_add(now.saturating_sub(b.last).saturating_mul(burst));
            now < b.throttled_until || credit < full
        });
        before - self.peers.len()
    }

    /// Peers currently tracked (throttled or with a partly empty bucket).
    pub(crate) fn tracked(&self) -> usize {
        self.peers.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter() -> FailureLimiter {
        FailureLimiter::new(4, 60, 30, MixState::new(1))
    }

    #[test]
    fn burst_then_throttle_then_refill() {
        let mut l = limiter();
        for _ in 0..3 {
            assert_eq!(l.record_failure(7, 100), None);
        }
        assert_eq!(l.record_failure(7, 100), Some(130));
        assert_eq!(l.throttled_until(7, 129), Some(130));
        assert_eq!(l.throttled_until(7, 130), None);
        assert_eq!(l.throttled_until(8, 100), None);
        // 30 s refill 30*4/60 = 2 tokens: two more failures, the second throttles again.
        assert_eq!(l.record_failure(7, 130), None);
        assert_eq!(l.record_failure(7, 130), Some(160));
    }

    #[test]
    fn refill_time_wins_over_a_short_throttle() {
        // 1 token per 60 s, no throttle time: dry bucket blocks until a token is back.
        let mut l = FailureLimiter::new(1, 60, 0, MixState::new(1));
        assert_eq!(l.record_failure(1, 10), Some(70));
        assert_eq!(l.record_failure(1, 70), Some(130));
    }

    #[test]
    fn prune_forgets_recovered_peers_only() {
        let mut l = limiter();
        l.record_failure(1, 0);
        for _ in 0..4 {
            l.record_failure(2, 0);
        }
        assert_eq!(l.prune(10), 0);
        // Peer 1 refilled after 15 s; peer 2 is throttled until 30.
        assert_eq!(l.prune(20), 1);
        assert_eq!(l.tracked(), 1);
        assert_eq!(l.prune(60), 1);
        assert_eq!(l.tracked(), 0);
    }
}
