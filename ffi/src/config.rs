//! Configuration without a bus: validate and normalize JSON configuration text.

use std::ffi::{CStr, c_char};

use net::{Error, EventBusConfig};

use crate::bus::require_out;
use crate::last_error::guard;
use crate::strings::write_string;

/// Borrows configuration text as UTF-8; text that is not UTF-8 is a `config` error at `<root>`.
///
/// # Safety
/// `config_json` must be non-NULL and NUL-terminated, valid for `'a`.
pub(crate) unsafe fn config_text<'a>(config_json: *const c_char) -> Result<&'a str, Error> {
    // SAFETY: non-NULL and NUL-terminated per the caller's contract.
    unsafe { CStr::from_ptr(config_json) }
        .to_str()
        .map_err(|e| Error::Config {
            key: "<root>".into(),
            message: format!("configuration is not valid UTF-8: {e}"),
        })
}

/// Parses configuration text exactly as `net_init` does, without creating a bus (nothing is
/// started or connected), and writes its normalized JSON form (every key, defaults filled in)
/// to `*out_json`. Release it with `net_string_free`. Errors: NET_ERR_CONFIG with
/// `net_last_error_key()` naming the key. `config_json` NULL means every default.
///
/// # Safety
/// `config_json` must be NULL or NUL-terminated; `out_json` NULL (rejected) or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_config_normalize(
    config_json: *const c_char,
    out_json: *mut *mut c_char,
) -> i32 {
    guard(|| {
        require_out(out_json, "out_json")?;
        let config = if config_json.is_null() {
            EventBusConfig::default()
        } else {
            // SAFETY: non-NULL and NUL-terminated per the caller's contract.
            EventBusConfig::from_json(unsafe { config_text(config_json) }?)?
        };
        // SAFETY: checked non-NULL above; writable per the caller's contract.
        unsafe { write_string(out_json, &config.to_json().to_string()) };
        Ok(())
    })
}
