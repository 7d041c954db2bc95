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
        // Bytes 0-7 and 56-63 are each built in a register and written with one 8-byte store:
        // the parse that usually follows checks them with one 8-byte load each (see `fast_ok`),
        // which the CPU forwards from its store buffer only if one store covers the whole load.
        // Every other field is written with its own width at its own offset, so each accessor's
        // load is likewise covered by a single store (a load spanning two stores, e.g. an
        // 8-byte load at 8 after a 4-byte store at 8, would stall).
        out[0..8].copy_from_slice(&self.word0().to_le_bytes());
        out[8..10].copy_from_slice(&self.subprotocol_id.to_le_bytes());
        out[10..12].copy_from_slice(&self.channel_hash.to_le_bytes());
        out[12..24].copy_from_slice(&self.nonce);
        out[24..32].copy_from_slice(&self.session_id.to_le_bytes());
        out[32..40].copy_from_slice(&self.stream_id.to_le_bytes());
        out[40..48].copy_from_slice(&self.sequence.to_le_bytes());
        out[48..52].copy_from_slice(&self.subnet_id.to_le_bytes());
        out[52..56].copy_from_slice(&self.origin_hash.to_le_bytes());
        out[56..64].copy_from_slice(&self.word7().to_le_bytes());
    }

    /// Bytes 0-7 as one little-endian word: magic, version, flags, priority, hop TTL, hop
    /// count, fragment flags.
    #[inline(always)]
    fn word0(&self) -> u64 {
        u64::from(MAGIC)
            | u64::from(VERSION) << 16
            | u64::from(self.flags) << 24
            | u64::from(self.priority) << 32
            | u64::from(self.hop_ttl) << 40
            | u64::from(self.hop_count) << 48
            | u64::from(self.frag_flags) << 56
    }

    /// Bytes 56-63 as one little-endian word: fragment id, fragment offset, payload length,
    /// event count.
    #[inline(always)]
    fn word7(&self) -> u64 {
        u64::from(self.fragment_id)
            | u64::from(self.fragment_offset) << 16
            | u64::from(self.payload_len) << 32
            | u64::from(self.event_count) << 48
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

/// Bits of bytes 0-7 (read as one little-endian word) that [`fast_ok`] compares with
/// [`WORD0_FIXED`]: magic, version, and the reserved bits of `flags` and `frag_flags`.
const WORD0_FIXED_MASK: u64 =
    0xFF_FFFF | (!flags::KNOWN as u64) << 24 | (!frag_flags::KNOWN as u64) << 56;
/// What the [`WORD0_FIXED_MASK`] bits of a valid header hold: the magic, the version, and zero
/// reserved bits.
const WORD0_FIXED: u64 = MAGIC as u64 | (VERSION as u64) << 16;

/// One combined test of every rule [`Header::parse`] enforces, on two 8-byte loads (bytes 0-7
/// and 56-63, each written by one store in [`Header::encode`]) and register arithmetic.
#[inline(always)]
fn fast_ok(b: &[u8; HEADER_LEN], datagram_len: usize) -> bool {
    let w0 = u64::from_le_bytes(array(b, 0));
    let w7 = u64::from_le_bytes(array(b, 56));
    let (ttl, count, frag) = ((w0 >> 40) as u8, (w0 >> 48) as u8, (w0 >> 56) as u8);
    // Not a fragment: frag_flags (so also LAST), fragment_id and fragment_offset are all zero.
    let fragment_ok = frag & frag_flags::FRAGMENT != 0 || (frag == 0 && w7 as u32 == 0);
    let payload_len = usize::from((w7 >> 32) as u16);
    w0 & WORD0_FIXED_MASK == WORD0_FIXED
        && count <= ttl
        && fragment_ok
        && payload_len <= datagram_len - HEADER_LEN
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

    /// The rules of `Header::parse`, written out one by one as the reference for `fast_ok`.
    fn reference_ok(b: &[u8; HEADER_LEN], datagram_len: usize) -> bool {
        let h = HeaderView { bytes: b }.to_header();
        u16::from_le_bytes([b[0], b[1]]) == MAGIC
            && b[2] == VERSION
            && h.validate().is_ok()
            && usize::from(h.payload_len) <= datagram_len - HEADER_LEN
    }

    /// The word-wise fast check accepts exactly what the field-by-field rules accept, for every
    /// single and every pair of bit flips in the checked bytes (0-7, 56-63) of a valid header,
    /// a fragment header and a non-fragment header, at three datagram lengths.
    #[test]
    fn fast_check_matches_the_field_rules() {
        let plain = Header {
            flags: flags::RELIABLE,
            hop_ttl: 4,
            hop_count: 2,
            payload_len: 3,
            ..Header::default()
        };
        let fragment = Header {
            frag_flags: frag_flags::FRAGMENT,
            fragment_id: 9,
            fragment_offset: 2,
            ..plain
        };
        let checked: Vec<usize> = (0..64).chain(448..512).collect();
        let (mut accepted, mut refused) = (0u32, 0u32);
        for base in [plain, fragment] {
            for (i, &x) in checked.iter().enumerate() {
                for &y in &checked[i..] {
                    let mut b = base.to_bytes();
                    b[x / 8] ^= 1 << (x % 8);
                    if y != x {
                        b[y / 8] ^= 1 << (y % 8);
                    }
                    for len in [HEADER_LEN, HEADER_LEN + 3, HEADER_LEN + 70_000] {
                        let expected = reference_ok(&b, len);
                        let mut datagram = vec![0u8; len];
                        datagram[..HEADER_LEN].copy_from_slice(&b);
                        let got = HeaderView::parse(&datagram);
                        assert_eq!(got.is_ok(), expected, "bits {x}, {y}, len {len}: {got:?}");
                        if expected {
                            accepted += 1;
                        } else {
                            refused += 1;
                            // The refusal names a rule the reference also finds broken.
                            assert!(got.is_err());
                        }
                    }
                }
            }
        }
        // Both outcomes occur often, so the comparison is not vacuous.
        assert!(
            accepted > 1_000 && refused > 10_000,
            "{accepted} / {refused}"
        );
    }

    /// Each rule, broken alone, gives its own error (the fast path defers to `diagnose`).
    #[test]
    fn each_rule_reports_its_own_error() {
        let good = Header {
            hop_ttl: 3,
            payload_len: 0,
            ..Header::default()
        }
        .to_bytes();
        let with = |at: usize, v: u8| {
            let mut b = good;
            b[at] = v;
            Header::parse(&b)
        };
        assert!(Header::parse(&good).is_ok());
        assert!(matches!(with(0, 0), Err(WireError::BadMagic(0x4E00))));
        assert!(matches!(with(2, 2), Err(WireError::UnsupportedVersion(2))));
        assert!(matches!(
            with(3, 0x10),
            Err(WireError::ReservedBits { field: "flags", .. })
        ));
        assert!(matches!(
            with(7, 0x04),
            Err(WireError::ReservedBits {
                field: "frag_flags",
                ..
            })
        ));
        assert!(matches!(
            with(6, 4),
            Err(WireError::HopLimitExceeded { .. })
        ));
        assert!(matches!(
            with(7, frag_flags::LAST),
            Err(WireError::BadFragment)
        ));
        assert!(matches!(with(56, 1), Err(WireError::BadFragment)));
        assert!(matches!(with(59, 1), Err(WireError::BadFragment)));
        assert!(matches!(
            with(60, 1),
            Err(WireError::PayloadBeyondDatagram { .. })
        ));
        assert!(matches!(
            Header::parse(&good[..63]),
            Err(WireError::Truncated {
                needed: 64,
                got: 63
            })
        ));
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
