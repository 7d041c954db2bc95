//! [`BusLink`]: the weak handle a bus gives its adapter ([`Adapter::attach`]), through which an
//! adapter that also *receives* events from elsewhere (the mesh adapter) puts them into the
//! bus's rings like any producer.
//!
//! Promises: events ingested through a link take the same path as
//! [`EventBus::ingest_batch`](super::EventBus::ingest_batch) would give them one by one (size
//! check, partition key or one round-robin shard per call, backpressure, counters), so the
//! bus's `stats()`, `poll` and `subscribe` see them like local events. A link does not keep the
//! bus alive: once the bus is dropped, [`BusLink::ingest`] returns `None`.
//! Not promised: anything marking these events as received; the adapter sees them again in
//! `on_batch` and must recognise them itself if it cares.
//!
//! [`Adapter::attach`]: crate::adapter::Adapter::attach

use std::sync::Weak;

use super::{BatchReport, Inner};
use crate::event::Event;

/// A weak handle to a bus, handed to its adapter once, right after the bus is built.
#[derive(Clone)]
pub struct BusLink(pub(super) Weak<Inner>);

impl std::fmt::Debug for BusLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BusLink")
            .field("alive", &(self.0.strong_count() > 0))
            .finish()
    }
}

impl BusLink {
    /// Ingests already validated events in order, reporting each outcome; `None` when the bus
    /// is gone. Without a partition key the whole call goes to one shard (round robin per
    /// call), so it keeps its order.
    pub fn ingest(&self, events: Vec<Event>) -> Option<BatchReport> {
        let inner = self.0.upgrade()?;
        let outcomes = match inner.enter() {
            Err(e) => events.iter().map(|_| Err(e.clone())).collect(),
            Ok(_guard) => {
                let shard = inner.round_robin();
                events
                    .into_iter()
                    .map(|event| {
                        inner.check_size(&event).and_then(|()| {
                            let s = if inner.partition.is_some() {
                                inner.pick_shard(&event, None)
                            } else {
                                shard
                            };
                            inner.push(s, event)
                        })
                    })
                    .collect()
            }
        };
        Some(BatchReport { outcomes })
    }

    /// Whether the bus still exists.
    pub fn is_alive(&self) -> bool {
        self.0.strong_count() > 0
    }
}
