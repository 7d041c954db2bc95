//! `validate_json`: a strict, allocation-free RFC 8259 syntax check for one JSON text.
//!
//! The bus validates every event it accepts from bytes, so this sits on the ingest hot path.
//! Two parts: a fast path (`flat.rs`, stage-1 bit masks per 64-byte block from `classify.rs`)
//! that recognises the common event, a flat object such as
//! `{"token":"hello","index":0,"pad":"xx"}` (spaces between tokens and escapes allowed), and
//! answers only "valid" or "not mine"; and the
//! general scanner (`scan.rs`), which handles every other text and gives the error offset and
//! reason. The fast path never accepts a text the general scanner rejects, so results, error
//! offsets and reasons are exactly the general scanner's.
//!
//! Accepts exactly one value with optional surrounding whitespace (space, tab, LF, CR), and
//! exactly what `serde_json` accepts when it parses into a `Value` (the property tests in
//! `core/tests/json_validate.rs` check this). Rejects: invalid UTF-8, trailing data, control
//! characters in strings, invalid escapes, lone UTF-16 surrogates in `\u` escapes (so every
//! accepted event also parses into a `serde_json::Value`), numbers outside the JSON grammar
//! (`01`, `.5`, `1.`, `+1`, `NaN`), and nesting deeper than [`MAX_DEPTH`].
//! Not done: numbers are not range-checked (`1e400` is valid JSON); when a text has both invalid
//! UTF-8 and a syntax error, which of the two is reported is not specified.

use std::fmt;

#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
mod classify;
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
mod flat;
mod scan;

/// Deepest nesting of arrays and objects accepted.
pub const MAX_DEPTH: usize = 128;

/// Longest text the fast path tries. A longer flat object still validates, through the general
/// scanner; the limit bounds the work wasted when a long text turns out not to be flat late
/// (the general scanner then starts again from byte 0).
const FAST_PATH_MAX: usize = 256;

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

/// Checks that `bytes` are exactly one JSON value (see the module docs).
pub fn validate_json(bytes: &[u8]) -> Result<(), SyntaxError> {
    // The fast path only takes texts starting `{"` and ending `}`. Checked here, before the
    // call into it, so pretty-printed texts, arrays and scalars cost no more than the scanner.
    let n = bytes.len();
    if !(3..=FAST_PATH_MAX).contains(&n) || bytes[..2] != *b"{\"" || bytes[n - 1] != b'}' {
        return scan::validate_json(bytes, None);
    }
    match fast_path(bytes) {
        flat::Verdict::Valid => {
            debug_assert_eq!(scan::validate_json(bytes, None), Ok(()), "{bytes:?}");
            Ok(())
        }
        flat::Verdict::Declined(first) => scan::validate_json(bytes, first),
    }
}

/// [`validate_json`] without the flat-object fast path: the general scanner alone, which is the
/// validator as it was before the fast path. For tests that check the fast path changes no
/// verdict, error offset or reason; not part of the supported API.
#[doc(hidden)]
pub fn validate_json_scanner_only(bytes: &[u8]) -> Result<(), SyntaxError> {
    scan::validate_json(bytes, None)
}

/// Which classifier the fast path uses on this CPU: 0 not chosen yet, 1 none (SSE2 only: there
/// the fast path cost more than it saved, in-process A/B: 64-byte event 61 -> 61 ns, 196-byte
/// flat object 196 -> 247 ns), 2 AVX2, 3 AVX-512BW/VL.
#[cfg(target_arch = "x86_64")]
static WIDTH: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// The fast path with the widest classifier the CPU has.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn fast_path(b: &[u8]) -> flat::Verdict {
    use classify::{Avx2, Avx512};
    use std::sync::atomic::Ordering::Relaxed;
    let mut width = WIDTH.load(Relaxed);
    if width == 0 {
        width = if Avx512::detect().is_some() {
            3
        } else if Avx2::detect().is_some() {
            2
        } else {
            1
        };
        WIDTH.store(width, Relaxed);
    }
    match width {
        // SAFETY: 3 is stored only after `Avx512::detect` succeeded.
        3 => unsafe { fast_path_avx512(b, Avx512::new_unchecked()) },
        // SAFETY: 2 is stored only after `Avx2::detect` succeeded. Under 16 bytes the AVX2
        // classifier declines anyway; not calling it saves the call.
        2 if b.len() >= 16 => unsafe { fast_path_avx2(b, Avx2::new_unchecked()) },
        _ => flat::Verdict::Declined(None),
    }
}

