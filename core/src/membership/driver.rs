//! [`PubSub`]: channel membership and publish fan-out on a running [`MeshNode`].
//!
//! One reader thread takes **every** event the node hands out (like `MeshIngress`, so the node
//! must not have another reader) and dispatches the membership traffic (subprotocol
//! [`SUBPROTOCOL_MEMBERSHIP`]):
//! - control stream ([`CONTROL_STREAM`], reliable, both directions): subscribes and
//!   unsubscribes from peers go to this node's [`Roster`] and are answered with an ack; acks
//!   answer this node's own [`PubSub::subscribe`] / [`PubSub::unsubscribe`]. A message that
//!   does not parse is dropped and counted under its [`WireError`] kind, never answered;
//! - channel streams (stream id = the channel's canonical hash, header channel hint = its
//!   16-bit hint): events of channels this node subscribed to at that publisher go to the
//!   inbox ([`PubSub::recv`]); others are counted (`unsolicited`) and dropped;
//! - `Health { Failed }` of a peer evicts it from every roster;
//! - every `sweep_every` (1 s) the roster's expired grants and their subscribers are swept;
//! - anything else (plain streams, connection events) is counted (`other_events`) and dropped.
//!
//! Publishing: [`PubSub::publish`] / [`PubSub::publish_batch`] ask the roster who receives
//! (re-checking every member's authorization, see [`Roster::fan_out`]), then hand the events
//! to each peer's session on the channel stream in the channel's reliability mode. The
//! [`PublishReport`] says which peers got them, which failed (with the error and how many
//! events were queued before it) and which members were dropped (with the reason).
//! "Delivered" means handed to the peer's session: a reliable stream then retransmits until
//! acked while the session lives; fire-and-forget frames may be lost. On a reliable channel a
//! publish waits up to `credit_timeout` for a slow subscriber's credit, then reports it failed.
//! [`PubSub::wait_acked`] waits (bounded) until given peers acknowledged everything sent on a
//! channel, for a publisher that wants to know before it goes away.
//!
//! Membership is per publisher: a subscriber subscribes at each node whose events it wants;
//! nothing is gossiped. Not promised: replay of events published before the subscribe, ordering
//! across publishers, delivery after the subscriber's session is replaced (re-subscribe).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::{Condvar, Mutex};

use super::reason::DenyReason;
use super::roster::{FanOut, Roster};
use super::wire::{
    AckStatus, CONTROL_STREAM, Credential, Message, SUBPROTOCOL_MEMBERSHIP, WireError,
};
use crate::channel::{ChannelHash, ChannelName, Reliability};
use crate::identity::NodeId;
use crate::mesh::node::MeshNode;
use crate::mesh::session::{Delivery, Event, HealthChange, MeshError};
use crate::mesh::stream::{StreamMode, StreamTag};

const CONTROL_TAG: StreamTag = StreamTag {
    subprotocol_id: SUBPROTOCOL_MEMBERSHIP,
    channel_hash: 0,
};

/// Tuning of a [`PubSub`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PubSubConfig {
    /// Longest wait for a reliable subscriber's credit per publish (default 2 s).
    pub credit_timeout: Duration,
    /// How long the reader thread waits for node events per round (default 20 ms; also the
    /// bound on how long [`PubSub::stop`] takes).
    pub tick: Duration,
    /// Most events waiting in the inbox; more are dropped and counted (default 1 048 576).
    pub max_inbox: usize,
    /// How often the reader thread sweeps expired grants and their subscribers out of the
    /// rosters ([`Roster::sweep`]; default 1 s).
    pub sweep_every: Duration,
}

impl Default for PubSubConfig {
    fn default() -> Self {
        PubSubConfig {
            credit_timeout: Duration::from_secs(2),
            tick: Duration::from_millis(20),
            max_inbox: 1 << 20,
            sweep_every: Duration::from_secs(1),
        }
    }
}

/// Why a [`PubSub`] call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PubSubError {
    /// The node failed (not connected to the peer, shut down, ...).
    Mesh(MeshError),
    /// The message could not be encoded (bad group name, chain too long).
    Wire(WireError),
    /// No ack arrived in time.
    Timeout,
    /// The channel's hash is the control stream's id; it cannot be used.
    ReservedHash,
    /// The pub/sub was stopped.
    Stopped,
}

