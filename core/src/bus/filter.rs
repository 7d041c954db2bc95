//! The JSON filter language, compiled once and evaluated inside the engine.
//!
//! Forms (see `docs/bus.md`):
//! `{"path":"a.b","eq":V}`, `ne`, `gt`/`gte`/`lt`/`lte` (both numbers or both strings), `in: [..]`,
//! `exists: bool`, `prefix: "..."`, `{"and":[..]}`, `{"or":[..]}`, `{"not":F}`.
//!
//! Semantics: a path is a dot path; a segment made of digits indexes an array (and is a plain
//! key on an object). Every comparison, including `ne`, is false when the path is missing; use
//! `{"not":{..}}` to match missing paths. Numbers compare by value (`1` equals `1.0`). An empty
//! `and` is true, an empty `or` is false. Promise: a filter that compiles never panics when it
//! is evaluated, on any event.

use std::cmp::Ordering;
use std::fmt;

use serde_json::Value;

use crate::error::{Error, Result};

mod raw;

/// Deepest nesting of `and`/`or`/`not` accepted, so hostile filters cannot exhaust the stack.
pub const MAX_FILTER_DEPTH: usize = 32;

/// A parsed dot path such as `user.tags.0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    segments: Vec<String>,
}

/// Why a path string is invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError(String);

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Path {
    /// Parses a dot path; empty paths and empty segments are rejected.
    pub fn parse(text: &str) -> std::result::Result<Path, PathError> {
        if text.is_empty() {
            return Err(PathError("path is empty".into()));
        }
        let segments: Vec<String> = text.split('.').map(str::to_owned).collect();
        if segments.iter().any(String::is_empty) {
            return Err(PathError(format!("path `{text}` has an empty segment")));
        }
        Ok(Path { segments })
    }

    /// Looks the path up in `value`.
    pub fn lookup<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        let mut cur = value;
        for seg in &self.segments {
            cur = match cur {
                Value::Object(map) => map.get(seg)?,
                Value::Array(items) => {
                    if !seg.bytes().all(|b| b.is_ascii_digit()) {
                        return None;
                    }
                    items.get(seg.parse::<usize>().ok()?)?
                }
                _ => return None,
            };
        }
        Some(cur)
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// Equal.
    Eq,
    /// Not equal (false if the path is missing).
    Ne,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Gte,
    /// Less than.
    Lt,
    /// Less than or equal.
    Lte,
}

/// A compiled filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Compare the value at `path` with `value`.
    Cmp {
        /// Where to look.
        path: Path,
        /// How to compare.
        op: CmpOp,
        /// What to compare with.
        value: Value,
    },
    /// The value at `path` equals one of `values`.
    In {
        /// Where to look.
        path: Path,
        /// Candidates.
        values: Vec<Value>,
    },
    /// The path is present (`true`) or absent (`false`).
    Exists {
        /// Where to look.
        path: Path,
        /// Whether presence or absence matches.
        exists: bool,
    },
    /// The value at `path` is a string starting with `prefix`.
    Prefix {
        /// Where to look.
        path: Path,
        /// Required prefix.
        prefix: String,
    },
    /// All sub-filters match.
    And(Vec<Filter>),
    /// At least one sub-filter matches.
    Or(Vec<Filter>),
    /// The sub-filter does not match.
    Not(Box<Filter>),
}

impl Filter {
    /// Compiles filter JSON text.
    pub fn from_json(text: &str) -> Result<Filter> {
        let v: Value = serde_json::from_str(text)
            .map_err(|e| Error::InvalidFilter(format!("not valid JSON: {e}")))?;
        Self::from_value(&v)
    }

    /// Compiles a parsed filter value.
    pub fn from_value(v: &Value) -> Result<Filter> {
        compile(v, 0)
    }

