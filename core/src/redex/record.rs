//! The fixed 20-byte index record and its per-entry checksum (the RedEX wire format).
//!
//! ```text
//! 0       8          12         16                20
//! | seq   | offset   | len      | flags:4|check:28 |
//! | u64LE | u32 LE   | u32 LE   | u32 LE           |
//! ```
//!
//! Heap entries store `(offset, len)` into the segment's payload bytes. Inline entries (flag
//! [`FLAG_INLINE`], bit 31) carry exactly 8 payload bytes in bytes 8..16 instead. The low 28
//! bits are a checksum: `xxh3_64_with_seed(payload, xxh3_64(record[0..16]) ^ (flags >> 28))`
//! truncated to 28 bits, where `payload` is the segment bytes for heap entries and empty for
//! inline entries (whose payload is already inside `record[0..16]`). The checksum therefore
//! covers the seq, the location, the flags and the payload. Pinned by
//! `tests/cross_lang/wire/redex_entry.json`.

use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

/// Size of one index record in bytes.
pub const ENTRY_LEN: usize = 20;
const _: () = assert!(std::mem::size_of::<IndexRecord>() == ENTRY_LEN);
/// Size of an inline payload in bytes.
pub const INLINE_LEN: usize = 8;
/// Flag bit: the payload lives in the record itself (bytes 8..16).
pub const FLAG_INLINE: u32 = 0x8000_0000;
/// Mask of the checksum bits of the last field.
pub const CHECKSUM_MASK: u32 = 0x0FFF_FFFF;
const FLAGS_MASK: u32 = !CHECKSUM_MASK;

/// One decoded index record.
///
/// Laid out like its 20 wire bytes (4-byte alignment, no padding), so a segment holds 20
/// bytes per record in memory rather than 24: a growing log writes, and the kernel zeroes,
/// fewer fresh pages per entry. Being packed, its fields can be read and written but not
/// borrowed (`&r.seq` is refused by the compiler; copy the field out instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C, packed(4))]
pub struct IndexRecord {
    /// Sequence number of the entry.
    pub seq: u64,
    /// Heap: offset of the payload in the segment. Inline: payload bytes 0..4.
    pub offset: u32,
    /// Heap: payload length. Inline: payload bytes 4..8.
    pub len: u32,
    /// Flags (high 4 bits) and checksum (low 28 bits).
    pub flags_checksum: u32,
}

impl IndexRecord {
    /// A heap record for `payload` stored at `offset`.
    #[inline]
    pub fn heap(seq: u64, offset: u32, payload: &[u8]) -> IndexRecord {
        let len = payload.len() as u32;
        IndexRecord {
            seq,
            offset,
            len,
            flags_checksum: checksum(seq, offset, len, 0, payload),
        }
    }

    /// An inline record carrying exactly 8 payload bytes.
    #[inline]
    pub fn inline(seq: u64, payload: [u8; INLINE_LEN]) -> IndexRecord {
        let offset = u32::from_le_bytes([payload[0], payload[1], payload[2], payload[3]]);
        let len = u32::from_le_bytes([payload[4], payload[5], payload[6], payload[7]]);
        IndexRecord {
            seq,
            offset,
            len,
            flags_checksum: FLAG_INLINE | checksum(seq, offset, len, FLAG_INLINE, &[]),
        }
    }

    /// Whether the payload is inline.
    pub fn is_inline(&self) -> bool {
        self.flags_checksum & FLAG_INLINE != 0
    }

    /// The flags nibble (high 4 bits, shifted down).
    pub fn flags(&self) -> u32 {
        self.flags_checksum >> 28
    }

    /// Length of the payload in bytes (8 for inline entries).
    pub fn payload_len(&self) -> u32 {
        if self.is_inline() {
            INLINE_LEN as u32
        } else {
            self.len
        }
    }

    /// The inline payload bytes (meaningful only when [`Self::is_inline`]).
    pub fn inline_bytes(&self) -> [u8; INLINE_LEN] {
        let mut b = [0u8; INLINE_LEN];
        b[..4].copy_from_slice(&self.offset.to_le_bytes());
        b[4..].copy_from_slice(&self.len.to_le_bytes());
        b
    }

    /// The checksum over this record's fields and `payload` (empty for inline records).
    #[inline]
    pub fn compute_checksum(&self, payload: &[u8]) -> u32 {
        checksum(
            self.seq,
            self.offset,
            self.len,
            self.flags_checksum & FLAGS_MASK,
            payload,
        )
    }

    /// Whether the stored checksum matches `payload` (empty for inline records).
    pub fn verify(&self, payload: &[u8]) -> bool {
        self.compute_checksum(payload) == self.flags_checksum & CHECKSUM_MASK
    }

    /// The 20 wire bytes.
    pub fn encode(&self) -> [u8; ENTRY_LEN] {
        let mut b = [0u8; ENTRY_LEN];
        b[..8].copy_from_slice(&self.seq.to_le_bytes());
        b[8..12].copy_from_slice(&self.offset.to_le_bytes());
        b[12..16].copy_from_slice(&self.len.to_le_bytes());
        b[16..].copy_from_slice(&self.flags_checksum.to_le_bytes());
        b
    }

