//! Stage 1 of the flat-object fast path: seven bit masks for one 64-byte block of text.
//!
//! Promises: [`Block`] bit `j` describes byte `j` of the block, and every form (AVX-512BW/VL
//! with two masked 32-byte loads, AVX2 with SSE2 for texts under 64 bytes, the byte loop) gives
//! exactly `classify_bytes`'s masks (a unit test checks every byte value at every position,
//! in full blocks and in texts shorter than a block). Bytes past the end of the text get no
//! bits. The classifier types ([`Avx2`], [`Avx512`]) can only be made after the CPU
//! was checked, so holding one is the proof their `unsafe` intrinsics need. Not promised:
//! anything on CPUs without AVX2 or off x86_64 (the fast path is not used there).

/// What each byte of a 64-byte block is, one bit per byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Block {
    /// `"`.
    pub quote: u64,
    /// `\` or a control character (below 0x20; includes tab, LF and CR).
    pub bad: u64,
    /// `\`.
    pub backslash: u64,
    /// A bracket: `{`, `}`, `[` or `]`.
    pub bracket: u64,
    /// A space.
    pub space: u64,
    /// `:`.
    pub colon: u64,
    /// `,`.
    pub comma: u64,
    /// Bit 7 set (non-ASCII).
    pub high: u64,
}

impl Block {
    /// ORs `other`'s masks, moved up by `at` bits, into these.
    #[inline(always)]
    pub fn or_shifted(&mut self, other: Block, at: usize) {
        self.quote |= other.quote << at;
        self.bad |= other.bad << at;
        self.backslash |= other.backslash << at;
        self.bracket |= other.bracket << at;
        self.space |= other.space << at;
        self.colon |= other.colon << at;
        self.comma |= other.comma << at;
        self.high |= other.high << at;
    }

    /// These masks moved down by `by` bits (`by < 64`).
    #[inline(always)]
    pub fn shifted_down(self, by: usize) -> Block {
        Block {
            quote: self.quote >> by,
            bad: self.bad >> by,
            backslash: self.backslash >> by,
            bracket: self.bracket >> by,
            space: self.space >> by,
            colon: self.colon >> by,
            comma: self.comma >> by,
            high: self.high >> by,
        }
    }
}

/// Which of [`Block`]'s masks byte `c` belongs to: bit 0 quote, 1 bad, 2 bracket, 3 colon,
/// 4 comma, 5 high, 6 space, 7 backslash.
#[cfg(test)]
const fn class_of(c: u8) -> u8 {
    let mut k = 0;
    if c == b'"' {
        k |= 1;
    }
    if c == b'\\' || c < 0x20 {
        k |= 2;
    }
    if matches!(c, b'{' | b'}' | b'[' | b']') {
        k |= 4;
    }
    if c == b' ' {
        k |= 64;
    }
    if c == b'\\' {
        k |= 128;
    }
    if c == b':' {
        k |= 8;
    }
    if c == b',' {
        k |= 16;
    }
    if c >= 0x80 {
        k |= 32;
    }
    k
}

#[cfg(test)]
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = class_of(i as u8);
        i += 1;
    }
    t
};

/// The masks of 64 bytes, one byte at a time (the definition the SIMD forms must match).
#[cfg(test)]
pub(super) fn classify_bytes(bytes: &[u8; 64]) -> Block {
    let mut m = Block::default();
    for (j, &c) in bytes.iter().enumerate() {
        let k = u64::from(CLASS[c as usize]);
        m.quote |= (k & 1) << j;
        m.bad |= ((k >> 1) & 1) << j;
        m.backslash |= ((k >> 7) & 1) << j;
        m.bracket |= ((k >> 2) & 1) << j;
        m.space |= ((k >> 6) & 1) << j;
        m.colon |= ((k >> 3) & 1) << j;
        m.comma |= ((k >> 4) & 1) << j;
        m.high |= ((k >> 5) & 1) << j;
    }
    m
}

