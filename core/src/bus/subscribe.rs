//! Push subscriptions: a cursor that waits for the drain workers instead of sleeping.
//!
//! A [`Subscription`] reads like `poll` from its own cursor; when nothing new is there it
//! registers on the bus's progress notifier (notified after every batch the adapter stored) and
//! waits, blocking (`next_blocking`) or as a `futures::Stream`. There is no timer and no
//! backoff loop. If retention evicted events before the subscriber read them, it yields
//! [`SubscriptionItem::Lagged`] with the exact count, then continues from the oldest retained
//! event. After `shutdown()` it yields what is left and then ends.
//!
//! Cancellation: [`Subscription::canceller`] hands out a [`SubscriptionCanceller`] that another
//! thread (or a binding's context, a Go `context.Context`) uses to stop the subscription. A
//! wait in progress returns [`WaitOutcome::Cancelled`] promptly (it is woken, not polled), and
//! so does every later wait; the stream ends. Cancellation is final: nothing more is handed
//! out, and [`Subscription::cursor`] still says where the subscription stopped (items fetched
//! but not handed out are not skipped), so a new subscription can resume from it. Not
//! promised: which of a racing event and a cancel wins (either outcome is correct).

use std::future::Future as _;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use event_listener::{EventListener, Listener};
use futures_core::Stream;

use super::filter::Filter;
use super::poll::{Ordering, read};
use super::{Inner, StoredEvent};
use crate::error::{Error, Result};

/// Where a subscription starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SubscribeFrom {
    /// The oldest retained event.
    #[default]
    Beginning,
    /// Only events stored after the subscription was opened.
    Latest,
    /// Resume after the events a previous poll or subscription returned.
    Cursor(String),
}

/// Options of [`crate::EventBus::subscribe`].
#[derive(Debug, Clone)]
pub struct SubscribeOptions {
    /// Only events matching this filter are delivered.
    pub filter: Option<Filter>,
    /// Where to start.
    pub from: SubscribeFrom,
    /// Most events fetched from the adapter per wake-up (1..=100000).
    pub batch: usize,
    /// How events of several shards are ordered within one fetch.
    pub ordering: Ordering,
}

impl Default for SubscribeOptions {
    fn default() -> Self {
        SubscribeOptions {
            filter: None,
            from: SubscribeFrom::Beginning,
            batch: 256,
            ordering: Ordering::PerShard,
        }
    }
}

/// One item of a subscription.
#[derive(Debug, Clone, PartialEq)]
pub enum SubscriptionItem {
    /// An event.
    Event(StoredEvent),
    /// The subscriber fell behind retention; this many events were evicted unread.
    Lagged {
        /// Number of events lost to retention.
        skipped: u64,
    },
}

/// What a bounded or unbounded wait of [`Subscription::wait`] ended with.
#[derive(Debug, Clone, PartialEq)]
pub enum WaitOutcome {
    /// An event, or a lag signal.
    Item(SubscriptionItem),
    /// The bus shut down and every remaining item was handed out.
    Ended,
    /// The timeout passed with nothing new.
    TimedOut,
    /// The subscription was cancelled through a [`SubscriptionCanceller`].
    Cancelled,
}

/// Stops a [`Subscription`] from any thread: a wait in progress returns
/// [`WaitOutcome::Cancelled`] promptly, and so does every later one. Cheap to clone; cancelling
/// twice is harmless; it keeps the bus's shared state alive while it exists (not the workers).
#[derive(Clone)]
pub struct SubscriptionCanceller {
    flag: Arc<AtomicBool>,
    inner: Arc<Inner>,
}

impl SubscriptionCanceller {
    /// Cancels the subscription (idempotent).
    pub fn cancel(&self) {
        // Set the flag before notifying: a waiter registers its listener before it reads the
        // flag, so it either sees the flag or receives this notification. The notification is
        // the bus's progress event, so other subscribers of the bus wake once, find nothing new
        // and wait again; a cancel is rare, so that costs less than a second wait primitive.
        self.flag.store(true, AtomicOrdering::SeqCst);
        self.inner.progress.notify(usize::MAX);
    }

    /// True once `cancel` was called.
    pub fn is_cancelled(&self) -> bool {
        self.flag.load(AtomicOrdering::SeqCst)
    }
}

impl std::fmt::Debug for SubscriptionCanceller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubscriptionCanceller")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

/// Items fetched but not handed out yet: a lag signal first (if the fetch found one), then the
/// fetched events, handed out straight from the read's vector (no second queue).
#[derive(Default)]
struct Pending {
    lagged: Option<u64>,
    events: std::vec::IntoIter<StoredEvent>,
}

impl Pending {
    fn pop_front(&mut self) -> Option<SubscriptionItem> {
        match self.lagged.take() {
            Some(skipped) => Some(SubscriptionItem::Lagged { skipped }),
            None => self.events.next().map(SubscriptionItem::Event),
        }
    }

    fn is_empty(&self) -> bool {
        self.lagged.is_none() && self.events.len() == 0
    }
}

/// A push subscription; see the module docs.
pub struct Subscription {
    inner: Arc<Inner>,
    cancelled: Arc<AtomicBool>,
    positions: Vec<u64>,
    filter: Option<Filter>,
    batch: usize,
    ordering: Ordering,
    pending: Pending,
    listener: Option<EventListener>,
    ended: bool,
}

