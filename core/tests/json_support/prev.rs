//! The previous JSON validator (the eight-bytes-per-step SWAR string scan, replaced on
//! 2026-11-27), kept only as a test oracle: `core/tests/json_validate.rs` checks that the
//! current validator returns exactly its results, error offsets and reasons.

#![allow(dead_code)]

use std::fmt;

/// Deepest nesting of arrays and objects accepted.
pub const MAX_DEPTH: usize = 128;

/// Where and why a text is not valid JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Byte offset of the problem.
    pub offset: usize,
    /// What is wrong.
    pub reason: &'static str,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.reason, self.offset)
    }
}

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

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Sets bit 7 of each byte of `w` (little endian: byte 0 is the first) that is `"`, `\` or a
/// control character. Only the lowest flag is exact (a borrow may flag bytes above a real
/// hit), and the lowest is the only one the scanner uses.
#[inline(always)]
fn stop_mask(w: u64) -> u64 {
    let quote = w ^ (ONES * u64::from(b'"'));
    let backslash = w ^ (ONES * u64::from(b'\\'));
    let is_quote = quote.wrapping_sub(ONES) & !quote;
    let is_backslash = backslash.wrapping_sub(ONES) & !backslash;
    let is_control = w.wrapping_sub(ONES * 0x20) & !w;
    (is_quote | is_backslash | is_control) & HIGHS
}

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
fn number(b: &[u8], mut i: usize) -> Result<usize, SyntaxError> {
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
fn literal(b: &[u8], i: usize, word: &'static [u8]) -> Result<usize, SyntaxError> {
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
fn escape(b: &[u8], i: usize) -> Result<usize, SyntaxError> {
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

/// A string body starting at `i` (just after the opening quote); returns the index after the
/// closing quote. Every body byte is ORed into `high` (the caller checks UTF-8 if any byte had
/// bit 7 set; bytes just past the string may be ORed in too, which only costs that check).
#[inline(always)]
fn string(b: &[u8], mut i: usize, high: &mut u64) -> Result<usize, SyntaxError> {
    loop {
        loop {
            let Some(chunk) = b.get(i..).and_then(|rest| rest.first_chunk::<8>()) else {
                while let Some(&c) = b.get(i) {
                    if STRING_STOP[c as usize] {
                        break;
                    }
                    *high |= u64::from(c);
                    i += 1;
                }
                break;
            };
            let w = u64::from_le_bytes(*chunk);
            *high |= w;
            let stops = stop_mask(w);
            if stops != 0 {
                i += (stops.trailing_zeros() / 8) as usize;
                break;
            }
            i += 8;
        }
        match b.get(i) {
            Some(b'"') => return Ok(i + 1),
            Some(b'\\') => i = escape(b, i + 1)?,
            Some(_) => return Err(fail(i, "control character in string")),
            None => return Err(fail(i, "unterminated string")),
        }
    }
}

/// `"key" :` at `i` (whitespace before the key already skipped); returns the index after `:`.
#[inline(always)]
fn object_key(b: &[u8], i: usize, high: &mut u64) -> Result<usize, SyntaxError> {
    if b.get(i) != Some(&b'"') {
        return Err(fail(i, "expected a string key"));
    }
    let i = skip_ws(b, string(b, i + 1, high)?);
    if b.get(i) != Some(&b':') {
        return Err(fail(i, "expected `:` after an object key"));
    }
    Ok(i + 1)
}

/// Checks that `bytes` are exactly one JSON value (see the module docs).
pub fn validate_json(bytes: &[u8]) -> Result<(), SyntaxError> {
    let b = bytes;
    let mut i = 0usize;
    // OR of every string byte seen: bit 7 of any byte set = non-ASCII text to check as UTF-8.
    let mut high = 0u64;
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
                        i = object_key(b, i, &mut high)?;
                    }
                    continue 'value;
                }
            }
            b'"' => i = string(b, i + 1, &mut high)?,
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
                return check_utf8(b, high);
            }
            let in_object = kinds & 1 == 1;
            match b.get(i) {
                Some(b',') => {
                    i = skip_ws(b, i + 1);
                    if in_object {
                        i = object_key(b, i, &mut high)?;
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

/// The UTF-8 check, run only when a string held a byte with bit 7 set.
fn check_utf8(b: &[u8], high: u64) -> Result<(), SyntaxError> {
    if high & HIGHS == 0 {
        return Ok(());
    }
    match std::str::from_utf8(b) {
        Ok(_) => Ok(()),
        Err(e) => Err(fail(e.valid_up_to(), "invalid UTF-8")),
    }
}
