//! The values the bus hands back to Python: receipts, stored events, lag signals, poll pages
//! and batch outcomes.
//!
//! They are immutable (`frozen`) wrappers over the engine's own values. An [`PyEvent`] keeps the
//! engine's reference-counted buffer and makes the Python `str` only when `raw` is read, so
//! delivering an event costs one small object.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};

use net::{Error, Receipt, StoredEvent, SubscriptionItem};

use crate::errors::{self, Fail};

/// Where an accepted event went: its shard and its sequence number in that shard.
#[pyclass(name = "Receipt", module = "net", frozen, eq, hash)]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PyReceipt {
    /// Shard index.
    #[pyo3(get)]
    pub shard: u16,
    /// Sequence number within the shard (strictly increasing in acceptance order).
    #[pyo3(get)]
    pub seq: u64,
}

impl From<Receipt> for PyReceipt {
    fn from(r: Receipt) -> Self {
        PyReceipt {
            shard: r.shard,
            seq: r.seq,
        }
    }
}

#[pymethods]
impl PyReceipt {
    fn __repr__(&self) -> String {
        format!("Receipt(shard={}, seq={})", self.shard, self.seq)
    }
}

/// One stored event: its place in the bus and its raw JSON, byte for byte as emitted.
#[pyclass(name = "Event", module = "net", frozen)]
pub struct PyEvent(pub StoredEvent);

static JSON_LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

#[pymethods]
impl PyEvent {
    /// Shard the event lives in.
    #[getter]
    fn shard(&self) -> u16 {
        self.0.shard
    }

    /// Position within the shard (dense, starts at 0; what cursors record).
    #[getter]
    fn position(&self) -> u64 {
        self.0.position
    }

    /// Sequence number from the producer's receipt.
    #[getter]
    fn seq(&self) -> u64 {
        self.0.seq
    }

    /// Insertion time in nanoseconds since the Unix epoch.
    #[getter]
    fn ts_ns(&self) -> u64 {
        self.0.ts_ns
    }

    /// The raw JSON text.
    #[getter]
    fn raw<'py>(&self, py: Python<'py>) -> Bound<'py, PyString> {
        PyString::new(py, self.0.event.as_str())
    }

    /// The raw JSON as bytes.
    #[getter]
    fn raw_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.0.event.raw())
    }

    /// The event parsed into Python objects (with `json.loads`, so big integers stay exact).
    fn json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let loads = JSON_LOADS.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
            Ok(py.import("json")?.getattr("loads")?.unbind())
        })?;
        loads.bind(py).call1((self.raw(py),))
    }

    fn __len__(&self) -> usize {
        self.0.event.len()
    }

    fn __repr__(&self) -> String {
        let raw = self.0.event.as_str();
        let shown: String = raw.chars().take(80).collect();
        let more = if shown.len() < raw.len() { "..." } else { "" };
        format!(
            "Event(shard={}, position={}, seq={}, raw={shown:?}{more})",
            self.0.shard, self.0.position, self.0.seq
        )
    }
}

/// A subscriber fell behind retention: `skipped` events were evicted before it read them.
#[pyclass(name = "Lagged", module = "net", frozen, eq)]
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PyLagged {
    /// Number of events lost to retention.
    #[pyo3(get)]
    pub skipped: u64,
}

#[pymethods]
impl PyLagged {
    fn __repr__(&self) -> String {
        format!("Lagged(skipped={})", self.skipped)
    }
}

/// Converts a subscription item into `Event` or `Lagged`.
pub fn item_to_py(py: Python<'_>, item: SubscriptionItem) -> PyResult<Bound<'_, PyAny>> {
    Ok(match item {
        SubscriptionItem::Event(e) => Bound::new(py, PyEvent(e))?.into_any(),
        SubscriptionItem::Lagged { skipped } => Bound::new(py, PyLagged { skipped })?.into_any(),
    })
}

/// Converts stored events into a Python list of `Event`.
pub fn events_to_list(py: Python<'_>, events: Vec<StoredEvent>) -> PyResult<Bound<'_, PyList>> {
    let items = events
        .into_iter()
        .map(|e| Bound::new(py, PyEvent(e)))
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, items)
}

/// One page of a poll.
#[pyclass(name = "PollResult", module = "net", frozen)]
pub struct PyPollResult {
    /// The events, ordered as requested.
    #[pyo3(get)]
    pub events: Py<PyList>,
    /// Cursor to pass to the next poll; resumes exactly after the last event returned.
    #[pyo3(get)]
    pub cursor: String,
    /// Events the previous cursor pointed at that retention evicted before this read.
    #[pyo3(get)]
    pub skipped: u64,
    /// True when more events (possibly not matching the filter) remain after this page.
    #[pyo3(get)]
    pub has_more: bool,
}

#[pymethods]
impl PyPollResult {
    fn __len__(&self, py: Python<'_>) -> usize {
        self.events.bind(py).len()
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.events.bind(py).try_iter().map(Bound::into_any)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "PollResult(events=<{} events>, cursor={:?}, skipped={}, has_more={})",
            self.events.bind(py).len(),
            self.cursor,
            self.skipped,
            if self.has_more { "True" } else { "False" }
        )
    }
}

