//! `net._net`: the Python binding of the net-mesh engine (a thin skin, PyO3).
//!
//! Everything here translates between Python and the engine crate (`net`); no behaviour is
//! written twice. Configuration dicts go through the engine's strict JSON parser
//! (`EventBusConfig::from_value`), filters through its filter compiler, and every engine error
//! becomes an instance of the exception class of its stable kind (see [`errors`]). Blocking
//! calls release the GIL; subscriptions wait in Rust on the engine's notifier.
//!
//! Python users import the package `net` (`bindings/python/python/net/__init__.py`), which
//! re-exports this module; `net/_net.pyi` is the typed description of it.
//!
//! All of it is compiled only with the `extension` feature (maturin enables it); without it
//! this crate is empty, so workspace-wide cargo commands need no Python.

#[cfg(feature = "extension")]
use pyo3::prelude::*;

#[cfg(feature = "extension")]
mod args;
#[cfg(feature = "extension")]
mod bench;
#[cfg(feature = "extension")]
mod bus;
#[cfg(feature = "extension")]
mod convert;
#[cfg(feature = "extension")]
mod errors;
#[cfg(feature = "extension")]
mod items;
#[cfg(feature = "extension")]
mod subscription;
#[cfg(feature = "extension")]
mod text;

/// The native module `net._net`.
#[cfg(feature = "extension")]
#[pymodule]
fn _net(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    m.add_class::<bus::PyEventBus>()?;
    m.add_class::<subscription::PySubscription>()?;
    m.add_class::<items::PyReceipt>()?;
    m.add_class::<items::PyEvent>()?;
    m.add_class::<items::PyLagged>()?;
    m.add_class::<items::PyPollResult>()?;
    m.add_class::<items::PyBatchResult>()?;
    m.add_function(wrap_pyfunction!(bus::normalize_config, m)?)?;
    m.add_function(wrap_pyfunction!(errors::error_for_kind, m)?)?;
    m.add_function(wrap_pyfunction!(bench::ingest_raw_batch, m)?)?;
    m.add_function(wrap_pyfunction!(bench::ingest_batch, m)?)?;
    m.add_function(wrap_pyfunction!(bench::subscribe, m)?)?;
    m.add("__version__", net::VERSION)?;
    m.add("ENGINE_VERSION", net::VERSION)?;
    m.add("MAX_POLL_LIMIT", net::bus::MAX_POLL_LIMIT)?;
    let kinds = net::ErrorKind::ALL
        .iter()
        .map(|k| (k.as_str(), k.code()))
        .collect::<Vec<_>>();
    m.add("ERROR_KINDS", kinds)?;
    Ok(())
}
