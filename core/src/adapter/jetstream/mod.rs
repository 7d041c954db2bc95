//! The NATS JetStream adapter (cargo feature `jetstream`, via `async-nats`).
//!
//! Layout: shard `n` is the stream `{prefix}_shard_{n}` on the subject `{prefix}.shard.{n}`
//! (file or memory storage, `replicas`, `max_msgs` with discard-old, a deduplication window).
//! `{prefix}_producers` holds one message; the sequence the server gives each new adapter
//! instance's message there is its producer id, so dedup ids never repeat across restarts.
//!
//! Frames: a batch is published as messages of up to 1024 events (512 KiB), each a *frame*
//! (layout in `frame.rs`) with `Net-Pos: first:count` (the positions it holds),
//! `Nats-Msg-Id: producer:shard:seq` (the dedup id of its last event; server-side deduplication
//! within the window) and `Nats-Expected-Last-Sequence` (the server refuses the frame anywhere
//! but right after the previous one). So frames land in order or not at all past the first
//! refusal, and never twice. Every frame's acknowledgement is in flight at once and `on_batch`
//! returns after the last one. On failure the adapter retries with backoff (bounded by
//! `reconnect_timeout`; the client reconnects in the background): it reads the top frame and
//! skips the prefix of the batch that already landed.
//!
//! Reads use an ephemeral pull consumer per shard (no acks), reused while reads continue where
//! the previous one stopped; a read elsewhere finds its frame by binary search over the stream
//! sequences (`Net-Pos` is monotonic) and starts a new consumer there.
//!
//! The adapter owns a one-worker tokio runtime; each blocking trait method runs its future there
//! and waits on a channel, so it may be called from any thread, including inside another
//! runtime's worker, and every wait is bounded by `request_timeout`.

mod frame;
mod names;
mod ops;

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_nats::Subject;
use async_nats::jetstream::context::Context;
use parking_lot::Mutex;

use self::ops::{OpResult, Reader};
use super::link::{Backoff, Link};
use super::remote_config::JetStreamConfig;
use super::{
    Adapter, AdapterError, AdapterStats, ConnectionStats, Delivery, Health, JETSTREAM_CURSOR_TAG,
    ShardPage,
};
use crate::error::{Error, Result};

/// A reader handed back with what it fetched.
type Fetched = (Reader, OpResult<ops::Page>);

struct Writer {
    /// Position of the next event.
    next: u64,
    /// Stream sequence of the last stored frame.
    last_msg: u64,
    synced: bool,
}

struct Shard {
    stream: String,
    subject: Subject,
    writer: Mutex<Writer>,
    reader: Mutex<Option<Reader>>,
}

/// Stores each shard in a JetStream stream; see the module docs.
pub struct JetStreamAdapter {
    config: JetStreamConfig,
    runtime: Option<tokio::runtime::Runtime>,
    context: OnceLock<Context>,
    producer: AtomicU64,
    shards: OnceLock<Box<[Shard]>>,
    link: Arc<Link>,
    stored: AtomicU64,
    totals: Mutex<(u64, u64, u64)>,
    closed: AtomicBool,
}

impl JetStreamAdapter {
    /// An adapter for `config` (validated; the connection is made by `init`).
    pub fn new(config: JetStreamConfig) -> Result<JetStreamAdapter> {
        config.validate()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("net-jetstream")
            .enable_all()
            .build()
            .map_err(|e| Error::Internal(format!("cannot start the JetStream runtime: {e}")))?;
        Ok(JetStreamAdapter {
            config,
            runtime: Some(runtime),
            context: OnceLock::new(),
            producer: AtomicU64::new(0),
            shards: OnceLock::new(),
            link: Arc::new(Link::new()),
            stored: AtomicU64::new(0),
            totals: Mutex::new((0, 0, 0)),
            closed: AtomicBool::new(false),
        })
    }

    /// Test hook: behave as if the last acknowledgement of every shard was lost, so the next
    /// batch starts with a resync (what happens after a connection error).
    #[doc(hidden)]
    pub fn simulate_lost_acknowledgement(&self) {
        if let Some(shards) = self.shards.get() {
            for s in shards.iter() {
                s.writer.lock().synced = false;
            }
        }
    }

    /// The producer id this instance stamps on its events (0 before `init`).
    pub fn producer_id(&self) -> u64 {
        self.producer.load(Ordering::Relaxed)
    }

