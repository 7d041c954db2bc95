//! The JSON forms of a poll request and of subscribe options, parsed strictly in one place so
//! every binding (C ABI, Go, anything that passes JSON) accepts and rejects exactly the same
//! texts with the same errors.
//!
//! Poll request: `{"limit": n, "cursor": "..", "filter": {..}, "ordering": "per_shard" |
//! "insertion_time"}`. Subscribe options: `{"filter": {..}, "from": "beginning" | "latest",
//! "cursor": "..", "batch": n, "ordering": ..}` (`from` and `cursor` exclude each other).
//! Every key is optional; absent or `null` takes the default of [`PollRequest::default`] /
//! [`SubscribeOptions::default`]. `limit` and `batch` must be integers in
//! `1..=`[`MAX_POLL_LIMIT`].
//!
//! Promises: an unknown key, a wrong type, an out-of-range number or an unknown enum value is a
//! [`RequestError`] naming the key; a filter is compiled here (so an invalid filter is rejected
//! before any read) and keeps the `invalid_filter` kind. Not checked here: whether a cursor
//! decodes for a given bus (that needs the bus's shard count; `poll` and `subscribe` check it).

use std::fmt;

use serde_json::{Map, Value};

use super::filter::Filter;
use super::poll::{MAX_POLL_LIMIT, Ordering, PollRequest};
use super::subscribe::{SubscribeFrom, SubscribeOptions};
use crate::error::Error;

/// Why a request text was rejected. Converts into [`Error`]: `Filter` keeps the filter's own
/// error (`invalid_filter`), every other variant is `invalid_argument`.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestError {
    /// The text is not JSON.
    NotJson {
        /// The parser's description.
        message: String,
    },
    /// The text is JSON but not an object.
    NotObject,
    /// A key that the form does not have.
    UnknownKey {
        /// The key as written.
        key: String,
    },
    /// A value of the wrong JSON type.
    WrongType {
        /// The key.
        key: String,
        /// What the key takes, for example "a string".
        expected: &'static str,
        /// The value as written (compact JSON).
        got: String,
    },
    /// A number outside the accepted range.
    OutOfRange {
        /// The key.
        key: String,
        /// The value as written.
        got: String,
    },
    /// A string that is not one of the key's values.
    UnknownValue {
        /// The key.
        key: String,
        /// The value as written.
        got: String,
        /// The accepted values, comma-separated.
        expected: &'static str,
    },
    /// Two keys that cannot be given together.
    Conflict {
        /// The key reported.
        key: String,
        /// The key it conflicts with.
        other: &'static str,
    },
    /// The `filter` value does not compile.
    Filter {
        /// The filter compiler's error (kind `invalid_filter`).
        error: Error,
    },
}

impl RequestError {
    /// The key at fault, when the error is about one key ("filter" for a filter error).
    pub fn key(&self) -> Option<&str> {
        match self {
            RequestError::NotJson { .. } | RequestError::NotObject => None,
            RequestError::UnknownKey { key }
            | RequestError::WrongType { key, .. }
            | RequestError::OutOfRange { key, .. }
            | RequestError::UnknownValue { key, .. }
            | RequestError::Conflict { key, .. } => Some(key),
            RequestError::Filter { .. } => Some("filter"),
        }
    }

    /// A stable snake_case name of the variant (used by the cross-language fixture).
    pub fn kind_name(&self) -> &'static str {
        match self {
            RequestError::NotJson { .. } => "not_json",
            RequestError::NotObject => "not_object",
            RequestError::UnknownKey { .. } => "unknown_key",
            RequestError::WrongType { .. } => "wrong_type",
            RequestError::OutOfRange { .. } => "out_of_range",
            RequestError::UnknownValue { .. } => "unknown_value",
            RequestError::Conflict { .. } => "conflict",
            RequestError::Filter { .. } => "invalid_filter",
        }
    }
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::NotJson { message } => {
                write!(f, "the request is not valid JSON: {message}")
            }
            RequestError::NotObject => f.write_str("the request must be a JSON object"),
            RequestError::UnknownKey { key } => write!(f, "unknown key `{key}`"),
            RequestError::WrongType { key, expected, got } => {
                write!(f, "`{key}` must be {expected}, got {got}")
            }
            RequestError::OutOfRange { key, got } => {
                write!(
                    f,
                    "`{key}` must be an integer in 1..={MAX_POLL_LIMIT}, got {got}"
                )
            }
            RequestError::UnknownValue { key, got, expected } => {
                write!(
                    f,
                    "unknown `{key}` value {got} (expected one of: {expected})"
                )
            }
            RequestError::Conflict { key, other } => {
                write!(f, "`{key}` and `{other}` cannot both be given")
            }
            RequestError::Filter { error } => write!(f, "`filter`: {error}"),
        }
    }
}

