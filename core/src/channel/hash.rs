//! The canonical 64-bit channel hash and the 16-bit wire hint derived from it.
//!
//! - canonical hash = XXH3-64 (seed 0, default secret) of the name's UTF-8 bytes (which are
//!   ASCII for every valid name); the value 0 is reserved ("any channel" in permission tokens),
//!   so a name whose XXH3 is 0 gets 1 instead (probability 2^-64);
//! - wire hint = `(hash % 65535) + 1`, in `1..=65535`: the 16-bit `channel_hash` field of the
//!   64-byte Net header (bytes 10-11). Hint 0 means "no channel" (control traffic).
//!
//! Why XXH3-64: it is a published, portable hash with implementations in every language of the
//! project (and a C reference), it costs a few nanoseconds for a 32-byte name, and its output is
//! well mixed in every bit, so the hint is a fair 16-bit projection. What it does not promise:
//! XXH3 is not a cryptographic hash. Accidental collisions of two names are 2^-64 per pair, and
//! the [`super::ChannelRegistry`] refuses to register two names with one hash; authorization is
//! granted per canonical hash (tokens carry it), so a deliberately colliding name could at most
//! receive the rights of the name it collides with from an issuer who signs a token for it.
//! The 16-bit hint collides often (birthday bound ~300 names) and is a filter only: every
//! decision keys on the 64-bit hash.

use std::fmt;

use xxhash_rust::xxh3::xxh3_64;

/// The canonical 64-bit hash of a channel name (never 0).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChannelHash(u64);

impl ChannelHash {
    /// The hash of the bytes of a validated name. Use [`super::ChannelName::hash`] from outside.
    #[inline]
    pub(crate) fn of_bytes(bytes: &[u8]) -> ChannelHash {
        ChannelHash::from_raw_xxh3(xxh3_64(bytes))
    }

    /// Maps a raw XXH3 output onto the canonical hash (0 becomes 1).
    #[inline]
    pub(crate) const fn from_raw_xxh3(raw: u64) -> ChannelHash {
        ChannelHash(if raw == 0 { 1 } else { raw })
    }

    /// A hash received from elsewhere (a token, a peer); `None` for the reserved value 0.
    pub const fn from_u64(value: u64) -> Option<ChannelHash> {
        if value == 0 {
            None
        } else {
            Some(ChannelHash(value))
        }
    }

    /// The 64-bit value.
    #[inline]
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The 16-bit wire hint carried in the Net header.
    #[inline]
    pub const fn hint(self) -> ChannelHint {
        ChannelHint((self.0 % 0xFFFF) as u16 + 1)
    }
}

impl From<ChannelHash> for u64 {
    fn from(h: ChannelHash) -> u64 {
        h.0
    }
}

impl fmt::Debug for ChannelHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChannelHash({:#018x})", self.0)
    }
}

impl fmt::Display for ChannelHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// The 16-bit channel hint of the Net header (`1..=65535`; 0 on the wire means no channel).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChannelHint(u16);

impl ChannelHint {
    /// A hint read from a header; `None` for 0 ("no channel").
    pub const fn from_wire(value: u16) -> Option<ChannelHint> {
        if value == 0 {
            None
        } else {
            Some(ChannelHint(value))
        }
    }

    /// The value for the header's `channel_hash` field.
    #[inline]
    pub const fn get(self) -> u16 {
        self.0
    }
}

impl fmt::Debug for ChannelHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChannelHint({:#06x})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_reserved_in_both_widths() {
        assert_eq!(ChannelHash::from_raw_xxh3(0).get(), 1);
        assert_eq!(ChannelHash::from_raw_xxh3(7).get(), 7);
        assert!(ChannelHash::from_u64(0).is_none());
        assert!(ChannelHint::from_wire(0).is_none());
        // Multiples of 65535 are the values that would map to 0 with a plain modulo.
        assert_eq!(ChannelHash(0xFFFF).hint().get(), 1);
        assert_eq!(ChannelHash(0xFFFE).hint().get(), 0xFFFF);
        assert_eq!(ChannelHash(u64::MAX).hint().get(), 1); // u64::MAX = 65535 * 281479271743489
    }
}
