//! Drain workers: each owns a fixed set of shards and moves their rings into the adapter in
//! batches.
//!
//! A worker that finds its rings empty spins briefly, then parks. The sleep protocol is the
//! classic store-then-check pair: the worker stores `sleeping = true` (SeqCst) and re-checks every
//! ring's tail (SeqCst) before parking; a producer's SeqCst tail CAS is followed by a SeqCst load
//! of `sleeping`. So either the worker sees the new event or the producer sees the worker asleep
//! and unparks it; no wakeup is lost and no timer is involved.
//!
//! While events stream into a shard one at a time, a worker may hold them back for a short
//! coalescing window (`drain_linger_ns`, see `linger.rs`) so that it pops runs of events the
//! producer has moved past instead of each event right after it lands. A worker holding events
//! keeps spinning (it never parks while a window is open, so the sleep protocol above is
//! unchanged), and a waiting flush or a shutdown ends every window at once.
//!
//! A batch the adapter refuses is retried with a short backoff; after the last retry its events
//! are counted as `adapter_failed` and never silently forgotten.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;

use super::linger::Linger;
use super::ring::{PopSink, ShardRing};
use super::stats::ShardCounters;
use super::{DRAINING, Inner};
use crate::adapter::Delivery;
use crate::config::Backpressure;
use crate::event::Event;

/// Attempts per batch before its events are counted as `adapter_failed`.
const ADAPTER_ATTEMPTS: u32 = 4;
/// Empty checks (with a CPU pause) before a worker yields, then parks.
const SPINS: u32 = 200;
const YIELDS: u32 = 4;

pub(super) fn spawn_worker(inner: Arc<Inner>, w: usize) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("net-drain-{w}"))
        .spawn(move || {
            let _ = inner.workers[w].thread.set(std::thread::current());
            run(&inner, w);
        })
}

fn run(inner: &Inner, w: usize) {
    let mine: Vec<usize> = (0..inner.shards.len())
        .filter(|&s| inner.shards[s].worker == w)
        .collect();
    let mut batch: Vec<Delivery> = Vec::with_capacity(inner.config.drain_batch);
    let mut inline: Vec<(usize, usize)> = Vec::with_capacity(inner.config.drain_batch);
    let signal = &inner.workers[w];
    let mut linger = Linger::new(
        Duration::from_nanos(inner.config.drain_linger_ns),
        mine.len(),
        inner.config.ring_capacity,
        inner.config.drain_batch,
    );
    // A flush waiting or shutdown begun: no window opens or stays open.
    let urgent = || {
        inner.flushing.load(Ordering::Acquire) != 0
            || inner.state.load(Ordering::Acquire) != super::RUNNING
    };
    let mut idle = 0u32;
    loop {
        let mut moved = 0;
        let mut holding = false;
        for (k, &s) in mine.iter().enumerate() {
            let ring = &inner.shards[s].ring;
            if linger.waiting(k, ring, urgent) {
                holding = true;
                continue;
            }
            if !ring.has_ready() {
                continue;
            }
            if linger.open(k, ring, urgent) {
                holding = true;
                continue;
            }
            let n = drain_shard(inner, s, &mut batch, &mut inline);
            linger.popped(k, n);
            moved += n;
        }
        if moved > 0 {
            idle = 0;
            continue;
        }
        if holding {
            // Events are waiting for a window to end: keep checking, never park.
            std::hint::spin_loop();
            continue;
        }
        let pending = || mine.iter().any(|&s| !inner.shards[s].ring.is_empty());
        let state = inner.state.load(Ordering::SeqCst);
        if state >= DRAINING {
            if pending() {
                continue;
            }
            return;
        }
        idle += 1;
        if idle < SPINS {
            std::hint::spin_loop();
            continue;
        }
        if idle < SPINS + YIELDS {
            std::thread::yield_now();
            continue;
        }
        signal.sleeping.store(true, Ordering::SeqCst);
        let work = mine
            .iter()
            .any(|&s| inner.shards[s].ring.tail() != inner.shards[s].ring.head());
        if work {
            signal.sleeping.store(false, Ordering::SeqCst);
            continue;
        }
        // Shutdown wakes us unconditionally (an unpark before park makes park return).
        std::thread::park();
        signal.sleeping.store(false, Ordering::SeqCst);
        idle = 0;
    }
}