    /// Decodes 20 wire bytes (no validation; see [`Self::verify`]).
    pub fn decode(b: &[u8; ENTRY_LEN]) -> IndexRecord {
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let mut s = [0u8; 8];
        s.copy_from_slice(&b[..8]);
        IndexRecord {
            seq: u64::from_le_bytes(s),
            offset: u32_at(8),
            len: u32_at(12),
            flags_checksum: u32_at(16),
        }
    }
}

/// The checksum of a record with these fields (`flags` in its high 4 bits) and `payload`.
///
/// Takes the fields by value and builds `record[0..16]` from two whole u64 words, so the
/// bytes never round-trip through memory in u32 pieces: reading a u64 back over two fresh
/// u32 stores defeats store-to-load forwarding and costs a stall per record.
#[inline]
fn checksum(seq: u64, offset: u32, len: u32, flags: u32, payload: &[u8]) -> u32 {
    let loc = u64::from(offset) | (u64::from(len) << 32);
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&seq.to_le_bytes());
    key[8..].copy_from_slice(&loc.to_le_bytes());
    let seed = xxh3_64(&key) ^ u64::from(flags >> 28);
    (payload_hash(payload, seed) as u32) & CHECKSUM_MASK
}

/// Payloads longer than this take XXH3's long-input path.
const XXH3_MID_MAX: usize = 240;

/// `xxh3_64_with_seed(payload, seed)`. XXH3's long-input path (over 240 bytes) is its SIMD
/// loop; `xxhash-rust` picks SIMD at compile time (SSE2 in a portable x86-64 build), while
/// `twox-hash` detects AVX2 at run time, about twice as fast at 1 KiB here. Both compute the
/// same function (the test `both_xxh3_implementations_agree` pins it); the short paths stay
/// on `xxhash-rust`, which is faster for them.
#[inline]
fn payload_hash(payload: &[u8], seed: u64) -> u64 {
    if payload.len() > XXH3_MID_MAX {
        twox_hash::XxHash3_64::oneshot_with_seed(seed, payload)
    } else {
        xxh3_64_with_seed(payload, seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented formula, computed the slow way from the encoded bytes.
    fn reference(r: &IndexRecord, payload: &[u8]) -> u32 {
        let b = r.encode();
        let seed = xxh3_64(&b[..16]) ^ u64::from(r.flags());
        (xxh3_64_with_seed(payload, seed) as u32) & CHECKSUM_MASK
    }

    #[test]
    fn checksum_matches_the_documented_formula() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for i in 0..2000usize {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let payload: Vec<u8> = (0..i % 300).map(|k| (x >> (k % 56)) as u8).collect();
            let h = IndexRecord::heap(x, (x >> 32) as u32, &payload);
            assert_eq!(h.flags_checksum, reference(&h, &payload), "heap {i}");
            assert!(h.verify(&payload));
            let inl = IndexRecord::inline(x.rotate_left(7), x.to_le_bytes());
            assert_eq!(
                inl.flags_checksum & CHECKSUM_MASK,
                reference(&inl, &[]),
                "inline {i}"
            );
            assert!(inl.verify(&[]));
        }
    }

    #[test]
    fn both_xxh3_implementations_agree() {
        let data: Vec<u8> = (0..9000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        let mut seed = 0x0123_4567_89AB_CDEFu64;
        // Every length around the short/long boundary and the 1 KiB block size, then a spread.
        let lens = (0..1100)
            .chain((1100..9000).step_by(97))
            .chain([8999, 9000]);
        for len in lens {
            seed = seed.rotate_left(5) ^ len as u64;
            let p = &data[..len];
            assert_eq!(
                payload_hash(p, seed),
                xxh3_64_with_seed(p, seed),
                "len {len}"
            );
        }
    }

    #[test]
    fn heap_roundtrip_and_verify() {
        let r = IndexRecord::heap(7, 100, b"hello");
        let d = IndexRecord::decode(&r.encode());
        assert_eq!(r, d);
        assert!(d.verify(b"hello"));
        assert!(!d.verify(b"hellp"));
        assert!(!d.is_inline());
    }

    #[test]
    fn inline_roundtrip_and_every_bit_flip_detected() {
        let r = IndexRecord::inline(3, *b"12345678");
        assert!(r.is_inline());
        assert_eq!(&r.inline_bytes(), b"12345678");
        let bytes = r.encode();
        for bit in 0..(ENTRY_LEN * 8) {
            let mut b = bytes;
            b[bit / 8] ^= 1 << (bit % 8);
            let d = IndexRecord::decode(&b);
            let payload: &[u8] = if d.is_inline() { &[] } else { b"x" };
            assert!(!d.verify(payload), "bit {bit} flip undetected");
        }
    }
}
