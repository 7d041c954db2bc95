//! RedEX: the local append-only log (layer 11).
//!
//! A [`Redex`] manager maps channel names to [`RedexFile`]s. Each file is a monotonic sequence
//! of fixed 20-byte index records ([`record`]) plus payload bytes, split into segments. Payloads
//! of exactly 8 bytes live inline in the record. Files live on the heap, or on disk as
//! `<base>/<channel>/<base_seq>.{idx,dat,ts}` segment triples ([`disk`]).
//!
//! Promises:
//! - seqs are assigned under one lock in commit order, strictly increasing; `append_batch`
//!   takes a contiguous range and is all-or-nothing (a refused batch consumes no seq);
//! - an entry is readable and visible to tails when its append returns; [`RedexTail`] hands
//!   over from backfill to live without gap or duplicate;
//! - every entry carries a checksum; recovery on reopen truncates torn tails, drops and counts
//!   corrupt entries, and never returns an entry whose checksum does not match;
//! - retention (count, bytes, age) evicts oldest entries and deletes emptied segment files, so
//!   a retained disk log does not grow without bound;
//! - fsyncs never run on the append path (see [`FsyncPolicy`]); an entry whose seq is below
//!   [`RedexFile::synced_next`] survives a crash.
//!
//! Does not promise: durability of unsynced appends (they are buffered in the process, up to
//! 64 KiB, then in the OS page cache), cross-process exclusion, or replication (a later layer).
//! Plain data in and out (`&[u8]`, `u64`, [`RedexEvent`]) keeps the API binding-friendly.

mod batch;
pub mod bench;
mod clock;
mod config;
pub mod crc32c;
pub mod disk;
mod error;
mod file;
mod manager;
mod ordered;
mod prefault;
pub mod record;
mod segbuf;
mod segment;
mod seqs;
mod sync;
mod tail;
mod tsruns;
mod typed;

pub use batch::RedexBatch;
pub use clock::{coarse_now_ns, coarse_resolution_ns};
pub use config::{FsyncPolicy, RedexFileConfig, Retention};
pub use disk::RecoveryReport;
pub use error::RedexError;
pub use file::{RedexEvent, RedexFile, RedexStats, SweepReport, now_ns};
pub use manager::{MAX_CHANNEL_LEN, Redex, validate_channel};
pub use ordered::OrderedAppender;
pub use prefault::{PrefaultStats, prefault_ahead, prefault_stats, set_prefault_ahead};
pub use record::{ENTRY_LEN, IndexRecord};
pub use tail::RedexTail;
pub use typed::{TypedRedexFile, decode, encode};
