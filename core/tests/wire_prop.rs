//! Property tests of the mesh wire codecs: round trips for every valid value, and totality
//! (no panic, a typed error or a value) for arbitrary bytes.

use net::mesh::wire::{
    Frame, FrameWriter, HEADER_LEN, Header, HeaderView, ROUTING_HEADER_LEN, RoutingHeader, aad,
    classify, flags, frag_flags, parse_datagram, route_flags, split_packet,
};
use proptest::prelude::*;

fn valid_header() -> impl Strategy<Value = Header> {
    (
        (
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
            any::<bool>(),
            any::<bool>(),
        ),
        (
            any::<u16>(),
            any::<u16>(),
            any::<[u8; 12]>(),
            any::<u64>(),
            any::<u64>(),
            any::<u64>(),
        ),
        (
            any::<u32>(),
            any::<u32>(),
            any::<u16>(),
            any::<u16>(),
            any::<u16>(),
            any::<u16>(),
        ),
    )
        .prop_map(
            |(
                (fl, priority, ttl, count, fragment, last),
                (sp, ch, nonce, sess, stream, seq),
                (subnet, origin, fid, foff, plen, ec),
            )| {
                let hop_ttl = ttl.max(count);
                let hop_count = count.min(hop_ttl);
                let (frag, fragment_id, fragment_offset) = if fragment {
                    (
                        frag_flags::FRAGMENT | if last { frag_flags::LAST } else { 0 },
                        fid,
                        foff,
                    )
                } else {
                    (0, 0, 0)
                };
                Header {
                    flags: fl & flags::KNOWN,
                    priority,
                    hop_ttl,
                    hop_count,
                    frag_flags: frag,
                    subprotocol_id: sp,
                    channel_hash: ch,
                    nonce,
                    session_id: sess,
                    stream_id: stream,
                    sequence: seq,
                    subnet_id: subnet,
                    origin_hash: origin,
                    fragment_id,
                    fragment_offset,
                    payload_len: plen % 2048,
                    event_count: ec,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn header_round_trip(h in valid_header()) {
        let mut datagram = h.to_bytes().to_vec();
        datagram.resize(HEADER_LEN + usize::from(h.payload_len), 0xAB);
        prop_assert_eq!(Header::parse(&datagram), Ok(h));
        let view = HeaderView::parse(&datagram).unwrap();
        prop_assert_eq!(view.to_header(), h);
        prop_assert_eq!(view.as_bytes(), &h.to_bytes());
        let (back, payload) = split_packet(&datagram).unwrap();
        prop_assert_eq!(back, h);
        prop_assert_eq!(payload.len(), usize::from(h.payload_len));
    }

    #[test]
    fn aad_ignores_nonce_and_hop_count_only(h in valid_header(), nonce in any::<[u8; 12]>(), byte in 0usize..64, bit in 0u8..8) {
        let a = h.to_bytes();
        let mut moved = h;
        moved.nonce = nonce;
        moved.hop_count = moved.hop_count.wrapping_add(1);
        prop_assert_eq!(aad(&a), aad(&moved.to_bytes()));
        // Flipping any other header bit changes the AAD.
        let mut flipped = a;
        flipped[byte] ^= 1 << bit;
        let covered = !(12..24).contains(&byte) && byte != 6;
        prop_assert_eq!(aad(&a) != aad(&flipped), covered);
    }

    #[test]
    fn routing_round_trip(ttl in any::<u8>(), hop in any::<u8>(), fl in any::<u8>(), src in any::<u32>(), dest in any::<u64>()) {
        let r = RoutingHeader { ttl, hop_count: hop, flags: fl & route_flags::KNOWN, src_id: src, dest_id: dest };
        prop_assert_eq!(RoutingHeader::parse(&r.to_bytes()), Ok(r));
    }

    #[test]
    fn frame_round_trip(events in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..30)) {
        let mut buf = vec![0u8; 2048];
        let mut w = FrameWriter::new(&mut buf);
        for e in &events {
            w.push(e).unwrap();
        }
        let (len, count) = (w.len(), w.count());
        let frame = Frame::parse(&buf[..len], count).unwrap();
        let back: Vec<Vec<u8>> = frame.iter().map(<[u8]>::to_vec).collect();
        prop_assert_eq!(back, events);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200), count in any::<u16>()) {
        // The borrowed view and the owned parse agree on every input, errors included.
        prop_assert_eq!(HeaderView::parse(&bytes).map(|v| v.to_header()), Header::parse(&bytes));
        let _ = split_packet(&bytes);
        let _ = RoutingHeader::parse(&bytes);
        let _ = classify(&bytes);
        let _ = parse_datagram(&bytes);
        if let Ok(frame) = Frame::parse(&bytes, count) {
            prop_assert_eq!(frame.iter().count(), usize::from(count));
        }
    }

    #[test]
    fn mutated_valid_datagrams_never_panic(h in valid_header(), routed in any::<bool>(), flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6), cut in any::<usize>()) {
        let mut h = h;
        h.payload_len %= 64;
        let mut d = Vec::new();
        if routed {
            d.extend(RoutingHeader { ttl: 4, hop_count: 1, flags: 0, src_id: 1, dest_id: 2 }.to_bytes());
        }
        d.extend(h.to_bytes());
        d.resize(d.len() + usize::from(h.payload_len), 7);
        let base = if routed { ROUTING_HEADER_LEN } else { 0 };
        prop_assert!(parse_datagram(&d).is_ok());
        prop_assert_eq!(parse_datagram(&d).unwrap().header, h);
        for (at, x) in flips {
            let i = at % d.len();
            d[i] ^= x;
        }
        d.truncate(cut % (d.len() + 1));
        let _ = parse_datagram(&d);
        let inner = d.get(base..).unwrap_or(&[]);
        prop_assert_eq!(HeaderView::parse(inner).map(|v| v.to_header()), Header::parse(inner));
    }
}

#[test]
fn frame_writer_refuses_what_does_not_fit() {
    let mut buf = [0u8; 10];
    let mut w = FrameWriter::new(&mut buf);
    assert!(w.fits(8));
    w.push(b"12345678").unwrap();
    assert!(!w.fits(0));
    assert_eq!(w.push(b"").unwrap_err().kind(), "frame_full");
    assert_eq!(w.count(), 1);
    let big = vec![0u8; 70_000];
    let mut large = vec![0u8; 80_000];
    assert_eq!(
        FrameWriter::new(&mut large).push(&big).unwrap_err().kind(),
        "event_too_large"
    );
}
