//! Malformed membership messages: every truncation length of every message kind, byte flips
//! and arbitrary bytes are refused by the parser without a panic; over real UDP, each one sent
//! on the control stream is counted and dropped (no ack), and the publisher keeps serving.

mod membership_support;

use std::time::Duration;

use membership_support::{WAIT, link, name, node, pubsub, roster, wait_for};
use net::channel::ChannelRegistry;
use net::identity::EntityId;
use net::membership::{
    AckStatus, CONTROL_STREAM, Credential, DenyReason, Message, SUBPROTOCOL_MEMBERSHIP, WireError,
};
use net::mesh::stream::{StreamMode, StreamTag};
use proptest::prelude::*;

fn samples() -> Vec<Message> {
    let ch = name("sensors/lidar/front");
    vec![
        Message::Subscribe {
            request_id: 1,
            channel: ch.clone(),
            group: None,
            credential: None,
        },
        Message::Subscribe {
            request_id: 2,
            channel: ch.clone(),
            group: Some("workers-1".into()),
            credential: Some(Credential {
                subject: EntityId([7; 32]),
                chain: vec![0x42; 202],
            }),
        },
        Message::Unsubscribe {
            request_id: 3,
            channel: ch.clone(),
        },
        Message::Ack {
            request_id: 4,
            channel: ch.hash(),
            status: AckStatus::Subscribed,
        },
        Message::Ack {
            request_id: 5,
            channel: ch.hash(),
            status: AckStatus::Denied(DenyReason::SelfSignedNonRoot),
        },
    ]
}

#[test]
fn every_truncation_is_refused() {
    for m in samples() {
        let bytes = m.encode().unwrap();
        assert_eq!(Message::parse(&bytes).unwrap(), m);
        for len in 0..bytes.len() {
            let e = Message::parse(&bytes[..len]).expect_err("a truncated message parsed");
            assert!(
                matches!(
                    e,
                    WireError::Truncated { .. } | WireError::BadChannel | WireError::BadGroup
                ),
                "{m:?} cut at {len}: {e:?}"
            );
        }
        let mut long = bytes.clone();
        long.push(0);
        assert!(matches!(
            Message::parse(&long),
            Err(WireError::TrailingBytes { .. })
        ));
    }
}

#[test]
fn field_errors_have_their_own_kind() {
    let ack = samples()[3].encode().unwrap();
    let mut b = ack.clone();
    b[18] = 9;
    assert_eq!(Message::parse(&b).unwrap_err().kind(), "bad_status");
    let mut b = ack.clone();
    b[19] = 1; // a reason with "subscribed"
    assert_eq!(Message::parse(&b).unwrap_err().kind(), "bad_status");
    let mut b = ack.clone();
    b[10..18].copy_from_slice(&0u64.to_le_bytes());
    assert_eq!(Message::parse(&b).unwrap_err().kind(), "bad_channel_hash");
    let sub = samples()[1].encode().unwrap();
    let mut b = sub.clone();
    b[1] |= 0x80;
    assert_eq!(Message::parse(&b).unwrap_err().kind(), "bad_flags");
    let mut b = sub;
    let g = 10 + 1 + "sensors/lidar/front".len() + 1;
    b[g] = b' ';
    assert_eq!(Message::parse(&b).unwrap_err().kind(), "bad_group");
    assert_eq!(
        Message::parse(&[0u8; 2000]).unwrap_err().kind(),
        "too_large"
    );
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(m) = Message::parse(&bytes) {
            prop_assert_eq!(m.encode().unwrap(), bytes);
        }
    }

    #[test]
    fn flipped_bytes_never_panic(which in 0usize..5, at in 0usize..300, bit in 0u8..8) {
        let mut b = samples()[which].encode().unwrap();
        let at = at % b.len();
        b[at] ^= 1 << bit;
        if let Ok(m) = Message::parse(&b) {
            prop_assert_eq!(m.encode().unwrap(), b);
        }
    }
}

#[test]
fn malformed_messages_over_udp_are_counted_and_dropped() {
    let (p, a) = (node(61), node(62));
    link(&a, &p);
    let pp = pubsub(&p, roster(ChannelRegistry::new(), None));
    // A sends raw bytes on the control stream (no PubSub on A, so its node events stay here).
    let tag = StreamTag {
        subprotocol_id: SUBPROTOCOL_MEMBERSHIP,
        channel_hash: 0,
    };
    a.open_stream_tagged(p.node_id(), CONTROL_STREAM, StreamMode::Reliable, tag)
        .unwrap();
    // A stream's tag is fixed when it is opened: another tag (or none) is a conflict.
    for other in [
        StreamTag::default(),
        StreamTag {
            channel_hash: 7,
            ..tag
        },
    ] {
        assert!(matches!(
            a.open_stream_tagged(p.node_id(), CONTROL_STREAM, StreamMode::Reliable, other),
            Err(net::mesh::session::MeshError::StreamModeConflict { .. })
        ));
    }
    let mut sent = 0u64;
    for m in samples() {
        let bytes = m.encode().unwrap();
        for len in 0..bytes.len() {
            a.send(p.node_id(), CONTROL_STREAM, &bytes[..len]).unwrap();
            sent += 1;
        }
    }
    wait_for("every malformed message counted", || {
        pp.stats().malformed_total() == sent
    });
    let s = pp.stats();
    assert_eq!(s.acks_sent, 0, "nothing malformed is answered");
    assert_eq!(s.control_received, 0);
    assert!(s.malformed["truncated"] > 0);
    assert_eq!(pp.with_roster(|r| r.stats().admitted), 0);
    // The publisher still serves a well-formed subscribe from the same peer.
    let ok = Message::Subscribe {
        request_id: 99,
        channel: name("after/garbage"),
        group: None,
        credential: None,
    };
    a.send(p.node_id(), CONTROL_STREAM, &ok.encode().unwrap())
        .unwrap();
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match a.recv(left) {
            Ok(net::mesh::session::Event::Data(d)) if d.stream_id == CONTROL_STREAM => {
                let acks: Vec<Message> = d.events().map(|e| Message::parse(e).unwrap()).collect();
                assert_eq!(
                    acks,
                    vec![Message::Ack {
                        request_id: 99,
                        channel: name("after/garbage").hash(),
                        status: AckStatus::Subscribed
                    }],
                    "exactly one ack, for the good message"
                );
                break;
            }
            Ok(_) => {}
            Err(e) => panic!("no ack: {e}"),
        }
    }
    // Events on a membership channel stream nobody subscribed to are unsolicited, not delivered.
    let ch = name("never/subscribed");
    a.open_stream_tagged(
        p.node_id(),
        ch.hash().get(),
        StreamMode::FireAndForget,
        StreamTag {
            subprotocol_id: SUBPROTOCOL_MEMBERSHIP,
            channel_hash: ch.hint().get(),
        },
    )
    .unwrap();
    a.send(p.node_id(), ch.hash().get(), b"unasked").unwrap();
    wait_for("unsolicited counted", || pp.stats().unsolicited == 1);
    assert!(pp.recv(Duration::from_millis(50)).is_none());
}
