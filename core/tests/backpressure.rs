//! Every backpressure mode under a full ring, and proof that each behaves differently.

mod common;

use std::time::{Duration, Instant};

use common::{GatedAdapter, ev, index};
use net::{Backpressure, ErrorKind, EventBus, EventBusConfig, PollRequest, Stats};

struct Outcome {
    /// Per offered event 1..=20: "ok" or the error kind.
    results: Vec<&'static str>,
    /// The `i` of every event readable after the gate opened.
    polled: Vec<u64>,
    stats: Stats,
}

/// How `scenario` offers events 1..=20.
#[derive(Clone, Copy, Debug)]
enum Offer {
    /// One `ingest` call per event.
    Single,
    /// One `ingest_batch` of all twenty (positions claimed for a run of events at once).
    Batch,
    /// One `ingest_raw_batch` of their JSON texts (one shared buffer).
    RawBatch,
    /// One `ingest_raw` per JSON text (small events are stored inline in the ring).
    Raw,
    /// One `ingest_raw` per JSON text padded past `INLINE_MAX` (each gets its own buffer).
    RawLarge,
}

/// One shard, ring of 8, drain batches of 1. Event 0 is held at the closed adapter gate, so
/// the ring is empty and nothing drains while events 1..=20 are offered.
fn scenario(mode: Backpressure) -> Outcome {
    scenario_with(mode, Offer::Single)
}

fn kind(outcome: &net::Result<net::Receipt>) -> &'static str {
    match outcome {
        Ok(_) => "ok",
        Err(e) => e.kind().as_str(),
    }
}

