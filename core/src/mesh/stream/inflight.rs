//! `InFlight`: a reliable sender's unacknowledged frames, kept in a ring indexed by sequence
//! number. Frames are sent in sequence order and acknowledged mostly in order, so a
//! `VecDeque` of slots starting at the oldest unacked sequence does the job of a sorted map
//! without allocating a tree node per frame (its capacity is reused once grown).
//!
//! Promises: lookups, inserts at the end and removals are O(1); iteration is in ascending
//! sequence order; the front slot is always occupied (emptied front slots are trimmed), so
//! memory is bounded by the span between the oldest and newest unacked sequence. Inserting a
//! sequence below the oldest one kept is ignored (it cannot happen: a stream sends its
//! sequences in order).

use std::collections::VecDeque;

/// Unacknowledged entries of type `T` by sequence number.
#[derive(Debug)]
pub(crate) struct InFlight<T> {
    base: u64,
    slots: VecDeque<Option<T>>,
    live: usize,
}

impl<T> InFlight<T> {
    /// An empty window.
    pub(crate) fn new() -> Self {
        InFlight {
            base: 0,
            slots: VecDeque::new(),
            live: 0,
        }
    }

    /// Entries held.
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// Whether nothing is held.
    pub(crate) fn is_empty(&self) -> bool {
        self.live == 0
    }

    fn index(&self, seq: u64) -> Option<usize> {
        let i = usize::try_from(seq.checked_sub(self.base)?).ok()?;
        (i < self.slots.len()).then_some(i)
    }

    /// Stores `value` under `seq` (normally the next sequence after the newest one held).
    pub(crate) fn insert(&mut self, seq: u64, value: T) {
        if self.slots.is_empty() {
            self.base = seq;
        }
        let Some(offset) = seq.checked_sub(self.base) else {
            return;
        };
        let Ok(offset) = usize::try_from(offset) else {
            return;
        };
        while self.slots.len() <= offset {
            self.slots.push_back(None);
        }
        if self.slots[offset].replace(value).is_none() {
            self.live += 1;
        }
    }

    /// The entry under `seq`.
    pub(crate) fn get(&self, seq: u64) -> Option<&T> {
        self.index(seq).and_then(|i| self.slots[i].as_ref())
    }

    /// The entry under `seq`, mutably.
    pub(crate) fn get_mut(&mut self, seq: u64) -> Option<&mut T> {
        self.index(seq).and_then(|i| self.slots[i].as_mut())
    }

    /// Removes and returns the entry under `seq`.
    pub(crate) fn remove(&mut self, seq: u64) -> Option<T> {
        let i = self.index(seq)?;
        let v = self.slots[i].take()?;
        self.live -= 1;
        self.trim();
        Some(v)
    }

    /// Removes and returns the oldest entry if its sequence is at most `upto`.
    pub(crate) fn pop_upto(&mut self, upto: u64) -> Option<T> {
        if self.slots.is_empty() || self.base > upto {
            return None;
        }
        let v = self.slots.pop_front().flatten();
        self.base += 1;
        if v.is_some() {
            self.live -= 1;
        }
        self.trim();
        v
    }

    fn trim(&mut self) {
        while matches!(self.slots.front(), Some(None)) {
            self.slots.pop_front();
            self.base += 1;
        }
    }

    /// Every entry with its sequence, ascending.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, &T)> + '_ {
        let base = self.base;
        self.slots
            .iter()
            .enumerate()
            .filter_map(move |(i, v)| v.as_ref().map(|v| (base + i as u64, v)))
    }

    /// The sequences held in `lo..=hi`, ascending, with their entries.
    pub(crate) fn range(&self, lo: u64, hi: u64) -> impl Iterator<Item = (u64, &T)> + '_ {
        let base = self.base;
        let start = usize::try_from(lo.saturating_sub(base)).unwrap_or(usize::MAX);
        let end = usize::try_from(hi.saturating_sub(base).saturating_add(1))
            .unwrap_or(usize::MAX)
            .min(self.slots.len());
        let end = if hi < base { 0 } else { end };
        self.slots
            .iter()
            .enumerate()
            .take(end)
            .skip(start)
            .filter_map(move |(i, v)| v.as_ref().map(|v| (base + i as u64, v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_like_a_sorted_map() {
        let mut w = InFlight::new();
        for s in 5..15u64 {
            w.insert(s, s * 10);
        }
        assert_eq!(w.len(), 10);
        assert_eq!(w.remove(7), Some(70));
        assert_eq!(w.remove(7), None);
        assert_eq!(w.get(8), Some(&80));
        assert_eq!(w.get(4), None);
        assert_eq!(w.get(15), None);
        let r: Vec<u64> = w.range(6, 9).map(|(s, _)| s).collect();
        assert_eq!(r, vec![6, 8, 9]);
        assert_eq!(w.range(0, 4).count(), 0);
        assert_eq!(w.range(14, u64::MAX).count(), 1);
        assert_eq!(w.pop_upto(5), Some(50));
        assert_eq!(w.pop_upto(5), None);
        assert_eq!(w.pop_upto(6), Some(60));
        // 7 was removed: the front is trimmed to 8.
        assert_eq!(w.iter().next(), Some((8, &80)));
        for s in 8..15 {
            assert!(w.remove(s).is_some());
        }
        assert!(w.is_empty());
        w.insert(100, 1);
        assert_eq!(w.iter().collect::<Vec<_>>(), vec![(100, &1)]);
        w.insert(3, 9);
        assert_eq!(w.len(), 1, "a sequence below the window is ignored");
    }
}
