//! The functions behind the JS `Bus` class: one engine [`EventBus`] per handle.
//!
//! `index.js` defines the class; each method forwards to an export here (`busPoll` runs
//! [`poll`], ...) or in [`crate::ingest`], with the bus handle ([`crate::handle`]) as first
//! argument.
//!
//! Calls that never wait are synchronous (`ingest*`, `subscribe`, `stats`, `config`,
//! `running`). Calls that may wait run on the libuv thread pool and return promises (`poll`,
//! `flush`, `shutdown`, and the `*Async` ingest variants). Under the `block` backpressure
//! mode an ingest may wait for room, so there the synchronous ingest methods refuse with
//! `invalid_argument`, pointing to the async variants: the JS thread never blocks.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

use napi::sys;
use net::{Backpressure, Error, EventBus, Receipt};

use crate::error::{Fail, Res};
use crate::handle::{self, Handled};
use crate::js::{self, Builder, Raw, RawEnv};
use crate::options;
use crate::output::{self, EventColumns, PollOutput, ToJs};
use crate::subscription::Subscription;
use crate::task::EngineTask;

/// The native side of a JS `Bus`; see the module docs.
pub struct Bus {
    pub(crate) bus: Arc<EventBus>,
    /// Reused buffer for the bytes of strings read on the JS thread.
    pub(crate) scratch: RefCell<Vec<u8>>,
    /// The JS-side `Uint16Array` where synchronous ingests leave the receipt's shard (the seq
    /// is returned), so a receipt costs no object built from native code; `slot_ref` keeps
    /// the array alive while this bus exists.
    slot: *mut u16,
    slot_ref: sys::napi_ref,
}

impl Drop for Bus {
    fn drop(&mut self) {
        // Dropping the last handle shuts the engine down, which waits for the drain; do that
        // off the JS thread (the garbage collector runs this).
        let bus = self.bus.clone();
        let _ = std::thread::Builder::new()
            .name("net-bus-drop".into())
            .spawn(move || drop(bus));
    }
}

impl Handled for Bus {
    const TAG: sys::napi_type_tag = sys::napi_type_tag {
        lower: 0x6e65_745f_6d65_7368,
        upper: 0x5f62_7573_5f76_3031,
    };
    const NAME: &'static str = "Bus";

    fn release(self: Box<Self>, env: RawEnv) {
        // SAFETY: the reference was created on this env and is deleted once.
        unsafe { sys::napi_delete_reference(env, self.slot_ref) };
    }
}

impl Bus {
    /// Refuses a synchronous ingest under `block` backpressure (it could wait on the JS thread).
    pub(crate) fn sync_ingest_allowed(&self) -> Res<()> {
        if let Backpressure::Block { .. } = self.bus.config().backpressure {
            return Err(Fail::arg(
                "the bus uses `block` backpressure, where an ingest may wait for room; \
                 use the async variant of this call so the wait runs off the JS thread",
            ));
        }
        Ok(())
    }
}

/// `busNew(config, slot)`: a bus from `config` (`undefined`, JSON text, or an object with the
/// engine's keys; unknown keys and bad values throw a `config` error naming the key). `slot`
/// is a `Uint16Array` that receives the shard of each synchronous ingest.
pub fn new(env: RawEnv, [config, slot]: [Raw; 2]) -> Res<Raw> {
    let config = options::config(env, config)?;
    let slot_ptr = js::get_u16_slot(env, slot)?
        .ok_or_else(|| Fail::arg("busNew: slot must be a Uint16Array of length >= 1"))?;
    let bus = Arc::new(EventBus::new(config)?);
    let mut slot_ref = std::ptr::null_mut();
    crate::js::napi_call!(env, sys::napi_create_reference(env, slot, 1, &mut slot_ref));
    let bus = Bus {
        bus,
        scratch: RefCell::new(Vec::with_capacity(256)),
        slot: slot_ptr,
        slot_ref,
    };
    handle::wrap(env, bus)
}

