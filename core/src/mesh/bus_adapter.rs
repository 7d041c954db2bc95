//! [`MeshAdapter`]: a bus adapter that keeps events locally and forwards them to mesh peers.
//!
//! Promises: every batch is first offered to each peer, in order, on one reliable stream of a
//! shared [`MeshNode`] (waiting for credit up to a bound rather than dropping), then stored in
//! an inner [`MemoryAdapter`], which serves this bus's `poll`/`subscribe` exactly as the memory
//! adapter would. Events of one shard are forwarded in shard order (a shard's batches come from
//! one drain worker). Every event that could not be handed to a peer is counted
//! ([`ForwardStats`], `connection_stats()`, `health()`), never silently lost from the counts.
//!
//! Two ways to build one:
//! - [`MeshAdapter::new`] (in code): over a node and peers the caller owns and has connected;
//!   it never dials (when a peer restarts, its owner reconnects it with [`MeshNode::connect`]
//!   and the adapter opens its stream on the new session by itself), and receiving is the
//!   caller's business ([`MeshIngress`](crate::mesh::ingress::MeshIngress)).
//! - [`MeshAdapter::from_config`] (the JSON form `{"adapter": {"type": "mesh", ...}}`, what
//!   `EventBus::new` uses): the adapter owns its node (bound to `listen`, identity from
//!   `key_file`, the PSK), dials the peers once while the bus is built (each bounded by
//!   `connect_timeout`, within which a handshake left unanswered is started again; failures
//!   are not fatal), redials unreachable or failed peers every
//!   `retry_after` on a thread of its own, and ingests every event peers send on `stream_id`
//!   into its own bus (through the [`BusLink`] the bus hands it), where `poll` and `subscribe`
//!   see them. Received events are stored but **not forwarded again**, so two buses that list
//!   each other as peers do not bounce events back and forth. On `shutdown` it waits (at most
//!   `credit_timeout`) until the peers acknowledged everything sent, then stops its node.
//!
//! Not promised: delivery to a peer that fails after the node accepted the events (the reliable
//! stream retransmits, but a dead peer's window is lost); replay of history to peers that join
//! later (events stored while a peer was unreachable are counted failed, not resent);
//! multi-hop forwarding at the bus level (received events are not passed on; relaying is the
//! node's business). A forwarding failure never fails the local store: the bus keeps working
//! when peers are down.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::adapter::{
    Adapter, AdapterError, AdapterStats, ConnectionStats, Delivery, Health, MemoryAdapter,
    ShardPage,
};
use crate::bus::BusLink;
use crate::error::Error;
use crate::identity::NodeId;
use crate::mesh::config::{MeshConfig, PeerRoute, PeerSpec};
use crate::mesh::handshake::{HandshakeConfig, HandshakeError};
use crate::mesh::ingress::{IngressStats, MeshIngress, ReceivedMarks};
use crate::mesh::node::{MeshNode, NodeConfig};
use crate::mesh::session::{EndpointConfig, Health as PeerHealth, MeshError};
use crate::mesh::stream::StreamMode;

/// Cursor tag of the mesh adapter (its positions are the inner memory adapter's).
pub const MESH_CURSOR_TAG: u8 = 4;

/// JSON form: how long a batch waits for a peer without a usable session before its events
/// count as failed (covers a session whose first packet is still on its way).
pub const SESSION_GRACE: Duration = Duration::from_millis(250);

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

/// What a [`MeshAdapter`] built from JSON owns besides the shared parts.
struct Owned {
    link: Arc<OnceLock<BusLink>>,
    ingress: MeshIngress,
    dialer: Dialer,
}

