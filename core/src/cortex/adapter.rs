//! [`CortexAdapter`]: a fold task driving a user [`Fold`] over a RedEX tail into shared state.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;
use event_listener::{Event, Listener};
use parking_lot::{Mutex, RwLock};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::meta::{EventMeta, MetaError};
use crate::redex::{RedexBatch, RedexError, RedexFile};

/// Frame buffers larger than this are not kept for reuse between appends.
const FRAME_KEEP: usize = 64 * 1024;

thread_local! {
    /// Reused per thread to build `EventMeta ++ payload` frames without an allocation.
    static FRAME: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A postcard output that appends to a borrowed `Vec` in place. (`postcard::to_extend` takes
/// and returns the `Vec` by value, and moving it in and out of the `Result` cost several
/// misaligned stack copies per append.)
struct AppendTo<'a>(&'a mut Vec<u8>);

impl postcard::ser_flavors::Flavor for AppendTo<'_> {
    type Output = ();

    #[inline]
    fn try_push(&mut self, b: u8) -> postcard::Result<()> {
        self.0.push(b);
        Ok(())
    }

    #[inline]
    fn try_extend(&mut self, b: &[u8]) -> postcard::Result<()> {
        self.0.extend_from_slice(b);
        Ok(())
    }

    #[inline]
    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

/// One decoded event handed to a fold.
#[derive(Debug, Clone, Copy)]
pub struct CortexEvent<'a> {
    /// RedEX seq of the entry.
    pub seq: u64,
    /// Append time, unix nanos.
    pub ts_ns: u64,
    /// The decoded prefix.
    pub meta: EventMeta,
    /// The payload after the prefix.
    pub payload: &'a [u8],
}

/// A fold's refusal of an event (plain message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoldError(pub String);

/// A user fold: applies events, in seq order, to the state.
pub trait Fold<S>: Send + 'static {
    /// Applies one event.
    fn apply(&mut self, state: &mut S, event: &CortexEvent<'_>) -> Result<(), FoldError>;
}

impl<S, F> Fold<S> for F
where
    F: FnMut(&mut S, &CortexEvent<'_>) -> Result<(), FoldError> + Send + 'static,
{
    fn apply(&mut self, state: &mut S, event: &CortexEvent<'_>) -> Result<(), FoldError> {
        self(state, event)
    }
}

/// Where the fold starts reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StartPosition {
    /// Replay the whole retained history.
    #[default]
    FromBeginning,
    /// Only events appended after the adapter opened.
    LiveOnly,
    /// From this seq (e.g. just after a snapshot).
    FromSeq(u64),
}

/// What the fold task does when the fold (or a prefix check) fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FoldErrorPolicy {
    /// Halt; the failing seq is recorded and not counted as folded.
    #[default]
    Stop,
    /// Count the error and keep going.
    LogAndContinue,
}

/// Errors of the CortEX adapter. Converts into [`crate::Error`] (`adapter`, `timeout`,
/// `shutting_down`, `invalid_argument` kinds).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CortexError {
    /// The underlying RedEX call failed.
    Redex(RedexError),
    /// The fold task halted at this seq.
    FoldStopped {
        /// The seq it stopped at.
        seq: u64,
        /// The fold's message.
        message: String,
    },
    /// The adapter was closed.
    Closed,
    /// A wait ended first.
    Timeout,
    /// A snapshot could not be encoded or decoded.
    Snapshot(String),
}

impl std::fmt::Display for CortexError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CortexError::Redex(e) => write!(f, "cortex: {e}"),
            CortexError::FoldStopped { seq, message } => {
                write!(f, "cortex: fold stopped at seq {seq}: {message}")
            }
            CortexError::Closed => f.write_str("cortex: adapter closed"),
            CortexError::Timeout => f.write_str("cortex: timed out"),
            CortexError::Snapshot(m) => write!(f, "cortex: snapshot: {m}"),
        }
    }
}

impl std::error::Error for CortexError {}

impl From<RedexError> for CortexError {
    fn from(e: RedexError) -> Self {
        CortexError::Redex(e)
    }
}

impl From<CortexError> for crate::Error {
    fn from(e: CortexError) -> crate::Error {
        match e {
            CortexError::Redex(r) => r.into(),
            CortexError::Closed => crate::Error::ShuttingDown,
            CortexError::Timeout => crate::Error::Timeout(e.to_string()),
            CortexError::Snapshot(_) => crate::Error::InvalidArgument(e.to_string()),
            CortexError::FoldStopped { .. } => crate::Error::Adapter(e.to_string()),
        }
    }
}

