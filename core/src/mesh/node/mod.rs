//! `MeshNode`: the thin UDP driver around the sans-IO [`Endpoint`].
//!
//! One UDP socket (std, blocking with a short read timeout) and one I/O thread that feeds
//! received datagrams and timer ticks to the endpoint and sends what it produces. Application
//! calls (`connect`, `send`, `flush`, `recv`) lock the endpoint briefly and send any datagrams
//! they produced from the calling thread, so a send does not wait for the I/O thread.
//!
//! Promises: every method is safe to call from many threads; `recv`, `connect` and
//! `send_blocking` wait at most their timeout; after [`MeshNode::shutdown`] (or drop) the I/O
//! thread has stopped and calls fail with [`MeshError::ShutDown`]; as it stops it sends
//! every ack still owed for received reliable frames, so a node that exits right after its
//! last event does not leave the sender retransmitting. Timers have about 1 ms of
//! granularity. On Linux datagrams go out with `sendmmsg` (up to 64 per call), and the I/O
//! thread reads with one `recvmmsg` (`MSG_WAITFORONE`: the first datagram blocking, up to 31
//! more already waiting) and hands them all to the endpoint under one lock (see `rx`).
//! `recv` and `recv_batch` watch for news for [`NodeConfig::spin`] before parking (see
//! `wait`), which saves a thread wake-up per event when events come often.
//!
//! Routing and relay are the endpoint's (see `mesh::session`); the node exposes them:
//! [`MeshNode::add_route`] sends a destination's packets through a neighbour,
//! [`MeshNode::connect_via`] dials a node through a neighbour (the handshake is relayed), and
//! every node forwards routed datagrams for others without decrypting them. Sent datagrams'
//! buffers go back to the endpoint's packet pool after `sendmmsg` (no allocation per packet
//! in steady state); data frames leave in the endpoint's fair (deficit round robin) order.
//! `send`/`send_batch` flush as a group commit: a lone sender's events leave before the call
//! returns; concurrent senders' events share datagrams (see `Shared::flush_and_send`).
//! Not promised (yet): route discovery.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::{Mutex, MutexGuard};

use crate::identity::{NodeCard, NodeId};
use crate::mesh::session::{
    Counters, Endpoint, EndpointConfig, Event, Health, MeshError, PacketPool, PoolStats, Transmit,
};
use crate::mesh::stream::{StreamMode, StreamTag};

mod rx;
mod wait;

use rx::Receiver;
use wait::Signal;

/// How often the I/O thread wakes without traffic, and the timer granularity.
const TICK: Duration = Duration::from_millis(1);

/// The default [`NodeConfig::spin`]: a little more than one loopback round trip.
pub const DEFAULT_SPIN: Duration = Duration::from_micros(50);

/// What [`MeshNode::start`] needs.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// Identity, PSK, timing.
    pub endpoint: EndpointConfig,
    /// Address to bind (e.g. `127.0.0.1:0` for an ephemeral port).
    pub bind: SocketAddr,
    /// Socket receive and send buffer sizes to request, in bytes (the kernel may cap them).
    pub socket_buffer: usize,
    /// How long [`MeshNode::recv`] and [`MeshNode::recv_batch`] watch for a new event
    /// (yielding the CPU between looks) before they park the thread; zero parks at once.
    /// Spinning saves a thread wake-up (expensive on virtual machines) per received event
    /// when events come often, at the price of CPU time while waiting. See `docs/mesh.md`
    /// ("Waiting for traffic").
    pub spin: Duration,
}

impl NodeConfig {
    /// A config binding `bind` with 4 MiB socket buffers and a [`DEFAULT_SPIN`] spin.
    pub fn new(endpoint: EndpointConfig, bind: SocketAddr) -> Self {
        NodeConfig {
            endpoint,
            bind,
            socket_buffer: 4 << 20,
            spin: DEFAULT_SPIN,
        }
    }
}

struct Shared {
    ep: Mutex<Endpoint>,
    /// Notified (under the `ep` lock) whenever the endpoint may have news for a waiter.
    changed: Signal,
    /// How long `recv`/`recv_batch` spin before parking ([`NodeConfig::spin`]).
    spin: Duration,
    socket: UdpSocket,
    stop: AtomicBool,
    last_timestamp: AtomicU64,
    send_errors: AtomicU64,
    /// The endpoint's packet pool: sent datagrams' buffers go back to it.
    pool: Arc<PacketPool>,
    /// A thread is flushing and sending on behalf of every sender (group commit, see
    /// [`Shared::flush_and_send`]). Changed only while the endpoint lock is held.
    flushing: AtomicBool,
}

