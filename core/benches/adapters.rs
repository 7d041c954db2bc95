//! Throughput of the Redis and JetStream adapters next to a peer measured in the same run on the
//! same server: `redis-benchmark` (XADD, 1 connection, pipeline 1000, the same entry shape) and
//! a plain async-nats JetStream publisher (one message per event, 1000 acks in flight, the same
//! payload). The JetStream adapter packs up to 1024 events into one message (a frame), so its
//! figure is events/s against the peer's messages (= events)/s.
//!
//! Needs `NET_BENCH_REDIS_URL` and `NET_BENCH_NATS_URL` (`make bench-adapters` starts both
//! servers); a missing variable skips that half. Each figure is the best of `ROUNDS` runs.

use std::collections::VecDeque;
use std::process::Command;
use std::time::{Duration, Instant};

use net::adapter::remote_config::{JetStreamConfig, RedisConfig, parse_redis_url};
use net::{AdapterConfig, Backpressure, Event, EventBus, EventBusConfig};

const PIPELINE: usize = 1000;
const ROUNDS: usize = 3;
const REDIS_EVENTS: u64 = 1_000_000;
const NATS_EVENTS: u64 = 200_000;

/// A 100-byte event, like the bench workloads elsewhere.
fn payload() -> String {
    let e = r#"{"kind":"click","user":"u-000123","page":"/products/42","ts":1764000000000,"pad":"#;
    let pad = 100 - e.len() - 3;
    format!("{e}\"{}\"}}", "x".repeat(pad))
}

/// Events per second through a 1-shard bus over `adapter`, batches of `PIPELINE`.
fn through_bus(adapter: AdapterConfig, n: u64) -> f64 {
    let config = EventBusConfig::builder()
        .num_shards(1)
        .ring_capacity(1 << 20)
        .drain_batch(PIPELINE)
        .backpressure(Backpressure::Block {
            timeout: Duration::from_secs(60),
        })
        .adapter(adapter)
        .build()
        .expect("bench config");
    let bus = EventBus::new(config).expect("bus over the adapter");
    let event = Event::from_str(&payload()).unwrap();
    let batch: Vec<Event> = (0..PIPELINE).map(|_| event.clone()).collect();
    let start = Instant::now();
    let mut sent = 0;
    while sent < n {
        let report = bus.ingest_batch(batch.iter().cloned());
        assert_eq!(report.accepted(), PIPELINE);
        sent += PIPELINE as u64;
    }
    bus.flush_timeout(Duration::from_secs(300)).expect("flush");
    let secs = start.elapsed().as_secs_f64();
    let stats = bus.stats();
    assert_eq!(stats.delivered, sent, "{stats:?}");
    bus.shutdown().unwrap();
    sent as f64 / secs
}

fn unique(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("bench_{name}_{}", nanos % 1_000_000_000_000)
}

fn redis_peer(host: &str, port: u16, key: &str) -> f64 {
    let p = payload();
    let out = Command::new("redis-benchmark")
        .args(["-h", host, "-p", &port.to_string(), "-c", "1", "-P"])
        .arg(PIPELINE.to_string())
        .args(["-n", &REDIS_EVENTS.to_string(), "-q", "XADD", key])
        .args(["MAXLEN", "~", "1000000", "*", "d", &p])
        .args(["s", "123456", "t", "1764000000000000000", "p", "1"])
        .output()
        .expect("redis-benchmark (apt-get install redis-tools)");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .split(['\r', '\n'])
        .rfind(|l| l.contains("requests per second"))
        .unwrap_or_else(|| panic!("unexpected redis-benchmark output: {text}"));
    let before = &line[..line.find(" requests per second").unwrap()];
    let figure = before.rsplit(' ').next().unwrap();
    figure
        .parse()
        .unwrap_or_else(|_| panic!("cannot read a rate in: {line}"))
}

fn redis_cli(host: &str, port: u16, args: &[&str]) {
    let _ = Command::new("redis-cli")
        .args(["-h", host, "-p", &port.to_string()])
        .args(args)
        .output();
}

fn bench_redis(url: &str) {
    let u = parse_redis_url(url).expect("NET_BENCH_REDIS_URL");
    let (mut peer, mut ours) = (0f64, 0f64);
    for _ in 0..ROUNDS {
        let key = unique("peer");
        peer = peer.max(redis_peer(&u.host, u.port, &key));
        redis_cli(&u.host, u.port, &["DEL", &key]);
        let mut cfg = RedisConfig::new(url);
        cfg.prefix = unique("redis");
        let prefix = cfg.prefix.clone();
        ours = ours.max(through_bus(AdapterConfig::Redis(cfg), REDIS_EVENTS));
        redis_cli(&u.host, u.port, &["DEL", &format!("{prefix}:shard:0")]);
    }
    report("redis", "redis-benchmark XADD -c 1 -P 1000", peer, ours);
}

/// A plain async-nats JetStream publisher, one message per event, `PIPELINE` acks in flight.
fn nats_peer(url: &str, n: u64) -> f64 {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = async_nats::connect(url).await.expect("connect to NATS");
        let js = async_nats::jetstream::new(client);
        let name = unique("peer");
        let subject = format!("{name}.s");
        js.create_stream(async_nats::jetstream::stream::Config {
            name: name.clone(),
            subjects: vec![subject.clone()],
            ..Default::default()
        })
        .await
        .expect("create stream");
        let body = bytes::Bytes::from(payload());
        let subject = async_nats::Subject::from(subject);
        let mut acks = VecDeque::with_capacity(PIPELINE);
        let start = Instant::now();
        for _ in 0..n {
            if acks.len() == PIPELINE {
                let ack: async_nats::jetstream::context::PublishAckFuture =
                    acks.pop_front().unwrap();
                ack.await.expect("ack");
            }
            let sent = js.publish(subject.clone(), body.clone()).await;
            acks.push_back(sent.expect("publish"));
        }
        for ack in acks {
            ack.await.expect("ack");
        }
        let rate = n as f64 / start.elapsed().as_secs_f64();
        let _ = js.delete_stream(&name).await;
        rate
    })
}

fn bench_nats(url: &str) {
    let (mut peer, mut ours) = (0f64, 0f64);
    for _ in 0..ROUNDS {
        peer = peer.max(nats_peer(url, NATS_EVENTS));
        let mut cfg = JetStreamConfig::new(url);
        cfg.prefix = unique("js");
        ours = ours.max(through_bus(AdapterConfig::JetStream(cfg), NATS_EVENTS * 5));
    }
    report(
        "jetstream",
        "plain async-nats publisher, 1000 acks in flight",
        peer,
        ours,
    );
}

fn report(adapter: &str, peer_name: &str, peer: f64, ours: f64) {
    let ratio = ours / peer;
    println!(
        "{adapter:<10} bus -> adapter: {ours:>10.0} events/s | peer ({peer_name}): {peer:>10.0}/s | ratio {ratio:.2}{}",
        if ratio >= 0.8 {
            ""
        } else {
            "  (below the 0.8 target)"
        }
    );
}

fn main() {
    // `cargo bench` passes `--bench`; nothing to parse.
    match std::env::var("NET_BENCH_REDIS_URL") {
        Ok(url) => bench_redis(&url),
        Err(_) => println!("redis: skipped (NET_BENCH_REDIS_URL not set)"),
    }
    match std::env::var("NET_BENCH_NATS_URL") {
        Ok(url) => bench_nats(&url),
        Err(_) => println!("jetstream: skipped (NET_BENCH_NATS_URL not set)"),
    }
}
