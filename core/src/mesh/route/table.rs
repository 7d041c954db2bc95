//! `RoutingTable`: routes per destination node and the best usable one.

use std::collections::HashMap;
use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

/// A node id (the low 64 bits of the identity digest; see `docs/wire.md`).
pub type NodeId = u64;

/// One way to reach a destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The neighbour the packet is handed to (the destination itself for a direct route).
    pub next_hop: NodeId,
    /// Hops to the destination along this route (1 for a direct route).
    pub hops: u8,
}

/// A hasher for node ids. Node ids are digests, so their bits are already uniform; a
/// multiply-and-rotate keeps the probe cheap without trusting that entirely.
#[derive(Debug, Default, Clone, Copy)]
pub struct NodeIdHasher(u64);

impl Hasher for NodeIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(29);
    }
}

type Map<K, V> = HashMap<K, V, BuildHasherDefault<NodeIdHasher>>;

/// Routes per destination and the state of each neighbour link.
///
/// The best route to a destination is the usable one (its next hop's link is not marked
/// down) with the fewest hops; ties go to the lowest next-hop id, so every node computes the
/// same choice from the same table. The choice is recomputed on every change, never on lookup.
#[derive(Debug, Default, Clone)]
pub struct RoutingTable {
    routes: Map<NodeId, Vec<Route>>,
    down: HashSet<NodeId, BuildHasherDefault<NodeIdHasher>>,
    best: Map<NodeId, NodeId>,
}

impl RoutingTable {
    /// An empty table.
    pub fn new() -> RoutingTable {
        RoutingTable::default()
    }

    /// Adds (or updates) a direct route to the neighbour `peer`.
    pub fn add_direct(&mut self, peer: NodeId) {
        self.add(
            peer,
            Route {
                next_hop: peer,
                hops: 1,
            },
        );
    }

    /// Adds (or updates the hop count of) a route to `dest` through the neighbour `next_hop`.
    /// A route through the destination itself is its direct route.
    pub fn add_via(&mut self, dest: NodeId, next_hop: NodeId, hops: u8) {
        let hops = if next_hop == dest { 1 } else { hops.max(2) };
        self.add(dest, Route { next_hop, hops });
    }

    fn add(&mut self, dest: NodeId, route: Route) {
        let list = self.routes.entry(dest).or_default();
        match list.iter_mut().find(|r| r.next_hop == route.next_hop) {
            Some(r) => r.hops = route.hops,
            None => list.push(route),
        }
        self.recompute(dest);
    }

    /// Removes the route to `dest` through `next_hop`; true if there was one.
    pub fn remove(&mut self, dest: NodeId, next_hop: NodeId) -> bool {
        let Some(list) = self.routes.get_mut(&dest) else {
            return false;
        };
        let before = list.len();
        list.retain(|r| r.next_hop != next_hop);
        let removed = list.len() != before;
        if list.is_empty() {
            self.routes.remove(&dest);
        }
        self.recompute(dest);
        removed
    }

    /// Marks the link to the neighbour `next_hop` down (the failure detector declared it
    /// failed) or up again (recovered). Every destination routed through it is re-decided.
    pub fn set_link_up(&mut self, next_hop: NodeId, up: bool) {
        let changed = if up {
            self.down.remove(&next_hop)
        } else {
            self.down.insert(next_hop)
        };
        if changed {
            let affected: Vec<NodeId> = self
                .routes
                .iter()
                .filter(|(_, list)| list.iter().any(|r| r.next_hop == next_hop))
                .map(|(&dest, _)| dest)
                .collect();
            for dest in affected {
                self.recompute(dest);
            }
        }
    }

    /// True unless the link to `next_hop` is marked down.
    pub fn link_up(&self, next_hop: NodeId) -> bool {
        !self.down.contains(&next_hop)
    }

    /// The neighbour to hand a packet for `dest` to, if any usable route exists.
    #[inline]
    pub fn next_hop(&self, dest: NodeId) -> Option<NodeId> {
        self.best.get(&dest).copied()
    }

    /// Every destination with at least one route, usable or not, in no particular order.
    pub fn destinations(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.routes.keys().copied()
    }

    /// Every route to `dest`, usable or not, in insertion order.
    pub fn routes(&self, dest: NodeId) -> &[Route] {
        self.routes.get(&dest).map_or(&[], Vec::as_slice)
    }

    fn recompute(&mut self, dest: NodeId) {
        let best = self
            .routes
            .get(&dest)
            .into_iter()
            .flatten()
            .filter(|r| !self.down.contains(&r.next_hop))
            .min_by_key(|r| (r.hops, r.next_hop))
            .map(|r| r.next_hop);
        match best {
            Some(hop) => {
                self.best.insert(dest, hop);
            }
            None => {
                self.best.remove(&dest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fewest_hops_wins_ties_go_to_the_lowest_id() {
        let mut t = RoutingTable::new();
        assert_eq!(t.next_hop(9), None);
        t.add_via(9, 5, 3);
        assert_eq!(t.next_hop(9), Some(5));
        t.add_via(9, 4, 3);
        assert_eq!(t.next_hop(9), Some(4), "tie: lowest next hop");
        t.add_via(9, 7, 2);
        assert_eq!(t.next_hop(9), Some(7));
        t.add_direct(9);
        assert_eq!(t.next_hop(9), Some(9));
        assert_eq!(t.routes(9).len(), 4);
        assert!(t.remove(9, 9));
        assert!(!t.remove(9, 9));
        assert_eq!(t.next_hop(9), Some(7));
    }

    #[test]
    fn a_failed_link_reroutes_and_recovery_restores() {
        let mut t = RoutingTable::new();
        t.add_direct(2);
        t.add_via(3, 2, 2); // C through B
        t.add_via(3, 4, 3); // C through D, longer
        assert_eq!(t.next_hop(3), Some(2));
        t.set_link_up(2, false);
        assert!(!t.link_up(2));
        assert_eq!(t.next_hop(3), Some(4), "rerouted around the failed hop");
        assert_eq!(
            t.next_hop(2),
            None,
            "no route to the failed neighbour itself"
        );
        t.set_link_up(4, false);
        assert_eq!(t.next_hop(3), None);
        t.set_link_up(2, true);
        assert_eq!(t.next_hop(3), Some(2));
        assert_eq!(t.next_hop(2), Some(2));
    }

    #[test]
    fn updating_a_route_changes_its_hops_not_its_count() {
        let mut t = RoutingTable::new();
        t.add_via(3, 2, 5);
        t.add_via(3, 4, 3);
        assert_eq!(t.next_hop(3), Some(4));
        t.add_via(3, 2, 2);
        assert_eq!(t.routes(3).len(), 2);
        assert_eq!(t.next_hop(3), Some(2));
    }
}