/// [`flat::is_flat_object`] compiled with AVX2 and PCLMULQDQ.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,bmi1,bmi2,pclmulqdq")]
fn fast_path_avx2(b: &[u8], c: classify::Avx2) -> flat::Verdict {
    flat::is_flat_object(b, c)
}

/// [`flat::is_flat_object`] compiled with AVX-512BW/VL and PCLMULQDQ.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,bmi1,bmi2,pclmulqdq")]
fn fast_path_avx512(b: &[u8], c: classify::Avx512) -> flat::Verdict {
    flat::is_flat_object(b, c)
}

/// Off x86_64 there is no fast path: the portable byte-at-a-time classifier is slower than the
/// scanner (as the 16-byte SSE2 one was), so every text goes to the scanner.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn fast_path(_: &[u8]) -> flat::Verdict {
    flat::Verdict::Declined(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A way of running the fast path: its name, and whether it takes a text.
    type FastPath = (&'static str, fn(&[u8]) -> bool);

    /// Every way of running the fast path on this machine.
    fn fast_paths() -> Vec<FastPath> {
        let mut v: Vec<FastPath> = vec![("bytes", |b| {
            flat::is_flat_object(b, classify::Bytes).is_valid()
        })];
        #[cfg(target_arch = "x86_64")]
        {
            if classify::Avx2::detect().is_some() {
                v.push(("avx2", |b| {
                    let c = classify::Avx2::detect().expect("detected");
                    // SAFETY: the classifier proves AVX2.
                    unsafe { fast_path_avx2(b, c) }.is_valid()
                }));
            }
            if classify::Avx512::detect().is_some() {
                v.push(("avx512", |b| {
                    let c = classify::Avx512::detect().expect("detected");
                    // SAFETY: the classifier proves AVX-512BW/VL.
                    unsafe { fast_path_avx512(b, c) }.is_valid()
                }));
            }
        }
        v
    }

    #[test]
    fn fast_path_takes_flat_objects() {
        let long = format!(r#"{{"k":"{}","n":-1.5e3,"t":true}}"#, "y".repeat(300));
        let keys = format!(
            "{{{}\"z\":null}}",
            (0..40)
                .map(|i| format!("\"k{i}\":{i},"))
                .collect::<String>()
        );
        // (text, taken by the fast path)
        for (ok, flat) in [
            (
                r#"{"token":"hello","index":0,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxx"}"#,
                true,
            ),
            (r#"{"a":1}"#, true),
            (r#"{"":""}"#, true),
            (
                r#"{"a":true,"b":false,"c":null,"d":-0.5e+7,"e":"é😀 x, z: y"}"#,
                true,
            ),
            (r#"{"c":" ","d":":","e":",","f":"a:b,c"}"#, true),
            ("{\"a\":\"\u{7f}\"}", true),
            (&long, true),
            (&keys, true),
            // Spaces between tokens (Python's default separators, and more).
            (r#"{"a": 1, "b": "x y", "c": true}"#, true),
            (r#"{"a" :1 ,"b":  null   }"#, true),
            (r#"{ "a":1}"#, true),
            // Escapes (the escaped quote is no quote), also across the first block edge.
            (
                r#"{"a":"\"no\"","b\"":1,"c":"\\","d":"\\\"","e":"\u00e9\ud83d\ude00\/\b"}"#,
                true,
            ),
            (r#"{"a":"\n"}"#, true),
            (r#"{"a\"":1}"#, true),
            (
                r#"{"pppppppppppppppppppppppppppppppppppppppppppppppppppppp":"x\"y"}"#,
                true,
            ),
            (
                r#"{"pppppppppppppppppppppppppppppppppppppppppppppppppppppppppp":"\"\\"}"#,
                true,
            ),
            // Valid, but left to the scanner: brackets inside strings.
            (r#"{"a":"{","b":"}"}"#, false),
            (r#"{"a":"[x]"}"#, false),
        ] {
            for (name, f) in fast_paths() {
                // The AVX2 classifier leaves texts under 16 bytes to the scanner.
                let short = ok.len() < 16 && name == "avx2";
                assert_eq!(f(ok.as_bytes()), flat && !short, "{name} {ok:?}");
            }
            assert_eq!(validate_json(ok.as_bytes()), Ok(()), "{ok:?}");
        }
    }

    #[test]
    fn fast_path_declines_everything_else() {
        for text in [
            "{}",
            "[1]",
            "\"a\"",
            "1",
            "{\"a\":1}\n",
            r#"{"a":{"b":1}}"#,
            r#"{"a":[1]}"#,
            // Invalid ones.
            r#"{"a":1,}"#,
            r#"{,"a":1}"#,
            r#"{"a"}"#,
            r#"{"a":}"#,
            r#"{"a":1"b":2}"#,
            r#"{"a":"b":1}"#,
            r#"{"a""b":1}"#,
            r#"{"a":1:2}"#,
            r#"{"a":1,,"b":2}"#,
            r#"{"a":01}"#,
            r#"{"a":1x}"#,
            r#"{"a":tru}"#,
            r#"{"a":truex}"#,
            r#"{"a":é}"#,
            r#"{"a":"}"#,
            r#"{"a":"b"}}"#,
            r#"{"a":"b"}{"#,
            r#"{a:1}"#,
            r#"{"a":1,b}"#,
            r#"{"a":"\x"}"#,
            r#"{"a":"\u12"}"#,
            r#"{"a":"\ud800"}"#,
            r#"{"a":"\udc00x"}"#,
            r#"{"a":"\"}"#,
            r#"{"a":1\,"b":2}"#,
            r#"{"a\":1}"#,
            "{\"a\":\"\u{1}\"}",
        ] {
            let want = scan::validate_json(text.as_bytes(), None).is_ok();
            for (name, f) in fast_paths() {
                assert!(!f(text.as_bytes()), "{name} {text:?} (valid: {want})");
            }
            assert_eq!(
                validate_json(text.as_bytes()),
                scan::validate_json(text.as_bytes(), None)
            );
        }
        assert!(!flat::is_flat_object(b"{\"a\":\"\xff\"}", classify::Bytes).is_valid());
        assert!(flat::is_flat_object("{\"a\":\"\u{e9}\"}".as_bytes(), classify::Bytes).is_valid());
    }

    /// Flat objects of every length around the block edges, with every kind of token placed
    /// across an edge, and every single-byte corruption of them: the fast path never accepts
    /// what the general scanner rejects, and accepts every valid flat object.
    #[test]
    fn fast_path_agrees_with_the_scanner_across_block_edges() {
        let values = [
            "\"s\"",
            "12",
            "-0.5e1",
            "true",
            "false",
            "null",
            "\"\"",
            "\"é\"",
            r#""a\"b""#,
            r#""\\""#,
            r#""\u00e9\ud83d\ude00x""#,
        ];
        let mut checked = 0;
        for pad in 0..140usize {
            // Three of the value kinds per length (each kind meets every block edge over the
            // 140 lengths; all eight per length made this the slowest test in debug builds).
            for v in [0, 3, 5].map(|k| values[(pad + k) % values.len()]) {
                // Compact, or with runs of spaces around the separators (a run may cross an edge).
                let sp = " ".repeat(pad % 4 * (pad % 3));
                let text = format!(
                    r#"{{"p":"{}"{sp},{sp}"k":{v},"q"{sp}:{sp}{v}{sp},"{}":{v}}}"#,
                    "x".repeat(pad),
                    "k".repeat(pad % 7)
                );
                let bytes = text.as_bytes();
                for (name, f) in fast_paths() {
                    assert!(f(bytes), "{name} {text:?}");
                }
                for at in 0..bytes.len() {
                    for c in [b'"', b',', b':', b'}', b'{', b'1', b' ', b'x', b'\\', 0xc3] {
                        let mut bad = bytes.to_vec();
                        bad[at] = c;
                        let want = scan::validate_json(&bad, None);
                        for (name, f) in fast_paths() {
                            if f(&bad) {
                                assert_eq!(
                                    want,
                                    Ok(()),
                                    "{name} {:?}",
                                    String::from_utf8_lossy(&bad)
                                );
                            }
                        }
                        assert_eq!(validate_json(&bad), want);
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 50_000, "{checked}");
    }
}
