//! Typed errors of the engine.
//!
//! Every fallible call returns [`Error`]. Each error has a stable [`ErrorKind`] whose string
//! name and integer code are pinned in `tests/cross_lang/errors.json`; every language skin maps
//! the same kinds to its own idiom (a C status code, a Go sentinel, a TS/Python error class).
//! Messages are for humans and may change; kinds and codes may not.

use std::fmt;

/// The stable category of an [`Error`], shared by every language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A bug or a caught panic inside the engine.
    Internal,
    /// An argument was missing, null, of the wrong type or out of range.
    InvalidArgument,
    /// An event is not valid JSON.
    InvalidJson,
    /// A configuration key is unknown, mistyped or out of range.
    Config,
    /// The shard ring is full and the backpressure mode is `fail_producer`.
    Backpressure,
    /// The event was dropped by the backpressure policy (`drop_newest`, `sample`) and counted.
    Dropped,
    /// A bounded wait ended before it could complete (`block` backpressure, flush).
    Timeout,
    /// The bus is shutting down or shut down; it accepts no more work.
    ShuttingDown,
    /// A cursor string is malformed, truncated, corrupt or belongs to another bus layout.
    InvalidCursor,
    /// A filter is not valid in the filter language.
    InvalidFilter,
    /// An event is larger than `max_event_bytes`.
    PayloadTooLarge,
    /// The adapter (storage backend) failed.
    Adapter,
}

impl ErrorKind {
    /// Every kind, in code order.
    pub const ALL: [ErrorKind; 12] = [
        ErrorKind::Internal,
        ErrorKind::InvalidArgument,
        ErrorKind::InvalidJson,
        ErrorKind::Config,
        ErrorKind::Backpressure,
        ErrorKind::Dropped,
        ErrorKind::Timeout,
        ErrorKind::ShuttingDown,
        ErrorKind::InvalidCursor,
        ErrorKind::InvalidFilter,
        ErrorKind::PayloadTooLarge,
        ErrorKind::Adapter,
    ];

    /// The stable snake_case name of this kind.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Internal => "internal",
            ErrorKind::InvalidArgument => "invalid_argument",
            ErrorKind::InvalidJson => "invalid_json",
            ErrorKind::Config => "config",
            ErrorKind::Backpressure => "backpressure",
            ErrorKind::Dropped => "dropped",
            ErrorKind::Timeout => "timeout",
            ErrorKind::ShuttingDown => "shutting_down",
            ErrorKind::InvalidCursor => "invalid_cursor",
            ErrorKind::InvalidFilter => "invalid_filter",
            ErrorKind::PayloadTooLarge => "payload_too_large",
            ErrorKind::Adapter => "adapter",
        }
    }

    /// The stable negative status code of this kind (the C ABI's return value).
    pub const fn code(self) -> i32 {
        match self {
            ErrorKind::Internal => -1,
            ErrorKind::InvalidArgument => -2,
            ErrorKind::InvalidJson => -3,
            ErrorKind::Config => -4,
            ErrorKind::Backpressure => -5,
            ErrorKind::Dropped => -6,
            ErrorKind::Timeout => -7,
            ErrorKind::ShuttingDown => -8,
            ErrorKind::InvalidCursor => -9,
            ErrorKind::InvalidFilter => -10,
            ErrorKind::PayloadTooLarge => -11,
            ErrorKind::Adapter => -12,
        }
    }

    /// The kind with this name, if any.
    pub fn from_name(name: &str) -> Option<ErrorKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the bus dropped an accepted or offered event; each reason has its own counter in
/// [`crate::bus::Stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// `drop_oldest`: an accepted event was pushed out of a full ring by a newer one.
    DropOldest,
    /// `drop_newest`: the offered event was discarded because the ring was full.
    DropNewest,
    /// `sample`: the offered event was not among the 1 in N kept above the high-water mark.
    Sampled,
    /// The adapter refused a batch after every retry.
    AdapterFailed,
}

