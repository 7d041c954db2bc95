//! The 18-byte routing header that multi-hop packets carry in front of the Net header.
//!
//! Promises: a fixed little-endian layout starting with the ASCII tag `"RT"` (disjoint from the
//! Net header magic, so [`classify`](super::classify) tells the two apart from bytes 0-1
//! alone); typed errors for every malformed input. Relays rewrite `ttl` and `hop_count` here,
//! so this header is deliberately not authenticated (it is not part of the AAD); end-to-end
//! integrity comes from the sealed Net packet behind it.
//!
//! ```text
//! 0-1 "RT" (0x52 0x54)  2 ttl  3 hop_count  4 flags  5 reserved (0)  6-9 src_id  10-17 dest_id
//! ```

use super::WireError;

/// Size of the routing header in bytes.
pub const ROUTING_HEADER_LEN: usize = 18;
/// The routing header tag as it appears on the wire: ASCII `"RT"`.
pub const ROUTING_MAGIC_BYTES: [u8; 2] = [0x52, 0x54];
/// The routing header tag as a little-endian `u16` (`0x5452`).
pub const ROUTING_MAGIC: u16 = 0x5452;

/// Bits of the routing header's `flags` byte. Bits not listed here are reserved and must be 0.
pub mod route_flags {
    /// The packet is routing control traffic.
    pub const CONTROL: u8 = 0x01;
    /// The destination should acknowledge the packet.
    pub const REQUIRES_ACK: u8 = 0x02;
    /// Forwarders should send it ahead of normal traffic.
    pub const PRIORITY: u8 = 0x04;
    /// Last packet of a routed stream.
    pub const END_OF_STREAM: u8 = 0x08;
    /// Every defined bit; the rest are reserved.
    pub const KNOWN: u8 = CONTROL | REQUIRES_ACK | PRIORITY | END_OF_STREAM;
}

/// The decoded routing header (the magic is implied).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RoutingHeader {
    /// Byte 2: hops the packet may still take; each forwarder decrements it.
    pub ttl: u8,
    /// Byte 3: hops taken; each forwarder increments it.
    pub hop_count: u8,
    /// Byte 4: see [`route_flags`].
    pub flags: u8,
    /// Bytes 6-9: 32-bit routing id of the source (low 32 bits of its node id).
    pub src_id: u32,
    /// Bytes 10-17: full 64-bit node id of the destination.
    pub dest_id: u64,
}

impl RoutingHeader {
    /// Writes the 18 header bytes (the reserved byte is written as 0).
    #[inline]
    pub fn encode(&self, out: &mut [u8; ROUTING_HEADER_LEN]) {
        out[0..2].copy_from_slice(&ROUTING_MAGIC_BYTES);
        out[2] = self.ttl;
        out[3] = self.hop_count;
        out[4] = self.flags;
        out[5] = 0;
        out[6..10].copy_from_slice(&self.src_id.to_le_bytes());
        out[10..18].copy_from_slice(&self.dest_id.to_le_bytes());
    }

    /// The header as a fresh 18-byte array.
    #[inline]
    pub fn to_bytes(&self) -> [u8; ROUTING_HEADER_LEN] {
        let mut out = [0u8; ROUTING_HEADER_LEN];
        self.encode(&mut out);
        out
    }

    /// Parses the routing header at the start of `datagram`; the bytes after it are the routed
    /// Net packet and are not inspected.
    #[inline]
    pub fn parse(datagram: &[u8]) -> Result<RoutingHeader, WireError> {
        let Some(b) = datagram.first_chunk::<ROUTING_HEADER_LEN>() else {
            return Err(WireError::Truncated {
                needed: ROUTING_HEADER_LEN,
                got: datagram.len(),
            });
        };
        if [b[0], b[1]] != ROUTING_MAGIC_BYTES {
            return Err(WireError::BadMagic(u16::from_le_bytes([b[0], b[1]])));
        }
        if b[4] & !route_flags::KNOWN != 0 {
            return Err(WireError::ReservedBits {
                field: "route_flags",
                bits: b[4] & !route_flags::KNOWN,
            });
        }
        if b[5] != 0 {
            return Err(WireError::ReservedByte(b[5]));
        }
        Ok(RoutingHeader {
            ttl: b[2],
            hop_count: b[3],
            flags: b[4],
            src_id: u32::from_le_bytes([b[6], b[7], b[8], b[9]]),
            dest_id: u64::from_le_bytes([b[10], b[11], b[12], b[13], b[14], b[15], b[16], b[17]]),
        })
    }

    /// Checks the field-level rules `parse` enforces on a header built in code.
    pub fn validate(&self) -> Result<(), WireError> {
        if self.flags & !route_flags::KNOWN != 0 {
            return Err(WireError::ReservedBits {
                field: "route_flags",
                bits: self.flags & !route_flags::KNOWN,
            });
        }
        Ok(())
    }
}
