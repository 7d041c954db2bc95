//! Publish fan-out over loopback (issue 7): one publishing `MeshNode` with a `PubSub`, eight
//! subscribing nodes (each its own `MeshNode` + `PubSub` and a thread taking events from its
//! inbox), all in this process on 127.0.0.1. A reliable channel; 64-byte events published in
//! batches of 256 (`PubSub::publish_into`, one roster fan-out and authorization check per
//! batch); timed from the first publish until every subscriber has taken every event.
//! Counted: events delivered in total (8 per published event). Target: >= 500k events/s.
//!
//! - `fanout/reliable_64b_8_subscribers`: the channel needs no token;
//! - `fanout/reliable_64b_8_subscribers_token`: the channel requires a token; each
//!   subscriber presented a root-issued one, so every publish passes the AuthGuard fast path
//!   once per subscriber.
//!
//! Also prints delivered events per CPU-second of the whole process (all threads), which load
//! from other processes disturbs less than wall time.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use net::channel::{ChannelConfig, ChannelName, ChannelRegistry, GuardConfig, Reliability};
use net::identity::Identity;
use net::membership::{AckStatus, Credential, FanOut, PubSub, PubSubConfig, PublishReport, Roster};
use net::mesh::handshake::HandshakeConfig;
use net::mesh::node::{MeshNode, NodeConfig};
use net::mesh::session::EndpointConfig;
use net::token::{Grant, Scope, TokenChain, TokenVerifier, VerifyConfig, issue};

const SUBSCRIBERS: usize = 8;
const PUBLISHED: u64 = 25_000;
const BATCH: usize = 256;
const PSK: [u8; 32] = [0x33; 32];
const WAIT: Duration = Duration::from_secs(10);

struct Subscriber {
    _ps: Arc<PubSub>,
    got: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    drain: Option<JoinHandle<()>>,
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(h) = self.drain.take() {
            let _ = h.join();
        }
    }
}

struct Setup {
    publisher: PubSub,
    channel: ChannelName,
    subs: Vec<Subscriber>,
}

