//! Property test: the hand-written JSON validator agrees with serde_json on valid documents and
//! on mutated (mostly invalid) ones.

use net::event::validate::validate_json;
use proptest::prelude::*;
use serde::de::IgnoredAny;
use serde_json::Value;

fn doc() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        "[ -~é😀\u{1}\"\\\\]{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("[a-z\"\\\\]{0,4}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
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
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = validate_json(&bytes);
    }
}
