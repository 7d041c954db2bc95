//! The types `net.h` declares: two opaque handles and four `#[repr(C)]` structs.
//!
//! Handles (`net_bus`, `net_subscription`) are pointers the library hands out and takes back; C
//! never sees their fields. The plain structs are filled by the library into memory the caller
//! owns (`net_receipt`, `net_outcome`) or live inside an allocation the library owns
//! (`net_event`, `net_poll_page`).

use std::ffi::c_char;
use std::sync::Mutex;

use net::bus::SubscriptionCanceller;
use net::{EventBus, StoredEvent, Subscription};

/// An event bus. Created by `net_init`, released by `net_free` (exactly once).
pub struct net_bus {
    pub(crate) bus: EventBus,
}

/// A push subscription on a bus. Created by `net_subscribe`, released by
/// `net_subscription_free` (exactly once).
pub struct net_subscription {
    pub(crate) state: Mutex<SubscriptionState>,
    /// Outside the lock: a cancel must not wait for the `net_subscription_next` it interrupts.
    pub(crate) canceller: SubscriptionCanceller,
}

/// What a subscription handle owns: the engine subscription and the event handed out last
/// (whose bytes `net_event.ptr` points into until the next call).
pub(crate) struct SubscriptionState {
    pub(crate) sub: Subscription,
    pub(crate) current: Option<StoredEvent>,
}

/// Where an accepted event went.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct net_receipt {
    /// Per-shard sequence number (strictly increasing in acceptance order).
    pub seq: u64,
    /// Shard index.
    pub shard: u16,
}

/// The outcome of one event of a batch ingest.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct net_outcome {
    /// Per-shard sequence number; meaningful when `status` is NET_OK.
    pub seq: u64,
    /// NET_OK, or the negative code this event failed with (no message is kept per event).
    pub status: i32,
    /// Shard index; meaningful when `status` is NET_OK.
    pub shard: u16,
}

/// One stored event as read by `net_poll_ex` or `net_subscription_next`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct net_event {
    /// The event's position in its shard: dense, starts at 0, never reused (what cursors record).
    pub id: u64,
    /// The sequence number its producer got in the receipt.
    pub seq: u64,
    /// Insertion time in nanoseconds since the Unix epoch (monotonic across the bus).
    pub insertion_ts: u64,
    /// The raw JSON bytes, exactly as ingested; NOT NUL-terminated. Owned by the library.
    pub ptr: *const u8,
    /// Length of `ptr` in bytes.
    pub len: usize,
    /// Shard index.
    pub shard: u16,
}

impl net_event {
    /// An event with every field zero and `ptr` NULL.
    pub const EMPTY: net_event = net_event {
        id: 0,
        seq: 0,
        insertion_ts: 0,
        ptr: std::ptr::null(),
        len: 0,
        shard: 0,
    };

    pub(crate) fn from_stored(e: &StoredEvent) -> net_event {
        let raw = e.event.raw();
        net_event {
            id: e.position,
            seq: e.seq,
            insertion_ts: e.ts_ns,
            ptr: raw.as_ptr(),
            len: raw.len(),
            shard: e.shard,
        }
    }
}

/// The result of `net_poll_ex`: an array of events and the cursor to resume from. Allocated
/// by the library; release it with `net_poll_page_free` (exactly once). Every pointer in it is
/// valid until then.
#[repr(C)]
#[derive(Debug)]
pub struct net_poll_page {
    /// `count` events, ordered as requested.
    pub events: *const net_event,
    /// Number of events.
    pub count: usize,
    /// NUL-terminated cursor to pass as "cursor" to the next poll.
    pub cursor: *const c_char,
    /// Events the request's cursor pointed at that retention evicted before this read.
    pub skipped: u64,
    /// True when more events (possibly not matching the filter) remain after this page.
    pub has_more: bool,
}
