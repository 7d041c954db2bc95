//! [`SegBuf`]: the growable buffer behind a segment's records and payload bytes.
//!
//! Promises: it behaves like a `Vec<T>` for the operations segments need (push, truncate,
//! clear, read as a slice, write into spare room then commit). Small buffers grow like a
//! `Vec` (doubling). Once a buffer must grow past [`BIG_BYTES`] it reserves room for the
//! segment's whole limit at once, so a big segment reallocates (and copies) at most once
//! instead of at every doubling. That reservation is aligned to 2 MiB and sized in whole
//! 2 MiB units, and on Linux advised for transparent huge pages: a log that grows by fresh
//! memory then takes one page fault (one zeroing, one memory-cgroup charge) per 2 MiB
//! instead of per 4 KiB over the whole buffer (an unaligned reservation, as a `Vec` gets,
//! left up to 2 MiB at its ends on 4 KiB pages), which is where most of the time of a 1 KiB
//! or batched append went (see `docs/redex.md`, Performance).
//!
//! Does not promise: huge pages (advice only; the kernel may ignore it, e.g. when
//! transparent huge pages are disabled, and then plain pages are used), or any bound on
//! spare capacity beyond the segment limit (rounded up to 2 MiB). A reservation is address
//! space; the system allocator backs it with memory only where it is written (true of glibc
//! and musl on Linux for allocations this large). Small files (under 2 MiB per buffer) never
//! reserve ahead and never get huge pages, so many small channels cost no more than before.
//!
//! A big reservation also pre-faults ahead of its writer: each time the written part crosses
//! into a new 2 MiB unit, the background worker of [`super::prefault`] is asked to populate
//! the next few units, so the kernel's zeroing of fresh pages runs on that thread instead of
//! the appender's. The buffer retires its pre-fault region when it frees or moves its memory
//! (the worker frees it if a populate of it is running; see that module for the lifetime
//! rule), and never waits for the worker; contents are never affected.

use std::alloc::{self, Layout};
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::ops::Deref;
use std::ptr::NonNull;
use std::sync::Arc;

use super::prefault::{self, Alloc, Region};

/// Buffers at most this large grow like a `Vec`; beyond it they reserve the segment limit.
pub(crate) const BIG_BYTES: usize = 2 << 20;

/// The alignment and size unit of a big reservation: one transparent huge page.
const HUGE: usize = prefault::UNIT;

/// The most one reservation takes at once: a segment configured with a huge limit (e.g.
/// `segment_max_entries = u32::MAX`, 80 GiB of records) does not reserve all of it; past
/// this the buffer at least doubles at each growth, like a `Vec`.
pub(crate) const RESERVE_MAX_BYTES: usize = 256 << 20;

/// A `Vec<T>` that reserves a segment's whole limit, huge-page aligned, once it is big; see
/// the module docs.
pub(crate) struct SegBuf<T> {
    /// Start of the allocation (dangling while `cap == 0`).
    ptr: NonNull<T>,
    /// Initialized elements, `0..len`.
    len: usize,
    /// Elements the allocation holds.
    cap: usize,
    /// The alignment the allocation was made with: `align_of::<T>()`, or [`HUGE`].
    align: usize,
    /// The pre-fault state shared with the worker, for a big ([`HUGE`]-aligned) allocation.
    prefault: Option<Arc<Region>>,
    /// Ask for pre-faulting once the written part passes this many elements (`usize::MAX`:
    /// never; see [`Self::ahead`]).
    next_prefault: usize,
    _owns: PhantomData<T>,
}

// SAFETY: a `SegBuf<T>` owns its elements like a `Vec<T>` (the raw pointer is never shared),
// so it may move to or be shared with another thread exactly when `T` may.
unsafe impl<T: Send> Send for SegBuf<T> {}
// SAFETY: as above; `&SegBuf<T>` only hands out `&[T]`.
unsafe impl<T: Sync> Sync for SegBuf<T> {}

impl<T> std::fmt::Debug for SegBuf<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SegBuf")
            .field("len", &self.len)
            .field("cap", &self.cap)
            .field("align", &self.align)
            .field("prefault", &self.prefault.is_some())
            .finish()
    }
}

impl<T: Copy> Default for SegBuf<T> {
    fn default() -> SegBuf<T> {
        SegBuf::new()
    }
}

