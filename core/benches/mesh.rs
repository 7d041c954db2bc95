//! Mesh micro-benchmarks: header serialize + parse, and AEAD seal + open of a 64-byte payload.
//! Targets (issue 6): header round trip <= 5 ns, seal + open 64 B <= 600 ns.
//!
//! - `mesh/header_roundtrip`: `Header::encode`, then `HeaderView::parse` (all validation) and a
//!   read of every field (`net::mesh::bench::header_roundtrip`, the `w5.header_roundtrip_ns` loop);
//! - `mesh/header_roundtrip_owned`: `Header::encode`, then `Header::parse` into an owned struct;
//! - `mesh/seal_open_64b`: `Sealer::seal` + `Opener::open` of a 64-byte payload, keys set up
//!   before the timer (the `w5.seal_open_64b_ns` loop);
//! - `mesh_loopback/reliable_64b_events`: two `MeshNode`s on 127.0.0.1, 64-byte events on a
//!   reliable stream, timed from the first send until the receiver has taken the last event
//!   (target: >= 2.5M events/s);
//! - `mesh_loopback/reliable_64b_events_8k_frames`: the same with 8,000-byte frames (121
//!   events per datagram; fine on loopback's 64 KiB MTU, not on Internet paths);
//! - `mesh_loopback/plain_udp_same_packets`: the same number of datagrams of the same size
//!   (1,400 B, what the mesh sends for 20 events) over plain unencrypted UDP sockets in the
//!   same run, counted in events (20 per datagram) so the two figures compare directly;
//! - `mesh_loopback/round_trip_64b`: one 64-byte event A -> B -> A, B echoing from its own
//!   thread; prints p50 / p99 (targets: p50 <= 40 us, p99 <= 120 us).

use std::hint::black_box;

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use net::identity::{Identity, NodeId};
use net::mesh::bench::{self as mesh_bench, sample_header};
use net::mesh::crypto::{Opener, Sealer, TAG_LEN};
use net::mesh::handshake::HandshakeConfig;
use net::mesh::node::{MeshNode, NodeConfig};
use net::mesh::session::{EndpointConfig, Event};
use net::mesh::stream::StreamMode;
use net::mesh::wire::{HEADER_LEN, Header};

fn header_roundtrip(c: &mut Criterion) {
    let mut header = sample_header();
    header.payload_len = 0;
    let mut buf = [0u8; HEADER_LEN];
    let datagram_len = black_box(HEADER_LEN);
    c.bench_function("mesh/header_roundtrip", |b| {
        b.iter(|| {
            header.sequence = header.sequence.wrapping_add(1);
            mesh_bench::header_roundtrip(&header, &mut buf, datagram_len)
        })
    });
    c.bench_function("mesh/header_roundtrip_owned", |b| {
        b.iter(|| {
            black_box(&header).encode(black_box(&mut buf));
            black_box(Header::parse(black_box(&buf)))
        })
    });
}

fn seal_open_64b(c: &mut Criterion) {
    let key = [0x42u8; 32];
    let (Ok(mut sealer), Ok(mut opener)) = (Sealer::new(&key), Opener::new(&key)) else {
        return;
    };
    let mut header = sample_header();
    header.hop_count = 0;
    let mut packet = [0u8; HEADER_LEN + 64 + TAG_LEN];
    c.bench_function("mesh/seal_open_64b", |b| {
        b.iter(|| {
            let n = sealer
                .seal(&mut header, black_box(&mut packet), 64)
                .unwrap_or(0);
            black_box(opener.open(black_box(&mut packet[..n])).is_ok())
        })
    });
}

/// Events per timed batch of the loopback benchmarks.
const EVENTS: u64 = 200_000;
/// Events the mesh packs into one 1,400-byte datagram (1,320-byte frames of 66-byte entries).
const EVENTS_PER_DATAGRAM: u64 = 20;

fn mesh_node(seed: u8, max_frame: usize) -> Option<MeshNode> {
    let hs = HandshakeConfig::new(Identity::from_seed(&[seed; 32]), [7; 32]);
    let addr: SocketAddr = "127.0.0.1:0".parse().ok()?;
    let mut config = EndpointConfig::new(hs);
    config.stream.max_frame = max_frame;
    MeshNode::start(NodeConfig::new(config, addr)).ok()
}

