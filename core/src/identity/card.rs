//! The node card: a node's ed25519 public key, its X25519 handshake (Noise static) key and an
//! ed25519 signature over `STATIC_KEY_CONTEXT || x25519 key`. A peer that checks the card and
//! then completes a Noise handshake against that X25519 key knows which identity it reached.

use super::{Identity, IdentityError, NodeId, verify};

/// Size of an encoded card: 32 (ed25519) + 32 (X25519) + 64 (signature).
pub const CARD_LEN: usize = 128;
/// What the identity signs, followed by the 32-byte X25519 public key.
pub const STATIC_KEY_CONTEXT: &[u8] = b"net-mesh/static-key/v1";

/// A signed binding of an X25519 static key to an ed25519 identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeCard {
    /// The node's ed25519 public key.
    pub public_key: [u8; 32],
    /// The node's X25519 static (handshake) public key.
    pub static_key: [u8; 32],
    /// ed25519 signature over `STATIC_KEY_CONTEXT || static_key`.
    pub signature: [u8; 64],
}

fn message(static_key: &[u8; 32]) -> [u8; 54] {
    let mut m = [0u8; 54];
    m[..22].copy_from_slice(STATIC_KEY_CONTEXT);
    m[22..].copy_from_slice(static_key);
    m
}

impl NodeCard {
    /// Signs `identity`'s static key.
    pub fn sign(identity: &Identity) -> NodeCard {
        let static_key = identity.static_public();
        NodeCard {
            public_key: identity.public_key(),
            static_key,
            signature: identity.sign(&message(&static_key)),
        }
    }

    /// Checks the signature; returns the node id of the signer.
    pub fn verify(&self) -> Result<NodeId, IdentityError> {
        verify(
            &self.public_key,
            &message(&self.static_key),
            &self.signature,
        )?;
        Ok(NodeId::of(&self.public_key))
    }

    /// The 128-byte encoding: public key, static key, signature.
    pub fn to_bytes(&self) -> [u8; CARD_LEN] {
        let mut out = [0u8; CARD_LEN];
        out[..32].copy_from_slice(&self.public_key);
        out[32..64].copy_from_slice(&self.static_key);
        out[64..].copy_from_slice(&self.signature);
        out
    }

    /// Decodes exactly [`CARD_LEN`] bytes. Does not verify; call [`NodeCard::verify`].
    pub fn from_bytes(bytes: &[u8]) -> Result<NodeCard, IdentityError> {
        let Ok(b) = <&[u8; CARD_LEN]>::try_from(bytes) else {
            return Err(IdentityError::BadLength {
                expected: CARD_LEN,
                got: bytes.len(),
            });
        };
        let mut card = NodeCard {
            public_key: [0; 32],
            static_key: [0; 32],
            signature: [0; 64],
        };
        card.public_key.copy_from_slice(&b[..32]);
        card.static_key.copy_from_slice(&b[32..64]);
        card.signature.copy_from_slice(&b[64..]);
        Ok(card)
    }
}
