//! Fair scheduling across the streams of a peer (deficit round robin in
//! `Endpoint::poll_transmit`): a stream with a large backlog cannot starve another; bytes are
//! shared fairly between streams whose frames differ in size; acks are not held behind
//! data; everything still arrives exactly once and in order. Deterministic: the
//! order in which `poll_transmit` hands out datagrams is inspected directly (stream ids are in
//! the cleartext header, bytes 32-39).

mod mesh_support;

use std::time::Duration;

use mesh_support::{Sim, check_event, config, event};
use net::identity::NodeId;
use net::mesh::session::{Endpoint, Event, MeshError, Transmit};
use net::mesh::stream::StreamMode;
use net::mesh::wire::HEADER_LEN;

const FLOOD: u64 = 1;
const OTHER: u64 = 2;
const STEP: Duration = Duration::from_micros(200);

fn connected() -> (Sim, NodeId) {
    let mut sim = Sim::new(
        vec![Endpoint::new(config(1)), Endpoint::new(config(2))],
        Default::default(),
        1,
    );
    sim.connect(0, 1, 1);
    let (a, b) = (sim.id(0), sim.id(1));
    assert!(sim.run_until(Duration::from_secs(5), STEP, |s| {
        s.nodes[0].is_connected(b) && s.nodes[1].is_connected(a)
    }));
    // Let the initial heartbeat exchange settle so only data is left to schedule.
    sim.run_until(Duration::from_millis(20), STEP, |_| false);
    (sim, b)
}

fn stream_of(t: &Transmit) -> u64 {
    u64::from_le_bytes(t.data[32..40].try_into().unwrap())
}

/// Data packets have no flag but RELIABLE (byte 3).
fn is_data(t: &Transmit) -> bool {
    matches!(t.data[3], 0 | 0x04)
}

/// Hands A's datagrams to B in the order A produced them; returns the stream ids in that order.
fn drain_in_order(sim: &mut Sim) -> Vec<(u64, usize)> {
    let mut order = Vec::new();
    let from = sim.addrs[0];
    let now = sim.now;
    while let Some(mut t) = sim.nodes[0].poll_transmit() {
        if is_data(&t) {
            order.push((stream_of(&t), t.data.len() - HEADER_LEN - 16));
        }
        sim.nodes[1].handle_datagram(now, from, &mut t.data);
    }
    order
}

/// Queues events 0..`count` of `stream` (64 bytes each, see `event`) on A in one
/// `send_many`, asserting every one was accepted.
fn queue(a: &mut Endpoint, now: std::time::Instant, b: NodeId, stream: u64, count: u64) {
    let events: Vec<[u8; 64]> = (0..count).map(|i| event(stream, i)).collect();
    let (n, r) = a.send_many(now, b, stream, events.iter().map(|e| &e[..]));
    r.unwrap();
    assert_eq!(n as u64, count);
}

/// B's events: per stream, the event indexes in delivery order.
fn received(sim: &mut Sim) -> (Vec<u64>, Vec<u64>) {
    let (mut flood, mut other) = (Vec::new(), Vec::new());
    while let Some(ev) = sim.nodes[1].poll_event() {
        if let Event::Data(d) = ev {
            for e in d.events() {
                let (s, i) = check_event(e);
                match s {
                    FLOOD => flood.push(i),
                    OTHER => other.push(i),
                    s => panic!("stream {s}"),
                }
            }
        }
    }
    (flood, other)
}

#[test]
fn a_flooded_stream_does_not_starve_another() {
    for mode in [StreamMode::Reliable, StreamMode::FireAndForget] {
        let (mut sim, b) = connected();
        let now = sim.now;
        let a = &mut sim.nodes[0];
        a.open_stream(b, FLOOD, mode).unwrap();
        a.open_stream(b, OTHER, mode).unwrap();
        // 400 full frames of backlog on FLOOD (20 events of 64 bytes per frame) ...
        queue(a, now, b, FLOOD, 8_000);
        // ... then one event on OTHER.
        a.send(now, b, OTHER, &event(OTHER, 0)).unwrap();
        a.flush(now);
        assert!(a.pending_transmits() >= 401);
        let order = drain_in_order(&mut sim);
        assert_eq!(order.len(), 401, "{mode:?}");
        let pos = order.iter().position(|&(s, _)| s == OTHER).unwrap();
        assert!(
            pos <= 1,
            "{mode:?}: OTHER's event left as packet {pos} of {}",
            order.len()
        );
        let (f, o) = received(&mut sim);
        assert_eq!(o, vec![0], "{mode:?}");
        assert_eq!(
            f,
            (0..8_000).collect::<Vec<_>>(),
            "{mode:?}: FLOOD in order"
        );
    }
}

