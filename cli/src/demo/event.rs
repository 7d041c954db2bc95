//! The demo's event shape: `{"token","index","kind","value","ts_ns"}`, written by producers and
//! read back by the subscriber.

use std::fmt::Write as _;

use serde::Deserialize;

/// Kinds a producer picks from; the subscriber filters on `click`.
pub const KINDS: [&str; 4] = ["click", "view", "scroll", "purchase"];

/// Writes one event into `buf` (cleared first). `ts_ns` is the emit time in nanoseconds since
/// the demo's shared `Instant`.
pub fn write(buf: &mut String, producer: u64, index: u64, kind: &str, value: u64, ts_ns: u64) {
    buf.clear();
    let _ = write!(
        buf,
        r#"{{"token":"producer-{producer}","index":{index},"kind":"{kind}","value":{value},"ts_ns":{ts_ns}}}"#
    );
}

/// The fields the subscriber reads back.
#[derive(Debug, Deserialize)]
pub struct Seen {
    /// Event kind (the filter promises `click`).
    pub kind: String,
    /// Emit time, nanoseconds since the shared `Instant`.
    pub ts_ns: u64,
}

/// A small deterministic generator (xorshift64*) so producers need no dependency.
pub struct Rng(u64);

impl Rng {
    /// A generator seeded from `seed` (any value).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next pseudo-random number.
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_events_are_valid_and_read_back() {
        let mut buf = String::new();
        write(&mut buf, 1, 42, "click", 7, 123_456);
        let event = net::Event::from_str(&buf).unwrap();
        let seen: Seen = event.decode().unwrap();
        assert_eq!((seen.kind.as_str(), seen.ts_ns), ("click", 123_456));
    }
}
