//! W3: emit-to-subscriber latency with one event in flight, default configuration.
//!
//! For each of 100,000 samples: take `t0`, `ingest` one pre-built 64-byte event; a subscriber
//! thread blocked in `next_blocking` takes `t1` as soon as it holds the event and sends `t1`
//! back on a channel; the sample is `t1 - t0`. The next event is emitted only after the
//! acknowledgement, so exactly one event is in flight (the ack's own latency is not measured).

use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use net::{EventBus, EventBusConfig, SubscribeOptions, SubscriptionItem};

use super::payload;
use super::plan::Plan;
use super::run::Run;
use crate::failure::{CliResult, fail, join};
use crate::latency::Latencies;

/// Longest wait for one event before the workload fails.
const STALL: Duration = Duration::from_secs(10);

/// One repetition.
pub fn run(plan: &Plan) -> CliResult<Run> {
    let n = plan.w3_samples;
    let bus = EventBus::new(EventBusConfig::default())?;
    let events = payload::events(n)?;
    let mut sub = bus.subscribe(SubscribeOptions::default())?;
    let (ack_tx, ack_rx) = crossbeam_channel::bounded::<Instant>(1);
    let subscriber: JoinHandle<CliResult<u64>> = std::thread::Builder::new()
        .name("w3-subscriber".to_owned())
        .spawn(move || {
            let mut received = 0u64;
            while received < n {
                match sub.next_blocking(Some(STALL)) {
                    Ok(Some(SubscriptionItem::Event(e))) => {
                        let t1 = Instant::now();
                        if e.seq != received {
                            return Err(fail!("w3: expected seq {received}, got {}", e.seq));
                        }
                        received += 1;
                        if ack_tx.send(t1).is_err() {
                            break;
                        }
                    }
                    Ok(Some(SubscriptionItem::Lagged { skipped })) => {
                        return Err(fail!("w3: subscriber lagged by {skipped}"));
                    }
                    Ok(None) => break,
                    Err(e) => return Err(fail!("w3: after {received} events: {e}")),
                }
            }
            Ok(received)
        })
        .map_err(|e| fail!("cannot start subscriber: {e}"))?;

    let mut lat = Latencies::with_capacity(n as usize);
    let mut sent = 0u64;
    for e in events {
        let t0 = Instant::now();
        bus.ingest(e)?;
        sent += 1;
        match ack_rx.recv_timeout(STALL) {
            Ok(t1) => lat.push(t1.saturating_duration_since(t0).as_nanos() as u64),
            Err(_) => break,
        }
    }
    drop(ack_rx);
    let received = join(subscriber, "w3 subscriber")?;
    bus.shutdown()?;
    let p50 = lat.percentile(50.0).unwrap_or(0) as f64 / 1e3;
    let p99 = lat.percentile(99.0).unwrap_or(0) as f64 / 1e3;
    let mut out = Run::default();
    out.figure("w3.p50_us", p50, sent, received)?;
    out.figure("w3.p99_us", p99, sent, received)?;
    Ok(out)
}
