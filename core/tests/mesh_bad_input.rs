//! Bad input to the sans-IO endpoint: truncated packets, wrong magic and version, oversized
//! lengths, replayed packets, handshakes with the wrong PSK, a forged identity signature, an
//! initiator not on the allow-list, a card that does not verify, and arbitrary bytes. All are
//! dropped and counted under their reason, none is delivered, nothing panics.

mod mesh_support;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mesh_support::{Faults, PSK, Sim, config, event, identity};
use net::mesh::handshake::HandshakeConfig;
use net::mesh::session::{Endpoint, EndpointConfig, Event, MeshError, handshake_packet};
use net::mesh::stream::StreamMode;
use proptest::prelude::*;

const STEP: Duration = Duration::from_micros(500);

fn pair() -> Sim {
    let mut sim = Sim::new(
        vec![Endpoint::new(config(1)), Endpoint::new(config(2))],
        Faults::default(),
        0,
    );
    sim.connect(0, 1, 1);
    let (a, b) = (sim.id(0), sim.id(1));
    assert!(sim.run_until(Duration::from_secs(2), STEP, |s| {
        s.nodes[0].is_connected(b) && s.nodes[1].is_connected(a)
    }));
    sim
}

fn addr() -> SocketAddr {
    "10.9.9.9:9".parse().unwrap()
}

/// Feeds `bytes` to node 1 and returns the reasons its drop counters grew by.
fn feed(sim: &mut Sim, bytes: &[u8]) -> Vec<&'static str> {
    let before = sim.nodes[1].counters().clone();
    let mut data = bytes.to_vec();
    let now = sim.now;
    sim.nodes[1].handle_datagram(now, addr(), &mut data);
    let after = sim.nodes[1].counters();
    assert_eq!(after.rx_datagrams, before.rx_datagrams + 1);
    assert_eq!(
        after.rx_accepted + after.rx_dropped,
        after.rx_datagrams,
        "every datagram accounted for"
    );
    after
        .drops
        .iter()
        .filter(|(k, v)| before.dropped(k) != **v)
        .map(|(k, _)| *k)
        .collect()
}

#[test]
fn malformed_packets_are_dropped_with_their_reason() {
    let mut sim = pair();
    while sim.nodes[1].poll_event().is_some() {}
    let mut h = [0u8; 64];
    h[..3].copy_from_slice(&[0x45, 0x4E, 1]);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (vec![], "truncated"),
        (vec![0x45], "truncated"),
        (h[..63].to_vec(), "truncated"),
        (vec![0xFF, 0xFF, 1, 0], "bad_magic"),
        (
            {
                let mut x = h;
                x[2] = 2;
                x.to_vec()
            },
            "unsupported_version",
        ),
        (
            {
                let mut x = h;
                x[3] = 0x80;
                x.to_vec()
            },
            "reserved_bits",
        ),
        (
            {
                let mut x = h;
                x[6] = 1;
                x.to_vec()
            },
            "hop_limit_exceeded",
        ),
        (
            {
                let mut x = h;
                x[60] = 200;
                x.to_vec()
            },
            "payload_beyond_datagram",
        ),
        (
            {
                let mut x = h.to_vec();
                x.push(0);
                x
            },
            "unknown_session",
        ),
        (h.to_vec(), "unknown_session"),
        (
            b"RT\x05\x00\x00\x00rest-of-a-routed-packet".to_vec(),
            "routed_from_unknown",
        ),
        // A handshake packet with a non-zero session id, and one with a garbage message.
        (
            {
                let mut x = handshake_packet(&[1; 170]).unwrap();
                x[24] = 1;
                x
            },
            "bad_handshake_header",
        ),
        (
            handshake_packet(&[1; 170]).unwrap(),
            "handshake_wrong_responder",
        ),
        (handshake_packet(&[1; 169]).unwrap(), "handshake_malformed"),
        (handshake_packet(&[7; 10]).unwrap(), "handshake_malformed"),
        (handshake_packet(&[2; 162]).unwrap(), "handshake_unexpected"),
    ];
    for (bytes, reason) in cases {
        assert_eq!(feed(&mut sim, &bytes), vec![reason], "{bytes:02x?}");
    }
    assert_eq!(sim.nodes[1].pending_events(), 0);
}

