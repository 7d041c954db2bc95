//! The event bus: sharded lock-free ingest, backpressure, batched delivery to an adapter, poll
//! with cursors and filters, push subscriptions, flush and shutdown.
//!
//! Promises (see `docs/bus.md`): every accepted event is delivered to the adapter or counted
//! under a named drop reason; `flush()` returns only when every event accepted before the call is
//! visible to `poll`; `shutdown()` drains first and reports what it could not deliver; a cursor
//! resumes exactly after the last event it returned. Not promised: ordering across shards
//! (beyond the deterministic merge `Ordering::InsertionTime` offers on read).

pub mod cursor;
mod drain;
pub mod filter;
mod linger;
mod link;
mod placement;
mod poll;
pub(crate) mod prefault;
pub mod request;
pub mod ring;
mod stats;
mod subscribe;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering as AtomicOrdering};
use std::thread::{JoinHandle, Thread};
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;
use event_listener::Listener;
use parking_lot::Mutex;
use serde_json::Value;
use xxhash_rust::xxh3::xxh3_64;

use crate::adapter::{Adapter, MemoryAdapter};
use crate::config::{AdapterConfig, Backpressure, EventBusConfig};
use crate::error::{DropReason, Error, Result};
use crate::event::Event;

use self::cursor::CursorCodec;
use self::filter::{Filter, Path};
use self::ring::{PushError, ShardRing};
use self::stats::{ShardCounters, load};

pub use self::link::BusLink;
pub use self::poll::{MAX_POLL_LIMIT, Ordering, PollRequest, PollResult};
pub use self::stats::{
    AdapterCounters, DropCounts, RejectCounts, ShardStats, ShutdownReport, Stats,
};
pub use self::subscribe::{
    SubscribeFrom, SubscribeOptions, Subscription, SubscriptionCanceller, SubscriptionItem,
    WaitOutcome,
};
pub use crate::adapter::StoredEvent;

/// Where an accepted event went: its shard and its per-shard sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Receipt {
    /// Shard index.
    pub shard: u16,
    /// Sequence number within the shard (strictly increasing in acceptance order).
    pub seq: u64,
}

/// Per-event outcomes of a batch ingest, in input order.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchReport {
    /// One outcome per input event.
    pub outcomes: Vec<Result<Receipt>>,
}

impl BatchReport {
    /// Number of accepted events.
    pub fn accepted(&self) -> usize {
        self.outcomes.iter().filter(|o| o.is_ok()).count()
    }
}

const RUNNING: u8 = 0;
const CLOSING: u8 = 1;
const DRAINING: u8 = 2;
const CLOSED: u8 = 3;

/// Default bound on `flush()`.
pub const DEFAULT_FLUSH_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) struct Shard {
    ring: ShardRing,
    worker: usize,
    /// Every position below this has been stored by the adapter or counted as dropped.
    completed: CachePadded<AtomicU64>,
    sample_tick: AtomicU64,
    /// Own cache lines: the drain worker bumps `delivered` per batch, and that must not evict
    /// the ring fields producers read on every push.
    counters: CachePadded<ShardCounters>,
}

pub(crate) struct WorkerSignal {
    sleeping: CachePadded<AtomicBool>,
    thread: std::sync::OnceLock<Thread>,
}

pub(crate) struct Inner {
    config: EventBusConfig,
    shards: Box<[Shard]>,
    workers: Box<[WorkerSignal]>,
    adapter: Arc<dyn Adapter>,
    codec: CursorCodec,
    partition: Option<Path>,
    state: AtomicU8,
    active: CachePadded<AtomicU64>,
    rr: CachePadded<AtomicU64>,
    /// Own cache line: the drain worker updates it per batch; producers read the fields around.
    clock: CachePadded<AtomicU64>,
    /// Flush calls in progress; while non-zero no drain worker holds events back
    /// (`drain_linger_ns`). Own cache line: drain workers read it on every pass.
    flushing: CachePadded<AtomicU64>,
    /// Notified after every stored batch and when the bus closes (flush, subscribers).
    progress: event_listener::Event,
    /// Notified when a drain frees ring slots or the bus closes (`block` producers).
    space: event_listener::Event,
    last_adapter_error: Mutex<Option<String>>,
}

