//! End-to-end throughput of the mesh adapter: bus A (4 shards, partitioned, `MeshAdapter`) ->
//! node A -> node B over 127.0.0.1 -> `MeshIngress` -> bus B (4 shards), 400,000 events of
//! 19 bytes, timed from the first ingest on A until bus B accepted the last one. Prints each
//! of five runs and their median (`cargo bench -p net-mesh --bench mesh_bus`, part of
//! `make bench`). A run that loses or fails to forward an event aborts with a message.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use net::adapter::MemoryAdapter;
use net::identity::Identity;
use net::mesh::bus_adapter::{MeshAdapter, MeshAdapterConfig};
use net::mesh::handshake::HandshakeConfig;
use net::mesh::ingress::MeshIngress;
use net::mesh::node::{MeshNode, NodeConfig};
use net::mesh::session::EndpointConfig;
use net::{Backpressure, EventBus, EventBusConfig};

const N: u64 = 400_000;
const RUNS: usize = 5;
const STREAM: u64 = 7;
const PSK: [u8; 32] = [0x3C; 32];

fn node(seed: u8) -> Arc<MeshNode> {
    let config = EndpointConfig::new(HandshakeConfig::new(Identity::from_seed(&[seed; 32]), PSK));
    let addr: SocketAddr = "127.0.0.1:0".parse().expect("address");
    Arc::new(MeshNode::start(NodeConfig::new(config, addr)).expect("start node"))
}

fn bus_config() -> EventBusConfig {
    EventBusConfig::builder()
        .num_shards(4)
        .partition_key("p")
        .ring_capacity(1 << 12)
        .backpressure(Backpressure::Block {
            timeout: Duration::from_secs(10),
        })
        .memory(1 << 16, 64 << 20)
        .build()
        .expect("config")
}

/// One run: events per second from A's first ingest to B's last accepted event.
fn run(seed: u8) -> f64 {
    let (a, b) = (node(seed), node(seed + 1));
    let peer_b = a
        .connect(b.local_addr(), &b.card(), Duration::from_secs(5))
        .expect("connect");
    let bus_b = Arc::new(EventBus::new(bus_config()).expect("bus B"));
    let ingress =
        MeshIngress::start(Arc::clone(&b), Arc::clone(&bus_b), Some(STREAM)).expect("ingress");
    let config = MeshAdapterConfig {
        stream_id: STREAM,
        ..MeshAdapterConfig::default()
    };
    let local = MemoryAdapter::new(1 << 16, 64 << 20);
    let adapter =
        Arc::new(MeshAdapter::new(local, Arc::clone(&a), &[peer_b], config).expect("adapter"));
    let bus_a = EventBus::with_adapter(bus_config(), adapter.clone()).expect("bus A");
    let events: Vec<net::Event> = (0..N)
        .map(|i| net::Event::from_str(&format!(r#"{{"p":{},"i":{i}}}"#, i % 64)).expect("event"))
        .collect();
    let t = Instant::now();
    for chunk in events.chunks(1000) {
        let report = bus_a.ingest_batch(chunk.iter().cloned());
        assert_eq!(report.accepted(), chunk.len(), "A refused events");
    }
    bus_a.flush().expect("flush A");
    let deadline = Instant::now() + Duration::from_secs(60);
    while ingress.stats().ingested < N {
        assert!(Instant::now() < deadline, "stalled: {:?}", ingress.stats());
        std::thread::sleep(Duration::from_millis(1));
    }
    let elapsed = t.elapsed();
    assert_eq!(adapter.forward_stats().failed, 0, "forwarding failed");
    assert_eq!(ingress.stats().ingested, N, "B ingested more than was sent");
    bus_a.shutdown().expect("shutdown A");
    ingress.stop();
    bus_b.shutdown().expect("shutdown B");
    a.shutdown();
    b.shutdown();
    N as f64 / elapsed.as_secs_f64()
}

fn main() {
    // `cargo bench` passes harness flags (e.g. `--bench`); this bench takes none.
    let mut rates: Vec<f64> = (0..RUNS).map(|r| run(60 + 2 * r as u8)).collect();
    for (i, r) in rates.iter().enumerate() {
        println!(
            "mesh_bus/a_to_b_400k run {}: {:.2} M events/s",
            i + 1,
            r / 1e6
        );
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "mesh_bus/a_to_b_400k: median {:.2} M events/s (bus A -> mesh -> bus B, 19-byte events)",
        rates[RUNS / 2] / 1e6
    );
}
