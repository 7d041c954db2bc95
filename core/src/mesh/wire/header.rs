//! The 64-byte Net header: one cache line, little-endian, fixed offsets (see `docs/wire.md`).
//!
//! Promises: [`Header::encode`] writes exactly the layout below and [`Header::parse`] accepts
//! exactly what `encode` can produce for a valid header (plus the payload-length check against
//! the datagram); anything else is a typed [`WireError`], never a panic. [`HeaderView::parse`]
//! applies the same rules without copying, for readers that need only a few fields. It does not promise
//! anything about the payload: that is ciphertext until `mesh::crypto` opens it.
//!
//! ```text
//! 0-1 magic 0x4E45 (bytes 45 4E)  2 version  3 flags  4 priority  5 hop_ttl  6 hop_count
//! 7 frag_flags  8-9 subprotocol_id  10-11 channel_hash  12-23 nonce  24-31 session_id
//! 32-39 stream_id  40-47 sequence  48-51 subnet_id  52-55 origin_hash  56-57 fragment_id
//! 58-59 fragment_offset  60-61 payload_len  62-63 event_count
//! ```

use super::WireError;

/// Size of the Net header in bytes.
pub const HEADER_LEN: usize = 64;
/// The Net header magic as a little-endian `u16` (bytes `0x45, 0x4E` on the wire).
pub const MAGIC: u16 = 0x4E45;
/// The wire version this build writes and the only one it accepts.
pub const VERSION: u8 = 1;

/// Bits of the header's `flags` byte (byte 3). Bits not listed here are reserved and must be 0.
pub mod flags {
    /// The payload is a handshake message (not AEAD-sealed; Noise protects it).
    pub const HANDSHAKE: u8 = 0x01;
    /// The payload is a control message of the session (acks, heartbeats, credit).
    pub const CONTROL: u8 = 0x02;
    /// The packet belongs to a reliable stream (the receiver acknowledges it).
    pub const RELIABLE: u8 = 0x04;
    /// The packet is a heartbeat (liveness probe).
    pub const HEARTBEAT: u8 = 0x08;
    /// Every defined bit; the rest are reserved.
    pub const KNOWN: u8 = HANDSHAKE | CONTROL | RELIABLE | HEARTBEAT;
}

/// Bits of the header's `frag_flags` byte (byte 7). Bits not listed here are reserved and must be 0.
pub mod frag_flags {
    /// The packet carries one fragment of a larger message.
    pub const FRAGMENT: u8 = 0x01;
    /// The fragment is the last of its message (only valid with [`FRAGMENT`]).
    pub const LAST: u8 = 0x02;
    /// Every defined bit; the rest are reserved.
    pub const KNOWN: u8 = FRAGMENT | LAST;
}

/// The decoded Net header. Magic and version are implied (always [`MAGIC`], [`VERSION`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Header {
    /// Byte 3: packet flags, see [`flags`].
    pub flags: u8,
    /// Byte 4: scheduling priority (higher is more urgent).
    pub priority: u8,
    /// Byte 5: hop budget set by the origin; authenticated (part of the AAD).
    pub hop_ttl: u8,
    /// Byte 6: hops taken so far; relays increment it, so it is not authenticated.
    pub hop_count: u8,
    /// Byte 7: fragmentation flags, see [`frag_flags`].
    pub frag_flags: u8,
    /// Bytes 8-9: subprotocol id (`0x0000` = plain events).
    pub subprotocol_id: u16,
    /// Bytes 10-11: 16-bit hash of the channel name.
    pub channel_hash: u16,
    /// Bytes 12-23: AEAD nonce (4 zero bytes then the sender's 64-bit packet counter, LE).
    pub nonce: [u8; 12],
    /// Bytes 24-31: session id agreed by the handshake.
    pub session_id: u64,
    /// Bytes 32-39: stream id within the session.
    pub stream_id: u64,
    /// Bytes 40-47: sequence number within the stream.
    pub sequence: u64,
    /// Bytes 48-51: 4-level subnet id (8/8/8/8).
    pub subnet_id: u32,
    /// Bytes 52-55: origin hash of the node that created the packet.
    pub origin_hash: u32,
    /// Bytes 56-57: id of the fragmented message within its stream (0 when not a fragment).
    pub fragment_id: u16,
    /// Bytes 58-59: position of this fragment in its message, counted in fragments from 0
    /// (every fragment but the last carries exactly one frame's worth of bytes; 0 when not a
    /// fragment). Counting fragments rather than bytes lets a u16 describe messages far
    /// larger than 64 KiB.
    pub fragment_offset: u16,
    /// Bytes 60-61: bytes of payload after the header (ciphertext plus tag when sealed).
    pub payload_len: u16,
    /// Bytes 62-63: number of events in the payload's event frame.
    pub event_count: u16,
}