/// The event bus. Cheap to share behind an `Arc`; every method takes `&self`.
pub struct EventBus {
    inner: Arc<Inner>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    shutdown_lock: Mutex<Option<ShutdownReport>>,
}

/// Batch producers (and adapter links) currently inside an ingest call; shutdown waits for it
/// to reach zero. Single-event ingest does not count itself here: closed rings stop it.
struct ActiveGuard<'a>(&'a AtomicU64);

impl Drop for ActiveGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, AtomicOrdering::SeqCst);
    }
}

impl EventBus {
    /// Builds a bus with the adapter named in `config` (the memory adapter by default).
    pub fn new(config: EventBusConfig) -> Result<EventBus> {
        config.validate()?;
        let adapter: Arc<dyn Adapter> = match config.adapter {
            AdapterConfig::Memory {
                max_events_per_shard,
                max_bytes_per_shard,
            } => Arc::new(MemoryAdapter::new(
                max_events_per_shard,
                max_bytes_per_shard,
            )),
            ref remote => crate::adapter::build::remote(remote)?,
        };
        Self::with_adapter(config, adapter)
    }

    /// Builds a bus over a caller-supplied adapter (the `adapter` key of `config` is ignored).
    pub fn with_adapter(config: EventBusConfig, adapter: Arc<dyn Adapter>) -> Result<EventBus> {
        config.validate()?;
        adapter
            .init(config.num_shards)
            .map_err(|e| Error::Adapter(format!("init failed: {e}")))?;
        let n = config.num_shards as usize;
        let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
        let workers = match config.drain_workers {
            0 => n.min((cores / 2).max(1)),
            w => w.min(n),
        };
        let partition = match &config.partition_key {
            Some(p) => {
                Some(Path::parse(p).map_err(|e| Error::config("partition_key", e.to_string()))?)
            }
            None => None,
        };
        let shards = (0..n)
            .map(|i| Shard {
                ring: ShardRing::new(config.ring_capacity),
                worker: i % workers,
                completed: CachePadded::new(AtomicU64::new(0)),
                sample_tick: AtomicU64::new(0),
                counters: CachePadded::new(ShardCounters::default()),
            })
            .collect();
        let inner = Arc::new(Inner {
            codec: CursorCodec::new(adapter.cursor_tag(), config.num_shards),
            config,
            shards,
            workers: (0..workers)
                .map(|_| WorkerSignal {
                    sleeping: CachePadded::new(AtomicBool::new(false)),
                    thread: std::sync::OnceLock::new(),
                })
                .collect(),
            adapter,
            partition,
            state: AtomicU8::new(RUNNING),
            active: CachePadded::new(AtomicU64::new(0)),
            rr: CachePadded::new(AtomicU64::new(0)),
            clock: CachePadded::new(AtomicU64::new(0)),
            flushing: CachePadded::new(AtomicU64::new(0)),
            progress: event_listener::Event::new(),
            space: event_listener::Event::new(),
            last_adapter_error: Mutex::new(None),
        });
        let threads = (0..workers)
            .map(|w| drain::spawn_worker(inner.clone(), w))
            .collect::<std::io::Result<Vec<_>>>()
            .map_err(|e| Error::Internal(format!("cannot spawn drain worker: {e}")))?;
        let bus = EventBus {
            inner,
            threads: Mutex::new(threads),
            shutdown_lock: Mutex::new(None),
        };
        // An adapter that also receives events (the mesh adapter) ingests them through this.
        bus.inner
            .adapter
            .attach(BusLink(Arc::downgrade(&bus.inner)));
        Ok(bus)
    }

    /// Builds a bus from JSON configuration text (strict).
    pub fn from_json(config: &str) -> Result<EventBus> {
        Self::new(EventBusConfig::from_json(config)?)
    }

    /// The configuration this bus runs with.
    pub fn config(&self) -> &EventBusConfig {
        &self.inner.config
    }

    /// Ingests one validated event.
    pub fn ingest(&self, event: Event) -> Result<Receipt> {
        self.inner.check_size(&event)?;
        self.inner.check_running()?;
        let shard = self.inner.pick_shard(&event, None);
        self.inner.push(shard, event)
    }

    /// Ingests one event; all events with the same `key` go to the same shard.
    pub fn ingest_with_key(&self, event: Event, key: &[u8]) -> Result<Receipt> {
        self.inner.check_size(&event)?;
        self.inner.check_running()?;
        let shard = self.inner.pick_shard(&event, Some(key));
        self.inner.push(shard, event)
    }

