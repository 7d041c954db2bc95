//! Strings the library hands out (JSON results, cursors) and their one free function.

use std::ffi::{CStr, CString, c_char};

use net::Error;

use crate::last_error::{c_string_lossy, guard};
use crate::registry::Allocations;

static STRINGS: Allocations = Allocations::new("string");

/// Hands `text` to C as a NUL-terminated string to be released with `net_string_free`.
pub(crate) fn hand_out(text: &str) -> *mut c_char {
    let ptr = c_string_lossy(text).into_raw();
    STRINGS.insert(ptr as usize);
    ptr
}

/// Writes a handed-out copy of `text` to `out` (checked non-NULL by the caller).
///
/// # Safety
/// `out` must be valid for a pointer-sized write.
pub(crate) unsafe fn write_string(out: *mut *mut c_char, text: &str) {
    let ptr = hand_out(text);
    // SAFETY: the caller guarantees `out` is a valid, writable `char **`.
    unsafe { out.write(ptr) };
}

/// Borrows a NUL-terminated C string as UTF-8 text; `what` names the argument in errors.
///
/// # Safety
/// `ptr` must be NULL or point to a NUL-terminated string that stays valid for `'a`.
pub(crate) unsafe fn borrow_text<'a>(ptr: *const c_char, what: &str) -> Result<&'a str, Error> {
    if ptr.is_null() {
        return Err(Error::InvalidArgument(format!("{what} is NULL")));
    }
    // SAFETY: non-NULL and, per the caller's contract, NUL-terminated and live for 'a.
    let cstr = unsafe { CStr::from_ptr(ptr) };
    cstr.to_str()
        .map_err(|e| Error::InvalidArgument(format!("{what} is not valid UTF-8: {e}")))
}

/// Releases a string returned by `net_poll`, `net_stats`, `net_shutdown`, `net_config_json` or
/// `net_subscription_cursor`. NULL, or a pointer that is not a live libnet string (already
/// freed, or from elsewhere), is left untouched and NET_ERR_INVALID_ARGUMENT is returned, so a
/// double free is reported, not a crash.
///
/// # Safety
/// `s` must be NULL or a pointer previously returned by one of the functions above (a detected
/// double free is safe).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_string_free(s: *mut c_char) -> i32 {
    guard(|| {
        if s.is_null() {
            return Err(Error::InvalidArgument(
                "string is NULL; nothing freed".into(),
            ));
        }
        STRINGS.remove(s as usize)?;
        // SAFETY: `s` was produced by `CString::into_raw` in `hand_out` and was still
        // registered, so this is its one and only release.
        drop(unsafe { CString::from_raw(s) });
        Ok(())
    })
}
