//! Per-packet authenticated encryption of Net packets.
//!
//! ChaCha20-Poly1305 (via `ring`, assembly-backed) with a separate key per direction, a 96-bit
//! nonce made of four zero bytes and the sender's 64-bit packet counter (little-endian), carried
//! in the header's nonce field; the AAD is the header minus nonce and hop count
//! ([`wire::aad`](super::wire::aad)). The receiver rejects replayed and too-old counters with a
//! [`ReplayWindow`].
//!
//! Promises: [`Sealer::seal`] never reuses a nonce (the counter only moves forward and refuses
//! to wrap); [`Opener::open`] returns plaintext only for an authentic, fresh packet and never
//! panics on any input; the replay window is updated only after the tag verified. Not promised:
//! ordering or delivery (streams, later), key rotation (a session is re-handshaken instead).

mod aead;
mod replay;

pub use aead::{NONCE_PREFIX, Opener, PacketCipher, Sealer, TAG_LEN, nonce_for};
pub use replay::{REPLAY_WINDOW, ReplayError, ReplayWindow};

use std::fmt;

use zeroize::Zeroize;

/// The two directional keys of a session, as produced by the handshake.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionKeys {
    /// Key for packets this side sends.
    pub tx: [u8; 32],
    /// Key for packets this side receives.
    pub rx: [u8; 32],
}

impl fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionKeys { .. }")
    }
}

impl Drop for SessionKeys {
    fn drop(&mut self) {
        self.tx.zeroize();
        self.rx.zeroize();
    }
}

/// Why a packet could not be sealed or opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CryptoError {
    /// The packet's header or framing is malformed.
    Wire(super::wire::WireError),
    /// The payload is shorter than the 16-byte tag.
    ShortCiphertext,
    /// The nonce's first four bytes are not zero.
    BadNonce,
    /// The counter was already accepted.
    Replayed,
    /// The counter is older than the replay window.
    TooOld,
    /// The tag did not verify: wrong key, or the header (AAD) or ciphertext was altered.
    AuthFailed,
    /// The send counter is exhausted; the session must be re-established.
    NonceExhausted,
    /// The output buffer cannot hold header, plaintext and tag.
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes provided.
        got: usize,
    },
    /// Plaintext plus tag exceeds the 65,535 bytes `payload_len` can describe.
    PayloadTooLarge(usize),
    /// The crypto library refused a key (not expected with 32-byte keys).
    BadKey,
}

impl CryptoError {
    /// The stable snake_case name of this error's kind.
    pub const fn kind(&self) -> &'static str {
        match self {
            CryptoError::Wire(_) => "wire",
            CryptoError::ShortCiphertext => "short_ciphertext",
            CryptoError::BadNonce => "bad_nonce",
            CryptoError::Replayed => "replayed",
            CryptoError::TooOld => "too_old",
            CryptoError::AuthFailed => "auth_failed",
            CryptoError::NonceExhausted => "nonce_exhausted",
            CryptoError::BufferTooSmall { .. } => "buffer_too_small",
            CryptoError::PayloadTooLarge(_) => "payload_too_large",
            CryptoError::BadKey => "bad_key",
        }
    }
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CryptoError::Wire(e) => write!(f, "malformed packet: {e}"),
            CryptoError::BufferTooSmall { needed, got } => {
                write!(f, "buffer of {got} bytes cannot hold {needed}")
            }
            CryptoError::PayloadTooLarge(n) => write!(f, "payload of {n} bytes too large"),
            other => f.write_str(other.kind()),
        }
    }
}

impl std::error::Error for CryptoError {}

impl From<super::wire::WireError> for CryptoError {
    fn from(e: super::wire::WireError) -> Self {
        CryptoError::Wire(e)
    }
}

impl From<ReplayError> for CryptoError {
    fn from(e: ReplayError) -> Self {
        match e {
            ReplayError::Replayed => CryptoError::Replayed,
            ReplayError::TooOld => CryptoError::TooOld,
        }
    }
}

impl From<CryptoError> for crate::Error {
    fn from(e: CryptoError) -> Self {
        match e {
            CryptoError::PayloadTooLarge(n) => {
                crate::Error::InvalidArgument(format!("crypto: payload of {n} bytes too large"))
            }
            CryptoError::BadKey => crate::Error::Internal("crypto: key rejected".into()),
            other => crate::Error::InvalidArgument(format!("crypto: {other}")),
        }
    }
}
