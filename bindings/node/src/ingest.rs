//! The ingest functions behind the JS `Bus` class (`busIngest*`).
//!
//! Arguments are read on the JS thread into Rust buffers (strings in one N-API call each; a
//! batch arrives as call arguments, read in one call, or for the thread-pool variant as one
//! NUL-joined string when `index.js` can send it so), then handed to
//! the engine's ingest calls unchanged: validation, shard choice and backpressure are the
//! engine's. Synchronous ingests refuse under `block` backpressure; the `*Async` variants run
//! the same calls on the thread pool.

use serde_json::value::RawValue;

use net::{BatchReport, Error, Event, EventBus, Receipt};

use crate::bus::{Bus, spawn};
use crate::error::{Fail, Res};
use crate::handle;
use crate::js::{self, Builder, Raw, RawEnv};
use crate::output::{self, ToJs};

/// An event argument read on the JS thread: owned bytes plus an optional partition key.
struct OwnedEvent {
    raw: Vec<u8>,
    key: Option<Vec<u8>>,
}

fn ingest_owned(bus: &EventBus, e: OwnedEvent) -> Result<Receipt, Error> {
    match e.key {
        None => bus.ingest_raw(&e.raw),
        Some(key) => bus.ingest_with_key(Event::from_slice(&e.raw)?, &key),
    }
}

/// Splits JSON array text into its elements (each one exactly as written) and ingests them
/// as one raw batch (the engine checks each element and copies the batch into one buffer).
fn json_array(bus: &EventBus, text: &[u8]) -> Result<BatchReport, Error> {
    let s = std::str::from_utf8(text).map_err(|e| Error::InvalidJson(e.to_string()))?;
    let items: Vec<&RawValue> = serde_json::from_str(s)
        .map_err(|e| Error::InvalidJson(format!("expected a JSON array of events: {e}")))?;
    // A borrowed `RawValue` is the element's text inside `text`, byte for byte.
    Ok(bus.ingest_raw_batch(items.iter().map(|item| item.get().as_bytes())))
}

/// Reads a partition key: `undefined` (none), a string or a Uint8Array.
fn read_key(env: RawEnv, v: Raw) -> Res<Option<Vec<u8>>> {
    if js::is_undefined(env, v)? {
        return Ok(None);
    }
    let mut out = Vec::new();
    if js::append_str(env, v, &mut out)? {
        return Ok(Some(out));
    }
    match js::get_bytes(env, v)? {
        Some(b) => Ok(Some(b.to_vec())),
        None => Err(Fail::arg(
            "the partition key must be a string or a Uint8Array",
        )),
    }
}

/// Reads one event argument (a string or a Uint8Array) into `out`; `what` names it in
/// the error.
fn event_into(env: RawEnv, v: Raw, out: &mut Vec<u8>, what: impl FnOnce() -> String) -> Res<()> {
    if js::append_str(env, v, out)? {
        return Ok(());
    }
    match js::get_bytes(env, v)? {
        Some(b) => {
            out.extend_from_slice(b);
            Ok(())
        }
        None => Err(Fail::arg(format!(
            "{} must be a string or a Uint8Array, got {}",
            what(),
            js::type_name(js::type_of(env, v)?)
        ))),
    }
}

/// Reads an array of events into one buffer; returns the end offset of each.
fn events_into(env: RawEnv, v: Raw, out: &mut Vec<u8>) -> Res<Vec<usize>> {
    let len = js::array_len(env, v)?
        .ok_or_else(|| Fail::arg("events must be an array of strings or Uint8Arrays"))?;
    let mut ends = Vec::with_capacity(len as usize);
    for i in 0..len {
        let item = js::element(env, v, i)?;
        event_into(env, item, out, || format!("events[{i}]"))?;
        ends.push(out.len());
    }
    Ok(ends)
}

fn text_into(env: RawEnv, v: Raw, out: &mut Vec<u8>) -> Res<()> {
    if js::append_str(env, v, out)? {
        Ok(())
    } else {
        Err(Fail::arg("the JSON array text must be a string"))
    }
}