impl Shared {
    /// Takes every queued datagram out of the endpoint (call with the lock held).
    fn take_transmits(ep: &mut Endpoint, into: &mut Vec<Transmit>) {
        while let Some(t) = ep.poll_transmit() {
            into.push(t);
        }
    }

    /// Sends datagrams (call without the lock) and hands their buffers back to the pool.
    fn send_all(&self, batch: &mut Vec<Transmit>) {
        if batch.is_empty() {
            return;
        }
        let errors = send_datagrams(&self.socket, batch);
        if errors > 0 {
            self.send_errors.fetch_add(errors, Ordering::Relaxed);
        }
        self.pool.put_all(batch.drain(..).map(|t| t.data));
    }

    /// Flushes partial frames and sends everything the endpoint produced, batching senders
    /// that arrive meanwhile (group commit): if another thread is already doing this, return
    /// at once, since it flushes again after its system call and so takes these events too;
    /// otherwise become that thread, and repeat flush + send (at most
    /// [`MAX_FLUSH_ROUNDS`] times) while other senders added events during the previous
    /// send. Takes the locked endpoint and releases it. The last round's flush and the reset
    /// of `flushing` happen under one lock, so no event is left behind.
    fn flush_and_send<'a>(&'a self, mut ep: MutexGuard<'a, Endpoint>) {
        if self.flushing.load(Ordering::Relaxed) {
            return;
        }
        self.flushing.store(true, Ordering::Relaxed);
        let mut batch = Vec::new();
        let mut rounds = 0;
        loop {
            ep.flush(Instant::now());
            Self::take_transmits(&mut ep, &mut batch);
            rounds += 1;
            let last = batch.is_empty() || rounds >= MAX_FLUSH_ROUNDS;
            if last {
                self.flushing.store(false, Ordering::Relaxed);
            }
            drop(ep);
            self.send_all(&mut batch);
            if last {
                return;
            }
            ep = self.ep.lock();
        }
    }

    fn lock(&self) -> Result<MutexGuard<'_, Endpoint>, MeshError> {
        if self.stop.load(Ordering::Acquire) {
            return Err(MeshError::ShutDown);
        }
        Ok(self.ep.lock())
    }
}

/// A mesh node on one UDP socket. See the module docs.
pub struct MeshNode {
    shared: Arc<Shared>,
    local: SocketAddr,
    node_id: NodeId,
    card: NodeCard,
    io: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for MeshNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeshNode")
            .field("node_id", &self.node_id)
            .field("local", &self.local)
            .finish_non_exhaustive()
    }
}

fn bind(config: &NodeConfig) -> Result<UdpSocket, MeshError> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(
        Domain::for_address(config.bind),
        Type::DGRAM,
        Some(Protocol::UDP),
    )?;
    // Larger buffers are an optimisation; a kernel that refuses them still works.
    let _ = socket.set_recv_buffer_size(config.socket_buffer);
    let _ = socket.set_send_buffer_size(config.socket_buffer);
    socket.bind(&config.bind.into())?;
    let socket: UdpSocket = socket.into();
    socket.set_read_timeout(Some(TICK))?;
    Ok(socket)
}

