//! The mesh adapter end to end over real UDP on 127.0.0.1: bus A (4 shards) with a
//! `MeshAdapter` -> node A -> node B -> `MeshIngress` -> bus B. Every event emitted on A is
//! polled on B exactly once with per-key order kept, a subscriber on B sees them, A still
//! serves its own poll; a dead peer is counted and reported, never a hang. Every test runs
//! under a watchdog.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use net::adapter::{Adapter, Health, MemoryAdapter};
use net::identity::{Identity, NodeId};
use net::mesh::bus_adapter::{MeshAdapter, MeshAdapterConfig};
use net::mesh::handshake::HandshakeConfig;
use net::mesh::ingress::MeshIngress;
use net::mesh::node::{MeshNode, NodeConfig};
use net::mesh::session::EndpointConfig;
use net::{
    Backpressure, EventBus, EventBusConfig, PollRequest, StoredEvent, SubscribeOptions,
    SubscriptionItem,
};

const PSK: [u8; 32] = [0x3C; 32];
const STREAM: u64 = 7;
const SHARDS: u16 = 4;
const KEYS: u64 = 64;

/// Runs `f` on its own thread and fails the test if it does not finish within `limit`.
fn bounded(limit: Duration, f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = mpsc::channel();
    let t = std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    match rx.recv_timeout(limit) {
        Ok(()) => t.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The body panicked: re-raise its panic here.
            if let Err(p) = t.join() {
                std::panic::resume_unwind(p);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("test did not finish within {limit:?}"),
    }
}

fn node(seed: u8, endpoint: impl FnOnce(&mut EndpointConfig)) -> Arc<MeshNode> {
    let mut config =
        EndpointConfig::new(HandshakeConfig::new(Identity::from_seed(&[seed; 32]), PSK));
    endpoint(&mut config);
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    Arc::new(MeshNode::start(NodeConfig::new(config, addr)).expect("start node"))
}

fn bus_config() -> EventBusConfig {
    EventBusConfig::builder()
        .num_shards(SHARDS)
        .partition_key("p")
        .ring_capacity(1 << 12)
        .backpressure(Backpressure::Block {
            timeout: Duration::from_secs(10),
        })
        .memory(1 << 16, 64 << 20)
        .build()
        .unwrap()
}

fn mesh_bus(node: &Arc<MeshNode>, peer: NodeId, config: MeshAdapterConfig) -> Arc<MeshAdapter> {
    let local = MemoryAdapter::new(1 << 16, 64 << 20);
    Arc::new(MeshAdapter::new(local, Arc::clone(node), &[peer], config).expect("adapter"))
}

fn event(i: u64) -> String {
    format!(r#"{{"p":{},"i":{i}}}"#, i % KEYS)
}

/// Every event stored by `bus`, by polling until nothing is left.
fn poll_all(bus: &EventBus) -> Vec<StoredEvent> {
    let mut all = Vec::new();
    let mut request = PollRequest::new(1000);
    loop {
        let page = bus.poll(&request).expect("poll");
        let n = page.events.len();
        all.extend(page.events);
        if !page.has_more || n == 0 {
            return all;
        }
        request = PollRequest::new(1000).cursor(page.cursor);
    }
}

fn index(e: &StoredEvent) -> (u64, u64) {
    let v = e.event.to_value();
    (v["p"].as_u64().unwrap(), v["i"].as_u64().unwrap())
}

/// Asserts `events` hold 0..n exactly once and, per key, in increasing order of position
/// within their shard.
fn check_exactly_once_in_key_order(events: &[StoredEvent], n: u64) {
    let mut seen = BTreeSet::new();
    for e in events {
        let (_, i) = index(e);
        assert!(seen.insert(i), "event {i} seen twice");
    }
    assert_eq!(seen.len() as u64, n, "events missing");
    assert_eq!(seen.last().copied(), Some(n - 1));
    let mut by_shard: BTreeMap<u16, Vec<&StoredEvent>> = BTreeMap::new();
    for e in events {
        by_shard.entry(e.shard).or_default().push(e);
    }
    let mut last_of_key: BTreeMap<u64, u64> = BTreeMap::new();
    for list in by_shard.values_mut() {
        list.sort_by_key(|e| e.position);
        for e in list.iter() {
            let (p, i) = index(e);
            if let Some(prev) = last_of_key.insert(p, i) {
                assert!(prev < i, "key {p}: event {i} stored after {prev}");
            }
        }
    }
}

#[test]
fn events_emitted_on_a_are_polled_and_pushed_on_b() {
    bounded(Duration::from_secs(60), || {
        const N: u64 = 10_000;
        let (a, b) = (node(11, |_| {}), node(12, |_| {}));
        let peer_b = a
            .connect(b.local_addr(), &b.card(), Duration::from_secs(5))
            .expect("connect");

        let bus_b = Arc::new(EventBus::new(bus_config()).unwrap());
        let ingress = MeshIngress::start(Arc::clone(&b), Arc::clone(&bus_b), Some(STREAM)).unwrap();
        let mut sub = bus_b.subscribe(SubscribeOptions::default()).unwrap();

        let config = MeshAdapterConfig {
            stream_id: STREAM,
            ..MeshAdapterConfig::default()
        };
        let adapter = mesh_bus(&a, peer_b, config);
        let bus_a = EventBus::with_adapter(bus_config(), adapter.clone()).unwrap();
        let mut shards_used = BTreeSet::new();
        for i in 0..N {
            shards_used.insert(bus_a.ingest_str(&event(i)).unwrap().shard);
        }
        assert_eq!(
            shards_used.len(),
            SHARDS as usize,
            "every shard of A is used"
        );
        bus_a.flush().unwrap();

        let deadline = Instant::now() + Duration::from_secs(30);
        while ingress.stats().ingested < N {
            assert!(
                Instant::now() < deadline,
                "B ingested only {:?}",
                ingress.stats()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        bus_b.flush().unwrap();
        let stats = ingress.stats();
        assert_eq!((stats.received, stats.ingested, stats.rejected), (N, N, 0));

        let on_b = poll_all(&bus_b);
        assert_eq!(on_b.len() as u64, N);
        check_exactly_once_in_key_order(&on_b, N);
        let shards_b: BTreeSet<u16> = on_b.iter().map(|e| e.shard).collect();
        assert_eq!(
            shards_b.len(),
            SHARDS as usize,
            "B's poll reads every shard"
        );

        let mut pushed = BTreeSet::new();
        while (pushed.len() as u64) < N {
            match sub.next_blocking(Some(Duration::from_secs(5))).unwrap() {
                Some(SubscriptionItem::Event(e)) => {
                    assert!(pushed.insert(index(&e).1), "pushed twice");
                }
                other => panic!("subscriber on B got {other:?}"),
            }
        }

        let on_a = poll_all(&bus_a);
        check_exactly_once_in_key_order(&on_a, N);

        let fw = adapter.forward_stats();
        assert_eq!((fw.forwarded, fw.failed, fw.last_error), (N, 0, None));
        assert_eq!(adapter.health(), Health::Healthy);
        assert_eq!(bus_a.adapter_health(), Health::Healthy);

        bus_a.shutdown().unwrap();
        ingress.stop();
        assert!(!ingress.is_running());
        bus_b.shutdown().unwrap();
        a.shutdown();
        b.shutdown();
    });
}

#[test]
fn a_dead_peer_is_counted_and_reported_without_hanging() {
    bounded(Duration::from_secs(60), || {
        let small_window = |c: &mut EndpointConfig| {
            c.stream.window = 16 << 10;
            c.detector.heartbeat_interval = Duration::from_millis(50);
            c.detector.suspect_after = Duration::from_millis(200);
            c.detector.fail_after = Duration::from_millis(500);
        };
        let (a, b) = (node(21, small_window), node(22, small_window));
        let peer_b = a
            .connect(b.local_addr(), &b.card(), Duration::from_secs(5))
            .expect("connect");
        let config = MeshAdapterConfig {
            stream_id: STREAM,
            credit_timeout: Duration::from_millis(200),
            retry_after: Duration::from_millis(300),
        };
        let adapter = mesh_bus(&a, peer_b, config);
        let bus_a = EventBus::with_adapter(bus_config(), adapter.clone()).unwrap();
        b.shutdown();

        let started = Instant::now();
        let mut emitted = 0u64;
        while adapter.forward_stats().failed == 0 {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "no failure counted after {emitted} events: {:?}",
                adapter.forward_stats()
            );
            for _ in 0..500 {
                bus_a.ingest_str(&event(emitted)).unwrap();
                emitted += 1;
            }
            bus_a.flush().unwrap();
        }
        let fw = adapter.forward_stats();
        assert_eq!(
            fw.forwarded + fw.failed,
            emitted,
            "every event accounted for"
        );
        assert!(fw.failed_batches > 0);
        assert!(fw.last_error.is_some());
        assert!(
            matches!(adapter.health(), Health::Unhealthy(_)),
            "health: {:?}",
            adapter.health()
        );
        let conn = adapter.connection_stats().unwrap();
        assert!(!conn.connected);
        assert!(conn.errors > 0);

        // The local side keeps working: A's own poll has everything.
        let on_a = poll_all(&bus_a);
        check_exactly_once_in_key_order(&on_a, emitted);

        // Later batches skip the dead peer quickly instead of waiting for credit again.
        let t = Instant::now();
        bus_a.ingest_str(&event(emitted)).unwrap();
        bus_a.flush().unwrap();
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());

        bus_a.shutdown().unwrap();
        a.shutdown();
    });
}

#[test]
fn ingress_ends_when_its_node_shuts_down() {
    bounded(Duration::from_secs(20), || {
        let b = node(31, |_| {});
        let bus = Arc::new(EventBus::new(bus_config()).unwrap());
        let ingress = MeshIngress::start(Arc::clone(&b), Arc::clone(&bus), None).unwrap();
        assert!(ingress.is_running());
        b.shutdown();
        let deadline = Instant::now() + Duration::from_secs(5);
        while ingress.is_running() {
            assert!(Instant::now() < deadline, "ingress still running");
            std::thread::sleep(Duration::from_millis(5));
        }
        ingress.stop();
        assert_eq!(ingress.stats().received, 0);
        bus.shutdown().unwrap();
    });
}

/// Waits (bounded) until `ingress` has ingested `n` events.
fn wait_ingested(ingress: &MeshIngress, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while ingress.stats().ingested < n {
        assert!(Instant::now() < deadline, "ingested {:?}", ingress.stats());
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn forwarding_resumes_after_the_peer_restarts_and_is_redialled() {
    bounded(Duration::from_secs(60), || {
        let fast = |c: &mut EndpointConfig| {
            c.detector.heartbeat_interval = Duration::from_millis(50);
            c.detector.suspect_after = Duration::from_millis(200);
            c.detector.fail_after = Duration::from_millis(500);
        };
        let (a, b) = (node(41, fast), node(42, fast));
        let peer_b = a
            .connect(b.local_addr(), &b.card(), Duration::from_secs(5))
            .expect("connect");
        let bus_b = Arc::new(EventBus::new(bus_config()).unwrap());
        let ingress = MeshIngress::start(Arc::clone(&b), Arc::clone(&bus_b), Some(STREAM)).unwrap();
        let config = MeshAdapterConfig {
            stream_id: STREAM,
            ..MeshAdapterConfig::default()
        };
        let adapter = mesh_bus(&a, peer_b, config);
        let bus_a = EventBus::with_adapter(bus_config(), adapter.clone()).unwrap();
        for i in 0..100 {
            bus_a.ingest_str(&event(i)).unwrap();
        }
        bus_a.flush().unwrap();
        wait_ingested(&ingress, 100);

        // B restarts (same identity, new port, new bus); A notices and dials it again.
        b.shutdown();
        ingress.stop();
        let b2 = node(42, fast);
        let deadline = Instant::now() + Duration::from_secs(10);
        while a.health(peer_b) != Some(net::mesh::session::Health::Failed) {
            assert!(Instant::now() < deadline, "B never marked failed");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(matches!(adapter.health(), Health::Unhealthy(_)));
        let bus_b2 = Arc::new(EventBus::new(bus_config()).unwrap());
        let ingress2 =
            MeshIngress::start(Arc::clone(&b2), Arc::clone(&bus_b2), Some(STREAM)).unwrap();
        let again = a
            .connect(b2.local_addr(), &b2.card(), Duration::from_secs(5))
            .expect("redial");
        assert_eq!(again, peer_b);

        for i in 100..200 {
            bus_a.ingest_str(&event(i)).unwrap();
        }
        bus_a.flush().unwrap();
        wait_ingested(&ingress2, 100);
        bus_b2.flush().unwrap();
        let on_b2: BTreeSet<u64> = poll_all(&bus_b2).iter().map(|e| index(e).1).collect();
        assert_eq!(on_b2, (100..200).collect::<BTreeSet<u64>>());
        let fw = adapter.forward_stats();
        assert_eq!((fw.forwarded, fw.failed), (200, 0), "{fw:?}");
        assert_eq!(adapter.health(), Health::Healthy);

        bus_a.shutdown().unwrap();
        ingress2.stop();
        bus_b.shutdown().unwrap();
        bus_b2.shutdown().unwrap();
        a.shutdown();
        b2.shutdown();
    });
}