/// Options of an adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CortexConfig {
    /// Where the fold starts.
    pub start: StartPosition,
    /// What a fold error does.
    pub on_error: FoldErrorPolicy,
    /// This producer's origin hash, written into every prefix.
    pub origin_hash: u32,
}

pub(crate) struct Shared<S> {
    pub file: RedexFile,
    /// Cache lines of their own for the state lock and the watermark (both written by the
    /// fold task) apart from what appenders touch (`stop`, `origin_seq`).
    pub state: CachePadded<RwLock<S>>,
    /// Every seq below this has been folded (or skipped by policy).
    pub folded_next: CachePadded<AtomicU64>,
    pub progress: Event,
    /// Threads inside [`CortexAdapter::wait_for_seq`]; while non-zero the fold does not pace.
    waiting: AtomicU64,
    /// Wakes a pacing fold task early (a waiter arrived, or the adapter is closing).
    hurry: Event,
    pub running: AtomicBool,
    pub stop: AtomicBool,
    pub stopped: Mutex<Option<(u64, String)>>,
    pub errors: AtomicU64,
    origin_hash: u32,
    origin_seq: AtomicU64,
}

/// A fold over one RedEX file into shared state `S`. See the module docs of
/// [`crate::cortex`].
pub struct CortexAdapter<S> {
    shared: Arc<Shared<S>>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl<S> std::fmt::Debug for CortexAdapter<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CortexAdapter")
            .field("file", &self.shared.file)
            .finish_non_exhaustive()
    }
}

