//! The drain worker's coalescing window (`drain_linger_ns`).
//!
//! When events arrive one at a time, a drain worker that pops each one as soon as it is
//! published reads and frees ring slots on the very cache lines the producer is writing next,
//! so those lines move between the two cores once per event. [`Linger`] lets a worker that
//! finds only a few events ready wait a short, bounded time (measured with the monotonic clock,
//! spinning, no sleep) so that it pops a run of events the producer has already moved past.
//!
//! Promises: a window opens only while events stream in (the shard's previous pop ended less
//! than [`STREAM_GAP`] before its next event was found ready), so an isolated event is popped
//! at once; a window ends at its deadline, as soon as [`ENOUGH`] events are ready (so a fast
//! producer never fills the ring while the worker waits), or as soon as the caller reports
//! urgency (a flush waiting, shutdown); a zero window turns the feature off. Not promised: how
//! many events a window collects.

use std::time::{Duration, Instant};

use super::ring::ShardRing;

/// Ready events that end a window (or keep one from opening): a run this long covers dozens of
/// slot and lane cache lines the producer has left. Capped at half the ring and one batch.
pub(super) const ENOUGH: usize = 64;

/// Longest gap between the end of a shard's pop and finding its next event ready for the
/// events to count as a stream. Longer gaps (one event at a time, a request and its reply)
/// never wait. Also capped by the window itself.
pub(super) const STREAM_GAP: Duration = Duration::from_micros(1);

/// Per-worker window state, one entry per shard the worker owns.
pub(super) struct Linger {
    window: Duration,
    /// [`STREAM_GAP`] capped by `window`.
    gap: Duration,
    /// `ready_at(enough - 1)` true means enough events are ready to pop without waiting.
    enough: u64,
    shards: Vec<ShardState>,
    /// `Instant::now` (a fake clock in tests).
    clock: fn() -> Instant,
}

#[derive(Clone, Copy, Default)]
struct ShardState {
    /// When the last pop of this shard that took events ended.
    last_pop: Option<Instant>,
    /// The end of the window in progress, if any.
    until: Option<Instant>,
    /// The window in `until` is over (deadline, enough events, urgency); the next pass pops.
    expired: bool,
}

impl Linger {
    /// A window of `window` (zero = off) for `shards` shards whose rings hold `capacity` slots
    /// each and whose batches hold at most `batch` events.
    pub(super) fn new(window: Duration, shards: usize, capacity: usize, batch: usize) -> Linger {
        // At most half the ring (so producers never find it full while a window is open) and
        // at most one batch; a limit of one event means there is nothing to coalesce.
        let enough = ENOUGH.min(capacity / 2).min(batch).max(1) as u64;
        let window = if enough <= 1 { Duration::ZERO } else { window };
        Linger {
            window,
            gap: STREAM_GAP.min(window),
            enough,
            shards: vec![ShardState::default(); shards],
            clock: Instant::now,
        }
    }

    /// True while shard `k` is inside an open window: the worker should not pop it yet. The
    /// window is over (false) at its deadline, when [`ENOUGH`] events are ready (one slot read,
    /// the same one on every call, so it stays in this core's cache until the producer
    /// publishes it), or when `urgent` says so. An expired window stays recorded until
    /// [`Linger::popped`], so [`Linger::open`] cannot reopen it before a pop.
    #[inline]
    pub(super) fn waiting(
        &mut self,
        k: usize,
        ring: &ShardRing,
        urgent: impl FnOnce() -> bool,
    ) -> bool {
        let st = &mut self.shards[k];
        let Some(until) = st.until else {
            return false;
        };
        if st.expired {
            return false;
        }
        if ring.ready_at(self.enough - 1) || urgent() || (self.clock)() >= until {
            st.expired = true;
            return false;
        }
        true
    }

    /// Shard `k`'s head event is ready: true opens a window (the worker should come back
    /// later), false means pop now. A window opens only while events stream in, when fewer
    /// than the "enough" count are ready, nothing is urgent, and no window of this shard is
    /// open or expired without a pop since.
    #[inline]
    pub(super) fn open(
        &mut self,
        k: usize,
        ring: &ShardRing,
        urgent: impl FnOnce() -> bool,
    ) -> bool {
        if self.window.is_zero() {
            return false;
        }
        let st = &mut self.shards[k];
        if st.until.is_some() {
            return false;
        }
        let Some(last) = st.last_pop else {
            return false;
        };
        let now = (self.clock)();
        if now.duration_since(last) >= self.gap || urgent() || ring.ready_at(self.enough - 1) {
            return false;
        }
        st.until = Some(now + self.window);
        st.expired = false;
        true
    }

