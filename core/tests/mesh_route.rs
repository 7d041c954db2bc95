//! Routing and relay (sans-IO): three nodes A -> B -> C where B forwards sealed packets it
//! cannot read, tamper detection at the destination, hop budgets, loops, failover and garbage.

use net::mesh::crypto::{CryptoError, Opener, Sealer, TAG_LEN};
use net::mesh::route::{DropReason, RelayDecision, RoutingTable, relay};
use net::mesh::wire::{HEADER_LEN, Header, ROUTING_HEADER_LEN, RoutingHeader};
use proptest::prelude::*;

const A: u64 = 0xA1;
const B: u64 = 0xB2;
const C: u64 = 0xC3;
const D: u64 = 0xD4;
/// The A<->C session key (A's tx, C's rx). B never sees it.
const KEY_AC: [u8; 32] = [0x5A; 32];

/// A routed datagram from A to C carrying `plaintext`, sealed with the A-C key.
fn routed_from_a(sealer: &mut Sealer, plaintext: &[u8], hop_ttl: u8) -> Vec<u8> {
    let mut header = Header {
        hop_ttl,
        stream_id: 1,
        sequence: 7,
        event_count: 1,
        ..Header::default()
    };
    let mut packet = vec![0u8; HEADER_LEN + plaintext.len() + TAG_LEN];
    packet[HEADER_LEN..HEADER_LEN + plaintext.len()].copy_from_slice(plaintext);
    let n = sealer
        .seal(&mut header, &mut packet, plaintext.len())
        .unwrap();
    let route = RoutingHeader {
        ttl: 4,
        hop_count: 0,
        flags: 0,
        src_id: A as u32,
        dest_id: C,
    };
    let mut datagram = route.to_bytes().to_vec();
    datagram.extend_from_slice(&packet[..n]);
    datagram
}

fn b_table() -> RoutingTable {
    let mut t = RoutingTable::new();
    t.add_direct(A);
    t.add_direct(C);
    t
}

#[test]
fn a_to_c_through_b_without_b_reading_the_payload() {
    let mut sealer = Sealer::new(&KEY_AC).unwrap();
    let mut opener = Opener::new(&KEY_AC).unwrap();
    let secret = b"{\"token\":\"only C can read this\"}";
    let mut datagram = routed_from_a(&mut sealer, secret, 8);
    let sent = datagram.clone();

    // B: forward to C; only the hop fields change (routing ttl/hop_count, Net hop_count).
    assert_eq!(
        relay(&mut datagram, B, A, &b_table()),
        RelayDecision::Forward { next_hop: C }
    );
    let changed: Vec<usize> = (0..sent.len())
        .filter(|&i| sent[i] != datagram[i])
        .collect();
    assert_eq!(changed, [2, 3, ROUTING_HEADER_LEN + 6]);
    assert_eq!(datagram[2], 3, "routing ttl decremented");
    assert_eq!(datagram[3], 1, "routing hop count incremented");
    assert_eq!(
        datagram[ROUTING_HEADER_LEN + 6],
        1,
        "Net hop count incremented"
    );
    // The plaintext is nowhere in what B handled.
    assert!(!datagram.windows(secret.len()).any(|w| w == secret));

    // C: deliver, then open with the A-C key; the hop count is outside the AAD.
    let mut c_table = RoutingTable::new();
    c_table.add_direct(B);
    let RelayDecision::Deliver { offset } = relay(&mut datagram, C, B, &c_table) else {
        panic!("C must deliver");
    };
    let (header, plain) = opener.open(&mut datagram[offset..]).unwrap();
    assert_eq!(&plain[..], &secret[..]);
    assert_eq!(header.hop_count, 1);
}

#[test]
fn a_byte_flipped_at_the_relay_is_rejected_at_the_destination() {
    let mut sealer = Sealer::new(&KEY_AC).unwrap();
    let mut flipped_and_rejected = 0;
    // Flip each byte of the Net packet except the hop count (which relays may change).
    let base = routed_from_a(&mut Sealer::new(&KEY_AC).unwrap(), b"{\"v\":1}", 8);
    for i in ROUTING_HEADER_LEN..base.len() {
        if i == ROUTING_HEADER_LEN + 6 {
            continue;
        }
        let mut datagram = routed_from_a(&mut sealer, b"{\"v\":1}", 8);
        assert!(matches!(
            relay(&mut datagram, B, A, &b_table()),
            RelayDecision::Forward { .. } | RelayDecision::Drop(DropReason::NoInnerPacket)
        ));
        datagram[i] ^= 0x20;
        let mut opener = Opener::new(&KEY_AC).unwrap();
        let result = opener.open(&mut datagram[ROUTING_HEADER_LEN..]);
        assert!(result.is_err(), "flipping byte {i} went unnoticed");
        flipped_and_rejected += 1;
    }
    assert_eq!(flipped_and_rejected, base.len() - ROUTING_HEADER_LEN - 1);
    // And the untouched packet opens, so the failures above are the flips.
    let mut good = routed_from_a(&mut Sealer::new(&KEY_AC).unwrap(), b"{\"v\":1}", 8);
    let mut opener = Opener::new(&KEY_AC).unwrap();
    assert!(opener.open(&mut good[ROUTING_HEADER_LEN..]).is_ok());
}