impl Bus {
    /// Leaves the shard of `r` in the slot and returns its seq as a `bigint`.
    pub(crate) fn receipt(&self, env: RawEnv, r: Receipt) -> Res<Raw> {
        // SAFETY: `slot_ref` keeps the array (and so its off-heap store) alive; JS runs on this
        // thread only, so nothing reads the slot concurrently.
        unsafe { self.slot.write(r.shard) };
        Builder::new(env).big(r.seq)
    }
}

/// Runs `f` on the thread pool with the engine and the arguments `args` read on the JS thread;
/// returns its promise.
pub(crate) fn spawn<A: Send + 'static, T: ToJs + 'static>(
    env: RawEnv,
    h: Raw,
    args: impl FnOnce() -> Res<A>,
    f: impl FnOnce(&EventBus, A) -> Result<T, Error> + Send + 'static,
) -> Res<Raw> {
    let args = handle::get::<Bus>(env, h).and_then(|this| Ok((this.bus.clone(), args()?)));
    EngineTask::spawn(env, args, move |(bus, a)| f(&bus, a))
}

/// `busPoll(h, options?)`: reads events without consuming them (`{limit, cursor, filter,
/// ordering}`); resolves to `{events, cursor, skipped, has_more}`.
pub fn poll(env: RawEnv, [h, options]: [Raw; 2]) -> Res<Raw> {
    let args = || options::poll(env, options);
    spawn(env, h, args, |bus, req| {
        let page = bus.poll(&req)?;
        Ok(PollOutput {
            events: EventColumns {
                events: page.events,
                lagged: Vec::new(),
            },
            cursor: page.cursor,
            skipped: page.skipped,
            has_more: page.has_more,
        })
    })
}

/// `busSubscribe(h, options?)`: opens a push subscription (`{filter, from, cursor, batch,
/// ordering}`) and returns its handle.
pub fn subscribe(env: RawEnv, [h, options]: [Raw; 2]) -> Res<Raw> {
    let this = handle::get::<Bus>(env, h)?;
    let opts = options::subscribe(env, options)?;
    handle::wrap(env, Subscription::open(&this.bus, opts)?)
}

/// `busFlush(h, timeoutMs?)`: resolves once every event accepted before the call is visible to
/// `poll`; rejects with `timeout` after `timeoutMs` (default 30 s) and with `shutting_down`
/// after shutdown.
pub fn flush(env: RawEnv, [h, timeout_ms]: [Raw; 2]) -> Res<Raw> {
    let args = || {
        if js::is_undefined(env, timeout_ms)? {
            return Ok(None);
        }
        match js::get_number(env, timeout_ms)? {
            Some(ms) if ms.is_finite() && ms >= 0.0 => {
                Ok(Some(Duration::from_secs_f64(ms / 1000.0)))
            }
            _ => Err(Fail::arg(
                "flush: timeoutMs must be a non-negative number of milliseconds",
            )),
        }
    };
    spawn(env, h, args, |bus, timeout| match timeout {
        None => bus.flush(),
        Some(t) => bus.flush_timeout(t),
    })
}

/// `busStats(h)`: a snapshot of the counters (the engine's stats shape, counters as `bigint`).
pub fn stats(env: RawEnv, [h]: [Raw; 1]) -> Res<Raw> {
    let this = handle::get::<Bus>(env, h)?;
    output::stats(env, &this.bus.stats())
}

/// `busShutdown(h)`: stops accepting, drains, and resolves to the shutdown report. Idempotent.
pub fn shutdown(env: RawEnv, [h]: [Raw; 1]) -> Res<Raw> {
    spawn(env, h, || Ok(()), |bus, ()| bus.shutdown())
}

/// `busConfig(h)`: the normalized configuration (every key, defaults filled in).
pub fn config(env: RawEnv, [h]: [Raw; 1]) -> Res<Raw> {
    let this = handle::get::<Bus>(env, h)?;
    Builder::new(env).json(&this.bus.config().to_json())
}

/// `busRunning(h)`: true until shutdown starts.
pub fn running(env: RawEnv, [h]: [Raw; 1]) -> Res<Raw> {
    let this = handle::get::<Bus>(env, h)?;
    Builder::new(env).bool(this.bus.is_running())
}
