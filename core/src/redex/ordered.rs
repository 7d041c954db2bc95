//! [`OrderedAppender`]: a run of appends to one [`RedexFile`](super::RedexFile) under its append
//! lock, so they get consecutive seqs with no other writer in between (strict replay
//! determinism), and [`AfterAppend`], what an append leaves to do once the lock is released.
//!
//! Promises: seqs handed out by one appender are contiguous; the sync request and tail wake-up
//! that its appends owe happen when it is dropped. Does not promise: anything to readers
//! before the drop (they wait for the lock).

use parking_lot::MutexGuard;

use super::clock::coarse_now_ns;
use super::error::RedexError;
use super::file::{Core, State};

/// Holds the append lock so a sequence of appends gets consecutive seqs with no other writer
/// interleaving (strict replay determinism). Tails and readers wait until it is dropped.
pub struct OrderedAppender<'a> {
    pub(super) core: &'a Core,
    pub(super) st: MutexGuard<'a, State>,
    pub(super) after: AfterAppend,
}

/// What an append must do once the file lock is released.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct AfterAppend {
    /// A fsync-policy threshold was crossed: request a sync.
    pub(super) sync: bool,
    /// A tail is parked: wake it.
    pub(super) wake: bool,
}

impl AfterAppend {
    pub(super) fn merge(&mut self, o: AfterAppend) {
        self.sync |= o.sync;
        self.wake |= o.wake;
    }
}

impl std::fmt::Debug for OrderedAppender<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrderedAppender").finish_non_exhaustive()
    }
}

impl OrderedAppender<'_> {
    /// Appends one payload; returns its seq.
    pub fn append(&mut self, payload: &[u8]) -> Result<u64, RedexError> {
        let (seq, a) = self
            .core
            .append_locked(&mut self.st, &[payload], coarse_now_ns())?;
        self.after.merge(a);
        Ok(seq)
    }

    /// Appends a batch with contiguous seqs; `Ok(None)` for an empty batch.
    pub fn append_batch<P: AsRef<[u8]>>(
        &mut self,
        payloads: &[P],
    ) -> Result<Option<u64>, RedexError> {
        if payloads.is_empty() {
            return Ok(None);
        }
        let (seq, a) = self
            .core
            .append_locked(&mut self.st, payloads, coarse_now_ns())?;
        self.after.merge(a);
        Ok(Some(seq))
    }

    /// The seq the next append gets.
    pub fn next_seq(&self) -> u64 {
        self.st.next_seq
    }
}

impl Drop for OrderedAppender<'_> {
    fn drop(&mut self) {
        self.core.after_append(self.after);
    }
}
