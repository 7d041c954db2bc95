//! Adapters: where events go after the shard rings.
//!
//! An [`Adapter`] receives batches from the bus's drain workers, one shard at a time and in
//! sequence order per shard, and serves reads by *position*: a dense, per-shard count of the
//! events it has stored (0 for the first). Positions are what cursors record, so an adapter must
//! never reuse or reorder them. Calls are blocking and may come from several threads; an adapter
//! is responsible for its own internal synchronization.

pub(crate) mod build;
pub mod dedup;
#[cfg(feature = "jetstream")]
pub mod jetstream;
#[cfg(any(feature = "redis", feature = "jetstream"))]
mod link;
pub mod memory;
#[cfg(feature = "redis")]
pub mod redis;
pub mod remote_config;
mod segmented;

use crate::event::Event;

pub use memory::MemoryAdapter;

/// Cursor tag of the Redis Streams adapter.
pub const REDIS_CURSOR_TAG: u8 = 2;
/// Cursor tag of the NATS JetStream adapter.
pub const JETSTREAM_CURSOR_TAG: u8 = 3;

/// Connection-level state of a networked adapter (`None` for in-process adapters).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ConnectionStats {
    /// Whether the last operation reached the server.
    pub connected: bool,
    /// Failed operations (connects, writes, reads) since start.
    pub errors: u64,
    /// Connections (re-)established since start.
    pub reconnects: u64,
    /// The most recent error, if any.
    pub last_error: Option<String>,
    /// Mesh adapter only: the address its node is bound to, with the real port when `listen`
    /// asked for port 0 (an unspecified IP such as `0.0.0.0` stays as bound).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_addr: Option<String>,
    /// Mesh adapter only: its node's 128-byte card as 256 lowercase hex digits;
    /// `"{local_addr}@{card}"` is the `peers` entry another bus lists to reach this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card: Option<String>,
}

/// One event handed to an adapter by a drain worker.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Sequence number the producer got in its receipt.
    pub seq: u64,
    /// Insertion time: nanoseconds since the Unix epoch when the batch was drained (monotonic
    /// across the whole bus; every event of one batch shares it).
    pub ts_ns: u64,
    /// The event.
    pub event: Event,
}

/// One event as stored by an adapter.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// Shard it lives in.
    pub shard: u16,
    /// Adapter position within the shard (dense, starts at 0).
    pub position: u64,
    /// Sequence number from the producer's receipt.
    pub seq: u64,
    /// Insertion time in nanoseconds since the Unix epoch.
    pub ts_ns: u64,
    /// The event.
    pub event: Event,
}

/// A read of one shard.
#[derive(Debug, Clone, Default)]
pub struct ShardPage {
    /// Position of the first event returned; larger than the requested position when older
    /// events were evicted (the difference is what the reader skipped).
    pub start: u64,
    /// Events from `start` on, in position order.
    pub events: Vec<StoredEvent>,
    /// Position one past the newest stored event of the shard.
    pub end: u64,
}

/// Health of an adapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// Working normally.
    Healthy,
    /// Working with problems (message says which).
    Degraded(String),
    /// Not working (message says why).
    Unhealthy(String),
}

/// Adapter-level failure; the bus maps it to `Error::Adapter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdapterError(pub String);

impl std::fmt::Display for AdapterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AdapterError {}

/// Counters an adapter reports into `stats()`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdapterStats {
    /// Events stored since start.
    pub stored: u64,
    /// Events removed by retention since start.
    pub evicted: u64,
    /// Events currently retained.
    pub retained: u64,
    /// Payload bytes currently retained.
    pub retained_bytes: u64,
}

/// A storage backend behind the bus.
pub trait Adapter: Send + Sync + 'static {
    /// Short name, e.g. `memory`.
    fn name(&self) -> &'static str;
    /// Tag written into cursors so a cursor from another adapter is rejected.
    fn cursor_tag(&self) -> u8;
    /// Prepares storage for `shards` shards; called once before any batch.
    fn init(&self, shards: u16) -> Result<(), AdapterError>;
    /// Stores a batch for `shard`, in order. All-or-nothing: on success the adapter may move the
    /// events out of `batch` (the bus clears it afterwards, so storing needs no clone); on error
    /// nothing was stored, `batch` must be left as it was, and the bus may retry it.
    fn on_batch(&self, shard: u16, batch: &mut Vec<Delivery>) -> Result<(), AdapterError>;
    /// Returns once everything passed to `on_batch` is durable and readable.
    fn flush(&self) -> Result<(), AdapterError>;
    /// Releases resources; no call follows except reads.
    fn shutdown(&self) -> Result<(), AdapterError>;
    /// Reads up to `max` events of `shard` from `from` on (clamped to what is retained).
    fn poll_shard(&self, shard: u16, from: u64, max: usize) -> Result<ShardPage, AdapterError>;
    /// Position one past the newest stored event of `shard`.
    fn end_position(&self, shard: u16) -> Result<u64, AdapterError>;
    /// Current health.
    fn health(&self) -> Health;
    /// Counters for `stats()`.
    fn stats(&self) -> AdapterStats;
    /// Connection state of a networked adapter; `None` (the default) for in-process ones.
    fn connection_stats(&self) -> Option<ConnectionStats> {
        None
    }
    /// Called once by the bus right after it is built, with a weak handle through which an
    /// adapter that also receives events from elsewhere (the mesh adapter) ingests them. The
    /// default ignores it.
    fn attach(&self, _bus: crate::bus::BusLink) {}
}
