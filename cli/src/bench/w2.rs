//! W2: end-to-end throughput. One producer thread ingests 1,000,000 pre-built 64-byte events
//! while one subscriber thread receives them all with `next_blocking`; the timer starts at the
//! producer's first ingest and stops when the subscriber holds the last event. In the same run,
//! the same events go through a `crossbeam` bounded channel of the ring's capacity, producer
//! thread to consumer thread, as the reference.
//!
//! Nothing may be lost: backpressure is `block` with a long timeout and retention holds every
//! event, so the subscriber cannot lag. The subscriber checks that sequence numbers arrive
//! 0, 1, 2, ... and that it holds exactly the buffers that were sent (an address fingerprint).

use std::sync::{Arc, Barrier};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use net::{Backpressure, Event, EventBus, EventBusConfig, SubscribeOptions, SubscriptionItem};

use super::payload::{self, fingerprint, fingerprint_one};
use super::plan::Plan;
use super::run::{Run, per_second};
use crate::failure::{CliResult, fail, join};

/// Ring capacity (and the crossbeam channel's capacity).
pub const RING: usize = 1 << 16;
/// Events the subscriber fetches per wake-up.
pub const SUBSCRIBER_BATCH: usize = 1024;
/// Longest a thread waits for the next event before the workload fails.
const STALL: Duration = Duration::from_secs(30);

/// The W2 bus configuration for `n` events.
pub fn config(n: u64) -> CliResult<EventBusConfig> {
    let keep = (n as usize).max(1 << 20);
    Ok(EventBusConfig::builder()
        .num_shards(1)
        .ring_capacity(RING)
        .backpressure(Backpressure::Block {
            timeout: Duration::from_secs(60),
        })
        .memory(keep, keep * 128)
        .build()?)
}

/// One repetition: the bus, then the channel.
pub fn run(plan: &Plan) -> CliResult<Run> {
    let n = plan.w2_events;
    let mut out = Run::default();
    let (eps, received) = bus(n)?;
    out.figure("w2.e2e_eps", eps, n, received)?;
    let (eps, received) = channel(n)?;
    out.figure("w2.crossbeam_eps", eps, n, received)?;
    Ok(out)
}

/// What a receiving thread reports: when it got the last event, how many, their fingerprint.
struct Receipt {
    last: Instant,
    received: u64,
    fingerprint: u64,
}

fn bus(n: u64) -> CliResult<(f64, u64)> {
    let bus = Arc::new(EventBus::new(config(n)?)?);
    let events = payload::events(n)?;
    let expected = fingerprint(&events);
    let mut sub = bus.subscribe(SubscribeOptions {
        batch: SUBSCRIBER_BATCH,
        ..SubscribeOptions::default()
    })?;
    let ready = Arc::new(Barrier::new(2));
    let subscriber: JoinHandle<CliResult<Receipt>> = {
        std::thread::Builder::new()
            .name("w2-subscriber".to_owned())
            .spawn(move || {
                let mut got = Receipt {
                    last: Instant::now(),
                    received: 0,
                    fingerprint: 0,
                };
                while got.received < n {
                    match sub.next_blocking(Some(STALL)) {
                        Ok(Some(SubscriptionItem::Event(e))) => {
                            if e.seq != got.received {
                                return Err(fail!(
                                    "w2: expected seq {}, got {} (missing or repeated)",
                                    got.received,
                                    e.seq
                                ));
                            }
                            got.received += 1;
                            got.fingerprint =
                                got.fingerprint.wrapping_add(fingerprint_one(&e.event));
                        }
                        Ok(Some(SubscriptionItem::Lagged { skipped })) => {
                            return Err(fail!("w2: subscriber lagged, {skipped} events evicted"));
                        }
                        Ok(None) => break,
                        Err(e) => {
                            return Err(fail!("w2: after {} events: {e}", got.received));
                        }
                    }
                }
                got.last = Instant::now();
                Ok(got)
            })
            .map_err(|e| fail!("cannot start subscriber: {e}"))?
    };
    let producer: JoinHandle<CliResult<Instant>> = {
        let bus = bus.clone();
        let ready = ready.clone();
        std::thread::Builder::new()
            .name("w2-producer".to_owned())
            .spawn(move || {
                ready.wait();
                let start = Instant::now();
                for e in events {
                    bus.ingest(e)?;
                }
                Ok(start)
            })
            .map_err(|e| fail!("cannot start producer: {e}"))?
    };
    ready.wait();
    let start = join(producer, "w2 producer")?;
    let got = join(subscriber, "w2 subscriber")?;
    bus.shutdown()?;
    if got.fingerprint != expected {
        return Err(fail!("w2: the subscriber's events are not the ones sent"));
    }
    Ok((per_second(n, got.last - start), got.received))
}

fn channel(n: u64) -> CliResult<(f64, u64)> {
    let events = payload::events(n)?;
    let expected = fingerprint(&events);
    let (tx, rx) = crossbeam_channel::bounded::<Event>(RING);
    let ready = Arc::new(Barrier::new(2));
    let consumer: JoinHandle<CliResult<(Receipt, Vec<Event>)>> = std::thread::Builder::new()
        .name("w2-consumer".to_owned())
        .spawn(move || {
            // Received events are kept (not freed inside the timer), like the bus retains them.
            let mut kept = Vec::with_capacity(n as usize);
            let mut got = Receipt {
                last: Instant::now(),
                received: 0,
                fingerprint: 0,
            };
            while got.received < n {
                match rx.recv_timeout(STALL) {
                    Ok(e) => {
                        got.received += 1;
                        got.fingerprint = got.fingerprint.wrapping_add(fingerprint_one(&e));
                        kept.push(e);
                    }
                    Err(e) => return Err(fail!("w2 channel: after {}: {e}", got.received)),
                }
            }
            got.last = Instant::now();
            Ok((got, kept))
        })
        .map_err(|e| fail!("cannot start consumer: {e}"))?;
    let producer: JoinHandle<CliResult<Instant>> = {
        let ready = ready.clone();
        std::thread::Builder::new()
            .name("w2-channel-producer".to_owned())
            .spawn(move || {
                ready.wait();
                let start = Instant::now();
                for e in events {
                    tx.send(e)
                        .map_err(|_| fail!("w2 channel: consumer went away"))?;
                }
                Ok(start)
            })
            .map_err(|e| fail!("cannot start producer: {e}"))?
    };
    ready.wait();
    let start = join(producer, "w2 channel producer")?;
    let (got, kept) = join(consumer, "w2 channel consumer")?;
    drop(kept);
    if got.fingerprint != expected {
        return Err(fail!(
            "w2 channel: the consumer's events are not the ones sent"
        ));
    }
    Ok((per_second(n, got.last - start), got.received))
}
