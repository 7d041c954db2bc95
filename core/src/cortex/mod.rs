//! CortEX: folds over RedEX files into local state (layer 11).
//!
//! A [`CortexAdapter`] prefixes every payload it appends with a 20-byte [`EventMeta`]
//! (dispatch, flags, origin hash, per-origin counter, checksum of the rest) and runs a fold
//! task (a plain thread, no async runtime) that tails the file from a [`StartPosition`],
//! verifies each prefix and applies a user [`Fold`] to an `RwLock`-protected state, a batch
//! of events per write lock.
//!
//! Promises: events are folded exactly once each, in seq order; the folded watermark
//! (`folded_next`) and the state change under the same write lock, so a snapshot is
//! consistent and [`CortexAdapter::wait_for_seq`] after a write sees it; a fold error either
//! halts the task with the failing seq recorded (`Stop`, the watermark does not pass it) or is
//! counted (`LogAndContinue`); [`Changes`] carries only successfully advanced watermarks.
//! A snapshot plus resuming from `last_seq + 1` yields the same state as a full replay, for a
//! deterministic fold.
//!
//! Does not promise: cross-file consistency, or anything about events appended to the file
//! by writers that do not use the prefix (they are fold errors).

mod adapter;
mod changes;
mod idmap;
pub mod memories;
pub mod meta;
pub mod tasks;
pub mod title;

pub use adapter::{
    CortexAdapter, CortexConfig, CortexError, CortexEvent, Fold, FoldError, FoldErrorPolicy,
    StartPosition,
};
pub use changes::Changes;
pub use meta::{EventMeta, META_LEN, MetaError};
pub use title::Title;
