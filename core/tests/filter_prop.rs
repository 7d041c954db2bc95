//! Property test: the engine's filter evaluator agrees with a deliberately naive reference
//! evaluator written from the language definition in `docs/bus.md`.

use net::Filter;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const KEYS: [&str; 4] = ["a", "b", "0", "1"];

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-3i64..4).prop_map(|n| json!(n)),
        (-3i64..4).prop_map(|n| json!(n as f64 + 0.5)),
        (-2i64..3).prop_map(|n| json!(n as f64)),
        prop::sample::select(vec!["", "a", "ab", "b", "ba", "a\"q", "é"]).prop_map(|s| json!(s)),
        (-1i64..2).prop_map(|n| json!(n * 1_000_000_000_000_000_000)),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS.to_vec()), inner), 0..4).prop_map(
                |kvs| {
                    let mut m = Map::new();
                    for (k, v) in kvs {
                        m.insert(k.to_owned(), v);
                    }
                    Value::Object(m)
                }
            ),
        ]
    })
}

fn path() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(KEYS.to_vec()), 1..4).prop_map(|s| s.join("."))
}

fn leaf() -> impl Strategy<Value = Value> {
    let ord_operand = prop_oneof![
        (-3i64..4).prop_map(|n| json!(n)),
        (-3i64..4).prop_map(|n| json!(n as f64 + 0.5)),
        prop::sample::select(vec!["", "a", "ab", "b"]).prop_map(|s| json!(s)),
    ];
    prop_oneof![
        (path(), prop::sample::select(vec!["eq", "ne"]), scalar())
            .prop_map(|(p, op, v)| json!({"path": p, op: v})),
        (
            path(),
            prop::sample::select(vec!["gt", "gte", "lt", "lte"]),
            ord_operand
        )
            .prop_map(|(p, op, v)| json!({"path": p, op: v})),
        (path(), prop::collection::vec(scalar(), 0..3))
            .prop_map(|(p, vs)| json!({"path": p, "in": vs})),
        (path(), any::<bool>()).prop_map(|(p, b)| json!({"path": p, "exists": b})),
        (path(), prop::sample::select(vec!["", "a", "b"]))
            .prop_map(|(p, s)| json!({"path": p, "prefix": s})),
    ]
}

fn filter() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 16, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(|fs| json!({"and": fs})),
            prop::collection::vec(inner.clone(), 0..3).prop_map(|fs| json!({"or": fs})),
            inner.prop_map(|f| json!({"not": f})),
        ]
    })
}

// ---- reference evaluator: straightforward and independent of the engine's code ----

fn ref_lookup<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    let mut cur = v;
    for seg in path.split('.') {
        cur = match cur {
            Value::Object(m) => m.get(seg)?,
            Value::Array(a) => {
                let idx: usize = seg.parse().ok()?;
                a.get(idx)?
            }
            _ => return None,
        };
    }
    Some(cur)
}

fn num(v: &Value) -> Option<f64> {
    v.as_f64()
}

fn ref_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => num(a) == num(b),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| ref_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| ref_eq(v, w)))
        }
        _ => a == b,
    }
}

fn ref_cmp(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => num(a)?.partial_cmp(&num(b)?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn ref_eval(f: &Value, ev: &Value) -> bool {
    let o = f.as_object().unwrap();
    if let Some(fs) = o.get("and") {
        return fs.as_array().unwrap().iter().all(|g| ref_eval(g, ev));
    }
    if let Some(fs) = o.get("or") {
        return fs.as_array().unwrap().iter().any(|g| ref_eval(g, ev));
    }
    if let Some(g) = o.get("not") {
        return !ref_eval(g, ev);
    }
    let found = ref_lookup(ev, o["path"].as_str().unwrap());
    let (op, arg) = o.iter().find(|(k, _)| *k != "path").unwrap();
    use std::cmp::Ordering::*;
    match (op.as_str(), found) {
        ("exists", f) => f.is_some() == arg.as_bool().unwrap(),
        (_, None) => false,
        ("eq", Some(v)) => ref_eq(v, arg),
        ("ne", Some(v)) => !ref_eq(v, arg),
        ("gt", Some(v)) => ref_cmp(v, arg) == Some(Greater),
        ("gte", Some(v)) => matches!(ref_cmp(v, arg), Some(Greater | Equal)),
        ("lt", Some(v)) => ref_cmp(v, arg) == Some(Less),
        ("lte", Some(v)) => matches!(ref_cmp(v, arg), Some(Less | Equal)),
        ("in", Some(v)) => arg.as_array().unwrap().iter().any(|c| ref_eq(v, c)),
        ("prefix", Some(v)) => v
            .as_str()
            .is_some_and(|s| s.starts_with(arg.as_str().unwrap())),
        (other, _) => panic!("generator made unknown op {other}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn engine_agrees_with_reference(f in filter(), ev in value()) {
        let compiled = Filter::from_value(&f).unwrap();
        prop_assert_eq!(compiled.matches(&ev), ref_eval(&f, &ev), "filter {} event {}", f, ev);
        // The raw evaluator on the same event written three ways: compact, pretty (whitespace
        // everywhere) and with every `"a"` token (key or string) spelled `"\u0061"`.
        let compact = serde_json::to_string(&ev).unwrap();
        let pretty = serde_json::to_string_pretty(&ev).unwrap();
        let escaped = compact.replace("\"a\"", "\"\\u0061\"");
        for raw in [&compact, &pretty, &escaped] {
            prop_assert_eq!(
                compiled.matches_raw(raw.as_bytes()),
                ref_eval(&f, &ev),
                "filter {} event {}",
                f,
                raw
            );
        }
    }

    #[test]
    fn compiling_arbitrary_json_never_panics(v in value()) {
        let _ = Filter::from_value(&v);
    }
}