impl std::error::Error for RequestError {}

impl From<RequestError> for Error {
    fn from(e: RequestError) -> Error {
        match e {
            RequestError::Filter { error } => error,
            other => Error::InvalidArgument(other.to_string()),
        }
    }
}

/// Parses `text` as a JSON object; `None` reads as `{}`.
fn object(text: Option<&str>) -> Result<Map<String, Value>, RequestError> {
    let Some(text) = text else {
        return Ok(Map::new());
    };
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(RequestError::NotObject),
        Err(e) => Err(RequestError::NotJson {
            message: e.to_string(),
        }),
    }
}

/// Checks every key against `allowed` before any value is read, so an unknown key is reported
/// whatever the order of the object. Returns the non-null entries.
fn known<'m>(
    map: &'m Map<String, Value>,
    allowed: &[&str],
) -> Result<Vec<(&'m str, &'m Value)>, RequestError> {
    let mut out = Vec::with_capacity(map.len());
    for (key, value) in map {
        if !allowed.contains(&key.as_str()) {
            return Err(RequestError::UnknownKey { key: key.clone() });
        }
        if !value.is_null() {
            out.push((key.as_str(), value));
        }
    }
    Ok(out)
}

fn count(key: &str, v: &Value) -> Result<usize, RequestError> {
    if !v.is_number() {
        return Err(RequestError::WrongType {
            key: key.to_owned(),
            expected: "an integer",
            got: v.to_string(),
        });
    }
    v.as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .filter(|n| (1..=MAX_POLL_LIMIT).contains(n))
        .ok_or_else(|| RequestError::OutOfRange {
            key: key.to_owned(),
            got: v.to_string(),
        })
}

fn string<'v>(key: &str, v: &'v Value) -> Result<&'v str, RequestError> {
    v.as_str().ok_or_else(|| RequestError::WrongType {
        key: key.to_owned(),
        expected: "a string",
        got: v.to_string(),
    })
}

fn ordering(key: &str, v: &Value) -> Result<Ordering, RequestError> {
    match string(key, v)? {
        "per_shard" => Ok(Ordering::PerShard),
        "insertion_time" => Ok(Ordering::InsertionTime),
        _ => Err(RequestError::UnknownValue {
            key: key.to_owned(),
            got: v.to_string(),
            expected: "per_shard, insertion_time",
        }),
    }
}

fn filter(v: &Value) -> Result<Filter, RequestError> {
    Filter::from_value(v).map_err(|error| RequestError::Filter { error })
}

const POLL_KEYS: &[&str] = &["limit", "cursor", "filter", "ordering"];
const SUBSCRIBE_KEYS: &[&str] = &["filter", "from", "cursor", "batch", "ordering"];

/// Parses a poll request; `None` (for example a NULL pointer in C) is the default request.
pub fn parse_poll_request(text: Option<&str>) -> Result<PollRequest, RequestError> {
    let map = object(text)?;
    let mut req = PollRequest::default();
    for (key, v) in known(&map, POLL_KEYS)? {
        match key {
            "limit" => req.limit = count(key, v)?,
            "cursor" => req.cursor = Some(string(key, v)?.to_owned()),
            "filter" => req.filter = Some(filter(v)?),
            _ => req.ordering = ordering(key, v)?,
        }
    }
    Ok(req)
}

/// Parses subscribe options; `None` is the default options.
pub fn parse_subscribe_options(text: Option<&str>) -> Result<SubscribeOptions, RequestError> {
    let map = object(text)?;
    let mut opts = SubscribeOptions::default();
    let (mut from, mut cursor) = (None, None);
    for (key, v) in known(&map, SUBSCRIBE_KEYS)? {
        match key {
            "filter" => opts.filter = Some(filter(v)?),
            "from" => {
                from = Some(match string(key, v)? {
                    "beginning" => SubscribeFrom::Beginning,
                    "latest" => SubscribeFrom::Latest,
                    _ => {
                        return Err(RequestError::UnknownValue {
                            key: key.to_owned(),
                            got: v.to_string(),
                            expected: "beginning, latest (pass a cursor as \"cursor\")",
                        });
                    }
                })
            }
            "cursor" => cursor = Some(string(key, v)?.to_owned()),
            "batch" => opts.batch = count(key, v)?,
            _ => opts.ordering = ordering(key, v)?,
        }
    }
    opts.from = match (from, cursor) {
        (Some(_), Some(_)) => {
            return Err(RequestError::Conflict {
                key: "cursor".into(),
                other: "from",
            });
        }
        (Some(from), None) => from,
        (None, Some(c)) => SubscribeFrom::Cursor(c),
        (None, None) => SubscribeFrom::Beginning,
    };
    Ok(opts)
}

