//! The mesh wire format: the 64-byte Net header, the 18-byte routing header, the AAD and the
//! event frame. Byte-by-byte description: `docs/wire.md`; golden bytes: `tests/cross_lang/wire/`.
//!
//! Promises: every layout is fixed, little-endian and versioned ([`VERSION`]); every parser is
//! total (a typed [`WireError`] for any malformed input, never a panic, never an allocation);
//! `parse(encode(x)) == x` for every valid `x`. What it does not do: cryptography (see
//! `mesh::crypto`), or decide what a packet means (sessions, streams and routing are later layers).

mod aad;
mod error;
mod frame;
mod header;
mod routing;

pub use aad::{AAD_LEN, aad};
pub use error::WireError;
pub use frame::{EVENT_PREFIX_LEN, Frame, FrameIter, FrameWriter};
pub use header::{HEADER_LEN, Header, HeaderView, MAGIC, VERSION, flags, frag_flags};
pub use routing::{
    ROUTING_HEADER_LEN, ROUTING_MAGIC, ROUTING_MAGIC_BYTES, RoutingHeader, route_flags,
};

/// What a datagram is, judged from its first two bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatagramKind {
    /// Starts with the Net header magic (bytes `45 4E`): a packet for a direct peer.
    Direct,
    /// Starts with `"RT"` (bytes `52 54`): a routing header, then a Net packet.
    Routed,
}

/// Classifies a datagram by bytes 0-1 alone, without parsing further.
#[inline]
pub fn classify(datagram: &[u8]) -> Result<DatagramKind, WireError> {
    match datagram {
        [0x45, 0x4E, ..] => Ok(DatagramKind::Direct),
        [0x52, 0x54, ..] => Ok(DatagramKind::Routed),
        [a, b, ..] => Err(WireError::BadMagic(u16::from_le_bytes([*a, *b]))),
        _ => Err(WireError::Truncated {
            needed: 2,
            got: datagram.len(),
        }),
    }
}

/// Parses a Net packet that must be exactly header + payload: returns the header and the
/// payload bytes (ciphertext and tag for a sealed packet). Trailing bytes are an error.
#[inline]
pub fn split_packet(packet: &[u8]) -> Result<(Header, &[u8]), WireError> {
    let header = Header::parse(packet)?;
    let end = HEADER_LEN + usize::from(header.payload_len);
    if packet.len() != end {
        return Err(WireError::TrailingBytes(packet.len() - end));
    }
    Ok((header, &packet[HEADER_LEN..end]))
}

/// A parsed datagram: an optional routing header, the Net header and the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedDatagram<'a> {
    /// The routing header, for routed datagrams.
    pub routing: Option<RoutingHeader>,
    /// The Net header.
    pub header: Header,
    /// The payload (still sealed).
    pub payload: &'a [u8],
}

/// Classifies and parses a whole datagram (routing header if any, Net header, exact payload).
/// This is the entry point the fuzz target and the saved corpus exercise.
pub fn parse_datagram(datagram: &[u8]) -> Result<ParsedDatagram<'_>, WireError> {
    match classify(datagram)? {
        DatagramKind::Direct => {
            let (header, payload) = split_packet(datagram)?;
            Ok(ParsedDatagram {
                routing: None,
                header,
                payload,
            })
        }
        DatagramKind::Routed => {
            let routing = RoutingHeader::parse(datagram)?;
            let (header, payload) = split_packet(&datagram[ROUTING_HEADER_LEN..])?;
            Ok(ParsedDatagram {
                routing: Some(routing),
                header,
                payload,
            })
        }
    }
}
