//! Creating, inspecting, flushing, shutting down and freeing a bus.

use std::ffi::c_char;
use std::time::Duration;

use net::{Error, EventBus};

use crate::config::config_text;
use crate::last_error::guard;
use crate::registry::Handles;
use crate::strings::write_string;
use crate::types::net_bus;

/// Every live `net_bus` handle.
pub(crate) static BUSES: Handles<net_bus> = Handles::new("net_bus");

/// Fails with `invalid_argument` when the out-parameter `out` is NULL.
pub(crate) fn require_out<T>(out: *mut T, what: &str) -> Result<(), Error> {
    if out.is_null() {
        Err(Error::InvalidArgument(format!("{what} is NULL")))
    } else {
        Ok(())
    }
}

/// Creates a bus from JSON configuration text, parsed strictly by the engine (unknown keys,
/// unknown mode strings and out-of-range values fail with NET_ERR_CONFIG, and
/// `net_last_error_key()` names the key). `config_json` NULL means every default (same as "{}").
/// On success `*out_bus` receives the handle; release it with `net_free` (exactly once). On
/// failure `*out_bus` is set to NULL.
///
/// # Safety
/// `config_json` must be NULL or a NUL-terminated string; `out_bus` must be NULL (rejected) or
/// valid for one pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_init(config_json: *const c_char, out_bus: *mut *mut net_bus) -> i32 {
    guard(|| {
        require_out(out_bus, "out_bus")?;
        // SAFETY: checked non-NULL above; the caller guarantees it is writable.
        unsafe { out_bus.write(std::ptr::null_mut()) };
        let bus = if config_json.is_null() {
            EventBus::new(Default::default())?
        } else {
            // SAFETY: non-NULL and NUL-terminated per the caller's contract.
            EventBus::from_json(unsafe { config_text(config_json) }?)?
        };
        let handle = BUSES.insert(net_bus { bus });
        // SAFETY: as above.
        unsafe { out_bus.write(handle) };
        Ok(())
    })
}

/// Releases a bus handle. Shuts the bus down first if `net_shutdown` was not called (draining
/// every ring into the adapter), then frees it. Every `net_subscription` of the bus stays valid
/// (it ends after the remaining events) and must still be freed with `net_subscription_free`.
/// Strings and poll pages obtained from the bus stay valid until their own free. A NULL, already
/// freed or unknown handle returns NET_ERR_INVALID_ARGUMENT and touches nothing.
///
/// # Safety
/// No other thread may be inside `net_ingest`, `net_ingest_raw` or `net_ingest_with_key` on this
/// handle (those calls do not look the handle up, for speed); other calls are safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_free(bus: *mut net_bus) -> i32 {
    guard(|| {
        let handle = BUSES.remove(bus)?;
        drop(handle);
        Ok(())
    })
}

/// Stops accepting events (later ingests fail with NET_ERR_SHUTTING_DOWN), drains every ring
/// into the adapter and flushes it. Idempotent: later calls report the same outcome. The handle
/// stays valid (polls and subscriptions keep working) until `net_free`. If `out_report_json` is
/// not NULL it receives `{"accepted","delivered","dropped":{..},"undelivered","adapter_error"}`,
/// to be released with `net_string_free`.
///
/// # Safety
/// `out_report_json` must be NULL or valid for one pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_shutdown(bus: *mut net_bus, out_report_json: *mut *mut c_char) -> i32 {
    guard(|| {
        let handle = BUSES.get(bus)?;
        let report = handle.bus.shutdown()?;
        if !out_report_json.is_null() {
            let text = serde_json::to_string(&report)
                .map_err(|e| Error::Internal(format!("cannot serialize the report: {e}")))?;
            // SAFETY: non-NULL, writable per the caller's contract.
            unsafe { write_string(out_report_json, &text) };
        }
        Ok(())
    })
}

/// Waits until every event accepted before the call is visible to polls and subscriptions.
/// `timeout_ms` < 0 uses the engine default (30 s); otherwise NET_ERR_TIMEOUT after that many
/// milliseconds. NET_ERR_SHUTTING_DOWN once the bus has shut down. Allocates nothing.
///
/// # Safety
/// `bus` must be NULL, a live handle or a freed one (detected); nothing else is dereferenced.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_flush(bus: *mut net_bus, timeout_ms: i64) -> i32 {
    guard(|| {
        let handle = BUSES.get(bus)?;
        match u64::try_from(timeout_ms) {
            Ok(ms) => handle.bus.flush_timeout(Duration::from_millis(ms)),
            Err(_) => handle.bus.flush(),
        }
    })
}

/// Writes the bus counters as JSON to `*out_json` (`{"accepted","delivered","in_flight",
/// "dropped":{..},"rejected":{..},"adapter_errors","adapter_name","adapter":{..},"shards":[..]}`,
/// see docs/bus.md). Release the string with `net_string_free`.
///
/// # Safety
/// `out_json` must be NULL (rejected) or valid for one pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_stats(bus: *mut net_bus, out_json: *mut *mut c_char) -> i32 {
    guard(|| {
        require_out(out_json, "out_json")?;
        let handle = BUSES.get(bus)?;
        let text = handle.bus.stats().to_json().to_string();
        // SAFETY: checked non-NULL above; writable per the caller's contract.
        unsafe { write_string(out_json, &text) };
        Ok(())
    })
}

/// Writes the bus configuration in its normalized JSON form (every key, defaults filled in) to
/// `*out_json`. Release the string with `net_string_free`.
///
/// # Safety
/// `out_json` must be NULL (rejected) or valid for one pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_config_json(bus: *mut net_bus, out_json: *mut *mut c_char) -> i32 {
    guard(|| {
        require_out(out_json, "out_json")?;
        let handle = BUSES.get(bus)?;
        let text = handle.bus.config().to_json().to_string();
        // SAFETY: checked non-NULL above; writable per the caller's contract.
        unsafe { write_string(out_json, &text) };
        Ok(())
    })
}
