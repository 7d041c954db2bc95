//! RedEX on the heap: appends, batches, ordered appender, reads, tails and retention.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use net::redex::{
    Redex, RedexBatch, RedexError, RedexFile, RedexFileConfig, Retention, TypedRedexFile,
    validate_channel,
};

fn heap() -> RedexFile {
    RedexFile::open("t", None, RedexFileConfig::heap()).unwrap()
}

#[test]
fn append_read_inline_and_heap() {
    let f = heap();
    assert_eq!(f.append(b"hello").unwrap(), 0);
    assert_eq!(f.append_inline(*b"12345678").unwrap(), 1);
    assert_eq!(f.append(b"").unwrap(), 2);
    let all = f.read_range(0, u64::MAX);
    let p: Vec<&[u8]> = all.iter().map(|e| e.payload.as_slice()).collect();
    assert_eq!(p, vec![&b"hello"[..], b"12345678", b""]);
    assert_eq!(f.read_range(1, 2).len(), 1);
    assert_eq!(f.stats().retained_bytes, 13);
}

#[test]
fn batch_is_contiguous_and_all_or_nothing() {
    let cfg = RedexFileConfig {
        max_payload_bytes: 16,
        ..RedexFileConfig::heap()
    };
    let f = RedexFile::open("t", None, cfg).unwrap();
    assert_eq!(f.append_batch::<&[u8]>(&[]).unwrap(), None);
    assert_eq!(f.append_batch(&[b"a", b"b"]).unwrap(), Some(0));
    let big = vec![0u8; 17];
    let err = f.append_batch(&[&b"c"[..], &big]).unwrap_err();
    assert!(matches!(
        err,
        RedexError::PayloadTooLarge { size: 17, max: 16 }
    ));
    assert_eq!(f.next_seq(), 2, "a refused batch consumes no seq");
    assert_eq!(f.append(b"d").unwrap(), 2);
    let e: net::Error = err.into();
    assert_eq!(e.kind(), net::ErrorKind::PayloadTooLarge);
}

#[test]
fn ordered_appender_is_not_interleaved() {
    let f = heap();
    let f2 = f.clone();
    let t = std::thread::spawn(move || {
        for _ in 0..1000 {
            f2.append(b"other").unwrap();
        }
    });
    for round in 0..50u32 {
        let mut o = f.ordered();
        let first = o.append(&round.to_le_bytes()).unwrap();
        for k in 1..10u64 {
            assert_eq!(o.append(&round.to_le_bytes()).unwrap(), first + k);
        }
    }
    t.join().unwrap();
    assert_eq!(f.len(), 1500);
}

#[test]
fn segments_roll_and_reads_span_them() {
    let cfg = RedexFileConfig::heap().with_segments(64, 5);
    let f = RedexFile::open("t", None, cfg).unwrap();
    for i in 0..100u32 {
        f.append(format!("entry-{i}").as_bytes()).unwrap();
    }
    assert!(f.stats().segments >= 20);
    let r = f.read_range(13, 77);
    assert_eq!(r.len(), 64);
    for (k, e) in r.iter().enumerate() {
        assert_eq!(e.seq, 13 + k as u64);
        assert_eq!(e.payload, format!("entry-{}", 13 + k).into_bytes());
    }
}

#[test]
fn tail_backfill_then_live_no_gap_no_dup_under_concurrent_appenders() {
    let f = heap();
    for i in 0..500u64 {
        f.append(&i.to_le_bytes()).unwrap();
    }
    let writers: Vec<_> = (0..3)
        .map(|_| {
            let f = f.clone();
            std::thread::spawn(move || {
                for _ in 0..3000u64 {
                    f.append(b"concurrent-payload").unwrap();
                }
            })
        })
        .collect();
    // Start tails at several points while the writers run.
    let mut tails: Vec<_> = [0u64, 250, 499].iter().map(|&s| (s, f.tail(s))).collect();
    for w in writers {
        w.join().unwrap();
    }
    let total = 500 + 9000;
    for (start, tail) in &mut tails {
        let mut expect = *start;
        while expect < total {
            let e = tail.recv_timeout(Duration::from_secs(5)).unwrap().unwrap();
            assert_eq!(e.seq, expect, "gap or duplicate");
            expect += 1;
        }
    }
    f.close().unwrap();
    for (_, tail) in &mut tails {
        assert_eq!(tail.next_blocking(), Some(Err(RedexError::Closed)));
        assert_eq!(tail.next_blocking(), None);
    }
}

