//! The performance targets the issue set for these workloads, and whether a run meets them.

use std::collections::BTreeMap;

/// How a figure compares with its target.
#[derive(Debug, Clone, Copy)]
pub enum Bound {
    /// The figure must be at least this.
    AtLeast(f64),
    /// The figure must be at most this.
    AtMost(f64),
}

/// The target of a BENCHMARKS.md key, if it has one.
pub fn target(key: &str) -> Option<Bound> {
    Some(match key {
        "w1.ingest_single_eps" | "w1_4shards.ingest_single_eps" => Bound::AtLeast(10e6),
        "w1.ingest_batch1000_eps" | "w1_4shards.ingest_batch1000_eps" => Bound::AtLeast(20e6),
        "w1.ingest_parse_eps" | "w1_4shards.ingest_parse_eps" => Bound::AtLeast(4e6),
        "w2.e2e_eps" => Bound::AtLeast(5e6),
        "w3.p50_us" => Bound::AtMost(20.0),
        "w3.p99_us" => Bound::AtMost(100.0),
        "w4.heap_append_32b_ops" => Bound::AtLeast(10e6),
        "w4.heap_append_1k_ops" => Bound::AtLeast(2e6),
        "w4.disk_append_32b_ops" => Bound::AtLeast(1e6),
        "w5.header_roundtrip_ns" => Bound::AtMost(5.0),
        "w5.seal_open_64b_ns" => Bound::AtMost(600.0),
        "w6.mesh_reliable_eps" => Bound::AtLeast(2.5e6),
        "w7.rtt_p50_us" => Bound::AtMost(40.0),
        "w7.rtt_p99_us" => Bound::AtMost(120.0),
        _ => return None,
    })
}

impl Bound {
    /// True if `value` meets the bound.
    pub fn met(self, value: f64) -> bool {
        match self {
            Bound::AtLeast(t) => value >= t,
            Bound::AtMost(t) => value <= t,
        }
    }
}

/// Targets that relate two figures: `(description, ratio, required, met)`; `met` is `None`
/// for a ratio the issues ask to report without a bound.
pub fn relations(m: &BTreeMap<&'static str, f64>) -> Vec<(String, f64, String, Option<bool>)> {
    let mut out = Vec::new();
    if let (Some(e2e), Some(cb)) = (m.get("w2.e2e_eps"), m.get("w2.crossbeam_eps")) {
        let ratio = cb / e2e;
        out.push((
            "w2: crossbeam / bus".to_owned(),
            ratio,
            "<= 2.00x".to_owned(),
            Some(ratio <= 2.0),
        ));
    }
    for mode in [
        "ingest_single_eps",
        "ingest_batch1000_eps",
        "ingest_parse_eps",
    ] {
        if let (Some(one), Some(four)) = (
            m.get(format!("w1.{mode}").as_str()),
            m.get(format!("w1_4shards.{mode}").as_str()),
        ) {
            let ratio = four / one;
            out.push((
                format!("w1 {mode}: 4 shards / 1 shard"),
                ratio,
                ">= 0.80x".to_owned(),
                Some(ratio >= 0.8),
            ));
        }
    }
    if let (Some(mesh), Some(udp)) = (m.get("w6.mesh_reliable_eps"), m.get("w6.raw_udp_eps")) {
        out.push((
            "w6: mesh / plain UDP".to_owned(),
            mesh / udp,
            "(reported)".to_owned(),
            None,
        ));
    }
    out
}
