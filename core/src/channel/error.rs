//! Typed errors of the channel layer: why a name or a pattern is invalid, why a config is
//! rejected, why a registry operation failed. Promises: every invalid input maps to exactly one
//! variant, each message names the problem (and where it is), and [`NameError::kind`] /
//! [`PatternError::kind`] give a stable snake_case string that `tests/cross_lang/wire/channels.json`
//! pins. Not here: authorization outcomes (see `auth_guard`).

use std::fmt;

use super::name::ChannelName;

/// Why a string is not a valid channel name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NameError {
    /// The name is the empty string.
    Empty,
    /// The name is longer than [`super::MAX_NAME_LEN`] bytes.
    TooLong {
        /// Length of the name in bytes.
        len: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// A segment is empty: a leading or trailing `/`, or two `/` in a row.
    EmptySegment {
        /// Zero-based index of the empty segment.
        index: usize,
    },
    /// A segment is longer than [`super::MAX_SEGMENT_LEN`] bytes.
    SegmentTooLong {
        /// Zero-based index of the segment.
        index: usize,
        /// Its length in bytes.
        len: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// The name has more than [`super::MAX_SEGMENTS`] segments.
    TooManySegments {
        /// The limit.
        max: usize,
    },
    /// A character outside ASCII letters, digits, `_`, `-`, `.` (and `/` between segments).
    InvalidChar {
        /// Byte offset of the character in the name.
        offset: usize,
        /// The character.
        ch: char,
    },
    /// A segment is `.` or `..` (reserved: they would alias paths where names map to files).
    DotSegment {
        /// Zero-based index of the segment.
        index: usize,
    },
}

impl NameError {
    /// A stable snake_case name of the variant (pinned by the cross-language fixture).
    pub fn kind(&self) -> &'static str {
        match self {
            NameError::Empty => "empty",
            NameError::TooLong { .. } => "too_long",
            NameError::EmptySegment { .. } => "empty_segment",
            NameError::SegmentTooLong { .. } => "segment_too_long",
            NameError::TooManySegments { .. } => "too_many_segments",
            NameError::InvalidChar { .. } => "invalid_char",
            NameError::DotSegment { .. } => "dot_segment",
        }
    }
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameError::Empty => f.write_str("channel name is empty"),
            NameError::TooLong { len, max } => {
                write!(
                    f,
                    "channel name is {len} bytes long (at most {max} allowed)"
                )
            }
            NameError::EmptySegment { index } => write!(
                f,
                "channel name segment {index} is empty (leading, trailing or doubled `/`)"
            ),
            NameError::SegmentTooLong { index, len, max } => write!(
                f,
                "channel name segment {index} is {len} bytes long (at most {max} allowed)"
            ),
            NameError::TooManySegments { max } => {
                write!(f, "channel name has more than {max} segments")
            }
            NameError::InvalidChar { offset, ch } => write!(
                f,
                "channel name has {ch:?} at byte {offset} (allowed: ASCII letters, digits, `_`, `-`, `.`, and `/` between segments)"
            ),
            NameError::DotSegment { index } => {
                write!(f, "channel name segment {index} is `.` or `..`")
            }
        }
    }
}

impl std::error::Error for NameError {}

/// Why a string is not a valid channel pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PatternError {
    /// The pattern breaks a rule that names follow too (length, segments, characters).
    Name(NameError),
    /// `**` appears in a segment other than the last.
    DoubleStarNotLast {
        /// Zero-based index of the `**` segment.
        index: usize,
    },
    /// A segment mixes `*` with other characters (`sens*`); wildcards are whole segments.
    PartialWildcard {
        /// Zero-based index of the segment.
        index: usize,
    },
}