    /// Validates `json` and ingests it.
    pub fn ingest_str(&self, json: &str) -> Result<Receipt> {
        self.ingest_raw(json.as_bytes())
    }

    /// Validates raw bytes as JSON and ingests them. An event of at most [`ring::INLINE_MAX`]
    /// bytes is copied into its ring slot (no allocation on this thread); a larger one gets
    /// its own buffer.
    pub fn ingest_raw(&self, raw: &[u8]) -> Result<Receipt> {
        self.inner.check_len(raw.len())?;
        crate::event::validate(raw)?;
        self.inner.ingest_validated(raw, None)
    }

    /// Validates raw bytes as JSON and ingests them; all events with the same `key` go to the
    /// same shard. An oversized event is `payload_too_large` before any validation, as in
    /// [`EventBus::ingest_raw`].
    pub fn ingest_raw_with_key(&self, raw: &[u8], key: &[u8]) -> Result<Receipt> {
        self.inner.check_len(raw.len())?;
        crate::event::validate(raw)?;
        self.inner.ingest_validated(raw, Some(key))
    }

    /// Ingests many events, reporting each one's outcome. Without a partition key the whole
    /// batch goes to one shard (round robin per batch), so it keeps its order.
    pub fn ingest_batch<I: IntoIterator<Item = Event>>(&self, events: I) -> BatchReport {
        let iter = events.into_iter();
        let mut outcomes = Vec::with_capacity(iter.size_hint().0);
        let _guard = match self.inner.enter() {
            Ok(g) => g,
            Err(e) => {
                outcomes.extend(iter.map(|_| Err(e.clone())));
                return BatchReport { outcomes };
            }
        };
        let batch_shard = self.inner.round_robin();
        let sampled = matches!(self.inner.config.backpressure, Backpressure::Sample { .. });
        if self.inner.partition.is_some() || sampled {
            // Per-event shard choice or per-event sampling: one push per event.
            for event in iter {
                let outcome = self.inner.check_size(&event).and_then(|()| {
                    let shard = if self.inner.partition.is_some() {
                        self.inner.pick_shard(&event, None)
                    } else {
                        batch_shard
                    };
                    self.inner.push(shard, event)
                });
                outcomes.push(outcome);
            }
        } else {
            let events: Vec<Event> = iter.collect();
            self.inner
                .push_reserved(batch_shard, events.into_iter(), &mut outcomes);
        }
        BatchReport { outcomes }
    }

    /// Validates and ingests many raw JSON byte strings; invalid ones fail individually.
    ///
    /// Without a partition key the valid events are copied into one buffer shared by the whole
    /// batch (one allocation per batch instead of one per event); the buffer is freed when the
    /// last of its events is dropped. With a partition key each event gets its own buffer,
    /// because its events land on different shards and would pin each other's memory.
    pub fn ingest_raw_batch<'a, I: IntoIterator<Item = &'a [u8]>>(&self, raws: I) -> BatchReport {
        let raws: Vec<&[u8]> = raws.into_iter().collect();
        let shared = self.inner.partition.is_none() && raws.len() > 1;
        let mut outcomes = Vec::with_capacity(raws.len());
        let mut slots = Vec::with_capacity(raws.len());
        let mut valid = Vec::with_capacity(raws.len());
        // Shared mode: valid events are appended to `buf` right after validation (while their
        // bytes are in cache); `ends[k]` is where the k-th valid event ends in `buf`.
        let mut buf = Vec::new();
        let mut ends = Vec::new();
        if shared {
            buf.reserve_exact(raws.iter().map(|r| r.len()).sum());
            ends.reserve_exact(raws.len());
        }
        for (i, raw) in raws.iter().enumerate() {
            let checked = self.inner.check_len(raw.len()).and_then(|()| {
                if shared {
                    crate::event::validate(raw).map(|()| {
                        buf.extend_from_slice(raw);
                        ends.push(buf.len());
                    })
                } else {
                    Event::from_slice(raw).map(|e| valid.push(e))
                }
            });
            match checked {
                Ok(()) => {
                    slots.push(i);
                    outcomes.push(Ok(Receipt { shard: 0, seq: 0 }));
                }
                Err(e) => outcomes.push(Err(e)),
            }
        }
        if shared {
            let buf = bytes::Bytes::from(buf);
            let mut at = 0;
            for end in ends {
                valid.push(Event::from_validated(buf.slice(at..end)));
                at = end;
            }
        }
        if slots.len() == raws.len() {
            // Every event was valid: the batch report is already in input order.
            return self.ingest_batch(valid);
        }
        let report = self.ingest_batch(valid);
        for (slot, outcome) in slots.into_iter().zip(report.outcomes) {
            outcomes[slot] = outcome;
        }
        BatchReport { outcomes }
    }

