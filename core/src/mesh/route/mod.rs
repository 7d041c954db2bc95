//! Routing and relay, sans-IO: which neighbour a packet for another node goes to, and the
//! per-hop rewrite a relay performs without decrypting anything.
//!
//! - [`RoutingTable`]: direct and via-next-hop routes per destination, with link state fed by
//!   the failure detector; the best usable route is precomputed so a lookup is one hash probe.
//! - [`relay`]: the forwarding decision for one routed datagram (deliver here, forward to a
//!   next hop, or drop with a [`DropReason`]) and the in-place rewrite of the hop fields.
//!
//! Promises: no function reads a clock, touches a socket or allocates on the relay path, and
//! none panics on any input. A relay never holds session keys: it reads only the routing
//! header and the unauthenticated hop counter of the Net header, so payload tampering at a
//! relay is caught by the destination's AEAD check. Not here: route discovery or exchange
//! between nodes (routes are installed through the session endpoint), and everything that
//! needs sessions: routed delivery, routed sends, relayed handshakes and feeding link state
//! from the failure detector live in `mesh::session` (its endpoint's `routing` module).

mod relay;
mod table;

pub use relay::{DropReason, RelayDecision, relay};
pub use table::{NodeId, NodeIdHasher, Route, RoutingTable};
