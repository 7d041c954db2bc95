//! [`SegBuf`]: the growable buffer behind a segment's records, timestamps and payload bytes.
//!
//! Promises: it behaves like a `Vec<T>` for the operations segments need (push, extend,
//! truncate, clear, read as a slice). Small buffers grow like a `Vec`. Once a buffer must grow
//! past [`BIG_BYTES`] it reserves room for the segment's whole limit at once, so a big segment
//! reallocates (and copies) at most once instead of at every doubling. On Linux that
//! reservation is advised for transparent huge pages: a log that grows by fresh memory then
//! takes one page fault (one zeroing, one memory-cgroup charge) per 2 MiB instead of per
//! 4 KiB, which is where most of the time of a 1 KiB or batched append went (see
//! `docs/redex.md`, Performance).
//!
//! Does not promise: huge pages (advice only; the kernel may ignore it, e.g. when
//! transparent huge pages are disabled, and then plain pages are used), or any bound on
//! spare capacity beyond the segment limit. A reservation is address space; the system
//! allocator backs it with memory only where it is written (true of glibc and musl on Linux
//! for allocations this large). Small files (under 2 MiB per buffer) never reserve ahead and
//! never get huge pages, so many small channels cost no more than before.

use std::mem::MaybeUninit;
use std::ops::Deref;

/// Buffers at most this large grow like a `Vec`; beyond it they reserve the segment limit.
pub(crate) const BIG_BYTES: usize = 2 << 20;

/// The most one reservation takes at once: a segment configured with a huge limit (e.g.
/// `segment_max_entries = u32::MAX`, 96 GiB of records) does not reserve all of it; past
/// this the buffer grows like a `Vec` again (whose large reallocations the system
/// allocator serves by remapping, not copying).
pub(crate) const RESERVE_MAX_BYTES: usize = 256 << 20;

/// A `Vec<T>` that reserves a segment's whole limit once it is big; see the module docs.
#[derive(Debug, Default)]
pub(crate) struct SegBuf<T> {
    v: Vec<T>,
}

impl<T: Copy> SegBuf<T> {
    /// An empty buffer (no allocation).
    pub fn new() -> SegBuf<T> {
        SegBuf { v: Vec::new() }
    }

    /// Wraps an existing vector (e.g. bytes read from disk).
    pub fn from_vec(v: Vec<T>) -> SegBuf<T> {
        SegBuf { v }
    }

    /// An empty buffer for the segment after one whose buffer was `prev`: when `prev` grew
    /// big, the file is evidently large, so the whole `limit` is reserved now rather than
    /// after growing through small allocations (and their copies) again.
    pub fn sized_like(prev: &SegBuf<T>, limit: usize) -> SegBuf<T> {
        let mut b = SegBuf::new();
        if prev.capacity().saturating_mul(std::mem::size_of::<T>()) > BIG_BYTES {
            b.grow(limit, limit);
        }
        b
    }

    /// Makes room for `additional` more elements. `limit` is the number of elements the
    /// segment may hold before it rolls; a buffer growing past [`BIG_BYTES`] reserves
    /// `max(limit, len + additional)` elements at once (the limit capped at
    /// [`RESERVE_MAX_BYTES`]).
    #[inline]
    pub fn reserve(&mut self, additional: usize, limit: usize) {
        if self.v.capacity() - self.v.len() >= additional {
            return;
        }
        self.grow(additional, limit);
    }

    #[cold]
    fn grow(&mut self, additional: usize, limit: usize) {
        let need = self.v.len().saturating_add(additional);
        let elem = std::mem::size_of::<T>().max(1);
        if need.saturating_mul(elem) <= BIG_BYTES {
            self.v.reserve(additional);
            return;
        }
        let target = need.max(limit.min(RESERVE_MAX_BYTES / elem));
        // Reserving the whole limit can fail where a smaller step would not (e.g. strict
        // overcommit accounting): fall back to ordinary growth then.
        if self.v.try_reserve_exact(target - self.v.len()).is_err() {
            self.v.reserve(additional);
        }
        advise_huge(
            self.v.as_ptr().cast(),
            self.v.capacity().saturating_mul(elem),
        );
    }

