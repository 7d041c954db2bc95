//! Pre-faulting the next huge pages of a growing big segment buffer off the appender's thread.
//!
//! A big [`SegBuf`](super::segbuf) reservation is address space: each 2 MiB unit costs a page
//! fault, a zeroing and a memory-cgroup charge the first time it is written. When an append
//! crosses into a new unit, the buffer asks one lazily started, process-wide worker thread
//! (`redex-prefault`) to populate the next few units ahead (Linux
//! `madvise(MADV_POPULATE_WRITE)`, which faults pages in writable without changing their
//! contents), so the appender mostly writes into memory that is already backed.
//!
//! The worker runs at the lowest CPU priority (Linux `SCHED_IDLE`): it uses a core only
//! when nothing else wants it, so on a busy machine it neither slows the appender (which then
//! faults its pages itself, as without it) nor other work.
//!
//! Promises:
//! - the appender never blocks on a request: requests go into a bounded queue and are skipped
//!   (counted) when it is full; each buffer is in the queue at most once (deduplicated);
//! - a populate never runs on memory that is not live, and the buffer never waits for the
//!   worker: a buffer that frees or moves away from its memory [retires](Region::retire) it
//!   first; when a populate of it is running, the worker frees it after that populate
//!   returns, else the buffer frees it at once and no populate of it starts again;
//! - nothing observable changes: contents, what appends return and durability are the same
//!   with pre-faulting on, off ([`set_prefault_ahead`] `(0)`) or refused by the kernel.
//!
//! Does not promise: that a unit is backed by the time the appender reaches it (the worker may
//! be behind, or not scheduled, and then the appender faults as it would without it), huge
//! pages (advice only), or anything on systems other than Linux 5.14 and later (elsewhere, or
//! when the kernel refuses the advice once with `EINVAL`, requests stop and nothing runs).
//! Memory retired during a populate is freed when that populate returns (on a busy machine
//! the idle-priority worker may take a while to get there). Pre-faulted units count as
//! resident memory before they are written: up to [`prefault_ahead`] units (2 MiB each) per
//! growing big buffer.

use std::alloc::{self, Layout};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;

/// The size and alignment of one unit: a transparent huge page.
pub(crate) const UNIT: usize = 2 << 20;

/// How many requests may wait for the worker; past this, requests are skipped.
const QUEUE: usize = 256;

/// Units populated ahead of the one being written, process-wide (0 disables).
static AHEAD: AtomicUsize = AtomicUsize::new(2);

/// Set once the kernel refused `MADV_POPULATE_WRITE` as unknown advice (or off Linux).
static REFUSED: AtomicBool = AtomicBool::new(!cfg!(target_os = "linux"));

static REQUESTS: AtomicU64 = AtomicU64::new(0);
static SKIPPED: AtomicU64 = AtomicU64::new(0);
static POPULATED: AtomicU64 = AtomicU64::new(0);
static FAILED: AtomicU64 = AtomicU64::new(0);

/// Sets how many 2 MiB units ahead of an appender a growing big segment buffer is pre-faulted
/// by the background worker (process-wide; default 2, i.e. 4 MiB ahead per buffer; 0 turns
/// pre-faulting off). Takes effect at a buffer's next crossing into a new unit.
pub fn set_prefault_ahead(units: usize) {
    AHEAD.store(units, Ordering::Relaxed);
}

/// The current pre-fault distance in 2 MiB units (see [`set_prefault_ahead`]).
pub fn prefault_ahead() -> usize {
    AHEAD.load(Ordering::Relaxed)
}

/// Process-wide counters of the pre-fault worker (monotonic since process start).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PrefaultStats {
    /// Requests queued for the worker.
    pub requests: u64,
    /// Requests skipped because the queue was full or the worker could not be started.
    pub skipped: u64,
    /// 2 MiB units the worker populated.
    pub units_populated: u64,
    /// Populate calls the kernel failed (e.g. out of memory); the appender faults those pages.
    pub units_failed: u64,
    /// Whether pre-faulting is unavailable here (not Linux, or the kernel refused
    /// `MADV_POPULATE_WRITE`, as before Linux 5.14); requests are then not made.
    pub unsupported: bool,
}

