//! Two real `MeshNode`s on 127.0.0.1: handshake, bidirectional data, 100,000 events on a
//! reliable stream exactly once and in order, fire and forget, and garbage datagrams dropped
//! and counted without harm. Every wait is bounded.

mod mesh_support;

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mesh_support::{check_event, config, event};
use net::mesh::node::{MeshNode, NodeConfig};
use net::mesh::session::{Event, Health, MeshError};
use net::mesh::stream::StreamMode;

const LOCAL: &str = "127.0.0.1:0";
const WAIT: Duration = Duration::from_secs(10);

fn node(n: u8) -> MeshNode {
    let addr: SocketAddr = LOCAL.parse().unwrap();
    MeshNode::start(NodeConfig::new(config(n), addr)).expect("start")
}

fn next_data(node: &MeshNode, deadline: Instant) -> net::mesh::session::Delivery {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match node.recv(left) {
            Ok(Event::Data(d)) => return d,
            Ok(_) => {}
            Err(e) => panic!("no data before the deadline: {e}"),
        }
    }
}

/// Waits (bounded by [`WAIT`]) until `node` rates `peer` as `want`, collecting the health
/// changes it reports meanwhile into `changes`.
fn wait_health(
    node: &MeshNode,
    peer: net::identity::NodeId,
    want: Health,
    changes: &mut Vec<net::mesh::session::HealthChange>,
) {
    let deadline = Instant::now() + WAIT;
    while node.health(peer) != Some(want) {
        assert!(
            Instant::now() < deadline,
            "never {want:?} (now {:?}): {changes:?}",
            node.health(peer)
        );
        if let Ok(Event::Health { peer: p, change }) = node.recv(Duration::from_millis(20)) {
            assert_eq!(p, peer);
            changes.push(change);
        }
    }
}

#[test]
fn handshake_and_bidirectional_data() {
    let (a, b) = (node(1), node(2));
    let peer_b = a.connect(b.local_addr(), &b.card(), WAIT).expect("connect");
    assert_eq!(peer_b, b.node_id());
    // B learns of the session when A's first authentic packet (a heartbeat) arrives.
    let deadline = Instant::now() + WAIT;
    loop {
        match b.recv(deadline.saturating_duration_since(Instant::now())) {
            Ok(Event::Connected {
                peer, initiator, ..
            }) => {
                assert_eq!(peer, a.node_id());
                assert!(!initiator);
                break;
            }
            Ok(_) => {}
            Err(e) => panic!("B never saw the session: {e}"),
        }
    }
    let peer_a = a.node_id();
    a.open_stream(peer_b, 1, StreamMode::Reliable).unwrap();
    b.open_stream(peer_a, 2, StreamMode::Reliable).unwrap();
    a.send(peer_b, 1, b"hello from a").unwrap();
    b.send(peer_a, 2, b"hello from b").unwrap();
    let deadline = Instant::now() + WAIT;
    let d = next_data(&b, deadline);
    assert_eq!((d.peer, d.stream_id), (peer_a, 1));
    assert_eq!(d.events().collect::<Vec<_>>(), vec![&b"hello from a"[..]]);
    let d = next_data(&a, deadline);
    assert_eq!((d.peer, d.stream_id), (peer_b, 2));
    assert_eq!(d.events().collect::<Vec<_>>(), vec![&b"hello from b"[..]]);
    // Connecting again is a no-op; the health is good.
    assert_eq!(a.connect(b.local_addr(), &b.card(), WAIT).unwrap(), peer_b);
    assert_eq!(a.health(peer_b), Some(Health::Healthy));
    let (ca, cb) = (a.counters(), b.counters());
    assert_eq!(ca.sessions_established, 1);
    assert_eq!(cb.sessions_established, 1);
    assert_eq!(cb.rx_dropped, 0, "{:?}", cb.drops);
    // Unknown stream and unknown peer are typed errors.
    assert!(matches!(
        a.send(peer_b, 99, b"x"),
        Err(MeshError::UnknownStream { stream_id: 99, .. })
    ));
    assert!(matches!(
        a.send(net::identity::NodeId(42), 1, b"x"),
        Err(MeshError::NotConnected(_))
    ));
    a.shutdown();
    assert!(matches!(a.send(peer_b, 1, b"x"), Err(MeshError::ShutDown)));
}

