//! Criterion bench of the per-hop relay decision and rewrite (issue 6 target: at most 100 ns,
//! no syscalls): `net::mesh::route::relay` on a routed datagram carrying a sealed 64-byte
//! payload, with a routing table of 1,000 destinations.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use net::mesh::route::{RelayDecision, RoutingTable, relay};
use net::mesh::wire::{HEADER_LEN, Header, ROUTING_HEADER_LEN, RoutingHeader};

fn bench_relay(c: &mut Criterion) {
    let local = 1u64;
    let from = 2u64;
    let mut table = RoutingTable::new();
    for n in 0..1000u64 {
        let dest = n.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1 << 63;
        table.add_direct(dest);
        table.add_via(dest, 3 + n % 7, 3);
    }
    let dest = 500u64.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1 << 63;
    let header = Header {
        hop_ttl: 200,
        payload_len: 64 + 16,
        event_count: 1,
        ..Header::default()
    };
    let route = RoutingHeader {
        ttl: 200,
        src_id: 7,
        dest_id: dest,
        ..RoutingHeader::default()
    };
    let mut datagram = route.to_bytes().to_vec();
    datagram.extend_from_slice(&header.to_bytes());
    datagram.resize(ROUTING_HEADER_LEN + HEADER_LEN + 64 + 16, 0xAB);
    let fresh = datagram.clone();

    c.bench_function("relay/decide_and_rewrite_64b", |b| {
        b.iter(|| {
            // Put the three hop bytes back so every iteration does the same work.
            datagram[2] = fresh[2];
            datagram[3] = fresh[3];
            datagram[ROUTING_HEADER_LEN + 6] = fresh[ROUTING_HEADER_LEN + 6];
            let d = relay(black_box(&mut datagram), local, from, black_box(&table));
            debug_assert!(matches!(d, RelayDecision::Forward { .. }));
            d
        })
    });
}

criterion_group!(benches, bench_relay);
criterion_main!(benches);