/// The current [`PrefaultStats`].
pub fn prefault_stats() -> PrefaultStats {
    PrefaultStats {
        requests: REQUESTS.load(Ordering::Relaxed),
        skipped: SKIPPED.load(Ordering::Relaxed),
        units_populated: POPULATED.load(Ordering::Relaxed),
        units_failed: FAILED.load(Ordering::Relaxed),
        unsupported: REFUSED.load(Ordering::Relaxed),
    }
}

/// Whether a buffer should ask for pre-faulting now: how many units ahead, or `None`.
pub(crate) fn wanted_ahead() -> Option<usize> {
    let n = AHEAD.load(Ordering::Relaxed);
    (n > 0 && !REFUSED.load(Ordering::Relaxed)).then_some(n)
}

/// [`Region::state`]: no populate running; the owner may retire the allocation at once.
const IDLE: u8 = 0;
/// The worker is populating part of the allocation.
const BUSY: u8 = 1;
/// The owner gave the allocation up while the worker was busy: the worker frees it.
const RETIRED: u8 = 2;
/// Never touched again; the allocation is freed (or being freed) by whoever set this.
const DEAD: u8 = 3;

/// An allocation handed over to be freed.
pub(crate) struct Alloc {
    /// Start of the allocation.
    pub ptr: NonNull<u8>,
    /// The layout it was allocated with by the global allocator.
    pub layout: Layout,
}

// SAFETY: an `Alloc` is a unique claim on a block of the global allocator (nothing else
// refers to it once handed over); the global allocator may free a block from any thread.
unsafe impl Send for Alloc {}

impl Alloc {
    /// Frees the allocation.
    ///
    /// # Safety
    ///
    /// `ptr` must have been allocated by the global allocator with `layout`, must not be
    /// used afterwards, and must not be freed twice.
    pub unsafe fn free(self) {
        // SAFETY: as the caller promises.
        unsafe { alloc::dealloc(self.ptr.as_ptr(), self.layout) }
    }
}

/// The pre-fault state one big buffer shares with the worker.
///
/// The lifetime rule: the worker populates only between a successful `IDLE -> BUSY` and its
/// `BUSY -> IDLE`; the owner retires the allocation with `IDLE -> DEAD` (then frees it
/// itself: no populate runs and none can start) or, if the worker is busy, `BUSY -> RETIRED`
/// (then the worker frees it after its populate returns). Neither side ever waits.
pub(crate) struct Region {
    /// The units wanted, `lo << 32 | hi` (half-open); written by the buffer's owner only.
    want: AtomicU64,
    /// Whether this region is in the queue (one entry per region at most).
    queued: AtomicBool,
    /// `IDLE`, `BUSY`, `RETIRED` or `DEAD`.
    state: AtomicU8,
    /// Start of the allocation (aligned to [`UNIT`]).
    base: usize,
    /// Whole units in the allocation.
    units: usize,
    /// Units below this were populated already (worker only).
    done: AtomicUsize,
    /// The allocation, once retired while the worker was busy.
    retired: Mutex<Option<Alloc>>,
    /// Populates of this region that have finished (tests).
    #[cfg(test)]
    pub finished: AtomicU64,
    /// Populates of this region that have started (tests).
    #[cfg(test)]
    pub started: AtomicU64,
    /// Whether the worker freed this region's allocation (tests).
    #[cfg(test)]
    pub freed_by_worker: AtomicBool,
}

impl Region {
    /// A region for the live allocation `[base, base + units * UNIT)`.
    pub fn new(base: *const u8, units: usize) -> Arc<Region> {
        Arc::new(Region {
            want: AtomicU64::new(0),
            queued: AtomicBool::new(false),
            state: AtomicU8::new(IDLE),
            base: base as usize,
            units,
            done: AtomicUsize::new(0),
            retired: Mutex::new(None),
            #[cfg(test)]
            finished: AtomicU64::new(0),
            #[cfg(test)]
            started: AtomicU64::new(0),
            #[cfg(test)]
            freed_by_worker: AtomicBool::new(false),
        })
    }

