//! The async halves of the JetStream adapter's operations. Every function owns its inputs (it
//! runs as a task on the adapter's runtime) and is bounded by the context's request timeout.

use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, pull};
use async_nats::jetstream::context::Context;
use async_nats::jetstream::stream::Stream;
use async_nats::jetstream::stream::{self, DiscardPolicy, StorageType};
use async_nats::{HeaderMap, HeaderValue, Subject, header};
use bytes::Bytes;
use futures_util::StreamExt;
use std::collections::VecDeque;

use super::{frame, names};
use crate::adapter::dedup::DedupId;
use crate::adapter::remote_config::JetStreamConfig;
use crate::adapter::{Delivery, StoredEvent};

pub(super) type OpResult<T> = Result<T, String>;

fn err(what: &str, e: impl std::fmt::Display) -> String {
    format!("{what}: {e}")
}

/// The stream configuration of one shard.
pub(super) fn stream_config(cfg: &JetStreamConfig, shard: u16) -> stream::Config {
    stream::Config {
        name: names::stream(&cfg.prefix, shard),
        subjects: vec![names::subject(&cfg.prefix, shard)],
        max_messages: match cfg.max_messages_per_shard {
            0 => -1,
            n => n as i64,
        },
        discard: DiscardPolicy::Old,
        storage: if cfg.memory_storage {
            StorageType::Memory
        } else {
            StorageType::File
        },
        num_replicas: cfg.replicas as usize,
        duplicate_window: cfg.duplicate_window,
        ..Default::default()
    }
}

/// Creates (or finds) every shard stream and draws a fresh producer id: the sequence number the
/// server assigns to one message on the `{prefix}_producers` stream (never reused, even after
/// restarts, because stream sequences only grow).
pub(super) async fn init(ctx: Context, cfg: JetStreamConfig, shards: u16) -> OpResult<u64> {
    for shard in 0..shards {
        ctx.get_or_create_stream(stream_config(&cfg, shard))
            .await
            .map_err(|e| err(&format!("cannot create stream for shard {shard}"), e))?;
    }
    let producers = stream::Config {
        name: names::producers_stream(&cfg.prefix),
        subjects: vec![names::producers_subject(&cfg.prefix)],
        max_messages: 1,
        discard: DiscardPolicy::Old,
        storage: if cfg.memory_storage {
            StorageType::Memory
        } else {
            StorageType::File
        },
        num_replicas: cfg.replicas as usize,
        ..Default::default()
    };
    ctx.get_or_create_stream(producers)
        .await
        .map_err(|e| err("cannot create the producer-id stream", e))?;
    let ack = ctx
        .publish(names::producers_subject(&cfg.prefix), Bytes::new())
        .await
        .map_err(|e| err("cannot draw a producer id", e))?
        .await
        .map_err(|e| err("cannot draw a producer id", e))?;
    Ok(ack.sequence)
}

/// One stored frame, read by stream sequence.
struct FrameInfo {
    first: u64,
    count: u64,
    last_id: Option<DedupId>,
}

async fn frame_at(stream: &Stream<()>, seq: u64) -> OpResult<FrameInfo> {
    let m = stream
        .get_raw_message(seq)
        .await
        .map_err(|e| err(&format!("reading message {seq}"), e))?;
    let (first, count) = m
        .headers
        .get(frame::POS_HEADER)
        .and_then(|v| frame::parse_pos(v.as_str()))
        .ok_or_else(|| format!("message {seq} was not written by this adapter (no Net-Pos)"))?;
    let last_id = m
        .headers
        .get(header::NATS_MESSAGE_ID)
        .and_then(|v| DedupId::parse(v.as_str()));
    Ok(FrameInfo {
        first,
        count,
        last_id,
    })
}

async fn stream(ctx: &Context, name: &str) -> OpResult<Stream<()>> {
    ctx.get_stream_no_info(name)
        .await
        .map_err(|e| err("stream lookup", e))
}

