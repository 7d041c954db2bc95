//! The sans-IO mesh endpoint: session table, handshakes in Net packets, streams, heartbeats,
//! the failure detector and routing, driven by `handle_datagram` / `handle_timeout` and
//! drained by `poll_transmit` / `poll_event`. This file holds the state, the send side and the
//! scheduler; the child modules hold the rest: `handshakes` (dialling, answering, sessions
//! from finished handshakes), `receive` (the datagram path), `timers` (`poll_timeout`,
//! `handle_timeout`, owed acks), `routing` (relaying, routed delivery, the link state
//! machine) and `link_report` (the heartbeat byte that reports one-way link loss).

mod handshakes;
mod link_report;
mod receive;
mod routing;
mod timers;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use self::routing::{Dial, Path, Via, path_for, update_routes};
use super::carriage::{
    SealedKind, handshake_datagram, is_handshake_header, is_routed_handshake_header,
    sealed_datagram_into,
};
use super::{
    Counters, Delivery, EndpointConfig, Event, FailureDetector, Health, HealthChange, MeshError,
    PacketPool, Transmit,
};
use crate::identity::{NodeCard, NodeId};
use crate::mesh::crypto::TAG_LEN;
use crate::mesh::crypto::{CryptoError, PacketCipher, Sealer};
use crate::mesh::handshake::{
    HandshakeError, HandshakeEvent, Initiator, PREAMBLE_LEN, PeerTarget, Responder, Session,
};
use crate::mesh::route::RoutingTable;
use crate::mesh::stream::{
    Ack, Arrival, FragInfo, Reassembler, RecvStream, SendStream, StreamMode, StreamTag,
};
use crate::mesh::wire::{
    DatagramKind, Frame, HEADER_LEN, HeaderView, ROUTING_HEADER_LEN, classify, flags, frag_flags,
    split_packet,
};

/// Most sessions kept per peer (the current one is never evicted).
pub const MAX_SESSIONS_PER_PEER: usize = 4;

struct Peer {
    /// Where the peer was last reached directly; `None` for a peer only ever reached
    /// through a relay.
    addr: Option<SocketAddr>,
    current: Option<u64>,
    connecting: Option<Initiator>,
    /// How the running handshake's messages travel.
    dial: Dial,
    /// End-to-end health, fed by every authentic packet of the peer (direct or routed).
    detector: Option<FailureDetector>,
    /// Health of the direct link (peers with a direct route only), fed by authentic packets
    /// that arrived directly; `Failed` marks the link down in the routing table.
    link: Option<FailureDetector>,
    /// The peer's last link report: whether it hears this node directly (true until it
    /// says otherwise, and again after a new direct handshake).
    hears_us: bool,
    last_error: Option<HandshakeError>,
}

impl Peer {
    fn new(addr: Option<SocketAddr>, dial: Dial) -> Peer {
        Peer {
            addr,
            current: None,
            connecting: None,
            dial,
            detector: None,
            link: None,
            hears_us: true,
            last_error: None,
        }
    }
}

struct Sess {
    peer: NodeId,
    /// The peer's direct address for this session; `None` for a session agreed through a
    /// relay (routed deliveries never set it).
    addr: Option<SocketAddr>,
    cipher: PacketCipher,
    confirmed: bool,
    initiator: bool,
    last_tx: Instant,
    /// Last heartbeat (carrying this node's link report) sent on this session straight to
    /// `addr`, not through a relay.
    last_direct_heartbeat: Instant,
    last_rx: Instant,
    send: HashMap<u64, SendStream>,
    recv: HashMap<u64, RecvStream>,
    /// Send streams with closed frames waiting, in deficit-round-robin order.
    active: VecDeque<u64>,
    /// Whether this session is in the endpoint's `ready` queue.
    queued: bool,
    /// Partial events of the session's receive streams.
    reasm: Reassembler,
}

/// Outputs shared by every state machine of the endpoint.
struct Out {
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    counters: Counters,
    /// Where datagram buffers come from (and where the driver hands them back).
    pool: Arc<PacketPool>,
    /// Reused for encoding acks.
    ack_buf: Vec<u8>,
}

impl Out {
    fn transmit(&mut self, dest: SocketAddr, data: Vec<u8>) {
        self.counters.tx_datagrams += 1;
        self.counters.tx_bytes += data.len() as u64;
        self.transmits.push_back(Transmit { dest, data });
    }
}