impl Header {
    /// Writes the 64 header bytes. Infallible: it writes whatever the fields hold, so a header
    /// that fails [`Header::validate`] encodes but does not parse.
    #[inline]
    pub fn encode(&self, out: &mut [u8; HEADER_LEN]) {
        // One store per field at its own offset: a parse that follows loads each field with the
        // same offset and width, which the CPU forwards straight from its store buffer.
        out[0..2].copy_from_slice(&MAGIC.to_le_bytes());
        out[2] = VERSION;
        out[3] = self.flags;
        out[4] = self.priority;
        out[5] = self.hop_ttl;
        out[6] = self.hop_count;
        out[7] = self.frag_flags;
        out[8..10].copy_from_slice(&self.subprotocol_id.to_le_bytes());
        out[10..12].copy_from_slice(&self.channel_hash.to_le_bytes());
        out[12..24].copy_from_slice(&self.nonce);
        out[24..32].copy_from_slice(&self.session_id.to_le_bytes());
        out[32..40].copy_from_slice(&self.stream_id.to_le_bytes());
        out[40..48].copy_from_slice(&self.sequence.to_le_bytes());
        out[48..52].copy_from_slice(&self.subnet_id.to_le_bytes());
        out[52..56].copy_from_slice(&self.origin_hash.to_le_bytes());
        out[56..58].copy_from_slice(&self.fragment_id.to_le_bytes());
        out[58..60].copy_from_slice(&self.fragment_offset.to_le_bytes());
        out[60..62].copy_from_slice(&self.payload_len.to_le_bytes());
        out[62..64].copy_from_slice(&self.event_count.to_le_bytes());
    }

    /// The header as a fresh 64-byte array.
    #[inline]
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        self.encode(&mut out);
        out
    }

    /// Parses the header at the start of `datagram` (the bytes after any routing header) and
    /// checks that `payload_len` bytes follow it. Extra bytes after the payload are allowed here;
    /// [`split_packet`](super::split_packet) rejects them.
    #[inline]
    pub fn parse(datagram: &[u8]) -> Result<Header, WireError> {
        HeaderView::parse(datagram).map(|v| v.to_header())
    }

    /// Checks the field-level rules `parse` enforces: no reserved flag bits, `hop_count <=
    /// hop_ttl`, and fragment fields zero unless [`frag_flags::FRAGMENT`] is set.
    #[inline]
    pub fn validate(&self) -> Result<(), WireError> {
        if self.flags & !flags::KNOWN != 0 {
            return Err(WireError::ReservedBits {
                field: "flags",
                bits: self.flags & !flags::KNOWN,
            });
        }
        if self.frag_flags & !frag_flags::KNOWN != 0 {
            let bits = self.frag_flags & !frag_flags::KNOWN;
            return Err(WireError::ReservedBits {
                field: "frag_flags",
                bits,
            });
        }
        if self.hop_count > self.hop_ttl {
            return Err(WireError::HopLimitExceeded {
                hop_ttl: self.hop_ttl,
                hop_count: self.hop_count,
            });
        }
        let fragment = self.frag_flags & frag_flags::FRAGMENT != 0;
        if !fragment && (self.frag_flags != 0 || self.fragment_id != 0 || self.fragment_offset != 0)
        {
            return Err(WireError::BadFragment);
        }
        Ok(())
    }
}

