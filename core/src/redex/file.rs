//! [`RedexFile`]: one append-only log (heap or disk), its append paths, reads and retention.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_utils::CachePadded;
use event_listener::{Event, Listener};
use parking_lot::Mutex;

use super::batch::RedexBatch;
use super::clock::coarse_now_ns;
use super::config::RedexFileConfig;
#[cfg(target_arch = "x86_64")]
use super::crc32c::Hw;
use super::crc32c::{Crc, Soft};
use super::disk::{self, DiskSegment, RecoveryReport};
use super::error::RedexError;
use super::ordered::{AfterAppend, OrderedAppender};
use super::record::{self, ENTRY_LEN, INLINE_LEN};
use super::segment::{MemSegment, Store};
use super::sync::{self, SyncCtl};
use super::tail::RedexTail;

/// Write buffers are flushed to the OS once they hold this many bytes.
const BUF_CAP: usize = 64 * 1024;

/// Wall-clock nanoseconds since the Unix epoch.
pub fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// One entry read back from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedexEvent {
    /// Sequence number.
    pub seq: u64,
    /// Wall-clock append time, nanoseconds since the Unix epoch, from the coarse clock
    /// ([`super::coarse_now_ns`]; resolution [`super::coarse_resolution_ns`]).
    pub ts_ns: u64,
    /// The payload bytes.
    pub payload: Vec<u8>,
}

/// Counters and bounds of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedexStats {
    /// The seq the next append gets.
    pub next_seq: u64,
    /// Oldest retained seq.
    pub first_seq: Option<u64>,
    /// Newest retained seq.
    pub last_seq: Option<u64>,
    /// Retained entries.
    pub retained_events: u64,
    /// Retained payload bytes.
    pub retained_bytes: u64,
    /// Segments (in memory; on disk one file triple each).
    pub segments: usize,
    /// Every seq below this is fsynced (disk files only).
    pub synced_next: u64,
    /// Sync rounds that ran an fsync.
    pub fsyncs: u64,
    /// Entries evicted by retention since open.
    pub evicted: u64,
    /// What recovery found when the file was opened.
    pub recovery: RecoveryReport,
}

/// Outcome of a retention sweep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Entries evicted.
    pub evicted: u64,
    /// Segments whose files were deleted.
    pub segments_deleted: u64,
}

struct DiskWriter {
    dir: PathBuf,
    dat: Vec<u8>,
    idx: Vec<u8>,
    ts: Vec<u8>,
    retiring: Vec<DiskSegment>,
    dir_dirty: bool,
    keep_retiring: bool,
}

impl DiskWriter {
    fn flush(&mut self, seg: &DiskSegment) -> Result<(), RedexError> {
        use std::io::Write as _;
        // Write order: payload, then index, then timestamps.
        for (buf, f) in [
            (&mut self.dat, &seg.dat),
            (&mut self.idx, &seg.idx),
            (&mut self.ts, &seg.ts),
        ] {
            if !buf.is_empty() {
                let r = (&**f).write_all(buf);
                buf.clear();
                r.map_err(|e| RedexError::Io(format!("write segment {}: {e}", seg.base_seq)))?;
            }
        }
        Ok(())
    }

    fn clear(&mut self) {
        self.dat.clear();
        self.idx.clear();
        self.ts.clear();
    }
}

pub(crate) struct State {
    pub store: Store,
    pub(super) next_seq: u64,
    low_seq: u64,
    closed: bool,
    poisoned: bool,
    disk: Option<DiskWriter>,
    unsynced_n: u64,
    unsynced_bytes: u64,
    evicted: u64,
}

/// Shared core of a file (also held by its sync worker and tails).
pub(crate) struct Core {
    name: String,
    config: RedexFileConfig,
    /// On cache lines of its own: tails poll `published` and `closed` while an appender
    /// holds this lock, and sharing a line would make every append wait for that line.
    pub(crate) state: CachePadded<Mutex<State>>,
    /// Notified after appends, but only while `waiters > 0` (see [`Core::after_append`]).
    pub(crate) appended: Event,
    /// Tails currently registered on `appended` (see `tail::Parked`). Incremented only while
    /// holding `state`; read by appenders under `state`.
    pub(crate) waiters: AtomicUsize,
    /// `next_seq`, published after every append.
    pub(crate) published: AtomicU64,
    pub(crate) closed: AtomicBool,
    sync: SyncCtl,
    recovery: RecoveryReport,
    /// The SSE4.2 checksum engine, when this CPU has it (detected once at open).
    #[cfg(target_arch = "x86_64")]
    crc_hw: Option<Hw>,
}

