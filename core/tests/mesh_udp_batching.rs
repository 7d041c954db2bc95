//! The batching rule of `MeshNode` over real UDP on 127.0.0.1: a lone event on an idle link
//! leaves at once in its own datagram (no timer delays it), a batch shares datagrams, and
//! events sent one at a time by concurrent threads share datagrams too (group commit: a
//! sender that finds another thread sending leaves its events to it). Every wait is bounded.

mod mesh_support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mesh_support::{check_event, config, event};
use net::mesh::node::{MeshNode, NodeConfig};
use net::mesh::session::Event;
use net::mesh::stream::StreamMode;

const WAIT: Duration = Duration::from_secs(20);

fn node(n: u8) -> MeshNode {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    MeshNode::start(NodeConfig::new(config(n), addr)).expect("start")
}

#[test]
fn a_lone_event_leaves_at_once_and_a_batch_shares_datagrams() {
    let (a, b) = (node(51), node(52));
    let peer = a.connect(b.local_addr(), &b.card(), WAIT).expect("connect");
    a.open_stream(peer, 1, StreamMode::Reliable).unwrap();
    for i in 0..20u64 {
        let before = a.counters().frames_sent;
        let t0 = Instant::now();
        a.send(peer, 1, &event(1, i)).unwrap();
        // On return the datagram is already handed to the kernel.
        assert_eq!(
            a.counters().frames_sent,
            before + 1,
            "one frame per lone event"
        );
        let d = loop {
            match b.recv(WAIT).expect("event") {
                Event::Data(d) => break d,
                _ => continue,
            }
        };
        let waited = t0.elapsed();
        assert_eq!(d.len(), 1);
        assert_eq!(check_event(d.events().next().unwrap()), (1, i));
        assert!(
            waited < Duration::from_millis(500),
            "lone event took {waited:?}"
        );
    }
    let before = a.counters().frames_sent;
    let batch: Vec<[u8; 64]> = (20..220).map(|i| event(1, i)).collect();
    let (n, r) = a.send_batch(peer, 1, batch.iter().map(|e| &e[..])).unwrap();
    r.unwrap();
    assert_eq!(n, 200);
    assert_eq!(
        a.counters().frames_sent - before,
        10,
        "20 events of 64 B per datagram"
    );
}

#[test]
fn concurrent_single_event_senders_share_datagrams() {
    let (a, b) = (Arc::new(node(53)), node(54));
    let peer = a.connect(b.local_addr(), &b.card(), WAIT).expect("connect");
    const THREADS: u64 = 4;
    const EACH: u64 = 5_000;
    for s in 1..=THREADS {
        a.open_stream(peer, s, StreamMode::Reliable).unwrap();
    }
    let senders: Vec<_> = (1..=THREADS)
        .map(|s| {
            let a = Arc::clone(&a);
            std::thread::spawn(move || {
                for i in 0..EACH {
                    a.send_blocking(peer, s, &event(s, i), WAIT).unwrap();
                }
            })
        })
        .collect();
    let deadline = Instant::now() + WAIT;
    let mut next = vec![0u64; THREADS as usize + 1];
    let mut total = 0;
    while total < THREADS * EACH {
        let left = deadline.saturating_duration_since(Instant::now());
        match b.recv(left) {
            Ok(Event::Data(d)) => {
                for e in d.events() {
                    let (s, i) = check_event(e);
                    assert_eq!(i, next[s as usize], "stream {s} in order");
                    next[s as usize] += 1;
                    total += 1;
                }
            }
            Ok(_) => {}
            Err(e) => panic!(
                "{total} of {} events before the deadline: {e}",
                THREADS * EACH
            ),
        }
    }
    for t in senders {
        t.join().unwrap();
    }
    let c = a.counters();
    eprintln!(
        "{} events in {} frames ({:.2} events per datagram)",
        c.events_sent,
        c.frames_sent,
        c.events_sent as f64 / c.frames_sent as f64
    );
    assert_eq!(c.events_sent, THREADS * EACH);
    assert!(
        c.frames_sent < c.events_sent,
        "concurrent senders never shared a datagram"
    );
}
