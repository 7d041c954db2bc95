//! The per-thread last error and the `guard` wrapper every export runs in.
//!
//! Each export body returns `Result<_, net::Error>`; [`guard`] turns that into the `int` status,
//! catches panics (reported as `internal`), and on failure stores the message, the code and, for
//! configuration errors, the offending key in thread-local storage. A success does not clear
//! the stored error (like `errno`): read it only right after a call returned a negative status.

use std::cell::RefCell;
use std::ffi::{CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use net::Error;

use crate::status::NET_OK;

struct LastError {
    message: CString,
    key: CString,
    code: i32,
}

thread_local! {
    static LAST: RefCell<LastError> = RefCell::new(LastError {
        message: CString::default(),
        key: CString::default(),
        code: NET_OK,
    });
}

/// Text without interior NUL bytes (they would cut the C string short), as a `CString`.
pub(crate) fn c_string_lossy(text: &str) -> CString {
    CString::new(text.replace('\0', "\\0")).unwrap_or_default()
}

/// Records `err` as this thread's last error and returns its (negative) code.
pub(crate) fn record(err: &Error) -> i32 {
    let code = err.code();
    let message = c_string_lossy(&err.to_string());
    let key = c_string_lossy(err.key().unwrap_or(""));
    // `try_with` fails only while the thread is being torn down; the code is still returned.
    let _ = LAST.try_with(|last| {
        if let Ok(mut last) = last.try_borrow_mut() {
            *last = LastError { message, key, code };
        }
    });
    code
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_owned()
    }
}

/// Runs an export body that returns a status on success (`NET_OK` or a positive status).
pub(crate) fn guard_status(body: impl FnOnce() -> Result<i32, Error>) -> i32 {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(status)) => status,
        Ok(Err(err)) => record(&err),
        Err(payload) => record(&Error::Internal(format!(
            "panic inside libnet: {}",
            panic_message(payload.as_ref())
        ))),
    }
}

/// Runs an export body that returns nothing on success.
pub(crate) fn guard(body: impl FnOnce() -> Result<(), Error>) -> i32 {
    guard_status(|| body().map(|()| NET_OK))
}

/// Reads the stored error with `f`; a thread being torn down reads as "no error".
fn with_last<T: Copy>(f: impl FnOnce(&LastError) -> T, fallback: T) -> T {
    LAST.try_with(|last| match last.try_borrow() {
        Ok(last) => f(&last),
        Err(_) => fallback,
    })
    .unwrap_or(fallback)
}

/// The message of the last failed libnet call on this thread, as NUL-terminated UTF-8; "" if
/// no call has failed on this thread. Owned by the library: do not free it. It stays valid until
/// the next failing libnet call on the same thread. Never fails.
#[unsafe(no_mangle)]
pub extern "C" fn net_last_error() -> *const c_char {
    catch_unwind(|| with_last(|l| l.message.as_ptr(), c"".as_ptr())).unwrap_or(c"".as_ptr())
}

/// The status code of the last failed libnet call on this thread (0 if none). Never fails.
#[unsafe(no_mangle)]
pub extern "C" fn net_last_error_code() -> i32 {
    catch_unwind(|| with_last(|l| l.code, NET_OK)).unwrap_or(NET_OK)
}

/// For a `NET_ERR_CONFIG` failure, the dotted path of the offending configuration key (for
/// example `"backpressure.timeout_ms"`, or `"<root>"` when the text is not a JSON object); "" for
/// other errors. Owned by the library: do not free it; valid until the next failing call on
/// this thread. Never fails.
#[unsafe(no_mangle)]
pub extern "C" fn net_last_error_key() -> *const c_char {
    catch_unwind(|| with_last(|l| l.key.as_ptr(), c"".as_ptr())).unwrap_or(c"".as_ptr())
}

#[cfg(test)]
mod tests {
    use std::ffi::CStr;

    use super::*;
    use crate::status::{NET_ERR_CONFIG, NET_ERR_INTERNAL};

    fn message() -> String {
        // SAFETY: never NULL, NUL-terminated.
        unsafe { CStr::from_ptr(net_last_error()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn a_panic_becomes_internal() {
        let rc = guard(|| panic!("boom {}", 7));
        assert_eq!(rc, NET_ERR_INTERNAL);
        assert_eq!(net_last_error_code(), NET_ERR_INTERNAL);
        assert!(message().contains("boom 7"), "{}", message());
    }

    #[test]
    fn errors_keep_message_and_key_and_success_keeps_them() {
        let rc = guard(|| {
            Err(Error::Config {
                key: "a.b".into(),
                message: "bad\0value".into(),
            })
        });
        assert_eq!(rc, NET_ERR_CONFIG);
        // SAFETY: never NULL, NUL-terminated.
        let key = unsafe { CStr::from_ptr(net_last_error_key()) };
        assert_eq!(key.to_str().unwrap(), "a.b");
        assert_eq!(guard(|| Ok(())), NET_OK);
        assert_eq!(net_last_error_code(), NET_ERR_CONFIG);
        assert!(message().contains("a.b"));
    }
}
