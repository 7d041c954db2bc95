//! Emitting, polling, configuration and error paths.

use net_sdk::{
    Backpressure, ErrorKind, Filter, Net, PollRequest, StreamError, SubscribeFrom, SubscribeOptions,
};
use serde_json::json;

fn raws(page: &net_sdk::PollResult) -> Vec<&str> {
    page.events.iter().map(|e| e.event.as_str()).collect()
}

#[tokio::test]
async fn emit_then_poll_round_trips_bytes_and_resumes_by_cursor() {
    let node = Net::builder().build().await.unwrap();
    node.emit(&json!({"kind": "a", "n": 1})).unwrap();
    node.emit_str(r#"{"kind": "b", "n": 2}"#).unwrap();
    node.emit_raw(br#"{"kind":"a","n":3}"#).unwrap();
    node.emit_with_key(&json!({"kind": "c"}), "k").unwrap();
    node.flush().await.unwrap();

    let page = node.poll(PollRequest::new(10)).unwrap();
    assert_eq!(
        raws(&page),
        [
            r#"{"kind":"a","n":1}"#,
            r#"{"kind": "b", "n": 2}"#,
            r#"{"kind":"a","n":3}"#,
            r#"{"kind":"c"}"#,
        ]
    );
    let rest = node.poll(PollRequest::new(10).cursor(page.cursor)).unwrap();
    assert!(rest.events.is_empty());

    let only_a = Filter::from_json(r#"{"path": "kind", "eq": "a"}"#).unwrap();
    let page = node.poll(PollRequest::new(10).filter(only_a)).unwrap();
    assert_eq!(
        raws(&page),
        [r#"{"kind":"a","n":1}"#, r#"{"kind":"a","n":3}"#]
    );

    let stats = node.stats();
    assert_eq!(
        (stats.accepted, stats.delivered, stats.in_flight),
        (4, 4, 0)
    );
    node.shutdown().await.unwrap();
}

#[tokio::test]
async fn emit_batch_reports_each_outcome() {
    let node = Net::builder().max_event_bytes(32).build().await.unwrap();
    let values = [
        json!({"i": 0}),
        json!({"i": 1, "pad": "x".repeat(64)}),
        json!({"i": 2}),
    ];
    let report = node.emit_batch(&values);
    assert_eq!(report.outcomes.len(), 3);
    assert!(report.outcomes[0].is_ok());
    assert_eq!(
        report.outcomes[1].as_ref().unwrap_err().kind(),
        ErrorKind::PayloadTooLarge
    );
    assert!(report.outcomes[2].is_ok());
    assert_eq!(report.accepted(), 2);

    node.flush().await.unwrap();
    let page = node.poll(PollRequest::new(10)).unwrap();
    assert_eq!(raws(&page), [r#"{"i":0}"#, r#"{"i":2}"#]);
}

#[tokio::test]
async fn emit_batch_reports_serialization_failures_in_place() {
    use std::collections::BTreeMap;
    let node = Net::builder().build().await.unwrap();
    // serde_json cannot serialize a map whose keys are not strings.
    let good: BTreeMap<Vec<u8>, u8> = BTreeMap::new();
    let bad = BTreeMap::from([(vec![1u8], 1u8)]);
    let report = node.emit_batch(&[good.clone(), bad, good]);
    let kinds: Vec<_> = report
        .outcomes
        .iter()
        .map(|o| o.as_ref().err().map(|e| e.kind()))
        .collect();
    assert_eq!(kinds, [None, Some(ErrorKind::InvalidArgument), None]);
}

#[tokio::test]
async fn partition_key_keeps_one_key_on_one_shard() {
    let node = Net::builder()
        .shards(8)
        .partition_key("user")
        .build()
        .await
        .unwrap();
    let shards: Vec<u16> = (0..20)
        .map(|i| node.emit(&json!({"user": "ada", "i": i})).unwrap().shard)
        .collect();
    assert!(shards.iter().all(|&s| s == shards[0]));
    let keyed: Vec<u16> = (0..20)
        .map(|i| {
            node.emit_with_key(&json!({"i": i}), b"grace")
                .unwrap()
                .shard
        })
        .collect();
    assert!(keyed.iter().all(|&s| s == keyed[0]));
}

#[tokio::test]
async fn invalid_configuration_is_a_typed_error_naming_the_key() {
    let cases = [
        (Net::builder().shards(0).build().await, "num_shards"),
        (
            Net::builder().ring_capacity(1000).build().await,
            "ring_capacity",
        ),
        (
            Net::builder().partition_key("a..b").build().await,
            "partition_key",
        ),
        (
            Net::builder().memory_with(0, 1024).build().await,
            "adapter.max_events_per_shard",
        ),
        (
            Net::builder().drain_linger_ns(1_000_001).build().await,
            "drain_linger_ns",
        ),
        (Net::from_json(r#"{"num_shard": 4}"#), "num_shard"),
        (
            Net::from_json(r#"{"backpressure": "drop_oldes"}"#),
            "backpressure.mode",
        ),
    ];
    for (result, key) in cases {
        let err = result.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{err}");
        assert_eq!(err.key(), Some(key), "{err}");
    }
    let node = Net::from_json(r#"{"num_shards": 2, "backpressure": {"mode": "block"}}"#).unwrap();
    assert_eq!(node.config().num_shards, 2);
    assert!(matches!(
        node.config().backpressure,
        Backpressure::Block { .. }
    ));
}

#[tokio::test]
async fn invalid_input_filter_and_cursor_are_typed_errors() {
    let node = Net::builder().shards(2).build().await.unwrap();
    assert_eq!(
        node.emit_str("{").unwrap_err().kind(),
        ErrorKind::InvalidJson
    );
    assert_eq!(
        node.emit_raw(b"\"\xff\"").unwrap_err().kind(),
        ErrorKind::InvalidJson
    );

    let err = Filter::from_json(r#"{"path": "a", "eqq": 1}"#).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidFilter);

    let err = node
        .poll(PollRequest::new(10).cursor("garbage"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidCursor);
    let err = node.poll(PollRequest::new(0)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);

    let bad_cursor = || SubscribeOptions {
        from: SubscribeFrom::Cursor("garbage".into()),
        ..Default::default()
    };
    let err = node.try_subscribe(bad_cursor()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidCursor);

    // The infallible form yields the error once, then ends.
    use futures::StreamExt;
    let mut stream = node.subscribe(bad_cursor());
    assert!(stream.cursor().is_none());
    match stream.next().await {
        Some(Err(StreamError::Engine(e))) => assert_eq!(e.kind(), ErrorKind::InvalidCursor),
        other => panic!("expected an invalid cursor error, got {other:?}"),
    }
    assert!(stream.next().await.is_none());

    node.shutdown().await.unwrap();
    assert_eq!(
        node.emit_str("1").unwrap_err().kind(),
        ErrorKind::ShuttingDown
    );
}

#[tokio::test]
async fn drain_linger_is_set_by_the_builder_and_off_still_delivers() {
    let default = Net::builder().build().await.unwrap();
    assert_eq!(default.config().drain_linger_ns, 5000);
    let node = Net::builder().drain_linger_ns(0).build().await.unwrap();
    assert_eq!(node.config().drain_linger_ns, 0);
    for i in 0..100 {
        node.emit(&json!({"i": i})).unwrap();
    }
    node.flush().await.unwrap();
    let got = node.poll(PollRequest::new(1000)).unwrap();
    assert_eq!(got.events.len(), 100);
}
