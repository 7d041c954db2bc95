//! Membership and fan-out between real `MeshNode`s on 127.0.0.1 (one process): publish reaches
//! every subscriber exactly once, unsubscribe stops delivery, a failed peer is evicted, a queue
//! group delivers each event to exactly one member, and the membership traffic carries its own
//! subprotocol id. Every wait is bounded.

mod membership_support;

use std::collections::HashSet;
use std::time::Duration;

use membership_support::{collect, link, name, node, pubsub, roster, wait_for};
use net::channel::{ChannelConfig, ChannelRegistry, Reliability};
use net::membership::{AckStatus, SUBPROTOCOL_MEMBERSHIP};
use net::mesh::session::Event;
use net::mesh::stream::StreamTag;

fn reliable_registry(channel: &str) -> ChannelRegistry {
    let mut reg = ChannelRegistry::new();
    reg.register(
        name(channel),
        ChannelConfig {
            reliability: Reliability::Reliable,
            ..ChannelConfig::default()
        },
    )
    .unwrap();
    reg
}

fn index(payload: &[u8]) -> u32 {
    u32::from_le_bytes(payload[..4].try_into().unwrap())
}

#[test]
fn publish_reaches_every_subscriber_once_and_unsubscribe_stops_it() {
    let (p, a, b) = (node(1), node(2), node(3));
    link(&a, &p);
    link(&b, &p);
    let news = name("open/news");
    let pp = pubsub(&p, roster(reliable_registry("open/news"), None));
    let pa = pubsub(&a, roster(ChannelRegistry::new(), None));
    let pb = pubsub(&b, roster(ChannelRegistry::new(), None));
    for ps in [&pa, &pb] {
        assert_eq!(
            ps.subscribe(p.node_id(), &news, None, None, membership_support::WAIT),
            Ok(AckStatus::Subscribed)
        );
    }
    let members: HashSet<_> = pp
        .with_roster(|r| r.members(news.hash()))
        .into_iter()
        .collect();
    assert_eq!(
        members,
        HashSet::from([(a.node_id(), None), (b.node_id(), None)])
    );

    const N: u32 = 2000;
    let events: Vec<Vec<u8>> = (0..N)
        .map(|i| {
            let mut e = i.to_le_bytes().to_vec();
            e.extend_from_slice(&[0xAB; 60]);
            e
        })
        .collect();
    for chunk in events.chunks(50) {
        let refs: Vec<&[u8]> = chunk.iter().map(Vec::as_slice).collect();
        let report = pp.publish_batch(&news, &refs).unwrap();
        let got: HashSet<_> = report.delivered.iter().copied().collect();
        assert_eq!(got, HashSet::from([a.node_id(), b.node_id()]));
        assert!(report.failed.is_empty() && report.dropped.is_empty());
    }
    for (ps, who) in [(&pa, "a"), (&pb, "b")] {
        let got = collect(ps, N as usize, Duration::from_millis(500));
        assert_eq!(got.len(), N as usize, "{who} got every event");
        for (i, e) in got.iter().enumerate() {
            assert_eq!(index(&e.payload), i as u32, "{who}: once each, in order");
            assert_eq!(e.channel, news);
            assert_eq!(e.publisher, p.node_id());
        }
        assert!(
            ps.recv(Duration::from_millis(200)).is_none(),
            "{who}: no duplicates"
        );
    }

    // A leaves: the next publishes reach only B.
    assert_eq!(
        pa.unsubscribe(p.node_id(), &news, membership_support::WAIT),
        Ok(AckStatus::Unsubscribed)
    );
    assert_eq!(
        pp.with_roster(|r| r.members(news.hash())),
        vec![(b.node_id(), None)]
    );
    for i in 0..10u32 {
        let report = pp.publish(&news, &i.to_le_bytes()).unwrap();
        assert_eq!(report.delivered, vec![b.node_id()]);
    }
    assert_eq!(collect(&pb, 10, Duration::from_millis(500)).len(), 10);
    assert!(
        pa.recv(Duration::from_millis(300)).is_none(),
        "A gets nothing after leaving"
    );
    assert_eq!(pa.stats().unsolicited, 0, "nothing was even sent to A");
    assert_eq!(
        pa.unsubscribe(p.node_id(), &news, membership_support::WAIT),
        Ok(AckStatus::NotSubscribed)
    );
    // The driver counts an ack after its send returns, so A may hold the last ack before the
    // publisher's counter moves: wait (bounded) for the count instead of racing it.
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while pp.stats().acks_sent < 4 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let s = pp.stats();
    assert_eq!(s.malformed_total(), 0);
    assert_eq!(s.acks_sent, 4);
    assert_eq!(pp.with_roster(|r| r.stats().unsubscribed), 1);
}