/// The masks of 16 bytes in bits 0..16, with SSE2 (part of the x86_64 baseline).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn sse2_16(bytes: &[u8; 16]) -> Block {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of the x86_64 baseline; the load reads the 16 bytes of the array.
    let (q, bad, bs, br, sp, co, cm, hi) = unsafe {
        let v = _mm_loadu_si128(bytes.as_ptr().cast::<__m128i>());
        // A macro, not a closure: closures are not always inlined, and an intrinsic left
        // out of line in an AVX2-compiled caller costs a call per instruction.
        macro_rules! eq {
            ($c:expr) => {
                _mm_cmpeq_epi8(v, _mm_set1_epi8($c as i8))
            };
        }
        let lower = _mm_or_si128(v, _mm_set1_epi8(0x20));
        let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
        let backslash = eq!(b'\\');
        let bad = _mm_or_si128(backslash, control);
        // `v | 0x20` is `{` for `[` and `{`, `}` for `]` and `}`.
        let br = _mm_or_si128(
            _mm_cmpeq_epi8(lower, _mm_set1_epi8(b'{' as i8)),
            _mm_cmpeq_epi8(lower, _mm_set1_epi8(b'}' as i8)),
        );
        (
            _mm_movemask_epi8(eq!(b'"')),
            _mm_movemask_epi8(bad),
            _mm_movemask_epi8(backslash),
            _mm_movemask_epi8(br),
            _mm_movemask_epi8(eq!(b' ')),
            _mm_movemask_epi8(eq!(b':')),
            _mm_movemask_epi8(eq!(b',')),
            _mm_movemask_epi8(v),
        )
    };
    let wide = |x: i32| u64::from(x as u16);
    Block {
        quote: wide(q),
        bad: wide(bad),
        backslash: wide(bs),
        bracket: wide(br),
        space: wide(sp),
        colon: wide(co),
        comma: wide(cm),
        high: wide(hi),
    }
}

/// The masks of a text of 16 to 63 bytes with SSE2 (bits past its end are 0): 16-byte chunks
/// from the start, then one ending at the end of the text (it may overlap the one before; a
/// byte gets the same bits from either). `None` for a text of other lengths.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) fn classify_short_sse2(b: &[u8]) -> Option<Block> {
    if !(16..64).contains(&b.len()) {
        return None;
    }
    let mut m = Block::default();
    let (chunks, rest) = b.as_chunks::<16>();
    for (k, chunk) in chunks.iter().enumerate() {
        m.or_shifted(sse2_16(chunk), 16 * k);
    }
    if !rest.is_empty() {
        let at = b.len() - 16;
        let last: &[u8; 16] = b[at..].try_into().ok()?;
        m.or_shifted(sse2_16(last), at);
    }
    Some(m)
}

/// The masks of 64 bytes with AVX2, 32 bytes per step. Only inlined into functions compiled
/// with AVX2 enabled.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) unsafe fn classify_avx2(bytes: &[u8; 64]) -> Block {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_min_epu8, _mm256_movemask_epi8,
        _mm256_or_si256, _mm256_set1_epi8,
    };
    let mut m = Block::default();
    for k in 0..2 {
        // SAFETY: the caller guarantees AVX2; the load reads bytes 32k..32k+32 of the 64-byte
        // array.
        let (q, bad, bs, br, sp, co, cm, hi) = unsafe {
            let v = _mm256_loadu_si256(bytes.as_ptr().add(32 * k).cast::<__m256i>());
            macro_rules! eq {
                ($c:expr) => {
                    _mm256_cmpeq_epi8(v, _mm256_set1_epi8($c as i8))
                };
            }
            let lower = _mm256_or_si256(v, _mm256_set1_epi8(0x20));
            let control = _mm256_cmpeq_epi8(_mm256_min_epu8(v, _mm256_set1_epi8(0x1f)), v);
            let backslash = eq!(b'\\');
            let bad = _mm256_or_si256(backslash, control);
            let br = _mm256_or_si256(
                _mm256_cmpeq_epi8(lower, _mm256_set1_epi8(b'{' as i8)),
                _mm256_cmpeq_epi8(lower, _mm256_set1_epi8(b'}' as i8)),
            );
            (
                _mm256_movemask_epi8(eq!(b'"')),
                _mm256_movemask_epi8(bad),
                _mm256_movemask_epi8(backslash),
                _mm256_movemask_epi8(br),
                _mm256_movemask_epi8(eq!(b' ')),
                _mm256_movemask_epi8(eq!(b':')),
                _mm256_movemask_epi8(eq!(b',')),
                _mm256_movemask_epi8(v),
            )
        };
        let at = 32 * k;
        let wide = |x: i32| u64::from(x as u32) << at;
        m.quote |= wide(q);
        m.bad |= wide(bad);
        m.backslash |= wide(bs);
        m.bracket |= wide(br);
        m.space |= wide(sp);
        m.colon |= wide(co);
        m.comma |= wide(cm);
        m.high |= wide(hi);
    }
    m
}

