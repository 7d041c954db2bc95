//! [`RedexTail`]: backfill-then-live reading of a file, blocking (`next_blocking`) or as a
//! [`futures_core::Stream`].
//!
//! A tail is a cursor over the log itself: it reads retained entries with `seq >= cursor` in
//! batches under the file lock and, when it has caught up, waits on the file's append
//! notifier. Since seqs are assigned and made readable under the same lock, the switch from
//! backfill to live can neither skip nor repeat an entry. A tail that falls behind retention
//! yields one [`RedexError::Lagged`] and continues at the oldest retained entry. When the
//! file is closed the tail yields the entries already written, then one
//! [`RedexError::Closed`], then ends. No runtime is needed: the stream wakes through
//! `event-listener`. A tail that parks is counted in the file's `waiters` (see [`Parked`]);
//! appenders skip the wake-up entirely while nobody is parked.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use event_listener::{EventListener, Listener};
use futures_core::Stream;

use super::batch::RedexBatch;
use super::error::RedexError;
use super::file::{Core, RedexEvent};

const BATCH: usize = 256;
const SPIN: u32 = 4000;

/// A live view of a file from a start seq. See the module docs.
pub struct RedexTail {
    core: Arc<Core>,
    next: u64,
    buf: VecDeque<RedexEvent>,
    listener: Option<Parked>,
    done: bool,
}

/// A listener registered on the file's append notifier and counted in `Core::waiters` for as
/// long as it lives, so appenders know someone must be woken.
///
/// Order matters: the listener is registered first, then `waiters` is incremented under the
/// file lock; only then may the caller re-check `published` and park. See
/// `Core::after_append`. Decrementing needs no lock (a stale count only costs a spurious
/// notification).
struct Parked {
    listener: EventListener,
    _counted: Counted,
}

/// One unit of `Core::waiters`, given back on drop.
struct Counted(Arc<Core>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.waiters.fetch_sub(1, Ordering::Release);
    }
}

impl Parked {
    fn new(core: &Arc<Core>) -> Parked {
        let listener = core.appended.listen();
        {
            let _st = core.state.lock();
            core.waiters.fetch_add(1, Ordering::Relaxed);
        }
        Parked {
            listener,
            _counted: Counted(core.clone()),
        }
    }

    /// Blocks until notified or `deadline`; returns whether it was notified.
    fn wait(self, deadline: Option<Instant>) -> bool {
        let Parked { listener, _counted } = self;
        match deadline {
            Some(d) => listener.wait_deadline(d).is_some(),
            None => {
                listener.wait();
                true
            }
        }
    }
}

enum Step {
    Item(Result<RedexEvent, RedexError>),
    End,
    Empty,
}

impl RedexTail {
    pub(crate) fn new(core: Arc<Core>, from: u64) -> RedexTail {
        RedexTail {
            core,
            next: from,
            buf: VecDeque::new(),
            listener: None,
            done: false,
        }
    }

    /// The seq this tail reads next.
    pub fn position(&self) -> u64 {
        self.buf.front().map_or(self.next, |e| e.seq)
    }

    fn step(&mut self) -> Step {
        if let Some(e) = self.buf.pop_front() {
            return Step::Item(Ok(e));
        }
        if self.done {
            return Step::End;
        }
        let (n, lag, closed) = self.core.read_from(self.next, BATCH, &mut self.buf);
        if let Some(skipped) = lag {
            self.next += skipped;
            return Step::Item(Err(RedexError::Lagged { skipped }));
        }
        if n > 0 {
            self.next = self.buf.back().map_or(self.next, |e| e.seq + 1);
            return Step::Item(Ok(self.buf.pop_front().expect("n > 0")));
        }
        if closed {
            self.done = true;
            return Step::Item(Err(RedexError::Closed));
        }
        Step::Empty
    }

    fn has_new(&self) -> bool {
        self.core.published.load(Ordering::Acquire) > self.next
            || self.core.closed.load(Ordering::Acquire)
    }

    /// Waits up to `timeout` for the next item. `Ok(None)` means the wait timed out or the
    /// tail has ended (check [`Self::is_done`]).
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<Option<RedexEvent>, RedexError> {
        self.recv_until(Some(Instant::now() + timeout))
    }