impl MeshNode {
    /// Binds the socket and starts the I/O thread. Handshakes from peers that know the PSK
    /// (and pass the allow-list, if any) are accepted from now on.
    pub fn start(config: NodeConfig) -> Result<MeshNode, MeshError> {
        let socket = bind(&config)?;
        let local = socket.local_addr()?;
        let endpoint = Endpoint::new(config.endpoint);
        let node_id = endpoint.node_id();
        let card = endpoint.card();
        let pool = Arc::clone(endpoint.packet_pool());
        let shared = Arc::new(Shared {
            ep: Mutex::new(endpoint),
            changed: Signal::default(),
            spin: config.spin,
            socket,
            stop: AtomicBool::new(false),
            last_timestamp: AtomicU64::new(0),
            send_errors: AtomicU64::new(0),
            pool,
            flushing: AtomicBool::new(false),
        });
        let io_shared = Arc::clone(&shared);
        let io = std::thread::Builder::new()
            .name(format!("mesh-io-{:04x}", node_id.0 & 0xffff))
            .spawn(move || io_loop(&io_shared))?;
        Ok(MeshNode {
            shared,
            local,
            node_id,
            card,
            io: Mutex::new(Some(io)),
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// This node's id.
    pub fn node_id(&self) -> NodeId {
        self.node_id
    }

    /// This node's card (give it to peers so they can dial this node).
    pub fn card(&self) -> NodeCard {
        self.card
    }

    /// A handshake timestamp: Unix nanoseconds, forced to grow.
    fn timestamp(&self) -> u64 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        let prev = self.shared.last_timestamp.fetch_max(now, Ordering::AcqRel);
        if prev >= now {
            self.shared.last_timestamp.fetch_add(1, Ordering::AcqRel) + 1
        } else {
            now
        }
    }

    /// Dials `addr` (whose node card is `card`) and waits up to `timeout` for a new session.
    /// Returns the peer's node id. A peer with a session that the failure detector does not
    /// call `Failed` returns at once; a `Failed` peer (e.g. one that restarted) is dialled
    /// again, and its new session replaces the old one.
    pub fn connect(
        &self,
        addr: SocketAddr,
        card: &NodeCard,
        timeout: Duration,
    ) -> Result<NodeId, MeshError> {
        self.dial(card, timeout, |ep, now, ts| ep.connect(now, addr, card, ts))
    }

    /// Dials the node whose card is `card` through the neighbour `via` (a peer this node has
    /// a session with, reached directly) and waits up to `timeout` for a new session, as
    /// [`connect`](Self::connect) does. The handshake travels as routed packets that `via`
    /// forwards without learning the session keys; the route `card`'s node via `via` is
    /// added if missing, and the other side learns the way back through `via` if it has no
    /// route. Fails at once with [`MeshError::NotNeighbour`] if `via` is not a neighbour.
    pub fn connect_via(
        &self,
        via: NodeId,
        card: &NodeCard,
        timeout: Duration,
    ) -> Result<NodeId, MeshError> {
        self.dial(card, timeout, |ep, now, ts| {
            ep.connect_via(now, via, card, ts)
        })
    }

    /// Sends packets for `dest` through the neighbour `via` (a 2-hop route; `via == dest`
    /// is the direct route). The best usable route is used from the next packet on;
    /// changes of it are reported as [`Event::RouteChanged`].
    pub fn add_route(&self, dest: NodeId, via: NodeId) -> Result<(), MeshError> {
        self.add_route_hops(dest, via, 2)
    }

    /// Like [`add_route`](Self::add_route) with the route's length in hops (at least 2):
    /// among usable routes the shortest wins, ties to the lowest next-hop id.
    pub fn add_route_hops(&self, dest: NodeId, via: NodeId, hops: u8) -> Result<(), MeshError> {
        self.shared.lock()?.add_route(dest, via, hops);
        Ok(())
    }

    /// Removes the route to `dest` through `via`; true if there was one.
    pub fn remove_route(&self, dest: NodeId, via: NodeId) -> Result<bool, MeshError> {
        Ok(self.shared.lock()?.remove_route(dest, via))
    }

    /// The neighbour packets for `dest` go to now (`dest` itself when direct), if any.
    pub fn next_hop(&self, dest: NodeId) -> Option<NodeId> {
        self.shared.ep.lock().next_hop(dest)
    }

    /// Whether the direct link to `neighbour` is up (not marked down by its link detector).
    pub fn link_up(&self, neighbour: NodeId) -> bool {
        self.shared.ep.lock().link_up(neighbour)
    }

    /// Every session this node holds, as `(session id, peer)`.
    pub fn sessions(&self) -> Vec<(u64, NodeId)> {
        self.shared.ep.lock().sessions()
    }

    /// Starts a handshake with `start` (unless a session not marked `Failed` exists) and
    /// waits for a new session.
    fn dial(
        &self,
        card: &NodeCard,
        timeout: Duration,
        start: impl FnOnce(&mut Endpoint, Instant, u64) -> Result<NodeId, MeshError>,
    ) -> Result<NodeId, MeshError> {
        let deadline = Instant::now() + timeout;
        let mut batch = Vec::new();
        let (peer, before) = {
            let mut ep = self.shared.lock()?;
            let peer = card.verify()?;
            let current = ep.current_session(peer);
            if current.is_some() && ep.health(peer) != Some(Health::Failed) {
                return Ok(peer);
            }
            let ts = self.timestamp();
            start(&mut ep, Instant::now(), ts)?;
            Shared::take_transmits(&mut ep, &mut batch);
            (peer, current)
        };
        self.shared.send_all(&mut batch);
        let mut ep = self.shared.lock()?;
        // A session other than the one we had (ours, or one the peer dialled meanwhile).
        let fresh = |ep: &Endpoint| {
            let now = ep.current_session(peer);
            now.is_some() && now != before
        };
        loop {
            if fresh(&ep) {
                return Ok(peer);
            }
            if !ep.is_connecting(peer) {
                let e = ep
                    .connect_error(peer)
                    .unwrap_or(crate::mesh::handshake::HandshakeError::TimedOut);
                return Err(MeshError::Handshake(e));
            }
            if self.shared.stop.load(Ordering::Acquire) {
                return Err(MeshError::ShutDown);
            }
            if self
                .shared
                .changed
                .wait_until(&mut ep, deadline, Duration::ZERO)
            {
                return if fresh(&ep) {
                    Ok(peer)
                } else {
                    Err(MeshError::Timeout)
                };
            }
        }
    }

    /// Opens a send stream to a connected peer.
    pub fn open_stream(
        &self,
        peer: NodeId,
        stream_id: u64,
        mode: StreamMode,
    ) -> Result<(), MeshError> {
        self.shared.lock()?.open_stream(peer, stream_id, mode)
    }

    /// Opens a send stream whose data packets carry `tag` (subprotocol id and channel hint) in
    /// their header; see [`Endpoint::open_stream_tagged`](crate::mesh::session::Endpoint::open_stream_tagged).
    pub fn open_stream_tagged(
        &self,
        peer: NodeId,
        stream_id: u64,
        mode: StreamMode,
        tag: StreamTag,
    ) -> Result<(), MeshError> {
        self.shared
            .lock()?
            .open_stream_tagged(peer, stream_id, mode, tag)
    }

    /// Sets the scheduling priority of an open send stream (higher is more urgent; 0 by
    /// default); see [`Endpoint::set_stream_priority`](crate::mesh::session::Endpoint::set_stream_priority).
    pub fn set_stream_priority(
        &self,
        peer: NodeId,
        stream_id: u64,
        priority: u8,
    ) -> Result<(), MeshError> {
        self.shared
            .lock()?
            .set_stream_priority(peer, stream_id, priority)
    }

    /// Queues one event; full frames are sent at once, a partial frame waits for
    /// [`flush`](Self::flush) (or the next batch). `Backpressure` means the receiver has not
    /// granted credit: retry later or use [`send_blocking`](Self::send_blocking).
    pub fn send(&self, peer: NodeId, stream_id: u64, event: &[u8]) -> Result<(), MeshError> {
        self.send_batch(peer, stream_id, std::iter::once(event))
            .and_then(|(_, r)| r)
    }

    /// Queues events in order until one is refused, then flushes. Returns how many were
    /// queued and, if one was refused, why (nothing after it was queued). The flush is a
    /// group commit: when another thread is sending at that moment, this call returns at
    /// once and that thread sends these events with its next datagrams (so concurrent
    /// senders share packets); otherwise this thread sends them before returning.
    pub fn send_batch<'a>(
        &self,
        peer: NodeId,
        stream_id: u64,
        events: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<(usize, Result<(), MeshError>), MeshError> {
        let (sent, result) = {
            let mut ep = self.shared.lock()?;
            let r = ep.send_many(Instant::now(), peer, stream_id, events);
            self.shared.flush_and_send(ep);
            r
        };
        match result {
            Err(e @ (MeshError::NotConnected(_) | MeshError::UnknownStream { .. }))
                if sent == 0 =>
            {
                Err(e)
            }
            other => Ok((sent, other)),
        }
    }

    /// Sends one event, waiting up to `timeout` for credit when the stream is backpressured.
    pub fn send_blocking(
        &self,
        peer: NodeId,
        stream_id: u64,
        event: &[u8],
        timeout: Duration,
    ) -> Result<(), MeshError> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.send(peer, stream_id, event) {
                Err(e) if e.is_backpressure() => {}
                other => return other,
            }
            let mut ep = self.shared.lock()?;
            let need = event.len() as u64 + 2;
            if ep.credit_available(peer, stream_id).unwrap_or(0) >= need {
                continue;
            }
            if self
                .shared
                .changed
                .wait_until(&mut ep, deadline, Duration::ZERO)
            {
                return Err(MeshError::Timeout);
            }
        }
    }

