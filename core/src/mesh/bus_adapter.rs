//! [`MeshAdapter`]: a bus adapter that keeps events locally and forwards them to mesh peers.
//!
//! Promises: every batch is first offered to each peer, in order, on one reliable stream of a
//! shared [`MeshNode`] (waiting for credit up to a bound rather than dropping), then stored in
//! an inner [`MemoryAdapter`], which serves this bus's `poll`/`subscribe` exactly as the memory
//! adapter would. Events of one shard are forwarded in shard order (a shard's batches come from
//! one drain worker). Every event that could not be handed to a peer is counted
//! ([`ForwardStats`], `connection_stats()`, `health()`), never silently lost from the counts.
//!
//! Not promised: delivery to a peer that fails after the node accepted the events (the reliable
//! stream retransmits, but a dead peer's window is lost); replay of history to peers that join
//! later; a JSON-config form (build it in code and pass it to `EventBus::with_adapter`).
//! A forwarding failure never fails the local store: the bus keeps working when peers are down.
//! The adapter never dials: when a peer restarts, its owner reconnects it with
//! [`MeshNode::connect`], and the adapter opens its stream on the new session by itself.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use std::sync::Arc;

use crate::adapter::{
    Adapter, AdapterError, AdapterStats, ConnectionStats, Delivery, Health, MemoryAdapter,
    ShardPage,
};
use crate::identity::NodeId;
use crate::mesh::node::MeshNode;
use crate::mesh::session::{Health as PeerHealth, MeshError};
use crate::mesh::stream::StreamMode;

/// Cursor tag of the mesh adapter (its positions are the inner memory adapter's).
pub const MESH_CURSOR_TAG: u8 = 4;

/// Tuning of a [`MeshAdapter`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeshAdapterConfig {
    /// Stream id used towards every peer (reliable mode).
    pub stream_id: u64,
    /// Longest wait for credit for one event before the rest of the batch counts as failed.
    pub credit_timeout: Duration,
    /// After a failure towards a peer, batches for it are counted as failed without waiting
    /// for this long (so a dead peer does not stall the drain workers).
    pub retry_after: Duration,
}

impl Default for MeshAdapterConfig {
    fn default() -> Self {
        MeshAdapterConfig {
            stream_id: 1,
            credit_timeout: Duration::from_secs(2),
            retry_after: Duration::from_secs(1),
        }
    }
}

/// Forwarding counters of a [`MeshAdapter`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForwardStats {
    /// Events handed to the node for a peer (summed over peers).
    pub forwarded: u64,
    /// Events that could not be handed to a peer (summed over peers).
    pub failed: u64,
    /// Batches (per peer) that ended with a failure.
    pub failed_batches: u64,
    /// The most recent forwarding error, if any.
    pub last_error: Option<String>,
}

struct Peer {
    id: NodeId,
    /// While set and in the future, the peer is skipped (its events count as failed).
    down_until: Mutex<Option<Instant>>,
}

/// Stores locally (memory) and forwards every stored batch to a set of mesh peers.
pub struct MeshAdapter {
    local: MemoryAdapter,
    node: Arc<MeshNode>,
    peers: Vec<Peer>,
    config: MeshAdapterConfig,
    forwarded: AtomicU64,
    failed: AtomicU64,
    failed_batches: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl std::fmt::Debug for MeshAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeshAdapter")
            .field(
                "peers",
                &self.peers.iter().map(|p| p.id).collect::<Vec<_>>(),
            )
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl MeshAdapter {
    /// An adapter storing into `local` and forwarding to `peers` (already connected on
    /// `node`); opens the reliable stream `config.stream_id` to each peer.
    pub fn new(
        local: MemoryAdapter,
        node: Arc<MeshNode>,
        peers: &[NodeId],
        config: MeshAdapterConfig,
    ) -> Result<MeshAdapter, MeshError> {
        for &peer in peers {
            node.open_stream(peer, config.stream_id, StreamMode::Reliable)?;
        }
        Ok(MeshAdapter {
            local,
            node,
            peers: peers
                .iter()
                .map(|&id| Peer {
                    id,
                    down_until: Mutex::new(None),
                })
                .collect(),
            config,
            forwarded: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            failed_batches: AtomicU64::new(0),
            last_error: Mutex::new(None),
        })
    }

    /// The forwarding counters.
    pub fn forward_stats(&self) -> ForwardStats {
        ForwardStats {
            forwarded: self.forwarded.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            failed_batches: self.failed_batches.load(Ordering::Relaxed),
            last_error: self.last_error.lock().clone(),
        }
    }

    /// The node this adapter forwards through.
    pub fn node(&self) -> &Arc<MeshNode> {
        &self.node
    }

    /// Offers `events` to one peer in order; returns how many the node accepted and, if it
    /// stopped early, why.
    fn forward_to(&self, peer: NodeId, events: &[&[u8]]) -> (usize, Option<MeshError>) {
        let stream = self.config.stream_id;
        let deadline = Instant::now() + self.config.credit_timeout;
        let mut done = 0;
        let mut reopened = false;
        while done < events.len() {
            match self
                .node
                .send_batch(peer, stream, events[done..].iter().copied())
            {
                Ok((n, Ok(()))) => done += n,
                Ok((n, Err(e))) if e.is_backpressure() => {
                    done += n;
                    let Some(&next) = events.get(done) else { break };
                    // Wait (bounded) for credit for the next event, which also sends it.
                    let left = deadline.saturating_duration_since(Instant::now());
                    match self.node.send_blocking(peer, stream, next, left) {
                        Ok(()) => done += 1,
                        Err(e) => return (done, Some(e)),
                    }
                }
                Ok((n, Err(e))) => return (done + n, Some(e)),
                // A new session (the peer restarted and was dialled again) starts without
                // streams: open ours on it once, then go on.
                Err(MeshError::UnknownStream { .. }) if !reopened => {
                    reopened = true;
                    if let Err(e) = self.node.open_stream(peer, stream, StreamMode::Reliable) {
                        return (done, Some(e));
                    }
                }
                Err(e) => return (done, Some(e)),
            }
        }
        (done, None)
    }

    fn record_failure(&self, peer: &Peer, lost: usize, error: String) {
        self.failed.fetch_add(lost as u64, Ordering::Relaxed);
        self.failed_batches.fetch_add(1, Ordering::Relaxed);
        *self.last_error.lock() = Some(error);
        *peer.down_until.lock() = Some(Instant::now() + self.config.retry_after);
    }
}

impl Adapter for MeshAdapter {
    fn name(&self) -> &'static str {
        "mesh"
    }