    /// Reads events without consuming them; see [`PollRequest`].
    pub fn poll(&self, request: &PollRequest) -> Result<PollResult> {
        poll::poll(&self.inner, request)
    }

    /// Opens a push subscription; see [`SubscribeOptions`].
    pub fn subscribe(&self, options: SubscribeOptions) -> Result<Subscription> {
        Subscription::open(self.inner.clone(), options)
    }

    /// Waits until every event accepted before this call is visible to `poll` (bounded by
    /// [`DEFAULT_FLUSH_TIMEOUT`]).
    pub fn flush(&self) -> Result<()> {
        self.flush_timeout(DEFAULT_FLUSH_TIMEOUT)
    }

    /// [`EventBus::flush`] with an explicit bound; `Error::Timeout` when it passes.
    pub fn flush_timeout(&self, timeout: Duration) -> Result<()> {
        let inner = &self.inner;
        if inner.state.load(AtomicOrdering::SeqCst) == CLOSED {
            return Err(Error::ShuttingDown);
        }
        let deadline = Instant::now() + timeout;
        // Counted before the targets are read: from here on no drain window holds events back.
        inner.flushing.fetch_add(1, AtomicOrdering::SeqCst);
        let _flushing = ActiveGuard(&inner.flushing);
        let targets: Vec<u64> = inner.shards.iter().map(|s| s.ring.tail()).collect();
        for w in 0..inner.workers.len() {
            inner.wake_worker(w, true);
        }
        loop {
            let listener = inner.progress.listen();
            let done = inner
                .shards
                .iter()
                .zip(&targets)
                .all(|(s, &t)| s.completed.load(AtomicOrdering::SeqCst) >= t);
            if done {
                break;
            }
            if inner.state.load(AtomicOrdering::SeqCst) == CLOSED {
                break;
            }
            if listener.wait_deadline(deadline).is_none() && Instant::now() >= deadline {
                return Err(Error::Timeout(format!(
                    "flush did not complete within {timeout:?}"
                )));
            }
        }
        inner
            .adapter
            .flush()
            .map_err(|e| Error::Adapter(format!("flush failed: {e}")))
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.inner.stats()
    }

    /// Health of the adapter (always healthy for the memory adapter).
    pub fn adapter_health(&self) -> crate::adapter::Health {
        self.inner.adapter.health()
    }

    /// True until `shutdown` starts.
    pub fn is_running(&self) -> bool {
        self.inner.state.load(AtomicOrdering::SeqCst) == RUNNING
    }

    /// Stops accepting events, drains every ring into the adapter, flushes and shuts the
    /// adapter down, and reports the outcome. Idempotent: later calls return the same report.
    pub fn shutdown(&self) -> Result<ShutdownReport> {
        let mut report_slot = self.shutdown_lock.lock();
        if let Some(report) = report_slot.as_ref() {
            return Ok(report.clone());
        }
        let inner = &self.inner;
        inner.state.store(CLOSING, AtomicOrdering::SeqCst);
        // Single-event ingest takes no `active` guard (two atomic read-modify-writes per event
        // saved): closing the rings is what stops it. A push that claimed its position before
        // the close completes and is drained below; every later one gets `ShuttingDown`.
        for shard in inner.shards.iter() {
            shard.ring.close();
        }
        inner.space.notify(usize::MAX);
        while inner.active.load(AtomicOrdering::SeqCst) != 0 {
            inner.space.notify(usize::MAX);
            std::thread::yield_now();
        }
        inner.state.store(DRAINING, AtomicOrdering::SeqCst);
        for w in 0..inner.workers.len() {
            inner.wake_worker(w, true);
        }
        let mut join_error = None;
        for t in self.threads.lock().drain(..) {
            if t.join().is_err() {
                join_error = Some("a drain worker panicked".to_owned());
            }
        }
        let flush = inner.adapter.flush().err();
        let shut = inner.adapter.shutdown().err();
        inner.state.store(CLOSED, AtomicOrdering::SeqCst);
        inner.progress.notify(usize::MAX);
        let stats = inner.stats();
        let report = ShutdownReport {
            accepted: stats.accepted,
            delivered: stats.delivered,
            undelivered: stats.in_flight,
            dropped: stats.dropped,
            adapter_error: join_error.or(flush.map(|e| e.0)).or(shut.map(|e| e.0)),
        };
        *report_slot = Some(report.clone());
        Ok(report)
    }
}

