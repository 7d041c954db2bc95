//! Evaluating a compiled [`Filter`](super::Filter) on an event's raw JSON bytes, without
//! building a `serde_json::Value` of the whole event.
//!
//! A [`Scanner`] walks the bytes along the filter's path, skipping every value it does not need
//! (no allocation, no recursion: nested containers are skipped with a depth counter, so a deeply
//! nested event cannot exhaust the stack). The value found at the path is then classified:
//! strings without escapes, small integers, `true`, `false` and `null` are compared in place;
//! anything else (escaped strings, floats, big integers, arrays, objects) is parsed alone with
//! `serde_json`, so the comparison rules are exactly those of `Filter::matches`.
//!
//! Promise: on valid JSON (every stored event is validated at ingest) the answer equals
//! `Filter::matches` on the parsed event, including duplicate keys (the last one wins, as in
//! `serde_json`). On bytes that are not valid JSON the answer is unspecified, and evaluation
//! still never panics, loops or reads out of bounds.

use std::cmp::Ordering;

use serde_json::Value;

use super::{CmpOp, Filter, Path, json_eq, order};

/// The value found at a path, classified for comparison.
enum Found<'a> {
    /// A string with no escape sequence: its bytes are its UTF-8 text.
    Str(&'a str),
    /// A scalar or container converted to a `Value` without allocating (integers, literals)
    /// or parsed from its own bytes (everything else).
    Value(Value),
}

impl<'a> Found<'a> {
    /// Classifies the bytes of one JSON value; `None` if they are not one.
    fn classify(raw: &'a [u8]) -> Option<Found<'a>> {
        match raw.first()? {
            b'"' => {
                let inner = raw.get(1..raw.len().checked_sub(1)?)?;
                if inner.contains(&b'\\') {
                    return parse(raw);
                }
                std::str::from_utf8(inner).ok().map(Found::Str)
            }
            b't' if raw == b"true" => Some(Found::Value(Value::Bool(true))),
            b'f' if raw == b"false" => Some(Found::Value(Value::Bool(false))),
            b'n' if raw == b"null" => Some(Found::Value(Value::Null)),
            b'-' | b'0'..=b'9' if is_small_integer(raw) => {
                let text = std::str::from_utf8(raw).ok()?;
                text.parse::<i64>()
                    .ok()
                    .map(|n| Found::Value(Value::from(n)))
            }
            _ => parse(raw),
        }
    }

    fn eq(&self, v: &Value) -> bool {
        match (self, v) {
            (Found::Str(s), Value::String(t)) => *s == t.as_str(),
            (Found::Str(_), _) => false,
            (Found::Value(f), v) => json_eq(f, v),
        }
    }

    fn order(&self, v: &Value) -> Option<Ordering> {
        match (self, v) {
            (Found::Str(s), Value::String(t)) => Some((*s).cmp(t.as_str())),
            (Found::Str(_), _) => None,
            (Found::Value(f), v) => order(f, v),
        }
    }

    fn starts_with(&self, prefix: &str) -> bool {
        match self {
            Found::Str(s) => s.starts_with(prefix),
            Found::Value(Value::String(s)) => s.starts_with(prefix),
            Found::Value(_) => false,
        }
    }
}

fn parse(raw: &[u8]) -> Option<Found<'_>> {
    serde_json::from_slice(raw).ok().map(Found::Value)
}

/// An optional minus and 1 to 18 digits without a leading zero (and not `-0`, which
/// `serde_json` reads as a float): always fits an `i64`, and `serde_json` stores it as an
/// integer too, so the in-place comparison matches.
fn is_small_integer(raw: &[u8]) -> bool {
    let digits = raw.strip_prefix(b"-").unwrap_or(raw);
    (1..=18).contains(&digits.len())
        && digits.iter().all(u8::is_ascii_digit)
        && (digits[0] != b'0' || raw == b"0")
}

/// Evaluates `filter` on raw event bytes (see the module docs for the contract).
pub(super) fn matches(filter: &Filter, raw: &[u8]) -> bool {
    match filter {
        Filter::Cmp { path, op, value } => match found(raw, path) {
            None => false,
            Some(f) => match op {
                CmpOp::Eq => f.eq(value),
                CmpOp::Ne => !f.eq(value),
                CmpOp::Gt => f.order(value) == Some(Ordering::Greater),
                CmpOp::Gte => matches!(f.order(value), Some(Ordering::Greater | Ordering::Equal)),
                CmpOp::Lt => f.order(value) == Some(Ordering::Less),
                CmpOp::Lte => matches!(f.order(value), Some(Ordering::Less | Ordering::Equal)),
            },
        },
        Filter::In { path, values } => {
            found(raw, path).is_some_and(|f| values.iter().any(|v| f.eq(v)))
        }
        Filter::Exists { path, exists } => lookup(raw, path).is_some() == *exists,
        Filter::Prefix { path, prefix } => found(raw, path).is_some_and(|f| f.starts_with(prefix)),
        Filter::And(fs) => fs.iter().all(|f| matches(f, raw)),
        Filter::Or(fs) => fs.iter().any(|f| matches(f, raw)),
        Filter::Not(f) => !matches(f, raw),
    }
}

fn found<'a>(raw: &'a [u8], path: &Path) -> Option<Found<'a>> {
    Found::classify(lookup(raw, path)?)
}

