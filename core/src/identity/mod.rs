//! Identities (layer 5): an ed25519 keypair from a 32-byte seed, the entity id, node id and
//! origin hash derived from its public key, signatures, and the [`NodeCard`] that binds a node's
//! X25519 handshake key to its identity. Permission tokens signed by identities live in
//! [`crate::token`].
//!
//! Derivations (pinned by `tests/cross_lang/wire/identity.json`, described in `docs/identity.md`
//! and `docs/wire.md`):
//! - entity id = the 32-byte ed25519 public key itself (the public key IS the identity);
//! - `digest = BLAKE2s-256(ed25519 public key)`;
//! - node id = `u64::from_le_bytes(digest[0..8])`; origin hash = `u32::from_le_bytes(digest[8..12])`;
//!   routing id (the routing header's `src_id`) = node id truncated to its low 32 bits;
//! - X25519 static secret = `BLAKE2s-256("net-mesh/x25519-static/v1" || seed)` (clamped by X25519).
//!
//! Promises: deterministic from the seed; verification uses ed25519 strict verification and
//! returns typed errors for malformed keys or signatures; secrets are zeroized on drop and never
//! printed by `Debug`; key files (`Identity::save` / `Identity::load`, see [`KeyFileError`]) are
//! mode `0600`. Not here: key rotation, and binding a node id to an entity id seen over the
//! network (trust on first sight is the mesh's business).

mod card;
mod keyfile;

pub use card::{CARD_LEN, NodeCard, STATIC_KEY_CONTEXT};
pub use keyfile::{KEY_FILE_TAG, KeyFileError, hex};

use std::fmt;

use blake2::{Blake2s256, Digest};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use zeroize::Zeroize;

/// Domain-separation prefix of the X25519 static secret derivation.
pub const X25519_SEED_CONTEXT: &[u8] = b"net-mesh/x25519-static/v1";

/// An entity's id: its 32-byte ed25519 public key. Tokens name their issuer and subject by it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct EntityId(pub [u8; 32]);

impl EntityId {
    /// The raw public key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The node id derived from this entity's public key.
    pub fn node_id(&self) -> NodeId {
        NodeId::of(&self.0)
    }

    /// The origin hash derived from this entity's public key.
    pub fn origin_hash(&self) -> u32 {
        origin_hash_of(&self.0)
    }

    /// Parses 64 hex digits (either case) into an entity id.
    pub fn from_hex(text: &str) -> Result<EntityId, IdentityError> {
        let text = text.trim();
        if text.len() != 64 {
            return Err(IdentityError::BadLength {
                expected: 32,
                got: text.len() / 2,
            });
        }
        let mut out = [0u8; 32];
        for (i, pair) in text.as_bytes().chunks_exact(2).enumerate() {
            let digit = |c: u8| (c as char).to_digit(16);
            match (digit(pair[0]), digit(pair[1])) {
                (Some(h), Some(l)) => out[i] = (h * 16 + l) as u8,
                _ => return Err(IdentityError::BadHex),
            }
        }
        Ok(EntityId(out))
    }
}

impl fmt::Debug for EntityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EntityId({self})")
    }
}

impl fmt::Display for EntityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

/// A node's 64-bit id: the first 8 bytes (LE) of BLAKE2s-256 of its ed25519 public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct NodeId(pub u64);

impl NodeId {
    /// The node id of an ed25519 public key.
    pub fn of(public_key: &[u8; 32]) -> NodeId {
        let d = digest(public_key);
        NodeId(u64::from_le_bytes([
            d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7],
        ]))
    }

    /// The 32-bit routing id (routing header `src_id`): the low 32 bits of the node id.
    pub fn routing_id(self) -> u32 {
        self.0 as u32
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeId({:016x})", self.0)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// The 32-bit origin hash of an ed25519 public key: bytes 8-11 (LE) of its BLAKE2s-256 digest.
pub fn origin_hash_of(public_key: &[u8; 32]) -> u32 {
    let d = digest(public_key);
    u32::from_le_bytes([d[8], d[9], d[10], d[11]])
}

fn digest(data: &[u8]) -> [u8; 32] {
    Blake2s256::digest(data).into()
}

/// Why an identity operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdentityError {
    /// The bytes are not a valid ed25519 public key.
    BadPublicKey,
    /// The signature does not verify (or is malformed).
    BadSignature,
    /// An encoded structure is shorter or longer than its fixed size.
    BadLength {
        /// Bytes expected.
        expected: usize,
        /// Bytes given.
        got: usize,
    },
    /// The system random number generator failed.
    Rng,
    /// Text that should be hexadecimal has a non-hex digit.
    BadHex,
}

impl fmt::Display for IdentityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdentityError::BadPublicKey => f.write_str("invalid ed25519 public key"),
            IdentityError::BadSignature => f.write_str("signature does not verify"),
            IdentityError::BadLength { expected, got } => {
                write!(f, "expected {expected} bytes, got {got}")
            }
            IdentityError::Rng => f.write_str("system random number generator failed"),
            IdentityError::BadHex => f.write_str("not a hexadecimal string"),
        }
    }
}

impl std::error::Error for IdentityError {}

impl From<IdentityError> for crate::Error {
    fn from(e: IdentityError) -> Self {
        crate::Error::InvalidArgument(format!("identity: {e}"))
    }
}

