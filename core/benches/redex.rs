//! RedEX benches: heap and disk append throughput, batch append, tail latency and group commit.
//!
//! Criterion measures the throughput groups; tail latency (p50/p99 of append -> tail holder)
//! and the `every_n(1)` group-commit figures (appends/s, fsyncs/s with 4 appenders) are
//! measured directly and printed, since they are distributions and ratios, not per-iteration
//! times.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use net::redex::{FsyncPolicy, RedexFile, RedexFileConfig};

fn tmp(tag: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "redex-bench-{tag}-{}-{}",
        std::process::id(),
        net::redex::now_ns()
    ))
}

fn appends(c: &mut Criterion) {
    let mut g = c.benchmark_group("redex_append");
    for (name, len) in [("heap_32b", 32usize), ("heap_1k", 1024)] {
        let payload = vec![7u8; len];
        g.throughput(Throughput::Elements(1));
        g.bench_function(name, |b| {
            let mut f = RedexFile::open("b", None, RedexFileConfig::heap()).unwrap();
            let mut n = 0u64;
            b.iter(|| {
                n += 1;
                if n.is_multiple_of(1 << 20) {
                    // Keep memory bounded across criterion's many iterations.
                    f = RedexFile::open("b", None, RedexFileConfig::heap()).unwrap();
                }
                black_box(f.append(&payload).unwrap())
            })
        });
    }
    let batch: Vec<Vec<u8>> = (0..64).map(|_| vec![3u8; 64]).collect();
    g.throughput(Throughput::Elements(64));
    g.bench_function("heap_batch_64x64b", |b| {
        let mut f = RedexFile::open("b", None, RedexFileConfig::heap()).unwrap();
        let mut n = 0u64;
        b.iter(|| {
            n += 1;
            if n.is_multiple_of(1 << 15) {
                f = RedexFile::open("b", None, RedexFileConfig::heap()).unwrap();
            }
            black_box(f.append_batch(&batch).unwrap())
        })
    });
    // The same appends to a retained log in its steady state (16 MiB segments, 32 MiB of
    // payload kept): an evicted segment's buffers are reused, so no fresh memory is faulted
    // in. The cases above grow a log without retention (fresh memory all the way).
    let retained = || {
        RedexFile::open(
            "r",
            None,
            RedexFileConfig::heap()
                .with_segments(16 << 20, 1 << 18)
                .with_retention(net::redex::Retention {
                    max_bytes: Some(32 << 20),
                    ..Default::default()
                }),
        )
        .unwrap()
    };
    let payload = vec![7u8; 1024];
    g.throughput(Throughput::Elements(1));
    g.bench_function("heap_1k_retained", |b| {
        let f = retained();
        b.iter(|| black_box(f.append(&payload).unwrap()))
    });
    g.throughput(Throughput::Elements(64));
    g.bench_function("heap_batch_64x64b_retained", |b| {
        let f = retained();
        b.iter(|| black_box(f.append_batch(&batch).unwrap()))
    });
    let dir = tmp("never");
    let payload = vec![7u8; 32];
    g.throughput(Throughput::Elements(1));
    g.bench_function("disk_never_32b", |b| {
        let f = RedexFile::open(
            "d",
            Some(&dir),
            RedexFileConfig::persistent(FsyncPolicy::Never).with_retention(net::redex::Retention {
                max_events: Some(1 << 20),
                ..Default::default()
            }),
        )
        .unwrap();
        b.iter(|| black_box(f.append(&payload).unwrap()));
        f.close().unwrap();
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

fn percentile(v: &mut [u64], p: f64) -> u64 {
    v.sort_unstable();
    v[((v.len() - 1) as f64 * p) as usize]
}

/// Append -> tail holder latency, one entry in flight (the ack's latency is not measured).
fn tail_latency() {
    let f = RedexFile::open("lat", None, RedexFileConfig::heap()).unwrap();
    let mut tail = f.tail(0);
    let n = 100_000u64;
    let (ack_tx, ack_rx) = std::sync::mpsc::sync_channel::<Instant>(1);
    let t = std::thread::spawn(move || {
        for _ in 0..n {
            let e = tail.next_blocking().unwrap().unwrap();
            let t1 = Instant::now();
            black_box(e);
            ack_tx.send(t1).unwrap();
        }
    });
    let mut lat = Vec::with_capacity(n as usize);
    let p = [1u8; 32];
    for _ in 0..n {
        let t0 = Instant::now();
        f.append(&p).unwrap();
        let t1 = ack_rx.recv().unwrap();
        lat.push(t1.saturating_duration_since(t0).as_nanos() as u64);
    }
    t.join().unwrap();
    println!(
        "redex_tail_latency: p50 {:.2} us, p99 {:.2} us ({n} samples)",
        percentile(&mut lat, 0.5) as f64 / 1000.0,
        percentile(&mut lat, 0.99) as f64 / 1000.0
    );
}

/// `every_n(1)` with 4 concurrent appenders for 2 s: appends/s and fsyncs/s.
fn group_commit() {
    let dir = tmp("group");
    let f = RedexFile::open(
        "g",
        Some(&dir),
        RedexFileConfig::persistent(FsyncPolicy::EveryN(1)),
    )
    .unwrap();
    let stop = Arc::new(AtomicU64::new(0));
    let t0 = Instant::now();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let f = f.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let p = [5u8; 32];
                let mut n = 0u64;
                while stop.load(Ordering::Relaxed) == 0 {
                    f.append(&p).unwrap();
                    n += 1;
                }
                n
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    stop.store(1, Ordering::Relaxed);
    let appends: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    let secs = t0.elapsed().as_secs_f64();
    let fsyncs = f.stats().fsyncs;
    f.close().unwrap();
    println!(
        "redex_group_commit every_n(1) x4 appenders: {:.0} appends/s, {:.0} fsyncs/s ({} appends, {} fsync rounds)",
        appends as f64 / secs,
        fsyncs as f64 / secs,
        appends,
        fsyncs
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Thread CPU time of this thread, nanoseconds (Linux; elsewhere wall time).
fn thread_cpu_ns() -> u64 {
    #[cfg(target_os = "linux")]
    {
        let mut t = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `t` is a valid out-pointer for the duration of the call.
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
        t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
    }
    #[cfg(not(target_os = "linux"))]
    {
        net::redex::now_ns()
    }
}

/// CPU time of the whole process (all threads), nanoseconds (Linux; elsewhere wall time).
fn process_cpu_ns() -> u64 {
    #[cfg(target_os = "linux")]
    {
        let mut t = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `t` is a valid out-pointer for the duration of the call.
        unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) };
        t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
    }
    #[cfg(not(target_os = "linux"))]
    {
        net::redex::now_ns()
    }
}

/// Thread CPU time per appended entry (user + kernel, so page faults count), best of 7 runs
/// on a fresh file each: steadier than wall-clock throughput on a loaded machine, since time
/// spent waiting for a CPU is not counted.
fn append_cpu(only: Option<&str>) {
    let batch: Vec<Vec<u8>> = (0..64).map(|_| vec![3u8; 64]).collect();
    let retained = RedexFileConfig::heap()
        .with_segments(16 << 20, 1 << 18)
        .with_retention(net::redex::Retention {
            max_bytes: Some(32 << 20),
            ..Default::default()
        });
    let cases: [(&str, usize, u64, RedexFileConfig); 5] = [
        ("heap_32b", 32, 1 << 21, RedexFileConfig::heap()),
        ("heap_1k", 1024, 1 << 18, RedexFileConfig::heap()),
        ("heap_batch_64x64b", 0, 1 << 21, RedexFileConfig::heap()),
        ("heap_1k_retained", 1024, 1 << 18, retained.clone()),
        ("heap_batch_64x64b_retained", 0, 1 << 21, retained),
    ];
    for (name, len, entries, config) in cases {
        // `redex_append_cpu/heap_batch` runs only the cases whose full name contains it.
        let full = format!("redex_append_cpu/{name}");
        if only.is_some_and(|o| o.starts_with("redex_append_cpu/") && !full.contains(o)) {
            continue;
        }
        let payload = vec![7u8; len.max(1)];
        let mut best = f64::MAX;
        for _ in 0..7 {
            let f = RedexFile::open("cpu", None, config.clone()).unwrap();
            let t0 = thread_cpu_ns();
            if len == 0 {
                for _ in 0..entries / 64 {
                    black_box(f.append_batch(&batch).unwrap());
                }
            } else {
                for _ in 0..entries {
                    black_box(f.append(&payload).unwrap());
                }
            }
            let ns = (thread_cpu_ns() - t0) as f64 / entries as f64;
            best = best.min(ns);
            drop(f);
        }
        println!(
            "redex_append_cpu/{name}: {best:.1} ns CPU per entry ({:.2}M/s of CPU)",
            1000.0 / best
        );
    }
}

/// The growing 64 x 64 B batch case once more, with what the appender's thread costs set
/// against the whole process (which includes the background pre-fault worker of
/// `core/src/redex/prefault.rs`) and wall time: best of 7 fresh files each.
fn append_process_cpu() {
    let batch: Vec<Vec<u8>> = (0..64).map(|_| vec![3u8; 64]).collect();
    let entries = 1u64 << 21;
    let (mut thread, mut process, mut wall) = (f64::MAX, f64::MAX, f64::MAX);
    for _ in 0..7 {
        let f = RedexFile::open("cpu", None, RedexFileConfig::heap()).unwrap();
        let (c0, p0, t0) = (thread_cpu_ns(), process_cpu_ns(), Instant::now());
        for _ in 0..entries / 64 {
            black_box(f.append_batch(&batch).unwrap());
        }
        let per = |ns: u64| ns as f64 / entries as f64;
        wall = wall.min(per(t0.elapsed().as_nanos() as u64));
        thread = thread.min(per(thread_cpu_ns() - c0));
        process = process.min(per(process_cpu_ns() - p0));
        drop(f);
    }
    println!(
        "redex_append_process_cpu/heap_batch_64x64b: per entry {thread:.1} ns appender thread CPU, \
         {process:.1} ns process CPU, {wall:.1} ns wall ({:.2}M/s)",
        1000.0 / wall
    );
}

/// Tasks created through the fold (append + fold, until all are folded), and `find_many`
/// over 10k tasks with a status filter.
fn tasks(c: &mut Criterion) {
    use net::cortex::tasks::{TaskStatus, Tasks, TasksFilter};
    let n = 200_000u64;
    let mut best_rate = 0f64;
    let mut best_cpu = f64::MAX;
    for _ in 0..5 {
        let file = RedexFile::open("cortex/tasks", None, RedexFileConfig::heap()).unwrap();
        let t = Tasks::open(file, 1).unwrap();
        let (c0, p0) = (thread_cpu_ns(), process_cpu_ns());
        let t0 = Instant::now();
        let mut last = 0;
        for id in 0..n {
            last = t.create(id, "write the plan", id).unwrap();
        }
        let c1 = thread_cpu_ns();
        t.wait_for_seq(last, Duration::from_secs(60)).unwrap();
        let secs = t0.elapsed().as_secs_f64();
        let p1 = process_cpu_ns();
        // Honest: every create went through the fold into the state.
        assert_eq!(t.count_where(&TasksFilter::default()), n as usize);
        let rate = n as f64 / secs;
        println!(
            "cortex_tasks_create_through_fold: {rate:.0} creates/s ({n} tasks); CPU per create: \
             {:.0} ns appending thread, {:.0} ns whole process",
            (c1 - c0) as f64 / n as f64,
            (p1 - p0) as f64 / n as f64
        );
        best_rate = best_rate.max(rate);
        best_cpu = best_cpu.min((p1 - p0) as f64 / n as f64);
    }
    println!(
        "cortex_tasks_create_through_fold best of 5: {best_rate:.0} creates/s, {best_cpu:.0} ns process CPU per create"
    );

    // Read-your-writes latency: one create, then `wait_for_seq` of it, one at a time.
    let file = RedexFile::open("cortex/tasks", None, RedexFileConfig::heap()).unwrap();
    let t = Tasks::open(file, 1).unwrap();
    let mut lat = Vec::with_capacity(20_000);
    for id in 0..20_000u64 {
        let t0 = Instant::now();
        let s = t.create(id, "write the plan", id).unwrap();
        t.wait_for_seq(s, Duration::from_secs(10)).unwrap();
        lat.push(t0.elapsed().as_nanos() as u64);
    }
    assert_eq!(t.count_where(&TasksFilter::default()), 20_000);
    println!(
        "cortex_tasks_create_wait_rtt: p50 {:.2} us, p99 {:.2} us (20000 create + wait_for_seq)",
        percentile(&mut lat, 0.5) as f64 / 1000.0,
        percentile(&mut lat, 0.99) as f64 / 1000.0
    );

    let file = RedexFile::open("cortex/tasks", None, RedexFileConfig::heap()).unwrap();
    let t = Tasks::open(file, 1).unwrap();
    let mut last = 0;
    for id in 0..10_000u64 {
        last = t.create(id, "write the plan", id).unwrap();
        if id.is_multiple_of(2) {
            last = t.complete(id, id).unwrap();
        }
    }
    t.wait_for_seq(last, Duration::from_secs(60)).unwrap();
    let f = TasksFilter {
        status: Some(TaskStatus::Pending),
        ..Default::default()
    };
    c.bench_function("cortex_tasks_find_many_10k_status", |b| {
        b.iter(|| black_box(t.find_many(&f).len()))
    });
}

/// The positional filter criterion was given (e.g. `cargo bench --bench redex -- tail`), if
/// any: the directly measured parts run only when their name contains it.
fn filter() -> Option<String> {
    const TAKES_VALUE: &[&str] = &[
        "--warm-up-time",
        "--measurement-time",
        "--sample-size",
        "--profile-time",
        "--save-baseline",
        "--baseline",
        "--baseline-lenient",
        "--load-baseline",
        "--noise-threshold",
        "--significance-level",
        "--confidence-level",
        "--nresamples",
        "--output-format",
        "--color",
        "--plotting-backend",
        "--format",
    ];
    let mut args = std::env::args().skip(1);
    let mut found = None;
    while let Some(a) = args.next() {
        if TAKES_VALUE.contains(&a.as_str()) {
            args.next();
        } else if !a.starts_with('-') {
            found = Some(a);
        }
    }
    found
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let f = filter();
    let wanted = |name: &str| {
        f.as_deref()
            .is_none_or(|f| name.contains(f) || f.contains(name))
    };
    appends(&mut c);
    if wanted("redex_append_cpu") {
        append_cpu(f.as_deref());
    }
    if wanted("redex_append_process_cpu") {
        append_process_cpu();
    }
    if wanted("redex_tail_latency") {
        tail_latency();
    }
    if wanted("redex_group_commit") {
        group_commit();
    }
    if wanted("cortex_tasks") {
        tasks(&mut c);
    }
    c.final_summary();
}
