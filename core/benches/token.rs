//! Criterion benches of permission tokens (issue 7 target: token verify at most 60 us):
//! one token's ed25519 verify + window check (`token::verify`, issuer key decompressed each
//! time), a root-issued token through `TokenVerifier` with the cache off (the verify the target
//! is about: root key decompressed once), a two-link chain with the cache off (two verifies),
//! the same chain answered from the cache, and parsing a chain.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use net::identity::Identity;
use net::token::{Grant, Scope, TokenChain, TokenVerifier, VerifyConfig, delegate, issue, verify};

const NOW: u64 = 1_767_225_600;

fn bench_tokens(c: &mut Criterion) {
    let root = Identity::from_seed(&[1; 32]);
    let a = Identity::from_seed(&[2; 32]);
    let b = Identity::from_seed(&[3; 32]);
    let grant = |subject, scope, depth| Grant {
        subject,
        scope,
        channel: 77,
        not_before: NOW - 60,
        not_after: NOW + 3_600,
        depth,
        nonce: 1,
    };
    let t0 = issue(&root, 0, &grant(a.entity_id(), Scope::ALL, 2)).unwrap();
    let t1 = delegate(&t0, &a, 0, &grant(b.entity_id(), Scope::PUBLISH, 0)).unwrap();
    let chain = TokenChain::single(t0).with(t1).unwrap();
    let bytes = chain.to_bytes();
    let cfg = VerifyConfig::default();

    c.bench_function("token/verify_one", |bn| {
        bn.iter(|| verify(black_box(&t0), black_box(NOW), &cfg).unwrap())
    });
    let uncached = TokenVerifier::with_cache_capacity([root.entity_id()], cfg, 0);
    let single = TokenChain::single(t0);
    c.bench_function("token/authorize_chain1_uncached", |bn| {
        bn.iter(|| {
            uncached
                .authorize(black_box(&single), &a.entity_id(), 77, Scope::PUBLISH, NOW)
                .unwrap()
        })
    });
    c.bench_function("token/authorize_chain2_uncached", |bn| {
        bn.iter(|| {
            uncached
                .authorize(black_box(&chain), &b.entity_id(), 77, Scope::PUBLISH, NOW)
                .unwrap()
        })
    });
    let cached = TokenVerifier::new([root.entity_id()], cfg);
    c.bench_function("token/authorize_chain2_cached", |bn| {
        bn.iter(|| {
            cached
                .authorize(black_box(&chain), &b.entity_id(), 77, Scope::PUBLISH, NOW)
                .unwrap()
        })
    });
    c.bench_function("token/parse_chain2", |bn| {
        bn.iter(|| TokenChain::from_bytes(black_box(&bytes)).unwrap())
    });
}

criterion_group!(benches, bench_tokens);
criterion_main!(benches);
