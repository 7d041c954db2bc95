//! `ShardRing`: a bounded, lock-free, multi-producer multi-consumer ring of events.
//!
//! This is a sequence-stamped array queue (the classic bounded MPMC design): every slot carries a
//! stamp that says whether it is ready to be written for position `p` (stamp == p) or ready to be
//! read (stamp == p + 1). Positions are claimed with one CAS on `tail` (producers) or `head`
//! (consumers), so a push or pop is wait-free in the uncontended case and never takes a lock.
//!
//! A slot (48 bytes) holds either a shared [`Event`] buffer or the length of a small event
//! (at most [`INLINE_MAX`] bytes, pushed with [`ShardRing::push_inline`]) whose bytes sit in
//! the position's *lane* entry, a parallel array of 128-byte entries: ingesting a small raw
//! event then needs no heap allocation on the producer's thread (the drain worker gathers the
//! inline events of a batch into one buffer, see `drain.rs`). Lane memory is reserved with the
//! ring but only touched by inline pushes.
//!
//! Promise: the position a push claims is unique and dense per ring, so it serves as the event's
//! per-shard sequence number, and pops return events in strictly increasing position order.
//! Not promised: fairness between racing producers.

use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};

use crossbeam_utils::CachePadded;

use crate::event::Event;

/// Largest event (in bytes) the ring stores inline instead of behind a heap buffer.
pub const INLINE_MAX: usize = 128;

/// Bit of `tail` that [`ShardRing::close`] sets: no push succeeds afterwards.
const CLOSED: u64 = 1 << 63;

/// How many positions ahead of its own an inline push prefetches (for writing) the slot and
/// lane lines of: by the time a producer reaches that position, the lines are in its cache.
const PREFETCH_AHEAD: usize = 16;