    /// Records a pop attempt on shard `k` that took `n` events; it closes any window.
    #[inline]
    pub(super) fn popped(&mut self, k: usize, n: usize) {
        if self.window.is_zero() {
            return;
        }
        let st = &mut self.shards[k];
        st.until = None;
        st.expired = false;
        if n > 0 {
            st.last_pop = Some((self.clock)());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    thread_local! {
        /// The fake clock's reading: an offset from a fixed base instant.
        static NOW: Cell<Duration> = const { Cell::new(Duration::ZERO) };
        static BASE: Instant = Instant::now();
    }

    fn fake_now() -> Instant {
        BASE.with(|b| *b) + NOW.with(Cell::get)
    }

    fn advance(d: Duration) {
        NOW.with(|n| n.set(n.get() + d));
    }

    const WINDOW: Duration = Duration::from_micros(5);

    fn linger(window: Duration, capacity: usize, batch: usize) -> Linger {
        let mut l = Linger::new(window, 2, capacity, batch);
        l.clock = fake_now;
        l
    }

    fn push(ring: &ShardRing, n: usize) {
        for _ in 0..n {
            assert!(ring.push_inline(b"1").is_ok());
        }
    }

    const CALM: fn() -> bool = || false;
    const URGENT: fn() -> bool = || true;

    /// A 1024-slot ring and a [`WINDOW`] linger whose shard 0 has just popped one event, so
    /// the next event found ready counts as part of a stream.
    fn streaming() -> (ShardRing, Linger) {
        let ring = ShardRing::new(1024);
        let mut l = linger(WINDOW, 1024, 1024);
        push(&ring, 1);
        l.popped(0, ring.pop_batch(10, |_, _| {}));
        (ring, l)
    }

    #[test]
    fn an_isolated_event_is_popped_at_once() {
        let ring = ShardRing::new(1024);
        let mut l = linger(WINDOW, 1024, 1024);
        push(&ring, 1);
        assert!(!l.open(0, &ring, CALM), "no pop yet: not a stream");
        l.popped(0, ring.pop_batch(10, |_, _| {}));
        // The next event comes later than the stream gap: popped at once too.
        advance(STREAM_GAP);
        push(&ring, 1);
        assert!(!l.open(0, &ring, CALM));
        // A pop that took nothing does not count as the end of a stream's pop.
        advance(STREAM_GAP * 2);
        l.popped(0, 0);
        assert!(!l.open(0, &ring, CALM));
    }

    #[test]
    fn a_stream_waits_until_the_deadline_then_pops() {
        let (ring, mut l) = streaming();
        advance(STREAM_GAP / 2);
        push(&ring, 3);
        assert!(
            l.open(0, &ring, CALM),
            "streaming, few ready: a window opens"
        );
        assert!(!l.open(0, &ring, CALM), "one window at a time");
        assert!(!l.waiting(1, &ring, CALM), "other shards are not held");
        advance(WINDOW - Duration::from_nanos(1));
        assert!(l.waiting(0, &ring, CALM));
        advance(Duration::from_nanos(1));
        assert!(!l.waiting(0, &ring, CALM), "deadline reached");
        assert!(!l.waiting(0, &ring, CALM), "stays over");
        assert!(!l.open(0, &ring, CALM), "an expired window ends in a pop");
        assert_eq!(ring.pop_batch(100, |_, _| {}), 3);
        l.popped(0, 3);
        // The next event right after that pop opens a new window.
        push(&ring, 1);
        assert!(l.open(0, &ring, CALM));
    }

    #[test]
    fn enough_ready_events_end_or_prevent_a_window() {
        let (ring, mut l) = streaming();
        push(&ring, 1);
        assert!(l.open(0, &ring, CALM));
        push(&ring, ENOUGH - 2);
        assert!(l.waiting(0, &ring, CALM), "one short of enough");
        push(&ring, 1);
        assert!(!l.waiting(0, &ring, CALM), "enough ready: pop now");
        l.popped(0, ring.pop_batch(1024, |_, _| {}));
        push(&ring, ENOUGH);
        assert!(!l.open(0, &ring, CALM), "enough ready: no window");
    }

    #[test]
    fn urgency_ends_or_prevents_a_window() {
        let (ring, mut l) = streaming();
        push(&ring, 1);
        assert!(!l.open(0, &ring, URGENT));
        assert!(l.open(0, &ring, CALM));
        assert!(l.waiting(0, &ring, CALM));
        assert!(!l.waiting(0, &ring, URGENT), "a flush or shutdown ends it");
        assert!(!l.waiting(0, &ring, CALM));
    }

    #[test]
    fn off_small_rings_and_small_batches() {
        let ring = ShardRing::new(1024);
        // Window zero: never waits.
        let mut off = linger(Duration::ZERO, 1024, 1024);
        push(&ring, 1);
        off.popped(0, ring.pop_batch(10, |_, _| {}));
        push(&ring, 1);
        assert!(!off.open(0, &ring, CALM));
        // A two-slot ring or one-event batches leave nothing to coalesce.
        for (capacity, batch) in [(2, 1024), (1024, 1)] {
            let mut l = linger(WINDOW, capacity, batch);
            l.popped(0, 1);
            assert!(!l.open(0, &ring, CALM), "{capacity} / {batch}");
        }
        // A small ring ends windows at half its capacity.
        let small = ShardRing::new(8);
        let mut l = linger(WINDOW, 8, 1024);
        push(&small, 1);
        l.popped(0, small.pop_batch(10, |_, _| {}));
        push(&small, 3);
        assert!(l.open(0, &small, CALM));
        push(&small, 1);
        assert!(!l.waiting(0, &small, CALM), "4 of 8 slots ready");
    }
}
