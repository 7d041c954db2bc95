//! Two `MeshNode`s on 127.0.0.1 with a reliable stream from the first to the second: the
//! setup shared by W6 and W7. Fixed seeds and PSK, so runs are repeatable.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use net::identity::{Identity, NodeId};
use net::mesh::handshake::HandshakeConfig;
use net::mesh::node::{MeshNode, NodeConfig};
use net::mesh::session::EndpointConfig;
use net::mesh::stream::StreamMode;

use crate::failure::{CliResult, fail};

/// The mesh-wide pre-shared key of the bench nodes.
const PSK: [u8; 32] = [0x6e; 32];

/// The stream A sends on (B answers on [`REPLY_STREAM`] in W7).
pub const STREAM: u64 = 1;
/// The stream B sends back on.
pub const REPLY_STREAM: u64 = 2;

/// Two connected nodes.
pub struct MeshPair {
    /// The sender.
    pub a: Arc<MeshNode>,
    /// The receiver.
    pub b: Arc<MeshNode>,
    /// B's node id, as A addresses it.
    pub peer_b: NodeId,
    /// A's node id, as B addresses it.
    pub peer_a: NodeId,
}

fn node(seed: u8) -> CliResult<MeshNode> {
    let hs = HandshakeConfig::new(Identity::from_seed(&[seed; 32]), PSK);
    let addr: SocketAddr = "127.0.0.1:0".parse().map_err(|e| fail!("address: {e}"))?;
    MeshNode::start(NodeConfig::new(EndpointConfig::new(hs), addr))
        .map_err(|e| fail!("cannot start a mesh node: {e}"))
}

/// Starts two nodes, connects A to B and opens the reliable stream A -> B. (B can open its
/// stream back only once it has heard from A: the responder's session starts with the first
/// authentic packet from the initiator.)
pub fn start(seed: u8) -> CliResult<MeshPair> {
    let a = node(seed)?;
    let b = node(seed.wrapping_add(1))?;
    let peer_b = a
        .connect(b.local_addr(), &b.card(), Duration::from_secs(5))
        .map_err(|e| fail!("handshake: {e}"))?;
    let peer_a = a.node_id();
    a.open_stream(peer_b, STREAM, StreamMode::Reliable)
        .map_err(|e| fail!("open stream: {e}"))?;
    Ok(MeshPair {
        a: Arc::new(a),
        b: Arc::new(b),
        peer_b,
        peer_a,
    })
}

impl MeshPair {
    /// Stops both nodes.
    pub fn shutdown(&self) {
        self.a.shutdown();
        self.b.shutdown();
    }
}
