//! Routing inside the endpoint: which way a session's packets leave (direct or behind a
//! routing header through a next hop), what happens to a routed datagram that arrives
//! (delivered here, forwarded without decrypting, or dropped and counted), handshakes
//! through a relay, and the per-neighbour link state machine that drives rerouting.
//!
//! **Link state machine** (one per neighbour with a direct route). The link is `Up` exactly
//! while both hold: this node's *link detector* for the neighbour has not failed (it heard an
//! authentic packet arriving directly within `link_fail_after`), and the neighbour's last
//! *link report* says it hears this node directly (see [`link_report`](super::link_report)).
//!
//! ```text
//!         link detector Failed (no authentic direct packet for link_fail_after)
//!         or the peer reports "I do not hear you directly"
//!   Up  ─────────────────────────────────────────────────────────────►  Down
//!   ▲                                                                   │
//!   └───────────────────────────────────────────────────────────────────┘
//!         next authentic direct packet (detector recovers) and the peer's
//!         latest report says it hears this node
//! ```
//!
//! A detector failure forgets the peer's earlier report (set to "not hearing"), so a link
//! comes back only with a report made after it returned; a new direct handshake resets the
//! report to "hearing".
//!
//! `link_fail_after` (3 s by default) is shorter than the peers' `fail_after` (8 s), so a
//! destination behind a dead relay is rerouted before its own detector would call it failed.
//!
//! `Down` marks the neighbour's link down in the [`RoutingTable`], so the direct route to it
//! and every route through it stop being chosen and the next best route (if any) takes over;
//! `Up` restores them. Each change of the best next hop of a destination is reported once as
//! [`Event::RouteChanged`]. Only packets that arrive directly feed the link detector (routed
//! deliveries of the same peer do not, or a rerouted peer would bring its dead direct link
//! back up). Every session with a direct address sends a heartbeat straight to the peer every
//! `heartbeat_interval`, whatever else it sends (a *probe* while its traffic goes through a
//! relay), and every heartbeat carries the sender's report; so the link's return is noticed
//! by both sides, and a link that loses everything in one direction is marked down on both
//! sides: the deaf side by its detector, the other by the deaf side's reports. A report is
//! sent only after `link_fail_after` of silence, so a single lost packet flips nothing.
//!
//! Not promised: route discovery or exchange (routes come from [`Endpoint::add_route`], from
//! direct handshakes, and from the way a relayed Init arrived), loop detection beyond the
//! hop budget and the immediate back-and-forth check of [`relay`], detection of partial loss
//! (a link that delivers some direct packets within each `link_fail_after` counts as up).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Instant;

use super::{Endpoint, Out, Peer, Sess};
use crate::identity::{NodeCard, NodeId};
use crate::mesh::route::{DropReason, RelayDecision, Route, RoutingTable, relay};
use crate::mesh::session::{DetectorConfig, Event, FailureDetector, Health, MeshError};
use crate::mesh::wire::RoutingHeader;

/// Most addresses the neighbour cache remembers before it starts over.
const NEIGHBOUR_CACHE_MAX: usize = 4096;

/// How a running handshake's messages travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dial {
    /// Straight to this address.
    Direct(SocketAddr),
    /// Behind a routing header, through this neighbour.
    Via(NodeId),
}

/// Where a routed packet delivered here came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Via {
    /// The neighbour that handed it over.
    pub(super) neighbour: NodeId,
    /// Hops it took (relays passed + 1).
    pub(super) hops: u8,
}

/// The way one packet leaves: the UDP address, and the routing header when it goes through
/// a relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Path {
    /// Where the datagram is sent.
    pub(super) addr: SocketAddr,
    /// The routing header in front of it, if it is routed.
    pub(super) route: Option<RoutingHeader>,
}

/// A fresh routing header from `me` to `dest` with the budget `max_hops`.
fn header(me: NodeId, max_hops: u8, dest: NodeId) -> RoutingHeader {
    RoutingHeader {
        ttl: max_hops,
        hop_count: 0,
        flags: 0,
        // The routing id is the low 32 bits of the node id (docs/wire.md).
        src_id: me.0 as u32,
        dest_id: dest.0,
    }
}

