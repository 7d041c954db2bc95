//! Pre-faulting of growing big segment buffers (`core/src/redex/prefault.rs`): many files
//! growing at once on several threads, files dropped while their requests are queued, and the
//! `set_prefault_ahead` knob. Contents must be exactly what was appended either way.

use std::sync::Mutex;

use net::redex::{RedexFile, RedexFileConfig, prefault_stats, set_prefault_ahead};

/// The tests here read and set process-wide pre-fault state: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn payload(file: u64, seq: u64) -> Vec<u8> {
    let len = 40 + (seq.wrapping_mul(0x9E37_79B9) >> 9) % 300;
    (0..len)
        .map(|i| (seq as u8) ^ (file as u8).rotate_left(5) ^ (i as u8).wrapping_mul(31))
        .collect()
}

/// Appends batches to a fresh heap file until it holds about `bytes` payload bytes (6 MiB
/// segments, so buffers go big, roll, and the next segment starts reserved).
fn grow(file: u64, bytes: u64) -> (RedexFile, u64) {
    let f = RedexFile::open(
        &format!("pf{file}"),
        None,
        RedexFileConfig::heap().with_segments(6 << 20, 1 << 20),
    )
    .unwrap();
    let (mut seq, mut total) = (0u64, 0u64);
    while total < bytes {
        let batch: Vec<Vec<u8>> = (seq..seq + 64).map(|s| payload(file, s)).collect();
        total += batch.iter().map(|p| p.len() as u64).sum::<u64>();
        assert_eq!(f.append_batch(&batch).unwrap(), Some(seq));
        seq += 64;
    }
    (f, seq)
}

fn check(f: &RedexFile, file: u64, n: u64) {
    let mut next = 0u64;
    f.visit_from(0, usize::MAX, |seq, _, p| {
        assert_eq!(seq, next);
        assert_eq!(p, &payload(file, seq)[..], "file {file} seq {seq}");
        next += 1;
    });
    assert_eq!(next, n, "file {file}");
}

#[test]
fn many_files_growing_at_once_keep_their_contents() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let before = prefault_stats();
    let threads: Vec<_> = (0..6u64)
        .map(|t| {
            std::thread::spawn(move || {
                for k in 0..4u64 {
                    let id = t * 16 + k;
                    if k % 2 == 1 {
                        // Dropped just after crossing into new units: its requests are
                        // likely still queued or in flight.
                        let (f, _) = grow(id, (3 << 20) + (k << 20));
                        drop(f);
                    } else {
                        let (f, n) = grow(id, 14 << 20);
                        check(&f, id, n);
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let after = prefault_stats();
    assert!(
        after.requests + after.skipped > before.requests + before.skipped || after.unsupported,
        "growing big buffers asked for pre-faulting: {before:?} -> {after:?}"
    );
    if !after.unsupported {
        // Requests are served in the background by an idle-priority worker (slow to get a
        // core on a saturated machine); wait for at least one populate.
        let t0 = std::time::Instant::now();
        while prefault_stats().units_populated == before.units_populated
            && t0.elapsed().as_secs() < 30
        {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(prefault_stats().units_populated > before.units_populated);
    }
}

#[test]
fn zero_ahead_turns_requests_off_and_changes_nothing_else() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    set_prefault_ahead(0);
    assert_eq!(net::redex::prefault_ahead(), 0);
    let before = prefault_stats();
    let (f, n) = grow(900, 9 << 20);
    let after = prefault_stats();
    set_prefault_ahead(2);
    assert_eq!(
        (after.requests, after.skipped),
        (before.requests, before.skipped),
        "no requests with pre-faulting off"
    );
    check(&f, 900, n);
    // Turned back on, a growing file asks again (unless the kernel refused it).
    let before = prefault_stats();
    let (g, m) = grow(901, 9 << 20);
    let after = prefault_stats();
    assert!(after.unsupported || after.requests + after.skipped > before.requests + before.skipped);
    check(&g, 901, m);
    // Shown with `--nocapture`: under valgrind, which may not pass the advice on, this tells
    // whether the fallback (no pre-faulting) was taken.
    println!("prefault stats: {:?}", prefault_stats());
}