#[test]
fn tail_as_stream_wakes_on_append() {
    let f = heap();
    let mut t = f.tail(0);
    let f2 = f.clone();
    let h = std::thread::spawn(move || {
        for i in 0..100u64 {
            f2.append(&i.to_le_bytes()).unwrap();
            if i.is_multiple_of(10) {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        f2.close().unwrap();
    });
    let got = futures::executor::block_on(async {
        let mut v = Vec::new();
        while let Some(item) = t.next().await {
            match item {
                Ok(e) => v.push(e.seq),
                Err(e) => {
                    assert_eq!(e, RedexError::Closed);
                }
            }
        }
        v
    });
    h.join().unwrap();
    assert_eq!(got, (0..100).collect::<Vec<_>>());
}

/// Ping-pong of single appends with varying pauses, so the tail is caught spinning, parking
/// and parked: appenders only notify while a tail is parked, and no wake-up may be lost
/// (a lost one shows up as an ack timeout).
fn ping_pong(stream: bool) {
    let f = heap();
    let mut tail = f.tail(0);
    let (ack_tx, ack_rx) = std::sync::mpsc::channel::<u64>();
    let rounds = 200u64;
    let h = std::thread::spawn(move || {
        for _ in 0..rounds {
            let e = if stream {
                futures::executor::block_on(tail.next()).unwrap().unwrap()
            } else {
                tail.next_blocking().unwrap().unwrap()
            };
            ack_tx.send(e.seq).unwrap();
        }
    });
    let pauses = [0u64, 10, 100, 1_000, 5_000];
    for i in 0..rounds {
        std::thread::sleep(Duration::from_micros(pauses[i as usize % pauses.len()]));
        assert_eq!(f.append(&i.to_le_bytes()).unwrap(), i);
        let got = ack_rx
            .recv_timeout(Duration::from_secs(5))
            .unwrap_or_else(|_| panic!("round {i}: tail was not woken"));
        assert_eq!(got, i);
    }
    h.join().unwrap();
}

#[test]
fn parked_blocking_tail_is_woken_by_each_append() {
    ping_pong(false);
}

#[test]
fn parked_stream_tail_is_woken_by_each_append() {
    ping_pong(true);
}

#[test]
fn recv_into_reads_backfill_then_live_then_lag_and_close() {
    let f = RedexFile::open(
        "b",
        None,
        RedexFileConfig::heap().with_retention(Retention {
            max_events: Some(20),
            ..Default::default()
        }),
    )
    .unwrap();
    for i in 0..5u64 {
        f.append(&[i as u8; 3]).unwrap();
    }
    let mut t = f.tail(2);
    let mut b = RedexBatch::new();
    assert_eq!(t.recv_into(10, Duration::from_secs(1), &mut b).unwrap(), 3);
    let got: Vec<_> = b.iter().map(|(s, _, p)| (s, p.to_vec())).collect();
    assert_eq!(
        got,
        (2..5u64).map(|i| (i, vec![i as u8; 3])).collect::<Vec<_>>()
    );
    // Nothing new: a timeout returns 0 and leaves the batch alone.
    assert_eq!(
        t.recv_into(10, Duration::from_millis(20), &mut b).unwrap(),
        0
    );
    assert_eq!(b.len(), 3);
    // Live: a writer appends while the tail waits; `max` bounds each call.
    let f2 = f.clone();
    let w = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(30));
        for i in 5..9u64 {
            f2.append(&[i as u8; 3]).unwrap();
        }
    });
    b.clear();
    let mut seqs = Vec::new();
    while seqs.len() < 4 {
        let n = t.recv_into(3, Duration::from_secs(5), &mut b).unwrap();
        assert!((1..=3).contains(&n), "{n}");
        seqs.extend(b.iter().map(|(s, _, _)| s));
        b.clear();
    }
    w.join().unwrap();
    assert_eq!(seqs, vec![5, 6, 7, 8]);
    // Fall behind retention: one Lagged, then the oldest retained entry.
    for i in 9..60u64 {
        f.append(&[i as u8; 3]).unwrap();
    }
    f.sweep_retention().unwrap();
    assert_eq!(
        t.recv_into(100, Duration::from_secs(1), &mut b),
        Err(RedexError::Lagged { skipped: 31 })
    );
    assert_eq!(
        t.recv_into(100, Duration::from_secs(1), &mut b).unwrap(),
        20
    );
    assert_eq!(b.iter().next().map(|e| e.0), Some(40));
    f.close().unwrap();
    assert_eq!(
        t.recv_into(100, Duration::from_secs(1), &mut b),
        Err(RedexError::Closed)
    );
    assert_eq!(t.recv_into(100, Duration::from_secs(1), &mut b).unwrap(), 0);
    assert!(t.is_done());
}

