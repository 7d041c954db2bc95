//! Property test: the hand-written JSON validator agrees with serde_json on valid documents and
//! on mutated (mostly invalid) ones.

use net::event::validate::{validate_json, validate_json_scanner_only};
use proptest::prelude::*;

/// A validator's outcome as a comparable value: acceptance, or the error offset and reason.
type Outcome = Result<(), (usize, &'static str)>;

/// The outcome of the validator and of its general scanner alone (the validator as it was before
/// the flat-object fast path): the fast path must change no verdict, offset or reason.
fn both(bytes: &[u8]) -> (Outcome, Outcome) {
    (
        validate_json(bytes).map_err(|e| (e.offset, e.reason)),
        validate_json_scanner_only(bytes).map_err(|e| (e.offset, e.reason)),
    )
}
use serde::de::IgnoredAny;
use serde_json::Value;

fn doc() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        // Up to 24 characters: short string bodies, several in one 64-byte window...
        "[ -~é😀\u{1}\"\\\\]{0,24}".prop_map(Value::from),
        // ...and long ones that cross the validator's 64-byte windows.
        "[ -~é😀\u{1}\"\\\\]{40,150}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("[a-z\"\\\\]{0,4}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A compact flat object (the validator's fast path): scalar values only, keys and string
/// values mostly plain (some with escapes or brackets, which the fast path leaves to the
/// general scanner), of lengths that put tokens on both sides of 64-byte block edges.
fn flat_doc() -> impl Strategy<Value = Value> {
    let scalar = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        "[ -!#-~é😀]{0,24}".prop_map(Value::from),
        "[a-z :,é]{40,150}".prop_map(Value::from),
        "[a-z\"\\\\{}\\[\\]\u{1}]{0,6}".prop_map(Value::from),
    ];
    prop::collection::btree_map("[a-z0-9 :,é]{0,12}", scalar, 0..12)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

/// A flat object as Python's `json.dumps` writes it by default: `{"k": v, "k2": v2}`.
fn python_style(v: &Value) -> Vec<u8> {
    let Value::Object(map) = v else {
        return serde_json::to_vec(v).unwrap();
    };
    let fields: Vec<String> = map
        .iter()
        .map(|(k, v)| format!("{}: {}", Value::from(k.as_str()), v))
        .collect();
    format!("{{{}}}", fields.join(", ")).into_bytes()
}

/// Applies `edits` (remove, insert, replace, or insert a run of plain bytes) to `bytes`.
fn mutate(bytes: &mut Vec<u8>, edits: &[(prop::sample::Index, u8, u8)]) {
    for (at, op, c) in edits {
        let i = if bytes.is_empty() {
            0
        } else {
            at.index(bytes.len())
        };
        match op {
            0 if !bytes.is_empty() => {
                bytes.remove(i);
            }
            1 => bytes.insert(i, *c),
            2 if !bytes.is_empty() => bytes[i] = *c,
            _ => bytes
                .splice(i..i, std::iter::repeat_n(b'x', usize::from(*c % 70)))
                .for_each(drop),
        }
    }
}

/// JSON-ish bytes that mutations insert.
const ALPHABET: &[u8] = b"{}[]\",:0123456789-+.eE \\/ubfnrtaxlsDd\t\n\x01";

fn reference(text: &str) -> bool {
    if text.contains("\\u") {
        // serde_json skips lone surrogates when ignoring; a full parse rejects them like we do.
        serde_json::from_str::<Value>(text).is_ok()
    } else {
        serde_json::from_str::<IgnoredAny>(text).is_ok()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn valid_documents_are_accepted(v in doc(), pretty in any::<bool>()) {
        let text = if pretty { serde_json::to_string_pretty(&v) } else { serde_json::to_string(&v) }.unwrap();
        prop_assert!(validate_json(text.as_bytes()).is_ok(), "{}", text);
    }

    #[test]
    fn mutated_documents_agree_with_serde_json(
        v in doc(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, prop::sample::select(ALPHABET.to_vec())), 1..4),
    ) {
        let mut bytes = serde_json::to_vec(&v).unwrap();
        for (at, op, c) in edits {
            let i = if bytes.is_empty() { 0 } else { at.index(bytes.len()) };
            match op {
                0 if !bytes.is_empty() => { bytes.remove(i); }
                1 => bytes.insert(i, c),
                _ if !bytes.is_empty() => bytes[i] = c,
                _ => bytes.push(c),
            }
        }
        let Ok(text) = std::str::from_utf8(&bytes) else {
            prop_assert!(validate_json(&bytes).is_err());
            return Ok(());
        };
        // serde_json range-checks numbers only in a full parse; keep exponents out of \u cases.
        prop_assume!(!(text.contains("\\u") && text.contains(['e', 'E'])));
        prop_assert_eq!(validate_json(text.as_bytes()).is_ok(), reference(text), "{:?}", text);
    }

    #[test]
    fn mutated_documents_get_the_previous_validators_errors(
        v in doc(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..4, prop::sample::select(ALPHABET.to_vec())), 0..5),
    ) {
        let mut bytes = serde_json::to_vec(&v).unwrap();
        for (at, op, c) in edits {
            let i = if bytes.is_empty() { 0 } else { at.index(bytes.len()) };
            match op {
                0 if !bytes.is_empty() => { bytes.remove(i); }
                1 => bytes.insert(i, c),
                2 if !bytes.is_empty() => bytes[i] = c,
                // A run of plain bytes: moves what follows across a 64-byte window edge.
                _ => bytes.splice(i..i, std::iter::repeat_n(b'x', usize::from(c % 70))).for_each(drop),
            }
        }
        let (now, before) = both(&bytes);
        prop_assert_eq!(now, before, "{:?}", String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn arbitrary_bytes_get_the_previous_validators_errors(bytes in prop::collection::vec(prop::sample::select(b"{}[]\",:0 1x\\u\x01\x7f\xc3\xa9\xff".to_vec()), 0..200)) {
        let (now, before) = both(&bytes);
        prop_assert_eq!(now, before, "{:?}", String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn flat_objects_are_accepted(v in flat_doc(), spaced in any::<bool>()) {
        let text = if spaced { python_style(&v) } else { serde_json::to_vec(&v).unwrap() };
        prop_assert_eq!(both(&text), (Ok(()), Ok(())), "{:?}", String::from_utf8_lossy(&text));
    }

    #[test]
    fn mutated_flat_objects_get_the_previous_validators_errors(
        v in flat_doc(),
        spaced in any::<bool>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..4, prop::sample::select(ALPHABET.to_vec())), 1..4),
    ) {
        let mut bytes = if spaced { python_style(&v) } else { serde_json::to_vec(&v).unwrap() };
        mutate(&mut bytes, &edits);
        let (now, before) = both(&bytes);
        prop_assert_eq!(now, before, "{:?}", String::from_utf8_lossy(&bytes));
        if let Ok(text) = std::str::from_utf8(&bytes)
            && !(text.contains("\\u") && text.contains(['e', 'E']))
        {
            prop_assert_eq!(now.is_ok(), reference(text), "{:?}", text);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = validate_json(&bytes);
    }
}

/// Bytes placed at every offset of a string body by `string_scan_boundaries_agree_with_serde_json`:
/// the bytes that stop the 8-byte scan, bytes next to them, and valid and broken UTF-8.
const SPECIALS: &[&[u8]] = &[
    b"\"",
    b"\\",
    b"\\n",
    b"\\u00e9",
    b"\\uD83D\\uDE00",
    b"\\uD83D",
    b"\x00",
    b"\x01",
    b"\x1f",
    b" ",
    b"!",
    b"#",
    b"[",
    b"]",
    b"\x7f",
    "é".as_bytes(),
    "😀".as_bytes(),
    b"\x80",
    b"\xc3",
    b"\xff",
    b"\xed\xa0\x80",
];

/// Every special byte sequence at every offset 0..20 of a string body of up to 24 plain bytes,
/// as a bare string and as an object key and value: the string scanner (short texts, the
/// deferred UTF-8 check) must accept exactly what serde_json accepts.
#[test]
fn string_scan_boundaries_agree_with_serde_json() {
    let mut checked = 0;
    for len in 0..24usize {
        for at in 0..=len.min(20) {
            for special in SPECIALS {
                let mut body = vec![b'a'; len];
                body.splice(at..at, special.iter().copied());
                let mut docs = Vec::new();
                let mut bare = b"\"".to_vec();
                bare.extend_from_slice(&body);
                bare.push(b'"');
                let mut keyed = b"{\"".to_vec();
                keyed.extend_from_slice(&body);
                keyed.extend_from_slice(b"\":1,\"v\":");
                keyed.extend_from_slice(&bare);
                keyed.push(b'}');
                docs.push(bare);
                docs.push(keyed);
                for doc in docs {
                    let want = serde_json::from_slice::<Value>(&doc).is_ok();
                    assert_eq!(
                        validate_json(&doc).is_ok(),
                        want,
                        "{:?}",
                        String::from_utf8_lossy(&doc)
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 10_000);
}

/// Non-ASCII bytes outside strings are syntax errors, and invalid UTF-8 is rejected wherever it
/// sits, also when the rest of the text is valid JSON.
#[test]
fn non_ascii_outside_strings_and_broken_utf8_are_rejected() {
    for doc in [
        &b"\xc3\xa9"[..],
        b"[1,\xc3\xa9]",
        b"{\"a\":1}\xc3\xa9",
        b"\xef\xbb\xbf{}",
        b"[\"ok\",\"\xe2\x82\"]",
        b"{\"k\xff\":1}",
        b"\"\xf0\x9f\x98\"",
    ] {
        assert!(validate_json(doc).is_err(), "{doc:?}");
        assert!(serde_json::from_slice::<Value>(doc).is_err(), "{doc:?}");
    }
}

/// Every special byte sequence at every offset of a text of up to 200 bytes, inside a string
/// that starts at a varying offset: the validator classifies the text in 64-byte windows (the
/// last one partial, or the whole text when it is shorter than 64 bytes), so a stop byte on
/// either side of a window edge, a string crossing one or several edges, and a string ending at
/// the very end of the text must all give serde_json's answer.
#[test]
fn window_edges_agree_with_serde_json() {
    let mut checked = 0;
    for start in [2usize, 3, 14, 30, 61, 62, 63, 64, 65, 70] {
        for at in 0..140usize {
            for special in SPECIALS {
                // ["<start - 2 plain bytes>", "<at plain bytes><special><tail>"]
                let mut doc = b"[\"".to_vec();
                doc.resize(start, b'p');
                doc.extend_from_slice(b"\",\"");
                doc.extend(std::iter::repeat_n(b'a', at));
                doc.extend_from_slice(special);
                doc.extend_from_slice(
                    &b"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
                        [..(at * 7) % 70],
                );
                for end in [&b"\"]"[..], b"\"", b"\" ]", b""] {
                    let mut doc = doc.clone();
                    doc.extend_from_slice(end);
                    let want = serde_json::from_slice::<Value>(&doc).is_ok();
                    assert_eq!(
                        validate_json(&doc).is_ok(),
                        want,
                        "{:?}",
                        String::from_utf8_lossy(&doc)
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 50_000);
}