/// Two connected nodes with a reliable stream 1 from the first to the second.
fn mesh_pair(seed: u8, max_frame: usize) -> Option<(Arc<MeshNode>, MeshNode, NodeId)> {
    let a = Arc::new(mesh_node(seed, max_frame)?);
    let b = mesh_node(seed + 1, max_frame)?;
    let peer = a
        .connect(b.local_addr(), &b.card(), Duration::from_secs(5))
        .ok()?;
    a.open_stream(peer, 1, StreamMode::Reliable).ok()?;
    Some((a, b, peer))
}

/// Times `iters` batches of [`EVENTS`] events and prints events per CPU-second.
fn timed_batches(
    a: &Arc<MeshNode>,
    b: &MeshNode,
    peer: NodeId,
    iters: u64,
    label: &str,
) -> Duration {
    let cpu = cpu_time();
    let start = Instant::now();
    for _ in 0..iters {
        move_events(a, b, peer, EVENTS);
    }
    let wall = start.elapsed();
    let cpu = cpu_time().saturating_sub(cpu);
    if iters >= 10 && !cpu.is_zero() {
        eprintln!(
            "{label}: {:.2}M events per CPU-second ({iters} x {EVENTS} events)",
            (iters * EVENTS) as f64 / cpu.as_secs_f64() / 1e6
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

/// Sends `n` events from `a` (in a thread) and waits until `b` took them all.
fn move_events(a: &Arc<MeshNode>, b: &MeshNode, peer: NodeId, n: u64) {
    let sender = {
        let a = Arc::clone(a);
        std::thread::spawn(move || {
            let event = [0x61u8; 64];
            let chunk = [&event[..]; 512];
            let mut sent = 0u64;
            while sent < n {
                let k = usize::try_from((n - sent).min(512)).unwrap_or(512);
                let Ok((done, r)) = a.send_batch(peer, 1, chunk[..k].iter().copied()) else {
                    return;
                };
                sent += done as u64;
                if r.is_err() {
                    if a.send_blocking(peer, 1, &event, Duration::from_secs(5))
                        .is_err()
                    {
                        return;
                    }
                    sent += 1;
                }
            }
            let _ = a.flush();
        })
    };
    let mut got = 0u64;
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut events = Vec::new();
    while got < n && Instant::now() < deadline {
        events.clear();
        if b.recv_batch(&mut events, Duration::from_millis(100))
            .is_ok()
        {
            for ev in &events {
                if let Event::Data(d) = ev {
                    got += d.len() as u64;
                }
            }
        }
    }
    let _ = sender.join();
}

/// Sends `datagrams` datagrams of `size` bytes over plain UDP; returns the time until the
/// receiver stopped seeing new ones and how many arrived.
fn plain_udp(datagrams: u64, size: usize) -> Option<(Duration, u64)> {
    // The same 4 MiB socket buffers the mesh node asks for.
    let socket = || -> Option<UdpSocket> {
        use socket2::{Domain, Protocol, Socket, Type};
        let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).ok()?;
        let _ = s.set_recv_buffer_size(4 << 20);
        let _ = s.set_send_buffer_size(4 << 20);
        let addr: SocketAddr = "127.0.0.1:0".parse().ok()?;
        s.bind(&addr.into()).ok()?;
        Some(s.into())
    };
    let rx = socket()?;
    let tx = socket()?;
    rx.set_read_timeout(Some(Duration::from_millis(50))).ok()?;
    let to = rx.local_addr().ok()?;
    let receiver = std::thread::spawn(move || {
        let mut buf = vec![0u8; 65536];
        let mut got = 0u64;
        let mut last = Instant::now();
        while got < datagrams {
            match rx.recv_from(&mut buf) {
                Ok(_) => {
                    got += 1;
                    last = Instant::now();
                }
                Err(_) => break,
            }
        }
        (got, last)
    });
    let start = Instant::now();
    let payload = vec![0x61u8; size];
    for _ in 0..datagrams {
        let _ = tx.send_to(&payload, to);
    }
    let (got, last) = receiver.join().ok()?;
    Some((last.duration_since(start), got))
}

fn loopback(c: &mut Criterion) {
    let Some((a, b, peer)) = mesh_pair(1, 1320) else {
        return;
    };
    let mut group = c.benchmark_group("mesh_loopback");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    group.throughput(Throughput::Elements(EVENTS));
    group.bench_function("reliable_64b_events", |bench| {
        bench.iter_custom(|iters| timed_batches(&a, &b, peer, iters, "mesh"))
    });
    // Loopback's MTU is 64 KiB: with 8,000-byte frames (121 events per datagram) the
    // per-datagram costs are shared by six times as many events. Not for Internet paths.
    if let Some((a8, b8, peer8)) = mesh_pair(11, 8000) {
        group.bench_function("reliable_64b_events_8k_frames", |bench| {
            bench.iter_custom(|iters| timed_batches(&a8, &b8, peer8, iters, "mesh 8k frames"))
        });
    }
    let datagrams = EVENTS / EVENTS_PER_DATAGRAM;
    group.bench_function("plain_udp_same_packets", |bench| {
        bench.iter_custom(|iters| {
            // Plain UDP has no flow control: the sender outruns the receiver and the kernel
            // drops the excess. Only delivered datagrams count: the time is scaled by
            // sent / delivered, so the reported rate is the delivered rate.
            let mut total = Duration::ZERO;
            let (mut sent, mut got) = (0u64, 0u64);
            let cpu = cpu_time();
            for _ in 0..iters {
                if let Some((t, g)) = plain_udp(datagrams, 1400) {
                    total += t;
                    sent += datagrams;
                    got += g;
                }
            }
            let cpu = cpu_time().saturating_sub(cpu);
            if iters >= 10 && !cpu.is_zero() {
                eprintln!(
                    "plain UDP: {:.2}M delivered events (x20 per datagram) per CPU-second",
                    (got * EVENTS_PER_DATAGRAM) as f64 / cpu.as_secs_f64() / 1e6
                );
            }
            if got == 0 {
                return total;
            }
            total.mul_f64(sent as f64 / got as f64)
        })
    });
    group.finish();
    let ca = a.counters();
    eprintln!(
        "mesh sender: {} frames, {} retransmitted; receiver drops: {:?}",
        ca.frames_sent,
        ca.frames_retransmitted,
        b.counters().drops
    );
}

/// One 64-byte event A -> B -> A on reliable streams (B echoes from its own thread); prints
/// p50 / p99 of the round trips it timed.
fn round_trip(c: &mut Criterion) {
    let Some((a, b, peer_b)) = mesh_pair(21, 1320) else {
        return;
    };
    let peer_a = a.node_id();
    if b.open_stream(peer_a, 2, StreamMode::Reliable).is_err() {
        return;
    }
    let b = Arc::new(b);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let echo = {
        let (b, stop) = (Arc::clone(&b), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut events = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                events.clear();
                if b.recv_batch(&mut events, Duration::from_millis(20))
                    .is_err()
                {
                    continue;
                }
                for ev in &events {
                    if let Event::Data(d) = ev {
                        for e in d.events() {
                            let _ = b.send(peer_a, 2, e);
                        }
                    }
                }
                let _ = b.flush();
            }
        })
    };
    let event = [0x62u8; 64];
    let mut samples: Vec<Duration> = Vec::new();
    let one = |samples: &mut Vec<Duration>| {
        let t = Instant::now();
        if a.send(peer_b, 1, &event).is_err() {
            return;
        }
        let deadline = t + Duration::from_secs(1);
        while Instant::now() < deadline {
            if let Ok(Event::Data(_)) = a.recv(Duration::from_millis(100)) {
                samples.push(t.elapsed());
                return;
            }
        }
    };
    let mut group = c.benchmark_group("mesh_loopback");
    group.sample_size(20);
    group.bench_function("round_trip_64b", |bench| {
        bench.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                one(&mut samples);
            }
            start.elapsed()
        })
    });
    group.finish();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = echo.join();
    samples.sort();
    if !samples.is_empty() {
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
        eprintln!(
            "round trip over {} samples: p50 {:?}, p99 {:?}, max {:?}",
            samples.len(),
            at(0.50),
            at(0.99),
            at(1.0)
        );
    }
}

criterion_group!(
    benches,
    header_roundtrip,
    seal_open_64b,
    loopback,
    round_trip
);
criterion_main!(benches);
