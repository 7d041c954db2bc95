//! [`Changes`]: a stream of fold watermarks, for reactive readers.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use event_listener::{EventListener, Listener};
use futures_core::Stream;

use super::adapter::Shared;

/// Yields the last folded seq each time the fold makes progress. A slow reader skips
/// intermediate values and always sees the latest; the stream ends when the fold task stops.
pub struct Changes<S> {
    shared: Arc<Shared<S>>,
    seen: u64,
    listener: Option<EventListener>,
}

impl<S> std::fmt::Debug for Changes<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Changes").field("seen", &self.seen).finish()
    }
}

impl<S> Changes<S> {
    pub(crate) fn new(shared: Arc<Shared<S>>) -> Self {
        let seen = shared.folded_next.load(Ordering::Acquire);
        Changes {
            shared,
            seen,
            listener: None,
        }
    }

    fn check(&mut self) -> Option<Option<u64>> {
        let now = self.shared.folded_next.load(Ordering::Acquire);
        if now > self.seen {
            self.seen = now;
            return Some(Some(now - 1));
        }
        if !self.shared.running.load(Ordering::Acquire) {
            return Some(None);
        }
        None
    }

    /// Waits up to `timeout` for progress: `Some(Some(seq))` on progress, `Some(None)` when
    /// the fold has stopped, `None` on timeout.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Option<Option<u64>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(r) = self.check() {
                return Some(r);
            }
            let l = self.shared.progress.listen();
            if let Some(r) = self.check() {
                return Some(r);
            }
            if l.wait_deadline(deadline).is_none() && Instant::now() >= deadline {
                return None;
            }
        }
    }
}

impl<S> Stream for Changes<S> {
    type Item = u64;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<u64>> {
        let this = self.get_mut();
        loop {
            if let Some(r) = this.check() {
                this.listener = None;
                return Poll::Ready(r);
            }
            match this.listener.as_mut() {
                None => this.listener = Some(this.shared.progress.listen()),
                Some(l) => match Pin::new(l).poll(cx) {
                    Poll::Ready(()) => this.listener = None,
                    Poll::Pending => return Poll::Pending,
                },
            }
        }
    }
}