#[test]
fn raising_the_hop_budget_at_a_relay_breaks_the_tag() {
    let mut datagram = routed_from_a(&mut Sealer::new(&KEY_AC).unwrap(), b"{}", 1);
    datagram[ROUTING_HEADER_LEN + 5] = 9; // hop_ttl is authenticated
    let mut opener = Opener::new(&KEY_AC).unwrap();
    assert!(matches!(
        opener.open(&mut datagram[ROUTING_HEADER_LEN..]),
        Err(CryptoError::AuthFailed | CryptoError::Wire(_))
    ));
}

#[test]
fn budgets_loops_and_missing_routes_drop() {
    let mut sealer = Sealer::new(&KEY_AC).unwrap();
    // Net hop budget of 1: the first relay may forward, the second may not.
    let mut d = routed_from_a(&mut sealer, b"{}", 1);
    assert_eq!(
        relay(&mut d, B, A, &b_table()),
        RelayDecision::Forward { next_hop: C }
    );
    let before = d.clone();
    let mut t = RoutingTable::new();
    t.add_direct(C);
    assert_eq!(
        relay(&mut d, D, B, &t),
        RelayDecision::Drop(DropReason::TtlExpired)
    );
    assert_eq!(d, before, "a dropped datagram is not modified");

    // Routing ttl exhausted.
    let mut d = routed_from_a(&mut sealer, b"{}", 8);
    d[2] = 0;
    assert_eq!(
        relay(&mut d, B, A, &b_table()),
        RelayDecision::Drop(DropReason::TtlExpired)
    );

    // The only route to C leads back where the packet came from.
    let mut t = RoutingTable::new();
    t.add_via(C, A, 3);
    let mut d = routed_from_a(&mut sealer, b"{}", 8);
    assert_eq!(
        relay(&mut d, B, A, &t),
        RelayDecision::Drop(DropReason::WouldLoop)
    );
    assert_eq!(
        relay(&mut d, B, A, &RoutingTable::new()),
        RelayDecision::Drop(DropReason::NoRoute)
    );
}

#[test]
fn failover_reroutes_when_the_next_hop_fails_and_returns_on_recovery() {
    // A reaches C through B (2 hops) or through D (3 hops).
    let mut a = RoutingTable::new();
    a.add_direct(B);
    a.add_direct(D);
    a.add_via(C, B, 2);
    a.add_via(C, D, 3);
    let mut sealer = Sealer::new(&KEY_AC).unwrap();
    let first_hop = |t: &RoutingTable, s: &mut Sealer| {
        // A relays its own packet: `from` is itself.
        let mut d = routed_from_a(s, b"{}", 8);
        relay(&mut d, A, A, t)
    };
    assert_eq!(
        first_hop(&a, &mut sealer),
        RelayDecision::Forward { next_hop: B }
    );
    a.set_link_up(B, false);
    assert_eq!(
        first_hop(&a, &mut sealer),
        RelayDecision::Forward { next_hop: D }
    );
    a.set_link_up(B, true);
    assert_eq!(
        first_hop(&a, &mut sealer),
        RelayDecision::Forward { next_hop: B }
    );
}

#[test]
fn garbage_is_dropped_as_malformed_or_missing_inner_packet() {
    let t = b_table();
    for bad in [
        &b""[..],
        b"R",
        b"RT",
        b"NE",
        &[
            0x52, 0x54, 4, 0, 0xF0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ],
    ] {
        let mut d = bad.to_vec();
        assert!(matches!(
            relay(&mut d, B, A, &t),
            RelayDecision::Drop(DropReason::Malformed(_))
        ));
    }
    // A valid routing header with nothing (or not a Net header) behind it.
    let route = RoutingHeader {
        ttl: 3,
        dest_id: C,
        ..RoutingHeader::default()
    }
    .to_bytes();
    for tail in [&[][..], &[0u8; 64][..], &[0x45, 0x4E, 1][..]] {
        let mut d = route.to_vec();
        d.extend_from_slice(tail);
        assert_eq!(
            relay(&mut d, B, A, &t),
            RelayDecision::Drop(DropReason::NoInnerPacket)
        );
    }
}

proptest! {
    #[test]
    fn relay_never_panics_and_only_touches_hop_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..200),
        routed in any::<bool>(),
    ) {
        let mut d = bytes;
        if routed && d.len() >= ROUTING_HEADER_LEN + 2 {
            d[0] = 0x52;
            d[1] = 0x54;
            d[ROUTING_HEADER_LEN] = 0x45;
            d[ROUTING_HEADER_LEN + 1] = 0x4E;
        }
        let before = d.clone();
        let decision = relay(&mut d, B, A, &b_table());
        for (i, (x, y)) in before.iter().zip(&d).enumerate() {
            if x != y {
                let forwarded = matches!(decision, RelayDecision::Forward { .. });
                prop_assert!(forwarded, "changed without forwarding");
                prop_assert!([2, 3, ROUTING_HEADER_LEN + 6].contains(&i), "byte {} changed", i);
            }
        }
    }
}