    /// Runs `fut` on the adapter's runtime and waits for it, at most `limit`.
    fn run<T: Send + 'static>(
        &self,
        limit: Duration,
        fut: impl Future<Output = OpResult<T>> + Send + 'static,
    ) -> OpResult<T> {
        let Some(runtime) = &self.runtime else {
            return Err("the JetStream runtime stopped".to_owned());
        };
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        runtime.spawn(async move {
            let out = match tokio::time::timeout(limit, fut).await {
                Ok(r) => r,
                Err(_) => Err(format!("no answer from NATS within {limit:?}")),
            };
            let _ = tx.send(out);
        });
        rx.recv()
            .map_err(|_| "the JetStream runtime stopped".to_owned())?
    }

    /// Like [`Self::run`], recording the outcome in the link state.
    fn op<T: Send + 'static>(
        &self,
        final_: bool,
        fut: impl Future<Output = OpResult<T>> + Send + 'static,
    ) -> OpResult<T> {
        let out = self.run(self.config.request_timeout * 2, fut);
        match &out {
            Ok(_) => self.link.ok(),
            Err(e) => self.link.failed(e, final_),
        }
        out
    }

    fn ctx(&self) -> std::result::Result<Context, AdapterError> {
        self.context
            .get()
            .cloned()
            .ok_or_else(|| AdapterError("not initialized".to_owned()))
    }

    fn shard(&self, shard: u16) -> std::result::Result<&Shard, AdapterError> {
        self.shards
            .get()
            .and_then(|s| s.get(shard as usize))
            .ok_or_else(|| AdapterError(format!("no shard {shard} (not initialized?)")))
    }

    fn connect(&self) -> OpResult<Context> {
        let url = self.config.url.clone();
        let cfg = self.config.clone();
        let link = self.link.clone();
        let connect = async move {
            let client = async_nats::ConnectOptions::new()
                .event_callback(move |event| {
                    // The client reconnects by itself; mirror what it sees in health and stats.
                    let link = link.clone();
                    async move {
                        match event {
                            async_nats::Event::Connected => link.connected(),
                            async_nats::Event::Disconnected => {
                                link.failed("disconnected from NATS, reconnecting", false)
                            }
                            _ => {}
                        }
                    }
                })
                .connection_timeout(cfg.connect_timeout)
                .request_timeout(Some(cfg.request_timeout))
                .max_reconnects(None)
                .reconnect_delay_callback(|attempts| {
                    Duration::from_millis(10 << attempts.min(7)).min(Duration::from_secs(1))
                })
                .connect(url.as_str())
                .await
                .map_err(|e| format!("cannot connect to NATS at {url}: {e}"))?;
            Ok(async_nats::jetstream::context::ContextBuilder::new()
                .timeout(cfg.request_timeout)
                .max_ack_inflight(1 << 17)
                .backpressure_on_inflight(true)
                .build(client))
        };
        self.run(self.config.connect_timeout * 2, connect)
    }

    /// One attempt at storing `batch` (resync first when the last attempt may have landed).
    fn try_append(
        &self,
        shard: u16,
        s: &Shard,
        w: &mut Writer,
        batch: &[Delivery],
    ) -> OpResult<()> {
        let ctx = self.ctx().map_err(|e| e.0)?;
        let mut skip = 0;
        if !w.synced {
            let seqs = batch.iter().map(|d| d.seq).collect();
            let (last_msg, next, index) = self.op(
                false,
                ops::resync(
                    ctx.clone(),
                    s.stream.clone(),
                    self.producer_id(),
                    shard,
                    seqs,
                ),
            )?;
            skip = index.map_or(0, |i| i + 1);
            w.next = next;
            w.last_msg = last_msg;
            w.synced = true;
        }
        let rest = batch[skip..].to_vec();
        if rest.is_empty() {
            return Ok(());
        }
        let n = rest.len() as u64;
        w.synced = false;
        let frames = self.op(
            false,
            ops::publish(
                ctx,
                s.subject.clone(),
                self.producer_id(),
                shard,
                w.last_msg,
                w.next,
                rest,
            ),
        )?;
        w.last_msg += frames;
        w.next += n;
        w.synced = true;
        Ok(())
    }
}

impl JetStreamAdapter {
    fn give_up(&self, e: String) -> AdapterError {
        self.link.failed(&e, true);
        AdapterError(e)
    }

    fn open_reader(&self, s: &Shard, from: u64) -> std::result::Result<Reader, AdapterError> {
        let ctx = self.ctx()?;
        self.op(true, ops::open_reader(ctx, s.stream.clone(), from))
            .map_err(AdapterError)
    }

    /// Fetches up to `max` events with `reader`; hands the reader back with the outcome.
    fn fetch(&self, reader: Reader, shard: u16, max: usize) -> Result<Fetched, AdapterError> {
        let wait = self.config.request_timeout;
        self.run(wait * 2, async move {
            Ok(ops::fetch(reader, shard, max.max(1)).await)
        })
        .map_err(|e| self.give_up(e))
    }
}

impl Drop for JetStreamAdapter {
    fn drop(&mut self) {
        // Never block (or panic) when the last reference goes away inside an async context.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Adapter for JetStreamAdapter {
    fn name(&self) -> &'static str {
        "jetstream"
    }

