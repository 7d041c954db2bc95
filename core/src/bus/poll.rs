//! Poll: non-destructive, cursor-based reads with in-engine filters.
//!
//! Cursor rule: for each shard the returned cursor holds the position of the first event the
//! caller has not been shown and that could still match, so resuming never skips and never
//! repeats. Events a filter rejected are passed over for good. When retention evicted events
//! the cursor pointed at, reading resumes at the oldest retained event and `skipped` says how
//! many were lost to retention.
//!
//! Orderings: `PerShard` interleaves shards round-robin (each shard in sequence order);
//! `InsertionTime` merges by (insertion time, shard, position), which is deterministic.

use std::collections::VecDeque;

use super::filter::Filter;
use super::{Inner, StoredEvent};
use crate::error::{Error, Result};

/// Largest `limit` one poll accepts.
pub const MAX_POLL_LIMIT: usize = 100_000;
/// Most events examined per shard in one poll (bounds the work a selective filter causes).
const MAX_SCAN_PER_SHARD: usize = 1 << 16;
/// Events read from the adapter per page while scanning.
const PAGE: usize = 1024;

/// How events from several shards are ordered in one result.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Ordering {
    /// Each shard in sequence order; shards interleaved round-robin.
    #[default]
    PerShard,
    /// A deterministic merge by insertion time (ties: shard, then position).
    InsertionTime,
}

impl Ordering {
    /// Parses `per_shard` or `insertion_time`.
    pub fn parse(s: &str) -> Result<Ordering> {
        match s {
            "per_shard" => Ok(Ordering::PerShard),
            "insertion_time" => Ok(Ordering::InsertionTime),
            other => Err(Error::InvalidArgument(format!(
                "unknown ordering `{other}` (expected per_shard or insertion_time)"
            ))),
        }
    }

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Ordering::PerShard => "per_shard",
            Ordering::InsertionTime => "insertion_time",
        }
    }
}

/// What to read.
#[derive(Debug, Clone)]
pub struct PollRequest {
    /// Most events to return (1..=[`MAX_POLL_LIMIT`]).
    pub limit: usize,
    /// Where to resume; `None` starts at the oldest retained event.
    pub cursor: Option<String>,
    /// Only events matching this filter are returned.
    pub filter: Option<Filter>,
    /// How shards are merged.
    pub ordering: Ordering,
}

impl Default for PollRequest {
    fn default() -> Self {
        PollRequest {
            limit: 100,
            cursor: None,
            filter: None,
            ordering: Ordering::PerShard,
        }
    }
}

impl PollRequest {
    /// A request for up to `limit` events from the beginning.
    pub fn new(limit: usize) -> PollRequest {
        PollRequest {
            limit,
            ..PollRequest::default()
        }
    }

    /// Resumes from `cursor`.
    pub fn cursor(mut self, cursor: impl Into<String>) -> PollRequest {
        self.cursor = Some(cursor.into());
        self
    }

    /// Filters with `filter`.
    pub fn filter(mut self, filter: Filter) -> PollRequest {
        self.filter = Some(filter);
        self
    }

    /// Orders with `ordering`.
    pub fn ordering(mut self, ordering: Ordering) -> PollRequest {
        self.ordering = ordering;
        self
    }
}

/// What a poll returned.
#[derive(Debug, Clone)]
pub struct PollResult {
    /// The events, ordered as requested.
    pub events: Vec<StoredEvent>,
    /// Cursor to pass to the next poll.
    pub cursor: String,
    /// Events the previous cursor pointed at that retention evicted before this read.
    pub skipped: u64,
    /// True when more events (possibly not matching) remain after this result.
    pub has_more: bool,
}

/// Internal form of a poll over decoded positions.
pub(crate) struct Read {
    pub events: Vec<StoredEvent>,
    pub positions: Vec<u64>,
    pub skipped: u64,
    pub has_more: bool,
}

pub(super) fn poll(inner: &Inner, req: &PollRequest) -> Result<PollResult> {
    let positions = match &req.cursor {
        None => vec![0; inner.shards.len()],
        Some(c) => inner.codec.decode(c)?,
    };
    let read = read(
        inner,
        &positions,
        req.limit,
        req.filter.as_ref(),
        req.ordering,
    )?;
    Ok(PollResult {
        events: read.events,
        cursor: inner.codec.encode(&read.positions),
        skipped: read.skipped,
        has_more: read.has_more,
    })
}

