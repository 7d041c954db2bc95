//! The scenarios every networked adapter must pass, parametrized by server kind.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use net::adapter::Health;
use net::{ErrorKind, EventBus, EventBusConfig, PollRequest, StoredEvent};
use serde_json::{Value, json};

use super::{Kind, PrivateServer, ev, free_port, unique_prefix};

/// The adapter object for `kind` at `url` with `prefix`, plus `extra` keys.
pub fn adapter(kind: Kind, url: &str, prefix: &str, extra: Value) -> Value {
    let mut a = json!({"url": url, "prefix": prefix});
    a["type"] = json!(match kind {
        Kind::Redis => "redis",
        Kind::Nats => "jetstream",
    });
    for (k, v) in extra.as_object().unwrap() {
        a[k] = v.clone();
    }
    a
}

/// A bus on `adapter` with `shards` shards and producers that wait (never drop) on a full ring.
pub fn bus(adapter: &Value, shards: u16) -> net::Result<EventBus> {
    EventBus::new(EventBusConfig::from_value(&json!({
        "num_shards": shards,
        "ring_capacity": 1 << 16,
        "backpressure": {"mode": "block", "timeout_ms": 60_000},
        "adapter": adapter,
    }))?)
}

/// Emits `{"i": k}` for `k` in `range`, 1000 per batch; panics on any refusal.
pub fn emit(bus: &EventBus, range: std::ops::Range<u64>) {
    let all: Vec<u64> = range.collect();
    for chunk in all.chunks(1000) {
        let report = bus.ingest_batch(chunk.iter().map(|&i| ev(i)));
        assert_eq!(
            report.accepted(),
            chunk.len(),
            "{:?}",
            report.outcomes.iter().find(|o| o.is_err())
        );
    }
}

/// Polls everything from `cursor` on; returns the events and the final cursor.
pub fn drain(bus: &EventBus, cursor: Option<String>) -> (Vec<StoredEvent>, String) {
    let mut cursor = cursor;
    let mut out = Vec::new();
    loop {
        let mut req = PollRequest::new(10_000);
        req.cursor = cursor.clone();
        let page = bus.poll(&req).unwrap();
        let n = page.events.len();
        out.extend(page.events);
        cursor = Some(page.cursor);
        if n == 0 && !page.has_more {
            return (out, cursor.unwrap());
        }
    }
}

/// Each shard's positions are dense from `first[shard]`, its seqs strictly increase, and no
/// event value repeats; returns the set of values.
pub fn check_layout(events: &[StoredEvent], shards: u16, first: &[u64]) -> HashSet<u64> {
    let mut values = HashSet::new();
    for s in 0..shards {
        let mine: Vec<&StoredEvent> = events.iter().filter(|e| e.shard == s).collect();
        for (k, e) in mine.iter().enumerate() {
            assert_eq!(
                e.position,
                first[s as usize] + k as u64,
                "shard {s} not dense"
            );
            if k > 0 {
                assert!(
                    e.seq > mine[k - 1].seq,
                    "shard {s} out of order at {}",
                    e.position
                );
            }
            let i = e.event.to_value()["i"].as_u64().unwrap();
            assert!(values.insert(i), "value {i} stored twice");
        }
    }
    values
}

