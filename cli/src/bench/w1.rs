//! W1: ingest throughput. 2,000,000 pre-built 64-byte events into a bus on the memory adapter,
//! one at a time (`ingest`), in batches of 1,000 (`ingest_batch`), and from `&str` with JSON
//! validation inside the timed loop (`ingest_str`); with 1 shard (`w1.*`) and 4 (`w1_4shards.*`).
//!
//! The timer runs from the first call until the last event is accepted. Backpressure is
//! `block` (a full ring makes the producer wait for the drain worker; nothing is dropped), so
//! the figure is sustained ingest, not the speed of filling a ring. Retention is 2^21 events
//! per shard, more than one run ingests, so nothing is evicted inside the timer: with a small
//! retention the drain thread frees every evicted event's buffer while the producer allocates
//! new ones, and that cross-thread malloc/free traffic (glibc arena lock, no tcache reuse)
//! dominated `ingest_str` (about 1.8M/s instead of about 3M/s on the reference machine); see
//! `docs/benchmarks.md`.
//! After the timer: `flush()`, then every one of the events must have been accepted and stored
//! by the adapter (sent == received), with no drop.

use std::time::{Duration, Instant};

use net::{Backpressure, Event, EventBus, EventBusConfig};

use super::payload;
use super::plan::Plan;
use super::run::{Run, per_second};
use crate::failure::{CliResult, fail};

/// Ring capacity of each shard.
pub const RING: usize = 1 << 16;
/// Events retained per shard by the memory adapter (more than a run ingests: no eviction).
pub const RETAIN: usize = 1 << 21;
/// Events per `ingest_batch` call.
pub const BATCH: usize = 1000;

/// The three ingest paths.
#[derive(Debug, Clone, Copy)]
pub enum Mode {
    /// `ingest(Event)`, one call per event.
    Single,
    /// `ingest_batch` of [`BATCH`] events.
    Batch,
    /// `ingest_str(&str)`: validation inside the timed loop.
    Parse,
}

/// The W1 bus configuration for `shards` shards.
pub fn config(shards: u16) -> CliResult<EventBusConfig> {
    Ok(EventBusConfig::builder()
        .num_shards(shards)
        .ring_capacity(RING)
        .backpressure(Backpressure::Block {
            timeout: Duration::from_secs(60),
        })
        .memory(RETAIN, RETAIN * 128)
        .build()?)
}

/// The BENCHMARKS.md key of a mode and shard count.
pub fn key(mode: Mode, shards: u16) -> &'static str {
    match (mode, shards) {
        (Mode::Single, 1) => "w1.ingest_single_eps",
        (Mode::Batch, 1) => "w1.ingest_batch1000_eps",
        (Mode::Parse, 1) => "w1.ingest_parse_eps",
        (Mode::Single, _) => "w1_4shards.ingest_single_eps",
        (Mode::Batch, _) => "w1_4shards.ingest_batch1000_eps",
        (Mode::Parse, _) => "w1_4shards.ingest_parse_eps",
    }
}

/// One repetition.
pub fn run(mode: Mode, shards: u16, plan: &Plan) -> CliResult<Run> {
    let key = key(mode, shards);
    let n = plan.w1_events;
    let bus = EventBus::new(config(shards)?)?;
    let elapsed = match mode {
        Mode::Single => single(&bus, payload::events(n)?)?,
        Mode::Batch => batch(&bus, payload::events(n)?)?,
        Mode::Parse => parse(&bus, &payload::texts(n))?,
    };
    bus.flush()?;
    let stats = bus.stats();
    let dropped = stats.dropped.total() + stats.rejected.backpressure + stats.rejected.timeout;
    if stats.accepted != n || dropped != 0 || stats.in_flight != 0 {
        return Err(fail!(
            "{key}: {n} sent, {} accepted, {dropped} dropped or refused, {} in flight after flush",
            stats.accepted,
            stats.in_flight
        ));
    }
    let mut out = Run::default();
    out.figure(key, per_second(n, elapsed), n, stats.adapter.stored)?;
    bus.shutdown()?;
    Ok(out)
}

fn single(bus: &EventBus, events: Vec<Event>) -> CliResult<Duration> {
    let mut events = events.into_iter();
    let start = Instant::now();
    for e in events.by_ref() {
        bus.ingest(e)?;
    }
    let elapsed = start.elapsed();
    drop(events);
    Ok(elapsed)
}

fn batch(bus: &EventBus, events: Vec<Event>) -> CliResult<Duration> {
    let mut batches: Vec<Vec<Event>> = Vec::with_capacity(events.len() / BATCH + 1);
    let mut rest = events.into_iter();
    loop {
        let b: Vec<Event> = rest.by_ref().take(BATCH).collect();
        if b.is_empty() {
            break;
        }
        batches.push(b);
    }
    let mut batches = batches.into_iter();
    let start = Instant::now();
    for b in batches.by_ref() {
        let len = b.len();
        let report = bus.ingest_batch(b);
        if report.accepted() != len {
            let first = report.outcomes.iter().find_map(|o| o.as_ref().err());
            return Err(fail!(
                "ingest_batch accepted {} of {len}: {first:?}",
                report.accepted()
            ));
        }
    }
    let elapsed = start.elapsed();
    drop(batches);
    Ok(elapsed)
}

fn parse(bus: &EventBus, texts: &[String]) -> CliResult<Duration> {
    let start = Instant::now();
    for t in texts {
        bus.ingest_str(t)?;
    }
    Ok(start.elapsed())
}
