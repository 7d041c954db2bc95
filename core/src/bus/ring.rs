//! `ShardRing`: a bounded, lock-free, multi-producer multi-consumer ring of events.
//!
//! This is a sequence-stamped array queue (the classic bounded MPMC design): every slot carries a
//! stamp that says whether it is ready to be written for position `p` (stamp == p) or ready to be
//! read (stamp == p + 1). Positions are claimed with one CAS on `tail` (producers) or `head`
//! (consumers), so a push or pop is wait-free in the uncontended case and never takes a lock.
//!
//! Promise: the position a push claims is unique and dense per ring, so it serves as the event's
//! per-shard sequence number, and pops return events in strictly increasing position order.
//! Not promised: fairness between racing producers.

use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_utils::CachePadded;

use crate::event::Event;

struct Slot {
    stamp: AtomicU64,
    value: UnsafeCell<MaybeUninit<Event>>,
}

/// A bounded lock-free MPMC ring whose push positions are sequence numbers.
pub struct ShardRing {
    slots: Box<[Slot]>,
    mask: u64,
    capacity: u64,
    head: CachePadded<AtomicU64>,
    tail: CachePadded<AtomicU64>,
}

// SAFETY: a slot's value is written only by the producer that claimed its position via CAS on
// `tail` (exclusive until it publishes the stamp), and read only by the consumer that claimed the
// position via CAS on `head` after observing the published stamp (Acquire/Release pairs on
// `stamp`). `Event` is Send + Sync, so moving it between threads is sound.
unsafe impl Send for ShardRing {}
// SAFETY: see above; all shared mutation goes through atomics or through exclusive slot claims.
unsafe impl Sync for ShardRing {}

impl ShardRing {
    /// A ring of `capacity` slots; `capacity` must be a power of two (validated by config).
    pub fn new(capacity: usize) -> ShardRing {
        assert!(capacity.is_power_of_two() && capacity >= 2, "ring capacity");
        let slots = (0..capacity as u64)
            .map(|i| Slot {
                stamp: AtomicU64::new(i),
                value: UnsafeCell::new(MaybeUninit::uninit()),
            })
            .collect();
        ShardRing {
            slots,
            mask: capacity as u64 - 1,
            capacity: capacity as u64,
            head: CachePadded::new(AtomicU64::new(0)),
            tail: CachePadded::new(AtomicU64::new(0)),
        }
    }

    /// Number of slots.
    pub fn capacity(&self) -> usize {
        self.capacity as usize
    }

