//! Sealing and opening Net packets with `ring`'s ChaCha20-Poly1305.

use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, Tag, UnboundKey};

use super::{CryptoError, ReplayWindow, SessionKeys};
use crate::mesh::wire::{HEADER_LEN, Header, aad, split_packet};

/// Length of the Poly1305 tag appended to the ciphertext.
pub const TAG_LEN: usize = 16;
/// The first four bytes of every nonce.
pub const NONCE_PREFIX: [u8; 4] = [0; 4];

/// The 12-byte nonce for packet counter `counter`: four zero bytes, then the counter (LE).
#[inline]
pub fn nonce_for(counter: u64) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[4..].copy_from_slice(&counter.to_le_bytes());
    n
}

fn key(bytes: &[u8; 32]) -> Result<LessSafeKey, CryptoError> {
    UnboundKey::new(&CHACHA20_POLY1305, bytes)
        .map(LessSafeKey::new)
        .map_err(|_| CryptoError::BadKey)
}

/// The sending half: a key and the next packet counter.
pub struct Sealer {
    key: LessSafeKey,
    next: u64,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

impl Sealer {
    /// A sealer whose first packet uses counter 0.
    pub fn new(tx_key: &[u8; 32]) -> Result<Self, CryptoError> {
        Ok(Sealer {
            key: key(tx_key)?,
            next: 0,
        })
    }

    /// The counter the next sealed packet will use.
    pub fn next_counter(&self) -> u64 {
        self.next
    }

    /// Seals one packet in place. `packet[64..64 + plaintext_len]` holds the plaintext; on
    /// success `packet[..n]` is the sealed packet (header, ciphertext, tag) and `n` is returned.
    /// Sets `header.nonce` and `header.payload_len`; the other fields are the caller's. The
    /// counter is consumed only on success.
    pub fn seal(
        &mut self,
        header: &mut Header,
        packet: &mut [u8],
        plaintext_len: usize,
    ) -> Result<usize, CryptoError> {
        let Ok(wire_len) = u16::try_from(plaintext_len.saturating_add(TAG_LEN)) else {
            return Err(CryptoError::PayloadTooLarge(plaintext_len));
        };
        let total = HEADER_LEN + usize::from(wire_len);
        if packet.len() < total {
            return Err(CryptoError::BufferTooSmall {
                needed: total,
                got: packet.len(),
            });
        }
        if self.next == u64::MAX {
            return Err(CryptoError::NonceExhausted);
        }
        header.nonce = nonce_for(self.next);
        header.payload_len = wire_len;
        header.validate()?;
        let (head, rest) = packet.split_at_mut(HEADER_LEN);
        let Some(head) = head.first_chunk_mut::<HEADER_LEN>() else {
            return Err(CryptoError::BufferTooSmall {
                needed: total,
                got: packet.len(),
            });
        };
        header.encode(head);
        let (body, tail) = rest.split_at_mut(plaintext_len);
        let tag: Tag = self
            .key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(header.nonce),
                Aad::from(aad(head)),
                body,
            )
            .map_err(|_| CryptoError::PayloadTooLarge(plaintext_len))?;
        tail[..TAG_LEN].copy_from_slice(tag.as_ref());
        self.next += 1;
        Ok(total)
    }
}

/// The receiving half: a key and the replay window.
pub struct Opener {
    key: LessSafeKey,
    window: ReplayWindow,
}

impl std::fmt::Debug for Opener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opener")
            .field("window", &self.window.highest())
            .finish_non_exhaustive()
    }
}

impl Opener {
    /// An opener with an empty replay window.
    pub fn new(rx_key: &[u8; 32]) -> Result<Self, CryptoError> {
        Ok(Opener {
            key: key(rx_key)?,
            window: ReplayWindow::new(),
        })
    }

    /// The replay window (for inspection and tests).
    pub fn window(&self) -> &ReplayWindow {
        &self.window
    }

    /// Opens one sealed packet (exactly header + payload) in place. On success returns the
    /// header and the plaintext, which lies at `packet[64..64 + len]`. On any error the packet
    /// must be dropped: its payload bytes may have been overwritten.
    pub fn open<'a>(
        &mut self,
        packet: &'a mut [u8],
    ) -> Result<(Header, &'a mut [u8]), CryptoError> {
        let (header, _) = split_packet(packet)?;
        let payload_len = usize::from(header.payload_len);
        if payload_len < TAG_LEN {
            return Err(CryptoError::ShortCiphertext);
        }
        if header.nonce[..4] != NONCE_PREFIX {
            return Err(CryptoError::BadNonce);
        }
        let mut counter = [0u8; 8];
        counter.copy_from_slice(&header.nonce[4..]);
        let counter = u64::from_le_bytes(counter);
        self.window.check(counter)?;
        let (head, rest) = packet.split_at_mut(HEADER_LEN);
        let Some(head) = head.first_chunk::<HEADER_LEN>() else {
            return Err(CryptoError::ShortCiphertext);
        };
        let aad = aad(head);
        let sealed = &mut rest[..payload_len];
        let plain = self
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(header.nonce),
                Aad::from(aad),
                sealed,
            )
            .map_err(|_| CryptoError::AuthFailed)?;
        self.window.commit(counter);
        Ok((header, plain))
    }
}

/// Both halves of a session's packet protection.
#[derive(Debug)]
pub struct PacketCipher {
    /// Seals outgoing packets with the session's tx key.
    pub sealer: Sealer,
    /// Opens incoming packets with the session's rx key.
    pub opener: Opener,
}

impl PacketCipher {
    /// A cipher for a freshly established session.
    pub fn new(keys: &SessionKeys) -> Result<Self, CryptoError> {
        Ok(PacketCipher {
            sealer: Sealer::new(&keys.tx)?,
            opener: Opener::new(&keys.rx)?,
        })
    }
}
