//! CRC32C (Castagnoli; the CRC of iSCSI, ext4 and SCTP): the per-entry checksum of RedEX
//! records written since format 2 (see [`super::record`]).
//!
//! Promises: [`crc32c`] is the standard function (reflected polynomial `0x82F63B78`, initial
//! value and final xor `0xFFFFFFFF`; `crc32c(b"123456789") == 0xE3069283`), and every engine
//! computes exactly it: [`Hw`] with the SSE4.2 `crc32` instruction (x86-64 only, chosen at run
//! time by [`Hw::detect`]), [`Soft`] with tables (slicing by 8) everywhere else. Engines work on
//! the raw CRC register (no initial value or final xor), so a checksum can be fed in pieces.
//! Long inputs on [`Hw`] run three independent lanes and combine them with precomputed shift
//! tables: same result, about three times the throughput of one dependent chain.
//!
//! Does not promise: a hardware path on other architectures (aarch64 has CRC32C instructions;
//! not wired up here, [`Soft`] is used), or cryptographic strength (it detects corruption, not
//! tampering).

/// The reflected CRC32C polynomial.
const POLY: u32 = 0x82F6_3B78;

/// `TABLES[k][b]`: the register after feeding byte `b` then `k` zero bytes into a zero register.
static TABLES: [[u32; 256]; 8] = tables();

const fn tables() -> [[u32; 256]; 8] {
    let mut t = [[0u32; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut bit = 0;
        while bit < 8 {
            c = if c & 1 != 0 { (c >> 1) ^ POLY } else { c >> 1 };
            bit += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut k = 1;
    while k < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = t[k - 1][i];
            t[k][i] = (prev >> 8) ^ t[0][(prev & 0xFF) as usize];
            i += 1;
        }
        k += 1;
    }
    t
}

/// Bytes per lane of one three-lane block on [`Hw`].
const LANE: usize = 128;

/// `SHIFT[s][k][b]`: the register `b << 8k` advanced over `(s + 1) * LANE` zero bytes (a
/// linear map, applied bytewise). Used to combine the lanes of one block.
static SHIFT: [[[u32; 256]; 4]; 2] = [shift_tables(LANE), shift_tables(2 * LANE)];

const fn shift_tables(zeros: usize) -> [[u32; 256]; 4] {
    // The map is linear: compute it on the 32 basis registers, then XOR per set bit.
    let t0 = tables_first();
    let mut basis = [0u32; 32];
    let mut j = 0;
    while j < 32 {
        let mut c = 1u32 << j;
        let mut n = 0;
        while n < zeros {
            c = (c >> 8) ^ t0[(c & 0xFF) as usize];
            n += 1;
        }
        basis[j] = c;
        j += 1;
    }
    let mut out = [[0u32; 256]; 4];
    let mut k = 0;
    while k < 4 {
        let mut b = 0;
        while b < 256 {
            let mut v = 0u32;
            let mut bit = 0;
            while bit < 8 {
                if b & (1 << bit) != 0 {
                    v ^= basis[8 * k + bit];
                }
                bit += 1;
            }
            out[k][b] = v;
            b += 1;
        }
        k += 1;
    }
    out
}

const fn tables_first() -> [u32; 256] {
    tables()[0]
}

/// The register `c` advanced over `(s + 1) * LANE` zero bytes.
#[inline(always)]
fn shift(c: u32, s: usize) -> u32 {
    let t = &SHIFT[s];
    t[0][(c & 0xFF) as usize]
        ^ t[1][((c >> 8) & 0xFF) as usize]
        ^ t[2][((c >> 16) & 0xFF) as usize]
        ^ t[3][(c >> 24) as usize]
}

#[inline(always)]
fn le64(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[..8]);
    u64::from_le_bytes(w)
}

/// A CRC32C engine over the raw register (no initial value, no final xor).
pub(crate) trait Crc: Copy {
    /// Feeds 8 bytes, `x` in little-endian order.
    fn word(self, c: u32, x: u64) -> u32;
    /// Feeds 4 bytes, `x` in little-endian order.
    fn half(self, c: u32, x: u32) -> u32;
    /// Feeds `bytes`.
    fn update(self, c: u32, bytes: &[u8]) -> u32;
}

/// The table-driven engine (any platform).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Soft;

impl Crc for Soft {
    #[inline(always)]
    fn word(self, c: u32, x: u64) -> u32 {
        let x = x ^ u64::from(c);
        let b = |i: u32| ((x >> (8 * i)) & 0xFF) as usize;
        TABLES[7][b(0)]
            ^ TABLES[6][b(1)]
            ^ TABLES[5][b(2)]
            ^ TABLES[4][b(3)]
            ^ TABLES[3][b(4)]
            ^ TABLES[2][b(5)]
            ^ TABLES[1][b(6)]
            ^ TABLES[0][b(7)]
    }

    #[inline(always)]
    fn half(self, c: u32, x: u32) -> u32 {
        let x = x ^ c;
        let b = |i: u32| ((x >> (8 * i)) & 0xFF) as usize;
        TABLES[3][b(0)] ^ TABLES[2][b(1)] ^ TABLES[1][b(2)] ^ TABLES[0][b(3)]
    }

