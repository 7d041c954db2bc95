//! Mesh micro-benchmarks: header serialize + parse, and AEAD seal + open of a 64-byte payload.
//! Targets (issue 6): header round trip <= 5 ns, seal + open 64 B <= 600 ns.
//!
//! - `mesh/header_roundtrip`: `Header::encode`, then `HeaderView::parse` (all validation) and a
//!   read of every field (the `w5.header_roundtrip_ns` loop);
//! - `mesh/header_roundtrip_owned`: `Header::encode`, then `Header::parse` into an owned struct;
//! - `mesh/seal_open_64b`: `Sealer::seal` + `Opener::open` of a 64-byte payload, keys set up
//!   before the timer (the `w5.seal_open_64b_ns` loop).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use net::mesh::bench::sample_header;
use net::mesh::crypto::{Opener, Sealer, TAG_LEN};
use net::mesh::wire::{HEADER_LEN, Header, HeaderView};

fn header_roundtrip(c: &mut Criterion) {
    let mut header = sample_header();
    header.payload_len = 0;
    let mut buf = [0u8; HEADER_LEN];
    c.bench_function("mesh/header_roundtrip", |b| {
        b.iter(|| {
            black_box(&header).encode(black_box(&mut buf));
            HeaderView::parse(black_box(&buf)).map(|v| {
                v.sequence()
                    ^ v.session_id()
                    ^ v.stream_id()
                    ^ u64::from(v.flags())
                    ^ u64::from(v.priority())
                    ^ u64::from(v.hop_ttl())
                    ^ u64::from(v.hop_count())
                    ^ u64::from(v.frag_flags())
                    ^ u64::from(v.subprotocol_id())
                    ^ u64::from(v.channel_hash())
                    ^ u64::from(v.nonce()[11])
                    ^ u64::from(v.subnet_id())
                    ^ u64::from(v.origin_hash())
                    ^ u64::from(v.fragment_id())
                    ^ u64::from(v.fragment_offset())
                    ^ u64::from(v.payload_len())
                    ^ u64::from(v.event_count())
            })
        })
    });
    c.bench_function("mesh/header_roundtrip_owned", |b| {
        b.iter(|| {
            black_box(&header).encode(black_box(&mut buf));
            black_box(Header::parse(black_box(&buf)))
        })
    });
}

fn seal_open_64b(c: &mut Criterion) {
    let key = [0x42u8; 32];
    let (Ok(mut sealer), Ok(mut opener)) = (Sealer::new(&key), Opener::new(&key)) else {
        return;
    };
    let mut header = sample_header();
    header.hop_count = 0;
    let mut packet = [0u8; HEADER_LEN + 64 + TAG_LEN];
    c.bench_function("mesh/seal_open_64b", |b| {
        b.iter(|| {
            let n = sealer
                .seal(&mut header, black_box(&mut packet), 64)
                .unwrap_or(0);
            black_box(opener.open(black_box(&mut packet[..n])).is_ok())
        })
    });
}

criterion_group!(benches, header_roundtrip, seal_open_64b);
criterion_main!(benches);
