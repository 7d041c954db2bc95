//! The general scanner: a strict, allocation-free RFC 8259 syntax check of any JSON text, with
//! the offset and reason of the first error.
//!
//! It never builds a value: one forward pass over the bytes with the index in a register, and
//! an explicit container stack packed into one `u128` (one bit per level: object or array, so
//! no recursion and no allocation). String bodies are not scanned byte by byte: the text is
//! classified 64 bytes at a time into a bit mask of the bytes that end a plain run (`"`, `\`,
//! control characters; SSE2 on x86_64, a byte loop elsewhere), computed once per 64-byte
//! window and shared by every string in it, so finding the end of a plain run is a shift and a
//! count of trailing zeros. The same pass records whether any byte has bit 7 set; UTF-8 is
//! only checked when one does (outside strings any such byte is already a syntax error), so a
//! pure-ASCII text skips the UTF-8 pass entirely. What it accepts is described in the parent
//! module's docs; it is the reference the fast path (`flat.rs`) must agree with.

use super::{MAX_DEPTH, SyntaxError};

/// Bytes that end a plain run inside a string: `"`, `\` and control characters.
static STRING_STOP: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

#[cold]
#[inline(never)]
fn fail(offset: usize, reason: &'static str) -> SyntaxError {
    SyntaxError { offset, reason }
}

#[inline(always)]
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while let Some(&c) = b.get(i) {
        if c > b' ' || !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
            break;
        }
        i += 1;
    }
    i
}

#[inline(always)]
fn digits(b: &[u8], mut i: usize) -> usize {
    while let Some(c) = b.get(i) {
        if !c.is_ascii_digit() {
            break;
        }
        i += 1;
    }
    i
}

/// A number starting at `i`; returns the index after it.
#[inline(always)]
pub(super) fn number(b: &[u8], mut i: usize) -> Result<usize, SyntaxError> {
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = digits(b, i + 1),
        _ => return Err(fail(i, "invalid number")),
    }
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = digits(b, start);
        if i == start {
            return Err(fail(i, "expected digits after decimal point"));
        }
    }
    if let Some(b'e' | b'E') = b.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = b.get(i) {
            i += 1;
        }
        let start = i;
        i = digits(b, start);
        if i == start {
            return Err(fail(i, "expected digits in exponent"));
        }
    }
    Ok(i)
}

#[inline(always)]
pub(super) fn literal(b: &[u8], i: usize, word: &'static [u8]) -> Result<usize, SyntaxError> {
    match b.get(i..) {
        Some(rest) if rest.starts_with(word) => Ok(i + word.len()),
        _ => Err(fail(i, "invalid literal")),
    }
}

/// Four hex digits at `i`, as a UTF-16 code unit.
fn hex4(b: &[u8], i: usize) -> Result<u16, SyntaxError> {
    let Some(chunk) = b.get(i..i + 4) else {
        return Err(fail(i, "truncated \\u escape"));
    };
    let mut v = 0u16;
    for &c in chunk {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return Err(fail(i, "invalid hex digit in \\u escape")),
        };
        v = (v << 4) | u16::from(d);
    }
    Ok(v)
}

/// The escape whose backslash is at `i - 1`; returns the index after it.
#[inline(never)]
pub(super) fn escape(b: &[u8], i: usize) -> Result<usize, SyntaxError> {
    match b.get(i) {
        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(i + 1),
        Some(b'u') => {
            let unit = hex4(b, i + 1)?;
            let after = i + 5;
            if (0xDC00..=0xDFFF).contains(&unit) {
                return Err(fail(after, "lone trailing surrogate in \\u escape"));
            }
            if !(0xD800..=0xDBFF).contains(&unit) {
                return Ok(after);
            }
            if b.get(after..after + 2) != Some(b"\\u") {
                return Err(fail(after, "lone leading surrogate in \\u escape"));
            }
            let low = hex4(b, after + 2)?;
            if !(0xDC00..=0xDFFF).contains(&low) {
                return Err(fail(after + 6, "invalid surrogate pair in \\u escape"));
            }
            Ok(after + 6)
        }
        _ => Err(fail(i, "invalid escape")),
    }
}

