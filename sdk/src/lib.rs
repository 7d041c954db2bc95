//! The idiomatic Rust SDK for net-mesh.
//!
//! A thin skin over the engine crate (`net`): [`Net`] is a cheaply cloneable handle to one
//! [`net::EventBus`]; every call translates to an engine call and nothing is reimplemented.
//! Calls that cannot block (`emit*`, [`Net::poll`], [`Net::stats`]) are plain methods; calls
//! that may wait on the engine ([`Net::flush`], [`Net::shutdown`]) are `async` and run the
//! blocking engine call on a helper thread, so they never stall an async runtime. The SDK does
//! not depend on any particular runtime.
//!
//! Subscriptions are push-driven [`futures::Stream`]s: a waiting subscriber is woken when the
//! engine stores new events, with no timer or poll loop. See [`Subscription`] for how a
//! subscriber that fell behind retention is told so ([`StreamError::Lagged`]).
//!
//! ```
//! use futures::StreamExt;
//! use net_sdk::{Backpressure, Net};
//!
//! # futures::executor::block_on(async {
//! let node = Net::builder()
//!     .shards(4)
//!     .backpressure(Backpressure::DropOldest)
//!     .memory()
//!     .build()
//!     .await?;
//!
//! let mut stream = node.subscribe(Default::default());
//! node.emit(&serde_json::json!({"token": "hello"}))?;
//!
//! // Shutting down drains the bus; the stream then yields what is left and ends.
//! node.shutdown().await?;
//! while let Some(event) = stream.next().await {
//!     println!("{}", event?.raw_str());
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! Errors are the engine's [`Error`], whose [`ErrorKind`] is shared by every language skin.
#![warn(missing_docs, missing_debug_implementations)]

pub mod log;
pub mod mesh;
mod stream;

use std::fmt;
use std::sync::Arc;

use futures::channel::oneshot;
use serde::Serialize;

use net::{AdapterConfig, Event, EventBus};

pub use mesh::{DenyReason, Mesh, MeshBuilder, MeshError, Received};
pub use net::{
    Backpressure, BatchReport, DropReason, Error, ErrorKind, EventBusConfig, Filter, Ordering,
    PollRequest, PollResult, Receipt, Result, ShutdownReport, Stats, StoredEvent, SubscribeFrom,
    SubscribeOptions,
};
pub use stream::{EventItem, StreamError, Subscription, TypedSubscription};

/// A handle to one event bus node.
///
/// Cloning is cheap and every clone addresses the same bus, so a `Net` can be shared by many
/// tasks or threads. When the last clone is dropped the bus shuts down synchronously; call
/// [`Net::shutdown`] first to do that without blocking an async runtime and to get the report.
#[derive(Clone)]
pub struct Net {
    bus: Arc<EventBus>,
}

impl Net {
    /// Starts building a node from the default configuration.
    pub fn builder() -> NetBuilder {
        NetBuilder::default()
    }

    /// Builds a node from a complete configuration (validated first).
    pub fn from_config(config: EventBusConfig) -> Result<Net> {
        Ok(Net {
            bus: Arc::new(EventBus::new(config)?),
        })
    }

    /// Builds a node from JSON configuration text, parsed strictly (unknown keys are errors).
    pub fn from_json(config: &str) -> Result<Net> {
        Net::from_config(EventBusConfig::from_json(config)?)
    }

    /// The configuration the node runs with.
    pub fn config(&self) -> &EventBusConfig {
        self.bus.config()
    }

    /// The underlying engine bus, for calls the SDK does not wrap.
    pub fn bus(&self) -> &EventBus {
        &self.bus
    }

    /// Serializes `value` to JSON and emits it.
    pub fn emit<T: Serialize + ?Sized>(&self, value: &T) -> Result<Receipt> {
        self.bus.ingest(Event::from_serialize(value)?)
    }

