//! `net_ingest_raw` through the C ABI against the engine's `EventBus::ingest_raw`, in one run.
//!
//! Run with `cargo bench -p net-mesh-ffi --bench ingest` (part of `make bench`). Both sides
//! ingest the standard 64-byte payload of BENCHMARKS.md into a 1-shard bus with a 2^16-slot
//! ring under `fail_producer`; chunks of half a ring are timed and the bus is flushed between
//! chunks outside the timer, so no backpressure path runs (the same method as
//! `core/benches/bus.rs`). The C side is called through an opaque function pointer with the C
//! calling convention, exactly as a C program calls it; `ffi/tests/c/bench_ingest.c` measures
//! the same call from a gcc-compiled program.
//!
//! A second group compares `ingest_raw_batch` of 1000 events with `net_ingest_raw_packed`. After
//! the criterion groups, `main` alternates both sides for a few rounds and prints the medians and
//! their ratio (the issue's target: C within 1.5x of Rust).

use std::cell::Cell;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use net::EventBus;
use net_ffi::{
    NET_OK, net_bus, net_flush, net_free, net_ingest_raw, net_ingest_raw_packed, net_init,
    net_outcome, net_receipt,
};

const RING: usize = 1 << 16;
const CHUNK: u64 = (RING / 2) as u64;
const CONFIG: &str = "{\"ring_capacity\": 65536, \"backpressure\": \"fail_producer\", \
                      \"adapter\": {\"type\": \"memory\", \"max_events_per_shard\": 65536}}\0";

type IngestFn = unsafe extern "C" fn(*mut net_bus, *const u8, usize, *mut net_receipt) -> i32;
type PackedFn =
    unsafe extern "C" fn(*mut net_bus, *const u8, *const usize, usize, *mut net_outcome) -> i32;

/// Events per batch in the batch group.
const BATCH: usize = 1000;

fn payload() -> Vec<u8> {
    let head = r#"{"token":"hello","index":0,"pad":""#;
    let text = format!("{head}{}\"}}", "x".repeat(64 - head.len() - 2));
    assert_eq!(text.len(), 64);
    text.into_bytes()
}

thread_local! {
    /// CPU time this thread spent inside the timed regions of [`chunked`] (reset by the caller).
    static TIMED_CPU: Cell<Duration> = const { Cell::new(Duration::ZERO) };
}

/// CPU time the calling thread has used (CLOCK_THREAD_CPUTIME_ID). On a machine shared with
/// other builds the wall time includes waiting for a core; this does not.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid clock id and a writable timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Times `iters` calls of `step` (each ingesting `per_step` events), in chunks of at most
/// [`CHUNK`] events, running `between` (a flush) outside the timer after each chunk.
fn chunked(
    iters: u64,
    per_step: u64,
    mut step: impl FnMut(),
    mut between: impl FnMut(),
) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min((CHUNK / per_step).max(1));
        let cpu = thread_cpu();
        let start = Instant::now();
        for _ in 0..n {
            step();
        }
        total += start.elapsed();
        let spent = thread_cpu() - cpu;
        TIMED_CPU.with(|c| c.set(c.get() + spent));
        between();
        left -= n;
    }
    total
}

struct Sides {
    rust: EventBus,
    c: *mut net_bus,
    c_fn: IngestFn,
    packed_fn: PackedFn,
    event: Vec<u8>,
    packed: Vec<u8>,
    lens: Vec<usize>,
}

impl Sides {
    fn new() -> Sides {
        let rust = EventBus::from_json(CONFIG.trim_end_matches('\0')).expect("bus");
        let mut c = std::ptr::null_mut();
        // SAFETY: a NUL-terminated config and a valid out-pointer.
        let rc = unsafe { net_init(CONFIG.as_ptr().cast(), &mut c) };
        assert_eq!(rc, NET_OK);
        let event = payload();
        Sides {
            rust,
            c,
            c_fn: black_box(net_ingest_raw as IngestFn),
            packed_fn: black_box(net_ingest_raw_packed as PackedFn),
            packed: event.repeat(BATCH),
            lens: vec![event.len(); BATCH],
            event,
        }
    }

    fn rust(&self, iters: u64) -> Duration {
        chunked(
            iters,
            1,
            || {
                black_box(
                    self.rust
                        .ingest_raw(black_box(&self.event))
                        .expect("ingest"),
                );
            },
            || self.rust.flush().expect("flush"),
        )
    }

