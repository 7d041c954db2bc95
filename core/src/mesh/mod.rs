//! The mesh transport (layer 4):
//!
//! - [`wire`]: the 64-byte Net header, the 18-byte routing header, the AAD and the event frame;
//! - [`crypto`]: per-packet ChaCha20-Poly1305 (via `ring`) with counter nonces and a replay window;
//! - [`handshake`]: the Noise `NKpsk0_25519_ChaChaPoly_BLAKE2s` handshake as a state machine,
//!   binding each side's key to its ed25519 [`crate::identity`];
//! - [`stream`]: per-stream batching, sequencing, selective acks, retransmission decisions and
//!   the credit window;
//! - [`session`]: the [`Endpoint`](session::Endpoint): session table, handshakes carried in Net
//!   packets, heartbeats, the failure detector and streams, driven by datagrams and time;
//! - [`node`]: [`MeshNode`](node::MeshNode), the thin UDP driver (one socket, one I/O thread);
//! - [`route`]: the routing table and the per-hop relay decision and rewrite;
//! - [`bench`](mod@bench): the timed loops behind `net bench`'s `w5.*` figures;
//! - [`bus_adapter`] and [`ingress`]: the bus's mesh adapter (sending) and the thread feeding
//!   received events into a local bus;
//! - [`config`]: the JSON form of the mesh adapter (`{"adapter": {"type": "mesh", ...}}`).
//!
//! Promises: everything but [`node`], [`bus_adapter`] and [`ingress`] is sans-IO (no sockets,
//! no threads, and no clock except the benchmark loops in [`bench`](mod@bench)); nothing
//! panics on any input. Every node relays: routed packets for others are forwarded without
//! decrypting them (see [`session`] and `docs/mesh.md`). Not here yet: route discovery.

pub mod bench;
pub mod bus_adapter;
pub mod config;
pub mod crypto;
pub mod handshake;
pub mod ingress;
pub mod node;
pub mod route;
pub mod session;
pub mod stream;
pub mod wire;
