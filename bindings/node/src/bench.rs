//! The engine's own figures for the workloads `make bench` measures from JS.
//!
//! `engineBench(workload, {events, batch, config})` runs one workload directly against the
//! engine, on the thread pool, and resolves to `{events, seconds, eps}`. The JS benchmark
//! (`sdk-ts/bench/`) runs the same workload through the SDK on a bus with the same
//! configuration in the same process, so the two figures side by side show what the binding
//! costs. The payload is the standard 64-byte event of `BENCHMARKS.md`:
//! `{"token":"hello","index":N,"pad":"..."}`. This is measurement code, not API.
//!
//! Workloads: `emit_raw` (`ingest_str` per pre-serialized event), `emit_raw_batch`
//! (`ingest_raw_batch` of `batch` pre-serialized events), `emit_batch` (`ingest_batch` of
//! `batch` structs serialized inside the timed loop), `subscribe` (`events` events are stored
//! first; a subscriber then reads every retained one, and the timer covers the reads only).

use std::time::{Duration, Instant};

use serde::Serialize;

use net::{Error, Event, EventBus, EventBusConfig, SubscribeOptions, SubscriptionItem};

use crate::error::{Fail, Res};
use crate::js::{self, Builder, Raw, RawEnv};
use crate::options;
use crate::output::ToJs;
use crate::task::EngineTask;

/// The standard payload, serialized with serde in the `emit_batch` workload.
#[derive(Serialize)]
struct Payload {
    token: &'static str,
    index: u64,
    pad: String,
}

/// Padding that makes the payload of `index` exactly 64 bytes.
fn pad_for(index: u64) -> String {
    let bare = format!(r#"{{"token":"hello","index":{index},"pad":""}}"#).len();
    "x".repeat(64usize.saturating_sub(bare))
}

fn payload(index: u64) -> Payload {
    Payload {
        token: "hello",
        index,
        pad: pad_for(index),
    }
}

/// One workload's result.
struct Figure {
    events: u64,
    elapsed: Duration,
}

impl ToJs for Figure {
    fn to_js(self: Box<Self>, env: RawEnv) -> Res<Raw> {
        let b = Builder::new(env);
        let o = b.object()?;
        let secs = self.elapsed.as_secs_f64();
        b.set(o, c"events", b.num(self.events as f64)?)?;
        b.set(o, c"seconds", b.num(secs)?)?;
        b.set(o, c"eps", b.num(self.events as f64 / secs.max(1e-9))?)?;
        Ok(o)
    }
}

struct Params {
    workload: String,
    events: u64,
    batch: usize,
    config: EventBusConfig,
}

fn run(p: Params) -> Result<Figure, Error> {
    let bus = EventBus::new(p.config)?;
    let batch = p.batch.max(1);
    let texts: Vec<String> = (0..batch as u64)
        .map(|i| serde_json::to_string(&payload(i)).unwrap_or_default())
        .collect();
    let rounds = p.events.div_ceil(batch as u64);
    let start = Instant::now();
    let mut accepted = 0u64;
    match p.workload.as_str() {
        "emit_raw" => {
            for i in 0..p.events {
                bus.ingest_str(&texts[(i % batch as u64) as usize])?;
                accepted += 1;
            }
        }
        "emit_raw_batch" => {
            for _ in 0..rounds {
                let report = bus.ingest_raw_batch(texts.iter().map(|t| t.as_bytes()));
                accepted += report.accepted() as u64;
            }
        }
        "emit_batch" => {
            let items: Vec<Payload> = (0..batch as u64).map(payload).collect();
            for _ in 0..rounds {
                let events = items
                    .iter()
                    .map(Event::from_serialize)
                    .collect::<Result<Vec<_>, _>>()?;
                accepted += bus.ingest_batch(events).accepted() as u64;
            }
        }
        "subscribe" => {
            for _ in 0..rounds {
                bus.ingest_raw_batch(texts.iter().map(|t| t.as_bytes()));
            }
            bus.flush()?;
            // Retention may have evicted the oldest; read exactly what is retained.
            let retained = bus.stats().adapter.retained;
            let mut sub = bus.subscribe(SubscribeOptions {
                batch: 1024,
                ..SubscribeOptions::default()
            })?;
            let start = Instant::now();
            let mut bytes = 0usize;
            while accepted < retained {
                match sub.next_blocking(Some(Duration::from_secs(10)))? {
                    Some(SubscriptionItem::Event(e)) => {
                        bytes += e.event.len();
                        accepted += 1;
                    }
                    Some(SubscriptionItem::Lagged { .. }) => {}
                    None => break,
                }
            }
            std::hint::black_box(bytes);
            let elapsed = start.elapsed();
            bus.shutdown()?;
            return Ok(Figure {
                events: accepted,
                elapsed,
            });
        }
        other => {
            return Err(Error::InvalidArgument(format!(
                "unknown workload `{other}` (emit_raw, emit_raw_batch, emit_batch, subscribe)"
            )));
        }
    }
    let elapsed = start.elapsed();
    bus.shutdown()?;
    Ok(Figure {
        events: accepted,
        elapsed,
    })
}

fn params(env: RawEnv, workload: Raw, opts: Raw) -> Res<Params> {
    let workload = js::get_string(env, workload)?
        .ok_or_else(|| Fail::arg("engineBench: workload must be a string"))?;
    let mut p = Params {
        workload,
        events: 1_000_000,
        batch: 1000,
        config: EventBusConfig::default(),
    };
    if js::is_undefined(env, opts)? {
        return Ok(p);
    }
    for (key, value) in js::own_keys(env, opts)? {
        match key.as_str() {
            "events" | "batch" => {
                let n = js::get_number(env, value)?
                    .filter(|n| n.fract() == 0.0 && *n >= 1.0)
                    .ok_or_else(|| Fail::arg(format!("engineBench: {key} must be >= 1")))?;
                if key == "events" {
                    p.events = n as u64;
                } else {
                    p.batch = n as usize;
                }
            }
            "config" => p.config = options::config(env, value)?,
            other => return Err(Fail::arg(format!("engineBench: unknown option `{other}`"))),
        }
    }
    Ok(p)
}

/// `engineBench(workload, options?)`: see the module docs.
pub fn engine_bench(env: RawEnv, [workload, opts]: [Raw; 2]) -> Res<Raw> {
    EngineTask::spawn(env, params(env, workload, opts), run)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_is_64_bytes() {
        for i in [0, 7, 12345, 999_999_999] {
            assert_eq!(serde_json::to_string(&payload(i)).unwrap().len(), 64, "{i}");
        }
    }

    #[test]
    fn workloads_run() {
        for w in ["emit_raw", "emit_raw_batch", "emit_batch", "subscribe"] {
            let fig = run(Params {
                workload: w.into(),
                events: 2000,
                batch: 100,
                config: EventBusConfig::default(),
            })
            .unwrap();
            assert_eq!(fig.events, 2000, "{w}");
        }
        assert!(
            run(Params {
                workload: "nope".into(),
                events: 1,
                batch: 1,
                config: EventBusConfig::default(),
            })
            .is_err()
        );
    }
}
