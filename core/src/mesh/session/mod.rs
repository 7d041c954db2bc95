//! Sessions: the sans-IO mesh endpoint.
//!
//! An [`Endpoint`] is one node's protocol state: the handshake responder and any initiators,
//! the session table (keyed by session id, with each peer's current session), streams, the
//! heartbeat timer and the failure detector of each peer. It never reads a clock or touches a
//! socket: the driver feeds it datagrams ([`Endpoint::handle_datagram`]) and time
//! ([`Endpoint::handle_timeout`], [`Endpoint::poll_timeout`]) and drains datagrams to send
//! ([`Endpoint::poll_transmit`]) and events ([`Endpoint::poll_event`]). The UDP driver is
//! `mesh::node`; tests drive it over a simulated network.
//!
//! Promises:
//! - Handshakes travel as Net packets with the HANDSHAKE flag (`carriage`). An Init retry
//!   whose Reply was lost is answered with the same Reply and creates no second session. A
//!   wrong PSK, forged identity signature, replayed Init or allow-list refusal is dropped and
//!   counted (`handshake_<kind>`).
//! - A responder's session becomes the peer's current session only once an authentic packet
//!   arrives on it; the initiator sends a heartbeat at once for that purpose.
//! - Every datagram handed in is counted as accepted or dropped (with a reason); nothing
//!   panics on any input; corrupt, truncated, replayed or unknown-session packets never
//!   reach the application.
//! - Heartbeats go out when a peer's current session was idle for `heartbeat_interval`; the
//!   failure detector reports `Suspected`, `Failed` and `Recovered` from silence alone.
//!
//! - Sending: closed data frames are sealed on demand by [`Endpoint::poll_transmit`], control
//!   packets first, then sessions in turn and each session's streams by deficit round robin
//!   (quantum `max_frame` bytes), so a backlogged stream cannot starve another. Datagram and
//!   frame buffers come from a bounded [`PacketPool`] the driver refills after sending.
//! - Routing (`endpoint::routing`): a routed datagram for another node is forwarded to the
//!   best next hop without being decrypted (hop budget enforced, hop counts incremented); one
//!   for this node is opened with the session of its origin, never changes a session's
//!   address, and tampering on the way fails the AEAD check (counted). A session's packets
//!   go through a relay when the routing table says so; handshakes can be relayed
//!   ([`Endpoint::connect_via`]); a neighbour's direct link marked failed reroutes.
//!
//! Not promised: route discovery between nodes (routes are added by the driver), reconciling
//! two sessions created by simultaneous dials (both work; each side sends on the one it
//! confirmed last), closing or expiring idle sessions (a peer keeps at most
//! [`MAX_SESSIONS_PER_PEER`]; the least recently heard non-current ones are dropped first),
//! rekeying.

mod carriage;
mod config;
mod counters;
mod detector;
mod endpoint;
mod error;
mod event;
mod pool;

pub use carriage::{
    SealedKind, handshake_datagram, handshake_packet, is_handshake_header,
    is_routed_handshake_header, sealed_datagram, sealed_datagram_into, sealed_packet,
};
pub use config::{DEFAULT_MAX_HOPS, DetectorConfig, EndpointConfig, StreamConfig};
pub use counters::{Counters, FragmentCounters};
pub use detector::{FailureDetector, Health, HealthChange};
pub use endpoint::{Endpoint, MAX_SESSIONS_PER_PEER};
pub use error::MeshError;
pub use event::{Delivery, Event, Transmit};
pub use pool::{DEFAULT_BUFFER_CAPACITY, MAX_POOLED_CAPACITY, PacketPool, PoolStats};