#[test]
fn hundred_thousand_reliable_events_exactly_once_in_order() {
    const N: u64 = 100_000;
    let (a, b) = (Arc::new(node(3)), node(4));
    let peer_b = a.connect(b.local_addr(), &b.card(), WAIT).expect("connect");
    a.open_stream(peer_b, 7, StreamMode::Reliable).unwrap();
    let sender = {
        let a = Arc::clone(&a);
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            let mut i = 0u64;
            let mut backpressured = 0u64;
            while i < N {
                assert!(Instant::now() < deadline, "sender stuck at {i}");
                let chunk: Vec<[u8; 64]> = (i..N.min(i + 256)).map(|k| event(7, k)).collect();
                let (n, r) = a
                    .send_batch(peer_b, 7, chunk.iter().map(|e| &e[..]))
                    .expect("send_batch");
                i += n as u64;
                if let Err(e) = r {
                    assert!(e.is_backpressure(), "{e}");
                    backpressured += 1;
                    a.send_blocking(peer_b, 7, &event(7, i), Duration::from_secs(10))
                        .expect("credit never came back");
                    i += 1;
                }
            }
            a.flush().unwrap();
            backpressured
        })
    };
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut next = 0u64;
    while next < N {
        let d = next_data(&b, deadline);
        assert_eq!(d.stream_id, 7);
        for e in d.events() {
            let (s, i) = check_event(e);
            assert_eq!((s, i), (7, next), "out of order or duplicated");
            next += 1;
        }
    }
    let backpressured = sender.join().expect("sender");
    // Nothing more arrives: no duplicate after the last event.
    std::thread::sleep(Duration::from_millis(100));
    let mut rest = Vec::new();
    b.try_recv_all(&mut rest).unwrap();
    assert!(
        rest.iter().all(|e| !matches!(e, Event::Data(_))),
        "extra data after the last event"
    );
    let (ca, cb) = (a.counters(), b.counters());
    assert_eq!(cb.events_delivered, N);
    assert_eq!(ca.events_sent, N);
    eprintln!(
        "100k: backpressured {backpressured}, A sent {} frames, {} resent; B dropped {:?}, dup {}",
        ca.frames_sent, ca.frames_retransmitted, cb.drops, cb.frames_duplicate
    );
}

#[test]
fn fire_and_forget_over_loopback() {
    let (a, b) = (node(5), node(6));
    let peer_b = a.connect(b.local_addr(), &b.card(), WAIT).expect("connect");
    a.open_stream(peer_b, 3, StreamMode::FireAndForget).unwrap();
    let events: Vec<[u8; 64]> = (0..1000).map(|k| event(3, k)).collect();
    for chunk in events.chunks(100) {
        let (n, r) = a
            .send_batch(peer_b, 3, chunk.iter().map(|e| &e[..]))
            .unwrap();
        assert_eq!(n, 100);
        r.unwrap();
    }
    let deadline = Instant::now() + WAIT;
    let mut seen = std::collections::HashSet::new();
    while seen.len() < 1000 {
        let d = next_data(&b, deadline);
        assert!(!d.reliable);
        for e in d.events() {
            let (s, i) = check_event(e);
            assert_eq!(s, 3);
            assert!(seen.insert(i), "event {i} twice");
        }
    }
}

