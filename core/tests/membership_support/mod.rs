//! Helpers of the membership tests: mesh nodes on 127.0.0.1 with a fast failure detector,
//! pub/subs over them, tokens, bounded waits.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use net::channel::{ChannelName, ChannelRegistry, GuardConfig};
use net::identity::Identity;
use net::membership::{PubSub, PubSubConfig, Roster};
use net::mesh::handshake::HandshakeConfig;
use net::mesh::node::{MeshNode, NodeConfig};
use net::mesh::session::{DetectorConfig, EndpointConfig};
use net::token::TokenVerifier;

pub const PSK: [u8; 32] = [0x5A; 32];
pub const WAIT: Duration = Duration::from_secs(10);

pub fn identity(n: u8) -> Identity {
    Identity::from_seed(&[n; 32])
}

/// A node with identity `n`, heartbeats every 100 ms, failed after 800 ms of silence.
pub fn node(n: u8) -> Arc<MeshNode> {
    let mut cfg = EndpointConfig::new(HandshakeConfig::new(identity(n), PSK));
    cfg.detector = DetectorConfig {
        heartbeat_interval: Duration::from_millis(100),
        suspect_after: Duration::from_millis(400),
        fail_after: Duration::from_millis(800),
    };
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    Arc::new(MeshNode::start(NodeConfig::new(cfg, addr)).expect("start node"))
}

pub fn roster(registry: ChannelRegistry, verifier: Option<Arc<TokenVerifier>>) -> Roster {
    Roster::new(registry, verifier, GuardConfig::default()).unwrap()
}

pub fn pubsub(node: &Arc<MeshNode>, roster: Roster) -> PubSub {
    PubSub::start(Arc::clone(node), roster, PubSubConfig::default())
}

/// `sub` dials `publisher` and waits until the publisher has the session too.
pub fn link(sub: &MeshNode, publisher: &MeshNode) {
    sub.connect(publisher.local_addr(), &publisher.card(), WAIT)
        .expect("connect");
    wait_for("publisher sees the session", || {
        publisher.is_connected(sub.node_id())
    });
}

pub fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

pub fn name(s: &str) -> ChannelName {
    ChannelName::parse(s).unwrap()
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Takes events from `ps` until `n` arrived or `quiet` passed without one (bounded by WAIT).
pub fn collect(ps: &PubSub, n: usize, quiet: Duration) -> Vec<net::membership::ChannelEvent> {
    let mut out = Vec::new();
    let deadline = Instant::now() + WAIT;
    while out.len() < n && Instant::now() < deadline {
        if ps.recv_batch(&mut out, quiet) == 0 {
            break;
        }
    }
    out
}
