//! Placement of events that carry no partition key.
//!
//! Rule: each producer thread places its unkeyed events in runs of [`RUN`] consecutive events
//! per shard, then moves on to the next shard (wrapping). Threads start on different shards
//! (the n-th thread that ever places an unkeyed event starts on shard `n % shards`), so
//! concurrent producers spread over the rings instead of all meeting on one.
//!
//! Why runs and not one shard per event: consecutive pushes into the same ring touch the same
//! tail and slot cache lines, which stay in the producer's cache; a per-event rotation makes
//! every push pull a line the drain worker last touched, and a shared round-robin counter adds
//! one contended atomic per event. Runs keep that locality and still spread a single producer's
//! events over every shard (after `RUN * shards` events).
//!
//! Promised: the placement is deterministic per thread and needs no shared atomic on the hot
//! path. Not promised: balance between shards over short spans, or any particular shard for an
//! unkeyed event (unkeyed events have no cross-event order anyway; use a key for that).

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

/// Consecutive unkeyed events a thread places on one shard before moving to the next.
pub const RUN: u64 = 32;

/// Threads that have placed an unkeyed event so far (gives each its starting shard).
static THREADS: AtomicU64 = AtomicU64::new(0);

/// `u64::MAX` = this thread has not placed an event yet.
const UNSET: u64 = u64::MAX;

thread_local! {
    /// This thread's placement counter: event number `v` goes to shard `(v / RUN) % shards`.
    static NEXT: Cell<u64> = const { Cell::new(UNSET) };
}

/// The shard (in `0..shards`) of the calling thread's next unkeyed event. `shards` must be > 0.
pub(crate) fn next_unkeyed(shards: usize) -> usize {
    let shards = shards.max(1) as u64;
    NEXT.with(|next| {
        let mut v = next.get();
        if v == UNSET {
            v = THREADS.fetch_add(1, Ordering::Relaxed).wrapping_mul(RUN);
        }
        next.set(v.wrapping_add(1));
        ((v / RUN) % shards) as usize
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shards of the next `n` unkeyed events of a fresh thread.
    fn fresh_thread(shards: usize, n: u64) -> Vec<usize> {
        std::thread::spawn(move || (0..n).map(|_| next_unkeyed(shards)).collect())
            .join()
            .unwrap()
    }

    #[test]
    fn a_thread_places_runs_and_visits_every_shard_in_turn() {
        let got = fresh_thread(4, 8 * RUN);
        let first = got[0];
        for (k, run) in got.chunks(RUN as usize).enumerate() {
            let want = (first + k) % 4;
            assert!(run.iter().all(|&s| s == want), "run {k}: {run:?}");
        }
    }

    #[test]
    fn threads_start_on_different_shards() {
        // Thread ordinals are handed out in start order, so threads placing one after the
        // other start on consecutive shards (other tests may take ordinals in between, so only
        // distinctness over a full cycle is checked).
        let starts: std::collections::HashSet<usize> =
            (0..64).map(|_| fresh_thread(64, 1)[0]).collect();
        assert!(starts.len() > 1, "all threads started on one shard");
    }

    #[test]
    fn one_shard_and_odd_counts_stay_in_range() {
        assert!(fresh_thread(1, 3 * RUN).iter().all(|&s| s == 0));
        let got = fresh_thread(3, 10 * RUN);
        assert!(got.iter().all(|&s| s < 3));
        let used: std::collections::HashSet<_> = got.into_iter().collect();
        assert_eq!(used.len(), 3);
    }
}
