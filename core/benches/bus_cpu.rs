//! W1/W2-shaped bus workloads measured in wall time *and* CPU time per thread.
//!
//! On a shared machine the wall-clock figures of `net bench` move by ±30% with the load of
//! other processes; the CPU time a thread spent per event moves much less. This bench runs the
//! same shapes as W1 (single, batch of 1,000, `ingest_str` with validation, 1 shard, `block`,
//! retention larger than the run) and W2 (one producer, one subscriber with `next_blocking`)
//! and prints, per repetition: events/s (wall), producer CPU ns/event, subscriber CPU
//! ns/event (W2), and the rest of the process (mostly the drain worker, including its spinning
//! while idle) in ns/event. Each repetition builds a fresh bus and fresh events outside the
//! timer; counts are checked (nothing lost).
//!
//! Run: `cargo bench -p net-mesh --bench bus_cpu` (env `BUS_CPU_REPS`, default 5;
//! `BUS_CPU_ONLY=single,batch,parse,w2` for a subset). Not promised: figures comparable with
//! `net bench` to the last digit (event texts are the same, harness differs).

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use net::{Backpressure, Event, EventBus, EventBusConfig, SubscribeOptions, SubscriptionItem};

const RING: usize = 1 << 16;
const W1_EVENTS: u64 = 2_000_000;
const W2_EVENTS: u64 = 1_000_000;
const BATCH: usize = 1000;