struct Inner {
    core: Arc<Core>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.core.sync.shutdown();
        if let Some(h) = self.worker.lock().take() {
            let _ = h.join();
        }
        let mut st = self.core.state.lock();
        let State { store, disk, .. } = &mut *st;
        if let (Some(w), Some(seg)) = (disk.as_mut(), store.active().disk.as_ref()) {
            let _ = w.flush(seg);
        }
    }
}

/// A handle to one RedEX file; clones address the same file.
///
/// Appends are serialized by one lock, so seqs are assigned in the order appends commit and
/// an entry is readable (and delivered to tails) as soon as its append returns.
#[derive(Clone)]
pub struct RedexFile {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RedexFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedexFile")
            .field("name", &self.inner.core.name)
            .finish_non_exhaustive()
    }
}

impl Core {
    pub(crate) fn sync_ctl(&self) -> &SyncCtl {
        &self.sync
    }

    fn check_open(&self, st: &State) -> Result<(), RedexError> {
        if st.closed {
            Err(RedexError::Closed)
        } else if st.poisoned {
            Err(RedexError::Poisoned)
        } else {
            Ok(())
        }
    }

    /// Appends `payloads` with contiguous seqs (all or nothing); returns the first seq and
    /// what to do after the lock is released.
    ///
    /// Dispatches once to a copy of the append path specialised for the checksum engine
    /// chosen at open, so the record loop has the engine's instructions inline.
    #[inline]
    pub(super) fn append_locked<P: AsRef<[u8]>>(
        &self,
        st: &mut State,
        payloads: &[P],
        now: u64,
    ) -> Result<(u64, AfterAppend), RedexError> {
        #[cfg(target_arch = "x86_64")]
        if let Some(hw) = self.crc_hw {
            // SAFETY: `crc_hw` is `Some` only when `Hw::detect` found SSE4.2 at open, the
            // one feature the function enables.
            return unsafe { self.append_locked_sse42(hw, st, payloads, now) };
        }
        self.append_locked_with(Soft, st, payloads, now)
    }

    /// [`Self::append_locked_with`] compiled with SSE4.2 (the `crc32` instruction inline).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "sse4.2")]
    fn append_locked_sse42<P: AsRef<[u8]>>(
        &self,
        hw: Hw,
        st: &mut State,
        payloads: &[P],
        now: u64,
    ) -> Result<(u64, AfterAppend), RedexError> {
        self.append_locked_with(hw, st, payloads, now)
    }