/// `(first sequence, last sequence, messages)` of a stream.
async fn state(stream: &Stream<()>) -> OpResult<(u64, u64, u64)> {
    let info = stream.get_info().await.map_err(|e| err("stream info", e))?;
    let s = info.state;
    Ok((s.first_sequence, s.last_sequence, s.messages))
}

/// Where a shard's writer stands: `(last message sequence, next position, index in `seqs`
/// (sorted) of the sequence number the top frame ends with, if `producer` wrote it)`.
pub(super) async fn resync(
    ctx: Context,
    name: String,
    producer: u64,
    shard: u16,
    seqs: Vec<u64>,
) -> OpResult<(u64, u64, Option<usize>)> {
    let stream = stream(&ctx, &name).await?;
    let (_, last, messages) = state(&stream).await?;
    if last == 0 || messages == 0 {
        return Ok((last, 0, None));
    }
    let top = frame_at(&stream, last).await?;
    let index = top
        .last_id
        .filter(|id| id.producer == producer && id.shard == shard)
        .and_then(|id| seqs.binary_search(&id.seq).ok());
    Ok((last, top.first + top.count, index))
}

/// Publishes `batch` as frames: frame `j` must land at sequence `last_msg + j + 1` and holds
/// the positions from `first_pos` on; every acknowledgement is in flight at once. Returns the
/// number of frames.
#[allow(clippy::too_many_arguments)]
pub(super) async fn publish(
    ctx: Context,
    subject: Subject,
    producer: u64,
    shard: u16,
    last_msg: u64,
    first_pos: u64,
    batch: Vec<Delivery>,
) -> OpResult<u64> {
    let frames = frame::split(&batch);
    let mut acks = Vec::with_capacity(frames.len());
    let mut pos = first_pos;
    for (j, events) in frames.iter().enumerate() {
        let last = &events[events.len() - 1];
        let id = DedupId {
            producer,
            shard,
            seq: last.seq,
        };
        let mut headers = HeaderMap::new();
        headers.insert(header::NATS_MESSAGE_ID, id.to_string());
        headers.insert(
            header::NATS_EXPECTED_LAST_SEQUENCE,
            HeaderValue::from(last_msg + j as u64),
        );
        headers.insert(frame::POS_HEADER, frame::pos_header(pos, events.len()));
        pos += events.len() as u64;
        let msg = async_nats::jetstream::message::PublishMessage::build()
            .payload(frame::encode(events))
            .headers(headers);
        let ack = ctx
            .send_publish(subject.clone(), msg)
            .await
            .map_err(|e| err("publish", e))?;
        acks.push(ack);
    }
    for (j, ack) in acks.into_iter().enumerate() {
        let ack = ack.await.map_err(|e| err("publish acknowledgement", e))?;
        let want = last_msg + j as u64 + 1;
        if ack.sequence != want {
            return Err(format!(
                "frame stored at sequence {} instead of {want} (is another bus writing this prefix?)",
                ack.sequence
            ));
        }
    }
    Ok(frames.len() as u64)
}

/// A pull consumer reading one shard, with the decoded events it has not handed out yet.
pub(super) struct Reader {
    consumer: async_nats::jetstream::consumer::Consumer<pull::Config>,
    /// Position of the next event this reader hands out.
    pub next: u64,
    leftover: VecDeque<StoredEvent>,
    /// Frames and events decoded so far (to size the next fetch).
    seen: (u64, u64),
}