    #[inline(always)]
    fn update(self, mut c: u32, bytes: &[u8]) -> u32 {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            c = self.word(c, le64(w));
        }
        for &b in words.remainder() {
            c = (c >> 8) ^ TABLES[0][((c ^ u32::from(b)) & 0xFF) as usize];
        }
        c
    }
}

/// The SSE4.2 engine. A value exists only once the CPU was found to support SSE4.2
/// ([`Hw::detect`]), which is what makes its (intrinsic) calls sound.
#[cfg(target_arch = "x86_64")]
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hw(());

#[cfg(target_arch = "x86_64")]
impl Hw {
    /// The engine, if this CPU has SSE4.2 (detected once; later calls read a cached flag).
    #[inline]
    pub fn detect() -> Option<Hw> {
        std::is_x86_feature_detected!("sse4.2").then_some(Hw(()))
    }
}

#[cfg(target_arch = "x86_64")]
impl Crc for Hw {
    #[inline(always)]
    fn word(self, c: u32, x: u64) -> u32 {
        // SAFETY: a `Hw` is only created by `Hw::detect` after SSE4.2 was detected, so the
        // `crc32` instruction exists on this CPU.
        unsafe { std::arch::x86_64::_mm_crc32_u64(u64::from(c), x) as u32 }
    }

    #[inline(always)]
    fn half(self, c: u32, x: u32) -> u32 {
        // SAFETY: as in `word`: SSE4.2 was detected before this `Hw` was created.
        unsafe { std::arch::x86_64::_mm_crc32_u32(c, x) }
    }

    #[inline(always)]
    fn update(self, mut c: u32, mut bytes: &[u8]) -> u32 {
        while bytes.len() >= 3 * LANE {
            let (a, rest) = bytes.split_at(LANE);
            let (b, rest) = rest.split_at(LANE);
            let (d, rest) = rest.split_at(LANE);
            let (mut c0, mut c1, mut c2) = (c, 0u32, 0u32);
            for i in 0..LANE / 8 {
                c0 = self.word(c0, le64(&a[8 * i..]));
                c1 = self.word(c1, le64(&b[8 * i..]));
                c2 = self.word(c2, le64(&d[8 * i..]));
            }
            // Linearity: crc(a ‖ b ‖ d) = shift(crc(a), 2 lanes) ^ shift(crc0(b), 1 lane) ^
            // crc0(d), where crc0 starts from a zero register.
            c = shift(c0, 1) ^ shift(c1, 0) ^ c2;
            bytes = rest;
        }
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            c = self.word(c, le64(w));
        }
        for &b in words.remainder() {
            // SAFETY: as in `word`: SSE4.2 was detected before this `Hw` was created.
            c = unsafe { std::arch::x86_64::_mm_crc32_u8(c, b) };
        }
        c
    }
}

/// The standard CRC32C of `bytes`.
pub fn crc32c(bytes: &[u8]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    if let Some(hw) = Hw::detect() {
        return !hw.update(!0, bytes);
    }
    !Soft.update(!0, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, one bit at a time.
    fn bitwise(bytes: &[u8]) -> u32 {
        let mut c = !0u32;
        for &b in bytes {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 != 0 { (c >> 1) ^ POLY } else { c >> 1 };
            }
        }
        !c
    }

    #[test]
    fn known_values() {
        // The check value of the CRC catalogue and RFC 3720 (B.4) vectors.
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(&[0u8; 32]), 0x8A91_36AA);
        assert_eq!(crc32c(&[0xFFu8; 32]), 0x62A8_AB43);
        let inc: Vec<u8> = (0..32).collect();
        assert_eq!(crc32c(&inc), 0x46DD_794E);
        assert_eq!(crc32c(b""), 0);
    }

    #[test]
    fn every_engine_computes_the_definition() {
        let data: Vec<u8> = (0..9000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
            .collect();
        // Every length past two three-lane blocks, then a spread, from several offsets.
        let lens = (0..900).chain((900..9000).step_by(89)).chain([8999]);
        for len in lens {
            for off in [0usize, 1, 7] {
                let p = &data[off..off + len.min(data.len() - off)];
                let want = bitwise(p);
                assert_eq!(!Soft.update(!0, p), want, "soft len {len} off {off}");
                #[cfg(target_arch = "x86_64")]
                if let Some(hw) = Hw::detect() {
                    assert_eq!(!hw.update(!0, p), want, "hw len {len} off {off}");
                }
                assert_eq!(crc32c(p), want);
            }
        }
    }

    #[test]
    fn words_and_pieces_match_bytes() {
        let bytes: Vec<u8> = (0..64u8).map(|b| b.wrapping_mul(37)).collect();
        let want = bitwise(&bytes);
        fn pieces(e: impl Crc, bytes: &[u8]) -> u32 {
            let mut c = e.word(!0, le64(&bytes[..8]));
            let mut h = [0u8; 4];
            h.copy_from_slice(&bytes[8..12]);
            c = e.half(c, u32::from_le_bytes(h));
            c = e.update(c, &bytes[12..40]);
            !e.update(c, &bytes[40..])
        }
        assert_eq!(pieces(Soft, &bytes), want);
        #[cfg(target_arch = "x86_64")]
        if let Some(hw) = Hw::detect() {
            assert_eq!(pieces(hw, &bytes), want);
        }
    }
}
