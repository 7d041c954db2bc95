//! Timed loops behind `net bench`'s `w5.*` figures (`../shared/BENCHMARKS.md`); the criterion
//! bench `core/benches/mesh.rs` measures the same operations. These are the only functions in
//! `mesh` that read a clock.

use std::hint::black_box;
use std::time::Instant;

use super::crypto::{CryptoError, Opener, Sealer, TAG_LEN};
use super::wire::{HEADER_LEN, Header, HeaderView};

/// A representative header (every field non-zero) for benchmarks.
pub fn sample_header() -> Header {
    Header {
        flags: 0x04,
        priority: 3,
        hop_ttl: 8,
        hop_count: 1,
        frag_flags: 0,
        subprotocol_id: 0x0400,
        channel_hash: 0xBEEF,
        nonce: [7; 12],
        session_id: 0x0102_0304_0506_0708,
        stream_id: 42,
        sequence: 1_000_000,
        subnet_id: 0x0A0B_0C0D,
        origin_hash: 0xDEAD_BEEF,
        fragment_id: 0,
        fragment_offset: 0,
        payload_len: 80,
        event_count: 1,
    }
}

/// Folds every field of a parsed header into one word, so no field read can be optimized away.
#[inline(always)]
fn fold(v: &HeaderView<'_>) -> u64 {
    let n = v.nonce();
    u64::from(v.flags())
        ^ u64::from(v.priority()) << 8
        ^ u64::from(v.hop_ttl()) << 16
        ^ u64::from(v.hop_count()) << 24
        ^ u64::from(v.frag_flags()) << 32
        ^ u64::from(v.subprotocol_id()) << 40
        ^ u64::from(v.channel_hash())
        ^ u64::from_le_bytes([n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7]])
        ^ u64::from(u32::from_le_bytes([n[8], n[9], n[10], n[11]]))
        ^ v.session_id()
        ^ v.stream_id().rotate_left(7)
        ^ v.sequence().rotate_left(13)
        ^ u64::from(v.subnet_id())
        ^ u64::from(v.origin_hash()) << 32
        ^ u64::from(v.fragment_id())
        ^ u64::from(v.fragment_offset()) << 16
        ^ u64::from(v.payload_len()) << 32
        ^ u64::from(v.event_count()) << 48
}

/// `w5.header_roundtrip_ns`: mean nanoseconds of one serialize + parse of the 64-byte header,
/// over `iterations` round trips (at least 1): [`Header::encode`], then [`HeaderView::parse`]
/// (every validation rule) and a read of every field. Returns `f64::NAN` if a parse ever fails.
/// [`w5_header_roundtrip_owned_ns`] measures the same with [`Header::parse`] into an owned struct.
pub fn w5_header_roundtrip_ns(iterations: u64) -> f64 {
    let iterations = iterations.max(1);
    let mut header = sample_header();
    header.payload_len = 0;
    let mut buf = [0u8; HEADER_LEN];
    let mut acc = 0u64;
    let start = Instant::now();
    for i in 0..iterations {
        header.sequence = i;
        black_box(&header).encode(black_box(&mut buf));
        match HeaderView::parse(black_box(&buf)) {
            Ok(v) => acc ^= fold(&v),
            Err(_) => return f64::NAN,
        }
    }
    let elapsed = start.elapsed();
    black_box(acc);
    elapsed.as_nanos() as f64 / iterations as f64
}

/// Like [`w5_header_roundtrip_ns`] but parsing with [`Header::parse`] into an owned [`Header`]
/// (which the loop then hands to `black_box` whole).
pub fn w5_header_roundtrip_owned_ns(iterations: u64) -> f64 {
    let iterations = iterations.max(1);
    let mut header = sample_header();
    header.payload_len = 0;
    let mut buf = [0u8; HEADER_LEN];
    let start = Instant::now();
    for i in 0..iterations {
        header.sequence = i;
        black_box(&header).encode(black_box(&mut buf));
        match Header::parse(black_box(&buf)) {
            Ok(h) => {
                black_box(h);
            }
            Err(_) => return f64::NAN,
        }
    }
    start.elapsed().as_nanos() as f64 / iterations as f64
}

/// `w5.seal_open_64b_ns`: mean nanoseconds of one seal + open of a 64-byte payload (header
/// authenticated as AAD), keys set up before the timer, over `iterations` packets (at least 1).
pub fn w5_seal_open_64b_ns(iterations: u64) -> Result<f64, CryptoError> {
    let iterations = iterations.max(1);
    let key = [0x42u8; 32];
    let mut sealer = Sealer::new(&key)?;
    let mut opener = Opener::new(&key)?;
    let mut header = sample_header();
    header.hop_count = 0;
    let mut packet = [0u8; HEADER_LEN + 64 + TAG_LEN];
    let start = Instant::now();
    for i in 0..iterations {
        packet[HEADER_LEN..HEADER_LEN + 8].copy_from_slice(&i.to_le_bytes());
        let n = sealer.seal(&mut header, black_box(&mut packet), 64)?;
        let (_, plain) = opener.open(black_box(&mut packet[..n]))?;
        black_box(plain);
    }
    Ok(start.elapsed().as_nanos() as f64 / iterations as f64)
}
