//! The event frame: many events packed into one packet payload.
//!
//! Layout: `event_count` entries back to back, each a little-endian `u16` length followed by
//! that many bytes; nothing before, between or after. The count is not in the frame; it is the
//! header's `event_count` (byte 62-63), which the AEAD authenticates.
//!
//! Promises: [`FrameWriter`] never writes past its buffer (a full buffer is [`WireError::FrameFull`]);
//! [`Frame::parse`] checks every length prefix against the bytes present, the number of events
//! against the expected count, and rejects trailing bytes, in one pass without allocating. It
//! does not interpret event bytes (JSON validation is the bus's job).

use super::WireError;

/// Bytes of the length prefix in front of each event.
pub const EVENT_PREFIX_LEN: usize = 2;

/// Writes events into a caller-owned buffer (typically the payload area of a packet buffer).
#[derive(Debug)]
pub struct FrameWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
    count: u16,
}

impl<'a> FrameWriter<'a> {
    /// A writer filling `buf` from its start.
    pub fn new(buf: &'a mut [u8]) -> Self {
        FrameWriter {
            buf,
            len: 0,
            count: 0,
        }
    }

    /// Appends one event. Fails without writing anything if it does not fit, if the event is
    /// longer than 65,535 bytes, or if the frame already holds 65,535 events.
    pub fn push(&mut self, event: &[u8]) -> Result<(), WireError> {
        let n = u16::try_from(event.len()).map_err(|_| WireError::EventTooLarge(event.len()))?;
        let end = self.len + EVENT_PREFIX_LEN + event.len();
        if end > self.buf.len() || self.count == u16::MAX {
            return Err(WireError::FrameFull);
        }
        let body = self.len + EVENT_PREFIX_LEN;
        self.buf[self.len..body].copy_from_slice(&n.to_le_bytes());
        self.buf[body..end].copy_from_slice(event);
        self.len = end;
        self.count += 1;
        Ok(())
    }

    /// Whether an event of `event_len` bytes would fit.
    pub fn fits(&self, event_len: usize) -> bool {
        event_len <= usize::from(u16::MAX)
            && self.count < u16::MAX
            && self.len + EVENT_PREFIX_LEN + event_len <= self.buf.len()
    }

    /// Bytes written so far (the frame's length, i.e. the plaintext payload length).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no event has been written.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Events written so far (the header's `event_count`).
    pub fn count(&self) -> u16 {
        self.count
    }
}

/// A frame whose structure has been fully checked; iterating it cannot fail.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    bytes: &'a [u8],
    count: u16,
}

impl<'a> Frame<'a> {
    /// Checks that `bytes` holds exactly `expected_count` length-prefixed events and nothing else.
    pub fn parse(bytes: &'a [u8], expected_count: u16) -> Result<Frame<'a>, WireError> {
        let mut at = 0usize;
        let mut found: u16 = 0;
        while at < bytes.len() {
            if found == expected_count {
                // Something follows the last expected event: either more events or garbage.
                return Err(match Self::count_rest(&bytes[at..]) {
                    Some(more) => WireError::EventCountMismatch {
                        expected: expected_count,
                        found: expected_count.saturating_add(more),
                    },
                    None => WireError::TrailingBytes(bytes.len() - at),
                });
            }
            let Some(prefix) = bytes.get(at..at + EVENT_PREFIX_LEN) else {
                return Err(WireError::FrameTruncated { index: found });
            };
            let n = usize::from(u16::from_le_bytes([prefix[0], prefix[1]]));
            let end = at + EVENT_PREFIX_LEN + n;
            if end > bytes.len() {
                return Err(WireError::FrameTruncated { index: found });
            }
            at = end;
            found += 1;
        }
        if found != expected_count {
            return Err(WireError::EventCountMismatch {
                expected: expected_count,
                found,
            });
        }
        Ok(Frame {
            bytes,
            count: found,
        })
    }

    /// Events after a complete prefix of the frame, if the rest is itself a well-formed frame.
    fn count_rest(rest: &[u8]) -> Option<u16> {
        let mut at = 0usize;
        let mut n: u16 = 0;
        while at < rest.len() {
            let prefix = rest.get(at..at + EVENT_PREFIX_LEN)?;
            at += EVENT_PREFIX_LEN + usize::from(u16::from_le_bytes([prefix[0], prefix[1]]));
            n = n.checked_add(1)?;
        }
        (at == rest.len()).then_some(n)
    }

    /// Number of events in the frame.
    pub fn count(&self) -> u16 {
        self.count
    }

    /// The events, in order, as borrowed slices.
    pub fn iter(&self) -> FrameIter<'a> {
        FrameIter { rest: self.bytes }
    }
}

impl<'a> IntoIterator for Frame<'a> {
    type Item = &'a [u8];
    type IntoIter = FrameIter<'a>;
    fn into_iter(self) -> FrameIter<'a> {
        self.iter()
    }
}

/// Iterator over the events of a checked [`Frame`].
#[derive(Debug, Clone)]
pub struct FrameIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for FrameIter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        // The frame was checked by `Frame::parse`; `get` keeps this total anyway.
        let prefix = self.rest.get(..EVENT_PREFIX_LEN)?;
        let n = usize::from(u16::from_le_bytes([prefix[0], prefix[1]]));
        let event = self.rest.get(EVENT_PREFIX_LEN..EVENT_PREFIX_LEN + n)?;
        self.rest = &self.rest[EVENT_PREFIX_LEN + n..];
        Some(event)
    }
}