#[test]
fn replayed_and_tampered_data_packets_are_refused() {
    let mut sim = pair();
    let (a, b) = (sim.id(0), sim.id(1));
    while sim.nodes[1].poll_event().is_some() {}
    sim.nodes[0]
        .open_stream(b, 1, StreamMode::FireAndForget)
        .unwrap();
    let now = sim.now;
    sim.nodes[0].send(now, b, 1, &event(1, 0)).unwrap();
    sim.nodes[0].flush(now);
    let packet = sim.nodes[0].poll_transmit().expect("data packet").data;
    assert_eq!(feed(&mut sim, &packet), Vec::<&str>::new());
    assert!(matches!(sim.nodes[1].poll_event(), Some(Event::Data(d)) if d.peer == a));
    // The same packet again: replayed.
    assert_eq!(feed(&mut sim, &packet), vec!["replayed"]);
    // A fresh packet with one ciphertext bit flipped, or a header field changed.
    sim.nodes[0].send(now, b, 1, &event(1, 1)).unwrap();
    sim.nodes[0].flush(now);
    let packet = sim.nodes[0].poll_transmit().unwrap().data;
    let mut flipped = packet.clone();
    flipped[70] ^= 1;
    assert_eq!(feed(&mut sim, &flipped), vec!["auth_failed"]);
    let mut moved = packet.clone();
    moved[32] ^= 1; // stream id
    assert_eq!(feed(&mut sim, &moved), vec!["auth_failed"]);
    let mut bad_nonce = packet.clone();
    bad_nonce[12] = 1;
    assert_eq!(feed(&mut sim, &bad_nonce), vec!["bad_nonce"]);
    assert_eq!(
        sim.nodes[1].pending_events(),
        0,
        "nothing tampered was delivered"
    );
    // The genuine one still opens (the forgeries did not move the replay window).
    assert_eq!(feed(&mut sim, &packet), Vec::<&str>::new());
    assert_eq!(sim.nodes[1].pending_events(), 1);
}

fn run_handshake(initiator: EndpointConfig, responder: EndpointConfig) -> (Sim, bool) {
    let mut sim = Sim::new(
        vec![Endpoint::new(initiator), Endpoint::new(responder)],
        Faults::default(),
        0,
    );
    sim.connect(0, 1, 1);
    let b = sim.id(1);
    let ok = sim.run_until(Duration::from_millis(1200), STEP, |s| {
        s.nodes[0].is_connected(b)
    });
    (sim, ok)
}

#[test]
fn wrong_psk_is_refused_and_counted() {
    let mut wrong = config(1);
    wrong.handshake = HandshakeConfig::new(identity(1), [0x11; 32]);
    let (sim, ok) = run_handshake(wrong, config(2));
    assert!(!ok);
    let c = sim.nodes[1].counters();
    // The first Init and its retries (every 500 ms) are all refused.
    assert!(c.dropped("handshake_decrypt") >= 2, "{:?}", c.drops);
    assert_eq!(c.sessions_established, 0);
    assert_eq!(sim.nodes[1].session_count(), 0);
}

#[test]
fn allow_list_refuses_other_initiators() {
    let mut only3 = config(2);
    only3.handshake.allow = Some(HashSet::from([identity(3).node_id()]));
    let (sim, ok) = run_handshake(config(1), only3);
    assert!(!ok);
    assert!(sim.nodes[1].counters().dropped("handshake_not_allowed") >= 1);
    let mut only1 = config(2);
    only1.handshake.allow = Some(HashSet::from([identity(1).node_id()]));
    let (_, ok) = run_handshake(config(1), only1);
    assert!(ok);
}

#[test]
fn initiator_gives_up_with_connect_failed() {
    let mut quick = config(1);
    quick.handshake.give_up_after = Duration::from_millis(800);
    let mut wrong = config(2);
    wrong.handshake.psk = [0x22; 32];
    let (mut sim, ok) = run_handshake(quick, wrong);
    assert!(!ok);
    let b = sim.id(1);
    let mut failed = None;
    while let Some(ev) = sim.nodes[0].poll_event() {
        if let Event::ConnectFailed { peer, error } = ev {
            failed = Some((peer, error.kind()));
        }
    }
    assert_eq!(failed, Some((b, "timed_out")));
    assert_eq!(sim.nodes[0].counters().handshakes_failed, 1);
}

#[test]
fn forged_card_is_refused_before_dialling() {
    let mut ep = Endpoint::new(config(1));
    let mut card = identity(2).card();
    card.static_key = identity(3).static_public(); // someone else's key under node 2's name
    let r = ep.connect(Instant::now(), addr(), &card, 1);
    assert!(matches!(r, Err(MeshError::Identity(_))), "{r:?}");
    assert_eq!(ep.pending_transmits(), 0);
}

