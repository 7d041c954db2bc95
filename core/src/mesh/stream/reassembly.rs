//! `Reassembler`: puts fragmented events back together on the receiving side, with bounded
//! memory and a timeout.
//!
//! Fragments are keyed by `(stream id, fragment id)`; each carries its index and the last one
//! is flagged (see [`FragInfo`]). Reliable streams hand fragments over in order; fire-and-forget
//! streams in any order, with gaps. Promises:
//! - an event is returned once, complete, with its fragments in index order, only when every
//!   index from 0 to the last one arrived;
//! - a fragment whose index is already held is dropped (`Overlap`); one that contradicts its
//!   event's shape (empty, an index beyond the flagged last one, a second different last one)
//!   drops the whole partial event (`Bad`); an event growing past `max_message` is dropped
//!   (`Oversized`);
//! - at most `max_bytes` of fragment bytes and `max_partials` partial events are held: a
//!   fragment that would exceed either evicts the oldest partial events first (`Evicted`);
//! - [`Reassembler::expire`] drops partial events older than `timeout` (`TimedOut`).
//!
//! Every dropped fragment or partial event is reported with its reason and byte count, so the
//! caller can count it and, on a reliable stream, return its credit. Sans-IO: time is an
//! argument. Not promised: reassembly across sessions.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use super::FragInfo;

/// Why fragments were dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FragDrop {
    /// Inconsistent with its event (empty, beyond the last index, conflicting last flag).
    Bad,
    /// Its index was already held.
    Overlap,
    /// The event grew past `max_message`.
    Oversized,
    /// Evicted to stay within `max_bytes` / `max_partials`.
    Evicted,
    /// Incomplete for longer than `timeout`.
    TimedOut,
}

impl FragDrop {
    /// Stable snake_case name.
    pub const fn kind(self) -> &'static str {
        match self {
            FragDrop::Bad => "fragment_bad",
            FragDrop::Overlap => "fragment_overlap",
            FragDrop::Oversized => "fragment_oversized",
            FragDrop::Evicted => "fragment_evicted",
            FragDrop::TimedOut => "fragment_timed_out",
        }
    }
}

/// A drop: what, why, and how many fragment bytes it released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dropped {
    /// The stream the fragments belonged to.
    pub stream_id: u64,
    /// Why.
    pub reason: FragDrop,
    /// Fragment bytes released.
    pub bytes: usize,
}

/// Limits of a [`Reassembler`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReassemblyLimits {
    /// Largest event reassembled.
    pub max_message: usize,
    /// Most fragment bytes held across all partial events.
    pub max_bytes: usize,
    /// Most partial events held.
    pub max_partials: usize,
    /// A partial event older than this is dropped by [`Reassembler::expire`].
    pub timeout: Duration,
}

#[derive(Debug)]
struct Partial {
    chunks: BTreeMap<u16, Vec<u8>>,
    bytes: usize,
    last: Option<u16>,
    started: Instant,
}

/// Partial events of one session. See the module docs.
#[derive(Debug)]
pub struct Reassembler {
    limits: ReassemblyLimits,
    partials: HashMap<(u64, u16), Partial>,
    bytes: usize,
}

impl Reassembler {
    /// An empty reassembler with `limits`.
    pub fn new(limits: ReassemblyLimits) -> Self {
        Reassembler {
            limits,
            partials: HashMap::new(),
            bytes: 0,
        }
    }

    /// Fragment bytes held now.
    pub fn held_bytes(&self) -> usize {
        self.bytes
    }

    /// Partial events held now.
    pub fn partials(&self) -> usize {
        self.partials.len()
    }

    fn release(&mut self, key: (u64, u16), reason: FragDrop, dropped: &mut impl FnMut(Dropped)) {
        if let Some(p) = self.partials.remove(&key) {
            self.bytes -= p.bytes;
            dropped(Dropped {
                stream_id: key.0,
                reason,
                bytes: p.bytes,
            });
        }
    }

    /// Takes one fragment of `stream_id`. Returns the whole event when this fragment completes
    /// it; reports every drop it causes to `dropped`.
    pub fn push(
        &mut self,
        now: Instant,
        stream_id: u64,
        frag: FragInfo,
        bytes: Vec<u8>,
        mut dropped: impl FnMut(Dropped),
    ) -> Option<Vec<u8>> {
        let key = (stream_id, frag.id);
        let len = bytes.len();
        let fragment = |reason| Dropped {
            stream_id,
            reason,
            bytes: len,
        };
        if let Some(p) = self.partials.get(&key) {
            if p.chunks.contains_key(&frag.index) {
                dropped(fragment(FragDrop::Overlap));
                return None;
            }
            let beyond_last = p.last.is_some_and(|l| frag.index > l);
            let conflicting_last = frag.last
                && (p.last.is_some()
                    || p.chunks
                        .last_key_value()
                        .is_some_and(|(&i, _)| i > frag.index));
            if len == 0 || beyond_last || conflicting_last {
                dropped(fragment(FragDrop::Bad));
                self.release(key, FragDrop::Bad, &mut dropped);
                return None;
            }
            if p.bytes + len > self.limits.max_message {
                dropped(fragment(FragDrop::Oversized));
                self.release(key, FragDrop::Oversized, &mut dropped);
                return None;
            }
        } else if len == 0 {
            dropped(fragment(FragDrop::Bad));
            return None;
        } else if len > self.limits.max_message {
            dropped(fragment(FragDrop::Oversized));
            return None;
        }
        // Make room: evict the oldest other partial events.
        let new = !self.partials.contains_key(&key);
        while self.bytes + len > self.limits.max_bytes
            || (new && self.partials.len() >= self.limits.max_partials)
        {
            let Some(oldest) = self
                .partials
                .iter()
                .filter(|(k, _)| **k != key)
                .min_by_key(|(_, p)| p.started)
                .map(|(k, _)| *k)
            else {
                break;
            };
            self.release(oldest, FragDrop::Evicted, &mut dropped);
        }
        if self.bytes + len > self.limits.max_bytes {
            dropped(fragment(FragDrop::Evicted));
            self.release(key, FragDrop::Evicted, &mut dropped);
            return None;
        }
        let p = self.partials.entry(key).or_insert_with(|| Partial {
            chunks: BTreeMap::new(),
            bytes: 0,
            last: None,
            started: now,
        });
        p.chunks.insert(frag.index, bytes);
        p.bytes += len;
        self.bytes += len;
        if frag.last {
            p.last = Some(frag.index);
        }
        let complete = p.last.is_some_and(|l| p.chunks.len() == usize::from(l) + 1);
        if !complete {
            return None;
        }
        let p = self.partials.remove(&key)?;
        self.bytes -= p.bytes;
        let mut event = Vec::with_capacity(p.bytes);
        for chunk in p.chunks.into_values() {
            event.extend_from_slice(&chunk);
        }
        Some(event)
    }