/// The bytes of the value at `path` in the JSON document `raw`, or `None` if the path is
/// missing (or the bytes are not JSON where the walk looked).
pub(super) fn lookup<'a>(raw: &'a [u8], path: &Path) -> Option<&'a [u8]> {
    let mut cur = trim(raw);
    for seg in &path.segments {
        let mut s = Scanner { b: cur, i: 0 };
        cur = match cur.first()? {
            b'{' => s.member(seg.as_bytes())?,
            b'[' => s.element(array_index(seg)?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// The index a path segment names in an array: digits only (leading zeros allowed, as
/// `str::parse::<usize>` allows them), no overflow.
fn array_index(seg: &str) -> Option<usize> {
    if seg.is_empty() || !seg.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    seg.parse().ok()
}

fn trim(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

/// A cursor over JSON bytes that skips values without interpreting them.
struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.i += 1)
    }

    /// Skips a string starting at `"`; returns its bytes including both quotes.
    fn string(&mut self) -> Option<&'a [u8]> {
        let start = self.i;
        self.expect(b'"')?;
        loop {
            // Jump to the next quote or backslash; every other byte is string content.
            let rest = self.b.get(self.i..)?;
            let at = rest.iter().position(|&c| c == b'"' || c == b'\\')?;
            self.i += at;
            if self.b[self.i] == b'"' {
                self.i += 1;
                return self.b.get(start..self.i);
            }
            self.i += 2;
        }
    }

    /// Skips one value; returns its bytes.
    fn value(&mut self) -> Option<&'a [u8]> {
        let start = self.i;
        match self.peek()? {
            b'"' => {
                self.string()?;
            }
            b'{' | b'[' => self.container()?,
            _ => {
                while !matches!(
                    self.peek(),
                    None | Some(b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r')
                ) {
                    self.i += 1;
                }
                if self.i == start {
                    return None;
                }
            }
        }
        self.b.get(start..self.i)
    }

    /// Skips an object or array with a depth counter (strings are skipped whole, so brackets
    /// inside them do not count).
    fn container(&mut self) -> Option<()> {
        let mut depth = 0usize;
        loop {
            match self.peek()? {
                b'"' => {
                    self.string()?;
                    continue;
                }
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        self.i += 1;
                        return Some(());
                    }
                }
                _ => {}
            }
            self.i += 1;
        }
    }

    /// In an object starting here, the value of the last member whose key is `key`.
    fn member(&mut self, key: &[u8]) -> Option<&'a [u8]> {
        self.expect(b'{')?;
        self.ws();
        if self.peek()? == b'}' {
            return None;
        }
        let mut last = None;
        loop {
            self.ws();
            let k = self.string()?;
            self.ws();
            self.expect(b':')?;
            self.ws();
            let v = self.value()?;
            if key_is(k, key) {
                last = Some(v);
            }
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => return last,
                _ => return None,
            }
        }
    }

    /// In an array starting here, element number `index`.
    fn element(&mut self, index: usize) -> Option<&'a [u8]> {
        self.expect(b'[')?;
        self.ws();
        if self.peek()? == b']' {
            return None;
        }
        let mut n = 0usize;
        loop {
            self.ws();
            let v = self.value()?;
            if n == index {
                return Some(v);
            }
            n += 1;
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                _ => return None,
            }
        }
    }
}

/// True if the quoted JSON key `quoted` decodes to `key`.
fn key_is(quoted: &[u8], key: &[u8]) -> bool {
    let inner = &quoted[1..quoted.len() - 1];
    if !inner.contains(&b'\\') {
        return inner == key;
    }
    serde_json::from_slice::<String>(quoted).is_ok_and(|s| s.as_bytes() == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(raw: &str, path: &str) -> Option<String> {
        lookup(raw.as_bytes(), &Path::parse(path).unwrap())
            .map(|b| String::from_utf8(b.to_vec()).unwrap())
    }

    #[test]
    fn walks_objects_and_arrays() {
        let raw = r#" {"a": {"b": [10, {"c": "x"}, [1]]}, "s": "q\"}", "n": -3} "#;
        assert_eq!(at(raw, "a.b.0").as_deref(), Some("10"));
        assert_eq!(at(raw, "a.b.1.c").as_deref(), Some(r#""x""#));
        assert_eq!(at(raw, "a.b.2").as_deref(), Some("[1]"));
        assert_eq!(at(raw, "s").as_deref(), Some(r#""q\"}""#));
        assert_eq!(at(raw, "n").as_deref(), Some("-3"));
        assert_eq!(at(raw, "a.b.3"), None);
        assert_eq!(at(raw, "a.x"), None);
        assert_eq!(at(raw, "n.0"), None);
        assert_eq!(at(raw, "a.b.x"), None);
    }

    #[test]
    fn last_duplicate_key_wins_and_escaped_keys_match() {
        assert_eq!(at(r#"{"k":1,"k":2}"#, "k").as_deref(), Some("2"));
        assert_eq!(at(r#"{"\u006b":7}"#, "k").as_deref(), Some("7"));
        assert_eq!(at(r#"{"0":"obj"}"#, "0").as_deref(), Some(r#""obj""#));
        assert_eq!(at("[5,6]", "01").as_deref(), Some("6"));
    }

    #[test]
    fn garbage_never_panics() {
        let p = Path::parse("a.0.b").unwrap();
        for raw in [
            "",
            "{",
            "[",
            "{\"a\"",
            "{\"a\":",
            "{\"a\":[",
            "{\"a\":[{\"b\"",
            "\"\\",
            "{\"a\\",
            "}}}",
            "]]",
            "{\"a\":1,}",
            "[[[[[[",
            "{\"\\\"",
        ] {
            let _ = lookup(raw.as_bytes(), &p);
        }
        let deep = "[".repeat(100_000) + &"]".repeat(100_000);
        assert_eq!(lookup(format!("{{\"a\":{deep}}}").as_bytes(), &p), None);
    }
}
