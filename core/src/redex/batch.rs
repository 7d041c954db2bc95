//! [`RedexBatch`]: entries read by a tail into one reusable buffer.
//!
//! Promises: [`super::RedexTail::recv_into`] appends entries in seq order; their payloads are
//! stored back to back in one byte buffer, so once the buffer has grown to the working size
//! reading allocates nothing per entry (unlike [`super::RedexEvent`], which owns its payload).
//! [`RedexBatch::clear`] keeps the capacity.
//!
//! Does not promise: any bound on capacity (it keeps the largest size it has needed).

/// Entries read by [`super::RedexTail::recv_into`]; see the module docs.
#[derive(Debug, Default, Clone)]
pub struct RedexBatch {
    data: Vec<u8>,
    /// `(seq, ts_ns, end of the payload in data)`.
    entries: Vec<(u64, u64, usize)>,
}

impl RedexBatch {
    /// An empty batch.
    pub fn new() -> RedexBatch {
        RedexBatch::default()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Removes every entry, keeping the capacity.
    pub fn clear(&mut self) {
        self.data.clear();
        self.entries.clear();
    }

    /// The seq of the last entry, if any.
    pub fn last_seq(&self) -> Option<u64> {
        self.entries.last().map(|e| e.0)
    }

    /// The entries in order as `(seq, ts_ns, payload)`.
    pub fn iter(&self) -> impl Iterator<Item = (u64, u64, &[u8])> + '_ {
        let mut start = 0;
        self.entries.iter().map(move |&(seq, ts, end)| {
            let p = &self.data[start..end];
            start = end;
            (seq, ts, p)
        })
    }

    /// Appends one entry (copies `payload`).
    pub(crate) fn push(&mut self, seq: u64, ts_ns: u64, payload: &[u8]) {
        self.data.extend_from_slice(payload);
        self.entries.push((seq, ts_ns, self.data.len()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_come_back_in_order_with_their_payloads() {
        let mut b = RedexBatch::new();
        b.push(4, 40, b"abc");
        b.push(5, 50, b"");
        b.push(6, 60, b"xy");
        let v: Vec<_> = b.iter().collect();
        assert_eq!(
            v,
            vec![(4, 40, &b"abc"[..]), (5, 50, &b""[..]), (6, 60, &b"xy"[..])]
        );
        assert_eq!((b.len(), b.last_seq()), (3, Some(6)));
        let cap = b.data.capacity();
        b.clear();
        assert!(b.is_empty() && b.iter().next().is_none() && b.last_seq().is_none());
        assert_eq!(b.data.capacity(), cap);
    }
}
