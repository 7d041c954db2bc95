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

/// Folds every field of a parsed header into one word (plain XOR of the zero-extended fields),
/// so no field read can be optimized away.
#[inline(always)]
fn fold(v: &HeaderView<'_>) -> u64 {
    let n = v.nonce();
    u64::from(v.flags())
        ^ u64::from(v.priority())
        ^ u64::from(v.hop_ttl())
        ^ u64::from(v.hop_count())
        ^ u64::from(v.frag_flags())
        ^ u64::from(v.subprotocol_id())
        ^ u64::from(v.channel_hash())
        ^ u64::from_le_bytes([n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7]])
        ^ u64::from(u32::from_le_bytes([n[8], n[9], n[10], n[11]]))
        ^ v.session_id()
        ^ v.stream_id()
        ^ v.sequence()
        ^ u64::from(v.subnet_id())
        ^ u64::from(v.origin_hash())
        ^ u64::from(v.fragment_id())
        ^ u64::from(v.fragment_offset())
        ^ u64::from(v.payload_len())
        ^ u64::from(v.event_count())
}

/// An optimization barrier that costs no instructions: the compiler must assume that the empty
/// assembly block reads and writes every byte reachable from `p`, so stores to `*p` before it are
/// done and loads of `*p` after it read memory again. (`std::hint::black_box(&x)` does the same
/// but also passes the pointer itself through the stack, two more instructions per call.)
#[inline(always)]
fn barrier<T: ?Sized>(p: &T) {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    // SAFETY: the assembly is empty: it reads and writes nothing and leaves every register and
    // flag as it was; `p` is only named in a comment so the compiler treats it as used.
    unsafe {
        std::arch::asm!("/* {0} */", in(reg) p as *const T as *const u8, options(nostack, preserves_flags));
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    black_box(p);
}

/// One header round trip as `w5.header_roundtrip_ns` and the criterion bench time it: `header`
/// is read from memory and [`Header::encode`]d into `buf`, then [`HeaderView::parse`] checks
/// the first `datagram_len` bytes of `buf` (every validation rule, including the payload length
/// against the datagram) and every field of the view is read. Returns the fold of the fields, or
/// `None` if the parse failed. Panics if `datagram_len > HEADER_LEN`.
#[inline(always)]
pub fn header_roundtrip(
    header: &Header,
    buf: &mut [u8; HEADER_LEN],
    datagram_len: usize,
) -> Option<u64> {
    barrier(header);
    header.encode(buf);
    barrier(&*buf);
    match HeaderView::parse(&buf[..datagram_len]) {
        Ok(v) => Some(fold(&v)),
        Err(_) => None,
    }
}

/// `w5.header_roundtrip_ns`: mean nanoseconds of one serialize + parse of the 64-byte header,
/// over `iterations` round trips (at least 1) of [`header_roundtrip`] with a fresh sequence
/// number each. Returns `f64::NAN` if a parse ever fails.
/// [`w5_header_roundtrip_owned_ns`] measures the same with [`Header::parse`] into an owned struct.
pub fn w5_header_roundtrip_ns(iterations: u64) -> f64 {
    let iterations = iterations.max(1);
    let mut header = sample_header();
    header.payload_len = 0;
    let mut buf = [0u8; HEADER_LEN];
    // A datagram length the compiler cannot see, so the payload-length rule is really checked.
    let datagram_len = black_box(HEADER_LEN);
    let mut acc = 0u64;
    let start = Instant::now();
    for i in 0..iterations {
        header.sequence = i;
        match header_roundtrip(&header, &mut buf, datagram_len) {
            Some(x) => acc ^= x,
            None => return f64::NAN,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The timed round trip really encodes and parses: its fold equals the XOR of the
    /// header's own fields, a header the parser must refuse gives `None`, and the bytes left
    /// in the buffer are exactly the encoding.
    #[test]
    fn header_roundtrip_parses_what_it_encoded() {
        let mut h = sample_header();
        h.payload_len = 0;
        let n = h.nonce;
        let expected = u64::from(h.flags)
            ^ u64::from(h.priority)
            ^ u64::from(h.hop_ttl)
            ^ u64::from(h.hop_count)
            ^ u64::from(h.frag_flags)
            ^ u64::from(h.subprotocol_id)
            ^ u64::from(h.channel_hash)
            ^ u64::from_le_bytes([n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7]])
            ^ u64::from(u32::from_le_bytes([n[8], n[9], n[10], n[11]]))
            ^ h.session_id
            ^ h.stream_id
            ^ h.sequence
            ^ u64::from(h.subnet_id)
            ^ u64::from(h.origin_hash)
            ^ u64::from(h.fragment_id)
            ^ u64::from(h.fragment_offset)
            ^ u64::from(h.payload_len)
            ^ u64::from(h.event_count);
        let mut buf = [0u8; HEADER_LEN];
        assert_eq!(header_roundtrip(&h, &mut buf, HEADER_LEN), Some(expected));
        assert_eq!(buf, h.to_bytes());
        // One payload byte announced, none in the datagram: refused.
        h.payload_len = 1;
        assert_eq!(header_roundtrip(&h, &mut buf, HEADER_LEN), None);
        // More hops taken than allowed: refused.
        h.payload_len = 0;
        h.hop_count = h.hop_ttl + 1;
        assert_eq!(header_roundtrip(&h, &mut buf, HEADER_LEN), None);
    }

    /// A failed parse in the timed loops would return NaN, which is not greater than 0.
    #[test]
    fn timed_loops_parse_every_round() {
        assert!(w5_header_roundtrip_ns(1_000) > 0.0);
        assert!(w5_header_roundtrip_owned_ns(1_000) > 0.0);
    }
}