/// Slices `buf` at the offsets `ends`.
fn split<'a>(buf: &'a [u8], ends: &'a [usize]) -> impl Iterator<Item = &'a [u8]> + 'a {
    let mut start = 0;
    ends.iter().map(move |&end| {
        let s = &buf[start..end];
        start = end;
        s
    })
}

/// `busIngest(h, json, key?)`: ingests one event given as JSON text; `key` (string or bytes)
/// picks the shard. Returns the receipt's seq and leaves its shard in the slot.
pub fn ingest(env: RawEnv, [h, json, key]: [Raw; 3]) -> Res<Raw> {
    let this = handle::get::<Bus>(env, h)?;
    this.sync_ingest_allowed()?;
    let key = read_key(env, key)?;
    let mut buf = this.scratch.borrow_mut();
    buf.clear();
    if !js::append_str(env, json, &mut buf)? {
        return Err(Fail::arg(format!(
            "ingest: json must be a string, got {}",
            js::type_name(js::type_of(env, json)?)
        )));
    }
    let receipt = match key {
        None => this.bus.ingest_raw(&buf)?,
        Some(k) => this.bus.ingest_with_key(Event::from_slice(&buf)?, &k)?,
    };
    this.receipt(env, receipt)
}

/// `busIngestRaw(h, bytes, key?)`: ingests one event given as UTF-8 bytes; returns like
/// [`ingest`].
pub fn ingest_raw(env: RawEnv, [h, bytes, key]: [Raw; 3]) -> Res<Raw> {
    let this = handle::get::<Bus>(env, h)?;
    this.sync_ingest_allowed()?;
    let key = read_key(env, key)?;
    let bytes = js::get_bytes(env, bytes)?
        .ok_or_else(|| Fail::arg("ingestRaw: bytes must be a Buffer or Uint8Array"))?;
    let receipt = match key {
        None => this.bus.ingest_raw(bytes)?,
        Some(k) => this.bus.ingest_with_key(Event::from_slice(bytes)?, &k)?,
    };
    this.receipt(env, receipt)
}

/// `busIngestBatch(h, events)`: ingests an array of events (strings or byte arrays) and
/// reports each one's outcome.
pub fn ingest_batch(env: RawEnv, [h, events]: [Raw; 2]) -> Res<Raw> {
    sync_batch(env, h, |buf| events_into(env, events, buf))
}

/// `busIngestSpread(h, ...events)`: `busIngestBatch` with the events passed as arguments
/// (`args[0]` is the handle), so reading them takes no `napi_get_element` call per event.
pub fn ingest_spread(env: RawEnv, args: &[Raw]) -> Res<Raw> {
    let (&h, events) = args
        .split_first()
        .ok_or_else(|| Fail::arg("ingestSpread: the bus handle is missing"))?;
    sync_batch(env, h, |buf| {
        let mut ends = Vec::with_capacity(events.len());
        for (i, &item) in events.iter().enumerate() {
            event_into(env, item, buf, || format!("events[{i}]"))?;
            ends.push(buf.len());
        }
        Ok(ends)
    })
}

/// A synchronous raw batch: `read` fills the bus's scratch buffer with the events and
/// returns their end offsets; the events are ingested as one batch.
fn sync_batch(env: RawEnv, h: Raw, read: impl FnOnce(&mut Vec<u8>) -> Res<Vec<usize>>) -> Res<Raw> {
    let this = handle::get::<Bus>(env, h)?;
    this.sync_ingest_allowed()?;
    let mut buf = this.scratch.borrow_mut();
    buf.clear();
    let ends = read(&mut buf)?;
    let report = this.bus.ingest_raw_batch(split(&buf, &ends));
    output::batch_report(env, &report)
}