    /// Evaluates the filter against a parsed event.
    pub fn matches(&self, event: &Value) -> bool {
        match self {
            Filter::Cmp { path, op, value } => match path.lookup(event) {
                None => false,
                Some(found) => match op {
                    CmpOp::Eq => json_eq(found, value),
                    CmpOp::Ne => !json_eq(found, value),
                    CmpOp::Gt => order(found, value) == Some(Ordering::Greater),
                    CmpOp::Gte => matches!(
                        order(found, value),
                        Some(Ordering::Greater | Ordering::Equal)
                    ),
                    CmpOp::Lt => order(found, value) == Some(Ordering::Less),
                    CmpOp::Lte => {
                        matches!(order(found, value), Some(Ordering::Less | Ordering::Equal))
                    }
                },
            },
            Filter::In { path, values } => path
                .lookup(event)
                .is_some_and(|found| values.iter().any(|v| json_eq(found, v))),
            Filter::Exists { path, exists } => path.lookup(event).is_some() == *exists,
            Filter::Prefix { path, prefix } => path
                .lookup(event)
                .and_then(Value::as_str)
                .is_some_and(|s| s.starts_with(prefix.as_str())),
            Filter::And(fs) => fs.iter().all(|f| f.matches(event)),
            Filter::Or(fs) => fs.iter().any(|f| f.matches(event)),
            Filter::Not(f) => !f.matches(event),
        }
    }

    /// Evaluates the filter against raw event JSON without parsing the whole event: only the
    /// values at the filter's paths are looked at.
    ///
    /// `raw` must be valid JSON, as every event the bus stores is (validated at ingest); then
    /// the result equals [`Filter::matches`] on the parsed event. On other bytes the result is
    /// unspecified, but evaluation never panics.
    pub fn matches_raw(&self, raw: &[u8]) -> bool {
        raw::matches(self, raw)
    }
}

fn compile(v: &Value, depth: usize) -> Result<Filter> {
    if depth > MAX_FILTER_DEPTH {
        return Err(Error::InvalidFilter(format!(
            "nested deeper than {MAX_FILTER_DEPTH} levels"
        )));
    }
    let obj = v
        .as_object()
        .ok_or_else(|| Error::InvalidFilter(format!("a filter must be an object, got {v}")))?;
    for combinator in ["and", "or", "not"] {
        if let Some(inner) = obj.get(combinator) {
            if obj.len() != 1 {
                return Err(Error::InvalidFilter(format!(
                    "`{combinator}` must be the only key of its object"
                )));
            }
            return match combinator {
                "not" => Ok(Filter::Not(Box::new(compile(inner, depth + 1)?))),
                _ => {
                    let items = inner.as_array().ok_or_else(|| {
                        Error::InvalidFilter(format!("`{combinator}` takes an array of filters"))
                    })?;
                    let fs = items
                        .iter()
                        .map(|f| compile(f, depth + 1))
                        .collect::<Result<Vec<_>>>()?;
                    Ok(if combinator == "and" {
                        Filter::And(fs)
                    } else {
                        Filter::Or(fs)
                    })
                }
            };
        }
    }
    let path_text = obj
        .get("path")
        .ok_or_else(|| Error::InvalidFilter("missing `path` (or and/or/not)".into()))?
        .as_str()
        .ok_or_else(|| Error::InvalidFilter("`path` must be a string".into()))?;
    let path = Path::parse(path_text).map_err(|e| Error::InvalidFilter(e.to_string()))?;
    let ops: Vec<(&String, &Value)> = obj.iter().filter(|(k, _)| *k != "path").collect();
    let [(op, operand)] = ops.as_slice() else {
        return Err(Error::InvalidFilter(format!(
            "expected exactly one operator next to `path`, got {}",
            ops.len()
        )));
    };
    let cmp = |op: CmpOp| -> Result<Filter> {
        if matches!(op, CmpOp::Gt | CmpOp::Gte | CmpOp::Lt | CmpOp::Lte)
            && !(operand.is_number() || operand.is_string())
        {
            return Err(Error::InvalidFilter(
                "ordering operators take a number or a string".into(),
            ));
        }
        Ok(Filter::Cmp {
            path: path.clone(),
            op,
            value: (*operand).clone(),
        })
    };
    match op.as_str() {
        "eq" => cmp(CmpOp::Eq),
        "ne" => cmp(CmpOp::Ne),
        "gt" => cmp(CmpOp::Gt),
        "gte" => cmp(CmpOp::Gte),
        "lt" => cmp(CmpOp::Lt),
        "lte" => cmp(CmpOp::Lte),
        "in" => Ok(Filter::In {
            path,
            values: operand
                .as_array()
                .ok_or_else(|| Error::InvalidFilter("`in` takes an array".into()))?
                .clone(),
        }),
        "exists" => Ok(Filter::Exists {
            path,
            exists: operand
                .as_bool()
                .ok_or_else(|| Error::InvalidFilter("`exists` takes a boolean".into()))?,
        }),
        "prefix" => Ok(Filter::Prefix {
            path,
            prefix: operand
                .as_str()
                .ok_or_else(|| Error::InvalidFilter("`prefix` takes a string".into()))?
                .to_owned(),
        }),
        other => Err(Error::InvalidFilter(format!("unknown operator `{other}`"))),
    }
}