/// Where the string scanner stops in one 64-byte window of the text, as bit masks (bit `j` =
/// byte `start + j`), computed once per window and reused by every string in it.
struct Windows<'a> {
    b: &'a [u8],
    /// Index (offset / 64) of the window in `stops`; `usize::MAX` before the first load.
    at: usize,
    /// Bytes that end a plain run inside a string: `"`, `\` and control characters. Bytes past
    /// the end of the text are never flagged.
    stops: u64,
    /// OR of the bit-7 masks of every window loaded. Every byte of every string lies in a
    /// loaded window, so a valid text with a non-ASCII byte always makes this non-zero (the
    /// UTF-8 check then runs).
    high: u64,
}

impl<'a> Windows<'a> {
    /// Windows of `b`, with the masks of window 0 when the caller already has them.
    fn new(b: &'a [u8], first: Option<FirstWindow>) -> Self {
        match first {
            Some(w) => Windows {
                b,
                at: 0,
                stops: w.stops,
                high: w.high,
            },
            None => Windows {
                b,
                at: usize::MAX,
                stops: 0,
                high: 0,
            },
        }
    }

    /// The stop mask from offset `i` (`i < b.len()`) to the end of its window (bit 0 = byte
    /// `i`).
    #[inline(always)]
    fn stops_from(&mut self, i: usize) -> u64 {
        let w = i / 64;
        if w != self.at {
            self.load(w);
        }
        self.stops >> (i % 64)
    }

    /// Computes the masks of window `w`, which must hold at least one byte of the text.
    #[inline(never)]
    fn load(&mut self, w: usize) {
        let b = self.b;
        let start = w * 64;
        let (stops, high) = if let Some(window) = b.get(start..start + 64) {
            masks64(window)
        } else if b.len() >= 64 {
            // The last, partial window: the 64 bytes ending at the end of the text, shifted so
            // bit 0 is `start` (the bits of bytes past the end become 0).
            let (stops, high) = masks64(&b[b.len() - 64..]);
            (stops >> (start + 64 - b.len()), high)
        } else {
            masks_short(b)
        };
        self.at = w;
        self.stops = stops;
        self.high |= high;
    }
}

/// The masks of a text of fewer than 64 bytes (bits past its end are 0).
#[inline(always)]
fn masks_short(b: &[u8]) -> (u64, u64) {
    if b.len() < 16 {
        return masks_bytes(b);
    }
    // 16-byte chunks from the start, then one ending at the end of the text (it may overlap
    // the previous one; a byte gets the same bits from either).
    let (mut stops, mut high) = (0u64, 0u64);
    let mut k = 0;
    while k + 16 <= b.len() {
        let (s, h) = masks16(&b[k..k + 16]);
        stops |= s << k;
        high |= h << k;
        k += 16;
    }
    if k < b.len() {
        let at = b.len() - 16;
        let (s, h) = masks16(&b[at..]);
        stops |= s << at;
        high |= h << at;
    }
    (stops, high)
}

/// The masks of 64 bytes.
#[inline(always)]
fn masks64(bytes: &[u8]) -> (u64, u64) {
    let (mut stops, mut high) = (0u64, 0u64);
    for k in 0..4 {
        let (s, h) = masks16(&bytes[k * 16..k * 16 + 16]);
        stops |= s << (k * 16);
        high |= h << (k * 16);
    }
    (stops, high)
}

/// The masks of 16 bytes (`bytes.len() == 16`), with SSE2 (part of the x86_64 baseline).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn masks16(bytes: &[u8]) -> (u64, u64) {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };
    assert!(bytes.len() == 16);
    // SAFETY: SSE2 is part of the x86_64 baseline, so these intrinsics are always available;
    // the only memory access is the unaligned load of the 16 bytes of `bytes` (asserted).
    let (stop, v) = unsafe {
        let v = _mm_loadu_si128(bytes.as_ptr().cast::<__m128i>());
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        // Unsigned `v <= 0x1f` is `min(v, 0x1f) == v`.
        let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
        let stop = _mm_or_si128(_mm_or_si128(quote, backslash), control);
        (_mm_movemask_epi8(stop), _mm_movemask_epi8(v))
    };
    (u64::from(stop as u16), u64::from(v as u16))
}

/// The masks of 16 bytes; portable form.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn masks16(bytes: &[u8]) -> (u64, u64) {
    masks_bytes(bytes)
}