/// The way `sess`'s packets leave now: through the best next hop when that is another node
/// with a direct address, else straight to the session's direct address, else nowhere.
pub(super) fn path_for(
    routes: &RoutingTable,
    peers: &HashMap<NodeId, Peer>,
    me: NodeId,
    max_hops: u8,
    sess: &Sess,
) -> Option<Path> {
    let dest = sess.peer;
    if let Some(hop) = routes.next_hop(dest.0)
        && hop != dest.0
        && let Some(addr) = peers.get(&NodeId(hop)).and_then(|p| p.addr)
    {
        return Some(Path {
            addr,
            route: Some(header(me, max_hops, dest)),
        });
    }
    sess.addr.map(|addr| Path { addr, route: None })
}

/// Applies `change` to the table and reports every destination whose best next hop changed
/// (`Event::RouteChanged`, `route_changes`).
pub(super) fn update_routes(
    routes: &mut RoutingTable,
    out: &mut Out,
    change: impl FnOnce(&mut RoutingTable),
) {
    let before: HashMap<u64, Option<u64>> = routes
        .destinations()
        .map(|d| (d, routes.next_hop(d)))
        .collect();
    change(routes);
    let mut dests: Vec<u64> = before
        .keys()
        .copied()
        .chain(routes.destinations())
        .collect();
    dests.sort_unstable();
    dests.dedup();
    for dest in dests {
        let was = before.get(&dest).copied().flatten();
        let now = routes.next_hop(dest);
        if was != now {
            out.counters.route_changes += 1;
            out.events.push_back(Event::RouteChanged {
                dest: NodeId(dest),
                next_hop: now.map(NodeId),
            });
        }
    }
}

/// Gives `peer` (reached directly) a direct route and a link detector, and marks its link up
/// (a direct handshake just went both ways, so any earlier report of not hearing is void).
pub(super) fn add_direct(
    routes: &mut RoutingTable,
    peers: &mut HashMap<NodeId, Peer>,
    out: &mut Out,
    detector: DetectorConfig,
    peer: NodeId,
    now: Instant,
) {
    if let Some(p) = peers.get_mut(&peer) {
        p.hears_us = true;
        match &mut p.link {
            Some(l) => {
                l.heard(now);
            }
            None => p.link = Some(FailureDetector::new(detector, now)),
        }
    }
    update_routes(routes, out, |t| {
        t.add_direct(peer.0);
        t.set_link_up(peer.0, true);
    });
}

/// Brings `peer`'s link state in the routing table in line with its link detector and its
/// latest link report (see the module doc), counting and reporting a change. Nothing for a
/// peer without a link detector (no direct route).
pub(super) fn sync_link(
    routes: &mut RoutingTable,
    peers: &HashMap<NodeId, Peer>,
    out: &mut Out,
    peer: NodeId,
) {
    let Some(p) = peers.get(&peer) else {
        return;
    };
    let Some(link) = &p.link else {
        return;
    };
    let heard = link.health() != Health::Failed;
    let up = heard && p.hears_us;
    if routes.link_up(peer.0) == up {
        return;
    }
    if up {
        out.counters.links_up += 1;
    } else {
        out.counters.links_down += 1;
        if heard {
            out.counters.links_down_by_peer += 1;
        }
    }
    update_routes(routes, out, |t| t.set_link_up(peer.0, up));
}

/// The drop reason counted for a relay decision.
fn drop_reason(r: DropReason) -> &'static str {
    match r {
        DropReason::Malformed(e) => e.kind(),
        DropReason::NoInnerPacket => "no_inner_packet",
        DropReason::TtlExpired => "ttl_expired",
        DropReason::NoRoute => "no_route",
        DropReason::WouldLoop => "route_loop",
    }
}

impl Endpoint {
    /// A fresh routing header from this node to `dest`.
    pub(super) fn route_header(&self, dest: NodeId) -> RoutingHeader {
        header(self.me, self.config.max_hops, dest)
    }

