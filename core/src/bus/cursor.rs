//! `CursorCodec`: opaque, versioned, checksummed cursor strings.
//!
//! A cursor records, per shard, the adapter position of the next event a consumer has not yet
//! seen. Layout before base64url (no padding):
//!
//! ```text
//! u8  version (1)
//! u8  adapter tag (1 = memory, 2 = redis, 3 = jetstream)
//! u16 shard count, little-endian
//! LEB128 varint position, one per shard
//! u32 checksum: low 32 bits of xxh3-64 over all preceding bytes, little-endian
//! ```
//!
//! Promise: any string that did not come from `encode` for a bus with the same adapter and
//! shard count is rejected with `Error::InvalidCursor` (wrong alphabet, truncation, corruption,
//! foreign adapter, other shard count); decoding never panics.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use xxhash_rust::xxh3::xxh3_64;

use crate::error::{Error, Result};

/// Current cursor format version.
pub const CURSOR_VERSION: u8 = 1;

/// Longest cursor string accepted before decoding (bounds work on hostile input).
pub const MAX_CURSOR_LEN: usize = 16 * 1024;

/// Encodes and decodes cursors for one bus layout.
#[derive(Debug, Clone, Copy)]
pub struct CursorCodec {
    adapter_tag: u8,
    shards: u16,
}

impl CursorCodec {
    /// A codec for `shards` shards stored by the adapter with `adapter_tag`.
    pub fn new(adapter_tag: u8, shards: u16) -> CursorCodec {
        CursorCodec {
            adapter_tag,
            shards,
        }
    }

    /// Encodes one position per shard.
    pub fn encode(&self, positions: &[u64]) -> String {
        debug_assert_eq!(positions.len(), self.shards as usize);
        let mut buf = Vec::with_capacity(8 + positions.len() * 3);
        buf.push(CURSOR_VERSION);
        buf.push(self.adapter_tag);
        buf.extend_from_slice(&self.shards.to_le_bytes());
        for &p in positions {
            let mut v = p;
            loop {
                let byte = (v & 0x7f) as u8;
                v >>= 7;
                if v == 0 {
                    buf.push(byte);
                    break;
                }
                buf.push(byte | 0x80);
            }
        }
        let sum = xxh3_64(&buf) as u32;
        buf.extend_from_slice(&sum.to_le_bytes());
        URL_SAFE_NO_PAD.encode(buf)
    }

    /// Decodes a cursor string into one position per shard.
    pub fn decode(&self, cursor: &str) -> Result<Vec<u64>> {
        let bad = |m: &str| Error::InvalidCursor(m.to_owned());
        if cursor.len() > MAX_CURSOR_LEN {
            return Err(bad("longer than any cursor this bus produces"));
        }
        let buf = URL_SAFE_NO_PAD
            .decode(cursor)
            .map_err(|_| bad("not a cursor string (bad encoding)"))?;
        if buf.len() < 4 + 4 {
            return Err(bad("truncated"));
        }
        let (body, sum) = buf.split_at(buf.len() - 4);
        let expected = u32::from_le_bytes([sum[0], sum[1], sum[2], sum[3]]);
        if xxh3_64(body) as u32 != expected {
            return Err(bad("checksum mismatch (corrupt or truncated)"));
        }
        if body[0] != CURSOR_VERSION {
            return Err(Error::InvalidCursor(format!(
                "unsupported cursor version {}",
                body[0]
            )));
        }
        if body[1] != self.adapter_tag {
            return Err(Error::InvalidCursor(format!(
                "cursor belongs to another adapter (tag {}, this bus uses {})",
                body[1], self.adapter_tag
            )));
        }
        let shards = u16::from_le_bytes([body[2], body[3]]);
        if shards != self.shards {
            return Err(Error::InvalidCursor(format!(
                "cursor is for {shards} shards, this bus has {}",
                self.shards
            )));
        }
        let mut positions = Vec::with_capacity(shards as usize);
        let mut rest = &body[4..];
        for _ in 0..shards {
            let mut value: u64 = 0;
            let mut shift = 0u32;
            loop {
                let (&byte, tail) = rest.split_first().ok_or_else(|| bad("truncated"))?;
                rest = tail;
                if shift > 63 || (shift == 63 && byte & 0x7e != 0) {
                    return Err(bad("position overflows 64 bits"));
                }
                value |= u64::from(byte & 0x7f) << shift;
                shift += 7;
                if byte & 0x80 == 0 {
                    break;
                }
            }
            positions.push(value);
        }
        if !rest.is_empty() {
            return Err(bad("trailing bytes"));
        }
        Ok(positions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let c = CursorCodec::new(1, 3);
        for p in [[0, 0, 0], [1, 127, 128], [u64::MAX, 0, 1 << 40]] {
            assert_eq!(c.decode(&c.encode(&p)).unwrap(), p);
        }
    }

    #[test]
    fn rejects_bad_cursors() {
        let c = CursorCodec::new(1, 2);
        let good = c.encode(&[5, 300]);
        let mut bads = vec![
            String::new(),
            "!!!".to_owned(),
            "AAAA".to_owned(),
            good[..good.len() - 1].to_owned(),
            good[..good.len() / 2].to_owned(),
            CursorCodec::new(2, 2).encode(&[5, 300]),
            CursorCodec::new(1, 3).encode(&[5, 300, 1]),
            "x".repeat(MAX_CURSOR_LEN + 1),
        ];
        let mut flipped = good.clone().into_bytes();
        flipped[3] = if flipped[3] == b'A' { b'B' } else { b'A' };
        bads.push(String::from_utf8(flipped).unwrap());
        for b in bads {
            assert_eq!(
                c.decode(&b).unwrap_err().kind(),
                crate::ErrorKind::InvalidCursor,
                "{b:?}"
            );
        }
    }
}