    /// Asks the worker to populate units `lo..hi` (clamped to the allocation). Never blocks:
    /// when this region is already queued the worker will see the new range; when the queue
    /// is full the request is dropped.
    pub fn request(self: &Arc<Region>, lo: usize, hi: usize) {
        let pack = |u: usize| u.min(u32::MAX as usize) as u64;
        // SeqCst here and in `run` (store `want`, swap `queued` / store `queued`, load
        // `want`): either this swap sees the worker's clear and queues again, or the worker's
        // load sees this range. A lost range would only cost speed, never safety.
        self.want.store(pack(lo) << 32 | pack(hi), Ordering::SeqCst);
        if self.queued.swap(true, Ordering::SeqCst) {
            return;
        }
        let sent = match worker() {
            Some(tx) => match tx.try_send(Arc::clone(self)) {
                Ok(()) => true,
                Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
            },
            None => false,
        };
        if sent {
            REQUESTS.fetch_add(1, Ordering::Relaxed);
        } else {
            self.queued.store(false, Ordering::Release);
            SKIPPED.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Gives up the allocation (the buffer frees or moves away from it): no populate of it
    /// starts from now on. Returns the allocation when the caller must free it now, or `None`
    /// when a populate is running and the worker frees it once that returns. Never waits.
    pub fn retire(&self, alloc: Alloc) -> Option<Alloc> {
        *self.retired.lock() = Some(alloc);
        loop {
            match self
                .state
                .compare_exchange(IDLE, DEAD, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return self.retired.lock().take(),
                Err(BUSY) => {
                    if self
                        .state
                        .compare_exchange(BUSY, RETIRED, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok()
                    {
                        return None;
                    }
                    // The populate just ended (`BUSY -> IDLE`): try again.
                }
                // Retired once only (the owner drops its handle): not reached.
                Err(_) => return self.retired.lock().take(),
            }
        }
    }

    /// Populates the wanted units (worker thread).
    fn run(&self) {
        // Cleared before reading `want`, so a request made from now on queues again.
        self.queued.store(false, Ordering::SeqCst);
        let want = self.want.load(Ordering::SeqCst);
        let (lo, hi) = ((want >> 32) as usize, (want & u32::MAX as u64) as usize);
        for unit in lo.max(self.done.load(Ordering::Relaxed))..hi.min(self.units) {
            if REFUSED.load(Ordering::Relaxed)
                || self
                    .state
                    .compare_exchange(IDLE, BUSY, Ordering::AcqRel, Ordering::Acquire)
                    .is_err()
            {
                return;
            }
            let start = self.base + unit * UNIT;
            // SAFETY: `[start, start + UNIT)` lies inside the allocation `[base, base + units *
            // UNIT)` (`unit < units`), which stays live until our `BUSY -> IDLE` below: the
            // owner frees it only after moving the state `IDLE -> DEAD` (impossible while we
            // hold BUSY), and when it retires it meanwhile (`BUSY -> RETIRED`) we free it
            // ourselves after this call. MADV_POPULATE_WRITE faults pages in writable without
            // changing their contents (fresh pages read as zero either way, pages already
            // written keep their bytes), so no Rust-visible value changes and an appender
            // writing into the same unit at the same time is unaffected.
            let ok = unsafe { populate(start as *mut u8, UNIT) };
            #[cfg(test)]
            {
                self.test_hold();
                self.finished.fetch_add(1, Ordering::SeqCst);
            }
            self.done.store(unit + 1, Ordering::Relaxed);
            match ok {
                Populate::Done => {
                    POPULATED.fetch_add(1, Ordering::Relaxed);
                }
                Populate::Failed => {
                    FAILED.fetch_add(1, Ordering::Relaxed);
                }
                Populate::Refused => {
                    REFUSED.store(true, Ordering::Relaxed);
                }
            }
            if self
                .state
                .compare_exchange(BUSY, IDLE, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
            {
                // RETIRED: the owner handed the allocation over while we were busy.
                self.state.store(DEAD, Ordering::Release);
                if let Some(a) = self.retired.lock().take() {
                    #[cfg(test)]
                    self.freed_by_worker.store(true, Ordering::SeqCst);
                    // SAFETY: the owner gave up the allocation (its last user) and handed it
                    // over exactly once; our populate has returned.
                    unsafe { a.free() };
                }
                return;
            }
            if REFUSED.load(Ordering::Relaxed) {
                return;
            }
        }
    }

    /// Test hook: counts a populate in flight, then keeps the region busy for
    /// [`TEST_HOLD_US`], so tests can drop or reallocate a buffer meanwhile.
    #[cfg(test)]
    fn test_hold(&self) {
        self.started.fetch_add(1, Ordering::SeqCst);
        let us = TEST_HOLD_US.load(Ordering::Relaxed);
        if us > 0 {
            std::thread::sleep(std::time::Duration::from_micros(us));
        }
    }
}

/// The outcome of one populate call.
enum Populate {
    Done,
    /// A transient failure (out of memory, signal): the appender will fault these pages.
    Failed,
    /// The kernel does not know the advice: stop asking.
    Refused,
}

/// Faults `[ptr, ptr + len)` in writable.
///
/// # Safety
///
/// The range must lie inside a live allocation for the whole call.
#[cfg(target_os = "linux")]
unsafe fn populate(ptr: *mut u8, len: usize) -> Populate {
    // SAFETY: the caller guarantees the range is mapped; the advice does not change contents.
    let rc = unsafe { libc::madvise(ptr.cast(), len, libc::MADV_POPULATE_WRITE) };
    if rc == 0 {
        return Populate::Done;
    }
    match std::io::Error::last_os_error().raw_os_error() {
        Some(libc::EINVAL) => Populate::Refused,
        _ => Populate::Failed,
    }
}

#[cfg(not(target_os = "linux"))]
unsafe fn populate(_ptr: *mut u8, _len: usize) -> Populate {
    Populate::Refused
}

/// The worker's queue, starting the worker on first use (`None` if it could not start).
fn worker() -> Option<&'static SyncSender<Arc<Region>>> {
    static TX: OnceLock<Option<SyncSender<Arc<Region>>>> = OnceLock::new();
    TX.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::sync_channel(QUEUE);
        std::thread::Builder::new()
            .name("redex-prefault".into())
            .spawn(move || serve(rx))
            .ok()
            .map(|_| tx)
    })
    .as_ref()
}

fn serve(rx: Receiver<Arc<Region>>) {
    // Unit tests keep the default policy, so the populates they wait for run promptly even
    // on a saturated machine (or under valgrind, which serializes threads).
    #[cfg(all(target_os = "linux", not(test)))]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: `param` is a valid `sched_param` for the call; pid 0 is the calling thread
        // (Linux schedules threads individually). On failure the worker keeps the default
        // policy, which is only a matter of speed.
        unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) };
    }
    // The sender lives in a static, so this runs for the life of the process.
    while let Ok(region) = rx.recv() {
        region.run();
    }
}

/// Test hook: how long the worker keeps a region locked after each populate, in microseconds.
#[cfg(test)]
pub(crate) static TEST_HOLD_US: AtomicU64 = AtomicU64::new(0);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retiring_an_idle_region_hands_the_block_back_and_stops_populates() {
        let layout = Layout::from_size_align(2 * UNIT, UNIT).unwrap();
        // SAFETY: a non-zero size.
        let ptr = NonNull::new(unsafe { alloc::alloc(layout) }).expect("memory");
        let region = Region::new(ptr.as_ptr(), 2);
        let back = region
            .retire(Alloc { ptr, layout })
            .expect("idle: the caller frees");
        assert_eq!(back.ptr, ptr);
        // A request after retiring (never made by a buffer) runs nothing.
        region.want.store(2, Ordering::SeqCst);
        region.run();
        assert_eq!(region.started.load(Ordering::SeqCst), 0);
        assert_eq!(region.state.load(Ordering::SeqCst), DEAD);
        // SAFETY: allocated above with `layout`, handed back by `retire`, not used after.
        unsafe { back.free() };
    }
}