/// Moves up to one batch of shard `s` into the adapter; returns how many events were popped.
fn drain_shard(
    inner: &Inner,
    s: usize,
    batch: &mut Vec<Delivery>,
    inline: &mut Vec<(usize, usize)>,
) -> usize {
    let shard = &inner.shards[s];
    let ts_ns = inner.next_ts();
    batch.clear();
    pop_into(&shard.ring, inner.config.drain_batch, ts_ns, batch, inline);
    let n = batch.len();
    if n == 0 {
        return 0;
    }
    if matches!(inner.config.backpressure, Backpressure::Block { .. }) {
        inner.space.notify(usize::MAX);
    }
    let last = batch[n - 1].seq;
    let mut attempt = 0;
    loop {
        let result = catch_unwind(AssertUnwindSafe(|| inner.adapter.on_batch(s as u16, batch)));
        // A panicking adapter may have taken part of the batch: never retry it.
        let (error, retry) = match result {
            Ok(Ok(())) => {
                ShardCounters::add(&shard.counters.delivered, n as u64);
                break;
            }
            Ok(Err(e)) => (e.0, true),
            Err(_) => ("adapter panicked in on_batch".to_owned(), false),
        };
        ShardCounters::add(&shard.counters.adapter_errors, 1);
        *inner.last_adapter_error.lock() = Some(error);
        attempt += 1;
        if !retry || attempt >= ADAPTER_ATTEMPTS {
            ShardCounters::add(&shard.counters.adapter_failed, n as u64);
            break;
        }
        std::thread::sleep(Duration::from_millis(1 << attempt));
    }
    shard.completed.fetch_max(last + 1, Ordering::SeqCst);
    batch.clear();
    inner.progress.notify(usize::MAX);
    n
}

/// Pops up to `max` events of `ring` into `batch`. The inline events of the run (small raw
/// events the producers stored in the ring) are copied into one buffer of exactly their total
/// size, and each becomes a slice of it: one allocation per run instead of one per event, made
/// and (after eviction) freed on this thread.
///
/// `inline` is scratch space (cleared here) for the (index in `batch`, end in the buffer) of
/// each inline event.
fn pop_into(
    ring: &ShardRing,
    max: usize,
    ts_ns: u64,
    batch: &mut Vec<Delivery>,
    inline: &mut Vec<(usize, usize)>,
) {
    inline.clear();
    let mut sink = Sink {
        ts_ns,
        batch,
        buf: Vec::new(),
        inline,
    };
    ring.pop_batch_items(max, &mut sink);
    let Sink {
        batch, buf, inline, ..
    } = sink;
    match inline.len() {
        0 => {}
        1 => batch[inline[0].0].event = Event::from_validated(Bytes::from(buf)),
        _ => {
            let shared = Bytes::from(buf);
            let mut start = 0;
            for &(i, end) in inline.iter() {
                batch[i].event = Event::from_validated(shared.slice(start..end));
                start = end;
            }
        }
    }
}

/// The [`PopSink`] of [`pop_into`].
struct Sink<'a> {
    ts_ns: u64,
    batch: &'a mut Vec<Delivery>,
    buf: Vec<u8>,
    inline: &'a mut Vec<(usize, usize)>,
}

impl PopSink for Sink<'_> {
    #[inline(always)]
    fn run(&mut self, count: usize, inline_bytes: usize) {
        self.batch.reserve(count);
        if inline_bytes > 0 {
            self.buf.reserve_exact(inline_bytes);
            // Fresh memory the run is copied into right away: map its pages in one call.
            super::prefault::prefault(self.buf.spare_capacity_mut());
        }
    }

    #[inline(always)]
    fn shared(&mut self, seq: u64, event: Event) {
        self.batch.push(Delivery {
            seq,
            ts_ns: self.ts_ns,
            event,
        });
    }

    #[inline(always)]
    fn inline(&mut self, seq: u64, raw: &[u8]) {
        self.buf.extend_from_slice(raw);
        self.inline.push((self.batch.len(), self.buf.len()));
        // A placeholder (static, no allocation), replaced once the buffer is complete.
        self.batch.push(Delivery {
            seq,
            ts_ns: self.ts_ns,
            event: Event::from_validated(Bytes::from_static(b"null")),
        });
    }
}