/// One combined test of every rule [`Header::parse`] enforces. Each field is loaded with its
/// own offset and width (see [`Header::encode`]).
#[inline(always)]
fn fast_ok(b: &[u8; HEADER_LEN], datagram_len: usize) -> bool {
    let u16_at = |at: usize| u16::from_le_bytes([b[at], b[at + 1]]);
    let (flags_byte, ttl, count, frag) = (b[3], b[5], b[6], b[7]);
    let fragment = frag & frag_flags::FRAGMENT != 0;
    u16_at(0) == MAGIC
        && b[2] == VERSION
        && flags_byte & !flags::KNOWN == 0
        && frag & !frag_flags::KNOWN == 0
        && count <= ttl
        && (fragment || (frag == 0 && u16_at(56) == 0 && u16_at(58) == 0))
        && usize::from(u16_at(60)) <= datagram_len - HEADER_LEN
}

/// The error for a header the fast path refused, naming the first failing rule in the
/// documented order (magic, version, field rules, payload length).
#[cold]
#[inline(never)]
fn diagnose(b: &[u8; HEADER_LEN], datagram_len: usize) -> WireError {
    let magic = u16::from_le_bytes([b[0], b[1]]);
    if magic != MAGIC {
        return WireError::BadMagic(magic);
    }
    if b[2] != VERSION {
        return WireError::UnsupportedVersion(b[2]);
    }
    let h = HeaderView { bytes: b }.to_header();
    if let Err(e) = h.validate() {
        return e;
    }
    WireError::PayloadBeyondDatagram {
        payload_len: h.payload_len,
        available: datagram_len - HEADER_LEN,
    }
}

/// A validated, borrowed view of a Net header: [`HeaderView::parse`] enforces exactly the rules
/// of [`Header::parse`] but copies nothing; accessors read the bytes on demand. Relays and the
/// receive path use it to look at a few fields without decoding all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderView<'a> {
    bytes: &'a [u8; HEADER_LEN],
}