    /// Pushes `event`, returning its position, or gives it back if the ring is full.
    pub fn push(&self, event: Event) -> Result<u64, Event> {
        let mut pos = self.tail.load(Ordering::Relaxed);
        loop {
            let slot = &self.slots[(pos & self.mask) as usize];
            let stamp = slot.stamp.load(Ordering::Acquire);
            let diff = stamp as i64 - pos as i64;
            if diff == 0 {
                // SeqCst: the drain worker's sleep protocol pairs this with its own SeqCst
                // store of `sleeping` followed by a SeqCst load of `tail` (see `drain.rs`).
                match self.tail.compare_exchange_weak(
                    pos,
                    pos + 1,
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: the CAS gave this thread exclusive ownership of the slot for
                        // position `pos`; its previous value was moved out by the consumer of
                        // position `pos - capacity` before it stamped the slot `pos`.
                        unsafe { (*slot.value.get()).write(event) };
                        slot.stamp.store(pos + 1, Ordering::Release);
                        return Ok(pos);
                    }
                    Err(actual) => pos = actual,
                }
            } else if diff < 0 {
                // The slot still holds the event from one lap ago: the ring is full.
                return Err(event);
            } else {
                pos = self.tail.load(Ordering::Relaxed);
            }
        }
    }

    /// Pushes up to `max` events taken from the front of `events` into consecutive positions
    /// claimed with a single CAS on the tail. Takes as many as fit right now (possibly fewer
    /// than `max` when the ring is nearly full or a consumer is still freeing slots) and
    /// returns the first position and how many were pushed; `(_, 0)` means the ring was full
    /// (nothing was taken from `events`).
    ///
    /// A `vec::IntoIter` (whose length is exact) is the source, so every claimed slot is
    /// filled: a claimed but never written position would stall consumers forever.
    pub fn push_batch(&self, events: &mut std::vec::IntoIter<Event>, max: usize) -> (u64, usize) {
        let want = max.min(events.len()).min(self.capacity as usize) as u64;
        let mut pos = self.tail.load(Ordering::Relaxed);
        if want == 0 {
            return (pos, 0);
        }
        loop {
            // Count the slots from `pos` that are free for exactly their position. A slot only
            // ever moves towards free (a consumer stamps it `p` when it empties it), and only
            // the producer that claims position `p` stamps it `p + 1`, so the count stays
            // valid while `tail` is still `pos`, which the CAS below checks.
            let mut n = 0u64;
            while n < want {
                let slot = &self.slots[((pos + n) & self.mask) as usize];
                if slot.stamp.load(Ordering::Acquire) != pos + n {
                    break;
                }
                n += 1;
            }
            if n == 0 {
                let stamp = self.slots[(pos & self.mask) as usize]
                    .stamp
                    .load(Ordering::Acquire);
                if (stamp as i64 - pos as i64) < 0 {
                    // The slot still holds the event from one lap ago: the ring is full.
                    return (pos, 0);
                }
                pos = self.tail.load(Ordering::Relaxed);
                continue;
            }
            // SeqCst for the drain worker's sleep protocol, as in `push`.
            match self
                .tail
                .compare_exchange(pos, pos + n, Ordering::SeqCst, Ordering::Relaxed)
            {
                Ok(_) => {
                    for p in pos..pos + n {
                        let Some(event) = events.next() else {
                            // Unreachable: `n <= events.len()` and a vec iterator's length is
                            // exact. Stamping the slot as if consumed would corrupt positions,
                            // so stop here loudly rather than leave a silent hole.
                            unreachable!("push_batch: source shorter than its length");
                        };
                        let slot = &self.slots[(p & self.mask) as usize];
                        // SAFETY: the CAS from `pos` gave this thread exclusive ownership of
                        // positions `pos..pos + n`; each slot was stamped free for its
                        // position (its previous value was moved out by its consumer).
                        unsafe { (*slot.value.get()).write(event) };
                        slot.stamp.store(p + 1, Ordering::Release);
                    }
                    return (pos, n as usize);
                }
                Err(actual) => pos = actual,
            }
        }
    }

    /// Pops the oldest event with its position, or `None` if no published event is waiting.
    pub fn pop(&self) -> Option<(u64, Event)> {
        let mut pos = self.head.load(Ordering::Relaxed);
        loop {
            let slot = &self.slots[(pos & self.mask) as usize];
            let stamp = slot.stamp.load(Ordering::Acquire);
            let diff = stamp as i64 - (pos + 1) as i64;
            if diff == 0 {
                match self.head.compare_exchange_weak(
                    pos,
                    pos + 1,
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        // SAFETY: the stamp `pos + 1` (Acquire) proves the producer finished
                        // writing, and the CAS gave this thread exclusive read ownership.
                        let event = unsafe { (*slot.value.get()).assume_init_read() };
                        slot.stamp.store(pos + self.capacity, Ordering::Release);
                        return Some((pos, event));
                    }
                    Err(actual) => pos = actual,
                }
            } else if diff < 0 {
                return None;
            } else {
                pos = self.head.load(Ordering::Relaxed);
            }
        }
    }

    /// Pops up to `max` consecutive published events with a single CAS, handing each to `sink`
    /// in position order; returns how many were popped.
    pub fn pop_batch(&self, max: usize, mut sink: impl FnMut(u64, Event)) -> usize {
        let max = max.min(self.capacity as usize) as u64;
        let mut pos = self.head.load(Ordering::Relaxed);
        loop {
            let mut n = 0u64;
            while n < max {
                let slot = &self.slots[((pos + n) & self.mask) as usize];
                if slot.stamp.load(Ordering::Acquire) != pos + n + 1 {
                    break;
                }
                n += 1;
            }
            if n == 0 {
                let now = self.head.load(Ordering::Relaxed);
                if now == pos {
                    return 0;
                }
                pos = now;
                continue;
            }
            match self
                .head
                .compare_exchange(pos, pos + n, Ordering::SeqCst, Ordering::Relaxed)
            {
                Ok(_) => {
                    for p in pos..pos + n {
                        let slot = &self.slots[(p & self.mask) as usize];
                        // SAFETY: each stamp was `p + 1` (Acquire) before the CAS, so its producer
                        // finished writing; the successful CAS from `pos` proves no other consumer
                        // claimed any position in `pos..pos + n`, so this thread owns them all.
                        let event = unsafe { (*slot.value.get()).assume_init_read() };
                        slot.stamp.store(p + self.capacity, Ordering::Release);
                        sink(p, event);
                    }
                    return n as usize;
                }
                Err(actual) => pos = actual,
            }
        }
    }

    /// Positions claimed so far (= events ever accepted into this ring).
    pub fn tail(&self) -> u64 {
        self.tail.load(Ordering::SeqCst)
    }

    /// Positions consumed so far.
    pub fn head(&self) -> u64 {
        self.head.load(Ordering::SeqCst)
    }

    /// Approximate number of events waiting.
    pub fn len(&self) -> usize {
        let tail = self.tail.load(Ordering::Acquire);
        let head = self.head.load(Ordering::Acquire);
        tail.saturating_sub(head) as usize
    }

    /// True if no event is waiting (approximate under concurrency).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for ShardRing {
    fn drop(&mut self) {
        while self.pop().is_some() {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn ev(i: u64) -> Event {
        Event::from_str(&i.to_string()).unwrap()
    }

    #[test]
    fn fifo_positions_and_full() {
        let r = ShardRing::new(4);
        for i in 0..4 {
            assert_eq!(r.push(ev(i)).unwrap(), i);
        }
        assert!(r.push(ev(9)).is_err());
        assert_eq!(r.pop().unwrap().0, 0);
        assert_eq!(r.push(ev(4)).unwrap(), 4);
        assert_eq!(r.pop().unwrap().0, 1);
        let mut got = Vec::new();
        assert_eq!(r.pop_batch(10, |p, _| got.push(p)), 3);
        assert_eq!(got, vec![2, 3, 4]);
        assert!(r.pop().is_none());
        assert_eq!(r.pop_batch(10, |_, _| unreachable!()), 0);
    }

    fn evs(range: std::ops::Range<u64>) -> std::vec::IntoIter<Event> {
        range.map(ev).collect::<Vec<_>>().into_iter()
    }

    #[test]
    fn push_batch_claims_what_fits_in_order() {
        let r = ShardRing::new(8);
        let mut src = evs(0..5);
        assert_eq!(r.push_batch(&mut src, 3), (0, 3));
        assert_eq!(src.len(), 2);
        assert_eq!(r.push_batch(&mut src, 10), (3, 2));
        assert_eq!(src.len(), 0);
        assert_eq!(r.push_batch(&mut src, 10), (5, 0));
        // Three slots left: a batch of five takes three, then the ring is full.
        let mut src = evs(5..10);
        assert_eq!(r.push_batch(&mut src, 5), (5, 3));
        assert_eq!(r.push_batch(&mut src, 5), (8, 0));
        assert_eq!(src.len(), 2);
        let mut got = Vec::new();
        r.pop_batch(3, |p, e| got.push((p, e.as_str().parse::<u64>().unwrap())));
        assert_eq!(got, vec![(0, 0), (1, 1), (2, 2)]);
        assert_eq!(r.push_batch(&mut src, 5), (8, 2));
        assert_eq!(r.push(ev(99)), Ok(10));
        assert!(r.push(ev(100)).is_err());
        let mut got = Vec::new();
        r.pop_batch(100, |p, e| {
            got.push((p, e.as_str().parse::<u64>().unwrap()))
        });
        let want: Vec<(u64, u64)> = (3..10).map(|i| (i, i)).chain([(10, 99)]).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn batch_producers_and_consumers_lose_nothing() {
        let r = Arc::new(ShardRing::new(64));
        let per = 20_000u64;
        let producers: Vec<_> = (0..3)
            .map(|t| {
                let r = r.clone();
                std::thread::spawn(move || {
                    let mut next = t * per;
                    let end = (t + 1) * per;
                    while next < end {
                        let chunk = (next..(next + 1 + next % 37).min(end)).collect::<Vec<_>>();
                        let mut src = chunk.into_iter().map(ev).collect::<Vec<_>>().into_iter();
                        while src.len() > 0 {
                            let (_, k) = r.push_batch(&mut src, 16);
                            next += k as u64;
                            if k == 0 {
                                std::thread::yield_now();
                            }
                        }
                    }
                })
            })
            .collect();
        let mut seen = Vec::new();
        let mut last = None;
        while (seen.len() as u64) < 3 * per {
            let n = r.pop_batch(10, |p, e| {
                assert!(last.is_none_or(|l| p == l + 1), "dense positions");
                last = Some(p);
                seen.push(e.as_str().parse::<u64>().unwrap());
            });
            if n == 0 {
                std::thread::yield_now();
            }
        }
        for p in producers {
            p.join().unwrap();
        }
        // Each producer's events arrive in its own order.
        for t in 0..3 {
            let mine: Vec<u64> = seen.iter().copied().filter(|v| v / per == t).collect();
            assert_eq!(mine, (t * per..(t + 1) * per).collect::<Vec<_>>());
        }
    }

    #[test]
    fn concurrent_producers_and_consumers_lose_nothing() {
        let r = Arc::new(ShardRing::new(64));
        let per = 20_000u64;
        let producers: Vec<_> = (0..4)
            .map(|t| {
                let r = r.clone();
                std::thread::spawn(move || {
                    for i in 0..per {
                        let mut e = ev(t * per + i);
                        loop {
                            match r.push(e) {
                                Ok(_) => break,
                                Err(back) => {
                                    e = back;
                                    std::thread::yield_now();
                                }
                            }
                        }
                    }
                })
            })
            .collect();
        let taken = Arc::new(AtomicU64::new(0));
        let consumers: Vec<_> = (0..2)
            .map(|c| {
                let r = r.clone();
                let taken = taken.clone();
                std::thread::spawn(move || {
                    let mut seen = Vec::new();
                    let mut last = None;
                    while taken.load(Ordering::SeqCst) < 4 * per {
                        if c == 1 {
                            let mut batch = Vec::new();
                            let n = r.pop_batch(7, |p, e| batch.push((p, e)));
                            taken.fetch_add(n as u64, Ordering::SeqCst);
                            for (pos, e) in batch {
                                assert!(last.is_none_or(|l| pos > l));
                                last = Some(pos);
                                seen.push(e.as_str().parse::<u64>().unwrap());
                            }
                            if n == 0 {
                                std::thread::yield_now();
                            }
                        } else if let Some((pos, e)) = r.pop() {
                            taken.fetch_add(1, Ordering::SeqCst);
                            assert!(
                                last.is_none_or(|l| pos > l),
                                "positions increase per consumer"
                            );
                            last = Some(pos);
                            seen.push(e.as_str().parse::<u64>().unwrap());
                        } else {
                            std::thread::yield_now();
                        }
                    }
                    seen
                })
            })
            .collect();
        for p in producers {
            p.join().unwrap();
        }
        let mut all: Vec<u64> = consumers
            .into_iter()
            .flat_map(|c| c.join().unwrap())
            .collect();
        all.sort_unstable();
        assert_eq!(all, (0..4 * per).collect::<Vec<_>>());
    }
}