impl<T: Copy> SegBuf<T> {
    const ELEM: usize = {
        assert!(size_of::<T>() > 0, "SegBuf does not hold zero-sized types");
        size_of::<T>()
    };

    /// An empty buffer (no allocation).
    pub fn new() -> SegBuf<T> {
        SegBuf {
            ptr: NonNull::dangling(),
            len: 0,
            cap: 0,
            align: align_of::<T>(),
            prefault: None,
            next_prefault: usize::MAX,
            _owns: PhantomData,
        }
    }

    /// Takes over an existing vector's allocation (e.g. bytes read from disk).
    pub fn from_vec(v: Vec<T>) -> SegBuf<T> {
        let _ = Self::ELEM;
        let mut v = std::mem::ManuallyDrop::new(v);
        let (len, cap) = (v.len(), v.capacity());
        if cap == 0 {
            return SegBuf::new();
        }
        SegBuf {
            // A vector with capacity has a non-null allocation.
            ptr: NonNull::new(v.as_mut_ptr()).expect("allocated vector"),
            len,
            cap,
            // A `Vec<T>` allocates `Layout::array::<T>(cap)` from the global allocator,
            // which is what `Drop` and `grow` hand back for this alignment.
            align: align_of::<T>(),
            prefault: None,
            next_prefault: usize::MAX,
            _owns: PhantomData,
        }
    }

    /// An empty buffer for the segment after one whose buffer was `prev`: when `prev` grew
    /// big, the file is evidently large, so the whole `limit` is reserved now rather than
    /// after growing through small allocations (and their copies) again.
    pub fn sized_like(prev: &SegBuf<T>, limit: usize) -> SegBuf<T> {
        let mut b = SegBuf::new();
        if prev.capacity().saturating_mul(Self::ELEM) > BIG_BYTES {
            b.grow(limit, limit);
        }
        b
    }

    /// Makes room for `additional` more elements. `limit` is the number of elements the
    /// segment may hold before it rolls; a buffer growing past [`BIG_BYTES`] reserves
    /// `max(limit, len + additional)` elements at once (the limit capped at
    /// [`RESERVE_MAX_BYTES`]), rounded up to whole 2 MiB units.
    ///
    /// A big buffer's writer crossing into a new 2 MiB unit here also asks the pre-fault
    /// worker for the units ahead (one comparison otherwise).
    #[inline]
    pub fn reserve(&mut self, additional: usize, limit: usize) {
        if self.cap - self.len < additional {
            self.grow(additional, limit);
        }
        // No overflow: `len + additional <= cap` now.
        if self.len + additional > self.next_prefault {
            self.ahead(self.len + additional);
        }
    }

    /// Asks the worker to populate the units after the one holding element `end - 1`, and
    /// sets the next trigger at the first element past that unit.
    #[cold]
    fn ahead(&mut self, end: usize) {
        let (Some(region), Some(n)) = (&self.prefault, prefault::wanted_ahead()) else {
            self.next_prefault = usize::MAX;
            return;
        };
        let elem = Self::ELEM;
        let unit = (end * elem - 1) / HUGE;
        let units = self.cap * elem / HUGE;
        // Firing when `end > next` means `end * elem > (unit + 1) * HUGE`: a later unit.
        self.next_prefault = (unit + 1) * HUGE / elem;
        if unit + 1 < units {
            region.request(unit + 1, (unit + 1).saturating_add(n).min(units));
        }
    }

    #[cold]
    fn grow(&mut self, additional: usize, limit: usize) {
        let elem = Self::ELEM;
        let need = self.len.checked_add(additional).expect("capacity overflow");
        let doubled = need.max(self.cap.saturating_mul(2)).max(8);
        if need.saturating_mul(elem) <= BIG_BYTES {
            // Small: like a `Vec`, at least doubling, never past the big threshold by this
            // step alone (the big path takes over from there).
            let cap = doubled.min((BIG_BYTES / elem).max(need));
            self.realloc(cap, align_of::<T>());
            return;
        }
        // The segment limit when it leaves room; else (past the limit or the cap) at least
        // double, so growing one element at a time stays amortized.
        let reserved = need.max(limit.min(RESERVE_MAX_BYTES / elem));
        let target = if reserved > need { reserved } else { doubled };
        let bytes = target
            .checked_mul(elem)
            .and_then(|b| b.checked_next_multiple_of(HUGE))
            .expect("capacity overflow");
        // Reserving the whole limit can fail where a smaller step would not (e.g. strict
        // overcommit accounting): fall back to ordinary growth then.
        if !self.try_realloc(bytes / elem, HUGE) {
            self.realloc(doubled, align_of::<T>());
            return;
        }
        advise_huge(self.ptr.as_ptr().cast(), self.cap * elem);
        // The allocation is HUGE-aligned: the worker populates its whole 2 MiB pages.
        self.prefault = Some(Region::new(
            self.ptr.as_ptr().cast(),
            self.cap * elem / HUGE,
        ));
        // The next `reserve` (this one's, for a growing buffer) asks for the units ahead.
        self.next_prefault = 0;
    }

