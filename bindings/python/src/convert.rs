//! Python values to JSON and back.
//!
//! Events given as Python objects are serialized here, in Rust, straight into the event's
//! bytes (no `json.dumps`, no intermediate tree). The rule is JSON's: `None`, `bool`, `int`,
//! `float` (finite), `str`, `list`/`tuple` and `dict` with `str` keys (subclasses included).
//! Anything else is handed to the optional `default` callable (as `json.dumps` does), whose
//! result is serialized in its place; without one it is an error. Errors name the dotted path
//! of the offending value (`<root>` for the value itself), the form the filter language uses.
//! Integers of any size are written exactly; NaN and infinities are rejected (JSON has no
//! such numbers). Nesting deeper than [`MAX_DEPTH`] (a cycle, usually) is rejected.
//!
//! The same serializer turns configuration and filter objects into `serde_json::Value`s for
//! the engine's strict parsers, and [`value_to_py`] goes the other way for stats and reports.

use std::cell::RefCell;
use std::fmt::Display;

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde::Serialize;
use serde::ser::{Error as _, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

use net::{Error, Event};

use crate::errors::Fail;
use crate::text;

/// Deepest nesting accepted; the engine's JSON validator has the same bound.
pub const MAX_DEPTH: usize = 128;

/// One step of the path to a value that failed to serialize.
enum Seg {
    Key(String),
    Index(usize),
}

/// State shared by one serialization: where it failed and the Python error behind it.
#[derive(Default)]
struct Trace {
    /// Path from the failing value up to the root (pushed while unwinding).
    path: RefCell<Vec<Seg>>,
    /// The first Python exception raised during serialization.
    cause: RefCell<Option<PyErr>>,
}

impl Trace {
    fn dotted(&self) -> String {
        let path = self.path.borrow();
        if path.is_empty() {
            return "<root>".to_owned();
        }
        path.iter()
            .rev()
            .map(|s| match s {
                Seg::Key(k) => k.clone(),
                Seg::Index(i) => i.to_string(),
            })
            .collect::<Vec<_>>()
            .join(".")
    }

    fn python_error<E: serde::ser::Error>(&self, err: PyErr, what: impl Display) -> E {
        let msg = format!("{what}: {err}");
        self.cause.borrow_mut().get_or_insert(err);
        E::custom(msg)
    }
}

/// A Python object viewed as something serde can serialize.
struct PyJson<'a, 'py> {
    obj: &'a Bound<'py, PyAny>,
    default: Option<&'a Bound<'py, PyAny>>,
    trace: &'a Trace,
    depth: usize,
}

impl<'a, 'py> PyJson<'a, 'py> {
    fn child<'b>(&'b self, obj: &'b Bound<'py, PyAny>) -> PyJson<'b, 'py>
    where
        'a: 'b,
    {
        PyJson {
            obj,
            default: self.default,
            trace: self.trace,
            depth: self.depth + 1,
        }
    }

    fn seq<'i, S: Serializer>(
        &self,
        s: S,
        len: usize,
        items: impl Iterator<Item = Bound<'py, PyAny>>,
    ) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(len))?;
        for (i, item) in items.enumerate() {
            if let Err(e) = seq.serialize_element(&self.child(&item)) {
                self.trace.path.borrow_mut().push(Seg::Index(i));
                return Err(e);
            }
        }
        seq.end()
    }

    fn map<S: Serializer>(&self, s: S, dict: &Bound<'py, PyDict>) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(dict.len()))?;
        for (k, v) in dict.iter() {
            let Ok(ks) = k.cast::<PyString>() else {
                let ty = type_name(&k);
                return Err(S::Error::custom(format!(
                    "dict keys must be str, found a key of type {ty}"
                )));
            };
            let key = text::utf8(ks).map_err(|e| {
                self.trace
                    .python_error::<S::Error>(e, "dict key is not valid text")
            })?;
            if let Err(e) = map.serialize_entry(key, &self.child(&v)) {
                self.trace.path.borrow_mut().push(Seg::Key(key.to_owned()));
                return Err(e);
            }
        }
        map.end()
    }
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".to_owned())
}

