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
//!
//! Linked mode ([`MeshIngress::start_linked`], used by the mesh adapter built from JSON): the
//! bus is reached through the [`BusLink`] it hands its adapter, and every received event is
//! registered in [`ReceivedMarks`] before it enters the rings, so the adapter recognises it in
//! `on_batch` and stores it without forwarding it again (no ping-pong between two buses that
//! list each other as peers). Events are validated here (invalid JSON is counted `rejected`).

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;

use crate::bus::BusLink;
use crate::event::Event;
use crate::mesh::node::MeshNode;
use crate::mesh::session::{Event as MeshEvent, MeshError};
use crate::{EventBus, event};

/// How long one receive waits before the stop flag is checked again.
const TICK: Duration = Duration::from_millis(20);

/// Most received deliveries tracked at once by [`ReceivedMarks`]; beyond it the oldest mark is
/// forgotten (its events, if still in a ring, would be forwarded like local ones).
pub const MAX_MARKS: usize = 65_536;

/// The memory of received events that are on their way through the bus's rings.
///
/// Each received delivery is copied into one buffer; its address range is registered (with a
/// count) *before* its events are ingested, so there is no race with the drain workers. The
/// buffer is kept alive while registered, so its addresses cannot be reused by other events.
#[derive(Default)]
pub struct ReceivedMarks {
    inner: Mutex<MarkTable>,
    live: AtomicUsize,
    forgotten: AtomicU64,
}

#[derive(Default)]
struct MarkTable {
    /// Start address -> mark.
    ranges: BTreeMap<usize, Mark>,
    /// Registration order, for forgetting the oldest beyond [`MAX_MARKS`].
    order: VecDeque<(usize, u64)>,
    next_id: u64,
}

struct Mark {
    end: usize,
    left: usize,
    id: u64,
    _buf: Bytes,
}