/// The masks of bytes `base..base + 64` of `b` (`base < b.len()`) with AVX-512BW and
/// AVX-512VL on 256-bit registers (two masked loads; with 512-bit registers nested events,
/// which the fast path declines, measured slower);
/// bits past the end of the text are 0.
///
/// # Safety
/// The CPU must support AVX-512F, AVX-512BW and AVX-512VL.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) unsafe fn classify_avx512(b: &[u8], base: usize) -> Block {
    use std::arch::x86_64::{
        _mm256_cmpeq_epi8_mask, _mm256_cmplt_epu8_mask, _mm256_maskz_loadu_epi8,
        _mm256_movepi8_mask, _mm256_or_si256, _mm256_set1_epi8,
    };
    let left = b.len().saturating_sub(base);
    let valid = if left >= 64 {
        u64::MAX
    } else {
        (1u64 << left) - 1
    };
    let mut m = Block::default();
    for half in 0..2 {
        let at = 32 * half;
        let lanes = (valid >> at) as u32;
        // SAFETY: the caller guarantees AVX-512BW and AVX-512VL; the masked load reads only
        // the bytes whose mask bit is set, which are bytes of `b` (none when the half lies
        // past the end; `wrapping_add` keeps the pointer arithmetic defined either way).
        let part = unsafe {
            let v = _mm256_maskz_loadu_epi8(lanes, b.as_ptr().wrapping_add(base + at).cast::<i8>());
            macro_rules! eq {
                ($v:expr, $c:expr) => {
                    _mm256_cmpeq_epi8_mask($v, _mm256_set1_epi8($c as i8))
                };
            }
            let lower = _mm256_or_si256(v, _mm256_set1_epi8(0x20));
            let backslash = eq!(v, b'\\');
            let wide = |x: u32| u64::from(x);
            Block {
                quote: wide(eq!(v, b'"')),
                bad: wide((backslash | _mm256_cmplt_epu8_mask(v, _mm256_set1_epi8(0x20))) & lanes),
                backslash: wide(backslash),
                bracket: wide(eq!(lower, b'{') | eq!(lower, b'}')),
                space: wide(eq!(v, b' ')),
                colon: wide(eq!(v, b':')),
                comma: wide(eq!(v, b',')),
                high: wide(_mm256_movepi8_mask(v)),
            }
        };
        m.or_shifted(part, at);
    }
    m
}

/// A way of computing [`Block`]s; the types implementing it are proofs that the CPU has the
/// instructions they use.
pub(super) trait Classify: Copy {
    /// The masks of bytes `base..base + 64` of `b` (`base < b.len()`), bits past the end of the
    /// text 0; `None` when this classifier does not handle the text (the fast path declines).
    fn block(self, b: &[u8], base: usize) -> Option<Block>;

