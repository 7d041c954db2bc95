//! Status codes, the ABI version and the library version.
//!
//! The negative codes are the engine's `ErrorKind::code()` values written out as literals, so
//! cbindgen can put them in `net.h` as `#define`s; the `codes` test checks that header, this
//! module, the engine enum and `tests/cross_lang/errors.json` agree.

use std::ffi::{CStr, CString, c_char};
use std::sync::LazyLock;

use net::ErrorKind;

/// The version of the C ABI described by `net.h`. A binding built against one version refuses
/// a library whose `net_abi_version()` differs. Bumped on any incompatible change to a
/// signature, a struct layout or the meaning of a status code.
pub const NET_ABI_VERSION: u32 = 1;

/// Success.
pub const NET_OK: i32 = 0;
/// `net_subscription_next`: the bus shut down and every remaining event was handed out.
pub const NET_ENDED: i32 = 1;
/// `net_subscription_next`: the subscriber fell behind retention; `*out_skipped` events were
/// evicted unread. The subscription continues from the oldest retained event.
pub const NET_LAGGED: i32 = 2;
/// `net_subscription_next`: the subscription was cancelled with `net_subscription_cancel` (or
/// is being freed). Final: every later call returns it too.
pub const NET_CANCELLED: i32 = 3;

/// A bug or a caught panic inside the library (kind `internal`).
pub const NET_ERR_INTERNAL: i32 = -1;
/// NULL pointer, bad UTF-8 in a request, bad limit, batch or ordering, unknown or freed handle
/// (kind `invalid_argument`).
pub const NET_ERR_INVALID_ARGUMENT: i32 = -2;
/// An event is not valid JSON (kind `invalid_json`).
pub const NET_ERR_INVALID_JSON: i32 = -3;
/// Bad configuration; `net_last_error_key()` names the key (kind `config`).
pub const NET_ERR_CONFIG: i32 = -4;
/// Ring full under `fail_producer` (kind `backpressure`).
pub const NET_ERR_BACKPRESSURE: i32 = -5;
/// Dropped by `drop_newest` or `sample` (kind `dropped`).
pub const NET_ERR_DROPPED: i32 = -6;
/// A bounded wait expired: `block` backpressure, flush, subscription wait (kind `timeout`).
pub const NET_ERR_TIMEOUT: i32 = -7;
/// Ingest or flush after shutdown began (kind `shutting_down`).
pub const NET_ERR_SHUTTING_DOWN: i32 = -8;
/// A cursor is malformed, corrupt or from another bus layout (kind `invalid_cursor`).
pub const NET_ERR_INVALID_CURSOR: i32 = -9;
/// A filter is not valid in the filter language (kind `invalid_filter`).
pub const NET_ERR_INVALID_FILTER: i32 = -10;
/// An event is larger than `max_event_bytes` (kind `payload_too_large`).
pub const NET_ERR_PAYLOAD_TOO_LARGE: i32 = -11;
/// The adapter failed (kind `adapter`).
pub const NET_ERR_ADAPTER: i32 = -12;

/// Every error code with its engine kind, in code order (used by tests and by `code_name`).
pub const ERROR_CODES: [(i32, ErrorKind); 12] = [
    (NET_ERR_INTERNAL, ErrorKind::Internal),
    (NET_ERR_INVALID_ARGUMENT, ErrorKind::InvalidArgument),
    (NET_ERR_INVALID_JSON, ErrorKind::InvalidJson),
    (NET_ERR_CONFIG, ErrorKind::Config),
    (NET_ERR_BACKPRESSURE, ErrorKind::Backpressure),
    (NET_ERR_DROPPED, ErrorKind::Dropped),
    (NET_ERR_TIMEOUT, ErrorKind::Timeout),
    (NET_ERR_SHUTTING_DOWN, ErrorKind::ShuttingDown),
    (NET_ERR_INVALID_CURSOR, ErrorKind::InvalidCursor),
    (NET_ERR_INVALID_FILTER, ErrorKind::InvalidFilter),
    (NET_ERR_PAYLOAD_TOO_LARGE, ErrorKind::PayloadTooLarge),
    (NET_ERR_ADAPTER, ErrorKind::Adapter),
];

/// The version of the C ABI this library implements (NET_ABI_VERSION). Call it first and
/// refuse to continue when it differs from the `NET_ABI_VERSION` you compiled against.
/// Never fails; no allocation.
#[unsafe(no_mangle)]
pub extern "C" fn net_abi_version() -> u32 {
    NET_ABI_VERSION
}

static VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// The library version as a NUL-terminated string such as "0.1.0". The string is static:
/// do not free it. Never fails.
#[unsafe(no_mangle)]
pub extern "C" fn net_version() -> *const c_char {
    VERSION.as_ptr().cast()
}

/// The stable snake_case kind name of a status code ("invalid_json" for -3, "ok" for 0,
/// "ended" / "lagged" / "cancelled" for the positive statuses, "unknown" otherwise). The string is static:
/// do not free it. Never fails.
#[unsafe(no_mangle)]
pub extern "C" fn net_code_name(code: i32) -> *const c_char {
    static OK: &CStr = c"ok";
    static ENDED: &CStr = c"ended";
    static LAGGED: &CStr = c"lagged";
    static CANCELLED: &CStr = c"cancelled";
    static UNKNOWN: &CStr = c"unknown";
    // The engine's names, NUL-terminated once; kept for the life of the process.
    static NAMES: LazyLock<Vec<(i32, CString)>> = LazyLock::new(|| {
        ERROR_CODES
            .iter()
            .map(|(code, kind)| (*code, CString::new(kind.as_str()).unwrap_or_default()))
            .collect()
    });
    let name: &CStr = match code {
        NET_OK => OK,
        NET_ENDED => ENDED,
        NET_LAGGED => LAGGED,
        NET_CANCELLED => CANCELLED,
        _ => std::panic::catch_unwind(|| {
            NAMES
                .iter()
                .find(|(c, _)| *c == code)
                .map_or(UNKNOWN, |(_, n)| n.as_c_str())
        })
        .unwrap_or(UNKNOWN),
    };
    name.as_ptr()
}