impl std::fmt::Debug for ReceivedMarks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceivedMarks")
            .field("live", &self.live.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl ReceivedMarks {
    /// Registers `count` events living in `buf`; returns the mark's id for [`Self::settle`].
    fn register(&self, buf: &Bytes, count: usize) -> u64 {
        let start = buf.as_ptr() as usize;
        let mut t = self.inner.lock();
        let id = t.next_id;
        t.next_id += 1;
        t.ranges.insert(
            start,
            Mark {
                end: start + buf.len(),
                left: count,
                id,
                _buf: buf.clone(),
            },
        );
        t.order.push_back((start, id));
        while t.order.len() > MAX_MARKS {
            if let Some((old, old_id)) = t.order.pop_front()
                && t.ranges.get(&old).is_some_and(|m| m.id == old_id)
            {
                t.ranges.remove(&old);
                self.forgotten.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.live.store(t.ranges.len(), Ordering::Release);
        id
    }

    /// `rejected` events of mark `id` never entered a ring: stop expecting them.
    fn settle(&self, start: usize, id: u64, rejected: usize) {
        if rejected == 0 {
            return;
        }
        let mut t = self.inner.lock();
        if let Some(m) = t.ranges.get_mut(&start)
            && m.id == id
        {
            m.left = m.left.saturating_sub(rejected);
            if m.left == 0 {
                t.ranges.remove(&start);
            }
        }
        self.live.store(t.ranges.len(), Ordering::Release);
    }

    /// Whether any received event is expected (cheap: one atomic load).
    pub fn is_empty(&self) -> bool {
        self.live.load(Ordering::Acquire) == 0
    }

    /// For each of `raws` (in order) whether it is a received event; each one found is counted
    /// off its mark, and a mark is forgotten once all its events were counted (the bus hands
    /// each event to `on_batch` once, so counting is enough).
    pub fn take(&self, raws: &[&[u8]], received: &mut Vec<bool>) {
        received.clear();
        if self.is_empty() {
            received.resize(raws.len(), false);
            return;
        }
        let mut t = self.inner.lock();
        for raw in raws {
            let at = raw.as_ptr() as usize;
            let hit = match t.ranges.range_mut(..=at).next_back() {
                Some((&start, m)) if at < m.end => {
                    m.left = m.left.saturating_sub(1);
                    Some((start, m.left == 0))
                }
                _ => None,
            };
            if let Some((start, done)) = hit
                && done
            {
                t.ranges.remove(&start);
            }
            received.push(hit.is_some());
        }
        self.live.store(t.ranges.len(), Ordering::Release);
    }

    /// Marks forgotten because more than [`MAX_MARKS`] were live (normally 0).
    pub fn forgotten(&self) -> u64 {
        self.forgotten.load(Ordering::Relaxed)
    }
}

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
            .spawn(move || run(&node, &Sink::Bus(&bus), stream_id, &t_stop, &t_counters))?;
        Ok(MeshIngress {
            stop,
            counters,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Starts the thread in linked mode: it waits until `link` is set (the bus calls the
    /// adapter's `attach` right after it is built), then ingests through it, registering every
    /// event in `marks` first. It ends when the node shuts down or the bus is gone.
    pub fn start_linked(
        node: Arc<MeshNode>,
        link: Arc<OnceLock<BusLink>>,
        marks: Arc<ReceivedMarks>,
        stream_id: Option<u64>,
    ) -> std::io::Result<MeshIngress> {
        let stop = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(Counters::default());
        let (t_stop, t_counters) = (Arc::clone(&stop), Arc::clone(&counters));
        let thread = std::thread::Builder::new()
            .name("mesh-ingress".into())
            .spawn(move || {
                let link = loop {
                    if t_stop.load(Ordering::Acquire) {
                        return;
                    }
                    if let Some(l) = link.get() {
                        break l;
                    }
                    std::thread::sleep(Duration::from_millis(1));
                };
                let sink = Sink::Link {
                    link,
                    marks: &marks,
                };
                run(&node, &sink, stream_id, &t_stop, &t_counters)
            })?;
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

    /// Stops the thread and joins it (unless called on that thread itself). Idempotent.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.lock().take()
            && t.thread().id() != std::thread::current().id()
        {
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

/// Where received events go.
enum Sink<'a> {
    /// An owned bus (public API).
    Bus(&'a EventBus),
    /// The bus of the adapter that owns the node, with the marks that stop re-forwarding.
    Link {
        link: &'a BusLink,
        marks: &'a ReceivedMarks,
    },
}

impl Sink<'_> {
    /// Ingests one delivery; returns `(accepted, rejected)`, or `None` when the bus is gone.
    fn ingest<'e>(&self, events: impl Iterator<Item = &'e [u8]>) -> Option<(u64, u64)> {
        match self {
            Sink::Bus(bus) => {
                let report = bus.ingest_raw_batch(events);
                let ok = report.accepted() as u64;
                Some((ok, report.outcomes.len() as u64 - ok))
            }
            Sink::Link { link, marks } => {
                // Validate and copy the delivery's valid events into one buffer.
                let mut buf = Vec::new();
                let mut ends = Vec::new();
                let mut invalid = 0u64;
                for raw in events {
                    if event::validate(raw).is_ok() {
                        buf.extend_from_slice(raw);
                        ends.push(buf.len());
                    } else {
                        invalid += 1;
                    }
                }
                if ends.is_empty() {
                    return Some((0, invalid));
                }
                let buf = Bytes::from(buf);
                let start = buf.as_ptr() as usize;
                let id = marks.register(&buf, ends.len());
                let mut at = 0;
                let batch: Vec<Event> = ends
                    .iter()
                    .map(|&end| {
                        let e = Event::from_validated(buf.slice(at..end));
                        at = end;
                        e
                    })
                    .collect();
                let Some(report) = link.ingest(batch) else {
                    marks.settle(start, id, ends.len());
                    return None;
                };
                let ok = report.accepted();
                marks.settle(start, id, ends.len() - ok);
                Some((ok as u64, (ends.len() - ok) as u64 + invalid))
            }
        }
    }
}

fn run(
    node: &MeshNode,
    sink: &Sink<'_>,
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
            let MeshEvent::Data(d) = ev else { continue };
            if stream_id.is_some_and(|s| s != d.stream_id) {
                continue;
            }
            counters
                .received
                .fetch_add(d.len() as u64, Ordering::Relaxed);
            let Some((ok, bad)) = sink.ingest(d.events()) else {
                return;
            };
            counters.ingested.fetch_add(ok, Ordering::Relaxed);
            counters.rejected.fetch_add(bad, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slices(buf: &Bytes, ends: &[usize]) -> Vec<Bytes> {
        let mut at = 0;
        ends.iter()
            .map(|&e| {
                let s = buf.slice(at..e);
                at = e;
                s
            })
            .collect()
    }

    #[test]
    fn marks_recognise_each_received_event_once_and_nothing_else() {
        let marks = ReceivedMarks::default();
        assert!(marks.is_empty());
        let buf = Bytes::from(b"{\"a\":1}[2]\"x\"".to_vec());
        let events = slices(&buf, &[7, 10, 13]);
        let start = buf.as_ptr() as usize;
        let id = marks.register(&buf, 3);
        assert!(!marks.is_empty());
        let local = Bytes::from(b"{\"a\":1}".to_vec());
        let raws: Vec<&[u8]> = vec![&events[1], &local, &events[0]];
        let mut got = Vec::new();
        marks.take(&raws, &mut got);
        assert_eq!(got, [true, false, true]);
        // The third one still is; then the mark is gone and nothing of it is recognised.
        marks.take(&[&events[2]], &mut got);
        assert_eq!(got, [true]);
        assert!(marks.is_empty(), "every event seen: the mark is gone");
        marks.take(&[&events[0], &local], &mut got);
        assert_eq!(got, [false, false]);
        // Settling a mark that is gone changes nothing.
        marks.settle(start, id, 1);
        assert!(marks.is_empty());
    }

    #[test]
    fn rejected_events_settle_a_mark_and_the_table_is_bounded() {
        let marks = ReceivedMarks::default();
        let buf = Bytes::from(b"[1][2]".to_vec());
        let id = marks.register(&buf, 2);
        marks.settle(buf.as_ptr() as usize, id, 1);
        assert!(!marks.is_empty());
        let events = slices(&buf, &[3, 6]);
        let mut got = Vec::new();
        marks.take(&[&events[0]], &mut got);
        assert_eq!(got, [true]);
        assert!(marks.is_empty(), "one taken + one rejected = done");

        let bufs: Vec<Bytes> = (0..MAX_MARKS + 10)
            .map(|i| Bytes::from(format!("[{i}]").into_bytes()))
            .collect();
        for b in &bufs {
            marks.register(b, 1);
        }
        assert_eq!(marks.forgotten(), 10);
        // The oldest were forgotten, the newest are still recognised.
        marks.take(&[&bufs[0][..], &bufs[MAX_MARKS + 9][..]], &mut got);
        assert_eq!(got, [false, true]);
    }
}