macro_rules! view_fields {
    ($($(#[$doc:meta])* $name:ident: $ty:ty = $at:expr;)*) => {
        $(
            $(#[$doc])*
            #[inline(always)]
            pub fn $name(&self) -> $ty {
                <$ty>::from_le_bytes(array(self.bytes, $at))
            }
        )*
    };
}

impl<'a> HeaderView<'a> {
    /// Validates the header at the start of `datagram` (same rules and errors as [`Header::parse`]).
    #[inline]
    pub fn parse(datagram: &'a [u8]) -> Result<HeaderView<'a>, WireError> {
        let Some(b) = datagram.first_chunk::<HEADER_LEN>() else {
            return Err(WireError::Truncated {
                needed: HEADER_LEN,
                got: datagram.len(),
            });
        };
        if fast_ok(b, datagram.len()) {
            Ok(HeaderView { bytes: b })
        } else {
            Err(diagnose(b, datagram.len()))
        }
    }

    /// The 64 header bytes.
    pub fn as_bytes(&self) -> &'a [u8; HEADER_LEN] {
        self.bytes
    }

    view_fields! {
        /// Byte 3.
        flags: u8 = 3;
        /// Byte 4.
        priority: u8 = 4;
        /// Byte 5.
        hop_ttl: u8 = 5;
        /// Byte 6.
        hop_count: u8 = 6;
        /// Byte 7.
        frag_flags: u8 = 7;
        /// Bytes 8-9.
        subprotocol_id: u16 = 8;
        /// Bytes 10-11.
        channel_hash: u16 = 10;
        /// Bytes 24-31.
        session_id: u64 = 24;
        /// Bytes 32-39.
        stream_id: u64 = 32;
        /// Bytes 40-47.
        sequence: u64 = 40;
        /// Bytes 48-51.
        subnet_id: u32 = 48;
        /// Bytes 52-55.
        origin_hash: u32 = 52;
        /// Bytes 56-57.
        fragment_id: u16 = 56;
        /// Bytes 58-59.
        fragment_offset: u16 = 58;
        /// Bytes 60-61.
        payload_len: u16 = 60;
        /// Bytes 62-63.
        event_count: u16 = 62;
    }

    /// Bytes 12-23.
    #[inline(always)]
    pub fn nonce(&self) -> [u8; 12] {
        array(self.bytes, 12)
    }

    /// Decodes every field into an owned [`Header`].
    pub fn to_header(&self) -> Header {
        Header {
            flags: self.flags(),
            priority: self.priority(),
            hop_ttl: self.hop_ttl(),
            hop_count: self.hop_count(),
            frag_flags: self.frag_flags(),
            subprotocol_id: self.subprotocol_id(),
            channel_hash: self.channel_hash(),
            nonce: self.nonce(),
            session_id: self.session_id(),
            stream_id: self.stream_id(),
            sequence: self.sequence(),
            subnet_id: self.subnet_id(),
            origin_hash: self.origin_hash(),
            fragment_id: self.fragment_id(),
            fragment_offset: self.fragment_offset(),
            payload_len: self.payload_len(),
            event_count: self.event_count(),
        }
    }
}

/// Copies `N` bytes of the header starting at `at`; the offsets used are all constant and in range.
#[inline(always)]
fn array<const N: usize>(b: &[u8; HEADER_LEN], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&b[at..at + N]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each field, set alone to all-ones, lights exactly the bytes the diagram gives it.
    #[test]
    fn field_offsets_match_the_diagram() {
        let base = Header::default().to_bytes();
        let cases: [(&str, Header, std::ops::Range<usize>); 17] = [
            (
                "flags",
                Header {
                    flags: 0xFF,
                    ..Header::default()
                },
                3..4,
            ),
            (
                "priority",
                Header {
                    priority: 0xFF,
                    ..Header::default()
                },
                4..5,
            ),
            (
                "hop_ttl",
                Header {
                    hop_ttl: 0xFF,
                    ..Header::default()
                },
                5..6,
            ),
            (
                "hop_count",
                Header {
                    hop_count: 0xFF,
                    ..Header::default()
                },
                6..7,
            ),
            (
                "frag_flags",
                Header {
                    frag_flags: 0xFF,
                    ..Header::default()
                },
                7..8,
            ),
            (
                "subprotocol_id",
                Header {
                    subprotocol_id: 0xFFFF,
                    ..Header::default()
                },
                8..10,
            ),
            (
                "channel_hash",
                Header {
                    channel_hash: 0xFFFF,
                    ..Header::default()
                },
                10..12,
            ),
            (
                "nonce",
                Header {
                    nonce: [0xFF; 12],
                    ..Header::default()
                },
                12..24,
            ),
            (
                "session_id",
                Header {
                    session_id: u64::MAX,
                    ..Header::default()
                },
                24..32,
            ),
            (
                "stream_id",
                Header {
                    stream_id: u64::MAX,
                    ..Header::default()
                },
                32..40,
            ),
            (
                "sequence",
                Header {
                    sequence: u64::MAX,
                    ..Header::default()
                },
                40..48,
            ),
            (
                "subnet_id",
                Header {
                    subnet_id: u32::MAX,
                    ..Header::default()
                },
                48..52,
            ),
            (
                "origin_hash",
                Header {
                    origin_hash: u32::MAX,
                    ..Header::default()
                },
                52..56,
            ),
            (
                "fragment_id",
                Header {
                    fragment_id: 0xFFFF,
                    ..Header::default()
                },
                56..58,
            ),
            (
                "fragment_offset",
                Header {
                    fragment_offset: 0xFFFF,
                    ..Header::default()
                },
                58..60,
            ),
            (
                "payload_len",
                Header {
                    payload_len: 0xFFFF,
                    ..Header::default()
                },
                60..62,
            ),
            (
                "event_count",
                Header {
                    event_count: 0xFFFF,
                    ..Header::default()
                },
                62..64,
            ),
        ];
        assert_eq!(&base[..3], &[0x45, 0x4E, VERSION]);
        assert!(base[3..].iter().all(|&b| b == 0));
        for (name, h, range) in cases {
            let bytes = h.to_bytes();
            for (i, (&b, &z)) in bytes.iter().zip(base.iter()).enumerate() {
                let expected = if range.contains(&i) { 0xFF } else { z };
                assert_eq!(b, expected, "{name}: byte {i}");
            }
        }
    }

    #[test]
    fn little_endian_values() {
        let h = Header {
            sequence: 0x0102_0304_0506_0708,
            subprotocol_id: 0x0A0B,
            ..Header::default()
        };
        let b = h.to_bytes();
        assert_eq!(&b[40..48], &[8, 7, 6, 5, 4, 3, 2, 1]);
        assert_eq!(&b[8..10], &[0x0B, 0x0A]);
    }
}