    /// Prefix XOR of `x`: bit `j` of the result is the XOR of bits `0..=j`.
    #[inline(always)]
    fn prefix_xor(self, mut x: u64) -> u64 {
        x ^= x << 1;
        x ^= x << 2;
        x ^= x << 4;
        x ^= x << 8;
        x ^= x << 16;
        x ^= x << 32;
        x
    }
}

/// Prefix XOR as one carry-less multiply by all ones.
///
/// # Safety
/// The CPU must support PCLMULQDQ.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn prefix_xor_clmul(x: u64) -> u64 {
    use std::arch::x86_64::{
        _mm_clmulepi64_si128, _mm_cvtsi128_si64, _mm_set_epi64x, _mm_set1_epi8,
    };
    // SAFETY: the caller guarantees PCLMULQDQ; no memory is accessed.
    unsafe {
        let product = _mm_clmulepi64_si128::<0>(_mm_set_epi64x(0, x as i64), _mm_set1_epi8(-1));
        _mm_cvtsi128_si64(product) as u64
    }
}

/// A classifier built from a 64-byte-block form (`full`) and a form for texts under 64 bytes
/// (`short`). Methods, not closures, so every step is inlined into the caller compiled with the
/// classifier's target features (an intrinsic left out of line there costs a call each).
trait BlockForms: Copy {
    /// The masks of 64 bytes.
    fn full(self, bytes: &[u8; 64]) -> Block;
    /// The masks of a text shorter than 64 bytes (bits past its end 0), or `None`.
    fn short(self, b: &[u8]) -> Option<Block>;
}

/// [`Classify::block`] for a [`BlockForms`]: the last partial block of a text of 64 bytes or
/// more is the last 64 bytes, shifted; a shorter text goes to `short`.
#[inline(always)]
fn via_blocks(forms: impl BlockForms, b: &[u8], base: usize) -> Option<Block> {
    if let Some(chunk) = b.get(base..base + 64) {
        return Some(forms.full(chunk.try_into().ok()?));
    }
    let n = b.len();
    if n >= 64 {
        let last: &[u8; 64] = b[n - 64..].try_into().ok()?;
        return Some(forms.full(last).shifted_down(base + 64 - n));
    }
    forms.short(b)
}

/// The byte-at-a-time classifier, the reference for tests (too slow to pay off in production).
#[cfg(test)]
#[derive(Clone, Copy)]
pub(super) struct Bytes;

#[cfg(test)]
impl BlockForms for Bytes {
    fn full(self, bytes: &[u8; 64]) -> Block {
        classify_bytes(bytes)
    }

    fn short(self, b: &[u8]) -> Option<Block> {
        let mut pad = [0u8; 64];
        pad.get_mut(..b.len())?.copy_from_slice(b);
        let mut m = classify_bytes(&pad);
        // The zero padding reads as control characters.
        m.bad &= (1u64 << b.len()) - 1;
        Some(m)
    }
}

#[cfg(test)]
impl Classify for Bytes {
    fn block(self, b: &[u8], base: usize) -> Option<Block> {
        via_blocks(self, b, base)
    }
}

/// The AVX2 classifier (SSE2 for texts shorter than 64 bytes); only made when the CPU has AVX2.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(super) struct Avx2(());

#[cfg(target_arch = "x86_64")]
impl Avx2 {
    /// The classifier, if the CPU has AVX2 and PCLMULQDQ.
    pub fn detect() -> Option<Avx2> {
        (std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("pclmulqdq"))
        .then_some(Avx2(()))
    }

    /// The classifier without checking the CPU.
    ///
    /// # Safety
    /// [`Avx2::detect`] must have returned `Some` in this process.
    pub unsafe fn new_unchecked() -> Avx2 {
        Avx2(())
    }
}

#[cfg(target_arch = "x86_64")]
impl BlockForms for Avx2 {
    #[inline(always)]
    fn full(self, bytes: &[u8; 64]) -> Block {
        // SAFETY: an `Avx2` exists only when AVX2 was detected.
        unsafe { classify_avx2(bytes) }
    }