    #[inline(always)]
    fn append_locked_with<C: Crc, P: AsRef<[u8]>>(
        &self,
        engine: C,
        st: &mut State,
        payloads: &[P],
        now: u64,
    ) -> Result<(u64, AfterAppend), RedexError> {
        self.check_open(st)?;
        let max = u64::from(self.config.max_payload_bytes);
        let mut heap_bytes = 0u64;
        let mut bytes = 0u64;
        for p in payloads {
            let len = p.as_ref().len() as u64;
            if len > max {
                return Err(RedexError::PayloadTooLarge { size: len, max });
            }
            bytes += len;
            if len != INLINE_LEN as u64 {
                heap_bytes += len;
            }
        }
        if heap_bytes > u64::from(u32::MAX) {
            return Err(RedexError::PayloadTooLarge {
                size: heap_bytes,
                max: u64::from(u32::MAX),
            });
        }
        let n = payloads.len();
        {
            let a = st.store.active();
            let full = a.recs.len() + n > self.config.segment_max_entries as usize
                || a.data.len() as u64 + heap_bytes > u64::from(self.config.segment_max_bytes)
                || a.data.len() as u64 + heap_bytes > u64::from(u32::MAX);
            if full && !a.recs.is_empty() {
                self.roll(st)?;
                self.sweep_locked(st, now)?;
            }
        }
        let first = st.next_seq;
        let State {
            store,
            disk,
            poisoned,
            ..
        } = st;
        let seg = store.active();
        let (recs0, data0) = (seg.recs.len(), seg.data.len());
        let max_entries = self.config.segment_max_entries as usize;
        seg.data
            .reserve(heap_bytes as usize, self.config.segment_max_bytes as usize);
        seg.recs.reserve(n, max_entries);
        // Payload bytes and records in one pass, written straight into the reserved room
        // (no length update or capacity check per entry).
        let heap_len = heap_bytes as usize;
        let at = record::write_batch_with(
            engine,
            first,
            data0,
            payloads,
            seg.recs.spare(n),
            seg.data.spare(heap_len),
        );
        debug_assert_eq!(at, heap_len);
        // SAFETY: `write_batch_with` initialized all `n` spare record slots (one per payload) and
        // the first `at` spare data slots, as it promises.
        unsafe {
            seg.recs.commit(n);
            seg.data.commit(at);
        }
        seg.seqs.extend(recs0, first, n);
        // One run per change of stamp: nothing per entry (see `TsRuns`).
        seg.ts.push_n(now, n);
        debug_assert_eq!(seg.ts.len(), seg.recs.len());
        if let Some(w) = disk.as_mut() {
            // The batch's payload bytes are contiguous in the segment: one copy.
            w.dat.extend_from_slice(&seg.data[data0..]);
            w.idx.reserve(n * ENTRY_LEN);
            for (k, r) in seg.recs[recs0..].iter().enumerate() {
                w.idx
                    .extend_from_slice(&r.with_seq(first + k as u64).encode());
            }
            w.ts.reserve(n * 8);
            for _ in 0..n {
                w.ts.extend_from_slice(&now.to_le_bytes());
            }
            if w.dat.len() + w.idx.len() + w.ts.len() >= BUF_CAP {
                let d = seg.disk.as_ref().expect("disk file has disk segments");
                if let Err(e) = w.flush(d) {
                    // Nothing of this call is committed: roll the segment back.
                    *poisoned = true;
                    w.clear();
                    seg.recs.truncate(recs0);
                    seg.seqs.truncate(recs0);
                    seg.ts.truncate(recs0);
                    seg.data.truncate(data0);
                    return Err(e);
                }
            }
        }
        seg.bytes += bytes;
        store.count += n as u64;
        store.bytes += bytes;
        st.next_seq += n as u64;
        self.published.store(st.next_seq, Ordering::Release);
        let sync = if st.disk.is_some() {
            st.unsynced_n += n as u64;
            st.unsynced_bytes += bytes + (n * (ENTRY_LEN + 8)) as u64;
            match self.config.fsync {
                super::FsyncPolicy::EveryN(k) => st.unsynced_n >= k,
                super::FsyncPolicy::IntervalOrBytes { max_bytes, .. } => {
                    max_bytes > 0 && st.unsynced_bytes >= max_bytes
                }
                _ => false,
            }
        } else {
            false
        };
        // Read under the lock: see `after_append`.
        let wake = self.waiters.load(Ordering::Relaxed) > 0;
        Ok((first, AfterAppend { sync, wake }))
    }

    /// Requests a sync if a policy threshold was crossed and wakes parked tails, if any.
    ///
    /// Waking costs a lock inside the notifier, so it is skipped when no tail was parked when
    /// the append committed. This cannot lose a wake-up: a tail registers its listener, then
    /// increments `waiters` while holding the file lock, then re-reads `published`; an append
    /// reads `waiters` while holding the same lock, after advancing `next_seq`. Whichever
    /// critical section comes first, either the tail sees the new seq or the append sees the
    /// tail counted (its listener registered before) and notifies.
    #[inline]
    pub(super) fn after_append(&self, after: AfterAppend) {
        if after.sync {
            self.sync.request();
        }
        if after.wake {
            self.appended.notify(usize::MAX);
        }
    }

    /// Starts a new active segment at `next_seq`.
    fn roll(&self, st: &mut State) -> Result<(), RedexError> {
        let base = st.next_seq;
        let disk_seg = match st.disk.as_mut() {
            Some(w) => {
                let old = st.store.active().disk.as_ref().expect("disk segment");
                if let Err(e) = w.flush(old) {
                    st.poisoned = true;
                    return Err(e);
                }
                let new = DiskSegment::create(&w.dir, base)?;
                if w.keep_retiring {
                    w.retiring.push(old.clone());
                }
                w.dir_dirty = true;
                Some(new)
            }
            None => None,
        };
        let spare = st.store.spare.take();
        let seg = MemSegment::following(
            st.store.active(),
            base,
            disk_seg,
            spare,
            self.config.segment_max_entries as usize,
            self.config.segment_max_bytes as usize,
        );
        st.store.segs.push_back(seg);
        Ok(())
    }

