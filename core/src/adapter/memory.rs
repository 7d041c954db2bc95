//! The in-memory adapter: the default, and the one that makes poll/subscribe work out of the box.
//!
//! Promise: per shard it retains the newest events, bounded by `max_events_per_shard` and
//! `max_bytes_per_shard` (payload bytes); every eviction is counted. Reads clone reference-
//! counted buffers, never payload bytes. Not promised: durability across restarts.

use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::RwLock;

use super::segmented::SegmentedDeque;
use super::{Adapter, AdapterError, AdapterStats, Delivery, Health, ShardPage, StoredEvent};

/// Cursor tag of the memory adapter.
pub const MEMORY_CURSOR_TAG: u8 = 1;

#[derive(Default)]
struct ShardStore {
    /// Retained events; `events[i]` has position `base + i`.
    events: SegmentedDeque<(u64, u64, crate::Event)>,
    base: u64,
    bytes: usize,
}

/// Retains the newest events of each shard in memory.
pub struct MemoryAdapter {
    max_events: usize,
    max_bytes: usize,
    shards: RwLock<Vec<RwLock<ShardStore>>>,
    stored: AtomicU64,
    evicted: AtomicU64,
}

impl MemoryAdapter {
    /// A memory adapter with these per-shard retention bounds.
    pub fn new(max_events_per_shard: usize, max_bytes_per_shard: usize) -> MemoryAdapter {
        MemoryAdapter {
            max_events: max_events_per_shard.max(1),
            max_bytes: max_bytes_per_shard.max(1),
            shards: RwLock::new(Vec::new()),
            stored: AtomicU64::new(0),
            evicted: AtomicU64::new(0),
        }
    }

    fn with_shard<R>(
        &self,
        shard: u16,
        f: impl FnOnce(&RwLock<ShardStore>) -> R,
    ) -> Result<R, AdapterError> {
        let shards = self.shards.read();
        let store = shards
            .get(shard as usize)
            .ok_or_else(|| AdapterError(format!("no shard {shard} (not initialized?)")))?;
        Ok(f(store))
    }
}

impl Adapter for MemoryAdapter {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn cursor_tag(&self) -> u8 {
        MEMORY_CURSOR_TAG
    }

    fn init(&self, shards: u16) -> Result<(), AdapterError> {
        let mut all = self.shards.write();
        all.clear();
        all.extend((0..shards).map(|_| RwLock::new(ShardStore::default())));
        Ok(())
    }

    fn on_batch(&self, shard: u16, batch: &mut Vec<Delivery>) -> Result<(), AdapterError> {
        let n = batch.len() as u64;
        let evicted = self.with_shard(shard, |store| {
            let mut s = store.write();
            let mut evicted = 0u64;
            for d in batch.drain(..) {
                s.bytes += d.event.len();
                s.events.push_back((d.seq, d.ts_ns, d.event));
            }
            while s.events.len() > self.max_events
                || (s.bytes > self.max_bytes && s.events.len() > 1)
            {
                if let Some((_, _, old)) = s.events.pop_front() {
                    s.bytes -= old.len();
                    s.base += 1;
                    evicted += 1;
                }
            }
            evicted
        })?;
        self.stored.fetch_add(n, Ordering::Relaxed);
        if evicted > 0 {
            self.evicted.fetch_add(evicted, Ordering::Relaxed);
        }
        Ok(())
    }

    fn flush(&self) -> Result<(), AdapterError> {
        Ok(())
    }

    fn shutdown(&self) -> Result<(), AdapterError> {
        Ok(())
    }

    fn poll_shard(&self, shard: u16, from: u64, max: usize) -> Result<ShardPage, AdapterError> {
        self.with_shard(shard, |store| {
            let s = store.read();
            let end = s.base + s.events.len() as u64;
            let start = from.clamp(s.base, end);
            let skip = (start - s.base) as usize;
            let events = s
                .events
                .iter_from(skip)
                .take(max)
                .enumerate()
                .map(|(i, (seq, ts_ns, event))| StoredEvent {
                    shard,
                    position: start + i as u64,
                    seq: *seq,
                    ts_ns: *ts_ns,
                    event: event.clone(),
                })
                .collect();
            ShardPage { start, events, end }
        })
    }

    fn end_position(&self, shard: u16) -> Result<u64, AdapterError> {
        self.with_shard(shard, |store| {
            let s = store.read();
            s.base + s.events.len() as u64
        })
    }

    fn health(&self) -> Health {
        Health::Healthy
    }

    fn stats(&self) -> AdapterStats {
        let (mut retained, mut retained_bytes) = (0u64, 0u64);
        for store in self.shards.read().iter() {
            let s = store.read();
            retained += s.events.len() as u64;
            retained_bytes += s.bytes as u64;
        }
        AdapterStats {
            stored: self.stored.load(Ordering::Relaxed),
            evicted: self.evicted.load(Ordering::Relaxed),
            retained,
            retained_bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Event;

    fn batch(seqs: std::ops::Range<u64>, size: usize) -> Vec<Delivery> {
        seqs.map(|seq| Delivery {
            seq,
            ts_ns: seq,
            event: Event::from_str(&format!("\"{}\"", "x".repeat(size - 2))).unwrap(),
        })
        .collect()
    }

    #[test]
    fn retains_newest_by_count_and_counts_evictions() {
        let m = MemoryAdapter::new(3, 1 << 20);
        m.init(1).unwrap();
        m.on_batch(0, &mut batch(0..5, 4)).unwrap();
        let page = m.poll_shard(0, 0, 10).unwrap();
        assert_eq!(page.start, 2);
        assert_eq!(page.end, 5);
        assert_eq!(
            page.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![2, 3, 4]
        );
        assert_eq!(m.stats().evicted, 2);
    }

    #[test]
    fn retains_newest_by_bytes() {
        let m = MemoryAdapter::new(100, 25);
        m.init(1).unwrap();
        m.on_batch(0, &mut batch(0..5, 10)).unwrap();
        let s = m.stats();
        assert_eq!((s.retained, s.retained_bytes, s.evicted), (2, 20, 3));
    }

    #[test]
    fn unknown_shard_is_an_error() {
        let m = MemoryAdapter::new(10, 100);
        m.init(1).unwrap();
        assert!(m.on_batch(3, &mut batch(0..1, 4)).is_err());
        assert!(m.poll_shard(3, 0, 1).is_err());
    }
}