/// The masks of up to 64 bytes, one byte at a time (the definition the SIMD form must match).
fn masks_bytes(bytes: &[u8]) -> (u64, u64) {
    let (mut stops, mut high) = (0u64, 0u64);
    for (j, &c) in bytes.iter().take(64).enumerate() {
        stops |= u64::from(STRING_STOP[c as usize]) << j;
        high |= u64::from(c >> 7) << j;
    }
    (stops, high)
}

/// A string body starting at `i` (just after the opening quote); returns the index after the
/// closing quote. The windows it crosses are loaded into `win` (which records whether any of
/// their bytes is non-ASCII).
#[inline(always)]
fn string(b: &[u8], mut i: usize, win: &mut Windows<'_>) -> Result<usize, SyntaxError> {
    loop {
        loop {
            if i >= b.len() {
                break;
            }
            let m = win.stops_from(i);
            if m != 0 {
                i += m.trailing_zeros() as usize;
                break;
            }
            i = (i / 64 + 1) * 64;
        }
        match b.get(i) {
            Some(b'"') => return Ok(i + 1),
            Some(b'\\') => i = escape(b, i + 1)?,
            Some(_) => return Err(fail(i, "control character in string")),
            None => return Err(fail(b.len(), "unterminated string")),
        }
    }
}

/// `"key" :` at `i` (whitespace before the key already skipped); returns the index after `:`.
#[inline(always)]
fn object_key(b: &[u8], i: usize, win: &mut Windows<'_>) -> Result<usize, SyntaxError> {
    if b.get(i) != Some(&b'"') {
        return Err(fail(i, "expected a string key"));
    }
    let i = skip_ws(b, string(b, i + 1, win)?);
    if b.get(i) != Some(&b':') {
        return Err(fail(i, "expected `:` after an object key"));
    }
    Ok(i + 1)
}

/// The masks of the first 64-byte window of a text (bytes `0..min(64, len)`), computed
/// elsewhere (by the fast path before it declined the text). Bits past the end of the text are 0.
#[derive(Debug, Clone, Copy)]
pub(super) struct FirstWindow {
    /// `"`, `\` and control characters.
    pub stops: u64,
    /// Bytes with bit 7 set.
    pub high: u64,
}

/// Checks that `bytes` are exactly one JSON value (see the parent module's docs), reusing the
/// masks of the first window when given.
pub(super) fn validate_json(bytes: &[u8], first: Option<FirstWindow>) -> Result<(), SyntaxError> {
    let b = bytes;
    let mut i = 0usize;
    // The string scanner's windows; records whether a string's window held non-ASCII bytes.
    let mut win = Windows::new(b, first);
    // Bit k = container at depth `depth - k` is an object (1) or an array (0).
    let mut kinds: u128 = 0;
    let mut depth = 0usize;
    'value: loop {
        i = skip_ws(b, i);
        let Some(&c) = b.get(i) else {
            return Err(fail(i, "unexpected end of input"));
        };
        // One value; containers open here and are closed in the loop below.
        match c {
            b'{' | b'[' => {
                if depth == MAX_DEPTH {
                    return Err(fail(i, "nesting too deep"));
                }
                let is_object = c == b'{';
                i = skip_ws(b, i + 1);
                let close = if is_object { b'}' } else { b']' };
                if b.get(i) == Some(&close) {
                    i += 1;
                } else {
                    kinds = (kinds << 1) | u128::from(is_object);
                    depth += 1;
                    if is_object {
                        i = object_key(b, i, &mut win)?;
                    }
                    continue 'value;
                }
            }
            b'"' => i = string(b, i + 1, &mut win)?,
            b't' => i = literal(b, i, b"true")?,
            b'f' => i = literal(b, i, b"false")?,
            b'n' => i = literal(b, i, b"null")?,
            b'-' | b'0'..=b'9' => i = number(b, i)?,
            _ => return Err(fail(i, "expected a value")),
        }
        // After a complete value: separators and closers until the next value starts.
        loop {
            i = skip_ws(b, i);
            if depth == 0 {
                if i != b.len() {
                    return Err(fail(i, "trailing characters after the value"));
                }
                return check_utf8(b, win.high);
            }
            let in_object = kinds & 1 == 1;
            match b.get(i) {
                Some(b',') => {
                    i = skip_ws(b, i + 1);
                    if in_object {
                        i = object_key(b, i, &mut win)?;
                    }
                    continue 'value;
                }
                Some(b'}') if in_object => {}
                Some(b']') if !in_object => {}
                None => return Err(fail(i, "unexpected end of input")),
                Some(_) => return Err(fail(i, "expected `,` or a closing bracket")),
            }
            i += 1;
            kinds >>= 1;
            depth -= 1;
        }
    }
}