impl Serialize for PyJson<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let obj = self.obj;
        if self.depth > MAX_DEPTH {
            return Err(S::Error::custom(format!(
                "nested deeper than {MAX_DEPTH} levels (is it cyclic?)"
            )));
        }
        if obj.is_none() {
            return s.serialize_unit();
        }
        if let Ok(text) = obj.cast::<PyString>() {
            let text = text::utf8(text).map_err(|e| {
                self.trace
                    .python_error::<S::Error>(e, "str is not valid text")
            })?;
            return s.serialize_str(text);
        }
        if let Ok(b) = obj.cast::<PyBool>() {
            return s.serialize_bool(b.is_true());
        }
        if let Ok(int) = obj.cast::<PyInt>() {
            if let Ok(v) = int.extract::<i64>() {
                return s.serialize_i64(v);
            }
            if let Ok(v) = int.extract::<u64>() {
                return s.serialize_u64(v);
            }
            // Beyond 64 bits: write the exact digits as a raw JSON number.
            let digits = int.str().map_err(|e| {
                self.trace
                    .python_error::<S::Error>(e, "int has no text form")
            })?;
            let raw = serde_json::value::RawValue::from_string(digits.to_string())
                .map_err(S::Error::custom)?;
            return raw.serialize(s);
        }
        if let Ok(f) = obj.cast::<PyFloat>() {
            let v = f.value();
            if !v.is_finite() {
                return Err(S::Error::custom(format!(
                    "{v} is not a JSON number (NaN and infinities are not allowed)"
                )));
            }
            return s.serialize_f64(v);
        }
        if let Ok(dict) = obj.cast::<PyDict>() {
            return self.map(s, dict);
        }
        if let Ok(list) = obj.cast::<PyList>() {
            return self.seq(s, list.len(), list.iter());
        }
        if let Ok(tuple) = obj.cast::<PyTuple>() {
            return self.seq(s, tuple.len(), tuple.iter());
        }
        let ty = type_name(obj);
        match self.default {
            Some(default) => {
                let replaced = default.call1((obj,)).map_err(|e| {
                    self.trace
                        .python_error::<S::Error>(e, format_args!("default() failed on {ty}"))
                })?;
                if replaced.is(obj) {
                    return Err(S::Error::custom(format!(
                        "default() returned the {ty} object it was given"
                    )));
                }
                self.child(&replaced).serialize(s)
            }
            None => Err(S::Error::custom(format!(
                "object of type {ty} is not JSON serializable"
            ))),
        }
    }
}

/// A serialization failure: the path of the offending value, what is wrong, and the Python
/// exception behind it, if any.
pub struct NotJson {
    /// Dotted path of the offending value.
    pub path: String,
    /// What is wrong with it.
    pub message: String,
    /// A Python exception raised while serializing (by `default` or by `str` decoding).
    pub cause: Option<PyErr>,
}

impl NotJson {
    fn new(trace: Trace, message: impl Display) -> NotJson {
        let path = trace.dotted();
        NotJson {
            path,
            message: message.to_string(),
            cause: trace.cause.into_inner(),
        }
    }
}

/// Serializes a Python object into an event (see the module docs for the rules).
///
/// The engine's `Event::from_serialize` drives the serializer, so the bytes are written once
/// and not validated again (serializer output is valid JSON by construction).
pub fn to_event(obj: &Bound<'_, PyAny>, default: Option<&Bound<'_, PyAny>>) -> Result<Event, Fail> {
    let trace = Trace::default();
    let json = PyJson {
        obj,
        default,
        trace: &trace,
        depth: 0,
    };
    match Event::from_serialize(&json) {
        Ok(event) => Ok(event),
        Err(Error::InvalidArgument(message)) => {
            let path = trace.dotted();
            Err(Fail {
                error: Error::InvalidArgument(format!("{message} (at `{path}`)")),
                cause: trace.cause.into_inner(),
            })
        }
        Err(other) => Err(other.into()),
    }
}

/// Converts a Python object (JSON types only) into a `serde_json::Value`.
pub fn to_value(obj: &Bound<'_, PyAny>) -> Result<Value, NotJson> {
    let trace = Trace::default();
    let json = PyJson {
        obj,
        default: None,
        trace: &trace,
        depth: 0,
    };
    match serde_json::to_value(&json) {
        Ok(v) => Ok(v),
        Err(e) => Err(NotJson::new(trace, e)),
    }
}

/// Converts a JSON value into the matching Python object.
pub fn value_to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(value_to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, item) in map {
                dict.set_item(k, value_to_py(py, item)?)?;
            }
            dict.into_any()
        }
    })
}

/// Serializes a serde value (stats, reports) into Python objects.
pub fn serialize_to_py<'py, T: Serialize>(
    py: Python<'py>,
    value: &T,
) -> PyResult<Bound<'py, PyAny>> {
    let v = serde_json::to_value(value)
        .map_err(|e| PyErr::from(Fail::from(Error::Internal(e.to_string()))))?;
    value_to_py(py, &v)
}