/// JSON equality where numbers compare by value.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => order(a, b) == Some(Ordering::Equal),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Order of two numbers or two strings; `None` for anything else.
fn order(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if let (Some(p), Some(q)) = (x.as_i64(), y.as_i64()) {
                return Some(p.cmp(&q));
            }
            if let (Some(p), Some(q)) = (x.as_u64(), y.as_u64()) {
                return Some(p.cmp(&q));
            }
            x.as_f64()?.partial_cmp(&y.as_f64()?)
        }
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(filter: Value, event: Value) -> bool {
        Filter::from_value(&filter).unwrap().matches(&event)
    }

    #[test]
    fn operators() {
        let e = json!({"a":{"b":5,"s":"hello"},"arr":[10,{"x":true}],"n":null});
        assert!(m(json!({"path":"a.b","eq":5}), e.clone()));
        assert!(m(json!({"path":"a.b","eq":5.0}), e.clone()));
        assert!(m(json!({"path":"a.b","ne":6}), e.clone()));
        assert!(!m(json!({"path":"zz","ne":6}), e.clone()));
        assert!(m(json!({"path":"a.b","gt":4}), e.clone()));
        assert!(m(json!({"path":"a.b","lte":5}), e.clone()));
        assert!(m(json!({"path":"a.s","gt":"hell"}), e.clone()));
        assert!(!m(json!({"path":"a.s","gt":3}), e.clone()));
        assert!(m(json!({"path":"a.b","in":[1,5]}), e.clone()));
        assert!(m(json!({"path":"n","exists":true}), e.clone()));
        assert!(m(json!({"path":"q","exists":false}), e.clone()));
        assert!(m(json!({"path":"a.s","prefix":"he"}), e.clone()));
        assert!(m(json!({"path":"arr.0","eq":10}), e.clone()));
        assert!(m(json!({"path":"arr.1.x","eq":true}), e.clone()));
        assert!(m(
            json!({"and":[{"path":"a.b","eq":5},{"not":{"path":"a.b","eq":6}}]}),
            e.clone()
        ));
        assert!(m(
            json!({"or":[{"path":"a.b","eq":6},{"path":"arr.0","gte":10}]}),
            e.clone()
        ));
        assert!(m(json!({"and":[]}), e.clone()));
        assert!(!m(json!({"or":[]}), e));
    }

    #[test]
    fn invalid_filters_are_rejected() {
        for bad in [
            json!(5),
            json!({}),
            json!({"path":"a"}),
            json!({"path":"a","eq":1,"ne":2}),
            json!({"path":"","eq":1}),
            json!({"path":"a..b","eq":1}),
            json!({"path":"a","between":1}),
            json!({"path":"a","gt":[1]}),
            json!({"path":"a","in":3}),
            json!({"path":"a","exists":"yes"}),
            json!({"path":"a","prefix":1}),
            json!({"and":{}}),
            json!({"and":[], "or":[]}),
            json!({"not":[1]}),
        ] {
            let err = Filter::from_value(&bad).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::InvalidFilter, "{bad}");
        }
        let mut deep = json!({"path":"a","eq":1});
        for _ in 0..40 {
            deep = json!({ "not": deep });
        }
        assert!(Filter::from_value(&deep).is_err());
        assert!(Filter::from_json("{").is_err());
    }
}
