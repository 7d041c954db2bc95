//! Per-file configuration: storage (heap or disk), fsync policy, segment size and retention.

use std::time::Duration;

use super::error::RedexError;

/// When a disk-backed file fsyncs its `dat`, `idx` and `ts` files.
///
/// Syncs run on a per-file background thread that never blocks appenders; concurrent
/// requests while a sync is in flight coalesce into one follow-up sync (group commit), so
/// `EveryN(1)` under concurrency costs far fewer fsyncs than appends. Appends return once their
/// bytes are buffered; [`super::RedexFile::wait_synced`] blocks until a seq is durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FsyncPolicy {
    /// Never fsync on the append path; [`super::RedexFile::sync`] and `close` are the barriers.
    #[default]
    Never,
    /// Request a sync once N appended entries are unsynced (N >= 1).
    EveryN(u64),
    /// Sync on a timer with this period (if anything is unsynced).
    Interval(Duration),
    /// Sync when `period` elapses or `max_bytes` of unsynced writes accumulate, whichever is
    /// first. A zero `period` disables the timer arm; both zero is the same as `Never`.
    IntervalOrBytes {
        /// Timer period (zero: no timer).
        period: Duration,
        /// Unsynced-bytes threshold (zero: no byte arm).
        max_bytes: u64,
    },
}

impl FsyncPolicy {
    /// Whether this policy needs the background sync worker.
    pub(crate) fn needs_worker(&self) -> bool {
        match *self {
            FsyncPolicy::Never => false,
            FsyncPolicy::IntervalOrBytes { period, max_bytes } => {
                !period.is_zero() || max_bytes > 0
            }
            _ => true,
        }
    }

    pub(crate) fn period(&self) -> Option<Duration> {
        match *self {
            FsyncPolicy::Interval(p) => Some(p),
            FsyncPolicy::IntervalOrBytes { period, .. } if !period.is_zero() => Some(period),
            _ => None,
        }
    }
}

/// Retention limits. Active limits AND together: a sweep evicts the oldest entries until every
/// limit holds. Sweeps run at every segment roll and on [`super::RedexFile::sweep_retention`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Retention {
    /// Keep at most this many newest entries.
    pub max_events: Option<u64>,
    /// Keep at most this many bytes of payload (newest first).
    pub max_bytes: Option<u64>,
    /// Drop entries older than this (by their append wall-clock time).
    pub max_age: Option<Duration>,
}

/// Configuration of one RedEX file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedexFileConfig {
    /// Keep the file on disk (requires a manager with a base directory).
    pub persistent: bool,
    /// Fsync policy of a persistent file (ignored on the heap).
    pub fsync: FsyncPolicy,
    /// Largest accepted payload in bytes (at most 1 GiB).
    pub max_payload_bytes: u32,
    /// Roll to a new segment once the current one holds this many payload bytes.
    pub segment_max_bytes: u32,
    /// Roll to a new segment once the current one holds this many entries.
    pub segment_max_entries: u32,
    /// Retention limits.
    pub retention: Retention,
}

impl Default for RedexFileConfig {
    fn default() -> Self {
        RedexFileConfig {
            persistent: false,
            fsync: FsyncPolicy::Never,
            max_payload_bytes: 16 << 20,
            segment_max_bytes: 64 << 20,
            segment_max_entries: 1 << 20,
            retention: Retention::default(),
        }
    }
}

impl RedexFileConfig {
    /// A heap-only file with default limits.
    pub fn heap() -> Self {
        Self::default()
    }

    /// A disk-backed file with the given fsync policy.
    pub fn persistent(fsync: FsyncPolicy) -> Self {
        RedexFileConfig {
            persistent: true,
            fsync,
            ..Self::default()
        }
    }

    /// Sets the retention limits.
    pub fn with_retention(mut self, retention: Retention) -> Self {
        self.retention = retention;
        self
    }

    /// Sets the segment roll thresholds.
    pub fn with_segments(mut self, max_bytes: u32, max_entries: u32) -> Self {
        self.segment_max_bytes = max_bytes;
        self.segment_max_entries = max_entries;
        self
    }

    /// Checks every value is in range.
    pub fn validate(&self) -> Result<(), RedexError> {
        let bad = |key, message: &str| {
            Err(RedexError::InvalidConfig {
                key,
                message: message.to_string(),
            })
        };
        if self.max_payload_bytes == 0 || self.max_payload_bytes > 1 << 30 {
            return bad("max_payload_bytes", "must be in 1..=1073741824");
        }
        if self.segment_max_bytes < 64 {
            return bad("segment_max_bytes", "must be at least 64");
        }
        if self.segment_max_entries == 0 {
            return bad("segment_max_entries", "must be at least 1");
        }
        if let FsyncPolicy::EveryN(0) = self.fsync {
            return bad("fsync", "every_n needs n >= 1");
        }
        if let FsyncPolicy::Interval(p) = self.fsync
            && p.is_zero()
        {
            return bad("fsync", "interval period must be > 0");
        }
        Ok(())
    }
}
