//! Demo producers: each thread emits its share of events with `ingest_str` (JSON validated by
//! the engine) and counts what was accepted, by kind.

use std::sync::{Arc, Barrier};
use std::thread::JoinHandle;
use std::time::Instant;

use net::EventBus;

use super::event::{self, KINDS, Rng};
use crate::failure::{CliResult, fail};

/// What one producer (or all of them, summed) did.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// Events offered to the bus.
    pub emitted: u64,
    /// Events the bus accepted (got a receipt).
    pub accepted: u64,
    /// Accepted events of kind `click` (what the filtered subscriber must receive).
    pub clicks: u64,
    /// Offered events the bus refused, with the first error seen.
    pub refused: u64,
    /// The first refusal, for the report.
    pub first_error: Option<String>,
}

impl Tally {
    /// The sum of several tallies.
    pub fn sum(all: &[Tally]) -> Tally {
        all.iter().fold(Tally::default(), |mut acc, t| {
            acc.emitted += t.emitted;
            acc.accepted += t.accepted;
            acc.clicks += t.clicks;
            acc.refused += t.refused;
            if acc.first_error.is_none() {
                acc.first_error.clone_from(&t.first_error);
            }
            acc
        })
    }
}

/// Starts producer `id`, which waits on `start` and then emits `count` events.
pub fn spawn(
    bus: Arc<EventBus>,
    id: u64,
    count: u64,
    clock: Instant,
    start: Arc<Barrier>,
) -> CliResult<JoinHandle<CliResult<Tally>>> {
    std::thread::Builder::new()
        .name(format!("demo-producer-{id}"))
        .spawn(move || {
            start.wait();
            Ok(emit(&bus, id, count, clock))
        })
        .map_err(|e| fail!("cannot start producer thread: {e}"))
}

fn emit(bus: &EventBus, id: u64, count: u64, clock: Instant) -> Tally {
    let mut rng = Rng::new(id + 1);
    let mut buf = String::with_capacity(160);
    let mut tally = Tally::default();
    for index in 0..count {
        let r = rng.next();
        let kind = KINDS[(r % KINDS.len() as u64) as usize];
        let ts_ns = clock.elapsed().as_nanos() as u64;
        event::write(&mut buf, id, index, kind, (r >> 8) % 1000, ts_ns);
        tally.emitted += 1;
        match bus.ingest_str(&buf) {
            Ok(_) => {
                tally.accepted += 1;
                tally.clicks += u64::from(kind == "click");
            }
            Err(e) => {
                tally.refused += 1;
                tally.first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }
    tally
}
