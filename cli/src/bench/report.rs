//! Output of `net bench`: one JSON object (`--json`) or a summary table with the targets.

use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use super::runner::Measured;
use super::targets::{self, Bound};
use crate::table::{Align, Table, thousands};

/// True for figures in time units (microseconds or nanoseconds), shown with two decimals.
fn is_time(key: &str) -> bool {
    key.ends_with("_us") || key.ends_with("_ns")
}

/// Rounds a figure for JSON: rates to whole numbers, times (us, ns) to 0.01.
fn round(key: &str, v: f64) -> Value {
    if is_time(key) {
        json!((v * 100.0).round() / 100.0)
    } else {
        json!(v.round() as u64)
    }
}

/// `{"meta":{...},"results":{key: median, ...}}`.
pub fn json(meta: Value, measured: &Measured) -> Value {
    let results: Map<String, Value> = measured
        .medians()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), round(k, v)))
        .collect();
    json!({"meta": meta, "results": results})
}

fn unit(key: &str) -> &'static str {
    if key.ends_with("_us") {
        "us"
    } else if key.ends_with("_ns") {
        "ns/op"
    } else if key.ends_with("_ops") {
        "appends/s"
    } else {
        "events/s"
    }
}

fn show(key: &str, v: f64) -> String {
    if is_time(key) {
        format!("{v:.2}")
    } else {
        thousands(v.round() as u64)
    }
}

/// The human-readable summary.
pub fn table(meta: &Value, measured: &Measured) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "net bench on {} ({} cores), {} build, median of {} after {} warm-up{}\n",
        meta["cpu_model"].as_str().unwrap_or("?"),
        meta["nproc"],
        meta["profile"].as_str().unwrap_or("?"),
        meta["repetitions"],
        meta["warmups"],
        if meta["quick"] == true {
            " (--quick: not comparable)"
        } else {
            ""
        },
    );
    let medians = measured.medians();
    let mut t = Table::new(&[
        Align::Left,
        Align::Right,
        Align::Left,
        Align::Right,
        Align::Left,
        Align::Right,
    ])
    .header(&[
        "workload",
        "median",
        "unit",
        "target",
        "met",
        "sent = received",
    ]);
    for (key, v) in &medians {
        let (target, met) = match targets::target(key) {
            Some(Bound::AtLeast(x)) => (format!(">= {}", show(key, x)), Bound::AtLeast(x).met(*v)),
            Some(Bound::AtMost(x)) => (format!("<= {}", show(key, x)), Bound::AtMost(x).met(*v)),
            None => (String::new(), true),
        };
        let met = match targets::target(key) {
            None => "",
            Some(_) if met => "yes",
            Some(_) => "NO",
        };
        let count = measured
            .counts
            .get(key)
            .map_or_else(String::new, |c| thousands(c.received));
        t.row(&[
            key.to_string(),
            show(key, *v),
            unit(key).to_owned(),
            target,
            met.to_owned(),
            count,
        ]);
    }
    out.push_str(&t.render(2));
    out.push('\n');
    let mut r = Table::new(&[Align::Left, Align::Right, Align::Right, Align::Left])
        .header(&["relation", "ratio", "target", "met"]);
    for (what, ratio, required, met) in targets::relations(&medians) {
        r.row(&[
            what,
            format!("{ratio:.2}x"),
            required,
            match met {
                Some(true) => "yes",
                Some(false) => "NO",
                None => "-",
            }
            .to_owned(),
        ]);
    }
    out.push_str(&r.render(2));
    out
}
