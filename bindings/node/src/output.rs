//! Engine results as JS values.
//!
//! Shapes mirror the engine's JSON shapes and field names (`docs/bus.md`), so every language
//! sees the same data. Every u64 crosses as a `bigint`; shard indexes and counts that fit in
//! a JS number stay numbers. Events cross as *columns* (`raw[]`, `shard` `Uint16Array`,
//! `position`/`seq`/`ts_ns` `BigUint64Array`): one typed array per field instead of one object
//! per event keeps large batches cheap.

use net::{BatchReport, Receipt, ShutdownReport, Stats, StoredEvent};
use serde_json::Value;

use crate::error::{Fail, Res, js_error};
use crate::js::{Builder, Raw, RawEnv};

/// A result that an async task builds on the JS thread once the engine call finished.
pub trait ToJs: Send {
    /// Builds the JS value.
    fn to_js(self: Box<Self>, env: RawEnv) -> Res<Raw>;
}

impl ToJs for () {
    fn to_js(self: Box<Self>, env: RawEnv) -> Res<Raw> {
        Builder::new(env).undefined()
    }
}

impl ToJs for Receipt {
    fn to_js(self: Box<Self>, env: RawEnv) -> Res<Raw> {
        receipt(env, &self)
    }
}

impl ToJs for BatchReport {
    fn to_js(self: Box<Self>, env: RawEnv) -> Res<Raw> {
        batch_report(env, &self)
    }
}

impl ToJs for ShutdownReport {
    fn to_js(self: Box<Self>, env: RawEnv) -> Res<Raw> {
        let value = serde_json::to_value(&*self).unwrap_or(Value::Null);
        counters(env, &value)
    }
}

/// `{shard, seq}`.
pub fn receipt(env: RawEnv, r: &Receipt) -> Res<Raw> {
    let b = Builder::new(env);
    let o = b.object()?;
    b.set(o, c"shard", b.u32(u32::from(r.shard))?)?;
    b.set(o, c"seq", b.big(r.seq)?)?;
    Ok(o)
}

/// `{accepted, shard: Uint16Array, seq: BigUint64Array, failures: [{index, error}]}`; a failed
/// event has shard 0 and seq 0 in the columns and an entry in `failures`.
pub fn batch_report(env: RawEnv, report: &BatchReport) -> Res<Raw> {
    let b = Builder::new(env);
    let n = report.outcomes.len();
    let mut shards = Vec::with_capacity(n);
    let mut seqs = Vec::with_capacity(n);
    let mut failures = Vec::new();
    let mut accepted = 0u32;
    for (i, outcome) in report.outcomes.iter().enumerate() {
        match outcome {
            Ok(r) => {
                accepted += 1;
                shards.push(r.shard);
                seqs.push(r.seq);
            }
            Err(e) => {
                shards.push(0);
                seqs.push(0);
                let f = b.object()?;
                b.set(f, c"index", b.u32(i as u32)?)?;
                b.set(f, c"error", js_error(env, e)?)?;
                failures.push(f);
            }
        }
    }
    let o = b.object()?;
    b.set(o, c"accepted", b.u32(accepted)?)?;
    b.set(o, c"shard", b.u16_array(&shards)?)?;
    b.set(o, c"seq", b.big_array(&seqs)?)?;
    b.set(o, c"failures", b.array(&failures)?)?;
    Ok(o)
}

/// Events in column form plus lag markers: `lagged[i] = {at, skipped}` means `skipped` events
/// were evicted unread just before the event at index `at` (or at the end if `at` equals the
/// event count).
#[derive(Debug, Default)]
pub struct EventColumns {
    /// The events.
    pub events: Vec<StoredEvent>,
    /// Lag markers `(at, skipped)`.
    pub lagged: Vec<(u32, u64)>,
}

