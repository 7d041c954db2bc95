//! Engine errors as Python exceptions.
//!
//! One exception class per stable engine [`ErrorKind`], all derived from `net.NetError`. The
//! class name is the kind in CamelCase plus `Error` (`invalid_json` -> `InvalidJsonError`);
//! each class carries the kind's stable `kind` string and `code` as class attributes, pinned in
//! `tests/cross_lang/errors.json`. Some classes also derive from the builtin exception a Python
//! user would reach for (`ValueError`, `TypeError`, `TimeoutError`), so idiomatic `except`
//! clauses keep working. A `ConfigError` instance has a `key` attribute naming the offending
//! configuration key; every other instance has `key = None`.
//!
//! The classes are created once, when the module is initialized, with `type(...)` so that
//! several builtin bases are possible; they are kept in a [`PyOnceLock`] for raising.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};

use net::{Error, ErrorKind};

/// The exception classes, created at module initialization.
struct Classes {
    base: Py<PyType>,
    by_kind: Vec<(ErrorKind, Py<PyType>)>,
}

static CLASSES: PyOnceLock<Classes> = PyOnceLock::new();

/// Extra builtin bases of each kind's class (after `NetError`).
fn builtin_bases(kind: ErrorKind) -> &'static [&'static str] {
    match kind {
        ErrorKind::InvalidArgument => &["ValueError", "TypeError"],
        ErrorKind::InvalidJson
        | ErrorKind::Config
        | ErrorKind::InvalidCursor
        | ErrorKind::InvalidFilter
        | ErrorKind::PayloadTooLarge => &["ValueError"],
        ErrorKind::Timeout => &["TimeoutError"],
        _ => &[],
    }
}

/// A short description of each kind, used as the class docstring.
fn describe(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Internal => "A bug or a caught panic inside the engine.",
        ErrorKind::InvalidArgument => "An argument was missing, of the wrong type or out of range.",
        ErrorKind::InvalidJson => "An event is not valid JSON.",
        ErrorKind::Config => {
            "A configuration key is unknown, mistyped or out of range; `key` names it."
        }
        ErrorKind::Backpressure => "The shard's ring is full and the mode is `fail_producer`.",
        ErrorKind::Dropped => "The event was dropped by `drop_newest` or `sample` (and counted).",
        ErrorKind::Timeout => {
            "A bounded wait expired (`block` backpressure, flush, subscription wait)."
        }
        ErrorKind::ShuttingDown => "The bus is shutting down or shut down.",
        ErrorKind::InvalidCursor => {
            "A cursor is malformed, corrupt or belongs to another bus layout."
        }
        ErrorKind::InvalidFilter => "A filter is not valid in the filter language.",
        ErrorKind::PayloadTooLarge => "An event is larger than `max_event_bytes`.",
        ErrorKind::Adapter => "The adapter (storage backend) failed.",
        _ => "An engine error.",
    }
}

/// The Python class name of a kind: `invalid_json` -> `InvalidJsonError`.
pub fn class_name(kind: ErrorKind) -> String {
    let mut name = String::new();
    for part in kind.as_str().split('_') {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            name.extend(first.to_uppercase());
            name.push_str(chars.as_str());
        }
    }
    name.push_str("Error");
    name
}

/// Creates one exception class with `type(name, bases, namespace)`.
fn make_class<'py>(
    type_fn: &Bound<'py, PyAny>,
    name: &str,
    bases: Bound<'py, PyTuple>,
    doc: &str,
    kind: ErrorKind,
) -> PyResult<Bound<'py, PyType>> {
    let py = type_fn.py();
    let ns = PyDict::new(py);
    ns.set_item("__module__", "net")?;
    ns.set_item("__doc__", doc)?;
    ns.set_item("kind", kind.as_str())?;
    ns.set_item("code", kind.code())?;
    ns.set_item("key", py.None())?;
    let cls = type_fn.call1((name, bases, ns))?;
    cls.cast_into::<PyType>().map_err(PyErr::from)
}

