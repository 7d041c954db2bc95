//! [`PublishBucket`]: the token bucket that enforces a channel's [`RateLimit`] on publishes.
//!
//! Promises: `burst` publishes may pass at once, then `per_sec` per second; integer arithmetic
//! in nanosecond units (no drift); time only from the `now_ns` arguments (any monotonic clock);
//! a clock that goes backwards refills nothing. Not here: which publishes share a bucket (the
//! publish path keeps one per channel, or per channel and peer).

use std::fmt;

use super::config::RateLimit;

const NANOS: u128 = 1_000_000_000;

/// A publish was refused by the rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimited {
    /// Nanoseconds until one publish is allowed again.
    pub retry_after_ns: u64,
}

impl fmt::Display for RateLimited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "channel rate limit reached: retry in {} ns",
            self.retry_after_ns
        )
    }
}

impl std::error::Error for RateLimited {}

/// A token bucket for one [`RateLimit`]; it starts full.
#[derive(Debug, Clone)]
pub struct PublishBucket {
    per_sec: u128,
    /// Full bucket, in token-nanoseconds (`burst * 1e9`).
    cap: u128,
    /// Current credit, in token-nanoseconds.
    credit: u128,
    last_ns: u64,
}

impl PublishBucket {
    /// A full bucket for `limit` at time `now_ns` (a zero rate or burst is treated as 1; a
    /// validated [`super::ChannelConfig`] never has one).
    pub fn new(limit: RateLimit, now_ns: u64) -> PublishBucket {
        let cap = u128::from(limit.burst.max(1)) * NANOS;
        PublishBucket {
            per_sec: u128::from(limit.per_sec.max(1)),
            cap,
            credit: cap,
            last_ns: now_ns,
        }
    }

    /// Takes one publish from the bucket, or says how long to wait.
    pub fn try_take(&mut self, now_ns: u64) -> Result<(), RateLimited> {
        let elapsed = u128::from(now_ns.saturating_sub(self.last_ns));
        self.last_ns = self.last_ns.max(now_ns);
        self.credit = (self.credit + elapsed * self.per_sec).min(self.cap);
        if self.credit >= NANOS {
            self.credit -= NANOS;
            Ok(())
        } else {
            let wait = (NANOS - self.credit).div_ceil(self.per_sec);
            Err(RateLimited {
                retry_after_ns: u64::try_from(wait).unwrap_or(u64::MAX),
            })
        }
    }
}
