//! The relay decision and rewrite for one routed datagram.
//!
//! A routed datagram is `routing header (18 B) || Net packet`. The relay reads the routing
//! header's destination, budget and hop count, and the Net header's hop budget and hop count
//! (byte 5 and 6 of the Net header, the only field a relay may change: it is outside the
//! AAD). It never parses or touches the payload.

use super::table::{NodeId, RoutingTable};
use crate::mesh::wire::{HEADER_LEN, MAGIC, ROUTING_HEADER_LEN, RoutingHeader, WireError};

/// Offset of the Net header's `hop_ttl` byte inside a routed datagram.
const NET_HOP_TTL: usize = ROUTING_HEADER_LEN + 5;
/// Offset of the Net header's `hop_count` byte inside a routed datagram.
const NET_HOP_COUNT: usize = ROUTING_HEADER_LEN + 6;

/// Why a relay dropped a datagram (each is counted by the node).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// The routing header did not parse.
    Malformed(WireError),
    /// No Net packet (or not a whole Net header) follows the routing header.
    NoInnerPacket,
    /// The routing header's `ttl` is exhausted, or a hop counter would pass its budget.
    TtlExpired,
    /// No usable route to the destination.
    NoRoute,
    /// The only route leads back to the neighbour the datagram came from.
    WouldLoop,
}

/// What to do with a routed datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayDecision {
    /// This node is the destination: the Net packet starts at `offset` (after the routing
    /// header); open it with the session of its origin.
    Deliver {
        /// Where the Net packet starts in the datagram.
        offset: usize,
    },
    /// The datagram was rewritten in place (budget decremented, hop counters incremented)
    /// and goes to the neighbour `next_hop` unchanged otherwise.
    Forward {
        /// The neighbour to send it to.
        next_hop: NodeId,
    },
    /// Drop it.
    Drop(DropReason),
}

/// Decides what node `local` does with `datagram`, received from the neighbour `from`, and on
/// [`RelayDecision::Forward`] rewrites the hop fields in place. Nothing is changed otherwise.
pub fn relay(
    datagram: &mut [u8],
    local: NodeId,
    from: NodeId,
    table: &RoutingTable,
) -> RelayDecision {
    let route = match RoutingHeader::parse(datagram) {
        Ok(r) => r,
        Err(e) => return RelayDecision::Drop(DropReason::Malformed(e)),
    };
    let Some(inner) = datagram.get(ROUTING_HEADER_LEN..) else {
        return RelayDecision::Drop(DropReason::NoInnerPacket);
    };
    if inner.len() < HEADER_LEN || inner[0..2] != MAGIC.to_le_bytes() {
        return RelayDecision::Drop(DropReason::NoInnerPacket);
    }
    if route.dest_id == local {
        return RelayDecision::Deliver {
            offset: ROUTING_HEADER_LEN,
        };
    }
    let (net_ttl, net_hops) = (datagram[NET_HOP_TTL], datagram[NET_HOP_COUNT]);
    if route.ttl == 0 || net_hops >= net_ttl {
        return RelayDecision::Drop(DropReason::TtlExpired);
    }
    let Some(route_hops) = route.hop_count.checked_add(1) else {
        return RelayDecision::Drop(DropReason::TtlExpired);
    };
    let next_hop = match table.next_hop(route.dest_id) {
        None => return RelayDecision::Drop(DropReason::NoRoute),
        Some(hop) if hop == from => return RelayDecision::Drop(DropReason::WouldLoop),
        Some(hop) => hop,
    };
    datagram[2] = route.ttl - 1;
    datagram[3] = route_hops;
    datagram[NET_HOP_COUNT] = net_hops + 1;
    RelayDecision::Forward { next_hop }
}
