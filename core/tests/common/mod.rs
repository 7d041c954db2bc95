//! Test support: an adapter whose `on_batch` can be held shut, so a ring can be filled on
//! purpose, and small helpers.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use net::adapter::{
    Adapter, AdapterError, AdapterStats, Delivery, Health, MemoryAdapter, ShardPage,
};
use parking_lot::{Condvar, Mutex};

/// A memory adapter behind a gate: while closed, `on_batch` blocks the drain worker.
pub struct GatedAdapter {
    pub memory: MemoryAdapter,
    open: Mutex<bool>,
    cv: Condvar,
    /// Batches currently waiting at the gate.
    pub waiting: AtomicU64,
    /// When set, `on_batch` fails instead of storing.
    pub failing: AtomicBool,
}

impl GatedAdapter {
    pub fn new(open: bool) -> Arc<GatedAdapter> {
        Arc::new(GatedAdapter {
            memory: MemoryAdapter::new(1 << 20, 1 << 30),
            open: Mutex::new(open),
            cv: Condvar::new(),
            waiting: AtomicU64::new(0),
            failing: AtomicBool::new(false),
        })
    }

    pub fn open(&self) {
        *self.open.lock() = true;
        self.cv.notify_all();
    }

    /// Waits until a drain worker is parked at the closed gate.
    pub fn wait_for_blocked_worker(&self) {
        let start = std::time::Instant::now();
        while self.waiting.load(Ordering::SeqCst) == 0 {
            assert!(
                start.elapsed().as_secs() < 10,
                "drain worker never reached the gate"
            );
            std::thread::yield_now();
        }
    }
}

impl Adapter for GatedAdapter {
    fn name(&self) -> &'static str {
        "gated"
    }
    fn cursor_tag(&self) -> u8 {
        self.memory.cursor_tag()
    }
    fn init(&self, shards: u16) -> Result<(), AdapterError> {
        self.memory.init(shards)
    }
    fn on_batch(&self, shard: u16, batch: &mut Vec<Delivery>) -> Result<(), AdapterError> {
        let mut open = self.open.lock();
        self.waiting.fetch_add(1, Ordering::SeqCst);
        while !*open {
            self.cv.wait(&mut open);
        }
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        drop(open);
        if self.failing.load(Ordering::SeqCst) {
            return Err(AdapterError("injected failure".into()));
        }
        self.memory.on_batch(shard, batch)
    }
    fn flush(&self) -> Result<(), AdapterError> {
        self.memory.flush()
    }
    fn shutdown(&self) -> Result<(), AdapterError> {
        self.memory.shutdown()
    }
    fn poll_shard(&self, shard: u16, from: u64, max: usize) -> Result<ShardPage, AdapterError> {
        self.memory.poll_shard(shard, from, max)
    }
    fn end_position(&self, shard: u16) -> Result<u64, AdapterError> {
        self.memory.end_position(shard)
    }
    fn health(&self) -> Health {
        Health::Healthy
    }
    fn stats(&self) -> AdapterStats {
        self.memory.stats()
    }
}

/// `{"i":N}` as an event.
pub fn ev(i: u64) -> net::Event {
    net::Event::from_str(&format!(r#"{{"i":{i}}}"#)).unwrap()
}

/// The `i` field of an event made by [`ev`] (or any event with an integer `i`).
pub fn index(e: &net::StoredEvent) -> u64 {
    e.event.to_value()["i"].as_u64().unwrap()
}