/// 100,000 events through 4 shards and back, complete and in per-shard order; a second adapter
/// instance on the same prefix sees the same positions and appends after them.
pub fn round_trip(kind: Kind, url: &str) {
    const N: u64 = 100_000;
    let a = adapter(kind, url, &unique_prefix("rt"), json!({}));
    let bus1 = bus(&a, 4).unwrap();
    let t = Instant::now();
    emit(&bus1, 0..N);
    bus1.flush().unwrap();
    let s = bus1.stats();
    assert_eq!((s.accepted, s.delivered, s.dropped.total()), (N, N, 0));
    assert_eq!(s.adapter.stored, N);
    assert_eq!(bus1.adapter_health(), Health::Healthy);
    let (events, cursor) = drain(&bus1, None);
    assert_eq!(events.len() as u64, N);
    assert_eq!(check_layout(&events, 4, &[0; 4]).len() as u64, N);
    eprintln!(
        "{kind:?}: {N} events written and read back in {:?}",
        t.elapsed()
    );
    let mid = bus1.poll(&PollRequest::new(12_345)).unwrap().cursor;
    let after_mid = bus1
        .poll(&PollRequest::new(50).cursor(mid.clone()))
        .unwrap();
    bus1.shutdown().unwrap();
    drop(bus1);

    let bus2 = bus(&a, 4).unwrap();
    // A fresh instance resumes from a cursor in the middle of the data (the JetStream adapter
    // locates the frame by binary search).
    let again_mid = bus2.poll(&PollRequest::new(50).cursor(mid)).unwrap();
    let key = |p: &net::PollResult| {
        p.events
            .iter()
            .map(|e| (e.shard, e.position, e.seq, e.event.as_str().to_owned()))
            .collect::<Vec<_>>()
    };
    assert_eq!(key(&again_mid), key(&after_mid));
    assert_eq!(again_mid.events.len(), 50);
    let (again, _) = drain(&bus2, None);
    assert_eq!(again.len() as u64, N);
    emit(&bus2, N..N + 10);
    bus2.flush().unwrap();
    let (more, _) = drain(&bus2, Some(cursor));
    assert_eq!(
        more.len(),
        10,
        "a cursor from the first instance resumes exactly"
    );
    let mut ends = [0u64; 4];
    for e in &events {
        ends[e.shard as usize] = ends[e.shard as usize].max(e.position + 1);
    }
    let firsts: Vec<u64> = (0..4)
        .map(|s| {
            more.iter()
                .filter(|e| e.shard == s)
                .map(|e| e.position)
                .min()
                .unwrap_or(ends[s as usize])
        })
        .collect();
    assert_eq!(firsts, ends.to_vec(), "new events continue the positions");
    check_layout(&more, 4, &firsts);
}

/// The server is killed (SIGKILL) and restarted while events flow: every accepted event is
/// stored exactly once, in order.
pub fn restart_mid_stream(kind: Kind) {
    const N: u64 = 30_000;
    let mut server = PrivateServer::start(kind);
    let a = adapter(
        kind,
        &server.url(),
        &unique_prefix("restart"),
        json!({"reconnect_timeout_ms": 20_000, "connect_timeout_ms": 500}),
    );
    let bus = std::sync::Arc::new(bus(&a, 2).unwrap());
    let producer = {
        let bus = bus.clone();
        std::thread::spawn(move || {
            for chunk in 0..N / 100 {
                emit(&bus, chunk * 100..(chunk + 1) * 100);
                std::thread::sleep(Duration::from_micros(300));
            }
        })
    };
    while bus.stats().accepted < N / 10 {
        std::thread::sleep(Duration::from_millis(1));
    }
    server.kill();
    let at_kill = bus.stats().accepted;
    assert!(
        at_kill < N,
        "the producer was still running when the server died"
    );
    std::thread::sleep(Duration::from_millis(700));
    server.restart();
    producer.join().unwrap();
    bus.flush_timeout(Duration::from_secs(60)).unwrap();
    let s = bus.stats();
    assert_eq!(s.accepted, N);
    assert_eq!(s.dropped.adapter_failed, 0, "{s:?}");
    assert_eq!(s.delivered, N);
    let conn = s.adapter_connection.clone().unwrap();
    assert!(conn.errors > 0, "the outage was noticed: {conn:?}");
    let (events, _) = drain(&bus, None);
    assert_eq!(
        events.len() as u64,
        N,
        "every acknowledged event survived, none twice"
    );
    assert_eq!(check_layout(&events, 2, &[0, 0]).len() as u64, N);
    assert_eq!(bus.adapter_health(), Health::Healthy);
}