#[test]
fn membership_traffic_carries_subprotocol_0x0a00_and_the_channel_hint() {
    // Without a PubSub on the subscriber, read its node directly to see the stream tags.
    let (p, a) = (node(11), node(12));
    link(&a, &p);
    let news = name("tagged/news");
    let pp = pubsub(&p, roster(reliable_registry("tagged/news"), None));
    // Subscribe by hand: open the control stream and send the encoded message.
    let msg = net::membership::Message::Subscribe {
        request_id: 42,
        channel: news.clone(),
        group: None,
        credential: None,
    };
    let control = StreamTag {
        subprotocol_id: SUBPROTOCOL_MEMBERSHIP,
        channel_hash: 0,
    };
    a.open_stream_tagged(
        p.node_id(),
        net::membership::CONTROL_STREAM,
        net::mesh::stream::StreamMode::Reliable,
        control,
    )
    .unwrap();
    a.send(
        p.node_id(),
        net::membership::CONTROL_STREAM,
        &msg.encode().unwrap(),
    )
    .unwrap();
    let mut seen_ack = false;
    let mut seen_event = false;
    let deadline = std::time::Instant::now() + membership_support::WAIT;
    while !(seen_ack && seen_event) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match a.recv(left) {
            Ok(Event::Data(d)) if d.stream_id == net::membership::CONTROL_STREAM => {
                assert_eq!(d.tag, control);
                let ack = net::membership::Message::parse(d.events().next().unwrap()).unwrap();
                assert_eq!(
                    ack,
                    net::membership::Message::Ack {
                        request_id: 42,
                        channel: news.hash(),
                        status: AckStatus::Subscribed
                    }
                );
                seen_ack = true;
                pp.publish(&news, b"tagged").unwrap();
            }
            Ok(Event::Data(d)) => {
                assert_eq!(d.stream_id, news.hash().get());
                assert_eq!(
                    d.tag,
                    StreamTag {
                        subprotocol_id: SUBPROTOCOL_MEMBERSHIP,
                        channel_hash: news.hint().get()
                    }
                );
                assert_eq!(d.events().collect::<Vec<_>>(), vec![&b"tagged"[..]]);
                seen_event = true;
            }
            Ok(_) => {}
            Err(e) => panic!("no ack/event before the deadline: {e}"),
        }
    }
}

#[test]
fn a_failed_peer_is_evicted_from_the_roster() {
    let (p, a, b) = (node(21), node(22), node(23));
    link(&a, &p);
    link(&b, &p);
    let ch = name("fleet/status");
    let pp = pubsub(&p, roster(ChannelRegistry::new(), None));
    let pa = pubsub(&a, roster(ChannelRegistry::new(), None));
    let pb = pubsub(&b, roster(ChannelRegistry::new(), None));
    for ps in [&pa, &pb] {
        assert_eq!(
            ps.subscribe(p.node_id(), &ch, Some("g1"), None, membership_support::WAIT),
            Ok(AckStatus::Subscribed)
        );
    }
    let other = name("fleet/other");
    assert_eq!(
        pb.subscribe(p.node_id(), &other, None, None, membership_support::WAIT),
        Ok(AckStatus::Subscribed)
    );
    assert_eq!(pp.with_roster(|r| r.members(ch.hash()).len()), 2);
    // B dies (no goodbye): after the detector's 800 ms of silence it is evicted everywhere.
    pb.stop();
    b.shutdown();
    wait_for("B evicted", || {
        pp.with_roster(|r| !r.is_member(ch.hash(), b.node_id()))
    });
    assert_eq!(
        pp.with_roster(|r| r.members(ch.hash())),
        vec![(a.node_id(), Some("g1".to_string()))]
    );
    assert!(pp.with_roster(|r| r.members(other.hash()).is_empty()));
    assert_eq!(pp.stats().peers_evicted, 1);
    assert_eq!(pp.with_roster(|r| r.stats().evicted), 2, "two rosters");
    // Every publish now goes to A, the group's only member.
    for i in 0..5u32 {
        let r = pp.publish(&ch, &i.to_le_bytes()).unwrap();
        assert_eq!(r.delivered, vec![a.node_id()]);
    }
    assert_eq!(collect(&pa, 5, Duration::from_millis(500)).len(), 5);
}

#[test]
fn a_queue_group_delivers_each_event_to_exactly_one_member() {
    let (p, a, b, c) = (node(31), node(32), node(33), node(34));
    for s in [&a, &b, &c] {
        link(s, &p);
    }
    let jobs = name("work/jobs");
    let pp = pubsub(&p, roster(reliable_registry("work/jobs"), None));
    let (pa, pb, pc) = (
        pubsub(&a, roster(ChannelRegistry::new(), None)),
        pubsub(&b, roster(ChannelRegistry::new(), None)),
        pubsub(&c, roster(ChannelRegistry::new(), None)),
    );
    for ps in [&pa, &pb] {
        assert_eq!(
            ps.subscribe(
                p.node_id(),
                &jobs,
                Some("workers"),
                None,
                membership_support::WAIT
            ),
            Ok(AckStatus::Subscribed)
        );
    }
    assert_eq!(
        pc.subscribe(p.node_id(), &jobs, None, None, membership_support::WAIT),
        Ok(AckStatus::Subscribed)
    );
    const N: u32 = 200;
    for i in 0..N {
        let r = pp.publish(&jobs, &i.to_le_bytes()).unwrap();
        assert_eq!(r.delivered.len(), 2, "one worker and the plain member");
        assert!(r.delivered.contains(&c.node_id()));
    }
    let got_a: Vec<u32> = collect(&pa, N as usize, Duration::from_millis(400))
        .iter()
        .map(|e| index(&e.payload))
        .collect();
    let got_b: Vec<u32> = collect(&pb, N as usize, Duration::from_millis(400))
        .iter()
        .map(|e| index(&e.payload))
        .collect();
    let got_c = collect(&pc, N as usize, Duration::from_millis(400));
    assert_eq!(got_c.len(), N as usize, "the plain member gets everything");
    let sa: HashSet<u32> = got_a.iter().copied().collect();
    let sb: HashSet<u32> = got_b.iter().copied().collect();
    assert_eq!(sa.len(), got_a.len(), "no duplicate at A");
    assert_eq!(sb.len(), got_b.len(), "no duplicate at B");
    assert!(sa.is_disjoint(&sb), "no event reached both workers");
    assert_eq!(
        sa.len() + sb.len(),
        N as usize,
        "every event reached one worker"
    );
    // Round robin: the two members alternate.
    assert_eq!((sa.len(), sb.len()), (N as usize / 2, N as usize / 2));
}
