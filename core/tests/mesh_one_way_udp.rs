//! A direct link that loses everything in one direction only, between real `MeshNode`s on
//! 127.0.0.1: A reaches C through a test-only UDP proxy that can drop A -> C while C -> A
//! still flows, and both reach B directly. While A streams reliable events to C, the proxy
//! drops A -> C: both A and C route through B (A because C's heartbeats report that C no
//! longer hears A), every event arrives once in order, and when the proxy heals both sides
//! go direct again. Every wait is bounded.

mod mesh_support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use mesh_support::udp_proxy::UdpProxy;
use mesh_support::{check_event, event, fast_config, start_three, wait_connected};
use net::mesh::session::Event;
use net::mesh::stream::StreamMode;

const WAIT: Duration = Duration::from_secs(10);

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
    let (a, b, c) = start_three(fast_config, 71);
    let (ia, ib, ic) = (a.node_id(), b.node_id(), c.node_id());
    let proxy = UdpProxy::start(c.local_addr());
    a.connect(b.local_addr(), &b.card(), WAIT).expect("A-B");
    c.connect(b.local_addr(), &b.card(), WAIT).expect("C-B");
    a.connect(proxy.addr, &c.card(), WAIT).expect("A-C");
    for (n, p) in [(&b, ia), (&b, ic), (&c, ia)] {
        wait_connected(n, p, WAIT);
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
