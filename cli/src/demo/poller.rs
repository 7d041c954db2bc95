//! The demo's plain poller: reads every event with cursor pages (no filter) while producers
//! run, and checks the cursor promise: per shard, positions follow each other with no gap and
//! no repeat.
//!
//! A poller has nothing to wait on, so when a page comes back empty it sleeps 1 ms; that is
//! the difference between `poll` and a push subscription. It stops once the main thread says
//! producers are done and flushed *and* a poll started after that found nothing more.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use net::{EventBus, PollRequest};

use crate::failure::{CliResult, fail};

/// Events asked for per poll.
const PAGE: usize = 1000;
/// Longest the poller keeps going without the main thread saying it is done.
const DEADLINE: Duration = Duration::from_secs(600);

/// What the poller read.
#[derive(Debug, Default)]
pub struct Polled {
    /// Events returned by poll.
    pub events: u64,
    /// Polls made.
    pub polls: u64,
    /// Events a page returned out of order (a gap or a repeat within a shard).
    pub out_of_order: u64,
    /// Events the cursor skipped because retention evicted them.
    pub skipped: u64,
}

/// Starts the poller; it ends after `done` is set and the bus has nothing more to read.
pub fn spawn(
    bus: Arc<EventBus>,
    done: Arc<AtomicBool>,
) -> CliResult<JoinHandle<CliResult<Polled>>> {
    std::thread::Builder::new()
        .name("demo-poller".to_owned())
        .spawn(move || poll_all(&bus, &done))
        .map_err(|e| fail!("cannot start poller thread: {e}"))
}

fn poll_all(bus: &EventBus, done: &AtomicBool) -> CliResult<Polled> {
    let mut polled = Polled::default();
    let mut next = vec![0u64; bus.config().num_shards as usize];
    let mut cursor: Option<String> = None;
    let deadline = Instant::now() + DEADLINE;
    loop {
        let finished = done.load(Ordering::SeqCst);
        let mut request = PollRequest::new(PAGE);
        request.cursor = cursor.take();
        let page = bus.poll(&request).map_err(|e| fail!("poller: {e}"))?;
        polled.polls += 1;
        polled.skipped += page.skipped;
        for e in &page.events {
            let expected = &mut next[e.shard as usize];
            if e.position != *expected {
                polled.out_of_order += 1;
            }
            *expected = e.position + 1;
        }
        polled.events += page.events.len() as u64;
        cursor = Some(page.cursor);
        if page.events.is_empty() && !page.has_more {
            if finished {
                return Ok(polled);
            }
            if Instant::now() > deadline {
                return Err(fail!(
                    "poller: producers did not finish within {DEADLINE:?}"
                ));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}
