//! How application threads wait for the I/O thread: a change signal with a short, bounded
//! spin before parking.
//!
//! Every change to the endpoint that a waiter may care about (datagrams handled, timers
//! fired, shutdown) goes through [`Signal::notify`], which bumps a generation counter and
//! wakes parked waiters. [`Signal::wait_until`] first watches that counter for up to `spin`
//! without the endpoint lock (yielding the CPU between looks, so a spinning thread never keeps
//! the thread it waits for off a busy core), then parks on the condition variable. On this
//! project's 2-vCPU virtual machines a parked thread costs a wake-up through the hypervisor
//! (several microseconds, more when the other vCPU is idle and halted); a waiter that sees the
//! change while spinning skips it. That is what keeps one mesh round trip (four hand-overs
//! between threads) short.
//!
//! Promises: no lost wake-ups (the generation is read and bumped under the endpoint lock), the
//! lock is held again when `wait_until` returns, and the wait never outlasts its deadline by
//! more than one scheduler slice. Not promised: fairness among waiters, or that spinning pays
//! off when the change takes longer than `spin` (the CPU spent spinning is then wasted).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, MutexGuard};

/// Looks at the generation counter this many times between clock reads and yields.
const LOOKS_PER_ROUND: u32 = 32;

/// A "the endpoint changed" signal: generation counter plus condition variable.
#[derive(Debug, Default)]
pub(super) struct Signal {
    generation: AtomicU64,
    parked: Condvar,
}

impl Signal {
    /// Records a change and wakes every parked waiter. Call with the endpoint lock held.
    pub(super) fn notify(&self) {
        self.generation.fetch_add(1, Ordering::Release);
        self.parked.notify_all();
    }

    /// Waits, with `guard` locked on entry and on return, until [`notify`](Self::notify) is
    /// called or `deadline` passes: first up to `spin` watching the generation with the lock
    /// released, then parked. Returns true if the deadline passed without a change.
    pub(super) fn wait_until<T>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        deadline: Instant,
        spin: Duration,
    ) -> bool {
        // Read under the lock: a notify after this point changes the value we compare with.
        let seen = self.generation.load(Ordering::Acquire);
        if !spin.is_zero() {
            let spin_end = deadline.min(Instant::now() + spin);
            let changed = MutexGuard::unlocked(guard, || self.spin_until(seen, spin_end));
            if changed {
                return false;
            }
        }
        // The lock is held again: a change made while we spun is visible now, and any later
        // one is notified after we park.
        if self.generation.load(Ordering::Acquire) != seen {
            return false;
        }
        self.parked.wait_until(guard, deadline).timed_out()
    }

    /// Watches the generation until it differs from `seen` (true) or `until` passes (false).
    fn spin_until(&self, seen: u64, until: Instant) -> bool {
        loop {
            for _ in 0..LOOKS_PER_ROUND {
                if self.generation.load(Ordering::Acquire) != seen {
                    return true;
                }
                std::hint::spin_loop();
            }
            if Instant::now() >= until {
                return false;
            }
            std::thread::yield_now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parking_lot::Mutex;
    use std::sync::Arc;

    /// A notify from another thread ends the wait, whether it lands during the spin or after
    /// the waiter parked; without one the wait times out at its deadline.
    #[test]
    fn notify_ends_spin_and_park_and_silence_times_out() {
        let shared = Arc::new((Mutex::new(0u32), Signal::default()));
        for (spin_ms, notify_after_ms) in [(200u64, 5u64), (0, 5), (5, 60)] {
            let other = Arc::clone(&shared);
            let notifier = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(notify_after_ms));
                let mut v = other.0.lock();
                *v += 1;
                other.1.notify();
            });
            let start = Instant::now();
            let mut guard = shared.0.lock();
            let before = *guard;
            let deadline = start + Duration::from_secs(5);
            let mut timed_out = false;
            while *guard == before && !timed_out {
                timed_out =
                    shared
                        .1
                        .wait_until(&mut guard, deadline, Duration::from_millis(spin_ms));
            }
            drop(guard);
            assert!(
                !timed_out,
                "spin {spin_ms} ms, notify after {notify_after_ms} ms"
            );
            assert!(start.elapsed() < Duration::from_secs(4));
            notifier.join().expect("notifier thread");
        }
        let mut guard = shared.0.lock();
        let start = Instant::now();
        let timed_out = shared.1.wait_until(
            &mut guard,
            start + Duration::from_millis(30),
            Duration::from_millis(10),
        );
        assert!(timed_out);
        assert!(start.elapsed() >= Duration::from_millis(30));
    }
}
