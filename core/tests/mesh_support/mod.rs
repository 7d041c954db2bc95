//! Shared helpers of the mesh tests: identities, endpoint configs, event payloads, and a
//! deterministic simulated network that drives sans-IO endpoints with seeded faults.
#![allow(dead_code)]

pub mod udp_proxy;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use net::identity::{Identity, NodeId};
use net::mesh::handshake::HandshakeConfig;
use net::mesh::node::{MeshNode, NodeConfig};
use net::mesh::session::{DetectorConfig, Endpoint, EndpointConfig};

/// The mesh PSK of the tests.
pub const PSK: [u8; 32] = [0x5A; 32];

/// A deterministic identity.
pub fn identity(n: u8) -> Identity {
    Identity::from_seed(&[n; 32])
}

/// An endpoint config for identity `n`.
pub fn config(n: u8) -> EndpointConfig {
    EndpointConfig::new(HandshakeConfig::new(identity(n), PSK))
}

/// A `MeshNode` on an ephemeral port of 127.0.0.1 (the real-UDP tests).
pub fn start_node(c: EndpointConfig) -> Arc<MeshNode> {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    Arc::new(MeshNode::start(NodeConfig::new(c, addr)).expect("start"))
}

/// Three `MeshNode`s on 127.0.0.1 whose identities are seeds `first`, `first + 1` and
/// `first + 2`, each configured by `make` (e.g. [`config`] or [`fast_config`]).
pub fn start_three(
    make: fn(u8) -> EndpointConfig,
    first: u8,
) -> (Arc<MeshNode>, Arc<MeshNode>, Arc<MeshNode>) {
    (
        start_node(make(first)),
        start_node(make(first + 1)),
        start_node(make(first + 2)),
    )
}

/// [`config`] with timers short enough for failover tests over real UDP: heartbeats every
/// 50 ms, a peer failed after 1.5 s, a direct link down after 400 ms, retransmits after 50 ms.
pub fn fast_config(n: u8) -> EndpointConfig {
    let mut c = config(n);
    c.detector = DetectorConfig {
        heartbeat_interval: Duration::from_millis(50),
        suspect_after: Duration::from_millis(600),
        fail_after: Duration::from_millis(1500),
    };
    c.link_fail_after = Duration::from_millis(400);
    c.stream.rto = Duration::from_millis(50);
    c
}

/// A 64-byte event for index `i` on stream `stream`: index, stream, then a pattern derived
/// from both, so corruption or mix-ups are detected.
pub fn event(stream: u64, i: u64) -> [u8; 64] {
    let mut e = [0u8; 64];
    e[..8].copy_from_slice(&i.to_le_bytes());
    e[8..16].copy_from_slice(&stream.to_le_bytes());
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ stream;
    for b in &mut e[16..] {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        *b = (x >> 56) as u8;
    }
    e
}

/// Checks an event's integrity and returns `(stream, index)`.
pub fn check_event(e: &[u8]) -> (u64, u64) {
    assert_eq!(e.len(), 64, "event length");
    let i = u64::from_le_bytes(e[..8].try_into().unwrap());
    let s = u64::from_le_bytes(e[8..16].try_into().unwrap());
    assert_eq!(e, event(s, i), "event {s}/{i} corrupted");
    (s, i)
}

/// splitmix64: small, seeded, deterministic.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    /// Next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Fault rates of the simulated network.
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    /// Probability a datagram is lost.
    pub loss: f64,
    /// Probability a datagram is delivered twice.
    pub duplicate: f64,
    /// Probability a copy is delayed by up to `reorder_max` extra (so later ones overtake it).
    pub reorder: f64,
    /// Maximum extra delay of a reordered copy.
    pub reorder_max: Duration,
    /// Probability a copy has one bit flipped.
    pub corrupt: f64,
    /// Base one-way latency.
    pub latency: Duration,
}

/// What the simulated network did.
#[derive(Debug, Clone, Default)]
pub struct SimStats {
    /// Datagrams offered.
    pub sent: u64,
    /// Datagrams lost (including by partition).
    pub lost: u64,
    /// Extra copies made.
    pub duplicated: u64,
    /// Corrupted copies handed to an endpoint.
    pub corrupted_arrived: u64,
    /// All copies handed to an endpoint.
    pub arrived: u64,
}

/// Decides per datagram `(from, to, bytes)` whether the network loses it (true: lost).
pub type DropIf = Box<dyn FnMut(usize, usize, &[u8]) -> bool>;

/// A copy in flight: (arrival time, tie-break, to, from, bytes, corrupted).
type InFlight = Reverse<(Instant, u64, usize, usize, Vec<u8>, bool)>;

/// One intact copy handed to node `to`: its 64 header bytes.
pub type Arrival = (usize, [u8; 64]);

/// A seeded simulated network between endpoints, with virtual time.
pub struct Sim {
    /// Virtual now.
    pub now: Instant,
    /// The endpoints.
    pub nodes: Vec<Endpoint>,
    /// Their fake addresses.
    pub addrs: Vec<SocketAddr>,
    /// Fault rates.
    pub faults: Faults,
    /// While true, every datagram is lost.
    pub partitioned: bool,
    /// Directed links `(from, to)` (node indexes) that lose every datagram: a link that
    /// fails in one direction only. Counted in `stats.lost`.
    pub cut: HashSet<(usize, usize)>,
    /// When set, asked about every datagram before the random faults; a datagram it says
    /// true for is lost (counted in `stats.lost`). For losing chosen packets, e.g. one
    /// heartbeat.
    pub drop_if: Option<DropIf>,
    /// Statistics.
    pub stats: SimStats,
    /// Headers of intact copies delivered, in order.
    pub intact: Vec<Arrival>,
    rng: Rng,
    queue: BinaryHeap<InFlight>,
    seq: u64,
}

