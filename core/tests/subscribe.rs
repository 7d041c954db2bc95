//! Push subscriptions: woken by new events, lag signalled, clean end on shutdown.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{ev, index};
use futures::StreamExt;
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