#[test]
fn two_backlogged_streams_alternate_and_bytes_are_shared_fairly() {
    let (mut sim, b) = connected();
    let now = sim.now;
    let a = &mut sim.nodes[0];
    a.open_stream(b, FLOOD, StreamMode::Reliable).unwrap();
    a.open_stream(b, OTHER, StreamMode::Reliable).unwrap();
    // FLOOD: 100 full frames (1,320 bytes each).
    queue(a, now, b, FLOOD, 2_000);
    a.flush(now);
    // OTHER: 400 one-event frames (66 bytes each), one flush per event.
    for i in 0..400 {
        a.send(now, b, OTHER, &event(OTHER, i)).unwrap();
        a.flush(now);
    }
    let order = drain_in_order(&mut sim);
    assert_eq!(order.len(), 500);
    // Between two FLOOD packets, OTHER sends frames worth about one quantum (1,320 bytes =
    // 20 of its 66-byte frames), never zero while it has a backlog.
    let mut run = 0usize;
    let mut runs = Vec::new();
    let mut other_left = 400usize;
    for &(s, len) in &order {
        if s == FLOOD {
            if other_left > 0 && !runs.is_empty() {
                assert!(run >= 1, "OTHER skipped a round: {runs:?}");
            }
            runs.push(run);
            run = 0;
        } else {
            assert_eq!(len, 66);
            run += 1;
            other_left -= 1;
        }
    }
    // Bytes sent by each stream over every prefix differ by at most two quanta while both
    // have a backlog.
    let (mut bf, mut bo) = (0i64, 0i64);
    for &(s, len) in &order {
        if s == FLOOD {
            bf += len as i64;
        } else {
            bo += len as i64;
        }
        if bo < 400 * 66 && bf < 100 * 1320 {
            assert!(
                (bf - bo).abs() <= 2 * 1320,
                "unfair: FLOOD {bf} bytes vs OTHER {bo}"
            );
        }
    }
    assert!(runs.iter().skip(1).take(15).all(|&r| r == 20), "{runs:?}");
    let (f, o) = received(&mut sim);
    assert_eq!(f, (0..2_000).collect::<Vec<_>>());
    assert_eq!(o, (0..400).collect::<Vec<_>>());
}

#[test]
fn acks_are_not_queued_behind_data() {
    let (mut sim, b) = connected();
    let a_id = sim.id(0);
    // B sends data to A so that A owes B acks, while A has a data backlog towards B.
    let now = sim.now;
    sim.nodes[1]
        .open_stream(a_id, OTHER, StreamMode::Reliable)
        .unwrap();
    for i in 0..40 {
        sim.nodes[1]
            .send(now, a_id, OTHER, &event(OTHER, i))
            .unwrap();
    }
    sim.nodes[1].flush(now);
    let a = &mut sim.nodes[0];
    a.open_stream(b, FLOOD, StreamMode::Reliable).unwrap();
    queue(a, now, b, FLOOD, 4_000);
    // B's two data frames reach A (ack due at once after the second: a gap-free stream acks
    // after 16 frames or 2 ms, so advance time past the ack delay).
    let b_addr = sim.addrs[1];
    while let Some(mut t) = sim.nodes[1].poll_transmit() {
        sim.nodes[0].handle_datagram(now, b_addr, &mut t.data);
    }
    let later = now + Duration::from_millis(5);
    sim.nodes[0].handle_timeout(later);
    let first = sim.nodes[0].poll_transmit().unwrap();
    assert_eq!(
        first.data[3] & 0x02,
        0x02,
        "the ack leaves before 200 data frames"
    );
    let mut got = 0;
    while let Some(ev) = sim.nodes[0].poll_event() {
        if let Event::Data(d) = ev {
            got += d.len();
        }
    }
    assert_eq!(got, 40);
}

/// Hands A's datagrams to B in order; returns (stream id, header priority byte) of each data
/// packet.
fn drain_with_priority(sim: &mut Sim) -> Vec<(u64, u8)> {
    let from = sim.addrs[0];
    let now = sim.now;
    let mut order = Vec::new();
    while let Some(mut t) = sim.nodes[0].poll_transmit() {
        if is_data(&t) {
            order.push((stream_of(&t), t.data[4]));
        }
        sim.nodes[1].handle_datagram(now, from, &mut t.data);
    }
    order
}

