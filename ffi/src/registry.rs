//! Live handles and allocations, so that a freed or foreign pointer is reported instead of
//! dereferenced.
//!
//! [`Handles`] keeps an `Arc` of every live handle keyed by its address. Cold calls look the
//! handle up (an unknown address is `invalid_argument`, "unknown or freed handle") and hold
//! their clone while they run, so a concurrent free cannot pull the object from under them.
//! The per-event ingest calls skip the lookup and dereference the pointer directly; that is the
//! one documented exception (see `docs/c-abi.md`). [`Allocations`] records the address of every
//! buffer handed out (strings, poll pages) so each free function can refuse a double free.
//! Addresses can be reused by later allocations, so detection is best effort, never a promise.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use net::Error;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave these maps half-updated (every operation is
    // a single insert or remove), so a poisoned lock is safe to keep using.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Live handles of one kind, keyed by the address handed to C.
pub struct Handles<T> {
    live: Mutex<BTreeMap<usize, Arc<T>>>,
    what: &'static str,
}

impl<T> Handles<T> {
    /// An empty registry; `what` names the handle type in error messages.
    pub const fn new(what: &'static str) -> Handles<T> {
        Handles {
            live: Mutex::new(BTreeMap::new()),
            what,
        }
    }

    /// Registers `value` and returns the address to hand out.
    pub fn insert(&self, value: T) -> *mut T {
        let arc = Arc::new(value);
        let ptr = Arc::as_ptr(&arc).cast_mut();
        lock(&self.live).insert(ptr as usize, arc);
        ptr
    }

    /// The live handle at `ptr`, or `invalid_argument` if it is NULL, freed or foreign.
    pub fn get(&self, ptr: *const T) -> Result<Arc<T>, Error> {
        if ptr.is_null() {
            return Err(Error::InvalidArgument(format!(
                "{} handle is NULL",
                self.what
            )));
        }
        lock(&self.live)
            .get(&(ptr as usize))
            .cloned()
            .ok_or_else(|| self.unknown())
    }

    /// Unregisters the handle at `ptr` and returns it (the caller drops it).
    pub fn remove(&self, ptr: *const T) -> Result<Arc<T>, Error> {
        if ptr.is_null() {
            return Err(Error::InvalidArgument(format!(
                "{} handle is NULL",
                self.what
            )));
        }
        lock(&self.live)
            .remove(&(ptr as usize))
            .ok_or_else(|| self.unknown())
    }

    fn unknown(&self) -> Error {
        Error::InvalidArgument(format!("unknown or already freed {} handle", self.what))
    }
}

/// Addresses of live buffers of one kind.
pub struct Allocations {
    live: Mutex<BTreeSet<usize>>,
    what: &'static str,
}

impl Allocations {
    /// An empty registry; `what` names the allocation kind in error messages.
    pub const fn new(what: &'static str) -> Allocations {
        Allocations {
            live: Mutex::new(BTreeSet::new()),
            what,
        }
    }

    /// Records a buffer handed out at `addr`.
    pub fn insert(&self, addr: usize) {
        lock(&self.live).insert(addr);
    }

    /// Forgets `addr`; `invalid_argument` if it was not live (double free or foreign pointer),
    /// in which case the caller must not touch the memory.
    pub fn remove(&self, addr: usize) -> Result<(), Error> {
        if lock(&self.live).remove(&addr) {
            Ok(())
        } else {
            Err(Error::InvalidArgument(format!(
                "{} was not allocated by libnet or was already freed",
                self.what
            )))
        }
    }
}