impl PollRequest {
    /// Parses the strict JSON form of a poll request (see the module docs).
    pub fn from_json(text: &str) -> Result<PollRequest, RequestError> {
        parse_poll_request(Some(text))
    }
}

impl SubscribeOptions {
    /// Parses the strict JSON form of subscribe options (see the module docs).
    pub fn from_json(text: &str) -> Result<SubscribeOptions, RequestError> {
        parse_subscribe_options(Some(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    const CASES: &str = include_str!("../../../tests/cross_lang/bus/poll_request_cases.json");

    fn cases(section: &str) -> Vec<Value> {
        let all: Value = serde_json::from_str(CASES).expect("fixture is JSON");
        all[section]
            .as_array()
            .expect("section is an array")
            .clone()
    }

    fn ordering_name(o: Ordering) -> &'static str {
        o.as_str()
    }

    #[test]
    fn fixture_valid_requests_normalize() {
        let valid = cases("valid");
        assert!(valid.len() >= 5, "fixture has too few valid cases");
        for case in valid {
            let input = case["input"].as_str().expect("input is a string");
            let want = &case["normalized"];
            let req = PollRequest::from_json(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(req.limit as u64, want["limit"].as_u64().unwrap(), "{input}");
            assert_eq!(req.cursor.as_deref(), want["cursor"].as_str(), "{input}");
            assert_eq!(ordering_name(req.ordering), want["ordering"], "{input}");
            let want_filter = match &want["filter"] {
                Value::Null => None,
                f => Some(Filter::from_value(f).expect("fixture filter compiles")),
            };
            assert_eq!(req.filter, want_filter, "{input}");
        }
    }

    #[test]
    fn fixture_invalid_requests_name_kind_and_key() {
        let invalid = cases("invalid");
        assert!(invalid.len() >= 10, "fixture has too few invalid cases");
        for case in invalid {
            let input = case["input"].as_str().expect("input is a string");
            let err = PollRequest::from_json(input).expect_err(input);
            assert_eq!(err.kind_name(), case["error"], "{input}: {err}");
            assert_eq!(err.key(), case["key"].as_str(), "{input}: {err}");
            let engine: Error = err.clone().into();
            assert_eq!(
                engine.kind().as_str(),
                case["engine_kind"],
                "{input}: {engine}"
            );
            if let Some(key) = err.key() {
                assert!(engine.to_string().contains(key), "{input}: {engine}");
            }
        }
    }

    #[test]
    fn absent_text_is_the_default() {
        let req = parse_poll_request(None).unwrap();
        let def = PollRequest::default();
        assert_eq!(
            (req.limit, req.cursor, req.ordering),
            (def.limit, def.cursor, def.ordering)
        );
        assert!(req.filter.is_none());
    }

    #[test]
    fn unknown_key_wins_over_a_bad_value_whatever_the_order() {
        let err = PollRequest::from_json(r#"{"limit":-1,"zzz":1}"#).unwrap_err();
        assert_eq!(err, RequestError::UnknownKey { key: "zzz".into() });
        let err = PollRequest::from_json(r#"{"aaa":1,"limit":-1}"#).unwrap_err();
        assert_eq!(err, RequestError::UnknownKey { key: "aaa".into() });
    }

    #[test]
    fn subscribe_options_parse() {
        let o = SubscribeOptions::from_json(r#"{"from":"latest","batch":7}"#).unwrap();
        assert_eq!((o.from, o.batch), (SubscribeFrom::Latest, 7));
        let o =
            SubscribeOptions::from_json(r#"{"cursor":"abc","ordering":"insertion_time"}"#).unwrap();
        assert_eq!(o.from, SubscribeFrom::Cursor("abc".into()));
        assert_eq!(o.ordering, Ordering::InsertionTime);
        let o = parse_subscribe_options(None).unwrap();
        assert_eq!((o.from, o.batch), (SubscribeFrom::Beginning, 256));
    }

    #[test]
    fn subscribe_options_reject() {
        let err = |t: &str| SubscribeOptions::from_json(t).unwrap_err();
        assert_eq!(
            err(r#"{"cursor":"abc","from":"latest"}"#),
            RequestError::Conflict {
                key: "cursor".into(),
                other: "from"
            }
        );
        assert_eq!(err(r#"{"from":"x"}"#).kind_name(), "unknown_value");
        assert_eq!(err(r#"{"nope":1}"#).key(), Some("nope"));
        assert_eq!(err(r#"{"batch":0}"#).kind_name(), "out_of_range");
        assert_eq!(err(r#"{"batch":"1"}"#).kind_name(), "wrong_type");
        let filter = Error::from(err(r#"{"filter":{"path":"a"}}"#));
        assert_eq!(filter.kind(), ErrorKind::InvalidFilter);
    }
}
