//! The mesh transport (layer 4). What exists so far is its foundation, all sans-IO:
//!
//! - [`wire`]: the 64-byte Net header, the 18-byte routing header, the AAD and the event frame;
//! - [`crypto`]: per-packet ChaCha20-Poly1305 (via `ring`) with counter nonces and a replay window;
//! - [`handshake`]: the Noise `NKpsk0_25519_ChaChaPoly_BLAKE2s` handshake as a state machine,
//!   binding each side's key to its ed25519 [`crate::identity`];
//! - [`route`]: the routing table and the per-hop relay decision and rewrite;
//! - [`bench`](mod@bench): the timed loops behind `net bench`'s `w5.*` figures.
//!
//! Promises: no function here touches a socket or panics on any input, and none reads a clock
//! except the benchmark loops in [`bench`](mod@bench). Not here yet (later steps, see
//! `docs/mesh.md`): the UDP node, sessions and heartbeats, streams and reliability, relayed
//! handshakes, and the mesh adapter for the bus.

pub mod bench;
pub mod crypto;
pub mod handshake;
pub mod node;
pub mod route;
pub mod session;
pub mod stream;
pub mod wire;
