//! The Redis Streams adapter (cargo feature `redis`).
//!
//! Layout: shard `n` is the stream `{prefix}:shard:{n}`; `{prefix}:meta` records the shard
//! count (a bus with another count is refused at start); `{prefix}:producer` is a counter that
//! hands every adapter instance a fresh producer id, so dedup ids never repeat across restarts.
//!
//! Positions: the event at position `p` has the stream id `0-{p+1}`. The adapter picks ids
//! itself and Redis refuses any id not above the stream's top, so positions are dense, survive
//! restarts (they are read back from the server) and a retried batch cannot be stored twice.
//! Each shard has one writer connection; a batch is one pipelined write of `XADD`s (with
//! `MAXLEN ~` trimming). When a write fails the adapter reconnects with backoff (bounded by
//! `reconnect_timeout`), reads the stream's top entry and, if that entry carries this
//! producer's id and a sequence number of the batch, skips the part of the batch that already
//! landed (commands on one connection apply in order, so what landed is a prefix).
//! Promise: an acknowledged (`on_batch` returned `Ok`) event is stored exactly once. Limits: one
//! bus writes a given prefix at a time; `retained`/`evicted` stats are refreshed by `flush()`
//! and `retained_bytes` is not tracked.

mod entry;
mod resp;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parking_lot::Mutex;

use self::entry::{XaddTemplate, parse_entries, parse_u64};
use self::resp::{Conn, Failure, Reply};
use super::link::{Backoff, Link};
use super::remote_config::{RedisConfig, RedisUrl};
use super::{
    Adapter, AdapterError, AdapterStats, ConnectionStats, Delivery, Health, REDIS_CURSOR_TAG,
    ShardPage,
};
use crate::error::Result;

struct Writer {
    conn: Option<Conn>,
    /// Position of the next event to store; valid while `synced`.
    next: u64,
    synced: bool,
    template: Option<XaddTemplate>,
}

struct Shard {
    key: Vec<u8>,
    writer: Mutex<Writer>,
}

/// Stores each shard in a Redis stream; see the module docs.
pub struct RedisAdapter {
    config: RedisConfig,
    url: RedisUrl,
    producer: AtomicU64,
    shards: OnceLock<Box<[Shard]>>,
    readers: Mutex<Vec<Conn>>,
    link: Link,
    stored: AtomicU64,
    retained: AtomicU64,
    evicted: AtomicU64,
    closed: AtomicBool,
}

fn adapter_error(f: Failure) -> AdapterError {
    AdapterError(f.message().to_owned())
}

impl RedisAdapter {
    /// An adapter for `config` (validated; no connection is made until `init`).
    pub fn new(config: RedisConfig) -> Result<RedisAdapter> {
        config.validate()?;
        Ok(RedisAdapter {
            url: config.parsed_url()?,
            config,
            producer: AtomicU64::new(0),
            shards: OnceLock::new(),
            readers: Mutex::new(Vec::new()),
            link: Link::new(),
            stored: AtomicU64::new(0),
            retained: AtomicU64::new(0),
            evicted: AtomicU64::new(0),
            closed: AtomicBool::new(false),
        })
    }

    /// Test hook: behave as if the last acknowledgement of every shard was lost, so the next
    /// batch starts with a resync (what happens after a connection error).
    #[doc(hidden)]
    pub fn simulate_lost_acknowledgement(&self) {
        if let Some(shards) = self.shards.get() {
            for s in shards.iter() {
                s.writer.lock().synced = false;
            }
        }
    }

    /// The producer id this instance stamps on its events (0 before `init`).
    pub fn producer_id(&self) -> u64 {
        self.producer.load(Ordering::Relaxed)
    }

    /// The stream key of `shard`.
    pub fn stream_key(&self, shard: u16) -> String {
        format!("{}:shard:{shard}", self.config.prefix)
    }

    fn connect(&self) -> Result<Conn, Failure> {
        let conn = Conn::connect(
            &self.url,
            self.config.connect_timeout,
            self.config.command_timeout,
        );
        if conn.is_ok() {
            self.link.connected();
        }
        conn
    }

    fn shard(&self, shard: u16) -> Result<&Shard, AdapterError> {
        self.shards
            .get()
            .and_then(|s| s.get(shard as usize))
            .ok_or_else(|| AdapterError(format!("no shard {shard} (not initialized?)")))
    }

