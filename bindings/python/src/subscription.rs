//! `net.Subscription`: a push subscription whose waits happen in Rust with the GIL released.
//!
//! Waiting is the engine's own: [`Subscription::next_blocking`] parks on the bus's progress
//! notifier and is woken when a drain worker stores a batch (no sleep, no poll loop). The
//! binding waits in slices of [`SLICE`] so that between two slices it can run Python signal
//! handlers (Ctrl-C works) and notice `close()`; a slice ends early whenever events arrive.
//!
//! Three ways to read:
//! - iteration / `next(timeout)`: waits in the calling thread (GIL released);
//! - `try_next()`: never waits (for event loops);
//! - `wait(timeout)`: waits until an item is available *without taking it*, so an asyncio
//!   iterator can wait in a worker thread and take the item on the loop thread; if the waiting
//!   task is cancelled, nothing was consumed. The engine has no "wait without consuming" call,
//!   so `wait` opens a short-lived second subscription at this one's cursor (same filter and
//!   ordering) and waits on that one.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use pyo3::prelude::*;

use net::bus::filter::Filter;
use net::{
    Error, ErrorKind, EventBus, Ordering, SubscribeFrom, SubscribeOptions, Subscription,
    SubscriptionItem,
};

use crate::args;
use crate::errors::Fail;
use crate::items::item_to_py;

/// Longest uninterrupted wait inside Rust before signals and `close()` are checked.
pub const SLICE: Duration = Duration::from_millis(100);

/// A push subscription over the bus; see the module docs.
#[pyclass(name = "Subscription", module = "net", frozen)]
pub struct PySubscription {
    bus: Arc<EventBus>,
    filter: Option<Filter>,
    ordering: Ordering,
    sub: Mutex<Subscription>,
    closed: AtomicBool,
}

/// What one wait slice produced.
enum Slice<T> {
    Done(T),
    Again,
}

impl PySubscription {
    /// Wraps an engine subscription opened with `filter` and `ordering` (kept for `wait`).
    pub fn new(
        bus: Arc<EventBus>,
        filter: Option<Filter>,
        ordering: Ordering,
        sub: Subscription,
    ) -> Self {
        PySubscription {
            bus,
            filter,
            ordering,
            sub: Mutex::new(sub),
            closed: AtomicBool::new(false),
        }
    }

    fn is_closed(&self) -> bool {
        self.closed.load(AtomicOrdering::SeqCst)
    }

    /// Repeats `slice` (run with the GIL released) until it is done, checking signals and
    /// `close()` between slices; `Ok(None)` when the deadline passes first.
    fn wait_loop<T: Send>(
        &self,
        py: Python<'_>,
        timeout: Option<Duration>,
        on_close: impl Fn() -> T,
        slice: impl Fn(Duration) -> net::Result<Slice<T>> + Sync,
    ) -> PyResult<Option<T>> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            if self.is_closed() {
                return Ok(Some(on_close()));
            }
            let bound = match deadline {
                Some(d) => d.saturating_duration_since(Instant::now()).min(SLICE),
                None => SLICE,
            };
            match py.detach(|| slice(bound)).map_err(Fail::from)? {
                Slice::Done(v) => return Ok(Some(v)),
                Slice::Again => {
                    py.check_signals()?;
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// The next item without waiting, if one is ready and no other thread holds the
    /// subscription.
    fn take_ready(&self) -> net::Result<Option<SubscriptionItem>> {
        match self.sub.try_lock() {
            Some(mut sub) => sub.try_next(),
            None => Ok(None),
        }
    }

    /// Waits for the next item; `None` once the subscription ended or was closed.
    fn next_item(
        &self,
        py: Python<'_>,
        timeout: Option<Duration>,
    ) -> PyResult<Option<SubscriptionItem>> {
        if self.is_closed() {
            return Ok(None);
        }
        if let Some(item) = self.take_ready().map_err(Fail::from)? {
            return Ok(Some(item));
        }
        let got = self.wait_loop(
            py,
            timeout,
            || None,
            |bound| match self.sub.lock().next_blocking(Some(bound)) {
                Ok(item) => Ok(Slice::Done(item)),
                Err(e) if e.kind() == ErrorKind::Timeout => Ok(Slice::Again),
                Err(e) => Err(e),
            },
        )?;
        match got {
            Some(item) => Ok(item),
            None => Err(Fail::from(Error::Timeout(format!(
                "no event arrived within {:?}",
                timeout.unwrap_or_default()
            )))
            .into()),
        }
    }
}

#[pymethods]
impl PySubscription {
    fn __iter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.next_item(py, None)?
            .map(|item| item_to_py(py, item))
            .transpose()
    }

    /// Waits for the next item (an `Event` or a `Lagged` signal), at most `timeout` seconds
    /// (None = no bound). Returns None once the bus shut down and everything was read, or
    /// after `close()`; raises `net.TimeoutError` when the timeout passes.
    #[pyo3(signature = (timeout=None))]
    fn next<'py>(
        &self,
        py: Python<'py>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let timeout = args::timeout_arg(timeout)?;
        self.next_item(py, timeout)?
            .map(|item| item_to_py(py, item))
            .transpose()
    }