fn joined_count(env: RawEnv, count: Raw) -> Res<usize> {
    js::get_number(env, count)?
        .filter(|n| n.fract() == 0.0 && *n >= 1.0)
        .map(|n| n as usize)
        .ok_or_else(|| Fail::arg("ingestJoined: count must be a positive integer"))
}

/// Ingests the NUL-separated pieces of `text` as one batch, if there are exactly `count`.
fn ingest_pieces(bus: &EventBus, text: &[u8], count: usize) -> Option<BatchReport> {
    let mut pieces = Vec::with_capacity(count);
    let mut start = 0;
    for nul in memchr::memchr_iter(0, text) {
        pieces.push(&text[start..nul]);
        start = nul + 1;
    }
    pieces.push(&text[start..]);
    (pieces.len() == count).then(|| bus.ingest_raw_batch(pieces))
}

/// Either a batch report or "not split as announced" (`null` in JS).
struct Joined(Option<BatchReport>);

impl ToJs for Joined {
    fn to_js(self: Box<Self>, env: RawEnv) -> Res<Raw> {
        match self.0 {
            Some(report) => output::batch_report(env, &report),
            None => Builder::new(env).null(),
        }
    }
}

/// `busIngestJoinedAsync(h, text, count)`: `busIngestBatchAsync` for `count` strings joined
/// with NUL (`events.join('\0')`), which crosses the boundary as one string instead of
/// `count`. NUL never occurs in JSON text, so the pieces are exactly the events; if the text
/// does not split into `count` pieces (an event contained NUL), nothing is ingested and the
/// result is `null`, and the caller sends the events as an array instead.
pub fn ingest_joined_async(env: RawEnv, [h, text, count]: [Raw; 3]) -> Res<Raw> {
    let args = || {
        let count = joined_count(env, count)?;
        let mut buf = Vec::new();
        text_into(env, text, &mut buf)?;
        Ok((buf, count))
    };
    spawn(env, h, args, |bus, (buf, count)| {
        Ok(Joined(ingest_pieces(bus, &buf, count)))
    })
}

/// `busIngestJsonArray(h, text)`: ingests every element of a JSON array as one event, as one
/// batch.
pub fn ingest_json_array(env: RawEnv, [h, text]: [Raw; 2]) -> Res<Raw> {
    let this = handle::get::<Bus>(env, h)?;
    this.sync_ingest_allowed()?;
    let mut buf = this.scratch.borrow_mut();
    buf.clear();
    text_into(env, text, &mut buf)?;
    let report = json_array(&this.bus, &buf)?;
    output::batch_report(env, &report)
}

/// `busIngestAsync(h, event, key?)`: `ingest`/`ingestRaw` on the thread pool (for `block`
/// backpressure); resolves to the receipt.
pub fn ingest_async(env: RawEnv, [h, event, key]: [Raw; 3]) -> Res<Raw> {
    let args = || {
        let mut buf = Vec::new();
        event_into(env, event, &mut buf, || "event".into())?;
        Ok(OwnedEvent {
            raw: buf,
            key: read_key(env, key)?,
        })
    };
    spawn(env, h, args, ingest_owned)
}

/// `busIngestBatchAsync(h, events)`: `ingestBatch` on the thread pool.
pub fn ingest_batch_async(env: RawEnv, [h, events]: [Raw; 2]) -> Res<Raw> {
    let args = || {
        let mut buf = Vec::new();
        let ends = events_into(env, events, &mut buf)?;
        Ok((buf, ends))
    };
    spawn(env, h, args, |bus, (buf, ends)| {
        Ok(bus.ingest_raw_batch(split(&buf, &ends)))
    })
}

/// `busIngestJsonArrayAsync(h, text)`: `ingestJsonArray` on the thread pool.
pub fn ingest_json_array_async(env: RawEnv, [h, text]: [Raw; 2]) -> Res<Raw> {
    let args = || {
        let mut buf = Vec::new();
        text_into(env, text, &mut buf)?;
        Ok(buf)
    };
    spawn(env, h, args, |bus, buf| json_array(bus, &buf))
}