/// Evicted segments' buffers are reused by later segments: across many rolls every retained
/// entry must still read back exactly (no stale bytes from a reused buffer).
#[test]
fn reused_segment_buffers_never_leak_old_bytes() {
    let f = RedexFile::open(
        "r",
        None,
        RedexFileConfig::heap()
            .with_segments(1 << 20, 16)
            .with_retention(Retention {
                max_events: Some(40),
                ..Default::default()
            }),
    )
    .unwrap();
    let payload = |seq: u64| -> Vec<u8> {
        // Lengths vary (0..37, 8 is inline) so offsets in reused buffers shift every round.
        vec![(seq % 251) as u8; (seq * 7 % 37) as usize]
    };
    let mut tail = f.tail(0);
    for seq in 0..2000u64 {
        assert_eq!(f.append(&payload(seq)).unwrap(), seq);
        if seq % 97 == 0 {
            let all = f.read_range(0, u64::MAX);
            assert!(!all.is_empty() && all.len() <= 56, "{}", all.len());
            for e in &all {
                assert_eq!(e.payload, payload(e.seq), "seq {}", e.seq);
            }
            assert_eq!(all.last().unwrap().seq, seq);
        }
    }
    let mut seen = 0;
    loop {
        match tail
            .recv_timeout(Duration::from_millis(50))
            .unwrap_or_else(|e| {
                assert!(matches!(e, RedexError::Lagged { .. }));
                None
            }) {
            Some(e) => {
                assert_eq!(e.payload, payload(e.seq));
                seen += 1;
            }
            None if tail.position() >= 2000 => break,
            None => {}
        }
    }
    assert!(seen >= 40, "{seen}");
}

/// Segments past 2 MiB reserve their whole limit (and the next segment starts reserved);
/// batches and single appends of mixed sizes, across rolls, evictions and buffer reuse,
/// must all read back exactly.
#[test]
fn big_segments_read_back_exactly_across_rolls_and_reuse() {
    let f = RedexFile::open(
        "big",
        None,
        RedexFileConfig::heap()
            .with_segments(3 << 20, 1 << 16)
            .with_retention(Retention {
                max_bytes: Some(7 << 20),
                ..Default::default()
            }),
    )
    .unwrap();
    // Sizes cross the inline length and CRC32C's 384-byte three-lane block (several times).
    let payload = |seq: u64| -> Vec<u8> {
        let len = (seq.wrapping_mul(0x9E37_79B9) >> 7) % 3000;
        (0..len)
            .map(|i| (seq as u8) ^ (i as u8).rotate_left(3))
            .collect()
    };
    let mut seq = 0u64;
    while seq < 16_000 {
        if seq.is_multiple_of(5) {
            let batch: Vec<Vec<u8>> = (seq..seq + 64).map(payload).collect();
            assert_eq!(f.append_batch(&batch).unwrap(), Some(seq));
            seq += 64;
        } else {
            assert_eq!(f.append(&payload(seq)).unwrap(), seq);
            seq += 1;
        }
        if seq % 4099 < 65 {
            let all = f.read_range(0, u64::MAX);
            assert_eq!(all.last().unwrap().seq, seq - 1);
            for e in &all {
                assert_eq!(e.payload, payload(e.seq), "seq {}", e.seq);
            }
        }
    }
    f.sweep_retention().unwrap();
    let st = f.stats();
    assert!(st.evicted > 0 && st.segments >= 2, "{st:?}");
    assert!(st.retained_bytes <= 7 << 20, "{st:?}");
    let all = f.read_range(0, u64::MAX);
    assert_eq!(all.len() as u64, st.retained_events);
    for e in &all {
        assert_eq!(e.payload, payload(e.seq), "seq {}", e.seq);
    }
}