    /// The next item if one is available right now, else None (never waits). Check `ended`
    /// to tell "nothing yet" from "finished".
    fn try_next<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        if self.is_closed() {
            return Ok(None);
        }
        let Some(mut sub) = self.sub.try_lock() else {
            return Ok(None);
        };
        let item = match sub.try_next().map_err(Fail::from)? {
            Some(item) => Some(item),
            // A zero wait notices that the bus shut down, so `ended` becomes true.
            None => match sub.next_blocking(Some(Duration::ZERO)) {
                Ok(item) => item,
                Err(e) if e.kind() == ErrorKind::Timeout => None,
                Err(e) => return Err(Fail::from(e).into()),
            },
        };
        drop(sub);
        item.map(|item| item_to_py(py, item)).transpose()
    }

    /// Waits until an item is available or the subscription ended, without taking the item;
    /// True if so, False when `timeout` seconds (None = no bound) passed first.
    #[pyo3(signature = (timeout=None))]
    fn wait(&self, py: Python<'_>, timeout: Option<&Bound<'_, PyAny>>) -> PyResult<bool> {
        let timeout = args::timeout_arg(timeout)?;
        if self.is_closed() {
            return Ok(true);
        }
        let (cursor, ended) = py.detach(|| {
            let sub = self.sub.lock();
            (sub.cursor(), sub.is_ended())
        });
        if ended {
            return Ok(true);
        }
        let probe = self
            .bus
            .subscribe(SubscribeOptions {
                filter: self.filter.clone(),
                from: SubscribeFrom::Cursor(cursor),
                batch: 1,
                ordering: self.ordering,
            })
            .map_err(Fail::from)?;
        let probe = Mutex::new(probe);
        let got = self.wait_loop(
            py,
            timeout,
            || true,
            |bound| match probe.lock().next_blocking(Some(bound)) {
                Ok(_) => Ok(Slice::Done(true)),
                Err(e) if e.kind() == ErrorKind::Timeout => Ok(Slice::Again),
                Err(e) => Err(e),
            },
        )?;
        Ok(got.unwrap_or(false))
    }

    /// True once the subscription has ended (bus shut down and everything read) or was
    /// closed.
    #[getter]
    fn ended(&self) -> bool {
        self.is_closed() || self.sub.try_lock().is_some_and(|s| s.is_ended())
    }

    /// True after `close()`.
    #[getter]
    fn closed(&self) -> bool {
        self.is_closed()
    }

    /// The cursor after the last item handed out (usable with `poll` or a new subscription).
    fn cursor(&self, py: Python<'_>) -> String {
        py.detach(|| self.sub.lock().cursor())
    }

    /// Stops the subscription: iteration ends, waits return within one slice (0.1 s).
    fn close(&self) {
        self.closed.store(true, AtomicOrdering::SeqCst);
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, _exc: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close();
        false
    }

    fn __repr__(&self) -> String {
        format!(
            "Subscription(ordering={:?}, filtered={}, closed={})",
            self.ordering.as_str(),
            if self.filter.is_some() {
                "True"
            } else {
                "False"
            },
            if self.is_closed() { "True" } else { "False" }
        )
    }
}
