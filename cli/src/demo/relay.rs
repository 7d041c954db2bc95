//! The mesh part of `net demo`: three nodes on 127.0.0.1, A -> B (relay) -> C.
//!
//! A and C have no direct session: A dials C *through* B (`MeshNode::connect_via`, a relayed
//! handshake), so every packet between them is sealed end to end with keys B never holds.
//! Bus A uses the mesh adapter with C as its only peer; C's node feeds bus C through a
//! `MeshIngress`. The demo emits `--mesh-events` events on bus A and reports what each node
//! counted: A's routed datagrams, B's relayed datagrams (and that B's application received
//! nothing and B's sessions are only with A and C), C's delivered events, read back from bus
//! C's poll exactly once and in order. The run fails when anything is missing, repeated, or
//! when B did not relay (a direct path would be a fake).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use net::adapter::MemoryAdapter;
use net::identity::{Identity, NodeId};
use net::mesh::bus_adapter::{MeshAdapter, MeshAdapterConfig};
use net::mesh::config::generate_psk;
use net::mesh::handshake::HandshakeConfig;
use net::mesh::ingress::MeshIngress;
use net::mesh::node::{MeshNode, NodeConfig};
use net::mesh::session::{Counters, EndpointConfig};
use net::{Backpressure, EventBus, EventBusConfig, PollRequest};

use crate::failure::{CliResult, fail};
use crate::table::{Align, Table, rate, thousands};

const STREAM: u64 = 1;
const DIAL: Duration = Duration::from_secs(5);

/// What the relay run measured.
pub struct RelayOutcome {
    events: u64,
    a: Counters,
    b: Counters,
    c: Counters,
    b_peers: BTreeSet<NodeId>,
    ids: [NodeId; 3],
    polled: u64,
    in_order: bool,
    time: Duration,
}

fn start_node(psk: [u8; 32]) -> CliResult<Arc<MeshNode>> {
    let identity = Identity::generate().map_err(net::Error::from)?;
    let endpoint = EndpointConfig::new(HandshakeConfig::new(identity, psk));
    let addr: SocketAddr = ([127, 0, 0, 1], 0).into();
    let node = MeshNode::start(NodeConfig::new(endpoint, addr)).map_err(net::Error::from)?;
    Ok(Arc::new(node))
}

fn bus_config(events: u64) -> CliResult<EventBusConfig> {
    let keep = (events as usize).max(1024);
    Ok(EventBusConfig::builder()
        .num_shards(1)
        .backpressure(Backpressure::Block {
            timeout: Duration::from_secs(30),
        })
        .memory(keep, 1 << 30)
        .build()?)
}

/// Every event of `bus`'s single shard, read with `poll`: `(count, seq values in order)`.
fn read_all(bus: &EventBus) -> CliResult<Vec<u64>> {
    let mut seqs = Vec::new();
    let mut request = PollRequest::new(10_000);
    loop {
        let page = bus.poll(&request)?;
        let n = page.events.len();
        for e in page.events {
            let v: serde_json::Value = serde_json::from_slice(e.event.raw())
                .map_err(|err| fail!("bus C holds an event that is not JSON: {err}"))?;
            seqs.push(v["seq"].as_u64().unwrap_or(u64::MAX));
        }
        request.cursor = Some(page.cursor);
        if !page.has_more || n == 0 {
            return Ok(seqs);
        }
    }
}