/// One mesh node's protocol state, without sockets or clocks. See the module docs of
/// [`mesh::session`](super).
pub struct Endpoint {
    config: EndpointConfig,
    me: NodeId,
    origin_hash: u32,
    responder: Responder,
    peers: HashMap<NodeId, Peer>,
    sessions: HashMap<u64, Sess>,
    routes: RoutingTable,
    /// Which neighbour an address belongs to, as last found (checked on every use).
    neighbour_cache: HashMap<SocketAddr, NodeId>,
    out: Out,
    last_now: Option<Instant>,
    scratch: Vec<u64>,
    /// Sessions with send streams holding closed frames, served round robin by
    /// `poll_transmit` (see [`Endpoint::poll_transmit`]).
    ready: VecDeque<u64>,
    /// Reused list of stream ids.
    ids: Vec<u64>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("node_id", &self.me)
            .field("peers", &self.peers.len())
            .field("sessions", &self.sessions.len())
            .finish_non_exhaustive()
    }
}

fn handshake_reason(e: HandshakeError) -> &'static str {
    match e {
        HandshakeError::Malformed => "handshake_malformed",
        HandshakeError::Unexpected => "handshake_unexpected",
        HandshakeError::WrongResponder => "handshake_wrong_responder",
        HandshakeError::NotAllowed => "handshake_not_allowed",
        HandshakeError::Decrypt => "handshake_decrypt",
        HandshakeError::IdentityMismatch => "handshake_identity_mismatch",
        HandshakeError::BadSignature => "handshake_bad_signature",
        HandshakeError::Replayed => "handshake_replayed",
        HandshakeError::TimedOut => "handshake_timed_out",
        HandshakeError::Internal => "handshake_internal",
    }
}

fn crypto_reason(e: CryptoError) -> &'static str {
    match e {
        CryptoError::Wire(w) => w.kind(),
        other => other.kind(),
    }
}

/// Seals `plaintext` and queues it along `path`. Without a path nothing is sealed and the
/// packet counts as sent and lost (`tx_no_path`): reliable frames are resent later.
fn seal_to(
    sealer: &mut Sealer,
    out: &mut Out,
    path: Option<&Path>,
    kind: SealedKind,
    plaintext: &[u8],
) -> Result<(), CryptoError> {
    let Some(path) = path else {
        out.counters.tx_no_path += 1;
        return Ok(());
    };
    let mut data = out
        .pool
        .take(ROUTING_HEADER_LEN + HEADER_LEN + plaintext.len() + TAG_LEN);
    if let Err(e) = sealed_datagram_into(&mut data, sealer, kind, path.route.as_ref(), plaintext) {
        out.pool.put(data);
        return Err(e);
    }
    if path.route.is_some() {
        out.counters.routed_sent += 1;
    }
    out.transmit(path.addr, data);
    Ok(())
}

/// Seals and queues one packet on `sess` along `path`.
fn emit(
    sess: &mut Sess,
    out: &mut Out,
    now: Instant,
    path: Option<&Path>,
    kind: SealedKind,
    plaintext: &[u8],
) -> Result<(), CryptoError> {
    seal_to(&mut sess.cipher.sealer, out, path, kind, plaintext)?;
    sess.sent_on(now);
    Ok(())
}

fn kind(
    sid: u64,
    origin_hash: u32,
    flags: u8,
    stream_id: u64,
    sequence: u64,
    count: u16,
) -> SealedKind {
    SealedKind {
        flags,
        session_id: sid,
        stream_id,
        sequence,
        origin_hash,
        event_count: count,
        tag: StreamTag::default(),
        priority: 0,
        frag: None,
    }
}

/// Puts `stream_id` of session `sid` (which has closed frames) into the scheduler: at the
/// back of its session's active list, and the session at the back of `ready`.
fn schedule(ready: &mut VecDeque<u64>, sid: u64, sess: &mut Sess, stream_id: u64) {
    if let Some(stream) = sess.send.get_mut(&stream_id) {
        let (_, scheduled) = stream.sched();
        if !*scheduled {
            *scheduled = true;
            sess.active.push_back(stream_id);
        }
    }
    if !sess.queued && !sess.active.is_empty() {
        sess.queued = true;
        ready.push_back(sid);
    }
}

