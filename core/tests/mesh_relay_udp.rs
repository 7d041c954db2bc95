//! Relaying between real `MeshNode`s on 127.0.0.1: A -> B -> C with no A-C session except
//! the one agreed through B (relayed handshake), 10,000 events each way on reliable streams
//! exactly once in order, B holding only its own two sessions; a relay link that alters
//! routed datagrams (a test-only proxy in front of C) is caught at C and counted; a relay
//! that goes silent is routed around through another node and used again when it returns.
//! Every wait is bounded.

mod mesh_support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use mesh_support::udp_proxy::UdpProxy;
use mesh_support::{
    check_event, config, event, fast_config, start_node, start_three, wait_connected,
};
use net::identity::NodeId;
use net::mesh::node::MeshNode;
use net::mesh::session::Event;
use net::mesh::stream::StreamMode;

const WAIT: Duration = Duration::from_secs(10);

/// Sends `count` events from `from` to `to` on reliable `stream` in batches (waiting for
/// credit when refused), from a thread.
fn sender(
    from: Arc<MeshNode>,
    to: NodeId,
    stream: u64,
    count: u64,
    pace: Option<Duration>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut i = 0u64;
        while i < count {
            assert!(Instant::now() < deadline, "sender stuck at {i}");
            let chunk: Vec<[u8; 64]> = (i..count.min(i + 64)).map(|k| event(stream, k)).collect();
            let (n, r) = from
                .send_batch(to, stream, chunk.iter().map(|e| &e[..]))
                .unwrap();
            i += n as u64;
            if r.is_err() {
                from.send_blocking(to, stream, &event(stream, i), Duration::from_secs(30))
                    .expect("credit never returned");
                i += 1;
            }
            if let Some(p) = pace {
                std::thread::sleep(p);
            }
        }
    })
}

/// Receives `count` events on `stream` at `node`, checking order and integrity; returns the
/// non-data events seen meanwhile.
fn receive(node: &MeshNode, stream: u64, count: u64, limit: Duration) -> Vec<Event> {
    let deadline = Instant::now() + limit;
    let mut next = 0u64;
    let mut other = Vec::new();
    let mut evs = Vec::new();
    while next < count {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "received {next} of {count} on stream {stream}"
        );
        evs.clear();
        if node
            .recv_batch(&mut evs, left.min(Duration::from_millis(100)))
            .is_err()
        {
            continue;
        }
        for ev in evs.drain(..) {
            match ev {
                Event::Data(d) => {
                    assert_eq!(d.stream_id, stream);
                    for e in d.events() {
                        let (s, i) = check_event(e);
                        assert_eq!((s, i), (stream, next), "out of order or duplicate");
                        next += 1;
                    }
                }
                other_ev => other.push(other_ev),
            }
        }
    }
    other
}