/// The sequence of the frame holding position `from` (or of the oldest frame when `from` was
/// trimmed away); `last + 1` when `from` is not stored yet. Binary search over the frames.
async fn seek(stream: &Stream<()>, from: u64) -> OpResult<u64> {
    let (first, last, messages) = state(stream).await?;
    if last == 0 || messages == 0 {
        return Ok(last + 1);
    }
    let top = frame_at(stream, last).await?;
    if from >= top.first + top.count {
        return Ok(last + 1);
    }
    if from >= top.first {
        return Ok(last);
    }
    let (mut lo, mut hi) = (first, last);
    // Invariant: the frame at `hi` starts after `from`; find the last frame starting at or
    // before it.
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if frame_at(stream, mid).await?.first <= from {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    Ok(lo)
}

/// Opens a reader at position `from` (an ephemeral consumer with no acks).
pub(super) async fn open_reader(ctx: Context, name: String, from: u64) -> OpResult<Reader> {
    let stream = stream(&ctx, &name).await?;
    let start = seek(&stream, from).await?;
    let consumer = stream
        .create_consumer(pull::Config {
            deliver_policy: DeliverPolicy::ByStartSequence {
                start_sequence: start,
            },
            ack_policy: AckPolicy::None,
            inactive_threshold: std::time::Duration::from_secs(60),
            memory_storage: true,
            ..Default::default()
        })
        .await
        .map_err(|e| err("creating a consumer", e))?;
    Ok(Reader {
        consumer,
        next: from,
        leftover: VecDeque::new(),
        seen: (0, 0),
    })
}

/// Up to `max` events, and whether more are known to follow them.
pub(super) type Page = (Vec<StoredEvent>, bool);

/// Fetches up to `max` events; hands the reader back with the outcome.
pub(super) async fn fetch(mut reader: Reader, shard: u16, max: usize) -> (Reader, OpResult<Page>) {
    let result = fetch_into(&mut reader, shard, max).await;
    (reader, result)
}

async fn fetch_into(reader: &mut Reader, shard: u16, max: usize) -> OpResult<Page> {
    let mut events = Vec::with_capacity(max.min(4096));
    let mut pending = 0;
    while events.len() < max {
        if let Some(e) = reader.leftover.pop_front() {
            reader.next = e.position + 1;
            events.push(e);
            continue;
        }
        // Ask for about as many frames as the events still wanted need, judging by the frames
        // seen so far (a full frame holds 1024 events).
        let per_frame = match reader.seen {
            (0, _) => frame::MAX_EVENTS as u64,
            (frames, events) => (events / frames).max(1),
        };
        let frames = ((max - events.len()) as u64)
            .div_ceil(per_frame)
            .clamp(1, 64) as usize;
        let mut messages = reader
            .consumer
            .fetch()
            .max_messages(frames)
            .messages()
            .await
            .map_err(|e| err("fetch", e))?;
        let mut got = false;
        while let Some(m) = messages.next().await {
            let m = m.map_err(|e| err("fetch", e))?;
            got = true;
            pending = m.info().map_err(|e| err("message metadata", e))?.pending;
            let (first, _) = m
                .message
                .headers
                .as_ref()
                .and_then(|h| h.get(frame::POS_HEADER))
                .and_then(|v| frame::parse_pos(v.as_str()))
                .ok_or_else(|| "a message without Net-Pos in a shard stream".to_owned())?;
            let decoded = frame::decode(&m.message.payload, shard, first)?;
            reader.seen = (reader.seen.0 + 1, reader.seen.1 + decoded.len() as u64);
            reader
                .leftover
                .extend(decoded.into_iter().filter(|e| e.position >= reader.next));
        }
        if !got {
            break;
        }
    }
    Ok((events, pending > 0 || !reader.leftover.is_empty()))
}

/// `(first position retained, next position, payload bytes)` of a shard stream.
pub(super) async fn bounds(ctx: Context, name: String) -> OpResult<(u64, u64, u64)> {
    let stream = stream(&ctx, &name).await?;
    let info = stream.get_info().await.map_err(|e| err("stream info", e))?;
    let s = info.state;
    if s.last_sequence == 0 || s.messages == 0 {
        return Ok((0, 0, 0));
    }
    let top = frame_at(&stream, s.last_sequence).await?;
    let bottom = frame_at(&stream, s.first_sequence).await?;
    Ok((bottom.first, top.first + top.count, s.bytes))
}

/// `(retained events, retained bytes, evicted events)` over all shard streams.
pub(super) async fn totals(ctx: Context, names: Vec<String>) -> OpResult<(u64, u64, u64)> {
    let (mut events, mut bytes, mut evicted) = (0, 0, 0);
    for name in names {
        let (first, end, b) = bounds(ctx.clone(), name).await?;
        events += end - first;
        bytes += b;
        evicted += first;
    }
    Ok((events, bytes, evicted))
}