    /// Handles a routed datagram from `from`: only from a neighbour (an address of a peer
    /// with a session); delivered here with the session of its origin, forwarded unchanged
    /// but for the hop fields (never decrypted), or dropped with a reason.
    pub(super) fn on_routed(
        &mut self,
        now: Instant,
        from: SocketAddr,
        datagram: &mut [u8],
    ) -> Result<(), &'static str> {
        let neighbour = self.neighbour_at(from).ok_or("routed_from_unknown")?;
        match relay(datagram, self.me.0, neighbour.0, &self.routes) {
            RelayDecision::Deliver { offset } => {
                let relays = datagram.get(3).copied().unwrap_or(u8::MAX);
                let via = Via {
                    neighbour,
                    hops: relays.saturating_add(1),
                };
                let packet = datagram.get_mut(offset..).ok_or("no_inner_packet")?;
                self.on_packet(now, from, packet, Some(via))
            }
            RelayDecision::Forward { next_hop } => {
                let addr = self
                    .peers
                    .get(&NodeId(next_hop))
                    .and_then(|p| p.addr)
                    .ok_or("no_route")?;
                self.out.counters.relay_forwarded += 1;
                let mut copy = self.out.pool.take(datagram.len());
                copy.extend_from_slice(datagram);
                self.out.transmit(addr, copy);
                Ok(())
            }
            RelayDecision::Drop(r) => Err(drop_reason(r)),
        }
    }

    /// The neighbour (a peer with a session) whose direct address is `addr`, if any. A cache
    /// remembers the last answer per address and is checked against the peer table on every
    /// use, so it can never be stale; a miss scans the peers once.
    fn neighbour_at(&mut self, addr: SocketAddr) -> Option<NodeId> {
        let is_neighbour = |p: &Peer| p.addr == Some(addr) && p.current.is_some();
        if let Some(id) = self.neighbour_cache.get(&addr)
            && self.peers.get(id).is_some_and(is_neighbour)
        {
            return Some(*id);
        }
        let id = self
            .peers
            .iter()
            .find(|(_, p)| is_neighbour(p))
            .map(|(&id, _)| id)?;
        if self.neighbour_cache.len() >= NEIGHBOUR_CACHE_MAX {
            self.neighbour_cache.clear();
        }
        self.neighbour_cache.insert(addr, id);
        Some(id)
    }

    /// Starts a handshake with the node whose card is `card` through the neighbour `via`
    /// (a peer with a session and a direct address): the Init and Reply travel as routed
    /// packets, so `via` forwards them without learning the session keys. Adds the route
    /// `card`'s node via `via` (2 hops) if it is not there. `Connected` or `ConnectFailed`
    /// follows, as for [`connect`](Self::connect). Dialling `via` itself is a direct dial.
    pub fn connect_via(
        &mut self,
        now: Instant,
        via: NodeId,
        card: &NodeCard,
        timestamp: u64,
    ) -> Result<NodeId, MeshError> {
        self.observe(now);
        let peer_id = card.verify()?;
        let hop_addr = self
            .peers
            .get(&via)
            .filter(|p| p.current.is_some())
            .and_then(|p| p.addr)
            .ok_or(MeshError::NotNeighbour(via))?;
        if peer_id == via {
            return self.connect(now, hop_addr, card, timestamp);
        }
        if peer_id == self.me {
            return Err(MeshError::NotNeighbour(peer_id));
        }
        if !self
            .routes
            .routes(peer_id.0)
            .iter()
            .any(|r| r.next_hop == via.0)
        {
            update_routes(&mut self.routes, &mut self.out, |t| {
                t.add_via(peer_id.0, via.0, 2);
            });
        }
        self.dial(now, peer_id, card, timestamp, Dial::Via(via))
    }

    /// Adds (or updates) a route to `dest` through the neighbour `via`, `hops` long (at least
    /// 2; `via == dest` is the direct route). The best usable route is used from the next
    /// packet on; a change of it is reported as [`Event::RouteChanged`].
    pub fn add_route(&mut self, dest: NodeId, via: NodeId, hops: u8) {
        update_routes(&mut self.routes, &mut self.out, |t| {
            t.add_via(dest.0, via.0, hops);
        });
    }

    /// Removes the route to `dest` through `via`; true if there was one.
    pub fn remove_route(&mut self, dest: NodeId, via: NodeId) -> bool {
        let mut removed = false;
        update_routes(&mut self.routes, &mut self.out, |t| {
            removed = t.remove(dest.0, via.0);
        });
        removed
    }

    /// The neighbour packets for `dest` are handed to now (`dest` itself when direct), if any
    /// usable route exists.
    pub fn next_hop(&self, dest: NodeId) -> Option<NodeId> {
        self.routes.next_hop(dest.0).map(NodeId)
    }

    /// Every route to `dest`, usable or not.
    pub fn routes(&self, dest: NodeId) -> &[Route] {
        self.routes.routes(dest.0)
    }

    /// Whether the direct link to `neighbour` is up (not marked down by its link detector).
    pub fn link_up(&self, neighbour: NodeId) -> bool {
        self.routes.link_up(neighbour.0)
    }

    /// Every session in the table as `(session id, peer)`, in no particular order. A relay
    /// holds sessions with its neighbours only, never one of two nodes it relays between.
    pub fn sessions(&self) -> Vec<(u64, NodeId)> {
        self.sessions
            .iter()
            .map(|(&sid, s)| (sid, s.peer))
            .collect()
    }
}