    /// Serializes `value` and emits it so that every event with the same `key` lands on the
    /// same shard (and so keeps its order).
    pub fn emit_with_key<T: Serialize + ?Sized>(
        &self,
        value: &T,
        key: impl AsRef<[u8]>,
    ) -> Result<Receipt> {
        self.bus
            .ingest_with_key(Event::from_serialize(value)?, key.as_ref())
    }

    /// Emits JSON text as is, after validating it.
    pub fn emit_str(&self, json: &str) -> Result<Receipt> {
        self.bus.ingest_str(json)
    }

    /// Emits raw bytes as is, after validating that they are one JSON value.
    pub fn emit_raw(&self, json: &[u8]) -> Result<Receipt> {
        self.bus.ingest_raw(json)
    }

    /// Serializes and emits many values, reporting each one's outcome in input order.
    ///
    /// A value that fails (serialization, size, backpressure) fails alone; the others are
    /// still emitted.
    pub fn emit_batch<T: Serialize>(&self, values: &[T]) -> BatchReport {
        let mut outcomes = Vec::with_capacity(values.len());
        let mut events = Vec::with_capacity(values.len());
        for value in values {
            match Event::from_serialize(value) {
                Ok(event) => {
                    events.push(event);
                    outcomes.push(None);
                }
                Err(e) => outcomes.push(Some(Err(e))),
            }
        }
        let mut ingested = self.bus.ingest_batch(events).outcomes.into_iter();
        let outcomes = outcomes
            .into_iter()
            .map(|o| {
                o.or_else(|| ingested.next())
                    .unwrap_or_else(|| Err(Error::Internal("batch outcome missing".into())))
            })
            .collect();
        BatchReport { outcomes }
    }

    /// Reads events without consuming them; see [`PollRequest`].
    ///
    /// Build a filter from JSON text with [`Filter::from_json`]; invalid filters and cursors are
    /// typed errors.
    ///
    /// ```
    /// use net_sdk::{Filter, Net, PollRequest};
    ///
    /// # futures::executor::block_on(async {
    /// let node = Net::builder().build().await?;
    /// node.emit_str(r#"{"level": "error", "msg": "disk full"}"#)?;
    /// node.emit_str(r#"{"level": "info", "msg": "ok"}"#)?;
    /// node.flush().await?;
    ///
    /// let errors = Filter::from_json(r#"{"path": "level", "eq": "error"}"#)?;
    /// let page = node.poll(PollRequest::new(100).filter(errors))?;
    /// assert_eq!(page.events.len(), 1);
    /// // Resume later exactly after the last event returned.
    /// let next = node.poll(PollRequest::new(100).cursor(page.cursor))?;
    /// assert!(next.events.is_empty());
    /// # Ok::<(), net_sdk::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn poll(&self, request: PollRequest) -> Result<PollResult> {
        self.bus.poll(&request)
    }

    /// Opens a push subscription.
    ///
    /// Opening never fails here: if the options are invalid (a bad cursor, a zero batch) the
    /// stream yields that error as its only item and ends. Use [`Net::try_subscribe`] to get
    /// the error up front instead.
    pub fn subscribe(&self, options: SubscribeOptions) -> Subscription {
        Subscription::new(self.bus.subscribe(options))
    }

    /// Opens a push subscription, returning an error if the options are invalid.
    pub fn try_subscribe(&self, options: SubscribeOptions) -> Result<Subscription> {
        self.bus
            .subscribe(options)
            .map(|opened| Subscription::new(Ok(opened)))
    }

    /// Opens a push subscription that deserializes each event into `T`.
    ///
    /// An event that does not decode yields [`StreamError::Decode`] and the stream continues.
    pub fn subscribe_typed<T: serde::de::DeserializeOwned>(
        &self,
        options: SubscribeOptions,
    ) -> TypedSubscription<T> {
        self.subscribe(options).into_typed()
    }

    /// A snapshot of the node's counters.
    pub fn stats(&self) -> Stats {
        self.bus.stats()
    }

    /// True until shutdown starts.
    pub fn is_running(&self) -> bool {
        self.bus.is_running()
    }

    /// Waits until every event emitted before this call is visible to [`Net::poll`] and to
    /// subscribers (bounded by the engine's default flush timeout).
    pub async fn flush(&self) -> Result<()> {
        let bus = self.bus.clone();
        off_thread(move || bus.flush()).await
    }

    /// Stops accepting events, drains everything accepted into the adapter and reports the
    /// outcome. Idempotent: later calls return the same report. Open subscriptions yield what
    /// is left and then end.
    pub async fn shutdown(&self) -> Result<ShutdownReport> {
        let bus = self.bus.clone();
        off_thread(move || bus.shutdown()).await
    }
}

