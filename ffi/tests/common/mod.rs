//! Helpers for calling the C ABI from Rust tests.
#![allow(dead_code)]

use std::ffi::{CStr, CString, c_char};
use std::path::Path;
use std::ptr;

use net_ffi::*;

/// Reads a fixture under `tests/cross_lang/`.
pub fn fixture(rel: &str) -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/cross_lang")
        .join(rel);
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("JSON")
}

/// This thread's last error message.
pub fn last_error() -> String {
    // SAFETY: net_last_error never returns NULL and the string is NUL-terminated.
    unsafe { CStr::from_ptr(net_last_error()) }
        .to_string_lossy()
        .into_owned()
}

/// This thread's last error key.
pub fn last_key() -> String {
    // SAFETY: as above.
    unsafe { CStr::from_ptr(net_last_error_key()) }
        .to_string_lossy()
        .into_owned()
}

/// A bus from JSON config, or the failing code.
pub fn init(config: Option<&str>) -> Result<*mut net_bus, i32> {
    let text = config.map(|c| CString::new(c).unwrap());
    let mut bus = ptr::null_mut();
    // SAFETY: valid C string or NULL; valid out-pointer.
    let rc = unsafe { net_init(text.as_ref().map_or(ptr::null(), |t| t.as_ptr()), &mut bus) };
    if rc == NET_OK { Ok(bus) } else { Err(rc) }
}

/// Takes a library string and frees it.
pub fn take_string(s: *mut c_char) -> String {
    assert!(!s.is_null());
    // SAFETY: a live string handed out by the library.
    let text = unsafe { CStr::from_ptr(s) }.to_str().unwrap().to_owned();
    // SAFETY: released exactly once.
    assert_eq!(unsafe { net_string_free(s) }, NET_OK);
    text
}

/// Ingests raw bytes.
pub fn ingest(bus: *mut net_bus, raw: &[u8]) -> Result<net_receipt, i32> {
    let mut r = net_receipt::default();
    // SAFETY: a live bus and a readable slice.
    let rc = unsafe { net_ingest_raw(bus, raw.as_ptr(), raw.len(), &mut r) };
    if rc == NET_OK { Ok(r) } else { Err(rc) }
}

/// Polls with a JSON request and returns the parsed JSON result, or the code.
pub fn poll_json(bus: *mut net_bus, request: &str) -> Result<serde_json::Value, i32> {
    let req = CString::new(request).unwrap();
    let mut out = ptr::null_mut();
    // SAFETY: valid arguments.
    let rc = unsafe { net_poll(bus, req.as_ptr(), &mut out) };
    if rc != NET_OK {
        return Err(rc);
    }
    Ok(serde_json::from_str(&take_string(out)).expect("poll JSON"))
}

/// Flushes with the default bound.
pub fn flush(bus: *mut net_bus) {
    // SAFETY: a live bus.
    assert_eq!(unsafe { net_flush(bus, -1) }, NET_OK, "{}", last_error());
}

/// Frees a bus.
pub fn free(bus: *mut net_bus) {
    // SAFETY: a live bus, released once.
    assert_eq!(unsafe { net_free(bus) }, NET_OK);
}
