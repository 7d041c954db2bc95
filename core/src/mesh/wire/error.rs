//! Typed errors of the wire codecs. Every malformed input maps to exactly one variant; no codec
//! panics on any input.

use std::fmt;

/// Why a byte string is not a valid header, routing header or event frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WireError {
    /// The input is shorter than the fixed-size structure being parsed.
    Truncated {
        /// Bytes the structure needs.
        needed: usize,
        /// Bytes available.
        got: usize,
    },
    /// Bytes 0-1 are neither the Net header magic nor the routing header magic.
    BadMagic(u16),
    /// The header's version byte is not one this build speaks.
    UnsupportedVersion(u8),
    /// A reserved flag bit (header `flags`, `frag_flags`, or routing `flags`) is set.
    ReservedBits {
        /// Which field: `"flags"`, `"frag_flags"` or `"route_flags"`.
        field: &'static str,
        /// The offending bits.
        bits: u8,
    },
    /// The routing header's reserved byte is not zero.
    ReservedByte(u8),
    /// `hop_count` is greater than `hop_ttl`: the packet outlived its hop budget.
    HopLimitExceeded {
        /// The header's hop budget.
        hop_ttl: u8,
        /// Hops already taken.
        hop_count: u8,
    },
    /// Fragment fields are inconsistent with `frag_flags` (e.g. a non-fragment with a fragment id).
    BadFragment,
    /// `payload_len` claims more bytes than follow the header in the datagram.
    PayloadBeyondDatagram {
        /// `payload_len` from the header.
        payload_len: u16,
        /// Bytes actually present after the header.
        available: usize,
    },
    /// Bytes follow the payload that `payload_len` does not account for.
    TrailingBytes(usize),
    /// An event frame's length prefix runs past the end of the frame.
    FrameTruncated {
        /// Index of the event whose prefix or body is cut short.
        index: u16,
    },
    /// An event frame holds a different number of events than the header's `event_count`.
    EventCountMismatch {
        /// `event_count` from the header.
        expected: u16,
        /// Events found (parsing stops at `expected + 1`).
        found: u16,
    },
    /// An event frame has no room for the event being added.
    FrameFull,
    /// An event is longer than a length prefix (u16) can describe.
    EventTooLarge(usize),
}

impl WireError {
    /// The stable snake_case name of this error's kind, as used in `tests/cross_lang/wire/`.
    pub const fn kind(&self) -> &'static str {
        match self {
            WireError::Truncated { .. } => "truncated",
            WireError::BadMagic(_) => "bad_magic",
            WireError::UnsupportedVersion(_) => "unsupported_version",
            WireError::ReservedBits { .. } => "reserved_bits",
            WireError::ReservedByte(_) => "reserved_byte",
            WireError::HopLimitExceeded { .. } => "hop_limit_exceeded",
            WireError::BadFragment => "bad_fragment",
            WireError::PayloadBeyondDatagram { .. } => "payload_beyond_datagram",
            WireError::TrailingBytes(_) => "trailing_bytes",
            WireError::FrameTruncated { .. } => "frame_truncated",
            WireError::EventCountMismatch { .. } => "event_count_mismatch",
            WireError::FrameFull => "frame_full",
            WireError::EventTooLarge(_) => "event_too_large",
        }
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Truncated { needed, got } => {
                write!(f, "truncated: need {needed} bytes, got {got}")
            }
            WireError::BadMagic(m) => write!(f, "bad magic 0x{m:04x}"),
            WireError::UnsupportedVersion(v) => write!(f, "unsupported wire version {v}"),
            WireError::ReservedBits { field, bits } => {
                write!(f, "reserved bits 0x{bits:02x} set in {field}")
            }
            WireError::ReservedByte(b) => write!(f, "routing header reserved byte is 0x{b:02x}"),
            WireError::HopLimitExceeded { hop_ttl, hop_count } => {
                write!(f, "hop_count {hop_count} exceeds hop_ttl {hop_ttl}")
            }
            WireError::BadFragment => f.write_str("fragment fields inconsistent with frag_flags"),
            WireError::PayloadBeyondDatagram {
                payload_len,
                available,
            } => write!(
                f,
                "payload_len {payload_len} exceeds the {available} bytes after the header"
            ),
            WireError::TrailingBytes(n) => write!(f, "{n} bytes follow the payload"),
            WireError::FrameTruncated { index } => write!(f, "event {index} runs past the frame"),
            WireError::EventCountMismatch { expected, found } => {
                write!(f, "frame holds {found} events, header says {expected}")
            }
            WireError::FrameFull => f.write_str("no room in the frame for this event"),
            WireError::EventTooLarge(n) => write!(f, "event of {n} bytes exceeds 65535"),
        }
    }
}

impl std::error::Error for WireError {}

impl From<WireError> for crate::Error {
    fn from(e: WireError) -> Self {
        crate::Error::InvalidArgument(format!("wire: {e}"))
    }
}