impl Drop for EventBus {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

impl Inner {
    /// `Err(ShuttingDown)` once shutdown began. A cheap early exit for single-event ingest;
    /// what makes a late push fail for sure is the closed ring (see [`EventBus::shutdown`]).
    fn check_running(&self) -> Result<()> {
        if self.state.load(AtomicOrdering::SeqCst) != RUNNING {
            return Err(Error::ShuttingDown);
        }
        Ok(())
    }

    fn enter(&self) -> Result<ActiveGuard<'_>> {
        self.active.fetch_add(1, AtomicOrdering::SeqCst);
        let guard = ActiveGuard(&self.active);
        if self.state.load(AtomicOrdering::SeqCst) != RUNNING {
            return Err(Error::ShuttingDown);
        }
        Ok(guard)
    }

    fn check_len(&self, len: usize) -> Result<()> {
        if len > self.config.max_event_bytes {
            return Err(Error::PayloadTooLarge {
                size: len,
                max: self.config.max_event_bytes,
            });
        }
        Ok(())
    }

    fn check_size(&self, event: &Event) -> Result<()> {
        self.check_len(event.len())
    }

    fn round_robin(&self) -> usize {
        let n = self.shards.len();
        if n == 1 {
            return 0;
        }
        (self.rr.fetch_add(1, AtomicOrdering::Relaxed) % n as u64) as usize
    }

    fn pick_shard(&self, event: &Event, key: Option<&[u8]>) -> usize {
        self.pick_shard_raw(event.raw(), key)
    }

    fn pick_shard_raw(&self, raw: &[u8], key: Option<&[u8]>) -> usize {
        let n = self.shards.len() as u64;
        if n == 1 {
            return 0;
        }
        if let Some(k) = key {
            return (xxh3_64(k) % n) as usize;
        }
        if let Some(path) = &self.partition
            && let Ok(value) = serde_json::from_slice::<Value>(raw)
            && let Some(found) = path.lookup(&value)
        {
            let h = match found {
                Value::String(s) => xxh3_64(s.as_bytes()),
                other => xxh3_64(other.to_string().as_bytes()),
            };
            return (h % n) as usize;
        }
        placement::next_unkeyed(self.shards.len())
    }

    /// Ingests raw bytes the caller validated (and size-checked): an event of at most
    /// [`ring::INLINE_MAX`] bytes goes into its ring slot inline, a larger one into a buffer
    /// of its own. Same shard choice, backpressure and counters as [`EventBus::ingest`].
    fn ingest_validated(&self, raw: &[u8], key: Option<&[u8]>) -> Result<Receipt> {
        if raw.len() > ring::INLINE_MAX {
            let event = Event::from_validated(bytes::Bytes::copy_from_slice(raw));
            self.check_running()?;
            let shard = self.pick_shard(&event, key);
            return self.push(shard, event);
        }
        self.check_running()?;
        let shard_idx = self.pick_shard_raw(raw, key);
        self.sample_gate(shard_idx)?;
        let shard = &self.shards[shard_idx];
        match shard.ring.push_inline(raw) {
            Ok(seq) => {
                self.wake_worker(shard.worker, false);
                Ok(Receipt {
                    shard: shard_idx as u16,
                    seq,
                })
            }
            Err(PushError::Closed(_)) => Err(Error::ShuttingDown),
            // Full: the backpressure path works on events with their own buffer.
            Err(PushError::Full(raw)) => self.push_full(
                shard_idx,
                Event::from_validated(bytes::Bytes::copy_from_slice(raw)),
            ),
        }
    }