#[test]
fn a_more_urgent_stream_sends_before_a_backlogged_one() {
    for mode in [StreamMode::Reliable, StreamMode::FireAndForget] {
        let (mut sim, b) = connected();
        let now = sim.now;
        let a = &mut sim.nodes[0];
        a.open_stream(b, FLOOD, mode).unwrap();
        a.open_stream(b, OTHER, mode).unwrap();
        a.set_stream_priority(b, OTHER, 7).unwrap();
        // FLOOD queues 100 full frames first, then OTHER 50 full frames.
        queue(a, now, b, FLOOD, 2_000);
        queue(a, now, b, OTHER, 1_000);
        a.flush(now);
        let order = drain_with_priority(&mut sim);
        assert_eq!(order.len(), 150, "{mode:?}");
        // Every OTHER packet leaves before any FLOOD packet, and each carries its stream's
        // priority in header byte 4.
        let first_flood = order.iter().position(|&(s, _)| s == FLOOD).unwrap();
        assert_eq!(first_flood, 50, "{mode:?}: {order:?}");
        assert!(order[..50].iter().all(|&p| p == (OTHER, 7)), "{mode:?}");
        assert!(order[50..].iter().all(|&p| p == (FLOOD, 0)), "{mode:?}");
        // The less urgent stream still delivers everything, in order, once the urgent one
        // has drained.
        let (f, o) = received(&mut sim);
        assert_eq!(f, (0..2_000).collect::<Vec<_>>(), "{mode:?}");
        assert_eq!(o, (0..1_000).collect::<Vec<_>>(), "{mode:?}");
    }
}

#[test]
fn streams_of_equal_priority_still_take_turns() {
    let (mut sim, b) = connected();
    let now = sim.now;
    let a = &mut sim.nodes[0];
    for id in [FLOOD, OTHER] {
        a.open_stream(b, id, StreamMode::Reliable).unwrap();
        a.set_stream_priority(b, id, 3).unwrap();
        queue(a, now, b, id, 400);
    }
    a.flush(now);
    let order = drain_with_priority(&mut sim);
    assert_eq!(order.len(), 40);
    // Both have 20 full frames of the same size: deficit round robin alternates them.
    for pair in order.chunks(2) {
        assert_ne!(pair[0].0, pair[1].0, "{order:?}");
    }
    assert!(order.iter().all(|&(_, p)| p == 3));
    let (f, o) = received(&mut sim);
    assert_eq!(f, (0..400).collect::<Vec<_>>());
    assert_eq!(o, (0..400).collect::<Vec<_>>());
}

#[test]
fn a_priority_change_applies_to_frames_not_yet_sent() {
    let (mut sim, b) = connected();
    let now = sim.now;
    let a = &mut sim.nodes[0];
    a.open_stream(b, FLOOD, StreamMode::Reliable).unwrap();
    a.open_stream(b, OTHER, StreamMode::Reliable).unwrap();
    a.set_stream_priority(b, FLOOD, 9).unwrap();
    for id in [FLOOD, OTHER] {
        queue(a, now, b, id, 200);
    }
    a.flush(now);
    // Two FLOOD frames leave at priority 9; then FLOOD drops below OTHER.
    let mut head = Vec::new();
    let from = sim.addrs[0];
    while head.len() < 2 {
        let mut t = sim.nodes[0].poll_transmit().unwrap();
        if is_data(&t) {
            head.push((stream_of(&t), t.data[4]));
        }
        sim.nodes[1].handle_datagram(now, from, &mut t.data);
    }
    assert_eq!(head, vec![(FLOOD, 9), (FLOOD, 9)]);
    sim.nodes[0].set_stream_priority(b, OTHER, 10).unwrap();
    let rest = drain_with_priority(&mut sim);
    assert_eq!(rest.len(), 18);
    assert!(rest[..10].iter().all(|&p| p == (OTHER, 10)), "{rest:?}");
    assert!(rest[10..].iter().all(|&p| p == (FLOOD, 9)), "{rest:?}");
    let (f, o) = received(&mut sim);
    assert_eq!(f, (0..200).collect::<Vec<_>>());
    assert_eq!(o, (0..200).collect::<Vec<_>>());
}

#[test]
fn setting_the_priority_of_a_stream_that_is_not_open_is_refused() {
    let (mut sim, b) = connected();
    let a = &mut sim.nodes[0];
    let err = a.set_stream_priority(b, 77, 1).unwrap_err();
    assert!(
        matches!(err, MeshError::UnknownStream { stream_id: 77, .. }),
        "{err:?}"
    );
    let stranger = NodeId(0x5EED);
    let err = a.set_stream_priority(stranger, FLOOD, 1).unwrap_err();
    assert!(
        matches!(err, MeshError::NotConnected(p) if p == stranger),
        "{err:?}"
    );
}
