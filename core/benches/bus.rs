//! Criterion micro-benchmarks of the event bus hot paths.
//!
//! Run with `cargo bench -p net-mesh --bench bus` (part of `make bench`); the whole file takes
//! about a minute. Whole-path workloads (W1-W3 of BENCHMARKS.md) live in `net bench`; these are
//! the pieces underneath:
//!
//! - `ingest/*`: the producer-side cost of `ingest`, `ingest_batch(1000)` and `ingest_str` with
//!   64-byte events (`ingest_str` also with the drain's coalescing window off, `_no_linger`). Events are built (and, except for `ingest_str`, validated) outside the
//!   timer, each with its own buffer. The ring (2^16 slots) never fills inside the timer: the
//!   benchmark times chunks of at most half a ring and calls `flush()` between chunks, outside
//!   the timer, so no backpressure path runs and what is measured is the push into a ring with
//!   room (plus the wake-up check of the drain worker, which runs concurrently on another thread
//!   and competes for the CPU, as it does in production).
//! - `event/*`: JSON validation alone (the 64-byte event, a nested 127-byte one, a flat
//!   200-byte object compact and pretty-printed), and `Event::from_str` (validation + copy into
//!   a buffer).
//! - `filter/*`: evaluating compiled filters against a raw 64-byte event (the engine parses it).
//! - `cursor/*`: encoding and decoding a 4-shard cursor.
//! - `poll/*`: one `poll` of 100 events (with and without a filter) from a flushed bus.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use net::bus::cursor::CursorCodec;
use net::{Backpressure, Event, EventBus, EventBusConfig, Filter, PollRequest};

/// Slots per shard ring in the ingest benches.
const RING: usize = 1 << 16;
/// Events timed between two (untimed) flushes: half a ring, so a push never finds it full.
const CHUNK: u64 = (RING / 2) as u64;

/// The standard 64-byte payload of BENCHMARKS.md.
fn payload(index: u64) -> String {
    let head = format!(r#"{{"token":"hello","index":{index},"pad":""#);
    let pad = 64 - (head.len() + 2);
    let text = format!("{head}{}\"}}", "x".repeat(pad));
    debug_assert_eq!(text.len(), 64);
    text
}

fn events(from: u64, n: u64) -> Vec<Event> {
    (from..from + n)
        .map(|i| Event::from_str(&payload(i)).expect("valid payload"))
        .collect()
}

/// A bus for the ingest benches: `shards` rings of [`RING`] slots, `fail_producer` (a full ring
/// would be a bench bug and fails loudly instead of silently timing a drop path), and a small
/// retention so memory stays flat (evictions happen on the drain thread).
fn ingest_bus(shards: u16) -> EventBus {
    ingest_bus_linger(shards, net::config::DEFAULT_DRAIN_LINGER_NS)
}

/// [`ingest_bus`] with the drain workers' coalescing window set to `linger_ns` (0 = off).
fn ingest_bus_linger(shards: u16, linger_ns: u64) -> EventBus {
    let config = EventBusConfig::builder()
        .num_shards(shards)
        .ring_capacity(RING)
        .backpressure(Backpressure::FailProducer)
        .memory(1 << 16, 64 << 20)
        .drain_linger_ns(linger_ns)
        .build()
        .expect("valid config");
    EventBus::new(config).expect("bus")
}

/// Times `iters` calls of `step` over pre-built inputs, in chunks of at most [`CHUNK`] events,
/// flushing between chunks outside the timer. `per_call` is the number of events per call.
fn timed_chunks<T>(
    bus: &EventBus,
    iters: u64,
    per_call: u64,
    build: impl Fn(u64, u64) -> Vec<T>,
    step: impl Fn(&EventBus, T),
) -> Duration {
    let calls_per_chunk = (CHUNK / per_call).max(1);
    let mut total = Duration::ZERO;
    let mut done = 0;
    while done < iters {
        let n = calls_per_chunk.min(iters - done);
        let inputs = build(done, n);
        let start = Instant::now();
        for input in inputs {
            step(bus, input);
        }
        total += start.elapsed();
        bus.flush().expect("flush");
        done += n;
    }
    total
}

fn bench_ingest(c: &mut Criterion) {
    let mut g = c.benchmark_group("ingest");
    g.throughput(Throughput::Elements(1));
    for shards in [1u16, 4] {
        let bus = ingest_bus(shards);
        g.bench_function(format!("single_64b_{shards}shard"), |b| {
            b.iter_custom(|iters| {
                timed_chunks(&bus, iters, 1, events, |bus, e| {
                    black_box(bus.ingest(e).expect("ingest"));
                })
            })
        });
    }
    // The raw path with the default coalescing window and without one (`drain_linger_ns` 0).
    for (name, linger_ns) in [
        ("str_64b_parse_1shard", net::config::DEFAULT_DRAIN_LINGER_NS),
        ("str_64b_parse_1shard_no_linger", 0),
    ] {
        let bus = ingest_bus_linger(1, linger_ns);
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                timed_chunks(
                    &bus,
                    iters,
                    1,
                    |from, n| (from..from + n).map(payload).collect(),
                    |bus, text: String| {
                        black_box(bus.ingest_str(&text).expect("ingest_str"));
                    },
                )
            })
        });
    }
    let bus = ingest_bus(1);
    g.throughput(Throughput::Elements(1000));
    g.bench_function("batch1000_64b_1shard", |b| {
        b.iter_custom(|iters| {
            timed_chunks(
                &bus,
                iters,
                1000,
                |from, n| {
                    (0..n)
                        .map(|i| events((from + i) * 1000, 1000))
                        .collect::<Vec<_>>()
                },
                |bus, batch| {
                    let report = bus.ingest_batch(batch);
                    assert_eq!(report.accepted(), 1000);
                    black_box(report);
                },
            )
        })
    });
    g.finish();
}