/// The thread that redials unreachable peers every `retry_after`.
struct Dialer {
    stop: Arc<AtomicBool>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Dialer {
    fn start(
        node: Arc<MeshNode>,
        peers: Vec<PeerSpec>,
        every: Duration,
        connect_timeout: Duration,
    ) -> std::io::Result<Dialer> {
        let stop = Arc::new(AtomicBool::new(false));
        let t_stop = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("mesh-dialer".into())
            .spawn(move || {
                while !t_stop.load(Ordering::Acquire) {
                    std::thread::park_timeout(every);
                    for p in &peers {
                        if t_stop.load(Ordering::Acquire) {
                            return;
                        }
                        let id = p.node_id();
                        if !node.is_connected(id) || node.health(id) == Some(PeerHealth::Failed) {
                            // Failure is normal while the peer is down; the next round retries.
                            let _ = dial(&node, p, connect_timeout);
                        }
                    }
                }
            })?;
        Ok(Dialer {
            stop,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Asks the thread to stop (a dial in progress ends when the node shuts down).
    fn signal(&self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.lock().as_ref() {
            t.thread().unpark();
        }
    }

    fn join(&self) {
        if let Some(t) = self.thread.lock().take() {
            // The loop does not panic; a join error leaves nothing to clean up.
            let _ = t.join();
        }
    }
}

/// Dials `peer` directly, or its relay first (returns at once when connected) and then the
/// peer through it. The whole dial is bounded by `timeout`.
fn dial(node: &MeshNode, peer: &PeerSpec, timeout: Duration) -> Result<NodeId, MeshError> {
    let deadline = Instant::now() + timeout;
    match &peer.route {
        PeerRoute::Direct(addr) => persist(deadline, |t| node.connect(*addr, &peer.card, t)),
        PeerRoute::Via(relay) => {
            let via = persist(deadline, |t| node.connect(relay.addr, &relay.card, t))?;
            persist(deadline, |t| node.connect_via(via, &peer.card, t))
        }
    }
}

/// Runs `attempt` (given the time left) again while it fails only because a handshake went
/// unanswered for its own give-up time (a slow or busy peer, a lost datagram burst) and
/// `deadline` has not passed; any other failure, or the deadline, ends it.
fn persist(
    deadline: Instant,
    mut attempt: impl FnMut(Duration) -> Result<NodeId, MeshError>,
) -> Result<NodeId, MeshError> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match attempt(left) {
            Err(MeshError::Handshake(HandshakeError::TimedOut))
                if Instant::now() + RETRY_PAUSE < deadline =>
            {
                std::thread::sleep(RETRY_PAUSE);
            }
            other => return other,
        }
    }
}

/// Pause before a connect attempt whose handshake went unanswered is made again.
const RETRY_PAUSE: Duration = Duration::from_millis(20);

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
    /// Received events on their way through the bus's rings (empty in the code-built form).
    marks: Arc<ReceivedMarks>,
    owned: Option<Owned>,
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
        Ok(Self::assemble(local, node, peers, config, None))
    }

    fn assemble(
        local: MemoryAdapter,
        node: Arc<MeshNode>,
        peers: &[NodeId],
        config: MeshAdapterConfig,
        owned: Option<Owned>,
    ) -> MeshAdapter {
        MeshAdapter {
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
            marks: Arc::new(ReceivedMarks::default()),
            owned,
        }
    }

