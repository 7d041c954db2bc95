//! The cleartext preamble of handshake messages and their exact sizes.
//!
//! ```text
//! 0 type (1 = Init, 2 = Reply)  1 version (1)  2-9 initiator node id (LE)  10-17 responder node id (LE)
//! ```
//! followed by the Noise message. The preamble is not encrypted but it is authenticated: the
//! node ids and the version are in the Noise prologue, so altering them breaks decryption.

use super::{HANDSHAKE_VERSION, HandshakeError};
use crate::identity::NodeId;

/// Bytes of the cleartext preamble.
pub const PREAMBLE_LEN: usize = 18;
/// Exact size of an Init: preamble + e (32) + encrypted payload (32 + 8 + 64) + tag (16).
pub const INIT_LEN: usize = PREAMBLE_LEN + 32 + INIT_PAYLOAD_LEN + 16;
/// Exact size of a Reply: preamble + e (32) + encrypted payload (32 + 64) + tag (16).
pub const REPLY_LEN: usize = PREAMBLE_LEN + 32 + REPLY_PAYLOAD_LEN + 16;
/// Init payload: ed25519 public key, timestamp, signature.
pub(super) const INIT_PAYLOAD_LEN: usize = 32 + 8 + 64;
/// Reply payload: ed25519 public key, static-key signature.
pub(super) const REPLY_PAYLOAD_LEN: usize = 32 + 64;

/// The two handshake messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    /// Initiator to responder.
    Init = 1,
    /// Responder to initiator.
    Reply = 2,
}

/// A parsed preamble.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Preamble {
    pub kind: MessageType,
    pub initiator: NodeId,
    pub responder: NodeId,
}

impl Preamble {
    pub(super) fn write(&self, out: &mut Vec<u8>) {
        out.push(self.kind as u8);
        out.push(HANDSHAKE_VERSION);
        out.extend_from_slice(&self.initiator.0.to_le_bytes());
        out.extend_from_slice(&self.responder.0.to_le_bytes());
    }

    /// Parses the preamble and checks the whole message has the exact size of its type.
    pub(super) fn parse(msg: &[u8]) -> Result<(Preamble, &[u8]), HandshakeError> {
        let Some((head, noise)) = msg.split_first_chunk::<PREAMBLE_LEN>() else {
            return Err(HandshakeError::Malformed);
        };
        let (kind, len) = match head[0] {
            1 => (MessageType::Init, INIT_LEN),
            2 => (MessageType::Reply, REPLY_LEN),
            _ => return Err(HandshakeError::Malformed),
        };
        if head[1] != HANDSHAKE_VERSION || msg.len() != len {
            return Err(HandshakeError::Malformed);
        }
        let id = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&head[at..at + 8]);
            NodeId(u64::from_le_bytes(b))
        };
        Ok((
            Preamble {
                kind,
                initiator: id(2),
                responder: id(10),
            },
            noise,
        ))
    }
}