#[test]
fn retention_by_count_bytes_and_age_on_heap() {
    let by_count = RedexFile::open(
        "c",
        None,
        RedexFileConfig::heap()
            .with_segments(1024, 10)
            .with_retention(Retention {
                max_events: Some(25),
                ..Default::default()
            }),
    )
    .unwrap();
    for i in 0..100u32 {
        by_count.append(&i.to_le_bytes()).unwrap();
    }
    by_count.sweep_retention().unwrap();
    let s = by_count.stats();
    assert_eq!(s.retained_events, 25);
    assert_eq!(s.first_seq, Some(75));
    assert!(
        s.segments <= 4,
        "emptied segments are dropped: {}",
        s.segments
    );

    let by_bytes = RedexFile::open(
        "b",
        None,
        RedexFileConfig::heap().with_retention(Retention {
            max_bytes: Some(100),
            ..Default::default()
        }),
    )
    .unwrap();
    for _ in 0..50 {
        by_bytes.append(&[7u8; 10]).unwrap();
    }
    by_bytes.sweep_retention().unwrap();
    assert_eq!(by_bytes.stats().retained_bytes, 100);
    assert_eq!(by_bytes.stats().first_seq, Some(40));

    let by_age = RedexFile::open(
        "a",
        None,
        RedexFileConfig::heap().with_retention(Retention {
            max_age: Some(Duration::from_millis(50)),
            ..Default::default()
        }),
    )
    .unwrap();
    for _ in 0..10 {
        by_age.append(b"old").unwrap();
    }
    std::thread::sleep(Duration::from_millis(80));
    for _ in 0..5 {
        by_age.append(b"new").unwrap();
    }
    let r = by_age.sweep_retention().unwrap();
    assert_eq!(r.evicted, 10);
    assert_eq!(by_age.len(), 5);
    assert_eq!(by_age.read_range(0, 100)[0].seq, 10);
}

#[test]
fn slow_tail_is_told_it_lagged() {
    let f = RedexFile::open(
        "l",
        None,
        RedexFileConfig::heap().with_retention(Retention {
            max_events: Some(10),
            ..Default::default()
        }),
    )
    .unwrap();
    let mut t = f.tail(0);
    for i in 0..100u64 {
        f.append(&i.to_le_bytes()).unwrap();
    }
    f.sweep_retention().unwrap();
    assert_eq!(
        t.next_blocking(),
        Some(Err(RedexError::Lagged { skipped: 90 }))
    );
    assert_eq!(t.next_blocking().unwrap().unwrap().seq, 90);
}

#[test]
fn typed_wrapper_roundtrips() {
    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Reading {
        sensor: String,
        value: f64,
    }
    let t = TypedRedexFile::<Reading>::new(heap());
    t.append(&Reading {
        sensor: "a".into(),
        value: 1.5,
    })
    .unwrap();
    t.append_batch(&[
        Reading {
            sensor: "b".into(),
            value: 2.0,
        },
        Reading {
            sensor: "c".into(),
            value: 3.0,
        },
    ])
    .unwrap();
    let all = t.read_range(0, 10).unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[2].1.sensor, "c");
    let mut tail = t.tail(1);
    assert_eq!(tail.next().unwrap().unwrap().1.sensor, "b");
    t.file().append(b"\xff\xff\xff").unwrap();
    assert!(matches!(t.read_range(3, 4), Err(RedexError::Decode(_))));
}

#[test]
fn manager_validates_names_and_shares_handles() {
    for bad in ["", "/a", "a/", "a//b", "../x", "a/../b", "a b", "é"] {
        assert!(validate_channel(bad).is_err(), "{bad:?}");
    }
    validate_channel("cortex/tasks").unwrap();
    let r = Redex::new();
    let a = r.open_file("x/y", RedexFileConfig::heap()).unwrap();
    let b = r.open_file("x/y", RedexFileConfig::heap()).unwrap();
    a.append(b"1").unwrap();
    assert_eq!(b.len(), 1);
    assert!(
        r.open_file("p", RedexFileConfig::persistent(Default::default()))
            .is_err()
    );
    r.close_all().unwrap();
    assert!(matches!(a.append(b"2"), Err(RedexError::Closed)));
    let shared = Arc::new(r);
    assert!(shared.channels().is_empty());
}