    /// In `sample` mode, past the high-water mark, refuses all but one in `keep_one_in` events
    /// (counted as `sampled`); a no-op in every other mode.
    fn sample_gate(&self, shard_idx: usize) -> Result<()> {
        if let Backpressure::Sample {
            keep_one_in,
            high_water,
        } = self.config.backpressure
        {
            let shard = &self.shards[shard_idx];
            let mark = ((shard.ring.capacity() as f64) * high_water).ceil() as usize;
            if shard.ring.len() >= mark.max(1) {
                let tick = shard.sample_tick.fetch_add(1, AtomicOrdering::Relaxed);
                if !tick.is_multiple_of(u64::from(keep_one_in)) {
                    ShardCounters::add(&shard.counters.sampled, 1);
                    return Err(Error::Dropped {
                        shard: shard_idx as u16,
                        reason: DropReason::Sampled,
                    });
                }
            }
        }
        Ok(())
    }

    fn push(&self, shard_idx: usize, event: Event) -> Result<Receipt> {
        let shard = &self.shards[shard_idx];
        let id = shard_idx as u16;
        self.sample_gate(shard_idx)?;
        match shard.ring.try_push(event) {
            Ok(seq) => {
                self.wake_worker(shard.worker, false);
                Ok(Receipt { shard: id, seq })
            }
            Err(PushError::Closed(_)) => Err(Error::ShuttingDown),
            Err(PushError::Full(event)) => self.push_full(shard_idx, event),
        }
    }

    /// Pushes a batch into one shard in input order, claiming ring positions for each run of
    /// events that pass the size check with one CAS (as many as fit); an event that finds the
    /// ring full takes the per-event path with its backpressure mode. Not for `sample`, whose
    /// decision is per event.
    fn push_reserved(
        &self,
        shard_idx: usize,
        mut events: std::vec::IntoIter<Event>,
        outcomes: &mut Vec<Result<Receipt>>,
    ) {
        let shard = &self.shards[shard_idx];
        let id = shard_idx as u16;
        while events.len() > 0 {
            let run = events
                .as_slice()
                .iter()
                .take_while(|e| e.len() <= self.config.max_event_bytes)
                .count();
            if run == 0 {
                // The front event is too large: it fails alone, in its place.
                if let Some(event) = events.next() {
                    let outcome = self
                        .check_size(&event)
                        .and_then(|()| self.push(shard_idx, event));
                    outcomes.push(outcome);
                }
                continue;
            }
            let mut left = run;
            while left > 0 {
                let (first, n) = shard.ring.push_batch(&mut events, left);
                if n > 0 {
                    self.wake_worker(shard.worker, false);
                    outcomes.extend(
                        (first..first + n as u64).map(|seq| Ok(Receipt { shard: id, seq })),
                    );
                    left -= n;
                } else {
                    // Full: this event takes the backpressure path; the rest retry a claim.
                    let Some(event) = events.next() else { break };
                    outcomes.push(self.push(shard_idx, event));
                    left -= 1;
                }
            }
        }
    }

