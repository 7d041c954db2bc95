//! The demo's filtered push subscriber: receives `kind == click` events until the bus shuts
//! down, records emit->receive latency, and checks that nothing repeats and nothing unmatched
//! slips through the filter.

use std::collections::HashSet;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use net::{Subscription, SubscriptionItem};

use super::event::Seen;
use crate::failure::{CliResult, fail};
use crate::latency::Latencies;

/// Longest wait for the next item before the demo gives up (a stuck bus, not a slow one).
const STALL: Duration = Duration::from_secs(60);

/// What the subscriber saw.
#[derive(Debug, Default)]
pub struct Received {
    /// Distinct events received.
    pub received: u64,
    /// Events received a second time (same shard and sequence number).
    pub duplicates: u64,
    /// Received events the filter should have rejected.
    pub mismatched: u64,
    /// Events lost to retention before the subscriber read them.
    pub lagged: u64,
    /// Emit->receive latency of every received event.
    pub latency: Latencies,
}

/// Starts the subscriber thread; it ends when the bus has shut down and everything is read.
pub fn spawn(mut sub: Subscription, clock: Instant) -> CliResult<JoinHandle<CliResult<Received>>> {
    std::thread::Builder::new()
        .name("demo-subscriber".to_owned())
        .spawn(move || {
            let mut seen = Received {
                latency: Latencies::with_capacity(1 << 16),
                ..Received::default()
            };
            let mut ids = HashSet::new();
            loop {
                match sub.next_blocking(Some(STALL)) {
                    Ok(Some(SubscriptionItem::Event(e))) => {
                        let now = clock.elapsed().as_nanos() as u64;
                        if !ids.insert((e.shard, e.seq)) {
                            seen.duplicates += 1;
                            continue;
                        }
                        seen.received += 1;
                        match e.event.decode::<Seen>() {
                            Ok(s) if s.kind == "click" => {
                                seen.latency.push(now.saturating_sub(s.ts_ns));
                            }
                            _ => seen.mismatched += 1,
                        }
                    }
                    Ok(Some(SubscriptionItem::Lagged { skipped })) => seen.lagged += skipped,
                    Ok(None) => return Ok(seen),
                    Err(e) => return Err(fail!("subscriber: {e}")),
                }
            }
        })
        .map_err(|e| fail!("cannot start subscriber thread: {e}"))
}