    fn c_abi(&self, iters: u64) -> Duration {
        let mut receipt = net_receipt::default();
        chunked(
            iters,
            1,
            || {
                // SAFETY: a live handle, a readable buffer and a writable receipt.
                let rc = unsafe {
                    (self.c_fn)(self.c, self.event.as_ptr(), self.event.len(), &mut receipt)
                };
                assert_eq!(black_box(rc), NET_OK);
            },
            // SAFETY: a live handle.
            || assert_eq!(unsafe { net_flush(self.c, -1) }, NET_OK),
        )
    }

    fn rust_batch(&self, iters: u64) -> Duration {
        let slices: Vec<&[u8]> = vec![self.event.as_slice(); BATCH];
        chunked(
            iters,
            BATCH as u64,
            || {
                let report = self
                    .rust
                    .ingest_raw_batch(black_box(slices.iter().copied()));
                assert_eq!(report.accepted(), BATCH);
            },
            || self.rust.flush().expect("flush"),
        )
    }

    fn c_abi_packed(&self, iters: u64) -> Duration {
        let mut outcomes = vec![net_outcome::default(); BATCH];
        chunked(
            iters,
            BATCH as u64,
            || {
                // SAFETY: a live handle; `packed` holds the sum of `lens` bytes; room for
                // BATCH outcomes.
                let rc = unsafe {
                    (self.packed_fn)(
                        self.c,
                        self.packed.as_ptr(),
                        self.lens.as_ptr(),
                        BATCH,
                        outcomes.as_mut_ptr(),
                    )
                };
                assert_eq!(black_box(rc), NET_OK);
                assert_eq!(outcomes[BATCH - 1].status, NET_OK);
            },
            // SAFETY: a live handle.
            || assert_eq!(unsafe { net_flush(self.c, -1) }, NET_OK),
        )
    }
}

impl Drop for Sides {
    fn drop(&mut self) {
        // SAFETY: the handle from `new`, released once.
        unsafe { net_free(self.c) };
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let sides = Sides::new();
    let mut c = Criterion::default()
        .configure_from_args()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    let mut group = c.benchmark_group("ingest_raw_64B");
    group.throughput(Throughput::Elements(1));
    group.bench_function("rust", |b| b.iter_custom(|iters| sides.rust(iters)));
    group.bench_function("c_abi", |b| b.iter_custom(|iters| sides.c_abi(iters)));
    group.finish();
    let mut group = c.benchmark_group("ingest_raw_batch1000_64B");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("rust", |b| b.iter_custom(|iters| sides.rust_batch(iters)));
    group.bench_function("c_abi_packed", |b| {
        b.iter_custom(|iters| sides.c_abi_packed(iters))
    });
    group.finish();
    c.final_summary();

    // `cargo test --all-targets` runs this binary without `--bench`: criterion then runs each
    // routine once, and the comparison rounds below are skipped.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    // Interleaved rounds: both sides see the same machine state. Each side is reported as wall
    // time and as the benchmark thread's CPU time per event (robust to a loaded machine).
    const N: u64 = 1 << 20;
    let batches = N / BATCH as u64;
    let rounds = |a: &dyn Fn() -> Duration, b: &dyn Fn() -> Duration, events: u64| {
        let per = |f: &dyn Fn() -> Duration| {
            TIMED_CPU.with(|c| c.set(Duration::ZERO));
            let wall = f().as_nanos() as f64 / events as f64;
            (
                wall,
                TIMED_CPU.with(Cell::get).as_nanos() as f64 / events as f64,
            )
        };
        let (mut wa, mut ca, mut wb, mut cb) = (vec![], vec![], vec![], vec![]);
        for _ in 0..7 {
            let (w, c) = per(a);
            wa.push(w);
            ca.push(c);
            let (w, c) = per(b);
            wb.push(w);
            cb.push(c);
        }
        (median(wa), median(ca), median(wb), median(cb))
    };
    let (rw, rc, cw, cc) = rounds(&|| sides.rust(N), &|| sides.c_abi(N), N);
    println!(
        "ingest_raw 64 B, median of 7 x {N}: rust {rw:.1} ns ({rc:.1} cpu-ns), C ABI {cw:.1} ns \
         ({cc:.1} cpu-ns), ratio {:.2} wall / {:.2} cpu (target <= 1.5)",
        cw / rw,
        cc / rc
    );
    let (rw, rc, cw, cc) = rounds(
        &|| sides.rust_batch(batches),
        &|| sides.c_abi_packed(batches),
        batches * BATCH as u64,
    );
    println!(
        "ingest_raw_batch 1000 x 64 B, per event: rust {rw:.1} ns ({rc:.1} cpu-ns), C ABI packed \
         {cw:.1} ns ({cc:.1} cpu-ns), ratio {:.2} wall / {:.2} cpu",
        cw / rw,
        cc / rc
    );
}