fn scenario_with(mode: Backpressure, offer: Offer) -> Outcome {
    let gate = GatedAdapter::new(false);
    let cfg = EventBusConfig::builder()
        .ring_capacity(8)
        .drain_batch(1)
        .backpressure(mode)
        .build()
        .unwrap();
    let bus = EventBus::with_adapter(cfg, gate.clone()).unwrap();
    bus.ingest(ev(0)).unwrap();
    gate.wait_for_blocked_worker();
    let results = match offer {
        Offer::Single => (1..=20).map(|i| kind(&bus.ingest(ev(i)))).collect(),
        Offer::Batch => {
            let report = bus.ingest_batch((1..=20).map(ev));
            report.outcomes.iter().map(kind).collect()
        }
        Offer::RawBatch => {
            let texts: Vec<String> = (1..=20).map(|i| format!(r#"{{"i":{i}}}"#)).collect();
            let report = bus.ingest_raw_batch(texts.iter().map(|t| t.as_bytes()));
            report.outcomes.iter().map(kind).collect()
        }
        Offer::Raw => (1..=20)
            .map(|i| kind(&bus.ingest_raw(format!(r#"{{"i":{i}}}"#).as_bytes())))
            .collect(),
        Offer::RawLarge => (1..=20)
            .map(|i| {
                let pad = "x".repeat(net::bus::ring::INLINE_MAX);
                kind(&bus.ingest_raw(format!(r#"{{"i":{i},"pad":"{pad}"}}"#).as_bytes()))
            })
            .collect(),
    };
    gate.open();
    bus.flush().unwrap();
    let polled = bus
        .poll(&PollRequest::new(100))
        .unwrap()
        .events
        .iter()
        .map(index)
        .collect();
    let stats = bus.stats();
    let report = bus.shutdown().unwrap();
    assert_eq!(report.undelivered, 0);
    assert_eq!(
        stats.accepted,
        stats.delivered + stats.dropped.drop_oldest,
        "counts reconcile"
    );
    Outcome {
        results,
        polled,
        stats,
    }
}

fn kinds(ok: usize, rest: &'static str) -> Vec<&'static str> {
    let mut v = vec!["ok"; ok];
    v.resize(20, rest);
    v
}

#[test]
fn drop_oldest_evicts_the_oldest_queued_event() {
    let o = scenario(Backpressure::DropOldest);
    assert_eq!(o.results, vec!["ok"; 20]);
    let mut expected = vec![0];
    expected.extend(13..=20);
    assert_eq!(o.polled, expected);
    assert_eq!(o.stats.dropped.drop_oldest, 12);
    assert_eq!(o.stats.dropped.total(), 12);
    assert_eq!(o.stats.accepted, 21);
}

#[test]
fn drop_newest_discards_the_offered_event() {
    let o = scenario(Backpressure::DropNewest);
    assert_eq!(o.results, kinds(8, "dropped"));
    assert_eq!(o.polled, (0..=8).collect::<Vec<_>>());
    assert_eq!(o.stats.dropped.drop_newest, 12);
    assert_eq!(o.stats.accepted, 9);
}

#[test]
fn fail_producer_rejects_without_dropping() {
    let o = scenario(Backpressure::FailProducer);
    assert_eq!(o.results, kinds(8, "backpressure"));
    assert_eq!(o.polled, (0..=8).collect::<Vec<_>>());
    assert_eq!(o.stats.dropped.total(), 0);
    assert_eq!(o.stats.rejected.backpressure, 12);
}

#[test]
fn block_times_out_when_nothing_drains() {
    let started = Instant::now();
    let o = scenario(Backpressure::Block {
        timeout: Duration::from_millis(10),
    });
    assert!(started.elapsed() >= Duration::from_millis(120));
    assert_eq!(o.results, kinds(8, "timeout"));
    assert_eq!(o.polled, (0..=8).collect::<Vec<_>>());
    assert_eq!(o.stats.rejected.timeout, 12);
    assert_eq!(o.stats.dropped.total(), 0);
}

#[test]
fn block_waits_for_room_and_loses_nothing() {
    let gate = GatedAdapter::new(false);
    let cfg = EventBusConfig::builder()
        .ring_capacity(4)
        .drain_batch(1)
        .backpressure(Backpressure::Block {
            timeout: Duration::from_secs(20),
        })
        .build()
        .unwrap();
    let bus = EventBus::with_adapter(cfg, gate.clone()).unwrap();
    bus.ingest(ev(0)).unwrap();
    gate.wait_for_blocked_worker();
    let opener = {
        let gate = gate.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            gate.open();
        })
    };
    let started = Instant::now();
    for i in 1..=50 {
        bus.ingest(ev(i)).unwrap();
    }
    assert!(
        started.elapsed() >= Duration::from_millis(40),
        "producer really waited"
    );
    opener.join().unwrap();
    bus.flush().unwrap();
    let got: Vec<u64> = bus
        .poll(&PollRequest::new(100))
        .unwrap()
        .events
        .iter()
        .map(index)
        .collect();
    assert_eq!(got, (0..=50).collect::<Vec<_>>());
    assert_eq!(bus.stats().dropped.total(), 0);
}

#[test]
fn block_producer_is_released_by_shutdown() {
    let gate = GatedAdapter::new(false);
    let cfg = EventBusConfig::builder()
        .ring_capacity(2)
        .drain_batch(1)
        .backpressure(Backpressure::Block {
            timeout: Duration::from_secs(60),
        })
        .build()
        .unwrap();
    let bus = std::sync::Arc::new(EventBus::with_adapter(cfg, gate.clone()).unwrap());
    bus.ingest(ev(0)).unwrap();
    gate.wait_for_blocked_worker();
    bus.ingest(ev(1)).unwrap();
    bus.ingest(ev(2)).unwrap();
    let producer = {
        let bus = bus.clone();
        std::thread::spawn(move || bus.ingest(ev(3)))
    };
    std::thread::sleep(Duration::from_millis(30));
    let opener = {
        let gate = gate.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            gate.open();
        })
    };
    let started = Instant::now();
    let report = bus.shutdown().unwrap();
    let blocked = producer.join().unwrap();
    opener.join().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "shutdown did not hang"
    );
    assert_eq!(blocked.unwrap_err().kind(), ErrorKind::ShuttingDown);
    assert_eq!(report.accepted, 3);
    assert_eq!(report.delivered, 3);
    assert_eq!(report.undelivered, 0);
}

#[test]
fn sample_keeps_one_in_n_above_high_water() {
    let o = scenario(Backpressure::Sample {
        keep_one_in: 2,
        high_water: 0.5,
    });
    // Ring of 8, high water 4: 1..=4 go in unsampled; above it every other offer is kept
    // (5, 7, 9, 11) until the ring is full, then everything is sampled away.
    let kept = [1, 2, 3, 4, 5, 7, 9, 11];
    let expected: Vec<&str> = (1..=20)
        .map(|i| if kept.contains(&i) { "ok" } else { "dropped" })
        .collect();
    assert_eq!(o.results, expected);
    let mut polled = vec![0];
    polled.extend(kept);
    assert_eq!(o.polled, polled);
    assert_eq!(o.stats.dropped.sampled, 12);
    assert_eq!(o.stats.dropped.drop_newest, 0);
}

#[test]
fn the_five_modes_are_pairwise_different() {
    let modes = [
        Backpressure::DropOldest,
        Backpressure::DropNewest,
        Backpressure::FailProducer,
        Backpressure::Block {
            timeout: Duration::from_millis(5),
        },
        Backpressure::Sample {
            keep_one_in: 2,
            high_water: 0.5,
        },
    ];
    let outcomes: Vec<(Vec<&str>, Vec<u64>)> = modes
        .iter()
        .map(|m| {
            let o = scenario(*m);
            (o.results, o.polled)
        })
        .collect();
    for i in 0..outcomes.len() {
        for j in i + 1..outcomes.len() {
            assert_ne!(
                outcomes[i],
                outcomes[j],
                "{} and {} behaved the same",
                modes[i].mode(),
                modes[j].mode()
            );
        }
    }
}

#[test]
fn adapter_failures_are_counted_not_lost() {
    let gate = GatedAdapter::new(true);
    gate.failing
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let cfg = EventBusConfig::builder().build().unwrap();
    let bus = EventBus::with_adapter(cfg, gate.clone()).unwrap();
    for i in 0..5 {
        bus.ingest(ev(i)).unwrap();
    }
    bus.flush().unwrap();
    let stats = bus.stats();
    assert_eq!(stats.accepted, 5);
    assert_eq!(stats.delivered, 0);
    assert_eq!(stats.dropped.adapter_failed, 5);
    assert!(stats.adapter_errors >= 1);
    assert_eq!(stats.in_flight, 0);
}

/// A batch into a ring with less room than the batch behaves exactly like the same events
/// offered one by one: same outcome per event, same events stored, same counters. (Batches
/// claim ring positions for many events at once, and fall back to the per-event path, with
/// its backpressure mode, at the first event that finds the ring full.) So do raw events, small
/// ones stored inline in the ring and large ones with their own buffer.
#[test]
fn batches_behave_like_single_events_in_every_mode() {
    let modes = [
        Backpressure::DropOldest,
        Backpressure::DropNewest,
        Backpressure::FailProducer,
        Backpressure::Block {
            timeout: Duration::from_millis(5),
        },
        Backpressure::Sample {
            keep_one_in: 2,
            high_water: 0.5,
        },
    ];
    for mode in modes {
        let single = scenario_with(mode, Offer::Single);
        for offer in [Offer::Batch, Offer::RawBatch, Offer::Raw, Offer::RawLarge] {
            let o = scenario_with(mode, offer);
            let what = format!("{} via {offer:?}", mode.mode());
            assert_eq!(o.results, single.results, "{what}");
            assert_eq!(o.polled, single.polled, "{what}");
            assert_eq!(o.stats.accepted, single.stats.accepted, "{what}");
            assert_eq!(o.stats.dropped, single.stats.dropped, "{what}");
            assert_eq!(o.stats.rejected, single.stats.rejected, "{what}");
        }
    }
}
