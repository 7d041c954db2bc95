//! The sans-IO mesh endpoint: session table, handshakes in Net packets, streams, heartbeats,
//! the failure detector and routing, driven by `handle_datagram` / `handle_timeout` and
//! drained by `poll_transmit` / `poll_event`. Relaying, routed delivery and the link state
//! machine live in the child module `routing`.

mod routing;

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
    /// Last packet sent on this session straight to `addr` (not through a relay).
    last_direct_tx: Instant,
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
    sess.sent_on(now, path);
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
            frag,
            ..kind(sid, origin_hash, flags::RELIABLE, stream_id, seq, count)
        };
        if seal_to(&mut sess.cipher.sealer, out, path, k, frame).is_err() {
            return;
        }
        stream.mark_resent(seq, now);
        sess.sent_on(now, path);
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

    /// Records that a packet left at `now` along `path`.
    fn sent_on(&mut self, now: Instant, path: Option<&Path>) {
        self.last_tx = now;
        if path.is_some_and(|p| p.route.is_none()) {
            self.last_direct_tx = now;
        }
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

    /// Starts a handshake with the node whose card is `card`, reachable at `addr`. `timestamp`
    /// must grow between calls (Unix nanoseconds). Returns the peer's node id; `Connected` or
    /// `ConnectFailed` follows. A call while a handshake to that peer runs changes nothing.
    pub fn connect(
        &mut self,
        now: Instant,
        addr: SocketAddr,
        card: &NodeCard,
        timestamp: u64,
    ) -> Result<NodeId, MeshError> {
        self.observe(now);
        let peer_id = card.verify()?;
        self.dial(now, peer_id, card, timestamp, Dial::Direct(addr))
    }

    /// Starts a handshake as [`connect`](Self::connect) does, or changes nothing while one
    /// runs; its messages travel as `dial` says. A direct dial records `addr` as the peer's
    /// address.
    fn dial(
        &mut self,
        now: Instant,
        peer_id: NodeId,
        card: &NodeCard,
        timestamp: u64,
        dial: Dial,
    ) -> Result<NodeId, MeshError> {
        let direct = match dial {
            Dial::Direct(addr) => Some(addr),
            Dial::Via(_) => None,
        };
        let peer = self
            .peers
            .entry(peer_id)
            .or_insert_with(|| Peer::new(direct, dial));
        if peer.connecting.is_some() {
            return Ok(peer_id);
        }
        if direct.is_some() {
            peer.addr = direct;
        }
        let (init, msg) = Initiator::start(
            &self.config.handshake,
            PeerTarget::from(card),
            now,
            timestamp,
        )?;
        peer.connecting = Some(init);
        peer.dial = dial;
        peer.last_error = None;
        if !self.handshake_out(peer_id, dial, &msg) {
            return Err(MeshError::Handshake(HandshakeError::Internal));
        }
        Ok(peer_id)
    }

    /// Queues a handshake message for `peer` along `dial`; false if it could not be framed.
    /// A relay that has no address any more counts as a packet without a path.
    fn handshake_out(&mut self, peer: NodeId, dial: Dial, msg: &[u8]) -> bool {
        let (addr, route) = match dial {
            Dial::Direct(addr) => (Some(addr), None),
            Dial::Via(hop) => (
                self.peers.get(&hop).and_then(|p| p.addr),
                Some(self.route_header(peer)),
            ),
        };
        let Some(data) = handshake_datagram(msg, route.as_ref()) else {
            return false;
        };
        match addr {
            Some(addr) => {
                if route.is_some() {
                    self.out.counters.routed_sent += 1;
                }
                self.out.transmit(addr, data);
            }
            None => self.out.counters.tx_no_path += 1,
        }
        true
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
    /// turns one packet each, and within a session its streams share by **deficit round
    /// robin** with a quantum of `max_frame` bytes (each turn a stream may send frames
    /// totalling its deficit plus one quantum), so a stream with a large backlog cannot
    /// starve the others: between two packets of any backlogged stream of a session, every
    /// other backlogged stream of it sends at least one. The datagram's buffer comes from
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
            sess.sent_on(now, path.as_ref());
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

    /// When [`handle_timeout`](Self::handle_timeout) next has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let cfg = &self.config;
        let mut t = self.responder.poll_timeout();
        let mut at = |x: Option<Instant>| {
            if let Some(x) = x {
                t = Some(t.map_or(x, |t: Instant| t.min(x)));
            }
        };
        for p in self.peers.values() {
            at(p.connecting.as_ref().and_then(|i| i.poll_timeout()));
            at(p.detector.as_ref().and_then(|d| d.deadline()));
            at(p.link.as_ref().and_then(|d| d.deadline()));
        }
        let last = self.last_now;
        for (sid, s) in &self.sessions {
            let current = self
                .peers
                .get(&s.peer)
                .is_some_and(|p| p.current == Some(*sid));
            if s.confirmed && current {
                at(Some(s.last_tx + cfg.detector.heartbeat_interval));
                if self.probes(s) {
                    at(Some(s.last_direct_tx + cfg.detector.heartbeat_interval));
                }
            }
            let resends =
                last.is_none_or(|now| s.retransmits(current, now, cfg.detector.fail_after));
            for st in s.send.values().filter(|_| resends) {
                at(st.poll_timeout(cfg.stream.rto));
            }
            for st in s.recv.values() {
                at(st.poll_ack(cfg.stream.ack_refresh, cfg.stream.ack_linger));
            }
            at(s.reasm.poll_timeout());
        }
        t
    }

    /// Advances every timer to `now`: handshake retries and give-ups, failure detection,
    /// heartbeats, retransmissions and acks.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.observe(now);
        self.responder.handle_timeout(now);
        let out = &mut self.out;
        let mut resends: Vec<(NodeId, Dial, Vec<u8>)> = Vec::new();
        let mut links_down: Vec<NodeId> = Vec::new();
        for (&peer_id, p) in self.peers.iter_mut() {
            if let Some(init) = &mut p.connecting {
                let o = init.handle_timeout(now);
                if let Some(msg) = o.transmit {
                    resends.push((peer_id, p.dial, msg));
                }
                if let Some(HandshakeEvent::Failed(e)) = o.event {
                    p.connecting = None;
                    p.last_error = Some(e);
                    out.counters.handshakes_failed += 1;
                    out.events.push_back(Event::ConnectFailed {
                        peer: peer_id,
                        error: e,
                    });
                }
            }
            if let Some(d) = &mut p.detector {
                while let Some(change) = d.tick(now) {
                    out.events.push_back(Event::Health {
                        peer: peer_id,
                        change,
                    });
                }
            }
            if let Some(l) = &mut p.link {
                while let Some(change) = l.tick(now) {
                    if change == HealthChange::Failed {
                        links_down.push(peer_id);
                    }
                }
            }
        }
        for (peer, dial, msg) in resends {
            self.handshake_out(peer, dial, &msg);
        }
        for peer in links_down {
            self.out.counters.links_down += 1;
            update_routes(&mut self.routes, &mut self.out, |t| {
                t.set_link_up(peer.0, false);
            });
        }
        let out = &mut self.out;
        let cfg = (self.config.detector, self.config.stream);
        let (det, scfg) = cfg;
        let origin = self.origin_hash;
        let scratch = &mut self.scratch;
        let ids = &mut self.ids;
        let (me, max_hops) = (self.me, self.config.max_hops);
        for (&sid, sess) in self.sessions.iter_mut() {
            let current = self
                .peers
                .get(&sess.peer)
                .is_some_and(|p| p.current == Some(sid));
            let path = path_for(&self.routes, &self.peers, me, max_hops, sess);
            if current && sess.confirmed && now >= sess.last_tx + det.heartbeat_interval {
                let k = kind(sid, origin, flags::HEARTBEAT, 0, 0, 0);
                if emit(sess, out, now, path.as_ref(), k, &[]).is_ok() {
                    out.counters.heartbeats_sent += 1;
                }
            }
            // A direct link marked down (or unused while a relay carries the traffic) is
            // probed with a direct heartbeat, so its return is noticed.
            if current
                && sess.confirmed
                && let (Some(addr), Some(p)) = (sess.addr, path.as_ref())
                && p.route.is_some()
                && now >= sess.last_direct_tx + det.heartbeat_interval
            {
                let direct = Path { addr, route: None };
                let k = kind(sid, origin, flags::HEARTBEAT, 0, 0, 0);
                if emit(sess, out, now, Some(&direct), k, &[]).is_ok() {
                    out.counters.probes_sent += 1;
                }
            }
            ids.clear();
            if sess.retransmits(current, now, det.fail_after) {
                ids.extend(sess.send.keys().copied());
            }
            for &stream_id in ids.iter() {
                scratch.clear();
                if let Some(s) = sess.send.get(&stream_id) {
                    s.due(now, scfg.rto, scratch);
                }
                if !scratch.is_empty() {
                    resend(
                        sid,
                        sess,
                        out,
                        origin,
                        now,
                        path.as_ref(),
                        stream_id,
                        scratch,
                    );
                }
            }
            if sess.reasm.poll_timeout().is_some_and(|t| t <= now) {
                let (recv, fragments) = (&mut sess.recv, &mut out.counters.fragments);
                sess.reasm.expire(now, |d| {
                    fragments.dropped(d.reason);
                    if let Some(r) = recv.get_mut(&d.stream_id)
                        && r.mode() == StreamMode::Reliable
                    {
                        r.on_consumed(now, d.bytes as u64);
                    }
                });
            }
            ids.clear();
            ids.extend(
                sess.recv
                    .iter()
                    .filter(|(_, r)| {
                        r.poll_ack(scfg.ack_refresh, scfg.ack_linger)
                            .is_some_and(|t| t <= now)
                    })
                    .map(|(&id, _)| id),
            );
            for &stream_id in ids.iter() {
                send_ack(sid, sess, out, origin, now, path.as_ref(), stream_id);
            }
        }
    }

    /// Sends at once every ack a reliable receive stream still owes (one due later, or
    /// frames or credit not yet acknowledged), so a node that stops right after taking its
    /// last events does not leave its peers resending them to nobody. Called by a driver
    /// as it shuts down; the datagrams come out of [`poll_transmit`](Self::poll_transmit).
    pub fn send_owed_acks(&mut self, now: Instant) {
        self.observe(now);
        let out = &mut self.out;
        let origin = self.origin_hash;
        let ids = &mut self.ids;
        let (me, max_hops) = (self.me, self.config.max_hops);
        for (&sid, sess) in self.sessions.iter_mut() {
            let path = path_for(&self.routes, &self.peers, me, max_hops, sess);
            ids.clear();
            ids.extend(
                sess.recv
                    .iter()
                    .filter(|(_, r)| r.owes_ack())
                    .map(|(&id, _)| id),
            );
            for &stream_id in ids.iter() {
                send_ack(sid, sess, out, origin, now, path.as_ref(), stream_id);
            }
        }
    }

    /// Handles one received datagram (it may be modified in place: it is decrypted there).
    /// Every datagram is either accepted or dropped and counted; none causes a panic.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, datagram: &mut [u8]) {
        self.observe(now);
        self.out.counters.rx_datagrams += 1;
        match self.process(now, from, datagram) {
            Ok(()) => self.out.counters.rx_accepted += 1,
            Err(reason) => self.out.counters.drop(reason),
        }
    }

    fn process(
        &mut self,
        now: Instant,
        from: SocketAddr,
        datagram: &mut [u8],
    ) -> Result<(), &'static str> {
        match classify(datagram).map_err(|e| e.kind())? {
            DatagramKind::Direct => self.on_packet(now, from, datagram, None),
            DatagramKind::Routed => self.on_routed(now, from, datagram),
        }
    }

    /// Handles one Net packet: arrived directly from `from` (`via` is `None`), or delivered
    /// here through the relay at `from` (`via` says which neighbour and how many hops).
    fn on_packet(
        &mut self,
        now: Instant,
        from: SocketAddr,
        datagram: &mut [u8],
        via: Option<Via>,
    ) -> Result<(), &'static str> {
        let view = HeaderView::parse(datagram).map_err(|e| e.kind())?;
        if view.flags() & flags::HANDSHAKE != 0 {
            return self.on_handshake(now, from, datagram, via);
        }
        let sid = view.session_id();
        let Some(sess) = self.sessions.get_mut(&sid) else {
            return Err("unknown_session");
        };
        let (header, plain) = sess.cipher.opener.open(datagram).map_err(crypto_reason)?;
        let out = &mut self.out;
        let peer_id = sess.peer;
        // Only a direct packet may move a direct session's address; a routed delivery never
        // sets one, and a session agreed through a relay stays without one.
        let direct = via.is_none() && sess.addr.is_some();
        if direct {
            sess.addr = Some(from);
        } else if via.is_some() {
            out.counters.routed_received += 1;
        }
        sess.last_rx = now;
        let newly_confirmed = !sess.confirmed;
        sess.confirmed = true;
        let mut link_recovered = false;
        let mut new_direct = false;
        if let Some(p) = self.peers.get_mut(&peer_id) {
            if let Some(change) = p.detector.as_mut().and_then(|d| d.heard(now)) {
                out.events.push_back(Event::Health {
                    peer: peer_id,
                    change,
                });
            }
            if direct && let Some(l) = p.link.as_mut() {
                link_recovered = l.heard(now) == Some(HealthChange::Recovered);
            }
            if newly_confirmed {
                p.current = Some(sid);
                if direct {
                    p.addr = Some(from);
                    new_direct = p.link.is_none();
                }
                out.events.push_back(Event::Connected {
                    peer: peer_id,
                    addr: from,
                    session_id: sid,
                    initiator: sess.initiator,
                });
            }
        }
        let path = path_for(
            &self.routes,
            &self.peers,
            self.me,
            self.config.max_hops,
            sess,
        );
        if link_recovered {
            out.counters.links_up += 1;
            update_routes(&mut self.routes, out, |t| t.set_link_up(peer_id.0, true));
        }
        if new_direct {
            routing::add_direct(
                &mut self.routes,
                &mut self.peers,
                out,
                self.config.link_detector(),
                peer_id,
                now,
            );
        }
        let cfg = self.config.stream;
        let origin = self.origin_hash;
        if header.flags & flags::HEARTBEAT != 0 {
            if !plain.is_empty() || header.event_count != 0 {
                return Err("bad_heartbeat");
            }
            return Ok(());
        }
        if header.flags & flags::CONTROL != 0 {
            let ack = Ack::parse(plain).map_err(|e| e.kind())?;
            let scratch = &mut self.scratch;
            scratch.clear();
            if let Some(stream) = sess.send.get_mut(&header.stream_id) {
                stream.on_ack(&ack, now, cfg.nack_guard, scratch);
            }
            if !scratch.is_empty() {
                resend(
                    sid,
                    sess,
                    out,
                    origin,
                    now,
                    path.as_ref(),
                    header.stream_id,
                    scratch,
                );
            }
            return Ok(());
        }
        let frag = if header.frag_flags & frag_flags::FRAGMENT != 0 {
            if header.event_count != 0 {
                out.counters.fragments.bad += 1;
                return Err("fragment_bad");
            }
            Some(FragInfo {
                id: header.fragment_id,
                index: header.fragment_offset,
                last: header.frag_flags & frag_flags::LAST != 0,
            })
        } else {
            Frame::parse(plain, header.event_count).map_err(|_| "bad_frame")?;
            None
        };
        let tag = StreamTag {
            subprotocol_id: header.subprotocol_id,
            channel_hash: header.channel_hash,
        };
        let mode = if header.flags & flags::RELIABLE != 0 {
            StreamMode::Reliable
        } else {
            StreamMode::FireAndForget
        };
        if !sess.recv.contains_key(&header.stream_id) && sess.recv.len() >= cfg.max_streams {
            return Err("too_many_streams");
        }
        let stream = sess
            .recv
            .entry(header.stream_id)
            .or_insert_with(|| RecvStream::new(mode, cfg.window).with_tag(tag));
        if stream.mode() != mode {
            return Err("stream_mode_mismatch");
        }
        if stream.tag() != tag {
            return Err("stream_tag_mismatch");
        }
        let reliable = mode == StreamMode::Reliable;
        if !reliable && out.events.len() >= cfg.max_queued_frames {
            return Err("queue_full");
        }
        let stream_id = header.stream_id;
        let reasm = &mut sess.reasm;
        // Fragment bytes of a reliable stream dropped by reassembly: their credit returns.
        let mut released = 0u64;
        let arrival = stream.on_frame(
            now,
            header.sequence,
            plain.to_vec(),
            header.event_count,
            frag,
            cfg.ack_every,
            cfg.ack_delay,
            |seq, frame, count, frag| {
                let delivery = match frag {
                    None => Delivery::new(peer_id, sid, stream_id, seq, reliable, frame, count),
                    Some(f) => {
                        out.counters.fragments.received += 1;
                        let counters = &mut out.counters.fragments;
                        let whole = reasm.push(now, stream_id, f, frame, |d| {
                            counters.dropped(d.reason);
                            released += d.bytes as u64;
                        });
                        let Some(event) = whole else {
                            return;
                        };
                        out.counters.fragments.reassembled += 1;
                        Delivery::reassembled(peer_id, sid, stream_id, seq, reliable, event)
                    }
                };
                out.counters.events_delivered += delivery.len() as u64;
                out.events.push_back(Event::Data(delivery.with_tag(tag)));
            },
        );
        if reliable && released > 0 {
            stream.on_consumed(now, released);
        }
        if stream
            .poll_ack(cfg.ack_refresh, cfg.ack_linger)
            .is_some_and(|t| t <= now)
        {
            send_ack(sid, sess, out, origin, now, path.as_ref(), stream_id);
        }
        match arrival {
            Arrival::Accepted => Ok(()),
            Arrival::Duplicate => {
                out.counters.frames_duplicate += 1;
                Ok(())
            }
            Arrival::Overflow => Err("stream_overflow"),
        }
    }

    /// Handles a handshake packet. A routed one (`via` set) is answered back through the
    /// neighbour that handed it over; its session has no direct address.
    fn on_handshake(
        &mut self,
        now: Instant,
        from: SocketAddr,
        datagram: &[u8],
        via: Option<Via>,
    ) -> Result<(), &'static str> {
        let (header, msg) = split_packet(datagram).map_err(|e| e.kind())?;
        let well_formed = match via {
            None => is_handshake_header(&header),
            Some(_) => is_routed_handshake_header(&header),
        };
        if !well_formed {
            return Err("bad_handshake_header");
        }
        match msg.first() {
            Some(1) => {
                let o = self.responder.handle_init(now, msg);
                match o.event {
                    Some(HandshakeEvent::Established(s)) => {
                        self.reply_to(from, via, s.peer, o.transmit.as_deref());
                        self.add_session(now, *s, from, false, via)
                    }
                    Some(HandshakeEvent::Duplicate { peer, .. }) => {
                        self.reply_to(from, via, peer, o.transmit.as_deref());
                        self.out.counters.handshake_duplicates += 1;
                        Ok(())
                    }
                    Some(HandshakeEvent::Failed(e) | HandshakeEvent::Rejected(e)) => {
                        Err(handshake_reason(e))
                    }
                    None => Err("handshake_internal"),
                }
            }
            Some(2) => {
                if msg.len() < PREAMBLE_LEN {
                    return Err("handshake_malformed");
                }
                let mut id = [0u8; 8];
                id.copy_from_slice(&msg[10..18]);
                let responder = NodeId(u64::from_le_bytes(id));
                let Some(init) = self
                    .peers
                    .get_mut(&responder)
                    .and_then(|p| p.connecting.as_mut())
                else {
                    return Err("handshake_unexpected");
                };
                let o = init.handle_reply(msg);
                match o.event {
                    Some(HandshakeEvent::Established(s)) => {
                        if let Some(p) = self.peers.get_mut(&responder) {
                            p.connecting = None;
                        }
                        self.add_session(now, *s, from, true, via)
                    }
                    Some(HandshakeEvent::Failed(e)) => {
                        if let Some(p) = self.peers.get_mut(&responder) {
                            p.connecting = None;
                            p.last_error = Some(e);
                        }
                        self.out.counters.handshakes_failed += 1;
                        self.out.events.push_back(Event::ConnectFailed {
                            peer: responder,
                            error: e,
                        });
                        Err(handshake_reason(e))
                    }
                    Some(HandshakeEvent::Rejected(e)) => Err(handshake_reason(e)),
                    Some(HandshakeEvent::Duplicate { .. }) | None => Err("handshake_internal"),
                }
            }
            _ => Err("handshake_malformed"),
        }
    }

    /// Keeps at most [`MAX_SESSIONS_PER_PEER`] - 1 sessions of `peer` before a new one is
    /// added, dropping the least recently heard ones that are not its current session.
    fn evict_old_sessions(&mut self, peer: NodeId) {
        let current = self.peers.get(&peer).and_then(|p| p.current);
        loop {
            let mut count = 0usize;
            let mut oldest: Option<(Instant, u64)> = None;
            for (&sid, sess) in &self.sessions {
                if sess.peer != peer {
                    continue;
                }
                count += 1;
                if Some(sid) != current && oldest.is_none_or(|(t, _)| sess.last_rx < t) {
                    oldest = Some((sess.last_rx, sid));
                }
            }
            match oldest {
                Some((_, sid)) if count >= MAX_SESSIONS_PER_PEER => {
                    self.sessions.remove(&sid);
                    self.out.counters.sessions_evicted += 1;
                }
                _ => return,
            }
        }
    }

    /// Sends a responder's Reply (if any) back to `from`: directly, or for a routed Init
    /// behind a routing header addressed to the initiator `peer`.
    fn reply_to(&mut self, from: SocketAddr, via: Option<Via>, peer: NodeId, reply: Option<&[u8]>) {
        let Some(msg) = reply else {
            return;
        };
        let route = via.map(|_| self.route_header(peer));
        if let Some(data) = handshake_datagram(msg, route.as_ref()) {
            if route.is_some() {
                self.out.counters.routed_sent += 1;
            }
            self.out.transmit(from, data);
        }
    }

    /// Adds a freshly agreed session. The initiator's is usable at once (it sends a heartbeat
    /// so the responder learns the session works); the responder's becomes the peer's current
    /// session only when an authentic packet arrives on it, so a replayed Init cannot displace
    /// a live session. A session agreed directly gets the peer's address (and the initiator
    /// a direct route); one agreed through a relay (`via`) has no address, and a responder
    /// without a route to the initiator through that relay learns one (the way back, as
    /// long as the Init travelled).
    fn add_session(
        &mut self,
        now: Instant,
        s: Session,
        from: SocketAddr,
        initiator: bool,
        via: Option<Via>,
    ) -> Result<(), &'static str> {
        let cipher = PacketCipher::new(&s.keys).map_err(|_| "handshake_internal")?;
        let sid = s.session_id;
        if self.sessions.contains_key(&sid) {
            return Err("duplicate_session");
        }
        self.evict_old_sessions(s.peer);
        let addr = via.is_none().then_some(from);
        if let Some(v) = via
            && !initiator
            && !self
                .routes
                .routes(s.peer.0)
                .iter()
                .any(|r| r.next_hop == v.neighbour.0)
        {
            update_routes(&mut self.routes, &mut self.out, |t| {
                t.add_via(s.peer.0, v.neighbour.0, v.hops);
            });
        }
        if initiator && addr.is_some() {
            if let Some(p) = self.peers.get_mut(&s.peer) {
                p.addr = addr;
            }
            routing::add_direct(
                &mut self.routes,
                &mut self.peers,
                &mut self.out,
                self.config.link_detector(),
                s.peer,
                now,
            );
        }
        let detector_cfg = self.config.detector;
        let peer = self
            .peers
            .entry(s.peer)
            .or_insert_with(|| Peer::new(addr, Dial::Direct(from)));
        let mut sess = Sess {
            peer: s.peer,
            addr,
            cipher,
            confirmed: initiator,
            initiator,
            last_tx: now,
            last_direct_tx: now,
            last_rx: now,
            send: HashMap::new(),
            recv: HashMap::new(),
            active: VecDeque::new(),
            queued: false,
            reasm: Reassembler::new(self.config.stream.reassembly_limits()),
        };
        self.out.counters.sessions_established += 1;
        if initiator {
            peer.current = Some(sid);
            match &mut peer.detector {
                Some(d) => {
                    if let Some(change) = d.heard(now) {
                        self.out.events.push_back(Event::Health {
                            peer: s.peer,
                            change,
                        });
                    }
                }
                None => peer.detector = Some(FailureDetector::new(detector_cfg, now)),
            }
            self.out.events.push_back(Event::Connected {
                peer: s.peer,
                addr: from,
                session_id: sid,
                initiator: true,
            });
            let path = path_for(
                &self.routes,
                &self.peers,
                self.me,
                self.config.max_hops,
                &sess,
            );
            let k = kind(sid, self.origin_hash, flags::HEARTBEAT, 0, 0, 0);
            if emit(&mut sess, &mut self.out, now, path.as_ref(), k, &[]).is_ok() {
                self.out.counters.heartbeats_sent += 1;
            }
        } else if let Some(p) = self.peers.get_mut(&s.peer)
            && p.detector.is_none()
        {
            p.detector = Some(FailureDetector::new(detector_cfg, now));
        }
        self.sessions.insert(sid, sess);
        Ok(())
    }
}