    fn sweep_locked(&self, st: &mut State, now: u64) -> Result<SweepReport, RedexError> {
        let r = self.config.retention;
        let min_ts = r.max_age.map(|a| now.saturating_sub(a.as_nanos() as u64));
        let n = st.store.eviction_count(r.max_events, r.max_bytes, min_ts);
        if n == 0 {
            return Ok(SweepReport::default());
        }
        if n >= st.store.count && !st.store.active().recs.is_empty() && !st.closed {
            self.roll(st)?;
        }
        let mut removed = Vec::new();
        if let Some(past) = st.store.evict(n, &mut removed) {
            st.low_seq = st.low_seq.max(past);
        }
        st.evicted += n;
        let mut report = SweepReport {
            evicted: n,
            segments_deleted: 0,
        };
        if let Some(w) = st.disk.as_mut() {
            for seg in &removed {
                if let Some(d) = &seg.disk {
                    w.retiring.retain(|r| r.base_seq != d.base_seq);
                    d.delete()?;
                    report.segments_deleted += 1;
                    w.dir_dirty = true;
                }
            }
        }
        // Keep the largest evicted segment's buffers for the next roll (at most one).
        if st.store.spare.is_none()
            && let Some(seg) = removed.into_iter().max_by_key(|s| s.data.capacity())
        {
            st.store.spare = Some(seg.into_spare());
        }
        Ok(report)
    }

    /// Flushes buffers and fsyncs everything written so far (one group-commit round).
    pub(crate) fn sync_round(&self) -> Result<(), RedexError> {
        let _round = self.sync.round.lock();
        let (target, segs, dir) = {
            let mut st = self.state.lock();
            let target = st.next_seq;
            let State {
                store,
                disk,
                poisoned,
                unsynced_n,
                unsynced_bytes,
                ..
            } = &mut *st;
            let Some(w) = disk.as_mut() else {
                return Ok(());
            };
            if *poisoned {
                return Err(RedexError::Poisoned);
            }
            let active = store.active().disk.clone().expect("disk segment");
            if let Err(e) = w.flush(&active) {
                *poisoned = true;
                return Err(e);
            }
            *unsynced_n = 0;
            *unsynced_bytes = 0;
            let mut segs = std::mem::take(&mut w.retiring);
            if target == self.sync.synced_next.load(Ordering::Acquire) && segs.is_empty() {
                return Ok(());
            }
            segs.push(active);
            let dir = std::mem::take(&mut w.dir_dirty).then(|| w.dir.clone());
            (target, segs, dir)
        };
        for s in &segs {
            s.sync()?;
        }
        if let Some(d) = dir {
            disk::sync_dir(&d)?;
        }
        self.sync.synced_next.fetch_max(target, Ordering::AcqRel);
        self.sync.fsyncs.fetch_add(1, Ordering::Relaxed);
        self.sync.synced.notify(usize::MAX);
        Ok(())
    }

    /// Copies up to `max` entries with `seq >= from` into `out`. Returns the number read, the
    /// lag (entries evicted at or after `from`) and whether the file is closed.
    pub(crate) fn read_from(
        &self,
        from: u64,
        max: usize,
        out: &mut std::collections::VecDeque<RedexEvent>,
    ) -> (usize, Option<u64>, bool) {
        let st = self.state.lock();
        if from < st.low_seq {
            return (0, Some(st.low_seq - from), st.closed);
        }
        let n = st.store.visit(from, u64::MAX, max, |seq, ts_ns, p| {
            out.push_back(RedexEvent {
                seq,
                ts_ns,
                payload: p.to_vec(),
            })
        });
        (n, None, st.closed)
    }

    /// Like [`Self::read_from`], copying into a [`RedexBatch`] (no allocation per entry).
    pub(crate) fn read_into(
        &self,
        from: u64,
        max: usize,
        out: &mut RedexBatch,
    ) -> (usize, Option<u64>, bool) {
        let st = self.state.lock();
        if from < st.low_seq {
            return (0, Some(st.low_seq - from), st.closed);
        }
        let n = st
            .store
            .visit(from, u64::MAX, max, |seq, ts_ns, p| out.push(seq, ts_ns, p));
        (n, None, st.closed)
    }

    /// The lowest seq a new tail may start from.
    pub(crate) fn low_seq(&self) -> u64 {
        self.state.lock().low_seq
    }
}

