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
//! bits are a checksum over the seq, the location, the flags and the payload, where `payload`
//! is the segment bytes for heap entries and empty for inline entries (whose payload is
//! already inside `record[0..16]`). Two checksum formats exist, told apart by flag
//! [`FLAG_CRC32C`] (bit 30):
//!
//! - format 2 (flag set; every record written now):
//!   `crc32c(record[0..16] ‖ u32le(flags_checksum & 0xF0000000) ‖ payload) & 0x0FFFFFFF`,
//!   CRC32C being the standard Castagnoli CRC ([`super::crc32c`]);
//! - format 1 (flag clear; records written before format 2, still verified so older logs
//!   reopen): `xxh3_64_with_seed(payload, xxh3_64(record[0..16]) ^ (flags >> 28))` truncated
//!   to 28 bits.
//!
//! Pinned by `tests/cross_lang/wire/redex_entry.json` (format 2 cases, and format 1 entries
//! that must keep verifying).

use std::mem::MaybeUninit;

use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

#[cfg(target_arch = "x86_64")]
use super::crc32c::Hw;
use super::crc32c::{Crc, Soft};
use super::segbuf::copy_payload;

/// Size of one index record in bytes.
pub const ENTRY_LEN: usize = 20;
const _: () = assert!(std::mem::size_of::<IndexRecord>() == ENTRY_LEN);
/// Size of an inline payload in bytes.
pub const INLINE_LEN: usize = 8;
/// Flag bit: the payload lives in the record itself (bytes 8..16).
pub const FLAG_INLINE: u32 = 0x8000_0000;
/// Flag bit: the checksum is format 2 (CRC32C); clear on format-1 (XXH3) records.
pub const FLAG_CRC32C: u32 = 0x4000_0000;
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
    /// A heap record for `payload` stored at `offset` (checksum format 2).
    #[inline]
    pub fn heap(seq: u64, offset: u32, payload: &[u8]) -> IndexRecord {
        let len = payload.len() as u32;
        IndexRecord {
            seq,
            offset,
            len,
            flags_checksum: FLAG_CRC32C | checksum_v2(seq, offset, len, FLAG_CRC32C, payload),
        }
    }

    /// An inline record carrying exactly 8 payload bytes (checksum format 2).
    #[inline]
    pub fn inline(seq: u64, payload: [u8; INLINE_LEN]) -> IndexRecord {
        let (offset, len) = inline_fields(payload);
        let flags = FLAG_INLINE | FLAG_CRC32C;
        IndexRecord {
            seq,
            offset,
            len,
            flags_checksum: flags | checksum_v2(seq, offset, len, flags, &[]),
        }
    }

    /// [`Self::heap`] with engine `e` (inlined into the caller's loop).
    #[inline(always)]
    fn heap_with<C: Crc>(e: C, seq: u64, offset: u32, payload: &[u8]) -> IndexRecord {
        let len = payload.len() as u32;
        IndexRecord {
            seq,
            offset,
            len,
            flags_checksum: FLAG_CRC32C
                | checksum_v2_with(e, seq, offset, len, FLAG_CRC32C, payload),
        }
    }

    /// [`Self::inline`] with engine `e` (inlined into the caller's loop).
    #[inline(always)]
    fn inline_with<C: Crc>(e: C, seq: u64, payload: [u8; INLINE_LEN]) -> IndexRecord {
        let (offset, len) = inline_fields(payload);
        let flags = FLAG_INLINE | FLAG_CRC32C;
        IndexRecord {
            seq,
            offset,
            len,
            flags_checksum: flags | checksum_v2_with(e, seq, offset, len, flags, &[]),
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

    /// The checksum over this record's fields and `payload` (empty for inline records), in
    /// the format its [`FLAG_CRC32C`] bit names.
    #[inline]
    pub fn compute_checksum(&self, payload: &[u8]) -> u32 {
        let flags = self.flags_checksum & FLAGS_MASK;
        if flags & FLAG_CRC32C != 0 {
            checksum_v2(self.seq, self.offset, self.len, flags, payload)
        } else {
            checksum_v1(self.seq, self.offset, self.len, flags, payload)
        }
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

/// A record as a segment keeps it in memory: the wire record without its seq (which the
/// segment knows, see `seqs.rs`), 12 bytes instead of 20. The checksum still covers the seq.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MemRecord {
    /// As [`IndexRecord::offset`].
    pub offset: u32,
    /// As [`IndexRecord::len`].
    pub len: u32,
    /// As [`IndexRecord::flags_checksum`].
    pub flags_checksum: u32,
}

impl MemRecord {
    /// The wire record, given its seq.
    #[inline]
    pub fn with_seq(self, seq: u64) -> IndexRecord {
        IndexRecord {
            seq,
            offset: self.offset,
            len: self.len,
            flags_checksum: self.flags_checksum,
        }
    }

    /// Whether the payload is inline.
    #[inline]
    pub fn is_inline(&self) -> bool {
        self.flags_checksum & FLAG_INLINE != 0
    }

    /// Length of the payload in bytes (8 for inline entries).
    #[inline]
    pub fn payload_len(&self) -> u32 {
        if self.is_inline() {
            INLINE_LEN as u32
        } else {
            self.len
        }
    }

    /// The inline payload bytes (meaningful only when [`Self::is_inline`]).
    #[inline]
    pub fn inline_bytes(&self) -> [u8; INLINE_LEN] {
        let mut b = [0u8; INLINE_LEN];
        b[..4].copy_from_slice(&self.offset.to_le_bytes());
        b[4..].copy_from_slice(&self.len.to_le_bytes());
        b
    }
}

impl From<IndexRecord> for MemRecord {
    #[inline]
    fn from(r: IndexRecord) -> MemRecord {
        MemRecord {
            offset: r.offset,
            len: r.len,
            flags_checksum: r.flags_checksum,
        }
    }
}

/// The inline payload's two little-endian halves (record bytes 8..12 and 12..16).
#[inline(always)]
fn inline_fields(payload: [u8; INLINE_LEN]) -> (u32, u32) {
    (
        u32::from_le_bytes([payload[0], payload[1], payload[2], payload[3]]),
        u32::from_le_bytes([payload[4], payload[5], payload[6], payload[7]]),
    )
}

/// The format-2 checksum of a record with these fields (`flags` in its high 4 bits, checksum
/// bits clear) and `payload`, with the fastest engine this CPU has.
#[inline]
fn checksum_v2(seq: u64, offset: u32, len: u32, flags: u32, payload: &[u8]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    if let Some(hw) = Hw::detect() {
        // SAFETY: `hw` exists only once SSE4.2 was detected, the one feature the function
        // enables.
        return unsafe { checksum_v2_sse42(hw, seq, offset, len, flags, payload) };
    }
    checksum_v2_with(Soft, seq, offset, len, flags, payload)
}

/// [`checksum_v2_with`] compiled with SSE4.2, so the `crc32` instructions inline.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse4.2")]
fn checksum_v2_sse42(hw: Hw, seq: u64, offset: u32, len: u32, flags: u32, payload: &[u8]) -> u32 {
    checksum_v2_with(hw, seq, offset, len, flags, payload)
}

/// The format-2 checksum with engine `e`: CRC32C over the 16 head bytes (two little-endian
/// words, never stored and re-read), the flags word and the payload.
#[inline(always)]
fn checksum_v2_with<C: Crc>(
    e: C,
    seq: u64,
    offset: u32,
    len: u32,
    flags: u32,
    payload: &[u8],
) -> u32 {
    let loc = u64::from(offset) | (u64::from(len) << 32);
    let c = e.word(!0, seq);
    let c = e.word(c, loc);
    let c = e.half(c, flags & FLAGS_MASK);
    !e.update(c, payload) & CHECKSUM_MASK
}

/// Writes the (in-memory) records of a batch of `payloads` with seqs from `first_seq` into
/// `recs` and their heap payload bytes back to back into `data` (the first at segment offset
/// `data_base`), with checksum engine `e`; returns the payload bytes written. Inlined into
/// the caller, which is compiled for the engine (see `Core::append_locked`).
///
/// Promises: on return `recs[..payloads.len()]` and `data[..returned]` are initialized, and
/// the returned count is the sum of the lengths of the payloads that are not
/// [`INLINE_LEN`] long. Panics (a caller bug) if `recs` or `data` is too short.
#[inline(always)]
pub(crate) fn write_batch_with<C: Crc, P: AsRef<[u8]>>(
    e: C,
    first_seq: u64,
    data_base: usize,
    payloads: &[P],
    recs: &mut [MaybeUninit<MemRecord>],
    data: &mut [MaybeUninit<u8>],
) -> usize {
    // The payload offset is tracked in a register rather than re-read from a buffer.
    let mut at = 0usize;
    for (k, (p, slot)) in payloads.iter().zip(&mut recs[..payloads.len()]).enumerate() {
        let p = p.as_ref();
        let seq = first_seq + k as u64;
        let rec = if p.len() == INLINE_LEN {
            let mut b = [0u8; INLINE_LEN];
            b.copy_from_slice(p);
            IndexRecord::inline_with(e, seq, b)
        } else {
            let r = IndexRecord::heap_with(e, seq, (data_base + at) as u32, p);
            copy_payload(&mut data[at..], p);
            at += p.len();
            r
        };
        slot.write(MemRecord::from(rec));
    }
    at
}

/// The format-1 checksum of a record with these fields (`flags` in its high 4 bits) and
/// `payload`.
///
/// Takes the fields by value and builds `record[0..16]` from two whole u64 words, so the
/// bytes never round-trip through memory in u32 pieces: reading a u64 back over two fresh
/// u32 stores defeats store-to-load forwarding and costs a stall per record.
#[inline]
fn checksum_v1(seq: u64, offset: u32, len: u32, flags: u32, payload: &[u8]) -> u32 {
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

    use crate::redex::crc32c::crc32c;

    /// The documented format-2 formula, computed the slow way from the encoded bytes.
    fn reference_v2(r: &IndexRecord, payload: &[u8]) -> u32 {
        let b = r.encode();
        let mut msg = b[..16].to_vec();
        msg.extend_from_slice(&(r.flags_checksum & FLAGS_MASK).to_le_bytes());
        msg.extend_from_slice(payload);
        crc32c(&msg) & CHECKSUM_MASK
    }

    /// The documented format-1 formula, computed the slow way from the encoded bytes.
    fn reference_v1(r: &IndexRecord, payload: &[u8]) -> u32 {
        let b = r.encode();
        let seed = xxh3_64(&b[..16]) ^ u64::from(r.flags());
        (xxh3_64_with_seed(payload, seed) as u32) & CHECKSUM_MASK
    }

    fn xorshift(x: &mut u64) -> u64 {
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        *x
    }

    #[test]
    fn checksum_matches_the_documented_formula() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for i in 0..2000usize {
            xorshift(&mut x);
            let payload: Vec<u8> = (0..i % 300).map(|k| (x >> (k % 56)) as u8).collect();
            let h = IndexRecord::heap(x, (x >> 32) as u32, &payload);
            assert_eq!(h.flags_checksum & FLAGS_MASK, FLAG_CRC32C);
            assert_eq!(
                h.flags_checksum & CHECKSUM_MASK,
                reference_v2(&h, &payload),
                "heap {i}"
            );
            assert!(h.verify(&payload));
            let inl = IndexRecord::inline(x.rotate_left(7), x.to_le_bytes());
            assert_eq!(inl.flags_checksum & FLAGS_MASK, FLAG_INLINE | FLAG_CRC32C);
            assert_eq!(
                inl.flags_checksum & CHECKSUM_MASK,
                reference_v2(&inl, &[]),
                "inline {i}"
            );
            assert!(inl.verify(&[]));
        }
    }

    #[test]
    fn format_1_records_still_verify_and_catch_corruption() {
        let mut x = 0x0DDB_1A5E_5BAD_5EEDu64;
        for i in 0..500usize {
            xorshift(&mut x);
            let payload: Vec<u8> = (0..i % 300).map(|k| (x >> (k % 50)) as u8).collect();
            let inline = i % 5 == 0;
            let mut r = if inline {
                IndexRecord::inline(x, x.to_le_bytes())
            } else {
                IndexRecord::heap(x, (x >> 40) as u32, &payload)
            };
            // What the format-1 writer stored: no CRC32C flag, the XXH3 checksum.
            r.flags_checksum = if inline { FLAG_INLINE } else { 0 };
            let p: &[u8] = if inline { &[] } else { &payload };
            r.flags_checksum |= reference_v1(&r, p);
            assert!(r.verify(p), "format 1 record {i}");
            let mut bad = r;
            bad.seq ^= 1 << (i % 64);
            assert!(!bad.verify(p), "format 1 record {i}: seq flip");
            if !payload.is_empty() && !inline {
                let mut q = payload.clone();
                q[i % payload.len()] ^= 0x10;
                assert!(!r.verify(&q), "format 1 record {i}: payload flip");
            }
            // Claiming format 2 for a format-1 record does not verify.
            let mut v2 = r;
            v2.flags_checksum |= FLAG_CRC32C;
            assert!(!v2.verify(p), "format 1 record {i} read as format 2");
        }
    }

    /// A batch writer under test: fills record and data slots, returns the data bytes written.
    type BatchWriter<'a> =
        &'a dyn Fn(&mut [MaybeUninit<MemRecord>], &mut [MaybeUninit<u8>]) -> usize;

    /// `write_batch_with` lays out what appending the payloads one by one would, with either
    /// engine.
    #[test]
    fn batches_match_single_records_with_every_engine() {
        let mut x = 0xA076_1D64_78BD_642Fu64;
        for case in 0..200 {
            let payloads: Vec<Vec<u8>> = (0..(xorshift(&mut x) % 70))
                .map(|_| {
                    let len =
                        [0, 5, 8, 8, 16, 33, 64, 64, 200, 700][(xorshift(&mut x) % 10) as usize];
                    (0..len).map(|k| (x >> (k % 60)) as u8 ^ k as u8).collect()
                })
                .collect();
            let first = xorshift(&mut x) >> 8;
            let base = (xorshift(&mut x) % 100_000) as usize;
            let heap: usize = payloads
                .iter()
                .filter(|p| p.len() != INLINE_LEN)
                .map(Vec::len)
                .sum();
            let mut want_recs = Vec::new();
            let mut want_data = Vec::new();
            for (k, p) in payloads.iter().enumerate() {
                let seq = first + k as u64;
                if p.len() == INLINE_LEN {
                    want_recs.push(IndexRecord::inline(seq, p[..].try_into().unwrap()));
                } else {
                    want_recs.push(IndexRecord::heap(seq, (base + want_data.len()) as u32, p));
                    want_data.extend_from_slice(p);
                }
            }
            let run = |f: BatchWriter<'_>| {
                let mut recs = vec![MaybeUninit::<MemRecord>::uninit(); payloads.len()];
                let mut data = vec![MaybeUninit::<u8>::uninit(); heap];
                let n = f(&mut recs, &mut data);
                assert_eq!(n, heap, "case {case}");
                let recs: Vec<IndexRecord> = recs
                    .iter()
                    .enumerate()
                    // SAFETY: a batch writer initializes every record slot (its promise).
                    .map(|(k, r)| unsafe { r.assume_init() }.with_seq(first + k as u64))
                    .collect();
                let data: Vec<u8> = data
                    .iter()
                    // SAFETY: it initializes the first `n` data bytes, and `n == heap`, the
                    // whole buffer (asserted above).
                    .map(|b| unsafe { b.assume_init() })
                    .collect();
                (recs, data)
            };
            let soft = run(&|r, d| write_batch_with(Soft, first, base, &payloads, r, d));
            assert_eq!(
                (&soft.0, &soft.1),
                (&want_recs, &want_data),
                "case {case} soft"
            );
            #[cfg(target_arch = "x86_64")]
            if let Some(hw) = Hw::detect() {
                let hw = run(&|r, d| write_batch_with(hw, first, base, &payloads, r, d));
                assert_eq!((&hw.0, &hw.1), (&want_recs, &want_data), "case {case} hw");
            }
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