    /// Moves the elements to a new allocation of `cap` elements aligned to `align`; aborts
    /// through `handle_alloc_error` when memory is exhausted (as a `Vec` does).
    fn realloc(&mut self, cap: usize, align: usize) {
        if !self.try_realloc(cap, align) {
            let layout = Layout::from_size_align(cap * Self::ELEM, align).expect("layout");
            alloc::handle_alloc_error(layout);
        }
    }

    /// [`Self::realloc`], returning `false` (and changing nothing) when the allocation fails.
    fn try_realloc(&mut self, cap: usize, align: usize) -> bool {
        debug_assert!(cap >= self.len && cap > 0);
        let Some(layout) = cap
            .checked_mul(Self::ELEM)
            .and_then(|size| Layout::from_size_align(size, align).ok())
        else {
            return false;
        };
        // With a pre-fault region the old allocation must stay where it is until retired
        // (the worker may be populating it): move by allocating and copying, never by
        // `realloc`, which may free or move it.
        let ptr = if self.cap > 0 && align == self.align && self.prefault.is_none() {
            // SAFETY: `self.ptr` was allocated by the global allocator with `self.layout()`
            // (same alignment as `layout`), and `layout.size()` is non-zero.
            unsafe { alloc::realloc(self.ptr.as_ptr().cast(), self.layout(), layout.size()) }
        } else {
            // SAFETY: `layout` has a non-zero size (`cap > 0`, elements are not zero-sized).
            let new = unsafe { alloc::alloc(layout) };
            if !new.is_null() && self.cap > 0 {
                let region = self.prefault.take();
                self.next_prefault = usize::MAX;
                // SAFETY: the old allocation holds `len` initialized elements; the new one
                // holds at least `cap >= len` elements and does not overlap it; the old one
                // was allocated with `self.layout()` and is not used after this.
                unsafe {
                    std::ptr::copy_nonoverlapping(self.ptr.as_ptr(), new.cast::<T>(), self.len);
                    release(self.ptr.cast(), self.layout(), region);
                }
            }
            new
        };
        let Some(ptr) = NonNull::new(ptr.cast::<T>()) else {
            return false;
        };
        self.ptr = ptr;
        self.cap = cap;
        self.align = align;
        true
    }

    /// The layout of the current allocation (`cap > 0`).
    fn layout(&self) -> Layout {
        // Valid: it is the layout the allocation was made with.
        Layout::from_size_align(self.cap * Self::ELEM, self.align).expect("layout")
    }

    /// Appends one element.
    #[inline]
    pub fn push(&mut self, x: T) {
        self.reserve(1, 0);
        self.spare(1)[0].write(x);
        // SAFETY: the one spare slot was just written.
        unsafe { self.commit(1) }
    }

    /// Appends `xs` (tests only; appends write through [`Self::spare`]).
    #[cfg(test)]
    pub fn extend_from_slice(&mut self, xs: &[T]) {
        self.reserve(xs.len(), 0);
        self.spare(xs.len()).write_copy_of_slice(xs);
        // SAFETY: the `xs.len()` spare slots were just written.
        unsafe { self.commit(xs.len()) }
    }

    /// The first `n` slots past the end, to be written and then published with
    /// [`Self::commit`]. Room must have been made with [`Self::reserve`]; asking for more
    /// than the spare capacity is a bug and panics.
    #[inline]
    pub fn spare(&mut self, n: usize) -> &mut [MaybeUninit<T>] {
        assert!(
            n <= self.cap - self.len,
            "spare {n} of {}",
            self.cap - self.len
        );
        // SAFETY: slots `len..len + n` lie inside the allocation (checked above; for `cap ==
        // 0`, `n == 0` and the dangling pointer is valid for an empty slice), are not
        // aliased by the initialized part handed out by `Deref`, and `MaybeUninit` needs no
        // initialization.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr().add(self.len).cast(), n) }
    }

