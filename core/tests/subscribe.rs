//! Push subscriptions: woken by new events, lag signalled, clean end on shutdown.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{ev, index};
use futures::StreamExt;
use net::bus::WaitOutcome;
use net::{
    ErrorKind, EventBus, EventBusConfig, Filter, PollRequest, SubscribeFrom, SubscribeOptions,
    SubscriptionItem,
};

fn event_index(item: SubscriptionItem) -> u64 {
    match item {
        SubscriptionItem::Event(e) => index(&e),
        other => panic!("expected an event, got {other:?}"),
    }
}

#[test]
fn blocking_subscriber_is_woken_by_new_events() {
    let bus = Arc::new(EventBus::new(EventBusConfig::default()).unwrap());
    let mut sub = bus.subscribe(SubscribeOptions::default()).unwrap();
    let producer = {
        let bus = bus.clone();
        std::thread::spawn(move || {
            for i in 0..100 {
                bus.ingest(ev(i)).unwrap();
                if i % 10 == 0 {
                    std::thread::sleep(Duration::from_millis(2));
                }
            }
        })
    };
    let got: Vec<u64> = (0..100)
        .map(|_| {
            event_index(
                sub.next_blocking(Some(Duration::from_secs(10)))
                    .unwrap()
                    .unwrap(),
            )
        })
        .collect();
    producer.join().unwrap();
    assert_eq!(got, (0..100).collect::<Vec<_>>());
    // Nothing more: a bounded wait times out with a typed error.
    let err = sub
        .next_blocking(Some(Duration::from_millis(20)))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
}

