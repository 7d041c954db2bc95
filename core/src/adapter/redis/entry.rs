//! How one event is laid out in a Redis stream, and how replies map back to stored events.
//!
//! Entry id `0-{position + 1}` (the adapter chooses ids; Redis refuses an id that is not above
//! the stream's top, so a batch can never be stored twice at different positions). Fields:
//! `d` the raw JSON, `s` the bus sequence number, `t` the insertion time (ns since the Unix
//! epoch), `p` the producer id. `p:shard:s` is the event's deduplication id.

use bytes::Bytes;

use super::resp::{Conn, Failure, Reply};
use crate::adapter::{Delivery, StoredEvent};
use crate::event::Event;

/// The parts of an `XADD` that are the same for every event of a shard, pre-encoded.
pub(super) struct XaddTemplate {
    head: Vec<u8>,
    tail: Vec<u8>,
}

impl XaddTemplate {
    /// `XADD key [MAXLEN ~ max_len] <id> d <json> s <seq> t <ts> p <producer>`.
    pub(super) fn new(key: &[u8], max_len: u64, producer: u64) -> XaddTemplate {
        let mut enc = Encoder(Vec::new());
        let argc = 3 + 8 + if max_len > 0 { 3 } else { 0 };
        enc.0.extend_from_slice(format!("*{argc}\r\n").as_bytes());
        enc.arg(b"XADD");
        enc.arg(key);
        if max_len > 0 {
            enc.arg(b"MAXLEN");
            enc.arg(b"~");
            enc.arg(max_len.to_string().as_bytes());
        }
        let head = enc.0;
        let mut enc = Encoder(Vec::new());
        enc.arg(b"p");
        enc.arg(producer.to_string().as_bytes());
        XaddTemplate { head, tail: enc.0 }
    }

    /// Queues the `XADD` of `d` at `position`.
    pub(super) fn queue(&self, conn: &mut Conn, position: u64, d: &Delivery) {
        conn.raw(&self.head);
        let mut tmp = [0u8; 20];
        let digits = super::resp::format_uint(&mut tmp, position + 1);
        let mut id = [0u8; 22];
        id[..2].copy_from_slice(b"0-");
        id[2..2 + digits.len()].copy_from_slice(digits);
        conn.arg(&id[..2 + digits.len()]);
        conn.raw(b"$1\r\nd\r\n");
        conn.arg(d.event.raw());
        conn.raw(b"$1\r\ns\r\n");
        conn.arg_uint(d.seq);
        conn.raw(b"$1\r\nt\r\n");
        conn.arg_uint(d.ts_ns);
        conn.raw(&self.tail);
    }
}

struct Encoder(Vec<u8>);

impl Encoder {
    fn arg(&mut self, a: &[u8]) {
        self.0
            .extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        self.0.extend_from_slice(a);
        self.0.extend_from_slice(b"\r\n");
    }
}

/// One entry read back.
pub(super) struct Entry {
    pub position: u64,
    pub seq: u64,
    pub ts_ns: u64,
    pub producer: Option<u64>,
    pub data: Option<Bytes>,
}

impl Entry {
    /// The stored event; an entry that is not ours (no `d`, or not JSON) is an error.
    pub(super) fn into_stored(self, shard: u16) -> Result<StoredEvent, Failure> {
        let data = self.data.ok_or_else(|| {
            Failure::Server(format!("entry 0-{} has no `d` field", self.position + 1))
        })?;
        let event = Event::from_bytes(data).map_err(|e| {
            Failure::Server(format!("entry 0-{} is not JSON: {e}", self.position + 1))
        })?;
        Ok(StoredEvent {
            shard,
            position: self.position,
            seq: self.seq,
            ts_ns: self.ts_ns,
            event,
        })
    }
}

/// Parses a stream id `0-N` into position `N - 1`.
pub(super) fn parse_id(id: &[u8]) -> Result<u64, Failure> {
    let bad = || {
        Failure::Server(format!(
            "stream id `{}` was not written by this adapter",
            String::from_utf8_lossy(id)
        ))
    };
    let n = id.strip_prefix(b"0-").and_then(parse_u64).ok_or_else(bad)?;
    n.checked_sub(1).ok_or_else(bad)
}

pub(super) fn parse_u64(b: &[u8]) -> Option<u64> {
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// Parses the reply of `XRANGE` / `XREVRANGE`.
pub(super) fn parse_entries(reply: Reply) -> Result<Vec<Entry>, Failure> {
    let unexpected = |what: &str| Failure::Server(format!("unexpected stream reply: {what}"));
    let items = match reply {
        Reply::Array(Some(items)) => items,
        Reply::Array(None) => return Ok(Vec::new()),
        Reply::Error(e) => return Err(Failure::Server(e)),
        other => return Err(unexpected(&format!("{other:?}"))),
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let Reply::Array(Some(pair)) = item else {
            return Err(unexpected("entry is not an array"));
        };
        let mut pair = pair.into_iter();
        let (Some(Reply::Bulk(Some(id))), Some(Reply::Array(Some(fields)))) =
            (pair.next(), pair.next())
        else {
            return Err(unexpected("entry is not [id, fields]"));
        };
        let mut entry = Entry {
            position: parse_id(&id)?,
            seq: 0,
            ts_ns: 0,
            producer: None,
            data: None,
        };
        let mut fields = fields.into_iter();
        while let (Some(Reply::Bulk(Some(k))), Some(Reply::Bulk(Some(v)))) =
            (fields.next(), fields.next())
        {
            match &k[..] {
                b"d" => entry.data = Some(v),
                b"s" => entry.seq = parse_u64(&v).unwrap_or(0),
                b"t" => entry.ts_ns = parse_u64(&v).unwrap_or(0),
                b"p" => entry.producer = parse_u64(&v),
                _ => {}
            }
        }
        out.push(entry);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_map_to_positions() {
        assert_eq!(parse_id(b"0-1").unwrap(), 0);
        assert_eq!(parse_id(b"0-1000").unwrap(), 999);
        for bad in [&b"0-0"[..], b"1-1", b"17000-0", b"x"] {
            assert!(parse_id(bad).is_err());
        }
    }
}