/// Asks the CPU to bring the cache line at `p` into this core's cache in a writable state.
/// A hint only: it never faults and changes no memory.
#[inline(always)]
fn prefetch_write(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: PREFETCHW is a hint with no architectural effect on memory or registers (it does
    // not fault, even on an invalid address); CPUs without it decode it as a no-op.
    unsafe {
        std::arch::asm!("prefetchw [{p}]", p = in(reg) p, options(nostack, preserves_flags, readonly));
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Why a push did not take its value (which it gives back).
pub(crate) enum PushError<T> {
    /// Every slot holds an event not yet popped.
    Full(T),
    /// [`ShardRing::close`] was called.
    Closed(T),
}

impl<T> PushError<T> {
    /// The value the push gave back.
    pub(crate) fn into_inner(self) -> T {
        match self {
            PushError::Full(v) | PushError::Closed(v) => v,
        }
    }
}

/// `Slot::len` of a slot that holds a shared [`Event`].
const SHARED: u16 = u16::MAX;

/// `repr(C)`: the length word sits right after the stamp, in the same cache line, so a
/// consumer learns what a slot holds while it scans the stamps; a slot is 48 bytes.
#[repr(C)]
struct Slot {
    stamp: AtomicU64,
    /// [`SHARED`] (then `shared` holds an event), or the number of bytes of the position's
    /// lane entry that hold an inline event. Written (Relaxed) by the producer before it
    /// publishes the stamp (Release); atomic because a consumer may read it before its claim
    /// of the position is confirmed (it discards the value if the claim fails).
    len: AtomicU16,
    shared: UnsafeCell<MaybeUninit<Event>>,
}

/// The inline bytes of one position, on cache lines of their own. Only inline pushes touch a
/// lane, so a ring fed only shared events never faults its lane pages in.
#[repr(C, align(64))]
struct Lane(UnsafeCell<MaybeUninit<[u8; INLINE_MAX]>>);

const _: () = assert!(std::mem::size_of::<Slot>() == 48);
const _: () = assert!(INLINE_MAX < SHARED as usize);

/// One popped event as the ring hands it out: its own buffer, or bytes borrowed from its lane
/// entry (valid only during the sink call that receives them).
pub(crate) enum Item<'a> {
    /// An event with its own (reference-counted) buffer.
    Shared(Event),
    /// A small event stored in the ring (validated as JSON by its producer).
    Inline(&'a [u8]),
}

impl Item<'_> {
    /// The item as an [`Event`] (copies inline bytes into a buffer of their own).
    pub(crate) fn into_event(self) -> Event {
        match self {
            Item::Shared(e) => e,
            Item::Inline(raw) => Event::from_validated(bytes::Bytes::copy_from_slice(raw)),
        }
    }
}

/// Where [`ShardRing::pop_batch_items`] puts a run of popped events.
pub(crate) trait PopSink {
    /// Called first: how many events were claimed and the total bytes of the inline ones (so
    /// the sink can size one buffer for them).
    fn run(&mut self, count: usize, inline_bytes: usize);
    /// Then once per event, in position order: an event with its own buffer...
    fn shared(&mut self, pos: u64, event: Event);
    /// ...or the bytes of an inline event, borrowed from the ring for this call only.
    fn inline(&mut self, pos: u64, raw: &[u8]);
}

/// A bounded lock-free MPMC ring whose push positions are sequence numbers.
pub struct ShardRing {
    slots: Box<[Slot]>,
    lanes: Box<[Lane]>,
    mask: u64,
    capacity: u64,
    head: CachePadded<AtomicU64>,
    tail: CachePadded<AtomicU64>,
}

// SAFETY: a slot's event and lane entry are written only by the producer that claimed its position via CAS on
// `tail` (exclusive until it publishes the stamp), and read only by the consumer that claimed the
// position via CAS on `head` after observing the published stamp (Acquire/Release pairs on
// `stamp`). `Event` is Send + Sync and inline bytes are plain data, so moving them between
// threads is sound.
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
                len: AtomicU16::new(0),
                shared: UnsafeCell::new(MaybeUninit::uninit()),
            })
            .collect();
        // SAFETY: a `Lane` is an `UnsafeCell<MaybeUninit<_>>`, for which uninitialized memory
        // is a valid value; not writing it leaves its pages untouched until an inline push.
        let lanes = unsafe { Box::<[Lane]>::new_uninit_slice(capacity).assume_init() };
        ShardRing {
            slots,
            lanes,
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
        self.try_push(event).map_err(PushError::into_inner)
    }

    /// [`ShardRing::push`] telling a full ring from a closed one.
    pub(crate) fn try_push(&self, event: Event) -> Result<u64, PushError<Event>> {
        self.push_with(event, |event, slot, _| write_shared(event, slot))
    }

    /// Makes every later push fail with [`PushError::Closed`] (and `push_batch` take nothing).
    /// A push that claimed its position before this call still completes, and pops still work,
    /// so whoever drains the ring after closing it sees every accepted event.
    pub(crate) fn close(&self) {
        self.tail.fetch_or(CLOSED, Ordering::SeqCst);
    }

    /// True once [`ShardRing::close`] was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.tail.load(Ordering::SeqCst) & CLOSED != 0
    }

    /// Pushes a copy of `raw` into the ring's own memory (no heap allocation). `raw` must be
    /// valid JSON (the caller validated it). Gives `raw` back when the ring is full or closed;
    /// a `raw` longer than [`INLINE_MAX`] is given back as `Full` (the caller's full path,
    /// which works on events with their own buffer, then takes it).
    pub(crate) fn push_inline<'a>(&self, raw: &'a [u8]) -> Result<u64, PushError<&'a [u8]>> {
        if raw.len() > INLINE_MAX {
            return Err(PushError::Full(raw));
        }
        self.push_with(raw, |raw, slot, idx| {
            let lane = &self.lanes[idx];
            // SAFETY: `raw.len() <= INLINE_MAX` (checked above), so the copy stays inside the
            // lane entry, which belongs to the claimed position; source and destination cannot
            // overlap.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    raw.as_ptr(),
                    (*lane.0.get()).as_mut_ptr().cast::<u8>(),
                    raw.len(),
                );
            }
            slot.len.store(raw.len() as u16, Ordering::Relaxed);
            let ahead = (idx + PREFETCH_AHEAD) & self.mask as usize;
            prefetch_write(self.slots[ahead].stamp.as_ptr().cast());
            prefetch_write(self.lanes[ahead].0.get().cast());
        })
    }

    /// Claims the next position and lets `write` fill its slot with `value`; gives `value`
    /// back when the ring is full.
    #[inline(always)]
    fn push_with<T>(
        &self,
        value: T,
        write: impl FnOnce(T, &Slot, usize),
    ) -> Result<u64, PushError<T>> {
        let mut pos = self.tail.load(Ordering::Relaxed);
        loop {
            if pos & CLOSED != 0 {
                return Err(PushError::Closed(value));
            }
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
                        // The CAS gave this thread exclusive ownership of the slot (and lane
                        // entry) for position `pos`, which `write` relies on; its previous value
                        // was taken by the consumer of position `pos - capacity` before it
                        // stamped the slot `pos`.
                        let idx = (pos & self.mask) as usize;
                        write(value, slot, idx);
                        slot.stamp.store(pos + 1, Ordering::Release);
                        return Ok(pos);
                    }
                    Err(actual) => pos = actual,
                }
            } else if diff < 0 {
                // The slot still holds the event from one lap ago: the ring is full.
                return Err(PushError::Full(value));
            } else {
                pos = self.tail.load(Ordering::Relaxed);
            }
        }
    }

    /// Pushes up to `max` events taken from the front of `events` into consecutive positions
    /// claimed with a single CAS on the tail. Takes as many as fit right now (possibly fewer
    /// than `max` when the ring is nearly full or a consumer is still freeing slots) and
    /// returns the first position and how many were pushed; `(_, 0)` means the ring was full
    /// or closed (nothing was taken from `events`).
    ///
    /// A `vec::IntoIter` (whose length is exact) is the source, so every claimed slot is
    /// filled: a claimed but never written position would stall consumers forever.
    pub fn push_batch(&self, events: &mut std::vec::IntoIter<Event>, max: usize) -> (u64, usize) {
        let want = max.min(events.len()).min(self.capacity as usize) as u64;
        let mut pos = self.tail.load(Ordering::Relaxed);
        loop {
            if want == 0 || pos & CLOSED != 0 {
                return (pos & !CLOSED, 0);
            }
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
                        // position (its previous value was taken by its consumer).
                        write_shared(event, slot);
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
                        // writing, and the CAS gave this thread exclusive read ownership; the
                        // value is taken once, before the slot is stamped free.
                        let idx = (pos & self.mask) as usize;
                        let event = unsafe { take(slot, &self.lanes[idx]) }.into_event();
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
    pub fn pop_batch(&self, max: usize, sink: impl FnMut(u64, Event)) -> usize {
        struct Convert<F>(F);
        impl<F: FnMut(u64, Event)> PopSink for Convert<F> {
            fn run(&mut self, _: usize, _: usize) {}
            fn shared(&mut self, pos: u64, event: Event) {
                (self.0)(pos, event);
            }
            fn inline(&mut self, pos: u64, raw: &[u8]) {
                (self.0)(pos, Item::Inline(raw).into_event());
            }
        }
        self.pop_batch_items(max, &mut Convert(sink))
    }

    /// [`ShardRing::pop_batch`] without converting inline events: `sink` first learns the
    /// run's size ([`PopSink::run`]), then gets each event in position order (inline bytes
    /// are borrowed from the ring for the duration of that call).
    pub(crate) fn pop_batch_items(&self, max: usize, sink: &mut impl PopSink) -> usize {
        let max = max.min(self.capacity as usize) as u64;
        let mut pos = self.head.load(Ordering::Relaxed);
        loop {
            let mut n = 0u64;
            // Summed while scanning (the length word shares the stamp's cache line). Only
            // meaningful if the CAS below succeeds: then no other consumer took any of these
            // positions, so each length read after its published stamp is that position's.
            let mut inline_bytes = 0;
            while n < max {
                let slot = &self.slots[((pos + n) & self.mask) as usize];
                if slot.stamp.load(Ordering::Acquire) != pos + n + 1 {
                    break;
                }
                let len = slot.len.load(Ordering::Relaxed);
                if len != SHARED {
                    inline_bytes += len as usize;
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
                    // Each stamp was `p + 1` (Acquire) before the CAS, so its producer finished
                    // writing; the successful CAS from `pos` proves no other consumer claimed
                    // any position in `pos..pos + n`, so this thread owns them all until it
                    // stamps them free.
                    sink.run(n as usize, inline_bytes);
                    for p in pos..pos + n {
                        let slot = &self.slots[(p & self.mask) as usize];
                        // SAFETY: the slot is owned (above) and holds a pushed value, taken
                        // exactly once here; the borrowed inline bytes live until `sink`
                        // returns, and only then is the slot stamped free for the next lap.
                        let idx = (p & self.mask) as usize;
                        match unsafe { take(slot, &self.lanes[idx]) } {
                            Item::Shared(event) => sink.shared(p, event),
                            Item::Inline(raw) => sink.inline(p, raw),
                        }
                        slot.stamp.store(p + self.capacity, Ordering::Release);
                    }
                    return n as usize;
                }
                Err(actual) => pos = actual,
            }
        }
    }

    /// Positions claimed so far (= events ever accepted into this ring).
    pub fn tail(&self) -> u64 {
        self.tail.load(Ordering::SeqCst) & !CLOSED
    }

    /// Positions consumed so far.
    pub fn head(&self) -> u64 {
        self.head.load(Ordering::SeqCst)
    }

    /// Approximate number of events waiting.
    pub fn len(&self) -> usize {
        let tail = self.tail.load(Ordering::Acquire) & !CLOSED;
        let head = self.head.load(Ordering::Acquire);
        tail.saturating_sub(head) as usize
    }

    /// True if no event is waiting (approximate under concurrency).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True if the event at the head position is published, so a pop would take at least
    /// one event right now (approximate under concurrency, like [`ShardRing::is_empty`]).
    ///
    /// Unlike [`ShardRing::is_empty`] it does not read `tail`: a consumer polling for work
    /// with this check reads only `head` and the one slot it would pop next, so it does not
    /// pull the tail's cache line away from producers between two of their pushes.
    pub(crate) fn has_ready(&self) -> bool {
        self.ready_at(0)
    }

    /// True if the event `ahead` positions after the head is published (so, with a single
    /// consumer, at least `ahead + 1` events are ready). Reads `head` and that one slot only;
    /// approximate under concurrency like [`ShardRing::has_ready`]. `ahead` must be less than
    /// the capacity (a larger one would read a slot of the previous lap).
    pub(crate) fn ready_at(&self, ahead: u64) -> bool {
        let pos = self.head.load(Ordering::Relaxed) + ahead;
        let slot = &self.slots[(pos & self.mask) as usize];
        slot.stamp.load(Ordering::Acquire) == pos + 1
    }
}

/// Stores a shared event in a slot. The caller must own the slot's position (claimed by CAS
/// on `tail`, not yet published).
fn write_shared(event: Event, slot: &Slot) {
    // SAFETY: the caller owns the position, so nothing else reads or writes `shared` until the
    // stamp is published; the previous value was taken by its consumer.
    unsafe { (*slot.shared.get()).write(event) };
    slot.len.store(SHARED, Ordering::Relaxed);
}

/// Moves a slot's value out as an [`Item`] (inline bytes borrowed from its lane entry).
///
/// # Safety
/// The caller must own the slot's position (claimed by CAS on `head` after seeing its stamp
/// published), `lane` must be the position's lane entry, and the value must be taken exactly
/// once before the slot is stamped free; the returned bytes must not outlive that stamp.
unsafe fn take<'a>(slot: &Slot, lane: &'a Lane) -> Item<'a> {
    let len = slot.len.load(Ordering::Relaxed);
    if len == SHARED {
        // SAFETY: the caller owns the slot and `len == SHARED` means a push wrote `shared`
        // (published by the stamp the caller acquired); it is taken once.
        Item::Shared(unsafe { (*slot.shared.get()).assume_init_read() })
    } else {
        // SAFETY: the push that set `len` wrote the first `len <= INLINE_MAX` bytes of the
        // lane entry; nothing writes the entry again before the slot is stamped free.
        Item::Inline(unsafe {
            std::slice::from_raw_parts((*lane.0.get()).as_ptr().cast::<u8>(), len as usize)
        })
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
    fn has_ready_follows_the_head_slot() {
        let r = ShardRing::new(4);
        assert!(!r.has_ready(), "empty ring");
        // Shared and inline pushes both publish the head slot.
        r.push(ev(0)).unwrap();
        assert!(r.has_ready());
        assert!(r.push_inline(b"1").is_ok());
        assert_eq!(r.pop().unwrap().0, 0);
        assert!(r.has_ready(), "position 1 is still waiting");
        assert_eq!(r.pop().unwrap().0, 1);
        assert!(!r.has_ready(), "drained");
        // Around the ring several times: a slot freed for the next lap is not ready.
        for lap in 0..3u64 {
            for i in 0..4 {
                assert_eq!(r.push(ev(i)).unwrap(), 2 + lap * 4 + i);
            }
            assert!(r.has_ready());
            assert_eq!(r.pop_batch(10, |_, _| {}), 4);
            assert!(!r.has_ready(), "lap {lap} drained");
        }
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

    /// Records what `pop_batch_items` hands a sink.
    #[derive(Default)]
    struct Record {
        header: Option<(usize, usize)>,
        got: Vec<(u64, bool, Vec<u8>)>,
    }

    impl PopSink for Record {
        fn run(&mut self, count: usize, inline_bytes: usize) {
            assert!(self.header.is_none(), "run header once");
            self.header = Some((count, inline_bytes));
        }
        fn shared(&mut self, pos: u64, event: Event) {
            self.got.push((pos, false, event.raw().to_vec()));
        }
        fn inline(&mut self, pos: u64, raw: &[u8]) {
            self.got.push((pos, true, raw.to_vec()));
        }
    }

    /// Drains everything with `pop_batch_items`, checking the run header against the items.
    fn drain_items(r: &ShardRing, max: usize) -> Vec<(u64, bool, Vec<u8>)> {
        let mut out = Vec::new();
        loop {
            let mut rec = Record::default();
            let n = r.pop_batch_items(max, &mut rec);
            if n == 0 {
                assert!(rec.header.is_none());
                return out;
            }
            let inline: usize = rec.got.iter().filter(|g| g.1).map(|g| g.2.len()).sum();
            assert_eq!(rec.header, Some((n, inline)), "run header");
            assert_eq!(rec.got.len(), n);
            out.extend(rec.got);
        }
    }

    fn text(len: usize) -> Vec<u8> {
        // A JSON string of exactly `len` bytes (len >= 2).
        let mut t = vec![b'"'];
        t.extend(std::iter::repeat_n(b'a' + (len % 26) as u8, len - 2));
        t.push(b'"');
        t
    }

    #[test]
    fn inline_and_shared_events_keep_order_and_bytes() {
        let r = ShardRing::new(8);
        let mut want = Vec::new();
        // Several laps, mixing inline pushes of every size class with shared events.
        for (i, len) in [2usize, 64, INLINE_MAX, 7, 100, 3, 128, 90, 2, 5, 64, 33]
            .into_iter()
            .cycle()
            .take(60)
            .enumerate()
        {
            let raw = text(len);
            let shared = i % 3 == 2;
            let pos = if shared {
                r.push(Event::from_slice(&raw).unwrap()).unwrap()
            } else {
                r.push_inline(&raw).ok().unwrap()
            };
            assert_eq!(pos, i as u64);
            want.push((pos, !shared, raw));
            if i % 5 == 4 {
                assert_eq!(drain_items(&r, 3), std::mem::take(&mut want));
            }
        }
        assert_eq!(drain_items(&r, 100), want);
        // `pop` and `pop_batch` hand inline events out as events of their own.
        r.push_inline(b"[1,2]").ok().unwrap();
        assert_eq!(r.pop().unwrap().1.raw(), b"[1,2]");
        r.push_inline(b"{}").ok().unwrap();
        let mut got = Vec::new();
        r.pop_batch(5, |p, e| got.push((p, e.as_str().to_owned())));
        assert_eq!(got, vec![(61, "{}".to_owned())]);
    }

    #[test]
    fn push_inline_refuses_oversized_and_full() {
        let r = ShardRing::new(2);
        let big = text(INLINE_MAX + 1);
        assert!(matches!(r.push_inline(&big), Err(PushError::Full(b)) if b == &big[..]));
        assert_eq!(r.tail(), 0, "nothing claimed");
        r.push_inline(b"1").ok().unwrap();
        r.push_inline(b"2").ok().unwrap();
        assert!(matches!(r.push_inline(b"3"), Err(PushError::Full(_))));
        assert_eq!(r.pop().unwrap().1.raw(), b"1");
        assert_eq!(r.push_inline(b"3").ok(), Some(2));
    }

    #[test]
    fn close_refuses_later_pushes_and_keeps_claimed_events() {
        let r = ShardRing::new(8);
        r.push(ev(0)).unwrap();
        r.push_inline(b"1").ok().unwrap();
        assert!(!r.is_closed());
        r.close();
        assert!(r.is_closed());
        assert!(matches!(r.try_push(ev(2)), Err(PushError::Closed(_))));
        assert!(matches!(r.push_inline(b"2"), Err(PushError::Closed(_))));
        assert!(r.push(ev(2)).is_err());
        let mut src = evs(2..4);
        assert_eq!(r.push_batch(&mut src, 2), (2, 0));
        assert_eq!(src.len(), 2, "nothing taken");
        assert_eq!(
            (r.tail(), r.len()),
            (2, 2),
            "the closed bit is not a position"
        );
        let got: Vec<(u64, String)> = (0..2)
            .map(|_| {
                let (p, e) = r.pop().unwrap();
                (p, e.as_str().to_owned())
            })
            .collect();
        assert_eq!(got, vec![(0, "0".to_owned()), (1, "1".to_owned())]);
        assert!(r.pop().is_none() && r.is_empty());
    }

    #[test]
    fn inline_producers_and_a_batch_consumer_lose_nothing() {
        let r = Arc::new(ShardRing::new(64));
        let per = 20_000u64;
        let producers: Vec<_> = (0..3u64)
            .map(|t| {
                let r = r.clone();
                std::thread::spawn(move || {
                    for i in 0..per {
                        // Sizes vary so inline lengths differ from slot to slot.
                        let raw = format!("[{t},{i},\"{}\"]", "x".repeat((i % 90) as usize));
                        loop {
                            match r.push_inline(raw.as_bytes()) {
                                Ok(_) => break,
                                Err(PushError::Full(_)) => std::thread::yield_now(),
                                Err(PushError::Closed(_)) => unreachable!("never closed"),
                            }
                        }
                    }
                })
            })
            .collect();
        let mut seen = vec![Vec::new(); 3];
        let mut total = 0;
        let mut last = None;
        while total < 3 * per {
            let mut rec = Record::default();
            let n = r.pop_batch_items(16, &mut rec);
            for (p, inline, raw) in rec.got {
                assert!(last.is_none_or(|l| p == l + 1), "dense positions");
                last = Some(p);
                assert!(inline, "only inline pushes");
                let v: serde_json::Value = serde_json::from_slice(&raw).unwrap();
                let (t, i) = (v[0].as_u64().unwrap(), v[1].as_u64().unwrap());
                assert_eq!(v[2].as_str().unwrap().len() as u64, i % 90);
                seen[t as usize].push(i);
            }
            total += n as u64;
            if n == 0 {
                std::thread::yield_now();
            }
        }
        for p in producers {
            p.join().unwrap();
        }
        for s in seen {
            assert_eq!(s, (0..per).collect::<Vec<_>>());
        }
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