#[test]
fn latest_skips_history_and_filter_applies() {
    let bus = EventBus::new(EventBusConfig::builder().num_shards(2).build().unwrap()).unwrap();
    for i in 0..10 {
        bus.ingest(ev(i)).unwrap();
    }
    bus.flush().unwrap();
    let mut sub = bus
        .subscribe(SubscribeOptions {
            from: SubscribeFrom::Latest,
            filter: Some(Filter::from_json(r#"{"path":"i","gte":15}"#).unwrap()),
            ..SubscribeOptions::default()
        })
        .unwrap();
    for i in 10..20 {
        bus.ingest(ev(i)).unwrap();
    }
    let mut got: Vec<u64> = (0..5)
        .map(|_| {
            event_index(
                sub.next_blocking(Some(Duration::from_secs(10)))
                    .unwrap()
                    .unwrap(),
            )
        })
        .collect();
    got.sort_unstable();
    assert_eq!(got, vec![15, 16, 17, 18, 19]);
}

#[test]
fn lagging_subscriber_gets_an_explicit_signal() {
    let cfg = EventBusConfig::builder()
        .memory(8, 1 << 20)
        .build()
        .unwrap();
    let bus = EventBus::new(cfg).unwrap();
    let mut sub = bus
        .subscribe(SubscribeOptions {
            batch: 2,
            ..SubscribeOptions::default()
        })
        .unwrap();
    for i in 0..4 {
        bus.ingest(ev(i)).unwrap();
    }
    bus.flush().unwrap();
    assert_eq!(event_index(sub.try_next().unwrap().unwrap()), 0);
    assert_eq!(event_index(sub.try_next().unwrap().unwrap()), 1);
    for i in 4..30 {
        bus.ingest(ev(i)).unwrap();
    }
    bus.flush().unwrap();
    // Events 2..22 were evicted (retention 8 keeps 22..30).
    assert_eq!(
        sub.next_blocking(Some(Duration::from_secs(5))).unwrap(),
        Some(SubscriptionItem::Lagged { skipped: 20 })
    );
    let rest: Vec<u64> = (0..8)
        .map(|_| event_index(sub.try_next().unwrap().unwrap()))
        .collect();
    assert_eq!(rest, (22..30).collect::<Vec<_>>());
}

#[test]
fn subscription_ends_after_shutdown_with_everything_delivered() {
    let bus = Arc::new(EventBus::new(EventBusConfig::default()).unwrap());
    let mut sub = bus.subscribe(SubscribeOptions::default()).unwrap();
    let reader = std::thread::spawn(move || {
        let mut n = 0u64;
        while let Some(item) = sub.next_blocking(Some(Duration::from_secs(20))).unwrap() {
            assert_eq!(event_index(item), n);
            n += 1;
        }
        n
    });
    for i in 0..1000 {
        bus.ingest(ev(i)).unwrap();
    }
    std::thread::sleep(Duration::from_millis(10));
    bus.shutdown().unwrap();
    assert_eq!(reader.join().unwrap(), 1000);
}

#[test]
fn stream_subscription_is_push_driven() {
    let bus = Arc::new(EventBus::new(EventBusConfig::default()).unwrap());
    let sub = bus.subscribe(SubscribeOptions::default()).unwrap();
    let producer = {
        let bus = bus.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            for i in 0..50 {
                bus.ingest(ev(i)).unwrap();
            }
            std::thread::sleep(Duration::from_millis(20));
            bus.shutdown().unwrap();
        })
    };
    let started = Instant::now();
    let items: Vec<u64> = futures::executor::block_on(
        sub.map(|item| event_index(item.unwrap()))
            .collect::<Vec<_>>(),
    );
    producer.join().unwrap();
    assert_eq!(items, (0..50).collect::<Vec<_>>());
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn subscription_cursor_resumes_in_poll() {
    let bus = EventBus::new(EventBusConfig::builder().num_shards(2).build().unwrap()).unwrap();
    for i in 0..20 {
        bus.ingest(ev(i)).unwrap();
    }
    bus.flush().unwrap();
    let mut sub = bus
        .subscribe(SubscribeOptions {
            batch: 16,
            ..SubscribeOptions::default()
        })
        .unwrap();
    let mut first: Vec<u64> = (0..5)
        .map(|_| event_index(sub.try_next().unwrap().unwrap()))
        .collect();
    let page = bus
        .poll(&PollRequest::new(100).cursor(sub.cursor()))
        .unwrap();
    first.extend(page.events.iter().map(index));
    first.sort_unstable();
    assert_eq!(first, (0..20).collect::<Vec<_>>());
}

#[test]
fn bad_subscribe_options_are_typed_errors() {
    let bus = EventBus::new(EventBusConfig::default()).unwrap();
    let err = bus
        .subscribe(SubscribeOptions {
            from: SubscribeFrom::Cursor("garbage".into()),
            ..SubscribeOptions::default()
        })
        .err()
        .unwrap();
    assert_eq!(err.kind(), ErrorKind::InvalidCursor);
    let err = bus
        .subscribe(SubscribeOptions {
            batch: 0,
            ..SubscribeOptions::default()
        })
        .err()
        .unwrap();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
}

/// How long a cancelled wait may take to return (generous: the machine is shared).
const PROMPT: Duration = Duration::from_secs(2);

#[test]
fn cancel_wakes_an_unbounded_wait_promptly() {
    let bus = EventBus::new(EventBusConfig::default()).unwrap();
    let mut sub = bus.subscribe(SubscribeOptions::default()).unwrap();
    let canceller = sub.canceller();
    let (tx, rx) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let outcome = sub.wait(None).unwrap();
        tx.send((outcome, Instant::now())).unwrap();
        sub
    });
    std::thread::sleep(Duration::from_millis(50));
    assert!(!waiter.is_finished(), "the wait returned before the cancel");
    let cancelled_at = Instant::now();
    canceller.cancel();
    // A wait that is not woken fails the test here instead of hanging it.
    let (outcome, returned_at) = rx
        .recv_timeout(PROMPT)
        .expect("the cancel did not wake the wait");
    let mut sub = waiter.join().unwrap();
    assert_eq!(outcome, WaitOutcome::Cancelled);
    assert!(returned_at.duration_since(cancelled_at) < PROMPT);
    // Cancellation is final, for every way of reading.
    assert!(sub.is_cancelled() && canceller.is_cancelled());
    bus.ingest(ev(1)).unwrap();
    bus.flush().unwrap();
    assert_eq!(
        sub.wait(Some(Duration::from_secs(5))).unwrap(),
        WaitOutcome::Cancelled
    );
    assert_eq!(sub.next_blocking(None).unwrap(), None);
    assert_eq!(sub.try_next().unwrap(), None);
    canceller.cancel(); // idempotent
}

#[test]
fn wait_outcomes_are_distinct() {
    let bus = EventBus::new(EventBusConfig::default()).unwrap();
    let mut sub = bus.subscribe(SubscribeOptions::default()).unwrap();
    assert_eq!(
        sub.wait(Some(Duration::from_millis(10))).unwrap(),
        WaitOutcome::TimedOut
    );
    bus.ingest(ev(0)).unwrap();
    match sub.wait(Some(Duration::from_secs(10))).unwrap() {
        WaitOutcome::Item(item) => assert_eq!(event_index(item), 0),
        other => panic!("expected the event, got {other:?}"),
    }
    bus.shutdown().unwrap();
    assert_eq!(sub.wait(None).unwrap(), WaitOutcome::Ended);
}

