//! `ingest_raw` stores small events inline in the ring (no allocation on the producer) and
//! larger ones in buffers of their own: both come back byte for byte, in order, and a shutdown
//! racing raw producers loses and doubles nothing.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use net::bus::ring::INLINE_MAX;
use net::{Backpressure, ErrorKind, EventBus, EventBusConfig, PollRequest, Receipt};

/// `{"i":N,"p":"xx.."}` padded to exactly `len` bytes (`len` must leave room for the frame).
fn padded(i: u64, len: usize) -> String {
    let head = format!(r#"{{"i":{i},"p":""#);
    let pad = len - head.len() - 2;
    format!("{head}{}\"}}", "x".repeat(pad))
}

fn read_all(bus: &EventBus) -> Vec<net::StoredEvent> {
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let mut req = PollRequest::new(100_000);
        req.cursor = cursor;
        let page = bus.poll(&req).unwrap();
        all.extend(page.events);
        cursor = Some(page.cursor);
        if !page.has_more {
            return all;
        }
    }
}

#[test]
fn small_boundary_and_large_events_round_trip_byte_for_byte() {
    let bus = EventBus::new(
        EventBusConfig::builder()
            .ring_capacity(64)
            .drain_batch(7)
            .backpressure(Backpressure::Block {
                timeout: Duration::from_secs(30),
            })
            .build()
            .unwrap(),
    )
    .unwrap();
    // Every length from a tiny event to well past the inline bound, twice, so runs popped
    // by the drain mix inline and own-buffer events of all sizes.
    let mut sent = Vec::new();
    for round in 0..2u64 {
        for len in 24..=INLINE_MAX + 40 {
            let i = round * 1000 + len as u64;
            let text = padded(i, len);
            assert_eq!(text.len(), len);
            let receipt = bus.ingest_raw(text.as_bytes()).unwrap();
            assert_eq!(receipt.seq, sent.len() as u64);
            sent.push(text);
        }
        // Surrounding whitespace is part of the bytes and kept.
        let text = format!("  {} \n", padded(round, 40));
        bus.ingest_str(&text).unwrap();
        sent.push(text);
    }
    bus.flush().unwrap();
    let got = read_all(&bus);
    assert_eq!(got.len(), sent.len());
    for (k, (e, text)) in got.iter().zip(&sent).enumerate() {
        assert_eq!(e.seq, k as u64);
        assert_eq!(e.event.as_str(), text, "event {k}");
    }
    let stats = bus.stats();
    assert_eq!(
        stats.adapter.retained_bytes,
        sent.iter().map(|t| t.len() as u64).sum::<u64>()
    );
    // Invalid JSON is refused before anything is stored.
    assert_eq!(
        bus.ingest_raw(b"{]").unwrap_err().kind(),
        ErrorKind::InvalidJson
    );
}

#[test]
fn keyed_raw_events_land_on_the_key_shard() {
    let bus = EventBus::new(
        EventBusConfig::builder()
            .num_shards(4)
            .partition_key("user")
            .build()
            .unwrap(),
    )
    .unwrap();
    let mut shard_of: HashMap<String, u16> = HashMap::new();
    for i in 0..200u64 {
        let user = format!("u{}", i % 9);
        // Alternate small (inline) and large (own buffer) events of the same key.
        let pad = if i % 2 == 0 { 0 } else { INLINE_MAX };
        let text = format!(r#"{{"user":"{user}","i":{i},"p":"{}"}}"#, "y".repeat(pad));
        let r = bus.ingest_raw(text.as_bytes()).unwrap();
        let explicit = bus
            .ingest_raw_with_key(text.as_bytes(), user.as_bytes())
            .unwrap();
        assert_eq!(
            r.shard, explicit.shard,
            "a path key and the same explicit key agree"
        );
        assert_eq!(*shard_of.entry(user).or_insert(r.shard), r.shard);
    }
    bus.flush().unwrap();
    assert_eq!(read_all(&bus).len(), 400);
}

#[test]
fn shutdown_racing_raw_producers_loses_and_doubles_nothing() {
    for round in 0..6u64 {
        let mode = match round % 3 {
            0 => Backpressure::DropOldest,
            1 => Backpressure::Block {
                timeout: Duration::from_secs(30),
            },
            _ => Backpressure::FailProducer,
        };
        let bus = Arc::new(
            EventBus::new(
                EventBusConfig::builder()
                    .num_shards(2)
                    .ring_capacity(128)
                    .backpressure(mode)
                    .build()
                    .unwrap(),
            )
            .unwrap(),
        );
        // Each producer says when its first event was accepted, so shutdown races producers
        // that are really running (on a loaded box a fixed sleep may end before any started).
        let (started_tx, started) = std::sync::mpsc::channel::<()>();
        let producers: Vec<_> = (0..3u64)
            .map(|p| {
                let bus = bus.clone();
                let started_tx = started_tx.clone();
                std::thread::spawn(move || {
                    let mut accepted = Vec::new();
                    for i in 0.. {
                        // Mostly inline events, every seventh one too large for a slot.
                        let len = if i % 7 == 0 { INLINE_MAX + 20 } else { 40 };
                        let text = padded(p * 1_000_000_000 + i, len);
                        match bus.ingest_raw(text.as_bytes()) {
                            Ok(r) => {
                                if accepted.is_empty() {
                                    let _ = started_tx.send(());
                                }
                                accepted.push((text, r));
                            }
                            Err(e) if e.kind() == ErrorKind::Backpressure => {
                                std::thread::yield_now()
                            }
                            Err(e) => {
                                assert_eq!(e.kind(), ErrorKind::ShuttingDown);
                                break;
                            }
                        }
                    }
                    accepted
                })
            })
            .collect();
        for _ in 0..3 {
            started
                .recv_timeout(Duration::from_secs(60))
                .expect("a producer never had an event accepted");
        }
        std::thread::sleep(Duration::from_millis(round * 5));
        let report = bus.shutdown().unwrap();
        let accepted: HashMap<String, Receipt> = producers
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        assert!(!accepted.is_empty());
        assert_eq!(report.accepted, accepted.len() as u64, "round {round}");
        assert_eq!(report.undelivered, 0, "round {round}");
        assert_eq!(
            report.accepted,
            report.delivered + report.dropped.drop_oldest,
            "round {round}"
        );
        let got = read_all(&bus);
        assert_eq!(got.len() as u64, report.delivered);
        let mut seen = std::collections::HashSet::new();
        for e in &got {
            let text = e.event.as_str().to_owned();
            let receipt = accepted
                .get(&text)
                .expect("only accepted events are stored");
            assert_eq!((receipt.shard, receipt.seq), (e.shard, e.seq));
            assert!(seen.insert(text), "stored twice");
        }
        assert_eq!(
            bus.ingest_raw(b"{}").unwrap_err().kind(),
            ErrorKind::ShuttingDown
        );
    }
}