struct ShardScan {
    matches: VecDeque<StoredEvent>,
    scan_end: u64,
    exhausted: bool,
}

pub(crate) fn read(
    inner: &Inner,
    positions: &[u64],
    limit: usize,
    filter: Option<&Filter>,
    ordering: Ordering,
) -> Result<Read> {
    if limit == 0 || limit > MAX_POLL_LIMIT {
        return Err(Error::InvalidArgument(format!(
            "limit must be in 1..={MAX_POLL_LIMIT}, got {limit}"
        )));
    }
    let adapter = &inner.adapter;
    let mut skipped = 0u64;
    let mut scans = Vec::with_capacity(positions.len());
    for (shard, &from) in positions.iter().enumerate() {
        let shard = shard as u16;
        let end = adapter
            .end_position(shard)
            .map_err(|e| Error::Adapter(e.to_string()))?;
        if from > end {
            return Err(Error::InvalidCursor(format!(
                "position {from} of shard {shard} is beyond its end {end}"
            )));
        }
        let mut scan = ShardScan {
            matches: VecDeque::new(),
            scan_end: from,
            exhausted: false,
        };
        let mut scanned = 0usize;
        let mut first = true;
        while scan.matches.len() < limit && scanned < MAX_SCAN_PER_SHARD {
            let want = if filter.is_some() {
                PAGE
            } else {
                (limit - scan.matches.len()).min(PAGE)
            };
            let page = adapter
                .poll_shard(shard, scan.scan_end, want)
                .map_err(|e| Error::Adapter(e.to_string()))?;
            if first {
                skipped += page.start.saturating_sub(from);
                first = false;
            }
            scan.scan_end = scan.scan_end.max(page.start);
            if page.events.is_empty() {
                scan.exhausted = true;
                break;
            }
            match filter {
                None => {
                    // Every event matches: move the page over in one piece.
                    let mut events = page.events;
                    events.truncate((limit - scan.matches.len()).min(MAX_SCAN_PER_SHARD - scanned));
                    if let Some(last) = events.last() {
                        scan.scan_end = last.position + 1;
                    }
                    scanned += events.len();
                    scan.matches.extend(events);
                }
                Some(f) => {
                    for ev in page.events {
                        if scan.matches.len() >= limit || scanned >= MAX_SCAN_PER_SHARD {
                            break;
                        }
                        scanned += 1;
                        scan.scan_end = ev.position + 1;
                        if f.matches_raw(ev.event.raw()) {
                            scan.matches.push_back(ev);
                        }
                    }
                }
            }
            if scan.scan_end >= page.end {
                scan.exhausted = true;
                break;
            }
        }
        scans.push(scan);
    }

    let mut events = Vec::new();
    match ordering {
        // One shard (the scan never collects more than `limit`): hand its matches over whole.
        _ if scans.len() == 1 => events = Vec::from(std::mem::take(&mut scans[0].matches)),
        Ordering::PerShard => {
            events.reserve(limit.min(scans.iter().map(|s| s.matches.len()).sum()));
            while events.len() < limit {
                let mut took = false;
                for scan in scans.iter_mut() {
                    if events.len() >= limit {
                        break;
                    }
                    if let Some(ev) = scan.matches.pop_front() {
                        events.push(ev);
                        took = true;
                    }
                }
                if !took {
                    break;
                }
            }
        }
        Ordering::InsertionTime => {
            events.reserve(limit.min(scans.iter().map(|s| s.matches.len()).sum()));
            while events.len() < limit {
                let next = scans
                    .iter()
                    .enumerate()
                    .filter_map(|(i, s)| s.matches.front().map(|e| ((e.ts_ns, i, e.position), i)))
                    .min_by_key(|(key, _)| *key);
                match next {
                    Some((_, i)) => events.extend(scans[i].matches.pop_front()),
                    None => break,
                }
            }
        }
    }

    let mut has_more = false;
    let positions = scans
        .iter()
        .map(|s| match s.matches.front() {
            Some(untaken) => {
                has_more = true;
                untaken.position
            }
            None => {
                has_more |= !s.exhausted;
                s.scan_end
            }
        })
        .collect();
    Ok(Read {
        events,
        positions,
        skipped,
        has_more,
    })
}
