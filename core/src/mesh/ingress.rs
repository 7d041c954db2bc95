//! [`MeshIngress`]: a thread feeding events received by a [`MeshNode`] into a local
//! [`EventBus`].
//!
//! Promises: every event of every `Data` delivery the node hands out (from any peer, on any
//! stream, or only `stream_id` if one is set) goes through the bus's own raw-batch ingest, so
//! the receiving bus validates it and applies its own backpressure policy; each outcome is
//! counted ([`IngressStats`]). Deliveries are ingested in the order the node hands them out, so a
//! reliable stream's order is kept up to the bus's shard choice. [`MeshIngress::stop`] (also on
//! drop) ends the thread and joins it within about one receive tick.
//!
//! Not promised: the ingress takes *every* event of the node (connection and health events are
//! discarded), so nothing else should read the same node; events the bus rejects are counted,
//! not retried.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::Mutex;

use crate::EventBus;
use crate::mesh::node::MeshNode;
use crate::mesh::session::{Event, MeshError};

/// How long one receive waits before the stop flag is checked again.
const TICK: Duration = Duration::from_millis(20);

/// Counters of a [`MeshIngress`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngressStats {
    /// Events received in `Data` deliveries (of the accepted stream).
    pub received: u64,
    /// Events the bus accepted.
    pub ingested: u64,
    /// Events the bus refused (invalid, too large, backpressure, shut down).
    pub rejected: u64,
}

#[derive(Default)]
struct Counters {
    received: AtomicU64,
    ingested: AtomicU64,
    rejected: AtomicU64,
}

/// Receives from a node and ingests into a bus on its own thread.
pub struct MeshIngress {
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for MeshIngress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeshIngress")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl MeshIngress {
    /// Starts the thread. With `stream_id` set, deliveries on other streams are discarded
    /// (and not counted).
    pub fn start(
        node: Arc<MeshNode>,
        bus: Arc<EventBus>,
        stream_id: Option<u64>,
    ) -> std::io::Result<MeshIngress> {
        let stop = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(Counters::default());
        let (t_stop, t_counters) = (Arc::clone(&stop), Arc::clone(&counters));
        let thread = std::thread::Builder::new()
            .name("mesh-ingress".into())
            .spawn(move || run(&node, &bus, stream_id, &t_stop, &t_counters))?;
        Ok(MeshIngress {
            stop,
            counters,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> IngressStats {
        IngressStats {
            received: self.counters.received.load(Ordering::Relaxed),
            ingested: self.counters.ingested.load(Ordering::Relaxed),
            rejected: self.counters.rejected.load(Ordering::Relaxed),
        }
    }

    /// Whether the thread is still running (it also ends when the node shuts down).
    pub fn is_running(&self) -> bool {
        self.thread
            .lock()
            .as_ref()
            .is_some_and(|t| !t.is_finished())
    }

    /// Stops the thread and joins it. Idempotent.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.lock().take() {
            // The loop does not panic; a join error leaves nothing to clean up.
            let _ = t.join();
        }
    }
}

impl Drop for MeshIngress {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run(
    node: &MeshNode,
    bus: &EventBus,
    stream_id: Option<u64>,
    stop: &AtomicBool,
    counters: &Counters,
) {
    let mut events = Vec::new();
    while !stop.load(Ordering::Acquire) {
        match node.recv_batch(&mut events, TICK) {
            Ok(_) | Err(MeshError::Timeout) => {}
            Err(_) => return,
        }
        for ev in events.drain(..) {
            let Event::Data(d) = ev else { continue };
            if stream_id.is_some_and(|s| s != d.stream_id) {
                continue;
            }
            let n = d.len() as u64;
            counters.received.fetch_add(n, Ordering::Relaxed);
            let report = bus.ingest_raw_batch(d.events());
            let ok = report.accepted() as u64;
            counters.ingested.fetch_add(ok, Ordering::Relaxed);
            counters
                .rejected
                .fetch_add(report.outcomes.len() as u64 - ok, Ordering::Relaxed);
        }
    }
}
