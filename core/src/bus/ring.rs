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