#[test]
fn cancel_keeps_the_cursor_exact() {
    let bus = EventBus::new(EventBusConfig::default()).unwrap();
    for i in 0..10 {
        bus.ingest(ev(i)).unwrap();
    }
    bus.flush().unwrap();
    let mut sub = bus
        .subscribe(SubscribeOptions {
            batch: 8,
            ..SubscribeOptions::default()
        })
        .unwrap();
    // Three handed out; five more fetched but pending when the cancel lands.
    for i in 0..3 {
        assert_eq!(event_index(sub.try_next().unwrap().unwrap()), i);
    }
    sub.canceller().cancel();
    assert_eq!(sub.wait(None).unwrap(), WaitOutcome::Cancelled);
    let page = bus
        .poll(&PollRequest::new(100).cursor(sub.cursor()))
        .unwrap();
    let rest: Vec<u64> = page.events.iter().map(index).collect();
    assert_eq!(rest, (3..10).collect::<Vec<_>>());
}

#[test]
fn cancel_racing_producers_loses_and_repeats_nothing() {
    for round in 0..20u64 {
        let bus = Arc::new(EventBus::new(EventBusConfig::default()).unwrap());
        let mut sub = bus.subscribe(SubscribeOptions::default()).unwrap();
        let canceller = sub.canceller();
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            loop {
                // Bounded, so a lost wake-up fails the test (TimedOut) instead of hanging it.
                match sub.wait(Some(Duration::from_secs(30))).unwrap() {
                    WaitOutcome::Item(item) => got.push(event_index(item)),
                    WaitOutcome::Cancelled => return (got, sub.cursor()),
                    other => panic!("unexpected {other:?}"),
                }
            }
        });
        let producer = {
            let bus = bus.clone();
            std::thread::spawn(move || {
                for i in 0..500 {
                    bus.ingest(ev(i)).unwrap();
                }
            })
        };
        // Cancel at a different point of the stream each round (sometimes before any event).
        std::thread::sleep(Duration::from_micros(round * 150));
        let cancelled_at = Instant::now();
        canceller.cancel();
        let (got, cursor) = reader.join().unwrap();
        assert!(cancelled_at.elapsed() < PROMPT, "round {round}");
        producer.join().unwrap();
        bus.flush().unwrap();
        assert_eq!(
            got,
            (0..got.len() as u64).collect::<Vec<_>>(),
            "round {round}"
        );
        let page = bus.poll(&PollRequest::new(1000).cursor(cursor)).unwrap();
        let rest: Vec<u64> = page.events.iter().map(index).collect();
        assert_eq!(
            rest,
            (got.len() as u64..500).collect::<Vec<_>>(),
            "round {round}"
        );
    }
}

#[test]
fn cancelling_one_subscription_leaves_the_others_running() {
    let bus = Arc::new(EventBus::new(EventBusConfig::default()).unwrap());
    let cancelled = bus.subscribe(SubscribeOptions::default()).unwrap();
    let mut other = bus.subscribe(SubscribeOptions::default()).unwrap();
    let reader = std::thread::spawn(move || {
        (0..3)
            .map(|_| {
                event_index(
                    other
                        .next_blocking(Some(Duration::from_secs(10)))
                        .unwrap()
                        .unwrap(),
                )
            })
            .collect::<Vec<_>>()
    });
    std::thread::sleep(Duration::from_millis(20));
    cancelled.canceller().cancel();
    for i in 0..3 {
        bus.ingest(ev(i)).unwrap();
    }
    assert_eq!(reader.join().unwrap(), vec![0, 1, 2]);
}

#[test]
fn cancel_ends_a_stream() {
    let bus = EventBus::new(EventBusConfig::default()).unwrap();
    bus.ingest(ev(0)).unwrap();
    bus.flush().unwrap();
    let sub = bus.subscribe(SubscribeOptions::default()).unwrap();
    let canceller = sub.canceller();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        canceller.cancel();
    });
    let started = Instant::now();
    let items: Vec<u64> = futures::executor::block_on(
        sub.map(|item| event_index(item.unwrap()))
            .collect::<Vec<_>>(),
    );
    stopper.join().unwrap();
    assert_eq!(items, vec![0]);
    assert!(started.elapsed() < PROMPT + Duration::from_millis(50));
}