impl RedexFile {
    /// Opens a file: on the heap when `dir` is `None`, else in `dir` (created if missing,
    /// recovered if present).
    pub fn open(
        name: &str,
        dir: Option<&Path>,
        config: RedexFileConfig,
    ) -> Result<RedexFile, RedexError> {
        config.validate()?;
        let now = coarse_now_ns();
        let mut recovery = RecoveryReport::default();
        let (store, disk) = match dir {
            None => (Store::new(MemSegment::new(0, None)), None),
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| RedexError::io("mkdir", dir, e))?;
                let bases = disk::list_segments(dir)?;
                let mut segs = Vec::new();
                for b in bases {
                    segs.push(DiskSegment::load(dir, b, now, &mut recovery)?);
                }
                if segs.is_empty() {
                    segs.push(MemSegment::new(0, Some(DiskSegment::create(dir, 0)?)));
                }
                let mut it = segs.into_iter();
                let mut store = Store::new(it.next().expect("one segment"));
                store.segs.extend(it);
                let writer = DiskWriter {
                    dir: dir.to_path_buf(),
                    dat: Vec::with_capacity(BUF_CAP),
                    idx: Vec::with_capacity(BUF_CAP / 2),
                    ts: Vec::with_capacity(BUF_CAP / 4),
                    retiring: Vec::new(),
                    dir_dirty: true,
                    keep_retiring: config.fsync.needs_worker(),
                };
                (store, Some(writer))
            }
        };
        let mut store = store;
        store.recount();
        let last = store.segs.back().expect("active");
        let mut next_seq = last.last_seq().map_or(last.base_seq, |s| s + 1);
        next_seq = next_seq.max(store.last_seq().map_or(0, |s| s + 1));
        let low_seq = store.first().map_or(next_seq, |(s, _)| s);
        let persistent = disk.is_some();
        let core = Arc::new(Core {
            name: name.to_string(),
            config: config.clone(),
            state: CachePadded::new(Mutex::new(State {
                store,
                next_seq,
                low_seq,
                closed: false,
                poisoned: false,
                disk,
                unsynced_n: 0,
                unsynced_bytes: 0,
                evicted: 0,
            })),
            appended: Event::new(),
            waiters: AtomicUsize::new(0),
            published: AtomicU64::new(next_seq),
            closed: AtomicBool::new(false),
            sync: SyncCtl::new(if persistent { next_seq } else { 0 }),
            recovery,
            #[cfg(target_arch = "x86_64")]
            crc_hw: Hw::detect(),
        });
        {
            let mut st = core.state.lock();
            core.sweep_locked(&mut st, now)?;
        }
        let worker = if persistent && config.fsync.needs_worker() {
            Some(sync::spawn_worker(core.clone(), config.fsync)?)
        } else {
            None
        };
        Ok(RedexFile {
            inner: Arc::new(Inner {
                core,
                worker: Mutex::new(worker),
            }),
        })
    }

    fn core(&self) -> &Core {
        &self.inner.core
    }

    /// The channel name this file was opened under.
    pub fn name(&self) -> &str {
        &self.core().name
    }

    /// The file's configuration.
    pub fn config(&self) -> &RedexFileConfig {
        &self.core().config
    }

    /// Appends one payload and returns its seq. A payload of exactly 8 bytes is stored inline
    /// in its index record.
    pub fn append(&self, payload: &[u8]) -> Result<u64, RedexError> {
        let core = self.core();
        let now = coarse_now_ns();
        let (seq, s) = {
            let mut st = core.state.lock();
            core.append_locked(&mut st, &[payload], now)?
        };
        core.after_append(s);
        Ok(seq)
    }

    /// Appends an 8-byte payload inline (no payload-segment bytes).
    pub fn append_inline(&self, payload: [u8; INLINE_LEN]) -> Result<u64, RedexError> {
        self.append(&payload)
    }

    /// Appends a batch under one lock with a contiguous seq range; all or nothing. Returns
    /// the first seq, or `None` for an empty batch.
    pub fn append_batch<P: AsRef<[u8]>>(&self, payloads: &[P]) -> Result<Option<u64>, RedexError> {
        if payloads.is_empty() {
            return Ok(None);
        }
        let core = self.core();
        let now = coarse_now_ns();
        let (seq, s) = {
            let mut st = core.state.lock();
            core.append_locked(&mut st, payloads, now)?
        };
        core.after_append(s);
        Ok(Some(seq))
    }

    /// Takes the append lock for a run of appends no other writer can interleave with.
    pub fn ordered(&self) -> OrderedAppender<'_> {
        OrderedAppender {
            core: self.core(),
            st: self.core().state.lock(),
            after: AfterAppend::default(),
        }
    }

    /// Retained entries with `start <= seq < end`, in seq order.
    pub fn read_range(&self, start: u64, end: u64) -> Vec<RedexEvent> {
        let st = self.core().state.lock();
        let mut out = Vec::new();
        st.store.visit(start, end, usize::MAX, |seq, ts_ns, p| {
            out.push(RedexEvent {
                seq,
                ts_ns,
                payload: p.to_vec(),
            })
        });
        out
    }

    /// Visits up to `max` retained entries with `seq >= from` under the file lock, without
    /// copying; `f` gets `(seq, ts_ns, payload)`. Returns the number visited.
    pub fn visit_from(&self, from: u64, max: usize, f: impl FnMut(u64, u64, &[u8])) -> usize {
        self.core().state.lock().store.visit(from, u64::MAX, max, f)
    }

    /// A stream of every retained entry with `seq >= from_seq`, then every new one, with no
    /// gap or duplicate between backfill and live. See [`RedexTail`].
    pub fn tail(&self, from_seq: u64) -> RedexTail {
        let low = self.core().low_seq();
        RedexTail::new(self.inner.core.clone(), from_seq.max(low))
    }

    /// The seq the next append gets.
    pub fn next_seq(&self) -> u64 {
        self.core().published.load(Ordering::Acquire)
    }

    /// Retained entry count.
    pub fn len(&self) -> u64 {
        self.core().state.lock().store.count
    }

    /// Whether no entry is retained.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Evicts entries that violate the retention limits; deletes emptied segment files.
    pub fn sweep_retention(&self) -> Result<SweepReport, RedexError> {
        let mut st = self.core().state.lock();
        self.core().sweep_locked(&mut st, coarse_now_ns())
    }

    /// Writes buffered bytes to the OS and fsyncs them (no-op on the heap).
    pub fn sync(&self) -> Result<(), RedexError> {
        self.core().sync_round()
    }

    /// Blocks until every seq `<= seq` is fsynced, or `timeout` passes. Under `Never` this runs
    /// a sync itself. Heap files return at once.
    pub fn wait_synced(&self, seq: u64, timeout: Duration) -> Result<(), RedexError> {
        let core = self.core();
        if core.state.lock().disk.is_none() {
            return Ok(());
        }
        if !core.config.fsync.needs_worker() {
            return self.sync();
        }
        let deadline = Instant::now() + timeout;
        loop {
            if core.sync.synced_next.load(Ordering::Acquire) > seq {
                return Ok(());
            }
            let l = core.sync.synced.listen();
            if core.sync.synced_next.load(Ordering::Acquire) > seq {
                return Ok(());
            }
            if let Some(e) = core.sync.last_error.lock().clone() {
                return Err(e);
            }
            core.sync.request();
            if l.wait_deadline(deadline).is_none() && Instant::now() >= deadline {
                return Err(RedexError::Timeout);
            }
        }
    }

    /// Every seq below this is fsynced (0 for heap files or before the first sync).
    pub fn synced_next(&self) -> u64 {
        self.core().sync.synced_next.load(Ordering::Acquire)
    }

    /// Counters and bounds.
    pub fn stats(&self) -> RedexStats {
        let core = self.core();
        let st = core.state.lock();
        RedexStats {
            next_seq: st.next_seq,
            first_seq: st.store.first().map(|(s, _)| s),
            last_seq: st.store.last_seq(),
            retained_events: st.store.count,
            retained_bytes: st.store.bytes,
            segments: st.store.segs.len(),
            synced_next: core.sync.synced_next.load(Ordering::Acquire),
            fsyncs: core.sync.fsyncs.load(Ordering::Relaxed),
            evicted: st.evicted,
            recovery: core.recovery,
        }
    }

    /// Syncs (disk), refuses further appends and ends every tail with
    /// [`RedexError::Closed`]. Reads keep working. Idempotent.
    pub fn close(&self) -> Result<(), RedexError> {
        let core = self.core();
        let r = core.sync_round();
        core.sync.shutdown();
        if let Some(h) = self.inner.worker.lock().take() {
            let _ = h.join();
        }
        core.state.lock().closed = true;
        core.closed.store(true, Ordering::Release);
        core.appended.notify(usize::MAX);
        r
    }

    /// Whether [`Self::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.core().closed.load(Ordering::Acquire)
    }
}
