//! Streams within a session: per-stream sequencing, batching of events into frames, and for
//! reliable streams selective acknowledgement, retransmission and a byte credit window.
//!
//! Sans-IO: [`SendStream`] and [`RecvStream`] hold state and are told the time; the session
//! layer (`mesh::session`) seals, sends and delivers. Two modes:
//!
//! - [`StreamMode::FireAndForget`]: frames are sent once, delivered in arrival order; a lost
//!   packet's events are lost. No acks, no credit.
//! - [`StreamMode::Reliable`]: frames carry sequence numbers from 1; the receiver delivers them
//!   in order exactly once, buffers out-of-order frames, and acks with a cumulative sequence,
//!   the missing ranges (selective NACK) and a credit limit. The sender keeps unacked frames,
//!   retransmits NACKed ones and any older than the retransmit timeout, doubled per resend of
//!   that frame up to 32 times (the session seals each copy with a fresh nonce), and refuses new events past the credit limit with
//!   [`StreamError::Backpressure`].
//!
//! Promises: no panics on any input; a reliable receiver never delivers a sequence twice or
//! out of order; a sender never has more than its credit in frames beyond what the receiver's
//! application consumed. Fairness across streams is the session's scheduler's (closed frames
//! wait in [`SendStream`] until it picks them). Events too large for one frame are sent as
//! fragments, one per frame and sequence ([`FragInfo`]), and put back together by a
//! [`Reassembler`] with bounded memory and a timeout.

mod control;
mod inflight;
mod reassembly;
mod recv;
mod send;

pub use control::{ACK_FIXED_LEN, ACK_TYPE, Ack, ControlError, MAX_NACK_RANGES, NACK_RANGE_LEN};
pub use reassembly::{Dropped, FragDrop, Reassembler, ReassemblyLimits};
pub use recv::{Arrival, MAX_AHEAD, RecvStream};
pub use send::{DEFAULT_MAX_MESSAGE, ReadyFrame, SendStream, backoff};

use std::fmt;

/// What a stream's data packets carry in the header besides the stream id: the subprotocol id
/// (bytes 8-9) and the 16-bit channel hint (bytes 10-11). Both are authenticated (AAD). A send
/// stream's tag is fixed when it is opened; a receive stream takes the tag of its first data
/// packet and drops later packets with another one (`stream_tag_mismatch`). The default
/// (`0x0000`, 0) is plain events, what every stream carried before tags existed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct StreamTag {
    /// Subprotocol id (`0x0000` = plain events; `0x0A00` = channel membership, see
    /// `crate::membership`).
    pub subprotocol_id: u16,
    /// 16-bit channel hint (0 = none).
    pub channel_hash: u16,
}

/// Where a fragment belongs (header `frag_flags`, `fragment_id`, `fragment_offset`; see
/// `docs/wire.md`): an event too large for one frame is sent as fragments numbered from 0,
/// the last one flagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FragInfo {
    /// Which fragmented event of the stream (wraps at 65,536).
    pub id: u16,
    /// Index of this fragment within its event (header `fragment_offset`).
    pub index: u16,
    /// Whether it is the event's last fragment (`frag_flags::LAST`).
    pub last: bool,
}

/// How a stream treats loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamMode {
    /// Sent once; lost events stay lost; delivered in arrival order.
    FireAndForget,
    /// Acked, retransmitted, delivered in order exactly once, flow-controlled by credit.
    Reliable,
}

/// Why a stream refused an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamError {
    /// The receiver has not granted credit for this many bytes yet: retry after it consumes.
    Backpressure {
        /// Frame bytes already sent or queued beyond what was acked as consumed.
        in_flight: u64,
        /// The receiver's current credit limit minus bytes already counted.
        available: u64,
    },
    /// The event exceeds the largest message the stream sends (`max_message`, or for a
    /// reliable stream its window, which bounds the credit it can ever get).
    EventTooLarge {
        /// The event's length.
        len: usize,
        /// The largest event the stream accepts.
        max: usize,
    },
}

impl StreamError {
    /// Stable snake_case name.
    pub const fn kind(&self) -> &'static str {
        match self {
            StreamError::Backpressure { .. } => "backpressure",
            StreamError::EventTooLarge { .. } => "event_too_large",
        }
    }
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamError::Backpressure {
                in_flight,
                available,
            } => write!(
                f,
                "backpressure: {in_flight} bytes in flight, {available} bytes of credit left"
            ),
            StreamError::EventTooLarge { len, max } => {
                write!(f, "event of {len} bytes exceeds the {max}-byte limit")
            }
        }
    }
}

impl std::error::Error for StreamError {}
