//! Connection bookkeeping shared by the networked adapters: health, error and reconnect
//! counters, and a bounded exponential backoff.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::{ConnectionStats, Health};

/// Health and counters of one adapter's connections.
pub(crate) struct Link {
    connected: AtomicBool,
    errors: AtomicU64,
    reconnects: AtomicU64,
    last_error: Mutex<Option<String>>,
    health: Mutex<Health>,
}

impl Link {
    pub(crate) fn new() -> Link {
        Link {
            connected: AtomicBool::new(false),
            errors: AtomicU64::new(0),
            reconnects: AtomicU64::new(0),
            last_error: Mutex::new(None),
            health: Mutex::new(Health::Unhealthy("not connected yet".to_owned())),
        }
    }

    /// An operation reached the server.
    pub(crate) fn ok(&self) {
        self.connected.store(true, Ordering::Relaxed);
        let mut h = self.health.lock();
        if *h != Health::Healthy {
            *h = Health::Healthy;
        }
    }

    /// A connection was (re-)established.
    pub(crate) fn connected(&self) {
        self.reconnects.fetch_add(1, Ordering::Relaxed);
        self.ok();
    }

    /// An operation failed; `final_` when the caller gives up (unhealthy) rather than retrying
    /// (degraded).
    pub(crate) fn failed(&self, message: &str, final_: bool) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        self.connected.store(false, Ordering::Relaxed);
        *self.last_error.lock() = Some(message.to_owned());
        *self.health.lock() = if final_ {
            Health::Unhealthy(message.to_owned())
        } else {
            Health::Degraded(format!("retrying: {message}"))
        };
    }

    pub(crate) fn health(&self) -> Health {
        self.health.lock().clone()
    }

    pub(crate) fn stats(&self) -> ConnectionStats {
        ConnectionStats {
            connected: self.connected.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            reconnects: self.reconnects.load(Ordering::Relaxed),
            last_error: self.last_error.lock().clone(),
            ..ConnectionStats::default()
        }
    }
}

/// Exponential backoff (10 ms doubling to 1 s) that never sleeps past `deadline`.
pub(crate) struct Backoff {
    deadline: Instant,
    delay: Duration,
}

impl Backoff {
    pub(crate) fn new(budget: Duration) -> Backoff {
        Backoff {
            deadline: Instant::now() + budget,
            delay: Duration::from_millis(10),
        }
    }

    /// Sleeps before the next attempt; false when the budget is spent (no sleep then).
    pub(crate) fn wait(&mut self) -> bool {
        let now = Instant::now();
        if now >= self.deadline {
            return false;
        }
        std::thread::sleep(self.delay.min(self.deadline - now));
        self.delay = (self.delay * 2).min(Duration::from_secs(1));
        true
    }
}
