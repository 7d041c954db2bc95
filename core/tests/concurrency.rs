//! Many producers racing consumers and shutdown: nothing accepted is lost or counted twice.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use net::{
    Backpressure, Event, EventBus, EventBusConfig, PollRequest, Receipt, StoredEvent,
    SubscribeOptions, SubscriptionItem,
};

const PRODUCERS: u64 = 4;
const PER_PRODUCER: u64 = 25_000;

fn event(producer: u64, i: u64) -> Event {
    Event::from_str(&format!(r#"{{"p":{producer},"i":{i}}}"#)).unwrap()
}

fn id(e: &StoredEvent) -> (u64, u64) {
    let v = e.event.to_value();
    (v["p"].as_u64().unwrap(), v["i"].as_u64().unwrap())
}

/// Checks one consumer's view: each event exactly once, per-shard sequence order, and every
/// event a producer got a receipt for is there with that receipt.
fn check_consumer(name: &str, got: &[StoredEvent], receipts: &HashMap<(u64, u64), Receipt>) {
    let mut by_id = HashMap::new();
    let mut last_seq: HashMap<u16, u64> = HashMap::new();
    for e in got {
        assert!(
            by_id.insert(id(e), (e.shard, e.seq)).is_none(),
            "{name}: duplicate {:?}",
            id(e)
        );
        if let Some(prev) = last_seq.insert(e.shard, e.seq) {
            assert!(prev < e.seq, "{name}: shard {} out of order", e.shard);
        }
    }
    assert_eq!(by_id.len(), receipts.len(), "{name}: received count");
    for (k, r) in receipts {
        assert_eq!(by_id.get(k), Some(&(r.shard, r.seq)), "{name}: {k:?}");
    }
}

#[test]
fn producers_race_a_poller_and_a_subscriber() {
    let cfg = EventBusConfig::builder()
        .num_shards(4)
        .ring_capacity(1024)
        .backpressure(Backpressure::Block {
            timeout: Duration::from_secs(30),
        })
        .build()
        .unwrap();
    let bus = Arc::new(EventBus::new(cfg).unwrap());
    let total = PRODUCERS * PER_PRODUCER;

    let mut sub = bus.subscribe(SubscribeOptions::default()).unwrap();
    let subscriber = std::thread::spawn(move || {
        let mut got = Vec::new();
        while (got.len() as u64) < total {
            match sub.next_blocking(Some(Duration::from_secs(30))).unwrap() {
                Some(SubscriptionItem::Event(e)) => got.push(e),
                Some(SubscriptionItem::Lagged { skipped }) => panic!("lagged by {skipped}"),
                None => break,
            }
        }
        got
    });
    let done = Arc::new(AtomicBool::new(false));
    let poller = {
        let bus = bus.clone();
        let done = done.clone();
        std::thread::spawn(move || {
            let mut got = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let finished = done.load(Ordering::SeqCst);
                let mut req = PollRequest::new(997);
                req.cursor = cursor.clone();
                let page = bus.poll(&req).unwrap();
                let empty = page.events.is_empty();
                got.extend(page.events);
                cursor = Some(page.cursor);
                if finished && empty && !page.has_more {
                    return got;
                }
                if empty {
                    std::thread::yield_now();
                }
            }
        })
    };
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let bus = bus.clone();
            std::thread::spawn(move || {
                let mut receipts = Vec::with_capacity(PER_PRODUCER as usize);
                let mut i = 0;
                while i < PER_PRODUCER {
                    if i % 3 == 0 {
                        let batch: Vec<Event> = (i..(i + 50).min(PER_PRODUCER))
                            .map(|j| event(p, j))
                            .collect();
                        let n = batch.len() as u64;
                        let report = bus.ingest_batch(batch);
                        for (k, r) in report.outcomes.into_iter().enumerate() {
                            receipts.push(((p, i + k as u64), r.unwrap()));
                        }
                        i += n;
                    } else {
                        receipts.push(((p, i), bus.ingest(event(p, i)).unwrap()));
                        i += 1;
                    }
                }
                receipts
            })
        })
        .collect();
    let receipts: HashMap<(u64, u64), Receipt> = producers
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    assert_eq!(receipts.len() as u64, total);
    bus.flush().unwrap();
    done.store(true, Ordering::SeqCst);
    let polled = poller.join().unwrap();
    let pushed = subscriber.join().unwrap();
    check_consumer("poller", &polled, &receipts);
    check_consumer("subscriber", &pushed, &receipts);

    let stats = bus.stats();
    assert_eq!(stats.accepted, total);
    assert_eq!(stats.delivered, total);
    assert_eq!(stats.in_flight, 0);
    assert_eq!(stats.dropped.total(), 0);
    assert_eq!(
        stats.shards.iter().map(|s| s.accepted).sum::<u64>(),
        stats.accepted
    );
    let report = bus.shutdown().unwrap();
    assert_eq!(
        (report.accepted, report.delivered, report.undelivered),
        (total, total, 0)
    );
}

#[test]
fn shutdown_racing_producers_loses_and_doubles_nothing() {
    for round in 0..5 {
        let cfg = EventBusConfig::builder()
            .num_shards(3)
            .ring_capacity(256)
            .backpressure(if round % 2 == 0 {
                Backpressure::DropOldest
            } else {
                Backpressure::Block {
                    timeout: Duration::from_secs(30),
                }
            })
            .build()
            .unwrap();
        let bus = Arc::new(EventBus::new(cfg).unwrap());
        // Each producer says when its first event was accepted, so shutdown races producers
        // that are really running (on a loaded box a fixed sleep may end before any started).
        let (started_tx, started) = std::sync::mpsc::channel::<()>();
        let producers: Vec<_> = (0..4)
            .map(|p| {
                let bus = bus.clone();
                let started_tx = started_tx.clone();
                std::thread::spawn(move || {
                    let mut accepted = Vec::new();
                    for i in 0.. {
                        match bus.ingest(event(p, i)) {
                            Ok(r) => {
                                if accepted.is_empty() {
                                    let _ = started_tx.send(());
                                }
                                accepted.push(((p, i), r));
                            }
                            Err(e) => {
                                assert_eq!(e.kind(), net::ErrorKind::ShuttingDown);
                                break;
                            }
                        }
                    }
                    accepted
                })
            })
            .collect();
        for _ in 0..4 {
            started
                .recv_timeout(Duration::from_secs(60))
                .expect("a producer never had an event accepted");
        }
        std::thread::sleep(Duration::from_millis(round * 5));
        let report = bus.shutdown().unwrap();
        let accepted: HashMap<(u64, u64), Receipt> = producers
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        assert!(!accepted.is_empty());
        assert_eq!(report.accepted, accepted.len() as u64, "round {round}");
        assert_eq!(report.undelivered, 0);
        assert_eq!(
            report.accepted,
            report.delivered + report.dropped.drop_oldest,
            "round {round}"
        );
        // Everything delivered is readable exactly once (retention is larger than the run).
        let mut seen = std::collections::HashSet::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut req = PollRequest::new(100_000);
            req.cursor = cursor;
            let page = bus.poll(&req).unwrap();
            for e in &page.events {
                let k = id(e);
                assert!(seen.insert(k), "duplicate {k:?}");
                assert_eq!(
                    accepted[&k],
                    net::Receipt {
                        shard: e.shard,
                        seq: e.seq
                    }
                );
            }
            cursor = Some(page.cursor);
            if !page.has_more {
                break;
            }
        }
        assert_eq!(seen.len() as u64, report.delivered);
    }
}
