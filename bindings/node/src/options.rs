//! Options objects of `poll`, `subscribe` and the `Bus` constructor, read strictly.
//!
//! Each options object is first converted to JSON ([`crate::convert`]); then every key is
//! checked against the keys the call knows, so a misspelled option is an `invalid_argument`
//! error naming it instead of being ignored. Keys whose value is `undefined` or `null` count as
//! absent. The values themselves are checked by the engine (`limit` range, `ordering` names,
//! cursor format, filter language), so its errors and messages are the ones callers see.

use serde_json::{Map, Value};

use net::{Error, EventBusConfig, Filter, Ordering, PollRequest, SubscribeFrom, SubscribeOptions};

use crate::convert::{ConvertError, to_json};
use crate::error::{Fail, Res};
use crate::js::{self, Raw, RawEnv};

/// The engine configuration for constructor argument `v`: `undefined` (defaults), JSON text, or
/// an object with the engine's keys (`num_shards`, `ring_capacity`, ...).
pub fn config(env: RawEnv, v: Raw) -> Res<EventBusConfig> {
    if js::is_undefined(env, v)? {
        return Ok(EventBusConfig::default());
    }
    if let Some(text) = js::get_string(env, v)? {
        return Ok(EventBusConfig::from_json(&text)?);
    }
    match to_json(env, v) {
        Ok(value) => Ok(EventBusConfig::from_value(&value)?),
        Err(ConvertError::NotJson(n)) => Err(Fail::Engine(Error::Config {
            key: n.path,
            message: n.message,
        })),
        Err(ConvertError::Fail(f)) => Err(f),
    }
}

/// A filter given as an object or as JSON text.
pub fn filter(env: RawEnv, v: Raw) -> Res<Filter> {
    if let Some(text) = js::get_string(env, v)? {
        return Ok(Filter::from_json(&text)?);
    }
    match to_json(env, v) {
        Ok(value) => Ok(Filter::from_value(&value)?),
        Err(ConvertError::NotJson(n)) => Err(Fail::Engine(Error::InvalidFilter(format!(
            "{}: {}",
            n.path, n.message
        )))),
        Err(ConvertError::Fail(f)) => Err(f),
    }
}

/// The options object `v` of call `call` as JSON, with the filter (if any) compiled from the
/// JS value directly. Rejects keys outside `known`.
fn object(
    env: RawEnv,
    v: Raw,
    call: &str,
    known: &[&str],
) -> Res<(Map<String, Value>, Option<Filter>)> {
    if js::is_undefined(env, v)? || js::type_of(env, v)? == napi::sys::ValueType::napi_null {
        return Ok((Map::new(), None));
    }
    if js::type_of(env, v)? != napi::sys::ValueType::napi_object || js::array_len(env, v)?.is_some()
    {
        return Err(Fail::arg(format!("{call} options must be an object")));
    }
    let mut map = Map::new();
    let mut compiled = None;
    for (key, value) in js::own_keys(env, v)? {
        if !known.contains(&key.as_str()) {
            return Err(Fail::arg(format!(
                "unknown {call} option `{key}` (expected one of: {})",
                known.join(", ")
            )));
        }
        let t = js::type_of(env, value)?;
        if t == napi::sys::ValueType::napi_undefined || t == napi::sys::ValueType::napi_null {
            continue;
        }
        if key == "filter" {
            compiled = Some(filter(env, value)?);
            continue;
        }
        match to_json(env, value) {
            Ok(json) => {
                map.insert(key, json);
            }
            Err(ConvertError::NotJson(n)) => {
                return Err(Fail::arg(format!("{call} option `{key}`: {}", n.message)));
            }
            Err(ConvertError::Fail(f)) => return Err(f),
        }
    }
    Ok((map, compiled))
}

fn uint(map: &Map<String, Value>, key: &str, call: &str) -> Res<Option<usize>> {
    match map.get(key) {
        None => Ok(None),
        Some(v) => v.as_u64().map(|n| Some(n as usize)).ok_or_else(|| {
            Fail::arg(format!(
                "{call} option `{key}` must be a non-negative integer, got {v}"
            ))
        }),
    }
}

fn string<'a>(map: &'a Map<String, Value>, key: &str, call: &str) -> Res<Option<&'a str>> {
    match map.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(v) => Err(Fail::arg(format!(
            "{call} option `{key}` must be a string, got {v}"
        ))),
    }
}

fn ordering(map: &Map<String, Value>, call: &str) -> Res<Ordering> {
    match string(map, "ordering", call)? {
        None => Ok(Ordering::default()),
        Some(s) => Ok(Ordering::parse(s)?),
    }
}

/// `poll({limit, cursor, filter, ordering})`.
pub fn poll(env: RawEnv, v: Raw) -> Res<PollRequest> {
    const CALL: &str = "poll";
    let (map, filter) = object(env, v, CALL, &["limit", "cursor", "filter", "ordering"])?;
    let mut req = PollRequest::default();
    if let Some(limit) = uint(&map, "limit", CALL)? {
        req.limit = limit;
    }
    req.cursor = string(&map, "cursor", CALL)?.map(str::to_owned);
    req.filter = filter;
    req.ordering = ordering(&map, CALL)?;
    Ok(req)
}

/// `subscribe({filter, from, cursor, batch, ordering})`; `from` is `"beginning"` or
/// `"latest"`, `cursor` resumes from a cursor (the two exclude each other).
pub fn subscribe(env: RawEnv, v: Raw) -> Res<SubscribeOptions> {
    const CALL: &str = "subscribe";
    let (map, filter) = object(
        env,
        v,
        CALL,
        &["filter", "from", "cursor", "batch", "ordering"],
    )?;
    let mut opts = SubscribeOptions {
        filter,
        ..SubscribeOptions::default()
    };
    opts.from = match (string(&map, "from", CALL)?, string(&map, "cursor", CALL)?) {
        (Some(_), Some(_)) => {
            return Err(Fail::arg(
                "subscribe options `from` and `cursor` exclude each other",
            ));
        }
        (None, Some(c)) => SubscribeFrom::Cursor(c.to_owned()),
        (None | Some("beginning"), None) => SubscribeFrom::Beginning,
        (Some("latest"), None) => SubscribeFrom::Latest,
        (Some(other), None) => {
            return Err(Fail::arg(format!(
                "unknown subscribe option from `{other}` (expected beginning or latest)"
            )));
        }
    };
    if let Some(batch) = uint(&map, "batch", CALL)? {
        opts.batch = batch;
    }
    opts.ordering = ordering(&map, CALL)?;
    Ok(opts)
}