/// Per-event outcomes of a batch ingest, in input order: a `Receipt` for each accepted event,
/// a `NetError` instance (not raised) for each refused one.
#[pyclass(name = "BatchResult", module = "net", frozen)]
pub struct PyBatchResult {
    outcomes: Vec<Result<Receipt, Error>>,
    accepted: usize,
}

impl PyBatchResult {
    /// Wraps the engine's outcomes.
    pub fn new(outcomes: Vec<Result<Receipt, Error>>) -> Self {
        let accepted = outcomes.iter().filter(|o| o.is_ok()).count();
        PyBatchResult { outcomes, accepted }
    }
}

fn outcome_to_py<'py>(py: Python<'py>, o: &Result<Receipt, Error>) -> PyResult<Bound<'py, PyAny>> {
    match o {
        Ok(r) => Ok(Bound::new(py, PyReceipt::from(*r))?.into_any()),
        Err(e) => Ok(errors::to_py_value(py, e)),
    }
}

#[pymethods]
impl PyBatchResult {
    /// Number of accepted events.
    #[getter]
    fn accepted(&self) -> usize {
        self.accepted
    }

    /// Number of refused events.
    #[getter]
    fn failed(&self) -> usize {
        self.outcomes.len() - self.accepted
    }

    /// True when every event was accepted.
    #[getter]
    fn ok(&self) -> bool {
        self.accepted == self.outcomes.len()
    }

    fn __len__(&self) -> usize {
        self.outcomes.len()
    }

    fn __getitem__<'py>(&self, py: Python<'py>, index: isize) -> PyResult<Bound<'py, PyAny>> {
        let n = self.outcomes.len() as isize;
        let i = if index < 0 { index + n } else { index };
        if i < 0 || i >= n {
            return Err(pyo3::exceptions::PyIndexError::new_err(format!(
                "batch outcome index {index} out of range for {n} outcomes"
            )));
        }
        outcome_to_py(py, &self.outcomes[i as usize])
    }

    /// Every outcome: a `Receipt` or a `NetError` instance.
    fn outcomes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let items = self
            .outcomes
            .iter()
            .map(|o| outcome_to_py(py, o))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, items)
    }

    /// A `Receipt` per event, `None` where the event was refused.
    fn receipts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let items = self
            .outcomes
            .iter()
            .map(|o| match o {
                Ok(r) => Ok(Bound::new(py, PyReceipt::from(*r))?.into_any()),
                Err(_) => Ok(py.None().into_bound(py)),
            })
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, items)
    }

    /// `(index, error)` for every refused event.
    fn errors<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let items = self
            .outcomes
            .iter()
            .enumerate()
            .filter_map(|(i, o)| o.as_ref().err().map(|e| (i, e)))
            .map(|(i, e)| {
                PyTuple::new(
                    py,
                    [i.into_pyobject(py)?.into_any(), errors::to_py_value(py, e)],
                )
            })
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, items)
    }

    /// Raises the first refused event's error, if any.
    fn raise_first(&self) -> PyResult<()> {
        match self.outcomes.iter().find_map(|o| o.as_ref().err()) {
            Some(e) => Err(Fail::from(e.clone()).into()),
            None => Ok(()),
        }
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.outcomes(py)?.try_iter().map(Bound::into_any)
    }

    fn __repr__(&self) -> String {
        format!(
            "BatchResult(accepted={}, failed={})",
            self.accepted,
            self.outcomes.len() - self.accepted
        )
    }
}
