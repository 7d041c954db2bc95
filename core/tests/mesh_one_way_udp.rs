//! A direct link that loses everything in one direction only, between real `MeshNode`s on
//! 127.0.0.1: A reaches C through a test-only UDP proxy that can drop A -> C while C -> A
//! still flows, and both reach B directly. While A streams reliable events to C, the proxy
//! drops A -> C: both A and C route through B (A because C's heartbeats report that C no
//! longer hears A), every event arrives once in order, and when the proxy heals both sides
//! go direct again. Every wait is bounded.

mod mesh_support;

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mesh_support::{check_event, event, fast_config, start_node};
use net::identity::NodeId;
use net::mesh::node::MeshNode;
use net::mesh::session::Event;
use net::mesh::stream::StreamMode;

const WAIT: Duration = Duration::from_secs(10);

/// A test-only UDP proxy between the first node that sends to it (the client) and `target`;
/// while `drop_to_target` is set it drops what the client sends, and still forwards what
/// the target sends back.
struct OneWayProxy {
    addr: SocketAddr,
    drop_to_target: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl OneWayProxy {
    fn start(target: SocketAddr) -> OneWayProxy {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(1)))
            .unwrap();
        let addr = sock.local_addr().unwrap();
        let drop_to_target = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (d, s) = (Arc::clone(&drop_to_target), Arc::clone(&stop));
        let handle = std::thread::spawn(move || {
            let mut client: Option<SocketAddr> = None;
            let mut buf = vec![0u8; 65536];
            while !s.load(Ordering::Relaxed) {
                let Ok((len, from)) = sock.recv_from(&mut buf) else {
                    continue;
                };
                let to = if from == target {
                    let Some(c) = client else { continue };
                    c
                } else {
                    client = Some(from);
                    if d.load(Ordering::Relaxed) {
                        continue;
                    }
                    target
                };
                let _ = sock.send_to(&buf[..len], to);
            }
        });
        OneWayProxy {
            addr,
            drop_to_target,
            stop,
            handle: Some(handle),
        }
    }
}

impl Drop for OneWayProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Waits until `node` has a session with `peer` or fails the test.
fn wait_connected(node: &MeshNode, peer: NodeId) {
    let deadline = Instant::now() + WAIT;
    while !node.is_connected(peer) {
        assert!(Instant::now() < deadline, "no session with {peer:?}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Waits until `done()` or fails the test with `what`; returns how long it took.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < WAIT, "{what}");
        std::thread::sleep(Duration::from_millis(2));
    }
    start.elapsed()
}

#[test]
fn a_link_losing_everything_one_way_is_routed_around_over_udp() {
    let (a, b, c) = (
        start_node(fast_config(71)),
        start_node(fast_config(72)),
        start_node(fast_config(73)),
    );
    let (ia, ib, ic) = (a.node_id(), b.node_id(), c.node_id());
    let proxy = OneWayProxy::start(c.local_addr());
    a.connect(b.local_addr(), &b.card(), WAIT).expect("A-B");
    c.connect(b.local_addr(), &b.card(), WAIT).expect("C-B");
    a.connect(proxy.addr, &c.card(), WAIT).expect("A-C");
    for (n, p) in [(&b, ia), (&b, ic), (&c, ia)] {
        wait_connected(n, p);
    }
    a.add_route(ic, ib).unwrap();
    c.add_route(ia, ib).unwrap();
    assert_eq!(a.next_hop(ic), Some(ic));
    assert_eq!(c.next_hop(ia), Some(ia));

    a.open_stream(ic, 1, StreamMode::Reliable).unwrap();
    const N: u64 = 8_000;
    let sender = {
        let a = Arc::clone(&a);
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            for i in 0..N {
                assert!(Instant::now() < deadline, "sender stuck at {i}");
                a.send_blocking(ic, 1, &event(1, i), Duration::from_secs(30))
                    .expect("credit never returned");
                if i % 4 == 3 {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        })
    };
    let outage = {
        let (a, c) = (Arc::clone(&a), Arc::clone(&c));
        let cut = Arc::clone(&proxy.drop_to_target);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            cut.store(true, Ordering::Relaxed);
            let rerouted = wait_for("never rerouted through B", || {
                a.next_hop(ic) == Some(ib) && c.next_hop(ia) == Some(ib)
            });
            std::thread::sleep(Duration::from_millis(500));
            cut.store(false, Ordering::Relaxed);
            let back = wait_for("never went direct again", || {
                a.next_hop(ic) == Some(ic) && c.next_hop(ia) == Some(ia)
            });
            (rerouted, back)
        })
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut next = 0u64;
    let mut evs = Vec::new();
    while next < N {
        assert!(Instant::now() < deadline, "C received {next} of {N}");
        evs.clear();
        if c.recv_batch(&mut evs, Duration::from_millis(100)).is_err() {
            continue;
        }
        for ev in evs.drain(..) {
            if let Event::Data(d) = ev {
                for e in d.events() {
                    assert_eq!(check_event(e), (1, next), "out of order or duplicate");
                    next += 1;
                }
            }
        }
    }
    sender.join().expect("sender");
    let (rerouted, back) = outage.join().expect("rerouted and back");
    // link_fail_after (400 ms) plus a heartbeat interval; generous for a loaded machine.
    assert!(
        rerouted < Duration::from_secs(3),
        "rerouted after {rerouted:?}"
    );
    assert!(back < Duration::from_secs(3), "direct again after {back:?}");
    let (ka, kc) = (a.counters(), c.counters());
    assert!(
        ka.links_down_by_peer >= 1,
        "A went down on C's report: {ka:?}"
    );
    assert!(kc.links_down >= 1 && kc.links_up >= 1, "{kc:?}");
    assert!(b.counters().relay_forwarded > 0, "B carried traffic");
}