/// Nothing listens at the URL: building the bus fails with a typed error, quickly.
pub fn unreachable_at_start(kind: Kind) {
    let url = match kind {
        Kind::Redis => format!("redis://127.0.0.1:{}", free_port()),
        Kind::Nats => format!("nats://127.0.0.1:{}", free_port()),
    };
    let a = adapter(kind, &url, "never", json!({"connect_timeout_ms": 500}));
    let t = Instant::now();
    let err = bus(&a, 1).err().expect("no server, no bus");
    assert_eq!(err.kind(), ErrorKind::Adapter, "{err}");
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "took {:?}",
        t.elapsed()
    );
}

/// The server dies mid-run: writes fail after bounded retries (counted), polls fail with a typed
/// error, health turns unhealthy; after the server returns the bus works again.
pub fn unreachable_mid_run(kind: Kind) {
    let mut server = PrivateServer::start(kind);
    let a = adapter(
        kind,
        &server.url(),
        &unique_prefix("down"),
        json!({"reconnect_timeout_ms": 200, "connect_timeout_ms": 200}),
    );
    let a = with_short_requests(kind, a);
    let bus = bus(&a, 1).unwrap();
    emit(&bus, 0..10);
    bus.flush().unwrap();
    server.kill();

    let t = Instant::now();
    emit(&bus, 10..20);
    let flushed = bus.flush_timeout(Duration::from_secs(30));
    assert!(
        t.elapsed() < Duration::from_secs(30),
        "flush took {:?}",
        t.elapsed()
    );
    if let Err(e) = flushed {
        assert_eq!(e.kind(), ErrorKind::Adapter, "{e}");
    }
    let s = bus.stats();
    assert_eq!(s.dropped.adapter_failed, 10, "{s:?}");
    assert!(s.adapter_errors >= 4);
    let t = Instant::now();
    let err = bus.poll(&PollRequest::new(10)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Adapter, "{err}");
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "poll took {:?}",
        t.elapsed()
    );
    assert!(
        matches!(bus.adapter_health(), Health::Unhealthy(_)),
        "{:?}",
        bus.adapter_health()
    );
    assert!(s.adapter_connection.unwrap().last_error.is_some());

    server.restart();
    // The client reconnects in the background (backoff up to 1 s); reads work again first.
    let t = Instant::now();
    while bus.poll(&PollRequest::new(1)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "no reconnect after the restart"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    emit(&bus, 20..25);
    bus.flush_timeout(Duration::from_secs(30)).unwrap();
    let (events, _) = drain(&bus, None);
    let values = check_layout(&events, 1, &[0]);
    for i in (0..10).chain(20..25) {
        assert!(values.contains(&i), "acknowledged event {i} missing");
    }
    // JetStream may still store events the client had queued before the adapter gave up on
    // them (counted as adapter_failed); they land in order and never twice.
    assert!(events.len() == 15 || kind == Kind::Nats, "{}", events.len());
    assert_eq!(bus.adapter_health(), Health::Healthy);
}

fn with_short_requests(kind: Kind, mut a: Value) -> Value {
    match kind {
        Kind::Redis => a["command_timeout_ms"] = json!(1000),
        Kind::Nats => a["request_timeout_ms"] = json!(1000),
    }
    a
}

/// Cursors of the memory adapter and of this adapter are told apart (typed errors both ways).
pub fn foreign_cursor(kind: Kind, url: &str) {
    let a = adapter(kind, url, &unique_prefix("cursor"), json!({}));
    let remote = bus(&a, 2).unwrap();
    let memory = EventBus::new(EventBusConfig::builder().num_shards(2).build().unwrap()).unwrap();
    for b in [&remote, &memory] {
        emit(b, 0..3);
        b.flush().unwrap();
    }
    let remote_cursor = remote.poll(&PollRequest::new(2)).unwrap().cursor;
    let memory_cursor = memory.poll(&PollRequest::new(2)).unwrap().cursor;
    let e = memory
        .poll(&PollRequest::new(2).cursor(remote_cursor.clone()))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidCursor);
    let e = remote
        .poll(&PollRequest::new(2).cursor(memory_cursor))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidCursor);
    let page = remote
        .poll(&PollRequest::new(10).cursor(remote_cursor))
        .unwrap();
    assert_eq!(page.events.len(), 1);
}
