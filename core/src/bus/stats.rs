//! Counters the bus reports: what was accepted, delivered, dropped (by reason) and rejected.
//!
//! Promise: after `flush()` with no concurrent producers,
//! `accepted == delivered + dropped.drop_oldest + dropped.adapter_failed` and `in_flight == 0`.
//! Offered events that were never accepted (`drop_newest`, `sampled`, rejections) are counted
//! separately; they have no sequence number.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use crate::adapter::AdapterStats;

/// Per-shard atomic counters, written on slow paths and by the drain worker.
#[derive(Default)]
pub(crate) struct ShardCounters {
    pub drop_oldest: AtomicU64,
    pub drop_newest: AtomicU64,
    pub sampled: AtomicU64,
    pub adapter_failed: AtomicU64,
    pub rejected_backpressure: AtomicU64,
    pub rejected_timeout: AtomicU64,
    pub delivered: AtomicU64,
    pub adapter_errors: AtomicU64,
}

impl ShardCounters {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// Events dropped, by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DropCounts {
    /// Accepted events pushed out of a full ring (`drop_oldest`).
    pub drop_oldest: u64,
    /// Offered events discarded at a full ring (`drop_newest`).
    pub drop_newest: u64,
    /// Offered events not kept by sampling (`sample`).
    pub sampled: u64,
    /// Accepted events the adapter refused after every retry.
    pub adapter_failed: u64,
}

impl DropCounts {
    /// Sum over every reason.
    pub fn total(&self) -> u64 {
        self.drop_oldest + self.drop_newest + self.sampled + self.adapter_failed
    }
}

/// Offered events refused with an error (the producer still holds them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RejectCounts {
    /// `fail_producer` rejections.
    pub backpressure: u64,
    /// `block` waits that timed out.
    pub timeout: u64,
}

/// Counters of one shard.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ShardStats {
    /// Shard index.
    pub shard: u16,
    /// Events accepted into the ring (sequence numbers handed out).
    pub accepted: u64,
    /// Events stored by the adapter.
    pub delivered: u64,
    /// Events waiting in the ring right now.
    pub queued: u64,
    /// Drops by reason.
    pub dropped: DropCounts,
    /// Rejections by reason.
    pub rejected: RejectCounts,
}

/// A snapshot of the bus counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Events accepted (sum over shards).
    pub accepted: u64,
    /// Events stored by the adapter.
    pub delivered: u64,
    /// Accepted events neither delivered nor dropped yet (in rings or in a batch being stored).
    pub in_flight: u64,
    /// Drops by reason.
    pub dropped: DropCounts,
    /// Rejections by reason.
    pub rejected: RejectCounts,
    /// Failed adapter calls (each retried batch counts once per failure).
    pub adapter_errors: u64,
    /// Adapter name.
    pub adapter_name: String,
    /// Adapter-side counters (retention and eviction).
    pub adapter: AdapterCounters,
    /// Per-shard counters.
    pub shards: Vec<ShardStats>,
    /// Connection state of a networked adapter (absent for the memory adapter).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adapter_connection: Option<crate::adapter::ConnectionStats>,
}

/// Serializable copy of [`AdapterStats`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AdapterCounters {
    /// Events stored since start.
    pub stored: u64,
    /// Events removed by retention since start.
    pub evicted: u64,
    /// Events currently retained.
    pub retained: u64,
    /// Payload bytes currently retained.
    pub retained_bytes: u64,
}

impl From<AdapterStats> for AdapterCounters {
    fn from(a: AdapterStats) -> Self {
        AdapterCounters {
            stored: a.stored,
            evicted: a.evicted,
            retained: a.retained,
            retained_bytes: a.retained_bytes,
        }
    }
}

impl Stats {
    /// The stats as JSON (the shape every language skin exposes).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// What `shutdown()` reports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ShutdownReport {
    /// Events accepted over the bus's life.
    pub accepted: u64,
    /// Events stored by the adapter.
    pub delivered: u64,
    /// Drops by reason.
    pub dropped: DropCounts,
    /// Accepted events that were neither delivered nor counted as dropped (always 0 unless the
    /// engine has a bug; reported rather than hidden).
    pub undelivered: u64,
    /// Error from the adapter's own flush/shutdown, if any.
    pub adapter_error: Option<String>,
}

pub(crate) fn load(c: &AtomicU64) -> u64 {
    c.load(Ordering::Relaxed)
}