/// Verifies an ed25519 signature (strict: rejects small-order keys and malleable signatures).
pub fn verify(
    public_key: &[u8; 32],
    message: &[u8],
    signature: &[u8; 64],
) -> Result<(), IdentityError> {
    let key = VerifyingKey::from_bytes(public_key).map_err(|_| IdentityError::BadPublicKey)?;
    key.verify_strict(message, &Signature::from_bytes(signature))
        .map_err(|_| IdentityError::BadSignature)
}

/// A node's identity: its ed25519 signing key and everything derived from the seed.
pub struct Identity {
    signing: SigningKey,
    public: [u8; 32],
    node_id: NodeId,
    origin_hash: u32,
    static_secret: [u8; 32],
    static_public: [u8; 32],
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("node_id", &self.node_id)
            .finish_non_exhaustive()
    }
}

impl Drop for Identity {
    fn drop(&mut self) {
        self.static_secret.zeroize();
    }
}

impl Clone for Identity {
    fn clone(&self) -> Self {
        let mut seed = self.signing.to_bytes();
        let copy = Identity::from_seed(&seed);
        seed.zeroize();
        copy
    }
}

impl Identity {
    /// The identity of a 32-byte seed (the ed25519 secret key). Same seed, same identity.
    pub fn from_seed(seed: &[u8; 32]) -> Identity {
        let signing = SigningKey::from_bytes(seed);
        let public = signing.verifying_key().to_bytes();
        let mut h = Blake2s256::new();
        h.update(X25519_SEED_CONTEXT);
        h.update(seed);
        let static_secret: [u8; 32] = h.finalize().into();
        let static_public =
            x25519_dalek::x25519(static_secret, x25519_dalek::X25519_BASEPOINT_BYTES);
        Identity {
            signing,
            public,
            node_id: NodeId::of(&public),
            origin_hash: origin_hash_of(&public),
            static_secret,
            static_public,
        }
    }

    /// A new identity from the operating system's random number generator.
    pub fn generate() -> Result<Identity, IdentityError> {
        use ring::rand::{SecureRandom, SystemRandom};
        let mut seed = [0u8; 32];
        SystemRandom::new()
            .fill(&mut seed)
            .map_err(|_| IdentityError::Rng)?;
        let id = Identity::from_seed(&seed);
        seed.zeroize();
        Ok(id)
    }

    /// The ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.public
    }

    /// The entity id: the ed25519 public key.
    pub fn entity_id(&self) -> EntityId {
        EntityId(self.public)
    }

    /// The node id (see the module docs for the derivation).
    pub fn node_id(&self) -> NodeId {
        self.node_id
    }

    /// The origin hash written in the header of packets this node creates.
    pub fn origin_hash(&self) -> u32 {
        self.origin_hash
    }

    /// Signs `message` with the ed25519 key.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }

    /// The X25519 public key this node uses as its Noise static key.
    pub fn static_public(&self) -> [u8; 32] {
        self.static_public
    }

    /// The X25519 secret this node uses as its Noise static key (for the handshake only).
    pub(crate) fn static_secret(&self) -> &[u8; 32] {
        &self.static_secret
    }

    /// This node's card: public key, X25519 static key and the signature binding them.
    pub fn card(&self) -> NodeCard {
        NodeCard::sign(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_and_card() {
        let id = Identity::from_seed(&[3; 32]);
        let sig = id.sign(b"msg");
        assert_eq!(verify(&id.public_key(), b"msg", &sig), Ok(()));
        assert_eq!(
            verify(&id.public_key(), b"msh", &sig),
            Err(IdentityError::BadSignature)
        );
        assert!(verify(&[0xFF; 32], b"msg", &sig).is_err());
        let card = id.card();
        assert_eq!(card.verify(), Ok(id.node_id()));
        let mut forged = card;
        forged.static_key[0] ^= 1;
        assert_eq!(forged.verify(), Err(IdentityError::BadSignature));
        assert_eq!(NodeCard::from_bytes(&card.to_bytes()), Ok(card));
        assert!(NodeCard::from_bytes(&[0; 127]).is_err());
        assert_eq!(id.clone().node_id(), id.node_id());
        assert_eq!(
            Identity::from_seed(&[3; 32]).static_public(),
            id.static_public()
        );
        assert_ne!(Identity::generate().unwrap().node_id(), id.node_id());
        assert!(!format!("{id:?}").contains("static_secret"));
    }

    #[test]
    fn entity_id_is_the_public_key_and_round_trips_hex() {
        let id = Identity::from_seed(&[9; 32]);
        let e = id.entity_id();
        assert_eq!(e.as_bytes(), &id.public_key());
        assert_eq!(e.node_id(), id.node_id());
        assert_eq!(e.origin_hash(), id.origin_hash());
        assert_eq!(EntityId::from_hex(&e.to_string()), Ok(e));
        assert_eq!(EntityId::from_hex(&e.to_string().to_uppercase()), Ok(e));
        assert_eq!(
            EntityId::from_hex("ab"),
            Err(IdentityError::BadLength {
                expected: 32,
                got: 1
            })
        );
        let mut bad = e.to_string();
        bad.replace_range(0..1, "g");
        assert_eq!(EntityId::from_hex(&bad), Err(IdentityError::BadHex));
        // Multi-byte characters of the right byte length are refused, not sliced.
        assert_eq!(
            EntityId::from_hex(&"é".repeat(32)),
            Err(IdentityError::BadHex)
        );
        // Pinned seed, pinned ids: a second derivation from the same seed agrees.
        assert_eq!(Identity::from_seed(&[9; 32]).entity_id(), e);
    }
}