impl<S: Send + Sync + 'static> CortexAdapter<S> {
    /// Opens an adapter over `file` with initial `state`, spawning the fold task.
    pub fn open(
        file: RedexFile,
        state: S,
        fold: impl Fold<S>,
        config: CortexConfig,
    ) -> Result<Self, CortexError> {
        let from = match config.start {
            StartPosition::FromBeginning => 0,
            StartPosition::LiveOnly => file.next_seq(),
            StartPosition::FromSeq(s) => s,
        };
        let shared = Arc::new(Shared {
            file,
            state: CachePadded::new(RwLock::new(state)),
            folded_next: CachePadded::new(AtomicU64::new(from)),
            progress: Event::new(),
            waiting: AtomicU64::new(0),
            hurry: Event::new(),
            running: AtomicBool::new(true),
            stop: AtomicBool::new(false),
            stopped: Mutex::new(None),
            errors: AtomicU64::new(0),
            origin_hash: config.origin_hash,
            origin_seq: AtomicU64::new(0),
        });
        let s2 = shared.clone();
        let policy = config.on_error;
        let task = std::thread::Builder::new()
            .name("cortex-fold".into())
            .spawn(move || fold_task(&s2, fold, from, policy))
            .map_err(|e| CortexError::Redex(RedexError::Io(format!("spawn fold task: {e}"))))?;
        Ok(CortexAdapter {
            shared,
            task: Mutex::new(Some(task)),
        })
    }

    /// The underlying file.
    pub fn file(&self) -> &RedexFile {
        &self.shared.file
    }

    /// The shared state (take a read lock to query).
    pub fn state(&self) -> &RwLock<S> {
        &self.shared.state
    }

    /// Appends `payload` under a prefix with `dispatch` and `flags`; returns the seq.
    pub fn append(&self, dispatch: u8, flags: u8, payload: &[u8]) -> Result<u64, CortexError> {
        self.append_with(dispatch, flags, |buf| {
            buf.extend_from_slice(payload);
            Ok(())
        })
    }

    /// Appends `value` postcard-encoded under a prefix with `dispatch` and `flags`; returns
    /// the seq. Same bytes as `append(dispatch, flags, &postcard::to_allocvec(value)?)`,
    /// without the intermediate allocations. An encoding failure is
    /// [`CortexError::Snapshot`] and appends nothing.
    pub fn append_encoded<T: Serialize + ?Sized>(
        &self,
        dispatch: u8,
        flags: u8,
        value: &T,
    ) -> Result<u64, CortexError> {
        self.append_with(dispatch, flags, |buf| {
            postcard::serialize_with_flavor(value, AppendTo(buf))
                .map_err(|e| CortexError::Snapshot(e.to_string()))
        })
    }

    /// Builds `prefix ++ payload` in this thread's frame buffer (`fill` appends the payload
    /// after a placeholder prefix), fills in the prefix and appends the frame.
    fn append_with(
        &self,
        dispatch: u8,
        flags: u8,
        fill: impl FnOnce(&mut Vec<u8>) -> Result<(), CortexError>,
    ) -> Result<u64, CortexError> {
        if self.shared.stop.load(Ordering::Acquire) {
            return Err(CortexError::Closed);
        }
        FRAME.with(|cell| {
            // A re-entrant call (impossible today) would get its own buffer, not a panic.
            let mut own = Vec::new();
            let mut guard = cell.try_borrow_mut().ok();
            let buf: &mut Vec<u8> = guard.as_deref_mut().unwrap_or(&mut own);
            buf.clear();
            buf.resize(super::META_LEN, 0);
            let r = fill(buf).and_then(|()| {
                let n = self.shared.origin_seq.fetch_add(1, Ordering::Relaxed);
                let (prefix, tail) = buf.split_at_mut(super::META_LEN);
                let meta = EventMeta::new(dispatch, flags, self.shared.origin_hash, n, tail);
                prefix.copy_from_slice(&meta.encode());
                Ok(self.shared.file.append(buf)?)
            });
            if buf.capacity() > FRAME_KEEP {
                *buf = Vec::new();
            }
            r
        })
    }

    /// Every seq below this has been folded.
    pub fn folded_next(&self) -> u64 {
        self.shared.folded_next.load(Ordering::Acquire)
    }

    /// Whether the fold task is running.
    pub fn is_running(&self) -> bool {
        self.shared.running.load(Ordering::Acquire)
    }

    /// Fold errors counted under `LogAndContinue`.
    pub fn error_count(&self) -> u64 {
        self.shared.errors.load(Ordering::Relaxed)
    }

    /// Blocks until `seq` is folded into the state (read-your-writes), the fold stops, or
    /// `timeout` passes.
    pub fn wait_for_seq(&self, seq: u64, timeout: Duration) -> Result<(), CortexError> {
        let sh = &self.shared;
        if sh.folded_next.load(Ordering::Acquire) > seq {
            return Ok(());
        }
        let deadline = Instant::now() + timeout;
        let _hurry = Hurry::new(sh);
        loop {
            if sh.folded_next.load(Ordering::Acquire) > seq {
                return Ok(());
            }
            let l = sh.progress.listen();
            if sh.folded_next.load(Ordering::Acquire) > seq {
                return Ok(());
            }
            if !sh.running.load(Ordering::Acquire) {
                return Err(match sh.stopped.lock().clone() {
                    Some((seq, message)) => CortexError::FoldStopped { seq, message },
                    None => CortexError::Closed,
                });
            }
            if l.wait_deadline(deadline).is_none() && Instant::now() >= deadline {
                return Err(CortexError::Timeout);
            }
        }
    }

    /// A stream of folded watermarks ([`super::Changes`]); coalesces when the reader is slow.
    pub fn changes(&self) -> super::Changes<S> {
        super::Changes::new(self.shared.clone())
    }

    pub(crate) fn shared_state(&self) -> Arc<Shared<S>> {
        self.shared.clone()
    }

    /// Stops the fold task (the file stays open). Idempotent.
    pub fn close(&self) {
        self.shared.stop.store(true, Ordering::Release);
        self.shared.hurry.notify(usize::MAX);
        if let Some(t) = self.task.lock().take() {
            let _ = t.join();
        }
        self.shared.running.store(false, Ordering::Release);
        self.shared.progress.notify(usize::MAX);
    }
}

impl<S: Serialize + DeserializeOwned + Send + Sync + 'static> CortexAdapter<S> {
    /// Encodes the state with postcard together with the last folded seq (`None` if nothing
    /// was folded); both are read under one lock so they are consistent.
    pub fn snapshot(&self) -> Result<(Vec<u8>, Option<u64>), CortexError> {
        let st = self.shared.state.read();
        let next = self.shared.folded_next.load(Ordering::Acquire);
        let bytes =
            postcard::to_allocvec(&*st).map_err(|e| CortexError::Snapshot(e.to_string()))?;
        Ok((bytes, next.checked_sub(1)))
    }

    /// Restores the state from a snapshot and resumes folding after `last_seq`.
    pub fn open_from_snapshot(
        file: RedexFile,
        bytes: &[u8],
        last_seq: Option<u64>,
        fold: impl Fold<S>,
        mut config: CortexConfig,
    ) -> Result<Self, CortexError> {
        let state: S =
            postcard::from_bytes(bytes).map_err(|e| CortexError::Snapshot(e.to_string()))?;
        config.start = match last_seq {
            None => StartPosition::FromBeginning,
            Some(u64::MAX) => {
                return Err(CortexError::Snapshot(
                    "last_seq u64::MAX cannot resume".into(),
                ));
            }
            Some(s) => StartPosition::FromSeq(s + 1),
        };
        Self::open(file, state, fold, config)
    }
}