fn node(seed: u8) -> Option<Arc<MeshNode>> {
    let cfg = EndpointConfig::new(HandshakeConfig::new(Identity::from_seed(&[seed; 32]), PSK));
    let bind = "127.0.0.1:0".parse().ok()?;
    MeshNode::start(NodeConfig::new(cfg, bind))
        .ok()
        .map(Arc::new)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn setup(channel: &str, token: bool) -> Option<Setup> {
    let root = Identity::from_seed(&[200; 32]);
    let channel = ChannelName::parse(channel).ok()?;
    let mut reg = ChannelRegistry::new();
    reg.register(
        channel.clone(),
        ChannelConfig {
            reliability: Reliability::Reliable,
            require_token: token,
            ..ChannelConfig::default()
        },
    )
    .ok()?;
    let verifier = Arc::new(TokenVerifier::new(
        [root.entity_id()],
        VerifyConfig { skew_secs: 5 },
    ));
    let p = node(100)?;
    let roster = Roster::new(reg, Some(verifier), GuardConfig::default()).ok()?;
    let publisher = PubSub::start(Arc::clone(&p), roster, PubSubConfig::default());
    let mut subs = Vec::new();
    for i in 0..SUBSCRIBERS {
        let seed = 101 + i as u8;
        let n = node(seed)?;
        n.connect(p.local_addr(), &p.card(), WAIT).ok()?;
        let deadline = Instant::now() + WAIT;
        while !p.is_connected(n.node_id()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
        let ps = Arc::new(PubSub::start(
            n,
            Roster::new(ChannelRegistry::new(), None, GuardConfig::default()).ok()?,
            PubSubConfig::default(),
        ));
        let me = Identity::from_seed(&[seed; 32]);
        let credential = if token {
            let now = unix_now();
            let grant = Grant {
                subject: me.entity_id(),
                scope: Scope::SUBSCRIBE,
                channel: channel.hash().get(),
                not_before: now - 60,
                not_after: now + 86_400,
                depth: 0,
                nonce: 1,
            };
            let t = issue(&root, 0, &grant).ok()?;
            Some(Credential {
                subject: me.entity_id(),
                chain: TokenChain::single(t).to_bytes(),
            })
        } else {
            None
        };
        let status = ps
            .subscribe(p.node_id(), &channel, None, credential, WAIT)
            .ok()?;
        if status != AckStatus::Subscribed {
            eprintln!("fanout bench: subscriber {i} refused: {status:?}");
            return None;
        }
        let got = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let drain = {
            let (ps, got, stop) = (Arc::clone(&ps), Arc::clone(&got), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut buf = Vec::with_capacity(4096);
                while !stop.load(Ordering::Acquire) {
                    buf.clear();
                    let n = ps.recv_batch(&mut buf, Duration::from_millis(20));
                    got.fetch_add(n as u64, Ordering::AcqRel);
                }
            })
        };
        subs.push(Subscriber {
            _ps: ps,
            got,
            stop,
            drain: Some(drain),
        });
    }
    Some(Setup {
        publisher,
        channel,
        subs,
    })
}

/// Publishes `iters` x PUBLISHED events and waits until every subscriber has them all.
fn timed(s: &Setup, iters: u64, label: &str) -> Duration {
    let event = [0x5Au8; 64];
    let batch = [&event[..]; BATCH];
    let mut fan = FanOut::default();
    let mut report = PublishReport::default();
    let before: Vec<u64> = s
        .subs
        .iter()
        .map(|x| x.got.load(Ordering::Acquire))
        .collect();
    let total = iters * PUBLISHED;
    let cpu = cpu_time();
    let start = Instant::now();
    let mut sent = 0u64;
    let mut failed = 0usize;
    while sent < total {
        let k = usize::try_from((total - sent).min(BATCH as u64)).unwrap_or(BATCH);
        if s.publisher
            .publish_into(&s.channel, &batch[..k], &mut fan, &mut report)
            .is_err()
        {
            break;
        }
        failed += report.failed.len();
        sent += k as u64;
    }
    let deadline = Instant::now() + WAIT + Duration::from_secs(iters);
    loop {
        let done = s
            .subs
            .iter()
            .zip(&before)
            .all(|(x, b)| x.got.load(Ordering::Acquire) - b >= total);
        if done || Instant::now() > deadline {
            break;
        }
        std::hint::spin_loop();
        std::thread::yield_now();
    }
    let wall = start.elapsed();
    let cpu = cpu_time().saturating_sub(cpu);
    let delivered: u64 = s
        .subs
        .iter()
        .zip(&before)
        .map(|(x, b)| x.got.load(Ordering::Acquire) - b)
        .sum();
    if delivered < total * SUBSCRIBERS as u64 || failed > 0 {
        eprintln!(
            "{label}: only {delivered} of {} delivered, {failed} peer failures",
            total * SUBSCRIBERS as u64
        );
    }
    if !cpu.is_zero() {
        eprintln!(
            "{label}: {:.2}M delivered events/s wall, {:.2}M per CPU-second",
            delivered as f64 / wall.as_secs_f64() / 1e6,
            delivered as f64 / cpu.as_secs_f64() / 1e6
        );
    }
    wall
}

/// CPU time (user + system) used so far by every thread of this process.
#[cfg(target_os = "linux")]
fn cpu_time() -> Duration {
    // SAFETY: `rusage` is a plain C struct (all-zero is valid) that `getrusage` fills in.
    let mut r: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `r` is a valid, writable `rusage`.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut r) } != 0 {
        return Duration::ZERO;
    }
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    tv(r.ru_utime) + tv(r.ru_stime)
}

#[cfg(not(target_os = "linux"))]
fn cpu_time() -> Duration {
    Duration::ZERO
}

fn fanout(c: &mut Criterion) {
    let mut group = c.benchmark_group("fanout");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    group.throughput(Throughput::Elements(PUBLISHED * SUBSCRIBERS as u64));
    match setup("bench/fanout", false) {
        Some(s) => {
            group.bench_function("reliable_64b_8_subscribers", |b| {
                b.iter_custom(|iters| timed(&s, iters, "fanout"))
            });
        }
        None => eprintln!("fanout bench: setup failed"),
    }
    match setup("bench/fanout_token", true) {
        Some(s) => {
            group.bench_function("reliable_64b_8_subscribers_token", |b| {
                b.iter_custom(|iters| timed(&s, iters, "fanout token"))
            });
        }
        None => eprintln!("fanout bench: token setup failed"),
    }
    group.finish();
}

criterion_group!(benches, fanout);
criterion_main!(benches);