    /// Runs `f` on a pooled reader connection; a connection-level failure gets one retry on a
    /// fresh connection (the pooled one may predate a server restart).
    fn read<R>(
        &self,
        mut f: impl FnMut(&mut Conn) -> Result<R, Failure>,
    ) -> Result<R, AdapterError> {
        let give_up = |f: Failure| {
            self.link.failed(f.message(), true);
            adapter_error(f)
        };
        let pooled = self.readers.lock().pop();
        let fresh = pooled.is_none();
        let mut conn = match pooled {
            Some(c) => c,
            None => self.connect().map_err(give_up)?,
        };
        let result = match f(&mut conn) {
            Err(Failure::Io(_)) if !fresh => {
                conn = self.connect().map_err(give_up)?;
                f(&mut conn)
            }
            other => other,
        };
        match result {
            Ok(r) => {
                self.link.ok();
                self.readers.lock().push(conn);
                Ok(r)
            }
            Err(f) => {
                if !matches!(f, Failure::Io(_)) {
                    self.readers.lock().push(conn);
                }
                Err(give_up(f))
            }
        }
    }

    /// Position one past the top entry of the stream behind `key` (0 when empty or absent),
    /// with the top entry's (producer, seq).
    fn top(conn: &mut Conn, key: &[u8]) -> Result<(u64, Option<(u64, u64)>), Failure> {
        let reply = conn.call(&[b"XREVRANGE", key, b"+", b"-", b"COUNT", b"1"])?;
        Ok(match parse_entries(reply)?.pop() {
            Some(e) => (e.position + 1, e.producer.map(|p| (p, e.seq))),
            None => (0, None),
        })
    }

    /// One attempt at storing `batch`: (re)connects and resyncs if needed, then pipelines the
    /// part of the batch not yet stored.
    fn try_append(
        &self,
        shard: u16,
        key: &[u8],
        w: &mut Writer,
        batch: &[Delivery],
    ) -> Result<(), Failure> {
        let conn = match &mut w.conn {
            Some(c) => c,
            none => none.insert(self.connect()?),
        };
        let mut skip = 0;
        if !w.synced {
            let (next, top) = Self::top(conn, key)?;
            if let Some((producer, seq)) = top
                && producer == self.producer_id()
                && let Ok(i) = batch.binary_search_by_key(&seq, |d| d.seq)
            {
                skip = i + 1;
            }
            w.next = next;
            w.synced = true;
        }
        let template = w.template.get_or_insert_with(|| {
            XaddTemplate::new(key, self.config.max_len_per_shard, self.producer_id())
        });
        let rest = &batch[skip..];
        if rest.is_empty() {
            return Ok(());
        }
        for (i, d) in rest.iter().enumerate() {
            template.queue(conn, w.next + i as u64, d);
        }
        // From here on, part of the batch may land even if we fail: resync on any error.
        w.synced = false;
        conn.send()?;
        let mut refused = None;
        for _ in rest {
            if let Some(e) = conn.skip_bulk()? {
                refused = refused.or(Some(e));
            }
        }
        if let Some(e) = refused {
            return Err(Failure::Server(format!(
                "XADD to shard {shard} refused: {e} (is another bus writing this prefix?)"
            )));
        }
        w.next += rest.len() as u64;
        w.synced = true;
        Ok(())
    }
}

