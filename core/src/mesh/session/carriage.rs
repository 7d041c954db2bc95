//! How handshake messages, heartbeats, acks and data frames become Net packets.
//!
//! - Handshake: a cleartext packet with only the HANDSHAKE flag set and every other header
//!   field zero except `payload_len`; the payload is the handshake message (Noise protects it).
//!   A receiver refuses a handshake packet whose other fields are not zero, so no header byte
//!   of it can be altered unnoticed.
//! - Heartbeat: sealed, HEARTBEAT flag, plaintext the one-byte link report, stream and
//!   sequence 0.
//! - Ack: sealed, CONTROL flag, `stream_id` of the acked stream, plaintext an encoded
//!   [`Ack`](crate::mesh::stream::Ack).
//! - Data: sealed, RELIABLE flag for reliable streams, `stream_id`, `sequence`, `event_count`,
//!   the stream's tag (`subprotocol_id`, `channel_hash`; zero for plain streams, see
//!   [`StreamTag`](crate::mesh::stream::StreamTag)), plaintext an event frame. Every other
//!   sealed packet has a zero tag.
//!
//! All sealed packets carry the session id and this node's origin hash. Direct packets have
//! `hop_ttl` and `hop_count` 0. A routed packet (one sent through a relay) is the same packet
//! behind an 18-byte routing header, with `hop_ttl` set to the origin's hop budget (the same
//! value as the routing header's `ttl`; authenticated for sealed packets) and `hop_count` 0;
//! relays increment `hop_count`. A routed handshake packet may therefore have nonzero hop
//! fields; every other field rule stays.

use crate::mesh::crypto::{CryptoError, Sealer, TAG_LEN};
use crate::mesh::stream::{FragInfo, StreamTag};
use crate::mesh::wire::{HEADER_LEN, Header, ROUTING_HEADER_LEN, RoutingHeader, flags, frag_flags};

/// A direct handshake packet carrying `msg`, or `None` if `msg` is longer than a payload can
/// be.
pub fn handshake_packet(msg: &[u8]) -> Option<Vec<u8>> {
    handshake_datagram(msg, None)
}

/// A handshake datagram carrying `msg`: behind `route` (and with the Net `hop_ttl` set to its
/// `ttl`) when given, else a direct packet. `None` if `msg` is too long for one payload.
pub fn handshake_datagram(msg: &[u8], route: Option<&RoutingHeader>) -> Option<Vec<u8>> {
    let header = Header {
        flags: flags::HANDSHAKE,
        hop_ttl: route.map_or(0, |r| r.ttl),
        payload_len: u16::try_from(msg.len()).ok()?,
        ..Header::default()
    };
    let mut out = Vec::with_capacity(ROUTING_HEADER_LEN + HEADER_LEN + msg.len());
    if let Some(r) = route {
        out.extend_from_slice(&r.to_bytes());
    }
    out.extend_from_slice(&header.to_bytes());
    out.extend_from_slice(msg);
    Some(out)
}

/// Whether `header` is a well-formed direct handshake packet header (see the module doc).
pub fn is_handshake_header(header: &Header) -> bool {
    *header
        == Header {
            flags: flags::HANDSHAKE,
            payload_len: header.payload_len,
            ..Header::default()
        }
}

/// Whether `header` is a well-formed routed handshake packet header: as
/// [`is_handshake_header`], except that `hop_ttl` and `hop_count` may be nonzero (the parser
/// already enforced `hop_count <= hop_ttl`).
pub fn is_routed_handshake_header(header: &Header) -> bool {
    *header
        == Header {
            flags: flags::HANDSHAKE,
            hop_ttl: header.hop_ttl,
            hop_count: header.hop_count,
            payload_len: header.payload_len,
            ..Header::default()
        }
}

/// What goes into a sealed packet's header besides nonce and length.
#[derive(Debug, Clone, Copy)]
pub struct SealedKind {
    /// Header flags.
    pub flags: u8,
    /// Session id.
    pub session_id: u64,
    /// Stream id.
    pub stream_id: u64,
    /// Sequence.
    pub sequence: u64,
    /// Sender's origin hash.
    pub origin_hash: u32,
    /// Events in the plaintext (0 unless data).
    pub event_count: u16,
    /// Subprotocol id and channel hint (zero unless a tagged data stream).
    pub tag: StreamTag,
    /// Header byte 4: the sending stream's priority (0 for control packets).
    pub priority: u8,
    /// For a fragment of a large event: `frag_flags` (FRAGMENT, LAST on the last),
    /// `fragment_id`, and the index as `fragment_offset`.
    pub frag: Option<FragInfo>,
}

/// Seals `plaintext` into a fresh direct datagram.
pub fn sealed_packet(
    sealer: &mut Sealer,
    kind: SealedKind,
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    sealed_datagram(sealer, kind, None, plaintext)
}

/// Seals `plaintext` into a fresh datagram: behind `route` when given (the Net `hop_ttl`,
/// which the AEAD authenticates, is then the routing header's `ttl`), else a direct packet.
pub fn sealed_datagram(
    sealer: &mut Sealer,
    kind: SealedKind,
    route: Option<&RoutingHeader>,
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let mut buf = Vec::new();
    sealed_datagram_into(&mut buf, sealer, kind, route, plaintext)?;
    Ok(buf)
}

/// As [`sealed_datagram`], writing the datagram into `buf` (replacing its contents; no
/// allocation when its capacity suffices, e.g. a buffer from a
/// [`PacketPool`](super::PacketPool)). On error `buf`'s contents are unspecified.
pub fn sealed_datagram_into(
    buf: &mut Vec<u8>,
    sealer: &mut Sealer,
    kind: SealedKind,
    route: Option<&RoutingHeader>,
    plaintext: &[u8],
) -> Result<(), CryptoError> {
    let skip = if route.is_some() {
        ROUTING_HEADER_LEN
    } else {
        0
    };
    buf.clear();
    buf.resize(skip + HEADER_LEN + plaintext.len() + TAG_LEN, 0);
    buf[skip + HEADER_LEN..skip + HEADER_LEN + plaintext.len()].copy_from_slice(plaintext);
    if let Some(r) = route {
        r.encode(buf.first_chunk_mut::<ROUTING_HEADER_LEN>().ok_or(
            CryptoError::BufferTooSmall {
                needed: ROUTING_HEADER_LEN,
                got: 0,
            },
        )?);
    }
    let mut header = Header {
        flags: kind.flags,
        priority: kind.priority,
        hop_ttl: route.map_or(0, |r| r.ttl),
        session_id: kind.session_id,
        stream_id: kind.stream_id,
        sequence: kind.sequence,
        origin_hash: kind.origin_hash,
        event_count: kind.event_count,
        subprotocol_id: kind.tag.subprotocol_id,
        channel_hash: kind.tag.channel_hash,
        ..Header::default()
    };
    if let Some(f) = kind.frag {
        header.frag_flags = frag_flags::FRAGMENT | if f.last { frag_flags::LAST } else { 0 };
        header.fragment_id = f.id;
        header.fragment_offset = f.index;
    }
    let n = sealer.seal(&mut header, &mut buf[skip..], plaintext.len())?;
    buf.truncate(skip + n);
    Ok(())
}
