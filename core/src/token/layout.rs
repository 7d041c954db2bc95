//! The fixed 201-byte token layout and its codec (every byte is described in `docs/tokens.md`
//! and pinned by `tests/cross_lang/wire/tokens.json`). Promises: [`Token::from_bytes`] accepts
//! exactly [`TOKEN_LEN`] bytes with the magic, version 1, defined scope bits and an ordered
//! window, and otherwise returns a typed [`Malformed`] reason without panicking; encoding then
//! decoding is the identity. Parsing does not check the signature (see [`super::verify`]).

use blake2::{Blake2s256, Digest};

use super::error::{Malformed, TokenError};
use super::scope::Scope;
use crate::identity::EntityId;

/// The first two bytes of every token: `"NT"`.
pub const TOKEN_MAGIC: [u8; 2] = *b"NT";
/// The token layout version this build writes and reads.
pub const TOKEN_VERSION: u8 = 1;
/// Bytes covered by the signature (everything before it).
pub const SIGNED_LEN: usize = 137;
/// Size of an encoded token.
pub const TOKEN_LEN: usize = SIGNED_LEN + 64;
/// The channel hash that grants every channel.
pub const ANY_CHANNEL: u64 = 0;

/// A parsed permission token. Fields are public so tests and tools can build odd tokens; a token
/// changed after signing no longer verifies.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Token {
    /// Actions granted.
    pub scope: Scope,
    /// How many further delegation steps the subject may make (0 = cannot delegate).
    pub depth: u8,
    /// The signer.
    pub issuer: EntityId,
    /// Whom the token is for.
    pub subject: EntityId,
    /// The channel granted, as the channel layer's 64-bit hash; [`ANY_CHANNEL`] = every channel.
    pub channel: u64,
    /// First valid second (Unix time, inclusive).
    pub not_before: u64,
    /// Last valid second (Unix time, inclusive).
    pub not_after: u64,
    /// The issuer's key generation when it signed; revoking generation `g` of an issuer refuses
    /// every token it signed with a generation `<= g`.
    pub issuer_generation: u32,
    /// Distinguishes otherwise identical tokens.
    pub nonce: u64,
    /// [`Token::hash`] of the token this one was delegated from; all zero for a token issued
    /// directly (not delegated).
    pub parent: [u8; 32],
    /// ed25519 signature by `issuer` over bytes `0..SIGNED_LEN`.
    pub signature: [u8; 64],
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

fn key_at(b: &[u8], at: usize) -> [u8; 32] {
    let mut a = [0u8; 32];
    a.copy_from_slice(&b[at..at + 32]);
    a
}

impl Token {
    /// The bytes the signature covers (offsets in `docs/tokens.md`).
    pub fn signed_bytes(&self) -> [u8; SIGNED_LEN] {
        let mut b = [0u8; SIGNED_LEN];
        b[0..2].copy_from_slice(&TOKEN_MAGIC);
        b[2] = TOKEN_VERSION;
        b[3] = self.scope.bits();
        b[4] = self.depth;
        b[5..37].copy_from_slice(self.issuer.as_bytes());
        b[37..69].copy_from_slice(self.subject.as_bytes());
        b[69..77].copy_from_slice(&self.channel.to_le_bytes());
        b[77..85].copy_from_slice(&self.not_before.to_le_bytes());
        b[85..93].copy_from_slice(&self.not_after.to_le_bytes());
        b[93..97].copy_from_slice(&self.issuer_generation.to_le_bytes());
        b[97..105].copy_from_slice(&self.nonce.to_le_bytes());
        b[105..137].copy_from_slice(&self.parent);
        b
    }

    /// The encoded token: the signed bytes followed by the signature.
    pub fn to_bytes(&self) -> [u8; TOKEN_LEN] {
        let mut b = [0u8; TOKEN_LEN];
        b[..SIGNED_LEN].copy_from_slice(&self.signed_bytes());
        b[SIGNED_LEN..].copy_from_slice(&self.signature);
        b
    }

    /// Parses exactly one encoded token.
    pub fn from_bytes(b: &[u8]) -> Result<Token, TokenError> {
        if b.len() < TOKEN_LEN {
            return Err(Malformed::Truncated {
                len: b.len(),
                needed: TOKEN_LEN,
            }
            .into());
        }
        if b.len() > TOKEN_LEN {
            return Err(Malformed::TrailingBytes {
                len: b.len(),
                expected: TOKEN_LEN,
            }
            .into());
        }
        if b[0..2] != TOKEN_MAGIC {
            return Err(Malformed::BadMagic.into());
        }
        if b[2] != TOKEN_VERSION {
            return Err(Malformed::UnsupportedVersion(b[2]).into());
        }
        let scope = Scope::from_bits(b[3]).ok_or(Malformed::UnknownScopeBits(b[3]))?;
        let not_before = u64_at(b, 77);
        let not_after = u64_at(b, 85);
        if not_before > not_after {
            return Err(Malformed::InvertedWindow {
                not_before,
                not_after,
            }
            .into());
        }
        let mut signature = [0u8; 64];
        signature.copy_from_slice(&b[SIGNED_LEN..]);
        Ok(Token {
            scope,
            depth: b[4],
            issuer: EntityId(key_at(b, 5)),
            subject: EntityId(key_at(b, 37)),
            channel: u64_at(b, 69),
            not_before,
            not_after,
            issuer_generation: u32::from_le_bytes([b[93], b[94], b[95], b[96]]),
            nonce: u64_at(b, 97),
            parent: key_at(b, 105),
            signature,
        })
    }

    /// BLAKE2s-256 of the whole encoded token (signature included): the token's identity in
    /// caches, revocation lists and its children's `parent` field.
    pub fn hash(&self) -> [u8; 32] {
        Blake2s256::digest(self.to_bytes()).into()
    }

    /// Whether this token was delegated from another (its `parent` is not all zero).
    pub fn is_delegated(&self) -> bool {
        self.parent != [0u8; 32]
    }

    /// Whether the token grants `channel` (its own channel, or every channel when it is
    /// [`ANY_CHANNEL`]).
    pub fn covers_channel(&self, channel: u64) -> bool {
        self.channel == ANY_CHANNEL || self.channel == channel
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_offsets() {
        let t = Token {
            scope: Scope::PUBLISH | Scope::DELEGATE,
            depth: 3,
            issuer: EntityId([1; 32]),
            subject: EntityId([2; 32]),
            channel: 0x0102_0304_0506_0708,
            not_before: 10,
            not_after: 20,
            issuer_generation: 7,
            nonce: 99,
            parent: [4; 32],
            signature: [5; 64],
        };
        let b = t.to_bytes();
        assert_eq!(&b[0..3], b"NT\x01");
        assert_eq!(b[3], 0b1001);
        assert_eq!(b[69], 0x08);
        assert_eq!(b[93], 7);
        assert_eq!(b[SIGNED_LEN], 5);
        assert_eq!(Token::from_bytes(&b), Ok(t));
        assert!(t.is_delegated());
        assert!(!t.covers_channel(1));
        let mut bad = b;
        bad[3] = 0x10;
        assert_eq!(
            Token::from_bytes(&bad),
            Err(TokenError::Malformed(Malformed::UnknownScopeBits(0x10)))
        );
    }
}
