//! Push subscriptions: delivery, lag, end of stream, typed decoding, concurrency.

use std::collections::HashSet;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FusedStream;
use net_sdk::{Backpressure, Net, PollRequest, StreamError, SubscribeFrom, SubscribeOptions};
use serde::Deserialize;
use serde_json::json;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn stream_receives_events_emitted_after_it_started() {
    let node = Net::builder().shards(4).build().await.unwrap();
    let stream = node.subscribe(SubscribeOptions {
        from: SubscribeFrom::Latest,
        ..Default::default()
    });
    let reader = tokio::spawn(async move {
        stream
            .take(100)
            .map(|item| item.unwrap().decode::<u32>().unwrap())
            .collect::<HashSet<_>>()
            .await
    });
    // Let the reader park on an empty bus; events must then wake it.
    tokio::time::sleep(Duration::from_millis(50)).await;
    for i in 0..100u32 {
        node.emit(&i).unwrap();
    }
    let got = timeout(LIMIT, reader).await.unwrap().unwrap();
    assert_eq!(got, (0..100).collect());
}

#[tokio::test]
async fn stream_ends_after_shutdown() {
    let node = Net::builder().shards(2).build().await.unwrap();
    let mut stream = node.subscribe(Default::default());
    for i in 0..3 {
        node.emit(&json!({"i": i})).unwrap();
    }
    let report = node.shutdown().await.unwrap();
    assert_eq!(
        (report.accepted, report.delivered, report.undelivered),
        (3, 3, 0)
    );

    let mut got = Vec::new();
    while let Some(event) = timeout(LIMIT, stream.next()).await.unwrap() {
        got.push(event.unwrap().raw_str().to_owned());
    }
    got.sort();
    assert_eq!(got, [r#"{"i":0}"#, r#"{"i":1}"#, r#"{"i":2}"#]);
    assert!(stream.is_terminated());
    // Shutdown is idempotent.
    assert_eq!(node.shutdown().await.unwrap(), report);
}

#[tokio::test]
async fn waiting_stream_ends_when_node_shuts_down() {
    let node = Net::builder().build().await.unwrap();
    let stream = node.subscribe(Default::default());
    let reader = tokio::spawn(stream.count());
    tokio::time::sleep(Duration::from_millis(50)).await;
    node.emit_str("1").unwrap();
    node.shutdown().await.unwrap();
    assert_eq!(timeout(LIMIT, reader).await.unwrap().unwrap(), 1);
}

#[derive(Debug, Deserialize, PartialEq)]
struct Order {
    id: u32,
}

#[tokio::test]
async fn typed_stream_reports_bad_payloads_and_continues() {
    let node = Net::builder().build().await.unwrap();
    let mut orders = node.subscribe_typed::<Order>(Default::default());
    node.emit(&json!({"id": 1})).unwrap();
    node.emit(&json!({"id": "not a number"})).unwrap();
    node.emit(&json!({"id": 3})).unwrap();

    let mut next = async || timeout(LIMIT, orders.next()).await.unwrap().unwrap();
    assert_eq!(next().await.unwrap(), Order { id: 1 });
    match next().await {
        Err(StreamError::Decode { event, .. }) => {
            assert_eq!(event.raw_str(), r#"{"id":"not a number"}"#)
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    assert_eq!(next().await.unwrap(), Order { id: 3 });
}

#[tokio::test]
async fn lagging_subscriber_gets_an_explicit_signal_then_continues() {
    let node = Net::builder()
        .memory_with(4, 1 << 20)
        .build()
        .await
        .unwrap();
    for i in 0..10 {
        node.emit(&i).unwrap();
    }
    node.flush().await.unwrap();

    let mut stream = node.subscribe(Default::default());
    match stream.next().await {
        Some(Err(StreamError::Lagged { skipped })) => assert_eq!(skipped, 6),
        other => panic!("expected a lag signal, got {other:?}"),
    }
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(
            stream
                .next()
                .await
                .unwrap()
                .unwrap()
                .decode::<u32>()
                .unwrap(),
        );
    }
    assert_eq!(got, [6, 7, 8, 9]);

    // The subscription's cursor resumes a poll exactly after what it yielded.
    node.emit(&10).unwrap();
    node.flush().await.unwrap();
    let page = node
        .poll(PollRequest::new(10).cursor(stream.cursor().unwrap()))
        .unwrap();
    assert_eq!(page.events.len(), 1);
    assert_eq!(page.events[0].event.as_str(), "10");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_emitters_are_each_received_exactly_once() {
    const PRODUCERS: u32 = 8;
    const EACH: u32 = 500;
    let node = Net::builder()
        .shards(4)
        .ring_capacity(256)
        .backpressure(Backpressure::Block {
            timeout: Duration::from_secs(5),
        })
        .build()
        .await
        .unwrap();

    let stream = node.subscribe(Default::default());
    let reader = tokio::spawn(async move {
        stream
            .take((PRODUCERS * EACH) as usize)
            .map(|item| item.unwrap().decode::<(u32, u32)>().unwrap())
            .collect::<Vec<_>>()
            .await
    });

    // Half the producers are OS threads, half are async tasks.
    let mut threads = Vec::new();
    let mut tasks = Vec::new();
    for p in 0..PRODUCERS {
        let node = node.clone();
        let emit_all = move || {
            for i in 0..EACH {
                node.emit(&(p, i)).unwrap();
            }
        };
        if p % 2 == 0 {
            threads.push(std::thread::spawn(emit_all));
        } else {
            tasks.push(tokio::task::spawn_blocking(emit_all));
        }
    }
    for t in threads {
        t.join().unwrap();
    }
    for t in tasks {
        t.await.unwrap();
    }

    let got = timeout(LIMIT, reader).await.unwrap().unwrap();
    let unique: HashSet<_> = got.iter().copied().collect();
    assert_eq!(got.len(), unique.len(), "an event was delivered twice");
    let expected: HashSet<_> = (0..PRODUCERS)
        .flat_map(|p| (0..EACH).map(move |i| (p, i)))
        .collect();
    assert_eq!(unique, expected);

    let report = node.shutdown().await.unwrap();
    assert_eq!(report.accepted, u64::from(PRODUCERS * EACH));
    assert_eq!(report.dropped.total(), 0);
}
