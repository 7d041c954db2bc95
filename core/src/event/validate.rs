//! `JsonValidator`: a strict, allocation-free RFC 8259 syntax check for one JSON text.
//!
//! The bus validates every event it accepts from bytes, so this sits on the ingest hot path.
//! It never builds a value: one pass over the bytes with an explicit container stack (no
//! recursion), a lookup table for the string fast path, and UTF-8 checked once up front.
//!
//! Accepts exactly one value with optional surrounding whitespace (space, tab, LF, CR).
//! Rejects: trailing data, control characters in strings, invalid escapes, lone UTF-16
//! surrogates in `\u` escapes (so every accepted event also parses into a `serde_json::Value`),
//! numbers outside the JSON grammar (`01`, `.5`, `1.`, `+1`, `NaN`), and nesting deeper than
//! [`MAX_DEPTH`]. Numbers are not range-checked (`1e400` is valid JSON).

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

/// Bytes that end the string fast path: `"`, `\` and control characters.
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

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn err<T>(&self, reason: &'static str) -> Result<T, SyntaxError> {
        Err(SyntaxError {
            offset: self.i,
            reason,
        })
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline]
    fn skip_ws(&mut self) {
        let b = self.b;
        let mut i = self.i;
        while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
            i += 1;
        }
        self.i = i;
    }

    fn literal(&mut self, word: &'static [u8]) -> Result<(), SyntaxError> {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(())
        } else {
            self.err("invalid literal")
        }
    }

    fn digits(&mut self) -> usize {
        let b = self.b;
        let start = self.i;
        let mut i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        self.i = i;
        i - start
    }

    fn number(&mut self) -> Result<(), SyntaxError> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return self.err("invalid number"),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return self.err("expected digits after decimal point");
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if self.digits() == 0 {
                return self.err("expected digits in exponent");
            }
        }
        Ok(())
    }

    fn hex4(&mut self) -> Result<u16, SyntaxError> {
        let Some(chunk) = self.b.get(self.i..self.i + 4) else {
            return self.err("truncated \\u escape");
        };
        let mut v = 0u16;
        for &c in chunk {
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => return self.err("invalid hex digit in \\u escape"),
            };
            v = (v << 4) | u16::from(d);
        }
        self.i += 4;
        Ok(v)
    }

    /// Consumes a string; `self.i` is at the opening quote.
    fn string(&mut self) -> Result<(), SyntaxError> {
        self.i += 1;
        loop {
            // Locals keep the scan in registers (no store of `self.i` per byte).
            let b = self.b;
            let mut i = self.i;
            while i < b.len() && !STRING_STOP[b[i] as usize] {
                i += 1;
            }
            self.i = i;
            match self.peek() {
                None => return self.err("unterminated string"),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.i += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.i += 1,
                        Some(b'u') => {
                            self.i += 1;
                            let unit = self.hex4()?;
                            if (0xDC00..=0xDFFF).contains(&unit) {
                                return self.err("lone trailing surrogate in \\u escape");
                            }
                            if (0xD800..=0xDBFF).contains(&unit) {
                                if !self.b[self.i..].starts_with(b"\\u") {
                                    return self.err("lone leading surrogate in \\u escape");
                                }
                                self.i += 2;
                                let low = self.hex4()?;
                                if !(0xDC00..=0xDFFF).contains(&low) {
                                    return self.err("invalid surrogate pair in \\u escape");
                                }
                            }
                        }
                        _ => return self.err("invalid escape"),
                    }
                }
                Some(_) => return self.err("control character in string"),
            }
        }
    }
}

/// Checks that `bytes` are exactly one JSON value (see the module docs).
pub fn validate_json(bytes: &[u8]) -> Result<(), SyntaxError> {
    if let Err(e) = std::str::from_utf8(bytes) {
        return Err(SyntaxError {
            offset: e.valid_up_to(),
            reason: "invalid UTF-8",
        });
    }
    let mut c = Cursor { b: bytes, i: 0 };
    // true = object, false = array; `depth` entries are live.
    let mut stack = [false; MAX_DEPTH];
    let mut depth = 0usize;
    'value: loop {
        c.skip_ws();
        // Parse one value; containers open here and are closed in the loop below.
        match c.peek() {
            Some(open @ (b'{' | b'[')) => {
                if depth == MAX_DEPTH {
                    return c.err("nesting too deep");
                }
                c.i += 1;
                c.skip_ws();
                let close = if open == b'{' { b'}' } else { b']' };
                if c.peek() == Some(close) {
                    c.i += 1;
                } else {
                    stack[depth] = open == b'{';
                    depth += 1;
                    if open == b'{' {
                        object_key(&mut c)?;
                    }
                    continue 'value;
                }
            }
            Some(b'"') => c.string()?,
            Some(b't') => c.literal(b"true")?,
            Some(b'f') => c.literal(b"false")?,
            Some(b'n') => c.literal(b"null")?,
            Some(b'-' | b'0'..=b'9') => c.number()?,
            Some(_) => return c.err("expected a value"),
            None => return c.err("unexpected end of input"),
        }
        // After a complete value: separators and closers until the next value starts.
        loop {
            c.skip_ws();
            if depth == 0 {
                return if c.i == bytes.len() {
                    Ok(())
                } else {
                    c.err("trailing characters after the value")
                };
            }
            let in_object = stack[depth - 1];
            match c.peek() {
                Some(b',') => {
                    c.i += 1;
                    if in_object {
                        c.skip_ws();
                        object_key(&mut c)?;
                    }
                    continue 'value;
                }
                Some(b'}') if in_object => {
                    c.i += 1;
                    depth -= 1;
                }
                Some(b']') if !in_object => {
                    c.i += 1;
                    depth -= 1;
                }
                None => return c.err("unexpected end of input"),
                Some(_) => return c.err("expected `,` or a closing bracket"),
            }
        }
    }
}

/// Consumes `"key" :` (whitespace before the key already skipped).
fn object_key(c: &mut Cursor<'_>) -> Result<(), SyntaxError> {
    if c.peek() != Some(b'"') {
        return c.err("expected a string key");
    }
    c.string()?;
    c.skip_ws();
    if c.peek() != Some(b':') {
        return c.err("expected `:` after an object key");
    }
    c.i += 1;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        ] {
            assert!(validate_json(bad.as_bytes()).is_err(), "{bad:?}");
        }
        assert!(validate_json(b"\"\xff\"").is_err());
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(
            validate_json(deep.as_bytes()).unwrap_err().reason,
            "nesting too deep"
        );
    }
}
