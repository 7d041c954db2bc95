//! [`EventMeta`]: the fixed 20-byte prefix CortEX puts on every payload (a wire format).
//!
//! ```text
//! 0         1       2      4               8                   16              20
//! | dispatch | flags | 0 0  | origin_hash   | seq_or_ts          | checksum      |
//! | u8       | u8    | pad  | u32 LE        | u64 LE             | u32 LE        |
//! ```
//!
//! `checksum` is the low 32 bits of `xxh3_64(tail)`, where `tail` is the bytes after the
//! prefix. The pad bytes are zero on write and ignored on read. Pinned by
//! `tests/cross_lang/wire/event_meta.json`.

use xxhash_rust::xxh3::xxh3_64;

/// Size of the prefix in bytes.
pub const META_LEN: usize = 20;
/// Flag: the event is causally linked to an earlier one.
pub const FLAG_CAUSAL: u8 = 0x01;
/// Flag: `seq_or_ts` is a unix-nanos timestamp rather than a per-origin counter.
pub const FLAG_TIMESTAMP: u8 = 0x02;
/// First dispatch value reserved for applications and vendors (`0x00..=0x7F` is CortEX's).
pub const APP_DISPATCH_START: u8 = 0x80;

/// The decoded prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventMeta {
    /// What kind of event this is (`0x00..=0x7F` CortEX-internal, `0x80..=0xFF` apps).
    pub dispatch: u8,
    /// Flags (`FLAG_*`).
    pub flags: u8,
    /// Producer identity.
    pub origin_hash: u32,
    /// Per-origin counter, or unix nanos when `FLAG_TIMESTAMP` is set.
    pub seq_or_ts: u64,
    /// Low 32 bits of `xxh3_64` of the payload after the prefix.
    pub checksum: u32,
}

/// Why a prefix could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaError {
    /// Fewer than 20 bytes.
    Short,
    /// The checksum does not match the tail.
    Checksum,
}

impl EventMeta {
    /// A prefix for `tail` (its checksum computed).
    pub fn new(dispatch: u8, flags: u8, origin_hash: u32, seq_or_ts: u64, tail: &[u8]) -> Self {
        EventMeta {
            dispatch,
            flags,
            origin_hash,
            seq_or_ts,
            checksum: xxh3_64(tail) as u32,
        }
    }

    /// The 20 wire bytes.
    pub fn encode(&self) -> [u8; META_LEN] {
        let mut b = [0u8; META_LEN];
        b[0] = self.dispatch;
        b[1] = self.flags;
        b[4..8].copy_from_slice(&self.origin_hash.to_le_bytes());
        b[8..16].copy_from_slice(&self.seq_or_ts.to_le_bytes());
        b[16..20].copy_from_slice(&self.checksum.to_le_bytes());
        b
    }

    /// Prefix plus tail, ready to append.
    pub fn frame(&self, tail: &[u8]) -> Vec<u8> {
        let mut v = Vec::with_capacity(META_LEN + tail.len());
        v.extend_from_slice(&self.encode());
        v.extend_from_slice(tail);
        v
    }

    /// Decodes the prefix of `bytes` and verifies the checksum of the rest; returns the
    /// prefix and the tail.
    pub fn decode(bytes: &[u8]) -> Result<(EventMeta, &[u8]), MetaError> {
        if bytes.len() < META_LEN {
            return Err(MetaError::Short);
        }
        let u32_at =
            |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        let mut s = [0u8; 8];
        s.copy_from_slice(&bytes[8..16]);
        let meta = EventMeta {
            dispatch: bytes[0],
            flags: bytes[1],
            origin_hash: u32_at(4),
            seq_or_ts: u64::from_le_bytes(s),
            checksum: u32_at(16),
        };
        let tail = &bytes[META_LEN..];
        if xxh3_64(tail) as u32 != meta.checksum {
            return Err(MetaError::Checksum);
        }
        Ok((meta, tail))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_checksum() {
        let m = EventMeta::new(0x81, FLAG_CAUSAL, 0xDEAD_BEEF, 42, b"tail");
        let f = m.frame(b"tail");
        assert_eq!(EventMeta::decode(&f), Ok((m, &b"tail"[..])));
        let mut bad = f.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert_eq!(EventMeta::decode(&bad), Err(MetaError::Checksum));
        assert_eq!(EventMeta::decode(&f[..19]), Err(MetaError::Short));
    }
}
