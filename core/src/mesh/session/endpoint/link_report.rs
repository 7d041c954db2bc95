//! The link report: one byte in every heartbeat saying whether its sender currently hears the
//! receiver directly, and what the receiver does with it. This is what lets a node notice a
//! direct link that loses everything in one direction only: the side that still hears the
//! other keeps receiving authentic direct packets, so its own link detector stays healthy,
//! but its peer's reports say "I do not hear you" and the link is marked down all the same.
//!
//! Promises: the report is authenticated (it is the sealed plaintext of a heartbeat); a
//! heartbeat whose plaintext is not exactly one byte with only known bits, or whose
//! `event_count` is not 0, is dropped as `bad_heartbeat` and changes nothing (not even the
//! failure detectors); a report is a level, not an edge, so a lost heartbeat only delays the
//! next one. The link state machine that uses it is described in `routing`. Not promised:
//! any measure of partial loss (a link that delivers some packets counts as heard).

use super::*;

/// Report bit: the sender's link detector for the receiver has not failed (it hears the
/// receiver directly).
const HEARS_YOU: u8 = 0x01;

/// Every bit a report may have.
const KNOWN_BITS: u8 = HEARS_YOU;

/// The heartbeat plaintext reporting `hears`.
pub(super) fn encode(hears: bool) -> [u8; 1] {
    [if hears { HEARS_YOU } else { 0 }]
}

/// The report a heartbeat's plaintext carries (`true`: its sender hears this node directly),
/// or `bad_heartbeat`.
pub(super) fn parse(plain: &[u8], event_count: u16) -> Result<bool, &'static str> {
    match plain {
        [b] if event_count == 0 && b & !KNOWN_BITS == 0 => Ok(b & HEARS_YOU != 0),
        _ => Err("bad_heartbeat"),
    }
}

/// Whether this node hears `peer` directly: its link detector for `peer` has not failed
/// (a peer without one, reached only through a relay, counts as heard: nothing to report).
pub(super) fn hears(peers: &HashMap<NodeId, Peer>, peer: NodeId) -> bool {
    peers
        .get(&peer)
        .and_then(|p| p.link.as_ref())
        .is_none_or(|l| l.health() != Health::Failed)
}

/// Seals and queues a heartbeat on session `sid` along `path`, carrying this node's report
/// `hears`; records when one last went straight to the peer. False if it could not be sealed.
pub(super) fn send_heartbeat(
    sid: u64,
    sess: &mut Sess,
    out: &mut Out,
    origin_hash: u32,
    now: Instant,
    path: Option<&Path>,
    hears: bool,
) -> bool {
    let k = kind(sid, origin_hash, flags::HEARTBEAT, 0, 0, 0);
    if emit(sess, out, now, path, k, &encode(hears)).is_err() {
        return false;
    }
    if path.is_some_and(|p| p.route.is_none()) {
        sess.last_direct_heartbeat = now;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Identity;
    use crate::mesh::handshake::HandshakeConfig;

    #[test]
    fn reports_round_trip_and_anything_else_is_refused() {
        assert_eq!(parse(&encode(true), 0), Ok(true));
        assert_eq!(parse(&encode(false), 0), Ok(false));
        for (plain, count) in [
            (&[][..], 0u16),
            (&[0x01, 0x00][..], 0),
            (&[0x02][..], 0),
            (&[0x81][..], 0),
            (&[0x01][..], 1),
            (&[0u8; 1000][..], 0),
        ] {
            assert_eq!(
                parse(plain, count),
                Err("bad_heartbeat"),
                "{plain:?} {count}"
            );
        }
    }

    const PSK: [u8; 32] = [0x33; 32];

    fn endpoint(n: u8) -> Endpoint {
        let id = Identity::from_seed(&[n; 32]);
        Endpoint::new(EndpointConfig::new(HandshakeConfig::new(id, PSK)))
    }

    /// Hands every queued datagram of `a` (at `a_addr`) to `b` and back until both are quiet.
    fn pump(now: Instant, x: &mut Endpoint, xa: SocketAddr, y: &mut Endpoint, ya: SocketAddr) {
        for _ in 0..16 {
            let mut moved = false;
            while let Some(mut t) = x.poll_transmit() {
                y.handle_datagram(now, xa, &mut t.data);
                moved = true;
            }
            while let Some(mut t) = y.poll_transmit() {
                x.handle_datagram(now, ya, &mut t.data);
                moved = true;
            }
            if !moved {
                return;
            }
        }
    }

    /// Seals a heartbeat with `plain` on `x`'s session with `peer` and hands it to `y`.
    fn forged(x: &mut Endpoint, peer: NodeId, plain: &[u8], count: u16) -> Vec<u8> {
        let sid = x.current_session(peer).expect("session");
        let origin = x.origin_hash;
        let sess = x.sessions.get_mut(&sid).expect("session");
        let addr = sess.addr.expect("direct");
        let path = Path { addr, route: None };
        let k = kind(sid, origin, flags::HEARTBEAT, 0, 0, count);
        seal_to(&mut sess.cipher.sealer, &mut x.out, Some(&path), k, plain).expect("seal");
        x.out.transmits.pop_back().expect("queued").data
    }

    #[test]
    fn reports_steer_the_link_and_bad_heartbeats_are_dropped_and_counted() {
        let (aa, ba): (SocketAddr, SocketAddr) =
            ("10.0.0.1:1".parse().unwrap(), "10.0.0.2:1".parse().unwrap());
        let (mut a, mut b) = (endpoint(1), endpoint(2));
        let now = Instant::now();
        let card = b.card();
        let b_id = a.connect(now, ba, &card, 1).expect("connect");
        pump(now, &mut a, aa, &mut b, ba);
        let a_id = a.node_id();
        assert!(b.is_connected(a_id) && b.link_up(a_id));
        // Malformed reports: dropped, counted, the link untouched.
        for (plain, count) in [
            (&[][..], 0u16),
            (&[1, 1][..], 0),
            (&[0x04][..], 0),
            (&[1][..], 2),
        ] {
            let mut d = forged(&mut a, b_id, plain, count);
            b.handle_datagram(now, aa, &mut d);
        }
        assert_eq!(b.counters().dropped("bad_heartbeat"), 4);
        assert!(b.link_up(a_id));
        assert_eq!(b.counters().links_down, 0);
        // "I do not hear you": B's link to A goes down although B hears A fine.
        let mut d = forged(&mut a, b_id, &encode(false), 0);
        b.handle_datagram(now, aa, &mut d);
        assert!(!b.link_up(a_id));
        assert_eq!(b.next_hop(a_id), None);
        let k = b.counters();
        assert_eq!((k.links_down, k.links_down_by_peer), (1, 1));
        // The same report again changes nothing; "I hear you" brings it back once.
        let mut d = forged(&mut a, b_id, &encode(false), 0);
        b.handle_datagram(now, aa, &mut d);
        let mut d = forged(&mut a, b_id, &encode(true), 0);
        b.handle_datagram(now, aa, &mut d);
        assert!(b.link_up(a_id));
        assert_eq!(b.next_hop(a_id), Some(a_id));
        let k = b.counters();
        assert_eq!((k.links_down, k.links_up, k.route_changes), (1, 1, 3));
    }
}
