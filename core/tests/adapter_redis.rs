//! The redis adapter against a real server. Tests named `live_*` need the server that
//! `make test-adapters` starts (`NET_TEST_REDIS_URL`); without that variable they print a note and
//! return early, with it set they fail if the server does not answer.
#![cfg(feature = "redis")]

mod servers;

use net::adapter::redis::RedisAdapter;
use net::adapter::remote_config::RedisConfig;
use net::adapter::{Adapter, Delivery};
use servers::scenarios;
use servers::{Kind, ev, server_url, unique_prefix};

const VAR: &str = "NET_TEST_REDIS_URL";

#[test]
fn live_redis_round_trip_100k_events() {
    if let Some(url) = server_url(VAR, "live_redis_round_trip_100k_events") {
        scenarios::round_trip(Kind::Redis, &url);
    }
}

#[test]
fn live_redis_server_restart_mid_stream_loses_and_repeats_nothing() {
    if server_url(VAR, "live_redis_server_restart_mid_stream").is_some() {
        scenarios::restart_mid_stream(Kind::Redis);
    }
}

#[test]
fn redis_unreachable_at_start_is_a_typed_error() {
    scenarios::unreachable_at_start(Kind::Redis);
}

#[test]
fn live_redis_unreachable_mid_run_is_bounded_and_recovers() {
    if server_url(VAR, "live_redis_unreachable_mid_run").is_some() {
        scenarios::unreachable_mid_run(Kind::Redis);
    }
}

#[test]
fn live_redis_foreign_cursor_is_rejected() {
    if let Some(url) = server_url(VAR, "live_redis_foreign_cursor_is_rejected") {
        scenarios::foreign_cursor(Kind::Redis, &url);
    }
}

fn deliveries(seqs: std::ops::Range<u64>) -> Vec<Delivery> {
    seqs.map(|seq| Delivery {
        seq,
        ts_ns: 1_000 + seq,
        event: ev(seq),
    })
    .collect()
}

/// A batch retried after its acknowledgement was lost (whole or in part) is stored once.
#[test]
fn live_redis_retried_batch_is_not_duplicated() {
    let Some(url) = server_url(VAR, "live_redis_retried_batch_is_not_duplicated") else {
        return;
    };
    let mut cfg = RedisConfig::new(url);
    cfg.prefix = unique_prefix("retry");
    let a = RedisAdapter::new(cfg).unwrap();
    a.init(1).unwrap();
    assert!(a.producer_id() > 0);
    a.on_batch(0, &mut deliveries(0..10)).unwrap();
    a.simulate_lost_acknowledgement();
    a.on_batch(0, &mut deliveries(0..10)).unwrap();
    assert_eq!(a.end_position(0).unwrap(), 10, "whole batch retried");
    a.on_batch(0, &mut deliveries(10..15)).unwrap();
    a.simulate_lost_acknowledgement();
    a.on_batch(0, &mut deliveries(10..20)).unwrap();
    assert_eq!(a.end_position(0).unwrap(), 20, "half-stored batch retried");
    let page = a.poll_shard(0, 0, 100).unwrap();
    let seqs: Vec<u64> = page.events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (0..20).collect::<Vec<_>>());
    let positions: Vec<u64> = page.events.iter().map(|e| e.position).collect();
    assert_eq!(positions, (0..20).collect::<Vec<_>>());
    assert_eq!(page.events[3].ts_ns, 1_003);
    assert_eq!(page.events[3].event.as_str(), r#"{"i":3}"#);
    a.shutdown().unwrap();
}
