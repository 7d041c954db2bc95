//! The additional authenticated data (AAD) of a sealed packet.
//!
//! Promise: the AAD is every byte of the 64-byte Net header except the nonce (bytes 12-23, which
//! is the AEAD nonce itself, so altering it already breaks the tag) and `hop_count` (byte 6,
//! which relays increment). Concretely, in this order: header bytes 0-5, 7-11 and 24-63,
//! 51 bytes. `hop_ttl` (byte 5) is included: a relay can count hops but cannot raise the
//! budget the origin set. The routing header is never part of the AAD (relays rewrite it).

use super::header::HEADER_LEN;

/// Length of the AAD in bytes: 64 - 12 (nonce) - 1 (hop_count).
pub const AAD_LEN: usize = 51;

/// The AAD of an encoded header: bytes 0-5, 7-11 and 24-63, concatenated.
#[inline]
pub fn aad(header: &[u8; HEADER_LEN]) -> [u8; AAD_LEN] {
    let mut out = [0u8; AAD_LEN];
    out[0..6].copy_from_slice(&header[0..6]);
    out[6..11].copy_from_slice(&header[7..12]);
    out[11..51].copy_from_slice(&header[24..64]);
    out
}
