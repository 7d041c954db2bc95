//! The functions behind the JS `Subscription` class: an engine push subscription delivered
//! to JS in batches.
//!
//! `next(max)` returns a promise. Behind it a future on the binding's async runtime awaits the
//! engine [`net::Subscription`] as a `Stream`: the engine wakes it when a drain worker stores a
//! batch, so nothing polls, sleeps or holds a thread pool thread while waiting. Once one item is
//! there, whatever else is ready (up to `max`) is taken without waiting, and the batch is
//! handed to JS in column form. The promise resolves to `null` when the subscription ends:
//! the bus shut down and every event was delivered, or `close()` was called (which wakes a
//! pending `next` at once, so a consumer that stops iterating never keeps the process alive).
//!
//! `cursor(unconsumed)` is exact even when the consumer stopped in the middle of a batch: it
//! takes the engine's cursor after the last delivered batch and moves each shard back to the
//! first of the last `unconsumed` events of that batch, the same rule the engine applies to
//! items it fetched but did not hand out.

use std::sync::Arc;

use futures::StreamExt;
use napi::{Env, JsValue, sys};
use parking_lot::Mutex;
use tokio::sync::watch;

use net::bus::MAX_POLL_LIMIT;
use net::bus::cursor::CursorCodec;
use net::{Error, EventBus, SubscribeOptions, SubscriptionItem};

use crate::error::{Fail, Res};
use crate::handle::{self, Handled};
use crate::js::{self, Builder, Js, Raw, RawEnv};
use crate::output::EventColumns;

/// A batch stops growing once its payloads reach this many bytes (the text of a batch is one
/// JS string, whose length V8 bounds).
const MAX_BATCH_BYTES: usize = 32 << 20;

/// What the JS side has been handed: the engine cursor after the last delivered batch and the
/// `(shard, position)` of each event in that batch.
#[derive(Default)]
struct Delivered {
    cursor: String,
    last: Vec<(u16, u64)>,
}

struct Shared {
    sub: tokio::sync::Mutex<net::Subscription>,
    closed: watch::Sender<bool>,
    delivered: Mutex<Delivered>,
    codec: CursorCodec,
    default_max: usize,
}

/// The outcome of one `next` call, produced off the JS thread.
enum Next {
    Batch(EventColumns, String),
    End,
    Failed(Error),
}

/// The native side of a JS `Subscription`; see the module docs.
pub struct Subscription {
    shared: Arc<Shared>,
}

impl Handled for Subscription {
    const TAG: sys::napi_type_tag = sys::napi_type_tag {
        lower: 0x6e65_745f_6d65_7368,
        upper: 0x5f73_7562_5f76_3031,
    };
    const NAME: &'static str = "Subscription";
}

impl Subscription {
    /// Opens an engine subscription on `bus`.
    pub fn open(bus: &EventBus, opts: SubscribeOptions) -> Res<Subscription> {
        let default_max = opts.batch;
        let sub = bus.subscribe(opts)?;
        let codec = CursorCodec::new(bus.config().adapter.cursor_tag(), bus.config().num_shards);
        let delivered = Delivered {
            cursor: sub.cursor(),
            last: Vec::new(),
        };
        Ok(Subscription {
            shared: Arc::new(Shared {
                sub: tokio::sync::Mutex::new(sub),
                closed: watch::channel(false).0,
                delivered: Mutex::new(delivered),
                codec,
                default_max,
            }),
        })
    }
}

/// Waits for the first item, then takes what is ready, up to `max` items.
async fn next_batch(shared: Arc<Shared>, max: usize) -> Next {
    let mut closed = shared.closed.subscribe();
    let mut sub = tokio::select! {
        biased;
        _ = closed.wait_for(|c| *c) => return Next::End,
        guard = shared.sub.lock() => guard,
    };
    let first = tokio::select! {
        biased;
        _ = closed.wait_for(|c| *c) => return Next::End,
        item = sub.next() => item,
    };
    let mut out = EventColumns::default();
    let mut bytes = 0usize;
    let mut item = match first {
        None => return Next::End,
        Some(Err(e)) => return Next::Failed(e),
        Some(Ok(item)) => Some(item),
    };
    while let Some(it) = item.take() {
        match it {
            SubscriptionItem::Event(e) => {
                bytes += e.event.len();
                out.events.push(e);
            }
            SubscriptionItem::Lagged { skipped } => {
                out.lagged.push((out.events.len() as u32, skipped))
            }
        }
        if out.events.len() < max && bytes < MAX_BATCH_BYTES {
            // A read failure here surfaces on the next call; deliver what we have.
            item = sub.try_next().ok().flatten();
        }
    }
    Next::Batch(out, sub.cursor())
}

