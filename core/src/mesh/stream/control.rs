//! The acknowledgement a receiver sends for a reliable stream, carried sealed in a Net packet
//! with the CONTROL flag (header `stream_id` names the stream, `event_count` is 0).
//!
//! Layout (little-endian): `type (u8) = 1`, `cumulative (u64)`: every sequence up to it was
//! received; `highest (u64)`: the highest sequence received; `credit_limit (u64)`: the sender
//! may have sent frames totalling at most this many bytes; `nack_count (u16)`; then
//! `nack_count` ranges of missing sequences, each `start (u64) || len (u32)`, all inside
//! `(cumulative, highest)`. Sequences in that interval not named by a range were received.
//!
//! Promises: [`Ack::parse`] is total and strict (exact length, ranges ordered, non-empty,
//! inside the interval); [`Ack::encode`] writes at most [`MAX_NACK_RANGES`] ranges (the oldest
//! gaps first), so an ack always fits one packet. Not promised: that an ack arrives (acks are
//! refreshed on a timer instead).

/// Control message type byte of an [`Ack`].
pub const ACK_TYPE: u8 = 1;
/// Bytes of an ack before its ranges.
pub const ACK_FIXED_LEN: usize = 1 + 8 + 8 + 8 + 2;
/// Bytes of one NACK range.
pub const NACK_RANGE_LEN: usize = 12;
/// Most NACK ranges one ack carries.
pub const MAX_NACK_RANGES: usize = 64;

/// A selective acknowledgement with a credit limit.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ack {
    /// Every sequence `<=` this was received (0: none yet; sequences start at 1).
    pub cumulative: u64,
    /// The highest sequence received (`>= cumulative`).
    pub highest: u64,
    /// Total frame bytes the sender may have sent on this stream.
    pub credit_limit: u64,
    /// Missing sequences in `(cumulative, highest)` as `(start, len)`, ascending, disjoint.
    pub nacks: Vec<(u64, u32)>,
}

/// Why a control payload was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlError {
    /// Unknown type byte or empty payload.
    UnknownType,
    /// Length does not match the declared ranges.
    BadLength,
    /// `highest < cumulative`, or a range is empty, out of order or outside the interval.
    Inconsistent,
}

impl ControlError {
    /// Stable snake_case name.
    pub const fn kind(&self) -> &'static str {
        match self {
            ControlError::UnknownType => "control_unknown_type",
            ControlError::BadLength => "control_bad_length",
            ControlError::Inconsistent => "control_inconsistent",
        }
    }
}

impl std::fmt::Display for ControlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.kind())
    }
}

impl std::error::Error for ControlError {}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(x)
}

impl Ack {
    /// Bytes [`encode`](Self::encode) writes.
    pub fn encoded_len(&self) -> usize {
        ACK_FIXED_LEN + self.nacks.len().min(MAX_NACK_RANGES) * NACK_RANGE_LEN
    }

    /// Appends the encoding to `out` (at most [`MAX_NACK_RANGES`] ranges).
    pub fn encode(&self, out: &mut Vec<u8>) {
        let n = self.nacks.len().min(MAX_NACK_RANGES);
        out.push(ACK_TYPE);
        out.extend_from_slice(&self.cumulative.to_le_bytes());
        out.extend_from_slice(&self.highest.to_le_bytes());
        out.extend_from_slice(&self.credit_limit.to_le_bytes());
        // n <= 64 fits a u16.
        out.extend_from_slice(&(n as u16).to_le_bytes());
        for &(start, len) in &self.nacks[..n] {
            out.extend_from_slice(&start.to_le_bytes());
            out.extend_from_slice(&len.to_le_bytes());
        }
    }

    /// Parses and checks an ack.
    pub fn parse(b: &[u8]) -> Result<Ack, ControlError> {
        match b.first() {
            Some(&ACK_TYPE) => {}
            _ => return Err(ControlError::UnknownType),
        }
        if b.len() < ACK_FIXED_LEN {
            return Err(ControlError::BadLength);
        }
        let n = usize::from(u16::from_le_bytes([b[25], b[26]]));
        if n > MAX_NACK_RANGES || b.len() != ACK_FIXED_LEN + n * NACK_RANGE_LEN {
            return Err(ControlError::BadLength);
        }
        let cumulative = u64_at(b, 1);
        let highest = u64_at(b, 9);
        let credit_limit = u64_at(b, 17);
        if highest < cumulative {
            return Err(ControlError::Inconsistent);
        }
        let mut nacks = Vec::with_capacity(n);
        let mut floor = cumulative; // next range must start above this
        for i in 0..n {
            let at = ACK_FIXED_LEN + i * NACK_RANGE_LEN;
            let start = u64_at(b, at);
            let len = u32::from_le_bytes([b[at + 8], b[at + 9], b[at + 10], b[at + 11]]);
            let Some(end) = start.checked_add(u64::from(len)) else {
                return Err(ControlError::Inconsistent);
            };
            if len == 0 || start <= floor || end > highest {
                return Err(ControlError::Inconsistent);
            }
            floor = end;
            nacks.push((start, len));
        }
        Ok(Ack {
            cumulative,
            highest,
            credit_limit,
            nacks,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_strictness() {
        let ack = Ack {
            cumulative: 4,
            highest: 20,
            credit_limit: 1 << 20,
            nacks: vec![(5, 2), (10, 3)],
        };
        let mut b = Vec::new();
        ack.encode(&mut b);
        assert_eq!(b.len(), ack.encoded_len());
        assert_eq!(Ack::parse(&b), Ok(ack.clone()));
        assert_eq!(Ack::parse(&b[..b.len() - 1]), Err(ControlError::BadLength));
        assert_eq!(Ack::parse(&[]), Err(ControlError::UnknownType));
        let mut bad = ack.clone();
        bad.nacks = vec![(10, 3), (5, 2)];
        let mut b = Vec::new();
        bad.encode(&mut b);
        assert_eq!(Ack::parse(&b), Err(ControlError::Inconsistent));
        bad.nacks = vec![(18, 5)];
        let mut b = Vec::new();
        bad.encode(&mut b);
        assert_eq!(Ack::parse(&b), Err(ControlError::Inconsistent));
    }
}
