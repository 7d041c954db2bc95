//! JS values to JSON values, for configuration objects, filters and options.
//!
//! The rule is JSON's: `null`, booleans, finite numbers, strings, arrays and plain objects.
//! Object keys whose value is `undefined` are treated as absent (as `JSON.stringify` does).
//! Anything JSON cannot hold (functions, symbols, `NaN`, `Infinity`, `undefined` inside an
//! array, typed arrays, dates, nesting deeper than [`MAX_DEPTH`], cycles) is rejected with the
//! dotted path of the offending value, never dropped or coerced. Integral numbers become JSON
//! integers, so the engine's strict parsers see `4` and not `4.0`; a `bigint` that fits in
//! 64 bits becomes an integer too.

use serde_json::{Map, Number, Value};

use crate::error::Fail;
use crate::js::{self, Raw, RawEnv, napi_call};
use napi::sys;

/// Deepest nesting accepted (also what stops cyclic objects).
pub const MAX_DEPTH: usize = 64;

/// Why a JS value is not JSON: the dotted path to it and what it is.
#[derive(Debug)]
pub struct NotJson {
    /// Dotted path of the offending value (`<root>` for the value itself).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// Either a value that is not JSON, or an N-API failure.
pub enum ConvertError {
    /// The value cannot be represented as JSON.
    NotJson(NotJson),
    /// N-API failed (or a getter threw).
    Fail(Fail),
}

impl From<Fail> for ConvertError {
    fn from(f: Fail) -> Self {
        ConvertError::Fail(f)
    }
}

/// Converts `v` to JSON; see the module docs.
pub fn to_json(env: RawEnv, v: Raw) -> Result<Value, ConvertError> {
    let mut path = Vec::new();
    convert(env, v, &mut path)
}

fn not_json(path: &[String], message: impl Into<String>) -> ConvertError {
    ConvertError::NotJson(NotJson {
        path: if path.is_empty() {
            "<root>".to_owned()
        } else {
            path.join(".")
        },
        message: message.into(),
    })
}

fn convert(env: RawEnv, v: Raw, path: &mut Vec<String>) -> Result<Value, ConvertError> {
    if path.len() > MAX_DEPTH {
        return Err(not_json(
            path,
            format!("nested deeper than {MAX_DEPTH} levels (is it cyclic?)"),
        ));
    }
    let t = js::type_of(env, v)?;
    match t {
        sys::ValueType::napi_null => Ok(Value::Null),
        sys::ValueType::napi_boolean => {
            let mut b = false;
            napi_call!(env, sys::napi_get_value_bool(env, v, &mut b));
            Ok(Value::Bool(b))
        }
        sys::ValueType::napi_number => {
            let n = js::get_number(env, v)?.unwrap_or(f64::NAN);
            number(n).ok_or_else(|| not_json(path, format!("{n} is not a JSON number")))
        }
        sys::ValueType::napi_string => {
            Ok(Value::String(js::get_string(env, v)?.unwrap_or_default()))
        }
        sys::ValueType::napi_bigint => {
            let mut n = 0u64;
            let mut lossless = false;
            napi_call!(
                env,
                sys::napi_get_value_bigint_uint64(env, v, &mut n, &mut lossless)
            );
            if lossless {
                return Ok(Value::Number(n.into()));
            }
            let mut i = 0i64;
            napi_call!(
                env,
                sys::napi_get_value_bigint_int64(env, v, &mut i, &mut lossless)
            );
            if lossless {
                Ok(Value::Number(i.into()))
            } else {
                Err(not_json(path, "bigint does not fit in 64 bits"))
            }
        }
        sys::ValueType::napi_object => object(env, v, path),
        other => Err(not_json(
            path,
            format!("a {} is not JSON", js::type_name(other)),
        )),
    }
}

/// A JSON number for `n`: integers (within 2^53) as integers, other finite values as floats.
fn number(n: f64) -> Option<Value> {
    if !n.is_finite() {
        return None;
    }
    const SAFE: f64 = 9_007_199_254_740_992.0; // 2^53
    if n.fract() == 0.0 && n.abs() <= SAFE {
        return Some(if n >= 0.0 {
            Value::Number((n as u64).into())
        } else {
            Value::Number((n as i64).into())
        });
    }
    Number::from_f64(n).map(Value::Number)
}

fn object(env: RawEnv, v: Raw, path: &mut Vec<String>) -> Result<Value, ConvertError> {
    if let Some(len) = js::array_len(env, v)? {
        let mut items = Vec::with_capacity(len as usize);
        for i in 0..len {
            let item = js::element(env, v, i)?;
            path.push(i.to_string());
            if js::is_undefined(env, item)? {
                return Err(not_json(path, "undefined is not JSON"));
            }
            items.push(convert(env, item, path)?);
            path.pop();
        }
        return Ok(Value::Array(items));
    }
    let mut special = false;
    napi_call!(env, sys::napi_is_typedarray(env, v, &mut special));
    if !special {
        napi_call!(env, sys::napi_is_arraybuffer(env, v, &mut special));
    }
    if !special {
        napi_call!(env, sys::napi_is_date(env, v, &mut special));
    }
    if !special {
        napi_call!(env, sys::napi_is_promise(env, v, &mut special));
    }
    if special {
        return Err(not_json(
            path,
            "binary data, dates and promises are not JSON",
        ));
    }
    let mut map = Map::new();
    for (key, value) in js::own_keys(env, v)? {
        if js::is_undefined(env, value)? {
            continue;
        }
        path.push(key.clone());
        let converted = convert(env, value, path)?;
        path.pop();
        map.insert(key, converted);
    }
    Ok(Value::Object(map))
}

#[cfg(test)]
mod tests {
    use super::number;
    use serde_json::json;

    #[test]
    fn integral_numbers_become_integers() {
        assert_eq!(number(4.0), Some(json!(4)));
        assert_eq!(number(-1.0), Some(json!(-1)));
        assert_eq!(number(0.5), Some(json!(0.5)));
        assert_eq!(number(2.5).and_then(|v| v.as_u64()), None);
        assert!(number(f64::NAN).is_none());
        assert!(number(f64::INFINITY).is_none());
        assert_eq!(number(1e20).and_then(|v| v.as_u64()), None);
    }
}
