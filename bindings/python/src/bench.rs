//! Rust-side baselines for `sdk-py/bench/`: the same workloads as the Python benchmark, run by
//! the engine without Python in the loop, in the same process and on the same data, so the
//! binding's overhead is visible next to the engine's own figure.
//!
//! The inputs are copied into Rust values before the timer starts; the timed part runs with
//! the GIL released. Each function returns `(seconds, count)`. Internal: not part of the API.

use std::time::{Duration, Instant};

use pyo3::prelude::*;

use net::{Event, SubscribeOptions, SubscriptionItem};

use crate::bus::PyEventBus;
use crate::convert;
use crate::errors::{Fail, invalid_argument};

fn chunk_size(batch: usize) -> Result<usize, Fail> {
    if batch == 0 {
        return Err(invalid_argument("batch must be at least 1"));
    }
    Ok(batch)
}

/// Ingests pre-serialized events (`raws`, str) in batches of `batch` with `ingest_raw_batch`.
#[pyfunction]
#[pyo3(name = "_bench_ingest_raw_batch")]
pub fn ingest_raw_batch(
    py: Python<'_>,
    bus: &Bound<'_, PyEventBus>,
    raws: Vec<String>,
    batch: usize,
) -> PyResult<(f64, usize)> {
    let batch = chunk_size(batch)?;
    let bus = bus.get().bus.clone();
    Ok(py.detach(|| {
        let start = Instant::now();
        let mut accepted = 0;
        for chunk in raws.chunks(batch) {
            accepted += bus
                .ingest_raw_batch(chunk.iter().map(|s| s.as_bytes()))
                .accepted();
        }
        (start.elapsed().as_secs_f64(), accepted)
    }))
}

/// Serializes JSON values (built from `objs` before the timer, the Rust counterpart of the
/// Python dicts) and ingests them in batches of `batch` with `ingest_batch`.
#[pyfunction]
#[pyo3(name = "_bench_ingest_batch")]
pub fn ingest_batch(
    py: Python<'_>,
    bus: &Bound<'_, PyEventBus>,
    objs: Vec<Bound<'_, PyAny>>,
    batch: usize,
) -> PyResult<(f64, usize)> {
    let batch = chunk_size(batch)?;
    let values = objs
        .iter()
        .map(|o| convert::to_value(o).map_err(|e| invalid_argument(e.message)))
        .collect::<Result<Vec<_>, Fail>>()?;
    let bus = bus.get().bus.clone();
    Ok(py.detach(|| {
        let start = Instant::now();
        let mut accepted = 0;
        for chunk in values.chunks(batch) {
            let events = chunk.iter().filter_map(|v| Event::from_serialize(v).ok());
            accepted += bus.ingest_batch(events).accepted();
        }
        (start.elapsed().as_secs_f64(), accepted)
    }))
}

/// Reads `n` events through a subscription from the beginning (touching each event's text).
#[pyfunction]
#[pyo3(name = "_bench_subscribe")]
pub fn subscribe(py: Python<'_>, bus: &Bound<'_, PyEventBus>, n: usize) -> PyResult<(f64, usize)> {
    let bus = bus.get().bus.clone();
    let result = py.detach(|| -> net::Result<(f64, usize)> {
        let mut sub = bus.subscribe(SubscribeOptions::default())?;
        let start = Instant::now();
        let mut received = 0;
        let mut bytes = 0usize;
        while received < n {
            match sub.next_blocking(Some(Duration::from_secs(10)))? {
                Some(SubscriptionItem::Event(e)) => {
                    bytes += e.event.as_str().len();
                    received += 1;
                }
                Some(SubscriptionItem::Lagged { .. }) => {}
                None => break,
            }
        }
        std::hint::black_box(bytes);
        Ok((start.elapsed().as_secs_f64(), received))
    });
    Ok(result.map_err(Fail::from)?)
}