impl Adapter for RedisAdapter {
    fn name(&self) -> &'static str {
        "redis"
    }

    fn cursor_tag(&self) -> u8 {
        REDIS_CURSOR_TAG
    }

    fn init(&self, shards: u16) -> Result<(), AdapterError> {
        let mut conn = self.connect().map_err(|f| {
            self.link.failed(f.message(), true);
            adapter_error(f)
        })?;
        let prefix = &self.config.prefix;
        let meta = format!("{prefix}:meta");
        let count = shards.to_string();
        let setup = (|| -> Result<u64, Failure> {
            conn.call(&[b"HSETNX", meta.as_bytes(), b"shards", count.as_bytes()])?;
            let have = match conn.call(&[b"HGET", meta.as_bytes(), b"shards"])? {
                Reply::Bulk(Some(b)) => parse_u64(&b),
                _ => None,
            };
            if have != Some(u64::from(shards)) {
                return Err(Failure::Server(format!(
                    "prefix `{prefix}` holds {have:?} shards, this bus has {shards}"
                )));
            }
            match conn.call(&[b"INCR", format!("{prefix}:producer").as_bytes()])? {
                Reply::Int(n) if n > 0 => Ok(n as u64),
                other => Err(Failure::Server(format!("unexpected INCR reply {other:?}"))),
            }
        })();
        let producer = setup.map_err(|f| {
            self.link.failed(f.message(), true);
            adapter_error(f)
        })?;
        self.producer.store(producer, Ordering::Relaxed);
        let all = (0..shards)
            .map(|n| Shard {
                key: self.stream_key(n).into_bytes(),
                writer: Mutex::new(Writer {
                    conn: None,
                    next: 0,
                    synced: false,
                    template: None,
                }),
            })
            .collect();
        self.shards
            .set(all)
            .map_err(|_| AdapterError("init called twice".to_owned()))?;
        self.readers.lock().push(conn);
        Ok(())
    }

    fn on_batch(&self, shard: u16, batch: &mut Vec<Delivery>) -> Result<(), AdapterError> {
        if self.closed.load(Ordering::Relaxed) {
            return Err(AdapterError("adapter is shut down".to_owned()));
        }
        let s = self.shard(shard)?;
        let mut w = s.writer.lock();
        let mut backoff = Backoff::new(self.config.reconnect_timeout);
        loop {
            match self.try_append(shard, &s.key, &mut w, batch) {
                Ok(()) => {
                    self.link.ok();
                    self.stored.fetch_add(batch.len() as u64, Ordering::Relaxed);
                    return Ok(());
                }
                Err(f) => {
                    if matches!(f, Failure::Io(_)) {
                        w.conn = None;
                    }
                    w.synced = false;
                    if !backoff.wait() {
                        self.link.failed(f.message(), true);
                        return Err(adapter_error(f));
                    }
                    self.link.failed(f.message(), false);
                }
            }
        }
    }

    fn flush(&self) -> Result<(), AdapterError> {
        // Every acknowledged XADD is already applied; refresh the retention counters.
        let Some(shards) = self.shards.get() else {
            return Ok(());
        };
        let (retained, evicted) = self.read(|conn| {
            for s in shards.iter() {
                conn.queue(&[b"XLEN", &s.key]);
                conn.queue(&[b"XREVRANGE", &s.key, b"+", b"-", b"COUNT", b"1"]);
            }
            conn.send()?;
            let (mut retained, mut evicted) = (0u64, 0u64);
            for _ in shards.iter() {
                let len = match conn.read()? {
                    Reply::Int(n) => n.max(0) as u64,
                    other => return Err(Failure::Server(format!("unexpected XLEN {other:?}"))),
                };
                let end = parse_entries(conn.read()?)?
                    .pop()
                    .map_or(0, |e| e.position + 1);
                retained += len;
                evicted += end.saturating_sub(len);
            }
            Ok((retained, evicted))
        })?;
        self.retained.store(retained, Ordering::Relaxed);
        self.evicted.store(evicted, Ordering::Relaxed);
        Ok(())
    }

    fn shutdown(&self) -> Result<(), AdapterError> {
        self.closed.store(true, Ordering::Relaxed);
        if let Some(shards) = self.shards.get() {
            for s in shards.iter() {
                s.writer.lock().conn = None;
            }
        }
        Ok(())
    }

    fn poll_shard(&self, shard: u16, from: u64, max: usize) -> Result<ShardPage, AdapterError> {
        let key = &self.shard(shard)?.key;
        let start_id = format!("0-{}", from.saturating_add(1));
        let count = max.max(1).to_string();
        let (entries, end) = self.read(|conn| {
            conn.queue(&[
                b"XRANGE",
                key,
                start_id.as_bytes(),
                b"+",
                b"COUNT",
                count.as_bytes(),
            ]);
            conn.queue(&[b"XREVRANGE", key, b"+", b"-", b"COUNT", b"1"]);
            conn.send()?;
            let entries = parse_entries(conn.read()?)?;
            let end = parse_entries(conn.read()?)?
                .pop()
                .map_or(0, |e| e.position + 1);
            Ok((entries, end))
        })?;
        let start = entries.first().map_or(from, |e| e.position);
        let events = entries
            .into_iter()
            .map(|e| e.into_stored(shard))
            .collect::<Result<Vec<_>, _>>()
            .map_err(adapter_error)?;
        let end = end.max(events.last().map_or(0, |e| e.position + 1));
        Ok(ShardPage { start, events, end })
    }

    fn end_position(&self, shard: u16) -> Result<u64, AdapterError> {
        let key = &self.shard(shard)?.key;
        self.read(|conn| Self::top(conn, key).map(|(end, _)| end))
    }

    fn health(&self) -> Health {
        self.link.health()
    }

    fn stats(&self) -> AdapterStats {
        AdapterStats {
            stored: self.stored.load(Ordering::Relaxed),
            evicted: self.evicted.load(Ordering::Relaxed),
            retained: self.retained.load(Ordering::Relaxed),
            retained_bytes: 0,
        }
    }

    fn connection_stats(&self) -> Option<ConnectionStats> {
        Some(self.link.stats())
    }
}