/// CPU time of `clock` (thread or process) in nanoseconds.
fn cpu_ns(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock ids used are always supported on
    // Linux, and on failure `ts` stays zero (the figure is then visibly wrong, not UB).
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn thread_cpu() -> u64 {
    cpu_ns(libc::CLOCK_THREAD_CPUTIME_ID)
}

fn process_cpu() -> u64 {
    cpu_ns(libc::CLOCK_PROCESS_CPUTIME_ID)
}

fn text(index: u64) -> String {
    let head = format!(r#"{{"token":"hello","index":{index},"pad":""#);
    let pad = 64 - (head.len() + 2);
    format!("{head}{}\"}}", "x".repeat(pad))
}

fn events(n: u64) -> Vec<Event> {
    (0..n)
        .map(|i| Event::from_str(&text(i)).expect("valid"))
        .collect()
}

fn bus(retain: usize) -> EventBus {
    EventBus::new(
        EventBusConfig::builder()
            .num_shards(1)
            .ring_capacity(RING)
            .backpressure(Backpressure::Block {
                timeout: Duration::from_secs(60),
            })
            .memory(retain, retain * 128)
            .build()
            .expect("config"),
    )
    .expect("bus")
}

/// One measured repetition.
struct Figure {
    eps: f64,
    producer_ns: f64,
    subscriber_ns: f64,
    rest_ns: f64,
}

fn w1(mode: &str) -> Figure {
    let n = W1_EVENTS;
    let bus = bus(1 << 21);
    let (texts, evs) = match mode {
        "parse" => ((0..n).map(text).collect::<Vec<_>>(), Vec::new()),
        _ => (Vec::new(), events(n)),
    };
    let mut batches: Vec<Vec<Event>> = Vec::new();
    let mut singles = Vec::new();
    if mode == "batch" {
        let mut it = evs.into_iter();
        loop {
            let b: Vec<Event> = it.by_ref().take(BATCH).collect();
            if b.is_empty() {
                break;
            }
            batches.push(b);
        }
    } else {
        singles = evs;
    }
    let (p0, t0, start) = (process_cpu(), thread_cpu(), Instant::now());
    match mode {
        "single" => {
            for e in singles.drain(..) {
                bus.ingest(e).expect("ingest");
            }
        }
        "batch" => {
            for b in batches.drain(..) {
                assert_eq!(bus.ingest_batch(b).accepted(), BATCH);
            }
        }
        _ => {
            for t in &texts {
                bus.ingest_str(t).expect("ingest_str");
            }
        }
    }
    let wall = start.elapsed();
    let (t1, p1) = (thread_cpu(), process_cpu());
    bus.flush().expect("flush");
    let s = bus.stats();
    assert_eq!(
        (s.accepted, s.adapter.stored),
        (n, n),
        "{mode}: lost events"
    );
    let producer = (t1 - t0) as f64 / n as f64;
    Figure {
        eps: n as f64 / wall.as_secs_f64(),
        producer_ns: producer,
        subscriber_ns: 0.0,
        rest_ns: (p1 - p0) as f64 / n as f64 - producer,
    }
}

fn w2() -> Figure {
    let n = W2_EVENTS;
    let bus = Arc::new(bus(1 << 20));
    let evs = events(n);
    let mut sub = bus
        .subscribe(SubscribeOptions {
            batch: 1024,
            ..SubscribeOptions::default()
        })
        .expect("subscribe");
    let ready = Arc::new(Barrier::new(3));
    let subscriber = {
        let ready = ready.clone();
        std::thread::Builder::new()
            .name("w2-subscriber".into())
            .spawn(move || {
                ready.wait();
                let c0 = thread_cpu();
                let mut next = 0u64;
                while next < n {
                    match sub.next_blocking(Some(Duration::from_secs(30))) {
                        Ok(Some(SubscriptionItem::Event(e))) => {
                            assert_eq!(e.seq, next, "order");
                            next += 1;
                        }
                        other => panic!("w2 subscriber: {other:?}"),
                    }
                }
                (Instant::now(), thread_cpu() - c0)
            })
            .expect("spawn")
    };
    let producer = {
        let bus = bus.clone();
        let ready = ready.clone();
        std::thread::Builder::new()
            .name("w2-producer".into())
            .spawn(move || {
                ready.wait();
                let (c0, start) = (thread_cpu(), Instant::now());
                for e in evs {
                    bus.ingest(e).expect("ingest");
                }
                (start, thread_cpu() - c0)
            })
            .expect("spawn")
    };
    let p0 = process_cpu();
    ready.wait();
    let (start, prod_cpu) = producer.join().expect("producer");
    let (end, sub_cpu) = subscriber.join().expect("subscriber");
    let p1 = process_cpu();
    bus.shutdown().expect("shutdown");
    let per = |ns: u64| ns as f64 / n as f64;
    Figure {
        eps: n as f64 / (end - start).as_secs_f64(),
        producer_ns: per(prod_cpu),
        subscriber_ns: per(sub_cpu),
        rest_ns: per(p1 - p0) - per(prod_cpu) - per(sub_cpu),
    }
}

fn main() {
    let reps: usize = std::env::var("BUS_CPU_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let only = std::env::var("BUS_CPU_ONLY").unwrap_or_else(|_| "single,batch,parse,w2".into());
    for mode in only
        .split(',')
        .filter(|m| !m.is_empty() && !m.starts_with("--"))
    {
        let mut figs: Vec<Figure> = (0..reps)
            .map(|_| if mode == "w2" { w2() } else { w1(mode) })
            .collect();
        figs.sort_by(|a, b| a.eps.total_cmp(&b.eps));
        let med = &figs[figs.len() / 2];
        let best_prod = figs.iter().map(|f| f.producer_ns).fold(f64::MAX, f64::min);
        let best_sub = figs
            .iter()
            .map(|f| f.subscriber_ns)
            .fold(f64::MAX, f64::min);
        let best_rest = figs.iter().map(|f| f.rest_ns).fold(f64::MAX, f64::min);
        println!(
            "{mode:>6}: median {:>6.2}M/s (min {:.2}M max {:.2}M) | CPU ns/event, best of {reps} \
             (median): producer {best_prod:.1} ({:.1}), subscriber {best_sub:.1} ({:.1}), \
             rest {best_rest:.1} ({:.1})",
            med.eps / 1e6,
            figs[0].eps / 1e6,
            figs[figs.len() - 1].eps / 1e6,
            med.producer_ns,
            med.subscriber_ns,
            med.rest_ns,
        );
    }
}