impl fmt::Debug for Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Net")
            .field("config", self.config())
            .field("running", &self.is_running())
            .finish()
    }
}

/// Runs a blocking engine call on its own thread and awaits its result.
async fn off_thread<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    let (tx, rx) = oneshot::channel();
    std::thread::Builder::new()
        .name("net-sdk-blocking".into())
        .spawn(move || {
            let _ = tx.send(f());
        })
        .map_err(|e| Error::Internal(format!("cannot spawn a thread: {e}")))?;
    rx.await
        .map_err(|_| Error::Internal("blocking engine call panicked".into()))?
}

/// Builds a [`Net`]; every setting starts at the engine's default.
///
/// Settings are validated by [`NetBuilder::build`], which names the offending key.
#[derive(Debug, Clone, Default)]
pub struct NetBuilder {
    config: EventBusConfig,
}

impl NetBuilder {
    /// Number of shards (1..=1024).
    pub fn shards(mut self, n: u16) -> Self {
        self.config.num_shards = n;
        self
    }

    /// Capacity of each shard's ring: a power of two in 2..=2^24.
    pub fn ring_capacity(mut self, n: usize) -> Self {
        self.config.ring_capacity = n;
        self
    }

    /// What a producer experiences when its shard's ring is full.
    pub fn backpressure(mut self, mode: Backpressure) -> Self {
        self.config.backpressure = mode;
        self
    }

    /// A dot path into each event whose value picks the shard (same value, same shard).
    pub fn partition_key(mut self, path: impl Into<String>) -> Self {
        self.config.partition_key = Some(path.into());
        self
    }

    /// Largest accepted event in bytes (1..=64 MiB).
    pub fn max_event_bytes(mut self, n: usize) -> Self {
        self.config.max_event_bytes = n;
        self
    }

    /// Most events handed to the adapter in one batch (1..=65536).
    pub fn drain_batch(mut self, n: usize) -> Self {
        self.config.drain_batch = n;
        self
    }

    /// Drain worker threads; 0 (the default) means `min(shards, available cores)`.
    pub fn drain_workers(mut self, n: usize) -> Self {
        self.config.drain_workers = n;
        self
    }

    /// Longest wait of a drain worker for more events while they stream into a shard, in
    /// nanoseconds (0 = off, at most 1,000,000; default 5000). See `docs/bus.md`.
    pub fn drain_linger_ns(mut self, ns: u64) -> Self {
        self.config.drain_linger_ns = ns;
        self
    }

    /// Uses the in-memory adapter with its default retention (the default adapter).
    pub fn memory(mut self) -> Self {
        self.config.adapter = AdapterConfig::default();
        self
    }

    /// Uses the in-memory adapter, retaining at most this many events and payload bytes per
    /// shard; older events are evicted (and counted).
    pub fn memory_with(mut self, max_events_per_shard: usize, max_bytes_per_shard: usize) -> Self {
        self.config.adapter = AdapterConfig::Memory {
            max_events_per_shard,
            max_bytes_per_shard,
        };
        self
    }

    /// The configuration built so far (not yet validated).
    pub fn config(&self) -> &EventBusConfig {
        &self.config
    }

    /// Validates the configuration and starts the node.
    ///
    /// `async` for API stability (future adapters connect to servers); the memory adapter
    /// starts immediately.
    pub async fn build(self) -> Result<Net> {
        Net::from_config(self.config)
    }
}
