//! Argument checking: every bad argument is a typed `net` exception, never a bare pyo3
//! `TypeError` or `OverflowError`.
//!
//! Methods take loosely typed `&Bound<PyAny>` parameters and convert them here, so that a
//! wrong type or an out-of-range number raises `net.InvalidArgumentError` (which is also a
//! `ValueError` and a `TypeError`) with a message naming the argument.

use std::borrow::Cow;
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyInt, PyString};

use net::bus::filter::Filter;
use net::{Error, Ordering};

use crate::convert;
use crate::errors::{Fail, invalid_argument};
use crate::text;

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".to_owned())
}

/// An `int` argument as a `usize`; negative values and other types are rejected.
pub fn usize_arg(obj: &Bound<'_, PyAny>, name: &str) -> Result<usize, Fail> {
    let Ok(int) = obj.cast::<PyInt>() else {
        return Err(invalid_argument(format!(
            "{name} must be an int, got {}",
            type_name(obj)
        )));
    };
    if obj.is_instance_of::<pyo3::types::PyBool>() {
        return Err(invalid_argument(format!("{name} must be an int, got bool")));
    }
    int.extract::<usize>()
        .map_err(|_| invalid_argument(format!("{name} must be a non-negative int, got {int}")))
}

/// An optional timeout in seconds (`None` = no bound).
pub fn timeout_arg(obj: Option<&Bound<'_, PyAny>>) -> Result<Option<Duration>, Fail> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    if obj.is_instance_of::<pyo3::types::PyBool>() {
        return Err(invalid_argument(
            "timeout must be a number of seconds or None, got bool",
        ));
    }
    let secs: f64 = obj.extract().map_err(|_| {
        invalid_argument(format!(
            "timeout must be a number of seconds or None, got {}",
            type_name(obj)
        ))
    })?;
    if secs.is_nan() || secs < 0.0 || !secs.is_finite() {
        return Err(invalid_argument(format!(
            "timeout must be a finite number of seconds >= 0, got {secs}"
        )));
    }
    // Anything beyond a year is as good as unbounded and keeps Instant arithmetic safe.
    Ok(Some(Duration::from_secs_f64(secs.min(365.0 * 86_400.0))))
}

/// A `str` argument.
pub fn str_arg<'a>(obj: &'a Bound<'_, PyAny>, name: &str) -> Result<Cow<'a, str>, Fail> {
    let s = obj
        .cast::<PyString>()
        .map_err(|_| invalid_argument(format!("{name} must be a str, got {}", type_name(obj))))?;
    text::utf8(s)
        .map(Cow::Borrowed)
        .map_err(|e| invalid_argument(format!("{name} is not valid text: {e}")))
}

/// An optional `str` argument.
pub fn opt_str_arg<'a>(
    obj: Option<&'a Bound<'_, PyAny>>,
    name: &str,
) -> Result<Option<Cow<'a, str>>, Fail> {
    match obj.filter(|o| !o.is_none()) {
        None => Ok(None),
        Some(o) => str_arg(o, name).map(Some),
    }
}

/// Bytes of a `str` (UTF-8), `bytes` or `bytearray` argument; `bytes` are borrowed.
pub fn bytes_arg<'a>(obj: &'a Bound<'_, PyAny>, name: &str) -> Result<Cow<'a, [u8]>, Fail> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(Cow::Borrowed(b.as_bytes()));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return match text::utf8(s) {
            Ok(text) => Ok(Cow::Borrowed(text.as_bytes())),
            // A str holding lone surrogates cannot be UTF-8: not valid JSON text either.
            Err(e) => {
                Err(Error::InvalidJson(format!("{name} is not valid UTF-8 text: {e}")).into())
            }
        };
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        // Copied: a bytearray may change while the GIL is released.
        return Ok(Cow::Owned(b.to_vec()));
    }
    Err(invalid_argument(format!(
        "{name} must be str, bytes or bytearray, got {}",
        type_name(obj)
    )))
}

/// A partition key: `str` or `bytes`.
pub fn key_arg<'a>(obj: Option<&'a Bound<'_, PyAny>>) -> Result<Option<Cow<'a, [u8]>>, Fail> {
    match obj.filter(|o| !o.is_none()) {
        None => Ok(None),
        Some(o) => bytes_arg(o, "key").map(Some),
    }
}

/// A filter given as a JSON-like object (dict) or as JSON text; `None` = no filter.
pub fn filter_arg(obj: Option<&Bound<'_, PyAny>>) -> Result<Option<Filter>, Fail> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    if let Ok(text) = obj.cast::<PyString>() {
        let text =
            text::utf8(text).map_err(|e| Error::InvalidFilter(format!("not valid text: {e}")))?;
        return Ok(Some(Filter::from_json(text)?));
    }
    let value = convert::to_value(obj).map_err(|e| Fail {
        error: Error::InvalidFilter(format!("at `{}`: {}", e.path, e.message)),
        cause: e.cause,
    })?;
    Ok(Some(Filter::from_value(&value)?))
}

/// An ordering name (`per_shard` or `insertion_time`), parsed by the engine.
pub fn ordering_arg(obj: Option<&Bound<'_, PyAny>>) -> Result<Ordering, Fail> {
    match opt_str_arg(obj, "ordering")? {
        None => Ok(Ordering::default()),
        Some(name) => Ok(Ordering::parse(&name)?),
    }
}
