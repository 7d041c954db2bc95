//! Poll: the JSON form (`net_poll`) and the structured form (`net_poll_ex`, `net_poll_page`).
//!
//! Both take the same request JSON, parsed by the engine (`net::bus::request`), so limit, cursor, filter and
//! ordering are honoured identically; only the shape of the result differs.

use std::ffi::{CString, c_char};
use std::fmt::Write as _;

use net::bus::request::parse_poll_request;
use net::{Error, PollResult, StoredEvent};

use crate::bus::{BUSES, require_out};
use crate::last_error::{c_string_lossy, guard};
use crate::registry::Allocations;
use crate::strings::{borrow_text, write_string};
use crate::types::{net_bus, net_event, net_poll_page};

static PAGES: Allocations = Allocations::new("net_poll_page");

/// What a `net_poll_page` pointer really points at: the page first (so the two addresses are
/// equal), then the storage its pointers refer to.
#[repr(C)]
struct PageBox {
    page: net_poll_page,
    events: Vec<net_event>,
    _stored: Vec<StoredEvent>,
    _cursor: CString,
}

/// Runs a poll for a C caller: looks the bus up and parses the optional request text.
///
/// # Safety
/// `request_json` must be NULL or NUL-terminated.
unsafe fn run_poll(bus: *mut net_bus, request_json: *const c_char) -> Result<PollResult, Error> {
    let handle = BUSES.get(bus)?;
    let text = if request_json.is_null() {
        None
    } else {
        // SAFETY: non-NULL and NUL-terminated per the caller's contract.
        Some(unsafe { borrow_text(request_json, "request_json") }?)
    };
    handle.bus.poll(&parse_poll_request(text)?)
}

/// The JSON text of a poll result; event payloads are embedded verbatim, never re-serialized.
fn result_json(result: &PollResult) -> String {
    let payload: usize = result.events.iter().map(|e| e.event.len() + 96).sum();
    let mut out = String::with_capacity(payload + 128);
    out.push_str("{\"events\":[");
    for (i, e) in result.events.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            "{{\"shard\":{},\"position\":{},\"seq\":{},\"ts_ns\":{},\"event\":",
            e.shard, e.position, e.seq, e.ts_ns
        );
        out.push_str(e.event.as_str().trim());
        out.push('}');
    }
    out.push_str("],\"cursor\":");
    out.push_str(&serde_json::Value::from(result.cursor.as_str()).to_string());
    let _ = write!(
        out,
        ",\"skipped\":{},\"has_more\":{}}}",
        result.skipped, result.has_more
    );
    out
}

/// Polls with a JSON request `{"limit","cursor","filter","ordering"}` (every key optional;
/// NULL means `{}`: the oldest 100 events) and writes the result as JSON to `*out_json`:
/// `{"events":[{"shard","position","seq","ts_ns","event":<the raw event>}],"cursor",
/// "skipped","has_more"}`. Release it with `net_string_free`. Errors: NET_ERR_INVALID_ARGUMENT
/// (unknown key, bad limit or ordering), NET_ERR_INVALID_FILTER, NET_ERR_INVALID_CURSOR.
///
/// # Safety
/// `request_json` must be NULL or NUL-terminated; `out_json` NULL (rejected) or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_poll(
    bus: *mut net_bus,
    request_json: *const c_char,
    out_json: *mut *mut c_char,
) -> i32 {
    guard(|| {
        require_out(out_json, "out_json")?;
        // SAFETY: forwarded caller contract.
        let result = unsafe { run_poll(bus, request_json) }?;
        // SAFETY: checked non-NULL above; writable per the caller's contract.
        unsafe { write_string(out_json, &result_json(&result)) };
        Ok(())
    })
}

/// Polls like `net_poll` (same request JSON) but returns the result as a structured page
/// without JSON: `(*out_page)->events[i]` gives each event's id (position), seq, shard,
/// insertion_ts and its raw bytes as `ptr`/`len`, all owned by the page. Release the page with
/// `net_poll_page_free` (exactly once; a detected double free returns an error). On failure
/// `*out_page` is set to NULL.
///
/// # Safety
/// `request_json` must be NULL or NUL-terminated; `out_page` NULL (rejected) or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_poll_ex(
    bus: *mut net_bus,
    request_json: *const c_char,
    out_page: *mut *mut net_poll_page,
) -> i32 {
    guard(|| {
        require_out(out_page, "out_page")?;
        // SAFETY: checked non-NULL above; writable per the caller's contract.
        unsafe { out_page.write(std::ptr::null_mut()) };
        // SAFETY: forwarded caller contract.
        let result = unsafe { run_poll(bus, request_json) }?;
        let events: Vec<net_event> = result.events.iter().map(net_event::from_stored).collect();
        let cursor = c_string_lossy(&result.cursor);
        let boxed = Box::new(PageBox {
            page: net_poll_page {
                events: events.as_ptr(),
                count: events.len(),
                cursor: cursor.as_ptr(),
                skipped: result.skipped,
                has_more: result.has_more,
            },
            events,
            _stored: result.events,
            _cursor: cursor,
        });
        // Moving the Vecs and the CString into the box does not move their heap buffers, so the
        // pointers stored in `page` stay valid.
        let ptr = Box::into_raw(boxed);
        PAGES.insert(ptr as usize);
        // SAFETY: as above; `PageBox` is repr(C) with `page` first, so the addresses coincide.
        unsafe { out_page.write(ptr.cast::<net_poll_page>()) };
        Ok(())
    })
}

/// Releases a page returned by `net_poll_ex`, including every event buffer it points to.
/// Freeing the same page twice is detected and returns NET_ERR_INVALID_ARGUMENT without
/// touching memory (documented safe), as do NULL and a pointer not from `net_poll_ex`.
///
/// # Safety
/// `page` must be NULL or a pointer returned by `net_poll_ex` (possibly already freed).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_poll_page_free(page: *mut net_poll_page) -> i32 {
    guard(|| {
        if page.is_null() {
            return Err(Error::InvalidArgument("page is NULL; nothing freed".into()));
        }
        PAGES.remove(page as usize)?;
        // SAFETY: the address was registered by `net_poll_ex` as a `Box<PageBox>` and was still
        // live, so this is its one release.
        drop(unsafe { Box::from_raw(page.cast::<PageBox>()) });
        Ok(())
    })
}