impl std::fmt::Display for PubSubError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PubSubError::Mesh(e) => write!(f, "pubsub: {e}"),
            PubSubError::Wire(e) => write!(f, "pubsub: {e}"),
            PubSubError::Timeout => f.write_str("pubsub: no ack before the timeout"),
            PubSubError::ReservedHash => {
                f.write_str("pubsub: the channel's hash is reserved for the control stream")
            }
            PubSubError::Stopped => f.write_str("pubsub: stopped"),
        }
    }
}

impl std::error::Error for PubSubError {}

impl From<MeshError> for PubSubError {
    fn from(e: MeshError) -> Self {
        PubSubError::Mesh(e)
    }
}

impl From<WireError> for PubSubError {
    fn from(e: WireError) -> Self {
        PubSubError::Wire(e)
    }
}

/// A publish that did not reach one peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishFailure {
    /// The peer.
    pub peer: NodeId,
    /// Events of the publish queued for it before the failure.
    pub queued: usize,
    /// Why.
    pub error: MeshError,
}

/// What one publish did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishReport {
    /// Peers whose session took every event.
    pub delivered: Vec<NodeId>,
    /// Peers that did not take every event.
    pub failed: Vec<PublishFailure>,
    /// Members removed from the roster by this publish's checks, with the reason.
    pub dropped: Vec<(NodeId, DenyReason)>,
}

/// An event received on a subscribed channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelEvent {
    /// The channel.
    pub channel: ChannelName,
    /// The publishing node.
    pub publisher: NodeId,
    /// The event bytes.
    pub payload: Vec<u8>,
}

/// Counters of a [`PubSub`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PubSubStats {
    /// Well-formed control messages received.
    pub control_received: u64,
    /// Control messages dropped because they did not parse, by [`WireError::kind`].
    pub malformed: BTreeMap<&'static str, u64>,
    /// Acks sent.
    pub acks_sent: u64,
    /// Acks that could not be sent.
    pub acks_failed: u64,
    /// Acks for no waiting request (late or unknown).
    pub stray_acks: u64,
    /// Channel events put in the inbox.
    pub events_received: u64,
    /// Channel events from a publisher this node is not subscribed to there, or with a
    /// channel hint that does not match the stream.
    pub unsolicited: u64,
    /// Channel events dropped because the inbox was full.
    pub inbox_full: u64,
    /// Peers evicted from the rosters after the failure detector reported them failed.
    pub peers_evicted: u64,
    /// Members removed by the periodic sweep because their grant expired.
    pub swept: u64,
    /// Node events that were not membership traffic.
    pub other_events: u64,
}

impl PubSubStats {
    /// Malformed control messages in total.
    pub fn malformed_total(&self) -> u64 {
        self.malformed.values().sum()
    }
}

struct Inner {
    node: Arc<MeshNode>,
    config: PubSubConfig,
    roster: Mutex<Roster>,
    /// (publisher, channel hash) -> name, for channels subscribed at that publisher.
    subscribed: Mutex<HashMap<(NodeId, ChannelHash), ChannelName>>,
    pending: Mutex<HashMap<u64, Option<AckStatus>>>,
    acked: Condvar,
    inbox: Mutex<VecDeque<ChannelEvent>>,
    arrived: Condvar,
    stats: Mutex<PubSubStats>,
    next_request: AtomicU64,
    stop: AtomicBool,
}