/// The highest priority among the session's active streams that have closed frames waiting
/// (0 if none has).
fn top_priority(sess: &Sess) -> u8 {
    sess.active
        .iter()
        .filter_map(|id| sess.send.get(id))
        .filter(|s| s.next_ready_len().is_some())
        .map(SendStream::priority)
        .max()
        .unwrap_or(0)
}

/// Resends the given unacked sequences of a reliable stream along `path`, each with a fresh
/// nonce.
#[allow(clippy::too_many_arguments)]
fn resend(
    sid: u64,
    sess: &mut Sess,
    out: &mut Out,
    origin_hash: u32,
    now: Instant,
    path: Option<&Path>,
    stream_id: u64,
    seqs: &[u64],
) {
    for &seq in seqs {
        let Some(stream) = sess.send.get_mut(&stream_id) else {
            return;
        };
        let Some((frame, count, frag)) = stream.unacked_frame(seq) else {
            continue;
        };
        let k = SealedKind {
            tag: stream.tag(),
            priority: stream.priority(),
            frag,
            ..kind(sid, origin_hash, flags::RELIABLE, stream_id, seq, count)
        };
        if seal_to(&mut sess.cipher.sealer, out, path, k, frame).is_err() {
            return;
        }
        stream.mark_resent(seq, now);
        sess.sent_on(now);
        out.counters.frames_retransmitted += 1;
    }
}

fn send_ack(
    sid: u64,
    sess: &mut Sess,
    out: &mut Out,
    origin_hash: u32,
    now: Instant,
    path: Option<&Path>,
    stream_id: u64,
) {
    let Some(stream) = sess.recv.get_mut(&stream_id) else {
        return;
    };
    let ack = stream.make_ack(now);
    let mut body = std::mem::take(&mut out.ack_buf);
    body.clear();
    ack.encode(&mut body);
    let k = kind(sid, origin_hash, flags::CONTROL, stream_id, 0, 0);
    if emit(sess, out, now, path, k, &body).is_ok() {
        out.counters.acks_sent += 1;
    }
    out.ack_buf = body;
}

impl Sess {
    /// Whether this session's unacked frames are still worth resending: it is the peer's
    /// current session, or it was heard from within `fail_after`. A session replaced after
    /// its peer restarted therefore stops resending instead of retrying forever.
    fn retransmits(&self, current: bool, now: Instant, fail_after: Duration) -> bool {
        current || now.saturating_duration_since(self.last_rx) < fail_after
    }

    /// Records that a packet left at `now` (by any path).
    fn sent_on(&mut self, now: Instant) {
        self.last_tx = now;
    }
}

impl Endpoint {
    /// An endpoint for `config.handshake.identity`.
    pub fn new(config: EndpointConfig) -> Self {
        let me = config.handshake.identity.node_id();
        let origin_hash = config.handshake.identity.origin_hash();
        let responder = Responder::new(config.handshake.clone());
        Endpoint {
            config,
            me,
            origin_hash,
            responder,
            peers: HashMap::new(),
            sessions: HashMap::new(),
            routes: RoutingTable::new(),
            neighbour_cache: HashMap::new(),
            out: Out {
                transmits: VecDeque::new(),
                events: VecDeque::new(),
                counters: Counters::default(),
                pool: Arc::new(PacketPool::default()),
                ack_buf: Vec::new(),
            },
            last_now: None,
            scratch: Vec::new(),
            ready: VecDeque::new(),
            ids: Vec::new(),
        }
    }

    /// The pool the endpoint takes datagram and frame buffers from. A driver hands each sent
    /// [`Transmit`]'s buffer back with [`PacketPool::put`] / [`PacketPool::put_all`], so the
    /// send path allocates nothing per packet in steady state.
    pub fn packet_pool(&self) -> &Arc<PacketPool> {
        &self.out.pool
    }

    /// This node's id.
    pub fn node_id(&self) -> NodeId {
        self.me
    }

    /// This node's card (what peers need to dial it).
    pub fn card(&self) -> NodeCard {
        self.responder.card()
    }

    /// The configuration.
    pub fn config(&self) -> &EndpointConfig {
        &self.config
    }