/// Runs the three-node relay and returns what it measured.
pub fn run(events: u64) -> CliResult<RelayOutcome> {
    let psk = generate_psk()?;
    let (a, b, c) = (start_node(psk)?, start_node(psk)?, start_node(psk)?);
    // Direct sessions A-B and B-C; A reaches C only through B.
    b.connect(c.local_addr(), &c.card(), DIAL)
        .map_err(|e| fail!("B could not dial C: {e}"))?;
    a.connect(b.local_addr(), &b.card(), DIAL)
        .map_err(|e| fail!("A could not dial B: {e}"))?;
    let c_id = a
        .connect_via(b.node_id(), &c.card(), DIAL)
        .map_err(|e| fail!("A could not dial C through B: {e}"))?;
    if a.next_hop(c_id) != Some(b.node_id()) {
        return Err(fail!("A's route to C does not go through B"));
    }

    let bus_c = Arc::new(EventBus::new(bus_config(events)?)?);
    let ingress = MeshIngress::start(Arc::clone(&c), Arc::clone(&bus_c), Some(STREAM))
        .map_err(|e| fail!("cannot start C's ingress: {e}"))?;
    let keep = (events as usize).max(1024);
    let adapter = MeshAdapter::new(
        MemoryAdapter::new(keep, 1 << 30),
        Arc::clone(&a),
        &[c_id],
        MeshAdapterConfig {
            stream_id: STREAM,
            ..MeshAdapterConfig::default()
        },
    )
    .map_err(net::Error::from)?;
    let bus_a = EventBus::with_adapter(bus_config(events)?, Arc::new(adapter))?;

    let t0 = Instant::now();
    for chunk in (0..events).collect::<Vec<_>>().chunks(1024) {
        let batch = chunk
            .iter()
            .map(|i| net::Event::from_str(&format!(r#"{{"kind":"relay-demo","seq":{i}}}"#)))
            .collect::<net::Result<Vec<_>>>()?;
        let report = bus_a.ingest_batch(batch);
        if report.accepted() != chunk.len() {
            return Err(fail!(
                "bus A refused events: {:?}",
                report.outcomes.iter().find(|o| o.is_err())
            ));
        }
    }
    bus_a.flush()?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while bus_c.stats().accepted < events && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
    bus_c.flush()?;
    let time = t0.elapsed();

    let seqs = read_all(&bus_c)?;
    let in_order = seqs.iter().copied().eq(0..events);
    let outcome = RelayOutcome {
        events,
        a: a.counters(),
        b: b.counters(),
        c: c.counters(),
        b_peers: b.sessions().into_iter().map(|(_, peer)| peer).collect(),
        ids: [a.node_id(), b.node_id(), c_id],
        polled: seqs.len() as u64,
        in_order,
        time,
    };
    ingress.stop();
    bus_a.shutdown()?;
    bus_c.shutdown()?;
    for node in [&a, &b, &c] {
        node.shutdown();
    }
    Ok(outcome)
}

impl RelayOutcome {
    /// Why the run failed; empty when it showed a real relay and lost nothing.
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        let [a, b, c] = self.ids;
        if self.polled != self.events || !self.in_order {
            p.push(format!(
                "bus C polled {} of {} events (in order: {})",
                self.polled, self.events, self.in_order
            ));
        }
        if self.b.relay_forwarded == 0 || self.a.routed_sent == 0 || self.c.routed_received == 0 {
            p.push("the events did not travel through the relay".to_owned());
        }
        if self.b.events_delivered != 0 {
            p.push(format!(
                "relay B's application received {} events",
                self.b.events_delivered
            ));
        }
        if self.b_peers != BTreeSet::from([a, c]) || self.b_peers.contains(&b) {
            p.push(format!("B holds sessions with {:?}", self.b_peers));
        }
        p
    }

    /// The readable section of the demo report.
    pub fn render(&self) -> String {
        let [a, b, c] = self.ids;
        let mut t = Table::new(&[Align::Left, Align::Left, Align::Right, Align::Left]);
        t = t.header(&["node", "role", "count", "what"]);
        t.row(&[
            format!("A {a}"),
            "sender".into(),
            thousands(self.a.routed_sent),
            format!(
                "datagrams A sent to C via B ({} events, sealed for C)",
                thousands(self.a.events_sent)
            ),
        ]);
        t.row(&[
            format!("B {b}"),
            "relay".into(),
            thousands(self.b.relay_forwarded),
            format!(
                "datagrams B forwarded A<->C, unread; events B's app got: {}",
                self.b.events_delivered
            ),
        ]);
        t.row(&[
            format!("C {c}"),
            "receiver".into(),
            thousands(self.c.routed_received),
            format!(
                "datagrams C received via B ({} events delivered, {} polled from bus C)",
                thousands(self.c.events_delivered),
                thousands(self.polled)
            ),
        ]);
        let secs = self.time.as_secs_f64().max(1e-9);
        format!(
            "\nmesh relay: bus A -> node A -> node B (relay) -> node C -> bus C, 127.0.0.1, \
             reliable stream\n{}  B's sessions: {} (the A-C session's keys exist only at A and C)\n  \
             {} events in {:.0} ms ({}), in order at C: {}, retransmitted frames: {}\n{}\n",
            t.render(2),
            self.b_peers
                .iter()
                .map(|p| if *p == a {
                    format!("A {p}")
                } else {
                    format!("C {p}")
                })
                .collect::<Vec<_>>()
                .join(", "),
            thousands(self.events),
            secs * 1e3,
            rate(self.events as f64 / secs),
            if self.in_order { "yes" } else { "NO" },
            self.a.frames_retransmitted,
            if self.problems().is_empty() {
                "OK: every event reached bus C once, in order, through the relay; B read none of them."
            } else {
                "FAILED: see the problems below."
            }
        )
    }
}
