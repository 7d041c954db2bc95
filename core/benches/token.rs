//! Criterion benches of permission tokens (issue 7 target: token verify at most 60 us):
//! one token's ed25519 verify + window check (`token::verify`, issuer key decompressed each
//! time), a root-issued token through `TokenVerifier` with the cache off (the verify the target
//! is about: root key decompressed once), a two-link chain with the cache off (two verifies),
//! the same chain answered from the cache, and parsing a chain. The verify cases are measured
//! twice: wall time (criterion's default) and, in the `token_cpu` group, the benchmarking
//! thread's CPU time, which other processes on a shared machine inflate much less.

use std::hint::black_box;

use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{Criterion, criterion_group, criterion_main};
use net::identity::Identity;
use net::token::{Grant, Scope, TokenChain, TokenVerifier, VerifyConfig, delegate, issue, verify};

const NOW: u64 = 1_767_225_600;

/// CPU time of the calling thread (Linux `CLOCK_THREAD_CPUTIME_ID`).
struct ThreadCpuTime {
    wall: WallTime,
}

fn thread_cpu_now() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

impl Measurement for ThreadCpuTime {
    type Intermediate = Duration;
    type Value = Duration;
    fn start(&self) -> Duration {
        thread_cpu_now()
    }
    fn end(&self, started: Duration) -> Duration {
        thread_cpu_now().saturating_sub(started)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, v: &Duration) -> f64 {
        v.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        self.wall.formatter()
    }
}

fn bench_tokens(c: &mut Criterion) {
    bench_cases(c, "token");
}

fn bench_tokens_cpu(c: &mut Criterion<ThreadCpuTime>) {
    bench_cases(c, "token_cpu");
}

fn bench_cases<M: Measurement + 'static>(c: &mut Criterion<M>, group: &str) {
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

    c.bench_function(&format!("{group}/verify_one"), |bn| {
        bn.iter(|| verify(black_box(&t0), black_box(NOW), &cfg).unwrap())
    });
    let uncached = TokenVerifier::with_cache_capacity([root.entity_id()], cfg, 0);
    let single = TokenChain::single(t0);
    c.bench_function(&format!("{group}/authorize_chain1_uncached"), |bn| {
        bn.iter(|| {
            uncached
                .authorize(black_box(&single), &a.entity_id(), 77, Scope::PUBLISH, NOW)
                .unwrap()
        })
    });
    c.bench_function(&format!("{group}/authorize_chain2_uncached"), |bn| {
        bn.iter(|| {
            uncached
                .authorize(black_box(&chain), &b.entity_id(), 77, Scope::PUBLISH, NOW)
                .unwrap()
        })
    });
    let cached = TokenVerifier::new([root.entity_id()], cfg);
    c.bench_function(&format!("{group}/authorize_chain2_cached"), |bn| {
        bn.iter(|| {
            cached
                .authorize(black_box(&chain), &b.entity_id(), 77, Scope::PUBLISH, NOW)
                .unwrap()
        })
    });
    c.bench_function(&format!("{group}/parse_chain2"), |bn| {
        bn.iter(|| TokenChain::from_bytes(black_box(&bytes)).unwrap())
    });
}

criterion_group!(benches, bench_tokens);
criterion_group! {
    name = cpu_benches;
    config = Criterion::default().with_measurement(ThreadCpuTime { wall: WallTime });
    targets = bench_tokens_cpu
}
criterion_main!(benches, cpu_benches);