impl Subscription {
    pub(super) fn open(inner: Arc<Inner>, options: SubscribeOptions) -> Result<Subscription> {
        if options.batch == 0 || options.batch > super::MAX_POLL_LIMIT {
            return Err(Error::InvalidArgument(format!(
                "batch must be in 1..={}, got {}",
                super::MAX_POLL_LIMIT,
                options.batch
            )));
        }
        let positions = match &options.from {
            SubscribeFrom::Beginning => vec![0; inner.shards.len()],
            SubscribeFrom::Latest => (0..inner.shards.len() as u16)
                .map(|s| inner.adapter.end_position(s))
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| Error::Adapter(e.to_string()))?,
            SubscribeFrom::Cursor(c) => inner.codec.decode(c)?,
        };
        Ok(Subscription {
            inner,
            cancelled: Arc::new(AtomicBool::new(false)),
            positions,
            filter: options.filter,
            batch: options.batch,
            ordering: options.ordering,
            pending: Pending::default(),
            listener: None,
            ended: false,
        })
    }

    /// A handle that cancels this subscription from another thread (see the module docs).
    pub fn canceller(&self) -> SubscriptionCanceller {
        SubscriptionCanceller {
            flag: self.cancelled.clone(),
            inner: self.inner.clone(),
        }
    }

    /// True once the subscription was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(AtomicOrdering::SeqCst)
    }

    /// The cursor after the last item handed out (usable with `poll` or a new subscription).
    pub fn cursor(&self) -> String {
        if self.pending.is_empty() {
            return self.inner.codec.encode(&self.positions);
        }
        // Items fetched but not yet handed out: rewind each shard to its first pending event.
        let mut positions = self.positions.clone();
        let mut seen = vec![false; positions.len()];
        for e in self.pending.events.as_slice() {
            if !seen[e.shard as usize] {
                seen[e.shard as usize] = true;
                positions[e.shard as usize] = e.position;
            }
        }
        self.inner.codec.encode(&positions)
    }

    /// Fetches what is available now; true if anything was queued.
    fn refill(&mut self) -> Result<bool> {
        let got = read(
            &self.inner,
            &self.positions,
            self.batch,
            self.filter.as_ref(),
            self.ordering,
        )?;
        self.positions = got.positions;
        // Only called with nothing pending, so this replaces an empty queue.
        self.pending = Pending {
            lagged: (got.skipped > 0).then_some(got.skipped),
            events: got.events.into_iter(),
        };
        Ok(!self.pending.is_empty())
    }

    /// The next item if one is available without waiting; `Ok(None)` otherwise (also once
    /// cancelled).
    pub fn try_next(&mut self) -> Result<Option<SubscriptionItem>> {
        if self.is_cancelled() {
            return Ok(None);
        }
        if self.pending.is_empty() && !self.ended {
            self.refill()?;
        }
        Ok(self.pending.pop_front())
    }

    /// True once the bus shut down and every remaining item was handed out.
    pub fn is_ended(&self) -> bool {
        self.ended && self.pending.is_empty()
    }

    /// Waits for the next item. `Ok(None)` means the subscription ended (bus shut down) or was
    /// cancelled (use [`Subscription::wait`] to tell them apart); `Err(Error::Timeout)` means
    /// `timeout` passed with nothing new.
    pub fn next_blocking(&mut self, timeout: Option<Duration>) -> Result<Option<SubscriptionItem>> {
        match self.wait(timeout)? {
            WaitOutcome::Item(item) => Ok(Some(item)),
            WaitOutcome::Ended | WaitOutcome::Cancelled => Ok(None),
            WaitOutcome::TimedOut => Err(Error::Timeout("no event arrived in time".into())),
        }
    }

    /// Waits up to `timeout` (`None`: without bound) for the next item, the end of the
    /// subscription or its cancellation. Errors are the adapter's read errors.
    pub fn wait(&mut self, timeout: Option<Duration>) -> Result<WaitOutcome> {
        // The deadline is fixed when the wait first has to block: reading the clock on every
        // call cost more than the rest of handing out a buffered item (W2 calls this per
        // event), and the time until then is a bounded, non-blocking read.
        let mut deadline: Option<Instant> = None;
        loop {
            if self.is_cancelled() {
                return Ok(WaitOutcome::Cancelled);
            }
            if let Some(item) = self.pending.pop_front() {
                return Ok(WaitOutcome::Item(item));
            }
            if self.ended {
                return Ok(WaitOutcome::Ended);
            }
            // Register before reading the flags and the adapter, so a batch stored (or a
            // cancel made) after the read still wakes this wait.
            let listener = self.inner.progress.listen();
            if self.is_cancelled() {
                continue;
            }
            let closed = self.inner.is_closed();
            if self.refill()? {
                continue;
            }
            if closed {
                self.ended = true;
                continue;
            }
            match timeout {
                None => listener.wait(),
                Some(t) => {
                    let d = *deadline.get_or_insert_with(|| Instant::now() + t);
                    if listener.wait_deadline(d).is_none() && Instant::now() >= d {
                        return Ok(WaitOutcome::TimedOut);
                    }
                }
            }
        }
    }
}

impl Stream for Subscription {
    type Item = Result<SubscriptionItem>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.is_cancelled() {
                this.listener = None;
                return Poll::Ready(None);
            }
            if let Some(item) = this.pending.pop_front() {
                return Poll::Ready(Some(Ok(item)));
            }
            if this.ended {
                return Poll::Ready(None);
            }
            if let Some(listener) = this.listener.as_mut() {
                match Pin::new(listener).poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(()) => this.listener = None,
                }
            }
            // Register before reading, so a batch stored (or a cancel made) after the read
            // still wakes us.
            this.listener = Some(this.inner.progress.listen());
            if this.is_cancelled() {
                continue;
            }
            let closed = this.inner.is_closed();
            match this.refill() {
                Err(e) => {
                    this.listener = None;
                    return Poll::Ready(Some(Err(e)));
                }
                Ok(true) => this.listener = None,
                Ok(false) if closed => {
                    this.listener = None;
                    this.ended = true;
                }
                Ok(false) => {}
            }
        }
    }
}
