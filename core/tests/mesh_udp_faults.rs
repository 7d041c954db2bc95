//! Real UDP with faults: two `MeshNode`s on 127.0.0.1 talk through a fault-injecting relay
//! socket (a test-only proxy) that drops 10%, duplicates, delays (reorders) and corrupts
//! datagrams from a seed. Reliable events arrive exactly once in order, fire and forget
//! delivers only intact events at most once, and the corrupt datagrams are dropped and
//! counted. The seed is printed; `MESH_UDP_SEED=<n>` reruns with another one (thread timing
//! still varies between runs, unlike the simulated network of `mesh_sim.rs`).

mod mesh_support;

use std::collections::{BTreeMap, HashSet};
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mesh_support::{Rng, check_event, config, event};
use net::mesh::node::{MeshNode, NodeConfig};
use net::mesh::session::Event;
use net::mesh::stream::StreamMode;

/// What the proxy did.
#[derive(Default)]
struct ProxyStats {
    forwarded: AtomicU64,
    dropped: AtomicU64,
    corrupted: AtomicU64,
}

/// Forwards datagrams between `a` (whoever sends first) and `b`, with faults.
fn proxy(
    b: SocketAddr,
    seed: u64,
    stop: Arc<AtomicBool>,
    stats: Arc<ProxyStats>,
) -> (SocketAddr, std::thread::JoinHandle<()>) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(1)))
        .unwrap();
    let addr = sock.local_addr().unwrap();
    let handle = std::thread::spawn(move || {
        let mut rng = Rng::new(seed);
        let mut a: Option<SocketAddr> = None;
        // Delayed copies, by release time (reordering).
        let mut delayed: BTreeMap<(Instant, u64), (SocketAddr, Vec<u8>, bool)> = BTreeMap::new();
        let mut n = 0u64;
        let mut buf = vec![0u8; 65536];
        while !stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            while let Some(entry) = delayed.first_entry() {
                if entry.key().0 > now {
                    break;
                }
                let (to, data, corrupt) = entry.remove();
                if sock.send_to(&data, to).is_ok() && corrupt {
                    stats.corrupted.fetch_add(1, Ordering::Relaxed);
                }
            }
            let Ok((len, from)) = sock.recv_from(&mut buf) else {
                continue;
            };
            let to = if from == b {
                match a {
                    Some(a) => a,
                    None => continue,
                }
            } else {
                a = Some(from);
                b
            };
            if rng.chance(0.10) {
                stats.dropped.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let copies = if rng.chance(0.03) { 2 } else { 1 };
            for _ in 0..copies {
                let mut data = buf[..len].to_vec();
                let corrupt = rng.chance(0.02);
                if corrupt {
                    let i = rng.below(len as u64) as usize;
                    data[i] ^= 1 << rng.below(8);
                }
                stats.forwarded.fetch_add(1, Ordering::Relaxed);
                if rng.chance(0.10) {
                    n += 1;
                    let at = now + Duration::from_micros(rng.below(3000));
                    delayed.insert((at, n), (to, data, corrupt));
                } else if sock.send_to(&data, to).is_ok() && corrupt {
                    // Counted only once sent: these reached a node.
                    stats.corrupted.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    });
    (addr, handle)
}

fn node(n: u8) -> MeshNode {
    let mut c = config(n);
    c.stream.rto = Duration::from_millis(50);
    c.stream.window = 256 * 1024;
    MeshNode::start(NodeConfig::new(c, "127.0.0.1:0".parse().unwrap())).unwrap()
}

#[test]
fn reliable_and_fire_and_forget_through_a_faulty_relay() {
    let seed: u64 = std::env::var("MESH_UDP_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED);
    eprintln!("mesh_udp_faults seed {seed} (MESH_UDP_SEED={seed})");
    let (a, b) = (Arc::new(node(31)), node(32));
    let stop = Arc::new(AtomicBool::new(false));
    let stats = Arc::new(ProxyStats::default());
    let (via, relay) = proxy(b.local_addr(), seed, Arc::clone(&stop), Arc::clone(&stats));
    let peer = a
        .connect(via, &b.card(), Duration::from_secs(20))
        .expect("handshake through the faulty relay");
    a.open_stream(peer, 1, StreamMode::Reliable).unwrap();
    a.open_stream(peer, 2, StreamMode::FireAndForget).unwrap();

    const N: u64 = 20_000;
    const M: u64 = 2_000;
    let sender = {
        let a = Arc::clone(&a);
        std::thread::spawn(move || {
            for i in 0..M {
                a.send(peer, 2, &event(2, i)).unwrap();
            }
            a.flush().unwrap();
            let deadline = Instant::now() + Duration::from_secs(60);
            let mut i = 0u64;
            while i < N {
                assert!(Instant::now() < deadline, "sender stuck at {i}");
                let chunk: Vec<[u8; 64]> = (i..N.min(i + 128)).map(|k| event(1, k)).collect();
                let (n, r) = a.send_batch(peer, 1, chunk.iter().map(|e| &e[..])).unwrap();
                i += n as u64;
                if r.is_err() {
                    a.send_blocking(peer, 1, &event(1, i), Duration::from_secs(20))
                        .expect("credit never returned");
                    i += 1;
                }
            }
            a.flush().unwrap();
        })
    };
    let deadline = Instant::now() + Duration::from_secs(90);
    let (mut next, mut fnf) = (0u64, HashSet::new());
    let mut events = Vec::new();
    while next < N {
        assert!(
            Instant::now() < deadline,
            "seed {seed}: only {next} of {N} reliable events arrived"
        );
        events.clear();
        let _ = b.recv_batch(&mut events, Duration::from_millis(100));
        for ev in &events {
            let Event::Data(d) = ev else { continue };
            for e in d.events() {
                let (s, i) = check_event(e);
                match s {
                    1 => {
                        assert_eq!(i, next, "seed {seed}: reliable order");
                        next += 1;
                    }
                    2 => assert!(fnf.insert(i), "seed {seed}: FnF event {i} twice"),
                    _ => panic!("seed {seed}: stream {s}"),
                }
            }
        }
    }
    sender.join().expect("sender");
    stop.store(true, Ordering::Relaxed);
    relay.join().unwrap();
    // Let the nodes process what the relay sent last.
    std::thread::sleep(Duration::from_millis(100));

    let (ca, cb) = (a.counters(), b.counters());
    let corrupted = stats.corrupted.load(Ordering::Relaxed);
    eprintln!(
        "seed {seed}: proxy forwarded {} dropped {} corrupted {corrupted}; FnF {} of {M}; \
         A resent {}; drops A {:?} B {:?}",
        stats.forwarded.load(Ordering::Relaxed),
        stats.dropped.load(Ordering::Relaxed),
        fnf.len(),
        ca.frames_retransmitted,
        ca.drops,
        cb.drops
    );
    assert!(
        ca.frames_retransmitted > 0,
        "10% loss without retransmission?"
    );
    assert!(fnf.len() as u64 <= M);
    assert!(corrupted > 0);
    // Every corrupted datagram that reached a node was dropped and counted.
    assert!(
        ca.rx_dropped + cb.rx_dropped >= corrupted,
        "corrupted {corrupted}, dropped {} + {}",
        ca.rx_dropped,
        cb.rx_dropped
    );
}
