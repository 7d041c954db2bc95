//! How handshake messages, heartbeats, acks and data frames become Net packets.
//!
//! - Handshake: a cleartext packet with only the HANDSHAKE flag set and every other header
//!   field zero except `payload_len`; the payload is the handshake message (Noise protects it).
//!   A receiver refuses a handshake packet whose other fields are not zero, so no header byte
//!   of it can be altered unnoticed.
//! - Heartbeat: sealed, HEARTBEAT flag, empty plaintext, stream and sequence 0.
//! - Ack: sealed, CONTROL flag, `stream_id` of the acked stream, plaintext an encoded
//!   [`Ack`](crate::mesh::stream::Ack).
//! - Data: sealed, RELIABLE flag for reliable streams, `stream_id`, `sequence`, `event_count`,
//!   plaintext an event frame.
//!
//! All sealed packets carry the session id and this node's origin hash; `hop_ttl` and
//! `hop_count` are 0 (direct packets).

use crate::mesh::crypto::{CryptoError, Sealer, TAG_LEN};
use crate::mesh::wire::{HEADER_LEN, Header, flags};

/// A handshake packet carrying `msg`, or `None` if `msg` is longer than a payload can be.
pub fn handshake_packet(msg: &[u8]) -> Option<Vec<u8>> {
    let header = Header {
        flags: flags::HANDSHAKE,
        payload_len: u16::try_from(msg.len()).ok()?,
        ..Header::default()
    };
    let mut out = Vec::with_capacity(HEADER_LEN + msg.len());
    out.extend_from_slice(&header.to_bytes());
    out.extend_from_slice(msg);
    Some(out)
}

/// Whether `header` is a well-formed handshake packet header (see the module doc).
pub fn is_handshake_header(header: &Header) -> bool {
    *header
        == Header {
            flags: flags::HANDSHAKE,
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
}

/// Seals `plaintext` into a fresh datagram.
pub fn sealed_packet(
    sealer: &mut Sealer,
    kind: SealedKind,
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let mut buf = vec![0u8; HEADER_LEN + plaintext.len() + TAG_LEN];
    buf[HEADER_LEN..HEADER_LEN + plaintext.len()].copy_from_slice(plaintext);
    let mut header = Header {
        flags: kind.flags,
        session_id: kind.session_id,
        stream_id: kind.stream_id,
        sequence: kind.sequence,
        origin_hash: kind.origin_hash,
        event_count: kind.event_count,
        ..Header::default()
    };
    let n = sealer.seal(&mut header, &mut buf, plaintext.len())?;
    buf.truncate(n);
    Ok(buf)
}