    #[inline(always)]
    fn short(self, b: &[u8]) -> Option<Block> {
        classify_short_sse2(b)
    }
}

#[cfg(target_arch = "x86_64")]
impl Classify for Avx2 {
    #[inline(always)]
    fn block(self, b: &[u8], base: usize) -> Option<Block> {
        via_blocks(self, b, base)
    }

    #[inline(always)]
    fn prefix_xor(self, x: u64) -> u64 {
        // SAFETY: an `Avx2` exists only when PCLMULQDQ was detected.
        unsafe { prefix_xor_clmul(x) }
    }
}

/// The AVX-512BW/VL classifier (masked loads, any length); only made when the CPU has it.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(super) struct Avx512(());

#[cfg(target_arch = "x86_64")]
impl Avx512 {
    /// The classifier, if the CPU has AVX-512F, AVX-512BW, AVX-512VL and PCLMULQDQ.
    pub fn detect() -> Option<Avx512> {
        (std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("pclmulqdq"))
        .then_some(Avx512(()))
    }

    /// The classifier without checking the CPU.
    ///
    /// # Safety
    /// [`Avx512::detect`] must have returned `Some` in this process.
    pub unsafe fn new_unchecked() -> Avx512 {
        Avx512(())
    }
}

#[cfg(target_arch = "x86_64")]
impl Classify for Avx512 {
    #[inline(always)]
    fn block(self, b: &[u8], base: usize) -> Option<Block> {
        // SAFETY: an `Avx512` exists only when AVX-512F, BW and VL were detected.
        Some(unsafe { classify_avx512(b, base) })
    }

    #[inline(always)]
    fn prefix_xor(self, x: u64) -> u64 {
        // SAFETY: an `Avx512` exists only when PCLMULQDQ was detected.
        unsafe { prefix_xor_clmul(x) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simd_forms_match_the_byte_definition() {
        let base: [u8; 64] = std::array::from_fn(|i| b'a' + (i % 26) as u8);
        assert_eq!(classify_bytes(&base), Block::default(), "plain letters");
        for c in 0..=255u8 {
            for at in 0..64 {
                let mut w = base;
                w[at] = c;
                let want = classify_bytes(&w);
                let k = u64::from(class_of(c));
                assert_eq!(want.quote, (k & 1) << at);
                assert_eq!(want.high, u64::from(c >= 0x80) << at, "{c:#x}");
                assert_eq!(want.bad, u64::from(c < 0x20 || c == b'\\') << at, "{c:#x}");
                assert_eq!(want.backslash, u64::from(c == b'\\') << at, "{c:#x}");
                #[cfg(target_arch = "x86_64")]
                {
                    if Avx2::detect().is_some() {
                        // SAFETY: AVX2 was just detected.
                        assert_eq!(unsafe { classify_avx2(&w) }, want, "byte {c:#x} at {at}");
                    }
                    if Avx512::detect().is_some() {
                        // SAFETY: AVX-512BW/VL was just detected.
                        assert_eq!(unsafe { classify_avx512(&w, 0) }, want, "{c:#x} at {at}");
                    }
                    // Texts shorter than a block (bits past the end must be 0).
                    for len in [at + 1, 16, 17, 31, 33, 47, 63] {
                        if len <= at || len >= 64 {
                            continue;
                        }
                        let short = Bytes.short(&w[..len]);
                        if len >= 16 {
                            assert_eq!(classify_short_sse2(&w[..len]), short, "{c:#x} {at} {len}");
                        }
                        if Avx512::detect().is_some() {
                            // SAFETY: AVX-512BW/VL was just detected.
                            let m = unsafe { classify_avx512(&w[..len], 0) };
                            assert_eq!(Some(m), short, "{c:#x} {at} {len}");
                        }
                    }
                }
            }
        }
    }
}