    /// Sends every partly filled frame now.
    pub fn flush(&self) -> Result<(), MeshError> {
        let mut batch = Vec::new();
        {
            let mut ep = self.shared.lock()?;
            ep.flush(Instant::now());
            Shared::take_transmits(&mut ep, &mut batch);
        }
        self.shared.send_all(&mut batch);
        Ok(())
    }

    /// The next event (data, connection, health), waiting up to `timeout`.
    pub fn recv(&self, timeout: Duration) -> Result<Event, MeshError> {
        let deadline = Instant::now() + timeout;
        let mut ep = self.shared.lock()?;
        loop {
            if let Some(ev) = ep.poll_event() {
                return Ok(ev);
            }
            if self.shared.stop.load(Ordering::Acquire) {
                return Err(MeshError::ShutDown);
            }
            if self
                .shared
                .changed
                .wait_until(&mut ep, deadline, self.shared.spin)
            {
                return ep.poll_event().ok_or(MeshError::Timeout);
            }
        }
    }

    /// Waits up to `timeout` for at least one event, then takes every waiting event (appends
    /// to `into`); returns how many. One lock for the lot: the fast way to drain a busy node.
    pub fn recv_batch(&self, into: &mut Vec<Event>, timeout: Duration) -> Result<usize, MeshError> {
        let deadline = Instant::now() + timeout;
        let mut ep = self.shared.lock()?;
        loop {
            let before = into.len();
            while let Some(ev) = ep.poll_event() {
                into.push(ev);
            }
            if into.len() > before {
                return Ok(into.len() - before);
            }
            if self.shared.stop.load(Ordering::Acquire) {
                return Err(MeshError::ShutDown);
            }
            if self
                .shared
                .changed
                .wait_until(&mut ep, deadline, self.shared.spin)
            {
                return Err(MeshError::Timeout);
            }
        }
    }

