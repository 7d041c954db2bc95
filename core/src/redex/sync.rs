//! The per-file background fsync worker and group commit.
//!
//! Appenders never fsync. When a policy threshold is crossed they set one `requested` flag
//! (a single atomic swap; only the first request after a sync takes the worker's mutex). The
//! worker flushes the write buffers under the file lock (write syscalls only), releases it,
//! then fsyncs `dat`, `idx`, `ts` of every segment written since the last sync on its own
//! handles. Requests arriving during an fsync coalesce into one follow-up sync.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use event_listener::Event;

use super::config::FsyncPolicy;
use super::error::RedexError;
use super::file::Core;

#[derive(Default)]
struct Flags {
    requested: bool,
    shutdown: bool,
}

/// Shared sync bookkeeping of one file.
pub(crate) struct SyncCtl {
    flags: Mutex<Flags>,
    cv: Condvar,
    requested: AtomicBool,
    /// Every seq below this is durable (fsynced).
    pub synced_next: AtomicU64,
    /// Number of sync rounds that fsynced something.
    pub fsyncs: AtomicU64,
    /// Notified after every sync round.
    pub synced: Event,
    /// Serializes sync rounds (worker, explicit `sync`, `close`).
    pub round: parking_lot::Mutex<()>,
    /// The last error of the background worker.
    pub last_error: parking_lot::Mutex<Option<RedexError>>,
}

impl SyncCtl {
    pub fn new(synced_next: u64) -> SyncCtl {
        SyncCtl {
            flags: Mutex::new(Flags::default()),
            cv: Condvar::new(),
            requested: AtomicBool::new(false),
            synced_next: AtomicU64::new(synced_next),
            fsyncs: AtomicU64::new(0),
            synced: Event::new(),
            round: parking_lot::Mutex::new(()),
            last_error: parking_lot::Mutex::new(None),
        }
    }

    /// Asks the worker for a sync; cheap when a request is already pending.
    #[inline]
    pub fn request(&self) {
        if !self.requested.swap(true, Ordering::AcqRel) {
            let mut f = self.flags.lock().unwrap_or_else(|p| p.into_inner());
            f.requested = true;
            self.cv.notify_one();
        }
    }

    /// Tells the worker to exit after its current round.
    pub fn shutdown(&self) {
        let mut f = self.flags.lock().unwrap_or_else(|p| p.into_inner());
        f.shutdown = true;
        self.cv.notify_one();
    }
}

/// Starts the worker thread of `core` under `policy`.
pub(crate) fn spawn_worker(
    core: Arc<Core>,
    policy: FsyncPolicy,
) -> Result<JoinHandle<()>, RedexError> {
    std::thread::Builder::new()
        .name("redex-sync".into())
        .spawn(move || worker(&core, policy))
        .map_err(|e| RedexError::Io(format!("spawn sync worker: {e}")))
}

fn worker(core: &Core, policy: FsyncPolicy) {
    let ctl = core.sync_ctl();
    let period = policy.period();
    let mut deadline = period.map(|p| Instant::now() + p);
    loop {
        {
            let mut f = ctl.flags.lock().unwrap_or_else(|p| p.into_inner());
            loop {
                if f.shutdown {
                    return;
                }
                if f.requested {
                    f.requested = false;
                    break;
                }
                match deadline {
                    Some(d) => {
                        let now = Instant::now();
                        if now >= d {
                            break;
                        }
                        f = ctl
                            .cv
                            .wait_timeout(f, d - now)
                            .unwrap_or_else(|p| p.into_inner())
                            .0;
                    }
                    None => f = ctl.cv.wait(f).unwrap_or_else(|p| p.into_inner()),
                }
            }
        }
        ctl.requested.store(false, Ordering::Release);
        if let Err(e) = core.sync_round() {
            *ctl.last_error.lock() = Some(e);
            // Do not spin on a persistent error.
            std::thread::sleep(Duration::from_millis(10));
        }
        deadline = period.map(|p| Instant::now() + p);
    }
}