/// The UTF-8 check, run only when a window a string crossed held a byte with bit 7 set.
fn check_utf8(b: &[u8], high: u64) -> Result<(), SyntaxError> {
    if high == 0 {
        return Ok(());
    }
    match std::str::from_utf8(b) {
        Ok(_) => Ok(()),
        Err(e) => Err(fail(e.valid_up_to(), "invalid UTF-8")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scanner on its own (no first window from the fast path).
    fn validate_json(b: &[u8]) -> Result<(), SyntaxError> {
        super::validate_json(b, None)
    }

    #[test]
    fn window_masks_match_the_byte_definition() {
        // Every byte value at every position of a 64-byte window, and texts of every length
        // below 64 (the chunked short path, whose last chunk may overlap the one before).
        let base: Vec<u8> = (0..64u8).map(|i| b'a' + i % 26).collect();
        let (stops, high) = masks_bytes(&base);
        assert_eq!((stops, high), (0, 0), "plain letters");
        for c in 0..=255u8 {
            for at in 0..64 {
                let mut w = base.clone();
                w[at] = c;
                let want = masks_bytes(&w);
                assert_eq!(masks64(&w), want, "byte {c:#x} at {at}");
                let stop = c < 0x20 || c == b'"' || c == b'\\';
                assert_eq!(want.0, u64::from(stop) << at, "byte {c:#x} at {at}");
                assert_eq!(want.1, u64::from(c >= 0x80) << at, "byte {c:#x} at {at}");
                for len in at + 1..64 {
                    assert_eq!(
                        masks_short(&w[..len]),
                        masks_bytes(&w[..len]),
                        "{c:#x} {at} {len}"
                    );
                }
            }
        }
    }

    #[test]
    fn accepts_valid_json() {
        for ok in [
            "0",
            "-0",
            "1.5e-3",
            "1E+9",
            "-12.25",
            "1e400",
            "true",
            "false",
            "null",
            "\"\"",
            "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"",
            "\"\\u00e9\\uD83D\\uDE00\"",
            "\"é😀\"",
            "\"a long plain string that spans several eight-byte words\"",
            "[]",
            "{}",
            " [ 1 , [ ] , { } ] ",
            "{\"a\":{\"b\":[1,2,{\"c\":null}]}}",
            "\t\n\r 7 \r\n",
        ] {
            assert_eq!(validate_json(ok.as_bytes()), Ok(()), "{ok:?}");
        }
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert_eq!(validate_json(deep.as_bytes()), Ok(()));
        let deep = format!("{}1{}", "{\"k\":".repeat(MAX_DEPTH), "}".repeat(MAX_DEPTH));
        assert_eq!(validate_json(deep.as_bytes()), Ok(()));
    }

    #[test]
    fn rejects_invalid_json() {
        for bad in [
            "",
            " ",
            "01",
            "-",
            "1.",
            ".5",
            "+1",
            "1e",
            "1e+",
            "NaN",
            "Infinity",
            "tru",
            "nul",
            "\"abc",
            "\"a\u{1}b\"",
            "\"0123456789\u{1f}abc\"",
            "\"\\x\"",
            "\"\\u12\"",
            "\"\\uD800\"",
            "\"\\uDC00\"",
            "\"\\uD800\\u0041\"",
            "[1,]",
            "[,1]",
            "{\"a\":}",
            "{\"a\" 1}",
            "{a:1}",
            "{\"a\":1,}",
            "[1 2]",
            "{} {}",
            "[",
            "]",
            "{",
            "}",
            "[1}",
            "{\"a\":1]",
            "'a'",
            "1 x",
            "[\"a\":1]",
            "é",
            "[1,é]",
        ] {
            assert!(validate_json(bad.as_bytes()).is_err(), "{bad:?}");
        }
        assert!(validate_json(b"\"\xff\"").is_err());
        assert_eq!(
            validate_json(b"\"0123456789\xc3\"").unwrap_err().reason,
            "invalid UTF-8"
        );
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(
            validate_json(deep.as_bytes()).unwrap_err().reason,
            "nesting too deep"
        );
    }
}
