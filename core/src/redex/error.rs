//! Errors of the RedEX log and how they map onto the engine's stable [`crate::ErrorKind`]s.
//!
//! RedEX adds no new cross-language error kind: every [`RedexError`] converts into a
//! [`crate::Error`] of an existing kind (see the table on [`RedexError`]).

use std::fmt;

/// An error of the RedEX log.
///
/// | variant | engine kind |
/// |---|---|
/// | `Closed` | `shutting_down` |
/// | `PayloadTooLarge` | `payload_too_large` |
/// | `InvalidChannel`, `InvalidConfig` | `invalid_argument` / `config` |
/// | `Io`, `Poisoned`, `Lagged` | `adapter` |
/// | `Encode`, `Decode` | `invalid_argument` |
/// | `Timeout` | `timeout` |
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedexError {
    /// The file (or its manager) was closed; it accepts no more appends and tails end.
    Closed,
    /// A payload (or a whole batch) is larger than the file accepts.
    PayloadTooLarge {
        /// Size offered, in bytes.
        size: u64,
        /// The limit, in bytes.
        max: u64,
    },
    /// A channel name is not a valid RedEX channel name.
    InvalidChannel(String),
    /// A configuration value is out of range.
    InvalidConfig {
        /// The offending field.
        key: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// A disk operation failed (the message includes the path and the OS error).
    Io(String),
    /// An earlier disk write failed; the file refuses appends until it is reopened.
    Poisoned,
    /// A tail fell behind retention: `skipped` entries were evicted before it read them.
    Lagged {
        /// Number of sequence numbers skipped.
        skipped: u64,
    },
    /// A value could not be serialized (typed wrapper, snapshots).
    Encode(String),
    /// Bytes could not be deserialized into the expected type.
    Decode(String),
    /// A bounded wait ended first.
    Timeout,
}

impl fmt::Display for RedexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RedexError::Closed => f.write_str("redex: file closed"),
            RedexError::PayloadTooLarge { size, max } => {
                write!(
                    f,
                    "redex: payload of {size} bytes exceeds the limit of {max}"
                )
            }
            RedexError::InvalidChannel(m) => write!(f, "redex: invalid channel name: {m}"),
            RedexError::InvalidConfig { key, message } => {
                write!(f, "redex: invalid config `{key}`: {message}")
            }
            RedexError::Io(m) => write!(f, "redex: io error: {m}"),
            RedexError::Poisoned => {
                f.write_str("redex: an earlier write failed; reopen the file to recover")
            }
            RedexError::Lagged { skipped } => {
                write!(
                    f,
                    "redex: tail lagged, {skipped} entries evicted before read"
                )
            }
            RedexError::Encode(m) => write!(f, "redex: encode failed: {m}"),
            RedexError::Decode(m) => write!(f, "redex: decode failed: {m}"),
            RedexError::Timeout => f.write_str("redex: timed out"),
        }
    }
}

impl std::error::Error for RedexError {}

impl RedexError {
    pub(crate) fn io(what: &str, path: &std::path::Path, e: std::io::Error) -> RedexError {
        RedexError::Io(format!("{what} {}: {e}", path.display()))
    }
}

impl From<RedexError> for crate::Error {
    fn from(e: RedexError) -> crate::Error {
        match e {
            RedexError::Closed => crate::Error::ShuttingDown,
            RedexError::PayloadTooLarge { size, max } => crate::Error::PayloadTooLarge {
                size: usize::try_from(size).unwrap_or(usize::MAX),
                max: usize::try_from(max).unwrap_or(usize::MAX),
            },
            RedexError::InvalidChannel(_) => crate::Error::InvalidArgument(e.to_string()),
            RedexError::InvalidConfig { key, message } => crate::Error::Config {
                key: format!("redex.{key}"),
                message,
            },
            RedexError::Encode(_) | RedexError::Decode(_) => {
                crate::Error::InvalidArgument(e.to_string())
            }
            RedexError::Timeout => crate::Error::Timeout(e.to_string()),
            RedexError::Io(_) | RedexError::Poisoned | RedexError::Lagged { .. } => {
                crate::Error::Adapter(e.to_string())
            }
        }
    }
}