    /// Takes every waiting event without blocking (appends to `into`); returns how many.
    pub fn try_recv_all(&self, into: &mut Vec<Event>) -> Result<usize, MeshError> {
        let mut ep = self.shared.lock()?;
        let before = into.len();
        while let Some(ev) = ep.poll_event() {
            into.push(ev);
        }
        Ok(into.len() - before)
    }

    /// A snapshot of the endpoint's counters.
    pub fn counters(&self) -> Counters {
        self.shared.ep.lock().counters().clone()
    }

    /// Counters of the packet pool the send path takes its buffers from (`misses` stop
    /// growing once the node reached steady state).
    pub fn pool_stats(&self) -> PoolStats {
        self.shared.pool.stats()
    }

    /// Datagrams the socket refused to send.
    pub fn send_errors(&self) -> u64 {
        self.shared.send_errors.load(Ordering::Relaxed)
    }

    /// The failure detector's view of `peer`.
    pub fn health(&self, peer: NodeId) -> Option<Health> {
        self.shared.ep.lock().health(peer)
    }

    /// Whether a session with `peer` is established.
    pub fn is_connected(&self, peer: NodeId) -> bool {
        self.shared.ep.lock().is_connected(peer)
    }

    /// Frames of `peer`'s send stream `stream_id` not yet acknowledged (`None` without such a
    /// stream on the current session): 0 means the peer has everything sent on it.
    pub fn unacked(&self, peer: NodeId, stream_id: u64) -> Option<usize> {
        self.shared.ep.lock().unacked(peer, stream_id)
    }

    /// Stops the I/O thread and refuses further calls. Idempotent.
    pub fn shutdown(&self) {
        self.shared.stop.store(true, Ordering::Release);
        {
            let _ep = self.shared.ep.lock();
            self.shared.changed.notify();
        }
        if let Some(io) = self.io.lock().take() {
            // The I/O thread does not panic on any input; a join error leaves nothing to do.
            let _ = io.join();
        }
    }
}

impl Drop for MeshNode {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Sends `batch` with `sendmmsg`, up to [`MMSG_MAX`] datagrams per system call; returns how
/// many datagrams the kernel refused (each refused one is skipped, the rest still go).
#[cfg(target_os = "linux")]
fn send_datagrams(socket: &UdpSocket, batch: &[Transmit]) -> u64 {
    use std::cell::RefCell;
    thread_local! {
        static SCRATCH: RefCell<SendScratch> = RefCell::new(SendScratch::default());
    }
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut scratch) => send_datagrams_with(socket, batch, &mut scratch),
        Err(_) => send_datagrams_with(socket, batch, &mut SendScratch::default()),
    })
}