impl Sim {
    /// A network of `nodes` with `faults`, seeded by `seed`.
    pub fn new(nodes: Vec<Endpoint>, faults: Faults, seed: u64) -> Self {
        let addrs = (0..nodes.len())
            .map(|i| SocketAddr::from(([10, 0, 0, i as u8 + 1], 7000)))
            .collect();
        Sim {
            now: Instant::now(),
            nodes,
            addrs,
            faults,
            partitioned: false,
            cut: HashSet::new(),
            drop_if: None,
            stats: SimStats::default(),
            intact: Vec::new(),
            rng: Rng::new(seed),
            queue: BinaryHeap::new(),
            seq: 0,
        }
    }

    fn index_of(&self, addr: SocketAddr) -> Option<usize> {
        self.addrs.iter().position(|a| *a == addr)
    }

    /// Moves every queued transmit of every node into the network.
    pub fn collect(&mut self) {
        for from in 0..self.nodes.len() {
            while let Some(t) = self.nodes[from].poll_transmit() {
                self.stats.sent += 1;
                let Some(to) = self.index_of(t.dest) else {
                    self.stats.lost += 1;
                    continue;
                };
                let chosen = self.drop_if.as_mut().is_some_and(|f| f(from, to, &t.data));
                if self.partitioned
                    || self.cut.contains(&(from, to))
                    || chosen
                    || self.rng.chance(self.faults.loss)
                {
                    self.stats.lost += 1;
                    continue;
                }
                let copies = if self.rng.chance(self.faults.duplicate) {
                    self.stats.duplicated += 1;
                    2
                } else {
                    1
                };
                for _ in 0..copies {
                    let mut data = t.data.clone();
                    let mut at = self.now + self.faults.latency;
                    if self.rng.chance(self.faults.reorder) && !self.faults.reorder_max.is_zero() {
                        let max = self.faults.reorder_max.as_micros() as u64;
                        at += Duration::from_micros(self.rng.below(max + 1));
                    }
                    let corrupt = self.rng.chance(self.faults.corrupt);
                    if corrupt && !data.is_empty() {
                        let byte = self.rng.below(data.len() as u64) as usize;
                        let bit = self.rng.below(8) as u8;
                        data[byte] ^= 1 << bit;
                    }
                    self.seq += 1;
                    self.queue
                        .push(Reverse((at, self.seq, to, from, data, corrupt)));
                }
            }
        }
    }

    /// Delivers due datagrams, runs due timers, collects transmits, then advances time by `dt`.
    pub fn step(&mut self, dt: Duration) {
        self.collect();
        while let Some(Reverse((at, ..))) = self.queue.peek() {
            if *at > self.now {
                break;
            }
            let Some(Reverse((_, _, to, from, mut data, corrupt))) = self.queue.pop() else {
                break;
            };
            self.stats.arrived += 1;
            if corrupt {
                self.stats.corrupted_arrived += 1;
            } else if data.len() >= 64 {
                let mut h = [0u8; 64];
                h.copy_from_slice(&data[..64]);
                self.intact.push((to, h));
            }
            let from_addr = self.addrs[from];
            self.nodes[to].handle_datagram(self.now, from_addr, &mut data);
        }
        for n in &mut self.nodes {
            if n.poll_timeout().is_some_and(|t| t <= self.now) {
                n.handle_timeout(self.now);
            }
        }
        self.collect();
        self.now += dt;
    }

    /// Steps until `done(self)` or `limit` of virtual time passed; returns whether done.
    pub fn run_until(
        &mut self,
        limit: Duration,
        dt: Duration,
        mut done: impl FnMut(&mut Sim) -> bool,
    ) -> bool {
        let end = self.now + limit;
        while self.now < end {
            if done(self) {
                return true;
            }
            self.step(dt);
        }
        done(self)
    }

    /// Whether nothing is in flight.
    pub fn idle(&self) -> bool {
        self.queue.is_empty()
    }

    /// Node id of node `i`.
    pub fn id(&self, i: usize) -> NodeId {
        self.nodes[i].node_id()
    }

    /// Starts a handshake from node `a` to node `b`.
    pub fn connect(&mut self, a: usize, b: usize, timestamp: u64) {
        let card = self.nodes[b].card();
        let addr = self.addrs[b];
        let now = self.now;
        self.nodes[a]
            .connect(now, addr, &card, timestamp)
            .expect("connect");
    }
}

/// Waits until `node` has a session with `peer` or fails the test after `limit`.
pub fn wait_connected(node: &MeshNode, peer: NodeId, limit: Duration) {
    let deadline = Instant::now() + limit;
    while !node.is_connected(peer) {
        assert!(Instant::now() < deadline, "no session with {peer:?}");
        std::thread::sleep(Duration::from_millis(2));
    }
}