    /// The adapter of the JSON form (see the module docs): binds a node on `config.listen`,
    /// dials every peer once (each bounded by `connect_timeout`; one that does not answer is
    /// recorded in `last_error` and redialled later), and starts the ingress and the dialer.
    /// Errors: unreadable key or PSK files and an address that cannot be bound are `config`
    /// errors naming the key.
    pub fn from_config(config: &MeshConfig) -> Result<MeshAdapter, Error> {
        config.validate()?;
        let identity = config.load_identity()?;
        let psk = config.load_psk()?;
        let endpoint = EndpointConfig::new(HandshakeConfig::new(identity, psk));
        let node = MeshNode::start(NodeConfig::new(endpoint, config.listen)).map_err(|e| {
            Error::config(
                "adapter.listen",
                format!("cannot bind {}: {e}", config.listen),
            )
        })?;
        let node = Arc::new(node);
        let mut ids: Vec<NodeId> = Vec::new();
        for p in &config.peers {
            let id = p.node_id();
            if id == node.node_id() {
                return Err(Error::config(
                    "adapter.peers",
                    "lists this node's own card (a node does not forward to itself)",
                ));
            }
            if let PeerRoute::Via(relay) = &p.route
                && relay.card.verify().ok() == Some(node.node_id())
            {
                return Err(Error::config(
                    "adapter.peers",
                    "names this node as a relay (a node does not relay to itself)",
                ));
            }
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        // Dial every peer at once; each attempt is bounded by `connect_timeout`.
        let failures: Vec<String> = std::thread::scope(|s| {
            let dials: Vec<_> = config
                .peers
                .iter()
                .map(|p| {
                    let node = &node;
                    s.spawn(move || {
                        dial(node, p, config.connect_timeout)
                            .and_then(|peer| {
                                node.open_stream(peer, config.stream_id, StreamMode::Reliable)
                            })
                            .err()
                            .map(|e| format!("dialling {} failed: {e}", p.describe()))
                    })
                })
                .collect();
            dials
                .into_iter()
                .filter_map(|d| d.join().ok().flatten())
                .collect()
        });
        let link = Arc::new(OnceLock::new());
        let marks = Arc::new(ReceivedMarks::default());
        let io = |e: std::io::Error| Error::Internal(format!("cannot start a mesh thread: {e}"));
        let ingress = MeshIngress::start_linked(
            Arc::clone(&node),
            Arc::clone(&link),
            Arc::clone(&marks),
            Some(config.stream_id),
        )
        .map_err(io)?;
        let dialer = Dialer::start(
            Arc::clone(&node),
            config.peers.clone(),
            config.retry_after,
            config.connect_timeout,
        )
        .map_err(io)?;
        let tuning = MeshAdapterConfig {
            stream_id: config.stream_id,
            credit_timeout: config.credit_timeout,
            retry_after: config.retry_after,
        };
        let local = MemoryAdapter::new(config.max_events_per_shard, config.max_bytes_per_shard);
        let owned = Owned {
            link,
            ingress,
            dialer,
        };
        let mut adapter = Self::assemble(local, node, &ids, tuning, Some(owned));
        adapter.marks = marks;
        if !failures.is_empty() {
            *adapter.last_error.lock() = Some(failures.join("; "));
        }
        Ok(adapter)
    }

    /// The ids of the peers this adapter forwards to.
    pub fn peers(&self) -> Vec<NodeId> {
        self.peers.iter().map(|p| p.id).collect()
    }

    /// Counters of the built-in ingress (`None` for an adapter built with [`MeshAdapter::new`]).
    pub fn ingress_stats(&self) -> Option<IngressStats> {
        self.owned.as_ref().map(|o| o.ingress.stats())
    }

    /// Waits up to `timeout` until every peer has a session; returns whether they all do.
    pub fn wait_connected(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.peers.iter().all(|p| self.node.is_connected(p.id)) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Flushes the node and waits up to `timeout` until every connected peer acknowledged
    /// everything sent on the adapter's stream; returns whether it did.
    pub fn wait_acked(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let _ = self.node.flush();
        loop {
            let pending = self.peers.iter().any(|p| {
                self.node.is_connected(p.id)
                    && self
                        .node
                        .unacked(p.id, self.config.stream_id)
                        .is_some_and(|n| n > 0)
            });
            if !pending {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
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

impl Drop for MeshAdapter {
    fn drop(&mut self) {
        if let Some(o) = &self.owned {
            o.dialer.signal();
            self.node.shutdown();
            o.dialer.join();
            o.ingress.stop();
        }
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
            let mut raws: Vec<&[u8]> = batch.iter().map(|d| d.event.raw()).collect();
            if !self.marks.is_empty() {
                // Events this adapter received from peers are stored, not forwarded again.
                let mut received = Vec::with_capacity(raws.len());
                self.marks.take(&raws, &mut received);
                let mut keep = received.iter().map(|r| !r);
                raws.retain(|_| keep.next().unwrap_or(true));
            }
            for peer in &self.peers {
                if raws.is_empty() {
                    break;
                }
                let skip = peer.down_until.lock().is_some_and(|t| Instant::now() < t);
                if skip {
                    self.failed.fetch_add(raws.len() as u64, Ordering::Relaxed);
                    self.failed_batches.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                if self.owned.is_some() && !self.node.is_connected(peer.id) {
                    // A session that was just agreed becomes usable when its first packet
                    // arrives: give it a moment rather than failing the batch at start-up.
                    let deadline = Instant::now() + SESSION_GRACE;
                    while !self.node.is_connected(peer.id) && Instant::now() < deadline {
                        std::thread::sleep(Duration::from_millis(1));
                    }
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
        match &self.owned {
            // Push out partial frames; the node itself is shared and shut down by its owner.
            None => {
                let _ = self.node.flush();
            }
            // Our own node: let the peers acknowledge what was sent, then stop everything.
            Some(o) => {
                self.wait_acked(self.config.credit_timeout);
                // Shutting the node down first ends a dial in progress at once.
                o.dialer.signal();
                self.node.shutdown();
                o.dialer.join();
                o.ingress.stop();
            }
        }
        self.local.shutdown()
    }

    fn attach(&self, bus: BusLink) {
        if let Some(o) = &self.owned {
            // Set once by the bus that owns this adapter; a second bus is ignored.
            let _ = o.link.set(bus);
        }
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
            local_addr: Some(self.node.local_addr().to_string()),
            card: Some(crate::identity::hex(&self.node.card().to_bytes())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unanswered_handshake_is_dialled_again_until_it_succeeds() {
        let mut calls = 0;
        let got = persist(Instant::now() + Duration::from_secs(10), |_| {
            calls += 1;
            if calls < 3 {
                Err(MeshError::Handshake(HandshakeError::TimedOut))
            } else {
                Ok(NodeId(7))
            }
        });
        assert!(matches!(got, Ok(NodeId(7))));
        assert_eq!(calls, 3);
    }

    #[test]
    fn other_failures_end_the_dial_at_once() {
        let mut calls = 0;
        let got = persist(Instant::now() + Duration::from_secs(10), |_| {
            calls += 1;
            Err(MeshError::Handshake(HandshakeError::BadSignature))
        });
        assert!(matches!(
            got,
            Err(MeshError::Handshake(HandshakeError::BadSignature))
        ));
        assert_eq!(calls, 1);
    }

    #[test]
    fn the_deadline_bounds_the_retries_and_each_attempt_gets_the_time_left() {
        let start = Instant::now();
        let deadline = start + Duration::from_millis(200);
        let mut lefts = Vec::new();
        let got = persist(deadline, |left| {
            lefts.push(left);
            std::thread::sleep(Duration::from_millis(30));
            Err(MeshError::Handshake(HandshakeError::TimedOut))
        });
        assert!(matches!(
            got,
            Err(MeshError::Handshake(HandshakeError::TimedOut))
        ));
        assert!(lefts.len() >= 2, "{lefts:?}");
        assert!(lefts.windows(2).all(|w| w[1] < w[0]), "{lefts:?}");
        assert!(lefts.iter().all(|l| *l <= Duration::from_millis(200)));
        // It gave up once less than a pause was left, not long after the deadline.
        assert!(start.elapsed() < Duration::from_secs(5));
    }
}