// An Init built by hand (as an attacker would): claims node `claimed`, carries `public`, and
// is signed by `signer`.
fn forged_init(claimed: u8, public: [u8; 32], signer: u8, responder: u8) -> Vec<u8> {
    let (from, to) = (identity(claimed).node_id(), identity(responder).node_id());
    let mut p = b"net-mesh/handshake/v1".to_vec();
    p.push(1);
    p.extend(from.0.to_le_bytes());
    p.extend(to.0.to_le_bytes());
    let rs = identity(responder).static_public();
    let mut hs = snow::Builder::new("Noise_NKpsk0_25519_ChaChaPoly_BLAKE2s".parse().unwrap())
        .psk(0, &PSK)
        .unwrap()
        .prologue(&p)
        .unwrap()
        .remote_public_key(&rs)
        .unwrap()
        .build_initiator()
        .unwrap();
    let ts = 5u64;
    let mut signed = b"net-mesh/hs-init/v1".to_vec();
    signed.extend(&p);
    signed.extend(rs);
    signed.extend(ts.to_le_bytes());
    let sig = identity(signer).sign(&signed);
    let mut payload = public.to_vec();
    payload.extend(ts.to_le_bytes());
    payload.extend(sig);
    let mut msg = vec![1, 1];
    msg.extend(from.0.to_le_bytes());
    msg.extend(to.0.to_le_bytes());
    let mut buf = [0u8; 512];
    let n = hs.write_message(&payload, &mut buf).unwrap();
    msg.extend(&buf[..n]);
    handshake_packet(&msg).unwrap()
}

#[test]
fn forged_identity_signature_is_refused_and_counted() {
    let mut sim = Sim::new(
        vec![Endpoint::new(config(1)), Endpoint::new(config(2))],
        Faults::default(),
        0,
    );
    // Node 1's name and key, node 3's signature.
    let forged = forged_init(1, identity(1).public_key(), 3, 2);
    assert_eq!(feed(&mut sim, &forged), vec!["handshake_bad_signature"]);
    // Node 1's name, node 3's key and signature.
    let forged = forged_init(1, identity(3).public_key(), 3, 2);
    assert_eq!(feed(&mut sim, &forged), vec!["handshake_identity_mismatch"]);
    assert_eq!(sim.nodes[1].session_count(), 0);
    assert_eq!(sim.nodes[1].pending_transmits(), 0, "no Reply to a forgery");
    // The honest hand-built Init is accepted (pins that the forgery differs only in identity).
    let honest = forged_init(1, identity(1).public_key(), 1, 2);
    assert_eq!(feed(&mut sim, &honest), Vec::<&str>::new());
    assert_eq!(sim.nodes[1].session_count(), 1);
    // Replaying it is answered with the same Reply and no second session.
    assert_eq!(feed(&mut sim, &honest), Vec::<&str>::new());
    assert_eq!(sim.nodes[1].session_count(), 1);
    assert_eq!(sim.nodes[1].counters().handshake_duplicates, 1);
}

#[test]
fn unconfirmed_responder_session_does_not_displace_a_live_one() {
    let mut sim = pair();
    let a = sim.id(0);
    let live = sim.nodes[1].current_session(a).unwrap();
    // A valid Init from node 1 with a newer timestamp arrives from elsewhere (e.g. replayed
    // by an attacker who recorded it): B answers, but keeps sending on the live session.
    let mut other = Endpoint::new(config(1));
    let card = sim.nodes[1].card();
    let now = sim.now;
    other.connect(now, sim.addrs[1], &card, 99).unwrap();
    let init = other.poll_transmit().unwrap().data;
    assert_eq!(feed(&mut sim, &init), Vec::<&str>::new());
    assert_eq!(sim.nodes[1].session_count(), 2);
    assert_eq!(sim.nodes[1].current_session(a), Some(live));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn arbitrary_bytes_never_panic_and_are_accounted(
        bytes in proptest::collection::vec(any::<u8>(), 0..300),
        magic in any::<bool>(),
        handshake in any::<bool>(),
    ) {
        let mut sim = Sim::new(
            vec![Endpoint::new(config(1)), Endpoint::new(config(2))],
            Faults::default(),
            0,
        );
        let mut data = bytes;
        if magic && data.len() >= 4 {
            data[..3].copy_from_slice(&[0x45, 0x4E, 1]);
            if handshake { data[3] = 1; }
        }
        let now = sim.now;
        sim.nodes[1].handle_datagram(now, addr(), &mut data);
        let c = sim.nodes[1].counters();
        prop_assert_eq!(c.rx_datagrams, 1);
        prop_assert_eq!(c.rx_accepted + c.rx_dropped, 1);
        prop_assert_eq!(sim.nodes[1].pending_events(), 0);
    }
}