/// Membership and fan-out over a [`MeshNode`] (see the module docs).
pub struct PubSub {
    inner: Arc<Inner>,
    reader: Mutex<Option<JoinHandle<()>>>,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl PubSub {
    /// Starts the reader thread on `node` with `roster` deciding who may subscribe here.
    pub fn start(node: Arc<MeshNode>, roster: Roster, config: PubSubConfig) -> PubSub {
        let inner = Arc::new(Inner {
            node,
            config,
            roster: Mutex::new(roster),
            subscribed: Mutex::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
            acked: Condvar::new(),
            inbox: Mutex::new(VecDeque::new()),
            arrived: Condvar::new(),
            stats: Mutex::new(PubSubStats::default()),
            next_request: AtomicU64::new(1),
            stop: AtomicBool::new(false),
        });
        let worker = Arc::clone(&inner);
        let reader = std::thread::Builder::new()
            .name("net-pubsub".into())
            .spawn(move || worker.run())
            .ok();
        PubSub {
            inner,
            reader: Mutex::new(reader),
        }
    }

    /// The node.
    pub fn node(&self) -> &Arc<MeshNode> {
        &self.inner.node
    }

    /// Runs `f` on the roster (registry changes, capabilities, revocations, inspection).
    pub fn with_roster<R>(&self, f: impl FnOnce(&mut Roster) -> R) -> R {
        f(&mut self.inner.roster.lock())
    }

    /// The counters.
    pub fn stats(&self) -> PubSubStats {
        self.inner.stats.lock().clone()
    }

    /// Subscribes to `channel` at `publisher` (connected), in queue `group` if given, with an
    /// optional token; waits up to `timeout` for the ack and returns its status.
    pub fn subscribe(
        &self,
        publisher: NodeId,
        channel: &ChannelName,
        group: Option<&str>,
        credential: Option<Credential>,
        timeout: Duration,
    ) -> Result<AckStatus, PubSubError> {
        let request_id = self.inner.next_request.fetch_add(1, Ordering::Relaxed);
        let msg = Message::Subscribe {
            request_id,
            channel: channel.clone(),
            group: group.map(str::to_string),
            credential,
        };
        // Listen before asking, so events right after the ack are kept.
        let key = (publisher, channel.hash());
        let had = self
            .inner
            .subscribed
            .lock()
            .insert(key, channel.clone())
            .is_some();
        let status = self.request(publisher, &msg, timeout);
        if !had && !matches!(status, Ok(AckStatus::Subscribed)) {
            self.inner.subscribed.lock().remove(&key);
        }
        status
    }

    /// Unsubscribes from `channel` at `publisher`; waits up to `timeout` for the ack. Events
    /// of the channel from that publisher are no longer accepted from the moment of the call.
    pub fn unsubscribe(
        &self,
        publisher: NodeId,
        channel: &ChannelName,
        timeout: Duration,
    ) -> Result<AckStatus, PubSubError> {
        let request_id = self.inner.next_request.fetch_add(1, Ordering::Relaxed);
        self.inner
            .subscribed
            .lock()
            .remove(&(publisher, channel.hash()));
        let msg = Message::Unsubscribe {
            request_id,
            channel: channel.clone(),
        };
        self.request(publisher, &msg, timeout)
    }

    fn request(
        &self,
        peer: NodeId,
        msg: &Message,
        timeout: Duration,
    ) -> Result<AckStatus, PubSubError> {
        if self.inner.stop.load(Ordering::Acquire) {
            return Err(PubSubError::Stopped);
        }
        let bytes = msg.encode()?;
        let id = msg.request_id();
        self.inner.pending.lock().insert(id, None);
        if let Err(e) = self.inner.send_control(peer, &bytes) {
            self.inner.pending.lock().remove(&id);
            return Err(e.into());
        }
        let deadline = Instant::now() + timeout;
        let mut pending = self.inner.pending.lock();
        loop {
            if let Some(Some(status)) = pending.get(&id) {
                let status = *status;
                pending.remove(&id);
                return Ok(status);
            }
            if self
                .inner
                .acked
                .wait_until(&mut pending, deadline)
                .timed_out()
            {
                pending.remove(&id);
                return Err(PubSubError::Timeout);
            }
        }
    }

    /// Publishes one event to `channel` (see [`publish_batch`](Self::publish_batch)).
    pub fn publish(
        &self,
        channel: &ChannelName,
        payload: &[u8],
    ) -> Result<PublishReport, PubSubError> {
        self.publish_batch(channel, &[payload])
    }

    /// Publishes `events` in order to every authorized subscriber of `channel` (one member
    /// per queue group receives the whole batch).
    pub fn publish_batch(
        &self,
        channel: &ChannelName,
        events: &[&[u8]],
    ) -> Result<PublishReport, PubSubError> {
        let mut fan = FanOut::default();
        let mut report = PublishReport::default();
        self.publish_into(channel, events, &mut fan, &mut report)?;
        Ok(report)
    }

    /// As [`publish_batch`](Self::publish_batch), reusing `fan` and `report` (cleared first).
    pub fn publish_into(
        &self,
        channel: &ChannelName,
        events: &[&[u8]],
        fan: &mut FanOut,
        report: &mut PublishReport,
    ) -> Result<(), PubSubError> {
        report.delivered.clear();
        report.failed.clear();
        report.dropped.clear();
        if self.inner.stop.load(Ordering::Acquire) {
            return Err(PubSubError::Stopped);
        }
        let hash = channel.hash();
        if hash.get() == CONTROL_STREAM {
            return Err(PubSubError::ReservedHash);
        }
        let mode = {
            let mut roster = self.inner.roster.lock();
            roster.fan_out_into(hash, unix_now(), fan);
            match roster.registry().resolve(channel).config.reliability {
                Reliability::Reliable => StreamMode::Reliable,
                Reliability::FireAndForget => StreamMode::FireAndForget,
            }
        };
        report.dropped.extend_from_slice(&fan.dropped);
        let tag = StreamTag {
            subprotocol_id: SUBPROTOCOL_MEMBERSHIP,
            channel_hash: channel.hint().get(),
        };
        let node = &self.inner.node;
        for &peer in &fan.peers {
            let result = node
                .open_stream_tagged(peer, hash.get(), mode, tag)
                .map_err(|e| (0, e))
                .and_then(|()| self.send_all(peer, hash.get(), events));
            match result {
                Ok(()) => report.delivered.push(peer),
                Err((queued, error)) => report.failed.push(PublishFailure {
                    peer,
                    queued,
                    error,
                }),
            }
        }
        Ok(())
    }

    /// Queues every event for `peer`, waiting for credit (reliable streams) up to
    /// `credit_timeout` in total.
    fn send_all(
        &self,
        peer: NodeId,
        stream: u64,
        events: &[&[u8]],
    ) -> Result<(), (usize, MeshError)> {
        let node = &self.inner.node;
        let deadline = Instant::now() + self.inner.config.credit_timeout;
        let mut done = 0usize;
        while done < events.len() {
            let rest = events.get(done..).unwrap_or_default();
            match node.send_batch(peer, stream, rest.iter().copied()) {
                Ok((n, Ok(()))) => done += n,
                Ok((n, Err(e))) if e.is_backpressure() => {
                    done += n;
                    let left = deadline.saturating_duration_since(Instant::now());
                    let Some(&next) = events.get(done) else {
                        break;
                    };
                    node.send_blocking(peer, stream, next, left)
                        .map_err(|e| (done, e))?;
                    done += 1;
                }
                Ok((n, Err(e))) => return Err((done + n, e)),
                Err(e) => return Err((done, e)),
            }
        }
        Ok(())
    }

    /// Flushes the node and waits up to `timeout` until each of `peers` has acknowledged
    /// every frame sent to it on `channel`'s stream; returns the peers that had not (empty:
    /// all did). A peer counts as done only when its current session's stream reports nothing
    /// unacknowledged: one without a session or without that stream is never done. On a
    /// fire-and-forget channel nothing waits for an acknowledgement, so this returns at once.
    pub fn wait_acked(
        &self,
        channel: &ChannelName,
        peers: &[NodeId],
        timeout: Duration,
    ) -> Vec<NodeId> {
        let node = &self.inner.node;
        let stream = channel.hash().get();
        let deadline = Instant::now() + timeout;
        let _ = node.flush();
        let mut waiting: Vec<NodeId> = peers.to_vec();
        loop {
            waiting.retain(|&p| node.unacked(p, stream) != Some(0));
            if waiting.is_empty() || Instant::now() >= deadline {
                return waiting;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// The next event of a subscribed channel, waiting up to `timeout`.
    pub fn recv(&self, timeout: Duration) -> Option<ChannelEvent> {
        let deadline = Instant::now() + timeout;
        let mut inbox = self.inner.inbox.lock();
        loop {
            if let Some(e) = inbox.pop_front() {
                return Some(e);
            }
            if self
                .inner
                .arrived
                .wait_until(&mut inbox, deadline)
                .timed_out()
            {
                return inbox.pop_front();
            }
        }
    }

    /// Moves every waiting event into `into`, waiting up to `timeout` for the first; returns
    /// how many.
    pub fn recv_batch(&self, into: &mut Vec<ChannelEvent>, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        let mut inbox = self.inner.inbox.lock();
        while inbox.is_empty() {
            if self
                .inner
                .arrived
                .wait_until(&mut inbox, deadline)
                .timed_out()
            {
                break;
            }
        }
        let n = inbox.len();
        into.extend(inbox.drain(..));
        n
    }

    /// Stops the reader thread (within one tick); later calls fail with `Stopped`. The node
    /// is left running. Also on drop.
    pub fn stop(&self) {
        self.inner.stop.store(true, Ordering::Release);
        if let Some(h) = self.reader.lock().take() {
            let _ = h.join();
        }
    }
}

impl Drop for PubSub {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Inner {
    fn send_control(&self, peer: NodeId, bytes: &[u8]) -> Result<(), MeshError> {
        self.node
            .open_stream_tagged(peer, CONTROL_STREAM, StreamMode::Reliable, CONTROL_TAG)?;
        self.node
            .send_blocking(peer, CONTROL_STREAM, bytes, self.config.credit_timeout)
    }

    fn run(&self) {
        let mut events = Vec::new();
        let mut next_sweep = Instant::now() + self.config.sweep_every;
        while !self.stop.load(Ordering::Acquire) {
            if Instant::now() >= next_sweep {
                next_sweep = Instant::now() + self.config.sweep_every;
                let removed = self.roster.lock().sweep(unix_now()).len() as u64;
                self.stats.lock().swept += removed;
            }
            events.clear();
            match self.node.recv_batch(&mut events, self.config.tick) {
                Ok(_) => {}
                Err(MeshError::ShutDown) => return,
                Err(_) => continue,
            }
            for ev in events.drain(..) {
                self.dispatch(ev);
            }
        }
    }

    fn dispatch(&self, ev: Event) {
        match ev {
            Event::Data(d) if d.tag.subprotocol_id == SUBPROTOCOL_MEMBERSHIP => {
                if d.stream_id == CONTROL_STREAM {
                    self.on_control(&d);
                } else {
                    self.on_channel(d);
                }
            }
            Event::Health {
                peer,
                change: HealthChange::Failed,
            } => {
                if self.roster.lock().evict_peer(peer) > 0 {
                    self.stats.lock().peers_evicted += 1;
                }
            }
            _ => self.stats.lock().other_events += 1,
        }
    }

    fn on_control(&self, d: &Delivery) {
        for bytes in d.events() {
            let msg = match Message::parse(bytes) {
                Ok(m) => m,
                Err(e) => {
                    *self.stats.lock().malformed.entry(e.kind()).or_insert(0) += 1;
                    continue;
                }
            };
            self.stats.lock().control_received += 1;
            if let Message::Ack {
                request_id, status, ..
            } = msg
            {
                let mut pending = self.pending.lock();
                match pending.get_mut(&request_id) {
                    Some(slot) if slot.is_none() => {
                        *slot = Some(status);
                        self.acked.notify_all();
                    }
                    _ => self.stats.lock().stray_acks += 1,
                }
                continue;
            }
            let reply = self.roster.lock().handle(d.peer, unix_now(), &msg);
            if let Some(reply) = reply {
                let sent = reply
                    .encode()
                    .ok()
                    .is_some_and(|b| self.send_control(d.peer, &b).is_ok());
                let mut stats = self.stats.lock();
                if sent {
                    stats.acks_sent += 1;
                } else {
                    stats.acks_failed += 1;
                }
            }
        }
    }

    fn on_channel(&self, d: Delivery) {
        let name = ChannelHash::from_u64(d.stream_id).and_then(|h| {
            self.subscribed
                .lock()
                .get(&(d.peer, h))
                .filter(|n| n.hint().get() == d.tag.channel_hash)
                .cloned()
        });
        let Some(channel) = name else {
            self.stats.lock().unsolicited += d.len() as u64;
            return;
        };
        let mut inbox = self.inbox.lock();
        let mut taken = 0u64;
        let mut full = 0u64;
        for e in d.events() {
            if inbox.len() >= self.config.max_inbox {
                full += 1;
                continue;
            }
            inbox.push_back(ChannelEvent {
                channel: channel.clone(),
                publisher: d.peer,
                payload: e.to_vec(),
            });
            taken += 1;
        }
        drop(inbox);
        self.arrived.notify_all();
        let mut stats = self.stats.lock();
        stats.events_received += taken;
        stats.inbox_full += full;
    }
}
