//! `meta` of the bench JSON: the machine, the build, the plan and each workload's configuration
//! and sent/received counts.

use serde_json::{Map, Value, json};

use super::plan::Plan;
use super::runner::Measured;
use super::{payload, w1, w2, w4};
use crate::failure::CliResult;
use crate::machine;

/// Builds the `meta` object.
pub fn collect(plan: &Plan, measured: &Measured) -> CliResult<Value> {
    let counts: Map<String, Value> = measured
        .counts
        .iter()
        .map(|(k, c)| {
            (
                (*k).to_owned(),
                json!({"sent": c.sent, "received": c.received}),
            )
        })
        .collect();
    let samples: Map<String, Value> = measured
        .samples
        .iter()
        .map(|(k, v)| {
            let rounded: Vec<f64> = v.iter().map(|x| (x * 100.0).round() / 100.0).collect();
            ((*k).to_owned(), json!(rounded))
        })
        .collect();
    Ok(json!({
        "nproc": machine::nproc(),
        "cpu_model": machine::cpu_model(),
        "profile": machine::profile(),
        "os": format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH),
        "engine_version": net::VERSION,
        "quick": plan.quick,
        "warmups": plan.warmups,
        "repetitions": plan.repetitions,
        "statistic": "median of repetitions",
        "payload_bytes": payload::PAYLOAD_BYTES,
        "w1": {
            "events": plan.w1_events,
            "batch": w1::BATCH,
            "config_1shard": w1::config(1)?.to_json(),
            "config_4shards": w1::config(4)?.to_json(),
        },
        "w2": {
            "events": plan.w2_events,
            "subscriber_batch": w2::SUBSCRIBER_BATCH,
            "channel_capacity": w2::RING,
            "config": w2::config(plan.w2_events)?.to_json(),
        },
        "w3": {
            "samples": plan.w3_samples,
            "config": net::EventBusConfig::default().to_json(),
        },
        "w4": net::redex::bench::W4Case::ALL
            .iter()
            .map(|&c| (c.key().to_owned(), json!({"appends": w4::appends(c, plan)})))
            .collect::<Map<String, Value>>(),
        "w5": {
            "iterations": plan.w5_iterations,
        },
        "w6": {
            "events": plan.w6_events,
            "event_bytes": 64,
            "stream": "reliable",
            "udp_datagram_bytes": 1400,
            "udp_events_per_datagram": 20,
        },
        "w7": {
            "samples": plan.w7_samples,
            "event_bytes": 64,
        },
        "counts": counts,
        "samples": samples,
    }))
}
