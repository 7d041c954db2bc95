//! Push subscriptions: open, wait for the next event, read the cursor, free.
//!
//! A subscription is woken by the engine when events land (no polling loop). One thread at a
//! time should consume a given subscription: the event handed out by `net_subscription_next`
//! lives inside the subscription until the next call. Any thread may cancel it
//! (`net_subscription_cancel`): a waiting `net_subscription_next` returns NET_CANCELLED at once,
//! which lets a binding stop a consumer blocked without a timeout.

use std::ffi::c_char;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use net::bus::WaitOutcome;
use net::bus::request::parse_subscribe_options;
use net::{Error, SubscriptionItem};

use crate::bus::{BUSES, require_out};
use crate::last_error::{guard, guard_status};
use crate::registry::Handles;
use crate::status::{NET_CANCELLED, NET_ENDED, NET_LAGGED, NET_OK};
use crate::strings::{borrow_text, write_string};
use crate::types::{SubscriptionState, net_bus, net_event, net_subscription};

static SUBSCRIPTIONS: Handles<net_subscription> = Handles::new("net_subscription");

/// Opens a push subscription. `options_json` (NULL means `{}`) takes `{"filter": {..}, "from":
/// "beginning" | "latest", "cursor": "..", "batch": n, "ordering": "per_shard" |
/// "insertion_time"}`; `from` defaults to "beginning", and `cursor` (from `net_poll`,
/// `net_poll_ex` or `net_subscription_cursor`) resumes after the events it covered. Errors:
/// NET_ERR_INVALID_ARGUMENT, NET_ERR_INVALID_FILTER, NET_ERR_INVALID_CURSOR. On success
/// `*out_sub` receives the handle; release it with `net_subscription_free` (also after the bus
/// is freed). On failure `*out_sub` is set to NULL.
///
/// # Safety
/// `options_json` must be NULL or NUL-terminated; `out_sub` NULL (rejected) or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_subscribe(
    bus: *mut net_bus,
    options_json: *const c_char,
    out_sub: *mut *mut net_subscription,
) -> i32 {
    guard(|| {
        require_out(out_sub, "out_sub")?;
        // SAFETY: checked non-NULL above; writable per the caller's contract.
        unsafe { out_sub.write(std::ptr::null_mut()) };
        let handle = BUSES.get(bus)?;
        let text = if options_json.is_null() {
            None
        } else {
            // SAFETY: non-NULL and NUL-terminated per the caller's contract.
            Some(unsafe { borrow_text(options_json, "options_json") }?)
        };
        let sub = handle.bus.subscribe(parse_subscribe_options(text)?)?;
        let ptr = SUBSCRIPTIONS.insert(net_subscription {
            canceller: sub.canceller(),
            state: Mutex::new(SubscriptionState { sub, current: None }),
        });
        // SAFETY: as above.
        unsafe { out_sub.write(ptr) };
        Ok(())
    })
}

/// Waits for the next item of a subscription. `timeout_ms` < 0 waits without bound (until an
/// event arrives or the bus shuts down), 0 only takes what is already there, > 0 waits at most
/// that long. Returns:
/// - NET_OK: `*out_event` holds the event; its `ptr` stays valid until the next call on this
///   subscription or `net_subscription_free` (nothing to free);
/// - NET_LAGGED (2): the subscriber fell behind retention and `*out_skipped` (if not NULL)
///   holds how many events were evicted unread; `*out_event` is zeroed; call again to continue
///   from the oldest retained event;
/// - NET_ENDED (1): the bus shut down and every remaining event was handed out;
/// - NET_CANCELLED (3): `net_subscription_cancel` was called (before or during this wait);
///   final, and `net_subscription_cursor` still says where the subscription stopped;
/// - NET_ERR_TIMEOUT: nothing arrived in time (not a failure of the subscription).
///
/// # Safety
/// `sub` must be NULL or a handle from `net_subscribe` (looked up; a freed one is detected);
/// `out_event` NULL (rejected) or writable; `out_skipped` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_subscription_next(
    sub: *mut net_subscription,
    timeout_ms: i64,
    out_event: *mut net_event,
    out_skipped: *mut u64,
) -> i32 {
    guard_status(|| {
        require_out(out_event, "out_event")?;
        // SAFETY: checked non-NULL above; writable per the caller's contract.
        unsafe { out_event.write(net_event::EMPTY) };
        let handle = SUBSCRIPTIONS.get(sub)?;
        let mut state = handle.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.current = None;
        let timeout = u64::try_from(timeout_ms).ok().map(Duration::from_millis);
        match state.sub.wait(timeout)? {
            WaitOutcome::Ended => Ok(NET_ENDED),
            WaitOutcome::Cancelled => Ok(NET_CANCELLED),
            WaitOutcome::TimedOut => Err(Error::Timeout("no event arrived in time".into())),
            WaitOutcome::Item(SubscriptionItem::Lagged { skipped }) => {
                if !out_skipped.is_null() {
                    // SAFETY: non-NULL and writable per the caller's contract.
                    unsafe { out_skipped.write(skipped) };
                }
                Ok(NET_LAGGED)
            }
            WaitOutcome::Item(SubscriptionItem::Event(event)) => {
                // SAFETY: checked non-NULL above; the bytes it points to are kept alive by
                // `state.current` until the next call or the free.
                unsafe { out_event.write(net_event::from_stored(&event)) };
                state.current = Some(event);
                Ok(NET_OK)
            }
        }
    })
}

/// Writes the subscription's cursor (after the last event handed out) to `*out_cursor`; pass it
/// as "cursor" to `net_poll` or `net_subscribe` to resume. Release it with `net_string_free`.
///
/// # Safety
/// `sub` must be NULL or a handle from `net_subscribe`; `out_cursor` NULL (rejected) or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_subscription_cursor(
    sub: *mut net_subscription,
    out_cursor: *mut *mut c_char,
) -> i32 {
    guard(|| {
        require_out(out_cursor, "out_cursor")?;
        let handle = SUBSCRIPTIONS.get(sub)?;
        let cursor = handle
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .sub
            .cursor();
        // SAFETY: checked non-NULL above; writable per the caller's contract.
        unsafe { write_string(out_cursor, &cursor) };
        Ok(())
    })
}

/// Cancels a subscription from any thread: a `net_subscription_next` waiting on it returns
/// NET_CANCELLED promptly (it is woken, not polled), and so does every later call. Idempotent;
/// other subscriptions of the bus are not affected. The handle stays valid: read the cursor if
/// needed, then release it with `net_subscription_free`. A NULL, freed or unknown handle returns
/// NET_ERR_INVALID_ARGUMENT.
///
/// # Safety
/// `sub` must be NULL or a pointer from `net_subscribe` (possibly already freed).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_subscription_cancel(sub: *mut net_subscription) -> i32 {
    guard(|| {
        SUBSCRIPTIONS.get(sub)?.canceller.cancel();
        Ok(())
    })
}

/// Releases a subscription (and the event it handed out last). A NULL, freed or unknown handle
/// returns NET_ERR_INVALID_ARGUMENT and touches nothing. If another thread is waiting in
/// `net_subscription_next` on it, that wait is cancelled (it returns NET_CANCELLED) and the
/// memory is released when it returns.
///
/// # Safety
/// `sub` must be NULL or a pointer from `net_subscribe` (possibly already freed).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_subscription_free(sub: *mut net_subscription) -> i32 {
    guard(|| {
        let handle = SUBSCRIPTIONS.remove(sub)?;
        handle.canceller.cancel();
        drop(handle);
        Ok(())
    })
}