#[test]
fn fire_and_forget_flood_is_bounded_by_the_event_queue() {
    let mut capped = config(2);
    capped.stream.max_queued_frames = 2;
    let mut sim = Sim::new(
        vec![Endpoint::new(config(1)), Endpoint::new(capped)],
        Faults::default(),
        0,
    );
    sim.connect(0, 1, 1);
    let b = sim.id(1);
    assert!(sim.run_until(Duration::from_secs(2), STEP, |s| s.nodes[0].is_connected(b)));
    sim.run_until(Duration::from_millis(5), STEP, |_| false);
    while sim.nodes[1].poll_event().is_some() {}
    sim.nodes[0]
        .open_stream(b, 4, StreamMode::FireAndForget)
        .unwrap();
    for frame in 0..4u64 {
        let now = sim.now;
        for k in 0..5 {
            sim.nodes[0]
                .send(now, b, 4, &event(4, frame * 5 + k))
                .unwrap();
        }
        sim.nodes[0].flush(now);
        sim.step(STEP);
    }
    sim.run_until(Duration::from_millis(5), STEP, |_| false);
    assert_eq!(sim.nodes[1].pending_events(), 2);
    assert_eq!(sim.nodes[1].counters().dropped("queue_full"), 2);
}

#[test]
fn a_peer_cannot_open_unbounded_streams() {
    let mut capped = config(2);
    capped.stream.max_streams = 3;
    let mut sim = Sim::new(
        vec![Endpoint::new(config(1)), Endpoint::new(capped)],
        Faults::default(),
        0,
    );
    sim.connect(0, 1, 1);
    let b = sim.id(1);
    assert!(sim.run_until(Duration::from_secs(2), STEP, |s| s.nodes[0].is_connected(b)));
    let now = sim.now;
    for stream in 10..15u64 {
        sim.nodes[0]
            .open_stream(b, stream, StreamMode::FireAndForget)
            .unwrap();
        sim.nodes[0]
            .send(now, b, stream, &event(stream, 0))
            .unwrap();
    }
    sim.nodes[0].flush(now);
    sim.run_until(Duration::from_millis(10), STEP, |_| false);
    let mut streams = HashSet::new();
    while let Some(ev) = sim.nodes[1].poll_event() {
        if let Event::Data(d) = ev {
            streams.insert(d.stream_id);
        }
    }
    assert_eq!(streams.len(), 3);
    assert_eq!(sim.nodes[1].counters().dropped("too_many_streams"), 2);
}

#[test]
fn sessions_per_peer_are_bounded() {
    use net::mesh::session::MAX_SESSIONS_PER_PEER;
    let mut sim = pair();
    let a = sim.id(0);
    let live = sim.nodes[1].current_session(a).unwrap();
    let card = sim.nodes[1].card();
    // Node 1's identity dials again and again (new timestamps) without ever confirming.
    for ts in 10..20u64 {
        let mut other = Endpoint::new(config(1));
        let now = sim.now;
        other.connect(now, sim.addrs[1], &card, ts).unwrap();
        let init = other.poll_transmit().unwrap().data;
        assert_eq!(feed(&mut sim, &init), Vec::<&str>::new());
        assert!(sim.nodes[1].session_count() <= MAX_SESSIONS_PER_PEER);
    }
    assert_eq!(sim.nodes[1].session_count(), MAX_SESSIONS_PER_PEER);
    assert_eq!(
        sim.nodes[1].counters().sessions_evicted,
        10 + 1 - MAX_SESSIONS_PER_PEER as u64
    );
    // The live session survives and still works.
    assert_eq!(sim.nodes[1].current_session(a), Some(live));
    let b = sim.id(1);
    sim.nodes[0]
        .open_stream(b, 1, StreamMode::Reliable)
        .unwrap();
    let now = sim.now;
    sim.nodes[0].send(now, b, 1, &event(1, 0)).unwrap();
    sim.nodes[0].flush(now);
    let mut got = false;
    sim.run_until(Duration::from_secs(1), STEP, |s| {
        while let Some(ev) = s.nodes[1].poll_event() {
            got |= matches!(ev, Event::Data(_));
        }
        got
    });
    assert!(got);
}