    /// Makes the first `n` spare slots part of the buffer.
    ///
    /// # Safety
    ///
    /// Each of the first `n` slots returned by [`Self::spare`] must have been written since
    /// (and `n` must not exceed the spare capacity).
    #[inline]
    pub unsafe fn commit(&mut self, n: usize) {
        debug_assert!(self.len + n <= self.cap);
        self.len += n;
    }

    /// Shortens to `len` elements (no-op if already shorter); capacity is kept.
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    /// Removes every element; capacity is kept.
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Elements the buffer holds without reallocating.
    pub fn capacity(&self) -> usize {
        self.cap
    }
}

impl<T> Drop for SegBuf<T> {
    fn drop(&mut self) {
        if self.cap > 0 {
            let layout = Layout::from_size_align(self.cap * size_of::<T>(), self.align)
                .expect("the allocation's layout");
            // SAFETY: the allocation was made by the global allocator with this layout and is
            // not used after this; elements are `Copy` in every constructor, so nothing needs
            // dropping.
            unsafe { release(self.ptr.cast(), layout, self.prefault.take()) }
        }
    }
}

impl<T> Deref for SegBuf<T> {
    type Target = [T];

    #[inline]
    fn deref(&self) -> &[T] {
        // SAFETY: `0..len` are initialized elements of the allocation (or an empty slice on
        // the dangling, well-aligned pointer).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

/// Frees an allocation of the global allocator, through its pre-fault region when it has one
/// (then the worker frees it instead if it is populating it right now; see
/// [`Region::retire`]).
///
/// # Safety
///
/// `ptr` was allocated by the global allocator with `layout` and is not used afterwards.
unsafe fn release(ptr: NonNull<u8>, layout: Layout, region: Option<Arc<Region>>) {
    let block = Alloc { ptr, layout };
    let mine = match region {
        Some(region) => region.retire(block),
        None => Some(block),
    };
    if let Some(block) = mine {
        // SAFETY: as the caller promises; a retired block comes back at most once.
        unsafe { block.free() }
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
    fn big_reservations_are_huge_page_aligned_whole_units_and_keep_contents() {
        // A 20-byte element, like an index record.
        let mut b: SegBuf<[u8; 20]> = SegBuf::new();
        let first: Vec<[u8; 20]> = (0..1000u32).map(|i| [(i % 251) as u8; 20]).collect();
        b.extend_from_slice(&first);
        assert!(b.capacity() * 20 <= BIG_BYTES);
        b.reserve(BIG_BYTES / 20 + 1, 1 << 20);
        assert_eq!(b.as_ptr() as usize % HUGE, 0, "aligned to 2 MiB");
        assert_eq!(b.capacity() * 20 % HUGE, 0, "whole 2 MiB units");
        assert!(b.capacity() >= 1 << 20);
        assert_eq!(&b[..], &first[..]);
        let next = SegBuf::sized_like(&b, 1 << 20);
        assert_eq!(next.as_ptr() as usize % HUGE, 0);
        assert!(next.is_empty() && next.capacity() >= 1 << 20);
    }

    #[test]
    fn pushing_one_at_a_time_past_the_big_size_stays_amortized() {
        let mut b: SegBuf<u32> = SegBuf::new();
        let mut caps = 0;
        let mut cap = 0;
        for i in 0..(3 << 20) {
            b.push(i);
            if b.capacity() != cap {
                cap = b.capacity();
                caps += 1;
            }
        }
        assert!(caps < 40, "{caps} reallocations");
        assert!(b.iter().enumerate().all(|(i, &x)| x == i as u32));
        let data = SegBuf::from_vec(vec![5u8; 100]);
        assert_eq!((&data[..], data.capacity()), (&[5u8; 100][..], 100));
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

    /// Waits up to 10 s for `f`.
    fn eventually(mut f: impl FnMut() -> bool) -> bool {
        let t0 = std::time::Instant::now();
        while t0.elapsed() < std::time::Duration::from_secs(10) {
            if f() {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        false
    }

    /// Whether every 4 KiB page of `[ptr, ptr + len)` is resident (Linux `mincore`).
    #[cfg(target_os = "linux")]
    fn resident(ptr: *const u8, len: usize) -> bool {
        let mut v = vec![0u8; len.div_ceil(4096)];
        // SAFETY: `ptr` is page-aligned inside a live allocation of at least `len` bytes, and
        // `v` has one byte per page of the range.
        let rc = unsafe { libc::mincore(ptr as *mut libc::c_void, len, v.as_mut_ptr()) };
        rc == 0 && v.iter().all(|b| b & 1 == 1)
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn units_ahead_of_the_writer_are_populated_and_contents_kept() {
        let mut b: SegBuf<u8> = SegBuf::new();
        let limit = 32 << 20;
        let chunk: Vec<u8> = (0..=255u8).cycle().take(4096 + 13).collect();
        let mut expect = Vec::new();
        // Into unit 1 of the big reservation: units 2.. are asked for.
        while b.len() < HUGE + 4096 {
            b.reserve(chunk.len(), limit);
            b.extend_from_slice(&chunk);
            expect.extend_from_slice(&chunk);
        }
        assert_eq!(b.as_ptr() as usize % HUGE, 0);
        let region = b
            .prefault
            .clone()
            .expect("a big buffer has a pre-fault region");
        if prefault::prefault_stats().unsupported {
            // The kernel refused MADV_POPULATE_WRITE: the appender faults as before.
            return;
        }
        assert!(
            eventually(|| region.finished.load(std::sync::atomic::Ordering::SeqCst) >= 2),
            "the worker populated ahead"
        );
        // Unit 2 lies wholly past the written part, so only the worker can have faulted it.
        // SAFETY: unit 2 lies inside the allocation (32 MiB).
        let unit2 = unsafe { b.as_ptr().add(2 * HUGE) };
        assert!(
            resident(unit2, HUGE),
            "unit 2 was populated ahead of the writer"
        );
        // Writing on through the pre-faulted units keeps exactly what is written.
        while b.len() + chunk.len() <= 5 * HUGE {
            b.reserve(chunk.len(), limit);
            b.extend_from_slice(&chunk);
            expect.extend_from_slice(&chunk);
        }
        assert_eq!(&b[..], &expect[..]);
    }

    /// Drops or reallocates a buffer while a populate of it is in flight (held open by the
    /// test hook): the drop or realloc must not wait for it, the worker must free the old
    /// memory once its populate returns, and no populate of it may start afterwards.
    #[cfg(target_os = "linux")]
    #[test]
    fn dropping_or_reallocating_never_waits_and_the_worker_frees_what_it_holds() {
        use std::sync::atomic::Ordering::SeqCst;
        if prefault::prefault_stats().unsupported {
            return;
        }
        prefault::TEST_HOLD_US.store(300_000, SeqCst);
        for realloc in [false, true] {
            let mut b: SegBuf<u32> = SegBuf::new();
            let pattern: Vec<u32> = (0..HUGE as u32 / 4 + 7).collect();
            // Three units reserved, the writer in unit 1: unit 2 is asked for. Growing past
            // the limit reallocates the big allocation.
            let limit = 3 * HUGE / 4;
            b.reserve(pattern.len(), limit);
            b.extend_from_slice(&pattern);
            let region = b.prefault.clone().expect("big");
            assert!(
                eventually(|| region.started.load(SeqCst) >= 1),
                "a populate started"
            );
            let started = region.started.load(SeqCst);
            if realloc {
                b.reserve(b.capacity() - b.len() + 1, limit);
                assert!(
                    b.prefault.is_some(),
                    "the new allocation has its own region"
                );
                assert!(!Arc::ptr_eq(b.prefault.as_ref().unwrap(), &region));
                assert_eq!(&b[..], &pattern[..], "contents kept across the realloc");
            } else {
                drop(b);
            }
            // Returned while the populate (held for 300 ms) was still running.
            assert!(
                region.finished.load(SeqCst) < started,
                "realloc {realloc}: did not wait"
            );
            assert!(
                eventually(|| region.freed_by_worker.load(SeqCst)),
                "realloc {realloc}: the worker freed the retired memory"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
            assert_eq!(
                region.started.load(SeqCst),
                started,
                "nothing after retiring"
            );
        }
        prefault::TEST_HOLD_US.store(0, SeqCst);
    }
}
