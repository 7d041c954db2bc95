//! Frames: several events packed into one JetStream message.
//!
//! Headers: `Nats-Msg-Id: producer:shard:seq` (dedup id of the frame's last event),
//! `Nats-Expected-Last-Sequence` (where the frame must land) and `Net-Pos: first:count` (the
//! position of its first event and how many it holds). Payload: per event, LEB128 `seq`,
//! LEB128 `ts_ns`, LEB128 byte length, the raw JSON.

use bytes::{Bytes, BytesMut};

use crate::adapter::{Delivery, StoredEvent};
use crate::event::Event;

/// Header with the frame's first position and event count.
pub(super) const POS_HEADER: &str = "Net-Pos";
/// Most events in one frame.
pub(super) const MAX_EVENTS: usize = 1024;
/// Most payload bytes in one frame (below the NATS default `max_payload` of 1 MiB); a single
/// larger event gets a frame of its own.
pub(super) const MAX_BYTES: usize = 512 * 1024;

/// Splits `batch` into frame-sized runs.
pub(super) fn split(batch: &[Delivery]) -> Vec<&[Delivery]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, d) in batch.iter().enumerate() {
        let size = d.event.len() + 30;
        if i > start && (i - start == MAX_EVENTS || bytes + size > MAX_BYTES) {
            out.push(&batch[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < batch.len() {
        out.push(&batch[start..]);
    }
    out
}

fn put_varint(out: &mut BytesMut, mut v: u64) {
    while v >= 0x80 {
        out.extend_from_slice(&[(v as u8) | 0x80]);
        v >>= 7;
    }
    out.extend_from_slice(&[v as u8]);
}

fn get_varint(buf: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*at)?;
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// The payload of one frame.
pub(super) fn encode(events: &[Delivery]) -> Bytes {
    let size: usize = events.iter().map(|d| d.event.len() + 24).sum();
    let mut out = BytesMut::with_capacity(size);
    for d in events {
        put_varint(&mut out, d.seq);
        put_varint(&mut out, d.ts_ns);
        put_varint(&mut out, d.event.len() as u64);
        out.extend_from_slice(d.event.raw());
    }
    out.freeze()
}

/// Decodes a frame whose first event has position `first`.
pub(super) fn decode(payload: &Bytes, shard: u16, first: u64) -> Result<Vec<StoredEvent>, String> {
    let bad = || format!("corrupt frame at position {first}");
    let mut out = Vec::new();
    let mut at = 0;
    while at < payload.len() {
        let seq = get_varint(payload, &mut at).ok_or_else(bad)?;
        let ts_ns = get_varint(payload, &mut at).ok_or_else(bad)?;
        let len = get_varint(payload, &mut at).ok_or_else(bad)? as usize;
        let end = at
            .checked_add(len)
            .filter(|&e| e <= payload.len())
            .ok_or_else(bad)?;
        let event =
            Event::from_bytes(payload.slice(at..end)).map_err(|e| format!("{}: {e}", bad()))?;
        at = end;
        out.push(StoredEvent {
            shard,
            position: first + out.len() as u64,
            seq,
            ts_ns,
            event,
        });
    }
    Ok(out)
}

/// Formats the `Net-Pos` header value.
pub(super) fn pos_header(first: u64, count: usize) -> String {
    format!("{first}:{count}")
}

/// Parses a `Net-Pos` header value into `(first, count)`.
pub(super) fn parse_pos(value: &str) -> Option<(u64, u64)> {
    let (a, b) = value.split_once(':')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(seq: u64, json: &str) -> Delivery {
        Delivery {
            seq,
            ts_ns: 1000 + seq,
            event: Event::from_str(json).unwrap(),
        }
    }

    #[test]
    fn round_trip_and_split() {
        let batch: Vec<Delivery> = (0..2500).map(|i| d(i * 3, &format!("[{i}]"))).collect();
        let frames = split(&batch);
        assert_eq!(
            frames.iter().map(|f| f.len()).collect::<Vec<_>>(),
            [1024, 1024, 452]
        );
        let back = decode(&encode(frames[1]), 7, 1024).unwrap();
        assert_eq!(back.len(), 1024);
        assert_eq!(back[5].position, 1029);
        assert_eq!(back[5].seq, 1029 * 3);
        assert_eq!(back[5].ts_ns, 1000 + 1029 * 3);
        assert_eq!(back[5].event.as_str(), "[1029]");
        assert!(decode(&Bytes::from_static(&[5, 5, 9, b'1']), 0, 0).is_err());
        assert_eq!(parse_pos(&pos_header(12, 3)), Some((12, 3)));
    }
}