impl PatternError {
    /// A stable snake_case name of the variant (the inner kind for [`PatternError::Name`]).
    pub fn kind(&self) -> &'static str {
        match self {
            PatternError::Name(e) => e.kind(),
            PatternError::DoubleStarNotLast { .. } => "double_star_not_last",
            PatternError::PartialWildcard { .. } => "partial_wildcard",
        }
    }
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatternError::Name(e) => write!(f, "invalid channel pattern: {e}"),
            PatternError::DoubleStarNotLast { index } => write!(
                f,
                "invalid channel pattern: `**` in segment {index} (allowed only as the last segment)"
            ),
            PatternError::PartialWildcard { index } => write!(
                f,
                "invalid channel pattern: segment {index} mixes `*` with other characters (wildcards are whole segments)"
            ),
        }
    }
}

impl std::error::Error for PatternError {}

impl From<NameError> for PatternError {
    fn from(e: NameError) -> Self {
        PatternError::Name(e)
    }
}

/// Why a [`super::ChannelConfig`] is rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// `Visibility::Private` with an empty peer list: nobody could ever use the channel.
    EmptyPeerList,
    /// A rate limit with a zero rate or a zero burst.
    ZeroRateLimit {
        /// `"per_sec"` or `"burst"`.
        field: &'static str,
    },
    /// A capability tag that is empty or has characters outside printable ASCII.
    BadCapabilityTag {
        /// `"publish_caps"` or `"subscribe_caps"`.
        field: &'static str,
        /// The offending tag.
        tag: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::EmptyPeerList => {
                f.write_str("channel config: visibility private needs at least one peer")
            }
            ConfigError::ZeroRateLimit { field } => {
                write!(f, "channel config: rate_limit.{field} must be at least 1")
            }
            ConfigError::BadCapabilityTag { field, tag } => write!(
                f,
                "channel config: {field} has tag {tag:?} (tags are 1..=64 printable ASCII characters, no spaces)"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Why a [`super::ChannelRegistry`] operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistryError {
    /// The name is registered already (use `update` to change its config).
    AlreadyRegistered(ChannelName),
    /// The name is not registered.
    NotRegistered(ChannelName),
    /// Another registered name has the same 64-bit hash; the registry refuses to alias them.
    HashCollision {
        /// The name being registered.
        name: ChannelName,
        /// The registered name with the same hash.
        existing: ChannelName,
    },
    /// The config is invalid.
    InvalidConfig(ConfigError),
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegistryError::AlreadyRegistered(n) => write!(f, "channel {n} is already registered"),
            RegistryError::NotRegistered(n) => write!(f, "channel {n} is not registered"),
            RegistryError::HashCollision { name, existing } => write!(
                f,
                "channel {name} has the same 64-bit hash as registered channel {existing}"
            ),
            RegistryError::InvalidConfig(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for RegistryError {}

impl From<ConfigError> for RegistryError {
    fn from(e: ConfigError) -> Self {
        RegistryError::InvalidConfig(e)
    }
}

/// Channel errors map onto the engine's stable kinds: names, patterns and registry refusals are
/// `invalid_argument`; a rejected [`ConfigError`] is `config` with the key `channel.<field>`.
impl From<NameError> for crate::Error {
    fn from(e: NameError) -> crate::Error {
        crate::Error::InvalidArgument(e.to_string())
    }
}

impl From<PatternError> for crate::Error {
    fn from(e: PatternError) -> crate::Error {
        crate::Error::InvalidArgument(e.to_string())
    }
}

impl From<ConfigError> for crate::Error {
    fn from(e: ConfigError) -> crate::Error {
        let key = match &e {
            ConfigError::EmptyPeerList => "channel.visibility".to_string(),
            ConfigError::ZeroRateLimit { field } => format!("channel.rate_limit.{field}"),
            ConfigError::BadCapabilityTag { field, .. } => format!("channel.{field}"),
        };
        crate::Error::Config {
            key,
            message: e.to_string(),
        }
    }
}

impl From<RegistryError> for crate::Error {
    fn from(e: RegistryError) -> crate::Error {
        match e {
            RegistryError::InvalidConfig(c) => c.into(),
            other => crate::Error::InvalidArgument(other.to_string()),
        }
    }
}