/// Creates the classes and adds them to module `m`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let builtins = py.import("builtins")?;
    let type_fn = builtins.getattr("type")?;
    let exception = builtins.getattr("Exception")?;
    let base = make_class(
        &type_fn,
        "NetError",
        PyTuple::new(py, [exception])?,
        "Base class of every net-mesh engine error. `kind` and `code` are the stable error \
         kind and code (see tests/cross_lang/errors.json); `key` names the offending \
         configuration key for a ConfigError and is None otherwise. On NetError itself, \
         `kind` and `code` are those of `internal`.",
        ErrorKind::Internal,
    )?;
    m.add("NetError", &base)?;
    let mut by_kind = Vec::with_capacity(ErrorKind::ALL.len());
    for kind in ErrorKind::ALL {
        let mut bases = vec![base.clone().into_any()];
        for b in builtin_bases(kind) {
            bases.push(builtins.getattr(*b)?);
        }
        let name = class_name(kind);
        let cls = make_class(
            &type_fn,
            &name,
            PyTuple::new(py, bases)?,
            describe(kind),
            kind,
        )?;
        m.add(name.as_str(), &cls)?;
        by_kind.push((kind, cls.unbind()));
    }
    let classes = PyDict::new(py);
    for (kind, cls) in &by_kind {
        classes.set_item(kind.as_str(), cls.bind(py))?;
    }
    m.add("ERROR_CLASSES", classes)?;
    // A second initialization (a re-imported module) keeps the first set of classes.
    let _ = CLASSES.set(
        py,
        Classes {
            base: base.unbind(),
            by_kind,
        },
    );
    Ok(())
}

fn class_for(py: Python<'_>, kind: ErrorKind) -> PyResult<Bound<'_, PyType>> {
    let classes = CLASSES
        .get(py)
        .ok_or_else(|| pyo3::exceptions::PyRuntimeError::new_err("net._net was not initialized"))?;
    let cls = classes
        .by_kind
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, c)| c)
        .unwrap_or(&classes.base);
    Ok(cls.bind(py).clone())
}

/// Builds the Python exception for an engine error (message = the engine's message).
pub fn to_py(py: Python<'_>, err: &Error) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let inst = class_for(py, err.kind())?.call1((err.to_string(),))?;
        if let Some(key) = err.key() {
            inst.setattr("key", key)?;
        }
        Ok(PyErr::from_value(inst))
    };
    build().unwrap_or_else(|e| e)
}

/// An engine error on its way to Python; `?` converts it into a `PyErr`.
#[derive(Debug)]
pub struct Fail {
    /// The engine error.
    pub error: Error,
    /// A Python exception that caused it (for example one raised by a `default` callable).
    pub cause: Option<PyErr>,
}

impl From<Error> for Fail {
    fn from(error: Error) -> Self {
        Fail { error, cause: None }
    }
}

impl From<Fail> for PyErr {
    fn from(f: Fail) -> PyErr {
        Python::attach(|py| {
            let err = to_py(py, &f.error);
            if let Some(cause) = f.cause {
                err.set_cause(py, Some(cause));
            }
            err
        })
    }
}

/// An `invalid_argument` error with `message`.
pub fn invalid_argument(message: impl Into<String>) -> Fail {
    Error::InvalidArgument(message.into()).into()
}

/// The Python exception for an engine error, as a value (used for per-event outcomes).
pub fn to_py_value<'py>(py: Python<'py>, err: &Error) -> Bound<'py, PyAny> {
    to_py(py, err).into_value(py).into_bound(py).into_any()
}

/// `net._net._error_for_kind(kind, message)`: the exception an engine error of `kind` maps
/// to, built through the same path as real errors. For tests of the mapping (some kinds, such
/// as `internal` and `adapter`, cannot be provoked through the public API).
#[pyfunction]
#[pyo3(name = "_error_for_kind")]
pub fn error_for_kind<'py>(
    py: Python<'py>,
    kind: &str,
    message: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let m = message.to_owned();
    let err = match ErrorKind::from_name(kind) {
        Some(ErrorKind::Internal) => Error::Internal(m),
        Some(ErrorKind::InvalidArgument) => Error::InvalidArgument(m),
        Some(ErrorKind::InvalidJson) => Error::InvalidJson(m),
        Some(ErrorKind::Config) => Error::Config {
            key: m.clone(),
            message: "test".into(),
        },
        Some(ErrorKind::Backpressure) => Error::Backpressure { shard: 0 },
        Some(ErrorKind::Dropped) => Error::Dropped {
            shard: 0,
            reason: net::DropReason::DropNewest,
        },
        Some(ErrorKind::Timeout) => Error::Timeout(m),
        Some(ErrorKind::ShuttingDown) => Error::ShuttingDown,
        Some(ErrorKind::InvalidCursor) => Error::InvalidCursor(m),
        Some(ErrorKind::InvalidFilter) => Error::InvalidFilter(m),
        Some(ErrorKind::PayloadTooLarge) => Error::PayloadTooLarge { size: 2, max: 1 },
        Some(ErrorKind::Adapter) => Error::Adapter(m),
        _ => return Err(invalid_argument(format!("unknown error kind `{kind}`")).into()),
    };
    Ok(to_py_value(py, &err))
}