    /// The counters.
    pub fn counters(&self) -> &Counters {
        &self.out.counters
    }

    /// Sessions in the table (all peers, confirmed or not).
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// The session used to send to `peer`, if one is established.
    pub fn current_session(&self, peer: NodeId) -> Option<u64> {
        self.peers.get(&peer).and_then(|p| p.current)
    }

    /// Whether a session with `peer` is established.
    pub fn is_connected(&self, peer: NodeId) -> bool {
        self.current_session(peer).is_some()
    }

    /// Whether an outgoing handshake to `peer` is in progress.
    pub fn is_connecting(&self, peer: NodeId) -> bool {
        self.peers
            .get(&peer)
            .is_some_and(|p| p.connecting.is_some())
    }

    /// Why the last outgoing handshake to `peer` failed, if it did.
    pub fn connect_error(&self, peer: NodeId) -> Option<HandshakeError> {
        self.peers.get(&peer).and_then(|p| p.last_error)
    }

    /// The failure detector's view of `peer`.
    pub fn health(&self, peer: NodeId) -> Option<Health> {
        self.peers
            .get(&peer)
            .and_then(|p| p.detector.as_ref())
            .map(|d| d.health())
    }

    /// Credit left on a reliable send stream (`None` if not open).
    pub fn credit_available(&self, peer: NodeId, stream_id: u64) -> Option<u64> {
        let sid = self.current_session(peer)?;
        self.sessions
            .get(&sid)?
            .send
            .get(&stream_id)
            .map(|s| s.credit_available())
    }

    /// Unacked frames on a send stream (`None` if not open).
    pub fn unacked(&self, peer: NodeId, stream_id: u64) -> Option<usize> {
        let sid = self.current_session(peer)?;
        self.sessions
            .get(&sid)?
            .send
            .get(&stream_id)
            .map(|s| s.unacked())
    }

    fn observe(&mut self, now: Instant) {
        self.last_now = Some(self.last_now.map_or(now, |t| t.max(now)));
    }

    /// Opens a send stream to `peer` (its current session). Opening an open stream with the
    /// same mode is a no-op.
    pub fn open_stream(
        &mut self,
        peer: NodeId,
        stream_id: u64,
        mode: StreamMode,
    ) -> Result<(), MeshError> {
        self.open_stream_tagged(peer, stream_id, mode, StreamTag::default())
    }

    /// As [`open_stream`](Self::open_stream), with a header tag (subprotocol id and channel
    /// hint) on every data packet of the stream. Opening an open stream with the same mode and
    /// tag is a no-op; another mode or tag is [`MeshError::StreamModeConflict`].
    pub fn open_stream_tagged(
        &mut self,
        peer: NodeId,
        stream_id: u64,
        mode: StreamMode,
        tag: StreamTag,
    ) -> Result<(), MeshError> {
        let sid = self
            .current_session(peer)
            .ok_or(MeshError::NotConnected(peer))?;
        let sess = self
            .sessions
            .get_mut(&sid)
            .ok_or(MeshError::NotConnected(peer))?;
        let cfg = self.config.stream;
        let pool = &self.out.pool;
        let stream = sess.send.entry(stream_id).or_insert_with(|| {
            SendStream::new(mode, cfg.max_frame, cfg.window)
                .with_max_message(cfg.max_message)
                .with_tag(tag)
                .with_pool(Arc::clone(pool))
        });
        if stream.mode() != mode || stream.tag() != tag {
            return Err(MeshError::StreamModeConflict { peer, stream_id });
        }
        // The timers list a session's streams in `ids`: room for all of them now, so the
        // first timer run under load (a heartbeat, a retransmission) does not allocate.
        let streams = sess.send.len();
        self.ids.reserve(streams.saturating_sub(self.ids.len()));
        Ok(())
    }

    /// Sets the scheduling priority of an open send stream to `peer` (higher is more urgent;
    /// streams start at 0). See [`poll_transmit`](Self::poll_transmit) for what it orders;
    /// data packets carry it in header byte 4.
    pub fn set_stream_priority(
        &mut self,
        peer: NodeId,
        stream_id: u64,
        priority: u8,
    ) -> Result<(), MeshError> {
        let sid = self
            .current_session(peer)
            .ok_or(MeshError::NotConnected(peer))?;
        let stream = self
            .sessions
            .get_mut(&sid)
            .and_then(|s| s.send.get_mut(&stream_id))
            .ok_or(MeshError::UnknownStream { peer, stream_id })?;
        stream.set_priority(priority);
        Ok(())
    }

