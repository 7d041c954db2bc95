//! `net.EventBus`: the engine's [`EventBus`] as a Python class.
//!
//! Every method translates its arguments and calls the engine; nothing is reimplemented.
//! The GIL is released around every call that can block or take long: flush, shutdown, poll,
//! batch ingest, and single ingest when the backpressure mode is `block` (the only mode in
//! which an ingest waits) or the payload is large. A single ingest in the other modes is a
//! bounded lock-free push, cheaper than releasing and re-taking the GIL.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyList, PyString};

use net::{
    Backpressure, Error, Event, EventBus, EventBusConfig, PollRequest, SubscribeFrom,
    SubscribeOptions,
};

use crate::args;
use crate::convert;
use crate::errors::{Fail, invalid_argument};
use crate::items::{PyBatchResult, PyPollResult, PyReceipt, events_to_list};
use crate::subscription::PySubscription;
use crate::text;

/// Payloads at least this large are validated with the GIL released.
const LARGE_PAYLOAD: usize = 64 * 1024;

/// The event bus: sharded ingest, backpressure, poll with cursors and filters, push
/// subscriptions, flush and shutdown. See `docs/python.md`.
#[pyclass(name = "EventBus", module = "net", frozen)]
pub struct PyEventBus {
    pub(crate) bus: Arc<EventBus>,
    /// The backpressure mode is `block`: an ingest may wait for room.
    may_block: bool,
}

impl PyEventBus {
    /// Runs `f` on the bus, releasing the GIL when `detach` is true.
    fn call<T: Send>(
        &self,
        py: Python<'_>,
        detach: bool,
        f: impl FnOnce(&EventBus) -> net::Result<T> + Send,
    ) -> Result<T, Fail> {
        let bus = &*self.bus;
        let result = if detach { py.detach(|| f(bus)) } else { f(bus) };
        result.map_err(Fail::from)
    }
}

/// Parses the constructor's `config` argument strictly (the engine's JSON rules).
fn parse_config(config: Option<&Bound<'_, PyAny>>) -> Result<EventBusConfig, Fail> {
    let Some(config) = config.filter(|c| !c.is_none()) else {
        return Ok(EventBusConfig::default());
    };
    if let Ok(text) = config.cast::<PyString>() {
        let text = text::utf8(text).map_err(|e| Error::Config {
            key: "<root>".into(),
            message: format!("not valid text: {e}"),
        })?;
        return Ok(EventBusConfig::from_json(text)?);
    }
    let value = convert::to_value(config).map_err(|e| Fail {
        error: Error::Config {
            key: e.path,
            message: e.message,
        },
        cause: e.cause,
    })?;
    Ok(EventBusConfig::from_value(&value)?)
}

/// `net.normalize_config(config)`: validates a configuration (dict or JSON text) strictly,
/// without building a bus or connecting to anything, and returns its normalized form (every
/// key, defaults filled in). Raises `ConfigError` naming the offending key.
#[pyfunction]
#[pyo3(signature = (config=None))]
pub fn normalize_config<'py>(
    py: Python<'py>,
    config: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let config = parse_config(config)?;
    convert::value_to_py(py, &config.to_json())
}

/// Merges per-item conversion failures (`(index, error)`, in index order) with the engine's
/// outcomes for the items that converted. Without failures the engine's outcomes are used as
/// they are.
fn merge(
    failures: Vec<(usize, Error)>,
    ingested: Vec<net::Result<net::Receipt>>,
) -> Vec<net::Result<net::Receipt>> {
    if failures.is_empty() {
        return ingested;
    }
    let total = failures.len() + ingested.len();
    let mut failures = failures.into_iter().peekable();
    let mut ingested = ingested.into_iter();
    (0..total)
        .map(|i| match failures.next_if(|(at, _)| *at == i) {
            Some((_, e)) => Err(e),
            None => ingested
                .next()
                .unwrap_or_else(|| Err(Error::Internal("batch outcome missing".into()))),
        })
        .collect()
}

#[pymethods]
impl PyEventBus {
    /// Builds a bus. `config` is a dict (or JSON text) with the engine's configuration keys;
    /// it is validated strictly: an unknown key or a bad value raises `ConfigError` naming it.
    #[new]
    #[pyo3(signature = (config=None))]
    fn new(py: Python<'_>, config: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let config = parse_config(config)?;
        let may_block = matches!(config.backpressure, Backpressure::Block { .. });
        let bus = py.detach(|| EventBus::new(config)).map_err(Fail::from)?;
        Ok(PyEventBus {
            bus: Arc::new(bus),
            may_block,
        })
    }