    /// Blocks until the next item; `None` once the tail has ended (after `Closed`).
    pub fn next_blocking(&mut self) -> Option<Result<RedexEvent, RedexError>> {
        match self.recv_until(None) {
            Ok(Some(e)) => Some(Ok(e)),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }

    /// A blocking iterator over this tail.
    pub fn blocking_iter(self) -> impl Iterator<Item = Result<RedexEvent, RedexError>> {
        let mut t = self;
        std::iter::from_fn(move || t.next_blocking())
    }

    /// Whether the tail has ended (after yielding `Closed`).
    pub fn is_done(&self) -> bool {
        self.done && self.buf.is_empty()
    }

    fn recv_until(&mut self, deadline: Option<Instant>) -> Result<Option<RedexEvent>, RedexError> {
        let mut spins = 0u32;
        loop {
            match self.step() {
                Step::Item(r) => return r.map(Some),
                Step::End => return Ok(None),
                Step::Empty => {}
            }
            if !self.wait_new(&mut spins, deadline) {
                return Ok(None);
            }
        }
    }

    /// One wait step after a read found nothing: spins (up to `SPIN` calls in total, counted
    /// in `spins`), then parks. Returns `false` once `deadline` has passed.
    fn wait_new(&self, spins: &mut u32, deadline: Option<Instant>) -> bool {
        if *spins < SPIN {
            *spins += 1;
            if !self.has_new() {
                std::hint::spin_loop();
                if spins.is_multiple_of(64) {
                    std::thread::yield_now();
                }
            }
            return true;
        }
        let parked = Parked::new(&self.core);
        if self.has_new() {
            return true;
        }
        parked.wait(deadline) || deadline.is_none_or(|d| Instant::now() < d)
    }

    /// Copies up to `max` entries into `out` (appending), waiting up to `timeout` for the
    /// first. Returns how many were added (0 on timeout, or once the tail has ended). Lag and
    /// close are returned as `Err` exactly as [`Self::recv_timeout`] returns them, never
    /// together with entries. Unlike [`Self::recv_batch`] this allocates nothing per entry.
    pub fn recv_into(
        &mut self,
        max: usize,
        timeout: Duration,
        out: &mut RedexBatch,
    ) -> Result<usize, RedexError> {
        let mut n = 0;
        while n < max {
            let Some(e) = self.buf.pop_front() else { break };
            out.push(e.seq, e.ts_ns, &e.payload);
            n += 1;
        }
        if n > 0 || max == 0 || self.done {
            return Ok(n);
        }
        let deadline = Instant::now() + timeout;
        let mut spins = 0u32;
        loop {
            let (k, lag, closed) = self.core.read_into(self.next, max, out);
            if let Some(skipped) = lag {
                self.next += skipped;
                return Err(RedexError::Lagged { skipped });
            }
            if k > 0 {
                self.next = out.last_seq().map_or(self.next, |s| s + 1);
                return Ok(k);
            }
            if closed {
                self.done = true;
                return Err(RedexError::Closed);
            }
            if !self.wait_new(&mut spins, Some(deadline)) {
                return Ok(0);
            }
        }
    }

    /// Copies every item available right now (at most `max`) into `out`, waiting up to
    /// `timeout` for the first. Returns how many were added; errors are returned as `Err`.
    pub fn recv_batch(
        &mut self,
        max: usize,
        timeout: Duration,
        out: &mut Vec<RedexEvent>,
    ) -> Result<usize, RedexError> {
        let Some(first) = self.recv_timeout(timeout)? else {
            return Ok(0);
        };
        out.push(first);
        let mut n = 1;
        while n < max {
            match self.step() {
                Step::Item(Ok(e)) => {
                    out.push(e);
                    n += 1;
                }
                Step::Item(Err(e)) => {
                    // Re-deliver the error on the next call.
                    if matches!(e, RedexError::Closed) {
                        self.done = false;
                    } else if let RedexError::Lagged { skipped } = e {
                        self.next -= skipped;
                    }
                    break;
                }
                Step::End | Step::Empty => break,
            }
        }
        Ok(n)
    }
}

impl Stream for RedexTail {
    type Item = Result<RedexEvent, RedexError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            match this.step() {
                Step::Item(r) => {
                    this.listener = None;
                    return Poll::Ready(Some(r));
                }
                Step::End => return Poll::Ready(None),
                Step::Empty => {}
            }
            match this.listener.as_mut() {
                None => {
                    this.listener = Some(Parked::new(&this.core));
                    // Re-check after registering so no notification is missed.
                }
                Some(p) => match Pin::new(&mut p.listener).poll(cx) {
                    Poll::Ready(()) => this.listener = None,
                    Poll::Pending => {
                        if this.has_new() {
                            this.listener = None;
                            continue;
                        }
                        return Poll::Pending;
                    }
                },
            }
        }
    }
}