    /// Queues one event on a stream. Events are batched into frames: a full frame is sealed
    /// and queued for sending at once; a partial one waits for [`flush`](Self::flush).
    /// Refused with [`MeshError::Stream`] (`Backpressure`, `EventTooLarge`) without queuing.
    pub fn send(
        &mut self,
        now: Instant,
        peer: NodeId,
        stream_id: u64,
        event: &[u8],
    ) -> Result<(), MeshError> {
        self.observe(now);
        let sid = self
            .current_session(peer)
            .ok_or(MeshError::NotConnected(peer))?;
        let sess = self
            .sessions
            .get_mut(&sid)
            .ok_or(MeshError::NotConnected(peer))?;
        let stream = sess
            .send
            .get_mut(&stream_id)
            .ok_or(MeshError::UnknownStream { peer, stream_id })?;
        stream.push(event)?;
        self.out.counters.events_sent += 1;
        if stream.has_ready() {
            schedule(&mut self.ready, sid, sess, stream_id);
        }
        Ok(())
    }

    /// Queues events in order on one stream, like [`send`](Self::send) called for each but
    /// looking the stream up once. Stops at the first refused event; returns how many were
    /// queued and the refusal, if any (`Ok` when all were queued).
    pub fn send_many<'a>(
        &mut self,
        now: Instant,
        peer: NodeId,
        stream_id: u64,
        events: impl IntoIterator<Item = &'a [u8]>,
    ) -> (usize, Result<(), MeshError>) {
        self.observe(now);
        let Some(sid) = self.current_session(peer) else {
            return (0, Err(MeshError::NotConnected(peer)));
        };
        let Some(sess) = self.sessions.get_mut(&sid) else {
            return (0, Err(MeshError::NotConnected(peer)));
        };
        let Some(stream) = sess.send.get_mut(&stream_id) else {
            return (0, Err(MeshError::UnknownStream { peer, stream_id }));
        };
        let mut queued = 0usize;
        let mut refused = None;
        for event in events {
            if let Err(e) = stream.push(event) {
                refused = Some(e);
                break;
            }
            queued += 1;
        }
        let ready = stream.has_ready();
        if ready {
            schedule(&mut self.ready, sid, sess, stream_id);
        }
        self.out.counters.events_sent += queued as u64;
        match refused {
            Some(e) => (queued, Err(e.into())),
            None => (queued, Ok(())),
        }
    }

    /// Closes every partly filled frame and queues it for sending.
    pub fn flush(&mut self, now: Instant) {
        self.observe(now);
        for (&sid, sess) in self.sessions.iter_mut() {
            for (&stream_id, stream) in sess.send.iter_mut() {
                stream.close();
                let ready = stream.has_ready();
                let (_, scheduled) = stream.sched();
                if !*scheduled && ready {
                    *scheduled = true;
                    sess.active.push_back(stream_id);
                }
            }
            if !sess.queued && !sess.active.is_empty() {
                sess.queued = true;
                self.ready.push_back(sid);
            }
        }
    }

    /// The next datagram to send. Control traffic (handshakes, acks, heartbeats,
    /// retransmissions, forwarded datagrams) goes first, in the order it was produced; then
    /// data frames are sealed on demand by the scheduler: sessions with waiting frames take
    /// turns one packet each. Within a session, **strict priority** first
    /// ([`set_stream_priority`](Self::set_stream_priority)): while a stream has closed frames
    /// waiting, no stream of lower priority of that session sends a data frame. Streams of
    /// equal priority share by **deficit round robin** with a quantum of `max_frame` bytes
    /// (each turn a stream may send frames totalling its deficit plus one quantum), so a
    /// stream with a large backlog cannot starve the others of its priority: between two
    /// packets of any backlogged stream, every other backlogged stream of the same session
    /// and priority sends at least one. Priority does not order sessions (peers) against
    /// each other, nor control traffic, nor datagrams relayed for others. The datagram's buffer comes from
    /// [`packet_pool`](Self::packet_pool); give it back there once sent.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        loop {
            if let Some(t) = self.out.transmits.pop_front() {
                return Some(t);
            }
            let sid = self.ready.pop_front()?;
            self.serve(sid);
        }
    }

    /// One scheduler turn of session `sid`: seals the next data frame deficit round robin
    /// picks among its active streams (at most one), then requeues the session if more wait.
    fn serve(&mut self, sid: u64) {
        let Some(sess) = self.sessions.get_mut(&sid) else {
            return;
        };
        sess.queued = false;
        let Some(now) = self.last_now else {
            return;
        };
        let quantum = self.config.stream.max_frame.max(1);
        let out = &mut self.out;
        let path = path_for(
            &self.routes,
            &self.peers,
            self.me,
            self.config.max_hops,
            sess,
        );
        // Strict priority: only the most urgent streams with frames waiting take part in this
        // turn's round robin (one active stream, the common case, needs no look).
        let top = if sess.active.len() > 1 {
            top_priority(sess)
        } else {
            0
        };
        while let Some(&stream_id) = sess.active.front() {
            let Some(stream) = sess.send.get_mut(&stream_id) else {
                sess.active.pop_front();
                continue;
            };
            let Some(len) = stream.next_ready_len() else {
                let (deficit, scheduled) = stream.sched();
                (*deficit, *scheduled) = (0, false);
                sess.active.pop_front();
                continue;
            };
            if stream.priority() < top {
                // Waits (keeping its deficit) while a more urgent stream has frames.
                sess.active.rotate_left(1);
                continue;
            }
            let (deficit, _) = stream.sched();
            if *deficit < len {
                // This stream used its share of the round: it gets the next quantum and
                // waits behind the others.
                *deficit += quantum;
                sess.active.rotate_left(1);
                continue;
            }
            *deficit -= len;
            let Some(frame) = stream.pop_ready() else {
                continue;
            };
            let f = if stream.mode() == StreamMode::Reliable {
                flags::RELIABLE
            } else {
                0
            };
            if frame.frag.is_some() {
                out.counters.fragments.sent += 1;
            }
            let k = SealedKind {
                tag: stream.tag(),
                priority: stream.priority(),
                frag: frame.frag,
                ..kind(
                    sid,
                    self.origin_hash,
                    f,
                    stream_id,
                    frame.sequence,
                    frame.count,
                )
            };
            // A seal failure means the session's nonces are exhausted: the frame counts as
            // sent (a reliable one stays unacked), nothing more can be sealed on it.
            if seal_to(&mut sess.cipher.sealer, out, path.as_ref(), k, &frame.frame).is_err() {
                out.counters.tx_seal_failed += 1;
            }
            stream.sent(frame, now);
            out.counters.frames_sent += 1;
            if !stream.has_ready() {
                let (deficit, scheduled) = stream.sched();
                (*deficit, *scheduled) = (0, false);
                sess.active.pop_front();
            }
            sess.sent_on(now);
            break;
        }
        if !sess.active.is_empty() {
            sess.queued = true;
            self.ready.push_back(sid);
        }
    }

    /// Datagrams waiting to be sent: queued ones plus data frames the scheduler has not
    /// sealed yet.
    pub fn pending_transmits(&self) -> usize {
        let frames: usize = self
            .ready
            .iter()
            .filter_map(|sid| self.sessions.get(sid))
            .flat_map(|s| s.active.iter().filter_map(|id| s.send.get(id)))
            .map(|st| st.ready_frames())
            .sum();
        self.out.transmits.len() + frames
    }

    /// The next event for the application. Taking a reliable delivery returns its bytes to
    /// the sender's credit (the ack carrying it goes out on the next `handle_timeout`).
    pub fn poll_event(&mut self) -> Option<Event> {
        let ev = self.out.events.pop_front()?;
        if let Event::Data(d) = &ev
            && d.reliable
            && let Some(now) = self.last_now
            && let Some(stream) = self
                .sessions
                .get_mut(&d.session_id)
                .and_then(|s| s.recv.get_mut(&d.stream_id))
        {
            stream.on_consumed(now, d.frame_bytes().len() as u64);
        }
        Some(ev)
    }

    /// Events waiting to be taken.
    pub fn pending_events(&self) -> usize {
        self.out.events.len()
    }
}
