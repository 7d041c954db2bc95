//! The drain workers' coalescing window (`drain_linger_ns`) under concurrent producers: flush
//! still sees every event accepted before it, shutdown racing the producers loses and doubles
//! nothing and does not hang, and a flush does not wait for open windows.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use net::config::MAX_DRAIN_LINGER_NS;
use net::{Backpressure, ErrorKind, EventBus, EventBusConfig, PollRequest, Receipt};

const PRODUCERS: u64 = 4;
/// Most events one producer sends (the memory adapter keeps them all).
const CAP: u64 = 30_000;

fn bus(linger_ns: u64, shards: u16) -> Arc<EventBus> {
    let cfg = EventBusConfig::builder()
        .num_shards(shards)
        .ring_capacity(4096)
        .drain_workers(1)
        .drain_linger_ns(linger_ns)
        .backpressure(Backpressure::Block {
            timeout: Duration::from_secs(60),
        })
        .build()
        .unwrap();
    Arc::new(EventBus::new(cfg).unwrap())
}

/// Every (shard, seq) that polling returns, each once. With `upto`, paging stops as soon as
/// every shard has shown the position given for it (producers may still be appending).
fn visible(bus: &EventBus, upto: Option<&HashMap<u16, u64>>) -> HashSet<(u16, u64)> {
    let mut seen = HashSet::new();
    let mut top: HashMap<u16, u64> = HashMap::new();
    let mut cursor = None;
    loop {
        let mut req = PollRequest::new(10_000);
        req.cursor = cursor;
        let page = bus.poll(&req).unwrap();
        for e in &page.events {
            assert!(
                seen.insert((e.shard, e.seq)),
                "duplicate {}/{}",
                e.shard,
                e.seq
            );
            let t = top.entry(e.shard).or_default();
            *t = (*t).max(e.seq);
        }
        cursor = Some(page.cursor);
        let reached = upto.is_some_and(|u| u.iter().all(|(s, &q)| top.get(s) >= Some(&q)));
        if !page.has_more || reached {
            return seen;
        }
    }
}

/// Producers that stream small raw events (one at a time, so windows keep opening) until
/// `stop` or until the bus refuses with `ShuttingDown`; every receipt is recorded as soon as
/// its ingest returns.
fn producers(
    bus: &Arc<EventBus>,
    stop: &Arc<AtomicBool>,
    receipts: &Arc<Mutex<Vec<Receipt>>>,
) -> Vec<std::thread::JoinHandle<u64>> {
    (0..PRODUCERS)
        .map(|p| {
            let (bus, stop, receipts) = (bus.clone(), stop.clone(), receipts.clone());
            std::thread::spawn(move || {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) && i < CAP {
                    let raw = format!(r#"{{"p":{p},"i":{i}}}"#);
                    match bus.ingest_raw(raw.as_bytes()) {
                        Ok(r) => receipts.lock().unwrap().push(r),
                        Err(e) if e.kind() == ErrorKind::ShuttingDown => break,
                        Err(e) => panic!("producer {p}: {e}"),
                    }
                    i += 1;
                    if i.is_multiple_of(64) {
                        // Gaps of varying length: windows open, expire and end early.
                        std::thread::sleep(Duration::from_micros(i % 7 * 3));
                    }
                }
                i
            })
        })
        .collect()
}

#[test]
fn flush_and_shutdown_racing_lingering_producers_lose_nothing() {
    for shards in [1, 3] {
        let bus = bus(MAX_DRAIN_LINGER_NS, shards);
        let stop = Arc::new(AtomicBool::new(false));
        let receipts = Arc::new(Mutex::new(Vec::new()));
        let threads = producers(&bus, &stop, &receipts);
        for round in 0..10 {
            std::thread::sleep(Duration::from_millis(2));
            // Everything accepted before the flush starts must be visible when it returns.
            let before: Vec<Receipt> = receipts.lock().unwrap().clone();
            bus.flush_timeout(Duration::from_secs(30))
                .unwrap_or_else(|e| panic!("{shards} shards, round {round}: {e}"));
            let mut upto = HashMap::new();
            for r in &before {
                let t = upto.entry(r.shard).or_insert(0);
                *t = r.seq.max(*t);
            }
            let seen = visible(&bus, Some(&upto));
            for r in &before {
                assert!(
                    seen.contains(&(r.shard, r.seq)),
                    "{shards} shards, round {round}: {r:?} accepted before flush, not visible"
                );
            }
        }
        // Shut down while the producers are still streaming: it must return, and everything
        // accepted is delivered exactly once.
        let report = bus.shutdown().unwrap();
        stop.store(true, Ordering::Relaxed);
        let sent: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
        let receipts = receipts.lock().unwrap();
        assert!(sent >= receipts.len() as u64);
        assert_eq!(report.accepted, receipts.len() as u64, "{shards} shards");
        assert_eq!(report.delivered, report.accepted, "{report:?}");
        assert_eq!(report.undelivered, 0, "{report:?}");
        let seen = visible(&bus, None);
        assert_eq!(seen.len(), receipts.len(), "{shards} shards");
        for r in receipts.iter() {
            assert!(seen.contains(&(r.shard, r.seq)), "{r:?} lost");
        }
    }
}

/// Median of how long `flush` takes while one producer streams, in microseconds.
fn median_flush_us(bus: &Arc<EventBus>) -> u128 {
    let stop = Arc::new(AtomicBool::new(false));
    let producer = {
        let (bus, stop) = (bus.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                // Bursts of 8 back to back (the worker finds the next event ready right after
                // a pop, so a window opens), 100 us apart (so about 80 events arrive per 1 ms
                // window, few enough that most windows run to their deadline).
                for _ in 0..8 {
                    bus.ingest_raw(br#"{"x":1}"#).unwrap();
                }
                let t = Instant::now();
                while t.elapsed() < Duration::from_micros(100) {
                    std::hint::spin_loop();
                }
            }
        })
    };
    std::thread::sleep(Duration::from_millis(5));
    let mut times: Vec<u128> = (0..41)
        .map(|_| {
            std::thread::sleep(Duration::from_micros(300));
            let t = Instant::now();
            bus.flush().unwrap();
            t.elapsed().as_micros()
        })
        .collect();
    stop.store(true, Ordering::Relaxed);
    producer.join().unwrap();
    times.sort_unstable();
    times[times.len() / 2]
}

#[test]
fn flush_does_not_wait_for_open_windows() {
    // With the longest window (1 ms), a flush that waited for the window in progress would
    // take about half of it on average. It ends windows at once, so its median stays close to
    // that of a bus without windows measured in the same moment (three rounds, best kept, so
    // a burst of load on a shared machine does not decide the outcome).
    let lingering = bus(MAX_DRAIN_LINGER_NS, 1);
    let plain = bus(0, 1);
    let mut excess = Vec::new();
    for _ in 0..3 {
        let with = median_flush_us(&lingering);
        let without = median_flush_us(&plain);
        excess.push(with as i128 - without as i128);
    }
    let best = excess.iter().copied().min().unwrap();
    assert!(
        best < 250,
        "flush with 1 ms windows took {best} us longer than without (rounds: {excess:?})"
    );
    lingering.shutdown().unwrap();
    plain.shutdown().unwrap();
}