fn bench_event(c: &mut Criterion) {
    let text = payload(1_234_567);
    let mut g = c.benchmark_group("event");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("validate_64b", |b| {
        b.iter(|| net::event::validate(black_box(text.as_bytes())).expect("valid"))
    });
    g.bench_function("from_str_64b", |b| {
        b.iter(|| Event::from_str(black_box(&text)).expect("valid"))
    });
    let nested = r#"{"user":{"id":42,"tags":["a","b","c"],"geo":{"lat":52.52,"lon":13.405}},"kind":"click","ok":true,"note":"caf\u00e9 \"quoted\""}"#;
    g.throughput(Throughput::Bytes(nested.len() as u64));
    g.bench_function("validate_nested", |b| {
        b.iter(|| net::event::validate(black_box(nested.as_bytes())).expect("valid"))
    });
    // A compact flat object of about 200 bytes (the validator's fast path), and the same
    // fields pretty-printed (the general scanner).
    let flat = r#"{"token":"hello","index":12345,"kind":"click","value":512.25,"ok":true,"user":"someone@example.com","session":"a1b2c3d4e5f6","ts":1732723200123,"flag":false,"ref":null,"note":"plain text here ok"}"#;
    g.throughput(Throughput::Bytes(flat.len() as u64));
    g.bench_function("validate_200b", |b| {
        b.iter(|| net::event::validate(black_box(flat.as_bytes())).expect("valid"))
    });
    let value: serde_json::Value = serde_json::from_str(flat).expect("valid");
    let pretty = serde_json::to_string_pretty(&value).expect("serializes");
    g.throughput(Throughput::Bytes(pretty.len() as u64));
    g.bench_function("validate_200b_pretty", |b| {
        b.iter(|| net::event::validate(black_box(pretty.as_bytes())).expect("valid"))
    });
    g.finish();
}

fn bench_filter(c: &mut Criterion) {
    let event = Event::from_str(
        r#"{"token":"hello","index":42,"kind":"click","value":512,"user":{"tier":"gold"}}"#,
    )
    .expect("valid");
    let simple = Filter::from_json(r#"{"path":"kind","eq":"click"}"#).expect("filter");
    let complex = Filter::from_json(
        r#"{"and":[{"path":"kind","in":["click","view"]},{"path":"value","gte":100},
            {"not":{"path":"user.tier","eq":"free"}},{"path":"token","prefix":"hel"}]}"#,
    )
    .expect("filter");
    let parsed = event.to_value();
    let mut g = c.benchmark_group("filter");
    g.bench_function("eq_raw", |b| {
        b.iter(|| simple.matches_raw(black_box(event.raw())))
    });
    g.bench_function("and4_raw", |b| {
        b.iter(|| complex.matches_raw(black_box(event.raw())))
    });
    g.bench_function("and4_parsed", |b| {
        b.iter(|| complex.matches(black_box(&parsed)))
    });
    // What `matches_raw` did before it walked the bytes: parse the whole event, then match.
    g.bench_function("and4_parse_then_match", |b| {
        b.iter(|| {
            let v: serde_json::Value = serde_json::from_slice(black_box(event.raw())).unwrap();
            complex.matches(&v)
        })
    });
    let text = r#"{"and":[{"path":"kind","in":["click","view"]},{"path":"value","gte":100}]}"#;
    g.bench_function("compile_and2", |b| {
        b.iter(|| Filter::from_json(black_box(text)).expect("filter"))
    });
    g.finish();
}

fn bench_cursor(c: &mut Criterion) {
    let codec = CursorCodec::new(1, 4);
    let positions = [0u64, 1_234, 987_654_321, 42];
    let text = codec.encode(&positions);
    let mut g = c.benchmark_group("cursor");
    g.bench_function("encode_4shards", |b| {
        b.iter(|| codec.encode(black_box(&positions)))
    });
    g.bench_function("decode_4shards", |b| {
        b.iter(|| codec.decode(black_box(&text)).expect("cursor"))
    });
    g.finish();
}

fn bench_poll(c: &mut Criterion) {
    let bus = EventBus::new(EventBusConfig::default()).expect("bus");
    for i in 0..10_000u64 {
        let kind = if i % 4 == 0 { "click" } else { "view" };
        bus.ingest_str(&format!(
            r#"{{"token":"hello","index":{i},"kind":"{kind}","pad":"xxxxxxx"}}"#
        ))
        .expect("ingest");
    }
    bus.flush().expect("flush");
    let middle = bus.poll(&PollRequest::new(5_000)).expect("poll").cursor;
    let plain = PollRequest::new(100).cursor(middle.clone());
    let filtered = PollRequest::new(100)
        .cursor(middle)
        .filter(Filter::from_json(r#"{"path":"kind","eq":"click"}"#).expect("filter"));
    let mut g = c.benchmark_group("poll");
    g.throughput(Throughput::Elements(100));
    g.bench_function("100_events", |b| {
        b.iter(|| {
            let page = bus.poll(black_box(&plain)).expect("poll");
            assert_eq!(page.events.len(), 100);
            page
        })
    });
    // 100 matches out of ~400 scanned events (1 in 4 is a click).
    g.bench_function("100_of_400_filtered", |b| {
        b.iter(|| {
            let page = bus.poll(black_box(&filtered)).expect("poll");
            assert_eq!(page.events.len(), 100);
            page
        })
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_ingest, bench_event, bench_filter, bench_cursor, bench_poll
}
criterion_main!(benches);
