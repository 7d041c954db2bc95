//! Channel benches: name parse + hash (target <= 100 ns for a 32-byte name) and the AuthGuard
//! fast path (target <= 20 ns per check), plus pattern matching for reference.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use net::channel::{Action, AuthGuard, ChannelHash, ChannelName, ChannelPattern, Grant, Verdict};
use net::identity::NodeId;

const NAME_32: &str = "sensors/lidar/front-left/raw0001";

fn names(c: &mut Criterion) {
    assert_eq!(NAME_32.len(), 32);
    let mut g = c.benchmark_group("channel_name");
    g.bench_function("parse_hash_32b", |b| {
        b.iter(|| black_box(ChannelName::parse(black_box(NAME_32)).unwrap().hash()))
    });
    g.bench_function("hash_of_32b_no_alloc", |b| {
        b.iter(|| black_box(ChannelName::hash_of(black_box(NAME_32)).unwrap()))
    });
    let pattern = ChannelPattern::parse("sensors/*/front-left/**").unwrap();
    let name = ChannelName::parse(NAME_32).unwrap();
    g.bench_function("pattern_match", |b| {
        b.iter(|| black_box(pattern.matches(black_box(&name))))
    });
    g.finish();
}

fn guard(c: &mut Criterion) {
    const N: u64 = 1024;
    let mut guard = AuthGuard::default();
    let channel = |i: u64| {
        ChannelName::parse(&format!("fleet/{i}/telemetry"))
            .unwrap()
            .hash()
    };
    let keys: Vec<(NodeId, ChannelHash)> =
        (0..N).map(|i| (NodeId(i * 7919 + 1), channel(i))).collect();
    for &(p, ch) in &keys {
        guard.admit(
            p,
            ch,
            Action::Subscribe,
            Grant {
                expires_at: u64::MAX,
                token_id: 0,
            },
        );
    }
    let misses: Vec<(NodeId, ChannelHash)> =
        (0..N).map(|i| (NodeId(i * 7919 + 2), channel(i))).collect();
    let mut g = c.benchmark_group("auth_guard");
    g.bench_function("check_fast_hit_same_key", |b| {
        let (p, ch) = keys[0];
        b.iter(|| {
            let v = guard.check_fast(black_box(p), black_box(ch), Action::Subscribe, 1);
            debug_assert!(matches!(v, Verdict::Admit { .. }));
            black_box(v)
        })
    });
    g.bench_function("check_fast_hit_1024_keys", |b| {
        let mut i = 0usize;
        b.iter(|| {
            let (p, ch) = keys[i & (N as usize - 1)];
            i = i.wrapping_add(1);
            black_box(guard.check_fast(black_box(p), black_box(ch), Action::Subscribe, 1))
        })
    });
    g.bench_function("check_fast_miss_1024_keys", |b| {
        let mut i = 0usize;
        b.iter(|| {
            let (p, ch) = misses[i & (N as usize - 1)];
            i = i.wrapping_add(1);
            black_box(guard.check_fast(black_box(p), black_box(ch), Action::Subscribe, 1))
        })
    });
    g.finish();
}

criterion_group!(benches, names, guard);
criterion_main!(benches);