impl<S> Drop for CortexAdapter<S> {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        self.shared.hurry.notify(usize::MAX);
        if let Some(t) = self.task.lock().take() {
            let _ = t.join();
        }
    }
}

/// A batch smaller than this means the fold has caught up with the appenders.
const PACE_BELOW: usize = 64;
/// How long a caught-up fold lets entries accumulate before reading again.
const PACE: Duration = Duration::from_micros(50);

/// Counts a thread in `Shared::waiting` for its lifetime, and wakes a pacing fold.
struct Hurry<'a> {
    waiting: &'a AtomicU64,
}

impl<'a> Hurry<'a> {
    fn new<S>(sh: &'a Shared<S>) -> Hurry<'a> {
        sh.waiting.fetch_add(1, Ordering::SeqCst);
        sh.hurry.notify(usize::MAX);
        Hurry {
            waiting: &sh.waiting,
        }
    }
}

impl Drop for Hurry<'_> {
    fn drop(&mut self) {
        self.waiting.fetch_sub(1, Ordering::Release);
    }
}

/// After a small batch while more entries are already pending, waits up to [`PACE`] so the
/// next read takes a larger one, unless a thread is waiting in `wait_for_seq` or the adapter
/// is stopping (both end the wait at once).
///
/// A fold that re-reads the moment one entry lands keeps pulling the cache lines the appender
/// is writing (the file lock, the newest records and payloads) and costs every append a
/// cross-core transfer; pacing lets a caught-up fold read the stream in batches instead.
/// Only folds that have caught up wait, so a backlog is folded at full speed, and an isolated
/// event is folded as soon as it is appended (the wait happens after a batch, not before).
fn pace<S>(sh: &Shared<S>) {
    let l = sh.hurry.listen();
    if sh.waiting.load(Ordering::SeqCst) == 0 && !sh.stop.load(Ordering::Acquire) {
        let _ = l.wait_timeout(PACE);
    }
}

fn fold_task<S, F: Fold<S>>(sh: &Shared<S>, mut fold: F, from: u64, policy: FoldErrorPolicy) {
    let mut tail = sh.file.tail(from);
    let mut batch = RedexBatch::new();
    'run: while !sh.stop.load(Ordering::Acquire) {
        batch.clear();
        match tail.recv_into(256, Duration::from_millis(20), &mut batch) {
            Ok(0) => {
                if tail.is_done() {
                    break;
                }
                continue;
            }
            Ok(_) => {}
            Err(RedexError::Lagged { skipped }) => {
                sh.errors.fetch_add(skipped, Ordering::Relaxed);
                continue;
            }
            Err(_) => break,
        }
        let mut st = sh.state.write();
        for (seq, ts_ns, bytes) in batch.iter() {
            let r = match EventMeta::decode(bytes) {
                Ok((meta, payload)) => fold.apply(
                    &mut st,
                    &CortexEvent {
                        seq,
                        ts_ns,
                        meta,
                        payload,
                    },
                ),
                Err(MetaError::Short) => Err(FoldError("payload shorter than EventMeta".into())),
                Err(MetaError::Checksum) => Err(FoldError("EventMeta checksum mismatch".into())),
            };
            if let Err(FoldError(m)) = r {
                match policy {
                    FoldErrorPolicy::Stop => {
                        *sh.stopped.lock() = Some((seq, m));
                        drop(st);
                        break 'run;
                    }
                    FoldErrorPolicy::LogAndContinue => {
                        sh.errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            sh.folded_next.store(seq + 1, Ordering::Release);
        }
        drop(st);
        sh.progress.notify(usize::MAX);
        // Pace only while chasing a busy appender (more entries landed while this batch
        // was folded); a fold whose writer is waiting for it goes straight back to the tail.
        if batch.len() < PACE_BELOW && sh.file.next_seq() > tail.position() {
            pace(sh);
        }
    }
    sh.running.store(false, Ordering::Release);
    sh.progress.notify(usize::MAX);
}