    /// The slow path: the ring was full when `event` was offered.
    ///
    /// It runs inside an `active` guard even for single-event ingest (which has none on its
    /// fast path): shutdown then waits for a `drop_oldest` producer to count the event it
    /// popped, and for `block` producers to leave, before it drains and reports.
    fn push_full(&self, shard_idx: usize, mut event: Event) -> Result<Receipt> {
        let _guard = self.enter()?;
        let shard = &self.shards[shard_idx];
        let id = shard_idx as u16;
        self.wake_worker(shard.worker, false);
        match self.config.backpressure {
            Backpressure::DropOldest => loop {
                // A closed ring refuses the push: do not drop an event to make room for it.
                if shard.ring.is_closed() {
                    return Err(Error::ShuttingDown);
                }
                if shard.ring.pop().is_some() {
                    ShardCounters::add(&shard.counters.drop_oldest, 1);
                }
                match shard.ring.try_push(event) {
                    Ok(seq) => {
                        self.wake_worker(shard.worker, false);
                        return Ok(Receipt { shard: id, seq });
                    }
                    Err(PushError::Closed(_)) => return Err(Error::ShuttingDown),
                    Err(PushError::Full(back)) => event = back,
                }
            },
            Backpressure::DropNewest => {
                ShardCounters::add(&shard.counters.drop_newest, 1);
                Err(Error::Dropped {
                    shard: id,
                    reason: DropReason::DropNewest,
                })
            }
            Backpressure::Sample { .. } => {
                ShardCounters::add(&shard.counters.sampled, 1);
                Err(Error::Dropped {
                    shard: id,
                    reason: DropReason::Sampled,
                })
            }
            Backpressure::FailProducer => {
                ShardCounters::add(&shard.counters.rejected_backpressure, 1);
                Err(Error::Backpressure { shard: id })
            }
            Backpressure::Block { timeout } => {
                let deadline = Instant::now() + timeout;
                loop {
                    let listener = self.space.listen();
                    if self.state.load(AtomicOrdering::SeqCst) != RUNNING {
                        return Err(Error::ShuttingDown);
                    }
                    match shard.ring.try_push(event) {
                        Ok(seq) => {
                            self.wake_worker(shard.worker, false);
                            return Ok(Receipt { shard: id, seq });
                        }
                        Err(PushError::Closed(_)) => return Err(Error::ShuttingDown),
                        Err(PushError::Full(back)) => event = back,
                    }
                    self.wake_worker(shard.worker, false);
                    if listener.wait_deadline(deadline).is_none() && Instant::now() >= deadline {
                        ShardCounters::add(&shard.counters.rejected_timeout, 1);
                        return Err(Error::Timeout(format!(
                            "ring of shard {id} stayed full for {timeout:?} (block)"
                        )));
                    }
                }
            }
        }
    }

    /// Unparks worker `w` if it sleeps (or unconditionally with `force`).
    fn wake_worker(&self, w: usize, force: bool) {
        let signal = &self.workers[w];
        // SeqCst pairs with the worker's SeqCst store of `sleeping` and SeqCst load of the ring
        // tail: either the worker sees our push, or we see it sleeping.
        let wake = if force {
            signal.sleeping.store(false, AtomicOrdering::SeqCst);
            true
        } else {
            signal.sleeping.load(AtomicOrdering::SeqCst)
                && signal.sleeping.swap(false, AtomicOrdering::SeqCst)
        };
        if wake && let Some(t) = signal.thread.get() {
            t.unpark();
        }
    }

    /// A bus-wide monotonic insertion timestamp in nanoseconds since the Unix epoch.
    fn next_ts(&self) -> u64 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let prev = self.clock.fetch_max(now, AtomicOrdering::AcqRel);
        prev.max(now)
    }

    fn is_closed(&self) -> bool {
        self.state.load(AtomicOrdering::SeqCst) == CLOSED
    }

    fn stats(&self) -> Stats {
        let mut total = Stats {
            adapter_name: self.adapter.name().to_owned(),
            adapter: self.adapter.stats().into(),
            adapter_connection: self.adapter.connection_stats(),
            ..Stats::default()
        };
        for (i, shard) in self.shards.iter().enumerate() {
            let c = &shard.counters;
            let s = ShardStats {
                shard: i as u16,
                accepted: shard.ring.tail(),
                delivered: load(&c.delivered),
                queued: shard.ring.len() as u64,
                dropped: DropCounts {
                    drop_oldest: load(&c.drop_oldest),
                    drop_newest: load(&c.drop_newest),
                    sampled: load(&c.sampled),
                    adapter_failed: load(&c.adapter_failed),
                },
                rejected: RejectCounts {
                    backpressure: load(&c.rejected_backpressure),
                    timeout: load(&c.rejected_timeout),
                },
            };
            total.accepted += s.accepted;
            total.delivered += s.delivered;
            total.dropped.drop_oldest += s.dropped.drop_oldest;
            total.dropped.drop_newest += s.dropped.drop_newest;
            total.dropped.sampled += s.dropped.sampled;
            total.dropped.adapter_failed += s.dropped.adapter_failed;
            total.rejected.backpressure += s.rejected.backpressure;
            total.rejected.timeout += s.rejected.timeout;
            total.adapter_errors += load(&c.adapter_errors);
            total.shards.push(s);
        }
        total.in_flight = total.accepted.saturating_sub(
            total.delivered + total.dropped.drop_oldest + total.dropped.adapter_failed,
        );
        total
    }
}

/// Parses a filter given as JSON text (helper for skins that receive filters as strings).
pub fn parse_filter(json: &str) -> Result<Filter> {
    Filter::from_json(json)
}