    /// Serializes `event` (a JSON-like Python object) to JSON in Rust and ingests it.
    /// `key` (str or bytes) sends every event with the same key to the same shard; `default`
    /// is called on objects that are not JSON types and returns a replacement.
    #[pyo3(signature = (event, *, key=None, default=None))]
    fn ingest(
        &self,
        py: Python<'_>,
        event: &Bound<'_, PyAny>,
        key: Option<&Bound<'_, PyAny>>,
        default: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyReceipt> {
        let default = default.filter(|d| !d.is_none());
        let event = convert::to_event(event, default)?;
        let key = args::key_arg(key)?;
        let detach = self.may_block || event.len() >= LARGE_PAYLOAD;
        let receipt = self.call(py, detach, |bus| match &key {
            Some(k) => bus.ingest_with_key(event, k),
            None => bus.ingest(event),
        })?;
        Ok(receipt.into())
    }

    /// Validates `raw` (str, bytes or bytearray holding one JSON value) and ingests it as is.
    #[pyo3(signature = (raw, *, key=None))]
    fn ingest_raw(
        &self,
        py: Python<'_>,
        raw: &Bound<'_, PyAny>,
        key: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyReceipt> {
        let raw = args::bytes_arg(raw, "raw")?;
        let key = args::key_arg(key)?;
        let detach = self.may_block || raw.len() >= LARGE_PAYLOAD;
        let receipt = self.call(py, detach, |bus| {
            let event = Event::from_slice(&raw)?;
            match &key {
                Some(k) => bus.ingest_with_key(event, k),
                None => bus.ingest(event),
            }
        })?;
        Ok(receipt.into())
    }

    /// Serializes and ingests many events (an iterable of JSON-like objects), reporting each
    /// one's outcome; an event that fails (serialization, size, backpressure) fails alone.
    #[pyo3(signature = (events, *, default=None))]
    fn ingest_batch(
        &self,
        py: Python<'_>,
        events: &Bound<'_, PyAny>,
        default: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyBatchResult> {
        let default = default.filter(|d| !d.is_none());
        let iter = events
            .try_iter()
            .map_err(|_| invalid_argument("events must be an iterable of JSON-like objects"))?;
        let mut failures = Vec::new();
        let mut valid = Vec::new();
        for (i, obj) in iter.enumerate() {
            match convert::to_event(&obj?, default) {
                Ok(event) => valid.push(event),
                Err(f) => failures.push((i, f.error)),
            }
        }
        let report = py.detach(|| self.bus.ingest_batch(valid));
        Ok(PyBatchResult::new(merge(failures, report.outcomes)))
    }

    /// Validates and ingests many pre-serialized events (an iterable of str or bytes), each
    /// as is, reporting each one's outcome.
    fn ingest_raw_batch(&self, py: Python<'_>, raws: &Bound<'_, PyAny>) -> PyResult<PyBatchResult> {
        // The items stay alive while their text is borrowed: collect them first (a list is
        // read directly, anything else through the iterator protocol).
        let items = match raws.cast::<PyList>() {
            Ok(list) => list.iter().collect::<Vec<_>>(),
            Err(_) => raws
                .try_iter()
                .map_err(|_| invalid_argument("raws must be an iterable of str or bytes"))?
                .collect::<PyResult<Vec<_>>>()?,
        };
        let mut failures = Vec::new();
        let mut valid = Vec::with_capacity(items.len());
        for (i, obj) in items.iter().enumerate() {
            match args::bytes_arg(obj, "each raw event") {
                Ok(bytes) => valid.push(bytes),
                Err(f) => failures.push((i, f.error)),
            }
        }
        let report = py.detach(|| self.bus.ingest_raw_batch(valid.iter().map(|b| &**b)));
        Ok(PyBatchResult::new(merge(failures, report.outcomes)))
    }

    /// Reads up to `limit` events without consuming them, from `cursor` (None = the oldest
    /// retained event), keeping those that match `filter` (a dict or JSON text, evaluated in
    /// the engine), ordered `per_shard` (default) or by `insertion_time`.
    #[pyo3(signature = (limit=None, cursor=None, filter=None, ordering=None))]
    fn poll(
        &self,
        py: Python<'_>,
        limit: Option<&Bound<'_, PyAny>>,
        cursor: Option<&Bound<'_, PyAny>>,
        filter: Option<&Bound<'_, PyAny>>,
        ordering: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyPollResult> {
        let mut req = PollRequest::default();
        if let Some(limit) = limit.filter(|l| !l.is_none()) {
            req.limit = args::usize_arg(limit, "limit")?;
        }
        req.cursor = args::opt_str_arg(cursor, "cursor")?.map(|c| c.into_owned());
        req.filter = args::filter_arg(filter)?;
        req.ordering = args::ordering_arg(ordering)?;
        let page = self.call(py, true, |bus| bus.poll(&req))?;
        Ok(PyPollResult {
            events: events_to_list(py, page.events)?.unbind(),
            cursor: page.cursor,
            skipped: page.skipped,
            has_more: page.has_more,
        })
    }

    /// Opens a push subscription. `start` is "beginning" (default) or "latest"; `cursor`
    /// resumes after a previous poll or subscription instead. `batch` is how many events are
    /// fetched per wake-up; `filter` and `ordering` are as for `poll`.
    #[pyo3(signature = (filter=None, *, start=None, cursor=None, batch=None, ordering=None))]
    fn subscribe(
        &self,
        filter: Option<&Bound<'_, PyAny>>,
        start: Option<&Bound<'_, PyAny>>,
        cursor: Option<&Bound<'_, PyAny>>,
        batch: Option<&Bound<'_, PyAny>>,
        ordering: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PySubscription> {
        let mut opts = SubscribeOptions {
            filter: args::filter_arg(filter)?,
            ordering: args::ordering_arg(ordering)?,
            ..SubscribeOptions::default()
        };
        if let Some(batch) = batch.filter(|b| !b.is_none()) {
            opts.batch = args::usize_arg(batch, "batch")?;
        }
        let start = args::opt_str_arg(start, "start")?;
        let cursor = args::opt_str_arg(cursor, "cursor")?;
        opts.from = match (start.as_deref(), cursor) {
            (None | Some("beginning"), None) => SubscribeFrom::Beginning,
            (Some("latest"), None) => SubscribeFrom::Latest,
            (None, Some(c)) => SubscribeFrom::Cursor(c.into_owned()),
            (Some(_), Some(_)) => {
                return Err(invalid_argument("give either start or cursor, not both").into());
            }
            (Some(other), None) => {
                return Err(invalid_argument(format!(
                    "unknown start `{other}` (expected beginning or latest)"
                ))
                .into());
            }
        };
        let filter = opts.filter.clone();
        let ordering = opts.ordering;
        let sub = self.bus.subscribe(opts).map_err(Fail::from)?;
        Ok(PySubscription::new(self.bus.clone(), filter, ordering, sub))
    }

    /// Waits until every event accepted before the call is visible to poll and subscribers
    /// (bounded by `timeout` seconds, the engine's default of 30 s when None).
    #[pyo3(signature = (timeout=None))]
    fn flush(&self, py: Python<'_>, timeout: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let timeout = args::timeout_arg(timeout)?;
        self.call(py, true, |bus| match timeout {
            Some(t) => bus.flush_timeout(t),
            None => bus.flush(),
        })?;
        Ok(())
    }

    /// A snapshot of the counters (a dict; see docs/bus.md, "Stats").
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::serialize_to_py(py, &self.bus.stats())
    }

    /// Stops accepting events, drains every ring into the adapter and reports the outcome
    /// (a dict). Idempotent; subscriptions yield what is left and then end.
    fn shutdown<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let report = self.call(py, true, |bus| bus.shutdown())?;
        convert::serialize_to_py(py, &report)
    }

    /// The normalized configuration (every key, defaults filled in).
    #[getter]
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::value_to_py(py, &self.bus.config().to_json())
    }

    /// True until shutdown starts.
    #[getter]
    fn is_running(&self) -> bool {
        self.bus.is_running()
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        self.call(py, true, |bus| bus.shutdown())?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        let cfg = self.bus.config();
        format!(
            "EventBus(num_shards={}, backpressure={:?}, running={})",
            cfg.num_shards,
            cfg.backpressure.mode(),
            if self.bus.is_running() {
                "True"
            } else {
                "False"
            }
        )
    }
}
