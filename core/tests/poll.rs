//! Poll: cursors resume exactly, filters run in the engine, orderings, retention lag, bad input.

mod common;

use common::{ev, index};
use net::{ErrorKind, Event, EventBus, EventBusConfig, Filter, Ordering, PollRequest, StoredEvent};
use proptest::prelude::*;

fn bus(shards: u16) -> EventBus {
    EventBus::new(
        EventBusConfig::builder()
            .num_shards(shards)
            .build()
            .unwrap(),
    )
    .unwrap()
}

fn key(e: &StoredEvent) -> (u16, u64) {
    (e.shard, e.seq)
}

fn read_all(bus: &EventBus, ordering: Ordering) -> Vec<StoredEvent> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut req = PollRequest::new(100_000).ordering(ordering);
        req.cursor = cursor.clone();
        let page = bus.poll(&req).unwrap();
        out.extend(page.events);
        cursor = Some(page.cursor);
        if !page.has_more {
            return out;
        }
    }
}

#[test]
fn round_trip_and_non_destructive() {
    let bus = bus(1);
    let r0 = bus.ingest_str(r#"{"token":"hello"}"#).unwrap();
    let r1 = bus.ingest(ev(1)).unwrap();
    assert_eq!((r0.shard, r0.seq, r1.seq), (0, 0, 1));
    bus.flush().unwrap();
    for _ in 0..3 {
        let page = bus.poll(&PollRequest::new(10)).unwrap();
        assert_eq!(page.events.len(), 2);
        assert_eq!(page.events[0].event.as_str(), r#"{"token":"hello"}"#);
        assert!(!page.has_more);
    }
}

#[test]
fn cursor_resume_across_100_random_polls_equals_one_full_read() {
    let bus = bus(4);
    let mut rng = 0x9e3779b97f4a7c15u64;
    let mut next = |bound: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        1 + rng % bound
    };
    let mut emitted = 0u64;
    let mut pieces = Vec::new();
    let mut cursor: Option<String> = None;
    for round in 0..100 {
        // Interleave ingest and flushes with the polls: the cursor must survive both.
        for _ in 0..next(40) {
            bus.ingest(ev(emitted)).unwrap();
            emitted += 1;
        }
        if round % 3 == 0 {
            bus.flush().unwrap();
        }
        let mut req = PollRequest::new(next(25) as usize);
        req.cursor = cursor.clone();
        let page = bus.poll(&req).unwrap();
        assert!(page.events.len() <= req.limit);
        pieces.extend(page.events);
        cursor = Some(page.cursor);
    }
    bus.flush().unwrap();
    loop {
        let page = bus
            .poll(&PollRequest::new(7).cursor(cursor.clone().unwrap()))
            .unwrap();
        pieces.extend(page.events);
        cursor = Some(page.cursor);
        if !page.has_more {
            break;
        }
    }
    let full = read_all(&bus, Ordering::PerShard);
    assert_eq!(full.len() as u64, emitted);
    let mut a: Vec<_> = pieces.iter().map(key).collect();
    let mut b: Vec<_> = full.iter().map(key).collect();
    assert_eq!(a.len(), b.len(), "no skip, no repeat");
    a.sort_unstable();
    b.sort_unstable();
    assert_eq!(a, b);
    // Per shard, pieces arrive in sequence order.
    for shard in 0..4 {
        let seqs: Vec<u64> = pieces
            .iter()
            .filter(|e| e.shard == shard)
            .map(|e| e.seq)
            .collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    }
}

#[test]
fn independent_consumers_each_see_everything() {
    let bus = bus(2);
    for i in 0..500 {
        bus.ingest(ev(i)).unwrap();
    }
    bus.flush().unwrap();
    let (mut c1, mut c2) = (None::<String>, None::<String>);
    let (mut n1, mut n2) = (0, 0);
    for _ in 0..200 {
        let mut r1 = PollRequest::new(3);
        r1.cursor = c1.clone();
        let p1 = bus.poll(&r1).unwrap();
        n1 += p1.events.len();
        c1 = Some(p1.cursor);
        let mut r2 = PollRequest::new(11);
        r2.cursor = c2.clone();
        let p2 = bus.poll(&r2).unwrap();
        n2 += p2.events.len();
        c2 = Some(p2.cursor);
    }
    assert_eq!((n1, n2), (500, 500));
}

#[test]
fn filters_are_applied_in_the_engine_and_cursor_passes_rejects() {
    let bus = bus(3);
    for i in 0..300u64 {
        let kind = if i % 3 == 0 { "click" } else { "view" };
        bus.ingest(Event::from_str(&format!(r#"{{"i":{i},"kind":"{kind}"}}"#)).unwrap())
            .unwrap();
    }
    bus.flush().unwrap();
    let filter = Filter::from_json(r#"{"path":"kind","eq":"click"}"#).unwrap();
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let mut req = PollRequest::new(7).filter(filter.clone());
        req.cursor = cursor;
        let page = bus.poll(&req).unwrap();
        seen.extend(page.events.iter().map(index));
        cursor = Some(page.cursor);
        if !page.has_more {
            break;
        }
    }
    seen.sort_unstable();
    assert_eq!(seen, (0..300).step_by(3).collect::<Vec<_>>());
    // Nothing more after the filter consumed the tail.
    let page = bus
        .poll(&PollRequest::new(10).filter(filter).cursor(cursor.unwrap()))
        .unwrap();
    assert!(page.events.is_empty());
}

#[test]
fn insertion_time_merge_is_deterministic_and_ordered() {
    let bus = bus(4);
    for i in 0..2000 {
        bus.ingest(ev(i)).unwrap();
        if i % 97 == 0 {
            bus.flush().unwrap();
        }
    }
    bus.flush().unwrap();
    let a = read_all(&bus, Ordering::InsertionTime);
    let b = read_all(&bus, Ordering::InsertionTime);
    assert_eq!(a.len(), 2000);
    assert_eq!(a, b, "same data, same order");
    assert!(
        a.windows(2)
            .all(|w| (w[0].ts_ns, w[0].shard, w[0].position)
                < (w[1].ts_ns, w[1].shard, w[1].position))
    );
    // Paging through with small limits gives the same merged sequence.
    let mut paged = Vec::new();
    let mut cursor = None;
    loop {
        let mut req = PollRequest::new(13).ordering(Ordering::InsertionTime);
        req.cursor = cursor;
        let page = bus.poll(&req).unwrap();
        paged.extend(page.events);
        cursor = Some(page.cursor);
        if !page.has_more {
            break;
        }
    }
    assert_eq!(paged, a);
}

#[test]
fn partition_key_keeps_one_key_on_one_shard_in_order() {
    let cfg = EventBusConfig::builder()
        .num_shards(8)
        .partition_key("user.id")
        .build()
        .unwrap();
    let bus = EventBus::new(cfg).unwrap();
    for i in 0..800u64 {
        let user = i % 10;
        let e = Event::from_str(&format!(r#"{{"user":{{"id":"u{user}"}},"i":{i}}}"#)).unwrap();
        bus.ingest(e).unwrap();
    }
    // An explicit key agrees with the path value.
    let r = bus
        .ingest_with_key(Event::from_str(r#"{"i":9999}"#).unwrap(), b"u3")
        .unwrap();
    bus.flush().unwrap();
    let all = read_all(&bus, Ordering::PerShard);
    let mut shard_of = std::collections::HashMap::new();
    let mut last = std::collections::HashMap::new();
    let mut shards_used = std::collections::HashSet::new();
    for e in &all {
        let v = e.event.to_value();
        let Some(user) = v["user"]["id"].as_str() else {
            continue;
        };
        let i = v["i"].as_u64().unwrap();
        assert_eq!(*shard_of.entry(user.to_owned()).or_insert(e.shard), e.shard);
        if let Some(prev) = last.insert(user.to_owned(), i) {
            assert!(prev < i, "order kept within a key");
        }
        shards_used.insert(e.shard);
    }
    assert!(shards_used.len() > 1, "keys spread over shards");
    assert_eq!(r.shard, shard_of["u3"]);

    // The raw form validates, checks the size first, and picks the same shard for the key.
    let raw = bus.ingest_raw_with_key(br#"{"i":10000}"#, b"u3").unwrap();
    assert_eq!(raw.shard, shard_of["u3"]);
    assert_eq!(
        bus.ingest_raw_with_key(b"{not json", b"u3")
            .unwrap_err()
            .kind(),
        net::ErrorKind::InvalidJson
    );
    let max = bus.config().max_event_bytes;
    let huge = vec![b'{'; max + 1];
    assert_eq!(
        bus.ingest_raw_with_key(&huge, b"u3").unwrap_err().kind(),
        net::ErrorKind::PayloadTooLarge,
        "size is checked before validation"
    );
}

#[test]
fn retention_lag_is_reported_as_skipped() {
    let cfg = EventBusConfig::builder()
        .memory(10, 1 << 20)
        .build()
        .unwrap();
    let bus = EventBus::new(cfg).unwrap();
    for i in 0..5 {
        bus.ingest(ev(i)).unwrap();
    }
    bus.flush().unwrap();
    let first = bus.poll(&PollRequest::new(2)).unwrap();
    assert_eq!(
        first.events.iter().map(index).collect::<Vec<_>>(),
        vec![0, 1]
    );
    for i in 5..30 {
        bus.ingest(ev(i)).unwrap();
    }
    bus.flush().unwrap();
    let next = bus
        .poll(&PollRequest::new(100).cursor(first.cursor))
        .unwrap();
    assert_eq!(next.skipped, 18, "events 2..20 were evicted unread");
    assert_eq!(
        next.events.iter().map(index).collect::<Vec<_>>(),
        (20..30).collect::<Vec<_>>()
    );
    assert_eq!(bus.stats().adapter.evicted, 20);
}

#[test]
fn bad_requests_are_typed_errors() {
    let bus = bus(2);
    assert_eq!(
        bus.poll(&PollRequest::new(0)).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        bus.poll(&PollRequest::new(100_001)).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    let good = bus.poll(&PollRequest::new(5)).unwrap().cursor;
    for n in 0..good.len() {
        let truncated = &good[..n];
        assert_eq!(
            bus.poll(&PollRequest::new(5).cursor(truncated))
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidCursor,
            "{truncated:?}"
        );
    }
    // A cursor from a bus with another shard count.
    let other = bus1_cursor();
    assert_eq!(
        bus.poll(&PollRequest::new(5).cursor(other))
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidCursor
    );
    // A well-formed cursor pointing past the end of the data.
    let ahead = {
        let b = self::bus(2);
        for i in 0..10 {
            b.ingest(ev(i)).unwrap();
        }
        b.flush().unwrap();
        b.poll(&PollRequest::new(100)).unwrap().cursor
    };
    assert_eq!(
        bus.poll(&PollRequest::new(5).cursor(ahead))
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidCursor
    );
    assert_eq!(
        Ordering::parse("newest").unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
}

fn bus1_cursor() -> String {
    bus(1).poll(&PollRequest::new(1)).unwrap().cursor
}

#[test]
fn ingest_rejects_bad_events_and_use_after_shutdown() {
    let cfg = EventBusConfig::builder()
        .max_event_bytes(64)
        .build()
        .unwrap();
    let bus = EventBus::new(cfg).unwrap();
    assert_eq!(
        bus.ingest_str("{").unwrap_err().kind(),
        ErrorKind::InvalidJson
    );
    assert_eq!(
        bus.ingest_raw(b"\xff\xfe").unwrap_err().kind(),
        ErrorKind::InvalidJson
    );
    let big = format!(r#"{{"pad":"{}"}}"#, "x".repeat(100));
    let err = bus.ingest_str(&big).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PayloadTooLarge);
    assert!(err.to_string().contains("64"));
    let report = bus.ingest_raw_batch([&b"{}"[..], b"nope", big.as_bytes(), b"[1]"]);
    let kinds: Vec<_> = report
        .outcomes
        .iter()
        .map(|o| o.as_ref().map_err(|e| e.kind()).map(|_| ()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            Ok(()),
            Err(ErrorKind::InvalidJson),
            Err(ErrorKind::PayloadTooLarge),
            Ok(())
        ]
    );
    assert_eq!(report.accepted(), 2);
    let done = bus.shutdown().unwrap();
    assert_eq!((done.accepted, done.delivered), (2, 2));
    assert_eq!(
        bus.ingest(ev(1)).unwrap_err().kind(),
        ErrorKind::ShuttingDown
    );
    let batch = bus.ingest_batch(vec![ev(1), ev(2)]);
    assert!(
        batch
            .outcomes
            .iter()
            .all(|o| o.as_ref().unwrap_err().kind() == ErrorKind::ShuttingDown)
    );
    assert_eq!(bus.flush().unwrap_err().kind(), ErrorKind::ShuttingDown);
    // Reads still work after shutdown; a second shutdown returns the same report.
    assert_eq!(bus.poll(&PollRequest::new(10)).unwrap().events.len(), 2);
    assert_eq!(bus.shutdown().unwrap(), done);
}

/// `ingest_raw_batch` stores each valid event byte for byte; without a partition key the
/// valid events of one batch share one buffer (laid out back to back, invalid ones skipped),
/// with a partition key each has its own.
#[test]
fn raw_batch_events_are_exact_and_share_one_buffer() {
    let texts = [r#"{"i":0}"#, "nope", r#" {"i":1} "#, r#"{"i":2,"s":"é"}"#];
    for (partitioned, shards) in [(false, 3u16), (true, 3)] {
        let mut cfg = EventBusConfig::builder().num_shards(shards);
        if partitioned {
            cfg = cfg.partition_key("i");
        }
        let bus = EventBus::new(cfg.build().unwrap()).unwrap();
        let report = bus.ingest_raw_batch(texts.iter().map(|t| t.as_bytes()));
        assert_eq!(report.accepted(), 3);
        bus.flush().unwrap();
        let mut got = read_all(&bus, Ordering::PerShard);
        got.sort_by_key(index);
        let raws: Vec<&str> = got.iter().map(|e| e.event.as_str()).collect();
        assert_eq!(raws, [texts[0], texts[2], texts[3]]);
        let ptrs: Vec<usize> = got
            .iter()
            .map(|e| e.event.raw().as_ptr() as usize)
            .collect();
        let contiguous = ptrs[1] == ptrs[0] + texts[0].len() && ptrs[2] == ptrs[1] + texts[2].len();
        assert_eq!(contiguous, !partitioned, "partitioned: {partitioned}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    /// Any poll limits, over any interleaving of ingest and flush, read everything exactly once.
    #[test]
    fn cursor_never_skips_or_repeats(
        shards in 1u16..5,
        steps in proptest::collection::vec((0u64..30, 1usize..20, any::<bool>()), 1..30),
    ) {
        let bus = bus(shards);
        let mut emitted = 0u64;
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        for (n, limit, flush) in steps {
            for _ in 0..n {
                bus.ingest(ev(emitted)).unwrap();
                emitted += 1;
            }
            if flush {
                bus.flush().unwrap();
            }
            let mut req = PollRequest::new(limit);
            req.cursor = cursor.clone();
            let page = bus.poll(&req).unwrap();
            seen.extend(page.events.iter().map(index));
            cursor = Some(page.cursor);
        }
        bus.flush().unwrap();
        loop {
            let page = bus.poll(&PollRequest::new(50).cursor(cursor.clone().unwrap())).unwrap();
            seen.extend(page.events.iter().map(index));
            cursor = Some(page.cursor);
            if !page.has_more { break; }
        }
        seen.sort_unstable();
        prop_assert_eq!(seen, (0..emitted).collect::<Vec<_>>());
    }
}
