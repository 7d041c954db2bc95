//! Large events over real UDP on 127.0.0.1: 64 KiB and 1 MiB events on a reliable stream,
//! between small events, arrive intact, once, in order; a 64 KiB event on a fire-and-forget
//! stream arrives intact. Every wait is bounded.

mod mesh_support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mesh_support::config;
use net::mesh::node::{MeshNode, NodeConfig};
use net::mesh::session::Event;
use net::mesh::stream::StreamMode;

const WAIT: Duration = Duration::from_secs(20);

fn node(n: u8) -> MeshNode {
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    MeshNode::start(NodeConfig::new(config(n), addr)).expect("start")
}

/// `len` bytes for index `i`: index, length, then a pattern.
fn big(i: u64, len: usize) -> Vec<u8> {
    let mut e = vec![0u8; len.max(16)];
    e[..8].copy_from_slice(&i.to_le_bytes());
    e[8..16].copy_from_slice(&(len as u64).to_le_bytes());
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for b in &mut e[16..] {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    e
}

fn check_big(e: &[u8]) -> (u64, usize) {
    let i = u64::from_le_bytes(e[..8].try_into().unwrap());
    let len = u64::from_le_bytes(e[8..16].try_into().unwrap()) as usize;
    assert_eq!(e.len(), len, "event {i}: length");
    assert!(e == big(i, len).as_slice(), "event {i} corrupted");
    (i, len)
}

fn take(node: &MeshNode, want: usize) -> Vec<(u64, usize)> {
    let deadline = Instant::now() + WAIT;
    let mut got = Vec::new();
    while got.len() < want {
        let left = deadline.saturating_duration_since(Instant::now());
        match node.recv(left) {
            Ok(Event::Data(d)) => got.extend(d.events().map(check_big)),
            Ok(_) => {}
            Err(e) => panic!(
                "only {} of {want} events before the deadline: {e}",
                got.len()
            ),
        }
    }
    got
}

#[test]
fn sixty_four_kib_and_one_mib_events_on_a_reliable_stream() {
    let (a, b) = (node(41), node(42));
    let peer = a.connect(b.local_addr(), &b.card(), WAIT).expect("connect");
    a.open_stream(peer, 5, StreamMode::Reliable).unwrap();
    let sizes = [100, 65_536, 40, 1 << 20, 64, 65_536, 1 << 20, 20];
    let receiver = std::thread::spawn(move || {
        let got = take(&b, sizes.len());
        (got, b)
    });
    for (i, &len) in sizes.iter().enumerate() {
        a.send_blocking(peer, 5, &big(i as u64, len), WAIT)
            .unwrap_or_else(|e| panic!("event {i} ({len} bytes): {e}"));
    }
    a.flush().unwrap();
    let (got, b) = receiver.join().unwrap();
    let want: Vec<(u64, usize)> = sizes
        .iter()
        .enumerate()
        .map(|(i, &l)| (i as u64, l))
        .collect();
    assert_eq!(got, want);
    let c = b.counters().fragments;
    assert_eq!(c.reassembled, 4);
    assert_eq!(c.received, (2 * 50 + 2 * 795) as u64, "{c:?}");
    assert_eq!(c.bad + c.overlap + c.oversized + c.evicted + c.timed_out, 0);
}

#[test]
fn sixty_four_kib_event_fire_and_forget() {
    let (a, b) = (node(43), node(44));
    let peer = a.connect(b.local_addr(), &b.card(), WAIT).expect("connect");
    a.open_stream(peer, 6, StreamMode::FireAndForget).unwrap();
    a.send(peer, 6, &big(7, 65_536)).unwrap();
    a.send(peer, 6, &big(8, 30)).unwrap();
    let mut got = take(&b, 2);
    got.sort_unstable();
    assert_eq!(got, vec![(7, 65_536), (8, 30)]);
}