    fn cursor_tag(&self) -> u8 {
        MESH_CURSOR_TAG
    }

    fn init(&self, shards: u16) -> Result<(), AdapterError> {
        self.local.init(shards)
    }

    fn on_batch(&self, shard: u16, batch: &mut Vec<Delivery>) -> Result<(), AdapterError> {
        // Check the shard first so a bad shard fails before anything goes out.
        self.local.end_position(shard)?;
        if !batch.is_empty() {
            let raws: Vec<&[u8]> = batch.iter().map(|d| d.event.raw()).collect();
            for peer in &self.peers {
                let skip = peer.down_until.lock().is_some_and(|t| Instant::now() < t);
                if skip {
                    self.failed.fetch_add(raws.len() as u64, Ordering::Relaxed);
                    self.failed_batches.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                let (sent, err) = self.forward_to(peer.id, &raws);
                self.forwarded.fetch_add(sent as u64, Ordering::Relaxed);
                if let Some(e) = err {
                    self.record_failure(
                        peer,
                        raws.len() - sent,
                        format!(
                            "forwarding to {:?} failed after {sent} events: {e}",
                            peer.id
                        ),
                    );
                } else {
                    *peer.down_until.lock() = None;
                }
            }
        }
        self.local.on_batch(shard, batch)
    }

    fn flush(&self) -> Result<(), AdapterError> {
        self.node
            .flush()
            .map_err(|e| AdapterError(format!("mesh flush failed: {e}")))?;
        self.local.flush()
    }

    fn shutdown(&self) -> Result<(), AdapterError> {
        // Push out partial frames; the node itself is shared and shut down by its owner.
        let _ = self.node.flush();
        self.local.shutdown()
    }

    fn poll_shard(&self, shard: u16, from: u64, max: usize) -> Result<ShardPage, AdapterError> {
        self.local.poll_shard(shard, from, max)
    }

    fn end_position(&self, shard: u16) -> Result<u64, AdapterError> {
        self.local.end_position(shard)
    }

    fn health(&self) -> Health {
        let now = Instant::now();
        let down: Vec<String> = self
            .peers
            .iter()
            .filter(|p| {
                p.down_until.lock().is_some_and(|t| now < t)
                    || !self.node.is_connected(p.id)
                    || self.node.health(p.id) == Some(PeerHealth::Failed)
            })
            .map(|p| format!("{:?}", p.id))
            .collect();
        let failed = self.failed.load(Ordering::Relaxed);
        if !down.is_empty() {
            Health::Unhealthy(format!(
                "mesh peers unreachable: {}; {failed} events not forwarded since start",
                down.join(", ")
            ))
        } else if failed > 0 {
            Health::Degraded(format!("{failed} events not forwarded since start"))
        } else {
            Health::Healthy
        }
    }

    fn stats(&self) -> AdapterStats {
        self.local.stats()
    }

    fn connection_stats(&self) -> Option<ConnectionStats> {
        let now = Instant::now();
        let connected = self
            .peers
            .iter()
            .all(|p| self.node.is_connected(p.id) && !p.down_until.lock().is_some_and(|t| now < t));
        Some(ConnectionStats {
            connected,
            errors: self.failed_batches.load(Ordering::Relaxed),
            reconnects: 0,
            last_error: self.last_error.lock().clone(),
        })
    }
}