    /// Appends one element.
    #[inline]
    pub fn push(&mut self, x: T) {
        self.v.push(x);
    }

    /// Appends `xs` (tests only; appends write through [`Self::spare`]).
    #[cfg(test)]
    pub fn extend_from_slice(&mut self, xs: &[T]) {
        self.v.extend_from_slice(xs);
    }

    /// The first `n` slots past the end, to be written and then published with
    /// [`Self::commit`]. Room must have been made with [`Self::reserve`]; asking for more
    /// than the spare capacity is a bug and panics.
    #[inline]
    pub fn spare(&mut self, n: usize) -> &mut [MaybeUninit<T>] {
        &mut self.v.spare_capacity_mut()[..n]
    }

    /// Makes the first `n` spare slots part of the buffer.
    ///
    /// # Safety
    ///
    /// Each of the first `n` slots returned by [`Self::spare`] must have been written since
    /// (and `n` must not exceed the spare capacity).
    #[inline]
    pub unsafe fn commit(&mut self, n: usize) {
        let len = self.v.len() + n;
        debug_assert!(len <= self.v.capacity());
        // SAFETY: the caller guarantees the slots `len - n..len` were initialized and lie
        // within the capacity; `T: Copy`, so there is nothing to drop.
        unsafe { self.v.set_len(len) }
    }

    /// Shortens to `len` elements (no-op if already shorter); capacity is kept.
    pub fn truncate(&mut self, len: usize) {
        self.v.truncate(len);
    }

    /// Removes every element; capacity is kept.
    pub fn clear(&mut self) {
        self.v.clear();
    }

    /// Elements the buffer holds without reallocating.
    pub fn capacity(&self) -> usize {
        self.v.capacity()
    }
}

impl<T> Deref for SegBuf<T> {
    type Target = [T];

    #[inline]
    fn deref(&self) -> &[T] {
        &self.v
    }
}

/// Copies `src` to the start of `dst` (which must be at least as long). Payloads of 16 to 64
/// bytes, the common size of batched entries, are copied with two overlapping fixed-size moves
/// the compiler inlines, instead of a library `memcpy` call per entry.
#[inline(always)]
pub(crate) fn copy_payload(dst: &mut [MaybeUninit<u8>], src: &[u8]) {
    let n = src.len();
    let dst = &mut dst[..n];
    if (16..=32).contains(&n) {
        dst[..16].write_copy_of_slice(&src[..16]);
        dst[n - 16..].write_copy_of_slice(&src[n - 16..]);
    } else if (33..=64).contains(&n) {
        dst[..32].write_copy_of_slice(&src[..32]);
        dst[n - 32..].write_copy_of_slice(&src[n - 32..]);
    } else {
        dst.write_copy_of_slice(src);
    }
}