impl DropReason {
    /// The stable snake_case name used in stats and error messages.
    pub const fn as_str(self) -> &'static str {
        match self {
            DropReason::DropOldest => "drop_oldest",
            DropReason::DropNewest => "drop_newest",
            DropReason::Sampled => "sampled",
            DropReason::AdapterFailed => "adapter_failed",
        }
    }
}

/// An engine error: a stable [`ErrorKind`] plus the details a human needs.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// See [`ErrorKind::Internal`].
    Internal(String),
    /// See [`ErrorKind::InvalidArgument`].
    InvalidArgument(String),
    /// See [`ErrorKind::InvalidJson`].
    InvalidJson(String),
    /// See [`ErrorKind::Config`]; `key` is the dotted path of the offending key.
    Config {
        /// Dotted path of the offending key, e.g. `backpressure.timeout_ms`.
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// See [`ErrorKind::Backpressure`].
    Backpressure {
        /// The shard whose ring was full.
        shard: u16,
    },
    /// See [`ErrorKind::Dropped`].
    Dropped {
        /// The shard the event was offered to.
        shard: u16,
        /// Which policy dropped it.
        reason: DropReason,
    },
    /// See [`ErrorKind::Timeout`].
    Timeout(String),
    /// See [`ErrorKind::ShuttingDown`].
    ShuttingDown,
    /// See [`ErrorKind::InvalidCursor`].
    InvalidCursor(String),
    /// See [`ErrorKind::InvalidFilter`].
    InvalidFilter(String),
    /// See [`ErrorKind::PayloadTooLarge`].
    PayloadTooLarge {
        /// Size of the offered event in bytes.
        size: usize,
        /// The configured `max_event_bytes`.
        max: usize,
    },
    /// See [`ErrorKind::Adapter`].
    Adapter(String),
}

impl Error {
    /// The stable kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Internal(_) => ErrorKind::Internal,
            Error::InvalidArgument(_) => ErrorKind::InvalidArgument,
            Error::InvalidJson(_) => ErrorKind::InvalidJson,
            Error::Config { .. } => ErrorKind::Config,
            Error::Backpressure { .. } => ErrorKind::Backpressure,
            Error::Dropped { .. } => ErrorKind::Dropped,
            Error::Timeout(_) => ErrorKind::Timeout,
            Error::ShuttingDown => ErrorKind::ShuttingDown,
            Error::InvalidCursor(_) => ErrorKind::InvalidCursor,
            Error::InvalidFilter(_) => ErrorKind::InvalidFilter,
            Error::PayloadTooLarge { .. } => ErrorKind::PayloadTooLarge,
            Error::Adapter(_) => ErrorKind::Adapter,
        }
    }

    /// The stable integer code of this error's kind.
    pub fn code(&self) -> i32 {
        self.kind().code()
    }

    /// The configuration key this error names, for [`Error::Config`].
    pub fn key(&self) -> Option<&str> {
        match self {
            Error::Config { key, .. } => Some(key),
            _ => None,
        }
    }

    pub(crate) fn config(key: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Config {
            key: key.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Internal(m) => write!(f, "internal error: {m}"),
            Error::InvalidArgument(m) => write!(f, "invalid argument: {m}"),
            Error::InvalidJson(m) => write!(f, "invalid JSON: {m}"),
            Error::Config { key, message } => write!(f, "invalid config key `{key}`: {message}"),
            Error::Backpressure { shard } => {
                write!(
                    f,
                    "backpressure: ring of shard {shard} is full (fail_producer)"
                )
            }
            Error::Dropped { shard, reason } => {
                write!(f, "event dropped on shard {shard} by {}", reason.as_str())
            }
            Error::Timeout(m) => write!(f, "timed out: {m}"),
            Error::ShuttingDown => f.write_str("the bus is shutting down"),
            Error::InvalidCursor(m) => write!(f, "invalid cursor: {m}"),
            Error::InvalidFilter(m) => write!(f, "invalid filter: {m}"),
            Error::PayloadTooLarge { size, max } => {
                write!(f, "event of {size} bytes exceeds max_event_bytes {max}")
            }
            Error::Adapter(m) => write!(f, "adapter error: {m}"),
        }
    }
}

impl std::error::Error for Error {}

/// Result alias for engine calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;