/// Vectors `send_datagrams` reuses on each thread (no allocation per batch once grown).
#[cfg(target_os = "linux")]
#[derive(Default)]
struct SendScratch {
    addrs: Vec<socket2::SockAddr>,
    iovs: Vec<libc::iovec>,
    msgs: Vec<libc::mmsghdr>,
}

/// [`send_datagrams`] with explicit scratch vectors.
#[cfg(target_os = "linux")]
fn send_datagrams_with(socket: &UdpSocket, batch: &[Transmit], s: &mut SendScratch) -> u64 {
    use std::os::fd::AsRawFd;
    let mut errors = 0u64;
    for chunk in batch.chunks(MMSG_MAX) {
        let SendScratch { addrs, iovs, msgs } = s;
        addrs.clear();
        iovs.clear();
        msgs.clear();
        addrs.extend(chunk.iter().map(|t| socket2::SockAddr::from(t.dest)));
        iovs.extend(chunk.iter().map(|t| libc::iovec {
            iov_base: t.data.as_ptr() as *mut libc::c_void,
            iov_len: t.data.len(),
        }));
        for (addr, iov) in addrs.iter().zip(iovs.iter_mut()) {
            // SAFETY: `mmsghdr` is a plain C struct; all-zero bytes are a valid value of it.
            let mut m: libc::mmsghdr = unsafe { std::mem::zeroed() };
            m.msg_hdr.msg_name = addr.as_ptr() as *mut libc::c_void;
            m.msg_hdr.msg_namelen = addr.len();
            m.msg_hdr.msg_iov = iov;
            m.msg_hdr.msg_iovlen = 1;
            msgs.push(m);
        }
        let mut done = 0usize;
        while done < msgs.len() {
            let left = u32::try_from(msgs.len() - done).unwrap_or(u32::MAX);
            // SAFETY: `msgs[done..]` are initialised `mmsghdr`s whose name and iovec pointers
            // refer to `addrs`, `iovs` and the transmits' buffers, all alive and not moved
            // until this call returns; the kernel reads them and writes only `msg_len`.
            let n =
                unsafe { libc::sendmmsg(socket.as_raw_fd(), msgs.as_mut_ptr().add(done), left, 0) };
            if n <= 0 {
                errors += 1;
                done += 1;
            } else {
                done += n as usize;
            }
        }
    }
    errors
}

/// Sends `batch` one `sendto` at a time; returns how many datagrams failed.
#[cfg(not(target_os = "linux"))]
fn send_datagrams(socket: &UdpSocket, batch: &[Transmit]) -> u64 {
    batch
        .iter()
        .filter(|t| socket.send_to(&t.data, t.dest).is_err())
        .count() as u64
}

/// Most flush-and-send rounds one sender does for others before it returns.
const MAX_FLUSH_ROUNDS: u32 = 4;

/// Most datagrams per `sendmmsg` call.
#[cfg(target_os = "linux")]
const MMSG_MAX: usize = 64;

fn io_loop(shared: &Shared) {
    let mut rx = Receiver::new();
    let mut batch: Vec<Transmit> = Vec::new();
    let mut next_timer = Instant::now();
    while !shared.stop.load(Ordering::Acquire) {
        // One system call: blocks up to the read timeout (TICK) for the first datagram and
        // takes the others already waiting.
        let got = rx.wait(&shared.socket);
        let now = Instant::now();
        let due = now >= next_timer;
        if got == 0 && !due {
            continue;
        }
        {
            let mut ep = shared.ep.lock();
            rx.for_each(|datagram, from| ep.handle_datagram(now, from, datagram));
            if due {
                if ep.poll_timeout().is_some_and(|t| t <= now) {
                    ep.handle_timeout(now);
                }
                next_timer = now + TICK;
            }
            Shared::take_transmits(&mut ep, &mut batch);
            shared.changed.notify();
        }
        shared.send_all(&mut batch);
    }
    // Stopping: acknowledge what was received, so peers do not resend it to nobody.
    {
        let mut ep = shared.ep.lock();
        ep.send_owed_acks(Instant::now());
        Shared::take_transmits(&mut ep, &mut batch);
    }
    shared.send_all(&mut batch);
}