/// Advises transparent huge pages for the 2 MiB-aligned part of `[ptr, ptr + len)`.
#[cfg(target_os = "linux")]
fn advise_huge(ptr: *const u8, len: usize) {
    const HUGE: usize = 2 << 20;
    let start = (ptr as usize).next_multiple_of(HUGE);
    let end = (ptr as usize).saturating_add(len) & !(HUGE - 1);
    if end <= start {
        return;
    }
    // SAFETY: `[start, end)` lies inside one live allocation this buffer owns (rounded
    // inwards to page boundaries, as madvise requires). MADV_HUGEPAGE only changes how the
    // kernel backs the range; it never changes its contents or validity, so no Rust
    // invariant depends on the call, and a failure (e.g. THP disabled) is harmless advice
    // not taken, hence the ignored result.
    unsafe {
        libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge(_ptr: *const u8, _len: usize) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_buffers_grow_like_a_vec() {
        let mut b: SegBuf<u64> = SegBuf::new();
        b.reserve(10, 1 << 30);
        assert!(b.capacity() >= 10);
        assert!(
            b.capacity() * 8 <= BIG_BYTES,
            "no big reservation for a small buffer"
        );
        for i in 0..10 {
            b.push(i);
        }
        b.extend_from_slice(&[10, 11]);
        assert_eq!(&b[..], &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        b.truncate(2);
        assert_eq!(&b[..], &[0, 1]);
        let cap = b.capacity();
        b.clear();
        assert!(b.is_empty());
        assert_eq!(b.capacity(), cap);
    }

    #[test]
    fn a_big_buffer_reserves_its_limit_once_and_keeps_its_contents() {
        let mut b: SegBuf<u8> = SegBuf::new();
        let limit = 8 << 20;
        let mut expect = Vec::new();
        let chunk: Vec<u8> = (0..=255u8).cycle().take(64 * 1024).collect();
        let mut caps = Vec::new();
        while b.len() + chunk.len() <= limit {
            b.reserve(chunk.len(), limit);
            b.extend_from_slice(&chunk);
            expect.extend_from_slice(&chunk);
            caps.push(b.capacity());
        }
        assert_eq!(&b[..], &expect[..]);
        // Past BIG_BYTES the capacity jumps to the limit and never changes again.
        let big: Vec<usize> = caps.iter().copied().filter(|&c| c > BIG_BYTES).collect();
        assert!(!big.is_empty());
        assert!(big.iter().all(|&c| c == big[0] && c >= limit), "{big:?}");
    }

    #[test]
    fn the_segment_after_a_big_one_starts_reserved() {
        let mut big: SegBuf<u64> = SegBuf::new();
        big.reserve(BIG_BYTES / 8 + 1, 1 << 20);
        let next = SegBuf::sized_like(&big, 1 << 20);
        assert!(next.is_empty() && next.capacity() >= 1 << 20);
        let small: SegBuf<u64> = SegBuf::from_vec(vec![1; 100]);
        assert_eq!(SegBuf::sized_like(&small, 1 << 20).capacity(), 0);
    }

    #[test]
    fn a_huge_limit_reserves_at_most_the_cap() {
        let mut b: SegBuf<u64> = SegBuf::new();
        b.reserve(BIG_BYTES / 8 + 1, u32::MAX as usize);
        assert!(b.capacity() * 8 >= RESERVE_MAX_BYTES, "{}", b.capacity());
        assert!(b.capacity() * 8 < 2 * RESERVE_MAX_BYTES, "{}", b.capacity());
    }

    #[test]
    fn spare_slots_committed_become_elements_and_payload_copies_are_exact() {
        let src: Vec<u8> = (0..200u8).collect();
        for len in 0..=130 {
            let mut b: SegBuf<u8> = SegBuf::from_vec(vec![0xEE; 3]);
            b.reserve(len + 5, 1 << 20);
            let spare = b.spare(len + 5);
            // Poison the slot after the copy, so an overlong copy would show.
            spare[len].write(0xAB);
            copy_payload(spare, &src[7..7 + len]);
            // SAFETY: `copy_payload` wrote the first `len` slots and slot `len` was written.
            unsafe { b.commit(len + 1) };
            assert_eq!(&b[..3], &[0xEE; 3]);
            assert_eq!(&b[3..3 + len], &src[7..7 + len], "len {len}");
            assert_eq!(b[3 + len], 0xAB, "len {len}");
        }
    }

    #[test]
    fn a_request_beyond_the_limit_is_still_served() {
        let mut b: SegBuf<u8> = SegBuf::from_vec(vec![1, 2, 3]);
        let big = vec![9u8; BIG_BYTES + 5];
        b.reserve(big.len(), 1024);
        assert!(b.capacity() >= big.len() + 3);
        b.extend_from_slice(&big);
        assert_eq!(b.len(), big.len() + 3);
        assert_eq!(&b[..3], &[1, 2, 3]);
    }
}