    /// When the oldest partial event times out.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.partials
            .values()
            .map(|p| p.started + self.limits.timeout)
            .min()
    }

    /// Drops every partial event started `timeout` or longer before `now`.
    pub fn expire(&mut self, now: Instant, mut dropped: impl FnMut(Dropped)) {
        let timeout = self.limits.timeout;
        let old: Vec<(u64, u16)> = self
            .partials
            .iter()
            .filter(|(_, p)| now.saturating_duration_since(p.started) >= timeout)
            .map(|(k, _)| *k)
            .collect();
        for key in old {
            self.release(key, FragDrop::TimedOut, &mut dropped);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ReassemblyLimits {
        ReassemblyLimits {
            max_message: 100,
            max_bytes: 60,
            max_partials: 3,
            timeout: Duration::from_secs(1),
        }
    }

    fn f(id: u16, index: u16, last: bool) -> FragInfo {
        FragInfo { id, index, last }
    }

    #[test]
    fn out_of_order_with_duplicates_and_conflicts() {
        let t = Instant::now();
        let mut r = Reassembler::new(limits());
        let mut drops = Vec::new();
        let mut d = |x: Dropped| drops.push(x.reason);
        assert_eq!(r.push(t, 1, f(0, 2, true), b"ef".to_vec(), &mut d), None);
        assert_eq!(r.push(t, 1, f(0, 0, false), b"ab".to_vec(), &mut d), None);
        assert_eq!(r.push(t, 1, f(0, 0, false), b"xx".to_vec(), &mut d), None);
        assert_eq!(
            r.push(t, 1, f(0, 1, false), b"cd".to_vec(), &mut d),
            Some(b"abcdef".to_vec())
        );
        assert_eq!(r.held_bytes(), 0);
        // Beyond the flagged last index: the partial is bad.
        r.push(t, 1, f(1, 1, true), b"x".to_vec(), &mut d);
        r.push(t, 1, f(1, 5, false), b"y".to_vec(), &mut d);
        // A last flag below an index already held: bad.
        r.push(t, 2, f(1, 3, false), b"x".to_vec(), &mut d);
        r.push(t, 2, f(1, 1, true), b"y".to_vec(), &mut d);
        // Empty fragments are bad.
        r.push(t, 3, f(0, 0, false), Vec::new(), &mut d);
        assert_eq!(r.partials(), 0);
        assert_eq!(
            drops,
            vec![
                FragDrop::Overlap,
                FragDrop::Bad,
                FragDrop::Bad,
                FragDrop::Bad,
                FragDrop::Bad,
                FragDrop::Bad
            ]
        );
    }

    #[test]
    fn memory_size_and_time_are_bounded() {
        let t = Instant::now();
        let mut r = Reassembler::new(limits());
        let drops = std::cell::RefCell::new(Vec::new());
        let mut d = |x: Dropped| drops.borrow_mut().push((x.stream_id, x.reason, x.bytes));
        r.push(t, 1, f(0, 0, false), vec![1; 25], &mut d);
        r.push(
            t + Duration::from_millis(1),
            2,
            f(0, 0, false),
            vec![2; 25],
            &mut d,
        );
        // 60 bytes at most: stream 1's partial (the oldest) is evicted.
        r.push(
            t + Duration::from_millis(2),
            3,
            f(0, 0, false),
            vec![3; 20],
            &mut d,
        );
        assert_eq!(*drops.borrow(), vec![(1, FragDrop::Evicted, 25)]);
        assert_eq!(r.held_bytes(), 45);
        // Oversized: stream 2 grows past 100 bytes (limit raised so memory is not the cause).
        r.limits.max_bytes = 1000;
        for i in 1..5 {
            r.push(t, 2, f(0, i, false), vec![2; 25], &mut d);
        }
        assert_eq!(
            drops.borrow()[1..],
            [(2, FragDrop::Oversized, 25), (2, FragDrop::Oversized, 100)]
        );
        assert_eq!(r.held_bytes(), 20);
        // Timeout.
        assert_eq!(r.poll_timeout(), Some(t + Duration::from_millis(1002)));
        r.expire(t + Duration::from_millis(1001), &mut d);
        assert_eq!(r.partials(), 1);
        r.expire(t + Duration::from_millis(1002), &mut d);
        assert_eq!(drops.borrow().last(), Some(&(3, FragDrop::TimedOut, 20)));
        assert_eq!((r.partials(), r.held_bytes()), (0, 0));
    }
}
