//! `PacketPool`: reusable byte buffers for the send path (sealed datagrams, forwarded
//! datagrams and the frames streams build), so a node in steady state allocates nothing per
//! packet.
//!
//! Promises: [`PacketPool::take`] returns an empty `Vec` whose capacity is at least the
//! requested length; [`PacketPool::put`] keeps a returned buffer for reuse unless the pool
//! already holds `max_buffers` or the buffer is larger than [`MAX_POOLED_CAPACITY`] (then it is
//! freed, so the pool's memory stays bounded by about `max_buffers * MAX_POOLED_CAPACITY`).
//! The counters say how often a take was served from the pool (`hits`) or had to allocate
//! (`misses`). Thread-safe: the endpoint takes buffers under its own lock, the UDP driver
//! returns them after the system call without it. Not promised: buffers come back zeroed
//! (they are cleared, i.e. length 0, not overwritten).

use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

/// Capacity of a freshly allocated pool buffer: one datagram of the default frame size with
/// routing header, Net header and tag fits, with room to spare.
pub const DEFAULT_BUFFER_CAPACITY: usize = 2048;
/// Buffers with more capacity than this are not kept (a rare large datagram does not pin
/// memory).
pub const MAX_POOLED_CAPACITY: usize = 64 * 1024;

/// Counters of a [`PacketPool`] (monotonic, read with [`PacketPool::stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Takes served by a pooled buffer (no allocation).
    pub hits: u64,
    /// Takes that allocated (pool empty, or the pooled buffer was too small and grew).
    pub misses: u64,
    /// Buffers handed back and kept.
    pub recycled: u64,
    /// Buffers handed back and freed (pool full or buffer too large).
    pub discarded: u64,
    /// Buffers waiting in the pool now.
    pub pooled: u64,
}

/// A bounded free list of byte buffers. See the module docs.
#[derive(Debug)]
pub struct PacketPool {
    free: Mutex<Vec<Vec<u8>>>,
    max_buffers: usize,
    hits: AtomicU64,
    misses: AtomicU64,
    recycled: AtomicU64,
    discarded: AtomicU64,
}

impl PacketPool {
    /// A pool keeping at most `max_buffers` free buffers.
    pub fn new(max_buffers: usize) -> Self {
        PacketPool {
            free: Mutex::new(Vec::with_capacity(max_buffers)),
            max_buffers,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            recycled: AtomicU64::new(0),
            discarded: AtomicU64::new(0),
        }
    }

    /// An empty buffer with capacity for at least `len` bytes: a pooled one when available.
    pub fn take(&self, len: usize) -> Vec<u8> {
        let pooled = self.free.lock().pop();
        match pooled {
            Some(mut buf) => {
                if buf.capacity() >= len {
                    self.hits.fetch_add(1, Ordering::Relaxed);
                } else {
                    self.misses.fetch_add(1, Ordering::Relaxed);
                    buf.reserve(len);
                }
                buf
            }
            None => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                Vec::with_capacity(len.max(DEFAULT_BUFFER_CAPACITY))
            }
        }
    }

    /// Hands a buffer back (cleared here).
    pub fn put(&self, buf: Vec<u8>) {
        self.put_all(std::iter::once(buf));
    }

    /// Hands many buffers back under one lock.
    pub fn put_all(&self, bufs: impl IntoIterator<Item = Vec<u8>>) {
        let (mut kept, mut freed) = (0u64, 0u64);
        {
            let mut free = self.free.lock();
            for mut buf in bufs {
                if free.len() < self.max_buffers
                    && buf.capacity() > 0
                    && buf.capacity() <= MAX_POOLED_CAPACITY
                {
                    buf.clear();
                    free.push(buf);
                    kept += 1;
                } else {
                    freed += 1;
                }
            }
        }
        self.recycled.fetch_add(kept, Ordering::Relaxed);
        self.discarded.fetch_add(freed, Ordering::Relaxed);
    }

    /// The pool's counters.
    pub fn stats(&self) -> PoolStats {
        PoolStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            recycled: self.recycled.load(Ordering::Relaxed),
            discarded: self.discarded.load(Ordering::Relaxed),
            pooled: self.free.lock().len() as u64,
        }
    }
}

impl Default for PacketPool {
    /// A pool of at most 4,096 buffers (about 8 MiB at the default capacity).
    fn default() -> Self {
        PacketPool::new(4096)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuses_buffers_and_counts() {
        let pool = PacketPool::new(2);
        let a = pool.take(100);
        assert!(a.capacity() >= 100 && a.is_empty());
        let ptr = a.as_ptr();
        pool.put(a);
        let mut b = pool.take(100);
        assert_eq!(b.as_ptr(), ptr, "the same buffer came back");
        b.extend_from_slice(&[1, 2, 3]);
        pool.put_all([b, Vec::with_capacity(10), Vec::with_capacity(10)]);
        let s = pool.stats();
        assert_eq!((s.hits, s.misses), (1, 1));
        assert_eq!((s.recycled, s.discarded, s.pooled), (3, 1, 2));
        assert!(pool.take(10).is_empty(), "returned buffers are cleared");
        // A pooled buffer too small for the request grows and counts as a miss.
        let big = pool.take(DEFAULT_BUFFER_CAPACITY * 4);
        assert!(big.capacity() >= DEFAULT_BUFFER_CAPACITY * 4);
        assert_eq!(pool.stats().misses, 2);
        pool.put(Vec::with_capacity(MAX_POOLED_CAPACITY + 1));
        assert_eq!(pool.stats().discarded, 2, "oversized buffers are not kept");
    }
}