    fn cursor_tag(&self) -> u8 {
        JETSTREAM_CURSOR_TAG
    }

    fn init(&self, shards: u16) -> std::result::Result<(), AdapterError> {
        let ctx = self.connect().map_err(|e| {
            self.link.failed(&e, true);
            AdapterError(e)
        })?;
        self.link.ok();
        let producer = self
            .op(true, ops::init(ctx.clone(), self.config.clone(), shards))
            .map_err(AdapterError)?;
        self.producer.store(producer, Ordering::Relaxed);
        let all = (0..shards)
            .map(|n| Shard {
                stream: names::stream(&self.config.prefix, n),
                subject: Subject::from(names::subject(&self.config.prefix, n)),
                writer: Mutex::new(Writer {
                    next: 0,
                    last_msg: 0,
                    synced: false,
                }),
                reader: Mutex::new(None),
            })
            .collect();
        let _ = self.context.set(ctx);
        self.shards
            .set(all)
            .map_err(|_| AdapterError("init called twice".to_owned()))
    }

    fn on_batch(
        &self,
        shard: u16,
        batch: &mut Vec<Delivery>,
    ) -> std::result::Result<(), AdapterError> {
        if self.closed.load(Ordering::Relaxed) {
            return Err(AdapterError("adapter is shut down".to_owned()));
        }
        let s = self.shard(shard)?;
        let mut w = s.writer.lock();
        let mut backoff = Backoff::new(self.config.reconnect_timeout);
        loop {
            match self.try_append(shard, s, &mut w, batch) {
                Ok(()) => {
                    self.stored.fetch_add(batch.len() as u64, Ordering::Relaxed);
                    return Ok(());
                }
                Err(e) => {
                    w.synced = false;
                    if !backoff.wait() {
                        self.link.failed(&e, true);
                        return Err(AdapterError(e));
                    }
                }
            }
        }
    }

    fn flush(&self) -> std::result::Result<(), AdapterError> {
        // `on_batch` returns only after every acknowledgement; refresh the retention counters.
        let Some(shards) = self.shards.get() else {
            return Ok(());
        };
        let names = shards.iter().map(|s| s.stream.clone()).collect();
        let totals = self
            .op(true, ops::totals(self.ctx()?, names))
            .map_err(AdapterError)?;
        *self.totals.lock() = totals;
        Ok(())
    }

    fn shutdown(&self) -> std::result::Result<(), AdapterError> {
        self.closed.store(true, Ordering::Relaxed);
        if let Some(shards) = self.shards.get() {
            for s in shards.iter() {
                s.reader.lock().take();
            }
        }
        Ok(())
    }

    fn poll_shard(
        &self,
        shard: u16,
        from: u64,
        max: usize,
    ) -> std::result::Result<ShardPage, AdapterError> {
        let s = self.shard(shard)?;
        let ctx = self.ctx()?;
        let mut slot = s.reader.lock();
        let reused = slot.take().filter(|r| r.next == from);
        let fresh = reused.is_none();
        let reader = match reused {
            Some(r) => r,
            None => self.open_reader(s, from)?,
        };
        let (back, result) = self.fetch(reader, shard, max)?;
        let (reader, (events, more)) = match result {
            Ok(page) => (back, page),
            // A reused consumer may have been removed by the server (inactivity, restart): one
            // more try on a fresh one.
            Err(_) if !fresh => {
                let (back, result) = self.fetch(self.open_reader(s, from)?, shard, max)?;
                (back, result.map_err(|e| self.give_up(e))?)
            }
            Err(e) => return Err(self.give_up(e)),
        };
        self.link.ok();
        *slot = Some(reader);
        let (start, end) = match (events.first(), events.last()) {
            (Some(f), Some(l)) => (f.position, l.position + 1 + u64::from(more)),
            _ => {
                let (first, end, _) = self
                    .op(true, ops::bounds(ctx, s.stream.clone()))
                    .map_err(AdapterError)?;
                (from.max(first).min(end.max(from)), end)
            }
        };
        Ok(ShardPage { start, events, end })
    }

    fn end_position(&self, shard: u16) -> std::result::Result<u64, AdapterError> {
        let s = self.shard(shard)?;
        self.op(true, ops::bounds(self.ctx()?, s.stream.clone()))
            .map(|(_, end, _)| end)
            .map_err(AdapterError)
    }

    fn health(&self) -> Health {
        self.link.health()
    }

    fn stats(&self) -> AdapterStats {
        let (retained, retained_bytes, evicted) = *self.totals.lock();
        AdapterStats {
            stored: self.stored.load(Ordering::Relaxed),
            evicted,
            retained,
            retained_bytes,
        }
    }

    fn connection_stats(&self) -> Option<ConnectionStats> {
        Some(self.link.stats())
    }
}