#[test]
fn garbage_datagrams_are_dropped_and_counted() {
    let (a, b) = (node(7), node(8));
    let peer_b = a.connect(b.local_addr(), &b.card(), WAIT).expect("connect");
    let raw = UdpSocket::bind(LOCAL).unwrap();
    let mut header = [0u8; 64];
    header[0] = 0x45;
    header[1] = 0x4E;
    header[2] = 1;
    let mut wrong_version = header;
    wrong_version[2] = 9;
    let mut oversized = header;
    oversized[60..62].copy_from_slice(&60_000u16.to_le_bytes());
    let mut unknown_session = header;
    unknown_session[24..32].copy_from_slice(&0xABCDu64.to_le_bytes());
    let inputs: Vec<&[u8]> = vec![
        &[0x45],
        &[0x00, 0x01, 0x02],
        &header[..40],
        &wrong_version,
        &oversized,
        &unknown_session,
        b"RT garbage routed",
    ];
    let before = b.counters().rx_dropped;
    for d in &inputs {
        raw.send_to(d, b.local_addr()).unwrap();
    }
    let deadline = Instant::now() + WAIT;
    while b.counters().rx_dropped < before + inputs.len() as u64 {
        assert!(
            Instant::now() < deadline,
            "drops not counted: {:?}",
            b.counters()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let c = b.counters();
    for reason in [
        "truncated",
        "bad_magic",
        "unsupported_version",
        "payload_beyond_datagram",
        "unknown_session",
    ] {
        assert!(c.dropped(reason) >= 1, "{reason}: {:?}", c.drops);
    }
    // The session still works.
    a.open_stream(peer_b, 1, StreamMode::Reliable).unwrap();
    a.send(peer_b, 1, b"still alive").unwrap();
    let d = next_data(&b, Instant::now() + WAIT);
    assert_eq!(d.events().next(), Some(&b"still alive"[..]));
}

#[test]
fn failure_detection_and_recovery_when_a_peer_restarts() {
    let fast = |n: u8| {
        let mut c = config(n);
        c.detector.heartbeat_interval = Duration::from_millis(50);
        c.detector.suspect_after = Duration::from_millis(200);
        c.detector.fail_after = Duration::from_millis(500);
        MeshNode::start(NodeConfig::new(c, LOCAL.parse().unwrap())).expect("start")
    };
    let (a, b) = (fast(9), fast(10));
    let peer_b = a.connect(b.local_addr(), &b.card(), WAIT).expect("connect");
    use net::mesh::session::HealthChange;
    // Idle but healthy: heartbeats flow. (A loaded box may deschedule a node's thread past
    // `suspect_after`; the detector then rightly suspects and recovers, so wait, bounded.)
    std::thread::sleep(Duration::from_millis(400));
    wait_health(&a, peer_b, Health::Healthy, &mut Vec::new());
    // What A saw before B goes down does not count.
    let mut earlier = Vec::new();
    a.try_recv_all(&mut earlier).unwrap();
    let at_down = a.health(peer_b).expect("A knows B");
    b.shutdown();
    let down = Instant::now();
    drop(b);
    let mut changes = Vec::new();
    wait_health(&a, peer_b, Health::Failed, &mut changes);
    let mut rest = Vec::new();
    a.try_recv_all(&mut rest).unwrap();
    changes.extend(rest.into_iter().filter_map(|ev| match ev {
        Event::Health { change, .. } => Some(change),
        _ => None,
    }));
    // From its state when B went down, A's detector went to Failed through Suspected (it
    // may have recovered in between, when a heartbeat sent just before was late).
    let mut state = at_down;
    for &c in &changes {
        state = match (state, c) {
            (Health::Healthy, HealthChange::Suspected) => Health::Suspected,
            (Health::Suspected, HealthChange::Recovered) => Health::Healthy,
            (Health::Suspected, HealthChange::Failed) => Health::Failed,
            _ => panic!("change {c:?} in state {state:?}: {changes:?} from {at_down:?}"),
        };
    }
    assert_eq!(state, Health::Failed, "{changes:?} from {at_down:?}");
    assert_eq!(changes.last(), Some(&HealthChange::Failed));
    // Failed `fail_after` (500 ms) after the last heartbeat, which B sent about one interval
    // (50 ms) before it went down; the margin allows for B's thread being descheduled.
    assert!(
        down.elapsed() >= Duration::from_millis(300),
        "{:?}",
        down.elapsed()
    );

    // B comes back (same identity, new port); A dials it again and the new session works.
    let b2 = fast(10);
    assert_eq!(
        a.connect(b2.local_addr(), &b2.card(), WAIT)
            .expect("redial"),
        peer_b
    );
    let mut changes = Vec::new();
    wait_health(&a, peer_b, Health::Healthy, &mut changes);
    let mut rest = Vec::new();
    a.try_recv_all(&mut rest).unwrap();
    changes.extend(rest.into_iter().filter_map(|ev| match ev {
        Event::Health { change, .. } => Some(change),
        _ => None,
    }));
    assert!(
        changes.contains(&HealthChange::Recovered),
        "no Recovered event: {changes:?}"
    );
    a.open_stream(peer_b, 1, StreamMode::Reliable).unwrap();
    a.send(peer_b, 1, b"after restart").unwrap();
    let d = next_data(&b2, Instant::now() + WAIT);
    assert_eq!(d.events().next(), Some(&b"after restart"[..]));
    assert_eq!(a.counters().sessions_established, 2);
}

/// A receiver that stops right after taking its last event still acknowledges it: its
/// ack timers (and the sender's retransmit timer, whose duplicates would prompt one) are set so
/// far out that only the ack sent while stopping can reach the sender.
#[test]
fn a_stopping_receiver_acknowledges_what_it_took() {
    let mut patient = config(1);
    patient.stream.rto = Duration::from_secs(30);
    let a = MeshNode::start(NodeConfig::new(patient, LOCAL.parse().unwrap())).expect("start");
    let mut slow = config(2);
    slow.stream.ack_every = 1_000_000;
    slow.stream.ack_delay = Duration::from_secs(30);
    slow.stream.ack_refresh = Duration::from_secs(30);
    let b = MeshNode::start(NodeConfig::new(slow, LOCAL.parse().unwrap())).expect("start");
    let peer_b = a.connect(b.local_addr(), &b.card(), WAIT).expect("connect");
    a.open_stream(peer_b, 1, StreamMode::Reliable).unwrap();
    for i in 0..5 {
        a.send(peer_b, 1, &event(1, i)).unwrap();
    }
    let deadline = Instant::now() + WAIT;
    let mut got = 0;
    while got < 5 {
        got += next_data(&b, deadline).events().count();
    }
    // Nothing prompts an ack yet: the sender still holds its frames.
    std::thread::sleep(Duration::from_millis(50));
    assert!(a.unacked(peer_b, 1).is_some_and(|n| n > 0));
    b.shutdown();
    let deadline = Instant::now() + Duration::from_secs(5);
    while a.unacked(peer_b, 1) != Some(0) {
        assert!(
            Instant::now() < deadline,
            "the stopped receiver never acknowledged: {:?} unacked",
            a.unacked(peer_b, 1)
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(b.counters().acks_sent >= 1);
}