/// `subNext(h, max?)`: resolves to the next batch of at most `max` events (default: the
/// `batch` option) in column form, or to `null` once the subscription ended.
pub fn next(env: RawEnv, [h, max]: [Raw; 2]) -> Res<Raw> {
    let this = handle::get::<Subscription>(env, h)?;
    let max = if js::is_undefined(env, max)? {
        this.shared.default_max
    } else {
        match js::get_number(env, max)? {
            Some(n) if n.fract() == 0.0 && n >= 1.0 && n <= MAX_POLL_LIMIT as f64 => n as usize,
            _ => {
                return Err(Fail::arg(format!(
                    "next: max must be an integer in 1..={MAX_POLL_LIMIT}"
                )));
            }
        }
    };
    let shared = this.shared.clone();
    let deliver_to = this.shared.clone();
    let fut = async move { Ok(next_batch(shared, max).await) };
    let wrapped = Env::from_raw(env);
    let promise = wrapped
        .spawn_future_with_callback(fut, move |env, next| {
            let raw = env.raw();
            deliver(raw, &deliver_to, next)
                .map(Js)
                .map_err(|f| f.into_napi(raw))
        })
        .map_err(|e| Fail::Engine(Error::Internal(format!("cannot start next: {e}"))))?;
    Ok(promise.raw())
}

/// Builds the JS value of a finished `next` on the JS thread and records what was delivered.
fn deliver(env: RawEnv, shared: &Shared, next: Next) -> Res<Raw> {
    match next {
        Next::Batch(columns, cursor) => {
            let value = columns.to_js(env)?;
            *shared.delivered.lock() = Delivered {
                cursor,
                last: columns
                    .events
                    .iter()
                    .map(|e| (e.shard, e.position))
                    .collect(),
            };
            Ok(value)
        }
        Next::End => Builder::new(env).null(),
        Next::Failed(e) => Err(Fail::Engine(e)),
    }
}

/// `subCursor(h, unconsumed?)`: the cursor after the delivered events, minus the last
/// `unconsumed` events of the last batch.
pub fn cursor(env: RawEnv, [h, unconsumed]: [Raw; 2]) -> Res<Raw> {
    let this = handle::get::<Subscription>(env, h)?;
    let unconsumed = if js::is_undefined(env, unconsumed)? {
        0
    } else {
        match js::get_number(env, unconsumed)? {
            Some(n) if n.fract() == 0.0 && n >= 0.0 => n as usize,
            _ => {
                return Err(Fail::arg(
                    "cursor: unconsumed must be a non-negative integer",
                ));
            }
        }
    };
    let d = this.shared.delivered.lock();
    let b = Builder::new(env);
    if unconsumed == 0 {
        return b.str(&d.cursor);
    }
    if unconsumed > d.last.len() {
        return Err(Fail::arg(format!(
            "cursor: unconsumed ({unconsumed}) exceeds the last batch ({})",
            d.last.len()
        )));
    }
    let mut positions = this.shared.codec.decode(&d.cursor)?;
    let mut seen = vec![false; positions.len()];
    for &(shard, position) in &d.last[d.last.len() - unconsumed..] {
        let s = shard as usize;
        if !seen[s] {
            seen[s] = true;
            positions[s] = position;
        }
    }
    b.str(&this.shared.codec.encode(&positions))
}

/// `subClose(h)`: ends the subscription; a pending `next` resolves to `null` at once, later
/// ones too.
pub fn close(env: RawEnv, [h]: [Raw; 1]) -> Res<Raw> {
    handle::get::<Subscription>(env, h)?
        .shared
        .closed
        .send_replace(true);
    Builder::new(env).undefined()
}

/// `subClosed(h)`: true once `close()` was called.
pub fn closed(env: RawEnv, [h]: [Raw; 1]) -> Res<Raw> {
    let closed = *handle::get::<Subscription>(env, h)?.shared.closed.borrow();
    Builder::new(env).bool(closed)
}
