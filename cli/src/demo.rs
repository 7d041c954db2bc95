//! `net demo`: one bus (memory adapter by default; `--adapter` picks Redis or JetStream), `P`
//! producer threads, a filtered push subscriber and a cursor poller, then a readable report.
//!
//! What it shows: events emitted / accepted / delivered / read by the poller / matched by the
//! engine-side filter `{"path":"kind","eq":"click"}`, ingest and end-to-end throughput, and the
//! emit->subscriber latency (each event carries its emit time as monotonic nanoseconds since an
//! `Instant` shared by every thread). The run fails (exit 1) when the counters do not reconcile
//! after `flush()` (`accepted == delivered + dropped`), when the poller or the subscriber missed
//! or repeated an event, or when shutdown reports undelivered events.
//!
//! Then (unless `--mesh-events 0`) the mesh part ([`relay`]): three nodes on 127.0.0.1,
//! A -> B (relay) -> C, bus A forwarding through the mesh adapter to bus C; it fails when an
//! event is missing or repeated at C or when the events did not really pass through B.

mod adapter;
mod event;
mod poller;
mod producer;
mod relay;
mod report;
mod subscriber;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use clap::Args;
use net::{Backpressure, EventBus, EventBusConfig, Filter, SubscribeOptions};

use crate::failure::{CliResult, fail, join};

/// The filter the demo subscriber uses (evaluated inside the engine).
pub const CLICK_FILTER: &str = r#"{"path":"kind","eq":"click"}"#;

/// Options of `net demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Total events to emit (split evenly across producers).
    #[arg(long, default_value_t = 200_000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub events: u64,
    /// Producer threads.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub producers: u16,
    /// Shards of the bus.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub shards: u16,
    /// Where events go: `memory`, `redis://host[:port][/db]` or `nats://host[:port]` (JetStream).
    #[arg(long, default_value = "memory", value_parser = adapter::parse)]
    pub adapter: adapter::AdapterFlag,
    /// Events sent through the three-node mesh relay part (0 skips it).
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(0..=10_000_000))]
    pub mesh_events: u64,
}

/// The bus configuration of the demo: `block` backpressure (producers wait instead of losing
/// events) and retention large enough to keep every event, so the poller and the subscriber can
/// account for all of them.
fn config(args: &DemoArgs) -> CliResult<EventBusConfig> {
    let keep = (args.events as usize).max(1 << 20);
    Ok(EventBusConfig::builder()
        .num_shards(args.shards)
        .backpressure(Backpressure::Block {
            timeout: Duration::from_secs(30),
        })
        .adapter(args.adapter.config(keep))
        .build()?)
}

/// Runs the demo and prints its report; `Err` when an accepted event went missing.
pub fn run(args: &DemoArgs) -> CliResult<()> {
    let config = config(args)?;
    let bus = Arc::new(EventBus::new(config)?);
    let clock = Instant::now();

    let subscription = bus.subscribe(SubscribeOptions {
        filter: Some(Filter::from_json(CLICK_FILTER)?),
        ..SubscribeOptions::default()
    })?;
    let subscriber = subscriber::spawn(subscription, clock)?;
    let done = Arc::new(AtomicBool::new(false));
    let poller = poller::spawn(bus.clone(), done.clone())?;

    let producers = args.producers as u64;
    let start = Arc::new(Barrier::new(args.producers as usize + 1));
    let handles = (0..producers)
        .map(|p| {
            let share = args.events / producers + u64::from(p < args.events % producers);
            producer::spawn(bus.clone(), p, share, clock, start.clone())
        })
        .collect::<CliResult<Vec<_>>>()?;
    start.wait();
    let t0 = Instant::now();
    let mut tallies = Vec::with_capacity(handles.len());
    for h in handles {
        tallies.push(join(h, "producer")?);
    }
    let emit_time = t0.elapsed();
    bus.flush()?;
    let flush_time = t0.elapsed();
    let stats = bus.stats();

    done.store(true, Ordering::SeqCst);
    let polled = join(poller, "poller")?;
    let shutdown = bus.shutdown()?;
    let seen = join(subscriber, "subscriber")?;

    let outcome = report::Outcome {
        args,
        config: bus.config(),
        producers: producer::Tally::sum(&tallies),
        stats,
        polled,
        seen,
        emit_time,
        flush_time,
        shutdown,
    };
    print!("{}", outcome.render());
    let mut problems = outcome.problems();
    if args.mesh_events > 0 {
        let relay = relay::run(args.mesh_events)?;
        print!("{}", relay.render());
        problems.extend(relay.problems());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(fail!(
            "the demo lost or repeated events: {}",
            problems.join("; ")
        ))
    }
}