#[test]
fn a_to_c_through_b_with_a_relayed_handshake_and_reliable_streams_both_ways() {
    let (a, b, c) = start_three(config, 41);
    let (ia, ib, ic) = (a.node_id(), b.node_id(), c.node_id());
    a.connect(b.local_addr(), &b.card(), WAIT).expect("A-B");
    c.connect(b.local_addr(), &b.card(), WAIT).expect("C-B");
    wait_connected(&b, ia, WAIT);
    wait_connected(&b, ic, WAIT);
    // B must be a neighbour to relay through; a stranger is refused at once.
    assert_eq!(
        a.connect_via(NodeId(99), &c.card(), WAIT)
            .unwrap_err()
            .kind(),
        "not_neighbour"
    );
    assert_eq!(a.connect_via(ib, &c.card(), WAIT).expect("A-C via B"), ic);
    wait_connected(&c, ia, WAIT);
    assert_eq!(a.next_hop(ic), Some(ib));
    assert_eq!(c.next_hop(ia), Some(ib), "C learned the way back");

    // B holds its two sessions and nothing of A-C.
    let ac = a.sessions().into_iter().find(|&(_, p)| p == ic).unwrap().0;
    let held = b.sessions();
    assert_eq!(held.len(), 2, "{held:?}");
    assert!(
        held.iter()
            .all(|&(sid, p)| sid != ac && (p == ia || p == ic))
    );

    a.open_stream(ic, 1, StreamMode::Reliable).unwrap();
    c.open_stream(ia, 2, StreamMode::Reliable).unwrap();
    // MESH_RELAY_EVENTS=n moves n events each way instead (for a throughput figure).
    let n_events: u64 = std::env::var("MESH_RELAY_EVENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let t0 = Instant::now();
    let ta = sender(Arc::clone(&a), ic, 1, n_events, None);
    let tc = sender(Arc::clone(&c), ia, 2, n_events, None);
    let c2 = Arc::clone(&c);
    let rc = std::thread::spawn(move || receive(&c2, 1, n_events, Duration::from_secs(60)));
    receive(&a, 2, n_events, Duration::from_secs(60));
    rc.join().unwrap();
    ta.join().unwrap();
    tc.join().unwrap();
    let secs = t0.elapsed().as_secs_f64();
    eprintln!(
        "relayed exchange: {} events (both ways) in {:.1} ms, {:.0} events/s (a debug build is slow; \
         run with --release for a figure)",
        2 * n_events,
        secs * 1e3,
        2.0 * n_events as f64 / secs
    );

    let (ka, kb, kc) = (a.counters(), b.counters(), c.counters());
    assert!(kb.relay_forwarded > 500, "{kb:?}");
    assert_eq!(kb.events_delivered, 0, "B read nothing");
    assert_eq!(
        kb.rx_dropped, 0,
        "nothing was sent to B directly: {:?}",
        kb.drops
    );
    assert!(ka.routed_received > 0 && kc.routed_received > 0);
    assert_eq!(kc.dropped("auth_failed"), 0);
    assert_eq!(b.sessions().len(), 2, "still nothing of A-C at B");
}

#[test]
fn bytes_altered_between_relay_and_destination_are_rejected_and_counted() {
    let (a, b, c) = start_three(config, 51);
    let (ia, ib, ic) = (a.node_id(), b.node_id(), c.node_id());
    // C reaches B through the proxy, so B's datagrams for C pass it.
    let proxy = UdpProxy::start(b.local_addr());
    c.connect(proxy.addr, &b.card(), WAIT).expect("C-B");
    a.connect(b.local_addr(), &b.card(), WAIT).expect("A-B");
    wait_connected(&b, ia, WAIT);
    wait_connected(&b, ic, WAIT);
    a.connect_via(ib, &c.card(), WAIT).expect("A-C via B");
    wait_connected(&c, ia, WAIT);
    a.open_stream(ic, 1, StreamMode::Reliable).unwrap();
    proxy.tamper.store(3, Ordering::Relaxed);
    const N: u64 = 2_000;
    let ta = sender(Arc::clone(&a), ic, 1, N, Some(Duration::from_millis(1)));
    receive(&c, 1, N, Duration::from_secs(60));
    ta.join().unwrap();
    assert_eq!(
        proxy.tamper.load(Ordering::Relaxed),
        0,
        "three were altered"
    );
    let kc = c.counters();
    assert_eq!(kc.dropped("auth_failed"), 3, "{:?}", kc.drops);
    assert!(
        a.counters().frames_retransmitted >= 3,
        "the lost frames were resent"
    );
}

#[test]
fn a_silent_relay_is_routed_around_and_used_again_when_it_returns() {
    // A and C reach B through one pausable proxy each; D is the longer way round.
    let (a, b, c, d) = (
        start_node(fast_config(61)),
        start_node(fast_config(62)),
        start_node(fast_config(63)),
        start_node(fast_config(64)),
    );
    let (ia, ib, ic, id) = (a.node_id(), b.node_id(), c.node_id(), d.node_id());
    let (pa, pc) = (
        UdpProxy::start(b.local_addr()),
        UdpProxy::start(b.local_addr()),
    );
    a.connect(pa.addr, &b.card(), WAIT).expect("A-B");
    c.connect(pc.addr, &b.card(), WAIT).expect("C-B");
    a.connect(d.local_addr(), &d.card(), WAIT).expect("A-D");
    c.connect(d.local_addr(), &d.card(), WAIT).expect("C-D");
    for (n, p) in [(&b, ia), (&b, ic), (&d, ia), (&d, ic)] {
        wait_connected(n, p, WAIT);
    }
    a.add_route_hops(ic, id, 3).unwrap();
    c.add_route_hops(ia, id, 3).unwrap();
    a.connect_via(ib, &c.card(), WAIT).expect("A-C via B");
    wait_connected(&c, ia, WAIT);
    assert_eq!(a.next_hop(ic), Some(ib));
    assert_eq!(c.next_hop(ia), Some(ib));

    a.open_stream(ic, 1, StreamMode::Reliable).unwrap();
    const N: u64 = 6_000;
    // About 3 s of traffic: B goes silent after 0.5 s and returns after 1.5 s.
    let ta = sender(Arc::clone(&a), ic, 1, N, Some(Duration::from_millis(1)));
    let outage = {
        let (a, c) = (Arc::clone(&a), Arc::clone(&c));
        let (pp, cp) = (Arc::clone(&pa.paused), Arc::clone(&pc.paused));
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(500));
            pp.store(true, Ordering::Relaxed);
            cp.store(true, Ordering::Relaxed);
            let deadline = Instant::now() + WAIT;
            while a.next_hop(ic) != Some(id) || c.next_hop(ia) != Some(id) {
                assert!(Instant::now() < deadline, "never rerouted through D");
                std::thread::sleep(Duration::from_millis(5));
            }
            std::thread::sleep(Duration::from_millis(1000));
            pp.store(false, Ordering::Relaxed);
            cp.store(false, Ordering::Relaxed);
        })
    };
    let events = receive(&c, 1, N, Duration::from_secs(60));
    ta.join().unwrap();
    outage.join().expect("rerouted through D");
    let deadline = Instant::now() + WAIT;
    while a.next_hop(ic) != Some(ib) || c.next_hop(ia) != Some(ib) {
        assert!(Instant::now() < deadline, "never went back through B");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        d.counters().relay_forwarded > 0,
        "D carried traffic meanwhile"
    );
    let at_c: Vec<Option<NodeId>> = events
        .iter()
        .filter_map(|e| match e {
            Event::RouteChanged { dest, next_hop } if *dest == ia => Some(*next_hop),
            _ => None,
        })
        .collect();
    assert_eq!(
        at_c.first(),
        Some(&Some(id)),
        "C reported the reroute: {at_c:?}"
    );
    let (ka, kc) = (a.counters(), c.counters());
    assert!(ka.links_down >= 1 && kc.links_down >= 1);
    assert!(ka.links_up >= 1 && kc.links_up >= 1);
}
