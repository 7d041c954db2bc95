//! `SegmentedDeque`: a FIFO of fixed-size segments that never moves its elements.
//!
//! A plain `VecDeque` holding a million events doubles and copies itself as it grows, and the
//! copy lands on the drain worker. This deque grows by whole segments, recycles the segments
//! that eviction empties, and indexes in O(1). A fresh segment's pages are mapped in one system call (see
//! `bus::prefault`). Promise: push/pop are O(1) amortized with no
//! element copies; iteration from an index walks segment slices (no per-element index
//! arithmetic); memory is bounded by the elements held plus one spare segment.

use std::collections::VecDeque;

/// Elements per segment.
const SEGMENT: usize = 4096;

/// A FIFO with O(1) indexing built from fixed-size segments.
pub(crate) struct SegmentedDeque<T> {
    segments: VecDeque<VecDeque<T>>,
    spare: Option<VecDeque<T>>,
    len: usize,
}

impl<T> Default for SegmentedDeque<T> {
    fn default() -> Self {
        SegmentedDeque {
            segments: VecDeque::new(),
            spare: None,
            len: 0,
        }
    }
}

impl<T> SegmentedDeque<T> {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Appends at the back.
    pub fn push_back(&mut self, value: T) {
        let need_segment = self.segments.back().is_none_or(|s| s.len() == SEGMENT);
        if need_segment {
            let seg = self.spare.take().unwrap_or_else(|| {
                // A fresh segment is filled completely unless eviction starts first: have the
                // kernel map its pages in one call instead of 32 page faults.
                let mut v = Vec::with_capacity(SEGMENT);
                crate::bus::prefault::prefault(v.spare_capacity_mut());
                VecDeque::from(v)
            });
            self.segments.push_back(seg);
        }
        if let Some(last) = self.segments.back_mut() {
            last.push_back(value);
            self.len += 1;
        }
    }

    /// Removes the front element.
    pub fn pop_front(&mut self) -> Option<T> {
        let first = self.segments.front_mut()?;
        let value = first.pop_front()?;
        self.len -= 1;
        if first.is_empty()
            && let Some(empty) = self.segments.pop_front()
        {
            self.spare = Some(empty);
        }
        Some(value)
    }

    /// The element `i` places from the front (the tests' reference for `iter_from`).
    #[cfg(test)]
    pub fn get(&self, i: usize) -> Option<&T> {
        let first = self.segments.front()?;
        if i < first.len() {
            return first.get(i);
        }
        // Every segment after the first is full except possibly the last.
        let rest = i - first.len();
        self.segments
            .get(1 + rest / SEGMENT)
            .and_then(|s| s.get(rest % SEGMENT))
    }

    /// Elements from index `start` on, in order (empty if `start >= len`).
    pub fn iter_from(&self, start: usize) -> impl Iterator<Item = &T> {
        // Locate the segment and offset of `start` once, then walk whole segments.
        let (seg, offset) = match self.segments.front() {
            Some(first) if start < first.len() => (0, start),
            Some(first) => {
                let rest = start - first.len();
                (1 + rest / SEGMENT, rest % SEGMENT)
            }
            None => (0, 0),
        };
        self.segments
            .range(seg.min(self.segments.len())..)
            .enumerate()
            .flat_map(move |(k, s)| s.range(if k == 0 { offset.min(s.len()) } else { 0 }..))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_and_indexing_across_segments() {
        let mut d = SegmentedDeque::default();
        for i in 0..3 * SEGMENT + 7 {
            d.push_back(i);
        }
        for i in 0..SEGMENT + 3 {
            assert_eq!(d.pop_front(), Some(i));
        }
        assert_eq!(d.len(), 2 * SEGMENT + 4);
        for i in 0..d.len() {
            assert_eq!(d.get(i), Some(&(SEGMENT + 3 + i)));
        }
        assert_eq!(d.get(d.len()), None);
        let tail: Vec<usize> = d.iter_from(d.len() - 2).copied().collect();
        assert_eq!(tail, vec![3 * SEGMENT + 5, 3 * SEGMENT + 6]);
        while d.pop_front().is_some() {}
        assert_eq!(d.len(), 0);
        d.push_back(1);
        assert_eq!(d.get(0), Some(&1));
    }

    #[test]
    fn iter_from_matches_get_at_every_segment_boundary() {
        let mut d = SegmentedDeque::default();
        for i in 0..2 * SEGMENT + 5 {
            d.push_back(i);
        }
        // A partly evicted first segment shifts every boundary.
        for _ in 0..17 {
            d.pop_front();
        }
        let n = d.len();
        for start in [
            0,
            1,
            SEGMENT - 18,
            SEGMENT - 17,
            SEGMENT - 16,
            2 * SEGMENT - 17,
            n - 1,
            n,
        ] {
            let want: Vec<usize> = (start..n).map(|i| *d.get(i).unwrap()).collect();
            let got: Vec<usize> = d.iter_from(start).copied().collect();
            assert_eq!(got, want, "start {start}");
        }
        assert_eq!(d.iter_from(n + 5).count(), 0);
        let empty: SegmentedDeque<u8> = SegmentedDeque::default();
        assert_eq!(empty.iter_from(0).count(), 0);
    }
}