impl EventColumns {
    /// Builds `{text, offsets, shard, position, seq, ts_ns, lagged}`: every event's JSON text
    /// concatenated into one string, event `i` being `text.slice(offsets[i], offsets[i + 1])`
    /// (offsets in UTF-16 units, as JS strings count). One string per batch instead of one per
    /// event keeps delivery cheap; JS slices are views, not copies.
    pub fn to_js(&self, env: RawEnv) -> Res<Raw> {
        let b = Builder::new(env);
        let n = self.events.len();
        let mut text = Vec::with_capacity(self.events.iter().map(|e| e.event.len()).sum());
        let mut offsets = Vec::with_capacity(n + 1);
        let mut shards = Vec::with_capacity(n);
        let mut positions = Vec::with_capacity(n);
        let mut seqs = Vec::with_capacity(n);
        let mut ts = Vec::with_capacity(n);
        let mut units = 0u32;
        offsets.push(0);
        for e in &self.events {
            let raw = e.event.raw();
            text.extend_from_slice(raw);
            units += utf16_len(raw);
            offsets.push(units);
            shards.push(e.shard);
            positions.push(e.position);
            seqs.push(e.seq);
            ts.push(e.ts_ns);
        }
        let lagged = self
            .lagged
            .iter()
            .map(|&(at, skipped)| {
                let l = b.object()?;
                b.set(l, c"at", b.u32(at)?)?;
                b.set(l, c"skipped", b.big(skipped)?)?;
                Ok(l)
            })
            .collect::<Result<Vec<_>, Fail>>()?;
        let o = b.object()?;
        b.set(o, c"text", b.text(&text)?)?;
        b.set(o, c"offsets", b.u32_array(&offsets)?)?;
        b.set(o, c"shard", b.u16_array(&shards)?)?;
        b.set(o, c"position", b.big_array(&positions)?)?;
        b.set(o, c"seq", b.big_array(&seqs)?)?;
        b.set(o, c"ts_ns", b.big_array(&ts)?)?;
        b.set(o, c"lagged", b.array(&lagged)?)?;
        Ok(o)
    }
}

/// Length of UTF-8 text `raw` in UTF-16 units.
fn utf16_len(raw: &[u8]) -> u32 {
    if raw.is_ascii() {
        return raw.len() as u32;
    }
    // Events are valid UTF-8 (the engine checked); count 2 units for 4-byte sequences and 1
    // for every other character.
    raw.iter()
        .map(|&b| match b {
            0x80..=0xbf => 0,
            0xf0..=0xff => 2,
            _ => 1,
        })
        .sum()
}

/// The result of a poll.
#[derive(Debug)]
pub struct PollOutput {
    /// The events.
    pub events: EventColumns,
    /// The cursor to resume from.
    pub cursor: String,
    /// Events lost to retention before this read.
    pub skipped: u64,
    /// More events may follow.
    pub has_more: bool,
}

impl ToJs for PollOutput {
    fn to_js(self: Box<Self>, env: RawEnv) -> Res<Raw> {
        let b = Builder::new(env);
        let o = b.object()?;
        b.set(o, c"events", self.events.to_js(env)?)?;
        b.set(o, c"cursor", b.str(&self.cursor)?)?;
        b.set(o, c"skipped", b.big(self.skipped)?)?;
        b.set(o, c"has_more", b.bool(self.has_more)?)?;
        Ok(o)
    }
}

/// The stats object: the engine's `Stats::to_json` shape with every counter as a `bigint`.
pub fn stats(env: RawEnv, s: &Stats) -> Res<Raw> {
    counters(env, &s.to_json())
}

/// A JSON object of counters to JS: integers become `bigint`, except `shard` (an index).
fn counters(env: RawEnv, value: &Value) -> Res<Raw> {
    let b = Builder::new(env);
    match value {
        Value::Object(map) => {
            let o = b.object()?;
            for (k, v) in map {
                let val = match v {
                    Value::Number(n) if k == "shard" => b.num(n.as_f64().unwrap_or(0.0))?,
                    _ => counters(env, v)?,
                };
                let key = b.str(k)?;
                crate::js::napi_call!(env, napi::sys::napi_set_property(env, o, key, val));
            }
            Ok(o)
        }
        Value::Array(items) => {
            let items = items
                .iter()
                .map(|v| counters(env, v))
                .collect::<Result<Vec<_>, _>>()?;
            b.array(&items)
        }
        Value::Number(n) => match n.as_u64() {
            Some(u) => b.big(u),
            None => b.num(n.as_f64().unwrap_or(f64::NAN)),
        },
        other => b.json(other),
    }
}

#[cfg(test)]
mod tests {
    use super::utf16_len;

    #[test]
    fn counts_utf16_units() {
        for text in ["", "plain", "é", "{\"k\":\"日本\"}", "😀", "a😀b€"] {
            assert_eq!(
                utf16_len(text.as_bytes()) as usize,
                text.encode_utf16().count(),
                "{text}"
            );
        }
    }
}
